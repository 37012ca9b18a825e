/*
 * dr_vm_migrate with the libvirt migration calls wrapped: the flags and typed parameters it
 * passes, the watcher applying the policy (abort at the timeout, post-copy switch, never an
 * abort once in post-copy), the final statistics, and no return while the job still runs.
 * The domain handle is the test driver's "test"; virDomainMigrateToURI3 is a simulated job.
 * The destination (virConnectOpen of a qemu+tcp:// URI) is the test driver too, and both ends'
 * states (virDomainGetState) follow a simulated post-copy switch: the source pauses, then after
 * the downtime the destination runs. As in the lab (libvirt 9.0), a post-copy migration may
 * leave no completed statistics on either end: then the downtime is drover's measurement.
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_capture.h"
#include "util_internal.h"

int __wrap_virDomainMigrateToURI3(virDomainPtr dom, const char *dconnuri,
                                  virTypedParameterPtr params, unsigned int nparams,
                                  unsigned int flags);
int __wrap_virDomainGetJobStats(virDomainPtr dom, int *type, virTypedParameterPtr *params,
                                int *nparams, unsigned int flags);
int __wrap_virDomainMigrateStartPostCopy(virDomainPtr dom, unsigned int flags);
int __wrap_virDomainAbortJob(virDomainPtr dom);
int __wrap_virDomainMigrateSetMaxDowntime(virDomainPtr dom, unsigned long long downtime,
                                          unsigned int flags);
virErrorPtr __wrap_virGetLastError(void);
virErrorPtr __real_virGetLastError(void);
virConnectPtr __wrap_virConnectOpen(const char *name);
virConnectPtr __real_virConnectOpen(const char *name);
int __wrap_virDomainGetState(virDomainPtr dom, int *state, int *reason, unsigned int flags);

enum outcome {
    CONVERGE_AFTER_MS, /* completes on its own after sim.run_ms */
    NEVER_CONVERGE,    /* runs until aborted (or switched to post-copy) */
    FAIL_AT_ONCE,      /* fails with VIR_ERR_OPERATION_FAILED */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    enum outcome outcome;
    unsigned int run_ms;
    unsigned int postcopy_run_ms; /* after a switch, the job ends this much later */
    /* what dr_vm_migrate asked */
    char dconnuri[128];
    char uri[128];
    unsigned long long bandwidth, bandwidth_postcopy, downtime;
    int parallel;
    bool has_uri, has_bw, has_bw_postcopy, has_parallel;
    unsigned int flags;
    unsigned int n_abort, n_postcopy, n_stats, n_completed_stats, n_downtime;
    bool running, aborted, postcopy, on_target;
    bool abort_reports_dest_error; /* the aborted job ends with the destination's error */
    /* the destination and the post-copy switch */
    bool dest_unreachable;
    enum { STATS_BOTH, STATS_DEST_ONLY, STATS_NONE } completed; /* who keeps completed stats */
    unsigned int pause_after_ms, switch_downtime_ms;
    int64_t switch_at_ms;
    virConnectPtr dest_conns[8];
    unsigned int n_dest_conns, n_dest_states;
} sim = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* The simulated libvirt error of the migration thread. */
static __thread virError fake_error;
static __thread bool fake_error_set;

virErrorPtr
__wrap_virGetLastError(void)
{
    if (fake_error_set) {
        fake_error_set = false;
        return &fake_error;
    }
    return __real_virGetLastError();
}

static void
set_error(int code, const char *msg)
{
    memset(&fake_error, 0, sizeof(fake_error));
    fake_error.code = code;
    fake_error.message = (char *)msg;
    fake_error_set = true;
}

/* Connections to "the destination" are the test driver's too; they are remembered as such. */
virConnectPtr
__wrap_virConnectOpen(const char *name)
{
    virConnectPtr c;

    if (strncmp(name, "qemu+tcp://", 11) != 0) {
        return __real_virConnectOpen(name);
    }
    pthread_mutex_lock(&sim.lock);
    if (sim.dest_unreachable) {
        pthread_mutex_unlock(&sim.lock);
        set_error(VIR_ERR_SYSTEM_ERROR, "unable to connect to server: Connection refused");
        return NULL;
    }
    c = __real_virConnectOpen("test:///default");
    assert_non_null(c);
    assert_true(sim.n_dest_conns < 8);
    sim.dest_conns[sim.n_dest_conns++] = c;
    pthread_mutex_unlock(&sim.lock);
    return c;
}

