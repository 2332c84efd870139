/*
 * vga.c — the standard VGA (see vga.h).
 *
 * Video memory layout: the four planes are interleaved, byte `a` of plane `p` at
 * vram[a * 4 + p]. Chain-4 (mode 13h) is then simply linear (offset o -> plane o & 3
 * at plane address o >> 2, i.e. vram[o]), odd/even text mode puts character i at
 * plane 0 and its attribute at plane 1 of address 2*i, and the VBE linear framebuffer
 * and banked window are linear too. Because chain-4 packs four bytes per plane
 * address, the CRTC's doubleword mode needs no address shift here; word mode does.
 * CPU accesses to the legacy window follow the sequencer memory mode and the graphics
 * controller's read/write modes (VGA register reference: set/reset, rotate, logical
 * operation, bit mask, map mask, read map select, color compare).
 */
#include "devices/vga.h"

#include <stdlib.h>
#include <string.h>

/* Bochs VBE ("DISPI") registers */
enum {
    VBE_ID, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_WIDTH, VBE_VIRT_HEIGHT,
    VBE_X_OFFSET, VBE_Y_OFFSET, VBE_VIDEO_MEMORY_64K, VBE_NREGS,
};
#define VBE_ID0 0xb0c0
#define VBE_ID5 0xb0c5
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_8BIT_DAC 0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM 0x80
#define VBE_MAX_XRES 2560
#define VBE_MAX_YRES 1600
#define VBE_MAX_BPP 32

/* plane addresses: each plane is a quarter of video memory */
#define PLANE_BYTES (VGA_VRAM_SIZE / 4)

static bool vbe_on(const Vga *v) { return v->vbe_regs[VBE_ENABLE] & VBE_ENABLED; }
static unsigned vbe_bpp(const Vga *v) { return v->vbe_regs[VBE_BPP]; }

/* ---- the legacy memory window 0xA0000-0xBFFFF ---- */

/* Translates a window offset to an offset inside the mapped range, or -1. */
static int32_t window_offset(const Vga *v, uint32_t off)
{
    switch ((v->gc[6] >> 2) & 3) {
    case 0: return off;                                          /* A0000, 128 KiB */
    case 1: return off < 0x10000 ? (int32_t)off : -1;            /* A0000, 64 KiB */
    case 2: return off >= 0x10000 && off < 0x18000 ? (int32_t)(off - 0x10000) : -1;
    default: return off >= 0x18000 ? (int32_t)(off - 0x18000) : -1;
    }
}

/* The offset a CPU access to the window reaches: in VGA modes the window offset per
 * the memory map select, in VBE modes the 64 KiB bank. -1 if nothing answers. */
static int64_t access_offset(const Vga *v, uint32_t off)
{
    if (vbe_on(v)) {
        if (off >= 0x10000) return -1;
        return (int64_t)v->vbe_regs[VBE_BANK] * 0x10000 + off;
    }
    return window_offset(v, off);
}

/* VBE packed-pixel modes (all but 4 bpp) bypass the VGA pipeline: the window is a
 * plain view of video memory. */
static bool vbe_linear(const Vga *v) { return vbe_on(v) && vbe_bpp(v) != 4; }

static uint8_t vga_mem_readb(Vga *v, uint32_t off)
{
    int64_t o = access_offset(v, off);
    if (o < 0) return 0xff;
    if (vbe_linear(v)) return o < VGA_VRAM_SIZE ? v->vram[o] : 0xff;
    uint32_t addr;
    unsigned plane;
    if (v->seq[4] & 0x08) {
        /* chain-4: the two low address bits select the plane */
        addr = (uint32_t)o >> 2;
        plane = o & 3;
    } else if (v->gc[5] & 0x10) {
        /* host odd/even read: A0 selects plane 0/1 (or 2/3 per read map select bit 1) */
        addr = (uint32_t)o & ~1u;
        plane = (v->gc[4] & 2) | (o & 1);
    } else {
        addr = (uint32_t)o;
        plane = v->gc[4] & 3;
    }
    if (addr >= PLANE_BYTES) return 0xff;
    const uint8_t *q = &v->vram[addr * 4];
    memcpy(&v->latch, q, 4); /* every read loads the four latches */
    if (!(v->gc[5] & 0x08)) return q[plane];
    /* read mode 1: a bit is 1 where every plane enabled in colour don't care (GC 7)
     * matches the colour compare value (GC 2) */
    uint8_t result = 0xff;
    for (int p = 0; p < 4; p++) {
        if (!(v->gc[7] & (1 << p))) continue;
        uint8_t want = (v->gc[2] & (1 << p)) ? 0xff : 0x00;
        result &= (uint8_t)~(q[p] ^ want);
    }
    return result;
}

