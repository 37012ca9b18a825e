/**
 * \file pr.h
 * \brief SCSI-3 persistent reservations (SPC-4 5.14, 6.15, 6.16) on shared storage.
 *
 * Lifecycle: dr_pr_open() a device, issue PERSISTENT RESERVE IN / OUT actions with the calls
 * below, dr_pr_close() it. A device is one of
 *  - a block or sg device node (`/dev/sdb`, `/dev/sg2`, `/dev/disk/by-id/...`), driven with the
 *    SG_IO ioctl. Registrations made this way belong to the host's I_T nexus and outlive the
 *    process. A device-mapper multipath device (`/dev/dm-3`, `/dev/mapper/mpatha`) is opened as
 *    all of its paths: REGISTER actions go to every path (every I_T nexus must be registered),
 *    every other action to the first path that answers.
 *  - an iSCSI URL `iscsi://[user%password@]portal[:port]/target-iqn/lun`, driven by libiscsi
 *    with the initiator IQN from dr_pr_open_opts. Registrations belong to the iSCSI session and
 *    end with it (on tgtd a stale copy of the key may stay listed), so a node's long-lived
 *    registration must be made by the process that keeps the session: droverd.
 *
 * UNIT ATTENTION is retried (the command is reissued) up to dr_pr_open_opts.ua_retries times;
 * the last sense data of every failed command is kept on the device (dr_pr_last_sense()).
 *
 * Keys: drover derives a node's reservation key from the cluster name and the node name with
 * dr_pr_key_derive(), so a key never changes when other nodes join or leave.
 *
 * Thread safety: a device may be used by one thread at a time.
 */
#ifndef DROVER_PR_H
#define DROVER_PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is libdrover's public ABI (the library builds with hidden visibility).
 */
#pragma GCC visibility push(default)

/** Reservation types (SPC-4 table 212, the TYPE field). */
enum dr_pr_type {
    DR_PR_TYPE_WRITE_EXCLUSIVE = 0x1,
    DR_PR_TYPE_EXCLUSIVE_ACCESS = 0x3,
    DR_PR_TYPE_WRITE_EXCLUSIVE_RO = 0x5, /**< registrants only; drover's default */
    DR_PR_TYPE_EXCLUSIVE_ACCESS_RO = 0x6,
    DR_PR_TYPE_WRITE_EXCLUSIVE_AR = 0x7, /**< all registrants */
    DR_PR_TYPE_EXCLUSIVE_ACCESS_AR = 0x8,
};

/** PERSISTENT RESERVE IN service actions (SPC-4 table 202). */
enum dr_pr_in_action {
    DR_PR_IN_READ_KEYS = 0x0,
    DR_PR_IN_READ_RESERVATION = 0x1,
    DR_PR_IN_REPORT_CAPABILITIES = 0x2,
    DR_PR_IN_READ_FULL_STATUS = 0x3,
};

/** PERSISTENT RESERVE OUT service actions (SPC-4 table 209). */
enum dr_pr_out_action {
    DR_PR_OUT_REGISTER = 0x0,
    DR_PR_OUT_RESERVE = 0x1,
    DR_PR_OUT_RELEASE = 0x2,
    DR_PR_OUT_CLEAR = 0x3,
    DR_PR_OUT_PREEMPT = 0x4,
    DR_PR_OUT_PREEMPT_AND_ABORT = 0x5,
    DR_PR_OUT_REGISTER_AND_IGNORE = 0x6,
};

/** Parameter-list flags of PERSISTENT RESERVE OUT (SPC-4 6.16.3, byte 20). */
#define DR_PR_OUT_FLAG_APTPL 0x01u     /**< activate persist through power loss */
#define DR_PR_OUT_FLAG_ALL_TG_PT 0x04u /**< register on all target ports */
#define DR_PR_OUT_FLAG_SPEC_I_PT 0x08u /**< specify initiator ports (not supported here) */

