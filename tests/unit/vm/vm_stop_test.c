/*
 * dr_vm_stop with libvirt wrapped at the boundary (shutdown, state, destroy): the bounded wait,
 * the escalation to destroy, and success only when the domain verifiably does not run. The
 * handle itself comes from the test driver.
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
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
#include "util_internal.h"

int __wrap_virDomainShutdown(virDomainPtr dom);
int __wrap_virDomainGetState(virDomainPtr dom, int *state, int *reason, unsigned int flags);
int __wrap_virDomainDestroyFlags(virDomainPtr dom, unsigned int flags);
int __wrap_virDomainDestroy(virDomainPtr dom);
int __real_virDomainDestroy(virDomainPtr dom);

/* The simulated domain. */
static struct {
    int state;           /* what virDomainGetState says */
    int64_t off_at_ms;   /* the guest powers off at this moment (0: never) */
    bool graceful_kills; /* destroy with SIGTERM alone works */
    bool plain_kills;    /* destroy with SIGKILL works */
    bool state_fails;    /* libvirtd gone */
    unsigned int n_shutdown, n_state, n_graceful, n_plain;
} sim;

int
__wrap_virDomainShutdown(virDomainPtr dom)
{
    (void)dom;
    sim.n_shutdown++;
    return 0;
}

int
__wrap_virDomainGetState(virDomainPtr dom, int *state, int *reason, unsigned int flags)
{
    (void)dom;
    (void)flags;
    sim.n_state++;
    if (sim.state_fails) {
        /* A real libvirt error that is not "no such domain", as when libvirtd is gone. */
        assert_null(virConnectOpen("nosuchdriver:///gone"));
        return -1;
    }
    if (sim.off_at_ms != 0 && dr__now_ms() >= sim.off_at_ms) {
        sim.state = VIR_DOMAIN_SHUTOFF;
    }
    *state = sim.state;
    *reason = 0;
    return 0;
}

int
__wrap_virDomainDestroyFlags(virDomainPtr dom, unsigned int flags)
{
    (void)dom;
    assert_int_equal(flags, VIR_DOMAIN_DESTROY_GRACEFUL);
    sim.n_graceful++;
    if (sim.graceful_kills) {
        sim.state = VIR_DOMAIN_SHUTOFF;
        return 0;
    }
    /* A real error of the right kind: destroying a stopped domain of the test driver. */
    virConnectPtr c = virConnectOpen("test:///default");
    virDomainPtr d = virDomainLookupByName(c, "test");
    assert_int_equal(__real_virDomainDestroy(d), 0);
    assert_int_equal(__real_virDomainDestroy(d), -1);
    virDomainFree(d);
    virConnectClose(c);
    return -1;
}

int
__wrap_virDomainDestroy(virDomainPtr dom)
{
    (void)dom;
    sim.n_plain++;
    if (sim.plain_kills) {
        sim.state = VIR_DOMAIN_SHUTOFF;
        return 0;
    }
    return -1;
}

static struct dr_vm_conn *the_conn;

static int
setup(void **state)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;

    assert_int_equal(dr_vm_conn_open("test:///default", &conn), 0);
    assert_int_equal(dr_vm_lookup(conn, "test", &vm), 0);
    state[0] = vm;
    memset(&sim, 0, sizeof(sim));
    sim.state = VIR_DOMAIN_RUNNING;
    sim.plain_kills = true;
    log_capture_reset();
    the_conn = conn;
    return 0;
}

static struct dr_vm *
vm_of(void **state)
{
    return state[0];
}

static void
test_already_off(void **state)
{
    sim.state = VIR_DOMAIN_SHUTOFF;
    assert_int_equal(dr_vm_stop(vm_of(state), 5000, false), 0);
    assert_int_equal(sim.n_shutdown, 0);
    assert_int_equal(sim.n_graceful + sim.n_plain, 0);
}

static void
test_graceful_within_timeout(void **state)
{
    int64_t t0 = dr__now_ms();

    sim.off_at_ms = t0 + 250;
    assert_int_equal(dr_vm_stop(vm_of(state), 5000, false), 0);
    assert_int_equal(sim.n_shutdown, 1);
    assert_int_equal(sim.n_graceful + sim.n_plain, 0);
    assert_true(dr__now_ms() - t0 >= 250);
    assert_true(dr__now_ms() - t0 < 2000); /* polled, not slept through the timeout */
    assert_true(sim.n_state >= 3);
    assert_int_equal(log_capture_count(LOG_NOTICE, "shut down"), 1);
}

static void
test_timeout_then_graceful_destroy(void **state)
{
    int64_t t0 = dr__now_ms();

    sim.graceful_kills = true;
    assert_int_equal(dr_vm_stop(vm_of(state), 300, false), 0);
    assert_true(dr__now_ms() - t0 >= 300);
    assert_true(dr__now_ms() - t0 < 3000);
    assert_int_equal(sim.n_shutdown, 1);
    assert_int_equal(sim.n_graceful, 1);
    assert_int_equal(sim.n_plain, 0);
    assert_int_equal(log_capture_count(LOG_WARNING, "did not shut down within 300 ms"), 1);
}

static void
test_sigterm_ignored_then_kill(void **state)
{
    assert_int_equal(dr_vm_stop(vm_of(state), 100, false), 0);
    assert_int_equal(sim.n_graceful, 1);
    assert_int_equal(sim.n_plain, 1);
    assert_int_equal(log_capture_count(LOG_WARNING, "SIGTERM did not end it"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "destroyed"), 1);
}

static void
test_force_skips_shutdown(void **state)
{
    sim.graceful_kills = true;
    assert_int_equal(dr_vm_stop(vm_of(state), 60000, true), 0);
    assert_int_equal(sim.n_shutdown, 0);
    assert_int_equal(sim.n_graceful, 1);
}

static void
test_still_running_after_destroy(void **state)
{
    sim.plain_kills = false;
    assert_int_equal(dr_vm_stop(vm_of(state), 0, false), -ETIMEDOUT);
    assert_int_equal(sim.n_shutdown, 0); /* no time for a graceful stop */
    assert_int_equal(sim.n_graceful, 1);
    assert_int_equal(sim.n_plain, 1);
    assert_int_equal(log_capture_count(LOG_ERR, "still runs after destroy"), 1);
}

static void
test_libvirt_down_is_not_success(void **state)
{
    sim.state_fails = true;
    assert_int_equal(dr_vm_stop(vm_of(state), 100, false), -DR_E_LIBVIRT);
    assert_int_equal(sim.n_graceful + sim.n_plain, 0);
}

static int
teardown(void **state)
{
    dr_vm_free(vm_of(state));
    dr_vm_conn_close(the_conn);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_already_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graceful_within_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_then_graceful_destroy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_ignored_then_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_skips_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_still_running_after_destroy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libvirt_down_is_not_success, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
