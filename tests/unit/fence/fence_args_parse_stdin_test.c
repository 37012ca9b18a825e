/* dr_fence_args_parse_stdin: the fencer's key=value lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "drover/error.h"
#include "drover/fence.h"
#include "fence_expect.h"
#include "log_capture.h"

static int
setup(void **state)
{
    log_capture_reset();
    return fence_args_setup(state);
}

static int
teardown(void **state)
{
    alloc_fail_at(0);
    return fence_args_teardown(state);
}

/* Parse a NUL-terminated text (without its NUL). */
static int
parse(struct dr_fence_args *a, const char *text, char *err, size_t err_len)
{
    return dr_fence_args_parse_stdin(a, text, strlen(text), err, err_len);
}

/* Parsing \p text fails with \p want and an error containing \p needle. */
static void
expect_parse_fails(struct dr_fence_args *a, const char *text, int want, const char *needle)
{
    char err[512] = "";

    assert_int_equal(parse(a, text, err, sizeof(err)), want);
    if (strstr(err, needle) == NULL) {
        fail_msg("error '%s' does not contain '%s'", err, needle);
    }
}

static void
test_bad_arguments(void **state)
{
    struct dr_fence_args *a = *state;

    assert_int_equal(dr_fence_args_parse_stdin(NULL, "plug=n2\n", 8, NULL, 0), -EINVAL);
    assert_int_equal(dr_fence_args_parse_stdin(a, NULL, 1, NULL, 0), -EINVAL);
    /* Empty input, even as NULL, is no parameter at all. */
    assert_int_equal(dr_fence_args_parse_stdin(a, NULL, 0, NULL, 0), 0);
    assert_int_equal(dr_fence_args_parse_stdin(a, "", 0, NULL, 0), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_NONE);
}

static void
test_fencer_input(void **state)
{
    struct dr_fence_args *a = *state;
    char err[256] = "";
    const char *in = "# from pacemaker-fenced\n"
                     "\n"
                     "action=off\n"
                     "  plug = node2  \n"
                     "\t\n"
                     "   # an indented comment\n"
                     "devices=/dev/sdb,/dev/sdc\n"
                     "local_node=node1\n"
                     "cluster_name=lab\n"
                     "timeout_ms=2000\n"
                     "verbose=\n"
                     "reservation_type=wear"; /* the last line has no newline */

    assert_int_equal(parse(a, in, err, sizeof(err)), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_OFF);
    assert_string_equal(a->plug, "node2");
    assert_int_equal(a->n_devices, 2);
    assert_string_equal(a->devices[1], "/dev/sdc");
    assert_string_equal(a->local_node, "node1");
    assert_string_equal(a->cluster_name, "lab");
    assert_int_equal(a->timeout_ms, 2000);
    assert_true(a->verbose);
    assert_int_equal(a->type, DR_PR_TYPE_WRITE_EXCLUSIVE_AR);
    assert_int_equal(log_capture_count(-1, ""), 0);
}

static void
test_value_keeps_inner_equals_and_spaces(void **state)
{
    struct dr_fence_args *a = *state;

    /* Only the first '=' splits; the value's own '=' belongs to it. */
    assert_int_equal(parse(a, "initiators=node1=iqn.x:n1 node2=iqn.x:n2\n", NULL, 0), 0);
    assert_int_equal(a->n_initiators, 2);
    assert_string_equal(a->initiators[1].iqn, "iqn.x:n2");
    assert_int_equal(parse(a, "corosync_conf = /tmp/a b.conf \n", NULL, 0), 0);
    assert_string_equal(a->corosync_conf, "/tmp/a b.conf");
}

static void
test_crlf(void **state)
{
    struct dr_fence_args *a = *state;

    /* A trailing '\r' is whitespace and trimmed: CRLF input parses as LF input. */
    assert_int_equal(parse(a, "action=status\r\nplug=node2\r\n\r\n#c\r\n", NULL, 0), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_STATUS);
    assert_string_equal(a->plug, "node2");
    /* A '\r' inside a value is a control character, not a line break. */
    expect_parse_fails(a, "plug=no\rde2\n", -EINVAL, "line 1: parameter 'plug' contains a control");
    assert_string_equal(a->plug, "node2");
}

