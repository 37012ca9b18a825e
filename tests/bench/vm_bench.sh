#!/bin/bash
# tests/bench/vm_bench.sh - the VM resource agent (ocf:drover:vm) against VirtualDomain
# (ocf:heartbeat:VirtualDomain, resource-agents), side by side on one lab and the same domains.
#
#   tests/bench/vm_bench.sh [all|monitor|migration]
#
# monitor: one 2-node lab (LAB_NETS="hb cli st", libvirtd's TCP listener on hb, where the node
#   names resolve; the migration stream on cli), a tiny diskless TCG domain running on node1.
#   DR_BENCH_MON_N (default 31) monitor calls per series, each run inside node1 as Pacemaker's
#   executor runs it (OCF_RESKEY_* in the environment, a recurring monitor has
#   CRM_meta_interval=10000) and measured by drbench_cpu: wall time from fork to exit, and the
#   user+sys CPU time of the agent and every process it waited for. libvirtd's and droverd's
#   own CPU time over each series is read from /proc and shown per call. Series: ours through
#   droverd's cache; ours with droverd stopped (the agent asks libvirt itself); ours as a probe
#   (always libvirt); VirtualDomain as shipped (autoset_utilization_* true: virsh dominfo and
#   crm_resource for each attribute) and VirtualDomain with the three autoset_utilization_*
#   set to false (only virsh domstate and the emulator cache); baselines: the agent's meta-data
#   (process start-up, no libvirt) and /bin/true.
# migration: waits (up to DR_BENCH_QEMU_WAIT_S, default 900) until no other QEMU runs on the
#   machine, then for each guest size (DR_BENCH_MIG_SIZES, default "256 512" MiB) and load (idle;
#   moderate: a 64 MiB writer at 50 MiB/s; heavy: half the memory rewritten as fast as the guest
#   can) boots one lab guest (tests/lab/guest: Debian kernel, memory writer with a checker) and
#   moves it DR_BENCH_MIG_N (default 3) times with each tool, alternating ours / VirtualDomain,
#   each from where the guest is to the other node: migrate_to on the source then migrate_from
#   on the target, as Pacemaker runs them (CRM_meta_migrate_source/target, CRM_meta_timeout =
#   the agent's advised timeout, 120 s for migrate_to, 60 s for migrate_from). Bandwidth capped
#   for both at DR_BENCH_MIG_BW MiB/s (default 110, 1 GbE): ours migration_bandwidth, theirs
#   migration_speed. Everything else at its default: ours migration_policy=postcopy,
#   VirtualDomain plain pre-copy `virsh migrate --live`. VirtualDomain needs remoteuri (its
#   default derives it from hypervisor, here a unix-socket URI): qemu+tcp://%n/system, what it
#   derives from hypervisor=qemu:///system with migration_transport=tcp, and what our remote_uri
#   defaults to. A VirtualDomain migrate_to of the heavy writer is killed after
#   DR_BENCH_VD_HEAVY_S (default 30; Pacemaker would wait 120 s) and its job statistics just
#   before are kept. After every migration: libvirt's completed-job statistics on the target
#   (virsh domjobinfo --completed --keep-completed), where the guest runs, and a fresh heartbeat
#   of its memory checker (errors=0, uptime went on). The downtime seen from outside: the guest
#   has a virtio NIC on the lab's guests' network (LAB_GUEST_NET=1) and a client pings it every
#   DR_BENCH_PING_MS (default 5) ms (iputils ping -D, as root) from 0.5 s before migrate_to
#   until 0.5 s after migrate_from: the longest time a request waited for its reply (a lost one
#   until the next reply; lab__ping_summary in tests/lab/lab.sh), the longest time between
#   replies, the prober's own longest pause, and the requests left unanswered.
# Output: raw samples in $DR_BENCH_RESULTS/vm/, the tables on stdout. Needs root.
# Exit 0 when every call behaved as expected, 1 otherwise, 77 when the lab cannot run.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/lib.sh"
. "$DR_SOURCE_DIR/tests/lab/lab.sh"
t_require virsh libvirtd gcc nsenter timeout

