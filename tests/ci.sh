#!/usr/bin/env bash
# ci.sh — build dbt86 twice (optimised, and with ASan+UBSan) and run every test in
# both; ends with one line "N passed, N failed". Used by the README and .ci/run.
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
jobs=$(nproc)
total_pass=0
total_fail=0
status=0
run_config() {
    local dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >/dev/null || { echo "meson setup $dir failed"; return 1; }
    else
        meson setup --reconfigure "$dir" "$@" >/dev/null || return 1
    fi
    ninja -C "$dir" -j "$jobs" >/dev/null || { ninja -C "$dir" -j 1 | tail -40; return 1; }
    meson test -C "$dir" --num-processes "$jobs" --print-errorlogs --no-rebuild
    local rc=$?
    local log="$dir/meson-logs/testlog.json"
    if [ -f "$log" ]; then
        local p f
        p=$(grep -c '"result": "OK"' "$log")
        f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
        total_pass=$((total_pass + p))
        total_fail=$((total_fail + f))
    fi
    return $rc
}
run_config build || status=1
run_config build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || status=1
if [ $status -ne 0 ] && [ $total_fail -eq 0 ]; then total_fail=1; fi
echo "$total_pass passed, $total_fail failed"
exit $status
