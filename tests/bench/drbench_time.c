/* drbench_time - wall time of one command, from fork to exit, on CLOCK_MONOTONIC.
 *
 * Usage: drbench_time OUTFILE CMD [ARG...]
 * Runs CMD with this process's stdin, stdout and stderr, waits for it and appends one line
 * "RC START_NS END_NS ELAPSED_NS" to OUTFILE (RC: the exit code, or 128+signal). Exits with
 * CMD's exit code, so a caller can check the result as if it had run CMD itself.
 * CLOCK_MONOTONIC is shared by all namespaces of the host (the lab has no time namespaces), so
 * END_NS can be compared with drbench_vmgone's timestamps. Static build for the SG_IO guest.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
    uint64_t t0, t1;
    pid_t pid;
    int status, rc;
    FILE *out;

    if (argc < 3) {
        fprintf(stderr, "usage: drbench_time OUTFILE CMD [ARG...]\n");
        return 125;
    }
    out = fopen(argv[1], "a");
    if (out == NULL) {
        fprintf(stderr, "drbench_time: %s: %s\n", argv[1], strerror(errno));
        return 125;
    }
    t0 = now_ns();
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "drbench_time: fork: %s\n", strerror(errno));
        return 125;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "drbench_time: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "drbench_time: waitpid: %s\n", strerror(errno));
            return 125;
        }
    }
    t1 = now_ns();
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(out, "%d %llu %llu %llu\n", rc, (unsigned long long)t0, (unsigned long long)t1,
            (unsigned long long)(t1 - t0));
    if (fclose(out) != 0) {
        fprintf(stderr, "drbench_time: %s: %s\n", argv[1], strerror(errno));
        return 125;
    }
    return rc;
}
