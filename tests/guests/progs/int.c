/*
 * int.c — integer instruction edge cases: the results and the defined EFLAGS of
 * add/adc/sub/sbb/logic/inc/dec/neg, shifts and rotates by 0, 1, 31, 32 (and every
 * count for bytes), shld/shrd, mul/imul/div/idiv, bsf/bsr, the bt family (register and
 * memory bit strings), cmpxchg/cmpxchg8b/xadd, the BCD adjustments, setcc/cmovcc,
 * string instructions, enter/leave. Flags an instruction leaves undefined (Intel SDM)
 * are masked off. Exhaustive byte-operand sweeps print one FNV-1a hash each.
 * CFLAGS: -O2 -march=i686
 */
#include "progs.h"

typedef struct { uint32_t r, f; } RF;

static const uint32_t V[] = {0, 1, 0x7f, 0x80, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678};
#define NV (int)(sizeof V / sizeof V[0])

/* FNV-1a over 32-bit words */
static uint32_t fnv(uint32_t h, uint32_t v)
{
    for (int i = 0; i < 4; i++) h = (h ^ ((v >> (8 * i)) & 0xff)) * 16777619u;
    return h;
}
#define FNV0 2166136261u

/* EFLAGS in: reserved bit 1 plus the given arithmetic flags */
#define FIN(x) (0x2u | (x))

#define DEF2(name, mn)                                                                    \
    static RF name##32(uint32_t a, uint32_t b, uint32_t fi)                               \
    {                                                                                     \
        uint32_t f;                                                                       \
        __asm__ volatile("pushl %3\n\tpopfl\n\t" mn "l %2,%0\n\tpushfl\n\tpopl %1"        \
                         : "+r"(a), "=&r"(f) : "r"(b), "r"(fi) : "cc");                   \
        return (RF){a, f};                                                                \
    }                                                                                     \
    static RF name##16(uint32_t a, uint32_t b, uint32_t fi)                               \
    {                                                                                     \
        uint32_t f;                                                                       \
        __asm__ volatile("pushl %3\n\tpopfl\n\t" mn "w %w2,%w0\n\tpushfl\n\tpopl %1"      \
                         : "+r"(a), "=&r"(f) : "r"(b), "r"(fi) : "cc");                   \
        return (RF){a, f};                                                                \
    }                                                                                     \
    static RF name##8(uint32_t a, uint32_t b, uint32_t fi)                                \
    {                                                                                     \
        uint32_t f;                                                                       \
        __asm__ volatile("pushl %3\n\tpopfl\n\t" mn "b %b2,%b0\n\tpushfl\n\tpopl %1"      \
                         : "+q"(a), "=&r"(f) : "q"(b), "r"(fi) : "cc");                   \
        return (RF){a, f};                                                                \
    }

/* count in CL */
#define DEFSH(name, mn)                                                                   \
    static RF name##32(uint32_t a, uint32_t b, uint32_t fi)                               \
    {                                                                                     \
        uint32_t f;                                                                       \
        __asm__ volatile("pushl %3\n\tpopfl\n\t" mn "l %b2,%0\n\tpushfl\n\tpopl %1"       \
                         : "+r"(a), "=&r"(f) : "c"(b), "r"(fi) : "cc");                   \
        return (RF){a, f};                                                                \
    }                                                                                     \
    static RF name##16(uint32_t a, uint32_t b, uint32_t fi)                               \
    {                                                                                     \
        uint32_t f;                                                                       \
        __asm__ volatile("pushl %3\n\tpopfl\n\t" mn "w %b2,%w0\n\tpushfl\n\tpopl %1"      \
                         : "+r"(a), "=&r"(f) : "c"(b), "r"(fi) : "cc");                   \
        return (RF){a, f};                                                                \
    }                                                                                     \
    static RF name##8(uint32_t a, uint32_t b, uint32_t fi)                                \
    {                                                                                     \
        uint32_t f;                                                                       \
        __asm__ volatile("pushl %3\n\tpopfl\n\t" mn "b %b2,%b0\n\tpushfl\n\tpopl %1"      \
                         : "+q"(a), "=&r"(f) : "c"(b), "r"(fi) : "cc");                   \
        return (RF){a, f};                                                                \
    }

