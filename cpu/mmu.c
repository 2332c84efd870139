/*
 * mmu.c — paging (Intel SDM vol. 3 ch. 4): 32-bit paging with 4 KiB and (CR4.PSE)
 * 4 MiB pages, PAE paging with PDPTE registers, 2 MiB pages and the XD bit (EFER.NXE),
 * global pages (CR4.PGE), U/S and R/W combined across levels with CR0.WP, accessed and
 * dirty bits, reserved-bit checks, #PF error codes — and a software TLB.
 *
 * TLB: TLB_SIZE direct-mapped entries indexed by linear page number, each a 4 KiB piece
 * of a translation (large pages are cached piecewise) with a bitmask of the access
 * kinds (read/write/fetch x supervisor/user) that may use it without a walk. An entry
 * is filled only by a successful walk that has set the A bits, and its write bits only
 * when the final entry is dirty, so a hit never skips an A/D update. Entries are
 * flushed by CR3 writes (except global ones), INVLPG (one page) and mmu_flush (all).
 *
 * Physical addresses: MAXPHYADDR is 36 (PAE without CPUID leaf 0x80000008); bits 62:36
 * of PAE entries are reserved. Memory exists only below 4 GiB: page-table reads above
 * it return all ones, but a final address above it wraps to 32 bits (mmu_translate
 * returns a 32-bit address; no real guest maps pages where there is no memory).
 * PAT bits (PTE bit 7, large-page bit 12) are accepted and ignored, like PCD/PWT.
 * A/D bits are set only by accesses that succeed. The #PF I/D bit is set for every
 * faulting fetch when PAE and EFER.NXE are on (SDM vol. 3 4.7; no SMEP here).
 */
#include <string.h>

#include "cpu/mmu.h"

#include "cpu/interp.h"

#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_PS 0x080u
#define PTE_G 0x100u
#define PTE_XD (1ull << 63)

/* 32-bit paging, 4 MiB PDE without PSE-36: bits 21:13 are reserved (bit 12 is PAT,
 * accepted and ignored: memory types are not modelled). */
#define RSVD_PDE4M 0x003fe000u
/* PAE: address bits above MAXPHYADDR (36) up to 62; bit 63 too unless EFER.NXE. */
#define RSVD_PAE_HIGH 0x7ffffff000000000ull
/* PAE 2 MiB PDE: bits 20:13 (bit 12 is PAT). */
#define RSVD_PDE2M 0x00000000001fe000ull
/* PDPTE: bits 2:1 and 8:5, and 63:36 (no XD at this level). */
#define RSVD_PDPTE (0xfffffff000000000ull | 0x1e6ull)
#define PAE_ADDR 0x0000000ffffff000ull /* bits 35:12 */

/* The result of a successful walk. */
typedef struct WalkResult {
    uint64_t pa;     /* physical page address of the 4 KiB piece */
    bool rw, us, nx; /* combined over the levels */
    bool dirty;      /* final entry's D after the walk's update */
    uint8_t flags;   /* TLBF_* */
} WalkResult;

static bool pae_on(const Cpu *c) { return c->cr[4] & CR4_PAE; }
static bool nxe_on(const Cpu *c) { return c->msr_efer & EFER_NXE; }

/* A 64-bit paging-structure entry; nothing above 4 GiB reads as all ones. */
static uint64_t read_entry64(Cpu *c, uint64_t addr)
{
    if (addr >> 32) return ~0ull;
    return phys_read(c, (uint32_t)addr, 4) | (uint64_t)phys_read(c, (uint32_t)addr + 4, 4) << 32;
}

/* Sets A (and D when `dirty`) in the low dword of an entry at `addr` if not yet set. */
static void set_ad(Cpu *c, uint64_t addr, uint32_t lo, bool dirty)
{
    uint32_t want = lo | PTE_A | (dirty ? PTE_D : 0);
    if (want != lo && !(addr >> 32)) phys_write(c, (uint32_t)addr, want, 4);
}

/* Walks the tables for `lin`. Returns true with *r, or false with the #PF error code.
 * Sets A/D bits only when `update` (and only when the access is allowed). */
