/* dr_scsi_asc_name: the ASC/ASCQ pairs PR traffic meets (SPC-4 Annex D). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/pr.h"

static void
test_unknown_pairs(void **state)
{
    (void)state;
    assert_null(dr_scsi_asc_name(0xff, 0xff));
    /* A known ASC with an unknown ASCQ is not the known pair. */
    assert_null(dr_scsi_asc_name(0x24, 0x01));
    assert_null(dr_scsi_asc_name(0x2a, 0x02));
}

static void
test_pairs_that_pr_depends_on(void **state)
{
    (void)state;
    assert_string_equal(dr_scsi_asc_name(0x24, 0x00), "INVALID FIELD IN CDB");
    assert_string_equal(dr_scsi_asc_name(0x25, 0x00), "LOGICAL UNIT NOT SUPPORTED");
    assert_string_equal(dr_scsi_asc_name(0x26, 0x00), "INVALID FIELD IN PARAMETER LIST");
    assert_string_equal(dr_scsi_asc_name(0x29, 0x00),
                        "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED");
    assert_string_equal(dr_scsi_asc_name(0x29, 0x07), "I_T NEXUS LOSS OCCURRED");
    assert_string_equal(dr_scsi_asc_name(0x2a, 0x03), "RESERVATIONS PREEMPTED");
    assert_string_equal(dr_scsi_asc_name(0x2a, 0x04), "RESERVATIONS RELEASED");
    assert_string_equal(dr_scsi_asc_name(0x2a, 0x05), "REGISTRATIONS PREEMPTED");
    assert_string_equal(dr_scsi_asc_name(0x55, 0x04), "INSUFFICIENT REGISTRATION RESOURCES");
}

static void
test_every_pair_has_a_name(void **state)
{
    size_t named = 0;

    (void)state;
    for (unsigned int asc = 0; asc <= 0xff; asc++) {
        for (unsigned int ascq = 0; ascq <= 0xff; ascq++) {
            const char *n = dr_scsi_asc_name((uint8_t)asc, (uint8_t)ascq);

            if (n != NULL) {
                assert_true(n[0] != '\0');
                named++;
            }
        }
    }
    assert_int_equal(named, 23);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_pairs),
        cmocka_unit_test(test_pairs_that_pr_depends_on),
        cmocka_unit_test(test_every_pair_has_a_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
