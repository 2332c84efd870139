/*
 * physmem.h — the guest physical address space as a page map.
 *
 * Every 4 KiB physical page has a host pointer for reads and one for writes. RAM has
 * both; ROM has only `rd` (writes are dropped); a PAM-shadowed BIOS page may read ROM
 * and write RAM. A NULL pointer means the access goes to the CPU bus's MMIO callbacks
 * (devices, or all-ones for nothing). The board (devices/) fills the map; the CPU and
 * DMA-capable devices use physmem_read/physmem_write.
 *
 *     uint8_t *p = physmem_rd_ptr(m, 0xb8000);   // host pointer or NULL
 */
#ifndef DBT86_PHYSMEM_H
#define DBT86_PHYSMEM_H

#include <stdint.h>
#include <string.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SIZE - 1)
#define PHYS_PAGES (1u << 20) /* 4 GiB of 4 KiB pages */

typedef struct PhysMem {
    uint8_t *rd[PHYS_PAGES]; /* host address of the page for reads, or NULL (MMIO) */
    uint8_t *wr[PHYS_PAGES]; /* host address of the page for writes, or NULL */
    uint32_t generation;     /* bumped whenever the map changes (TLBs re-check) */
} PhysMem;

/* Map [addr, addr+len) (page aligned) to host memory `host` for read and/or write. */
static inline void physmem_map(PhysMem *m, uint32_t addr, uint32_t len, uint8_t *rd,
                               uint8_t *wr)
{
    for (uint32_t off = 0; off < len; off += PAGE_SIZE) {
        uint32_t p = (addr + off) >> PAGE_SHIFT;
        m->rd[p] = rd ? rd + off : NULL;
        m->wr[p] = wr ? wr + off : NULL;
    }
    m->generation++;
}

static inline uint8_t *physmem_rd_ptr(const PhysMem *m, uint32_t addr)
{
    uint8_t *p = m->rd[addr >> PAGE_SHIFT];
    return p ? p + (addr & PAGE_MASK) : NULL;
}

static inline uint8_t *physmem_wr_ptr(const PhysMem *m, uint32_t addr)
{
    uint8_t *p = m->wr[addr >> PAGE_SHIFT];
    return p ? p + (addr & PAGE_MASK) : NULL;
}

#endif
