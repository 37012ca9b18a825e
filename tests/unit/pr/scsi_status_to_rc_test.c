/* dr__scsi_status_to_rc: the one place a SCSI status and sense become a return code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drover/error.h"
#include "pr_internal.h"

static void
test_check_condition_without_sense(void **state)
{
    struct dr_scsi_sense invalid = {.valid = false, .key = 0x6};

    (void)state;
    assert_int_equal(dr__scsi_status_to_rc(0x02, NULL), -DR_E_CHECK_CONDITION);
    /* Undecodable sense is not trusted, whatever its fields say. */
    assert_int_equal(dr__scsi_status_to_rc(0x02, &invalid), -DR_E_CHECK_CONDITION);
}

static void
test_every_status(void **state)
{
    struct dr_scsi_sense ua = {.valid = true, .key = 0x6};

    (void)state;
    for (unsigned int st = 0; st <= 0xff; st++) {
        int expect;

        switch (st) {
        case 0x00:
        case 0x04:
            expect = 0;
            break;
        case 0x02:
            expect = -DR_E_UNIT_ATTENTION;
            break;
        case 0x18:
            expect = -DR_E_RESERVATION_CONFLICT;
            break;
        default:
            expect = -DR_E_SCSI_STATUS;
            break;
        }
        /* Sense only counts with CHECK CONDITION. */
        assert_int_equal(dr__scsi_status_to_rc((uint8_t)st, &ua), expect);
    }
    assert_int_equal(dr__scsi_status_to_rc(0x18, NULL), -DR_E_RESERVATION_CONFLICT);
    assert_int_equal(dr__scsi_status_to_rc(0x08, NULL), -DR_E_SCSI_STATUS);
    assert_int_equal(dr__scsi_status_to_rc(0x28, NULL), -DR_E_SCSI_STATUS);
}

static void
test_every_sense_key(void **state)
{
    static const int expect[16] = {
        [0x0] = 0,
        [0x1] = 0,
        [0x2] = -DR_E_NOT_READY,
        [0x3] = -DR_E_MEDIUM,
        [0x4] = -DR_E_MEDIUM,
        [0x5] = -DR_E_ILLEGAL_REQUEST,
        [0x6] = -DR_E_UNIT_ATTENTION,
        [0x7] = -DR_E_CHECK_CONDITION,
        [0x8] = -DR_E_CHECK_CONDITION,
        [0x9] = -DR_E_CHECK_CONDITION,
        [0xa] = -DR_E_CHECK_CONDITION,
        [0xb] = -DR_E_CHECK_CONDITION,
        [0xc] = -DR_E_CHECK_CONDITION,
        [0xd] = -DR_E_CHECK_CONDITION,
        [0xe] = -DR_E_CHECK_CONDITION,
        [0xf] = -DR_E_CHECK_CONDITION,
    };

    (void)state;
    for (uint8_t key = 0; key < 16; key++) {
        struct dr_scsi_sense s = {.valid = true, .key = key, .asc = 0x24};

        assert_int_equal(dr__scsi_status_to_rc(0x02, &s), expect[key]);
    }
}

static void
test_logical_unit_not_supported(void **state)
{
    struct dr_scsi_sense s = {.valid = true, .key = 0x5, .asc = 0x25, .ascq = 0x00};

    (void)state;
    assert_int_equal(dr__scsi_status_to_rc(0x02, &s), -DR_E_NO_LUN);
    s.key = 0x2;
    assert_int_equal(dr__scsi_status_to_rc(0x02, &s), -DR_E_NOT_READY);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_condition_without_sense),
        cmocka_unit_test(test_every_status),
        cmocka_unit_test(test_every_sense_key),
        cmocka_unit_test(test_logical_unit_not_supported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