which=${1:-all}
case $which in all | monitor | migration) ;; *) echo "usage: $0 [all|monitor|migration]"; exit 2 ;; esac
MON_N=${DR_BENCH_MON_N:-31}
MIG_N=${DR_BENCH_MIG_N:-3}
BW=${DR_BENCH_MIG_BW:-110}
SIZES=${DR_BENCH_MIG_SIZES:-256 512}
LOADS=${DR_BENCH_MIG_LOADS:-idle moderate heavy}
VD_HEAVY_S=${DR_BENCH_VD_HEAVY_S:-30}
QEMU_WAIT_S=${DR_BENCH_QEMU_WAIT_S:-900}
PING_MS=${DR_BENCH_PING_MS:-5}
AGENT=$DR_BUILD_DIR/agents/vm
VD=/usr/lib/ocf/resource.d/heartbeat/VirtualDomain
R=$DR_BENCH_RESULTS/vm
CLUSTER=drbench
for f in "$AGENT" "$DROVERD" "$VD"; do
    [[ -x $f ]] || { echo "FATAL: $f is missing (DR_BUILD_DIR=$DR_BUILD_DIR)"; exit 1; }
done

ERRORS=0
bad() { ERRORS=$((ERRORS + 1)); b_log "UNEXPECTED: $*"; }
cleanup()
{
    t_droverd_stop_all
    lab_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$R" && mkdir -p "$R" || exit 1
export LAB_NODES=2 LAB_NETS="hb cli st" LAB_MGMT_NET=hb LAB_GUEST_NET=1
LAB_EMULATOR=$(lab_qemu_backports) || { echo "SKIP: no QEMU from backports"; exit 77; }
export LAB_EMULATOR
b_log "lab up (2 nodes, libvirtd on both, QEMU $("$LAB_EMULATOR" --version | head -1))"
lab_up >/dev/null || { echo "FATAL: lab_up failed"; exit 1; }
lab_libvirt_up node1 >/dev/null && lab_libvirt_up node2 >/dev/null ||
    { echo "FATAL: libvirt on the lab nodes"; exit 1; }
BIN=$LAB_DIR/bench-bin
b_build_helpers "$BIN" || { echo "FATAL: cannot build the bench helpers"; exit 1; }
# shellcheck disable=SC2086 # B_CFLAGS is a word list
gcc $B_CFLAGS -o "$BIN/drbench_cpu" "$HERE/drbench_cpu.c" || { echo "FATAL: drbench_cpu"; exit 1; }
TCK=$(getconf CLK_TCK)

# proc_cpu_ms PID: user+sys CPU time of a running process so far, ms (clock-tick resolution)
proc_cpu_ms()
{
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }
    # shellcheck disable=SC2086 # split the fields after the command name
    set -- $s
    echo $(((${12} + ${13}) * 1000 / TCK))
}

