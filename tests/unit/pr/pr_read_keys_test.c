/* dr_pr_read_keys over the scripted fake transport: retries, paths, re-reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "drover/error.h"
#include "fake_transport.h"

static void
test_bad_arguments(void **state)
{
    struct dr_pr_keys k = {0};

    assert_int_equal(dr_pr_read_keys(NULL, &k), -EINVAL);
    assert_int_equal(dr_pr_read_keys(*state, NULL), -EINVAL);
    fake_assert_calls(0);
}

static void
test_two_keys(void **state)
{
    struct dr_pr_keys k = {0};
    static const uint8_t cdb[10] = {0x5e, 0x00, 0, 0, 0, 0, 0, 0x04, 0x00, 0};

    fake_push_vector(&dr_tv_keys_two);
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    fake_assert_calls(1);
    assert_memory_equal(fake_calls[0].cdb, cdb, sizeof(cdb));
    assert_int_equal(fake_calls[0].dir, DR__DIR_IN);
    assert_int_equal(fake_calls[0].buf_len, 1024);
    assert_int_equal(k.generation, 7);
    assert_int_equal(k.n_keys, 2);
    assert_int_equal(k.keys[0], DR_TV_KEY1);
    assert_int_equal(k.keys[1], DR_TV_KEY2);
    dr_pr_keys_free(&k);
}

static void
test_truncated_answer(void **state)
{
    struct dr_pr_keys k = {0};

    /* The device sent 20 of the 24 bytes it announced. */
    fake_push_data(dr_tv_keys_two.data, 20);
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_BAD_RESPONSE);
    assert_null(k.keys);
    fake_assert_calls(1);
}

/* A READ KEYS answer announcing n keys; the fake cuts it to the allocation length. */
static uint8_t *
many_keys(size_t n, size_t *len)
{
    uint8_t *buf = calloc(1, 8 + 8 * n);

    assert_non_null(buf);
    put_be32(buf + 4, (uint32_t)(8 * n));
    for (size_t i = 0; i < n; i++) {
        buf[8 + 8 * i + 7] = (uint8_t)(i + 1);
    }
    *len = 8 + 8 * n;
    return buf;
}

static void
test_reissued_with_the_announced_length(void **state)
{
    struct dr_pr_keys k = {0};
    size_t len;
    uint8_t *big = many_keys(200, &len);

    /* 1608 bytes do not fit the first 1024-byte allocation (SPC-4 4.2.5.6). */
    fake_push_data(big, len);
    fake_push_data(big, len);
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    fake_assert_calls(2);
    assert_int_equal(fake_calls[0].buf_len, 1024);
    assert_int_equal(fake_calls[1].buf_len, 1608);
    assert_int_equal(fake_calls[1].cdb[7], 0x06);
    assert_int_equal(fake_calls[1].cdb[8], 0x48);
    assert_int_equal(k.n_keys, 200);
    assert_int_equal(k.keys[199], 200);
    dr_pr_keys_free(&k);
    free(big);
}

static void
test_answer_growing_between_reads_is_refused(void **state)
{
    struct dr_pr_keys k = {0};
    size_t len1, len2;
    uint8_t *first = many_keys(200, &len1);
    uint8_t *second = many_keys(300, &len2);

    fake_push_data(first, len1);
    fake_push_data(second, len2);
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_BAD_RESPONSE);
    fake_assert_calls(2);
    assert_null(k.keys);
    free(first);
    free(second);
}

static void
test_unit_attention_is_retried(void **state)
{
    struct dr_pr_keys k = {0};

    fake_push_sense_vector(&dr_tv_sense_fixed_ua);
    fake_push_sense_vector(&dr_tv_sense_fixed_ua);
    fake_push_vector(&dr_tv_keys_two);
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    fake_assert_calls(3);
    assert_int_equal(k.n_keys, 2);
    dr_pr_keys_free(&k);
}

static void
test_unit_attention_retries_are_bounded(void **state)
{
    struct dr_pr_keys k = {0};
    const struct dr_scsi_status *last;

    /* ua_retries is 3: the command is issued 1 + 3 times, then the UA is reported. */
    for (int i = 0; i < 4; i++) {
        fake_push_sense_vector(&dr_tv_sense_fixed_ua);
    }
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_UNIT_ATTENTION);
    fake_assert_calls(4);
    last = dr_pr_last_status(*state);
    assert_int_equal(last->status, 0x02);
    assert_true(last->sense.valid);
    assert_int_equal(last->sense.key, 0x6);
    assert_int_equal(last->sense.asc, 0x2a);
    assert_int_equal(last->sense.ascq, 0x03);
}

