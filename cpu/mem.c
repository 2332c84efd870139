/*
 * mem.c — the CPU's view of memory: segmentation checks, linear-to-physical
 * translation (paging, mmu.c), and physical access through the PhysMem page map or
 * the bus's MMIO callbacks.
 *
 * Multi-byte accesses that cross a page are translated page by page before any byte
 * is written, so a fault on the second page leaves memory untouched (precise).
 * Data is little-endian on both sides, so RAM accesses are plain memcpy.
 */
#include <string.h>

#include "cpu/debug.h"
#include "cpu/interp.h"
#include "cpu/mmu.h"

/* ---- physical ---- */

/* Little-endian load/store of 1, 2 or 4 bytes with a constant-size copy per case
 * (a memcpy of variable size is a library call). */
static inline uint32_t host_load(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint32_t v = 0;
        memcpy(&v, p, size);
        return v;
    }
    }
}

static inline void host_store(uint8_t *p, uint32_t v, unsigned size)
{
    switch (size) {
    case 1: *p = (uint8_t)v; return;
    case 2: {
        uint16_t h = (uint16_t)v;
        memcpy(p, &h, 2);
        return;
    }
    case 4: memcpy(p, &v, 4); return;
    default: memcpy(p, &v, size); return;
    }
}

static uint32_t phys_read_slow(Cpu *c, uint32_t pa, unsigned size);
static void phys_write_slow(Cpu *c, uint32_t pa, uint32_t v, unsigned size);

/* RAM/ROM inside one page inline; MMIO and page-crossing accesses out of line. */
static inline __attribute__((always_inline)) uint32_t phys_read_inl(Cpu *c, uint32_t pa,
                                                                    unsigned size)
{
    pa &= c->a20_mask;
    const uint8_t *p = c->mem->rd[pa >> PAGE_SHIFT];
    if (__builtin_expect(p && (pa & PAGE_MASK) + size <= PAGE_SIZE, 1))
        return host_load(p + (pa & PAGE_MASK), size);
    return phys_read_slow(c, pa, size);
}

/* Lockstep checker journal (cpu.h WriteLog): the bytes before and after a RAM write;
 * MMIO marks the journal as touching devices. */
static __attribute__((noinline)) void wlog_record(Cpu *c, uint32_t pa, uint32_t v,
                                                  unsigned size)
{
    WriteLog *w = c->wlog;
    if ((pa & PAGE_MASK) + size > PAGE_SIZE) return; /* split into bytes by the caller */
    const uint8_t *p = physmem_rd_ptr(c->mem, pa);
    bool writable = c->mem->wr[pa >> PAGE_SHIFT] || c->mem->code[pa >> PAGE_SHIFT];
    if (!p) {
        w->device = true; /* MMIO */
        return;
    }
    if (!writable) return; /* ROM: the write is dropped */
    if (w->n == w->cap) {
        w->overflow = true;
        return;
    }
    WriteLogEntry *e = &w->e[w->n++];
    e->pa = pa;
    e->size = (uint8_t)size;
    memcpy(e->before, p, size);
    memcpy(e->after, &v, size);
}

static inline __attribute__((always_inline)) void phys_write_inl(Cpu *c, uint32_t pa,
                                                                 uint32_t v, unsigned size)
{
    pa &= c->a20_mask;
    if (__builtin_expect(c->wlog != NULL, 0)) wlog_record(c, pa, v, size);
    uint8_t *p = c->mem->wr[pa >> PAGE_SHIFT];
    if (__builtin_expect(p && (pa & PAGE_MASK) + size <= PAGE_SIZE, 1)) {
        host_store(p + (pa & PAGE_MASK), v, size);
        return;
    }
    phys_write_slow(c, pa, v, size);
}

uint32_t phys_read(Cpu *c, uint32_t pa, unsigned size) { return phys_read_inl(c, pa, size); }

void phys_write(Cpu *c, uint32_t pa, uint32_t v, unsigned size)
{
    phys_write_inl(c, pa, v, size);
}

