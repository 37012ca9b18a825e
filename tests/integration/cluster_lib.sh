# shellcheck shell=bash
# tests/integration/cluster_lib.sh - shared by the cluster_*_test.sh tests that run real guests
# under Pacemaker (sourced after lib.sh, bash): the lab with libvirt and QEMU from backports,
# guest domain XMLs readable on every node, a sampler that records on which nodes each guest's
# vCPU runs (every <= 100 ms), Pacemaker's log lines since a mark, and guest statistics.
# The caller sets CL_DOMS (the domain names) before cl_sampler_start, and calls cl_cleanup from
# its EXIT trap.

cl_setup() # root, packages, the build; sources lab.sh with a cluster, libvirt and QEMU 10
{
    if [[ $EUID != 0 ]]; then
        echo "needs root: $([[ ${CI:-} == true ]] && echo FATAL under CI=true || echo SKIP)"
        [[ ${CI:-} != true ]] && exit 77 || exit 1
    fi
    export LAB_CLUSTER=1 LAB_LIBVIRT=1 LAB_QEMU=backports DR_BUILD_DIR
    # shellcheck source=../lab/lab.sh
    . "$DR_SOURCE_DIR/tests/lab/lab.sh"
    lab__init || exit 1
    lab_deps busybox-static cpio gcc libc6-dev ||
        t_require corosync pacemakerd pcs crm libvirtd virsh tgtd busybox cpio cc
    t_require corosync pacemakerd pcs crm crm_simulate stonith_admin libvirtd virsh tgtd busybox \
        cpio cc
    lab__cluster_check || exit 1
    CL_SAMPLER_PID=
    CL_SAMPLES=
}

cl_cleanup()
{
    cl_sampler_stop
    lab_down >/dev/null 2>&1
}

# Waits (up to CL_QUIET_WAIT_S, default 180) while a guest QEMU of another lab keeps more than
# 30 % of a core busy: someone may be migrating or benchmarking on these 2 cores, and TCG guests
# would time out. Goes ahead after the wait, saying so.
cl_wait_machine_quiet()
{
    local end=$(($(t_ms) + ${CL_QUIET_WAIT_S:-180} * 1000)) t0 p busy c1
    local -A ticks0=()
    t0=$(t_ms)
    while :; do
        ticks0=()
        busy=
        for p in $(pgrep -f -- 'qemu-system.* -name guest='); do
            ticks0[$p]=$(t_cpu_ticks "$p") || unset "ticks0[$p]"
        done
        sleep 2
        for p in "${!ticks0[@]}"; do
            c1=$(t_cpu_ticks "$p") || continue
            ((c1 - ticks0[$p] > 60)) && busy+=" $p"
        done
        if [[ -z $busy ]]; then
            t_log "machine quiet (waited $(($(t_ms) - t0)) ms)"
            return 0
        fi
        if (($(t_ms) > end)); then
            t_log "other guests still busy (QEMU pids$busy): going ahead"
            return 0
        fi
        t_log "waiting: another lab's guest QEMU is busy (pids$busy)"
        sleep 8
    done
}

# Writes the domain XML of a lab guest (kernel + initrd of lab_guest_build, a memory writer of
# WRITER_MIB at RATE MiB/s that checks what it wrote) to $LAB_DIR/guests/NAME.xml, which every
# node reads at that path, and prints the path. Pacemaker defines and starts it.
cl_guest_xml() # NAME MEM_MIB WRITER_MIB RATE_MIB_S
{
    local g
    g=$(lab_guest_build) || return 1
    mkdir -p "$LAB_DIR/guests" &&
        lab__guest_xml "$1" "$2" "$3" "$4" "$g" >"$LAB_DIR/guests/$1.xml" || return 1
    echo "$LAB_DIR/guests/$1.xml"
}

# ------------------------------------------------------------------------------ placement

cl_where() # RESOURCE -> the node it runs on, as the cluster says
{
    lab_exec "$(lab__cluster_node)" crm_resource --locate -r "$1" -Q 2>/dev/null | head -n 1
}

cl_runs_on() # RESOURCE NODE
{
    [[ $(cl_where "$1") == "$2" ]]
}

# The cluster has nothing left to do: no transition in flight, every resource where the
# scheduler wants it (crm_resource --wait).
cl_settled() # [TIMEOUT_S]
{
    lab_exec "$(lab__cluster_node)" crm_resource --wait --timeout="${1:-90}s" >/dev/null 2>&1
}

# The allocation score of RESOURCE on NODE, as the scheduler computes it from the live CIB.
cl_score() # RESOURCE NODE
{
    lab_exec "$(lab__cluster_node)" crm_simulate -sL 2>/dev/null |
        awk -v r="$1" -v n="$2:" '/ allocation score on / && $2 == r && $(NF - 1) == n { print $NF }' |
        tail -n 1
}

# -------------------------------------------------------------------------------- the guest