# ----------------------------------------------------------------------------- monitor
monitor_part()
{
    local uri conf lvpid dpid series i rc want f
    b_log "monitor: tiny domain mon1 on node1"
    uri=$(lab_libvirt_uri node1)
    conf=$LAB_DIR/node1/mon1.xml
    # lab_vm_start's domain has no <acpi/>, so libvirt 9.0 passes -no-acpi, which QEMU 10
    # (backports) no longer knows: the same tiny domain, with ACPI.
    lab__domain_xml mon1 48 | sed 's|^  </os>|&\n  <features><acpi/></features>|' >"$conf" &&
        lab_virsh node1 define "$conf" >/dev/null && lab_virsh node1 start mon1 >/dev/null &&
        lab__wait_for 30 lab__vm_running 1 mon1 || { echo "FATAL: domain mon1"; return 1; }
    lab__qemu_record 1
    lvpid=$(lab__pid_get libvirtd-node1)
    local -a ours=(env OCF_RESOURCE_INSTANCE=vm-mon1 OCF_RESKEY_config="$conf"
        OCF_RESKEY_hypervisor="$uri" OCF_RESKEY_CRM_meta_timeout=30000)
    local -a vd=(env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vd-mon1
        OCF_RESKEY_config="$conf" OCF_RESKEY_hypervisor="$uri" OCF_RESKEY_CRM_meta_timeout=30000)
    local -a lean=(OCF_RESKEY_autoset_utilization_cpu=false
        OCF_RESKEY_autoset_utilization_host_memory=false
        OCF_RESKEY_autoset_utilization_hv_memory=false)
    # series NAME WANT_RC CMD...: MON_N timed calls in node1; daemon CPU per call recorded
    series()
    {
        local name=$1 want=$2 l0 l1 d0=0 d1=0
        shift 2
        # One untimed call first: page cache and libvirtd's first-connection work.
        lab_exec node1 "$@" >/dev/null 2>&1
        l0=$(proc_cpu_ms "$lvpid")
        [[ -z ${DPID:-} ]] || d0=$(proc_cpu_ms "$DPID")
        for i in $(seq "$MON_N"); do
            rc=0
            lab_exec node1 "${@:1:$(($# - 2))}" "$BIN/drbench_cpu" "$R/mon-$name.raw" \
                "${@: -2}" >>"$R/monitor.log" 2>&1 || rc=$?
            [[ $rc == "$want" ]] || bad "$name: exit $rc, wanted $want"
        done
        l1=$(proc_cpu_ms "$lvpid")
        [[ -z ${DPID:-} ]] || d1=$(proc_cpu_ms "$DPID")
        echo "$name $(((l1 - l0) * 1000 / MON_N)) $(((d1 - d0) * 1000 / MON_N))" >>"$R/mon-daemons.txt"
    }
    : >"$R/mon-daemons.txt"
    DPID=
    series base-true 0 env /bin/true x
    series base-metadata 0 env "$AGENT" meta-data
    t_droverd_start node1 --cluster "$CLUSTER" --libvirt-uri "$uri" || return 1
    DPID=$T_DROVERD_PID
    t_wait_for 10 eval 'lab_exec node1 "$DROVER" vm mon1 | grep -q ": running"' ||
        bad "droverd's cache does not have mon1 running"
    # Proof that the recurring monitor is answered by droverd (debug log line).
    lab_exec node1 "${ours[@]}" OCF_RESKEY_CRM_meta_interval=10000 HA_debug=1 "$AGENT" monitor 2>&1 |
        grep -q "from droverd's cache" || bad "recurring monitor not answered from droverd's cache"
    series ours-droverd 0 "${ours[@]}" OCF_RESKEY_CRM_meta_interval=10000 "$AGENT" monitor
    series ours-probe 0 "${ours[@]}" OCF_RESKEY_CRM_meta_interval=0 "$AGENT" monitor
    series vd-default 0 "${vd[@]}" OCF_RESKEY_CRM_meta_interval=10000 "$VD" monitor
    series vd-lean 0 "${vd[@]}" "${lean[@]}" OCF_RESKEY_CRM_meta_interval=10000 "$VD" monitor
    t_droverd_stop_all
    T_DROVERD_PIDS=()
    DPID=
    series ours-nodroverd 0 "${ours[@]}" OCF_RESKEY_CRM_meta_interval=10000 "$AGENT" monitor
    # Where our time goes: shared objects and the dynamic loader's own statistics.
    ldd "$AGENT" | grep -c '=>' >"$R/agent-libs.txt"
    lab_exec node1 "${ours[@]}" OCF_RESKEY_CRM_meta_interval=0 LD_DEBUG=statistics "$AGENT" \
        monitor >"$R/ld-statistics.txt" 2>&1
    # Where the CPU goes in a recurring monitor through droverd: perf's samples by object.
    if command -v perf >/dev/null 2>&1; then
        t_droverd_start node1 --cluster "$CLUSTER" --libvirt-uri "$uri" &&
            t_wait_for 10 eval 'lab_exec node1 "$DROVER" vm mon1 | grep -q ": running"' &&
            lab_exec node1 "${ours[@]}" OCF_RESKEY_CRM_meta_interval=10000 perf record -q -F 20000 \
                -o "$R/perf.data" -- bash -c "for i in \$(seq $MON_N); do \"\$0\" monitor; done" \
                "$AGENT" >/dev/null 2>&1 &&
            perf report -i "$R/perf.data" --no-children --sort comm,dso -q -g none 2>/dev/null |
            awk '$2 == "vm"' | head -8 >"$R/perf-dso.txt"
        t_droverd_stop_all
        T_DROVERD_PIDS=()
    fi
    for f in "$R"/mon-*.raw; do
        awk '{ printf "%.2f\n", $2 / 1e6 }' "$f" >"${f%.raw}.wall.ms"
        awk '{ printf "%.2f\n", ($3 + $4) / 1e3 }' "$f" >"${f%.raw}.cpu.ms"
        awk '{ printf "%.2f\n", $3 / 1e3 }' "$f" >"${f%.raw}.user.ms"
    done
    lab_virsh node1 destroy mon1 >/dev/null 2>&1
    lab_virsh node1 undefine mon1 >/dev/null 2>&1
    return 0
}

