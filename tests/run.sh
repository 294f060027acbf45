#!/bin/sh
# Runs each command given (a shell command line, so it may quote) and adds
# up its "N passed, N failed" line.  A command that prints no such line
# counts as one test, passed when it exits 0.  Each command gets a line
# that ends with its time in seconds; a failing command's whole output is
# shown.  Ends with the total line; exits 1 when anything failed.
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for cmd in "$@"; do
    start=$(date +%s)
    eval "$cmd" >"$log" 2>&1
    status=$?
    seconds=$(($(date +%s) - start))
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed}
        [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1 # crashed after its line
    elif [ "$status" -eq 0 ]; then
        p=1 f=0
    else
        p=0 f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $cmd (exit $status, $seconds s)"
        sed 's/^/    /' "$log"
    else
        echo "ok   $cmd: $p passed ($seconds s)"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
