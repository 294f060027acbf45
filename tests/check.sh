# Sourced by the shell tests: a scratch directory $tmp, check() to count a
# result, report() for the closing "N passed, N failed" line.  With
# verbose=1, check() also prints a line for each check that passes; every
# line it prints ends with the check's time in seconds.
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # check DESCRIPTION COMMAND...: passes when COMMAND exits 0
    what=$1
    shift
    start=$(date +%s)
    if "$@" >"$tmp/out" 2>&1; then
        passed=$((passed + 1))
        [ -n "${verbose:-}" ] && echo "ok      $what ($(($(date +%s) - start)) s)"
    else
        failed=$((failed + 1))
        echo "FAILED  $what ($(($(date +%s) - start)) s)"
        tail -n 40 "$tmp/out" | sed 's/^/        /'
    fi
    return 0
}

report() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
