/*
 * exec_bits.c — bit test/modify (BT BTS BTR BTC), bit scans (BSF BSR), SETcc,
 * CMOVcc and BSWAP. A memory BTx with a register bit offset addresses the operand
 * array beyond the ModRM location: the offset is signed, the word/dword at
 * EA + (offset >> log2(bits)) * size is used (EA truncated to the address size).
 */
#include "cpu/alu.h"

enum BitOp { BO_TEST, BO_SET, BO_RESET, BO_COMPLEMENT };

static void bit_op(Cpu *c, const Insn *in, enum BitOp op)
{
    unsigned sz = in->op[0].size, bits = sz * 8;
    uint32_t off = opnd_read(c, in, 1);
    uint32_t bit;
    uint32_t v;
    bool mem_ext = in->op[0].kind == OPK_MEM && in->op[1].kind == OPK_REG;
    uint32_t ea = 0;
    if (mem_ext) {
        int32_t soff = sz == 2 ? (int16_t)off : (int32_t)off;
        /* arithmetic shift: floor division, so negative offsets go below EA */
        int32_t units = sz == 2 ? soff >> 4 : soff >> 5;
        ea = opnd_ea(c, in) + (uint32_t)units * sz;
        if (in->addrsize == 2) ea &= 0xffff;
        bit = off & (bits - 1);
        v = mem_read(c, in->seg, ea, sz);
    } else {
        bit = off & (bits - 1);
        v = opnd_read(c, in, 0);
    }
    bool cf = (v >> bit) & 1;
    if (op != BO_TEST) {
        uint32_t nv = op == BO_SET ? v | (1u << bit)
                    : op == BO_RESET ? v & ~(1u << bit) : v ^ (1u << bit);
        if (mem_ext)
            mem_write(c, in->seg, ea, nv, sz);
        else
            opnd_write(c, in, 0, nv);
    }
    c->eflags = (c->eflags & ~FL_CF) | (cf ? FL_CF : 0);
}

void exec_BT(Cpu *c, const Insn *in) { bit_op(c, in, BO_TEST); }
void exec_BTS(Cpu *c, const Insn *in) { bit_op(c, in, BO_SET); }
void exec_BTR(Cpu *c, const Insn *in) { bit_op(c, in, BO_RESET); }
void exec_BTC(Cpu *c, const Insn *in) { bit_op(c, in, BO_COMPLEMENT); }

void exec_BSF(Cpu *c, const Insn *in)
{
    uint32_t src = opnd_read(c, in, 1);
    if (src) opnd_write(c, in, 0, (uint32_t)__builtin_ctz(src));
    flags_logic(c, src, in->op[1].size); /* ZF = (src == 0); see alu.c */
}

void exec_BSR(Cpu *c, const Insn *in)
{
    uint32_t src = opnd_read(c, in, 1);
    if (src) opnd_write(c, in, 0, 31u - (uint32_t)__builtin_clz(src));
    flags_logic(c, src, in->op[1].size);
}

void exec_SETcc(Cpu *c, const Insn *in)
{
    opnd_write(c, in, 0, cond_test(c, in->cond) ? 1 : 0);
}

void exec_CMOVcc(Cpu *c, const Insn *in)
{
    /* the source is always read (a memory source faults even when false) */
    uint32_t v = opnd_read(c, in, 1);
    if (cond_test(c, in->cond)) opnd_write(c, in, 0, v);
}

void exec_BSWAP(Cpu *c, const Insn *in)
{
    if (in->op[0].size == 2) {
        /* undefined by the SDM; Intel hardware (and QEMU) zero the low word */
        reg_write(c, in->op[0].reg, 2, 0);
        return;
    }
    c->regs[in->op[0].reg] = __builtin_bswap32(c->regs[in->op[0].reg]);
}
