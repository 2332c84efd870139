/*
 * exec_arith.c — integer arithmetic and logic: the ALU group (ADD..CMP), INC DEC NEG
 * NOT TEST, multiply and divide, sign extension (CBW/CWD), and the BCD adjustments.
 * Every handler reads all its sources before writing anything, so a fault on the
 * destination write leaves the flags and registers as they were. Undefined-flag
 * choices are listed at the top of alu.c.
 */
#include "cpu/alu.h"

/* ---- two-operand ALU group ---- */

void exec_ADD(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t a = opnd_read(c, in, 0), b = opnd_read(c, in, 1);
    uint32_t r = (a + b) & size_mask(sz);
    opnd_write(c, in, 0, r);
    flags_add(c, a, b, r, sz);
}

void exec_ADC(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t a = opnd_read(c, in, 0), b = opnd_read(c, in, 1);
    uint32_t r = (a + b + (c->eflags & FL_CF ? 1 : 0)) & size_mask(sz);
    opnd_write(c, in, 0, r);
    flags_add(c, a, b, r, sz);
}

void exec_SUB(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t a = opnd_read(c, in, 0), b = opnd_read(c, in, 1);
    uint32_t r = (a - b) & size_mask(sz);
    opnd_write(c, in, 0, r);
    flags_sub(c, a, b, r, sz);
}

void exec_SBB(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t a = opnd_read(c, in, 0), b = opnd_read(c, in, 1);
    uint32_t r = (a - b - (c->eflags & FL_CF ? 1 : 0)) & size_mask(sz);
    opnd_write(c, in, 0, r);
    flags_sub(c, a, b, r, sz);
}

void exec_CMP(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t a = opnd_read(c, in, 0), b = opnd_read(c, in, 1);
    flags_sub(c, a, b, (a - b) & size_mask(sz), sz);
}

void exec_AND(Cpu *c, const Insn *in)
{
    uint32_t r = opnd_read(c, in, 0) & opnd_read(c, in, 1);
    opnd_write(c, in, 0, r);
    flags_logic(c, r, in->op[0].size);
}

void exec_OR(Cpu *c, const Insn *in)
{
    uint32_t r = opnd_read(c, in, 0) | opnd_read(c, in, 1);
    opnd_write(c, in, 0, r);
    flags_logic(c, r, in->op[0].size);
}

void exec_XOR(Cpu *c, const Insn *in)
{
    uint32_t r = opnd_read(c, in, 0) ^ opnd_read(c, in, 1);
    opnd_write(c, in, 0, r);
    flags_logic(c, r, in->op[0].size);
}

void exec_TEST(Cpu *c, const Insn *in)
{
    flags_logic(c, opnd_read(c, in, 0) & opnd_read(c, in, 1), in->op[0].size);
}

/* ---- one-operand ---- */

void exec_INC(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t a = opnd_read(c, in, 0);
    uint32_t r = (a + 1) & size_mask(sz);
    opnd_write(c, in, 0, r);
    flags_set_arith(c, (alu_add_flags(a, 1, r, sz) & ~FL_CF) | (c->eflags & FL_CF));
}

void exec_DEC(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t a = opnd_read(c, in, 0);
    uint32_t r = (a - 1) & size_mask(sz);
    opnd_write(c, in, 0, r);
    flags_set_arith(c, (alu_sub_flags(a, 1, r, sz) & ~FL_CF) | (c->eflags & FL_CF));
}

void exec_NEG(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint32_t b = opnd_read(c, in, 0);
    uint32_t r = (0u - b) & size_mask(sz);
    opnd_write(c, in, 0, r);
    flags_sub(c, 0, b, r, sz); /* CF = (b != 0) falls out of the borrow */
}

void exec_NOT(Cpu *c, const Insn *in)
{
    opnd_write(c, in, 0, ~opnd_read(c, in, 0));
}

/* ---- multiply ---- */

/* Flags of a multiply: CF = OF = `wide` (the high half is significant), SF ZF PF
 * from the low half, AF = 0 (QEMU). */
static void flags_mul(Cpu *c, uint32_t low, unsigned size, bool wide)
{
    flags_set_arith(c, flags_szp(low, size) | (wide ? FL_CF | FL_OF : 0));
}

static int32_t sext(uint32_t v, unsigned size)
{
    if (size == 1) return (int8_t)v;
    if (size == 2) return (int16_t)v;
    return (int32_t)v;
}

