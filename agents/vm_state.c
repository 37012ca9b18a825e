/* The agent's state file (see vm_state.h): no libvirt, no logging, so the front door links it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vm_state.h"

int
vm_state_path(const char *dir, const char *instance, char *buf, size_t len)
{
    int n;

    if (instance == NULL || instance[0] == '\0' || instance[0] == '.' ||
        strchr(instance, '/') != NULL) {
        return -EINVAL;
    }
    n = snprintf(buf, len, "%s/%s", dir, instance);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A decimal field; 0 (unknown) when it does not parse. */
static unsigned long long
field(const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    return s[0] == '-' || *end != '\0' || errno != 0 ? 0 : v;
}

int
vm_state_read(const char *path, struct vm_state *st)
{
    char cpu[32] = "", mem[32] = "", checked[32] = "";
    FILE *f;
    int n;

    memset(st, 0, sizeof(*st));
    f = fopen(path, "re");
    if (f == NULL) {
        return -errno;
    }
    n = fscanf(f, "%255s %63s %31s %31s %31s", st->name, st->uuid, cpu, mem, checked);
    fclose(f);
    if (n < 1) {
        memset(st, 0, sizeof(*st));
        return -EINVAL;
    }
    if (n < 2 || strcmp(st->uuid, "-") == 0) {
        st->uuid[0] = '\0';
    }
    /* Figures that do not parse, or are missing, mean "not known yet". */
    if (n >= 4) {
        unsigned long long c = field(cpu);

        st->hv_memory_mib = field(mem);
        st->cpu = c <= UINT_MAX ? (unsigned int)c : 0;
        if (st->cpu == 0 || st->hv_memory_mib == 0) {
            st->cpu = 0;
            st->hv_memory_mib = 0;
        }
    }
    if (n >= 5) {
        unsigned long long t = field(checked);

        st->checked_s = t <= INT64_MAX ? (int64_t)t : 0;
    }
    return 0;
}

/* Cut \p path at its last '/' (never the root's): false when there is nothing to cut. */
static bool
cut_last(char *path)
{
    char *slash = strrchr(path, '/');

    if (slash == NULL || slash == path) {
        return false;
    }
    *slash = '\0';
    return true;
}

void
vm_state_mkdir(const char *dir)
{
    char parent[PATH_MAX];

    snprintf(parent, sizeof(parent), "%s", dir);
    if (cut_last(parent)) {
        mkdir(parent, 0755);
    }
    mkdir(dir, 0755);
}

/* Replace \p path by \p line, atomically (a temporary file renamed). */
static int
write_line(const char *path, const char *line)
{
    char tmp[PATH_MAX + 8], dir[PATH_MAX];
    FILE *f;
    int rc = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    if (cut_last(dir)) {
        vm_state_mkdir(dir); /* the first write finds them missing */
    }
    f = fopen(tmp, "we");
    if (f == NULL) {
        return -errno;
    }
    fputs(line, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        rc = -errno;
        unlink(tmp);
    }
    return rc;
}

int
vm_state_write(const char *path, const struct vm_state *st)
{
    char line[512];

    snprintf(line, sizeof(line), "%s %s %u %llu %lld\n", st->name, st->uuid[0] ? st->uuid : "-",
             st->cpu, st->hv_memory_mib, (long long)st->checked_s);
    return write_line(path, line);
}

int
vm_state_migration_path(const char *dir, const char *instance, char *buf, size_t len)
{
    char name[300];

    if (instance == NULL || instance[0] == '\0' || instance[0] == '.' ||
        strchr(instance, '/') != NULL) {
        return -EINVAL;
    }
    if (snprintf(name, sizeof(name), ".migrated-%s", instance) >= (int)sizeof(name)) {
        return -ENAMETOOLONG;
    }
    return snprintf(buf, len, "%s/%s", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

int
vm_state_migration_read(const char *path, struct vm_migration_record *rec)
{
    char since[32] = "";
    unsigned long long t;
    FILE *f;
    int n;

    memset(rec, 0, sizeof(*rec));
    f = fopen(path, "re");
    if (f == NULL) {
        return -errno;
    }
    n = fscanf(f, "%255s %599s %255s %31s", rec->target, rec->uri, rec->source, since);
    fclose(f);
    t = field(since);
    if (n != 4 || t == 0 || t > INT64_MAX) {
        memset(rec, 0, sizeof(*rec));
        return -EINVAL;
    }
    rec->since_s = (int64_t)t;
    return 0;
}

/* A field of a one-line record: not empty, no white space. */
static bool
word(const char *s)
{
    return s[0] != '\0' && strpbrk(s, " \t\n\r\v\f") == NULL;
}

int
vm_state_migration_write(const char *path, const struct vm_migration_record *rec)
{
    char line[1300];

    if (!word(rec->target) || !word(rec->uri) || !word(rec->source) || rec->since_s <= 0) {
        return -EINVAL;
    }
    snprintf(line, sizeof(line), "%s %s %s %lld\n", rec->target, rec->uri, rec->source,
             (long long)rec->since_s);
    return write_line(path, line);
}

int64_t
vm_state_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec;
}

enum vm_state_util
vm_state_utilization(const struct vm_state *st, unsigned int vcpus, unsigned long long memory_mib,
                     unsigned int interval_s, int64_t now_s)
{
    /* Values never set (a failed attempt) wait for the next check, not for the next monitor. */
    if (st->cpu != 0 && vcpus != 0 && memory_mib != 0 &&
        (st->cpu != vcpus || st->hv_memory_mib != memory_mib)) {
        return VM_STATE_UTIL_CHANGED;
    }
    if (st->checked_s <= 0 || st->checked_s > now_s ||
        (interval_s != 0 && now_s - st->checked_s >= (int64_t)interval_s)) {
        return VM_STATE_UTIL_CHECK;
    }
    return VM_STATE_UTIL_OK;
}
