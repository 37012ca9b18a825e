/*
 * ocf:drover:vm's front door. Pacemaker runs a recurring monitor of every VM every few seconds;
 * that call must cost a process start and one local round trip, not a libvirt client start-up
 * (libvirt and its ~60 libraries take ~15 ms of CPU just to load). So this executable links only
 * libqb: a recurring monitor whose domain droverd's event-fed cache knows to be running is
 * answered here; everything else (probes, other states, every other action, and a monitor when
 * the resource's utilization is due a look) is handed, with the same arguments and environment,
 * to the full agent (vm-libvirt), which asks libvirt itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "drover/daemon.h"
#include "drover/vm.h"
#include "vm_state.h"

#ifndef DR_VM_AGENT_FULL
#define DR_VM_AGENT_FULL "/usr/libexec/drover/vm-libvirt"
#endif

/* The state file start recorded (vm_state.h); -errno when there is none. */
static int
recorded(struct vm_state *st)
{
    const char *inst = getenv("OCF_RESOURCE_INSTANCE");
    char path[PATH_MAX];

    if (inst == NULL || vm_state_path(VM_STATE_DIR, inst, path, sizeof(path)) < 0) {
        memset(st, 0, sizeof(*st));
        return -ENOENT;
    }
    return vm_state_read(path, st);
}

/* The domain's identity without libvirt or libxml2: `domain`, else what start recorded. */
static int
identity(const struct vm_state *st, bool have_state, char *buf, size_t len)
{
    const char *dom = getenv("OCF_RESKEY_domain");
    const char *conf = getenv("OCF_RESKEY_config");
    const char *id = NULL;

    if (dom != NULL && dom[0] != '\0') {
        id = dom;
    } else if (have_state) {
        /* The UUID when recorded, since names can be reused. */
        id = st->uuid[0] != '\0' ? st->uuid : NULL;
    } else if (conf != NULL && conf[0] == '/') {
        /* Nothing recorded here (never started by this node): droverd reads the config. */
        id = conf;
    }
    if (id == NULL) {
        return -ENOENT;
    }
    return snprintf(buf, len, "%s", id) < (int)len ? 0 : -ENAMETOOLONG;
}

/*
 * Whether the resource's utilization needs the full agent (vm_agent.h): the domain's vCPUs or
 * memory changed since they were set, or utilization_check_interval has passed since the CIB was
 * last checked. Parameters this cannot read are the full agent's to report.
 */
static bool
utilization_due(const struct vm_state *st, bool have_state, const struct dr_daemon_vm_state *vm)
{
    const char *autoset = getenv("OCF_RESKEY_autoset_utilization");
    const char *interval = getenv("OCF_RESKEY_utilization_check_interval");
    const char *inst = getenv("OCF_RESOURCE_INSTANCE");
    unsigned long v = VM_STATE_CHECK_INTERVAL_S;
    char *end;

    if (inst == NULL || inst[0] == '\0') {
        return false; /* no resource to publish for */
    }
    if (autoset != NULL && autoset[0] != '\0') {
        static const char *const no[] = {"0", "false", "no", "off", "n"};
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
            if (strcasecmp(autoset, no[i]) == 0) {
                return false;
            }
        }
    }
    if (interval != NULL && interval[0] != '\0') {
        errno = 0;
        v = strtoul(interval, &end, 10);
        if (interval[0] == '-' || *end != '\0' || errno != 0 || v > UINT_MAX) {
            return true;
        }
    }
    if (!have_state) {
        /* Nothing recorded: not started here by the agent. The probe that found it running
         * (every node probes) published its utilization and wrote the state file. */
        return false;
    }
    return vm_state_utilization(st, vm->vcpus, vm->max_memory_kib / 1024, (unsigned int)v,
                                vm_state_now_s()) != VM_STATE_UTIL_OK;
}

static bool
answered_by_droverd(void)
{
    const char *interval = getenv("OCF_RESKEY_CRM_meta_interval");
    struct dr_daemon_vm_state vm;
    struct vm_state st;
    const char *debug;
    char dom[4096];
    bool have_state;

    /* Probes (interval 0) must ask libvirt: a stale "not running" could start a VM twice. */
    if (interval == NULL || interval[0] == '\0' || strcmp(interval, "0") == 0) {
        return false;
    }
    have_state = recorded(&st) == 0;
    if (identity(&st, have_state, dom, sizeof(dom)) < 0) {
        return false;
    }
    if (dr_daemon_vm_state(NULL, 500, dom, &vm) != 0 || !vm.known ||
        vm.state != DR_VM_STATE_RUNNING) {
        return false;
    }
    /* Pacemaker's convention: HA_debug=1 asks for debug output. */
    debug = getenv("HA_debug");
    if (utilization_due(&st, have_state, &vm)) {
        if (debug != NULL && strcmp(debug, "1") == 0) {
            fprintf(stderr, "drover-vm: %s: running; utilization due, for the full agent\n", dom);
        }
        return false;
    }
    if (debug != NULL && strcmp(debug, "1") == 0) {
        fprintf(stderr, "drover-vm: %s: running, from droverd's cache\n", dom);
    }
    return true;
}

static void
run_full_agent(char **argv)
{
    char self[PATH_MAX], sibling[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    /* In a build tree the full agent sits next to this one; installed, in libexec. */
    if (n > 0) {
        char *slash;

        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(sibling, sizeof(sibling), "%s/vm-libvirt", self);
            if (access(sibling, X_OK) == 0) {
                execv(sibling, argv);
            }
        }
    }
    execv(DR_VM_AGENT_FULL, argv);
    fprintf(stderr, "drover-vm: cannot run %s: %s\n", DR_VM_AGENT_FULL, strerror(errno));
}

int
main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "monitor") == 0 && answered_by_droverd()) {
        return 0; /* OCF_SUCCESS */
    }
    run_full_agent(argv);
    return 5; /* OCF_ERR_INSTALLED: the agent is not installed completely */
}
