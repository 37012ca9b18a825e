#!/bin/bash
# Partition (issue 4 §3), on the lab's 3-node cluster with everything real: corosync, Pacemaker,
# droverd, fence_drover, tgtd, libvirtd + QEMU. The CIB comes from configs/cib/drover.crm with one
# ocf:drover:vm resource (a tiny diskless domain); a second domain that Pacemaker does not know
# runs on the same node. Both heartbeat links (knet 0 and 1) of that node are cut; it keeps its
# storage network. Then:
#   - the cut-off node loses quorum, and its Pacemaker schedules the VM's stop (no-quorum-policy);
#   - the majority keeps quorum and fences it through fence_drover: its key leaves the LUN;
#   - its droverd finds its key gone, destroys its VMs (the unmanaged one too: the second wall)
#     and runs its --on-fenced command, which stops the node's Pacemaker (Pacemaker 2.1.5 never
#     tells a node cut off from the cluster network that it was fenced: it would rejoin as a
#     member Pacemaker believes unfenced, while its droverd says fenced, and nothing unfences it);
#   - the VM starts on the majority only after the fence succeeded.
# The links heal: the node's corosync rejoins, but its Pacemaker stays down, its droverd fenced,
# and no VM runs there; its stack starts again (lab_cluster_node_up, as `systemctl start
# pacemaker`): Pacemaker unfences it (fence_drover on), it rejoins, and the VM stays where it is
# (stickiness). A sampler looks for every domain's QEMU on every node every ~25 ms during the
# whole test and never sees one on two nodes. Runs as root, about two minutes.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_fence_lib.sh"
cf_setup
trap cf_cleanup EXIT

DOM=pt-$LAB_PREFIX # unique on the machine: other labs' QEMUs never match the sampler
STRAY=stray-$LAB_PREFIX
RSC=vm-$DOM
CF_DOMS="$DOM $STRAY"

cf_cluster_with_vm "$DOM"
VICTIM=$(cf_where "$RSC")
[[ -n $VICTIM ]] || exit 1
t_expect_rc 0 "a domain Pacemaker does not manage runs on $VICTIM too" \
    lab_vm_start "$VICTIM" "$STRAY" 32
cf_sampler_start
t_expect_out 0 "^$VICTIM\$" "$DOM's QEMU runs on $VICTIM only" cf_qemu_nodes "$DOM"
SURV=node1
[[ $VICTIM != node1 ]] || SURV=node2
t_log "$RSC runs on $VICTIM: cutting both of its heartbeat links (hb, cli)"

sleep 1
T_CUT=$(t_ms)
t_expect_rc 0 "lab_link_cut $VICTIM heartbeat" lab_link_cut "$VICTIM" heartbeat
if t_wait_for 60 cf_quorate "$VICTIM" no; then
    t_pass "$VICTIM lost quorum ($(($(t_ms) - T_CUT)) ms after the cut, polled)"
else
    t_fail "$VICTIM lost quorum"
fi
if t_wait_for 30 cf_sees "$SURV" 2 1; then t_pass "$SURV sees 2 nodes online, with quorum"; else
    t_fail "$SURV sees 2 nodes online, with quorum"
fi
if t_wait_for 60 cf_key_gone "$SURV" "$VICTIM"; then
    t_pass "$VICTIM fenced: its key left the LUN ($(($(t_ms) - T_CUT)) ms after the cut)"
else
    t_fail "$VICTIM fenced: its key left the LUN"
fi
if t_wait_for 10 cf_droverd_is "$VICTIM" fenced; then t_pass "$VICTIM's droverd: fenced"; else
    t_fail "$VICTIM's droverd: fenced"
fi
DLOG=$LAB_DIR/$VICTIM/log/droverd.log
t_expect_rc 0 "$VICTIM's droverd logged its key gone" \
    grep -q "of $VICTIM is gone: this node has been fenced" "$DLOG"
if t_wait_for 10 test -z "$(cf_qemu_nodes "$STRAY")"; then
    t_pass "the unmanaged domain's QEMU is gone from $VICTIM"
else
    t_fail "the unmanaged domain's QEMU is gone from $VICTIM"