void exec_MUL(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint64_t src = opnd_read(c, in, 0);
    uint64_t p = src * reg_read(c, R_EAX, sz);
    uint32_t lo, hi;
    if (sz == 1) {
        reg_write(c, R_EAX, 2, (uint32_t)p);
        lo = p & 0xff;
        hi = (p >> 8) & 0xff;
    } else {
        lo = (uint32_t)p & size_mask(sz);
        hi = (uint32_t)(p >> (sz * 8)) & size_mask(sz);
        reg_write(c, R_EAX, sz, lo);
        reg_write(c, R_EDX, sz, hi);
    }
    flags_mul(c, lo, sz, hi != 0);
}

void exec_IMUL1(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    int64_t p = (int64_t)sext(opnd_read(c, in, 0), sz) * sext(reg_read(c, R_EAX, sz), sz);
    uint32_t lo = (uint32_t)p & size_mask(sz);
    if (sz == 1) {
        reg_write(c, R_EAX, 2, (uint32_t)p);
    } else {
        reg_write(c, R_EAX, sz, lo);
        reg_write(c, R_EDX, sz, (uint32_t)((uint64_t)p >> (sz * 8)));
    }
    flags_mul(c, lo, sz, p != sext(lo, sz));
}

/* IMUL r, r/m and IMUL r, r/m, imm: truncated product into op0. */
static void imul_to(Cpu *c, const Insn *in, uint32_t a, uint32_t b)
{
    unsigned sz = in->op[0].size;
    int64_t p = (int64_t)sext(a, sz) * sext(b, sz);
    uint32_t lo = (uint32_t)p & size_mask(sz);
    opnd_write(c, in, 0, lo);
    flags_mul(c, lo, sz, p != sext(lo, sz));
}

void exec_IMUL2(Cpu *c, const Insn *in)
{
    imul_to(c, in, opnd_read(c, in, 0), opnd_read(c, in, 1));
}

void exec_IMUL3(Cpu *c, const Insn *in)
{
    /* the immediate is sign-extended to 32 bits already; opnd_read masks it to the
     * operand size and sext() restores the sign at that size */
    imul_to(c, in, opnd_read(c, in, 1), in->imm & size_mask(in->op[0].size));
}

/* ---- divide (flags unchanged, as QEMU) ---- */

void exec_DIV(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    uint64_t d = opnd_read(c, in, 0);
    if (d == 0) cpu_fault(c, EXC_DE, EXC_NO_ERRCODE);
    uint64_t n;
    if (sz == 1)
        n = reg_read(c, R_EAX, 2);
    else
        n = ((uint64_t)reg_read(c, R_EDX, sz) << (sz * 8)) | reg_read(c, R_EAX, sz);
    uint64_t q = n / d, r = n % d;
    if (q > size_mask(sz)) cpu_fault(c, EXC_DE, EXC_NO_ERRCODE);
    if (sz == 1) {
        reg_write(c, R_EAX, 2, (uint32_t)(q | (r << 8)));
    } else {
        reg_write(c, R_EAX, sz, (uint32_t)q);
        reg_write(c, R_EDX, sz, (uint32_t)r);
    }
}

void exec_IDIV(Cpu *c, const Insn *in)
{
    unsigned sz = in->op[0].size;
    int64_t d = sext(opnd_read(c, in, 0), sz);
    if (d == 0) cpu_fault(c, EXC_DE, EXC_NO_ERRCODE);
    int64_t n;
    if (sz == 1)
        n = (int16_t)reg_read(c, R_EAX, 2);
    else if (sz == 2)
        n = (int32_t)((reg_read(c, R_EDX, 2) << 16) | reg_read(c, R_EAX, 2));
    else
        n = (int64_t)(((uint64_t)c->regs[R_EDX] << 32) | c->regs[R_EAX]);
    /* INT64_MIN / -1 overflows the host division; its quotient never fits anyway */
    if (d == -1 && n == INT64_MIN) cpu_fault(c, EXC_DE, EXC_NO_ERRCODE);
    int64_t q = n / d, r = n % d; /* C truncates toward zero, as IDIV does */
    int64_t lim = (int64_t)size_sign(sz);
    if (q >= lim || q < -lim) cpu_fault(c, EXC_DE, EXC_NO_ERRCODE);
    if (sz == 1) {
        reg_write(c, R_EAX, 2, ((uint32_t)q & 0xff) | (((uint32_t)r & 0xff) << 8));
    } else {
        reg_write(c, R_EAX, sz, (uint32_t)q);
        reg_write(c, R_EDX, sz, (uint32_t)r);
    }
}

