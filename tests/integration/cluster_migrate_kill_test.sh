#!/bin/bash
# A node killed (power cut) while a live migration's memory stream runs (the VM agent's issue: "a
# migration interrupted anywhere leaves the VM running in exactly one place, or stopped on both
# where Pacemaker can see it; never two"), on the lab's 3-node cluster with everything real:
# corosync, Pacemaker, droverd, fence_drover, tgtd, libvirtd and QEMU 10 (TCG). One guest
# (128 MiB, a writer rewriting and checking 16 MiB at 8 MiB/s) is an ocf:drover:vm resource from
# the repository's CIB, with migration_bandwidth=4 (MiB/s: the writer dirties memory faster than
# the stream sends it, so the stream runs for many seconds) and force_stop=true (the guest ignores
# ACPI). `pcs resource move` starts each migration, as an admin would; once the stream runs, one
# node is killed:
#   (a) the source, in pre-copy (node1 -> node2, node1 killed once the target's libvirt holds
#       the incoming domain paused and the source has sent 3 MiB): the survivors fence node1, and
#       only it; the VM is started again on a survivor only after that fence succeeded (the
#       logs' times and the sampler's first sight of the new vCPU);
#   (b) the target, in pre-copy (from where (a) left the VM to another node): the survivors fence
#       the target, and only it; migrate_to fails on the source, which keeps no migration record;
#       the VM goes on running on the source, or Pacemaker restarts it (its recovery of a failed
#       migrate_to: stop + start), the start only after the fence: the test says which;
#   (c) the target again, 0.3 s after the switch to post-copy (postcopy_after=2): the VM's memory
#       is split between the nodes and it cannot go on; the source's stop must still succeed
#       (the target is fenced, its copy gone), so that only the target is fenced, and the VM
#       starts afresh on a survivor after that fence.
# After (a) and (b) the killed node boots again, is unfenced and rejoins (the next case needs
# its vote), and the VM stays where it is. Each time no stop, start or migrate_from fails (a
# failed stop on a survivor gets it fenced too), the VM ends running on exactly one node, the
# cluster's word (crm_resource --locate) is where its QEMU runs, and the guest writes there with a
# clean memory checker. A sampler (every <= 100 ms, the whole test) never sees the guest's vCPU
# run on two nodes. Runs as root, about 2 minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_lib.sh"

cl_setup

D=mk-$LAB_PREFIX # unique on the machine
RSC=vm-$D
CL_DOMS=("$D")
BW=4 # migration_bandwidth, MiB/s
OBSERVER=$LAB_IQN_BASE:observer # an initiator of its own, never one of droverd's

# D's state in NODE's libvirt with its reason ("paused (migrating)"); empty when it has none.
domstate() # NODE
{
    lab_exec "$1" virsh -c qemu:///system domstate --reason "$D" 2>/dev/null | sed -n 1p
}

# The MiB of memory NODE's outgoing migration job of D has sent so far; fails when none runs.
sent_mib() # NODE
{
    local n
    n=$(lab_exec "$1" virsh -c qemu:///system domjobinfo --rawstats "$D" 2>/dev/null |
        sed -n 's/^ *memory_processed *[:=] *\([0-9][0-9]*\).*/\1/p' | awk 'NR == 1')
    [[ -n $n ]] && echo $((n >> 20))
}

# Mid-stream: TO's libvirt has the incoming domain paused, and FROM has sent at least MIN MiB.
streaming() # FROM TO MIN_MIB
{
    local s
    [[ $(domstate "$2") == paused* ]] && s=$(sent_mib "$1") && ((s >= $3))
}

# Post-copy: the source's libvirt has the domain paused for it, or the target's runs it.
postcopy() # FROM TO
{
    [[ $(domstate "$1") == "paused (post-copy"* || $(domstate "$2") == "running (post-copy"* ]]
}

key_gone() # READER NODE: NODE's key is not on the fence LUN (as READER reads it)
{
    local keys
    keys=$(lab_exec "$1" "$DROVER" keys --initiator "$OBSERVER" "$(lab_lun_url fence)" 2>/dev/null |
        grep -E '^0x[0-9a-f]{16}$') && [[ -n $keys ]] &&
        ! grep -qx "$("$DROVER" key "$(lab__cluster_name)" "$2")" <<<"$keys"
}

on_survivor() # VICTIM: the resource runs, by the cluster's word, on a node other than VICTIM
{
    local n
    n=$(cl_where "$RSC")
    [[ -n $n && $n != "$1" ]]
}

