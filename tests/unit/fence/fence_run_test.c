/*
 * dr_fence_run over simulated devices and a simulated droverd: the PR calls fence.c makes into
 * pr.c and its droverd client calls are wrapped (-Wl,--wrap), each recorded in order, and each
 * device keeps its registered keys and reservation so that a fence can be read back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "drover/fence.h"
#include "fence_expect.h"
#include "log_capture.h"

#define SDB "/dev/sdb"
#define SDC "/dev/sdc"
#define SDD "/dev/sdd"
#define ISCSI "iscsi://192.0.2.1/iqn.2026-11.org.drover:t1/0"
#define MAX_SIM_KEYS 8

struct sim_dev {
    const char *spec;
    uint64_t keys[MAX_SIM_KEYS];
    size_t n_keys;
    bool reserved;
    bool abort_unsupported; /* PREEMPT AND ABORT: -DR_E_NOT_SUPPORTED */
    bool preempt_ignored;   /* PREEMPT succeeds but the key stays */
    int open_rc, read_keys_rc;
    bool daemon_holds;
};

enum op {
    OP_OPEN,
    OP_CLOSE,
    OP_READ_KEYS,
    OP_REGISTER_IGNORE,
    OP_PREEMPT,
    OP_READ_RESERVATION,
    OP_RESERVE,
    OP_D_STATUS,
    OP_D_HAS,
    OP_D_READ_KEYS,
    OP_D_PREEMPT,
    OP_D_UNFENCE,
};

struct sim_call {
    enum op op;
    const struct sim_dev *dev; /* NULL for calls on no device */
    uint64_t key, sa_key;
    unsigned int type;
    bool abort;
};

static struct sim_dev devs[4];
static size_t n_devs;
static struct sim_call calls[64];
static size_t n_calls;
static char opened_iqn[256];
/* droverd: daemon_rc < 0 means absent; otherwise it runs with daemon_key. */
static int daemon_rc;
static uint64_t daemon_key;
static uint64_t my_key, victim_key;

int __wrap_dr_pr_open(const char *spec, const struct dr_pr_open_opts *opts,
                      struct dr_pr_device **out);
void __wrap_dr_pr_close(struct dr_pr_device *dev);
int __wrap_dr_pr_describe_last(const struct dr_pr_device *dev, char *buf, size_t len);
int __wrap_dr_pr_read_keys(struct dr_pr_device *dev, struct dr_pr_keys *out);
int __wrap_dr_pr_register_ignore(struct dr_pr_device *dev, uint64_t new_key, unsigned int flags);
int __wrap_dr_pr_preempt(struct dr_pr_device *dev, uint64_t key, uint64_t victim,
                         enum dr_pr_type type, bool abort);
int __wrap_dr_pr_read_reservation(struct dr_pr_device *dev, struct dr_pr_reservation *out);
int __wrap_dr_pr_reserve(struct dr_pr_device *dev, uint64_t key, enum dr_pr_type type);
int __wrap_dr_daemon_status(const char *ipc_name, unsigned int timeout_ms,
                            struct dr_daemon_status *out);
int __wrap_dr_daemon_has_device(const char *ipc_name, unsigned int timeout_ms, const char *device);
int __wrap_dr_daemon_read_keys(const char *ipc_name, unsigned int timeout_ms, const char *device,
                               struct dr_pr_keys *out);
int __wrap_dr_daemon_preempt(const char *ipc_name, unsigned int timeout_ms, const char *device,
                             uint64_t victim, enum dr_pr_type type, bool try_abort,
                             bool *fell_back);
int __wrap_dr_daemon_unfence(const char *ipc_name, unsigned int timeout_ms, enum dr_pr_type type);

static struct sim_dev *
sim_add(const char *spec)
{
    struct sim_dev *d = &devs[n_devs++];

    assert_true(n_devs <= sizeof(devs) / sizeof(devs[0]));
    memset(d, 0, sizeof(*d));
    d->spec = spec;
    return d;
}

