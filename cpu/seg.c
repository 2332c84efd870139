/*
 * seg.c — segmentation: segment register loads with the protected-mode checks, and the
 * far control transfers between code segments (JMP/CALL far incl. call gates with the
 * inner-stack switch, RET far, IRET incl. returns to outer levels and to v86 mode).
 *
 * Every transfer reads and checks everything and writes the stack (for pushes onto a
 * not yet loaded stack through a private SegCache copy) before it changes a register,
 * so a fault part-way leaves the architectural state as it was (cpu_fault restores
 * EIP/ESP). Task switches (ch. 7) are here too: JMP/CALL to a TSS or task gate,
 * interrupts through task gates (intr.c), and IRET with NT=1. Error codes follow SDM
 * vol. 3 ch. 5-7 and the vol. 2 pseudo-code.
 */
#include "cpu/debug.h"
#include "cpu/interp.h"
#include "cpu/mmu.h"
#include "cpu/seg_internal.h"

/* EFLAGS bits that exist on this CPU (reserved bits read as 0, bit 1 as 1). */
#define FL_VALID 0x003f7fd5u

/* ---- descriptors ---- */

/* Linear address of the descriptor for `sel`, or faults vector(err) when the selector
 * is outside the GDT/LDT limit (or TI=1 with no LDT). */
static uint32_t desc_addr(Cpu *c, uint16_t sel, int vector, uint32_t err)
{
    uint32_t base, limit;
    if (sel & 4) {
        if ((c->ldtr.sel & 0xfffc) == 0 || !(c->ldtr.flags & SEGF_P)) cpu_fault(c, vector, err);
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    if ((uint32_t)(sel | 7) > limit) cpu_fault(c, vector, err);
    return base + (sel & ~7u);
}

void seg_desc_read(Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, int vector, uint32_t err)
{
    uint32_t a = desc_addr(c, sel, vector, err);
    *lo = lin_read32(c, a, true);
    *hi = lin_read32(c, a + 4, true);
}

void seg_read_descriptor(Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, int vector)
{
    seg_desc_read(c, sel, lo, hi, vector, sel & 0xfffc);
}

void seg_cache_from_desc(SegCache *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    s->sel = sel;
    s->base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    s->flags = (hi >> 8) & 0xf0ff;
    s->limit = (s->flags & SEGF_G) ? (limit << 12) | 0xfff : limit;
}

void seg_set_accessed(Cpu *c, uint16_t sel, uint32_t hi)
{
    /* only code/data descriptors have the bit; it is written once, like hardware */
    if (!(hi & 0x1000) || (hi & 0x100)) return;
    uint32_t a = desc_addr(c, sel, EXC_GP, sel & 0xfffc);
    lin_write32(c, a + 4, hi | 0x100, true);
}

/* A null (unusable) data segment register. */
static void seg_set_null(SegCache *s, uint16_t sel)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->flags = 0;
}

void seg_load_real(Cpu *c, int seg, uint16_t sel)
{
    SegCache *s = &c->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (cpu_pe(c) && cpu_vm86(c)) {
        /* v86 mode: every segment is a 64 KiB, DPL 3, present, writable segment */
        s->limit = 0xffff;
        s->flags = SEGF_P | SEGF_S | SEGF_RW | SEGF_ACCESSED | (3u << SEGF_DPL_SHIFT) |
                   (seg == SEG_CS ? SEGF_CODE : 0);
    }
    /* real mode keeps limit and attributes (so "unreal mode" works as on hardware) */
}

/* Protected-mode load with the checks of MOV Sreg; `vec` is the vector for the
 * "invalid selector" errors: #GP for instructions, #TS while loading a new task. */
