/*
 * libFuzzer target: one input is fed to every PR IN parser, dr__pr_in_needed and the sense
 * decoder; each result is checked against what the bytes say, and a shorter prefix of the input
 * must never parse to a different answer (a truncated answer is refused, not half-read).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drover/error.h"
#include "pr_internal.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* An exact-size copy of the first len bytes, so ASan sees reads past a prefix. */
static uint8_t *
prefix(const uint8_t *data, size_t len)
{
    uint8_t *p = malloc(len > 0 ? len : 1);

    CHECK(p != NULL);
    memcpy(p, data, len);
    return p;
}

static void
fuzz_keys(const uint8_t *data, size_t size, size_t cut)
{
    struct dr_pr_keys k = {0}, kp = {0};
    uint8_t *p;
    int rc = dr__pr_parse_keys(data, size, &k);

    CHECK(rc == 0 || rc == -DR_E_BAD_RESPONSE || rc == -ENOMEM);
    if (rc == 0) {
        CHECK(size >= 8 && 8 + 8 * k.n_keys <= size);
        CHECK(k.n_keys <= DR_PR_MAX_KEYS);
        CHECK(be32(data + 4) == 8 * k.n_keys);
        CHECK(k.generation == be32(data));
        CHECK((k.n_keys == 0) == (k.keys == NULL));
        for (size_t i = 0; i < k.n_keys; i++) {
            CHECK(k.keys[i] == be64(data + 8 + 8 * i));
        }
    }
    p = prefix(data, cut);
    if (dr__pr_parse_keys(p, cut, &kp) == 0 && rc == 0) {
        CHECK(kp.n_keys == k.n_keys && kp.generation == k.generation);
        CHECK(k.n_keys == 0 || memcmp(kp.keys, k.keys, 8 * k.n_keys) == 0);
    }
    free(p);
    dr_pr_keys_free(&kp);
    dr_pr_keys_free(&k);
}

static void
fuzz_reservation(const uint8_t *data, size_t size, size_t cut)
{
    struct dr_pr_reservation r, rp;
    uint8_t *p;
    int rc = dr__pr_parse_reservation(data, size, &r);

    CHECK(rc == 0 || rc == -DR_E_BAD_RESPONSE);
    if (rc == 0) {
        CHECK(size >= 8 && r.generation == be32(data));
        if (r.reserved) {
            CHECK(be32(data + 4) == 0x10 && size >= 24);
            CHECK(r.key == be64(data + 8) && r.type == (data[21] & 0x0f));
        } else {
            CHECK(be32(data + 4) == 0 && r.key == 0);
        }
    }
    p = prefix(data, cut);
    if (dr__pr_parse_reservation(p, cut, &rp) == 0 && rc == 0) {
        CHECK(rp.reserved == r.reserved && rp.key == r.key && rp.type == r.type &&
              rp.scope == r.scope && rp.generation == r.generation);
    }
    free(p);
}

static void
fuzz_caps(const uint8_t *data, size_t size)
{
    const uint16_t types = (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8);
    struct dr_pr_caps c;
    int rc = dr__pr_parse_caps(data, size, &c);

    CHECK(rc == 0 || rc == -DR_E_BAD_RESPONSE);
    if (rc == 0) {
        CHECK(size >= 8 && ((data[0] << 8) | data[1]) >= 8);
        CHECK((c.type_mask & ~types) == 0);
        CHECK(c.tmv || c.type_mask == 0);
        CHECK(c.allow_commands <= 7);
    }
}

