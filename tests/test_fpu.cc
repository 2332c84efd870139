// test_fpu.cc — the x87 (exec_fpu.c, fpu.c). Instructions are given as bytes, decoded
// and run through their handlers under a setjmp on c->fault_jmp. The main test runs a
// large table of instructions over special operand values, every rounding mode and
// precision control, masked and unmasked, and compares the guest's FNSAVE image,
// memory result and EFLAGS with the same bytes executed natively here (inline asm).
// Further tests check semantics against C long double arithmetic, the environment
// layouts, exceptions (#MF, FERR#, #NM, #UD) and faulting memory operands.
#include <gtest/gtest.h>

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <string>
#include <vector>

#include "cpu_harness.h"

extern "C" {
#include "cpu/fpu.h"
}

namespace {

constexpr uint32_t IMG = 0x2000, MEM = 0x3000, OUT = 0x4000, CODE = 0x1000;

struct Res {
    bool fault;
    int vector;
};

// Decodes and runs one instruction at CODE; returns the fault, if any.
Res exec(Cpu *c, uint8_t *ram, std::vector<uint8_t> bytes)
{
    Insn in;
    bool code32 = cpu_code32(c);
    uint32_t ip = CODE;
    memcpy(ram + c->seg[SEG_CS].base + ip, bytes.data(), bytes.size());
    if (decode(&in, bytes.data(), (unsigned)bytes.size(), code32) != DECODE_OK)
        return {true, -2};
    c->eip = ip;
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    c->eip += in.len;
    if (setjmp(c->fault_jmp)) return {true, c->pending_vector};
    if (in.mnem == M_FPU)
        exec_FPU(c, &in);
    else if (in.mnem == M_WAIT)
        exec_WAIT(c, &in);
    else
        return {true, -3};
    return {false, -1};
}

// x87 instruction with a disp32 (32-bit code) or disp16 memory operand at `addr`.
std::vector<uint8_t> mem32(uint8_t esc, int reg, uint32_t addr)
{
    return {esc, (uint8_t)(reg << 3 | 5), (uint8_t)addr, (uint8_t)(addr >> 8),
            (uint8_t)(addr >> 16), (uint8_t)(addr >> 24)};
}
[[maybe_unused]] std::vector<uint8_t> mem16(uint8_t esc, int reg, uint16_t addr)
{
    return {esc, (uint8_t)(reg << 3 | 6), (uint8_t)addr, (uint8_t)(addr >> 8)};
}

struct F80 {
    uint64_t mant;
    uint16_t se;
};
void put80(uint8_t *p, F80 v)
{
    memcpy(p, &v.mant, 8);
    memcpy(p + 8, &v.se, 2);
}
[[maybe_unused]] long double ld(F80 v)
{
    long double x = 0;
    put80(reinterpret_cast<uint8_t *>(&x), v);
    return x;
}
F80 f80(long double x)
{
    F80 v;
    memcpy(&v.mant, &x, 8);
    memcpy(&v.se, reinterpret_cast<uint8_t *>(&x) + 8, 2);
    return v;
}

const F80 VALUES[] = {
    {0, 0x0000},                      // +0
    {0, 0x8000},                      // -0
    {0x8000000000000000ull, 0x3fff},  // 1
    {0xa000000000000000ull, 0xc000},  // -2.5
    {0xc90fdaa22168c235ull, 0x4000},  // pi
    {0xaaaaaaaaaaaaaaabull, 0x3ffd},  // ~1/6
    {0x0000000000000001ull, 0x0000},  // smallest denormal
    {0x4000000000000000ull, 0x8000},  // negative denormal
    {0x8000000000000000ull, 0x0001},  // smallest normal
    {0xffffffffffffffffull, 0x7ffe},  // largest finite
    {0x8000000000000000ull, 0x43e0},  // ~2^993: overflows float
    {0x8000000000000001ull, 0x3c00},  // tiny: underflows double
    {0x8000000000000000ull, 0x7fff},  // +inf
    {0x8000000000000000ull, 0xffff},  // -inf
    {0xc000000000000001ull, 0x7fff},  // QNaN
    {0x8000000000000001ull, 0x7fff},  // SNaN
    {0x4000000000000000ull, 0x3fff},  // unnormal (invalid operand)
    {0x8000000000000001ull, 0x403d},  // 2^62 + 0.5ulp: integer conversions round
    {0xc350800000000000ull, 0xc00f},  // -100000.5
};
constexpr int NV = sizeof(VALUES) / sizeof(VALUES[0]);
const int BVALS[] = {0, 2, 3, 6, 9, 12, 14, 15};

// memory operand patterns (16 bytes each; the instruction uses the first 2..10)
const uint8_t MEMPAT[][16] = {
    {0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x08, 0x40, 0x00, 0x00},  // float 1.5
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x40, 0x00, 0x40},  // double 3.0
    {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // denormal / int 1
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},  // NaN / -1 / bad BCD
    {0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40},  // pi (m80)
    {0x01, 0x00, 0x80, 0x7f, 0x01, 0x00, 0xf0, 0x7f, 0x00, 0x00},  // float/double SNaN
    {0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80},  // BCD -12345678
    {0x7f, 0x03, 0xff, 0x7f, 0x00, 0x00, 0x00, 0x80, 0x1e, 0x40},  // cw 0x37f / int
};
constexpr int NMEM = sizeof(MEMPAT) / sizeof(MEMPAT[0]);

