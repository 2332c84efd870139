#!/usr/bin/env bash
# bench-mips.sh — interpreter speed on a guest integer loop (roms/bench-int.asm):
# prints dbt86's MIPS and, when qemu-system-i386 is installed, QEMU's wall time on the
# same image for comparison. A benchmark, not a test: `meson test --benchmark` or run
# it directly: tests/bench-mips.sh [build-dir]
set -u
build=${1:-$(dirname "$0")/../build}
img=$build/roms/bench-int.img
out=$("$build/dbt86" -display none -icount sleep=off -stats -snapshot \
      -device isa-debug-exit,iobase=0xf4,iosize=4 -hda "$img" 2>&1)
rc=$?
echo "$out" | grep MIPS
if [ $rc -ne 1 ]; then echo "bench-mips: unexpected exit code $rc"; exit 1; fi
t0=$(date +%s.%N)
"$build/dbt86" -display none -icount sleep=off -snapshot \
      -device isa-debug-exit,iobase=0xf4,iosize=4 -hda "$img" >/dev/null 2>&1
t1=$(date +%s.%N)
echo "dbt86 (interp) wall time: $(echo "$t1 - $t0" | bc) s"
if command -v qemu-system-i386 >/dev/null; then
    t0=$(date +%s.%N)
    qemu-system-i386 -display none -snapshot -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -drive file="$img",format=raw,if=ide >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "qemu-system-i386 (TCG) wall time: $(echo "$t1 - $t0" | bc) s"
fi
exit 0
