/* dr_pr_type_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/pr.h"

static void
test_unknown_types(void **state)
{
    static const unsigned int bad[] = {0, 2, 4, 9, 0xf, 0x15, 0xffffffffu};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_string_equal(dr_pr_type_name(bad[i]), "unknown");
    }
}

static void
test_every_type(void **state)
{
    (void)state;
    assert_string_equal(dr_pr_type_name(DR_PR_TYPE_WRITE_EXCLUSIVE), "WE");
    assert_string_equal(dr_pr_type_name(DR_PR_TYPE_EXCLUSIVE_ACCESS), "EA");
    assert_string_equal(dr_pr_type_name(DR_PR_TYPE_WRITE_EXCLUSIVE_RO), "WERO");
    assert_string_equal(dr_pr_type_name(DR_PR_TYPE_EXCLUSIVE_ACCESS_RO), "EARO");
    assert_string_equal(dr_pr_type_name(DR_PR_TYPE_WRITE_EXCLUSIVE_AR), "WEAR");
    assert_string_equal(dr_pr_type_name(DR_PR_TYPE_EXCLUSIVE_ACCESS_AR), "EAAR");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_types),
        cmocka_unit_test(test_every_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