typedef uint64_t (*NativeFn)(uint8_t *mem, uint8_t *img, uint64_t flags);

// The native run: set the arithmetic flags, FRSTOR, the instruction, read EFLAGS,
// FNSAVE (which never waits, so an unmasked exception stays in the image). The red
// zone is stepped over before using the stack.
#define NATIVE(INSN)                                                                   \
    [](uint8_t *mem, uint8_t *img, uint64_t fin) -> uint64_t {                       \
        uint64_t fout;                                                                \
        __asm__ volatile("sub $128, %%rsp\n\t"                                        \
                         "pushfq\n\t"                                                 \
                         "andq $-0x8d6, (%%rsp)\n\t"                                  \
                         "orq %[fin], (%%rsp)\n\t"                                    \
                         "popfq\n\t"                                                  \
                         "frstor (%[img])\n\t" INSN "\n\t"                            \
                         "pushfq\n\t"                                                 \
                         "popq %[fout]\n\t"                                           \
                         "fnsave (%[img])\n\t"                                        \
                         "add $128, %%rsp"                                            \
                         : [fout] "=&r"(fout)                                         \
                         : [img] "r"(img), [fin] "r"(fin), "D"(mem)                   \
                         : "memory", "cc");                                           \
        return fout;                                                                  \
    }

struct Case {
    uint8_t esc, modrm; // modrm < 0xc0: memory form, reg field in bits 3-5
    NativeFn native;
    const char *name;
};

// register form: both sides from the same two bytes
#define R(E, M) {0x##E, 0x##M, NATIVE(".byte 0x" #E ", 0x" #M), #E " " #M}
// memory form with [rdi] natively
#define MM(E, REG) {0x##E, (REG) << 3, NATIVE(".byte 0x" #E ", 0x07 + (" #REG " << 3)"), #E " /" #REG}

const Case CASES[] = {
    R(d8, c1), R(d8, c9), R(d8, d1), R(d8, d9), R(d8, e1), R(d8, e9), R(d8, f1), R(d8, f9),
    R(d9, c2), R(d9, c9), R(d9, d0), R(d9, d9), R(d9, e0), R(d9, e1), R(d9, e4), R(d9, e5),
    R(d9, e8), R(d9, e9), R(d9, ea), R(d9, eb), R(d9, ec), R(d9, ed), R(d9, ee),
    R(d9, f0), R(d9, f1), R(d9, f2), R(d9, f3), R(d9, f4), R(d9, f5), R(d9, f6), R(d9, f7),
    R(d9, f8), R(d9, f9), R(d9, fa), R(d9, fb), R(d9, fc), R(d9, fd), R(d9, fe), R(d9, ff),
    R(da, c1), R(da, c9), R(da, d1), R(da, d9), R(da, e9),
    R(db, c1), R(db, c9), R(db, d1), R(db, d9), R(db, e2), R(db, e3), R(db, e9), R(db, f1),
    R(dc, c1), R(dc, c9), R(dc, d1), R(dc, e1), R(dc, e9), R(dc, f1), R(dc, f9),
    R(dd, c1), R(dd, c9), R(dd, d1), R(dd, d9), R(dd, e1), R(dd, e9),
    R(de, c1), R(de, c9), R(de, d1), R(de, d9), R(de, e1), R(de, e9), R(de, f1), R(de, f9),
    R(df, c1), R(df, c9), R(df, d1), R(df, e9), R(df, f1),
    MM(d8, 0), MM(d8, 1), MM(d8, 2), MM(d8, 3), MM(d8, 4), MM(d8, 5), MM(d8, 6), MM(d8, 7),
    MM(d9, 0), MM(d9, 2), MM(d9, 3), MM(d9, 5),
    MM(da, 0), MM(da, 1), MM(da, 2), MM(da, 3), MM(da, 4), MM(da, 5), MM(da, 6), MM(da, 7),
    MM(db, 0), MM(db, 2), MM(db, 3), MM(db, 5), MM(db, 7),
    MM(dc, 0), MM(dc, 1), MM(dc, 2), MM(dc, 3), MM(dc, 4), MM(dc, 5), MM(dc, 6), MM(dc, 7),
    MM(dd, 0), MM(dd, 2), MM(dd, 3),
    MM(de, 0), MM(de, 1), MM(de, 2), MM(de, 3), MM(de, 4), MM(de, 5), MM(de, 6), MM(de, 7),
    MM(df, 0), MM(df, 2), MM(df, 3), MM(df, 4), MM(df, 5), MM(df, 6), MM(df, 7),
};