static void vga_mem_writeb(Vga *v, uint32_t off, uint8_t val)
{
    int64_t o = access_offset(v, off);
    if (o < 0) return;
    if (vbe_linear(v)) {
        if (o < VGA_VRAM_SIZE) v->vram[o] = val;
        return;
    }
    uint32_t addr;
    uint8_t enable = v->seq[2] & 0x0f; /* map mask */
    if (v->seq[4] & 0x08) {
        addr = (uint32_t)o >> 2;
        enable &= (uint8_t)(1u << (o & 3));
    } else if (!(v->seq[4] & 0x04)) {
        /* odd/even writes: even addresses reach planes 0 and 2, odd ones 1 and 3 */
        addr = (uint32_t)o & ~1u;
        enable &= (o & 1) ? 0x0a : 0x05;
    } else {
        addr = (uint32_t)o;
    }
    if (!enable || addr >= PLANE_BYTES) return;
    unsigned wmode = v->gc[5] & 3;
    unsigned rot = v->gc[3] & 7;
    uint8_t bitmask = v->gc[8];
    uint8_t latch[4], planes[4];
    memcpy(latch, &v->latch, 4);
    if (wmode == 1) {
        memcpy(planes, latch, 4); /* write mode 1: the latches, unchanged */
    } else {
        uint8_t data = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
        uint8_t m = bitmask;
        if (wmode == 3) m = data & bitmask; /* rotated data ANDed with the bit mask */
        for (int p = 0; p < 4; p++) {
            uint8_t d;
            if (wmode == 0)
                d = (v->gc[1] & (1 << p)) ? ((v->gc[0] & (1 << p)) ? 0xff : 0) : data;
            else if (wmode == 2)
                d = (val & (1 << p)) ? 0xff : 0;
            else /* mode 3: set/reset is the colour */
                d = (v->gc[0] & (1 << p)) ? 0xff : 0;
            switch ((v->gc[3] >> 3) & 3) {
            case 1: d &= latch[p]; break;
            case 2: d |= latch[p]; break;
            case 3: d ^= latch[p]; break;
            default: break;
            }
            planes[p] = (uint8_t)((d & m) | (latch[p] & ~m));
        }
    }
    for (int p = 0; p < 4; p++)
        if (enable & (1 << p)) v->vram[addr * 4 + p] = planes[p];
}

static uint32_t vga_mem_read(void *opaque, uint32_t off, unsigned size)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < size; i++) r |= (uint32_t)vga_mem_readb(opaque, off + i) << (8 * i);
    return r;
}

static void vga_mem_write(void *opaque, uint32_t off, uint32_t val, unsigned size)
{
    for (unsigned i = 0; i < size; i++) vga_mem_writeb(opaque, off + i, (uint8_t)(val >> (8 * i)));
}

static const DeviceOps vga_mem_ops = {
    .name = "vga-mem", .read = vga_mem_read, .write = vga_mem_write, .min_access = 1,
    .max_access = 4,
};

/* ---- VGA registers 0x3B0-0x3DF ---- */

static bool mono_port_ok(const Vga *v, uint32_t port)
{
    /* CRTC and input status 1 live at 0x3Bx (mono) or 0x3Dx (colour) per misc bit 0 */
    if (port >= 0x3b0 && port < 0x3c0) return !(v->misc & 1);
    if (port >= 0x3d0 && port < 0x3e0) return v->misc & 1;
    return true;
}

static bool dac_8bit(const Vga *v) { return v->vbe_regs[VBE_ENABLE] & VBE_8BIT_DAC; }

static uint32_t vga_io_read(void *opaque, uint32_t off, unsigned size)
{
    Vga *v = opaque;
    uint32_t port = 0x3b0 + off;
    (void)size;
    if (!mono_port_ok(v, port)) return 0xff;
    switch (port) {
    case 0x3c0: return v->attr_index;
    case 0x3c1: return v->attr[v->attr_index & 0x1f];
    case 0x3c2: return 0x10; /* input status 0: switch sense */
    case 0x3c4: return v->seq_index;
    case 0x3c5: return v->seq[v->seq_index & 7];
    case 0x3c6: return v->pel_mask;
    case 0x3c7: return v->dac_state;
    case 0x3c8: return v->dac_write_index;
    case 0x3c9: {
        uint8_t val = v->dac[v->dac_read_index * 3 + v->dac_sub];
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_read_index++;
        }
        return dac_8bit(v) ? val : val & 0x3f;
    }
    case 0x3ca: return v->feature;
    case 0x3cc: return v->misc;
    case 0x3ce: return v->gc_index;
    case 0x3cf: return v->gc[v->gc_index & 0x0f];
    case 0x3b4:
    case 0x3d4: return v->crtc_index;
    case 0x3b5:
    case 0x3d5: return v->crtc[v->crtc_index & 0x1f];
    case 0x3ba:
    case 0x3da:
        /* input status 1: retrace bits toggle on every read, so polling loops end;
         * the read also sends the attribute controller back to its index state */
        v->attr_flipflop = false;
        v->status1 ^= 0x09;
        return v->status1;
    default: return 0xff;
    }
}

/* Attribute controller data: the bits each register implements. */
static uint8_t attr_mask(unsigned i)
{
    if (i < 0x10) return 0x3f; /* palette: 6-bit colours */
    switch (i) {
    case 0x10: return 0xef;    /* mode control (bit 4 reserved) */
    case 0x11: return 0xff;    /* overscan colour */
    case 0x12: return 0x3f;    /* colour plane enable, video status mux */
    default: return 0x0f;      /* 0x13 pixel panning, 0x14 colour select */
    }
}

