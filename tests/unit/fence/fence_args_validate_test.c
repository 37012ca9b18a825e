/*
 * dr_fence_args_validate, with gethostname() wrapped (so that the default node name is known)
 * and corosync.conf written to a temporary file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/fence.h"
#include "fence_expect.h"

int __real_gethostname(char *name, size_t len);
int __wrap_gethostname(char *name, size_t len);

/* NULL: the real host name. */
static const char *fake_host;
static int fake_host_errno;
static char conf_path[64];

int
__wrap_gethostname(char *name, size_t len)
{
    if (fake_host_errno != 0) {
        errno = fake_host_errno;
        return -1;
    }
    if (fake_host == NULL) {
        return __real_gethostname(name, len);
    }
    snprintf(name, len, "%s", fake_host);
    return 0;
}

/* Write \p text to a fresh temporary corosync.conf; its path is conf_path. */
static void
write_conf(const char *text)
{
    int fd;

    snprintf(conf_path, sizeof(conf_path), "/tmp/dr-corosync-XXXXXX");
    fd = mkstemp(conf_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int
setup(void **state)
{
    fake_host = "node1.example.com";
    fake_host_errno = 0;
    conf_path[0] = '\0';
    return fence_args_setup(state);
}

static int
teardown(void **state)
{
    if (conf_path[0] != '\0') {
        unlink(conf_path);
    }
    return fence_args_teardown(state);
}

/* off of node2 from node1 on /dev/sdb in cluster lab: complete. */
static void
fill_off(struct dr_fence_args *a)
{
    expect_set_ok(a, "action", "off");
    expect_set_ok(a, "plug", "node2");
    expect_set_ok(a, "local_node", "node1");
    expect_set_ok(a, "cluster_name", "lab");
    expect_set_ok(a, "devices", "/dev/sdb");
}

static void
expect_invalid(struct dr_fence_args *a, const char *needle)
{
    char err[512] = "";

    assert_int_equal(dr_fence_args_validate(a, err, sizeof(err)), -DR_E_CONFIG);
    if (strstr(err, needle) == NULL) {
        fail_msg("error '%s' does not contain '%s'", err, needle);
    }
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(dr_fence_args_validate(NULL, NULL, 0), -EINVAL);
}

static void
test_no_action(void **state)
{
    struct dr_fence_args *a = *state;

    expect_invalid(a, "no action given");
    /* Everything else present does not make up for the action. */
    fill_off(a);
    a->action = DR_FENCE_ACTION_NONE;
    expect_invalid(a, "no action given");
}

static void
test_metadata_needs_nothing(void **state)
{
    struct dr_fence_args *a = *state;

    fake_host_errno = EPERM; /* not even a host name */
    expect_set_ok(a, "action", "metadata");
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
    assert_null(a->local_node);
    assert_null(a->cluster_name);
}

static void
test_complete_off(void **state)
{
    struct dr_fence_args *a = *state;
    char err[64] = "untouched";

    fill_off(a);
    assert_int_equal(dr_fence_args_validate(a, err, sizeof(err)), 0);
    assert_string_equal(err, "untouched");
    assert_string_equal(a->local_node, "node1");
    assert_string_equal(a->plug, "node2");
}

static void
test_missing_devices(void **state)
{
    struct dr_fence_args *a = *state;

    expect_set_ok(a, "action", "monitor");
    expect_set_ok(a, "cluster_name", "lab");
    expect_invalid(a, "parameter 'devices' is required");
    expect_set_ok(a, "devices", "/dev/sdb");
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
}

static void
test_missing_plug(void **state)
{
    static const char *const need_plug[] = {"off", "reboot", "status"};
    static const char *const no_plug[] = {"monitor", "list", "validate-all"};
    struct dr_fence_args *a = *state;
    char needle[64];

    for (size_t i = 0; i < sizeof(need_plug) / sizeof(need_plug[0]); i++) {
        fill_off(a);
        free(a->plug);
        a->plug = NULL;
        expect_set_ok(a, "action", need_plug[i]);
        snprintf(needle, sizeof(needle), "action %s needs plug", need_plug[i]);
        expect_invalid(a, needle);
        dr_fence_args_free(a);
    }
    for (size_t i = 0; i < sizeof(no_plug) / sizeof(no_plug[0]); i++) {
        fill_off(a);
        free(a->plug);
        a->plug = NULL;
        expect_set_ok(a, "action", no_plug[i]);
        assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
        assert_null(a->plug);
        dr_fence_args_free(a);
    }
}

static void
test_on_is_for_this_node(void **state)
{
    struct dr_fence_args *a = *state;

    fill_off(a);
    expect_set_ok(a, "action", "on");
    expect_invalid(a, "plug 'node2' is not this node 'node1'");
    /* Without a plug, on acts on this node. */
    free(a->plug);
    a->plug = NULL;
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
    assert_non_null(a->plug);
    assert_string_equal(a->plug, "node1");
    expect_set_ok(a, "plug", "node1");
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
}

/* Pacemaker passes the target as nodename (fence-agents' meaning) and often as plug too. */
static void
test_nodename_is_the_target(void **state)
{
    struct dr_fence_args *a = *state;
    char err[512] = "";

    expect_set_ok(a, "action", "off");
    expect_set_ok(a, "nodename", "node3");
    expect_set_ok(a, "local_node", "node1");
    expect_set_ok(a, "cluster_name", "lab");
    expect_set_ok(a, "devices", "/dev/sdb");
    assert_int_equal(dr_fence_args_validate(a, err, sizeof(err)), 0);
    assert_string_equal(a->plug, "node3");
    assert_string_equal(a->local_node, "node1");
}

static void
test_nodename_and_plug_agree(void **state)
{
    struct dr_fence_args *a = *state;
    char err[512] = "";

    fill_off(a);
    expect_set_ok(a, "nodename", "node2");
    assert_int_equal(dr_fence_args_validate(a, err, sizeof(err)), 0);
    assert_string_equal(a->plug, "node2");
}

static void
test_nodename_and_plug_differ(void **state)
{
    struct dr_fence_args *a = *state;

    fill_off(a);
    expect_set_ok(a, "nodename", "node3");
    expect_invalid(a, "nodename 'node3' and plug 'node2' differ");
}

static void
test_local_node_from_host_name(void **state)
{
    struct dr_fence_args *a = *state;
    char host[256] = "";

    fill_off(a);
    free(a->local_node);
    a->local_node = NULL;
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
    /* Pacemaker's node name is the short host name. */
    assert_string_equal(a->local_node, "node1");

    /* The same with the machine's real host name. */
    fake_host = NULL;
    free(a->local_node);
    a->local_node = NULL;
    free(a->plug);
    a->plug = NULL;
    expect_set_ok(a, "action", "monitor");
    assert_int_equal(__real_gethostname(host, sizeof(host) - 1), 0);
    host[strcspn(host, ".")] = '\0';
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
    assert_string_equal(a->local_node, host);
}

static void
test_host_name_unknown(void **state)
{
    struct dr_fence_args *a = *state;

    fill_off(a);
    free(a->local_node);
    a->local_node = NULL;
    fake_host_errno = EFAULT;
    expect_invalid(a, "local_node not given and the host name is unknown");
    fake_host_errno = 0;
    fake_host = "";
    expect_invalid(a, "host name is unknown");
    assert_null(a->local_node);
}

static void
test_cluster_name_from_corosync(void **state)
{
    struct dr_fence_args *a = *state;

    write_conf("# generated\n"
               "totem {\n"
               "    version: 2\n"
               "    cluster_name:   lab2  \n"
               "    transport: knet\n"
               "}\n"
               "nodelist {\n"
               "    node {\n"
               "        name: node1\n"
               "    }\n"
               "}\n");
    fill_off(a);
    free(a->cluster_name);
    a->cluster_name = NULL;
    expect_set_ok(a, "corosync_conf", conf_path);
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
    assert_string_equal(a->cluster_name, "lab2");
}

static void
test_cluster_name_given_wins(void **state)
{
    struct dr_fence_args *a = *state;

    write_conf("totem {\n    cluster_name: other\n}\n");
    fill_off(a);
    expect_set_ok(a, "corosync_conf", conf_path);
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
    assert_string_equal(a->cluster_name, "lab");
}

static void
test_corosync_without_cluster_name(void **state)
{
    struct dr_fence_args *a = *state;

    write_conf("totem {\n    version: 2\n    cluster_name:\n}\n");
    fill_off(a);
    free(a->cluster_name);
    a->cluster_name = NULL;
    expect_set_ok(a, "corosync_conf", conf_path);
    expect_invalid(a, "no totem cluster_name");
    assert_null(a->cluster_name);
}

static void
test_corosync_missing(void **state)
{
    struct dr_fence_args *a = *state;

    fill_off(a);
    free(a->cluster_name);
    a->cluster_name = NULL;
    expect_set_ok(a, "corosync_conf", "/nonexistent/dr-test/corosync.conf");
    expect_invalid(a, "not found in /nonexistent/dr-test/corosync.conf (No such file");
    assert_null(a->cluster_name);
}

static void
test_colliding_keys(void **state)
{
    struct dr_fence_args *a = *state;

    /* n512789 and n749192 share their FNV-1a 32 hash, hence their key (pr_keys_check_unique). */
    fill_off(a);
    expect_set_ok(a, "local_node", "n512789");
    expect_set_ok(a, "plug", "n749192");
    expect_invalid(a, "two node names derive the same reservation key");

    /* The same through the initiators map, on an action without a plug. */
    dr_fence_args_free(a);
    fill_off(a);
    expect_set_ok(a, "action", "monitor");
    expect_set_ok(a, "initiators", "n512789=iqn.x:a node3=iqn.x:c n749192=iqn.x:b");
    expect_invalid(a, "derive the same reservation key");

    /* A node named twice is one node, not a collision. */
    dr_fence_args_free(a);
    fill_off(a);
    expect_set_ok(a, "initiators", "node1=iqn.x:a node2=iqn.x:b");
    assert_int_equal(dr_fence_args_validate(a, NULL, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_action, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_needs_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complete_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_plug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_is_for_this_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_node_from_host_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodename_is_the_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodename_and_plug_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodename_and_plug_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_name_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_name_from_corosync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_name_given_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corosync_without_cluster_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corosync_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_colliding_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
