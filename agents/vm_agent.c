/*
 * ocf:drover:vm: a VM as a Pacemaker resource, over libdrover's VM module.
 *
 * The truths this agent must never get wrong (pain points of ocf:heartbeat:VirtualDomain):
 *  - a probe finds a running domain even when its config file is unreadable (identity comes
 *    from `domain`, the config, or the state file written at start), so it is never started
 *    twice;
 *  - libvirtd down: monitor and stop look at the QEMU process itself; stop never reports
 *    success while that process runs and never fails when it is verifiably gone;
 *  - a domain paused for an incoming migration, paused on an I/O error, or crashed is never
 *    reported as running;
 *  - a stop on the source of a migrate_to whose migrate_from Pacemaker never ran (a transition
 *    aborted in between) stops the copy on the target, or fails: never two copies.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "drover/log.h"
#include "drover/vm.h"
#include "vm_agent.h"
#include "vm_state.h"

#define LOG(prio, ...) dr_log_printf(prio, __VA_ARGS__)
#define DEFAULT_PROC_ROOT "/proc"
#define DEFAULT_STATE_DIR VM_STATE_DIR
/* crm_resource takes 40-60 ms; a CIB that does not answer must not hold an action for long. */
#define UTIL_TIMEOUT_MS 3000
/* attrd_updater takes about 15 ms; progress is never worth holding the migration watcher for. */
#define PROGRESS_WAIT_MS 200
#define PROGRESS_PERIOD_MS 900
#define PROGRESS_END_WAIT_MS 1000
/* How long a stop after migrate_to looks in the CIB for the migration's migrate_from. */
#define MIGRATION_CHECK_MS 2000
/* cibadmin's exit status when an XPath matches nothing (CRM_EX_NOSUCH). */
#define CIBADMIN_NO_MATCH 105
/* cibadmin's exit status when there is no CIB to connect to (CRM_EX_DISCONNECT). */
#define CIBADMIN_NO_CIB 102

/* What the CIB says of a migrate_to's completion. */
enum migration_verdict { MIGRATION_COMPLETED, MIGRATION_ABANDONED, MIGRATION_NO_CLUSTER };

static const char *proc_root = DEFAULT_PROC_ROOT;
static const char *state_dir = DEFAULT_STATE_DIR;

void
vm_agent_set_paths(const char *proc, const char *state)
{
    proc_root = proc != NULL ? proc : DEFAULT_PROC_ROOT;
    state_dir = state != NULL ? state : DEFAULT_STATE_DIR;
}

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- parameters ------------------------------------------------------------------------ */

/* \p spaces: tabs and line breaks are separators in this parameter, not control characters. */
static int
get_text(vm_agent_getter get, void *ctx, const char *name, char *dst, size_t len, const char *def,
         bool spaces, char *err, size_t err_len)
{
    char var[128];
    const char *v;

    snprintf(var, sizeof(var), "OCF_RESKEY_%s", name);
    v = get(var, ctx);
    if (v == NULL || v[0] == '\0') {
        v = def != NULL ? def : "";
    }
    if (strlen(v) >= len) {
        set_err(err, err_len, "parameter %s is longer than %zu bytes", name, len - 1);
        return OCF_ERR_CONFIGURED;
    }
    for (const char *p = v; *p != '\0'; p++) {
        if (iscntrl((unsigned char)*p) && !(spaces && isspace((unsigned char)*p))) {
            set_err(err, err_len, "parameter %s contains a control character", name);
            return OCF_ERR_CONFIGURED;
        }
    }
    memcpy(dst, v, strlen(v) + 1);
    return OCF_SUCCESS;
}

static int
get_string(vm_agent_getter get, void *ctx, const char *name, char *dst, size_t len, const char *def,
           char *err, size_t err_len)
{
    return get_text(get, ctx, name, dst, len, def, false, err, err_len);
}

static int
get_uint(vm_agent_getter get, void *ctx, const char *var, bool meta, unsigned int max,
         unsigned int *out, char *err, size_t err_len)
{
    char name[128];
    const char *v;
    char *end;
    unsigned long n;

    snprintf(name, sizeof(name), "OCF_RESKEY_%s%s", meta ? "CRM_meta_" : "", var);
    v = get(name, ctx);
    if (v == NULL || v[0] == '\0') {
        return OCF_SUCCESS; /* keep the default */
    }
    errno = 0;
    n = strtoul(v, &end, 10);
    if (v[0] == '-' || *end != '\0' || errno != 0 || n > max) {
        set_err(err, err_len, "parameter %s must be a whole number 0..%u, not '%.64s'", var, max,
                v);
        return OCF_ERR_CONFIGURED;
    }
    *out = (unsigned int)n;
    return OCF_SUCCESS;
}

static int
get_bool(vm_agent_getter get, void *ctx, const char *var, bool *out, char *err, size_t err_len)
{
    static const char *const yes[] = {"1", "true", "yes", "on", "y"};
    static const char *const no[] = {"0", "false", "no", "off", "n"};
    char name[128];
    const char *v;

    snprintf(name, sizeof(name), "OCF_RESKEY_%s", var);
    v = get(name, ctx);
    if (v == NULL || v[0] == '\0') {
        return OCF_SUCCESS;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return OCF_SUCCESS;
        }
    }
    set_err(err, err_len, "parameter %s must be true or false, not '%.64s'", var, v);
    return OCF_ERR_CONFIGURED;
}

/* "node1=198.18.2.11 node2=198.18.2.12" (separators: white space, comma, semicolon). */
static int
parse_addrs(struct vm_agent *a, const char *v, char *err, size_t err_len)
{
    const char *p = v;

    while (*p != '\0') {
        const char *end, *eq;
        size_t len;
        struct vm_agent_addr *m;

        while (isspace((unsigned char)*p) || *p == ',' || *p == ';') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        end = p + strcspn(p, " ,;\t\n\r\v\f");
        len = (size_t)(end - p);
        eq = memchr(p, '=', len);
        if (eq == NULL || eq == p || eq + 1 == end) {
            set_err(err, err_len, "migration_network: '%.*s' is not node=address", (int)len, p);
            return OCF_ERR_CONFIGURED;
        }
        if (a->n_migration_addrs == VM_AGENT_MAX_NODES) {
            set_err(err, err_len, "migration_network: more than %d nodes", VM_AGENT_MAX_NODES);
            return OCF_ERR_CONFIGURED;
        }
        m = &a->migration_addrs[a->n_migration_addrs];
        if ((size_t)(eq - p) >= sizeof(m->node) || (size_t)(end - eq - 1) >= sizeof(m->addr)) {
            set_err(err, err_len, "migration_network: entry too long");
            return OCF_ERR_CONFIGURED;
        }
        memcpy(m->node, p, (size_t)(eq - p));
        m->node[eq - p] = '\0';
        memcpy(m->addr, eq + 1, (size_t)(end - eq - 1));
        m->addr[end - eq - 1] = '\0';
        for (size_t i = 0; i < a->n_migration_addrs; i++) {
            if (strcmp(a->migration_addrs[i].node, m->node) == 0) {
                set_err(err, err_len, "migration_network: node %s is listed twice", m->node);
                return OCF_ERR_CONFIGURED;
            }
        }
        for (const char *c = m->addr; *c != '\0'; c++) {
            if (!isalnum((unsigned char)*c) && strchr(".:-[]", *c) == NULL) {
                set_err(err, err_len, "migration_network: '%s' is not a host address", m->addr);
                return OCF_ERR_CONFIGURED;
            }
        }
        a->n_migration_addrs++;
        p = end;
    }
    return OCF_SUCCESS;
}

