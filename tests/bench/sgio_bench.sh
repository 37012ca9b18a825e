#!/bin/bash
# tests/bench/sgio_bench.sh - fence_drover vs fence_scsi (fence-agents) over SG_IO, in the
# SG_IO guest of tests/lab/sgio-guest (Debian's kernel in a QEMU TCG guest, logged in three
# times to one tgtd LUN: /dev/sdX of nodes 1..3).
#
# run.sh takes no extra files and no other scenario, so this script:
#   1. runs tests/lab/sgio-guest/run.sh unchanged with DR_KEEP=1 (its drover scenario doubles
#      as a sanity check of the build) and takes the initramfs tree it leaves behind;
#   2. adds python3 with the modules fence_scsi imports (found with python3 -v on the host),
#      fence_scsi and fencing.py, sg_persist and sg_turs, a corosync-cmapctl stub printing
#      "totem.cluster_name (str) = bench", drbench_time, sg_persist_noabort and
#      sgio_scenario.sh as /scenario-bench.sh;
#   3. starts its own tgtd (private netns) and QEMU with dr_scen=bench, as run.sh does, and
#      reads the "@@BENCH" lines from the console.
# With a DR_SGIO_SCENARIO_FILE / DR_SGIO_EXTRA_TREE knob in run.sh, step 3 would go away.
#
# Environment: DR_BUILD_DIR (default build-bench), DR_BENCH_GUEST_N cycles per tool (default
# 15, about 2 minutes of guest time), DR_BENCH_RESULTS, DR_CACHE_DIR (passed to run.sh), DR_SGIO_TIMEOUT (default 300 s).
# Output: raw samples in $DR_BENCH_RESULTS/fence-sgio/, the tables on stdout. Exit 0 when every
# call exited as expected, 1 otherwise, 77 when the guest cannot run.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
N=${DR_BENCH_GUEST_N:-15}
TIMEOUT=${DR_SGIO_TIMEOUT:-300}
R=$DR_BENCH_RESULTS/fence-sgio
TARGET_IQN=iqn.2024-01.org.drover.lab:sgio-lun1
INITIATOR_PREFIX=iqn.2024-01.org.drover.lab:
PY=/usr/bin/python3
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "FATAL: DR_BENCH_GUEST_N=$N"; exit 1; }
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }

W=
NS=
TGTD_PID=
QEMU_PID=
gone_or_kill() # PID: 5 s to exit, then SIGKILL
{
    local i
    for i in $(seq 50); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null
}
cleanup()
{
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $QEMU_PID ]]; then
        kill "$QEMU_PID" 2>/dev/null && gone_or_kill "$QEMU_PID"
        wait "$QEMU_PID" 2>/dev/null
    fi
    if [[ -n $TGTD_PID ]]; then
        # tgtd ignores SIGTERM while it serves a target: delete the target, then the system.
        tgtadm --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1
        tgtadm --op delete --mode system >/dev/null 2>&1
        gone_or_kill "$TGTD_PID"
        wait "$TGTD_PID" 2>/dev/null
    fi
    [[ -z $NS ]] || ip netns del "$NS" 2>/dev/null
    [[ -z $W || ${DR_KEEP:-0} == 1 ]] || rm -rf "$W"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

missing=
command -v sg_persist >/dev/null || missing+=" sg3-utils"
[[ -x /usr/sbin/fence_scsi ]] || missing+=" fence-agents"
[[ -x $PY ]] || missing+=" python3"
if [[ -n $missing ]]; then
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends $missing; } || { echo "SKIP: cannot install$missing"; exit 77; }
fi
rm -rf "$R" && mkdir -p "$R" || exit 1

b_log "run.sh (drover scenario, DR_KEEP=1) for the guest kernel and initramfs tree"
DR_KEEP=1 DR_BUILD_DIR=$DR_BUILD_DIR "$DR_SOURCE_DIR/tests/lab/sgio-guest/run.sh" >"$R/run.sh.out" 2>&1
rc=$?
W=$(sed -n 's/.*kept \(\/tmp\/drover-sgio\.[A-Za-z0-9]*\)$/\1/p' "$R/run.sh.out" | tail -n 1)
KDIR=$(sed -n 's/.*kernel [^ ]* (cache \(.*\))$/\1/p' "$R/run.sh.out" | tail -n 1)
KVER=$(sed -n 's/.*kernel \([^ ]*\) (cache .*)$/\1/p' "$R/run.sh.out" | tail -n 1)
((rc != 77)) || { echo "SKIP: run.sh skipped: $(tail -n 3 "$R/run.sh.out")"; exit 77; }
b_log "run.sh exit $rc: $(grep -E 'PASS:|FAIL:' "$R/run.sh.out" | tail -n 1)"
[[ -n $W && -d $W/root && -n $KDIR && -s $KDIR/root/boot/vmlinuz-$KVER ]] ||
    { echo "FATAL: no kept tree or kernel in run.sh's output ($R/run.sh.out)"; exit 1; }
