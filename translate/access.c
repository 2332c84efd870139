/*
 * access.c — the memory accessors that translated code calls when its inline RAM path
 * does not apply (first touch of a page, MMIO, a parked code page, a page-crossing
 * access, a limit or paging fault): the interpreter's own segmented access, after
 * which the page's host address is put in Cpu.htlb so the next access to it stays
 * inline.
 */
#include "cpu/mmu.h"
#include "translate/dbt_internal.h"

static inline void fill_host(Cpu *c, int seg, uint32_t off)
{
    uint32_t lin = c->seg[seg].base + off;
    uint32_t lpage = lin & ~0xfffu;
    unsigned i = (lin >> 12) & (TLB_SIZE - 1);
    const TlbEntry *t = &c->tlb[i];
    bool paging = c->cr[0] & CR0_PG;
    /* with paging, what the TLB entry allows; without, every access (the entries are
     * dropped when CR0.PG or A20 changes) */
    if (paging && t->tag != (lpage | TLB_VALID)) return;
    uint32_t page = ((paging ? t->pa : lpage) & c->a20_mask) >> PAGE_SHIFT;
    uint8_t *host[2] = { c->mem->rd[page], c->mem->wr[page] };
    HostTlbEntry *e = &c->htlb[i];
    for (int acc = 0; acc < 2; acc++) {
        e->addend[acc] = host[acc] ? (intptr_t)host[acc] - (intptr_t)lpage : 0;
        for (int user = 0; user < 2; user++) {
            bool ok = host[acc] && (!paging || (t->perm & (1u << (acc * 2 + user))));
            e->tag[acc * 2 + user] = ok ? lpage | HTLB_PAGE_BITS : 0;
        }
    }
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