/** The most keys a READ KEYS answer may carry before it is refused as unreasonable. */
#define DR_PR_MAX_KEYS 1024

/** Options for dr_pr_open(); zero-initialise, then set what you need. */
struct dr_pr_open_opts {
    /** Initiator IQN for iscsi:// devices (borrowed); NULL uses the URL's or libiscsi's default. */
    const char *initiator_iqn;
    /** Per-command and login timeout in milliseconds; 0 means 5000. */
    unsigned int timeout_ms;
    /** How many times a command is reissued after UNIT ATTENTION; 0 means 3. */
    unsigned int ua_retries;
};

/** Decoded SCSI sense data (fixed or descriptor format, SPC-4 4.5). */
struct dr_scsi_sense {
    bool valid;       /**< false if there was no (parsable) sense data */
    uint8_t response; /**< response code: 0x70, 0x71, 0x72 or 0x73 */
    uint8_t key;      /**< sense key, 0x0 - 0xf */
    uint8_t asc;      /**< additional sense code */
    uint8_t ascq;     /**< additional sense code qualifier */
    bool field_valid; /**< sense-key specific field pointer present (SKSV) */
    bool in_cdb;      /**< C/D bit: the field pointer points into the CDB */
    uint16_t field;   /**< byte offset of the offending field */
};

/** Result of the most recent failed command on a device (for logs). */
struct dr_scsi_status {
    uint8_t status;             /**< SCSI status byte; 0xff if the transport failed */
    struct dr_scsi_sense sense; /**< decoded sense for CHECK CONDITION */
};

/** READ KEYS answer. */
struct dr_pr_keys {
    uint32_t generation; /**< PRgeneration */
    size_t n_keys;       /**< number of keys in keys[] */
    uint64_t *keys;      /**< registered keys; owned by the struct, see dr_pr_keys_free() */
};

/** READ RESERVATION answer. */
struct dr_pr_reservation {
    uint32_t generation;
    bool reserved; /**< false: no persistent reservation is held */
    uint64_t key;  /**< holder's key (0 for all-registrants types) */
    uint8_t scope; /**< scope, 0 = LU_SCOPE */
    uint8_t type;  /**< enum dr_pr_type */
};

/** REPORT CAPABILITIES answer (SPC-4 6.15.4). */
struct dr_pr_caps {
    bool crh;           /**< compatible reservation handling */
    bool sip_c;         /**< specify initiator ports capable */
    bool atp_c;         /**< all target ports capable */
    bool ptpl_c;        /**< persist through power loss capable */
    bool tmv;           /**< type mask valid */
    bool ptpl_a;        /**< persist through power loss activated */
    uint16_t type_mask; /**< bit (1 << type) set for every supported enum dr_pr_type */
    uint8_t allow_commands;
};

/** One registration from READ FULL STATUS (SPC-4 6.15.5). */
struct dr_pr_full_status_entry {
    uint64_t key;
    bool all_tg_pt;
    bool holder; /**< R_HOLDER: this nexus holds the reservation */
    uint8_t scope;
    uint8_t type;
    uint16_t rel_tgt_port;  /**< relative target port identifier */
    uint8_t protocol;       /**< transport protocol identifier (5 = iSCSI) */
    char transport_id[256]; /**< iSCSI name (and ISID) or a hex dump of other transport IDs */
};

/** READ FULL STATUS answer. */
struct dr_pr_full_status {
    uint32_t generation;
    size_t n_entries;
    struct dr_pr_full_status_entry *entries; /**< owned; see dr_pr_full_status_free() */
};

struct dr_pr_device;

/**
 * Open a device for persistent-reservation commands.
 * \param spec a device path or an iscsi:// URL (borrowed).
 * \param opts options, or NULL for defaults (borrowed; read during the call only).
 * \param[out] out the opened device, written on success only.
 * \return 0; -EINVAL for an empty or malformed spec; -ENOENT if the path does not exist;
 *         -ENOTTY if the path is not a SCSI device; -EACCES; -DR_E_LOGIN if the iSCSI login is
 *         refused; -DR_E_NO_LUN if the LUN does not exist; -ETIMEDOUT; -ECONNREFUSED,
 *         -EHOSTUNREACH or -DR_E_TRANSPORT when the portal cannot be reached; -ENOMEM.
 */
