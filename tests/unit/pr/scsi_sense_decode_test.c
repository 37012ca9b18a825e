/* dr__scsi_sense_decode: fixed and descriptor format sense data (SPC-4 4.5). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "pr_internal.h"
#include "pr_vectors.h"

/* Decode an exact-size heap copy, so ASan catches any read past len. */
static int
decode(const uint8_t *sense, size_t len, struct dr_scsi_sense *out)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, sense, len);
    memset(out, 0xa5, sizeof(*out));
    rc = dr__scsi_sense_decode(copy, len, out);
    free(copy);
    return rc;
}

static void
test_null_and_short(void **state)
{
    static const uint8_t one[1] = {0x70};
    struct dr_scsi_sense s;

    (void)state;
    assert_int_equal(dr__scsi_sense_decode(one, 1, NULL), -EINVAL);
    assert_int_equal(decode(one, 0, &s), -DR_E_BAD_RESPONSE);
    assert_false(s.valid);
    assert_int_equal(dr__scsi_sense_decode(NULL, 18, &s), -DR_E_BAD_RESPONSE);
    assert_false(s.valid);
    assert_int_equal(decode(one, 1, &s), -DR_E_BAD_RESPONSE);
    assert_false(s.valid);
    /* Fixed format needs the key in byte 2, descriptor format the ASCQ in byte 3. */
    assert_int_equal(decode(dr_tv_sense_fixed_illegal.data, 2, &s), -DR_E_BAD_RESPONSE);
    assert_int_equal(decode(dr_tv_sense_desc_illegal.data, 3, &s), -DR_E_BAD_RESPONSE);
}

static void
test_unknown_response_codes(void **state)
{
    static const uint8_t codes[] = {0x00, 0x6f, 0x74, 0x7f, 0x7e, 0x01};
    uint8_t buf[18];
    struct dr_scsi_sense s;

    (void)state;
    memcpy(buf, dr_tv_sense_fixed_illegal.data, sizeof(buf));
    for (size_t i = 0; i < sizeof(codes); i++) {
        buf[0] = codes[i];
        assert_int_equal(decode(buf, sizeof(buf), &s), -DR_E_BAD_RESPONSE);
        assert_false(s.valid);
    }
}

static void
test_fixed_with_field_pointer(void **state)
{
    struct dr_scsi_sense s;

    (void)state;
    assert_int_equal(decode(dr_tv_sense_fixed_illegal.data, dr_tv_sense_fixed_illegal.len, &s), 0);
    assert_true(s.valid);
    assert_int_equal(s.response, 0x70);
    assert_int_equal(s.key, 0x5);
    assert_int_equal(s.asc, 0x24);
    assert_int_equal(s.ascq, 0x00);
    assert_true(s.field_valid);
    assert_true(s.in_cdb);
    assert_int_equal(s.field, 2);
}

static void
test_fixed_deferred_and_valid_bit(void **state)
{
    uint8_t buf[18];
    struct dr_scsi_sense s;

    (void)state;
    memcpy(buf, dr_tv_sense_fixed_ua.data, sizeof(buf));
    buf[0] = 0xf1; /* VALID bit + deferred error */
    assert_int_equal(decode(buf, sizeof(buf), &s), 0);
    assert_int_equal(s.response, 0x71);
    assert_int_equal(s.key, 0x6);
    assert_int_equal(s.asc, 0x2a);
    assert_int_equal(s.ascq, 0x03);
    assert_false(s.field_valid);
}

