/*
 * dma.c — two 8237A DMA controllers and the 74LS612 page registers of the PC/AT.
 * Devices call dma_transfer() when they have data; the channel's registers decide the
 * addresses, the count and when terminal count (TC) is reached. The transfer modes
 * (demand/single/block) differ only in bus timing, which nothing here models.
 */
#include "devices/dma.h"

#include <string.h>

/* which page register (0x80 + index) each channel uses */
static const uint8_t page_index[8] = {0x7, 0x3, 0x1, 0x2, 0xf, 0xb, 0x9, 0xa};

static void dma_master_clear(DmaChip *c)
{
    c->command = 0;
    c->status = 0;
    c->request = 0;
    c->temp = 0;
    c->flipflop = 0;
    c->mask = 0x0f;
}

static void dma_reset(void *opaque)
{
    Dma *d = opaque;
    memset(d->ch, 0, sizeof(d->ch));
    memset(d->pages, 0, sizeof(d->pages));
    dma_master_clear(&d->chip[0]);
    dma_master_clear(&d->chip[1]);
}

/* Register `reg` (0-15 as on the 8237A) of chip `n`. */
static uint32_t dma_reg_read(Dma *d, int n, unsigned reg)
{
    DmaChip *c = &d->chip[n];
    if (reg < 8) {
        DmaChannel *ch = &d->ch[n * 4 + (reg >> 1)];
        uint16_t v = (reg & 1) ? ch->cur_count : ch->cur_addr;
        uint8_t b = c->flipflop ? (uint8_t)(v >> 8) : (uint8_t)v;
        c->flipflop ^= 1;
        return b;
    }
    switch (reg) {
    case 8: { /* status: reading clears the TC bits */
        uint8_t v = (c->status & 0x0f) | (uint8_t)(c->request << 4);
        c->status &= 0xf0;
        return v;
    }
    case 13: return c->temp;
    case 15: return 0xf0 | c->mask; /* the PIIX reads back the mask bits here */
    default: return 0xff;
    }
}

static void dma_reg_write(Dma *d, int n, unsigned reg, uint8_t v)
{
    DmaChip *c = &d->chip[n];
    if (reg < 8) {
        DmaChannel *ch = &d->ch[n * 4 + (reg >> 1)];
        uint16_t *base = (reg & 1) ? &ch->base_count : &ch->base_addr;
        if (c->flipflop) *base = (uint16_t)((*base & 0x00ff) | (v << 8));
        else *base = (uint16_t)((*base & 0xff00) | v);
        if (reg & 1) ch->cur_count = *base;
        else ch->cur_addr = *base;
        c->flipflop ^= 1;
        return;
    }
    switch (reg) {
    case 8: c->command = v; break;
    case 9: /* request register */
        if (v & 4) c->request |= 1 << (v & 3);
        else c->request &= ~(1 << (v & 3));
        break;
    case 10: /* single mask bit */
        if (v & 4) c->mask |= 1 << (v & 3);
        else c->mask &= ~(1 << (v & 3));
        break;
    case 11: d->ch[n * 4 + (v & 3)].mode = v; break;
    case 12: c->flipflop = 0; break;
    case 13: dma_master_clear(c); break;
    case 14: c->mask = 0; break;
    case 15: c->mask = v & 0x0f; break;
    }
}

static uint32_t dma1_read(void *o, uint32_t off, unsigned size) { return dma_reg_read(o, 0, off); }
static void dma1_write(void *o, uint32_t off, uint32_t v, unsigned size)
{
    dma_reg_write(o, 0, off, (uint8_t)v);
}
/* the second chip's registers sit at even ports 0xC0, 0xC2, ... (A0 is not wired) */
static uint32_t dma2_read(void *o, uint32_t off, unsigned size)
{
    return dma_reg_read(o, 1, off >> 1);
}
static void dma2_write(void *o, uint32_t off, uint32_t v, unsigned size)
{
    dma_reg_write(o, 1, off >> 1, (uint8_t)v);
}
static uint32_t page_read(void *o, uint32_t off, unsigned size)
{
    return ((Dma *)o)->pages[(off + 1) & 15];
}
static void page_write(void *o, uint32_t off, uint32_t v, unsigned size)
{
    ((Dma *)o)->pages[(off + 1) & 15] = (uint8_t)v;
}

