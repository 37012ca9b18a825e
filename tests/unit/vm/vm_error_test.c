/*
 * The module's one translation of libvirt errors (dr__vm_rc_from_virt, dr__vm_report), and
 * real libvirt errors from the test driver arriving translated and logged exactly once.
 */
#include <errno.h>
#include <libvirt/virterror.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_capture.h"
#include "vm_internal.h"

static void
test_codes(void **state)
{
    (void)state;
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_NO_DOMAIN), -ENOENT);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_XML_ERROR), -EINVAL);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_XML_DETAIL), -EINVAL);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_XML_INVALID_SCHEMA), -EINVAL);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_OK), -DR_E_LIBVIRT);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_OPERATION_ABORTED), -DR_E_LIBVIRT);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_OPERATION_INVALID), -DR_E_LIBVIRT);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_SYSTEM_ERROR), -DR_E_LIBVIRT);
    assert_int_equal(dr__vm_rc_from_virt(VIR_ERR_NO_SUPPORT), -DR_E_LIBVIRT);
}

static void
test_report_levels(void **state)
{
    (void)state;
    log_capture_reset();
    assert_int_equal(dr__vm_report(VIR_ERR_NO_DOMAIN, "Domain not found", "vm1"), -ENOENT);
    assert_int_equal(log_capture_count(LOG_INFO, "libvirt: vm1: Domain not found"), 1);
    assert_int_equal(dr__vm_report(VIR_ERR_INTERNAL_ERROR, NULL, "vm2"), -DR_E_LIBVIRT);
    assert_int_equal(log_capture_count(LOG_ERR, "libvirt: vm2: unknown error"), 1);
}

/* The test driver's errors: each one translated and logged once, the thread's error reset. */
static void
test_real_errors(void **state)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    char path[] = "/tmp/dr-vm-error-XXXXXX";
    const char bad[] = "<domain type='test'><name>x</name><memory>oops</memory></domain>";
    int fd;

    (void)state;
    assert_int_equal(dr_vm_conn_open("test:///default", &conn), 0);
    log_capture_reset();
    assert_int_equal(dr_vm_lookup(conn, "ghost", &vm), -ENOENT);
    assert_int_equal(log_capture_count(-1, "ghost"), 1);
    assert_null(virGetLastError());

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
    close(fd);
    assert_int_equal(dr_vm_define_file(conn, path, &vm), -EINVAL);
    assert_int_equal(log_capture_count(LOG_ERR, path), 1);
    assert_null(virGetLastError());
    unlink(path);

    assert_int_equal(dr_vm_lookup(conn, "test", &vm), 0);
    log_capture_reset();
    assert_int_equal(dr_vm_abort_job(vm), -DR_E_LIBVIRT); /* no job support in the test driver */
    assert_int_equal(log_capture_count(LOG_ERR, "libvirt: test:"), 1);
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_report_levels),
        cmocka_unit_test(test_real_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
