/*
 * exec_move.c — data movement (MOV MOVZX MOVSX XCHG XADD CMPXCHG CMPXCHG8B LEA XLAT),
 * no-ops, the general-register stack instructions (PUSH POP PUSHA POPA ENTER LEAVE)
 * and the simple flag instructions (LAHF SAHF CLC STC CMC CLD STD).
 * Stack accesses use SS with ESP or SP by the SS B bit (stack.c); operand size
 * decides the width of each push/pop. On a fault the step loop restores ESP and EIP,
 * so handlers keep other registers untouched until every access has succeeded.
 */
#include "cpu/alu.h"

void exec_MOV(Cpu *c, const Insn *in) { opnd_write(c, in, 0, opnd_read(c, in, 1)); }

void exec_MOVZX(Cpu *c, const Insn *in) { opnd_write(c, in, 0, opnd_read(c, in, 1)); }

void exec_MOVSX(Cpu *c, const Insn *in)
{
    uint32_t v = opnd_read(c, in, 1);
    v = in->op[1].size == 1 ? (uint32_t)(int8_t)v : (uint32_t)(int16_t)v;
    opnd_write(c, in, 0, v);
}

void exec_XCHG(Cpu *c, const Insn *in)
{
    uint32_t a = opnd_read(c, in, 0), b = opnd_read(c, in, 1);
    /* the memory operand (if any) first: its write may fault */
    if (in->op[1].kind == OPK_MEM) {
        opnd_write(c, in, 1, a);
        opnd_write(c, in, 0, b);
    } else {
        opnd_write(c, in, 0, b);
        opnd_write(c, in, 1, a);
    }
}

void exec_XADD(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t d = opnd_read(c, in, 0), s = opnd_read(c, in, 1);
    uint32_t r = (d + s) & size_mask(sz);
    if (in->op[0].kind == OPK_MEM) {
        opnd_write(c, in, 0, r);
        opnd_write(c, in, 1, d);
    } else {
        /* SRC <- DEST then DEST <- sum: with the same register twice the sum wins */
        opnd_write(c, in, 1, d);
        opnd_write(c, in, 0, r);
    }
    flags_add(c, d, s, r, sz);
}

void exec_CMPXCHG(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t d = opnd_read(c, in, 0), s = opnd_read(c, in, 1);
    uint32_t acc = reg_read(c, R_EAX, sz);
    uint32_t r = (acc - d) & size_mask(sz);
    if (acc == d) {
        opnd_write(c, in, 0, s);
    } else {
        /* the processor writes the destination back unchanged (a locked
         * read-modify-write), so a read-only destination faults either way */
        if (in->op[0].kind == OPK_MEM) opnd_write(c, in, 0, d);
        reg_write(c, R_EAX, sz, d);
    }
    flags_sub(c, acc, d, r, sz);
}

void exec_CMPXCHG8B(Cpu *c, const Insn *in)
{
    uint32_t ea = opnd_ea(c, in);
    uint32_t ea4 = in->addrsize == 2 ? (ea + 4) & 0xffff : ea + 4;
    uint32_t lo = mem_read32(c, in->seg, ea), hi = mem_read32(c, in->seg, ea4);
    mem_check_write(c, in->seg, ea, 4);
    mem_check_write(c, in->seg, ea4, 4);
    if (lo == c->regs[R_EAX] && hi == c->regs[R_EDX]) {
        mem_write32(c, in->seg, ea, c->regs[R_EBX]);
        mem_write32(c, in->seg, ea4, c->regs[R_ECX]);
        c->eflags |= FL_ZF;
    } else {
        mem_write32(c, in->seg, ea, lo); /* always written back, as on hardware */
        mem_write32(c, in->seg, ea4, hi);
        c->regs[R_EAX] = lo;
        c->regs[R_EDX] = hi;
        c->eflags &= ~FL_ZF;
    }
}

void exec_LEA(Cpu *c, const Insn *in)
{
    if (in->op[1].kind != OPK_MEM) cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
    opnd_write(c, in, 0, opnd_ea(c, in));
}

void exec_XLAT(Cpu *c, const Insn *in)
{
    uint32_t off = c->regs[R_EBX] + (c->regs[R_EAX] & 0xff);
    if (in->addrsize == 2) off &= 0xffff;
    reg_write(c, R_EAX, 1, mem_read8(c, in->seg, off));
}

