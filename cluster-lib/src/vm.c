/*
 * libvirt, through its C API (never virsh): connections, lookup, state, start and stop. libvirt
 * reports errors through a thread-local virError; it is read, translated and logged exactly
 * once, in dr__vm_report(). Migration and job statistics are in vm_migrate.c, the domain XML
 * file in vm_xml.c.
 */
#include <ctype.h>
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_internal.h"
#include "util_internal.h"
#include "vm_internal.h"

/* How often dr_vm_stop() looks whether the guest has shut down. */
#define STOP_POLL_MS 100

/* libvirt prints every error to stderr unless told otherwise; we log them ourselves. */
static void
quiet_errors(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

int
dr__vm_rc_from_virt(int virt_code)
{
    switch (virt_code) {
    case VIR_ERR_NO_DOMAIN:
        return -ENOENT;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_XML_INVALID_SCHEMA:
        return -EINVAL;
    default:
        return -DR_E_LIBVIRT;
    }
}

int
dr__vm_report(int virt_code, const char *message, const char *what)
{
    int rc = dr__vm_rc_from_virt(virt_code);

    dr_log(rc == -ENOENT ? LOG_INFO : LOG_ERR, "libvirt: %s: %s", what,
           message != NULL ? message : "unknown error");
    return rc;
}

int
dr__vm_error(const char *what)
{
    virErrorPtr e = virGetLastError();
    int rc = dr__vm_report(e != NULL ? e->code : VIR_ERR_OK, e != NULL ? e->message : NULL, what);

    virResetLastError();
    return rc;
}

int
dr__vm_error_quiet(const char *what)
{
    virErrorPtr e = virGetLastError();
    int rc = dr__vm_rc_from_virt(e != NULL ? e->code : VIR_ERR_OK);

    dr_debug("libvirt: %s: %s", what, e != NULL && e->message != NULL ? e->message : "unknown");
    virResetLastError();
    return rc;
}

int
dr_vm_conn_open(const char *uri, struct dr_vm_conn **out)
{
    struct dr_vm_conn *c;
    const char *u = uri != NULL ? uri : "qemu:///system";

    if (out == NULL) {
        return -EINVAL;
    }
    virSetErrorFunc(NULL, quiet_errors);
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->uri = strdup(u);
    if (c->uri == NULL) {
        free(c);
        return -ENOMEM;
    }
    c->conn = virConnectOpen(u);
    if (c->conn == NULL) {
        free(c->uri);
        free(c);
        return dr__vm_error(u);
    }
    *out = c;
    return 0;
}

void
dr_vm_conn_close(struct dr_vm_conn *conn)
{
    if (conn == NULL) {
        return;
    }
    virConnectClose(conn->conn);
    free(conn->uri);
    free(conn);
}

bool
dr_vm_conn_is_alive(struct dr_vm_conn *conn)
{
    return conn != NULL && virConnectIsAlive(conn->conn) == 1;
}

int
dr_vm_count_running(struct dr_vm_conn *conn)
{
    int n;

    if (conn == NULL) {
        return -EINVAL;
    }
    n = virConnectNumOfDomains(conn->conn);
    return n < 0 ? dr__vm_error("counting running domains") : n;
}

int
dr_vm_destroy_all(struct dr_vm_conn *conn, unsigned int *n_destroyed, unsigned int *n_running)
{
    virDomainPtr *doms = NULL;
    unsigned int destroyed = 0;
    int n, rc = 0, left;

    if (conn == NULL) {
        return -EINVAL;
    }
    n = virConnectListAllDomains(conn->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        return dr__vm_error("listing running domains");
    }
    for (int i = 0; i < n; i++) {
        const char *name = virDomainGetName(doms[i]);
        if (virDomainDestroy(doms[i]) == 0) {
            destroyed++;
            dr_notice("VM %s destroyed", name != NULL ? name : "?");
        } else {
            rc = dr__vm_error(name != NULL ? name : "destroying a domain");
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    left = virConnectNumOfDomains(conn->conn);
    if (left < 0) {
        rc = dr__vm_error("counting running domains");
    } else if (left > 0 && rc == 0) {
        rc = -DR_E_LIBVIRT; /* a domain started while we destroyed: the next round gets it */
    }
    if (n_destroyed != NULL) {
        *n_destroyed = destroyed;
    }
    if (n_running != NULL) {
        *n_running = left < 0 ? 0 : (unsigned int)left;
    }
    return rc;
}

int
dr__vm_wrap(struct dr_vm_conn *conn, virDomainPtr dom, struct dr_vm **out)
{
    struct dr_vm *vm = calloc(1, sizeof(*vm));
    const char *name;

    if (vm == NULL) {
        virDomainFree(dom);
        return -ENOMEM;
    }
    vm->conn = conn;
    vm->dom = dom;
    name = virDomainGetName(dom); /* local to the handle: cannot fail for a valid one */
    snprintf(vm->name, sizeof(vm->name), "%s", name != NULL ? name : "?");
    if (virDomainGetUUIDString(dom, vm->uuid) < 0) {
        int rc = dr__vm_error(vm->name);
        dr_vm_free(vm);
        return rc;
    }
    *out = vm;
    return 0;
}

/* 8-4-4-4-12 hex digits, or 32 hex digits: the forms virDomainLookupByUUIDString() takes. */
static bool
looks_like_uuid(const char *s)
{
    size_t len = strlen(s), hex = 0;

    if (len != 36 && len != 32) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i] != '-') {
                return false;
            }
        } else if (isxdigit((unsigned char)s[i])) {
            hex++;
        } else {
            return false;
        }
    }
    return hex == 32;
}