monitor_tables()
{
    local s label med_vd med_lean m
    local -a names=(ours-droverd ours-nodroverd ours-probe vd-default vd-lean base-metadata base-true)
    local -A labels=(
        [ours-droverd]="ocf:drover:vm, recurring, droverd running"
        [ours-nodroverd]="ocf:drover:vm, recurring, droverd stopped (asks libvirt)"
        [ours-probe]="ocf:drover:vm, probe (interval 0: asks libvirt)"
        [vd-default]="VirtualDomain, recurring, as shipped"
        [vd-lean]="VirtualDomain, recurring, autoset_utilization_*=false"
        [base-metadata]="baseline: ocf:drover:vm meta-data (start-up, no libvirt)"
        [base-true]="baseline: /bin/true (the wrapper itself)")
    echo "### VM agent monitor: CPU time per call (user+sys of the agent and its children)"
    echo
    b_table_head "monitor call"
    for s in "${names[@]}"; do b_row "${labels[$s]}" "$R/mon-$s.cpu.ms"; done
    echo
    echo "### VM agent monitor: wall time per call (fork to exit)"
    echo
    b_table_head "monitor call"
    for s in "${names[@]}"; do b_row "${labels[$s]}" "$R/mon-$s.wall.ms"; done
    echo
    echo "### VM agent monitor: daemons' CPU per call (whole series / N, 10 ms ticks)"
    echo
    echo "| monitor call | libvirtd µs/call | droverd µs/call |"
    echo "|---|---|---|"
    while read -r s l d; do
        echo "| ${labels[$s]} | $l | $d |"
    done <"$R/mon-daemons.txt"
    echo
    echo "### VM agent monitor: ratios of medians (CPU)"
    echo
    echo "| ours | VirtualDomain as shipped / ours | VirtualDomain lean / ours |"
    echo "|---|---|---|"
    med_vd=$(b_median "$R/mon-vd-default.cpu.ms")
    med_lean=$(b_median "$R/mon-vd-lean.cpu.ms")
    for s in ours-droverd ours-nodroverd ours-probe; do
        m=$(b_median "$R/mon-$s.cpu.ms")
        awk -v l="${labels[$s]}" -v m="$m" -v a="$med_vd" -v b="$med_lean" \
            'BEGIN { printf "| %s | %.1f | %.1f |\n", l, a / m, b / m }'
    done
    echo
    echo "shared objects loaded by the agent (ldd): $(cat "$R/agent-libs.txt")"
    grep -E 'total startup time|time needed for relocation|number of relocations:|objects loaded' \
        "$R/ld-statistics.txt" | sed 's/^ *[0-9]*: *//; s/^/    ld.so: /'
    if [[ -s $R/perf-dso.txt ]]; then
        echo "perf samples of the agent process (recurring monitor through droverd), by object:"
        sed 's/^ */    /' "$R/perf-dso.txt"
    fi
}

