/* dr_fence_args_parse_argv: an admin's command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/fence.h"
#include "fence_expect.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

/* argv as a test writes it, with string literals. */
static int
parse_argv(struct dr_fence_args *a, int argc, const char *const *argv, char *err, size_t err_len)
{
    return dr_fence_args_parse_argv(a, argc, (char *const *)argv, err, err_len);
}

/* Parsing argv fails with \p want and an error containing \p needle. */
static void
expect_argv_fails(struct dr_fence_args *a, int argc, const char *const *argv, int want,
                  const char *needle)
{
    char err[256] = "";

    assert_int_equal(parse_argv(a, argc, argv, err, sizeof(err)), want);
    if (strstr(err, needle) == NULL) {
        fail_msg("error '%s' does not contain '%s'", err, needle);
    }
}

static void
test_bad_arguments(void **state)
{
    const char *const argv[] = {"fence_drover", "-o", "off"};

    (void)state;
    assert_int_equal(parse_argv(NULL, ARGC(argv), argv, NULL, 0), -EINVAL);
}

static void
test_no_arguments(void **state)
{
    struct dr_fence_args *a = *state;
    const char *const argv[] = {"fence_drover"};

    assert_int_equal(parse_argv(a, ARGC(argv), argv, NULL, 0), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_NONE);
    assert_int_equal(a->n_devices, 0);
}

static void
test_short_options(void **state)
{
    struct dr_fence_args *a = *state;
    const char *const argv[] = {"fence_drover",      "-o", "off", "-n", "node2", "-d",
                                "/dev/sdb,/dev/sdc", "-v", "-D"};
    char err[128] = "";

    assert_int_equal(parse_argv(a, ARGC(argv), argv, err, sizeof(err)), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_OFF);
    assert_string_equal(a->plug, "node2");
    assert_int_equal(a->n_devices, 2);
    assert_string_equal(a->devices[1], "/dev/sdc");
    assert_true(a->verbose);
    assert_true(a->debug);
}

static void
test_long_options(void **state)
{
    struct dr_fence_args *a = *state;
    const char *const argv[] = {"fence_drover",
                                "--action=status",
                                "--port",
                                "node3",
                                "--devices=iscsi://192.0.2.1/iqn.2026-11.org.drover:t1/1",
                                "--reservation-type",
                                "eaar",
                                "--initiator-prefix=iqn.2020-01.com.example:",
                                "--use-daemon=auto",
                                "--timeout-ms",
                                "250",
                                "--cluster-name=lab",
                                "--corosync-conf=/tmp/c.conf",
                                "--ipc-name",
                                "droverd-test",
                                "--local-node=node1",
                                "--initiators=node1=iqn.x:n1",
                                "--verbose",
                                "--debug=no"};
    char err[128] = "";

    a->debug = true;
    a->use_daemon = 0;
    assert_int_equal(parse_argv(a, ARGC(argv), argv, err, sizeof(err)), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_STATUS);
    assert_string_equal(a->plug, "node3");
    assert_int_equal(a->n_devices, 1);
    /* Dashes in option names are the parameters' underscores. */
    assert_int_equal(a->type, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR);
    assert_string_equal(a->initiator_prefix, "iqn.2020-01.com.example:");
    assert_int_equal(a->use_daemon, -1);
    assert_int_equal(a->timeout_ms, 250);
    assert_string_equal(a->cluster_name, "lab");
    assert_string_equal(a->corosync_conf, "/tmp/c.conf");
    assert_string_equal(a->ipc_name, "droverd-test");
    assert_string_equal(a->local_node, "node1");
    assert_int_equal(a->n_initiators, 1);
    /* A bare --verbose is set; --debug=no clears. */
    assert_true(a->verbose);
    assert_false(a->debug);
}

