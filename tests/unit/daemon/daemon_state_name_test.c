/* dr_daemon_state_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drover/daemon.h"

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(dr_daemon_state_name(DR_DAEMON_STATE_STARTING), "starting");
    assert_string_equal(dr_daemon_state_name(DR_DAEMON_STATE_REGISTERED), "registered");
    assert_string_equal(dr_daemon_state_name(DR_DAEMON_STATE_UNFENCE_PENDING), "unfence-pending");
    assert_string_equal(dr_daemon_state_name(DR_DAEMON_STATE_FENCED), "fenced");
    assert_string_equal(dr_daemon_state_name(DR_DAEMON_STATE_LOST), "lost");
    assert_string_equal(dr_daemon_state_name(DR_DAEMON_STATE_NO_DEVICES), "no-devices");
    assert_string_equal(dr_daemon_state_name(6), "unknown");
    assert_string_equal(dr_daemon_state_name(UINT32_MAX), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
