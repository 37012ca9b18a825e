#!/bin/bash
# A migration Pacemaker never completed (a transition aborted between migrate_to and
# migrate_from), on the lab's 3-node cluster with everything real: corosync, Pacemaker,
# droverd, fence_drover, tgtd, libvirtd and QEMU 10 (TCG). One guest (128 MiB, a writer
# rewriting and checking 16 MiB at 8 MiB/s) is an ocf:drover:vm resource from the repository's
# CIB, running on node1.
#   - abandoned: the resource is unmanaged (Pacemaker leaves it alone); the agent's migrate_to
#     runs on node1 by hand, with the environment Pacemaker gives it, and moves the guest to
#     node2; no migrate_from runs. The agent's stop on node1 (as Pacemaker's stop of the new
#     transition) must then stop the copy on node2, through node2's libvirt, say why, and leave
#     no QEMU of the guest on any node;
#   - completed: managed again and started on node1, `pcs resource move` live-migrates it to
#     node3 (migrate_to, migrate_from, then stop on node1): that stop leaves node3's copy alone,
#     the guest's uptime goes on, and the agent says Pacemaker ran migrate_from there.
# A sampler (every <= 100 ms, the whole test) never sees the guest's vCPU run on two nodes.
# Runs as root, about 3 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"

cl_setup

D=dro-$LAB_PREFIX # unique on the machine
RSC=vm-$D
CL_DOMS=("$D")
AGENT=/usr/lib/ocf/resource.d/drover/vm # what Pacemaker runs (the lab's overlay: the build's)

param() # NAME -> the resource's instance attribute, as the CIB holds it
{
    lab_exec 2 crm_resource -r "$RSC" -g "$1" -Q 2>/dev/null
}

# The agent's ACTION on NODE with Pacemaker's environment for it (OCF_RESKEY_* from the CIB,
# CRM_meta_*); its output (the agent's log) in AGENT_OUT.
agent() # NODE ACTION [VAR=VALUE...]
{
    local node=$1 action=$2 rc=0
    shift 2
    AGENT_OUT=$(lab_exec "$node" env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="$RSC" \
        OCF_RESOURCE_TYPE=vm OCF_RESOURCE_PROVIDER=drover OCF_RA_VERSION_MAJOR=1 \
        OCF_RA_VERSION_MINOR=1 OCF_RESKEY_crm_feature_set=3.16.2 \
        OCF_RESKEY_config="$CONFIG" OCF_RESKEY_remote_uri="$REMOTE_URI" \
        OCF_RESKEY_migration_network="$MIGRATION_NETWORK" OCF_RESKEY_CRM_meta_name="$action" \
        "$@" "$AGENT" "$action" 2>&1) || rc=$?
    return "$rc"
}

domstate() # NODE -> the guest's state in that node's libvirt ("" when it has none)
{
    lab_exec "$1" virsh -c qemu:///system domstate "$D" 2>/dev/null | head -n 1
}

runs_nowhere() # no node's libvirt has it running, and no QEMU of it runs anywhere
{
    local k s
    for k in 1 2 3; do
        s=$(domstate "node$k")
        [[ -z $s || $s == "shut off" ]] || return 1
    done
    [[ -z $(cl_qemu_nodes "$D") ]]
}

# ------------------------------------------------------------------------------- the test

cl_wait_machine_quiet
cl_lab_with_guests pcs node1 128 16 8
CONFIG=$(param config)
REMOTE_URI=$(param remote_uri)
MIGRATION_NETWORK=$(param migration_network)
[[ -n $CONFIG && -n $REMOTE_URI ]] &&
    t_pass "$RSC's parameters from the CIB: config $CONFIG, remote_uri $REMOTE_URI" || {
    t_fail "$RSC's parameters from the CIB: config '$CONFIG', remote_uri '$REMOTE_URI'"
    exit 1
}

# --- abandoned: migrate_to by hand, no migrate_from, then the source's stop.
t_expect_rc 0 "pcs resource unmanage $RSC" lab_exec 2 pcs resource unmanage "$RSC"
t_wait_for 30 eval "[[ \$(lab_exec 2 crm_resource -r $RSC --meta -g is-managed -Q 2>/dev/null) == false ]]" &&
    t_pass "$RSC is unmanaged" || t_fail "$RSC is unmanaged"
