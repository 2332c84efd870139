/*
 * mmu.c — 32-bit paging: two-level page tables with 4 KiB pages and (CR4.PSE) 4 MiB
 * pages, U/S and R/W checks with CR0.WP, accessed and dirty bits, #PF error codes.
 * No TLB yet: every access walks the tables (correct, and simple to check against the
 * SDM; the software TLB is part of the 32-bit PC work).
 */
#include "cpu/mmu.h"

#include "cpu/interp.h"

#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_PS 0x080u
#define CR4_PSE (1u << 4)

/* #PF error code bits */
#define PF_P 1u
#define PF_W 2u
#define PF_U 4u

/* Walks the tables. Returns true and the physical address, or false with the #PF
 * error code. Sets A/D bits only when `update`. */
static bool walk(Cpu *c, uint32_t lin, int acc, bool sys, bool update, uint32_t *pa,
                 uint32_t *err)
{
    bool user = !sys && c->cpl == 3;
    bool write = acc == MMU_WRITE;
    uint32_t pde_addr = (c->cr[3] & 0xfffff000u) | ((lin >> 20) & 0xffc);
    uint32_t pde = phys_read(c, pde_addr, 4);
    uint32_t e = (write ? PF_W : 0) | (user ? PF_U : 0);
    if (!(pde & PTE_P)) {
        *err = e;
        return false;
    }
    uint32_t flags, pte_addr = 0, pte = 0;
    bool big = (pde & PTE_PS) && (c->cr[4] & CR4_PSE);
    if (big) {
        flags = pde;
    } else {
        pte_addr = (pde & 0xfffff000u) | ((lin >> 10) & 0xffc);
        pte = phys_read(c, pte_addr, 4);
        if (!(pte & PTE_P)) {
            *err = e;
            return false;
        }
        flags = pde & pte; /* U/S and R/W combine: both levels must allow */
    }
    if (user && !(flags & PTE_US)) {
        *err = e | PF_P;
        return false;
    }
    if (write && !(flags & PTE_RW) && (user || (c->cr[0] & CR0_WP))) {
        *err = e | PF_P;
        return false;
    }
    if (update) {
        if (!(pde & PTE_A) || (big && write && !(pde & PTE_D))) {
            pde |= PTE_A | (big && write ? PTE_D : 0);
            phys_write(c, pde_addr, pde, 4);
        }
        if (!big && (!(pte & PTE_A) || (write && !(pte & PTE_D)))) {
            pte |= PTE_A | (write ? PTE_D : 0);
            phys_write(c, pte_addr, pte, 4);
        }
    }
    *pa = big ? (pde & 0xffc00000u) | (lin & 0x3fffff) : (pte & 0xfffff000u) | (lin & 0xfff);
    return true;
}

uint32_t mmu_translate(Cpu *c, uint32_t lin, int acc, bool sys)
{
    uint32_t pa, err;
    if (walk(c, lin, acc, sys, true, &pa, &err)) return pa;
    c->cr[2] = lin;
    cpu_fault(c, EXC_PF, err);
}

bool mmu_probe(Cpu *c, uint32_t lin, int acc)
{
    uint32_t pa, err;
    return walk(c, lin, acc, false, false, &pa, &err);
}

void mmu_flush(Cpu *c) { (void)c; }
void mmu_invlpg(Cpu *c, uint32_t lin)
{
    (void)c;
    (void)lin;
}
