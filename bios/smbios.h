/*
 * smbios.h — QEMU's `-smbios type=1,...` (the DMI "System Information" strings), handed
 * to SeaBIOS through fw_cfg's legacy SMBIOS item, which SeaBIOS merges into the tables
 * it builds. Unset strings keep SeaBIOS's defaults (manufacturer "QEMU", ...).
 *
 *     smbios_parse(&cfg.smbios1, "type=1,serial=VMware-1", err, sizeof err);
 *     smbios_fwcfg(&m->fwcfg, &cfg.smbios1);
 */
#ifndef DBT86_SMBIOS_H
#define DBT86_SMBIOS_H

#include <stdbool.h>

#include "devices/fwcfg.h"

#define SMBIOS_STR_MAX 64 /* bytes of one string, as we accept them */

/* The strings, NUL-terminated; "" keeps SeaBIOS's default. Held in place (no
 * allocation), so a MachineConfig stays a plain copyable value. */
typedef struct SmbiosType1 {
    char manufacturer[SMBIOS_STR_MAX + 1], product[SMBIOS_STR_MAX + 1],
        version[SMBIOS_STR_MAX + 1], serial[SMBIOS_STR_MAX + 1], sku[SMBIOS_STR_MAX + 1],
        family[SMBIOS_STR_MAX + 1];
} SmbiosType1;

/* Parses the value of one -smbios option into t1; returns -1 with a one-line message
 * in err for anything but type=1 with the keys above (or a string too long). */
int smbios_parse(SmbiosType1 *t1, const char *v, char *err, size_t errlen);
/* Adds the legacy SMBIOS fw_cfg item (key 0x8001) when t1 sets anything. */
void smbios_fwcfg(FwCfg *f, const SmbiosType1 *t1);

#endif
