#!/bin/sh
# make mcu: the exported nets on emulated microcontrollers.
#   sh tests/mcu.sh BUILD CC
# For iris and digits (and Fashion-MNIST when its files are in
# BUILD/fashion-mnist, or MCU_FASHION=1 demands them): examples/deploy
# trains the net and exports it; examples/mcu/host.c gives the headers'
# accuracy on this computer and writes the boards' test rows; then
#   - a Cortex-M3 (qemu-system-arm -M lm3s6965evb) runs iris in int8 and
#     float, digits and Fashion-MNIST in int8;
#   - an ATmega328P (simavr) runs iris and digits in int8, built without
#     any float;
# and each must give every test row the class the host gave it.  Prints
# the accuracy and size tables of the README's Deploy section.
# Needs gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm,
# gcc-avr, avr-libc and simavr (.ci/run installs them).
build=${1:-build}
cc=${2:-cc}
. tests/check.sh
verbose=1
out=$build/mcu
mkdir -p "$out"

warn="-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual -Wundef
  -Wvla -Wwrite-strings -Wformat=2 -Werror"
arm="arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -Os -std=c99 -Wall -Wextra -Werror"
arm="$arm -nostartfiles -T examples/mcu/lm3s6965.ld --specs=nano.specs --specs=nosys.specs"
avr="avr-gcc -mmcu=atmega328p -Os -std=c99 -Wall -Wextra -Werror"
qemu="qemu-system-arm -M lm3s6965evb -nographic -semihosting-config enable=on,target=native -kernel"

# how many test rows go to the boards: all of iris's; for digits and
# Fashion-MNIST, what fits in flash beside the net
rows() { case $1 in iris) echo 30 ;; digits) echo 200 ;; fashion) echo 100 ;; esac; }
inputs() { case $1 in iris) echo 4 ;; digits) echo 64 ;; fashion) echo 784 ;; esac; }

nets="iris digits"
if [ -f "$build/fashion-mnist/t10k-images-idx3-ubyte" ]; then
    nets="$nets fashion"
elif [ -n "${MCU_FASHION:-}" ]; then
    echo "FAILED  no Fashion-MNIST in $build/fashion-mnist (make fashion-mnist-data)"
    exit 1
fi

check "build examples/deploy" $cc $warn -O2 -o "$out/deploy" examples/deploy.c -lm
for n in $nets; do
    N=$(echo "$n" | tr a-z A-Z)
    check "$n: train and export" "$out/deploy" "$n" "$out" "$build/fashion-mnist"
    grep -h "test accuracy" "$tmp/out"
    check "$n: the host build of its headers" $cc $warn -O2 -DNET="$n" -DUNET="$N" -I"$out" \
        -o "$out/host_$n" examples/mcu/host.c -lm
    check "$n: host accuracy and the boards' rows" "$out/host_$n" "$out/${n}_test.bin" \
        "$(rows "$n")" "$out/${n}_board.h"
    cat "$tmp/out"
done

# on_board NAME ELF RUN...: the board program's output says pass
on_board() {
    name=$1
    shift
    timeout 600 "$@" >"$tmp/board" 2>&1
    status=$?
    sed 's/\x1b\[[0-9;]*m//g; s/\.$//' "$tmp/board" | grep -E "as on the host|board:" |
        sed "s/^/        $name: /"
    grep -q "board: pass" "$tmp/board" && [ "$status" -eq 0 ]
}

for n in $nets; do
    N=$(echo "$n" | tr a-z A-Z)
    float=
    [ "$n" = iris ] && float=-DBOARD_FLOAT
    check "$n: Cortex-M3 build" $arm -DNET="$n" -DUNET="$N" $float -I"$out" \
        -o "$out/${n}_arm.elf" examples/mcu/board.c examples/mcu/cortex_m3.c -lm
    check "$n: Cortex-M3 (qemu) gives the host's classes" on_board cortex-m3 \
        $qemu "$out/${n}_arm.elf"
    cat "$tmp/out"
    [ "$n" = fashion ] && continue # 100 KB of weights: the Uno has 32 KB
    check "$n: ATmega328P build, no float" $avr -DNET="$n" -DUNET="$N" -D"${N}_Q_NO_FLOAT" \
        -I"$out" -o "$out/${n}_avr.elf" examples/mcu/board.c
    check "$n: ATmega328P program without float arithmetic" \
        sh -c "! avr-nm '$out/${n}_avr.elf' | grep -E '__(add|sub|mul|div)sf3|__fix|__float'"
    check "$n: ATmega328P (simavr) gives the host's classes" on_board atmega328p \
        simavr -m atmega328p -f 16000000 "$out/${n}_avr.elf"
    cat "$tmp/out"
done

# the int8 nets' own flash: size.c with the net less size.c without
# (Berkeley text + data), and the header's own count of its constants
size_of() { # TOOL FILE: text + data
    $1 "$2" | awk 'NR == 2 { print $1 + $2 }'
}
echo "int8 net: flash it adds (code, tables, libgcc helpers) / its constant data / scratch"
for n in $nets; do
    N=$(echo "$n" | tr a-z A-Z)
    def="-DNET=$n -DUNET=$N -DN_IN=$(inputs "$n") -D${N}_Q_NO_FLOAT -I$out"
    consts=$(sed -n 's/^   Constant data: \([0-9]*\) bytes.*/\1/p' "$out/${n}_q.h")
    scratch=$(sed -n "s/^#define ${N}_Q_SCRATCH_BYTES //p" "$out/${n}_q.h")
    for target in arm avr; do
        [ "$target.$n" = avr.fashion ] && continue
        if [ $target = arm ]; then
            tool=arm-none-eabi-size
            cmd="$arm examples/mcu/cortex_m3.c"
        else
            tool=avr-size
            cmd=$avr
        fi
        check "$n: $target size builds" sh -c "$cmd $def -o '$out/size0_$target.elf' examples/mcu/size.c &&
            $cmd $def -DWITH_MODEL -o '$out/size1_$target.elf' examples/mcu/size.c"
        a=$(size_of $tool "$out/size0_$target.elf")
        b=$(size_of $tool "$out/size1_$target.elf")
        echo "        $n on $target: $((b - a)) bytes of flash / $consts / $scratch bytes"
    done
done
report
