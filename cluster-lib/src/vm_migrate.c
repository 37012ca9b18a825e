/*
 * Live migration with a policy, and job statistics. virDomainMigrateToURI3() blocks until the
 * migration ends, so it runs in a worker thread while the calling thread watches the job:
 * it reports progress, applies the downtime limit, and carries out what
 * dr_vm_migration_decide() wants (switch to post-copy, or abort). It returns only once the
 * worker has returned, that is once libvirt has ended the job on this host.
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_internal.h"
#include "util_internal.h"
#include "vm_internal.h"

/* Progress every second unless the caller says otherwise. */
#define DEFAULT_PROGRESS_MS 1000u
/* The downtime limit is set as soon as the job exists: look for it this often until then. */
#define DOWNTIME_POLL_MS 50u
/* After the connection broke mid-migration: how long to try to find out how the job ended. */
#define RECONNECT_BUDGET_MS 60000

#define MIB (1024.0 * 1024.0)

/* Absent fields stay 0; a field of an unexpected type is ignored (and its error dropped). */
static uint64_t
get_ull(virTypedParameterPtr params, int nparams, const char *name)
{
    unsigned long long v = 0;

    if (virTypedParamsGetULLong(params, nparams, name, &v) < 0) {
        virResetLastError();
        return 0;
    }
    return v;
}

void
dr__vm_job_stats_parse(int type, virTypedParameterPtr params, int nparams, bool completed,
                       struct dr_vm_job_stats *out)
{
    int throttle = 0;
    uint64_t downtime;

    memset(out, 0, sizeof(*out));
    out->active =
        !completed && (type == VIR_DOMAIN_JOB_BOUNDED || type == VIR_DOMAIN_JOB_UNBOUNDED);
    if (type == VIR_DOMAIN_JOB_NONE) {
        return;
    }
    out->elapsed_ms = get_ull(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED);
    out->data_total = get_ull(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL);
    out->data_processed = get_ull(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED);
    out->data_remaining = get_ull(params, nparams, VIR_DOMAIN_JOB_DATA_REMAINING);
    out->memory_dirty_rate = get_ull(params, nparams, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE);
    out->memory_iteration = get_ull(params, nparams, VIR_DOMAIN_JOB_MEMORY_ITERATION);
    out->memory_bps = get_ull(params, nparams, VIR_DOMAIN_JOB_MEMORY_BPS);
    out->postcopy_requests = get_ull(params, nparams, VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS);
    /* libvirt: "downtime" is the expected downtime of a running job, the actual one after. */
    downtime = get_ull(params, nparams, VIR_DOMAIN_JOB_DOWNTIME);
    if (completed) {
        out->downtime_ms = downtime;
    } else {
        out->expected_downtime_ms = downtime;
    }
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE, &throttle) <
        0) {
        virResetLastError();
    }
    out->auto_converge_throttle = throttle > 0 ? (uint32_t)throttle : 0;
}

/* virDomainGetJobStats() into \p out; a failure is logged by \p report (or only at debug). */
static int
read_job_stats(virDomainPtr dom, const char *name, unsigned int flags, bool quiet,
               struct dr_vm_job_stats *out)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = VIR_DOMAIN_JOB_NONE;

    if (virDomainGetJobStats(dom, &type, &params, &nparams, flags) < 0) {
        return quiet ? dr__vm_error_quiet(name) : dr__vm_error(name);
    }
    dr__vm_job_stats_parse(type, params, nparams, (flags & VIR_DOMAIN_JOB_STATS_COMPLETED) != 0,
                           out);
    virTypedParamsFree(params, nparams);
    return 0;
}

int
dr_vm_job_stats(struct dr_vm *vm, struct dr_vm_job_stats *out)
{
    if (vm == NULL || out == NULL) {
        return -EINVAL;
    }
    return read_job_stats(vm->dom, vm->name, 0, false, out);
}

int
dr_vm_abort_job(struct dr_vm *vm)
{
    if (vm == NULL) {
        return -EINVAL;
    }
    if (virDomainAbortJob(vm->dom) < 0) {
        return dr__vm_error(vm->name);
    }
    dr_notice("VM %s: job aborted", vm->name);
    return 0;
}

