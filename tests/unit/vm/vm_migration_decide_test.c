/* dr_vm_migration_decide: every branch of the policy, as a pure function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/vm.h"

static const struct dr_vm_job_stats active = {.active = true, .memory_iteration = 7};
static const struct dr_vm_job_stats idle = {.active = false};

static struct dr_vm_migrate_params
params(enum dr_vm_migration_policy policy, unsigned int timeout_ms, unsigned int postcopy_ms)
{
    struct dr_vm_migrate_params p;

    memset(&p, 0, sizeof(p));
    p.dest_uri = "qemu+tcp://node2/system";
    p.policy = policy;
    p.timeout_ms = timeout_ms;
    p.postcopy_after_ms = postcopy_ms;
    return p;
}

static void
test_null_params(void **state)
{
    (void)state;
    assert_int_equal(dr_vm_migration_decide(NULL, &active, 1000000, false),
                     DR_VM_MIGRATION_CONTINUE);
}

static void
test_precopy(void **state)
{
    struct dr_vm_migrate_params p = params(DR_VM_MIGRATION_PRECOPY, 10000, 2000);

    (void)state;
    assert_int_equal(dr_vm_migration_decide(&p, &active, 0, false), DR_VM_MIGRATION_CONTINUE);
    /* postcopy_after_ms means nothing without the post-copy policy */
    assert_int_equal(dr_vm_migration_decide(&p, &active, 5000, false), DR_VM_MIGRATION_CONTINUE);
    assert_int_equal(dr_vm_migration_decide(&p, &active, 9999, false), DR_VM_MIGRATION_CONTINUE);
    assert_int_equal(dr_vm_migration_decide(&p, &active, 10000, false), DR_VM_MIGRATION_ABORT);
    assert_int_equal(dr_vm_migration_decide(&p, NULL, 10001, false), DR_VM_MIGRATION_ABORT);
}

static void
test_autoconverge(void **state)
{
    struct dr_vm_migrate_params p = params(DR_VM_MIGRATION_AUTOCONVERGE, 3000, 1000);

    (void)state;
    assert_int_equal(dr_vm_migration_decide(&p, &active, 1500, false), DR_VM_MIGRATION_CONTINUE);
    assert_int_equal(dr_vm_migration_decide(&p, &active, 3000, false), DR_VM_MIGRATION_ABORT);
}

static void
test_no_timeout_never_aborts(void **state)
{
    struct dr_vm_migrate_params p = params(DR_VM_MIGRATION_PRECOPY, 0, 0);

    (void)state;
    assert_int_equal(dr_vm_migration_decide(&p, &active, UINT64_MAX, false),
                     DR_VM_MIGRATION_CONTINUE);
}

static void
test_postcopy_switch(void **state)
{
    struct dr_vm_migrate_params p = params(DR_VM_MIGRATION_POSTCOPY, 10000, 4000);

    (void)state;
    assert_int_equal(dr_vm_migration_decide(&p, &active, 3999, false), DR_VM_MIGRATION_CONTINUE);
    assert_int_equal(dr_vm_migration_decide(&p, &active, 4000, false),
                     DR_VM_MIGRATION_SWITCH_POSTCOPY);
    assert_int_equal(dr_vm_migration_decide(&p, NULL, 4000, false),
                     DR_VM_MIGRATION_SWITCH_POSTCOPY);
    /* Due together: the switch finishes the migration, an abort would not. */
    assert_int_equal(dr_vm_migration_decide(&p, &active, 20000, false),
                     DR_VM_MIGRATION_SWITCH_POSTCOPY);
}

static void
test_postcopy_after_timeout_aborts(void **state)
{
    struct dr_vm_migrate_params p = params(DR_VM_MIGRATION_POSTCOPY, 5000, 8000);

    (void)state;
    assert_int_equal(dr_vm_migration_decide(&p, &active, 5000, false), DR_VM_MIGRATION_ABORT);
}

static void
test_never_abort_in_postcopy(void **state)
{
    struct dr_vm_migrate_params p = params(DR_VM_MIGRATION_POSTCOPY, 5000, 1000);

    (void)state;
    assert_int_equal(dr_vm_migration_decide(&p, &active, 5000, true), DR_VM_MIGRATION_CONTINUE);
    assert_int_equal(dr_vm_migration_decide(&p, &active, UINT64_MAX, true),
                     DR_VM_MIGRATION_CONTINUE);
    assert_int_equal(dr_vm_migration_decide(&p, NULL, UINT64_MAX, true), DR_VM_MIGRATION_CONTINUE);
}

static void
test_no_job_nothing_to_do(void **state)
{
    struct dr_vm_migrate_params p = params(DR_VM_MIGRATION_POSTCOPY, 5000, 1000);

    (void)state;
    assert_int_equal(dr_vm_migration_decide(&p, &idle, 9000, false), DR_VM_MIGRATION_CONTINUE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_params),
        cmocka_unit_test(test_precopy),
        cmocka_unit_test(test_autoconverge),
        cmocka_unit_test(test_no_timeout_never_aborts),
        cmocka_unit_test(test_postcopy_switch),
        cmocka_unit_test(test_postcopy_after_timeout_aborts),
        cmocka_unit_test(test_never_abort_in_postcopy),
        cmocka_unit_test(test_no_job_nothing_to_do),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
