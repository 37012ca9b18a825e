/*
 * droverd's view of the node's VMs: one libvirt connection fed by lifecycle events, a state
 * cache the VM agent's monitor reads in one local round trip, and the immediate report of a VM
 * that died behind Pacemaker's back (crm_resource --fail) unless drover itself is stopping or
 * migrating it.
 */
#ifndef DROVERD_VMWATCH_H
#define DROVERD_VMWATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "drover/daemon.h"
#include "drover/vm.h"

/* Start watching \p uri (NULL: qemu:///system) in a thread of its own. 0 or -errno. */
int vmwatch_start(const char *uri, const char *node_name);

/* Stop the thread and drop the connection. */
void vmwatch_stop(void);

/* Whether the event connection is up (the cache is trustworthy). */
bool vmwatch_connected(void);

/*
 * The cached state of a domain by name or UUID, with its vCPUs and maximum memory (0 while
 * unknown). Returns 1 when known (and the connection is up; \p out filled), 0 when the domain is
 * unknown to the cache, -ENOTCONN when droverd has no libvirt connection (the caller must ask
 * libvirt itself).
 */
int vmwatch_state(const char *name_or_uuid, struct dr_daemon_vm_state *out);

/*
 * What drover itself is doing with a domain: \p resource names its Pacemaker resource (for
 * failure reports); \p busy_ms > 0 marks a stop or migration in progress for that long, so that
 * the domain stopping is not reported as a failure; busy_ms == 0 clears the mark.
 */
int vmwatch_expect(const char *name_or_uuid, const char *resource, uint32_t busy_ms);

/*
 * While droverd itself keeps the node free of VMs (fenced, or never unfenced), the stops it
 * causes are its own: no failure reports.
 */
void vmwatch_set_quiet(bool quiet);

#endif
