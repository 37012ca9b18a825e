#!/bin/bash
# tests/bench/drain_bench.sh - drain time (issue 4 §5): a node with N VMs put in standby
# (`pcs node standby`), every VM leaving by live migration, against the sum of the same VMs'
# migrations each made alone (`pcs resource move`, one at a time), on the 3-node cluster lab
# (tests/lab/lab.sh: corosync, Pacemaker, droverd, libvirtd, QEMU 10 TCG, tgtd) with the
# repository's CIB (configs/cib/drover.pcs.sh, migration-limit 2 as the lab applies it) and
# ocf:drover:vm.
#
#   tests/bench/drain_bench.sh
#
# DR_BENCH_DRAIN_VMS (default 3) guests of the lab (cl_lab_with_guests: a kernel, busybox and a
# memory writer; 128 MiB, rewriting and checking 16 MiB at 8 MiB/s, as cluster_move_test.sh)
# run on node1, whose cpu capacity in the CIB is raised to N + 1 (the CIB gives a node its
# core count, 2 here, and each guest needs 1). Each of DR_BENCH_DRAIN_ROUNDS (default 3) rounds: every VM alone moved off
# node1 (`pcs resource move`, to node2 and node3 in turn) and back; then node1 drained
# (`pcs node standby node1`), unstandby, and the VMs moved back. Before each measurement the
# cluster has settled, other labs' guests are quiet (cl_wait_machine_quiet, up to 30 s) and
# /proc/loadavg is recorded. Measured, in ms:
#   agent        the agent's own "VM DOM migrated to NODE in N ms" (migrate_to's libvirt call);
#   span         Pacemaker's logs: the first "Initiating migrate_to" -> the last "Result of
#                stop operation for RSC on node1: ok" (after migrate_from on the target);
#   wall         the host: the pcs command started -> node1 has none of the VMs (the cluster
#                says so and the sampler's scan finds no QEMU of them there), polled every 100 ms.
# Every migration is checked to be one (migrate_to + migrate_from, no start), the guests'
# memory checkers to report no error at the end, and the sampler (cluster_lib.sh, every
# <= 100 ms) to never see a guest's vCPU run on two nodes; after each move, with the cluster
# settled, a QEMU of a guest on a node where the cluster does not place it is reported (a VM on
# two nodes), counted and destroyed so that the rounds go on.
# Output: raw samples in $DR_BENCH_RESULTS/drain/, the tables on stdout. Needs root; about 7
# minutes. Exit 0 when every move and drain went as expected, 1 otherwise, 77 when the lab
# cannot run.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/lib.sh"
. "$DR_SOURCE_DIR/tests/integration/cluster_lib.sh"
cl_setup

NVM=${DR_BENCH_DRAIN_VMS:-3}
ROUNDS=${DR_BENCH_DRAIN_ROUNDS:-3}
SRC=node1
R=$DR_BENCH_RESULTS/drain
mkdir -p "$R" || exit 1
ERRORS=0
bad() { ERRORS=$((ERRORS + 1)); b_log "UNEXPECTED: $*"; }
CL_DOMS=()
for ((j = 1; j <= NVM; j++)); do CL_DOMS+=("dg$j-$LAB_PREFIX"); done # unique on the machine
trap 'tar -C "$LAB_DIR" -czf "$R/logs.tgz" node1/log node2/log node3/log samples 2>/dev/null; cl_cleanup' EXIT

# None of DOM... runs on SRC (cl_node_empty), with the cheap look first: no QEMU of one there.
off_src() # DOM...
{
    local -a CL_DOMS=("$@")
    local d
    for d in "$@"; do
        [[ " $(cl_qemu_nodes "$d") " != *" $SRC "* ]] || return 1
    done
    cl_node_empty "$SRC"
}