static bool walk(Cpu *c, uint32_t lin, int acc, bool user, bool update, WalkResult *r,
                 uint32_t *err)
{
    bool write = acc == MMU_WRITE, fetch = acc == MMU_FETCH;
    bool pae = pae_on(c);
    uint32_t e = (write ? PF_W : 0) | (user ? PF_U : 0);
    if (fetch && pae && nxe_on(c)) e |= PF_ID;
    uint64_t pde_addr, pte_addr = 0, pde, pte = 0;
    bool large;
    r->flags = 0;
    if (pae) {
        uint64_t pdpte = c->pdpte[(lin >> 30) & 3];
        if (!(pdpte & PTE_P)) goto not_present;
        uint64_t rsvd = RSVD_PAE_HIGH | (nxe_on(c) ? 0 : PTE_XD);
        pde_addr = (pdpte & PAE_ADDR) | ((lin >> 18) & 0xff8);
        pde = read_entry64(c, pde_addr);
        if (!(pde & PTE_P)) goto not_present;
        large = pde & PTE_PS;
        if (pde & (rsvd | (large ? RSVD_PDE2M : 0))) goto reserved;
        if (large) {
            r->pa = (pde & PAE_ADDR & ~0x1fffffull) | (lin & 0x1ff000);
            r->flags |= TLBF_LARGE_2M;
        } else {
            pte_addr = (pde & PAE_ADDR) | ((lin >> 9) & 0xff8);
            pte = read_entry64(c, pte_addr);
            if (!(pte & PTE_P)) goto not_present;
            if (pte & rsvd) goto reserved;
            r->pa = pte & PAE_ADDR;
        }
        r->nx = nxe_on(c) && ((pde | pte) & PTE_XD);
    } else {
        pde_addr = (c->cr[3] & 0xfffff000u) | ((lin >> 20) & 0xffc);
        pde = phys_read(c, (uint32_t)pde_addr, 4);
        if (!(pde & PTE_P)) goto not_present;
        large = (pde & PTE_PS) && (c->cr[4] & CR4_PSE);
        if (large) {
            if (pde & RSVD_PDE4M) goto reserved;
            r->pa = (pde & 0xffc00000u) | (lin & 0x3ff000);
            r->flags |= TLBF_LARGE_4M;
        } else {
            pte_addr = (pde & 0xfffff000u) | ((lin >> 10) & 0xffc);
            pte = phys_read(c, (uint32_t)pte_addr, 4);
            if (!(pte & PTE_P)) goto not_present;
            r->pa = pte & 0xfffff000u;
        }
        r->nx = false;
    }
    /* U/S and R/W: every level must allow (a large page has a single level) */
    uint64_t fin = large ? pde : pte;
    uint64_t both = large ? pde : (pde & pte);
    r->us = both & PTE_US;
    r->rw = both & PTE_RW;
    if (user && !r->us) goto protection;
    if (write && !r->rw && (user || (c->cr[0] & CR0_WP))) goto protection;
    if (fetch && r->nx) goto protection;
    if ((fin & PTE_G) && (c->cr[4] & CR4_PGE)) r->flags |= TLBF_GLOBAL;
    r->dirty = (fin & PTE_D) || write;
    if (update) {
        /* A on every level used, D only on the final one; before the access itself */
        set_ad(c, pde_addr, (uint32_t)pde, large && write);
        if (!large) set_ad(c, pte_addr, (uint32_t)pte, write);
    }
    return true;
not_present:
    *err = e;
    return false;
reserved:
    *err = e | PF_P | PF_RSVD;
    return false;
protection:
    *err = e | PF_P;
    return false;
}

/* The access kinds a walk result allows without another walk. */
static uint8_t perm_of(const Cpu *c, const WalkResult *r)
{
    uint8_t p = 1u << (MMU_READ * 2);
    if (!r->nx) p |= 1u << (MMU_FETCH * 2);
    if (r->dirty && (r->rw || !(c->cr[0] & CR0_WP))) p |= 1u << (MMU_WRITE * 2);
    if (r->us) {
        p |= 1u << (MMU_READ * 2 + 1);
        if (!r->nx) p |= 1u << (MMU_FETCH * 2 + 1);
        if (r->dirty && r->rw) p |= 1u << (MMU_WRITE * 2 + 1);
    }
    return p;
}

