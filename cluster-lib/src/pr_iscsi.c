/*
 * libiscsi transport: iSCSI-direct PR commands, no kernel initiator needed. Everything runs
 * on libiscsi's asynchronous API under our own poll loop so that every step (TCP connect,
 * login, each command) is bounded by a millisecond deadline: a dead portal is an error after
 * timeout_ms, never a hang.
 *
 * libiscsi's automatic reconnect is turned off: a registration is tied to the iSCSI session
 * (lab-notes/iscsi-pr), so a silently re-established session would be unregistered while our
 * key is still listed. A dropped session is reported instead (dr_pr_is_connected()).
 */
#include <errno.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "drover/error.h"
#include "log_internal.h"
#include "util_internal.h"
#include "pr_internal.h"

#define DEFAULT_INITIATOR "iqn.2026-11.org.drover:initiator"

struct iscsi_priv {
    struct iscsi_context *ctx;
    int lun;
    bool broken;            /* a command timed out or the connection dropped */
    int sock_errno;         /* the socket's own error, which libiscsi's messages may hide */
    struct step *abandoned; /* steps we stopped waiting for; freed with the context */
};

/*
 * Completion state of one asynchronous step. A step we stop waiting for (timeout) may still be
 * called back by libiscsi, or never: it stays allocated on the context's abandoned list and is
 * freed with the context.
 */
struct step {
    bool done;
    bool abandoned;
    int status;
    struct dr__scsi_cmd *cmd;
    struct step *next;
};

/* Drive libiscsi until the step completes or the deadline passes. */
static int
wait_step(struct iscsi_priv *p, struct step *s, int64_t deadline)
{
    while (!s->done) {
        struct pollfd pfd;
        int64_t left = deadline - dr__now_ms();
        int n;

        if (left <= 0) {
            return -ETIMEDOUT;
        }
        pfd.fd = iscsi_get_fd(p->ctx);
        pfd.events = (short)iscsi_which_events(p->ctx);
        pfd.revents = 0;
        if (pfd.fd < 0) {
            return -DR_E_TRANSPORT;
        }
        n = poll(&pfd, 1, (int)(left < 100 ? left : 100));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n > 0 && (pfd.revents & (POLLERR | POLLHUP))) {
            int e = 0;
            socklen_t elen = sizeof(e);
            if (getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 && e != 0) {
                p->sock_errno = e;
            }
        }
        if (iscsi_service(p->ctx, n > 0 ? pfd.revents : 0) < 0) {
            if (!s->done) {
                return -DR_E_TRANSPORT;
            }
        }
    }
    return 0;
}

static void
step_cb(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
    struct step *s = private_data;

    (void)ctx;
    (void)command_data;
    if (s->abandoned) {
        return; /* freed with the context */
    }
    s->status = status;
    s->done = true;
}

static struct step *
step_new(void)
{
    return calloc(1, sizeof(struct step));
}

/* A step we stop waiting for: the session is dead to us; the step is freed with it. */
static void
step_abandon(struct iscsi_priv *p, struct step *s)
{
    p->broken = true;
    s->abandoned = true;
    s->cmd = NULL;
    s->next = p->abandoned;
    p->abandoned = s;
}

static int
do_connect(struct iscsi_priv *p, const char *spec, const char *portal, int64_t deadline)
{
    struct step *s = step_new();
    int rc;

    if (s == NULL) {
        return -ENOMEM;
    }
    if (iscsi_connect_async(p->ctx, portal, step_cb, s) != 0) {
        dr_err("%s: cannot connect to portal %s: %s", spec, portal, iscsi_get_error(p->ctx));
        free(s);
        return -DR_E_TRANSPORT;
    }
    rc = wait_step(p, s, deadline);
    if ((rc == 0 && s->status != SCSI_STATUS_GOOD) || (rc < 0 && p->sock_errno != 0)) {
        if (p->sock_errno != 0) {
            dr_err("%s: cannot connect to portal %s: %s", spec, portal, strerror(p->sock_errno));
            rc = -p->sock_errno;
        } else {
            dr_err("%s: cannot connect to portal %s: %s", spec, portal, iscsi_get_error(p->ctx));
            rc = -DR_E_TRANSPORT;
        }
    } else if (rc == -ETIMEDOUT) {
        dr_err("%s: portal %s did not answer in time", spec, portal);
    } else if (rc < 0) {
        dr_err("%s: connection to portal %s failed: %s", spec, portal, iscsi_get_error(p->ctx));
    }
    if (rc < 0) {
        step_abandon(p, s);
        return rc;
    }
    free(s);
    return 0;
}

