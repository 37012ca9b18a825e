/*
 * drover: the admin's command. This session: keys, pr (low-level PR actions), key, status.
 *
 * Exit codes (doc/drover.8.md): 0 success; 1 the operation failed; 2 bad usage or input;
 * 3 RESERVATION CONFLICT (a probe-write or PR action was refused by a reservation);
 * 4 droverd is not reachable.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drover/daemon.h"
#include "drover/error.h"
#include "drover/log.h"
#include "drover/pr.h"
#include "drover/vm.h"

enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_USAGE = 2,
    EXIT_CONFLICT = 3,
    EXIT_NO_DAEMON = 4,
};

static void
usage(FILE *f)
{
    fprintf(
        f, "usage: drover [--debug] COMMAND ...\n"
           "  key CLUSTER NODE                  print the node's reservation key\n"
           "  keys [--initiator IQN] DEVICE...  registered keys and reservation of each device\n"
           "  pr DEVICE ACTION [ARGS]           one PR action: read-keys, read-reservation,\n"
           "        caps, full-status, register OLD NEW, register-ignore NEW,\n"
           "        reserve KEY TYPE, release KEY TYPE, clear KEY, preempt KEY VICTIM TYPE,\n"
           "        preempt-abort KEY VICTIM TYPE, probe-write [LBA]\n"
           "      options: --initiator IQN  --timeout-ms N\n"
           "  status [--ipc NAME]               what droverd holds: node, key, devices\n"
           "  probe [--ipc NAME] DEVICE         may this node write to DEVICE? (through droverd's\n"
           "                                    session; exit 3 if a reservation refuses it)\n"
           "DEVICE is a SCSI block/sg device or iscsi://[user%%password@]portal[:port]/iqn/lun.\n"
           "TYPE is we, ea, wero, earo, wear, eaar (or 1, 3, 5, 6, 7, 8).\n"
           "exit: 0 ok, 1 failed, 2 usage, 3 reservation conflict, 4 droverd unreachable\n");
}

static int
exit_for(int rc)
{
    if (rc == 0) {
        return EXIT_OK;
    }
    if (rc == -DR_E_RESERVATION_CONFLICT) {
        return EXIT_CONFLICT;
    }
    if (rc == -DR_E_DAEMON || rc == -DR_E_PROTOCOL) {
        return EXIT_NO_DAEMON;
    }
    if (rc == -EINVAL || rc == -DR_E_CONFIG) {
        return EXIT_USAGE;
    }
    return EXIT_FAIL;
}

static int
parse_key(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || s[0] == '\0' || s[0] == '-') {
        return -EINVAL;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0') {
        return -EINVAL;
    }
    *out = (uint64_t)v;
    return 0;
}

static int
need_args(int argc, int n, const char *action)
{
    if (argc != n) {
        fprintf(stderr, "drover pr: %s takes %d argument%s\n", action, n, n == 1 ? "" : "s");
        return -EINVAL;
    }
    return 0;
}

static int
print_keys(struct dr_pr_device *dev)
{
    struct dr_pr_keys keys = {0};
    int rc = dr_pr_read_keys(dev, &keys);

    if (rc < 0) {
        return rc;
    }
    printf("generation=%" PRIu32 "\n", keys.generation);
    for (size_t i = 0; i < keys.n_keys; i++) {
        printf("0x%016" PRIx64 "\n", keys.keys[i]);
    }
    dr_pr_keys_free(&keys);
    return 0;
}

static int
print_reservation(struct dr_pr_device *dev)
{
    struct dr_pr_reservation res;
    int rc = dr_pr_read_reservation(dev, &res);

    if (rc < 0) {
        return rc;
    }
    if (res.reserved) {
        printf("reserved key=0x%016" PRIx64 " type=%s scope=%u\n", res.key,
               dr_pr_type_name(res.type), res.scope);
    } else {
        printf("none\n");
    }
    return 0;
}

static int
print_caps(struct dr_pr_device *dev)
{
    struct dr_pr_caps c;
    int rc = dr_pr_report_capabilities(dev, &c);

    if (rc < 0) {
        return rc;
    }
    printf("crh=%d sip_c=%d atp_c=%d ptpl_c=%d ptpl_a=%d tmv=%d types:", c.crh, c.sip_c, c.atp_c,
           c.ptpl_c, c.ptpl_a, c.tmv);
    for (unsigned int t = 1; t <= 8; t++) {
        if (c.type_mask & (1u << t)) {
            printf(" %s", dr_pr_type_name(t));
        }
    }
    printf("\n");
    return 0;
}

static int
print_full_status(struct dr_pr_device *dev)
{
    struct dr_pr_full_status st = {0};
    int rc = dr_pr_read_full_status(dev, &st);

    if (rc < 0) {
        return rc;
    }
    printf("generation=%" PRIu32 "\n", st.generation);
    for (size_t i = 0; i < st.n_entries; i++) {
        const struct dr_pr_full_status_entry *e = &st.entries[i];
        printf("0x%016" PRIx64 " holder=%d type=%s port=%u initiator=%s\n", e->key, e->holder,
               e->holder ? dr_pr_type_name(e->type) : "-", e->rel_tgt_port, e->transport_id);
    }
    dr_pr_full_status_free(&st);
    return 0;
}

static int
arg_key(const char *s, uint64_t *out)
{
    if (parse_key(s, out) < 0) {
        fprintf(stderr, "drover pr: '%s' is not a key (a number, e.g. 0x6472f0940f4e2874)\n", s);
        return -EINVAL;
    }
    return 0;
}

static int
arg_type(const char *s, enum dr_pr_type *out)
{
    if (dr_pr_type_parse(s, out) < 0) {
        fprintf(stderr,
                "drover pr: '%s' is not a reservation type (we, ea, wero, earo, wear, "
                "eaar or 1, 3, 5, 6, 7, 8)\n",
                s);
        return -EINVAL;
    }
    return 0;
}

/*
 * Run one PR action; argv[0] is the action name. With dev == NULL only the arguments are
 * checked, so that a usage error is reported before any device is opened.
 */
