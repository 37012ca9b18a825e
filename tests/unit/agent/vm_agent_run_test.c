/*
 * vm_agent_run: start, stop, monitor, migrate_to, migrate_from, validate-all and reload with
 * libdrover's VM and droverd calls simulated (agent_mock.c), QEMU processes in a fake /proc, state
 * files in a temporary directory. autoset_utilization is off here (vm_agent_utilization_test.c has
 * it).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include <cmocka.h>

#include "agent_mock.h"
#include "drover/error.h"
#include "vm_state.h"

#define UUID1 "0b7e6f53-4f0c-4b39-9d5c-6a1e8a0c2d11"
#define QEMU_VM1 "qemu-system-x86_64\0-name\0guest=vm1,debug-threads=on\0-uuid\0" UUID1

static struct vm_agent a;

/* Parameters: NULL-terminated pairs after the common ones. */
#define PARSE(...)                                                                                 \
    do {                                                                                           \
        const char *const kv_[] = {"OCF_RESOURCE_INSTANCE",                                        \
                                   "vm-vm1",                                                       \
                                   "OCF_RESKEY_autoset_utilization",                               \
                                   "false",                                                        \
                                   __VA_ARGS__,                                                    \
                                   NULL};                                                          \
        mock_parse(&a, kv_);                                                                       \
    } while (0)

#define CONFIG "OCF_RESKEY_config", "/shared/vm1.xml"
#define DOMAIN "OCF_RESKEY_domain", "vm1"
#define SHORT "OCF_RESKEY_CRM_meta_timeout", "400" /* waits of 200 ms */
#define RECURRING "OCF_RESKEY_CRM_meta_interval", "10000"

static void
assert_balanced(void)
{
    /* Every handle the agent got, it gave back. */
    assert_int_equal(mock.conn_close_calls, mock.conn_open_rc == 0 ? mock.conn_open_calls : 0);
}

/* ---- start ---- */

static void
start_defines_and_starts(void **state)
{
    char st[512];

    (void)state;
    PARSE(CONFIG);
    mock.info.state = DR_VM_STATE_SHUTOFF;
    mock.start_makes_running = true;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.define_calls, 1);
    assert_int_equal(mock.start_calls, 1);
    assert_int_equal(mock.expect_calls, 1);
    assert_int_equal(mock.expect_busy[0], 0);
    assert_string_equal(mock.expect_resource[0], "vm-vm1");
    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_string_equal(st, "vm1 " UUID1 " 0 0 0\n");
    assert_int_equal(mock.spawn_calls, 0);
    assert_balanced();
}

static void
start_already_running(void **state)
{
    (void)state;
    PARSE(CONFIG);
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.start_calls, 0);
}

static void
start_config_unreadable(void **state)
{
    static const int rcs[] = {-ENOENT, -EACCES};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        mock_reset();
        PARSE(CONFIG);
        mock.define_rc = rcs[i];
        assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_INSTALLED);
        assert_int_equal(mock.start_calls, 0);
        assert_int_equal(mock_log_count(LOG_ERR, "/shared/vm1.xml"), 1);
        assert_balanced();
    }
}

static void
start_config_rejected(void **state)
{
    (void)state;
    PARSE(CONFIG);
    mock.define_rc = -EINVAL;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_CONFIGURED);
    mock.define_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_GENERIC);
    assert_int_equal(mock.start_calls, 0);
}

static void
start_domain_not_defined(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.lookup_rc[0] = -ENOENT;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_INSTALLED);
    assert_int_equal(mock_log_count(LOG_ERR, "not defined on this node"), 1);
    assert_int_equal(mock.define_calls, 0);
}

static void
start_libvirt_down(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_GENERIC);
    assert_int_equal(mock.lookup_calls, 0);
}

/* The target of a migration in progress is not ours to start: the source still runs it. */
static void
start_paused_for_incoming_migration(void **state)
{
    char st[64];

    (void)state;
    PARSE(CONFIG);
    mock.info.state = DR_VM_STATE_PAUSED_MIGRATION_IN;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_GENERIC);
    assert_int_equal(mock.start_calls, 0);
    assert_int_equal(mock_log_count(LOG_ERR, "migration in progress"), 1);
    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_string_equal(st, "");
    assert_balanced();
}

static void
start_never_runs(void **state)
{
    (void)state;
    PARSE(CONFIG, SHORT);
    mock.info.state = DR_VM_STATE_SHUTOFF;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_GENERIC);
    assert_int_equal(mock.start_calls, 1);
    assert_true(mock.info_calls >= 2);
    mock_reset();
    PARSE(CONFIG, SHORT);
    mock.info.state = DR_VM_STATE_SHUTOFF;
    mock.start_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_GENERIC);
}

/* ---- stop ---- */