int
vm_agent_parse(struct vm_agent *a, vm_agent_getter get, void *ctx, char *err, size_t err_len)
{
    char policy[32], addrs[4096];
    const char *inst;
    int rc;

    memset(a, 0, sizeof(*a));
    a->policy = DR_VM_MIGRATION_POSTCOPY;
    a->autoset_utilization = true;
    a->utilization_check_interval = VM_STATE_CHECK_INTERVAL_S;
    a->op_timeout_ms = 90000;
    rc = get_string(get, ctx, "config", a->config, sizeof(a->config), NULL, err, err_len);
    if (rc == 0) {
        rc = get_string(get, ctx, "domain", a->domain, sizeof(a->domain), NULL, err, err_len);
    }
    if (rc == 0) {
        rc = get_string(get, ctx, "hypervisor", a->hypervisor, sizeof(a->hypervisor),
                        "qemu:///system", err, err_len);
    }
    if (rc == 0) {
        rc = get_string(get, ctx, "remote_uri", a->remote_uri, sizeof(a->remote_uri),
                        "qemu+tcp://%n/system", err, err_len);
    }
    if (rc == 0) {
        rc =
            get_text(get, ctx, "migration_network", addrs, sizeof(addrs), NULL, true, err, err_len);
    }
    if (rc == 0) {
        rc = parse_addrs(a, addrs, err, err_len);
    }
    if (rc == 0) {
        rc = get_string(get, ctx, "migration_policy", policy, sizeof(policy), "postcopy", err,
                        err_len);
    }
    if (rc == 0) {
        if (strcmp(policy, "precopy") == 0) {
            a->policy = DR_VM_MIGRATION_PRECOPY;
        } else if (strcmp(policy, "autoconverge") == 0) {
            a->policy = DR_VM_MIGRATION_AUTOCONVERGE;
        } else if (strcmp(policy, "postcopy") == 0) {
            a->policy = DR_VM_MIGRATION_POSTCOPY;
        } else {
            set_err(err, err_len,
                    "parameter migration_policy must be precopy, autoconverge or postcopy, not "
                    "'%s'",
                    policy);
            rc = OCF_ERR_CONFIGURED;
        }
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "migration_bandwidth", false, 1000000, &a->migration_bandwidth, err,
                      err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "migration_downtime", false, 600000, &a->migration_downtime, err,
                      err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "migration_parallel", false, 64, &a->migration_parallel, err,
                      err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "migration_timeout", false, 86400, &a->migration_timeout, err,
                      err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "postcopy_after", false, 86400, &a->postcopy_after, err, err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "shutdown_timeout", false, 86400, &a->shutdown_timeout, err,
                      err_len);
    }
    if (rc == 0) {
        rc = get_bool(get, ctx, "force_stop", &a->force_stop, err, err_len);
    }
    if (rc == 0) {
        rc = get_bool(get, ctx, "autoset_utilization", &a->autoset_utilization, err, err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "utilization_check_interval", false, 86400,
                      &a->utilization_check_interval, err, err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "timeout", true, 86400000, &a->op_timeout_ms, err, err_len);
    }
    if (rc == 0) {
        rc = get_uint(get, ctx, "interval", true, 86400000, &a->op_interval_ms, err, err_len);
    }
    if (rc == 0) {
        rc = get_string(get, ctx, "CRM_meta_migrate_source", a->migrate_source,
                        sizeof(a->migrate_source), NULL, err, err_len);
    }
    if (rc == 0) {
        rc = get_string(get, ctx, "CRM_meta_migrate_target", a->migrate_target,
                        sizeof(a->migrate_target), NULL, err, err_len);
    }
    if (rc != 0) {
        return rc;
    }
    inst = get("OCF_RESOURCE_INSTANCE", ctx);
    snprintf(a->instance, sizeof(a->instance), "%s", inst != NULL ? inst : "");
    if (a->config[0] == '\0' && a->domain[0] == '\0') {
        set_err(err, err_len, "set config (a domain XML file) or domain (a name or UUID)");
        return OCF_ERR_CONFIGURED;
    }
    if (a->config[0] != '\0' && a->config[0] != '/') {
        set_err(err, err_len, "parameter config must be an absolute path, not '%s'", a->config);
        return OCF_ERR_CONFIGURED;
    }
    if (strstr(a->remote_uri, "%n") == NULL) {
        set_err(err, err_len, "parameter remote_uri must contain %%n (the target node's name)");
        return OCF_ERR_CONFIGURED;
    }
    if (a->postcopy_after > 0 && a->policy != DR_VM_MIGRATION_POSTCOPY) {
        set_err(err, err_len,
                "parameter postcopy_after is set but migration_policy is not postcopy: "
                "it would never apply");
        return OCF_ERR_CONFIGURED;
    }
    if (a->postcopy_after > 0 && a->migration_timeout > 0 &&
        a->postcopy_after >= a->migration_timeout) {
        set_err(err, err_len,
                "parameter postcopy_after (%u s) must be shorter than migration_timeout (%u s)",
                a->postcopy_after, a->migration_timeout);
        return OCF_ERR_CONFIGURED;
    }
    return OCF_SUCCESS;
}

int
vm_agent_target_uri(const struct vm_agent *a, const char *node, char *buf, size_t len)
{
    const char *p = strstr(a->remote_uri, "%n");
    int n;

    if (p == NULL || node == NULL || node[0] == '\0') {
        return -EINVAL;
    }
    n = snprintf(buf, len, "%.*s%s%s", (int)(p - a->remote_uri), a->remote_uri, node, p + 2);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
vm_agent_migrate_uri(const struct vm_agent *a, const char *node, char *buf, size_t len)
{
    if (node == NULL || buf == NULL || len == 0) {
        return -EINVAL;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < a->n_migration_addrs; i++) {
        if (strcmp(a->migration_addrs[i].node, node) == 0) {
            const char *addr = a->migration_addrs[i].addr;
            const char *colon = strchr(addr, ':');
            /* Two colons make a bare IPv6 address; one is host:port, which stays as given. */
            bool v6 = addr[0] != '[' && colon != NULL && strchr(colon + 1, ':') != NULL;
            int n = snprintf(buf, len, v6 ? "tcp://[%s]" : "tcp://%s", addr);
            if (n < 0 || (size_t)n >= len) {
                buf[0] = '\0';
                return -ENAMETOOLONG;
            }
            return 0;
        }
    }
    return 0;
}

/* ---- identity and process checks -------------------------------------------------------- */

struct identity {
    char name[256];
    char uuid[64];
};

static void
state_file(const struct vm_agent *a, char *buf, size_t len)
{
    if (vm_state_path(state_dir, a->instance[0] ? a->instance : "unnamed", buf, len) < 0) {
        buf[0] = '\0';
    }
}

static int
read_state(const struct vm_agent *a, struct vm_state *st)
{
    char path[4400];

    state_file(a, path, sizeof(path));
    if (path[0] == '\0') {
        memset(st, 0, sizeof(*st));
        return -EINVAL;
    }
    return vm_state_read(path, st);
}

/* Replaced atomically (rename), so that a monitor never reads half a file. */
static void
write_state(const struct vm_agent *a, const struct vm_state *st)
{
    char path[4400];
    int rc;

    state_file(a, path, sizeof(path));
    rc = path[0] != '\0' ? vm_state_write(path, st) : -EINVAL;
    if (rc < 0) {
        LOG(LOG_WARNING, "cannot write the state file of %s in %s: %s", a->instance, state_dir,
            strerror(-rc));
    }
}

/*
 * Who is this resource? `domain` first, then the config's <name>/<uuid>, then what start
 * recorded: so that a probe with the config on unmounted shared storage still knows.
 */
static int
identify(const struct vm_agent *a, struct identity *id)
{
    struct vm_state st;

    memset(id, 0, sizeof(*id));
    if (a->domain[0] != '\0') {
        snprintf(id->name, sizeof(id->name), "%s", a->domain);
        return 0;
    }
    if (a->config[0] != '\0' && dr_vm_xml_identity(a->config, id->name, sizeof(id->name), id->uuid,
                                                   sizeof(id->uuid)) == 0) {
        return 0;
    }
    if (read_state(a, &st) == 0) {
        snprintf(id->name, sizeof(id->name), "%s", st.name);
        snprintf(id->uuid, sizeof(id->uuid), "%s", st.uuid);
        LOG(LOG_WARNING, "config %s unreadable: using the identity recorded at start (%s)",
            a->config, id->name);
        return 0;
    }
    return -ENOENT;
}

/* migrate_to's record of a hand-over (vm_state.h); "" when the instance cannot name a file. */
static void
migration_file(const struct vm_agent *a, char *buf, size_t len)
{
    if (vm_state_migration_path(state_dir, a->instance[0] ? a->instance : "unnamed", buf, len) <
        0) {
        buf[0] = '\0';
    }
}

/* Settled: the domain's place is known again (it runs here, or Pacemaker knows where). */
static void
clear_migration(const struct vm_agent *a)
{
    char path[4400];

    migration_file(a, path, sizeof(path));
    if (path[0] != '\0' && unlink(path) != 0 && errno != ENOENT) {
        LOG(LOG_WARNING, "%s: cannot remove %s: %s", a->instance, path, strerror(errno));
    }
}

/* A new identity: the utilization is unknown until it has been set again. */
static void
record_identity(const struct vm_agent *a, const struct dr_vm_info *info)
{
    struct vm_state st = {0};

    snprintf(st.name, sizeof(st.name), "%s", info->name);
    snprintf(st.uuid, sizeof(st.uuid), "%s", info->uuid);
    write_state(a, &st);
    clear_migration(a); /* it runs here: no hand-over of it is pending */
}

pid_t
vm_agent_qemu_pid(const char *name, const char *uuid)
{
    DIR *d;
    struct dirent *de;
    pid_t found = 0;

    if (name == NULL || name[0] == '\0') {
        return -EINVAL;
    }
    if (uuid == NULL) {
        uuid = "";
    }
    d = opendir(proc_root);
    if (d == NULL) {
        return -errno;
    }
    while (found == 0 && (de = readdir(d)) != NULL) {
        char path[4400], buf[8192];
        FILE *f;
        size_t n;
        bool name_ok = false, uuid_ok = uuid[0] == '\0';

        if (!isdigit((unsigned char)de->d_name[0])) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s/cmdline", proc_root, de->d_name);
        f = fopen(path, "re");
        if (f == NULL) {
            continue;
        }
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* The arguments are NUL-separated: this looks at the program (argv[0]) only. */
        if (n == 0 || strstr(buf, "qemu") == NULL) {
            continue;
        }
        for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
            const char *arg = buf + i;
            const char *next = i + strlen(arg) + 1 < n ? arg + strlen(arg) + 1 : "";
            if (strcmp(arg, "-name") == 0 && strncmp(next, "guest=", 6) == 0) {
                size_t l = strcspn(next + 6, ",");
                name_ok = strlen(name) == l && strncmp(next + 6, name, l) == 0;
            } else if (strcmp(arg, "-uuid") == 0 && uuid[0] != '\0') {
                uuid_ok = strcasecmp(next, uuid) == 0;
            }
        }
        if (name_ok && uuid_ok) {
            found = (pid_t)strtol(de->d_name, NULL, 10);
        }
    }
    closedir(d);
    return found;
}

