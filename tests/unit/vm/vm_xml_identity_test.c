/*
 * dr_vm_xml_identity and dr_vm_define_file on good, bad and unreadable files. open() is wrapped
 * so that "permission denied" can be tested as root too.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_capture.h"

#define DENIED "/nonexistent-dir/denied.xml"

int __wrap_open(const char *path, int flags, ...);
int __real_open(const char *path, int flags, ...);

int
__wrap_open(const char *path, int flags, ...)
{
    if (strcmp(path, DENIED) == 0) {
        errno = EACCES;
        return -1;
    }
    return __real_open(path, flags);
}

static char path[64];

static void
write_xml(const char *text)
{
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/dr-vm-xml-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
cleanup(void **state)
{
    (void)state;
    if (path[0] != '\0') {
        unlink(path);
        path[0] = '\0';
    }
    return 0;
}

static void
test_good(void **state)
{
    char name[256], uuid[37];

    (void)state;
    write_xml("<?xml version='1.0'?>\n<domain type='kvm'>\n  <name> web1 </name>\n"
              "  <uuid>6695EB01F6A4830479AA97F2502E193F</uuid>\n"
              "  <devices><disk><name>not this</name></disk></devices>\n</domain>\n");
    assert_int_equal(dr_vm_xml_identity(path, name, sizeof(name), uuid, sizeof(uuid)), 0);
    assert_string_equal(name, "web1");
    assert_string_equal(uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
}

static void
test_no_uuid(void **state)
{
    char name[256], uuid[37] = "x";

    (void)state;
    write_xml("<domain type='qemu'><name>db</name><memory>1024</memory></domain>");
    assert_int_equal(dr_vm_xml_identity(path, name, sizeof(name), uuid, sizeof(uuid)), 0);
    assert_string_equal(name, "db");
    assert_string_equal(uuid, "");
}

static void
test_bad(void **state)
{
    static const char *const bad[] = {
        "<domain><name>x</name>",                                             /* not well-formed */
        "<network><name>x</name></network>",                                  /* not a domain */
        "<domain><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid></domain>", /* no name */
        "<domain><name>  </name></domain>",                                   /* empty name */
        "<domain><name>x</name><uuid>not-a-uuid</uuid></domain>",
        "<domain><name>x</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f00</uuid></domain>",
        "",
    };
    char name[256] = "keep", uuid[37] = "keep";

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_xml(bad[i]);
        log_capture_reset();
        if (dr_vm_xml_identity(path, name, sizeof(name), uuid, sizeof(uuid)) != -EINVAL) {
            fail_msg("case %zu accepted", i);
        }
        assert_int_equal(log_capture_count(LOG_ERR, path), 1);
        cleanup(NULL);
    }
    assert_string_equal(name, "keep"); /* out written only on success */
    assert_string_equal(uuid, "keep");
}

static void
test_small_buffers(void **state)
{
    char name[4], uuid[37];

    (void)state;
    write_xml("<domain><name>longname</name></domain>");
    assert_int_equal(dr_vm_xml_identity(path, name, sizeof(name), uuid, sizeof(uuid)), -ERANGE);
    assert_int_equal(dr_vm_xml_identity(path, name, sizeof(name), uuid, 36), -EINVAL);
    assert_int_equal(dr_vm_xml_identity(NULL, name, sizeof(name), uuid, sizeof(uuid)), -EINVAL);
}

static void
test_unreadable(void **state)
{
    char name[256], uuid[37];

    (void)state;
    log_capture_reset();
    assert_int_equal(
        dr_vm_xml_identity("/nonexistent-dir/vm.xml", name, sizeof(name), uuid, sizeof(uuid)),
        -ENOENT);
    assert_int_equal(log_capture_count(LOG_ERR, "/nonexistent-dir/vm.xml"), 1);
    assert_int_equal(dr_vm_xml_identity(DENIED, name, sizeof(name), uuid, sizeof(uuid)), -EACCES);
    assert_int_equal(dr_vm_xml_identity("/tmp", name, sizeof(name), uuid, sizeof(uuid)), -EINVAL);
}

