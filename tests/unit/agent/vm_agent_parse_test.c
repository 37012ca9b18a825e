/*
 * vm_agent_parse over a table of variables: every parameter and its default, then bad, missing
 * and conflicting values (OCF_ERR_CONFIGURED with a message naming the parameter), then the
 * migration network map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent_mock.h"

#define P(name) "OCF_RESKEY_" name

static void
defaults(void **state)
{
    const char *const kv[] = {P("domain"), "vm1", NULL};
    struct vm_agent a;

    (void)state;
    mock_parse(&a, kv);
    assert_string_equal(a.domain, "vm1");
    assert_string_equal(a.config, "");
    assert_string_equal(a.hypervisor, "qemu:///system");
    assert_string_equal(a.remote_uri, "qemu+tcp://%n/system");
    assert_int_equal(a.n_migration_addrs, 0);
    assert_int_equal(a.policy, DR_VM_MIGRATION_POSTCOPY);
    assert_int_equal(a.migration_bandwidth, 0);
    assert_int_equal(a.migration_downtime, 0);
    assert_int_equal(a.migration_parallel, 0);
    assert_int_equal(a.migration_timeout, 0);
    assert_int_equal(a.postcopy_after, 0);
    assert_int_equal(a.shutdown_timeout, 0);
    assert_false(a.force_stop);
    assert_true(a.autoset_utilization);
    assert_int_equal(a.utilization_check_interval, 60);
    assert_int_equal(a.op_timeout_ms, 90000);
    assert_int_equal(a.op_interval_ms, 0);
    assert_string_equal(a.migrate_source, "");
    assert_string_equal(a.migrate_target, "");
    assert_string_equal(a.instance, "");
}

static void
every_parameter(void **state)
{
    const char *const kv[] = {P("config"),
                              "/etc/drover/vm1.xml",
                              P("domain"),
                              "vm1",
                              P("hypervisor"),
                              "qemu+unix:///system?socket=/run/x",
                              P("remote_uri"),
                              "qemu+ssh://root@%n/system",
                              P("migration_network"),
                              "n1=198.18.2.11, n2=198.18.2.12;n3=fd00::13\tn4=[fd00::14]",
                              P("migration_policy"),
                              "autoconverge",
                              P("migration_bandwidth"),
                              "110",
                              P("migration_downtime"),
                              "100",
                              P("migration_parallel"),
                              "4",
                              P("migration_timeout"),
                              "600",
                              P("postcopy_after"),
                              "",
                              P("shutdown_timeout"),
                              "30",
                              P("force_stop"),
                              "Yes",
                              P("autoset_utilization"),
                              "off",
                              P("utilization_check_interval"),
                              "0",
                              P("CRM_meta_timeout"),
                              "120000",
                              P("CRM_meta_interval"),
                              "10000",
                              P("CRM_meta_migrate_source"),
                              "n1",
                              P("CRM_meta_migrate_target"),
                              "n2",
                              "OCF_RESOURCE_INSTANCE",
                              "vm-vm1",
                              NULL};
    struct vm_agent a;

    (void)state;
    mock_parse(&a, kv);
    assert_string_equal(a.config, "/etc/drover/vm1.xml");
    assert_string_equal(a.domain, "vm1");
    assert_string_equal(a.hypervisor, "qemu+unix:///system?socket=/run/x");
    assert_string_equal(a.remote_uri, "qemu+ssh://root@%n/system");
    assert_int_equal(a.n_migration_addrs, 4);
    assert_string_equal(a.migration_addrs[0].node, "n1");
    assert_string_equal(a.migration_addrs[0].addr, "198.18.2.11");
    assert_string_equal(a.migration_addrs[1].node, "n2");
    assert_string_equal(a.migration_addrs[1].addr, "198.18.2.12");
    assert_string_equal(a.migration_addrs[2].node, "n3");
    assert_string_equal(a.migration_addrs[2].addr, "fd00::13");
    assert_string_equal(a.migration_addrs[3].node, "n4");
    assert_string_equal(a.migration_addrs[3].addr, "[fd00::14]");
    assert_int_equal(a.policy, DR_VM_MIGRATION_AUTOCONVERGE);
    assert_int_equal(a.migration_bandwidth, 110);
    assert_int_equal(a.migration_downtime, 100);
    assert_int_equal(a.migration_parallel, 4);
    assert_int_equal(a.migration_timeout, 600);
    assert_int_equal(a.postcopy_after, 0);
    assert_int_equal(a.shutdown_timeout, 30);
    assert_true(a.force_stop);
    assert_false(a.autoset_utilization);
    assert_int_equal(a.utilization_check_interval, 0);
    assert_int_equal(a.op_timeout_ms, 120000);
    assert_int_equal(a.op_interval_ms, 10000);
    assert_string_equal(a.migrate_source, "n1");
    assert_string_equal(a.migrate_target, "n2");
    assert_string_equal(a.instance, "vm-vm1");
}

static void
policies_and_booleans(void **state)
{
    static const struct {
        const char *v;
        enum dr_vm_migration_policy p;
    } pol[] = {{"precopy", DR_VM_MIGRATION_PRECOPY},
               {"autoconverge", DR_VM_MIGRATION_AUTOCONVERGE},
               {"postcopy", DR_VM_MIGRATION_POSTCOPY}};
    static const char *const truth[] = {"1", "true", "YES", "on", "y"};
    static const char *const lies[] = {"0", "False", "no", "OFF", "n"};
    struct vm_agent a;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        const char *const kv[] = {P("domain"), "vm1", P("migration_policy"), pol[i].v, NULL};
        mock_parse(&a, kv);
        assert_int_equal(a.policy, pol[i].p);
    }
    for (size_t i = 0; i < 5; i++) {
        const char *const kv1[] = {P("domain"), "vm1", P("force_stop"), truth[i], NULL};
        const char *const kv0[] = {P("domain"), "vm1", P("autoset_utilization"), lies[i], NULL};
        mock_parse(&a, kv1);
        assert_true(a.force_stop);
        mock_parse(&a, kv0);
        assert_false(a.autoset_utilization);
    }
    /* postcopy_after belongs with the postcopy policy, shorter than the timeout. */
    {
        const char *const kv[] = {
            P("domain"), "vm1", P("postcopy_after"), "20", P("migration_timeout"), "60", NULL};
        mock_parse(&a, kv);
        assert_int_equal(a.postcopy_after, 20);
    }
}