static pid_t
qemu_pid(const struct identity *id)
{
    return vm_agent_qemu_pid(id->name, id->uuid);
}

static int
kill_qemu(pid_t pid, unsigned int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    LOG(LOG_WARNING, "libvirt unreachable: stopping QEMU process %d directly", (int)pid);
    kill(pid, SIGTERM);
    while (now_ms() < deadline) {
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            return 0;
        }
        usleep(20000);
    }
    kill(pid, SIGKILL);
    for (int i = 0; i < 250; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            return 0;
        }
        usleep(20000);
    }
    return -ETIMEDOUT;
}

/* ---- helper commands: utilization and progress -------------------------------------------- */

/*
 * Start \p argv (searched in PATH) with stdin on /dev/null, stdout on \p out (NULL: /dev/null),
 * and stderr on /dev/null too when \p quiet: Pacemaker keeps an agent's output, and a helper's
 * chatter does not belong there. Returns its PID or -errno.
 */
static pid_t
spawn_helper_to(char *const argv[], bool quiet, const char *out)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;

    if (posix_spawn_file_actions_init(&fa) != 0) {
        return -ENOMEM;
    }
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out != NULL ? out : "/dev/null",
                                     O_WRONLY | O_TRUNC, 0);
    if (quiet) {
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    }
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc != 0 ? -rc : pid;
}

static pid_t
spawn_helper(char *const argv[], bool quiet)
{
    return spawn_helper_to(argv, quiet, NULL);
}

/*
 * Wait up to \p timeout_ms for \p pid. Returns its exit status (>= 0), -ETIMEDOUT when it still
 * runs (killed and reaped when \p kill_late), -EINTR when a signal ended it, -errno.
 */
static int
wait_helper(pid_t pid, unsigned int timeout_ms, bool kill_late)
{
    int64_t deadline = now_ms() + timeout_ms;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
        }
        if (r < 0 && errno != EINTR) {
            return -errno;
        }
        if (now_ms() >= deadline) {
            break;
        }
        usleep(2000);
    }
    if (kill_late) {
        kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
    }
    return -ETIMEDOUT;
}

/* Runs one command to its end (bounded); returns its exit status or -errno. */
static int
run_helper(char *const argv[], unsigned int timeout_ms)
{
    pid_t pid = spawn_helper(argv, false);

    if (pid < 0) {
        return (int)pid;
    }
    return wait_helper(pid, timeout_ms, true);
}

/* crm_resource did not do \p what: \p rc is -errno or its exit status. */
static void
warn_crm_resource(const struct vm_agent *a, const char *what, int rc)
{
    if (rc < 0) {
        LOG(LOG_WARNING, "%s: %s: crm_resource: %s", a->instance, what,
            rc == -ETIMEDOUT ? "no answer in time" : strerror(-rc));
    } else {
        LOG(LOG_WARNING, "%s: %s: crm_resource exited with %d", a->instance, what, rc);
    }
}

static int
set_utilization(const struct vm_agent *a, const char *name, unsigned long long value)
{
    char val[32];
    char *argv[] = {(char *)"crm_resource",
                    (char *)"--resource",
                    (char *)a->instance,
                    (char *)"--utilization",
                    (char *)"--set-parameter",
                    (char *)name,
                    (char *)"--parameter-value",
                    val,
                    NULL};
    int rc;

    snprintf(val, sizeof(val), "%llu", value);
    rc = run_helper(argv, UTIL_TIMEOUT_MS);
    if (rc != 0) {
        char what[128];

        snprintf(what, sizeof(what), "could not set utilization %s=%s", name, val);
        warn_crm_resource(a, what, rc);
    }
    return rc;
}

/*
 * The resource's utilization \p name as the CIB holds it: 0 with \p *value, -ENOENT when it is
 * absent (crm_resource -g then prints nothing and exits 0), or -errno / crm_resource's exit
 * status (warned here). The value comes through --output-to, a file in the state directory
 * whose name (a leading dot) no resource ID can take.
 */
static int
get_utilization(const struct vm_agent *a, const char *name, unsigned long long *value)
{
    char out[4400], opt[4420], buf[64] = "";
    char *argv[] = {(char *)"crm_resource",
                    (char *)"--resource",
                    (char *)a->instance,
                    (char *)"--utilization",
                    (char *)"--get-parameter",
                    (char *)name,
                    (char *)"--quiet",
                    opt,
                    NULL};
    char *end;
    FILE *f;
    int fd, rc;

    vm_state_mkdir(state_dir);
    snprintf(out, sizeof(out), "%s/.cib-XXXXXX", state_dir);
    fd = mkstemp(out);
    if (fd < 0) {
        rc = -errno;
        LOG(LOG_WARNING, "%s: cannot read utilization %s: %s: %s", a->instance, name, out,
            strerror(-rc));
        return rc;
    }
    close(fd);
    snprintf(opt, sizeof(opt), "--output-to=%s", out);
    rc = run_helper(argv, UTIL_TIMEOUT_MS);
    f = fopen(out, "re");
    if (f != NULL) {
        if (fgets(buf, sizeof(buf), f) == NULL) {
            buf[0] = '\0';
        }
        fclose(f);
    }
    unlink(out);
    if (rc != 0) {
        char what[128];

        snprintf(what, sizeof(what), "cannot read utilization %s", name);
        warn_crm_resource(a, what, rc);
        return rc;
    }
    buf[strcspn(buf, "\n")] = '\0';
    if (buf[0] == '\0') {
        return -ENOENT;
    }
    errno = 0;
    *value = strtoull(buf, &end, 10);
    if (buf[0] == '-' || *end != '\0' || errno != 0) {
        *value = 0; /* not a number we set: replace it */
    }
    return 0;
}

/* The CIB holds \p want for \p name, or is made to. 0, or what failed (warned). */
static int
check_utilization(const struct vm_agent *a, const char *name, unsigned long long want)
{
    unsigned long long have = 0;
    int rc = get_utilization(a, name, &have);

    if (rc == 0 && have == want) {
        return 0;
    }
    if (rc != 0 && rc != -ENOENT) {
        return rc;
    }
    if (set_utilization(a, name, want) != 0) {
        return -EIO;
    }
    if (rc == -ENOENT) {
        LOG(LOG_NOTICE, "%s: utilization %s was missing from the CIB: set to %llu again",
            a->instance, name, want);
    } else {
        LOG(LOG_NOTICE, "%s: utilization %s was %llu in the CIB: set to %llu", a->instance, name,
            have, want);
    }
    return 0;
}

enum util_mode {
    UTIL_SET,    /* start, migrate_from: set both values */
    UTIL_NEEDED, /* monitor: set when the values changed, check the CIB when it is due */
    UTIL_CHECK,  /* reload: check the CIB now */
};

/*
 * Publish the domain's vCPUs and maximum memory as the resource's utilization. A recurring
 * monitor must stay cheap and must not write the CIB for nothing: in UTIL_NEEDED it writes only
 * values that changed since the state file's, and reads the CIB (crm_resource -g, about as costly
 * as the monitor itself) only once per utilization_check_interval, to restore values that a
 * re-applied configuration dropped. Every attempt is recorded, failed or not, so that an
 * unreachable CIB costs one attempt per interval, not one per monitor.
 */
