/* Small helpers shared inside libdrover (and droverd, which links the static library). */
#ifndef DROVER_UTIL_INTERNAL_H
#define DROVER_UTIL_INTERNAL_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: for deadlines and durations, never for wall time. */
int64_t dr__now_ms(void);

#endif
