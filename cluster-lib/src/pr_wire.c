/*
 * The bytes of PERSISTENT RESERVE IN / OUT: CDBs, the OUT parameter list, and the parsing
 * of every IN answer. Everything here is pure (no I/O) so that unit tests and fuzzers can
 * drive it byte by byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drover/error.h"
#include "pr_internal.h"

static uint32_t
get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint64_t
get_be64(const uint8_t *p)
{
    return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

void
dr__pr_in_cdb(uint8_t cdb[DR__PR_CDB_LEN], enum dr_pr_in_action sa, uint16_t alloc_len)
{
    /* SPC-4 6.15.1, table 201. */
    memset(cdb, 0, DR__PR_CDB_LEN);
    cdb[0] = 0x5e;
    cdb[1] = (uint8_t)(sa & 0x1f);
    cdb[7] = (uint8_t)(alloc_len >> 8);
    cdb[8] = (uint8_t)(alloc_len & 0xff);
}

void
dr__pr_out_cdb(uint8_t cdb[DR__PR_CDB_LEN], enum dr_pr_out_action sa, uint8_t scope, uint8_t type,
               uint32_t param_len)
{
    /* SPC-4 6.16.1, table 208: the parameter list length is 32 bits in bytes 5..8. */
    memset(cdb, 0, DR__PR_CDB_LEN);
    cdb[0] = 0x5f;
    cdb[1] = (uint8_t)(sa & 0x1f);
    cdb[2] = (uint8_t)(((scope & 0x0f) << 4) | (type & 0x0f));
    cdb[5] = (uint8_t)(param_len >> 24);
    cdb[6] = (uint8_t)(param_len >> 16);
    cdb[7] = (uint8_t)(param_len >> 8);
    cdb[8] = (uint8_t)(param_len & 0xff);
}

void
dr__pr_out_params(uint8_t buf[DR__PR_OUT_PARAM_LEN], uint64_t key, uint64_t sa_key, uint8_t flags)
{
    /* SPC-4 6.16.3, table 214: key, service action key, obsolete scope address, flags. */
    memset(buf, 0, DR__PR_OUT_PARAM_LEN);
    put_be64(buf, key);
    put_be64(buf + 8, sa_key);
    buf[20] = (uint8_t)(flags & (DR_PR_OUT_FLAG_SPEC_I_PT | DR_PR_OUT_FLAG_ALL_TG_PT |
                                 DR_PR_OUT_FLAG_APTPL));
}

long
dr__pr_in_needed(enum dr_pr_in_action sa, const uint8_t *buf, size_t len)
{
    if (buf == NULL) {
        return -1;
    }
    if (sa == DR_PR_IN_REPORT_CAPABILITIES) {
        return len >= 2 ? (long)get_be16(buf) : -1;
    }
    if (len < 8) {
        return -1;
    }
    return (long)get_be32(buf + 4) + 8;
}

int
dr__pr_parse_keys(const uint8_t *buf, size_t len, struct dr_pr_keys *out)
{
    uint32_t add_len;
    size_t n;
    uint64_t *keys = NULL;

    if (buf == NULL || out == NULL) {
        return -EINVAL;
    }
    /* SPC-4 6.15.2, table 203: generation, additional length, then 8 bytes per key. */
    if (len < 8) {
        return -DR_E_BAD_RESPONSE;
    }
    add_len = get_be32(buf + 4);
    if (add_len % 8 != 0 || (size_t)add_len > len - 8) {
        /* A partial key list could hide the very key a fence must find: refuse it. */
        return -DR_E_BAD_RESPONSE;
    }
    n = add_len / 8;
    if (n > DR_PR_MAX_KEYS) {
        return -DR_E_BAD_RESPONSE;
    }
    if (n > 0) {
        keys = calloc(n, sizeof(*keys));
        if (keys == NULL) {
            return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            keys[i] = get_be64(buf + 8 + 8 * i);
        }
    }
    out->generation = get_be32(buf);
    out->n_keys = n;
    out->keys = keys;
    return 0;
}

int
dr__pr_parse_reservation(const uint8_t *buf, size_t len, struct dr_pr_reservation *out)
{
    uint32_t add_len;

    if (buf == NULL || out == NULL) {
        return -EINVAL;
    }
    /* SPC-4 6.15.3, tables 204/205: additional length is 0 (none) or 0x10 (one reservation). */
    if (len < 8) {
        return -DR_E_BAD_RESPONSE;
    }
    add_len = get_be32(buf + 4);
    if (add_len == 0) {
        memset(out, 0, sizeof(*out));
        out->generation = get_be32(buf);
        return 0;
    }
    if (add_len != 0x10 || len < 8 + 0x10) {
        return -DR_E_BAD_RESPONSE;
    }
    out->generation = get_be32(buf);
    out->reserved = true;
    out->key = get_be64(buf + 8);
    out->scope = (uint8_t)(buf[21] >> 4);
    out->type = (uint8_t)(buf[21] & 0x0f);
    return 0;
}

