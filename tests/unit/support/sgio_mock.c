#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>

#include "sgio_mock.h"

int __real_ioctl(int fd, unsigned long request, ...);
int __wrap_ioctl(int fd, unsigned long request, ...);
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);

struct sgio_mock sgio_mock;

void
sgio_mock_reset(void)
{
    memset(&sgio_mock, 0, sizeof(sgio_mock));
    sgio_mock.version = 30527;
    sgio_mock.last_fd = -1;
}

static int
fake_sg_io(struct sg_io_hdr *io)
{
    size_t n = 0;

    sgio_mock.n_sg_io++;
    sgio_mock.hdr = *io;
    if (io->cmdp != NULL && io->cmd_len <= sizeof(sgio_mock.cdb)) {
        memcpy(sgio_mock.cdb, io->cmdp, io->cmd_len);
    }
    if (io->dxfer_direction == SG_DXFER_TO_DEV && io->dxferp != NULL) {
        memcpy(sgio_mock.out, io->dxferp,
               io->dxfer_len < sizeof(sgio_mock.out) ? io->dxfer_len : sizeof(sgio_mock.out));
    }
    if (sgio_mock.sg_io_errno != 0) {
        errno = sgio_mock.sg_io_errno;
        return -1;
    }
    if (io->dxfer_direction == SG_DXFER_FROM_DEV && sgio_mock.data != NULL) {
        n = sgio_mock.data_len < io->dxfer_len ? sgio_mock.data_len : io->dxfer_len;
        memcpy(io->dxferp, sgio_mock.data, n);
    }
    io->resid = sgio_mock.resid_set
                    ? sgio_mock.resid
                    : (io->dxfer_direction == SG_DXFER_FROM_DEV ? (int)(io->dxfer_len - n) : 0);
    io->status = sgio_mock.status;
    io->masked_status = (uint8_t)(sgio_mock.status >> 1);
    io->host_status = sgio_mock.host_status;
    io->driver_status = sgio_mock.driver_status;
    io->sb_len_wr = 0;
    if (sgio_mock.sense_len > 0) {
        size_t s = sgio_mock.sense_len < io->mx_sb_len ? sgio_mock.sense_len : io->mx_sb_len;

        memcpy(io->sbp, sgio_mock.sense, s);
        io->sb_len_wr = (unsigned char)s;
    }
    return 0;
}

int
__wrap_ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (request == SG_GET_VERSION_NUM) {
        if (sgio_mock.version < 0) {
            errno = ENOTTY;
            return -1;
        }
        *(int *)arg = sgio_mock.version;
        return 0;
    }
    if (request == SG_IO) {
        return fake_sg_io(arg);
    }
    return __real_ioctl(fd, request, arg);
}

int
__wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    int fd;

    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;

        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    if (sgio_mock.open_errno != 0) {
        errno = sgio_mock.open_errno;
        return -1;
    }
    fd = __real_open(path, flags, mode);
    sgio_mock.last_fd = fd;
    return fd;
}