static int
do_login(struct iscsi_priv *p, const char *spec, const char *target, int64_t deadline)
{
    struct step *s = step_new();
    int rc;

    if (s == NULL) {
        return -ENOMEM;
    }
    if (iscsi_login_async(p->ctx, step_cb, s) != 0) {
        dr_err("%s: cannot start login: %s", spec, iscsi_get_error(p->ctx));
        free(s);
        return -DR_E_LOGIN;
    }
    rc = wait_step(p, s, deadline);
    if (rc == 0 && s->status != SCSI_STATUS_GOOD) {
        dr_err("%s: login to %s refused: %s", spec, target, iscsi_get_error(p->ctx));
        rc = -DR_E_LOGIN;
    } else if (rc == -ETIMEDOUT) {
        dr_err("%s: login to %s timed out", spec, target);
    } else if (rc < 0) {
        dr_err("%s: login to %s failed: %s", spec, target, iscsi_get_error(p->ctx));
        rc = -DR_E_LOGIN;
    }
    if (rc < 0) {
        step_abandon(p, s);
        return rc;
    }
    free(s);
    return 0;
}

static void
cmd_cb(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
    struct step *s = private_data;
    struct scsi_task *task = command_data;

    (void)ctx;
    if (s->abandoned) {
        if (task != NULL) {
            scsi_free_scsi_task(task);
        }
        return;
    }
    s->status = status;
    s->done = true;
    if (task == NULL) {
        return;
    }
    if (status == SCSI_STATUS_CHECK_CONDITION) {
        struct dr_scsi_sense *d = &s->cmd->decoded;

        /* libiscsi hands us parsed sense only; keep the same fields our decoder fills. */
        d->valid = true;
        d->response = (uint8_t)task->sense.error_type;
        d->key = (uint8_t)(task->sense.key & 0x0f);
        d->asc = (uint8_t)((task->sense.ascq >> 8) & 0xff);
        d->ascq = (uint8_t)(task->sense.ascq & 0xff);
        d->field_valid = task->sense.sense_specific != 0;
        d->in_cdb = task->sense.ill_param_in_cdb != 0;
        d->field = task->sense.field_pointer;
    }
    if (s->cmd->dir == DR__DIR_IN && task->datain.data != NULL && task->datain.size > 0) {
        size_t n = (size_t)task->datain.size;
        if (n > s->cmd->buf_len) {
            n = s->cmd->buf_len;
        }
        memcpy(s->cmd->buf, task->datain.data, n);
        s->cmd->xfer_len = n;
    }
    scsi_free_scsi_task(task);
}

static int
iscsi_exec(struct dr__pr_path *path, struct dr__scsi_cmd *cmd)
{
    struct iscsi_priv *p = path->priv;
    struct scsi_task *task;
    struct iscsi_data data = {0};
    struct step *s;
    int dir, rc;

    if (p->broken || !iscsi_is_logged_in(p->ctx)) {
        p->broken = true;
        return -DR_E_TRANSPORT;
    }
    dir = cmd->dir == DR__DIR_IN ? SCSI_XFER_READ
                                 : (cmd->dir == DR__DIR_OUT ? SCSI_XFER_WRITE : SCSI_XFER_NONE);
    task = scsi_create_task((int)cmd->cdb_len, (unsigned char *)(uintptr_t)cmd->cdb, dir,
                            (int)cmd->buf_len);
    if (task == NULL) {
        return -ENOMEM;
    }
    s = step_new();
    if (s == NULL) {
        scsi_free_scsi_task(task);
        return -ENOMEM;
    }
    s->cmd = cmd;
    if (cmd->dir == DR__DIR_OUT) {
        data.data = cmd->buf;
        data.size = cmd->buf_len;
    }
    if (iscsi_scsi_command_async(p->ctx, p->lun, task, cmd_cb,
                                 cmd->dir == DR__DIR_OUT ? &data : NULL, s) != 0) {
        dr_err("%s: cannot queue SCSI command: %s", path->name, iscsi_get_error(p->ctx));
        scsi_free_scsi_task(task);
        free(s);
        p->broken = true;
        return -DR_E_TRANSPORT;
    }
    rc = wait_step(p, s, dr__now_ms() + path->timeout_ms);
    if (rc < 0) {
        dr_err("%s: SCSI command 0x%02x %s: %s", path->name, cmd->cdb[0],
               rc == -ETIMEDOUT ? "timed out" : "lost its session", iscsi_get_error(p->ctx));
        step_abandon(p, s);
        return rc;
    }
    if (s->status == SCSI_STATUS_ERROR || s->status == SCSI_STATUS_CANCELLED ||
        s->status == SCSI_STATUS_TIMEOUT || s->status == SCSI_STATUS_REDIRECT) {
        dr_err("%s: SCSI command 0x%02x failed in the iSCSI layer: %s", path->name, cmd->cdb[0],
               iscsi_get_error(p->ctx));
        p->broken = true;
        free(s);
        return -DR_E_TRANSPORT;
    }
    cmd->status = (uint8_t)s->status;
    free(s);
    return 0;
}