static void
fuzz_full_status(const uint8_t *data, size_t size, size_t cut)
{
    struct dr_pr_full_status st = {0}, sp = {0};
    uint8_t *p;
    int rc = dr__pr_parse_full_status(data, size, &st);

    CHECK(rc == 0 || rc == -DR_E_BAD_RESPONSE || rc == -ENOMEM);
    if (rc == 0) {
        size_t pos = 8, end;

        CHECK(size >= 8 && (size_t)be32(data + 4) <= size - 8);
        CHECK(st.n_entries <= DR_PR_MAX_KEYS);
        end = 8 + (size_t)be32(data + 4);
        /* The descriptors tile the additional length exactly. */
        for (size_t i = 0; i < st.n_entries; i++) {
            const struct dr_pr_full_status_entry *e = &st.entries[i];

            CHECK(pos + 24 <= end);
            CHECK(e->key == be64(data + pos));
            CHECK(memchr(e->transport_id, '\0', sizeof(e->transport_id)) != NULL);
            CHECK(e->protocol <= 0x0f && e->type <= 0x0f && e->scope <= 0x0f);
            pos += 24 + (size_t)be32(data + pos + 20);
        }
        CHECK(pos == end);
    }
    p = prefix(data, cut);
    if (dr__pr_parse_full_status(p, cut, &sp) == 0 && rc == 0) {
        CHECK(sp.n_entries == st.n_entries && sp.generation == st.generation);
        for (size_t i = 0; i < st.n_entries; i++) {
            CHECK(sp.entries[i].key == st.entries[i].key);
            CHECK(strcmp(sp.entries[i].transport_id, st.entries[i].transport_id) == 0);
        }
    }
    free(p);
    dr_pr_full_status_free(&sp);
    dr_pr_full_status_free(&st);
}

static void
fuzz_needed(const uint8_t *data, size_t size)
{
    static const enum dr_pr_in_action sas[] = {DR_PR_IN_READ_KEYS, DR_PR_IN_READ_RESERVATION,
                                               DR_PR_IN_READ_FULL_STATUS};
    long caps = dr__pr_in_needed(DR_PR_IN_REPORT_CAPABILITIES, data, size);

    CHECK(size >= 2 ? caps == ((data[0] << 8) | data[1]) : caps == -1);
    for (size_t i = 0; i < sizeof(sas) / sizeof(sas[0]); i++) {
        long n = dr__pr_in_needed(sas[i], data, size);

        CHECK(size >= 8 ? n == (long)be32(data + 4) + 8 : n == -1);
    }
}

static void
fuzz_sense(const uint8_t *data, size_t size)
{
    struct dr_scsi_sense s;
    char line[160], tiny[7];
    int rc = dr__scsi_sense_decode(data, size, &s);
    int mapped;

    CHECK(rc == 0 || rc == -DR_E_BAD_RESPONSE);
    CHECK(s.valid == (rc == 0));
    if (rc == 0) {
        CHECK(s.response >= 0x70 && s.response <= 0x73);
        CHECK(s.response == (data[0] & 0x7f));
        CHECK(s.key <= 0x0f);
    } else {
        CHECK(!s.field_valid && s.key == 0);
    }
    mapped = dr__scsi_status_to_rc(0x02, &s);
    CHECK(mapped == 0 || (mapped < -DR_E_BASE && mapped > -DR_E_MAX));
    CHECK(dr_strerror(mapped) != NULL);
    dr__scsi_status_format(size > 0 ? data[0] : 0x02, &s, line, sizeof(line));
    CHECK(strlen(line) < sizeof(line));
    dr__scsi_status_format(0x02, &s, tiny, sizeof(tiny));
    CHECK(strlen(tiny) < sizeof(tiny));
    (void)dr_scsi_asc_name(s.asc, s.ascq);
    CHECK(dr_scsi_sense_key_name(s.key) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One prefix per input, chosen by the input, so every length is reached over a run. */
    size_t cut = size > 0 ? (size_t)data[size - 1] % (size + 1) : 0;

    fuzz_keys(data, size, cut);
    fuzz_reservation(data, size, cut);
    fuzz_caps(data, size);
    fuzz_full_status(data, size, cut);
    fuzz_needed(data, size);
    fuzz_sense(data, size);
    return 0;
}
