// test_alu.cc — the integer ALU handlers against the host CPU.
//
// Each case builds an Insn by hand (register operands, so the decoder is not
// involved), runs the handler on a CpuHarness, runs the same instruction natively
// with GCC inline asm (pushf/popf around it) and compares the result and the flags
// the SDM defines. 8-bit binary ops cover all 65536 operand pairs (with two input
// flag sets each); 16/32-bit ops use edge values plus a fixed-seed random set.
// BCD instructions are invalid in 64-bit mode, so they are checked against a
// reference written from the SDM pseudo-code plus known real-CPU results.
// The host here is x86-64 (AMD or Intel): only architecturally defined flags are
// compared with it; dbt86's choices for undefined flags are checked separately.

#include <gtest/gtest.h>

#include <csetjmp>
#include <random>
#include <vector>

#include "cpu_harness.h"

namespace {

typedef void (*Handler)(Cpu *, const Insn *);
typedef uint32_t (*Native)(uint32_t a, uint32_t b, uint32_t &fl);

constexpr uint32_t ARITH = FL_ARITH;

// Inline asm runs with a moved stack pointer: pushfq/popfq must not clobber the red
// zone the compiler may use below RSP.
#define ASM_PRE "lea -128(%%rsp), %%rsp\n\tpush %q[f]\n\tpopfq\n\t"
#define ASM_POST "\n\tpushfq\n\tpop %q[f]\n\tlea 128(%%rsp), %%rsp"

// dst = dst OP src
#define NAT2(name, mnem)                                                               \
    template <typename T> uint32_t name(uint32_t a32, uint32_t b32, uint32_t &fl32)   \
    {                                                                                  \
        T a = (T)a32, b = (T)b32;                                                      \
        uint64_t f = fl32;                                                             \
        asm volatile(ASM_PRE mnem " %[b], %[a]" ASM_POST                               \
                     : [a] "+q"(a), [f] "+r"(f)                                        \
                     : [b] "q"(b)                                                      \
                     : "cc", "memory");                                                \
        fl32 = (uint32_t)f;                                                            \
        return a;                                                                      \
    }
// dst = OP dst
#define NAT1(name, mnem)                                                               \
    template <typename T> uint32_t name(uint32_t a32, uint32_t, uint32_t &fl32)        \
    {                                                                                  \
        T a = (T)a32;                                                                  \
        uint64_t f = fl32;                                                             \
        asm volatile(ASM_PRE mnem " %[a]" ASM_POST : [a] "+q"(a), [f] "+r"(f)          \
                     :                                                                 \
                     : "cc", "memory");                                                \
        fl32 = (uint32_t)f;                                                            \
        return a;                                                                      \
    }
// dst = dst SHIFT cl
#define NATS(name, mnem)                                                               \
    template <typename T> uint32_t name(uint32_t a32, uint32_t b32, uint32_t &fl32)   \
    {                                                                                  \
        T a = (T)a32;                                                                  \
        uint8_t cl = (uint8_t)b32;                                                     \
        uint64_t f = fl32;                                                             \
        asm volatile(ASM_PRE mnem " %%cl, %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f)   \
                     : "c"(cl)                                                         \
                     : "cc", "memory");                                                \
        fl32 = (uint32_t)f;                                                            \
        return a;                                                                      \
    }

NAT2(n_add, "add")
NAT2(n_adc, "adc")
NAT2(n_sub, "sub")
NAT2(n_sbb, "sbb")
NAT2(n_and, "and")
NAT2(n_or, "or")
NAT2(n_xor, "xor")
NAT2(n_cmp, "cmp")
NAT2(n_test, "test")
NAT1(n_inc, "inc")
NAT1(n_dec, "dec")
NAT1(n_neg, "neg")
NAT1(n_not, "not")
NATS(n_rol, "rol")
NATS(n_ror, "ror")
NATS(n_rcl, "rcl")
NATS(n_rcr, "rcr")
NATS(n_shl, "shl")
NATS(n_shr, "shr")
NATS(n_sar, "sar")

// Multiply/divide: EDX:EAX (or AX) implicit, the operand in ECX/CX/CL.
template <typename T> void n_muldiv(int kind, uint32_t &eax, uint32_t &edx, uint32_t b32,
                                    uint32_t &fl32)
{
    uint64_t f = fl32;
    uint32_t a = eax, d = edx;
    T b = (T)b32;
    switch (kind) {
    case 0: asm volatile(ASM_PRE "mul %[b]" ASM_POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "c"(b) : "cc", "memory"); break;
    case 1: asm volatile(ASM_PRE "imul %[b]" ASM_POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "c"(b) : "cc", "memory"); break;
    case 2: asm volatile(ASM_PRE "div %[b]" ASM_POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "c"(b) : "cc", "memory"); break;
    default: asm volatile(ASM_PRE "idiv %[b]" ASM_POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "c"(b) : "cc", "memory"); break;
    }
    eax = a;
    edx = d;
    fl32 = (uint32_t)f;
}

template <typename T> uint32_t n_imul2(uint32_t a32, uint32_t b32, uint32_t &fl32)
{
    T a = (T)a32, b = (T)b32;
    uint64_t f = fl32;
    asm volatile(ASM_PRE "imul %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");
    fl32 = (uint32_t)f;
    return a;
}

template <typename T> uint32_t n_shd(bool left, uint32_t a32, uint32_t b32, uint8_t cl, uint32_t &fl32)
{
    T a = (T)a32, b = (T)b32;
    uint64_t f = fl32;
    if (left)
        asm volatile(ASM_PRE "shld %%cl, %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b), "c"(cl) : "cc", "memory");
    else
        asm volatile(ASM_PRE "shrd %%cl, %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b), "c"(cl) : "cc", "memory");
    fl32 = (uint32_t)f;
    return a;
}

template <typename T> uint32_t n_bt(int kind, uint32_t a32, uint32_t b32, uint32_t &fl32)
{
    T a = (T)a32, b = (T)b32;
    uint64_t f = fl32;
    switch (kind) {
    case 0: asm volatile(ASM_PRE "bt %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory"); break;
    case 1: asm volatile(ASM_PRE "bts %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory"); break;
    case 2: asm volatile(ASM_PRE "btr %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory"); break;
    case 3: asm volatile(ASM_PRE "btc %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory"); break;
    case 4: asm volatile(ASM_PRE "bsf %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory"); break;
    default: asm volatile(ASM_PRE "bsr %[b], %[a]" ASM_POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory"); break;
    }
    fl32 = (uint32_t)f;
    return a;
}

Native pick(unsigned size, Native n8, Native n16, Native n32)
{
    return size == 1 ? n8 : size == 2 ? n16 : n32;
}
#define PICK(sz, fn) pick(sz, fn<uint8_t>, fn<uint16_t>, fn<uint32_t>)

uint32_t mask_of(unsigned size) { return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1; }

Operand reg_op(unsigned size, int reg)
{
    Operand o;
    o.kind = OPK_REG;
    o.size = (uint8_t)size;
    o.reg = (uint8_t)reg;
    return o;
}

Insn make_insn(int nops, unsigned size, unsigned size1 = 0)
{
    Insn in;
    memset(&in, 0, sizeof(in));
    in.opsize = size == 2 ? 2 : 4;
    in.addrsize = 4;
    in.seg = SEG_DS;
    in.ea_base = in.ea_index = -1;
    in.nops = (uint8_t)nops;
    in.op[0] = reg_op(size, R_EAX);
    if (nops > 1) in.op[1] = reg_op(size1 ? size1 : size, R_ECX);
    return in;
}

// Collects mismatches, reporting only the first few of a run.
struct Mismatches {
    int n = 0;
    void add(const char *what, unsigned size, uint32_t a, uint32_t b, uint32_t fin, uint32_t got,
             uint32_t exp, uint32_t gotf, uint32_t expf)
    {
        if (n++ < 6)
            ADD_FAILURE() << what << " size " << size << std::hex << " a=" << a << " b=" << b
                          << " fin=" << fin << ": got " << got << " fl " << gotf << ", want "
                          << exp << " fl " << expf;
    }
    ~Mismatches() { EXPECT_EQ(n, 0); }
};

// Operand pairs: all pairs for 8-bit, edges x edges plus random pairs otherwise.
std::vector<std::pair<uint32_t, uint32_t>> pairs_for(unsigned size, int randoms = 60000)
{
    std::vector<std::pair<uint32_t, uint32_t>> v;
    if (size == 1) {
        for (uint32_t a = 0; a < 256; a++)
            for (uint32_t b = 0; b < 256; b++) v.push_back({a, b});
        return v;
    }
    uint32_t m = mask_of(size), s = 1u << (size * 8 - 1);
    std::vector<uint32_t> edges = {0, 1, 2, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x100, s - 1, s, s + 1,
                                   m, m - 1, m >> 1, 0x5555, 0xaaaa, 0x12345678 & m};
    for (uint32_t a : edges)
        for (uint32_t b : edges) v.push_back({a & m, b & m});
    std::mt19937 rng(12345 + size);
    for (int i = 0; i < randoms; i++) v.push_back({rng() & m, rng() & m});
    return v;
}

typedef uint32_t (*DefMask)(unsigned size, uint32_t a, uint32_t b);
uint32_t def_all(unsigned, uint32_t, uint32_t) { return ARITH; }
uint32_t def_logic(unsigned, uint32_t, uint32_t) { return ARITH & ~FL_AF; }

// Runs a two-operand (or one-operand) register op both ways over `pairs`, with two
// input flag sets per pair (random arithmetic flags, then the same with CF flipped).
void check_op(const char *what, Handler fn, Native nat, unsigned size, int nops, DefMask def,
              bool writes = true, unsigned size1 = 0, int randoms = 60000)
{
    CpuHarness h;
    Mismatches mm;
    Insn in = make_insn(nops, size, size1);
    uint32_t m = mask_of(size);
    std::mt19937 rng(777);
    for (auto [a, b] : pairs_for(size, randoms)) {
        uint32_t fr = (rng() & ARITH) | FL_FIXED1;
        for (uint32_t fin : {fr, fr ^ FL_CF}) {
            h.c->regs[R_EAX] = a | 0x5a000000u * (size < 4);
            h.c->regs[R_ECX] = b;
            h.c->eflags = fin;
            fn(h.c, &in);
            uint32_t got = h.c->regs[R_EAX] & m, gotf = h.c->eflags;
            uint32_t nf = fin;
            uint32_t exp = nat(a, b, nf) & m;
            if (!writes) exp = a;
            uint32_t dm = def(size, a, b);
            bool upper_ok = size == 4 || (h.c->regs[R_EAX] & ~m) == (0x5a000000u & ~m);
            if (got != exp || (gotf & dm) != (nf & dm) || !upper_ok ||
                (gotf & ~ARITH) != (fin & ~ARITH))
                mm.add(what, size, a, b, fin, got, exp, gotf & dm, nf & dm);
        }
    }
}

class AluSizes : public ::testing::TestWithParam<unsigned> {};

TEST_P(AluSizes, AddSubAdcSbbCmp)
{
    unsigned s = GetParam();
    check_op("add", exec_ADD, PICK(s, n_add), s, 2, def_all);
    check_op("adc", exec_ADC, PICK(s, n_adc), s, 2, def_all);
    check_op("sub", exec_SUB, PICK(s, n_sub), s, 2, def_all);
    check_op("sbb", exec_SBB, PICK(s, n_sbb), s, 2, def_all);
    check_op("cmp", exec_CMP, PICK(s, n_cmp), s, 2, def_all, false);
}

TEST_P(AluSizes, Logic)
{
    unsigned s = GetParam();
    check_op("and", exec_AND, PICK(s, n_and), s, 2, def_logic);
    check_op("or", exec_OR, PICK(s, n_or), s, 2, def_logic);
    check_op("xor", exec_XOR, PICK(s, n_xor), s, 2, def_logic);
    check_op("test", exec_TEST, PICK(s, n_test), s, 2, def_logic, false);
}

TEST_P(AluSizes, Unary)
{
    unsigned s = GetParam();
    check_op("inc", exec_INC, PICK(s, n_inc), s, 1, def_all);
    check_op("dec", exec_DEC, PICK(s, n_dec), s, 1, def_all);
    check_op("neg", exec_NEG, PICK(s, n_neg), s, 1, def_all);
    check_op("not", exec_NOT, PICK(s, n_not), s, 1, def_all);
}

// Shift defined flags: count 0 changes nothing; otherwise CF (SHL/SHR only while
// count < width), SF ZF PF for shifts, OF only for a masked count of 1.
uint32_t def_shift(unsigned size, uint32_t, uint32_t b)
{
    uint32_t n = b & 31;
    if (n == 0) return ARITH;
    uint32_t d = FL_SF | FL_ZF | FL_PF;
    if (n < size * 8) d |= FL_CF;
    if (n == 1) d |= FL_OF;
    return d;
}
uint32_t def_sar(unsigned size, uint32_t a, uint32_t b)
{
    return def_shift(size, a, b) | ((b & 31) ? FL_CF : 0);
}
// Rotates leave SF ZF AF PF alone; CF is set for any non-zero masked count (ROL/ROR)
// or follows the rotation through it (RCL/RCR).
uint32_t def_rot(unsigned, uint32_t, uint32_t b)
{
    uint32_t n = b & 31;
    if (n == 0) return ARITH;
    return FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF | (n == 1 ? FL_OF : 0);
}

TEST_P(AluSizes, ShiftsAndRotates)
{
    unsigned s = GetParam();
    // shift pairs: value x count; for 8-bit all 256 x 256 (count masking included)
    check_op("shl", exec_SHL, PICK(s, n_shl), s, 2, def_shift, true, 1, 20000);
    check_op("sal", exec_SAL, PICK(s, n_shl), s, 2, def_shift, true, 1, 20000);
    check_op("shr", exec_SHR, PICK(s, n_shr), s, 2, def_shift, true, 1, 20000);
    check_op("sar", exec_SAR, PICK(s, n_sar), s, 2, def_sar, true, 1, 20000);
    check_op("rol", exec_ROL, PICK(s, n_rol), s, 2, def_rot, true, 1, 20000);
    check_op("ror", exec_ROR, PICK(s, n_ror), s, 2, def_rot, true, 1, 20000);
    check_op("rcl", exec_RCL, PICK(s, n_rcl), s, 2, def_rot, true, 1, 20000);
    check_op("rcr", exec_RCR, PICK(s, n_rcr), s, 2, def_rot, true, 1, 20000);
}

INSTANTIATE_TEST_SUITE_P(Sizes, AluSizes, ::testing::Values(1u, 2u, 4u));

// Shifts by every count 0..63 for 16/32 bits (the random pairs above give large
// counts rarely).
TEST(Alu, ShiftAllCounts)
{
    CpuHarness h;
    Mismatches mm;
    std::mt19937 rng(99);
    struct { const char *n; Handler fn; Native n16, n32; DefMask d; } ops[] = {
        {"shl", exec_SHL, n_shl<uint16_t>, n_shl<uint32_t>, def_shift},
        {"shr", exec_SHR, n_shr<uint16_t>, n_shr<uint32_t>, def_shift},
        {"sar", exec_SAR, n_sar<uint16_t>, n_sar<uint32_t>, def_sar},
        {"rol", exec_ROL, n_rol<uint16_t>, n_rol<uint32_t>, def_rot},
        {"ror", exec_ROR, n_ror<uint16_t>, n_ror<uint32_t>, def_rot},
        {"rcl", exec_RCL, n_rcl<uint16_t>, n_rcl<uint32_t>, def_rot},
        {"rcr", exec_RCR, n_rcr<uint16_t>, n_rcr<uint32_t>, def_rot},
    };
    for (auto &op : ops)
        for (unsigned s : {2u, 4u}) {
            Insn in = make_insn(2, s, 1);
            for (int i = 0; i < 2000; i++) {
                uint32_t a = rng() & mask_of(s);
                for (uint32_t cnt = 0; cnt < 64; cnt++) {
                    uint32_t fin = (rng() & ARITH) | FL_FIXED1;
                    h.c->regs[R_EAX] = a;
                    h.c->regs[R_ECX] = cnt;
                    h.c->eflags = fin;
                    op.fn(h.c, &in);
                    uint32_t nf = fin;
                    uint32_t exp = (s == 2 ? op.n16 : op.n32)(a, cnt, nf) & mask_of(s);
                    uint32_t got = h.c->regs[R_EAX] & mask_of(s);
                    uint32_t dm = op.d(s, a, cnt);
                    if (got != exp || (h.c->eflags & dm) != (nf & dm))
                        mm.add(op.n, s, a, cnt, fin, got, exp, h.c->eflags & dm, nf & dm);
                }
            }
        }
}

TEST(Alu, ShldShrd)
{
    CpuHarness h;
    Mismatches mm;
    std::mt19937 rng(4242);
    for (bool left : {true, false})
        for (unsigned s : {2u, 4u}) {
            Insn in = make_insn(2, s);
            in.nops = 3;
            in.op[1] = reg_op(s, R_EDX);
            in.op[2] = reg_op(1, R_ECX); // CL
            for (int i = 0; i < 3000; i++) {
                uint32_t a = rng() & mask_of(s), b = rng() & mask_of(s);
                for (uint32_t cnt = 0; cnt < 40; cnt++) {
                    uint32_t n = cnt & 31;
                    if (n > s * 8) continue; // result undefined by the SDM
                    uint32_t fin = (rng() & ARITH) | FL_FIXED1;
                    h.c->regs[R_EAX] = a;
                    h.c->regs[R_EDX] = b;
                    h.c->regs[R_ECX] = cnt;
                    h.c->eflags = fin;
                    (left ? exec_SHLD : exec_SHRD)(h.c, &in);
                    uint32_t nf = fin;
                    uint32_t exp = s == 2 ? n_shd<uint16_t>(left, a, b, cnt, nf)
                                          : n_shd<uint32_t>(left, a, b, cnt, nf);
                    uint32_t got = h.c->regs[R_EAX] & mask_of(s);
                    uint32_t dm = n == 0 ? ARITH
                                         : FL_CF | FL_SF | FL_ZF | FL_PF | (n == 1 ? FL_OF : 0);
                    if (got != exp || (h.c->eflags & dm) != (nf & dm))
                        mm.add(left ? "shld" : "shrd", s, a, b * 64 + cnt, fin, got, exp,
                               h.c->eflags & dm, nf & dm);
                }
            }
        }
}

// 16-bit SHLD/SHRD with counts 17..31 follow Intel's dst:src:dst model (see alu.c).
TEST(Alu, Shld16LargeCountIntelModel)
{
    CpuHarness h;
    Insn in = make_insn(2, 2);
    in.nops = 3;
    in.op[1] = reg_op(2, R_EDX);
    in.op[2] = reg_op(1, R_ECX);
    h.c->regs[R_EAX] = 0x1234;
    h.c->regs[R_EDX] = 0xabcd;
    h.c->regs[R_ECX] = 20;
    exec_SHLD(h.c, &in);
    // (dst:src:dst << 20) bits 32..47 = (src << 4) | (dst >> 12)
    EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, 0xbcd1u);
    h.c->regs[R_EAX] = 0x1234;
    exec_SHRD(h.c, &in);
    // (dst:src:dst >> 20) bits 0..15 = (dst << 12) | (src >> 4)
    EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, 0x4abcu);
}

TEST(Alu, MulDiv)
{
    CpuHarness h;
    Mismatches mm;
    for (unsigned s : {1u, 2u, 4u}) {
        Insn in = make_insn(1, s);
        in.op[0] = reg_op(s, R_ECX);
        Handler fns[4] = {exec_MUL, exec_IMUL1, exec_DIV, exec_IDIV};
        const char *names[4] = {"mul", "imul", "div", "idiv"};
        std::mt19937 rng(5 + s);
        uint32_t m = mask_of(s);
        for (int kind = 0; kind < 4; kind++) {
            int cases = s == 1 ? 65536 * 4 : 150000;
            for (int i = 0; i < cases; i++) {
                uint32_t eax, edx, b;
                if (s == 1) {
                    // first all (AL, operand) pairs with a random AH, then random AX
                    edx = 0x55555555u;
                    b = i < 65536 ? (uint32_t)(i >> 8) : (rng() & 0xff);
                    eax = 0x12340000u | (i < 65536 ? (i & 0xff) | (rng() & 0xff00) : rng() & 0xffff);
                } else {
                    eax = rng();
                    edx = rng();
                    b = rng() & m;
                    if (i % 4 == 1) b &= 0xff;
                    if (i % 8 == 2 && kind >= 2) edx = s == 4 ? edx & 0x3f : edx & 0xffff003f; // small dividends
                    if (i % 16 == 3) b = m; // -1 for idiv
                }
                if (kind >= 2) {
                    // skip #DE cases natively (they are checked in DivideErrors)
                    if ((b & m) == 0) continue;
                    if (s == 1) {
                        uint32_t n = eax & 0xffff;
                        if (kind == 2 && n / b > 0xff) continue;
                        if (kind == 3) {
                            int32_t q = (int16_t)n / (int8_t)b;
                            if (q > 127 || q < -128) continue;
                        }
                    } else if (s == 2) {
                        uint32_t n = ((edx & 0xffff) << 16) | (eax & 0xffff);
                        if (kind == 2 && n / b > 0xffff) continue;
                        if (kind == 3) {
                            int64_t q = (int64_t)(int32_t)n / (int16_t)b;
                            if (q > 32767 || q < -32768) continue;
                        }
                    } else {
                        uint64_t n = ((uint64_t)edx << 32) | eax;
                        if (kind == 2 && n / b > 0xffffffffu) continue;
                        if (kind == 3) {
                            if ((int32_t)b == -1 && (int64_t)n == INT64_MIN) continue;
                            int64_t q = (int64_t)n / (int32_t)b;
                            if (q > INT32_MAX || q < INT32_MIN) continue;
                        }
                    }
                }
                uint32_t fin = (rng() & ARITH) | FL_FIXED1;
                h.c->regs[R_EAX] = eax;
                h.c->regs[R_EDX] = edx;
                h.c->regs[R_ECX] = b;
                h.c->eflags = fin;
                fns[kind](h.c, &in);
                uint32_t ne = eax, nd = edx, nf = fin;
                if (s == 1) n_muldiv<uint8_t>(kind, ne, nd, b, nf);
                else if (s == 2) n_muldiv<uint16_t>(kind, ne, nd, b, nf);
                else n_muldiv<uint32_t>(kind, ne, nd, b, nf);
                uint32_t dm = kind < 2 ? FL_CF | FL_OF : 0;
                if (h.c->regs[R_EAX] != ne || h.c->regs[R_EDX] != nd ||
                    (h.c->eflags & dm) != (nf & dm))
                    mm.add(names[kind], s, eax, b, fin, h.c->regs[R_EAX], ne,
                           h.c->eflags & dm, nf & dm);
                // dbt86's choices: MUL/IMUL SF ZF PF from the low half, AF 0; DIV keeps flags
                uint32_t lo = s == 1 ? ne & 0xff : ne & m;
                uint32_t want = kind < 2 ? (nf & (FL_CF | FL_OF)) |
                                               (lo == 0 ? FL_ZF : 0) |
                                               (lo & (1u << (8 * s - 1)) ? FL_SF : 0) |
                                               (__builtin_parity(lo & 0xff) ? 0 : FL_PF)
                                         : fin & ARITH;
                if ((h.c->eflags & ARITH) != want)
                    mm.add("undef-flags", s, eax, b, fin, 0, 0, h.c->eflags & ARITH, want);
            }
        }
    }
}

TEST(Alu, Imul2AndImul3)
{
    CpuHarness h;
    Mismatches mm;
    for (unsigned s : {2u, 4u}) {
        Insn in = make_insn(2, s);
        Insn in3 = make_insn(2, s);
        in3.nops = 3;
        in3.op[2].kind = OPK_IMM;
        in3.op[2].size = (uint8_t)s;
        for (auto [a, b] : pairs_for(s, 50000)) {
            uint32_t fin = FL_FIXED1 | FL_AF;
            h.c->regs[R_EAX] = a;
            h.c->regs[R_ECX] = b;
            h.c->eflags = fin;
            exec_IMUL2(h.c, &in);
            uint32_t nf = fin;
            uint32_t exp = (s == 2 ? n_imul2<uint16_t> : n_imul2<uint32_t>)(a, b, nf) & mask_of(s);
            uint32_t dm = FL_CF | FL_OF;
            if ((h.c->regs[R_EAX] & mask_of(s)) != exp || (h.c->eflags & dm) != (nf & dm))
                mm.add("imul2", s, a, b, fin, h.c->regs[R_EAX], exp, h.c->eflags & dm, nf & dm);
            // IMUL3 r, r/m, imm: dest EAX = ECX * imm (imm sign-extended to 32 bits)
            in3.imm = s == 2 ? (uint32_t)(int16_t)a : a;
            h.c->regs[R_EAX] = 0xdeadbeef;
            h.c->eflags = fin;
            exec_IMUL3(h.c, &in3);
            if ((h.c->regs[R_EAX] & mask_of(s)) != exp || (h.c->eflags & dm) != (nf & dm))
                mm.add("imul3", s, a, b, fin, h.c->regs[R_EAX], exp, h.c->eflags & dm, nf & dm);
        }
    }
}

// A fault inside a handler longjmps to c->fault_jmp; catch it here.
template <typename F> int run_catch(Cpu *c, F f)
{
    c->pending_vector = 0xff;
    if (setjmp(c->fault_jmp) == 0) {
        f();
        return -1;
    }
    return c->pending_vector;
}

TEST(Alu, DivideErrors)
{
    CpuHarness h;
    Insn in = make_insn(1, 1);
    in.op[0] = reg_op(1, R_ECX);
    h.c->insn_eip = 0x1000;
    h.c->insn_esp = 0x8000;
    // DIV by zero
    h.c->regs[R_EAX] = 0x1234;
    h.c->regs[R_ECX] = 0;
    EXPECT_EQ(run_catch(h.c, [&] { exec_DIV(h.c, &in); }), EXC_DE);
    EXPECT_EQ(h.c->regs[R_EAX], 0x1234u);
    // quotient overflow: 0x1234 / 0x12 = 0x102 > 0xff
    h.c->regs[R_ECX] = 0x12;
    EXPECT_EQ(run_catch(h.c, [&] { exec_DIV(h.c, &in); }), EXC_DE);
    // IDIV -32768 / -1 and 8-bit: -0x8000/0xff(-1) overflow; -256/2 = -128 fits
    h.c->regs[R_EAX] = 0xff00; // -256
    h.c->regs[R_ECX] = 2;
    EXPECT_EQ(run_catch(h.c, [&] { exec_IDIV(h.c, &in); }), -1);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, 0x0080u); // AL=-128, AH=0
    h.c->regs[R_EAX] = 0x0100; // 256 / 2 = 128 does not fit
    EXPECT_EQ(run_catch(h.c, [&] { exec_IDIV(h.c, &in); }), EXC_DE);
    // 32-bit IDIV INT64_MIN / -1
    Insn in32 = make_insn(1, 4);
    in32.op[0] = reg_op(4, R_ECX);
    h.c->regs[R_EDX] = 0x80000000u;
    h.c->regs[R_EAX] = 0;
    h.c->regs[R_ECX] = 0xffffffffu;
    EXPECT_EQ(run_catch(h.c, [&] { exec_IDIV(h.c, &in32); }), EXC_DE);
    EXPECT_EQ(h.c->regs[R_EDX], 0x80000000u);
    // AAM 0
    Insn aam = make_insn(1, 1);
    aam.op[0].kind = OPK_IMM;
    aam.imm = 0;
    EXPECT_EQ(run_catch(h.c, [&] { exec_AAM(h.c, &aam); }), EXC_DE);
}

TEST(Alu, BitOps)
{
    CpuHarness h;
    Mismatches mm;
    const char *names[6] = {"bt", "bts", "btr", "btc", "bsf", "bsr"};
    Handler fns[6] = {exec_BT, exec_BTS, exec_BTR, exec_BTC, exec_BSF, exec_BSR};
    for (unsigned s : {2u, 4u})
        for (int k = 0; k < 6; k++) {
            Insn in = make_insn(2, s);
            for (auto [a, b] : pairs_for(s, 20000)) {
                if (k >= 4 && (b & 7) == 3) b = 0; // BSF/BSR of zero
                uint32_t fin = FL_FIXED1 | (a & ARITH);
                h.c->regs[R_EAX] = a;
                h.c->regs[R_ECX] = b;
                h.c->eflags = fin;
                fns[k](h.c, &in);
                uint32_t nf = fin;
                uint32_t exp = (s == 2 ? n_bt<uint16_t> : n_bt<uint32_t>)(k, a, b, nf) & mask_of(s);
                uint32_t dm = k < 4 ? FL_CF : FL_ZF;
                uint32_t got = h.c->regs[R_EAX] & mask_of(s);
                if (got != exp || (h.c->eflags & dm) != (nf & dm))
                    mm.add(names[k], s, a, b, fin, got, exp, h.c->eflags & dm, nf & dm);
                // dbt86's choices: BTx change only CF; BSF/BSR flags = logic(src)
                uint32_t want;
                if (k < 4) {
                    want = (fin & ~FL_CF & ARITH) | (nf & FL_CF);
                } else {
                    uint32_t src = b & mask_of(s);
                    want = (src == 0 ? FL_ZF : 0) | (src & (1u << (8 * s - 1)) ? FL_SF : 0) |
                           (__builtin_parity(src & 0xff) ? 0 : FL_PF);
                }
                if ((h.c->eflags & ARITH) != want)
                    mm.add("bit-undef", s, a, b, fin, k, 0, h.c->eflags & ARITH, want);
            }
        }
}

TEST(Alu, UndefinedFlagChoices)
{
    CpuHarness h;
    // AND clears AF; SHL leaves AF 0; ROL keeps SF/ZF/PF/AF
    Insn in = make_insn(2, 1);
    h.c->regs[R_EAX] = 0xff;
    h.c->regs[R_ECX] = 0x0f;
    h.c->eflags = FL_FIXED1 | FL_AF | FL_CF | FL_OF;
    exec_AND(h.c, &in);
    EXPECT_EQ(h.c->eflags & ARITH, FL_PF); // 0x0f: four bits -> even parity
    Insn sh = make_insn(2, 1, 1);
    h.c->regs[R_EAX] = 0x81;
    h.c->regs[R_ECX] = 2;
    h.c->eflags = FL_FIXED1 | FL_AF;
    exec_SHL(h.c, &sh);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xff, 0x04u);
    // CF = bit 6 of 0x81 = 0; OF = CF ^ MSB(result) = 0; AF cleared
    EXPECT_EQ(h.c->eflags & ARITH, 0u);
    // RCR 8-bit by 2 (count > 1): OF = MSB(res) ^ bit 6 of res (Intel/Bochs)
    h.c->regs[R_EAX] = 0x01;
    h.c->regs[R_ECX] = 2;
    h.c->eflags = FL_FIXED1 | FL_CF;
    exec_RCR(h.c, &sh);
    // 9-bit value CF:0x01 = 1_0000_0001 rotated right by 2 -> result 0xC0, CF 0
    EXPECT_EQ(h.c->regs[R_EAX] & 0xff, 0xc0u);
    EXPECT_EQ(h.c->eflags & (FL_CF | FL_OF), 0u);
    // RCL 8-bit by 9: effective count 0, nothing changes
    h.c->regs[R_EAX] = 0x5a;
    h.c->regs[R_ECX] = 9;
    h.c->eflags = FL_FIXED1 | FL_CF | FL_OF;
    exec_RCL(h.c, &sh);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xff, 0x5au);
    EXPECT_EQ(h.c->eflags, FL_FIXED1 | FL_CF | FL_OF);
    // BSWAP 16-bit zeroes the low word
    Insn bs = make_insn(1, 2);
    h.c->regs[R_EAX] = 0x12345678;
    exec_BSWAP(h.c, &bs);
    EXPECT_EQ(h.c->regs[R_EAX], 0x12340000u);
    Insn bs4 = make_insn(1, 4);
    h.c->regs[R_EAX] = 0x12345678;
    exec_BSWAP(h.c, &bs4);
    EXPECT_EQ(h.c->regs[R_EAX], 0x78563412u);
}

// ---- BCD: reference from the SDM pseudo-code (vol. 2, DAA/DAS/AAA/AAS) ----

struct BcdOut {
    uint32_t ax, cf, af;
};

BcdOut ref_daa(uint32_t ax, bool cf, bool af)
{
    uint32_t al = ax & 0xff, old_al = al;
    bool old_cf = cf;
    cf = false;
    if ((al & 0xf) > 9 || af) {
        cf = old_cf || al + 6 > 0xff;
        al = (al + 6) & 0xff;
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al + 0x60) & 0xff;
        cf = true;
    } else {
        cf = false;
    }
    return {(ax & 0xff00) | al, cf, af};
}