static void seg_load_checked(Cpu *c, int seg, uint16_t sel, int vec)
{
    uint16_t idx = sel & 0xfffc;
    unsigned rpl = sel & 3, cpl = c->cpl;
    uint32_t lo, hi;
    if (idx == 0) {
        if (seg == SEG_SS || seg == SEG_CS) cpu_fault(c, vec, 0);
        seg_set_null(&c->seg[seg], sel);
        return;
    }
    seg_read_descriptor(c, sel, &lo, &hi, vec);
    unsigned dpl = (hi >> 13) & 3;
    bool s_bit = hi & 0x1000, code = hi & 0x800, rw = hi & 0x200, conf = hi & 0x400;
    if (seg == SEG_SS) {
        if (rpl != cpl || !s_bit || code || !rw || dpl != cpl) cpu_fault(c, vec, idx);
        if (!(hi & 0x8000)) cpu_fault(c, EXC_SS, idx);
    } else if (seg == SEG_CS) {
        /* only task switches load CS this way (CPL is already the selector's RPL) */
        if (!s_bit || !code || (conf ? dpl > cpl : dpl != cpl)) cpu_fault(c, vec, idx);
        if (!(hi & 0x8000)) cpu_fault(c, EXC_NP, idx);
    } else {
        if (!s_bit || (code && !rw)) cpu_fault(c, vec, idx);
        if ((!code || !conf) && (dpl < cpl || dpl < rpl)) cpu_fault(c, vec, idx);
        if (!(hi & 0x8000)) cpu_fault(c, EXC_NP, idx);
    }
    seg_set_accessed(c, sel, hi);
    seg_cache_from_desc(&c->seg[seg], sel, lo, hi | 0x100);
}

void seg_load(Cpu *c, int seg, uint16_t sel)
{
    if (cpu_realmode_seg(c))
        seg_load_real(c, seg, sel);
    else
        seg_load_checked(c, seg, sel, EXC_GP);
}

/* ---- stacks that are not (yet) SS ---- */

void nstack_init(NewStack *s, const SegCache *ss, uint32_t esp, unsigned new_cpl, uint32_t err)
{
    s->ss = *ss;
    s->sp = esp;
    s->sys = new_cpl < 3;
    s->err = err;
}

void nstack_push(Cpu *c, NewStack *s, uint32_t v, unsigned size)
{
    bool big = s->ss.flags & SEGF_DB;
    uint32_t sp = big ? s->sp - size : (s->sp & 0xffff0000u) | ((s->sp - size) & 0xffff);
    uint32_t off = big ? sp : sp & 0xffff, last = off + size - 1;
    if ((s->ss.flags & (SEGF_CODE | SEGF_DC)) == SEGF_DC) {
        uint32_t upper = big ? 0xffffffffu : 0xffffu;
        if (off <= s->ss.limit || last > upper || last < off) cpu_fault(c, EXC_SS, s->err);
    } else if (last > s->ss.limit || last < off) {
        cpu_fault(c, EXC_SS, s->err);
    }
    if (size == 4)
        lin_write32(c, s->ss.base + off, v, s->sys);
    else
        lin_write16(c, s->ss.base + off, v, s->sys);
    s->sp = sp;
}

/* Reads the inner stack pointer for privilege level `dpl` from the current TSS. */
void tss_inner_stack(Cpu *c, unsigned dpl, uint16_t *ss, uint32_t *esp, uint32_t ext)
{
    unsigned type = c->tr.flags & 0xf;
    uint32_t err = (c->tr.sel & 0xfffc) | ext;
    if (!(c->tr.flags & SEGF_P)) cpu_fault(c, EXC_TS, err);
    if (type == 0x9 || type == 0xb) {
        uint32_t off = 4 + dpl * 8;
        if (off + 5 > c->tr.limit) cpu_fault(c, EXC_TS, err);
        *esp = lin_read32(c, c->tr.base + off, true);
        *ss = lin_read16(c, c->tr.base + off + 4, true);
    } else {
        uint32_t off = 2 + dpl * 4;
        if (off + 3 > c->tr.limit) cpu_fault(c, EXC_TS, err);
        *esp = lin_read16(c, c->tr.base + off, true);
        *ss = lin_read16(c, c->tr.base + off + 2, true);
    }
}

