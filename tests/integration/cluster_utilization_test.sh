#!/bin/bash
# Utilization that stays true (issue 3): ocf:drover:vm publishes the domain's vCPUs and memory as
# the resource's utilization (cpu, hv_memory) when it starts it, and Pacemaker places VMs by
# them (placement-strategy=utilization). Whatever erases them later must not leave the cluster
# placing blind. On the lab's 3-node cluster with everything real (corosync, Pacemaker, droverd,
# libvirtd + QEMU), one tiny ocf:drover:vm resource (1 vCPU, 48 MiB; monitor every 10 s, which
# the front door answers from droverd's cache):
#   1. `crm configure load update` of configs/cib/drover.crm replaces the primitive (found in the
#      lab: the utilization was gone and nothing restored it);
#   2. both values deleted by hand (crm_resource --delete-parameter -z);
# each time they come back within utilization_check_interval (set to 12 s: the default of 60
# would cost two minutes of waiting) + the monitor interval (+ slack), and the VM is never
# restarted for it (its QEMU keeps its PID), so only the monitor's periodic check can have
# restored them: no parameter changes after the interval's own update (a change would run the
# agent's reload, which checks at once; cluster_reload_test.sh covers reloads), which the log
# shows. The re-applied primitive carries the interval (drover.crm's DROVER_VM_PARAMS), so it
# has the same parameters as in the CIB: nothing to reload. The times are printed.
# Runs as root, about 1.5 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"
if [[ $EUID != 0 ]]; then
    echo "needs root: $([[ ${CI:-} == true ]] && echo FATAL under CI=true || echo SKIP)"
    [[ ${CI:-} != true ]] && exit 77 || exit 1
fi
export LAB_CLUSTER=1 LAB_LIBVIRT=1 DR_BUILD_DIR
. "$DR_SOURCE_DIR/tests/lab/lab.sh"
lab_deps || t_require corosync pacemakerd pcs crm libvirtd virsh tgtd
t_require corosync pacemakerd pcs crm crm_resource cibadmin libvirtd virsh tgtd
lab__cluster_check || exit 1

DOM=ut-$LAB_PREFIX # unique on the machine
RSC=vm-$DOM
MEM=48
INTERVAL=12 # utilization_check_interval (the default, 60, would double the test's time)
CL_DOMS=("$DOM")
CL_SAMPLER_PID=
trap cl_cleanup EXIT

util() # NAME -> the value in the CIB ("" when absent)
{
    lab_exec 1 crm_resource -r "$RSC" -z -g "$1" -Q 2>/dev/null
}

param() # NAME -> the resource's instance attribute in the CIB
{
    lab_exec 1 crm_resource -r "$RSC" -g "$1" -Q 2>/dev/null
}

util_is() # CPU MEM
{
    [[ $(util cpu) == "$1" && $(util hv_memory) == "$2" ]]
}

