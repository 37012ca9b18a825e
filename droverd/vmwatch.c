/*
 * droverd's VM watch: libvirt's default event loop in a thread of its own, one connection with
 * keepalive, a cache of every domain's state updated by lifecycle events, and the report of a VM
 * that stopped when drover did not stop it.
 *
 * Report at the right moment only (lab-notes/pcmk-fastfail): calling crm_resource --fail while
 * the agent stops or migrates the resource turns a live migration into a cold start or restarts
 * the fresh copy. The agent marks those windows with vmwatch_expect(); a stop whose detail is
 * MIGRATED or SAVED is never a failure.
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "drover/log.h"
#include "util_internal.h"
#include "vmwatch.h"

#define LOG(prio, ...) dr_log_printf(prio, __VA_ARGS__)
#define MAX_DOMAINS 256

extern char **environ;

struct entry {
    char name[256];
    char uuid[VIR_UUID_STRING_BUFLEN];
    enum dr_vm_state state;
    int virt_state;
    int virt_reason;
    bool present;
    unsigned int vcpus;
    unsigned long long max_memory_kib;
    char resource[256];
    int64_t busy_until_ms;
};

static struct {
    pthread_mutex_t lock;
    pthread_t thread;
    bool started;
    volatile bool stop;
    bool connected;
    bool closed;      /* set by libvirt's close callback */
    bool quiet;       /* droverd is stopping the node's VMs itself */
    int64_t sizes_ms; /* when the sizes were last re-read */
    virConnectPtr conn;
    int cb_id;
    char uri[512];
    char node[256];
    struct entry e[MAX_DOMAINS];
    size_t n;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cb_id = -1};

static void
quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

/* Callers hold w.lock. */
static struct entry *
find(const char *name_or_uuid, bool create)
{
    for (size_t i = 0; i < w.n; i++) {
        if (strcmp(w.e[i].name, name_or_uuid) == 0 || strcasecmp(w.e[i].uuid, name_or_uuid) == 0) {
            return &w.e[i];
        }
    }
    if (!create || w.n == MAX_DOMAINS) {
        return NULL;
    }
    memset(&w.e[w.n], 0, sizeof(w.e[w.n]));
    return &w.e[w.n++];
}

/* The domain's vCPUs and maximum memory, which the VM agent publishes as its utilization. */
static void
read_sizes(struct entry *e, virDomainPtr dom)
{
    virDomainInfo di;

    if (virDomainGetInfo(dom, &di) == 0) {
        e->vcpus = di.nrVirtCpu;
        e->max_memory_kib = di.maxMem;
    }
}

/*
 * No lifecycle event tells of a vCPU or memory hot-plug: re-read the sizes now and then, without
 * holding the lock over libvirt's round trips (the agents' queries would wait on them).
 */
static void
refresh_sizes(void)
{
    char uuids[MAX_DOMAINS][VIR_UUID_STRING_BUFLEN];
    size_t n = 0;

    pthread_mutex_lock(&w.lock);
    for (size_t i = 0; i < w.n; i++) {
        if (w.e[i].present && w.e[i].uuid[0] != '\0') {
            memcpy(uuids[n++], w.e[i].uuid, sizeof(uuids[0]));
        }
    }
    pthread_mutex_unlock(&w.lock);
    for (size_t i = 0; i < n; i++) {
        virDomainPtr dom = virDomainLookupByUUIDString(w.conn, uuids[i]);
        virDomainInfo di;
        struct entry *e;

        if (dom == NULL) {
            continue;
        }
        if (virDomainGetInfo(dom, &di) == 0) {
            pthread_mutex_lock(&w.lock);
            e = find(uuids[i], false);
            if (e != NULL) {
                e->vcpus = di.nrVirtCpu;
                e->max_memory_kib = di.maxMem;
            }
            pthread_mutex_unlock(&w.lock);
        }
        virDomainFree(dom);
    }
}

/* Callers hold w.lock. */
static struct entry *
update(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    const char *name = virDomainGetName(dom);
    struct entry *e;
    int st = 0, reason = 0;

    if (name == NULL || virDomainGetUUIDString(dom, uuid) < 0) {
        return NULL;
    }
    e = find(uuid, false);
    if (e == NULL) {
        e = find(name, true);
    }
    if (e == NULL) {
        return NULL;
    }
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->uuid, sizeof(e->uuid), "%s", uuid);
    if (virDomainGetState(dom, &st, &reason, 0) < 0) {
        /* The domain is gone (undefined transient domain): it does not run. */
        e->present = false;
        e->state = DR_VM_STATE_SHUTOFF;
        return e;
    }
    e->present = true;
    e->virt_state = st;
    e->virt_reason = reason;
    e->state = dr_vm_state_from_virt(st, reason);
    read_sizes(e, dom);
    return e;
}

