/*
 * operand.c — reading and writing an Insn's operands: registers (with the AH..BH byte
 * registers), memory through the effective address and segment, immediates, and
 * segment/control/debug registers for the MOV forms that name them.
 */
#include "cpu/interp.h"

uint32_t opnd_ea(const Cpu *c, const Insn *in)
{
    uint32_t ea = (uint32_t)in->disp;
    if (in->ea_base >= 0) ea += c->regs[in->ea_base];
    if (in->ea_index >= 0) ea += c->regs[in->ea_index] << in->ea_scale;
    return in->addrsize == 2 ? ea & 0xffff : ea;
}

uint32_t opnd_read(Cpu *c, const Insn *in, int n)
{
    const Operand *o = &in->op[n];
    /* registers and memory first: they are most operands */
    if (__builtin_expect(o->kind == OPK_REG, 1)) return reg_read(c, o->reg, o->size);
    if (o->kind == OPK_MEM)
        return mem_read(c, in->seg, opnd_ea(c, in), o->size > 4 ? 4 : o->size);
    switch (o->kind) {
    case OPK_REG: return reg_read(c, o->reg, o->size);
    case OPK_MEM: return mem_read(c, in->seg, opnd_ea(c, in), o->size > 4 ? 4 : o->size);
    case OPK_IMM:
    case OPK_REL: return in->imm & size_mask(o->size);
    case OPK_IMM2: return in->imm2 & size_mask(o->size);
    case OPK_SREG: return c->seg[o->reg].sel;
    case OPK_CREG: return c->cr[o->reg];
    case OPK_DREG: return c->dr[o->reg];
    case OPK_ONE: return 1;
    default: cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
    }
}

void opnd_write(Cpu *c, const Insn *in, int n, uint32_t v)
{
    const Operand *o = &in->op[n];
    if (__builtin_expect(o->kind == OPK_REG, 1)) {
        if (o->size == 4) {
            c->regs[o->reg] = v; /* the common case without reg_write's size tests */
            return;
        }
        reg_write(c, o->reg, o->size, v);
        return;
    }
    if (o->kind == OPK_MEM) {
        mem_write(c, in->seg, opnd_ea(c, in), v, o->size > 4 ? 4 : o->size);
        return;
    }
    cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
}
