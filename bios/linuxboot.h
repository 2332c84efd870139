/*
 * linuxboot.h — direct Linux boot (-kernel/-initrd/-append) the way QEMU does it: the
 * bzImage is parsed and its setup header patched on the host (Linux x86 boot protocol,
 * Documentation/arch/x86/boot.rst), the pieces go into fw_cfg, and a small option ROM
 * (roms/linuxboot.asm, fw_cfg file "genroms/linuxboot.bin", first in "bootorder") is
 * run by SeaBIOS as a boot device: it copies the pieces into place and enters the
 * real-mode setup code at 0x1020:0. A Multiboot kernel (header with load addresses, no
 * ELF yet) is entered in flat 32-bit protected mode instead, EAX=0x2badb002, EBX=info.
 *
 *     LinuxBootInfo info;
 *     if (linuxboot_parse(img, size, "bzImage", &info, err, sizeof err) < 0) ...
 *     if (linuxboot_setup(&m->fwcfg, ram_size, kernel, initrd, append, err, n) < 0) ...
 */
#ifndef DBT86_LINUXBOOT_H
#define DBT86_LINUXBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "devices/fwcfg.h"

/* fw_cfg keys of the Linux loader (QEMU's numbering; fwcfg.h has the older ones) */
#define LB_FW_CFG_KERNEL_ENTRY 0x10
#define LB_FW_CFG_KERNEL_DATA 0x11
#define LB_FW_CFG_INITRD_DATA 0x12
#define LB_FW_CFG_CMDLINE_ADDR 0x13
#define LB_FW_CFG_CMDLINE_SIZE 0x14
#define LB_FW_CFG_CMDLINE_DATA 0x15
#define LB_FW_CFG_SETUP_ADDR 0x16
#define LB_FW_CFG_SETUP_SIZE 0x17
#define LB_FW_CFG_SETUP_DATA 0x18

/* Where things go (as QEMU places them for protocol >= 2.02 with LOADED_HIGH). */
#define LB_SETUP_ADDR 0x10000u    /* real-mode setup code; entered at 0x1020:0 */
#define LB_CMDLINE_ADDR 0x20000u  /* command line */
#define LB_HEAP_END 0xfe00u       /* heap_end_ptr: cmdline - setup - 0x200 */
#define LB_KERNEL_ADDR 0x100000u  /* the protected-mode kernel */
/* SeaBIOS keeps its high tables in the top 256 KiB of RAM: the initrd stays below */
#define LB_HIGH_RESERVED 0x40000u

#define LB_ROM_NAME "genroms/linuxboot.bin"
#define LB_BOOTORDER_ENTRY "/rom@genroms/linuxboot.bin"

/* What the setup header says, as read by linuxboot_parse(). */
typedef struct LinuxBootInfo {
    uint16_t protocol;        /* boot protocol version, e.g. 0x020f */
    uint8_t setup_sects;      /* 512-byte setup sectors after the boot sector (0 -> 4) */
    uint8_t loadflags;        /* bit 0 LOADED_HIGH */
    uint32_t setup_size;      /* (setup_sects + 1) * 512: boot sector + setup code */
    uint32_t kernel_size;     /* the 32-bit kernel: the rest of the file */
    uint32_t initrd_addr_max; /* highest address the initrd may occupy (0x37ffffff before 2.03) */
    uint32_t cmdline_max;     /* longest command line without the NUL (255 before 2.06) */
} LinuxBootInfo;

/* Checks a bzImage held in memory; `name` is used in the one-line error. Returns 0, or
 * -1 with err set (truncated, no "HdrS", protocol older than 2.02, not LOADED_HIGH). */
int linuxboot_parse(const uint8_t *img, uint32_t size, const char *name, LinuxBootInfo *info,
                    char *err, size_t errlen);

/* Loads the files and fills fw_cfg for a direct Linux boot. kernel NULL: nothing to
 * do, unless initrd or append is given (an error). Returns 0 or -1 with err set. */
int linuxboot_setup(FwCfg *f, uint32_t ram_size, const char *kernel, const char *initrd,
                    const char *append, char *err, size_t errlen);

/* Finds a Multiboot header (magic 0x1badb002 with a valid checksum, 4-byte aligned in
 * the first 8 KiB); returns 0 with its file offset, or -1. */
int linuxboot_multiboot_find(const uint8_t *img, uint32_t size, uint32_t *offset);

/* The option ROM image (512 bytes, checksum not yet fixed; see linuxboot_rom.h). */
const uint8_t *linuxboot_rom(uint32_t *size);

#endif