# Waits until the guest DOM on NODE has sent a heartbeat later than AFTER_STATS' and then
# finished 2 more writer passes there (every page written and checked since); prints them.
cl_guest_progress() # NODE DOM AFTER_STATS [TIMEOUT_S]
{
    local node=$1 dom=$2 p0 st end
    st=$(lab_guest_wait "$node" "$dom" "$(t_stat beat "$3")" "${4:-60}" 2>/dev/null) ||
        return 1
    p0=$(t_stat passes "$st")
    end=$(($(t_ms) + ${4:-60} * 1000))
    while (($(t_ms) < end)); do
        if st=$(lab_guest_stats "$node" "$dom" 2>/dev/null) &&
            (($(t_stat passes "$st") >= p0 + 2)); then
            echo "$st"
            return 0
        fi
        sleep 0.3
    done
    return 1
}

# Checks that DOM, which ran with BEFORE_STATS, goes on on NODE without a restart (uptime and
# heartbeat count went on) and with a clean memory checker.
cl_guest_check() # NODE DOM BEFORE_STATS WHAT
{
    local node=$1 dom=$2 before=$3 what=$4 after
    if ! after=$(cl_guest_progress "$node" "$dom" "$before" 90); then
        t_fail "$what: $dom goes on writing on $node (now: $(lab_guest_stats "$node" "$dom" 2>&1))"
        return 1
    fi
    t_log "$what: $dom on $node: $after"
    [[ $(t_stat errors "$after") == 0 && $(t_stat lost "$after") == 0 ]] &&
        t_pass "$what: $dom's memory checker reports zero errors ($(t_stat passes "$after") passes)" ||
        t_fail "$what: $dom's memory checker reports: $after"
    (($(t_stat uptime_ms "$after") > $(t_stat uptime_ms "$before") &&
        $(t_stat beat "$after") > $(t_stat beat "$before"))) &&
        t_pass "$what: $dom's uptime went on ($(t_stat uptime_ms "$before") -> $(t_stat uptime_ms "$after") ms): not restarted" ||
        t_fail "$what: $dom was restarted: before $before, after $after"
    CL_STATS=$after
}

# ------------------------------------------------------------------------- Pacemaker's logs

cl_log_mark() # remembers the size of every node's Pacemaker log
{
    local k f
    CL_LOG_MARK=()
    for ((k = 1; k <= LAB_NODES; k++)); do
        f=$LAB_DIR/node$k/log/pacemaker/pacemaker.log
        CL_LOG_MARK[k]=$(stat -c %s "$f" 2>/dev/null || echo 0)
    done
}

cl_log_since() # the lines every node's Pacemaker logged since cl_log_mark, by time
{
    local k f
    for ((k = 1; k <= LAB_NODES; k++)); do
        f=$LAB_DIR/node$k/log/pacemaker/pacemaker.log
        [[ -r $f ]] && tail -c +"$((${CL_LOG_MARK[k]:-0} + 1))" "$f"
    done | sort -s -k1,3
}

# Checks, in the Pacemaker logs since the mark, that RESOURCE moved FROM -> TO by live
# migration: migrate_to on FROM and migrate_from on TO succeeded, and no start of it was
# requested anywhere (a stop + start would have been a restart). Sets CL_MIG_MS to the
# agent's own measure ("VM DOM migrated to TO in N ms"), or "?".
cl_check_live_migration() # RESOURCE DOM FROM TO WHAT
{
    local rsc=$1 dom=$2 from=$3 to=$4 what=$5 log line
    log=$(cl_log_since)
    grep -Eq "Result of migrate_to operation for $rsc on $from: ok" <<<"$log" &&
        grep -Eq "Result of migrate_from operation for $rsc on $to: ok" <<<"$log" &&
        t_pass "$what: Pacemaker ran migrate_to on $from and migrate_from on $to for $rsc: ok" ||
        t_fail "$what: no successful migrate_to on $from + migrate_from on $to for $rsc: $(grep -E "${rsc}_(migrate|start|stop)" <<<"$log" | cut -c1-200 | tail -n 6)"
    ! grep -Eq "Initiating start operation ${rsc}_start_0" <<<"$log" &&
        t_pass "$what: no start of $rsc was requested (no stop + start fallback)" ||
        t_fail "$what: $rsc was started: $(grep -E "Initiating start operation ${rsc}_start_0" <<<"$log" | cut -c1-200)"
    line=$(grep -o "VM $dom migrated to $to in [0-9]* ms[^]]*" <<<"$log" | tail -n 1)
    if [[ -n $line ]]; then
        CL_MIG_MS=$(sed 's/.* in \([0-9]*\) ms.*/\1/' <<<"$line")
        t_log "$what: the agent: $line"
    else
        CL_MIG_MS='?'
    fi
}

# ------------------------------------------------------------------------------ the sampler
# Every ~50 ms, for each domain of CL_DOMS and each node: 0 = no QEMU of it there, 1 = a QEMU
# whose vCPU is not running right now (paused, incoming, or idle), 2 = a QEMU whose vCPU thread
# ("CPU 0/TCG") is running or runnable. One line per sample: "MS DOM:ccc DOM:ccc". A VM runs
# where its vCPU runs; two 2s for one domain in one sample would be two running copies.
# Builtins only (a fork costs tens of ms on a loaded box): QEMU PID files of each node's libvirt,
# read through the node's /proc as its init sees it.

