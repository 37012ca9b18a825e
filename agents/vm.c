/*
 * ocf:drover:vm: the OCF resource agent for a VM. Pacemaker runs it as
 * `vm ACTION` with the parameters in OCF_RESKEY_* variables; exit codes are OCF's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "drover/log.h"
#include "vm_agent.h"

static const char *
from_env(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int
main(int argc, char **argv)
{
    struct vm_agent a;
    char err[512] = "";
    const char *action = argc > 1 ? argv[1] : "";
    const char *debug;
    int rc;

    if (argc != 2) {
        fprintf(stderr,
                "usage: %s {start|stop|monitor|migrate_to|migrate_from|validate-all|"
                "meta-data|reload|reload-agent}\n",
                argv[0]);
        return OCF_ERR_ARGS;
    }
    if (strcmp(action, "meta-data") == 0) {
        fputs(vm_agent_metadata(), stdout);
        return OCF_SUCCESS;
    }
    dr_log_init("drover-vm", DR_LOG_STDERR | DR_LOG_SYSLOG, NULL);
    /* Pacemaker's convention: HA_debug=1 in the agent's environment asks for debug logs. */
    debug = getenv("HA_debug");
    dr_log_set_debug(debug != NULL && strcmp(debug, "1") == 0);
    if (!vm_agent_action_known(action)) {
        dr_log_printf(LOG_ERR, "unknown action '%s'", action);
        dr_log_fini();
        return OCF_ERR_UNIMPLEMENTED;
    }
    rc = vm_agent_parse(&a, from_env, NULL, err, sizeof(err));
    if (rc != OCF_SUCCESS) {
        /*
         * Even for stop: with parameters it cannot read, the agent cannot tell whether the VM
         * still runs, and "stopped" could let Pacemaker start it a second time elsewhere.
         * Failing the stop lets the cluster fence this node instead: the VM is then gone.
         */
        dr_log_printf(LOG_ERR, "%s: %s", action, err);
        dr_log_fini();
        return rc;
    }
    rc = vm_agent_run(&a, action);
    dr_log_fini();
    return rc;
}
