#!/usr/bin/env bash
# tests/bench-loops.sh — the translator's micro-benchmark: runs roms/bench-loops.asm's four loops
# (integer, memory, calls, self-modifying code) under the translator (-accel dbt) and
# the interpreter (-accel interp) and prints MIPS (guest instructions per host second,
# from -stats, of the loop alone: a run of the same image without a loop, selector 4,
# is subtracted) and the speed-up; with qemu-system-i386 installed also QEMU's wall
# time for the whole run.
# A benchmark, not a test: `meson test --benchmark` or tests/bench-loops.sh [build-dir].
set -u
build=${1:-$(dirname "$0")/../build}
src=$build/roms/bench-loops.img
[ -r "$src" ] || { echo "bench-loops: $src missing (run ninja)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=(integer memory calls smc none)
printf '%-8s %12s %12s %8s %10s\n' loop "dbt MIPS" "interp MIPS" speedup "qemu s"
status=0
# one run of loop $1 under accel $2: "instructions host-seconds" from -stats, result in
# $tmp/out-$2
run() {
    local img=$tmp/${names[$1]}.img out rc
    cp "$src" "$img"
    printf "\\x$(printf %02x $1)" | dd of="$img" bs=1 seek=$((0x1b0)) conv=notrunc 2>/dev/null
    out=$("$build/dbt86" -accel $2 -display none -icount sleep=off -stats -snapshot \
          -debugcon file:"$tmp/out-$2" -device isa-debug-exit,iobase=0xf4,iosize=4 \
          -hda "$img" 2>&1)
    rc=$?
    if [ $rc -ne 1 ]; then echo "bench-loops: ${names[$1]} under $2: exit code $rc" >&2; fi
    echo "$out" | sed -n 's/^dbt86: \([0-9]*\) instructions, [0-9.]* s virtual, \([0-9.]*\) s host.*/\1 \2/p'
}
# the boot and exit around the loops (selector 4), subtracted from every loop's run
declare -A base_i=() base_h=()
for accel in dbt interp; do
    read -r base_i[$accel] base_h[$accel] < <(run 4 $accel)
done
for i in 0 1 2 3; do
    img=$tmp/${names[$i]}.img
    declare -A mips=()
    declare -A res=()
    for accel in dbt interp; do
        read -r n h < <(run $i $accel)
        [ -n "$n" ] || status=1
        mips[$accel]=$(echo "scale=1; (${n:-0} - ${base_i[$accel]:-0}) / (${h:-1} - ${base_h[$accel]:-0}) / 1000000" | bc 2>/dev/null)
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
