/* dr_pr_probe_write: READ CAPACITY(10), READ(10), then WRITE(10) FUA of the same bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "fake_transport.h"

/* READ CAPACITY(10) data: last LBA 0x3fff, block length 512. */
static const uint8_t capacity_512[8] = {0x00, 0x00, 0x3f, 0xff, 0x00, 0x00, 0x02, 0x00};
static uint8_t block[512];

static void
fill_block(void)
{
    for (size_t i = 0; i < sizeof(block); i++) {
        block[i] = (uint8_t)(i * 7 + 3);
    }
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(dr_pr_probe_write(NULL, 0), -EINVAL);
    fake_assert_calls(0);
}

static void
test_read_then_write_the_same_bytes(void **state)
{
    static const uint8_t rc10[10] = {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t read10[10] = {0x28, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 1, 0};
    static const uint8_t write10[10] = {0x2a, 0x08, 0x12, 0x34, 0x56, 0x78, 0, 0, 1, 0};

    fill_block();
    fake_push_data(capacity_512, sizeof(capacity_512));
    fake_push_data(block, sizeof(block));
    fake_push_good();
    assert_int_equal(dr_pr_probe_write(*state, 0x12345678), 0);
    fake_assert_calls(3);
    assert_memory_equal(fake_calls[0].cdb, rc10, 10);
    assert_int_equal(fake_calls[0].dir, DR__DIR_IN);
    assert_int_equal(fake_calls[0].buf_len, 8);
    assert_memory_equal(fake_calls[1].cdb, read10, 10);
    assert_int_equal(fake_calls[1].dir, DR__DIR_IN);
    assert_int_equal(fake_calls[1].buf_len, 512);
    assert_memory_equal(fake_calls[2].cdb, write10, 10);
    assert_int_equal(fake_calls[2].dir, DR__DIR_OUT);
    assert_int_equal(fake_calls[2].buf_len, 512);
    /* Nothing on the medium changes: the bytes written are the bytes read. */
    assert_memory_equal(fake_calls[2].out, block, sizeof(block));
}

static void
test_write_refused_by_the_reservation(void **state)
{
    fill_block();
    fake_push_data(capacity_512, sizeof(capacity_512));
    fake_push_data(block, sizeof(block));
    fake_push_status(0x18);
    assert_int_equal(dr_pr_probe_write(*state, 0), -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(3);
}

static void
test_read_refused_means_no_write(void **state)
{
    /* Exclusive Access: even the read conflicts, and nothing is written. */
    fake_push_data(capacity_512, sizeof(capacity_512));
    fake_push_status(0x18);
    assert_int_equal(dr_pr_probe_write(*state, 0), -DR_E_RESERVATION_CONFLICT);
    fake_assert_calls(2);
}

static void
test_short_read_means_no_write(void **state)
{
    /* Writing back a block we did not fully read would overwrite data with zeros. */
    fill_block();
    fake_push_data(capacity_512, sizeof(capacity_512));
    fake_push_data(block, 100);
    assert_int_equal(dr_pr_probe_write(*state, 0), -DR_E_BAD_RESPONSE);
    fake_assert_calls(2);
}

static void
test_bad_capacity_answers(void **state)
{
    static const uint8_t zero_len[8] = {0, 0, 0x3f, 0xff, 0, 0, 0, 0};
    static const uint8_t huge_len[8] = {0, 0, 0x3f, 0xff, 0, 0x01, 0x00, 0x01};

    fake_push_data(capacity_512, 7);
    assert_int_equal(dr_pr_probe_write(*state, 0), -DR_E_BAD_RESPONSE);
    fake_push_data(zero_len, sizeof(zero_len));
    assert_int_equal(dr_pr_probe_write(*state, 0), -DR_E_BAD_RESPONSE);
    fake_push_data(huge_len, sizeof(huge_len));
    assert_int_equal(dr_pr_probe_write(*state, 0), -DR_E_BAD_RESPONSE);
    fake_push_check(0x2, 0x3a, 0x00);
    assert_int_equal(dr_pr_probe_write(*state, 0), -DR_E_NOT_READY);
    fake_assert_calls(4);
}

static void
test_lba_out_of_range(void **state)
{
    fake_push_data(capacity_512, sizeof(capacity_512));
    fake_push_check(0x5, 0x21, 0x00);
    assert_int_equal(dr_pr_probe_write(*state, 0xffffffffu), -DR_E_ILLEGAL_REQUEST);
    fake_assert_calls(2);
    assert_int_equal(fake_calls[1].cdb[2], 0xff);
    assert_int_equal(fake_calls[1].cdb[5], 0xff);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_arguments, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_read_then_write_the_same_bytes, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_write_refused_by_the_reservation, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_read_refused_means_no_write, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_short_read_means_no_write, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_bad_capacity_answers, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_lba_out_of_range, fake_setup, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
