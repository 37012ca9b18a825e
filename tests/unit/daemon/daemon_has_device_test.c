/* dr_daemon_has_device against the scripted droverd. */
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

#define DEV "iscsi://192.0.2.1/iqn.2026-11.org.drover:t1/0"

static int
has(const char *device)
{
    return dr_daemon_has_device(NULL, 1000, device);
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    ipcc_check_device_specs(has, DR__OP_HAS_DEVICE);
}

static void
test_answers(void **state)
{
    (void)state;
    ipcc_mock_answer(0);
    assert_int_equal(has(DEV), 1);
    assert_string_equal(ipcc.req.device, DEV);
    /* -ENOENT is droverd's "not mine". */
    ipcc_mock_answer(-ENOENT);
    assert_int_equal(has(DEV), 0);
    ipcc_mock_answer(-EIO);
    assert_int_equal(has(DEV), -EIO);
    ipcc_mock_assert_balanced(3);
    ipcc_mock_answer(0);
    ipcc.res.version = 7;
    assert_int_equal(has(DEV), -DR_E_PROTOCOL);
    ipcc_mock_reset();
    assert_int_equal(has(DEV), -DR_E_DAEMON);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_answers, ipcc_mock_setup, ipcc_mock_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
