#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "fake_transport.h"

#define FAKE_MAX_REPLIES 32
#define FAKE_MAX_PATHS 4

struct fake_call fake_calls[FAKE_MAX_CALLS];
size_t fake_n_calls;
bool fake_connected = true;

static struct fake_reply replies[FAKE_MAX_REPLIES];
static size_t n_replies, next_reply;
static size_t path_ids[FAKE_MAX_PATHS] = {0, 1, 2, 3};

static int
fake_open(struct dr__pr_path *path, const char *spec, const struct dr_pr_open_opts *opts)
{
    (void)path;
    (void)spec;
    (void)opts;
    return 0;
}

static void
fake_close(struct dr__pr_path *path)
{
    (void)path;
}

static int
fake_exec(struct dr__pr_path *path, struct dr__scsi_cmd *cmd)
{
    struct fake_call *c;
    const struct fake_reply *r;

    assert_true(fake_n_calls < FAKE_MAX_CALLS);
    assert_true(cmd->cdb_len <= sizeof(c->cdb));
    c = &fake_calls[fake_n_calls++];
    memset(c, 0, sizeof(*c));
    c->path = *(const size_t *)path->priv;
    memcpy(c->cdb, cmd->cdb, cmd->cdb_len);
    c->cdb_len = cmd->cdb_len;
    c->dir = cmd->dir;
    c->buf_len = cmd->buf_len;
    if (cmd->dir == DR__DIR_OUT) {
        memcpy(c->out, cmd->buf, cmd->buf_len < FAKE_OUT_MAX ? cmd->buf_len : FAKE_OUT_MAX);
    }
    /* A command the script did not expect fails the test here. */
    assert_true(next_reply < n_replies);
    r = &replies[next_reply++];
    if (r->rc < 0) {
        return r->rc;
    }
    cmd->status = r->status;
    if (r->sense_len > 0) {
        assert_true(r->sense_len <= sizeof(cmd->sense));
        memcpy(cmd->sense, r->sense, r->sense_len);
        cmd->sense_len = r->sense_len;
    }
    if (r->data_len > 0) {
        size_t n = r->data_len < cmd->buf_len ? r->data_len : cmd->buf_len;

        assert_int_equal(cmd->dir, DR__DIR_IN);
        memcpy(cmd->buf, r->data, n);
        cmd->xfer_len = n;
    }
    return 0;
}

static int
fake_is_connected(struct dr__pr_path *path)
{
    (void)path;
    return fake_connected;
}

static const struct dr_pr_transport fake_transport = {
    .name = "fake",
    .open = fake_open,
    .close = fake_close,
    .exec = fake_exec,
    .is_connected = fake_is_connected,
};

void
fake_reset(void)
{
    n_replies = 0;
    next_reply = 0;
    fake_n_calls = 0;
    fake_connected = true;
    memset(fake_calls, 0, sizeof(fake_calls));
}

struct dr_pr_device *
fake_device_new(size_t n_paths, unsigned int ua_retries)
{
    struct dr_pr_device *dev = calloc(1, sizeof(*dev));

    assert_non_null(dev);
    assert_true(n_paths > 0 && n_paths <= FAKE_MAX_PATHS);
    dev->spec = strdup("fake:lun0");
    dev->n_paths = n_paths;
    dev->paths = calloc(n_paths, sizeof(*dev->paths));
    assert_non_null(dev->spec);
    assert_non_null(dev->paths);
    dev->ua_retries = ua_retries;
    for (size_t i = 0; i < n_paths; i++) {
        char name[32];

        snprintf(name, sizeof(name), "fake:path%zu", i);
        dev->paths[i].transport = &fake_transport;
        dev->paths[i].name = strdup(name);
        assert_non_null(dev->paths[i].name);
        dev->paths[i].priv = &path_ids[i];
        dev->paths[i].timeout_ms = 5000;
    }
    return dev;
}

void
fake_push(const struct fake_reply *r)
{
    assert_true(n_replies < FAKE_MAX_REPLIES);
    replies[n_replies++] = *r;
}

void
fake_push_good(void)
{
    struct fake_reply r = {0};

    fake_push(&r);
}

void
fake_push_data(const uint8_t *data, size_t len)
{
    struct fake_reply r = {.data = data, .data_len = len};

    fake_push(&r);
}

void
fake_push_vector(const struct dr_test_vector *v)
{
    fake_push_data(v->data, v->len);
}

void
fake_push_status(uint8_t status)
{
    struct fake_reply r = {.status = status};

    fake_push(&r);
}

