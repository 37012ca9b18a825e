/*
 * Allocation failure injection for strdup() and strndup(): link the test with
 * WRAP strdup strndup and SOURCES support/alloc_fail.c.
 */
#ifndef DR_TEST_ALLOC_FAIL_H
#define DR_TEST_ALLOC_FAIL_H

/* The \p n-th strdup/strndup call from now (1 = the next) fails with ENOMEM; 0 disarms. */
void alloc_fail_at(unsigned int n);

#endif
