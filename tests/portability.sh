#!/bin/sh
# make portability: every toolchain and build nn.h promises, one line each,
# "ok" or "FAILED" with the end of its log.  A line whose tools are missing
# fails; nothing is skipped.  .ci/run installs the Debian packages:
# clang tcc musl-tools gcc-12-multilib gcc-12-s390x-linux-gnu
# libc6-dev-s390x-cross qemu-user pkgconf strace.
# Ends with "N passed, N failed".  Run from the repository root.
. tests/check.sh
out=build/portability
S390_CC=${S390_CC:-s390x-linux-gnu-gcc-12}
WARN="-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
-Wdouble-promotion -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual -Wundef -Wvla \
-Wwrite-strings -Wformat=2 -Werror"

verbose=1

# The suite lines build the configs their titles name: C and C++, float
# and double.  gcc -O2 is make test, the README's command, which runs
# before this in .ci/run and is not repeated here.  The NDEBUG and
# NN_REFERENCE configs are build options that make test runs on gcc, and
# the clang -O2 line again (clang warns where gcc does not, and NDEBUG
# leaves variables that only an assert uses); the other lines do not
# repeat them.  The
# C++17 lines build and run the test programs alone (make test EXAMPLES=):
# the examples and the checks of README.md and linkage are C, built by the
# same C compiler on the lines before them.  The lines that change only the
# target or the instruction set (-mavx2, -march=native, 32-bit, s390x)
# build what the target changes: the C configs (the C++ configs are the
# same source through the same front end, which the x86-64 lines test),
# and the examples only where the C library or the data model changes.
# No -g: nobody debugs a line's programs, and it costs build time.
BASE="c-float c-double cxx-float cxx-double"

# the whole suite (make test) in a build directory of its own
suite() { # suite NAME MAKE-ARGUMENTS...
    name=$1
    shift
    rm -rf "$out/$name"
    make -j2 test BUILD="$out/$name" "$@"
}

echo "toolchains:"
for tool in gcc clang tcc musl-gcc "$S390_CC" qemu-s390x qemu-i386 pkg-config; do
    printf '  %-24s %s\n' "$tool" "$($tool --version 2>&1 | head -n 1 || echo missing)"
done

# The suite lines run on two queues side by side, one per core, each
# line's output kept in a file, while the smaller checks after them run
# (and print) in the foreground; the suite lines are counted last, in the
# order given there, once both queues are done.  Each queue holds about
# half the work (clang -O2 and s390x, the C suite emulated, are the
# longest lines).
record() { # record KEY DESCRIPTION COMMAND...: run COMMAND, keep its result
    key=$1 what=$2
    shift 2
    start=$(date +%s)
    "$@" >"$tmp/$key.log" 2>&1
    echo "$? $(($(date +%s) - start)) $what" >"$tmp/$key.result"
}
counted_in_order() { # counted_in_order KEY...: count what record kept
    for key; do
        if [ -f "$tmp/$key.result" ]; then
            read -r status seconds what <"$tmp/$key.result"
            counted "$what" "$status" "$seconds" "$tmp/$key.log"
        else
            counted "the line $key did not run" 1 0 /dev/null
        fi
    done
}

# At -O0 the lines run the C test programs alone: what -O0 changes is the
# code the compiler makes, not the language, whose C++ modes the -O2 and
# C++17 lines test; and the examples and the checks of README.md and of
# linkage are the same C at -O2 on the lines that build them, where they
# train in a fraction of the time.
o0_line() { # o0_line CC
    record "$1-O0" "$1 -O0: C99, float and double, the test programs pass" \
        suite "$1-O0" CC="$1" CFLAGS=-O0 CONFIGS="c-float c-double" EXAMPLES=
}
cxx17_line() { # cxx17_line CC CXX
    record "$2-17" "$2 -std=c++17: the test programs pass, float and double" \
        suite "$2-17" CC="$1" CXX="$2" CXXSTD=c++17 CFLAGS=-O2 CXXFLAGS=-O2 \
        CONFIGS="cxx-float cxx-double" EXAMPLES=
}

