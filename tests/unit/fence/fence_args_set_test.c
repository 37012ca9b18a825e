/* dr_fence_args_set: every parameter, every kind of malformed value. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "drover/error.h"
#include "drover/fence.h"
#include "fence_expect.h"

#define IQN1 "iqn.2026-11.org.drover:node1"
#define IQN2 "iqn.2026-11.org.drover:node2"

static int
teardown(void **state)
{
    alloc_fail_at(0);
    return fence_args_teardown(state);
}

/* A string of n copies of c. */
static char *
repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void
test_bad_arguments(void **state)
{
    struct dr_fence_args *a = *state;
    char err[64] = "untouched";

    assert_int_equal(dr_fence_args_set(NULL, "plug", "node2", err, sizeof(err)), -EINVAL);
    assert_int_equal(dr_fence_args_set(a, NULL, "node2", err, sizeof(err)), -EINVAL);
    assert_int_equal(dr_fence_args_set(a, "plug", NULL, err, sizeof(err)), -EINVAL);
    assert_null(a->plug);
    /* A NULL or empty error buffer is allowed: the code is the answer. */
    assert_int_equal(dr_fence_args_set(a, "plug", "", NULL, 0), -EINVAL);
    assert_int_equal(dr_fence_args_set(a, "plug", "", err, 0), -EINVAL);
    assert_string_equal(err, "untouched");
}

static void
test_unknown_key(void **state)
{
    struct dr_fence_args *a = *state;

    expect_set_fails(a, "pluggg", "node2", -ENOENT, "unknown parameter 'pluggg'");
    expect_set_fails(a, "", "x", -ENOENT, "unknown parameter ''");
    /* Keys are case-sensitive, as the fencer sends them. */
    expect_set_fails(a, "PLUG", "node2", -ENOENT, "'PLUG'");
    assert_null(a->plug);
}

static void
test_action(void **state)
{
    static const struct {
        const char *name;
        enum dr_fence_action action;
    } all[] = {
        {"off", DR_FENCE_ACTION_OFF},           {"on", DR_FENCE_ACTION_ON},
        {"reboot", DR_FENCE_ACTION_REBOOT},     {"status", DR_FENCE_ACTION_STATUS},
        {"monitor", DR_FENCE_ACTION_MONITOR},   {"list", DR_FENCE_ACTION_LIST},
        {"metadata", DR_FENCE_ACTION_METADATA}, {"validate-all", DR_FENCE_ACTION_VALIDATE_ALL},
    };
    struct dr_fence_args *a = *state;

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        a->action = DR_FENCE_ACTION_NONE;
        expect_set_ok(a, "action", all[i].name);
        assert_int_equal(a->action, all[i].action);
    }
    /* `option` is the old name of `action`. */
    expect_set_ok(a, "option", "off");
    assert_int_equal(a->action, DR_FENCE_ACTION_OFF);
    expect_set_fails(a, "action", "OFF", -EINVAL, "unknown action 'OFF'");
    expect_set_fails(a, "action", "", -EINVAL, "unknown action ''");
    expect_set_fails(a, "option", "none", -EINVAL, "unknown action 'none'");
    assert_int_equal(a->action, DR_FENCE_ACTION_OFF);
}

static void
test_node_names(void **state)
{
    static const char *const keys[] = {"plug", "port", "local_node", "cluster_name"};
    static const char *const bad[] = {"node 2", "node\t2", "a,b", "a;b", "a=b", "a/b"};
    struct dr_fence_args *a = *state;
    char *max = repeat('n', 255), *too_long = repeat('n', 256);

    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            expect_set_fails(a, keys[k], bad[i], -EINVAL, "is not a valid node name");
        }
        expect_set_fails(a, keys[k], too_long, -EINVAL, "is not a valid node name");
        expect_set_fails(a, keys[k], "", -EINVAL, "is empty");
        expect_set_fails(a, keys[k], "node\x01", -EINVAL, "control character");
        expect_set_fails(a, keys[k], "node\x7f", -EINVAL, "control character");
    }
    assert_null(a->plug);
    assert_null(a->local_node);
    assert_null(a->cluster_name);

    expect_set_ok(a, "plug", "node2");
    assert_string_equal(a->plug, "node2");
    /* `port` is the same field; the later value wins. */
    expect_set_ok(a, "port", "node3");
    assert_string_equal(a->plug, "node3");
    expect_set_ok(a, "local_node", max);
    assert_string_equal(a->local_node, max);
    expect_set_ok(a, "cluster_name", "lab");
    assert_string_equal(a->cluster_name, "lab");
    /* A refused value leaves the previous one in place. */
    expect_set_fails(a, "plug", "a b", -EINVAL, "'a b'");
    assert_string_equal(a->plug, "node3");
    free(max);
    free(too_long);
}

