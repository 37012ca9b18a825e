/*
 * droverd: drover's per-node daemon. Its first duty is the node's PR identity: it logs in once
 * per shared device, registers (unfences) the node, keeps the sessions alive, watches the
 * node's own key, and the moment the key is gone because the cluster fenced this node, stops
 * every VM on the node and keeps them stopped until the node is unfenced again.
 *
 * One thread, one libqb main loop: a watch timer, the IPC service, signals.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon_proto.h"
#include "util_internal.h"
#include "vmwatch.h"
#include "drover/daemon.h"
#include "drover/error.h"
#include "drover/log.h"
#include "drover/pr.h"
#include "drover/vm.h"

#define LOG(prio, ...) dr_log_printf(prio, __VA_ARGS__)

struct held_dev {
    char spec[DR_DAEMON_SPEC_MAX];
    struct dr_pr_device *dev;
    uint32_t state;
    bool was_registered; /* our key was registered here at some point since start */
    bool abort_unsupported;
};

struct config {
    char node[256];
    char cluster[256];
    char initiator[300];
    char ipc_name[128];
    char libvirt_uri[512];
    char log_file[512];
    char pid_file[512];
    char on_fenced[1024];
    enum dr_pr_type type;
    unsigned int watch_interval_ms;
    unsigned int timeout_ms;
    bool unfence_at_start;
    bool no_libvirt;
    bool debug;
};

static struct {
    struct config cfg;
    uint64_t key;
    struct held_dev devs[DR_DAEMON_MAX_DEVICES];
    size_t n_devs;
    qb_loop_t *loop;
    qb_ipcs_service_t *ipcs;
    qb_loop_timer_handle watch_timer;
    struct dr_vm_conn *vm;
    uint32_t vms_destroyed;
    uint32_t node_state;
    int64_t fenced_at_ms; /* when the key was first seen gone, for the bound */
} d;

static const char *
describe(struct held_dev *h, int rc, char *buf, size_t len)
{
    char last[200] = "";

    if (h->dev != NULL && rc <= -DR_E_BASE) {
        dr_pr_describe_last(h->dev, last, sizeof(last));
    }
    snprintf(buf, len, "%s%s%s%s", dr_strerror(rc), last[0] ? " (" : "", last, last[0] ? ")" : "");
    return buf;
}

static void
set_state(struct held_dev *h, uint32_t state)
{
    if (h->state != state) {
        LOG(state == DR_DAEMON_STATE_FENCED || state == DR_DAEMON_STATE_LOST ? LOG_ERR : LOG_NOTICE,
            "%s: %s -> %s", h->spec, dr_daemon_state_name(h->state), dr_daemon_state_name(state));
        h->state = state;
    }
    if (state == DR_DAEMON_STATE_REGISTERED) {
        h->was_registered = true;
    }
}

static void
drop_session(struct held_dev *h)
{
    dr_pr_close(h->dev);
    h->dev = NULL;
}

static int
ensure_reserved(struct held_dev *h)
{
    struct dr_pr_reservation res;
    char buf[256];
    int rc = dr_pr_read_reservation(h->dev, &res);

    if (rc == 0 && !res.reserved) {
        rc = dr_pr_reserve(h->dev, d.key, d.cfg.type);
        if (rc == 0) {
            LOG(LOG_NOTICE, "%s: reserved %s", h->spec, dr_pr_type_name(d.cfg.type));
        }
    }
    if (rc < 0) {
        LOG(LOG_ERR, "%s: cannot make sure a reservation is held: %s", h->spec,
            describe(h, rc, buf, sizeof(buf)));
    }
    return rc;
}

/* Register our key through this session and reserve if nobody holds a reservation. */
static int
register_here(struct held_dev *h)
{
    char buf[256];
    int rc = dr_pr_register_ignore(h->dev, d.key, 0);

    if (rc < 0) {
        LOG(LOG_ERR, "%s: REGISTER of key 0x%016" PRIx64 " failed: %s", h->spec, d.key,
            describe(h, rc, buf, sizeof(buf)));
        return rc;
    }
    LOG(LOG_NOTICE, "%s: registered key 0x%016" PRIx64 " for node %s", h->spec, d.key, d.cfg.node);
    rc = ensure_reserved(h);
    if (rc == 0) {
        set_state(h, DR_DAEMON_STATE_REGISTERED);
    }
    return rc;
}