# The register tile takes its shape from the vector registers (nn.h,
# NN__MR): 4 x 8 floats with SSE2, 4 x 16 with AVX2, 8 x 32 with
# AVX-512.  On x86-64, gcc and clang builds compile all three and choose
# at run time (test_kernels runs each the CPU has); the -mavx2 and
# -march=native lines change the build's own, and NN_NO_DISPATCH keeps
# only that.  NN_NO_FMA with -ffp-contract=off fuses nothing, and then
# every ISA's sums are the reference loops' bit for bit (TEST_EXACT).
native=$(gcc -march=native -dM -E -x c /dev/null | grep -q __AVX512F__ &&
    echo "AVX-512, 8 x 32 tile" || echo "no AVX-512 on this CPU")

# 32-bit x86 with SSE2 arithmetic (an x87-only build evaluates float and
# double in 80 bits, which the bit-for-bit tests do not allow).  Run
# natively when the kernel can, else under qemu-i386.
m32="-m32 -msse2 -mfpmath=sse"
printf 'int main(void) { return 0; }\n' >"$tmp/m32.c"
run32=qemu-i386
gcc -m32 -o "$tmp/m32" "$tmp/m32.c" 2>/dev/null && "$tmp/m32" 2>/dev/null && run32=

queue1() {
    record s390x "s390x, big-endian ($S390_CC -static under qemu-s390x): the C suite passes, float and double" \
        suite s390x CC="$S390_CC -static" NN_RUN=qemu-s390x \
        CFLAGS=-O2 CONFIGS="c-float c-double"
    record m32 "32-bit x86 (gcc $m32${run32:+, run by $run32}): the C suite passes, float and double" \
        suite m32 CC="gcc $m32" CFLAGS=-O2 NN_RUN="$run32" CONFIGS="c-float c-double"
    record tcc "tcc: the C suite passes, float and double" \
        suite tcc CC=tcc CFLAGS=-O2 CONFIGS="c-float c-double"
    record musl "musl (musl-gcc -static): the C suite passes, float and double" \
        suite musl CC="musl-gcc -static" CFLAGS=-O2 CONFIGS="c-float c-double"
    o0_line clang
}
queue2() {
    o0_line gcc
    cxx17_line gcc g++
    record clang-O2 "clang/clang++ -O2: C99 and C++11, float and double, NDEBUG and NN_REFERENCE, the suite passes" \
        suite clang-O2 CC=clang CXX=clang++ CFLAGS=-O2 CXXFLAGS=-O2 CONFIGS="$BASE c-ndebug c-ref"
    cxx17_line clang clang++
    record avx2 "gcc -O2 -mavx2 (4 x 16 tile): the C test programs pass, float and double" \
        suite avx2 CFLAGS="-O2 -mavx2" CONFIGS="c-float c-double" EXAMPLES=
    record native "gcc -O2 -march=native ($native): the C test programs pass, float and double" \
        suite native CFLAGS="-O2 -march=native" CONFIGS="c-float c-double" EXAMPLES=
    record nofma "gcc -O2 -DNN_NO_FMA -ffp-contract=off: every ISA's products are the reference loops' bit for bit, the C test programs pass, float and double" \
        suite nofma CFLAGS="-O2 -DNN_NO_FMA -DTEST_EXACT -ffp-contract=off" CONFIGS="c-float c-double" EXAMPLES=
    record nodispatch "gcc -O2 -DNN_NO_DISPATCH (the build's own ISA alone): the C test programs pass, float" \
        suite nodispatch CFLAGS="-O2 -DNN_NO_DISPATCH" CONFIGS="c-float" EXAMPLES=
}
queue1 &
queue1_pid=$!
queue2 &
queue2_pid=$!

