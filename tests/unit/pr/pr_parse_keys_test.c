/* dr__pr_parse_keys: READ KEYS parameter data (SPC-4 6.15.2, table 203). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "drover/error.h"
#include "pr_internal.h"
#include "pr_vectors.h"
#include "prefix_check.h"

/* An answer of 8 + 8 * n bytes whose header announces add_len; key i is 0x6472000000000000 + i. */
static uint8_t *
make_answer(size_t n, uint32_t add_len, size_t *len)
{
    uint8_t *buf = calloc(1, 8 + 8 * n);

    assert_non_null(buf);
    put_be32(buf, 42);
    put_be32(buf + 4, add_len);
    for (size_t i = 0; i < n; i++) {
        buf[8 + 8 * i] = 0x64;
        buf[8 + 8 * i + 1] = 0x72;
        put_be32(buf + 8 + 8 * i + 4, (uint32_t)i);
    }
    *len = 8 + 8 * n;
    return buf;
}

static int
refused(const uint8_t *buf, size_t len)
{
    struct dr_pr_keys k = {.generation = 0xdead, .n_keys = 77, .keys = NULL};
    int rc = dr__pr_parse_keys(buf, len, &k);

    /* Out-parameters are written on success only. */
    if (rc != 0) {
        assert_int_equal(k.generation, 0xdead);
        assert_int_equal(k.n_keys, 77);
        assert_null(k.keys);
    }
    dr_pr_keys_free(&k);
    return rc;
}

static void
test_null_arguments(void **state)
{
    struct dr_pr_keys k;

    (void)state;
    assert_int_equal(dr__pr_parse_keys(NULL, 8, &k), -EINVAL);
    assert_int_equal(dr__pr_parse_keys(dr_tv_keys_two.data, dr_tv_keys_two.len, NULL), -EINVAL);
}

static void
test_two_keys(void **state)
{
    struct dr_pr_keys k = {0};

    (void)state;
    assert_int_equal(dr__pr_parse_keys(dr_tv_keys_two.data, dr_tv_keys_two.len, &k), 0);
    assert_int_equal(k.generation, 7);
    assert_int_equal(k.n_keys, 2);
    assert_non_null(k.keys);
    assert_int_equal(k.keys[0], DR_TV_KEY1);
    assert_int_equal(k.keys[1], DR_TV_KEY2);
    dr_pr_keys_free(&k);
    assert_null(k.keys);
    assert_int_equal(k.n_keys, 0);
}

static void
test_zero_keys(void **state)
{
    struct dr_pr_keys k = {.keys = (uint64_t *)&k};

    (void)state;
    assert_int_equal(dr__pr_parse_keys(dr_tv_keys_none.data, dr_tv_keys_none.len, &k), 0);
    assert_int_equal(k.generation, 3);
    assert_int_equal(k.n_keys, 0);
    assert_null(k.keys);
}

static void
test_bytes_past_additional_length_are_ignored(void **state)
{
    uint8_t buf[1024];
    struct dr_pr_keys k = {0};

    (void)state;
    /* The allocation length is larger than the answer; the rest of the buffer is noise. */
    memset(buf, 0x5a, sizeof(buf));
    memcpy(buf, dr_tv_keys_two.data, dr_tv_keys_two.len);
    assert_int_equal(dr__pr_parse_keys(buf, sizeof(buf), &k), 0);
    assert_int_equal(k.n_keys, 2);
    assert_int_equal(k.keys[1], DR_TV_KEY2);
    dr_pr_keys_free(&k);
}

static int
parse(const uint8_t *buf, size_t len, void *out)
{
    return dr__pr_parse_keys(buf, len, out);
}

static bool
same(const void *a, const void *b)
{
    const struct dr_pr_keys *x = a, *y = b;

    return x->generation == y->generation && x->n_keys == y->n_keys &&
           (x->n_keys == 0 || memcmp(x->keys, y->keys, x->n_keys * sizeof(*x->keys)) == 0);
}

static void
release(void *out)
{
    dr_pr_keys_free(out);
}

static void
test_every_prefix_is_whole_or_refused(void **state)
{
    const struct prefix_parser p = {parse, same, release, sizeof(struct dr_pr_keys)};

    (void)state;
    /* A key list cut anywhere must be refused: a fence must never miss a key. */
    assert_int_equal(prefix_check(&p, dr_tv_keys_two.data, dr_tv_keys_two.len), 24);
    assert_int_equal(prefix_check(&p, dr_tv_keys_none.data, dr_tv_keys_none.len), 8);
}

static void
test_additional_length_not_a_multiple_of_8(void **state)
{
    uint8_t buf[32];

    (void)state;
    memset(buf, 0, sizeof(buf));
    for (uint32_t add = 1; add < 24; add++) {
        put_be32(buf + 4, add);
        if (add % 8 != 0) {
            assert_int_equal(refused(buf, sizeof(buf)), -DR_E_BAD_RESPONSE);
        } else {
            assert_int_equal(refused(buf, sizeof(buf)), 0);
        }
    }
}

static void
test_absurd_additional_lengths(void **state)
{
    static const uint32_t absurd[] = {UINT32_MAX, UINT32_MAX - 7, 0x80000000u, 24};
    uint8_t buf[24];

    (void)state;
    memcpy(buf, dr_tv_keys_two.data, sizeof(buf));
    for (size_t i = 0; i < sizeof(absurd) / sizeof(absurd[0]); i++) {
        put_be32(buf + 4, absurd[i]);
        assert_int_equal(refused(buf, sizeof(buf)), -DR_E_BAD_RESPONSE);
    }
}

static void
test_key_count_limit(void **state)
{
    size_t len;
    uint8_t *buf;
    struct dr_pr_keys k = {0};

    (void)state;
    buf = make_answer(DR_PR_MAX_KEYS, 8 * DR_PR_MAX_KEYS, &len);
    assert_int_equal(dr__pr_parse_keys(buf, len, &k), 0);
    assert_int_equal(k.n_keys, DR_PR_MAX_KEYS);
    assert_int_equal(k.keys[DR_PR_MAX_KEYS - 1], UINT64_C(0x6472000000000000) + DR_PR_MAX_KEYS - 1);
    dr_pr_keys_free(&k);
    free(buf);

    buf = make_answer(DR_PR_MAX_KEYS + 1, 8 * (DR_PR_MAX_KEYS + 1), &len);
    assert_int_equal(refused(buf, len), -DR_E_BAD_RESPONSE);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_two_keys),
        cmocka_unit_test(test_zero_keys),
        cmocka_unit_test(test_bytes_past_additional_length_are_ignored),
        cmocka_unit_test(test_every_prefix_is_whole_or_refused),
        cmocka_unit_test(test_additional_length_not_a_multiple_of_8),
        cmocka_unit_test(test_absurd_additional_lengths),
        cmocka_unit_test(test_key_count_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
