#!/bin/bash
# pcs and crm resource operations against the live lab (issue 4 §3), with everything real:
# corosync, Pacemaker, droverd, fence_drover, tgtd, libvirtd and QEMU 10 (TCG). The cluster
# part of the CIB comes from configs/cib/drover.pcs.sh; then two guests (128 MiB, a writer
# rewriting and checking 16 MiB at 8 MiB/s) become ocf:drover:vm resources by hand, as an admin
# types them: vm-A with `pcs resource create`, vm-B with `crm configure primitive`.
#   - `pcs resource move vm-A NODE`: a live migration (migrate_to + migrate_from, no start, the
#     guest's uptime goes on, zero checker errors); pcs 0.11 removes its constraint itself once
#     the resource runs there, and the resource stays (stickiness);
#   - `pcs resource move-with-constraint vm-A NODE` (pcs 0.10's move) leaves cli-prefer-vm-A,
#     and `pcs resource clear vm-A` removes it: vm-A stays where it runs;
#   - `crm resource move vm-B NODE`: a live migration, cli-prefer-vm-B is there;
#     `crm resource clear vm-B` removes it: vm-B stays where it runs.
# A sampler (every <= 100 ms, the whole test) never sees a guest's vCPU run on two nodes.
# Prints each move's time (command -> running there) and the agent's migration time. Runs as
# root, about 3 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"

cl_setup

A=mva-$LAB_PREFIX # unique on the machine
B=mvb-$LAB_PREFIX
CL_DOMS=("$A" "$B")
declare -A CL_BEFORE

has_constraint() # ID
{
    lab_exec 2 cibadmin -Q -o constraints 2>/dev/null | grep -q "id=\"$1\""
}

other_node() # NODE [NODE] -> the first node that is neither
{
    local k
    for k in 1 2 3; do
        [[ node$k == "${1:-}" || node$k == "${2:-}" ]] || {
            echo "node$k"
            return 0
        }
    done
}

# A resource's parameters as the CIB scripts give them (the lab's migration network and the
# peers' libvirtd URIs), as "name=value" words.
vm_params() # DOM XML
{
    local e mig uri
    e=$(lab__cib_env) || return 1
    mig=$(sed -n 's/^DROVER_VM_MIGRATION_NETWORK=//p' <<<"$e")
    uri=$(sed -n 's/^DROVER_VM_REMOTE_URI=//p' <<<"$e")
    printf '%s\n' "config=$2" "domain=$1" "migration_network=$mig" "remote_uri=$uri"
}

# MOVE_CMD... moves RESOURCE (DOM) to TO: checks the live migration and the guest; sets MOVE_MS
# (command -> runs on TO) and MIG_MS (the agent's measure).
move_check() # WHAT RESOURCE DOM TO MOVE_CMD...
{
    local what=$1 rsc=$2 dom=$3 to=$4 from t0
    shift 4
    from=$(cl_where "$rsc")
    CL_BEFORE[$dom]=$(lab_guest_stats "$from" "$dom")
    cl_log_mark
    t0=$(t_ms)
    t_expect_rc 0 "$what: $* ($from -> $to)" lab_exec 2 "$@"
    if t_wait_for 90 cl_runs_on "$rsc" "$to"; then
        MOVE_MS=$(($(t_ms) - t0))
        t_pass "$what: $rsc runs on $to ($MOVE_MS ms after the command)"
    else
        MOVE_MS='?'
        t_fail "$what: $rsc runs on $to (now on '$(cl_where "$rsc")')"
    fi
    t_expect_rc 0 "$what: the cluster settles" cl_settled 90
    cl_runs_on "$rsc" "$to" && t_pass "$what: $rsc still runs on $to once settled" ||
        t_fail "$what: $rsc left $to: now on '$(cl_where "$rsc")'"
    cl_check_moved "$dom" "$from" "$to" "$what"
    MIG_MS=$CL_MIG_MS
}

# CLEAR_CMD... removes RESOURCE's cli-prefer constraint; the resource stays on NODE
# (stickiness) and nothing is done to it.
clear_check() # RESOURCE NODE CLEAR_CMD...
{
    local rsc=$1 node=$2
    shift 2
    cl_log_mark
    t_expect_rc 0 "$*" lab_exec 2 "$@"
    ! has_constraint "cli-prefer-$rsc" && t_pass "$1 $2 $3 removed cli-prefer-$rsc" ||
        t_fail "cli-prefer-$rsc is still there after $1 $2 $3"
    t_expect_rc 0 "the cluster settles after the clear" cl_settled 90
    cl_runs_on "$rsc" "$node" && t_pass "$rsc stays on $node after the clear (stickiness)" ||
        t_fail "$rsc left $node after the clear: now on '$(cl_where "$rsc")'"
    ! cl_log_since | grep -Eq "Initiating (start|stop|migrate_to) operation ${rsc}_" &&
        t_pass "the clear did nothing to $rsc" || t_fail "the clear acted on $rsc"
}

# ------------------------------------------------------------------------------- the test

