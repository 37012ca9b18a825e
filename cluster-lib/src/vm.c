/*
 * libvirt, through its C API (never virsh). libvirt reports errors through a thread-local
 * virError; it is read and logged exactly once, in vm_error().
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_internal.h"

struct dr_vm_conn {
    virConnectPtr conn;
    char *uri;
};

/* libvirt prints every error to stderr unless told otherwise; we log them ourselves. */
static void
quiet_errors(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

static int
vm_error(const char *what)
{
    virErrorPtr e = virGetLastError();

    dr_err("libvirt: %s: %s", what, e != NULL && e->message != NULL ? e->message : "unknown error");
    virResetLastError();
    return -DR_E_LIBVIRT;
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
    c->conn = virConnectOpen(u);
    if (c->conn == NULL) {
        free(c);
        return vm_error(u);
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
    return n < 0 ? vm_error("counting running domains") : n;
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
        return vm_error("listing running domains");
    }
    for (int i = 0; i < n; i++) {
        const char *name = virDomainGetName(doms[i]);
        if (virDomainDestroy(doms[i]) == 0) {
            destroyed++;
            dr_notice("VM %s destroyed", name != NULL ? name : "?");
        } else {
            rc = vm_error(name != NULL ? name : "destroying a domain");
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    left = virConnectNumOfDomains(conn->conn);
    if (left < 0) {
        rc = vm_error("counting running domains");
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
