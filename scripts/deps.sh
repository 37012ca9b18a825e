#!/bin/bash
# Install, from Debian's archive, every package drover's build, tests and demo need.
# Idempotent: installs only what is missing; runs `apt-get update` first when needed.
set -euo pipefail

PKGS=(
    # build
    build-essential cmake pkg-config clang libclang-rt-14-dev clang-format-15 clang-tidy cppcheck
    libiscsi-dev libqb-dev libvirt-dev libcmocka-dev
    # run-time peers and the lab
    tgt libiscsi-bin libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
    iproute2 util-linux pacemaker-cli-utils libxml2-utils
    # the SG_IO guest (a Debian kernel in QEMU with open-iscsi in its initramfs)
    busybox-static cpio open-iscsi sg3-utils
)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}" >/tmp/drover-apt.log 2>&1; then
    apt-get update -q -o DPkg::Lock::Timeout=600 >>/tmp/drover-apt.log 2>&1
    apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}" >>/tmp/drover-apt.log 2>&1 || {
        tail -20 /tmp/drover-apt.log
        exit 1
    }
fi
