/*
 * A scripted struct dr_pr_transport for testing pr.c: each exec() consumes the next queued
 * reply (status, sense, data in, or a transport failure) and records the command it was given.
 */
#ifndef DR_TEST_FAKE_TRANSPORT_H
#define DR_TEST_FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pr_internal.h"
#include "pr_vectors.h"

#define FAKE_MAX_CALLS 32
#define FAKE_OUT_MAX 4096

struct fake_reply {
    int rc;         /* < 0: the transport fails the command */
    uint8_t status; /* SCSI status */
    const uint8_t *sense;
    size_t sense_len;
    const uint8_t *data; /* data in; copied up to the allocation length */
    size_t data_len;
};

struct fake_call {
    size_t path; /* index of the path the command went to */
    uint8_t cdb[16];
    size_t cdb_len;
    enum dr__dir dir;
    size_t buf_len;
    uint8_t out[FAKE_OUT_MAX]; /* data out, the first FAKE_OUT_MAX bytes */
};

extern struct fake_call fake_calls[FAKE_MAX_CALLS];
extern size_t fake_n_calls;
/* What the fake is_connected() answers for every path. */
extern bool fake_connected;

/* Forget queued replies and recorded calls. */
void fake_reset(void);
/* A device of n_paths fake paths, as dr_pr_open() would build it; dr_pr_close() frees it. */
struct dr_pr_device *fake_device_new(size_t n_paths, unsigned int ua_retries);

void fake_push(const struct fake_reply *r);
void fake_push_good(void);
void fake_push_data(const uint8_t *data, size_t len);
void fake_push_vector(const struct dr_test_vector *v);
void fake_push_status(uint8_t status);
void fake_push_sense(const uint8_t *sense, size_t len);
void fake_push_sense_vector(const struct dr_test_vector *v);
void fake_push_fail(int rc);
/* Sense for CHECK CONDITION with a given key/ASC/ASCQ (fixed format). */
void fake_push_check(uint8_t key, uint8_t asc, uint8_t ascq);

/* Assert that every queued reply was consumed and exactly n commands were issued. */
void fake_assert_calls(size_t n);
/* Assert that call i was a PERSISTENT RESERVE OUT with this action, type, key and SA key. */
void fake_assert_pr_out(size_t i, size_t path, enum dr_pr_out_action sa, uint8_t type, uint64_t key,
                        uint64_t sa_key, uint8_t flags);

/* RESERVE and RELEASE share a shape: (device, key, type), sent to one path. */
typedef int (*fake_typed_call)(struct dr_pr_device *dev, uint64_t key, enum dr_pr_type type);
/* NULL device and every invalid type: -EINVAL, nothing sent. */
void fake_check_typed_bad_args(fake_typed_call call, struct dr_pr_device *dev);
/* Every valid type: one command with that TYPE, key, SA key 0, no flags. */
void fake_check_typed_every_type(fake_typed_call call, struct dr_pr_device *dev,
                                 enum dr_pr_out_action sa);
/* On a 3-path device: conflict is final, a transport failure moves to the next path. */
void fake_check_typed_paths(fake_typed_call call, struct dr_pr_device *dev,
                            enum dr_pr_out_action sa);

/* cmocka group setup/teardown: *state is a 1-path device with ua_retries 3. */
int fake_setup(void **state);
int fake_setup_3paths(void **state);
int fake_teardown(void **state);

#endif
