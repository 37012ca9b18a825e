#!/bin/bash
# lab.sh - drover's test lab: iSCSI storage, cluster nodes and libvirt in namespaces, on one
# machine, as root, without systemd or containers. Nothing is added to the root network
# namespace and nothing is mounted in the root mount namespace.
#
# As a library (integration tests):
#     source tests/lab/lab.sh          # sets LAB_PREFIX/LAB_DIR; leaves shell options alone
#     trap lab_down EXIT
#     lab_up                           # LAB_NODES=3 nodes, storage, LUN "fence"
#     url=$(lab_lun_add data 64)
#     lab_exec node1 hostname
# As a tool (same functions, verbs with '-' or '_'):
#     eval "$(tests/lab/lab.sh up)"    # prints: export LAB_PREFIX=drXXXX LAB_DIR=...
#     tests/lab/lab.sh exec node2 ip -br addr
#     tests/lab/lab.sh down            # LAB_PREFIX selects the lab
#
# Functions (verbs):
#   lab_deps [PKG...]             apt-get install the packages the lab needs (and PKGs), if missing
#   lab_up                        networks, storage (tgtd + LUN "fence"), nodes; libvirt if LAB_LIBVIRT=1
#   lab_down                      stop everything by recorded PID, delete namespaces, rm $LAB_DIR
#   lab_status                    what runs, with PIDs; namespaces; LUNs; libvirt URIs
#   lab_exec NODE CMD...          run CMD in node NODE (node1|1..., "storage" or "client") namespaces
#   lab_lun_add NAME [SIZE_MB]    new target iqn.2026-11.org.drover.lab:NAME, LUN 1; prints its URL
#   lab_lun_url NAME              prints the URL of an existing LUN
#   lab_libvirt_up NODE           private libvirtd in NODE's namespaces
#   lab_libvirt_uri NODE          qemu+unix URI of NODE's libvirtd, usable from the root namespace
#   lab_virsh NODE ARGS...        virsh against NODE's libvirtd
#   lab_vm_start NODE NAME [MiB]  define and start a tiny TCG domain (no disk), wait until running
#   lab_vm_list NODE              names of the running domains on NODE
#   lab_pids                      "NAME PID" of every live process the lab recorded
# Guests and live migration (lab-migration-selftest.sh shows them all at work):
#   lab_qemu_backports            QEMU >= 9 from <release>-backports, unpacked into a cache (not
#                                 installed); prints the emulator wrapper for LAB_EMULATOR
#   lab_guest_kernel              Debian's kernel, unpacked into a cache; prints its root dir
#   lab_guest_build               $LAB_DIR/guest: vmlinuz + initrd (busybox, guest/init.sh,
#                                 guest/memwriter.c); prints the dir
#   lab_vm_start_guest NODE NAME MEM_MIB [WRITER_MIB [RATE_MIB_S]] [disk=LUN]
#                                 persistent guest domain (XML kept in $LAB_DIR/guests/NAME.xml,
#                                 path printed), started; waits for its first heartbeat
#   lab_vm_console NODE NAME      the guest's serial console as written on NODE
#   lab_guest_stats NODE NAME     its last heartbeat there: beat= uptime_ms= errors= passes=
#                                 rate_mib_s= seq= disk_errors= foreign= lost=
#   lab_guest_wait NODE NAME [AFTER_BEAT [TIMEOUT_S]]  waits for a later heartbeat on NODE
#   lab_vm_migrate FROM TO NAME [FLAG...]  virsh migrate --live --p2p (definition moves along);
#                                 prints wall_ms= total_ms= downtime_ms= data_mib=
#   lab_node_addr NODE NET        the node's address on NET (hb, cli, st)
#   lab_libvirt_tcp_uri NODE      qemu+tcp URI of NODE's libvirtd on its management address
# The guests' network (LAB_GUEST_NET=1 lab_up): each guest gets a virtio NIC on bridge brvm of
# the node it runs on, with its own MAC and address wherever it runs (cmdline drlab_ip=).
#   lab_guest_addr NAME           its address, 198.18.4.(100 + N) for the Nth guest name
#   lab_guest_port NAME           the node (or "client") on whose switch port its MAC was learnt
#   lab_guest_ping_start NAME [INTERVAL_MS]  a client pings it every 5 ms (iputils ping -D)
#   lab_guest_ping_stop NAME      stops it; prints what the client saw: sent= received= lost=
#                                 dup= max_gap_ms= outage_ms= stall_ms= ... (lab__ping_summary)
# The cluster (LAB_CLUSTER=1 lab_up; lab-cluster-selftest.sh shows it at work): every node runs
# droverd (devices: the LUN "fence"; libvirt: the node's libvirtd when there is one), corosync
# (configs/corosync/corosync.conf.in: knet link 0 on hb, link 1 on cli, aes256/sha256, a per-lab
# authkey) and Pacemaker, in that order, each recorded by PID (nodeK-droverd, -corosync,
# -pacemakerd). Logs: $LAB_DIR/nodeK/log/{corosync,pacemaker,droverd.log}.
#   lab_cluster_up                the stacks on every running node; waits for all online + quorum
#   lab_cluster_down              stops the stacks cleanly (nodes stay up)
#   lab_cluster_status            crm_mon -1 -r -f from a node that runs Pacemaker
#   lab_cluster_state [NODE]      "ONLINE_COUNT QUORATE(0|1) DC" as NODE sees the cluster
#   lab_cluster_wait [N [TIMEOUT_S]]  until every running node sees N nodes online with quorum
#   lab_cluster_node_up NODE      one node's stack (after lab_node_start: done already)
#   lab_node_kill NODE            power cut: SIGKILL of the node's init (its whole PID namespace)
#   lab_node_stop NODE            clean shutdown: Pacemaker (moves resources away), corosync,
#                                 droverd, libvirtd, then the node's init
#   lab_node_start NODE           boots a killed/stopped node: namespaces, libvirtd, the stack
#   lab_link_cut NODE [NET...]    takes the node's port on NET down: hb, cli, st, vm, or heartbeat
#                                 (hb + cli: both knet links; the default)
#   lab_link_heal NODE [NET...]   brings them up again
#   lab_partition NODE...         splits hb and cli: NODEs on one side, the others on the other
#   lab_partition_heal            one side again
#   lab_cib_pcs [VAR=VALUE...]    applies configs/cib/drover.pcs.sh on a node with the lab's
#                                 values (fence LUN, cluster name, nodes, migration addresses);
#                                 DROVER_VM_NAME=.. DROVER_VM_CONFIG=.. adds a VM resource
#   lab_cib_crm [VAR=VALUE...]    the same CIB from configs/cib/drover.crm (crm configure load)
#   lab_crm K ARGS...             crm on node K, again (up to 3 times) on crmsh 4.4's patch race
#
# Environment:
#   LAB_PREFIX    names every namespace, bridge and the state dir; default dr<4 random hex>;
#                 must match [a-z][a-z0-9]{1,7} (interface names are limited to 15 bytes)
#   LAB_RUN_TAG   2 hex digits: the default prefix is dr<tag><2 random hex>, so that a test run
#                 (scripts/test.sh) can find the labs its tests left behind ($LAB_DIR/owner
#                 names the script that made each)
#   LAB_DIR       state: pids/, logs, sockets, per-node dirs (default /tmp/$LAB_PREFIX)
#   LAB_NODES     nodes made by lab_up (default 3)
#   LAB_NETS      networks the nodes join, among hb cli st (default "st"; storage is always there)
#   LAB_LIBVIRT   1: lab_up also runs lab_libvirt_up on every node
#   LAB_EMULATOR  QEMU binary for lab_vm_start, lab_vm_start_guest and libvirt's probe (default
#                 /usr/bin/qemu-system-x86_64); kept in $LAB_DIR/lab.env when set at lab_up
#   LAB_QEMU      backports: lab_up sets LAB_EMULATOR=$(lab_qemu_backports)
#   LAB_MGMT_NET  network of libvirt's TCP listener and p2p control connections (default st)
#   LAB_MIGRATION_NET  network of the migration data stream: qemu.conf migration_address and
#                 migration_host on nodes that join it (default cli)
#   LAB_GUEST_NET 1: lab_up adds the guests' network vm and the client namespace, and guests get
#                 a NIC on it (default 0: guests without NIC); kept in $LAB_DIR/lab.env
#   LAB_QEMU_CACHE   unpacked backports QEMU (default /var/cache/drover-test/qemu-backports)
#   LAB_KERNEL_CACHE unpacked Debian kernels, shared with sgio-guest/run.sh's layout and lock
#                 (default /var/cache/drover-test/kernel)
#   LAB_GUEST_BOOT_TIMEOUT  seconds lab_vm_start_guest waits for the first heartbeat (120)
#   LAB_CACHE_DIR warm libvirt QEMU-capabilities cache shared by labs (default /var/tmp/drover-lab);
#                 libvirt revalidates it, so it only saves the ~10 s probe per libvirtd
#   LAB_CLUSTER   1: lab_up runs the cluster (LAB_NETS defaults to "hb cli st"); lab_deps adds
#                 corosync, Pacemaker, pcs and crmsh
#   LAB_TOKEN_MS  corosync's token timeout (default 3000: holds under QEMU load on 2 cores)
#   LAB_CLUSTER_NAME  corosync cluster_name, droverd --cluster (default lab-$LAB_PREFIX)
#   LAB_DC_DEADTIME   seeded into each node's first CIB (default 2s; Pacemaker's 20 s delays up)
#   LAB_STOP_TIMEOUT  seconds a clean stop of Pacemaker may take (120)
#   LAB_ON_FENCED droverd --on-fenced command of the cluster nodes (default: SIGTERM to the node's
#                 pacemakerd, as `systemctl stop pacemaker`); set empty for none
#   DR_BUILD_DIR  drover's build tree: droverd, drover, fence_drover, agents/vm (<source>/build)
#   KEEP=1        lab_down keeps $LAB_DIR (logs, pid records)
#
# Addressing plan: 198.18.0.0/15 only, only inside the lab's namespaces, no routes:
#   hb  198.18.1.0/24  heartbeat, corosync knet link 0
#   cli 198.18.2.0/24  client + live migration, knet link 1
#   st  198.18.3.0/24  storage (iSCSI)
#   vm  198.18.4.0/24  guests (LAB_GUEST_NET=1): client .10, guests .100 up; nodes only bridge
#   host part: storage .10 (tgtd on 198.18.3.10:3260), nodeK .(10+K)
#
# Namespaces: $LAB_PREFIX-sw holds one bridge per network ($LAB_PREFIX"br"NET); $LAB_PREFIX-st
# holds tgtd; $LAB_PREFIX-nK is node K's network namespace (with LAB_GUEST_NET=1 also its bridge
# brvm, joined to the switch by its veth vm); $LAB_PREFIX-cl is the guests' client. Each node also has its own mount,
# UTS (hostname nodeK), IPC and PID namespaces, held by a small init (PID 1 of the node) that
# lab_exec enters with nsenter; killing it kills everything left in the node.
# Every process the lab starts is recorded in $LAB_DIR/pids/NAME.pid as "PID STARTTIME" (the
# start time guards against PID reuse) and stopped by that PID.
#
# Left on the host (what Debian's libvirt-daemon-system would create): user libvirt-qemu, empty
# /var/{lib,log,cache}/libvirt (mount points), and the capabilities cache in $LAB_CACHE_DIR;
# the QEMU and kernel caches (~90 + ~450 MB) when the guest functions ran.
#
# Migration: each node's libvirtd listens on TCP (auth none) on its LAB_MGMT_NET address, and
# its qemu.conf sets migration_address/migration_host to its LAB_MIGRATION_NET address when the
# node joins that network (LAB_NETS="cli st"): peer-to-peer control on st, memory on cli.
# Guests write their console to /var/log/libvirt/qemu/NAME-serial.log of the node they run on
# ($LAB_DIR/nodeK/log/libvirt/qemu/), appending: after a migration the destination's file goes
# on. Use LAB_EMULATOR=$(lab_qemu_backports): Debian 12's QEMU 7.2 loses pages of TCG guests
# migrated while they write (../shared/lab-notes/libvirt-migration/NOTES.md).
# Extending: a network is a line in lab__net_octet plus LAB_NETS; a node daemon is started with
# lab_exec and recorded with lab__pid_record, and lab_down stops every record it finds.

# ---------------------------------------------------------------------------------- basics

LAB_SELF=$(readlink -f "${BASH_SOURCE[0]}")
LAB_IQN_BASE=iqn.2026-11.org.drover.lab
LAB_PORTAL=198.18.3.10:3260

