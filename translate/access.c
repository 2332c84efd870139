/*
 * access.c — the memory accessors that translated code calls when its inline RAM path
 * does not apply (first touch of a page, MMIO, a parked code page, a page-crossing
 * access, a limit or paging fault): the interpreter's own segmented access, after
 * which the page's host address is put in Cpu.tlb_host so the next access to it stays
 * inline.
 */
#include "cpu/mmu.h"
#include "translate/dbt_internal.h"

static inline void fill_host(Cpu *c, int seg, uint32_t off)
{
    if (!(c->cr[0] & CR0_PG)) return; /* without paging the page map is used directly */
    uint32_t lin = c->seg[seg].base + off;
    unsigned i = (lin >> 12) & (TLB_SIZE - 1);
    const TlbEntry *t = &c->tlb[i];
    if (t->tag != ((lin & ~0xfffu) | TLB_VALID)) return;
    uint32_t page = (t->pa & c->a20_mask) >> PAGE_SHIFT;
    c->tlb_host[i][0] = c->mem->rd[page];
    c->tlb_host[i][1] = c->mem->wr[page];
}

uint32_t dbt_rd8(Cpu *c, int seg, uint32_t off)
{
    uint32_t v = mem_read8(c, seg, off);
    fill_host(c, seg, off);
    return v;
}
uint32_t dbt_rd16(Cpu *c, int seg, uint32_t off)
{
    uint32_t v = mem_read16(c, seg, off);
    fill_host(c, seg, off);
    return v;
}
uint32_t dbt_rd32(Cpu *c, int seg, uint32_t off)
{
    uint32_t v = mem_read32(c, seg, off);
    fill_host(c, seg, off);
    return v;
}
void dbt_wr8(Cpu *c, int seg, uint32_t off, uint32_t v)
{
    mem_write8(c, seg, off, (uint8_t)v);
    fill_host(c, seg, off);
}
void dbt_wr16(Cpu *c, int seg, uint32_t off, uint32_t v)
{
    mem_write16(c, seg, off, (uint16_t)v);
    fill_host(c, seg, off);
}
void dbt_wr32(Cpu *c, int seg, uint32_t off, uint32_t v)
{
    mem_write32(c, seg, off, v);
    fill_host(c, seg, off);
}
