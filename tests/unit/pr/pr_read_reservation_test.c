/* dr_pr_read_reservation over the scripted fake transport. */
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
    struct dr_pr_reservation r;

    assert_int_equal(dr_pr_read_reservation(NULL, &r), -EINVAL);
    assert_int_equal(dr_pr_read_reservation(*state, NULL), -EINVAL);
    fake_assert_calls(0);
}

static void
test_held_and_none(void **state)
{
    struct dr_pr_reservation r;

    fake_push_vector(&dr_tv_res_held);
    fake_push_vector(&dr_tv_res_none);
    assert_int_equal(dr_pr_read_reservation(*state, &r), 0);
    assert_true(r.reserved);
    assert_int_equal(r.key, DR_TV_KEY1);
    assert_int_equal(r.type, DR_PR_TYPE_WRITE_EXCLUSIVE_RO);
    assert_int_equal(dr_pr_read_reservation(*state, &r), 0);
    assert_false(r.reserved);
    fake_assert_calls(2);
    assert_int_equal(fake_calls[0].cdb[0], 0x5e);
    assert_int_equal(fake_calls[0].cdb[1], DR_PR_IN_READ_RESERVATION);
}

static void
test_cut_answer_is_not_no_reservation(void **state)
{
    struct dr_pr_reservation r = {.reserved = true, .key = 5};

    fake_push_data(dr_tv_res_held.data, 16);
    assert_int_equal(dr_pr_read_reservation(*state, &r), -DR_E_BAD_RESPONSE);
    assert_true(r.reserved);
    assert_int_equal(r.key, 5);
    fake_assert_calls(1);
}

static void
test_not_ready(void **state)
{
    struct dr_pr_reservation r;

    fake_push_check(0x2, 0x04, 0x01);
    assert_int_equal(dr_pr_read_reservation(*state, &r), -DR_E_NOT_READY);
    fake_assert_calls(1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_held_and_none, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_cut_answer_is_not_no_reservation, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_not_ready, fake_setup, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
