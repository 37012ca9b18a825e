/*
 * Captures libdrover's log messages in memory, so that a test can assert what was logged and how
 * often. Link the test with WRAP dr__log and SOURCES support/log_capture.c.
 */
#ifndef DR_TEST_LOG_CAPTURE_H
#define DR_TEST_LOG_CAPTURE_H

#include <stddef.h>

/* Forget every captured message. */
void log_capture_reset(void);
/* How many captured messages at \p prio (-1: any) contain \p needle. */
size_t log_capture_count(int prio, const char *needle);

#endif
