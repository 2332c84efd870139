/*
 * state.c — the snapshot file format (layout at the top of state.h): writing
 * sections field by field with names, types and counts, zlib blobs, and a reader that
 * bounds-checks every length so that a truncated or corrupt file is an error, never a
 * crash. Values are converted to little-endian explicitly, whatever the host.
 */
#include "snapshot/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- writing ---- */

void snap_buf_free(SnapBuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static bool buf_reserve(SnapBuf *b, size_t n)
{
    if (b->oom) return false;
    if (b->cap - b->len >= n) return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void put_le(SnapBuf *b, uint64_t v, unsigned n)
{
    if (!buf_reserve(b, n)) return;
    for (unsigned i = 0; i < n; i++) b->data[b->len++] = (uint8_t)(v >> (8 * i));
}

void snap_put_u8(SnapBuf *b, uint8_t v) { put_le(b, v, 1); }
void snap_put_u16(SnapBuf *b, uint16_t v) { put_le(b, v, 2); }
void snap_put_u32(SnapBuf *b, uint32_t v) { put_le(b, v, 4); }
void snap_put_u64(SnapBuf *b, uint64_t v) { put_le(b, v, 8); }

void snap_put_bytes(SnapBuf *b, const void *p, size_t n)
{
    if (!n || !buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void snap_put_str(SnapBuf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > SNAP_NAME_MAX) n = SNAP_NAME_MAX;
    snap_put_u16(b, (uint16_t)n);
    snap_put_bytes(b, s, n);
}

void snap_begin(SnapBuf *b)
{
    snap_put_bytes(b, SNAP_MAGIC, 8);
    snap_put_u32(b, SNAP_FORMAT_VERSION);
    snap_put_u32(b, 0); /* flags, none defined */
}

void snap_end(SnapBuf *b)
{
    snap_put_u8(b, SNAP_END);
    snap_put_str(b, "");
    snap_put_u64(b, 0);
}

/* Starts a chunk; returns where its payload length must be patched. */
static size_t chunk_begin(SnapBuf *b, char kind, const char *name)
{
    snap_put_u8(b, (uint8_t)kind);
    snap_put_str(b, name);
    size_t at = b->len;
    snap_put_u64(b, 0);
    return at;
}

static void chunk_finish(SnapBuf *b, size_t at)
{
    if (b->oom) return;
    uint64_t n = b->len - at - 8;
    for (unsigned i = 0; i < 8; i++) b->data[at + i] = (uint8_t)(n >> (8 * i));
}

static unsigned type_size(unsigned type)
{
    switch (type) {
    case ST_U8: return 1;
    case ST_U16: return 2;
    case ST_U32: return 4;
    case ST_U64: return 8;
    case ST_BYTES: return 1;
    default: return 0;
    }
}

static const char *type_name(unsigned type)
{
    static const char *const names[] = {"u8", "u16", "u32", "u64", "bytes"};
    return type <= ST_BYTES ? names[type] : "?";
}

void snap_put_section(SnapBuf *b, const char *name, const StateDesc *d, const void *obj)
{
    size_t at = chunk_begin(b, SNAP_SECTION, name);
    uint32_t n = 0;
    for (const StateField *f = d->fields; f->name; f++) n++;
    snap_put_u32(b, (uint32_t)d->version);
    snap_put_u32(b, n);
    const uint8_t *base = obj;
    for (const StateField *f = d->fields; f->name; f++) {
        snap_put_str(b, f->name);
        snap_put_u8(b, f->type);
        snap_put_u32(b, f->count);
        unsigned sz = type_size(f->type);
        const uint8_t *p = base + f->offset;
        if (sz == 1) {
            snap_put_bytes(b, p, f->count);
            continue;
        }
        for (uint32_t i = 0; i < f->count; i++, p += sz) {
            uint64_t v = 0;
            if (sz == 2) {
                uint16_t x;
                memcpy(&x, p, 2);
                v = x;
            } else if (sz == 4) {
                uint32_t x;
                memcpy(&x, p, 4);
                v = x;
            } else {
                memcpy(&v, p, 8);
            }
            put_le(b, v, sz);
        }
    }
    chunk_finish(b, at);
}

int snap_put_blob(SnapBuf *b, const char *name, const void *data, size_t len, char *err,
                  size_t errlen)
{
    size_t at = chunk_begin(b, SNAP_BLOB, name);
    snap_put_u64(b, len);
    uLongf bound = compressBound((uLong)len);
    if (!buf_reserve(b, bound)) {
        snprintf(err, errlen, "out of memory compressing %s", name);
        return -1;
    }
    int r = compress2(b->data + b->len, &bound, data, (uLong)len, Z_BEST_SPEED);
    if (r != Z_OK) {
        snprintf(err, errlen, "compressing %s failed (zlib error %d)", name, r);
        return -1;
    }
    b->len += bound;
    chunk_finish(b, at);
    return 0;
}

/* ---- reading: a cursor that never reads past its end ---- */

typedef struct Cursor {
    const uint8_t *p;
    uint64_t len, pos;
    bool bad;
} Cursor;

static bool cur_has(Cursor *c, uint64_t n)
{
    if (c->bad || c->len - c->pos < n) c->bad = true;
    return !c->bad;
}

static uint64_t cur_le(Cursor *c, unsigned n)
{
    if (!cur_has(c, n)) return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)c->p[c->pos + i] << (8 * i);
    c->pos += n;
    return v;
}

/* Reads a name (u16 length + bytes) into out[SNAP_NAME_MAX + 1]. */
static void cur_name(Cursor *c, char *out)
{
    uint64_t n = cur_le(c, 2);
    if (n > SNAP_NAME_MAX || !cur_has(c, n)) {
        c->bad = true;
        out[0] = 0;
        return;
    }
    memcpy(out, c->p + c->pos, n);
    out[n] = 0;
    c->pos += n;
}

int snap_parse(SnapFile *f, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    if (len < 16 || memcmp(data, SNAP_MAGIC, 8) != 0) {
        snprintf(err, errlen, "not a dbt86 snapshot (bad magic)");
        return -1;
    }
    Cursor c = {data, len, 8, false};
    f->version = (uint32_t)cur_le(&c, 4);
    cur_le(&c, 4); /* flags */
    if (f->version != SNAP_FORMAT_VERSION) {
        snprintf(err, errlen, "snapshot format version %u is not supported (this build: %u)",
                 f->version, SNAP_FORMAT_VERSION);
        return -1;
    }
    unsigned cap = 0;
    for (;;) {
        SnapChunk ch = {0};
        uint64_t start = c.pos;
        ch.kind = (char)cur_le(&c, 1);
        cur_name(&c, ch.name);
        ch.len = cur_le(&c, 8);
        if (c.bad || !cur_has(&c, ch.len)) {
            snprintf(err, errlen, "snapshot truncated or corrupt at byte %llu",
                     (unsigned long long)start);
            snap_file_free(f);
            return -1;
        }
        if (ch.kind == SNAP_END) break;
        if (ch.kind != SNAP_SECTION && ch.kind != SNAP_BLOB) {
            snprintf(err, errlen, "snapshot corrupt: unknown chunk kind 0x%02x at byte %llu",
                     (uint8_t)ch.kind, (unsigned long long)start);
            snap_file_free(f);
            return -1;
        }
        ch.payload = data + c.pos;
        c.pos += ch.len;
        if (f->n_chunks == cap) {
            cap = cap ? cap * 2 : 32;
            SnapChunk *n = realloc(f->chunks, cap * sizeof(*n));
            if (!n) {
                snprintf(err, errlen, "out of memory reading snapshot");
                snap_file_free(f);
                return -1;
            }
            f->chunks = n;
        }
        f->chunks[f->n_chunks++] = ch;
    }
    return 0;
}

void snap_file_free(SnapFile *f)
{
    free(f->chunks);
    f->chunks = NULL;
    f->n_chunks = 0;
}

const SnapChunk *snap_find(const SnapFile *f, char kind, const char *name)
{
    for (unsigned i = 0; i < f->n_chunks; i++)
        if (f->chunks[i].kind == kind && !strcmp(f->chunks[i].name, name)) return &f->chunks[i];
    return NULL;
}

static const StateField *desc_field(const StateDesc *d, const char *name)
{
    for (const StateField *f = d->fields; f->name; f++)
        if (!strcmp(f->name, name)) return f;
    return NULL;
}

static void store_field(const StateField *f, uint8_t *obj, const uint8_t *src)
{
    unsigned sz = type_size(f->type);
    uint8_t *p = obj + f->offset;
    if (sz == 1) {
        memcpy(p, src, f->count);
        return;
    }
    for (uint32_t i = 0; i < f->count; i++, p += sz, src += sz) {
        uint64_t v = 0;
        for (unsigned k = 0; k < sz; k++) v |= (uint64_t)src[k] << (8 * k);
        if (sz == 2) {
            uint16_t x = (uint16_t)v;
            memcpy(p, &x, 2);
        } else if (sz == 4) {
            uint32_t x = (uint32_t)v;
            memcpy(p, &x, 4);
        } else {
            memcpy(p, &v, 8);
        }
    }
}

int snap_load_section(const SnapChunk *ch, const StateDesc *d, void *obj, char *err,
                      size_t errlen)
{
    Cursor c = {ch->payload, ch->len, 0, false};
    uint32_t version = (uint32_t)cur_le(&c, 4);
    uint32_t n = (uint32_t)cur_le(&c, 4);
    (void)version; /* fields are matched by name, whatever the version */
    for (uint32_t i = 0; i < n && !c.bad; i++) {
        char name[SNAP_NAME_MAX + 1];
        cur_name(&c, name);
        unsigned type = (unsigned)cur_le(&c, 1);
        uint64_t count = cur_le(&c, 4);
        unsigned sz = type_size(type);
        if (c.bad) break;
        if (!sz) {
            snprintf(err, errlen, "snapshot corrupt: section %s field %s has unknown type %u",
                     ch->name, name, type);
            return -1;
        }
        if (!cur_has(&c, count * sz)) break;
        const uint8_t *src = c.p + c.pos;
        c.pos += count * sz;
        const StateField *f = desc_field(d, name);
        if (!f) continue; /* a field this build no longer has */
        if (f->type != type || f->count != count) {
            snprintf(err, errlen,
                     "snapshot section %s field %s: file has %s[%llu], this build %s[%u]",
                     ch->name, name, type_name(type), (unsigned long long)count,
                     type_name(f->type), f->count);
            return -1;
        }
        if (obj) store_field(f, obj, src);
    }
    if (c.bad) {
        snprintf(err, errlen, "snapshot corrupt: section %s is truncated", ch->name);
        return -1;
    }
    return 0;
}

uint64_t snap_blob_size(const SnapChunk *ch)
{
    Cursor c = {ch->payload, ch->len, 0, false};
    uint64_t n = cur_le(&c, 8);
    return c.bad ? 0 : n;
}

int snap_load_blob(const SnapChunk *ch, void *dst, size_t len, char *err, size_t errlen)
{
    if (ch->len < 8 || snap_blob_size(ch) != len) {
        snprintf(err, errlen, "snapshot blob %s has %llu bytes, expected %zu", ch->name,
                 (unsigned long long)snap_blob_size(ch), len);
        return -1;
    }
    uLongf out = (uLongf)len;
    int r = uncompress(dst, &out, ch->payload + 8, (uLong)(ch->len - 8));
    if (r != Z_OK || out != len) {
        snprintf(err, errlen, "snapshot corrupt: blob %s does not decompress (zlib error %d)",
                 ch->name, r);
        return -1;
    }
    return 0;
}

/* ---- files ---- */

int snap_write_file(const char *path, const SnapBuf *b, char *err, size_t errlen)
{
    if (b->oom) {
        snprintf(err, errlen, "%s: out of memory building the snapshot", path);
        return -1;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, plen + 8, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    bool ok = fwrite(b->data, 1, b->len, fp) == b->len;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int snap_read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    SnapBuf b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) snap_put_bytes(&b, chunk, n);
    bool rd_err = ferror(fp);
    fclose(fp);
    if (rd_err || b.oom) {
        snprintf(err, errlen, "%s: %s", path, rd_err ? "read error" : "out of memory");
        snap_buf_free(&b);
        return -1;
    }
    *data = b.data;
    *len = b.len;
    return 0;
}
