/* dr_daemon_unfence against the scripted droverd. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "qb_ipcc_mock.h"

static void
test_unfence(void **state)
{
    (void)state;
    ipcc_mock_answer(0);
    assert_int_equal(dr_daemon_unfence("droverd-test", 1000, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR), 0);
    assert_int_equal(ipcc.req.hdr.id, DR__OP_UNFENCE);
    assert_int_equal(ipcc.req.type, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR);
    assert_int_equal(ipcc.req.device[0], '\0');
    assert_string_equal(ipcc.name, "droverd-test");
    ipcc_mock_assert_balanced(1);
}

static void
test_errors(void **state)
{
    (void)state;
    ipcc_mock_answer(-DR_E_KEY_IN_USE);
    assert_int_equal(dr_daemon_unfence(NULL, 1000, DR_PR_TYPE_WRITE_EXCLUSIVE_RO),
                     -DR_E_KEY_IN_USE);
    ipcc_mock_reset();
    assert_int_equal(dr_daemon_unfence(NULL, 1000, DR_PR_TYPE_WRITE_EXCLUSIVE_RO), -DR_E_DAEMON);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unfence, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_errors, ipcc_mock_setup, ipcc_mock_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
