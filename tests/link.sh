#!/bin/sh
# Files of one program that disagree on NN_REAL must not link: a file
# built with double calling an implementation built with float would pass
# doubles where floats are read (it printed 5.26e-315).  nn.h makes every
# file refer to a symbol named after its NN_REAL, and the implementation
# defines only its own (gcc and clang; see NN__REAL_CHECK in nn.h).
# Usage: sh tests/link.sh CC     (from the repository root)
cc=${1:-cc}
. tests/check.sh

links() { # links IMPL_REAL MAIN_REAL: build tests/dropin_*.c so
    $cc -I. -DNN_REAL="$1" -c tests/dropin_impl.c -o "$tmp/impl.o" &&
        $cc -I. -DNN_REAL="$2" -c tests/dropin_main.c -o "$tmp/main.o" &&
        $cc -o "$tmp/prog" "$tmp/impl.o" "$tmp/main.o" -lm
}
refused() { # refused IMPL_REAL MAIN_REAL: the link fails, naming why
    ! links "$1" "$2" >"$tmp/log" 2>&1 &&
        grep -q "nn_NN_REAL_mismatch_this_file_uses_$2" "$tmp/log"
}

if printf '#if defined(__GNUC__) || defined(__clang__)\nyes\n#endif\n' |
    $cc -E -x c - 2>/dev/null | grep -q '^yes'; then
    check "float and float link" links float float
    check "double and double link" links double double
    check "an implementation in float, a file in double: the link fails, naming NN_REAL" \
        refused float double
    check "an implementation in double, a file in float: the link fails, naming NN_REAL" \
        refused double float
else
    echo "$cc is neither gcc nor clang: nn.h has no link check for it"
    check "float and float link" links float float
fi
report
