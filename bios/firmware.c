/*
 * firmware.c — loads BIOS and VGA BIOS images with checks that turn a wrong file into
 * a clear one-line error instead of a machine that silently does nothing.
 */
#include "bios/firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int firmware_read_file(const char *path, uint32_t max_size, uint8_t **data, uint32_t *size,
                       char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_size == 0 || (uint64_t)st.st_size > max_size) {
        snprintf(err, errlen, "%s: size %lld is not between 1 and %u bytes", path,
                 (long long)st.st_size, max_size);
        close(fd);
        return -1;
    }
    uint8_t *buf = malloc(st.st_size);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "short read");
            free(buf);
            close(fd);
            return -1;
        }
        got += n;
    }
    close(fd);
    *data = buf;
    *size = st.st_size;
    return 0;
}

int firmware_load_bios(const char *path, uint8_t **data, uint32_t *size, char *err,
                       size_t errlen)
{
    const char *p = path ? path : FIRMWARE_DIR "/" FIRMWARE_BIOS;
    if (firmware_read_file(p, 16u << 20, data, size, err, errlen) < 0) {
        if (!path && errno == ENOENT) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (install Debian's seabios package)");
        }
        return -1;
    }
    if (*size % 0x10000) {
        snprintf(err, errlen, "%s: BIOS size %u is not a multiple of 64 KiB", p, *size);
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}

int firmware_load_vgabios(const char *path, uint8_t **data, uint32_t *size, char *err,
                          size_t errlen)
{
    const char *p = path ? path : FIRMWARE_DIR "/" FIRMWARE_VGABIOS;
    if (firmware_read_file(p, 256u << 10, data, size, err, errlen) < 0) return -1;
    if (*size < 512 || (*data)[0] != 0x55 || (*data)[1] != 0xaa) {
        snprintf(err, errlen, "%s: not an option ROM (no 55 AA signature)", p);
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}
