#!/bin/sh
# /init of the lab guest's initramfs (busybox-static; built by lab.sh's lab_guest_build).
# Kernel command line:
#   drlab_mib=N        memory the writer keeps rewriting and checking (MiB; 0 = none)
#   drlab_rate=R       its rate in MiB/s (0 = as fast as it can)
#   drlab_disk=1       keep a sequence number on /dev/vda (the shared disk)
#   drlab_beat_ms=MS   heartbeat interval (default 1000)
#   drlab_ip=A.B.C.D/N the address of eth0 (the virtio NIC on the lab's guests' network)
# Console lines start with DRLAB; see memwriter.c for the heartbeat's fields.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

mib=0
rate=0
disk=0
beat_ms=1000
ip=
for a in $(cat /proc/cmdline); do
    case $a in
    drlab_mib=*) mib=${a#*=} ;;
    drlab_rate=*) rate=${a#*=} ;;
    drlab_disk=*) disk=${a#*=} ;;
    drlab_beat_ms=*) beat_ms=${a#*=} ;;
    drlab_ip=*) ip=${a#*=} ;;
    esac
done
echo "DRLAB boot uptime=$(cut -d' ' -f1 /proc/uptime) $(grep MemTotal /proc/meminfo | tr -s ' ')"

# Waits up to 10 s for a device that a module just loaded creates: TEST_OP is -e or -b.
wait_dev() # TEST_OP PATH
{
    i=0
    while [ ! "$1" "$2" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ "$1" "$2" ]
}

# The NIC: the kernel answers pings and ARP by itself; nothing here sends anything.
if [ -n "$ip" ]; then
    modprobe virtio_pci && modprobe virtio_net || echo "DRLAB modprobe virtio_net failed"
    wait_dev -e /sys/class/net/eth0
    ip link set lo up
    if ip addr add "$ip" dev eth0 && ip link set eth0 up; then
        echo "DRLAB net eth0 $ip mac=$(cat /sys/class/net/eth0/address)"
    else
        echo "DRLAB net eth0 $ip failed"
    fi
fi

set -- -m "$mib" -r "$rate" -i "$beat_ms"
if [ "$disk" = 1 ]; then
    modprobe virtio_pci && modprobe virtio_blk || echo "DRLAB modprobe virtio failed"
    if wait_dev -b /dev/vda; then
        set -- "$@" -d /dev/vda
    else
        echo "DRLAB no /dev/vda"
    fi
fi
/bin/memwriter "$@"
echo "DRLAB memwriter exited rc=$?"
while :; do
    sleep 3600
done
