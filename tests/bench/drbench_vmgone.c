/* drbench_vmgone - the moment a libvirt host has no running domain left.
 *
 * Usage: drbench_vmgone URI INTERVAL_MS TIMEOUT_MS
 * Connects to URI, prints "ready" once it has seen at least one running domain, then polls
 * virConnectNumOfDomains() every INTERVAL_MS. When the count drops to 0 it prints
 * "gone MONOTONIC_NS" and exits 0; after TIMEOUT_MS it prints "timeout" and exits 1.
 * A poll is one RPC to libvirtd (about 0.1-0.3 ms on the lab's UNIX socket), so the moment it
 * reports lies at most INTERVAL_MS plus one round trip after the domain went away.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

int
main(int argc, char **argv)
{
    virConnectPtr conn;
    struct timespec pause;
    uint64_t deadline;
    long interval_ms, timeout_ms;
    int n, rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: drbench_vmgone URI INTERVAL_MS TIMEOUT_MS\n");
        return 2;
    }
    interval_ms = strtol(argv[2], NULL, 10);
    timeout_ms = strtol(argv[3], NULL, 10);
    if (interval_ms < 1 || timeout_ms < 1) {
        fprintf(stderr, "drbench_vmgone: INTERVAL_MS and TIMEOUT_MS must be positive\n");
        return 2;
    }
    virSetErrorFunc(NULL, quiet);
    conn = virConnectOpen(argv[1]);
    if (conn == NULL) {
        fprintf(stderr, "drbench_vmgone: cannot connect to %s\n", argv[1]);
        return 2;
    }
    pause.tv_sec = interval_ms / 1000;
    pause.tv_nsec = (interval_ms % 1000) * 1000000L;
    deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
    /* Report "ready" only when the VM is seen running, so a caller never measures from a
     * state in which the VM was not there to begin with. */
    while ((n = virConnectNumOfDomains(conn)) == 0 && now_ns() < deadline) {
        nanosleep(&pause, NULL);
    }
    if (n > 0) {
        printf("ready\n");
        fflush(stdout);
        while (now_ns() < deadline) {
            n = virConnectNumOfDomains(conn);
            if (n == 0) {
                printf("gone %llu\n", (unsigned long long)now_ns());
                rc = 0;
                break;
            }
            nanosleep(&pause, NULL);
        }
    }
    if (rc != 0) {
        printf("timeout\n");
    }
    fflush(stdout);
    virConnectClose(conn);
    return rc;
}
