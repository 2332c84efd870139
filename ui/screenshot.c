/*
 * screenshot.c — PNG and text screenshots. The PNG is the simplest valid one: IHDR
 * (8-bit RGB), one IDAT holding the zlib stream of every row prefixed with filter
 * type 0, IEND; chunk CRCs come from zlib's crc32 (PNG uses the same polynomial).
 */
#include "ui/screenshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static int write_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t hdr[8], crcb[4];
    put32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0, hdr + 4, 4);
    if (len) crc = crc32(crc, data, len);
    put32(crcb, (uint32_t)crc);
    return fwrite(hdr, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
                   fwrite(crcb, 1, 4, f) == 4
               ? 0
               : -1;
}

int screenshot_png(const uint32_t *rgb, int w, int h, const char *path, char *err,
                   size_t errlen)
{
    size_t row = (size_t)w * 3 + 1;
    size_t raw_len = row * (size_t)h;
    uint8_t *raw = malloc(raw_len);
    uLongf z_len = compressBound(raw_len);
    uint8_t *z = malloc(z_len);
    if (!raw || !z) {
        free(raw);
        free(z);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int y = 0; y < h; y++) {
        uint8_t *p = raw + row * y;
        *p++ = 0; /* filter: none */
        for (int x = 0; x < w; x++) {
            uint32_t px = rgb[(size_t)y * w + x];
            *p++ = px >> 16;
            *p++ = px >> 8;
            *p++ = px;
        }
    }
    int rc = compress2(z, &z_len, raw, raw_len, 6);
    free(raw);
    if (rc != Z_OK) {
        free(z);
        snprintf(err, errlen, "%s: compression failed", path);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(z);
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];
    put32(ihdr, w);
    put32(ihdr + 4, h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* colour type: RGB */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    int bad = fwrite(sig, 1, 8, f) != 8 || write_chunk(f, "IHDR", ihdr, 13) ||
              write_chunk(f, "IDAT", z, (uint32_t)z_len) || write_chunk(f, "IEND", NULL, 0);
    free(z);
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "write failed");
        return -1;
    }
    return 0;
}

static bool ends_with_png(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcasecmp(path + n - 4, ".png");
}

int screenshot_write(Machine *m, const char *path, char *err, size_t errlen)
{
    if (!ends_with_png(path)) {
        size_t cap = 64 * 1024;
        char *text = malloc(cap);
        int n = text ? vga_text_dump(&m->vga, text, cap) : -1;
        if (n >= 0) {
            FILE *f = fopen(path, "w");
            int bad = !f;
            if (f) {
                bad = fwrite(text, 1, n, f) != (size_t)n;
                if (fclose(f) != 0) bad = 1;
            }
            free(text);
            if (bad) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            return 0;
        }
        free(text); /* a graphics mode: fall through to PNG */
    }
    int w = 0, h = 0;
    int max_w = 2560, max_h = 1600;
    uint32_t *rgb = malloc((size_t)max_w * max_h * sizeof(uint32_t));
    if (!rgb) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (vga_render(&m->vga, rgb, max_w, max_h, &w, &h) < 0 || w <= 0 || h <= 0) {
        free(rgb);
        snprintf(err, errlen, "%s: the display shows nothing that can be rendered", path);
        return -1;
    }
    int rc = screenshot_png(rgb, w, h, path, err, errlen);
    free(rgb);
    return rc;
}
