#!/bin/bash
# `cmake --install` with DESTDIR and prefix /usr puts every piece where Debian expects it, and a
# program built against the installed headers with pkg-config links and runs.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
t_require cmake pkg-config cc groff lexgrog

W=$(mktemp -d /tmp/drinstall.XXXXXX)
trap 'rm -rf "$W"' EXIT
D=$W/root
t_expect_rc 0 "configure with prefix /usr" cmake -S "$DR_SOURCE_DIR" -B "$W/build" \
    -DCMAKE_INSTALL_PREFIX=/usr -DDR_TESTS=OFF
t_expect_rc 0 "build" cmake --build "$W/build" -j2
t_expect_rc 0 "install into DESTDIR" env DESTDIR="$D" cmake --install "$W/build"
ML=$(cc -print-multiarch)
for f in usr/sbin/fence_drover usr/sbin/droverd usr/bin/drover usr/include/drover/pr.h \
    usr/include/drover/fence.h "usr/lib/$ML/libdrover.so.0" "usr/lib/$ML/pkgconfig/drover.pc" \
    usr/lib/systemd/system/droverd.service etc/default/droverd usr/share/man/man8/fence_drover.8 \
    usr/share/man/man8/droverd.8 usr/share/man/man8/drover.8 usr/share/man/man7/ocf_drover_vm.7 \
    usr/lib/ocf/resource.d/drover/vm usr/libexec/drover/vm-libvirt; do
    [[ -e $D/$f ]] && t_pass "installed /$f" || t_fail "missing /$f"
done
# ocf_drover_vm(7) and the agent's meta-data cannot drift apart: every parameter the meta-data
# lists has its entry (\fBNAME\fR=...) with the same default, or "no default", and says whether a
# change restarts the VM exactly when the meta-data marks it unique="1"; every entry is a
# parameter of the meta-data. The page renders without groff warnings and has a whatis line.
PAGE=$D/usr/share/man/man7/ocf_drover_vm.7
MD=$("$W/build/agents/vm" meta-data)
mapfile -t PARAMS < <(awk -F'"' '/<parameter name=/ { n = $2; u = $4 }
    /<content / { d = "-"; for (i = 1; i < NF; i++) if ($i ~ /default=$/) d = $(i + 1)
                  print n, u, d }' <<<"$MD")
bad=()
for p in "${PARAMS[@]}"; do
    read -r name unique def <<<"$p"
    line=$(grep -F "\\fB$name\\fR=" "$PAGE" | head -n 1)
    if [[ -z $line ]]; then
        bad+=("$name: no entry")
        continue
    fi
    if [[ $def == - ]]; then
        [[ $line == *"(no default"* ]] || bad+=("$name: the page gives a default")
    else
        [[ $line == *"(default \\fB$def\\fR"* ]] || bad+=("$name: not '(default $def)'")
    fi
    if [[ $unique == 1 ]]; then
        [[ $line == *"a change restarts the VM"* ]] || bad+=("$name: unique=1, restart not said")
    else
        [[ $line != *"restarts the VM"* ]] || bad+=("$name: unique=$unique, but 'restarts' said")
    fi
done
for name in $(grep -oE '^\\fB[a-z_]+\\fR=' "$PAGE" | sed 's/^\\fB//; s/\\fR=$//'); do
    grep -q "<parameter name=\"$name\"" <<<"$MD" || bad+=("$name: on the page, not in the meta-data")
done
((${#PARAMS[@]} >= 10 && ${#bad[@]} == 0)) &&
    t_pass "ocf_drover_vm.7 has each of the meta-data's ${#PARAMS[@]} parameters, defaults and restarts alike" ||
    t_fail "ocf_drover_vm.7 and the meta-data (${#PARAMS[@]} parameters) differ: ${bad[*]}"
T_OUT=$(groff -man -ww -z "$PAGE" 2>&1) && [[ -z $T_OUT ]] &&
    t_pass "ocf_drover_vm.7 renders without groff warnings" ||
    t_fail "ocf_drover_vm.7: groff says: $T_OUT"
t_expect_out 0 'ocf_drover_vm - ' "ocf_drover_vm.7 has a NAME line for whatis" lexgrog "$PAGE"
t_expect_out 0 '^DROVER_0.1' "libdrover exports a versioned ABI" sh -c \
    "objdump -T '$D/usr/lib/$ML/libdrover.so.0' | awk '/dr_pr_open/ {print \$(NF-1)}'"
T_OUT=$(nm -D --defined-only "$D/usr/lib/$ML/libdrover.so.0" | awk '{print $3}' | grep -v '^dr_[a-z]' | grep -v '^DROVER' || true)
[[ -z $T_OUT ]] && t_pass "no symbol outside the dr_ API is exported" || t_fail "exported: $T_OUT"
cat >"$W/use.c" <<'C'
#include <drover/pr.h>
#include <inttypes.h>
#include <stdio.h>
int main(void) {
    uint64_t k;
    if (dr_pr_key_derive("prod", "node1", &k) != 0) return 1;
    printf("0x%016" PRIx64 "\n", k);
    return 0;
}
C
export PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_PATH=$D/usr/lib/$ML/pkgconfig
t_expect_rc 0 "a program builds with pkg-config --cflags --libs drover" sh -c \
    "cc -o '$W/use' '$W/use.c' \$(pkg-config --cflags --libs drover)"
t_expect_out 0 '^0x6472' "and runs against the installed library" \
    env LD_LIBRARY_PATH="$D/usr/lib/$ML" "$W/use"
t_summary