#define DEF1(name, mn)                                                                    \
    static RF name##32(uint32_t a, uint32_t b, uint32_t fi)                               \
    {                                                                                     \
        uint32_t f;                                                                       \
        (void)b;                                                                          \
        __asm__ volatile("pushl %2\n\tpopfl\n\t" mn "l %0\n\tpushfl\n\tpopl %1"           \
                         : "+r"(a), "=&r"(f) : "r"(fi) : "cc");                           \
        return (RF){a, f};                                                                \
    }                                                                                     \
    static RF name##8(uint32_t a, uint32_t b, uint32_t fi)                                \
    {                                                                                     \
        uint32_t f;                                                                       \
        (void)b;                                                                          \
        __asm__ volatile("pushl %2\n\tpopfl\n\t" mn "b %b0\n\tpushfl\n\tpopl %1"          \
                         : "+q"(a), "=&r"(f) : "r"(fi) : "cc");                           \
        return (RF){a, f};                                                                \
    }

DEF2(add, "add") DEF2(adc, "adc") DEF2(sub, "sub") DEF2(sbb, "sbb") DEF2(cmp, "cmp")
DEF2(and, "and") DEF2(or, "or") DEF2(xor, "xor") DEF2(test, "test")
DEFSH(shl, "shl") DEFSH(shr, "shr") DEFSH(sar, "sar") DEFSH(rol, "rol") DEFSH(ror, "ror")
DEFSH(rcl, "rcl") DEFSH(rcr, "rcr")
DEF1(neg, "neg") DEF1(inc, "inc") DEF1(dec, "dec") DEF1(not, "not")

typedef RF (*Fn)(uint32_t, uint32_t, uint32_t);
struct Op {
    const char *name;
    Fn f32, f16, f8;
    uint32_t mask;
    int uses_cf; /* run with CF=0 and CF=1 */
};

static void binops(void)
{
    const struct Op ops[] = {
        {"add", add32, add16, add8, ARITH, 0},   {"adc", adc32, adc16, adc8, ARITH, 1},
        {"sub", sub32, sub16, sub8, ARITH, 0},   {"sbb", sbb32, sbb16, sbb8, ARITH, 1},
        {"cmp", cmp32, cmp16, cmp8, ARITH, 0},   {"and", and32, and16, and8, ARITH & ~AF, 0},
        {"or", or32, or16, or8, ARITH & ~AF, 0}, {"xor", xor32, xor16, xor8, ARITH & ~AF, 0},
        {"test", test32, test16, test8, ARITH & ~AF, 0},
    };
    for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        const struct Op *op = &ops[o];
        for (int c = 0; c <= op->uses_cf; c++) {
            for (int i = 0; i < NV; i++) {
                printf("%s32 c%d %08x:", op->name, c, V[i]);
                for (int j = 0; j < NV; j++) {
                    RF r = op->f32(V[i], V[j], FIN(c ? CF : 0));
                    printf(" %08x/%03x", r.r, r.f & op->mask);
                }
                printf("\n");
            }
            /* exhaustive sweeps of the byte and (sampled) word forms */
            uint32_t h8 = FNV0, h16 = FNV0;
            for (uint32_t a = 0; a < 256; a++)
                for (uint32_t b = 0; b < 256; b++) {
                    /* bits above the operand must be kept */
                    RF r = op->f8(0xa5a5a500u | a, b, FIN(c ? CF : 0));
                    h8 = fnv(fnv(h8, r.r), r.f & op->mask);
                    RF s = op->f16(0x5a5a0000u | (a * 0x101u ^ b << 3), b * 0x8081u,
                                   FIN(c ? CF : 0));
                    h16 = fnv(fnv(h16, s.r), s.f & op->mask);
                }
            printf("%s8 c%d all: %08x  %s16 c%d sweep: %08x\n", op->name, c, h8, op->name, c,
                   h16);
        }
    }
}

static void unops(void)
{
    const struct Op ops[] = {
        {"neg", neg32, 0, neg8, ARITH, 0},
        {"inc", inc32, 0, inc8, ARITH, 1}, /* CF is kept */
        {"dec", dec32, 0, dec8, ARITH, 1},
        {"not", not32, 0, not8, ARITH, 1}, /* no flag changes */
    };
    for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        const struct Op *op = &ops[o];
        for (int c = 0; c <= op->uses_cf; c++) {
            printf("%s32 c%d:", op->name, c);
            for (int i = 0; i < NV; i++) {
                RF r = op->f32(V[i], 0, FIN(c ? ARITH : 0));
                printf(" %08x/%03x", r.r, r.f & op->mask);
            }
            uint32_t h = FNV0;
            for (uint32_t a = 0; a < 256; a++) {
                RF r = op->f8(0x11223300u | a, 0, FIN(c ? ARITH : 0));
                h = fnv(fnv(h, r.r), r.f & op->mask);
            }
            printf("  byte-hash %08x\n", h);
        }
    }
}

