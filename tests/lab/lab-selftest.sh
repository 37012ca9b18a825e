#!/bin/bash
# lab-selftest.sh - proves that tests/lab/lab.sh builds an isolated lab and removes it fully:
# 2 nodes, storage, libvirtd on node1 with one running VM; then lab_down leaves no process and
# no namespace behind. Runs as root. Exit 0 = pass, 1 = fail, 77 = skipped (never under CI=true).
# Two can run side by side with different LAB_PREFIX values (default: a random one each).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SELFTEST_NAME=selftest
# shellcheck source=selftest-lib.sh
source "$HERE/selftest-lib.sh"

[[ $EUID == 0 ]] || skip_or_fail "needs root"
# shellcheck source=lab.sh
source "$HERE/lab.sh"
lab_deps || skip_or_fail "lab packages are missing and cannot be installed"

# ------------------------------------------------------------------------ the lab checks

node_hostname_is() # NODE NAME
{
    [[ $(lab_exec "$1" hostname) == "$2" ]]
}

node_reaches_portal() # NODE
{
    lab_exec "$1" timeout 5 bash -c 'exec 3<>/dev/tcp/198.18.3.10/3260'
}

# A bare TCP connect proves nothing from the root namespace: this machine's uplink accepts
# TCP connections to any address. An iSCSI discovery must fail, though.
root_cannot_reach_target()
{
    ! timeout 5 iscsi-ls -i "$LAB_IQN_BASE:selftest-root" "iscsi://$LAB_PORTAL" >/dev/null 2>&1
}

# Node addresses: IPv4 from 198.18.0.0/15 only, and no route beyond the lab's own subnets.
node_addressing_is_lab_only() # NODE
{
    local a r
    a=$(lab_exec "$1" ip -o addr show) && r=$(lab_exec "$1" ip -o route show) || return 1
    [[ $(grep -v ' lo ' <<<"$a" | grep -cv ' inet 198\.1[89]\.') == 0 ]] &&
        [[ $(grep -c ' inet6 ' <<<"$a") == 0 ]] &&
        [[ $(grep -cv '^198\.1[89]\.[0-9]*\.0/24 dev ' <<<"$r") == 0 ]]
}

root_has_no_lab_address()
{
    local a
    a=$(ip -o addr show)
    [[ $a != *" 198.18."* && $a != *" 198.19."* && $a != *"$LAB_PREFIX"* ]]
}

root_route_not_via_lab()
{
    [[ $(ip route get 198.18.3.10) != *"$LAB_PREFIX"* ]]
}

target_listed() # NODE TARGET_NAME
{
    lab_exec "$1" iscsi-ls -i "$LAB_IQN_BASE:selftest-$1" "iscsi://$LAB_PORTAL" |
        grep -q "^Target:$LAB_IQN_BASE:$2 Portal:$LAB_PORTAL"
}

lun_size_is() # NODE URL BYTES
{
    lab_exec "$1" iscsi-readcapacity16 -i "$LAB_IQN_BASE:selftest-$1" "$2" |
        grep -qx "Total size:$3"
}

vm_listed() # NODE NAME
{
    grep -qx "$2" <<<"$(lab_vm_list "$1")"
}

qemu_alive_in_node() # NODE NAME
{
    local pid init
    pid=$(lab__pid_get "$1-qemu-$2") && init=$(lab__pid_get "$1") || return 1
    [[ $(readlink "/proc/$pid/exe") == */qemu-system-x86_64 ]] &&
        [[ /proc/$pid/ns/net -ef /proc/$init/ns/net && /proc/$pid/ns/uts -ef /proc/$init/ns/uts ]]
}

qemu_says_running() # NODE NAME
{
    [[ $(lab_virsh "$1" qemu-monitor-command --hmp "$2" "info status") == *"VM status: running"* ]]
}

libvirt_sees_hostname() # NODE
{
    [[ $(lab_virsh "$1" hostname) == "$1" ]]
}

no_libvirt_on() # NODE
{
    [[ ! -e $LAB_DIR/${1}/run/libvirt/libvirt-sock ]] && ! lab__pid_get "libvirtd-$1" >/dev/null
}

# ------------------------------------------------------------------------------- the run

trap 'lab_down' EXIT
say "lab $LAB_PREFIX in $LAB_DIR"
export LAB_NODES=2
t0=$(ms)
lab_up
t1=$(ms)
lab_libvirt_up node1
t2=$(ms)
lab_vm_start node1 vm1 48
t3=$(ms)

check "node1 is called node1" node_hostname_is node1 node1
check "node2 is called node2" node_hostname_is node2 node2
check "the root namespace keeps its hostname" test "$(hostname)" != node1
check "node1 has lab addresses and routes only" node_addressing_is_lab_only node1
check "node1 connects to the iSCSI portal" node_reaches_portal node1
check "node2 connects to the iSCSI portal" node_reaches_portal node2
check "iscsi-ls in node1 lists the fence target" target_listed node1 fence
check "the fence LUN has 16 MiB" lun_size_is node1 "$(lab_lun_url fence)" 16777216
url=$(lab_lun_add selftest 8)
check "lab_lun_add prints the LUN URL" \
    test "$url" = "iscsi://198.18.3.10:3260/iqn.2026-11.org.drover.lab:selftest/1"
check "the new LUN has 8 MiB, seen from node2" lun_size_is node2 "$url" 8388608
check "the root namespace has no lab address or interface" root_has_no_lab_address
check "the root namespace has no route into the lab" root_route_not_via_lab
check "the root namespace cannot discover the iSCSI target" root_cannot_reach_target
check "libvirtd on node1 answers from the root namespace as node1" libvirt_sees_hostname node1
check "node2 runs no libvirtd" no_libvirt_on node2
check "vm1 is running on node1 per virsh" vm_listed node1 vm1
check "vm1's QEMU is alive, in node1's namespaces" qemu_alive_in_node node1 vm1
check "vm1's QEMU reports running" qemu_says_running node1 vm1

# What lab_down must stop: every record, with its start time to tell PID reuse apart.
say "recorded processes: $(lab_pids | tr '\n' ' ')"
selftest_down "every recorded process is gone"
if [[ ${KEEP:-0} != 1 ]]; then
    check "the state dir is removed" test ! -e "$LAB_DIR"
fi
check "lab_down a second time is harmless" lab_down

say "times (ms): lab_up $((t1 - t0)), libvirt up $((t2 - t1)), vm start $((t3 - t2)), lab_down $DOWN_MS"
if ((FAILED)); then
    say "FAILED"
    exit 1
fi
say "PASSED"
