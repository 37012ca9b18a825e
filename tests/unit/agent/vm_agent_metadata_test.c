/*
 * vm_agent_metadata: what Pacemaker reads in it decides which parameter changes restart the VM
 * (vm_metadata.c). OCF 1.0 with the action reload makes Pacemaker 2.1 reload every parameter
 * marked unique="0" and restart for the unique="1" ones: config and domain only. And the
 * meta-data says what the code does: each listed action is implemented, each integer and boolean
 * parameter is parsed (a bad value is refused, naming it), and each default is the parser's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent_mock.h"

#define MAX_PARAMS 32

struct param {
    char name[64];
    char unique[8]; /* "" when absent */
    char type[16];  /* <content type=...> */
    char def[128];  /* default, "" when none */
    bool has_default;
};

static struct param params[MAX_PARAMS];
static size_t n_params;

/* The value of attribute \p attr (with its '="') in [from, to), into \p buf; false if absent. */
static bool
attr(const char *from, const char *to, const char *attr_eq, char *buf, size_t len)
{
    const char *p = strstr(from, attr_eq);
    const char *end;

    if (p == NULL || p >= to) {
        return false;
    }
    p += strlen(attr_eq);
    end = strchr(p, '"');
    assert_non_null(end);
    assert_true((size_t)(end - p) < len);
    memcpy(buf, p, (size_t)(end - p));
    buf[end - p] = '\0';
    return true;
}

static void
read_params(void)
{
    const char *md = vm_agent_metadata();
    const char *p = md;

    n_params = 0;
    while ((p = strstr(p, "<parameter name=\"")) != NULL) {
        const char *end = strstr(p, "</parameter>");
        const char *content;
        struct param *pa;

        assert_non_null(end);
        assert_true(n_params < MAX_PARAMS);
        pa = &params[n_params++];
        memset(pa, 0, sizeof(*pa));
        assert_true(attr(p, end, "name=\"", pa->name, sizeof(pa->name)));
        content = strstr(p, "<content ");
        assert_true(content != NULL && content < end);
        /* unique= belongs to <parameter ...>, before its first child. */
        (void)attr(p, strchr(p, '>'), "unique=\"", pa->unique, sizeof(pa->unique));
        assert_true(attr(content, end, "type=\"", pa->type, sizeof(pa->type)));
        pa->has_default = attr(content, end, "default=\"", pa->def, sizeof(pa->def));
        p = end;
    }
}

static const struct param *
param(const char *name)
{
    for (size_t i = 0; i < n_params; i++) {
        if (strcmp(params[i].name, name) == 0) {
            return &params[i];
        }
    }
    return NULL;
}

/* Legacy reload needs an OCF version below 1.1 (Pacemaker ignores reload for 1.1 agents). */
static void
ocf_1_0_with_reload(void **state)
{
    const char *md = vm_agent_metadata();
    const char *v = strstr(md, "<version>");

    (void)state;
    assert_non_null(v);
    assert_int_equal(strncmp(v, "<version>1.0</version>", 22), 0);
    assert_non_null(strstr(md, "<action name=\"reload\" "));
    /* Debian's ra-api-1.dtd has no reload-agent, and Pacemaker ignores it below OCF 1.1. */
    assert_null(strstr(md, "\"reload-agent\""));
}

/* Every action the meta-data lists is one the agent runs. */
static void
actions_known(void **state)
{
    const char *p = vm_agent_metadata();
    size_t n = 0;
    char name[64];

    (void)state;
    while ((p = strstr(p, "<action name=\"")) != NULL) {
        assert_true(attr(p, strchr(p, '>'), "name=\"", name, sizeof(name)));
        assert_true(vm_agent_action_known(name));
        n++;
        p++;
    }
    assert_int_equal(n, 8);
}

/* Exactly config and domain restart the VM; everything else is reloaded. */
static void
unique_flags(void **state)
{
    (void)state;
    read_params();
    assert_int_equal(n_params, 15);
    for (size_t i = 0; i < n_params; i++) {
        bool restart =
            strcmp(params[i].name, "config") == 0 || strcmp(params[i].name, "domain") == 0;

        /* Every parameter says it: an absent unique= is the same as "0", but explicit. */
        assert_string_equal(params[i].unique, restart ? "1" : "0");
    }
    assert_non_null(param("hypervisor"));
    assert_string_equal(param("hypervisor")->unique, "0");
    assert_string_equal(param("migration_bandwidth")->unique, "0");
    assert_string_equal(param("utilization_check_interval")->unique, "0");
}