enum dr_vm_migration_step
dr_vm_migration_decide(const struct dr_vm_migrate_params *params,
                       const struct dr_vm_job_stats *stats, uint64_t elapsed_ms,
                       bool postcopy_started)
{
    if (params == NULL || postcopy_started) {
        /* Post-copy cannot be undone: the target runs the guest and the source has the rest of
         * its memory. Aborting now would lose the VM, so it is never done. */
        return DR_VM_MIGRATION_CONTINUE;
    }
    if (stats != NULL && !stats->active) {
        return DR_VM_MIGRATION_CONTINUE; /* not started yet, or already over: nothing to act on */
    }
    if (params->policy == DR_VM_MIGRATION_POSTCOPY && elapsed_ms >= params->postcopy_after_ms) {
        return DR_VM_MIGRATION_SWITCH_POSTCOPY;
    }
    if (params->timeout_ms != 0 && elapsed_ms >= params->timeout_ms) {
        return DR_VM_MIGRATION_ABORT;
    }
    return DR_VM_MIGRATION_CONTINUE;
}

int
dr__vm_migrate_build(const struct dr_vm_migrate_params *p, bool persistent,
                     virTypedParameterPtr *params, int *nparams, unsigned int *flags)
{
    virTypedParameterPtr tp = NULL;
    int n = 0, max = 0, rc = 0;
    unsigned int f;

    if (p == NULL || p->dest_uri == NULL || p->dest_uri[0] == '\0' ||
        (unsigned int)p->policy > DR_VM_MIGRATION_POSTCOPY || p->parallel > INT32_MAX) {
        return -EINVAL;
    }
    /*
     * Peer-to-peer: the source libvirtd drives the migration, so it survives this process.
     * ABORT_ON_ERROR: a storage error during migration cancels it instead of pausing the guest.
     * A persistent domain's definition moves with it, so that the source can never start a
     * second copy (autostart, a stray "virsh start") of a VM that now runs elsewhere.
     */
    f = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_ABORT_ON_ERROR;
    if (persistent) {
        f |= VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
    }
    if (p->policy >= DR_VM_MIGRATION_AUTOCONVERGE) {
        f |= VIR_MIGRATE_AUTO_CONVERGE;
    }
    if (p->policy == DR_VM_MIGRATION_POSTCOPY) {
        f |= VIR_MIGRATE_POSTCOPY; /* enables it; virDomainMigrateStartPostCopy() switches */
    }
    if (p->parallel > 1) {
        f |= VIR_MIGRATE_PARALLEL;
        rc = virTypedParamsAddInt(&tp, &n, &max, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                                  (int)p->parallel);
    }
    if (rc == 0 && p->migrate_uri != NULL && p->migrate_uri[0] != '\0') {
        /* The memory stream takes the migration network; the control connection dest_uri. */
        rc = virTypedParamsAddString(&tp, &n, &max, VIR_MIGRATE_PARAM_URI, p->migrate_uri);
    }
    if (rc == 0 && p->bandwidth_mib_s != 0) {
        rc =
            virTypedParamsAddULLong(&tp, &n, &max, VIR_MIGRATE_PARAM_BANDWIDTH, p->bandwidth_mib_s);
        /* The cap protects the link: post-copy's page requests share it too. */
        if (rc == 0 && p->policy == DR_VM_MIGRATION_POSTCOPY) {
            rc = virTypedParamsAddULLong(&tp, &n, &max, VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY,
                                         p->bandwidth_mib_s);
        }
    }
    if (rc < 0) {
        virResetLastError();
        virTypedParamsFree(tp, n);
        return -ENOMEM;
    }
    *params = tp;
    *nparams = n;
    *flags = f;
    return 0;
}

/* The blocking virDomainMigrateToURI3() and what it returned. */
struct worker {
    virDomainPtr dom;
    const char *dest_uri;
    virTypedParameterPtr params;
    int nparams;
    unsigned int flags;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int ret;
    int err_code;  /* libvirt's error, copied from the worker's thread-local virError */
    char *err_msg; /* (its message; NULL if none or out of memory) */
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    int ret =
        virDomainMigrateToURI3(w->dom, w->dest_uri, w->params, (unsigned int)w->nparams, w->flags);
    int code = VIR_ERR_OK;
    char *msg = NULL;