/* Callers hold sim.lock. */
static bool
on_dest(virDomainPtr dom)
{
    virConnectPtr c = virDomainGetConnect(dom);

    for (unsigned int i = 0; i < sim.n_dest_conns; i++) {
        if (sim.dest_conns[i] == c) {
            return true;
        }
    }
    return false;
}

/* The source runs until pause_after_ms after the switch; the destination after the downtime. */
int
__wrap_virDomainGetState(virDomainPtr dom, int *state, int *reason, unsigned int flags)
{
    int64_t t;

    assert_int_equal(flags, 0);
    pthread_mutex_lock(&sim.lock);
    t = sim.switch_at_ms != 0 ? dr__now_ms() - sim.switch_at_ms : -1;
    if (on_dest(dom)) {
        sim.n_dest_states++;
        if (t >= (int64_t)sim.pause_after_ms + sim.switch_downtime_ms || sim.on_target) {
            *state = VIR_DOMAIN_RUNNING;
            *reason = sim.on_target ? VIR_DOMAIN_RUNNING_MIGRATED : VIR_DOMAIN_RUNNING_POSTCOPY;
        } else {
            *state = VIR_DOMAIN_PAUSED;
            *reason = VIR_DOMAIN_PAUSED_MIGRATION;
        }
    } else if (t >= (int64_t)sim.pause_after_ms) {
        *state = VIR_DOMAIN_PAUSED;
        *reason = VIR_DOMAIN_PAUSED_POSTCOPY;
    } else {
        *state = VIR_DOMAIN_RUNNING;
        *reason = VIR_DOMAIN_RUNNING_MIGRATION_CANCELED;
    }
    pthread_mutex_unlock(&sim.lock);
    return 0;
}

static int64_t
deadline_after(unsigned int ms, struct timespec *ts)
{
    int64_t at = dr__now_ms() + ms;

    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
    return at;
}

int
__wrap_virDomainMigrateToURI3(virDomainPtr dom, const char *dconnuri, virTypedParameterPtr params,
                              unsigned int nparams, unsigned int flags)
{
    const char *uri = NULL;
    struct timespec ts;
    int ret = 0;

    (void)dom;
    pthread_mutex_lock(&sim.lock);
    snprintf(sim.dconnuri, sizeof(sim.dconnuri), "%s", dconnuri);
    sim.flags = flags;
    sim.has_uri = virTypedParamsGetString(params, (int)nparams, VIR_MIGRATE_PARAM_URI, &uri) == 1;
    if (uri != NULL) {
        snprintf(sim.uri, sizeof(sim.uri), "%s", uri);
    }
    sim.has_bw = virTypedParamsGetULLong(params, (int)nparams, VIR_MIGRATE_PARAM_BANDWIDTH,
                                         &sim.bandwidth) == 1;
    sim.has_bw_postcopy =
        virTypedParamsGetULLong(params, (int)nparams, VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY,
                                &sim.bandwidth_postcopy) == 1;
    sim.has_parallel =
        virTypedParamsGetInt(params, (int)nparams, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                             &sim.parallel) == 1;
    sim.running = true;
    if (sim.outcome == FAIL_AT_ONCE) {
        sim.running = false;
        pthread_mutex_unlock(&sim.lock);
        set_error(VIR_ERR_OPERATION_FAILED, "operation failed: migration out job: unexpectedly "
                                            "failed");
        return -1;
    }
    deadline_after(sim.outcome == CONVERGE_AFTER_MS ? sim.run_ms : 3600000u, &ts);
    while (!sim.aborted && !sim.postcopy) {
        if (pthread_cond_timedwait(&sim.cond, &sim.lock, &ts) != 0) {
            break; /* converged */
        }
    }
    if (sim.postcopy) {
        deadline_after(sim.postcopy_run_ms, &ts);
        while (pthread_cond_timedwait(&sim.cond, &sim.lock, &ts) == 0) {
        }
    }
    if (sim.aborted && !sim.postcopy) {
        ret = -1;
    } else {
        sim.on_target = true;
    }
    sim.running = false;
    pthread_mutex_unlock(&sim.lock);
    if (ret < 0 && sim.abort_reports_dest_error) {
        set_error(VIR_ERR_INTERNAL_ERROR, "internal error: qemu unexpectedly closed the monitor: "
                                          "check_section_footer: Read section footer failed: -5");
    } else if (ret < 0) {
        set_error(VIR_ERR_OPERATION_ABORTED,
                  "operation aborted: job 'migration out' canceled by client");
    }
    return ret;
}