/* Checks the inner stack selector from the TSS for a switch to level `dpl`
 * (#TS/#SS with `ext` in the error code) and returns its descriptor in `out`. */
void tss_check_stack(Cpu *c, uint16_t ss, unsigned dpl, uint32_t ext, SegCache *out)
{
    uint16_t idx = ss & 0xfffc;
    uint32_t lo, hi;
    if (idx == 0) cpu_fault(c, EXC_TS, ext);
    seg_desc_read(c, ss, &lo, &hi, EXC_TS, idx | ext);
    unsigned sdpl = (hi >> 13) & 3;
    if ((ss & 3) != dpl || sdpl != dpl || (hi & 0x1800) != 0x1000 || !(hi & 0x200))
        cpu_fault(c, EXC_TS, idx | ext);
    if (!(hi & 0x8000)) cpu_fault(c, EXC_SS, idx | ext);
    seg_set_accessed(c, ss, hi);
    seg_cache_from_desc(out, ss, lo, hi | 0x100);
}

/* After a return to an outer level, data segment registers the new CPL may not use
 * become null (SDM RET/IRET pseudo-code). */
static void null_inaccessible_segs(Cpu *c)
{
    static const int segs[4] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (int i = 0; i < 4; i++) {
        SegCache *s = &c->seg[segs[i]];
        unsigned dpl = (s->flags & SEGF_DPL_MASK) >> SEGF_DPL_SHIFT;
        bool conf_code = (s->flags & (SEGF_CODE | SEGF_DC)) == (SEGF_CODE | SEGF_DC);
        if ((s->sel & 0xfffc) == 0 || !(s->flags & SEGF_S) || (!conf_code && dpl < c->cpl))
            seg_set_null(s, 0);
    }
}

static uint32_t desc_limit(uint32_t lo, uint32_t hi)
{
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    return (hi & 0x800000) ? (limit << 12) | 0xfff : limit;
}

/* ---- task switch (SDM vol. 3 7.3) ---- */

/* Sets or clears the busy bit of the TSS descriptor for `sel` in the GDT. */
static void tss_set_busy(Cpu *c, uint16_t sel, bool busy)
{
    uint32_t a = c->gdtr.base + (sel & ~7u) + 4;
    uint32_t hi = lin_read32(c, a, true);
    lin_write32(c, a, busy ? hi | 0x200 : hi & ~0x200u, true);
}

