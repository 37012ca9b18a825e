#!/bin/bash
# tests/lab/sgio-guest/run.sh - drover's SG_IO persistent-reservation transport against a real
# kernel SCSI stack.
#
# The host kernel has no SCSI initiator, so this boots Debian's own kernel in a QEMU TCG guest
# whose initramfs holds busybox, open-iscsi and drover's binaries. The guest logs in three times
# (initiator names ...:node1, ...:node2, ...:node3) to a tgtd target serving a 64 MiB LUN, which
# gives three /dev/sdX for the same LUN: the I_T nexuses of three cluster nodes A, B and C. A
# scenario script then fences C with fence_drover and checks what each nexus sees, then runs one
# droverd per node (without libvirt) and fences C through A's droverd. The guest
# prints "@@CHECK PASS|FAIL desc" and "@@RESULT n passed, m failed"; this script exits 0 only if
# every check passed and the scenario's PLAN of checks ran.
#
# Everything runs in a private network namespace: tgtd listens on its 127.0.0.1:3260, and QEMU's
# user-mode network, started in the same namespace, maps the guest's 10.0.2.2 to that loopback.
# Needs root. Exit 0 pass, 1 fail, 77 skip (a missing package or kernel; a failure under CI=true).
#
# Environment:
#   DR_BUILD_DIR      build tree holding tools/drover, stonith/fence_drover, droverd/droverd
#                     and cluster-lib/libdrover.so* (default /work/main/build)
#   DR_CACHE_DIR      where the kernel .deb is downloaded and unpacked, kept across runs
#                     (default /var/cache/drover-test/kernel; about 0.5 GB)
#   DR_SGIO_SCENARIO  drover (default) or harness (the same steps with sg_persist, no drover)
#   DR_SGIO_MEM       guest memory in MiB (default 320)
#   DR_SGIO_TIMEOUT   seconds to wait for the guest to finish (default 180)
#   DR_KEEP=1         keep the work directory (console log, tgtd log, initramfs tree)
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DR_BUILD_DIR=${DR_BUILD_DIR:-/work/main/build}
DR_CACHE_DIR=${DR_CACHE_DIR:-/var/cache/drover-test/kernel}
SCENARIO=${DR_SGIO_SCENARIO:-drover}
MEM=${DR_SGIO_MEM:-320}
TIMEOUT=${DR_SGIO_TIMEOUT:-180}
TARGET_IQN=iqn.2024-01.org.drover.lab:sgio-lun1
INITIATOR_PREFIX=iqn.2024-01.org.drover.lab:
# Kernel modules the guest loads; the initramfs gets their modules.dep closure.
GUEST_MODULES="virtio_pci virtio_net crc32c_generic iscsi_tcp sd_mod sg loop"

T0_MS=$((${EPOCHREALTIME/./} / 1000))
W=
NS=
TGTD_PID=
QEMU_PID=

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
fmt_ms() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }
log() { printf '[%6s] %s\n' "$(fmt_ms $(($(now_ms) - T0_MS)))" "$*"; }
die() {
    log "FAIL: $*"
    exit 1
}
# unavailable MSG: the environment cannot run this test. Under CI that is a failure.
unavailable() {
    if [ "${CI:-}" = true ]; then
        die "$* (CI=true: a missing prerequisite is a failure)"
    fi
    log "SKIP: $*"
    exit 77
}

# wait_gone PID: give PID 5 s to exit, then SIGKILL it.
wait_gone() {
    local _
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null
}

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID" 2>/dev/null
        wait_gone "$QEMU_PID"
    fi
    [ -n "$QEMU_PID" ] && wait "$QEMU_PID" 2>/dev/null
    if [ -n "$TGTD_PID" ]; then
        # tgtd ignores SIGTERM while it serves a target: delete the target, then the system.
        tgtadm --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1
        tgtadm --op delete --mode system >/dev/null 2>&1
        wait_gone "$TGTD_PID"
        wait "$TGTD_PID" 2>/dev/null
    fi
    if [ -n "$NS" ] && [ -e "/run/netns/$NS" ]; then
        # Only our own processes live in this namespace; none should be left by now.
        for p in $(ip netns pids "$NS" 2>/dev/null); do
            log "killing leftover pid $p in netns $NS"
            kill -9 "$p" 2>/dev/null
        done
        ip netns del "$NS"
    fi
    if [ -n "$W" ]; then
        if [ "${DR_KEEP:-0}" = 1 ]; then
            log "kept $W"
        else
            rm -rf "$W"
        fi
    fi
    log "cleaned up, exit $rc"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || unavailable "needs root (network namespace, tgtd)"