int
dr_vm_lookup(struct dr_vm_conn *conn, const char *name_or_uuid, struct dr_vm **out)
{
    virDomainPtr dom = NULL;

    if (conn == NULL || name_or_uuid == NULL || name_or_uuid[0] == '\0' || out == NULL) {
        return -EINVAL;
    }
    if (looks_like_uuid(name_or_uuid)) {
        dom = virDomainLookupByUUIDString(conn->conn, name_or_uuid);
        if (dom == NULL) {
            /* A domain may be named like a UUID: only "no such domain" falls through. */
            virErrorPtr e = virGetLastError();
            if (e == NULL || e->code != VIR_ERR_NO_DOMAIN) {
                return dr__vm_error(name_or_uuid);
            }
            virResetLastError();
        }
    }
    if (dom == NULL) {
        dom = virDomainLookupByName(conn->conn, name_or_uuid);
    }
    if (dom == NULL) {
        return dr__vm_error(name_or_uuid);
    }
    return dr__vm_wrap(conn, dom, out);
}

int
dr_vm_clear_stale(struct dr_vm_conn *conn, const char *name, const char *uuid)
{
    char other[VIR_UUID_STRING_BUFLEN];
    virDomainPtr dom;
    int active, rc = 0;

    if (conn == NULL || name == NULL || name[0] == '\0' || uuid == NULL || uuid[0] == '\0') {
        return -EINVAL;
    }
    dom = virDomainLookupByName(conn->conn, name);
    if (dom == NULL) {
        virErrorPtr e = virGetLastError();

        if (e != NULL && e->code == VIR_ERR_NO_DOMAIN) {
            virResetLastError();
            return 0;
        }
        return dr__vm_error(name);
    }
    /* Any libvirt call failing below ends in the same translation. */
    active = virDomainGetUUIDString(dom, other) < 0 ? -1 : 0;
    if (active == 0 && strcasecmp(other, uuid) != 0) {
        active = virDomainIsActive(dom);
        if (active == 1) {
            dr_err("VM %s: %s has a domain of that name running under another UUID (%s, not %s)",
                   name, conn->uri, other, uuid);
            rc = -EEXIST;
        } else if (active == 0 && virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) < 0 &&
                   virDomainUndefine(dom) < 0) {
            active = -1;
        } else if (active == 0) {
            virResetLastError();
            dr_notice("VM %s: %s kept an inactive definition of it under another UUID (%s, not "
                      "%s): undefined there",
                      name, conn->uri, other, uuid);
        }
    }
    if (active < 0) {
        rc = dr__vm_error(name);
    }
    virDomainFree(dom);
    return rc;
}

void
dr_vm_free(struct dr_vm *vm)
{
    if (vm == NULL) {
        return;
    }
    if (vm->dom != NULL) {
        virDomainFree(vm->dom);
    }
    free(vm);
}

