/*
 * raw.c — raw disk images: the file is the disk, byte for byte. Reads and writes are
 * pread/pwrite at the guest's offset. In snapshot mode the file is opened read-only
 * and writes land in an in-memory overlay of 4 KiB pages, allocated on first write
 * (the page is filled from the file first) and consulted by every later read; a
 * two-level page table keeps the bookkeeping proportional to what was written.
 */
#include "devices/block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OVERLAY_PAGE 4096u
#define OVERLAY_CHUNK 512u /* pages per overlay directory entry (2 MiB) */

/* Whole-buffer pread: retries on EINTR and short counts; hitting the end of the file
 * early (it shrank under us) is an error. */
static int read_full(int fd, uint64_t offset, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return -1;
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_full(int fd, uint64_t offset, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return -1;
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int open_fail(BlockDev *b, char *err, size_t errlen, const char *path, const char *why)
{
    if (err && errlen) snprintf(err, errlen, "%s: %s", path, why);
    blk_close(b);
    return -1;
}

int blk_open(BlockDev *b, const char *path, const char *format, bool read_only, bool snapshot,
             char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    b->fd = -1;
    if (!path || !*path) return open_fail(b, err, errlen, "(none)", "no image file given");
    if (format && strcmp(format, "raw") != 0) {
        char why[96];
        snprintf(why, sizeof why, "unsupported format '%s'", format);
        return open_fail(b, err, errlen, path, why);
    }
    b->read_only = read_only;
    b->snapshot = snapshot;
    b->path = strdup(path);
    if (!b->path) return open_fail(b, err, errlen, path, strerror(ENOMEM));

    /* -snapshot never writes the file, so a read-only file is good enough */
    int flags = (read_only || snapshot ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    b->fd = open(path, flags);
    if (b->fd < 0) return open_fail(b, err, errlen, path, strerror(errno));

    struct stat st;
    if (fstat(b->fd, &st) < 0) return open_fail(b, err, errlen, path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return open_fail(b, err, errlen, path, strerror(EISDIR));
    if (S_ISREG(st.st_mode)) {
        b->size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(b->fd, 0, SEEK_END);
        if (end < 0) return open_fail(b, err, errlen, path, strerror(errno));
        b->size = (uint64_t)end;
    } else {
        return open_fail(b, err, errlen, path, "not a regular file or block device");
    }
    /* an image that opens but cannot be read (a dead device, EIO) is reported now
     * rather than as disk errors in the guest */
    if (b->size) {
        uint8_t probe[512];
        if (read_full(b->fd, 0, probe, sizeof probe) < 0)
            return open_fail(b, err, errlen, path, errno ? strerror(errno) : "cannot read");
    }
    if (b->size % 512) {
        char why[96];
        snprintf(why, sizeof why, "image size %llu is not a multiple of 512 bytes",
                 (unsigned long long)b->size);
        return open_fail(b, err, errlen, path, why);
    }
    return 0;
}

void blk_close(BlockDev *b)
{
    if (b->fd >= 0) close(b->fd);
    b->fd = -1;
    for (uint64_t i = 0; i < b->overlay_dir_len; i++) {
        if (!b->overlay_dir[i]) continue;
        for (unsigned j = 0; j < OVERLAY_CHUNK; j++) free(b->overlay_dir[i][j]);
        free(b->overlay_dir[i]);
    }
    free(b->overlay_dir);
    b->overlay_dir = NULL;
    b->overlay_dir_len = 0;
    b->overlay = NULL;
    b->overlay_pages = 0;
    free(b->path);
    b->path = NULL;
}

static bool in_range(const BlockDev *b, uint64_t offset, size_t len)
{
    return offset <= b->size && len <= b->size - offset;
}

/* The overlay page holding `page`, or NULL if that page was never written. */
static uint8_t *overlay_page(const BlockDev *b, uint64_t page)
{
    uint64_t dir = page / OVERLAY_CHUNK;
    if (dir >= b->overlay_dir_len || !b->overlay_dir[dir]) return NULL;
    return b->overlay_dir[dir][page % OVERLAY_CHUNK];
}

int blk_read(BlockDev *b, uint64_t offset, void *buf, size_t len)
{
    if (b->fd < 0 || !in_range(b, offset, len)) return -1;
    if (!b->overlay_pages) return read_full(b->fd, offset, buf, len);
    uint8_t *out = buf;
    while (len) {
        uint64_t page = offset / OVERLAY_PAGE;
        size_t in_page = OVERLAY_PAGE - (size_t)(offset % OVERLAY_PAGE);
        size_t n = len < in_page ? len : in_page;
        const uint8_t *ov = overlay_page(b, page);
        if (ov) {
            memcpy(out, ov + offset % OVERLAY_PAGE, n);
        } else {
            /* read a run of pages that are all still in the file in one go */
            while (n < len && !overlay_page(b, (offset + n) / OVERLAY_PAGE))
                n += len - n < OVERLAY_PAGE ? len - n : OVERLAY_PAGE;
            if (read_full(b->fd, offset, out, n) < 0) return -1;
        }
        out += n;
        offset += n;
        len -= n;
    }
    return 0;
}

/* Overlay page for a write, created from the file's contents on first use. */
static uint8_t *overlay_get(BlockDev *b, uint64_t page)
{
    uint64_t dir = page / OVERLAY_CHUNK;
    if (!b->overlay_dir) {
        uint64_t pages = (b->size + OVERLAY_PAGE - 1) / OVERLAY_PAGE;
        uint64_t len = (pages + OVERLAY_CHUNK - 1) / OVERLAY_CHUNK;
        b->overlay_dir = calloc(len, sizeof(*b->overlay_dir));
        if (!b->overlay_dir) return NULL;
        b->overlay_dir_len = len;
    }
    if (dir >= b->overlay_dir_len) return NULL;
    if (!b->overlay_dir[dir]) {
        b->overlay_dir[dir] = calloc(OVERLAY_CHUNK, sizeof(uint8_t *));
        if (!b->overlay_dir[dir]) return NULL;
    }
    uint8_t **slot = &b->overlay_dir[dir][page % OVERLAY_CHUNK];
    if (!*slot) {
        uint8_t *p = calloc(1, OVERLAY_PAGE);
        if (!p) return NULL;
        uint64_t start = page * OVERLAY_PAGE;
        size_t n = b->size - start < OVERLAY_PAGE ? (size_t)(b->size - start) : OVERLAY_PAGE;
        if (read_full(b->fd, start, p, n) < 0) {
            free(p);
            return NULL;
        }
        *slot = p;
        b->overlay_pages++;
    }
    return *slot;
}

int blk_write(BlockDev *b, uint64_t offset, const void *buf, size_t len)
{
    if (b->fd < 0 || b->read_only || !in_range(b, offset, len)) return -1;
    if (!b->snapshot) return write_full(b->fd, offset, buf, len);
    const uint8_t *in = buf;
    while (len) {
        uint64_t page = offset / OVERLAY_PAGE;
        size_t in_page = OVERLAY_PAGE - (size_t)(offset % OVERLAY_PAGE);
        size_t n = len < in_page ? len : in_page;
        uint8_t *ov = overlay_get(b, page);
        if (!ov) return -1;
        memcpy(ov + offset % OVERLAY_PAGE, in, n);
        in += n;
        offset += n;
        len -= n;
    }
    return 0;
}