static int
open_session(struct held_dev *h)
{
    struct dr_pr_open_opts o = {0};

    o.initiator_iqn = d.cfg.initiator[0] ? d.cfg.initiator : NULL;
    o.timeout_ms = d.cfg.timeout_ms;
    return dr_pr_open(h->spec, &o, &h->dev);
}

/*
 * Where the device can say who holds a registration (READ FULL STATUS), a listed copy of our key
 * held by another initiator means another node runs under our name: never join it.
 */
static bool
key_is_ours(struct held_dev *h)
{
    int rc;

    if (strncmp(h->spec, "iscsi://", 8) != 0) {
        return true; /* SG_IO: the kernel's initiator name is not ours to compare */
    }
    rc = dr_pr_check_key_owner(h->dev, d.key, d.cfg.initiator);
    return rc != -DR_E_KEY_IN_USE;
}

/*
 * A new session is not registered (tgtd ties registrations to the session). Decide from the
 * keys on the device: our key still listed means the cluster never removed it (we restarted or
 * the session dropped), so register again. Gone, after we had it: fenced. Never had it and the
 * device has other keys: wait for unfencing. An empty device at start-up: first node, register.
 */
static void
after_login(struct held_dev *h)
{
    struct dr_pr_keys keys = {0};
    char buf[256];
    int rc = dr_pr_read_keys(h->dev, &keys);

    if (rc < 0) {
        LOG(LOG_ERR, "%s: READ KEYS after login failed: %s", h->spec,
            describe(h, rc, buf, sizeof(buf)));
        drop_session(h);
        set_state(h, DR_DAEMON_STATE_LOST);
        return;
    }
    bool listed = dr_pr_keys_contain(&keys, d.key);

    if (listed && key_is_ours(h)) {
        if (h->state != DR_DAEMON_STATE_FENCED) {
            (void)register_here(h);
        }
    } else if (!listed && (h->was_registered || h->state == DR_DAEMON_STATE_FENCED)) {
        set_state(h, DR_DAEMON_STATE_FENCED);
    } else if (!listed && keys.n_keys == 0 && d.cfg.unfence_at_start) {
        LOG(LOG_NOTICE, "%s: no key registered yet: registering as the first node", h->spec);
        (void)register_here(h);
    } else {
        /* Never registered here, or our key is held by another initiator: wait for `on`. */
        set_state(h, DR_DAEMON_STATE_UNFENCE_PENDING);
    }
    dr_pr_keys_free(&keys);
}

static void
watch_device(struct held_dev *h)
{
    struct dr_pr_keys keys = {0};
    char buf[256];
    int rc;

    if (h->dev != NULL && !dr_pr_is_connected(h->dev)) {
        LOG(LOG_ERR, "%s: session lost", h->spec);
        drop_session(h);
        if (h->state != DR_DAEMON_STATE_FENCED) {
            set_state(h, DR_DAEMON_STATE_LOST);
        }
    }
    if (h->dev == NULL) {
        rc = open_session(h);
        if (rc < 0) {
            if (h->state != DR_DAEMON_STATE_FENCED) {
                set_state(h, DR_DAEMON_STATE_LOST);
            }
            return;
        }
        after_login(h);
        return;
    }
    rc = dr_pr_read_keys(h->dev, &keys);
    if (rc < 0) {
        LOG(LOG_ERR, "%s: READ KEYS failed: %s", h->spec, describe(h, rc, buf, sizeof(buf)));
        if (!dr_pr_is_connected(h->dev)) {
            drop_session(h);
            if (h->state != DR_DAEMON_STATE_FENCED) {
                set_state(h, DR_DAEMON_STATE_LOST);
            }
        }
        return;
    }
    if (!dr_pr_keys_contain(&keys, d.key) && h->state == DR_DAEMON_STATE_REGISTERED) {
        LOG(LOG_ERR, "%s: key 0x%016" PRIx64 " of %s is gone: this node has been fenced", h->spec,
            d.key, d.cfg.node);
        set_state(h, DR_DAEMON_STATE_FENCED);
    }
    dr_pr_keys_free(&keys);
}