static struct sim_dev *
sim_find(const char *spec)
{
    for (size_t i = 0; i < n_devs; i++) {
        if (strcmp(devs[i].spec, spec) == 0) {
            return &devs[i];
        }
    }
    fail_msg("no simulated device %s", spec);
    return NULL;
}

static void
sim_register(struct sim_dev *d, uint64_t key)
{
    for (size_t i = 0; i < d->n_keys; i++) {
        if (d->keys[i] == key) {
            return;
        }
    }
    assert_true(d->n_keys < MAX_SIM_KEYS);
    d->keys[d->n_keys++] = key;
}

static bool
sim_has(const struct sim_dev *d, uint64_t key)
{
    for (size_t i = 0; i < d->n_keys; i++) {
        if (d->keys[i] == key) {
            return true;
        }
    }
    return false;
}

static void
sim_remove(struct sim_dev *d, uint64_t key)
{
    for (size_t i = 0; i < d->n_keys; i++) {
        if (d->keys[i] == key) {
            d->keys[i] = d->keys[--d->n_keys];
            return;
        }
    }
}

static struct sim_call *
record(enum op op, const struct sim_dev *dev)
{
    struct sim_call *c = &calls[n_calls++];

    assert_true(n_calls <= sizeof(calls) / sizeof(calls[0]));
    memset(c, 0, sizeof(*c));
    c->op = op;
    c->dev = dev;
    return c;
}

static int
copy_keys(const struct sim_dev *d, struct dr_pr_keys *out)
{
    if (d->read_keys_rc < 0) {
        return d->read_keys_rc;
    }
    out->generation = 1;
    out->n_keys = d->n_keys;
    out->keys = NULL;
    if (d->n_keys > 0) {
        out->keys = calloc(d->n_keys, sizeof(uint64_t));
        assert_non_null(out->keys);
        memcpy(out->keys, d->keys, d->n_keys * sizeof(uint64_t));
    }
    return 0;
}

/* The simulated devices stand in for struct dr_pr_device. */
int
__wrap_dr_pr_open(const char *spec, const struct dr_pr_open_opts *opts, struct dr_pr_device **out)
{
    struct sim_dev *d = sim_find(spec);

    record(OP_OPEN, d);
    snprintf(opened_iqn, sizeof(opened_iqn), "%s",
             opts->initiator_iqn != NULL ? opts->initiator_iqn : "");
    if (d->open_rc < 0) {
        return d->open_rc;
    }
    *out = (struct dr_pr_device *)d;
    return 0;
}

void
__wrap_dr_pr_close(struct dr_pr_device *dev)
{
    if (dev != NULL) {
        record(OP_CLOSE, (struct sim_dev *)dev);
    }
}

int
__wrap_dr_pr_describe_last(const struct dr_pr_device *dev, char *buf, size_t len)
{
    (void)dev;
    snprintf(buf, len, "simulated");
    return 0;
}

int
__wrap_dr_pr_read_keys(struct dr_pr_device *dev, struct dr_pr_keys *out)
{
    struct sim_dev *d = (struct sim_dev *)dev;

    record(OP_READ_KEYS, d);
    return copy_keys(d, out);
}

int
__wrap_dr_pr_register_ignore(struct dr_pr_device *dev, uint64_t new_key, unsigned int flags)
{
    struct sim_dev *d = (struct sim_dev *)dev;

    (void)flags;
    record(OP_REGISTER_IGNORE, d)->sa_key = new_key;
    sim_register(d, new_key);
    return 0;
}

int
__wrap_dr_pr_preempt(struct dr_pr_device *dev, uint64_t key, uint64_t victim, enum dr_pr_type type,
                     bool abort)
{
    struct sim_dev *d = (struct sim_dev *)dev;
    struct sim_call *c = record(OP_PREEMPT, d);

    c->key = key;
    c->sa_key = victim;
    c->type = type;
    c->abort = abort;
    if (abort && d->abort_unsupported) {
        return -DR_E_NOT_SUPPORTED;
    }
    if (!sim_has(d, key)) {
        return -DR_E_RESERVATION_CONFLICT; /* SPC-4 5.14.11.4: an unregistered nexus */
    }
    if (!d->preempt_ignored) {
        sim_remove(d, victim);
    }
    return 0;
}

