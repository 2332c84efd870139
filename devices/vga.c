/*
 * vga.c — the standard VGA (see vga.h).
 *
 * Video memory layout: the four planes are interleaved, byte `a` of plane `p` at
 * vram[a * 4 + p]. Chain-4 (mode 13h) is then simply linear (offset o -> vram[o]),
 * odd/even text mode puts character i at plane 0 and its attribute at plane 1 of
 * address 2*i, and the VBE linear framebuffer and banked window are linear too.
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
#define VBE_ID5 0xb0c5
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM 0x80
#define VBE_MAX_XRES 2560
#define VBE_MAX_YRES 1600
#define VBE_MAX_BPP 32

static bool vbe_on(const Vga *v) { return v->vbe_regs[VBE_ENABLE] & VBE_ENABLED; }

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

static uint8_t vga_mem_readb(Vga *v, uint32_t off)
{
    if (vbe_on(v)) {
        if (off >= 0x10000) return 0xff;
        uint32_t a = v->vbe_regs[VBE_BANK] * 0x10000u + off;
        return a < VGA_VRAM_SIZE ? v->vram[a] : 0xff;
    }
    int32_t o = window_offset(v, off);
    if (o < 0) return 0xff;
    if (v->seq[4] & 0x08) return v->vram[o]; /* chain-4 */
    uint32_t addr;
    int plane;
    if (!(v->seq[4] & 0x04) || (v->gc[5] & 0x10)) {
        /* odd/even: A0 selects plane 0/1 (or 2/3 per the read map's bit 1) */
        plane = (v->gc[4] & 2) | (o & 1);
        addr = o & ~1u;
    } else {
        plane = v->gc[4] & 3;
        addr = o;
    }
    if (addr * 4 + 3 >= VGA_VRAM_SIZE) return 0xff;
    memcpy(&v->latch, &v->vram[addr * 4], 4);
    if (!(v->gc[5] & 0x08)) return v->vram[addr * 4 + plane];
    /* read mode 1: colour compare over the planes enabled by colour don't care */
    uint8_t result = 0;
    for (int bit = 0; bit < 8; bit++) {
        bool match = true;
        for (int p = 0; p < 4; p++) {
            if (!(v->gc[7] & (1 << p))) continue;
            int b = (v->vram[addr * 4 + p] >> bit) & 1;
            if (b != ((v->gc[2] >> p) & 1)) match = false;
        }
        if (match) result |= 1 << bit;
    }
    return result;
}

static void vga_mem_writeb(Vga *v, uint32_t off, uint8_t val)
{
    if (vbe_on(v)) {
        if (off >= 0x10000) return;
        uint32_t a = v->vbe_regs[VBE_BANK] * 0x10000u + off;
        if (a < VGA_VRAM_SIZE) v->vram[a] = val;
        return;
    }
    int32_t o = window_offset(v, off);
    if (o < 0) return;
    uint8_t mask = v->seq[2] & 0x0f;
    if (v->seq[4] & 0x08) {
        /* chain-4: the two low address bits select the plane */
        if (mask & (1 << (o & 3))) v->vram[o] = val;
        return;
    }
    if (!(v->seq[4] & 0x04) || (v->gc[5] & 0x10)) {
        int plane = (v->gc[4] & 2) | (o & 1);
        uint32_t addr = o & ~1u;
        if ((mask & (1 << plane)) && addr * 4 + plane < VGA_VRAM_SIZE)
            v->vram[addr * 4 + plane] = val;
        return;
    }
    uint32_t addr = o;
    if (addr * 4 + 3 >= VGA_VRAM_SIZE) return;
    unsigned wmode = v->gc[5] & 3;
    uint8_t rot = v->gc[3] & 7;
    uint8_t bitmask = v->gc[8];
    uint8_t planes[4];
    uint8_t latch[4];
    memcpy(latch, &v->latch, 4);
    if (wmode == 1) {
        memcpy(planes, latch, 4);
    } else {
        uint8_t data = val;
        if (wmode != 2) data = (uint8_t)((val >> rot) | (val << (8 - rot)));
        for (int p = 0; p < 4; p++) {
            uint8_t d;
            uint8_t m = bitmask;
            if (wmode == 0) {
                d = (v->gc[1] & (1 << p)) ? ((v->gc[0] & (1 << p)) ? 0xff : 0) : data;
            } else if (wmode == 2) {
                d = (val & (1 << p)) ? 0xff : 0;
            } else { /* mode 3: rotated data ANDed with the bit mask, set/reset as data */
                m = data & bitmask;
                d = (v->gc[0] & (1 << p)) ? 0xff : 0;
            }
            switch ((v->gc[3] >> 3) & 3) {
            case 1: d &= latch[p]; break;
            case 2: d |= latch[p]; break;
            case 3: d ^= latch[p]; break;
            default: break;
            }
            planes[p] = (d & m) | (latch[p] & ~m);
        }
    }
    for (int p = 0; p < 4; p++)
        if (mask & (1 << p)) v->vram[addr * 4 + p] = planes[p];
}

