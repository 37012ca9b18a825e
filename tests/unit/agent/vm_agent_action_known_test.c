/* vm_agent_action_known: every OCF action the agent implements, and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent_mock.h"

static void
known(void **state)
{
    static const char *const yes[] = {"start",      "stop",         "monitor",      "status",
                                      "migrate_to", "migrate_from", "validate-all", "reload-agent",
                                      "reload",     "meta-data"};

    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_true(vm_agent_action_known(yes[i]));
    }
}

static void
unknown(void **state)
{
    static const char *const no[] = {"",          "Start",      "start ",   "promote",
                                     "demote",    "notify",     "migrate",  "validate_all",
                                     "meta_data", "frobnicate", "monitor\n"};

    (void)state;
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_false(vm_agent_action_known(no[i]));
    }
}

/* Whatever the agent says it knows, vm_agent_run implements (meta-data is vm.c's own). */
static void
known_means_implemented(void **state)
{
    struct vm_agent a;
    const char *const kv[] = {"OCF_RESKEY_domain", "vm1", NULL};

    (void)state;
    mock_reset();
    mock_parse(&a, kv);
    assert_int_equal(vm_agent_run(&a, "promote"), OCF_ERR_UNIMPLEMENTED);
    assert_int_equal(vm_agent_run(&a, "reload-agent"), OCF_SUCCESS);
    assert_int_equal(vm_agent_run(&a, "reload"), OCF_SUCCESS);
    assert_int_equal(vm_agent_run(&a, "validate-all"), OCF_SUCCESS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known),
        cmocka_unit_test(unknown),
        cmocka_unit_test(known_means_implemented),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
