/*
 * The VM agent's boundary, simulated: libdrover's VM and droverd calls, the helper commands it
 * spawns (posix_spawnp, waitpid, kill) and its log. Link a test with WRAP ${DR_AGENT_WRAP} and
 * SOURCES agent/agent_mock.c. Nothing here ever signals or waits for a real process.
 */
#ifndef DR_TEST_AGENT_MOCK_H
#define DR_TEST_AGENT_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drover/daemon.h"
#include "drover/vm.h"
#include "vm_agent.h"

#define MOCK_MAX_CALLS 16
#define MOCK_FIRST_PID 424200

struct agent_mock {
    /* dr_vm_conn_open */
    int conn_open_rc;
    unsigned int conn_open_calls, conn_close_calls;
    char conn_uris[MOCK_MAX_CALLS][600]; /* each call's URI, "(null)" for NULL */
    const char *conn_fail_uri;           /* this URI fails with -DR_E_LIBVIRT */
    /* dr_vm_lookup: rc of the Nth call (after the table, the last entry) */
    int lookup_rc[4];
    unsigned int lookup_calls;
    char lookup_names[MOCK_MAX_CALLS][256];
    unsigned int free_calls;
    /* dr_vm_define_file, dr_vm_xml_identity */
    int define_rc;
    unsigned int define_calls;
    int xml_identity_rc;
    const char *xml_name, *xml_uuid;
    /* dr_vm_get_info: info_rc, then info (info_after_start once dr_vm_start has run) */
    int info_rc;
    struct dr_vm_info info;
    bool start_makes_running;
    unsigned int info_calls;
    int start_rc;
    unsigned int start_calls;
    int stop_rc;
    unsigned int stop_calls, stop_timeout_ms;
    bool stop_force;
    bool stop_makes_shutoff; /* a successful dr_vm_stop leaves info.state SHUTOFF */
    /* dr_vm_clear_stale: its rc, calls, and the name and UUID of the last call */
    int clear_stale_rc;
    unsigned int clear_stale_calls;
    char clear_stale_name[256], clear_stale_uuid[40];
    /* dr_vm_migrate: calls progress for each of progress[0..n_progress), sleeping between */
    int migrate_rc;
    bool migrate_aborted;
    unsigned int migrate_calls;
    struct dr_vm_migrate_params migrate_params;
    char migrate_dest[600], migrate_muri[300];
    struct dr_vm_job_stats progress[4];
    unsigned int n_progress, progress_gap_ms;
    /* droverd */
    int daemon_state_rc;
    struct dr_daemon_vm_state daemon_state;
    unsigned int daemon_state_calls;
    unsigned int expect_calls;
    uint32_t expect_busy[MOCK_MAX_CALLS];
    char expect_resource[MOCK_MAX_CALLS][64];
    /* processes: spawned helpers get MOCK_FIRST_PID + n; argv kept joined with '|' */
    int spawn_rc;
    unsigned int spawn_calls;
    char spawn_argv[MOCK_MAX_CALLS][512];
    int exit_status; /* every helper's exit status */
    /*
     * The CIB's utilization as crm_resource sees it ("" = absent): --get-parameter NAME with
     * --output-to=PATH writes it to PATH (when the exit status is 0), --set-parameter sets it.
     */
    char cib_cpu[32], cib_hv_memory[32];
    unsigned int cib_gets, cib_sets;
    /* what cibadmin prints (into the .out-* file of the state directory it writes to) */
    const char *cib_xml;
    /* what stonith_admin prints (likewise), and its exit status (the others': exit_status) */
    const char *fence_xml;
    int fence_exit_status;
    unsigned int fence_calls;
    bool helper_hangs; /* waitpid(WNOHANG) never sees a helper end */
    unsigned int helper_kills;
    /* kill() on other PIDs (QEMU found in the fake /proc) */
    int qemu_kills[MOCK_MAX_CALLS];
    unsigned int n_qemu_kills;
    bool qemu_survives; /* SIGTERM and SIGKILL leave it running */
    bool qemu_killed;
};

extern struct agent_mock mock;

/* Back to defaults: everything succeeds, the domain "vm1" runs with 2 vCPUs and 1 GiB. */
void mock_reset(void);
/* How many log messages at \p prio (-1: any) contain \p needle. */
size_t mock_log_count(int prio, const char *needle);
/* Parse parameters from NULL-terminated "NAME", "VALUE" pairs into \p a (asserting success). */
void mock_parse(struct vm_agent *a, const char *const *kv);
/* Like mock_parse, returns the OCF code and the message in \p err. */
int mock_parse_rc(struct vm_agent *a, const char *const *kv, char *err, size_t err_len);
/*
 * cmocka setup and teardown for tests that run actions: mock_reset(), then a fresh temporary
 * directory mock_dir holding an empty fake /proc (mock_proc) and the state directory
 * (mock_state_dir, not created: the agent makes it); teardown removes them.
 */
extern char mock_dir[64], mock_proc[128], mock_state_dir[128];
int mock_setup(void **state);
int mock_teardown(void **state);
/* A fresh directory under /tmp (the caller's to remove with mock_rmtree). */
void mock_tmpdir(char *buf, size_t len);
void mock_rmtree(const char *dir);
/* \p proc/PID/cmdline holding the NUL-separated \p args ("a\0b\0"), \p len bytes. */
void mock_proc_entry(const char *proc, const char *pid, const char *args, size_t len);
/* The contents of the state file for \p instance under \p dir ("" when absent). */
void mock_read_state(const char *dir, const char *instance, char *buf, size_t len);

#endif