uint32_t mmu_translate(Cpu *c, uint32_t lin, int acc, bool sys)
{
    if (!(c->cr[0] & CR0_PG)) return lin;
    bool user = !sys && c->cpl == 3;
    TlbEntry *t = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
    if (t->tag == ((lin & ~0xfffu) | TLB_VALID) && (t->perm & (1u << (acc * 2 + user))))
        return t->pa | (lin & 0xfff);
    WalkResult r;
    uint32_t err;
    if (!walk(c, lin, acc, user, true, &r, &err)) {
        c->cr[2] = lin;
        cpu_fault(c, EXC_PF, err);
    }
    t->tag = (lin & ~0xfffu) | TLB_VALID;
    memset(c->htlb[t - c->tlb].tag, 0, sizeof(c->htlb[0].tag));
    t->pa = (uint32_t)r.pa;
    t->perm = perm_of(c, &r);
    t->flags = r.flags;
    if (r.flags & (TLBF_LARGE_4M | TLBF_LARGE_2M)) c->tlb_has_large = true;
    return t->pa | (lin & 0xfff);
}

bool mmu_probe(Cpu *c, uint32_t lin, int acc)
{
    if (!(c->cr[0] & CR0_PG)) return true;
    uint32_t pa, err;
    if (mmu_lookup_fast(c, lin, acc, &pa)) return true;
    WalkResult r;
    return walk(c, lin, acc, c->cpl == 3, false, &r, &err);
}

bool mmu_debug_translate(Cpu *c, uint32_t lin, uint32_t *pa)
{
    if (!(c->cr[0] & CR0_PG)) {
        *pa = lin;
        return true;
    }
    WalkResult r;
    uint32_t err;
    if (!walk(c, lin, MMU_READ, false, false, &r, &err)) return false;
    *pa = (uint32_t)r.pa | (lin & 0xfff);
    return true;
}

void mmu_flush(Cpu *c)
{
    memset(c->tlb, 0, sizeof(c->tlb));
    memset(c->htlb, 0, sizeof(c->htlb));
    c->tlb_has_large = false;
}

void mmu_flush_nonglobal(Cpu *c)
{
    bool large = false;
    for (int i = 0; i < TLB_SIZE; i++) {
        TlbEntry *t = &c->tlb[i];
        if (!(t->flags & TLBF_GLOBAL)) {
            t->tag = 0;
            memset(c->htlb[i].tag, 0, sizeof(c->htlb[0].tag));
        }
        else if (t->flags & (TLBF_LARGE_4M | TLBF_LARGE_2M))
            large = true;
    }
    c->tlb_has_large = large;
}

void mmu_invlpg(Cpu *c, uint32_t lin)
{
    TlbEntry *t = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
    if ((t->tag & ~0xfffu) == (lin & ~0xfffu)) {
        t->tag = 0;
        memset(c->htlb[t - c->tlb].tag, 0, sizeof(c->htlb[0].tag));
    }
    if (!c->tlb_has_large) return;
    /* the other 4 KiB pieces of a large page containing lin */
    for (int i = 0; i < TLB_SIZE; i++) {
        t = &c->tlb[i];
        if (!t->tag) continue;
        uint32_t mask = (t->flags & TLBF_LARGE_4M)   ? 0xffc00000u
                        : (t->flags & TLBF_LARGE_2M) ? 0xffe00000u
                                                     : 0;
        if (mask && ((t->tag ^ lin) & mask) == 0) {
            t->tag = 0;
            memset(c->htlb[i].tag, 0, sizeof(c->htlb[0].tag));
        }
    }
}

bool mmu_load_pdptes(Cpu *c, uint32_t cr3)
{
    uint64_t p[4];
    uint32_t base = cr3 & 0xffffffe0u;
    for (int i = 0; i < 4; i++) {
        p[i] = read_entry64(c, base + 8u * i);
        if ((p[i] & PTE_P) && (p[i] & RSVD_PDPTE)) return false;
    }
    memcpy(c->pdpte, p, sizeof(p));
    return true;
}
