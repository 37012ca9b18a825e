#!/bin/bash
# lab-migration-selftest.sh - proves that the lab (tests/lab/lab.sh) runs real live migrations:
# QEMU >= 9 from bookworm-backports, 2 nodes whose libvirtds talk over the management network
# (st) while the migration stream takes the migration network (cli, 198.18.2.0/24) - not the
# network their host names resolve to (hb, the first one, as in a cluster) -, and a guest
# of Debian's kernel + busybox that rewrites 64 of its 256 MiB at ~50 MiB/s, checks every page
# of the previous pass, and keeps a sequence number on an iSCSI LUN (QEMU's libiscsi). The
# guest goes node1 -> node2 -> node1 with `virsh migrate --live --p2p`; after each move its
# checker must report zero stale pages, its uptime must prove it was not restarted, and its
# disk sequence must continue. The guest has a virtio NIC on the guests' network (vm,
# 198.18.4.0/24, LAB_GUEST_NET=1; a bridge in each node joined to the switch): with nothing
# sent to the guest during the first move, the switch must have its MAC on node2's port right
# after it (QEMU's self-announce; the entry on node1's port would otherwise stay for the
# bridge's 300 s ageing time); during the second move a client pings it every 5 ms and must get
# replies from node1 after it, and no duplicates. Runs as root, ~1 minute.
# Exit 0 = pass, 1 = fail, 77 = skipped (never under CI=true).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GUEST=g1
GUEST_MIB=256
WRITER_MIB=64
RATE_MIB_S=50

SELFTEST_NAME=migration-selftest
# shellcheck source=selftest-lib.sh
source "$HERE/selftest-lib.sh"

[[ $EUID == 0 ]] || skip_or_fail "needs root"
# shellcheck source=lab.sh
source "$HERE/lab.sh"
lab_deps busybox-static cpio gcc libc6-dev ||
    skip_or_fail "lab packages are missing and cannot be installed"

# ------------------------------------------------------------------------------ helpers

stat_of() # KEY STATS -> the value of KEY in a lab_guest_stats line
{
    local kv
    for kv in $2; do
        if [[ ${kv%%=*} == "$1" ]]; then
            echo "${kv#*=}"
            return 0
        fi
    done
    return 1
}

