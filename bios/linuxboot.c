/*
 * linuxboot.c — direct Linux boot: checks a bzImage's setup header (Linux x86 boot
 * protocol >= 2.02, LOADED_HIGH), patches it for the addresses QEMU uses, and hands
 * the setup code, kernel, command line and initrd to the option ROM through fw_cfg.
 * Multiboot kernels with load addresses in their header (a.out kludge) go the same
 * way. The ROM image is embedded (generated from roms/linuxboot.asm, linuxboot_rom.h).
 */
#include "bios/linuxboot.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bios/firmware.h"
#include "bios/linuxboot_rom.h"

/* setup header offsets (boot.rst) */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_HEADER 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_VID_MODE 0x1fa
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE 0x238

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define LOADER_TYPE_QEMU 0xb0 /* the id QEMU uses; kernels treat 0xB as "Qemu" */

/* The video mode a `vga=` option on the command line asks for (boot.rst: the boot
 * loader puts it in the header's vid_mode): normal, ext, ask or a number (decimal or
 * 0x hex, as the kernel reads it); -1 without one. The last vga= wins. */
static int cmdline_vga(const char *cmdline)
{
    int mode = -1;
    for (const char *p = cmdline; p && *p; p++) {
        if ((p != cmdline && p[-1] != ' ') || strncmp(p, "vga=", 4)) continue;
        const char *v = p + 4;
        if (!strncmp(v, "normal", 6)) mode = 0xffff;
        else if (!strncmp(v, "ext", 3)) mode = 0xfffe;
        else if (!strncmp(v, "ask", 3)) mode = 0xfffd;
        else {
            char *end;
            long n = strtol(v, &end, 0);
            if (end != v && n >= 0 && n <= 0xffff && (*end == ' ' || *end == 0)) mode = (int)n;
        }
    }
    return mode;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

const uint8_t *linuxboot_rom(uint32_t *size)
{
    *size = sizeof(linuxboot_rom_image);
    return linuxboot_rom_image;
}

int linuxboot_parse(const uint8_t *img, uint32_t size, const char *name, LinuxBootInfo *info,
                    char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    if (size < HDR_VERSION + 2 || memcmp(img + HDR_HEADER, "HdrS", 4)) {
        snprintf(err, errlen, "%s: not a Linux bzImage (no \"HdrS\" setup header)", name);
        return -1;
    }
    info->protocol = get16(img + HDR_VERSION);
    if (info->protocol < 0x202) {
        snprintf(err, errlen, "%s: Linux boot protocol %u.%02u is too old (2.02 or later "
                 "needed)", name, info->protocol >> 8, info->protocol & 0xff);
        return -1;
    }
    if (size < HDR_CMDLINE_SIZE + 4) {
        snprintf(err, errlen, "%s: truncated (%u bytes, the setup header alone is larger)",
                 name, size);
        return -1;
    }
    info->setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    info->loadflags = img[HDR_LOADFLAGS];
    info->setup_size = (info->setup_sects + 1u) * 512u;
    if (size <= info->setup_size) {
        snprintf(err, errlen, "%s: truncated (%u bytes, but %u bytes of setup code and a "
                 "kernel after them)", name, size, info->setup_size);
        return -1;
    }
    if (!(info->loadflags & LOADED_HIGH)) {
        snprintf(err, errlen, "%s: a zImage (kernel not LOADED_HIGH); only bzImage is "
                 "supported", name);
        return -1;
    }
    info->kernel_size = size - info->setup_size;
    info->initrd_addr_max = info->protocol >= 0x203 ? get32(img + HDR_INITRD_ADDR_MAX)
                                                    : 0x37ffffffu;
    info->cmdline_max = info->protocol >= 0x206 ? get32(img + HDR_CMDLINE_SIZE) : 255;
    return 0;
}

/* Adds "/rom@genroms/linuxboot.bin" as the first line of fw_cfg file "bootorder",
 * keeping what the board may already have put there. */
static void bootorder_prepend(FwCfg *f)
{
    const FwCfgItem *old = NULL;
    for (unsigned i = 0; i < f->n_items; i++)
        if (!strncmp(f->items[i].name, "bootorder", sizeof(f->items[i].name)))
            old = &f->items[i];
    size_t first = strlen(LB_BOOTORDER_ENTRY) + 1;
    size_t rest = old ? old->len : 0;
    char *buf = malloc(first + rest + 1);
    if (!buf) return;
    memcpy(buf, LB_BOOTORDER_ENTRY "\n", first);
    if (rest) memcpy(buf + first, old->data, rest);
    size_t len = first + rest;
    while (len && buf[len - 1] == 0) len--; /* one trailing NUL, as QEMU writes it */
    buf[len++] = 0;
    fwcfg_add_file(f, "bootorder", buf, (uint32_t)len);
    free(buf);
}

/* ---- Multiboot (version 0.6.96), a.out-kludge kernels ---- */

#define MB_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC_SEARCH 8192   /* the header lies in the first 8 KiB, 4-aligned */
#define MB_FLAG_ADDRESSES 0x10000u  /* header_addr..entry_addr are valid */
#define MB_INFO_MEM 0x001u
#define MB_INFO_CMDLINE 0x004u
#define MB_INFO_MODS 0x008u
#define MB_INFO_SIZE 88u            /* the multiboot_info structure, up to the VBE fields */
#define MB_MOD_SIZE 16u             /* mod_start, mod_end, string, reserved */

static uint32_t align_page(uint32_t a) { return (a + 0xfffu) & ~0xfffu; }

int linuxboot_multiboot_find(const uint8_t *img, uint32_t size, uint32_t *offset)
{
    for (uint32_t off = 0; off + 12 <= size && off < MB_BOOT_MAGIC_SEARCH; off += 4) {
        if (get32(img + off) != MB_MAGIC) continue;
        uint32_t sum = get32(img + off) + get32(img + off + 4) + get32(img + off + 8);
        if (sum == 0) {
            *offset = off;
            return 0;
        }
    }
    return -1;
}

/* Lays out kernel, information structure and module, and fills fw_cfg: the setup
 * size 0 tells the option ROM to take the multiboot path. */
static int multiboot_setup(FwCfg *f, uint32_t ram_size, const char *kernel, const uint8_t *img,
                           uint32_t size, uint32_t hdr, const char *initrd, const char *append,
                           char *err, size_t errlen)
{
    uint32_t flags = get32(img + hdr + 4);
    if (!(flags & MB_FLAG_ADDRESSES) || hdr + 32 > size) {
        snprintf(err, errlen, "%s: a Multiboot kernel without load addresses in its header "
                 "(ELF Multiboot kernels are not supported yet)", kernel);
        return -1;
    }
    uint32_t header_addr = get32(img + hdr + 12), load_addr = get32(img + hdr + 16);
    uint32_t load_end = get32(img + hdr + 20), bss_end = get32(img + hdr + 24);
    uint32_t entry = get32(img + hdr + 28);
    uint32_t limit = ram_size - LB_HIGH_RESERVED;
    /* the file offset where load_addr starts */
    uint32_t file_off = hdr - (header_addr - load_addr);
    uint32_t file_len = load_end ? load_end - load_addr : size - file_off;
    uint32_t mem_len = bss_end ? bss_end - load_addr : file_len;
    if (header_addr < load_addr || header_addr - load_addr > hdr || file_off + file_len > size ||
        file_off + file_len < file_off || mem_len < file_len || load_addr < LB_KERNEL_ADDR ||
        load_addr > limit || mem_len > limit - load_addr || entry < load_addr ||
        entry >= load_addr + mem_len) {
        snprintf(err, errlen, "%s: Multiboot header addresses (load 0x%x-0x%x, bss end 0x%x, "
                 "entry 0x%x) do not fit the file or RAM", kernel, load_addr, load_end,
                 bss_end, entry);
        return -1;
    }
    uint8_t *k = calloc(1, mem_len ? mem_len : 1);
    if (!k) {
        snprintf(err, errlen, "%s: out of memory", kernel);
        return -1;
    }
    memcpy(k, img + file_off, file_len);

    /* the information structure, then the module list and the strings */
    const char *args = append ? append : "";
    size_t cmd_len = strlen(kernel) + 1 + strlen(args) + 1; /* "kernel args", as QEMU */
    size_t rd_name = initrd ? strlen(initrd) + 1 : 0;
    uint32_t info_addr = align_page(load_addr + mem_len);
    uint32_t info_len = MB_INFO_SIZE + (initrd ? MB_MOD_SIZE : 0) + (uint32_t)(cmd_len + rd_name);
    uint8_t *info = calloc(1, info_len);
    uint8_t *rd = NULL;
    uint32_t rd_size = 0, rd_addr = 0;
    int ret = -1;
    if (!info) {
        snprintf(err, errlen, "%s: out of memory", kernel);
        goto out;
    }
    if (initrd && firmware_read_file(initrd, ram_size, &rd, &rd_size, err, errlen) < 0) goto out;
    rd_addr = initrd ? align_page(info_addr + info_len) : 0;
    if ((uint64_t)align_page(info_addr + info_len) + rd_size > limit) {
        snprintf(err, errlen, "%s: %s does not fit in RAM after the kernel", kernel,
                 initrd ? initrd : "the multiboot information");
        goto out;
    }
    uint32_t mods = info_addr + MB_INFO_SIZE;
    uint32_t cmd = mods + (initrd ? MB_MOD_SIZE : 0);
    put32(info, MB_INFO_MEM | MB_INFO_CMDLINE | (initrd ? MB_INFO_MODS : 0));
    put32(info + 4, 640);                          /* the ROM puts the BIOS's values */
    put32(info + 8, (ram_size >> 10) - 1024);
    put32(info + 16, cmd);
    snprintf((char *)info + (cmd - info_addr), cmd_len, "%s %s", kernel, args);
    if (initrd) {
        put32(info + 20, 1);
        put32(info + 24, mods);
        uint8_t *m = info + MB_INFO_SIZE;
        put32(m, rd_addr);
        put32(m + 4, rd_addr + rd_size);
        put32(m + 8, (uint32_t)(cmd + cmd_len));
        memcpy(info + (cmd - info_addr) + cmd_len, initrd, rd_name);
    }

    fwcfg_add_i32(f, LB_FW_CFG_SETUP_ADDR, 0);
    fwcfg_add_i32(f, LB_FW_CFG_SETUP_SIZE, 0);
    fwcfg_add_bytes(f, LB_FW_CFG_SETUP_DATA, NULL, 0);
    fwcfg_add_i32(f, FW_CFG_KERNEL_ADDR, load_addr);
    fwcfg_add_i32(f, FW_CFG_KERNEL_SIZE, mem_len);
    fwcfg_add_bytes(f, LB_FW_CFG_KERNEL_DATA, k, mem_len);
    fwcfg_add_i32(f, LB_FW_CFG_KERNEL_ENTRY, entry);
    fwcfg_add_i32(f, LB_FW_CFG_CMDLINE_ADDR, info_addr);
    fwcfg_add_i32(f, LB_FW_CFG_CMDLINE_SIZE, info_len);
    fwcfg_add_bytes(f, LB_FW_CFG_CMDLINE_DATA, info, info_len);
    fwcfg_add_i32(f, FW_CFG_INITRD_ADDR, rd_addr);
    fwcfg_add_i32(f, FW_CFG_INITRD_SIZE, rd_size);
    fwcfg_add_bytes(f, LB_FW_CFG_INITRD_DATA, rd, rd_size);
    ret = 0;
out:
    free(k);
    free(info);
    free(rd);
    return ret;
}

/* Adds the option ROM, its checksum byte making the byte sum 0 (SeaBIOS checks). */
static void rom_add(FwCfg *f)
{
    uint8_t rom[sizeof(linuxboot_rom_image)];
    memcpy(rom, linuxboot_rom_image, sizeof(rom));
    uint8_t sum = 0;
    for (size_t i = 0; i + 1 < sizeof(rom); i++) sum = (uint8_t)(sum + rom[i]);
    rom[sizeof(rom) - 1] = (uint8_t)-sum;
    fwcfg_add_file(f, LB_ROM_NAME, rom, sizeof(rom));
}

int linuxboot_setup(FwCfg *f, uint32_t ram_size, const char *kernel, const char *initrd,
                    const char *append, char *err, size_t errlen)
{
    if (!kernel) {
        if (initrd) snprintf(err, errlen, "-initrd %s: needs -kernel", initrd);
        else if (append) snprintf(err, errlen, "-append \"%s\": needs -kernel", append);
        else return 0;
        return -1;
    }
    uint8_t *img = NULL, *rd = NULL;
    uint32_t size = 0, rd_size = 0;
    int ret = -1;
    if (firmware_read_file(kernel, ram_size, &img, &size, err, errlen) < 0) return -1;
    /* not a bzImage but a Multiboot header in the first 8 KiB: boot that (as QEMU) */
    uint32_t mb_hdr;
    if ((size < HDR_HEADER + 4 || memcmp(img + HDR_HEADER, "HdrS", 4)) &&
        linuxboot_multiboot_find(img, size, &mb_hdr) == 0) {
        if (multiboot_setup(f, ram_size, kernel, img, size, mb_hdr, initrd, append, err,
                            errlen) < 0)
            goto out;
        rom_add(f);
        bootorder_prepend(f);
        ret = 0;
        goto out;
    }
    LinuxBootInfo info;
    if (linuxboot_parse(img, size, kernel, &info, err, errlen) < 0) goto out;
    if ((uint64_t)LB_KERNEL_ADDR + info.kernel_size > ram_size) {
        snprintf(err, errlen, "%s: kernel of %u bytes does not fit in %u MiB of RAM", kernel,
                 info.kernel_size, ram_size >> 20);
        goto out;
    }
    const char *cmdline = append ? append : "";
    size_t cmdlen = strlen(cmdline);
    if (cmdlen > info.cmdline_max || cmdlen >= 0x10000 - 0x200) {
        snprintf(err, errlen, "%s: command line of %zu bytes is longer than the %u the "
                 "kernel accepts", kernel, cmdlen, info.cmdline_max);
        goto out;
    }

    uint32_t rd_addr = 0;
    if (initrd) {
        if (firmware_read_file(initrd, ram_size, &rd, &rd_size, err, errlen) < 0) goto out;
        /* the highest usable byte: the header's limit, and below SeaBIOS's high tables */
        uint32_t max = info.initrd_addr_max;
        if (max > ram_size - LB_HIGH_RESERVED - 1) max = ram_size - LB_HIGH_RESERVED - 1;
        uint32_t kernel_end = LB_KERNEL_ADDR + info.kernel_size;
        if (rd_size > max + 1u || ((max + 1u - rd_size) & ~0xfffu) < kernel_end) {
            snprintf(err, errlen, "%s: initrd of %u bytes does not fit in RAM between the "
                     "kernel (ends at 0x%x) and 0x%x", initrd, rd_size, kernel_end, max + 1u);
            goto out;
        }
        rd_addr = (max + 1u - rd_size) & ~0xfffu;
    }

    /* the setup header, patched as a boot loader must (boot.rst, "loading the rest") */
    uint8_t *setup = img;
    setup[HDR_SETUP_SECTS] = info.setup_sects;
    setup[HDR_TYPE_OF_LOADER] = LOADER_TYPE_QEMU;
    setup[HDR_LOADFLAGS] |= CAN_USE_HEAP;
    put16(setup + HDR_HEAP_END_PTR, LB_HEAP_END);
    put32(setup + HDR_CMD_LINE_PTR, LB_CMDLINE_ADDR);
    put32(setup + HDR_RAMDISK_IMAGE, rd_addr);
    put32(setup + HDR_RAMDISK_SIZE, rd_size);
    int vga = cmdline_vga(append);
    if (vga >= 0) put16(setup + HDR_VID_MODE, (uint16_t)vga);

    fwcfg_add_i32(f, LB_FW_CFG_SETUP_ADDR, LB_SETUP_ADDR);
    fwcfg_add_i32(f, LB_FW_CFG_SETUP_SIZE, info.setup_size);
    fwcfg_add_bytes(f, LB_FW_CFG_SETUP_DATA, setup, info.setup_size);
    fwcfg_add_i32(f, FW_CFG_KERNEL_ADDR, LB_KERNEL_ADDR);
    fwcfg_add_i32(f, FW_CFG_KERNEL_SIZE, info.kernel_size);
    fwcfg_add_bytes(f, LB_FW_CFG_KERNEL_DATA, img + info.setup_size, info.kernel_size);
    fwcfg_add_i32(f, LB_FW_CFG_KERNEL_ENTRY, LB_KERNEL_ADDR);
    fwcfg_add_i32(f, FW_CFG_KERNEL_CMDLINE, LB_CMDLINE_ADDR);
    fwcfg_add_i32(f, LB_FW_CFG_CMDLINE_ADDR, LB_CMDLINE_ADDR);
    fwcfg_add_i32(f, LB_FW_CFG_CMDLINE_SIZE, (uint32_t)cmdlen + 1);
    fwcfg_add_bytes(f, LB_FW_CFG_CMDLINE_DATA, cmdline, (uint32_t)cmdlen + 1);
    fwcfg_add_i32(f, FW_CFG_INITRD_ADDR, rd_addr);
    fwcfg_add_i32(f, FW_CFG_INITRD_SIZE, rd_size);
    fwcfg_add_bytes(f, LB_FW_CFG_INITRD_DATA, rd, rd_size);

    rom_add(f);
    bootorder_prepend(f);
    ret = 0;
out:
    free(img);
    free(rd);
    return ret;
}