static void vga_io_write(void *opaque, uint32_t off, uint32_t val, unsigned size)
{
    Vga *v = opaque;
    uint32_t port = 0x3b0 + off;
    if (size == 2) {
        /* a word write to an index port writes index then data */
        vga_io_write(v, off, val & 0xff, 1);
        vga_io_write(v, off + 1, (val >> 8) & 0xff, 1);
        return;
    }
    val &= 0xff;
    if (!mono_port_ok(v, port)) return;
    switch (port) {
    case 0x3c0:
        if (!v->attr_flipflop) {
            v->attr_index = val & 0x3f;
        } else {
            unsigned i = v->attr_index & 0x1f;
            if (i <= 0x14) v->attr[i] = val & attr_mask(i);
        }
        v->attr_flipflop = !v->attr_flipflop;
        break;
    case 0x3c2: v->misc = val; break;
    case 0x3c4: v->seq_index = val & 7; break;
    case 0x3c5: v->seq[v->seq_index & 7] = val; break;
    case 0x3c6: v->pel_mask = val; break;
    case 0x3c7:
        v->dac_read_index = val;
        v->dac_sub = 0;
        v->dac_state = 3;
        break;
    case 0x3c8:
        v->dac_write_index = val;
        v->dac_sub = 0;
        v->dac_state = 0;
        break;
    case 0x3c9:
        v->dac[v->dac_write_index * 3 + v->dac_sub] = dac_8bit(v) ? val : val & 0x3f;
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_write_index++;
        }
        break;
    case 0x3ce: v->gc_index = val & 0x0f; break;
    case 0x3cf: v->gc[v->gc_index & 0x0f] = val; break;
    case 0x3b4:
    case 0x3d4: v->crtc_index = val & 0x1f; break;
    case 0x3b5:
    case 0x3d5: {
        unsigned i = v->crtc_index & 0x1f;
        /* CRTC registers 0-7 are write-protected by bit 7 of register 0x11, except
         * the line-compare bit 4 of register 7 */
        if ((v->crtc[0x11] & 0x80) && i <= 7) {
            if (i == 7) v->crtc[7] = (uint8_t)((v->crtc[7] & ~0x10) | (val & 0x10));
            break;
        }
        v->crtc[i] = val;
        break;
    }
    case 0x3ba:
    case 0x3da: v->feature = val; break;
    default: break;
    }
}

static const DeviceOps vga_io_ops = {
    .name = "vga-io", .read = vga_io_read, .write = vga_io_write, .min_access = 1,
    .max_access = 2,
};

/* ---- Bochs VBE registers: index 0x1CE, data 0x1CF (16-bit; 0x1D0 also data) ---- */

/* Video memory bytes one line of `width` pixels takes in the current VBE depth. */
static uint32_t vbe_line_bytes(const Vga *v, uint32_t width)
{
    unsigned bpp = vbe_bpp(v);
    if (bpp == 4) return width / 2; /* planar: width/8 bytes in each of 4 planes */
    return width * ((bpp + 7) / 8);
}

/* Keep the virtual screen at least as large as the visible one. */
static void vbe_fixup(Vga *v)
{
    if (v->vbe_regs[VBE_VIRT_WIDTH] < v->vbe_regs[VBE_XRES])
        v->vbe_regs[VBE_VIRT_WIDTH] = v->vbe_regs[VBE_XRES];
    if (v->vbe_regs[VBE_VIRT_HEIGHT] < v->vbe_regs[VBE_YRES])
        v->vbe_regs[VBE_VIRT_HEIGHT] = v->vbe_regs[VBE_YRES];
}

static uint32_t vbe_read(void *opaque, uint32_t off, unsigned size)
{
    Vga *v = opaque;
    (void)size;
    if (off == 0) return v->vbe_index;
    unsigned i = v->vbe_index;
    if (i >= VBE_NREGS) return 0;
    if ((v->vbe_regs[VBE_ENABLE] & VBE_GETCAPS) &&
        (i == VBE_XRES || i == VBE_YRES || i == VBE_BPP)) {
        return i == VBE_XRES ? VBE_MAX_XRES : i == VBE_YRES ? VBE_MAX_YRES : VBE_MAX_BPP;
    }
    if (i == VBE_VIDEO_MEMORY_64K) return VGA_VRAM_SIZE >> 16;
    return v->vbe_regs[i];
}

