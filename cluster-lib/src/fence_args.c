/*
 * Input of the fence agent: the fencer's key=value lines on stdin and an admin's command line,
 * both into one struct dr_fence_args, with every bad value named in a message.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "drover/fence.h"
#include "log_internal.h"

#define MAX_VALUE_LEN 4096

static const struct {
    enum dr_fence_action action;
    const char *name;
} actions[] = {
    {DR_FENCE_ACTION_OFF, "off"},           {DR_FENCE_ACTION_ON, "on"},
    {DR_FENCE_ACTION_REBOOT, "reboot"},     {DR_FENCE_ACTION_STATUS, "status"},
    {DR_FENCE_ACTION_MONITOR, "monitor"},   {DR_FENCE_ACTION_LIST, "list"},
    {DR_FENCE_ACTION_METADATA, "metadata"}, {DR_FENCE_ACTION_VALIDATE_ALL, "validate-all"},
};

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || len == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

const char *
dr_fence_action_name(enum dr_fence_action action)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (actions[i].action == action) {
            return actions[i].name;
        }
    }
    return "none";
}

void
dr_fence_args_init(struct dr_fence_args *a)
{
    memset(a, 0, sizeof(*a));
    a->type = DR_PR_TYPE_WRITE_EXCLUSIVE_RO;
    a->timeout_ms = 5000;
    a->victim_stop_ms = 100;
    a->use_daemon = -1;
}

void
dr_fence_args_free(struct dr_fence_args *a)
{
    if (a == NULL) {
        return;
    }
    free(a->plug);
    free(a->nodename);
    free(a->local_node);
    free(a->cluster_name);
    free(a->corosync_conf);
    free(a->initiator_prefix);
    free(a->ipc_name);
    for (size_t i = 0; i < a->n_devices; i++) {
        free(a->devices[i]);
    }
    for (size_t i = 0; i < a->n_initiators; i++) {
        free(a->initiators[i].node);
        free(a->initiators[i].iqn);
    }
    dr_fence_args_init(a);
}

static int
set_string(char **dst, const char *key, const char *value, char *err, size_t err_len)
{
    char *s;

    if (value[0] == '\0') {
        set_err(err, err_len, "parameter '%s' is empty", key);
        return -EINVAL;
    }
    for (const char *p = value; *p != '\0'; p++) {
        if (iscntrl((unsigned char)*p)) {
            set_err(err, err_len, "parameter '%s' contains a control character", key);
            return -EINVAL;
        }
    }
    s = strdup(value);
    if (s == NULL) {
        return -ENOMEM;
    }
    free(*dst);
    *dst = s;
    return 0;
}

/* A node name as corosync and Pacemaker allow it: no separators, no spaces. */
static int
set_node(char **dst, const char *key, const char *value, char *err, size_t err_len)
{
    if (strlen(value) > 255 || strpbrk(value, " \t,;=/") != NULL) {
        set_err(err, err_len, "parameter '%s': '%.64s' is not a valid node name", key, value);
        return -EINVAL;
    }
    return set_string(dst, key, value, err, err_len);
}

static bool
is_sep(char c)
{
    return c == ',' || c == ';' || c == ' ' || c == '\t';
}

/* Split "a,b c;d" into tokens; each token is handed to fn. */
static int
for_each_token(const char *value, int (*fn)(struct dr_fence_args *, const char *, char *, size_t),
               struct dr_fence_args *a, char *err, size_t err_len)
{
    char tok[MAX_VALUE_LEN];
    const char *p = value;
    int n = 0;

