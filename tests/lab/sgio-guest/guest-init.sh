#!/bin/sh
# shellcheck shell=dash
# /init of the sgio-guest initramfs (busybox ash).
#
# Loads the SCSI and iSCSI modules, brings up eth0 on QEMU's user-mode network, starts iscsid,
# logs in to the tgtd target through three open-iscsi ifaces (node1, node2, node3: three
# initiator names, so three I_T nexuses to the same LUN), exports their /dev/sdX as
# DR_DEV_node1..3 and runs /scenario-$dr_scen.sh. The host parses the lines starting with "@@".
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# libqb's IPC (droverd and its clients) keeps its per-connection files in /dev/shm.
if ! grep -q ' /dev/shm ' /proc/mounts; then
    mkdir -p /dev/shm
    mount -t tmpfs -o mode=1777,size=16m shm /dev/shm || echo "@@ERR mount tmpfs on /dev/shm"
fi
mkdir -p /tmp /run/lock/iscsi /var/lib/iscsi /etc/iscsi/ifaces /etc/iscsi/nodes \
    /etc/iscsi/send_targets

uptime_s() { cut -d' ' -f1 /proc/uptime; }
# Every exit path ends in a power-off: the host waits for QEMU to exit (-no-reboot, panic=-1).
finish() {
    echo "@@T end $(uptime_s)"
    sync
    poweroff -f
}

DR_IQN='' DR_PORTAL=10.0.2.2:3260 DR_SCEN=drover DR_IQN_PREFIX=''
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    dr_iqn=*) DR_IQN=${arg#dr_iqn=} ;;
    dr_portal=*) DR_PORTAL=${arg#dr_portal=} ;;
    dr_scen=*) DR_SCEN=${arg#dr_scen=} ;;
    dr_initiator_prefix=*) DR_IQN_PREFIX=${arg#dr_initiator_prefix=} ;;
    esac
done
export DR_IQN DR_PORTAL DR_SCEN DR_IQN_PREFIX
hostname sgio-guest
echo "@@T init $(uptime_s)"

# crc32c_generic by hand: iscsi_tcp allocates a "crc32c" hash per connection even without
# digests, and modules.dep does not list it (the crypto API loads it by alias). loop is for the
# non-SCSI negative check.
for m in virtio_pci virtio_net crc32c_generic iscsi_tcp sd_mod sg loop; do
    modprobe "$m" || echo "@@ERR modprobe $m"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "@@T net $(uptime_s)"

# A minimal iscsid.conf of our own: Debian's starts iscsid through systemctl.
cat >/etc/iscsi/iscsid.conf <<EOF
node.startup = manual
node.session.scan = auto
node.conn[0].timeo.login_timeout = 15
node.session.initial_login_retry_max = 2
node.session.timeo.replacement_timeout = 10
EOF
echo "InitiatorName=${DR_IQN_PREFIX}guest" >/etc/iscsi/initiatorname.iscsi
# iscsid getpwuid()s the peer of iscsiadm's socket: /etc/passwd (from run.sh) must name root.
iscsid -f >/tmp/iscsid.log 2>&1 &
i=0
while ! grep -q ISCSIADM_ABSTRACT_NAMESPACE /proc/net/unix; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then
        echo "@@ERR iscsid is not listening"
        cat /tmp/iscsid.log
        finish
    fi
    sleep 0.05
done
echo "@@READY $(uptime_s)"

# disk_for INITIATOR: print the /dev/sdX of LUN 1 in that initiator's session. /dev/sdX names
# follow probe order, so map through sysfs; LUN 0 is tgtd's controller (no sd).
disk_for() {
    local s b
    for s in /sys/class/iscsi_session/session*; do
        [ "$(cat "$s/initiatorname" 2>/dev/null)" = "$1" ] || continue
        for b in "$s"/device/target*/*:*:*:1/block/*; do
            if [ -e "$b" ]; then
                echo "/dev/${b##*/}"
                return 0
            fi
        done
    done
    return 1
}

# No SendTargets discovery: tgtd would answer with its own portal, 127.0.0.1, which is the
# guest's loopback. Create the node record of each iface by hand and log in through it.
echo "@@T login-start $(uptime_s)"
for n in node1 node2 node3; do
    if ! { iscsiadm -m iface -I "$n" -o new >/dev/null &&
        iscsiadm -m iface -I "$n" -o update -n iface.initiatorname \
            -v "$DR_IQN_PREFIX$n" >/dev/null &&
        iscsiadm -m node -o new -T "$DR_IQN" -p "$DR_PORTAL" -I "$n" >/dev/null &&
        iscsiadm -m node -T "$DR_IQN" -p "$DR_PORTAL" -I "$n" --login; }; then
        echo "@@ERR iSCSI login through iface $n"
        cat /tmp/iscsid.log
        finish
    fi
done
for n in node1 node2 node3; do
    i=0
    until dev=$(disk_for "$DR_IQN_PREFIX$n"); do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "@@ERR no disk for $DR_IQN_PREFIX$n"
            finish
        fi
        sleep 0.05
    done
    eval "DR_DEV_$n=$dev"
    export "DR_DEV_$n"
done
echo "@@T login-done $(uptime_s)"
echo "@@DISKS node1=$DR_DEV_node1 node2=$DR_DEV_node2 node3=$DR_DEV_node3"

echo "@@T scenario-start $(uptime_s)"
/bin/sh "/scenario-$DR_SCEN.sh"
echo "@@SCENARIO-EXIT $?"
echo "@@T scenario-done $(uptime_s)"
iscsiadm -m node -u >/dev/null 2>&1
finish
