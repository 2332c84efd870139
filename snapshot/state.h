/*
 * state.h — snapshots as data: a growable byte buffer holding a snapshot file (magic,
 * format version, then named chunks), StateDesc-described sections whose fields are
 * matched by name on load, and zlib-compressed blobs (RAM, video memory). Everything
 * on disk is little-endian; the reader checks every length against the file's end.
 * Knows nothing of the machine: callers pass each object with its StateDesc.
 *
 *     SnapBuf b = {0}; snap_begin(&b);
 *     snap_put_section(&b, "pit", &pit_state, &m->pit);
 *     snap_put_blob(&b, "ram", m->ram, m->ram_size);
 *     snap_end(&b);                        // then snap_write_file(path, &b, ...)
 *
 *     SnapFile f; snap_parse(&f, data, len, err, n);
 *     const SnapChunk *c = snap_find(&f, SNAP_SECTION, "pit");
 *     if (c) snap_load_section(c, &pit_state, &m->pit, err, n);
 *
 * The file (all integers little-endian; a name is u16 length + bytes, at most 63):
 *     "DBT86SNP"  u32 format version (1)  u32 flags (0)
 *     chunks: u8 kind ('S' section, 'B' blob, 'E' end)  name  u64 payload length  payload
 *     section payload: u32 state version  u32 field count, then per field:
 *                      name  u8 StateType  u32 count  count * size(type) bytes
 *     blob payload:    u64 uncompressed length  zlib stream (compress2)
 * A reader skips chunks it does not want, and within a section skips fields it does
 * not know, which is what keeps old snapshots loading after descriptors grow.
 */
#ifndef DBT86_SNAPSHOT_STATE_H
#define DBT86_SNAPSHOT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"

#define SNAP_MAGIC "DBT86SNP"
#define SNAP_FORMAT_VERSION 1u
#define SNAP_NAME_MAX 63 /* longest chunk or field name */

/* Chunk kinds (one byte in the file). */
#define SNAP_SECTION 'S' /* a StateDesc section */
#define SNAP_BLOB 'B'    /* a compressed blob */
#define SNAP_END 'E'     /* end of file */

/* A snapshot being written. `oom` is set (and writes stop) if memory runs out. */
typedef struct SnapBuf {
    uint8_t *data;
    size_t len, cap;
    bool oom;
} SnapBuf;

void snap_buf_free(SnapBuf *b);
/* Low-level little-endian writers. */
void snap_put_u8(SnapBuf *b, uint8_t v);
void snap_put_u16(SnapBuf *b, uint16_t v);
void snap_put_u32(SnapBuf *b, uint32_t v);
void snap_put_u64(SnapBuf *b, uint64_t v);
void snap_put_bytes(SnapBuf *b, const void *p, size_t n);
void snap_put_str(SnapBuf *b, const char *s); /* u16 length + bytes */

/* File structure: header, chunks, end marker. */
void snap_begin(SnapBuf *b);
/* One section: the chunk named `name` (often d->name) with d's version and every field
 * of d read from obj. */
void snap_put_section(SnapBuf *b, const char *name, const StateDesc *d, const void *obj);
/* One blob compressed with zlib (compress2). Returns 0, or -1 with err filled. */
int snap_put_blob(SnapBuf *b, const char *name, const void *data, size_t len, char *err,
                  size_t errlen);
void snap_end(SnapBuf *b);

/* A chunk of a parsed file; payload points into the file's bytes. */
typedef struct SnapChunk {
    char kind;
    char name[SNAP_NAME_MAX + 1];
    const uint8_t *payload;
    uint64_t len;
} SnapChunk;

typedef struct SnapFile {
    uint32_t version;   /* format version from the header */
    SnapChunk *chunks;
    unsigned n_chunks;
} SnapFile;

/* Parses the header and the chunk list (not the chunks' contents). The data must stay
 * alive while f is used. Returns 0, or -1 with a one-line message. */
int snap_parse(SnapFile *f, const uint8_t *data, size_t len, char *err, size_t errlen);
void snap_file_free(SnapFile *f);
const SnapChunk *snap_find(const SnapFile *f, char kind, const char *name);

/* Loads a section into obj, matching fields by name: a field of d absent from the file
 * keeps its current value, a field of the file unknown to d is skipped, a field whose
 * type or count differs is an error naming the section and field. With obj == NULL
 * only checks. Returns 0, or -1 with a one-line message. */
int snap_load_section(const SnapChunk *c, const StateDesc *d, void *obj, char *err,
                      size_t errlen);
/* Decompresses a blob into dst, which must be exactly `len` bytes as recorded in the
 * file. Returns 0, or -1 with a one-line message. */
int snap_load_blob(const SnapChunk *c, void *dst, size_t len, char *err, size_t errlen);
/* The uncompressed size a blob declares (0 if the chunk is too short). */
uint64_t snap_blob_size(const SnapChunk *c);

/* Whole-file helpers. snap_write_file writes atomically (temporary file + rename). */
int snap_write_file(const char *path, const SnapBuf *b, char *err, size_t errlen);
/* Reads a whole file into a malloc'ed buffer. */
int snap_read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen);

#endif
