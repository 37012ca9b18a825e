/*
 * Utilization auto-set through vm_agent_run: crm_resource's exact argv after start and
 * migrate_from, a monitor that writes only when the values changed (kept in the state file) and
 * checks the CIB once per utilization_check_interval (restoring what a re-applied configuration
 * dropped), a reload that checks at once, and failures that are warnings, never failed actions,
 * retried once per interval. posix_spawnp and waitpid are simulated, crm_resource's view of the
 * CIB too (agent_mock.c).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <cmocka.h>

#include "agent_mock.h"
#include "drover/error.h"
#include "vm_state.h"

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
#define RECURRING "OCF_RESKEY_CRM_meta_interval", "10000"
#define GET(name)                                                                                  \
    "crm_resource|--resource|vm-vm1|--utilization|--get-parameter|" name "|--quiet|--output-to="

/* The state file holds \p fields, then a CHECKED_S within the last minute. */
static void
assert_state(const char *fields)
{
    char st[512], *end;
    long long checked;

    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_int_equal(strncmp(st, fields, strlen(fields)), 0);
    checked = strtoll(st + strlen(fields), &end, 10);
    assert_string_equal(end, "\n");
    assert_true(checked > 0 && checked <= vm_state_now_s() && vm_state_now_s() - checked < 60);
}

/* As if the CIB had last been checked \p s seconds ago. */
static void
age_state(int64_t s)
{
    char path[256];
    struct vm_state st;

    snprintf(path, sizeof(path), "%s/vm-vm1", mock_state_dir);
    assert_int_equal(vm_state_read(path, &st), 0);
    st.checked_s -= s;
    assert_int_equal(vm_state_write(path, &st), 0);
}

/* droverd answers the recurring monitor: running, with these sizes. */
static void
cached(unsigned int vcpus, uint64_t max_memory_kib)
{
    mock.daemon_state_rc = 0;
    mock.daemon_state.known = 1;
    mock.daemon_state.state = DR_VM_STATE_RUNNING;
    mock.daemon_state.vcpus = vcpus;
    mock.daemon_state.max_memory_kib = max_memory_kib;
}

static void
start_sets_cpu_and_memory(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    mock.info.max_memory_kib = 2 * 1048576ULL; /* the maximum counts, not the balloon's current */
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[0], CPU("2"));
    assert_string_equal(mock.spawn_argv[1], MEM("2048"));
    assert_state("vm1 " UUID1 " 2 2048 ");
    assert_string_equal(mock.cib_cpu, "2");
    assert_string_equal(mock.cib_hv_memory, "2048");
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
    assert_state("vm1 " UUID1 " 4 1024 ");
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 4);
    assert_int_equal(mock.cib_gets, 0); /* the CIB is read only when a check is due */
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
    assert_int_equal(mock.spawn_calls, 0);
    assert_int_equal(mock.conn_open_calls, 2);
}

/*
 * A recurring monitor droverd answers: droverd's sizes are compared with the state file, so a
 * hot-plug is published without libvirt; an older droverd (no sizes) costs nothing until a check
 * is due.
 */
static void
cached_monitor(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    PARSE(INSTANCE, RECURRING);
    mock.conn_open_calls = 0;
    cached(2, 1048576);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    cached(0, 0);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    cached(4, 2 * 1048576ULL);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 4);
    assert_string_equal(mock.spawn_argv[2], CPU("4"));
    assert_string_equal(mock.spawn_argv[3], MEM("2048"));
    assert_state("vm1 " UUID1 " 4 2048 ");
    assert_int_equal(mock.conn_open_calls, 0);
    /* Due, and droverd cannot say: libvirt is asked, once. */
    age_state(VM_STATE_CHECK_INTERVAL_S);
    cached(0, 0);
    mock.info.vcpus = 4;
    mock.info.max_memory_kib = 2 * 1048576ULL;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.conn_open_calls, 1);
    assert_int_equal(mock.cib_gets, 2);
    assert_int_equal(mock.spawn_calls, 6); /* both values are in the CIB: nothing set */
}

/*
 * The lab's finding: re-applying the configuration (crm configure load update) drops the
 * utilization. The monitor restores it once utilization_check_interval has passed, and reads
 * the CIB no more often than that.
 */