rx_bytes() # NODE NET -> bytes received on the node's interface NET
{
    local k=${1#node}
    ip netns exec "$LAB_PREFIX-n$k" cat "/sys/class/net/$2/statistics/rx_bytes"
}

# Waits until the guest's writer on NODE has finished 2 more passes than in STATS (every page
# checked at least once since) and the disk sequence moved on; prints the new stats.
wait_progress() # NODE STATS
{
    local node=$1 p0 s0 st end
    p0=$(stat_of passes "$2") && s0=$(stat_of seq "$2") || return 1
    end=$(($(ms) + 60000))
    while (($(ms) < end)); do
        if st=$(lab_guest_stats "$node" "$GUEST" 2>/dev/null) &&
            (($(stat_of passes "$st") >= p0 + 2 && $(stat_of seq "$st") > s0)); then
            echo "$st"
            return 0
        fi
        sleep 0.5
    done
    say "no progress on $node since: $2 (now: $(lab_guest_stats "$node" "$GUEST" 2>&1))"
    return 1
}

guest_healthy() # STATS: no stale page, no disk error, no foreign write, no dead writer
{
    [[ $(stat_of errors "$1") == 0 && $(stat_of disk_errors "$1") == 0 &&
        $(stat_of foreign "$1") == 0 && $(stat_of lost "$1") == 0 ]]
}

greater() # KEY AFTER BEFORE: KEY grew
{
    (($(stat_of "$1" "$2") > $(stat_of "$1" "$3")))
}

runs_only_on() # NODE OTHER
{
    [[ $(lab_vm_list "$1") == "$GUEST" && -z $(lab_vm_list "$2") ]]
}

persistent_only_on() # NODE OTHER
{
    [[ $(lab_virsh "$1" dominfo "$GUEST" | awk '/^Persistent:/ {print $2}') == yes ]] &&
        ! lab_virsh "$2" dominfo "$GUEST" >/dev/null 2>&1
}

# The memory stream crossed the migration network: the destination received at least the
# writer's working set on its cli interface, and little on hb (where its host name points)
# and on st (libvirt's control connection, iSCSI).
stream_on_migration_net() # CLI_BYTES HB_BYTES ST_BYTES
{
    say "destination received: cli $(($1 >> 20)) MiB, hb $(($2 >> 20)) MiB, st $(($3 >> 20)) MiB"
    (($1 >= WRITER_MIB << 20 && $2 < 1 << 20 && $3 < 8 << 20))
}

in_range() # VALUE LOW HIGH
{
    [[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3))
}

client_reaches() # the client gets replies from the guest
{
    lab_exec client ping -c 3 -i 0.2 -W 2 -q "$(lab_guest_addr "$GUEST")" >/dev/null
}

switch_port_is() # NODE: the switch has the guest's MAC on NODE's port
{
    [[ $(lab_guest_port "$GUEST") == "$1" ]]
}

# ------------------------------------------------------------------------------- the run

trap 'lab_down' EXIT
say "lab $LAB_PREFIX in $LAB_DIR"
t0=$(ms)
emu=$(lab_qemu_backports) || skip_or_fail "QEMU from bookworm-backports is not available"
t1=$(ms)
export LAB_EMULATOR=$emu
qemu_at_least_9()
{
    [[ $("$emu" --version) =~ version\ ([0-9]+)\. ]] && ((BASH_REMATCH[1] >= 9))
}
check "the lab's QEMU is >= 9.0 (7.2 corrupts TCG guests migrating under writes)" qemu_at_least_9
guest=$(lab_guest_build) || skip_or_fail "cannot build the guest (kernel download, compiler)"
t2=$(ms)

# The checker itself: a page skipped on purpose must count as exactly one error.
check "memwriter counts no error in a clean run" \
    bash -c "'$guest/memwriter' -m 4 -n 3 | grep -q ' errors=0 passes=3 '"
check "memwriter counts a skipped page as one error" \
    bash -c "'$guest/memwriter' -m 4 -n 3 -F | grep -q ' errors=1 passes=3 '"

export LAB_NODES=2 LAB_NETS="hb cli st" LAB_GUEST_NET=1
lab_up
lab_libvirt_up node1
lab_libvirt_up node2
t3=$(ms)
lab_lun_add "$GUEST-disk" 16 >/dev/null
check "node2's migration address is 198.18.2.12" test "$(lab_node_addr node2 cli)" = 198.18.2.12
check "node2's qemu.conf announces it for incoming migrations" \
    grep -qx 'migration_host = "198.18.2.12"' "$LAB_DIR/node2/etc/libvirt/qemu.conf"
check "node2's host name does not resolve to it (hb comes first)" \
    test "$(lab_exec node1 getent hosts node2 | awk '{print $1}')" = 198.18.1.12
check "node1 reaches node2's libvirtd on its management address" \
    test "$(lab_exec node1 virsh -q -c "$(lab_libvirt_tcp_uri node2)" hostname)" = node2

xml=$(lab_vm_start_guest node1 "$GUEST" "$GUEST_MIB" "$WRITER_MIB" "$RATE_MIB_S" disk="$GUEST-disk")
t4=$(ms)
check "the domain XML is kept at $xml" grep -q "<name>$GUEST</name>" "$xml"
check "$GUEST uses the backports QEMU" grep -q "<emulator>$emu</emulator>" "$xml"
st0=$(lab_guest_stats node1 "$GUEST")
st1=$(wait_progress node1 "$st0")
say "node1 before migrating: $st1"
check "the guest's writer is running at ~$RATE_MIB_S MiB/s" \
    in_range "$(stat_of rate_mib_s "$st1")" $((RATE_MIB_S / 2)) $((RATE_MIB_S * 3 / 2))
check "the guest is healthy before migrating" guest_healthy "$st1"
MAC=$(lab__guest_mac "$(lab_guest_addr "$GUEST")")
check "its NIC has its address $(lab_guest_addr "$GUEST") and MAC $MAC in the domain XML" \
    grep -q "<mac address='$MAC'/>" "$xml"
check "the client reaches the guest on node1" client_reaches
check "the switch has the guest's MAC on node1's port" switch_port_is node1

declare -a RESULTS=()
migrate() # FROM TO BEFORE_STATS -> prints the stats after, checks everything
{
    local from=$1 to=$2 before=$3 cli0 hb0 st0 cli1 hb1 st1 out mid after port_ms
    cli0=$(rx_bytes "$to" cli) && hb0=$(rx_bytes "$to" hb) && st0=$(rx_bytes "$to" st)
    out=$(lab_vm_migrate "$from" "$to" "$GUEST") || {
        check "live migration $from -> $to" false
        return 1
    }
    cli1=$(rx_bytes "$to" cli) && hb1=$(rx_bytes "$to" hb) && st1=$(rx_bytes "$to" st)
    port_ms=$(ms)
    check "$from -> $to: within 1 s the switch has the guest's MAC on $to's port (self-announce)" \
        lab__wait_for 1 switch_port_is "$to"
    say "$from -> $to: $out; the switch had it there $(($(ms) - port_ms)) ms after virsh returned:" \
        "$(bridge -s -n "$LAB_PREFIX-sw" fdb show br "${LAB_PREFIX}brvm" | grep "^$MAC ")"
    RESULTS+=("$from->$to $out")
    check "$from -> $to: the guest runs on $to only" runs_only_on "$to" "$from"
    check "$from -> $to: its definition moved to $to" persistent_only_on "$to" "$from"
    check "$from -> $to: the stream took the migration network" \
        stream_on_migration_net $((cli1 - cli0)) $((hb1 - hb0)) $((st1 - st0))
    # The first heartbeat written on the destination, then 2 more passes: the last one checked
    # every page after the guest had arrived.
    if ! mid=$(lab_guest_wait "$to" "$GUEST" "$(stat_of beat "$before")" 30) ||
        ! after=$(wait_progress "$to" "$mid"); then
        check "$from -> $to: the guest goes on writing on $to" false
        return 1
    fi
    say "$to after migrating: $after"
    check "$from -> $to: zero stale pages, disk errors, foreign writes" guest_healthy "$after"
    check "$from -> $to: uptime went on (no restart)" greater uptime_ms "$after" "$before"
    check "$from -> $to: same memwriter (heartbeat count went on)" greater beat "$after" "$before"
    check "$from -> $to: the disk sequence went on" greater seq "$after" "$before"
    echo "$after" >"$LAB_DIR/after-$to"
}

# Nothing is sent to the guest during the first move, so only the guest's own frames after it
# (QEMU's RARPs, the guest's gratuitous ARP) can move its MAC to node2's port (migrate checks).
t5=$(ms)
migrate node1 node2 "$st1" || FAILED=1
check "node1 -> node2: the client reaches the guest on node2" client_reaches
t6=$(ms)
st2=$(cat "$LAB_DIR/after-node2" 2>/dev/null || echo "$st1")
# The second move with a client pinging every 5 ms: it gets replies after the move, from one
# copy of the guest.
lab_guest_ping_start "$GUEST" 5
sleep 1
t_move=$(ms)
migrate node2 node1 "$st2" || FAILED=1
t_moved=$(ms)
sleep 1
ping_st=$(lab_guest_ping_stop "$GUEST")
say "node2 -> node1: the client's ping every 5 ms: $ping_st"
RESULTS+=("node2->node1 client ping: $ping_st")
check "node2 -> node1: the client got replies before and after the move" \
    test "$(stat_of first "$ping_st")" -lt "$t_move" -a "$(stat_of last "$ping_st")" -gt "$t_moved"
check "node2 -> node1: no duplicate replies" test "$(stat_of dup "$ping_st")" = 0
check "node2 -> node1: the switch has the guest's MAC on node1's port" switch_port_is node1
t7=$(ms)
st3=$(cat "$LAB_DIR/after-node1" 2>/dev/null || echo "$st2")

lun_seq=$(head -c 512 "$LAB_DIR/storage/$GUEST-disk.img" | tr -d '\0' | sed -n 's/^DRSEQ \([0-9]*\)$/\1/p')
check "the LUN holds the guest's sequence (${lun_seq:-none} >= $(stat_of seq "$st3"))" \
    test "${lun_seq:-0}" -ge "$(stat_of seq "$st3")"
check "the console on node2 shows the guest's time there" \
    grep -q "^DRLAB beat=" <(lab_vm_console node2 "$GUEST")

selftest_down "every recorded process (QEMUs included) is gone"

for r in "${RESULTS[@]}"; do
    say "migration $r"
done
say "times (ms): qemu fetch $((t1 - t0)), guest build $((t2 - t1)), lab+libvirt up $((t3 - t2))," \
    "guest start $((t4 - t3)), migration 1 $((t6 - t5)), migration 2 $((t7 - t6))" \
    "(each incl. 2 writer passes), lab_down $DOWN_MS, total $((DOWN_END - t0))"
if ((FAILED)); then
    say "FAILED"
    exit 1
fi
say "PASSED"
