/*
 * mmu.h — linear-to-physical translation (paging) and the software TLB.
 *
 * mmu_translate walks the page tables (32-bit paging with PSE 4 MiB pages and PGE
 * global pages, or PAE paging with 2 MiB pages and NX), sets accessed/dirty bits, and
 * raises #PF with CR2 and the architectural error code when the access is not allowed.
 * Successful walks fill a direct-mapped TLB kept in Cpu (cpu.h, TlbEntry).
 */
#ifndef DBT86_MMU_H
#define DBT86_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

enum { MMU_READ = 0, MMU_WRITE = 1, MMU_FETCH = 2 };

/* IA32_EFER bits. */
#define EFER_NXE (1ull << 11)

/* #PF error code bits. */
#define PF_P 0x01u    /* protection violation (0: not present) */
#define PF_W 0x02u    /* write access */
#define PF_U 0x04u    /* user-mode access */
#define PF_RSVD 0x08u /* reserved bit set in a paging-structure entry */
#define PF_ID 0x10u   /* instruction fetch (reported with PAE and EFER.NXE, as Intel) */

/* Translate `lin` for an access of kind `acc`; `sys` = implicit supervisor access.
 * Faults (#PF) on failure. With CR0.PG clear it returns `lin`. */
uint32_t mmu_translate(Cpu *c, uint32_t lin, int acc, bool sys);
/* Would mmu_translate (sys=false) succeed? Never faults, never sets A/D bits. */
bool mmu_probe(Cpu *c, uint32_t lin, int acc);
/* For the monitor and debuggers: the physical address a supervisor read of `lin`
 * would use. Never faults, never sets A/D bits, never fills the TLB; false when the
 * page is not mapped. With CR0.PG clear *pa = lin. */
bool mmu_debug_translate(Cpu *c, uint32_t lin, uint32_t *pa);
/* Flush every cached translation, global ones too (CR0.PG/WP, CR4.PGE/PAE/PSE and
 * EFER.NXE changes; also correct, if more than needed, after a task-switch CR3 load). */
void mmu_flush(Cpu *c);
/* CR3 write: flush all translations except global ones. */
void mmu_flush_nonglobal(Cpu *c);
/* INVLPG: drop the translation of the page holding `lin`, global or not (the whole
 * large page when it came from one). */
void mmu_invlpg(Cpu *c, uint32_t lin);
/* PAE: read the four PDPTEs at `cr3` (bits 31:5) into c->pdpte. Returns false, leaving
 * c->pdpte unchanged, when a present PDPTE has a reserved bit set (the caller raises
 * #GP(0) and does not change the control register). */
bool mmu_load_pdptes(Cpu *c, uint32_t cr3);

/* TLB-only lookup for an access at the current CPL (no walk, no fault, no A/D work):
 * true with the physical address when a cached translation allows the access. Always
 * false with paging off (the TLB is emptied when CR0.PG changes). */
static inline bool mmu_lookup_fast(Cpu *c, uint32_t lin, int acc, uint32_t *pa)
{
    const TlbEntry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
    unsigned bit = 1u << (acc * 2 + (c->cpl == 3));
    if (e->tag != ((lin & ~0xfffu) | TLB_VALID) || !(e->perm & bit)) return false;
    *pa = e->pa | (lin & 0xfff);
    return true;
}

#endif