# ---------------------------------------------------------------------------- host packages
# pkg_missing: the Debian packages whose commands are not installed.
pkg_missing() {
    local c
    for c in qemu-system-x86_64:qemu-system-x86 tgtd:tgt tgtadm:tgt iscsid:open-iscsi \
        iscsiadm:open-iscsi cpio:cpio ip:iproute2 flock:util-linux dpkg-deb:dpkg; do
        command -v "${c%%:*}" >/dev/null || echo "${c#*:}"
    done
    # The guest's /bin/busybox must be static: it runs before any library is there.
    [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || echo busybox-static
    [ "$SCENARIO" != harness ] || command -v sg_persist >/dev/null || echo sg3-utils
}
missing=$(pkg_missing | sort -u | tr '\n' ' ')
if [ -n "$missing" ]; then
    log "installing $missing"
    # shellcheck disable=SC2086 # one word per package
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=300 $missing; then
        apt-get update -q -o DPkg::Lock::Timeout=300 || true
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o DPkg::Lock::Timeout=300 $missing || unavailable "cannot install $missing"
    fi
    missing=$(pkg_missing | sort -u | tr '\n' ' ')
    [ -z "$missing" ] || unavailable "still missing after apt-get install: $missing"
fi

case $SCENARIO in
drover)
    GUEST_BINARIES="$DR_BUILD_DIR/tools/drover $DR_BUILD_DIR/stonith/fence_drover
        $DR_BUILD_DIR/droverd/droverd"
    for f in $GUEST_BINARIES; do
        [ -x "$f" ] || die "$f is not built (DR_BUILD_DIR=$DR_BUILD_DIR)"
    done
    compgen -G "$DR_BUILD_DIR/cluster-lib/libdrover.so*" >/dev/null ||
        die "no $DR_BUILD_DIR/cluster-lib/libdrover.so*"
    ;;
harness) GUEST_BINARIES=$(command -v sg_persist) ;;
*) die "unknown DR_SGIO_SCENARIO=$SCENARIO (drover or harness)" ;;
esac
SCENARIO_FILE=$HERE/scenario-$SCENARIO.sh
PLAN=$(sed -n 's/^PLAN=\([0-9][0-9]*\)$/\1/p' "$SCENARIO_FILE")
[ -n "$PLAN" ] || die "$SCENARIO_FILE has no PLAN=N line"

W=$(mktemp -d /tmp/drover-sgio.XXXXXX)
# tgtd's control socket ($W/tgtd.ipc.0): never the system one, so runs do not collide.
export TGT_IPC_SOCKET=$W/tgtd.ipc

# ---------------------------------------------------------------------------- guest kernel
# resolve_kernel: print the package linux-image-amd64 depends on (linux-image-X.Y.Z-N-amd64).
resolve_kernel() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
t=$(now_ms)
mkdir -p "$DR_CACHE_DIR" || unavailable "cannot create $DR_CACHE_DIR"
exec 9>"$DR_CACHE_DIR/.lock"
flock 9 # one download and unpack at a time across concurrent runs
KPKG=$(resolve_kernel)
if [ -z "$KPKG" ]; then
    apt-get update -q >/dev/null 2>&1
    KPKG=$(resolve_kernel)
fi
if [ -z "$KPKG" ]; then
    # No package lists (offline): fall back on the newest kernel already in the cache.
    KPKG=$(find "$DR_CACHE_DIR" -maxdepth 2 -name .complete -path '*/linux-image-*' 2>/dev/null |
        sed 's|/\.complete$||; s|.*/||' | sort -V | tail -n 1)