# --------------------------------------------------------------------------- migration
other_qemus()
{
    local mine p
    mine=" $(lab_pids | awk '{print $2}' | tr '\n' ' ') "
    for p in $(pgrep -x 'qemu-system-x86' 2>/dev/null; pgrep -f '^[^ ]*qemu-system-x86_64 ' 2>/dev/null); do
        [[ $mine == *" $p "* ]] || echo "$p"
    done | sort -u
}

# jobinfo_line NODE NAME: the completed job's figures on NODE as key=value
jobinfo_line()
{
    lab_virsh "$1" domjobinfo --completed --keep-completed "$2" 2>/dev/null | awk '
        function mib(v, u) { if (u == "GiB") return v * 1024; if (u == "KiB") return v / 1024;
                             if (u == "B" || u == "bytes") return v / 1048576; return v }
        /^Time elapsed:/ { total = $3 }
        /^Total downtime:/ { down = $3 }
        /^Data processed:/ { data = mib($3, $4) }
        /^Iteration:/ { it = $2 }
        /^Postcopy requests:/ { pc = $3 }
        END { printf "job_ms=%s downtime_ms=%s data_mib=%.0f iterations=%s postcopy_requests=%s\n",
                     total == "" ? "?" : total, down == "" ? "?" : down, data,
                     it == "" ? "?" : it, pc == "" ? "0" : pc }'
}

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# migrate TOOL NAME XML FROM TO LOAD: one Pacemaker-style migration; appends a result line
migrate()
{
    local tool=$1 name=$2 xml=$3 from=$4 to=$5 load=$6 before beat rc=0 rcf=0 t0 wall
    local ok=yes where info after log sampler="" seen
    before=$(lab_guest_stats "$from" "$name")
    beat=$(kv beat "$before")
    log=$R/mig-$name-$tool-$MIGSEQ.log
    local -a env_to env_from
    if [[ $tool == ours ]]; then
        env_to=(env OCF_RESOURCE_INSTANCE="vm-$name" OCF_RESKEY_config="$xml"
            OCF_RESKEY_hypervisor="$(lab_libvirt_uri "$from")" OCF_RESKEY_migration_bandwidth="$BW"
            OCF_RESKEY_CRM_meta_migrate_source="$from" OCF_RESKEY_CRM_meta_migrate_target="$to"
            OCF_RESKEY_CRM_meta_timeout=120000 "$AGENT" migrate_to)
        env_from=(env OCF_RESOURCE_INSTANCE="vm-$name" OCF_RESKEY_config="$xml"
            OCF_RESKEY_hypervisor="$(lab_libvirt_uri "$to")"
            OCF_RESKEY_CRM_meta_migrate_source="$from" OCF_RESKEY_CRM_meta_migrate_target="$to"
            OCF_RESKEY_CRM_meta_timeout=60000 "$AGENT" migrate_from)
    else
        env_to=(env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="vd-$name" OCF_RESKEY_config="$xml"
            OCF_RESKEY_hypervisor="$(lab_libvirt_uri "$from")" OCF_RESKEY_migration_speed="$BW"
            OCF_RESKEY_remoteuri='qemu+tcp://%n/system'
            OCF_RESKEY_CRM_meta_migrate_source="$from" OCF_RESKEY_CRM_meta_migrate_target="$to"
            OCF_RESKEY_CRM_meta_timeout=120000 "$VD" migrate_to)
        env_from=(env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="vd-$name" OCF_RESKEY_config="$xml"
            OCF_RESKEY_hypervisor="$(lab_libvirt_uri "$to")"
            OCF_RESKEY_CRM_meta_migrate_source="$from" OCF_RESKEY_CRM_meta_migrate_target="$to"
            OCF_RESKEY_CRM_meta_timeout=60000 "$VD" migrate_from)
    fi
    local limit=120
    if [[ $tool == vd && $load == heavy ]]; then
        limit=$VD_HEAVY_S
        # The job's figures just before the kill: how far plain pre-copy got.
        (sleep $((limit - 2)); lab_virsh "$from" domjobinfo "$name" >"$log.job" 2>&1) &
        sampler=$!
    fi
    # A client pings the guest throughout: the downtime as its users see it.
    lab_guest_ping_start "$name" "$PING_MS" || bad "$tool $name: cannot ping the guest"
    sleep 0.5
    t0=$(t_ms)
    # Pacemaker kills an operation at its timeout (the process group: virsh goes too).
    lab_exec "$from" "$BIN/drbench_time" "$R/mig-wall.raw" timeout -s KILL "$limit" \
        "${env_to[@]}" >"$log" 2>&1 || rc=$?
    wall=$(($(t_ms) - t0))
    [[ -z $sampler ]] || wait "$sampler"
    if ((rc == 0)); then
        lab_exec "$to" "${env_from[@]}" >>"$log" 2>&1 || rcf=$?
        lab__qemu_record "${to#node}"
        lab_virsh "$to" domjobinfo --completed --keep-completed "$name" >"$log.done" 2>&1
        info=$(jobinfo_line "$to" "$name")
    else
        # Failed or killed: where is the guest? A leftover incoming domain on the target is
        # what Pacemaker's stop on the target would remove.
        sleep 1
        local left=no
        lab_vm_list "$to" 2>/dev/null | grep -qx "$name" && left=yes
        info="job_ms=- downtime_ms=- data_mib=- iterations=$(awk '/^Iteration:/ {print $2}' "$log.job" 2>/dev/null) postcopy_requests=- left_on_target=$left"
        [[ -s $log.job ]] && info="$info remaining_mib=$(awk '/^Memory remaining:/ {v=$3; if ($4=="GiB") v*=1024; if ($4=="KiB") v/=1024; printf "%.0f", v}' "$log.job")"
        lab_virsh "$to" destroy "$name" >/dev/null 2>&1
    fi
    sleep 0.5
    seen=$(lab_guest_ping_stop "$name") || seen="sent=0 received=0 lost=0 dup=0 max_gap_ms=- last=0"
    cp "$LAB_DIR/ping-$name.log" "$log.ping" 2>/dev/null
    ((rc != 0 || $(kv received "$seen") > 0)) || bad "$tool $name: the client got no reply: $seen"
    ((rc != 0 || $(kv last "$seen") > t0)) ||
        bad "$tool $name: the client got no reply after the migration began: $seen"
    (($(kv dup "$seen") == 0)) || bad "$tool $name: duplicate replies (two copies): $seen"
    where=$(for n in node1 node2; do lab_vm_list "$n" | grep -qx "$name" && printf '%s ' "$n"; done)
    if ((rc == 0 && rcf == 0)); then
        [[ $where == "$to " ]] || { ok=no; bad "$tool $name: after migrating runs on: $where"; }
        after=$(lab_guest_wait "$to" "$name" "$beat" 60) || { ok=no; bad "$tool $name: no heartbeat on $to"; }
        CUR=$to
    else
        ok=no
        [[ $where == "$from " ]] || bad "$tool $name: after a failed migration runs on: '$where'"
        after=$(lab_guest_wait "$from" "$name" "$beat" 60) || bad "$tool $name: no heartbeat on $from"
    fi
    if [[ -n ${after:-} ]]; then
        [[ $(kv errors "$after") == 0 && $(kv lost "$after") == 0 ]] ||
            { ok=no; bad "$tool $name: guest checker: $after"; }
        (($(kv uptime_ms "$after") > $(kv uptime_ms "$before"))) ||
            { ok=no; bad "$tool $name: guest restarted: $before -> $after"; }
    fi
    local notice="" agent_down=""
    notice=$(grep -o 'migrated to .*' "$log" | head -1)
    # After post-copy libvirt keeps no figures; the agent measures the switch itself.
    [[ $notice =~ downtime\ ([0-9]+)\ ms\ \(measured\ by\ drover ]] && agent_down=${BASH_REMATCH[1]}
    echo "$tool $name $load $from->$to rc=$rc rc_from=$rcf wall_ms=$wall $info${agent_down:+ agent_downtime_ms=$agent_down} ok=$ok rate=$(kv rate_mib_s "$before") ping_outage_ms=$(kv outage_ms "$seen") ping_gap_ms=$(kv max_gap_ms "$seen") ping_stall_ms=$(kv stall_ms "$seen") ping_lost=$(kv lost "$seen") ping_sent=$(kv sent "$seen") ping_median_ms=$(kv median_gap_ms "$seen")${notice:+ notice=\"$notice\"}" |
        tee -a "$R/migrations.txt" >&2
    MIGSEQ=$((MIGSEQ + 1))
}
MIGSEQ=0

migration_part()
{
    local size load wmib rate name xml i end q
    end=$(($(t_ms) + QEMU_WAIT_S * 1000))
    while q=$(other_qemus) && [[ -n $q ]]; do
        (($(t_ms) < end)) || { bad "other QEMUs still run after ${QEMU_WAIT_S}s: $q"; return 1; }
        b_log "migration: waiting, other QEMUs run: $(echo $q)"
        sleep 15
    done
    b_log "migration: no other QEMU runs; bandwidth cap $BW MiB/s"
    : >"$R/migrations.txt"
    for size in $SIZES; do
        for load in $LOADS; do
            case $load in
            idle) wmib=0 rate=0 ;;
            moderate) wmib=64 rate=50 ;;
            heavy) wmib=$((size / 2)) rate=0 ;;
            esac
            name=g$size$load
            xml=$(lab_vm_start_guest node1 "$name" "$size" "$wmib" "$rate" 2>>"$R/guest.log") ||
                { bad "guest $name did not start"; continue; }
            # Let the writer reach its pace (one more heartbeat).
            lab_guest_wait node1 "$name" "$(kv beat "$(lab_guest_stats node1 "$name")")" 30 >/dev/null
            CUR=node1
            for i in $(seq "$MIG_N"); do
                migrate ours "$name" "$xml" "$CUR" "$([[ $CUR == node1 ]] && echo node2 || echo node1)" "$load"
                migrate vd "$name" "$xml" "$CUR" "$([[ $CUR == node1 ]] && echo node2 || echo node1)" "$load"
            done
            lab_virsh "$CUR" destroy "$name" >/dev/null 2>&1
            for n in node1 node2; do lab_virsh "$n" undefine "$name" >/dev/null 2>&1; done
        done
    done
}