lab__log()
{
    printf '%s lab %s: %s\n' "$(date +%T.%3N)" "${LAB_PREFIX:-?}" "$*" >&2
}

lab__err()
{
    lab__log "ERROR: $*"
    return 1
}

lab__ms()
{
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

lab__init()
{
    if [[ -z ${LAB_PREFIX:-} && ${LAB_RUN_TAG:-} =~ ^[0-9a-f]{2}$ ]]; then
        LAB_PREFIX=dr$LAB_RUN_TAG$(od -An -N1 -tx1 /dev/urandom | tr -d ' \n')
    elif [[ -z ${LAB_PREFIX:-} ]]; then
        LAB_PREFIX=dr$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
    fi
    if [[ ! $LAB_PREFIX =~ ^[a-z][a-z0-9]{1,7}$ ]]; then
        lab__err "LAB_PREFIX '$LAB_PREFIX' must match [a-z][a-z0-9]{1,7}"
        return 1
    fi
    LAB_DIR=${LAB_DIR:-/tmp/$LAB_PREFIX}
    export LAB_PREFIX LAB_DIR
}

# Reads what lab_up decided (node count, networks) so that later calls and other processes agree.
lab__env()
{
    if [[ -r $LAB_DIR/lab.env ]]; then
        # shellcheck source=/dev/null
        source "$LAB_DIR/lab.env"
    fi
    LAB_NODES=${LAB_NODES:-3}
    LAB_NETS=${LAB_NETS:-st}
}

lab__require()
{
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || {
            lab__err "'$c' not found (run lab_deps)"
            return 1
        }
    done
}

# Polls CMD... every 50 ms until it succeeds or TIMEOUT_S passes.
lab__wait_for()
{
    local timeout_s=$1 end
    shift
    end=$(($(lab__ms) + timeout_s * 1000))
    until "$@"; do
        (($(lab__ms) < end)) || return 1
        sleep 0.05
    done
}

# ----------------------------------------------------------------------------- PID records

lab__starttime() # PID -> start time in clock ticks; fails for a dead or zombie process
{
    local s
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    local -a f
    read -r -a f <<<"${s##*) }"
    [[ ${f[0]} != Z && ${f[0]} != X ]] || return 1
    echo "${f[19]}"
}

lab__pid_record() # NAME PID
{
    local st
    st=$(lab__starttime "$2") || {
        lab__err "$1: process $2 is not running"
        return 1
    }
    mkdir -p "$LAB_DIR/pids" && echo "$2 $st" >"$LAB_DIR/pids/$1.pid"
}

lab__pid_alive() # PID STARTTIME
{
    local st
    st=$(lab__starttime "$1") && [[ $st == "$2" ]]
}

lab__pid_get() # NAME -> PID, if that very process is still alive
{
    local pid st
    { read -r pid st <"$LAB_DIR/pids/$1.pid"; } 2>/dev/null || return 1
    lab__pid_alive "$pid" "$st" && echo "$pid"
}

# Sends SIG (TERM; 0 = none, just wait) to the recorded process NAME, waits up to TIMEOUT_S,
# then SIGKILLs it. Fails only if the process survives SIGKILL.
lab__pid_stop() # NAME TIMEOUT_S [SIG]
{
    local name=$1 timeout_s=$2 sig=${3:-TERM} pid st
    { read -r pid st <"$LAB_DIR/pids/$name.pid"; } 2>/dev/null || return 0
    lab__pid_alive "$pid" "$st" || return 0
    [[ $sig == 0 ]] || kill -"$sig" "$pid" 2>/dev/null || true
    lab__wait_for "$timeout_s" lab__pid_dead "$pid" "$st" && return 0
    lab__log "$name (pid $pid) still running after ${timeout_s}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    lab__wait_for 5 lab__pid_dead "$pid" "$st" || lab__err "$name (pid $pid) survived SIGKILL"
}

lab__pid_dead()
{
    ! lab__pid_alive "$@"
}

lab_pids()
{
    local f k name pid
    for f in "$LAB_DIR"/pids/libvirtd-node*.pid; do
        [[ -e $f ]] || continue
        k=${f##*/libvirtd-node}
        lab__qemu_record "${k%.pid}"
    done
    for f in "$LAB_DIR"/pids/*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/}
        name=${name%.pid}
        pid=$(lab__pid_get "$name") && echo "$name $pid"
    done
    return 0
}

# --------------------------------------------------------------------------------- network

lab__net_octet() # NET -> third octet of its 198.18.X.0/24
{
    case $1 in
    hb) echo 1 ;;
    cli) echo 2 ;;
    st) echo 3 ;;
    vm) echo 4 ;;
    *)
        lab__err "unknown network '$1' (hb, cli, st, vm)"
        return 1
        ;;
    esac
}

lab__node_nets() # networks the nodes join: LAB_NETS, always including st
{
    local n out=st
    for n in ${LAB_NETS:-st}; do
        [[ $n == st ]] || out="$out $n"
    done
    echo "$out"
}

# Connects namespace NS to network NET: interface NET inside NS, its peer PEER on the bridge.
lab__attach() # NS NET PEER HOST_OCTET
{
    local ns=$1 net=$2 peer=$3 host=$4 sw=$LAB_PREFIX-sw octet
    octet=$(lab__net_octet "$net") || return 1
    ip -n "$sw" link add "$peer" type veth peer name "$net" netns "$ns" &&
        ip -n "$sw" link set "$peer" master "${LAB_PREFIX}br$net" up &&
        ip -n "$ns" addr add "198.18.$octet.$host/24" dev "$net" &&
        ip -n "$ns" link set "$net" up
}

# A namespace with IPv4 only: no IPv6 link-local addresses, router solicitations or DAD on the
# lab's links, so 198.18.0.0/15 is all the lab's addressing.
lab__netns_add() # NS
{
    ip netns add "$1" &&
        ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1 >/dev/null &&
        ip -n "$1" link set lo up
}

lab__net_up()
{
    local sw=$LAB_PREFIX-sw net k
    lab__netns_add "$sw" || return 1
    for net in hb cli st $(lab__guest_net); do
        ip -n "$sw" link add "${LAB_PREFIX}br$net" type bridge &&
            ip -n "$sw" link set "${LAB_PREFIX}br$net" up || return 1
    done
    lab__netns_add "$LAB_PREFIX-st" &&
        lab__attach "$LAB_PREFIX-st" st "${LAB_PREFIX}stst" 10 || return 1
    for ((k = 1; k <= LAB_NODES; k++)); do
        lab__netns_add "$LAB_PREFIX-n$k" || return 1
        for net in $(lab__node_nets); do
            lab__attach "$LAB_PREFIX-n$k" "$net" "${LAB_PREFIX}n$k$net" $((10 + k)) || return 1
        done
    done
    [[ -z $(lab__guest_net) ]] || lab__guest_net_up
}

lab__guest_net() # "vm" if the lab has the guests' network (LAB_GUEST_NET=1 at lab_up)
{
    lab__env
    [[ ${LAB_GUEST_NET:-0} != 1 ]] || echo vm
}

# The guests' network vm: in each node a bridge brvm, where libvirt plugs the guests' NICs,
# joined by a veth (vm in the node) to the switch's bridge, so a guest keeps its address and MAC
# on every node and the switch learns where it runs from its frames (QEMU's self-announce after
# a migration). Nodes have no address there. A client namespace ($LAB_PREFIX-cl, 198.18.4.10)
# reaches the guests from outside, as their users would.
lab__guest_net_up()
{
    local sw=$LAB_PREFIX-sw ns k
    lab__netns_add "$LAB_PREFIX-cl" && lab__attach "$LAB_PREFIX-cl" vm "${LAB_PREFIX}clvm" 10 ||
        return 1
    for ((k = 1; k <= LAB_NODES; k++)); do
        ns=$LAB_PREFIX-n$k
        ip -n "$ns" link add brvm type bridge && ip -n "$ns" link set brvm up &&
            ip -n "$sw" link add "${LAB_PREFIX}n${k}vm" type veth peer name vm netns "$ns" &&
            ip -n "$sw" link set "${LAB_PREFIX}n${k}vm" master "${LAB_PREFIX}brvm" up &&
            ip -n "$ns" link set vm master brvm up || return 1
    done
}

lab__netns_list() # the namespaces that carry this lab's prefix
{
    local ns rest
    ip netns list 2>/dev/null | while read -r ns rest; do
        [[ $ns == "$LAB_PREFIX"-* ]] && echo "$ns"
    done
    return 0
}

lab__hosts() # /etc/hosts of every node: nodeK is its address on the first of hb, cli, st
{
    local k net addr first
    echo "127.0.0.1 localhost"
    echo "198.18.3.10 storage"
    for ((k = 1; k <= LAB_NODES; k++)); do
        first=
        for net in hb cli st; do
            [[ " $(lab__node_nets) " == *" $net "* ]] || continue
            addr=198.18.$(lab__net_octet "$net").$((10 + k))
            echo "$addr node$k-$net"
            first=${first:-$addr}
        done
        echo "$first node$k"
    done
}

# ----------------------------------------------------------------------------------- nodes

lab__node_num() # node3 | 3 -> 3
{
    local k=${1#node}
    lab__env
    if [[ ! $k =~ ^[0-9]+$ ]] || ((k < 1 || k > LAB_NODES)); then
        lab__err "no node '$1' (node1..node$LAB_NODES)"
        return 1
    fi
    echo "$k"
}

lab__node_pid() # NODE -> PID of the node's init
{
    local k pid
    k=$(lab__node_num "$1") || return 1
    pid=$(lab__pid_get "node$k") || {
        lab__err "node$k is not running"
        return 1
    }
    echo "$pid"
}

# PID 1 of a node (runs as "lab.sh __node_init"): private /run and /dev/shm, the lab's
# /etc/hosts, hostname nodeK; then it only reaps orphans until SIGTERM.
lab__node_init() # K
{
    local k=$1
    mount --make-rprivate /
    hostname "node$k"
    mount -t tmpfs -o mode=755,size=64m "$LAB_PREFIX-run" /run
    mkdir -p /run/lock
    mount -t tmpfs -o mode=1777,size=64m "$LAB_PREFIX-shm" /dev/shm
    mount --bind "$LAB_DIR/hosts" /etc/hosts
    : >"$LAB_DIR/node$k/ready"
    trap 'exit 0' TERM
    while :; do
        sleep 3600 &
        wait $! || true
    done
}

lab__node_start() # K
{
    local k=$1 d=$LAB_DIR/node$1 u c
    mkdir -p "$d" || return 1
    rm -f "$d/ready"
    ip netns exec "$LAB_PREFIX-n$k" unshare --mount --uts --ipc --pid --fork --mount-proc \
        --kill-child=SIGKILL bash "$LAB_SELF" __node_init "$k" </dev/null >>"$d/init.log" 2>&1 &
    u=$!
    lab__pid_record "node$k-unshare" "$u" || return 1
    # The node's init is unshare's only child.
    lab__wait_for 5 lab__first_child "$u" >/dev/null &&
        c=$(lab__first_child "$u") && lab__pid_record "node$k" "$c" || {
        lab__err "node$k: no init process (see $d/init.log)"
        return 1
    }
}

lab__first_child() # PID -> its first child (the file has no trailing newline)
{
    local c
    c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
    c=${c%% *}
    [[ -n $c ]] && echo "$c"
}

lab_exec() # NODE CMD...
{
    local node=${1:-} pid
    shift || true
    [[ $# -gt 0 ]] || {
        lab__err "usage: lab_exec NODE CMD..."
        return 1
    }
    if [[ $node == storage || $node == st ]]; then
        ip netns exec "$LAB_PREFIX-st" "$@"
        return
    fi
    if [[ $node == client ]]; then
        ip netns exec "$LAB_PREFIX-cl" "$@"
        return
    fi
    pid=$(lab__node_pid "$node") || return 1
    # Entering a mount namespace resets the working directory to its root; keep the caller's
    # unless it lies in what the node has private.
    local wd=$PWD
    [[ $wd != /run* && $wd != /dev/shm* ]] || wd=/
    nsenter -t "$pid" -n -m -u -i -p --wd="$wd" -- "$@"
}

# --------------------------------------------------------------------------------- storage

lab__tgtadm()
{
    TGT_IPC_SOCKET=$LAB_DIR/storage/tgtd.sock tgtadm "$@"
}

lab__storage_up()
{
    local d=$LAB_DIR/storage pid
    mkdir -p "$d" && : >"$d/luns" || return 1
    # tgtd's control socket is $TGT_IPC_SOCKET.0 (control port 0): private to this lab.
    # `ip netns exec` execs in place, so $! is tgtd itself.
    TGT_IPC_SOCKET=$d/tgtd.sock ip netns exec "$LAB_PREFIX-st" \
        tgtd -f --iscsi portal="$LAB_PORTAL" </dev/null >"$d/tgtd.log" 2>&1 &
    lab__pid_record tgtd $! || return 1
    pid=$!
    lab__wait_for 10 lab__tgtd_ready "$pid" || {
        lab__err "tgtd did not come up (see $d/tgtd.log)"
        return 1
    }
}

lab__tgtd_ready()
{
    kill -0 "$1" 2>/dev/null || return 2
    lab__tgtadm --op show --mode system >/dev/null 2>&1
}

lab_lun_add() # NAME [SIZE_MB]
{
    local name=${1:-} size_mb=${2:-64} d=$LAB_DIR/storage
    if [[ ! $name =~ ^[a-z0-9][a-z0-9.-]*$ || ! $size_mb =~ ^[1-9][0-9]*$ ]]; then
        lab__err "usage: lab_lun_add NAME [SIZE_MB] (NAME: [a-z0-9][a-z0-9.-]*)"
        return 1
    fi
    lab__pid_get tgtd >/dev/null || {
        lab__err "storage is not running"
        return 1
    }
    # The lock makes target ids unique when several processes add LUNs at once.
    (
        local tid=0 t n iqn=$LAB_IQN_BASE:$name
        flock 9 || exit 1
        while read -r t n; do
            [[ $n != "$name" ]] || {
                lab__err "LUN '$name' exists"
                exit 1
            }
            ((t <= tid)) || tid=$t
        done <"$d/luns"
        tid=$((tid + 1))
        truncate -s "${size_mb}M" "$d/$name.img" &&
            lab__tgtadm --lld iscsi --op new --mode target --tid "$tid" -T "$iqn" &&
            lab__tgtadm --lld iscsi --op new --mode logicalunit --tid "$tid" --lun 1 \
                -b "$d/$name.img" &&
            lab__tgtadm --lld iscsi --op bind --mode target --tid "$tid" -I ALL || exit 1
        echo "$tid $name" >>"$d/luns"
    ) 9>"$d/luns.lock" || return 1
    lab_lun_url "$name"
}

lab_lun_url() # NAME
{
    local t n
    while read -r t n; do
        if [[ $n == "${1:-}" ]]; then
            echo "iscsi://$LAB_PORTAL/$LAB_IQN_BASE:$n/1"
            return 0
        fi
    done <"$LAB_DIR/storage/luns"
    lab__err "no LUN '${1:-}'"
}

# tgtd ignores SIGTERM while it serves targets: delete the targets, then the system, which
# makes it exit; SIGKILL only if that does not work.
lab__storage_down()
{
    local t n
    if lab__pid_get tgtd >/dev/null; then
        while read -r t n; do
            lab__tgtadm --lld iscsi --op delete --mode target --tid "$t" --force >/dev/null 2>&1
        done <"$LAB_DIR/storage/luns"
        lab__tgtadm --op delete --mode system >/dev/null 2>&1
    fi
    lab__pid_stop tgtd 5 0
}

# --------------------------------------------------------------------------------- libvirt

lab_libvirt_uri() # NODE
{
    local k
    k=$(lab__node_num "${1:-}") || return 1
    echo "qemu+unix:///system?socket=$LAB_DIR/node$k/run/libvirt/libvirt-sock"
}

lab_virsh() # NODE ARGS...
{
    local uri
    uri=$(lab_libvirt_uri "${1:-}") || return 1
    shift
    virsh -q -c "$uri" "$@"
}

# Host prerequisites that Debian's libvirt-daemon-system would create: the mount points for the
# per-node bind mounts and the libvirt-qemu user, which privileged libvirtd resolves (as its
# built-in default) before it reads qemu.conf, even though the lab's QEMUs run as root.
lab__libvirt_host_prepare()
{
    mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt || return 1
    getent passwd libvirt-qemu >/dev/null && return 0
    useradd --system --user-group --no-create-home --home-dir /var/lib/libvirt \
        --shell /usr/sbin/nologin libvirt-qemu 2>/dev/null
    # Another lab may have created it at the same moment.
    getent passwd libvirt-qemu >/dev/null || lab__err "cannot create user libvirt-qemu"
}

lab__libvirt_conf() # K
{
    local d=$LAB_DIR/node$1 mgmt mig
    mgmt=$(lab_node_addr "$1" "$(lab__mgmt_net)") || return 1
    # libvirtd also listens on TCP (no auth) on the node's management address, for
    # peer-to-peer migration: the source libvirtd dials the destination's.
    cat >"$d/etc/libvirt/libvirtd.conf" <<EOF || return 1
listen_tls = 0
listen_tcp = 1
listen_addr = "$mgmt"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    # No cgroups, no namespaces, no virtlogd, no relabelling: QEMU runs as root, plainly.
    cat >"$d/etc/libvirt/qemu.conf" <<EOF || return 1
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
EOF
    # Incoming migration streams listen on, and are announced with, the node's address on the
    # migration network (when the node joins it), whatever URI the source was given.
    if mig=$(lab_node_addr "$1" "$(lab__migration_net)" 2>/dev/null); then
        printf 'migration_address = "%s"\nmigration_host = "%s"\n' "$mig" "$mig" \
            >>"$d/etc/libvirt/qemu.conf" || return 1
    fi
    : >"$d/etc/libvirt/libvirt.conf" && : >"$d/etc/libvirt/libvirt-admin.conf"
}

# Bind mounts in the node's mount namespace; run there by lab_libvirt_up.
lab__libvirt_mounts() # NODE_DIR
{
    local d=$1
    mkdir -p /run/libvirt &&
        mount --bind "$d/etc/libvirt" /etc/libvirt &&
        mount --bind "$d/run/libvirt" /run/libvirt &&
        mount --bind "$d/lib/libvirt" /var/lib/libvirt &&
        mount --bind "$d/log/libvirt" /var/log/libvirt &&
        mount --bind "$d/cache/libvirt" /var/cache/libvirt
}

lab__caps_cache_copy() # FROM TO: QEMU capability files, each replaced atomically
{
    local f
    [[ -d $1 ]] || return 0
    mkdir -p "$2" || return 0
    for f in "$1"/*.xml; do
        [[ -e $f ]] || continue
        cp "$f" "$2/.${f##*/}.$$" && mv -f "$2/.${f##*/}.$$" "$2/${f##*/}"
    done
    return 0
}

lab_libvirt_up() # NODE
{
    local k d nspid pid emu t0 caps
    k=$(lab__node_num "${1:-}") || return 1
    d=$LAB_DIR/node$k
    t0=$(lab__ms)
    lab__require libvirtd virsh || return 1
    if lab__pid_get "libvirtd-node$k" >/dev/null; then
        return 0
    fi
    lab__libvirt_host_prepare || return 1
    mkdir -p "$d"/{etc,run,lib,cache}/libvirt "$d/log/libvirt/qemu" || return 1
    lab__libvirt_conf "$k" || return 1
    caps=${LAB_CACHE_DIR:-/var/tmp/drover-lab}/qemu-capabilities
    lab__caps_cache_copy "$caps" "$d/cache/libvirt/qemu/capabilities"
    lab_exec "$k" bash "$LAB_SELF" __libvirt_mounts "$d" || {
        lab__err "node$k: libvirt bind mounts failed"
        return 1
    }
    rm -f "$d/libvirtd.pid"
    # --daemon returns once libvirtd has initialised; its PID file holds the node-local PID.
    lab_exec "$k" libvirtd --daemon --listen --pid-file "$d/libvirtd.pid" \
        --config /etc/libvirt/libvirtd.conf </dev/null >>"$d/libvirtd.stdio.log" 2>&1 || {
        lab__err "node$k: libvirtd failed (see $d/log/libvirt/libvirtd.log)"
        return 1
    }
    lab__wait_for 10 test -s "$d/libvirtd.pid" && nspid=$(lab__pidfile "$d/libvirtd.pid") &&
        pid=$(lab__host_pid "$k" "$nspid") && lab__pid_record "libvirtd-node$k" "$pid" || {
        lab__err "node$k: libvirtd has no PID"
        return 1
    }
    lab__wait_for 60 lab_virsh "$k" version >/dev/null 2>&1 || {
        lab__err "node$k: libvirtd does not answer"
        return 1
    }
    # Probe QEMU now rather than at the first domain start.
    emu=${LAB_EMULATOR:-/usr/bin/qemu-system-x86_64}
    lab_virsh "$k" domcapabilities --virttype qemu --emulatorbin "$emu" >/dev/null || {
        lab__err "node$k: libvirt cannot use $emu"
        return 1
    }
    lab__caps_cache_copy "$d/cache/libvirt/qemu/capabilities" "$caps"
    lab__log "node$k: libvirtd pid $pid up in $(($(lab__ms) - t0)) ms"
}

lab__pidfile() # FILE -> the PID in it (libvirt writes no trailing newline)
{
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
}

# Translates a PID as seen inside node K's PID namespace (PID files written there) into the
# root namespace's PID. Only processes in the node's network namespace can be in its PID
# namespace, which keeps the search short.
lab__host_pid() # K NSPID
{
    local k=$1 nspid=$2 init try
    init=$(lab__pid_get "node$k") || return 1
    # Under load one look has missed a running process (libvirtd, a QEMU; 4 in ~470 QEMU starts,
    # found half a second later): look again for up to a second, the last times through all of
    # /proc.
    for try in 1 2 3 4 5 6 7 8 9 10; do
        if ((try <= 5)); then
            lab__ns_pid_find "$init" "$nspid" $(ip netns pids "$LAB_PREFIX-n$k") && return 0
        else
            lab__ns_pid_find "$init" "$nspid" $(cd /proc && echo [0-9]*) && return 0
        fi
        sleep 0.1
    done
    return 1
}

lab__ns_pid_find() # INIT NSPID PID...: which PID is NSPID in INIT's PID namespace
{
    local init=$1 nspid=$2 p
    local -a f
    shift 2
    for p in "$@"; do
        [[ /proc/$p/ns/pid -ef /proc/$init/ns/pid ]] || continue
        while read -r -a f; do
            [[ ${f[0]} == NSpid: ]] || continue
            if [[ ${f[-1]} == "$nspid" ]]; then
                echo "$p"
                return 0
            fi
            break
        done 2>/dev/null <"/proc/$p/status" || true
    done
    return 1
}

# Records every QEMU that node K's libvirtd has a PID file for (also those started by
# tests through virsh directly).
lab__qemu_record() # K
{
    local k=$1 f name nspid pid
    for f in "$LAB_DIR/node$k"/run/libvirt/qemu/*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/}
        name=${name%.pid}
        [[ $name != driver ]] || continue # the QEMU driver's lock, held by libvirtd itself
        nspid=$(lab__pidfile "$f") || continue
        lab__pid_get "node$k-qemu-$name" >/dev/null && continue
        pid=$(lab__host_pid "$k" "$nspid") && lab__pid_record "node$k-qemu-$name" "$pid"
    done
    return 0
}

lab__domain_xml() # NAME MEM_MIB
{
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>$2</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${LAB_EMULATOR:-/usr/bin/qemu-system-x86_64}</emulator>
EOF
    lab__domain_xml_tail "$1"
}

# The end of a lab domain's XML: serial console to a file in the node's libvirt log dir.
lab__domain_xml_tail() # NAME [APPEND_ATTRIBUTE]
{
    cat <<EOF
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/$1-serial.log'${2:+ $2}/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

lab_vm_start() # NODE NAME [MEM_MIB]
{
    local k name=${2:-} mem=${3:-48} d xml
    k=$(lab__node_num "${1:-}") || return 1
    if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ || ! $mem =~ ^[1-9][0-9]*$ ]]; then
        lab__err "usage: lab_vm_start NODE NAME [MEM_MIB]"
        return 1
    fi
    d=$LAB_DIR/node$k
    xml=$d/$name.xml
    lab__domain_xml "$name" "$mem" >"$xml" || return 1
    lab_virsh "$k" define "$xml" >/dev/null && lab_virsh "$k" start "$name" >/dev/null || {
        lab__err "node$k: cannot start domain $name"
        return 1
    }
    lab__wait_for 30 lab__vm_running "$k" "$name" || {
        lab__err "node$k: domain $name is not running"
        return 1
    }
    lab__qemu_known "$k" "$name" || lab__err "node$k: no QEMU PID for $name"
}

lab__qemu_known() # K NAME: records node K's QEMUs, then is there a record for NAME?
{
    lab__qemu_record "$1"
    lab__pid_get "node$1-qemu-$2" >/dev/null
}

lab__vm_running() # K NAME
{
    [[ $(lab_virsh "$1" domstate "$2" 2>/dev/null) == running ]]
}

lab_vm_list() # NODE
{
    local out line
    out=$(lab_virsh "${1:-}" list --name --state-running) || return 1
    while read -r line; do
        [[ -z $line ]] || echo "$line"
    done <<<"$out"
}

# Destroys the node's domains (libvirtd stops their QEMUs), stops libvirtd, then makes sure by
# PID that no QEMU of the node is left.
lab__libvirt_down() # K
{
    local k=$1 dom f name
    lab__pid_get "libvirtd-node$k" >/dev/null || return 0
    lab__qemu_record "$k"
    for dom in $(timeout 20 virsh -q -c "$(lab_libvirt_uri "$k")" list --name 2>/dev/null); do
        timeout 20 virsh -q -c "$(lab_libvirt_uri "$k")" destroy "$dom" >/dev/null 2>&1
    done
    lab__pid_stop "libvirtd-node$k" 10
    for f in "$LAB_DIR/pids/node$k"-qemu-*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/}
        lab__pid_stop "${name%.pid}" 5
    done
}

# ------------------------------------------------------------------ guests and migration

lab_node_addr() # NODE NET -> the node's address on NET (hb, cli, st), if the node joins NET
{
    local k octet
    lab__env # LAB_NETS as lab_up decided it (lab__node_num below runs in a subshell)
    k=$(lab__node_num "${1:-}") || return 1
    octet=$(lab__net_octet "${2:-}") || return 1
    [[ " $(lab__node_nets) " == *" $2 "* ]] || {
        lab__err "node$k does not join network '$2' (LAB_NETS=$LAB_NETS)"
        return 1
    }
    echo "198.18.$octet.$((10 + k))"
}

lab__mgmt_net() # libvirt's control connections between nodes (peer-to-peer migration)
{
    echo "${LAB_MGMT_NET:-st}"
}

lab__migration_net() # the migration data stream
{
    echo "${LAB_MIGRATION_NET:-cli}"
}

lab_libvirt_tcp_uri() # NODE -> qemu+tcp URI of NODE's libvirtd on its management address
{
    local a
    a=$(lab_node_addr "${1:-}" "$(lab__mgmt_net)") || return 1
    echo "qemu+tcp://$a/system"
}

# The mirror and keyring of the machine's own Debian source: "URI KEYRING", from the deb822
# stanza that carries the release itself (not -security/-updates), else from sources.list.
lab__debian_mirror() # CODENAME
{
    local f=/etc/apt/sources.list.d/debian.sources
    if [[ -r $f ]]; then
        awk -v rel="$1" '
            function flush() {
                if (!done && uri != "" && (" " suites " ") ~ (" " rel " ")) {
                    print uri, (key != "" ? key : "/usr/share/keyrings/debian-archive-keyring.gpg")
                    done = 1
                }
                uri = suites = key = ""
            }
            /^[ \t]*$/ { flush(); next }
            $1 == "URIs:" { uri = $2 }
            $1 == "Suites:" { $1 = ""; suites = $0 }
            $1 == "Signed-By:" && $2 ~ /^\// { key = $2 }
            END { flush() }' "$f"
    elif [[ -r /etc/apt/sources.list ]]; then
        awk -v rel="$1" '$1 == "deb" && $0 ~ (" " rel " ") {
            for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {
                print $i, "/usr/share/keyrings/debian-archive-keyring.gpg"; exit } }' \
            /etc/apt/sources.list
    fi
}

# QEMU from <release>-backports (QEMU >= 9: Debian 12's 7.2 corrupts TCG guests that migrate
# while writing memory, see ../shared/lab-notes/libvirt-migration), fetched with a throw-away
# apt state (own sources.list, lists and cache; /etc/apt and the installed system are left
# alone) and unpacked into a cache dir shared by labs. Prints the path of the wrapper that
# runs it with its own modules and firmware; point LAB_EMULATOR at it (or LAB_QEMU=backports).
# Every QEMU module package is unpacked too: QEMU falls back to the system's module dir for a
# module missing in its own, and a module from another build aborts it during libvirt's probe.
lab_qemu_backports()
{
    local c=${LAB_QEMU_CACHE:-/var/cache/drover-test/qemu-backports}
    mkdir -p "$c" || {
        lab__err "cannot create $c"
        return 1
    }
    (
        flock 9 || exit 1
        [[ -e $c/.complete ]] || lab__qemu_fetch "$c" || exit 1
    ) 9>"$c/.lock" || return 1
    echo "$c/bin/qemu-system-x86_64"
}

lab__qemu_fetch() # CACHE_DIR (holding its lock)
{
    local c=$1 a=$1/apt codename mirror key d mods ver t0 missing
    local -a pkgs=(qemu-system-x86 qemu-system-common qemu-system-data qemu-block-extra seabios
        qemu-system-modules-opengl qemu-system-modules-spice qemu-system-gui)
    t0=$(lab__ms)
    lab__require apt-get dpkg-deb || return 1
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    read -r mirror key <<<"$(lab__debian_mirror "$codename")"
    [[ -n $codename && -n $mirror ]] || {
        lab__err "no Debian mirror for '$codename' in /etc/apt (sources.list.d/debian.sources)"
        return 1
    }
    rm -rf "$a" "${c:?}/deb" "${c:?}/root" "${c:?}/bin" || return 1
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$c/deb" "$c/bin" || return 1
    echo "deb [signed-by=$key] $mirror $codename-backports main" >"$a/sources.list"
    local -a o=(-q -o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o Dir::Etc::Preferences=/nonexistent -o Dir::Etc::PreferencesParts=/nonexistent
        -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o APT::Sandbox::User=root
        -t "$codename-backports")
    lab__log "fetching ${pkgs[*]} from $mirror $codename-backports"
    apt-get "${o[@]}" update >"$c/fetch.log" 2>&1 &&
        (cd "$c/deb" && apt-get "${o[@]}" download "${pkgs[@]}") >>"$c/fetch.log" 2>&1 || {
        lab__err "apt-get from $codename-backports failed (see $c/fetch.log)"
        return 1
    }
    mkdir -p "$c/root" || return 1
    for d in "$c"/deb/*.deb; do
        dpkg-deb -x "$d" "$c/root" || {
            lab__err "dpkg-deb -x $d failed"
            return 1
        }
    done
    mods=$(echo "$c"/root/usr/lib/*/qemu)
    [[ -x $c/root/usr/bin/qemu-system-x86_64 && -d $mods ]] || {
        lab__err "$c/root has no qemu-system-x86_64 or module dir"
        return 1
    }
    cat >"$c/bin/qemu-system-x86_64" <<EOF || return 1
#!/bin/sh
# QEMU from $codename-backports, unpacked by drover's tests/lab/lab.sh (lab_qemu_backports).
QEMU_MODULE_DIR=$mods
export QEMU_MODULE_DIR
exec $c/root/usr/bin/qemu-system-x86_64 -L $c/root/usr/share/qemu -L $c/root/usr/share/seabios "\$@"
EOF
    chmod 755 "$c/bin/qemu-system-x86_64" || return 1
    missing=$(ldd "$c/root/usr/bin/qemu-system-x86_64" 2>&1 | awk '/not found/ {print $1}')
    [[ -z $missing ]] || {
        lab__err "backports QEMU needs libraries this system lacks: ${missing//$'\n'/ }"
        return 1
    }
    ver=$("$c/bin/qemu-system-x86_64" --version | sed -n '1s/.*version \([0-9][0-9.]*\).*/\1/p')
    [[ ${ver%%.*} =~ ^[0-9]+$ ]] && ((${ver%%.*} >= 9)) || {
        lab__err "QEMU from $codename-backports is '$ver', not >= 9"
        return 1
    }
    echo "$ver" >"$c/version"
    rm -rf "$a" "$c/deb"
    touch "$c/.complete"
    lab__log "QEMU $ver from $codename-backports in $c ($(($(lab__ms) - t0)) ms)"
}

# Debian's kernel for the lab's guests: the package linux-image-amd64 depends on, downloaded
# and unpacked (never installed) into the cache that tests/lab/sgio-guest/run.sh uses too,
# with the same layout and lock (KPKG/root, KPKG/.complete, .lock). Prints KPKG/root.
lab_guest_kernel()
{
    local c=${LAB_KERNEL_CACHE:-/var/cache/drover-test/kernel}
    mkdir -p "$c" || {
        lab__err "cannot create $c"
        return 1
    }
    (
        flock 9 || exit 1
        kpkg=$(lab__kernel_pkg)
        if [[ -z $kpkg ]]; then
            apt-get update -q >/dev/null 2>&1
            kpkg=$(lab__kernel_pkg)
        fi
        if [[ -z $kpkg ]]; then # offline: the newest kernel already unpacked
            kpkg=$(find "$c" -maxdepth 2 -name .complete -path '*/linux-image-*' |
                sed 's|/\.complete$||; s|.*/||' | sort -V | tail -n 1)
        fi
        [[ -n $kpkg ]] || {
            lab__err "cannot resolve linux-image-amd64 and nothing is cached in $c"
            exit 1
        }
        k=$c/$kpkg
        if [[ ! -e $k/.complete ]]; then
            lab__log "fetching $kpkg into $k"
            rm -rf "$k" && mkdir -p "$k/root" || exit 1
            (cd "$k" && apt-get download -q -o APT::Sandbox::User=root "$kpkg") >/dev/null 2>&1 ||
                {
                    apt-get update -q >/dev/null 2>&1
                    (cd "$k" && apt-get download -q -o APT::Sandbox::User=root "$kpkg") >/dev/null
                } || {
                lab__err "apt-get download $kpkg failed"
                exit 1
            }
            dpkg-deb -x "$k/${kpkg}"_*.deb "$k/root" || exit 1
            # The .deb has no modules.dep (depmod runs at install time); busybox has a depmod.
            /bin/busybox depmod -b "$k/root" "$(ls "$k/root/lib/modules")" || exit 1
            touch "$k/.complete"
        fi
        echo "$k/root"
    ) 9>"$c/.lock"
}

lab__kernel_pkg()
{
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

lab__module_closure() # MODULES_DEP NAME -> NAME's .ko path and those it depends on
{
    awk -v m="$2" -F': *' '{
        n = $1; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n)
        if (n == m) { print $1; if ($2 != "") print $2; found = 1 }
    } END { exit !found }' "$1" | tr ' ' '\n' | sed '/^$/d'
}

