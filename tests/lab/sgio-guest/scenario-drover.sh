#!/bin/sh
# shellcheck shell=dash
# The SG_IO half of the fencing integration test, run inside the guest by /init.
#
# Nodes A, B and C are the three I_T nexuses $DR_DEV_node1..3 (one LUN, three initiator
# names); each node's commands go to its own /dev/sdX. There is no droverd here: fence_drover
# works on the SG_IO devices alone. Registrations belong to the kernel's iSCSI session, that is
# to each /dev/sdX. tgtd has no PREEMPT AND ABORT, so fence_drover must fall back on PREEMPT.
PLAN=66
echo "@@PLAN $PLAN"
. /lib/guest-lib.sh
CLUSTER=lab
A=$DR_DEV_node1 B=$DR_DEV_node2 C=$DR_DEV_node3
URL=iscsi://$DR_PORTAL/$DR_IQN/1

# out_keys: the keys in the last command's stdout, sorted, on one line.
out_keys() {
    printf '%s\n' "$OUT" | grep -E '^0x[0-9a-f]{16}$' | sort | tr '\n' ' '
}

# expect_keys DEV DESC KEY...: "drover pr DEV read-keys" succeeds, prints generation=N, and
# lists exactly KEY... (any order). Sets GEN.
expect_keys() {
    local dev=$1 desc=$2 got want
    shift 2
    run drover pr "$dev" read-keys
    GEN=$(printf '%s\n' "$OUT" | sed -n 's/^generation=\([0-9][0-9]*\)$/\1/p')
    got=$(out_keys)
    want=$(sorted_words "$@" | tr '\n' ' ')
    if [ "$RC" = 0 ] && [ -n "$GEN" ] && [ "$got" = "$want" ]; then
        pass "$desc"
    else
        fail "$desc (rc=$RC, generation='$GEN', keys '$got', wanted '$want')"
    fi
}

# expect_reservation DEV DESC HOLDER-KEY|none: the reservation DEV reads back.
expect_reservation() {
    run drover pr "$1" read-reservation
    if [ "$3" = none ]; then
        [ "$RC" = 0 ] && [ "$OUT" = none ] && pass "$2" && return
    elif [ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -Eq "^reserved key=$3 type=WERO( |$)"; then
        pass "$2"
        return
    fi
    fail "$2 (rc=$RC, wanted $3 type WERO)"
}

# fence ARG...: fence_drover with key=value lines on stdin, as Pacemaker's fencer runs it.
fence() {
    STDIN=$(printf '%s\n' "cluster_name=$CLUSTER" "$@")
    STDIN="$STDIN
"
    run fence_drover
    STDIN=
}

distinct3() { [ "$1" != "$2" ] && [ "$2" != "$3" ] && [ "$1" != "$3" ]; }
is_key() { printf '%s\n' "$1" | grep -Eq '^0x[0-9a-f]{16}$'; }

echo "== keys and an empty LUN"
expect_true "three distinct nexus devices ($A $B $C)" distinct3 "$A" "$B" "$C"
for n in node1 node2 node3; do
    run drover key "$CLUSTER" "$n"
    if [ "$RC" = 0 ] && is_key "$OUT"; then
        eval "KEY_$n=\$OUT"
        pass "drover key $CLUSTER $n prints $OUT"
    else
        fail "drover key $CLUSTER $n (rc=$RC, wanted 0 and a 0x%016x key)"
    fi
done
KA=${KEY_node1:-} KB=${KEY_node2:-} KC=${KEY_node3:-}
run drover key "$CLUSTER" node1
if [ -n "$KA" ] && [ "$OUT" = "$KA" ] && distinct3 "$KA" "$KB" "$KC"; then
    pass "the keys are distinct and stable"
else
    fail "the keys are distinct and stable ($KA $KB $KC, node1 again: $OUT)"
fi
expect_keys "$A" "A reads no keys on the fresh LUN"
expect_reservation "$A" "A reads no reservation on the fresh LUN" none
expect_rc 0 "A reads the PR capabilities" drover pr "$A" caps
expect_out "caps list WERO among the types" ' WERO( |$)'

echo "== A, B and C register; A reserves WERO"
expect_rc 0 "A registers its key" drover pr "$A" register 0 "$KA"
expect_rc 0 "B registers its key (register-ignore)" drover pr "$B" register-ignore "$KB"
expect_rc 0 "A reserves WERO" drover pr "$A" reserve "$KA" wero
expect_reservation "$B" "B sees A's WERO reservation" "$KA"
expect_rc 3 "C, unregistered, gets RESERVATION CONFLICT on probe-write" drover pr "$C" probe-write
expect_rc 0 "C registers its key" drover pr "$C" register 0 "$KC"
expect_keys "$C" "C reads exactly A's, B's and C's keys" "$KA" "$KB" "$KC"
GEN_BEFORE=$GEN
expect_rc 0 "C's probe-write succeeds while registered" drover pr "$C" probe-write

echo "== A fences C with fence_drover off (stdin, as Pacemaker runs it)"
fence action=off plug=node3 nodename=node1 "devices=$A"
case $RC in
0) pass "fence_drover off node3 from A (rc=0)" ;;
*) fail "fence_drover off node3 from A (rc=$RC, wanted 0)" ;;
esac
expect_err "fence_drover says the target rejects PREEMPT AND ABORT" 'PREEMPT AND ABORT'
expect_err "fence_drover says it falls back on PREEMPT" 'fall(s|ing)? ?back|with PREEMPT'
expect_keys "$A" "keys after the fence: exactly A's and B's" "$KA" "$KB"
expect_true "the PR generation advanced ($GEN_BEFORE -> $GEN)" \
    [ "${GEN:-0}" -gt "${GEN_BEFORE:-0}" ]