static void
stop_libvirt_down_no_qemu(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    mock_proc_entry(mock_proc, "50", "qemu-system-x86_64\0-name\0guest=other", 37);
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_int_equal(mock.n_qemu_kills, 0);
    assert_int_equal(mock_log_count(LOG_NOTICE, "no QEMU of vm1 runs"), 1);
}

static void
stop_libvirt_down_qemu_runs(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_int_equal(mock.n_qemu_kills, 1);
    assert_int_equal(mock.qemu_kills[0], SIGTERM);
}

/* QEMU ignores SIGTERM and SIGKILL (stuck in D state): never "stopped". */
static void
stop_libvirt_down_qemu_unkillable(void **state)
{
    (void)state;
    PARSE(DOMAIN, SHORT);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    mock.qemu_survives = true;
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
    assert_int_equal(mock.n_qemu_kills, 2);
    assert_int_equal(mock.qemu_kills[1], SIGKILL);
}

static void
stop_libvirt_down_proc_unreadable(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    vm_agent_set_paths("/nonexistent/proc", mock_state_dir);
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
}

static void
stop_not_defined(void **state)
{
    (void)state;
    PARSE(CONFIG);
    mock.xml_identity_rc = 0;
    mock.lookup_rc[0] = -ENOENT;
    mock.lookup_rc[1] = -ENOENT;
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    /* By UUID, then by name. */
    assert_int_equal(mock.lookup_calls, 2);
    assert_string_equal(mock.lookup_names[0], UUID1);
    assert_string_equal(mock.lookup_names[1], "vm1");
    assert_int_equal(mock.stop_calls, 0);
    assert_balanced();
}

/* libvirt does not know it, but its QEMU runs: not stopped. */
static void
stop_not_defined_but_qemu_runs(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.lookup_rc[0] = -ENOENT;
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
}

static void
stop_tells_droverd_first(void **state)
{
    (void)state;
    PARSE(DOMAIN, "OCF_RESKEY_shutdown_timeout", "20", "OCF_RESKEY_force_stop", "true");
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_int_equal(mock.stop_calls, 1);
    assert_int_equal(mock.stop_timeout_ms, 20000);
    assert_true(mock.stop_force);
    assert_int_equal(mock.expect_calls, 1);
    assert_true(mock.expect_busy[0] >= 20000);
    assert_balanced();
    /* Without shutdown_timeout: the operation's timeout minus a margin. */
    mock_reset();
    PARSE(DOMAIN);
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_int_equal(mock.stop_timeout_ms, 85000);
    assert_false(mock.stop_force);
}

static void
stop_fails(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.stop_rc = -ETIMEDOUT;
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
    mock_reset();
    PARSE(DOMAIN);
    mock.lookup_rc[0] = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
    assert_int_equal(mock.stop_calls, 0);
}

/* ---- monitor ---- */

static void
probe_never_uses_droverd(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.daemon_state_rc = 0;
    mock.daemon_state.known = 1;
    mock.daemon_state.state = DR_VM_STATE_RUNNING;
    mock.info.state = DR_VM_STATE_SHUTOFF;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_NOT_RUNNING);
    assert_int_equal(mock.daemon_state_calls, 0);
    assert_int_equal(mock.conn_open_calls, 1);
    assert_balanced();
}

static void
recurring_takes_running_from_droverd(void **state)
{
    (void)state;
    PARSE(DOMAIN, RECURRING);
    mock.daemon_state_rc = 0;
    mock.daemon_state.known = 1;
    mock.daemon_state.state = DR_VM_STATE_RUNNING;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_int_equal(mock.daemon_state_calls, 1);
    assert_int_equal(mock.conn_open_calls, 0);
}

/* Anything but "running" from droverd is checked with libvirt, whose answer counts. */
static void
recurring_asks_libvirt_otherwise(void **state)
{
    static const struct {
        int rc;
        uint32_t known, state;
    } answers[] = {
        {0, 1, DR_VM_STATE_SHUTOFF},
        {0, 1, DR_VM_STATE_CRASHED},
        {0, 1, DR_VM_STATE_PAUSED_IO_ERROR},
        {0, 0, DR_VM_STATE_UNKNOWN},
        {-ENOTCONN, 0, 0},
        {-DR_E_DAEMON, 0, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        mock_reset();
        PARSE(DOMAIN, RECURRING);
        mock.daemon_state_rc = answers[i].rc;
        mock.daemon_state.known = answers[i].known;
        mock.daemon_state.state = answers[i].state;
        /* libvirt knows better: it runs (a stale cache must not fail it). */
        assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
        assert_int_equal(mock.conn_open_calls, 1);
        assert_int_equal(mock.info_calls, 1);
        /* ... and when libvirt says shut off, so does the monitor. */
        mock.info.state = DR_VM_STATE_SHUTOFF;
        assert_int_equal(vm_agent_run(&a, "monitor"), OCF_NOT_RUNNING);
    }
}

static void
monitor_libvirt_down(void **state)
{
    (void)state;
    PARSE(DOMAIN, RECURRING);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_NOT_RUNNING);
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    vm_agent_set_paths("/nonexistent/proc", mock_state_dir);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_ERR_GENERIC);
    assert_int_equal(mock.n_qemu_kills, 0);
}