static void
test_initiator_prefix(void **state)
{
    struct dr_fence_args *a = *state;
    char long_prefix[240];

    expect_set_fails(a, "initiator_prefix", "", -EINVAL, "is empty");
    expect_set_fails(a, "initiator_prefix", "x\ny", -EINVAL, "does not start an iSCSI name");
    expect_set_fails(a, "initiator_prefix", "node-", -EINVAL, "does not start an iSCSI name");
    expect_set_fails(a, "initiator_prefix", "iqn.2020-01.com.example:a b", -EINVAL,
                     "does not start an iSCSI name");
    memset(long_prefix, 'a', sizeof(long_prefix) - 1);
    memcpy(long_prefix, "iqn.", 4);
    long_prefix[sizeof(long_prefix) - 1] = '\0';
    expect_set_fails(a, "initiator_prefix", long_prefix, -EINVAL, "at most 200 bytes");
    assert_null(a->initiator_prefix);
    expect_set_ok(a, "initiator_prefix", "iqn.2020-01.com.example:");
    assert_string_equal(a->initiator_prefix, "iqn.2020-01.com.example:");
}

static void
test_plain_strings(void **state)
{
    static const char *const keys[] = {"corosync_conf", "ipc_name"};
    struct dr_fence_args *a = *state;

    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        expect_set_fails(a, keys[k], "", -EINVAL, "is empty");
        expect_set_fails(a, keys[k], "x\ny", -EINVAL, "control character");
        expect_set_fails(a, keys[k], "x\ry", -EINVAL, "control character");
    }
    /* Plain strings may hold what node names may not. */
    expect_set_ok(a, "corosync_conf", "/tmp/my corosync.conf");
    assert_string_equal(a->corosync_conf, "/tmp/my corosync.conf");
    expect_set_ok(a, "ipc_name", "droverd-test");
    assert_string_equal(a->ipc_name, "droverd-test");
}

static void
test_value_too_long(void **state)
{
    struct dr_fence_args *a = *state;
    char *ok = repeat('x', 4095), *too_long = repeat('x', 4096);

    expect_set_ok(a, "ipc_name", ok);
    assert_int_equal(strlen(a->ipc_name), 4095);
    expect_set_fails(a, "ipc_name", too_long, -EINVAL, "longer than 4095 bytes");
    assert_int_equal(strlen(a->ipc_name), 4095);
    free(ok);
    free(too_long);
}

static void
test_numbers(void **state)
{
    static const char *const bad[] = {
        "", "99", "600001", "-5", "5s", "0x100", "1e3", "abc", "18446744073709551616"};
    struct dr_fence_args *a = *state;

    assert_int_equal(a->timeout_ms, 5000);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_set_fails(a, "timeout_ms", bad[i], -EINVAL, "must be a number 100..600000");
    }
    assert_int_equal(a->timeout_ms, 5000);
    expect_set_ok(a, "timeout_ms", "100");
    assert_int_equal(a->timeout_ms, 100);
    expect_set_ok(a, "timeout_ms", "600000");
    assert_int_equal(a->timeout_ms, 600000);
}

static void
test_bools(void **state)
{
    static const char *const yes[] = {"1", "yes", "YES", "true", "On", "y", ""};
    static const char *const no[] = {"0", "no", "False", "off", "N"};
    struct dr_fence_args *a = *state;

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        a->verbose = false;
        a->debug = false;
        a->use_daemon = 0;
        expect_set_ok(a, "verbose", yes[i]);
        expect_set_ok(a, "debug", yes[i]);
        expect_set_ok(a, "use_daemon", yes[i]);
        assert_true(a->verbose);
        assert_true(a->debug);
        assert_int_equal(a->use_daemon, 1);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        a->verbose = true;
        a->debug = true;
        a->use_daemon = 1;
        expect_set_ok(a, "verbose", no[i]);
        expect_set_ok(a, "debug", no[i]);
        expect_set_ok(a, "use_daemon", no[i]);
        assert_false(a->verbose);
        assert_false(a->debug);
        assert_int_equal(a->use_daemon, 0);
    }
    expect_set_ok(a, "use_daemon", "auto");
    assert_int_equal(a->use_daemon, -1);
    /* auto is only for use_daemon. */
    expect_set_fails(a, "verbose", "auto", -EINVAL, "must be yes or no, not 'auto'");
    expect_set_fails(a, "debug", "2", -EINVAL, "must be yes or no, not '2'");
    expect_set_fails(a, "use_daemon", "maybe", -EINVAL, "yes or no or auto, not 'maybe'");
    assert_false(a->verbose);
    assert_false(a->debug);
    assert_int_equal(a->use_daemon, -1);
}