fi
[ -n "$KPKG" ] || unavailable "cannot resolve linux-image-amd64 and nothing is cached"
KDIR=$DR_CACHE_DIR/$KPKG
if [ ! -e "$KDIR/.complete" ]; then
    log "fetching $KPKG into $KDIR"
    rm -rf "$KDIR"
    mkdir -p "$KDIR/root"
    if ! (cd "$KDIR" && apt-get download -q -o APT::Sandbox::User=root "$KPKG"); then
        apt-get update -q >/dev/null 2>&1
        (cd "$KDIR" && apt-get download -q -o APT::Sandbox::User=root "$KPKG") || unavailable "apt-get download $KPKG failed"
    fi
    dpkg-deb -x "$KDIR/${KPKG}"_*.deb "$KDIR/root" || die "dpkg-deb -x failed"
    KVER=$(ls "$KDIR/root/lib/modules")
    # The .deb ships no modules.dep (depmod runs at install time); busybox has a depmod.
    /bin/busybox depmod -b "$KDIR/root" "$KVER" || die "busybox depmod failed"
    touch "$KDIR/.complete"
fi
flock -u 9
exec 9>&-
KVER=$(ls "$KDIR/root/lib/modules")
VMLINUZ=$KDIR/root/boot/vmlinuz-$KVER
if [ ! -s "$VMLINUZ" ] || [ ! -s "$KDIR/root/lib/modules/$KVER/modules.dep" ]; then
    die "$KDIR is incomplete: remove it and rerun"
fi
T_KERNEL=$(($(now_ms) - t))
log "kernel $KVER (cache $KDIR)"

# ---------------------------------------------------------------------------- initramfs
# module_closure NAME: NAME's .ko path and those it depends on, per modules.dep.
module_closure() {
    awk -v m="$1" -F': *' '{
        n = $1; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n)
        if (n == m) { print $1; if ($2 != "") print $2; found = 1 }
    } END { exit !found }' "$KDIR/root/lib/modules/$KVER/modules.dep" | tr ' ' '\n'
}

build_initramfs() {
    local R=$W/root m f lib mods=$W/modules.list libs=$W/libs.list
    mkdir -p "$R"/{bin,dev,proc,sys,run,tmp,lib,lib64,etc/iscsi,usr/bin,usr/sbin,var/lib/iscsi}
    ln -s bin "$R/sbin" # the kernel's usermode helper runs /sbin/modprobe
    cp /bin/busybox "$R/bin/busybox"
    ln -s busybox "$R/bin/sh"
    # iscsid getpwuid()s the peer of iscsiadm's socket and refuses an unknown uid 0.
    echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
    echo 'root:x:0:' >"$R/etc/group"
    install -m 755 "$HERE/guest-init.sh" "$R/init"
    install -m 644 "$HERE/guest-lib.sh" "$R/lib/guest-lib.sh"
    install -m 755 "$SCENARIO_FILE" "$R/scenario-$SCENARIO.sh"

    for m in $GUEST_MODULES; do
        module_closure "$m" || die "module $m is not in $KVER's modules.dep"
    done | sed '/^$/d' | sort -u >"$mods"
    while read -r f; do
        mkdir -p "$R/lib/modules/$KVER/${f%/*}"
        cp "$KDIR/root/lib/modules/$KVER/$f" "$R/lib/modules/$KVER/$f"
    done <"$mods"
    /bin/busybox depmod -b "$R" "$KVER" || die "busybox depmod on the initramfs failed"

    # Binaries keep their host paths; drover's keep their build-tree paths, so their RUNPATH
    # still finds libdrover.so. Every library ldd names is copied to the path ldd gives.
    for f in /usr/sbin/iscsid /usr/sbin/iscsiadm $GUEST_BINARIES \
        "$DR_BUILD_DIR"/cluster-lib/libdrover.so*; do
        [ -e "$f" ] || continue
        mkdir -p "$R${f%/*}"
        cp -a "$f" "$R$f"
        [ -L "$f" ] && continue
        ldd "$f" >"$W/ldd.out" 2>&1 || die "ldd $f failed: $(cat "$W/ldd.out")"
        if grep -q 'not found' "$W/ldd.out"; then
            die "ldd $f: $(grep 'not found' "$W/ldd.out" | tr -s '\t\n' '  ')"
        fi
        awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' "$W/ldd.out"
    done | sort -u >"$libs"
    while read -r lib; do
        [ -e "$R$lib" ] && continue
        mkdir -p "$R${lib%/*}"
        cp -L "$lib" "$R$lib"
    done <"$libs"
    for f in $GUEST_BINARIES; do
        [ -e "$R/usr/bin/${f##*/}" ] || ln -s "$f" "$R/usr/bin/${f##*/}" # on the guest's PATH
    done
    (cd "$R" && find . | cpio -o -H newc --quiet >"$W/initrd") || die "cpio failed"
}
t=$(now_ms)
build_initramfs
T_INITRAMFS=$(($(now_ms) - t))
log "initramfs: $(du -m "$W/initrd" | cut -f1) MiB, $(wc -l <"$W/modules.list") modules," \
    "$(wc -l <"$W/libs.list") libraries, scenario $SCENARIO (plan: $PLAN checks)"