# big-endian: s390x through a cross compiler and qemu's user mode
mkdir -p "$out/endian"
endian() {
    gcc $WARN -O2 -o "$out/endian/x86_64" tests/endian.c -lm &&
        $S390_CC -static $WARN -O2 -o "$out/endian/s390x" tests/endian.c -lm &&
        "$@"
}
check "a model saved on x86-64 loads on s390x: same bytes, same predictions" \
    endian sh -c "$out/endian/x86_64 save $out/endian from-x86_64 &&
                  qemu-s390x $out/endian/s390x check $out/endian from-x86_64"
check "a model saved on s390x loads on x86-64: same bytes, same predictions" \
    endian sh -c "qemu-s390x $out/endian/s390x save $out/endian from-s390x &&
                  $out/endian/x86_64 check $out/endian from-s390x"

# NN_NO_STDIO
no_stdio_header() {
    ! gcc -E -DNN_NO_STDIO -DNN_IMPLEMENTATION -x c nn.h | grep -q '^# [0-9]* ".*/stdio\.h"'
}
check "NN_NO_STDIO: the preprocessed implementation includes no <stdio.h>" no_stdio_header
printf '#define NN_NO_STDIO\n#include "nn.h"\nint f(nn_net *n);\nint f(nn_net *n) { return (int)nn_save(n, "x"); }\n' >"$tmp/save.c"
check "NN_NO_STDIO: nn_save is not declared (a call does not compile)" \
    sh -c "! gcc $WARN -I. -c $tmp/save.c -o $tmp/save.o"
check "NN_NO_STDIO: the memory save/load round trip works (tests/nostdio.c)" \
    sh -c "gcc $WARN -O2 -o $tmp/nostdio tests/nostdio.c -lm && $tmp/nostdio"

# the caller's allocator and assert, everywhere
only_through_macros() { # in the code, with comments stripped by cpp
    gcc -fpreprocessed -dD -E -P nn.h >"$tmp/code.h" 2>/dev/null &&
        ! grep -nE '(^|[^_A-Za-z])(malloc|calloc|realloc|free|assert)\(' "$tmp/code.h" |
        grep -vE '#define NN_(MALLOC|FREE|ASSERT)\((size|ptr|cond)\) (malloc|free|assert)\('
}
check "nn.h allocates, frees and asserts only through NN_MALLOC, NN_FREE, NN_ASSERT" \
    only_through_macros
check "a counting NN_MALLOC/NN_FREE sees every allocation freed (tests/test_alloc.c)" \
    sh -c "gcc $WARN -O2 -o $tmp/alloc tests/test_alloc.c tests/dropin_impl.c -lm && $tmp/alloc"

# threads: one const net, 8 threads
check "8 threads predict with one const net: serial results, bit for bit" \
    sh -c "gcc $WARN -O2 -pthread -o $tmp/threads tests/threads.c -lm && $tmp/threads"
check "the same under ThreadSanitizer: no report" \
    sh -c "clang $WARN -O1 -g -fsanitize=thread -pthread -o $tmp/threads-tsan tests/threads.c -lm &&
           TSAN_OPTIONS=halt_on_error=1 $tmp/threads-tsan"

# make install / uninstall with DESTDIR, and a program built through pkg-config
installed() {
    dest="$tmp/dest"
    make install DESTDIR="$dest" PREFIX=/usr >/dev/null &&
        test -f "$dest/usr/include/nn.h" && test -f "$dest/usr/lib/pkgconfig/nn.pc" &&
        flags=$(PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
            pkg-config --cflags --libs nn) &&
        echo "pkg-config: $flags" &&
        printf '#define NN_IMPLEMENTATION\n#include <nn.h>\nint main(void) {\n    const size_t s[] = {2, 1};\n    const nn_act a[] = {NN_ACT_SIGMOID};\n    nn_net *n = nn_create(1, s, a, 1, NULL);\n    int ok = n != NULL;\n    nn_destroy(n);\n    return !ok;\n}\n' >"$tmp/use.c" &&
        gcc -o "$tmp/use" "$tmp/use.c" $flags && "$tmp/use" &&
        make uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null &&
        test -z "$(find "$dest" -type f)"
}
check "make install DESTDIR=... PREFIX=/usr: nn.h and nn.pc; pkg-config builds a program; make uninstall removes both" \
    installed

