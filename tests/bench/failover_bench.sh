#!/bin/bash
# tests/bench/failover_bench.sh - failover time (issue 4 §5): a node killed (lab_node_kill, a
# power cut) -> each of its VMs running on a survivor, broken into detection, fencing and start,
# with ocf:drover:vm against ocf:heartbeat:VirtualDomain (resource-agents) for the VMs, side by
# side on the same 3-node cluster lab (tests/lab/lab.sh: corosync with the lab's token of
# 3000 ms, Pacemaker, droverd, libvirtd, QEMU 10 TCG, tgtd) with the repository's CIB
# (configs/cib/drover.pcs.sh). Both stacks fence through the same device, fence_drover (SCSI-3
# PR on the lab's iSCSI LUN, victim_stop_ms at its default): fence_scsi needs a kernel initiator, which
# this machine has not.
#
#   tests/bench/failover_bench.sh
#
# DR_BENCH_FO_VMS (default 2) VMs per stack, tiny diskless domains (48 MiB, their XML at the
# same path on every node, with a UUID): vm-foJ-PREFIX (ocf:drover:vm) have their home on one
# node that is not the DC, vd-fvJ-PREFIX (VirtualDomain, its defaults but
# autoset_utilization_host_memory=false, as in vm_crash_bench.sh, and force_stop=true: these
# domains run no OS that would heed a shutdown, and VirtualDomain goes home by stop + start) on
# the other; a home is a location constraint of INFINITY, so a VM goes back home (ours by live
# migration) when its node rejoins. DR_BENCH_FO_N (default 5) kills per stack, in turns
# (ours, VirtualDomain, ours, ...), each of the home node of that stack's VMs, never the DC (a
# DC kill adds an election); then DR_BENCH_FO_DC_N (default 1) kills per stack of the DC, its
# VMs moved there first, reported apart. Before each kill: everything home, the cluster settled,
# other labs' guests quiet (cl_wait_machine_quiet, up to 30 s), /proc/loadavg recorded. After
# it: the VMs running on survivors, the node started again and unfenced.
# Times, in ms, from the host's clock at the kill and the nodes' logs (same clock, ms stamps):
#   detection   kill -> "A new membership ... Members left: K" (corosync, first survivor);
#               "A processor failed ... token timed out" on the way;
#   fencing     membership -> the DC's scheduler decides the fence ("will be fenced") ->
#               "Requesting fencing" -> "Operation 'reboot' targeting NODE ...: OK" (fenced);
#   start       fence OK -> "Initiating start operation" -> "Result of start operation for RSC
#               on NODE: ok" (controld), the agent's exec= (execd), and the first sample in
#               which the sampler (cluster_lib.sh, every <= 100 ms) sees its QEMU on a survivor.
# DR_BENCH_FO_PROPS="NAME=VALUE ..." sets cluster properties on top of the CIB (crm_attribute),
# to measure a proposed setting (for example load-threshold=400%).
# Pacemaker's controller logs at debug level (LAB_PCMK_DEBUG=pacemaker-controld, or as
# DR_BENCH_FO_PCMK_DEBUG says): its "Re-asking for the CIB" (a fixed sleep(1) while a CIB
# update is pending) is counted per kill, and so is its load throttling ("Throttling graph
# execution: batch limit reached": one action at a time while a node's load is high). The sampler also checks the one law for the whole run:
# no VM's vCPU running on two nodes in any sample.
# Output: raw samples and the nodes' logs in $DR_BENCH_RESULTS/failover/, the tables on stdout.
# Needs root; about 8 minutes. Exit 0 when every kill was recovered as expected, 1 otherwise,
# 77 when the lab cannot run.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/cluster_lib.sh"
export LAB_PCMK_DEBUG=${DR_BENCH_FO_PCMK_DEBUG-pacemaker-controld}
cl_setup
VD=/usr/lib/ocf/resource.d/heartbeat/VirtualDomain
[[ -x $VD ]] || { echo "FATAL: $VD is missing (apt-get install resource-agents)"; exit 1; }

