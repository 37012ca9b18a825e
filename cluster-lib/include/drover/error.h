/**
 * \file error.h
 * \brief libdrover return codes.
 *
 * Every fallible libdrover call returns an `int`: 0 on success, a negative errno value
 * (-EINVAL, -ETIMEDOUT, ...) for failures the system already has a name for, and a negative
 * DR_E_* code (all below -1000) for failures that are drover's own. dr_strerror() names both.
 * Foreign error worlds (SCSI status and sense, libiscsi, libvirt, corosync) are translated
 * into these codes once, in the module that talks to them.
 */
#ifndef DROVER_ERROR_H
#define DROVER_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is libdrover's public ABI (the library builds with hidden visibility).
 */
#pragma GCC visibility push(default)

/** drover's own failure codes; returned negated (-DR_E_RESERVATION_CONFLICT). */
enum dr_error {
    DR_E_BASE = 1000,
    DR_E_RESERVATION_CONFLICT = 1001, /**< SCSI status RESERVATION CONFLICT (0x18) */
    DR_E_UNIT_ATTENTION = 1002,       /**< UNIT ATTENTION persisted past the retry budget */
    DR_E_ILLEGAL_REQUEST = 1003,      /**< sense key ILLEGAL REQUEST (5), e.g. unsupported action */
    DR_E_NOT_READY = 1004,            /**< sense key NOT READY (2) */
    DR_E_MEDIUM = 1005,               /**< MEDIUM ERROR or HARDWARE ERROR */
    DR_E_CHECK_CONDITION = 1006,      /**< other CHECK CONDITION; see the logged sense */
    DR_E_SCSI_STATUS = 1007,          /**< BUSY, TASK SET FULL or another non-GOOD status */
    DR_E_TRANSPORT = 1008,            /**< the transport (iSCSI session, HBA) failed the command */
    DR_E_BAD_RESPONSE = 1009,         /**< a PR response that is truncated or inconsistent */
    DR_E_NOT_SUPPORTED = 1010,        /**< the device does not support the requested PR action */
    DR_E_LOGIN = 1011,                /**< iSCSI login refused (wrong target, IQN or CHAP) */
    DR_E_NO_LUN = 1012,               /**< the LUN does not exist at that target */
    DR_E_KEY_IN_USE = 1013,           /**< the node's key is already used by another node */
    DR_E_NOT_REGISTERED = 1014,       /**< this initiator holds no registration on the device */
    DR_E_STILL_REGISTERED = 1015,     /**< a fenced key is still present after the fence */
    DR_E_SELF_FENCE = 1016,           /**< asked to fence the node the call runs on */
    DR_E_DAEMON = 1017,               /**< droverd is not running or did not answer */
    DR_E_PROTOCOL = 1018,             /**< droverd answered with an unknown protocol version */
    DR_E_CONFIG = 1019,               /**< bad or missing configuration value */
    DR_E_LIBVIRT = 1020,              /**< libvirt call failed; libvirt's message was logged */
    DR_E_MAX
};

/**
 * Name a return code.
 * \param rc 0, a negative errno value or a negative DR_E_* code (positive values are
 *           accepted as well and treated as their negation).
 * \return a static string; never NULL.
 */
const char *dr_strerror(int rc);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
