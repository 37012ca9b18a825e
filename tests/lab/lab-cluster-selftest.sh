#!/bin/bash
# lab-cluster-selftest.sh - the lab's cluster (LAB_CLUSTER=1) end to end, with real corosync,
# Pacemaker, droverd, fence_drover and tgtd: 3 nodes come up with quorum over both knet links
# (crypto on); configs/cib/drover.pcs.sh is applied and Pacemaker unfences every node (each
# droverd registered, each key on the fence LUN); a Dummy resource runs; a node that runs
# nothing is killed (power cut) and the survivors fence it through fence_drover (its key leaves
# the LUN, the others stay, the fencer's history names a survivor), the Dummy stays where it
# is; the node boots again, is unfenced and rejoins; lab_down leaves no process, namespace or
# state behind. Prints the measured times. Runs as root; DR_BUILD_DIR must hold a build.
# Exit 0 = pass, 1 = fail, 77 = skipped (never under CI=true).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
source "$HERE/../integration/lib.sh" # t_pass, t_fail, t_summary, DROVER from DR_BUILD_DIR

say() { t_log "cluster-selftest: $*"; }

check() # DESCRIPTION CMD...
{
    local what=$1
    shift
    if "$@"; then t_pass "$what"; else t_fail "$what"; fi
}

if [[ $EUID != 0 ]]; then
    [[ ${CI:-} != true ]] || { say "FAIL needs root (CI=true)"; exit 1; }
    say "SKIP needs root"
    exit 77
fi
export LAB_CLUSTER=1 DR_BUILD_DIR
# shellcheck source=lab.sh
source "$HERE/lab.sh"
lab_deps || t_require corosync pacemakerd pcs crm # names what is missing, skips or fails
lab__cluster_check || exit 1 # tools and the build (DR_BUILD_DIR)
B=$(lab__build_dir)
OBSERVER=$LAB_IQN_BASE:observer # an initiator of its own, never one of droverd's
ms() { lab__ms; }

cleanup()
{
    local rc=$?
    trap - EXIT
    lab_down >/dev/null 2>&1 || true
    exit $rc
}
trap cleanup EXIT

# ------------------------------------------------------------------------------ checks

all_see_quorum() # every running node sees 3 nodes online with quorum and a DC
{
    local k on q dc
    for k in 1 2 3; do
        read -r on q dc <<<"$(lab_cluster_state "$k")"
        [[ $on == 3 && $q == 1 && $dc != - ]] || return 1
    done
}

both_links_connected() # NODE: corosync there reaches the 2 others on knet links 0 and 1
{
    local s
    s=$(lab_exec "$1" corosync-cfgtool -s) || return 1
    [[ $(grep -c 'LINK ID [01]' <<<"$s") == 2 && $(grep -c ':[[:space:]]*connected' <<<"$s") == 4 ]]
}

crypto_on() # NODE
{
    [[ $(lab_exec "$1" corosync-cmapctl -g totem.crypto_cipher) == *'= aes256' &&
        $(lab_exec "$1" corosync-cmapctl -g totem.crypto_hash) == *'= sha256' ]]
}

droverd_state() # NODE -> droverd's state there
{
    lab_exec "$1" "$DROVER" status 2>/dev/null | sed -n '1s/.* state=\([^ ]*\).*/\1/p'
}

droverd_registered() # NODE
{
    [[ $(droverd_state "$1") == registered ]]
}

lun_keys() # the keys registered on the fence LUN, read from NODE
{
    lab_exec "$1" "$DROVER" keys --initiator "$OBSERVER" "$FENCE_URL" 2>/dev/null |
        grep -E '^0x[0-9a-f]{16}$'
}

key_of() # NODE
{
    "$DROVER" key "$(lab__cluster_name)" "$1"
}

key_listed() # READER NODE
{
    lun_keys "$1" | grep -qx "$(key_of "$2")"
}