/* Flags defined after a shift or rotate by `count` of a `bits`-wide operand. */
static uint32_t shift_mask(const char *name, unsigned count, unsigned bits)
{
    unsigned m = count & 31;
    if (m == 0) return ARITH; /* no change at all */
    if (name[0] == 'r') {     /* rotates: CF, OF for 1; the rest untouched */
        uint32_t mask = (CF | PF | AF | ZF | SF) | (m == 1 ? OF : 0);
        return mask;
    }
    uint32_t mask = (ARITH & ~AF) & ~(m == 1 ? 0 : OF);
    if (m >= bits && name[1] == 'h') mask &= ~CF; /* SHL/SHR by >= width: CF undefined */
    return mask;
}

static void shifts(void)
{
    const struct Op ops[] = {
        {"shl", shl32, shl16, shl8, 0, 1}, {"shr", shr32, shr16, shr8, 0, 1},
        {"sar", sar32, sar16, sar8, 0, 1}, {"rol", rol32, rol16, rol8, 0, 1},
        {"ror", ror32, ror16, ror8, 0, 1}, {"rcl", rcl32, rcl16, rcl8, 0, 1},
        {"rcr", rcr32, rcr16, rcr8, 0, 1},
    };
    static const uint32_t counts[] = {0, 1, 2, 31, 32, 33};
    for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        const struct Op *op = &ops[o];
        for (int c = 0; c <= 1; c++)
            for (unsigned k = 0; k < sizeof counts / sizeof counts[0]; k++) {
                printf("%s32 c%d n%u:", op->name, c, counts[k]);
                uint32_t mask = shift_mask(op->name, counts[k], 32);
                for (int i = 0; i < NV; i++) {
                    /* all other flags set on input, to see which ones are kept */
                    RF r = op->f32(V[i], counts[k], FIN(c ? ARITH : ARITH & ~CF));
                    printf(" %08x/%03x", r.r, r.f & mask);
                }
                printf("\n");
            }
        uint32_t h8 = FNV0, h16 = FNV0;
        for (int c = 0; c <= 1; c++)
            for (uint32_t n = 0; n < 40; n++)
                for (uint32_t a = 0; a < 256; a++) {
                    RF r = op->f8(0xdeadbe00u | a, n, FIN(c ? CF : ARITH & ~CF));
                    h8 = fnv(fnv(h8, r.r), r.f & shift_mask(op->name, n, 8));
                    if (op->name[0] != 'r' || (n & 31) <= 16) {
                        RF s = op->f16(0xbeef0000u | (a * 0x0103u), n, FIN(c ? CF : 0));
                        h16 = fnv(fnv(h16, s.r), s.f & shift_mask(op->name, n, 16));
                    }
                }
        printf("%s8 all: %08x  %s16 sweep: %08x\n", op->name, h8, op->name, h16);
    }
}

static void double_shifts(void)
{
    static const uint32_t counts[] = {0, 1, 4, 31, 32};
    for (unsigned k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        uint32_t n = counts[k], mask = (n & 31) == 0 ? ARITH : (n & 31) == 1 ? ARITH & ~AF : ARITH & ~AF & ~OF;
        printf("shld/shrd n%u:", n);
        for (int i = 0; i < NV; i += 2) {
            uint32_t a = V[i], b = 0x89abcdefu, f, a2 = V[i], f2;
            __asm__ volatile("pushl %4\n\tpopfl\n\tshldl %%cl,%2,%0\n\tpushfl\n\tpopl %1"
                             : "+r"(a), "=&r"(f) : "r"(b), "c"(n), "r"(FIN(ARITH)) : "cc");
            __asm__ volatile("pushl %4\n\tpopfl\n\tshrdl %%cl,%2,%0\n\tpushfl\n\tpopl %1"
                             : "+r"(a2), "=&r"(f2) : "r"(b), "c"(n), "r"(FIN(0)) : "cc");
            printf(" %08x/%03x %08x/%03x", a, f & mask, a2, f2 & mask);
        }
        uint16_t w = 0x8001, w2 = 0x1234;
        uint32_t f3, f4;
        if (n <= 16) {
            __asm__ volatile("pushl %4\n\tpopfl\n\tshldw %%cl,%w2,%w0\n\tpushfl\n\tpopl %1"
                             : "+r"(w), "=&r"(f3) : "r"(0xf00fu), "c"(n), "r"(FIN(0)) : "cc");
            __asm__ volatile("pushl %4\n\tpopfl\n\tshrdw %%cl,%w2,%w0\n\tpushfl\n\tpopl %1"
                             : "+r"(w2), "=&r"(f4) : "r"(0xf00fu), "c"(n), "r"(FIN(0)) : "cc");
            printf("  w %04x/%03x %04x/%03x", w, f3 & mask, w2, f4 & mask);
        }
        printf("\n");
    }
}

