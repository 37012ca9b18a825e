/*
 * fence_drover: SCSI-3 persistent-reservation fencing for Pacemaker's fencer.
 *
 * Input: `key=value` lines on stdin when run without arguments (as the fencer runs it), or the
 * same parameters as options (`-o off -n node2 --devices=...`). Exit codes as fence agents use
 * them: 0 success (status: on), 1 failure, 2 status: off.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drover/error.h"
#include "drover/fence.h"
#include "drover/log.h"
#include "drover/pr.h"

enum {
    FENCE_EXIT_OK = 0,
    FENCE_EXIT_FAIL = 1,
    FENCE_EXIT_OFF = 2,
};

#define STDIN_MAX ((size_t)64 * 1024)

static const char metadata[] =
    "<?xml version=\"1.0\" ?>\n"
    "<resource-agent name=\"fence_drover\" shortdesc=\"Fence agent for SCSI-3 persistent "
    "reservations (drover)\">\n"
    "<longdesc>fence_drover cuts a node off shared storage by removing its SCSI-3 persistent "
    "reservation key from every device (PREEMPT AND ABORT, or PREEMPT where the target lacks it), "
    "then reads the keys back and fails unless the key is gone. Devices are SCSI block devices "
    "(SG_IO; multipath maps act on every path) or iscsi:// URLs (iSCSI-direct through libiscsi, "
    "held by droverd). Keys derive from the cluster name and the node name, so they never drift "
    "when nodes come and go. The fenced node's droverd sees its key vanish and stops its VMs. "
    "Unfencing (on) registers the node and reserves the device if nobody holds it.</longdesc>\n"
    "<parameters>\n"
    "  <parameter name=\"action\" unique=\"0\" required=\"1\">\n"
    "    <getopt mixed=\"-o, --action=[action]\"/>\n"
    "    <content type=\"string\" default=\"off\"/>\n"
    "    <shortdesc lang=\"en\">Fencing action</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"plug\" unique=\"0\" required=\"0\" obsoletes=\"port\">\n"
    "    <getopt mixed=\"-n, --plug=[nodename]\"/>\n"
    "    <content type=\"string\"/>\n"
    "    <shortdesc lang=\"en\">Name of the node to act on</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"port\" unique=\"0\" required=\"0\" deprecated=\"1\">\n"
    "    <getopt mixed=\"--port=[nodename]\"/>\n"
    "    <content type=\"string\"/>\n"
    "    <shortdesc lang=\"en\">Name of the node to act on (old name of plug)</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"nodename\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--nodename=[nodename]\"/>\n"
    "    <content type=\"string\"/>\n"
    "    <shortdesc lang=\"en\">Name of the node to act on, as Pacemaker passes it (the same "
    "as plug)</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"local_node\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--local-node=[nodename]\"/>\n"
    "    <content type=\"string\"/>\n"
    "    <shortdesc lang=\"en\">Name of the node this runs on (default: the short host "
    "name)</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"devices\" unique=\"0\" required=\"1\">\n"
    "    <getopt mixed=\"-d, --devices=[devices]\"/>\n"
    "    <content type=\"string\"/>\n"
    "    <shortdesc lang=\"en\">Comma-separated devices: /dev/... block or sg devices and "
    "iscsi://[user%password@]portal[:port]/target-iqn/lun URLs</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"cluster_name\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--cluster-name=[name]\"/>\n"
    "    <content type=\"string\"/>\n"
    "    <shortdesc lang=\"en\">Cluster name the keys derive from (default: totem.cluster_name "
    "of corosync.conf)</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"corosync_conf\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--corosync-conf=[path]\"/>\n"
    "    <content type=\"string\" default=\"/etc/corosync/corosync.conf\"/>\n"
    "    <shortdesc lang=\"en\">corosync.conf to read the cluster name from</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"initiators\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--initiators=[node=iqn,...]\"/>\n"
    "    <content type=\"string\"/>\n"
    "    <shortdesc lang=\"en\">Node to iSCSI initiator name map for iscsi:// devices, e.g. "
    "node1=iqn.2026-11.org.example:node1,node2=...</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"initiator_prefix\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--initiator-prefix=[prefix]\"/>\n"
    "    <content type=\"string\" default=\"iqn.2026-11.org.drover:\"/>\n"
    "    <shortdesc lang=\"en\">Initiator name of a node not in initiators: prefix followed by "
    "the node name</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"reservation_type\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--reservation-type=[type]\"/>\n"
    "    <content type=\"select\" default=\"wero\">\n"
    "      <option value=\"we\"/><option value=\"ea\"/><option value=\"wero\"/>\n"
    "      <option value=\"earo\"/><option value=\"wear\"/><option value=\"eaar\"/>\n"
    "    </content>\n"
    "    <shortdesc lang=\"en\">Reservation type (default Write Exclusive, Registrants "
    "Only)</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"timeout_ms\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--timeout-ms=[ms]\"/>\n"
    "    <content type=\"integer\" default=\"5000\"/>\n"
    "    <shortdesc lang=\"en\">Timeout for each login and SCSI command, in ms</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"victim_stop_ms\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--victim-stop-ms=[ms]\"/>\n"
    "    <content type=\"integer\" default=\"100\"/>\n"
    "    <shortdesc lang=\"en\">After removing a node's key, wait this long before reporting "
    "success: the fenced node's droverd needs one watch interval plus the time to stop its VMs "
    "(must exceed its --watch-interval-ms plus that time)</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"use_daemon\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--use-daemon=[auto|yes|no]\"/>\n"
    "    <content type=\"string\" default=\"auto\"/>\n"
    "    <shortdesc lang=\"en\">Act through droverd's registered sessions (auto: when it "
    "runs)</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"ipc_name\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"--ipc-name=[name]\"/>\n"
    "    <content type=\"string\" default=\"droverd\"/>\n"
    "    <shortdesc lang=\"en\">droverd's IPC service name</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"verbose\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"-v, --verbose\"/>\n"
    "    <content type=\"boolean\"/>\n"
    "    <shortdesc lang=\"en\">Verbose mode</shortdesc>\n"
    "  </parameter>\n"
    "  <parameter name=\"debug\" unique=\"0\" required=\"0\">\n"
    "    <getopt mixed=\"-D, --debug\"/>\n"
    "    <content type=\"boolean\"/>\n"
    "    <shortdesc lang=\"en\">Log SCSI commands and sense data</shortdesc>\n"
    "  </parameter>\n"
    "</parameters>\n"
    "<actions>\n"
    "  <action name=\"on\" on_target=\"1\" automatic=\"1\"/>\n"
    "  <action name=\"off\"/>\n"
    "  <action name=\"reboot\"/>\n"
    "  <action name=\"status\"/>\n"
    "  <action name=\"list\"/>\n"
    "  <action name=\"monitor\"/>\n"
    "  <action name=\"metadata\"/>\n"
    "  <action name=\"validate-all\"/>\n"
    "</actions>\n"
    "</resource-agent>\n";

static int
read_stdin(char **out, size_t *len)
{
    char *buf = malloc(STDIN_MAX + 1);
    size_t n = 0;

    if (buf == NULL) {
        return -ENOMEM;
    }
    while (n < STDIN_MAX) {
        ssize_t r = read(STDIN_FILENO, buf + n, STDIN_MAX - n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            free(buf);
            return -errno;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    if (n == STDIN_MAX) {
        free(buf);
        return -E2BIG;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static void
list_nodes(const struct dr_fence_args *a)
{
    uint64_t key;

    /* fence-agents' list format: one "plug,alias" line per node. */
    for (size_t i = 0; i < a->n_initiators; i++) {
        if (dr_pr_key_derive(a->cluster_name, a->initiators[i].node, &key) == 0) {
            printf("%s,0x%016" PRIx64 "\n", a->initiators[i].node, key);
        }
    }
    if (a->n_initiators == 0 && dr_pr_key_derive(a->cluster_name, a->local_node, &key) == 0) {
        printf("%s,0x%016" PRIx64 "\n", a->local_node, key);
    }
}

