#!/bin/sh
# drover.pcs.sh - drover's CIB, applied with pcs on one node of a running cluster.
# drover.crm is the same CIB for crmsh; tests/lab/lab.sh applies both (lab_cib_pcs, lab_cib_crm).
#
#   DROVER_FENCE_DEVICES=iscsi://198.18.3.10:3260/iqn.2026-11.org.example:fence/1 \
#       sh drover.pcs.sh                                  # the cluster part, once
#   DROVER_FENCE_DEVICES=... DROVER_VM_NAME=web1 DROVER_VM_CONFIG=/etc/drover/web1.xml \
#       DROVER_VM_MIGRATION_NETWORK="node1=198.18.2.11 node2=198.18.2.12 node3=198.18.2.13" \
#       sh drover.pcs.sh                                  # and one VM resource per run
#
# What it sets (one cib-push of only its own changes, so the cluster never sees half of them
# and what others wrote meanwhile stays, such as the utilization ocf:drover:vm publishes):
#   - stonith device drover-fence (fence_drover) with devices= and cluster_name= as droverd has
#     them, pcmk_host_list, and meta provides=unfencing: Pacemaker runs `fence_drover on` on each
#     node as it joins, and runs nothing there before;
#   - stonith-enabled=true, no-quorum-policy=stop, placement-strategy=utilization,
#     migration-limit (live migrations at once per node), resource-stickiness (VMs stay where
#     they run when a node comes back), load-threshold (a hypervisor's CPU load is its guests':
#     Pacemaker's default of 80 % throttles a loaded node to one action at a time, and so
#     serializes the starts of a dead node's VMs; measured in doc/PERFORMANCE.md);
#   - node utilization cpu and hv_memory (ocf:drover:vm sets each VM's own from its domain);
#   - with DROVER_VM_NAME: resource vm-NAME, ocf:drover:vm, allow-migrate=true.
# The cluster part is skipped when drover-fence exists, so later runs only add VMs.
#
# Environment (defaults in brackets):
#   DROVER_FENCE_DEVICES     fence_drover devices= and droverd --devices (required)
#   DROVER_CLUSTER_NAME      [totem.cluster_name of /etc/corosync/corosync.conf]
#   DROVER_NODES             pcmk_host_list and the nodes given utilization [crm_node -l]
#   DROVER_NODE_CPU          [nproc of this node]   DROVER_NODE_MEMORY_MIB  [MemTotal - 1024]
#   DROVER_STICKINESS [100]  DROVER_MIGRATION_LIMIT [2]  DROVER_NO_QUORUM_POLICY [stop]
#   DROVER_LOAD_THRESHOLD [400%]
#   DROVER_VM_NAME           libvirt domain name (the resource is vm-NAME)
#   DROVER_VM_CONFIG         its domain XML, at the same path on every node (required with NAME)
#   DROVER_VM_MIGRATION_NETWORK  "node=address ..." of the migration network [unset: libvirt's]
#   DROVER_VM_REMOTE_URI     peer libvirtd URI, %n = node name [the agent's qemu+tcp://%n/system]
#   DROVER_VM_NODE           where the VM prefers to start [anywhere]
#   DROVER_VM_PARAMS         more of the agent's parameters, "name=value ..." (no spaces in a
#                            value), e.g. "migration_bandwidth=110 shutdown_timeout=120" [none]
set -eu

fail()
{
    echo "drover.pcs.sh: $*" >&2
    exit 1
}

[ -n "${DROVER_FENCE_DEVICES:-}" ] || fail "set DROVER_FENCE_DEVICES"
if [ -z "${DROVER_CLUSTER_NAME:-}" ]; then
    DROVER_CLUSTER_NAME=$(corosync-cmapctl -g totem.cluster_name 2>/dev/null | sed 's/.* = //')
fi
[ -n "$DROVER_CLUSTER_NAME" ] || fail "set DROVER_CLUSTER_NAME (corosync is not running)"
if [ -z "${DROVER_NODES:-}" ]; then
    DROVER_NODES=$(crm_node -l | awk '{print $2}' | sort | tr '\n' ' ')
fi
[ -n "$DROVER_NODES" ] || fail "set DROVER_NODES"
cpu=${DROVER_NODE_CPU:-$(nproc)}
mem=${DROVER_NODE_MEMORY_MIB:-$(awk '/^MemTotal:/ {print int($2 / 1024) - 1024}' /proc/meminfo)}

cib=$(mktemp)
orig=$(mktemp)
trap 'rm -f "$cib" "$orig"' EXIT
pcs cluster cib "$cib"
cp "$cib" "$orig"

if ! pcs -f "$cib" stonith config drover-fence >/dev/null 2>&1; then
    pcs -f "$cib" property set stonith-enabled=true \
        no-quorum-policy="${DROVER_NO_QUORUM_POLICY:-stop}" \
        placement-strategy=utilization migration-limit="${DROVER_MIGRATION_LIMIT:-2}" \
        load-threshold="${DROVER_LOAD_THRESHOLD:-400%}"
    pcs -f "$cib" resource defaults update resource-stickiness="${DROVER_STICKINESS:-100}"
    pcs -f "$cib" stonith create drover-fence fence_drover \
        devices="$DROVER_FENCE_DEVICES" cluster_name="$DROVER_CLUSTER_NAME" \
        pcmk_host_list="$(echo $DROVER_NODES)" \
        op monitor interval=60s meta provides=unfencing
    for node in $DROVER_NODES; do
        pcs -f "$cib" node utilization "$node" cpu="$cpu" hv_memory="$mem"
    done
fi

if [ -n "${DROVER_VM_NAME:-}" ]; then
    [ -n "${DROVER_VM_CONFIG:-}" ] || fail "set DROVER_VM_CONFIG for $DROVER_VM_NAME"
    set -- config="$DROVER_VM_CONFIG" domain="$DROVER_VM_NAME"
    [ -z "${DROVER_VM_MIGRATION_NETWORK:-}" ] ||
        set -- "$@" migration_network="$DROVER_VM_MIGRATION_NETWORK"
    [ -z "${DROVER_VM_REMOTE_URI:-}" ] || set -- "$@" remote_uri="$DROVER_VM_REMOTE_URI"
    # shellcheck disable=SC2086 # name=value words, split on purpose
    [ -z "${DROVER_VM_PARAMS:-}" ] || set -- "$@" $DROVER_VM_PARAMS
    pcs -f "$cib" resource create "vm-$DROVER_VM_NAME" ocf:drover:vm "$@" \
        op monitor interval=10s timeout=30s start timeout=90s stop timeout=90s \
        migrate_to timeout=120s migrate_from timeout=60s \
        meta allow-migrate=true
    [ -z "${DROVER_VM_NODE:-}" ] ||
        pcs -f "$cib" constraint location "vm-$DROVER_VM_NAME" prefers "$DROVER_VM_NODE=50"
fi

pcs cluster cib-push "$cib" diff-against="$orig"