static int
pr_action(struct dr_pr_device *dev, int argc, char **argv)
{
    const char *a = argv[0];
    uint64_t k1 = 0, k2 = 0, lba = 0;
    enum dr_pr_type type = DR_PR_TYPE_WRITE_EXCLUSIVE_RO;
    bool preempt_abort = strcmp(a, "preempt-abort") == 0;
    int rc;

    argc--;
    argv++;
    if (strcmp(a, "read-keys") == 0 || strcmp(a, "read-reservation") == 0 ||
        strcmp(a, "caps") == 0 || strcmp(a, "full-status") == 0 || strcmp(a, "clear") == 0 ||
        strcmp(a, "register-ignore") == 0) {
        int want = (strcmp(a, "clear") == 0 || strcmp(a, "register-ignore") == 0) ? 1 : 0;
        rc = need_args(argc, want, a) ?: (want ? arg_key(argv[0], &k1) : 0);
    } else if (strcmp(a, "register") == 0) {
        rc = need_args(argc, 2, a) ?: arg_key(argv[0], &k1) ?: arg_key(argv[1], &k2);
    } else if (strcmp(a, "reserve") == 0 || strcmp(a, "release") == 0) {
        rc = need_args(argc, 2, a) ?: arg_key(argv[0], &k1) ?: arg_type(argv[1], &type);
    } else if (strcmp(a, "preempt") == 0 || preempt_abort) {
        rc = need_args(argc, 3, a) ?: arg_key(argv[0], &k1) ?: arg_key(argv[1], &k2)
                                          ?: arg_type(argv[2], &type);
    } else if (strcmp(a, "probe-write") == 0) {
        rc = argc > 1 ? need_args(argc, 1, a) : 0;
        if (rc == 0 && argc == 1 && (parse_key(argv[0], &lba) < 0 || lba > UINT32_MAX)) {
            fprintf(stderr, "drover pr: '%s' is not a block address (0..%u)\n", argv[0],
                    UINT32_MAX);
            rc = -EINVAL;
        }
    } else {
        fprintf(stderr, "drover pr: unknown action '%s'\n", a);
        rc = -EINVAL;
    }
    if (rc < 0 || dev == NULL) {
        return rc;
    }
    if (strcmp(a, "read-keys") == 0) {
        return print_keys(dev);
    }
    if (strcmp(a, "read-reservation") == 0) {
        return print_reservation(dev);
    }
    if (strcmp(a, "caps") == 0) {
        return print_caps(dev);
    }
    if (strcmp(a, "full-status") == 0) {
        return print_full_status(dev);
    }
    if (strcmp(a, "register") == 0) {
        return dr_pr_register(dev, k1, k2, 0);
    }
    if (strcmp(a, "register-ignore") == 0) {
        return dr_pr_register_ignore(dev, k1, 0);
    }
    if (strcmp(a, "reserve") == 0) {
        return dr_pr_reserve(dev, k1, type);
    }
    if (strcmp(a, "release") == 0) {
        return dr_pr_release(dev, k1, type);
    }
    if (strcmp(a, "clear") == 0) {
        return dr_pr_clear(dev, k1);
    }
    if (strcmp(a, "probe-write") == 0) {
        return dr_pr_probe_write(dev, (uint32_t)lba);
    }
    return dr_pr_preempt(dev, k1, k2, type, preempt_abort);
}

