#!/bin/bash
# tests/bench/vm_crash_bench.sh - a VM killed (its QEMU process, SIGKILL) -> the VM running
# again, with Pacemaker managing it (issue 3 §6): ocf:drover:vm with droverd (which reports the
# death to Pacemaker the moment libvirt's event arrives) against ocf:heartbeat:VirtualDomain
# (resource-agents), which Pacemaker finds dead at its next monitor; both with a monitor every
# 10 s (VirtualDomain's default), on the same 3-node cluster lab (tests/lab/lab.sh:
# corosync, Pacemaker, droverd, libvirtd) and the same kind of domain (a tiny diskless one,
# 48 MiB, its XML at the same path on every node), one resource at a time, preferring node2.
#
#   tests/bench/vm_crash_bench.sh
#
# Per tool DR_BENCH_CRASH_N (default 7) kills. Before each: the resource's failures cleaned up
# (crm_resource --cleanup), the cluster settled, then a random wait of 1-11 s, so that the kill
# falls at a random phase of the 10 s monitor (Pacemaker restarts the monitor after each start:
# a fixed wait would always give the same detection delay). Measured from the host, in ms:
#   kill -> failure recorded: Pacemaker's log ("Result of asyncmon|monitor operation ... error|
#                              not running"), its own ms time stamps;
#   kill -> new QEMU:          a new PID in a node's libvirt QEMU PID file (polled every 10 ms);
#   kill -> running again:     libvirt on that node says "running" (virsh domstate, polled);
#   start alone:               exec= of the recovering start operation, as Pacemaker recorded
#                              it (crm_resource --list-operations).
# A sampler (cluster_lib.sh, every <= 100 ms) checks that no domain ever ran on two nodes.
# Output: raw samples in $DR_BENCH_RESULTS/vmcrash/, the tables on stdout. Needs root.
# Exit 0 when every kill was recovered as expected, 1 otherwise, 77 when the lab cannot run.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/cluster_lib.sh"
if [[ $EUID != 0 ]]; then
    echo "needs root"
    exit 77
fi
export LAB_CLUSTER=1 LAB_LIBVIRT=1 DR_BUILD_DIR
. "$DR_SOURCE_DIR/tests/lab/lab.sh"
lab_deps >/dev/null 2>&1
t_require corosync pacemakerd pcs crm_resource libvirtd virsh tgtd
lab__cluster_check || exit 77
VD=/usr/lib/ocf/resource.d/heartbeat/VirtualDomain
[[ -x $VD ]] || { echo "FATAL: $VD is missing (apt-get install resource-agents)"; exit 1; }

N=${DR_BENCH_CRASH_N:-7}
R=$DR_BENCH_RESULTS/vmcrash
mkdir -p "$R" || exit 1
ERRORS=0
bad() { ERRORS=$((ERRORS + 1)); b_log "UNEXPECTED: $*"; }
# shellcheck disable=SC2034 # CL_DOMS and CL_SAMPLER_PID are cluster_lib.sh's
CL_DOMS=()
# shellcheck disable=SC2034
CL_SAMPLER_PID=
keep_logs() # the nodes' Pacemaker and droverd logs, for the record
{
    local k
    for ((k = 1; k <= 3; k++)); do
        cp "$LAB_DIR/node$k/log/pacemaker/pacemaker.log" "$R/node$k-pacemaker.log" 2>/dev/null
        cp "$LAB_DIR/node$k/log/droverd.log" "$R/node$k-droverd.log" 2>/dev/null
    done
}
trap 'keep_logs; cl_cleanup' EXIT