/* Every rejected input: the code, and a message that names the culprit. */
static void
rejected(void **state)
{
    static const struct {
        const char *name, *value, *in_message;
    } bad[] = {
        {P("migration_policy"), "fast", "migration_policy"},
        {P("migration_policy"), "PostCopy", "migration_policy"},
        {P("migration_bandwidth"), "fast", "migration_bandwidth"},
        {P("migration_bandwidth"), "-1", "migration_bandwidth"},
        {P("migration_bandwidth"), "1000001", "migration_bandwidth"},
        {P("migration_bandwidth"), "10MiB", "migration_bandwidth"},
        {P("migration_bandwidth"), "99999999999999999999999", "migration_bandwidth"},
        {P("migration_downtime"), "600001", "migration_downtime"},
        {P("migration_parallel"), "65", "migration_parallel"},
        {P("migration_timeout"), "86401", "migration_timeout"},
        {P("postcopy_after"), "x", "postcopy_after"},
        {P("shutdown_timeout"), "1.5", "shutdown_timeout"},
        {P("force_stop"), "maybe", "force_stop"},
        {P("autoset_utilization"), "2", "autoset_utilization"},
        {P("utilization_check_interval"), "1m", "utilization_check_interval"},
        {P("utilization_check_interval"), "86401", "utilization_check_interval"},
        {P("CRM_meta_timeout"), "soon", "timeout"},
        {P("CRM_meta_interval"), "-10000", "interval"},
        {P("hypervisor"), "qemu:///system\n", "hypervisor"},
        {P("remote_uri"), "qemu+tcp://target/system", "remote_uri"},
        {P("config"), "vm1.xml", "config"},
        {P("migration_network"), "n1", "migration_network"},
        {P("migration_network"), "n1=", "migration_network"},
        {P("migration_network"), "=198.18.2.11", "migration_network"},
        {P("migration_network"), "n1=198.18.2.11 n2", "migration_network"},
        {P("migration_network"), "n1=a/b", "migration_network"},
        {P("migration_network"), "n1=x=y", "migration_network"},
        {P("migration_network"), "n1=fe80::1%eth0", "migration_network"},
        {P("migration_network"), "n1=198.18.2.11 n1=198.18.2.12", "listed twice"},
        {P("postcopy_after"), "30", "postcopy_after"}, /* with precopy, below */
    };
    char err[512];
    struct vm_agent a;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *const kv[] = {P("domain"),
                                  "vm1",
                                  P("migration_policy"),
                                  strcmp(bad[i].name, P("postcopy_after")) == 0 &&
                                          strcmp(bad[i].value, "30") == 0
                                      ? "precopy"
                                      : "postcopy",
                                  bad[i].name,
                                  bad[i].value,
                                  NULL};
        const char *const *use = kv;
        const char *const kv_policy[] = {"OCF_RESKEY_domain", "vm1", bad[i].name, bad[i].value,
                                         NULL};
        if (strcmp(bad[i].name, P("migration_policy")) == 0) {
            use = kv_policy;
        }
        assert_int_equal(mock_parse_rc(&a, use, err, sizeof(err)), OCF_ERR_CONFIGURED);
        if (strstr(err, bad[i].in_message) == NULL) {
            fail_msg("%s=%s: message '%s' does not name %s", bad[i].name, bad[i].value, err,
                     bad[i].in_message);
        }
    }
}

