/*
 * vm_agent_qemu_pid over a fake /proc: a QEMU is recognised by its program name and
 * "-name guest=NAME,..." (and "-uuid UUID" when the identity has one), never by a prefix of the
 * name, another guest's UUID, or an argument of some other program.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "agent_mock.h"

#define UUID1 "0b7e6f53-4f0c-4b39-9d5c-6a1e8a0c2d11"
#define UUID2 "5d2a9c1e-7b44-4e0a-8f3d-2c6b1a9e0f22"
#define ARGS(s) s, sizeof(s) /* the literal's own final NUL ends the last argument */

static char proc[64];

static int
setup(void **state)
{
    (void)state;
    mock_reset();
    mock_tmpdir(proc, sizeof(proc));
    vm_agent_set_paths(proc, NULL);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    vm_agent_set_paths(NULL, NULL);
    mock_rmtree(proc);
    return 0;
}

static void
bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(vm_agent_qemu_pid(NULL, ""), -EINVAL);
    assert_int_equal(vm_agent_qemu_pid("", UUID1), -EINVAL);
}

static void
no_proc(void **state)
{
    (void)state;
    vm_agent_set_paths("/nonexistent/proc", NULL);
    assert_int_equal(vm_agent_qemu_pid("vm1", ""), -ENOENT);
}

static void
none_runs(void **state)
{
    char path[128];

    (void)state;
    assert_int_equal(vm_agent_qemu_pid("vm1", UUID1), 0);
    /* Not processes, or unreadable: skipped. */
    snprintf(path, sizeof(path), "%s/self", proc);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/77", proc);
    assert_int_equal(mkdir(path, 0755), 0); /* no cmdline */
    mock_proc_entry(proc, "78", "", 0);     /* a kernel thread */
    mock_proc_entry(proc, "79", ARGS("/sbin/init"));
    assert_int_equal(vm_agent_qemu_pid("vm1", UUID1), 0);
}

static void
finds_by_name_and_uuid(void **state)
{
    (void)state;
    mock_proc_entry(proc, "100",
                    ARGS("/usr/bin/qemu-system-x86_64\0-name\0guest=vm1,debug-threads=on\0-S\0"
                         "-uuid\0" UUID1 "\0-m\0size=1048576k"));
    assert_int_equal(vm_agent_qemu_pid("vm1", UUID1), 100);
    assert_int_equal(vm_agent_qemu_pid("vm1", ""), 100); /* the name alone */
    /* The UUID is compared without regard to case (libvirt prints lower case). */
    assert_int_equal(vm_agent_qemu_pid("vm1", "0B7E6F53-4F0C-4B39-9D5C-6A1E8A0C2D11"), 100);
    /* Same name, another UUID: another domain. */
    assert_int_equal(vm_agent_qemu_pid("vm1", UUID2), 0);
    /* Prefixes and extensions of the name are other domains. */
    assert_int_equal(vm_agent_qemu_pid("vm", ""), 0);
    assert_int_equal(vm_agent_qemu_pid("vm10", ""), 0);
}

static void
name_without_options(void **state)
{
    (void)state;
    mock_proc_entry(proc, "200", ARGS("qemu-kvm\0-uuid\0" UUID2 "\0-name\0guest=vm2"));
    assert_int_equal(vm_agent_qemu_pid("vm2", UUID2), 200);
}

static void
not_qemu(void **state)
{
    (void)state;
    /* A program that is not QEMU, with QEMU's arguments (a debugger, a wrapper script...). */
    mock_proc_entry(proc, "300",
                    ARGS("/usr/bin/gdb\0--args\0qemu-system-x86_64\0-name\0guest=vm1,x=y"));
    /* A QEMU without -name guest= (libvirt always passes it). */
    mock_proc_entry(proc, "301", ARGS("qemu-system-x86_64\0-name\0vm1\0-uuid\0" UUID1));
    /* -name as the last argument, with nothing after it. */
    mock_proc_entry(proc, "302", ARGS("qemu-system-x86_64\0-uuid\0" UUID1 "\0-name"));
    assert_int_equal(vm_agent_qemu_pid("vm1", UUID1), 0);
    assert_int_equal(vm_agent_qemu_pid("vm1", ""), 0);
}

static void
among_many(void **state)
{
    (void)state;
    mock_proc_entry(proc, "401", ARGS("qemu-system-x86_64\0-name\0guest=a,debug-threads=on"));
    mock_proc_entry(proc, "402", ARGS("qemu-system-x86_64\0-name\0guest=b\0-uuid\0" UUID2));
    mock_proc_entry(proc, "403", ARGS("qemu-system-x86_64\0-name\0guest=vm1\0-uuid\0" UUID1));
    assert_int_equal(vm_agent_qemu_pid("vm1", UUID1), 403);
    assert_int_equal(vm_agent_qemu_pid("b", UUID2), 402);
    assert_int_equal(vm_agent_qemu_pid("a", ""), 401);
    assert_int_equal(vm_agent_qemu_pid("c", ""), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(no_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(none_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(finds_by_name_and_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(name_without_options, setup, teardown),
        cmocka_unit_test_setup_teardown(not_qemu, setup, teardown),
        cmocka_unit_test_setup_teardown(among_many, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