# The guest: Debian's kernel plus an initramfs of busybox-static, tests/lab/guest/init.sh as
# /init, memwriter (static) and the virtio block and network modules. Into $LAB_DIR/guest (vmlinuz, initrd,
# memwriter); prints that dir. Kept for the lab's life: nodes and migrations share the paths.
lab_guest_build()
{
    local g=$LAB_DIR/guest src=${LAB_SELF%/*}/guest
    mkdir -p "$g" || return 1
    (
        flock 9 || exit 1
        [[ -s $g/initrd && -s $g/vmlinuz ]] && exit 0
        lab__guest_build "$g" "$src"
    ) 9>"$g/.lock" || return 1
    echo "$g"
}

lab__guest_build() # DIR SRC
{
    local g=$1 src=$2 kroot kver r m f t0
    t0=$(lab__ms)
    lab__require cc cpio gzip || return 1
    [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 || {
        lab__err "/bin/busybox is missing or not static (lab_deps busybox-static)"
        return 1
    }
    kroot=$(lab_guest_kernel) || return 1
    kver=$(ls "$kroot/lib/modules") && [[ -s $kroot/boot/vmlinuz-$kver ]] || {
        lab__err "$kroot is incomplete: remove its parent dir and retry"
        return 1
    }
    r=$g/root
    rm -rf "$r" && mkdir -p "$r"/{bin,dev,proc,sys,run,tmp} || return 1
    cp /bin/busybox "$r/bin/busybox" && ln -s busybox "$r/bin/sh" && ln -s bin "$r/sbin" &&
        install -m 755 "$src/init.sh" "$r/init" || return 1
    cc -std=c11 -D_GNU_SOURCE -O2 -static -o "$g/memwriter" "$src/memwriter.c" 2>"$g/cc.log" || {
        lab__err "cannot build memwriter (see $g/cc.log; lab_deps gcc libc6-dev)"
        return 1
    }
    cp "$g/memwriter" "$r/bin/memwriter" || return 1
    for m in virtio_pci virtio_blk virtio_net; do
        lab__module_closure "$kroot/lib/modules/$kver/modules.dep" "$m" || {
            lab__err "module $m is not in $kver's modules.dep"
            return 1
        }
    done | sort -u | while read -r f; do
        mkdir -p "$r/lib/modules/$kver/${f%/*}" &&
            cp "$kroot/lib/modules/$kver/$f" "$r/lib/modules/$kver/$f" || exit 1
    done || return 1
    /bin/busybox depmod -b "$r" "$kver" || return 1
    (cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$g/initrd.tmp" &&
        mv "$g/initrd.tmp" "$g/initrd" && cp "$kroot/boot/vmlinuz-$kver" "$g/vmlinuz" || return 1
    rm -rf "$r"
    lab__log "guest: kernel $kver, initrd $(($(stat -c %s "$g/initrd") / 1024)) KiB" \
        "in $(($(lab__ms) - t0)) ms"
}

# With the guests' network (LAB_GUEST_NET=1), every guest has a virtio NIC on each node's bridge
# brvm, with a MAC and an address of its own that the domain XML carries wherever it runs.
lab__guest_xml() # NAME MEM_MIB WRITER_MIB RATE GUEST_DIR [LUN]
{
    local name=$1 mem=$2 wmib=$3 rate=$4 g=$5 lun=${6:-} disk=0 iqn addr='' net=''
    if [[ -n $lun ]]; then
        disk=1
        iqn=$LAB_IQN_BASE:$lun
    fi
    if [[ -n $(lab__guest_net) ]]; then
        addr=$(lab_guest_addr "$name") || return 1
        # IPv4 only, as everywhere in the lab: no IPv6 frames that would teach the switch.
        net=" drlab_ip=$addr/24 ipv6.disable=1"
    fi
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$g/vmlinuz</kernel>
    <initrd>$g/initrd</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 drlab_mib=$wmib drlab_rate=$rate drlab_disk=$disk$net</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${LAB_EMULATOR:-/usr/bin/qemu-system-x86_64}</emulator>
EOF
    [[ -z $lun ]] || cat <<EOF
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source protocol='iscsi' name='$iqn/1'>
        <host name='${LAB_PORTAL%:*}' port='${LAB_PORTAL#*:}'/>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
EOF
    [[ -z $addr ]] || cat <<EOF
    <interface type='bridge'>
      <mac address='$(lab__guest_mac "$addr")'/>
      <source bridge='brvm'/>
      <model type='virtio'/>
    </interface>
EOF
    lab__domain_xml_tail "$name" "append='on'"
}

# The guest's address on the guests' network: 198.18.4.(100 + N) for the Nth guest name the lab
# has seen (kept in $LAB_DIR/guests/addrs), the same on every node and after every restart.
lab_guest_addr() # NAME
{
    local f=$LAB_DIR/guests/addrs
    [[ -n $(lab__guest_net) ]] || {
        lab__err "the lab has no guests' network (LAB_GUEST_NET=1 at lab_up)"
        return 1
    }
    mkdir -p "$LAB_DIR/guests" && touch "$f" || return 1
    (
        flock 9 || exit 1
        o=$(awk -v n="${1:-}" '$1 == n {print $2}' "$f")
        if [[ -z $o ]]; then
            o=$((100 + $(wc -l <"$f")))
            ((o < 255)) || {
                lab__err "no address left for guest ${1:-} on the guests' network"
                exit 1
            }
            echo "${1:-} $o" >>"$f"
        fi
        echo "198.18.4.$o"
    ) 9>"$f.lock"
}

lab__guest_mac() # ADDR -> 52:54:00 (QEMU's prefix), then c6:12 (198.18) and the host octet
{
    printf '52:54:00:c6:12:%02x\n' "${1##*.}"
}

# Where the lab's switch sends frames for guest NAME: the node (nodeK) whose port its MAC was
# learnt on, "client", or nothing when the switch does not know it.
lab_guest_port() # NAME
{
    local addr mac port rest
    addr=$(lab_guest_addr "${1:-}") || return 1
    mac=$(lab__guest_mac "$addr")
    read -r port rest < <(bridge -n "$LAB_PREFIX-sw" fdb show br "${LAB_PREFIX}brvm" |
        awk -v m="$mac" '$1 == m && $2 == "dev" {print $3}')
    case $port in
    "${LAB_PREFIX}clvm") echo client ;;
    "${LAB_PREFIX}n"*vm)
        port=${port#"${LAB_PREFIX}n"}
        echo "node${port%vm}"
        ;;
    esac
    return 0
}

# Pings guest NAME from the client namespace every INTERVAL_MS (default 5) with iputils ping,
# each reply time-stamped (-D), into $LAB_DIR/ping-NAME.log; recorded as ping-NAME.
lab_guest_ping_start() # NAME [INTERVAL_MS]
{
    local name=${1:-} ms=${2:-5} addr log pid
    [[ $ms =~ ^[1-9][0-9]{0,2}$ ]] || {
        lab__err "usage: lab_guest_ping_start NAME [INTERVAL_MS (1..999)]"
        return 1
    }
    lab__require ping || return 1
    addr=$(lab_guest_addr "$name") || return 1
    log=$LAB_DIR/ping-$name.log
    lab__pid_stop "ping-$name" 2 INT
    # ip netns exec execs ping itself: $! is ping's PID.
    ip netns exec "$LAB_PREFIX-cl" ping -D -n -i "$(printf '0.%03d' "$ms")" "$addr" \
        </dev/null >"$log" 2>&1 &
    pid=$!
    lab__pid_record "ping-$name" "$pid"
}

# Stops lab_guest_ping_start's ping (SIGINT: it prints its totals) and prints what the client
# saw, as lab__ping_summary does.
lab_guest_ping_stop() # NAME
{
    local name=${1:-} log=$LAB_DIR/ping-${1:-}.log stop
    [[ -e $log ]] || {
        lab__err "no ping of ${1:-} was started"
        return 1
    }
    stop=$(lab__ms)
    lab__pid_stop "ping-$name" 5 INT || return 1
    lab__ping_summary "$log" "$stop"
}

# What a client pinging the guest saw (LOG: ping -D's output; STOP: when it was stopped, epoch
# ms): "sent=N received=N lost=N dup=N max_gap_ms=G gap_end=T outage_ms=O outage_end=T
# stall_ms=S first=T last=T median_gap_ms=M" (times in epoch ms).
#   max_gap_ms  the longest time without a reply, between two replies or from the last one to
#               the stop (a guest that no longer answers shows as a gap, not as nothing)
#   outage_ms   the longest time a request waited for its reply, a lost request waiting until
#               the next reply (its send time interpolated between the answered ones): the gap
#               without the prober's own pauses on a loaded machine
#   stall_ms    the prober's longest pause between two consecutive requests that were answered
#   dup         duplicate replies (two copies of the guest answering)
#   median_gap_ms  the median time between replies: how often the probe really got one
lab__ping_summary() # LOG STOP_MS
{
    awk -v stop="$2" '
        /packets transmitted/ { sent = $1 }
        /icmp_seq=/ && /DUP!/ { dup++; next }
        /icmp_seq=/ {
            t = substr($1, 2, length($1) - 2) * 1000
            split($0, a, "icmp_seq="); q = a[2] + 0
            split($0, a, "time="); st = t - a[2]
            if (n > 0) {
                # Intervals counted in 0.1 ms bins, for their median.
                h[int((t - prev) * 10)]++
                if (t - prev > max) { max = t - prev; end = t }
                dq = q - pq; if (dq <= 0) dq += 65536
                o = t - (pst + (st - pst) / dq)
                if (o > out) { out = o; oend = t }
                if (dq == 1 && st - pst > stall) stall = st - pst
            } else {
                first = t; out = t - st; oend = t
            }
            prev = t; pq = q; pst = st; n++
        }
        END {
            med = -1
            for (b = 0; n > 1 && c * 2 < n - 1; b++) { c += h[b]; med = b / 10 }
            if (n > 0 && stop - prev > max) { max = stop - prev; end = stop }
            # Requests after the last reply waited until the stop.
            if (n > 0 && sent > pq && stop - pst - med > out) { out = stop - pst - med; oend = stop }
            printf "sent=%d received=%d lost=%d dup=%d max_gap_ms=%.1f gap_end=%d outage_ms=%.1f outage_end=%d stall_ms=%.1f first=%d last=%d median_gap_ms=%.1f\n",
                sent, n, sent - n, dup, max, end, out, oend, stall, first, prev, med
        }' "$1"
}

# Defines (persistently) and starts a lab guest on NODE, waits for its first heartbeat, and
# prints the path of its domain XML ($LAB_DIR/guests/NAME.xml). WRITER_MIB of its memory are
# rewritten at RATE MiB/s and checked; disk=LUN attaches lab LUN LUN (lab_lun_add) as /dev/vda
# through QEMU's libiscsi, and the guest keeps a sequence number in its first sector.
lab_vm_start_guest() # NODE NAME MEM_MIB [WRITER_MIB [RATE_MIB_S]] [disk=LUN]
{
    local node=${1:-} name=${2:-} mem=${3:-} k a lun='' g xml log t0
    local -a num=()
    shift 3 2>/dev/null || shift $#
    for a in "$@"; do
        case $a in
        disk=* | DISK=*) lun=${a#*=} ;;
        *) num+=("$a") ;;
        esac
    done
    local wmib=${num[0]:-0} rate=${num[1]:-0}
    if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ || ! $mem =~ ^[1-9][0-9]*$ ||
        ! $wmib =~ ^[0-9]+$ || ! $rate =~ ^[0-9]+$ || ${#num[@]} -gt 2 ]]; then
        lab__err "usage: lab_vm_start_guest NODE NAME MEM_MIB [WRITER_MIB [RATE_MIB_S]] [disk=LUN]"
        return 1
    fi
    k=$(lab__node_num "$node") || return 1
    lab__env # the lab's QEMU (LAB_EMULATOR) when called as a tool
    t0=$(lab__ms)
    if [[ -n $lun ]]; then
        lab_lun_url "$lun" >/dev/null || return 1
    fi
    g=$(lab_guest_build) || return 1
    [[ ${LAB_EMULATOR:-/usr/bin/qemu-system-x86_64} != /usr/bin/qemu-system-x86_64 ]] ||
        lab__log "warning: $name runs on the system QEMU; if it is Debian 12's 7.2, live" \
            "migrations under writes lose pages (LAB_EMULATOR=\$(lab_qemu_backports))"
    mkdir -p "$LAB_DIR/guests" || return 1
    xml=$LAB_DIR/guests/$name.xml
    lab__guest_xml "$name" "$mem" "$wmib" "$rate" "$g" "$lun" >"$xml" || return 1
    log=$(lab__console_file "$k" "$name")
    rm -f "$log"
    lab_virsh "$k" define "$xml" >/dev/null && lab_virsh "$k" start "$name" >/dev/null || {
        lab__err "node$k: cannot start guest $name"
        return 1
    }
    lab__qemu_known "$k" "$name" || {
        lab__err "node$k: no QEMU PID for guest $name"
        return 1
    }
    lab__wait_for "${LAB_GUEST_BOOT_TIMEOUT:-120}" lab__guest_beating "$k" "$name" || {
        lab__err "node$k: guest $name sent no heartbeat (console: $log)"
        return 1
    }
    lab__log "node$k: guest $name ($mem MiB, writer $wmib MiB @ $rate MiB/s," \
        "disk ${lun:-none}) up in $(($(lab__ms) - t0)) ms"
    echo "$xml"
}

lab__console_file() # K NAME -> the serial console file on node K (host path)
{
    echo "$LAB_DIR/node$1/log/libvirt/qemu/$2-serial.log"
}

lab__guest_beating() # K NAME
{
    [[ -n $(lab_guest_stats "$1" "$2" 2>/dev/null) ]]
}

lab_vm_console() # NODE NAME: the guest's serial console as written on NODE
{
    local k
    k=$(lab__node_num "${1:-}") || return 1
    tr -d '\r' <"$(lab__console_file "$k" "${2:-}")"
}

# The guest's last complete heartbeat as written on NODE (after a migration: the destination),
# "beat=N uptime_ms=U errors=E passes=P rate_mib_s=R seq=S disk_errors=D foreign=F lost=L".
lab_guest_stats() # NODE NAME
{
    local k line
    k=$(lab__node_num "${1:-}") || return 1
    line=$(tr -d '\r' <"$(lab__console_file "$k" "${2:-}")" 2>/dev/null |
        grep -a '^DRLAB beat=.* end$' | tail -n 1)
    [[ -n $line ]] || {
        lab__err "node$k: no heartbeat from ${2:-} yet"
        return 1
    }
    line=${line#DRLAB }
    echo "${line% end}"
}

# Waits until the guest's console on NODE shows a heartbeat later than beat AFTER_BEAT (default
# 0: any) and prints it as lab_guest_stats does. After a migration back to a node, that node's
# console still ends with the guest's heartbeats from before it left: pass the last beat seen.
lab_guest_wait() # NODE NAME [AFTER_BEAT [TIMEOUT_S]]
{
    local after=${3:-0} timeout_s=${4:-60} end st b
    end=$(($(lab__ms) + timeout_s * 1000))
    while :; do
        if st=$(lab_guest_stats "${1:-}" "${2:-}" 2>/dev/null); then
            b=${st#beat=}
            b=${b%% *}
            if ((b > after)); then
                echo "$st"
                return 0
            fi
        fi
        (($(lab__ms) < end)) || break
        sleep 0.2
    done
    lab__err "no heartbeat after beat $after from ${2:-} on ${1:-} within ${timeout_s}s"
    return 1
}

# Live-migrates NAME from FROM to TO as Pacemaker's agents do it: peer-to-peer (FROM's
# libvirtd dials TO's on the management network), the domain's definition moving along; the
# data stream takes TO's migration address (qemu.conf). Extra virsh migrate flags may follow.
# Prints the destination's statistics: "wall_ms=.. total_ms=.. downtime_ms=.. data_mib=..".
lab_vm_migrate() # FROM TO NAME [VIRSH_MIGRATE_FLAG...]
{
    local from to name=${3:-} t0 wall info
    from=$(lab__node_num "${1:-}") && to=$(lab__node_num "${2:-}") || return 1
    shift 3 2>/dev/null || {
        lab__err "usage: lab_vm_migrate FROM TO NAME [VIRSH_MIGRATE_FLAG...]"
        return 1
    }
    t0=$(lab__ms)
    lab_virsh "$from" migrate --live --p2p --persistent --undefinesource "$@" "$name" \
        "$(lab_libvirt_tcp_uri "$to")" || {
        lab__err "migration of $name from node$from to node$to failed"
        return 1
    }
    wall=$(($(lab__ms) - t0))
    lab__qemu_record "$to"
    info=$(lab_virsh "$to" domjobinfo --completed --keep-completed "$name" 2>/dev/null)
    awk -v wall="$wall" '
        /^Time elapsed:/ { total = $3 }
        /^Total downtime:/ { down = $3 }
        /^Data processed:/ { v = $3; if ($4 == "GiB") v *= 1024; if ($4 == "KiB") v /= 1024; data = v }
        END { printf "wall_ms=%d total_ms=%s downtime_ms=%s data_mib=%.0f\n",
                     wall, total == "" ? "?" : total, down == "" ? "?" : down, data }' <<<"$info"
    lab__log "migrated $name node$from -> node$to in $wall ms"
}

# --------------------------------------------------------------------------------- cluster
# corosync + Pacemaker + droverd in every node (LAB_CLUSTER=1 lab_up, or lab_cluster_up on a lab
# whose nodes join hb and cli). The recipe is ../shared/lab-notes/cluster-netns: private
# /var/lib/pacemaker, /var/lib/corosync, /etc/corosync, logs, HOME (/root) and /tmp per node; a
# seeded CIB with dc-deadtime=2s (else the first election waits 20 s); hacluster owns the
# Pacemaker dirs. The nodes see the build's fence_drover and ocf:drover:vm through read-only
# overlays on /usr/sbin and /usr/lib/ocf/resource.d; nothing is installed on the host.

lab__src_dir() # the source tree this lab.sh belongs to
{
    echo "${LAB_SELF%/tests/lab/lab.sh}"
}

lab__build_dir() # the build tree: DR_BUILD_DIR as lab_up recorded it, else <source>/build
{
    echo "${DR_BUILD_DIR:-$(lab__src_dir)/build}"
}

lab__cluster_name()
{
    echo "${LAB_CLUSTER_NAME:-lab-$LAB_PREFIX}"
}

lab__is_cluster()
{
    [[ -e $LAB_DIR/cluster/corosync.conf ]]
}

lab__daemon_env() # the environment cluster daemons start with (not the caller's)
{
    echo env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
}

lab__nodelist()
{
    local k
    for ((k = 1; k <= LAB_NODES; k++)); do
        printf '    node {\n        name: node%d\n        nodeid: %d\n' "$k" "$k"
        printf '        ring0_addr: %s\n' "$(lab_node_addr "$k" hb)"
        printf '        ring1_addr: %s\n    }\n' "$(lab_node_addr "$k" cli)"
    done
}

# Host side, once per lab: corosync.conf from configs/corosync/corosync.conf.in, an authkey, the
# seed CIB, the overlay dirs, and every node's private dirs.
lab__cluster_prepare()
{
    local c=$LAB_DIR/cluster b k d net nodes
    lab__is_cluster && return 0
    [[ " $(lab__node_nets) " == *" hb "* && " $(lab__node_nets) " == *" cli "* ]] || {
        lab__err "a cluster needs the hb and cli networks (LAB_NETS=\"hb cli st\")"
        return 1
    }
    lab__cluster_check || return 1
    b=$(lab__build_dir)
    mkdir -p "$c/sbin" "$c/ocf/drover" || return 1
    ln -sfn "$b/stonith/fence_drover" "$c/sbin/fence_drover" &&
        ln -sfn "$b/agents/vm" "$c/ocf/drover/vm" || return 1
    nodes=$(lab__nodelist) || return 1
    awk -v name="$(lab__cluster_name)" -v token="${LAB_TOKEN_MS:-3000}" -v nodes="$nodes" '
        { gsub(/@CLUSTER_NAME@/, name); gsub(/@TOKEN_MS@/, token); gsub(/@TO_SYSLOG@/, "no") }
        /^@NODELIST@$/ { print nodes; next }
        { print }' "$(lab__src_dir)/configs/corosync/corosync.conf.in" >"$c/corosync.conf.tmp" ||
        return 1
    corosync-keygen -k "$c/authkey" >"$c/keygen.log" 2>&1 ||
        dd if=/dev/urandom of="$c/authkey" bs=256 count=1 status=none || return 1
    cibadmin --empty >"$c/cib-seed.xml" &&
        CIB_file=$c/cib-seed.xml crm_attribute -t crm_config -n dc-deadtime \
            -v "${LAB_DC_DEADTIME:-2s}" || return 1
    for ((k = 1; k <= LAB_NODES; k++)); do
        d=$LAB_DIR/node$k
        mkdir -p "$d"/{etc-corosync,lib-corosync,home,lib-pcsd} \
            "$d"/lib-pacemaker/{cib,pengine,blackbox,cores} \
            "$d"/log/{corosync,pacemaker,crmsh,pcsd} || return 1
        cp "$c/corosync.conf.tmp" "$d/etc-corosync/corosync.conf" &&
            install -m 400 "$c/authkey" "$d/etc-corosync/authkey" &&
            install -o hacluster -g haclient -m 600 "$c/cib-seed.xml" \
                "$d/lib-pacemaker/cib/cib.xml" &&
            chown -R hacluster:haclient "$d/lib-pacemaker" "$d/log/pacemaker" &&
            chmod 750 "$d"/lib-pacemaker/* && chmod 770 "$d/log/pacemaker" &&
            chown hacluster:haclient "$d/log/crmsh" && chmod 775 "$d/log/crmsh" || return 1
    done
    mv "$c/corosync.conf.tmp" "$c/corosync.conf"
}

# The cluster's tools and drover's build are there (tests call it before lab_up).
lab__cluster_check()
{
    local b f
    lab__require corosync corosync-keygen corosync-cfgtool pacemakerd crm_mon cibadmin \
        crm_attribute awk envsubst || return 1
    b=$(lab__build_dir)
    for f in stonith/fence_drover agents/vm droverd/droverd tools/drover; do
        [[ -x $b/$f ]] || {
            lab__err "$b/$f is missing: build drover first (or set DR_BUILD_DIR)"
            return 1
        }
    done
}

# Inside node K's namespaces (run as "lab.sh __cluster_mounts K" after each node start).
lab__cluster_mounts() # K
{
    local k=$1 d=$LAB_DIR/node$1 c=$LAB_DIR/cluster p i
    local -a keep=()
    lab__env
    mount --bind "$d/etc-corosync" /etc/corosync &&
        mount --bind "$d/lib-corosync" /var/lib/corosync &&
        mount --bind "$d/lib-pacemaker" /var/lib/pacemaker &&
        mount --bind "$d/log/corosync" /var/log/corosync &&
        mount --bind "$d/log/pacemaker" /var/log/pacemaker &&
        mount --bind "$d/home" /root || return 1
    # crmsh and pcs write logs and state of their own, when installed.
    [[ ! -d /var/log/crmsh ]] || mount --bind "$d/log/crmsh" /var/log/crmsh || return 1
    [[ ! -d /var/log/pcsd ]] || mount --bind "$d/log/pcsd" /var/log/pcsd || return 1
    [[ ! -d /var/lib/pcsd ]] || mount --bind "$d/lib-pcsd" /var/lib/pcsd || return 1
    mount -t overlay "$LAB_PREFIX-sbin" -o "lowerdir=$c/sbin:/usr/sbin" /usr/sbin &&
        mount -t overlay "$LAB_PREFIX-ocf" -o "lowerdir=$c/ocf:/usr/lib/ocf/resource.d" \
            /usr/lib/ocf/resource.d || return 1
    mkdir -p /run/crm /run/resource-agents && chown hacluster:haclient /run/crm || return 1
    # /tmp last: the lab's own paths below /tmp (its state, the source and build trees) are
    # carried over onto the private /tmp.
    i=0
    for p in $(printf '%s\n' "$LAB_DIR" "$(lab__build_dir)" "$(lab__src_dir)" | sort -u); do
        [[ $p == /tmp/* && -d $p ]] || continue
        mkdir -p "/run/lab-keep/$i" && mount --bind "$p" "/run/lab-keep/$i" || return 1
        keep+=("$p")
        i=$((i + 1))
    done
    mount -t tmpfs -o mode=1777,size=256m "$LAB_PREFIX-tmp" /tmp || return 1
    for ((i = 0; i < ${#keep[@]}; i++)); do
        mkdir -p "${keep[i]}" && mount --move "/run/lab-keep/$i" "${keep[i]}" || return 1
    done
    : >/run/lab-cluster-mounts
}

lab__cluster_node_mounts() # K: once per boot of the node
{
    lab_exec "$1" test -e /run/lab-cluster-mounts 2>/dev/null ||
        lab_exec "$1" bash "$LAB_SELF" __cluster_mounts "$1" || {
        lab__err "node$1: cluster mounts failed"
        return 1
    }
}

# Starts CMD in node K (all its namespaces) in the background and records it as NAME. nsenter
# forks into the node's PID namespace: CMD is its only child.
lab__node_spawn() # K NAME LOG CMD...
{
    local k=$1 name=$2 log=$3 init nse c
    shift 3
    init=$(lab__pid_get "node$k") || {
        lab__err "node$k is not running"
        return 1
    }
    nsenter -t "$init" -n -m -u -i -p --wd=/ -- "$@" </dev/null >>"$log" 2>&1 &
    nse=$!
    disown "$nse" 2>/dev/null || true # no "Killed" job notice when the node is powered off
    lab__wait_for 5 lab__first_child "$nse" >/dev/null && c=$(lab__first_child "$nse") &&
        lab__pid_record "$name" "$c" || {
        lab__err "node$k: $name did not start (see $log)"
        return 1
    }
}

lab__droverd_start() # K: as the systemd unit runs it, before Pacemaker
{
    local k=$1 d=$LAB_DIR/node$1 b url
    local -a args
    b=$(lab__build_dir)
    url=$(lab_lun_url fence) || return 1
    args=(--node "node$k" --cluster "$(lab__cluster_name)" --devices "$url"
        --log-file "$d/log/droverd.log")
    if lab__pid_get "libvirtd-node$k" >/dev/null; then
        args+=(--libvirt-uri "$(lab_libvirt_uri "$k")")
    else
        args+=(--no-libvirt)
    fi
    # A node that finds its key removed leaves the cluster, as configs/systemd/droverd.default
    # advises (systemctl stop pacemaker there; SIGTERM to the node's own pacemakerd here): cut
    # off, it never hears that it was fenced, and would rejoin without being unfenced.
    [[ -z ${LAB_ON_FENCED-x} ]] ||
        args+=(--on-fenced "${LAB_ON_FENCED:-kill -TERM \$(pidof pacemakerd)}")
    # shellcheck disable=SC2046 # lab__daemon_env is words
    lab__node_spawn "$k" "node$k-droverd" "$d/log/droverd.out" $(lab__daemon_env) \
        "$b/droverd/droverd" "${args[@]}" || return 1
    lab__wait_for 10 lab_exec "$k" "$b/tools/drover" status >/dev/null 2>&1 || {
        lab__err "node$k: droverd does not answer (see $d/log/droverd.log)"
        return 1
    }
}

# The cluster stack of node K: droverd, corosync, pacemakerd (the order of the systemd units).
lab_cluster_node_up() # NODE
{
    local k d
    k=$(lab__node_num "${1:-}") || return 1
    d=$LAB_DIR/node$k
    lab__is_cluster || {
        lab__err "no cluster in this lab (LAB_CLUSTER=1 lab_up, or lab_cluster_up)"
        return 1
    }
    lab__cluster_node_mounts "$k" || return 1
    lab__pid_get "node$k-droverd" >/dev/null || lab__droverd_start "$k" || return 1
    if ! lab__pid_get "node$k-corosync" >/dev/null; then
        # shellcheck disable=SC2046
        lab__node_spawn "$k" "node$k-corosync" "$d/log/corosync/stdio.log" \
            $(lab__daemon_env) corosync -f || return 1
        lab__wait_for 10 lab_exec "$k" corosync-cfgtool -s >/dev/null 2>&1 || {
            lab__err "node$k: corosync does not answer (see $d/log/corosync/corosync.log)"
            return 1
        }
    fi
    if ! lab__pid_get "node$k-pacemakerd" >/dev/null; then
        # shellcheck disable=SC2046
        lab__node_spawn "$k" "node$k-pacemakerd" "$d/log/pacemaker/stdio.log" \
            $(lab__daemon_env) PCMK_logfile=/var/log/pacemaker/pacemaker.log \
            PCMK_logfacility=none PCMK_debug="${LAB_PCMK_DEBUG:-no}" pacemakerd || return 1
    fi
}

# Sets LAB_CLUSTER_UP_MS: from the first daemon started to all nodes online with quorum.
lab_cluster_up() # all nodes' stacks; waits until all are online with quorum
{
    local k t0
    t0=$(lab__ms)
    lab__env
    lab__cluster_prepare || return 1
    for ((k = 1; k <= LAB_NODES; k++)); do
        lab__pid_get "node$k" >/dev/null || continue
        lab_cluster_node_up "$k" || return 1
    done
    lab_cluster_wait "$LAB_NODES" "${LAB_CLUSTER_UP_TIMEOUT:-120}" || return 1
    LAB_CLUSTER_UP_MS=$(($(lab__ms) - t0)) # for tests that report it
    lab__log "cluster $(lab__cluster_name) up in $LAB_CLUSTER_UP_MS ms"
}

# Stops the stacks cleanly (Pacemaker stops or moves its resources first); nodes stay up.
lab_cluster_down()
{
    local k n rc=0
    lab__env
    for n in pacemakerd corosync droverd; do
        for ((k = 1; k <= LAB_NODES; k++)); do
            lab__pid_get "node$k-$n" >/dev/null && kill -TERM "$(lab__pid_get "node$k-$n")"
        done
        for ((k = 1; k <= LAB_NODES; k++)); do
            lab__pid_stop "node$k-$n" "${LAB_STOP_TIMEOUT:-120}" 0 || rc=1
        done
    done
    return $rc
}

lab__cluster_node() # the first node whose pacemakerd runs
{
    local k
    lab__env
    for ((k = 1; k <= LAB_NODES; k++)); do
        if lab__pid_get "node$k-pacemakerd" >/dev/null; then
            echo "$k"
            return 0
        fi
    done
    lab__err "no node runs Pacemaker"
    return 1
}

# "ONLINE QUORATE DC" as NODE's Pacemaker sees it: online node count, 1/0, the DC's name or -.
lab_cluster_state() # [NODE]
{
    local k x on q dc
    k=${1:-$(lab__cluster_node)} || return 1
    k=$(lab__node_num "$k") || return 1
    x=$(lab_exec "$k" crm_mon -1 --output-as=xml 2>/dev/null) || {
        echo "0 0 -"
        return 0
    }
    on=$(grep -c '<node name="[^"]*" id="[^"]*" online="true"' <<<"$x")
    q=0
    ! grep -q 'with_quorum="true"' <<<"$x" || q=1
    dc=$(sed -n 's/.*<current_dc present="true".* name="\([^"]*\)".*/\1/p' <<<"$x")
    echo "$on $q ${dc:--}"
}

lab__cluster_has() # WANT NODE: NODE sees >= WANT online nodes, quorum and a DC
{
    local on q dc
    read -r on q dc <<<"$(lab_cluster_state "$2")"
    ((on >= $1)) && [[ $q == 1 && $dc != - ]]
}

lab_cluster_wait() # [COUNT [TIMEOUT_S]]: COUNT nodes online with quorum, as every running node sees
{
    local want=${1:-} timeout_s=${2:-120} t0 k
    lab__env
    want=${want:-$LAB_NODES}
    t0=$(lab__ms)
    for ((k = 1; k <= LAB_NODES; k++)); do
        lab__pid_get "node$k-pacemakerd" >/dev/null || continue
        lab__wait_for "$timeout_s" lab__cluster_has "$want" "$k" || {
            lab__err "node$k: not $want nodes online with quorum after ${timeout_s}s" \
                "($(lab_cluster_state "$k"))"
            return 1
        }
    done
    lab__log "$want nodes online with quorum, DC $(lab_cluster_state | cut -d' ' -f3)," \
        "after $(($(lab__ms) - t0)) ms"
}

lab_cluster_status()
{
    local k
    k=$(lab__cluster_node) || return 1
    lab_exec "$k" crm_mon -1 -r -f
}

# Power cut: SIGKILL of the node's init takes everything in its PID namespace at once
# (Pacemaker, corosync, droverd, libvirtd, QEMU). The node's network namespace stays.
lab_node_kill() # NODE
{
    local k pid
    k=$(lab__node_num "${1:-}") || return 1
    pid=$(lab__pid_get "node$k") || {
        lab__err "node$k is not running"
        return 1
    }
    kill -KILL "$pid"
    lab__pid_stop "node$k" 5 0 && lab__pid_stop "node$k-unshare" 5 0 || return 1
    lab__log "node$k killed"
}

# Clean shutdown: Pacemaker stops (moving its resources away), then corosync, droverd,
# libvirtd, and the node's init.
lab_node_stop() # NODE
{
    local k n
    k=$(lab__node_num "${1:-}") || return 1
    for n in pacemakerd corosync droverd; do
        lab__pid_stop "node$k-$n" "${LAB_STOP_TIMEOUT:-120}" || return 1
    done
    lab__libvirt_down "$k"
    lab__pid_stop "node$k" 5 && lab__pid_stop "node$k-unshare" 5 0 || return 1
    lab__log "node$k stopped"
}

# Boots a stopped or killed node again: new namespaces (the network one stays), libvirtd when
# the lab has it (LAB_LIBVIRT=1), the cluster stack when the lab has one. Its disk state
# (CIB, corosync ring id) is kept; /run, /dev/shm and /tmp start empty.
lab_node_start() # NODE
{
    local k t0
    k=$(lab__node_num "${1:-}") || return 1
    t0=$(lab__ms)
    ! lab__pid_get "node$k" >/dev/null || {
        lab__err "node$k is running"
        return 1
    }
    # libvirt's run directory is bound from the node's state dir: it would outlive the boot
    # that /run does not, and libvirtd would take the dead boot's PID files (QEMUs, its QEMU
    # driver's lock) for processes of the new PID namespace, which reuses their numbers.
    rm -rf "$LAB_DIR/node$k/run/libvirt"
    lab__node_start "$k" && lab__wait_for 10 test -e "$LAB_DIR/node$k/ready" || {
        lab__err "node$k did not start (see $LAB_DIR/node$k/init.log)"
        return 1
    }
    if lab__is_cluster; then
        lab__cluster_node_mounts "$k" || return 1
    fi
    if [[ ${LAB_LIBVIRT:-0} == 1 ]]; then
        lab_libvirt_up "$k" || return 1
    fi
    if lab__is_cluster; then
        lab_cluster_node_up "$k" || return 1
    fi
    lab__log "node$k started in $(($(lab__ms) - t0)) ms"
}

lab__link_ports() # K NET... -> the bridge ports of node K on NET (hb, cli, st, heartbeat = hb cli)
{
    local k=$1 net
    shift
    for net in "$@"; do
        case $net in
        heartbeat) echo "${LAB_PREFIX}n${k}hb ${LAB_PREFIX}n${k}cli" ;;
        hb | cli | st | vm) echo "${LAB_PREFIX}n$k$net" ;;
        *)
            lab__err "unknown network '$net' (hb, cli, st, vm, heartbeat)"
            return 1
            ;;
        esac
    done
}

