/* dr_daemon_probe_write against the scripted droverd. */
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

static int
probe(const char *device)
{
    return dr_daemon_probe_write(NULL, 1000, device);
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    ipcc_check_device_specs(probe, DR__OP_PROBE_WRITE);
}

static void
test_answers(void **state)
{
    (void)state;
    ipcc_mock_answer(-DR_E_RESERVATION_CONFLICT);
    assert_int_equal(probe("/dev/sdb"), -DR_E_RESERVATION_CONFLICT);
    assert_string_equal(ipcc.req.device, "/dev/sdb");
    ipcc_mock_answer(0);
    assert_int_equal(probe("/dev/sdb"), 0);
    ipcc_mock_assert_balanced(2);
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