static void vbe_write(void *opaque, uint32_t off, uint32_t val, unsigned size)
{
    Vga *v = opaque;
    val &= size == 1 ? 0xff : 0xffff;
    if (off == 0) {
        v->vbe_index = (uint16_t)val;
        return;
    }
    unsigned i = v->vbe_index;
    switch (i) {
    case VBE_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5) v->vbe_regs[VBE_ID] = (uint16_t)val;
        break;
    case VBE_XRES:
    case VBE_YRES:
        /* may change while enabled: SeaBIOS enables first, then sets the mode */
        if (val <= (i == VBE_XRES ? VBE_MAX_XRES : VBE_MAX_YRES)) {
            v->vbe_regs[i] = (uint16_t)val;
            vbe_fixup(v);
        }
        break;
    case VBE_BPP:
        if (val == 0) val = 8;
        if (val == 4 || val == 8 || val == 15 || val == 16 || val == 24 || val == 32)
            v->vbe_regs[i] = (uint16_t)val;
        break;
    case VBE_BANK:
        if (val * 0x10000u < VGA_VRAM_SIZE) v->vbe_regs[i] = (uint16_t)val;
        break;
    case VBE_ENABLE:
        v->vbe_regs[i] = (uint16_t)(val & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC |
                                           VBE_LFB_ENABLED | VBE_NOCLEARMEM));
        /* every write with ENABLED (re)starts the mode: SeaBIOS clears the screen of
         * a mode it already enabled by writing ENABLE again without NOCLEARMEM */
        if (val & VBE_ENABLED) {
            v->vbe_regs[VBE_VIRT_WIDTH] = v->vbe_regs[VBE_XRES];
            v->vbe_regs[VBE_VIRT_HEIGHT] = v->vbe_regs[VBE_YRES];
            v->vbe_regs[VBE_X_OFFSET] = v->vbe_regs[VBE_Y_OFFSET] = 0;
            if (!(val & VBE_NOCLEARMEM)) {
                uint64_t bytes = (uint64_t)vbe_line_bytes(v, v->vbe_regs[VBE_XRES]) *
                                 v->vbe_regs[VBE_YRES];
                memset(v->vram, 0, bytes < VGA_VRAM_SIZE ? bytes : VGA_VRAM_SIZE);
            }
        }
        break;
    case VBE_VIRT_WIDTH: {
        /* the virtual height follows: as many lines as video memory holds */
        if (val < v->vbe_regs[VBE_XRES]) val = v->vbe_regs[VBE_XRES];
        v->vbe_regs[i] = (uint16_t)val;
        uint32_t line = vbe_line_bytes(v, val);
        uint32_t lines = line ? VGA_VRAM_SIZE / line : 0;
        v->vbe_regs[VBE_VIRT_HEIGHT] = (uint16_t)(lines > 0xffff ? 0xffff : lines);
        break;
    }
    case VBE_VIRT_HEIGHT:
    case VBE_X_OFFSET:
    case VBE_Y_OFFSET: v->vbe_regs[i] = (uint16_t)val; break;
    default: break;
    }
}

static const DeviceOps vbe_ops = {
    .name = "vbe", .read = vbe_read, .write = vbe_write, .min_access = 1, .max_access = 2,
};

/* ---- PCI: BAR 0 = linear framebuffer, expansion ROM = VGA BIOS ---- */

static void vga_bar_map(PciDevice *d, int bar, uint32_t addr)
{
    Vga *v = d->opaque;
    if (bar == 0) {
        if (v->lfb_addr != PCI_BAR_UNMAPPED)
            physmem_map(v->mem, v->lfb_addr, VGA_VRAM_SIZE, NULL, NULL);
        v->lfb_addr = addr;
        if (addr != PCI_BAR_UNMAPPED) physmem_map(v->mem, addr, VGA_VRAM_SIZE, v->vram, v->vram);
    } else if (bar == PCI_ROM_BAR && v->rom) {
        if (v->rom_addr != PCI_BAR_UNMAPPED)
            physmem_map(v->mem, v->rom_addr, v->rom_size, NULL, NULL);
        v->rom_addr = addr;
        if (addr != PCI_BAR_UNMAPPED) physmem_map(v->mem, addr, v->rom_size, v->rom, NULL);
    }
}

/* ---- what the CRT controller scans out ---- */

static uint32_t crtc_start(const Vga *v) { return (uint32_t)v->crtc[0x0c] << 8 | v->crtc[0x0d]; }

/* Character clocks (memory addresses) from one character row / scan line to the next:
 * the offset register counts pairs of them. */
static uint32_t crtc_stride(const Vga *v, uint32_t fallback)
{
    return v->crtc[0x13] ? v->crtc[0x13] * 2u : fallback;
}

/* Scan lines displayed: vertical display end with its overflow bits 8 and 9. */
static unsigned crtc_lines(const Vga *v)
{
    return (v->crtc[0x12] | (v->crtc[7] & 0x02) << 7 | (v->crtc[7] & 0x40) << 3) + 1u;
}

/* The plane address the CRTC fetches for memory address counter `ma` on row scan
 * line `rsc`: word mode rotates MA left by one (bit 13 or 15 into bit 0); the CGA
 * compatibility bits of the mode control register put row scan bits 0/1 on address
 * bits 13/14 (the interleaved banks of CGA graphics). */
static uint32_t crtc_address(const Vga *v, uint32_t ma, unsigned rsc)
{
    uint8_t mode = v->crtc[0x17];
    uint32_t a = ma;
    if (!(v->crtc[0x14] & 0x40) && !(mode & 0x40))
        a = (ma << 1) | ((ma >> ((mode & 0x20) ? 15 : 13)) & 1);
    if (!(mode & 0x01)) a = (a & ~0x2000u) | (rsc & 1u) << 13;
    if (!(mode & 0x02)) a = (a & ~0x4000u) | (rsc >> 1 & 1u) << 14;
    return a & 0xffff;
}

static bool vga_graphics(const Vga *v) { return (v->gc[6] & 1) || (v->attr[0x10] & 1); }