static void muldiv(void)
{
    for (int i = 0; i < NV; i++) {
        printf("mul/imul %08x:", V[i]);
        for (int j = 0; j < NV; j++) {
            uint32_t lo = V[i], hi, f, ilo = V[i], ihi, fi2, r2 = V[i], f2;
            __asm__ volatile("pushl %4\n\tpopfl\n\tmull %3\n\tpushfl\n\tpopl %2"
                             : "+a"(lo), "=d"(hi), "=&r"(f) : "r"(V[j]), "r"(FIN(0)) : "cc");
            __asm__ volatile("pushl %4\n\tpopfl\n\timull %3\n\tpushfl\n\tpopl %2"
                             : "+a"(ilo), "=d"(ihi), "=&r"(fi2) : "r"(V[j]), "r"(FIN(0)) : "cc");
            __asm__ volatile("pushl %3\n\tpopfl\n\timull %2,%0\n\tpushfl\n\tpopl %1"
                             : "+r"(r2), "=&r"(f2) : "r"(V[j]), "r"(FIN(0)) : "cc");
            printf(" %08x%08x/%x %08x%08x/%x %08x/%x", hi, lo, f & (CF | OF), ihi, ilo,
                   fi2 & (CF | OF), r2, f2 & (CF | OF));
        }
        printf("\n");
    }
    /* imul r, r/m, imm8 / imm32 and the byte forms (AX = AL * r/m8) */
    for (int i = 0; i < NV; i++) {
        uint32_t a = V[i], r1, r2, f1, f2;
        __asm__ volatile("pushl %3\n\tpopfl\n\timull $-3,%2,%0\n\tpushfl\n\tpopl %1"
                         : "=r"(r1), "=&r"(f1) : "r"(a), "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\timull $0x10001,%2,%0\n\tpushfl\n\tpopl %1"
                         : "=r"(r2), "=&r"(f2) : "r"(a), "r"(FIN(0)) : "cc");
        uint32_t ax = 0xffff0000u | (a & 0xff), fb, ax2 = ax, fb2;
        __asm__ volatile("pushl %3\n\tpopfl\n\tmulb %b2\n\tpushfl\n\tpopl %1"
                         : "+a"(ax), "=&r"(fb) : "q"(0x81u), "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\timulb %b2\n\tpushfl\n\tpopl %1"
                         : "+a"(ax2), "=&r"(fb2) : "q"(0x81u), "r"(FIN(0)) : "cc");
        printf("imul3 %08x: %08x/%x %08x/%x  mulb %08x/%x imulb %08x/%x\n", a, r1,
               f1 & (CF | OF), r2, f2 & (CF | OF), ax, fb & (CF | OF), ax2, fb2 & (CF | OF));
    }
    /* div/idiv: quotient rounding toward zero, remainder sign, the largest quotients */
    static const struct { uint32_t hi, lo, d; } dv[] = {
        {0, 7, 2}, {0, 0xffffffff, 1}, {0xfffffffe, 0xffffffff, 0xffffffff},
        {0x12345678, 0x9abcdef0, 0x87654321}, {0, 100, 7}, {0, 0x80000000, 3},
    };
    for (unsigned i = 0; i < sizeof dv / sizeof dv[0]; i++) {
        uint32_t q = dv[i].lo, r = dv[i].hi;
        __asm__ volatile("divl %2" : "+a"(q), "+d"(r) : "r"(dv[i].d) : "cc");
        printf("div %08x%08x/%08x = %08x r %08x\n", dv[i].hi, dv[i].lo, dv[i].d, q, r);
    }
    static const struct { int32_t n, d; } idv[] = {
        {7, 2}, {-7, 2}, {7, -2}, {-7, -2}, {0x7fffffff, -1}, {-0x7fffffff - 1, 1},
        {-0x7fffffff - 1, 0x7fffffff}, {-1, 0x7fffffff},
    };
    for (unsigned i = 0; i < sizeof idv / sizeof idv[0]; i++) {
        int32_t q = idv[i].n, r;
        __asm__ volatile("cltd\n\tidivl %2" : "+a"(q), "=&d"(r) : "r"(idv[i].d) : "cc");
        uint32_t ax = (uint16_t)(int16_t)idv[i].n, bq;
        /* idivb: AX / r/m8 */
        int8_t d8 = (int8_t)(idv[i].d | 1);
        if ((int16_t)ax / d8 >= -128 && (int16_t)ax / d8 <= 127) {
            bq = ax;
            __asm__ volatile("idivb %b1" : "+a"(bq) : "q"(d8) : "cc");
        } else {
            bq = 0xdead;
        }
        printf("idiv %d/%d = %d r %d  idivb %04x/%d -> %04x\n", idv[i].n, idv[i].d, q, r, ax,
               d8, bq & 0xffff);
    }
}

