/*
 * vga.h — a standard VGA (QEMU's "std" VGA, PCI 1234:1111 at 00:02.0): the VGA
 * register set (misc, sequencer, graphics controller, CRTC, attribute controller,
 * DAC), the legacy window 0xA0000-0xBFFFF with its four planes and the read/write
 * modes, the Bochs VBE registers (0x1CE/0x1CF) that vgabios-stdvga.bin programs, the
 * linear framebuffer in BAR 0, and the VGA BIOS as the function's expansion ROM.
 *
 * vga_text_dump() gives the text screen as plain text, so headless runs can check
 * what the guest shows.
 */
#ifndef DBT86_VGA_H
#define DBT86_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/physmem.h"
#include "devices/bus.h"
#include "devices/pci.h"

#define VGA_VRAM_SIZE (16u << 20)

typedef struct Vga {
    uint8_t *vram;          /* VGA_VRAM_SIZE bytes: planes interleaved 4 per dword */
    uint8_t misc;           /* miscellaneous output register */
    uint8_t seq_index, seq[8];
    uint8_t gc_index, gc[16];
    uint8_t crtc_index, crtc[32];
    uint8_t attr_index, attr[32];
    bool attr_flipflop;     /* attribute controller index/data toggle (reset by 0x3DA read) */
    uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac[768];       /* 256 RGB entries, 6 bits each */
    uint8_t pel_mask;
    uint32_t latch;         /* the four plane latches */
    uint8_t feature;
    uint8_t status1;        /* input status 1 retrace bits (toggle on each read) */
    uint16_t vbe_index;
    uint16_t vbe_regs[16];  /* Bochs VBE registers (VBE_DISPI_INDEX_*) */
    uint32_t lfb_addr;      /* where BAR 0 currently maps the framebuffer */
    PciDevice pci;
    uint8_t *rom;           /* VGA BIOS image (expansion ROM), owned */
    uint32_t rom_size;      /* ROM BAR size: the image padded to a power of two */
    uint32_t rom_addr;      /* where the expansion ROM is mapped, or PCI_BAR_UNMAPPED */
    PhysMem *mem;
    Bus *bus;
} Vga;

/* reset, state descriptor and post_load of the device */
extern const DeviceOps vga_device_ops;

/* rom may be NULL (no VGA BIOS). Returns 0. */
int vga_init(Vga *v, Bus *bus, PhysMem *mem, PciBus *pci, const uint8_t *rom, uint32_t rom_size);
void vga_destroy(Vga *v);
void vga_reset(void *v);
/* The text screen (mode 3 and other text modes) as rows of characters separated by
 * '\n', trailing blanks trimmed; code page 437 glyphs above 0x7F become UTF-8.
 * Returns the length written (always NUL-terminated). In a graphics mode it writes
 * nothing and returns -1. */
int vga_text_dump(const Vga *v, char *buf, size_t size);
/* Code page 437 character ch as a UTF-8 string (0x00 is a blank), as the dump uses. */
const char *vga_cp437_utf8(uint8_t ch);

/* The text screen's shape for terminal front ends (-display text). */
typedef struct VgaTextInfo {
    unsigned cols, rows;        /* character grid */
    int cursor_row, cursor_col; /* -1 when the cursor is off or outside the grid */
    bool blink;                 /* attribute bit 7 blinks instead of a bright background */
} VgaTextInfo;
/* The text screen as the CRTC scans it out: cells[row * cols + col] = character |
 * attribute << 8. Returns 0, or -1 in a graphics mode, for nonsense geometry, or when
 * the grid has more than max cells (info->cols/rows then tell the size needed). */
int vga_text_cells(const Vga *v, uint16_t *cells, size_t max, VgaTextInfo *info);
/* Renders what the monitor would show into rgb (0x00RRGGBB, row-major, *w pixels per
 * row): text modes with the font in plane 2, the attribute palette and the DAC;
 * planar 16-colour, CGA 4-colour, 256-colour (mode 13h, mode X) VGA modes; Bochs VBE
 * modes at 4, 8, 15, 16, 24 and 32 bpp. *w and *h get the mode's size. Returns 0, or
 * -1 if the mode is nonsense or larger than max_w x max_h (then *w and *h still tell the
 * size needed, or 0 for nonsense). */
int vga_render(const Vga *v, uint32_t *rgb, int max_w, int max_h, int *w, int *h);

#endif