void task_switch(Cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, int source, uint32_t errcode,
                 uint32_t ext)
{
    uint16_t idx = sel & 0xfffc;
    bool new32 = hi & 0x800;
    uint32_t nbase = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    uint32_t nlimit = desc_limit(lo, hi);
    if (!(hi & 0x8000)) cpu_fault(c, EXC_NP, idx | ext);
    if (nlimit < (new32 ? 0x67u : 0x2bu)) cpu_fault(c, EXC_TS, idx | ext);

    /* read the whole new state first: a #PF here changes nothing */
    uint32_t r[8], eip, fl, cr3 = 0;
    uint16_t sr[SEG_COUNT], ldt;
    bool t_flag = false; /* the debug trap flag (32-bit TSS byte 0x64 bit 0) */
    if (new32) {
        t_flag = lin_read16(c, nbase + 0x64, true) & 1;
        cr3 = lin_read32(c, nbase + 0x1c, true);
        eip = lin_read32(c, nbase + 0x20, true);
        fl = lin_read32(c, nbase + 0x24, true);
        for (int i = 0; i < 8; i++)
            r[i] = lin_read32(c, nbase + 0x28 + 4 * i, true);
        for (int i = 0; i < SEG_COUNT; i++)
            sr[i] = lin_read16(c, nbase + 0x48 + 4 * i, true);
        ldt = lin_read16(c, nbase + 0x60, true);
    } else {
        /* a 286 TSS holds 16-bit registers: the upper halves keep their values */
        eip = lin_read16(c, nbase + 0x0e, true);
        fl = lin_read16(c, nbase + 0x10, true);
        for (int i = 0; i < 8; i++)
            r[i] = (c->regs[i] & 0xffff0000u) | lin_read16(c, nbase + 0x12 + 2 * i, true);
        for (int i = 0; i < 4; i++)
            sr[i] = lin_read16(c, nbase + 0x22 + 2 * i, true);
        sr[SEG_FS] = sr[SEG_GS] = 0;
        ldt = lin_read16(c, nbase + 0x2a, true);
    }

    /* save the outgoing task into the current TSS */
    uint32_t obase = c->tr.base, ofl = c->eflags;
    if (source == TASK_IRET) ofl &= ~FL_NT;
    if (c->tr.flags & 0x8) {
        lin_write32(c, obase + 0x20, c->eip, true);
        lin_write32(c, obase + 0x24, ofl, true);
        for (int i = 0; i < 8; i++)
            lin_write32(c, obase + 0x28 + 4 * i, c->regs[i], true);
        for (int i = 0; i < SEG_COUNT; i++)
            lin_write16(c, obase + 0x48 + 4 * i, c->seg[i].sel, true);
    } else {
        lin_write16(c, obase + 0x0e, c->eip, true);
        lin_write16(c, obase + 0x10, ofl, true);
        for (int i = 0; i < 8; i++)
            lin_write16(c, obase + 0x12 + 2 * i, c->regs[i], true);
        for (int i = 0; i < 4; i++)
            lin_write16(c, obase + 0x22 + 2 * i, c->seg[i].sel, true);
    }
    if (source == TASK_JMP || source == TASK_IRET) tss_set_busy(c, c->tr.sel, false);
    if (source != TASK_IRET) tss_set_busy(c, sel, true);
    if (source == TASK_CALL) {
        lin_write16(c, nbase, c->tr.sel, true); /* back link for IRET */
        fl |= FL_NT;
    }

    /* switch: from here on faults belong to the new task */
    c->tr.sel = sel;
    c->tr.base = nbase;
    c->tr.limit = nlimit;
    c->tr.flags = ((hi >> 8) & 0xf0ff) | 0x2; /* busy */
    c->cr[0] |= CR0_TS;
    debug_task_switch(c, t_flag);
    bool load_pdptes = false;
    if (new32 && (c->cr[0] & CR0_PG)) {
        /* CR3 is kept whole (PAE uses bits 31:5); global pages survive the switch */
        c->cr[3] = cr3;
        load_pdptes = (c->cr[4] & CR4_PAE) != 0;
        mmu_flush_nonglobal(c);
    }
    c->eip = eip;
    c->eflags = (fl & FL_VALID) | FL_FIXED1;
    for (int i = 0; i < 8; i++)
        c->regs[i] = r[i];
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    /* with PAE the new CR3's PDPTEs are loaded now; reserved bits fault in the new task */
    if (load_pdptes && !mmu_load_pdptes(c, c->cr[3])) cpu_fault(c, EXC_GP, 0);
    for (int i = 0; i < SEG_COUNT; i++)
        seg_set_null(&c->seg[i], sr[i]);
    seg_set_null(&c->ldtr, ldt);
    bool v86 = c->eflags & FL_VM;
    c->cpl = v86 ? 3 : sr[SEG_CS] & 3;

    /* load and check the new task's LDT and segments (#TS with the selector) */
    if (ldt & 0xfffc) {
        uint32_t llo, lhi;
        if (ldt & 4) cpu_fault(c, EXC_TS, ldt & 0xfffc);
        seg_read_descriptor(c, ldt, &llo, &lhi, EXC_TS);
        if ((lhi & 0x1f00) != 0x0200) cpu_fault(c, EXC_TS, ldt & 0xfffc);
        if (!(lhi & 0x8000)) cpu_fault(c, EXC_TS, ldt & 0xfffc);
        seg_cache_from_desc(&c->ldtr, ldt, llo, lhi);
    }
    if (v86) {
        for (int i = 0; i < SEG_COUNT; i++)
            seg_load_real(c, i, sr[i]);
    } else {
        static const int order[SEG_COUNT] = {SEG_CS, SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS};
        for (int i = 0; i < SEG_COUNT; i++)
            seg_load_checked(c, order[i], sr[order[i]], EXC_TS);
    }
    if (errcode != EXC_NO_ERRCODE) stack_push(c, errcode, new32 ? 4 : 2);
    if (c->eip > c->seg[SEG_CS].limit) cpu_fault(c, EXC_GP, ext);
}

