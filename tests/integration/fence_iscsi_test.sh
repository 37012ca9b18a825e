#!/bin/bash
# Storage fencing end to end against a real tgtd, three lab nodes each running droverd over
# iSCSI-direct (libiscsi), node3 also running libvirtd with a real QEMU guest:
#   register + WERO reservation; fence_drover off as Pacemaker runs it (stdin) on node1;
#   node3's writes refused while node1/node2 write; status off; node3's droverd stops its VM
#   within its bound; on brings node3 back; PREEMPT AND ABORT fallback; droverd killed and
#   restarted re-registers; a hung or missing droverd is an error, not a hang.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/lab/lab.sh"
t_require tgtd tgtadm virsh qemu-system-x86_64 nsenter

CLUSTER=drtest
WATCH_MS=100
cleanup()
{
    t_droverd_stop_all
    lab_down
}
trap cleanup EXIT

t_log "lab up (3 nodes, tgtd, libvirt on node3)"
LAB_NODES=3 lab_up >/dev/null || { echo "FATAL: lab_up failed"; exit 1; }
URL=$(lab_lun_url fence) || exit 1
lab_libvirt_up node3 >/dev/null || { echo "FATAL: libvirt on node3"; exit 1; }
VIRT3=$(lab_libvirt_uri node3)

# fence_in NODE ACTION PLUG [extra key=value lines]: fence_drover run on NODE as the fencer runs
# it: the target in plug and in nodename (fence-agents' meaning); the node it runs on is the host
# name, which is each lab node's own (local_node is not passed).
fence_in()
{
    local node=$1 action=$2 plug=$3
    shift 3
    { printf 'action=%s\nplug=%s\nnodename=%s\ndevices=%s\ncluster_name=%s\n' \
        "$action" "$plug" "$plug" "$URL" "$CLUSTER"
      printf '%s\n' "$@"; } | lab_exec "$node" "$FENCE"
}
status_of() { lab_exec "$1" "$DROVER" status; }
registered() { status_of "$1" | grep -q 'state=registered'; }
probe() { lab_exec "$1" "$DROVER" probe "$URL"; }
keys() { lab_exec node1 "$DROVER" keys "$URL"; }

t_log "droverd on every node (watch ${WATCH_MS} ms)"
t_droverd_start node1 --cluster "$CLUSTER" --devices "$URL" --watch-interval-ms $WATCH_MS --no-libvirt
t_wait_for 5 registered node1 && t_pass "node1's droverd registers on the empty LUN" ||
    t_fail "node1's droverd did not register"
t_droverd_start node2 --cluster "$CLUSTER" --devices "$URL" --watch-interval-ms $WATCH_MS --no-libvirt
t_droverd_start node3 --cluster "$CLUSTER" --devices "$URL" --watch-interval-ms $WATCH_MS \
    --libvirt-uri "$VIRT3"
t_wait_for 5 eval 'status_of node2 | grep -q unfence-pending' &&
    t_pass "node2 waits for unfencing (other keys exist, its own does not)" ||
    t_fail "node2 not unfence-pending: $(status_of node2)"
# Pacemaker unfences a node that joins: fence_drover on, run on the target. Until then droverd
# keeps the node free of VMs, so the VM starts only after node3 is unfenced.
t_expect_out 0 'Success: node2 unfenced' "on for node2 through its droverd" fence_in node2 on node2
t_expect_out 0 'Success: node3 unfenced' "on for node3 through its droverd" fence_in node3 on node3
K1=$("$DROVER" key "$CLUSTER" node1)
K2=$("$DROVER" key "$CLUSTER" node2)
K3=$("$DROVER" key "$CLUSTER" node3)
t_expect_out 0 "$K1" "READ KEYS lists node1's key" keys
[[ $T_OUT == *"$K2"* && $T_OUT == *"$K3"* ]] && t_pass "READ KEYS lists node2's and node3's keys" ||
    t_fail "keys: $T_OUT"
t_expect_out 0 "reserved key=$K1 type=WERO" "node1 holds the WERO reservation" keys
lab_vm_start node3 vm-c 48 >/dev/null || { echo "FATAL: VM on node3"; exit 1; }
t_wait_for 5 eval '[ "$(lab_vm_list node3)" = vm-c ]' && t_pass "vm-c runs on node3" ||
    t_fail "vm-c is not running on node3: $(lab_vm_list node3)"

for n in node1 node2 node3; do
    t_expect_out 0 writable "$n may write while registered" probe $n
done

t_log "fence node3 from node1, as Pacemaker's fencer does (stdin), while node1 and node2 write"
writer() # NODE: probe-write through the node's droverd until $LAB_DIR/stop-writers exists
{
    local ok=0 bad=0
    while [[ ! -e $LAB_DIR/stop-writers ]]; do
        if probe "$1" >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
    done
    echo "$ok $bad" >"$LAB_DIR/writer-$1"
}
writer node1 &
W1=$!
writer node2 &
W2=$!
sleep 0.3
VMC_QEMU=$(lab_pids | awk '$1 ~ /qemu.*vm-c/ {print $2; exit}')
[[ -n $VMC_QEMU ]] && kill -0 "$VMC_QEMU" && t_pass "vm-c's QEMU (pid $VMC_QEMU) runs before the fence" ||
    t_fail "cannot find vm-c's QEMU before the fence"
t0=$(t_ms)
t_expect_out 0 'Success: node3 fenced' "fence_drover off node3 exits 0" fence_in node1 off node3
t_off=$(t_ms)
# The law: when the fence reports success, Pacemaker starts the VM elsewhere at once. By then
# the fenced node's guest must no longer execute: its QEMU is gone.
if [[ -n $VMC_QEMU ]] && ! kill -0 "$VMC_QEMU" 2>/dev/null; then
    t_pass "vm-c's QEMU was dead when fence_drover reported success ($((t_off - t0)) ms)"
