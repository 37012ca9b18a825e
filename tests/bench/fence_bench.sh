#!/bin/bash
# tests/bench/fence_bench.sh - storage fencing over iSCSI-direct (libiscsi), on the host lab.
#
# Three lab nodes share one tgtd LUN; droverd runs on each (node3 also has libvirtd and one tiny
# TCG VM). For each droverd watch interval (DR_BENCH_WATCH_MS, default "100 200"; a fresh LUN
# per interval) it runs DR_BENCH_N (default 21) cycles of:
#   off node3 from node1 through node1's droverd      -> status off (daemon, standalone) -> on
#   off node3 from node1 standalone (use_daemon=no)   -> status off (daemon, standalone) -> on
# where "on" is run on node3 through its droverd (standalone on is refused for iSCSI-direct:
# the registration must live in droverd's session) and the VM is restarted after each on.
# Every fence_drover call is run as Pacemaker's fencer runs it (key=value lines on stdin) and
# timed inside the node from fork to exit (drbench_time, CLOCK_MONOTONIC), so nsenter is not
# counted. The VM's end is seen from the root namespace by drbench_vmgone polling node3's
# libvirtd every DR_BENCH_POLL_MS (default 5) ms; the latency reported is from fence_drover
# off's exit (just after its PREEMPT) to that poll, plus droverd's own "stopped N VM(s) X ms
# after the key was found gone".
# Output: raw samples in $DR_BENCH_RESULTS/fence-iscsi/*.ms, the tables on stdout.
# Needs root and the lab's packages. Exit 0 when every run behaved (right exit codes, VM gone),
# 1 otherwise, 77 when the lab cannot run.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/lib.sh"
. "$DR_SOURCE_DIR/tests/lab/lab.sh"
t_require tgtd tgtadm virsh qemu-system-x86_64 nsenter gcc

N=${DR_BENCH_N:-21}
WATCHES=${DR_BENCH_WATCH_MS:-100 200}
POLL_MS=${DR_BENCH_POLL_MS:-5}
CLUSTER=drbench
R=$DR_BENCH_RESULTS/fence-iscsi
for f in "$DROVER" "$DROVERD" "$FENCE"; do
    [[ -x $f ]] || { echo "FATAL: $f is not built (DR_BUILD_DIR=$DR_BUILD_DIR)"; exit 1; }
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "FATAL: DR_BENCH_N=$N"; exit 1; }