static void
test_reservation_type(void **state)
{
    struct dr_fence_args *a = *state;

    assert_int_equal(a->type, DR_PR_TYPE_WRITE_EXCLUSIVE_RO);
    expect_set_ok(a, "reservation_type", "eaar");
    assert_int_equal(a->type, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR);
    expect_set_ok(a, "reservation_type", "1");
    assert_int_equal(a->type, DR_PR_TYPE_WRITE_EXCLUSIVE);
    expect_set_fails(a, "reservation_type", "bogus", -EINVAL, "'bogus' is not one of");
    expect_set_fails(a, "reservation_type", "2", -EINVAL, "'2' is not one of");
    expect_set_fails(a, "reservation_type", "", -EINVAL, "is not one of");
    assert_int_equal(a->type, DR_PR_TYPE_WRITE_EXCLUSIVE);
}

static void
test_devices_malformed(void **state)
{
    static const struct {
        const char *value;
        const char *needle;
    } bad[] = {
        {"dev/sdb", "neither an absolute device path nor an iscsi:// URL"},
        {"ISCSI://p/iqn.t/0", "neither an absolute"},
        {"iscsi:", "neither an absolute"},
        {"iscsi://", "is not iscsi://"},
        {"iscsi://portal", "is not iscsi://"},
        {"iscsi:///iqn.t/0", "is not iscsi://"},
        {"iscsi://portal/iqn.t", "is not iscsi://"},
        {"iscsi://portal//0", "is not iscsi://"},
        {"iscsi://portal/iqn.t/", "LUN '' is not a number 0..16383"},
        {"iscsi://portal/iqn.t/x", "LUN 'x' is not"},
        {"iscsi://portal/iqn.t/-1", "LUN '-1' is not"},
        {"iscsi://portal/iqn.t/16384", "LUN '16384' is not"},
        {"iscsi://portal/iqn.t/1x", "LUN '1x' is not"},
        {"iscsi://portal/iqn.t/0/1", "LUN '0/1' is not"},
        {"iscsi://portal/iqn.t/99999999999999999999", "is not a number"},
        {"", "lists no device"},
        {" , ;\t", "lists no device"},
        /* One bad entry fails the list, naming that entry. */
        {"/dev/sdb,dev/sdc", "'dev/sdc'"},
    };
    struct dr_fence_args *a = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_set_fails(a, "devices", bad[i].value, -EINVAL, bad[i].needle);
    }
    dr_fence_args_free(a);
    expect_set_fails(a, "devices", "/dev/sdb\x01", -EINVAL, "control character");
    expect_set_fails(a, "devices", "/dev/sdb\n", -EINVAL, "control character");
    expect_set_fails(a, "devices", "iscsi://por\x1btal/iqn.t/0", -EINVAL, "control character");
    assert_int_equal(a->n_devices, 0);
}

static void
test_devices(void **state)
{
    struct dr_fence_args *a = *state;

    expect_set_ok(a, "devices",
                  "/dev/sdb, iscsi://192.0.2.1:3260/iqn.2026-11.org.drover:t1/0;"
                  "iscsi://u%p@[2001:db8::1]/iqn.t/16383\t/dev/mapper/mpatha");
    assert_int_equal(a->n_devices, 4);
    assert_string_equal(a->devices[0], "/dev/sdb");
    assert_string_equal(a->devices[1], "iscsi://192.0.2.1:3260/iqn.2026-11.org.drover:t1/0");
    assert_string_equal(a->devices[2], "iscsi://u%p@[2001:db8::1]/iqn.t/16383");
    assert_string_equal(a->devices[3], "/dev/mapper/mpatha");
    /* A second devices= adds to the list; the same device twice is one device. */
    expect_set_ok(a, "devices", "/dev/sdb /dev/sdc /dev/sdc");
    assert_int_equal(a->n_devices, 5);
    assert_string_equal(a->devices[4], "/dev/sdc");
}

static void
test_too_many_devices(void **state)
{
    struct dr_fence_args *a = *state;
    char list[64 * 16] = "";
    size_t len = 0;

    for (int i = 0; i < DR_FENCE_MAX_DEVICES; i++) {
        len += (size_t)snprintf(list + len, sizeof(list) - len, "/dev/d%d,", i);
    }
    /* Duplicates do not count against the limit. */
    snprintf(list + len, sizeof(list) - len, "/dev/d0,/dev/d31");
    expect_set_ok(a, "devices", list);
    assert_int_equal(a->n_devices, DR_FENCE_MAX_DEVICES);
    expect_set_fails(a, "devices", "/dev/d31 /dev/one-more", -E2BIG, "more than 32 devices");
    assert_int_equal(a->n_devices, DR_FENCE_MAX_DEVICES);
}

