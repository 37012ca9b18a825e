/*
 * The VM module against libvirt's in-process test driver (test:///default, no daemon): lookup,
 * info, start, stop, job statistics and errors through the real libvirt, nothing wrapped.
 * test:///default is private to each connection, so every test opens its own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_capture.h"

#define TEST_URI "test:///default"
/* The test driver's built-in domain. */
#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"

static int
setup(void **state)
{
    struct dr_vm_conn *conn = NULL;

    assert_int_equal(dr_vm_conn_open(TEST_URI, &conn), 0);
    *state = conn;
    log_capture_reset();
    return 0;
}

static int
teardown(void **state)
{
    dr_vm_conn_close(*state);
    return 0;
}

static void
test_bad_args(void **state)
{
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;

    assert_int_equal(dr_vm_lookup(NULL, "test", &vm), -EINVAL);
    assert_int_equal(dr_vm_lookup(*state, NULL, &vm), -EINVAL);
    assert_int_equal(dr_vm_lookup(*state, "", &vm), -EINVAL);
    assert_int_equal(dr_vm_lookup(*state, "test", NULL), -EINVAL);
    assert_int_equal(dr_vm_get_info(NULL, &info), -EINVAL);
    assert_int_equal(dr_vm_start(NULL), -EINVAL);
    assert_int_equal(dr_vm_stop(NULL, 0, true), -EINVAL);
    assert_int_equal(dr_vm_conn_open(TEST_URI, NULL), -EINVAL);
    assert_int_equal(dr_vm_count_running(NULL), -EINVAL);
    assert_false(dr_vm_conn_is_alive(NULL));
    dr_vm_free(NULL);
    dr_vm_conn_close(NULL);
}

static void
test_lookup_by_name_and_uuid(void **state)
{
    struct dr_vm *a = NULL, *b = NULL;
    struct dr_vm_info ia, ib;

    assert_true(dr_vm_conn_is_alive(*state));
    assert_int_equal(dr_vm_lookup(*state, "test", &a), 0);
    assert_int_equal(dr_vm_lookup(*state, TEST_UUID, &b), 0);
    assert_int_equal(dr_vm_get_info(a, &ia), 0);
    assert_int_equal(dr_vm_get_info(b, &ib), 0);
    assert_string_equal(ia.name, "test");
    assert_string_equal(ib.name, "test");
    assert_string_equal(ia.uuid, TEST_UUID);
    assert_int_equal(ia.state, DR_VM_STATE_RUNNING);
    assert_int_equal(ia.virt_state, 1 /* VIR_DOMAIN_RUNNING */);
    assert_true(ia.persistent);
    assert_int_equal(ia.vcpus, 2);
    assert_true(ia.memory_kib > 0);
    assert_true(ia.max_memory_kib >= ia.memory_kib);
    dr_vm_free(a);
    dr_vm_free(b);
}

static void
test_lookup_missing(void **state)
{
    struct dr_vm *vm = (struct dr_vm *)0x1;

    assert_int_equal(dr_vm_lookup(*state, "no-such-domain", &vm), -ENOENT);
    assert_ptr_equal(vm, (struct dr_vm *)0x1); /* out written only on success */
    /* A UUID that no domain has: the by-name fallback also fails, one message in all. */
    assert_int_equal(dr_vm_lookup(*state, "00000000-0000-0000-0000-000000000001", &vm), -ENOENT);
    assert_int_equal(log_capture_count(-1, "00000000-0000-0000-0000-000000000001"), 1);
    assert_int_equal(log_capture_count(LOG_INFO, "no-such-domain"), 1);
}

static void
test_stop_start_cycle(void **state)
{
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;

    assert_int_equal(dr_vm_count_running(*state), 1);
    assert_int_equal(dr_vm_lookup(*state, "test", &vm), 0);
    /* The test driver shuts a guest down at once. */
    assert_int_equal(dr_vm_stop(vm, 2000, false), 0);
    assert_int_equal(dr_vm_get_info(vm, &info), 0);
    assert_int_equal(info.state, DR_VM_STATE_SHUTOFF);
    assert_int_equal(dr_vm_count_running(*state), 0);
    assert_int_equal(log_capture_count(LOG_NOTICE, "shut down"), 1);
    /* Stopping a stopped domain succeeds without touching it. */
    assert_int_equal(dr_vm_stop(vm, 2000, false), 0);

    assert_int_equal(dr_vm_start(vm), 0);
    assert_int_equal(dr_vm_get_info(vm, &info), 0);
    assert_int_equal(info.state, DR_VM_STATE_RUNNING);
    assert_int_equal(dr_vm_start(vm), 0); /* already running */
    assert_int_equal(dr_vm_count_running(*state), 1);

    assert_int_equal(dr_vm_stop(vm, 2000, true), 0); /* force: destroy */
    assert_int_equal(dr_vm_get_info(vm, &info), 0);
    assert_int_equal(info.state, DR_VM_STATE_SHUTOFF);
    assert_int_equal(info.virt_reason, 2 /* VIR_DOMAIN_SHUTOFF_DESTROYED */);
    assert_int_equal(log_capture_count(LOG_NOTICE, "destroyed"), 1);
    dr_vm_free(vm);
}