int
__wrap_dr_pr_read_reservation(struct dr_pr_device *dev, struct dr_pr_reservation *out)
{
    struct sim_dev *d = (struct sim_dev *)dev;

    record(OP_READ_RESERVATION, d);
    memset(out, 0, sizeof(*out));
    out->reserved = d->reserved;
    return 0;
}

int
__wrap_dr_pr_reserve(struct dr_pr_device *dev, uint64_t key, enum dr_pr_type type)
{
    struct sim_dev *d = (struct sim_dev *)dev;
    struct sim_call *c = record(OP_RESERVE, d);

    c->key = key;
    c->type = type;
    d->reserved = true;
    return 0;
}

int
__wrap_dr_daemon_status(const char *ipc_name, unsigned int timeout_ms, struct dr_daemon_status *out)
{
    (void)ipc_name;
    (void)timeout_ms;
    record(OP_D_STATUS, NULL);
    if (daemon_rc < 0) {
        return daemon_rc;
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->node, sizeof(out->node), "%s", daemon_key == my_key ? "node1" : "node7");
    snprintf(out->cluster, sizeof(out->cluster), "lab");
    out->key = daemon_key;
    return 0;
}

int
__wrap_dr_daemon_has_device(const char *ipc_name, unsigned int timeout_ms, const char *device)
{
    struct sim_dev *d = sim_find(device);

    (void)ipc_name;
    (void)timeout_ms;
    record(OP_D_HAS, d);
    assert_true(daemon_rc >= 0);
    return d->daemon_holds ? 1 : 0;
}

int
__wrap_dr_daemon_read_keys(const char *ipc_name, unsigned int timeout_ms, const char *device,
                           struct dr_pr_keys *out)
{
    struct sim_dev *d = sim_find(device);

    (void)ipc_name;
    (void)timeout_ms;
    record(OP_D_READ_KEYS, d);
    assert_true(d->daemon_holds);
    return copy_keys(d, out);
}

int
__wrap_dr_daemon_preempt(const char *ipc_name, unsigned int timeout_ms, const char *device,
                         uint64_t victim, enum dr_pr_type type, bool try_abort, bool *fell_back)
{
    struct sim_dev *d = sim_find(device);
    struct sim_call *c = record(OP_D_PREEMPT, d);

    (void)ipc_name;
    (void)timeout_ms;
    assert_true(d->daemon_holds);
    c->sa_key = victim;
    c->type = type;
    c->abort = try_abort;
    *fell_back = try_abort && d->abort_unsupported;
    sim_remove(d, victim);
    return 0;
}

int
__wrap_dr_daemon_unfence(const char *ipc_name, unsigned int timeout_ms, enum dr_pr_type type)
{
    (void)ipc_name;
    (void)timeout_ms;
    record(OP_D_UNFENCE, NULL)->type = type;
    for (size_t i = 0; i < n_devs; i++) {
        if (devs[i].daemon_holds) {
            sim_register(&devs[i], daemon_key);
            devs[i].reserved = true;
        }
    }
    return 0;
}

/* Calls of \p op (on \p dev, or any device when NULL). */
static size_t
count(enum op op, const struct sim_dev *dev)
{
    size_t n = 0;

    for (size_t i = 0; i < n_calls; i++) {
        if (calls[i].op == op && (dev == NULL || calls[i].dev == dev)) {
            n++;
        }
    }
    return n;
}

/* The calls recorded are exactly ops[n] (the devices are not compared). */
static void
assert_ops(const enum op *ops, size_t n)
{
    for (size_t i = 0; i < n && i < n_calls; i++) {
        if (calls[i].op != ops[i]) {
            fail_msg("call %zu is op %d, expected op %d", i, calls[i].op, ops[i]);
        }
    }
    assert_int_equal(n_calls, n);
}

