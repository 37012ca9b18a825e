/*
 * The meta-data of ocf:drover:vm.
 *
 * Which parameter changes restart the VM, and why this says OCF 1.0. Pacemaker 2.1's controller
 * (daemons/controld/controld_metadata.c, metadata_cache_update; controld_execd.c,
 * append_restart_list) offers two ways to apply a changed parameter without a restart:
 *  - OCF 1.1: the agent claims <version>1.1</version> or later and lists the action
 *    reload-agent; parameters marked reloadable="1" are reloaded, all others restart it;
 *  - legacy (pre-1.1): the agent claims an older version and lists the action reload; parameters
 *    marked unique="1" restart it, all others are reloaded.
 * An agent that claims 1.1 and lists only reload gets neither: every change restarts the VM (as
 * this one did). The issue wants this meta-data to validate against what Debian 12 ships,
 * /usr/share/resource-agents/ra-api-1.dtd (which ocf-tester uses; its action names do not
 * include reload-agent) and metadata.rng (no reloadable attribute), so OCF 1.1's way cannot be
 * written down here; the legacy one can, and Pacemaker 2.1 honours it. Hence 1.0 and reload.
 * The agent still answers reload-agent (vm_agent.c), the same as reload: the controller sends
 * that name when it could not get the meta-data (controld_execd.c, do_lrm_rsc_op: "Default to
 * the OCF 1.1 name"), and a future OCF 1.1 meta-data would use it.
 *
 * unique="1" (a change stops the VM and starts it again): config and domain, the VM's identity;
 * no two resources share them, so the uniqueness checks of pcs 0.11 (an error without --force)
 * and crmsh 4.4 (a warning, then "Do you still want to commit?", which is "no" when it cannot
 * ask) find nothing to complain about.
 * hypervisor is unique="0" although a VM cannot move to another hypervisor while it runs: every
 * VM of a node names the same local URI, and unique="1" would make pcs refuse, and crmsh
 * question, each resource that spells it out after the first. A reload checks it instead: when
 * the new URI does not find the domain whose QEMU runs here, the reload fails and Pacemaker's
 * recovery stops the VM through the old URI (a stop gets the parameters of the last successful
 * start or reload: controld_execd.c, update_history_cache) and starts it through the new one.
 * Everything else is read afresh by each action, so unique="0": a change is a reload that never
 * touches the running VM (doc/admin-guide.md, section 7; man 7 ocf_drover_vm).
 */
#include "vm_agent.h"

