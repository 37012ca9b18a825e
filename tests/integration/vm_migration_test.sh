#!/bin/bash
# ocf:drover:vm's live migration on the lab, run as Pacemaker runs it: migrate_to on the source
# with OCF_RESKEY_CRM_meta_migrate_target/_source and _timeout (ms), migrate_from on the target,
# then stop on the source. Real libvirtds (peer-to-peer over the management network st, the
# memory stream over the migration network cli), QEMU >= 9 from bookworm-backports (TCG), and
# a guest that rewrites and checks its own memory and keeps a sequence number on an iSCSI LUN.
#
#   vm_migration_test.sh [moderate]   a moderate writer (64 of 256 MiB at 50 MiB/s) moves:
#       the guest's checker reports zero errors, its uptime proves no restart, its disk
#       sequence goes on, it runs on the target only (both libvirtds asked), the stream took
#       the migration network (interface counters), droverd on both nodes reports no failure
#       and the target's droverd knows the domain runs; stop on the source leaves nothing. The
#       guest has a NIC on the lab's guests' network (LAB_GUEST_NET=1): a client pinging it
#       every 5 ms through migrate_to and migrate_from gets replies after them, never two
#       copies' replies, and the switch has its MAC on node2's port (QEMU's self-announce).
#   vm_migration_test.sh policy       a writer far faster than migration_bandwidth=20 MiB/s:
#       precopy with migration_timeout=8 is aborted (OCF_ERR_GENERIC; the VM runs on on the
#       source, unharmed; nothing on the target), postcopy with postcopy_after=2 moves it.
#   vm_migration_test.sh libvirtd-kill  the source's libvirtd, then the target's, is SIGKILLed
#       while migrate_to runs: the VM runs in exactly one place (or nowhere, and the monitors
#       say so), monitor exit codes match each node's QEMU, also after libvirtd is back; a
#       sampler (every ~100 ms, the whole case) never sees two running copies.
#   vm_migration_test.sh netcut   the migration network (cli) of the target, then of the source,
#       is cut while migrate_to runs (libvirt's control connection on st stays): migrate_to
#       fails within its migration_timeout, and the same checks as above, before and after the
#       link is back.
# vm_migration_{policy,libvirtd_kill,netcut}_test.sh run the last three cases.
# Runs as root, ~1-2 minutes per case.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/lab/lab.sh"

CASE=${1:-moderate}
case $CASE in
moderate | policy | libvirtd-kill | netcut) ;;
*)
    echo "usage: $0 [moderate|policy|libvirtd-kill|netcut]" >&2
    exit 2
    ;;
esac
[[ $EUID == 0 ]] || {
    [[ ${CI:-} == true ]] && {
        echo "FATAL: needs root (CI=true)"
        exit 1
    }
    echo "SKIP: needs root"
    exit 77
}
t_require libvirtd virsh tgtd tgtadm busybox cpio cc pgrep
AGENT=$DR_BUILD_DIR/agents/vm
[[ -x $AGENT && -x $DROVERD && -x $DROVER ]] || {
    echo "FATAL: build first (DR_BUILD_DIR=$DR_BUILD_DIR: agents/vm, droverd, drover)"
    exit 1
}

DOM=mig-$LAB_PREFIX # unique on the machine: other labs' guests never match our process scans
RSC=vm-$DOM
MIGNET="node1=198.18.2.11 node2=198.18.2.12"
SAMPLER_PID=
T0=$(t_ms)

cleanup()
{
    sampler_stop
    t_droverd_stop_all
    lab_down >/dev/null 2>&1
}
trap cleanup EXIT

# ------------------------------------------------------------------------------- helpers

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

guest_healthy() # STATS: no stale page, no disk error, no foreign write, no dead writer
{
    [[ $(stat_of errors "$1") == 0 && $(stat_of disk_errors "$1") == 0 &&
        $(stat_of foreign "$1") == 0 && $(stat_of lost "$1") == 0 ]]
}

greater() # KEY AFTER BEFORE
{
    (($(stat_of "$1" "$2") > $(stat_of "$1" "$3")))
}

# Waits until the guest's writer on NODE has finished 2 more passes than in STATS (every page
# checked at least once since) and the disk sequence moved on; prints the new stats.
wait_progress() # NODE STATS [TIMEOUT_S]
{
    local node=$1 p0 s0 st end
    p0=$(stat_of passes "$2") && s0=$(stat_of seq "$2") || return 1
    end=$(($(t_ms) + ${3:-60} * 1000))
    while (($(t_ms) < end)); do
        if st=$(lab_guest_stats "$node" "$DOM" 2>/dev/null) &&
            (($(stat_of passes "$st") >= p0 + 2 && $(stat_of seq "$st") > s0)); then
            echo "$st"
            return 0
        fi
        sleep 0.3
    done
    t_log "no progress on $node since: $2 (now: $(lab_guest_stats "$node" "$DOM" 2>&1))"
    return 1
}