/* JMP/CALL to a TSS descriptor or through a task gate in the GDT/LDT. */
static void far_to_task(Cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, bool is_call)
{
    uint16_t idx = sel & 0xfffc;
    unsigned dpl = (hi >> 13) & 3;
    if (dpl < c->cpl || dpl < (sel & 3u)) cpu_fault(c, EXC_GP, idx);
    if (((hi >> 8) & 0x1f) == 0x05) {
        if (!(hi & 0x8000)) cpu_fault(c, EXC_NP, idx);
        sel = lo >> 16;
        idx = sel & 0xfffc;
        if ((sel & 4) || idx == 0) cpu_fault(c, EXC_GP, idx);
        seg_read_descriptor(c, sel, &lo, &hi, EXC_GP);
    }
    unsigned type = (hi >> 8) & 0x1f;
    if (type != 0x01 && type != 0x09) cpu_fault(c, EXC_GP, idx); /* busy or not a TSS */
    task_switch(c, sel, lo, hi, is_call ? TASK_CALL : TASK_JMP, EXC_NO_ERRCODE, 0);
}

/* ---- far JMP / CALL ---- */

static void far_jump_real(Cpu *c, uint16_t sel, uint32_t eip, bool is_call, unsigned opsize)
{
    if (opsize == 2) eip &= 0xffff;
    if (eip > c->seg[SEG_CS].limit) cpu_fault(c, EXC_GP, 0);
    if (is_call) {
        stack_push(c, c->seg[SEG_CS].sel, opsize);
        stack_push(c, c->eip, opsize);
    }
    seg_load_real(c, SEG_CS, sel);
    c->eip = eip;
}

/* Loads CS from a checked code descriptor with RPL = `cpl` and sets CPL. */
static void load_cs(Cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, unsigned cpl)
{
    seg_cache_from_desc(&c->seg[SEG_CS], (sel & 0xfffc) | cpl, lo, hi | 0x100);
    c->cpl = cpl;
}