static void bitscan(void)
{
    static const uint32_t vals[] = {0, 1, 0x80000000, 0x00f00000, 0xffffffff, 0x10};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint32_t f1, f2, f3, f4;
        uint32_t r1 = 0x55, r2 = 0x66; /* kept when the source is zero (de-facto) */
        uint16_t w1 = 0x77, w2 = 0x88;
        __asm__ volatile("pushl %3\n\tpopfl\n\tbsfl %2,%0\n\tpushfl\n\tpopl %1"
                         : "+r"(r1), "=&r"(f1) : "r"(vals[i]), "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbsrl %2,%0\n\tpushfl\n\tpopl %1"
                         : "+r"(r2), "=&r"(f2) : "r"(vals[i]), "r"(FIN(ZF)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbsfw %w2,%w0\n\tpushfl\n\tpopl %1"
                         : "+r"(w1), "=&r"(f3) : "r"(vals[i] >> 4), "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbsrw %w2,%w0\n\tpushfl\n\tpopl %1"
                         : "+r"(w2), "=&r"(f4) : "r"(vals[i] >> 4), "r"(FIN(0)) : "cc");
        printf("bsf/bsr %08x: %x/%x %x/%x  w %x/%x %x/%x\n", vals[i], r1, f1 & ZF, r2, f2 & ZF,
               w1, f3 & ZF, w2, f4 & ZF);
    }
    /* bt/bts/btr/btc with a register (offset mod 32) and with a memory bit string
     * (the register offset is signed and reaches other dwords) */
    static const int32_t offs[] = {0, 5, 31, 32, 33, 63, -1, -33, 100};
    for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint32_t mem[9] = {0x01234567, 0x89abcdef, 0xdeadbeef, 0x0f0f0f0f, 0xf0f0f0f0,
                           0xcafebabe, 0x13579bdf, 0x2468ace0, 0xffff0000};
        uint32_t reg = 0x80000001u, f[8];
        int32_t o = offs[i];
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtl %2,%0\n\tpushfl\n\tpopl %1"
                         : "+r"(reg), "=&r"(f[0]) : "r"(o), "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtsl %2,%0\n\tpushfl\n\tpopl %1"
                         : "+r"(reg), "=&r"(f[1]) : "r"(o + 1), "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtrl %2,%0\n\tpushfl\n\tpopl %1"
                         : "+r"(reg), "=&r"(f[2]) : "r"(o), "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtcl %2,%0\n\tpushfl\n\tpopl %1"
                         : "+r"(reg), "=&r"(f[3]) : "r"(o + 2), "r"(FIN(0)) : "cc");
        uint32_t *mid = &mem[4];
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtl %2,(%1)\n\tpushfl\n\tpopl %0"
                         : "=&r"(f[4]) : "r"(mid), "r"(o), "r"(FIN(0)) : "cc", "memory");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtsl %2,(%1)\n\tpushfl\n\tpopl %0"
                         : "=&r"(f[5]) : "r"(mid), "r"(o + 3), "r"(FIN(0)) : "cc", "memory");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtrl %2,(%1)\n\tpushfl\n\tpopl %0"
                         : "=&r"(f[6]) : "r"(mid), "r"(o), "r"(FIN(0)) : "cc", "memory");
        __asm__ volatile("pushl %3\n\tpopfl\n\tbtcw %w2,(%1)\n\tpushfl\n\tpopl %0"
                         : "=&r"(f[7]) : "r"(mid), "r"(o - 7), "r"(FIN(0)) : "cc", "memory");
        printf("bt %d: reg %08x cf", o, reg);
        for (int k = 0; k < 8; k++) printf("%u", f[k] & CF);
        printf(" mem");
        for (int k = 0; k < 9; k++) printf(" %08x", mem[k]);
        printf("\n");
    }
    /* immediate forms (offset mod operand size) */
    uint32_t r = 0x12345678, f1, f2;
    uint32_t m = 0x12345678;
    __asm__ volatile("pushl %3\n\tpopfl\n\tbtsl $35,%0\n\tpushfl\n\tpopl %1"
                     : "+r"(r), "=&r"(f1) : "r"(0), "r"(FIN(0)) : "cc");
    __asm__ volatile("pushl %3\n\tpopfl\n\tbtcw $20,%0\n\tpushfl\n\tpopl %1"
                     : "+m"(m), "=&r"(f2) : "r"(0), "r"(FIN(0)) : "cc");
    printf("bt imm: %08x/%x %08x/%x\n", r, f1 & CF, m, f2 & CF);
}

