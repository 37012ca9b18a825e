#!/bin/bash
# Drain on maintenance (issue 4 §3), on the lab's 3-node cluster with everything real: corosync,
# Pacemaker, droverd, fence_drover, tgtd, libvirtd and QEMU 10 (TCG). Two guests (160 MiB, a
# writer rewriting and checking 24 MiB at 12 MiB/s) are ocf:drover:vm resources from the
# repository's CIB and run on node1. node1 goes into standby, and every guest leaves it by live
# migration: Pacemaker ran migrate_to on node1 and migrate_from on the target, never a start;
# the guest's uptime went on and its memory checker reports zero errors; a sampler (every
# <= 100 ms, the whole test) never sees a guest's vCPU run on two nodes. node1 leaves standby,
# and the guests stay where they are: the CIB's resource-stickiness (100) outweighs the
# preference for node1 (50, pcs case), and node1's allocation score is no longer -INFINITY.
#
#   cluster_drain_test.sh [pcs]   configs/cib/drover.pcs.sh (DROVER_VM_NODE=node1 puts the
#                                 guests on node1), pcs node standby / unstandby
#   cluster_drain_test.sh crm     configs/cib/drover.crm (node2 and node3 in standby while the
#                                 guests start), crm node standby / online
# Prints the drain time (standby -> node1 runs no guest) and each guest's migration time as the
# agent measured it. Runs as root, about 3 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"

TOOL=${1:-pcs}
[[ $TOOL == pcs || $TOOL == crm ]] || {
    echo "usage: $0 [pcs|crm]" >&2
    exit 2
}
cl_setup

CL_DOMS=("dra-$LAB_PREFIX" "drb-$LAB_PREFIX") # unique on the machine
SRC=node1

standby() # NODE
{
    if [[ $TOOL == pcs ]]; then lab_exec 2 pcs node standby "$1"; else cl_crm_node standby "$1"; fi
}

unstandby() # NODE
{
    if [[ $TOOL == pcs ]]; then lab_exec 2 pcs node unstandby "$1"; else cl_crm_node online "$1"; fi
}

in_standby() # NODE
{
    [[ $(lab_exec 2 crm_attribute -t nodes -N "$1" -n standby -G -q 2>/dev/null) == on ]]
}

# ------------------------------------------------------------------------------- the test

cl_wait_machine_quiet
cl_lab_with_guests "$TOOL" "$SRC" 160 24 12

# The drain.
cl_log_mark
T_STBY=$(t_ms)
t_expect_rc 0 "$TOOL node standby $SRC" standby "$SRC"
if t_wait_for 150 cl_node_empty "$SRC"; then
    T_DRAIN=$(($(t_ms) - T_STBY))
    t_pass "$SRC drained: no guest runs there ($T_DRAIN ms after the standby)"
else
    T_DRAIN='?'
    t_fail "$SRC drained within 150 s"
fi
in_standby "$SRC" && t_pass "$SRC is in standby" || t_fail "$SRC is not in standby"
declare -A TO MIG
for d in "${CL_DOMS[@]}"; do
    TO[$d]=$(cl_where "vm-$d")
    cl_check_moved "$d" "$SRC" "${TO[$d]}" "drain"
    MIG[$d]=$CL_MIG_MS
done
# The agent's migration progress attribute (attrd_updater --private, its delete too) never
# reaches the CIB: a change there would abort the transition between migrate_to and
# migrate_from, and the resource would be placed afresh while its migrated copy runs on.
CIB_ATTR=$(cl_log_since | grep -F drover-migration | grep -E 'status-|abort|cib_perform_op')
[[ -z $CIB_ATTR ]] &&
    t_pass "drain: no drover-migration attribute in the CIB, no transition aborted by one" ||
    t_fail "drain: the progress attribute reached the CIB: $(cut -c1-220 <<<"$CIB_ATTR" | head -n 4)"