# The resource runs on a survivor, or a survivor was fenced too (then nothing may ever run).
settled_or_worse() # VICTIM
{
    local f
    on_survivor "$1" && return 0
    f=$(fenced_since)
    [[ -n $f && $f != "$1" ]]
}

qemu_pid_on() # NODE -> the QEMU PID in D's PID file there
{
    local pid='' k
    k=$(lab__node_num "$1") || return 1
    { read -r pid <"$LAB_DIR/node$k/run/libvirt/qemu/$D.pid" || [[ -n $pid ]]; } 2>/dev/null
    [[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
}

# When a new QEMU of D first ran its vCPU on NODE since MS (epoch ms): the first sample with
# it running there after one with no QEMU of D there (a copy that ran on through MS, or a paused
# incoming one, had to go first).
first_run_ms() # NODE MS
{
    local k
    k=$(lab__node_num "$1") || return 1
    awk -v d="$D:" -v k="$k" -v t="$2" '$1 > t { for (i = 2; i <= NF; i++) if (index($i, d) == 1) {
            c = substr($i, length(d) + k, 1)
            if (c == "0") gone = 1
            else if (c == "2" && gone) { print $1; found = 1; exit } } }
        END { exit !found }' "$CL_SAMPLES"
}

# The nodes whose fencing (reboot or off) succeeded, by the logs since cl_log_mark ("node1").
fenced_since() # (cl_log_mark)
{
    cl_log_since | sed -n "s/.*Operation '\(reboot\|off\)' targeting \(node[0-9]*\) by .*: OK.*/\2/p" |
        sort -u | tr '\n' ' ' | sed 's/ $//'
}

# pcs resource move in the background, run on RUNNER; its output and exit code go to FILE and
# FILE.rc. pcs 0.11 waits for the cluster to settle, then removes its constraint if the
# resource runs on TO.
pcs_move_bg() # RUNNER TO FILE
{
    rm -f "$3" "$3.rc"
    (
        lab_exec "$1" timeout 240 pcs resource move "$RSC" "$2" >"$3" 2>&1
        echo $? >"$3.rc"
    ) &
}

# After pcs resource move: what pcs said; any constraint it left is removed.
pcs_move_end() # WHAT FILE RUNNER
{
    if t_wait_for 30 test -e "$2.rc"; then
        t_log "$1: pcs resource move exited $(cat "$2.rc"): $(tr '\n' ' ' <"$2" | cut -c1-300)"
    else
        t_log "$1: pcs resource move still waits: $(tr '\n' ' ' <"$2" | cut -c1-300)"
    fi
    if lab_exec "$3" cibadmin -Q -o constraints 2>/dev/null | grep -q "id=\"cli-prefer-$RSC\""; then
        t_expect_rc 0 "$1: pcs resource clear $RSC (pcs left its constraint)" \
            lab_exec "$3" pcs resource clear "$RSC"
    fi
}

