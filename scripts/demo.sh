#!/bin/bash
# drover's demo: a three-node failover cluster for VMs on this one machine, with everything real.
#
#   Three nodes (namespaces) run corosync, Pacemaker, libvirtd and droverd; a storage node runs
#   tgtd with the fencing LUN. The CIB comes from configs/cib/drover.pcs.sh: fence_drover with
#   unfencing, three VMs as ocf:drover:vm resources (QEMU 10, TCG, Debian's kernel; each guest
#   rewrites and checks its own memory and prints a heartbeat with its uptime). Then:
#     1. a live migration by `pcs resource move`: the guest goes on, no restart;
#     2. node1 drained for maintenance (`pcs node standby`): its VMs live-migrate away;
#     3. the node with the most VMs is killed (a power cut): the survivors see it leave the
#        membership, fence it with fence_drover (its key leaves the LUN), and only then start its
#        VMs; the node boots again, is unfenced and rejoins.
#   A sampler looks at every node's QEMUs every ~50 ms the whole time: no VM may run on two
#   nodes at once. The run ends with a timeline of what happened when, and tears down.
#
# Installs what it needs (apt-get), builds into build-demo/ (DR_BUILD_DIR to use another
# build), stops everything it started by PID at the end, even on failure. Run as root; takes
# about 5 minutes on 2 cores. Exit status 0 when every check held, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
export DR_BUILD_DIR=${DR_BUILD_DIR:-$SRC/build-demo}
export DR_SOURCE_DIR=$SRC

[[ $(id -u) == 0 ]] || {
    echo "run as root (namespaces, tgtd, libvirtd, corosync)" >&2
    exit 1
}
scripts/deps.sh || exit 1
if [[ ${DEMO_NO_BUILD:-0} != 1 ]]; then
    echo "building drover into $DR_BUILD_DIR (log: $DR_BUILD_DIR/demo-build.log)"
    mkdir -p "$DR_BUILD_DIR" || exit 1
    { cmake -S "$SRC" -B "$DR_BUILD_DIR" -DDR_TESTS=OFF && cmake --build "$DR_BUILD_DIR" -j2; } \
        >"$DR_BUILD_DIR/demo-build.log" 2>&1 || {
        tail -30 "$DR_BUILD_DIR/demo-build.log"
        exit 1
    }
fi

. tests/integration/lib.sh
. tests/integration/cluster_lib.sh
export LAB_GUEST_NET=1 # guests on a network of their own, with a client that pings them
cl_setup # packages, the lab library with a cluster, libvirt and QEMU 10; trap: lab down

