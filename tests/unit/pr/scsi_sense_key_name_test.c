/* dr_scsi_sense_key_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/pr.h"

static void
test_out_of_range_keys_use_the_low_nibble(void **state)
{
    (void)state;
    assert_string_equal(dr_scsi_sense_key_name(0x15), "ILLEGAL REQUEST");
    assert_string_equal(dr_scsi_sense_key_name(0xff), "COMPLETED");
}

static void
test_every_key(void **state)
{
    static const char *const names[16] = {
        "NO SENSE",       "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
        "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
        "BLANK CHECK",    "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
        "RESERVED (0xC)", "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED",
    };

    (void)state;
    for (uint8_t k = 0; k < 16; k++) {
        assert_string_equal(dr_scsi_sense_key_name(k), names[k]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_range_keys_use_the_low_nibble),
        cmocka_unit_test(test_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