/* ---- text dump ---- */

/* Code page 437 0x01-0x1F and 0x7F-0xFF as UTF-8 (0x00 is a blank) */
static const char *const cp437_low[32] = {
    " ", "☺", "☻", "♥", "♦", "♣", "♠", "•", "◘", "○", "◙", "♂", "♀", "♪", "♫", "☼",
    "►", "◄", "↕", "‼", "¶", "§", "▬", "↨", "↑", "↓", "→", "←", "∟", "↔", "▲", "▼",
};
static const char *const cp437_high[129] = {
    "⌂",
    "Ç", "ü", "é", "â", "ä", "à", "å", "ç", "ê", "ë", "è", "ï", "î", "ì", "Ä", "Å",
    "É", "æ", "Æ", "ô", "ö", "ò", "û", "ù", "ÿ", "Ö", "Ü", "¢", "£", "¥", "₧", "ƒ",
    "á", "í", "ó", "ú", "ñ", "Ñ", "ª", "º", "¿", "⌐", "¬", "½", "¼", "¡", "«", "»",
    "░", "▒", "▓", "│", "┤", "╡", "╢", "╖", "╕", "╣", "║", "╗", "╝", "╜", "╛", "┐",
    "└", "┴", "┬", "├", "─", "┼", "╞", "╟", "╚", "╔", "╩", "╦", "╠", "═", "╬", "╧",
    "╨", "╤", "╥", "╙", "╘", "╒", "╓", "╫", "╪", "┘", "┌", "█", "▄", "▌", "▐", "▀",
    "α", "ß", "Γ", "π", "Σ", "σ", "µ", "τ", "Φ", "Θ", "Ω", "δ", "∞", "φ", "ε", "∩",
    "≡", "±", "≥", "≤", "⌠", "⌡", "÷", "≈", "°", "∙", "·", "√", "ⁿ", "²", "■", " ",
};

/* Text geometry: columns, character rows, character height. false if nonsense. */
static bool text_geometry(const Vga *v, unsigned *cols, unsigned *rows, unsigned *cheight)
{
    *cols = v->crtc[1] + 1u;
    *cheight = (v->crtc[9] & 0x1f) + 1u;
    unsigned lines = crtc_lines(v);
    if (v->crtc[9] & 0x80) lines /= 2; /* double scan */
    *rows = lines / *cheight;
    return *cols <= 256 && *rows > 0 && *rows <= 256;
}

int vga_text_dump(const Vga *v, char *buf, size_t size)
{
    if (size == 0) return -1;
    buf[0] = 0;
    if (vbe_on(v) || vga_graphics(v)) return -1;
    unsigned cols, rows, cheight;
    if (!text_geometry(v, &cols, &rows, &cheight)) return -1;
    uint32_t start = crtc_start(v), stride = crtc_stride(v, cols);
    size_t n = 0;
    for (unsigned r = 0; r < rows; r++) {
        size_t last_nonblank = n;
        for (unsigned c = 0; c < cols; c++) {
            uint32_t addr = crtc_address(v, start + r * stride + c, 0);
            uint8_t ch = v->vram[addr * 4];
            const char *s;
            char one[2] = {(char)ch, 0};
            if (ch >= 0x7f) s = cp437_high[ch - 0x7f];
            else if (ch < 0x20) s = cp437_low[ch];
            else s = one;
            size_t l = strlen(s);
            if (n + l + 2 >= size) goto out;
            memcpy(buf + n, s, l);
            n += l;
            if (!(l == 1 && s[0] == ' ')) last_nonblank = n;
        }
        n = last_nonblank; /* trim trailing blanks */
        buf[n++] = '\n';
    }
out:
    /* drop blank lines at the end */
    while (n >= 2 && buf[n - 1] == '\n' && buf[n - 2] == '\n') n--;
    buf[n] = 0;
    return (int)n;
}

const char *vga_cp437_utf8(uint8_t ch)
{
    /* printable ASCII as one-character strings */
    static const char ascii[0x5f][2] = {
        " ", "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".",
        "/", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">",
        "?", "@", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N",
        "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "[", "\\", "]",
        "^", "_", "`", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
        "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "{", "|", "}",
        "~"
    };
    if (ch >= 0x7f) return cp437_high[ch - 0x7f];
    if (ch < 0x20) return cp437_low[ch];
    return ascii[ch - 0x20];
}

int vga_text_cells(const Vga *v, uint16_t *cells, size_t max, VgaTextInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->cursor_row = info->cursor_col = -1;
    if (vbe_on(v) || vga_graphics(v)) return -1;
    unsigned cols, rows, cheight;
    if (!text_geometry(v, &cols, &rows, &cheight)) return -1;
    info->cols = cols;
    info->rows = rows;
    info->blink = (v->attr[0x10] & 0x08) != 0;
    if ((size_t)cols * rows > max) return -1;
    uint32_t start = crtc_start(v), stride = crtc_stride(v, cols);
    for (unsigned r = 0; r < rows; r++)
        for (unsigned c = 0; c < cols; c++) {
            uint32_t a = crtc_address(v, start + r * stride + c, 0);
            cells[r * cols + c] = (uint16_t)(v->vram[a * 4] | v->vram[a * 4 + 1] << 8);
        }
    uint32_t cursor = (uint32_t)v->crtc[0x0e] << 8 | v->crtc[0x0f];
    uint32_t off = (cursor - start) & 0xffff;
    if (!(v->crtc[0x0a] & 0x20) && stride && off / stride < rows && off % stride < cols) {
        info->cursor_row = (int)(off / stride);
        info->cursor_col = (int)(off % stride);
    }
    return 0;
}