// A 108-byte FRSTOR image: `depth` registers valid (ST0 = a, ST1 = b, then others),
// TOP = top, the rest empty.
void make_image(uint8_t *img, uint16_t cw, unsigned top, int depth, F80 a, F80 b)
{
    memset(img, 0, 108);
    uint16_t sw = (uint16_t)(top << 11);
    uint16_t tw = 0xffff;
    for (int i = 0; i < depth; i++) tw &= (uint16_t) ~(3u << (2 * ((top + i) & 7)));
    memcpy(img + 0, &cw, 2);
    memcpy(img + 4, &sw, 2);
    memcpy(img + 8, &tw, 2);
    for (int i = 0; i < 8; i++) {
        F80 v = i == 0 ? a : i == 1 ? b : VALUES[(i * 5) % NV];
        put80(img + 28 + 10 * i, v);
    }
}

struct FpuTest : ::testing::Test {
    CpuHarness h;
    void SetUp() override { h.flat32(); }
    Res run(std::vector<uint8_t> b) { return exec(h.c, h.ram, b); }
    void frstor(const uint8_t *img)
    {
        memcpy(h.ram + IMG, img, 108);
        Res r = run(mem32(0xdd, 4, IMG));
        ASSERT_FALSE(r.fault) << r.vector;
    }
    void fnsave(uint8_t *img)
    {
        Res r = run(mem32(0xdd, 6, OUT));
        ASSERT_FALSE(r.fault) << r.vector;
        memcpy(img, h.ram + OUT, 108);
    }
    // loads a value into ST0 of a fresh FNINIT state with all exceptions masked
    void load(long double x)
    {
        F80 v = f80(x);
        put80(h.ram + MEM + 0x100, v);
        ASSERT_FALSE(run({0xdb, 0x2d, 0x00, 0x31, 0x00, 0x00}).fault); // fld tword [0x3100]
    }
    long double st(int i)
    {
        FpuState *f = fpu_get(h.c);
        unsigned top = (f->sw >> 11) & 7;
        long double x = 0;
        memcpy(&x, f->st[(top + i) & 7], 10);
        return x;
    }
};

std::string hex(const uint8_t *p, int n)
{
    std::string s;
    char b[4];
    for (int i = 0; i < n; i++) {
        snprintf(b, sizeof b, "%02x", p[i]);
        s += b;
    }
    return s;
}

TEST_F(FpuTest, MatchesHostHardware)
{
    static const uint16_t PCS[] = {0x000, 0x200, 0x300};
    int failures = 0, runs = 0;
    for (const Case &k : CASES) {
        bool is_mem = k.modrm < 0xc0;
        std::vector<uint8_t> bytes =
            is_mem ? mem32(k.esc, k.modrm >> 3, MEM) : std::vector<uint8_t>{k.esc, k.modrm};
        for (int ai = 0; ai < NV; ai++) {
            int nb = is_mem ? NMEM : (int)(sizeof(BVALS) / sizeof(BVALS[0]));
            for (int bi = 0; bi < nb; bi++) {
                for (int rc = 0; rc < 4; rc++) {
                    for (uint16_t pc : PCS) {
                        for (int masked = 0; masked < 2; masked++) {
                            // stack shapes: 3 deep (TOP 5), full, 1 deep (TOP 0)
                            int shape = (ai + bi + rc) % 3;
                            int depth = shape == 0 ? 3 : shape == 1 ? 8 : 1;
                            unsigned top = shape == 0 ? 5 : shape == 1 ? 3 : 0;
                            uint16_t cw = (uint16_t)(0x40 | rc << 10 | pc | (masked ? 0x3f : 0));
                            F80 a = VALUES[ai];
                            F80 b = is_mem ? VALUES[3] : VALUES[BVALS[bi]];
                            uint8_t img[108], nimg[108], gimg[108];
                            make_image(img, cw, top, depth, a, b);
                            uint8_t nmem[16];
                            memcpy(nmem, is_mem ? MEMPAT[bi] : MEMPAT[0], 16);
                            uint32_t fin = ((ai + bi) & 1) ? 0x8d5 : 0;
                            memcpy(nimg, img, 108);
                            uint64_t nfl = k.native(nmem, nimg, fin);

                            h.c->eflags = FL_FIXED1 | fin;
                            frstor(img);
                            memcpy(h.ram + MEM, is_mem ? MEMPAT[bi] : MEMPAT[0], 16);
                            Res r = run(bytes);
                            fnsave(gimg);
                            runs++;
                            bool ok = !r.fault && memcmp(gimg, nimg, 12) == 0 &&
                                      memcmp(gimg + 28, nimg + 28, 80) == 0 &&
                                      memcmp(h.ram + MEM, nmem, 16) == 0 &&
                                      (h.c->eflags & 0x8d5) == (nfl & 0x8d5);
                            if (!ok && ++failures <= 20) {
                                ADD_FAILURE() << k.name << " a=" << ai << " b/mem=" << bi
                                              << " cw=" << std::hex << cw << " fault=" << r.fault
                                              << "\n guest " << hex(gimg, 12) << " "
                                              << hex(gimg + 28, 80) << " mem "
                                              << hex(h.ram + MEM, 10) << " fl "
                                              << (h.c->eflags & 0x8d5) << "\n host  "
                                              << hex(nimg, 12) << " " << hex(nimg + 28, 80)
                                              << " mem " << hex(nmem, 10) << " fl "
                                              << (nfl & 0x8d5);
                            }
                        }
                    }
                }
            }
        }
    }
    EXPECT_EQ(failures, 0) << "of " << runs;
    EXPECT_GT(runs, 100000);
}


