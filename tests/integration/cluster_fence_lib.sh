# tests/integration/cluster_fence_lib.sh - shared by cluster_partition_test.sh and
# cluster_link_test.sh (sourced after lib.sh, bash): the lab's 3-node cluster with libvirt and
# tiny diskless domains, a sampler that records on which nodes each domain's QEMU runs, the
# fence LUN's keys, droverd's state, corosync's links, and times from the nodes' logs.
# The caller sets CF_DOMS (domain names) before cf_sampler_start and calls cf_cleanup from its
# EXIT trap.

cf_setup() # root, packages, the build; sources lab.sh with a cluster and libvirt
{
    if [[ $EUID != 0 ]]; then
        echo "needs root: $([[ ${CI:-} == true ]] && echo FATAL under CI=true || echo SKIP)"
        [[ ${CI:-} != true ]] && exit 77 || exit 1
    fi
    export LAB_CLUSTER=1 LAB_LIBVIRT=1 DR_BUILD_DIR
    # shellcheck source=../lab/lab.sh
    . "$DR_SOURCE_DIR/tests/lab/lab.sh"
    lab_deps || t_require corosync pacemakerd crm libvirtd virsh tgtd
    t_require corosync pacemakerd crm stonith_admin corosync-cfgtool corosync-quorumtool \
        libvirtd virsh tgtd
    lab__cluster_check || exit 1
    CF_OBSERVER=$LAB_IQN_BASE:observer # an initiator of its own, never one of droverd's
    CF_SAMPLER_PID=
    CF_SAMPLES=$LAB_DIR/samples
}

cf_cleanup()
{
    cf_sampler_stop
    lab_down >/dev/null 2>&1
}

# The lab, the CIB from configs/cib/drover.crm with one ocf:drover:vm resource for the domain
# DOM (its XML at the same path on every node), every node unfenced, the resource running.
cf_cluster_with_vm() # DOM
{
    local t0 k
    t0=$(t_ms)
    if lab_up; then t_pass "lab up: 3 cluster nodes with libvirtd ($(($(t_ms) - t0)) ms)"; else
        t_fail "lab up"
        exit 1
    fi
    mkdir -p "$LAB_DIR/vm" && lab__domain_xml "$1" 48 >"$LAB_DIR/vm/$1.xml"
    t_expect_rc 0 "configs/cib/drover.crm with one ocf:drover:vm resource (lab_cib_crm)" \
        lab_cib_crm "DROVER_VM_NAME=$1" "DROVER_VM_CONFIG=$LAB_DIR/vm/$1.xml"
    for k in 1 2 3; do
        if t_wait_for 60 cf_droverd_is "node$k" registered; then t_pass "node$k unfenced"; else
            t_fail "node$k unfenced"
        fi
    done
    if t_wait_for 90 cf_runs_somewhere "vm-$1"; then t_pass "vm-$1 started"; else
        t_fail "vm-$1 started"
        exit 1
    fi
}

# ------------------------------------------------------------------------------ where VMs run

# The nodes where DOM's QEMU runs: the PID in the QEMU PID file of each node's libvirt, looked
# up in that node's /proc (through its init's root), whose command line names the domain.
# Builtins only (~1 ms a sample on a loaded machine). Sets CF_QN ("node1 node3").
cf__scan() # DOM
{
    local k init st pid a
    local -a args
    CF_QN=''
    for ((k = 1; k <= 3; k++)); do
        init='' pid=''
        { read -r init st <"$LAB_DIR/pids/node$k.pid"; } 2>/dev/null || continue
        { read -r pid <"$LAB_DIR/node$k/run/libvirt/qemu/$1.pid" || [[ -n $pid ]]; } \
            2>/dev/null || continue
        [[ $pid =~ ^[0-9]+$ ]] || continue
        mapfile -d '' args 2>/dev/null <"/proc/$init/root/proc/$pid/cmdline" || continue
        for a in "${args[@]}"; do
            if [[ $a == "guest=$1" || $a == "guest=$1,"* ]]; then
                CF_QN+="${CF_QN:+ }node$k"
                break
            fi
        done
    done
}

cf_qemu_nodes() # DOM
{
    cf__scan "$1"
    echo "$CF_QN"
}

# Every ~25 ms, one line: "MS DOM=node,node DOM=..." for every domain of CF_DOMS.
cf__sampler_loop()
{
    local t dom line
    while :; do
        t=${EPOCHREALTIME/./}
        line=$((t / 1000))
        for dom in $CF_DOMS; do
            cf__scan "$dom"
            line+=" $dom=${CF_QN// /,}"
        done
        echo "$line"
        sleep 0.02
    done >>"$CF_SAMPLES"
}

cf_sampler_start()
{
    : >"$CF_SAMPLES"
    cf__sampler_loop &
    CF_SAMPLER_PID=$!
    disown "$CF_SAMPLER_PID"
}

cf_sampler_stop()
{
    [[ -z ${CF_SAMPLER_PID:-} ]] || t_stop_pid "$CF_SAMPLER_PID" KILL
    CF_SAMPLER_PID=
}

# The first sample after AFTER_MS in which DOM runs on NODE, in epoch ms.
cf_first_seen() # DOM NODE AFTER_MS
{
    awk -v f="$1=" -v n="$2" -v t="$3" '$1 > t {
        for (i = 2; i <= NF; i++)
            if (index($i, f) == 1 && ("," substr($i, length(f) + 1) ",") ~ ("," n ",")) {
                print $1; exit
            }
    }' "$CF_SAMPLES"
}

