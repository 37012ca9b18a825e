/* dr__scsi_status_format: the one-line description of a failed command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pr_internal.h"

static void
test_null_and_empty_buffers(void **state)
{
    char buf[4] = "xyz";

    (void)state;
    dr__scsi_status_format(0x02, NULL, NULL, 10);
    dr__scsi_status_format(0x02, NULL, buf, 0);
    assert_string_equal(buf, "xyz");
}

static void
test_statuses(void **state)
{
    char buf[160];

    (void)state;
    dr__scsi_status_format(0x18, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "RESERVATION CONFLICT (0x18)");
    dr__scsi_status_format(0xff, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "TRANSPORT FAILURE (0xff)");
    dr__scsi_status_format(0x08, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "BUSY (0x08)");
    dr__scsi_status_format(0x28, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "TASK SET FULL (0x28)");
    dr__scsi_status_format(0x22, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "UNKNOWN STATUS (0x22)");
    dr__scsi_status_format(0x02, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "CHECK CONDITION (0x02)");
}

static void
test_check_condition_with_sense(void **state)
{
    struct dr_scsi_sense s = {
        .valid = true, .key = 0x5, .asc = 0x24, .field_valid = true, .in_cdb = true};
    char buf[160];

    (void)state;
    dr__scsi_status_format(0x02, &s, buf, sizeof(buf));
    assert_string_equal(buf, "CHECK CONDITION, ILLEGAL REQUEST, ASC/ASCQ 24/00 INVALID FIELD IN "
                             "CDB, field in CDB");
    s.key = 0x6;
    s.asc = 0x2a;
    s.ascq = 0x03;
    s.field_valid = false;
    dr__scsi_status_format(0x02, &s, buf, sizeof(buf));
    assert_string_equal(buf, "CHECK CONDITION, UNIT ATTENTION, ASC/ASCQ 2a/03 RESERVATIONS "
                             "PREEMPTED");
    s.asc = 0x99;
    dr__scsi_status_format(0x02, &s, buf, 24);
    assert_int_equal(strlen(buf), 23);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_and_empty_buffers),
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_check_condition_with_sense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