key_gone() # READER NODE
{
    local keys
    keys=$(lun_keys "$1") && [[ -n $keys ]] && ! grep -qx "$(key_of "$2")" <<<"$keys"
}

all_keys_listed() # READER
{
    key_listed "$1" node1 && key_listed "$1" node2 && key_listed "$1" node3
}

cib_option_is() # NAME VALUE
{
    [[ $(lab_exec 1 crm_attribute -t crm_config -G -n "$1" -q 2>/dev/null) == "$2" ]]
}

fence_device_provides_unfencing()
{
    lab_exec 1 crm_resource -r drover-fence -m -g provides 2>/dev/null | grep -qx unfencing
}

history_has() # NODE ERE: the fencer's history (as NODE sees it) has a matching line
{
    lab_exec "$1" stonith_admin --history '*' --verbose 2>/dev/null | grep -Eq "$2"
}

where() # RESOURCE -> the node it runs on
{
    lab_exec "$(lab__cluster_node)" crm_resource --locate -r "$1" -Q 2>/dev/null | head -n 1
}

dummy_runs()
{
    [[ -n $(where dummy) ]]
}

sees_online() # NODE COUNT: NODE sees COUNT nodes online, with quorum
{
    local on q dc
    read -r on q dc <<<"$(lab_cluster_state "$1")"
    [[ $on == "$2" && $q == 1 ]]
}

# ------------------------------------------------------------------------------ the test

T0=$(ms)
check "LAB_CLUSTER=1 lab_up: 3 nodes, storage, droverd + corosync + Pacemaker on each" lab_up
T_UP=$(($(ms) - T0))
T_QUORUM=${LAB_CLUSTER_UP_MS:-?}
[[ $T_FAIL == 0 ]] || exit 1
FENCE_URL=$(lab_lun_url fence)

check "every node sees 3 nodes online, quorum, a DC" all_see_quorum
for k in 1 2 3; do
    check "node$k: corosync reaches both peers on knet links 0 (hb) and 1 (cli)" \
        lab__wait_for 15 both_links_connected "$k"
done
check "corosync runs with aes256/sha256" crypto_on 1
check "Pacemaker's node names are the hosts' names" \
    test "$(lab_exec 2 crm_node -n)" == node2
check "fence_drover and ocf:drover:vm come from the build (overlays in the nodes)" \
    test "$(lab_exec 1 readlink -f /usr/sbin/fence_drover)" == "$(readlink -f "$B/stonith/fence_drover")" -a \
    "$(lab_exec 3 readlink -f /usr/lib/ocf/resource.d/drover/vm)" == "$(readlink -f "$B/agents/vm")"
check "the host has neither" test ! -e /usr/lib/ocf/resource.d/drover/vm -a \
    "$(readlink -f /usr/sbin/fence_drover 2>/dev/null)" != "$(readlink -f "$B/stonith/fence_drover")"

T1=$(ms)
check "configs/cib/drover.pcs.sh applies (lab_cib_pcs)" lab_cib_pcs
check "CIB: stonith-enabled=true" cib_option_is stonith-enabled true
check "CIB: no-quorum-policy=stop" cib_option_is no-quorum-policy stop
check "CIB: placement-strategy=utilization" cib_option_is placement-strategy utilization
check "CIB: migration-limit=2" cib_option_is migration-limit 2
check "CIB: the fence device provides unfencing" fence_device_provides_unfencing
check "CIB: node utilization" test -n "$(lab_exec 1 crm_attribute -t nodes -N node2 -z -n hv_memory -G -q 2>/dev/null)"
for k in 1 2 3; do
    check "node$k unfenced: its droverd is registered" lab__wait_for 60 droverd_registered "$k"
done
T_UNFENCE=$(($(ms) - T1))
check "every node's key is on the fence LUN" all_keys_listed 1
check "the fencer's history has the unfencing of node2 and node3" \
    eval 'history_has 1 "unfencing of node2 successful" && history_has 1 "unfencing of node3 successful"'

