/*
 * Storage fencing: off removes the victim's key from every device and proves it, on registers
 * the local node, status tells whether a node's key is registered anywhere.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "drover/fence.h"
#include "log_internal.h"

/* Per-call context: keys, and whether droverd answers at all. */
struct fence_ctx {
    struct dr_fence_args *a;
    uint64_t my_key;
    uint64_t plug_key;
    bool daemon_up;
    bool abort_unsupported; /* learned once; logged once */
    bool removed;           /* this call removed the victim's key from some device */
};

static bool
is_iscsi(const char *dev)
{
    return strncmp(dev, "iscsi://", 8) == 0;
}

static int
open_dev(struct fence_ctx *c, const char *spec, struct dr_pr_device **dev)
{
    char buf[300];
    struct dr_pr_open_opts o = {0};

    o.timeout_ms = c->a->timeout_ms;
    o.initiator_iqn = dr_fence_initiator_for(c->a, c->a->local_node, buf, sizeof(buf));
    return dr_pr_open(spec, &o, dev);
}

/* Does droverd hold this device? Answers are cached per call through daemon_up. */
static bool
via_daemon(struct fence_ctx *c, const char *spec)
{
    int rc;

    if (!c->daemon_up) {
        return false;
    }
    rc = dr_daemon_has_device(c->a->ipc_name, c->a->timeout_ms, spec);
    if (rc < 0) {
        dr_warn("droverd stopped answering (%s); acting on the devices directly", dr_strerror(rc));
        c->daemon_up = false;
        return false;
    }
    return rc == 1;
}

static int
read_keys(struct fence_ctx *c, const char *spec, struct dr_pr_device *dev, bool daemon,
          struct dr_pr_keys *keys)
{
    if (daemon) {
        return dr_daemon_read_keys(c->a->ipc_name, c->a->timeout_ms, spec, keys);
    }
    return dr_pr_read_keys(dev, keys);
}

static void
log_pr_failure(const char *what, const char *spec, struct dr_pr_device *dev, int rc)
{
    char desc[200] = "";

    if (dev != NULL && rc <= -DR_E_BASE) {
        dr_pr_describe_last(dev, desc, sizeof(desc));
    }
    dr_err("%s on %s failed: %s%s%s%s", what, spec, dr_strerror(rc), desc[0] ? " (" : "", desc,
           desc[0] ? ")" : "");
}

/*
 * Make sure this nexus is registered with our key, so that it may PREEMPT (SPC-4 5.14.11.4:
 * a PREEMPT from an unregistered nexus gets RESERVATION CONFLICT). A fresh iSCSI session is
 * never registered; an SG_IO nexus is, if our key is listed.
 */
static int
ensure_registered(struct fence_ctx *c, const char *spec, struct dr_pr_device *dev,
                  const struct dr_pr_keys *keys)
{
    int rc;

    if (!is_iscsi(spec) && dr_pr_keys_contain(keys, c->my_key)) {
        return 0;
    }
    rc = dr_pr_register_ignore(dev, c->my_key, 0);
    if (rc < 0) {
        log_pr_failure("registering this node's key", spec, dev, rc);
    }
    return rc;
}

static int
preempt(struct fence_ctx *c, const char *spec, struct dr_pr_device *dev, bool daemon)
{
    bool fell_back = false;
    int rc;

    if (daemon) {
        rc = dr_daemon_preempt(c->a->ipc_name, c->a->timeout_ms, spec, c->plug_key, c->a->type,
                               !c->abort_unsupported, &fell_back);
    } else if (!c->abort_unsupported) {
        rc = dr_pr_preempt(dev, c->my_key, c->plug_key, c->a->type, true);
        if (rc == -DR_E_NOT_SUPPORTED) {
            fell_back = true;
            rc = dr_pr_preempt(dev, c->my_key, c->plug_key, c->a->type, false);
        }
    } else {
        rc = dr_pr_preempt(dev, c->my_key, c->plug_key, c->a->type, false);
    }
    if (fell_back && !c->abort_unsupported) {
        /* Said once per call: the target cannot abort the victim's queued commands. */
        dr_notice("%s rejects PREEMPT AND ABORT; fencing with PREEMPT (the victim's queued "
                  "commands are not aborted)",
                  spec);
        c->abort_unsupported = true;
    }
    if (rc < 0) {
        log_pr_failure("PREEMPT", spec, dev, rc);
    }
    return rc;
}

/*
 * Without a reservation, registrants-only types protect nothing: an unregistered node may write.
 * So after removing the victim, a reservation must exist; take it if nobody holds one.
 */