int dr_pr_open(const char *spec, const struct dr_pr_open_opts *opts, struct dr_pr_device **out);

/** Close a device (logging out of iSCSI sessions). dr_pr_close(NULL) is a no-op. */
void dr_pr_close(struct dr_pr_device *dev);

/** The spec the device was opened with (owned by the device). */
const char *dr_pr_spec(const struct dr_pr_device *dev);

/** Number of paths (I_T nexuses) behind the device: 1, or more for a multipath device. */
size_t dr_pr_path_count(const struct dr_pr_device *dev);

/**
 * Status and sense of the most recent failed command on the device.
 * \return a pointer into the device; valid until the next command.
 */
const struct dr_scsi_status *dr_pr_last_status(const struct dr_pr_device *dev);

/**
 * Describe the most recent failure ("CHECK CONDITION, ILLEGAL REQUEST, ASC/ASCQ 24/00 ...").
 * \return 0, or -EINVAL.
 */
int dr_pr_describe_last(const struct dr_pr_device *dev, char *buf, size_t len);

/**
 * Whether the connection behind the device is still usable. For iSCSI a session that dropped
 * is not silently re-established (its registration would be lost without anyone knowing).
 * \return true while every path is connected.
 */
bool dr_pr_is_connected(const struct dr_pr_device *dev);

/**
 * READ KEYS. \param[out] out filled on success; free with dr_pr_keys_free().
 * \return 0; -EINVAL; -DR_E_BAD_RESPONSE for a truncated or inconsistent answer; the SCSI and
 *         transport codes listed for dr_pr_open() and in error.h.
 */
int dr_pr_read_keys(struct dr_pr_device *dev, struct dr_pr_keys *out);

/** Whether \p key is among \p keys (false for NULL). */
bool dr_pr_keys_contain(const struct dr_pr_keys *keys, uint64_t key);

/** Free the keys array of a dr_pr_keys (not the struct itself); NULL is a no-op. */
void dr_pr_keys_free(struct dr_pr_keys *keys);

/** READ RESERVATION. \return as dr_pr_read_keys(). */
int dr_pr_read_reservation(struct dr_pr_device *dev, struct dr_pr_reservation *out);

/** REPORT CAPABILITIES. \return as dr_pr_read_keys(). */
int dr_pr_report_capabilities(struct dr_pr_device *dev, struct dr_pr_caps *out);

/**
 * READ FULL STATUS. \param[out] out free with dr_pr_full_status_free().
 * \return as dr_pr_read_keys(); -DR_E_NOT_SUPPORTED if the device rejects the action (tgtd).
 */
int dr_pr_read_full_status(struct dr_pr_device *dev, struct dr_pr_full_status *out);

/** Free the entries of a dr_pr_full_status; NULL is a no-op. */
void dr_pr_full_status_free(struct dr_pr_full_status *st);

/**
 * REGISTER (old_key -> new_key) on every path. new_key 0 unregisters.
 * \param flags DR_PR_OUT_FLAG_APTPL | DR_PR_OUT_FLAG_ALL_TG_PT; other bits: -EINVAL.
 * \return 0; -DR_E_RESERVATION_CONFLICT if old_key is not this nexus's registered key;
 *         -DR_E_NOT_SUPPORTED if the device rejects a flag; SCSI and transport codes.
 */
int dr_pr_register(struct dr_pr_device *dev, uint64_t old_key, uint64_t new_key,
                   unsigned int flags);

/** REGISTER AND IGNORE EXISTING KEY on every path. \return as dr_pr_register(). */
int dr_pr_register_ignore(struct dr_pr_device *dev, uint64_t new_key, unsigned int flags);

