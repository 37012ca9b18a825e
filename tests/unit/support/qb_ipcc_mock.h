/*
 * A scripted droverd for daemon_client.c: libqb's client calls (qb_ipcc_connect_async,
 * qb_ipcc_connect_continue, qb_ipcc_sendv_recv, qb_ipcc_disconnect) are wrapped. Link the test
 * with those four in WRAP and SOURCES support/qb_ipcc_mock.c.
 */
#ifndef DR_TEST_QB_IPCC_MOCK_H
#define DR_TEST_QB_IPCC_MOCK_H

#include <stddef.h>
#include <qb/qbipcc.h>
#include <sys/types.h>

#include "daemon_proto.h"

enum ipcc_mode {
    IPCC_ABSENT,  /* connect fails at once (ECONNREFUSED) */
    IPCC_SILENT,  /* connect starts, the handshake never completes */
    IPCC_REFUSED, /* the handshake completes with an error */
    IPCC_UP,      /* connects and answers with ipcc.res (ipcc.res_len bytes) */
};

struct ipcc_mock {
    /* Script. */
    enum ipcc_mode mode;
    ssize_t send_rc; /* < 0: qb_ipcc_sendv_recv fails with it */
    struct dr__daemon_res res;
    size_t res_len;
    /* Record. */
    unsigned int n_connect, n_continue, n_send, n_disconnect;
    char name[128];
    size_t max_msg;
    int32_t send_timeout_ms;
    struct dr__daemon_req req; /* the last request */
    size_t req_len;
};

extern struct ipcc_mock ipcc;

/* cmocka setup/teardown: ipcc_mock_reset(). */
int ipcc_mock_setup(void **state);
int ipcc_mock_teardown(void **state);
/* Forget the script and the record; mode IPCC_ABSENT. */
void ipcc_mock_reset(void);
/* Be up and answer every request with version 1, \p rc and a whole response. */
void ipcc_mock_answer(int32_t rc);
/* Every connection that was opened was closed, and \p n requests were sent. */
void ipcc_mock_assert_balanced(unsigned int n_sent);

/* A device call with everything but the device fixed by the test. */
typedef int (*ipcc_device_call)(const char *device);
/*
 * NULL, empty and DR_DAEMON_SPEC_MAX-byte specs: -EINVAL without connecting. The longest
 * valid spec reaches droverd whole, in a request with op \p op.
 */
void ipcc_check_device_specs(ipcc_device_call call, int op);

#endif