# README's recipe for a home directory: make install PREFIX=$HOME/.local,
# PKG_CONFIG_PATH, pkg-config (the program from examples/xor.c)
home_recipe() ( # a subshell: HOME and PKG_CONFIG_PATH stay its own
    HOME="$tmp/home" && export HOME && mkdir -p "$HOME" &&
        make install PREFIX=$HOME/.local >/dev/null &&
        export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig &&
        sed 's|"../nn.h"|<nn.h>|' examples/xor.c >"$tmp/app.c" &&
        cc -O2 -o "$tmp/app" "$tmp/app.c" $(pkg-config --cflags --libs nn) && "$tmp/app"
)
check "README's pkg-config recipe with PREFIX=\$HOME/.local works as written" home_recipe

# nn_save's system calls, as strace sees them: the temporary file created
# exclusively, fsync'ed, closed and renamed over the model, then the
# directory fsync'ed (a power cut after nn_save returns loses nothing)
durable_save() {
    printf '#define NN_IMPLEMENTATION\n#include "nn.h"\nint main(int argc, char **argv) {\n    const size_t s[] = {2, 1};\n    const nn_act a[] = {NN_ACT_SIGMOID};\n    nn_net *n = nn_create(1, s, a, 1, NULL);\n    int r = argc > 1 && n && nn_save(n, argv[1]) == NN_OK ? 0 : 1;\n    nn_destroy(n);\n    return r;\n}\n' >"$tmp/save_once.c" &&
        gcc $WARN -I. -O2 -o "$tmp/save_once" "$tmp/save_once.c" -lm &&
        strace -o "$tmp/strace.txt" -e trace=open,openat,fsync,rename,renameat,renameat2 \
            "$tmp/save_once" "$tmp/model.nn" &&
        awk '/\.nn-[0-9a-f]*\.tmp", O_WRONLY\|O_CREAT\|O_EXCL/ { step = 1; next }
             step == 1 && /^fsync\(/ { step = 2; next }
             step == 2 && /rename/ && /model\.nn"/ { step = 3; next }
             step == 3 && /O_RDONLY/ { step = 4; next }
             step == 4 && /^fsync\(/ { step = 5 }
             END { exit step != 5 }' "$tmp/strace.txt" || { cat "$tmp/strace.txt"; false; }
}
check "nn_save: O_EXCL temporary, fsync, rename, fsync of the directory (strace)" durable_save

# a machine without a C++ compiler: make test runs the C configs and says so
no_cxx() {
    make -n test CXX=no-such-c++ >"$tmp/nocxx" 2>&1 &&
        grep -q 'no C++ compiler' "$tmp/nocxx" && ! grep -q 'cxx-' "$tmp/nocxx" &&
        grep -q 'c-ndebug/test_checks' "$tmp/nocxx"
}
check "no C++ compiler: make test skips the C++ configs with a line that says so" no_cxx

# make bench is not run here (it measures time), but its program must
# build with and without FMA, in C and C++, so that it does not rot: built
# as make bench builds it, and put through the other compilers' front ends
# (its own code is a few plain loops; nn.h is built whole on every line)
bench_builds() {
    gcc $WARN -O3 -march=native -c -o "$tmp/bench.o" tests/bench.c &&
        gcc $WARN -O2 -fsyntax-only tests/bench.c &&
        clang $WARN -Wcomma -O2 -mavx2 -mfma -fsyntax-only tests/bench.c &&
        g++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror -O2 \
            -fsyntax-only tests/bench.c
}
check "tests/bench.c builds clean with gcc -O3 -march=native; gcc -O2, clang with FMA and g++ compile it clean" bench_builds

# the suite lines, counted once both queues are done
wait "$queue1_pid"
wait "$queue2_pid"
counted_in_order gcc-O0 g++-17 clang-O2 clang-O0 clang++-17 avx2 native nofma nodispatch tcc musl m32 s390x
report