static uint32_t
worst_state(void)
{
    static const uint32_t order[] = {DR_DAEMON_STATE_FENCED, DR_DAEMON_STATE_LOST,
                                     DR_DAEMON_STATE_UNFENCE_PENDING, DR_DAEMON_STATE_STARTING};

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        for (size_t j = 0; j < d.n_devs; j++) {
            if (d.devs[j].state == order[i]) {
                return order[i];
            }
        }
    }
    return d.n_devs > 0 ? DR_DAEMON_STATE_REGISTERED : DR_DAEMON_STATE_NO_DEVICES;
}

/*
 * The last resort when libvirt cannot stop them: SIGKILL every QEMU libvirt started on this node
 * (libvirt runs QEMU with "-name guest=NAME,..."). A fenced node runs no VM, whatever libvirt
 * says. Returns how many were killed.
 */
static unsigned int
kill_all_qemus(void)
{
    DIR *dir = opendir("/proc");
    struct dirent *de;
    unsigned int killed = 0;

    if (dir == NULL) {
        return 0;
    }
    while ((de = readdir(dir)) != NULL) {
        char path[300], buf[4096];
        size_t n;
        FILE *f;

        if (de->d_name[0] < '1' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
        f = fopen(path, "re");
        if (f == NULL) {
            continue;
        }
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (strstr(buf, "qemu") == NULL) {
            continue;
        }
        for (size_t i = 0; i + 1 < n; i += strlen(buf + i) + 1) {
            if (i + 6 < n && strcmp(buf + i, "-name") == 0 &&
                strncmp(buf + i + 6, "guest=", 6) == 0) {
                pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
                if (kill(pid, SIGKILL) == 0) {
                    LOG(LOG_ERR, "node %s must run no VM: SIGKILL to QEMU pid %d (%.60s)",
                        d.cfg.node, (int)pid, buf + i + 6);
                    killed++;
                }
                break;
            }
        }
    }
    closedir(dir);
    return killed;
}

/* A node that is fenced, or was never unfenced, must not run VMs: stop them, every tick. */
static void
enforce_no_vms(void)
{
    unsigned int destroyed = 0, running = 0, killed;
    int rc;

    if (d.cfg.no_libvirt) {
        return;
    }
    /*
     * SIGKILL first: a graceful destroy waits for QEMU to exit on SIGTERM (libvirt polls every
     * 200 ms and escalates after seconds), and the fencer has told Pacemaker to start these VMs
     * elsewhere after a short, fixed wait (fence_drover's victim_stop_ms). A killed guest stops
     * executing at once; libvirt's destroy below then only cleans up.
     */
    killed = kill_all_qemus();
    if (d.vm != NULL && !dr_vm_conn_is_alive(d.vm)) {
        dr_vm_conn_close(d.vm);
        d.vm = NULL;
    }
    if (d.vm == NULL &&
        dr_vm_conn_open(d.cfg.libvirt_uri[0] ? d.cfg.libvirt_uri : NULL, &d.vm) < 0) {
        LOG(LOG_ERR, "cannot reach libvirt to clean up after killing %u QEMU(s)", killed);
        d.vms_destroyed += killed;
        return;
    }
    rc = dr_vm_destroy_all(d.vm, &destroyed, &running);
    if (destroyed < killed) {
        destroyed = killed;
    }
    d.vms_destroyed += destroyed;
    if (destroyed > 0) {
        LOG(LOG_ERR, "node %s is %s: stopped %u VM(s) %" PRId64 " ms after the key was found gone",
            d.cfg.node, dr_daemon_state_name(d.node_state), destroyed,
            dr__now_ms() - d.fenced_at_ms);
    }
    if (rc < 0 && running > 0) {
        LOG(LOG_ERR, "%u VM(s) still running on fenced node %s after destroy; retrying", running,
            d.cfg.node);
    }
}

/*
 * Pacemaker stops a node's stack when the node learns it was fenced (fence-reaction), but a node
 * cut off from the cluster network never hears of it: after the partition heals it rejoins as a
 * member Pacemaker may place VMs on, while its registration is gone and nothing unfences it. The
 * storage tells us, so the admin's command (for example "systemctl stop pacemaker") takes the
 * node out; when its stack starts again, Pacemaker unfences it.
 */
static void
run_on_fenced(void)
{
    char a0[] = "sh", a1[] = "-c";
    char *argv[] = {a0, a1, d.cfg.on_fenced, NULL};
    posix_spawnattr_t attr;
    sigset_t dfl;
    pid_t pid;
    int rc;

    /* Our SIGCHLD is ignored; the command's shell must be able to wait for its children. */
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGCHLD);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        LOG(LOG_ERR, "node %s is fenced, but the --on-fenced command cannot run: %s", d.cfg.node,
            strerror(rc));
        return;
    }
    LOG(LOG_NOTICE, "node %s is fenced: running the --on-fenced command (pid %d): %s", d.cfg.node,
        (int)pid, d.cfg.on_fenced);
}

