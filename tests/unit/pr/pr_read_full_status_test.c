/* dr_pr_read_full_status over the scripted fake transport. */
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
    struct dr_pr_full_status st;

    assert_int_equal(dr_pr_read_full_status(NULL, &st), -EINVAL);
    assert_int_equal(dr_pr_read_full_status(*state, NULL), -EINVAL);
    fake_assert_calls(0);
}

static void
test_full_status(void **state)
{
    struct dr_pr_full_status st = {0};

    fake_push_vector(&dr_tv_full_iscsi);
    assert_int_equal(dr_pr_read_full_status(*state, &st), 0);
    fake_assert_calls(1);
    assert_int_equal(fake_calls[0].cdb[1], DR_PR_IN_READ_FULL_STATUS);
    assert_int_equal(st.n_entries, 2);
    assert_string_equal(st.entries[1].transport_id, "iqn.2026-11.org.drover:n2");
    dr_pr_full_status_free(&st);
    dr_pr_full_status_free(NULL);
}

static void
test_rejected_by_the_device(void **state)
{
    struct dr_pr_full_status st = {0};

    /* tgtd: READ FULL STATUS is an unknown service action, 05/24/00. */
    fake_push_check(0x5, 0x24, 0x00);
    assert_int_equal(dr_pr_read_full_status(*state, &st), -DR_E_NOT_SUPPORTED);
    assert_null(st.entries);
    fake_assert_calls(1);
}

static void
test_inconsistent_answer(void **state)
{
    struct dr_pr_full_status st = {0};

    fake_push_data(dr_tv_full_iscsi.data, dr_tv_full_iscsi.len - 4);
    assert_int_equal(dr_pr_read_full_status(*state, &st), -DR_E_BAD_RESPONSE);
    assert_null(st.entries);
    fake_assert_calls(1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_full_status, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_rejected_by_the_device, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_inconsistent_answer, fake_setup, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
