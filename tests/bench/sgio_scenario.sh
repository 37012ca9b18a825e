#!/bin/sh
# shellcheck shell=dash
# tests/bench/sgio_scenario.sh - runs in the SG_IO guest as /scenario-bench.sh (busybox ash),
# put there by sgio_bench.sh. Times fence_drover and fence_scsi, each as Pacemaker's fencer
# runs it (key=value lines on stdin), on the same three I_T nexuses (node1..3 = $DR_DEV_node1..3,
# one tgtd LUN). Per cycle and tool: node1 fences node3 (off, on node1's /dev/sdX), status of
# node3 from node1 (off), node3 unfences itself (on, on its own /dev/sdX), status again (on).
# Every call is timed from fork to exit by drbench_time on the guest's CLOCK_MONOTONIC; the
# raw lines go to the console as "@@BENCH SERIES RC START_NS END_NS ELAPSED_NS".
# /bench.conf sets N (cycles per tool).
N=5
. /bench.conf
A=$DR_DEV_node1 B=$DR_DEV_node2 C=$DR_DEV_node3
T=/usr/local/bin/drbench_time
R=/tmp/bench
mkdir -p "$R" /run/fs-node1 /run/fs-node2 /run/fs-node3 /var
BAD=0

# expect WANT SERIES CMD...: run CMD timed (stdin passed on), count an unexpected exit code
expect() {
    local want=$1 series=$2 rc
    shift 2
    "$T" "$R/$series" "$@" >>"$R/$series.log" 2>&1
    rc=$?
    if [ "$rc" != "$want" ]; then
        BAD=$((BAD + 1))
        echo "@@BENCH-UNEXPECTED $series rc=$rc wanted=$want"
        tail -n 5 "$R/$series.log" | sed 's/^/    /'
    fi
}

# fdrover WANT SERIES NODE DEV ACTION PLUG: fence_drover standalone (no droverd in the guest).
# As Pacemaker passes them: nodename is the target; the node it runs on is local_node (three
# nodes share one guest here, so it is given).
fdrover() {
    printf 'action=%s\nplug=%s\nnodename=%s\nlocal_node=%s\ndevices=%s\ncluster_name=bench\n' \
        "$5" "$6" "$6" "$3" "$4" | expect "$1" "$2" fence_drover
}

# fscsi WANT SERIES NODE DEV ACTION PLUG [key=value...]: fence_scsi with NODE's state directory
# (/var/run/cluster.key holds the local node's key, written by its own "on"). As Pacemaker
# does, nodename is the target's name; key_value=hash derives the key from the cluster name
# (from the corosync-cmapctl stub) and the node name, like drover.
fscsi() {
    local want=$1 series=$2 node=$3 dev=$4 action=$5 plug=$6
    shift 6
    ln -sfn "/run/fs-$node" /var/run
    { printf 'action=%s\nplug=%s\nnodename=%s\ndevices=%s\nkey_value=hash\n' \
        "$action" "$plug" "$plug" "$dev"
      [ $# -gt 0 ] && printf '%s\n' "$@"; } | expect "$want" "$series" fence_scsi
}
NOABORT=sg_persist_path=/usr/local/bin/sg_persist_noabort

echo "@@T bench-start $(cut -d' ' -f1 /proc/uptime)"
echo "== baselines: process start costs on this guest"
for i in $(seq 5); do
    expect 0 base-python3 python3 -c pass
    expect 0 base-sg_persist-V sg_persist -V
    expect 0 base-noabort-V /usr/local/bin/sg_persist_noabort -V
    expect 0 base-drover-key drover key bench node1
done

echo "== fence_drover: on for the three nodes, then $N cycles"
fdrover 0 drover-setup node1 "$A" on node1
fdrover 0 drover-setup node2 "$B" on node2
fdrover 0 drover-setup node3 "$C" on node3
for i in $(seq "$N"); do
    fdrover 0 drover-off node1 "$A" off node3
    fdrover 2 drover-status-off node1 "$A" status node3
    fdrover 0 drover-on node3 "$C" on node3
    fdrover 0 drover-status-on node1 "$A" status node3
done
drover pr "$A" read-keys
KA=$(drover key bench node1)
drover pr "$A" clear "$KA" || { BAD=$((BAD + 1)); echo "@@BENCH-UNEXPECTED clear failed"; }
drover pr "$A" read-keys

echo "== fence_scsi: on for the three nodes, then $N cycles"
fscsi 0 fscsi-setup node1 "$A" on node1
fscsi 0 fscsi-setup node2 "$B" on node2
fscsi 0 fscsi-setup node3 "$C" on node3
sg_persist -n -i -k "$A"
sg_persist -n -i -r "$A"
echo "== fence_scsi off as shipped (PREEMPT AND ABORT, which tgtd rejects): 3 tries"
for i in 1 2 3; do
    fscsi 1 fscsi-off-abort node1 "$A" off node3
done
tail -n 8 "$R/fscsi-off-abort.log" | sed 's/^/    /'
for i in $(seq "$N"); do
    fscsi 0 fscsi-off node1 "$A" off node3 "$NOABORT"
    fscsi 2 fscsi-status-off node1 "$A" status node3
    fscsi 0 fscsi-on node3 "$C" on node3
    fscsi 0 fscsi-status-on node1 "$A" status node3
done
sg_persist -n -i -k "$A"

for f in "$R"/*; do
    case $f in *.log) continue ;; esac
    sed "s|^|@@BENCH ${f##*/} |" "$f"
done
echo "@@BENCH-UNEXPECTED-COUNT $BAD"
echo "@@T bench-done $(cut -d' ' -f1 /proc/uptime)"