constexpr uint8_t FNINIT[] = {0xdb, 0xe3};

TEST_F(FpuTest, ArithmeticMatchesLongDouble)
{
    const long double xs[] = {1.0L, -2.5L, 3.14159L, 1e-300L, 7e300L, 0.1L, -0.0L};
    struct Op {
        uint8_t modrm; // DE xx with ST1 = a, ST0 = b; result in the new ST0
        long double (*f)(long double, long double);
    };
    const Op ops[] = {
        {0xc1, [](long double a, long double b) { return a + b; }},
        {0xc9, [](long double a, long double b) { return a * b; }},
        {0xe9, [](long double a, long double b) { return a - b; }},  // FSUBP st1,st0
        {0xe1, [](long double a, long double b) { return b - a; }},  // FSUBRP
        {0xf9, [](long double a, long double b) { return a / b; }},  // FDIVP
        {0xf1, [](long double a, long double b) { return b / a; }},  // FDIVRP
    };
    for (long double a : xs)
        for (long double b : xs)
            for (const Op &o : ops) {
                ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
                load(a);
                load(b);
                ASSERT_FALSE(run({0xde, o.modrm}).fault);
                long double want = o.f(a, b), got = st(0);
                EXPECT_EQ(memcmp(&want, &got, 10), 0) << std::hex << (int)o.modrm << " " << (double)a
                                                      << " " << (double)b;
                EXPECT_EQ((fpu_get(h.c)->sw >> 11) & 7, 7u);
            }
    // FSUB ST0,ST1 (D8 E1) = ST0 - ST1; FSQRT; FLDPI
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    load(10.0L);
    load(4.0L);
    ASSERT_FALSE(run({0xd8, 0xe1}).fault);
    EXPECT_EQ(st(0), -6.0L);
    ASSERT_FALSE(run({0xd9, 0xfa}).fault); // fsqrt(-6): invalid, masked -> indefinite
    EXPECT_TRUE(std::isnan(st(0)));
    EXPECT_EQ(fpu_get(h.c)->sw & FSW_IE, FSW_IE);
    load(2.0L);
    ASSERT_FALSE(run({0xd9, 0xfa}).fault);
    EXPECT_EQ(st(0), sqrtl(2.0L));
    ASSERT_FALSE(run({0xd9, 0xeb}).fault);
    F80 pi = f80(st(0));
    EXPECT_EQ(pi.mant, 0xc90fdaa22168c235ull);
    EXPECT_EQ(pi.se, 0x4000);
}

TEST_F(FpuTest, IntegerAndBcdConversions)
{
    // FISTP m32 of +-2.5 under each rounding mode
    const int32_t want_pos[4] = {2, 2, 3, 2}, want_neg[4] = {-2, -3, -2, -2};
    for (int rc = 0; rc < 4; rc++) {
        for (int sign = 0; sign < 2; sign++) {
            ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
            uint16_t cw = (uint16_t)(0x37f | rc << 10);
            memcpy(h.ram + MEM + 0x200, &cw, 2);
            ASSERT_FALSE(run(mem32(0xd9, 5, MEM + 0x200)).fault); // fldcw
            load(sign ? -2.5L : 2.5L);
            ASSERT_FALSE(run(mem32(0xdb, 3, MEM)).fault);          // fistp dword
            EXPECT_EQ((int32_t)h.rd32(MEM), sign ? want_neg[rc] : want_pos[rc]) << rc;
            EXPECT_EQ(fpu_get(h.c)->sw & (FSW_PE | FSW_C1), FSW_PE | (sign ? rc == 1 : rc == 2) * FSW_C1);
            EXPECT_EQ(fpu_get(h.c)->tw, 0xffff);
        }
    }
    // FILD m16 / m64, FBLD / FBSTP
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    h.ram[MEM] = 0x9c;
    h.ram[MEM + 1] = 0xff; // -100
    ASSERT_FALSE(run(mem32(0xdf, 0, MEM)).fault);
    EXPECT_EQ(st(0), -100.0L);
    const uint8_t bcd[10] = {0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0, 0x80};
    memcpy(h.ram + MEM, bcd, 10);
    ASSERT_FALSE(run(mem32(0xdf, 4, MEM)).fault);
    EXPECT_EQ(st(0), -12345678.0L);
    ASSERT_FALSE(run({0xde, 0xc1}).fault); // faddp: -12345778
    memset(h.ram + MEM, 0xaa, 16);
    ASSERT_FALSE(run(mem32(0xdf, 6, MEM)).fault); // fbstp
    const uint8_t want[10] = {0x78, 0x57, 0x34, 0x12, 0, 0, 0, 0, 0, 0x80};
    EXPECT_EQ(memcmp(h.ram + MEM, want, 10), 0) << hex(h.ram + MEM, 10);
    EXPECT_EQ(h.ram[MEM + 10], 0xaa);
    EXPECT_EQ(fpu_get(h.c)->tw, 0xffff);
}

