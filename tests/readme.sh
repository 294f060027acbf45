#!/bin/sh
# The code the docs show is the code that runs:
#  - README.md shows examples/xor.c whole, and that program's output;
#  - the quick start at the top of nn.h compiles and learns XOR;
#  - every nn_ name in README.md exists in nn.h;
#  - nn.h's table of contents matches its section banners;
#  - LICENSE is the text at the end of nn.h.
# Usage: sh tests/readme.sh BUILD_DIR CC     (from the repository root)
build=${1:-build}
cc=${2:-cc}
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # check NAME COMMAND...
    name=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $name"
        sed 's/^/    /' "$tmp/out"
    fi
}

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
"$build/examples/xor" >"$tmp/xor.txt" 2>&1
check "README.md shows the output examples/xor prints" diff "$tmp/xor.txt" "$tmp/readme_xor.txt"

# nn.h's quick start: the indented program after "QUICK START"
awk '/^   QUICK START/ { on = 1; next }
     on && /^   Link with -lm/ { exit }
     on { sub(/^      /, ""); print }' nn.h >"$tmp/quick.c"
check "nn.h's quick start compiles" "$cc" -std=c99 -Wall -Wextra -Werror -I. \
    -o "$tmp/quick" "$tmp/quick.c" -lm
"$tmp/quick" >"$tmp/quick.txt" 2>&1
check "nn.h's quick start learns XOR" awk '
    { n++; want = (n == 2 || n == 3); if ((($1 + 0) > 0.5) != want) bad = 1 }
    END { exit (n != 4 || bad) }' "$tmp/quick.txt"

# every nn_ name README.md mentions exists in nn.h
grep -o 'nn_[a-z_0-9]*' README.md | sort -u | while read -r name; do
    grep -q "\b$name\b" nn.h || echo "README.md names $name, which nn.h lacks"
done >"$tmp/names"
check "README.md names only functions nn.h has" \
    awk '{ print } END { exit NR > 0 }' "$tmp/names"

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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
