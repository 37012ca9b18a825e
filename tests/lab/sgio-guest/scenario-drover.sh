#!/bin/sh
# shellcheck shell=dash
# The SG_IO half of the fencing integration test, run inside the guest by /init.
#
# Nodes A, B and C are the three I_T nexuses $DR_DEV_node1..3 (one LUN, three initiator
# names); each node's commands go to its own /dev/sdX. Registrations belong to the kernel's
# iSCSI session, that is to each /dev/sdX, not to a process. tgtd has no PREEMPT AND ABORT, so
# fencing must fall back on PREEMPT. The first phases run fence_drover on the SG_IO devices
# alone; the last one runs a droverd per node (--no-libvirt: the guest has no libvirt; stopping
# VMs is the host integration test's part) and fences C through A's droverd.
PLAN=104
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
fence action=off plug=node3 nodename=node3 local_node=node1 "devices=$A"
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
fence action=status plug=node3 local_node=node1 "devices=$A"
expect_true "fence_drover status node3 reports off (rc=$RC, wanted 2)" [ "$RC" = 2 ]
fence action=status plug=node2 local_node=node1 "devices=$A"
expect_true "fence_drover status node2 reports on (rc=$RC, wanted 0)" [ "$RC" = 0 ]
fence action=off plug=node1 local_node=node1 "devices=$A"
expect_true "fence_drover refuses to fence its own node (rc=$RC, wanted 1)" [ "$RC" = 1 ]
expect_keys "$A" "the refused self-fence left A's and B's keys" "$KA" "$KB"

echo "== C comes back: fence_drover on, run as C"
fence action=on plug=node3 local_node=node3 "devices=$C"
expect_true "fence_drover on node3 as node3 (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_keys "$B" "keys after on: A's, B's and C's" "$KA" "$KB" "$KC"
expect_reservation "$C" "on did not take over A's reservation" "$KA"
expect_rc 0 "C's probe-write succeeds again" drover pr "$C" probe-write
fence action=status plug=node3 local_node=node1 "devices=$A"
expect_true "fence_drover status node3 reports on (rc=$RC, wanted 0)" [ "$RC" = 0 ]

echo "== PREEMPT AND ABORT is not there; the command line form fences from B"
expect_rc 1 "drover pr preempt-abort fails: tgtd rejects PREEMPT AND ABORT" \
    drover pr "$A" preempt-abort "$KA" "$KC" wero
expect_err "the failure says the device does not support it" 'not supported'
expect_keys "$A" "the rejected PREEMPT AND ABORT removed no key" "$KA" "$KB" "$KC"
run fence_drover -o off -n node3 "--devices=$B" "--cluster-name=$CLUSTER" --local-node=node2
expect_true "fence_drover -o off -n node3 from B (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_err "it falls back on PREEMPT again" 'PREEMPT AND ABORT'
expect_keys "$B" "keys after B's fence: exactly A's and B's" "$KA" "$KB"
expect_rc 3 "C's probe-write gets RESERVATION CONFLICT again" drover pr "$C" probe-write
run fence_drover -o status -n node3 "--devices=$B" "--cluster-name=$CLUSTER" --local-node=node2
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
fence action=on plug=node1 local_node=node1 "devices=$A"
expect_true "fence_drover on node1 as node1 (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_reservation "$B" "on reserved WERO for A" "$KA"
expect_keys "$B" "only A's key is registered" "$KA"
expect_rc 0 "A clears again" drover pr "$A" clear "$KA"

echo "== agent plumbing and bad input"
run fence_drover -o metadata
expect_true "fence_drover metadata (rc=$RC)" [ "$RC" = 0 ]
expect_out "metadata is a resource-agent description" '<resource-agent'
fence action=validate-all plug=node3 local_node=node1 "devices=$A"
expect_true "fence_drover validate-all with good arguments (rc=$RC, wanted 0)" [ "$RC" = 0 ]
run fence_drover -o off -n node3 "--cluster-name=$CLUSTER" --local-node=node1
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

