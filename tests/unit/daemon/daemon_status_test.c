/*
 * dr_daemon_status, and with it the connection behaviour every droverd call shares: absent,
 * silent, refusing, timing out, speaking another protocol version.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "qb_ipcc_mock.h"

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    ipcc_mock_answer(0);
    assert_int_equal(dr_daemon_status(NULL, 100, NULL), -EINVAL);
    assert_int_equal(ipcc.n_connect, 0);
}

static void
test_no_daemon(void **state)
{
    struct dr_daemon_status st;
    int64_t t0;

    (void)state;
    memset(&st, 0x5a, sizeof(st));
    t0 = now_ms();
    assert_int_equal(dr_daemon_status(NULL, 5000, &st), -DR_E_DAEMON);
    /* At once, not after the timeout. */
    assert_true(now_ms() - t0 < 1000);
    assert_int_equal(ipcc.n_connect, 1);
    assert_string_equal(ipcc.name, DR_DAEMON_IPC_NAME);
    assert_int_equal(st.n_devices, 0x5a5a5a5a);
    ipcc_mock_assert_balanced(0);
}

static void
test_silent_daemon_times_out(void **state)
{
    struct dr_daemon_status st;
    int64_t t0, elapsed;

    (void)state;
    ipcc.mode = IPCC_SILENT;
    t0 = now_ms();
    assert_int_equal(dr_daemon_status("droverd-test", 200, &st), -DR_E_DAEMON);
    elapsed = now_ms() - t0;
    /* Waits for the handshake as long as allowed, and no longer. */
    assert_true(elapsed >= 190);
    assert_true(elapsed < 2000);
    assert_string_equal(ipcc.name, "droverd-test");
    assert_int_equal(ipcc.n_continue, 0);
    ipcc_mock_assert_balanced(0);
}

static void
test_refused_handshake(void **state)
{
    struct dr_daemon_status st;

    (void)state;
    ipcc.mode = IPCC_REFUSED;
    assert_int_equal(dr_daemon_status(NULL, 1000, &st), -DR_E_DAEMON);
    assert_int_equal(ipcc.n_continue, 1);
    /* libqb freed the connection: disconnecting it again would be a double free. */
    assert_int_equal(ipcc.n_disconnect, 0);
    ipcc_mock_assert_balanced(0);
}

static void
test_no_answer_within_timeout(void **state)
{
    struct dr_daemon_status st;

    (void)state;
    ipcc_mock_answer(0);
    ipcc.send_rc = -ETIMEDOUT;
    assert_int_equal(dr_daemon_status(NULL, 300, &st), -DR_E_DAEMON);
    /* The answer is awaited only for what is left of the caller's timeout. */
    assert_true(ipcc.send_timeout_ms > 0);
    assert_true(ipcc.send_timeout_ms <= 300);
    ipcc_mock_assert_balanced(1);
}

static void
test_default_timeout(void **state)
{
    struct dr_daemon_status st;

    (void)state;
    ipcc_mock_answer(0);
    assert_int_equal(dr_daemon_status(NULL, 0, &st), 0);
    /* 0 means 5000 ms. */
    assert_true(ipcc.send_timeout_ms > 4000);
    assert_true(ipcc.send_timeout_ms <= 5000);
}

static void
test_other_protocol_version(void **state)
{
    struct dr_daemon_status st;

    (void)state;
    ipcc_mock_answer(0);
    ipcc.res.version = DR_DAEMON_PROTO_VERSION + 1;
    assert_int_equal(dr_daemon_status(NULL, 1000, &st), -DR_E_PROTOCOL);
    ipcc_mock_assert_balanced(1);

    /* An answer too short to carry a version and a code. */
    ipcc_mock_reset();
    ipcc_mock_answer(0);
    ipcc.res_len = offsetof(struct dr__daemon_res, u) - 1;
    assert_int_equal(dr_daemon_status(NULL, 1000, &st), -DR_E_PROTOCOL);
    ipcc_mock_assert_balanced(1);
}

static void
test_status(void **state)
{
    struct dr_daemon_status st;

    (void)state;
    ipcc_mock_answer(0);
    snprintf(ipcc.res.u.status.node, sizeof(ipcc.res.u.status.node), "node1");
    snprintf(ipcc.res.u.status.cluster, sizeof(ipcc.res.u.status.cluster), "lab");
    ipcc.res.u.status.key = UINT64_C(0x6472cd20bf9cf968);
    ipcc.res.u.status.state = DR_DAEMON_STATE_REGISTERED;
    ipcc.res.u.status.vms_destroyed = 2;
    ipcc.res.u.status.n_devices = 1;
    snprintf(ipcc.res.u.status.devices[0].spec, DR_DAEMON_SPEC_MAX, "iscsi://p/iqn.t/0");
    ipcc.res.u.status.devices[0].state = DR_DAEMON_STATE_FENCED;
    memset(&st, 0, sizeof(st));
    assert_int_equal(dr_daemon_status(NULL, 1000, &st), 0);
    assert_int_equal(ipcc.req.hdr.id, DR__OP_STATUS);
    assert_int_equal(ipcc.req.hdr.size, sizeof(struct dr__daemon_req));
    assert_int_equal(ipcc.req.version, DR_DAEMON_PROTO_VERSION);
    assert_true(ipcc.max_msg >= sizeof(struct dr__daemon_res));
    assert_string_equal(st.node, "node1");
    assert_string_equal(st.cluster, "lab");
    assert_int_equal(st.key, UINT64_C(0x6472cd20bf9cf968));
    assert_int_equal(st.state, DR_DAEMON_STATE_REGISTERED);
    assert_int_equal(st.vms_destroyed, 2);
    assert_int_equal(st.n_devices, 1);
    assert_string_equal(st.devices[0].spec, "iscsi://p/iqn.t/0");
    assert_int_equal(st.devices[0].state, DR_DAEMON_STATE_FENCED);
    ipcc_mock_assert_balanced(1);
}

static void
test_status_sanitised(void **state)
{
    struct dr_daemon_status st;

    (void)state;
    ipcc_mock_answer(0);
    /* Unterminated names and too many devices from a confused daemon. */
    memset(ipcc.res.u.status.node, 'n', sizeof(ipcc.res.u.status.node));
    memset(ipcc.res.u.status.cluster, 'c', sizeof(ipcc.res.u.status.cluster));
    ipcc.res.u.status.n_devices = DR_DAEMON_MAX_DEVICES + 100;
    assert_int_equal(dr_daemon_status(NULL, 1000, &st), 0);
    assert_int_equal(strlen(st.node), sizeof(st.node) - 1);
    assert_int_equal(strlen(st.cluster), sizeof(st.cluster) - 1);
    assert_int_equal(st.n_devices, DR_DAEMON_MAX_DEVICES);
}

static void
test_daemon_error_passes_through(void **state)
{
    struct dr_daemon_status st;

    (void)state;
    ipcc_mock_answer(-EIO);
    memset(&st, 0x5a, sizeof(st));
    assert_int_equal(dr_daemon_status(NULL, 1000, &st), -EIO);
    /* Out-parameters are written only on success. */
    assert_int_equal(st.n_devices, 0x5a5a5a5a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_no_daemon, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_silent_daemon_times_out, ipcc_mock_setup,
                                        ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_refused_handshake, ipcc_mock_setup,
                                        ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_no_answer_within_timeout, ipcc_mock_setup,
                                        ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_default_timeout, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_other_protocol_version, ipcc_mock_setup,
                                        ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_status, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_status_sanitised, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_daemon_error_passes_through, ipcc_mock_setup,
                                        ipcc_mock_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