expect_rc 3 "C's probe-write gets RESERVATION CONFLICT" drover pr "$C" probe-write
expect_rc 1 "C's direct write through the kernel block layer fails" \
    dd if=/dev/zero of="$C" bs=512 count=1 seek=16 oflag=direct
expect_rc 0 "A's probe-write succeeds" drover pr "$A" probe-write
expect_rc 0 "B's probe-write succeeds" drover pr "$B" probe-write
expect_reservation "$B" "A still holds WERO" "$KA"
fence action=status plug=node3 nodename=node1 "devices=$A"
expect_true "fence_drover status node3 reports off (rc=$RC, wanted 2)" [ "$RC" = 2 ]
fence action=status plug=node2 nodename=node1 "devices=$A"
expect_true "fence_drover status node2 reports on (rc=$RC, wanted 0)" [ "$RC" = 0 ]
fence action=off plug=node1 nodename=node1 "devices=$A"
expect_true "fence_drover refuses to fence its own node (rc=$RC, wanted 1)" [ "$RC" = 1 ]
expect_keys "$A" "the refused self-fence left A's and B's keys" "$KA" "$KB"

echo "== C comes back: fence_drover on, run as C"
fence action=on plug=node3 nodename=node3 "devices=$C"
expect_true "fence_drover on node3 as node3 (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_keys "$B" "keys after on: A's, B's and C's" "$KA" "$KB" "$KC"
expect_reservation "$C" "on did not take over A's reservation" "$KA"
expect_rc 0 "C's probe-write succeeds again" drover pr "$C" probe-write
fence action=status plug=node3 nodename=node1 "devices=$A"
expect_true "fence_drover status node3 reports on (rc=$RC, wanted 0)" [ "$RC" = 0 ]

echo "== PREEMPT AND ABORT is not there; the command line form fences from B"
expect_rc 1 "drover pr preempt-abort fails: tgtd rejects PREEMPT AND ABORT" \
    drover pr "$A" preempt-abort "$KA" "$KC" wero
expect_err "the failure says the device does not support it" 'not supported'
expect_keys "$A" "the rejected PREEMPT AND ABORT removed no key" "$KA" "$KB" "$KC"
run fence_drover -o off -n node3 "--devices=$B" "--cluster-name=$CLUSTER" --nodename=node2
expect_true "fence_drover -o off -n node3 from B (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_err "it falls back on PREEMPT again" 'PREEMPT AND ABORT'
expect_keys "$B" "keys after B's fence: exactly A's and B's" "$KA" "$KB"
expect_rc 3 "C's probe-write gets RESERVATION CONFLICT again" drover pr "$C" probe-write
run fence_drover -o status -n node3 "--devices=$B" "--cluster-name=$CLUSTER" --nodename=node2
expect_true "fence_drover -o status -n node3 reports off (rc=$RC, wanted 2)" [ "$RC" = 2 ]
expect_rc 0 "the libiscsi transport reads the same keys ($URL)" \
    drover pr "$URL" read-keys --initiator "${DR_IQN_PREFIX}node4"
if [ "$(out_keys)" = "$(sorted_words "$KA" "$KB" | tr '\n' ' ')" ]; then
    pass "the iscsi:// keys equal the SG_IO keys"
else
    fail "the iscsi:// keys equal the SG_IO keys (got '$(out_keys)')"
fi

echo "== clear, then fence_drover on reserves an unreserved LUN"
expect_rc 0 "A clears all registrations" drover pr "$A" clear "$KA"
expect_keys "$B" "no keys after CLEAR"
expect_reservation "$B" "no reservation after CLEAR" none
fence action=on plug=node1 nodename=node1 "devices=$A"
expect_true "fence_drover on node1 as node1 (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_reservation "$B" "on reserved WERO for A" "$KA"
expect_keys "$B" "only A's key is registered" "$KA"
expect_rc 0 "A clears again" drover pr "$A" clear "$KA"

echo "== agent plumbing and bad input"
run fence_drover -o metadata
expect_true "fence_drover metadata (rc=$RC)" [ "$RC" = 0 ]
expect_out "metadata is a resource-agent description" '<resource-agent'
fence action=validate-all plug=node3 nodename=node1 "devices=$A"
expect_true "fence_drover validate-all with good arguments (rc=$RC, wanted 0)" [ "$RC" = 0 ]
run fence_drover -o off -n node3 "--cluster-name=$CLUSTER" --nodename=node1
expect_true "fence_drover off without devices fails (rc=$RC, wanted 1)" [ "$RC" = 1 ]
expect_rc 2 "drover pr with an unknown action is a usage error" drover pr "$A" frobnicate
expect_rc 2 "drover pr reserve with a bad type is a usage error" drover pr "$A" reserve "$KA" bogus
expect_err "it names the bad type" 'bogus'
dd if=/dev/zero of=/tmp/loop.img bs=1024 count=1024 2>/dev/null
losetup /dev/loop0 /tmp/loop.img || echo "@@ERR losetup /dev/loop0"
expect_rc "1|2" "drover pr /dev/loop0 read-keys fails cleanly" drover pr /dev/loop0 read-keys
expect_err "it names the problem on stderr" 'drover.*(loop0|SCSI|support|ioctl|invalid)'
expect_rc "1|2" "drover pr on a regular file fails cleanly" drover pr /tmp/loop.img read-keys
expect_err "it names the problem on stderr" 'drover.*(loop\.img|SCSI|support|device|invalid)'
expect_rc "1|2" "drover pr on a missing device fails cleanly" drover pr /dev/sdz read-keys
expect_err "it names the missing device" 'sdz|No such'
summary
