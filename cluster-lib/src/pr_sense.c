/*
 * SCSI sense data (SPC-4 4.5) decoded into named errors, and the single place where a SCSI
 * status byte plus sense becomes a libdrover return code.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drover/error.h"
#include "pr_internal.h"

int
dr__scsi_sense_decode(const uint8_t *sense, size_t len, struct dr_scsi_sense *out)
{
    uint8_t rc;

    if (out == NULL) {
        return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    if (sense == NULL || len < 2) {
        return -DR_E_BAD_RESPONSE;
    }
    rc = sense[0] & 0x7f;
    if (rc == 0x70 || rc == 0x71) {
        /* SPC-4 4.5.3, fixed format: key in byte 2, ASC/ASCQ in 12/13, SKS in 15..17. */
        size_t avail;

        if (len < 3) {
            return -DR_E_BAD_RESPONSE;
        }
        out->response = rc;
        out->key = sense[2] & 0x0f;
        avail = len >= 8 ? (size_t)sense[7] + 8 : len;
        if (avail > len) {
            avail = len;
        }
        if (avail >= 14) {
            out->asc = sense[12];
            out->ascq = sense[13];
        }
        if (avail >= 18 && (sense[15] & 0x80)) {
            out->field_valid = true;
            out->in_cdb = (sense[15] & 0x40) != 0;
            out->field = (uint16_t)((sense[16] << 8) | sense[17]);
        }
        out->valid = true;
        return 0;
    }
    if (rc == 0x72 || rc == 0x73) {
        /* SPC-4 4.5.2, descriptor format: key/ASC/ASCQ in bytes 1..3, descriptors from 8. */
        size_t end, pos;

        if (len < 4) {
            return -DR_E_BAD_RESPONSE;
        }
        out->response = rc;
        out->key = sense[1] & 0x0f;
        out->asc = sense[2];
        out->ascq = sense[3];
        out->valid = true;
        end = len >= 8 ? (size_t)sense[7] + 8 : 8;
        if (end > len) {
            end = len;
        }
        for (pos = 8; pos + 2 <= end;) {
            size_t dlen = (size_t)sense[pos + 1] + 2;
            if (pos + dlen > end) {
                break;
            }
            /* 4.5.2.4: the sense-key specific descriptor, type 02h, length 06h. */
            if (sense[pos] == 0x02 && dlen >= 8 && (sense[pos + 4] & 0x80)) {
                out->field_valid = true;
                out->in_cdb = (sense[pos + 4] & 0x40) != 0;
                out->field = (uint16_t)((sense[pos + 5] << 8) | sense[pos + 6]);
            }
            pos += dlen;
        }
        return 0;
    }
    return -DR_E_BAD_RESPONSE;
}

int
dr__scsi_status_to_rc(uint8_t status, const struct dr_scsi_sense *sense)
{
    switch (status) {
    case 0x00: /* GOOD */
    case 0x04: /* CONDITION MET */
        return 0;
    case 0x18:
        return -DR_E_RESERVATION_CONFLICT;
    case 0x02: /* CHECK CONDITION */
        break;
    default:
        return -DR_E_SCSI_STATUS;
    }
    if (sense == NULL || !sense->valid) {
        return -DR_E_CHECK_CONDITION;
    }
    switch (sense->key) {
    case 0x0: /* NO SENSE */
    case 0x1: /* RECOVERED ERROR: the command completed */
        return 0;
    case 0x2:
        return -DR_E_NOT_READY;
    case 0x3:
    case 0x4:
        return -DR_E_MEDIUM;
    case 0x5:
        if (sense->asc == 0x25) {
            return -DR_E_NO_LUN;
        }
        return -DR_E_ILLEGAL_REQUEST;
    case 0x6:
        return -DR_E_UNIT_ATTENTION;
    default:
        return -DR_E_CHECK_CONDITION;
    }
}

