/*
 * Persistent reservations: device lifecycle, command execution with UNIT ATTENTION retry,
 * and the PR IN / OUT actions on top of the wire format in pr_wire.c. The transports
 * (pr_sgio.c, pr_iscsi.c) only move bytes; every decision about status and sense is here.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "drover/error.h"
#include "drover/pr.h"
#include "log_internal.h"
#include "pr_internal.h"

#define DEFAULT_TIMEOUT_MS 5000u
#define DEFAULT_UA_RETRIES 3u
#define IN_FIRST_ALLOC 1024u
#define IN_MAX_ALLOC 65535u

static void
hexdump(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    size_t pos = 0;

    out[0] = '\0';
    for (size_t i = 0; i < len && pos + 4 < out_len; i++) {
        pos += (size_t)snprintf(out + pos, out_len - pos, "%s%02x", i ? " " : "", p[i]);
    }
}

static void
path_close(struct dr__pr_path *p)
{
    if (p->transport != NULL && p->priv != NULL) {
        p->transport->close(p);
    }
    free(p->name);
    p->name = NULL;
    p->priv = NULL;
}

void
dr_pr_close(struct dr_pr_device *dev)
{
    if (dev == NULL) {
        return;
    }
    for (size_t i = 0; i < dev->n_paths; i++) {
        path_close(&dev->paths[i]);
    }
    free(dev->paths);
    free(dev->spec);
    free(dev);
}

static int
open_paths(struct dr_pr_device *dev, const char *spec, const struct dr_pr_open_opts *opts,
           unsigned int timeout_ms)
{
    char **slaves = NULL;
    size_t n_slaves = 0;
    const struct dr_pr_transport *t;
    int rc;

    if (strncmp(spec, "iscsi://", 8) == 0) {
        t = &dr__pr_iscsi_transport;
        n_slaves = 0;
    } else {
        struct stat st;

        t = &dr__pr_sgio_transport;
        if (stat(spec, &st) != 0) {
            rc = -errno;
            dr_err("PR device %s: %s", spec, strerror(errno));
            return rc;
        }
        /* A device-mapper node is a multipath map: act on each of its SCSI paths. */
        rc = dr__pr_dm_slaves("/sys", spec, &slaves, &n_slaves);
        if (rc < 0) {
            return rc;
        }
    }
    dev->n_paths = n_slaves > 0 ? n_slaves : 1;
    dev->paths = calloc(dev->n_paths, sizeof(*dev->paths));
    if (dev->paths == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < dev->n_paths; i++) {
        struct dr__pr_path *p = &dev->paths[i];

        p->transport = t;
        p->timeout_ms = timeout_ms;
        p->name = strdup(n_slaves > 0 ? slaves[i] : spec);
        if (p->name == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        rc = t->open(p, p->name, opts);
        if (rc < 0) {
            p->priv = NULL;
            goto out;
        }
    }
    if (n_slaves > 0) {
        dr_info("PR device %s is a multipath map with %zu paths", spec, n_slaves);
    }
    rc = 0;
out:
    for (size_t i = 0; i < n_slaves; i++) {
        free(slaves[i]);
    }
    free(slaves);
    return rc;
}

int
dr_pr_open(const char *spec, const struct dr_pr_open_opts *opts, struct dr_pr_device **out)
{
    struct dr_pr_device *dev;
    unsigned int timeout_ms = DEFAULT_TIMEOUT_MS;
    int rc;

    if (spec == NULL || spec[0] == '\0' || out == NULL) {
        return -EINVAL;
    }
    if (opts != NULL && opts->timeout_ms != 0) {
        timeout_ms = opts->timeout_ms;
    }
    dev = calloc(1, sizeof(*dev));
    if (dev == NULL) {
        return -ENOMEM;
    }
    dev->ua_retries =
        (opts != NULL && opts->ua_retries != 0) ? opts->ua_retries : DEFAULT_UA_RETRIES;
    dev->spec = strdup(spec);
    if (dev->spec == NULL) {
        free(dev);
        return -ENOMEM;
    }
    rc = open_paths(dev, spec, opts, timeout_ms);
    if (rc < 0) {
        dr_pr_close(dev);
        return rc;
    }
    *out = dev;
    return 0;
}

const char *
dr_pr_spec(const struct dr_pr_device *dev)
{
    return dev != NULL ? dev->spec : NULL;
}