/* ---- rendering ---- */

/* DAC entry -> 0x00RRGGBB, through the pel mask; 6-bit components unless VBE
 * switched the DAC to 8 bits. */
static uint32_t dac_rgb(const Vga *v, uint8_t index)
{
    const uint8_t *c = &v->dac[(index & v->pel_mask) * 3];
    uint32_t r = c[0], g = c[1], b = c[2];
    if (!dac_8bit(v)) {
        r = (r & 0x3f) << 2 | (r & 0x3f) >> 4;
        g = (g & 0x3f) << 2 | (g & 0x3f) >> 4;
        b = (b & 0x3f) << 2 | (b & 0x3f) >> 4;
    }
    return r << 16 | g << 8 | b;
}

/* A 4-bit pixel or text colour -> RGB through the attribute palette, the colour select
 * register (bits 7:6, or 5:4 too when mode control bit 7 asks) and the DAC. */
static uint32_t attr_rgb(const Vga *v, unsigned c4)
{
    uint8_t p = v->attr[c4 & 0x0f] & 0x3f;
    uint8_t cs = v->attr[0x14];
    if (v->attr[0x10] & 0x80) p = (uint8_t)((p & 0x0f) | (cs & 0x03) << 4);
    return dac_rgb(v, (uint8_t)(p | (cs & 0x0c) << 4));
}

/* Offset of character map 0-7 in plane 2 (sequencer character map select). */
static uint32_t font_base(unsigned map) { return (map & 3) * 0x4000u + (map >> 2) * 0x2000u; }

static int render_text(const Vga *v, uint32_t *rgb, int max_w, int max_h, int *w, int *h)
{
    unsigned cols, rows, cheight;
    if (!text_geometry(v, &cols, &rows, &cheight)) return -1;
    unsigned cw = (v->seq[1] & 1) ? 8 : 9;
    *w = (int)(cols * cw);
    *h = (int)(rows * cheight);
    if (*w > max_w || *h > max_h) return -1;
    uint32_t start = crtc_start(v), stride = crtc_stride(v, cols);
    uint8_t sel = v->seq[3];
    uint32_t map_a = font_base((sel >> 5 & 1) << 2 | (sel >> 2 & 3));
    uint32_t map_b = font_base((sel >> 4 & 1) << 2 | (sel & 3));
    uint8_t mode = v->attr[0x10];
    uint32_t cursor = (uint32_t)v->crtc[0x0e] << 8 | v->crtc[0x0f];
    bool cursor_on = !(v->crtc[0x0a] & 0x20);
    unsigned cur_first = v->crtc[0x0a] & 0x1f, cur_last = v->crtc[0x0b] & 0x1f;
    for (unsigned y = 0; y < rows * cheight; y++) {
        unsigned row = y / cheight, rsc = y % cheight;
        uint32_t *out = rgb + (size_t)y * *w;
        for (unsigned c = 0; c < cols; c++) {
            uint32_t ma = start + row * stride + c;
            uint32_t a = crtc_address(v, ma, rsc);
            uint8_t ch = v->vram[a * 4], at = v->vram[a * 4 + 1];
            uint32_t font = (at & 0x08) ? map_a : map_b;
            uint8_t glyph = rsc < 32 ? v->vram[(font + ch * 32u + rsc) * 4 + 2] : 0;
            if (cursor_on && (ma & 0xffff) == cursor && rsc >= cur_first && rsc <= cur_last)
                glyph = 0xff;
            unsigned bg = at >> 4;
            if (mode & 0x08) bg &= 7; /* bit 7 means blink, not bright background */
            uint32_t fgc = attr_rgb(v, at & 0x0f), bgc = attr_rgb(v, bg);
            /* the ninth dot repeats the eighth for the line-drawing characters */
            bool dup9 = (mode & 0x04) && ch >= 0xc0 && ch <= 0xdf;
            for (unsigned x = 0; x < cw; x++) {
                bool on = x < 8 ? (glyph >> (7 - x)) & 1 : dup9 && (glyph & 1);
                out[c * cw + x] = on ? fgc : bgc;
            }
        }
    }
    return 0;
}