enum dr_vm_state
dr_vm_state_from_virt(int virt_state, int virt_reason)
{
    switch ((virDomainState)virt_state) {
    case VIR_DOMAIN_NOSTATE:
        return DR_VM_STATE_UNKNOWN;
    case VIR_DOMAIN_RUNNING:
        switch ((virDomainRunningReason)virt_reason) {
        case VIR_DOMAIN_RUNNING_POSTCOPY_FAILED:
            /* The guest runs here but part of its memory is still on the source. */
            return DR_VM_STATE_POSTCOPY_FAILED;
        case VIR_DOMAIN_RUNNING_UNKNOWN:
        case VIR_DOMAIN_RUNNING_BOOTED:
        case VIR_DOMAIN_RUNNING_MIGRATED:
        case VIR_DOMAIN_RUNNING_RESTORED:
        case VIR_DOMAIN_RUNNING_FROM_SNAPSHOT:
        case VIR_DOMAIN_RUNNING_UNPAUSED:
        case VIR_DOMAIN_RUNNING_MIGRATION_CANCELED:
        case VIR_DOMAIN_RUNNING_SAVE_CANCELED:
        case VIR_DOMAIN_RUNNING_WAKEUP:
        case VIR_DOMAIN_RUNNING_CRASHED:
        /* The destination of a post-copy migration: the vCPUs run here; the source is paused. */
        case VIR_DOMAIN_RUNNING_POSTCOPY:
            return DR_VM_STATE_RUNNING;
        }
        return DR_VM_STATE_RUNNING; /* a reason newer than libvirt 9.0: the state says running */
    case VIR_DOMAIN_BLOCKED:
        return DR_VM_STATE_RUNNING; /* blocked on a resource: a running vCPU that waits */
    case VIR_DOMAIN_PAUSED:
        switch ((virDomainPausedReason)virt_reason) {
        case VIR_DOMAIN_PAUSED_MIGRATION:
            /*
             * qemuProcessFinishStartup() gives an incoming domain this reason, and the source
             * has it only for the switchover: alone, it means "not running here yet".
             * dr_vm_get_info() asks the job to tell an outgoing migration apart.
             */
            return DR_VM_STATE_PAUSED_MIGRATION_IN;
        case VIR_DOMAIN_PAUSED_POSTCOPY:
            return DR_VM_STATE_PAUSED_MIGRATION_OUT; /* the source while the target runs it */
        case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
            return DR_VM_STATE_POSTCOPY_FAILED;
        case VIR_DOMAIN_PAUSED_IOERROR:
            return DR_VM_STATE_PAUSED_IO_ERROR;
        case VIR_DOMAIN_PAUSED_SHUTTING_DOWN:
            return DR_VM_STATE_SHUTTING_DOWN; /* the guest powered off; libvirt ends it */
        case VIR_DOMAIN_PAUSED_CRASHED:
            return DR_VM_STATE_CRASHED; /* on_crash=preserve keeps it paused */
        case VIR_DOMAIN_PAUSED_STARTING_UP:
            /*
             * QEMU is being launched (for a start or an incoming migration): active, never
             * running yet. dr_vm_get_info() recognises the incoming case.
             */
        case VIR_DOMAIN_PAUSED_UNKNOWN:
        case VIR_DOMAIN_PAUSED_USER:
        case VIR_DOMAIN_PAUSED_SAVE:
        case VIR_DOMAIN_PAUSED_DUMP:
        case VIR_DOMAIN_PAUSED_WATCHDOG:
        case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT:
        case VIR_DOMAIN_PAUSED_SNAPSHOT:
            return DR_VM_STATE_PAUSED;
        }
        return DR_VM_STATE_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return DR_VM_STATE_SHUTTING_DOWN;
    case VIR_DOMAIN_SHUTOFF:
        /* Every reason (crashed and destroyed included): no QEMU runs; virt_reason says why. */
        return DR_VM_STATE_SHUTOFF;
    case VIR_DOMAIN_CRASHED:
        return DR_VM_STATE_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED:
        return DR_VM_STATE_PMSUSPENDED;
    }
    return DR_VM_STATE_UNKNOWN;
}

