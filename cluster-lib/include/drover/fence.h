/**
 * \file fence.h
 * \brief Storage fencing with SCSI-3 persistent reservations, as the fence agent runs it.
 *
 * Lifecycle: fill a struct dr_fence_args, from the fencer's `key=value` lines with
 * dr_fence_args_parse_stdin() or from an admin's command line with dr_fence_args_parse_argv(),
 * check it with dr_fence_args_validate(), run one action with dr_fence_run(), then
 * dr_fence_args_free(). The fence agent is a thin main() around these calls.
 *
 * Every device action goes through droverd when droverd holds the device (its iSCSI session
 * is registered and long-lived); otherwise fence_drover opens the device itself. That works
 * alone for SG_IO devices, whose registrations belong to the host; an iSCSI-direct
 * registration made by a short-lived process ends with its session, so `on` for an iscsi://
 * device that droverd does not hold is refused with a message saying so.
 */
#ifndef DROVER_FENCE_H
#define DROVER_FENCE_H

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

/** Fence actions, as the fencer names them. */
enum dr_fence_action {
    DR_FENCE_ACTION_NONE = 0,
    DR_FENCE_ACTION_OFF,
    DR_FENCE_ACTION_ON,
    DR_FENCE_ACTION_REBOOT,
    DR_FENCE_ACTION_STATUS,
    DR_FENCE_ACTION_MONITOR,
    DR_FENCE_ACTION_LIST,
    DR_FENCE_ACTION_METADATA,
    DR_FENCE_ACTION_VALIDATE_ALL,
};

/** Most devices one fence call acts on. */
#define DR_FENCE_MAX_DEVICES 32
/** Most node → initiator IQN pairs. */
#define DR_FENCE_MAX_NODES 64

/** One entry of the node → initiator IQN map. */
struct dr_fence_initiator {
    char *node;
    char *iqn;
};

/** Everything a fence call needs; strings are owned (see dr_fence_args_free()). */
struct dr_fence_args {
    enum dr_fence_action action;
    char *plug;          /**< the node acted on (plug, port) */
    char *local_node;    /**< the node this runs on; default: the short host name */
    char *nodename;      /**< fence-agents' nodename: the node acted on (Pacemaker passes the
                            target); an alias of plug */
    char *cluster_name;  /**< default: totem.cluster_name of corosync_conf */
    char *corosync_conf; /**< default /etc/corosync/corosync.conf */
    char *devices[DR_FENCE_MAX_DEVICES];
    size_t n_devices;
    struct dr_fence_initiator initiators[DR_FENCE_MAX_NODES];
    size_t n_initiators;
    char *initiator_prefix;      /**< IQN of an unmapped node = prefix + node name */
    enum dr_pr_type type;        /**< reservation type; default WERO */
    unsigned int timeout_ms;     /**< per device and per command; default 5000 */
    unsigned int victim_stop_ms; /**< after off: how long the victim's droverd may take to stop
                                    its VMs; off returns only then (default 100) */
    char *ipc_name;              /**< droverd's IPC name; default DR_DAEMON_IPC_NAME */
    int use_daemon;              /**< 1 yes (required), 0 no, -1 auto (default) */
    bool verbose;
    bool debug;
};

/** Initialise \p a with defaults (no allocation). */
void dr_fence_args_init(struct dr_fence_args *a);

/** Free the strings of \p a and re-initialise it; NULL is a no-op. */
void dr_fence_args_free(struct dr_fence_args *a);

/**
 * Set one parameter by its fencer name (`action`, `plug`, `port`, `nodename` (the target, as
 * Pacemaker passes it), `local_node`, `devices`, `cluster_name`, `corosync_conf`, `initiators`,
 * `initiator_prefix`, `reservation_type`, `timeout_ms`, `victim_stop_ms`, `ipc_name`, `use_daemon`,
 * `verbose`, `debug`; `option` is an old alias of `action`). \param[out] err a message naming the
 * problem, written on failure (size \p err_len). \return 0; -ENOENT for an unknown parameter;
 * -EINVAL for a malformed value; -E2BIG when a list exceeds its maximum; -ENOMEM.
 */
int dr_fence_args_set(struct dr_fence_args *a, const char *key, const char *value, char *err,
                      size_t err_len);

/**
 * Parse the fencer's stdin: `key=value` lines, `#` comments and blank lines ignored. Unknown
 * parameters are logged as warnings and ignored (the fencer may pass parameters meant for
 * itself); malformed lines and values are errors.
 * \param buf the bytes read (need not be NUL-terminated), \p len their count.
 * \param[out] err message naming the line and the problem, on failure.
 * \return as dr_fence_args_set(), plus -EINVAL for a line without '=' or a NUL byte.
 */
int dr_fence_args_parse_stdin(struct dr_fence_args *a, const char *buf, size_t len, char *err,
                              size_t err_len);

/**
 * Parse an admin's command line: `-o ACTION`, `-n PLUG`, `--plug=`, `--devices=` ... (every
 * parameter as `--name-with-dashes=value` or `--name-with-dashes value`), `-v`, `-D`.
 * \return as dr_fence_args_set(); unknown options are errors here.
 */
int dr_fence_args_parse_argv(struct dr_fence_args *a, int argc, char *const *argv, char *err,
                             size_t err_len);

/**
 * Fill defaults that need the system (local_node from the host name, cluster_name from
 * corosync.conf) and check that the action has what it needs.
 * \return 0; -DR_E_CONFIG with \p err naming the missing or conflicting parameter.
 */
int dr_fence_args_validate(struct dr_fence_args *a, char *err, size_t err_len);

/** Name of an action ("off"); "none" for DR_FENCE_ACTION_NONE. */
const char *dr_fence_action_name(enum dr_fence_action action);

/** The initiator IQN used for \p node: from the map, else prefix + node. Owned by \p a or
 * written into \p buf. \return the IQN. */
const char *dr_fence_initiator_for(const struct dr_fence_args *a, const char *node, char *buf,
                                   size_t len);

/**
 * Run a validated action that touches devices (off, on, reboot, status, monitor, list).
 * \param[out] off for status: true when the plug's key is on no device.
 * \return 0; -DR_E_SELF_FENCE; -DR_E_STILL_REGISTERED if a key survived the fence; the PR,
 *         transport and droverd errors of the first device that failed (every device is
 *         still attempted).
 */
int dr_fence_run(struct dr_fence_args *a, bool *off);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