static int render_graphics(const Vga *v, uint32_t *rgb, int max_w, int max_h, int *w, int *h)
{
    unsigned clocks = v->crtc[1] + 1u;
    bool c256 = (v->attr[0x10] & 0x40) || (v->gc[5] & 0x40);
    bool cga = !c256 && (v->gc[5] & 0x20); /* shift register interleave: 2 bits/pixel */
    unsigned lines = crtc_lines(v);
    if (v->crtc[9] & 0x80) lines /= 2; /* double scan */
    unsigned msl = (v->crtc[9] & 0x1f) + 1u;
    /* with the CGA bank bits active every scan line of a character row has its own
     * memory; otherwise the lines of a row repeat one memory line */
    bool banked = (v->crtc[0x17] & 3) != 3 && msl > 1;
    unsigned height = banked ? lines : lines / msl;
    unsigned width = clocks * 8 / (c256 ? 2 : 1);
    if (width == 0 || height == 0) return -1;
    *w = (int)width;
    *h = (int)height;
    if (*w > max_w || *h > max_h) return -1;
    uint32_t start = crtc_start(v), stride = crtc_stride(v, clocks);
    uint8_t planes_on = v->attr[0x12] & 0x0f;
    for (unsigned y = 0; y < height; y++) {
        unsigned row = banked ? y / msl : y, rsc = banked ? y % msl : 0;
        uint32_t *out = rgb + (size_t)y * width;
        for (unsigned c = 0; c < clocks; c++) {
            const uint8_t *p = &v->vram[crtc_address(v, start + row * stride + c, rsc) * 4];
            if (c256) {
                for (int k = 0; k < 4; k++) out[c * 4 + k] = dac_rgb(v, p[k]);
            } else if (cga) {
                /* planes 0/2 give the first four pixels, planes 1/3 the next four */
                for (int k = 0; k < 8; k++) {
                    int sh = 6 - 2 * (k & 3), hi = k >> 2;
                    unsigned px = (p[hi] >> sh & 3) | (p[2 + hi] >> sh & 3) << 2;
                    out[c * 8 + k] = attr_rgb(v, px & planes_on);
                }
            } else {
                for (int k = 0; k < 8; k++) {
                    unsigned px = 0;
                    for (int pl = 0; pl < 4; pl++) px |= (p[pl] >> (7 - k) & 1u) << pl;
                    out[c * 8 + k] = attr_rgb(v, px & planes_on);
                }
            }
        }
    }
    return 0;
}

static int render_vbe(const Vga *v, uint32_t *rgb, int max_w, int max_h, int *w, int *h)
{
    unsigned xres = v->vbe_regs[VBE_XRES], yres = v->vbe_regs[VBE_YRES], bpp = vbe_bpp(v);
    if (xres == 0 || yres == 0) return -1;
    *w = (int)xres;
    *h = (int)yres;
    if (*w > max_w || *h > max_h) return -1;
    uint32_t vw = v->vbe_regs[VBE_VIRT_WIDTH] > xres ? v->vbe_regs[VBE_VIRT_WIDTH] : xres;
    uint32_t xo = v->vbe_regs[VBE_X_OFFSET], yo = v->vbe_regs[VBE_Y_OFFSET];
    unsigned bytes = (bpp + 7) / 8;
    for (unsigned y = 0; y < yres; y++) {
        uint32_t *out = rgb + (size_t)y * xres;
        for (unsigned x = 0; x < xres; x++) {
            uint64_t px = x + xo, py = y + yo;
            uint32_t c = 0;
            if (bpp == 4) {
                uint64_t a = py * (vw / 8) + px / 8;
                if (a < PLANE_BYTES) {
                    const uint8_t *p = &v->vram[a * 4];
                    unsigned idx = 0;
                    for (int pl = 0; pl < 4; pl++) idx |= (p[pl] >> (7 - px % 8) & 1u) << pl;
                    c = attr_rgb(v, idx & v->attr[0x12]);
                }
            } else {
                uint64_t o = py * vw * bytes + px * bytes;
                if (o + bytes <= VGA_VRAM_SIZE) {
                    const uint8_t *p = &v->vram[o];
                    uint32_t w16 = p[0] | (bytes > 1 ? p[1] << 8 : 0);
                    switch (bpp) {
                    case 8: c = dac_rgb(v, p[0]); break;
                    case 15:
                        c = (w16 >> 10 & 31) << 19 | (w16 >> 12 & 7) << 16 | (w16 >> 5 & 31) << 11 |
                            (w16 >> 7 & 7) << 8 | (w16 & 31) << 3 | (w16 >> 2 & 7);
                        break;
                    case 16:
                        c = (w16 >> 11 & 31) << 19 | (w16 >> 13 & 7) << 16 | (w16 >> 5 & 63) << 10 |
                            (w16 >> 9 & 3) << 8 | (w16 & 31) << 3 | (w16 >> 2 & 7);
                        break;
                    default: c = (uint32_t)p[2] << 16 | p[1] << 8 | p[0]; break; /* 24, 32 */
                    }
                }
            }
            out[x] = c;
        }
    }
    return 0;
}

int vga_render(const Vga *v, uint32_t *rgb, int max_w, int max_h, int *w, int *h)
{
    *w = *h = 0;
    if (vbe_on(v)) return render_vbe(v, rgb, max_w, max_h, w, h);
    if (!vga_graphics(v)) return render_text(v, rgb, max_w, max_h, w, h);
    return render_graphics(v, rgb, max_w, max_h, w, h);
}

/* ---- lifecycle ---- */

