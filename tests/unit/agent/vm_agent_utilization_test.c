/*
 * Utilization auto-set through vm_agent_run: crm_resource's exact argv after start and
 * migrate_from, a monitor that writes only when the values changed (kept in the state file),
 * and failures that are warnings, never failed actions. posix_spawnp and waitpid are simulated.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <cmocka.h>

#include "agent_mock.h"
#include "drover/error.h"

#define UUID1 "0b7e6f53-4f0c-4b39-9d5c-6a1e8a0c2d11"
#define CPU(n)                                                                                     \
    "crm_resource|--resource|vm-vm1|--utilization|--set-parameter|cpu|--parameter-value|" n
#define MEM(n)                                                                                     \
    "crm_resource|--resource|vm-vm1|--utilization|--set-parameter|hv_memory|--parameter-value|" n

static struct vm_agent a;

#define PARSE(...)                                                                                 \
    do {                                                                                           \
        const char *const kv_[] = {"OCF_RESKEY_domain", "vm1", __VA_ARGS__, NULL};                 \
        mock_parse(&a, kv_);                                                                       \
    } while (0)
#define INSTANCE "OCF_RESOURCE_INSTANCE", "vm-vm1"

static void
start_sets_cpu_and_memory(void **state)
{
    char st[512];

    (void)state;
    PARSE(INSTANCE);
    mock.info.max_memory_kib = 2 * 1048576; /* the maximum counts, not the balloon's current */
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[0], CPU("2"));
    assert_string_equal(mock.spawn_argv[1], MEM("2048"));
    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_string_equal(st, "vm1 " UUID1 " 2 2048\n");
    /* Start again (Pacemaker may, after a restart of its own): set again, unconditionally. */
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 4);
}

static void
off_or_nameless(void **state)
{
    (void)state;
    PARSE(INSTANCE, "OCF_RESKEY_autoset_utilization", "false");
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_SUCCESS);
    PARSE("OCF_RESKEY_hypervisor", "qemu:///system"); /* no OCF_RESOURCE_INSTANCE */
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    /* Nothing known to publish. */
    PARSE(INSTANCE);
    mock.info.vcpus = 0;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 0);
}

static void
monitor_only_when_changed(void **state)
{
    char st[512];

    (void)state;
    PARSE(INSTANCE);
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2); /* unchanged: no CIB write */
    mock.info.vcpus = 4;                   /* hot-plugged */
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 4);
    assert_string_equal(mock.spawn_argv[2], CPU("4"));
    assert_string_equal(mock.spawn_argv[3], MEM("1024"));
    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_string_equal(st, "vm1 " UUID1 " 4 1024\n");
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 4);
}

static void
monitor_never_when_not_running(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    mock.info.state = DR_VM_STATE_SHUTOFF;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_NOT_RUNNING);
    mock.info.state = DR_VM_STATE_CRASHED;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_ERR_GENERIC);
    /* droverd's cached "running" carries no sizes: nothing to compare, nothing written. */
    PARSE(INSTANCE, "OCF_RESKEY_CRM_meta_interval", "10000");
    mock.daemon_state_rc = 0;
    mock.daemon_state.known = 1;
    mock.daemon_state.state = DR_VM_STATE_RUNNING;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 0);
}

/* A probe that finds the VM running (no state file: e.g. after a node's Pacemaker restart). */
static void
probe_sets_when_unknown(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
}

static void
migrate_from_sets(void **state)
{
    (void)state;
    PARSE(INSTANCE, "OCF_RESKEY_CRM_meta_migrate_source", "n1");
    mock.info.vcpus = 8;
    mock.info.max_memory_kib = 0; /* then the current memory */
    mock.info.memory_kib = 4 * 1048576;
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[0], CPU("8"));
    assert_string_equal(mock.spawn_argv[1], MEM("4096"));
}

/* crm_resource failing never fails the action; the next monitor tries again. */
static void
failure_is_a_warning(void **state)
{
    char st[512];

    (void)state;
    PARSE(INSTANCE);
    mock.exit_status = 102; /* "Not connected" */
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 1); /* cpu failed: hv_memory not tried */
    assert_int_equal(mock_log_count(LOG_WARNING, "exited with 102"), 1);
    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_string_equal(st, "vm1 " UUID1 " 0 0\n");
    mock.exit_status = 0;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 3);
    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_string_equal(st, "vm1 " UUID1 " 2 1024\n");
}

static void
not_installed(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    mock.spawn_rc = ENOENT;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock_log_count(LOG_WARNING, "No such file"), 1);
}

/* A CIB that does not answer: crm_resource is killed after a bounded wait. */
static void
hung_crm_resource(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    mock.helper_hangs = true;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 1);
    assert_int_equal(mock.helper_kills, 1);
    assert_int_equal(mock_log_count(LOG_WARNING, "no answer in time"), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, mock_setup, mock_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(start_sets_cpu_and_memory),      T(off_or_nameless),         T(monitor_only_when_changed),
        T(monitor_never_when_not_running), T(probe_sets_when_unknown), T(migrate_from_sets),
        T(failure_is_a_warning),           T(not_installed),           T(hung_crm_resource),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
