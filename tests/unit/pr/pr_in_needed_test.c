/* dr__pr_in_needed: how many bytes the device says a PR IN answer has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pr_internal.h"
#include "pr_vectors.h"

static void
test_null_and_short_buffers(void **state)
{
    static const uint8_t seven[7] = {0};

    (void)state;
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_READ_KEYS, NULL, 8), -1);
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_REPORT_CAPABILITIES, NULL, 8), -1);
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_READ_KEYS, seven, sizeof(seven)), -1);
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_READ_FULL_STATUS, seven, 0), -1);
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_REPORT_CAPABILITIES, seven, 1), -1);
}

static void
test_header_lengths(void **state)
{
    (void)state;
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_READ_KEYS, dr_tv_keys_two.data, 8), 24);
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_READ_KEYS, dr_tv_keys_none.data, 8), 8);
    assert_int_equal(
        dr__pr_in_needed(DR_PR_IN_READ_RESERVATION, dr_tv_res_held.data, dr_tv_res_held.len), 24);
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_READ_FULL_STATUS, dr_tv_full_iscsi.data, 8),
                     (long)dr_tv_full_iscsi.len);
    /* REPORT CAPABILITIES: the LENGTH field counts the whole answer (SPC-4 6.15.4). */
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_REPORT_CAPABILITIES, dr_tv_caps_all.data, 2), 8);
}

static void
test_largest_lengths_do_not_wrap(void **state)
{
    static const uint8_t huge[8] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};

    (void)state;
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_READ_KEYS, huge, sizeof(huge)),
                     (long)UINT32_MAX + 8);
    assert_int_equal(dr__pr_in_needed(DR_PR_IN_REPORT_CAPABILITIES, huge + 4, 2), 0xffff);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_and_short_buffers),
        cmocka_unit_test(test_header_lengths),
        cmocka_unit_test(test_largest_lengths_do_not_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
