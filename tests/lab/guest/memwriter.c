/*
 * memwriter - the lab guest's workload and self-check (tests/lab/guest, built static by
 * lab.sh's lab_guest_build; it also runs on the host for its own check).
 *
 *     memwriter [-m MIB] [-r RATE_MIB_S] [-d DEVICE] [-i BEAT_MS] [-w DISK_MS] [-n PASSES] [-F]
 *
 * Three processes share one page of counters:
 * - the memory writer rewrites MIB MiB, page by page, at RATE MiB/s (0: as fast as it can).
 *   Each page gets (generation, page ^ generation * K, ~that) and, before that, the previous
 *   generation's values are checked. A page that a live migration failed to resend arrives
 *   holding an older generation and counts as an error: QEMU 7.2's TCG dirty-tracking bug
 *   shows up here as errors > 0.
 * - the disk writer (with -d) keeps a sequence number in sector 0 of DEVICE, written with
 *   O_DIRECT and fdatasync() every DISK_MS, and read back before each write: a value it did
 *   not write (another instance of the guest writing the same disk) counts as foreign. It
 *   starts from the number it finds there, so the sequence continues across restarts too.
 * - the parent prints a heartbeat every BEAT_MS on stdout (the serial console):
 *   DRLAB beat=N uptime_ms=U errors=E passes=P rate_mib_s=R seq=S disk_errors=D foreign=F lost=L
 * end (lost: writer processes that died, e.g. killed by the OOM killer). uptime_ms is
 * CLOCK_BOOTTIME: it keeps growing across a live migration and restarts from 0 after a reboot. -n
 * PASSES stops after that many passes of the writer (host self-check); -F then skips one page in
 * pass 2 on purpose, so the final line must report errors=1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE_BYTES 4096
#define PAGE_WORDS (PAGE_SIZE_BYTES / sizeof(uint64_t))
#define SECTOR_BYTES 512
#define PATTERN_K 0x9e3779b97f4a7c15ULL
#define MAX_ERROR_REPORTS 10

/* One writer per field; readers use relaxed atomic loads. */
struct shared {
    uint64_t errors;
    uint64_t passes;
    uint64_t pages_written;
    uint64_t seq;
    uint64_t disk_errors;
    uint64_t foreign;
    uint64_t writer_done;
    uint64_t lost;
};

struct options {
    unsigned long writer_mib;
    double rate_mib_s;
    const char *device;
    unsigned long beat_ms;
    unsigned long disk_ms;
    unsigned long passes;
    int inject_fault;
};

