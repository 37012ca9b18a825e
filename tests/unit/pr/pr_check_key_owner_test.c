/*
 * dr_pr_check_key_owner over the scripted fake transport, with READ FULL STATUS answers built
 * byte by byte (SPC-4 6.15.5, iSCSI TransportIDs per SPC-4 7.6.4.6).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "bytes.h"
#include "drover/error.h"
#include "fake_transport.h"
#include "log_capture.h"

#define MY_IQN "iqn.2026-11.org.drover:node1"
#define OTHER_IQN "iqn.2026-11.org.drover:node9"
#define KEY DR_TV_KEY1
#define OTHER_KEY DR_TV_KEY2

/* A READ FULL STATUS answer under construction. */
struct full_status {
    uint8_t buf[1024];
    size_t len;
};

static void
fs_begin(struct full_status *fs, uint32_t generation)
{
    memset(fs, 0, sizeof(*fs));
    put_be32(fs->buf, generation);
    fs->len = 8; /* the ADDITIONAL LENGTH at 4..7 is written by fs_add() */
}

/* One status descriptor (table 210) carrying the TransportID tid[tid_len]. */
static void
fs_add(struct full_status *fs, uint64_t key, bool holder, uint16_t rel_port, const uint8_t *tid,
       size_t tid_len)
{
    uint8_t *d = fs->buf + fs->len;

    assert_true(fs->len + 24 + tid_len <= sizeof(fs->buf));
    put_be64(d, key);
    d[12] = holder ? 0x01 : 0x00;
    d[13] = holder ? DR_PR_TYPE_WRITE_EXCLUSIVE_RO : 0; /* scope 0 (LU_SCOPE) */
    put_be16(d + 18, rel_port);
    put_be32(d + 20, (uint32_t)tid_len);
    memcpy(d + 24, tid, tid_len);
    fs->len += 24 + tid_len;
    put_be32(fs->buf + 4, (uint32_t)(fs->len - 8));
}

/*
 * An iSCSI TransportID: format 00 carries the name alone, format 01 the name, ",i,0x" and the
 * ISID. Both are NUL-terminated and padded to a multiple of 4 bytes (ADDITIONAL LENGTH).
 */
static void
fs_add_iscsi(struct full_status *fs, uint64_t key, bool holder, const char *name, const char *isid)
{
    uint8_t tid[260] = {0};
    size_t n;

    tid[0] = isid != NULL ? 0x45 : 0x05; /* FORMAT CODE 00b/01b, PROTOCOL IDENTIFIER 5 */
    n = strlen(name);
    memcpy(tid + 4, name, n);
    if (isid != NULL) {
        memcpy(tid + 4 + n, ",i,0x", 5);
        memcpy(tid + 4 + n + 5, isid, strlen(isid));
        n += 5 + strlen(isid);
    }
    n = (n + 1 + 3) & ~(size_t)3; /* the NUL, then padding */
    put_be16(tid + 2, (uint16_t)n);
    fs_add(fs, key, holder, 1, tid, 4 + n);
}

/* A Fibre Channel TransportID (protocol 0): an N_Port name, no iSCSI name. */
static void
fs_add_fc(struct full_status *fs, uint64_t key)
{
    uint8_t tid[24] = {0x00, 0, 0, 0, 0, 0, 0, 0, 0x21, 0x00, 0x00, 0x24, 0xff, 0x3d, 0x11, 0x22};

    fs_add(fs, key, false, 2, tid, sizeof(tid));
}

static void
push(const struct full_status *fs)
{
    fake_push_data(fs->buf, fs->len);
}

static int
setup(void **state)
{
    log_capture_reset();
    return fake_setup(state);
}

static void
test_bad_arguments(void **state)
{
    assert_int_equal(dr_pr_check_key_owner(NULL, KEY, MY_IQN), -EINVAL);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, NULL), -EINVAL);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, ""), -EINVAL);
    fake_assert_calls(0);
}

