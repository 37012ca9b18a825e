/* dr_strerror: names 0, every -errno and every -DR_E_* code. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"

static void
test_out_of_range_codes(void **state)
{
    (void)state;
    assert_string_equal(dr_strerror(-(DR_E_MAX)), "unknown drover error");
    assert_string_equal(dr_strerror(-(DR_E_MAX + 100)), "unknown drover error");
    assert_string_equal(dr_strerror(INT_MAX), "unknown drover error");
    /* INT_MIN has no positive counterpart; it must still get a name (and no UB). */
    assert_non_null(dr_strerror(INT_MIN));
    assert_string_equal(dr_strerror(INT_MIN), "unknown drover error");
}

static void
test_success_and_errno_values(void **state)
{
    static const int errs[] = {EINVAL,       ENOENT,       ENOTTY, EACCES, ETIMEDOUT,
                               ECONNREFUSED, EHOSTUNREACH, ENOMEM, EIO,    ENODEV};

    (void)state;
    assert_string_equal(dr_strerror(0), "success");
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        assert_string_equal(dr_strerror(-errs[i]), strerror(errs[i]));
        /* Positive values are treated as their negation. */
        assert_string_equal(dr_strerror(errs[i]), strerror(errs[i]));
    }
}

static void
test_every_drover_code(void **state)
{
    static const struct {
        int code;
        const char *name;
    } codes[] = {
        {DR_E_RESERVATION_CONFLICT, "reservation conflict"},
        {DR_E_UNIT_ATTENTION, "unit attention persisted"},
        {DR_E_ILLEGAL_REQUEST, "illegal request"},
        {DR_E_NOT_READY, "logical unit not ready"},
        {DR_E_MEDIUM, "medium or hardware error"},
        {DR_E_CHECK_CONDITION, "check condition"},
        {DR_E_SCSI_STATUS, "unexpected SCSI status"},
        {DR_E_TRANSPORT, "transport failure"},
        {DR_E_BAD_RESPONSE, "truncated or inconsistent response"},
        {DR_E_NOT_SUPPORTED, "not supported by the device"},
        {DR_E_LOGIN, "iSCSI login refused"},
        {DR_E_NO_LUN, "no such logical unit"},
        {DR_E_KEY_IN_USE, "reservation key already used by another node"},
        {DR_E_NOT_REGISTERED, "not registered"},
        {DR_E_STILL_REGISTERED, "key still registered after fencing"},
        {DR_E_SELF_FENCE, "refusing to fence the local node"},
        {DR_E_DAEMON, "droverd not reachable"},
        {DR_E_PROTOCOL, "droverd protocol mismatch"},
        {DR_E_CONFIG, "configuration error"},
        {DR_E_LIBVIRT, "libvirt error"},
    };

    (void)state;
    /* The table covers every code: adding one to error.h without a name fails here. */
    assert_int_equal(sizeof(codes) / sizeof(codes[0]), DR_E_MAX - DR_E_BASE - 1);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_string_equal(dr_strerror(-codes[i].code), codes[i].name);
        assert_string_equal(dr_strerror(codes[i].code), codes[i].name);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_range_codes),
        cmocka_unit_test(test_success_and_errno_values),
        cmocka_unit_test(test_every_drover_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
