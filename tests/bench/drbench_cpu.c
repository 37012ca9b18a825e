/* drbench_cpu - wall time and CPU time of one command and all its descendants.
 *
 * Usage: drbench_cpu OUTFILE CMD [ARG...]
 * Runs CMD with this process's stdin, stdout and stderr, waits for it and appends one line
 * "RC WALL_NS USER_US SYS_US" to OUTFILE (RC: the exit code, or 128+signal). Wall time is
 * CLOCK_MONOTONIC from fork to exit; CPU time is the growth of getrusage(RUSAGE_CHILDREN),
 * which covers CMD and every descendant that was waited for (a shell agent's virsh, awk and
 * crm_resource children), but not daemons it talks to (libvirtd, droverd): the benchmark reads
 * those from /proc separately. Exits with CMD's exit code.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

static int64_t
tv_us(const struct timeval *tv)
{
    return (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
}

int
main(int argc, char **argv)
{
    struct rusage r0, r1;
    uint64_t t0, t1;
    pid_t pid;
    int status, rc;
    FILE *out;

    if (argc < 3) {
        fprintf(stderr, "usage: drbench_cpu OUTFILE CMD [ARG...]\n");
        return 125;
    }
    out = fopen(argv[1], "a");
    if (out == NULL) {
        fprintf(stderr, "drbench_cpu: %s: %s\n", argv[1], strerror(errno));
        return 125;
    }
    if (getrusage(RUSAGE_CHILDREN, &r0) != 0) {
        fprintf(stderr, "drbench_cpu: getrusage: %s\n", strerror(errno));
        return 125;
    }
    t0 = now_ns();
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "drbench_cpu: fork: %s\n", strerror(errno));
        return 125;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "drbench_cpu: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "drbench_cpu: waitpid: %s\n", strerror(errno));
            return 125;
        }
    }
    t1 = now_ns();
    if (getrusage(RUSAGE_CHILDREN, &r1) != 0) {
        fprintf(stderr, "drbench_cpu: getrusage: %s\n", strerror(errno));
        return 125;
    }
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(out, "%d %llu %lld %lld\n", rc, (unsigned long long)(t1 - t0),
            (long long)(tv_us(&r1.ru_utime) - tv_us(&r0.ru_utime)),
            (long long)(tv_us(&r1.ru_stime) - tv_us(&r0.ru_stime)));
    if (fclose(out) != 0) {
        fprintf(stderr, "drbench_cpu: %s: %s\n", argv[1], strerror(errno));
        return 125;
    }
    return rc;
}
