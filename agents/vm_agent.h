/*
 * ocf:drover:vm, the VM resource agent: its parameters and actions. agents/vm.c is the thin
 * main() around this; unit tests drive it with a parameter getter instead of the environment.
 */
#ifndef DROVER_VM_AGENT_H
#define DROVER_VM_AGENT_H

#include <stdbool.h>
#include <stddef.h>

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

/* The meta-data XML (OCF 1.1). */
const char *vm_agent_metadata(void);

/* Whether \p action is one the agent implements. */
bool vm_agent_action_known(const char *action);

/* Run an action ("start", "monitor", ...); returns an OCF exit code. */
int vm_agent_run(struct vm_agent *a, const char *action);

/* The libvirt URI of a migration target: remote_uri with %n replaced by the node name. */
int vm_agent_target_uri(const struct vm_agent *a, const char *node, char *buf, size_t len);

/* "tcp://ADDR" for the target's migration-network address, or "" when none is configured. */
int vm_agent_migrate_uri(const struct vm_agent *a, const char *node, char *buf, size_t len);

#endif
