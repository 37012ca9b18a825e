#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "prefix_check.h"

size_t
prefix_check(const struct prefix_parser *p, const uint8_t *buf, size_t len)
{
    void *whole = calloc(1, p->out_size);
    void *part = calloc(1, p->out_size);
    size_t first_ok = len + 1;

    assert_non_null(whole);
    assert_non_null(part);
    assert_int_equal(p->parse(buf, len, whole), 0);
    for (size_t cut = 0; cut <= len; cut++) {
        /* A copy of exactly cut bytes, so ASan sees any read past the prefix. */
        uint8_t *copy = malloc(cut > 0 ? cut : 1);
        int rc;

        assert_non_null(copy);
        memcpy(copy, buf, cut);
        memset(part, 0xa5, p->out_size);
        rc = p->parse(copy, cut, part);
        free(copy);
        if (rc == 0) {
            assert_true(p->same(whole, part));
            if (p->release != NULL) {
                p->release(part);
            }
            if (first_ok > len) {
                first_ok = cut;
            }
        } else {
            assert_int_equal(rc, -DR_E_BAD_RESPONSE);
            /* Once a prefix parses, a longer one must too (monotonic). */
            assert_true(first_ok > len);
        }
    }
    if (p->release != NULL) {
        p->release(whole);
    }
    free(whole);
    free(part);
    return first_ok;
}
