/*
 * ocf:drover:vm's front door. Pacemaker runs a recurring monitor of every VM every few seconds;
 * that call must cost a process start and one local round trip, not a libvirt client start-up
 * (libvirt and its ~60 libraries take ~15 ms of CPU just to load). So this executable links only
 * libqb: a recurring monitor whose domain droverd's event-fed cache knows to be running is
 * answered here; everything else (probes, other states, every other action) is handed, with the
 * same arguments and environment, to the full agent (vm-libvirt), which asks libvirt itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drover/daemon.h"
#include "drover/vm.h"

#ifndef DR_VM_AGENT_FULL
#define DR_VM_AGENT_FULL "/usr/libexec/drover/vm-libvirt"
#endif
#define STATE_DIR "/run/drover/vm"

/* The domain's identity without libvirt or libxml2: `domain`, else what start recorded. */
static int
identity(char *buf, size_t len)
{
    const char *dom = getenv("OCF_RESKEY_domain");
    const char *inst = getenv("OCF_RESOURCE_INSTANCE");
    char path[PATH_MAX], line[600];
    char *uuid, *end;
    FILE *f;
    int n;

    const char *conf = getenv("OCF_RESKEY_config");

    if (dom != NULL && dom[0] != '\0') {
        return snprintf(buf, len, "%s", dom) < (int)len ? 0 : -ENAMETOOLONG;
    }
    if (inst == NULL || inst[0] == '\0' || strchr(inst, '/') != NULL) {
        return -ENOENT;
    }
    snprintf(path, sizeof(path), "%s/%s", STATE_DIR, inst);
    f = fopen(path, "re");
    if (f == NULL && conf != NULL && conf[0] == '/') {
        /* Nothing recorded here (never started by this node): droverd reads the config. */
        return snprintf(buf, len, "%s", conf) < (int)len ? 0 : -ENAMETOOLONG;
    }
    if (f == NULL) {
        return -errno;
    }
    /* "NAME UUID ...": the UUID when recorded, since names can be reused. */
    n = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!n) {
        return -ENOENT;
    }
    uuid = line + strcspn(line, " \n");
    uuid += strspn(uuid, " ");
    end = uuid + strcspn(uuid, " \n");
    *end = '\0';
    if (uuid[0] == '\0' || strcmp(uuid, "-") == 0) {
        return -ENOENT;
    }
    return snprintf(buf, len, "%s", uuid) < (int)len ? 0 : -ENAMETOOLONG;
}

static bool
answered_by_droverd(void)
{
    const char *interval = getenv("OCF_RESKEY_CRM_meta_interval");
    struct dr_daemon_vm_state st;
    const char *debug;
    char dom[4096];

    /* Probes (interval 0) must ask libvirt: a stale "not running" could start a VM twice. */
    if (interval == NULL || interval[0] == '\0' || strcmp(interval, "0") == 0) {
        return false;
    }
    if (identity(dom, sizeof(dom)) < 0) {
        return false;
    }
    if (dr_daemon_vm_state(NULL, 500, dom, &st) != 0 || !st.known ||
        st.state != DR_VM_STATE_RUNNING) {
        return false;
    }
    /* Pacemaker's convention: HA_debug=1 asks for debug output. */
    debug = getenv("HA_debug");
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
