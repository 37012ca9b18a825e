/*
 * vm_agent_migrate_uri: the target's address on the migration network as tcp://ADDR, IPv6
 * bracketed, host:port kept, "" for a node without an address.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_mock.h"

static const char *const kv[] = {
    "OCF_RESKEY_domain", "vm1", "OCF_RESKEY_migration_network",
    "n1=198.18.2.11 n2=fd00:2::12 n3=[fd00:2::13] n4=198.18.2.14:49152 n5=[fd00::15]:49152 "
    "n6=mig-n6.example",
    NULL};

static void
bad_arguments(void **state)
{
    struct vm_agent a;
    char buf[64];

    (void)state;
    mock_parse(&a, kv);
    assert_int_equal(vm_agent_migrate_uri(&a, NULL, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_agent_migrate_uri(&a, "n1", buf, 0), -EINVAL);
}

static void
addresses(void **state)
{
    static const struct {
        const char *node, *uri;
    } want[] = {
        {"n1", "tcp://198.18.2.11"},
        {"n2", "tcp://[fd00:2::12]"},
        {"n3", "tcp://[fd00:2::13]"},
        {"n4", "tcp://198.18.2.14:49152"},
        {"n5", "tcp://[fd00::15]:49152"},
        {"n6", "tcp://mig-n6.example"},
        {"n7", ""},
        {"N1", ""},
    };
    struct vm_agent a;
    char buf[64];

    (void)state;
    mock_parse(&a, kv);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(vm_agent_migrate_uri(&a, want[i].node, buf, sizeof(buf)), 0);
        assert_string_equal(buf, want[i].uri);
    }
}

static void
no_map(void **state)
{
    const char *const plain[] = {"OCF_RESKEY_domain", "vm1", NULL};
    struct vm_agent a;
    char buf[64] = "stale";

    (void)state;
    mock_parse(&a, plain);
    assert_int_equal(vm_agent_migrate_uri(&a, "n1", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
}

static void
too_small(void **state)
{
    struct vm_agent a;
    char buf[sizeof("tcp://[fd00:2::12]")];

    (void)state;
    mock_parse(&a, kv);
    assert_int_equal(vm_agent_migrate_uri(&a, "n2", buf, sizeof(buf)), 0);
    assert_int_equal(vm_agent_migrate_uri(&a, "n6", buf, sizeof(buf)), -ENAMETOOLONG);
    assert_string_equal(buf, ""); /* never a truncated address */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(addresses),
        cmocka_unit_test(no_map),
        cmocka_unit_test(too_small),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