static int
setup(void **state)
{
    struct dr_fence_args *a;

    n_devs = 0;
    n_calls = 0;
    opened_iqn[0] = '\0';
    daemon_rc = -DR_E_DAEMON;
    log_capture_reset();
    assert_int_equal(dr_pr_key_derive("lab", "node1", &my_key), 0);
    assert_int_equal(dr_pr_key_derive("lab", "node2", &victim_key), 0);
    daemon_key = my_key;
    if (fence_args_setup(state) != 0) {
        return -1;
    }
    a = *state;
    expect_set_ok(a, "action", "off");
    expect_set_ok(a, "local_node", "node1");
    expect_set_ok(a, "plug", "node2");
    expect_set_ok(a, "cluster_name", "lab");
    return 0;
}

/* The usual SG_IO device: both nodes registered, a reservation held. */
static struct sim_dev *
add_shared(const char *spec)
{
    struct sim_dev *d = sim_add(spec);

    sim_register(d, my_key);
    sim_register(d, victim_key);
    d->reserved = true;
    return d;
}

static void
test_bad_arguments(void **state)
{
    struct dr_fence_args *a = *state;
    char *local_node;

    assert_int_equal(dr_fence_run(NULL, NULL), -EINVAL);
    local_node = a->local_node;
    a->local_node = NULL;
    assert_int_equal(dr_fence_run(a, NULL), -EINVAL);
    a->local_node = local_node;
    free(a->cluster_name);
    a->cluster_name = NULL;
    assert_int_equal(dr_fence_run(a, NULL), -EINVAL);
    assert_int_equal(n_calls, 0);
}

static void
test_off_preempt_and_abort(void **state)
{
    static const enum op ops[] = {OP_OPEN,      OP_READ_KEYS, OP_PREEMPT, OP_READ_RESERVATION,
                                  OP_READ_KEYS, OP_CLOSE};
    struct dr_fence_args *a = *state;
    struct sim_dev *d;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "devices", SDB);
    d = add_shared(SDB);
    assert_int_equal(dr_fence_run(a, NULL), 0);
    assert_ops(ops, sizeof(ops) / sizeof(ops[0]));
    /* SPC-4 5.14.11: PREEMPT AND ABORT from our key, naming the victim's. */
    assert_true(calls[2].abort);
    assert_int_equal(calls[2].key, my_key);
    assert_int_equal(calls[2].sa_key, victim_key);
    assert_int_equal(calls[2].type, DR_PR_TYPE_WRITE_EXCLUSIVE_RO);
    assert_false(sim_has(d, victim_key));
    assert_true(sim_has(d, my_key));
    assert_int_equal(log_capture_count(LOG_NOTICE, "/dev/sdb: node2 fenced"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "rejects PREEMPT AND ABORT"), 0);
}

static void
test_off_falls_back_to_preempt_once(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d[3];

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "devices", SDB " " SDC " " SDD);
    d[0] = add_shared(SDB);
    d[1] = add_shared(SDC);
    d[2] = add_shared(SDD);
    for (int i = 0; i < 3; i++) {
        d[i]->abort_unsupported = true;
    }
    assert_int_equal(dr_fence_run(a, NULL), 0);
    /* Learnt on the first device: the others get PREEMPT at once. */
    assert_int_equal(count(OP_PREEMPT, d[0]), 2);
    assert_int_equal(count(OP_PREEMPT, d[1]), 1);
    assert_int_equal(count(OP_PREEMPT, d[2]), 1);
    for (size_t i = 0, seen = 0; i < n_calls; i++) {
        if (calls[i].op == OP_PREEMPT) {
            assert_int_equal(calls[i].abort, seen == 0);
            seen++;
        }
    }
    for (int i = 0; i < 3; i++) {
        assert_false(sim_has(d[i], victim_key));
    }
    assert_int_equal(log_capture_count(LOG_NOTICE, "rejects PREEMPT AND ABORT"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "/dev/sdb rejects PREEMPT AND ABORT"), 1);
}

