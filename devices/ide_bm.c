/*
 * ide_bm.c — the PIIX3's bus-master IDE function in BAR4 ("Programming Interface for
 * Bus Master IDE Controller", rev 1.0): per channel a command register (start/stop,
 * direction), a status register (Active, Error, Interrupt, the drives' DMA-capable
 * bits) and the PRD table pointer. ide.c asks it to move a drive's data; it walks the
 * physical region descriptors in guest memory and copies page by page through the
 * PhysMem map, never keeping a host pointer across calls.
 *
 *     uint32_t n = ide_bm_move(c, d->buf, 65536, true);   // drive -> guest memory
 *     if (n < 65536 && !ide_bm_active(c)) ...             // the PRD table ran out
 */
#include <string.h>

#include "devices/ide.h"

/* PRD: dword 0 the region's address (bit 0 is zero), dword 1 the byte count in bits
 * 15-1 (0 means 64 KiB) and End Of Table in bit 31 */
#define PRD_EOT 0x80000000u
#define PRD_COUNT 0xfffeu

/* PCI configuration: command bit 2 lets the function master the bus; status bit 13
 * (bit 5 of its high byte) records a master abort */
#define PCI_CMD_BUS_MASTER 0x04
#define PCI_STATUS_HI_MASTER_ABORT 0x20

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *bm_regs(IdeChannel *c) { return &c->ide->bm[8 * c->index]; }

bool ide_bm_active(const IdeChannel *c)
{
    const uint8_t *r = &c->ide->bm[8 * c->index];
    return (r[0] & BM_CMD_START) && (r[2] & BM_ST_ACTIVE);
}

void ide_bm_irq(IdeChannel *c) { bm_regs(c)[2] |= BM_ST_INTR; }

void ide_bm_underrun(IdeChannel *c)
{
    uint8_t *r = bm_regs(c);
    if (r[0] & BM_CMD_START) r[2] |= BM_ST_ERROR;
}

static bool may_master(const IdeChannel *c)
{
    return c->ide->pci.config[0x04] & PCI_CMD_BUS_MASTER;
}

/* No target claimed the cycle (no RAM or ROM there, or bus mastering is off): the PCI
 * status records it and the Error bit tells the driver. */
static void master_abort(IdeChannel *c)
{
    bm_regs(c)[2] |= BM_ST_ERROR;
    c->ide->pci.config[0x07] |= PCI_STATUS_HI_MASTER_ABORT;
}

/* Load the next descriptor; false (and Active off) if it cannot be read. */
static bool prd_fetch(IdeChannel *c)
{
    uint8_t raw[8];
    for (unsigned i = 0; i < 8; i++) { /* a descriptor may straddle a page boundary */
        const uint8_t *p = may_master(c) ? physmem_rd_ptr(c->ide->mem, c->prd_next + i) : NULL;
        if (!p) {
            master_abort(c);
            bm_regs(c)[2] &= (uint8_t)~BM_ST_ACTIVE;
            return false;
        }
        raw[i] = *p;
    }
    uint32_t addr = le32(raw), cnt = le32(raw + 4);
    c->prd_next += 8;
    c->prd_addr = addr & ~1u;
    c->prd_left = (cnt & PRD_COUNT) ? cnt & PRD_COUNT : 0x10000;
    c->prd_last = cnt & PRD_EOT;
    return true;
}

uint32_t ide_bm_move(IdeChannel *c, uint8_t *buf, uint32_t len, bool to_memory)
{
    PhysMem *mem = c->ide->mem;
    uint8_t *r = bm_regs(c);
    uint32_t done = 0;
    /* every descriptor moves at least 2 bytes, so a table without EOT still ends
     * when the data does */
    while (done < len && ide_bm_active(c)) {
        if (!c->prd_left) {
            if (c->prd_last) { /* cannot happen: Active went off with the last byte */
                r[2] &= (uint8_t)~BM_ST_ACTIVE;
                break;
            }
            if (!prd_fetch(c)) break;
            continue;
        }
        uint32_t n = len - done;
        if (n > c->prd_left) n = c->prd_left;
        uint32_t page_left = PAGE_SIZE - (c->prd_addr & PAGE_MASK);
        if (n > page_left) n = page_left;
        bool master = may_master(c);
        if (to_memory) {
            uint8_t *p = master ? physmem_wr_ptr(mem, c->prd_addr) : NULL;
            if (p) memcpy(p, buf + done, n);
            else if (!master || !physmem_rd_ptr(mem, c->prd_addr)) master_abort(c);
            /* else ROM: the write is claimed and ignored */
        } else {
            const uint8_t *p = master ? physmem_rd_ptr(mem, c->prd_addr) : NULL;
            if (p) {
                memcpy(buf + done, p, n);
            } else {
                memset(buf + done, 0xff, n);
                master_abort(c);
            }
        }
        c->prd_addr += n;
        c->prd_left -= n;
        done += n;
        /* the spec: Active clears with the last transfer of the region marked EOT */
        if (!c->prd_left && c->prd_last) r[2] &= (uint8_t)~BM_ST_ACTIVE;
    }
    return done;
}

/* ---- the registers ---- */

static uint32_t bm_read(void *opaque, uint32_t off, unsigned size)
{
    Ide *s = opaque;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= (uint32_t)s->bm[(off + i) & 15] << (8 * i);
    return v;
}

static void bm_command_write(IdeChannel *c, uint8_t v)
{
    uint8_t *r = bm_regs(c);
    uint8_t old = r[0];
    r[0] = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
    if (!((old ^ v) & BM_CMD_START)) return; /* rewriting Start changes nothing */
    if (v & BM_CMD_START) {
        /* start at the table's first descriptor */
        c->prd_next = le32(r + 4);
        c->prd_addr = 0;
        c->prd_left = 0;
        c->prd_last = false;
        r[2] |= BM_ST_ACTIVE;
    } else {
        /* stopping aborts the transfer; its place in the table is lost */
        r[2] &= (uint8_t)~BM_ST_ACTIVE;
    }
    ide_dma_engine(c, v & BM_CMD_START);
}

static void bm_write(void *opaque, uint32_t off, uint32_t value, unsigned size)
{
    Ide *s = opaque;
    for (unsigned i = 0; i < size; i++) {
        unsigned reg = (off + i) & 15;
        uint8_t v = (uint8_t)(value >> (8 * i));
        switch (reg & 7) {
        case 0: bm_command_write(&s->ch[reg >> 3], v); break;
        case 2: /* drive DMA capable bits R/W, error and interrupt write-1-to-clear */
            s->bm[reg] = (uint8_t)((s->bm[reg] & 0x07 & ~(v & 0x06)) | (v & 0x60));
            break;
        case 4: s->bm[reg] = v & 0xfc; break; /* the PRD table is dword aligned */
        case 5: case 6: case 7: s->bm[reg] = v; break;
        default: break; /* reserved */
        }
    }
}

void ide_bm_map(Ide *s, uint32_t addr)
{
    static const DeviceOps bm_ops = {
        .name = "ide-bm", .read = bm_read, .write = bm_write, .min_access = 1, .max_access = 4,
    };
    if (addr == s->bm_base) return;
    if (s->bm_base != PCI_BAR_UNMAPPED) bus_unmap_io(s->bus, (uint16_t)s->bm_base, 16);
    s->bm_base = addr;
    if (addr != PCI_BAR_UNMAPPED) bus_map_io(s->bus, (uint16_t)addr, 16, &bm_ops, s);
}