const char *
dr_vm_state_name(enum dr_vm_state state)
{
    switch (state) {
    case DR_VM_STATE_UNKNOWN:
        return "unknown";
    case DR_VM_STATE_RUNNING:
        return "running";
    case DR_VM_STATE_PAUSED_MIGRATION_IN:
        return "paused-migration-in";
    case DR_VM_STATE_PAUSED_MIGRATION_OUT:
        return "paused-migration-out";
    case DR_VM_STATE_PAUSED_IO_ERROR:
        return "paused-io-error";
    case DR_VM_STATE_PAUSED:
        return "paused";
    case DR_VM_STATE_SHUTTING_DOWN:
        return "shutting-down";
    case DR_VM_STATE_SHUTOFF:
        return "shutoff";
    case DR_VM_STATE_CRASHED:
        return "crashed";
    case DR_VM_STATE_PMSUSPENDED:
        return "pmsuspended";
    case DR_VM_STATE_POSTCOPY_FAILED:
        return "postcopy-failed";
    }
    return "unknown";
}

/*
 * PAUSED_MIGRATION and PAUSED_STARTING_UP do not say which side of a migration a domain is
 * on; its job does. libvirt 9.0 refuses live job statistics on the destination of a migration
 * (qemuDomainGetJobStatsInternal: VIR_ERR_OPERATION_UNSUPPORTED, "available only on the source
 * host") and reports operation MIGRATION_OUT on the source.
 */
static enum dr_vm_state
refine_by_job(virDomainPtr dom, const char *name, int virt_reason, enum dr_vm_state state)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, type = VIR_DOMAIN_JOB_NONE, op = VIR_DOMAIN_JOB_OPERATION_UNKNOWN;

    if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0) {
        virErrorPtr e = virGetLastError();
        bool incoming = e != NULL && e->code == VIR_ERR_OPERATION_UNSUPPORTED;

        dr__vm_error_quiet(name);
        return incoming ? DR_VM_STATE_PAUSED_MIGRATION_IN : state;
    }
    if (type != VIR_DOMAIN_JOB_NONE) {
        virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op);
    }
    virTypedParamsFree(params, nparams);
    switch ((virDomainJobOperation)op) {
    case VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT:
        return virt_reason == VIR_DOMAIN_PAUSED_MIGRATION ? DR_VM_STATE_PAUSED_MIGRATION_OUT
                                                          : state;
    case VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN:
        return DR_VM_STATE_PAUSED_MIGRATION_IN;
    case VIR_DOMAIN_JOB_OPERATION_UNKNOWN:
    case VIR_DOMAIN_JOB_OPERATION_START:
    case VIR_DOMAIN_JOB_OPERATION_SAVE:
    case VIR_DOMAIN_JOB_OPERATION_RESTORE:
    case VIR_DOMAIN_JOB_OPERATION_SNAPSHOT:
    case VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_REVERT:
    case VIR_DOMAIN_JOB_OPERATION_DUMP:
    case VIR_DOMAIN_JOB_OPERATION_BACKUP:
    case VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_DELETE:
        break;
    }
    return state;
}

int
dr_vm_get_info(struct dr_vm *vm, struct dr_vm_info *out)
{
    struct dr_vm_info info;
    virDomainInfo di;
    int st = VIR_DOMAIN_NOSTATE, reason = 0, persistent;

    if (vm == NULL || out == NULL) {
        return -EINVAL;
    }
    memset(&info, 0, sizeof(info));
    if (virDomainGetState(vm->dom, &st, &reason, 0) < 0) {
        return dr__vm_error(vm->name);
    }
    if (virDomainGetInfo(vm->dom, &di) < 0) {
        return dr__vm_error(vm->name);
    }
    persistent = virDomainIsPersistent(vm->dom);
    if (persistent < 0) {
        return dr__vm_error(vm->name);
    }
    snprintf(info.name, sizeof(info.name), "%s", vm->name);
    snprintf(info.uuid, sizeof(info.uuid), "%s", vm->uuid);
    info.virt_state = st;
    info.virt_reason = reason;
    info.state = dr_vm_state_from_virt(st, reason);
    if (st == VIR_DOMAIN_PAUSED &&
        (reason == VIR_DOMAIN_PAUSED_MIGRATION || reason == VIR_DOMAIN_PAUSED_STARTING_UP)) {
        info.state = refine_by_job(vm->dom, vm->name, reason, info.state);
    }
    info.persistent = persistent == 1;
    info.vcpus = di.nrVirtCpu;
    info.memory_kib = di.memory;
    info.max_memory_kib = di.maxMem;
    *out = info;
    return 0;
}