static void
test_underscores_accepted_too(void **state)
{
    struct dr_fence_args *a = *state;
    const char *const argv[] = {"fence_drover", "--timeout_ms=300", "--option", "reboot"};

    assert_int_equal(parse_argv(a, ARGC(argv), argv, NULL, 0), 0);
    assert_int_equal(a->timeout_ms, 300);
    assert_int_equal(a->action, DR_FENCE_ACTION_REBOOT);
}

static void
test_unknown_options(void **state)
{
    struct dr_fence_args *a = *state;
    const char *const unknown[] = {"fence_drover", "--plugg=node2"};
    const char *const unknown_no_value[] = {"fence_drover", "--force"};
    const char *const long_name[] = {
        "fence_drover",
        "--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1"};
    const char *const short_unknown[] = {"fence_drover", "-x"};
    const char *const double_dash[] = {"fence_drover", "--"};

    expect_argv_fails(a, ARGC(unknown), unknown, -EINVAL, "unknown option '--plugg=node2'");
    expect_argv_fails(a, ARGC(unknown_no_value), unknown_no_value, -EINVAL,
                      "unknown option '--force'");
    expect_argv_fails(a, ARGC(long_name), long_name, -EINVAL, "unknown option '--aaaa");
    expect_argv_fails(a, ARGC(short_unknown), short_unknown, -EINVAL, "unexpected argument '-x'");
    expect_argv_fails(a, ARGC(double_dash), double_dash, -EINVAL, "unexpected argument '--'");
    assert_null(a->plug);
}

static void
test_missing_values(void **state)
{
    static const char *const shorts[] = {"-o", "-n", "-d"};
    struct dr_fence_args *a = *state;
    const char *const long_missing[] = {"fence_drover", "-o", "off", "--plug"};

    for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
        const char *const argv[] = {"fence_drover", shorts[i]};
        char needle[64];

        snprintf(needle, sizeof(needle), "option %s needs a value", shorts[i]);
        expect_argv_fails(a, ARGC(argv), argv, -EINVAL, needle);
    }
    expect_argv_fails(a, ARGC(long_missing), long_missing, -EINVAL, "option --plug needs a value");
    assert_null(a->plug);
}

static void
test_stray_positional(void **state)
{
    struct dr_fence_args *a = *state;
    const char *const stray[] = {"fence_drover", "-o", "off", "node2"};
    /* --verbose takes no value, so what follows it is a positional argument. */
    const char *const after_flag[] = {"fence_drover", "--verbose", "yes"};

    expect_argv_fails(a, ARGC(stray), stray, -EINVAL, "unexpected argument 'node2'");
    expect_argv_fails(a, ARGC(after_flag), after_flag, -EINVAL, "unexpected argument 'yes'");
}

static void
test_bad_values(void **state)
{
    struct dr_fence_args *a = *state;
    const char *const bad_action[] = {"fence_drover", "-o", "shoot"};
    const char *const bad_plug[] = {"fence_drover", "--plug="};
    const char *const bad_devices[] = {"fence_drover", "-d", "sdb"};
    const char *const twice[] = {"fence_drover", "--initiators=a=iqn.x:a",
                                 "--initiators=a=iqn.x:b"};

    expect_argv_fails(a, ARGC(bad_action), bad_action, -EINVAL, "unknown action 'shoot'");
    expect_argv_fails(a, ARGC(bad_plug), bad_plug, -EINVAL, "parameter 'plug' is empty");
    expect_argv_fails(a, ARGC(bad_devices), bad_devices, -EINVAL,
                      "'sdb' is neither an absolute device path");
    expect_argv_fails(a, ARGC(twice), twice, -EINVAL, "node 'a' appears twice");
    assert_int_equal(a->n_initiators, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fence_args_setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_no_arguments, fence_args_setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_short_options, fence_args_setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_long_options, fence_args_setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_underscores_accepted_too, fence_args_setup,
                                        fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_options, fence_args_setup,
                                        fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_missing_values, fence_args_setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_stray_positional, fence_args_setup,
                                        fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, fence_args_setup, fence_args_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