BcdOut ref_das(uint32_t ax, bool cf, bool af)
{
    uint32_t al = ax & 0xff, old_al = al;
    bool old_cf = cf;
    cf = false;
    if ((al & 0xf) > 9 || af) {
        cf = old_cf || al < 6;
        al = (al - 6) & 0xff;
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al - 0x60) & 0xff;
        cf = true;
    }
    return {(ax & 0xff00) | al, cf, af};
}

BcdOut ref_aaa(uint32_t ax, bool, bool af)
{
    if ((ax & 0xf) > 9 || af) {
        ax = (ax + 0x106) & 0xffff;
        return {ax & 0xff0f, 1, 1};
    }
    return {ax & 0xff0f, 0, 0};
}

BcdOut ref_aas(uint32_t ax, bool, bool af)
{
    if ((ax & 0xf) > 9 || af) {
        ax = (ax - 6) & 0xffff;
        ax = (ax & 0xff) | (((ax >> 8) - 1) & 0xff) << 8;
        return {ax & 0xff0f, 1, 1};
    }
    return {ax & 0xff0f, 0, 0};
}

TEST(Alu, BcdExhaustiveAgainstSdm)
{
    CpuHarness h;
    Insn in = make_insn(0, 1);
    struct { const char *n; Handler fn; BcdOut (*ref)(uint32_t, bool, bool); bool szp; } ops[] = {
        {"daa", exec_DAA, ref_daa, true},
        {"das", exec_DAS, ref_das, true},
        {"aaa", exec_AAA, ref_aaa, false},
        {"aas", exec_AAS, ref_aas, false},
    };
    Mismatches mm;
    for (auto &op : ops)
        for (uint32_t ah : {0x00u, 0x01u, 0x7fu, 0xffu})
            for (uint32_t al = 0; al < 256; al++)
                for (int fl = 0; fl < 4; fl++) {
                    bool cf = fl & 1, af = fl & 2;
                    // other flags set to a pattern so "unchanged" is visible
                    uint32_t fin = FL_FIXED1 | (cf ? FL_CF : 0) | (af ? FL_AF : 0) |
                                   ((al & 1) ? FL_OF | FL_SF : FL_ZF | FL_PF);
                    uint32_t ax = ah << 8 | al;
                    h.c->regs[R_EAX] = 0xabcd0000u | ax;
                    h.c->eflags = fin;
                    op.fn(h.c, &in);
                    BcdOut r = op.ref(ax, cf, af);
                    uint32_t want = (r.cf ? FL_CF : 0) | (r.af ? FL_AF : 0);
                    if (op.szp) {
                        uint32_t nal = r.ax & 0xff;
                        want |= (nal == 0 ? FL_ZF : 0) | (nal & 0x80 ? FL_SF : 0) |
                                (__builtin_parity(nal) ? 0 : FL_PF); // OF = 0
                    } else {
                        want |= fin & (FL_OF | FL_SF | FL_ZF | FL_PF);
                    }
                    if (h.c->regs[R_EAX] != (0xabcd0000u | r.ax) ||
                        (h.c->eflags & ARITH) != want)
                        mm.add(op.n, 1, ax, fl, fin, h.c->regs[R_EAX], r.ax,
                               h.c->eflags & ARITH, want);
                }
}