int
dr_vm_start(struct dr_vm *vm)
{
    int active;

    if (vm == NULL) {
        return -EINVAL;
    }
    active = virDomainIsActive(vm->dom);
    if (active < 0) {
        return dr__vm_error(vm->name);
    }
    if (active == 1) {
        dr_info("VM %s is already active", vm->name);
        return 0;
    }
    if (virDomainCreate(vm->dom) < 0) {
        return dr__vm_error(vm->name);
    }
    dr_notice("VM %s started", vm->name);
    return 0;
}

/*
 * Whether the domain verifiably does not run: shut off, or gone (a transient domain vanishes
 * when it stops). 1: not running; 0: still active; < 0: libvirt could not say (logged).
 */
static int
verify_stopped(struct dr_vm *vm, int *virt_state)
{
    int st = VIR_DOMAIN_NOSTATE, reason = 0;

    if (virDomainGetState(vm->dom, &st, &reason, 0) < 0) {
        int rc = dr__vm_error(vm->name);
        return rc == -ENOENT ? 1 : rc;
    }
    *virt_state = st;
    return st == VIR_DOMAIN_SHUTOFF ? 1 : 0;
}

static void
sleep_ms(unsigned int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Graceful shutdown with a bounded wait. 1: stopped; 0: still running; < 0: libvirt failed. */
static int
shutdown_and_wait(struct dr_vm *vm, unsigned int timeout_ms, int *virt_state)
{
    int64_t deadline = dr__now_ms() + timeout_ms;
    int rc;

    if (virDomainShutdown(vm->dom) < 0) {
        /* The guest may have stopped since we looked; otherwise destroy takes over. */
        rc = dr__vm_error(vm->name);
        if (rc == -ENOENT) {
            return 1;
        }
        return verify_stopped(vm, virt_state);
    }
    for (;;) {
        int64_t left;

        rc = verify_stopped(vm, virt_state);
        if (rc != 0) {
            return rc;
        }
        left = deadline - dr__now_ms();
        if (left <= 0) {
            return 0;
        }
        sleep_ms(left < STOP_POLL_MS ? (unsigned int)left : STOP_POLL_MS);
    }
}

int
dr_vm_stop(struct dr_vm *vm, unsigned int shutdown_timeout_ms, bool force)
{
    int64_t t0 = dr__now_ms();
    int virt_state = VIR_DOMAIN_NOSTATE;
    int rc;

    if (vm == NULL) {
        return -EINVAL;
    }
    rc = verify_stopped(vm, &virt_state);
    if (rc != 0) {
        return rc < 0 ? rc : 0;
    }
    if (!force && shutdown_timeout_ms > 0) {
        rc = shutdown_and_wait(vm, shutdown_timeout_ms, &virt_state);
        if (rc == 1) {
            dr_notice("VM %s shut down in %lld ms", vm->name, (long long)(dr__now_ms() - t0));
            return 0;
        }
        dr_warn("VM %s did not shut down within %u ms: destroying it", vm->name,
                shutdown_timeout_ms);
    }
    /* SIGTERM alone first, so that QEMU can flush its disks; then SIGTERM and SIGKILL. */
    if (virDomainDestroyFlags(vm->dom, VIR_DOMAIN_DESTROY_GRACEFUL) < 0) {
        virErrorPtr e = virGetLastError();

        dr_warn("libvirt: %s: SIGTERM did not end it: %s", vm->name,
                e != NULL && e->message != NULL ? e->message : "unknown error");
        virResetLastError();
        rc = verify_stopped(vm, &virt_state);
        if (rc == 0 && virDomainDestroy(vm->dom) < 0) {
            dr__vm_error(vm->name); /* the state below decides */
        }
    }
    rc = verify_stopped(vm, &virt_state);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        dr_err("VM %s still runs after destroy (state %d)", vm->name, virt_state);
        return -ETIMEDOUT;
    }
    dr_notice("VM %s destroyed after %lld ms", vm->name, (long long)(dr__now_ms() - t0));
    return 0;
}
