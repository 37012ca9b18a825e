#!/bin/bash
# ocf:drover:vm against a real libvirtd and a real QEMU (TCG) domain in a lab node: OCF exit
# codes for every action, idempotent start/stop, a probe with the config unreadable, libvirtd
# down during monitor and stop, bad parameters, reload, the meta-data against the DTD and RNG
# shipped in Debian, and ocf-tester.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/lab/lab.sh"
t_require libvirtd virsh qemu-system-x86_64 xmllint ocf-tester

AGENT=$DR_BUILD_DIR/agents/vm
trap 'lab_down >/dev/null' EXIT
LAB_NODES=1 lab_up >/dev/null || { echo "FATAL: lab_up"; exit 1; }
lab_libvirt_up node1 >/dev/null || { echo "FATAL: libvirt"; exit 1; }
lab_vm_start node1 t1 48 >/dev/null || { echo "FATAL: VM"; exit 1; }
URI=$(lab_libvirt_uri node1)
CONF=$LAB_DIR/t1.xml
lab_virsh node1 dumpxml --inactive t1 >"$CONF"
lab_virsh node1 destroy t1 >/dev/null

# ocf ACTION [VAR=value...]: the agent as Pacemaker runs it, inside node1
ocf()
{
    local action=$1
    shift
    lab_exec node1 env OCF_RESOURCE_INSTANCE=vm-t1 OCF_RESKEY_hypervisor="$URI" \
        OCF_RESKEY_shutdown_timeout=2 "$@" "$AGENT" "$action"
}
qemu_of_t1() { lab_pids | awk '$1 ~ /qemu.*t1/ {print $2}' | head -1; }

t_expect_rc 0 "meta-data validates against ra-api-1.dtd" sh -c \
    "'$AGENT' meta-data | (cd /usr/share/resource-agents && xmllint --noout --valid -)"
t_expect_rc 0 "meta-data validates against metadata.rng" sh -c \
    "'$AGENT' meta-data | xmllint --noout --relaxng /usr/share/resource-agents/metadata.rng - 2>&1 | grep -q validates"

t_expect_rc 7 "probe of a stopped domain: not running" ocf monitor OCF_RESKEY_domain=t1 OCF_RESKEY_CRM_meta_interval=0
t_expect_rc 0 "start" ocf start OCF_RESKEY_config="$CONF"
t_expect_rc 0 "start again (idempotent)" ocf start OCF_RESKEY_config="$CONF"
t_expect_rc 0 "monitor: running" ocf monitor OCF_RESKEY_config="$CONF"

# reload, as Pacemaker runs it when only unique="0" parameters changed (the meta-data's OCF 1.0
# legacy reload), and reload-agent (OCF 1.1's name): through the front door to the full agent,
# which re-validates and leaves the running VM alone.
QPID=$(qemu_of_t1)
t_expect_rc 0 "reload with a new migration_bandwidth" \
    ocf reload OCF_RESKEY_config="$CONF" OCF_RESKEY_migration_bandwidth=77
t_expect_rc 0 "reload-agent with a new utilization_check_interval" \
    ocf reload-agent OCF_RESKEY_config="$CONF" OCF_RESKEY_utilization_check_interval=20
t_expect_out 6 "migration_bandwidth must be" "reload with a bad new value: OCF_ERR_CONFIGURED naming it" \
    ocf reload OCF_RESKEY_config="$CONF" OCF_RESKEY_migration_bandwidth=fast
t_expect_out 6 "does not match config" "reload with a domain that is not the config's: OCF_ERR_CONFIGURED" \
    ocf reload OCF_RESKEY_config="$CONF" OCF_RESKEY_domain=other
# libvirt's test driver (test:///default) has no t1: the VM runs under another hypervisor.
t_expect_out 1 "does not have it running" "reload to a hypervisor URI that does not run t1 fails" \
    ocf reload OCF_RESKEY_config="$CONF" OCF_RESKEY_hypervisor=test:///default
if [[ -n $QPID && $(qemu_of_t1) == "$QPID" ]]; then
    t_pass "t1's QEMU kept its PID ($QPID) through every reload"
else
    t_fail "t1's QEMU changed during the reloads: '$QPID' -> '$(qemu_of_t1)'"
fi
t_expect_rc 0 "monitor after the reloads: running" ocf monitor OCF_RESKEY_config="$CONF"

# The config on unmounted shared storage: the probe must still find the running domain.
mv "$CONF" "$CONF.away"
t_expect_rc 0 "probe with the config unreadable still finds the running domain" \
    ocf monitor OCF_RESKEY_config="$CONF" OCF_RESKEY_CRM_meta_interval=0
mv "$CONF.away" "$CONF"

lab_virsh node1 suspend t1 >/dev/null
t_expect_rc 0 "monitor of a user-paused domain: running (it holds its disks)" ocf monitor OCF_RESKEY_domain=t1
lab_virsh node1 resume t1 >/dev/null

