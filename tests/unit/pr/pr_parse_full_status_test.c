/* dr__pr_parse_full_status: READ FULL STATUS parameter data (SPC-4 6.15.5, tables 208/209). */
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

/* A header plus n descriptors of 24 bytes with a TransportID of tid_len bytes of fill. */
static uint8_t *
make_answer(size_t n, size_t tid_len, uint8_t protocol, uint8_t fill, size_t *len)
{
    size_t dlen = 24 + tid_len;
    uint8_t *buf = calloc(1, 8 + n * dlen);

    assert_non_null(buf);
    put_be32(buf + 4, (uint32_t)(n * dlen));
    for (size_t i = 0; i < n; i++) {
        uint8_t *d = buf + 8 + i * dlen;

        d[7] = (uint8_t)i;
        put_be32(d + 20, (uint32_t)tid_len);
        if (tid_len > 0) {
            memset(d + 24, fill, tid_len);
            d[24] = protocol;
        }
    }
    *len = 8 + n * dlen;
    return buf;
}

static int
refused(const uint8_t *buf, size_t len)
{
    struct dr_pr_full_status st = {.generation = 0xdead, .n_entries = 5, .entries = NULL};
    int rc = dr__pr_parse_full_status(buf, len, &st);

    if (rc != 0) {
        assert_int_equal(st.generation, 0xdead);
        assert_int_equal(st.n_entries, 5);
        assert_null(st.entries);
    }
    dr_pr_full_status_free(&st);
    return rc;
}

static void
test_null_arguments(void **state)
{
    struct dr_pr_full_status st;

    (void)state;
    assert_int_equal(dr__pr_parse_full_status(NULL, 8, &st), -EINVAL);
    assert_int_equal(dr__pr_parse_full_status(dr_tv_full_iscsi.data, dr_tv_full_iscsi.len, NULL),
                     -EINVAL);
}

static void
test_iscsi_transport_ids(void **state)
{
    struct dr_pr_full_status st = {0};
    const struct dr_pr_full_status_entry *e;

    (void)state;
    assert_int_equal(dr__pr_parse_full_status(dr_tv_full_iscsi.data, dr_tv_full_iscsi.len, &st), 0);
    assert_int_equal(st.generation, 4);
    assert_int_equal(st.n_entries, 2);
    e = &st.entries[0];
    assert_int_equal(e->key, DR_TV_KEY1);
    assert_true(e->holder);
    assert_false(e->all_tg_pt);
    assert_int_equal(e->scope, 0);
    assert_int_equal(e->type, DR_PR_TYPE_WRITE_EXCLUSIVE_RO);
    assert_int_equal(e->rel_tgt_port, 1);
    assert_int_equal(e->protocol, 5);
    /* The ISID stays: it is what tells two sessions of one initiator apart. */
    assert_string_equal(e->transport_id, "iqn.2026-11.org.drover:n1,i,0x23d000000001");
    e = &st.entries[1];
    assert_int_equal(e->key, DR_TV_KEY2);
    assert_false(e->holder);
    assert_int_equal(e->rel_tgt_port, 2);
    assert_int_equal(e->protocol, 5);
    assert_string_equal(e->transport_id, "iqn.2026-11.org.drover:n2");
    dr_pr_full_status_free(&st);
    assert_null(st.entries);
    assert_int_equal(st.n_entries, 0);
}

static void
test_other_transport_ids_are_hex(void **state)
{
    struct dr_pr_full_status st = {0};

    (void)state;
    assert_int_equal(dr__pr_parse_full_status(dr_tv_full_fc.data, dr_tv_full_fc.len, &st), 0);
    assert_int_equal(st.n_entries, 1);
    assert_true(st.entries[0].all_tg_pt);
    assert_false(st.entries[0].holder);
    assert_int_equal(st.entries[0].rel_tgt_port, 3);
    assert_int_equal(st.entries[0].protocol, 0);
    assert_string_equal(st.entries[0].transport_id, "0000000000000000210000"
                                                    "24ff0a5b010000000000000000");
    dr_pr_full_status_free(&st);
}

static void
test_no_descriptors(void **state)
{
    static const uint8_t empty[8] = {0, 0, 0, 0x11, 0, 0, 0, 0};
    struct dr_pr_full_status st = {.entries = (void *)&st};

    (void)state;
    assert_int_equal(dr__pr_parse_full_status(empty, sizeof(empty), &st), 0);
    assert_int_equal(st.generation, 0x11);
    assert_int_equal(st.n_entries, 0);
    assert_null(st.entries);
}

static int
parse(const uint8_t *buf, size_t len, void *out)
{
    return dr__pr_parse_full_status(buf, len, out);
}

static bool
same(const void *a, const void *b)
{
    const struct dr_pr_full_status *x = a, *y = b;

    if (x->generation != y->generation || x->n_entries != y->n_entries) {
        return false;
    }
    for (size_t i = 0; i < x->n_entries; i++) {
        const struct dr_pr_full_status_entry *e = &x->entries[i], *f = &y->entries[i];

        if (e->key != f->key || e->holder != f->holder || e->all_tg_pt != f->all_tg_pt ||
            e->scope != f->scope || e->type != f->type || e->rel_tgt_port != f->rel_tgt_port ||
            e->protocol != f->protocol || strcmp(e->transport_id, f->transport_id) != 0) {
            return false;
        }
    }
    return true;
}