else
    t_fail "vm-c's QEMU ${VMC_QEMU:-?} still ran when fence_drover reported success"
fi
sleep 0.3
touch "$LAB_DIR/stop-writers"
wait "$W1" "$W2"
for n in node1 node2; do
    read -r ok bad <"$LAB_DIR/writer-$n"
    ((ok > 0 && bad == 0)) && t_pass "$n kept writing through the fence ($ok writes, $bad refused)" ||
        t_fail "$n's writes during the fence: $ok ok, $bad refused"
done
grep -q 'rejects PREEMPT AND ABORT' <<<"$T_OUT" &&
    t_pass "tgtd's missing PREEMPT AND ABORT is detected and PREEMPT used (said once)" ||
    t_fail "no PREEMPT AND ABORT fallback message: $T_OUT"
[[ $(grep -c 'rejects PREEMPT AND ABORT' <<<"$T_OUT") == 1 ]] ||
    t_fail "the fallback was logged more than once"
t_expect_rc 0 "READ KEYS after the fence" keys
[[ $T_OUT != *"$K3"* && $T_OUT == *"$K1"* && $T_OUT == *"$K2"* ]] &&
    t_pass "node3's key is gone, node1's and node2's stay" || t_fail "keys after fence: $T_OUT"
t_expect_out 3 'RESERVATION CONFLICT' "node3's write is refused (RESERVATION CONFLICT)" probe node3
t_expect_out 0 writable "node1 still writes" probe node1
t_expect_out 0 writable "node2 still writes" probe node2
t_expect_out 2 'Status: OFF' "status reports node3 off (exit 2)" fence_in node1 status node3
t_expect_out 0 'Status: ON' "status reports node2 on (exit 0)" fence_in node1 status node2

# droverd on node3 saw its key vanish: the VM must be gone within its bound.
if t_wait_for 10 eval '[ -z "$(lab_vm_list node3)" ]'; then
    t_gone=$(t_ms)
    t_pass "libvirt on node3 shows vm-c shut off $((t_gone - t_off)) ms after fence_drover returned"
else
    t_fail "vm-c still runs on fenced node3"
fi
t_expect_out 0 'state=fenced vms_destroyed=1' "node3's droverd reports fenced, 1 VM stopped" status_of node3
grep -q 'this node has been fenced' "$LAB_DIR/droverd-node3.log" &&
    t_pass "node3's droverd logged why it stopped the VM" || t_fail "no reason in droverd-node3.log"

t_log "a VM started on the fenced node is stopped again"
lab_vm_start node3 vm-c2 48 >/dev/null 2>&1 || true
t_wait_for 10 eval '[ -z "$(lab_vm_list node3)" ] && status_of node3 | grep -q vms_destroyed=2' &&
    t_pass "a VM started on fenced node3 is destroyed too (vms_destroyed=2)" ||
    t_fail "VM on fenced node3: running '$(lab_vm_list node3)'; $(status_of node3)"

t_log "unfence node3"
t_expect_out 0 'Success: node3 unfenced' "on for node3 (through droverd) exits 0" fence_in node3 on node3
t_expect_out 0 'state=registered' "node3's droverd is registered again" status_of node3
t_expect_out 0 writable "node3 writes again" probe node3
t_expect_out 0 "$K3" "node3's key is listed again" keys

t_log "droverd killed (SIGKILL) and restarted on node2"
t_stop_pid "$T_DROVERD_node2" KILL
t_expect_rc 4 "drover status without droverd exits 4 (droverd unreachable)" status_of node2
t_droverd_start node2 --cluster "$CLUSTER" --devices "$URL" --watch-interval-ms $WATCH_MS --no-libvirt
t_wait_for 5 registered node2 && t_pass "restarted droverd re-establishes node2's registration" ||
    t_fail "restarted droverd: $(status_of node2)"
t_expect_out 0 writable "node2 writes through the new session" probe node2
t_expect_out 0 'Success: node2 fenced' "the new session can be fenced as well" fence_in node1 off node2
t_expect_out 3 'RESERVATION CONFLICT' "fenced node2's write is refused" probe node2
t_expect_out 0 'Success: node2 unfenced' "node2 unfenced again" fence_in node2 on node2

t_log "a hung droverd is an error after the timeout, never a hang"
kill -STOP "$T_DROVERD_node1"
t0=$(t_ms)
t_expect_rc 4 "drover status against a stopped droverd exits 4" status_of node1
el=$(($(t_ms) - t0))
((el < 4000)) && t_pass "and returns in $el ms (client timeout 2000 ms)" || t_fail "took $el ms"
t0=$(t_ms)
t_expect_out 1 'not reachable' "fence_drover use_daemon=yes with a hung droverd fails" \
    fence_in node1 status node3 use_daemon=yes timeout_ms=1000
el=$(($(t_ms) - t0))
((el < 4000)) && t_pass "and returns in $el ms" || t_fail "took $el ms"
# nsenter, droverd's parent, stops itself when its child stops (job control): wake both.
kill -CONT "$T_DROVERD_node1" "$(awk '{print $4}' "/proc/$T_DROVERD_node1/stat")"

t_log "refusals"
t_expect_out 1 'refusing to fence node1' "fence_drover refuses to fence the node it runs on" \
    fence_in node1 off node1
t_expect_out 1 'is not held by droverd' "on for an iSCSI device droverd does not hold is refused" \
    fence_in node1 on node1 use_daemon=no

t_summary