# The fence agent's and droverd's defaults, as built (the lab passes neither).
VSTOP=$("$FENCE" -o metadata | grep -A2 '"victim_stop_ms"' | grep -o 'default="[0-9]*"' | tr -dc 0-9)
WATCH_MS=$("$DROVERD" --help 2>&1 | grep -o 'checked (default [0-9]*)' | tr -dc 0-9)
N=${DR_BENCH_FO_N:-5}
NDC=${DR_BENCH_FO_DC_N:-1}
VMS=${DR_BENCH_FO_VMS:-2}
R=$DR_BENCH_RESULTS/failover
mkdir -p "$R" || exit 1
ERRORS=0
bad() { ERRORS=$((ERRORS + 1)); b_log "UNEXPECTED: $*"; }
declare -A RSCS HOME LABEL=([ours]="ocf:drover:vm" [vd]="VirtualDomain")
OURS=() PEER=()
for ((j = 1; j <= VMS; j++)); do
    OURS+=("fo$j-$LAB_PREFIX") # unique on the machine
    PEER+=("fv$j-$LAB_PREFIX")
done
CL_DOMS=("${OURS[@]}" "${PEER[@]}")
RSCS[ours]=$(printf 'vm-%s ' "${OURS[@]}")
RSCS[vd]=$(printf 'vd-%s ' "${PEER[@]}")
trap 'tar -C "$LAB_DIR" -czf "$R/logs.tgz" node1/log node2/log node3/log samples 2>/dev/null; cl_cleanup' EXIT

# set_home STACK NODE: every VM of STACK belongs on NODE (the constraint home-RSC, INFINITY)
set_home()
{
    local r
    HOME[$1]=$2
    for r in ${RSCS[$1]}; do
        lab_exec 1 cibadmin --modify --allow-create -o constraints \
            -X "<rsc_location id=\"home-$r\" rsc=\"$r\" node=\"$2\" score=\"INFINITY\"/>" ||
            bad "constraint home-$r on $2"
    done
}

at_home() # every VM of every stack runs on its home node
{
    local st r
    for st in ours vd; do
        for r in ${RSCS[$st]}; do
            cl_runs_on "$r" "${HOME[$st]}" || return 1
        done
    done
}

recovered() # STACK VICTIM: Pacemaker started every VM of STACK on a survivor since the mark
{
    local r log
    log=$(cl_log_since)
    for r in ${RSCS[$1]}; do
        grep -Eq "Result of start operation for $r on node[0-9]+: ok" <<<"$log" || return 1
        ! grep -Eq "Result of start operation for $r on $2: ok" <<<"$log" || return 1
    done
}

# The first line since the kill ($t_kill of kill_once) of the nodes' LOG matching ERE, in epoch
# ms, or "-".
log_at() # ERE [pacemaker|corosync]
{
    cl_first_log_ms "$1" "$t_kill" "${2:-pacemaker}" || echo -
}

qemu_seen_ms() # DOM NODE AFTER_MS: the first sample after AFTER_MS with DOM's QEMU on NODE
{
    awk -v d="$1:" -v k="${2#node}" -v t="$3" '$1 > t {
        for (i = 2; i <= NF; i++) if (index($i, d) == 1 && substr($i, length(d) + k, 1) != "0") {
            print $1; exit } }' "$CL_SAMPLES" | grep . || echo -
}

