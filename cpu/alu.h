/*
 * alu.h — internal helpers shared by the integer instruction handlers (exec_arith.c,
 * exec_shift.c, exec_bits.c, exec_move.c, exec_branch.c, exec_string.c). The public
 * flag helpers (parity8, cond_test, flags_add/sub/logic) are declared in interp.h.
 */
#ifndef DBT86_ALU_H
#define DBT86_ALU_H

#include "cpu/interp.h"

/* Replace the six arithmetic flags (CF PF AF ZF SF OF) with `f`. */
static inline void flags_set_arith(Cpu *c, uint32_t f)
{
    c->eflags = (c->eflags & ~FL_ARITH) | (f & FL_ARITH);
}

/* PF, ZF and SF of a result of `size` bytes, as EFLAGS bits. */
uint32_t flags_szp(uint32_t res, unsigned size);

/* Full flag computations returning EFLAGS bits (CF PF AF ZF SF OF) without writing
 * them: a + b + carry and a - b - borrow at `size` bytes. */
uint32_t alu_add_flags(uint32_t a, uint32_t b, uint32_t res, unsigned size);
uint32_t alu_sub_flags(uint32_t a, uint32_t b, uint32_t res, unsigned size);

/* A near branch to `target`: truncated to 16 bits when opsize is 2, checked against
 * the CS limit (#GP(0) beyond it), then loaded into EIP. */
void branch_near(Cpu *c, uint32_t target, unsigned opsize);
/* The target of a REL operand (next EIP + displacement), truncated by opsize. */
uint32_t branch_rel_target(const Cpu *c, const Insn *in);

#endif
