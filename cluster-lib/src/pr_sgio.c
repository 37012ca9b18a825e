/*
 * SG_IO transport: PERSISTENT RESERVE commands through the Linux SCSI generic interface on
 * block (sd) and sg device nodes. Registrations made here belong to the host's I_T nexus
 * (the kernel's iSCSI or FC session), not to this process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "drover/error.h"
#include "log_internal.h"
#include "pr_internal.h"

struct sgio_priv {
    int fd;
};

static int
sgio_open(struct dr__pr_path *path, const char *spec, const struct dr_pr_open_opts *opts)
{
    struct sgio_priv *priv;
    int fd, version = 0;

    (void)opts;
    fd = open(spec, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        dr_err("cannot open %s: %s", spec, strerror(errno));
        return rc;
    }
    /* sd and sg both answer SG_GET_VERSION_NUM; loop, nbd, regular files do not. */
    if (ioctl(fd, SG_GET_VERSION_NUM, &version) < 0 || version < 30000) {
        dr_err("%s is not a SCSI device (no SG_IO support)", spec);
        close(fd);
        return -ENOTTY;
    }
    priv = calloc(1, sizeof(*priv));
    if (priv == NULL) {
        close(fd);
        return -ENOMEM;
    }
    priv->fd = fd;
    path->priv = priv;
    return 0;
}

static void
sgio_close(struct dr__pr_path *path)
{
    struct sgio_priv *priv = path->priv;

    close(priv->fd);
    free(priv);
}

static int
sgio_exec(struct dr__pr_path *path, struct dr__scsi_cmd *cmd)
{
    struct sgio_priv *priv = path->priv;
    struct sg_io_hdr io;

    memset(&io, 0, sizeof(io));
    io.interface_id = 'S';
    io.cmdp = (unsigned char *)(uintptr_t)cmd->cdb;
    io.cmd_len = (unsigned char)cmd->cdb_len;
    io.sbp = cmd->sense;
    io.mx_sb_len = sizeof(cmd->sense);
    io.dxferp = cmd->buf;
    io.dxfer_len = (unsigned int)cmd->buf_len;
    io.timeout = path->timeout_ms;
    switch (cmd->dir) {
    case DR__DIR_IN:
        io.dxfer_direction = SG_DXFER_FROM_DEV;
        break;
    case DR__DIR_OUT:
        io.dxfer_direction = SG_DXFER_TO_DEV;
        break;
    case DR__DIR_NONE:
        io.dxfer_direction = SG_DXFER_NONE;
        break;
    }
    if (ioctl(priv->fd, SG_IO, &io) < 0) {
        int rc = -errno;
        dr_err("%s: SG_IO failed: %s", path->name, strerror(errno));
        return rc;
    }
    cmd->status = io.status;
    cmd->sense_len = io.sb_len_wr;
    cmd->xfer_len = (io.resid >= 0 && (size_t)io.resid <= cmd->buf_len)
                        ? cmd->buf_len - (size_t)io.resid
                        : cmd->buf_len;
    if (io.status != 0) {
        /*
         * A SCSI status came back. The kernel also sets DID_NEXUS_FAILURE in the host byte for
         * RESERVATION CONFLICT; the status byte is what counts.
         */
        return 0;
    }
    if (io.host_status != 0) {
        dr_debug("%s: SG_IO host status 0x%x", path->name, io.host_status);
        return io.host_status == 0x03 /* DID_TIME_OUT */ ? -ETIMEDOUT : -DR_E_TRANSPORT;
    }
    if ((io.driver_status & 0x0f) == 0x08 /* DRIVER_SENSE */ && io.sb_len_wr > 0) {
        cmd->status = 0x02;
        return 0;
    }
    if ((io.driver_status & 0x0f) != 0) {
        dr_debug("%s: SG_IO driver status 0x%x", path->name, io.driver_status);
        return (io.driver_status & 0x0f) == 0x06 /* DRIVER_TIMEOUT */ ? -ETIMEDOUT
                                                                      : -DR_E_TRANSPORT;
    }
    return 0;
}

const struct dr_pr_transport dr__pr_sgio_transport = {
    .name = "sgio",
    .open = sgio_open,
    .close = sgio_close,
    .exec = sgio_exec,
    .is_connected = NULL,
};

int
dr__pr_dm_slaves(const char *sysfs_root, const char *dev_path, char ***out, size_t *n)
{
    char dir[PATH_MAX], uuid_path[PATH_MAX], uuid[64] = "";
    struct stat st;
    DIR *d;
    struct dirent *de;
    char **list = NULL;
    size_t count = 0;
    FILE *f;

    *out = NULL;
    *n = 0;
    if (stat(dev_path, &st) != 0 || !S_ISBLK(st.st_mode)) {
        return 0; /* an sg node or not a block device: a single path */
    }
    snprintf(dir, sizeof(dir), "%s/dev/block/%u:%u/slaves", sysfs_root, major(st.st_rdev),
             minor(st.st_rdev));
    /* Only multipath maps: an LVM volume's slaves are not paths to one LUN. */
    snprintf(uuid_path, sizeof(uuid_path), "%s/dev/block/%u:%u/dm/uuid", sysfs_root,
             major(st.st_rdev), minor(st.st_rdev));
    f = fopen(uuid_path, "re");
    if (f == NULL) {
        return 0;
    }
    if (fgets(uuid, sizeof(uuid), f) == NULL) {
        uuid[0] = '\0';
    }
    fclose(f);
    if (strncmp(uuid, "mpath-", 6) != 0) {
        dr_err("%s is a device-mapper device but not a multipath map (uuid %.40s)", dev_path, uuid);
        return -ENOTTY;
    }
    d = opendir(dir);
    if (d == NULL) {
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        char **nl;

        if (de->d_name[0] == '.') {
            continue;
        }
        nl = realloc(list, (count + 1) * sizeof(*list));
        if (nl == NULL) {
            goto nomem;
        }
        list = nl;
        if (asprintf(&list[count], "/dev/%s", de->d_name) < 0) {
            goto nomem;
        }
        count++;
    }
    closedir(d);
    if (count == 0) {
        free(list);
        dr_err("multipath map %s has no paths", dev_path);
        return -ENODEV;
    }
    *out = list;
    *n = count;
    return 0;
nomem:
    closedir(d);
    for (size_t i = 0; i < count; i++) {
        free(list[i]);
    }
    free(list);
    return -ENOMEM;
}