    if (ret < 0) {
        virErrorPtr e = virGetLastError();
        if (e != NULL) {
            code = e->code;
            msg = e->message != NULL ? strdup(e->message) : NULL;
        }
        virResetLastError();
    }
    pthread_mutex_lock(&w->lock);
    w->ret = ret;
    w->err_code = code;
    w->err_msg = msg;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Wait until the worker is done or \p wake_ms (CLOCK_MONOTONIC ms). \return done. */
static bool
worker_wait(struct worker *w, int64_t wake_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(wake_ms / 1000),
                          .tv_nsec = (long)(wake_ms % 1000) * 1000000L};
    bool done;

    pthread_mutex_lock(&w->lock);
    while (!w->done) {
        if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    done = w->done;
    pthread_mutex_unlock(&w->lock);
    return done;
}

static int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The next moment the watcher must look: a progress tick, or a policy deadline before it. */
static int64_t
next_wake(const struct dr_vm_migrate_params *p, int64_t t0, int64_t now, bool downtime_pending,
          bool postcopy)
{
    unsigned int interval =
        p->progress_interval_ms != 0 ? p->progress_interval_ms : DEFAULT_PROGRESS_MS;
    int64_t wake =
        now + (downtime_pending && interval > DOWNTIME_POLL_MS ? DOWNTIME_POLL_MS : interval);

    if (p->policy == DR_VM_MIGRATION_POSTCOPY && !postcopy &&
        t0 + (int64_t)p->postcopy_after_ms > now) {
        wake = min64(wake, t0 + (int64_t)p->postcopy_after_ms);
    }
    if (p->timeout_ms != 0 && t0 + (int64_t)p->timeout_ms > now) {
        wake = min64(wake, t0 + (int64_t)p->timeout_ms);
    }
    return wake;
}

/*
 * The connection broke while libvirt migrated: the source libvirtd may still be running the
 * job (peer-to-peer). Find out through a new connection, and wait for the job to end.
 * \return true when the job is verifiably over (or libvirtd is down, which ends its jobs).
 */
static bool
wait_job_over_reconnected(struct dr_vm *vm, const struct dr_vm_migrate_params *p, int64_t t0)
{
    int64_t give_up = dr__now_ms() + RECONNECT_BUDGET_MS;
    bool aborted = false;

    while (dr__now_ms() < give_up) {
        virConnectPtr c = virConnectOpen(vm->conn->uri);
        virDomainPtr d;
        struct dr_vm_job_stats st = {0};
        int rc;

        if (c == NULL) {
            dr__vm_error_quiet(vm->conn->uri);
            /* libvirtd is not running: its migration job ended with it (libvirt's recovery
             * on restart resumes or kills the half-migrated domain). */
            dr_warn("VM %s: libvirt at %s is not reachable after the connection broke", vm->name,
                    vm->conn->uri);
            return true;
        }
        d = virDomainLookupByUUIDString(c, vm->uuid);
        if (d == NULL) {
            rc = dr__vm_error_quiet(vm->name);
            virConnectClose(c);
            if (rc == -ENOENT) {
                return true; /* migrated away (and undefined here) */
            }
            continue;
        }
        while ((rc = read_job_stats(d, vm->name, 0, true, &st)) == 0 && st.active &&
               dr__now_ms() < give_up) {
            if (!aborted && p->timeout_ms != 0 && dr__now_ms() - t0 >= (int64_t)p->timeout_ms &&
                st.postcopy_requests == 0) {
                aborted = virDomainAbortJob(d) == 0;
                if (!aborted) {
                    dr__vm_error_quiet(vm->name);
                }
            }
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000L};
            nanosleep(&ts, NULL);
        }
        virDomainFree(d);
        virConnectClose(c);
        if (rc == 0 && !st.active) {
            return true;
        }
    }
    return false;
}

/*
 * A peer-to-peer migration of a persistent domain undefines it on the source, and its completed
 * job statistics go with it: the destination keeps them (total time, downtime, bytes).
 */
