/**
 * \file log.h
 * \brief Logging set-up for drover executables.
 *
 * libdrover logs through libqb's qb_log(), as corosync and Pacemaker do. The library never
 * chooses where logs go: each executable calls dr_log_init() once, naming itself and its
 * targets. Levels: LOG_ERR when the cluster is hurt, LOG_NOTICE for important successes,
 * LOG_DEBUG for CDBs, sense data and protocol detail.
 */
#ifndef DROVER_LOG_H
#define DROVER_LOG_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is libdrover's public ABI (the library builds with hidden visibility).
 */
#pragma GCC visibility push(default)

/** Send log messages to stderr. */
#define DR_LOG_STDERR 0x1u
/** Send log messages to syslog (daemon facility). */
#define DR_LOG_SYSLOG 0x2u
/** Also write LOG_DEBUG messages. */
#define DR_LOG_DEBUG 0x4u

/**
 * Initialise logging for this process.
 * \param ident name shown in every message (borrowed; must outlive the process's logging).
 * \param flags DR_LOG_* bits; unknown bits are rejected.
 * \param file  optional log file path (borrowed), or NULL.
 * \return 0, -EINVAL for unknown flags or a NULL ident, or -errno if the file cannot be opened.
 */
int dr_log_init(const char *ident, unsigned int flags, const char *file);

/**
 * Log one message from an executable at a syslog priority (LOG_ERR ... LOG_DEBUG), through the
 * same targets as libdrover's own messages.
 */
void dr_log_printf(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Turn LOG_DEBUG messages on or off for every target after dr_log_init(). */
void dr_log_set_debug(bool on);

/** Flush and close the log targets; safe to call when dr_log_init() was never called. */
void dr_log_fini(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