POLLER_PID=
ERRORS=0
cleanup()
{
    [[ -z $POLLER_PID ]] || t_stop_pid "$POLLER_PID"
    t_droverd_stop_all
    lab_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$R" && mkdir -p "$R" || exit 1
b_log "lab up (3 nodes, tgtd, libvirt on node3)"
LAB_NODES=3 lab_up >/dev/null || { echo "FATAL: lab_up failed"; exit 1; }
lab_libvirt_up node3 >/dev/null || { echo "FATAL: libvirt on node3"; exit 1; }
VIRT3=$(lab_libvirt_uri node3)
BIN=$LAB_DIR/bench-bin
b_build_helpers "$BIN" vmgone || { echo "FATAL: cannot build the bench helpers"; exit 1; }

bad() { ERRORS=$((ERRORS + 1)); b_log "UNEXPECTED: $*"; }

# timed_fence FILE NODE ACTION PLUG [key=value...]: fence_drover as the fencer runs it, timed in
# NODE; appends drbench_time's line to $R/FILE.raw; returns fence_drover's exit code.
timed_fence()
{
    local file=$1 node=$2 action=$3 plug=$4
    shift 4
    { printf 'action=%s\nplug=%s\nnodename=%s\ndevices=%s\ncluster_name=%s\n' \
        "$action" "$plug" "$plug" "$URL" "$CLUSTER"
      printf '%s\n' "$@"; } |
        lab_exec "$node" "$BIN/drbench_time" "$R/$file.raw" "$FENCE" >>"$R/fence.log" 2>&1
}
# expect_fence WANT FILE NODE ACTION PLUG [key=value...]
expect_fence()
{
    local want=$1 rc=0
    shift
    timed_fence "$@" || rc=$?
    [[ $rc == "$want" ]] || bad "fence_drover $3 $4 on $2 ($*): exit $rc, wanted $want"
}
registered3() { lab_exec node3 "$DROVER" status 2>/dev/null | grep -q 'state=registered'; }
vms3() { lab_vm_list node3 2>/dev/null; }

# cycle MODE W: one off/status/on/VM-restart cycle; MODE daemon or standalone.
cycle()
{
    local mode=$1 w=$2 extra=() line gone_ns end_ns ndone
    [[ $mode == daemon ]] || extra=(use_daemon=no)
    "$BIN/drbench_vmgone" "$VIRT3" "$POLL_MS" 15000 >"$R/poller.out" 2>&1 &
    POLLER_PID=$!
    t_wait_for 10 grep -q '^ready' "$R/poller.out" || bad "the poller never saw the VM"
    ndone=$(grep -c 'after the key was found gone' "$LAB_DIR/droverd-node3.log")
    expect_fence 0 "w$w-off-$mode" node1 off node3 "${extra[@]}"
    wait "$POLLER_PID" || bad "VM on node3 not gone: $(cat "$R/poller.out")"
    POLLER_PID=
    gone_ns=$(awk '$1 == "gone" { print $2 }' "$R/poller.out")
    end_ns=$(tail -n 1 "$R/w$w-off-$mode.raw" | awk '{ print $3 }')
    if [[ -n $gone_ns ]]; then
        awk -v g="$gone_ns" -v e="$end_ns" 'BEGIN { printf "%.2f\n", (g - e) / 1e6 }' \
            >>"$R/w$w-vmgone-$mode.ms"
    fi
    t_wait_for 5 eval '(($(grep -c "after the key was found gone" "$LAB_DIR/droverd-node3.log") > ndone))' ||
        bad "droverd on node3 logged no stopped VM"
    line=$(grep 'after the key was found gone' "$LAB_DIR/droverd-node3.log" | tail -n 1)
    sed -n 's/.*stopped [0-9]* VM(s) \([0-9]*\) ms after the key was found gone.*/\1/p' \
        <<<"$line" >>"$R/w$w-droverd-stop-$mode.ms"
    expect_fence 2 "w$w-status-off-daemon" node1 status node3
    expect_fence 2 "w$w-status-off-standalone" node1 status node3 use_daemon=no
    expect_fence 0 "w$w-on" node3 on node3
    t_wait_for 5 registered3 || bad "node3 not registered after on"
    expect_fence 0 "w$w-status-on-daemon" node1 status node3
    expect_fence 0 "w$w-status-on-standalone" node1 status node3 use_daemon=no
    # A new domain each time: lab_vm_start defines it, and records its QEMU for lab_down.
    VMSEQ=$((VMSEQ + 1))
    lab_vm_start node3 "vm-w$w-$VMSEQ" 48 >>"$R/vm.log" 2>&1 || bad "VM restart on node3 failed"
}
VMSEQ=0

for w in $WATCHES; do
    b_log "watch interval $w ms: fresh LUN, droverd on every node"
    URL=$(lab_lun_add "fw$w" 64) || { echo "FATAL: lab_lun_add"; exit 1; }
    : >"$LAB_DIR/droverd-node3.log"
    t_droverd_start node1 --cluster "$CLUSTER" --devices "$URL" --watch-interval-ms "$w" --no-libvirt
    t_wait_for 5 eval 'lab_exec node1 "$DROVER" status | grep -q state=registered' ||
        bad "node1's droverd did not register"
    t_droverd_start node2 --cluster "$CLUSTER" --devices "$URL" --watch-interval-ms "$w" --no-libvirt
    t_droverd_start node3 --cluster "$CLUSTER" --devices "$URL" --watch-interval-ms "$w" \
        --libvirt-uri "$VIRT3"
    sleep 0.5
    expect_fence 0 warmup node2 on node2
    expect_fence 0 warmup node3 on node3
    t_wait_for 5 registered3 || bad "node3 not registered"
    lab_vm_start node3 "vm-w$w" 48 >>"$R/vm.log" 2>&1 || { echo "FATAL: VM on node3"; exit 1; }
    # Baseline: a drover process that only derives a key (no I/O): its start-up cost.
    for i in $(seq "$N"); do
        lab_exec node1 "$BIN/drbench_time" "$R/w$w-base-drover-key.raw" "$DROVER" key "$CLUSTER" node1 \
            >/dev/null || bad "drover key failed"
    done
    for i in $(seq "$N"); do
        cycle daemon "$w"
        cycle standalone "$w"
        ((i % 5)) || b_log "watch $w ms: $i/$N cycles"
    done
    for vm in $(vms3); do
        lab_virsh node3 destroy "$vm" >/dev/null 2>&1
    done
    t_droverd_stop_all
    T_DROVERD_PIDS=()
done

for f in "$R"/*.raw; do
    [[ $f == */warmup.raw ]] || b_ns_to_ms <"$f" >"${f%.raw}.ms"
done

echo
echo "### fence_drover over iSCSI-direct (host lab, 3 nodes, tgtd), ms from fork to exit"
for w in $WATCHES; do
    echo
    b_table_head "watch $w ms: action"
    b_row "off, through droverd" "$R/w$w-off-daemon.ms"
    b_row "off, standalone (use_daemon=no)" "$R/w$w-off-standalone.ms"
    b_row "on (through node3's droverd)" "$R/w$w-on.ms"
    b_row "status of a fenced node, through droverd" "$R/w$w-status-off-daemon.ms"
    b_row "status of a fenced node, standalone" "$R/w$w-status-off-standalone.ms"
    b_row "status of a live node, through droverd" "$R/w$w-status-on-daemon.ms"
    b_row "status of a live node, standalone" "$R/w$w-status-on-standalone.ms"
    b_row "VM gone after off (daemon), from off's exit" "$R/w$w-vmgone-daemon.ms"
    b_row "VM gone after off (standalone), from off's exit" "$R/w$w-vmgone-standalone.ms"
    b_row "droverd: key found gone -> VM stopped (daemon off)" "$R/w$w-droverd-stop-daemon.ms"
    b_row "droverd: key found gone -> VM stopped (standalone off)" "$R/w$w-droverd-stop-standalone.ms"
    b_row "baseline: drover key (process start-up, no I/O)" "$R/w$w-base-drover-key.ms"
done
echo
echo "unexpected results: $ERRORS (raw samples: $R)"
((ERRORS == 0))