/* JMP/CALL through a call gate (gate descriptor glo/ghi already read). */
static void far_via_call_gate(Cpu *c, uint16_t gsel, uint32_t glo, uint32_t ghi, bool is_call)
{
    unsigned cpl = c->cpl, gdpl = (ghi >> 13) & 3;
    bool gate32 = (ghi & 0x800) != 0;
    unsigned size = gate32 ? 4 : 2;
    if (gdpl < cpl || gdpl < (gsel & 3u)) cpu_fault(c, EXC_GP, gsel & 0xfffc);
    if (!(ghi & 0x8000)) cpu_fault(c, EXC_NP, gsel & 0xfffc);
    uint16_t tsel = glo >> 16, tidx = tsel & 0xfffc;
    uint32_t eip = gate32 ? (glo & 0xffff) | (ghi & 0xffff0000u) : glo & 0xffff;
    uint32_t lo, hi;
    if (tidx == 0) cpu_fault(c, EXC_GP, 0);
    seg_read_descriptor(c, tsel, &lo, &hi, EXC_GP);
    unsigned dpl = (hi >> 13) & 3;
    bool conf = hi & 0x400;
    if ((hi & 0x1800) != 0x1800 || dpl > cpl) cpu_fault(c, EXC_GP, tidx);
    if (!is_call && !conf && dpl != cpl) cpu_fault(c, EXC_GP, tidx);
    if (!(hi & 0x8000)) cpu_fault(c, EXC_NP, tidx);
    if (eip > desc_limit(lo, hi)) cpu_fault(c, EXC_GP, 0);
    seg_set_accessed(c, tsel, hi); /* a memory write: before any register changes */

    if (is_call && !conf && dpl < cpl) {
        /* more privileged: switch to the inner stack from the TSS, copy parameters */
        uint16_t nss;
        uint32_t nesp;
        SegCache ssc;
        tss_inner_stack(c, dpl, &nss, &nesp, 0);
        tss_check_stack(c, nss, dpl, 0, &ssc);
        NewStack ns;
        nstack_init(&ns, &ssc, nesp, dpl, nss & 0xfffc);
        unsigned count = ghi & 0x1f;
        uint32_t old_sp = stack_sp(c);
        bool old_big = cpu_stack32(c);
        nstack_push(c, &ns, c->seg[SEG_SS].sel, size);
        nstack_push(c, &ns, c->regs[R_ESP], size);
        for (int i = (int)count - 1; i >= 0; i--) {
            uint32_t a = old_sp + (uint32_t)i * size;
            if (!old_big) a &= 0xffff;
            nstack_push(c, &ns, mem_read(c, SEG_SS, a, size), size);
        }
        nstack_push(c, &ns, c->seg[SEG_CS].sel, size);
        nstack_push(c, &ns, c->eip, size);
        c->seg[SEG_SS] = ssc;
        c->regs[R_ESP] = ns.sp;
        load_cs(c, tsel, lo, hi, dpl);
    } else {
        if (is_call) {
            NewStack ns;
            nstack_init(&ns, &c->seg[SEG_SS], c->regs[R_ESP], cpl, 0);
            nstack_push(c, &ns, c->seg[SEG_CS].sel, size);
            nstack_push(c, &ns, c->eip, size);
            c->regs[R_ESP] = ns.sp;
        }
        load_cs(c, tsel, lo, hi, cpl);
    }
    c->eip = eip;
}

void far_jump(Cpu *c, uint16_t sel, uint32_t eip, bool is_call, unsigned opsize)
{
    if (cpu_realmode_seg(c)) {
        far_jump_real(c, sel, eip, is_call, opsize);
        return;
    }
    uint16_t idx = sel & 0xfffc;
    unsigned cpl = c->cpl, rpl = sel & 3;
    uint32_t lo, hi;
    if (idx == 0) cpu_fault(c, EXC_GP, 0);
    seg_read_descriptor(c, sel, &lo, &hi, EXC_GP);
    unsigned dpl = (hi >> 13) & 3;
    if (hi & 0x1000) {
        if (!(hi & 0x800)) cpu_fault(c, EXC_GP, idx); /* data segment */
        if (hi & 0x400) {
            if (dpl > cpl) cpu_fault(c, EXC_GP, idx);
        } else if (rpl > cpl || dpl != cpl) {
            cpu_fault(c, EXC_GP, idx);
        }
        if (!(hi & 0x8000)) cpu_fault(c, EXC_NP, idx);
        if (opsize == 2) eip &= 0xffff;
        if (eip > desc_limit(lo, hi)) cpu_fault(c, EXC_GP, 0);
        if (is_call) {
            NewStack ns;
            nstack_init(&ns, &c->seg[SEG_SS], c->regs[R_ESP], cpl, 0);
            nstack_push(c, &ns, c->seg[SEG_CS].sel, opsize);
            nstack_push(c, &ns, c->eip, opsize);
            c->regs[R_ESP] = ns.sp;
        }
        seg_set_accessed(c, sel, hi);
        load_cs(c, sel, lo, hi, cpl);
        c->eip = eip;
        return;
    }
    switch ((hi >> 8) & 0xf) {
    case 0x4:
    case 0xc:
        far_via_call_gate(c, sel, lo, hi, is_call);
        return;
    case 0x1:
    case 0x9:
    case 0x5:
        far_to_task(c, sel, lo, hi, is_call);
        return;
    default:
        cpu_fault(c, EXC_GP, idx);
    }
}

