/*
 * intr.c — interrupt and exception delivery (SDM vol. 3 ch. 6): real mode through the
 * IVT, protected mode through IDT interrupt/trap gates, with the stack switch from the
 * TSS for a more privileged handler and the exit from virtual-8086 mode.
 *
 * The new stack frame is written completely (through a NewStack) before any register
 * changes, so a fault during delivery leaves the state as it was and the step loop can
 * escalate it to #DF or a triple fault.
 */
#include <stdio.h>

#include "cpu/interp.h"
#include "cpu/seg_internal.h"

/* Exceptions that push an error code (when raised as exceptions, not by INT n). */
static bool has_errcode(int vector)
{
    return vector == EXC_DF || (vector >= EXC_TS && vector <= EXC_PF) || vector == EXC_AC;
}

static void log_delivery(Cpu *c, int vector, uint32_t err, bool soft)
{
    FILE *f = c->log_file ? (FILE *)c->log_file : stderr;
    fprintf(f, "%6u: v=%02x e=%04x i=%d cpl=%d IP=%04x:%08x pc=%08x SP=%04x:%08x", c->exc_count,
            vector, err == EXC_NO_ERRCODE ? 0 : err, soft, c->cpl, c->seg[SEG_CS].sel, c->eip,
            c->seg[SEG_CS].base + c->eip, c->seg[SEG_SS].sel, c->regs[R_ESP]);
    if (vector == EXC_PF)
        fprintf(f, " CR2=%08x\n", c->cr[2]);
    else
        fprintf(f, " EAX=%08x\n", c->regs[R_EAX]);
    char buf[1024];
    cpu_format_state(c, buf, sizeof(buf));
    fputs(buf, f);
}

static void interrupt_real(Cpu *c, int vector)
{
    uint32_t a = (uint32_t)vector * 4;
    if (a + 3 > c->idtr.limit) cpu_fault(c, EXC_GP, 0);
    uint16_t off = lin_read16(c, c->idtr.base + a, true);
    uint16_t seg = lin_read16(c, c->idtr.base + a + 2, true);
    stack_push(c, c->eflags, 2);
    stack_push(c, c->seg[SEG_CS].sel, 2);
    stack_push(c, c->eip, 2);
    c->eflags &= ~(FL_IF | FL_TF | FL_AC | FL_RF);
    seg_load_real(c, SEG_CS, seg);
    c->eip = off;
}

