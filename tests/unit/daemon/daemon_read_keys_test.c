/* dr_daemon_read_keys against the scripted droverd. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "qb_ipcc_mock.h"

#define DEV "iscsi://192.0.2.1/iqn.2026-11.org.drover:t1/0"

static int
read_keys_on(const char *device)
{
    struct dr_pr_keys keys = {0};
    int rc = dr_daemon_read_keys(NULL, 1000, device, &keys);

    dr_pr_keys_free(&keys);
    return rc;
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    ipcc_mock_answer(0);
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, NULL), -EINVAL);
    assert_int_equal(ipcc.n_connect, 0);
    ipcc_check_device_specs(read_keys_on, DR__OP_READ_KEYS);
}

static void
test_keys(void **state)
{
    struct dr_pr_keys keys = {0};

    (void)state;
    ipcc_mock_answer(0);
    ipcc.res.u.keys.generation = 17;
    ipcc.res.u.keys.n_keys = 3;
    ipcc.res.u.keys.keys[0] = 0x11;
    ipcc.res.u.keys.keys[1] = 0x22;
    ipcc.res.u.keys.keys[2] = 0x33;
    ipcc.res.u.keys.keys[3] = 0x44; /* beyond n_keys: not a key */
    assert_int_equal(dr_daemon_read_keys("droverd-test", 1000, DEV, &keys), 0);
    assert_int_equal(ipcc.req.hdr.id, DR__OP_READ_KEYS);
    assert_string_equal(ipcc.req.device, DEV);
    assert_string_equal(ipcc.name, "droverd-test");
    assert_int_equal(keys.generation, 17);
    assert_int_equal(keys.n_keys, 3);
    assert_non_null(keys.keys);
    assert_int_equal(keys.keys[0], 0x11);
    assert_int_equal(keys.keys[2], 0x33);
    dr_pr_keys_free(&keys);
    ipcc_mock_assert_balanced(1);
}

static void
test_no_keys(void **state)
{
    struct dr_pr_keys keys = {0};

    (void)state;
    ipcc_mock_answer(0);
    ipcc.res.u.keys.generation = 3;
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, &keys), 0);
    assert_int_equal(keys.n_keys, 0);
    assert_null(keys.keys);
    assert_int_equal(keys.generation, 3);
}

static void
test_key_count_limit(void **state)
{
    struct dr_pr_keys keys = {0};

    (void)state;
    ipcc_mock_answer(0);
    ipcc.res.u.keys.n_keys = DR_DAEMON_MAX_KEYS;
    ipcc.res.u.keys.keys[DR_DAEMON_MAX_KEYS - 1] = 0x99;
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, &keys), 0);
    assert_int_equal(keys.n_keys, DR_DAEMON_MAX_KEYS);
    assert_int_equal(keys.keys[DR_DAEMON_MAX_KEYS - 1], 0x99);
    dr_pr_keys_free(&keys);

    /* More keys than the answer can carry: a broken daemon, not a read past the buffer. */
    memset(&keys, 0, sizeof(keys));
    ipcc.res.u.keys.n_keys = DR_DAEMON_MAX_KEYS + 1;
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, &keys), -DR_E_PROTOCOL);
    assert_null(keys.keys);
    assert_int_equal(keys.n_keys, 0);
    ipcc.res.u.keys.n_keys = UINT32_MAX;
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, &keys), -DR_E_PROTOCOL);
    assert_null(keys.keys);
}

static void
test_errors(void **state)
{
    struct dr_pr_keys keys = {0};

    (void)state;
    ipcc_mock_answer(-ENOENT);
    ipcc.res.u.keys.n_keys = 2;
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, &keys), -ENOENT);
    assert_int_equal(keys.n_keys, 0);
    ipcc_mock_answer(-DR_E_NOT_REGISTERED);
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, &keys), -DR_E_NOT_REGISTERED);
    ipcc_mock_reset();
    assert_int_equal(dr_daemon_read_keys(NULL, 1000, DEV, &keys), -DR_E_DAEMON);
    assert_null(keys.keys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_keys, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_no_keys, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_key_count_limit, ipcc_mock_setup, ipcc_mock_teardown),
        cmocka_unit_test_setup_teardown(test_errors, ipcc_mock_setup, ipcc_mock_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