# ---------------------------------------------------------------------------- tgtd
t=$(now_ms)
NS=sgio-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ip netns add "$NS" || die "ip netns add $NS failed"
ip netns exec "$NS" ip link set lo up || die "cannot bring up lo in $NS"
truncate -s 64M "$W/lun1.img"
# ip netns exec execs in place: $! is tgtd itself.
ip netns exec "$NS" tgtd -f --iscsi portal=127.0.0.1:3260 >"$W/tgtd.log" 2>&1 &
TGTD_PID=$!
for _ in $(seq 250); do
    tgtadm --op show --mode system >/dev/null 2>&1 && break
    kill -0 "$TGTD_PID" 2>/dev/null || die "tgtd exited: $(cat "$W/tgtd.log")"
    sleep 0.02
done
tgtadm --lld iscsi --op new --mode target --tid 1 -T "$TARGET_IQN" || die "tgtadm: new target"
tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$W/lun1.img" ||
    die "tgtadm: new logicalunit"
tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL || die "tgtadm: bind"
T_TGTD=$(($(now_ms) - t))
log "tgtd pid $TGTD_PID serves $TARGET_IQN LUN 1 (64 MiB) on 127.0.0.1:3260 in netns $NS"

# ---------------------------------------------------------------------------- guest
CONSOLE=$W/console.log
: >"$CONSOLE"
T_QEMU=$(now_ms)
ip netns exec "$NS" qemu-system-x86_64 -machine pc,accel=tcg -cpu qemu64 -smp 1 -m "$MEM" \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$VMLINUZ" -initrd "$W/initrd" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 dr_iqn=$TARGET_IQN dr_scen=$SCENARIO dr_initiator_prefix=$INITIATOR_PREFIX" \
    -serial "file:$CONSOLE" \
    -netdev user,id=n0,net=10.0.2.0/24,host=10.0.2.2 -device virtio-net-pci,netdev=n0 \
    >"$W/qemu.log" 2>&1 &
QEMU_PID=$!
log "qemu pid $QEMU_PID (TCG, 1 vCPU, $MEM MiB)"