static void
test_key_unregistered(void **state)
{
    struct full_status fs;

    /* Other keys, even by other initiators, are not this node's concern. */
    fs_begin(&fs, 4);
    fs_add_iscsi(&fs, OTHER_KEY, true, OTHER_IQN, "23d000000001");
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), 0);
    fake_assert_calls(1);
    assert_int_equal(fake_calls[0].cdb[0], 0x5e);
    assert_int_equal(fake_calls[0].cdb[1], DR_PR_IN_READ_FULL_STATUS);

    /* No registration at all. */
    fake_reset();
    fs_begin(&fs, 5);
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), 0);
    fake_assert_calls(1);
}

static void
test_registered_by_this_initiator(void **state)
{
    struct full_status fs;

    /* Format 00, then format 01 with an ISID (one per path), in another case. */
    fs_begin(&fs, 6);
    fs_add_iscsi(&fs, KEY, true, MY_IQN, NULL);
    fs_add_iscsi(&fs, KEY, false, "IQN.2026-11.ORG.DROVER:NODE1", "23d000000002");
    fs_add_iscsi(&fs, OTHER_KEY, false, OTHER_IQN, NULL);
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), 0);
    fake_assert_calls(1);
    assert_int_equal(log_capture_count(LOG_ERR, ""), 0);
}

static void
test_registered_by_another_initiator(void **state)
{
    struct full_status fs;

    /* Ours on one nexus, another initiator's on another: two nodes share the key. */
    fs_begin(&fs, 7);
    fs_add_iscsi(&fs, KEY, true, MY_IQN, "23d000000001");
    fs_add_iscsi(&fs, KEY, false, OTHER_IQN, "23d000000009");
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), -DR_E_KEY_IN_USE);
    fake_assert_calls(1);
    assert_int_equal(log_capture_count(LOG_ERR, "initiator " OTHER_IQN ",i,0x23d000000009"), 1);
    assert_int_equal(log_capture_count(LOG_ERR, "not by this node's " MY_IQN), 1);
}

static void
test_name_prefix_is_another_initiator(void **state)
{
    struct full_status fs;

    /* "...:node1" is not "...:node10": the whole name must match, not a prefix. */
    fs_begin(&fs, 8);
    fs_add_iscsi(&fs, KEY, false, MY_IQN "0", NULL);
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), -DR_E_KEY_IN_USE);

    fake_reset();
    fs_begin(&fs, 8);
    fs_add_iscsi(&fs, KEY, false, MY_IQN, NULL);
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN "0"), -DR_E_KEY_IN_USE);
}

static void
test_other_transport_ignored(void **state)
{
    struct full_status fs;

    /* An FC registration names no iSCSI initiator to compare with. */
    fs_begin(&fs, 9);
    fs_add_fc(&fs, KEY);
    fs_add_iscsi(&fs, KEY, false, MY_IQN, NULL);
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), 0);
    fake_assert_calls(1);
}

static void
test_not_supported(void **state)
{
    /* tgtd: READ FULL STATUS is an unknown service action. */
    fake_push_check(0x5, 0x24, 0x00);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), -DR_E_NOT_SUPPORTED);
    fake_assert_calls(1);
}

static void
test_errors_pass_through(void **state)
{
    struct full_status fs;

    fake_push_status(0x18);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(1);

    /* An answer whose descriptor runs past its end. */
    fake_reset();
    fs_begin(&fs, 10);
    fs_add_iscsi(&fs, KEY, false, OTHER_IQN, NULL);
    put_be32(fs.buf + 8 + 20, 200);
    push(&fs);
    assert_int_equal(dr_pr_check_key_owner(*state, KEY, MY_IQN), -DR_E_BAD_RESPONSE);
    fake_assert_calls(1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_key_unregistered, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_registered_by_this_initiator, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_registered_by_another_initiator, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_name_prefix_is_another_initiator, setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_other_transport_ignored, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_not_supported, setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_errors_pass_through, setup, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
