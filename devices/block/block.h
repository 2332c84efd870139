/*
 * block.h — disk image backends. A BlockDev is an open image of a known size that
 * devices read and write in bytes at an offset; `-snapshot` keeps writes in memory.
 *
 *     BlockDev b; char err[256];
 *     if (blk_open(&b, "disk.img", "raw", false, err, sizeof err)) { puts(err); exit(1); }
 */
#ifndef DBT86_BLOCK_H
#define DBT86_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct BlockDev {
    int fd;            /* host file descriptor, -1 when closed */
    uint64_t size;     /* image size in bytes */
    bool read_only;    /* opened read-only (CD-ROM, readonly=on) */
    bool snapshot;     /* writes go to an in-memory overlay, the file is untouched */
    char *path;        /* for messages */
    uint8_t **overlay; /* unused: the overlay lives in overlay_dir (kept for the contract) */
    uint64_t overlay_pages; /* -snapshot: number of 4 KiB pages held in memory */
    /* -snapshot: two-level page table, one entry per 2 MiB of disk, each NULL or 512
     * pointers to 4 KiB pages (NULL = page not written): a write at the end of a
     * 200 GiB disk costs a few KiB, not a flat table of every page */
    uint8_t ***overlay_dir;
    uint64_t overlay_dir_len;
} BlockDev;

/* Opens `path` as `format` ("raw"; NULL means raw). Returns 0, or -1 with a one-line
 * message naming the file in err. */
int blk_open(BlockDev *b, const char *path, const char *format, bool read_only, bool snapshot,
             char *err, size_t errlen);
void blk_close(BlockDev *b);
/* Returns 0 or -1 (I/O error, or beyond the end). */
int blk_read(BlockDev *b, uint64_t offset, void *buf, size_t len);
int blk_write(BlockDev *b, uint64_t offset, const void *buf, size_t len);

#endif
