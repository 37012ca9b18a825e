/* dr_pr_release: RELEASE with a type, as one registrant, on the first path that answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_transport.h"

static void
test_bad_arguments(void **state)
{
    fake_check_typed_bad_args(dr_pr_release, *state);
}

static void
test_every_type(void **state)
{
    fake_check_typed_every_type(dr_pr_release, *state, DR_PR_OUT_RELEASE);
}

static void
test_paths(void **state)
{
    fake_check_typed_paths(dr_pr_release, *state, DR_PR_OUT_RELEASE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_every_type, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_paths, fake_setup_3paths, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
