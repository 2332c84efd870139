/*
 * exec.c — the interpreter's step loop: interrupt check, fetch, decode (through a
 * decoded-instruction cache), dispatch, and precise fault delivery with double- and
 * triple-fault escalation.
 *
 * A fault anywhere inside an instruction calls cpu_fault(), which puts EIP and ESP
 * back to the instruction's start and longjmps to the setjmp of cpu_step() or, once
 * per run, cpu_run(), which then delivers the exception. A fault while delivering
 * escalates (SDM vol. 3, table 6-5): two contributory faults, or a page fault followed
 * by a contributory or page fault, make #DF; a fault while delivering #DF is a triple
 * fault (shutdown). The instruction cache is checked against the freshly fetched bytes
 * on every use, so it needs no invalidation (see fetch_decode).
 */
#include <stdio.h>
#include <string.h>

#include "cpu/debug.h"
#include "cpu/disas.h"
#include "cpu/interp.h"
#include "cpu/mmu.h"

const char *const mnemonic_names[M__COUNT] = {
#define M(n) #n,
#include "cpu/mnemonics.def"
#undef M
};

/* Every mnemonic has a handler (declared in interp.h): a missing one is a link error. */
static const ExecFn exec_table[M__COUNT] = {
#define M(n) [M_##n] = exec_##n,
#include "cpu/mnemonics.def"
#undef M
};

void cpu_init(Cpu *c, PhysMem *mem, const CpuBus *bus)
{
    memset(c, 0, sizeof(*c));
    c->mem = mem;
    c->bus = *bus;
    c->a20_mask = 0xffffffffu;
    cpu_reset(c);
}

void cpu_reset(Cpu *c)
{
    memset(c, 0, offsetof(Cpu, icount));
    c->eflags = FL_FIXED1;
    c->eip = 0xfff0;
    c->cr[0] = CR0_ET | CR0_CD | CR0_NW;
    c->regs[R_EDX] = 0x00000633; /* family 6, model 3, stepping 3: matches CPUID leaf 1 */
    for (int s = 0; s < SEG_COUNT; s++) {
        c->seg[s].sel = 0;
        c->seg[s].base = 0;
        c->seg[s].limit = 0xffff;
        c->seg[s].flags = SEGF_P | SEGF_S | SEGF_RW | SEGF_ACCESSED;
    }
    c->seg[SEG_CS].sel = 0xf000;
    c->seg[SEG_CS].base = 0xffff0000u;
    c->seg[SEG_CS].flags = SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_ACCESSED;
    c->gdtr.limit = c->idtr.limit = 0xffff;
    c->ldtr.limit = 0xffff;
    c->ldtr.flags = SEGF_P | 0x2;
    c->tr.limit = 0xffff;
    c->tr.flags = SEGF_P | 0xb;
    c->dr[6] = 0xffff0ff0u;
    c->dr[7] = 0x00000400u;
    c->msr_apic_base = 0xfee00900u;
    c->stop_requested = false;
}

void cpu_set_intr(Cpu *c, bool level)
{
    c->intr_line = level;
    if (level) c->dbt_exit = true;
}
void cpu_set_nmi(Cpu *c)
{
    c->nmi_pending = true;
    c->dbt_exit = true;
}
void cpu_request_stop(Cpu *c)
{
    c->stop_requested = true;
    c->dbt_exit = true;
}
void cpu_set_a20(Cpu *c, bool enabled)
{
    c->a20_mask = enabled ? 0xffffffffu : ~(1u << 20);
    memset(c->htlb, 0, sizeof(c->htlb)); /* host pages were found through A20 */
}

static bool contributory(int v)
{
    return v == EXC_DE || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP;
}

__attribute__((noreturn)) void cpu_fault(Cpu *c, int vector, uint32_t errcode)
{
    c->eip = c->insn_eip;
    c->regs[R_ESP] = c->insn_esp;
    c->pending_vector = (uint8_t)vector;
    c->pending_errcode = errcode;
    longjmp(c->fault_jmp, 1);
}

