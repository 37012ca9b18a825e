/*
 * The agent's small state file per resource, /run/drover/vm/<resource>, shared by the front
 * door (vm_front.c, libqb only) and the full agent: one line
 *
 *     NAME UUID CPU HV_MEMORY_MIB CHECKED_S
 *
 * NAME and UUID identify the domain started here (UUID "-" when unknown); CPU and HV_MEMORY_MIB
 * are the utilization last set in (or found in) the CIB, 0 when unknown; CHECKED_S is when the
 * CIB's utilization was last set or checked, in CLOCK_BOOTTIME seconds (/run does not outlive a
 * boot), 0 when never. Files written by earlier versions hold the first two or four fields.
 */
#ifndef DROVER_VM_STATE_H
#define DROVER_VM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_STATE_DIR "/run/drover/vm"
/* utilization_check_interval's default, in seconds. */
#define VM_STATE_CHECK_INTERVAL_S 60u

struct vm_state {
    char name[256];
    char uuid[64];
    unsigned int cpu;
    unsigned long long hv_memory_mib;
    int64_t checked_s;
};

/* What a running domain's utilization needs, as far as the state file can tell. */
enum vm_state_util {
    VM_STATE_UTIL_OK = 0,      /* set, unchanged, checked recently enough */
    VM_STATE_UTIL_CHANGED = 1, /* the domain's vCPUs or memory differ from what was set */
    VM_STATE_UTIL_CHECK = 2,   /* the CIB is due a check (it may have lost the values) */
};

/* \p dir/\p instance into \p buf; -ENAMETOOLONG, -EINVAL (an instance that is not a file name). */
int vm_state_path(const char *dir, const char *instance, char *buf, size_t len);

/* Read \p path. 0; -errno from fopen; -EINVAL when the file holds no name. */
int vm_state_read(const char *path, struct vm_state *st);

/* Create \p dir and its parent (/run/drover) when missing; best effort. */
void vm_state_mkdir(const char *dir);

/* Replace \p path atomically (a temporary file renamed). 0 or -errno. */
int vm_state_write(const char *path, const struct vm_state *st);

/* CLOCK_BOOTTIME in seconds: the clock CHECKED_S is kept in. */
int64_t vm_state_now_s(void);

/*
 * Whether the domain's utilization needs the full agent: \p vcpus and \p memory_mib are its
 * values now (0: unknown, never "changed"); \p interval_s is utilization_check_interval (0: no
 * periodic check, only a first one). CHANGED needs values set before (a failed attempt waits
 * for the next check); CHECK when never checked, when \p interval_s has passed, or when
 * CHECKED_S lies in the future (a clock that cannot be trusted).
 */
enum vm_state_util vm_state_utilization(const struct vm_state *st, unsigned int vcpus,
                                        unsigned long long memory_mib, unsigned int interval_s,
                                        int64_t now_s);

/*
 * migrate_to's record, on the source, of a domain it is handing (or handed) to another node:
 * \p dir/.migrated-<resource> (a leading dot no resource ID can take), one line
 *
 *     TARGET URI SOURCE SINCE_S
 *
 * TARGET the node, URI its libvirt (remote_uri with %n), SOURCE this node, SINCE_S when the
 * migration began in wall-clock epoch seconds (the clock of the CIB's last-rc-change). A stop on
 * the source that finds it checks that Pacemaker completed the migration (vm_agent.c).
 */
struct vm_migration_record {
    char target[256];
    char uri[600];
    char source[256];
    int64_t since_s;
};

/* \p dir/.migrated-\p instance into \p buf; -ENAMETOOLONG, -EINVAL as vm_state_path. */
int vm_state_migration_path(const char *dir, const char *instance, char *buf, size_t len);

/* Read \p path: 0; -errno from fopen; -EINVAL when it does not hold the four fields. */
int vm_state_migration_read(const char *path, struct vm_migration_record *rec);

/* Replace \p path atomically. 0 or -errno; -EINVAL for a field with white space or empty. */
int vm_state_migration_write(const char *path, const struct vm_migration_record *rec);

#endif
