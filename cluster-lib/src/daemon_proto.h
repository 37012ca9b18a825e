/*
 * droverd's wire protocol, shared by the client (daemon_client.c) and droverd. Requests and
 * responses are fixed-size structs behind libqb's IPC headers; `version` comes first after the
 * header in both, so any later version can still be recognised and refused cleanly.
 */
#ifndef DROVER_DAEMON_PROTO_H
#define DROVER_DAEMON_PROTO_H

#include <qb/qbipc_common.h>
#include <stdint.h>

#include "drover/daemon.h"

enum dr__daemon_op {
    DR__OP_STATUS = 1,
    DR__OP_UNFENCE = 2,
    DR__OP_HAS_DEVICE = 3,
    DR__OP_PREEMPT = 4,
    DR__OP_READ_KEYS = 5,
    DR__OP_PROBE_WRITE = 6,
    DR__OP_VM_STATE = 7,  /* device = domain name or UUID */
    DR__OP_VM_EXPECT = 8, /* device = domain, resource = its resource, type = busy ms */
};

#define DR__REQ_FLAG_TRY_ABORT 0x1u
#define DR__RES_FLAG_FELL_BACK 0x1u

struct dr__daemon_req {
    struct qb_ipc_request_header hdr; /* hdr.id = enum dr__daemon_op */
    uint32_t version;
    uint32_t flags;
    uint64_t key;
    uint32_t type;
    char device[DR_DAEMON_SPEC_MAX];
    char resource[256];
} __attribute__((aligned(8)));

struct dr__daemon_res {
    struct qb_ipc_response_header hdr;
    uint32_t version;
    int32_t rc;
    uint32_t flags;
    union {
        struct dr_daemon_status status;
        struct {
            uint32_t generation;
            uint32_t n_keys;
            uint64_t keys[DR_DAEMON_MAX_KEYS];
        } keys;
        struct dr_daemon_vm_state vm;
    } u;
} __attribute__((aligned(8)));

/* The VM answer grows inside the union without changing the message: no new protocol version. */
_Static_assert(sizeof(struct dr_daemon_vm_state) <= sizeof(struct dr_daemon_status),
               "a VM answer must not change the size of droverd's response");

/* Big enough for either message plus libqb's own framing. */
#define DR__DAEMON_MAX_MSG (sizeof(struct dr__daemon_res) + 4096)

#endif
