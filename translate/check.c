/*
 * check.c — the lockstep checker (-accel dbt,check=on): every block the translator runs
 * is run again by the interpreter from the same starting state, and the two results
 * are compared, stopping at the first difference with both states and the block's
 * guest and host code printed.
 *
 * How: save the CPU state, run the translated block with physical writes journaled
 * (mem.c, Cpu.wlog) and faults caught before delivery; save its result, undo its
 * writes, restore the CPU, and let the interpreter retire the same number of
 * instructions (taking the same fault, if any) with its writes journaled too. Then the
 * CPU states and every byte either run wrote are compared. The interpreter's result is
 * kept. A block whose translated run touched a device (MMIO, I/O ports, FERR#, the
 * VMware backdoor) cannot be undone and is not compared (counted as skipped); its
 * instructions are interpreter handlers in translated code anyway.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/disas.h"
#include "translate/dbt_internal.h"

#define LOG_CAP 16384
#define MAP_BITS 16

typedef struct ByteCell {
    uint32_t pa_plus1; /* 0: empty */
    uint8_t orig, tval;
} ByteCell;

typedef struct Checker {
    WriteLog jt, ji;
    uint8_t s0[offsetof(Cpu, icount) + sizeof(uint64_t)];
    uint8_t st[offsetof(Cpu, icount) + sizeof(uint64_t)];
    ByteCell map[1u << MAP_BITS];
    uint32_t used[1u << MAP_BITS]; /* indices of the cells in use, to clear them */
    uint32_t nused;
    CpuBus saved_bus;
    WriteLog *active; /* for the bus wrappers */
    Cpu *cpu;
} Checker;

/* ---- bus wrappers: mark the journal when a device is touched ---- */

static uint32_t w_io_read(void *o, uint16_t port, unsigned size)
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    return k->saved_bus.io_read(k->saved_bus.opaque, port, size);
}
static void w_io_write(void *o, uint16_t port, uint32_t v, unsigned size)
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    k->saved_bus.io_write(k->saved_bus.opaque, port, v, size);
}
static uint32_t w_mmio_read(void *o, uint32_t a, unsigned size)
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    return k->saved_bus.mmio_read(k->saved_bus.opaque, a, size);
}
static void w_mmio_write(void *o, uint32_t a, uint32_t v, unsigned size)
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    k->saved_bus.mmio_write(k->saved_bus.opaque, a, v, size);
}
static uint8_t w_intr_ack(void *o)
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    return k->saved_bus.intr_ack(k->saved_bus.opaque);
}
static void w_shutdown(void *o)
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    k->saved_bus.shutdown(k->saved_bus.opaque);
}
static uint64_t w_now(void *o)
{
    Checker *k = o;
    return k->saved_bus.now_ns(k->saved_bus.opaque);
}
static void w_ferr(void *o, int level)
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    k->saved_bus.ferr(k->saved_bus.opaque, level);
}

/* The backdoor pops the vmmouse queue: like a port read, it cannot be undone, so the
 * block is skipped rather than run a second time by the interpreter. */
static void w_backdoor(void *o, uint32_t regs[8])
{
    Checker *k = o;
    if (k->active) k->active->device = true;
    k->saved_bus.backdoor(k->saved_bus.opaque, regs);
}