static void log_insn(Cpu *c, const uint8_t *bytes, unsigned n)
{
    char text[128];
    FILE *f = c->log_file ? (FILE *)c->log_file : stderr;
    uint32_t lin = c->seg[SEG_CS].base + c->eip;
    disas_insn(bytes, n, c->eip, cpu_code32(c), text, sizeof(text));
    fprintf(f, "%04x:%08x [%08x] %s\n", c->seg[SEG_CS].sel, c->eip, lin, text);
}

/* Deliver the fault recorded in pending_vector, escalating on nested faults.
 * fault_depth 1 means "delivering first_vector"; a fault then either combines with it
 * into #DF (SDM vol. 3 table 6-5) or, when the first event was benign, is simply
 * delivered next (serially) and becomes the event that a further fault is judged by. */
static void deliver_fault(Cpu *c)
{
    int v = c->pending_vector;
    uint32_t err = c->pending_errcode;
    c->exc_count++;
    if (c->fault_depth == 0) {
        c->first_vector = v;
        c->fault_depth = 1;
    } else if (c->fault_depth == 1) {
        int f = c->first_vector;
        bool df = (contributory(f) && contributory(v)) ||
                  (f == EXC_PF && (contributory(v) || v == EXC_PF));
        if (df) {
            v = EXC_DF;
            err = 0;
        } else {
            c->first_vector = v;
        }
    } else {
        /* a fault while delivering #DF: shutdown */
        c->fault_depth = 0;
        c->halted = true;
        c->stop_requested = true;
        if (c->log_flags & LOG_INT)
            fprintf(c->log_file ? (FILE *)c->log_file : stderr, "triple fault\n");
        if (c->bus.shutdown) c->bus.shutdown(c->bus.opaque);
        return;
    }
    if (v == EXC_DF) c->fault_depth = 2;
    /* fault-class exceptions push RF=1, so the restarted instruction does not stop at
     * its own instruction breakpoint again (SDM vol. 3 17.3.1.1; #DF is an abort) */
    if (v != EXC_DF) c->eflags |= FL_RF;
    cpu_interrupt(c, v, err, false);
    c->fault_depth = 0;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Masks selecting an instruction of `len` bytes (the index) in ICacheEntry.w0 (bytes
 * 0-7) and w1 (bytes 7-14, whose byte 7 w0 already covers). */
static const uint64_t icache_masks[16][2] = {
    { 0x0000000000000000ull, 0x0000000000000000ull },
    { 0x00000000000000ffull, 0x0000000000000000ull },
    { 0x000000000000ffffull, 0x0000000000000000ull },
    { 0x0000000000ffffffull, 0x0000000000000000ull },
    { 0x00000000ffffffffull, 0x0000000000000000ull },
    { 0x000000ffffffffffull, 0x0000000000000000ull },
    { 0x0000ffffffffffffull, 0x0000000000000000ull },
    { 0x00ffffffffffffffull, 0x0000000000000000ull },
    { 0xffffffffffffffffull, 0x0000000000000000ull },
    { 0xffffffffffffffffull, 0x000000000000ff00ull },
    { 0xffffffffffffffffull, 0x0000000000ffff00ull },
    { 0xffffffffffffffffull, 0x00000000ffffff00ull },
    { 0xffffffffffffffffull, 0x000000ffffffff00ull },
    { 0xffffffffffffffffull, 0x0000ffffffffff00ull },
    { 0xffffffffffffffffull, 0x00ffffffffffff00ull },
    { 0xffffffffffffffffull, 0xffffffffffffff00ull },
};

/* The 15-byte fetch window at CS:EIP with exactly mem_fetch(c, c->eip, buf, 15)'s
 * checks and side effects: a pointer to the bytes (straight into guest RAM/ROM when
 * the window lies in one page within the CS limit, else into buf) and their count. */
static inline const uint8_t *fetch_window(Cpu *c, uint8_t *buf, unsigned *n)
{
    const SegCache *cs = &c->seg[SEG_CS];
    uint32_t eip = cpu_code32(c) ? c->eip : c->eip & 0xffff;
    uint32_t lin = cs->base + eip;
    /* the common case: all 15 bytes inside the CS limit (limit - eip >= 14 also covers
     * the 4 GiB wrap that mem_fetch treats as unlimited) and inside one page, so
     * mem_fetch would translate once and copy one chunk */
    if (__builtin_expect(eip <= cs->limit && cs->limit - eip >= 14 &&
                         (lin & PAGE_MASK) <= PAGE_SIZE - 15, 1)) {
        uint32_t pa = (c->cr[0] & CR0_PG) ? mmu_translate(c, lin, MMU_FETCH, false) : lin;
        const uint8_t *p = physmem_rd_ptr(c->mem, pa & c->a20_mask);
        *n = 15;
        if (p) return p;
        for (unsigned i = 0; i < 15; i++) buf[i] = phys_read(c, pa + i, 1); /* MMIO */
        return buf;
    }
    /* zeroed so that the cache's 8-byte compares never read undefined bytes */
    memset(buf, 0, 16);
    /* only up to the end of the page: the next page is fetched (translated, its
     * accessed bit set) only when the instruction really continues there, which
     * fetch_decode finds out byte by byte; the translator does the same */
    unsigned want = PAGE_SIZE - (lin & PAGE_MASK);
    if (want > 15) want = 15;
    *n = mem_fetch(c, c->eip, buf, want);
    return buf;
}

/* Fetch and decode the instruction at CS:EIP. The decoded-instruction cache is keyed
 * (only for spreading) by linear address; an entry is used only when the bytes it was
 * decoded from equal the `n` bytes just fetched, and decode() depends on nothing but
 * those bytes and the CS D bit, so a hit gives exactly what decoding would. The fetch
 * itself (limit checks, paging, its faults) always happens as before. */
static inline const Insn *fetch_decode(Cpu *c, uint8_t *buf, const uint8_t **bytes_out)
{
    unsigned n;
    const uint8_t *bytes = fetch_window(c, buf, &n);
    bool code32 = cpu_code32(c);
    uint8_t mode = code32 ? 2 : 1;
    uint32_t lin = c->seg[SEG_CS].base + c->eip;
    ICacheEntry *e = &c->icache[(lin ^ (lin >> 11)) & (ICACHE_SIZE - 1)];
    *bytes_out = bytes;
    if (e->mode == mode && e->in.len <= n) {
        const uint64_t *m = icache_masks[e->in.len & 15];
        if ((load64(bytes) & m[0]) == e->w0 && (load64(bytes + 7) & m[1]) == e->w1)
            return &e->in;
    }
    e->mode = 0;
    int r = decode(&e->in, bytes, n, code32);
    while (r == DECODE_MORE && n < 15) {
        /* the instruction runs into a page that faults (or the CS limit): take the
         * fault on the first byte that cannot be fetched */
        if (bytes != buf) {
            memcpy(buf, bytes, n);
            bytes = buf;
            *bytes_out = buf;
        }
        uint32_t next = c->eip + n;
        if (!code32) next &= 0xffff;
        n += mem_fetch(c, next, buf + n, 1);
        r = decode(&e->in, bytes, n, code32);
    }
    if (r != DECODE_OK) cpu_fault(c, EXC_GP, 0); /* longer than 15 bytes */
    const uint64_t *m = icache_masks[e->in.len & 15];
    e->w0 = load64(bytes) & m[0];
    e->w1 = load64(bytes + 7) & m[1];
    e->mode = mode;
    return &e->in;
}

/* One step of cpu_step() with c->fault_jmp already armed by the caller (inlined into
 * both cpu_step and cpu_run's loop). */
static inline __attribute__((always_inline)) void step_body(Cpu *c)
{
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    c->fault_depth = 0;

    /* interrupts are recognised between instructions (one test for the usual case
     * of nothing pending) */
    if (__builtin_expect(c->inhibit_irq | c->nmi_pending | c->intr_line, 0)) {
        if (c->inhibit_irq) {
            c->inhibit_irq = 0;
        } else if (c->nmi_pending) {
            c->nmi_pending = false;
            c->halted = false;
            c->fault_depth = 1;
            c->first_vector = EXC_NMI;
            cpu_interrupt(c, EXC_NMI, EXC_NO_ERRCODE, false);
            c->fault_depth = 0;
            return;
        } else if (c->intr_line && (c->eflags & FL_IF)) {
            c->halted = false;
            uint8_t vec = c->bus.intr_ack ? c->bus.intr_ack(c->bus.opaque) : 0;
            c->fault_depth = 1;
            /* an external interrupt is a benign first event whatever its vector number
             * (IRQ 5 at INT 0Dh in real mode must not look like #GP) */
            c->first_vector = EXC_NMI;
            cpu_interrupt(c, vec, EXC_NO_ERRCODE, false);
            c->fault_depth = 0;
            return;
        }
    }
    if (c->halted) return;
    /* debug registers, TF/RF, pending debug traps (debug.c): one test when unused */
    bool dbg = cpu_debug_active(c);
    if (__builtin_expect(dbg, 0) && debug_before(c)) return;

    uint8_t buf[16];
    const uint8_t *bytes;
    const Insn *in = fetch_decode(c, buf, &bytes);
    if (__builtin_expect(c->log_flags != 0, 0)) {
        if (c->log_flags & LOG_CPU) {
            char state[1024];
            cpu_format_state(c, state, sizeof(state));
            fputs(state, c->log_file ? (FILE *)c->log_file : stderr);
        }
        if (c->log_flags & LOG_IN_ASM) log_insn(c, bytes, in->len);
    }

    bool tf = c->eflags & FL_TF;
    uint32_t next = c->eip + in->len;
    c->eip = cpu_code32(c) ? next : next & 0xffff;
    ExecFn fn = exec_table[in->mnem];
    fn(c, in);
    c->icount++;
    /* single-step, data/I-O breakpoint and task-switch traps (SDM 17.3.1) */
    if (__builtin_expect(dbg, 0)) debug_after(c, in, tf);
}

void cpu_exec_insn(Cpu *c) { step_body(c); }
void cpu_deliver_fault(Cpu *c) { deliver_fault(c); }
CpuExecFn cpu_handler(unsigned mnem) { return mnem < M__COUNT ? exec_table[mnem] : NULL; }

void cpu_step(Cpu *c)
{
    if (setjmp(c->fault_jmp)) {
        /* a fault in the instruction or in a delivery: (re)deliver from here */
        deliver_fault(c);
        return;
    }
    step_body(c);
}

CpuExit cpu_run(Cpu *c, uint64_t budget)
{
    /* One setjmp for the whole run rather than one per instruction: a fault longjmps
     * here, is delivered (a fault while delivering comes back here and escalates),
     * and the loop goes on exactly as after a cpu_step() that took a fault. `end` is
     * never modified after setjmp, so it survives the longjmp. */
    const uint64_t end = c->icount + budget;
    if (setjmp(c->fault_jmp)) deliver_fault(c);
    while (c->icount < end) {
        if (c->stop_requested) {
            c->stop_requested = false;
            return CPU_EXIT_STOP;
        }
        if (c->halted && !c->nmi_pending && !(c->intr_line && (c->eflags & FL_IF)))
            return CPU_EXIT_HALT;
        step_body(c);
    }
    return CPU_EXIT_BUDGET;
}

int cpu_format_state(const Cpu *c, char *buf, int size)
{
    static const char *const sn[SEG_COUNT] = {"ES", "CS", "SS", "DS", "FS", "GS"};
    int n = snprintf(buf, size,
                     "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n"
                     "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
                     "EIP=%08x EFL=%08x CPL=%d %s%s\n",
                     c->regs[R_EAX], c->regs[R_EBX], c->regs[R_ECX], c->regs[R_EDX],
                     c->regs[R_ESI], c->regs[R_EDI], c->regs[R_EBP], c->regs[R_ESP], c->eip,
                     c->eflags, c->cpl, cpu_pe(c) ? (cpu_vm86(c) ? "VM86" : "PE") : "REAL",
                     c->halted ? " HLT" : "");
    for (int s = 0; s < SEG_COUNT && n < size; s++)
        n += snprintf(buf + n, size - n, "%s =%04x %08x %08x %05x\n", sn[s], c->seg[s].sel,
                      c->seg[s].base, c->seg[s].limit, c->seg[s].flags);
    if (n < size)
        n += snprintf(buf + n, size - n,
                      "GDT=     %08x %04x\nIDT=     %08x %04x\n"
                      "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n",
                      c->gdtr.base, c->gdtr.limit, c->idtr.base, c->idtr.limit, c->cr[0],
                      c->cr[2], c->cr[3], c->cr[4]);
    return n;
}
