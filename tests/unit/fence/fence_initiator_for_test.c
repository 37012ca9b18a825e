/* dr_fence_initiator_for: map, default prefix, custom prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/fence.h"
#include "fence_expect.h"

static void
test_default_prefix(void **state)
{
    struct dr_fence_args a;
    char buf[128] = "";

    (void)state;
    dr_fence_args_init(&a);
    assert_ptr_equal(dr_fence_initiator_for(&a, "node1", buf, sizeof(buf)), buf);
    assert_string_equal(buf, "iqn.2026-11.org.drover:node1");
    dr_fence_args_free(&a);
}

static void
test_map_hit(void **state)
{
    struct dr_fence_args a;
    char buf[128] = "untouched";
    const char *iqn;

    (void)state;
    dr_fence_args_init(&a);
    expect_set_ok(&a, "initiators", "node1=iqn.2020-01.com.example:host-a node2=eui.0123");
    expect_set_ok(&a, "initiator_prefix", "iqn.2020-01.com.example:");
    iqn = dr_fence_initiator_for(&a, "node2", buf, sizeof(buf));
    /* A mapped IQN is the map's own string; buf is not written. */
    assert_ptr_equal(iqn, a.initiators[1].iqn);
    assert_string_equal(iqn, "eui.0123");
    assert_string_equal(buf, "untouched");
    assert_string_equal(dr_fence_initiator_for(&a, "node1", buf, sizeof(buf)),
                        "iqn.2020-01.com.example:host-a");
    /* Node names match exactly: no prefix or case folding. */
    assert_string_equal(dr_fence_initiator_for(&a, "node", buf, sizeof(buf)),
                        "iqn.2020-01.com.example:node");
    assert_string_equal(dr_fence_initiator_for(&a, "NODE1", buf, sizeof(buf)),
                        "iqn.2020-01.com.example:NODE1");
    dr_fence_args_free(&a);
}

static void
test_custom_prefix(void **state)
{
    struct dr_fence_args a;
    char buf[128] = "";
    char small[12] = "";

    (void)state;
    dr_fence_args_init(&a);
    expect_set_ok(&a, "initiator_prefix", "iqn.2020-01.com.example:cl1-");
    assert_string_equal(dr_fence_initiator_for(&a, "node3", buf, sizeof(buf)),
                        "iqn.2020-01.com.example:cl1-node3");
    /* A short buffer gets a truncated, terminated name. */
    assert_string_equal(dr_fence_initiator_for(&a, "node3", small, sizeof(small)), "iqn.2020-01");
    dr_fence_args_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_prefix),
        cmocka_unit_test(test_map_hit),
        cmocka_unit_test(test_custom_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
