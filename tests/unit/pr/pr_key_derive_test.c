/* dr_pr_key_derive and the FNV-1a 32 it is built on (formula documented in pr.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drover/pr.h"
#include "pr_internal.h"

static void
test_bad_names(void **state)
{
    char longest[257];
    uint64_t key = 77;

    (void)state;
    memset(longest, 'n', sizeof(longest) - 1);
    longest[256] = '\0';
    assert_int_equal(dr_pr_key_derive(NULL, "node1", &key), -EINVAL);
    assert_int_equal(dr_pr_key_derive("lab", NULL, &key), -EINVAL);
    assert_int_equal(dr_pr_key_derive("lab", "node1", NULL), -EINVAL);
    assert_int_equal(dr_pr_key_derive("", "node1", &key), -EINVAL);
    assert_int_equal(dr_pr_key_derive("lab", "", &key), -EINVAL);
    /* 256 bytes is one too many. */
    assert_int_equal(dr_pr_key_derive(longest, "node1", &key), -EINVAL);
    assert_int_equal(dr_pr_key_derive("lab", longest, &key), -EINVAL);
    assert_int_equal(key, 77);
    /* 255 bytes is the limit and is accepted. */
    longest[255] = '\0';
    assert_int_equal(dr_pr_key_derive(longest, longest, &key), 0);
    assert_int_equal(key >> 48, 0x6472);
}

static void
test_fnv1a32_reference_values(void **state)
{
    (void)state;
    /* The offset basis, and two vectors from the FNV reference test suite. */
    assert_int_equal(dr__fnv1a32(""), 0x811c9dc5u);
    assert_int_equal(dr__fnv1a32("a"), 0xe40c292cu);
    assert_int_equal(dr__fnv1a32("foobar"), 0xbf9cf968u);
}

static void
test_pinned_keys(void **state)
{
    uint64_t key;

    (void)state;
    /*
     * cluster "a": fnv 0xe40c292c, folded 0xe40c ^ 0x292c = 0xcd20; node "foobar": 0xbf9cf968.
     * A change here changes every deployed key: the fence would stop finding nodes.
     */
    assert_int_equal(dr_pr_key_derive("a", "foobar", &key), 0);
    assert_int_equal(key, UINT64_C(0x6472cd20bf9cf968));
    /* cluster "lab": fnv 0x626092f4, 0x6260 ^ 0x92f4 = 0xf094; node "node1": 0x0f4e2874. */
    assert_int_equal(dr_pr_key_derive("lab", "node1", &key), 0);
    assert_int_equal(key, UINT64_C(0x6472f0940f4e2874));
    /* cluster "drover": fnv 0x3eb12591, 0x3eb1 ^ 0x2591 = 0x1b20; node "node2": 0x124e2d2d. */
    assert_int_equal(dr_pr_key_derive("drover", "node2", &key), 0);
    assert_int_equal(key, UINT64_C(0x64721b20124e2d2d));
}

static void
test_stable_and_never_zero(void **state)
{
    uint64_t a, b, c;

    (void)state;
    assert_int_equal(dr_pr_key_derive("lab", "node1", &a), 0);
    assert_int_equal(dr_pr_key_derive("lab", "node1", &b), 0);
    assert_int_equal(a, b);
    /* The cluster name matters, the node name matters. */
    assert_int_equal(dr_pr_key_derive("lab2", "node1", &c), 0);
    assert_int_not_equal(a, c);
    assert_int_equal(a & 0xffffffffu, c & 0xffffffffu);
    assert_int_equal(dr_pr_key_derive("lab", "node2", &c), 0);
    assert_int_not_equal(a, c);
    assert_int_equal(a >> 32, c >> 32);
    for (int i = 0; i < 1000; i++) {
        char node[16];

        snprintf(node, sizeof(node), "n%d", i);
        assert_int_equal(dr_pr_key_derive("c", node, &c), 0);
        assert_int_not_equal(c, 0);
        assert_int_equal(c >> 48, 0x6472);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_fnv1a32_reference_values),
        cmocka_unit_test(test_pinned_keys),
        cmocka_unit_test(test_stable_and_never_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