static uint32_t phys_read_slow(Cpu *c, uint32_t pa, unsigned size)
{
    pa &= c->a20_mask;
    if ((pa & PAGE_MASK) + size <= PAGE_SIZE) {
        const uint8_t *p = physmem_rd_ptr(c->mem, pa);
        if (p) return host_load(p, size);
        if (c->wlog) c->wlog->device = true;
        if (c->bus.mmio_read) return c->bus.mmio_read(c->bus.opaque, pa, size);
        return size_mask(size);
    }
    /* crosses a physical page: byte by byte */
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= phys_read(c, pa + i, 1) << (8 * i);
    return v;
}

static void phys_write_slow(Cpu *c, uint32_t pa, uint32_t v, unsigned size)
{
    pa &= c->a20_mask;
    if ((pa & PAGE_MASK) + size <= PAGE_SIZE) {
        uint8_t *p = physmem_wr_ptr_n(c->mem, pa, size);
        if (p) {
            host_store(p, v, size);
            return;
        }
        if (physmem_rd_ptr(c->mem, pa)) return; /* ROM: writes are dropped */
        if (c->bus.mmio_write) c->bus.mmio_write(c->bus.opaque, pa, v, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) phys_write(c, pa + i, (v >> (8 * i)) & 0xff, 1);
}

/* ---- linear ---- */

static inline __attribute__((always_inline)) uint32_t lin_read(Cpu *c, uint32_t lin,
                                                               unsigned size, bool sys, int acc)
{
    /* data breakpoints: one flag test here, the matching out of line (debug.c) */
    if (__builtin_expect(c->dbg_armed & DBG_DATA, 0)) debug_data_access(c, lin, size, false);
    if (!(c->cr[0] & CR0_PG)) return phys_read_inl(c, lin, size);
    unsigned first = PAGE_SIZE - (lin & PAGE_MASK);
    if (first >= size) return phys_read_inl(c, mmu_translate(c, lin, acc, sys), size);
    uint32_t pa0 = mmu_translate(c, lin, acc, sys);
    uint32_t pa1 = mmu_translate(c, lin + first, acc, sys);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= phys_read(c, (i < first ? pa0 + i : pa1 + (i - first)), 1) << (8 * i);
    return v;
}

static inline __attribute__((always_inline)) void lin_write(Cpu *c, uint32_t lin, uint32_t v,
                                                            unsigned size, bool sys)
{
    if (__builtin_expect(c->dbg_armed & DBG_DATA, 0)) debug_data_access(c, lin, size, true);
    if (!(c->cr[0] & CR0_PG)) {
        phys_write_inl(c, lin, v, size);
        return;
    }
    unsigned first = PAGE_SIZE - (lin & PAGE_MASK);
    if (first >= size) {
        phys_write_inl(c, mmu_translate(c, lin, MMU_WRITE, sys), v, size);
        return;
    }
    uint32_t pa0 = mmu_translate(c, lin, MMU_WRITE, sys);
    uint32_t pa1 = mmu_translate(c, lin + first, MMU_WRITE, sys);
    for (unsigned i = 0; i < size; i++)
        phys_write(c, (i < first ? pa0 + i : pa1 + (i - first)), (v >> (8 * i)) & 0xff, 1);
}

uint8_t lin_read8(Cpu *c, uint32_t lin, bool sys) { return lin_read(c, lin, 1, sys, MMU_READ); }
uint16_t lin_read16(Cpu *c, uint32_t lin, bool sys) { return lin_read(c, lin, 2, sys, MMU_READ); }
uint32_t lin_read32(Cpu *c, uint32_t lin, bool sys) { return lin_read(c, lin, 4, sys, MMU_READ); }
void lin_write8(Cpu *c, uint32_t lin, uint8_t v, bool sys) { lin_write(c, lin, v, 1, sys); }
void lin_write16(Cpu *c, uint32_t lin, uint16_t v, bool sys) { lin_write(c, lin, v, 2, sys); }
void lin_write32(Cpu *c, uint32_t lin, uint32_t v, bool sys) { lin_write(c, lin, v, 4, sys); }

/* ---- segmented ---- */

/* Checks [off, off+size) against segment `seg` for a read (write=false) or write;
 * returns the linear address. Faults #SS(0) for SS, #GP(0) otherwise. */
static inline __attribute__((always_inline)) uint32_t seg_check(Cpu *c, int seg, uint32_t off,
                                                                unsigned size, bool write)
{
    const SegCache *s = &c->seg[seg];
    int vec = seg == SEG_SS ? EXC_SS : EXC_GP;
    if (!cpu_realmode_seg(c)) {
        if (!(s->flags & SEGF_P)) cpu_fault(c, vec, 0); /* null or unusable selector */
        if (s->flags & SEGF_CODE) {
            if (write || !(s->flags & SEGF_RW)) cpu_fault(c, vec, 0);
        } else if (write && !(s->flags & SEGF_RW)) {
            cpu_fault(c, vec, 0);
        }
    }
    uint32_t last = off + size - 1;
    if ((s->flags & (SEGF_CODE | SEGF_DC)) == SEGF_DC && !cpu_realmode_seg(c)) {
        /* expand-down data: valid offsets are limit+1 .. 0xffff or 0xffffffff */
        uint32_t upper = (s->flags & SEGF_DB) ? 0xffffffffu : 0xffffu;
        if (off <= s->limit || last > upper || last < off) cpu_fault(c, vec, 0);
    } else if (last > s->limit || last < off) {
        cpu_fault(c, vec, 0);
    }
    uint32_t lin = s->base + off;
    /* alignment check (SDM vol. 3 6.15, #AC): CR0.AM, EFLAGS.AC and CPL 3, for a
     * misaligned word or doubleword (larger operands are split into doublewords here) */
    if (__builtin_expect((c->eflags & FL_AC) != 0, 0) && (c->cr[0] & CR0_AM) && c->cpl == 3 &&
        size > 1 && (lin & (size - 1)))
        cpu_fault(c, EXC_AC, 0);
    return lin;
}

static inline __attribute__((always_inline)) uint32_t mem_read_inl(Cpu *c, int seg,
                                                                   uint32_t off, unsigned size)
{
    uint32_t lin = seg_check(c, seg, off, size, false);
    return lin_read(c, lin, size, false, MMU_READ);
}

static inline __attribute__((always_inline)) void mem_write_inl(Cpu *c, int seg, uint32_t off,
                                                                uint32_t v, unsigned size)
{
    uint32_t lin = seg_check(c, seg, off, size, true);
    lin_write(c, lin, v, size, false);
}

static __attribute__((noinline)) uint32_t mem_read_any(Cpu *c, int seg, uint32_t off,
                                                       unsigned size)
{
    return mem_read_inl(c, seg, off, size);
}

static __attribute__((noinline)) void mem_write_any(Cpu *c, int seg, uint32_t off, uint32_t v,
                                                    unsigned size)
{
    mem_write_inl(c, seg, off, v, size);
}

/* One copy of the access path per common size, so that every size test folds away. */
uint32_t mem_read(Cpu *c, int seg, uint32_t off, unsigned size)
{
    switch (size) {
    case 1: return mem_read_inl(c, seg, off, 1);
    case 2: return mem_read_inl(c, seg, off, 2);
    case 4: return mem_read_inl(c, seg, off, 4);
    default: return mem_read_any(c, seg, off, size);
    }
}

void mem_write(Cpu *c, int seg, uint32_t off, uint32_t v, unsigned size)
{
    switch (size) {
    case 1: mem_write_inl(c, seg, off, v, 1); return;
    case 2: mem_write_inl(c, seg, off, v, 2); return;
    case 4: mem_write_inl(c, seg, off, v, 4); return;
    default: mem_write_any(c, seg, off, v, size); return;
    }
}

void mem_check_write(Cpu *c, int seg, uint32_t off, unsigned size)
{
    uint32_t lin = seg_check(c, seg, off, size, true);
    if (c->cr[0] & CR0_PG) {
        mmu_translate(c, lin, MMU_WRITE, false);
        mmu_translate(c, lin + size - 1, MMU_WRITE, false);
    }
}

uint8_t mem_read8(Cpu *c, int seg, uint32_t off) { return mem_read_inl(c, seg, off, 1); }
uint16_t mem_read16(Cpu *c, int seg, uint32_t off) { return mem_read_inl(c, seg, off, 2); }
uint32_t mem_read32(Cpu *c, int seg, uint32_t off) { return mem_read_inl(c, seg, off, 4); }
void mem_write8(Cpu *c, int seg, uint32_t off, uint8_t v) { mem_write_inl(c, seg, off, v, 1); }
void mem_write16(Cpu *c, int seg, uint32_t off, uint16_t v) { mem_write_inl(c, seg, off, v, 2); }
void mem_write32(Cpu *c, int seg, uint32_t off, uint32_t v) { mem_write_inl(c, seg, off, v, 4); }

/* ---- instruction fetch ---- */

unsigned mem_fetch(Cpu *c, uint32_t eip, uint8_t *buf, unsigned want)
{
    const SegCache *cs = &c->seg[SEG_CS];
    if (!cpu_code32(c)) eip &= 0xffff;
    if (eip > cs->limit) cpu_fault(c, EXC_GP, 0);
    uint32_t avail = cs->limit - eip + 1;
    if (avail == 0 || avail > want) avail = want; /* avail==0: limit 0xffffffff wrap */
    uint32_t lin = cs->base + eip;
    unsigned n = 0;
    while (n < avail) {
        uint32_t pa;
        uint32_t l = lin + n;
        if (c->cr[0] & CR0_PG) {
            if (n > 0 && !mmu_probe(c, l, MMU_FETCH)) break; /* fault only on byte 0 */
            pa = mmu_translate(c, l, MMU_FETCH, false);
        } else {
            pa = l;
        }
        unsigned chunk = PAGE_SIZE - (l & PAGE_MASK);
        if (chunk > avail - n) chunk = avail - n;
        const uint8_t *p = physmem_rd_ptr(c->mem, pa & c->a20_mask);
        if (p) {
            memcpy(buf + n, p, chunk);
        } else {
            for (unsigned i = 0; i < chunk; i++) buf[n + i] = phys_read(c, pa + i, 1);
        }
        n += chunk;
    }
    return n;
}

/* ---- whole ranges, for REP string instructions ---- */

uint8_t *mem_host_range(Cpu *c, int seg, uint32_t off, uint32_t len, bool write)
{
    const SegCache *s = &c->seg[seg];
    if (c->wlog || c->dbg_armed || len == 0) return NULL;
    if (!cpu_realmode_seg(c)) {
        if (!(s->flags & SEGF_P)) return NULL;
        if (s->flags & SEGF_CODE) {
            if (write || !(s->flags & SEGF_RW)) return NULL;
        } else {
            if (write && !(s->flags & SEGF_RW)) return NULL;
            if (s->flags & SEGF_DC) return NULL; /* expand-down: element by element */
        }
    }
    uint32_t last = off + len - 1;
    if (last < off || last > s->limit) return NULL;
    uint32_t lin = s->base + off;
    if ((lin & PAGE_MASK) + len > PAGE_SIZE) return NULL;
    if ((c->eflags & FL_AC) && (c->cr[0] & CR0_AM) && c->cpl == 3) return NULL;
    int acc = write ? MMU_WRITE : MMU_READ;
    uint32_t pa = lin;
    if (c->cr[0] & CR0_PG) {
        if (!mmu_probe(c, lin, acc)) return NULL; /* the element path takes the fault */
        pa = mmu_translate(c, lin, acc, false);
    }
    pa &= c->a20_mask;
    return write ? physmem_wr_ptr_n(c->mem, pa, len) : (uint8_t *)physmem_rd_ptr(c->mem, pa);
}