struct dev_opts {
    struct dr_pr_open_opts open;
};

static int
parse_dev_opts(int argc, char **argv, struct dev_opts *o)
{
    static const struct option longopts[] = {
        {"initiator", required_argument, NULL, 'i'},
        {"timeout-ms", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+i:t:", longopts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case 'i':
            o->open.initiator_iqn = optarg;
            break;
        case 't':
            if (parse_key(optarg, &v) || v == 0 || v > 600000) {
                fprintf(stderr, "drover: --timeout-ms needs 1..600000, not '%s'\n", optarg);
                return -EINVAL;
            }
            o->open.timeout_ms = (unsigned int)v;
            break;
        default:
            return -EINVAL;
        }
    }
    return optind;
}

static int
report(const char *what, int rc, struct dr_pr_device *dev)
{
    char desc[200] = "";

    if (rc == 0) {
        return 0;
    }
    if (dev != NULL && rc <= -DR_E_BASE) {
        dr_pr_describe_last(dev, desc, sizeof(desc));
        fprintf(stderr, "drover: %s: %s (%s)\n", what, dr_strerror(rc), desc);
    } else if (rc != -EINVAL) {
        fprintf(stderr, "drover: %s: %s\n", what, dr_strerror(rc));
    }
    return rc;
}

static int
cmd_pr(int argc, char **argv)
{
    struct dev_opts o = {0};
    struct dr_pr_device *dev = NULL;
    int first, rc;

    first = parse_dev_opts(argc, argv, &o);
    if (first < 0) {
        return first;
    }
    /* Options may also follow the action: "pr DEV read-keys --initiator X". */
    argc -= first;
    argv += first;
    if (argc < 2) {
        fprintf(stderr, "drover pr: needs DEVICE and ACTION\n");
        return -EINVAL;
    }
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            int r = parse_dev_opts(argc - i + 1, argv + i - 1, &o);
            if (r < 0) {
                return r;
            }
            argc = i;
            break;
        }
    }
    rc = pr_action(NULL, argc - 1, argv + 1);
    if (rc < 0) {
        return rc;
    }
    rc = dr_pr_open(argv[0], &o.open, &dev);
    if (rc < 0) {
        return report(argv[0], rc, NULL);
    }
    rc = report(argv[1], pr_action(dev, argc - 1, argv + 1), dev);
    dr_pr_close(dev);
    return rc;
}

static int
cmd_keys(int argc, char **argv)
{
    struct dev_opts o = {0};
    int first, worst = 0;

    first = parse_dev_opts(argc, argv, &o);
    if (first < 0) {
        return first;
    }
    if (first >= argc) {
        fprintf(stderr, "drover keys: needs at least one DEVICE\n");
        return -EINVAL;
    }
    for (int i = first; i < argc; i++) {
        struct dr_pr_device *dev = NULL;
        int rc = dr_pr_open(argv[i], &o.open, &dev);

        printf("%s:\n", argv[i]);
        if (rc == 0) {
            rc = report("read keys", print_keys(dev), dev);
        }
        if (rc == 0) {
            rc = report("read reservation", print_reservation(dev), dev);
        }
        dr_pr_close(dev);
        if (rc < 0 && worst == 0) {
            worst = rc;
        }
    }
    return worst;
}

