/* dr__pr_in_cdb: PERSISTENT RESERVE IN CDB (SPC-4 6.15.1, table 201). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pr_internal.h"

static void
encode(uint8_t cdb[DR__PR_CDB_LEN], enum dr_pr_in_action sa, uint16_t alloc_len)
{
    /* Poison first: every reserved byte must be written as zero. */
    memset(cdb, 0xff, DR__PR_CDB_LEN);
    dr__pr_in_cdb(cdb, sa, alloc_len);
}

static void
test_service_action_out_of_range_is_masked(void **state)
{
    uint8_t cdb[DR__PR_CDB_LEN];

    (void)state;
    /* The SERVICE ACTION field is 5 bits; nothing may spill into the reserved bits 7..5. */
    encode(cdb, (enum dr_pr_in_action)0xff, 0);
    assert_int_equal(cdb[0], 0x5e);
    assert_int_equal(cdb[1], 0x1f);
}

static void
test_every_action_byte_for_byte(void **state)
{
    static const struct {
        enum dr_pr_in_action sa;
        uint16_t alloc;
        uint8_t expect[DR__PR_CDB_LEN];
    } cases[] = {
        {DR_PR_IN_READ_KEYS, 1024, {0x5e, 0x00, 0, 0, 0, 0, 0, 0x04, 0x00, 0}},
        {DR_PR_IN_READ_RESERVATION, 24, {0x5e, 0x01, 0, 0, 0, 0, 0, 0x00, 0x18, 0}},
        {DR_PR_IN_REPORT_CAPABILITIES, 8, {0x5e, 0x02, 0, 0, 0, 0, 0, 0x00, 0x08, 0}},
        {DR_PR_IN_READ_FULL_STATUS, 0xfffe, {0x5e, 0x03, 0, 0, 0, 0, 0, 0xff, 0xfe, 0}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t cdb[DR__PR_CDB_LEN];

        encode(cdb, cases[i].sa, cases[i].alloc);
        assert_memory_equal(cdb, cases[i].expect, DR__PR_CDB_LEN);
    }
}

static void
test_allocation_length_is_big_endian(void **state)
{
    uint8_t cdb[DR__PR_CDB_LEN];

    (void)state;
    encode(cdb, DR_PR_IN_READ_KEYS, 0x1234);
    assert_int_equal(cdb[7], 0x12);
    assert_int_equal(cdb[8], 0x34);
    encode(cdb, DR_PR_IN_READ_KEYS, 0);
    assert_int_equal(cdb[7], 0);
    assert_int_equal(cdb[8], 0);
    /* CONTROL byte stays 0. */
    assert_int_equal(cdb[9], 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_action_out_of_range_is_masked),
        cmocka_unit_test(test_every_action_byte_for_byte),
        cmocka_unit_test(test_allocation_length_is_big_endian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