static void
monitor_states(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.lookup_rc[0] = -ENOENT;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_NOT_RUNNING);
    mock_reset();
    PARSE(DOMAIN);
    mock.info_rc = -ENOENT; /* vanished between lookup and info */
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_NOT_RUNNING);
    mock.info_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_ERR_GENERIC);
    mock.info_rc = 0;
    mock.info.state = DR_VM_STATE_PAUSED_MIGRATION_IN;
    assert_int_equal(vm_agent_run(&a, "status"), OCF_ERR_GENERIC);
    assert_balanced();
}

/* Shared storage not mounted: the identity recorded at start still finds the running domain. */
static void
probe_with_config_unreadable(void **state)
{
    (void)state;
    PARSE(CONFIG);
    mock.xml_identity_rc = 0;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    mock_reset();
    PARSE(CONFIG);
    mock.xml_identity_rc = -ENOENT;
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
    assert_string_equal(mock.lookup_names[0], UUID1);
    assert_int_equal(mock_log_count(LOG_WARNING, "identity recorded at start"), 1);
    /* With libvirtd down as well, its QEMU is found by name and UUID. */
    mock.conn_open_rc = -DR_E_LIBVIRT;
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_SUCCESS);
}

static void
monitor_without_identity(void **state)
{
    (void)state;
    PARSE(CONFIG);
    assert_int_equal(vm_agent_run(&a, "monitor"), OCF_ERR_GENERIC);
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
    assert_int_equal(mock.conn_open_calls, 0);
}

/* ---- migrate_to ---- */

#define TARGET "OCF_RESKEY_CRM_meta_migrate_target", "n2"

static void
migrate_to_without_target(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_ARGS);
    assert_int_equal(mock.conn_open_calls, 0);
    assert_int_equal(mock.migrate_calls, 0);
}

static void
migrate_to_params(void **state)
{
    (void)state;
    PARSE(DOMAIN, TARGET, "OCF_RESKEY_migration_network", "n1=198.18.2.11 n2=fd00::12",
          "OCF_RESKEY_migration_bandwidth", "110", "OCF_RESKEY_migration_downtime", "100",
          "OCF_RESKEY_migration_parallel", "4", "OCF_RESKEY_migration_policy", "autoconverge",
          "OCF_RESKEY_CRM_meta_timeout", "120000");
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock.migrate_calls, 1);
    assert_string_equal(mock.migrate_dest, "qemu+tcp://n2/system");
    assert_string_equal(mock.migrate_muri, "tcp://[fd00::12]");
    assert_int_equal(mock.migrate_params.policy, DR_VM_MIGRATION_AUTOCONVERGE);
    assert_int_equal(mock.migrate_params.bandwidth_mib_s, 110);
    assert_int_equal(mock.migrate_params.downtime_ms, 100);
    assert_int_equal(mock.migrate_params.parallel, 4);
    assert_int_equal(mock.migrate_params.timeout_ms, 115000);
    /* automatic: 1 GiB at 110 MiB/s is 9309 ms, under half the timeout */
    assert_int_equal(mock.migrate_params.postcopy_after_ms, 9309);
    assert_int_equal(mock.migrate_params.progress_interval_ms, 1000);
    /* droverd: busy for longer than the migration may take, and not cleared after a success
     * (the domain has left; the mark expires). */
    assert_int_equal(mock.expect_calls, 1);
    assert_true(mock.expect_busy[0] > 115000);
    assert_balanced();
}

static void
migrate_to_without_migration_network(void **state)
{
    (void)state;
    PARSE(DOMAIN, TARGET, "OCF_RESKEY_migration_timeout", "60", "OCF_RESKEY_postcopy_after", "10");
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_string_equal(mock.migrate_muri, "(null)");
    assert_int_equal(mock.migrate_params.timeout_ms, 60000);
    assert_int_equal(mock.migrate_params.postcopy_after_ms, 10000);
    assert_int_equal(mock.migrate_params.policy, DR_VM_MIGRATION_POSTCOPY);
}

static void
migrate_to_aborted(void **state)
{
    (void)state;
    PARSE(DOMAIN, TARGET);
    mock.migrate_rc = -ETIMEDOUT;
    mock.migrate_aborted = true;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "aborted by policy"), 1);
    /* Busy before, cleared after: the VM still runs here and droverd watches it again. */
    assert_int_equal(mock.expect_calls, 2);
    assert_true(mock.expect_busy[0] > 0);
    assert_int_equal(mock.expect_busy[1], 0);
    assert_balanced();
}

