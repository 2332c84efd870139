/*
 * smbios.c — `-smbios type=1,...`: the DMI system strings through fw_cfg's legacy
 * SMBIOS item (QEMU's FW_CFG_SMBIOS_ENTRIES, 0x8001), which SeaBIOS reads while it
 * builds its own tables. The item is a little-endian u16 entry count, then per entry a
 * 6-byte header {u16 length of the whole entry, u8 kind (0 = one field), u8 table type,
 * u16 offset of the field in that table} and the field's bytes: for a string field, the
 * NUL-terminated string (SeaBIOS adds it to the table's string set).
 */
#include "bios/smbios.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FW_CFG_SMBIOS_ENTRIES 0x8001

/* The type 1 (System Information) string fields: option key and table offset. */
static const struct {
    const char *key;
    size_t member;
    uint8_t offset;
} type1_fields[] = {
    {"manufacturer", offsetof(SmbiosType1, manufacturer), 4},
    {"product", offsetof(SmbiosType1, product), 5},
    {"version", offsetof(SmbiosType1, version), 6},
    {"serial", offsetof(SmbiosType1, serial), 7},
    {"sku", offsetof(SmbiosType1, sku), 0x19},
    {"family", offsetof(SmbiosType1, family), 0x1a},
};
#define N_FIELDS (sizeof(type1_fields) / sizeof(type1_fields[0]))

static char *field_ptr(SmbiosType1 *t1, size_t i) { return (char *)t1 + type1_fields[i].member; }

int smbios_parse(SmbiosType1 *t1, const char *v, char *err, size_t errlen)
{
    if (strncmp(v, "type=1,", 7) && strcmp(v, "type=1")) {
        snprintf(err, errlen, "-smbios %s: only type=1 (system information) is supported", v);
        return -1;
    }
    const char *p = v + 6;
    while (*p == ',') {
        p++;
        const char *eq = strchr(p, '=');
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        size_t i = 0;
        if (eq && eq < end)
            for (; i < N_FIELDS; i++)
                if (strlen(type1_fields[i].key) == (size_t)(eq - p) &&
                    !strncmp(p, type1_fields[i].key, (size_t)(eq - p)))
                    break;
        if (!eq || eq > end || i == N_FIELDS) {
            snprintf(err, errlen, "-smbios %s: type=1 takes manufacturer, product, version, "
                     "serial, sku, family", v);
            return -1;
        }
        size_t len = (size_t)(end - eq - 1);
        if (len > SMBIOS_STR_MAX) {
            snprintf(err, errlen, "-smbios %s: a string longer than %d bytes", v,
                     SMBIOS_STR_MAX);
            return -1;
        }
        char *s = field_ptr(t1, i);
        memcpy(s, eq + 1, len);
        s[len] = 0;
        p = end;
    }
    if (*p) {
        snprintf(err, errlen, "-smbios %s: malformed", v);
        return -1;
    }
    return 0;
}

void smbios_fwcfg(FwCfg *f, const SmbiosType1 *t1)
{
    uint8_t buf[2 + N_FIELDS * (6 + SMBIOS_STR_MAX + 1)];
    size_t n = 2;
    uint16_t count = 0;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *s = field_ptr((SmbiosType1 *)t1, i);
        size_t len = strnlen(s, SMBIOS_STR_MAX) + 1;
        if (len == 1) continue; /* unset: SeaBIOS's default */
        uint16_t total = (uint16_t)(6 + len);
        uint8_t *e = buf + n;
        e[0] = (uint8_t)total;
        e[1] = (uint8_t)(total >> 8);
        e[2] = 0; /* a field entry */
        e[3] = 1; /* table type 1 */
        e[4] = type1_fields[i].offset;
        e[5] = 0;
        memcpy(e + 6, s, len - 1);
        e[6 + len - 1] = 0;
        n += total;
        count++;
    }
    if (!count) return;
    buf[0] = (uint8_t)count;
    buf[1] = (uint8_t)(count >> 8);
    fwcfg_add_bytes(f, FW_CFG_SMBIOS_ENTRIES, buf, (uint32_t)n);
}