# libvirtd down: monitor and stop look at QEMU itself.
LVPID=$(lab__pid_get libvirtd-node1)
QPID=$(lab_pids | awk '/qemu/ {print $2; exit}')
t_stop_pid "$LVPID"
t_expect_rc 0 "monitor with libvirtd down and QEMU running: running" ocf monitor OCF_RESKEY_domain=t1
t_expect_out 0 "stopping QEMU process" "stop with libvirtd down stops the QEMU process itself" \
    ocf stop OCF_RESKEY_domain=t1
if [[ -n $QPID ]] && ! kill -0 "$QPID" 2>/dev/null; then
    t_pass "the QEMU process is gone after that stop"
else
    t_fail "QEMU process ${QPID:-?} still runs after stop"
fi
t_expect_rc 7 "monitor with libvirtd down and no QEMU: not running" ocf monitor OCF_RESKEY_domain=t1
t_expect_rc 0 "stop with libvirtd down and no QEMU: success, not a failure" ocf stop OCF_RESKEY_domain=t1
# A libvirtd just killed may still be reaped or hold its socket for a moment: allow one retry.
lab_libvirt_up node1 >/dev/null || { sleep 1; lab_libvirt_up node1 >/dev/null; } ||
    t_fail "libvirtd did not come back"

t_expect_rc 0 "start after libvirtd came back" ocf start OCF_RESKEY_config="$CONF"
t_expect_out 0 "stopped" "stop (graceful, then destroy after shutdown_timeout)" ocf stop OCF_RESKEY_config="$CONF"
t_expect_rc 0 "stop again (idempotent)" ocf stop OCF_RESKEY_config="$CONF"
t_expect_rc 7 "monitor after stop: not running" ocf monitor OCF_RESKEY_config="$CONF"

# Bad input: named, with OCF's codes.
t_expect_out 6 "migration_policy must be" "bad migration_policy: OCF_ERR_CONFIGURED" \
    ocf validate-all OCF_RESKEY_domain=t1 OCF_RESKEY_migration_policy=fast
t_expect_out 6 "set config .* or domain" "neither config nor domain: OCF_ERR_CONFIGURED" ocf validate-all
t_expect_out 6 "must be an absolute path" "relative config path: OCF_ERR_CONFIGURED" \
    ocf validate-all OCF_RESKEY_config=t1.xml
t_expect_out 6 "whole number" "bad number: OCF_ERR_CONFIGURED" \
    ocf validate-all OCF_RESKEY_domain=t1 OCF_RESKEY_migration_bandwidth=fast
t_expect_out 5 "No such file" "unreadable config on validate-all: OCF_ERR_INSTALLED" \
    ocf validate-all OCF_RESKEY_config=/nonexistent/t1.xml
t_expect_out 6 "does not match config" "domain and config disagree: OCF_ERR_CONFIGURED" \
    ocf validate-all OCF_RESKEY_config="$CONF" OCF_RESKEY_domain=other
t_expect_out 3 "unknown action" "unknown action: OCF_ERR_UNIMPLEMENTED" ocf frobnicate OCF_RESKEY_domain=t1
t_expect_rc 7 "monitor of a domain this node does not have: not running" ocf monitor OCF_RESKEY_domain=nosuch
t_expect_out 5 "not defined on this node" "start of an undefined domain: OCF_ERR_INSTALLED" \
    ocf start OCF_RESKEY_domain=nosuch
t_expect_out 2 "migrate_target" "migrate_to without a target: OCF_ERR_ARGS" ocf migrate_to OCF_RESKEY_domain=t1

# droverd on the node: its event-fed cache answers the monitor, and a VM that dies behind
# Pacemaker's back is reported at once, but a stop drover performs is not.
t_droverd_start node1 --cluster vmtest --libvirt-uri "$URI" --watch-interval-ms 200
trap 't_droverd_stop_all; lab_down >/dev/null' EXIT
t_expect_rc 0 "start with droverd running" ocf start OCF_RESKEY_config="$CONF"
t_wait_for 5 eval 'lab_exec node1 "$DROVER" vm t1 | grep -q ": running"' &&
    t_pass "droverd's cache has t1 running (lifecycle events)" ||
    t_fail "droverd's cache: $(lab_exec node1 "$DROVER" vm t1 2>&1)"
t_expect_out 0 "not on this node" "droverd knows a domain is not here" lab_exec node1 "$DROVER" vm nosuch
t_expect_out 0 "from droverd's cache" "recurring monitor answered through droverd" \
    ocf monitor OCF_RESKEY_config="$CONF" OCF_RESKEY_CRM_meta_interval=10000 HA_debug=1