static int
read_dest_stats(const struct dr_vm *vm, const char *dest_uri, struct dr_vm_job_stats *out)
{
    virConnectPtr c = virConnectOpen(dest_uri);
    virDomainPtr d;
    int rc;

    if (c == NULL) {
        return dr__vm_error_quiet(dest_uri);
    }
    d = virDomainLookupByUUIDString(c, vm->uuid);
    if (d == NULL) {
        rc = dr__vm_error_quiet(vm->name);
    } else {
        rc = read_job_stats(d, vm->name,
                            VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED,
                            true, out);
        virDomainFree(d);
    }
    virConnectClose(c);
    return rc;
}

/*
 * The switch to post-copy, watched from both ends. Neither libvirtd keeps the downtime of a
 * post-copy migration: the source's completed statistics leave with the domain (undefined
 * there), and the destination's job ends without statistics. So the downtime is measured here:
 * from the moment the source is seen paused (libvirt's SUSPENDED_POSTCOPY, the vCPUs stopped) to
 * the moment the destination is seen running (RESUMED_POSTCOPY), polling both domains' states
 * every SWITCH_POLL_MS. The agent has no event loop; these states change on the same QEMU events
 * that libvirt's lifecycle events report.
 */
#define SWITCH_POLL_MS 2
#define SWITCH_WATCH_MS 10000

struct switch_watch {
    virConnectPtr dconn;
    virDomainPtr ddom;
};

/* Before the migration starts: a connection of our own to the destination, so that the switch
 * (when it comes) only has to look the incoming domain up there. Opened early because a
 * connection made at the switch took up to tens of seconds on a loaded machine, and held the
 * switch back meanwhile. */
static void
switch_watch_connect(struct switch_watch *sw, const char *dest_uri)
{
    memset(sw, 0, sizeof(*sw));
    sw->dconn = virConnectOpen(dest_uri);
    if (sw->dconn == NULL) {
        dr__vm_error_quiet(dest_uri);
    }
}

/* Right before the switch: the destination's domain. */
static void
switch_watch_lookup(struct switch_watch *sw, const struct dr_vm *vm)
{
    if (sw->dconn != NULL && sw->ddom == NULL) {
        sw->ddom = virDomainLookupByUUIDString(sw->dconn, vm->uuid);
        if (sw->ddom == NULL) {
            dr__vm_error_quiet(vm->name);
        }
    }
}

static void
switch_watch_close(struct switch_watch *sw)
{
    if (sw->ddom != NULL) {
        virDomainFree(sw->ddom);
    }
    if (sw->dconn != NULL) {
        virConnectClose(sw->dconn);
    }
    memset(sw, 0, sizeof(*sw));
}

/* The watcher's libvirt calls are quick (a few ms); one that takes seconds holds the policy
 * back (a post-copy switch or an abort comes late), so it is said, with what it was. */
#define SLOW_CALL_MS 1000

static void
note_slow_call(const struct dr_vm *vm, const char *call, int64_t t0)
{
    int64_t ms = dr__now_ms() - t0;

    if (ms >= SLOW_CALL_MS) {
        dr_warn("VM %s: %s took %lld ms: the migration's policy waited for it", vm->name, call,
                (long long)ms);
    }
}

static int
domain_state(virDomainPtr dom)
{
    int state = VIR_DOMAIN_NOSTATE, reason = 0;

    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        virResetLastError();
        return -1;
    }
    return state;
}

/*
 * After virDomainMigrateStartPostCopy(): wait (at most SWITCH_WATCH_MS, and not past the
 * worker's end) for the source to pause and the destination to run. \return the downtime in ms,
 * or -1 when it could not be seen. When one round saw the source still running and the
 * destination already running, the downtime is under one round: that round's length is given.
 */
