/* __wrap_dr__log: keeps the last messages instead of handing them to libqb. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log_capture.h"
#include "log_internal.h"

#define CAPTURE_MAX 128

void __wrap_dr__log(const char *func, const char *file, int line, int prio, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static struct {
    int prio;
    char msg[512];
} captured[CAPTURE_MAX];
static size_t n_captured;

void
__wrap_dr__log(const char *func, const char *file, int line, int prio, const char *fmt, ...)
{
    va_list ap;

    (void)func;
    (void)file;
    (void)line;
    if (n_captured == CAPTURE_MAX) {
        return;
    }
    captured[n_captured].prio = prio;
    va_start(ap, fmt);
    vsnprintf(captured[n_captured].msg, sizeof(captured[n_captured].msg), fmt, ap);
    va_end(ap);
    n_captured++;
}

void
log_capture_reset(void)
{
    n_captured = 0;
}

size_t
log_capture_count(int prio, const char *needle)
{
    size_t n = 0;

    for (size_t i = 0; i < n_captured; i++) {
        if ((prio < 0 || captured[i].prio == prio) && strstr(captured[i].msg, needle) != NULL) {
            n++;
        }
    }
    return n;
}
