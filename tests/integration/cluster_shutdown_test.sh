#!/bin/bash
# Clean node shutdown (issue 4 §3), on the lab's 3-node cluster with everything real: corosync,
# Pacemaker, droverd, fence_drover, tgtd, libvirtd and QEMU 10 (TCG). Two guests (128 MiB, a
# writer rewriting and checking 16 MiB at 8 MiB/s) are ocf:drover:vm resources from
# configs/cib/drover.crm and run on node1 (node2 and node3 in standby while they start).
# node1's cluster stack is stopped cleanly (lab_node_stop: Pacemaker, corosync, droverd,
# libvirtd, the node): before Pacemaker there exits, every guest has left node1 by live
# migration (migrate_to on node1, migrate_from on the target, no start anywhere; the guest's
# uptime went on; zero checker errors); nobody is fenced (stonith_admin --history lists no
# reboot or off of node1, and node1's key stays on the fence LUN); the survivors keep quorum.
# node1 boots again, is unfenced, rejoins, and the guests stay where they are (stickiness).
# A sampler (every <= 100 ms, the whole test) never sees a guest's vCPU run on two nodes.
# Prints the stop time and each guest's migration time. Runs as root, about 2-3 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"

cl_setup

CL_DOMS=("sha-$LAB_PREFIX" "shb-$LAB_PREFIX") # unique on the machine
SRC=node1
OBSERVER=$LAB_IQN_BASE:observer # an initiator of its own, never one of droverd's

key_listed() # READER NODE: NODE's key is on the fence LUN, as READER reads it
{
    lab_exec "$1" "$DROVER" keys --initiator "$OBSERVER" "$(lab_lun_url fence)" 2>/dev/null |
        grep -qx "$("$DROVER" key "$(lab__cluster_name)" "$2")"
}

sees_online() # NODE COUNT: NODE sees COUNT nodes online, with quorum
{
    local on q dc
    read -r on q dc <<<"$(lab_cluster_state "$1")"
    [[ $on == "$2" && $q == 1 ]]
}

# ------------------------------------------------------------------------------- the test

cl_wait_machine_quiet
cl_lab_with_guests crm "$SRC" 128 16 8
FENCED_BEFORE=$(lab_exec 2 stonith_admin --history '*' --verbose 2>/dev/null |
    grep -cE '(reboot|off) of ') || true

# The clean stop.
cl_log_mark
T_STOP=$(t_ms)
t_expect_rc 0 "lab_node_stop $SRC" lab_node_stop "$SRC"
T_STOPPED=$(($(t_ms) - T_STOP))
t_log "$SRC stopped in $T_STOPPED ms"
t_expect_rc 0 "node2 sees 2 nodes online, with quorum" t_wait_for 30 sees_online node2 2
declare -A TO MIG
for d in "${CL_DOMS[@]}"; do
    TO[$d]=$(cl_where "vm-$d")
    [[ -n ${TO[$d]} && ${TO[$d]} != "$SRC" ]] && t_pass "$d runs on ${TO[$d]} after the stop" ||
        t_fail "$d runs on '${TO[$d]}' after the stop"
    cl_check_moved "$d" "$SRC" "${TO[$d]}" "stop"
    MIG[$d]=$CL_MIG_MS
done
H=$(lab_exec 2 stonith_admin --history '*' --verbose 2>&1)
FENCED_AFTER=$(grep -cE '(reboot|off) of ' <<<"$H") || true
[[ $FENCED_AFTER == "$FENCED_BEFORE" ]] && ! grep -qE "(reboot|off) of $SRC" <<<"$H" &&
    t_pass "nobody was fenced: stonith_admin --history has no reboot/off ($(grep -c 'unfencing of' <<<"$H") unfencings)" ||
    t_fail "a node was fenced: $(grep -E '(reboot|off) of ' <<<"$H")"
key_listed node2 "$SRC" && t_pass "$SRC's key stays on the fence LUN" ||
    t_fail "$SRC's key left the fence LUN"

# The node comes back: unfenced, rejoined; the guests stay (stickiness).
cl_log_mark
T_START=$(t_ms)
t_expect_rc 0 "lab_node_start $SRC" lab_node_start "$SRC"
t_expect_rc 0 "3 nodes online with quorum again" lab_cluster_wait 3 60
t_wait_for 60 cl_droverd_registered "$SRC" && t_pass "$SRC unfenced and rejoined ($(($(t_ms) - T_START)) ms)" ||
    t_fail "$SRC unfenced after its start"
t_expect_rc 0 "the cluster settles" cl_settled 90
for d in "${CL_DOMS[@]}"; do
    cl_runs_on "vm-$d" "${TO[$d]}" && t_pass "$d stays on ${TO[$d]} (stickiness)" ||
        t_fail "$d moved: now on '$(cl_where "vm-$d")'"
    cl_guest_check "${TO[$d]}" "$d" "${CL_BEFORE[$d]}" "after the rejoin"
done
H=$(lab_exec 2 stonith_admin --history '*' --verbose 2>&1)
! grep -qE '(reboot|off) of ' <<<"$H" && t_pass "still nobody fenced" ||
    t_fail "a node was fenced: $(grep -E '(reboot|off) of ' <<<"$H")"

cl_sampler_stop
cl_sampler_check "whole test"
t_log "times: lab_node_stop $SRC $T_STOPPED ms; migrations by the agent:" \
    "${CL_DOMS[0]} ${MIG[${CL_DOMS[0]}]} ms to ${TO[${CL_DOMS[0]}]}, ${CL_DOMS[1]} ${MIG[${CL_DOMS[1]}]} ms to ${TO[${CL_DOMS[1]}]};" \
    "test $(($(t_ms) - CL_T0)) ms"
t_summary