static void
migrate_to_fails(void **state)
{
    (void)state;
    PARSE(DOMAIN, TARGET);
    mock.migrate_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "aborted by policy"), 0);
    assert_int_equal(mock.expect_calls, 2);
    assert_int_equal(mock.expect_busy[1], 0);
}

static void
migrate_to_not_running(void **state)
{
    (void)state;
    PARSE(DOMAIN, TARGET);
    mock.info.state = DR_VM_STATE_SHUTOFF;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock.migrate_calls, 0);
    assert_int_equal(mock.expect_calls, 0);
    mock_reset();
    PARSE(DOMAIN, TARGET);
    mock.lookup_rc[0] = -ENOENT;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock.migrate_calls, 0);
}

/*
 * Before migrating, the target is cleared of an inactive definition of the domain under another
 * UUID (dr_vm_clear_stale, through the target's libvirt); a domain of that name running there,
 * or a target libvirt out of reach, stops the migration before anything is handed over.
 */
static void
migrate_to_clears_the_target(void **state)
{
    (void)state;
    PARSE(DOMAIN, TARGET);
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock.clear_stale_calls, 1);
    assert_string_equal(mock.clear_stale_name, "vm1");
    assert_string_equal(mock.clear_stale_uuid, "0b7e6f53-4f0c-4b39-9d5c-6a1e8a0c2d11");
    assert_int_equal(mock.conn_open_calls, 2);
    assert_string_equal(mock.conn_uris[1], "qemu+tcp://n2/system");
    assert_int_equal(mock.migrate_calls, 1);
    assert_balanced();

    mock_reset();
    PARSE(DOMAIN, TARGET);
    mock.clear_stale_rc = -EEXIST;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock.migrate_calls, 0);
    assert_int_equal(mock.expect_calls, 0); /* droverd was never told it leaves */
    assert_int_equal(mock_log_count(LOG_ERR, "vm1: a domain of that name runs on n2 under another "
                                             "UUID: not migrating"),
                     1);
    assert_balanced();

    mock_reset();
    PARSE(DOMAIN, TARGET);
    mock.clear_stale_rc = -DR_E_LIBVIRT; /* could not look: the migration goes on */
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock_log_count(LOG_WARNING, "cannot check n2 for an old definition"), 1);
    assert_int_equal(mock.migrate_calls, 1);

    mock_reset();
    PARSE(DOMAIN, TARGET);
    mock.conn_fail_uri = "qemu+tcp://n2/system";
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "vm1: cannot reach the libvirt of n2"), 1);
    assert_int_equal(mock.clear_stale_calls, 0);
    assert_int_equal(mock.migrate_calls, 0);
}

/* An unreadable config is this node's storage trouble, not a configuration error. */
static void
migrate_to_config_unreadable(void **state)
{
    (void)state;
    PARSE(CONFIG, TARGET);
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock.conn_open_calls, 0);
}

/* ---- migrate_from ---- */

static void
migrate_from_runs_here(void **state)
{
    char st[512];

    (void)state;
    PARSE(DOMAIN, "OCF_RESKEY_CRM_meta_migrate_source", "n1");
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_SUCCESS);
    assert_int_equal(mock.expect_calls, 1);
    assert_int_equal(mock.expect_busy[0], 0);
    assert_int_equal(mock_log_count(LOG_NOTICE, "after migration from n1"), 1);
    mock_read_state(mock_state_dir, "vm-vm1", st, sizeof(st));
    assert_string_equal(st, "vm1 " UUID1 " 0 0 0\n");
    assert_balanced();
}

static void
migrate_from_not_here(void **state)
{
    (void)state;
    PARSE(DOMAIN, SHORT, "OCF_RESKEY_CRM_meta_migrate_source", "n1");
    mock.info.state = DR_VM_STATE_PAUSED_MIGRATION_IN;
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "does not run here"), 1);
    mock_reset();
    PARSE(DOMAIN, SHORT, "OCF_RESKEY_CRM_meta_migrate_source", "n1");
    mock.lookup_rc[0] = -ENOENT;
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_ERR_GENERIC);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_ERR_GENERIC);
    assert_int_equal(mock.expect_calls, 0);
}

/* ---- a stop on the source after migrate_to: did Pacemaker complete the migration? ---- */

#define SOURCE "OCF_RESKEY_CRM_meta_migrate_source", "n1"
#define PEER "qemu+tcp://n2/system"

/* A successful migrate_from of vm-vm1 on n2 from n1, recorded at \p t (epoch seconds). */
static const char *
migrate_from_op(long long t)
{
    static char xml[1024];

    snprintf(xml, sizeof(xml),
             "<xpath-query>\n  <lrm_rsc_op id=\"vm-vm1_last_0\" "
             "operation_key=\"vm-vm1_migrate_from_0\" operation=\"migrate_from\" "
             "on_node=\"n2\" call-id=\"12\" rc-code=\"0\" op-status=\"0\" interval=\"0\" "
             "last-rc-change=\"%lld\" exec-time=\"120\" migrate_source=\"n1\" "
             "migrate_target=\"n2\"/>\n</xpath-query>\n",
             t);
    return xml;
}