static int
cmd_key(int argc, char **argv)
{
    uint64_t key;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "drover key: needs CLUSTER and NODE\n");
        return -EINVAL;
    }
    rc = dr_pr_key_derive(argv[1], argv[2], &key);
    if (rc < 0) {
        fprintf(stderr, "drover key: cluster and node names must be 1..255 bytes\n");
        return rc;
    }
    printf("0x%016" PRIx64 "\n", key);
    return 0;
}

static int
cmd_status(int argc, char **argv)
{
    const char *ipc = NULL;
    struct dr_daemon_status st;
    int rc;

    if (argc == 3 && strcmp(argv[1], "--ipc") == 0) {
        ipc = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "drover status: takes only --ipc NAME\n");
        return -EINVAL;
    }
    rc = dr_daemon_status(ipc, 2000, &st);
    if (rc < 0) {
        fprintf(stderr, "drover status: droverd: %s\n", dr_strerror(rc));
        return rc;
    }
    printf("node=%s cluster=%s key=0x%016" PRIx64 " state=%s vms_destroyed=%u\n", st.node,
           st.cluster, st.key, dr_daemon_state_name(st.state), st.vms_destroyed);
    for (size_t i = 0; i < st.n_devices; i++) {
        printf("  %s: %s\n", st.devices[i].spec, dr_daemon_state_name(st.devices[i].state));
    }
    return 0;
}

static int
cmd_vm(int argc, char **argv)
{
    const char *ipc = NULL, *dom;
    struct dr_daemon_vm_state st;
    int rc;

    if (argc == 4 && strcmp(argv[1], "--ipc") == 0) {
        ipc = argv[2];
        dom = argv[3];
    } else if (argc == 2) {
        dom = argv[1];
    } else {
        fprintf(stderr, "drover vm: needs [--ipc NAME] DOMAIN\n");
        return -EINVAL;
    }
    rc = dr_daemon_vm_state(ipc, 2000, dom, &st);
    if (rc == -ENOTCONN) {
        fprintf(stderr, "drover vm: droverd has no libvirt connection\n");
        return rc;
    }
    if (rc < 0) {
        fprintf(stderr, "drover vm: droverd: %s\n", dr_strerror(rc));
        return rc;
    }
    if (!st.known) {
        printf("%s: not on this node\n", dom);
    } else {
        printf("%s: %s (libvirt state %d reason %d)\n", dom,
               dr_vm_state_name((enum dr_vm_state)st.state), st.virt_state, st.virt_reason);
    }
    return 0;
}

static int
cmd_probe(int argc, char **argv)
{
    const char *ipc = NULL, *dev;
    int rc;

    if (argc == 4 && strcmp(argv[1], "--ipc") == 0) {
        ipc = argv[2];
        dev = argv[3];
    } else if (argc == 2) {
        dev = argv[1];
    } else {
        fprintf(stderr, "drover probe: needs [--ipc NAME] DEVICE\n");
        return -EINVAL;
    }
    rc = dr_daemon_probe_write(ipc, 5000, dev);
    if (rc == 0) {
        printf("%s: writable\n", dev);
    } else if (rc == -DR_E_RESERVATION_CONFLICT) {
        printf("%s: RESERVATION CONFLICT\n", dev);
    } else {
        fprintf(stderr, "drover probe: %s: %s\n", dev,
                rc == -ENOENT ? "droverd does not hold this device" : dr_strerror(rc));
    }
    return rc;
}

int
main(int argc, char **argv)
{
    unsigned int log_flags = DR_LOG_STDERR;
    int rc;

    if (argc > 1 && strcmp(argv[1], "--debug") == 0) {
        log_flags |= DR_LOG_DEBUG;
        argc--;
        argv++;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    dr_log_init("drover", log_flags, NULL);
    if (strcmp(argv[1], "pr") == 0) {
        rc = cmd_pr(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "keys") == 0) {
        rc = cmd_keys(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "key") == 0) {
        rc = cmd_key(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "status") == 0) {
        rc = cmd_status(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "vm") == 0) {
        rc = cmd_vm(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "probe") == 0) {
        rc = cmd_probe(argc - 1, argv + 1);
    } else {
        fprintf(stderr, "drover: unknown command '%s'\n", argv[1]);
        usage(stderr);
        rc = -EINVAL;
    }
    dr_log_fini();
    return exit_for(rc);
}
