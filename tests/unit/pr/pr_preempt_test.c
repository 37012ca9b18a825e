/* dr_pr_preempt: PREEMPT and PREEMPT AND ABORT. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drover/error.h"
#include "fake_transport.h"

static void
test_bad_arguments(void **state)
{
    assert_int_equal(
        dr_pr_preempt(NULL, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, false), -EINVAL);
    assert_int_equal(dr_pr_preempt(*state, DR_TV_KEY1, 0, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, false),
                     -EINVAL);
    assert_int_equal(dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, (enum dr_pr_type)2, true),
                     -EINVAL);
    fake_assert_calls(0);
}

static void
test_preempt(void **state)
{
    fake_push_good();
    assert_int_equal(
        dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, false), 0);
    fake_assert_calls(1);
    fake_assert_pr_out(0, 0, DR_PR_OUT_PREEMPT, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, DR_TV_KEY1,
                       DR_TV_KEY2, 0);
}

static void
test_preempt_and_abort(void **state)
{
    fake_push_good();
    assert_int_equal(
        dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO, true), 0);
    fake_assert_calls(1);
    fake_assert_pr_out(0, 0, DR_PR_OUT_PREEMPT_AND_ABORT, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO,
                       DR_TV_KEY1, DR_TV_KEY2, 0);
}

static void
test_preempt_and_abort_unsupported(void **state)
{
    /* tgtd: 05/24/00 on the service action. */
    fake_push_sense_vector(&dr_tv_sense_fixed_illegal);
    assert_int_equal(
        dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, true),
        -DR_E_NOT_SUPPORTED);
    fake_assert_calls(1);
    assert_int_equal(dr_pr_last_status(*state)->sense.asc, 0x24);
}

static void
test_other_illegal_requests_are_not_unsupported(void **state)
{
    /* Another ASC is a different refusal; and plain PREEMPT is never "unsupported". */
    fake_push_sense_vector(&dr_tv_sense_desc_illegal);
    assert_int_equal(
        dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, true),
        -DR_E_ILLEGAL_REQUEST);
    fake_push_sense_vector(&dr_tv_sense_fixed_illegal);
    assert_int_equal(
        dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, false),
        -DR_E_ILLEGAL_REQUEST);
    fake_assert_calls(2);
}

static void
test_not_registered(void **state)
{
    fake_push_status(0x18);
    assert_int_equal(
        dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, true),
        -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(1);
}

static void
test_preempted_unit_attention_is_retried(void **state)
{
    fake_push_sense_vector(&dr_tv_sense_fixed_ua);
    fake_push_good();
    assert_int_equal(
        dr_pr_preempt(*state, DR_TV_KEY1, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, false), 0);
    fake_assert_calls(2);
    fake_assert_pr_out(1, 0, DR_PR_OUT_PREEMPT, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, DR_TV_KEY1,
                       DR_TV_KEY2, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_preempt, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_preempt_and_abort, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_preempt_and_abort_unsupported, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_other_illegal_requests_are_not_unsupported, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_not_registered, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_preempted_unit_attention_is_retried, fake_setup,
                                        fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
