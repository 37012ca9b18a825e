/* dr__pr_out_params: the PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3, table 214). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pr_internal.h"
#include "pr_vectors.h"

static void
encode(uint8_t buf[DR__PR_OUT_PARAM_LEN], uint64_t key, uint64_t sa_key, uint8_t flags)
{
    memset(buf, 0xff, DR__PR_OUT_PARAM_LEN);
    dr__pr_out_params(buf, key, sa_key, flags);
}

static void
test_unknown_flag_bits_are_masked(void **state)
{
    uint8_t buf[DR__PR_OUT_PARAM_LEN];

    (void)state;
    /* Byte 20 has SPEC_I_PT (3), ALL_TG_PT (2), APTPL (0); bits 7..4 and 1 are reserved. */
    encode(buf, 0, 0, 0xff);
    assert_int_equal(buf[20], 0x0d);
    encode(buf, 0, 0, 0xf2);
    assert_int_equal(buf[20], 0x00);
}

static void
test_keys_are_big_endian(void **state)
{
    uint8_t buf[DR__PR_OUT_PARAM_LEN];
    const uint8_t expect[DR__PR_OUT_PARAM_LEN] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* RESERVATION KEY */
        0x64, 0x72, 0xcd, 0x20, 0xbf, 0x9c, 0xf9, 0x68, /* SERVICE ACTION RESERVATION KEY */
        0x00, 0x00, 0x00, 0x00,                         /* obsolete */
        0x01, 0x00, 0x00, 0x00,                         /* APTPL, reserved, obsolete */
    };

    (void)state;
    encode(buf, UINT64_C(0x0102030405060708), DR_TV_KEY1, DR_PR_OUT_FLAG_APTPL);
    assert_memory_equal(buf, expect, sizeof(expect));
}

static void
test_each_flag(void **state)
{
    uint8_t buf[DR__PR_OUT_PARAM_LEN];

    (void)state;
    encode(buf, 0, 0, DR_PR_OUT_FLAG_ALL_TG_PT);
    assert_int_equal(buf[20], 0x04);
    encode(buf, 0, 0, DR_PR_OUT_FLAG_SPEC_I_PT);
    assert_int_equal(buf[20], 0x08);
    encode(buf, UINT64_MAX, 0, 0);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(buf[i], 0xff);
    }
    for (size_t i = 8; i < DR__PR_OUT_PARAM_LEN; i++) {
        assert_int_equal(buf[i], 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_flag_bits_are_masked),
        cmocka_unit_test(test_keys_are_big_endian),
        cmocka_unit_test(test_each_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