int
__wrap_virDomainGetJobStats(virDomainPtr dom, int *type, virTypedParameterPtr *params, int *nparams,
                            unsigned int flags)
{
    int max = 0;

    *params = NULL;
    *nparams = 0;
    pthread_mutex_lock(&sim.lock);
    if (flags & VIR_DOMAIN_JOB_STATS_COMPLETED) {
        bool dest = on_dest(dom);

        sim.n_completed_stats++;
        if (!dest && sim.on_target && sim.completed != STATS_BOTH) {
            /* Migrated away and undefined here: the domain is gone with its statistics. */
            pthread_mutex_unlock(&sim.lock);
            set_error(VIR_ERR_NO_DOMAIN, "Domain not found: no domain with matching uuid");
            return -1;
        }
        *type = sim.on_target && (sim.completed != STATS_NONE || !dest) ? VIR_DOMAIN_JOB_COMPLETED
                                                                        : VIR_DOMAIN_JOB_NONE;
        if (*type == VIR_DOMAIN_JOB_COMPLETED) {
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_TIME_ELAPSED, 321);
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_DOWNTIME, 42);
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                    96ull << 20);
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_MEMORY_ITERATION, 3);
        }
    } else {
        sim.n_stats++;
        *type = sim.running ? VIR_DOMAIN_JOB_UNBOUNDED : VIR_DOMAIN_JOB_NONE;
        if (sim.running) {
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_TIME_ELAPSED, 100);
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_DATA_TOTAL, 512ull << 20);
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_DATA_REMAINING,
                                    200ull << 20);
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_DOWNTIME, 900);
            virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_MEMORY_ITERATION, 9);
            virTypedParamsAddInt(params, nparams, &max, VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE, 30);
        }
    }
    pthread_mutex_unlock(&sim.lock);
    return 0;
}

int
__wrap_virDomainMigrateStartPostCopy(virDomainPtr dom, unsigned int flags)
{
    (void)dom;
    assert_int_equal(flags, 0);
    pthread_mutex_lock(&sim.lock);
    sim.n_postcopy++;
    sim.postcopy = true;
    sim.switch_at_ms = dr__now_ms();
    pthread_cond_broadcast(&sim.cond);
    pthread_mutex_unlock(&sim.lock);
    return 0;
}

int
__wrap_virDomainAbortJob(virDomainPtr dom)
{
    (void)dom;
    pthread_mutex_lock(&sim.lock);
    sim.n_abort++;
    sim.aborted = true;
    pthread_cond_broadcast(&sim.cond);
    pthread_mutex_unlock(&sim.lock);
    return 0;
}

int
__wrap_virDomainMigrateSetMaxDowntime(virDomainPtr dom, unsigned long long downtime,
                                      unsigned int flags)
{
    (void)dom;
    (void)flags;
    pthread_mutex_lock(&sim.lock);
    assert_true(sim.running); /* only once the job exists */
    sim.n_downtime++;
    sim.downtime = downtime;
    pthread_mutex_unlock(&sim.lock);
    return 0;
}

static struct dr_vm_conn *the_conn;
static unsigned int n_progress;
static struct dr_vm_job_stats last_progress;

static void
progress(const struct dr_vm_job_stats *st, void *opaque)
{
    assert_ptr_equal(opaque, &n_progress);
    n_progress++;
    last_progress = *st;
}