NPASS=0
NFAIL=0
NERR=0
RESULT_LINE=
FAILED=()
MEASURES=() # "@@MEASURE name k=v..." lines: repeated with the timing at the end
declare -A GT HT # guest uptime and host time (ms since qemu start) of each @@T marker
# on_line LINE: show one console line and account for the markers in it.
on_line() {
    local line=$1 rel=$(($(now_ms) - T_QEMU)) mark up
    printf '[%6s] guest| %s\n' "$(fmt_ms $(($(now_ms) - T0_MS)))" "$line"
    case $line in
    "@@CHECK PASS "*) NPASS=$((NPASS + 1)) ;;
    "@@CHECK FAIL "*)
        NFAIL=$((NFAIL + 1))
        FAILED+=("${line#@@CHECK FAIL }")
        ;;
    "@@RESULT "*) RESULT_LINE=${line#@@RESULT } ;;
    "@@MEASURE "*) MEASURES+=("${line#@@MEASURE }") ;;
    "@@ERR "*) NERR=$((NERR + 1)) ;;
    "@@READY "*) HT[ready]=$rel ;;
    "@@T "*)
        read -r _ mark up _ <<<"$line"
        GT[$mark]=${up:-}
        HT[$mark]=$rel
        ;;
    esac
}
seen=0
done_at=
while :; do
    alive=1
    kill -0 "$QEMU_PID" 2>/dev/null || alive=0 # checked before reading: a dead guest's log is whole
    n=$(wc -l <"$CONSOLE")
    if [ "$n" -gt "$seen" ]; then
        while IFS= read -r line; do
            on_line "${line%$'\r'}"
        done < <(sed -n "$((seen + 1)),${n}p" "$CONSOLE")
        seen=$n
    fi
    [ $alive = 1 ] || break
    if [ -n "${GT[end]:-}" ] && [ -z "$done_at" ]; then
        done_at=$(now_ms) # powering off; give QEMU 10 s to exit by itself
    fi
    if [ -n "$done_at" ] && [ $(($(now_ms) - done_at)) -gt 10000 ]; then
        log "guest finished but QEMU did not exit"
        break
    fi
    if [ $(($(now_ms) - T_QEMU)) -gt $((TIMEOUT * 1000)) ]; then
        log "timeout: the guest did not finish within $TIMEOUT s"
        NERR=$((NERR + 1))
        break
    fi
    sleep 0.1
done
T_GUEST=$(($(now_ms) - T_QEMU))
if [ -s "$W/qemu.log" ]; then
    log "qemu stderr:"
    sed 's/^/    /' "$W/qemu.log"
fi

# ---------------------------------------------------------------------------- verdict
# guest_span FROM TO: milliseconds between two @@T markers on the guest clock.
guest_span() {
    if [ -z "${GT[$1]:-}" ] || [ -z "${GT[$2]:-}" ]; then
        echo "?"
        return
    fi
    awk -v a="${GT[$1]}" -v b="${GT[$2]}" 'BEGIN { printf "%.2f", b - a }'
}
boot="?"
[ -n "${HT[ready]:-}" ] && boot=$(fmt_ms "${HT[ready]}")
log "timing: kernel cache $(fmt_ms $T_KERNEL) s, initramfs $(fmt_ms $T_INITRAMFS) s," \
    "tgtd $(fmt_ms $T_TGTD) s, boot $boot s (qemu start to @@READY)," \
    "login $(guest_span login-start login-done) s, scenario" \
    "$(guest_span scenario-start scenario-done) s (guest clock), guest total $(fmt_ms $T_GUEST) s"
for m in "${MEASURES[@]}"; do
    log "measured: $m"
done

ok=1
[ "$NERR" -eq 0 ] || {
    log "$NERR @@ERR line(s) or timeout"
    ok=0
}
[ "$NFAIL" -eq 0 ] || ok=0
for f in "${FAILED[@]}"; do
    log "failed check: $f"
done
if [ $((NPASS + NFAIL)) -ne "$PLAN" ]; then
    log "$((NPASS + NFAIL)) checks ran, the plan has $PLAN"
    ok=0
fi
if [ "$RESULT_LINE" != "$NPASS passed, $NFAIL failed" ]; then
    log "guest's @@RESULT '${RESULT_LINE:-none}' does not match the $NPASS passed, $NFAIL failed seen"
    ok=0
fi
if [ $ok = 1 ]; then
    log "PASS: $NPASS/$PLAN checks (total $(fmt_ms $(($(now_ms) - T0_MS))) s)"
    exit 0
fi
log "tgtd log (tail):"
tail -n 20 "$W/tgtd.log" | sed 's/^/    /'
log "FAIL: $NPASS passed, $NFAIL failed of $PLAN planned"
exit 1