fi
t_expect_out 0 "node $VICTIM is fenced: stopped [1-9][0-9]* VM\(s\)" \
    "$VICTIM's droverd logged the VMs it destroyed" grep -h "is fenced: stopped" "$DLOG"
t_expect_out 0 "state=fenced vms_destroyed=[1-9]" "droverd counts them" \
    lab_exec "$VICTIM" "$DROVER" status
t_expect_rc 0 "$VICTIM's droverd ran its --on-fenced command" \
    grep -q "is fenced: running the --on-fenced command" "$DLOG"
if t_wait_for 60 eval "! lab__pid_get $VICTIM-pacemakerd >/dev/null"; then
    t_pass "$VICTIM's Pacemaker stopped ($(($(t_ms) - T_CUT)) ms after the cut)"
else
    t_fail "$VICTIM's Pacemaker stopped"
fi
t_expect_rc 0 "$VICTIM's Pacemaker scheduled the VM's stop for lack of quorum" \
    grep -Eq "Stop +$RSC +\( $VICTIM \) +due to no quorum" \
    "$LAB_DIR/$VICTIM/log/pacemaker/pacemaker.log"
# Until the fence completes (fence_drover waits victim_stop_ms after the key is gone), the
# majority still places the resource on the victim: wait for it on a majority node.
runs_on_majority() { local n; n=$(cf_where "$RSC" "$SURV"); [[ -n $n && $n != "$VICTIM" ]]; }
if t_wait_for 60 runs_on_majority; then t_pass "$RSC recovered"; else
    t_fail "$RSC recovered"
fi
NEWNODE=$(cf_where "$RSC" "$SURV")
t_expect_out 0 "^node[0-9]\$" "$RSC runs on one node of the majority ($NEWNODE)" echo "$NEWNODE"
[[ $NEWNODE != "$VICTIM" ]] && t_pass "not on $VICTIM" || t_fail "$RSC on the cut-off $VICTIM"
t_wait_for 30 test "$(cf_qemu_nodes "$DOM")" == "$NEWNODE" || true
t_expect_out 0 "^$NEWNODE\$" "its QEMU runs on $NEWNODE only" cf_qemu_nodes "$DOM"

# The order, in ms, from the nodes' logs and the sampler.
MAJ="node1 node2 node3"
MAJ=${MAJ/$VICTIM/}
# shellcheck disable=SC2086 # MAJ is words
{
    NOQ_MS=$(cf_log_ms "Quorum lost" "$T_CUT" "$VICTIM") || NOQ_MS=
    FENCE_MS=$(cf_log_ms "Operation '(reboot|off)' targeting $VICTIM by node[0-9]+ .*: OK" \
        "$T_CUT" $MAJ) || FENCE_MS=
    START_REQ_MS=$(cf_log_ms "Initiating start operation ${RSC}_start_0 (locally )?on $NEWNODE" \
        "$T_CUT" $MAJ) || START_REQ_MS=
}
QEMU_MS=$(cf_first_seen "$DOM" "$NEWNODE" "$T_CUT")
GONE_MS=$(cf_last_seen "$DOM" "$VICTIM" "$T_CUT")
t_log "cut $T_CUT, quorum lost ${NOQ_MS:-?}, fence ok ${FENCE_MS:-?}, start requested" \
    "${START_REQ_MS:-?}, QEMU last seen on $VICTIM ${GONE_MS:-?}, first on $NEWNODE ${QEMU_MS:-?}"
if [[ -n $FENCE_MS && -n $START_REQ_MS ]] && ((START_REQ_MS >= FENCE_MS)); then
    t_pass "the start was requested after the fence succeeded (+$((START_REQ_MS - FENCE_MS)) ms)"
else
    t_fail "the start was requested after the fence succeeded"
fi
if [[ -n $FENCE_MS && -n $QEMU_MS ]] && ((QEMU_MS > FENCE_MS)); then
    t_pass "the VM's QEMU appeared on $NEWNODE after the fence (+$((QEMU_MS - FENCE_MS)) ms)"
else
    t_fail "the VM's QEMU appeared on $NEWNODE after the fence"