check "a Dummy resource starts" lab_exec 1 pcs resource create dummy ocf:pacemaker:Dummy \
    op monitor interval=5s
check "the Dummy runs" lab__wait_for 30 dummy_runs
DUMMY_AT=$(where dummy)
FENCE_AT=$(where drover-fence)
VICTIM=
for k in 3 2 1; do
    if [[ node$k != "$DUMMY_AT" && node$k != "$FENCE_AT" ]]; then
        VICTIM=node$k
        break
    fi
done
[[ -n $VICTIM ]] || VICTIM=node3 # both resources on one node: any other is idle
[[ $VICTIM != "$DUMMY_AT" ]] || VICTIM=node1
SURVIVOR=$DUMMY_AT
say "Dummy on $DUMMY_AT, drover-fence on $FENCE_AT: killing $VICTIM"

T2=$(ms)
check "lab_node_kill $VICTIM (SIGKILL of its init)" lab_node_kill "$VICTIM"
check "$SURVIVOR sees 2 nodes online, with quorum" lab__wait_for 60 sees_online "$SURVIVOR" 2
T_MEMBERSHIP=$(($(ms) - T2))
check "the survivors fence $VICTIM: its key leaves the LUN" lab__wait_for 60 key_gone "$SURVIVOR" "$VICTIM"
T_FENCE=$(($(ms) - T2))
check "the survivors' keys stay" eval 'for n in node1 node2 node3; do
    [[ $n == "$VICTIM" ]] || key_listed "$SURVIVOR" "$n" || exit 1; done'
check "the fencer's history: $VICTIM fenced by a survivor" \
    lab__wait_for 10 history_has "$SURVIVOR" "(reboot|off) of $VICTIM successful: delegate=node[0-9]"
check "... and not by itself" eval "! history_has $SURVIVOR '(reboot|off) of $VICTIM successful: delegate=$VICTIM,'"
check "the Dummy did not move" test "$(where dummy)" == "$DUMMY_AT"

T3=$(ms)
check "lab_node_start $VICTIM" lab_node_start "$VICTIM"
check "3 nodes online with quorum again" lab_cluster_wait 3 60
T_REJOIN=$(($(ms) - T3))
check "$VICTIM is unfenced again: its droverd is registered" lab__wait_for 60 droverd_registered "$VICTIM"
T_REUNFENCE=$(($(ms) - T3))
check "$VICTIM's key is back on the LUN" key_listed "$SURVIVOR" "$VICTIM"
check "the unfencing is in the history twice" \
    test "$(lab_exec 1 stonith_admin --history "$VICTIM" --verbose 2>/dev/null |
        grep -c "unfencing of $VICTIM successful")" -ge 2
check "the Dummy stays on $DUMMY_AT (stickiness)" test "$(where dummy)" == "$DUMMY_AT"

# ------------------------------------------------------------------------------ down
PIDS=$(lab_pids | awk '{print $2}')
T4=$(ms)
check "lab_down" lab_down
T_DOWN=$(($(ms) - T4))
alive=
for p in $PIDS; do
    [[ ! -d /proc/$p ]] || alive+=" $p"
done
check "no recorded process is left (${alive:-none})" test -z "$alive"
check "no namespace of the lab is left" test -z "$(lab__netns_list)"
check "its state dir is gone" test ! -e "$LAB_DIR"

say "times (ms): up $T_UP (cluster stacks to 3 online with quorum $T_QUORUM)," \
    "CIB + unfencing $T_UNFENCE, kill -> membership $T_MEMBERSHIP, kill -> key gone $T_FENCE," \
    "start -> rejoined $T_REJOIN, start -> unfenced $T_REUNFENCE, down $T_DOWN" \
    "(token ${LAB_TOKEN_MS:-3000} ms)"
t_summary