TEST_F(FpuTest, FxamClassesAndFnstswAx)
{
    struct {
        long double v;
        bool empty;
        uint16_t cc; // C3 C2 C1 C0 bits of the status word
    } cases[] = {
        {0.0L, false, FSW_C3},
        {-0.0L, false, FSW_C3 | FSW_C1},
        {1.5L, false, FSW_C2},
        {-1.5L, false, FSW_C2 | FSW_C1},
        {INFINITY, false, FSW_C2 | FSW_C0},
        {NAN, false, FSW_C0},
        {ld({1, 0}), false, FSW_C3 | FSW_C2},
        {0, true, FSW_C3 | FSW_C0},
    };
    for (auto &k : cases) {
        ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
        if (!k.empty) load(k.v);
        ASSERT_FALSE(run({0xd9, 0xe5}).fault); // fxam
        h.c->regs[R_EAX] = 0x12340000;
        ASSERT_FALSE(run({0xdf, 0xe0}).fault); // fnstsw ax
        uint16_t sw = (uint16_t)h.c->regs[R_EAX];
        EXPECT_EQ(h.c->regs[R_EAX] >> 16, 0x1234u);
        EXPECT_EQ(sw & (FSW_C3 | FSW_C2 | FSW_C1 | FSW_C0), k.cc) << (double)k.v;
        EXPECT_EQ((sw >> 11) & 7, k.empty ? 0u : 7u);
    }
}

TEST_F(FpuTest, FcomiSetsEflags)
{
    struct {
        long double st0, st1;
        uint32_t flags;
    } cases[] = {
        {1.0L, 2.0L, FL_CF}, {2.0L, 1.0L, 0}, {3.0L, 3.0L, FL_ZF},
        {NAN, 1.0L, FL_ZF | FL_PF | FL_CF},
    };
    for (auto &k : cases) {
        ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
        load(k.st1);
        load(k.st0);
        h.c->eflags = FL_FIXED1 | FL_OF | FL_SF | FL_AF | FL_DF;
        ASSERT_FALSE(run({0xdb, 0xf1}).fault); // fcomi st0, st1
        EXPECT_EQ(h.c->eflags, FL_FIXED1 | FL_DF | k.flags);
        ASSERT_FALSE(run({0xdf, 0xe9}).fault); // fucomip: pops
        EXPECT_EQ(h.c->eflags, FL_FIXED1 | FL_DF | k.flags);
        EXPECT_EQ((fpu_get(h.c)->sw >> 11) & 7, 7u);
    }
}

// FERR# levels are recorded as writes to a dummy port 0xf0f0
struct Ferr {
    static void cb(void *o, int level) { static_cast<CpuHarness *>(o)->io_writes.push_back({0xf0f0, (uint32_t)level}); }
};

TEST_F(FpuTest, UnmaskedExceptionIsDeferredToNextWaitingInsn)
{
    h.c->bus.ferr = Ferr::cb;
    h.c->cr[0] |= CR0_NE;
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    uint16_t cw = 0x37b; // zero-divide unmasked
    memcpy(h.ram + MEM + 0x200, &cw, 2);
    ASSERT_FALSE(run(mem32(0xd9, 5, MEM + 0x200)).fault);
    load(1.0L);
    load(0.0L);
    FpuState *f = fpu_get(h.c);
    uint8_t regs_before[8][10];
    memcpy(regs_before, f->st, sizeof regs_before);
    uint16_t sw_before = f->sw, tw_before = f->tw;
    ASSERT_FALSE(run({0xde, 0xf9}).fault); // fdivp st1, st0: 1/0
    EXPECT_EQ(memcmp(regs_before, f->st, sizeof regs_before), 0);
    EXPECT_EQ(f->tw, tw_before);
    EXPECT_EQ(f->sw, sw_before | FSW_ZE | FSW_ES | FSW_B); // no pop
    EXPECT_EQ(f->fip, CODE);
    EXPECT_EQ(f->fop, 0x6f9);
    // non-waiting instructions still run; waiting ones raise #MF
    ASSERT_FALSE(run({0xdf, 0xe0}).fault);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, f->sw);
    Res r = run({0xd9, 0xe8}); // fld1
    EXPECT_TRUE(r.fault);
    EXPECT_EQ(r.vector, EXC_MF);
    r = run({0x9b}); // wait
    EXPECT_TRUE(r.fault);
    EXPECT_EQ(r.vector, EXC_MF);
    EXPECT_EQ(f->sw, sw_before | FSW_ZE | FSW_ES | FSW_B);
    EXPECT_TRUE(h.io_writes.empty());

    // CR0.NE=0: FERR# is raised and the instruction waits (EIP stays on it)
    h.c->cr[0] &= ~CR0_NE;
    r = run({0xd9, 0xe8});
    EXPECT_FALSE(r.fault);
    EXPECT_EQ(h.c->eip, CODE);
    ASSERT_EQ(h.io_writes.size(), 1u);
    EXPECT_EQ(h.io_writes[0].second, 1u);
    EXPECT_EQ((f->sw >> 11) & 7, 6u); // did not push
    // IGNNE# lets it through and keeps the error pending
    fpu_set_ignne(h.c, true);
    r = run({0xd9, 0xe8});
    EXPECT_FALSE(r.fault);
    EXPECT_EQ(h.c->eip, CODE + 2);
    EXPECT_EQ((f->sw >> 11) & 7, 5u);
    EXPECT_EQ(f->sw & (FSW_ZE | FSW_ES | FSW_B), FSW_ZE | FSW_ES | FSW_B);
    EXPECT_EQ(st(0), 1.0L);
    fpu_set_ignne(h.c, false);
    // FNCLEX clears it and drops FERR#
    ASSERT_FALSE(run({0xdb, 0xe2}).fault);
    EXPECT_EQ(f->sw & 0x80ff, 0);
    ASSERT_EQ(h.io_writes.size(), 2u);
    EXPECT_EQ(h.io_writes[1].second, 0u);
    EXPECT_FALSE(run({0xd9, 0xe8}).fault);
    EXPECT_FALSE(run({0x9b}).fault);
}

