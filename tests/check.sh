# Sourced by the shell tests: a scratch directory $tmp, check() to run a
# command and count its result, counted() to count the result of one that
# ran elsewhere, report() for the closing "N passed, N failed" line.  With
# verbose=1, a check that passes prints a line too; every line printed ends
# with the check's time in seconds.
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # check DESCRIPTION COMMAND...: passes when COMMAND exits 0
    what=$1
    shift
    start=$(date +%s)
    "$@" >"$tmp/out" 2>&1
    counted "$what" $? $(($(date +%s) - start)) "$tmp/out"
}

counted() { # counted DESCRIPTION STATUS SECONDS LOG: count a result
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        [ -n "${verbose:-}" ] && echo "ok      $1 ($3 s)"
    else
        failed=$((failed + 1))
        echo "FAILED  $1 ($3 s)"
        tail -n 40 "$4" | sed 's/^/        /'
    fi
    return 0
}

report() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