# The last sample after AFTER_MS in which DOM runs on NODE (empty: never seen there).
cf_last_seen() # DOM NODE AFTER_MS
{
    awk -v f="$1=" -v n="$2" -v t="$3" '$1 > t {
        for (i = 2; i <= NF; i++)
            if (index($i, f) == 1 && ("," substr($i, length(f) + 1) ",") ~ ("," n ","))
                last = $1
    } END { if (last != "") print last }' "$CF_SAMPLES"
}

# Stops the sampler; no domain ever ran on two nodes in one sample, and samples came every
# <= 100 ms (95th percentile of the gaps; a loaded machine stalls a shell now and then).
cf_sampler_check()
{
    local n twice p95 gap
    cf_sampler_stop
    n=$(wc -l <"$CF_SAMPLES")
    twice=$(awk '{ for (i = 2; i <= NF; i++) if ($i ~ /,/) { print; break } }' "$CF_SAMPLES" |
        head -n 3)
    read -r p95 gap <<<"$(awk 'NR > 1 { print $1 - p } { p = $1 }' "$CF_SAMPLES" | sort -n |
        awk '{ g[NR] = $1 } END { i = int(NR * 0.95); if (i < 1) i = 1; print g[i] + 0, g[NR] + 0 }')"
    if [[ -z $twice ]]; then
        t_pass "no VM ever ran on two nodes ($n samples, gaps: p95 $p95 ms, max $gap ms)"
    else
        t_fail "a VM ran on two nodes at once: $twice"
    fi
    if ((n > 100 && p95 <= 100 && gap <= 1000)); then t_pass "sampled every <= 100 ms (p95)"; else
        t_fail "the sampler was too slow ($n samples, p95 $p95 ms, max $gap ms)"
    fi
}

# ------------------------------------------------------------------------------ the cluster

cf_where() # RESOURCE [ASKING_NODE] -> the node it runs on, as the cluster says
{
    lab_exec "${2:-$(lab__cluster_node)}" crm_resource --locate -r "$1" -Q 2>/dev/null | head -n 1
}

cf_runs_somewhere() # RESOURCE
{
    [[ -n $(cf_where "$1") ]]
}

cf_sees() # NODE ONLINE QUORATE: NODE's Pacemaker sees ONLINE nodes online, quorum 1/0
{
    local on q dc
    read -r on q dc <<<"$(lab_cluster_state "$1")"
    [[ $on == "$2" && $q == "$3" ]]
}

cf_quorate() # NODE yes|no: corosync's votequorum there
{
    local s
    s=$(lab_exec "$1" corosync-quorumtool -s 2>/dev/null) # exits 2 without quorum
    grep -Eq "^Quorate: +${2^}\$" <<<"$s"
}

# NODE's controller as ASKING_NODE's CIB records it: online or offline (node_state crmd=).
cf_controller_of() # ASKING_NODE NODE
{
    lab_exec "$1" cibadmin -Q -o status 2>/dev/null | grep -o "<node_state [^>]*uname=\"$2\"[^>]*" |
        grep -o ' crmd="[^"]*"' | cut -d'"' -f2
}

cf_droverd_is() # NODE STATE
{
    lab_exec "$1" "$DROVER" status 2>/dev/null | grep -q "^node=.* state=$2 "
}

cf_lun_keys() # READER: the keys on the fence LUN, read from node READER
{
    lab_exec "$1" "$DROVER" keys --initiator "$CF_OBSERVER" "$(lab_lun_url fence)" 2>/dev/null |
        grep -E '^0x[0-9a-f]{16}$'
}

cf_key_listed() # READER NODE
{
    cf_lun_keys "$1" | grep -qx "$("$DROVER" key "$(lab__cluster_name)" "$2")"
}

cf_key_gone() # READER NODE: the LUN answers with keys, NODE's is not among them
{
    local keys
    keys=$(cf_lun_keys "$1") && [[ -n $keys ]] &&
        ! grep -qx "$("$DROVER" key "$(lab__cluster_name)" "$2")" <<<"$keys"
}

# Fencing of NODE other than unfencing in the fencer's history, as ASKING_NODE sees it.
cf_fenced_in_history() # ASKING_NODE NODE
{
    lab_exec "$1" stonith_admin --history "$2" --verbose 2>/dev/null |
        grep -Eq "^(reboot|off) of $2 "
}

# ------------------------------------------------------------------------------ logs

# The time (epoch ms) of the first line matching ERE, written after AFTER_MS, in the Pacemaker
# logs of NODEs (default all). Pacemaker writes "Mon DD HH:MM:SS.mmm".
cf_log_ms() # ERE AFTER_MS [NODE...]
{
    local re=$1 after=$2 line t
    shift 2
    [[ $# -gt 0 ]] || set -- node1 node2 node3
    while read -r line; do
        t=$(date -d "${line:0:19}" +%s%3N) || continue
        if ((t >= after)); then
            echo "$t"
            return 0
        fi
    done < <(for n in "$@"; do cat "$LAB_DIR/$n/log/pacemaker/pacemaker.log"; done 2>/dev/null |
        grep -E "$re" | sort)
    return 1
}