static void
report_failure(const char *resource, const char *domain, const char *why)
{
    char a0[] = "crm_resource", a1[] = "--fail", a2[] = "--resource", a4[] = "--node";
    char rsc[256];
    char *argv[] = {a0, a1, a2, rsc, a4, w.node, NULL};
    pid_t pid;
    int rc;

    snprintf(rsc, sizeof(rsc), "%s", resource);
    rc = posix_spawnp(&pid, "crm_resource", NULL, NULL, argv, environ);
    if (rc != 0) {
        LOG(LOG_ERR, "VM %s (%s) %s, but crm_resource cannot run: %s", domain, resource, why,
            strerror(rc));
        return;
    }
    LOG(LOG_NOTICE, "VM %s (resource %s) %s: reported to Pacemaker at once (crm_resource pid %d)",
        domain, resource, why, (int)pid);
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    const char *why = NULL;
    char resource[256] = "", name[256] = "";
    struct entry *e;
    bool was_running;

    (void)conn;
    (void)opaque;
    if (event == VIR_DOMAIN_EVENT_STOPPED && detail != VIR_DOMAIN_EVENT_STOPPED_MIGRATED &&
        detail != VIR_DOMAIN_EVENT_STOPPED_SAVED) {
        why = detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED  ? "crashed"
              : detail == VIR_DOMAIN_EVENT_STOPPED_FAILED ? "died (its QEMU failed or was killed)"
              : detail == VIR_DOMAIN_EVENT_STOPPED_DESTROYED ? "was destroyed outside drover"
                                                             : "shut down by itself";
    } else if (event == VIR_DOMAIN_EVENT_CRASHED) {
        why = "crashed";
    }
    pthread_mutex_lock(&w.lock);
    {
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        struct entry *before = NULL;

        if (virDomainGetUUIDString(dom, uuid) == 0) {
            before = find(uuid, false);
        }
        if (before == NULL && virDomainGetName(dom) != NULL) {
            before = find(virDomainGetName(dom), false);
        }
        /* Only a VM that ran here can fail here: an incoming migration that fails, or a
         * domain that was merely defined, is not this node's resource failing. */
        was_running =
            before != NULL && before->present &&
            (before->state == DR_VM_STATE_RUNNING || before->state == DR_VM_STATE_PAUSED ||
             before->state == DR_VM_STATE_PAUSED_IO_ERROR ||
             before->state == DR_VM_STATE_SHUTTING_DOWN);
    }
    e = update(dom);
    if (e != NULL && event == VIR_DOMAIN_EVENT_UNDEFINED && e->state == DR_VM_STATE_SHUTOFF) {
        e->present = false;    /* migrated away and undefined, or removed: not on this node */
        e->resource[0] = '\0'; /* the agent tells us again when it runs here */
    }
    if (e != NULL && why != NULL && was_running && e->resource[0] != '\0' &&
        dr__now_ms() >= e->busy_until_ms && !w.quiet) {
        snprintf(resource, sizeof(resource), "%s", e->resource);
        snprintf(name, sizeof(name), "%s", e->name);
    }
    pthread_mutex_unlock(&w.lock);
    if (resource[0] != '\0') {
        report_failure(resource, name, why);
    }
    return 0;
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    (void)opaque;
    LOG(LOG_WARNING,
        "libvirt connection closed (reason %d): the VM cache is unsure until it is "
        "back",
        reason);
    pthread_mutex_lock(&w.lock);
    w.closed = true;
    w.connected = false;
    pthread_mutex_unlock(&w.lock);
}

static void
refresh_all(void)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(w.conn, &doms, 0);

    pthread_mutex_lock(&w.lock);
    for (size_t i = 0; i < w.n; i++) {
        w.e[i].present = false;
        w.e[i].state = DR_VM_STATE_SHUTOFF;
    }
    for (int i = 0; i < n; i++) {
        update(doms[i]);
        virDomainFree(doms[i]);
    }
    pthread_mutex_unlock(&w.lock);
    free(doms);
}

static void
disconnect(void)
{
    if (w.conn == NULL) {
        return;
    }
    if (w.cb_id >= 0) {
        virConnectDomainEventDeregisterAny(w.conn, w.cb_id);
        w.cb_id = -1;
    }
    virConnectUnregisterCloseCallback(w.conn, on_close);
    virConnectClose(w.conn);
    w.conn = NULL;
}