# Moves the VM FROM -> TO with pcs (run on RUNNER) and kills VICTIM mid-stream, in pre-copy
# (PHASE precopy: the target's incoming domain paused, 3 MiB sent) or just after the switch to
# post-copy (postcopy); then the checks every case shares. Sets T_KILL, WHERE (where the VM
# ends), FENCE_MS, KILL_FENCE_MS, PID_BEFORE (FROM's QEMU before).
kill_mid_migration() # WHAT FROM TO VICTIM RUNNER PHASE
{
    local what=$1 from=$2 to=$3 victim=$4 runner=$5 phase=$6 t0 st s fenced log bad k
    local pcs_out=$LAB_DIR/pcs-move-$victim-$phase
    CL_BEFORE[$D]=$(lab_guest_stats "$from" "$D")
    PID_BEFORE=$(qemu_pid_on "$from")
    cl_log_mark
    t0=$(t_ms)
    pcs_move_bg "$runner" "$to" "$pcs_out"
    if { [[ $phase == precopy ]] && t_wait_for 60 streaming "$from" "$to" 3; } ||
        { [[ $phase == postcopy ]] && t_wait_for 60 postcopy "$from" "$to" && sleep 0.3; }; then
        st="$from: $(domstate "$from"), $to: $(domstate "$to")" s=$(sent_mib "$from")
        T_KILL=$(t_ms)
        t_expect_rc 0 "$what: lab_node_kill $victim, $((T_KILL - t0)) ms after pcs resource move (stream: $s MiB sent; $st)" \
            lab_node_kill "$victim"
    else
        t_fail "$what: the migration $from -> $to never streamed (on $to: '$(domstate "$to")', sent: '$(sent_mib "$from")' MiB; pcs: $(cat "$pcs_out" 2>/dev/null))"
        exit 1
    fi
    SURV=() # the survivors
    for k in 1 2 3; do
        [[ node$k == "$victim" ]] || SURV+=("node$k")
    done

    # Fencing: the victim's key leaves the LUN, the fencer says so, and no other node is fenced.
    if t_wait_for 60 key_gone "${SURV[0]}" "$victim"; then
        t_pass "$what: $victim fenced: its key left the LUN ($(($(t_ms) - T_KILL)) ms after the kill)"
    else
        t_fail "$what: $victim's key is still on the LUN"
    fi
    if t_wait_for 90 settled_or_worse "$victim" && on_survivor "$victim"; then
        t_pass "$what: $RSC runs on a survivor: $(cl_where "$RSC") ($(($(t_ms) - T_KILL)) ms after the kill)"
    else
        t_fail "$what: $RSC runs on a survivor (now on '$(cl_where "$RSC")')"
    fi
    t_expect_rc 0 "$what: the cluster settles" cl_settled 90
    WHERE=$(cl_where "$RSC")
    t_expect_out 0 "reboot of $victim successful" "$what: stonith_admin --history: $victim fenced" \
        lab_exec "$(lab__cluster_node)" stonith_admin --history "$victim" --verbose
    fenced=$(fenced_since)
    [[ $fenced == "$victim" ]] && t_pass "$what: only $victim was fenced" ||
        t_fail "$what: the nodes fenced since the move: '$fenced' (wanted $victim only)"
    for k in "${SURV[@]}"; do
        cl_droverd_registered "$k" && t_pass "$what: $k keeps its key (droverd registered)" ||
            t_fail "$what: $k is no longer registered: $(lab_exec "$k" "$DROVER" status 2>&1 | head -n 1)"
    done
    FENCE_MS=$(cl_first_log_ms "Operation '(reboot|off)' targeting $victim by node[0-9]+ .*: OK" \
        "$T_KILL") || FENCE_MS=
    KILL_FENCE_MS=$((${FENCE_MS:-0} - T_KILL))
    log=$(cl_log_since)
    bad=$(grep -E "Result of (stop|start|migrate_from) operation for $RSC on node[0-9]+: " <<<"$log" |
        grep -v ': ok' | cut -c1-220)
    [[ -z $bad ]] && t_pass "$what: no stop, start or migrate_from of $RSC failed" ||
        t_fail "$what: failed operations: $bad"
    ! grep -q "Result of migrate_from operation for $RSC on $to: ok" <<<"$log" &&
        t_pass "$what: no migrate_from completed on $to (the kill came before the hand-over)" ||
        t_fail "$what: migrate_from completed on $to: the kill came too late to test anything"
    t_log "$what: Pacemaker on $RSC: $(grep -E "(Initiating|Result of) [a-z_]* operation (for )?${RSC}[_ ]" <<<"$log" |
        sed 's/^\(... .. ..:..:..\.[0-9]*\) .*\(Initiating\|Result of\)/\1 \2/' | cut -c1-120 | tr '\n' ';')"

    # Exactly one copy, where the cluster says; the guest runs there.
    if [[ -z $WHERE ]]; then
        t_fail "$what: $RSC runs nowhere (QEMUs of $D: '$(cl_qemu_nodes "$D")'): $(lab_exec "$(lab__cluster_node)" crm_mon -1 2>&1 | grep -E 'quorum|vm-|Online|OFFLINE' | tr '\n' ' ')"
        pcs_move_end "$what" "$pcs_out" "${SURV[0]}"
        return
    fi
    t_expect_out 0 "^$WHERE\$" "$what: $D's QEMU runs on $WHERE only, where the cluster says" \
        cl_qemu_nodes "$D"
    t_expect_out 0 "^running" "$what: $WHERE's libvirt runs $D" domstate "$WHERE"
    for k in "${SURV[@]}"; do
        [[ $k == "$WHERE" ]] && continue
        st=$(domstate "$k")
        [[ -z $st || $st == "shut off"* ]] && t_pass "$what: $k's libvirt does not run $D ('$st')" ||
            t_fail "$what: $k's libvirt has $D $st"
    done
    pcs_move_end "$what" "$pcs_out" "${SURV[0]}"
}

# The first heartbeat of a new boot of D on NODE since cl_log_mark: the first one there whose
# count is below BEFORE_STATS' (a guest booted again starts at beat 1).
new_boot_beat() # NODE BEFORE_STATS
{
    local k
    k=$(lab__node_num "$1") || return 1
    tail -c +"$((${CL_CON_MARK[$D/$k]:-0} + 1))" "$(lab__console_file "$k" "$D")" 2>/dev/null |
        tr -d '\r' | grep -a '^DRLAB beat=.* end$' | sed 's/^DRLAB //; s/ end$//' |
        awk -v b="$(t_stat beat "$2")" '{ split($1, f, "=") } f[2] < b { print; found = 1; exit }
            END { exit !found }'
}