TEST_F(FpuTest, NoFpuAndUndefinedEncodings)
{
    h.c->cr[0] |= CR0_TS;
    EXPECT_EQ(run({0xd9, 0xe8}).vector, EXC_NM);
    EXPECT_EQ(run({0xdb, 0xe3}).vector, EXC_NM);
    EXPECT_FALSE(run({0x9b}).fault); // WAIT: #NM only with MP and TS
    h.c->cr[0] |= CR0_MP;
    EXPECT_EQ(run({0x9b}).vector, EXC_NM);
    h.c->cr[0] &= ~(CR0_TS | CR0_MP);
    h.c->cr[0] |= CR0_EM;
    EXPECT_EQ(run({0xd8, 0xc1}).vector, EXC_NM);
    EXPECT_FALSE(run({0x9b}).fault);
    h.c->cr[0] &= ~CR0_EM;
    // FISTTP (DB/DD/DF /1) exists with SSE3: test_sse.cc
    EXPECT_EQ(run(mem32(0xd9, 1, MEM)).vector, EXC_UD);
    EXPECT_EQ(run({0xd9, 0xd1}).vector, EXC_UD);
    EXPECT_EQ(run({0xdd, 0xf0}).vector, EXC_UD);
    EXPECT_EQ(run({0xdf, 0xe1}).vector, EXC_UD);
    EXPECT_EQ(run({0xde, 0xd8}).vector, EXC_UD);
    EXPECT_FALSE(run({0xdb, 0xe4}).fault); // FSETPM: no-op
    uint32_t out[4];
    cpuid_query(h.c, 1, 0, out);
    EXPECT_EQ(out[3] & 1u, 1u);
}

TEST_F(FpuTest, FaultingOperandLeavesStateUnchanged)
{
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    load(5.0L);
    FpuState before = *fpu_get(h.c);
    h.c->seg[SEG_DS].limit = MEM + 3;
    h.c->seg[SEG_DS].flags &= ~SEGF_G;
    memset(h.ram + MEM, 0x55, 8);
    Res r = run(mem32(0xdd, 3, MEM)); // fstp qword: bytes 4-7 beyond the limit
    EXPECT_EQ(r.vector, EXC_GP);
    EXPECT_EQ(memcmp(&before, fpu_get(h.c), sizeof before), 0);
    EXPECT_EQ(h.ram[MEM], 0x55);
    r = run(mem32(0xdd, 0, MEM)); // fld qword
    EXPECT_EQ(r.vector, EXC_GP);
    EXPECT_EQ(memcmp(&before, fpu_get(h.c), sizeof before), 0);
    r = run(mem32(0xdd, 6, MEM)); // fnsave: 108 bytes
    EXPECT_EQ(r.vector, EXC_GP);
    EXPECT_EQ(memcmp(&before, fpu_get(h.c), sizeof before), 0);
    EXPECT_EQ(h.ram[MEM], 0x55);
}

TEST_F(FpuTest, PowerOnState)
{
    cpu_reset(h.c);
    for (int s = 0; s < SEG_COUNT; s++) seg_load_real(h.c, s, 0);
    ASSERT_FALSE(run({0xd9, 0x36, 0x00, 0x40}).fault); // fnstenv [0x4000] (16-bit)
    uint16_t w[7];
    memcpy(w, h.ram + OUT, 14);
    EXPECT_EQ(w[0], 0x0040);
    EXPECT_EQ(w[1], 0x0000);
    EXPECT_EQ(w[2], 0x5555);
    EXPECT_EQ(w[3], 0);
    // FNSTENV masked all exceptions
    EXPECT_EQ(fpu_get(h.c)->cw, 0x007f);
}