static int64_t
measure_switch(const struct switch_watch *sw, const struct dr_vm *vm, struct worker *w)
{
    int64_t end = dr__now_ms() + SWITCH_WATCH_MS;
    int64_t src_running_ms = -1, src_paused_ms = -1;
    int d_last = -2;

    if (sw->ddom == NULL) {
        return -1;
    }
    while (dr__now_ms() < end) {
        int64_t round = dr__now_ms();
        int s, d;

        if (src_paused_ms < 0) {
            s = domain_state(vm->dom);
            if (s == VIR_DOMAIN_RUNNING) {
                src_running_ms = round;
            } else if (s == VIR_DOMAIN_PAUSED) {
                src_paused_ms = dr__now_ms();
            }
        }
        d = domain_state(sw->ddom);
        if (d == VIR_DOMAIN_RUNNING) {
            int64_t now = dr__now_ms();

            if (src_paused_ms >= 0) {
                return now - src_paused_ms;
            }
            return src_running_ms >= 0 ? now - src_running_ms : -1;
        }
        if (d < 0) {
            dr_debug("VM %s: switch watch: the destination's state cannot be read", vm->name);
            return -1; /* the destination is gone: the migration failed */
        }
        if (d != d_last) {
            dr_debug("VM %s: switch watch: destination state %d, source %s", vm->name, d,
                     src_paused_ms >= 0 ? "paused" : "not seen paused");
            d_last = d;
        }
        if (worker_wait(w, dr__now_ms() + SWITCH_POLL_MS)) {
            /* The migration ended meanwhile: one last look (an upper bound, then). */
            if (src_paused_ms >= 0 && domain_state(sw->ddom) == VIR_DOMAIN_RUNNING) {
                return dr__now_ms() - src_paused_ms;
            }
            dr_debug("VM %s: switch watch: source %s, destination state %d at the end", vm->name,
                     src_paused_ms >= 0 ? "seen paused" : "not seen paused",
                     domain_state(sw->ddom));
            return -1;
        }
    }
    return -1;
}

static void
log_final(const struct dr_vm *vm, const struct dr_vm_migrate_params *p,
          const struct dr_vm_migrate_result *r)
{
    const char *dest = p->dest_name != NULL ? p->dest_name : p->dest_uri;

    if (r->downtime_measured) {
        dr_notice("VM %s migrated to %s in %llu ms: job %llu ms, downtime %llu ms (measured by "
                  "drover: source paused to destination running; libvirt gives none for "
                  "post-copy), %.1f MiB, %llu iterations%s (post-copy)",
                  vm->name, dest, (unsigned long long)r->wall_ms,
                  (unsigned long long)r->stats.elapsed_ms, (unsigned long long)r->stats.downtime_ms,
                  (double)r->stats.data_processed / MIB,
                  (unsigned long long)r->stats.memory_iteration,
                  r->stats_sampled ? " (bytes and iterations as last sampled)" : "");
        return;
    }
    if (r->postcopy && r->stats_sampled) {
        /* libvirt keeps no figures after post-copy and the switch was not seen on both nodes
         * (the destination's libvirtd can take seconds to say it runs): no downtime to give. */
        dr_notice("VM %s migrated to %s in %llu ms: job %llu ms, downtime not measured (post-copy: "
                  "libvirt gives none and the switch was not seen), %.1f MiB, %llu iterations "
                  "(as last sampled) (post-copy)",
                  vm->name, dest, (unsigned long long)r->wall_ms,
                  (unsigned long long)r->stats.elapsed_ms, (double)r->stats.data_processed / MIB,
                  (unsigned long long)r->stats.memory_iteration);
        return;
    }
    dr_notice("VM %s migrated to %s in %llu ms: job %llu ms, downtime %llu ms, %.1f MiB, "
              "%llu iterations%s%s",
              vm->name, dest, (unsigned long long)r->wall_ms,
              (unsigned long long)r->stats.elapsed_ms, (unsigned long long)r->stats.downtime_ms,
              (double)r->stats.data_processed / MIB, (unsigned long long)r->stats.memory_iteration,
              r->stats_sampled ? " (as last sampled: libvirt kept no final statistics)" : "",
              r->postcopy ? " (post-copy)" : "");
}

int
dr_vm_migrate(struct dr_vm *vm, const struct dr_vm_migrate_params *params,
              struct dr_vm_migrate_result *result)
{
    struct dr_vm_migrate_params policy;
    struct dr_vm_migrate_result res;
    struct dr_vm_job_stats last;
    struct worker w;
    struct switch_watch sw = {0};
    pthread_condattr_t ca;
    pthread_t tid;
    bool downtime_pending, abort_requested = false, abort_logged = false;
    const char *dest;
    int64_t t0, now, switch_ms = -1;
    int persistent, rc;

