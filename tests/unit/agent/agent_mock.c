/* See agent_mock.h. */
#include <errno.h>
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_mock.h"
#include "drover/error.h"

struct agent_mock mock;

static struct {
    int prio;
    char msg[512];
} logs[128];
static size_t n_logs;

static int fake_conn, fake_vm;
static pid_t fence_pid; /* the last stonith_admin spawned */

/* Prototypes of the wrappers (the linker's --wrap names them). */
int __wrap_dr_vm_conn_open(const char *uri, struct dr_vm_conn **out);
void __wrap_dr_vm_conn_close(struct dr_vm_conn *conn);
int __wrap_dr_vm_lookup(struct dr_vm_conn *conn, const char *name_or_uuid, struct dr_vm **out);
void __wrap_dr_vm_free(struct dr_vm *vm);
int __wrap_dr_vm_define_file(struct dr_vm_conn *conn, const char *xml_path, struct dr_vm **out);
int __wrap_dr_vm_xml_identity(const char *xml_path, char *name, size_t name_len, char *uuid,
                              size_t uuid_len);
int __wrap_dr_vm_get_info(struct dr_vm *vm, struct dr_vm_info *out);
int __wrap_dr_vm_start(struct dr_vm *vm);
int __wrap_dr_vm_stop(struct dr_vm *vm, unsigned int shutdown_timeout_ms, bool force);
int __wrap_dr_vm_migrate(struct dr_vm *vm, const struct dr_vm_migrate_params *params,
                         struct dr_vm_migrate_result *result);