size_t
dr_pr_path_count(const struct dr_pr_device *dev)
{
    return dev != NULL ? dev->n_paths : 0;
}

const struct dr_scsi_status *
dr_pr_last_status(const struct dr_pr_device *dev)
{
    return dev != NULL ? &dev->last : NULL;
}

bool
dr_pr_is_connected(const struct dr_pr_device *dev)
{
    if (dev == NULL) {
        return false;
    }
    for (size_t i = 0; i < dev->n_paths; i++) {
        const struct dr__pr_path *p = &dev->paths[i];
        if (p->transport->is_connected != NULL &&
            !p->transport->is_connected((struct dr__pr_path *)p)) {
            return false;
        }
    }
    return true;
}

int
dr_pr_describe_last(const struct dr_pr_device *dev, char *buf, size_t len)
{
    if (dev == NULL || buf == NULL || len == 0) {
        return -EINVAL;
    }
    dr__scsi_status_format(dev->last.status, &dev->last.sense, buf, len);
    return 0;
}

/*
 * Run one command on one path. UNIT ATTENTION is a report, not a refusal: the device did not
 * execute the command (SPC-4 5.14: tgtd sends 2A/03 to a preempted nexus, 2A/04 to the wrong
 * nexuses), so the command is reissued a bounded number of times.
 */
static int
run_on_path(struct dr_pr_device *dev, struct dr__pr_path *p, struct dr__scsi_cmd *cmd)
{
    char cdb_hex[64];
    int rc = 0;

    hexdump(cmd->cdb, cmd->cdb_len, cdb_hex, sizeof(cdb_hex));
    for (unsigned int attempt = 0; attempt <= dev->ua_retries; attempt++) {
        cmd->status = 0;
        cmd->sense_len = 0;
        cmd->xfer_len = 0;
        memset(&cmd->decoded, 0, sizeof(cmd->decoded));
        rc = p->transport->exec(p, cmd);
        if (rc < 0) {
            dev->last.status = 0xff;
            memset(&dev->last.sense, 0, sizeof(dev->last.sense));
            dr_debug("%s: CDB [%s]: transport %s: %s", p->name, cdb_hex, p->transport->name,
                     dr_strerror(rc));
            return rc;
        }
        if (cmd->sense_len > 0) {
            (void)dr__scsi_sense_decode(cmd->sense, cmd->sense_len, &cmd->decoded);
        }
        rc = dr__scsi_status_to_rc(cmd->status, &cmd->decoded);
        if (rc == 0) {
            dr_debug("%s: CDB [%s]: GOOD, %zu bytes in", p->name, cdb_hex, cmd->xfer_len);
            return 0;
        }
        dev->last.status = cmd->status;
        dev->last.sense = cmd->decoded;
        {
            char desc[160];
            dr__scsi_status_format(cmd->status, &cmd->decoded, desc, sizeof(desc));
            dr_debug("%s: CDB [%s]: %s", p->name, cdb_hex, desc);
        }
        if (rc == -DR_E_ILLEGAL_REQUEST && cmd->decoded.asc == 0x20 &&
            (cmd->cdb[0] == 0x5e || cmd->cdb[0] == 0x5f)) {
            /* INVALID COMMAND OPERATION CODE: the LU has no persistent reservations at all. */
            dr_err("%s does not support SCSI-3 persistent reservations (PERSISTENT RESERVE %s "
                   "is an invalid operation code there)",
                   p->name, cmd->cdb[0] == 0x5e ? "IN" : "OUT");
            return -DR_E_NOT_SUPPORTED;
        }
        if (rc != -DR_E_UNIT_ATTENTION) {
            return rc;
        }
    }
    return rc;
}

/* Reads go to the first path that answers; a transport failure moves on to the next path. */
static int
run_any_path(struct dr_pr_device *dev, struct dr__scsi_cmd *cmd)
{
    int rc = -DR_E_TRANSPORT;

    for (size_t i = 0; i < dev->n_paths; i++) {
        rc = run_on_path(dev, &dev->paths[i], cmd);
        if (rc == 0 || (rc != -DR_E_TRANSPORT && rc != -ETIMEDOUT && rc != -EIO &&
                        rc != -ENOTCONN && rc != -ECONNRESET)) {
            return rc;
        }
    }
    return rc;
}

