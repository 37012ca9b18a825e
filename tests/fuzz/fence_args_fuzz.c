/*
 * libFuzzer target: the fence agent's stdin parser, dr_fence_args_parse_stdin() (the fencer's
 * `key=value` lines). Checks that it never overruns, that every result is one it documents,
 * that a failure names the problem, that the lists stay within their limits, and that the same
 * bytes always give the same answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drover/error.h"
#include "drover/fence.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_string(const char *s)
{
    if (s != NULL) {
        CHECK(strlen(s) < 1u << 16);
    }
}

static int
parse(const uint8_t *data, size_t size, struct dr_fence_args *a, char *err, size_t err_len)
{
    /* An exact-size copy without a terminating NUL: the parser must honour len. */
    char *copy = malloc(size > 0 ? size : 1);
    int rc;

    CHECK(copy != NULL);
    memcpy(copy, data, size);
    dr_fence_args_init(a);
    err[0] = '\0';
    rc = dr_fence_args_parse_stdin(a, copy, size, err, err_len);
    free(copy);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dr_fence_args a, b;
    char err[256], err2[256];
    int rc, rc2;

    rc = parse(data, size, &a, err, sizeof(err));
    CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
    CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    if (rc != 0 && rc != -ENOMEM) {
        CHECK(err[0] != '\0');
    }
    CHECK(a.n_devices <= DR_FENCE_MAX_DEVICES);
    CHECK(a.n_initiators <= DR_FENCE_MAX_NODES);
    for (size_t i = 0; i < a.n_devices; i++) {
        CHECK(a.devices[i] != NULL && a.devices[i][0] != '\0');
    }
    for (size_t i = 0; i < a.n_initiators; i++) {
        CHECK(a.initiators[i].node != NULL && a.initiators[i].node[0] != '\0');
        CHECK(a.initiators[i].iqn != NULL);
    }
    check_string(a.plug);
    check_string(a.nodename);
    check_string(a.local_node);
    check_string(a.cluster_name);
    check_string(a.initiator_prefix);
    CHECK(dr_fence_action_name(a.action) != NULL);
    CHECK(dr_pr_type_name(a.type) != NULL);

    rc2 = parse(data, size, &b, err2, sizeof(err2));
    CHECK(rc2 == rc);
    CHECK(rc != 0 || (b.action == a.action && b.n_devices == a.n_devices &&
                      b.n_initiators == a.n_initiators && b.timeout_ms == a.timeout_ms));
    dr_fence_args_free(&b);

    dr_fence_args_free(&a);
    CHECK(a.n_devices == 0 && a.n_initiators == 0 && a.plug == NULL);
    return 0;
}
