#!/usr/bin/env bash
# tests/bench-loops.sh — the translator's micro-benchmark: runs roms/bench-loops.asm's four loops
# (integer, memory, calls, self-modifying code) under the translator (-accel dbt) and
# the interpreter (-accel interp) and prints MIPS (guest instructions per host second,
# from -stats) and the speed-up; with qemu-system-i386 installed also QEMU's wall time.
# A benchmark, not a test: `meson test --benchmark` or tests/bench-loops.sh [build-dir].
set -u
build=${1:-$(dirname "$0")/../build}
src=$build/roms/bench-loops.img
[ -r "$src" ] || { echo "bench-loops: $src missing (run ninja)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=(integer memory calls smc)
printf '%-8s %12s %12s %8s %10s\n' loop "dbt MIPS" "interp MIPS" speedup "qemu s"
status=0
for i in 0 1 2 3; do
    img=$tmp/${names[$i]}.img
    cp "$src" "$img"
    printf "\\x$(printf %02x $i)" | dd of="$img" bs=1 seek=$((0x1b0)) conv=notrunc 2>/dev/null
    declare -A mips=()
    declare -A res=()
    for accel in dbt interp; do
        out=$("$build/dbt86" -accel $accel -display none -icount sleep=off -stats -snapshot \
              -debugcon file:"$tmp/out-$accel" -device isa-debug-exit,iobase=0xf4,iosize=4 \
              -hda "$img" 2>&1)
        rc=$?
        if [ $rc -ne 1 ]; then echo "bench-loops: ${names[$i]} under $accel: exit code $rc"; status=1; fi
        mips[$accel]=$(echo "$out" | sed -n 's/.* \([0-9.]*\) MIPS$/\1/p')
        res[$accel]=$(cat "$tmp/out-$accel" 2>/dev/null)
    done
    if [ "${res[dbt]}" != "${res[interp]}" ]; then
        echo "bench-loops: ${names[$i]}: results differ: dbt ${res[dbt]}, interp ${res[interp]}"
        status=1
    fi
    q=-
    if command -v qemu-system-i386 >/dev/null; then
        t0=$(date +%s.%N)
        qemu-system-i386 -display none -snapshot -device isa-debug-exit,iobase=0xf4,iosize=4 \
            -drive file="$img",format=raw,if=ide >/dev/null 2>&1
        t1=$(date +%s.%N)
        q=$(echo "$t1 - $t0" | bc)
    fi
    sp=$(echo "scale=1; ${mips[dbt]:-0} / ${mips[interp]:-1}" | bc 2>/dev/null)
    printf '%-8s %12s %12s %7sx %10s\n' "${names[$i]}" "${mips[dbt]}" "${mips[interp]}" "$sp" "$q"
done
exit $status