static void
publish_utilization(const struct vm_agent *a, const struct dr_vm_info *info, enum util_mode mode)
{
    struct vm_state st;
    unsigned long long mib =
        (info->max_memory_kib != 0 ? info->max_memory_kib : info->memory_kib) / 1024;
    int64_t now = vm_state_now_s();
    int rc;

    if (!a->autoset_utilization || a->instance[0] == '\0' || info->vcpus == 0 || mib == 0) {
        return;
    }
    if (read_state(a, &st) != 0 || strcmp(st.name, info->name) != 0) {
        memset(&st, 0, sizeof(st));
        snprintf(st.name, sizeof(st.name), "%s", info->name);
        snprintf(st.uuid, sizeof(st.uuid), "%s", info->uuid);
    }
    if (mode == UTIL_NEEDED) {
        switch (vm_state_utilization(&st, info->vcpus, mib, a->utilization_check_interval, now)) {
        case VM_STATE_UTIL_OK:
            return;
        case VM_STATE_UTIL_CHANGED:
            mode = UTIL_SET;
            break;
        case VM_STATE_UTIL_CHECK:
            mode = UTIL_CHECK;
            break;
        }
    }
    if (mode == UTIL_SET) {
        rc = set_utilization(a, "cpu", info->vcpus);
        if (rc == 0) {
            rc = set_utilization(a, "hv_memory", mib);
        }
    } else {
        LOG(LOG_DEBUG, "%s: checking the CIB's utilization", a->instance);
        rc = check_utilization(a, "cpu", info->vcpus);
        if (rc == 0) {
            rc = check_utilization(a, "hv_memory", mib);
        }
    }
    if (rc == 0) {
        LOG(LOG_INFO, "%s: utilization cpu=%u hv_memory=%llu", a->instance, info->vcpus, mib);
        st.cpu = info->vcpus;
        st.hv_memory_mib = mib;
    }
    st.checked_s = now;
    write_state(a, &st);
}

bool vm_agent_detach_utilization = true;

/*
 * After start and migrate_from the VM runs already: its utilization goes to the CIB from a
 * detached process (two crm_resource calls, 40-150 ms measured in the lab), so that Pacemaker
 * counts the resource started without waiting for them; on a failover they were the tail of the
 * outage. The process leaves the agent's session and its output (Pacemaker keeps an agent's
 * output until the agent's end); its log lines go to syslog and to
 * STATE_DIR/.utilization-RESOURCE.log (the last publication's). Called with no libvirt
 * connection open (the child is a fork). When the fork fails, the calling process publishes.
 */
static void
publish_utilization_detached(const struct vm_agent *a, const struct dr_vm_info *info)
{
    char log[4400];
    pid_t pid;
    int status, fd;

    if (!vm_agent_detach_utilization || !a->autoset_utilization || a->instance[0] == '\0' ||
        (pid = fork()) < 0) {
        publish_utilization(a, info, UTIL_SET);
        return;
    }
    if (pid == 0) {
        if (setsid() < 0 || fork() != 0) {
            _exit(0);
        }
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            (void)dup2(fd, STDIN_FILENO);
            (void)dup2(fd, STDOUT_FILENO);
            (void)dup2(fd, STDERR_FILENO);
        }
        if (strchr(a->instance, '/') == NULL &&
            snprintf(log, sizeof(log), "%s/.utilization-%s.log", state_dir, a->instance) <
                (int)sizeof(log) &&
            (fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
            (void)dup2(fd, STDERR_FILENO);
        }
        publish_utilization(a, info, UTIL_SET);
        _exit(0);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

/* The migration's progress channel (see vm_agent.h): one attrd_updater at a time. */
struct progress {
    const struct vm_agent *a;
    char attr[300];
    pid_t pending;   /* an update still running, or 0 */
    int64_t last_ms; /* when the last update started */
    unsigned int sent;
};

static void
progress_update(struct progress *pr, const struct dr_vm_job_stats *s)
{
    char val[96];
    char *argv[] = {(char *)"attrd_updater",
                    (char *)"--private",
                    (char *)"-n",
                    pr->attr,
                    (char *)"-U",
                    val,
                    NULL};
    int64_t now = now_ms();
    pid_t pid;

    if (pr->attr[0] == '\0' || (pr->last_ms != 0 && now - pr->last_ms < PROGRESS_PERIOD_MS)) {
        return;
    }
    if (pr->pending > 0) {
        if (wait_helper(pr->pending, 0, false) == -ETIMEDOUT) {
            return; /* attrd is slow: skip this one rather than pile up clients */
        }
        pr->pending = 0;
    }
    snprintf(val, sizeof(val), "%llu %llu %llu %llu",
             s->data_total ? (unsigned long long)(100 * s->data_processed / s->data_total) : 0ULL,
             (unsigned long long)(s->data_remaining >> 20), (unsigned long long)s->memory_iteration,
             (unsigned long long)s->memory_dirty_rate);
    pid = spawn_helper(argv, true);
    pr->last_ms = now;
    if (pid < 0) {
        LOG(LOG_DEBUG, "%s: cannot run attrd_updater: %s", pr->a->instance, strerror((int)-pid));
        return;
    }
    pr->sent++;
    if (wait_helper(pid, PROGRESS_WAIT_MS, false) == -ETIMEDOUT) {
        pr->pending = pid; /* reaped later */
    }
}

/*
 * The migration is over: the last update must land before the delete, not after it. The delete
 * is private too: with a public one, Pacemaker 2.1.5 wrote the attribute to the CIB's status and
 * the DC aborted the transition between this migrate_to and its migrate_from (measured in the
 * lab), and the new transition placed the resource afresh while its migrated copy ran on.
 */
static void
progress_end(struct progress *pr)
{
    char *argv[] = {
        (char *)"attrd_updater", (char *)"--private", (char *)"-n", pr->attr, (char *)"-D", NULL};
    pid_t pid;

    if (pr->attr[0] == '\0') {
        return;
    }
    if (pr->pending > 0) {
        (void)wait_helper(pr->pending, PROGRESS_END_WAIT_MS, true);
        pr->pending = 0;
    }
    pid = spawn_helper(argv, true);
    if (pid > 0 && wait_helper(pid, PROGRESS_END_WAIT_MS, true) != 0) {
        LOG(LOG_DEBUG, "%s: attrd_updater -D %s did not succeed", pr->a->instance, pr->attr);
    }
}

/* ---- actions ----------------------------------------------------------------------------- */

/* How long an action may take: its own parameter, else the operation timeout minus a margin. */
static unsigned int
budget_ms(const struct vm_agent *a, unsigned int param_s)
{
    unsigned int t = a->op_timeout_ms > 10000 ? a->op_timeout_ms - 5000 : a->op_timeout_ms / 2;

    if (param_s > 0 && param_s * 1000u < t) {
        return param_s * 1000u;
    }
    return t;
}

int
vm_agent_monitor_state(const struct vm_agent *a, const struct dr_vm_info *info)
{
    switch (info->state) {
    case DR_VM_STATE_RUNNING:
    case DR_VM_STATE_SHUTTING_DOWN:
    case DR_VM_STATE_PMSUSPENDED:
    case DR_VM_STATE_PAUSED_MIGRATION_OUT:
        return OCF_SUCCESS;
    case DR_VM_STATE_PAUSED:
        LOG(LOG_WARNING, "%s is paused (reason %d): reported running", info->name,
            info->virt_reason);
        return OCF_SUCCESS;
    case DR_VM_STATE_SHUTOFF:
        return OCF_NOT_RUNNING;
    case DR_VM_STATE_PAUSED_MIGRATION_IN:
        /* Not ours yet: the source owns it until migrate_from. Never "running". */
        LOG(LOG_ERR, "%s is paused for an incoming migration%s", info->name,
            a->op_interval_ms == 0 ? " (probe): reported failed, not running" : "");
        return OCF_ERR_GENERIC;
    case DR_VM_STATE_PAUSED_IO_ERROR:
        LOG(LOG_ERR, "%s is paused on a storage I/O error", info->name);
        return OCF_ERR_GENERIC;
    case DR_VM_STATE_CRASHED:
        LOG(LOG_ERR, "%s has crashed", info->name);
        return OCF_ERR_GENERIC;
    case DR_VM_STATE_POSTCOPY_FAILED:
        /* Its memory is split between two hosts: neither copy can run. */
        LOG(LOG_ERR, "%s: a post-copy migration failed; the VM cannot continue", info->name);
        return OCF_ERR_GENERIC;
    case DR_VM_STATE_UNKNOWN:
        break;
    }
    LOG(LOG_ERR, "%s is in an unknown state (%d/%d)", info->name, info->virt_state,
        info->virt_reason);
    return OCF_ERR_GENERIC;
}

/* By UUID when known (names can be reused), else by name; a UUID libvirt lacks falls back to
 * the name. */
static int
lookup_identity(struct dr_vm_conn *conn, const struct identity *id, struct dr_vm **vm)
{
    int rc = dr_vm_lookup(conn, id->uuid[0] ? id->uuid : id->name, vm);

    if (rc == -ENOENT && id->uuid[0] && id->name[0]) {
        rc = dr_vm_lookup(conn, id->name, vm);
    }
    return rc;
}

/* The utilization of domain \p id, when libvirt says it runs here. */
static void
utilization_from_libvirt(const struct vm_agent *a, const struct identity *id, enum util_mode mode)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;

    if (dr_vm_conn_open(a->hypervisor, &conn) == 0 && lookup_identity(conn, id, &vm) == 0 &&
        dr_vm_get_info(vm, &info) == 0 && vm_agent_monitor_state(a, &info) == OCF_SUCCESS) {
        publish_utilization(a, &info, mode);
    }
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
}

/* Whether the state file describes the domain \p id names. */
static bool
state_is_of(const struct vm_state *st, const struct identity *id)
{
    if (id->uuid[0] != '\0' && st->uuid[0] != '\0') {
        return strcasecmp(id->uuid, st->uuid) == 0;
    }
    return strcmp(id->name, st->name) == 0 ||
           (st->uuid[0] != '\0' && strcasecmp(id->name, st->uuid) == 0);
}

/*
 * A recurring monitor answered from droverd's cache (the front door hands it here when the
 * utilization needs a look): droverd's answer carries the domain's vCPUs and maximum memory, so
 * libvirt is asked only when droverd cannot say (an older droverd) and something is due.
 */
static void
cached_utilization(const struct vm_agent *a, const struct identity *id,
                   const struct dr_daemon_vm_state *cached)
{
    struct dr_vm_info info = {0};
    struct vm_state st;
    bool known = read_state(a, &st) == 0 && state_is_of(&st, id);

    if (!a->autoset_utilization || a->instance[0] == '\0') {
        return;
    }
    if (known && cached->vcpus != 0 && cached->max_memory_kib != 0) {
        snprintf(info.name, sizeof(info.name), "%s", st.name);
        snprintf(info.uuid, sizeof(info.uuid), "%.36s", st.uuid);
        info.state = DR_VM_STATE_RUNNING;
        info.vcpus = cached->vcpus;
        info.max_memory_kib = cached->max_memory_kib;
        publish_utilization(a, &info, UTIL_NEEDED);
        return;
    }
    if (known && vm_state_utilization(&st, 0, 0, a->utilization_check_interval, vm_state_now_s()) ==
                     VM_STATE_UTIL_OK) {
        return;
    }
    utilization_from_libvirt(a, id, UTIL_NEEDED);
}

static int
action_monitor(struct vm_agent *a)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;
    struct identity id;
    int rc, ocf;

    if (identify(a, &id) < 0) {
        LOG(LOG_ERR,
            "cannot tell which domain this is: config %s unreadable, no domain set, "
            "nothing recorded at start",
            a->config);
        return OCF_ERR_GENERIC;
    }
    /*
     * Recurring monitors ask droverd's event-fed cache first: one local round trip. Only a
     * "running" answer is taken from it; anything else, and every probe, asks libvirt.
     */
    if (a->op_interval_ms > 0) {
        struct dr_daemon_vm_state st;
        if (dr_daemon_vm_state(NULL, 500, id.uuid[0] ? id.uuid : id.name, &st) == 0 && st.known &&
            st.state == DR_VM_STATE_RUNNING) {
            LOG(LOG_DEBUG, "%s: running, from droverd's cache", id.name);
            cached_utilization(a, &id, &st);
            return OCF_SUCCESS;
        }
    }
    rc = dr_vm_conn_open(a->hypervisor, &conn);
    if (rc < 0) {
        /* libvirtd down: the QEMU process is the truth. */
        pid_t pid = qemu_pid(&id);
        if (pid > 0) {
            LOG(LOG_WARNING, "libvirt unreachable; %s's QEMU (pid %d) runs", id.name, (int)pid);
            return OCF_SUCCESS;
        }
        return pid == 0 ? OCF_NOT_RUNNING : OCF_ERR_GENERIC;
    }
    rc = lookup_identity(conn, &id, &vm);
    if (rc == -ENOENT) {
        ocf = OCF_NOT_RUNNING;
    } else if (rc < 0 || (rc = dr_vm_get_info(vm, &info)) < 0) {
        ocf = rc == -ENOENT ? OCF_NOT_RUNNING : OCF_ERR_GENERIC;
    } else {
        ocf = vm_agent_monitor_state(a, &info);
        if (ocf == OCF_SUCCESS) {
            publish_utilization(a, &info, UTIL_NEEDED);
        }
    }
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
    return ocf;
}

