/* dr_pr_register: REGISTER goes to every path of a multipath device. */
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
    assert_int_equal(dr_pr_register(NULL, 0, DR_TV_KEY1, 0), -EINVAL);
    /* SPEC_I_PT and unknown bits are refused before anything is sent. */
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, DR_PR_OUT_FLAG_SPEC_I_PT), -EINVAL);
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, 0x100), -EINVAL);
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, 0x02), -EINVAL);
    fake_assert_calls(0);
}

static void
test_every_path_is_registered(void **state)
{
    fake_push_good();
    fake_push_good();
    fake_push_good();
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, 0), 0);
    fake_assert_calls(3);
    for (size_t i = 0; i < 3; i++) {
        fake_assert_pr_out(i, i, DR_PR_OUT_REGISTER, 0, 0, DR_TV_KEY1, 0);
    }
}

static void
test_key_change_and_flags(void **state)
{
    fake_push_good();
    fake_push_good();
    fake_push_good();
    assert_int_equal(dr_pr_register(*state, DR_TV_KEY1, DR_TV_KEY2,
                                    DR_PR_OUT_FLAG_APTPL | DR_PR_OUT_FLAG_ALL_TG_PT),
                     0);
    fake_assert_calls(3);
    fake_assert_pr_out(2, 2, DR_PR_OUT_REGISTER, 0, DR_TV_KEY1, DR_TV_KEY2, 0x05);
}

static void
test_unregister(void **state)
{
    fake_push_good();
    fake_push_good();
    fake_push_good();
    assert_int_equal(dr_pr_register(*state, DR_TV_KEY1, 0, 0), 0);
    fake_assert_pr_out(1, 1, DR_PR_OUT_REGISTER, 0, DR_TV_KEY1, 0, 0);
}

static void
test_failure_on_a_path_stops(void **state)
{
    fake_push_good();
    fake_push_status(0x18);
    assert_int_equal(dr_pr_register(*state, DR_TV_KEY2, DR_TV_KEY1, 0), -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(2);
    fake_reset();
    /* A transport failure on a write path is not papered over by the other paths. */
    fake_push_fail(-DR_E_TRANSPORT);
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, 0), -DR_E_TRANSPORT);
    fake_assert_calls(1);
}

static void
test_rejected_flags(void **state)
{
    /* tgtd answers 05/24/00 to APTPL. */
    fake_push_check(0x5, 0x24, 0x00);
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, DR_PR_OUT_FLAG_APTPL),
                     -DR_E_NOT_SUPPORTED);
    fake_assert_calls(1);
    fake_reset();
    /* Without flags, ILLEGAL REQUEST stays what it is. */
    fake_push_check(0x5, 0x26, 0x00);
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, 0), -DR_E_ILLEGAL_REQUEST);
    fake_assert_calls(1);
}

static void
test_unit_attention_on_one_path(void **state)
{
    fake_push_good();
    fake_push_check(0x6, 0x29, 0x07);
    fake_push_good();
    fake_push_good();
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, 0), 0);
    fake_assert_calls(4);
    assert_int_equal(fake_calls[1].path, 1);
    assert_int_equal(fake_calls[2].path, 1);
    assert_int_equal(fake_calls[3].path, 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_every_path_is_registered, fake_setup_3paths,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_key_change_and_flags, fake_setup_3paths,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_unregister, fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_failure_on_a_path_stops, fake_setup_3paths,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_rejected_flags, fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_unit_attention_on_one_path, fake_setup_3paths,
                                        fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
