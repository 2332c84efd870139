/*
 * exec_control.c — instruction handlers for segment registers (MOV/PUSH/POP Sreg,
 * LDS...LSS), far control transfers (JMP/CALL/RET far, IRET), software interrupts
 * (INT n, INT3, INTO, INT1, BOUND) and the IOPL-sensitive flag instructions (PUSHF,
 * POPF, CLI, STI). The mode-dependent work is in seg.c and intr.c.
 */
#include "cpu/interp.h"

/* v86 mode with IOPL < 3: the IOPL-sensitive instructions trap to the monitor. */
static void v86_iopl_check(Cpu *c)
{
    if (cpu_pe(c) && cpu_vm86(c) && cpu_iopl(c) < 3) cpu_fault(c, EXC_GP, 0);
}

/* ---- segment registers ---- */

void exec_MOV_SR(Cpu *c, const Insn *in)
{
    int seg = in->op[0].reg;
    if (seg == SEG_CS || seg >= SEG_COUNT) cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
    seg_load(c, seg, opnd_read(c, in, 1));
    if (seg == SEG_SS) c->inhibit_irq = 1;
}

void exec_MOV_RS(Cpu *c, const Insn *in)
{
    int seg = in->op[1].reg;
    if (seg >= SEG_COUNT) cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
    opnd_write(c, in, 0, c->seg[seg].sel);
}

void exec_PUSH_SR(Cpu *c, const Insn *in)
{
    stack_push(c, c->seg[in->op[0].reg].sel, in->opsize);
}

void exec_POP_SR(Cpu *c, const Insn *in)
{
    int seg = in->op[0].reg;
    if (seg == SEG_CS || seg >= SEG_COUNT) cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
    /* the stack pointer moves by the old stack's size: read first, load, then pop */
    bool big = cpu_stack32(c);
    uint32_t sp = stack_sp(c);
    uint16_t sel = mem_read(c, SEG_SS, sp, in->opsize);
    seg_load(c, seg, sel);
    sp += in->opsize;
    if (big)
        c->regs[R_ESP] = sp;
    else
        c->regs[R_ESP] = (c->regs[R_ESP] & 0xffff0000u) | (sp & 0xffff);
    if (seg == SEG_SS) c->inhibit_irq = 1;
}

static void load_far_pointer(Cpu *c, const Insn *in, int seg)
{
    uint32_t ea = opnd_ea(c, in);
    uint32_t off = mem_read(c, in->seg, ea, in->opsize);
    uint32_t sa = ea + in->opsize;
    if (in->addrsize == 2) sa &= 0xffff;
    uint16_t sel = mem_read16(c, in->seg, sa);
    seg_load(c, seg, sel);
    reg_write(c, in->op[0].reg, in->opsize, off);
    if (seg == SEG_SS) c->inhibit_irq = 1;
}

void exec_LDS(Cpu *c, const Insn *in)
{
    load_far_pointer(c, in, SEG_DS);
}
void exec_LES(Cpu *c, const Insn *in)
{
    load_far_pointer(c, in, SEG_ES);
}
void exec_LFS(Cpu *c, const Insn *in)
{
    load_far_pointer(c, in, SEG_FS);
}
void exec_LGS(Cpu *c, const Insn *in)
{
    load_far_pointer(c, in, SEG_GS);
}
void exec_LSS(Cpu *c, const Insn *in)
{
    load_far_pointer(c, in, SEG_SS);
}

/* ---- far transfers ---- */

/* Reads a far pointer m16:16 / m16:32 operand. */
static void read_far_mem(Cpu *c, const Insn *in, uint16_t *sel, uint32_t *off)
{
    uint32_t ea = opnd_ea(c, in);
    uint32_t sa = ea + in->opsize;
    if (in->addrsize == 2) sa &= 0xffff;
    *off = mem_read(c, in->seg, ea, in->opsize);
    *sel = mem_read16(c, in->seg, sa);
}

void exec_JMP_FAR(Cpu *c, const Insn *in)
{
    far_jump(c, in->imm2, in->imm, false, in->opsize);
}