# kill_once STACK VICTIM KIND I: VICTIM runs every VM of STACK; kill it, measure, start it again.
# Appends per VM to $R/raw: STACK I KIND VICTIM DC t_kill t_token t_memb t_sched t_freq t_fok
# RSC NODE t_init t_ok exec_ms t_qemu reasks load1 quiet throttled
kill_once()
{
    local st=$1 v=$2 kind=$3 i=$4 k=${2#node} r n dc q load t_kill t_tok t_mem t_sch t_frq t_fok
    local t_ini t_ok ex t_q reask quiet=1 w thr
    cl_settled 120 || bad "$st $kind $i: the cluster did not settle before the kill"
    t_wait_for 120 at_home >/dev/null || { bad "$st $kind $i: not every VM at home"; return 1; }
    q=$(CL_QUIET_WAIT_S=30 cl_wait_machine_quiet | tail -n 1)
    [[ $q == *"machine quiet"* ]] || quiet=0
    read -r load _ </proc/loadavg
    dc=$(lab_cluster_state | cut -d' ' -f3)
    [[ $kind == dc && $dc == "$v" || $kind == main && $dc != "$v" ]] ||
        bad "$st $kind $i: the DC is $dc and the victim $v"
    cl_log_mark
    t_kill=$(t_ms)
    lab_node_kill "$v" >>"$R/lab.log" 2>&1 || bad "$st $kind $i: lab_node_kill $v"
    # Polled every 250 ms, not t_wait_for's 20: the times come from the logs, and the polling
    # must not load the 2 cores while the cluster recovers.
    for ((w = 0; w < 360; w++)); do
        recovered "$st" "$v" && break
        sleep 0.25
    done
    recovered "$st" "$v" || bad "$st $kind $i: not every VM restarted on a survivor within 90 s"
    EV=$(cl_log_since)
    t_tok=$(log_at "A processor failed, forming new configuration" corosync)
    t_mem=$(log_at "A new membership .* was formed. Members left: $k( |\$)" corosync)
    t_sch=$(log_at "Cluster node $v will be fenced")
    t_frq=$(log_at "Requesting fencing \([a-z]+\) of node $v")
    t_fok=$(log_at "Operation '(reboot|off)' targeting $v by node[0-9]+ .*: OK")
    reask=$(awk -v v="Cluster node $v will be fenced" 'index($0, v) { exit } /Re-asking for the CIB/ { n++ }
        END { print n + 0 }' <<<"$EV")
    thr=$(grep -c "Throttling graph execution" <<<"$EV")
    for r in ${RSCS[$st]}; do
        n=$(grep -Eo -m 1 "Result of start operation for $r on node[0-9]+: ok" <<<"$EV" |
            awk '{ print $(NF - 1) }' | tr -d :)
        t_ini=$(log_at "Initiating start operation ${r}_start_0 (locally )?on $n")
        t_ok=$(log_at "Result of start operation for $r on $n: ok")
        ex=$(grep -Eo -m 1 "$r start \(call [0-9]+, PID [0-9]+\) exited with status 0 \(execution time [0-9.ms]+" <<<"$EV" |
            awk '{ t = $NF; if (t ~ /ms$/) print t + 0; else if (t ~ /m/) { split(t, a, "m"); print a[1] * 60000 + a[2] * 1000 }
                   else print t * 1000 }')
        t_q=$(qemu_seen_ms "${r#v[md]-}" "$n" "$t_kill")
        if [[ $t_ini == - || $t_fok == - ]] || ((t_ini < t_fok)); then
            bad "$st $kind $i: $r's start was not requested after the fence (fence $t_fok, start $t_ini)"
        fi
        echo "$st $i $kind $v $dc $t_kill $t_tok $t_mem $t_sch $t_frq $t_fok $r $n $t_ini $t_ok ${ex:--} $t_q $reask $load $quiet $thr" >>"$R/raw"
        b_log "$st $kind kill $i of $v (DC $dc, load $load, quiet $quiet): $r on $n: membership +$((t_mem - t_kill)), fence ok +$((t_fok - t_kill)), start ok +$((t_ok - t_kill)) ms (exec ${ex:-?}); re-asks $reask"
    done
    lab_node_start "$v" >>"$R/lab.log" 2>&1 || bad "$st $kind $i: lab_node_start $v"
    lab_cluster_wait 3 120 >>"$R/lab.log" 2>&1 || bad "$st $kind $i: 3 nodes online again"
    t_wait_for 60 cl_droverd_registered "$k" >/dev/null || bad "$st $kind $i: $v unfenced again"
}

# ------------------------------------------------------------------------------ the lab
CL_QUIET_WAIT_S=60 cl_wait_machine_quiet >&2
b_log "lab up (3 cluster nodes, libvirtd, QEMU 10)"
lab_up >"$R/lab.log" 2>&1 || { echo "FATAL: lab_up failed (see $R/lab.log)"; exit 77; }
: >"$R/raw"
DC=$(lab_cluster_state | cut -d' ' -f3)
OTHERS=()
for k in 1 2 3; do [[ node$k == "$DC" ]] || OTHERS+=("node$k"); done
mkdir -p "$LAB_DIR/vm"
# With a UUID, as a real domain's XML has: without one, each define draws a new UUID, and a node
# that ran the VM before its kill keeps a definition that the VM, live-migrating home, clashes
# with ("domain ... already exists with uuid ...").
for d in "${CL_DOMS[@]}"; do
    lab__domain_xml "$d" 48 | sed "s|<name>$d</name>|&\n  <uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>|" \
        >"$LAB_DIR/vm/$d.xml"
done
cl_sampler_start "$LAB_DIR/samples"
for d in "${OURS[@]}"; do
    lab_cib_pcs "DROVER_VM_NAME=$d" "DROVER_VM_CONFIG=$LAB_DIR/vm/$d.xml" "DROVER_VM_NODE=${OTHERS[0]}" \
        >>"$R/lab.log" 2>&1 || bad "drover.pcs.sh with vm-$d"
done
for d in "${PEER[@]}"; do
    lab_exec 1 pcs resource create "vd-$d" ocf:heartbeat:VirtualDomain config="$LAB_DIR/vm/$d.xml" \
        hypervisor=qemu:///system autoset_utilization_host_memory=false force_stop=true \
        op monitor interval=10s timeout=30s start timeout=90s stop timeout=90s --disabled \
        >>"$R/lab.log" 2>&1 || bad "pcs resource create vd-$d"
done
set_home ours "${OTHERS[0]}"
set_home vd "${OTHERS[1]}"
# shellcheck disable=SC2086 # a list of resources
lab_exec 1 pcs resource enable ${RSCS[vd]} >>"$R/lab.log" 2>&1 || bad "pcs resource enable"
t_wait_for 120 at_home >/dev/null || bad "the VMs did not start at home"
for p in ${DR_BENCH_FO_PROPS:-}; do
    lab_exec 1 crm_attribute -t crm_config -n "${p%%=*}" -v "${p#*=}" >>"$R/lab.log" 2>&1 ||
        bad "cluster property $p"
done
MIGLIMIT=$(lab_exec 1 crm_attribute -t crm_config -n migration-limit -G -q 2>/dev/null)
b_log "DC $DC; ${LABEL[ours]} VMs (${RSCS[ours]}) on ${HOME[ours]}, ${LABEL[vd]} VMs (${RSCS[vd]}) on ${HOME[vd]}; $N kills each, in turns"

for ((i = 1; i <= N; i++)); do
    kill_once ours "${HOME[ours]}" main "$i"
    kill_once vd "${HOME[vd]}" main "$i"
done
for ((i = 1; i <= NDC; i++)); do
    for st in ours vd; do
        cl_settled 120 >/dev/null
        DC=$(lab_cluster_state | cut -d' ' -f3)
        [[ $DC == node[0-9] ]] || { bad "no DC before a DC kill"; continue; }
        set_home "$st" "$DC"
        kill_once "$st" "$DC" dc "$i"
    done
done
cl_settled 120 >/dev/null
cl_sampler_stop
cl_sampler_check "whole benchmark" >"$R/sampler.txt"
cat "$R/sampler.txt" >&2
grep -q '^FAIL.*two nodes' "$R/sampler.txt" && bad "sampler: $(grep '^FAIL' "$R/sampler.txt")"

# ------------------------------------------------------------------------------ tables
# sbs LABEL KIND PERKILL A [B]: a row "| LABEL | ours | VirtualDomain |", each "N: median
# [min-max]" of raw field B minus field A (field A alone without B), over the kills of KIND
# (PERKILL=1: one value per kill, else one per VM).
sbs()
{
    local st out="| $1 |" n med min max
    for st in ours vd; do
        awk -v st="$st" -v kind="$2" -v pk="$3" -v a="$4" -v b="${5:-0}" '
            $1 == st && $3 == kind && !(pk && seen[$2]++) && $a != "-" && (b == 0 || $b != "-") {
                print b ? $b - $a : $a }' "$R/raw" >"$R/col"
        read -r n med _ _ min max < <(b_stats "$R/col")
        out+=" $n: **$med** [$min–$max] |"
    done
    echo "$out"
}

# Field numbers in $R/raw.
F_KILL=6 F_TOK=7 F_MEM=8 F_SCH=9 F_FRQ=10 F_FOK=11 F_INI=14 F_OK=15 F_EXEC=16 F_QEMU=17
table() # KIND TITLE
{
    echo "#### $2"
    echo
    echo "| ms, from the nodes' logs | ${LABEL[ours]} (N: median [min–max]) | ${LABEL[vd]} |"
    echo "|---|---|---|"
    sbs "kill → token declared lost (corosync)" "$1" 1 $F_KILL $F_TOK
    sbs "**detection**: kill → new membership (corosync)" "$1" 1 $F_KILL $F_MEM
    sbs "membership → scheduler decides the fence" "$1" 1 $F_MEM $F_SCH
    sbs "fence requested → fence OK (fence_drover, incl. victim_stop_ms $VSTOP)" "$1" 1 $F_FRQ $F_FOK
    sbs "**fencing**: membership → fence OK" "$1" 1 $F_MEM $F_FOK
    sbs "fence OK → start initiated" "$1" 0 $F_FOK $F_INI
    sbs "start operation alone (execd's execution time)" "$1" 0 $F_EXEC
    sbs "**start**: fence OK → start ok" "$1" 0 $F_FOK $F_OK
    sbs "kill → QEMU seen on the survivor (sampler)" "$1" 0 $F_KILL $F_QEMU
    sbs "**failover**: kill → start ok (VM running)" "$1" 0 $F_KILL $F_OK
    sbs "**beyond membership**: membership → start ok" "$1" 0 $F_MEM $F_OK
    echo
    awk -v kind="$1" '$3 == kind && !seen[$1 " " $2]++ {
            k[$1]++; r[$1] += ($18 > 0); t[$1] += ($21 > 0); l = $19 + 0
            if (!($1 in lo) || l < lo[$1]) lo[$1] = l; if (l > hi[$1]) hi[$1] = l; q[$1] += $20 }
        END { for (s in k) printf "%s: %d kills, 1-min loadavg %.2f-%.2f at the kills, other labs quiet at %d; controller re-asked for the CIB (sleep 1 s) before the fence in %d; load throttling held back actions (\"batch limit reached\") in %d\n",
              s == "ours" ? "ocf:drover:vm" : "VirtualDomain", k[s], lo[s], hi[s], q[s], r[s], t[s] }' "$R/raw" | sort
    echo
}

echo "### Failover: node killed -> its VMs running on a survivor (drover $(git -C "$DR_SOURCE_DIR" describe --always --dirty 2>/dev/null))"
echo
echo "3-node lab, corosync token ${LAB_TOKEN_MS:-3000} ms, $VMS tiny diskless VMs (48 MiB, QEMU 10 TCG) per stack on the killed node; both stacks fence with fence_drover (victim_stop_ms $VSTOP, droverd watch ${WATCH_MS} ms; fence_scsi cannot run without a kernel initiator); migration-limit ${MIGLIMIT:-?}; cluster properties beyond the CIB's: ${DR_BENCH_FO_PROPS:-none}; Pacemaker controller at debug level (${LAB_PCMK_DEBUG:-no})."
echo
table main "The killed node is not the DC ($N kills per stack, in turns)"
((NDC == 0)) || table dc "The killed node is the DC ($NDC kills per stack)"
read -r _ med _ <<<"$(awk '$1 == "ours" && $3 == "main" && $8 != "-" && $15 != "-" { print $15 - $8 }' "$R/raw" >"$R/col"; b_stats "$R/col")"
echo "target (issue 4): drover's failover <= membership change + 500 ms (median): membership -> start ok, median $med ms: $(awk -v m="$med" 'BEGIN { print (m != "-" && m <= 500) ? "met" : "NOT met" }')"
b_log "errors: $ERRORS"
((ERRORS == 0))
