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
    trap cl_cleanup EXIT
}

cl_cleanup()
{
    cl_sampler_stop
    lab_down >/dev/null 2>&1
}

# Waits (up to CL_QUIET_WAIT_S, default 120) while a guest QEMU of another lab keeps more than
# 30 % of a core busy: someone may be migrating or benchmarking on these 2 cores, and TCG guests
# would time out. Goes ahead after the wait, saying so.
cl_wait_machine_quiet()
{
    local end=$(($(t_ms) + ${CL_QUIET_WAIT_S:-120} * 1000)) t0 p busy c1
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

cl_droverd_registered() # NODE: droverd there holds its key (the node is unfenced)
{
    lab_exec "$1" "$DROVER" status 2>/dev/null | grep -q '^node=.* state=registered '
}

# The lab (after cl_wait_machine_quiet), the sampler over CL_DOMS, drover's CIB applied with
# TOOL (configs/cib/drover.pcs.sh or drover.crm), and every guest of CL_DOMS (MEM_MIB, a writer
# of WRITER_MIB at RATE_MIB_S) an ocf:drover:vm resource running on NODE, booted and writing
# there. pcs: DROVER_VM_NODE=NODE (a preference of 50); crm (whose file has no placement): the
# other nodes are in standby while the guests start. Checks as it goes; exits on what makes the
# rest pointless. Sets CL_T0 (before lab_up), CL_XML[DOM], CL_BEFORE[DOM] (the guest's stats).
# With pcs, CL_PLACE[DOM]=NODEx (optional) puts that guest on NODEx instead of NODE.
cl_lab_with_guests() # TOOL NODE MEM_MIB WRITER_MIB RATE_MIB_S
{
    local tool=$1 node=$2 d k n others=() t1
    declare -gA CL_XML=() CL_BEFORE=() CL_PLACE
    [[ -n ${CL_PLACE[*]+set} ]] || CL_PLACE=() # set -u: an empty declared array is "unbound"
    [[ $tool == pcs || ${#CL_PLACE[@]} == 0 ]] || {
        t_fail "CL_PLACE needs pcs (the crm set-up places every guest on one node)"
        exit 1
    }
    CL_T0=$(t_ms)
    if lab_up; then
        t_pass "lab up: 3 cluster nodes with libvirtd, QEMU $LAB_EMULATOR ($(($(t_ms) - CL_T0)) ms)"
    else
        t_fail "lab up"
        exit 1
    fi
    for d in "${CL_DOMS[@]}"; do
        CL_XML[$d]=$(cl_guest_xml "$d" "$3" "$4" "$5") || {
            t_fail "guest XML for $d"
            exit 1
        }
    done
    cl_sampler_start "$LAB_DIR/samples"
    for ((k = 1; k <= LAB_NODES; k++)); do
        [[ node$k == "$node" ]] || others+=("node$k")
    done
    if [[ $tool == pcs ]]; then
        for d in "${CL_DOMS[@]}"; do
            n=${CL_PLACE[$d]:-$node}
            t_expect_rc 0 "configs/cib/drover.pcs.sh with vm-$d (prefers $n)" \
                lab_cib_pcs "DROVER_VM_NAME=$d" "DROVER_VM_CONFIG=${CL_XML[$d]}" "DROVER_VM_NODE=$n"
        done
    else
        t_expect_rc 0 "configs/cib/drover.crm (the cluster part)" lab_cib_crm
    fi
    for ((k = 1; k <= LAB_NODES; k++)); do
        t_wait_for 60 cl_droverd_registered "$k" && t_pass "node$k unfenced" || t_fail "node$k unfenced"
    done
    if [[ $tool == crm ]]; then
        for n in "${others[@]}"; do
            t_expect_rc 0 "crm node standby $n while the guests start" cl_crm_node standby "$n"
        done
        for d in "${CL_DOMS[@]}"; do
            t_expect_rc 0 "configs/cib/drover.crm with vm-$d" \
                lab_cib_crm "DROVER_VM_NAME=$d" "DROVER_VM_CONFIG=${CL_XML[$d]}"
        done
    fi
    t1=$(t_ms)
    if t_wait_for 150 cl__all_placed "$node"; then
        t_pass "every guest runs where it should ($(cl__placement "$node"); $(($(t_ms) - t1)) ms)"
    else
        t_fail "every guest runs where it should ($(cl__placement "$node")): $(for d in "${CL_DOMS[@]}"; do echo -n "$d on '$(cl_where "vm-$d")' "; done)"
        exit 1
    fi
    if [[ $tool == crm ]]; then
        cl_settled 90 # fewer CIB updates racing crmsh's patch (cl_crm_node)
        for n in "${others[@]}"; do
            t_expect_rc 0 "crm node online $n" cl_crm_node online "$n"
        done
    fi
    t_expect_rc 0 "the cluster settles" cl_settled 90
    cl__all_placed "$node" && t_pass "every guest stays where it is" || t_fail "a guest moved"
    for d in "${CL_DOMS[@]}"; do
        n=${CL_PLACE[$d]:-$node}
        CL_BEFORE[$d]=$(lab_guest_wait "$n" "$d" 0 120) &&
            CL_BEFORE[$d]=$(cl_guest_progress "$n" "$d" "${CL_BEFORE[$d]}" 90) &&
            t_pass "$d boots and writes on $n: ${CL_BEFORE[$d]}" || {
            t_fail "$d boots and writes on $n"
            exit 1
        }
    done
    # The agent published each guest's memory as its utilization when it started it; applying
    # the CIB again for the next guest must not have erased it.
    for d in "${CL_DOMS[@]}"; do
        t_expect_out 0 "^$3\$" "vm-$d's utilization hv_memory=$3 (published by the agent, kept)" \
            lab_exec 2 crm_resource -r "vm-$d" -z -g hv_memory -Q
    done
    for d in "${CL_DOMS[@]}"; do
        n=${CL_PLACE[$d]:-$node}
        lab__qemu_record "$(lab__node_num "$n")"
        CL_BEFORE[$d]=$(lab_guest_stats "$n" "$d")
    done
}

cl__all_placed() # NODE: every guest of CL_DOMS runs on CL_PLACE[DOM], else on NODE
{
    local d
    for d in "${CL_DOMS[@]}"; do
        cl_runs_on "vm-$d" "${CL_PLACE[$d]:-$1}" || return 1
    done
}

cl__placement() # NODE: "DOM on NODEx, ..." as cl__all_placed wants it
{
    local d out=
    for d in "${CL_DOMS[@]}"; do
        out+=", $d on ${CL_PLACE[$d]:-$1}"
    done
    echo "${out#, }"
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

cl_all_run_on() # NODE: the resource of every guest of CL_DOMS runs there
{
    local d
    for d in "${CL_DOMS[@]}"; do
        cl_runs_on "vm-$d" "$1" || return 1
    done
}

# `crm node standby|online NODE` (lab_crm: again on crmsh's patch race), then the node's standby
# attribute must read on|off.
cl_crm_node() # standby|online NODE
{
    local want=on
    [[ $1 == online ]] && want=off
    lab_crm 2 node "$1" "$2" || return
    [[ $(lab_exec 2 crm_attribute -t nodes -N "$2" -n standby -G -q 2>/dev/null) == "$want" ]] ||
        {
            echo "crm node $1 $2 exited 0 but $2's standby attribute is not '$want'"
            return 1
        }
}

# The cluster has nothing left to do: no transition in flight, every resource where the
# scheduler wants it (crm_resource --wait).
cl_settled() # [TIMEOUT_S]
{
    lab_exec "$(lab__cluster_node)" crm_resource --wait --timeout="${1:-90}s" >/dev/null 2>&1
}

cl_node_empty() # NODE: no guest of CL_DOMS runs there (by the cluster's word and by its QEMUs)
{
    local d w
    for d in "${CL_DOMS[@]}"; do
        w=$(cl_where "vm-$d")
        [[ -n $w && $w != "$1" ]] || return 1
        [[ " $(cl_qemu_nodes "$d") " != *" $1 "* ]] || return 1
    done
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

# The first complete heartbeat DOM wrote to NODE's console since cl_log_mark.
cl_first_beat_since() # NODE DOM
{
    local k
    k=$(lab__node_num "$1") || return 1
    tail -c +"$((${CL_CON_MARK[$2/$k]:-0} + 1))" "$(lab__console_file "$k" "$2")" 2>/dev/null |
        tr -d '\r' | grep -a -m 1 '^DRLAB beat=.* end$' | sed 's/^DRLAB //; s/ end$//'
}

# Checks that DOM, which ran with BEFORE_STATS before cl_log_mark, goes on on NODE without a
# restart and with a clean memory checker. No restart: the first heartbeat on NODE's console
# since the mark continues the guest's count (a guest booted again starts at beat 1, with an
# uptime of seconds), and uptime and count go on from there.
cl_guest_check() # NODE DOM BEFORE_STATS WHAT
{
    local node=$1 dom=$2 before=$3 what=$4 after first
    if ! after=$(cl_guest_progress "$node" "$dom" "$before" 90); then
        t_fail "$what: $dom goes on writing on $node (now: $(lab_guest_stats "$node" "$dom" 2>&1))"
        return 1
    fi
    first=$(cl_first_beat_since "$node" "$dom")
    t_log "$what: $dom on $node: first heartbeat there since: $first; now: $after"
    [[ $(t_stat errors "$after") == 0 && $(t_stat lost "$after") == 0 ]] &&
        t_pass "$what: $dom's memory checker reports zero errors ($(t_stat passes "$after") passes)" ||
        t_fail "$what: $dom's memory checker reports: $after"
    [[ -n $first ]] && (($(t_stat beat "$first") > $(t_stat beat "$before") &&
        $(t_stat uptime_ms "$first") > $(t_stat uptime_ms "$before") &&
        $(t_stat uptime_ms "$after") > $(t_stat uptime_ms "$first"))) &&
        t_pass "$what: $dom not restarted: beat $(t_stat beat "$before") -> $(t_stat beat "$first") (first on $node) -> $(t_stat beat "$after"), uptime $(t_stat uptime_ms "$before") -> $(t_stat uptime_ms "$first") -> $(t_stat uptime_ms "$after") ms" ||
        t_fail "$what: $dom was restarted: before '$before', first on $node since '$first', now '$after'"
    CL_STATS=$after
}

# ------------------------------------------------------------------------- Pacemaker's logs

cl_log_mark() # remembers the size of every node's Pacemaker log and guest consoles
{
    local k f d
    CL_LOG_MARK=()
    declare -gA CL_CON_MARK=()
    for ((k = 1; k <= LAB_NODES; k++)); do
        f=$LAB_DIR/node$k/log/pacemaker/pacemaker.log
        CL_LOG_MARK[k]=$(stat -c %s "$f" 2>/dev/null || echo 0)
        for d in "${CL_DOMS[@]}"; do
            CL_CON_MARK[$d/$k]=$(stat -c %s "$(lab__console_file "$k" "$d")" 2>/dev/null || echo 0)
        done
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

cl_log_ms() # "Mon DD HH:MM:SS.mmm" (Pacemaker's and corosync's log time) -> epoch ms
{
    date -d "$1" +%s%3N
}

# The time, in epoch ms, of the first line matching ERE that was written at or after AFTER_MS
# in any node's LOG (pacemaker: pacemaker/pacemaker.log, corosync: corosync/corosync.log).
cl_first_log_ms() # ERE AFTER_MS [pacemaker|corosync]
{
    local line t l=${3:-pacemaker}
    while read -r line; do
        t=$(cl_log_ms "${line:0:19}") || continue
        if ((t >= $2)); then
            echo "$t"
            return 0
        fi
    done < <(cat "$LAB_DIR"/node*/log/"$l/$l".log 2>/dev/null | grep -E "$1" | sort -s -k1,3)
    return 1
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
        t_pass "$what: the agent logged $dom's migration to $to: $CL_MIG_MS ms"
        t_log "$what: the agent: $line"
    else
        CL_MIG_MS='?'
        t_fail "$what: no 'VM $dom migrated to $to in N ms' from the agent"
    fi
}

# All that shows that DOM (resource vm-DOM), which ran on FROM with CL_BEFORE[DOM], moved to TO
# by live migration and runs there alone, unharmed; updates CL_BEFORE[DOM], sets CL_MIG_MS.
cl_check_moved() # DOM FROM TO WHAT
{
    local dom=$1 from=$2 to=$3 what=$4
    cl_check_live_migration "vm-$dom" "$dom" "$from" "$to" "$what"
    cl_guest_check "$to" "$dom" "${CL_BEFORE[$dom]}" "$what" && CL_BEFORE[$dom]=$CL_STATS
    t_expect_out 0 "^$to\$" "$what: $dom's QEMU is on $to only" cl_qemu_nodes "$dom"
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
