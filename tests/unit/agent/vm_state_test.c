/*
 * The agent's state file (agents/vm_state.c), which the front door and the full agent share:
 * the formats earlier versions wrote, what does not parse, an atomic rewrite, and the decision
 * whether a running domain's utilization needs the full agent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent_mock.h"
#include "vm_state.h"

#define UUID1 "0b7e6f53-4f0c-4b39-9d5c-6a1e8a0c2d11"

static char path[256];

static void
put(const char *text)
{
    FILE *f;

    vm_state_mkdir(mock_state_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    mock_setup(state);
    snprintf(path, sizeof(path), "%s/vm-vm1", mock_state_dir);
    return 0;
}

static void
bad_paths(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(vm_state_path("/run/drover/vm", "", buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_state_path("/run/drover/vm", NULL, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_state_path("/run/drover/vm", "../etc", buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_state_path("/run/drover/vm", ".cib-x", buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_state_path("/run/drover/vm", "vm-a", buf, 10), -ENAMETOOLONG);
    assert_int_equal(vm_state_path("/run/drover/vm", "vm-a", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/run/drover/vm/vm-a");
}

static void
formats(void **state)
{
    struct vm_state st;

    (void)state;
    assert_int_equal(vm_state_read(path, &st), -ENOENT);
    put("");
    assert_int_equal(vm_state_read(path, &st), -EINVAL);
    put("vm1 " UUID1 "\n"); /* the first version */
    assert_int_equal(vm_state_read(path, &st), 0);
    assert_string_equal(st.name, "vm1");
    assert_string_equal(st.uuid, UUID1);
    assert_int_equal(st.cpu, 0);
    assert_int_equal(st.checked_s, 0);
    put("vm1 - 2 1024\n"); /* the second: no UUID known, utilization set, never checked */
    assert_int_equal(vm_state_read(path, &st), 0);
    assert_string_equal(st.uuid, "");
    assert_int_equal(st.cpu, 2);
    assert_int_equal(st.hv_memory_mib, 1024);
    assert_int_equal(st.checked_s, 0);
    put("vm1 " UUID1 " 2 x 77\n"); /* figures that do not parse are unknown, not garbage */
    assert_int_equal(vm_state_read(path, &st), 0);
    assert_int_equal(st.cpu, 0);
    assert_int_equal(st.hv_memory_mib, 0);
    assert_int_equal(st.checked_s, 77);
    put("vm1 " UUID1 " -2 1024 -5\n");
    assert_int_equal(vm_state_read(path, &st), 0);
    assert_int_equal(st.cpu, 0);
    assert_int_equal(st.checked_s, 0);
}

static void
write_read_back(void **state)
{
    struct vm_state st = {.name = "vm1", .cpu = 4, .hv_memory_mib = 2048, .checked_s = 1234};
    struct vm_state back;
    char text[256];

    (void)state;
    /* The state directory and its parent are made on the first write. */
    assert_int_equal(vm_state_write(path, &st), 0);
    mock_read_state(mock_state_dir, "vm-vm1", text, sizeof(text));
    assert_string_equal(text, "vm1 - 4 2048 1234\n");
    snprintf(st.uuid, sizeof(st.uuid), "%s", UUID1);
    assert_int_equal(vm_state_write(path, &st), 0);
    assert_int_equal(vm_state_read(path, &back), 0);
    assert_memory_equal(&back, &st, sizeof(st));
    assert_int_equal(vm_state_write("/dev/null/x", &st), -ENOTDIR);
}