static void
check_restores_dropped(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    PARSE(INSTANCE, RECURRING);
    cached(2, 1048576);
    mock.cib_cpu[0] = '\0'; /* the primitive was replaced */
    mock.cib_hv_memory[0] = '\0';
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 0); /* not due yet */
    age_state(VM_STATE_CHECK_INTERVAL_S - 1);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 0);
    age_state(1);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 2);
    assert_int_equal(mock.spawn_calls, 6);
    assert_true(strncmp(mock.spawn_argv[2], GET("cpu"), strlen(GET("cpu"))) == 0);
    assert_string_equal(mock.spawn_argv[3], CPU("2"));
    assert_true(strncmp(mock.spawn_argv[4], GET("hv_memory"), strlen(GET("hv_memory"))) == 0);
    assert_string_equal(mock.spawn_argv[5], MEM("1024"));
    assert_string_equal(mock.cib_cpu, "2");
    assert_string_equal(mock.cib_hv_memory, "1024");
    assert_int_equal(mock_log_count(LOG_NOTICE, "utilization cpu was missing from the CIB"), 1);
    assert_int_equal(mock_log_count(LOG_NOTICE, "utilization hv_memory was missing"), 1);
    assert_state("vm1 " UUID1 " 2 1024 ");
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 6); /* checked just now */
    /* A value someone changed is put back too; one that is right is left alone. */
    snprintf(mock.cib_hv_memory, sizeof(mock.cib_hv_memory), "512");
    age_state(VM_STATE_CHECK_INTERVAL_S);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 9);
    assert_string_equal(mock.spawn_argv[8], MEM("1024"));
    assert_int_equal(mock_log_count(LOG_NOTICE, "utilization hv_memory was 512 in the CIB"), 1);
}

/* utilization_check_interval=0: no periodic check; a state file never checked still gets one. */
static void
check_interval_zero(void **state)
{
    char path[256];
    FILE *f;

    (void)state;
    PARSE(INSTANCE, RECURRING, "OCF_RESKEY_utilization_check_interval", "0");
    snprintf(path, sizeof(path), "%s/vm-vm1", mock_state_dir);
    vm_state_mkdir(mock_state_dir);
    f = fopen(path, "w"); /* as an earlier version wrote it */
    assert_non_null(f);
    fprintf(f, "vm1 %s 2 1024\n", UUID1);
    fclose(f);
    snprintf(mock.cib_cpu, sizeof(mock.cib_cpu), "2");
    snprintf(mock.cib_hv_memory, sizeof(mock.cib_hv_memory), "1024");
    cached(2, 1048576);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 2);
    assert_int_equal(mock.cib_sets, 0);
    mock.cib_cpu[0] = '\0';
    age_state(vm_state_now_s() - 1); /* long ago (CHECKED_S 1) */
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 2);
}

/* A CIB that cannot be read costs one attempt per interval, and nothing is set blindly. */
static void
check_failure_bounded(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    PARSE(INSTANCE, RECURRING);
    cached(2, 1048576);
    age_state(VM_STATE_CHECK_INTERVAL_S);
    mock.exit_status = 102;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 1);
    assert_int_equal(mock.cib_sets, 2); /* those of the start */
    assert_int_equal(mock_log_count(LOG_WARNING, "cannot read utilization cpu"), 1);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 1);
    /* The output file went with the attempt. */
    {
        DIR *d = opendir(mock_state_dir);
        struct dirent *de;
        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
            assert_true(strncmp(de->d_name, ".cib-", 5) != 0);
        }
        closedir(d);
    }
}

/* reload (after a configuration change) checks at once, whatever the interval. */
static void
reload_checks(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    mock.cib_cpu[0] = '\0';
    assert_int_equal(vm_agent_run(&a, "reload-agent"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 2);
    assert_string_equal(mock.cib_cpu, "2");
    assert_int_equal(vm_agent_run(&a, "reload"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 4);
    assert_int_equal(mock.cib_sets, 3);
    /* Not running here: nothing to publish, and the reload still succeeds. */
    mock.info.state = DR_VM_STATE_SHUTOFF;
    assert_int_equal(vm_agent_run(&a, "reload-agent"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 4);
}

/* A probe that finds the VM running (no state file: e.g. after a node's Pacemaker restart). */
static void
probe_sets_when_unknown(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    snprintf(mock.cib_cpu, sizeof(mock.cib_cpu), "2"); /* set by the node that started it */
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.cib_gets, 2);
    assert_int_equal(mock.spawn_calls, 3);
    assert_string_equal(mock.spawn_argv[2], MEM("1024"));
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 3);
}

static void
migrate_from_sets(void **state)
{
    (void)state;
    PARSE(INSTANCE, "OCF_RESKEY_CRM_meta_migrate_source", "n1");
    mock.info.vcpus = 8;
    mock.info.max_memory_kib = 0; /* then the current memory */
    mock.info.memory_kib = 4 * 1048576ULL;
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[0], CPU("8"));
    assert_string_equal(mock.spawn_argv[1], MEM("4096"));
}

/* crm_resource failing never fails the action; the first monitor after the interval retries. */
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
    assert_int_equal(strncmp(st, "vm1 " UUID1 " 0 0 ", strlen("vm1 " UUID1 " 0 0 ")), 0);
    mock.exit_status = 0;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 1);
    age_state(VM_STATE_CHECK_INTERVAL_S);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 5);
    assert_state("vm1 " UUID1 " 2 1024 ");
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
        T(start_sets_cpu_and_memory),
        T(off_or_nameless),
        T(monitor_only_when_changed),
        T(monitor_never_when_not_running),
        T(cached_monitor),
        T(check_restores_dropped),
        T(check_interval_zero),
        T(check_failure_bounded),
        T(reload_checks),
        T(probe_sets_when_unknown),
        T(migrate_from_sets),
        T(failure_is_a_warning),
        T(not_installed),
        T(hung_crm_resource),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