static void
watch_tick(void *data)
{
    uint32_t before = d.node_state;

    (void)data;
    for (size_t i = 0; i < d.n_devs; i++) {
        watch_device(&d.devs[i]);
    }
    d.node_state = worst_state();
    if (!d.cfg.no_libvirt) {
        vmwatch_set_quiet(d.node_state == DR_DAEMON_STATE_FENCED ||
                          d.node_state == DR_DAEMON_STATE_UNFENCE_PENDING);
    }
    if (d.node_state == DR_DAEMON_STATE_FENCED || d.node_state == DR_DAEMON_STATE_UNFENCE_PENDING) {
        if (before != d.node_state) {
            d.fenced_at_ms = dr__now_ms();
        }
        enforce_no_vms();
    }
    if (d.node_state == DR_DAEMON_STATE_FENCED && before != DR_DAEMON_STATE_FENCED &&
        d.cfg.on_fenced[0] != '\0') {
        run_on_fenced();
    }
    qb_loop_timer_add(d.loop, QB_LOOP_HIGH, (uint64_t)d.cfg.watch_interval_ms * 1000000ULL, NULL,
                      watch_tick, &d.watch_timer);
}

/* ---- IPC ------------------------------------------------------------------------------- */

static struct held_dev *
find_dev(const char *spec)
{
    for (size_t i = 0; i < d.n_devs; i++) {
        if (strcmp(d.devs[i].spec, spec) == 0) {
            return &d.devs[i];
        }
    }
    return NULL;
}

static int
op_unfence(void)
{
    int first = 0;

    for (size_t i = 0; i < d.n_devs; i++) {
        struct held_dev *h = &d.devs[i];
        int rc = 0;

        if (h->dev == NULL || !dr_pr_is_connected(h->dev)) {
            drop_session(h);
            rc = open_session(h);
        }
        if (rc == 0 && h->state != DR_DAEMON_STATE_REGISTERED) {
            rc = register_here(h);
        } else if (rc == 0) {
            rc = ensure_reserved(h);
        }
        if (rc < 0 && first == 0) {
            first = rc;
        }
    }
    d.node_state = worst_state();
    if (first == 0) {
        LOG(LOG_NOTICE, "node %s unfenced on %zu device(s)", d.cfg.node, d.n_devs);
    }
    return first;
}

static int
op_preempt(struct held_dev *h, const struct dr__daemon_req *req, uint32_t *flags)
{
    enum dr_pr_type type = (enum dr_pr_type)req->type;
    char buf[256];
    int rc;

    if (req->key == d.key) {
        LOG(LOG_ERR, "refusing to preempt our own key 0x%016" PRIx64, d.key);
        return -DR_E_SELF_FENCE;
    }
    if (h->dev == NULL || h->state != DR_DAEMON_STATE_REGISTERED) {
        return -DR_E_NOT_REGISTERED;
    }
    if ((req->flags & DR__REQ_FLAG_TRY_ABORT) && !h->abort_unsupported) {
        rc = dr_pr_preempt(h->dev, d.key, req->key, type, true);
        if (rc == -DR_E_NOT_SUPPORTED) {
            LOG(LOG_NOTICE, "%s rejects PREEMPT AND ABORT; fencing with PREEMPT from now on",
                h->spec);
            h->abort_unsupported = true;
            *flags |= DR__RES_FLAG_FELL_BACK;
            rc = dr_pr_preempt(h->dev, d.key, req->key, type, false);
        }
    } else {
        if (req->flags & DR__REQ_FLAG_TRY_ABORT) {
            *flags |= DR__RES_FLAG_FELL_BACK;
        }
        rc = dr_pr_preempt(h->dev, d.key, req->key, type, false);
    }
    if (rc < 0) {
        LOG(LOG_ERR, "%s: PREEMPT of key 0x%016" PRIx64 " failed: %s", h->spec, req->key,
            describe(h, rc, buf, sizeof(buf)));
        return rc;
    }
    return ensure_reserved(h);
}

