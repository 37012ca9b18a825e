/* dr__pr_parse_reservation: READ RESERVATION parameter data (SPC-4 6.15.3, tables 204/205). */
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
    struct dr_pr_reservation r;

    (void)state;
    assert_int_equal(dr__pr_parse_reservation(NULL, 24, &r), -EINVAL);
    assert_int_equal(dr__pr_parse_reservation(dr_tv_res_held.data, dr_tv_res_held.len, NULL),
                     -EINVAL);
}

static void
test_held(void **state)
{
    struct dr_pr_reservation r;

    (void)state;
    memset(&r, 0xa5, sizeof(r));
    assert_int_equal(dr__pr_parse_reservation(dr_tv_res_held.data, dr_tv_res_held.len, &r), 0);
    assert_int_equal(r.generation, 9);
    assert_true(r.reserved);
    assert_int_equal(r.key, DR_TV_KEY1);
    assert_int_equal(r.scope, 0);
    assert_int_equal(r.type, DR_PR_TYPE_WRITE_EXCLUSIVE_RO);
}

static void
test_none(void **state)
{
    struct dr_pr_reservation r;

    (void)state;
    memset(&r, 0xa5, sizeof(r));
    assert_int_equal(dr__pr_parse_reservation(dr_tv_res_none.data, dr_tv_res_none.len, &r), 0);
    assert_int_equal(r.generation, 9);
    assert_false(r.reserved);
    assert_int_equal(r.key, 0);
    assert_int_equal(r.type, 0);
}

static void
test_scope_and_type_nibbles(void **state)
{
    uint8_t buf[24];
    struct dr_pr_reservation r;

    (void)state;
    memcpy(buf, dr_tv_res_held.data, sizeof(buf));
    buf[21] = 0x28;
    assert_int_equal(dr__pr_parse_reservation(buf, sizeof(buf), &r), 0);
    assert_int_equal(r.scope, 2);
    assert_int_equal(r.type, DR_PR_TYPE_EXCLUSIVE_ACCESS_AR);
}

static int
parse(const uint8_t *buf, size_t len, void *out)
{
    return dr__pr_parse_reservation(buf, len, out);
}

static bool
same(const void *a, const void *b)
{
    const struct dr_pr_reservation *x = a, *y = b;

    return x->generation == y->generation && x->reserved == y->reserved && x->key == y->key &&
           x->scope == y->scope && x->type == y->type;
}

static void
test_every_prefix_is_whole_or_refused(void **state)
{
    const struct prefix_parser p = {parse, same, NULL, sizeof(struct dr_pr_reservation)};

    (void)state;
    /* A held reservation cut short must never read as "no reservation". */
    assert_int_equal(prefix_check(&p, dr_tv_res_held.data, dr_tv_res_held.len), 24);
    assert_int_equal(prefix_check(&p, dr_tv_res_none.data, dr_tv_res_none.len), 8);
}

static void
test_inconsistent_additional_lengths(void **state)
{
    static const uint8_t lens[] = {0x01, 0x08, 0x0f, 0x11, 0x18, 0xff};
    uint8_t buf[64];
    struct dr_pr_reservation r = {.generation = 0xdead};

    (void)state;
    memset(buf, 0, sizeof(buf));
    memcpy(buf, dr_tv_res_held.data, dr_tv_res_held.len);
    for (size_t i = 0; i < sizeof(lens); i++) {
        buf[7] = lens[i];
        assert_int_equal(dr__pr_parse_reservation(buf, sizeof(buf), &r), -DR_E_BAD_RESPONSE);
    }
    buf[4] = 0x80;
    buf[7] = 0x10;
    assert_int_equal(dr__pr_parse_reservation(buf, sizeof(buf), &r), -DR_E_BAD_RESPONSE);
    assert_int_equal(r.generation, 0xdead);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_held),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_scope_and_type_nibbles),
        cmocka_unit_test(test_every_prefix_is_whole_or_refused),
        cmocka_unit_test(test_inconsistent_additional_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