# The guest after it ran somewhere: its first heartbeat there later than BEFORE's, then two
# full writer passes; checks health, uptime, heartbeat and disk sequence against BEFORE.
check_guest_after() # NODE BEFORE_STATS WHAT
{
    local node=$1 before=$2 what=$3 mid after
    if ! mid=$(lab_guest_wait "$node" "$DOM" "$(stat_of beat "$before")" 60 2>/dev/null) ||
        ! after=$(wait_progress "$node" "$mid"); then
        t_fail "$what: the guest goes on writing on $node"
        return 1
    fi
    t_log "$what: $node: $after"
    guest_healthy "$after" && t_pass "$what: the guest's checker: zero stale pages, disk errors, foreign writes" ||
        t_fail "$what: the guest's checker reports: $after"
    greater uptime_ms "$after" "$before" && greater beat "$after" "$before" &&
        t_pass "$what: uptime went on ($(stat_of uptime_ms "$before") -> $(stat_of uptime_ms "$after") ms): not restarted" ||
        t_fail "$what: uptime/beat did not go on: before $before, after $after"
    greater seq "$after" "$before" &&
        t_pass "$what: the disk sequence went on ($(stat_of seq "$before") -> $(stat_of seq "$after"))" ||
        t_fail "$what: the disk sequence did not go on: before $before, after $after"
    LAST_STATS=$after
}

# ocf NODE ACTION [VAR=value...]: the agent as Pacemaker runs it on NODE (inside its
# namespaces); the caller's extra variables come last and win.
ocf()
{
    local node=$1 action=$2
    shift 2
    lab_exec "$node" env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="$RSC" \
        OCF_RESKEY_config="$CONF" OCF_RESKEY_hypervisor="$(lab_libvirt_uri "$node")" \
        OCF_RESKEY_remote_uri="qemu+tcp://%n-st/system" OCF_RESKEY_migration_network="$MIGNET" \
        OCF_RESKEY_shutdown_timeout=5 OCF_RESKEY_CRM_meta_timeout=60000 "$@" "$AGENT" "$action"
}

# Pacemaker's variables for a migration FROM -> TO.
migvars() # FROM TO
{
    echo "OCF_RESKEY_CRM_meta_migrate_source=$1 OCF_RESKEY_CRM_meta_migrate_target=$2"
}

runs_only_on() # NODE OTHER: libvirt on both nodes agrees
{
    [[ $(lab_virsh "$1" domstate "$DOM" 2>/dev/null) == running ]] &&
        [[ $(lab_vm_list "$1") == "$DOM" && -z $(lab_vm_list "$2") ]]
}

persistent_only_on() # NODE OTHER
{
    [[ $(lab_virsh "$1" dominfo "$DOM" 2>/dev/null | awk '/^Persistent:/ {print $2}') == yes ]] &&
        ! lab_virsh "$2" dominfo "$DOM" >/dev/null 2>&1
}

rx_bytes() # NODE NET
{
    ip netns exec "$LAB_PREFIX-n${1#node}" cat "/sys/class/net/$2/statistics/rx_bytes"
}

node_net_ns() # NODE -> its network namespace's identity (/proc/PID/ns/net link)
{
    readlink "/proc/$(lab__pid_get "$1")/ns/net"
}

# QEMU processes of $DOM on NODE, host PIDs ("" if none). By command line, not by libvirt: this
# is the truth when libvirtd is down.
qemus_on() # NODE
{
    local ns p
    ns=$(node_net_ns "$1") || return 1
    for p in $(pgrep -f -- "-name guest=$DOM,"); do
        [[ $(readlink "/proc/$p/ns/net" 2>/dev/null) == "$ns" ]] && echo "$p"
    done
    return 0
}

has_qemu_on() # NODE
{
    [[ -n $(qemus_on "$1") ]]
}