static int
op_vm_state(const char *domain, struct dr_daemon_vm_state *out)
{
    int rc;

    if (d.cfg.no_libvirt) {
        return -ENOTCONN;
    }
    if (domain[0] == '/') {
        /* A domain XML path: the agent's front door asks by config without parsing XML. */
        char name[256], uuid[64];

        rc = dr_vm_xml_identity(domain, name, sizeof(name), uuid, sizeof(uuid));
        if (rc < 0) {
            return rc;
        }
        rc = vmwatch_state(uuid[0] ? uuid : name, out);
    } else {
        rc = vmwatch_state(domain, out);
    }
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        memset(out, 0, sizeof(*out)); /* not known here */
    }
    return 0;
}

static void
fill_status(struct dr_daemon_status *st)
{
    memset(st, 0, sizeof(*st));
    snprintf(st->node, sizeof(st->node), "%s", d.cfg.node);
    snprintf(st->cluster, sizeof(st->cluster), "%s", d.cfg.cluster);
    st->key = d.key;
    st->state = d.node_state;
    st->vms_destroyed = d.vms_destroyed;
    st->n_devices = (uint32_t)d.n_devs;
    for (size_t i = 0; i < d.n_devs; i++) {
        snprintf(st->devices[i].spec, sizeof(st->devices[i].spec), "%s", d.devs[i].spec);
        st->devices[i].state = d.devs[i].state;
    }
}

static int32_t
ipc_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
    (void)c;
    (void)gid;
    /* Fencing through droverd is root's business only. */
    return uid == 0 ? 0 : -EPERM;
}

static int32_t
ipc_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
    const struct dr__daemon_req *req = data;
    struct dr__daemon_res *res = calloc(1, sizeof(*res));
    struct held_dev *h = NULL;
    int rc = 0;

    if (res == NULL) {
        return 0;
    }
    res->hdr.size = sizeof(*res);
    res->version = DR_DAEMON_PROTO_VERSION;
    if (size < offsetof(struct dr__daemon_req, flags) || req->version != DR_DAEMON_PROTO_VERSION) {
        LOG(LOG_WARNING, "client speaks protocol version %u, droverd %u: refused",
            size >= offsetof(struct dr__daemon_req, flags) ? req->version : 0,
            DR_DAEMON_PROTO_VERSION);
        res->rc = -DR_E_PROTOCOL;
        goto send;
    }
    if (size < sizeof(*req)) {
        res->rc = -EINVAL;
        goto send;
    }
    res->hdr.id = req->hdr.id;
    if (req->hdr.id == DR__OP_VM_STATE || req->hdr.id == DR__OP_VM_EXPECT) {
        char dom[DR_DAEMON_SPEC_MAX], rsc[sizeof(req->resource)];

        memcpy(dom, req->device, sizeof(dom));
        dom[sizeof(dom) - 1] = '\0';
        memcpy(rsc, req->resource, sizeof(rsc));
        rsc[sizeof(rsc) - 1] = '\0';
        res->rc = req->hdr.id == DR__OP_VM_STATE ? op_vm_state(dom, &res->u.vm)
                                                 : vmwatch_expect(dom, rsc, req->type);
        goto send;
    }
    if (req->hdr.id != DR__OP_STATUS && req->hdr.id != DR__OP_UNFENCE) {
        char spec[DR_DAEMON_SPEC_MAX];

        memcpy(spec, req->device, sizeof(spec));
        spec[sizeof(spec) - 1] = '\0';
        h = find_dev(spec);
        if (h == NULL) {
            res->rc = -ENOENT;
            goto send;
        }
    }
    switch (req->hdr.id) {
    case DR__OP_STATUS:
        fill_status(&res->u.status);
        break;
    case DR__OP_UNFENCE:
        rc = op_unfence();
        break;
    case DR__OP_HAS_DEVICE:
        break;
    case DR__OP_PREEMPT:
        rc = op_preempt(h, req, &res->flags);
        break;
    case DR__OP_READ_KEYS: {
        struct dr_pr_keys keys = {0};

        rc = h->dev != NULL ? dr_pr_read_keys(h->dev, &keys) : -DR_E_TRANSPORT;
        if (rc == 0 && keys.n_keys > DR_DAEMON_MAX_KEYS) {
            rc = -E2BIG;
        } else if (rc == 0) {
            res->u.keys.generation = keys.generation;
            res->u.keys.n_keys = (uint32_t)keys.n_keys;
            memcpy(res->u.keys.keys, keys.keys, keys.n_keys * sizeof(uint64_t));
        }
        dr_pr_keys_free(&keys);
        break;
    }
    case DR__OP_PROBE_WRITE:
        rc = h->dev != NULL ? dr_pr_probe_write(h->dev, 0) : -DR_E_TRANSPORT;
        break;
    default:
        rc = -EOPNOTSUPP;
        break;
    }
    res->rc = rc;