    if (vm == NULL || params == NULL || result == NULL) {
        return -EINVAL;
    }
    memset(result, 0, sizeof(*result));
    memset(&res, 0, sizeof(res));
    memset(&last, 0, sizeof(last));
    memset(&w, 0, sizeof(w));
    dest = params->dest_name != NULL ? params->dest_name : params->dest_uri;
    persistent = virDomainIsPersistent(vm->dom);
    if (persistent < 0) {
        return dr__vm_error(vm->name);
    }
    rc = dr__vm_migrate_build(params, persistent == 1, &w.params, &w.nparams, &w.flags);
    if (rc < 0) {
        return rc;
    }
    w.dom = vm->dom;
    w.dest_uri = params->dest_uri;
    policy = *params;
    downtime_pending = params->downtime_ms != 0;

    pthread_mutex_init(&w.lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &ca);
    pthread_condattr_destroy(&ca);

    dr_notice("VM %s: live migration to %s (%s) starting: policy %d, bandwidth %u MiB/s, "
              "downtime %u ms, %u connections, timeout %u ms",
              vm->name, dest, params->migrate_uri != NULL ? params->migrate_uri : "default",
              (int)params->policy, params->bandwidth_mib_s, params->downtime_ms,
              params->parallel > 1 ? params->parallel : 1, params->timeout_ms);
    if (policy.policy == DR_VM_MIGRATION_POSTCOPY) {
        int64_t t_call = dr__now_ms();

        switch_watch_connect(&sw, params->dest_uri);
        note_slow_call(vm, "connecting to the destination", t_call);
    }
    t0 = dr__now_ms();
    rc = pthread_create(&tid, NULL, worker_main, &w);
    if (rc != 0) {
        dr_err("VM %s: cannot start the migration thread: %s", vm->name, strerror(rc));
        rc = -rc;
        goto out;
    }

    now = t0;
    while (!worker_wait(&w, next_wake(&policy, t0, now, downtime_pending, res.postcopy))) {
        struct dr_vm_job_stats st = {0};
        bool have;

        now = dr__now_ms();
        /* The worker reports the migration's own failure; a stats failure is only a gap. */
        have = read_job_stats(vm->dom, vm->name, 0, true, &st) == 0;
        note_slow_call(vm, "reading the job statistics", now);
        if (have && st.active) {
            last = st;
            if (downtime_pending) {
                downtime_pending = false;
                if (virDomainMigrateSetMaxDowntime(vm->dom, params->downtime_ms, 0) < 0) {
                    dr__vm_error(vm->name); /* QEMU's default limit stays */
                }
            }
            if (params->progress != NULL) {
                params->progress(&st, params->opaque);
            }
            dr_debug("VM %s migrating: %llu ms, iteration %llu, %llu/%llu MiB left, dirty "
                     "%llu pages/s, %llu MiB/s, expected downtime %llu ms, throttle %u%%",
                     vm->name, (unsigned long long)st.elapsed_ms,
                     (unsigned long long)st.memory_iteration,
                     (unsigned long long)(st.data_remaining >> 20),
                     (unsigned long long)(st.data_total >> 20),
                     (unsigned long long)st.memory_dirty_rate,
                     (unsigned long long)(st.memory_bps >> 20),
                     (unsigned long long)st.expected_downtime_ms, st.auto_converge_throttle);
        }
        switch (dr_vm_migration_decide(&policy, have ? &st : NULL, (uint64_t)(now - t0),
                                       res.postcopy)) {
        case DR_VM_MIGRATION_CONTINUE:
            break;
        case DR_VM_MIGRATION_SWITCH_POSTCOPY: {
            int64_t t_call = dr__now_ms();
            int sp;

            switch_watch_lookup(&sw, vm);
            note_slow_call(vm, "looking the domain up on the destination", t_call);
            t_call = dr__now_ms();
            sp = virDomainMigrateStartPostCopy(vm->dom, 0);
            note_slow_call(vm, "virDomainMigrateStartPostCopy", t_call);
            if (sp == 0) {
                res.postcopy = true;
                dr_notice("VM %s: switched to post-copy after %lld ms (iteration %llu)", vm->name,
                          (long long)(now - t0), (unsigned long long)last.memory_iteration);
                switch_ms = measure_switch(&sw, vm, &w);
                if (switch_ms >= 0) {
                    dr_info("VM %s: post-copy switch: source paused to destination running in "
                            "%lld ms",
                            vm->name, (long long)switch_ms);
                } else {
                    dr_info("VM %s: post-copy switch not seen on both nodes: no downtime "
                            "measured",
                            vm->name);
                }
            } else {
                /* Stay with pre-copy and its timeout rather than retrying every tick. */
                dr__vm_error(vm->name);
                policy.policy = DR_VM_MIGRATION_AUTOCONVERGE;
            }
            break;
        }
        case DR_VM_MIGRATION_ABORT:
            if (abort_requested) {
                break;
            }
            if (virDomainAbortJob(vm->dom) == 0) {
                abort_requested = true;
                dr_warn("VM %s: migration to %s did not converge in %u ms: aborting it", vm->name,
                        dest, params->timeout_ms);
            } else if (!abort_logged) {
                abort_logged = true; /* retried every tick, logged once */
                dr__vm_error(vm->name);
            } else {
                dr__vm_error_quiet(vm->name);
            }
            break;
        }
    }
    pthread_join(tid, NULL);
    now = dr__now_ms();
    res.wall_ms = (uint64_t)(now - t0);