/* Tell droverd (when it runs) which resource this domain is and what drover is doing with it. */
static void
tell_droverd(const struct vm_agent *a, const char *domain, uint32_t busy_ms)
{
    (void)dr_daemon_vm_expect(NULL, 500, domain, a->instance, busy_ms);
}

static int
wait_running(struct dr_vm *vm, unsigned int timeout_ms, struct dr_vm_info *info)
{
    int64_t deadline = now_ms() + timeout_ms;

    do {
        if (dr_vm_get_info(vm, info) == 0 && info->state == DR_VM_STATE_RUNNING) {
            return 0;
        }
        usleep(50000);
    } while (now_ms() < deadline);
    return -ETIMEDOUT;
}

/* The value of attribute \p name in the element [\p el, \p end), into \p buf ("" when absent). */
static void
xml_attr(const char *el, const char *end, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);

    buf[0] = '\0';
    for (const char *p = el; p < end && (p = strstr(p, name)) != NULL && p < end; p += n) {
        const char *v, *q;
        if (!isspace((unsigned char)p[-1]) || strncmp(p + n, "=\"", 2) != 0) {
            continue;
        }
        v = p + n + 2;
        q = strchr(v, '"');
        if (q != NULL && q < end) {
            snprintf(buf, len, "%.*s", (int)(q - v), v);
        }
        return;
    }
}

bool
vm_agent_migrate_from_seen(const char *xml, const char *source, int64_t since_s)
{
    for (const char *el = strstr(xml, "<lrm_rsc_op"); el != NULL;
         el = strstr(el + 1, "<lrm_rsc_op")) {
        const char *end = strchr(el, '>');
        char op[32], rc[16], status[16], src[256], changed[32];
        char *stop;
        long long t;

        if (end == NULL) {
            break;
        }
        xml_attr(el, end, "operation", op, sizeof(op));
        xml_attr(el, end, "rc-code", rc, sizeof(rc));
        xml_attr(el, end, "op-status", status, sizeof(status));
        xml_attr(el, end, "migrate_source", src, sizeof(src));
        xml_attr(el, end, "last-rc-change", changed, sizeof(changed));
        errno = 0;
        t = strtoll(changed, &stop, 10);
        if (strcmp(op, "migrate_from") == 0 && strcmp(rc, "0") == 0 && strcmp(status, "0") == 0 &&
            (source == NULL || source[0] == '\0' || strcmp(src, source) == 0) &&
            changed[0] != '\0' && *stop == '\0' && errno == 0 && t >= since_s) {
            return true;
        }
    }
    return false;
}

/* "2026-11-27 03:20:11Z" or "... +01:00" (Pacemaker's time with its zone) -> epoch s, or -1. */
static int64_t
pcmk_time(const char *s)
{
    struct tm tm;
    const char *e;
    int64_t t, zone;

    memset(&tm, 0, sizeof(tm));
    e = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (e == NULL) {
        return -1;
    }
    t = (int64_t)timegm(&tm);
    while (*e == ' ') {
        e++;
    }
    if ((*e == '+' || *e == '-') && isdigit((unsigned char)e[1]) && isdigit((unsigned char)e[2]) &&
        e[3] == ':' && isdigit((unsigned char)e[4]) && isdigit((unsigned char)e[5])) {
        zone = (int64_t)((e[1] - '0') * 10 + (e[2] - '0')) * 3600 +
               (int64_t)((e[4] - '0') * 10 + (e[5] - '0')) * 60;
        t -= *e == '+' ? zone : -zone;
    } else if (*e != 'Z' && *e != '\0') {
        return -1;
    }
    return t;
}

bool
vm_agent_fenced_since(const char *xml, const char *target, int64_t since_s)
{
    for (const char *el = strstr(xml, "<fence_event"); el != NULL;
         el = strstr(el + 1, "<fence_event")) {
        const char *end = strchr(el, '>');
        char action[16], tgt[256], status[16], done[64];
        int64_t t;

        if (end == NULL) {
            break;
        }
        xml_attr(el, end, "action", action, sizeof(action));
        xml_attr(el, end, "target", tgt, sizeof(tgt));
        xml_attr(el, end, "status", status, sizeof(status));
        xml_attr(el, end, "completed", done, sizeof(done));
        t = pcmk_time(done);
        if ((strcmp(action, "reboot") == 0 || strcmp(action, "off") == 0) &&
            strcmp(status, "success") == 0 && strcmp(tgt, target) == 0 && t >= 0 && t >= since_s) {
            return true;
        }
    }
    return false;
}