static bool
record_exists(void)
{
    char path[256];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/.migrated-vm-vm1", mock_state_dir);
    return stat(path, &sb) == 0;
}

/* migrate_to records the hand-over (target, its libvirt URI, source, when) before migrating. */
static void
migrate_to_records_the_target(void **state)
{
    struct vm_migration_record rec;
    char path[256];

    (void)state;
    PARSE(DOMAIN, TARGET, SOURCE);
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    snprintf(path, sizeof(path), "%s/.migrated-vm-vm1", mock_state_dir);
    assert_int_equal(vm_state_migration_read(path, &rec), 0);
    assert_string_equal(rec.target, "n2");
    assert_string_equal(rec.uri, PEER);
    assert_string_equal(rec.source, "n1");
    assert_true(rec.since_s > 0 && rec.since_s <= (int64_t)time(NULL));
    /* A failed migration that left the domain running here handed nothing over. */
    mock.migrate_rc = -DR_E_LIBVIRT;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_false(record_exists());
}

/* migrate_to has moved vm1 to n2; then a stop's fresh mocks: the domain is gone from here. */
static void
migrated_to_n2(void)
{
    PARSE(DOMAIN, TARGET, SOURCE);
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    mock_reset();
    PARSE(DOMAIN);
    mock.lookup_rc[0] = -ENOENT;
}

/* The normal path: migrate_from ran on the target; the stop leaves the target's copy alone. */
static void
stop_after_completed_migration(void **state)
{
    (void)state;
    migrated_to_n2();
    mock.cib_xml = migrate_from_op((long long)time(NULL));
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_int_equal(mock.conn_open_calls, 1); /* this node's libvirt only */
    assert_int_equal(mock.stop_calls, 0);
    assert_non_null(strstr(mock.spawn_argv[0], "cibadmin|--query|--xpath|"));
    assert_non_null(strstr(mock.spawn_argv[0], "@uname='n2'"));
    assert_non_null(strstr(mock.spawn_argv[0], "@id='vm-vm1'"));
    assert_int_equal(mock_log_count(LOG_NOTICE, "Pacemaker ran migrate_from on n2"), 1);
    assert_false(record_exists());
    assert_balanced();
}

/* No migrate_from (cibadmin finds none): the copy on the target is an orphan and is stopped. */
static void
stop_after_abandoned_migration(void **state)
{
    (void)state;
    migrated_to_n2();
    mock.stop_makes_shutoff = true;
    mock.cib_xml = "";
    mock.exit_status = 105; /* CRM_EX_NOSUCH: the XPath matched nothing */
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_true(mock.spawn_calls >= 2); /* asked again while the CIB may lag */
    assert_int_equal(mock.conn_open_calls, 2);
    assert_string_equal(mock.conn_uris[1], PEER);
    assert_int_equal(mock.stop_calls, 1);
    assert_true(mock.stop_force);
    assert_int_equal(mock_log_count(LOG_WARNING, "migrate_to moved vm1 to n2 but Pacemaker never "
                                                 "ran migrate_from there: stopped that copy"),
                     1);
    assert_false(record_exists());
    assert_balanced();
}

/* A migrate_from older than this migration, failed, or from another source proves nothing. */
static void
stop_after_migration_stale_cib(void **state)
{
    (void)state;
    migrated_to_n2();
    mock.lookup_rc[1] = -ENOENT; /* nor does it run on the target */
    mock.cib_xml = migrate_from_op((long long)time(NULL) - 3600);
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_int_equal(mock.conn_open_calls, 2);
    assert_int_equal(mock.stop_calls, 0);
    assert_int_equal(mock_log_count(LOG_NOTICE, "where it does not run: nothing to stop"), 1);
    assert_false(record_exists());
}

/* The target's libvirt cannot be reached: the stop fails (never a silent success), the record
 * stays for the retry. */
static void
stop_after_migration_target_unreachable(void **state)
{
    (void)state;
    migrated_to_n2();
    PARSE(DOMAIN, SHORT); /* no time left to wait for a fence */
    mock.conn_fail_uri = PEER;
    mock.exit_status = 105;
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "cannot be stopped there"), 1);
    assert_true(record_exists());
    /* ...nor one whose copy survives the stop there. */
    mock.conn_fail_uri = NULL;
    mock.lookup_rc[0] = -ENOENT;
    mock.lookup_calls = 0;
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
    assert_int_equal(mock.stop_calls, 1);
    assert_true(record_exists());
}

/*
 * The target died with the migrated copy (a node lost between migrate_to and migrate_from):
 * once the fencer's history shows it fenced since the hand-over, the copy is gone and the stop
 * succeeds without asking its libvirt; unfencing ("on") or a fence from before proves nothing.
 */
