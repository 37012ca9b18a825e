/* Internal logging: every libdrover message goes through dr__log() into libqb. */
#ifndef DROVER_LOG_INTERNAL_H
#define DROVER_LOG_INTERNAL_H

#include <syslog.h>

void dr__log(const char *func, const char *file, int line, int prio, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define dr_log(prio, ...) dr__log(__func__, __FILE__, __LINE__, (prio), __VA_ARGS__)
#define dr_err(...) dr_log(LOG_ERR, __VA_ARGS__)
#define dr_warn(...) dr_log(LOG_WARNING, __VA_ARGS__)
#define dr_notice(...) dr_log(LOG_NOTICE, __VA_ARGS__)
#define dr_info(...) dr_log(LOG_INFO, __VA_ARGS__)
#define dr_debug(...) dr_log(LOG_DEBUG, __VA_ARGS__)

#endif