void vga_reset(void *opaque)
{
    Vga *v = opaque;
    v->misc = 0x01; /* colour: CRTC at 0x3Dx */
    memset(v->seq, 0, sizeof(v->seq));
    memset(v->gc, 0, sizeof(v->gc));
    memset(v->crtc, 0, sizeof(v->crtc));
    memset(v->attr, 0, sizeof(v->attr));
    v->seq_index = v->gc_index = v->crtc_index = v->attr_index = 0;
    v->attr_flipflop = false;
    v->pel_mask = 0xff;
    v->dac_read_index = v->dac_write_index = v->dac_sub = v->dac_state = 0;
    v->latch = 0;
    v->status1 = 0;
    v->vbe_index = 0;
    memset(v->vbe_regs, 0, sizeof(v->vbe_regs));
    v->vbe_regs[VBE_ID] = VBE_ID5;
    v->vbe_regs[VBE_BPP] = 8;
    /* power-on text mode 80x25 until the VGA BIOS programs it */
    v->seq[2] = 0x03;
    v->seq[4] = 0x02;
    v->gc[5] = 0x10;
    v->gc[6] = 0x0e;
    v->gc[8] = 0xff; /* bit mask: CPU data passes unchanged */
    v->crtc[1] = 79;
    v->crtc[9] = 15;
    v->crtc[0x12] = 0x8f;
    v->crtc[7] = 0x02; /* vertical display end bit 8: 400 lines = 25 rows of 16 */
    v->crtc[0x13] = 40;
    v->crtc[0x17] = 0xa3;
    pci_device_reset(&v->pci);
}

static const StateField vga_fields[] = {
    STATE_U8(Vga, misc), STATE_U8(Vga, seq_index), STATE_U8_ARRAY(Vga, seq, 8),
    STATE_U8(Vga, gc_index), STATE_U8_ARRAY(Vga, gc, 16), STATE_U8(Vga, crtc_index),
    STATE_U8_ARRAY(Vga, crtc, 32), STATE_U8(Vga, attr_index), STATE_U8_ARRAY(Vga, attr, 32),
    STATE_BOOL(Vga, attr_flipflop), STATE_U8(Vga, dac_read_index),
    STATE_U8(Vga, dac_write_index), STATE_U8(Vga, dac_sub), STATE_U8(Vga, dac_state),
    STATE_U8_ARRAY(Vga, dac, 768), STATE_U8(Vga, pel_mask), STATE_U32(Vga, latch),
    STATE_U8(Vga, feature), STATE_U8(Vga, status1), STATE_U16(Vga, vbe_index),
    STATE_U16_ARRAY(Vga, vbe_regs, 16), STATE_PCI_DEVICE(Vga, pci),
    STATE_END,
};
static const StateDesc vga_state = {"vga", 1, vga_fields};

static int vga_post_load(void *opaque)
{
    Vga *v = opaque;
    /* put the framebuffer and ROM back where the loaded BARs say */
    pci_device_post_load(&v->pci);
    return 0;
}

const DeviceOps vga_device_ops = {
    .name = "vga", .reset = vga_reset, .state = &vga_state, .post_load = vga_post_load,
};

int vga_init(Vga *v, Bus *bus, PhysMem *mem, PciBus *pci, const uint8_t *rom, uint32_t rom_size)
{
    memset(v, 0, sizeof(*v));
    v->vram = calloc(1, VGA_VRAM_SIZE);
    if (!v->vram) return -1;
    v->mem = mem;
    v->bus = bus;
    v->lfb_addr = PCI_BAR_UNMAPPED;
    v->rom_addr = PCI_BAR_UNMAPPED;
    if (rom && rom_size) {
        /* a power of two, at least a page so the BAR lands on a page boundary */
        uint32_t sz = PAGE_SIZE;
        while (sz < rom_size && sz < (1u << 24)) sz <<= 1;
        if (rom_size > sz) rom_size = sz;
        v->rom = malloc(sz);
        if (!v->rom) return -1;
        memset(v->rom, 0xff, sz);
        memcpy(v->rom, rom, rom_size);
        v->rom_size = sz;
    }
    bus_map_io(bus, 0x3b0, 0x30, &vga_io_ops, v);
    bus_map_io(bus, 0x1ce, 3, &vbe_ops, v);
    bus_map_mmio(bus, 0xa0000, 0x20000, &vga_mem_ops, v);
    pci_device_init(&v->pci, 0x1234, 0x1111, 0x030000);
    v->pci.config[0x08] = 0x02; /* revision */
    /* subsystem 1af4:1100, as QEMU's std VGA */
    v->pci.config[0x2c] = 0xf4;
    v->pci.config[0x2d] = 0x1a;
    v->pci.config[0x2e] = 0x00;
    v->pci.config[0x2f] = 0x11;
    v->pci.opaque = v;
    v->pci.bar_map = vga_bar_map;
    pci_set_bar(&v->pci, 0, VGA_VRAM_SIZE, PCI_BAR_MEM | PCI_BAR_PREFETCH);
    if (v->rom) pci_set_bar(&v->pci, PCI_ROM_BAR, v->rom_size, PCI_BAR_MEM);
    pci_register(pci, &v->pci, PCI_DEVFN(2, 0));
    vga_reset(v);
    return 0;
}

void vga_destroy(Vga *v)
{
    free(v->vram);
    free(v->rom);
    v->vram = NULL;
    v->rom = NULL;
}
