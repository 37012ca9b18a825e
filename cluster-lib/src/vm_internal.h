/* Shared inside the VM module (vm.c, vm_migrate.c, vm_xml.c) and its unit tests. */
#ifndef DROVER_VM_INTERNAL_H
#define DROVER_VM_INTERNAL_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stddef.h>

#include "drover/vm.h"

struct dr_vm_conn {
    virConnectPtr conn;
    char *uri; /* what dr_vm_conn_open() connected to, for a reconnect */
};

struct dr_vm {
    struct dr_vm_conn *conn; /* borrowed: outlives the handle */
    virDomainPtr dom;
    char name[256];
    char uuid[VIR_UUID_STRING_BUFLEN];
};

/* libvirt's error number as a libdrover code: the one translation of the module. */
int dr__vm_rc_from_virt(int virt_code);

/*
 * Log a libvirt error (its number and message, which may be NULL) once, naming \p what, and
 * return its libdrover code. A missing domain is logged at LOG_INFO (a probe asks about domains
 * that are not here), everything else at LOG_ERR.
 */
int dr__vm_report(int virt_code, const char *message, const char *what);

/* dr__vm_report() of this thread's last libvirt error, which is then reset. */
int dr__vm_error(const char *what);

/*
 * The code of this thread's last libvirt error without logging it at more than LOG_DEBUG, for
 * failures the caller expects and handles (a UUID that may be a name, a stats refinement).
 */
int dr__vm_error_quiet(const char *what);

/* A new handle for \p dom (the reference passes to the handle, also on failure). */
int dr__vm_wrap(struct dr_vm_conn *conn, virDomainPtr dom, struct dr_vm **out);

/*
 * Read a whole file (at most 16 MiB) into a NUL-terminated buffer the caller frees.
 * \return 0; -ENOENT, -EACCES or another -errno from open/read, logged naming the path;
 *         -EFBIG; -ENOMEM.
 */
int dr__vm_read_file(const char *path, char **out, size_t *len);

/* Parse live or completed job statistics from virDomainGetJobStats() output. */
void dr__vm_job_stats_parse(int type, virTypedParameterPtr params, int nparams, bool completed,
                            struct dr_vm_job_stats *out);

/*
 * The flags and typed parameters of a peer-to-peer live migration with \p p's policy; the
 * domain's definition follows it when \p persistent. The caller frees *params with
 * virTypedParamsFree(). \return 0; -ENOMEM; -EINVAL.
 */
int dr__vm_migrate_build(const struct dr_vm_migrate_params *p, bool persistent,
                         virTypedParameterPtr *params, int *nparams, unsigned int *flags);

#endif