// The pointer fields in each layout, after FADD m32 at a known place.
TEST_F(FpuTest, EnvironmentLayouts)
{
    // 32-bit protected mode
    h.c->seg[SEG_CS].sel = 0x08;
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    ASSERT_FALSE(run({0x64, 0xd8, 0x05, 0x34, 0x12, 0x00, 0x00}).fault); // fadd dword fs:[0x1234]
    EXPECT_EQ(fpu_get(h.c)->sw & FSW_IE, FSW_IE); // stack underflow
    ASSERT_FALSE(run(mem32(0xd9, 6, OUT)).fault);
    uint32_t e[7];
    memcpy(e, h.ram + OUT, 28);
    EXPECT_EQ(e[0], 0xffff037fu); // CW before FNSTENV masked it (all masked anyway)
    EXPECT_EQ(e[1] & 0xffff00ffu, 0xffff0041u); // IE SF (masked: no ES); reserved half
    EXPECT_EQ(e[2], 0xfffffffeu); // R0 = ST0 special (the indefinite), others empty
    EXPECT_EQ(e[3], CODE);
    EXPECT_EQ(e[4], 0x08u | 0x005u << 16);
    EXPECT_EQ(e[5], 0x1234u);
    EXPECT_EQ(e[6], 0xffff0010u);
    // 16-bit protected mode (operand-size prefix)
    ASSERT_FALSE(run({0x66, 0xd9, 0x35, 0x00, 0x40, 0x00, 0x00}).fault);
    uint16_t w[7];
    memcpy(w, h.ram + OUT, 14);
    EXPECT_EQ(w[3], CODE);
    EXPECT_EQ(w[4], 0x08);
    EXPECT_EQ(w[5], 0x1234);
    EXPECT_EQ(w[6], 0x10);
    // FLDENV 32-bit round trip restores the pointers
    uint8_t env[28];
    memcpy(env, e, 28);
    env[0] = 0x7e; // CW 0x037e: invalid unmasked
    memcpy(h.ram + MEM, env, 28);
    ASSERT_FALSE(run({0xdb, 0xe3}).fault);
    ASSERT_FALSE(run(mem32(0xd9, 4, MEM)).fault);
    FpuState *f = fpu_get(h.c);
    EXPECT_EQ(f->fip, CODE);
    EXPECT_EQ(f->fcs, 0x08);
    EXPECT_EQ(f->fop, 0x005);
    EXPECT_EQ(f->fdp, 0x1234u);
    EXPECT_EQ(f->fds, 0x10);
    EXPECT_EQ(f->cw, 0x037e);
    EXPECT_EQ(f->sw & (FSW_ES | FSW_B), FSW_ES | FSW_B); // the loaded IE is now pending
    h.c->cr[0] |= CR0_NE;
    EXPECT_EQ(run({0xd9, 0xe8}).vector, EXC_MF);
}

TEST_F(FpuTest, RealModeLayoutsAndSaveRestore)
{
    CpuHarness r; // real mode, CS base 0x1000, DS base 0x200
    seg_load_real(r.c, SEG_CS, 0x100);
    seg_load_real(r.c, SEG_DS, 0x20);
    auto go = [&](std::vector<uint8_t> b) { return exec(r.c, r.ram, b); };
    ASSERT_FALSE(go({0xdb, 0xe3}).fault);
    ASSERT_FALSE(go({0xd9, 0xe8}).fault);                 // fld1
    ASSERT_FALSE(go({0xdc, 0x06, 0x00, 0x30}).fault);     // fadd qword [0x3000]
    ASSERT_FALSE(go({0xd9, 0x36, 0x00, 0x40}).fault);     // fnstenv (16-bit real)
    uint16_t w[7];
    memcpy(w, r.ram + 0x200 + OUT, 14);
    uint32_t ip = 0x1000 + CODE, dp = 0x200 + 0x3000;
    EXPECT_EQ(w[3], (uint16_t)ip);
    EXPECT_EQ(w[4], (uint16_t)((ip >> 16) << 12 | 0x406)); // FOP = DC 06 -> 4 06
    EXPECT_EQ(w[5], (uint16_t)dp);
    EXPECT_EQ(w[6], (uint16_t)((dp >> 16) << 12));
    ASSERT_FALSE(go({0x66, 0xd9, 0x36, 0x00, 0x40}).fault); // 32-bit real
    uint32_t e[7];
    memcpy(e, r.ram + 0x200 + OUT, 28);
    EXPECT_EQ(e[3], 0xffff0000u | (ip & 0xffff));
    EXPECT_EQ(e[4], (ip >> 16) << 12 | 0x406u);
    EXPECT_EQ(e[5], 0xffff0000u | (dp & 0xffff));
    EXPECT_EQ(e[6], (dp >> 16) << 12);
    // FNSAVE (16-bit real, 94 bytes) reinitialises; FRSTOR brings everything back
    FpuState before = *fpu_get(r.c);
    memset(r.ram + 0x200 + OUT, 0xcc, 200);
    ASSERT_FALSE(go({0xdd, 0x36, 0x00, 0x40}).fault);
    EXPECT_EQ(r.ram[0x200 + OUT + 94], 0xcc);
    long double x;
    memcpy(&x, r.ram + 0x200 + OUT + 14, 10);
    EXPECT_EQ(x, 1.0L); // ST0 = 1 + 0.0, first in the register area
    EXPECT_EQ(fpu_get(r.c)->cw, 0x037f);
    EXPECT_EQ(fpu_get(r.c)->tw, 0xffff);
    EXPECT_EQ(fpu_get(r.c)->fip, 0u);
    ASSERT_FALSE(go({0xdd, 0x26, 0x00, 0x40}).fault); // frstor
    FpuState after = *fpu_get(r.c);
    EXPECT_EQ(memcmp(after.st, before.st, sizeof before.st), 0);
    EXPECT_EQ(after.cw, before.cw);
    EXPECT_EQ(after.sw, before.sw);
    EXPECT_EQ(after.tw, before.tw);
    EXPECT_EQ(after.fip, ip); // linear, selector 0
    EXPECT_EQ(after.fcs, 0);
    EXPECT_EQ(after.fop, 0x406);
    EXPECT_EQ(after.fdp, dp);
}

