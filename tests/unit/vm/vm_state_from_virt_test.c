/*
 * dr_vm_state_from_virt: every (state, reason) pair of libvirt 9.0's enums, and what lies
 * beyond them. The table is the specification: a paused-for-migration domain is never running,
 * crashed and shut off stay apart, a failed post-copy has its own state.
 */
#include <libvirt/libvirt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/vm.h"

struct row {
    int state;
    int reason;
    enum dr_vm_state want;
};

static const struct row table[] = {
    {VIR_DOMAIN_NOSTATE, VIR_DOMAIN_NOSTATE_UNKNOWN, DR_VM_STATE_UNKNOWN},

    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNKNOWN, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATED, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_RESTORED, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_FROM_SNAPSHOT, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATION_CANCELED, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_SAVE_CANCELED, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_WAKEUP, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_CRASHED, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_POSTCOPY, DR_VM_STATE_RUNNING},
    {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_POSTCOPY_FAILED, DR_VM_STATE_POSTCOPY_FAILED},

    {VIR_DOMAIN_BLOCKED, VIR_DOMAIN_BLOCKED_UNKNOWN, DR_VM_STATE_RUNNING},

    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_UNKNOWN, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION, DR_VM_STATE_PAUSED_MIGRATION_IN},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SAVE, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_DUMP, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR, DR_VM_STATE_PAUSED_IO_ERROR},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_WATCHDOG, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_FROM_SNAPSHOT, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SHUTTING_DOWN, DR_VM_STATE_SHUTTING_DOWN},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SNAPSHOT, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_CRASHED, DR_VM_STATE_CRASHED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP, DR_VM_STATE_PAUSED},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_POSTCOPY, DR_VM_STATE_PAUSED_MIGRATION_OUT},
    {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_POSTCOPY_FAILED, DR_VM_STATE_POSTCOPY_FAILED},

    {VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTDOWN_UNKNOWN, DR_VM_STATE_SHUTTING_DOWN},
    {VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTDOWN_USER, DR_VM_STATE_SHUTTING_DOWN},

    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_MIGRATED, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SAVED, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT, DR_VM_STATE_SHUTOFF},
    {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DAEMON, DR_VM_STATE_SHUTOFF},

    {VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_UNKNOWN, DR_VM_STATE_CRASHED},
    {VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED, DR_VM_STATE_CRASHED},

    {VIR_DOMAIN_PMSUSPENDED, VIR_DOMAIN_PMSUSPENDED_UNKNOWN, DR_VM_STATE_PMSUSPENDED},
    {VIR_DOMAIN_PMSUSPENDED, VIR_DOMAIN_PMSUSPENDED_DISK_UNKNOWN, DR_VM_STATE_PMSUSPENDED},
};

static void
test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        enum dr_vm_state got = dr_vm_state_from_virt(table[i].state, table[i].reason);
        if (got != table[i].want) {
            fail_msg("state %d reason %d: got %s, want %s", table[i].state, table[i].reason,
                     dr_vm_state_name(got), dr_vm_state_name(table[i].want));
        }
    }
}

/* Every reason libvirt 9.0 defines is in the table: the last of each enum is listed. */
static void
test_table_is_complete(void **state)
{
    static const int last_reason[] = {
        [VIR_DOMAIN_NOSTATE] = VIR_DOMAIN_NOSTATE_UNKNOWN,
        [VIR_DOMAIN_RUNNING] = VIR_DOMAIN_RUNNING_POSTCOPY_FAILED,
        [VIR_DOMAIN_BLOCKED] = VIR_DOMAIN_BLOCKED_UNKNOWN,
        [VIR_DOMAIN_PAUSED] = VIR_DOMAIN_PAUSED_POSTCOPY_FAILED,
        [VIR_DOMAIN_SHUTDOWN] = VIR_DOMAIN_SHUTDOWN_USER,
        [VIR_DOMAIN_SHUTOFF] = VIR_DOMAIN_SHUTOFF_DAEMON,
        [VIR_DOMAIN_CRASHED] = VIR_DOMAIN_CRASHED_PANICKED,
        [VIR_DOMAIN_PMSUSPENDED] = VIR_DOMAIN_PMSUSPENDED_UNKNOWN,
    };
    size_t rows = sizeof(table) / sizeof(table[0]), want = 0;

    (void)state;
    for (size_t s = 0; s < sizeof(last_reason) / sizeof(last_reason[0]); s++) {
        want += (size_t)last_reason[s] + 1;
    }
    want += 1; /* PMSUSPENDED_DISK_UNKNOWN */
    assert_int_equal(rows, want);
}

static void
test_never_running_while_migrating_in(void **state)
{
    (void)state;
    assert_int_not_equal(dr_vm_state_from_virt(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION),
                         DR_VM_STATE_RUNNING);
    assert_int_not_equal(dr_vm_state_from_virt(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP),
                         DR_VM_STATE_RUNNING);
    assert_int_not_equal(dr_vm_state_from_virt(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED),
                         dr_vm_state_from_virt(VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_UNKNOWN));
}

/* Values newer than libvirt 9.0: the state decides; an unknown state is unknown. */
static void
test_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(dr_vm_state_from_virt(VIR_DOMAIN_RUNNING, 99), DR_VM_STATE_RUNNING);
    assert_int_equal(dr_vm_state_from_virt(VIR_DOMAIN_PAUSED, 99), DR_VM_STATE_PAUSED);
    assert_int_equal(dr_vm_state_from_virt(VIR_DOMAIN_SHUTOFF, -1), DR_VM_STATE_SHUTOFF);
    assert_int_equal(dr_vm_state_from_virt(8, 0), DR_VM_STATE_UNKNOWN);
    assert_int_equal(dr_vm_state_from_virt(-1, 0), DR_VM_STATE_UNKNOWN);
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_UNKNOWN), "unknown");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_RUNNING), "running");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_PAUSED_MIGRATION_IN), "paused-migration-in");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_PAUSED_MIGRATION_OUT), "paused-migration-out");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_PAUSED_IO_ERROR), "paused-io-error");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_PAUSED), "paused");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_SHUTTING_DOWN), "shutting-down");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_SHUTOFF), "shutoff");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_CRASHED), "crashed");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_PMSUSPENDED), "pmsuspended");
    assert_string_equal(dr_vm_state_name(DR_VM_STATE_POSTCOPY_FAILED), "postcopy-failed");
    assert_string_equal(dr_vm_state_name((enum dr_vm_state)77), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_is_complete),
        cmocka_unit_test(test_never_running_while_migrating_in),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