static int
test_unit_ready(struct dr__pr_path *path)
{
    uint8_t cdb[6] = {0};
    struct dr__scsi_cmd cmd = {0};
    int rc = 0;

    cmd.cdb = cdb;
    cmd.cdb_len = sizeof(cdb);
    cmd.dir = DR__DIR_NONE;
    /* The first command after login reports 29/00 (power on / reset): expected, retry. */
    for (int i = 0; i < 4; i++) {
        memset(&cmd.decoded, 0, sizeof(cmd.decoded));
        rc = iscsi_exec(path, &cmd);
        if (rc < 0) {
            return rc;
        }
        rc = dr__scsi_status_to_rc(cmd.status, &cmd.decoded);
        if (rc != -DR_E_UNIT_ATTENTION) {
            break;
        }
    }
    if (rc == -DR_E_NO_LUN || (rc == -DR_E_ILLEGAL_REQUEST && cmd.decoded.asc == 0x25)) {
        dr_err("%s: the target has no such LUN", path->name);
        return -DR_E_NO_LUN;
    }
    if (rc == -DR_E_RESERVATION_CONFLICT) {
        return 0; /* TEST UNIT READY may be refused to a fenced nexus; the LUN exists */
    }
    if (rc < 0) {
        char desc[160];
        dr__scsi_status_format(cmd.status, &cmd.decoded, desc, sizeof(desc));
        dr_err("%s: TEST UNIT READY failed: %s", path->name, desc);
    }
    return rc;
}

static void
iscsi_close(struct dr__pr_path *path)
{
    struct iscsi_priv *p = path->priv;

    if (p->ctx != NULL) {
        if (!p->broken && iscsi_is_logged_in(p->ctx)) {
            /* Best effort, bounded: a logout that does not answer is dropped with the socket. */
            struct step *s = step_new();
            if (s != NULL && iscsi_logout_async(p->ctx, step_cb, s) == 0) {
                if (wait_step(p, s, dr__now_ms() + 500) == 0) {
                    free(s);
                } else {
                    step_abandon(p, s);
                }
            } else {
                free(s);
            }
        }
        iscsi_destroy_context(p->ctx);
    }
    while (p->abandoned != NULL) {
        struct step *next = p->abandoned->next;
        free(p->abandoned);
        p->abandoned = next;
    }
    free(p);
}

static int
iscsi_open(struct dr__pr_path *path, const char *spec, const struct dr_pr_open_opts *opts)
{
    struct iscsi_priv *p;
    struct iscsi_url *url;
    const char *initiator = DEFAULT_INITIATOR;
    int64_t deadline = dr__now_ms() + path->timeout_ms;
    int rc;

    if (opts != NULL && opts->initiator_iqn != NULL && opts->initiator_iqn[0] != '\0') {
        initiator = opts->initiator_iqn;
    }
    if (strncmp(initiator, "iqn.", 4) != 0 && strncmp(initiator, "eui.", 4) != 0 &&
        strncmp(initiator, "naa.", 4) != 0) {
        dr_err("initiator name '%s' is not an iSCSI name (iqn., eui. or naa.)", initiator);
        return -EINVAL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return -ENOMEM;
    }
    p->ctx = iscsi_create_context(initiator);
    if (p->ctx == NULL) {
        free(p);
        return -ENOMEM;
    }
    path->priv = p;
    url = iscsi_parse_full_url(p->ctx, spec);
    if (url == NULL) {
        dr_err("'%s' is not a valid iSCSI URL (iscsi://[user%%password@]portal[:port]/iqn/lun): "
               "%s",
               spec, iscsi_get_error(p->ctx));
        rc = -EINVAL;
        goto fail;
    }
    p->lun = url->lun;
    iscsi_set_targetname(p->ctx, url->target);
    iscsi_set_session_type(p->ctx, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(p->ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C);
    if (url->user[0] != '\0') {
        iscsi_set_initiator_username_pwd(p->ctx, url->user, url->passwd);
    }
    rc = do_connect(p, spec, url->portal, deadline);
    if (rc == 0) {
        rc = do_login(p, spec, url->target, deadline);
    }
    iscsi_destroy_url(url);
    if (rc < 0) {
        goto fail;
    }
    /* Only now: set before the first connect, libiscsi hides the connect error behind its
     * reconnect logic ("Can not reconnect right now"). */
    iscsi_set_noautoreconnect(p->ctx, 1);
    rc = test_unit_ready(path);
    if (rc < 0) {
        goto fail;
    }
    dr_debug("%s: logged in as %s", spec, initiator);
    return 0;
fail:
    p->broken = true;
    iscsi_close(path);
    path->priv = NULL;
    return rc;
}

static int
iscsi_connected(struct dr__pr_path *path)
{
    struct iscsi_priv *p = path->priv;

    if (p->broken) {
        return 0;
    }
    /* Let libiscsi notice a peer that closed the socket. */
    if (iscsi_get_fd(p->ctx) >= 0) {
        struct pollfd pfd = {iscsi_get_fd(p->ctx), (short)iscsi_which_events(p->ctx), 0};
        if (poll(&pfd, 1, 0) > 0 && iscsi_service(p->ctx, pfd.revents) < 0) {
            p->broken = true;
        }
    }
    if (!iscsi_is_logged_in(p->ctx)) {
        p->broken = true;
    }
    return !p->broken;
}

const struct dr_pr_transport dr__pr_iscsi_transport = {
    .name = "iscsi",
    .open = iscsi_open,
    .close = iscsi_close,
    .exec = iscsi_exec,
    .is_connected = iscsi_connected,
};