static int
pr_in(struct dr_pr_device *dev, enum dr_pr_in_action sa, uint8_t **buf_out, size_t *len_out)
{
    uint8_t cdb[DR__PR_CDB_LEN];
    size_t alloc = IN_FIRST_ALLOC;
    uint8_t *buf = NULL;
    size_t got = 0;
    int rc;

    for (int round = 0; round < 2; round++) {
        struct dr__scsi_cmd cmd = {0};
        long needed;

        free(buf);
        buf = calloc(1, alloc);
        if (buf == NULL) {
            return -ENOMEM;
        }
        dr__pr_in_cdb(cdb, sa, (uint16_t)alloc);
        cmd.cdb = cdb;
        cmd.cdb_len = sizeof(cdb);
        cmd.dir = DR__DIR_IN;
        cmd.buf = buf;
        cmd.buf_len = alloc;
        rc = run_any_path(dev, &cmd);
        if (rc < 0) {
            free(buf);
            return rc;
        }
        got = cmd.xfer_len;
        needed = dr__pr_in_needed(sa, buf, cmd.xfer_len);
        if (needed > (long)alloc && alloc < IN_MAX_ALLOC) {
            /* The answer did not fit: ask again with the length the device announced. */
            alloc = needed > (long)IN_MAX_ALLOC ? IN_MAX_ALLOC : (size_t)needed;
            continue;
        }
        *buf_out = buf;
        *len_out = cmd.xfer_len;
        return 0;
    }
    /* Still too long (the answer grew between the reads): hand over only what arrived. */
    *buf_out = buf;
    *len_out = got;
    return 0;
}

int
dr_pr_read_keys(struct dr_pr_device *dev, struct dr_pr_keys *out)
{
    uint8_t *buf;
    size_t len;
    int rc;

    if (dev == NULL || out == NULL) {
        return -EINVAL;
    }
    rc = pr_in(dev, DR_PR_IN_READ_KEYS, &buf, &len);
    if (rc < 0) {
        return rc;
    }
    rc = dr__pr_parse_keys(buf, len, out);
    if (rc == -DR_E_BAD_RESPONSE) {
        dr_err("%s: READ KEYS answer of %zu bytes is truncated or inconsistent", dev->spec, len);
    }
    free(buf);
    return rc;
}

bool
dr_pr_keys_contain(const struct dr_pr_keys *keys, uint64_t key)
{
    if (keys == NULL) {
        return false;
    }
    for (size_t i = 0; i < keys->n_keys; i++) {
        if (keys->keys[i] == key) {
            return true;
        }
    }
    return false;
}

void
dr_pr_keys_free(struct dr_pr_keys *keys)
{
    if (keys == NULL) {
        return;
    }
    free(keys->keys);
    keys->keys = NULL;
    keys->n_keys = 0;
}

int
dr_pr_read_reservation(struct dr_pr_device *dev, struct dr_pr_reservation *out)
{
    uint8_t *buf;
    size_t len;
    int rc;

    if (dev == NULL || out == NULL) {
        return -EINVAL;
    }
    rc = pr_in(dev, DR_PR_IN_READ_RESERVATION, &buf, &len);
    if (rc < 0) {
        return rc;
    }
    rc = dr__pr_parse_reservation(buf, len, out);
    if (rc == -DR_E_BAD_RESPONSE) {
        dr_err("%s: READ RESERVATION answer of %zu bytes is inconsistent", dev->spec, len);
    }
    free(buf);
    return rc;
}

int
dr_pr_report_capabilities(struct dr_pr_device *dev, struct dr_pr_caps *out)
{
    uint8_t *buf;
    size_t len;
    int rc;

    if (dev == NULL || out == NULL) {
        return -EINVAL;
    }
    rc = pr_in(dev, DR_PR_IN_REPORT_CAPABILITIES, &buf, &len);
    if (rc == -DR_E_ILLEGAL_REQUEST) {
        return -DR_E_NOT_SUPPORTED;
    }
    if (rc < 0) {
        return rc;
    }
    rc = dr__pr_parse_caps(buf, len, out);
    if (rc == -DR_E_BAD_RESPONSE) {
        dr_err("%s: REPORT CAPABILITIES answer of %zu bytes is inconsistent", dev->spec, len);
    }
    free(buf);
    return rc;
}