qemu_nspid() # K DOM -> the PID in DOM's QEMU PID file on node K
{
    local pid=''
    { read -r pid <"$LAB_DIR/node$1/run/libvirt/qemu/$2.pid" || [[ -n $pid ]]; } 2>/dev/null
    [[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
}

log_ms() { date -d "$1" +%s%3N; } # "Mon DD HH:MM:SS.mmm" -> epoch ms

# kill_once TOOL RSC DOM: one kill and its recovery; appends a line to $R/TOOL.raw:
# "detect_ms qemu_ms running_ms start_exec_ms from_node to_node"
kill_once()
{
    local tool=$1 rsc=$2 dom=$3 from k old hpid t_kill t_q='' t_run='' to='' p log det st end
    from=$(cl_where "$rsc")
    k=${from#node}
    old=$(qemu_nspid "$k" "$dom") && hpid=$(lab__host_pid "$k" "$old") ||
        { bad "$tool: no QEMU of $dom on '$from'"; return 1; }
    cl_log_mark
    t_kill=$(t_ms)
    kill -KILL "$hpid"
    end=$((t_kill + 60000))
    while [[ -z $t_q ]] && (($(t_ms) < end)); do
        for k in 1 2 3; do
            p=$(qemu_nspid "$k" "$dom") || continue
            [[ node$k == "$from" && $p == "$old" ]] && continue
            t_q=$(t_ms) to=node$k
            break
        done
        [[ -n $t_q ]] || sleep 0.01
    done
    [[ -n $t_q ]] || { bad "$tool: no new QEMU of $dom within 60 s"; return 1; }
    while (($(t_ms) < end)); do
        [[ $(lab_virsh "$to" domstate "$dom" 2>/dev/null | head -n 1) == running ]] && {
            t_run=$(t_ms)
            break
        }
        sleep 0.01
    done
    [[ -n $t_run ]] || { bad "$tool: $dom not running on $to within 60 s"; return 1; }
    cl_settled 60 || bad "$tool: the cluster did not settle after kill $i"
    log=$(cl_log_since)
    det=$(grep -E "Result of (asyncmon|monitor) operation for $rsc on $from: (error|not running)" <<<"$log" |
        head -n 1 | { read -r a b c _ && log_ms "$a $b $c"; })
    st=$(lab_exec "$to" crm_resource --list-operations -r "$rsc" 2>/dev/null |
        grep -o "${rsc}_start_0 (node=$to, .*exec=[0-9]*ms" | sed 's/.*exec=\([0-9]*\)ms/\1/' | tail -n 1)
    grep -q "Result of start operation for $rsc on [a-z0-9]*: error" <<<"$log" &&
        bad "$tool: a start of $rsc failed: $(grep "Result of start operation for $rsc" <<<"$log" | cut -c1-160)"
    echo "$((${det:-0} - t_kill)) $((t_q - t_kill)) $((t_run - t_kill)) ${st:--} $from $to" >>"$R/$tool.raw"
    b_log "$tool kill $i: failure recorded +$((${det:-0} - t_kill)) ms, new QEMU on $to +$((t_q - t_kill)) ms, running +$((t_run - t_kill)) ms, start exec ${st:-?} ms"
}

series() # TOOL RSC DOM
{
    local i
    : >"$R/$1.raw"
    for ((i = 1; i <= N; i++)); do
        lab_exec 1 crm_resource --cleanup -r "$2" >/dev/null 2>&1
        cl_settled 60 || bad "$1: the cluster did not settle before kill $i"
        t_wait_for 30 cl_runs_on "$2" node2 >/dev/null || bad "$1: $2 is not on node2 before kill $i"
        sleep "$((1 + RANDOM % 10)).$((RANDOM % 1000))"
        kill_once "$1" "$2" "$3"
    done
}

b_log "lab up (3 cluster nodes, libvirtd)"
lab_up >"$R/lab.log" 2>&1 || { echo "FATAL: lab_up failed (see $R/lab.log)"; exit 77; }
OURS=cbo-$LAB_PREFIX PEER=cbv-$LAB_PREFIX
# shellcheck disable=SC2034
CL_DOMS=("$OURS" "$PEER")
mkdir -p "$LAB_DIR/vm"
for d in "$OURS" "$PEER"; do lab__domain_xml "$d" 48 >"$LAB_DIR/vm/$d.xml"; done
for k in 1 2 3; do
    lab_exec "$k" test -r "$LAB_DIR/vm/$PEER.xml" -a -x "$VD" ||
        bad "node$k: $LAB_DIR/vm/$PEER.xml or ocf:heartbeat:VirtualDomain not visible"
done
cl_sampler_start "$LAB_DIR/samples"
lab_cib_pcs "DROVER_VM_NAME=$OURS" "DROVER_VM_CONFIG=$LAB_DIR/vm/$OURS.xml" DROVER_VM_NODE=node2 \
    >>"$R/lab.log" 2>&1 || bad "drover.pcs.sh with vm-$OURS"
t_wait_for 90 cl_runs_on "vm-$OURS" node2 >/dev/null || bad "vm-$OURS did not start on node2"
b_log "ours: vm-$OURS (ocf:drover:vm, monitor 10 s) on node2; $N kills"
series ours "vm-$OURS" "$OURS"
# (The stop is graceful: the diskless domain has no ACPI, so it ends by destroy after the
# shutdown budget. Not waited for: it costs no CPU.)
lab_exec 1 pcs resource disable "vm-$OURS" >>"$R/lab.log" 2>&1 || bad "disable vm-$OURS"

# VirtualDomain as the peer: its defaults, monitor every 10 s, the same placement, except
# autoset_utilization_host_memory: it would publish a host_memory utilization, which drover's
# CIB gives no node (placement-strategy=utilization: cpu and hv_memory), and Pacemaker stops the
# resource "due to node availability" right after its first start.
lab_exec 1 pcs resource create "vd-$PEER" ocf:heartbeat:VirtualDomain config="$LAB_DIR/vm/$PEER.xml" \
    hypervisor=qemu:///system autoset_utilization_host_memory=false op monitor interval=10s timeout=30s start timeout=90s \
    stop timeout=90s >>"$R/lab.log" 2>&1 || bad "pcs resource create vd-$PEER"
lab_exec 1 pcs constraint location "vd-$PEER" prefers node2=50 >>"$R/lab.log" 2>&1
t_wait_for 90 cl_runs_on "vd-$PEER" node2 >/dev/null || bad "vd-$PEER did not start on node2"
b_log "peer: vd-$PEER (ocf:heartbeat:VirtualDomain, monitor 10 s) on node2; $N kills"
series vd "vd-$PEER" "$PEER"
cl_sampler_stop
cl_sampler_check "whole benchmark" >"$R/sampler.txt"
grep -q '^FAIL' "$R/sampler.txt" && bad "sampler: $(grep '^FAIL' "$R/sampler.txt")"
cat "$R/sampler.txt" >&2

# ------------------------------------------------------------------------------ tables
col() { awk -v c="$2" '$c != "-" { print $c }' "$R/$1.raw" >"$R/$1.c$2"; echo "$R/$1.c$2"; }
echo "### VM killed -> running again, Pacemaker managing it (drover $(git -C "$DR_SOURCE_DIR" describe --always --dirty 2>/dev/null))"
echo
b_table_head "kill (SIGKILL of QEMU) -> ..., monitor interval 10 s"
b_row "ocf:drover:vm + droverd: running again (libvirt)" "$(col ours 3)"
b_row "VirtualDomain: running again (libvirt)" "$(col vd 3)"
b_row "ocf:drover:vm + droverd: new QEMU process" "$(col ours 2)"
b_row "VirtualDomain: new QEMU process" "$(col vd 2)"
b_row "ocf:drover:vm + droverd: failure recorded by Pacemaker" "$(col ours 1)"
b_row "VirtualDomain: failure recorded by Pacemaker (its monitor)" "$(col vd 1)"
b_row "ocf:drover:vm: start operation alone (exec)" "$(col ours 4)"
b_row "VirtualDomain: start operation alone (exec)" "$(col vd 4)"
echo
echo "recovered on: ours $(awk '{ print $6 }' "$R/ours.raw" | sort | uniq -c | xargs), VirtualDomain $(awk '{ print $6 }' "$R/vd.raw" | sort | uniq -c | xargs)"
echo "ratio of medians (running again): VirtualDomain / ours = $(awk -v a="$(b_median "$R/vd.c3")" -v b="$(b_median "$R/ours.c3")" 'BEGIN { printf "%.1f", a / b }')"
echo "target (ours <= 1 s plus the start itself): kill -> running minus start exec, ours: $(awk '$4 != "-" { print $3 - $4 }' "$R/ours.raw" | sort -n | xargs) ms"
b_log "errors: $ERRORS"
((ERRORS == 0))
