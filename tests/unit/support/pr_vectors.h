/*
 * Byte-exact PERSISTENT RESERVE IN answers and sense data (SPC-4 6.15, 4.5), shared by the unit
 * tests and the fuzz seed corpus generator (tests/fuzz/make_corpus.c).
 */
#ifndef DR_TEST_PR_VECTORS_H
#define DR_TEST_PR_VECTORS_H

#include <stddef.h>
#include <stdint.h>

struct dr_test_vector {
    const char *name; /* file name in the seed corpus */
    const uint8_t *data;
    size_t len;
};

/* Key values carried by the vectors. */
#define DR_TV_KEY1 UINT64_C(0x6472cd20bf9cf968)
#define DR_TV_KEY2 UINT64_C(0x6472f0940f4e2874)

/* READ KEYS: generation 7, two keys (KEY1, KEY2). */
extern const struct dr_test_vector dr_tv_keys_two;
/* READ KEYS: generation 3, no keys. */
extern const struct dr_test_vector dr_tv_keys_none;
/* READ RESERVATION: generation 9, held by KEY1, scope 0, type WERO. */
extern const struct dr_test_vector dr_tv_res_held;
/* READ RESERVATION: generation 9, no reservation. */
extern const struct dr_test_vector dr_tv_res_none;
/* REPORT CAPABILITIES: CRH, ATP_C, PTPL_C, TMV, ALLOW COMMANDS 1, every type (tgtd-like). */
extern const struct dr_test_vector dr_tv_caps_all;
/* READ FULL STATUS: generation 4, KEY1 holder (WERO) with an iSCSI TransportID with ISID,
 * KEY2 with an iSCSI TransportID without ISID, on relative target ports 1 and 2. */
extern const struct dr_test_vector dr_tv_full_iscsi;
/* READ FULL STATUS: one FC (protocol 0) TransportID of 24 bytes, ALL_TG_PT set. */
extern const struct dr_test_vector dr_tv_full_fc;
/* Sense: fixed format 05/24/00, SKSV, field 2 in the CDB. */
extern const struct dr_test_vector dr_tv_sense_fixed_illegal;
/* Sense: fixed format 06/2A/03 (RESERVATIONS PREEMPTED). */
extern const struct dr_test_vector dr_tv_sense_fixed_ua;
/* Sense: descriptor format 05/26/00 with a sense-key specific descriptor, field 1 in the
 * parameter list, after an information descriptor. */
extern const struct dr_test_vector dr_tv_sense_desc_illegal;

/* All of the above, NULL-terminated. */
extern const struct dr_test_vector *const dr_tv_all[];

#endif
