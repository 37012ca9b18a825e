#include <string.h>

#include "drover/error.h"

const char *
dr_strerror(int rc)
{
    static const char *const names[] = {
        [DR_E_RESERVATION_CONFLICT - DR_E_BASE] = "reservation conflict",
        [DR_E_UNIT_ATTENTION - DR_E_BASE] = "unit attention persisted",
        [DR_E_ILLEGAL_REQUEST - DR_E_BASE] = "illegal request",
        [DR_E_NOT_READY - DR_E_BASE] = "logical unit not ready",
        [DR_E_MEDIUM - DR_E_BASE] = "medium or hardware error",
        [DR_E_CHECK_CONDITION - DR_E_BASE] = "check condition",
        [DR_E_SCSI_STATUS - DR_E_BASE] = "unexpected SCSI status",
        [DR_E_TRANSPORT - DR_E_BASE] = "transport failure",
        [DR_E_BAD_RESPONSE - DR_E_BASE] = "truncated or inconsistent response",
        [DR_E_NOT_SUPPORTED - DR_E_BASE] = "not supported by the device",
        [DR_E_LOGIN - DR_E_BASE] = "iSCSI login refused",
        [DR_E_NO_LUN - DR_E_BASE] = "no such logical unit",
        [DR_E_KEY_IN_USE - DR_E_BASE] = "reservation key already used by another node",
        [DR_E_NOT_REGISTERED - DR_E_BASE] = "not registered",
        [DR_E_STILL_REGISTERED - DR_E_BASE] = "key still registered after fencing",
        [DR_E_SELF_FENCE - DR_E_BASE] = "refusing to fence the local node",
        [DR_E_DAEMON - DR_E_BASE] = "droverd not reachable",
        [DR_E_PROTOCOL - DR_E_BASE] = "droverd protocol mismatch",
        [DR_E_CONFIG - DR_E_BASE] = "configuration error",
        [DR_E_LIBVIRT - DR_E_BASE] = "libvirt error",
    };
    /* In long, so that INT_MIN has a positive counterpart too. */
    long code = rc < 0 ? -(long)rc : rc;

    if (code == 0) {
        return "success";
    }
    if (code > DR_E_BASE && code < DR_E_MAX) {
        return names[code - DR_E_BASE];
    }
    if (code > DR_E_BASE) {
        return "unknown drover error";
    }
    return strerror((int)code);
}
