/*
 * Client of droverd: one connection per call, bounded in time from connect to answer.
 */
#include <errno.h>
#include <poll.h>
#include <qb/qbipcc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_proto.h"
#include "drover/error.h"
#include "log_internal.h"
#include "util_internal.h"

const char *
dr_daemon_state_name(uint32_t state)
{
    switch (state) {
    case DR_DAEMON_STATE_STARTING:
        return "starting";
    case DR_DAEMON_STATE_REGISTERED:
        return "registered";
    case DR_DAEMON_STATE_UNFENCE_PENDING:
        return "unfence-pending";
    case DR_DAEMON_STATE_FENCED:
        return "fenced";
    case DR_DAEMON_STATE_LOST:
        return "lost";
    case DR_DAEMON_STATE_NO_DEVICES:
        return "no-devices";
    default:
        return "unknown";
    }
}

/*
 * Connect without blocking: qb_ipcc_connect() waits for the server's handshake with no
 * timeout, so a stopped daemon would hang the caller. The asynchronous form lets us poll.
 */
static int
connect_bounded(const char *name, int64_t deadline, qb_ipcc_connection_t **out)
{
    qb_ipcc_connection_t *c;
    int fd = -1;
    struct pollfd pfd;
    int n;

    c = qb_ipcc_connect_async(name, DR__DAEMON_MAX_MSG, &fd);
    if (c == NULL) {
        dr_debug("droverd (%s) not reachable: %s", name, strerror(errno));
        return -DR_E_DAEMON;
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    do {
        int64_t left = deadline - dr__now_ms();
        if (left <= 0) {
            n = 0;
            break;
        }
        n = poll(&pfd, 1, (int)left);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        qb_ipcc_disconnect(c);
        dr_debug("droverd (%s) did not complete the IPC handshake in time", name);
        return -DR_E_DAEMON;
    }
    /* On failure qb_ipcc_connect_continue() has already freed the connection. */
    n = qb_ipcc_connect_continue(c);
    if (n < 0) {
        dr_debug("droverd (%s) refused the IPC handshake: %s", name, strerror(-n));
        return -DR_E_DAEMON;
    }
    *out = c;
    return 0;
}

static int
call(const char *ipc_name, unsigned int timeout_ms, struct dr__daemon_req *req,
     struct dr__daemon_res *res)
{
    const char *name = ipc_name != NULL ? ipc_name : DR_DAEMON_IPC_NAME;
    int64_t deadline = dr__now_ms() + (timeout_ms ? timeout_ms : 5000);
    qb_ipcc_connection_t *c = NULL;
    struct iovec iov;
    ssize_t n;
    int rc;

    rc = connect_bounded(name, deadline, &c);
    if (rc < 0) {
        return rc;
    }
    req->hdr.size = sizeof(*req);
    req->version = DR_DAEMON_PROTO_VERSION;
    iov.iov_base = req;
    iov.iov_len = sizeof(*req);
    memset(res, 0, sizeof(*res));
    {
        int64_t left = deadline - dr__now_ms();
        n = qb_ipcc_sendv_recv(c, &iov, 1, res, sizeof(*res), left > 0 ? (int32_t)left : 1);
    }
    qb_ipcc_disconnect(c);
    if (n < 0) {
        dr_debug("droverd (%s) did not answer: %s", name, strerror((int)-n));
        return -DR_E_DAEMON;
    }
    if ((size_t)n < offsetof(struct dr__daemon_res, u) || res->version != DR_DAEMON_PROTO_VERSION) {
        dr_err("droverd (%s) speaks protocol version %u, this client %u", name,
               (size_t)n >= offsetof(struct dr__daemon_res, rc) ? res->version : 0,
               DR_DAEMON_PROTO_VERSION);
        return -DR_E_PROTOCOL;
    }
    return res->rc;
}

static int
copy_device(struct dr__daemon_req *req, const char *device)
{
    if (device == NULL || device[0] == '\0' || strlen(device) >= sizeof(req->device)) {
        return -EINVAL;
    }
    memcpy(req->device, device, strlen(device) + 1);
    return 0;
}

int
dr_daemon_status(const char *ipc_name, unsigned int timeout_ms, struct dr_daemon_status *out)
{
    struct dr__daemon_req req = {0};
    struct dr__daemon_res *res;
    int rc;

    if (out == NULL) {
        return -EINVAL;
    }
    res = calloc(1, sizeof(*res));
    if (res == NULL) {
        return -ENOMEM;
    }
    req.hdr.id = DR__OP_STATUS;
    rc = call(ipc_name, timeout_ms, &req, res);
    if (rc == 0) {
        *out = res->u.status;
        out->node[sizeof(out->node) - 1] = '\0';
        out->cluster[sizeof(out->cluster) - 1] = '\0';
        if (out->n_devices > DR_DAEMON_MAX_DEVICES) {
            out->n_devices = DR_DAEMON_MAX_DEVICES;
        }
    }
    free(res);
    return rc;
}

int
dr_daemon_unfence(const char *ipc_name, unsigned int timeout_ms, enum dr_pr_type type)
{
    struct dr__daemon_req req = {0};
    struct dr__daemon_res *res = calloc(1, sizeof(*res));
    int rc;

    if (res == NULL) {
        return -ENOMEM;
    }
    req.hdr.id = DR__OP_UNFENCE;
    req.type = (uint32_t)type;
    rc = call(ipc_name, timeout_ms, &req, res);
    free(res);
    return rc;
}

static int
device_call(const char *ipc_name, unsigned int timeout_ms, int op, const char *device, uint64_t key,
            uint32_t type, uint32_t flags, struct dr__daemon_res *res)
{
    struct dr__daemon_req req = {0};

    if (copy_device(&req, device) < 0) {
        return -EINVAL;
    }
    req.hdr.id = op;
    req.key = key;
    req.type = type;
    req.flags = flags;
    return call(ipc_name, timeout_ms, &req, res);
}

/* A device call whose answer is only a return code (and flags): the response lives here. */
static int
short_call(const char *ipc_name, unsigned int timeout_ms, int op, const char *device, uint64_t key,
           uint32_t type, uint32_t flags, uint32_t *res_flags)
{
    struct dr__daemon_res *res = calloc(1, sizeof(*res));
    int rc;

    if (res == NULL) {
        return -ENOMEM;
    }
    rc = device_call(ipc_name, timeout_ms, op, device, key, type, flags, res);
    if (rc == 0 && res_flags != NULL) {
        *res_flags = res->flags;
    }
    free(res);
    return rc;
}

int
dr_daemon_has_device(const char *ipc_name, unsigned int timeout_ms, const char *device)
{
    int rc = short_call(ipc_name, timeout_ms, DR__OP_HAS_DEVICE, device, 0, 0, 0, NULL);

    if (rc == -ENOENT) {
        return 0;
    }
    return rc < 0 ? rc : 1;
}

int
dr_daemon_preempt(const char *ipc_name, unsigned int timeout_ms, const char *device,
                  uint64_t victim_key, enum dr_pr_type type, bool try_abort, bool *fell_back)
{
    uint32_t flags = 0;
    int rc = short_call(ipc_name, timeout_ms, DR__OP_PREEMPT, device, victim_key, (uint32_t)type,
                        try_abort ? DR__REQ_FLAG_TRY_ABORT : 0, &flags);

    if (rc == 0 && fell_back != NULL) {
        *fell_back = (flags & DR__RES_FLAG_FELL_BACK) != 0;
    }
    return rc;
}

int
dr_daemon_read_keys(const char *ipc_name, unsigned int timeout_ms, const char *device,
                    struct dr_pr_keys *out)
{
    struct dr__daemon_res *res = calloc(1, sizeof(*res));
    int rc;

    if (res == NULL) {
        return -ENOMEM;
    }
    if (out == NULL) {
        free(res);
        return -EINVAL;
    }
    rc = device_call(ipc_name, timeout_ms, DR__OP_READ_KEYS, device, 0, 0, 0, res);
    if (rc == 0) {
        uint32_t n = res->u.keys.n_keys;
        uint64_t *keys = NULL;

        if (n > DR_DAEMON_MAX_KEYS) {
            rc = -DR_E_PROTOCOL;
        } else if (n > 0 && (keys = calloc(n, sizeof(uint64_t))) == NULL) {
            rc = -ENOMEM;
        } else {
            /* out is written only on success */
            if (n > 0) {
                memcpy(keys, res->u.keys.keys, n * sizeof(uint64_t));
            }
            out->generation = res->u.keys.generation;
            out->n_keys = n;
            out->keys = keys;
        }
    }
    free(res);
    return rc;
}

int
dr_daemon_probe_write(const char *ipc_name, unsigned int timeout_ms, const char *device)
{
    return short_call(ipc_name, timeout_ms, DR__OP_PROBE_WRITE, device, 0, 0, 0, NULL);
}

int
dr_daemon_vm_state(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                   struct dr_daemon_vm_state *out)
{
    struct dr__daemon_res *res;
    int rc;

    if (out == NULL) {
        return -EINVAL;
    }
    res = calloc(1, sizeof(*res));
    if (res == NULL) {
        return -ENOMEM;
    }
    rc = device_call(ipc_name, timeout_ms, DR__OP_VM_STATE, domain, 0, 0, 0, res);
    if (rc == 0) {
        *out = res->u.vm;
    }
    free(res);
    return rc;
}

int
dr_daemon_vm_expect(const char *ipc_name, unsigned int timeout_ms, const char *domain,
                    const char *resource, uint32_t busy_ms)
{
    struct dr__daemon_req req = {0};
    struct dr__daemon_res *res;
    int rc;

    if (copy_device(&req, domain) < 0 ||
        (resource != NULL && strlen(resource) >= sizeof(req.resource))) {
        return -EINVAL;
    }
    res = calloc(1, sizeof(*res));
    if (res == NULL) {
        return -ENOMEM;
    }
    req.hdr.id = DR__OP_VM_EXPECT;
    req.type = busy_ms;
    if (resource != NULL) {
        memcpy(req.resource, resource, strlen(resource) + 1);
    }
    rc = call(ipc_name, timeout_ms, &req, res);
    free(res);
    return rc;
}