static void interrupt_protected(Cpu *c, int vector, uint32_t errcode, bool soft)
{
    uint32_t ext = soft ? 0 : 1;
    uint32_t gerr = (uint32_t)vector * 8 + 2 + ext; /* error code naming the IDT entry */
    if ((uint32_t)vector * 8 + 7 > c->idtr.limit) cpu_fault(c, EXC_GP, gerr);
    uint32_t glo = lin_read32(c, c->idtr.base + vector * 8, true);
    uint32_t ghi = lin_read32(c, c->idtr.base + vector * 8 + 4, true);
    unsigned gtype = (ghi >> 8) & 0x1f, gdpl = (ghi >> 13) & 3;
    if (gtype != 0x05 && gtype != 0x06 && gtype != 0x07 && gtype != 0x0e && gtype != 0x0f)
        cpu_fault(c, EXC_GP, gerr);
    if (soft && gdpl < c->cpl) cpu_fault(c, EXC_GP, gerr & ~1u);
    if (!(ghi & 0x8000)) cpu_fault(c, EXC_NP, gerr);
    bool push_err = !soft && errcode != EXC_NO_ERRCODE && has_errcode(vector);
    if (gtype == 0x05) {
        /* task gate: switch to the TSS it names (which must be in the GDT, available) */
        uint16_t ts = glo >> 16, tsidx = ts & 0xfffc;
        uint32_t lo, hi;
        if ((ts & 4) || tsidx == 0) cpu_fault(c, EXC_GP, tsidx | ext);
        seg_desc_read(c, ts, &lo, &hi, EXC_GP, tsidx | ext);
        unsigned type = (hi >> 8) & 0x1f;
        if (type != 0x01 && type != 0x09) cpu_fault(c, EXC_GP, tsidx | ext);
        task_switch(c, ts, lo, hi, TASK_CALL, push_err ? errcode : EXC_NO_ERRCODE, ext);
        return;
    }
    bool gate32 = gtype & 0x08, trap = gtype & 0x01;
    unsigned size = gate32 ? 4 : 2;
    uint16_t tsel = glo >> 16, tidx = tsel & 0xfffc;
    uint32_t eip = gate32 ? (glo & 0xffff) | (ghi & 0xffff0000u) : glo & 0xffff;

    uint32_t lo, hi;
    if (tidx == 0) cpu_fault(c, EXC_GP, ext);
    seg_desc_read(c, tsel, &lo, &hi, EXC_GP, tidx | ext);
    unsigned dpl = (hi >> 13) & 3;
    bool conf = hi & 0x400;
    if ((hi & 0x1800) != 0x1800 || dpl > c->cpl) cpu_fault(c, EXC_GP, tidx | ext);
    if (!(hi & 0x8000)) cpu_fault(c, EXC_NP, tidx | ext);
    SegCache csc;
    seg_cache_from_desc(&csc, tsel, lo, hi | 0x100);
    if (eip > csc.limit) cpu_fault(c, EXC_GP, ext);

    bool v86 = cpu_vm86(c);
    unsigned new_cpl = conf ? c->cpl : dpl;
    NewStack ns;
    SegCache ssc;
    if (!conf && dpl < c->cpl) {
        /* to an inner level: SS:ESP come from the TSS */
        if (v86 && dpl != 0) cpu_fault(c, EXC_GP, tidx | ext);
        uint16_t nss;
        uint32_t nesp;
        tss_inner_stack(c, dpl, &nss, &nesp, ext);
        tss_check_stack(c, nss, dpl, ext, &ssc);
        nstack_init(&ns, &ssc, nesp, dpl, (nss & 0xfffc) | ext);
        if (v86) {
            nstack_push(c, &ns, c->seg[SEG_GS].sel, size);
            nstack_push(c, &ns, c->seg[SEG_FS].sel, size);
            nstack_push(c, &ns, c->seg[SEG_DS].sel, size);
            nstack_push(c, &ns, c->seg[SEG_ES].sel, size);
        }
        nstack_push(c, &ns, c->seg[SEG_SS].sel, size);
        nstack_push(c, &ns, c->regs[R_ESP], size);
    } else {
        /* same level (or a conforming handler) on the current stack */
        if (v86) cpu_fault(c, EXC_GP, tidx | ext);
        ssc = c->seg[SEG_SS];
        nstack_init(&ns, &ssc, c->regs[R_ESP], new_cpl, ext);
    }
    nstack_push(c, &ns, c->eflags, size);
    nstack_push(c, &ns, c->seg[SEG_CS].sel, size);
    nstack_push(c, &ns, c->eip, size);
    if (push_err) nstack_push(c, &ns, errcode, size);

    /* everything is written: switch */
    seg_set_accessed(c, tsel, hi);
    if (v86 && new_cpl < 3) {
        static const int segs[4] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
        for (int i = 0; i < 4; i++) {
            SegCache *s = &c->seg[segs[i]];
            s->sel = 0;
            s->base = 0;
            s->limit = 0;
            s->flags = 0;
        }
    }
    c->seg[SEG_SS] = ssc;
    c->regs[R_ESP] = ns.sp;
    csc.sel = tidx | new_cpl;
    c->seg[SEG_CS] = csc;
    c->cpl = new_cpl;
    c->eip = eip;
    c->eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM | (trap ? 0 : FL_IF));
}

void cpu_interrupt(Cpu *c, int vector, uint32_t errcode, bool soft)
{
    if (c->log_flags & LOG_INT) log_delivery(c, vector, errcode, soft);
    c->halted = false;
    if (!cpu_pe(c))
        interrupt_real(c, vector);
    else
        interrupt_protected(c, vector, errcode, soft);
}