static void
stop_after_migration_target_fenced(void **state)
{
    char xml[512], when[32];
    time_t now = time(NULL);
    struct tm tm;

    (void)state;
    migrated_to_n2();
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
    snprintf(xml, sizeof(xml),
             "<fence_event action=\"on\" target=\"n2\" status=\"success\" "
             "completed=\"%s\"/>\n<fence_event action=\"reboot\" target=\"n2\" "
             "client=\"pacemaker-controld.1\" status=\"success\" completed=\"%s\"/>",
             when, when);
    mock.exit_status = 105; /* no migrate_from in the CIB */
    mock.conn_fail_uri = PEER;
    mock.fence_xml = xml;
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_SUCCESS);
    assert_int_equal(mock.conn_open_calls, 1); /* this node's libvirt only */
    assert_int_equal(mock.fence_calls, 1);
    assert_int_equal(mock_log_count(LOG_NOTICE, "has fenced since: that copy is gone"), 1);
    assert_false(record_exists());

    /* Only unfenced since: the target's libvirt decides, and it cannot be reached. */
    mock_reset();
    migrated_to_n2();
    PARSE(DOMAIN, SHORT);
    snprintf(xml, sizeof(xml),
             "<fence_event action=\"on\" target=\"n2\" status=\"success\" completed=\"%s\"/>",
             when);
    mock.exit_status = 105;
    mock.conn_fail_uri = PEER;
    mock.fence_xml = xml;
    assert_int_equal(vm_agent_run(&a, "stop"), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "nor was that node fenced: stop fails"), 1);
    assert_true(record_exists());
}

/* A start on the source of an abandoned migration: the copy on the target goes first; when it
 * cannot be made sure, no second copy starts here. */
static void
start_after_abandoned_migration(void **state)
{
    (void)state;
    migrated_to_n2();
    mock.lookup_rc[0] = 0; /* it runs on n2 */
    mock.stop_makes_shutoff = true;
    mock.start_makes_running = true;
    mock.exit_status = 105;
    mock.conn_fail_uri = PEER;
    PARSE(DOMAIN, SHORT);
    assert_int_equal(vm_agent_run(&a, "start"), OCF_ERR_GENERIC);
    assert_int_equal(mock.start_calls, 0);
    assert_int_equal(mock_log_count(LOG_ERR, "not starting vm1 here"), 1);
    assert_true(record_exists());
    mock.conn_fail_uri = NULL;
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_string_equal(mock.conn_uris[1], PEER);
    assert_int_equal(mock.stop_calls, 1);
    assert_int_equal(mock.start_calls, 1);
    assert_int_equal(mock_log_count(LOG_WARNING, "never ran migrate_from there: stopped that copy"),
                     1);
    assert_false(record_exists());
}

/* A migrate_from or a start here settles where it runs: the record goes. */
static void
start_clears_the_record(void **state)
{
    (void)state;
    PARSE(DOMAIN, TARGET, SOURCE);
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_true(record_exists());
    PARSE(DOMAIN, SOURCE);
    assert_int_equal(vm_agent_run(&a, "migrate_from"), OCF_SUCCESS);
    assert_false(record_exists());
    /* A start after a migration Pacemaker completed (it knows where the VM ran). */
    PARSE(DOMAIN, TARGET, SOURCE);
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    PARSE(DOMAIN);
    mock.cib_xml = migrate_from_op((long long)time(NULL));
    assert_int_equal(vm_agent_run(&a, "start"), OCF_SUCCESS);
    assert_int_equal(mock.stop_calls, 0);
    assert_false(record_exists());
}

/* The decision at the fencer's boundary. */
static void
fenced_since(void **state)
{
#define FE_XML "<fence_event action=\"%s\" target=\"%s\" status=\"%s\" completed=\"%s\"/>"
    char xml[512];

    (void)state;
    /* 2026-11-27 03:20:11 UTC is 1795749611 */
    snprintf(xml, sizeof(xml), FE_XML, "reboot", "n2", "success", "2026-11-27 03:20:11Z");
    assert_true(vm_agent_fenced_since(xml, "n2", 1795749611));
    assert_true(vm_agent_fenced_since(xml, "n2", 1795749600));
    assert_false(vm_agent_fenced_since(xml, "n2", 1795749612)); /* before the hand-over */
    assert_false(vm_agent_fenced_since(xml, "n3", 0));
    snprintf(xml, sizeof(xml), FE_XML, "off", "n2", "success", "2026-11-27 04:20:11 +01:00");
    assert_true(vm_agent_fenced_since(xml, "n2", 1795749611));
    assert_false(vm_agent_fenced_since(xml, "n2", 1795749612));
    snprintf(xml, sizeof(xml), FE_XML, "on", "n2", "success", "2026-11-27 03:20:11Z");
    assert_false(vm_agent_fenced_since(xml, "n2", 0)); /* unfencing */
    snprintf(xml, sizeof(xml), FE_XML, "reboot", "n2", "failed", "2026-11-27 03:20:11Z");
    assert_false(vm_agent_fenced_since(xml, "n2", 0));
    snprintf(xml, sizeof(xml), FE_XML, "reboot", "n2", "success", "yesterday");
    assert_false(vm_agent_fenced_since(xml, "n2", 0));
    snprintf(xml, sizeof(xml), FE_XML, "reboot", "n2", "success", "");
    assert_false(vm_agent_fenced_since(xml, "n2", 0));
    assert_false(vm_agent_fenced_since("", "n2", 0));
    assert_false(vm_agent_fenced_since("<fence_event action=\"reboot\"", "n2", 0));
#undef FE_XML
}

