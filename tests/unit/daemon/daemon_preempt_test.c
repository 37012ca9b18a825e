/* dr_daemon_preempt against the scripted droverd. */
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
#define VICTIM UINT64_C(0x6472f0940f4e2874)

static int
preempt_on(const char *device)
{
    return dr_daemon_preempt(NULL, 1000, device, VICTIM, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, true, NULL);
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    ipcc_check_device_specs(preempt_on, DR__OP_PREEMPT);
}

static void
test_request(void **state)
{
    bool fell_back = true;

    (void)state;
    ipcc_mock_answer(0);
    assert_int_equal(dr_daemon_preempt(NULL, 1000, DEV, VICTIM, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO,
                                       true, &fell_back),
                     0);
    assert_int_equal(ipcc.req.hdr.id, DR__OP_PREEMPT);
    assert_string_equal(ipcc.req.device, DEV);
    assert_int_equal(ipcc.req.key, VICTIM);
    assert_int_equal(ipcc.req.type, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO);
    assert_int_equal(ipcc.req.flags, DR__REQ_FLAG_TRY_ABORT);
    assert_false(fell_back);

    assert_int_equal(dr_daemon_preempt(NULL, 1000, DEV, VICTIM, DR_PR_TYPE_WRITE_EXCLUSIVE_RO,
                                       false, &fell_back),
                     0);
    assert_int_equal(ipcc.req.flags, 0);
    ipcc_mock_assert_balanced(2);
}

static void
test_fell_back(void **state)
{
    bool fell_back = false;

    (void)state;
    ipcc_mock_answer(0);
    ipcc.res.flags = DR__RES_FLAG_FELL_BACK;
    assert_int_equal(
        dr_daemon_preempt(NULL, 1000, DEV, VICTIM, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, true, &fell_back),
        0);
    assert_true(fell_back);
    /* fell_back is optional. */
    assert_int_equal(preempt_on(DEV), 0);
}

static void
test_errors(void **state)
{
    bool fell_back = false;

    (void)state;
    ipcc_mock_answer(-DR_E_RESERVATION_CONFLICT);
    ipcc.res.flags = DR__RES_FLAG_FELL_BACK;
    assert_int_equal(
        dr_daemon_preempt(NULL, 1000, DEV, VICTIM, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, true, &fell_back),
        -DR_E_RESERVATION_CONFLICT);
    /* Written only on success. */
    assert_false(fell_back);
    ipcc_mock_answer(-ENOENT);
    assert_int_equal(preempt_on(DEV), -ENOENT);
    ipcc_mock_reset();
    assert_int_equal(preempt_on(DEV), -DR_E_DAEMON);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_request, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_fell_back, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_errors, ipcc_mock_setup, ipcc_mock_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
