#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include <qb/qbipcc.h>

#include "qb_ipcc_mock.h"

qb_ipcc_connection_t *__wrap_qb_ipcc_connect_async(const char *name, size_t max_msg_size,
                                                   int *connect_fd);
int __wrap_qb_ipcc_connect_continue(struct qb_ipcc_connection *c);
ssize_t __wrap_qb_ipcc_sendv_recv(qb_ipcc_connection_t *c, const struct iovec *iov,
                                  uint32_t iov_len, void *msg_ptr, size_t msg_len,
                                  int32_t ms_timeout);
void __wrap_qb_ipcc_disconnect(qb_ipcc_connection_t *c);

struct ipcc_mock ipcc;

/* The connection handle is this pipe: its read end is the connect fd. */
static int pipe_fds[2] = {-1, -1};
static char handle;

static void
close_pipe(void)
{
    for (int i = 0; i < 2; i++) {
        if (pipe_fds[i] >= 0) {
            close(pipe_fds[i]);
            pipe_fds[i] = -1;
        }
    }
}

void
ipcc_mock_reset(void)
{
    close_pipe();
    memset(&ipcc, 0, sizeof(ipcc));
    ipcc.mode = IPCC_ABSENT;
}

int
ipcc_mock_setup(void **state)
{
    (void)state;
    ipcc_mock_reset();
    return 0;
}

int
ipcc_mock_teardown(void **state)
{
    (void)state;
    ipcc_mock_reset();
    return 0;
}

void
ipcc_mock_answer(int32_t rc)
{
    ipcc.mode = IPCC_UP;
    ipcc.res.version = DR_DAEMON_PROTO_VERSION;
    ipcc.res.rc = rc;
    ipcc.res_len = sizeof(ipcc.res);
}

void
ipcc_mock_assert_balanced(unsigned int n_sent)
{
    /* A refused handshake frees the connection itself (libqb), so it needs no disconnect. */
    unsigned int refused = ipcc.mode == IPCC_REFUSED ? ipcc.n_continue : 0;

    assert_int_equal(ipcc.n_send, n_sent);
    assert_int_equal(ipcc.n_disconnect + refused, ipcc.mode == IPCC_ABSENT ? 0 : ipcc.n_connect);
}

qb_ipcc_connection_t *
__wrap_qb_ipcc_connect_async(const char *name, size_t max_msg_size, int *connect_fd)
{
    ipcc.n_connect++;
    snprintf(ipcc.name, sizeof(ipcc.name), "%s", name);
    ipcc.max_msg = max_msg_size;
    if (ipcc.mode == IPCC_ABSENT) {
        errno = ECONNREFUSED;
        return NULL;
    }
    close_pipe();
    assert_int_equal(pipe(pipe_fds), 0);
    if (ipcc.mode != IPCC_SILENT) {
        /* The server's handshake answer makes the fd readable. */
        assert_int_equal(write(pipe_fds[1], "h", 1), 1);
    }
    *connect_fd = pipe_fds[0];
    return (qb_ipcc_connection_t *)&handle;
}

int
__wrap_qb_ipcc_connect_continue(struct qb_ipcc_connection *c)
{
    assert_ptr_equal(c, &handle);
    assert_true(ipcc.mode == IPCC_UP || ipcc.mode == IPCC_REFUSED);
    ipcc.n_continue++;
    if (ipcc.mode == IPCC_REFUSED) {
        close_pipe();
        return -EACCES;
    }
    return 0;
}

ssize_t
__wrap_qb_ipcc_sendv_recv(qb_ipcc_connection_t *c, const struct iovec *iov, uint32_t iov_len,
                          void *msg_ptr, size_t msg_len, int32_t ms_timeout)
{
    size_t n;

    assert_ptr_equal(c, &handle);
    assert_int_equal(ipcc.mode, IPCC_UP);
    assert_int_equal(iov_len, 1);
    assert_int_equal(iov[0].iov_len, sizeof(ipcc.req));
    ipcc.n_send++;
    memcpy(&ipcc.req, iov[0].iov_base, sizeof(ipcc.req));
    ipcc.req_len = iov[0].iov_len;
    ipcc.send_timeout_ms = ms_timeout;
    if (ipcc.send_rc < 0) {
        return ipcc.send_rc;
    }
    n = ipcc.res_len < msg_len ? ipcc.res_len : msg_len;
    memcpy(msg_ptr, &ipcc.res, n);
    return (ssize_t)n;
}

void
__wrap_qb_ipcc_disconnect(qb_ipcc_connection_t *c)
{
    assert_ptr_equal(c, &handle);
    ipcc.n_disconnect++;
    close_pipe();
}

void
ipcc_check_device_specs(ipcc_device_call call, int op)
{
    char spec[DR_DAEMON_SPEC_MAX + 1];

    ipcc_mock_answer(0);
    assert_int_equal(call(NULL), -EINVAL);
    assert_int_equal(call(""), -EINVAL);
    memset(spec, 'd', sizeof(spec));
    spec[0] = '/';
    spec[DR_DAEMON_SPEC_MAX] = '\0';
    assert_int_equal(call(spec), -EINVAL);
    assert_int_equal(ipcc.n_connect, 0);

    spec[DR_DAEMON_SPEC_MAX - 1] = '\0';
    assert_true(call(spec) >= 0);
    assert_int_equal(ipcc.req.hdr.id, op);
    assert_int_equal(ipcc.req.version, DR_DAEMON_PROTO_VERSION);
    assert_string_equal(ipcc.req.device, spec);
    ipcc_mock_assert_balanced(1);
}