send:
    qb_ipcs_response_send(c, res, sizeof(*res));
    free(res);
    return 0;
}

/* libqb's IPC server needs its poll hooks mapped onto our qb_loop. */
static int32_t
job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
    return qb_loop_job_add(d.loop, p, data, fn);
}

static int32_t
dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t evts, void *data,
             qb_ipcs_dispatch_fn_t fn)
{
    return qb_loop_poll_add(d.loop, p, fd, evts, data, fn);
}

static int32_t
dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t evts, void *data,
             qb_ipcs_dispatch_fn_t fn)
{
    return qb_loop_poll_mod(d.loop, p, fd, evts, data, fn);
}

static int32_t
dispatch_del(int32_t fd)
{
    return qb_loop_poll_del(d.loop, fd);
}

static int32_t
on_signal(int32_t sig, void *data)
{
    (void)data;
    LOG(LOG_NOTICE, "signal %d: stopping", sig);
    qb_loop_stop(d.loop);
    return 0;
}

/* ---- configuration --------------------------------------------------------------------- */

static void
usage(FILE *f)
{
    fprintf(f, "usage: droverd --cluster NAME --devices DEV[,DEV...] [options]\n"
               "  --node NAME                this node's name (default: host name)\n"
               "  --cluster NAME             cluster name (keys derive from it)\n"
               "  --devices LIST             block devices and/or iscsi:// URLs\n"
               "  --initiator IQN            initiator name for iscsi:// devices\n"
               "                             (default iqn.2026-11.org.drover:NODE)\n"
               "  --reservation-type TYPE    default wero\n"
               "  --watch-interval-ms N      how often the own key is checked (default 20)\n"
               "  --timeout-ms N             login and command timeout (default 2000)\n"
               "  --unfence-at-start yes|no  register on an empty device at start (default yes)\n"
               "  --libvirt-uri URI          default qemu:///system\n"
               "  --no-libvirt               never stop VMs (storage-only nodes)\n"
               "  --on-fenced CMD            run CMD (sh -c) each time the node's key is found\n"
               "                             removed, after its VMs are stopped; e.g.\n"
               "                             \"systemctl stop pacemaker\"\n"
               "  --ipc-name NAME            default droverd\n"
               "  --log-file PATH  --pid-file PATH  --debug\n");
}