static void
test_initiators_malformed(void **state)
{
    static const struct {
        const char *value;
        const char *needle;
    } bad[] = {
        {"node1", "'node1' is not node=iqn"},
        {"=" IQN1, "is not node=iqn"},
        {"node1=", "'node1=' is not node=iqn"},
        {"node1=foo", "'foo' is not an iSCSI name"},
        {"node1=iqn.", "'iqn.' is not an iSCSI name"},
        {"node1=iqn.2026-11.org.drover_x", "is not an iSCSI name"},
        {"node1=iqn.a=b", "is not an iSCSI name"},
        {"node1=IQN.2026-11.org.drover:n1", "is not an iSCSI name"},
        {"", "lists no node=iqn pair"},
        {",,", "lists no node=iqn pair"},
        {"node1=" IQN1 " node1=" IQN2, "node 'node1' appears twice"},
    };
    struct dr_fence_args *a = *state;
    char long_iqn[300];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_set_fails(a, "initiators", bad[i].value, -EINVAL, bad[i].needle);
        dr_fence_args_free(a);
    }
    /* RFC 3720 3.2.6.1: an iSCSI name has at most 223 bytes. */
    memset(long_iqn, 'a', sizeof(long_iqn));
    memcpy(long_iqn, "n=iqn.", 6);
    long_iqn[2 + 223] = '\0';
    expect_set_ok(a, "initiators", long_iqn);
    dr_fence_args_free(a);
    long_iqn[2 + 223] = 'a';
    long_iqn[2 + 224] = '\0';
    expect_set_fails(a, "initiators", long_iqn, -EINVAL, "is not an iSCSI name");
    assert_int_equal(a->n_initiators, 0);
}

static void
test_initiators(void **state)
{
    struct dr_fence_args *a = *state;
    char list[DR_FENCE_MAX_NODES * 48] = "";
    size_t len = 0;

    expect_set_ok(a, "initiators", "node1=" IQN1 ", node2=eui.0123456789ABCDEF;node3=naa.60014055");
    assert_int_equal(a->n_initiators, 3);
    assert_string_equal(a->initiators[0].node, "node1");
    assert_string_equal(a->initiators[0].iqn, IQN1);
    assert_string_equal(a->initiators[1].iqn, "eui.0123456789ABCDEF");
    assert_string_equal(a->initiators[2].node, "node3");
    /* A later initiators= adds to the map and may not repeat a node. */
    expect_set_fails(a, "initiators", "node2=" IQN2, -EINVAL, "appears twice");
    assert_int_equal(a->n_initiators, 3);
    dr_fence_args_free(a);

    for (int i = 0; i < DR_FENCE_MAX_NODES; i++) {
        len += (size_t)snprintf(list + len, sizeof(list) - len, "n%d=iqn.x:n%d ", i, i);
    }
    expect_set_ok(a, "initiators", list);
    assert_int_equal(a->n_initiators, DR_FENCE_MAX_NODES);
    expect_set_fails(a, "initiators", "extra=iqn.x:extra", -E2BIG, "more than 64 initiators");
    assert_int_equal(a->n_initiators, DR_FENCE_MAX_NODES);
}

static void
test_out_of_memory(void **state)
{
    struct dr_fence_args *a = *state;

    expect_set_ok(a, "plug", "node2");
    alloc_fail_at(1);
    assert_int_equal(dr_fence_args_set(a, "plug", "node3", NULL, 0), -ENOMEM);
    assert_string_equal(a->plug, "node2");
    alloc_fail_at(1);
    assert_int_equal(dr_fence_args_set(a, "devices", "/dev/sdb", NULL, 0), -ENOMEM);
    assert_int_equal(a->n_devices, 0);
    /* The node half is allocated, the IQN half fails: nothing is kept, nothing leaks. */
    alloc_fail_at(2);
    assert_int_equal(dr_fence_args_set(a, "initiators", "node1=" IQN1, NULL, 0), -ENOMEM);
    assert_int_equal(a->n_initiators, 0);
    alloc_fail_at(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_action, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_names, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_strings, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_initiator_prefix, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_too_long, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_bools, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservation_type, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_malformed, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_devices, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_initiators_malformed, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_initiators, fence_args_setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, fence_args_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
