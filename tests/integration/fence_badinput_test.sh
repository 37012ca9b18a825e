#!/bin/bash
# Bad input to fence_drover and drover against a real target: every case gets a message that
# names the problem and the right exit code, within its timeout; nothing succeeds that did not.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$DR_SOURCE_DIR/tests/lab/lab.sh"
t_require tgtd tgtadm nsenter

trap 'lab_down' EXIT
LAB_NODES=1 lab_up >/dev/null || { echo "FATAL: lab_up failed"; exit 1; }
URL=$(lab_lun_url fence) || exit 1
BASE=${URL%/1}
COMMON="local_node=node1
cluster_name=drbad
use_daemon=no
timeout_ms=1500"

fin() # stdin text for fence_drover, run in node1
{
    printf '%s\n' "$1" | lab_exec node1 "$FENCE"
}

t_expect_out 1 "unknown action 'explode'" "unknown action" fin "action=explode"
t_expect_out 1 "no action given" "no action" fin "plug=node2"
t_expect_out 1 "line 2: expected key=value" "a line without '='" fin $'action=off\ngarbage'
t_expect_out 1 "'devices' is required" "missing devices" fin $'action=off\nplug=node2\n'"$COMMON"
t_expect_out 1 "needs plug" "off without plug" fin $'action=off\n'"devices=$URL"$'\n'"$COMMON"
t_expect_out 1 "not iscsi://" "malformed iSCSI URL" fin $'action=status\nplug=node2\ndevices=iscsi://198.18.3.10'
t_expect_out 1 "LUN 'x' is not a number" "non-numeric LUN" fin $'action=status\nplug=node2\ndevices='"$BASE/x"
t_expect_out 1 "neither an absolute device path" "relative device path" fin $'action=status\nplug=n2\ndevices=sdb'
t_expect_out 1 "must be a number 100..600000" "bad timeout" fin $'action=status\nplug=node2\ntimeout_ms=-5'
t_expect_out 1 "not one of we, ea, wero" "bad reservation type" fin $'action=off\nreservation_type=9'
t_expect_out 1 "is not an iSCSI name" "bad initiator IQN" fin $'action=off\ninitiators=node1=bogus'
t_expect_out 1 "not a valid node name" "bad node name" fin $'action=off\nplug=a,b'
t_expect_out 1 "NUL byte" "NUL byte in the input" sh -c "printf 'action=off\0\n' | $(declare -f lab_exec >/dev/null; echo ip netns exec "$LAB_PREFIX-n1") $FENCE"
t_expect_out 1 "nodename 'node3' and plug 'node2' differ" "nodename and plug naming different nodes" \
    fin $'action=off\nplug=node2\nnodename=node3\n'"devices=$URL"$'\n'"$COMMON"
t_expect_out 1 "plug 'node2' is not this node 'node1'" "on for another node" \
    fin $'action=on\nplug=node2\n'"devices=$URL"$'\n'"$COMMON"
t_expect_out 1 "cluster_name not given" "no cluster name and no corosync.conf" \
    fin $'action=status\nplug=node2\nlocal_node=node1\ncorosync_conf=/nonexistent\n'"devices=$URL"
t_expect_out 1 "unknown option '--explode'" "unknown command-line option" lab_exec node1 "$FENCE" --explode
t_expect_out 0 "ignoring unknown parameter 'pcmk_extra'" "an unknown stdin parameter is named and ignored" \
    fin $'action=monitor\npcmk_extra=1\n'"devices=$URL"$'\n'"$COMMON"
t_expect_rc 0 "validate-all accepts good parameters" fin $'action=validate-all\n'"devices=$URL"$'\n'"$COMMON"
t_expect_out 2 "Status: OFF" "command-line form (-o status -n ...) works, exit 2 for off" lab_exec node1 "$FENCE" \
    -o status -n node2 --devices="$URL" --cluster-name=drbad --local-node=node1 --use-daemon=no

# Devices that do not work: each is named, with its reason, and fails within its timeout.
dev_case() # WANT_ERE DESC DEVICE
{
    local t0 el
    t0=$(t_ms)
    t_expect_out 1 "$1" "$2" fin $'action=status\nplug=node2\n'"devices=$3"$'\n'"$COMMON"
    el=$(($(t_ms) - t0))
    ((el < 3500)) || t_fail "$2: took $el ms with timeout_ms=1500"
}
dev_case "Connection refused" "portal port closed" "iscsi://198.18.3.10:3261/iqn.x:y/1"
dev_case "did not answer in time|No route|unreachable" "unreachable portal" "iscsi://198.18.3.99/iqn.x:y/1"
dev_case "Target not found" "wrong target IQN" "${BASE%:fence}:nosuch/1"
dev_case "no such LUN" "LUN that is not there" "$BASE/7"
dev_case "does not support SCSI-3 persistent reservations" "a LU without PR support (tgtd's LUN 0)" "$BASE/0"
dev_case "not a SCSI device" "a path that is not a SCSI device" "/dev/null"
dev_case "No such file" "a path that does not exist" "/dev/drover-nonexistent"
# A target that admits one initiator only: any other initiator name is refused at login.
ACL_URL=$(lab_lun_add acl 8) || exit 1
ACL_TID=$(awk '$2 == "acl" {print $1}' "$LAB_DIR/storage/luns")
lab__tgtadm --lld iscsi --op unbind --mode target --tid "$ACL_TID" -I ALL &&
    lab__tgtadm --lld iscsi --op bind --mode target --tid "$ACL_TID" -Q iqn.2026-11.org.drover:node9
t_expect_out 1 "login to .* refused" "an initiator name the target does not admit" \
    fin $'action=status\nplug=node2\n'"devices=$ACL_URL"$'\n'"$COMMON"
t_expect_out 2 "Status: OFF" "the admitted initiator name (initiators=node1=...) logs in" \
    fin $'action=status\nplug=node2\ninitiators=node1=iqn.2026-11.org.drover:node9\n'"devices=$ACL_URL"$'\n'"$COMMON"

# The admin's command: usage errors exit 2, unknown commands too, the conflict code is 3.
t_expect_out 2 "unknown command 'explode'" "drover: unknown command" "$DROVER" explode
t_expect_out 2 "unknown action 'bogus'" "drover pr: unknown action" lab_exec node1 "$DROVER" pr "$URL" bogus
t_expect_out 2 "register takes 2 arguments" "drover pr: missing arguments" lab_exec node1 "$DROVER" pr "$URL" register 1
t_expect_out 2 "--timeout-ms needs" "drover: bad timeout" "$DROVER" pr --timeout-ms x "$URL" read-keys
t_expect_out 4 "droverd not reachable" "drover status with no droverd exits 4" lab_exec node1 "$DROVER" status

t_summary
