/*
 * fwcfg.h — QEMU's firmware configuration interface, which SeaBIOS reads: selector
 * port 0x510 (16-bit), data port 0x511 (8-bit), items by key (signature "QEMU",
 * interface ID, RAM size, CPU count, boot menu, ...) and named files in a directory
 * (key 0x19) such as "etc/e820", "bootorder", "etc/boot-fail-wait". The DMA interface
 * (port 0x514) is implemented too, and advertised in the ID item.
 */
#ifndef DBT86_FWCFG_H
#define DBT86_FWCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/physmem.h"
#include "devices/bus.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MACHINE_ID 0x06
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_NUMA 0x0d
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_MAX_ITEMS 64

typedef struct FwCfgItem {
    uint16_t key;
    char name[56];        /* file name for file items, "" otherwise */
    uint8_t *data;        /* owned copy */
    uint32_t len;
} FwCfgItem;

typedef struct FwCfg {
    FwCfgItem items[FW_CFG_MAX_ITEMS];
    unsigned n_items;
    uint16_t next_file_key;
    uint16_t selector;    /* current key */
    uint32_t offset;      /* read position in the selected item */
    uint8_t *dir;         /* the file directory item, rebuilt as files are added */
    uint32_t dma_addr_hi, dma_addr_lo; /* DMA address register (big-endian halves) */
    PhysMem *mem;         /* for the DMA interface */
} FwCfg;

void fwcfg_init(FwCfg *f, Bus *bus, PhysMem *mem);
void fwcfg_destroy(FwCfg *f);
void fwcfg_reset(void *f);
void fwcfg_add_bytes(FwCfg *f, uint16_t key, const void *data, uint32_t len);
void fwcfg_add_i16(FwCfg *f, uint16_t key, uint16_t v);
void fwcfg_add_i32(FwCfg *f, uint16_t key, uint32_t v);
void fwcfg_add_i64(FwCfg *f, uint16_t key, uint64_t v);
void fwcfg_add_file(FwCfg *f, const char *name, const void *data, uint32_t len);

/* Ops of the selector/data ports 0x510-0x511 (carry reset and snapshot state: the
 * selected key, the read offset and the DMA address; the items are configuration the
 * board rebuilds, not state). */
extern const DeviceOps fwcfg_ops;

#endif