static int
ensure_reserved(struct fence_ctx *c, const char *spec, struct dr_pr_device *dev)
{
    struct dr_pr_reservation res;
    int rc = dr_pr_read_reservation(dev, &res);

    if (rc < 0) {
        log_pr_failure("READ RESERVATION", spec, dev, rc);
        return rc;
    }
    if (res.reserved) {
        return 0;
    }
    rc = dr_pr_reserve(dev, c->my_key, c->a->type);
    if (rc < 0) {
        log_pr_failure("RESERVE", spec, dev, rc);
        return rc;
    }
    dr_notice("%s: no reservation was held; reserved %s as %s", spec, dr_pr_type_name(c->a->type),
              c->a->local_node);
    return 0;
}

/*
 * Reach a device (through droverd when it holds it, else directly) and read its keys.
 * On failure nothing stays open.
 */
static int
open_and_read(struct fence_ctx *c, const char *spec, struct dr_pr_device **dev, bool *daemon,
              struct dr_pr_keys *keys)
{
    int rc;

    *dev = NULL;
    *daemon = via_daemon(c, spec);
    if (!*daemon) {
        rc = open_dev(c, spec, dev);
        if (rc < 0) {
            return rc;
        }
    }
    rc = read_keys(c, spec, *dev, *daemon, keys);
    if (rc < 0) {
        log_pr_failure("READ KEYS", spec, *dev, rc);
        dr_pr_close(*dev);
        *dev = NULL;
    }
    return rc;
}

static int
off_one(struct fence_ctx *c, const char *spec)
{
    struct dr_pr_device *dev;
    struct dr_pr_keys keys = {0};
    bool daemon;
    int rc;

    rc = open_and_read(c, spec, &dev, &daemon, &keys);
    if (rc < 0) {
        return rc;
    }
    if (!dr_pr_keys_contain(&keys, c->plug_key)) {
        dr_info("%s: key 0x%016" PRIx64 " of %s is not registered: already off", spec, c->plug_key,
                c->a->plug);
    } else {
        if (!daemon) {
            rc = ensure_registered(c, spec, dev, &keys);
            if (rc < 0) {
                goto out;
            }
        }
        rc = preempt(c, spec, dev, daemon);
        if (rc < 0) {
            goto out;
        }
        c->removed = true;
    }
    if (!daemon) {
        rc = ensure_reserved(c, spec, dev);
        if (rc < 0) {
            goto out;
        }
    }
    /* Read back: the fence counts only if the key is gone. */
    dr_pr_keys_free(&keys);
    rc = read_keys(c, spec, dev, daemon, &keys);
    if (rc < 0) {
        log_pr_failure("READ KEYS (verification)", spec, dev, rc);
        goto out;
    }
    if (dr_pr_keys_contain(&keys, c->plug_key)) {
        dr_err("%s: key 0x%016" PRIx64 " of %s is still registered after PREEMPT", spec,
               c->plug_key, c->a->plug);
        rc = -DR_E_STILL_REGISTERED;
        goto out;
    }
    dr_notice("%s: %s fenced (key 0x%016" PRIx64 " removed%s)", spec, c->a->plug, c->plug_key,
              daemon ? ", through droverd" : "");
out:
    dr_pr_keys_free(&keys);
    dr_pr_close(dev);
    return rc;
}

static int
on_one(struct fence_ctx *c, const char *spec)
{
    struct dr_pr_device *dev = NULL;
    struct dr_pr_keys keys = {0};
    int rc;

    if (is_iscsi(spec)) {
        dr_err("%s is not held by droverd: an iSCSI registration made by fence_drover alone "
               "would end with its session. Start droverd with this device.",
               spec);
        return -DR_E_DAEMON;
    }
    rc = open_dev(c, spec, &dev);
    if (rc < 0) {
        return rc;
    }
    rc = dr_pr_read_keys(dev, &keys);
    if (rc < 0) {
        log_pr_failure("READ KEYS", spec, dev, rc);
        goto out;
    }
    rc = ensure_registered(c, spec, dev, &keys);
    if (rc == 0) {
        rc = ensure_reserved(c, spec, dev);
    }
    if (rc == 0) {
        dr_notice("%s: %s unfenced (key 0x%016" PRIx64 " registered)", spec, c->a->local_node,
                  c->my_key);
    }
out:
    dr_pr_keys_free(&keys);
    dr_pr_close(dev);
    return rc;
}

