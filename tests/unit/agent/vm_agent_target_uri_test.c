/* vm_agent_target_uri: %n replaced by the node, bad arguments, a buffer too small. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent_mock.h"

static void
bad_arguments(void **state)
{
    struct vm_agent a;
    char buf[64];
    const char *const kv[] = {"OCF_RESKEY_domain", "vm1", NULL};

    (void)state;
    mock_parse(&a, kv);
    assert_int_equal(vm_agent_target_uri(&a, NULL, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_agent_target_uri(&a, "", buf, sizeof(buf)), -EINVAL);
    /* A template without %n cannot name a node (parse refuses it; this is the safety net). */
    snprintf(a.remote_uri, sizeof(a.remote_uri), "qemu+tcp://fixed/system");
    assert_int_equal(vm_agent_target_uri(&a, "n2", buf, sizeof(buf)), -EINVAL);
}

static void
substitutes_the_node(void **state)
{
    struct vm_agent a;
    char buf[128];
    const char *const def[] = {"OCF_RESKEY_domain", "vm1", NULL};
    const char *const ssh[] = {"OCF_RESKEY_domain", "vm1", "OCF_RESKEY_remote_uri",
                               "qemu+ssh://root@%n:2222/system?keyfile=/k", NULL};
    const char *const tail[] = {"OCF_RESKEY_domain", "vm1", "OCF_RESKEY_remote_uri", "%n", NULL};

    (void)state;
    mock_parse(&a, def);
    assert_int_equal(vm_agent_target_uri(&a, "node2", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "qemu+tcp://node2/system");
    mock_parse(&a, ssh);
    assert_int_equal(vm_agent_target_uri(&a, "n3.example", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "qemu+ssh://root@n3.example:2222/system?keyfile=/k");
    mock_parse(&a, tail);
    assert_int_equal(vm_agent_target_uri(&a, "n4", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "n4");
}

static void
too_small(void **state)
{
    struct vm_agent a;
    char buf[sizeof("qemu+tcp://node2/system")];
    const char *const def[] = {"OCF_RESKEY_domain", "vm1", NULL};

    (void)state;
    mock_parse(&a, def);
    assert_int_equal(vm_agent_target_uri(&a, "node2", buf, sizeof(buf)), 0);
    assert_int_equal(vm_agent_target_uri(&a, "node22", buf, sizeof(buf)), -ENAMETOOLONG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(substitutes_the_node),
        cmocka_unit_test(too_small),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
