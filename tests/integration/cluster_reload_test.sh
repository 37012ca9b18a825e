#!/bin/bash
# A parameter change reloads a running VM instead of restarting it, unless the parameter is its
# identity (issue 3; agents/vm_metadata.c; doc/admin-guide.md section 7). Found in the lab: with
# the meta-data claiming OCF 1.1 but listing only the legacy reload, Pacemaker 2.1 reloaded
# nothing, and `pcs resource update vm-X utilization_check_interval=20` restarted the VM. On the
# lab's 3-node cluster with everything real (corosync, Pacemaker, droverd, libvirtd, QEMU 10
# TCG), one guest (128 MiB, a writer rewriting and checking 16 MiB at 8 MiB/s) is an
# ocf:drover:vm resource from configs/cib/drover.pcs.sh, running on node2:
#   1. `pcs resource update` of migration_bandwidth, of utilization_check_interval, then of
#      force_stop (unique="0"): each time Pacemaker runs the agent's `reload` on node2 (its log;
#      the CIB's status section records a successful reload as a start) and no stop or start;
#      the new value is in the CIB; the guest's QEMU keeps its PID, and the guest itself was not
#      restarted (its heartbeat count and uptime go on, its memory checker reports zero errors);
#   2. `pcs resource update` of config (unique="1") to a copy of the XML at another path:
#      Pacemaker stops (with force_stop=true from the reload: the guest ignores ACPI) and starts
#      the VM (no reload), and it runs again with a new QEMU;
#   3. what unique="1" means to pcs, on a copy of the CIB (`pcs -f`, nothing pushed): a second
#      ocf:drover:vm with the same config is refused, one with the same hypervisor is not;
#   4. a value the agent refuses, set with crm_resource (no checks): the reload fails
#      with OCF_ERR_CONFIGURED, the agent's message names the parameter, and Pacemaker stops the
#      VM (the stop succeeds: it gets the last good parameters) and starts it nowhere.
# A sampler (every <= 100 ms, the whole test) never sees the guest's vCPU run on two nodes.
# Runs as root, about 3 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"

cl_setup

DOM=rl-$LAB_PREFIX # unique on the machine: other labs' QEMUs never match the sampler
RSC=vm-$DOM
CL_DOMS=("$DOM")

qemu_nspid() # K -> the PID (in node K's PID namespace) in the domain's QEMU PID file there
{
    local pid=''
    { read -r pid <"$LAB_DIR/node$1/run/libvirt/qemu/$DOM.pid" || [[ -n $pid ]]; } 2>/dev/null
    [[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
}

param() # NAME -> the resource's instance attribute NAME in the CIB
{
    lab_exec 2 crm_resource -r "$RSC" -g "$1" -Q 2>/dev/null
}

# The operations Pacemaker ran on RSC since the mark: "start:node2:ok reload:node2:ok ...".
ops_since()
{
    cl_log_since |
        grep -oE "Result of [a-z_-]+ operation for $RSC on node[0-9]+: [a-zA-Z]+( [a-zA-Z]+)*" |
        sed -E 's/Result of ([a-z_-]+) operation for [^ ]+ on (node[0-9]+): (.*)/\1:\2:\3/' |
        grep -v '^monitor:' | awk '!seen[$0]++' | tr '\n' ' '
}

# STEP NAME VALUE: update one unique="0" parameter; Pacemaker must reload, not restart.
reload_step()
{
    local name=$1 value=$2 pid0 ops
    pid0=$(qemu_nspid 2)
    cl_log_mark
    t_expect_rc 0 "pcs resource update $RSC $name=$value" \
        lab_exec 2 pcs resource update "$RSC" "$name=$value"
    t_wait_for 60 eval 'cl_log_since | grep -q "Result of reload[a-z-]* operation for $RSC"'
    t_expect_rc 0 "$name: the cluster settles" cl_settled 90
    ops=$(ops_since)
    t_log "$name: Pacemaker's operations on $RSC since the update: ${ops:-none}"
    [[ $ops == "reload:node2:ok " ]] &&
        t_pass "$name: Pacemaker ran the agent's reload on node2 (ok), and nothing else" ||
        t_fail "$name: wanted only 'reload:node2:ok', got '${ops:-none}'"
    t_expect_out 0 "^$value\$" "$name=$value is in the CIB" param "$name"
    t_expect_out 0 "^$pid0\$" "$name: the guest's QEMU kept its PID ($pid0)" qemu_nspid 2
    cl_guest_check node2 "$DOM" "${CL_BEFORE[$DOM]}" "$name" && CL_BEFORE[$DOM]=$CL_STATS
}

# ------------------------------------------------------------------------------- the test

cl_wait_machine_quiet
cl_lab_with_guests pcs node2 128 16 8

# ---- 1. reloadable parameters
reload_step migration_bandwidth 77
reload_step utilization_check_interval 20
# The lab's guest ignores ACPI: a graceful stop would wait out the stop timeout. The stop below
# gets the parameters of the last successful start or reload, so this reload must be in effect.
reload_step force_stop true

# ---- 2. config, the VM's identity: a stop and a start
NEWXML=$LAB_DIR/guests/$DOM-moved.xml
cp "${CL_XML[$DOM]}" "$NEWXML"
PID0=$(qemu_nspid 2)
cl_log_mark
t_expect_rc 0 "pcs resource update $RSC config=$NEWXML" \
    lab_exec 2 pcs resource update "$RSC" "config=$NEWXML"
t_wait_for 90 eval 'cl_log_since | grep -q "Result of start operation for $RSC"'
t_expect_rc 0 "config: the cluster settles" cl_settled 120
OPS=$(ops_since)
t_log "config: Pacemaker's operations on $RSC since the update: ${OPS:-none}"
t_log "config: the stop on node2: $(cl_log_since | grep -o "$RSC stop (call [^)]*) exited with status [0-9]* (execution time [^)]*)" | head -n 1)"
[[ $OPS == *"stop:node2:ok "* && $OPS == *"start:"*":ok "* && $OPS != *reload* ]] &&
    t_pass "config: Pacemaker stopped and started $RSC, no reload ($OPS)" ||
    t_fail "config: wanted a stop and a start and no reload, got '${OPS:-none}'"