static void
missing_and_conflicting(void **state)
{
    const char *const none[] = {P("hypervisor"), "qemu:///system", NULL};
    const char *const empty[] = {P("domain"), "", P("config"), "", NULL};
    const char *const late[] = {
        P("domain"), "vm1", P("postcopy_after"), "60", P("migration_timeout"), "60", NULL};
    char long_name[300];
    const char *const too_long[] = {P("domain"), long_name, NULL};
    char err[512];
    struct vm_agent a;

    (void)state;
    assert_int_equal(mock_parse_rc(&a, none, err, sizeof(err)), OCF_ERR_CONFIGURED);
    assert_non_null(strstr(err, "config"));
    assert_non_null(strstr(err, "domain"));
    assert_int_equal(mock_parse_rc(&a, empty, err, sizeof(err)), OCF_ERR_CONFIGURED);
    assert_int_equal(mock_parse_rc(&a, late, err, sizeof(err)), OCF_ERR_CONFIGURED);
    assert_non_null(strstr(err, "postcopy_after"));
    assert_non_null(strstr(err, "migration_timeout"));
    memset(long_name, 'v', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(mock_parse_rc(&a, too_long, err, sizeof(err)), OCF_ERR_CONFIGURED);
    assert_non_null(strstr(err, "domain"));
    assert_non_null(strstr(err, "longer"));
}

static void
migration_network_limits(void **state)
{
    char map[8192];
    size_t len = 0;
    char err[512];
    struct vm_agent a;
    const char *const kv[] = {P("domain"), "vm1", P("migration_network"), map, NULL};

    (void)state;
    /* Exactly VM_AGENT_MAX_NODES entries fit. */
    for (int i = 0; i < VM_AGENT_MAX_NODES; i++) {
        len += (size_t)snprintf(map + len, sizeof(map) - len, "n%d=10.0.%d.%d ", i, i / 250,
                                i % 250 + 1);
    }
    assert_true(len < 4096);
    mock_parse(&a, kv);
    assert_int_equal(a.n_migration_addrs, VM_AGENT_MAX_NODES);
    assert_string_equal(a.migration_addrs[VM_AGENT_MAX_NODES - 1].node, "n63");
    /* One more is refused, by name. */
    snprintf(map + len, sizeof(map) - len, "extra=10.9.9.9");
    assert_int_equal(mock_parse_rc(&a, kv, err, sizeof(err)), OCF_ERR_CONFIGURED);
    assert_non_null(strstr(err, "migration_network"));
    assert_non_null(strstr(err, "more than 64"));
    /* Separators only: an empty map. */
    snprintf(map, sizeof(map), " ,; \t ");
    mock_parse(&a, kv);
    assert_int_equal(a.n_migration_addrs, 0);
    /* A node name longer than the field. */
    memset(map, 'n', 300);
    snprintf(map + 300, sizeof(map) - 300, "=10.0.0.1");
    assert_int_equal(mock_parse_rc(&a, kv, err, sizeof(err)), OCF_ERR_CONFIGURED);
    assert_non_null(strstr(err, "migration_network"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_parameter),
        cmocka_unit_test(policies_and_booleans),
        cmocka_unit_test(rejected),
        cmocka_unit_test(missing_and_conflicting),
        cmocka_unit_test(migration_network_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