static bool
connect_once(void)
{
    virConnectPtr c = virConnectOpen(w.uri[0] ? w.uri : "qemu:///system");

    if (c == NULL) {
        return false;
    }
    w.conn = c;
    /* Keepalive: a hung or restarted libvirtd closes the connection instead of stalling it. */
    virConnectSetKeepAlive(c, 2, 3);
    virConnectRegisterCloseCallback(c, on_close, NULL, NULL);
    w.cb_id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                               VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL);
    if (w.cb_id < 0) {
        disconnect();
        return false;
    }
    pthread_mutex_lock(&w.lock);
    w.closed = false;
    pthread_mutex_unlock(&w.lock);
    refresh_all();
    pthread_mutex_lock(&w.lock);
    w.connected = true;
    pthread_mutex_unlock(&w.lock);
    LOG(LOG_NOTICE, "watching VMs through %s", w.uri[0] ? w.uri : "qemu:///system");
    return true;
}

static void
tick(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

static void *
run(void *arg)
{
    int64_t next_try = 0;
    bool warned = false;

    (void)arg;
    /* A periodic timer wakes the event loop, so that stop and reconnects are noticed. */
    virEventAddTimeout(200, tick, NULL, NULL);
    while (!w.stop) {
        bool closed;

        pthread_mutex_lock(&w.lock);
        closed = w.closed;
        pthread_mutex_unlock(&w.lock);
        if (closed) {
            disconnect();
            pthread_mutex_lock(&w.lock);
            w.closed = false;
            pthread_mutex_unlock(&w.lock);
        }
        if (w.conn == NULL && dr__now_ms() >= next_try) {
            if (!connect_once()) {
                if (!warned) {
                    LOG(LOG_WARNING, "libvirt not reachable; the VM agent asks libvirt itself");
                    warned = true;
                }
                next_try = dr__now_ms() + 500;
            } else {
                warned = false;
            }
        }
        if (w.conn != NULL && dr__now_ms() - w.sizes_ms >= DR_DAEMON_VM_SIZES_REFRESH_MS) {
            w.sizes_ms = dr__now_ms();
            refresh_sizes();
        }
        if (virEventRunDefaultImpl() < 0) {
            usleep(100000);
        }
    }
    disconnect();
    return NULL;
}

int
vmwatch_start(const char *uri, const char *node_name)
{
    int rc;

    snprintf(w.uri, sizeof(w.uri), "%s", uri != NULL ? uri : "");
    snprintf(w.node, sizeof(w.node), "%s", node_name);
    virSetErrorFunc(NULL, quiet);
    if (virEventRegisterDefaultImpl() < 0) {
        return -EIO;
    }
    rc = pthread_create(&w.thread, NULL, run, NULL);
    if (rc != 0) {
        return -rc;
    }
    w.started = true;
    return 0;
}

void
vmwatch_stop(void)
{
    if (!w.started) {
        return;
    }
    w.stop = true;
    pthread_join(w.thread, NULL);
    w.started = false;
}

bool
vmwatch_connected(void)
{
    bool c;

    pthread_mutex_lock(&w.lock);
    c = w.connected;
    pthread_mutex_unlock(&w.lock);
    return c;
}

int
vmwatch_state(const char *name_or_uuid, struct dr_daemon_vm_state *out)
{
    struct entry *e;
    int rc;

    pthread_mutex_lock(&w.lock);
    if (!w.connected) {
        rc = -ENOTCONN;
    } else if ((e = find(name_or_uuid, false)) == NULL || !e->present) {
        rc = 0;
    } else {
        memset(out, 0, sizeof(*out));
        out->known = 1;
        out->state = (uint32_t)e->state;
        out->virt_state = e->virt_state;
        out->virt_reason = e->virt_reason;
        out->vcpus = e->vcpus;
        out->max_memory_kib = e->max_memory_kib;
        rc = 1;
    }
    pthread_mutex_unlock(&w.lock);
    return rc;
}

int
vmwatch_expect(const char *name_or_uuid, const char *resource, uint32_t busy_ms)
{
    struct entry *e;
    int rc = 0;

    pthread_mutex_lock(&w.lock);
    e = find(name_or_uuid, true);
    if (e == NULL) {
        rc = -ENOSPC;
    } else {
        if (e->name[0] == '\0' && e->uuid[0] == '\0') {
            snprintf(e->name, sizeof(e->name), "%s", name_or_uuid);
        }
        if (resource != NULL && resource[0] != '\0') {
            snprintf(e->resource, sizeof(e->resource), "%s", resource);
        }
        e->busy_until_ms = busy_ms > 0 ? dr__now_ms() + busy_ms : 0;
    }
    pthread_mutex_unlock(&w.lock);
    return rc;
}

void
vmwatch_set_quiet(bool quiet)
{
    pthread_mutex_lock(&w.lock);
    w.quiet = quiet;
    pthread_mutex_unlock(&w.lock);
}
