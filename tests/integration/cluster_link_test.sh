#!/bin/bash
# One link lost (issue 4 §3), on the lab's 3-node cluster with everything real: corosync (knet
# link 0 on the heartbeat network, link 1 on the client network), Pacemaker, droverd,
# fence_drover, tgtd, libvirtd + QEMU; the CIB from configs/cib/drover.crm with one
# ocf:drover:vm resource (a tiny diskless domain). On the node that runs the VM, knet link 0 (hb)
# is cut, held for longer than corosync's token + consensus (~8 s) and healed; then the same for
# link 1 (cli). Each time: corosync-cfgtool -s on that node shows the cut link down to both peers
# and the other one up; nobody loses a node (every node sees 3 online with quorum, sampled each
# second); nobody is fenced (no reboot/off in the fencer's history, the node's key stays on the
# LUN, its droverd stays registered); the VM keeps running where it was, never on two nodes
# (sampled every ~25 ms); after the heal both links are up again. Runs as root, about 90 s.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/cluster_fence_lib.sh"
cf_setup
trap cf_cleanup EXIT

DOM=ln-$LAB_PREFIX # unique on the machine: other labs' QEMUs never match the sampler
RSC=vm-$DOM
CF_DOMS=$DOM
HOLD_S=${CL_LINK_HOLD_S:-15} # > token + consensus for 3 nodes (3650 + 4380 ms)

# The state of knet link LINK on NODE, as corosync-cfgtool -s shows it: "up" when both peers
# are connected on it, "down" when neither is, "mixed" otherwise.
link_state() # NODE LINK
{
    local s
    s=$(lab_exec "$1" corosync-cfgtool -s 2>/dev/null) || return 1
    awk -v l="$2" '/^LINK ID/ { on = ($3 == l) } on && /nodeid/ && !/localhost/ {
            if (/disconnected/) d++; else if (/connected/) c++ }
        END { print (c == 2 && !d) ? "up" : (d == 2 && !c) ? "down" : "mixed" }' <<<"$s"
}

links_are() # NODE STATE0 STATE1
{
    [[ $(link_state "$1" 0) == "$2" && $(link_state "$1" 1) == "$3" ]]
}

all_three() # every node sees 3 nodes online with quorum
{
    local k
    for k in 1 2 3; do
        cf_sees "node$k" 3 1 || return 1
    done
}

cf_cluster_with_vm "$DOM"
NODE=$(cf_where "$RSC")
[[ -n $NODE ]] || exit 1
cf_sampler_start
t_expect_out 0 "^$NODE\$" "$DOM's QEMU runs on $NODE only" cf_qemu_nodes "$DOM"
if t_wait_for 30 links_are "$NODE" up up; then t_pass "$NODE: knet links 0 and 1 up"; else
    t_fail "$NODE: knet links 0 and 1 up ($(lab_exec "$NODE" corosync-cfgtool -s 2>&1))"
fi
KEY=$("$DROVER" key "$(lab__cluster_name)" "$NODE")
OTHER=node1
[[ $NODE != node1 ]] || OTHER=node2
declare -A T_DOWN T_UP

for net in hb cli; do
    [[ $net == hb ]] && { l=0 want0=down want1=up; } || { l=1 want0=up want1=down; }
    t_log "$RSC runs on $NODE: cutting its $net network (knet link $l) for $HOLD_S s"
    T0=$(t_ms)
    t_expect_rc 0 "lab_link_cut $NODE $net" lab_link_cut "$NODE" "$net"
    if t_wait_for 30 links_are "$NODE" "$want0" "$want1"; then
        T_DOWN[$net]=$(($(t_ms) - T0))
        t_pass "corosync-cfgtool -s on $NODE: link 0 $want0, link 1 $want1 (${T_DOWN[$net]} ms)"
    else
        t_fail "corosync-cfgtool -s on $NODE: link 0 $want0, link 1 $want1"
        lab_exec "$NODE" corosync-cfgtool -s
    fi
    lost=
    while (($(t_ms) < T0 + HOLD_S * 1000)); do
        all_three || lost+="$(($(t_ms) - T0)) ms: $(for k in 1 2 3; do lab_cluster_state $k; done | tr '\n' ';') "
        sleep 1
    done
    [[ -z $lost ]] && t_pass "every node saw 3 nodes online with quorum for $HOLD_S s" ||
        t_fail "membership changed: $lost"
    t_expect_out 0 "^$NODE\$" "$RSC still runs on $NODE" cf_where "$RSC" "$OTHER"
    t_expect_out 0 "^$NODE\$" "its QEMU runs on $NODE only" cf_qemu_nodes "$DOM"
    t_expect_out 0 "^$KEY\$" "$NODE's key stays on the LUN" eval "cf_lun_keys $OTHER | grep -x $KEY"
    t_expect_rc 0 "$NODE's droverd stays registered" cf_droverd_is "$NODE" registered
    for k in 1 2 3; do
        if cf_fenced_in_history "node$k" "$NODE"; then
            t_fail "node$k's fencer has a fencing of $NODE"
            lab_exec "node$k" stonith_admin --history "$NODE" --verbose
        else
            t_pass "node$k's fencer: no reboot/off of $NODE"
        fi
    done
    t_expect_out 1 "" "no fencing of anyone in the history" \
        eval "lab_exec $OTHER stonith_admin --history '*' --verbose | grep -E '^(reboot|off) of '"
    T1=$(t_ms)
    t_expect_rc 0 "lab_link_heal $NODE $net" lab_link_heal "$NODE" "$net"
    if t_wait_for 30 links_are "$NODE" up up; then
        T_UP[$net]=$(($(t_ms) - T1))
        t_pass "$NODE: link $l up again (${T_UP[$net]} ms after the heal)"
    else
        t_fail "$NODE: link $l up again"
        lab_exec "$NODE" corosync-cfgtool -s
    fi
done
t_expect_rc 0 "3 nodes online with quorum" all_three
t_expect_out 0 "^$NODE\$" "$RSC ran on $NODE throughout" \
    eval "awk '{ sub(/^[^=]*=/, \"\", \$2); print \$2 }' $CF_SAMPLES | sort -u"
cf_sampler_check
t_log "times (ms): hb cut -> link 0 down ${T_DOWN[hb]:-?}, heal -> up ${T_UP[hb]:-?};" \
    "cli cut -> link 1 down ${T_DOWN[cli]:-?}, heal -> up ${T_UP[cli]:-?}"
t_summary
