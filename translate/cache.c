/*
 * cache.c — the code cache: finding the block for the current CS:EIP (jump cache, then
 * a hash table on the physical address), forming and translating new blocks, chaining
 * blocks through their exit slots, dropping the blocks of a page that was written, and
 * the full flush when the cache is full or the memory map changed.
 *
 * A block is keyed by the physical address of its first byte plus everything the
 * translation assumed: EIP, the CS base and limit, and the mode bits (code and stack
 * size, PE, VM, CPL). It never crosses a 4 KiB page, so one page's writes find all
 * blocks that could be affected; the page is parked in PhysMem (physmem.h) while it
 * holds translations so that every writer reports to dbt_invalidate_page().
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/disas.h"
#include "cpu/mmu.h"
#include "translate/dbt_internal.h"

uint32_t dbt_block_mode(const Cpu *c)
{
    uint32_t m = 0;
    if (c->seg[SEG_CS].flags & SEGF_DB) m |= BM_CODE32;
    if (c->seg[SEG_SS].flags & SEGF_DB) m |= BM_STACK32;
    if (c->cr[0] & CR0_PE) m |= BM_PE;
    if (c->eflags & FL_VM) m |= BM_VM;
    if (c->cr[0] & CR0_PG) m |= BM_PG;
    if ((c->eflags & FL_AC) && (c->cr[0] & CR0_AM) && c->cpl == 3) m |= BM_AC;
    bool real = !(c->cr[0] & CR0_PE) || (c->eflags & FL_VM);
    for (int s = 0; s < SEG_COUNT; s++) {
        uint32_t f = c->seg[s].flags;
        if (c->seg[s].base == 0 && c->seg[s].limit == 0xffffffffu) m |= BM_SEG_FLAT(s);
        if (real) {
            m |= BM_SEG_R(s) | BM_SEG_W(s);
            continue;
        }
        if (!(f & SEGF_P)) continue;
        if (f & SEGF_CODE) {
            if (f & SEGF_RW) m |= BM_SEG_R(s);
        } else if (!(f & SEGF_DC)) {
            m |= BM_SEG_R(s);
            if (f & SEGF_RW) m |= BM_SEG_W(s);
        }
    }
    return m | (uint32_t)c->cpl << BM_CPL_SHIFT;
}

static inline uint32_t hash_pc(uint32_t pa) { return (pa ^ (pa >> 13)) & (DBT_HASH_SIZE - 1); }
static inline uint32_t jc_hash(uint32_t lin) { return (lin ^ (lin >> 12)) & (DBT_JC_SIZE - 1); }

/* PhysMem's question before a write into a parked page: does [off, off+len) touch
 * translated code? Only then are the page's blocks dropped (and the page unparked);
 * data written next to code leaves them alone. */
static bool code_write_hook(void *opaque, uint32_t page, uint32_t off, uint32_t len)
{
    Dbt *d = opaque;
    const uint64_t *bits = d->code_bits[page];
    if (bits && d->page_head[page]) {
        uint32_t end = off + len > PAGE_SIZE ? PAGE_SIZE : off + len;
        bool hit = false;
        for (uint32_t b = off; b < end && !hit; b++) hit = (bits[b >> 6] >> (b & 63)) & 1;
        if (!hit) {
            d->stats.code_page_data_writes++;
            return false;
        }
    }
    dbt_invalidate_page(d, page);
    return true;
}

static void clear_code_bits(Dbt *d, uint32_t page)
{
    if (d->code_bits[page]) memset(d->code_bits[page], 0, PAGE_SIZE / 8);
}

void dbt_options_defaults(DbtOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->code_size = 32u << 20;
    o->native = true;
}