/* ---- sign extension ---- */

void exec_CBW(Cpu *c, const Insn *in)
{
    if (in->opsize == 2)
        reg_write(c, R_EAX, 2, (uint32_t)(int8_t)c->regs[R_EAX]);
    else
        c->regs[R_EAX] = (uint32_t)(int16_t)c->regs[R_EAX];
}

void exec_CWD(Cpu *c, const Insn *in)
{
    if (in->opsize == 2)
        reg_write(c, R_EDX, 2, (c->regs[R_EAX] & 0x8000) ? 0xffff : 0);
    else
        c->regs[R_EDX] = (c->regs[R_EAX] & 0x80000000u) ? 0xffffffffu : 0;
}

/* ---- BCD adjustments (SDM pseudo-code; undefined flags per alu.c) ---- */

void exec_DAA(Cpu *c, const Insn *in)
{
    uint32_t al = c->regs[R_EAX] & 0xff, old_al = al;
    bool cf = c->eflags & FL_CF, af = c->eflags & FL_AF;
    uint32_t f = 0;
    if ((al & 0x0f) > 9 || af) {
        al = (al + 6) & 0xff;
        f |= FL_AF;
    }
    if (old_al > 0x99 || cf) {
        al = (al + 0x60) & 0xff;
        f |= FL_CF;
    }
    reg_write(c, R_EAX, 1, al);
    flags_set_arith(c, f | flags_szp(al, 1));
}

void exec_DAS(Cpu *c, const Insn *in)
{
    uint32_t al = c->regs[R_EAX] & 0xff, old_al = al;
    bool cf = c->eflags & FL_CF, af = c->eflags & FL_AF;
    uint32_t f = 0;
    if ((al & 0x0f) > 9 || af) {
        if (al < 6 || cf) f |= FL_CF; /* CF = old CF or the borrow of AL - 6 */
        al = (al - 6) & 0xff;
        f |= FL_AF;
    }
    if (old_al > 0x99 || cf) {
        al = (al - 0x60) & 0xff;
        f |= FL_CF;
    }
    reg_write(c, R_EAX, 1, al);
    flags_set_arith(c, f | flags_szp(al, 1));
}

void exec_AAA(Cpu *c, const Insn *in)
{
    uint32_t ax = c->regs[R_EAX] & 0xffff;
    bool adj = (ax & 0x0f) > 9 || (c->eflags & FL_AF);
    if (adj) ax += 0x106;
    reg_write(c, R_EAX, 2, ax & 0xff0f);
    c->eflags = (c->eflags & ~(FL_AF | FL_CF)) | (adj ? FL_AF | FL_CF : 0);
}

void exec_AAS(Cpu *c, const Insn *in)
{
    uint32_t ax = c->regs[R_EAX] & 0xffff;
    bool adj = (ax & 0x0f) > 9 || (c->eflags & FL_AF);
    if (adj) {
        /* AX - 6 (the borrow from AL reaches AH), then AH - 1 */
        ax = (ax - 6) & 0xffff;
        ax = (ax - 0x100) & 0xffff;
    }
    reg_write(c, R_EAX, 2, ax & 0xff0f);
    c->eflags = (c->eflags & ~(FL_AF | FL_CF)) | (adj ? FL_AF | FL_CF : 0);
}

void exec_AAM(Cpu *c, const Insn *in)
{
    uint32_t base = in->imm & 0xff;
    if (base == 0) cpu_fault(c, EXC_DE, EXC_NO_ERRCODE);
    uint32_t al = c->regs[R_EAX] & 0xff;
    uint32_t ah = al / base;
    al %= base;
    reg_write(c, R_EAX, 2, (ah << 8) | al);
    flags_set_arith(c, flags_szp(al, 1));
}

void exec_AAD(Cpu *c, const Insn *in)
{
    uint32_t base = in->imm & 0xff;
    uint32_t ax = c->regs[R_EAX];
    uint32_t al = (((ax >> 8) & 0xff) * base + (ax & 0xff)) & 0xff;
    reg_write(c, R_EAX, 2, al);
    flags_set_arith(c, flags_szp(al, 1));
}

void exec_SALC(Cpu *c, const Insn *in)
{
    reg_write(c, R_EAX, 1, (c->eflags & FL_CF) ? 0xff : 0);
}