echo "== droverd: one daemon per node on the SG_IO devices"
# The LUN is empty again (A cleared it). A's droverd starts first, finds no key and registers
# as the first node; B's and C's find A's key and never had their own, so they wait for
# fence_drover on. Every fence_drover call names its node's droverd with ipc_name.
DPIDS=

# uptime_ms: the guest's uptime in ms, at the 10 ms resolution of /proc/uptime (busybox date
# has no %N). read is a builtin: no exec in the polling loops.
uptime_ms() {
    local u cs
    read -r u _ </proc/uptime
    cs=${u#*.}
    cs=${cs#0} # "05" is not octal here
    echo $((${u%.*} * 1000 + cs * 10))
}

# start_droverd NODE DEV: NODE's droverd on DEV, in the background; its pid in DPID_<NODE>.
start_droverd() {
    droverd --node "$1" --cluster "$CLUSTER" --devices "$2" --ipc-name "droverd-$1" \
        --no-libvirt --watch-interval-ms 100 --log-file "/tmp/droverd-$1.log" \
        >>"/tmp/droverd-$1.out" 2>&1 &
    eval "DPID_$1=$!"
    DPIDS="$DPIDS $!"
    echo "  droverd $1 on $2: pid $!"
}

# stop_droverds: SIGTERM every droverd still running, SIGKILL after 3 s. Sets STOP_RCS to
# "pid:rc ..." of those it stopped.
stop_droverds() {
    local p i
    STOP_RCS=
    for p in $DPIDS; do
        kill -0 "$p" 2>/dev/null || continue
        kill "$p"
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 150 ]; do
            sleep 0.02
            i=$((i + 1))
        done
        kill -9 "$p" 2>/dev/null
        wait "$p"
        STOP_RCS="$STOP_RCS $p:$?"
    done
    DPIDS=
}
# The guest powers off after the scenario, but a droverd must not outlive a failed one either.
trap stop_droverds EXIT

# dstate NODE: set DSTATE to the state NODE's droverd reports through drover status (down:RC
# when drover status fails) and DSTATUS to the whole output.
dstate() {
    local rc
    DSTATUS=$(drover status --ipc "droverd-$1" 2>&1)
    rc=$?
    if [ $rc != 0 ]; then
        DSTATE=down:$rc
        return
    fi
    DSTATE=$(printf '%s\n' "$DSTATUS" | sed -n 's/^node=.* state=\([a-z-]*\) .*$/\1/p')
}

# expect_state NODE STATE WITHIN_MS DESC: NODE's droverd reports STATE within WITHIN_MS.
expect_state() {
    local until=$(($(uptime_ms) + $3))
    while :; do
        dstate "$1"
        [ "$DSTATE" = "$2" ] && break
        [ "$(uptime_ms)" -lt "$until" ] || break
        sleep 0.05
    done
    printf '%s\n' "$DSTATUS" | sed 's/^/    | /'
    if [ "$DSTATE" = "$2" ]; then
        pass "$4"
    else
        fail "$4 (state '$DSTATE', wanted $2 within $3 ms)"
        tail -n 8 "/tmp/droverd-$1.log" 2>/dev/null | sed 's/^/    log| /'
    fi
}

# expect_log NODE DESC ERE: NODE's droverd log matches ERE.
expect_log() {
    if grep -Eq -- "$3" "/tmp/droverd-$1.log" 2>/dev/null; then
        pass "$2"
        grep -E -- "$3" "/tmp/droverd-$1.log" | tail -n 1 | sed 's/^/    log| /'
    else
        fail "$2 (/tmp/droverd-$1.log does not match /$3/)"
        tail -n 8 "/tmp/droverd-$1.log" 2>/dev/null | sed 's/^/    log| /'
    fi
}

pid_gone() { ! kill -0 "$1" 2>/dev/null; }
# all_exit_0 N "PID:RC ...": exactly N entries, each with RC 0.
all_exit_0() {
    [ "$(printf '%s\n' "$2" | wc -w)" = "$1" ] && ! printf '%s\n' "$2" | grep -Eq ':[1-9]'
}

# fence_drover_stamped: fence_drover, with the uptime at its start and exit in
# /tmp/fence-ms ("START EXIT").
fence_drover_stamped() {
    local rc t
    t=$(uptime_ms)
    fence_drover
    rc=$?
    echo "$t $(uptime_ms)" >/tmp/fence-ms
    return $rc
}

expect_keys "$A" "the LUN has no keys before droverd starts"
start_droverd node1 "$A"
expect_state node1 registered 5000 "A's droverd registers on the empty LUN as the first node"
expect_log node1 "A's droverd logs its registration" 'registered key '"$KA"
expect_reservation "$B" "A's droverd reserved WERO" "$KA"
start_droverd node2 "$B"
start_droverd node3 "$C"
expect_state node2 unfence-pending 5000 "B's droverd, never unfenced, waits: unfence-pending"
expect_state node3 unfence-pending 5000 "C's droverd, never unfenced, waits: unfence-pending"
expect_keys "$A" "only A's key is registered while B and C wait" "$KA"
for n in node2 node3; do
    fence action=on "plug=$n" "local_node=$n" "devices=$(eval "echo \$DR_DEV_$n")" \
        "ipc_name=droverd-$n"
    expect_true "fence_drover on $n through droverd-$n (rc=$RC, wanted 0)" [ "$RC" = 0 ]
    expect_err "it says $n was unfenced through droverd" "$n unfenced through droverd"
    expect_state "$n" registered 1000 "$n's droverd is registered after on"
done
expect_keys "$A" "keys with three droverds: A's, B's and C's" "$KA" "$KB" "$KC"
expect_rc 0 "C's probe through its droverd succeeds" drover probe --ipc droverd-node3 "$C"

echo "== A fences C through A's droverd; C's droverd sees its key vanish"
STDIN=$(printf '%s\n' "cluster_name=$CLUSTER" action=off plug=node3 local_node=node1 \
    "devices=$A" ipc_name=droverd-node1)
STDIN="$STDIN
"
run fence_drover_stamped
STDIN=
read -r T_FENCE_START T_FENCED _ </tmp/fence-ms
expect_true "fence_drover off node3 from A through droverd-node1 (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_err "fence_drover says it fenced through droverd" 'fenced .*through droverd'
# The bound is on droverd's own detection: from fence_drover's exit to the moment C's droverd
# logs the change, its log polled every 20 ms with grep (cheap). Then drover status must report
# fenced too, polled every 20 ms; each call takes 0.2-0.5 s in this guest, so that count says
# more about drover than droverd. Both counts are upper bounds (10 ms clock). The change can
# come before fence_drover has exited (C's droverd reads the keys every 100 ms; fence_drover
# verifies the fence after its PREEMPT): then the log count is the first poll's.
T_LOG=
T_SEEN=
while [ -n "$T_FENCED" ]; do
    if grep -q 'this node has been fenced' /tmp/droverd-node3.log; then
        T_LOG=$(uptime_ms)
        break
    fi
    [ $(($(uptime_ms) - T_FENCED)) -lt 3000 ] || break
    sleep 0.02
done
while [ -n "$T_FENCED" ]; do
    dstate node3
    if [ "$DSTATE" = fenced ]; then
        T_SEEN=$(uptime_ms)
        break
    fi
    [ $(($(uptime_ms) - T_FENCED)) -lt 3000 ] || break
    sleep 0.02
done
printf '%s\n' "$DSTATUS" | sed 's/^/    | /'
LOG_MS=none STATUS_MS=none
[ -z "$T_LOG" ] || LOG_MS=$((T_LOG - T_FENCED))
[ -z "$T_SEEN" ] || STATUS_MS=$((T_SEEN - T_FENCED))
echo "@@MEASURE fence-to-droverd-fenced log_ms=$LOG_MS status_ms=$STATUS_MS" \
    "fence_drover_ms=$((${T_FENCED:-0} - ${T_FENCE_START:-0}))"
if [ -n "$T_LOG" ] && [ "$LOG_MS" -lt 1000 ] && [ -n "$T_SEEN" ]; then
    pass "C's droverd turned fenced $LOG_MS ms after fence_drover exited (< 1000)" \
        "and drover status said state=fenced after $STATUS_MS ms"
else
    fail "C's droverd turns fenced within 1000 ms of fence_drover's exit and drover status" \
        "says so within 3000 ms (log $LOG_MS ms, status $STATUS_MS ms, last state '$DSTATE')"
fi
expect_log node3 "C's droverd logs that this node has been fenced" \
    "key $KC of node3 is gone: this node has been fenced"
expect_log node1 "A's droverd logs its fallback on PREEMPT" 'rejects PREEMPT AND ABORT'
expect_keys "$A" "keys after the fence through droverd: A's and B's" "$KA" "$KB"
expect_rc 3 "C's probe through its droverd gets RESERVATION CONFLICT" \
    drover probe --ipc droverd-node3 "$C"
expect_out "the probe says RESERVATION CONFLICT" 'RESERVATION CONFLICT'
expect_rc 0 "A's probe through its droverd succeeds" drover probe --ipc droverd-node1 "$A"
fence action=status plug=node3 local_node=node2 "devices=$B" ipc_name=droverd-node2
expect_true "fence_drover status node3 through B's droverd reports off (rc=$RC, wanted 2)" \
    [ "$RC" = 2 ]

echo "== C comes back through its droverd"
fence action=on plug=node3 local_node=node3 "devices=$C" ipc_name=droverd-node3
expect_true "fence_drover on node3 through droverd-node3 (rc=$RC, wanted 0)" [ "$RC" = 0 ]
expect_err "it says node3 was unfenced through droverd" 'node3 unfenced through droverd'
expect_state node3 registered 1000 "C's droverd is registered again"
expect_rc 0 "C's probe through its droverd succeeds again" drover probe --ipc droverd-node3 "$C"
expect_keys "$A" "keys after on: A's, B's and C's" "$KA" "$KB" "$KC"

echo "== B's droverd dies (SIGKILL) and starts again: the nexus kept its key"
# shellcheck disable=SC2154 # DPID_node2 is set by start_droverd's eval
B_PID=$DPID_node2
kill -9 "$B_PID"
wait "$B_PID"
expect_true "B's droverd (pid $B_PID) is gone after SIGKILL" pid_gone "$B_PID"
expect_keys "$A" "B's key is still registered without its droverd" "$KA" "$KB" "$KC"
start_droverd node2 "$B"
expect_state node2 registered 5000 "B's restarted droverd adopts its key: registered"
expect_rc 0 "B's probe through its restarted droverd succeeds" \
    drover probe --ipc droverd-node2 "$B"
expect_keys "$A" "still exactly A's, B's and C's keys" "$KA" "$KB" "$KC"

echo "== stop the droverds"
stop_droverds
echo "  stopped (pid:rc):$STOP_RCS"
for n in node1 node2 node3; do
    sed "s/^/    droverd-$n.log| /" "/tmp/droverd-$n.log"
done
expect_true "the three droverds stop on SIGTERM with exit 0 ($STOP_RCS)" all_exit_0 3 "$STOP_RCS"
expect_keys "$A" "the registrations outlive the droverds (they belong to the nexus)" \
    "$KA" "$KB" "$KC"
expect_rc 0 "A clears the LUN" drover pr "$A" clear "$KA"
summary