static void
test_unit_attention_retry_count_is_configurable(void **state)
{
    struct dr_pr_device *dev = fake_device_new(1, 1);
    struct dr_pr_keys k = {0};

    (void)state;
    fake_push_sense_vector(&dr_tv_sense_fixed_ua);
    fake_push_sense_vector(&dr_tv_sense_fixed_ua);
    assert_int_equal(dr_pr_read_keys(dev, &k), -DR_E_UNIT_ATTENTION);
    fake_assert_calls(2);
    dr_pr_close(dev);
}

static void
test_reservation_conflict(void **state)
{
    struct dr_pr_keys k = {0};
    char desc[160];

    fake_push_status(0x18);
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(1);
    assert_int_equal(dr_pr_describe_last(*state, desc, sizeof(desc)), 0);
    assert_string_equal(desc, "RESERVATION CONFLICT (0x18)");
}

static void
test_transport_failure_moves_to_the_next_path(void **state)
{
    struct dr_pr_keys k = {0};

    fake_push_fail(-DR_E_TRANSPORT);
    fake_push_vector(&dr_tv_keys_two);
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    fake_assert_calls(2);
    assert_int_equal(fake_calls[0].path, 0);
    assert_int_equal(fake_calls[1].path, 1);
    assert_int_equal(k.n_keys, 2);
    dr_pr_keys_free(&k);
}

static void
test_each_transport_error_moves_on(void **state)
{
    static const int errs[] = {-ETIMEDOUT, -EIO, -ENOTCONN, -ECONNRESET};
    struct dr_pr_keys k = {0};

    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        fake_reset();
        fake_push_fail(errs[i]);
        fake_push_fail(errs[i]);
        fake_push_vector(&dr_tv_keys_none);
        assert_int_equal(dr_pr_read_keys(*state, &k), 0);
        fake_assert_calls(3);
        assert_int_equal(fake_calls[2].path, 2);
    }
}

static void
test_every_path_failing(void **state)
{
    struct dr_pr_keys k = {0};
    const struct dr_scsi_status *last;

    fake_push_fail(-DR_E_TRANSPORT);
    fake_push_fail(-DR_E_TRANSPORT);
    fake_push_fail(-ETIMEDOUT);
    assert_int_equal(dr_pr_read_keys(*state, &k), -ETIMEDOUT);
    fake_assert_calls(3);
    last = dr_pr_last_status(*state);
    assert_int_equal(last->status, 0xff);
    assert_false(last->sense.valid);
}

static void
test_scsi_errors_do_not_move_on(void **state)
{
    struct dr_pr_keys k = {0};

    /* The device answered: another path would get the same answer. */
    fake_push_check(0x5, 0x24, 0x00);
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_ILLEGAL_REQUEST);
    fake_assert_calls(1);
    fake_reset();
    fake_push_fail(-ENOMEM);
    assert_int_equal(dr_pr_read_keys(*state, &k), -ENOMEM);
    fake_assert_calls(1);
}

static void
test_no_persistent_reservations_at_all(void **state)
{
    struct dr_pr_keys k = {0};

    /* 05/20/00 INVALID COMMAND OPERATION CODE: the LU has no PERSISTENT RESERVE IN. */
    fake_push_check(0x5, 0x20, 0x00);
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_NOT_SUPPORTED);
    fake_assert_calls(1);
    assert_int_equal(dr_pr_last_status(*state)->sense.asc, 0x20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_two_keys, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_answer, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_reissued_with_the_announced_length, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_answer_growing_between_reads_is_refused, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_unit_attention_is_retried, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_unit_attention_retries_are_bounded, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_unit_attention_retry_count_is_configurable, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_reservation_conflict, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_transport_failure_moves_to_the_next_path,
                                        fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_each_transport_error_moves_on, fake_setup_3paths,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_every_path_failing, fake_setup_3paths, fake_teardown),
        cmocka_unit_test_setup_teardown(test_scsi_errors_do_not_move_on, fake_setup_3paths,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_no_persistent_reservations_at_all, fake_setup,
                                        fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
