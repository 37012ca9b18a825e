/*
 * ioctl() and open() mocks for the SG_IO transport (pr_sgio.c), linked into a test with
 * -Wl,--wrap=ioctl -Wl,--wrap=open. Calls on other requests and paths go to the real libc.
 */
#ifndef DR_TEST_SGIO_MOCK_H
#define DR_TEST_SGIO_MOCK_H

#include <scsi/sg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sgio_mock {
    /* Script. */
    int open_errno;  /* non-zero: open() fails with it */
    int version;     /* SG_GET_VERSION_NUM answer; < 0: the ioctl fails with ENOTTY */
    int sg_io_errno; /* non-zero: SG_IO fails with it */
    uint8_t status;  /* SCSI status byte */
    uint16_t host_status;
    uint16_t driver_status;
    bool resid_set; /* use resid below instead of "what was not transferred" */
    int resid;
    const uint8_t *sense;
    size_t sense_len;
    const uint8_t *data; /* data in */
    size_t data_len;
    /* Record. */
    int last_fd; /* fd returned by the last open() */
    size_t n_sg_io;
    struct sg_io_hdr hdr; /* the last SG_IO header, as submitted */
    uint8_t cdb[16];
    uint8_t out[64]; /* first bytes of the last data out */
};

extern struct sgio_mock sgio_mock;

/* Clear the script and record; SG_GET_VERSION_NUM answers 30527 (sg driver 3.5.27). */
void sgio_mock_reset(void);

#endif
