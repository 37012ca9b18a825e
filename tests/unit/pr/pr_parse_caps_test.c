/* dr__pr_parse_caps: REPORT CAPABILITIES parameter data (SPC-4 6.15.4, tables 206/207). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "pr_internal.h"
#include "pr_vectors.h"
#include "prefix_check.h"

static void
test_null_arguments(void **state)
{
    struct dr_pr_caps c;

    (void)state;
    assert_int_equal(dr__pr_parse_caps(NULL, 8, &c), -EINVAL);
    assert_int_equal(dr__pr_parse_caps(dr_tv_caps_all.data, dr_tv_caps_all.len, NULL), -EINVAL);
}

static void
test_every_capability(void **state)
{
    struct dr_pr_caps c;

    (void)state;
    memset(&c, 0xa5, sizeof(c));
    assert_int_equal(dr__pr_parse_caps(dr_tv_caps_all.data, dr_tv_caps_all.len, &c), 0);
    assert_true(c.crh);
    assert_false(c.sip_c);
    assert_true(c.atp_c);
    assert_true(c.ptpl_c);
    assert_true(c.tmv);
    assert_false(c.ptpl_a);
    assert_int_equal(c.allow_commands, 1);
    assert_int_equal(c.type_mask,
                     (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8));
}

static void
test_each_type_mask_bit(void **state)
{
    /* SPC-4 table 207: byte 4 bit -> type, and byte 5 bit 0 -> EX_AC_AR. */
    static const struct {
        uint8_t b4, b5;
        enum dr_pr_type type;
    } bits[] = {
        {0x80, 0, DR_PR_TYPE_WRITE_EXCLUSIVE_AR}, {0x40, 0, DR_PR_TYPE_EXCLUSIVE_ACCESS_RO},
        {0x20, 0, DR_PR_TYPE_WRITE_EXCLUSIVE_RO}, {0x08, 0, DR_PR_TYPE_EXCLUSIVE_ACCESS},
        {0x02, 0, DR_PR_TYPE_WRITE_EXCLUSIVE},    {0x00, 1, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR},
    };
    uint8_t buf[8] = {0x00, 0x08, 0x00, 0x80, 0, 0, 0, 0};
    struct dr_pr_caps c;

    (void)state;
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        buf[4] = bits[i].b4;
        buf[5] = bits[i].b5;
        assert_int_equal(dr__pr_parse_caps(buf, sizeof(buf), &c), 0);
        assert_int_equal(c.type_mask, 1u << bits[i].type);
    }
    /* Reserved bits of the mask do not name types. */
    buf[4] = 0x15;
    buf[5] = 0xfe;
    assert_int_equal(dr__pr_parse_caps(buf, sizeof(buf), &c), 0);
    assert_int_equal(c.type_mask, 0);
}

static void
test_mask_ignored_without_tmv(void **state)
{
    uint8_t buf[8];
    struct dr_pr_caps c;

    (void)state;
    memcpy(buf, dr_tv_caps_all.data, sizeof(buf));
    buf[3] = 0x71; /* TMV clear, ALLOW COMMANDS 7, PTPL_A */
    assert_int_equal(dr__pr_parse_caps(buf, sizeof(buf), &c), 0);
    assert_false(c.tmv);
    assert_int_equal(c.type_mask, 0);
    assert_int_equal(c.allow_commands, 7);
    assert_true(c.ptpl_a);
}

static int
parse(const uint8_t *buf, size_t len, void *out)
{
    return dr__pr_parse_caps(buf, len, out);
}

static bool
same(const void *a, const void *b)
{
    const struct dr_pr_caps *x = a, *y = b;

    return x->crh == y->crh && x->sip_c == y->sip_c && x->atp_c == y->atp_c &&
           x->ptpl_c == y->ptpl_c && x->tmv == y->tmv && x->ptpl_a == y->ptpl_a &&
           x->type_mask == y->type_mask && x->allow_commands == y->allow_commands;
}

static void
test_every_prefix_is_whole_or_refused(void **state)
{
    const struct prefix_parser p = {parse, same, NULL, sizeof(struct dr_pr_caps)};

    (void)state;
    assert_int_equal(prefix_check(&p, dr_tv_caps_all.data, dr_tv_caps_all.len), 8);
}

static void
test_length_field_too_small(void **state)
{
    uint8_t buf[8];
    struct dr_pr_caps c = {.type_mask = 0x1234};

    (void)state;
    memcpy(buf, dr_tv_caps_all.data, sizeof(buf));
    for (uint8_t l = 0; l < 8; l++) {
        buf[1] = l;
        assert_int_equal(dr__pr_parse_caps(buf, sizeof(buf), &c), -DR_E_BAD_RESPONSE);
    }
    assert_int_equal(c.type_mask, 0x1234);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_every_capability),
        cmocka_unit_test(test_each_type_mask_bit),
        cmocka_unit_test(test_mask_ignored_without_tmv),
        cmocka_unit_test(test_every_prefix_is_whole_or_refused),
        cmocka_unit_test(test_length_field_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