static void atomics(void)
{
    for (int i = 0; i < NV; i += 1) {
        uint32_t mem = 0x12345678, eax = V[i], f;
        __asm__ volatile("pushl %4\n\tpopfl\n\tlock cmpxchgl %3,%1\n\tpushfl\n\tpopl %2"
                         : "+a"(eax), "+m"(mem), "=&r"(f) : "r"(0xabcdef01u), "r"(FIN(0))
                         : "cc");
        uint32_t mem2 = V[i], eax2 = V[i], f2;
        __asm__ volatile("pushl %4\n\tpopfl\n\tcmpxchgl %3,%1\n\tpushfl\n\tpopl %2"
                         : "+a"(eax2), "+m"(mem2), "=&r"(f2) : "r"(0xabcdef01u), "r"(FIN(0))
                         : "cc");
        uint32_t mem3 = V[i], src = 0x80000001u, f3;
        __asm__ volatile("pushl %3\n\tpopfl\n\tlock xaddl %0,%1\n\tpushfl\n\tpopl %2"
                         : "+r"(src), "+m"(mem3), "=&r"(f3) : "r"(FIN(0)) : "cc");
        uint8_t b = (uint8_t)V[i], al = 0x7f;
        uint32_t f4;
        __asm__ volatile("pushl %4\n\tpopfl\n\tcmpxchgb %b3,%1\n\tpushfl\n\tpopl %2"
                         : "+a"(al), "+m"(b), "=&r"(f4) : "q"(0x11u), "r"(FIN(0)) : "cc");
        printf("cmpxchg %08x: %08x %08x/%03x | %08x %08x/%03x | xadd %08x %08x/%03x | b %02x %02x/%03x\n",
               V[i], eax, mem, f & ARITH, eax2, mem2, f2 & ARITH, src, mem3, f3 & ARITH, al, b,
               f4 & ARITH);
    }
    for (int k = 0; k < 2; k++) {
        uint64_t mem = 0x0123456789abcdefull;
        uint32_t lo = k ? 0x89abcdef : 1, hi = 0x01234567, f;
        __asm__ volatile("pushl %5\n\tpopfl\n\txchgl %%ebx,%%esi\n\tlock cmpxchg8b %2\n\t"
                         "xchgl %%ebx,%%esi\n\tpushfl\n\tpopl %3"
                         : "+a"(lo), "+d"(hi), "+m"(mem), "=&r"(f)
                         : "S"(0xfeedfaceu), "r"(FIN(0)), "c"(0xcafef00du)
                         : "cc");
        printf("cmpxchg8b %d: %08x%08x %016llx zf%u\n", k, hi, lo, (unsigned long long)mem,
               (f & ZF) ? 1 : 0);
    }
}