void dbt_flush(Dbt *d)
{
    PhysMem *mem = d->cpu->mem;
    for (uint32_t i = 0; i < d->nblocks; i++) {
        Block *b = &d->blocks[i];
        if (!b->valid) continue;
        uint32_t page = b->phys_pc >> PAGE_SHIFT;
        d->page_head[page] = NULL;
        clear_code_bits(d, page);
        if (mem->code[page]) { /* unpark: no translation is left to protect */
            mem->code[page] = 0;
            mem->wr[page] = mem->rd[page];
        }
    }
    memset(d->hash, 0, sizeof(d->hash));
    memset(d->jc, 0, sizeof(d->jc));
    d->nblocks = 0;
    d->ninsn_pool = 0;
    d->code_used = d->stub_len;
    d->link = 0;
    memset(d->cpu->htlb, 0, sizeof(d->cpu->htlb));
    memset(d->page_hot, 0, PHYS_PAGES);
    d->mem_generation = d->cpu->mem->generation;
    d->map_generation = d->cpu->mem->map_generation;
    d->stats.flushes++;
}

Dbt *dbt_create(Cpu *c, const DbtOptions *o, char *err, size_t errlen)
{
    Dbt *d = calloc(1, sizeof(*d));
    if (!d) goto nomem;
    d->cpu = c;
    if (o)
        d->opt = *o;
    else
        dbt_options_defaults(&d->opt);
    if (d->opt.perfmap) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
        d->perfmap = fopen(path, "w");
        if (!d->perfmap) {
            snprintf(err, errlen, "-perfmap: cannot write %s", path);
            free(d);
            return NULL;
        }
        setvbuf(d->perfmap, NULL, _IOLBF, 0);
    }
    if (!d->opt.code_size) d->opt.code_size = 32u << 20;
    d->code_size = (d->opt.code_size + 0xfff) & ~(size_t)0xfff;
    /* about one block per 256 bytes of host code */
    d->max_blocks = (uint32_t)(d->code_size / 256);
    d->max_insn_pool = d->max_blocks * 8;
    size_t slots_size = ((size_t)d->max_blocks * 2 * sizeof(void *) + 0xfff) & ~(size_t)0xfff;
    d->map_size = d->code_size + slots_size;
    d->map = mmap(NULL, d->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d->map == MAP_FAILED) {
        d->map = NULL;
        goto nomem;
    }
    d->code = d->map;
    d->code_rw = d->map;
    d->slots = (void **)(d->map + d->code_size);
    /* W^X without system calls per block: the code area is a shared memory file
     * mapped twice, read+execute where it runs and read+write elsewhere. Where that
     * is refused, fall back to switching the protection of one mapping. */
    int fd = memfd_create("dbt86-code", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, (off_t)d->code_size) == 0) {
        void *rx = mmap(d->map, d->code_size, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0);
        void *rw = mmap(NULL, d->code_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (rx == d->map && rw != MAP_FAILED) {
            d->code_rw = rw;
            d->dual = true;
        } else {
            if (rw != MAP_FAILED) munmap(rw, d->code_size);
            /* the fixed mapping may have replaced the start of d->map: renew it */
            mmap(d->map, d->code_size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        }
    }
    if (fd >= 0) close(fd);
    d->blocks = calloc(d->max_blocks, sizeof(Block));
    d->insn_pool = calloc(d->max_insn_pool, sizeof(Insn));
    d->page_head = calloc(PHYS_PAGES, sizeof(Block *));
    d->page_hot = calloc(PHYS_PAGES, 1);
    d->page_stamp = calloc(PHYS_PAGES, sizeof(uint32_t));
    d->code_bits = calloc(PHYS_PAGES, sizeof(uint64_t *));
    if (!d->blocks || !d->insn_pool || !d->page_head || !d->page_hot || !d->page_stamp ||
        !d->code_bits)
        goto nomem;
    d->stub_len = dbt_gen_trampolines(d, d->code_rw, d->code, d->code_size);
    if (!d->stub_len) goto nomem;
    if (!d->dual && mprotect(d->code, d->code_size, PROT_READ | PROT_EXEC) != 0) goto nomem;
    d->code_used = d->stub_len;
    d->mem_generation = c->mem->generation;
    d->map_generation = c->mem->map_generation;
    c->mem->code_write = code_write_hook;
    c->mem->code_opaque = d;
    return d;
nomem:
    snprintf(err, errlen, "translator: cannot allocate its code cache (%zu MiB)",
             (o && o->code_size ? o->code_size : 32u << 20) >> 20);
    dbt_destroy(d);
    return NULL;
}

void dbt_destroy(Dbt *d)
{
    if (!d) return;
    if (d->cpu && d->cpu->mem && d->cpu->mem->code_opaque == d) {
        dbt_flush(d);
        d->cpu->mem->code_write = NULL;
        d->cpu->mem->code_opaque = NULL;
    }
    dbt_check_free(d);
    if (d->perfmap) fclose(d->perfmap);
    if (d->map) munmap(d->map, d->map_size);
    if (d->dual) munmap(d->code_rw, d->code_size);
    free(d->blocks);
    free(d->insn_pool);
    free(d->page_head);
    free(d->page_hot);
    free(d->page_stamp);
    if (d->code_bits)
        for (uint32_t p = 0; p < PHYS_PAGES; p++) free(d->code_bits[p]);
    free(d->code_bits);
    free(d);
}

const DbtStats *dbt_stats(const Dbt *d) { return &d->stats; }
bool dbt_check_failed(const Dbt *d) { return d->check_failed; }

void dbt_print_stats(const Dbt *d, FILE *f)
{
    const DbtStats *s = &d->stats;
    fprintf(f,
            "dbt86: translator: %llu blocks (%llu instructions, %llu via handlers) translated, "
            "%llu block runs, %llu chains, %llu invalidated, %llu data writes to code pages, "
            "%llu flushes, "
            "%llu interpreted steps (%llu without a block, %llu at a budget's end)",
            (unsigned long long)s->blocks_translated, (unsigned long long)s->insns_translated,
            (unsigned long long)s->helper_insns, (unsigned long long)s->block_execs,
            (unsigned long long)s->chains, (unsigned long long)s->invalidations,
            (unsigned long long)s->code_page_data_writes,
            (unsigned long long)s->flushes, (unsigned long long)s->interp_steps,
            (unsigned long long)s->interp_noblock, (unsigned long long)s->interp_budget);
    if (d->opt.check)
        fprintf(f, ", lockstep: %llu blocks compared, %llu skipped (device access)",
                (unsigned long long)s->checked_blocks, (unsigned long long)s->check_skipped);
    fputc('\n', f);
}

/* ---- chaining ---- */

/* Slot k of block b: its address in the data area, and the stub it returns to. */
static inline void **slot_of(Dbt *d, const Block *b, int k)
{
    return &d->slots[(size_t)(b - d->blocks) * 2 + k];
}

void dbt_chain(Dbt *d, uintptr_t slot_addr, Block *to)
{
    size_t idx = (void **)slot_addr - d->slots;
    Block *from = &d->blocks[idx / 2];
    int k = (int)(idx & 1);
    if (!from->valid || !to->valid || from->out[k]) return;
    /* within one linear page the target's mapping is the source's; a jump into another
     * page goes through the target's xentry, which checks the mapping at every jump */
    uint32_t from_lin = from->cs_base + from->eip, to_lin = to->cs_base + to->eip;
    bool same_page = (from_lin >> PAGE_SHIFT) == (to_lin >> PAGE_SHIFT);
    if (from->out_eip[k] != to->eip) return;
    *slot_of(d, from, k) = same_page ? to->entry : to->xentry;
    from->out[k] = to;
    from->in_next_from[k] = to->in_from;
    from->in_next_k[k] = to->in_k;
    to->in_from = from;
    to->in_k = (uint8_t)k;
    d->stats.chains++;
}

static void unchain_incoming(Dbt *d, Block *b)
{
    Block *from = b->in_from;
    int k = b->in_k;
    while (from) {
        Block *next = from->in_next_from[k];
        int nk = from->in_next_k[k];
        *slot_of(d, from, k) = from->stub[k];
        from->out[k] = NULL;
        from->in_next_from[k] = NULL;
        from = next;
        k = nk;
    }
    b->in_from = NULL;
}

/* Remove (b, k) from the incoming list of b->out[k]. */
static void unchain_outgoing(Dbt *d, Block *b, int k)
{
    Block *to = b->out[k];
    if (!to) return;
    Block **pf = &to->in_from;
    uint8_t *pk = &to->in_k;
    while (*pf) {
        Block *f = *pf;
        int fk = *pk;
        if (f == b && fk == k) {
            *pf = b->in_next_from[k];
            *pk = b->in_next_k[k];
            break;
        }
        pf = &f->in_next_from[fk];
        pk = &f->in_next_k[fk];
    }
    *slot_of(d, b, k) = b->stub[k];
    b->out[k] = NULL;
    b->in_next_from[k] = NULL;
}

void dbt_invalidate_page(Dbt *d, uint32_t page)
{
    Block *b = d->page_head[page];
    d->page_head[page] = NULL;
    clear_code_bits(d, page);
    /* a page whose translations die soon after they were made (self-modifying code,
     * code and data on one page) is left to the interpreter; a page merely reused
     * later (freed memory, a new program) starts counting again */
    uint32_t now = (uint32_t)(d->cpu->icount >> 10);
    if (now - d->page_stamp[page] < DBT_HOT_WINDOW >> 10) {
        if (d->page_hot[page] < 255) d->page_hot[page]++;
    } else {
        d->page_hot[page] = 0;
    }
    for (; b; b = b->page_next) {
        if (!b->valid) continue;
        unchain_incoming(d, b);
        unchain_outgoing(d, b, 0);
        unchain_outgoing(d, b, 1);
        Block **pp = &d->hash[hash_pc(b->phys_pc)];
        while (*pp && *pp != b) pp = &(*pp)->hash_next;
        if (*pp) *pp = b->hash_next;
        if (d->jc[b->jc_index] == b) d->jc[b->jc_index] = NULL;
        b->valid = false;
        d->stats.invalidations++;
    }
    /* translated code running now must not go on past the writing instruction */
    d->cpu->dbt_exit = true;
}

/* ---- lookup and translation ---- */

static bool key_matches(const Block *b, uint32_t pa, const Cpu *c, uint32_t mode)
{
    return b->valid && b->phys_pc == pa && b->eip == c->eip &&
           b->cs_base == c->seg[SEG_CS].base && b->cs_limit == c->seg[SEG_CS].limit &&
           b->mode == mode;
}

static void log_block(Dbt *d, Block *b, const Insn *insns, const uint8_t *bytes)
{
    FILE *f = d->opt.log_file ? d->opt.log_file : stderr;
    if (d->opt.log & DBT_LOG_IN_ASM) {
        fprintf(f, "IN: block at %04x:%08x [phys %08x], %u instructions\n",
                d->cpu->seg[SEG_CS].sel, b->eip, b->phys_pc, b->ninsn);
        uint32_t off = 0;
        for (unsigned i = 0; i < b->ninsn; i++) {
            char text[128];
            disas_insn(bytes + off, insns[i].len, b->eip + off, b->mode & BM_CODE32, text,
                       sizeof(text));
            fprintf(f, "  %08x  %s\n", b->eip + off, text);
            off += insns[i].len;
        }
    }
    if (d->opt.log & DBT_LOG_OUT_ASM) {
        fprintf(f, "OUT: %u bytes of host code at %p\n", b->code_len, (void *)b->entry);
        disas_host(b->entry, b->code_len, (uint64_t)(uintptr_t)b->entry, f);
    }
}

/* Decode the block starting at the current EIP whose bytes are at `bytes` (the rest
 * of its page: `avail` bytes, already cut at the CS limit and the 64 KiB wrap). */
static unsigned form_block(Insn *insns, const uint8_t *bytes, unsigned avail, bool code32,
                           uint32_t *guest_len)
{
    unsigned n = 0, off = 0;
    while (n < DBT_MAX_BLOCK_INSNS) {
        Insn *in = &insns[n];
        if (decode(in, bytes + off, avail - off, code32) != DECODE_OK) break;
        off += in->len;
        n++;
        if (dbt_insn_ends_block(in)) break;
        if (off >= avail) break;
    }
    *guest_len = off;
    return n;
}

static Block *translate(Dbt *d, uint32_t pa, uint32_t mode)
{
    Cpu *c = d->cpu;
    const uint8_t *page = physmem_rd_ptr(c->mem, pa & ~PAGE_MASK);
    if (!page) return NULL; /* MMIO: interpret */
    uint32_t off = pa & PAGE_MASK;
    unsigned avail = PAGE_SIZE - off;
    uint32_t limit = c->seg[SEG_CS].limit;
    if (limit != 0xffffffffu && limit - c->eip + 1 < avail) avail = limit - c->eip + 1;
    if (!(mode & BM_CODE32) && 0x10000 - c->eip < avail) avail = 0x10000 - c->eip;
    if (avail > PAGE_SIZE) avail = PAGE_SIZE; /* (limit - eip + 1 wrapped) */

    if (d->nblocks >= d->max_blocks || d->ninsn_pool + DBT_MAX_BLOCK_INSNS > d->max_insn_pool ||
        d->code_size - d->code_used < 16384)
        dbt_flush(d);

    Insn *insns = &d->insn_pool[d->ninsn_pool];
    uint32_t glen;
    unsigned n = form_block(insns, page + off, avail, mode & BM_CODE32, &glen);
    if (n == 0) return NULL; /* crosses the page or the limit at once: interpret */

    Block *b = &d->blocks[d->nblocks];
    memset(b, 0, sizeof(*b));
    b->phys_pc = pa;
    b->eip = c->eip;
    b->cs_base = c->seg[SEG_CS].base;
    b->cs_limit = limit;
    b->mode = mode;
    b->ninsn = (uint16_t)n;
    b->guest_len = (uint16_t)glen;
    b->insns = insns;
    b->valid = true;

    uint8_t *out = d->code + d->code_used;
    size_t cap = d->code_size - d->code_used;
    if (cap > 65536) cap = 65536;
    size_t len;
    if (d->dual) {
        len = dbt_gen_block(d, b, insns, d->code_rw + d->code_used, out, cap);
    } else {
        /* W^X: the pages written become writable for the time of writing only */
        uintptr_t lo = (uintptr_t)out & ~(uintptr_t)0xfff;
        uintptr_t hi = ((uintptr_t)out + cap + 0xfff) & ~(uintptr_t)0xfff;
        if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) != 0) return NULL;
        len = dbt_gen_block(d, b, insns, out, out, cap);
        mprotect((void *)lo, hi - lo, PROT_READ | PROT_EXEC);
    }
    if (len == 0) return NULL;
    b->code_len = (uint32_t)len;
    if (d->perfmap) /* "START SIZE name" lines, as perf reads /tmp/perf-PID.map */
        fprintf(d->perfmap, "%lx %zx guest_%08x\n", (unsigned long)(uintptr_t)out, len,
                b->cs_base + b->eip);
    d->code_used = (d->code_used + len + 15) & ~(size_t)15;
    d->nblocks++;
    d->ninsn_pool += n;

    uint32_t h = hash_pc(pa);
    b->hash_next = d->hash[h];
    d->hash[h] = b;
    uint32_t pg = pa >> PAGE_SHIFT;
    d->page_stamp[pg] = (uint32_t)(c->icount >> 10);
    if (!d->code_bits[pg]) d->code_bits[pg] = calloc(PAGE_SIZE / 64, sizeof(uint64_t));
    if (d->code_bits[pg]) { /* (without memory for them, every write invalidates) */
        for (uint32_t o = pa & PAGE_MASK; o < (pa & PAGE_MASK) + glen; o++)
            d->code_bits[pg][o >> 6] |= 1ull << (o & 63);
    }
    b->page_next = d->page_head[pg];
    d->page_head[pg] = b;
    if (c->mem->wr[pg]) {
        /* park the page; inline stores must not find it through the host-page cache */
        uint8_t *host = c->mem->wr[pg];
        physmem_protect_code(c->mem, pg);
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            HostTlbEntry *e = &c->htlb[i];
            uint32_t lin = (e->tag[2] | e->tag[3]) & ~HTLB_PAGE_BITS;
            if ((e->tag[2] || e->tag[3]) && (uint8_t *)((intptr_t)lin + e->addend[1]) == host)
                e->tag[2] = e->tag[3] = 0;
        }
    }

    d->stats.blocks_translated++;
    d->stats.insns_translated += n;
    if (d->opt.log & (DBT_LOG_IN_ASM | DBT_LOG_OUT_ASM)) log_block(d, b, insns, page + off);
    return b;
}

