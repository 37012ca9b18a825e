/**
 * \file vm.h
 * \brief VM control and live migration through libvirt's C API (never virsh).
 *
 * Lifecycle: dr_vm_conn_open() one connection per process (droverd keeps one for the node's
 * life; an agent opens one per call), find a domain with dr_vm_lookup() or define it from its
 * XML with dr_vm_define_file(), act on it (start, stop, migrate, read state and job stats),
 * dr_vm_free() it, dr_vm_conn_close(). libvirt errors are translated once, here, into libdrover
 * codes; libvirt's own message is logged where the error is detected.
 *
 * State is never a bare "running or not": dr_vm_get_info() maps libvirt's state *and reason*
 * into enum dr_vm_state, so that a domain paused for an incoming migration, paused on an I/O
 * error, crashed or shut off is never mistaken for a running VM.
 */
#ifndef DROVER_VM_H
#define DROVER_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is libdrover's public ABI (the library builds with hidden visibility).
 */
#pragma GCC visibility push(default)

struct dr_vm_conn;
struct dr_vm;

/** What a domain is doing, from libvirt's state and reason together. */
enum dr_vm_state {
    DR_VM_STATE_UNKNOWN = 0,
    DR_VM_STATE_RUNNING,              /**< running (or blocked, which is running) */
    DR_VM_STATE_PAUSED_MIGRATION_IN,  /**< paused: the target of an incoming migration */
    DR_VM_STATE_PAUSED_MIGRATION_OUT, /**< paused by an outgoing migration (switchover, postcopy) */
    DR_VM_STATE_PAUSED_IO_ERROR,      /**< paused on a storage I/O error */
    DR_VM_STATE_PAUSED,               /**< paused for any other reason (user, save, snapshot...) */
    DR_VM_STATE_SHUTTING_DOWN,        /**< a guest shutdown is in progress */
    DR_VM_STATE_SHUTOFF,              /**< defined, not running */
    DR_VM_STATE_CRASHED,              /**< the guest crashed (and libvirt keeps it so) */
    DR_VM_STATE_PMSUSPENDED,          /**< suspended by guest power management */
    /** A post-copy migration failed: the guest's memory is split between source and target,
     *  neither side is a whole VM, and only a post-copy recovery (or stopping both) ends it. */
    DR_VM_STATE_POSTCOPY_FAILED,
};

/** A domain's identity and state. */
struct dr_vm_info {
    char name[256];
    char uuid[37];
    enum dr_vm_state state;
    int virt_state;  /**< libvirt's virDomainState, for logs */
    int virt_reason; /**< libvirt's reason code for that state, for logs */
    bool persistent; /**< defined on this host (not only transient) */
    unsigned int vcpus;
    uint64_t memory_kib; /**< current memory */
    uint64_t max_memory_kib;
};

/** Live statistics of a domain's current (or just completed) job, e.g. a migration. */
struct dr_vm_job_stats {
    bool active; /**< a job is running */
    uint64_t elapsed_ms;
    uint64_t data_total; /**< bytes */
    uint64_t data_processed;
    uint64_t data_remaining;
    uint64_t memory_dirty_rate; /**< pages per second */
    uint64_t memory_iteration;  /**< pre-copy pass number */
    uint64_t memory_bps;        /**< transfer rate, bytes per second */
    uint64_t expected_downtime_ms;
    uint64_t downtime_ms; /**< actual downtime, once completed */
    uint64_t postcopy_requests;
    uint32_t auto_converge_throttle; /**< percent */
};

/** How a live migration that does not converge is handled. */
enum dr_vm_migration_policy {
    DR_VM_MIGRATION_PRECOPY = 0,  /**< pre-copy only; abort at the timeout */
    DR_VM_MIGRATION_AUTOCONVERGE, /**< pre-copy with auto-converge throttling; abort at the timeout
                                   */
    DR_VM_MIGRATION_POSTCOPY,     /**< auto-converge, then post-copy after postcopy_after_ms */
};

