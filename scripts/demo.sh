#!/bin/bash
# drover's demo on this one machine: storage fencing with SCSI-3 persistent reservations.
#
#   three nodes (namespaces) share an iSCSI LUN served by a real tgtd; each runs droverd, which
#   holds the node's registration; node3 runs a real QEMU guest under its own libvirtd.
#   node1 fences node3 with fence_drover, exactly as Pacemaker's fencer runs it; node3's writes
#   are refused from that moment, its droverd sees its key vanish and stops its VM; then node3
#   is unfenced and rejoins. A timeline of what happened when ends the run.
#
# Installs what it needs (apt-get), builds into build-demo/, tears everything down at the end,
# even on failure. Run as root. (The full cluster demo, with corosync and Pacemaker, comes with
# the cluster-lab issue.)
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export DR_BUILD_DIR=${DR_BUILD_DIR:-$SRC/build-demo}
export DR_SOURCE_DIR=$SRC

[[ $(id -u) == 0 ]] || { echo "run as root (namespaces, tgtd, libvirtd)" >&2; exit 1; }
scripts/deps.sh || exit 1
echo "building drover into $DR_BUILD_DIR"
{ cmake -S "$SRC" -B "$DR_BUILD_DIR" -DDR_TESTS=OFF && cmake --build "$DR_BUILD_DIR" -j2; } \
    >/tmp/drover-demo-build.log 2>&1 || { tail -30 /tmp/drover-demo-build.log; exit 1; }

. tests/integration/lib.sh
. tests/lab/lab.sh
trap 't_droverd_stop_all; lab_down >/dev/null' EXIT

T0=$(t_ms)
EVENTS=()
say() { printf '\n\033[1m[%6.3f s] %s\033[0m\n' "$(awk -v t="$(($(t_ms) - T0))" 'BEGIN{print t/1000}')" "$*"; }
mark() { EVENTS+=("$(($(t_ms) - T0))|$*"); }
run() { printf '  $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; return "${PIPESTATUS[0]}"; }

CLUSTER=demo
say "bringing up the lab: 3 nodes, a storage node with tgtd, libvirtd on node3"
LAB_NODES=3 lab_up >/dev/null || exit 1
URL=$(lab_lun_url fence)
lab_libvirt_up node3 >/dev/null || exit 1
mark "lab up (tgtd serving $URL)"

say "droverd on every node: it logs in to the LUN and holds the node's registration"
t_droverd_start node1 --cluster $CLUSTER --devices "$URL" --watch-interval-ms 100 --no-libvirt
t_wait_for 5 eval "lab_exec node1 $DROVER status | grep -q state=registered"
t_droverd_start node2 --cluster $CLUSTER --devices "$URL" --watch-interval-ms 100 --no-libvirt
t_droverd_start node3 --cluster $CLUSTER --devices "$URL" --watch-interval-ms 100 \
    --libvirt-uri "$(lab_libvirt_uri node3)"
sleep 0.3
mark "droverd running on node1..3"
fence_in() # NODE ACTION PLUG: fence_drover with its parameters on stdin, as Pacemaker runs it
{
    printf 'action=%s\nplug=%s\nnodename=%s\ndevices=%s\ncluster_name=%s\n' \
        "$2" "$3" "$3" "$URL" "$CLUSTER" | lab_exec "$1" "$FENCE"
}
say "unfencing node2 and node3 (Pacemaker does this when a node joins: fence_drover on)"
run fence_in node2 on node2
run fence_in node3 on node3
mark "node2, node3 unfenced"
run lab_exec node1 "$DROVER" keys "$URL"

say "starting a VM on node3 (QEMU, TCG)"
lab_vm_start node3 web1 48 >/dev/null || exit 1
mark "VM web1 running on node3"
run lab_virsh node3 list

say "every node may write to the shared LUN"
for n in node1 node2 node3; do run lab_exec $n "$DROVER" probe "$URL"; done

say "node1 fences node3 (Pacemaker's fencer would run exactly this)"
QPID=$(lab_pids | awk '$1 ~ /qemu.*web1/ {print $2; exit}')
t=$(t_ms)
run fence_in node1 off node3
mark "fence_drover off node3 returned ($(($(t_ms) - t)) ms, incl. the victim_stop_ms wait)"
if [[ -n $QPID ]] && ! kill -0 "$QPID" 2>/dev/null; then
    mark "web1's QEMU (pid $QPID) was already dead when the fence returned"
else
    mark "web1's QEMU ${QPID:-?} STILL RAN when the fence returned"
fi
t_off=$(t_ms)
run lab_exec node1 "$DROVER" keys "$URL"
run lab_exec node3 "$DROVER" probe "$URL"
run lab_exec node1 "$DROVER" probe "$URL"
run fence_in node1 status node3

say "node3's droverd saw its key vanish: its VM must stop"
if t_wait_for 10 eval '[ -z "$(lab_vm_list node3)" ]'; then
    mark "libvirt on node3 shows web1 shut off ($(($(t_ms) - t_off)) ms after the fence returned)"
else
    mark "web1 STILL RUNNING on node3"
fi
run lab_exec node3 "$DROVER" status
grep -E 'fenced|stopped' "$LAB_DIR/droverd-node3.log" | sed 's/^/    droverd-node3: /'

say "node3 rejoins: unfenced, writes again"
run fence_in node3 on node3
mark "node3 unfenced"
run lab_exec node3 "$DROVER" probe "$URL"
run lab_exec node1 "$DROVER" keys "$URL"

say "timeline"
printf '  %10s  %s\n' "t (ms)" "event"
for e in "${EVENTS[@]}"; do
    printf '  %10s  %s\n' "${e%%|*}" "${e#*|}"
done
echo