# The guest on WHERE booted again since the kill and writes with a clean memory checker.
check_restarted() # WHAT
{
    local what=$1 first='' after
    if t_wait_for 120 new_boot_beat "$WHERE" "${CL_BEFORE[$D]}" &&
        first=$(new_boot_beat "$WHERE" "${CL_BEFORE[$D]}"); then
        t_pass "$what: $D booted again on $WHERE: beat $(t_stat beat "${CL_BEFORE[$D]}") before -> $first"
    else
        t_fail "$what: no new boot of $D on $WHERE (before: '${CL_BEFORE[$D]}', now: '$(lab_guest_stats "$WHERE" "$D" 2>&1)')"
        return 1
    fi
    if after=$(cl_guest_progress "$WHERE" "$D" "$first" 90); then
        [[ $(t_stat errors "$after") == 0 && $(t_stat lost "$after") == 0 ]] &&
            t_pass "$what: $D writes on $WHERE, its memory checker clean ($after)" ||
            t_fail "$what: $D's memory checker on $WHERE: $after"
        CL_BEFORE[$D]=$after
    else
        t_fail "$what: $D does not write on $WHERE (now: $(lab_guest_stats "$WHERE" "$D" 2>&1))"
    fi
}

# A start of RSC on WHERE requested since the kill came after the fence, and the new copy's vCPU
# first ran there after it too.
check_start_after_fence() # WHAT VICTIM
{
    local what=$1 victim=$2 start run
    start=$(cl_first_log_ms "Initiating start operation ${RSC}_start_0 (locally )?on $WHERE" \
        "$T_KILL") || start=
    run=$(first_run_ms "$WHERE" "$T_KILL") || run=
    t_log "$what: kill $T_KILL, fence ok +${FENCE_MS:+$((FENCE_MS - T_KILL))}, start requested +${start:+$((start - T_KILL))}, new vCPU seen on $WHERE +${run:+$((run - T_KILL))} (ms)"
    [[ -n $FENCE_MS && -n $start ]] && ((start >= FENCE_MS)) &&
        t_pass "$what: the start on $WHERE was requested after $victim's fence succeeded (+$((start - FENCE_MS)) ms)" ||
        t_fail "$what: the start on $WHERE was requested after $victim's fence (fence '${FENCE_MS:-}', start '${start:-}')"
    [[ -n $FENCE_MS && -n $run ]] && ((run > FENCE_MS)) &&
        t_pass "$what: the new copy's vCPU ran on $WHERE only after the fence (+$((run - FENCE_MS)) ms)" ||
        t_fail "$what: the new copy's vCPU ran on $WHERE after the fence (fence '${FENCE_MS:-}', first run '${run:-}')"
}

# NODE boots again, is unfenced and rejoins; the VM stays where it runs.
rejoin() # WHAT NODE
{
    local what=$1 node=$2 t0 w
    w=$(cl_where "$RSC")
    t0=$(t_ms)
    t_expect_rc 0 "$what: lab_node_start $node" lab_node_start "$node"
    t_expect_rc 0 "$what: 3 nodes online with quorum again" lab_cluster_wait 3 60
    if t_wait_for 60 cl_droverd_registered "$node"; then
        t_pass "$what: $node unfenced and rejoined ($(($(t_ms) - t0)) ms after its start)"
    else
        t_fail "$what: $node unfenced after its start"
    fi
    t_expect_rc 0 "$what: the cluster settles" cl_settled 90
    t_expect_out 0 "^$w\$" "$what: $RSC stays on $w once $node is back" cl_where "$RSC"
    t_expect_out 0 "^$w\$" "$what: its QEMU runs on $w only" cl_qemu_nodes "$D"
}

