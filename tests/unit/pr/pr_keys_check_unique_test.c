/* dr_pr_keys_check_unique. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/pr.h"
#include "pr_internal.h"

static void
test_bad_arguments(void **state)
{
    const char *const bad[] = {"node1", "", "node3"};
    const char *const with_null[] = {"node1", NULL};

    (void)state;
    assert_int_equal(dr_pr_keys_check_unique(NULL, bad, 1), -EINVAL);
    assert_int_equal(dr_pr_keys_check_unique("lab", NULL, 2), -EINVAL);
    /* A name that cannot make a key fails the whole check. */
    assert_int_equal(dr_pr_keys_check_unique("lab", bad, 3), -EINVAL);
    assert_int_equal(dr_pr_keys_check_unique("lab", with_null, 2), -EINVAL);
    assert_int_equal(dr_pr_keys_check_unique("", bad, 1), -EINVAL);
}

static void
test_distinct_nodes(void **state)
{
    const char *const nodes[] = {"node1", "node2", "node3", "node4"};

    (void)state;
    assert_int_equal(dr_pr_keys_check_unique("lab", NULL, 0), 0);
    assert_int_equal(dr_pr_keys_check_unique("lab", nodes, 1), 0);
    assert_int_equal(dr_pr_keys_check_unique("lab", nodes, 4), 0);
}

static void
test_colliding_names_are_refused(void **state)
{
    /* Two names with the same FNV-1a 32 (0xeb03b14b), found by a birthday search. */
    const char *a = "n512789", *b = "n749192";
    const char *nodes[3];
    uint64_t ka, kb;

    (void)state;
    assert_int_equal(dr__fnv1a32(a), 0xeb03b14bu);
    assert_int_equal(dr__fnv1a32(b), 0xeb03b14bu);
    assert_int_equal(dr_pr_key_derive("lab", a, &ka), 0);
    assert_int_equal(dr_pr_key_derive("lab", b, &kb), 0);
    assert_int_equal(ka, kb);
    nodes[0] = "other";
    nodes[1] = a;
    nodes[2] = b;
    assert_int_equal(dr_pr_keys_check_unique("lab", nodes, 3), -DR_E_KEY_IN_USE);
    /* The same name listed twice is one node, not a collision. */
    nodes[2] = a;
    assert_int_equal(dr_pr_keys_check_unique("lab", nodes, 3), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_distinct_nodes),
        cmocka_unit_test(test_colliding_names_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