int
main(int argc, char **argv)
{
    struct dr_fence_args a;
    char err[512] = "";
    bool off = false;
    int rc, ex = FENCE_EXIT_FAIL;

    dr_fence_args_init(&a);
    dr_log_init("fence_drover", DR_LOG_STDERR | DR_LOG_SYSLOG, NULL);
    if (argc > 1) {
        rc = dr_fence_args_parse_argv(&a, argc, argv, err, sizeof(err));
    } else {
        char *buf = NULL;
        size_t len = 0;

        rc = read_stdin(&buf, &len);
        if (rc < 0) {
            snprintf(err, sizeof(err), "cannot read parameters from stdin: %s",
                     rc == -E2BIG ? "more than 64 KiB" : strerror(-rc));
        } else {
            rc = dr_fence_args_parse_stdin(&a, buf, len, err, sizeof(err));
        }
        free(buf);
    }
    dr_log_set_debug(a.debug);
    if (rc == 0) {
        rc = dr_fence_args_validate(&a, err, sizeof(err));
    }
    if (rc < 0) {
        /* Parse errors are reported here, once: the parser only fills err. */
        fprintf(stderr, "fence_drover: %s\n", err[0] ? err : dr_strerror(rc));
        goto out;
    }
    switch (a.action) {
    case DR_FENCE_ACTION_METADATA:
        fputs(metadata, stdout);
        ex = FENCE_EXIT_OK;
        goto out;
    case DR_FENCE_ACTION_VALIDATE_ALL:
        ex = FENCE_EXIT_OK;
        goto out;
    case DR_FENCE_ACTION_NONE:
    case DR_FENCE_ACTION_OFF:
    case DR_FENCE_ACTION_ON:
    case DR_FENCE_ACTION_REBOOT:
    case DR_FENCE_ACTION_STATUS:
    case DR_FENCE_ACTION_MONITOR:
    case DR_FENCE_ACTION_LIST:
        break;
    }
    rc = dr_fence_run(&a, &off);
    if (rc < 0) {
        fprintf(stderr, "fence_drover: %s %s failed: %s\n", dr_fence_action_name(a.action),
                a.plug != NULL ? a.plug : "", dr_strerror(rc));
        goto out;
    }
    ex = FENCE_EXIT_OK;
    if (a.action == DR_FENCE_ACTION_STATUS) {
        printf("Status: %s\n", off ? "OFF" : "ON");
        ex = off ? FENCE_EXIT_OFF : FENCE_EXIT_OK;
    } else if (a.action == DR_FENCE_ACTION_LIST) {
        list_nodes(&a);
    } else if (a.action == DR_FENCE_ACTION_OFF || a.action == DR_FENCE_ACTION_REBOOT) {
        printf("Success: %s fenced\n", a.plug);
    } else if (a.action == DR_FENCE_ACTION_ON) {
        printf("Success: %s unfenced\n", a.plug);
    }
out:
    dr_fence_args_free(&a);
    dr_log_fini();
    return ex;
}