/* ---- RET far ---- */

/* Checks the code segment a RET/IRET returns to (selector `sel`) at CPL `cpl`. */
static void check_return_cs(Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    uint16_t idx = sel & 0xfffc;
    unsigned rpl = sel & 3;
    if (idx == 0) cpu_fault(c, EXC_GP, 0);
    seg_read_descriptor(c, sel, lo, hi, EXC_GP);
    unsigned dpl = (*hi >> 13) & 3;
    if ((*hi & 0x1800) != 0x1800 || rpl < c->cpl) cpu_fault(c, EXC_GP, idx);
    if (*hi & 0x400) {
        if (dpl > rpl) cpu_fault(c, EXC_GP, idx);
    } else if (dpl != rpl) {
        cpu_fault(c, EXC_GP, idx);
    }
    if (!(*hi & 0x8000)) cpu_fault(c, EXC_NP, idx);
}

/* Checks the SS popped for a return to outer level `rpl`. */
static void check_return_ss(Cpu *c, uint16_t ss, unsigned rpl, SegCache *out)
{
    uint16_t idx = ss & 0xfffc;
    uint32_t lo, hi;
    if (idx == 0) cpu_fault(c, EXC_GP, 0);
    seg_read_descriptor(c, ss, &lo, &hi, EXC_GP);
    if ((ss & 3u) != rpl || (hi & 0x1800) != 0x1000 || !(hi & 0x200) || ((hi >> 13) & 3) != rpl)
        cpu_fault(c, EXC_GP, idx);
    if (!(hi & 0x8000)) cpu_fault(c, EXC_SS, idx);
    seg_set_accessed(c, ss, hi);
    seg_cache_from_desc(out, ss, lo, hi | 0x100);
}

void far_return(Cpu *c, unsigned opsize, uint16_t pop_bytes)
{
    uint32_t eip = stack_peek(c, 0, opsize);
    uint16_t sel = stack_peek(c, opsize, opsize);
    if (cpu_realmode_seg(c)) {
        if (eip > c->seg[SEG_CS].limit) cpu_fault(c, EXC_GP, 0);
        seg_load_real(c, SEG_CS, sel);
        c->eip = eip;
        stack_set_sp(c, stack_sp(c) + 2 * opsize + pop_bytes);
        return;
    }
    uint32_t lo, hi;
    check_return_cs(c, sel, &lo, &hi);
    unsigned rpl = sel & 3;
    if (eip > desc_limit(lo, hi)) cpu_fault(c, EXC_GP, 0);
    if (rpl == c->cpl) {
        seg_set_accessed(c, sel, hi);
        load_cs(c, sel, lo, hi, rpl);
        c->eip = eip;
        stack_set_sp(c, stack_sp(c) + 2 * opsize + pop_bytes);
        return;
    }
    /* return to an outer level: the caller's SS:ESP is above the parameters */
    uint32_t nesp = stack_peek(c, 2 * opsize + pop_bytes, opsize);
    uint16_t nss = stack_peek(c, 3 * opsize + pop_bytes, opsize);
    SegCache ssc;
    check_return_ss(c, nss, rpl, &ssc);
    seg_set_accessed(c, sel, hi);
    load_cs(c, sel, lo, hi, rpl);
    c->eip = eip;
    c->seg[SEG_SS] = ssc;
    stack_set_sp(c, nesp + pop_bytes);
    null_inaccessible_segs(c);
}

/* ---- IRET ---- */

void flags_write(Cpu *c, uint32_t v, uint32_t mask)
{
    /* VM is never written here (IRET to v86 sets it itself); RF, VIF, VIP change only
     * if the caller's mask includes them (IRET does, POPF does not). */
    uint32_t can = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID | FL_RF;
    bool v86 = cpu_pe(c) && cpu_vm86(c);
    if (c->cpl <= cpu_iopl(c)) can |= FL_IF;
    if (c->cpl == 0 && !v86) can |= FL_IOPL;
    if (cpu_pe(c) && !v86 && c->cpl == 0) can |= FL_VIF | FL_VIP;
    can &= mask;
    c->eflags = (((c->eflags & ~can) | (v & can)) & FL_VALID) | FL_FIXED1;
}