static int
setup(void **state)
{
    struct dr_vm *vm = NULL;

    assert_int_equal(dr_vm_conn_open("test:///default", &the_conn), 0);
    assert_int_equal(dr_vm_lookup(the_conn, "test", &vm), 0);
    *state = vm;
    pthread_mutex_lock(&sim.lock);
    memset((char *)&sim + offsetof(__typeof__(sim), outcome), 0,
           sizeof(sim) - offsetof(__typeof__(sim), outcome));
    pthread_mutex_unlock(&sim.lock);
    n_progress = 0;
    memset(&last_progress, 0, sizeof(last_progress));
    log_capture_reset();
    return 0;
}

static int
teardown(void **state)
{
    dr_vm_free(*state);
    dr_vm_conn_close(the_conn);
    return 0;
}

static struct dr_vm_migrate_params
base_params(void)
{
    struct dr_vm_migrate_params p;

    memset(&p, 0, sizeof(p));
    p.dest_uri = "qemu+tcp://10.251.71.2/system";
    p.dest_name = "node2";
    p.progress = progress;
    p.opaque = &n_progress;
    p.progress_interval_ms = 50;
    return p;
}

static void
test_bad_args(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    assert_int_equal(dr_vm_migrate(NULL, &p, &r), -EINVAL);
    assert_int_equal(dr_vm_migrate(*state, NULL, &r), -EINVAL);
    assert_int_equal(dr_vm_migrate(*state, &p, NULL), -EINVAL);
    p.dest_uri = NULL;
    assert_int_equal(dr_vm_migrate(*state, &p, &r), -EINVAL);
    p = base_params();
    p.policy = (enum dr_vm_migration_policy)7;
    assert_int_equal(dr_vm_migrate(*state, &p, &r), -EINVAL);
    assert_false(sim.running || sim.on_target);
    assert_int_equal(sim.dconnuri[0], '\0'); /* libvirt never asked */
}

static void
test_converges_with_params(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    p.migrate_uri = "tcp://10.251.72.2";
    p.policy = DR_VM_MIGRATION_AUTOCONVERGE;
    p.bandwidth_mib_s = 110;
    p.downtime_ms = 100;
    p.parallel = 4;
    p.timeout_ms = 10000;
    sim.outcome = CONVERGE_AFTER_MS;
    sim.run_ms = 300;

    assert_int_equal(dr_vm_migrate(*state, &p, &r), 0);
    assert_string_equal(sim.dconnuri, "qemu+tcp://10.251.71.2/system");
    assert_true(sim.has_uri);
    assert_string_equal(sim.uri, "tcp://10.251.72.2");
    assert_true(sim.has_bw);
    assert_int_equal(sim.bandwidth, 110);
    assert_false(sim.has_bw_postcopy);
    assert_true(sim.has_parallel);
    assert_int_equal(sim.parallel, 4);
    assert_int_equal(sim.flags &
                         (VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_AUTO_CONVERGE |
                          VIR_MIGRATE_PARALLEL | VIR_MIGRATE_PERSIST_DEST |
                          VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_ABORT_ON_ERROR),
                     VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_AUTO_CONVERGE |
                         VIR_MIGRATE_PARALLEL | VIR_MIGRATE_PERSIST_DEST |
                         VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_ABORT_ON_ERROR);
    assert_int_equal(sim.flags & (VIR_MIGRATE_POSTCOPY | VIR_MIGRATE_TUNNELLED |
                                  VIR_MIGRATE_UNSAFE | VIR_MIGRATE_OFFLINE),
                     0);
    assert_int_equal(sim.n_downtime, 1);
    assert_int_equal(sim.downtime, 100);
    assert_true(n_progress >= 2);
    assert_true(last_progress.active);
    assert_int_equal(last_progress.memory_iteration, 9);
    assert_int_equal(last_progress.expected_downtime_ms, 900);
    assert_int_equal(last_progress.data_remaining, 200ull << 20);
    assert_int_equal(last_progress.auto_converge_throttle, 30);
    assert_int_equal(sim.n_abort, 0);
    assert_int_equal(sim.n_postcopy, 0);
    assert_false(sim.running);
    assert_false(r.aborted);
    assert_false(r.postcopy);
    assert_true(r.wall_ms >= 300);
    assert_int_equal(sim.n_completed_stats, 1);
    assert_false(r.stats.active);
    assert_int_equal(r.stats.downtime_ms, 42);
    assert_int_equal(r.stats.elapsed_ms, 321);
    assert_int_equal(r.stats.memory_iteration, 3);
    assert_int_equal(log_capture_count(LOG_NOTICE, "migrated to node2"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "downtime 42 ms, 96.0 MiB, 3 iterations"), 1);
}

