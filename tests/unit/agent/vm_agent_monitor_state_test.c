/*
 * vm_agent_monitor_state: every enum dr_vm_state to its OCF code. A domain paused for an
 * incoming migration, paused on an I/O error, crashed, split by a failed post-copy or unknown is
 * never reported running; each such answer is logged as an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>

#include <cmocka.h>

#include "agent_mock.h"

static void
every_state(void **state)
{
    static const struct {
        enum dr_vm_state s;
        int ocf;
        int log_prio; /* -1: nothing logged */
    } map[] = {
        {DR_VM_STATE_UNKNOWN, OCF_ERR_GENERIC, LOG_ERR},
        {DR_VM_STATE_RUNNING, OCF_SUCCESS, -1},
        {DR_VM_STATE_PAUSED_MIGRATION_IN, OCF_ERR_GENERIC, LOG_ERR},
        {DR_VM_STATE_PAUSED_MIGRATION_OUT, OCF_SUCCESS, -1},
        {DR_VM_STATE_PAUSED_IO_ERROR, OCF_ERR_GENERIC, LOG_ERR},
        {DR_VM_STATE_PAUSED, OCF_SUCCESS, LOG_WARNING},
        {DR_VM_STATE_SHUTTING_DOWN, OCF_SUCCESS, -1},
        {DR_VM_STATE_SHUTOFF, OCF_NOT_RUNNING, -1},
        {DR_VM_STATE_CRASHED, OCF_ERR_GENERIC, LOG_ERR},
        {DR_VM_STATE_PMSUSPENDED, OCF_SUCCESS, -1},
        {DR_VM_STATE_POSTCOPY_FAILED, OCF_ERR_GENERIC, LOG_ERR},
    };
    const char *const kv[] = {"OCF_RESKEY_domain", "vm1", NULL};
    struct vm_agent a;
    struct dr_vm_info info = {.name = "vm1"};

    (void)state;
    /* The table covers the whole enum: a new state must be added here. */
    assert_int_equal(sizeof(map) / sizeof(map[0]), DR_VM_STATE_POSTCOPY_FAILED + 1);
    mock_parse(&a, kv);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        mock_reset();
        assert_int_equal(map[i].s, (enum dr_vm_state)i);
        info.state = map[i].s;
        if (vm_agent_monitor_state(&a, &info) != map[i].ocf) {
            fail_msg("state %s: want OCF %d", dr_vm_state_name(map[i].s), map[i].ocf);
        }
        if (map[i].log_prio < 0) {
            assert_int_equal(mock_log_count(-1, ""), 0);
        } else {
            assert_int_equal(mock_log_count(map[i].log_prio, "vm1"), 1);
        }
    }
}

/* Out of range (a newer droverd or library): an error, never "running". */
static void
out_of_range(void **state)
{
    const char *const kv[] = {"OCF_RESKEY_domain", "vm1", NULL};
    struct vm_agent a;
    struct dr_vm_info info = {.name = "vm1", .virt_state = 42, .virt_reason = 7};

    (void)state;
    mock_reset();
    mock_parse(&a, kv);
    info.state = (enum dr_vm_state)(DR_VM_STATE_POSTCOPY_FAILED + 1);
    assert_int_equal(vm_agent_monitor_state(&a, &info), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "unknown state (42/7)"), 1);
}

/* A probe finding the incoming half of a migration says so. */
static void
probe_wording(void **state)
{
    const char *const probe[] = {"OCF_RESKEY_domain", "vm1", NULL};
    const char *const recurring[] = {"OCF_RESKEY_domain", "vm1", "OCF_RESKEY_CRM_meta_interval",
                                     "10000", NULL};
    struct vm_agent a;
    struct dr_vm_info info = {.name = "vm1", .state = DR_VM_STATE_PAUSED_MIGRATION_IN};

    (void)state;
    mock_reset();
    mock_parse(&a, probe);
    assert_int_equal(vm_agent_monitor_state(&a, &info), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "(probe)"), 1);
    mock_reset();
    mock_parse(&a, recurring);
    assert_int_equal(vm_agent_monitor_state(&a, &info), OCF_ERR_GENERIC);
    assert_int_equal(mock_log_count(LOG_ERR, "(probe)"), 0);
    assert_int_equal(mock_log_count(LOG_ERR, "incoming migration"), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_state),
        cmocka_unit_test(out_of_range),
        cmocka_unit_test(probe_wording),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