static Checker *checker_get(Dbt *d)
{
    if (d->check) return d->check;
    Checker *k = calloc(1, sizeof(*k));
    if (!k) return NULL;
    k->jt.e = calloc(LOG_CAP, sizeof(WriteLogEntry));
    k->ji.e = calloc(LOG_CAP, sizeof(WriteLogEntry));
    if (!k->jt.e || !k->ji.e) {
        free(k->jt.e);
        free(k->ji.e);
        free(k);
        return NULL;
    }
    k->jt.cap = k->ji.cap = LOG_CAP;
    k->cpu = d->cpu;
    /* interpose on the CPU's bus (the callbacks stay the board's) */
    Cpu *c = d->cpu;
    k->saved_bus = c->bus;
    CpuBus *b = &c->bus;
    b->opaque = k;
    if (b->io_read) b->io_read = w_io_read;
    if (b->io_write) b->io_write = w_io_write;
    if (b->mmio_read) b->mmio_read = w_mmio_read;
    if (b->mmio_write) b->mmio_write = w_mmio_write;
    if (b->intr_ack) b->intr_ack = w_intr_ack;
    if (b->shutdown) b->shutdown = w_shutdown;
    if (b->now_ns) b->now_ns = w_now;
    if (b->ferr) b->ferr = w_ferr;
    if (b->backdoor) b->backdoor = w_backdoor;
    d->check = k;
    return k;
}

void dbt_check_free(Dbt *d)
{
    Checker *k = d->check;
    if (!k) return;
    if (d->cpu && d->cpu->bus.opaque == k) d->cpu->bus = k->saved_bus;
    free(k->jt.e);
    free(k->ji.e);
    free(k);
    d->check = NULL;
}

static void log_reset(WriteLog *w)
{
    w->n = 0;
    w->overflow = false;
    w->device = false;
}

/* ---- state comparison ---- */

#define CMPF(field, fmt)                                                                  \
    do {                                                                                  \
        if (a->field != b->field) {                                                       \
            if (f) fprintf(f, "  %-14s translated %llx  interpreter %llx\n", #field,        \
                           (unsigned long long)b->field, (unsigned long long)a->field);   \
            diff++;                                                                       \
        }                                                                                 \
    } while (0)