/*
 * Runs \p argv (quiet, bounded) with its output in \p buf (NUL-terminated, truncated to fit):
 * its exit status, or -errno.
 */
static int
capture_helper(const struct vm_agent *a, char *const argv[], char *buf, size_t len)
{
    char out[4400];
    FILE *f;
    size_t n = 0;
    pid_t pid;
    int fd, rc;

    buf[0] = '\0';
    vm_state_mkdir(state_dir);
    snprintf(out, sizeof(out), "%s/.out-XXXXXX", state_dir);
    fd = mkstemp(out);
    if (fd < 0) {
        rc = -errno;
        LOG(LOG_WARNING, "%s: cannot run %s: %s: %s", a->instance, argv[0], out, strerror(-rc));
        return rc;
    }
    close(fd);
    pid = spawn_helper_to(argv, true, out);
    rc = pid < 0 ? (int)pid : wait_helper(pid, UTIL_TIMEOUT_MS, true);
    f = fopen(out, "re");
    if (f != NULL) {
        n = fread(buf, 1, len - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    unlink(out);
    return rc;
}

/* Whether Pacemaker's fencer has fenced \p rec's target since the migration began. */
static bool
target_fenced(const struct vm_agent *a, const struct vm_migration_record *rec)
{
    char buf[16384];
    char *argv[] = {(char *)"stonith_admin", (char *)"--history",       (char *)rec->target,
                    (char *)"--verbose",     (char *)"--output-as=xml", NULL};

    return capture_helper(a, argv, buf, sizeof(buf)) == 0 &&
           vm_agent_fenced_since(buf, rec->target, rec->since_s);
}

/*
 * Whether the CIB's status shows Pacemaker's migrate_from of this resource on \p rec's target,
 * from this source, since the migration began: then the stop is the migration's last step and
 * the target's copy is Pacemaker's. The DC records migrate_from's result just before it sends
 * this stop, and this node's CIB may see it a moment later: asked for up to ~2 s.
 */
static enum migration_verdict
migration_completed(const struct vm_agent *a, const struct vm_migration_record *rec)
{
    char xpath[1200], buf[16384];
    char *argv[] = {(char *)"cibadmin", (char *)"--query", (char *)"--xpath", xpath, NULL};
    int64_t deadline = now_ms() + MIGRATION_CHECK_MS;
    bool seen = false;
    int rc = 0;

    if (strchr(rec->target, '\'') != NULL || strchr(a->instance, '\'') != NULL) {
        return MIGRATION_ABANDONED;
    }
    snprintf(xpath, sizeof(xpath),
             "//node_state[@uname='%s']//lrm_resource[@id='%s']/lrm_rsc_op"
             "[@operation='migrate_from']",
             rec->target, a->instance);
    for (;;) {
        rc = capture_helper(a, argv, buf, sizeof(buf));
        seen = rc == 0 &&
               vm_agent_migrate_from_seen(buf, strcmp(rec->source, "-") == 0 ? NULL : rec->source,
                                          rec->since_s);
        if (seen || rc == CIBADMIN_NO_CIB || now_ms() >= deadline) {
            break;
        }
        usleep(250000);
    }
    if (!seen && rc == CIBADMIN_NO_CIB) {
        /* No CIB on this node at all: no Pacemaker drives this agent (its executor only runs
         * for a controller that has the CIB), so whoever called migrate_to also decides about
         * migrate_from; nothing here can tell an abandoned migration from a completed one. */
        return MIGRATION_NO_CLUSTER;
    }
    if (!seen && rc != 0 && rc != CIBADMIN_NO_MATCH) {
        LOG(LOG_WARNING, "%s: cannot tell from the CIB whether migrate_from ran on %s: cibadmin %s",
            a->instance, rec->target, rc < 0 ? strerror(-rc) : "failed");
    }
    return seen ? MIGRATION_COMPLETED : MIGRATION_ABANDONED;
}

/*
 * Make sure domain \p id does not run on \p rec's target, through its libvirt: 0 when it is
 * verifiably not running there (*\p stopped tells whether this call stopped it), -errno when
 * that cannot be made sure.
 */
static int
stop_on_target(const struct identity *id, const struct vm_migration_record *rec, bool *stopped)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;
    int rc;

    *stopped = false;
    rc = dr_vm_conn_open(rec->uri, &conn);
    if (rc < 0) {
        return rc;
    }
    rc = lookup_identity(conn, id, &vm);
    if (rc == 0) {
        rc = dr_vm_get_info(vm, &info);
    }
    if (rc == 0 && info.state != DR_VM_STATE_SHUTOFF) {
        /* An orphan on shared disks: no graceful shutdown, it goes now. */
        rc = dr_vm_stop(vm, 0, true);
        *stopped = rc == 0;
        dr_vm_free(vm);
        vm = NULL;
        if (rc == 0 && (rc = lookup_identity(conn, id, &vm)) == 0 &&
            (rc = dr_vm_get_info(vm, &info)) == 0 && info.state != DR_VM_STATE_SHUTOFF) {
            rc = -EBUSY; /* still there */
        }
    }
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
    return rc == -ENOENT ? 0 : rc;
}

/*
 * A stop on the source after migrate_to handed the domain to a target (its record exists):
 * when Pacemaker ran migrate_from there, the target's copy is the resource and stays. When it
 * did not (a transition aborted between the two and placed the resource afresh), that copy is
 * an orphan Pacemaker believes stopped: it is stopped through the target's libvirt, and when
 * that cannot be made sure the stop fails (Pacemaker fences or retries; never a silent success).
 */
static int
settle_migration(const struct vm_agent *a, const struct identity *id)
{
    struct vm_migration_record rec;
    enum migration_verdict verdict;
    char path[4400];
    bool stopped, waiting = false;
    int64_t deadline;
    int rc;

    migration_file(a, path, sizeof(path));
    if (path[0] == '\0' || vm_state_migration_read(path, &rec) < 0) {
        return OCF_SUCCESS;
    }
    verdict = migration_completed(a, &rec);
    if (verdict == MIGRATION_NO_CLUSTER) {
        LOG(LOG_WARNING,
            "%s: no CIB on this node (not run by Pacemaker): the copy of %s that migrate_to "
            "handed to %s is left to whoever drives the migration",
            a->instance, id->name, rec.target);
        clear_migration(a);
        return OCF_SUCCESS;
    }
    if (verdict == MIGRATION_COMPLETED) {
        char meta[300] = "";

        /* What Pacemaker passes a migration's stop, for the record. */
        if (a->migrate_target[0] != '\0') {
            snprintf(meta, sizeof(meta), " (the stop came with migrate_target=%s)",
                     a->migrate_target);
        }
        LOG(LOG_NOTICE, "%s: Pacemaker ran migrate_from on %s: its copy of %s stays%s", a->instance,
            rec.target, id->name, meta);
        clear_migration(a);
        return OCF_SUCCESS;
    }
    /*
     * The target may have died with the migrated copy (a node lost between migrate_to and
     * migrate_from): once the cluster has fenced it since, that copy is gone. Its libvirt is
     * asked only when it was not fenced, and while it cannot be reached, the fence Pacemaker
     * schedules for a lost node (run by the fencer, in parallel) is waited for until the
     * action's budget ends: failing at once would get this node fenced too.
     */
    deadline = now_ms() + budget_ms(a, 0);
    for (;;) {
        if (target_fenced(a, &rec)) {
            LOG(LOG_NOTICE,
                "migrate_to moved %s to %s, which Pacemaker never ran migrate_from on and has "
                "fenced since: that copy is gone",
                id->name, rec.target);
            clear_migration(a);
            return OCF_SUCCESS;
        }
        rc = stop_on_target(id, &rec, &stopped);
        if (rc == 0 || now_ms() + 1000 >= deadline) {
            break;
        }
        if (!waiting) {
            LOG(LOG_WARNING,
                "migrate_to moved %s to %s but Pacemaker never ran migrate_from there, and its "
                "libvirt cannot be reached (%s: %s): waiting for it, or for its fence",
                id->name, rec.target, rec.uri, dr_strerror(rc));
            waiting = true;
        }
        usleep(1000000);
    }
    if (rc < 0) {
        LOG(LOG_ERR,
            "migrate_to moved %s to %s but Pacemaker never ran migrate_from there, and it cannot "
            "be stopped there (%s: %s) nor was that node fenced: stop fails",
            id->name, rec.target, rec.uri, dr_strerror(rc));
        return OCF_ERR_GENERIC;
    }
    if (stopped) {
        LOG(LOG_WARNING,
            "migrate_to moved %s to %s but Pacemaker never ran migrate_from there: stopped that "
            "copy",
            id->name, rec.target);
    } else {
        LOG(LOG_NOTICE, "migrate_to was to move %s to %s, where it does not run: nothing to stop",
            id->name, rec.target);
    }
    clear_migration(a);
    return OCF_SUCCESS;
}

static int
action_start(struct vm_agent *a)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;
    struct identity id;
    int rc, ocf = OCF_ERR_GENERIC;

    /* This node handed the domain to another one, and nobody settled that: not a second copy. */
    if (identify(a, &id) == 0 && (ocf = settle_migration(a, &id)) != OCF_SUCCESS) {
        LOG(LOG_ERR, "not starting %s here while its migrated copy may run elsewhere", id.name);
        return ocf;
    }
    ocf = OCF_ERR_GENERIC;
    rc = dr_vm_conn_open(a->hypervisor, &conn);
    if (rc < 0) {
        return OCF_ERR_GENERIC;
    }
    if (a->config[0] != '\0') {
        rc = dr_vm_define_file(conn, a->config, &vm);
        if (rc == -ENOENT || rc == -EACCES) {
            LOG(LOG_ERR, "config %s cannot be read on this node: %s", a->config, dr_strerror(rc));
            ocf = OCF_ERR_INSTALLED;
            goto out;
        }
        if (rc == -EINVAL) {
            ocf = OCF_ERR_CONFIGURED;
            goto out;
        }
    } else {
        rc = dr_vm_lookup(conn, a->domain, &vm);
        if (rc == -ENOENT) {
            LOG(LOG_ERR, "domain %s is not defined on this node", a->domain);
            ocf = OCF_ERR_INSTALLED;
            goto out;
        }
    }
    if (rc < 0) {
        goto out;
    }
    rc = dr_vm_get_info(vm, &info);
    if (rc == 0 && info.state == DR_VM_STATE_PAUSED_MIGRATION_IN) {
        LOG(LOG_ERR, "%s is the target of a migration in progress: not starting it", info.name);
        goto out;
    }
    if (rc == 0 && info.state != DR_VM_STATE_RUNNING) {
        rc = dr_vm_start(vm);
    }
    if (rc == 0) {
        rc = wait_running(vm, budget_ms(a, 0), &info);
    }
    if (rc == 0) {
        record_identity(a, &info);
        tell_droverd(a, info.name, 0);
        LOG(LOG_NOTICE, "%s started", info.name);
        ocf = OCF_SUCCESS;
    }
out:
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
    if (ocf == OCF_SUCCESS) {
        publish_utilization_detached(a, &info);
    }
    return ocf;
}