void exec_NOP(Cpu *c, const Insn *in) {}
void exec_PAUSE(Cpu *c, const Insn *in) {}
void exec_HINT_NOP(Cpu *c, const Insn *in) {}
void exec_PREFETCH(Cpu *c, const Insn *in) {}

/* ---- stack ---- */

void exec_PUSH(Cpu *c, const Insn *in)
{
    /* PUSH ESP/SP pushes the value before the decrement: the read comes first */
    stack_push(c, opnd_read(c, in, 0), in->op[0].size);
}

void exec_POP(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t v = stack_pop(c, sz);
    /* a memory destination is addressed with ESP already incremented (SDM POP);
     * POP ESP/SP loads the popped value, overriding the increment */
    opnd_write(c, in, 0, v);
}

void exec_PUSHA(Cpu *c, const Insn *in)
{
    unsigned sz = in->opsize;
    uint32_t sp = c->regs[R_ESP];
    uint32_t base = stack_sp(c) - 8 * sz;
    if (!cpu_stack32(c)) base &= 0xffff;
    /* check the whole area first so a fault leaves memory untouched (unless a 16-bit
     * SP wraps inside it: then each push is checked on its own) */
    if (cpu_stack32(c) ? base + 8 * sz - 1 >= base : base + 8 * sz <= 0x10000)
        mem_check_write(c, SEG_SS, base, 8 * sz);
    for (int r = R_EAX; r <= R_EDI; r++)
        stack_push(c, r == R_ESP ? sp : c->regs[r], sz);
}

void exec_POPA(Cpu *c, const Insn *in)
{
    unsigned sz = in->opsize;
    uint32_t v[8];
    for (int r = R_EDI; r >= R_EAX; r--) v[r] = stack_pop(c, sz);
    for (int r = R_EAX; r <= R_EDI; r++)
        if (r != R_ESP) reg_write(c, r, sz, v[r]);
}

void exec_ENTER(Cpu *c, const Insn *in)
{
    unsigned sz = in->opsize;
    bool s32 = cpu_stack32(c);
    uint32_t alloc = in->imm & 0xffff;
    unsigned level = in->imm2 & 31;
    uint32_t ebp = c->regs[R_EBP];

    stack_push(c, ebp, sz);
    uint32_t frame = c->regs[R_ESP]; /* ESP after the push (only SP matters if 16-bit) */
    if (level > 0) {
        for (unsigned i = 1; i < level; i++) {
            /* the enclosing frames' pointers, read via SS:[eBP - i*size] */
            if (s32)
                ebp -= sz;
            else
                ebp = (ebp & 0xffff0000u) | ((ebp - sz) & 0xffff);
            stack_push(c, mem_read(c, SEG_SS, s32 ? ebp : ebp & 0xffff, sz), sz);
        }
        stack_push(c, sz == 4 ? frame : frame & 0xffff, sz);
    }
    stack_set_sp(c, stack_sp(c) - alloc);
    if (sz == 4)
        c->regs[R_EBP] = frame;
    else
        c->regs[R_EBP] = (ebp & 0xffff0000u) | (frame & 0xffff);
}

void exec_LEAVE(Cpu *c, const Insn *in)
{
    /* eSP <- eBP by stack size, then pop eBP by operand size (a fault in the pop
     * restores ESP through cpu_fault) */
    stack_set_sp(c, c->regs[R_EBP]);
    uint32_t v = stack_pop(c, in->opsize);
    reg_write(c, R_EBP, in->opsize, v);
}

/* ---- flags ---- */

void exec_LAHF(Cpu *c, const Insn *in)
{
    reg_write(c, 4, 1, (c->eflags & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | FL_FIXED1);
}

void exec_SAHF(Cpu *c, const Insn *in)
{
    uint32_t m = FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF;
    c->eflags = (c->eflags & ~m) | (reg_read(c, 4, 1) & m);
}

void exec_CLC(Cpu *c, const Insn *in) { c->eflags &= ~FL_CF; }
void exec_STC(Cpu *c, const Insn *in) { c->eflags |= FL_CF; }
void exec_CMC(Cpu *c, const Insn *in) { c->eflags ^= FL_CF; }
void exec_CLD(Cpu *c, const Insn *in) { c->eflags &= ~FL_DF; }
void exec_STD(Cpu *c, const Insn *in) { c->eflags |= FL_DF; }