migration_tables()
{
    local size load tool f n ok
    echo "### VM agent live migration (cap $BW MiB/s, N = $MIG_N per tool and case)"
    echo
    echo "downtime: libvirt's figure (domjobinfo on the target); after post-copy, where libvirt keeps"
    echo "none, the agent's own (source paused to destination running). Outage seen by a client: a client on"
    echo "the guests' network pings the guest every $PING_MS ms; the longest time a request waited for"
    echo "its reply, a lost request waiting until the next reply (lab__ping_summary: the prober's own"
    echo "pauses on a loaded machine do not count; raw lines also give ping_gap_ms, the longest time"
    echo "between replies, and ping_stall_ms, the prober's longest pause). Pings lost: unanswered."
    echo
    echo "| guest | load | tool | completed | migrate_to wall s median (min-max) | job s median | downtime ms median (min-max) | outage seen by a client ms median (min-max) | pings lost median (max) | MiB sent median | iterations median | post-copy | not completed: killed after, iteration, memory remaining |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for size in $SIZES; do
        for load in $LOADS; do
            for tool in ours vd; do
                f=$R/migrations.txt
                awk -v s="g$size$load" -v t="$tool" -v size="$size" -v ld="$load" '
                    function med(a, n,   i, j, x) { for (i = 2; i <= n; i++) { x = a[i];
                        for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
                        return n == 0 ? "-" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }
                    function val(k,   i, p) { for (i = 1; i <= NF; i++) { p = index($i, "=");
                        if (substr($i, 1, p - 1) == k) return substr($i, p + 1) } return "" }
                    $1 == t && $2 == s {
                        n++; if (val("ok") == "yes") okn++
                        w[n] = val("wall_ms") / 1000; wmin = (n == 1 || w[n] < wmin) ? w[n] : wmin
                        wmax = (n == 1 || w[n] > wmax) ? w[n] : wmax
                        if (val("ok") == "yes" && $0 ~ /post-copy/) pc++
                        if (val("ok") == "yes" && val("ping_outage_ms") ~ /^[0-9]/) { q++; pg[q] = val("ping_outage_ms") + 0
                            pl[q] = val("ping_lost") + 0; pgmin = (q == 1 || pg[q] < pgmin) ? pg[q] : pgmin
                            pgmax = (q == 1 || pg[q] > pgmax) ? pg[q] : pgmax; plmax = (q == 1 || pl[q] > plmax) ? pl[q] : plmax }
                        if (val("ok") == "yes" && val("job_ms") == "?") nostats++
                        dv = val("downtime_ms"); if (dv !~ /^[0-9]/) dv = val("agent_downtime_ms")
                        if (val("ok") == "yes" && dv ~ /^[0-9]/) { kd++; d[kd] = dv + 0
                            dmin = (kd == 1 || d[kd] < dmin) ? d[kd] : dmin; dmax = (kd == 1 || d[kd] > dmax) ? d[kd] : dmax }
                        if (val("ok") == "yes" && val("job_ms") != "?") { k++; j[k] = val("job_ms") / 1000
                            m[k] = val("data_mib") + 0; it[k] = val("iterations") + 0 }
                        else if (val("ok") != "yes") { fk++; nc = nc sprintf("%s%s s: it. %s, %s MiB left", fk > 1 ? "; " : "",
                            val("wall_ms") / 1000, val("iterations"), val("remaining_mib")) }
                    }
                    END {
                        if (n == 0) exit
                        printf "| %s MiB | %s | %s | %d/%d | %.1f (%.1f-%.1f) | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                            size, ld, t == "ours" ? "ocf:drover:vm" : "VirtualDomain", okn, n,
                            med(w, n), wmin, wmax, k ? sprintf("%.1f", med(j, k)) : "-",
                            kd ? sprintf("%s (%s-%s)", med(d, kd), dmin, dmax) : "-",
                            q ? sprintf("%.0f (%.0f-%.0f)", med(pg, q), pgmin, pgmax) : "-",
                            q ? sprintf("%s (%s)", med(pl, q), plmax) : "-",
                            k ? med(m, k) : "-", k ? med(it, k) : "-",
                            okn ? (pc + 0) "/" okn : "-",
                            fk ? nc : (nostats ? nostats " run(s): no completed-job statistics on the target after post-copy" : "-")
                    }' "$f"
            done
        done
    done
    echo
    echo "Every migration (raw):"
    echo
    sed 's/^/    /' "$R/migrations.txt"
}

if [[ $which != migration ]]; then
    monitor_part || exit 1
fi
rc_part=0
if [[ $which != monitor ]]; then
    migration_part || rc_part=1
fi
echo
[[ $which == migration ]] || monitor_tables
[[ $which == monitor ]] || { echo; migration_tables; }
((ERRORS == 0 && rc_part == 0)) || { echo "errors: $ERRORS"; exit 1; }
exit 0