# measure WHAT DOM... -- CMD...: runs CMD (in the background: pcs resource move waits), polls
# every 100 ms until no DOM is on SRC; sets WALL_MS, SPAN_MS, AGENT_MS (one per DOM) and LOAD.
measure()
{
    local what=$1 doms=() pid t0 d log t_a t_b to m w nfail
    shift
    while [[ $1 != -- ]]; do doms+=("$1"); shift; done
    shift
    cl_settled 120 || bad "$what: the cluster did not settle before"
    CL_QUIET_WAIT_S=30 cl_wait_machine_quiet >/dev/null
    read -r LOAD _ </proc/loadavg
    cl_log_mark
    t0=$(t_ms)
    "$@" >>"$R/lab.log" 2>&1 &
    pid=$!
    WALL_MS=-
    for ((w = 0; w < 1500; w++)); do
        off_src "${doms[@]}" && { WALL_MS=$(($(t_ms) - t0)); break; }
        sleep 0.1
    done
    wait "$pid" || bad "$what: '$*' failed"
    [[ $WALL_MS != - ]] || bad "$what: $SRC still runs one of ${doms[*]} after 150 s"
    cl_settled 120 || bad "$what: the cluster did not settle after"
    log=$(cl_log_since)
    t_a=$(grep -E -m 1 "Initiating migrate_to operation vm-" <<<"$log" | cut -c1-19)
    t_b=$(grep -E "Result of stop operation for vm-.* on $SRC: ok" <<<"$log" | tail -n 1 | cut -c1-19)
    SPAN_MS=-
    [[ -n $t_a && -n $t_b ]] && SPAN_MS=$(($(cl_log_ms "$t_b") - $(cl_log_ms "$t_a")))
    AGENT_MS=()
    nfail=$(grep -c '^FAIL' "$R/checks.txt")
    for d in "${doms[@]}"; do
        to=$(cl_where "vm-$d")
        cl_check_live_migration "vm-$d" "$d" "$SRC" "$to" "$what" >>"$R/checks.txt"
        m=$CL_MIG_MS
        [[ $m =~ ^[0-9]+$ ]] || { bad "$what: no migration time of $d (see checks.txt)"; m=-; }
        AGENT_MS+=("$m")
    done
    (($(grep -c '^FAIL' "$R/checks.txt") == nfail)) || bad "$what: $(grep '^FAIL' "$R/checks.txt" | tail -n 1)"
    b_log "$what (load $LOAD): wall $WALL_MS ms, span $SPAN_MS ms, agent ${AGENT_MS[*]} ms"
    orphans "$what"
}

# After a move, with the cluster settled: a QEMU of a guest on a node where the cluster does not
# place it is a copy the cluster lost track of, a VM on two nodes. Reported and counted, then
# destroyed, so that the rounds can go on.
orphans() # WHAT
{
    local d k w
    for d in "${CL_DOMS[@]}"; do
        w=$(cl_where "vm-$d")
        for k in $(cl_qemu_nodes "$d"); do
            [[ $k == "$w" ]] && continue
            bad "$1: ONE LAW BROKEN: $d also runs on $k (the cluster places it on '$w'); destroying that copy"
            echo "$1: $d on $k, the cluster places it on '$w'" >>"$R/orphans"
            lab_virsh "$k" destroy "$d" >>"$R/lab.log" 2>&1
        done
    done
}

back_to_src() # every guest back on SRC (pcs resource move, one at a time; not measured)
{
    local d
    for d in "${CL_DOMS[@]}"; do
        cl_runs_on "vm-$d" "$SRC" && continue
        lab_exec 2 pcs resource move "vm-$d" "$SRC" >>"$R/lab.log" 2>&1 || bad "move vm-$d back to $SRC"
    done
    t_wait_for 120 cl_all_run_on "$SRC" || bad "the guests are not back on $SRC"
    cl_settled 120 || bad "the cluster did not settle after the moves back"
    orphans "back on $SRC"
}

# The CIB gives each node its core count as cpu capacity and each guest takes 1: on these 2
# cores only 2 guests would fit on node1. Here a node's capacity is NVM + 1 (lab_cib_pcs passes
# its VAR=VALUE arguments last, so this one wins).
eval "drain__cib_pcs() $(declare -f lab_cib_pcs | tail -n +2)"
lab_cib_pcs() { drain__cib_pcs "$@" "DROVER_NODE_CPU=$((NVM + 1))"; }

# The lab's guest XML has no UUID, so each define draws one: a node keeping an old definition
# (after a restart of the VM elsewhere) then refuses the VM's migration ("already exists with
# uuid"). Real domain XMLs have one; so do these.
eval "drain__guest_xml() $(declare -f cl_guest_xml | tail -n +2)"
cl_guest_xml()
{
    local f
    f=$(drain__guest_xml "$@") &&
        sed -i "s|<name>$1</name>|&\n  <uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>|" "$f" && echo "$f"
}

# ------------------------------------------------------------------------------ the lab
CL_QUIET_WAIT_S=60 cl_wait_machine_quiet >&2
cl_lab_with_guests pcs "$SRC" 128 16 8 >"$R/setup.txt" 2>&1
grep '^FAIL' "$R/setup.txt" && bad "setup: $(grep -c '^FAIL' "$R/setup.txt") failed checks (setup.txt)"
MIGLIMIT=$(lab_exec 2 crm_attribute -t crm_config -n migration-limit -G -q 2>/dev/null)
: >"$R/alone.raw"
: >"$R/drain.raw"
: >"$R/checks.txt"
: >"$R/orphans"
b_log "$NVM guests on $SRC (migration-limit ${MIGLIMIT:-?}); $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
    j=0
    for d in "${CL_DOMS[@]}"; do
        j=$((j + 1))
        to=node$((2 + (j + r) % 2))
        measure "round $r: $d alone to $to" "$d" -- lab_exec 2 pcs resource move "vm-$d" "$to"
        echo "$r $d $to $WALL_MS $SPAN_MS ${AGENT_MS[0]} $LOAD" >>"$R/alone.raw"
        back_to_src
    done
    measure "round $r: drain of $NVM" "${CL_DOMS[@]}" -- lab_exec 2 pcs node standby "$SRC"
    echo "$r $WALL_MS $SPAN_MS ${AGENT_MS[*]} $LOAD" >>"$R/drain.raw"
    lab_exec 2 pcs node unstandby "$SRC" >>"$R/lab.log" 2>&1 || bad "unstandby $SRC"
    back_to_src