/** Parameters of dr_vm_migrate(); zero-initialise, then fill. */
struct dr_vm_migrate_params {
    const char *dest_uri; /**< libvirt URI of the target host (control connection) */
    const char
        *migrate_uri; /**< data stream address on the migration network (tcp://host), or NULL */
    const char *dest_name; /**< node name of the target, for logs */
    enum dr_vm_migration_policy policy;
    unsigned int bandwidth_mib_s;   /**< 0: unlimited */
    unsigned int downtime_ms;       /**< maximum tolerable downtime; 0: QEMU's default */
    unsigned int parallel;          /**< parallel connections (multifd); 0 or 1: one */
    unsigned int timeout_ms;        /**< abort after this long (0: never) */
    unsigned int postcopy_after_ms; /**< DR_VM_MIGRATION_POSTCOPY: switch after this long */
    /** Called every progress_interval_ms with live stats (may be NULL). */
    void (*progress)(const struct dr_vm_job_stats *stats, void *opaque);
    void *opaque;
    unsigned int progress_interval_ms;
};

/** What dr_vm_migrate() decided and measured. */
struct dr_vm_migrate_result {
    bool postcopy; /**< switched to post-copy */
    bool aborted;  /**< aborted by policy or timeout: the VM still runs on the source */
    /**
     * Completed job statistics: libvirt's (the source's, else the destination's), else the last
     * live sample (stats_sampled). After post-copy libvirt keeps none (the source's go with the
     * undefined domain, the destination's job ends without any): stats.downtime_ms is then
     * measured by drover (downtime_measured), from the source seen paused to the destination
     * seen running, the domains' states polled every few ms during the switch.
     */
    struct dr_vm_job_stats stats;
    uint64_t wall_ms;
    bool stats_sampled;     /**< stats are the last live sample, not libvirt's final ones */
    bool downtime_measured; /**< stats.downtime_ms measured by drover, not libvirt's */
};

/**
 * Connect to a hypervisor.
 * \param uri libvirt URI (borrowed), or NULL for qemu:///system.
 * \return 0; -DR_E_LIBVIRT if libvirt refuses or is not running; -ENOMEM.
 */
int dr_vm_conn_open(const char *uri, struct dr_vm_conn **out);

/** Close a connection; NULL is a no-op. */
void dr_vm_conn_close(struct dr_vm_conn *conn);

/** Whether the connection still works (libvirtd may have restarted). */
bool dr_vm_conn_is_alive(struct dr_vm_conn *conn);

/**
 * Hard-stop (virDomainDestroy) every running domain: a fenced node's last duty.
 * \param[out] n_destroyed how many were stopped by this call (may be NULL).
 * \param[out] n_running how many still run after it (may be NULL).
 * \return 0 when none runs any more; -DR_E_LIBVIRT when listing or a destroy failed.
 */
int dr_vm_destroy_all(struct dr_vm_conn *conn, unsigned int *n_destroyed, unsigned int *n_running);

/**
 * Number of running domains.
 * \return the count (>= 0), or -DR_E_LIBVIRT.
 */
int dr_vm_count_running(struct dr_vm_conn *conn);

/**
 * Find a domain by name or UUID.
 * \return 0; -ENOENT if this host has no such domain; -DR_E_LIBVIRT; -EINVAL.
 */
int dr_vm_lookup(struct dr_vm_conn *conn, const char *name_or_uuid, struct dr_vm **out);

/**
 * Define (or redefine) a persistent domain from a domain XML file.
 * \return 0; -ENOENT or -EACCES when the file cannot be read (shared storage not mounted);
 *         -EINVAL for XML libvirt rejects; -EFBIG (over 16 MiB); -DR_E_LIBVIRT.
 */
int dr_vm_define_file(struct dr_vm_conn *conn, const char *xml_path, struct dr_vm **out);

/**
 * Make room on \p conn (a migration's target) for domain \p name with UUID \p uuid: a domain of
 * that name under another UUID that is not running there (a definition left from an earlier
 * placement of a domain whose XML has no <uuid>: libvirt gave each node's definition a UUID of
 * its own) is undefined, so that the migration can define the domain there; libvirt would
 * refuse it otherwise ("already exists with uuid"). Nothing else is touched.
 * \return 0 when nothing stands in the way (no such name, the same UUID, or undefined now);
 *         -EEXIST when a domain of that name but another UUID is active there; -EINVAL;
 *         -DR_E_LIBVIRT.
 */