static void
test_off_key_survives(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "devices", SDB);
    d = add_shared(SDB);
    d->preempt_ignored = true;
    assert_int_equal(dr_fence_run(a, NULL), -DR_E_STILL_REGISTERED);
    assert_int_equal(count(OP_PREEMPT, d), 1);
    assert_int_equal(count(OP_READ_KEYS, d), 2);
    assert_int_equal(count(OP_CLOSE, d), 1);
    assert_int_equal(log_capture_count(LOG_ERR, "is still registered after PREEMPT"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "fenced"), 0);
}

static void
test_off_already_off(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "devices", SDB);
    d = sim_add(SDB);
    sim_register(d, my_key);
    d->reserved = true;
    assert_int_equal(dr_fence_run(a, NULL), 0);
    assert_int_equal(count(OP_PREEMPT, NULL), 0);
    assert_int_equal(count(OP_REGISTER_IGNORE, NULL), 0);
    assert_int_equal(count(OP_RESERVE, NULL), 0);
    assert_int_equal(count(OP_READ_KEYS, d), 2);
    assert_int_equal(log_capture_count(LOG_INFO, "is not registered: already off"), 1);
}

static void
test_off_takes_missing_reservation(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "devices", SDB);
    expect_set_ok(a, "reservation_type", "earo");
    d = add_shared(SDB);
    d->reserved = false;
    assert_int_equal(dr_fence_run(a, NULL), 0);
    assert_int_equal(count(OP_RESERVE, d), 1);
    for (size_t i = 0; i < n_calls; i++) {
        if (calls[i].op == OP_RESERVE) {
            assert_int_equal(calls[i].key, my_key);
            assert_int_equal(calls[i].type, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO);
        }
        if (calls[i].op == OP_PREEMPT) {
            assert_int_equal(calls[i].type, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO);
        }
    }
    assert_true(d->reserved);
    assert_int_equal(log_capture_count(LOG_NOTICE, "no reservation was held"), 1);
}

static void
test_self_fence_refused(void **state)
{
    struct dr_fence_args *a = *state;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "devices", SDB);
    expect_set_ok(a, "plug", "node1");
    add_shared(SDB);
    assert_int_equal(dr_fence_run(a, NULL), -DR_E_SELF_FENCE);
    assert_int_equal(n_calls, 0);
    /* reboot is off first: refused the same way. */
    expect_set_ok(a, "action", "reboot");
    assert_int_equal(dr_fence_run(a, NULL), -DR_E_SELF_FENCE);
    assert_int_equal(n_calls, 0);
}

static void
test_every_device_attempted(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d[3];

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "devices", SDB " " SDC " " SDD);
    d[0] = add_shared(SDB);
    d[0]->open_rc = -ENOENT;
    d[1] = add_shared(SDC);
    d[1]->read_keys_rc = -DR_E_TRANSPORT;
    d[2] = add_shared(SDD);
    assert_int_equal(dr_fence_run(a, NULL), -ENOENT);
    assert_int_equal(count(OP_OPEN, d[0]), 1);
    assert_int_equal(count(OP_CLOSE, d[0]), 0);
    assert_int_equal(count(OP_READ_KEYS, d[1]), 1);
    assert_int_equal(count(OP_CLOSE, d[1]), 1);
    assert_int_equal(count(OP_PREEMPT, d[1]), 0);
    assert_int_equal(count(OP_PREEMPT, d[2]), 1);
    assert_false(sim_has(d[2], victim_key));
    assert_int_equal(log_capture_count(LOG_ERR, "READ KEYS on /dev/sdc failed"), 1);
}

static void
test_iscsi_off_registers_first(void **state)
{
    static const enum op ops[] = {OP_D_STATUS,        OP_OPEN,    OP_READ_KEYS,
                                  OP_REGISTER_IGNORE, OP_PREEMPT, OP_READ_RESERVATION,
                                  OP_READ_KEYS,       OP_CLOSE};
    struct dr_fence_args *a = *state;
    struct sim_dev *d;

    expect_set_ok(a, "devices", ISCSI);
    /* Our key is listed, but for the session of droverd or of an earlier call, not ours. */
    d = add_shared(ISCSI);
    assert_int_equal(dr_fence_run(a, NULL), 0);
    assert_ops(ops, sizeof(ops) / sizeof(ops[0]));
    /* A fresh iSCSI session is unregistered: REGISTER AND IGNORE before PREEMPT. */
    assert_int_equal(calls[3].sa_key, my_key);
    assert_int_equal(calls[4].key, my_key);
    assert_string_equal(opened_iqn, "iqn.2026-11.org.drover:node1");
    assert_false(sim_has(d, victim_key));
}