T0=$(t_ms)
EVENTS=()
say() { printf '\n\033[1m[%7.3f s] %s\033[0m\n' "$(awk -v t="$(($(t_ms) - T0))" 'BEGIN{print t/1000}')" "$*"; }
mark() { EVENTS+=("$(($(t_ms) - T0))|$*"); } # MS_EPOCH|TEXT with MS relative to T0
mark_at() { EVENTS+=("$(($1 - T0))|$2"); }  # EPOCH_MS TEXT
run() { printf '  $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; return "${PIPESTATUS[0]}"; }
show() { lab_exec "$(lab__cluster_node)" pcs status resources 2>&1 | grep -E 'vm-' | sed 's/^ */    /'; }
keys() # NODE: the keys registered on the fence LUN, as NODE reads them, with their nodes' names
{
    local k n out
    out=$(lab_exec "$1" "$DROVER" keys "$(lab_lun_url fence)") || return 1
    for n in node1 node2 node3; do
        k=$("$DROVER" key "$(lab__cluster_name)" "$n")
        out=$(sed "s/^\($k\)\$/\1  $n/; s/key=\($k\) /key=\1 ($n) /" <<<"$out")
    done
    echo "$out"
}
# What a client that pinged DOM every 5 ms since lab_guest_ping_start saw; never two copies
# answering (a duplicate reply). Into the timeline at AT_MS, or when its longest gap ended.
client_saw() # DOM WHAT [AT_MS]
{
    local r
    r=$(lab_guest_ping_stop "$1") || {
        t_fail "$2: the client's ping of $1"
        return 1
    }
    [[ $(t_stat dup "$r") == 0 ]] && t_pass "$2: no duplicate reply from $1 (one copy answered)" ||
        t_fail "$2: duplicate replies from $1: $r"
    (($(t_stat last "$r") > $(t_stat gap_end "$r") - 1)) && t_pass "$2: the client reaches $1 at the end" ||
        t_fail "$2: the client no longer reaches $1: $r"
    mark_at "${3:-$(t_stat outage_end "$r")}" "  a client pinging $1 every 5 ms: outage $(t_stat outage_ms "$r") ms (longest wait for a reply), $(t_stat lost "$r") of $(t_stat sent "$r") pings lost"
}
client_back() # DOM MS: the client's last reply from DOM came more than a second after MS
{
    local l
    l=$(tail -n 1 "$LAB_DIR/ping-$1.log" 2>/dev/null)
    [[ $l == "["*"]"*icmp_seq=* ]] || return 1
    l=${l#[}
    ((${l%%.*} * 1000 > $2 + 1000))
}
agent_line() # DOM TO: the agent's "migrated" line since cl_log_mark, from "in N ms" on
{
    cl_log_since | grep -o "VM $1 migrated to $2 in [0-9]* ms[^]|]*" | tail -n 1 |
        sed 's/.* in /in /; s/ *$//'
}

# Each node offers its 2 cores as utilization (cpu=2) and each guest has one vCPU, so the
# scheduler places at most two guests on a node.
CL_DOMS=(web1 web2 db1)
declare -A CL_PLACE=([db1]=node3)
say "bringing up the lab: 3 cluster nodes + storage; VMs web1, web2 on node1, db1 on node3"
echo "  (nodes: corosync with two knet links, Pacemaker, libvirtd, droverd; storage: tgtd)"
cl_lab_with_guests pcs node1 128 16 4
mark "lab up; the CIB applied with configs/cib/drover.pcs.sh; web1, web2 run on node1, db1 on node3"
run show
run keys node1

# ------------------------------------------------------------------------ 1. live migration
say "1. live migration: pcs resource move vm-web1 node2"
cl_log_mark
lab_guest_ping_start web1 >/dev/null
t=$(t_ms)
run lab_exec 2 pcs resource move vm-web1 node2
T_DONE=$(t_ms)
if t_wait_for 60 cl_runs_on vm-web1 node2; then
    T_DONE=$(t_ms)
    mark_at "$T_DONE" "pcs resource move vm-web1 node2: runs on node2; pcs returned after $((T_DONE - t)) ms (it waits for the cluster, then drops its constraint)"
else
    t_fail "vm-web1 runs on node2 a minute after pcs resource move"
fi
cl_check_moved web1 node1 node2 "pcs resource move"
mark_at "$T_DONE" "  web1 live-migrated, not restarted; the agent: $(agent_line web1 node2)"
client_saw web1 "pcs resource move" "$T_DONE"
run show

# -------------------------------------------------------------------------------- 2. drain
say "2. node1 into maintenance: pcs node standby node1 (its VMs live-migrate away)"
DRAINED=()
for d in "${CL_DOMS[@]}"; do [[ $(cl_where "vm-$d") != node1 ]] || DRAINED+=("$d"); done
cl_log_mark
for d in "${DRAINED[@]}"; do lab_guest_ping_start "$d" >/dev/null; done
t=$(t_ms)
run lab_exec 2 pcs node standby node1
T_DONE=$(t_ms)
if t_wait_for 150 cl_node_empty node1; then
    T_DONE=$(t_ms)
    mark_at "$T_DONE" "pcs node standby node1: ${DRAINED[*]} gone from node1 after $((T_DONE - t)) ms"
else
    t_fail "node1 drained within 150 s"
fi
for d in "${DRAINED[@]}"; do
    to=$(cl_where "vm-$d")
    cl_check_moved "$d" node1 "$to" "drain"
    mark_at "$T_DONE" "  $d live-migrated to $to, not restarted; the agent: $(agent_line "$d" "$to")"
    client_saw "$d" "drain" "$T_DONE"
done
run lab_exec 2 pcs node unstandby node1
t_expect_rc 0 "the cluster settles after pcs node unstandby node1" cl_settled 90
mark "node1 back from maintenance; the VMs stay where they run (stickiness)"
run show

# ------------------------------------------------------------------------ 3. node failure
declare -A ON=()
VICTIM= most=0
for d in "${CL_DOMS[@]}"; do
    ON[$d]=$(cl_where "vm-$d")
done
for n in node1 node2 node3; do
    c=0
    for d in "${CL_DOMS[@]}"; do [[ ${ON[$d]} != "$n" ]] || c=$((c + 1)); done
    ((c <= most)) || { VICTIM=$n most=$c; }
done
VMS=()
for d in "${CL_DOMS[@]}"; do [[ ${ON[$d]} != "$VICTIM" ]] || VMS+=("$d"); done
DC=$(lab_cluster_state 1 | awk '{print $3}')
say "3. power cut: killing $VICTIM, which runs ${VMS[*]} (the DC is $DC)"
OBSERVER=$LAB_IQN_BASE:observer
key_gone() # NODE: a survivor reads the fence LUN's keys; NODE's key is not among them
{
    local keys
    keys=$(lab_exec "$SURV" "$DROVER" keys --initiator "$OBSERVER" "$(lab_lun_url fence)" 2>/dev/null |
        grep -E '^0x[0-9a-f]{16}$') && [[ -n $keys ]] &&
        ! grep -qx "$("$DROVER" key "$(lab__cluster_name)" "$1")" <<<"$keys"
}
recovered() # every VM of VMS runs on a survivor
{
    local d w
    for d in "${VMS[@]}"; do
        w=$(cl_where "vm-$d")
        [[ -n $w && $w != "$VICTIM" ]] || return 1
    done
}
SURV=node1
[[ $VICTIM != node1 ]] || SURV=node2
cl_log_mark
for d in "${VMS[@]}"; do lab_guest_ping_start "$d" >/dev/null; done
T_LAST=
T_KILL=$(t_ms)
t_expect_rc 0 "lab_node_kill $VICTIM" lab_node_kill "$VICTIM"
mark_at "$T_KILL" "$VICTIM killed (SIGKILL of everything in it: corosync, Pacemaker, droverd, QEMUs)"
if t_wait_for 60 key_gone "$VICTIM"; then
    t_pass "$VICTIM fenced: its key left the LUN"
else
    t_fail "$VICTIM fenced: its key left the LUN within 60 s"
fi
if t_wait_for 90 recovered; then
    t_pass "${VMS[*]} recovered on the survivors"
else
    t_fail "${VMS[*]} recovered within 90 s"
fi
T_LEFT=$(cl_first_log_ms "A new membership .* was formed. Members left" "$T_KILL" corosync) || T_LEFT=
T_FENCE=$(cl_first_log_ms "Operation '(reboot|off)' targeting $VICTIM by node[0-9]+ .*: OK" \
    "$T_KILL") || T_FENCE=
[[ -z $T_LEFT ]] || mark_at "$T_LEFT" "corosync: $VICTIM left the membership ($((T_LEFT - T_KILL)) ms after the kill; token 3000 ms + consensus)"
[[ -z $T_FENCE ]] || mark_at "$T_FENCE" "fence_drover: $VICTIM fenced, its key off the LUN (+$((T_FENCE - ${T_LEFT:-T_KILL})) ms)"
for d in "${VMS[@]}"; do
    to=$(cl_where "vm-$d")
    # The cluster names the node as soon as the start is under way: wait for its result.
    ts=
    t_wait_for 60 cl_first_log_ms "Result of start operation for vm-$d on $to: ok" "$T_KILL" &&
        ts=$(cl_first_log_ms "Result of start operation for vm-$d on $to: ok" "$T_KILL")
    if [[ -n $ts && -n $T_FENCE ]] && ((ts > T_FENCE)); then
        t_pass "$d started on $to after the fence (+$((ts - T_FENCE)) ms)"
        mark_at "$ts" "$d running on $to ($((ts - T_KILL)) ms after the kill, $((ts - T_FENCE)) ms after the fence)"
        ((ts < ${T_LAST:-0})) || T_LAST=$ts
    else
        t_fail "$d started on $to after the fence (start ok at '${ts:-?}', fence at '${T_FENCE:-?}')"
    fi
    t_expect_out 0 "^$to\$" "$d's QEMU runs on $to only" cl_qemu_nodes "$d"
    # A cold start after a failover: its first heartbeat on TO's console since the kill.
    if t_wait_for 120 eval '[[ -n $(cl_first_beat_since "$to" "$d") ]]'; then
        t_pass "$d boots again on $to (a failover restarts the guest): $(cl_first_beat_since "$to" "$d")"
    else
        t_fail "$d boots again on $to within 120 s"
    fi
    t_wait_for 60 client_back "$d" "$T_KILL"
    client_saw "$d" "failover"
done
[[ -z $T_LEFT || -z $T_FENCE || -z ${T_LAST:-} ]] ||
    mark_at "$T_LAST" "failover of $VICTIM in $((T_LAST - T_KILL)) ms: detection $((T_LEFT - T_KILL)) ms, fencing $((T_FENCE - T_LEFT)) ms, starts $((T_LAST - T_FENCE)) ms"
run lab_exec "$SURV" stonith_admin --history "$VICTIM" --verbose
run keys "$SURV"
run show

say "$VICTIM boots again: Pacemaker unfences it (fence_drover on) and it rejoins"
t=$(t_ms)
t_expect_rc 0 "lab_node_start $VICTIM" lab_node_start "$VICTIM"
t_expect_rc 0 "3 nodes online with quorum" lab_cluster_wait 3 90
if t_wait_for 60 cl_droverd_registered "$VICTIM"; then
    mark "$VICTIM rejoined and unfenced ($(($(t_ms) - t)) ms after its start)"
else
    t_fail "$VICTIM unfenced after its start"
fi
t_expect_rc 0 "the cluster settles" cl_settled 90
run show
run keys "$SURV"

cl_sampler_stop
cl_sampler_check "the whole demo"

say "timeline (ms from the lab's start)"
printf '  %9s  %s\n' "t (ms)" "event"
printf '%s\n' "${EVENTS[@]}" | sort -s -t'|' -k1,1n | while IFS='|' read -r ms text; do
    printf '  %9s  %s\n' "$ms" "$text"
done
echo
t_summary