void
fake_push_sense(const uint8_t *sense, size_t len)
{
    struct fake_reply r = {.status = 0x02, .sense = sense, .sense_len = len};

    fake_push(&r);
}

void
fake_push_sense_vector(const struct dr_test_vector *v)
{
    fake_push_sense(v->data, v->len);
}

void
fake_push_fail(int rc)
{
    struct fake_reply r = {.rc = rc};

    fake_push(&r);
}

void
fake_push_check(uint8_t key, uint8_t asc, uint8_t ascq)
{
    /* Replies keep pointers, so the sense bytes live in a ring of static buffers. */
    static uint8_t ring[FAKE_MAX_REPLIES][18];
    uint8_t *s = ring[n_replies % FAKE_MAX_REPLIES];

    memset(s, 0, 18);
    s[0] = 0x70;
    s[2] = key;
    s[7] = 10;
    s[12] = asc;
    s[13] = ascq;
    fake_push_sense(s, 18);
}

void
fake_assert_calls(size_t n)
{
    assert_int_equal(next_reply, n_replies);
    assert_int_equal(fake_n_calls, n);
}

static uint64_t
be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

void
fake_assert_pr_out(size_t i, size_t path, enum dr_pr_out_action sa, uint8_t type, uint64_t key,
                   uint64_t sa_key, uint8_t flags)
{
    const struct fake_call *c;

    assert_true(i < fake_n_calls);
    c = &fake_calls[i];
    assert_int_equal(c->path, path);
    assert_int_equal(c->cdb_len, 10);
    assert_int_equal(c->cdb[0], 0x5f);
    assert_int_equal(c->cdb[1], sa);
    assert_int_equal(c->cdb[2], type);
    assert_int_equal(c->cdb[8], 24);
    assert_int_equal(c->dir, DR__DIR_OUT);
    assert_int_equal(c->buf_len, 24);
    assert_int_equal(be64(c->out), key);
    assert_int_equal(be64(c->out + 8), sa_key);
    assert_int_equal(c->out[20], flags);
}

static int
setup_paths(void **state, size_t n)
{
    fake_reset();
    *state = fake_device_new(n, 3);
    return 0;
}

int
fake_setup(void **state)
{
    return setup_paths(state, 1);
}

int
fake_setup_3paths(void **state)
{
    return setup_paths(state, 3);
}

int
fake_teardown(void **state)
{
    dr_pr_close(*state);
    *state = NULL;
    return 0;
}

void
fake_check_typed_bad_args(fake_typed_call call, struct dr_pr_device *dev)
{
    static const unsigned int bad[] = {0, 2, 4, 9, 0x15, 0xff};

    assert_int_equal(call(NULL, DR_TV_KEY1, DR_PR_TYPE_WRITE_EXCLUSIVE_RO), -EINVAL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(call(dev, DR_TV_KEY1, (enum dr_pr_type)bad[i]), -EINVAL);
    }
    fake_assert_calls(0);
}

void
fake_check_typed_every_type(fake_typed_call call, struct dr_pr_device *dev,
                            enum dr_pr_out_action sa)
{
    static const enum dr_pr_type types[] = {
        DR_PR_TYPE_WRITE_EXCLUSIVE,    DR_PR_TYPE_EXCLUSIVE_ACCESS,
        DR_PR_TYPE_WRITE_EXCLUSIVE_RO, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO,
        DR_PR_TYPE_WRITE_EXCLUSIVE_AR, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR,
    };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        fake_reset();
        fake_push_good();
        assert_int_equal(call(dev, DR_TV_KEY1, types[i]), 0);
        fake_assert_calls(1);
        fake_assert_pr_out(0, 0, sa, (uint8_t)types[i], DR_TV_KEY1, 0, 0);
    }
}

void
fake_check_typed_paths(fake_typed_call call, struct dr_pr_device *dev, enum dr_pr_out_action sa)
{
    fake_reset();
    fake_push_good();
    assert_int_equal(call(dev, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO), 0);
    fake_assert_calls(1);
    fake_reset();
    fake_push_status(0x18);
    assert_int_equal(call(dev, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO),
                     -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(1);
    fake_reset();
    fake_push_fail(-DR_E_TRANSPORT);
    fake_push_good();
    assert_int_equal(call(dev, DR_TV_KEY2, DR_PR_TYPE_WRITE_EXCLUSIVE_RO), 0);
    fake_assert_calls(2);
    fake_assert_pr_out(1, 1, sa, DR_PR_TYPE_WRITE_EXCLUSIVE_RO, DR_TV_KEY2, 0, 0);
}