# Utilization: once per utilization_check_interval the front door hands the recurring monitor to
# the full agent, which checks the CIB (there is none here: a warning, never a failure). The
# attempt is recorded (the state file's last field), so the next monitor is cheap again.
lab_exec node1 sed -i 's/ [0-9]*$/ 1/' /run/drover/vm/vm-t1
t_expect_out 0 "utilization due, for the full agent" "utilization check due: the full agent answers" \
    ocf monitor OCF_RESKEY_config="$CONF" OCF_RESKEY_CRM_meta_interval=10000 HA_debug=1
grep -q "cannot read utilization cpu" <<<"$T_OUT" &&
    t_pass "the full agent tried the CIB: $(grep -o 'cannot read utilization cpu.*' <<<"$T_OUT" | head -1)" ||
    t_fail "the full agent did not try the CIB: $T_OUT"
t_expect_out 0 "from droverd's cache" "the next monitor is answered through droverd again" \
    ocf monitor OCF_RESKEY_config="$CONF" OCF_RESKEY_CRM_meta_interval=10000 HA_debug=1
lab_exec node1 sed -i 's/ [0-9]*$/ 1/' /run/drover/vm/vm-t1
t_expect_out 0 "from droverd's cache" "autoset_utilization=false: never handed over for it" \
    ocf monitor OCF_RESKEY_config="$CONF" OCF_RESKEY_CRM_meta_interval=10000 HA_debug=1 \
    OCF_RESKEY_autoset_utilization=false
t_expect_out 7 "" "a probe asks libvirt itself, never only droverd's cache" \
    ocf monitor OCF_RESKEY_domain=nosuch OCF_RESKEY_CRM_meta_interval=0 HA_debug=1
grep -q "from droverd's cache" <<<"$T_OUT" && t_fail "the probe used droverd's cache"
QPID=$(lab_pids | awk '/qemu/ {print $2; exit}')
t0=$(t_ms)
kill -KILL "$QPID"
if t_wait_for 5 grep -q "resource vm-t1) died" "$LAB_DIR/droverd-node1.log"; then
    t_pass "killed QEMU: droverd reports vm-t1's failure to Pacemaker in $(($(t_ms) - t0)) ms"
else
    t_fail "no failure report for vm-t1: $(tail -3 "$LAB_DIR/droverd-node1.log")"
fi
t_wait_for 5 eval 'lab_exec node1 "$DROVER" vm t1 | grep -q ": shutoff"' &&
    t_pass "droverd's cache has t1 shut off" || t_fail "cache: $(lab_exec node1 "$DROVER" vm t1 2>&1)"
t_expect_rc 7 "monitor after the kill: not running" ocf monitor OCF_RESKEY_config="$CONF" \
    OCF_RESKEY_CRM_meta_interval=10000
t_expect_rc 0 "start again" ocf start OCF_RESKEY_config="$CONF"
n_reports=$(grep -c "reported to Pacemaker" "$LAB_DIR/droverd-node1.log")
t_expect_rc 0 "stop through the agent" ocf stop OCF_RESKEY_config="$CONF"
sleep 0.5
[[ $(grep -c "reported to Pacemaker" "$LAB_DIR/droverd-node1.log") == "$n_reports" ]] &&
    t_pass "a stop drover performs is not reported as a failure" ||
    t_fail "the agent's own stop was reported: $(tail -2 "$LAB_DIR/droverd-node1.log")"
t_droverd_stop_all

t_expect_out 0 "" "ocf-tester passes against the real domain" \
    lab_exec node1 ocf-tester -n t1 -o config="$CONF" -o hypervisor="$URI" -o shutdown_timeout=2 "$AGENT"
grep -q "failed" <<<"$T_OUT" && t_fail "ocf-tester reported: $(grep failed <<<"$T_OUT")"

# Utilization goes to the real crm_resource, from a process the agent leaves behind (start ends
# as soon as the VM runs); with no cluster here it fails, and that is only a warning in that
# process's log, never a failed or slower start (the calls themselves are unit-tested; the
# cluster lab checks them against a live CIB).
ULOG=/run/drover/vm/.utilization-vm-t1.log
lab_exec node1 rm -f "$ULOG"
t_expect_rc 0 "start with crm_resource failing (no cluster)" ocf start OCF_RESKEY_config="$CONF"
grep -q "could not set utilization" <<<"$T_OUT" &&
    t_fail "start waited for crm_resource: $(grep -m1 'could not set utilization' <<<"$T_OUT")"
t_wait_for 10 eval 'lab_exec node1 grep -q "could not set utilization" "$ULOG"' &&
    t_pass "the detached publisher ran crm_resource and only warned: $(lab_exec node1 grep -m1 -o 'could not set utilization.*' "$ULOG")" ||
    t_fail "no warning from the detached publisher in $ULOG: $(lab_exec node1 cat "$ULOG" 2>&1)"
t_expect_rc 0 "stop after the utilization checks" ocf stop OCF_RESKEY_config="$CONF"

t_summary
