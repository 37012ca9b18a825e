/* dr_pr_report_capabilities over the scripted fake transport. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "fake_transport.h"

static void
test_bad_arguments(void **state)
{
    struct dr_pr_caps c;

    assert_int_equal(dr_pr_report_capabilities(NULL, &c), -EINVAL);
    assert_int_equal(dr_pr_report_capabilities(*state, NULL), -EINVAL);
    fake_assert_calls(0);
}

static void
test_capabilities(void **state)
{
    struct dr_pr_caps c;

    fake_push_vector(&dr_tv_caps_all);
    assert_int_equal(dr_pr_report_capabilities(*state, &c), 0);
    fake_assert_calls(1);
    assert_int_equal(fake_calls[0].cdb[1], DR_PR_IN_REPORT_CAPABILITIES);
    assert_true(c.tmv);
    assert_true(c.atp_c);
    assert_int_equal(c.type_mask & (1u << DR_PR_TYPE_WRITE_EXCLUSIVE_RO),
                     1u << DR_PR_TYPE_WRITE_EXCLUSIVE_RO);
}

static void
test_unsupported_action(void **state)
{
    struct dr_pr_caps c;

    fake_push_check(0x5, 0x24, 0x00);
    assert_int_equal(dr_pr_report_capabilities(*state, &c), -DR_E_NOT_SUPPORTED);
    fake_assert_calls(1);
}

static void
test_short_answer(void **state)
{
    struct dr_pr_caps c;

    fake_push_data(dr_tv_caps_all.data, 6);
    assert_int_equal(dr_pr_report_capabilities(*state, &c), -DR_E_BAD_RESPONSE);
    fake_reset();
    fake_push_status(0x08);
    assert_int_equal(dr_pr_report_capabilities(*state, &c), -DR_E_SCSI_STATUS);
    fake_assert_calls(1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_capabilities, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_action, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_short_answer, fake_setup, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