// Results known from real CPUs (textbook examples and documented 386+ behaviour).
TEST(Alu, BcdKnownResults)
{
    CpuHarness h;
    Insn in = make_insn(0, 1);
    auto run = [&](Handler fn, uint32_t ax, uint32_t fl) {
        h.c->regs[R_EAX] = ax;
        h.c->eflags = FL_FIXED1 | fl;
        fn(h.c, &in);
        return h.c->regs[R_EAX] & 0xffff;
    };
    // 79 + 35 = 0xAE -> DAA -> 14, carry (114)
    EXPECT_EQ(run(exec_DAA, 0x00ae, 0), 0x0014u);
    EXPECT_EQ(h.c->eflags & (FL_CF | FL_AF), FL_CF | FL_AF);
    // 0x9A -> 00 with CF, ZF
    EXPECT_EQ(run(exec_DAA, 0x009a, 0), 0x0000u);
    EXPECT_EQ(h.c->eflags & (FL_CF | FL_ZF | FL_PF), FL_CF | FL_ZF | FL_PF);
    // 35 - 47 = 0xEE (CF, AF) -> DAS -> 88 with borrow
    EXPECT_EQ(run(exec_DAS, 0x00ee, FL_CF | FL_AF), 0x0088u);
    EXPECT_EQ(h.c->eflags & FL_CF, FL_CF);
    // AAA after 9 + 6 = 0x0F -> AX 0x0105; 386+: AL=0xFF adds 0x106 to AX -> 0x0205
    EXPECT_EQ(run(exec_AAA, 0x000f, 0), 0x0105u);
    EXPECT_EQ(run(exec_AAA, 0x00ff, 0), 0x0205u);
    // AAS: AX=0x0200 with AF -> 0x00FA & 0xFF0F = 0x000A
    EXPECT_EQ(run(exec_AAS, 0x0200, FL_AF), 0x000au);
    // AAM 10: 79 -> 0x0709; AAD 10: 0x0709 -> 79; AAM 16 splits nibbles
    Insn aam = make_insn(1, 1);
    aam.op[0].kind = OPK_IMM;
    aam.imm = 10;
    h.c->regs[R_EAX] = 79;
    exec_AAM(h.c, &aam);
    EXPECT_EQ(h.c->regs[R_EAX], 0x0709u);
    EXPECT_EQ(h.c->eflags & ARITH, FL_PF);
    exec_AAD(h.c, &aam);
    EXPECT_EQ(h.c->regs[R_EAX], 79u);
    aam.imm = 16;
    h.c->regs[R_EAX] = 0x4f;
    exec_AAM(h.c, &aam);
    EXPECT_EQ(h.c->regs[R_EAX], 0x040fu);
    // SALC
    h.c->eflags = FL_FIXED1 | FL_CF;
    exec_SALC(h.c, &in);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xff, 0xffu);
}