static void
test_destroy_all(void **state)
{
    unsigned int destroyed = 99, running = 99;

    assert_int_equal(dr_vm_destroy_all(*state, &destroyed, &running), 0);
    assert_int_equal(destroyed, 1);
    assert_int_equal(running, 0);
    assert_int_equal(dr_vm_count_running(*state), 0);
}

static void
test_job_stats_idle(void **state)
{
    struct dr_vm *vm = NULL;
    struct dr_vm_job_stats st;
    int rc;

    assert_int_equal(dr_vm_lookup(*state, "test", &vm), 0);
    memset(&st, 0xff, sizeof(st));
    rc = dr_vm_job_stats(vm, &st);
    /* libvirt 9.0's test driver has no job statistics: the error is translated and logged. */
    assert_int_equal(rc, -DR_E_LIBVIRT);
    assert_int_equal(st.data_total, UINT64_MAX); /* out written only on success */
    assert_int_equal(log_capture_count(LOG_ERR, "libvirt: test:"), 1);
    assert_int_equal(dr_vm_job_stats(NULL, &st), -EINVAL);
    assert_int_equal(dr_vm_job_stats(vm, NULL), -EINVAL);
    assert_int_equal(dr_vm_abort_job(NULL), -EINVAL);
    dr_vm_free(vm);
}

/*
 * Room for a migration on its target: a domain of the same name under another UUID goes when it
 * is only an inactive definition, stays (-EEXIST) while it runs; the same UUID and an unknown
 * name are left alone.
 */
static void
test_clear_stale(void **state)
{
    const char *other = "00000000-0000-0000-0000-00000000abcd";
    struct dr_vm *vm = NULL;

    assert_int_equal(dr_vm_clear_stale(*state, "no-such-domain", other), 0);
    assert_int_equal(dr_vm_clear_stale(*state, "test", TEST_UUID), 0);
    assert_int_equal(dr_vm_clear_stale(*state, "test", "6695EB01-F6A4-8304-79AA-97F2502E193F"), 0);
    assert_int_equal(dr_vm_clear_stale(*state, "test", other), -EEXIST);
    assert_int_equal(log_capture_count(LOG_ERR, "running under another UUID (" TEST_UUID), 1);
    assert_int_equal(dr_vm_lookup(*state, "test", &vm), 0);
    assert_int_equal(dr_vm_stop(vm, 0, true), 0);
    dr_vm_free(vm);
    vm = NULL;
    assert_int_equal(dr_vm_lookup(*state, "test", &vm), 0); /* shut off, still defined */
    dr_vm_free(vm);
    vm = NULL;
    assert_int_equal(dr_vm_clear_stale(*state, "test", TEST_UUID), 0);
    assert_int_equal(dr_vm_lookup(*state, "test", &vm), 0); /* its own UUID: kept */
    dr_vm_free(vm);
    vm = NULL;
    assert_int_equal(dr_vm_clear_stale(*state, "test", other), 0);
    assert_int_equal(log_capture_count(LOG_NOTICE, "inactive definition of it under another UUID"),
                     1);
    assert_int_equal(dr_vm_lookup(*state, "test", &vm), -ENOENT);
    assert_int_equal(dr_vm_clear_stale(NULL, "test", other), -EINVAL);
    assert_int_equal(dr_vm_clear_stale(*state, "", other), -EINVAL);
    assert_int_equal(dr_vm_clear_stale(*state, "test", ""), -EINVAL);
}

static void
test_conn_open_refused(void **state)
{
    struct dr_vm_conn *c = (struct dr_vm_conn *)0x1;

    (void)state;
    assert_int_equal(dr_vm_conn_open("nosuchdriver:///nowhere", &c), -DR_E_LIBVIRT);
    assert_ptr_equal(c, (struct dr_vm_conn *)0x1);
    assert_int_equal(log_capture_count(LOG_ERR, "nosuchdriver:///nowhere"), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_by_name_and_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_start_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_stats_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conn_open_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