ROOT=$W/root

# add_elf FILE...: copy each file to the same path in the tree, with every library ldd names
add_elf()
{
    local f lib
    for f in "$@"; do
        mkdir -p "$ROOT${f%/*}" && cp -a "$f" "$ROOT$f" || return 1
        for lib in $(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
            [[ -e $ROOT$lib ]] && continue
            mkdir -p "$ROOT${lib%/*}" && cp -L "$lib" "$ROOT$lib" || return 1
        done
    done
}
# add_py_file PATH: a module imported on the host (a .pyc in __pycache__, a .py or an .so):
# its package directory whole, or the module's .py with its .pyc, or the extension with its
# libraries. Sources are kept: CPython only uses a __pycache__ .pyc next to its source.
add_py_file()
{
    local f=$1 base dir top
    for base in /usr/lib/python3.11 /usr/lib/python3/dist-packages /usr/share/fence; do
        [[ $f == "$base"/* ]] && break
    done
    case $f in
    *.so) add_elf "$f"; return ;;
    */__pycache__/*.pyc) dir=${f%/__pycache__/*}; base_mod=${f##*/}; base_mod=${base_mod%%.*}
        f=$dir/$base_mod.py ;;
    esac
    top=${f#"$base"/}
    if [[ $top == */* ]]; then
        top=${top%%/*}
        [[ -d $ROOT$base/$top ]] && return
        mkdir -p "$ROOT$base" && cp -a "$base/$top" "$ROOT$base/$top"
    else
        mkdir -p "$ROOT$base/__pycache__" && cp -a "$f" "$ROOT$f" &&
            cp -a "$base/__pycache__/${top%.py}".cpython-311*.pyc "$ROOT$base/__pycache__/" 2>/dev/null
        return 0
    fi
}

b_log "adding python3, fence_scsi, sg3-utils and the bench helpers to the initramfs"
b_build_helpers "$W/bench-bin" || { echo "FATAL: cannot build drbench_time"; exit 1; }
gcc $B_CFLAGS -static -o "$W/bench-bin/sg_persist_noabort" "$HERE/sg_persist_noabort.c" ||
    { echo "FATAL: cannot build sg_persist_noabort"; exit 1; }
mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/sbin"
cp "$W/bench-bin/drbench_time" "$W/bench-bin/sg_persist_noabort" "$ROOT/usr/local/bin/"
add_elf "$(readlink -f $PY)" "$(command -v sg_persist)" "$(command -v sg_turs)" ||
    { echo "FATAL: cannot copy binaries"; exit 1; }
ln -sf "$(readlink -f $PY)" "$ROOT$PY"
cp -a /usr/sbin/fence_scsi "$ROOT/usr/sbin/fence_scsi"
printf '#!/bin/sh\n# stub for fence_scsi: the cluster name only\necho "totem.cluster_name (str) = bench"\n' \
    >"$ROOT/usr/sbin/corosync-cmapctl"
chmod 755 "$ROOT/usr/sbin/corosync-cmapctl"
# The modules fence_scsi imports, as python3 -v shows them on the host, for metadata and for
# status, on and off runs that fail early (sg_persist_path=/bin/true).
for a in "-o metadata" "-o status -n n3 -d /dev/null -k 1234" "-o on -n n3 -d /dev/null -k 1234" \
    "-o off -n n3 -d /dev/null -k 1234"; do
    # shellcheck disable=SC2086 # $a is a word list
    $PY -v /usr/sbin/fence_scsi $a --sg_persist-path=/bin/true --sg_turs-path=/bin/true 2>&1 >/dev/null
done | grep -oE "(code object from|loaded from) '[^']+'" | sed "s/.*'\(.*\)'$/\1/" | sort -u >"$W/pyfiles"
for f in $(cat "$W/pyfiles") /usr/lib/python3.11/os.py /usr/lib/python3.11/encodings/__init__.py; do
    add_py_file "$f" || { echo "FATAL: cannot copy $f"; exit 1; }
done
mkdir -p "$ROOT/usr/lib/python3.11/lib-dynload"
install -m 755 "$HERE/sgio_scenario.sh" "$ROOT/scenario-bench.sh"
echo "N=$N" >"$ROOT/bench.conf"
(cd "$ROOT" && find . | cpio -o -H newc --quiet >"$W/initrd-bench") || { echo "FATAL: cpio"; exit 1; }
b_log "initramfs: $(du -m "$W/initrd-bench" | cut -f1) MiB, $(wc -l <"$W/pyfiles") python files"

NS=sgbench-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ip netns add "$NS" && ip netns exec "$NS" ip link set lo up || { echo "FATAL: netns"; exit 1; }
export TGT_IPC_SOCKET=$W/tgtd-bench.ipc
truncate -s 64M "$W/lun-bench.img"
ip netns exec "$NS" tgtd -f --iscsi portal=127.0.0.1:3260 >"$W/tgtd-bench.log" 2>&1 &
TGTD_PID=$!
for _ in $(seq 250); do
    tgtadm --op show --mode system >/dev/null 2>&1 && break
    sleep 0.02
done
tgtadm --lld iscsi --op new --mode target --tid 1 -T "$TARGET_IQN" &&
    tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$W/lun-bench.img" &&
    tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL || { echo "FATAL: tgtadm"; exit 1; }

b_log "guest: $N cycles per tool"
CONSOLE=$R/console.log
: >"$CONSOLE"
t0=$(date +%s)
ip netns exec "$NS" qemu-system-x86_64 -machine pc,accel=tcg -cpu qemu64 -smp 1 -m 512 \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$KDIR/root/boot/vmlinuz-$KVER" -initrd "$W/initrd-bench" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 dr_iqn=$TARGET_IQN dr_scen=bench dr_initiator_prefix=$INITIATOR_PREFIX" \
    -serial "file:$CONSOLE" \
    -netdev user,id=n0,net=10.0.2.0/24,host=10.0.2.2 -device virtio-net-pci,netdev=n0 \
    >"$R/qemu.log" 2>&1 &
QEMU_PID=$!
while kill -0 "$QEMU_PID" 2>/dev/null; do
    if (($(date +%s) - t0 > TIMEOUT)); then
        echo "FATAL: the guest did not finish within $TIMEOUT s"
        exit 1
    fi
    sleep 0.5
done
wait "$QEMU_PID"
QEMU_PID=
b_log "guest done in $(($(date +%s) - t0)) s; bench span on the guest clock:" \
    "$(awk '$1 == "@@T" && $2 ~ /^bench-/ { t[$2] = $3 } END { printf "%.1f s", t["bench-done"] - t["bench-start"] }' "$CONSOLE")"

tr -d '\r' <"$CONSOLE" | awk -v d="$R" '$1 == "@@BENCH" { printf "%.2f\n", $6 / 1e6 > (d "/" $2 ".ms") }'
unexpected=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^@@BENCH-UNEXPECTED-COUNT //p')
tr -d '\r' <"$CONSOLE" | grep '^@@BENCH-UNEXPECTED ' || true

ratio()
{
    awk -v a="$(b_median "$R/$1.ms")" -v b="$(b_median "$R/$2.ms")" \
        'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'
}
echo
echo "### fence_drover vs fence_scsi over SG_IO (QEMU TCG guest, 1 vCPU), ms from fork to exit"
echo
b_table_head "action"
for s in off status-off on status-on; do
    b_row "fence_drover $s" "$R/drover-$s.ms"
    b_row "fence_scsi $s" "$R/fscsi-$s.ms"
done
b_row "fence_scsi off as shipped (PREEMPT AND ABORT; fails on tgtd)" "$R/fscsi-off-abort.ms"
b_row "baseline: python3 -c pass" "$R/base-python3.ms"
b_row "baseline: sg_persist -V" "$R/base-sg_persist-V.ms"
b_row "baseline: sg_persist_noabort -V" "$R/base-noabort-V.ms"
b_row "baseline: drover key" "$R/base-drover-key.ms"
echo
echo "| action | fence_scsi / fence_drover (medians) |"
echo "|---|---|"
for s in off status-off on status-on; do
    echo "| $s | $(ratio "fscsi-$s" "drover-$s") |"
done
echo
echo "unexpected exit codes: ${unexpected:-unknown} (raw samples and console: $R)"
[[ ${unexpected:-x} == 0 ]]