fi
if [[ -n $GONE_MS && -n $QEMU_MS ]] && ((GONE_MS < QEMU_MS)); then
    t_pass "... and after it was last seen on $VICTIM (+$((QEMU_MS - GONE_MS)) ms)"
else
    t_fail "the VM's QEMU left $VICTIM before it appeared on $NEWNODE"
fi
t_expect_out 0 "reboot of $VICTIM successful: delegate=node[0-9]" \
    "stonith_admin --history: $VICTIM fenced by the majority" \
    lab_exec "$SURV" stonith_admin --history "$VICTIM" --verbose

# ------------------------------------------------------------------------------ heal
T_HEAL=$(t_ms)
t_expect_rc 0 "lab_link_heal $VICTIM heartbeat" lab_link_heal "$VICTIM" heartbeat
if t_wait_for 60 cf_quorate "$VICTIM" yes; then
    t_pass "$VICTIM's corosync rejoined, quorate ($(($(t_ms) - T_HEAL)) ms after the heal)"
else
    t_fail "$VICTIM's corosync rejoined"
fi
sleep 5 # what a rejoining Pacemaker would have done by now
t_log "crm_mon on $SURV: $(lab_exec "$SURV" crm_mon -1 --output-as=xml 2>&1 |
    grep -o "<node name=\"$VICTIM\" [^>]*")"
t_expect_out 0 "^offline\$" "the majority's CIB: $VICTIM's controller is offline" \
    cf_controller_of "$SURV" "$VICTIM"
t_expect_rc 0 "$VICTIM's droverd still says fenced" cf_droverd_is "$VICTIM" fenced
t_expect_rc 0 "$VICTIM's key is still off the LUN" cf_key_gone "$SURV" "$VICTIM"
t_expect_out 0 "^\$" "no domain runs on $VICTIM" eval "lab_vm_list $VICTIM"

T_START=$(t_ms)
t_expect_rc 0 "$VICTIM's stack starts again (lab_cluster_node_up)" lab_cluster_node_up "$VICTIM"
if t_wait_for 60 cf_droverd_is "$VICTIM" registered; then
    T_UNFENCED=$(($(t_ms) - T_START))
    t_pass "$VICTIM unfenced: its droverd is registered ($T_UNFENCED ms after the stack start)"
else
    T_UNFENCED=
    t_fail "$VICTIM unfenced after its stack start"
fi
t_expect_rc 0 "3 nodes online with quorum again" lab_cluster_wait 3 60
T_REJOINED=$(($(t_ms) - T_START))
t_expect_rc 0 "$VICTIM's key is back on the LUN" cf_key_listed "$SURV" "$VICTIM"
t_expect_out 0 "unfencing of $VICTIM successful: delegate=$VICTIM" \
    "the fencer's history has its new unfencing" \
    lab_exec "$SURV" stonith_admin --history "$VICTIM" --verbose
[[ $(grep -c "unfencing of $VICTIM successful" <<<"$T_OUT") -ge 2 ]] &&
    t_pass "... twice (start and rejoin)" || t_fail "unfenced only once: $T_OUT"
sleep 3
if [[ $(cf_where "$RSC") == "$NEWNODE" ]]; then t_pass "$RSC stays on $NEWNODE (stickiness)"; else
    t_fail "$RSC moved to $(cf_where "$RSC")"
fi
t_expect_out 0 "^$NEWNODE\$" "its QEMU runs on $NEWNODE only" cf_qemu_nodes "$DOM"
t_expect_out 0 "^\$" "the unmanaged domain stayed down" cf_qemu_nodes "$STRAY"

cf_sampler_check
t_log "times (ms): cut -> quorum lost on $VICTIM $((${NOQ_MS:-0} - T_CUT))," \
    "cut -> fence ok $((${FENCE_MS:-0} - T_CUT)), cut -> start requested" \
    "$((${START_REQ_MS:-0} - T_CUT)), cut -> QEMU on $NEWNODE $((${QEMU_MS:-0} - T_CUT));" \
    "heal -> stack start -> unfenced ${T_UNFENCED:-?}, -> 3 online $T_REJOINED"
t_summary