static void
utilization(void **state)
{
    struct vm_state st = {.name = "vm1", .cpu = 2, .hv_memory_mib = 1024, .checked_s = 1000};

    (void)state;
    assert_int_equal(vm_state_utilization(&st, 2, 1024, 60, 1000), VM_STATE_UTIL_OK);
    assert_int_equal(vm_state_utilization(&st, 2, 1024, 60, 1059), VM_STATE_UTIL_OK);
    assert_int_equal(vm_state_utilization(&st, 2, 1024, 60, 1060), VM_STATE_UTIL_CHECK);
    assert_int_equal(vm_state_utilization(&st, 2, 1024, 0, 999999), VM_STATE_UTIL_OK);
    /* A clock behind the file: not trusted. */
    assert_int_equal(vm_state_utilization(&st, 2, 1024, 60, 999), VM_STATE_UTIL_CHECK);
    /* Changed sizes win over a recent check; unknown sizes (0) never count as changed. */
    assert_int_equal(vm_state_utilization(&st, 4, 1024, 60, 1000), VM_STATE_UTIL_CHANGED);
    assert_int_equal(vm_state_utilization(&st, 2, 2048, 0, 1000), VM_STATE_UTIL_CHANGED);
    assert_int_equal(vm_state_utilization(&st, 0, 0, 60, 1000), VM_STATE_UTIL_OK);
    assert_int_equal(vm_state_utilization(&st, 4, 0, 60, 1000), VM_STATE_UTIL_OK);
    /* Never set (a failed attempt): waits for the check, whatever the sizes. */
    st.cpu = 0;
    st.hv_memory_mib = 0;
    assert_int_equal(vm_state_utilization(&st, 2, 1024, 60, 1010), VM_STATE_UTIL_OK);
    assert_int_equal(vm_state_utilization(&st, 2, 1024, 60, 1060), VM_STATE_UTIL_CHECK);
    /* Never checked: a first check even with no periodic one. */
    st.checked_s = 0;
    assert_int_equal(vm_state_utilization(&st, 0, 0, 0, 1000), VM_STATE_UTIL_CHECK);
}

/* migrate_to's record of a hand-over: its own file, which no resource's state file can be. */
static void
migration_record(void **state)
{
    struct vm_migration_record rec = {.target = "node2",
                                      .uri = "qemu+tcp://node2-st/system",
                                      .source = "node1",
                                      .since_s = 1795741369},
                               back;
    char rp[256], buf[64];

    (void)state;
    assert_int_equal(vm_state_migration_path(mock_state_dir, "vm-vm1", rp, sizeof(rp)), 0);
    assert_non_null(strstr(rp, "/.migrated-vm-vm1"));
    assert_int_equal(vm_state_migration_path("/run/drover/vm", ".x", buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_state_migration_path("/run/drover/vm", "a/b", buf, sizeof(buf)), -EINVAL);
    assert_int_equal(vm_state_migration_path("/run/drover/vm", "vm-a", buf, 20), -ENAMETOOLONG);
    assert_int_equal(vm_state_migration_read(rp, &back), -ENOENT);
    assert_int_equal(vm_state_migration_write(rp, &rec), 0);
    assert_int_equal(vm_state_migration_read(rp, &back), 0);
    assert_memory_equal(&back, &rec, sizeof(rec));
    /* Fields that would not read back as written are refused. */
    snprintf(rec.uri, sizeof(rec.uri), "qemu+tcp://a b/system");
    assert_int_equal(vm_state_migration_write(rp, &rec), -EINVAL);
    rec.uri[0] = '\0';
    assert_int_equal(vm_state_migration_write(rp, &rec), -EINVAL);
    /* What does not parse is no record. */
    snprintf(path, sizeof(path), "%s", rp);
    put("node2 qemu+tcp://node2/system node1\n");
    assert_int_equal(vm_state_migration_read(rp, &back), -EINVAL);
    put("node2 qemu+tcp://node2/system node1 -5\n");
    assert_int_equal(vm_state_migration_read(rp, &back), -EINVAL);
    put("node2 qemu+tcp://node2/system node1 12x\n");
    assert_int_equal(vm_state_migration_read(rp, &back), -EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, mock_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(bad_paths), T(formats), T(write_read_back), T(utilization), T(migration_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
