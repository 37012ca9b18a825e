/* dr_pr_clear: CLEAR, as one registrant, on the first path that answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drover/error.h"
#include "fake_transport.h"

static void
test_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(dr_pr_clear(NULL, DR_TV_KEY1), -EINVAL);
    fake_assert_calls(0);
}

static void
test_clear(void **state)
{
    fake_push_good();
    assert_int_equal(dr_pr_clear(*state, DR_TV_KEY1), 0);
    fake_assert_calls(1);
    fake_assert_pr_out(0, 0, DR_PR_OUT_CLEAR, 0, DR_TV_KEY1, 0, 0);
}

static void
test_not_registered(void **state)
{
    fake_push_status(0x18);
    assert_int_equal(dr_pr_clear(*state, DR_TV_KEY2), -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(1);
    assert_int_equal(dr_pr_last_status(*state)->status, 0x18);
}

static void
test_second_path(void **state)
{
    fake_push_fail(-ECONNRESET);
    fake_push_good();
    assert_int_equal(dr_pr_clear(*state, DR_TV_KEY1), 0);
    fake_assert_calls(2);
    fake_assert_pr_out(1, 1, DR_PR_OUT_CLEAR, 0, DR_TV_KEY1, 0, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_clear, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_not_registered, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_second_path, fake_setup_3paths, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
