/*
 * alu.c — the arithmetic flags: parity, condition codes, and the CF PF AF ZF SF OF
 * computations of add/sub/logic results shared by all integer handlers. Flags are
 * computed eagerly into c->eflags (the interpreter is the reference; the translator
 * may compute lazily but must produce the same bits).
 *
 * UNDEFINED FLAGS. Where the Intel SDM documents a flag as undefined, dbt86 produces
 * what QEMU's TCG produces (so guests see the same bits under both), except the
 * shift/rotate OF for counts > 1, which follows Intel hardware (as Bochs models it).
 * The exact choices:
 *   AND OR XOR TEST        AF = 0.
 *   MUL IMUL (all forms)   CF = OF = (high half significant); SF ZF PF from the low
 *                          half of the result (AL, AX, EAX; for 8-bit MUL the low byte
 *                          of AX); AF = 0.
 *   DIV IDIV               all six flags unchanged.
 *   SHL/SAL SHR SAR        AF = 0 for any non-zero count. CF for counts >= operand
 *                          width: the bit shifted out of the value zero-extended (SHL,
 *                          SHR) or sign-extended (SAR) to 32 bits, i.e. SHL/SHR give 0
 *                          once count > width, SAR gives the sign.
 *                          OF for count > 1: SHL: CF XOR MSB(result); SHR and SAR:
 *                          MSB(result) XOR bit width-2 of result (always 0 for SAR,
 *                          and 0 for SHR when count > 1). These equal the count-1
 *                          definitions at count 1, and equal QEMU for all counts.
 *   ROL ROR                OF for count != 1: ROL: CF XOR MSB(result); ROR: MSB(result)
 *                          XOR bit width-2 of result (same formulas as count 1; QEMU
 *                          agrees). Masked count (count & 31) != 0 but a multiple of
 *                          the width: result unchanged, CF and OF still set by the
 *                          formulas (SDM pseudo-code sets CF whenever the masked count
 *                          is non-zero).
 *   RCL RCR                the effective count is (count & 31) mod 9 (8-bit) or mod 17
 *                          (16-bit); when that is 0 nothing changes, no flags either
 *                          (QEMU and Bochs). OF for count != 1: RCL: CF XOR MSB(result);
 *                          RCR: MSB(result) XOR bit width-2 of result (the count-1
 *                          formulas applied to the result, as Intel/Bochs; QEMU uses
 *                          MSB(src XOR result) for RCR, which differs for count > 1).
 *   SHLD SHRD              AF = 0; OF for count > 1: SHLD: CF XOR MSB(result); SHRD:
 *                          MSB(result) XOR bit width-2 of result (QEMU and Bochs agree).
 *                          16-bit forms with count 17..31 shift the 48-bit value
 *                          dst:src:dst (Intel's behaviour, which QEMU reproduces); CF
 *                          is the last bit shifted out of that value.
 *   BT BTS BTR BTC         only CF changes; OF SF AF PF (undefined) and ZF (unchanged
 *                          per the SDM) keep their values.
 *   BSF BSR                ZF = (source == 0); CF = OF = AF = 0; SF and PF from the
 *                          source value (QEMU computes them as a logic op on the
 *                          source). Destination unchanged when the source is 0.
 *   DAA DAS                OF = 0 (QEMU); CF AF per SDM; SF ZF PF from the new AL.
 *   AAA AAS                OF SF ZF PF unchanged (QEMU); AX +/- 0x106 per SDM.
 *   AAM AAD                CF = OF = AF = 0; SF ZF PF from the new AL.
 *   BSWAP 16-bit           the low word becomes 0 (Intel hardware; QEMU agrees).
 *   INC DEC                CF unchanged (defined). NEG: CF = (source != 0) (defined).
 */
#include "cpu/alu.h"

bool parity8(uint8_t v) { return !__builtin_parity(v); }

bool cond_test(const Cpu *c, unsigned cc)
{
    uint32_t f = c->eflags;
    bool r;
    switch ((cc >> 1) & 7) {
    case 0: r = f & FL_OF; break;
    case 1: r = f & FL_CF; break;
    case 2: r = f & FL_ZF; break;
    case 3: r = f & (FL_CF | FL_ZF); break;
    case 4: r = f & FL_SF; break;
    case 5: r = f & FL_PF; break;
    case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
    default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
    }
    return (cc & 1) ? !r : r;
}

uint32_t flags_szp(uint32_t res, unsigned size)
{
    uint32_t f = 0;
    if (parity8((uint8_t)res)) f |= FL_PF;
    if (!(res & size_mask(size))) f |= FL_ZF;
    if (res & size_sign(size)) f |= FL_SF;
    return f;
}

/* Carry out of the top bit and overflow from the carry vectors: the carry into each
 * bit position i+1 of a+b(+cin) is bit i of (a & b) | ((a | b) & ~res). */
uint32_t alu_add_flags(uint32_t a, uint32_t b, uint32_t res, unsigned size)
{
    uint32_t sign = size_sign(size);
    uint32_t carries = (a & b) | ((a | b) & ~res);
    uint32_t f = flags_szp(res, size);
    if (carries & sign) f |= FL_CF;
    if ((a ^ b ^ res) & 0x10) f |= FL_AF;
    if ((a ^ res) & (b ^ res) & sign) f |= FL_OF;
    return f;
}

/* Borrow vectors of a-b(-bin): the borrow out of bit i is bit i of
 * (~a & b) | ((~a | b) & res). */
uint32_t alu_sub_flags(uint32_t a, uint32_t b, uint32_t res, unsigned size)
{
    uint32_t sign = size_sign(size);
    uint32_t borrows = (~a & b) | ((~a | b) & res);
    uint32_t f = flags_szp(res, size);
    if (borrows & sign) f |= FL_CF;
    if ((a ^ b ^ res) & 0x10) f |= FL_AF;
    if ((a ^ b) & (a ^ res) & sign) f |= FL_OF;
    return f;
}

void flags_add(Cpu *c, uint32_t a, uint32_t b, uint32_t res, unsigned size)
{
    flags_set_arith(c, alu_add_flags(a, b, res, size));
}

void flags_sub(Cpu *c, uint32_t a, uint32_t b, uint32_t res, unsigned size)
{
    flags_set_arith(c, alu_sub_flags(a, b, res, size));
}

void flags_logic(Cpu *c, uint32_t res, unsigned size)
{
    flags_set_arith(c, flags_szp(res, size));
}
