/**
 * \file vm.h
 * \brief VM control through libvirt's C API (the first piece: what droverd needs to stop a
 * fenced node's VMs; the VM agent issue extends this module).
 *
 * Lifecycle: dr_vm_conn_open() one connection per process (droverd keeps it), use it,
 * dr_vm_conn_close(). libvirt errors are translated once, here, into -DR_E_LIBVIRT with
 * libvirt's own message logged.
 */
#ifndef DROVER_VM_H
#define DROVER_VM_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is libdrover's public ABI (the library builds with hidden visibility).
 */
#pragma GCC visibility push(default)

struct dr_vm_conn;

/**
 * Connect to a hypervisor.
 * \param uri libvirt URI (borrowed), or NULL for qemu:///system.
 * \return 0; -DR_E_LIBVIRT if libvirt refuses or is not running; -ENOMEM.
 */
int dr_vm_conn_open(const char *uri, struct dr_vm_conn **out);

/** Close a connection; NULL is a no-op. */
void dr_vm_conn_close(struct dr_vm_conn *conn);

/** Whether the connection still works (libvirtd may have restarted). */
bool dr_vm_conn_is_alive(struct dr_vm_conn *conn);

/**
 * Hard-stop (virDomainDestroy) every running domain: the fenced node's last duty.
 * \param[out] n_destroyed how many were stopped by this call (may be NULL).
 * \param[out] n_running how many still run after it (may be NULL).
 * \return 0 when none runs any more; -DR_E_LIBVIRT when listing or a destroy failed.
 */
int dr_vm_destroy_all(struct dr_vm_conn *conn, unsigned int *n_destroyed, unsigned int *n_running);

/**
 * Number of running domains.
 * \return the count (>= 0), or -DR_E_LIBVIRT.
 */
int dr_vm_count_running(struct dr_vm_conn *conn);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
