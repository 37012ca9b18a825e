/* dr_pr_register_ignore: REGISTER AND IGNORE EXISTING KEY on every path. */
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
    assert_int_equal(dr_pr_register_ignore(NULL, DR_TV_KEY1, 0), -EINVAL);
    assert_int_equal(dr_pr_register_ignore(*state, DR_TV_KEY1, 0xf0), -EINVAL);
    fake_assert_calls(0);
}

static void
test_every_path(void **state)
{
    fake_push_good();
    fake_push_good();
    fake_push_good();
    assert_int_equal(dr_pr_register_ignore(*state, DR_TV_KEY2, DR_PR_OUT_FLAG_ALL_TG_PT), 0);
    fake_assert_calls(3);
    for (size_t i = 0; i < 3; i++) {
        /* The RESERVATION KEY field is ignored by the device and sent as 0. */
        fake_assert_pr_out(i, i, DR_PR_OUT_REGISTER_AND_IGNORE, 0, 0, DR_TV_KEY2, 0x04);
    }
}

static void
test_rejected_flag(void **state)
{
    fake_push_check(0x5, 0x26, 0x00);
    assert_int_equal(dr_pr_register_ignore(*state, DR_TV_KEY2, DR_PR_OUT_FLAG_ALL_TG_PT),
                     -DR_E_NOT_SUPPORTED);
    fake_assert_calls(1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_every_path, fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_rejected_flag, fake_setup_3paths, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