static int
copy_opt(char *dst, size_t len, const char *name, const char *v)
{
    if (v[0] == '\0' || strlen(v) >= len) {
        fprintf(stderr, "droverd: --%s needs a value of 1..%zu bytes\n", name, len - 1);
        return -EINVAL;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int
num_opt(unsigned int *dst, const char *name, const char *v, unsigned int min, unsigned int max)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (v[0] == '\0' || v[0] == '-' || *end != '\0' || errno != 0 || n < min || n > max) {
        fprintf(stderr, "droverd: --%s needs a number %u..%u, not '%s'\n", name, min, max, v);
        return -EINVAL;
    }
    *dst = (unsigned int)n;
    return 0;
}

static int
add_devices(const char *list)
{
    char *copy = strdup(list), *save = NULL;

    if (copy == NULL) {
        return -ENOMEM;
    }
    for (char *t = strtok_r(copy, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
        if (find_dev(t) != NULL) {
            continue;
        }
        if (d.n_devs == DR_DAEMON_MAX_DEVICES || strlen(t) >= DR_DAEMON_SPEC_MAX ||
            (t[0] != '/' && strncmp(t, "iscsi://", 8) != 0)) {
            fprintf(stderr,
                    "droverd: bad device '%s' (an absolute path or iscsi:// URL; at most "
                    "%d devices)\n",
                    t, DR_DAEMON_MAX_DEVICES);
            free(copy);
            return -EINVAL;
        }
        snprintf(d.devs[d.n_devs].spec, DR_DAEMON_SPEC_MAX, "%s", t);
        d.devs[d.n_devs].state = DR_DAEMON_STATE_STARTING;
        d.n_devs++;
    }
    free(copy);
    return 0;
}

static int
parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"node", required_argument, NULL, 'n'},
        {"cluster", required_argument, NULL, 'c'},
        {"devices", required_argument, NULL, 'd'},
        {"initiator", required_argument, NULL, 'i'},
        {"reservation-type", required_argument, NULL, 't'},
        {"watch-interval-ms", required_argument, NULL, 'w'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"unfence-at-start", required_argument, NULL, 'u'},
        {"libvirt-uri", required_argument, NULL, 'l'},
        {"no-libvirt", no_argument, NULL, 'L'},
        {"on-fenced", required_argument, NULL, 'f'},
        {"ipc-name", required_argument, NULL, 'I'},
        {"log-file", required_argument, NULL, 'F'},
        {"pid-file", required_argument, NULL, 'P'},
        {"debug", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config *c = &d.cfg;
    int o, rc = 0;

    c->type = DR_PR_TYPE_WRITE_EXCLUSIVE_RO;
    c->watch_interval_ms = 20;
    c->timeout_ms = 2000;
    c->unfence_at_start = true;
    snprintf(c->ipc_name, sizeof(c->ipc_name), "%s", DR_DAEMON_IPC_NAME);
    while (rc == 0 && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'n':
            rc = copy_opt(c->node, sizeof(c->node), "node", optarg);
            break;
        case 'c':
            rc = copy_opt(c->cluster, sizeof(c->cluster), "cluster", optarg);
            break;
        case 'd':
            rc = add_devices(optarg);
            break;
        case 'i':
            rc = copy_opt(c->initiator, sizeof(c->initiator), "initiator", optarg);
            break;
        case 't':
            if (dr_pr_type_parse(optarg, &c->type) < 0) {
                fprintf(stderr, "droverd: unknown reservation type '%s'\n", optarg);
                rc = -EINVAL;
            }
            break;
        case 'w':
            rc = num_opt(&c->watch_interval_ms, "watch-interval-ms", optarg, 10, 60000);
            break;
        case 'T':
            rc = num_opt(&c->timeout_ms, "timeout-ms", optarg, 100, 600000);
            break;
        case 'u':
            if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) {
                fprintf(stderr, "droverd: --unfence-at-start takes yes or no\n");
                rc = -EINVAL;
            }
            c->unfence_at_start = strcmp(optarg, "yes") == 0;
            break;
        case 'l':
            rc = copy_opt(c->libvirt_uri, sizeof(c->libvirt_uri), "libvirt-uri", optarg);
            break;
        case 'L':
            c->no_libvirt = true;
            break;
        case 'f': /* empty: none (the systemd unit always passes its variable) */
            c->on_fenced[0] = '\0';
            if (optarg[0] != '\0') {
                rc = copy_opt(c->on_fenced, sizeof(c->on_fenced), "on-fenced", optarg);
            }
            break;
        case 'I':
            rc = copy_opt(c->ipc_name, sizeof(c->ipc_name), "ipc-name", optarg);
            break;
        case 'F':
            rc = copy_opt(c->log_file, sizeof(c->log_file), "log-file", optarg);
            break;
        case 'P':
            rc = copy_opt(c->pid_file, sizeof(c->pid_file), "pid-file", optarg);
            break;
        case 'D':
            c->debug = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (rc < 0) {
        return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "droverd: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if (c->node[0] == '\0') {
        if (gethostname(c->node, sizeof(c->node) - 1) != 0 || c->node[0] == '\0') {
            fprintf(stderr, "droverd: --node not given and the host name is unknown\n");
            return -EINVAL;
        }
        c->node[strcspn(c->node, ".")] = '\0';
    }
    if (c->cluster[0] == '\0') {
        fprintf(stderr, "droverd: --cluster is required (the reservation keys derive from it)\n");
        return -EINVAL;
    }
    if (c->initiator[0] == '\0') {
        snprintf(c->initiator, sizeof(c->initiator), "iqn.2026-11.org.drover:%s", c->node);
    }
    if (dr_pr_key_derive(c->cluster, c->node, &d.key) < 0) {
        fprintf(stderr, "droverd: node and cluster names must be 1..255 bytes\n");
        return -EINVAL;
    }
    return 0;
}

static int
write_pid_file(const char *path)
{
    FILE *f = fopen(path, "we");

    if (f == NULL) {
        fprintf(stderr, "droverd: cannot write pid file %s: %s\n", path, strerror(errno));
        return -errno;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    return 0;
}

int
main(int argc, char **argv)
{
    struct qb_ipcs_service_handlers handlers = {
        .connection_accept = ipc_accept,
        .msg_process = ipc_msg,
    };
    struct qb_ipcs_poll_handlers poll_handlers = {
        .job_add = job_add,
        .dispatch_add = dispatch_add,
        .dispatch_mod = dispatch_mod,
        .dispatch_del = dispatch_del,
    };
    int rc;

    if (parse_args(argc, argv) < 0) {
        return 2;
    }
    if (dr_log_init("droverd", DR_LOG_STDERR | DR_LOG_SYSLOG | (d.cfg.debug ? DR_LOG_DEBUG : 0),
                    d.cfg.log_file[0] ? d.cfg.log_file : NULL) < 0) {
        fprintf(stderr, "droverd: cannot open log file %s\n", d.cfg.log_file);
        return 1;
    }
    if (d.cfg.pid_file[0] && write_pid_file(d.cfg.pid_file) < 0) {
        return 1;
    }
    d.loop = qb_loop_create();
    if (d.loop == NULL) {
        LOG(LOG_ERR, "cannot create the main loop");
        return 1;
    }
    d.ipcs = qb_ipcs_create(d.cfg.ipc_name, 0, QB_IPC_SOCKET, &handlers);
    if (d.ipcs == NULL) {
        LOG(LOG_ERR, "cannot create IPC service %s: %s", d.cfg.ipc_name, strerror(errno));
        return 1;
    }
    qb_ipcs_poll_handlers_set(d.ipcs, &poll_handlers);
    rc = qb_ipcs_run(d.ipcs);
    if (rc != 0) {
        LOG(LOG_ERR, "cannot start IPC service %s: %s (is another droverd running?)",
            d.cfg.ipc_name, strerror(-rc));
        qb_ipcs_destroy(d.ipcs);
        return 1;
    }
    qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGTERM, NULL, on_signal, NULL);
    qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGINT, NULL, on_signal, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* crm_resource children (failure reports) are reaped by the kernel. */
    signal(SIGCHLD, SIG_IGN);
    if (!d.cfg.no_libvirt &&
        vmwatch_start(d.cfg.libvirt_uri[0] ? d.cfg.libvirt_uri : NULL, d.cfg.node) < 0) {
        LOG(LOG_ERR, "cannot start the VM watch");
        return 1;
    }
    LOG(LOG_NOTICE,
        "droverd %s starting: node %s, cluster %s, key 0x%016" PRIx64 ", %zu device(s), "
        "watch every %u ms",
        DR_VERSION, d.cfg.node, d.cfg.cluster, d.key, d.n_devs, d.cfg.watch_interval_ms);
    /* The first watch round logs in and registers before the loop serves anyone. */
    d.node_state = DR_DAEMON_STATE_STARTING;
    watch_tick(NULL);
    qb_loop_run(d.loop);
    vmwatch_stop();
    qb_ipcs_destroy(d.ipcs);
    qb_loop_timer_del(d.loop, d.watch_timer);
    qb_loop_destroy(d.loop);
    for (size_t i = 0; i < d.n_devs; i++) {
        drop_session(&d.devs[i]);
    }
    dr_vm_conn_close(d.vm);
    if (d.cfg.pid_file[0]) {
        unlink(d.cfg.pid_file);
    }
    LOG(LOG_NOTICE, "droverd stopped");
    dr_log_fini();
    return 0;
}
