/* dr_fence_action_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/fence.h"
#include "fence_expect.h"

static void
test_out_of_range(void **state)
{
    (void)state;
    assert_string_equal(dr_fence_action_name(DR_FENCE_ACTION_NONE), "none");
    assert_string_equal(dr_fence_action_name((enum dr_fence_action)99), "none");
    assert_string_equal(dr_fence_action_name((enum dr_fence_action) - 1), "none");
}

static void
test_every_action(void **state)
{
    static const struct {
        enum dr_fence_action action;
        const char *name;
    } all[] = {
        {DR_FENCE_ACTION_OFF, "off"},           {DR_FENCE_ACTION_ON, "on"},
        {DR_FENCE_ACTION_REBOOT, "reboot"},     {DR_FENCE_ACTION_STATUS, "status"},
        {DR_FENCE_ACTION_MONITOR, "monitor"},   {DR_FENCE_ACTION_LIST, "list"},
        {DR_FENCE_ACTION_METADATA, "metadata"}, {DR_FENCE_ACTION_VALIDATE_ALL, "validate-all"},
    };
    struct dr_fence_args a;

    (void)state;
    dr_fence_args_init(&a);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        assert_string_equal(dr_fence_action_name(all[i].action), all[i].name);
        /* The name is what the fencer sends: it parses back to the same action. */
        expect_set_ok(&a, "action", dr_fence_action_name(all[i].action));
        assert_int_equal(a.action, all[i].action);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_every_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
