/*
 * Logging through libqb. Messages are formatted here and handed to
 * qb_log_from_external_source(), which needs no per-DSO callsite section, so the library's
 * messages reach the targets the executable chose even though libdrover hides its symbols.
 */
#include <errno.h>
#include <qb/qblog.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "drover/log.h"
#include "log_internal.h"

static bool initialised;

void
dr__log(const char *func, const char *file, int line, int prio, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    qb_log_from_external_source(func, file, "%s", (uint8_t)prio, (uint32_t)line, 0, msg);
}

void
dr_log_printf(int prio, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    qb_log_from_external_source("main", "-", "%s", (uint8_t)prio, 0, 0, msg);
}

int
dr_log_init(const char *ident, unsigned int flags, const char *file)
{
    uint8_t level;

    if (ident == NULL || (flags & ~(DR_LOG_STDERR | DR_LOG_SYSLOG | DR_LOG_DEBUG)) != 0) {
        return -EINVAL;
    }
    level = (flags & DR_LOG_DEBUG) ? LOG_DEBUG : LOG_INFO;
    qb_log_init(ident, LOG_DAEMON, level);
    qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, (flags & DR_LOG_SYSLOG) ? QB_TRUE : QB_FALSE);
    if (flags & DR_LOG_SYSLOG) {
        qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
    }
    if (flags & DR_LOG_STDERR) {
        qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
        qb_log_format_set(QB_LOG_STDERR, "%t %N[%P] %p: %b");
        qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
    }
    if (file != NULL) {
        int32_t t = qb_log_file_open(file);
        if (t < 0) {
            return t;
        }
        qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
        qb_log_format_set(t, "%t %N[%P] %p: %b");
        qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
    }
    initialised = true;
    return 0;
}

void
dr_log_set_debug(bool on)
{
    uint8_t level = on ? LOG_DEBUG : LOG_INFO;

    if (!initialised) {
        return;
    }
    for (int32_t t = QB_LOG_SYSLOG; t <= QB_LOG_STDERR; t++) {
        qb_log_filter_ctl(t, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", 0);
        qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
    }
}

void
dr_log_fini(void)
{
    if (initialised) {
        qb_log_fini();
        initialised = false;
    }
}