/* The decision at the CIB boundary. */
static void
migrate_from_seen(void **state)
{
#define OP_XML                                                                                     \
    "<lrm_rsc_op id=\"r_last_0\" operation=\"migrate_from\" rc-code=\"%s\" op-status=\"0\" "       \
    "last-rc-change=\"%s\" migrate_source=\"%s\"/>"
    char xml[512];

    (void)state;
    snprintf(xml, sizeof(xml), OP_XML, "0", "1000", "n1");
    assert_true(vm_agent_migrate_from_seen(xml, "n1", 1000));
    assert_true(vm_agent_migrate_from_seen(xml, "n1", 999));
    assert_true(vm_agent_migrate_from_seen(xml, NULL, 1000));
    assert_false(vm_agent_migrate_from_seen(xml, "n1", 1001)); /* before this migration */
    assert_false(vm_agent_migrate_from_seen(xml, "n3", 1000)); /* from elsewhere */
    snprintf(xml, sizeof(xml), OP_XML, "1", "1000", "n1");
    assert_false(vm_agent_migrate_from_seen(xml, "n1", 1000)); /* failed */
    snprintf(xml, sizeof(xml), OP_XML, "0", "", "n1");
    assert_false(vm_agent_migrate_from_seen(xml, "n1", 1000));
    assert_false(vm_agent_migrate_from_seen("", "n1", 1000));
    assert_false(vm_agent_migrate_from_seen("<lrm_rsc_op operation=\"migrate_from\"", NULL, 0));
    assert_false(vm_agent_migrate_from_seen(
        "<lrm_rsc_op operation=\"start\" rc-code=\"0\" op-status=\"0\" last-rc-change=\"5\"/>",
        NULL, 1));
    /* pending (op-status -1), and an attribute name that only ends like one */
    assert_false(vm_agent_migrate_from_seen(
        "<lrm_rsc_op operation=\"migrate_from\" rc-code=\"0\" op-status=\"-1\" "
        "last-rc-change=\"5\"/>",
        NULL, 1));
    assert_false(vm_agent_migrate_from_seen(
        "<lrm_rsc_op xoperation=\"migrate_from\" rc-code=\"0\" op-status=\"0\" "
        "last-rc-change=\"5\"/>",
        NULL, 1));
    /* the second of two elements */
    snprintf(xml, sizeof(xml),
             "<x><lrm_rsc_op operation=\"migrate_to\" rc-code=\"0\" op-status=\"0\" "
             "last-rc-change=\"7\"/><lrm_rsc_op operation=\"migrate_from\" rc-code=\"0\" "
             "op-status=\"0\" last-rc-change=\"7\" migrate_source=\"n1\"/></x>");
    assert_true(vm_agent_migrate_from_seen(xml, "n1", 7));
}

/* ---- validate-all ---- */

static void
validate(void **state)
{
    (void)state;
    PARSE(CONFIG, DOMAIN);
    mock.xml_identity_rc = 0;
    assert_int_equal(vm_agent_run(&a, "validate-all"), OCF_SUCCESS);
    PARSE(CONFIG, "OCF_RESKEY_domain", UUID1);
    assert_int_equal(vm_agent_run(&a, "validate-all"), OCF_SUCCESS);
    PARSE(CONFIG, "OCF_RESKEY_domain", "vm2");
    assert_int_equal(vm_agent_run(&a, "validate-all"), OCF_ERR_CONFIGURED);
    mock.xml_identity_rc = -EACCES;
    assert_int_equal(vm_agent_run(&a, "validate-all"), OCF_ERR_INSTALLED);
    mock.xml_identity_rc = -EINVAL;
    assert_int_equal(vm_agent_run(&a, "validate-all"), OCF_ERR_CONFIGURED);
}

/* ---- reload (and reload-agent, the same) ---- */

/* Nothing of the running VM is touched: no define, start, stop, migration or signal. */
static void
reload_leaves_the_vm_alone(void **state)
{
    static const char *const actions[] = {"reload", "reload-agent"};

    (void)state;
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    for (size_t i = 0; i < 2; i++) {
        mock_reset();
        PARSE(CONFIG, DOMAIN, "OCF_RESKEY_migration_bandwidth", "50");
        mock.xml_identity_rc = 0;
        assert_int_equal(vm_agent_run(&a, actions[i]), OCF_SUCCESS);
        assert_int_equal(mock.lookup_calls, 1);
        assert_int_equal(mock.define_calls + mock.start_calls + mock.stop_calls +
                             mock.migrate_calls + mock.n_qemu_kills + mock.expect_calls,
                         0);
        assert_balanced();
    }
}

