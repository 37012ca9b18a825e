/*
 * dr__pr_dm_slaves: the paths of a device-mapper multipath map, read from a fake sysfs tree.
 * The device path must be a block device (it is stat()ed): the test makes one with mknod(2)
 * (CAP_MKNOD), or else borrows any block device node found in /dev; without either, the
 * block-device cases are skipped and only the early returns are tested.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "pr_internal.h"

struct tree {
    char root[64];             /* temporary directory */
    char sysfs[PATH_MAX];      /* <root>/sys */
    char node[PATH_MAX];       /* a block device node */
    char dmdir[PATH_MAX + 64]; /* <sysfs>/dev/block/M:m */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
mkdir_p(const char *path)
{
    char tmp[PATH_MAX];

    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(tmp, 0755);
            *p = '/';
        }
    }
    assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/*
 * Fill <sysfs>/dev/block/M:m: dm/uuid with uuid, and a slaves/ directory holding the names in
 * the NULL-terminated slaves[] (no slaves/ directory at all if slaves is NULL).
 */
static void
make_dm(const struct tree *t, const char *uuid, const char *const *slaves)
{
    char dir[PATH_MAX + 128];

    snprintf(dir, sizeof(dir), "%s/dm", t->dmdir);
    mkdir_p(dir);
    write_file(dir, "uuid", uuid);
    if (slaves == NULL) {
        return;
    }
    snprintf(dir, sizeof(dir), "%s/slaves", t->dmdir);
    mkdir_p(dir);
    for (size_t i = 0; slaves[i] != NULL; i++) {
        write_file(dir, slaves[i], "");
    }
}

/* A block device node: our own (mknod), or the first one in /dev. */
static bool
find_block_node(struct tree *t, struct stat *st)
{
    snprintf(t->node, sizeof(t->node), "%s/dm-3", t->root);
    if (mknod(t->node, S_IFBLK | 0600, makedev(253, 3)) == 0) {
        return stat(t->node, st) == 0;
    }
    static const char *const candidates[] = {"/dev/vda",   "/dev/sda",     "/dev/loop0",
                                             "/dev/zram0", "/dev/nvme0n1", "/dev/dm-0"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (stat(candidates[i], st) == 0 && S_ISBLK(st->st_mode)) {
            snprintf(t->node, sizeof(t->node), "%s", candidates[i]);
            return true;
        }
    }
    return false;
}

static int
setup(void **state)
{
    struct tree *t = calloc(1, sizeof(*t));
    struct stat st;

    assert_non_null(t);
    snprintf(t->root, sizeof(t->root), "/tmp/drover-dm-XXXXXX");
    assert_non_null(mkdtemp(t->root));
    snprintf(t->sysfs, sizeof(t->sysfs), "%s/sys", t->root);
    if (find_block_node(t, &st)) {
        snprintf(t->dmdir, sizeof(t->dmdir), "%s/dev/block/%u:%u", t->sysfs, major(st.st_rdev),
                 minor(st.st_rdev));
    } else {
        t->node[0] = '\0';
    }
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    struct tree *t = *state;

    nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

static struct tree *
need_block(void **state)
{
    struct tree *t = *state;

    if (t->node[0] == '\0') {
        print_message("no block device node could be made or found; skipping\n");
        skip();
    }
    return t;
}

static void
free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i]);
    }
    free(list);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_not_a_block_device(void **state)
{
    struct tree *t = *state;
    char **list = (char **)t;
    size_t n = 99;

    /* An sg or character node, or a path that does not exist: a single path, no error. */
    assert_int_equal(dr__pr_dm_slaves(t->sysfs, "/dev/null", &list, &n), 0);
    assert_null(list);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(dr__pr_dm_slaves(t->sysfs, "/nonexistent/dm-9", &list, &n), 0);
    assert_int_equal(n, 0);
}

static void
test_block_device_without_dm(void **state)
{
    struct tree *t = need_block(state);
    char **list = NULL;
    size_t n = 99;

    /* A plain sd device has no dm/uuid. */
    assert_int_equal(dr__pr_dm_slaves(t->sysfs, t->node, &list, &n), 0);
    assert_null(list);
    assert_int_equal(n, 0);
}

static void
test_multipath_map(void **state)
{
    static const char *const paths[] = {"sdc", "sdb", NULL};
    struct tree *t = need_block(state);
    char **list = NULL;
    size_t n = 0;

    make_dm(t, "mpath-3600140512345678901234567890abcd\n", paths);
    assert_int_equal(dr__pr_dm_slaves(t->sysfs, t->node, &list, &n), 0);
    assert_int_equal(n, 2);
    qsort(list, n, sizeof(*list), cmp_str);
    assert_string_equal(list[0], "/dev/sdb");
    assert_string_equal(list[1], "/dev/sdc");
    free_list(list, n);
}

static void
test_multipath_map_without_paths(void **state)
{
    static const char *const none[] = {NULL};
    struct tree *t = need_block(state);
    char **list = NULL;
    size_t n = 0;

    make_dm(t, "mpath-36001405aa\n", NULL);
    /* No slaves directory at all: treated as a single path. */
    assert_int_equal(dr__pr_dm_slaves(t->sysfs, t->node, &list, &n), 0);
    assert_int_equal(n, 0);
    /* An empty one: a map that lost every path. */
    make_dm(t, "mpath-36001405aa\n", none);
    assert_int_equal(dr__pr_dm_slaves(t->sysfs, t->node, &list, &n), -ENODEV);
    assert_null(list);
}

static void
test_other_dm_targets_are_refused(void **state)
{
    static const char *const paths[] = {"sdb", NULL};
    struct tree *t = need_block(state);
    char **list = NULL;
    size_t n = 0;

    /* An LVM volume's slaves are not paths to one LUN. */
    make_dm(t, "LVM-abcdef\n", paths);
    assert_int_equal(dr__pr_dm_slaves(t->sysfs, t->node, &list, &n), -ENOTTY);
    assert_null(list);
    assert_int_equal(n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_a_block_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_device_without_dm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipath_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipath_map_without_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_dm_targets_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
