/*
 * Internals of the PR module shared between pr.c, pr_wire.c and the two transports, and
 * reachable from the unit tests (which link the static library).
 */
#ifndef DROVER_PR_INTERNAL_H
#define DROVER_PR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "drover/pr.h"

#define DR__PR_CDB_LEN 10
#define DR__PR_OUT_PARAM_LEN 24
#define DR__SENSE_MAX 252

/* Data direction of a command. */
enum dr__dir {
    DR__DIR_NONE = 0,
    DR__DIR_IN,
    DR__DIR_OUT,
};

/* One command as the transports see it. */
struct dr__scsi_cmd {
    const uint8_t *cdb;
    size_t cdb_len;
    enum dr__dir dir;
    uint8_t *buf;    /* data in or out */
    size_t buf_len;  /* allocation / parameter list length */
    size_t xfer_len; /* set by the transport: bytes actually transferred in */
    uint8_t status;  /* set by the transport: SCSI status byte */
    uint8_t sense[DR__SENSE_MAX];
    size_t sense_len;             /* raw sense bytes, when the transport has them */
    struct dr_scsi_sense decoded; /* set when the transport decoded sense itself */
};

struct dr__pr_path;

/*
 * A transport moves one command to one path. It returns 0 when the command reached the
 * device and a status came back (GOOD or not: the core interprets status and sense), and a
 * negative code when the transport itself failed (timeout, connection lost).
 */
struct dr_pr_transport {
    const char *name;
    int (*open)(struct dr__pr_path *path, const char *spec, const struct dr_pr_open_opts *opts);
    void (*close)(struct dr__pr_path *path);
    int (*exec)(struct dr__pr_path *path, struct dr__scsi_cmd *cmd);
    int (*is_connected)(struct dr__pr_path *path);
};

struct dr__pr_path {
    const struct dr_pr_transport *transport;
    char *name; /* the device node or URL of this path */
    void *priv; /* transport state */
    unsigned int timeout_ms;
};

struct dr_pr_device {
    char *spec;
    size_t n_paths;
    struct dr__pr_path *paths;
    unsigned int ua_retries;
    struct dr_scsi_status last;
};

extern const struct dr_pr_transport dr__pr_sgio_transport;
extern const struct dr_pr_transport dr__pr_iscsi_transport;

/* Wire format: CDBs and parameter lists (pr_wire.c). */
void dr__pr_in_cdb(uint8_t cdb[DR__PR_CDB_LEN], enum dr_pr_in_action sa, uint16_t alloc_len);
void dr__pr_out_cdb(uint8_t cdb[DR__PR_CDB_LEN], enum dr_pr_out_action sa, uint8_t scope,
                    uint8_t type, uint32_t param_len);
void dr__pr_out_params(uint8_t buf[DR__PR_OUT_PARAM_LEN], uint64_t key, uint64_t sa_key,
                       uint8_t flags);
int dr__pr_parse_keys(const uint8_t *buf, size_t len, struct dr_pr_keys *out);
int dr__pr_parse_reservation(const uint8_t *buf, size_t len, struct dr_pr_reservation *out);
int dr__pr_parse_caps(const uint8_t *buf, size_t len, struct dr_pr_caps *out);
int dr__pr_parse_full_status(const uint8_t *buf, size_t len, struct dr_pr_full_status *out);
/* Bytes the device says it has for a PR IN answer (header ADDITIONAL LENGTH + 8), or -1. */
long dr__pr_in_needed(enum dr_pr_in_action sa, const uint8_t *buf, size_t len);

/* Sense data (pr_sense.c). */
int dr__scsi_sense_decode(const uint8_t *sense, size_t len, struct dr_scsi_sense *out);
/* Map a SCSI status + sense to 0 or a -DR_E_* code. */
int dr__scsi_status_to_rc(uint8_t status, const struct dr_scsi_sense *sense);
/* Format "CHECK CONDITION, ILLEGAL REQUEST, 24/00 INVALID FIELD IN CDB" into buf. */
void dr__scsi_status_format(uint8_t status, const struct dr_scsi_sense *sense, char *buf,
                            size_t len);

/* Multipath: list the slave devices of a device-mapper node (pr_sgio.c). */
int dr__pr_dm_slaves(const char *sysfs_root, const char *dev_path, char ***out, size_t *n);

/* FNV-1a 32 (pr.c), exposed for the key-derivation tests. */
uint32_t dr__fnv1a32(const char *s);

#endif