static void
put(uint64_t *field, uint64_t value)
{
    __atomic_store_n(field, value, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *field)
{
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

static uint64_t
now_ms(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void
page_fill(uint64_t *w, uint64_t page, uint64_t generation)
{
    w[0] = generation;
    w[1] = page ^ (generation * PATTERN_K);
    w[PAGE_WORDS - 1] = ~w[1];
}

static int
page_matches(const uint64_t *w, uint64_t page, uint64_t generation)
{
    uint64_t v = page ^ (generation * PATTERN_K);

    return w[0] == generation && w[1] == v && w[PAGE_WORDS - 1] == ~v;
}

static void
memory_writer(const struct options *o, struct shared *sh)
{
    size_t pages = (o->writer_mib << 20) / PAGE_SIZE_BYTES;
    uint64_t *buf;
    uint64_t generation = 0, written = 0, reported = 0, t0;

    buf = mmap(NULL, pages * PAGE_SIZE_BYTES, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buf == MAP_FAILED) {
        printf("DRLAB writer mmap of %lu MiB failed: %s\n", o->writer_mib, strerror(errno));
        fflush(stdout);
        _exit(1);
    }
    t0 = now_ms(CLOCK_MONOTONIC);
    for (;;) {
        generation++;
        for (size_t p = 0; p < pages; p++) {
            uint64_t *w = buf + p * PAGE_WORDS;

            if (generation > 1 && !page_matches(w, p, generation - 1)) {
                put(&sh->errors, get(&sh->errors) + 1);
                if (reported++ < MAX_ERROR_REPORTS) {
                    printf("DRLAB stale page=%zu pass=%" PRIu64 " found=%" PRIu64 "\n", p,
                           generation, w[0]);
                    fflush(stdout);
                }
            }
            if (!(o->inject_fault && generation == 2 && p == 0)) {
                page_fill(w, p, generation);
            }
            written++;
            /* Every MiB: publish, and sleep off any lead over the requested rate. */
            if (written % 256 == 0) {
                put(&sh->pages_written, written);
                if (o->rate_mib_s > 0) {
                    double due_ms = (double)written / 256.0 / o->rate_mib_s * 1000.0;
                    uint64_t elapsed = now_ms(CLOCK_MONOTONIC) - t0;

                    if (due_ms > (double)elapsed) {
                        sleep_ms((uint64_t)due_ms - elapsed);
                    }
                }
            }
        }
        put(&sh->pages_written, written);
        put(&sh->passes, generation);
        if (o->passes != 0 && generation >= o->passes) {
            put(&sh->writer_done, 1);
            _exit(0);
        }
    }
}

static int
sector_io(int fd, void *sector, int write)
{
    ssize_t n = write ? pwrite(fd, sector, SECTOR_BYTES, 0) : pread(fd, sector, SECTOR_BYTES, 0);

    if (n != SECTOR_BYTES) {
        return -1;
    }
    return write ? fdatasync(fd) : 0;
}

static int
sector_seq(const char *sector, uint64_t *seq)
{
    return sscanf(sector, "DRSEQ %" SCNu64, seq) == 1 ? 0 : -1;
}

static void
disk_writer(const struct options *o, struct shared *sh)
{
    char *sector;
    uint64_t seq = 0, found;
    int fd, first = 1;

    fd = open(o->device, O_RDWR | O_DIRECT);
    if (fd < 0 || posix_memalign((void **)&sector, PAGE_SIZE_BYTES, PAGE_SIZE_BYTES) != 0) {
        printf("DRLAB disk open %s failed: %s\n", o->device, strerror(errno));
        fflush(stdout);
        put(&sh->disk_errors, 1);
        _exit(1);
    }
    if (sector_io(fd, sector, 0) == 0 && sector_seq(sector, &found) == 0) {
        seq = found;
    }
    printf("DRLAB disk %s resume seq=%" PRIu64 "\n", o->device, seq);
    fflush(stdout);
    put(&sh->seq, seq);
    for (;;) {
        if (sector_io(fd, sector, 0) != 0) {
            put(&sh->disk_errors, get(&sh->disk_errors) + 1);
        } else if (!first && (sector_seq(sector, &found) != 0 || found != seq)) {
            put(&sh->foreign, get(&sh->foreign) + 1);
        }
        memset(sector, 0, SECTOR_BYTES);
        snprintf(sector, SECTOR_BYTES, "DRSEQ %" PRIu64 "\n", seq + 1);
        if (sector_io(fd, sector, 1) != 0) {
            put(&sh->disk_errors, get(&sh->disk_errors) + 1);
        } else {
            seq++;
            put(&sh->seq, seq);
        }
        first = 0;
        sleep_ms(o->disk_ms);
    }
}

static void
beat(const struct shared *sh, uint64_t n, uint64_t written_before, uint64_t interval_ms)
{
    double mib_s = 0;

    if (interval_ms > 0) {
        mib_s = (double)(get(&sh->pages_written) - written_before) / 256.0 * 1000.0 /
                (double)interval_ms;
    }
    printf("DRLAB beat=%" PRIu64 " uptime_ms=%" PRIu64 " errors=%" PRIu64 " passes=%" PRIu64
           " rate_mib_s=%.0f seq=%" PRIu64 " disk_errors=%" PRIu64 " foreign=%" PRIu64
           " lost=%" PRIu64 " end\n",
           n, now_ms(CLOCK_BOOTTIME), get(&sh->errors), get(&sh->passes), mib_s, get(&sh->seq),
           get(&sh->disk_errors), get(&sh->foreign), get(&sh->lost));
    fflush(stdout);
}

static int
parse_ulong(const char *s, unsigned long *out)
{
    char *end;

    errno = 0;
    *out = strtoul(s, &end, 10);
    return (errno != 0 || end == s || *end != '\0') ? -1 : 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
    unsigned long rate = 0;
    int c;

    *o = (struct options){.writer_mib = 0, .beat_ms = 1000, .disk_ms = 250};
    while ((c = getopt(argc, argv, "m:r:d:i:w:n:F")) != -1) {
        int rc = 0;

        switch (c) {
        case 'm':
            rc = parse_ulong(optarg, &o->writer_mib);
            break;
        case 'r':
            rc = parse_ulong(optarg, &rate);
            o->rate_mib_s = (double)rate;
            break;
        case 'd':
            o->device = optarg;
            break;
        case 'i':
            rc = parse_ulong(optarg, &o->beat_ms);
            break;
        case 'w':
            rc = parse_ulong(optarg, &o->disk_ms);
            break;
        case 'n':
            rc = parse_ulong(optarg, &o->passes);
            break;
        case 'F':
            o->inject_fault = 1;
            break;
        default:
            return -1;
        }
        if (rc != 0) {
            fprintf(stderr, "memwriter: bad value '%s' for -%c\n", optarg, c);
            return -1;
        }
    }
    if (optind != argc || o->beat_ms == 0 || o->disk_ms == 0 ||
        (o->passes != 0 && o->writer_mib == 0)) {
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct options o;
    struct shared *sh;
    pid_t writer = 0, disk = 0;
    uint64_t n = 0, written = 0, last_ms;

    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: memwriter [-m MIB] [-r RATE_MIB_S] [-d DEVICE] [-i BEAT_MS] "
                        "[-w DISK_MS] [-n PASSES] [-F]\n");
        return 2;
    }
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("memwriter: mmap");
        return 1;
    }
    printf("DRLAB start writer_mib=%lu rate_mib_s=%.0f disk=%s beat_ms=%lu\n", o.writer_mib,
           o.rate_mib_s, o.device != NULL ? o.device : "none", o.beat_ms);
    fflush(stdout);
    if (o.writer_mib > 0 && (writer = fork()) == 0) {
        memory_writer(&o, sh);
    }
    if (o.device != NULL && writer >= 0 && (disk = fork()) == 0) {
        disk_writer(&o, sh);
    }
    if (writer < 0 || disk < 0) {
        perror("memwriter: fork");
        return 1;
    }
    last_ms = now_ms(CLOCK_MONOTONIC);
    for (;;) {
        pid_t dead;
        int status;

        if (o.passes != 0 && get(&sh->writer_done)) {
            waitpid(writer, NULL, 0);
            if (disk > 0) {
                kill(disk, SIGTERM);
            }
            beat(sh, ++n, written, 0);
            return 0;
        }
        sleep_ms(o.passes != 0 ? 10 : o.beat_ms);
        while ((dead = waitpid(-1, &status, WNOHANG)) > 0) {
            printf("DRLAB %s writer (pid %d) exited, status 0x%x\n",
                   dead == writer ? "memory" : "disk", (int)dead, (unsigned)status);
            if (!(dead == writer && get(&sh->writer_done))) {
                put(&sh->lost, get(&sh->lost) + 1);
            }
        }
        if (o.passes == 0) {
            uint64_t t = now_ms(CLOCK_MONOTONIC);

            beat(sh, ++n, written, t - last_ms);
            written = get(&sh->pages_written);
            last_ms = t;
        }
    }
}