static uint32_t vga_mem_read(void *opaque, uint32_t off, unsigned size)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < size; i++) r |= (uint32_t)vga_mem_readb(opaque, off + i) << (8 * i);
    return r;
}

static void vga_mem_write(void *opaque, uint32_t off, uint32_t val, unsigned size)
{
    for (unsigned i = 0; i < size; i++) vga_mem_writeb(opaque, off + i, val >> (8 * i));
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

static uint32_t vga_io_read(void *opaque, uint32_t off, unsigned size)
{
    Vga *v = opaque;
    uint32_t port = 0x3b0 + off;
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
        return val;
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
        /* input status 1: retrace bits toggle on every read, so polling loops end */
        v->attr_flipflop = false;
        v->status1 ^= 0x09;
        return v->status1;
    default: return 0xff;
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
        } else if ((v->attr_index & 0x1f) < 0x15) {
            v->attr[v->attr_index & 0x1f] = val;
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
        v->dac[v->dac_write_index * 3 + v->dac_sub] = val & 0x3f;
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
            if (i == 7) v->crtc[7] = (v->crtc[7] & ~0x10) | (val & 0x10);
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

/* ---- Bochs VBE registers: index 0x1CE, data 0x1CF (16-bit) ---- */

static uint32_t vbe_read(void *opaque, uint32_t off, unsigned size)
{
    Vga *v = opaque;
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
    val &= 0xffff;
    if (off == 0) {
        v->vbe_index = val;
        return;
    }
    unsigned i = v->vbe_index;
    switch (i) {
    case VBE_ID:
        if (val >= 0xb0c0 && val <= VBE_ID5) v->vbe_regs[VBE_ID] = val;
        break;
    case VBE_XRES:
    case VBE_YRES:
        if (val <= (i == VBE_XRES ? VBE_MAX_XRES : VBE_MAX_YRES)) v->vbe_regs[i] = val;
        break;
    case VBE_BPP:
        if (val == 4 || val == 8 || val == 15 || val == 16 || val == 24 || val == 32)
            v->vbe_regs[i] = val;
        break;
    case VBE_BANK:
        if ((uint32_t)val * 0x10000u < VGA_VRAM_SIZE) v->vbe_regs[i] = val;
        break;
    case VBE_ENABLE: {
        bool was = vbe_on(v);
        v->vbe_regs[i] = val & (VBE_ENABLED | VBE_GETCAPS | VBE_LFB_ENABLED | VBE_NOCLEARMEM);
        if ((val & VBE_ENABLED) && !was) {
            v->vbe_regs[VBE_VIRT_WIDTH] = v->vbe_regs[VBE_XRES];
            v->vbe_regs[VBE_VIRT_HEIGHT] = v->vbe_regs[VBE_YRES];
            v->vbe_regs[VBE_X_OFFSET] = v->vbe_regs[VBE_Y_OFFSET] = 0;
            if (!(val & VBE_NOCLEARMEM)) {
                uint32_t bpp = v->vbe_regs[VBE_BPP] ? v->vbe_regs[VBE_BPP] : 8;
                uint64_t bytes = (uint64_t)v->vbe_regs[VBE_XRES] * v->vbe_regs[VBE_YRES] *
                                 ((bpp + 7) / 8);
                memset(v->vram, 0, bytes < VGA_VRAM_SIZE ? bytes : VGA_VRAM_SIZE);
            }
            /* graphics mode, chain-4 style linear access */
            v->gc[6] = (v->gc[6] & ~0x0c) | 0x05;
            v->seq[4] |= 0x08;
        }
        break;
    }
    case VBE_VIRT_WIDTH:
    case VBE_VIRT_HEIGHT:
    case VBE_X_OFFSET:
    case VBE_Y_OFFSET: v->vbe_regs[i] = val; break;
    default: break;
    }
}

static const DeviceOps vbe_ops = {
    .name = "vbe", .read = vbe_read, .write = vbe_write, .min_access = 2, .max_access = 2,
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

/* ---- text dump ---- */

/* Code page 437 0x80-0xFF as UTF-8 */
static const char *const cp437_high[128] = {
    "Ç", "ü", "é", "â", "ä", "à", "å", "ç", "ê", "ë", "è", "ï", "î", "ì", "Ä", "Å",
    "É", "æ", "Æ", "ô", "ö", "ò", "û", "ù", "ÿ", "Ö", "Ü", "¢", "£", "¥", "₧", "ƒ",
    "á", "í", "ó", "ú", "ñ", "Ñ", "ª", "º", "¿", "⌐", "¬", "½", "¼", "¡", "«", "»",
    "░", "▒", "▓", "│", "┤", "╡", "╢", "╖", "╕", "╣", "║", "╗", "╝", "╜", "╛", "┐",
    "└", "┴", "┬", "├", "─", "┼", "╞", "╟", "╚", "╔", "╩", "╦", "╠", "═", "╬", "╧",
    "╨", "╤", "╥", "╙", "╘", "╒", "╓", "╫", "╪", "┘", "┌", "█", "▄", "▌", "▐", "▀",
    "α", "ß", "Γ", "π", "Σ", "σ", "µ", "τ", "Φ", "Θ", "Ω", "δ", "∞", "φ", "ε", "∩",
    "≡", "±", "≥", "≤", "⌠", "⌡", "÷", "≈", "°", "∙", "·", "√", "ⁿ", "²", "■", " ",
};

int vga_text_dump(const Vga *v, char *buf, size_t size)
{
    if (size == 0) return -1;
    buf[0] = 0;
    if (vbe_on(v) || (v->gc[6] & 1)) return -1;
    unsigned cols = v->crtc[1] + 1u;
    unsigned vde = v->crtc[0x12] | ((v->crtc[7] & 0x02) << 7) | ((v->crtc[7] & 0x40) << 3);
    unsigned cheight = (v->crtc[9] & 0x1f) + 1u;
    unsigned rows = (vde + 1) / cheight;
    if (cols > 132 || rows > 100 || cols == 0 || rows == 0) return -1;
    uint32_t start = ((uint32_t)v->crtc[0x0c] << 8) | v->crtc[0x0d];
    size_t n = 0;
    for (unsigned r = 0; r < rows; r++) {
        size_t last_nonblank = n;
        for (unsigned c = 0; c < cols; c++) {
            uint32_t addr = ((start + r * cols + c) * 2) & 0xffff;
            uint8_t ch = v->vram[addr * 4];
            const char *s;
            char one[2] = {(char)ch, 0};
            if (ch >= 0x80) s = cp437_high[ch - 0x80];
            else if (ch < 0x20 || ch == 0x7f) s = " ";
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
    v->status1 = 0;
    v->vbe_index = 0;
    memset(v->vbe_regs, 0, sizeof(v->vbe_regs));
    v->vbe_regs[VBE_ID] = VBE_ID5;
    /* power-on text mode 80x25 until the VGA BIOS programs it */
    v->seq[2] = 0x03;
    v->seq[4] = 0x02;
    v->gc[5] = 0x10;
    v->gc[6] = 0x0e;
    v->crtc[1] = 79;
    v->crtc[9] = 15;
    v->crtc[0x12] = 0x8f;
    v->crtc[7] = 0x02; /* vertical display end bit 8: 400 lines = 25 rows of 16 */
}

static const StateField vga_fields[] = {
    STATE_U8(Vga, misc), STATE_U8(Vga, seq_index), STATE_U8_ARRAY(Vga, seq, 8),
    STATE_U8(Vga, gc_index), STATE_U8_ARRAY(Vga, gc, 16), STATE_U8(Vga, crtc_index),
    STATE_U8_ARRAY(Vga, crtc, 32), STATE_U8(Vga, attr_index), STATE_U8_ARRAY(Vga, attr, 32),
    STATE_BOOL(Vga, attr_flipflop), STATE_U8(Vga, dac_read_index),
    STATE_U8(Vga, dac_write_index), STATE_U8(Vga, dac_sub), STATE_U8(Vga, dac_state),
    STATE_U8_ARRAY(Vga, dac, 768), STATE_U8(Vga, pel_mask), STATE_U32(Vga, latch),
    STATE_U8(Vga, feature), STATE_U8(Vga, status1), STATE_U16(Vga, vbe_index),
    STATE_U16_ARRAY(Vga, vbe_regs, 16), STATE_BYTES(Vga, pci.config, 256),
    STATE_END,
};
static const StateDesc vga_state = {"vga", 1, vga_fields};

static int vga_post_load(void *opaque)
{
    Vga *v = opaque;
    /* BAR mappings are re-established by the PCI layer's post-load */
    (void)v;
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
        uint32_t sz = 2048;
        while (sz < rom_size) sz <<= 1;
        if (sz < PAGE_SIZE) sz = PAGE_SIZE;
        v->rom = malloc(sz);
        if (!v->rom) return -1;
        memset(v->rom, 0xff, sz);
        memcpy(v->rom, rom, rom_size);
        v->rom_size = sz;
    }
    bus_map_io(bus, 0x3b0, 0x30, &vga_io_ops, v);
    bus_map_io(bus, 0x1ce, 2, &vbe_ops, v);
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
