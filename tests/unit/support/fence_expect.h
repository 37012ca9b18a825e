/* Shared checks for the fence-argument tests. */
#ifndef DR_TEST_FENCE_EXPECT_H
#define DR_TEST_FENCE_EXPECT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drover/fence.h"

/* dr_fence_args_set(key, value) returns \p want and writes an error containing \p needle. */
static inline void
expect_set_fails(struct dr_fence_args *a, const char *key, const char *value, int want,
                 const char *needle)
{
    char err[512] = "";

    assert_int_equal(dr_fence_args_set(a, key, value, err, sizeof(err)), want);
    if (strstr(err, needle) == NULL) {
        fail_msg("set %s='%.40s': error '%s' does not contain '%s'", key, value, err, needle);
    }
}

/* dr_fence_args_set(key, value) succeeds. */
static inline void
expect_set_ok(struct dr_fence_args *a, const char *key, const char *value)
{
    char err[512] = "";
    int rc = dr_fence_args_set(a, key, value, err, sizeof(err));

    if (rc != 0) {
        fail_msg("set %s='%.40s': %d (%s)", key, value, rc, err);
    }
}

/* cmocka setup: *state is a heap struct dr_fence_args with its defaults. */
static inline int
fence_args_setup(void **state)
{
    struct dr_fence_args *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        return -1;
    }
    dr_fence_args_init(a);
    *state = a;
    return 0;
}

/* cmocka teardown for fence_args_setup(). */
static inline int
fence_args_teardown(void **state)
{
    dr_fence_args_free(*state);
    free(*state);
    return 0;
}

#endif
