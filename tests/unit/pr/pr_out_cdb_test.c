/* dr__pr_out_cdb: PERSISTENT RESERVE OUT CDB (SPC-4 6.16.1, table 208). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pr_internal.h"

static const enum dr_pr_out_action actions[] = {
    DR_PR_OUT_REGISTER,
    DR_PR_OUT_RESERVE,
    DR_PR_OUT_RELEASE,
    DR_PR_OUT_CLEAR,
    DR_PR_OUT_PREEMPT,
    DR_PR_OUT_PREEMPT_AND_ABORT,
    DR_PR_OUT_REGISTER_AND_IGNORE,
};

static const enum dr_pr_type types[] = {
    DR_PR_TYPE_WRITE_EXCLUSIVE,     DR_PR_TYPE_EXCLUSIVE_ACCESS,   DR_PR_TYPE_WRITE_EXCLUSIVE_RO,
    DR_PR_TYPE_EXCLUSIVE_ACCESS_RO, DR_PR_TYPE_WRITE_EXCLUSIVE_AR, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR,
};

static void
encode(uint8_t cdb[DR__PR_CDB_LEN], enum dr_pr_out_action sa, uint8_t scope, uint8_t type,
       uint32_t len)
{
    memset(cdb, 0xff, DR__PR_CDB_LEN);
    dr__pr_out_cdb(cdb, sa, scope, type, len);
}

static void
test_out_of_range_fields_are_masked(void **state)
{
    uint8_t cdb[DR__PR_CDB_LEN];

    (void)state;
    /* SERVICE ACTION is 5 bits, SCOPE and TYPE 4 bits each. */
    encode(cdb, (enum dr_pr_out_action)0xe7, 0x3f, 0xf9, 24);
    assert_int_equal(cdb[1], 0x07);
    assert_int_equal(cdb[2], 0xf9);
    encode(cdb, DR_PR_OUT_RESERVE, 0x10, 0x15, 24);
    assert_int_equal(cdb[2], 0x05);
}

static void
test_every_action_and_type(void **state)
{
    (void)state;
    for (size_t a = 0; a < sizeof(actions) / sizeof(actions[0]); a++) {
        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
            uint8_t cdb[DR__PR_CDB_LEN];
            const uint8_t expect[DR__PR_CDB_LEN] = {
                0x5f, (uint8_t)actions[a], (uint8_t)types[t], 0, 0, 0, 0, 0, 24, 0};

            encode(cdb, actions[a], 0, (uint8_t)types[t], DR__PR_OUT_PARAM_LEN);
            assert_memory_equal(cdb, expect, DR__PR_CDB_LEN);
        }
    }
}

static void
test_scope_is_the_high_nibble(void **state)
{
    uint8_t cdb[DR__PR_CDB_LEN];

    (void)state;
    encode(cdb, DR_PR_OUT_RESERVE, 0x2, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR, 24);
    assert_int_equal(cdb[2], 0x28);
}

static void
test_parameter_list_length_is_32_bits(void **state)
{
    uint8_t cdb[DR__PR_CDB_LEN];

    (void)state;
    /* Bytes 5..8, big-endian; bytes 3..4 stay reserved (zero). */
    encode(cdb, DR_PR_OUT_REGISTER, 0, 0, UINT32_C(0x01020304));
    assert_int_equal(cdb[3], 0);
    assert_int_equal(cdb[4], 0);
    assert_int_equal(cdb[5], 0x01);
    assert_int_equal(cdb[6], 0x02);
    assert_int_equal(cdb[7], 0x03);
    assert_int_equal(cdb[8], 0x04);
    assert_int_equal(cdb[9], 0);
    encode(cdb, DR_PR_OUT_REGISTER, 0, 0, UINT32_MAX);
    assert_int_equal(cdb[5], 0xff);
    assert_int_equal(cdb[8], 0xff);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_range_fields_are_masked),
        cmocka_unit_test(test_every_action_and_type),
        cmocka_unit_test(test_scope_is_the_high_nibble),
        cmocka_unit_test(test_parameter_list_length_is_32_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