static void
test_on_iscsi_needs_daemon(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *iscsi, *sdb;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "action", "on");
    expect_set_ok(a, "plug", "node1");
    expect_set_ok(a, "devices", ISCSI " " SDB);
    iscsi = sim_add(ISCSI);
    sdb = sim_add(SDB);
    assert_int_equal(dr_fence_run(a, NULL), -DR_E_DAEMON);
    /* The iSCSI device is not even opened; the SG_IO device is still unfenced. */
    assert_int_equal(count(OP_OPEN, iscsi), 0);
    assert_int_equal(count(OP_REGISTER_IGNORE, sdb), 1);
    assert_int_equal(count(OP_RESERVE, sdb), 1);
    assert_true(sim_has(sdb, my_key));
    assert_int_equal(log_capture_count(LOG_ERR, "is not held by droverd"), 1);
}

static void
test_on_sgio_already_registered(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "action", "on");
    expect_set_ok(a, "devices", SDB);
    d = add_shared(SDB);
    assert_int_equal(dr_fence_run(a, NULL), 0);
    /* An SG_IO registration belongs to the host: listed means registered. */
    assert_int_equal(count(OP_REGISTER_IGNORE, d), 0);
    assert_int_equal(count(OP_RESERVE, d), 0);
    assert_int_equal(count(OP_CLOSE, d), 1);
}

static void
test_on_through_daemon(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *iscsi, *sdb;

    expect_set_ok(a, "action", "on");
    expect_set_ok(a, "plug", "node1");
    expect_set_ok(a, "reservation_type", "wear");
    expect_set_ok(a, "devices", ISCSI " " SDB);
    daemon_rc = 0;
    iscsi = sim_add(ISCSI);
    iscsi->daemon_holds = true;
    sdb = sim_add(SDB);
    assert_int_equal(dr_fence_run(a, NULL), 0);
    assert_int_equal(calls[0].op, OP_D_STATUS);
    assert_int_equal(calls[1].op, OP_D_UNFENCE);
    assert_int_equal(calls[1].type, DR_PR_TYPE_WRITE_EXCLUSIVE_AR);
    assert_true(sim_has(iscsi, my_key));
    assert_int_equal(count(OP_OPEN, iscsi), 0);
    /* What droverd does not hold is unfenced directly. */
    assert_int_equal(count(OP_OPEN, sdb), 1);
    assert_true(sim_has(sdb, my_key));
    assert_int_equal(log_capture_count(LOG_NOTICE, "node1 unfenced through droverd"), 1);
}

static void
test_off_through_daemon(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d[2];

    expect_set_ok(a, "devices", ISCSI " iscsi://192.0.2.2/iqn.2026-11.org.drover:t2/0");
    daemon_rc = 0;
    d[0] = add_shared(ISCSI);
    d[1] = add_shared("iscsi://192.0.2.2/iqn.2026-11.org.drover:t2/0");
    for (int i = 0; i < 2; i++) {
        d[i]->daemon_holds = true;
        d[i]->abort_unsupported = true;
    }
    assert_int_equal(dr_fence_run(a, NULL), 0);
    assert_int_equal(count(OP_OPEN, NULL), 0);
    assert_int_equal(count(OP_D_READ_KEYS, d[0]), 2);
    assert_int_equal(count(OP_D_PREEMPT, NULL), 2);
    for (size_t i = 0, seen = 0; i < n_calls; i++) {
        if (calls[i].op == OP_D_PREEMPT) {
            /* droverd fell back on the first: the second is not asked to abort. */
            assert_int_equal(calls[i].abort, seen == 0);
            assert_int_equal(calls[i].sa_key, victim_key);
            seen++;
        }
    }
    assert_false(sim_has(d[0], victim_key));
    assert_false(sim_has(d[1], victim_key));
    assert_int_equal(log_capture_count(LOG_NOTICE, "rejects PREEMPT AND ABORT"), 1);
    assert_int_equal(log_capture_count(LOG_NOTICE, "removed, through droverd"), 2);
}

