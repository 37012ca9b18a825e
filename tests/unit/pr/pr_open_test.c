/* dr_pr_open / dr_pr_close on device nodes (SG_IO, with ioctl and open wrapped) and URLs. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/pr.h"
#include "sgio_mock.h"

static int
setup(void **state)
{
    (void)state;
    sgio_mock_reset();
    return 0;
}

static bool
fd_is_open(int fd)
{
    return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

static void
test_bad_arguments(void **state)
{
    struct dr_pr_device *dev = (struct dr_pr_device *)state;

    assert_int_equal(dr_pr_open(NULL, NULL, &dev), -EINVAL);
    assert_int_equal(dr_pr_open("", NULL, &dev), -EINVAL);
    assert_int_equal(dr_pr_open("/dev/null", NULL, NULL), -EINVAL);
    assert_ptr_equal(dev, state);
}

static void
test_missing_path(void **state)
{
    struct dr_pr_device *dev = (struct dr_pr_device *)state;

    assert_int_equal(dr_pr_open("/nonexistent/drover-test-disk", NULL, &dev), -ENOENT);
    assert_ptr_equal(dev, state);
}

static void
test_open_refused(void **state)
{
    struct dr_pr_device *dev = (struct dr_pr_device *)state;

    sgio_mock.open_errno = EACCES;
    assert_int_equal(dr_pr_open("/dev/null", NULL, &dev), -EACCES);
    assert_ptr_equal(dev, state);
}

static void
test_not_a_scsi_device(void **state)
{
    struct dr_pr_device *dev = (struct dr_pr_device *)state;

    /* loop, nbd and regular files refuse SG_GET_VERSION_NUM. */
    sgio_mock.version = -1;
    assert_int_equal(dr_pr_open("/dev/null", NULL, &dev), -ENOTTY);
    assert_ptr_equal(dev, state);
    assert_false(fd_is_open(sgio_mock.last_fd));
    /* An sg driver older than version 3 has no SG_IO. */
    sgio_mock.version = 20000;
    assert_int_equal(dr_pr_open("/dev/null", NULL, &dev), -ENOTTY);
    assert_false(fd_is_open(sgio_mock.last_fd));
    assert_int_equal(sgio_mock.n_sg_io, 0);
}

static void
test_open_and_close(void **state)
{
    struct dr_pr_device *dev = NULL;
    int fd;

    (void)state;
    assert_int_equal(dr_pr_open("/dev/null", NULL, &dev), 0);
    assert_non_null(dev);
    fd = sgio_mock.last_fd;
    assert_true(fd_is_open(fd));
    assert_string_equal(dr_pr_spec(dev), "/dev/null");
    /* A character device is one path, never a multipath map. */
    assert_int_equal(dr_pr_path_count(dev), 1);
    assert_true(dr_pr_is_connected(dev));
    assert_int_equal(dr_pr_last_status(dev)->status, 0);
    dr_pr_close(dev);
    assert_false(fd_is_open(fd));
}

static void
test_iscsi_bad_initiator_and_url(void **state)
{
    struct dr_pr_device *dev = (struct dr_pr_device *)state;
    struct dr_pr_open_opts opts = {.initiator_iqn = "node1.example.com"};

    /* Refused before any connection is attempted. */
    assert_int_equal(dr_pr_open("iscsi://127.0.0.1/iqn.2026-11.org.drover:t/0", &opts, &dev),
                     -EINVAL);
    assert_int_equal(dr_pr_open("iscsi://", NULL, &dev), -EINVAL);
    assert_int_equal(dr_pr_open("iscsi://127.0.0.1", NULL, &dev), -EINVAL);
    assert_ptr_equal(dev, state);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_bad_arguments, setup),
        cmocka_unit_test_setup(test_missing_path, setup),
        cmocka_unit_test_setup(test_open_refused, setup),
        cmocka_unit_test_setup(test_not_a_scsi_device, setup),
        cmocka_unit_test_setup(test_open_and_close, setup),
        cmocka_unit_test_setup(test_iscsi_bad_initiator_and_url, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