/* a: interpreter, b: translated. Prints differences to f (when not NULL). */
static int compare_cpu(const Cpu *a, const Cpu *b, FILE *f)
{
    int diff = 0;
    static const char *const rn[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (int r = 0; r < 8; r++)
        if (a->regs[r] != b->regs[r]) {
            if (f) fprintf(f, "  %-14s translated %08x  interpreter %08x\n", rn[r], b->regs[r],
                           a->regs[r]);
            diff++;
        }
    CMPF(eip, "%08x");
    CMPF(eflags, "%08x");
    for (int s = 0; s < SEG_COUNT; s++) {
        CMPF(seg[s].sel, "%04x");
        CMPF(seg[s].base, "%08x");
        CMPF(seg[s].limit, "%08x");
        CMPF(seg[s].flags, "%05x");
    }
    CMPF(ldtr.sel, "%04x");
    CMPF(ldtr.base, "%08x");
    CMPF(tr.sel, "%04x");
    CMPF(tr.base, "%08x");
    CMPF(gdtr.base, "%08x");
    CMPF(gdtr.limit, "%04x");
    CMPF(idtr.base, "%08x");
    CMPF(idtr.limit, "%04x");
    for (int i = 0; i < 5; i++) CMPF(cr[i], "%08x");
    for (int i = 0; i < 8; i++) CMPF(dr[i], "%08x");
    CMPF(cpl, "%u");
    CMPF(halted, "%d");
    CMPF(inhibit_irq, "%u");
    CMPF(icount, "%llu");
    CMPF(fpu.cw, "%04x");
    CMPF(fpu.sw, "%04x");
    CMPF(fpu.tw, "%04x");
    CMPF(mxcsr_xor, "%08x");
    if (memcmp(a->fpu.st, b->fpu.st, sizeof(a->fpu.st))) {
        if (f) fprintf(f, "  x87 registers differ\n");
        diff++;
    }
    if (memcmp(a->xmm, b->xmm, sizeof(a->xmm))) {
        if (f) fprintf(f, "  xmm registers differ\n");
        diff++;
    }
    CMPF(msr_sysenter_cs, "%llx");
    CMPF(msr_sysenter_esp, "%llx");
    CMPF(msr_sysenter_eip, "%llx");
    CMPF(msr_efer, "%llx");
    CMPF(tsc_offset, "%llx");
    return diff;
}

static ByteCell *cell(Checker *k, uint32_t pa, bool *fresh)
{
    uint32_t h = (pa * 2654435761u) >> (32 - MAP_BITS);
    for (uint32_t i = 0; i < (1u << MAP_BITS); i++) {
        ByteCell *cl = &k->map[(h + i) & ((1u << MAP_BITS) - 1)];
        if (cl->pa_plus1 == pa + 1) {
            *fresh = false;
            return cl;
        }
        if (cl->pa_plus1 == 0) {
            cl->pa_plus1 = pa + 1;
            *fresh = true;
            k->used[k->nused++] = (uint32_t)(cl - k->map);
            return cl;
        }
    }
    return NULL;
}

static void report(Dbt *d, Block *b, const Cpu *interp, const Cpu *trans, const char *what)
{
    FILE *f = d->opt.log_file ? d->opt.log_file : stderr;
    fprintf(f, "dbt86: lockstep check failed (%s) in the block at %08x [phys %08x], "
               "%u instructions:\n", what, b->eip, b->phys_pc, b->ninsn);
    compare_cpu(interp, trans, f);
    const uint8_t *bytes = physmem_rd_ptr(d->cpu->mem, b->phys_pc);
    uint32_t off = 0;
    fprintf(f, "guest code:\n");
    for (unsigned i = 0; i < b->ninsn && bytes; i++) {
        char text[128];
        disas_insn(bytes + off, b->insns[i].len, b->eip + off, b->mode & BM_CODE32, text,
                   sizeof(text));
        fprintf(f, "  %08x  %s\n", b->eip + off, text);
        off += b->insns[i].len;
    }
    fprintf(f, "host code (%u bytes at %p):\n", b->code_len, (void *)b->entry);
    disas_host(b->entry, b->code_len, (uint64_t)(uintptr_t)b->entry, f);
    char buf[2048];
    fprintf(f, "interpreter state:\n");
    cpu_format_state(interp, buf, sizeof(buf));
    fputs(buf, f);
    fprintf(f, "translated state:\n");
    cpu_format_state(trans, buf, sizeof(buf));
    fputs(buf, f);
    d->check_failed = true;
}

/* The translated block with faults caught before delivery (fault_jmp swapped). */
static __attribute__((noinline)) uintptr_t run_translated(Dbt *d, Block *b, bool *faulted)
{
    Cpu *c = d->cpu;
    jmp_buf outer;
    memcpy(outer, c->fault_jmp, sizeof(jmp_buf));
    volatile uintptr_t link = 0;
    *faulted = false;
    if (setjmp(c->fault_jmp) == 0)
        link = dbt_enter(d, b->body);
    else
        *faulted = true;
    memcpy(c->fault_jmp, outer, sizeof(jmp_buf));
    return link;
}

/* The interpreter for `retired` instructions (one more when a fault is expected);
 * returns true when it faulted (not delivered). */
static __attribute__((noinline)) bool run_interp(Cpu *c, uint64_t retired, bool expect_fault)
{
    jmp_buf outer;
    memcpy(outer, c->fault_jmp, sizeof(jmp_buf));
    bool faulted = false;
    uint64_t end = c->icount + retired;
    if (setjmp(c->fault_jmp) == 0) {
        while (c->icount < end) cpu_exec_insn(c);
        if (expect_fault) cpu_exec_insn(c);
    } else {
        faulted = true;
    }
    memcpy(c->fault_jmp, outer, sizeof(jmp_buf));
    return faulted;
}

uintptr_t dbt_check_block(Dbt *d, Block *b)
{
    Cpu *c = d->cpu;
    Checker *k = checker_get(d);
    if (!k) return dbt_enter(d, b->body);
    const size_t n = sizeof(k->s0);
    memcpy(k->s0, c, n);
    uint64_t icount0 = c->icount;

    /* 1. the translated block, faults caught before delivery */
    log_reset(&k->jt);
    k->active = &k->jt;
    c->wlog = &k->jt;
    bool t_faulted;
    uintptr_t link = run_translated(d, b, &t_faulted);
    c->wlog = NULL;
    k->active = NULL;
    uint8_t t_vector = c->pending_vector;
    uint32_t t_err = c->pending_errcode;

    if (k->jt.device || k->jt.overflow) {
        d->stats.check_skipped++;
        if (t_faulted) cpu_deliver_fault(c);
        return link;
    }

    /* 2. keep its result, undo its writes, restore the start state */
    memcpy(k->st, c, n);
    for (uint32_t i = 0; i < k->nused; i++) k->map[k->used[i]].pa_plus1 = 0;
    k->nused = 0;
    bool map_full = false;
    for (uint32_t i = 0; i < k->jt.n; i++) {
        const WriteLogEntry *e = &k->jt.e[i];
        for (unsigned j = 0; j < e->size; j++) {
            bool fresh;
            ByteCell *cl = cell(k, e->pa + j, &fresh);
            if (!cl) {
                map_full = true;
                break;
            }
            if (fresh) cl->orig = e->before[j];
            cl->tval = e->after[j];
        }
    }
    for (uint32_t i = k->jt.n; i-- > 0;) {
        const WriteLogEntry *e = &k->jt.e[i];
        uint8_t *p = (uint8_t *)physmem_rd_ptr(c->mem, e->pa);
        if (p) memcpy(p, e->before, e->size);
    }
    memcpy(c, k->s0, n);
    uint64_t retired = ((const Cpu *)(const void *)k->st)->icount - icount0;

    /* 3. the interpreter: the same instructions (and the same fault) */
    log_reset(&k->ji);
    k->active = &k->ji;
    c->wlog = &k->ji;
    bool i_faulted = run_interp(c, retired, t_faulted);
    c->wlog = NULL;
    k->active = NULL;
    d->stats.checked_blocks++;

    /* 4. compare */
    const Cpu *ct = (const Cpu *)(const void *)k->st;
    char what[96] = "";
    if (k->ji.device) snprintf(what, sizeof(what), "the interpreter touched a device");
    else if (i_faulted != t_faulted)
        snprintf(what, sizeof(what), "fault: translated %s, interpreter %s",
                 t_faulted ? "yes" : "no", i_faulted ? "yes" : "no");
    else if (t_faulted && (t_vector != c->pending_vector || t_err != c->pending_errcode))
        snprintf(what, sizeof(what), "fault: translated #%u(%x), interpreter #%u(%x)", t_vector,
                 t_err, c->pending_vector, c->pending_errcode);
    else if (compare_cpu(c, ct, NULL))
        snprintf(what, sizeof(what), "CPU state");
    if (!what[0] && !map_full) {
        for (uint32_t i = 0; i < k->ji.n && !map_full; i++) {
            const WriteLogEntry *e = &k->ji.e[i];
            for (unsigned j = 0; j < e->size; j++) {
                bool fresh;
                ByteCell *cl = cell(k, e->pa + j, &fresh);
                if (!cl) {
                    map_full = true;
                    break;
                }
                if (fresh) cl->orig = cl->tval = e->before[j];
            }
        }
        for (uint32_t u = 0; u < k->nused && !map_full; u++) {
            ByteCell *cl = &k->map[k->used[u]];
            if (!cl->pa_plus1) continue;
            const uint8_t *p = physmem_rd_ptr(c->mem, cl->pa_plus1 - 1);
            if (p && *p != cl->tval) {
                snprintf(what, sizeof(what), "memory at %08x: translated %02x, interpreter %02x",
                         cl->pa_plus1 - 1, cl->tval, *p);
                break;
            }
        }
    }
    if (what[0]) {
        report(d, b, c, ct, what);
        return 0;
    }
    if (i_faulted) cpu_deliver_fault(c);
    return link;
}