static void
release(void *out)
{
    dr_pr_full_status_free(out);
}

static void
test_every_prefix_is_whole_or_refused(void **state)
{
    const struct prefix_parser p = {parse, same, release, sizeof(struct dr_pr_full_status)};

    (void)state;
    assert_int_equal(prefix_check(&p, dr_tv_full_iscsi.data, dr_tv_full_iscsi.len),
                     dr_tv_full_iscsi.len);
    assert_int_equal(prefix_check(&p, dr_tv_full_fc.data, dr_tv_full_fc.len), dr_tv_full_fc.len);
}

static void
test_overlong_descriptor_lengths(void **state)
{
    static const uint32_t bad_tid[] = {49, 0x30 + 8, 0xffffffe8u, UINT32_MAX, 1, 2, 3};
    uint8_t buf[56];

    (void)state;
    memcpy(buf, dr_tv_full_fc.data,
           sizeof(buf) < dr_tv_full_fc.len ? sizeof(buf) : dr_tv_full_fc.len);
    for (size_t i = 0; i < sizeof(bad_tid) / sizeof(bad_tid[0]); i++) {
        put_be32(buf + 8 + 20, bad_tid[i]);
        assert_int_equal(refused(buf, dr_tv_full_fc.len), -DR_E_BAD_RESPONSE);
    }
}

static void
test_descriptor_cut_by_additional_length(void **state)
{
    uint8_t buf[64];

    (void)state;
    memset(buf, 0, sizeof(buf));
    /* One whole 24-byte descriptor, then 10 bytes that cannot be one. */
    put_be32(buf + 4, 34);
    assert_int_equal(refused(buf, sizeof(buf)), -DR_E_BAD_RESPONSE);
    /* Additional length beyond the buffer. */
    put_be32(buf + 4, 56 + 1);
    assert_int_equal(refused(buf, sizeof(buf)), -DR_E_BAD_RESPONSE);
    put_be32(buf + 4, UINT32_MAX);
    assert_int_equal(refused(buf, sizeof(buf)), -DR_E_BAD_RESPONSE);
}

static void
test_descriptor_count_limit(void **state)
{
    size_t len;
    uint8_t *buf;
    struct dr_pr_full_status st = {0};

    (void)state;
    buf = make_answer(DR_PR_MAX_KEYS, 0, 0, 0, &len);
    assert_int_equal(dr__pr_parse_full_status(buf, len, &st), 0);
    assert_int_equal(st.n_entries, DR_PR_MAX_KEYS);
    assert_int_equal(st.entries[DR_PR_MAX_KEYS - 1].key, (DR_PR_MAX_KEYS - 1) & 0xff);
    assert_string_equal(st.entries[0].transport_id, "");
    dr_pr_full_status_free(&st);
    free(buf);
    buf = make_answer(DR_PR_MAX_KEYS + 1, 0, 0, 0, &len);
    assert_int_equal(refused(buf, len), -DR_E_BAD_RESPONSE);
    free(buf);
}

static void
test_long_and_unprintable_iscsi_names(void **state)
{
    size_t len;
    uint8_t *buf;
    struct dr_pr_full_status st = {0};

    (void)state;
    /* A 400-byte name without NUL is cut to fit, and stays a C string. */
    buf = make_answer(1, 404, 0x05, 'a', &len);
    assert_int_equal(dr__pr_parse_full_status(buf, len, &st), 0);
    assert_int_equal(strlen(st.entries[0].transport_id), sizeof(st.entries[0].transport_id) - 1);
    dr_pr_full_status_free(&st);
    free(buf);
    /* Control bytes in a name are not passed on to logs. */
    buf = make_answer(1, 8, 0x05, 0x1b, &len);
    assert_int_equal(dr__pr_parse_full_status(buf, len, &st), 0);
    assert_string_equal(st.entries[0].transport_id, "????");
    dr_pr_full_status_free(&st);
    free(buf);
}

static void
test_long_other_transport_id_is_cut(void **state)
{
    size_t len;
    uint8_t *buf;
    struct dr_pr_full_status st = {0};

    (void)state;
    buf = make_answer(1, 300, 0x06, 0xab, &len);
    assert_int_equal(dr__pr_parse_full_status(buf, len, &st), 0);
    assert_int_equal(st.entries[0].protocol, 6);
    assert_true(strlen(st.entries[0].transport_id) < sizeof(st.entries[0].transport_id));
    assert_int_equal(strlen(st.entries[0].transport_id) % 2, 0);
    assert_memory_equal(st.entries[0].transport_id, "06abab", 6);
    dr_pr_full_status_free(&st);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_iscsi_transport_ids),
        cmocka_unit_test(test_other_transport_ids_are_hex),
        cmocka_unit_test(test_no_descriptors),
        cmocka_unit_test(test_every_prefix_is_whole_or_refused),
        cmocka_unit_test(test_overlong_descriptor_lengths),
        cmocka_unit_test(test_descriptor_cut_by_additional_length),
        cmocka_unit_test(test_descriptor_count_limit),
        cmocka_unit_test(test_long_and_unprintable_iscsi_names),
        cmocka_unit_test(test_long_other_transport_id_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