/** RESERVE with \p type, as the registrant of \p key. \return 0; -DR_E_RESERVATION_CONFLICT. */
int dr_pr_reserve(struct dr_pr_device *dev, uint64_t key, enum dr_pr_type type);

/** RELEASE the reservation of \p type held as \p key. \return as dr_pr_reserve(). */
int dr_pr_release(struct dr_pr_device *dev, uint64_t key, enum dr_pr_type type);

/** CLEAR every registration and the reservation. \return as dr_pr_reserve(). */
int dr_pr_clear(struct dr_pr_device *dev, uint64_t key);

/**
 * PREEMPT \p victim_key, as the registrant of \p key; a reservation held by the victim passes
 * to this nexus with \p type. With \p abort, PREEMPT AND ABORT is sent instead (SPC-4 5.14.11.4:
 * the victims' outstanding commands are aborted too).
 * \return 0; -DR_E_RESERVATION_CONFLICT if \p key is not registered through this device;
 *         -DR_E_NOT_SUPPORTED if the device rejects PREEMPT AND ABORT; SCSI and transport codes.
 */
int dr_pr_preempt(struct dr_pr_device *dev, uint64_t key, uint64_t victim_key, enum dr_pr_type type,
                  bool abort);

/**
 * Read one block at \p lba and write the same bytes back (WRITE(10), FUA), to learn whether this
 * nexus may write. Nothing on the medium changes.
 * \return 0 if the write was accepted; -DR_E_RESERVATION_CONFLICT if the reservation refuses it;
 *         other SCSI and transport codes.
 */
int dr_pr_probe_write(struct dr_pr_device *dev, uint32_t lba);

/**
 * Derive a node's 64-bit reservation key:
 *   bits 63..48  0x6472 ("dr"), so drover's keys are recognisable in any listing;
 *   bits 47..32  FNV-1a 32 of the cluster name, xor-folded to 16 bits;
 *   bits 31..0   FNV-1a 32 of the node name.
 * The key depends on the two names only, never on node ids or membership, and is never 0.
 * \return 0; -EINVAL for NULL or empty names or names longer than 255 bytes.
 */
int dr_pr_key_derive(const char *cluster_name, const char *node_name, uint64_t *key);

/**
 * Check that the keys of \p n nodes are pairwise different.
 * \return 0; -DR_E_KEY_IN_USE naming (in the log) the two nodes that share a key; -EINVAL.
 */
int dr_pr_keys_check_unique(const char *cluster_name, const char *const *node_names, size_t n);

/**
 * Refuse a key that another initiator holds: READ FULL STATUS lists which iSCSI initiator holds
 * each registration; if \p key is registered by an initiator whose name is not \p initiator,
 * another node is using this node's name (or its key), and registering would let two nodes
 * share one fencing identity.
 * \param initiator this node's iSCSI initiator name (borrowed).
 * \return 0 if \p key is unregistered or registered only by \p initiator; -DR_E_KEY_IN_USE
 *         (logged, naming the other initiator); -DR_E_NOT_SUPPORTED if the device has no
 *         READ FULL STATUS (tgtd), so the check cannot be made; SCSI and transport codes.
 */
int dr_pr_check_key_owner(struct dr_pr_device *dev, uint64_t key, const char *initiator);

/** Parse a reservation type: "wero", "write-exclusive-registrants-only", "5", ... \return 0,
 * -EINVAL. */
int dr_pr_type_parse(const char *s, enum dr_pr_type *out);

/** Short name of a reservation type ("WERO"); "unknown" for other values. */
const char *dr_pr_type_name(unsigned int type);

/** Name of a sense key ("ILLEGAL REQUEST"). */
const char *dr_scsi_sense_key_name(uint8_t key);

/** Name of an ASC/ASCQ pair ("RESERVATIONS PREEMPTED"), or NULL if unknown. */
const char *dr_scsi_asc_name(uint8_t asc, uint8_t ascq);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
