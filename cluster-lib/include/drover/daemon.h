/**
 * \file daemon.h
 * \brief Client side of droverd, drover's per-node daemon.
 *
 * droverd holds what must outlive a single call on a node: the iSCSI sessions that carry the
 * node's PR registrations and the watch on the node's own key. The fence agent and the CLI ask
 * it over libqb IPC (service name DR_DAEMON_IPC_NAME, which is an abstract unix socket and so
 * private to the network namespace). Every call connects, sends one request, waits at most
 * \p timeout_ms for the answer and disconnects: a missing daemon is -DR_E_DAEMON at once, a
 * hung one is -DR_E_DAEMON after the timeout, never a hang.
 *
 * The protocol is versioned (DR_DAEMON_PROTO_VERSION); a daemon that speaks another version
 * answers -DR_E_PROTOCOL and the client reports it.
 */
#ifndef DROVER_DAEMON_H
#define DROVER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drover/pr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is libdrover's public ABI (the library builds with hidden visibility).
 */
#pragma GCC visibility push(default)

/** Default libqb IPC service name of droverd. */
#define DR_DAEMON_IPC_NAME "droverd"
/** Version of the request/response layout. */
#define DR_DAEMON_PROTO_VERSION 2u
/** Longest device spec droverd accepts. */
#define DR_DAEMON_SPEC_MAX 512
/** Most devices one droverd holds. */
#define DR_DAEMON_MAX_DEVICES 16
/** Most keys a read-keys answer carries. */
#define DR_DAEMON_MAX_KEYS 128

/** What droverd knows of its registration on a device (and, worst of all, on the node). */
enum dr_daemon_state {
    DR_DAEMON_STATE_STARTING = 0,        /**< not yet logged in or not yet read */
    DR_DAEMON_STATE_REGISTERED = 1,      /**< our key is registered through our session */
    DR_DAEMON_STATE_UNFENCE_PENDING = 2, /**< never registered; waiting for `on` (unfencing) */
    DR_DAEMON_STATE_FENCED = 3,     /**< our key was removed: VMs are stopped and kept stopped */
    DR_DAEMON_STATE_LOST = 4,       /**< the session to the device dropped; reconnecting */
    DR_DAEMON_STATE_NO_DEVICES = 5, /**< droverd holds no fencing device (VM watch only) */
};

/** One device held by droverd. */
struct dr_daemon_device_status {
    char spec[DR_DAEMON_SPEC_MAX];
    uint32_t state; /**< enum dr_daemon_state */
};

/** droverd's answer to a status request. */
struct dr_daemon_status {
    char node[256];
    char cluster[256];
    uint64_t key;
    uint32_t state;         /**< enum dr_daemon_state: the worst of the devices' states */
    uint32_t vms_destroyed; /**< VMs stopped because the node was fenced, since start */
    uint32_t n_devices;
    struct dr_daemon_device_status devices[DR_DAEMON_MAX_DEVICES];
};

/**
 * droverd's cached view of one domain, from libvirt's lifecycle events. The sizes (vcpus,
 * max_memory_kib) are read when an event arrives and every DR_DAEMON_VM_SIZES_REFRESH_MS; they
 * came with protocol version 2 unchanged (the answer's size did not change), so a droverd that
 * predates them answers 0 there: unknown.
 */
struct dr_daemon_vm_state {
    uint32_t known; /**< 1: droverd knows the domain; 0: no such domain on this node */
    uint32_t state; /**< enum dr_vm_state */
    int32_t virt_state;
    int32_t virt_reason;
    uint32_t vcpus;          /**< current vCPUs; 0 when unknown */
    uint32_t reserved;       /**< 0 */
    uint64_t max_memory_kib; /**< maximum memory; 0 when unknown */
};

/** How often droverd re-reads the sizes of the domains it knows (no event tells of a hot-plug). */
#define DR_DAEMON_VM_SIZES_REFRESH_MS 30000u

/** Name of a state ("registered"). */
const char *dr_daemon_state_name(uint32_t state);

/**
 * Ask droverd what it holds.
 * \param ipc_name service name, or NULL for DR_DAEMON_IPC_NAME (borrowed).
 * \return 0; -DR_E_DAEMON when droverd is absent or does not answer in time; -DR_E_PROTOCOL.
 */
int dr_daemon_status(const char *ipc_name, unsigned int timeout_ms, struct dr_daemon_status *out);

/**
 * Unfence this node: droverd registers its key on every device it holds (through its own
 * sessions) and reserves \p type where nobody holds a reservation.
 * \return 0; -DR_E_DAEMON; -DR_E_PROTOCOL; the PR error of the first device that failed.
 */
int dr_daemon_unfence(const char *ipc_name, unsigned int timeout_ms, enum dr_pr_type type);

/**
 * Whether droverd holds \p device (a spec as given to droverd).
 * \return 1 if it does, 0 if not, -DR_E_DAEMON, -DR_E_PROTOCOL.
 */
int dr_daemon_has_device(const char *ipc_name, unsigned int timeout_ms, const char *device);

/**
 * PREEMPT \p victim_key on \p device through droverd's registered session. With \p try_abort,
 * PREEMPT AND ABORT is tried first; a device that rejects it gets PREEMPT, and \p *fell_back
 * says so.
 * \return 0; -ENOENT if droverd does not hold \p device; -DR_E_NOT_REGISTERED if droverd's own
 *         registration there is gone; PR and transport errors; -DR_E_DAEMON; -DR_E_PROTOCOL.
 */
int dr_daemon_preempt(const char *ipc_name, unsigned int timeout_ms, const char *device,
                      uint64_t victim_key, enum dr_pr_type type, bool try_abort, bool *fell_back);

/**
 * READ KEYS on \p device through droverd's session.
 * \param[out] out keys; free with dr_pr_keys_free().
 * \return as dr_daemon_preempt().
 */
int dr_daemon_read_keys(const char *ipc_name, unsigned int timeout_ms, const char *device,
                        struct dr_pr_keys *out);

/**
 * Write probe (dr_pr_probe_write() at LBA 0) on \p device through droverd's session.
 * \return 0 if this node may write; -DR_E_RESERVATION_CONFLICT; as dr_daemon_preempt().
 */
int dr_daemon_probe_write(const char *ipc_name, unsigned int timeout_ms, const char *device);

/**
 * A domain's state from droverd's event-fed cache: one local round trip instead of a libvirt
 * client start-up. The VM agent's monitor asks this first.
 * \param domain name or UUID, or the absolute path of the domain's XML file, which droverd reads
 *        for the name and UUID (borrowed).
 * \return 0 with \p out filled (out->known 0: droverd's libvirt connection is up and has no
 *         such domain); -ENOTCONN when droverd has no libvirt connection (ask libvirt
 *         yourself); -ENOENT or -EACCES when the XML file cannot be read; -DR_E_DAEMON;
 *         -DR_E_PROTOCOL; -EINVAL.
 */
int dr_daemon_vm_state(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                       struct dr_daemon_vm_state *out);

/**
 * Tell droverd what drover does with a domain: \p resource is its Pacemaker resource (named in
 * failure reports); \p busy_ms > 0 marks a stop or migration drover performs, for that long, so
 * that the domain stopping is not reported as a failure; 0 clears the mark.
 * \return 0; -DR_E_DAEMON; -DR_E_PROTOCOL; -EINVAL; -ENOSPC when droverd tracks too many.
 */
int dr_daemon_vm_expect(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                        const char *resource, uint32_t busy_ms);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
