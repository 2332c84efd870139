/*
 * exec_shift.c — shifts and rotates (group 2) and the double shifts SHLD/SHRD.
 * The count is masked to 5 bits; a masked count of 0 changes nothing (not even
 * flags). RCL/RCR rotate through CF over width+1 bits, so 8/16-bit forms take the
 * count mod 9/17. OF for counts other than 1 and AF are undefined by Intel; the
 * choices (see alu.c) are the count-1 formulas applied to the result, and AF = 0.
 */
#include "cpu/alu.h"

/* Flags after a shift/rotate: OF from the count-1 formula applied to the result
 * (left: CF XOR MSB; right: the two top bits of the result differ). */
static uint32_t shift_of(uint32_t res, unsigned size, bool cf, bool left)
{
    unsigned bits = size * 8;
    bool msb = (res >> (bits - 1)) & 1;
    bool of = left ? (cf != msb) : (msb != ((res >> (bits - 2)) & 1));
    return of ? FL_OF : 0;
}

enum ShiftKind { SK_ROL, SK_ROR, SK_RCL, SK_RCR, SK_SHL, SK_SHR, SK_SAR };

static void shift_op(Cpu *c, const Insn *in, enum ShiftKind k)
{
    unsigned sz = in->op[0].size, bits = sz * 8;
    uint32_t mask = size_mask(sz);
    uint32_t cnt = opnd_read(c, in, 1) & 0x1f;
    uint32_t x = opnd_read(c, in, 0);
    if (cnt == 0) return;
    uint32_t res;
    bool cf;
    bool left;
    uint32_t keep = 0; /* flags the operation leaves alone (EFLAGS bits) */

    switch (k) {
    case SK_ROL:
    case SK_ROR: {
        unsigned n = cnt % bits;
        if (k == SK_ROL) {
            res = n ? ((x << n) | (x >> (bits - n))) & mask : x;
            cf = res & 1;
        } else {
            res = n ? ((x >> n) | (x << (bits - n))) & mask : x;
            cf = (res >> (bits - 1)) & 1;
        }
        left = k == SK_ROL;
        keep = FL_SF | FL_ZF | FL_PF | FL_AF;
        break;
    }
    case SK_RCL:
    case SK_RCR: {
        unsigned n = bits == 32 ? cnt : cnt % (bits + 1);
        if (n == 0) return;
        uint64_t m = (2ull << bits) - 1; /* width+1 bits */
        uint64_t v = ((uint64_t)(c->eflags & FL_CF ? 1 : 0) << bits) | x;
        uint64_t r = k == SK_RCL ? ((v << n) | (v >> (bits + 1 - n))) & m
                                 : ((v >> n) | (v << (bits + 1 - n))) & m;
        res = (uint32_t)r & mask;
        cf = (r >> bits) & 1;
        left = k == SK_RCL;
        keep = FL_SF | FL_ZF | FL_PF | FL_AF;
        break;
    }
    case SK_SHL: {
        uint64_t w = (uint64_t)x << cnt;
        res = (uint32_t)w & mask;
        cf = (w >> bits) & 1;
        left = true;
        break;
    }
    case SK_SHR:
        res = x >> cnt;
        cf = (x >> (cnt - 1)) & 1;
        left = false;
        break;
    default: { /* SAR: shift the value sign-extended to 32 bits */
        int32_t sx = x & size_sign(sz) ? (int32_t)(x | ~mask) : (int32_t)x;
        res = (uint32_t)(sx >> cnt) & mask;
        cf = (sx >> (cnt - 1)) & 1;
        left = false;
        break;
    }
    }
    opnd_write(c, in, 0, res);
    uint32_t f = (cf ? FL_CF : 0) | shift_of(res, sz, cf, left);
    if (keep)
        f |= c->eflags & keep;
    else
        f |= flags_szp(res, sz); /* AF = 0 */
    flags_set_arith(c, f);
}

void exec_ROL(Cpu *c, const Insn *in) { shift_op(c, in, SK_ROL); }
void exec_ROR(Cpu *c, const Insn *in) { shift_op(c, in, SK_ROR); }
void exec_RCL(Cpu *c, const Insn *in) { shift_op(c, in, SK_RCL); }
void exec_RCR(Cpu *c, const Insn *in) { shift_op(c, in, SK_RCR); }
void exec_SHL(Cpu *c, const Insn *in) { shift_op(c, in, SK_SHL); }
void exec_SAL(Cpu *c, const Insn *in) { shift_op(c, in, SK_SHL); }
void exec_SHR(Cpu *c, const Insn *in) { shift_op(c, in, SK_SHR); }
void exec_SAR(Cpu *c, const Insn *in) { shift_op(c, in, SK_SAR); }

/* SHLD/SHRD on the 64-bit (32-bit form) or 48-bit (16-bit form: dst:src:dst, which
 * gives Intel's results for counts 17..31) concatenation. */
static void shift_double(Cpu *c, const Insn *in, bool left)
{
    unsigned sz = in->op[0].size, bits = sz * 8;
    uint32_t cnt = opnd_read(c, in, 2) & 0x1f;
    uint32_t dst = opnd_read(c, in, 0), src = opnd_read(c, in, 1);
    if (cnt == 0) return;
    uint64_t v;
    unsigned top; /* bit position just above the result window when cnt = 0 */
    if (sz == 2) {
        v = ((uint64_t)dst << 32) | ((uint64_t)src << 16) | dst;
        top = 48;
    } else {
        v = left ? ((uint64_t)dst << 32) | src : ((uint64_t)src << 32) | dst;
        top = 64;
    }
    uint32_t res;
    bool cf;
    if (left) {
        /* result = bits [top-bits, top) of v << cnt */
        res = (uint32_t)(v >> (top - bits - cnt)) & size_mask(sz);
        cf = (v >> (top - cnt)) & 1;
    } else {
        res = (uint32_t)(v >> cnt) & size_mask(sz);
        cf = (v >> (cnt - 1)) & 1;
    }
    opnd_write(c, in, 0, res);
    flags_set_arith(c, (cf ? FL_CF : 0) | shift_of(res, sz, cf, left) | flags_szp(res, sz));
}

void exec_SHLD(Cpu *c, const Insn *in) { shift_double(c, in, true); }
void exec_SHRD(Cpu *c, const Insn *in) { shift_double(c, in, false); }