static void bcd(void)
{
    /* DAA/DAS: OF undefined. AAA/AAS: only AF/CF defined. AAM/AAD: SF/ZF/PF. */
    const char *names[] = {"daa", "das", "aaa", "aas"};
    for (int n = 0; n < 4; n++) {
        uint32_t h = FNV0;
        int shown = 0;
        for (int fl = 0; fl < 4; fl++)
            for (uint32_t al = 0; al < 256; al++) {
                uint32_t fi = FIN((fl & 1 ? CF : 0) | (fl & 2 ? AF : 0));
                /* AAA/AAS on AL >= 0xFA or < 6: CPU generations disagree (AL vs AX
                 * arithmetic), so those are left out */
                if (n == 2 && al >= 0xfa) continue;
                if (n == 3 && al < 6) continue;
                uint32_t ax = 0x1200u | al, f;
                switch (n) {
                case 0: __asm__ volatile("pushl %2\n\tpopfl\n\tdaa\n\tpushfl\n\tpopl %1" : "+a"(ax), "=&r"(f) : "r"(fi) : "cc"); break;
                case 1: __asm__ volatile("pushl %2\n\tpopfl\n\tdas\n\tpushfl\n\tpopl %1" : "+a"(ax), "=&r"(f) : "r"(fi) : "cc"); break;
                case 2: __asm__ volatile("pushl %2\n\tpopfl\n\taaa\n\tpushfl\n\tpopl %1" : "+a"(ax), "=&r"(f) : "r"(fi) : "cc"); break;
                default: __asm__ volatile("pushl %2\n\tpopfl\n\taas\n\tpushfl\n\tpopl %1" : "+a"(ax), "=&r"(f) : "r"(fi) : "cc"); break;
                }
                uint32_t mask = n < 2 ? ARITH & ~OF : AF | CF;
                h = fnv(fnv(h, ax), f & mask);
                if ((al == 0x9a || al == 0x0f || al == 0x99 || al == 0x60) && shown++ < 16)
                    printf("%s al=%02x cf%d af%d -> %04x/%03x\n", names[n], al, fl & 1, fl >> 1,
                           ax & 0xffff, f & mask);
            }
        printf("%s all: %08x\n", names[n], h);
    }
    uint32_t h1 = FNV0, h2 = FNV0;
    for (uint32_t al = 0; al < 256; al++) {
        uint32_t ax = 0x3300u | al, f, ax2 = (al * 7) << 8 | al, f2;
        __asm__ volatile("pushl %2\n\tpopfl\n\taam\n\tpushfl\n\tpopl %1" : "+a"(ax), "=&r"(f) : "r"(FIN(0)) : "cc");
        __asm__ volatile("pushl %2\n\tpopfl\n\taad $7\n\tpushfl\n\tpopl %1" : "+a"(ax2), "=&r"(f2) : "r"(FIN(0)) : "cc");
        h1 = fnv(fnv(h1, ax), f & (SF | ZF | PF));
        h2 = fnv(fnv(h2, ax2), f2 & (SF | ZF | PF));
    }
    uint32_t ax = 0x00ff, f;
    __asm__ volatile("pushl %2\n\tpopfl\n\taam $16\n\tpushfl\n\tpopl %1" : "+a"(ax), "=&r"(f) : "r"(FIN(0)) : "cc");
    printf("aam all: %08x aad7 all: %08x aam16(ff): %04x/%03x\n", h1, h2, ax, f & (SF | ZF | PF));
}

static void conditions(void)
{
    /* setcc and cmovcc for all 16 conditions over all 64 combinations of OF SF ZF PF CF
     * (and AF), packed as bits */
    static const uint32_t fl[] = {0, CF, ZF, SF, OF, PF, SF | OF, ZF | CF, ARITH, SF | ZF};
    for (unsigned i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        uint32_t bits = 0, cm = 0;
#define SC(cc, n)                                                                         \
        do {                                                                              \
            uint8_t r;                                                                    \
            uint32_t d = 0;                                                               \
            __asm__ volatile("pushl %2\n\tpopfl\n\tset" cc " %0\n\tcmov" cc "l %3,%1"      \
                             : "=q"(r), "+r"(d) : "r"(FIN(fl[i])), "r"(1u) : "cc");       \
            bits |= (uint32_t)r << n;                                                     \
            cm |= d << n;                                                                 \
        } while (0)
        SC("o", 0); SC("no", 1); SC("b", 2); SC("ae", 3); SC("e", 4); SC("ne", 5);
        SC("be", 6); SC("a", 7); SC("s", 8); SC("ns", 9); SC("p", 10); SC("np", 11);
        SC("l", 12); SC("ge", 13); SC("le", 14); SC("g", 15);
        uint32_t ah;
        __asm__ volatile("pushl %1\n\tpopfl\n\tlahf\n\tmovzbl %%ah,%0" : "=r"(ah) : "r"(FIN(fl[i])) : "eax", "cc");
        printf("cond %03x: set %04x cmov %04x lahf %02x\n", fl[i], bits, cm, ah);
    }
    uint32_t f;
    __asm__ volatile("pushl %1\n\tpopfl\n\tmovb $0xd5,%%ah\n\tsahf\n\tpushfl\n\tpopl %0" : "=r"(f) : "r"(FIN(OF)) : "eax", "cc");
    printf("sahf: %03x\n", f & ARITH);
}

