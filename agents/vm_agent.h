/*
 * ocf:drover:vm, the VM resource agent: its parameters and actions. agents/vm.c is the thin
 * main() around this; unit tests drive it with a parameter getter instead of the environment.
 */
#ifndef DROVER_VM_AGENT_H
#define DROVER_VM_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "drover/vm.h"

/* OCF exit codes (OCF resource agent API 1.1, Pacemaker Explained "OCF return codes"). */
enum ocf_rc {
    OCF_SUCCESS = 0,
    OCF_ERR_GENERIC = 1,
    OCF_ERR_ARGS = 2,
    OCF_ERR_UNIMPLEMENTED = 3,
    OCF_ERR_PERM = 4,
    OCF_ERR_INSTALLED = 5,
    OCF_ERR_CONFIGURED = 6,
    OCF_NOT_RUNNING = 7,
};

#define VM_AGENT_MAX_NODES 64

/* One node → migration-network address pair. */
struct vm_agent_addr {
    char node[256];
    char addr[256];
};

struct vm_agent {
    /* instance parameters (OCF_RESKEY_<name>) */
    char config[4096]; /* domain XML path */
    char domain[256];  /* name or UUID */
    char hypervisor[512];
    char remote_uri[512]; /* template for the target's libvirt URI; %n = node name */
    struct vm_agent_addr migration_addrs[VM_AGENT_MAX_NODES];
    size_t n_migration_addrs;
    enum dr_vm_migration_policy policy;
    unsigned int migration_bandwidth; /* MiB/s, 0 = unlimited */
    unsigned int migration_downtime;  /* ms, 0 = QEMU's default */
    unsigned int migration_parallel;
    unsigned int migration_timeout; /* s, 0 = from the operation's timeout */
    unsigned int postcopy_after;    /* s, 0 = automatic */
    unsigned int shutdown_timeout;  /* s, 0 = from the operation's timeout */
    bool force_stop;
    bool autoset_utilization;
    unsigned int utilization_check_interval; /* s, 0 = no periodic check */
    /* meta attributes Pacemaker passes (OCF_RESKEY_CRM_meta_<name>) */
    unsigned int op_timeout_ms;
    unsigned int op_interval_ms;
    char migrate_source[256];
    char migrate_target[256];
    char instance[256]; /* OCF_RESOURCE_INSTANCE */
};

/* Reads one variable (NULL when unset); the environment in production. */
typedef const char *(*vm_agent_getter)(const char *name, void *ctx);

/*
 * Fill \p a from OCF_RESKEY_* variables. Returns OCF_SUCCESS, or OCF_ERR_CONFIGURED with \p err
 * naming the parameter and what is wrong with it.
 */
int vm_agent_parse(struct vm_agent *a, vm_agent_getter get, void *ctx, char *err, size_t err_len);

/* The meta-data XML: OCF 1.0's vocabulary, for legacy reload (see vm_metadata.c). */
const char *vm_agent_metadata(void);

/* Whether \p action is one the agent implements. */
bool vm_agent_action_known(const char *action);

/* Run an action ("start", "monitor", ...); returns an OCF exit code. */
int vm_agent_run(struct vm_agent *a, const char *action);

/* The libvirt URI of a migration target: remote_uri with %n replaced by the node name. */
int vm_agent_target_uri(const struct vm_agent *a, const char *node, char *buf, size_t len);

/*
 * "tcp://ADDR" for the target's migration-network address, or "" when none is configured. An
 * IPv6 address (two colons or more) is bracketed; "host:port" and "[v6]:port" are kept as given.
 * Returns 0, -EINVAL (no node), -ENAMETOOLONG.
 */
int vm_agent_migrate_uri(const struct vm_agent *a, const char *node, char *buf, size_t len);

/*
 * The OCF code a monitor reports for a domain in \p info's state: running states (including a
 * user pause and the source's pause during an outgoing migration) are OCF_SUCCESS, shut off is
 * OCF_NOT_RUNNING, and a domain paused for an incoming migration, paused on an I/O error,
 * crashed, split by a failed post-copy or in an unknown state is OCF_ERR_GENERIC.
 */