/* Parse "OCF_RESKEY_domain=vm1" plus OCF_RESKEY_<name>=<value> (none when \p name is NULL). */
static int
parse_with(struct vm_agent *a, const char *name, const char *value, char *err, size_t len)
{
    char var[96];
    const char *kv[] = {"OCF_RESKEY_domain", "vm1", var, value, NULL};

    if (name == NULL || strcmp(name, "domain") == 0) {
        kv[2] = NULL;
        if (name != NULL) {
            kv[1] = value;
        }
    }
    snprintf(var, sizeof(var), "OCF_RESKEY_%s", name != NULL ? name : "");
    return mock_parse_rc(a, kv, err, len);
}

/* Each integer and boolean parameter is read by the parser: a bad value fails, naming it. */
static void
typed_params_parsed(void **state)
{
    struct vm_agent a;
    char err[512];
    size_t checked = 0;

    (void)state;
    read_params();
    for (size_t i = 0; i < n_params; i++) {
        const char *bad = NULL;

        if (strcmp(params[i].type, "integer") == 0) {
            bad = "12x";
        } else if (strcmp(params[i].type, "boolean") == 0) {
            bad = "maybe";
        } else {
            assert_string_equal(params[i].type, "string");
            continue;
        }
        err[0] = '\0';
        assert_int_equal(parse_with(&a, params[i].name, bad, err, sizeof(err)), OCF_ERR_CONFIGURED);
        assert_non_null(strstr(err, params[i].name));
        checked++;
    }
    assert_int_equal(checked, 9);
}

/* Whether two parses read the same parameter values (the meta attributes are the same). */
static bool
same_params(const struct vm_agent *x, const struct vm_agent *y)
{
    return strcmp(x->config, y->config) == 0 && strcmp(x->domain, y->domain) == 0 &&
           strcmp(x->hypervisor, y->hypervisor) == 0 && strcmp(x->remote_uri, y->remote_uri) == 0 &&
           x->n_migration_addrs == y->n_migration_addrs && x->policy == y->policy &&
           x->migration_bandwidth == y->migration_bandwidth &&
           x->migration_downtime == y->migration_downtime &&
           x->migration_parallel == y->migration_parallel &&
           x->migration_timeout == y->migration_timeout && x->postcopy_after == y->postcopy_after &&
           x->shutdown_timeout == y->shutdown_timeout && x->force_stop == y->force_stop &&
           x->autoset_utilization == y->autoset_utilization &&
           x->utilization_check_interval == y->utilization_check_interval;
}

/* The default the meta-data states is the one the parser applies when the parameter is unset. */
static void
defaults_are_the_parsers(void **state)
{
    struct vm_agent unset, given;
    char err[512];
    size_t checked = 0;

    (void)state;
    read_params();
    assert_int_equal(parse_with(&unset, NULL, NULL, err, sizeof(err)), OCF_SUCCESS);
    for (size_t i = 0; i < n_params; i++) {
        if (!params[i].has_default) {
            continue;
        }
        assert_int_equal(parse_with(&given, params[i].name, params[i].def, err, sizeof(err)),
                         OCF_SUCCESS);
        if (!same_params(&unset, &given)) {
            fail_msg("parameter %s: the meta-data's default '%s' is not the parser's",
                     params[i].name, params[i].def);
        }
        checked++;
    }
    assert_int_equal(checked, 12);
    /* And the check can tell: a value other than the default does change the result. */
    assert_int_equal(parse_with(&given, "migration_bandwidth", "7", err, sizeof(err)), OCF_SUCCESS);
    assert_false(same_params(&unset, &given));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ocf_1_0_with_reload),
        cmocka_unit_test(actions_known),
        cmocka_unit_test(unique_flags),
        cmocka_unit_test(typed_params_parsed),
        cmocka_unit_test(defaults_are_the_parsers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