const char *
dr_scsi_sense_key_name(uint8_t key)
{
    static const char *const names[16] = {
        "NO SENSE",       "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
        "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
        "BLANK CHECK",    "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
        "RESERVED (0xC)", "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED",
    };
    return names[key & 0x0f];
}

const char *
dr_scsi_asc_name(uint8_t asc, uint8_t ascq)
{
    /* The subset of SPC-4 Annex D that PR traffic meets. */
    static const struct {
        uint8_t asc, ascq;
        const char *name;
    } table[] = {
        {0x00, 0x00, "NO ADDITIONAL SENSE INFORMATION"},
        {0x04, 0x00, "LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE"},
        {0x04, 0x01, "LOGICAL UNIT IS IN PROCESS OF BECOMING READY"},
        {0x04, 0x02, "LOGICAL UNIT NOT READY, INITIALIZING COMMAND REQUIRED"},
        {0x1a, 0x00, "PARAMETER LIST LENGTH ERROR"},
        {0x20, 0x00, "INVALID COMMAND OPERATION CODE"},
        {0x24, 0x00, "INVALID FIELD IN CDB"},
        {0x25, 0x00, "LOGICAL UNIT NOT SUPPORTED"},
        {0x26, 0x00, "INVALID FIELD IN PARAMETER LIST"},
        {0x27, 0x00, "WRITE PROTECTED"},
        {0x29, 0x00, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED"},
        {0x29, 0x01, "POWER ON OCCURRED"},
        {0x29, 0x07, "I_T NEXUS LOSS OCCURRED"},
        {0x2a, 0x01, "MODE PARAMETERS CHANGED"},
        {0x2a, 0x03, "RESERVATIONS PREEMPTED"},
        {0x2a, 0x04, "RESERVATIONS RELEASED"},
        {0x2a, 0x05, "REGISTRATIONS PREEMPTED"},
        {0x2c, 0x00, "COMMAND SEQUENCE ERROR"},
        {0x3a, 0x00, "MEDIUM NOT PRESENT"},
        {0x3f, 0x0e, "REPORTED LUNS DATA HAS CHANGED"},
        {0x55, 0x02, "INSUFFICIENT RESERVATION RESOURCES"},
        {0x55, 0x03, "INSUFFICIENT RESOURCES"},
        {0x55, 0x04, "INSUFFICIENT REGISTRATION RESOURCES"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].asc == asc && table[i].ascq == ascq) {
            return table[i].name;
        }
    }
    return NULL;
}

static const char *
status_name(uint8_t status)
{
    switch (status) {
    case 0x00:
        return "GOOD";
    case 0x02:
        return "CHECK CONDITION";
    case 0x04:
        return "CONDITION MET";
    case 0x08:
        return "BUSY";
    case 0x18:
        return "RESERVATION CONFLICT";
    case 0x28:
        return "TASK SET FULL";
    case 0x30:
        return "ACA ACTIVE";
    case 0x40:
        return "TASK ABORTED";
    case 0xff:
        return "TRANSPORT FAILURE";
    default:
        return "UNKNOWN STATUS";
    }
}

void
dr__scsi_status_format(uint8_t status, const struct dr_scsi_sense *sense, char *buf, size_t len)
{
    const char *asc;

    if (buf == NULL || len == 0) {
        return;
    }
    if (status != 0x02 || sense == NULL || !sense->valid) {
        snprintf(buf, len, "%s (0x%02x)", status_name(status), status);
        return;
    }
    asc = dr_scsi_asc_name(sense->asc, sense->ascq);
    snprintf(buf, len, "CHECK CONDITION, %s, ASC/ASCQ %02x/%02x %s%s",
             dr_scsi_sense_key_name(sense->key), sense->asc, sense->ascq,
             asc != NULL ? asc : "(unlisted)",
             sense->field_valid ? (sense->in_cdb ? ", field in CDB" : ", field in parameter list")
                                : "");
}