static void iret_to_v86(Cpu *c, uint32_t eip, uint16_t cs, uint32_t fl)
{
    uint32_t nesp = stack_peek(c, 12, 4);
    uint16_t nss = stack_peek(c, 16, 4), es = stack_peek(c, 20, 4);
    uint16_t ds = stack_peek(c, 24, 4), fs = stack_peek(c, 28, 4), gs = stack_peek(c, 32, 4);
    c->eflags = (fl & FL_VALID) | FL_FIXED1;
    c->cpl = 3;
    seg_load_real(c, SEG_CS, cs);
    seg_load_real(c, SEG_SS, nss);
    seg_load_real(c, SEG_ES, es);
    seg_load_real(c, SEG_DS, ds);
    seg_load_real(c, SEG_FS, fs);
    seg_load_real(c, SEG_GS, gs);
    c->regs[R_ESP] = nesp;
    c->eip = eip & 0xffff;
}

void iret(Cpu *c, unsigned opsize)
{
    uint32_t iret_mask = opsize == 4 ? 0xffffffffu : 0xffffu;
    if (cpu_pe(c) && cpu_vm86(c) && cpu_iopl(c) < 3) cpu_fault(c, EXC_GP, 0);
    uint32_t eip = stack_peek(c, 0, opsize);
    uint16_t sel = stack_peek(c, opsize, opsize);
    uint32_t fl = stack_peek(c, 2 * opsize, opsize);
    if (cpu_realmode_seg(c)) {
        if (eip > c->seg[SEG_CS].limit) cpu_fault(c, EXC_GP, 0);
        seg_load_real(c, SEG_CS, sel);
        c->eip = eip;
        stack_set_sp(c, stack_sp(c) + 3 * opsize);
        flags_write(c, fl, iret_mask);
        return;
    }
    if (c->eflags & FL_NT) {
        /* return to the task named by the back link of the current TSS */
        uint16_t link = lin_read16(c, c->tr.base, true);
        uint32_t lo, hi;
        if (link & 4) cpu_fault(c, EXC_TS, link & 0xfffc);
        seg_read_descriptor(c, link, &lo, &hi, EXC_TS);
        unsigned type = (hi >> 8) & 0x1f;
        if (type != 0x03 && type != 0x0b) cpu_fault(c, EXC_TS, link & 0xfffc);
        task_switch(c, link, lo, hi, TASK_IRET, EXC_NO_ERRCODE, 0);
        return;
    }
    if (opsize == 4 && (fl & FL_VM) && c->cpl == 0) {
        iret_to_v86(c, eip, sel, fl);
        return;
    }
    uint32_t lo, hi;
    check_return_cs(c, sel, &lo, &hi);
    unsigned rpl = sel & 3;
    if (opsize == 2) eip &= 0xffff;
    if (eip > desc_limit(lo, hi)) cpu_fault(c, EXC_GP, 0);
    if (rpl == c->cpl) {
        seg_set_accessed(c, sel, hi);
        flags_write(c, fl, iret_mask);
        load_cs(c, sel, lo, hi, rpl);
        c->eip = eip;
        stack_set_sp(c, stack_sp(c) + 3 * opsize);
        return;
    }
    uint32_t nesp = stack_peek(c, 3 * opsize, opsize);
    uint16_t nss = stack_peek(c, 4 * opsize, opsize);
    SegCache ssc;
    check_return_ss(c, nss, rpl, &ssc);
    seg_set_accessed(c, sel, hi);
    flags_write(c, fl, iret_mask); /* IF/IOPL rules use the CPL before the return */
    load_cs(c, sel, lo, hi, rpl);
    c->eip = eip;
    c->seg[SEG_SS] = ssc;
    stack_set_sp(c, nesp);
    null_inaccessible_segs(c);
}