/* Called by translated code after a near indirect branch (RET, JMP/CALL through a
 * register or memory): the entry of the block at the new EIP when it is already
 * translated and its page is in the TLB, else NULL (translated code then returns to
 * the dispatcher). It never translates, so no code moves under the running block.
 * Near branches keep the mode, so the caller passes its own. */
/* The translated block for CS:EIP at physical `pa` in `mode`, from the jump cache or
 * the hash table (then put in the jump cache), or NULL. */
static Block *find_block(Dbt *d, uint32_t lin, uint32_t pa, uint32_t mode)
{
    const Cpu *c = d->cpu;
    uint32_t j = jc_hash(lin);
    Block *b = d->jc[j];
    if (b && key_matches(b, pa, c, mode)) return b;
    for (b = d->hash[hash_pc(pa)]; b; b = b->hash_next)
        if (key_matches(b, pa, c, mode)) break;
    if (b) {
        d->jc[j] = b;
        b->jc_index = j;
    }
    return b;
}

const uint8_t *dbt_indirect(Dbt *d, uint32_t mode)
{
    Cpu *c = d->cpu;
    if (c->dbt_exit || d->opt.nochain || d->mem_generation != c->mem->generation ||
        d->map_generation != c->mem->map_generation)
        return NULL;
    if (c->eip > c->seg[SEG_CS].limit) return NULL;
    uint32_t lin = c->seg[SEG_CS].base + c->eip;
    uint32_t pa = lin;
    if ((c->cr[0] & CR0_PG) && !mmu_lookup_fast(c, lin, MMU_FETCH, &pa)) return NULL;
    pa &= c->a20_mask;
    Block *b = find_block(d, lin, pa, mode);
    if (!b) return NULL;
    d->stats.indirect_hits++;
    return b->entry;
}

Block *dbt_lookup(Dbt *d, bool may_translate)
{
    Cpu *c = d->cpu;
    if (c->eip > c->seg[SEG_CS].limit) return NULL; /* the interpreter raises #GP */
    uint32_t lin = c->seg[SEG_CS].base + c->eip;
    uint32_t pa = lin;
    if (c->cr[0] & CR0_PG) {
        if (!mmu_lookup_fast(c, lin, MMU_FETCH, &pa)) {
            if (!mmu_probe(c, lin, MMU_FETCH)) return NULL; /* the interpreter faults */
            /* the fetch the interpreter would do: A bits, TLB fill */
            pa = mmu_translate(c, lin, MMU_FETCH, false);
        }
    }
    pa &= c->a20_mask;
    uint32_t mode = dbt_block_mode(c);
    Block *b = find_block(d, lin, pa, mode);
    if (b || !may_translate) return b;
    if (d->page_hot[pa >> PAGE_SHIFT] >= DBT_HOT_PAGE_LIMIT) return NULL;
    b = translate(d, pa, mode);
    if (!b) return NULL;
    d->jc[jc_hash(lin)] = b;
    b->jc_index = jc_hash(lin);
    return b;
}