static void
test_never_converges_aborted(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;
    int64_t t0 = dr__now_ms();

    p.policy = DR_VM_MIGRATION_PRECOPY;
    p.timeout_ms = 300;
    p.postcopy_after_ms = 100; /* ignored: pre-copy only */
    sim.outcome = NEVER_CONVERGE;

    assert_int_equal(dr_vm_migrate(*state, &p, &r), -ETIMEDOUT);
    assert_true(dr__now_ms() - t0 >= 300);
    assert_true(r.aborted);
    assert_false(r.postcopy);
    assert_int_equal(sim.n_abort, 1);
    assert_int_equal(sim.n_postcopy, 0);
    assert_false(sim.running); /* returned only after the job ended */
    assert_false(sim.on_target);
    assert_int_equal(
        sim.flags & (VIR_MIGRATE_AUTO_CONVERGE | VIR_MIGRATE_POSTCOPY | VIR_MIGRATE_PARALLEL), 0);
    assert_false(sim.has_uri || sim.has_bw || sim.has_parallel);
    assert_int_equal(sim.n_downtime, 0);
    assert_int_equal(r.stats.memory_iteration, 9); /* the last live figures */
    assert_int_equal(log_capture_count(LOG_ERR, "stays on this node"), 1);
    /* libvirt's "operation aborted" is the expected end, not a second error. */
    assert_int_equal(log_capture_count(LOG_ERR, "canceled by client"), 0);
}

/* The abort cut the stream and the destination's QEMU failed first: libvirt reports its error
 * instead of "operation aborted". Still our abort, with the VM on the source. */
static void
test_aborted_with_dest_error(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    p.policy = DR_VM_MIGRATION_PRECOPY;
    p.timeout_ms = 200;
    sim.outcome = NEVER_CONVERGE;
    sim.abort_reports_dest_error = true;

    assert_int_equal(dr_vm_migrate(*state, &p, &r), -ETIMEDOUT);
    assert_true(r.aborted);
    assert_int_equal(sim.n_abort, 1);
    assert_false(sim.on_target);
    assert_int_equal(log_capture_count(LOG_ERR, "stays on this node"), 1);
    assert_int_equal(log_capture_count(LOG_INFO, "after the abort libvirt said: internal error"),
                     1);
}

static void
test_postcopy_switch(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    p.policy = DR_VM_MIGRATION_POSTCOPY;
    p.bandwidth_mib_s = 100;
    p.postcopy_after_ms = 200;
    p.timeout_ms = 250;
    sim.outcome = NEVER_CONVERGE;
    sim.postcopy_run_ms = 400; /* well past the timeout: no abort in post-copy */

    assert_int_equal(dr_vm_migrate(*state, &p, &r), 0);
    assert_int_equal(sim.flags & (VIR_MIGRATE_POSTCOPY | VIR_MIGRATE_AUTO_CONVERGE),
                     VIR_MIGRATE_POSTCOPY | VIR_MIGRATE_AUTO_CONVERGE);
    assert_true(sim.has_bw_postcopy);
    assert_int_equal(sim.bandwidth_postcopy, 100);
    assert_int_equal(sim.n_postcopy, 1);
    assert_int_equal(sim.n_abort, 0);
    assert_true(r.postcopy);
    assert_false(r.aborted);
    assert_true(r.wall_ms >= 600);
    assert_true(sim.on_target);
    assert_int_equal(log_capture_count(LOG_NOTICE, "switched to post-copy"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "(post-copy)"), 1);
}

/*
 * Post-copy as the lab's libvirt 9.0 does it: no completed statistics on either end afterwards.
 * The downtime is drover's own measurement, and the log says so; bytes and iterations are the
 * last sample, and the log says that too.
 */
