/* sg_persist_noabort - run /usr/bin/sg_persist with PREEMPT AND ABORT (-A) turned into
 * PREEMPT (-P).
 *
 * fence_scsi fences with "sg_persist -n -o -A ...", and tgtd rejects PREEMPT AND ABORT
 * (ILLEGAL REQUEST), so fence_scsi off can never succeed against the lab's target. The
 * benchmark gives fence_scsi this program as its sg_persist_path, so that it does what drover
 * falls back on (PREEMPT). It adds one execve per sg_persist call; sgio_scenario.sh measures
 * that cost. Static build for the SG_IO guest.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    (void)argc;
    for (char **a = argv + 1; *a != NULL; a++) {
        if (strcmp(*a, "-A") == 0 || strcmp(*a, "--preempt-abort") == 0) {
            *a = (char *)"-P";
        }
    }
    argv[0] = (char *)"sg_persist";
    execv("/usr/bin/sg_persist", argv);
    perror("sg_persist_noabort: /usr/bin/sg_persist");
    return 127;
}