static const char metadata[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
    "<resource-agent name=\"vm\" version=\"" DR_VERSION "\">\n"
    "<version>1.0</version>\n"
    "<longdesc lang=\"en\">A virtual machine managed through libvirt's C API, with live migration "
    "that is fast, observable and safe when it cannot converge. State comes from libvirt's state "
    "and reason (a domain paused for an incoming migration, paused on an I/O error or crashed is "
    "never reported as running); with libvirtd down, the QEMU process itself is "
    "checked.</longdesc>\n"
    "<shortdesc lang=\"en\">Virtual machine (drover)</shortdesc>\n"
    "<parameters>\n"
    "<parameter name=\"config\" unique=\"1\" required=\"1\">\n"
    "<longdesc lang=\"en\">Absolute path of the libvirt domain XML. Defined on this node at start; "
    "its name and UUID identify the domain (and are recorded at start, so a probe finds a running "
    "domain even when this file is on unmounted shared storage). A change stops the VM and starts "
    "it again.</longdesc>\n"
    "<shortdesc lang=\"en\">Domain XML file</shortdesc>\n"
    "<content type=\"string\"/>\n"
    "</parameter>\n"
    "<parameter name=\"domain\" unique=\"1\" required=\"1\">\n"
    "<longdesc lang=\"en\">Name or UUID of a domain already defined on every node. One of config "
    "and domain is required; with both, they must agree. A change stops the VM and starts it "
    "again.</longdesc>\n"
    "<shortdesc lang=\"en\">Domain name or UUID</shortdesc>\n"
    "<content type=\"string\"/>\n"
    "</parameter>\n"
    "<parameter name=\"hypervisor\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">libvirt URI of the local hypervisor. A change is reloaded; when the new "
    "URI does not find the running domain, the reload fails and Pacemaker restarts the VM through "
    "the new one.</longdesc>\n"
    "<shortdesc lang=\"en\">Hypervisor URI</shortdesc>\n"
    "<content type=\"string\" default=\"qemu:///system\"/>\n"
    "</parameter>\n"
    "<parameter name=\"remote_uri\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">libvirt URI of a migration target; %n is replaced by the target node's "
    "name. This is the control connection (management network).</longdesc>\n"
    "<shortdesc lang=\"en\">Target's libvirt URI</shortdesc>\n"
    "<content type=\"string\" default=\"qemu+tcp://%n/system\"/>\n"
    "</parameter>\n"
    "<parameter name=\"migration_network\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">node=address pairs (e.g. node1=198.18.2.11 node2=198.18.2.12): the "
    "memory stream of a live migration goes to the target's address on the dedicated migration "
    "network, while libvirt's control connection uses remote_uri.</longdesc>\n"
    "<shortdesc lang=\"en\">Migration addresses per node</shortdesc>\n"
    "<content type=\"string\"/>\n"
    "</parameter>\n"
    "<parameter name=\"migration_policy\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">precopy: plain pre-copy, abort at the timeout. autoconverge: pre-copy "
    "with auto-converge throttling, abort at the timeout. postcopy: auto-converge, then switch to "
    "post-copy after postcopy_after seconds. An abort leaves the VM running on the source and "
    "fails the migration: never a silent stop and start.</longdesc>\n"
    "<shortdesc lang=\"en\">What to do when memory is dirtied faster than it is sent</shortdesc>\n"
    "<content type=\"string\" default=\"postcopy\"/>\n"
    "</parameter>\n"
    "<parameter name=\"migration_bandwidth\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">Limit of the memory stream, MiB/s; 0 is unlimited.</longdesc>\n"
    "<shortdesc lang=\"en\">Migration bandwidth in MiB/s</shortdesc>\n"
    "<content type=\"integer\" default=\"0\"/>\n"
    "</parameter>\n"
    "<parameter name=\"migration_downtime\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">Longest pause the final switchover may cause, ms; 0 keeps QEMU's "
    "default (300 ms).</longdesc>\n"
    "<shortdesc lang=\"en\">Maximum downtime in ms</shortdesc>\n"
    "<content type=\"integer\" default=\"0\"/>\n"
    "</parameter>\n"
    "<parameter name=\"migration_parallel\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">Number of parallel connections (multifd); 0 or 1 uses one.</longdesc>\n"
    "<shortdesc lang=\"en\">Parallel migration connections</shortdesc>\n"
    "<content type=\"integer\" default=\"0\"/>\n"
    "</parameter>\n"
    "<parameter name=\"migration_timeout\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">Give up (abort, VM stays on the source) after this long; 0: the "
    "migrate_to operation's timeout minus 5 s.</longdesc>\n"
    "<shortdesc lang=\"en\">Migration timeout in seconds</shortdesc>\n"
    "<content type=\"integer\" default=\"0\"/>\n"
    "</parameter>\n"
    "<parameter name=\"postcopy_after\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">With migration_policy=postcopy: switch to post-copy after this many "
    "seconds; 0: automatic, the time one pass of the VM's memory takes at migration_bandwidth "
    "(at least 2 s; 5 s when unlimited), and never more than half the migration "
    "timeout.</longdesc>\n"
    "<shortdesc lang=\"en\">Seconds of pre-copy before post-copy</shortdesc>\n"
    "<content type=\"integer\" default=\"0\"/>\n"
    "</parameter>\n"
    "<parameter name=\"shutdown_timeout\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">How long stop waits for the guest to shut down before destroying it; 0: "
    "the stop operation's timeout minus 5 s.</longdesc>\n"
    "<shortdesc lang=\"en\">Graceful shutdown timeout in seconds</shortdesc>\n"
    "<content type=\"integer\" default=\"0\"/>\n"
    "</parameter>\n"
    "<parameter name=\"force_stop\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">Stop by destroying the domain at once.</longdesc>\n"
    "<shortdesc lang=\"en\">Destroy without a graceful shutdown</shortdesc>\n"
    "<content type=\"boolean\" default=\"false\"/>\n"
    "</parameter>\n"
    "<parameter name=\"autoset_utilization\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">Set the resource's cpu and hv_memory utilization from the domain, so "
    "Pacemaker can place VMs by capacity: at start, migrate_from and reload, when the domain's "
    "vCPUs or maximum memory change, and after a check of the CIB (see "
    "utilization_check_interval).</longdesc>\n"
    "<shortdesc lang=\"en\">Publish vCPUs and memory as utilization</shortdesc>\n"
    "<content type=\"boolean\" default=\"true\"/>\n"
    "</parameter>\n"
    "<parameter name=\"utilization_check_interval\" unique=\"0\" required=\"0\">\n"
    "<longdesc lang=\"en\">With autoset_utilization: at most this many seconds after the last "
    "check, the next recurring monitor reads the resource's utilization from the CIB and puts "
    "back what is missing or wrong (re-applying the configuration, e.g. with crm configure load "
    "update, drops it). Such a monitor costs about as much as a probe; the others are answered "
    "from droverd's cache. 0: no periodic check.</longdesc>\n"
    "<shortdesc lang=\"en\">Seconds between checks of the CIB's utilization</shortdesc>\n"
    "<content type=\"integer\" default=\"60\"/>\n"
    "</parameter>\n"
    "</parameters>\n"
    "<actions>\n"
    "<action name=\"start\" timeout=\"90s\"/>\n"
    "<action name=\"stop\" timeout=\"90s\"/>\n"
    "<action name=\"monitor\" timeout=\"30s\" interval=\"10s\" depth=\"0\"/>\n"
    "<action name=\"migrate_to\" timeout=\"120s\"/>\n"
    "<action name=\"migrate_from\" timeout=\"60s\"/>\n"
    "<action name=\"validate-all\" timeout=\"10s\"/>\n"
    "<action name=\"meta-data\" timeout=\"5s\"/>\n"
    "<action name=\"reload\" timeout=\"10s\"/>\n"
    "</actions>\n"
    "</resource-agent>\n";

const char *
vm_agent_metadata(void)
{
    return metadata;
}