cl__scan() # sets CL_LINE
{
    local d k init st pid t comm s a c line=''
    local -a args
    for d in "${CL_DOMS[@]}"; do
        line+=" $d:"
        for ((k = 1; k <= LAB_NODES; k++)); do
            c=0 init='' pid=''
            { read -r init st <"$LAB_DIR/pids/node$k.pid"; } 2>/dev/null
            if [[ -n $init ]] &&
                { read -r pid <"$LAB_DIR/node$k/run/libvirt/qemu/$d.pid" || [[ -n $pid ]]; } 2>/dev/null &&
                [[ $pid =~ ^[0-9]+$ ]] &&
                mapfile -d '' args 2>/dev/null <"/proc/$init/root/proc/$pid/cmdline"; then
                for a in "${args[@]}"; do
                    [[ $a == "guest=$d" || $a == "guest=$d,"* ]] || continue
                    c=1
                    for t in "/proc/$init/root/proc/$pid/task/"*; do
                        { read -r comm <"$t/comm" && read -r s <"$t/stat"; } 2>/dev/null || continue
                        [[ $comm == "CPU "*"/TCG" ]] || continue
                        s=${s##*) }
                        [[ ${s%% *} != R ]] || c=2
                    done
                    break
                done
            fi
            line+=$c
        done
    done
    CL_LINE=$line
}

cl__sampler_loop() # FILE
{
    local fd
    exec {fd}<> <(:)
    while :; do
        cl__scan
        echo "$((${EPOCHREALTIME/./} / 1000))$CL_LINE"
        read -r -t 0.04 -u "$fd" || true
    done >>"$1"
}

cl_sampler_start() # FILE
{
    CL_SAMPLES=$1
    : >"$CL_SAMPLES"
    cl__sampler_loop "$CL_SAMPLES" &
    CL_SAMPLER_PID=$!
}

cl_sampler_stop()
{
    if [[ -n ${CL_SAMPLER_PID:-} ]]; then
        kill -KILL "$CL_SAMPLER_PID" 2>/dev/null
        wait "$CL_SAMPLER_PID" 2>/dev/null
    fi
    CL_SAMPLER_PID=
}

# The nodes where DOM's QEMU is, now ("node1 node3").
cl_qemu_nodes() # DOM
{
    local -a CL_DOMS=("$1")
    local s k out=''
    cl__scan
    s=${CL_LINE#*:}
    for ((k = 1; k <= LAB_NODES; k++)); do
        [[ ${s:k-1:1} == 0 ]] || out+=" node$k"
    done
    echo "${out# }"
}

# The sampler's verdict: for each domain, never running on two nodes in one sample, and seen
# running (else the check would be empty); sampled every <= 100 ms (95th percentile).
cl_sampler_check() # WHAT
{
    local what=$1 d n twice run both p95 gap
    n=$(wc -l <"$CL_SAMPLES")
    for d in "${CL_DOMS[@]}"; do
        read -r twice run both <<<"$(awk -v d="$d:" '
            { for (i = 2; i <= NF; i++) if (index($i, d) == 1) {
                  s = substr($i, length(d) + 1); r = gsub(/2/, "2", s); q = gsub(/[12]/, "x", s)
                  if (r > 1) { tw++; if (ex == "") ex = $0 }
                  if (r > 0) ru++
                  if (q > 1) bo++ } }
            END { printf "%d %d %d\n", tw, ru, bo }' "$CL_SAMPLES")"
        ((twice == 0)) &&
            t_pass "$what: $d never ran on two nodes ($n samples; $run with its vCPU running; $both with a QEMU on two nodes, the migrations)" ||
            t_fail "$what: $d ran on two nodes in $twice samples: $(awk -v d="$d:" '{ for (i = 2; i <= NF; i++) if (index($i, d) == 1) { s = substr($i, length(d) + 1); if (gsub(/2/, "2", s) > 1) { print; exit } } }' "$CL_SAMPLES")"
        ((run > 0)) && t_pass "$what: the sampler saw $d's vCPU run ($run samples)" ||
            t_fail "$what: the sampler never saw $d's vCPU run: the check above is empty"
    done
    read -r p95 gap <<<"$(awk 'NR > 1 { print $1 - p } { p = $1 }' "$CL_SAMPLES" | sort -n |
        awk '{ g[NR] = $1 } END { i = int(NR * 0.95); if (i < 1) i = 1; print g[i] + 0, g[NR] + 0 }')"
    ((n > 50 && p95 <= 100)) && t_pass "$what: sampled every <= 100 ms (p95 $p95 ms, max $gap ms, $n samples)" ||
        t_fail "$what: the sampler was too slow ($n samples, p95 $p95 ms, max $gap ms)"
}