static const StateField dma_fields[] = {
    STATE_U16(Dma, ch[0].base_addr), STATE_U16(Dma, ch[0].base_count),
    STATE_U16(Dma, ch[0].cur_addr), STATE_U16(Dma, ch[0].cur_count),
    STATE_U8(Dma, ch[0].mode), STATE_BOOL(Dma, ch[0].tc),
    STATE_U16(Dma, ch[1].base_addr), STATE_U16(Dma, ch[1].base_count),
    STATE_U16(Dma, ch[1].cur_addr), STATE_U16(Dma, ch[1].cur_count),
    STATE_U8(Dma, ch[1].mode), STATE_BOOL(Dma, ch[1].tc),
    STATE_U16(Dma, ch[2].base_addr), STATE_U16(Dma, ch[2].base_count),
    STATE_U16(Dma, ch[2].cur_addr), STATE_U16(Dma, ch[2].cur_count),
    STATE_U8(Dma, ch[2].mode), STATE_BOOL(Dma, ch[2].tc),
    STATE_U16(Dma, ch[3].base_addr), STATE_U16(Dma, ch[3].base_count),
    STATE_U16(Dma, ch[3].cur_addr), STATE_U16(Dma, ch[3].cur_count),
    STATE_U8(Dma, ch[3].mode), STATE_BOOL(Dma, ch[3].tc),
    STATE_U16(Dma, ch[4].base_addr), STATE_U16(Dma, ch[4].base_count),
    STATE_U16(Dma, ch[4].cur_addr), STATE_U16(Dma, ch[4].cur_count),
    STATE_U8(Dma, ch[4].mode), STATE_BOOL(Dma, ch[4].tc),
    STATE_U16(Dma, ch[5].base_addr), STATE_U16(Dma, ch[5].base_count),
    STATE_U16(Dma, ch[5].cur_addr), STATE_U16(Dma, ch[5].cur_count),
    STATE_U8(Dma, ch[5].mode), STATE_BOOL(Dma, ch[5].tc),
    STATE_U16(Dma, ch[6].base_addr), STATE_U16(Dma, ch[6].base_count),
    STATE_U16(Dma, ch[6].cur_addr), STATE_U16(Dma, ch[6].cur_count),
    STATE_U8(Dma, ch[6].mode), STATE_BOOL(Dma, ch[6].tc),
    STATE_U16(Dma, ch[7].base_addr), STATE_U16(Dma, ch[7].base_count),
    STATE_U16(Dma, ch[7].cur_addr), STATE_U16(Dma, ch[7].cur_count),
    STATE_U8(Dma, ch[7].mode), STATE_BOOL(Dma, ch[7].tc),
    STATE_U8(Dma, chip[0].command), STATE_U8(Dma, chip[0].status),
    STATE_U8(Dma, chip[0].request), STATE_U8(Dma, chip[0].mask),
    STATE_U8(Dma, chip[0].flipflop), STATE_U8(Dma, chip[0].temp),
    STATE_U8(Dma, chip[1].command), STATE_U8(Dma, chip[1].status),
    STATE_U8(Dma, chip[1].request), STATE_U8(Dma, chip[1].mask),
    STATE_U8(Dma, chip[1].flipflop), STATE_U8(Dma, chip[1].temp),
    STATE_U8_ARRAY(Dma, pages, 16),
    STATE_END,
};
static const StateDesc dma_state = {"dma", 1, dma_fields};

const DeviceOps dma_ops = {
    .name = "dma", .reset = dma_reset, .read = dma1_read, .write = dma1_write,
    .min_access = 1, .max_access = 1, .state = &dma_state,
};
static const DeviceOps dma2_ops = {
    .name = "dma2", .read = dma2_read, .write = dma2_write, .min_access = 1, .max_access = 1,
};
static const DeviceOps dma_page_ops = {
    .name = "dma-page", .read = page_read, .write = page_write, .min_access = 1,
    .max_access = 1,
};

void dma_init(Dma *d, Bus *bus, PhysMem *mem)
{
    memset(d, 0, sizeof(*d));
    d->mem = mem;
    dma_reset(d);
    bus_map_io(bus, 0x00, 16, &dma_ops, d);
    bus_map_io(bus, 0xc0, 32, &dma2_ops, d);
    bus_map_io(bus, 0x81, 15, &dma_page_ops, d); /* 0x80 is the POST code port */
}

bool dma_channel_ready(Dma *d, int ch)
{
    if (ch < 0 || ch > 7) return false;
    const DmaChip *c = &d->chip[ch >> 2];
    if (c->command & 0x04) return false;
    if (c->mask & (1 << (ch & 3))) return false;
    if ((d->ch[ch].mode & DMA_MODE_SEL_MASK) == DMA_MODE_SEL_MASK) return false; /* cascade */
    return true;
}

bool dma_terminal_count(Dma *d, int ch) { return ch >= 0 && ch <= 7 && d->ch[ch].tc; }

int dma_transfer(Dma *d, int ch, void *buf, int len, bool to_memory)
{
    if (!dma_channel_ready(d, ch) || len <= 0) return 0;
    DmaChannel *c = &d->ch[ch];
    DmaChip *chip = &d->chip[ch >> 2];
    bool word = ch >= 4;
    unsigned unit = word ? 2 : 1;
    unsigned type = (c->mode & DMA_MODE_TYPE_MASK) >> 2;
    uint8_t *p = buf;
    int done = 0;
    c->tc = false;
    while (done + (int)unit <= len || (word && done < len)) {
        uint32_t addr = word ? ((uint32_t)(d->pages[page_index[ch]] & 0xfe) << 16) |
                                   ((uint32_t)c->cur_addr << 1)
                             : ((uint32_t)d->pages[page_index[ch]] << 16) | c->cur_addr;
        for (unsigned b = 0; b < unit && done < len; b++, done++) {
            if (type == 0 || type == 3) continue; /* verify (and the illegal type) */
            if (to_memory) {
                uint8_t *m = physmem_wr_ptr(d->mem, addr + b);
                if (m) *m = p[done];
            } else {
                const uint8_t *m = physmem_rd_ptr(d->mem, addr + b);
                p[done] = m ? *m : 0xff;
            }
        }
        c->cur_addr = (uint16_t)(c->cur_addr + ((c->mode & DMA_MODE_DECREMENT) ? -1 : 1));
        if (c->cur_count-- == 0) {
            /* terminal count: report it, then re-arm (auto-init) or mask the channel */
            c->tc = true;
            chip->status |= 1 << (ch & 3);
            chip->request &= ~(1 << (ch & 3));
            if (c->mode & DMA_MODE_AUTOINIT) {
                c->cur_addr = c->base_addr;
                c->cur_count = c->base_count;
            } else {
                chip->mask |= 1 << (ch & 3);
                break;
            }
        }
    }
    return done;
}