# The target TO of a migration FROM -> TO killed in PHASE (pcs on RUNNER): migrate_to fails on
# FROM, which keeps no record of it; the VM runs on FROM still, or was restarted after the
# fence. Sets RESTART (what happened, for the summary).
target_case() # WHAT FROM TO RUNNER PHASE
{
    local what=$1 from=$2 to=$3 ms res
    CL_BEFORE[$D]=$(lab_guest_stats "$from" "$D")
    kill_mid_migration "$what" "$from" "$to" "$to" "$4" "$5"
    ms=$(cl_first_log_ms "Result of migrate_to operation for $RSC on $from: " "$T_KILL") &&
        res=$(cl_log_since | grep -o "Result of migrate_to operation for $RSC on $from: [a-z ]*" |
            tail -n 1) || res=
    [[ -n $res && $res != *": ok"* ]] &&
        t_pass "$what: migrate_to failed on the source $from, $((ms - T_KILL)) ms after the kill ($res)" ||
        t_fail "$what: migrate_to on the source $from: '${res:-no result}' (wanted a failure)"
    if [[ -z $WHERE ]]; then
        RESTART="runs nowhere"
    elif [[ $WHERE == "$from" && $(qemu_pid_on "$WHERE") == "$PID_BEFORE" ]]; then
        RESTART="stayed on the source $from, not restarted (QEMU PID $PID_BEFORE)"
        t_log "$what: $RESTART"
        cl_guest_check "$WHERE" "$D" "${CL_BEFORE[$D]}" "$what"
    else
        RESTART="restarted on $WHERE"
        t_log "$what: $RESTART (QEMU PID on $from before: $PID_BEFORE)"
        check_start_after_fence "$what" "$to"
        check_restarted "$what"
    fi
    lab__pid_get "node$(lab__node_num "$from")" >/dev/null || return # the source was fenced too
    ! lab_exec "$from" test -e "/run/drover/vm/.migrated-$RSC" &&
        t_pass "$what: the source $from keeps no record of a migration" ||
        t_fail "$what: $from still has /run/drover/vm/.migrated-$RSC: $(lab_exec "$from" cat "/run/drover/vm/.migrated-$RSC")"
}

other() # NODE NODE -> the third node
{
    local k
    for k in node1 node2 node3; do
        [[ $k == "$1" || $k == "$2" ]] || echo "$k"
    done
}

# ------------------------------------------------------------------------------- the test

cl_wait_machine_quiet
cl_lab_with_guests pcs node1 128 16 8
# force_stop: the lab's guest ignores ACPI, and a graceful stop (Pacemaker's recovery of a
# failed migrate_to is a stop and a start) would wait out the stop timeout.
t_expect_rc 0 "pcs resource update $RSC migration_bandwidth=$BW force_stop=true (reloaded)" \
    lab_exec 2 pcs resource update "$RSC" "migration_bandwidth=$BW" force_stop=true
t_expect_rc 0 "the cluster settles" cl_settled 90
t_expect_out 0 "^node1\$" "$RSC still on node1" cl_where "$RSC"

# --- (a) the source killed: node1 -> node2, pcs on node3.
A="(a) source killed"
kill_mid_migration "$A" node1 node2 node1 node3 precopy
A_WHERE=$WHERE A_FENCE=$KILL_FENCE_MS
if [[ -n $WHERE ]]; then
    check_start_after_fence "$A" node1
    check_restarted "$A"
fi
rejoin "$A" node1

# --- (b) the target killed in pre-copy: from A_WHERE to another node, pcs on the third.
B="(b) target killed"
B_FROM=$A_WHERE B_TO=node3
[[ $B_FROM == node3 ]] && B_TO=node2
target_case "$B" "$B_FROM" "$B_TO" "$(other "$B_FROM" "$B_TO")" precopy
B_WHERE=$WHERE B_FENCE=$KILL_FENCE_MS B_RESTART=$RESTART
rejoin "$B" "$B_TO"

# --- (c) the target killed just after the switch to post-copy: the VM's memory is split between
# source and target, so it cannot go on; the source's copy must be stopped (and the VM started
# afresh after the fence) without the source's stop failing for want of the dead target.
C="(c) target killed in post-copy"
[[ -n $B_WHERE ]] || {
    t_fail "$C: not run: the VM runs nowhere after (b)"
    exit 1
}
t_expect_rc 0 "$C: pcs resource update $RSC postcopy_after=2 (reloaded)" \
    lab_exec "$B_TO" pcs resource update "$RSC" postcopy_after=2
t_expect_rc 0 "$C: the cluster settles" cl_settled 90
C_FROM=$B_WHERE C_TO=$(other "$B_WHERE" "$B_TO")
target_case "$C" "$C_FROM" "$C_TO" "$B_TO" postcopy
C_FENCE=$KILL_FENCE_MS C_RESTART=$RESTART

cl_sampler_stop
cl_sampler_check "whole test"
t_log "(a) source node1 killed: fenced +$A_FENCE ms, restarted on $A_WHERE;" \
    "(b) target $B_TO killed: fenced +$B_FENCE ms, $B_RESTART;" \
    "(c) target $C_TO killed in post-copy: fenced +$C_FENCE ms, $C_RESTART; test $(($(t_ms) - CL_T0)) ms"
t_summary