static void
test_status(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *sdb, *sdc;
    bool off = true;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "action", "status");
    expect_set_ok(a, "devices", SDB " " SDC);
    sdb = sim_add(SDB);
    sdc = add_shared(SDC);
    /* On one device of two: on. */
    assert_int_equal(dr_fence_run(a, &off), 0);
    assert_false(off);
    assert_int_equal(count(OP_PREEMPT, NULL) + count(OP_RESERVE, NULL), 0);
    sim_remove(sdc, victim_key);
    assert_int_equal(dr_fence_run(a, &off), 0);
    assert_true(off);
    /* A device that cannot be read: an error, and no answer. */
    sdb->read_keys_rc = -DR_E_TRANSPORT;
    off = false;
    assert_int_equal(dr_fence_run(a, &off), -DR_E_TRANSPORT);
    assert_false(off);
    /* off is optional. */
    sdb->read_keys_rc = 0;
    assert_int_equal(dr_fence_run(a, NULL), 0);
}

static void
test_monitor(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *sdb, *sdc;

    expect_set_ok(a, "use_daemon", "no");
    expect_set_ok(a, "action", "monitor");
    expect_set_ok(a, "devices", SDB " " SDC);
    sdb = sim_add(SDB);
    sdb->open_rc = -EACCES;
    sdc = sim_add(SDC);
    assert_int_equal(dr_fence_run(a, NULL), -EACCES);
    assert_int_equal(count(OP_READ_KEYS, sdc), 1);
    sdb->open_rc = 0;
    assert_int_equal(dr_fence_run(a, NULL), 0);
}

static void
test_daemon_of_another_node(void **state)
{
    struct dr_fence_args *a = *state;

    expect_set_ok(a, "devices", SDB);
    add_shared(SDB);
    daemon_rc = 0;
    assert_int_equal(dr_pr_key_derive("lab", "node7", &daemon_key), 0);
    assert_int_equal(dr_fence_run(a, NULL), -DR_E_CONFIG);
    assert_int_equal(n_calls, 1);
    assert_int_equal(calls[0].op, OP_D_STATUS);
    assert_int_equal(log_capture_count(LOG_ERR, "droverd runs as node node7 of cluster lab"), 1);
}

static void
test_daemon_required_but_absent(void **state)
{
    struct dr_fence_args *a = *state;
    struct sim_dev *d;

    expect_set_ok(a, "devices", SDB);
    d = add_shared(SDB);
    expect_set_ok(a, "use_daemon", "yes");
    assert_int_equal(dr_fence_run(a, NULL), -DR_E_DAEMON);
    assert_int_equal(n_calls, 1);
    assert_true(sim_has(d, victim_key));
    /* auto: without droverd, the devices are fenced directly. */
    expect_set_ok(a, "use_daemon", "auto");
    n_calls = 0;
    assert_int_equal(dr_fence_run(a, NULL), 0);
    assert_int_equal(calls[0].op, OP_D_STATUS);
    assert_int_equal(count(OP_D_HAS, NULL), 0);
    assert_false(sim_has(d, victim_key));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_off_preempt_and_abort, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_off_falls_back_to_preempt_once, setup,
                                        fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_off_key_survives, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_off_already_off, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_off_takes_missing_reservation, setup,
                                        fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_self_fence_refused, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_every_device_attempted, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_iscsi_off_registers_first, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_on_iscsi_needs_daemon, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_on_sgio_already_registered, setup,
                                        fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_on_through_daemon, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_off_through_daemon, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_monitor, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_daemon_of_another_node, setup, fence_args_teardown),
        cmocka_unit_test_setup_teardown(test_daemon_required_but_absent, setup,
                                        fence_args_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