static int
action_stop(struct vm_agent *a)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct identity id;
    int rc, ocf = OCF_ERR_GENERIC;

    if (identify(a, &id) < 0) {
        LOG(LOG_ERR, "cannot tell which domain to stop: config %s unreadable, no domain set",
            a->config);
        return OCF_ERR_GENERIC;
    }
    rc = dr_vm_conn_open(a->hypervisor, &conn);
    if (rc < 0) {
        pid_t pid = qemu_pid(&id);
        if (pid == 0) {
            LOG(LOG_NOTICE, "libvirt unreachable, but no QEMU of %s runs: stopped", id.name);
            return settle_migration(a, &id);
        }
        return pid > 0 && kill_qemu(pid, budget_ms(a, a->shutdown_timeout)) == 0
                   ? settle_migration(a, &id)
                   : OCF_ERR_GENERIC;
    }
    rc = lookup_identity(conn, &id, &vm);
    if (rc == -ENOENT) {
        ocf = qemu_pid(&id) == 0 ? OCF_SUCCESS : OCF_ERR_GENERIC;
    } else if (rc == 0) {
        tell_droverd(a, id.name, budget_ms(a, a->shutdown_timeout) + 5000);
        rc = dr_vm_stop(vm, budget_ms(a, a->shutdown_timeout), a->force_stop);
        ocf = rc == 0 ? OCF_SUCCESS : OCF_ERR_GENERIC;
    }
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
    if (ocf == OCF_SUCCESS) {
        LOG(LOG_NOTICE, "%s stopped", id.name);
        ocf = settle_migration(a, &id);
    }
    return ocf;
}

static void
log_progress(const struct dr_vm_job_stats *s, void *opaque)
{
    struct progress *pr = opaque;
    const struct vm_agent *a = pr->a;

    LOG(LOG_INFO, "%s: migration to %s: %llu%% of %llu MiB, iteration %llu, dirty %llu pages/s",
        a->instance, a->migrate_target,
        s->data_total ? (unsigned long long)(100 * s->data_processed / s->data_total) : 0ULL,
        (unsigned long long)(s->data_total >> 20), (unsigned long long)s->memory_iteration,
        (unsigned long long)s->memory_dirty_rate);
    progress_update(pr, s);
}

/*
 * postcopy_after=0: switch once one full pass of memory has had its time at the capped bandwidth
 * (memory / bandwidth, at least 2 s; 5 s when unlimited), so that a guest pre-copy cannot move
 * still arrives in about twice that. Never later than half the migration timeout.
 */
static unsigned int
auto_postcopy_after_ms(const struct vm_agent *a, const struct dr_vm_info *info,
                       unsigned int timeout_ms)
{
    uint64_t mem_mib = (info->max_memory_kib ? info->max_memory_kib : info->memory_kib) / 1024;
    uint64_t ms = 5000;

    if (a->migration_bandwidth > 0) {
        ms = mem_mib * 1000 / a->migration_bandwidth;
        if (ms < 2000) {
            ms = 2000;
        }
    }
    if (timeout_ms > 0 && ms > timeout_ms / 2) {
        ms = timeout_ms / 2;
    }
    return (unsigned int)ms;
}

/*
 * Before the hand-over: a stop here must find out later whether Pacemaker completed it (the
 * record is written first, so that an agent killed mid-migration leaves it behind too).
 */
static void
record_migration(const struct vm_agent *a, const char *dest)
{
    struct vm_migration_record rec = {0};
    char path[4400];
    int rc;

    snprintf(rec.target, sizeof(rec.target), "%s", a->migrate_target);
    snprintf(rec.uri, sizeof(rec.uri), "%s", dest);
    snprintf(rec.source, sizeof(rec.source), "%s", a->migrate_source[0] ? a->migrate_source : "-");
    rec.since_s = (int64_t)time(NULL);
    migration_file(a, path, sizeof(path));
    rc = path[0] != '\0' ? vm_state_migration_write(path, &rec) : -EINVAL;
    if (rc < 0) {
        LOG(LOG_WARNING, "%s: cannot record the migration to %s in %s: %s", a->instance, rec.target,
            state_dir, strerror(-rc));
    }
}

/* A failed migration whose domain still runs here handed nothing over: the record goes. */
static void
forget_failed_migration(const struct vm_agent *a, struct dr_vm *vm)
{
    struct dr_vm_info info;

    if (dr_vm_get_info(vm, &info) == 0 && vm_agent_monitor_state(a, &info) == OCF_SUCCESS &&
        info.state != DR_VM_STATE_PAUSED_MIGRATION_OUT) {
        clear_migration(a);
    }
}

/*
 * The target may keep an inactive definition of this domain under another UUID (the domain XML
 * has no <uuid>, and an earlier start there gave it a UUID of its own): libvirt would refuse the
 * migration ("already exists with uuid") and Pacemaker would fall back to a stop and a start.
 * That definition goes first. A domain of that name *running* there stops the migration: it
 * would not be one VM any more. A target whose libvirt cannot be reached stops it too (the
 * migration itself could only fail later, and slower).
 */
static int
clear_target(const struct vm_agent *a, const char *dest, const struct dr_vm_info *info)
{
    struct dr_vm_conn *dconn = NULL;
    int rc;

    rc = dr_vm_conn_open(dest, &dconn);
    if (rc < 0) {
        LOG(LOG_ERR, "%s: cannot reach the libvirt of %s (%s): %s", info->name, a->migrate_target,
            dest, dr_strerror(rc));
        return OCF_ERR_GENERIC;
    }
    rc = dr_vm_clear_stale(dconn, info->name, info->uuid);
    dr_vm_conn_close(dconn);
    if (rc == -EEXIST) {
        LOG(LOG_ERR, "%s: a domain of that name runs on %s under another UUID: not migrating",
            info->name, a->migrate_target);
        return OCF_ERR_GENERIC;
    }
    if (rc < 0) {
        LOG(LOG_WARNING, "%s: cannot check %s for an old definition of it: %s", info->name,
            a->migrate_target, dr_strerror(rc));
    }
    return OCF_SUCCESS;
}

