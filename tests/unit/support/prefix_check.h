/*
 * The truncation rule for PR IN parsers: every prefix of a good answer either parses to the
 * same result as the whole answer or is refused with -DR_E_BAD_RESPONSE; never a partial one.
 */
#ifndef DR_TEST_PREFIX_CHECK_H
#define DR_TEST_PREFIX_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prefix_parser {
    int (*parse)(const uint8_t *buf, size_t len, void *out);
    bool (*same)(const void *a, const void *b);
    void (*release)(void *out); /* may be NULL */
    size_t out_size;
};

/*
 * Parse every prefix of buf[0..len) (and the whole of it, which must succeed).
 * \return the smallest prefix length that parsed; every longer prefix must have parsed too.
 */
size_t prefix_check(const struct prefix_parser *p, const uint8_t *buf, size_t len);

#endif
