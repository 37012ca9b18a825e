/* dr_pr_type_parse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drover/pr.h"

static void
test_bad_input(void **state)
{
    static const char *const bad[] = {"",
                                      "0",
                                      "2",
                                      "4",
                                      "9",
                                      "05",
                                      " 5",
                                      "wero ",
                                      "wer",
                                      "write-exclusive-",
                                      "registrants-only",
                                      "0x5"};
    enum dr_pr_type t = DR_PR_TYPE_EXCLUSIVE_ACCESS;

    (void)state;
    assert_int_equal(dr_pr_type_parse(NULL, &t), -EINVAL);
    assert_int_equal(dr_pr_type_parse("wero", NULL), -EINVAL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(dr_pr_type_parse(bad[i], &t), -EINVAL);
    }
    /* Written on success only. */
    assert_int_equal(t, DR_PR_TYPE_EXCLUSIVE_ACCESS);
}

static void
test_every_spelling(void **state)
{
    static const struct {
        const char *s;
        enum dr_pr_type t;
    } cases[] = {
        {"we", DR_PR_TYPE_WRITE_EXCLUSIVE},
        {"WE", DR_PR_TYPE_WRITE_EXCLUSIVE},
        {"write-exclusive", DR_PR_TYPE_WRITE_EXCLUSIVE},
        {"1", DR_PR_TYPE_WRITE_EXCLUSIVE},
        {"ea", DR_PR_TYPE_EXCLUSIVE_ACCESS},
        {"Exclusive-Access", DR_PR_TYPE_EXCLUSIVE_ACCESS},
        {"3", DR_PR_TYPE_EXCLUSIVE_ACCESS},
        {"wero", DR_PR_TYPE_WRITE_EXCLUSIVE_RO},
        {"write-exclusive-registrants-only", DR_PR_TYPE_WRITE_EXCLUSIVE_RO},
        {"5", DR_PR_TYPE_WRITE_EXCLUSIVE_RO},
        {"EARO", DR_PR_TYPE_EXCLUSIVE_ACCESS_RO},
        {"exclusive-access-registrants-only", DR_PR_TYPE_EXCLUSIVE_ACCESS_RO},
        {"6", DR_PR_TYPE_EXCLUSIVE_ACCESS_RO},
        {"wear", DR_PR_TYPE_WRITE_EXCLUSIVE_AR},
        {"write-exclusive-all-registrants", DR_PR_TYPE_WRITE_EXCLUSIVE_AR},
        {"7", DR_PR_TYPE_WRITE_EXCLUSIVE_AR},
        {"eaar", DR_PR_TYPE_EXCLUSIVE_ACCESS_AR},
        {"EXCLUSIVE-ACCESS-ALL-REGISTRANTS", DR_PR_TYPE_EXCLUSIVE_ACCESS_AR},
        {"8", DR_PR_TYPE_EXCLUSIVE_ACCESS_AR},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum dr_pr_type t = (enum dr_pr_type)0;

        assert_int_equal(dr_pr_type_parse(cases[i].s, &t), 0);
        assert_int_equal(t, cases[i].t);
    }
}

static void
test_round_trip_with_name(void **state)
{
    (void)state;
    for (unsigned int type = 0; type < 16; type++) {
        const char *name = dr_pr_type_name(type);
        enum dr_pr_type t;

        if (dr_pr_type_parse(name, &t) == 0) {
            assert_int_equal(t, type);
        } else {
            assert_string_equal(name, "unknown");
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_every_spelling),
        cmocka_unit_test(test_round_trip_with_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