static void
test_postcopy_downtime_measured(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    p.policy = DR_VM_MIGRATION_POSTCOPY;
    p.postcopy_after_ms = 100;
    sim.outcome = NEVER_CONVERGE;
    sim.postcopy_run_ms = 400;
    sim.completed = STATS_NONE;
    sim.pause_after_ms = 10;
    sim.switch_downtime_ms = 80;

    assert_int_equal(dr_vm_migrate(*state, &p, &r), 0);
    assert_true(r.postcopy);
    assert_true(sim.n_dest_states >= 2); /* watched until the destination ran */
    assert_true(r.downtime_measured);
    assert_true(r.stats_sampled);
    /* The destination cannot run before the source paused: more than 0, and within the job. */
    assert_true(r.stats.downtime_ms > 0 && r.stats.downtime_ms < r.wall_ms);
    print_message("measured downtime %llu ms (simulated 80 ms)\n",
                  (unsigned long long)r.stats.downtime_ms);
    assert_int_equal(r.stats.memory_iteration, 9); /* the last live sample */
    assert_int_equal(r.stats.expected_downtime_ms, 0);
    assert_int_equal(log_capture_count(LOG_NOTICE, "(measured by drover: source paused to "
                                                   "destination running; libvirt gives none for "
                                                   "post-copy)"),
                     1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "(bytes and iterations as last sampled)"), 1);
    assert_int_equal(log_capture_count(LOG_INFO, "source paused to destination running in"), 1);
}

/* When the destination keeps libvirt's statistics, libvirt's downtime is the one reported. */
static void
test_postcopy_libvirt_downtime(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    p.policy = DR_VM_MIGRATION_POSTCOPY;
    p.postcopy_after_ms = 100;
    sim.outcome = NEVER_CONVERGE;
    sim.postcopy_run_ms = 300;
    sim.completed = STATS_DEST_ONLY;
    sim.switch_downtime_ms = 30;

    assert_int_equal(dr_vm_migrate(*state, &p, &r), 0);
    assert_true(r.postcopy);
    assert_false(r.downtime_measured);
    assert_false(r.stats_sampled);
    assert_int_equal(r.stats.downtime_ms, 42);
    assert_int_equal(r.stats.elapsed_ms, 321);
    assert_int_equal(log_capture_count(LOG_NOTICE, "downtime 42 ms, 96.0 MiB, 3 iterations "
                                                   "(post-copy)"),
                     1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "measured"), 0);
}

/* The destination unreachable for the watch: no downtime is made up, and none is claimed. */
static void
test_postcopy_switch_unseen(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    p.policy = DR_VM_MIGRATION_POSTCOPY;
    p.postcopy_after_ms = 100;
    sim.outcome = NEVER_CONVERGE;
    sim.postcopy_run_ms = 200;
    sim.completed = STATS_NONE;
    sim.dest_unreachable = true;

    assert_int_equal(dr_vm_migrate(*state, &p, &r), 0);
    assert_true(r.postcopy);
    assert_false(r.downtime_measured);
    assert_true(r.stats_sampled);
    assert_int_equal(r.stats.downtime_ms, 0);
    assert_int_equal(log_capture_count(LOG_INFO, "no downtime measured"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "downtime not measured (post-copy: libvirt "
                                                   "gives none and the switch was not seen)"),
                     1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "statistics) (post-copy)"), 0);
}

static void
test_failure_translated_once(void **state)
{
    struct dr_vm_migrate_params p = base_params();
    struct dr_vm_migrate_result r;

    p.timeout_ms = 1000;
    sim.outcome = FAIL_AT_ONCE;
    assert_int_equal(dr_vm_migrate(*state, &p, &r), -DR_E_LIBVIRT);
    assert_false(r.aborted);
    assert_int_equal(sim.n_abort, 0);
    assert_int_equal(log_capture_count(LOG_ERR, "unexpectedly failed"), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_converges_with_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_converges_aborted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aborted_with_dest_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postcopy_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postcopy_downtime_measured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postcopy_libvirt_downtime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postcopy_switch_unseen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_translated_once, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
