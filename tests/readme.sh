#!/bin/sh
# The code the docs show is the code that runs:
#  - README.md shows examples/xor.c whole, and that program's output;
#  - README.md shows what examples/walkthrough prints, digit for digit;
#  - the quick start at the top of nn.h compiles and learns XOR;
#  - README.md's nn_train snippet compiles and trains;
#  - README.md's excerpt of an exported header is what nn_export_c writes;
#  - every picture README.md shows is in the repository;
#  - every nn_ name in README.md exists in nn.h, and every function "How it
#    works" names is in nn.h's textbook sections;
#  - nn.h's table of contents matches its section banners;
#  - LICENSE is the text at the end of nn.h.
# Usage: sh tests/readme.sh BUILD_DIR CC     (from the repository root; CC
# may carry flags, e.g. "musl-gcc -static"; $NN_RUN runs the programs)
build=${1:-build}
cc=${2:-cc}
. tests/check.sh

# the fenced block that follows the line "<!-- $1 -->" in README.md
block() {
    awk -v mark="<!-- $1 -->" '
        $0 == mark { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' README.md
}

block "examples/xor.c" >"$tmp/readme_xor.c"
check "README.md shows examples/xor.c as it is" diff examples/xor.c "$tmp/readme_xor.c"
block "output of examples/xor" >"$tmp/readme_xor.txt"
$NN_RUN "$build/examples/xor" >"$tmp/xor.txt" 2>&1
check "README.md shows the output examples/xor prints" diff "$tmp/xor.txt" "$tmp/readme_xor.txt"

block "output of examples/walkthrough" >"$tmp/readme_walk.txt"
$NN_RUN "$build/examples/walkthrough" >"$tmp/walk.txt" 2>&1
check "README.md shows the output examples/walkthrough prints" \
    diff "$tmp/walk.txt" "$tmp/readme_walk.txt"

# nn.h's quick start: the indented program after "QUICK START"
awk '/^   QUICK START/ { on = 1; next }
     on && /^   Link with -lm/ { exit }
     on { sub(/^      /, ""); print }' nn.h >"$tmp/quick.c"
check "nn.h's quick start compiles" $cc -std=c99 -Wall -Wextra -Werror -I. \
    -o "$tmp/quick" "$tmp/quick.c" -lm
$NN_RUN "$tmp/quick" >"$tmp/quick.txt" 2>&1
check "nn.h's quick start learns XOR" awk '
    { n++; want = (n == 2 || n == 3); if ((($1 + 0) > 0.5) != want) bad = 1 }
    END { exit (n != 4 || bad) }' "$tmp/quick.txt"

# README.md's nn_train snippet, inside a program that supplies its
# variables: two blobs of points to tell apart
{
    cat <<'END'
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
static int print_epoch(const nn_train_info *info, void *user) {
    (void)user;
    if (info->epoch == info->epochs) printf("last epoch: loss %.4f\n", info->train_loss);
    return 0;
}
int main(void) {
    enum { M = 512 };
    static nn_real x[2 * M], y[2 * M];
    const size_t sizes[] = {2, 8, 2};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = nn_create(2, sizes, acts, 1, NULL);
    const nn_real *val_x = x, *val_y = y, *test_x = x, *test_y = y;
    size_t n = M, n_val = M, n_test = M;
    double loss = 1, accuracy = 0;
    for (int s = 0; s < M; s++) {
        x[2 * s] = (nn_real)(s % 2 ? 1 : -1) + (nn_real)(s % 7) / 10;
        x[2 * s + 1] = (nn_real)(s % 5) / 5;
        y[2 * s + s % 2] = 1;
    }
    {
END
    block "nn_train snippet"
    cat <<'END'
    }
    nn_destroy(net);
    printf("accuracy %.3f, loss %.4f\n", accuracy, loss);
    return !(accuracy > 0.95 && loss < 0.6);
}
END
} >"$tmp/train.c"
check "README.md's nn_train snippet compiles" $cc -std=c99 -Wall -Wextra -Werror -I. \
    -o "$tmp/train" "$tmp/train.c" -lm
check "README.md's nn_train snippet trains" $NN_RUN "$tmp/train"

# README.md's excerpt of iris_q.h is a run of lines of what deploy writes
$NN_RUN "$build/examples/deploy" iris "$tmp" >"$tmp/deploy.out" 2>&1
block "excerpt of iris_q.h" >"$tmp/excerpt"
first=$(head -n 1 "$tmp/excerpt")
awk -v first="$first" -v n="$(wc -l <"$tmp/excerpt")" '
    $0 == first { on = 1 } on && n-- > 0 { print }' "$tmp/iris_q.h" >"$tmp/excerpt_real"
check "README.md's excerpt of iris_q.h is what nn_export_c writes" \
    diff "$tmp/excerpt_real" "$tmp/excerpt"

# every picture README.md shows is in the repository
sed -n 's/.*!\[[^]]*\](\([^)]*\)).*/\1/p' README.md | while read -r path; do
    test -s "$path" || echo "README.md shows $path, which is missing"
done >"$tmp/pictures"
check "README.md shows only pictures the repository has" \
    awk '{ print } END { exit NR > 0 }' "$tmp/pictures"

# every nn_ name README.md mentions exists in nn.h
grep -o 'nn_[a-z_0-9]*' README.md | sort -u | while read -r name; do
    grep -q "\b$name\b" nn.h || echo "README.md names $name, which nn.h lacks"
done >"$tmp/names"
check "README.md names only functions nn.h has" \
    awk '{ print } END { exit NR > 0 }' "$tmp/names"

# every nn.h function that README.md's "How it works" names for a formula
# is defined in nn.h's textbook sections: before "fast paths", which the
# NN_REFERENCE build leaves out
awk '/^## How it works/ { on = 1; next } on && /^## / { exit } on' README.md |
    grep -o 'nn__*[a-z_0-9]*' | sort -u >"$tmp/taught"
awk '/^\/\* ---- fast paths/ { exit }
     /^(static|NNDEF) / && match($0, /nn__?[a-z_0-9]*\(/) {
         print substr($0, RSTART, RLENGTH - 1) }' nn.h | sort -u >"$tmp/textbook"
check "How it works names only functions of nn.h's textbook sections" \
    sh -c 'test -s "$1" && comm -23 "$1" "$2" | awk "{ print } END { exit NR > 0 }"' \
    sh "$tmp/taught" "$tmp/textbook"

# the table of contents at the top of nn.h lists its section banners, in order
awk '/^   CONTENTS/ { on = 1; next }
     on && (/^$/ || /^\*\//) { exit }
     on { sub(/^ +/, ""); sub(/  .*/, ""); if ($0 != "license") print }' nn.h >"$tmp/toc"
sed -n 's|^/\* ---- \(.*[^ ]\) -*$|\1|p' nn.h >"$tmp/banners"
check "nn.h's contents match its section banners" diff "$tmp/toc" "$tmp/banners"

# LICENSE holds the text that closes nn.h
awk '/NN__IMPLEMENTATION_INCLUDED \*\// { tail = 1 }
     tail && /^\/\*$/ { on = 1; next }
     on && /^\*\/$/ { exit }
     on { print }' nn.h >"$tmp/license"
check "LICENSE is the license at the end of nn.h" diff LICENSE "$tmp/license"

report