done
for d in "${CL_DOMS[@]}"; do
    st=$(lab_guest_stats "$SRC" "$d")
    [[ $(t_stat errors "$st") == 0 && $(t_stat lost "$st") == 0 ]] ||
        bad "$d's memory checker on $SRC: $st"
    echo "$d at the end: $st" >>"$R/checks.txt"
done
cl_sampler_stop
cl_sampler_check "whole benchmark" >"$R/sampler.txt"
cat "$R/sampler.txt" >&2
grep -q '^FAIL' "$R/sampler.txt" && bad "sampler: $(grep '^FAIL' "$R/sampler.txt")"

# ------------------------------------------------------------------------------ tables
col() # FILE AWK_EXPR -> a file of its values, one a line
{
    awk "{ v = $2; if (v != \"-\" && v != \"\") print v }" "$1" >"$R/col.$3"
    echo "$R/col.$3"
}
# The sum per round of the VMs' values alone (field F of alone.raw), only for complete rounds.
sums() # F NAME
{
    awk -v f="$1" -v n="$NVM" '$f != "-" { s[$1] += $f; c[$1]++ }
        END { for (r in s) if (c[r] == n) print s[r] }' "$R/alone.raw" >"$R/col.$2"
    echo "$R/col.$2"
}
ag=$(for ((k = 4; k < 4 + NVM; k++)); do echo "\$$k"; done | paste -sd+)
echo "### Drain: $NVM VMs leaving node1 by live migration vs each alone (drover $(git -C "$DR_SOURCE_DIR" describe --always --dirty 2>/dev/null))"
echo
echo "$NVM guests (128 MiB, QEMU 10 TCG, a writer rewriting 16 MiB at 8 MiB/s), ocf:drover:vm from configs/cib/drover.pcs.sh (node cpu capacity $((NVM + 1))), migration-limit ${MIGLIMIT:-?}; $ROUNDS rounds; 1-min loadavg at the measurements $(cat "$R/alone.raw" "$R/drain.raw" | awk '{ print $NF }' | sort -g | sed -n '1p;$p' | paste -sd-)."
echo
b_table_head "ms"
b_row "one VM alone: agent's migration time" "$(col "$R/alone.raw" '$6' a6)"
b_row "one VM alone: Pacemaker span (migrate_to initiated -> stop on node1 ok)" "$(col "$R/alone.raw" '$5' a5)"
b_row "one VM alone: wall (pcs resource move -> off node1)" "$(col "$R/alone.raw" '$4' a4)"
b_row "sum of the $NVM alone, per round: agent's migration times" "$(sums 6 s6)"
b_row "sum of the $NVM alone, per round: Pacemaker spans" "$(sums 5 s5)"
b_row "sum of the $NVM alone, per round: walls" "$(sums 4 s4)"
b_row "drain of $NVM: Pacemaker span (first migrate_to initiated -> last stop on node1 ok)" "$(col "$R/drain.raw" '$3' d3)"
b_row "drain of $NVM: wall (pcs node standby -> node1 empty)" "$(col "$R/drain.raw" '$2' d2)"
b_row "drain of $NVM: sum of the agent's migration times" "$(col "$R/drain.raw" "$ag" dsum)"
b_row "drain of $NVM: agent's migration time per VM" "$(awk -v n="$NVM" '{ for (k = 4; k < 4 + n; k++) if ($k != "-") print $k }' "$R/drain.raw" >"$R/col.dvm"; echo "$R/col.dvm")"
echo
echo "VM copies the cluster lost track of (a VM on two nodes, found after a move and destroyed): $(wc -l <"$R/orphans")$(sed 's/^/; /' "$R/orphans" | tr -d '\n')"
echo "ratio of medians, drain / sum alone: span $(awk -v a="$(b_median "$R/col.d3")" -v b="$(b_median "$R/col.s5")" 'BEGIN { printf "%.2f", a / b }'), wall $(awk -v a="$(b_median "$R/col.d2")" -v b="$(b_median "$R/col.s4")" 'BEGIN { printf "%.2f", a / b }')"
b_log "errors: $ERRORS"
((ERRORS == 0))