int
dr_pr_read_full_status(struct dr_pr_device *dev, struct dr_pr_full_status *out)
{
    uint8_t *buf;
    size_t len;
    int rc;

    if (dev == NULL || out == NULL) {
        return -EINVAL;
    }
    rc = pr_in(dev, DR_PR_IN_READ_FULL_STATUS, &buf, &len);
    if (rc == -DR_E_ILLEGAL_REQUEST) {
        return -DR_E_NOT_SUPPORTED;
    }
    if (rc < 0) {
        return rc;
    }
    rc = dr__pr_parse_full_status(buf, len, out);
    if (rc == -DR_E_BAD_RESPONSE) {
        dr_err("%s: READ FULL STATUS answer of %zu bytes is inconsistent", dev->spec, len);
    }
    free(buf);
    return rc;
}

void
dr_pr_full_status_free(struct dr_pr_full_status *st)
{
    if (st == NULL) {
        return;
    }
    free(st->entries);
    st->entries = NULL;
    st->n_entries = 0;
}

static void
out_cmd(struct dr__scsi_cmd *cmd, uint8_t cdb[DR__PR_CDB_LEN], uint8_t params[DR__PR_OUT_PARAM_LEN],
        enum dr_pr_out_action sa, uint8_t type, uint64_t key, uint64_t sa_key, uint8_t flags)
{
    dr__pr_out_cdb(cdb, sa, 0, type, DR__PR_OUT_PARAM_LEN);
    dr__pr_out_params(params, key, sa_key, flags);
    memset(cmd, 0, sizeof(*cmd));
    cmd->cdb = cdb;
    cmd->cdb_len = DR__PR_CDB_LEN;
    cmd->dir = DR__DIR_OUT;
    cmd->buf = params;
    cmd->buf_len = DR__PR_OUT_PARAM_LEN;
}

