/*
 * exec_branch.c — near control transfers: JMP, Jcc, CALL, RET (with Iw), LOOP,
 * LOOPE, LOOPNE, JCXZ. Targets are truncated to 16 bits when the operand size is 16
 * and checked against the CS limit (#GP(0)) before anything changes, so a faulting
 * branch leaves the counter (LOOP) and the stack (CALL) untouched.
 */
#include "cpu/alu.h"

void branch_near(Cpu *c, uint32_t target, unsigned opsize)
{
    if (opsize == 2) target &= 0xffff;
    if (target > c->seg[SEG_CS].limit) cpu_fault(c, EXC_GP, 0);
    c->eip = target;
}

uint32_t branch_rel_target(const Cpu *c, const Insn *in)
{
    uint32_t t = c->eip + in->imm;
    return in->opsize == 2 ? t & 0xffff : t;
}

static void check_target(Cpu *c, uint32_t target)
{
    if (target > c->seg[SEG_CS].limit) cpu_fault(c, EXC_GP, 0);
}

void exec_JMP(Cpu *c, const Insn *in)
{
    uint32_t t = in->op[0].kind == OPK_REL ? branch_rel_target(c, in) : opnd_read(c, in, 0);
    branch_near(c, t, in->opsize);
}

void exec_Jcc(Cpu *c, const Insn *in)
{
    if (cond_test(c, in->cond)) branch_near(c, branch_rel_target(c, in), in->opsize);
}

void exec_CALL(Cpu *c, const Insn *in)
{
    uint32_t t = in->op[0].kind == OPK_REL ? branch_rel_target(c, in) : opnd_read(c, in, 0);
    if (in->opsize == 2) t &= 0xffff;
    check_target(c, t);
    stack_push(c, c->eip, in->opsize);
    c->eip = t;
}

void exec_RET(Cpu *c, const Insn *in)
{
    uint32_t t = stack_pop(c, in->opsize);
    check_target(c, t); /* ESP is restored by cpu_fault */
    if (in->nops > 0) stack_set_sp(c, stack_sp(c) + (in->imm & 0xffff));
    c->eip = t;
}

/* LOOP family: decrement CX/ECX (by address size) without touching flags; branch
 * when the new count is non-zero and the ZF condition holds. */
static void loop_op(Cpu *c, const Insn *in, int zf_cond)
{
    uint32_t mask = in->addrsize == 2 ? 0xffff : 0xffffffffu;
    uint32_t cnt = (c->regs[R_ECX] - 1) & mask;
    bool zf = c->eflags & FL_ZF;
    bool take = cnt != 0 && (zf_cond < 0 || zf == (bool)zf_cond);
    if (take) {
        uint32_t t = branch_rel_target(c, in);
        check_target(c, t);
        c->eip = t;
    }
    c->regs[R_ECX] = (c->regs[R_ECX] & ~mask) | cnt;
}

void exec_LOOP(Cpu *c, const Insn *in) { loop_op(c, in, -1); }
void exec_LOOPE(Cpu *c, const Insn *in) { loop_op(c, in, 1); }
void exec_LOOPNE(Cpu *c, const Insn *in) { loop_op(c, in, 0); }

void exec_JCXZ(Cpu *c, const Insn *in)
{
    uint32_t cnt = in->addrsize == 2 ? c->regs[R_ECX] & 0xffff : c->regs[R_ECX];
    if (cnt == 0) branch_near(c, branch_rel_target(c, in), in->opsize);
}