TEST(Alu, CondTestMatchesHostSetcc)
{
    CpuHarness h;
    // all 64 combinations of CF PF ZF SF OF (AF irrelevant) x 16 conditions
    for (uint32_t bits = 0; bits < 32; bits++) {
        uint32_t fl = FL_FIXED1 | ((bits & 1) ? FL_CF : 0) | ((bits & 2) ? FL_PF : 0) |
                      ((bits & 4) ? FL_ZF : 0) | ((bits & 8) ? FL_SF : 0) |
                      ((bits & 16) ? FL_OF : 0);
        uint64_t f = fl;
        uint8_t r[16];
        asm volatile(ASM_PRE
                     "seto 0(%[r])\n\tsetno 1(%[r])\n\tsetb 2(%[r])\n\tsetae 3(%[r])\n\t"
                     "sete 4(%[r])\n\tsetne 5(%[r])\n\tsetbe 6(%[r])\n\tseta 7(%[r])\n\t"
                     "sets 8(%[r])\n\tsetns 9(%[r])\n\tsetp 10(%[r])\n\tsetnp 11(%[r])\n\t"
                     "setl 12(%[r])\n\tsetge 13(%[r])\n\tsetle 14(%[r])\n\tsetg 15(%[r])" ASM_POST
                     : [f] "+r"(f)
                     : [r] "r"(r)
                     : "cc", "memory");
        h.c->eflags = fl;
        for (unsigned cc = 0; cc < 16; cc++) EXPECT_EQ(cond_test(h.c, cc), r[cc] != 0) << cc;
    }
}

TEST(Alu, Parity)
{
    for (unsigned v = 0; v < 256; v++) EXPECT_EQ(parity8((uint8_t)v), !__builtin_parity(v)) << v;
}

} // namespace