/* REGISTER-type actions go to every path: each I_T nexus holds its own registration. */
static int
pr_out_all_paths(struct dr_pr_device *dev, enum dr_pr_out_action sa, uint64_t key, uint64_t sa_key,
                 unsigned int flags)
{
    uint8_t cdb[DR__PR_CDB_LEN], params[DR__PR_OUT_PARAM_LEN];
    struct dr__scsi_cmd cmd;
    int rc;

    if (flags & ~(DR_PR_OUT_FLAG_APTPL | DR_PR_OUT_FLAG_ALL_TG_PT)) {
        return -EINVAL;
    }
    for (size_t i = 0; i < dev->n_paths; i++) {
        out_cmd(&cmd, cdb, params, sa, 0, key, sa_key, (uint8_t)flags);
        rc = run_on_path(dev, &dev->paths[i], &cmd);
        if (rc == -DR_E_ILLEGAL_REQUEST && flags != 0) {
            /* tgtd answers 05/24/00 to APTPL and ALL_TG_PT (lab-notes/iscsi-pr). */
            return -DR_E_NOT_SUPPORTED;
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int
pr_out_one(struct dr_pr_device *dev, enum dr_pr_out_action sa, uint8_t type, uint64_t key,
           uint64_t sa_key)
{
    uint8_t cdb[DR__PR_CDB_LEN], params[DR__PR_OUT_PARAM_LEN];
    struct dr__scsi_cmd cmd;

    out_cmd(&cmd, cdb, params, sa, type, key, sa_key, 0);
    return run_any_path(dev, &cmd);
}

int
dr_pr_register(struct dr_pr_device *dev, uint64_t old_key, uint64_t new_key, unsigned int flags)
{
    if (dev == NULL) {
        return -EINVAL;
    }
    return pr_out_all_paths(dev, DR_PR_OUT_REGISTER, old_key, new_key, flags);
}

int
dr_pr_register_ignore(struct dr_pr_device *dev, uint64_t new_key, unsigned int flags)
{
    if (dev == NULL) {
        return -EINVAL;
    }
    return pr_out_all_paths(dev, DR_PR_OUT_REGISTER_AND_IGNORE, 0, new_key, flags);
}

static bool
type_valid(unsigned int type)
{
    return dr_pr_type_name(type)[0] != 'u';
}

int
dr_pr_reserve(struct dr_pr_device *dev, uint64_t key, enum dr_pr_type type)
{
    if (dev == NULL || !type_valid(type)) {
        return -EINVAL;
    }
    return pr_out_one(dev, DR_PR_OUT_RESERVE, (uint8_t)type, key, 0);
}

int
dr_pr_release(struct dr_pr_device *dev, uint64_t key, enum dr_pr_type type)
{
    if (dev == NULL || !type_valid(type)) {
        return -EINVAL;
    }
    return pr_out_one(dev, DR_PR_OUT_RELEASE, (uint8_t)type, key, 0);
}

int
dr_pr_clear(struct dr_pr_device *dev, uint64_t key)
{
    if (dev == NULL) {
        return -EINVAL;
    }
    return pr_out_one(dev, DR_PR_OUT_CLEAR, 0, key, 0);
}

int
dr_pr_preempt(struct dr_pr_device *dev, uint64_t key, uint64_t victim_key, enum dr_pr_type type,
              bool abort)
{
    int rc;

    if (dev == NULL || !type_valid(type) || victim_key == 0) {
        return -EINVAL;
    }
    rc = pr_out_one(dev, abort ? DR_PR_OUT_PREEMPT_AND_ABORT : DR_PR_OUT_PREEMPT, (uint8_t)type,
                    key, victim_key);
    if (abort && rc == -DR_E_ILLEGAL_REQUEST && dev->last.sense.asc == 0x24) {
        /* tgtd has no PREEMPT AND ABORT: 05/24/00 on the service action (lab-notes/iscsi-pr). */
        return -DR_E_NOT_SUPPORTED;
    }
    return rc;
}

/* "iqn.x:node1,i,0x23d000000001" -> compare only the name part, case-insensitively. */
static bool
same_initiator(const char *transport_id, const char *initiator)
{
    size_t n = strcspn(transport_id, ",");

    return strlen(initiator) == n && strncasecmp(transport_id, initiator, n) == 0;
}

int
dr_pr_check_key_owner(struct dr_pr_device *dev, uint64_t key, const char *initiator)
{
    struct dr_pr_full_status st = {0};
    int rc;

    if (dev == NULL || initiator == NULL || initiator[0] == '\0') {
        return -EINVAL;
    }
    rc = dr_pr_read_full_status(dev, &st);
    if (rc < 0) {
        return rc;
    }
    for (size_t i = 0; i < st.n_entries && rc == 0; i++) {
        const struct dr_pr_full_status_entry *e = &st.entries[i];
        /* SPC-4 7.6.4.6: protocol 5 is iSCSI; other transports name no initiator we know. */
        if (e->key == key && e->protocol == 5 && !same_initiator(e->transport_id, initiator)) {
            dr_err("%s: key 0x%016llx is registered by initiator %s, not by this node's %s: "
                   "another node uses this node's name",
                   dev->spec, (unsigned long long)key, e->transport_id, initiator);
            rc = -DR_E_KEY_IN_USE;
        }
    }
    dr_pr_full_status_free(&st);
    return rc;
}

static int
read_capacity_block_len(struct dr_pr_device *dev, uint32_t *block_len)
{
    uint8_t cdb[10] = {0x25};
    uint8_t data[8] = {0};
    struct dr__scsi_cmd cmd = {0};
    int rc;

    cmd.cdb = cdb;
    cmd.cdb_len = sizeof(cdb);
    cmd.dir = DR__DIR_IN;
    cmd.buf = data;
    cmd.buf_len = sizeof(data);
    rc = run_any_path(dev, &cmd);
    if (rc < 0) {
        return rc;
    }
    if (cmd.xfer_len < 8) {
        return -DR_E_BAD_RESPONSE;
    }
    *block_len =
        ((uint32_t)data[4] << 24) | ((uint32_t)data[5] << 16) | ((uint32_t)data[6] << 8) | data[7];
    if (*block_len == 0 || *block_len > 65536) {
        return -DR_E_BAD_RESPONSE;
    }
    return 0;
}

int
dr_pr_probe_write(struct dr_pr_device *dev, uint32_t lba)
{
    uint8_t cdb[10];
    uint32_t block_len;
    uint8_t *block;
    struct dr__scsi_cmd cmd = {0};
    int rc;

    if (dev == NULL) {
        return -EINVAL;
    }
    rc = read_capacity_block_len(dev, &block_len);
    if (rc < 0) {
        return rc;
    }
    block = calloc(1, block_len);
    if (block == NULL) {
        return -ENOMEM;
    }
    /* READ(10) then WRITE(10) of the same bytes with FUA, so nothing changes on the medium. */
    memset(cdb, 0, sizeof(cdb));
    cdb[0] = 0x28;
    cdb[2] = (uint8_t)(lba >> 24);
    cdb[3] = (uint8_t)(lba >> 16);
    cdb[4] = (uint8_t)(lba >> 8);
    cdb[5] = (uint8_t)lba;
    cdb[8] = 1;
    cmd.cdb = cdb;
    cmd.cdb_len = sizeof(cdb);
    cmd.dir = DR__DIR_IN;
    cmd.buf = block;
    cmd.buf_len = block_len;
    rc = run_any_path(dev, &cmd);
    if (rc == 0 && cmd.xfer_len < block_len) {
        /* Writing back a block we did not read in full would change the medium. */
        rc = -DR_E_BAD_RESPONSE;
    }
    if (rc == 0) {
        cdb[0] = 0x2a;
        cdb[1] = 0x08; /* FUA */
        memset(&cmd, 0, sizeof(cmd));
        cmd.cdb = cdb;
        cmd.cdb_len = sizeof(cdb);
        cmd.dir = DR__DIR_OUT;
        cmd.buf = block;
        cmd.buf_len = block_len;
        rc = run_any_path(dev, &cmd);
    }
    free(block);
    return rc;
}

uint32_t
dr__fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s != '\0'; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

int
dr_pr_key_derive(const char *cluster_name, const char *node_name, uint64_t *key)
{
    uint32_t c;

    if (cluster_name == NULL || node_name == NULL || key == NULL || cluster_name[0] == '\0' ||
        node_name[0] == '\0' || strlen(cluster_name) > 255 || strlen(node_name) > 255) {
        return -EINVAL;
    }
    c = dr__fnv1a32(cluster_name);
    *key = (UINT64_C(0x6472) << 48) | ((uint64_t)((c >> 16) ^ (c & 0xffff)) << 32) |
           dr__fnv1a32(node_name);
    return 0;
}

int
dr_pr_keys_check_unique(const char *cluster_name, const char *const *node_names, size_t n)
{
    uint64_t *keys;
    int rc = 0;

    if (cluster_name == NULL || (node_names == NULL && n > 0)) {
        return -EINVAL;
    }
    keys = calloc(n ? n : 1, sizeof(*keys));
    if (keys == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = dr_pr_key_derive(cluster_name, node_names[i], &keys[i]);
        for (size_t j = 0; rc == 0 && j < i; j++) {
            if (keys[j] == keys[i] && strcmp(node_names[i], node_names[j]) != 0) {
                dr_err("nodes %s and %s derive the same reservation key 0x%016llx; rename one",
                       node_names[j], node_names[i], (unsigned long long)keys[i]);
                rc = -DR_E_KEY_IN_USE;
            }
        }
    }
    free(keys);
    return rc;
}

static const struct {
    enum dr_pr_type type;
    const char *short_name;
    const char *long_name;
} type_names[] = {
    {DR_PR_TYPE_WRITE_EXCLUSIVE, "WE", "write-exclusive"},
    {DR_PR_TYPE_EXCLUSIVE_ACCESS, "EA", "exclusive-access"},
    {DR_PR_TYPE_WRITE_EXCLUSIVE_RO, "WERO", "write-exclusive-registrants-only"},
    {DR_PR_TYPE_EXCLUSIVE_ACCESS_RO, "EARO", "exclusive-access-registrants-only"},
    {DR_PR_TYPE_WRITE_EXCLUSIVE_AR, "WEAR", "write-exclusive-all-registrants"},
    {DR_PR_TYPE_EXCLUSIVE_ACCESS_AR, "EAAR", "exclusive-access-all-registrants"},
};

const char *
dr_pr_type_name(unsigned int type)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if ((unsigned int)type_names[i].type == type) {
            return type_names[i].short_name;
        }
    }
    return "unknown";
}

int
dr_pr_type_parse(const char *s, enum dr_pr_type *out)
{
    if (s == NULL || out == NULL) {
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        char num[4];

        snprintf(num, sizeof(num), "%d", (int)type_names[i].type);
        if (strcasecmp(s, type_names[i].short_name) == 0 ||
            strcasecmp(s, type_names[i].long_name) == 0 || strcmp(s, num) == 0) {
            *out = type_names[i].type;
            return 0;
        }
    }
    return -EINVAL;
}