lab__link_set() # up|down NODE NET...
{
    local state=$1 k p ports
    k=$(lab__node_num "${2:-}") || return 1
    shift 2
    [[ $# -gt 0 ]] || set -- heartbeat
    ports=$(lab__link_ports "$k" "$@") || return 1
    for p in $ports; do
        ip -n "$LAB_PREFIX-sw" link set "$p" "$state" || return 1
    done
    lab__log "node$k links $state: $*"
}

lab_link_cut() # NODE [NET...]: hb, cli, st, vm or heartbeat (both knet links, the default)
{
    lab__link_set down "$@"
}

lab_link_heal() # NODE [NET...]
{
    lab__link_set up "$@"
}

# Splits the heartbeat networks (hb and cli) in two: the NODEs on one side, the others on the
# other. Storage stays reachable from both sides.
lab_partition() # NODE...
{
    local sw=$LAB_PREFIX-sw net k node
    [[ $# -gt 0 ]] || {
        lab__err "usage: lab_partition NODE..."
        return 1
    }
    for net in hb cli; do
        ip -n "$sw" link show "${LAB_PREFIX}pt$net" >/dev/null 2>&1 ||
            { ip -n "$sw" link add "${LAB_PREFIX}pt$net" type bridge &&
                ip -n "$sw" link set "${LAB_PREFIX}pt$net" up; } || return 1
    done
    for node in "$@"; do
        k=$(lab__node_num "$node") || return 1
        for net in hb cli; do
            ip -n "$sw" link set "${LAB_PREFIX}n$k$net" master "${LAB_PREFIX}pt$net" || return 1
        done
    done
    lab__log "partition: {$*} | the others"
}

lab_partition_heal()
{
    local sw=$LAB_PREFIX-sw net k
    lab__env
    for ((k = 1; k <= LAB_NODES; k++)); do
        for net in hb cli; do
            ip -n "$sw" link set "${LAB_PREFIX}n$k$net" master "${LAB_PREFIX}br$net" || return 1
        done
    done
    lab__log "partition healed"
}

lab__cib_env() # [VAR=VALUE...] -> the environment drover.pcs.sh and drover.crm are given
{
    local k nodes='' mig='' url
    lab__env
    url=$(lab_lun_url fence) || return 1
    for ((k = 1; k <= LAB_NODES; k++)); do
        nodes+="${nodes:+ }node$k"
        mig+="${mig:+ }node$k=$(lab_node_addr "$k" "$(lab__migration_net)")"
    done
    printf '%s\n' "DROVER_FENCE_DEVICES=$url" "DROVER_CLUSTER_NAME=$(lab__cluster_name)" \
        "DROVER_NODES=$nodes" "DROVER_NODE_CPU=$(nproc)" \
        "DROVER_NODE_MEMORY_MIB=$(awk '/^MemTotal:/ {print int($2 / 1024) - 1024}' /proc/meminfo)" \
        DROVER_STICKINESS=100 DROVER_MIGRATION_LIMIT=2 DROVER_NO_QUORUM_POLICY=stop \
        DROVER_LOAD_THRESHOLD=400% \
        "DROVER_VM_MIGRATION_NETWORK=$mig" \
        "DROVER_VM_REMOTE_URI=qemu+tcp://%n-$(lab__mgmt_net)/system" "$@"
}

# Applies configs/cib/drover.pcs.sh on a cluster node, with the lab's devices, names and nodes;
# VAR=VALUE arguments add or override (DROVER_VM_NAME=.. DROVER_VM_CONFIG=.. for a VM).
lab_cib_pcs() # [VAR=VALUE...]
{
    local k
    local -a e
    k=$(lab__cluster_node) || return 1
    mapfile -t e < <(lab__cib_env "$@") || return 1
    lab_exec "$k" env "${e[@]}" sh "$(lab__src_dir)/configs/cib/drover.pcs.sh"
}

# crm ARGS... on node K. crmsh 4.4 commits a change by diffing two CIB dumps and patching
# (cibadmin --patch); a CIB update landing in between (an operation's result, an attribute, the
# utilization a VM's start publishes) makes the patch "older than existing configuration" and
# crm fails having changed nothing. An admin runs it again; so does this, up to 3 times, only
# for that message, saying so on the script's stderr (even from a command substitution).
# Output and exit code are crm's last.
lab_crm() # K ARGS...
{
    local k=$1 try out rc
    shift
    for try in 1 2 3; do
        rc=0
        out=$(lab_exec "$k" crm "$@" 2>&1) || rc=$?
        [[ $rc != 0 && $out == *"Update was older than existing configuration"* ]] || break
        lab__log "crm $*: crmsh raced a concurrent CIB update (try $try), again" 2>"/proc/$$/fd/2"
    done
    [[ -z $out ]] || printf '%s\n' "$out"
    return "$rc"
}

# The same with configs/cib/drover.crm, rendered as its header says and loaded with
# `crm configure load update`.
lab_cib_crm() # [VAR=VALUE...]
{
    local k f=$LAB_DIR/cluster/drover-$$.crm rc=0
    local -a e
    k=$(lab__cluster_node) || return 1
    mapfile -t e < <(lab__cib_env "$@") || return 1
    env "${e[@]}" bash -c 'awk -v nodes="$DROVER_NODES" -v vm="${DROVER_VM_NAME:-}" '\''
        /^# ---- per (node|VM)/ { blk = $4; buf = ""; next }
        /^# ---- end/ { n = split(blk == "node" ? nodes : (vm == "" ? "" : "-"), a, " ")
                        for (i = 1; i <= n; i++) { b = buf; gsub(/\$\{DROVER_NODE\}/, a[i], b)
                                                   printf "%s", b }
                        blk = ""; next }
        /^#/ { next }
        blk != "" { buf = buf $0 "\n"; next }
        { print }'\'' "$1" | envsubst' _ "$(lab__src_dir)/configs/cib/drover.crm" >"$f" ||
        return 1
    lab_crm "$k" configure load update "$f" || rc=1
    [[ $rc == 0 ]] && rm -f "$f"
    return $rc
}

# ------------------------------------------------------------------------------- lifecycle

lab_deps() # [EXTRA_PKG...]
{
    local p missing=()
    local -a pkgs=(iproute2 util-linux tgt libiscsi-bin libvirt-daemon libvirt-daemon-driver-qemu
        libvirt-clients qemu-system-x86 iputils-ping "$@")
    [[ ${LAB_CLUSTER:-0} != 1 ]] || pkgs+=(corosync pacemaker pacemaker-cli-utils
        pacemaker-resource-agents pcs crmsh gettext-base)
    for p in "${pkgs[@]}"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] ||
            missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    lab__log "installing ${missing[*]}"
    local -a apt=(apt-get -y -q -o DPkg::Lock::Timeout=600)
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "${missing[@]}" ||
        {
            "${apt[@]}" update &&
                DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends \
                    "${missing[@]}"
        } || lab__err "cannot install ${missing[*]}"
}

lab_up()
{
    local t0 k ns
    t0=$(lab__ms)
    [[ $EUID == 0 ]] || {
        lab__err "the lab needs root"
        return 1
    }
    lab__require ip unshare nsenter tgtd tgtadm truncate flock || return 1
    ns=$(lab__netns_list)
    if [[ -e $LAB_DIR/lab.env || -n $ns ]]; then
        lab__err "lab $LAB_PREFIX exists (state $LAB_DIR, namespaces: ${ns//$'\n'/ })"
        return 1
    fi
    LAB_NODES=${LAB_NODES:-3}
    if [[ ${LAB_CLUSTER:-0} == 1 ]]; then
        LAB_NETS=${LAB_NETS:-hb cli st}
    fi
    LAB_NETS=${LAB_NETS:-st}
    if [[ ! $LAB_NODES =~ ^[1-9][0-9]?$ ]]; then
        lab__err "LAB_NODES must be 1..99"
        return 1
    fi
    if [[ ${LAB_QEMU:-system} == backports ]]; then
        LAB_EMULATOR=$(lab_qemu_backports) || return 1
        export LAB_EMULATOR
    fi
    mkdir -p "$LAB_DIR/pids" || return 1
    printf 'LAB_NODES=%q\nLAB_NETS=%q\n' "$LAB_NODES" "$LAB_NETS" >"$LAB_DIR/lab.env"
    # Who made it, for whoever finds it left behind.
    echo "$0 (pid $$, lab up at $(date +%T))" >"$LAB_DIR/owner"
    # Later calls (and other processes) use the same QEMU and networks for libvirt.
    [[ -z ${LAB_EMULATOR:-} ]] || printf 'LAB_EMULATOR=%q\n' "$LAB_EMULATOR" >>"$LAB_DIR/lab.env"
    [[ -z ${LAB_MGMT_NET:-} ]] || printf 'LAB_MGMT_NET=%q\n' "$LAB_MGMT_NET" >>"$LAB_DIR/lab.env"
    [[ -z ${LAB_MIGRATION_NET:-} ]] ||
        printf 'LAB_MIGRATION_NET=%q\n' "$LAB_MIGRATION_NET" >>"$LAB_DIR/lab.env"
    [[ ${LAB_LIBVIRT:-0} != 1 ]] || echo LAB_LIBVIRT=1 >>"$LAB_DIR/lab.env"
    [[ ${LAB_GUEST_NET:-0} != 1 ]] || echo LAB_GUEST_NET=1 >>"$LAB_DIR/lab.env"
    if [[ ${LAB_CLUSTER:-0} == 1 ]]; then
        DR_BUILD_DIR=$(lab__build_dir)
        printf 'LAB_CLUSTER=1\nDR_BUILD_DIR=%q\nLAB_TOKEN_MS=%q\nLAB_CLUSTER_NAME=%q\n' \
            "$DR_BUILD_DIR" "${LAB_TOKEN_MS:-3000}" "$(lab__cluster_name)" >>"$LAB_DIR/lab.env"
        lab__cluster_prepare || return 1
    fi
    lab__hosts >"$LAB_DIR/hosts" || return 1
    lab__net_up || {
        lab__err "network setup failed"
        return 1
    }
    lab__storage_up || return 1
    for ((k = 1; k <= LAB_NODES; k++)); do
        lab__node_start "$k" || return 1
    done
    for ((k = 1; k <= LAB_NODES; k++)); do
        lab__wait_for 10 test -e "$LAB_DIR/node$k/ready" || {
            lab__err "node$k did not start (see $LAB_DIR/node$k/init.log)"
            return 1
        }
    done
    lab_lun_add fence 16 >/dev/null || return 1
    if [[ ${LAB_CLUSTER:-0} == 1 ]]; then
        for ((k = 1; k <= LAB_NODES; k++)); do
            lab__cluster_node_mounts "$k" || return 1
        done
    fi
    lab__log "up in $(($(lab__ms) - t0)) ms: $LAB_NODES nodes, storage $LAB_PORTAL, state $LAB_DIR"
    if [[ ${LAB_LIBVIRT:-0} == 1 ]]; then
        for ((k = 1; k <= LAB_NODES; k++)); do
            lab_libvirt_up "$k" || return 1
        done
    fi
    if [[ ${LAB_CLUSTER:-0} == 1 ]]; then
        lab_cluster_up || return 1
    fi
}

# Idempotent, and safe after a partial lab_up (from an EXIT trap): each step acts only on what
# was recorded. Returns non-zero if a process or namespace of the lab is left.
lab_down()
{
    local - t0 f name k ns p rc=0
    set +e
    [[ -n ${LAB_PREFIX:-} && -n ${LAB_DIR:-} ]] || return 0
    t0=$(lab__ms)
    lab__env
    # A cluster's nodes are powered off at once (SIGKILL of their inits): stopping them one by
    # one would make the others recover their resources and fence them.
    if lab__is_cluster; then
        for ((k = 1; k <= LAB_NODES; k++)); do
            lab__pid_stop "node$k" 5 KILL
        done
    fi
    for f in "$LAB_DIR"/pids/libvirtd-node*.pid; do
        [[ -e $f ]] || continue
        k=${f##*/libvirtd-node}
        lab__libvirt_down "${k%.pid}"
    done
    lab__storage_down
    # A node's init exits on SIGTERM; the kernel then kills whatever is left in its PID
    # namespace, and unshare (its parent) exits.
    for f in "$LAB_DIR"/pids/node*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/}
        name=${name%.pid}
        [[ $name =~ ^node[0-9]+$ ]] && lab__pid_stop "$name" 5
    done
    # Everything else that was recorded, including what extensions record. unshare ignores
    # SIGTERM; it exits with its child, or its SIGKILL takes the node down (--kill-child).
    for f in "$LAB_DIR"/pids/*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/}
        name=${name%.pid}
        if [[ $name == *-unshare ]]; then
            lab__pid_stop "$name" 2 0 || rc=1
        else
            lab__pid_stop "$name" 5 || rc=1
        fi
    done
    # Processes nobody recorded but that live in the lab's network namespaces (for example
    # started with `ip netns exec`) belong to the lab too.
    for ns in $(lab__netns_list); do
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            lab__log "unrecorded process $p in $ns: SIGKILL"
            kill -KILL "$p" 2>/dev/null
        done
    done
    for ns in $(lab__netns_list); do
        ip netns del "$ns" || rc=1
    done
    ns=$(lab__netns_list)
    [[ -z $ns ]] || {
        lab__err "namespaces left: ${ns//$'\n'/ }"
        rc=1
    }
    if [[ ${KEEP:-0} == 1 ]]; then
        lab__log "state kept in $LAB_DIR"
    else
        rm -rf "$LAB_DIR"
    fi
    lab__log "down in $(($(lab__ms) - t0)) ms"
    return $rc
}

lab_status()
{
    local f name pid st k
    lab__env
    echo "prefix $LAB_PREFIX  state $LAB_DIR  nodes $LAB_NODES  networks $(lab__node_nets)"
    for f in "$LAB_DIR"/pids/*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/}
        name=${name%.pid}
        read -r pid st <"$f"
        if lab__pid_alive "$pid" "$st"; then
            echo "  running $name pid $pid"
        else
            echo "  stopped $name pid $pid"
        fi
    done
    echo "namespaces: $(lab__netns_list | tr '\n' ' ')"
    [[ ! -r $LAB_DIR/storage/luns ]] || while read -r pid name; do
        echo "  LUN $(lab_lun_url "$name")"
    done <"$LAB_DIR/storage/luns"
    for ((k = 1; k <= LAB_NODES; k++)); do
        lab__pid_get "libvirtd-node$k" >/dev/null || continue
        echo "  node$k libvirt $(lab_libvirt_uri "$k") domains: $(lab_vm_list "$k" | tr '\n' ' ')"
    done
    if lab__is_cluster; then
        for ((k = 1; k <= LAB_NODES; k++)); do
            lab__pid_get "node$k-pacemakerd" >/dev/null || continue
            echo "  node$k cluster $(lab__cluster_name): online, quorate, DC: $(lab_cluster_state "$k")"
        done
    fi
    return 0
}

# ------------------------------------------------------------------------------------- CLI

lab__main()
{
    local verb=${1:-help}
    shift || true
    verb=${verb//-/_}
    case $verb in
    __node_init)
        lab__init && lab__node_init "$@"
        return
        ;;
    __libvirt_mounts)
        lab__libvirt_mounts "$@"
        return
        ;;
    __cluster_mounts)
        lab__init && lab__cluster_mounts "$@"
        return
        ;;
    help | -h | --help)
        sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$LAB_SELF"
        return 0
        ;;
    up | deps | qemu_backports | guest_kernel) ;; # no lab needed
    *)
        [[ -n ${LAB_PREFIX:-} ]] || {
            lab__err "set LAB_PREFIX to the lab's prefix (see: ip netns list)"
            return 1
        }
        ;;
    esac
    declare -F "lab_$verb" >/dev/null || {
        lab__err "unknown verb '$verb' (lab.sh help)"
        return 2
    }
    lab__init || return 1
    if [[ $verb == up ]]; then
        printf 'export LAB_PREFIX=%q LAB_DIR=%q\n' "$LAB_PREFIX" "$LAB_DIR"
        lab_up || {
            [[ ${KEEP:-0} == 1 ]] || lab_down
            return 1
        }
        return 0
    fi
    "lab_$verb" "$@"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    lab__main "$@"
    exit
fi
lab__init
