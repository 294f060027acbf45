# Sourced by the shell tests: a scratch directory $tmp, check() to count a
# result, report() for the closing "N passed, N failed" line.
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # check DESCRIPTION COMMAND...: passes when COMMAND exits 0
    what=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $what"
        sed 's/^/    /' "$tmp/out"
    fi
}

report() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