void exec_CALL_FAR(Cpu *c, const Insn *in)
{
    far_jump(c, in->imm2, in->imm, true, in->opsize);
}

void exec_JMP_FAR_M(Cpu *c, const Insn *in)
{
    uint16_t sel;
    uint32_t off;
    read_far_mem(c, in, &sel, &off);
    far_jump(c, sel, off, false, in->opsize);
}

void exec_CALL_FAR_M(Cpu *c, const Insn *in)
{
    uint16_t sel;
    uint32_t off;
    read_far_mem(c, in, &sel, &off);
    far_jump(c, sel, off, true, in->opsize);
}

void exec_RET_FAR(Cpu *c, const Insn *in)
{
    far_return(c, in->opsize, in->nops ? (uint16_t)in->imm : 0);
}

void exec_IRET(Cpu *c, const Insn *in)
{
    iret(c, in->opsize);
}

/* ---- software interrupts ---- */

void exec_INT(Cpu *c, const Insn *in)
{
    v86_iopl_check(c);
    cpu_interrupt(c, in->imm & 0xff, EXC_NO_ERRCODE, true);
}

void exec_INT3(Cpu *c, const Insn *in)
{
    cpu_interrupt(c, EXC_BP, EXC_NO_ERRCODE, true);
}

void exec_INTO(Cpu *c, const Insn *in)
{
    if (c->eflags & FL_OF) cpu_interrupt(c, EXC_OF, EXC_NO_ERRCODE, true);
}

/* ICEBP: a #DB trap without the gate DPL check (delivered like a hardware event). */
void exec_INT1(Cpu *c, const Insn *in)
{
    cpu_interrupt(c, EXC_DB, EXC_NO_ERRCODE, false);
}

void exec_BOUND(Cpu *c, const Insn *in)
{
    unsigned sz = in->opsize;
    uint32_t ea = opnd_ea(c, in);
    uint32_t ea2 = ea + sz;
    if (in->addrsize == 2) ea2 &= 0xffff;
    uint32_t lo = mem_read(c, in->seg, ea, sz), hi = mem_read(c, in->seg, ea2, sz);
    uint32_t idx = reg_read(c, in->op[0].reg, sz);
    int32_t s_idx, s_lo, s_hi;
    if (sz == 2) {
        s_idx = (int16_t)idx;
        s_lo = (int16_t)lo;
        s_hi = (int16_t)hi;
    } else {
        s_idx = (int32_t)idx;
        s_lo = (int32_t)lo;
        s_hi = (int32_t)hi;
    }
    if (s_idx < s_lo || s_idx > s_hi) cpu_fault(c, EXC_BR, EXC_NO_ERRCODE);
}

/* ---- flags ---- */

void exec_PUSHF(Cpu *c, const Insn *in)
{
    v86_iopl_check(c);
    /* the pushed image has VM and RF clear */
    stack_push(c, c->eflags & ~(FL_VM | FL_RF), in->opsize);
}

void exec_POPF(Cpu *c, const Insn *in)
{
    v86_iopl_check(c);
    uint32_t v = stack_peek(c, 0, in->opsize);
    uint32_t mask = in->opsize == 4 ? ~(FL_VM | FL_RF | FL_VIF | FL_VIP) : 0xffffu;
    flags_write(c, v, mask);
    c->eflags &= ~FL_RF;
    stack_set_sp(c, stack_sp(c) + in->opsize);
}

/* CLI/STI: allowed when CPL <= IOPL (real mode: CPL 0; v86: needs IOPL 3). */
static void if_check(Cpu *c)
{
    if (!cpu_pe(c)) return;
    if (cpu_vm86(c) ? cpu_iopl(c) < 3 : c->cpl > cpu_iopl(c)) cpu_fault(c, EXC_GP, 0);
}

void exec_CLI(Cpu *c, const Insn *in)
{
    if_check(c);
    c->eflags &= ~FL_IF;
}

void exec_STI(Cpu *c, const Insn *in)
{
    if_check(c);
    if (!(c->eflags & FL_IF)) c->inhibit_irq = 1;
    c->eflags |= FL_IF;
}
