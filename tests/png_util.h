/*
 * png_util.h — reading what dbt86 writes, for the tests that check its screenshots:
 * big-endian words and the simple PNGs of ui/screenshot.c (8-bit RGB, filter 0 rows).
 */
#ifndef DBT86_TESTS_PNG_UTIL_H
#define DBT86_TESTS_PNG_UTIL_H

#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

static inline uint32_t be32(const std::string &s, size_t off)
{
    return (uint32_t)(uint8_t)s[off] << 24 | (uint32_t)(uint8_t)s[off + 1] << 16 |
           (uint32_t)(uint8_t)s[off + 2] << 8 | (uint8_t)s[off + 3];
}

/* Decodes such a PNG into 0x00RRGGBB pixels; false when it is not one. */
static inline bool decode_png(const std::string &png, int *w, int *h, std::vector<uint32_t> *px)
{
    if (png.size() < 8 || png.compare(1, 3, "PNG") != 0) return false;
    std::string idat;
    for (size_t o = 8; o + 12 <= png.size();) {
        uint32_t len = be32(png, o);
        std::string type = png.substr(o + 4, 4);
        if (type == "IHDR") {
            *w = (int)be32(png, o + 8);
            *h = (int)be32(png, o + 12);
            if (png[o + 16] != 8 || png[o + 17] != 2) return false;
        } else if (type == "IDAT") {
            idat += png.substr(o + 8, len);
        }
        uLong crc = crc32(0, reinterpret_cast<const Bytef *>(png.data() + o + 4), len + 4);
        if (crc != be32(png, o + 8 + len)) return false;
        o += 12 + len;
    }
    uLongf raw_len = (uLongf)(*w * 3 + 1) * *h;
    std::vector<uint8_t> raw(raw_len);
    if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef *>(idat.data()),
                   idat.size()) != Z_OK)
        return false;
    px->assign((size_t)*w * *h, 0);
    for (int y = 0; y < *h; y++) {
        const uint8_t *r = raw.data() + (size_t)y * (*w * 3 + 1);
        if (r[0] != 0) return false;
        for (int x = 0; x < *w; x++)
            (*px)[(size_t)y * *w + x] = r[1 + 3 * x] << 16 | r[2 + 3 * x] << 8 | r[3 + 3 * x];
    }
    return true;
}

#endif