static void
test_define_file(void **state)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;

    (void)state;
    assert_int_equal(dr_vm_conn_open("test:///default", &conn), 0);
    log_capture_reset();
    assert_int_equal(dr_vm_define_file(conn, "/nonexistent-dir/vm.xml", &vm), -ENOENT);
    assert_int_equal(log_capture_count(LOG_ERR, "/nonexistent-dir/vm.xml"), 1);
    assert_int_equal(dr_vm_define_file(conn, DENIED, &vm), -EACCES);
    assert_int_equal(dr_vm_define_file(NULL, DENIED, &vm), -EINVAL);
    assert_null(vm);

    write_xml("<domain type='test'><name>fresh</name>"
              "<uuid>11111111-2222-3333-4444-555555555555</uuid>"
              "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
              "<os><type>hvm</type></os></domain>");
    assert_int_equal(dr_vm_define_file(conn, path, &vm), 0);
    assert_int_equal(dr_vm_get_info(vm, &info), 0);
    assert_string_equal(info.name, "fresh");
    assert_string_equal(info.uuid, "11111111-2222-3333-4444-555555555555");
    assert_int_equal(info.state, DR_VM_STATE_SHUTOFF);
    assert_true(info.persistent);
    assert_int_equal(info.memory_kib, 65536);
    assert_int_equal(dr_vm_start(vm), 0);
    assert_int_equal(dr_vm_get_info(vm, &info), 0);
    assert_int_equal(info.state, DR_VM_STATE_RUNNING);
    dr_vm_free(vm);
    dr_vm_conn_close(conn);
}

/* Defines the domain of path again: it keeps UUID and is in STATE. */
static void
redefine_check(struct dr_vm_conn *conn, const char *uuid, enum dr_vm_state state)
{
    struct dr_vm *vm = NULL;
    struct dr_vm_info info;

    assert_int_equal(dr_vm_define_file(conn, path, &vm), 0);
    assert_int_equal(dr_vm_get_info(vm, &info), 0);
    assert_string_equal(info.uuid, uuid);
    assert_int_equal(info.state, state);
    if (state == DR_VM_STATE_RUNNING) {
        assert_int_equal(dr_vm_stop(vm, 1000, true), 0);
    }
    dr_vm_free(vm);
}

/* An XML without <uuid> defines the domain again under the UUID it has (libvirt would refuse
 * the random UUID it makes up for such an XML: "already exists with uuid"), running or not. */
static void
test_define_file_no_uuid_again(void **state)
{
    struct dr_vm_conn *conn = NULL;
    struct dr_vm *vm = NULL;
    struct dr_vm_info first;

    (void)state;
    assert_int_equal(dr_vm_conn_open("test:///default", &conn), 0);
    write_xml("<domain type='test'><name>nouuid</name>"
              "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
              "<os><type>hvm</type></os></domain>");
    assert_int_equal(dr_vm_define_file(conn, path, &vm), 0);
    assert_int_equal(dr_vm_get_info(vm, &first), 0);
    assert_int_equal(dr_vm_start(vm), 0);
    dr_vm_free(vm);
    redefine_check(conn, first.uuid, DR_VM_STATE_RUNNING); /* and stops it */
    redefine_check(conn, first.uuid, DR_VM_STATE_SHUTOFF);
    dr_vm_conn_close(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_good, cleanup),
        cmocka_unit_test_teardown(test_no_uuid, cleanup),
        cmocka_unit_test_teardown(test_bad, cleanup),
        cmocka_unit_test_teardown(test_small_buffers, cleanup),
        cmocka_unit_test_teardown(test_unreadable, cleanup),
        cmocka_unit_test_teardown(test_define_file, cleanup),
        cmocka_unit_test_teardown(test_define_file_no_uuid_again, cleanup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
