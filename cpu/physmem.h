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
    uint32_t generation;     /* bumped when the map changes where code may have been
                                translated (ROM, parked pages): translations drop */
    uint32_t map_generation; /* bumped whenever the map changes (host-page caches drop) */
    /* Code pages: a RAM page holding translated code has its `wr` pointer parked (NULL)
     * and code[page] set, so that every writer — the CPU's fast paths, DMA — falls
     * into physmem_wr_ptr*(), which asks code_write() first: it drops the page's
     * translations and returns true when [off, off+len) overlaps translated code (the
     * page is then unparked), or returns false when the write misses it (the write
     * goes ahead and the page stays parked). */
    uint8_t code[PHYS_PAGES];
    bool (*code_write)(void *opaque, uint32_t page, uint32_t off, uint32_t len);
    void *code_opaque;
} PhysMem;

/* A write of `len` bytes at `off` is about to hit parked code page `page`: tell the
 * translator, and unpark the page if the write touches translated code. Returns true
 * when the page was unparked. */
static inline bool physmem_code_written(PhysMem *m, uint32_t page, uint32_t off, uint32_t len)
{
    if (m->code_write && !m->code_write(m->code_opaque, page, off, len)) return false;
    m->code[page] = 0;
    m->wr[page] = m->rd[page];
    return true;
}

/* Park a RAM page that now holds translated code (ROM pages and pages that read one
 * thing and write another need no parking: writes cannot change what is executed). */
static inline void physmem_protect_code(PhysMem *m, uint32_t page)
{
    if (m->wr[page] && m->wr[page] == m->rd[page]) {
        m->code[page] = 1;
        m->wr[page] = NULL;
    }
}

/* Map [addr, addr+len) (page aligned) to host memory `host` for read and/or write. */
static inline void physmem_map(PhysMem *m, uint32_t addr, uint32_t len, uint8_t *rd,
                               uint8_t *wr)
{
    bool code = false;
    for (uint32_t off = 0; off < len; off += PAGE_SIZE) {
        uint32_t p = (addr + off) >> PAGE_SHIFT;
        /* translations exist only on parked RAM pages and read-only (ROM) ones: moving
         * a PCI BAR over MMIO or plain RAM (VRAM) leaves the code cache alone */
        if (m->code[p] || (m->rd[p] && m->rd[p] != m->wr[p])) code = true;
        m->rd[p] = rd ? rd + off : NULL;
        m->wr[p] = wr ? wr + off : NULL;
        m->code[p] = 0; /* if it had translations, the generation bump drops them */
    }
    m->map_generation++;
    if (code) m->generation++;
}

static inline uint8_t *physmem_rd_ptr(const PhysMem *m, uint32_t addr)
{
    uint8_t *p = m->rd[addr >> PAGE_SHIFT];
    return p ? p + (addr & PAGE_MASK) : NULL;
}

/* The host address to write `len` bytes at `addr` (within one page), or NULL (ROM or
 * MMIO). On a parked code page the translator decides (physmem_code_written); a write
 * that misses translated code gets the RAM address while the page stays parked. */
static inline uint8_t *physmem_wr_ptr_n(PhysMem *m, uint32_t addr, uint32_t len)
{
    uint32_t page = addr >> PAGE_SHIFT;
    uint8_t *p = m->wr[page];
    if (!p && m->code[page]) {
        if (!physmem_code_written(m, page, addr & PAGE_MASK, len))
            return m->rd[page] + (addr & PAGE_MASK);
        p = m->wr[page];
    }
    return p ? p + (addr & PAGE_MASK) : NULL;
}

/* The host address to write from `addr` to the end of its page (DMA and other bulk
 * writers: the whole rest of the page counts as written), or NULL (ROM or MMIO). */
static inline uint8_t *physmem_wr_ptr(PhysMem *m, uint32_t addr)
{
    return physmem_wr_ptr_n(m, addr, PAGE_SIZE - (addr & PAGE_MASK));
}

#endif
