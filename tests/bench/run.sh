#!/bin/bash
# tests/bench/run.sh - every benchmark (storage fencing, VM agent, cluster), one after the
# other (the machine has two shared cores: never two guests at once), then the tables. Not part
# of the CI test suite.
#
#   tests/bench/run.sh                      # all benchmarks
#   tests/bench/run.sh iscsi | sgio | vm    # one of them (vm: knobs in vm_bench.sh)
#   tests/bench/run.sh vmcrash              # VM killed -> running again (vm_crash_bench.sh)
#   tests/bench/run.sh failover | drain     # node killed -> VMs running on a survivor, ours vs
#                                           # VirtualDomain (failover_bench.sh); a node with N VMs
#                                           # drained vs each VM moved alone (drain_bench.sh)
# Environment: DR_BUILD_DIR (default build-bench; built here with -DDR_TESTS=OFF if missing),
# DR_BENCH_N (host runs per series, default 21), DR_BENCH_WATCH_MS (default "100 200"),
# DR_BENCH_GUEST_N (guest cycles per tool, default 15), DR_BENCH_RESULTS (raw samples and
# tables.md; default $DR_BUILD_DIR/bench-results). Needs root. Exit 0 when every benchmark ran
# and every call behaved as expected.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
export DR_BUILD_DIR DR_BENCH_RESULTS
which=${1:-all}
case $which in all | iscsi | sgio | vm | vmcrash | failover | drain) ;; *) echo "usage: $0 [all|iscsi|sgio|vm|vmcrash|failover|drain]"; exit 2 ;; esac

if [[ ! -x $DR_BUILD_DIR/stonith/fence_drover || ! -x $DR_BUILD_DIR/droverd/droverd ||
    ! -x $DR_BUILD_DIR/agents/vm ]]; then
    b_log "building $DR_BUILD_DIR"
    cmake -S "$DR_SOURCE_DIR" -B "$DR_BUILD_DIR" -DDR_TESTS=OFF >/dev/null &&
        cmake --build "$DR_BUILD_DIR" -j2 >/dev/null || { echo "FATAL: build failed"; exit 1; }
fi
mkdir -p "$DR_BENCH_RESULTS" || exit 1
TABLES=$DR_BENCH_RESULTS/tables.md
{
    echo "## drover benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host: $(nproc) cores, $(uname -r); drover $(git -C "$DR_SOURCE_DIR" describe --always --dirty 2>/dev/null)"
} >"$TABLES"
rc=0
# bench NAME SCRIPT: run it; keep from its output what follows the first "###" heading
bench()
{
    local out=$DR_BENCH_RESULTS/$1.out r=0
    b_log "$1: $2"
    "$HERE/$2" >"$out" 2>&1 || r=$?
    b_log "$1: exit $r (log $out)"
    { echo; sed -n '/^### /,$p' "$out"; } >>"$TABLES"
    ((r == 0)) || rc=1
}
[[ $which == all || $which == iscsi ]] && bench iscsi fence_bench.sh
[[ $which == all || $which == sgio ]] && bench sgio sgio_bench.sh
[[ $which == all || $which == vm ]] && bench vm vm_bench.sh
[[ $which == all || $which == vmcrash ]] && bench vmcrash vm_crash_bench.sh
[[ $which == all || $which == failover ]] && bench failover failover_bench.sh
[[ $which == all || $which == drain ]] && bench drain drain_bench.sh
cat "$TABLES"
exit "$rc"