static void
test_unknown_keys_ignored(void **state)
{
    struct dr_fence_args *a = *state;
    char err[64] = "untouched";

    assert_int_equal(parse(a, "action=off\nport_as_ip=1\nplug=node2\nnodeid=3\n", err, sizeof(err)),
                     0);
    assert_string_equal(err, "untouched");
    assert_string_equal(a->plug, "node2");
    assert_int_equal(log_capture_count(LOG_WARNING, "unknown parameter 'port_as_ip' (line 2)"), 1);
    assert_int_equal(log_capture_count(LOG_WARNING, "unknown parameter 'nodeid' (line 4)"), 1);
}

static void
test_malformed_lines(void **state)
{
    struct dr_fence_args *a = *state;

    expect_parse_fails(a, "action=off\nplug\n", -EINVAL, "line 2: expected key=value, got 'plug'");
    expect_parse_fails(a, "#\n\n  = off\n", -EINVAL, "line 3: empty parameter name");
    expect_parse_fails(a, "=\n", -EINVAL, "line 1: empty parameter name");
    /* A bad value names its line and the parameter's own problem. */
    expect_parse_fails(a, "\n\n\n\ntimeout_ms=5s\n", -EINVAL,
                       "line 5: parameter 'timeout_ms' must be a number");
    expect_parse_fails(a, "plug=\n", -EINVAL, "line 1: parameter 'plug' is empty");
    expect_parse_fails(a, "devices=/dev/sdb\nact\n", -EINVAL, "line 2:");
}

static void
test_list_too_long_is_e2big(void **state)
{
    struct dr_fence_args *a = *state;
    char in[2048] = "devices=";
    size_t len = strlen(in);

    for (int i = 0; i <= DR_FENCE_MAX_DEVICES; i++) {
        len += (size_t)snprintf(in + len, sizeof(in) - len, "/dev/d%d ", i);
    }
    expect_parse_fails(a, in, -E2BIG, "line 1: more than 32 devices");
}

static void
test_nul_byte(void **state)
{
    struct dr_fence_args *a = *state;
    static const char in[] = "action=off\nplug=no\0de2\n";
    char err[128] = "";

    assert_int_equal(dr_fence_args_parse_stdin(a, in, sizeof(in) - 1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "NUL byte"));
    /* Nothing was applied: the input is refused before any line is read. */
    assert_int_equal(a->action, DR_FENCE_ACTION_NONE);
    /* The length bounds the input: a NUL just past it is not seen. */
    assert_int_equal(dr_fence_args_parse_stdin(a, in, 11, err, sizeof(err)), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_OFF);
}

static void
test_line_length_limit(void **state)
{
    struct dr_fence_args *a = *state;
    /* A line may hold up to 4096 + 127 bytes; the value itself at most 4095. */
    size_t limit = 4096 + 127;
    char *in = malloc(limit + 16);
    char err[256] = "";

    assert_non_null(in);
    memset(in, ' ', limit + 1);
    memcpy(in, "ipc_name=", 9);
    memset(in + 9, 'x', 4095);
    in[limit] = '\n';
    assert_int_equal(dr_fence_args_parse_stdin(a, in, limit + 1, err, sizeof(err)), 0);
    assert_int_equal(strlen(a->ipc_name), 4095);

    in[9 + 4095] = 'x';
    assert_int_equal(dr_fence_args_parse_stdin(a, in, limit + 1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 1: parameter 'ipc_name' is longer than 4095 bytes"));

    in[limit] = ' ';
    in[limit + 1] = '\n';
    assert_int_equal(dr_fence_args_parse_stdin(a, in, limit + 2, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 1 is longer than 4223 bytes"));
    free(in);
}

static void
test_out_of_memory_names_line(void **state)
{
    struct dr_fence_args *a = *state;
    char err[256] = "";

    alloc_fail_at(1);
    assert_int_equal(parse(a, "\nplug=node2\n", err, sizeof(err)), -ENOMEM);
    assert_null(a->plug);
    /* The message is complete even though the setter wrote none. */
    assert_string_equal(err, "line 2: Cannot allocate memory");
}

static void
test_later_lines_override(void **state)
{
    struct dr_fence_args *a = *state;

    assert_int_equal(parse(a, "action=on\naction=off\nport=node3\nplug=node2\n", NULL, 0), 0);
    assert_int_equal(a->action, DR_FENCE_ACTION_OFF);
    assert_string_equal(a->plug, "node2");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fencer_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_keeps_inner_equals_and_spaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_too_long_is_e2big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_length_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_names_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_lines_override, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