/* config and domain must still agree; an unreadable config is a warning here, not a failure. */
static void
reload_validates(void **state)
{
    (void)state;
    PARSE(CONFIG, "OCF_RESKEY_domain", "vm2");
    mock.xml_identity_rc = 0;
    assert_int_equal(vm_agent_run(&a, "reload"), OCF_ERR_CONFIGURED);
    assert_int_equal(mock.conn_open_calls, 0);
    mock.xml_identity_rc = -EACCES;
    assert_int_equal(vm_agent_run(&a, "reload"), OCF_SUCCESS);
    assert_int_equal(mock_log_count(LOG_WARNING, "checked at the next start"), 1);
}

/*
 * A new hypervisor URI that does not find the domain whose QEMU runs here: the reload fails (so
 * that Pacemaker stops it through the old URI and starts it through the new one).
 */
static void
reload_hypervisor_does_not_find_it(void **state)
{
    (void)state;
    PARSE(DOMAIN, "OCF_RESKEY_hypervisor", "qemu:///session");
    mock.lookup_rc[0] = -ENOENT;
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    assert_int_equal(vm_agent_run(&a, "reload"), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "hypervisor qemu:///session does not have it"), 1);
    /* Defined there but shut off, while its QEMU runs: the same. */
    mock.lookup_rc[0] = 0;
    mock.info.state = DR_VM_STATE_SHUTOFF;
    assert_int_equal(vm_agent_run(&a, "reload-agent"), OCF_ERR_GENERIC);
    assert_int_equal(mock.n_qemu_kills + mock.stop_calls, 0);
    assert_balanced();
}

/* Not running here at all (no QEMU): nothing to keep, the reload succeeds. */
static void
reload_not_running(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.lookup_rc[0] = -ENOENT;
    mock_proc_entry(mock_proc, "50", "qemu-system-x86_64\0-name\0guest=other", 37);
    assert_int_equal(vm_agent_run(&a, "reload"), OCF_SUCCESS);
}

/* libvirt unreachable: the URI cannot be checked, and that alone must not restart the VM. */
static void
reload_libvirt_down(void **state)
{
    (void)state;
    PARSE(DOMAIN);
    mock.conn_open_rc = -DR_E_LIBVIRT;
    mock_proc_entry(mock_proc, "4321", QEMU_VM1, sizeof(QEMU_VM1));
    assert_int_equal(vm_agent_run(&a, "reload"), OCF_SUCCESS);
    assert_int_equal(mock_log_count(LOG_WARNING, "libvirt unreachable"), 1);
    assert_int_equal(mock.n_qemu_kills, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, mock_setup, mock_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(start_defines_and_starts),
        T(start_already_running),
        T(start_config_unreadable),
        T(start_config_rejected),
        T(start_domain_not_defined),
        T(start_libvirt_down),
        T(start_paused_for_incoming_migration),
        T(start_never_runs),
        T(stop_libvirt_down_no_qemu),
        T(stop_libvirt_down_qemu_runs),
        T(stop_libvirt_down_qemu_unkillable),
        T(stop_libvirt_down_proc_unreadable),
        T(stop_not_defined),
        T(stop_not_defined_but_qemu_runs),
        T(stop_tells_droverd_first),
        T(stop_fails),
        T(probe_never_uses_droverd),
        T(recurring_takes_running_from_droverd),
        T(recurring_asks_libvirt_otherwise),
        T(monitor_libvirt_down),
        T(monitor_states),
        T(probe_with_config_unreadable),
        T(monitor_without_identity),
        T(migrate_to_without_target),
        T(migrate_to_clears_the_target),
        T(migrate_to_params),
        T(migrate_to_without_migration_network),
        T(migrate_to_aborted),
        T(migrate_to_fails),
        T(migrate_to_not_running),
        T(migrate_to_config_unreadable),
        T(migrate_from_runs_here),
        T(migrate_from_not_here),
        T(migrate_to_records_the_target),
        T(stop_after_completed_migration),
        T(stop_after_abandoned_migration),
        T(stop_after_migration_stale_cib),
        T(stop_after_migration_target_unreachable),
        T(stop_after_migration_target_fenced),
        T(start_after_abandoned_migration),
        T(start_clears_the_record),
        T(migrate_from_seen),
        T(fenced_since),
        T(validate),
        T(reload_leaves_the_vm_alone),
        T(reload_validates),
        T(reload_hypervisor_does_not_find_it),
        T(reload_not_running),
        T(reload_libvirt_down),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