    while (*p != '\0') {
        size_t len = 0;
        int rc;

        while (is_sep(*p)) {
            p++;
        }
        while (p[len] != '\0' && !is_sep(p[len])) {
            len++;
        }
        if (len == 0) {
            break;
        }
        if (len >= sizeof(tok)) {
            set_err(err, err_len, "a list entry is longer than %zu bytes", sizeof(tok) - 1);
            return -EINVAL;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        rc = fn(a, tok, err, err_len);
        if (rc < 0) {
            return rc;
        }
        n++;
        p += len;
    }
    return n;
}

static int
add_device(struct dr_fence_args *a, const char *dev, char *err, size_t err_len)
{
    for (const char *p = dev; *p != '\0'; p++) {
        if (iscntrl((unsigned char)*p)) {
            set_err(err, err_len, "parameter 'devices' contains a control character");
            return -EINVAL;
        }
    }
    if (strncmp(dev, "iscsi://", 8) != 0 && dev[0] != '/') {
        set_err(err, err_len,
                "device '%.128s' is neither an absolute device path nor an iscsi:// URL", dev);
        return -EINVAL;
    }
    if (strncmp(dev, "iscsi://", 8) == 0) {
        /* iscsi://[user%password@]portal[:port]/target-iqn/lun: check the shape here so that
         * a typo is named before any connection is tried. */
        const char *slash1 = strchr(dev + 8, '/');
        const char *slash2 = slash1 != NULL ? strchr(slash1 + 1, '/') : NULL;
        char *end;
        long lun;

        if (slash1 == NULL || slash1 == dev + 8 || slash2 == NULL || slash2 == slash1 + 1) {
            set_err(err, err_len,
                    "device '%.128s' is not iscsi://[user%%password@]portal[:port]/target-iqn/lun",
                    dev);
            return -EINVAL;
        }
        errno = 0;
        lun = strtol(slash2 + 1, &end, 10);
        if (slash2[1] == '\0' || *end != '\0' || errno != 0 || lun < 0 || lun > 16383) {
            set_err(err, err_len, "device '%.128s': LUN '%s' is not a number 0..16383", dev,
                    slash2 + 1);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < a->n_devices; i++) {
        if (strcmp(a->devices[i], dev) == 0) {
            return 0; /* the same device twice is one device */
        }
    }
    if (a->n_devices == DR_FENCE_MAX_DEVICES) {
        set_err(err, err_len, "more than %d devices", DR_FENCE_MAX_DEVICES);
        return -E2BIG;
    }
    a->devices[a->n_devices] = strdup(dev);
    if (a->devices[a->n_devices] == NULL) {
        return -ENOMEM;
    }
    a->n_devices++;
    return 0;
}

static bool
valid_iqn_prefix(const char *s)
{
    if (strncmp(s, "iqn.", 4) != 0 && strncmp(s, "eui.", 4) != 0 && strncmp(s, "naa.", 4) != 0) {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && strchr(".-:", *p) == NULL) {
            return false;
        }
    }
    return true;
}

static bool
valid_iqn(const char *s)
{
    /* RFC 3720 3.2.6.1: at most 223 bytes */
    return strlen(s) >= 5 && strlen(s) <= 223 && valid_iqn_prefix(s);
}

static int
add_initiator(struct dr_fence_args *a, const char *pair, char *err, size_t err_len)
{
    const char *eq = strchr(pair, '=');
    char *node, *iqn;

    if (eq == NULL || eq == pair || eq[1] == '\0') {
        set_err(err, err_len, "initiators entry '%.128s' is not node=iqn", pair);
        return -EINVAL;
    }
    if (!valid_iqn(eq + 1)) {
        set_err(err, err_len, "initiators entry '%.128s': '%s' is not an iSCSI name (iqn.…)", pair,
                eq + 1);
        return -EINVAL;
    }
    if (a->n_initiators == DR_FENCE_MAX_NODES) {
        set_err(err, err_len, "more than %d initiators", DR_FENCE_MAX_NODES);
        return -E2BIG;
    }
    if ((size_t)(eq - pair) > 255 || strcspn(pair, " \t,;/") < (size_t)(eq - pair)) {
        set_err(err, err_len, "initiators entry '%.128s': '%.*s' is not a valid node name", pair,
                (int)(eq - pair), pair);
        return -EINVAL;
    }
    node = strndup(pair, (size_t)(eq - pair));
    iqn = strdup(eq + 1);
    if (node == NULL || iqn == NULL) {
        free(node);
        free(iqn);
        return -ENOMEM;
    }
    for (size_t i = 0; i < a->n_initiators; i++) {
        if (strcmp(a->initiators[i].node, node) == 0) {
            set_err(err, err_len, "initiators: node '%s' appears twice", node);
            free(node);
            free(iqn);
            return -EINVAL;
        }
    }
    a->initiators[a->n_initiators].node = node;
    a->initiators[a->n_initiators].iqn = iqn;
    a->n_initiators++;
    return 0;
}

static int
parse_uint(const char *key, const char *value, unsigned long min, unsigned long max,
           unsigned long *out, char *err, size_t err_len)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(value, &end, 10);
    if (value[0] == '\0' || value[0] == '-' || *end != '\0' || errno != 0 || v < min || v > max) {
        set_err(err, err_len, "parameter '%s' must be a number %lu..%lu, not '%.64s'", key, min,
                max, value);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int
parse_bool(const char *key, const char *value, int *out, bool allow_auto, char *err, size_t err_len)
{
    static const char *const yes[] = {"1", "yes", "true", "on", "y"};
    static const char *const no[] = {"0", "no", "false", "off", "n"};

    /* fencing.py passes flags as "key=" or "key=1"; an empty value means set. */
    if (value[0] == '\0') {
        *out = 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    if (allow_auto && strcasecmp(value, "auto") == 0) {
        *out = -1;
        return 0;
    }
    set_err(err, err_len, "parameter '%s' must be yes or no%s, not '%.64s'", key,
            allow_auto ? " or auto" : "", value);
    return -EINVAL;
}

static bool
known_key(const char *key)
{
    static const char *const keys[] = {
        "action",           "option",     "plug",           "port",
        "nodename",         "local_node", "cluster_name",   "corosync_conf",
        "initiator_prefix", "ipc_name",   "devices",        "initiators",
        "reservation_type", "timeout_ms", "victim_stop_ms", "use_daemon",
        "verbose",          "debug",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(key, keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

int
dr_fence_args_set(struct dr_fence_args *a, const char *key, const char *value, char *err,
                  size_t err_len)
{
    unsigned long num;
    int b, rc;

    if (a == NULL || key == NULL || value == NULL) {
        return -EINVAL;
    }
    if (!known_key(key)) {
        set_err(err, err_len, "unknown parameter '%.64s'", key);
        return -ENOENT;
    }
    if (strlen(value) >= MAX_VALUE_LEN) {
        set_err(err, err_len, "parameter '%s' is longer than %d bytes", key, MAX_VALUE_LEN - 1);
        return -EINVAL;
    }
    if (strcmp(key, "action") == 0 || strcmp(key, "option") == 0) {
        for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
            if (strcmp(value, actions[i].name) == 0) {
                a->action = actions[i].action;
                return 0;
            }
        }
        set_err(err, err_len,
                "unknown action '%.64s' (off, on, reboot, status, monitor, list, metadata, "
                "validate-all)",
                value);
        return -EINVAL;
    }
    if (strcmp(key, "plug") == 0 || strcmp(key, "port") == 0) {
        return set_node(&a->plug, key, value, err, err_len);
    }
    if (strcmp(key, "nodename") == 0) {
        return set_node(&a->nodename, key, value, err, err_len);
    }
    if (strcmp(key, "local_node") == 0) {
        return set_node(&a->local_node, key, value, err, err_len);
    }
    if (strcmp(key, "cluster_name") == 0) {
        return set_node(&a->cluster_name, key, value, err, err_len);
    }
    if (strcmp(key, "corosync_conf") == 0) {
        return set_string(&a->corosync_conf, key, value, err, err_len);
    }
    if (strcmp(key, "initiator_prefix") == 0) {
        /* prefix + a node name of up to 255 bytes must stay an iSCSI name (223 bytes at most) */
        if (value[0] != '\0' && (strlen(value) > 200 || !valid_iqn_prefix(value))) {
            set_err(err, err_len,
                    "initiator_prefix '%.64s' does not start an iSCSI name (iqn.…, "
                    "at most 200 bytes)",
                    value);
            return -EINVAL;
        }
        return set_string(&a->initiator_prefix, key, value, err, err_len);
    }
    if (strcmp(key, "ipc_name") == 0) {
        return set_string(&a->ipc_name, key, value, err, err_len);
    }
    if (strcmp(key, "devices") == 0) {
        rc = for_each_token(value, add_device, a, err, err_len);
        if (rc == 0) {
            set_err(err, err_len, "parameter 'devices' lists no device");
            return -EINVAL;
        }
        return rc < 0 ? rc : 0;
    }
    if (strcmp(key, "initiators") == 0) {
        rc = for_each_token(value, add_initiator, a, err, err_len);
        if (rc == 0) {
            set_err(err, err_len, "parameter 'initiators' lists no node=iqn pair");
            return -EINVAL;
        }
        return rc < 0 ? rc : 0;
    }
    if (strcmp(key, "reservation_type") == 0) {
        if (dr_pr_type_parse(value, &a->type) < 0) {
            set_err(err, err_len,
                    "reservation_type '%.64s' is not one of we, ea, wero, earo, wear, eaar "
                    "(1, 3, 5, 6, 7, 8)",
                    value);
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(key, "timeout_ms") == 0) {
        rc = parse_uint(key, value, 100, 600000, &num, err, err_len);
        if (rc == 0) {
            a->timeout_ms = (unsigned int)num;
        }
        return rc;
    }
    if (strcmp(key, "victim_stop_ms") == 0) {
        rc = parse_uint(key, value, 0, 60000, &num, err, err_len);
        if (rc == 0) {
            a->victim_stop_ms = (unsigned int)num;
        }
        return rc;
    }
    if (strcmp(key, "use_daemon") == 0) {
        rc = parse_bool(key, value, &b, true, err, err_len);
        if (rc == 0) {
            a->use_daemon = b;
        }
        return rc;
    }
    if (strcmp(key, "verbose") == 0 || strcmp(key, "debug") == 0) {
        rc = parse_bool(key, value, &b, false, err, err_len);
        if (rc == 0) {
            if (key[0] == 'v') {
                a->verbose = b != 0;
            } else {
                a->debug = b != 0;
            }
        }
        return rc;
    }
    set_err(err, err_len, "unknown parameter '%.64s'", key);
    return -ENOENT;
}

static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

int
dr_fence_args_parse_stdin(struct dr_fence_args *a, const char *buf, size_t len, char *err,
                          size_t err_len)
{
    size_t pos = 0;
    unsigned int lineno = 0;

    if (a == NULL || (buf == NULL && len > 0)) {
        return -EINVAL;
    }
    if (len > 0 && memchr(buf, '\0', len) != NULL) {
        set_err(err, err_len, "input contains a NUL byte");
        return -EINVAL;
    }
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
        char line[MAX_VALUE_LEN + 128];
        char *l, *eq, *key, *value;
        char sub[256] = ""; /* -ENOMEM comes without a message */
        int rc;

        lineno++;
        if (line_len >= sizeof(line)) {
            set_err(err, err_len, "line %u is longer than %zu bytes", lineno, sizeof(line) - 1);
            return -EINVAL;
        }
        memcpy(line, buf + pos, line_len);
        line[line_len] = '\0';
        pos += line_len + 1;
        l = trim(line);
        if (l[0] == '\0' || l[0] == '#') {
            continue;
        }
        eq = strchr(l, '=');
        if (eq == NULL) {
            set_err(err, err_len, "line %u: expected key=value, got '%.64s'", lineno, l);
            return -EINVAL;
        }
        *eq = '\0';
        key = trim(l);
        value = trim(eq + 1);
        if (key[0] == '\0') {
            set_err(err, err_len, "line %u: empty parameter name", lineno);
            return -EINVAL;
        }
        rc = dr_fence_args_set(a, key, value, sub, sizeof(sub));
        if (rc == -ENOENT) {
            /* The fencer may pass parameters of its own; name it, but go on. */
            dr_warn("ignoring unknown parameter '%s' (line %u)", key, lineno);
            continue;
        }
        if (rc < 0) {
            set_err(err, err_len, "line %u: %s", lineno, sub[0] != '\0' ? sub : dr_strerror(rc));
            return rc;
        }
    }
    return 0;
}

int
dr_fence_args_parse_argv(struct dr_fence_args *a, int argc, char *const *argv, char *err,
                         size_t err_len)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char key[64];
        const char *value = NULL;
        int rc;

        if (strcmp(arg, "-o") == 0 || strcmp(arg, "-n") == 0 || strcmp(arg, "-d") == 0) {
            if (i + 1 >= argc) {
                set_err(err, err_len, "option %s needs a value", arg);
                return -EINVAL;
            }
            snprintf(key, sizeof(key), "%s",
                     arg[1] == 'o' ? "action" : (arg[1] == 'n' ? "plug" : "devices"));
            value = argv[++i];
        } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "-D") == 0) {
            snprintf(key, sizeof(key), "%s", arg[1] == 'v' ? "verbose" : "debug");
            value = "1";
        } else if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
            const char *eq = strchr(arg, '=');
            size_t klen = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);

            if (klen >= sizeof(key)) {
                set_err(err, err_len, "unknown option '%.64s'", arg);
                return -EINVAL;
            }
            memcpy(key, arg + 2, klen);
            key[klen] = '\0';
            for (char *p = key; *p != '\0'; p++) {
                if (*p == '-') {
                    *p = '_';
                }
            }
            if (!known_key(key)) {
                set_err(err, err_len, "unknown option '%.64s'", arg);
                return -EINVAL;
            }
            if (eq != NULL) {
                value = eq + 1;
            } else if (strcmp(key, "verbose") == 0 || strcmp(key, "debug") == 0) {
                value = "1";
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                set_err(err, err_len, "option %s needs a value", arg);
                return -EINVAL;
            }
        } else {
            set_err(err, err_len, "unexpected argument '%.64s'", arg);
            return -EINVAL;
        }
        rc = dr_fence_args_set(a, key, value, err, err_len);
        if (rc == -ENOENT) {
            set_err(err, err_len, "unknown option '%.64s'", arg);
            return -EINVAL;
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* totem { cluster_name: X } in corosync.conf: the same name the cluster runs under. */
static int
cluster_name_from_corosync(const char *path, char **out)
{
    FILE *f = fopen(path, "re");
    char line[512];
    int rc = -ENODATA; /* not -ENOENT: that is a missing file */

    if (f == NULL) {
        return -errno;
    }
    /* corosync.conf(5): cluster_name belongs to the totem section; count braces to know. */
    int depth = 0;
    bool in_totem = false;

    while (fgets(line, sizeof(line), f) != NULL) {
        char *l = trim(line);

        if (l[0] == '#') {
            continue;
        }
        if (depth == 0 && strncmp(l, "totem", 5) == 0 && strchr(l, '{') != NULL) {
            in_totem = true;
        }
        if (in_totem && depth == 1 && strncmp(l, "cluster_name:", 13) == 0) {
            char *v = trim(l + 13);
            if (v[0] != '\0') {
                *out = strdup(v);
                rc = *out != NULL ? 0 : -ENOMEM;
            }
            break;
        }
        for (const char *c = l; *c != '\0'; c++) {
            depth += *c == '{' ? 1 : (*c == '}' ? -1 : 0);
        }
        if (depth <= 0) {
            depth = 0;
            in_totem = false;
        }
    }
    fclose(f);
    return rc;
}

const char *
dr_fence_initiator_for(const struct dr_fence_args *a, const char *node, char *buf, size_t len)
{
    for (size_t i = 0; i < a->n_initiators; i++) {
        if (strcmp(a->initiators[i].node, node) == 0) {
            return a->initiators[i].iqn;
        }
    }
    snprintf(buf, len, "%s%s",
             a->initiator_prefix != NULL ? a->initiator_prefix : "iqn.2026-11.org.drover:", node);
    return buf;
}

int
dr_fence_args_validate(struct dr_fence_args *a, char *err, size_t err_len)
{
    const char *names[DR_FENCE_MAX_NODES + 2];
    size_t n = 0;

    if (a == NULL) {
        return -EINVAL;
    }
    if (a->action == DR_FENCE_ACTION_NONE) {
        set_err(err, err_len, "no action given (action= on stdin, or -o)");
        return -DR_E_CONFIG;
    }
    if (a->action == DR_FENCE_ACTION_METADATA) {
        return 0;
    }
    if (a->local_node == NULL) {
        char host[256];
        if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0') {
            set_err(err, err_len, "local_node not given and the host name is unknown");
            return -DR_E_CONFIG;
        }
        host[sizeof(host) - 1] = '\0';
        /* Pacemaker's node name is the short host name unless configured otherwise. */
        host[strcspn(host, ".")] = '\0';
        a->local_node = strdup(host);
        if (a->local_node == NULL) {
            return -ENOMEM;
        }
    }
    /*
     * fence-agents' nodename is the node acted on: Pacemaker passes the target there (and in
     * plug). The node this runs on is local_node.
     */
    if (a->nodename != NULL && a->plug == NULL) {
        a->plug = strdup(a->nodename);
        if (a->plug == NULL) {
            return -ENOMEM;
        }
    } else if (a->nodename != NULL && strcmp(a->nodename, a->plug) != 0) {
        set_err(err, err_len,
                "nodename '%s' and plug '%s' differ: both name the node acted on (the node this "
                "runs on is local_node)",
                a->nodename, a->plug);
        return -DR_E_CONFIG;
    }
    if (a->cluster_name == NULL) {
        const char *path =
            a->corosync_conf != NULL ? a->corosync_conf : "/etc/corosync/corosync.conf";
        int rc = cluster_name_from_corosync(path, &a->cluster_name);
        if (rc < 0) {
            set_err(err, err_len,
                    "cluster_name not given and not found in %s (%s): the reservation keys "
                    "derive from it",
                    path, rc == -ENODATA ? "no totem cluster_name" : strerror(-rc));
            return -DR_E_CONFIG;
        }
    }
    if (a->n_devices == 0) {
        set_err(err, err_len, "parameter 'devices' is required (block devices or iscsi:// URLs)");
        return -DR_E_CONFIG;
    }
    switch (a->action) {
    case DR_FENCE_ACTION_OFF:
    case DR_FENCE_ACTION_REBOOT:
    case DR_FENCE_ACTION_STATUS:
        if (a->plug == NULL) {
            set_err(err, err_len, "action %s needs plug (or port): the node to act on",
                    dr_fence_action_name(a->action));
            return -DR_E_CONFIG;
        }
        break;
    case DR_FENCE_ACTION_ON:
        if (a->plug == NULL) {
            a->plug = strdup(a->local_node);
            if (a->plug == NULL) {
                return -ENOMEM;
            }
        }
        if (strcmp(a->plug, a->local_node) != 0) {
            set_err(err, err_len,
                    "action on unfences the node it runs on: plug '%s' is not this node '%s' "
                    "(local_node; Pacemaker runs on on the target, as the metadata declares)",
                    a->plug, a->local_node);
            return -DR_E_CONFIG;
        }
        break;
    case DR_FENCE_ACTION_NONE:
    case DR_FENCE_ACTION_MONITOR:
    case DR_FENCE_ACTION_LIST:
    case DR_FENCE_ACTION_METADATA:
    case DR_FENCE_ACTION_VALIDATE_ALL:
        break;
    }
    names[n++] = a->local_node;
    if (a->plug != NULL && strcmp(a->plug, a->local_node) != 0) {
        names[n++] = a->plug;
    }
    for (size_t i = 0; i < a->n_initiators; i++) {
        names[n++] = a->initiators[i].node;
    }
    if (dr_pr_keys_check_unique(a->cluster_name, names, n) < 0) {
        set_err(err, err_len, "two node names derive the same reservation key (see the log)");
        return -DR_E_CONFIG;
    }
    return 0;
}
