/*
 * The small device calls: dr_pr_spec, dr_pr_path_count, dr_pr_last_status,
 * dr_pr_describe_last, dr_pr_is_connected, dr_pr_close, dr_pr_keys_free.
 */
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
test_null_device(void **state)
{
    char buf[8];

    (void)state;
    assert_null(dr_pr_spec(NULL));
    assert_int_equal(dr_pr_path_count(NULL), 0);
    assert_null(dr_pr_last_status(NULL));
    assert_false(dr_pr_is_connected(NULL));
    assert_int_equal(dr_pr_describe_last(NULL, buf, sizeof(buf)), -EINVAL);
    dr_pr_close(NULL);
    dr_pr_keys_free(NULL);
}

static void
test_describe_last_bad_buffer(void **state)
{
    char buf[8] = "keep";

    assert_int_equal(dr_pr_describe_last(*state, NULL, 10), -EINVAL);
    assert_int_equal(dr_pr_describe_last(*state, buf, 0), -EINVAL);
    assert_string_equal(buf, "keep");
}

static void
test_accessors(void **state)
{
    assert_string_equal(dr_pr_spec(*state), "fake:lun0");
    assert_int_equal(dr_pr_path_count(*state), 3);
    assert_true(dr_pr_is_connected(*state));
    fake_connected = false;
    assert_false(dr_pr_is_connected(*state));
}

static void
test_last_status_follows_failures(void **state)
{
    struct dr_pr_keys k = {0};
    char desc[160];

    fake_push_sense_vector(&dr_tv_sense_fixed_illegal);
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_ILLEGAL_REQUEST);
    assert_int_equal(dr_pr_last_status(*state)->status, 0x02);
    assert_int_equal(dr_pr_describe_last(*state, desc, sizeof(desc)), 0);
    assert_string_equal(desc, "CHECK CONDITION, ILLEGAL REQUEST, ASC/ASCQ 24/00 INVALID FIELD IN "
                              "CDB, field in CDB");
    /* A success does not erase the last failure. */
    fake_push_vector(&dr_tv_keys_none);
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    assert_int_equal(dr_pr_last_status(*state)->sense.asc, 0x24);
    fake_push_fail(-DR_E_TRANSPORT);
    fake_push_fail(-DR_E_TRANSPORT);
    fake_push_fail(-DR_E_TRANSPORT);
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_TRANSPORT);
    assert_int_equal(dr_pr_describe_last(*state, desc, sizeof(desc)), 0);
    assert_string_equal(desc, "TRANSPORT FAILURE (0xff)");
    fake_assert_calls(5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_device),
        cmocka_unit_test_setup_teardown(test_describe_last_bad_buffer, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_accessors, fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_last_status_follows_failures, fake_setup_3paths,
                                        fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