static void
test_fixed_short_buffers(void **state)
{
    struct dr_scsi_sense s;
    uint8_t buf[18];

    (void)state;
    /* Three bytes: the key only. */
    assert_int_equal(decode(dr_tv_sense_fixed_illegal.data, 3, &s), 0);
    assert_int_equal(s.key, 0x5);
    assert_int_equal(s.asc, 0);
    assert_false(s.field_valid);
    /* Cut before the SKS bytes: ASC/ASCQ but no field pointer. */
    assert_int_equal(decode(dr_tv_sense_fixed_illegal.data, 17, &s), 0);
    assert_int_equal(s.asc, 0x24);
    assert_false(s.field_valid);
    /* ADDITIONAL SENSE LENGTH shorter than the buffer: bytes past it are not sense. */
    memcpy(buf, dr_tv_sense_fixed_illegal.data, sizeof(buf));
    buf[7] = 5;
    assert_int_equal(decode(buf, sizeof(buf), &s), 0);
    assert_int_equal(s.asc, 0);
    assert_false(s.field_valid);
    /* SKSV clear: no field pointer even though the bytes are there. */
    buf[7] = 10;
    buf[15] = 0x40;
    assert_int_equal(decode(buf, sizeof(buf), &s), 0);
    assert_false(s.field_valid);
    buf[15] = 0x80; /* SKSV, C/D clear: parameter list */
    buf[16] = 0x01;
    buf[17] = 0x02;
    assert_int_equal(decode(buf, sizeof(buf), &s), 0);
    assert_true(s.field_valid);
    assert_false(s.in_cdb);
    assert_int_equal(s.field, 0x0102);
}

static void
test_descriptor_with_field_pointer(void **state)
{
    struct dr_scsi_sense s;

    (void)state;
    assert_int_equal(decode(dr_tv_sense_desc_illegal.data, dr_tv_sense_desc_illegal.len, &s), 0);
    assert_true(s.valid);
    assert_int_equal(s.response, 0x72);
    assert_int_equal(s.key, 0x5);
    assert_int_equal(s.asc, 0x26);
    assert_int_equal(s.ascq, 0x00);
    assert_true(s.field_valid);
    assert_false(s.in_cdb);
    assert_int_equal(s.field, 1);
}

static void
test_descriptor_short_and_inconsistent(void **state)
{
    uint8_t buf[28];
    struct dr_scsi_sense s;

    (void)state;
    /* Header only: key and ASC/ASCQ, no descriptors. */
    assert_int_equal(decode(dr_tv_sense_desc_illegal.data, 4, &s), 0);
    assert_int_equal(s.asc, 0x26);
    assert_false(s.field_valid);
    /* Cut inside the SKS descriptor: it is not used. */
    assert_int_equal(decode(dr_tv_sense_desc_illegal.data, dr_tv_sense_desc_illegal.len - 1, &s),
                     0);
    assert_false(s.field_valid);
    memcpy(buf, dr_tv_sense_desc_illegal.data, sizeof(buf));
    /* ADDITIONAL SENSE LENGTH that stops before the SKS descriptor. */
    buf[7] = 12;
    assert_int_equal(decode(buf, sizeof(buf), &s), 0);
    assert_false(s.field_valid);
    /* A descriptor whose length runs past the end stops the walk. */
    buf[7] = 20;
    buf[9] = 0xff;
    assert_int_equal(decode(buf, sizeof(buf), &s), 0);
    assert_false(s.field_valid);
    /* Deferred descriptor-format sense, C/D set. */
    memcpy(buf, dr_tv_sense_desc_illegal.data, sizeof(buf));
    buf[0] = 0x73;
    buf[24] = 0xc0;
    assert_int_equal(decode(buf, sizeof(buf), &s), 0);
    assert_int_equal(s.response, 0x73);
    assert_true(s.in_cdb);
}

static void
test_every_prefix_decodes_safely(void **state)
{
    (void)state;
    for (size_t v = 0; dr_tv_all[v] != NULL; v++) {
        const struct dr_test_vector *tv = dr_tv_all[v];

        if (strncmp(tv->name, "sense_", 6) != 0) {
            continue;
        }
        for (size_t cut = 0; cut <= tv->len; cut++) {
            struct dr_scsi_sense s;
            int rc = decode(tv->data, cut, &s);

            assert_true(rc == 0 || rc == -DR_E_BAD_RESPONSE);
            assert_int_equal(s.valid, rc == 0);
            assert_true(s.key <= 0xf);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_and_short),
        cmocka_unit_test(test_unknown_response_codes),
        cmocka_unit_test(test_fixed_with_field_pointer),
        cmocka_unit_test(test_fixed_deferred_and_valid_bit),
        cmocka_unit_test(test_fixed_short_buffers),
        cmocka_unit_test(test_descriptor_with_field_pointer),
        cmocka_unit_test(test_descriptor_short_and_inconsistent),
        cmocka_unit_test(test_every_prefix_decodes_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