WHERE=$(cl_where "$RSC")
PID1=$(qemu_nspid "${WHERE#node}")
[[ -n $WHERE && -n $PID1 && ($WHERE != node2 || $PID1 != "$PID0") ]] &&
    t_pass "config: $RSC runs again on $WHERE with a new QEMU (PID $PID0 -> $PID1)" ||
    t_fail "config: $RSC on '$WHERE', QEMU '$PID0' -> '${PID1:-none}'"
t_expect_out 0 "^$NEWXML\$" "config=$NEWXML is in the CIB" param config

# ---- 3. unique="1" as pcs sees it, on a copy of the CIB
F=/tmp/$DOM-cib.xml
t_expect_rc 0 "pcs cluster cib (a copy)" lab_exec 2 pcs cluster cib "$F"
t_expect_rc 0 "the copy: $RSC with hypervisor=qemu:///system spelt out" \
    lab_exec 2 pcs -f "$F" resource update "$RSC" hypervisor=qemu:///system
t_expect_rc 0 "the copy: a second VM with the same hypervisor is accepted (unique=\"0\")" \
    lab_exec 2 pcs -f "$F" resource create vm-other ocf:drover:vm config=/nonexistent/other.xml \
    domain=other hypervisor=qemu:///system
grep -qi "not unique" <<<"$T_OUT" && t_fail "pcs warned about hypervisor: $T_OUT"
t_expect_out 1 "config.*not unique|not unique.*config" \
    "the copy: a third VM with $RSC's config is refused (unique=\"1\")" \
    lab_exec 2 pcs -f "$F" resource create vm-third ocf:drover:vm config="$NEWXML" domain=third
lab_exec 2 rm -f "$F"

# ---- 4. A value the agent refuses, written without pcs's checks: the reload fails with
# OCF_ERR_CONFIGURED naming the parameter, which Pacemaker takes as fatal: it stops the VM (with
# the last good parameters) and starts it nowhere.
cl_log_mark
t_expect_rc 0 "crm_resource -p migration_bandwidth -v fast (not checked on the way)" \
    lab_exec 2 crm_resource -r "$RSC" -p migration_bandwidth -v fast
t_wait_for 60 eval 'cl_log_since | grep -q "Result of reload[a-z-]* operation for $RSC"'
t_expect_rc 0 "bad value: the cluster settles" cl_settled 90
OPS=$(ops_since)
t_log "bad value: Pacemaker's operations on $RSC since the update: ${OPS:-none}"
[[ $OPS == *"reload:$WHERE:not configured "* ]] &&
    t_pass "bad value: the reload on $WHERE failed with OCF_ERR_CONFIGURED ('not configured')" ||
    t_fail "bad value: wanted 'reload:$WHERE:not configured', got '${OPS:-none}'"
LINE=$(cl_log_since | grep -o "parameter migration_bandwidth must be [^]]*" | head -n 1)
[[ -n $LINE ]] && t_pass "bad value: the agent named it: $LINE" ||
    t_fail "bad value: no message naming migration_bandwidth in Pacemaker's log"
[[ $OPS == *"stop:$WHERE:ok "* && $OPS != *"start:"* && -z $(cl_where "$RSC") ]] &&
    t_pass "bad value: Pacemaker stopped $RSC (ok, with the previous parameters) and started it nowhere" ||
    t_fail "bad value: wanted a successful stop and no start, got '${OPS:-none}', $RSC on '$(cl_where "$RSC")'"
t_expect_out 0 '^$' "bad value: no QEMU of $DOM left on any node" cl_qemu_nodes "$DOM"

cl_sampler_check "the whole test"
t_summary
