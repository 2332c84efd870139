/*
 * mmu.h — linear-to-physical translation (paging).
 *
 * mmu_translate walks the page tables (32-bit two-level with PSE 4 MiB pages; PAE and
 * the software TLB come with the 32-bit PC issue), sets accessed/dirty bits, and
 * raises #PF with CR2 and the architectural error code when the access is not allowed.
 */
#ifndef DBT86_MMU_H
#define DBT86_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

enum { MMU_READ = 0, MMU_WRITE = 1, MMU_FETCH = 2 };

/* Translate `lin` for an access of kind `acc`; `sys` = implicit supervisor access.
 * Faults (#PF) on failure. Only meaningful when CR0.PG is set. */
uint32_t mmu_translate(Cpu *c, uint32_t lin, int acc, bool sys);
/* Would mmu_translate succeed? Never faults, never sets A/D bits. */
bool mmu_probe(Cpu *c, uint32_t lin, int acc);
/* Flush cached translations (CR3 write, INVLPG, CR0/CR4 paging bit changes). */
void mmu_flush(Cpu *c);
void mmu_invlpg(Cpu *c, uint32_t lin);

#endif