qemu_pid_on() # K -> the QEMU PID in the domain's PID file on node K
{
    local pid=''
    { read -r pid <"$LAB_DIR/node$1/run/libvirt/qemu/$DOM.pid" || [[ -n $pid ]]; } 2>/dev/null
    [[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
}

# Waits up to BOUND_S for the utilization to be back; prints the time it took (ms).
restored_within() # BOUND_S WHAT
{
    local t0 t ops
    t0=$(t_ms)
    if t_wait_for "$1" util_is 1 "$MEM"; then
        t=$(($(t_ms) - t0))
        t_pass "$2: cpu=1 hv_memory=$MEM back in the CIB after $t ms (bound $1 s)"
    else
        t_fail "$2: not back within $1 s (cpu='$(util cpu)' hv_memory='$(util hv_memory)')"
    fi
    # Only the monitor restored them: Pacemaker ran nothing else on the resource meanwhile.
    ops=$(cl_log_since | grep -oE "Result of [a-z_-]+ operation for $RSC on node[0-9]+" |
        sed -E 's/Result of ([a-z_-]+) operation .* on (node[0-9]+)/\1:\2/' | grep -v '^monitor:' |
        sort -u | tr '\n' ' ')
    [[ -z $ops ]] && t_pass "$2: Pacemaker ran only monitors on $RSC meanwhile" ||
        t_fail "$2: Pacemaker ran $ops on $RSC: the periodic check is not what restored them"
}

T0=$(t_ms)
if lab_up; then t_pass "lab up: 3 cluster nodes with libvirtd ($(($(t_ms) - T0)) ms)"; else
    t_fail "lab up"
    exit 1
fi
mkdir -p "$LAB_DIR/vm" && lab__domain_xml "$DOM" "$MEM" >"$LAB_DIR/vm/$DOM.xml"
t_expect_rc 0 "configs/cib/drover.pcs.sh with one ocf:drover:vm resource, prefers node2" \
    lab_cib_pcs "DROVER_VM_NAME=$DOM" "DROVER_VM_CONFIG=$LAB_DIR/vm/$DOM.xml" DROVER_VM_NODE=node2
for k in 1 2 3; do
    t_wait_for 60 cl_droverd_registered "$k" && t_pass "node$k unfenced" || t_fail "node$k unfenced"
done
if t_wait_for 90 cl_runs_on "$RSC" node2; then t_pass "$RSC started on node2"; else
    t_fail "$RSC started on node2 (it is on '$(cl_where "$RSC")')"
    exit 1
fi
t_expect_rc 0 "the cluster settles" cl_settled 90
t_wait_for 10 util_is 1 "$MEM" && t_pass "start published cpu=1 hv_memory=$MEM" ||
    t_fail "start published the utilization: cpu='$(util cpu)' hv_memory='$(util hv_memory)'"
t_expect_rc 0 "pcs resource update $RSC utilization_check_interval=$INTERVAL (reloaded)" \
    lab_exec 1 pcs resource update "$RSC" "utilization_check_interval=$INTERVAL"
t_expect_rc 0 "the cluster settles" cl_settled 90
t_expect_out 0 "^$INTERVAL\$" "utilization_check_interval=$INTERVAL is in the CIB" param \
    utilization_check_interval
PID0=$(qemu_pid_on 2)
t_log "$DOM's QEMU on node2: PID $PID0"

# ---- 1. the configuration re-applied with crm (drover.crm has no utilization)
cl_log_mark
t_expect_rc 0 "crm configure load update configs/cib/drover.crm with $RSC" \
    lab_cib_crm "DROVER_VM_NAME=$DOM" "DROVER_VM_CONFIG=$LAB_DIR/vm/$DOM.xml" \
    "DROVER_VM_PARAMS=utilization_check_interval=$INTERVAL"
t_expect_out 0 "^$INTERVAL\$" "the re-applied primitive keeps utilization_check_interval=$INTERVAL" \
    param utilization_check_interval
if [[ -z $(util hv_memory) ]]; then
    t_log "the re-applied primitive has no utilization (as found in the lab)"
else
    t_log "hv_memory is still (or already again) '$(util hv_memory)' right after the load"
fi
restored_within $((INTERVAL + 10 + 15)) "after crm configure load update"
t_expect_rc 0 "the cluster settles" cl_settled 90

# ---- 2. deleted by hand
cl_log_mark
t_expect_rc 0 "crm_resource --delete-parameter cpu -z" \
    lab_exec 1 crm_resource -r "$RSC" -z --delete-parameter cpu
t_expect_rc 0 "crm_resource --delete-parameter hv_memory -z" \
    lab_exec 1 crm_resource -r "$RSC" -z --delete-parameter hv_memory
t_expect_out 0 '^/$' "both are gone from the CIB" echo "$(util cpu)/$(util hv_memory)"
restored_within $((INTERVAL + 10 + 15)) "after --delete-parameter"

# ---- the VM ran on, untouched, the whole time
t_expect_out 0 "^node2\$" "$RSC still runs on node2" cl_where "$RSC"
t_expect_out 0 "^$PID0\$" "its QEMU was never restarted (PID $PID0)" qemu_pid_on 2
t_summary