/* status: is the plug's key registered? (1 on, 0 off) monitor/list: can we read at all? */
static int
read_one(struct fence_ctx *c, const char *spec, uint64_t key)
{
    struct dr_pr_device *dev;
    struct dr_pr_keys keys = {0};
    bool daemon;
    int rc;

    rc = open_and_read(c, spec, &dev, &daemon, &keys);
    if (rc < 0) {
        return rc;
    }
    rc = dr_pr_keys_contain(&keys, key) ? 1 : 0;
    dr_pr_keys_free(&keys);
    dr_pr_close(dev);
    return rc;
}

static int
run_on(struct fence_ctx *c)
{
    int rc, first = 0;
    bool daemon_done = false;

    if (c->daemon_up) {
        rc = dr_daemon_unfence(c->a->ipc_name, c->a->timeout_ms, c->a->type);
        if (rc == 0) {
            dr_notice("%s unfenced through droverd", c->a->local_node);
            daemon_done = true;
        } else {
            dr_err("droverd could not unfence %s: %s", c->a->local_node, dr_strerror(rc));
            return rc;
        }
    }
    for (size_t i = 0; i < c->a->n_devices; i++) {
        const char *spec = c->a->devices[i];
        if (daemon_done && via_daemon(c, spec)) {
            continue;
        }
        rc = on_one(c, spec);
        if (rc < 0 && first == 0) {
            first = rc;
        }
    }
    return first;
}

int
dr_fence_run(struct dr_fence_args *a, bool *off)
{
    struct fence_ctx c = {0};
    int rc, first = 0;
    size_t n_on = 0;

    if (a == NULL || a->local_node == NULL || a->cluster_name == NULL) {
        return -EINVAL;
    }
    c.a = a;
    rc = dr_pr_key_derive(a->cluster_name, a->local_node, &c.my_key);
    if (rc == 0 && a->plug != NULL) {
        rc = dr_pr_key_derive(a->cluster_name, a->plug, &c.plug_key);
    }
    if (rc < 0) {
        return rc;
    }
    if (a->use_daemon != 0) {
        struct dr_daemon_status st;
        rc = dr_daemon_status(a->ipc_name, a->timeout_ms, &st);
        c.daemon_up = rc == 0;
        if (rc < 0 && a->use_daemon == 1) {
            dr_err("use_daemon=yes but droverd is not reachable: %s", dr_strerror(rc));
            return rc;
        }
        if (c.daemon_up && st.key != c.my_key) {
            dr_err("droverd runs as node %s of cluster %s, but this call says local_node %s of "
                   "cluster %s",
                   st.node, st.cluster, a->local_node, a->cluster_name);
            return -DR_E_CONFIG;
        }
    }
    switch (a->action) {
    case DR_FENCE_ACTION_OFF:
    case DR_FENCE_ACTION_REBOOT:
        if (c.plug_key == c.my_key) {
            dr_err("refusing to fence %s: it is the node this runs on", a->plug);
            return -DR_E_SELF_FENCE;
        }
        /* Every device is attempted even after a failure: fence as much as possible. */
        for (size_t i = 0; i < a->n_devices; i++) {
            rc = off_one(&c, a->devices[i]);
            if (rc < 0 && first == 0) {
                first = rc;
            }
        }
        if (first == 0 && c.removed && a->victim_stop_ms > 0) {
            /*
             * The key is gone, but the victim's VMs run until its droverd notices (one watch
             * interval) and stops them. Pacemaker starts them elsewhere the moment this call
             * succeeds: so succeed only once the victim's bound has passed, or a VM would run on
             * two nodes for that long.
             */
            struct timespec ts = {(time_t)(a->victim_stop_ms / 1000),
                                  (long)(a->victim_stop_ms % 1000) * 1000000L};

            dr_info("%s is off the storage; waiting %u ms (victim_stop_ms) for its droverd to "
                    "stop its VMs",
                    a->plug, a->victim_stop_ms);
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
        }
        return first;
    case DR_FENCE_ACTION_ON:
        return run_on(&c);
    case DR_FENCE_ACTION_STATUS:
        for (size_t i = 0; i < a->n_devices; i++) {
            rc = read_one(&c, a->devices[i], c.plug_key);
            if (rc < 0) {
                return rc;
            }
            n_on += (size_t)rc;
        }
        if (off != NULL) {
            *off = n_on == 0;
        }
        return 0;
    case DR_FENCE_ACTION_MONITOR:
    case DR_FENCE_ACTION_LIST:
        for (size_t i = 0; i < a->n_devices; i++) {
            rc = read_one(&c, a->devices[i], c.my_key);
            if (rc < 0 && first == 0) {
                first = rc;
            }
        }
        return first;
    case DR_FENCE_ACTION_NONE:
    case DR_FENCE_ACTION_METADATA:
    case DR_FENCE_ACTION_VALIDATE_ALL:
        return 0;
    }
    return -EINVAL;
}