static int
action_migrate_to(struct vm_agent *a)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;
    struct dr_vm_migrate_params p = {0};
    struct dr_vm_migrate_result res = {0};
    struct progress pr = {.a = a};
    struct identity id;
    char dest[600], muri[300];
    int rc, ocf = OCF_ERR_GENERIC;

    if (a->migrate_target[0] == '\0') {
        LOG(LOG_ERR, "migrate_to without CRM_meta_migrate_target");
        return OCF_ERR_ARGS;
    }
    if (vm_agent_target_uri(a, a->migrate_target, dest, sizeof(dest)) < 0 ||
        vm_agent_migrate_uri(a, a->migrate_target, muri, sizeof(muri)) < 0) {
        LOG(LOG_ERR, "no libvirt or migration URI for target %s (remote_uri %s)", a->migrate_target,
            a->remote_uri);
        return OCF_ERR_CONFIGURED;
    }
    /* An unreadable config is this node's trouble (storage), not a configuration error. */
    if (identify(a, &id) < 0) {
        LOG(LOG_ERR, "cannot tell which domain to migrate: config %s unreadable, no domain set",
            a->config);
        return OCF_ERR_GENERIC;
    }
    if (dr_vm_conn_open(a->hypervisor, &conn) < 0) {
        return OCF_ERR_GENERIC;
    }
    rc = lookup_identity(conn, &id, &vm);
    if (rc == 0) {
        rc = dr_vm_get_info(vm, &info);
    }
    if (rc == 0 && info.state != DR_VM_STATE_RUNNING) {
        LOG(LOG_ERR, "%s is %s, not running: nothing to migrate", info.name,
            dr_vm_state_name(info.state));
        rc = -EINVAL;
    }
    if (rc == 0 && clear_target(a, dest, &info) != OCF_SUCCESS) {
        rc = -EEXIST;
    }
    if (rc == 0) {
        p.dest_uri = dest;
        p.migrate_uri = muri[0] ? muri : NULL;
        p.dest_name = a->migrate_target;
        p.policy = a->policy;
        p.bandwidth_mib_s = a->migration_bandwidth;
        p.downtime_ms = a->migration_downtime;
        p.parallel = a->migration_parallel;
        p.timeout_ms = budget_ms(a, a->migration_timeout);
        p.postcopy_after_ms = a->postcopy_after ? a->postcopy_after * 1000u
                                                : auto_postcopy_after_ms(a, &info, p.timeout_ms);
        p.progress = log_progress;
        p.opaque = &pr;
        p.progress_interval_ms = 1000;
        if (a->instance[0] != '\0') {
            snprintf(pr.attr, sizeof(pr.attr), VM_AGENT_PROGRESS_ATTR_PREFIX "%s", a->instance);
        }
        tell_droverd(a, info.name, p.timeout_ms + 10000);
        record_migration(a, dest);
        rc = dr_vm_migrate(vm, &p, &res);
        progress_end(&pr);
        if (rc != 0) {
            tell_droverd(a, info.name, 0); /* still ours, running here: watch it again */
            forget_failed_migration(a, vm);
        }
        if (rc == 0) {
            ocf = OCF_SUCCESS;
        } else if (res.aborted) {
            LOG(LOG_ERR,
                "%s: live migration to %s aborted by policy; the VM still runs on this "
                "node",
                info.name, a->migrate_target);
        }
    }
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
    return ocf;
}

static int
action_migrate_from(struct vm_agent *a)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;
    struct identity id;
    int rc, ocf = OCF_ERR_GENERIC;

    if (identify(a, &id) < 0) {
        return OCF_ERR_GENERIC;
    }
    if (dr_vm_conn_open(a->hypervisor, &conn) < 0) {
        return OCF_ERR_GENERIC;
    }
    rc = lookup_identity(conn, &id, &vm);
    if (rc == 0) {
        rc = wait_running(vm, budget_ms(a, 0), &info);
    }
    if (rc == 0) {
        record_identity(a, &info);
        tell_droverd(a, info.name, 0);
        LOG(LOG_NOTICE, "%s runs here after migration from %s", info.name, a->migrate_source);
        ocf = OCF_SUCCESS;
    } else {
        LOG(LOG_ERR, "%s does not run here after migration from %s", id.name, a->migrate_source);
    }
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
    if (ocf == OCF_SUCCESS) {
        publish_utilization_detached(a, &info);
    }
    return ocf;
}

static int
action_validate(struct vm_agent *a)
{
    char name[256], uuid[64];
    int rc;

    if (a->config[0] == '\0') {
        return OCF_SUCCESS;
    }
    rc = dr_vm_xml_identity(a->config, name, sizeof(name), uuid, sizeof(uuid));
    if (rc == -ENOENT || rc == -EACCES) {
        return OCF_ERR_INSTALLED; /* the VM module named the file and the reason */
    }
    if (rc < 0) {
        LOG(LOG_ERR, "config %s is not a domain XML with <name> and <uuid>", a->config);
        return OCF_ERR_CONFIGURED;
    }
    if (a->domain[0] != '\0' && strcmp(a->domain, name) != 0 && strcasecmp(a->domain, uuid) != 0) {
        LOG(LOG_ERR, "domain %s does not match config %s (name %s, uuid %s)", a->domain, a->config,
            name, uuid);
        return OCF_ERR_CONFIGURED;
    }
    return OCF_SUCCESS;
}

/*
 * reload, and reload-agent (OCF 1.1's name for it): Pacemaker runs it instead of a stop and a
 * start when only parameters marked unique="0" changed (vm_metadata.c). main() has parsed the
 * new values (a bad one has already failed with OCF_ERR_CONFIGURED, naming it), and each action
 * reads them afresh, so nothing is applied to the running VM. What is left to check:
 *  - config and domain still agree (validate-all), when the config can be read here;
 *  - the new hypervisor URI finds the domain. When it does not while the domain's QEMU runs
 *    here, the VM runs under another hypervisor: the reload fails, and Pacemaker's recovery stops
 *    it through the old URI (a stop gets the parameters of the last successful start or reload)
 *    and starts it through the new one. With libvirt unreachable this cannot be told: a warning.
 * And a re-applied configuration may have dropped the utilization: check it now rather than at
 * the next periodic check.
 */
static int
action_reload(struct vm_agent *a)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;
    struct identity id;
    bool found = false;
    pid_t pid;
    int ocf;

    ocf = action_validate(a);
    if (ocf == OCF_ERR_INSTALLED) {
        LOG(LOG_WARNING, "reload: config %s cannot be read here; it is checked at the next start",
            a->config);
    } else if (ocf != OCF_SUCCESS) {
        return ocf;
    }
    if (identify(a, &id) < 0) {
        return OCF_SUCCESS; /* nothing known to run here: the next monitor says so */
    }
    if (dr_vm_conn_open(a->hypervisor, &conn) < 0) {
        LOG(LOG_WARNING, "reload: libvirt unreachable at %s: cannot check that it finds %s",
            a->hypervisor, id.name);
        return OCF_SUCCESS;
    }
    if (lookup_identity(conn, &id, &vm) == 0 && dr_vm_get_info(vm, &info) == 0 &&
        info.state != DR_VM_STATE_SHUTOFF) {
        found = true;
        if (vm_agent_monitor_state(a, &info) == OCF_SUCCESS) {
            publish_utilization(a, &info, UTIL_CHECK);
        }
    }
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
    if (!found && (pid = qemu_pid(&id)) > 0) {
        LOG(LOG_ERR,
            "reload: %s runs here (QEMU pid %d) but hypervisor %s does not have it running: "
            "the VM must be restarted to change its hypervisor",
            id.name, (int)pid, a->hypervisor);
        return OCF_ERR_GENERIC;
    }
    return OCF_SUCCESS;
}

bool
vm_agent_action_known(const char *action)
{
    static const char *const known[] = {
        "start",        "stop",         "monitor",      "status", "migrate_to",
        "migrate_from", "validate-all", "reload-agent", "reload", "meta-data"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(action, known[i]) == 0) {
            return true;
        }
    }
    return false;
}

int
vm_agent_run(struct vm_agent *a, const char *action)
{
    if (strcmp(action, "monitor") == 0 || strcmp(action, "status") == 0) {
        return action_monitor(a);
    }
    if (strcmp(action, "start") == 0) {
        return action_start(a);
    }
    if (strcmp(action, "stop") == 0) {
        return action_stop(a);
    }
    if (strcmp(action, "migrate_to") == 0) {
        return action_migrate_to(a);
    }
    if (strcmp(action, "migrate_from") == 0) {
        return action_migrate_from(a);
    }
    if (strcmp(action, "validate-all") == 0) {
        return action_validate(a);
    }
    if (strcmp(action, "reload-agent") == 0 || strcmp(action, "reload") == 0) {
        return action_reload(a);
    }
    return OCF_ERR_UNIMPLEMENTED;
}
