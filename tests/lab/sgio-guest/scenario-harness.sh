#!/bin/sh
# shellcheck shell=dash
# Harness self-test (DR_SGIO_SCENARIO=harness): the same fencing steps as scenario-drover.sh,
# done with sg3-utils' sg_persist and dd instead of drover's binaries. When scenario-drover.sh
# fails and this passes, the fault is in drover, not in the guest, tgtd or the iSCSI plumbing.
PLAN=10
echo "@@PLAN $PLAN"
. /lib/guest-lib.sh
A=$DR_DEV_node1 B=$DR_DEV_node2 C=$DR_DEV_node3

# keys_on DEV: the registered keys, one a line, sorted (sg_persist prints "    0x...").
keys_on() {
    sg_persist --in --read-keys "$1" 2>/dev/null | awk '$1 ~ /^0x/ {print $1}' | sort
}
write_probe() {
    dd if=/dev/zero of="$1" bs=512 count=1 seek=8 oflag=direct
}

distinct3() { [ "$1" != "$2" ] && [ "$2" != "$3" ] && [ "$1" != "$3" ]; }
expect_true "three distinct nexus devices ($A $B $C)" distinct3 "$A" "$B" "$C"
expect_rc 0 "A registers 0xa" sg_persist --out --register --param-sark=0xa "$A"
expect_rc 0 "B registers 0xb" sg_persist --out --register --param-sark=0xb "$B"
expect_rc 0 "C registers 0xc" sg_persist --out --register --param-sark=0xc "$C"
expect_rc 0 "A reserves WERO" sg_persist --out --reserve --param-rk=0xa --prout-type=5 "$A"
expect_true "keys are 0xa 0xb 0xc" [ "$(keys_on "$A" | tr '\n' ' ')" = "0xa 0xb 0xc " ]
expect_rc 0 "A preempts C" sg_persist --out --preempt --param-rk=0xa --param-sark=0xc --prout-type=5 "$A"
run sg_persist --in --read-keys "$C" # consumes C's UNIT ATTENTION 2A/03
expect_rc "1" "C's direct write is refused" write_probe "$C"
expect_rc 0 "A's direct write succeeds" write_probe "$A"
expect_rc 0 "A clears" sg_persist --out --clear --param-rk=0xa "$A"
summary
