/*
 * Live migration progress through vm_agent_run("migrate_to"): attrd_updater --private with the
 * documented value, at most about once a second, never blocking or failing the migration, and
 * the attribute deleted at the end whatever the outcome.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "agent_mock.h"
#include "drover/error.h"

#define UPDATE(v) "attrd_updater|--private|-n|drover-migration-vm-vm1|-U|" v
#define DELETE "attrd_updater|--private|-n|drover-migration-vm-vm1|-D"
#define MIB (1024ULL * 1024ULL)

static struct vm_agent a;

#define PARSE(...)                                                                                 \
    do {                                                                                           \
        const char *const kv_[] = {                                                                \
            "OCF_RESKEY_domain", "vm1", "OCF_RESKEY_CRM_meta_migrate_target", "n2",                \
            __VA_ARGS__,         NULL};                                                            \
        mock_parse(&a, kv_);                                                                       \
    } while (0)
#define INSTANCE "OCF_RESOURCE_INSTANCE", "vm-vm1"

static void
stats(unsigned int i, uint64_t total_mib, uint64_t done_mib, uint64_t iteration, uint64_t dirty)
{
    mock.progress[i] = (struct dr_vm_job_stats){.active = true,
                                                .data_total = total_mib * MIB,
                                                .data_processed = done_mib * MIB,
                                                .data_remaining = (total_mib - done_mib) * MIB,
                                                .memory_iteration = iteration,
                                                .memory_dirty_rate = dirty};
}

static int64_t
ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
format_and_delete(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    stats(0, 1024, 512, 1, 3000);
    mock.n_progress = 1;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[0], UPDATE("50 512 1 3000"));
    assert_string_equal(mock.spawn_argv[1], DELETE);
}

/* The VM module may call back more often (policy deadlines); updates stay about 1 s apart. */
static void
rate_limited(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    stats(0, 1000, 100, 1, 10);
    stats(1, 1000, 200, 1, 20);
    stats(2, 1000, 300, 2, 30);
    mock.n_progress = 3;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[0], UPDATE("10 900 1 10"));
    assert_string_equal(mock.spawn_argv[1], DELETE);
    /* A second apart: each one is published. */
    mock_reset();
    PARSE(INSTANCE);
    stats(0, 1000, 100, 1, 10);
    stats(1, 1000, 999, 3, 0);
    mock.n_progress = 2;
    mock.progress_gap_ms = 1000;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 3);
    assert_string_equal(mock.spawn_argv[1], UPDATE("99 1 3 0"));
    assert_string_equal(mock.spawn_argv[2], DELETE);
}

static void
zero_total(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    mock.progress[0] = (struct dr_vm_job_stats){.active = true};
    mock.n_progress = 1;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_string_equal(mock.spawn_argv[0], UPDATE("0 0 0 0"));
}

/* attrd never answers: the watcher is held at most ~200 ms per update, none piles up, the
 * migration succeeds, and the stuck client is killed before the delete. */
static void
hung_attrd(void **state)
{
    int64_t t0;

    (void)state;
    PARSE(INSTANCE);
    mock.helper_hangs = true;
    stats(0, 1000, 100, 1, 10);
    stats(1, 1000, 500, 2, 10);
    mock.n_progress = 2;
    mock.progress_gap_ms = 1000;
    t0 = ms();
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    /* the first update, no second while it hangs, the delete */
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[1], DELETE);
    assert_int_equal(mock.helper_kills, 2);
    /* 200 ms + the 1 s gap + 1 s for the last update + 1 s for the delete, and some slack */
    assert_true(ms() - t0 < 4000);
}

static void
attrd_missing(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    mock.spawn_rc = ENOENT;
    stats(0, 1000, 100, 1, 10);
    mock.n_progress = 1;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 2);
}

static void
deleted_after_failure(void **state)
{
    (void)state;
    PARSE(INSTANCE);
    stats(0, 1000, 100, 1, 10);
    mock.n_progress = 1;
    mock.migrate_rc = -ETIMEDOUT;
    mock.migrate_aborted = true;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_ERR_GENERIC);
    assert_int_equal(mock.spawn_calls, 2);
    assert_string_equal(mock.spawn_argv[1], DELETE);
}

static void
nameless_resource(void **state)
{
    (void)state;
    PARSE("OCF_RESKEY_hypervisor", "qemu:///system");
    stats(0, 1000, 100, 1, 10);
    mock.n_progress = 1;
    assert_int_equal(vm_agent_run(&a, "migrate_to"), OCF_SUCCESS);
    assert_int_equal(mock.spawn_calls, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, mock_setup, mock_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(format_and_delete), T(rate_limited),          T(zero_total),        T(hung_attrd),
        T(attrd_missing),     T(deleted_after_failure), T(nameless_resource),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