cl_wait_machine_quiet
T0=$(t_ms)
if lab_up; then t_pass "lab up: 3 cluster nodes with libvirtd, QEMU $LAB_EMULATOR ($(($(t_ms) - T0)) ms)"; else
    t_fail "lab up"
    exit 1
fi
XA=$(cl_guest_xml "$A" 128 16 8) && XB=$(cl_guest_xml "$B" 128 16 8) || {
    t_fail "guest XMLs"
    exit 1
}
cl_sampler_start "$LAB_DIR/samples"
t_expect_rc 0 "configs/cib/drover.pcs.sh (the cluster part)" lab_cib_pcs
for k in 1 2 3; do
    t_wait_for 60 cl_droverd_registered "$k" && t_pass "node$k unfenced" || t_fail "node$k unfenced"
done

mapfile -t PA < <(vm_params "$A" "$XA")
t_expect_rc 0 "pcs resource create vm-$A ocf:drover:vm ... meta allow-migrate=true" \
    lab_exec 2 pcs resource create "vm-$A" ocf:drover:vm "${PA[@]}" \
    op monitor interval=10s timeout=30s migrate_to timeout=120s migrate_from timeout=60s \
    meta allow-migrate=true
mapfile -t PB < <(vm_params "$B" "$XB")
t_expect_rc 0 "crm configure primitive vm-$B ocf:drover:vm ... meta allow-migrate=true" \
    lab_crm 2 configure primitive "vm-$B" ocf:drover:vm params "${PB[@]}" \
    op monitor interval=10s timeout=30s op migrate_to timeout=120s interval=0 \
    op migrate_from timeout=60s interval=0 meta allow-migrate=true
for d in "$A" "$B"; do
    if t_wait_for 120 eval '[[ -n $(cl_where "vm-$d") ]]'; then
        t_pass "vm-$d started on $(cl_where "vm-$d")"
    else
        t_fail "vm-$d started"
        exit 1
    fi
done
t_expect_rc 0 "the cluster settles" cl_settled 90
for d in "$A" "$B"; do
    n=$(cl_where "vm-$d")
    st=$(lab_guest_wait "$n" "$d" 0 120) && cl_guest_progress "$n" "$d" "$st" 90 >/dev/null &&
        t_pass "$d boots and writes on $n" || {
        t_fail "$d boots and writes on $n"
        exit 1
    }
done
t_expect_out 0 "^true$" "vm-$A (pcs) has allow-migrate=true" \
    lab_exec 2 crm_resource -r "vm-$A" -m -g allow-migrate
t_expect_out 0 "^true$" "vm-$B (crm) has allow-migrate=true" \
    lab_exec 2 crm_resource -r "vm-$B" -m -g allow-migrate

# pcs resource move: pcs 0.11 removes the constraint itself once the resource moved.
TO=$(other_node "$(cl_where "vm-$A")")
move_check "pcs resource move" "vm-$A" "$A" "$TO" pcs resource move "vm-$A" "$TO"
T_PCS_MOVE=$MOVE_MS M_PCS_MOVE=$MIG_MS
! has_constraint "cli-prefer-vm-$A" && ! has_constraint "cli-ban-vm-$A-on-$TO" &&
    t_pass "pcs resource move left no constraint behind" ||
    t_fail "pcs resource move left a constraint: $(lab_exec 2 cibadmin -Q -o constraints | grep -o 'id="cli-[^"]*"')"

# pcs resource move-with-constraint + pcs resource clear.
TO=$(other_node "$(cl_where "vm-$A")" "$TO")
move_check "pcs resource move-with-constraint" "vm-$A" "$A" "$TO" \
    pcs resource move-with-constraint "vm-$A" "$TO"
T_PCS_MWC=$MOVE_MS M_PCS_MWC=$MIG_MS
has_constraint "cli-prefer-vm-$A" && t_pass "cli-prefer-vm-$A is in the CIB" ||
    t_fail "no cli-prefer-vm-$A after move-with-constraint"
clear_check "vm-$A" "$TO" pcs resource clear "vm-$A"

# crm resource move + crm resource clear.
TO=$(other_node "$(cl_where "vm-$B")")
move_check "crm resource move" "vm-$B" "$B" "$TO" crm resource move "vm-$B" "$TO"
T_CRM_MOVE=$MOVE_MS M_CRM_MOVE=$MIG_MS
has_constraint "cli-prefer-vm-$B" && t_pass "crm resource move left cli-prefer-vm-$B" ||
    t_fail "no cli-prefer-vm-$B after crm resource move"
clear_check "vm-$B" "$TO" crm resource clear "vm-$B"

cl_sampler_stop
cl_sampler_check "whole test"
t_log "times (ms, command -> running there / the agent's migration): pcs move $T_PCS_MOVE/$M_PCS_MOVE," \
    "pcs move-with-constraint $T_PCS_MWC/$M_PCS_MWC, crm move $T_CRM_MOVE/$M_CRM_MOVE;" \
    "test $(($(t_ms) - T0)) ms"
t_summary