// An unmasked overflow suppresses a memory store; an unmasked precision exception does not.
TEST_F(FpuTest, UnmaskedStoreExceptions)
{
    h.c->cr[0] |= CR0_NE;
    auto setcw = [&](uint16_t cw) {
        memcpy(h.ram + MEM + 0x200, &cw, 2);
        ASSERT_FALSE(run(mem32(0xd9, 5, MEM + 0x200)).fault);
    };
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    setcw(0x0377); // overflow unmasked
    load(1e4000L);
    FpuState before = *fpu_get(h.c);
    h.wr32(MEM, 0x11223344);
    ASSERT_FALSE(run(mem32(0xd9, 3, MEM)).fault); // fstp dword
    EXPECT_EQ(h.rd32(MEM), 0x11223344u);
    FpuState *f = fpu_get(h.c);
    EXPECT_EQ(memcmp(f->st, before.st, sizeof f->st), 0);
    EXPECT_EQ(f->tw, before.tw); // not popped
    EXPECT_EQ(f->sw & (FSW_OE | FSW_ES | FSW_B), FSW_OE | FSW_ES | FSW_B);
    EXPECT_EQ((f->sw >> 11) & 7, 7u);
    EXPECT_EQ(f->fdp, MEM);
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    setcw(0x035f); // precision unmasked
    load(0.1L);
    ASSERT_FALSE(run(mem32(0xd9, 3, MEM)).fault);
    EXPECT_EQ(h.rd32(MEM), 0x3dcccccdu);
    EXPECT_EQ(f->sw & (FSW_PE | FSW_C1 | FSW_ES), FSW_PE | FSW_C1 | FSW_ES);
    EXPECT_EQ(f->tw, 0xffff); // popped
    EXPECT_EQ(run({0x9b}).vector, EXC_MF);
}

// 16-bit protected-mode FNSAVE (94 bytes) and FRSTOR.
TEST_F(FpuTest, SaveRestore16BitProtectedMode)
{
    ASSERT_FALSE(run({FNINIT[0], FNINIT[1]}).fault);
    load(3.0L);
    load(-7.25L);
    ASSERT_FALSE(run({0x66, 0xd8, 0x05, 0x00, 0x30, 0x00, 0x00}).fault); // fadd dword [MEM]
    FpuState before = *fpu_get(h.c);
    memset(h.ram + OUT, 0xcc, 128);
    ASSERT_FALSE(run({0x66, 0xdd, 0x35, 0x00, 0x40, 0x00, 0x00}).fault);
    EXPECT_EQ(h.ram[OUT + 94], 0xcc);
    uint16_t w[7];
    memcpy(w, h.ram + OUT, 14);
    EXPECT_EQ(w[0], 0x037f);
    EXPECT_EQ(w[1], before.sw);
    EXPECT_EQ(w[2], 0x0fff); // R6, R7 valid
    EXPECT_EQ(w[3], CODE);
    EXPECT_EQ(w[4], 0x08);
    EXPECT_EQ(w[5], (uint16_t)MEM);
    EXPECT_EQ(w[6], 0x10);
    long double st0, st1;
    memcpy(&st0, h.ram + OUT + 14, 10);
    memcpy(&st1, h.ram + OUT + 24, 10);
    EXPECT_EQ(st0, -7.25L); // + 0.0 from memory
    EXPECT_EQ(st1, 3.0L);
    EXPECT_EQ(fpu_get(h.c)->tw, 0xffff);
    ASSERT_FALSE(run({0x66, 0xdd, 0x25, 0x00, 0x40, 0x00, 0x00}).fault);
    FpuState after = *fpu_get(h.c);
    EXPECT_EQ(memcmp(after.st, before.st, sizeof before.st), 0);
    EXPECT_EQ(after.sw, before.sw);
    EXPECT_EQ(after.tw, before.tw);
    EXPECT_EQ(after.fip, CODE);
    EXPECT_EQ(after.fdp, MEM);
    EXPECT_EQ(after.fop, 0u); // the 16-bit protected-mode layout has no opcode
}

} // namespace