static void strings(void)
{
    char buf[64];
    for (int i = 0; i < 64; i++) buf[i] = (char)('A' + i % 26);
    /* overlapping forward and backward moves */
    char *s = buf, *d = buf + 3;
    uint32_t n = 10;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
    s = buf + 20;
    d = buf + 18;
    n = 3;
    __asm__ volatile("cld\n\trep movsw" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
    printf("movs: %.40s\n", buf);
    /* repe cmpsb stops at the first difference; repne scasb finds a byte */
    const char *a = "abcdefgh", *b = "abcdXfgh";
    const char *pa = a, *pb = b;
    uint32_t cnt = 8, f;
    __asm__ volatile("cld\n\trepe cmpsb\n\tpushfl\n\tpopl %3"
                     : "+S"(pa), "+D"(pb), "+c"(cnt), "=r"(f) : : "cc", "memory");
    printf("repe cmpsb: left %u at %d flags %03x\n", cnt, (int)(pa - a), f & ARITH);
    const char *ps = a;
    cnt = 100;
    __asm__ volatile("cld\n\trepne scasb\n\tpushfl\n\tpopl %2"
                     : "+D"(ps), "+c"(cnt), "=r"(f) : "a"('f') : "cc", "memory");
    printf("repne scasb: left %u at %d flags %03x\n", cnt, (int)(ps - a), f & ARITH);
    uint32_t words[4] = {0};
    uint32_t *pw = words;
    cnt = 3;
    __asm__ volatile("cld\n\trep stosl" : "+D"(pw), "+c"(cnt) : "a"(0x5a5a1234u) : "memory");
    uint32_t lv;
    const uint32_t *pl = words + 2;
    __asm__ volatile("std\n\tlodsl\n\tlodsl\n\tcld" : "=a"(lv), "+S"(pl) : : "memory");
    printf("stos/lods: %08x %08x %08x %08x last %08x at %d\n", words[0], words[1], words[2],
           words[3], lv, (int)(pl - words));
    /* rep with ECX=0 does nothing and keeps the flags */
    cnt = 0;
    pa = a;
    pb = b;
    __asm__ volatile("pushl %4\n\tpopfl\n\trepe cmpsb\n\tpushfl\n\tpopl %3"
                     : "+S"(pa), "+D"(pb), "+c"(cnt), "=&r"(f) : "r"(FIN(ARITH)) : "cc", "memory");
    printf("rep ecx=0: %d flags %03x\n", (int)(pa - a), f & ARITH);
}

static uint32_t enter_leave(void)
{
    /* ENTER with nesting level 3 copies two frame pointers and pushes the new one */
    uint32_t depth, r;
    __asm__ volatile("pushl %%ebp\n\t"
                     "movl %%esp,%%ebp\n\t"
                     "movl %%esp,%%edx\n\t"
                     "enter $12,$3\n\t"
                     "movl %%edx,%%eax\n\t"
                     "subl %%esp,%%eax\n\t"
                     "movl -12(%%ebp),%%ecx\n\t"
                     "subl %%ebp,%%ecx\n\t"
                     "leave\n\t"
                     "popl %%ebp"
                     : "=a"(depth), "=c"(r) : : "edx", "memory");
    printf("enter $12,$3: frame %u bytes, pushed frame pointer - ebp = %d\n", depth, (int)r);
    return depth;
}

static void misc(void)
{
    uint32_t x = 0x12345678;
    __asm__ volatile("bswap %0" : "+r"(x));
    int32_t sx, zx, cw, cd_hi;
    __asm__ volatile("movsbl %1,%0" : "=r"(sx) : "q"((uint8_t)0x80));
    __asm__ volatile("movzwl %w1,%0" : "=r"(zx) : "r"(0xffff8000u));
    uint32_t ax = 0x1234ff80;
    __asm__ volatile("cbtw\n\tcwtl" : "+a"(ax));
    cw = (int32_t)ax;
    uint32_t lo = 0x80000000u, hi;
    __asm__ volatile("cltd" : "+a"(lo), "=d"(hi));
    cd_hi = (int32_t)hi;
    uint16_t dxax_lo = 0x8000, dxax_hi = 0;
    __asm__ volatile("cwtd" : "+a"(dxax_lo), "+d"(dxax_hi));
    uint32_t l;
    __asm__ volatile("leal -8(%1,%2,8),%0" : "=r"(l) : "r"(0xfffffff0u), "r"(0x20000002u));
    uint16_t l16;
    __asm__ volatile("leaw 0x7fff(%1),%0" : "=r"(l16) : "r"(0x12348002u));
    printf("bswap %08x movsb %08x movzw %08x cbw/cwde %08x cdq %08x cwd %04x lea %08x lea16 %04x\n",
           x, sx, zx, cw, cd_hi, dxax_hi, l, l16);
    /* loop/jecxz */
    uint32_t c = 5, iters = 0;
    __asm__ volatile("1: incl %1\n\tloop 1b" : "+c"(c), "+r"(iters));
    uint32_t z = 0, taken;
    __asm__ volatile("movl $1,%0\n\tjecxz 1f\n\tmovl $0,%0\n1:" : "=&r"(taken) : "c"(z));
    printf("loop %u jecxz %u\n", iters, taken);
    enter_leave();
}

int main(void)
{
    progs_init();
    binops();
    unops();
    shifts();
    double_shifts();
    muldiv();
    bitscan();
    atomics();
    bcd();
    conditions();
    strings();
    misc();
    printf("int done\n");
    return 0;
}