# Whether a QEMU's vCPU thread (QEMU names it "CPU 0/TCG") is running or runnable right now.
# A paused VM's vCPU thread sleeps; the guests here keep their vCPU busy.
vcpu_busy() # PID
{
    local t comm st
    for t in /proc/"$1"/task/*; do
        { read -r comm <"$t/comm" && read -r st <"$t/stat"; } 2>/dev/null || continue
        [[ $comm == "CPU "*"/TCG" ]] || continue
        st=${st##*) }
        [[ ${st%% *} == R ]] && return 0
    done
    return 1
}

# The VM runs on NODE: a QEMU of it is there and its vCPU was busy in one of 20 looks over 1 s.
vm_runs_on() # NODE
{
    local p
    for _ in $(seq 20); do
        for p in $(qemus_on "$1"); do
            vcpu_busy "$p" && return 0
        done
        sleep 0.05
    done
    return 1
}

# Background: every ~100 ms, for each node, how many QEMUs of $DOM exist and how many have a
# busy vCPU. One line per sample: "MS N1 RUN1 N2 RUN2".
sampler_loop() # OUT_FILE
{
    local ns1 ns2 p ns n1 n2 r1 r2 fd
    ns1=$(node_net_ns node1) && ns2=$(node_net_ns node2) || return 1
    exec {fd}<> <(:)
    while :; do
        n1=0 n2=0 r1=0 r2=0
        for p in $(pgrep -f -- "-name guest=$DOM,"); do
            ns=$(readlink "/proc/$p/ns/net" 2>/dev/null) || continue
            if [[ $ns == "$ns1" ]]; then
                n1=$((n1 + 1))
                vcpu_busy "$p" && r1=$((r1 + 1))
            elif [[ $ns == "$ns2" ]]; then
                n2=$((n2 + 1))
                vcpu_busy "$p" && r2=$((r2 + 1))
            fi
        done
        # EPOCHREALTIME instead of date: no fork, so a loaded box still samples often.
        echo "$((${EPOCHREALTIME/./} / 1000)) $n1 $r1 $n2 $r2"
        read -r -t 0.02 -u "$fd" || true
    done >>"$1"
}

sampler_start() # FILE
{
    : >"$1"
    sampler_loop "$1" &
    SAMPLER_PID=$!
}

sampler_stop()
{
    if [[ -n $SAMPLER_PID ]]; then
        kill -KILL "$SAMPLER_PID" 2>/dev/null
        wait "$SAMPLER_PID" 2>/dev/null
    fi
    SAMPLER_PID=
}

# Checks the sampler's record: never a busy vCPU on both nodes at once; sampled often enough.
sampler_check() # FILE WHAT
{
    local f=$1 what=$2 n both gaps
    n=$(wc -l <"$f")
    # A vCPU thread briefly runnable while an incoming QEMU starts or is torn down (it never runs
    # guest code: the guest was never resumed there) shows as one busy sample; a second running
    # copy keeps its vCPU busy sample after sample. Count samples busy on both nodes that follow
    # a sample busy on both nodes.
    both=$(awk '{ b = ($3 > 0 && $5 > 0) } b && prev { n++ } { prev = b } END { print n + 0 }' "$f")
    # Sampling intervals: mean and max, in ms.
    gaps=$(awk 'NR > 1 { d = $1 - prev; s += d; if (d > m) m = d } { prev = $1 }
                END { if (NR > 1) printf "%d %d", s / (NR - 1), m; else print "0 0" }' "$f")
    t_log "$what: $n samples, interval mean ${gaps% *} ms, max ${gaps#* } ms;" \
        "max QEMUs at once: $(awk '{ q = $2 + $4; if (q > m) m = q } END { print m + 0 }' "$f")," \
        "samples with a busy vCPU: node1 $(awk '$3 > 0' "$f" | wc -l), node2 $(awk '$5 > 0' "$f" | wc -l)"
    ((n >= 20 && ${gaps% *} <= 100)) &&
        t_pass "$what: sampled every ${gaps% *} ms on average ($n samples)" ||
        t_fail "$what: sampling too sparse: $n samples, mean interval ${gaps% *} ms"
    ((both == 0)) && t_pass "$what: never two running copies (no sample with a busy vCPU on both nodes)" ||
        t_fail "$what: $both samples with the VM running on both nodes: $(awk '$3 > 0 && $5 > 0' "$f" | head -3 | tr '\n' ';')"
}

# CPU ticks (user + system) a process has used so far.
cpu_ticks() # PID
{
    local s
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    local -a f
    read -r -a f <<<"${s##*) }"
    echo $((f[11] + f[12]))
}

# Waits (up to VM_MIGRATION_WAIT_S, default 150) while another lab's guest QEMU is busy:
# someone may be benchmarking on these 2 cores. An idle guest left running does not count.
wait_machine_quiet()
{
    local end=$(($(t_ms) + ${VM_MIGRATION_WAIT_S:-150} * 1000)) t0=$(t_ms) p busy c0 c1
    local -A before=()
    while :; do
        busy=
        for p in $(pgrep -f -- "qemu-system.* -name guest="); do
            grep -qa -- "guest=$DOM," "/proc/$p/cmdline" 2>/dev/null || before[$p]=$(cpu_ticks "$p")
        done
        sleep 2
        for p in "${!before[@]}"; do
            c0=${before[$p]} c1=$(cpu_ticks "$p") || continue
            # More than 30 % of a core over those 2 s (100 ticks a second).
            ((c1 - c0 > 60)) && busy="$busy $p"
        done
        before=()
        if [[ -z $busy ]]; then
            WAITED_MS=$(($(t_ms) - t0))
            return 0
        fi
        if (($(t_ms) > end)); then
            t_log "other guests still busy (QEMU pids$busy); going ahead"
            WAITED_MS=$(($(t_ms) - t0))
            return 0
        fi
        t_log "waiting: another lab's guest QEMU is busy (pids$busy)"
        sleep 8
    done
}

agent_stat_line() # the agent's final statistics line in T_OUT
{
    grep -o "VM $DOM migrated to .*" <<<"$T_OUT" | tail -1
}

# ----------------------------------------------------------------------------- the lab

t_log "case $CASE: lab $LAB_PREFIX"
if ! lab_qemu_backports >/dev/null; then
    [[ ${CI:-} == true ]] && {
        echo "FATAL: QEMU from bookworm-backports is not available (CI=true)"
        exit 1
    }
    echo "SKIP: QEMU from bookworm-backports is not available"
    exit 77
fi
LAB_QEMU=backports LAB_NODES=2 LAB_NETS="hb cli st" LAB_GUEST_NET=1 lab_up >/dev/null || {
    echo "FATAL: lab_up"
    exit 1
}
lab_libvirt_up node1 && lab_libvirt_up node2 || {
    echo "FATAL: libvirtd"
    exit 1
}
lab_lun_add "$DOM-disk" 16 >/dev/null || {
    echo "FATAL: LUN"
    exit 1
}
T_LAB=$(t_ms)
[[ $("$LAB_EMULATOR" --version) =~ version\ ([0-9]+)\. ]] && ((BASH_REMATCH[1] >= 9)) &&
    t_pass "the lab's QEMU is ${BASH_REMATCH[1]}.x (>= 9.0; 7.2 corrupts TCG guests migrating under writes)" ||
    t_fail "the lab's QEMU $LAB_EMULATOR is older than 9.0"

# GUEST_MIB WRITER_MIB RATE: boots the guest on node1, keeps its persistent definition (with
# the UUID libvirt gave it) as the resource's config, and lets the agent "start" it (already
# running: the agent records it and tells droverd which resource it is). BEFORE: its stats
# after two more writer passes.
guest_up()
{
    wait_machine_quiet
    lab_vm_start_guest node1 "$DOM" "$1" "$2" "$3" disk="$DOM-disk" >/dev/null || {
        echo "FATAL: guest did not boot"
        exit 1
    }
    CONF=$LAB_DIR/$DOM.xml
    lab_virsh node1 dumpxml --inactive "$DOM" >"$CONF"
    t_expect_rc 0 "start on node1 (the guest runs already: the agent adopts it)" ocf node1 start
    t_expect_rc 0 "monitor on node1: running" ocf node1 monitor OCF_RESKEY_CRM_meta_interval=0
    t_expect_rc 7 "probe on node2: not running" ocf node2 monitor OCF_RESKEY_CRM_meta_interval=0
    BEFORE=$(wait_progress node1 "$(lab_guest_stats node1 "$DOM")") || {
        echo "FATAL: the guest makes no progress on node1"
        exit 1
    }
    t_log "node1 before: $BEFORE"
    T_GUEST=$(t_ms)
}

# --------------------------------------------------------------------- case: moderate

case_moderate()
{
    local st1 cli0 hb0 st0b cli1 hb1 st1b line mgmt2 t0 t1 seen
    mgmt2=$(lab_libvirt_tcp_uri node2)
    mgmt2=${mgmt2#qemu+tcp://}
    mgmt2=${mgmt2%%/*}
    [[ $(lab_exec node1 getent hosts node2-st | awk '{print $1}') == "$mgmt2" &&
        $(lab_exec node1 getent hosts node2 | awk '{print $1}') != "$mgmt2" ]] &&
        t_pass "remote_uri qemu+tcp://%n-st/system reaches node2's libvirtd on its management address $mgmt2 (node2 itself resolves to hb)" ||
        t_fail "node2-st does not resolve to node2's management address $mgmt2"

    t_droverd_start node1 --cluster migtest --libvirt-uri "$(lab_libvirt_uri node1)"
    t_droverd_start node2 --cluster migtest --libvirt-uri "$(lab_libvirt_uri node2)"
    t_wait_for 10 grep -q "watching VMs" "$LAB_DIR/droverd-node1.log" &&
        t_wait_for 10 grep -q "watching VMs" "$LAB_DIR/droverd-node2.log" ||
        t_fail "droverd does not watch libvirt on both nodes"

    guest_up 256 64 50
    st1=$BEFORE
    guest_healthy "$st1" && (($(stat_of rate_mib_s "$st1") >= 25)) &&
        t_pass "before: healthy, writer at $(stat_of rate_mib_s "$st1") MiB/s" ||
        t_fail "before: unhealthy or writer too slow: $st1"

    # A stale definition on the target: the same domain defined there earlier under a UUID of
    # its own (an XML without <uuid>); libvirt alone would refuse the migration.
    local uuid1 stale
    uuid1=$(lab_virsh node1 domuuid "$DOM")
    lab_virsh node1 dumpxml --inactive "$DOM" | sed '/<uuid>/d' >"$LAB_DIR/stale.xml"
    lab_virsh node2 define "$LAB_DIR/stale.xml" >/dev/null 2>&1
    stale=$(lab_virsh node2 domuuid "$DOM" 2>/dev/null)
    [[ -n $stale && -n $uuid1 && $stale != "$uuid1" ]] &&
        t_pass "node2 keeps an inactive definition of $DOM under another UUID ($stale, not $uuid1)" ||
        t_fail "could not leave a stale definition on node2: '$stale' vs '$uuid1'"

    lab_guest_ping_start "$DOM" 5
    sleep 0.5
    [[ $(lab_guest_port "$DOM") == node1 ]] &&
        t_pass "pinged by a client, the guest ($(lab_guest_addr "$DOM")) has its MAC on node1's switch port" ||
        t_fail "the switch has the guest's MAC on '$(lab_guest_port "$DOM")', not node1"
    cli0=$(rx_bytes node2 cli) hb0=$(rx_bytes node2 hb) st0b=$(rx_bytes node2 st)
    t0=$(t_ms)
    # shellcheck disable=SC2046
    t_expect_rc 0 "migrate_to on node1 (target node2)" ocf node1 migrate_to $(migvars node1 node2) \
        OCF_RESKEY_CRM_meta_timeout=120000
    t1=$(t_ms)
    line=$(agent_stat_line)
    t_log "migrate_to took $((t1 - t0)) ms; agent: ${line:-no statistics line}"
    MIG_LINES+=("moderate node1->node2: $line")
    [[ $line =~ job\ ([0-9]+)\ ms,\ downtime\ ([0-9]+)\ ms,\ ([0-9]+)\.[0-9]\ MiB ]] &&
        ((BASH_REMATCH[1] > 0 && BASH_REMATCH[3] >= 64)) &&
        t_pass "the agent logged the migration's final statistics at notice (job ${BASH_REMATCH[1]} ms, downtime ${BASH_REMATCH[2]} ms, ${BASH_REMATCH[3]} MiB)" ||
        t_fail "no real 'migrated to' statistics: ${line:-$T_OUT}"
    grep -q "kept an inactive definition of it under another UUID ($stale, not $uuid1): undefined there" <<<"$T_OUT" &&
        [[ $(lab_virsh node2 domuuid "$DOM") == "$uuid1" ]] &&
        t_pass "migrate_to undefined node2's stale definition first; $DOM runs there under its own UUID" ||
        t_fail "stale definition on node2: $(grep -m1 -i 'uuid' <<<"$T_OUT")"
    grep -q "live migration to node2 (tcp://198.18.2.12)" <<<"$T_OUT" &&
        t_pass "the agent sent the memory stream to node2's migration address (tcp://198.18.2.12)" ||
        t_fail "the agent did not use migration_network: $(grep -m1 'live migration' <<<"$T_OUT")"
    # shellcheck disable=SC2046
    t_expect_rc 0 "migrate_from on node2 (source node1)" ocf node2 migrate_from $(migvars node1 node2)
    cli1=$(rx_bytes node2 cli) hb1=$(rx_bytes node2 hb) st1b=$(rx_bytes node2 st)
    [[ $(lab_guest_port "$DOM") == node2 ]] &&
        t_pass "the switch has the guest's MAC on node2's port (QEMU's self-announce)" ||
        t_fail "the switch has the guest's MAC on '$(lab_guest_port "$DOM")', not node2"
    sleep 0.5
    seen=$(lab_guest_ping_stop "$DOM")
    t_log "a client pinging the guest every 5 ms through the migration: $seen"
    MIG_LINES+=("moderate node1->node2, client's ping: $seen")
    (($(stat_of first "$seen") < t0 && $(stat_of last "$seen") > t1)) &&
        t_pass "the client got replies from the guest before migrate_to and after it (longest gap $(stat_of max_gap_ms "$seen") ms)" ||
        t_fail "the client lost the guest: $seen"
    [[ $(stat_of dup "$seen") == 0 ]] && t_pass "no duplicate replies (never two copies answering)" ||
        t_fail "duplicate replies: $seen"
    t_log "node2 received: cli $(((cli1 - cli0) >> 20)) MiB, hb $(((hb1 - hb0) >> 10)) KiB, st $(((st1b - st0b) >> 10)) KiB"
    (((cli1 - cli0) >= 64 << 20 && (hb1 - hb0) < 1 << 20 && (st1b - st0b) < 8 << 20)) &&
        t_pass "the memory stream took the migration network cli ($(((cli1 - cli0) >> 20)) MiB), not hb or st" ||
        t_fail "the stream did not take cli: cli $((cli1 - cli0)) hb $((hb1 - hb0)) st $((st1b - st0b)) bytes"
    (((st1b - st0b) > 0)) && t_pass "the control connection used st (management)" ||
        t_fail "nothing arrived on node2's st"

    runs_only_on node2 node1 && t_pass "the domain runs on node2 only (both libvirtds asked)" ||
        t_fail "domain state: node1 '$(lab_vm_list node1 | tr '\n' ' ')' node2 '$(lab_vm_list node2 | tr '\n' ' ')'"
    persistent_only_on node2 node1 && t_pass "its definition moved to node2 (none left on node1)" ||
        t_fail "definition not moved"
    [[ -z $(qemus_on node1) && -n $(qemus_on node2) ]] && t_pass "its only QEMU process runs on node2" ||
        t_fail "QEMU processes: node1 '$(qemus_on node1)' node2 '$(qemus_on node2)'"
    check_guest_after node2 "$st1" "node1 -> node2"

    t_wait_for 5 eval 'lab_exec node2 "$DROVER" vm "$DOM" | grep -q ": running"' &&
        t_pass "droverd on node2 knows $DOM runs there" ||
        t_fail "droverd on node2: $(lab_exec node2 "$DROVER" vm "$DOM" 2>&1)"
    # Gone, or kept as shut off (reason: migrated): never running.
    t_wait_for 5 eval 'lab_exec node1 "$DROVER" vm "$DOM" | grep -Eq "not on this node|: shutoff"' &&
        t_pass "droverd on node1 knows $DOM does not run there: $(lab_exec node1 "$DROVER" vm "$DOM" 2>&1)" ||
        t_fail "droverd on node1: $(lab_exec node1 "$DROVER" vm "$DOM" 2>&1)"
    t_expect_rc 0 "monitor on node2 after the migration: running" ocf node2 monitor \
        OCF_RESKEY_CRM_meta_interval=10000
    t_expect_rc 7 "probe on node1 after the migration: not running" ocf node1 monitor \
        OCF_RESKEY_CRM_meta_interval=0

    # What Pacemaker does next: stop on the source.
    t_expect_rc 0 "stop on node1 (Pacemaker's step after migrate_from)" ocf node1 stop
    [[ -z $(qemus_on node1) ]] && ! lab_virsh node1 dominfo "$DOM" >/dev/null 2>&1 &&
        t_pass "node1 has nothing left of $DOM (no QEMU, no definition)" ||
        t_fail "node1 still has $DOM: QEMU '$(qemus_on node1)'"
    runs_only_on node2 node1 && t_pass "the stop on node1 left node2's VM running" ||
        t_fail "node2's VM is not running after the source's stop"
    sleep 1
    if grep -q "reported to Pacemaker" "$LAB_DIR/droverd-node1.log" "$LAB_DIR/droverd-node2.log"; then
        t_fail "droverd reported the migration as a failure: $(grep -h 'reported to Pacemaker' "$LAB_DIR"/droverd-node*.log)"
    else
        t_pass "neither droverd reported the migration (or the source's stop) to Pacemaker"
    fi
    # Control: droverd does report a death of the migrated VM on node2, where migrate_from
    # made it the resource's.
    kill -KILL "$(qemus_on node2)"
    t_wait_for 5 grep -q "resource $RSC) died" "$LAB_DIR/droverd-node2.log" &&
        t_pass "control: a killed QEMU on node2 is reported by node2's droverd (it knows the resource)" ||
        t_fail "control: node2's droverd did not report the killed VM: $(tail -2 "$LAB_DIR/droverd-node2.log")"
}

# ----------------------------------------------------------------------- case: policy

case_policy()
{
    local st1 t0 t1 line bw=20
    guest_up 256 64 0
    st1=$BEFORE
    guest_healthy "$st1" && (($(stat_of rate_mib_s "$st1") >= 3 * bw)) &&
        t_pass "the writer touches $(stat_of rate_mib_s "$st1") MiB/s (every page of its 64 MiB many times a second), far above migration_bandwidth=$bw MiB/s" ||
        t_fail "writer too slow or unhealthy for this case: $st1"

    # Pre-copy only, timeout 8 s: it cannot converge, so the agent aborts it.
    t0=$(t_ms)
    # shellcheck disable=SC2046
    t_expect_out 1 "aborted by policy" "precopy, timeout 8 s: migrate_to aborts (OCF_ERR_GENERIC)" \
        ocf node1 migrate_to $(migvars node1 node2) OCF_RESKEY_CRM_meta_timeout=120000 \
        OCF_RESKEY_migration_policy=precopy OCF_RESKEY_migration_timeout=8 \
        OCF_RESKEY_migration_bandwidth=$bw
    t1=$(t_ms)
    t_log "aborted migrate_to took $((t1 - t0)) ms: $(grep -o 'migration to node2 aborted after.*' <<<"$T_OUT")"
    MIG_LINES+=("precopy abort: migrate_to $((t1 - t0)) ms; $(grep -o 'aborted after.*' <<<"$T_OUT" | head -1)")
    ((t1 - t0 >= 8000 && t1 - t0 < 20000)) && t_pass "the abort came at the timeout ($((t1 - t0)) ms)" ||
        t_fail "migrate_to took $((t1 - t0)) ms with migration_timeout=8"
    runs_only_on node1 node2 && t_pass "after the abort the VM runs on node1 only (both libvirtds asked)" ||
        t_fail "after the abort: node1 '$(lab_vm_list node1)' node2 '$(lab_vm_list node2)'"
    persistent_only_on node1 node2 && t_pass "after the abort the definition is still on node1 only" ||
        t_fail "after the abort the definition moved"
    [[ -z $(qemus_on node2) ]] && t_pass "no QEMU of $DOM on node2 after the abort" ||
        t_fail "QEMU $(qemus_on node2) left on node2"
    t_expect_rc 0 "monitor on node1 after the abort: running" ocf node1 monitor OCF_RESKEY_CRM_meta_interval=0
    t_expect_rc 7 "probe on node2 after the abort: not running" ocf node2 monitor OCF_RESKEY_CRM_meta_interval=0
    check_guest_after node1 "$st1" "precopy abort"
    st1=$LAST_STATS

    # Post-copy after 2 s: moves it at the same capped bandwidth.
    t0=$(t_ms)
    # shellcheck disable=SC2046
    t_expect_out 0 "switched to post-copy" "postcopy after 2 s: migrate_to completes" \
        ocf node1 migrate_to $(migvars node1 node2) OCF_RESKEY_CRM_meta_timeout=120000 \
        OCF_RESKEY_migration_policy=postcopy OCF_RESKEY_postcopy_after=2 \
        OCF_RESKEY_migration_bandwidth=$bw
    t1=$(t_ms)
    line=$(agent_stat_line)
    t_log "post-copy migrate_to took $((t1 - t0)) ms; agent: ${line:-no statistics line}"
    MIG_LINES+=("postcopy node1->node2: migrate_to $((t1 - t0)) ms; $line")
    [[ $line == *"(post-copy)" ]] && t_pass "the statistics say post-copy" ||
        t_fail "no post-copy statistics line: $(grep -i 'migrat' <<<"$T_OUT" | tail -3)"
    # libvirt 9.0 keeps no final statistics after post-copy: the agent measures the downtime
    # (source paused -> destination running) rather than logging 0, or, when the switch was not seen on both nodes (the destination's libvirtd reports the
    # guest running late on a loaded machine), says so; never a made-up 0.
    if [[ $line =~ downtime\ ([0-9]+)\ ms ]]; then
        ((BASH_REMATCH[1] > 0)) && [[ $line == *"measured by drover"* ]] &&
            t_pass "post-copy downtime logged: ${BASH_REMATCH[1]} ms, measured by drover" ||
            t_fail "post-copy downtime 0 or not drover's measure: '$line'"
    else
        [[ $line == *"downtime not measured (post-copy"* ]] &&
            t_pass "post-copy: the switch was not seen on both nodes, and the line says the downtime was not measured" ||
            t_fail "post-copy downtime missing: '$line'"
    fi
    # shellcheck disable=SC2046
    t_expect_rc 0 "migrate_from on node2" ocf node2 migrate_from $(migvars node1 node2)
    runs_only_on node2 node1 && t_pass "after post-copy the VM runs on node2 only" ||
        t_fail "after post-copy: node1 '$(lab_vm_list node1)' node2 '$(lab_vm_list node2)'"
    [[ -z $(qemus_on node1) ]] && t_pass "no QEMU of $DOM left on node1" ||
        t_fail "QEMU $(qemus_on node1) left on node1"
    check_guest_after node2 "$st1" "post-copy"
    t_expect_rc 0 "stop on node1 after the migration" ocf node1 stop
    t_expect_rc 7 "probe on node1: not running" ocf node1 monitor OCF_RESKEY_CRM_meta_interval=0
}

# ---------------------------------------------------------------- case: libvirtd-kill

# After a kill: where does the VM run, and do the agent's monitors on both nodes agree?
check_reality() # WHAT
{
    local what=$1 node rc n_run=0 n_qemu=0 q where=
    for node in node1 node2; do
        q=$(qemus_on "$node")
        rc=0
        ocf "$node" monitor OCF_RESKEY_CRM_meta_interval=0 >/dev/null 2>&1 || rc=$?
        if [[ -z $q ]]; then
            [[ $rc == 7 ]] && t_pass "$what: $node has no QEMU of $DOM and its monitor says 7" ||
                t_fail "$what: $node has no QEMU of $DOM but its monitor says $rc"
        elif vm_runs_on "$node"; then
            n_run=$((n_run + 1))
            where="$where $node"
            [[ $rc == 0 ]] && t_pass "$what: $DOM runs on $node and its monitor says 0" ||
                t_fail "$what: $DOM runs on $node (QEMU $q) but its monitor says $rc"
        else
            [[ $rc != 7 ]] && t_pass "$what: $node has a paused QEMU of $DOM ($q) and its monitor says $rc, not 7" ||
                t_fail "$what: $node has a QEMU of $DOM ($q) but its monitor says 7"
        fi
        [[ -z $q ]] || n_qemu=$((n_qemu + 1))
    done
    if ((n_run == 1)); then
        t_pass "$what: the VM runs in exactly one place ($where)"
    elif ((n_run == 0 && n_qemu == 0)); then
        t_pass "$what: the VM is stopped on both nodes, and both monitors say so"
    else
        t_fail "$what: $n_run running copies, QEMUs on $n_qemu nodes"
    fi
    WHERE=${where# }
}

# The interruptions of interrupt_case: do it to VICTIM (say what was done, or fail), undo it.
interrupt_libvirtd() # VICTIM
{
    local lv
    lv=$(lab__pid_get "libvirtd-$1") && kill -KILL "$lv" && echo "SIGKILL to libvirtd (pid $lv)"
}

restore_libvirtd() # VICTIM
{
    lab_libvirt_up "$1" 2>&1 && t_wait_for 30 lab_virsh "$1" list
}

interrupt_netcut() # VICTIM
{
    lab_link_cut "$1" cli && echo "$1's port on the migration network (cli) down"
}

restore_netcut() # VICTIM
{
    lab_link_heal "$1" cli
}

# FROM TO VICTIM KIND: migrate_to FROM -> TO in the background; once the memory stream flows,
# interrupt_KIND VICTIM; check, restore_KIND VICTIM, check again.
interrupt_case()
{
    local from=$1 to=$2 victim=$3 kind=$4 what st0 st1 rc t0 t_kill out did timeout_s=50
    local pid samples=$LAB_DIR/samples-$victim
    what=$([[ $kind == libvirtd ]] && echo "libvirtd of $victim killed" || echo "migration network of $victim cut")
    # A cut link stalls the stream without an error: the policy's timeout ends the migration.
    [[ $kind == netcut ]] && timeout_s=10
    st0=$(lab_guest_stats "$from" "$DOM")
    st1=$(wait_progress "$from" "$st0") || {
        t_fail "$what: the guest does not make progress on $from"
        return
    }
    sampler_start "$samples"
    out=$LAB_DIR/migrate_to-$victim.out
    t0=$(t_ms)
    # shellcheck disable=SC2046
    ocf "$from" migrate_to $(migvars "$from" "$to") OCF_RESKEY_CRM_meta_timeout=60000 \
        OCF_RESKEY_migration_policy=precopy OCF_RESKEY_migration_bandwidth=10 \
        OCF_RESKEY_migration_timeout=$timeout_s >"$out" 2>&1 &
    pid=$!
    # Mid-migration: the target's incoming QEMU exists and the stream has run for a second.
    if ! t_wait_for 30 has_qemu_on "$to"; then
        t_fail "$what: no incoming QEMU on $to: $(cat "$out")"
    fi
    sleep 1
    t_kill=$(t_ms)
    if kill -0 "$pid" 2>/dev/null && did=$("interrupt_$kind" "$victim"); then
        t_pass "$what: $did $((t_kill - t0)) ms into migrate_to, while it ran"
    else
        t_fail "$what: migrate_to was over before the interruption (or it failed): $(cat "$out")"
    fi
    rc=0
    wait "$pid" || rc=$?
    t_log "$what: migrate_to exit $rc after $(($(t_ms) - t0)) ms; $(grep -E 'err|warn|migrated' "$out" | tail -3 | tr '\n' ' ')"
    ((rc != 0)) && t_pass "$what: migrate_to failed (exit $rc), $(($(t_ms) - t_kill)) ms after the interruption, within its timeout" ||
        t_fail "$what: migrate_to exited 0 although the migration was interrupted before it could finish"
    sleep 3
    check_reality "$what, still"
    local where_down=$WHERE
    if out=$("restore_$kind" "$victim" 2>&1); then
        t_pass "$what: undone on $victim"
    else
        t_fail "$what: cannot be undone on $victim: $out"
    fi
    sleep 3 # libvirtd reconnects to its QEMUs and recovers interrupted jobs; links settle
    check_reality "$what, undone"
    [[ $WHERE == "$where_down" ]] && t_pass "$what: undoing it changed nothing ($WHERE)" ||
        t_fail "$what: the VM moved when it was undone: '$where_down' -> '$WHERE'"
    if [[ -n $WHERE ]]; then
        [[ $(lab_virsh "$WHERE" domstate "$DOM" 2>/dev/null) == running ]] &&
            t_pass "$what: libvirt on $WHERE says running" ||
            t_fail "$what: libvirt on $WHERE says '$(lab_virsh "$WHERE" domstate "$DOM" 2>&1)'"
        check_guest_after "$WHERE" "$st1" "$what"
        # Pacemaker's next step after a failed migrate_to: stop wherever it is not wanted.
        local other=node1
        [[ $WHERE == node1 ]] && other=node2
        t_expect_rc 0 "$what: stop on $other (where it does not run)" ocf "$other" stop
        vm_runs_on "$WHERE" && t_pass "$what: that stop left the VM running on $WHERE" ||
            t_fail "$what: after the stop on $other the VM does not run on $WHERE"
    fi
    sampler_stop
    sampler_check "$samples" "$what"
}

# KIND ROLE1 ROLE2: interrupt_case of a migration node1 -> node2, then of one from wherever the
# VM ended up to the other node; ROLE says whose it is each time (source or target).
interrupt_twice()
{
    local kind=$1 role from=node1 to=node2 n=0
    for role in "$2" "$3"; do
        if ((n++ > 0)); then
            [[ -n ${WHERE:-} ]] || {
                t_fail "no VM left to migrate for the second interruption ($kind)"
                return
            }
            from=$WHERE to=node2
            [[ $WHERE == node2 ]] && to=node1
        fi
        interrupt_case "$from" "$to" "$([[ $role == source ]] && echo "$from" || echo "$to")" "$kind"
    done
}

case_libvirtd_kill()
{
    # 32 of 128 MiB rewritten as fast as the vCPU can: the vCPU stays busy (what the sampler
    # looks at) and pre-copy at 10 MiB/s takes long enough to be caught in the middle.
    guest_up 128 32 0
    interrupt_twice libvirtd source target
}

case_netcut()
{
    guest_up 128 32 0
    interrupt_twice netcut target source
}

# ------------------------------------------------------------------------------ run

declare -a MIG_LINES=()
LAST_STATS=
WHERE=
WAITED_MS=0
"case_${CASE//-/_}"
for l in "${MIG_LINES[@]}"; do
    t_log "migration: $l"
done
t_log "times: lab+libvirt $((T_LAB - T0)) ms, waiting for other labs ${WAITED_MS:-0} ms," \
    "guest ${T_GUEST:+$((T_GUEST - T_LAB - ${WAITED_MS:-0}))} ms," \
    "case $(($(t_ms) - ${T_GUEST:-$T_LAB})) ms, total $(($(t_ms) - T0)) ms"
t_summary