int dr_vm_clear_stale(struct dr_vm_conn *conn, const char *name, const char *uuid);

/**
 * Read <name> and <uuid> from a domain XML file without libvirt (for probes that must
 * identify a domain even when libvirt cannot be asked).
 * \param[out] uuid the UUID in its 8-4-4-4-12 form (\p uuid_len >= 37), or "" when the XML has
 *             no <uuid> (libvirt then makes one up when it defines the domain).
 * \return 0; -ENOENT, -EACCES (or another -errno) when the file cannot be read; -EINVAL when
 *         it is not a domain XML, has no <name>, or its <uuid> is not a UUID; -ERANGE when the
 *         name does not fit \p name_len; -EFBIG.
 */
int dr_vm_xml_identity(const char *xml_path, char *name, size_t name_len, char *uuid,
                       size_t uuid_len);

/** Free a domain handle; NULL is a no-op. */
void dr_vm_free(struct dr_vm *vm);

/** State, reason, identity and size. \return 0; -ENOENT if the domain vanished; -DR_E_LIBVIRT. */
int dr_vm_get_info(struct dr_vm *vm, struct dr_vm_info *out);

/**
 * Map libvirt's (state, reason) pair; exposed for tests and logs. Alone, the pair cannot say
 * which end of a migration a domain paused with VIR_DOMAIN_PAUSED_MIGRATION is on: it maps to
 * DR_VM_STATE_PAUSED_MIGRATION_IN (never running); dr_vm_get_info() asks the domain's job and
 * says DR_VM_STATE_PAUSED_MIGRATION_OUT on the source.
 */
enum dr_vm_state dr_vm_state_from_virt(int virt_state, int virt_reason);

/** Name of a state ("paused-migration-in"). */
const char *dr_vm_state_name(enum dr_vm_state state);

/** Start a defined domain. \return 0 (also when already running); -DR_E_LIBVIRT. */
int dr_vm_start(struct dr_vm *vm);

/**
 * Stop: ask the guest to shut down, wait up to \p shutdown_timeout_ms, then destroy. With
 * \p force the graceful step is skipped. Returns only when the domain is verifiably not
 * running.
 * \return 0; -ETIMEDOUT if even destroy did not stop it; -DR_E_LIBVIRT.
 */
int dr_vm_stop(struct dr_vm *vm, unsigned int shutdown_timeout_ms, bool force);

/**
 * Live-migrate, peer-to-peer, with the policy in \p params; progress is reported through the
 * callback (from the calling thread). Returns only after libvirt has ended the migration job.
 * On return the VM runs in exactly one place: on the target (0) or, after an abort, on the
 * source (-ETIMEDOUT with result->aborted). A persistent domain's definition moves with it
 * (VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE). \p result is filled on every
 * return but -EINVAL.
 * \return 0; -ETIMEDOUT (policy gave up; VM still on the source); -DR_E_LIBVIRT; -EINVAL;
 *         -ENOMEM.
 */
int dr_vm_migrate(struct dr_vm *vm, const struct dr_vm_migrate_params *params,
                  struct dr_vm_migrate_result *result);

/** Live job statistics. \return 0 (stats->active false when no job); -DR_E_LIBVIRT. */
int dr_vm_job_stats(struct dr_vm *vm, struct dr_vm_job_stats *out);

/** Abort the domain's current job (migration). \return 0; -DR_E_LIBVIRT. */
int dr_vm_abort_job(struct dr_vm *vm);

/** What the migration policy wants next (pure; see dr_vm_migration_decide()). */
enum dr_vm_migration_step {
    DR_VM_MIGRATION_CONTINUE = 0,
    DR_VM_MIGRATION_SWITCH_POSTCOPY,
    DR_VM_MIGRATION_ABORT,
};

/**
 * The policy as a pure function of the live stats and elapsed time, so that it can be tested
 * without a hypervisor: continue, switch to post-copy, or abort.
 */
enum dr_vm_migration_step dr_vm_migration_decide(const struct dr_vm_migrate_params *params,
                                                 const struct dr_vm_job_stats *stats,
                                                 uint64_t elapsed_ms, bool postcopy_started);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