int
dr__pr_parse_caps(const uint8_t *buf, size_t len, struct dr_pr_caps *out)
{
    uint16_t mask = 0;

    if (buf == NULL || out == NULL) {
        return -EINVAL;
    }
    /* SPC-4 6.15.4, table 206: an 8-byte answer whose LENGTH field says 8. */
    if (len < 8 || get_be16(buf) < 8) {
        return -DR_E_BAD_RESPONSE;
    }
    memset(out, 0, sizeof(*out));
    out->crh = (buf[2] & 0x10) != 0;
    out->sip_c = (buf[2] & 0x08) != 0;
    out->atp_c = (buf[2] & 0x04) != 0;
    out->ptpl_c = (buf[2] & 0x01) != 0;
    out->tmv = (buf[3] & 0x80) != 0;
    out->allow_commands = (uint8_t)((buf[3] >> 4) & 0x07);
    out->ptpl_a = (buf[3] & 0x01) != 0;
    /* Table 207: WR_EX_AR bit 7, EX_AC_RO 6, WR_EX_RO 5, EX_AC 3, WR_EX 1; EX_AC_AR byte 5 bit 0.
     */
    if (buf[4] & 0x80) {
        mask |= 1u << DR_PR_TYPE_WRITE_EXCLUSIVE_AR;
    }
    if (buf[4] & 0x40) {
        mask |= 1u << DR_PR_TYPE_EXCLUSIVE_ACCESS_RO;
    }
    if (buf[4] & 0x20) {
        mask |= 1u << DR_PR_TYPE_WRITE_EXCLUSIVE_RO;
    }
    if (buf[4] & 0x08) {
        mask |= 1u << DR_PR_TYPE_EXCLUSIVE_ACCESS;
    }
    if (buf[4] & 0x02) {
        mask |= 1u << DR_PR_TYPE_WRITE_EXCLUSIVE;
    }
    if (buf[5] & 0x01) {
        mask |= 1u << DR_PR_TYPE_EXCLUSIVE_ACCESS_AR;
    }
    out->type_mask = out->tmv ? mask : 0;
    return 0;
}

static void
format_transport_id(const uint8_t *tid, size_t len, struct dr_pr_full_status_entry *e)
{
    size_t pos = 0;

    e->protocol = (uint8_t)(tid[0] & 0x0f);
    /* SPC-4 7.6.4.6: an iSCSI TransportID carries a NUL-terminated name from byte 4. */
    if (e->protocol == 5 && len > 4) {
        size_t n = len - 4;
        if (n >= sizeof(e->transport_id)) {
            n = sizeof(e->transport_id) - 1;
        }
        memcpy(e->transport_id, tid + 4, n);
        e->transport_id[n] = '\0';
        /* The name may contain the ISID after ",i,0x"; keep it, it tells nexuses apart. */
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)e->transport_id[i];
            if (c == '\0') {
                break;
            }
            if (c < 0x20 || c > 0x7e) {
                e->transport_id[i] = '?';
            }
        }
        return;
    }
    for (size_t i = 0; i < len && pos + 3 < sizeof(e->transport_id); i++) {
        pos +=
            (size_t)snprintf(e->transport_id + pos, sizeof(e->transport_id) - pos, "%02x", tid[i]);
    }
}

int
dr__pr_parse_full_status(const uint8_t *buf, size_t len, struct dr_pr_full_status *out)
{
    uint32_t add_len;
    size_t pos, end, n = 0, cap = 0;
    struct dr_pr_full_status_entry *entries = NULL;

    if (buf == NULL || out == NULL) {
        return -EINVAL;
    }
    /* SPC-4 6.15.5, tables 208/209: header, then variable-length status descriptors. */
    if (len < 8) {
        return -DR_E_BAD_RESPONSE;
    }
    add_len = get_be32(buf + 4);
    if ((size_t)add_len > len - 8) {
        return -DR_E_BAD_RESPONSE;
    }
    end = 8 + (size_t)add_len;
    for (pos = 8; pos < end;) {
        uint32_t tid_len;
        struct dr_pr_full_status_entry *e;

        if (end - pos < 24) {
            goto bad;
        }
        tid_len = get_be32(buf + pos + 20);
        if (tid_len > end - pos - 24 || (tid_len > 0 && tid_len < 4)) {
            goto bad;
        }
        if (n == DR_PR_MAX_KEYS) {
            goto bad;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct dr_pr_full_status_entry *p = realloc(entries, ncap * sizeof(*p));
            if (p == NULL) {
                free(entries);
                return -ENOMEM;
            }
            entries = p;
            cap = ncap;
        }
        e = &entries[n++];
        memset(e, 0, sizeof(*e));
        e->key = get_be64(buf + pos);
        e->all_tg_pt = (buf[pos + 12] & 0x02) != 0;
        e->holder = (buf[pos + 12] & 0x01) != 0;
        e->scope = (uint8_t)(buf[pos + 13] >> 4);
        e->type = (uint8_t)(buf[pos + 13] & 0x0f);
        e->rel_tgt_port = get_be16(buf + pos + 18);
        if (tid_len > 0) {
            format_transport_id(buf + pos + 24, tid_len, e);
        }
        pos += 24 + (size_t)tid_len;
    }
    out->generation = get_be32(buf);
    out->n_entries = n;
    out->entries = entries;
    return 0;
bad:
    free(entries);
    return -DR_E_BAD_RESPONSE;
}