# Each migration's stop on node1 found Pacemaker's migrate_from: the targets' copies stayed.
LOG_DRAIN=$(cl_log_since)
for d in "${CL_DOMS[@]}"; do
    grep -q "vm-$d: Pacemaker ran migrate_from on ${TO[$d]}: its copy of $d stays" <<<"$LOG_DRAIN" &&
        t_pass "drain: the stop of vm-$d on $SRC saw migrate_from on ${TO[$d]}" ||
        t_fail "drain: the stop of vm-$d on $SRC did not see migrate_from on ${TO[$d]}"
done
! grep -q "never ran migrate_from" <<<"$LOG_DRAIN" && t_pass "drain: no copy was stopped on a target" ||
    t_fail "drain: $(grep "never ran migrate_from" <<<"$LOG_DRAIN" | cut -c1-200 | head -n 2)"
STATUS=$(lab_exec 2 cibadmin --query --scope status 2>&1)
if ! grep -q '<status' <<<"$STATUS"; then
    t_fail "drain: cannot read the CIB's status: $(head -c 200 <<<"$STATUS")"
elif grep -q drover-migration <<<"$STATUS"; then
    t_fail "drain: the CIB's status holds: $(grep -o '<nvpair[^>]*drover-migration[^>]*>' <<<"$STATUS" | head -n 2)"
else
    t_pass "drain: the CIB's status holds no drover-migration nvpair"
fi

# Back from maintenance: the CIB keeps the guests where they run (stickiness 100 against a
# preference of 50 for node1, or none), and node1 may run them again.
cl_log_mark
t_expect_rc 0 "$([[ $TOOL == pcs ]] && echo "pcs node unstandby" || echo "crm node online") $SRC" \
    unstandby "$SRC"
t_wait_for 30 eval "! in_standby $SRC" && t_pass "$SRC left standby" || t_fail "$SRC left standby"
t_expect_rc 0 "the cluster settles after the unstandby" cl_settled 90
sleep 2
WANT_SCORE=0
[[ $TOOL == crm ]] || WANT_SCORE=50
for d in "${CL_DOMS[@]}"; do
    cl_runs_on "vm-$d" "${TO[$d]}" && t_pass "after the unstandby $d stays on ${TO[$d]} (stickiness)" ||
        t_fail "after the unstandby $d moved: now on '$(cl_where "vm-$d")', was on ${TO[$d]}"
    s=$(cl_score "vm-$d" "$SRC")
    [[ $s == "$WANT_SCORE" ]] && t_pass "vm-$d may run on $SRC again: allocation score $s" ||
        t_fail "vm-$d's allocation score on $SRC is '$s', wanted $WANT_SCORE"
    s=$(cl_score "vm-$d" "${TO[$d]}")
    [[ $s =~ ^[0-9]+$ ]] && ((s >= 100)) && t_pass "vm-$d's score on ${TO[$d]} ($s) includes the stickiness" ||
        t_fail "vm-$d's allocation score on ${TO[$d]} is '$s', wanted >= 100"
    ! cl_log_since | grep -Eq "Initiating (start|stop|migrate_to) operation vm-${d}_" &&
        t_pass "after the unstandby nothing was done to vm-$d" ||
        t_fail "after the unstandby vm-$d was acted on: $(cl_log_since | grep -E "Initiating .* vm-${d}_" | cut -c1-160)"
    cl_guest_check "${TO[$d]}" "$d" "${CL_BEFORE[$d]}" "after the unstandby"
done

cl_sampler_stop
cl_sampler_check "whole test"
t_log "times ($TOOL): drain (standby -> $SRC empty) $T_DRAIN ms; migrations by the agent:" \
    "${CL_DOMS[0]} ${MIG[${CL_DOMS[0]}]} ms to ${TO[${CL_DOMS[0]}]}, ${CL_DOMS[1]} ${MIG[${CL_DOMS[1]}]} ms to ${TO[${CL_DOMS[1]}]};" \
    "test $(($(t_ms) - CL_T0)) ms"
t_summary