cl_log_mark
if agent node1 migrate_to OCF_RESKEY_CRM_meta_migrate_source=node1 \
    OCF_RESKEY_CRM_meta_migrate_target=node2 OCF_RESKEY_CRM_meta_timeout=120000; then
    t_pass "abandoned: the agent's migrate_to on node1 (target node2): ok"
else
    t_fail "abandoned: the agent's migrate_to on node1 (target node2) failed: $(tail -n 5 <<<"$AGENT_OUT")"
    exit 1
fi
t_log "abandoned: migrate_to: $(grep -o "VM $D migrated to node2 in [0-9]* ms" <<<"$AGENT_OUT" | tail -n 1)"
[[ $(domstate node2) == running ]] && t_pass "abandoned: node2's libvirt runs $D" ||
    t_fail "abandoned: node2's libvirt has $D '$(domstate node2)', not running"
t_expect_out 0 "^node2\$" "abandoned: $D's QEMU is on node2 only" cl_qemu_nodes "$D"
lab_exec node1 test -s "/run/drover/vm/.migrated-$RSC" &&
    t_pass "abandoned: the agent recorded the hand-over on node1: $(lab_exec node1 cat "/run/drover/vm/.migrated-$RSC")" ||
    t_fail "abandoned: no /run/drover/vm/.migrated-$RSC on node1"

# Pacemaker's stop of the new transition, on the source: no migrate_from ran on node2.
if agent node1 stop OCF_RESKEY_CRM_meta_timeout=60000; then
    t_pass "abandoned: the agent's stop on node1: ok"
else
    t_fail "abandoned: the agent's stop on node1 failed: $(tail -n 5 <<<"$AGENT_OUT")"
fi
grep -q "migrate_to moved $D to node2 but Pacemaker never ran migrate_from there: stopped that copy" <<<"$AGENT_OUT" &&
    t_pass "abandoned: the agent says why: $(grep -o "migrate_to moved $D .*" <<<"$AGENT_OUT" | head -n 1)" ||
    t_fail "abandoned: the agent did not say it stopped node2's copy: $(tail -n 6 <<<"$AGENT_OUT")"
for k in 1 2 3; do
    s=$(domstate "node$k")
    [[ -z $s || $s == "shut off" ]] && t_pass "abandoned: node$k's libvirt does not run $D ('$s')" ||
        t_fail "abandoned: node$k's libvirt has $D $s"
done
t_expect_out 0 "^\$" "abandoned: no QEMU of $D on any node" cl_qemu_nodes "$D"
! lab_exec node1 test -e "/run/drover/vm/.migrated-$RSC" &&
    t_pass "abandoned: the record is gone once settled" || t_fail "abandoned: the record is still there"
! cl_log_since | grep -Eq "Initiating (start|stop|migrate_to|migrate_from) operation ${RSC}_" &&
    t_pass "abandoned: Pacemaker did nothing to $RSC meanwhile (unmanaged)" ||
    t_fail "abandoned: Pacemaker acted on $RSC: $(cl_log_since | grep -E "Initiating .* ${RSC}_" | cut -c1-200 | head -n 3)"

# --- completed: Pacemaker's own live migration; the stop on node1 leaves the target's copy
# alone. To node3: the stop above left the guest's definition on node2, shut off, and the lab's
# XML has no <uuid>, so node1's define gave it a new one and libvirt on node2 would refuse the
# incoming domain ("already exists with uuid").
cl_log_mark
t_expect_rc 0 "pcs resource manage $RSC" lab_exec 2 pcs resource manage "$RSC"
t_expect_rc 0 "pcs resource cleanup $RSC (its probes find it stopped)" \
    lab_exec 2 pcs resource cleanup "$RSC"
if t_wait_for 120 cl_runs_on "$RSC" node1; then
    t_pass "completed: Pacemaker started $RSC on node1 again"
else
    t_fail "completed: $RSC runs on node1 (now on '$(cl_where "$RSC")')"
    exit 1