int __wrap_dr_vm_clear_stale(struct dr_vm_conn *conn, const char *name, const char *uuid);
int __wrap_dr_daemon_vm_state(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                              struct dr_daemon_vm_state *out);
int __wrap_dr_daemon_vm_expect(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                               const char *resource, uint32_t busy_ms);
void __wrap_dr_log_printf(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int __wrap_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
pid_t __wrap_waitpid(pid_t pid, int *status, int options);
int __wrap_kill(pid_t pid, int sig);

void
mock_reset(void)
{
    memset(&mock, 0, sizeof(mock));
    n_logs = 0;
    vm_agent_detach_utilization = false; /* the mocks see what the agent does */
    snprintf(mock.info.name, sizeof(mock.info.name), "vm1");
    snprintf(mock.info.uuid, sizeof(mock.info.uuid), "0b7e6f53-4f0c-4b39-9d5c-6a1e8a0c2d11");
    mock.info.state = DR_VM_STATE_RUNNING;
    mock.info.vcpus = 2;
    mock.info.memory_kib = 1048576;
    mock.info.max_memory_kib = 1048576;
    mock.info.persistent = true;
    mock.xml_identity_rc = -ENOENT;
    mock.xml_name = "vm1";
    mock.xml_uuid = "0b7e6f53-4f0c-4b39-9d5c-6a1e8a0c2d11";
    mock.daemon_state_rc = -DR_E_DAEMON; /* droverd absent unless a test says otherwise */
}

size_t
mock_log_count(int prio, const char *needle)
{
    size_t n = 0;

    for (size_t i = 0; i < n_logs; i++) {
        if ((prio < 0 || logs[i].prio == prio) && strstr(logs[i].msg, needle) != NULL) {
            n++;
        }
    }
    return n;
}

static const char *
table_get(const char *name, void *ctx)
{
    const char *const *kv = ctx;

    for (size_t i = 0; kv[i] != NULL; i += 2) {
        if (strcmp(kv[i], name) == 0) {
            return kv[i + 1];
        }
    }
    return NULL;
}

int
mock_parse_rc(struct vm_agent *a, const char *const *kv, char *err, size_t err_len)
{
    err[0] = '\0';
    return vm_agent_parse(a, table_get, (void *)kv, err, err_len);
}

void
mock_parse(struct vm_agent *a, const char *const *kv)
{
    char err[512];
    int rc = mock_parse_rc(a, kv, err, sizeof(err));

    if (rc != OCF_SUCCESS) {
        fail_msg("parse: %d %s", rc, err);
    }
}

int
__wrap_dr_vm_conn_open(const char *uri, struct dr_vm_conn **out)
{
    if (mock.conn_open_calls < MOCK_MAX_CALLS) {
        snprintf(mock.conn_uris[mock.conn_open_calls], 600, "%s", uri ? uri : "(null)");
    }
    mock.conn_open_calls++;
    if (uri != NULL && mock.conn_fail_uri != NULL && strcmp(uri, mock.conn_fail_uri) == 0) {
        return -DR_E_LIBVIRT;
    }
    if (mock.conn_open_rc == 0) {
        *out = (struct dr_vm_conn *)&fake_conn;
    }
    return mock.conn_open_rc;
}

void
__wrap_dr_vm_conn_close(struct dr_vm_conn *conn)
{
    if (conn != NULL) {
        assert_ptr_equal(conn, &fake_conn);
        mock.conn_close_calls++;
    }
}

int
__wrap_dr_vm_lookup(struct dr_vm_conn *conn, const char *name_or_uuid, struct dr_vm **out)
{
    unsigned int i = mock.lookup_calls < 4 ? mock.lookup_calls : 3;
    int rc = mock.lookup_rc[i];

    assert_ptr_equal(conn, &fake_conn);
    if (mock.lookup_calls < MOCK_MAX_CALLS) {
        snprintf(mock.lookup_names[mock.lookup_calls], 256, "%s", name_or_uuid);
    }
    mock.lookup_calls++;
    if (rc == 0) {
        *out = (struct dr_vm *)&fake_vm;
    }
    return rc;
}

void
__wrap_dr_vm_free(struct dr_vm *vm)
{
    if (vm != NULL) {
        assert_ptr_equal(vm, &fake_vm);
        mock.free_calls++;
    }
}

int
__wrap_dr_vm_define_file(struct dr_vm_conn *conn, const char *xml_path, struct dr_vm **out)
{
    (void)xml_path;
    assert_ptr_equal(conn, &fake_conn);
    mock.define_calls++;
    if (mock.define_rc == 0) {
        *out = (struct dr_vm *)&fake_vm;
    }
    return mock.define_rc;
}

int
__wrap_dr_vm_clear_stale(struct dr_vm_conn *conn, const char *name, const char *uuid)
{
    assert_ptr_equal(conn, &fake_conn);
    mock.clear_stale_calls++;
    snprintf(mock.clear_stale_name, sizeof(mock.clear_stale_name), "%s", name);
    snprintf(mock.clear_stale_uuid, sizeof(mock.clear_stale_uuid), "%s", uuid);
    return mock.clear_stale_rc;
}

int
__wrap_dr_vm_xml_identity(const char *xml_path, char *name, size_t name_len, char *uuid,
                          size_t uuid_len)
{
    (void)xml_path;
    if (mock.xml_identity_rc == 0) {
        snprintf(name, name_len, "%s", mock.xml_name);
        snprintf(uuid, uuid_len, "%s", mock.xml_uuid);
    }
    return mock.xml_identity_rc;
}

int
__wrap_dr_vm_get_info(struct dr_vm *vm, struct dr_vm_info *out)
{
    assert_ptr_equal(vm, &fake_vm);
    mock.info_calls++;
    if (mock.info_rc == 0) {
        *out = mock.info;
    }
    return mock.info_rc;
}

int
__wrap_dr_vm_start(struct dr_vm *vm)
{
    assert_ptr_equal(vm, &fake_vm);
    mock.start_calls++;
    if (mock.start_rc == 0 && mock.start_makes_running) {
        mock.info.state = DR_VM_STATE_RUNNING;
    }
    return mock.start_rc;
}

int
__wrap_dr_vm_stop(struct dr_vm *vm, unsigned int shutdown_timeout_ms, bool force)
{
    assert_ptr_equal(vm, &fake_vm);
    mock.stop_calls++;
    mock.stop_timeout_ms = shutdown_timeout_ms;
    mock.stop_force = force;
    if (mock.stop_rc == 0 && mock.stop_makes_shutoff) {
        mock.info.state = DR_VM_STATE_SHUTOFF;
    }
    return mock.stop_rc;
}

int
__wrap_dr_vm_migrate(struct dr_vm *vm, const struct dr_vm_migrate_params *params,
                     struct dr_vm_migrate_result *result)
{
    assert_ptr_equal(vm, &fake_vm);
    mock.migrate_calls++;
    mock.migrate_params = *params;
    snprintf(mock.migrate_dest, sizeof(mock.migrate_dest), "%s",
             params->dest_uri ? params->dest_uri : "(null)");
    snprintf(mock.migrate_muri, sizeof(mock.migrate_muri), "%s",
             params->migrate_uri ? params->migrate_uri : "(null)");
    for (unsigned int i = 0; i < mock.n_progress; i++) {
        if (i > 0 && mock.progress_gap_ms > 0) {
            struct timespec ts = {mock.progress_gap_ms / 1000,
                                  (long)(mock.progress_gap_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        params->progress(&mock.progress[i], params->opaque);
    }
    memset(result, 0, sizeof(*result));
    result->aborted = mock.migrate_aborted;
    return mock.migrate_rc;
}

int
__wrap_dr_daemon_vm_state(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                          struct dr_daemon_vm_state *out)
{
    (void)ipc_name;
    (void)domain;
    assert_true(timeout_ms > 0 && timeout_ms <= 1000);
    mock.daemon_state_calls++;
    if (mock.daemon_state_rc == 0) {
        *out = mock.daemon_state;
    }
    return mock.daemon_state_rc;
}

int
__wrap_dr_daemon_vm_expect(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                           const char *resource, uint32_t busy_ms)
{
    (void)ipc_name;
    (void)domain;
    assert_true(timeout_ms > 0 && timeout_ms <= 1000);
    if (mock.expect_calls < MOCK_MAX_CALLS) {
        mock.expect_busy[mock.expect_calls] = busy_ms;
        snprintf(mock.expect_resource[mock.expect_calls], 64, "%s", resource);
    }
    mock.expect_calls++;
    return 0;
}

void
__wrap_dr_log_printf(int prio, const char *fmt, ...)
{
    va_list ap;

    if (n_logs == sizeof(logs) / sizeof(logs[0])) {
        return;
    }
    logs[n_logs].prio = prio;
    va_start(ap, fmt);
    vsnprintf(logs[n_logs].msg, sizeof(logs[n_logs].msg), fmt, ap);
    va_end(ap);
    n_logs++;
}

static bool
is_helper(pid_t pid)
{
    return pid >= MOCK_FIRST_PID && pid < MOCK_FIRST_PID + 1000;
}

static char *
cib_value(const char *name)
{
    if (strcmp(name, "cpu") == 0) {
        return mock.cib_cpu;
    }
    assert_string_equal(name, "hv_memory");
    return mock.cib_hv_memory;
}

/* crm_resource --utilization against the simulated CIB (a helper that hangs does nothing). */
/* A captured helper's stdout is the agent's temporary .out-* file in the state directory. */
static void
helper_output(const char *text)
{
    DIR *d = opendir(mock_state_dir);
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[512];
        FILE *f;

        if (strncmp(de->d_name, ".out-", 5) != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", mock_state_dir, de->d_name);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
    }
    closedir(d);
}

static void
crm_resource_utilization(char *const argv[])
{
    const char *get = NULL, *set = NULL, *value = NULL, *out = NULL;

    for (size_t i = 1; argv[i] != NULL; i++) {
        if (strcmp(argv[i], "--get-parameter") == 0 && argv[i + 1] != NULL) {
            get = argv[i + 1];
        } else if (strcmp(argv[i], "--set-parameter") == 0 && argv[i + 1] != NULL) {
            set = argv[i + 1];
        } else if (strcmp(argv[i], "--parameter-value") == 0 && argv[i + 1] != NULL) {
            value = argv[i + 1];
        } else if (strncmp(argv[i], "--output-to=", 12) == 0) {
            out = argv[i] + 12;
        }
    }
    if (get != NULL) {
        mock.cib_gets++;
        assert_non_null(out); /* the value comes through the file, never through a pipe */
        if (mock.exit_status == 0 && !mock.helper_hangs) {
            FILE *f = fopen(out, "w");
            assert_non_null(f);
            if (cib_value(get)[0] != '\0') {
                fprintf(f, "%s\n", cib_value(get));
            }
            fclose(f);
        }
    } else if (set != NULL) {
        mock.cib_sets++;
        assert_non_null(value);
        if (mock.exit_status == 0 && !mock.helper_hangs) {
            snprintf(cib_value(set), 32, "%s", value);
        }
    }
}

int
__wrap_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    (void)fa;
    (void)attr;
    (void)envp;
    assert_string_equal(file, argv[0]);
    if (mock.spawn_calls < MOCK_MAX_CALLS) {
        char *line = mock.spawn_argv[mock.spawn_calls];
        size_t len = 0;
        for (size_t i = 0; argv[i] != NULL; i++) {
            len += (size_t)snprintf(line + len, 512 - len, "%s%s", i ? "|" : "", argv[i]);
            assert_true(len < 512);
        }
    }
    mock.spawn_calls++;
    if (mock.spawn_rc != 0) {
        return mock.spawn_rc;
    }
    if (argv[0] != NULL && strcmp(argv[0], "crm_resource") == 0) {
        crm_resource_utilization(argv);
    }
    if (argv[0] != NULL && strcmp(argv[0], "cibadmin") == 0 && mock.cib_xml != NULL) {
        helper_output(mock.cib_xml);
    }
    *pid = MOCK_FIRST_PID + (pid_t)mock.spawn_calls;
    if (argv[0] != NULL && strcmp(argv[0], "stonith_admin") == 0) {
        mock.fence_calls++;
        fence_pid = *pid;
        if (mock.fence_xml != NULL) {
            helper_output(mock.fence_xml);
        }
    }
    return 0;
}

pid_t
__wrap_waitpid(pid_t pid, int *status, int options)
{
    assert_true(is_helper(pid)); /* the agent waits only for what it spawned */
    if (mock.helper_hangs && (options & WNOHANG) != 0) {
        return 0;
    }
    *status = mock.helper_hangs
                  ? SIGKILL
                  : ((pid == fence_pid ? mock.fence_exit_status : mock.exit_status) & 0xff) << 8;
    return pid;
}

int
__wrap_kill(pid_t pid, int sig)
{
    if (is_helper(pid)) {
        assert_int_equal(sig, SIGKILL);
        mock.helper_kills++;
        return 0;
    }
    if (sig == 0) {
        if (mock.qemu_killed) {
            errno = ESRCH;
            return -1;
        }
        return 0;
    }
    if (mock.n_qemu_kills < MOCK_MAX_CALLS) {
        mock.qemu_kills[mock.n_qemu_kills++] = sig;
    }
    if (!mock.qemu_survives) {
        mock.qemu_killed = true;
    }
    return 0;
}

void
mock_tmpdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/dr-agent-test.XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
mock_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
mock_proc_entry(const char *proc, const char *pid, const char *args, size_t len)
{
    char path[4200];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", proc, pid);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/%s/cmdline", proc, pid);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(args, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void
mock_read_state(const char *dir, const char *instance, char *buf, size_t len)
{
    char path[4200];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, instance);
    buf[0] = '\0';
    f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

char mock_dir[64], mock_proc[128], mock_state_dir[128];

int
mock_setup(void **state)
{
    (void)state;
    mock_reset();
    mock_tmpdir(mock_dir, sizeof(mock_dir));
    snprintf(mock_proc, sizeof(mock_proc), "%s/proc", mock_dir);
    snprintf(mock_state_dir, sizeof(mock_state_dir), "%s/run/vm", mock_dir);
    assert_int_equal(mkdir(mock_proc, 0755), 0);
    vm_agent_set_paths(mock_proc, mock_state_dir);
    return 0;
}

int
mock_teardown(void **state)
{
    (void)state;
    vm_agent_set_paths(NULL, NULL);
    mock_rmtree(mock_dir);
    return 0;
}