int vm_agent_monitor_state(const struct vm_agent *a, const struct dr_vm_info *info);

/*
 * The QEMU process of a domain, found without libvirt (libvirtd down) in /proc: libvirt starts
 * QEMU with "-name guest=NAME,..." and "-uuid UUID". \p uuid may be "" (then the name alone
 * decides). Returns its PID, 0 when none runs, -errno when /proc cannot be read.
 */
pid_t vm_agent_qemu_pid(const char *name, const char *uuid);

/*
 * Whether \p xml (what `cibadmin --query --xpath` printed: lrm_rsc_op elements of this resource
 * on the migration's target) holds a successful migrate_from (rc-code 0, op-status 0) from
 * \p source (NULL or "": any) whose last-rc-change is at or after \p since_s (epoch seconds,
 * when migrate_to began). A stop on the source after migrate_to leaves the target's copy alone
 * only then; otherwise it stops that copy (or fails when it cannot).
 */
bool vm_agent_migrate_from_seen(const char *xml, const char *source, int64_t since_s);

/*
 * Whether \p xml (what `stonith_admin --history NODE --verbose --output-as=xml` printed) holds a
 * successful fencing (reboot or off; unfencing is "on") of \p target that completed at or after
 * \p since_s (epoch seconds; Pacemaker prints the time to the second, with its zone). A node
 * fenced since a migrate_to handed it the domain no longer runs that copy: the fence agent
 * reported success only once the node could not run it.
 */
bool vm_agent_fenced_since(const char *xml, const char *target, int64_t since_s);

/*
 * Tests only: read processes under \p proc_root instead of /proc, and keep state files in
 * \p state_dir instead of /run/drover/vm. NULL restores the default.
 */
void vm_agent_set_paths(const char *proc_root, const char *state_dir);

/*
 * Utilization (autoset_utilization=true): after start and migrate_from, and in a monitor when
 * the domain's values (droverd's, else libvirt's) differ from the last ones set (kept in the
 * state file, vm_state.h), the resource's utilization is set for Pacemaker's placement:
 *   crm_resource --resource RSC --utilization --set-parameter cpu --parameter-value VCPUS
 *   crm_resource --resource RSC --utilization --set-parameter hv_memory --parameter-value MIB
 * (hv_memory: the domain's maximum memory in MiB). Since a re-applied configuration can drop
 * them, a monitor also checks the CIB once per utilization_check_interval (and reload at once):
 *   crm_resource --resource RSC --utilization --get-parameter NAME --quiet --output-to=FILE
 * and sets what is missing or different. The front door (vm_front.c) hands a recurring monitor
 * to the full agent only then. A failure is a warning, never a failed action, and is retried at
 * the next check.
 *
 * Live migration progress (migrate_to), published without touching the CIB: about once a
 * second, on the source node,
 *   attrd_updater --private -n drover-migration-RSC -U "PERCENT REMAINING_MIB ITERATION DIRTY"
 * where the value is four decimal integers separated by single spaces:
 *   PERCENT        data processed / data total of the migration job, 0..100;
 *   REMAINING_MIB  data still to send, MiB (rounded down);
 *   ITERATION      pre-copy pass number (1 is the first full pass);
 *   DIRTY          guest memory dirty rate, pages per second.
 * The attribute is private (never in the CIB, invisible to crm_attribute and crm_mon): read it
 * with `attrd_updater --query --all --name drover-migration-RSC` (or -N SOURCE_NODE). It is
 * deleted (attrd_updater --private -n drover-migration-RSC -D, private too: a public delete would
 * put it in the CIB's status and abort the transition between migrate_to and migrate_from) when
 * migrate_to ends, whatever the outcome; the final statistics are
 * logged at notice by the VM module.
 */
#define VM_AGENT_PROGRESS_ATTR_PREFIX "drover-migration-"

/*
 * After start and migrate_from, the utilization (autoset_utilization) is published by a
 * detached process, so that the action ends as soon as the VM runs. Unit tests set this false
 * to have it published in the calling process.
 */
extern bool vm_agent_detach_utilization;

#endif