fi
t_expect_rc 0 "completed: the cluster settles" cl_settled 90
CL_BEFORE[$D]=$(lab_guest_wait node1 "$D" 0 120) &&
    CL_BEFORE[$D]=$(cl_guest_progress node1 "$D" "${CL_BEFORE[$D]}" 90) &&
    t_pass "completed: $D boots and writes on node1: ${CL_BEFORE[$D]}" || {
    t_fail "completed: $D boots and writes on node1"
    exit 1
}
# A capped bandwidth (reloaded, the guest runs on) makes the migration below last a few
# seconds, so that it publishes progress.
t_expect_rc 0 "completed: pcs resource update $RSC migration_bandwidth=20" \
    lab_exec 2 pcs resource update "$RSC" migration_bandwidth=20
t_expect_rc 0 "completed: the cluster settles" cl_settled 90
CL_BEFORE[$D]=$(lab_guest_stats node1 "$D")
cl_log_mark
# A migrate_to that fails at once (the target's libvirt refuses) published no progress, but
# deletes the progress attribute all the same. That delete must be private: Pacemaker 2.1.5's
# attrd creates a public attribute from a public delete of one it does not hold, and every later
# progress update of this resource (even --private) then reaches the CIB and aborts the
# transition between migrate_to and migrate_from (measured in the lab).
agent node1 migrate_to OCF_RESKEY_CRM_meta_migrate_source=node1 \
    OCF_RESKEY_CRM_meta_migrate_target=node2 OCF_RESKEY_CRM_meta_timeout=30000 \
    OCF_RESKEY_remote_uri='qemu+tcp://127.0.0.1:1/system?node=%n' &&
    t_fail "completed: a migrate_to to a libvirt that refuses succeeded" ||
    t_pass "completed: a migrate_to to a libvirt that refuses fails: $(tail -n 1 <<<"$AGENT_OUT" | cut -c1-160)"
! lab_exec node1 test -e "/run/drover/vm/.migrated-$RSC" &&
    t_pass "completed: the failed migrate_to left no record (the guest runs on node1)" ||
    t_fail "completed: the failed migrate_to left a record"
cl_runs_on "$RSC" node1 && [[ $(domstate node1) == running ]] &&
    t_pass "completed: $D still runs on node1" || t_fail "completed: $D no longer runs on node1"
t_expect_rc 0 "completed: pcs resource move $RSC node3" lab_exec 2 pcs resource move "$RSC" node3
t_wait_for 90 cl_runs_on "$RSC" node3 && t_pass "completed: $RSC runs on node3" ||
    t_fail "completed: $RSC runs on node3 (now on '$(cl_where "$RSC")')"
t_expect_rc 0 "completed: the cluster settles" cl_settled 90
cl_check_moved "$D" node1 node3 "completed"
LOG=$(cl_log_since)
grep -q "Setting drover-migration-$RSC\[node1\]: (unset) -> [0-9]" <<<"$LOG" &&
    t_pass "completed: the migration published its progress (attrd)" ||
    t_fail "completed: no progress update of drover-migration-$RSC in the logs"
grep -q "$RSC: Pacemaker ran migrate_from on node3: its copy of $D stays" <<<"$LOG" &&
    t_pass "completed: the stop on node1 saw migrate_from: $(grep -o "$RSC: Pacemaker ran migrate_from on node3.*" <<<"$LOG" | head -n 1)" ||
    t_fail "completed: the agent's stop on node1 did not see Pacemaker's migrate_from: $(grep -E "$RSC|$D" <<<"$LOG" | grep -E "stop|migrate" | cut -c1-200 | tail -n 5)"
CIB_ATTR=$(grep -F drover-migration <<<"$LOG" | grep -E 'status-|abort|cib_perform_op')
[[ -z $CIB_ATTR ]] &&
    t_pass "completed: no drover-migration attribute in the CIB, no transition aborted by one" ||
    t_fail "completed: the progress attribute reached the CIB: $(cut -c1-220 <<<"$CIB_ATTR" | head -n 4)"
! grep -q "never ran migrate_from" <<<"$LOG" &&
    t_pass "completed: nothing was stopped on node3" ||
    t_fail "completed: $(grep "never ran migrate_from" <<<"$LOG" | cut -c1-200)"
cl_runs_on "$RSC" node3 && [[ $(domstate node3) == running ]] &&
    t_pass "completed: $RSC still runs on node3 (libvirt: running)" ||
    t_fail "completed: $RSC on '$(cl_where "$RSC")', node3's libvirt: '$(domstate node3)'"

cl_sampler_check "whole test"
t_summary