    if (w.ret == 0) {
        /* The source keeps the completed job's statistics unless the domain left with them. */
        rc = read_job_stats(vm->dom, vm->name,
                            VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED,
                            true, &res.stats);
        if (rc < 0 || res.stats.elapsed_ms == 0) {
            rc = read_dest_stats(vm, params->dest_uri, &res.stats);
        }
        if (rc < 0 || res.stats.elapsed_ms == 0) {
            res.stats = last;
            res.stats.active = false;
            res.stats.expected_downtime_ms = 0;
            res.stats_sampled = true;
        }
        if (res.postcopy && res.stats.downtime_ms == 0 && switch_ms >= 0) {
            res.stats.downtime_ms = (uint64_t)switch_ms;
            res.downtime_measured = true;
        }
        log_final(vm, params, &res);
        rc = 0;
    } else if (abort_requested && !res.postcopy &&
               (w.err_code == VIR_ERR_OPERATION_ABORTED ||
                virConnectIsAlive(vm->conn->conn) == 1)) {
        /*
         * Our abort ended it. libvirt usually says "operation aborted", but when the cut stream
         * made the destination's QEMU fail first it reports that instead ("load of migration
         * failed"): the cause and the outcome (the VM on this node) are the same. (A broken
         * connection to libvirt is not that: below, the job's end is verified.)
         */
        if (w.err_code != VIR_ERR_OPERATION_ABORTED) {
            dr_info("VM %s: after the abort libvirt said: %s", vm->name,
                    w.err_msg != NULL ? w.err_msg : "(nothing)");
        }
        res.aborted = true;
        res.stats = last;
        res.stats.active = false;
        dr_err("VM %s: migration to %s aborted after %llu ms (timeout %u ms, iteration %llu, "
               "%llu MiB left): the VM stays on this node",
               vm->name, dest, (unsigned long long)res.wall_ms, params->timeout_ms,
               (unsigned long long)last.memory_iteration,
               (unsigned long long)(last.data_remaining >> 20));
        rc = -ETIMEDOUT;
    } else {
        res.stats = last;
        res.stats.active = false;
        rc = dr__vm_report(w.err_code, w.err_msg, vm->name);
        if (res.postcopy) {
            dr_err("VM %s: post-copy migration to %s failed: the VM's memory may be split "
                   "between both nodes (libvirt can resume it with VIR_MIGRATE_POSTCOPY_RESUME)",
                   vm->name, dest);
        }
        if (virConnectIsAlive(vm->conn->conn) == 0 && !wait_job_over_reconnected(vm, params, t0)) {
            dr_err("VM %s: the connection to libvirt broke during the migration and the job's "
                   "end could not be verified: check both nodes",
                   vm->name);
        }
    }
    *result = res;
out:
    switch_watch_close(&sw);
    free(w.err_msg);
    virTypedParamsFree(w.params, w.nparams);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return rc;
}
