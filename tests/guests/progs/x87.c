/*
 * x87.c — x87 FPU edge cases: arithmetic under every precision control and rounding
 * mode, transcendental instructions, fprem/fprem1 partial remainders, denormals,
 * NaNs (propagation, quieting, the indefinite), infinities, overflow/underflow,
 * compares and fxam classes, integer and BCD stores with overflow, stack overflow and
 * underflow, environment save/restore and an unmasked exception delivered as SIGFPE.
 * Results are printed as 80-bit hex with the status word; condition codes an
 * instruction leaves undefined are masked off.
 * CFLAGS: -O2 -march=i686
 */
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>

#include "progs.h"

typedef struct __attribute__((packed)) {
    uint64_t m;
    uint16_t se;
} F80;

static F80 mk(uint16_t se, uint64_t m) { return (F80){m, se}; }

static struct {
    F80 a, b, r, r2;
    uint16_t cw, sw;
} X;

static void pr(const char *what, const F80 *v) { printf(" %s%04x_%016llx", what, v->se, (unsigned long long)v->m); }

/* st0 = a, st1 = b, then INSN; r = st0 (popped), r2 = the next one */
#define RUN2(insn)                                                                        \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn "\n\t"    \
                     "fnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]\n\tfninit"                \
                     : [r] "=m"(X.r), [r2] "=m"(X.r2), [sw] "=m"(X.sw)                    \
                     : [a] "m"(X.a), [b] "m"(X.b), [cw] "m"(X.cw) : "memory")

/* Masks of the status word: exceptions, SF, ES, C1 and TOP are defined everywhere;
 * C0/C2/C3 only for compares, fprem, fxam and the like. */
#define SW_ARITH 0x3bffu
#define SW_ALL 0xffffu

static const F80 *vals(int i)
{
    static F80 v[16];
    v[0] = mk(0x3fff, 0x8000000000000000ull);  /* 1 */
    v[1] = mk(0x4000, 0xc000000000000000ull);  /* 3 */
    v[2] = mk(0xbfff, 0xaaaaaaaaaaaaaaabull);  /* -1.333... */
    v[3] = mk(0x3fff, 0x8000000000000001ull);  /* 1 + 2^-63 */
    v[4] = mk(0x7ffe, 0xffffffffffffffffull);  /* largest */
    v[5] = mk(0x0001, 0x8000000000000000ull);  /* smallest normal */
    v[6] = mk(0x0000, 0x0000000000000123ull);  /* denormal */
    v[7] = mk(0x7fff, 0x8000000000000000ull);  /* +inf */
    v[8] = mk(0xffff, 0x8000000000000000ull);  /* -inf */
    v[9] = mk(0x7fff, 0xc000000000000001ull);  /* QNaN */
    v[10] = mk(0xffff, 0xa000000000000000ull); /* SNaN, negative */
    v[11] = mk(0x0000, 0);                     /* +0 */
    v[12] = mk(0x8000, 0);                     /* -0 */
    v[13] = mk(0x403e, 0xfffffffffffffc00ull); /* 2^63 - 1024 */
    v[14] = mk(0x4000, 0xc90fdaa22168c235ull); /* pi (rounded up) */
    v[15] = mk(0x3ffe, 0x8000000000000000ull); /* 0.5 */
    return &v[i];
}
#define NVALS 16

static void arith(void)
{
    static const uint16_t pcs[] = {0x0000, 0x0200, 0x0300};
    static const int pairs[][2] = {{0, 1}, {2, 1}, {3, 1}, {4, 4}, {5, 4}, {6, 15}, {13, 2}};
    for (int p = 0; p < 3; p++)
        for (int rc = 0; rc < 4; rc++) {
            X.cw = 0x037f & ~0x0300;
            X.cw |= pcs[p] | rc << 10;
            for (unsigned k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
                X.a = *vals(pairs[k][0]);
                X.b = *vals(pairs[k][1]);
                printf("cw%04x %d,%d:", X.cw, pairs[k][0], pairs[k][1]);
                RUN2("fdiv %%st(1),%%st");
                pr("div=", &X.r); printf("/%04x", X.sw & SW_ARITH);
                RUN2("fmul %%st(1),%%st");
                pr("mul=", &X.r); printf("/%04x", X.sw & SW_ARITH);
                RUN2("fadd %%st(1),%%st");
                pr("add=", &X.r); printf("/%04x", X.sw & SW_ARITH);
                RUN2("fsubr %%st(1),%%st");
                pr("subr=", &X.r); printf("/%04x", X.sw & SW_ARITH);
                RUN2("fsqrt");
                pr("sqrt=", &X.r); printf("/%04x", X.sw & SW_ARITH);
                printf("\n");
            }
        }
}

static void specials(void)
{
    /* every pair of special values through add, mul, div (default control word) */
    X.cw = 0x037f;
    uint32_t h = 2166136261u;
    for (int i = 0; i < NVALS; i++) {
        printf("sp %2d:", i);
        for (int j = 0; j < NVALS; j++) {
            X.a = *vals(i);
            X.b = *vals(j);
            RUN2("faddp");
            uint32_t a = (uint32_t)X.r.m ^ (uint32_t)(X.r.m >> 32) ^ X.r.se << 7;
            RUN2("fmulp");
            uint32_t m = (uint32_t)X.r.m ^ (uint32_t)(X.r.m >> 32) ^ X.r.se << 7;
            uint16_t sw = X.sw;
            RUN2("fdivrp");
            printf(" %08x/%08x/%04x", a ^ m, (uint32_t)X.r.m ^ X.r.se, (X.sw | sw << 8) & 0x3f3f);
            h = (h ^ X.r.se) * 16777619u;
        }
        printf("\n");
    }
    /* NaN propagation in detail */
    static const int np[][2] = {{9, 10}, {10, 9}, {10, 1}, {9, 7}, {11, 11}, {7, 8}};
    for (unsigned k = 0; k < sizeof np / sizeof np[0]; k++) {
        X.a = *vals(np[k][0]);
        X.b = *vals(np[k][1]);
        printf("nan %d,%d:", np[k][0], np[k][1]);
        RUN2("fadd %%st(1),%%st");
        pr("add=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        RUN2("fdiv %%st(1),%%st");
        pr("div=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        printf("\n");
    }
}

static void transcendental(void)
{
    static const int in[] = {0, 2, 6, 7, 9, 11, 13, 14, 15};
    X.cw = 0x037f;
    for (unsigned k = 0; k < sizeof in / sizeof in[0]; k++) {
        X.a = *vals(in[k]);
        X.b = *vals(1);
        printf("tr %d:", in[k]);
        RUN2("fsin");       pr("sin=", &X.r);  printf("/%04x", X.sw & (SW_ARITH | C2));
        RUN2("fcos");       pr("cos=", &X.r);  printf("/%04x", X.sw & (SW_ARITH | C2));
        RUN2("fptan");      pr("tan=", &X.r2); printf("/%04x", X.sw & (SW_ARITH | C2));
        RUN2("fsincos");    pr("sc=", &X.r);   pr("", &X.r2); printf("/%04x", X.sw & (SW_ARITH | C2));
        printf("\n  ");
        RUN2("fpatan");     pr("atan=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        RUN2("f2xm1");      pr("2xm1=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        RUN2("fyl2x");      pr("yl2x=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        RUN2("fyl2xp1");    pr("yl2xp1=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        printf("\n  ");
        RUN2("fscale");     pr("scale=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        RUN2("fxtract");    pr("xtr=", &X.r); pr("", &X.r2); printf("/%04x", X.sw & SW_ARITH);
        RUN2("frndint");    pr("rnd=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        RUN2("fchs\n\tfabs"); pr("abs=", &X.r); printf("/%04x", X.sw & SW_ARITH);
        printf("\n");
    }
    /* huge arguments: C2 set, operand unchanged */
    X.a = mk(0x403f, 0x8000000000000000ull); /* 2^64 */
    RUN2("fsin");
    pr("sin(2^64)=", &X.r); printf("/%04x\n", X.sw & (SW_ARITH | C2));
    /* fprem/fprem1: quotient bits in C0 C3 C1, C2 = incomplete */
    static const int pr_pairs[][2] = {{13, 1}, {13, 14}, {1, 14}, {2, 15}, {4, 5}, {7, 1}, {1, 11}};
    for (unsigned k = 0; k < sizeof pr_pairs / sizeof pr_pairs[0]; k++) {
        X.a = *vals(pr_pairs[k][0]);
        X.b = *vals(pr_pairs[k][1]);
        if (pr_pairs[k][1] == 1) X.b = mk(0x4000, 0xe000000000000000ull); /* 3.5 */
        printf("fprem %d,%d:", pr_pairs[k][0], pr_pairs[k][1]);
        RUN2("fprem");  pr("", &X.r); printf("/%04x", X.sw & SW_ALL & ~0x3800);
        RUN2("fprem1"); pr("", &X.r); printf("/%04x", X.sw & SW_ALL & ~0x3800);
        printf("\n");
    }
    /* the constants under each rounding mode */
    for (int rc = 0; rc < 4; rc++) {
        X.cw = 0x037f | rc << 10;
        printf("const rc%d:", rc);
        RUN2("fldpi");  pr("", &X.r);
        RUN2("fldl2e"); pr("", &X.r);
        RUN2("fldl2t"); pr("", &X.r);
        RUN2("fldlg2"); pr("", &X.r);
        RUN2("fldln2"); pr("", &X.r);
        printf("\n");
    }
}

static void compares(void)
{
    X.cw = 0x037f;
    static const int cv[] = {0, 1, 6, 7, 8, 9, 10, 11, 12};
    for (unsigned i = 0; i < sizeof cv / sizeof cv[0]; i++) {
        printf("cmp %2d:", cv[i]);
        for (unsigned j = 0; j < sizeof cv / sizeof cv[0]; j++) {
            X.a = *vals(cv[i]);
            X.b = *vals(cv[j]);
            RUN2("fcom %%st(1)");
            uint16_t s1 = X.sw;
            RUN2("fucom %%st(1)");
            uint16_t s2 = X.sw;
            uint32_t ef;
            __asm__ volatile("fninit\n\tfldt %2\n\tfldt %1\n\tfucomi %%st(1),%%st\n\tpushfl\n\tpopl %0\n\tfninit"
                             : "=r"(ef) : "m"(X.b), "m"(X.a) : "cc", "memory");
            uint32_t ef2;
            __asm__ volatile("fninit\n\tfldt %2\n\tfldt %1\n\tfcomi %%st(1),%%st\n\tpushfl\n\tpopl %0\n\tfninit"
                             : "=r"(ef2) : "m"(X.b), "m"(X.a) : "cc", "memory");
            printf(" %04x,%04x,%x,%x", s1 & 0x4701, s2 & 0x4701, ef & (ZF | PF | CF), ef2 & (ZF | PF | CF));
        }
        printf("\n");
    }
    /* fxam of every class, ftst */
    printf("fxam:");
    for (int i = 0; i < NVALS; i++) {
        X.a = *vals(i);
        RUN2("fxam");
        uint16_t s1 = X.sw;
        RUN2("ftst");
        printf(" %04x/%04x", s1 & 0x4700, X.sw & 0x4701);
    }
    X.a = mk(0x4000, 0x4000000000000000ull); /* unnormal: unsupported */
    RUN2("fxam");
    uint16_t sw_un = X.sw;
    uint16_t sw_empty;
    __asm__ volatile("fninit\n\tfxam\n\tfnstsw %0" : "=m"(sw_empty));
    printf(" unnormal %04x empty %04x\n", sw_un & 0x4700, sw_empty & 0x4700);
}

static void conversions(void)
{
    static const double dv[] = {32767.5, -32768.5, 2147483647.5, -2147483648.5, 1e10, -1e19,
                                9.2233720368547758e18, 2.5, -2.5, 0.0 / 0.0, 1.0 / 0.0};
    for (int rc = 0; rc < 4; rc++) {
        uint16_t cw = 0x037f | rc << 10;
        for (unsigned i = 0; i < sizeof dv / sizeof dv[0]; i++) {
            int16_t w;
            int32_t d;
            int64_t q;
            uint16_t s1, s2, s3;
            __asm__ volatile("fninit\n\tfldcw %4\n\tfldl %5\n\tfistps %0\n\tfnstsw %1"
                             : "=m"(w), "=m"(s1) : "m"(w), "m"(w), "m"(cw), "m"(dv[i]) : "memory");
            __asm__ volatile("fninit\n\tfldcw %2\n\tfldl %3\n\tfistpl %0\n\tfnstsw %1"
                             : "=m"(d), "=m"(s2) : "m"(cw), "m"(dv[i]) : "memory");
            __asm__ volatile("fninit\n\tfldcw %2\n\tfldl %3\n\tfistpll %0\n\tfnstsw %1"
                             : "=m"(q), "=m"(s3) : "m"(cw), "m"(dv[i]) : "memory");
            printf("fist rc%d %d: %04x/%04x %08x/%04x %016llx/%04x\n", rc, i, (uint16_t)w,
                   s1 & SW_ARITH, (uint32_t)d, s2 & SW_ARITH, (unsigned long long)q, s3 & SW_ARITH);
        }
    }
    /* stores to float/double with rounding and overflow, loads of SNaN and denormals */
    static const double big[] = {1e300, 1e-300, 3.0000001, -1.0 / 3};
    for (int rc = 0; rc < 4; rc++) {
        uint16_t cw = 0x037f | rc << 10;
        printf("fst rc%d:", rc);
        for (unsigned i = 0; i < sizeof big / sizeof big[0]; i++) {
            uint32_t f;
            uint16_t s;
            __asm__ volatile("fninit\n\tfldcw %2\n\tfldl %3\n\tfstps %0\n\tfnstsw %1\n\tfninit"
                             : "=m"(f), "=m"(s) : "m"(cw), "m"(big[i]) : "memory");
            printf(" %08x/%04x", f, s & SW_ARITH);
        }
        printf("\n");
    }
    static const uint32_t fsn = 0x7f800001u, fden = 0x00000001u;
    static const uint64_t dsn = 0xfff0000000000001ull;
    F80 r1, r2, r3;
    uint16_t s1, s2, s3;
    __asm__ volatile("fninit\n\tflds %2\n\tfnstsw %1\n\tfstpt %0" : "=m"(r1), "=m"(s1) : "m"(fsn) : "memory");
    __asm__ volatile("fninit\n\tflds %2\n\tfnstsw %1\n\tfstpt %0" : "=m"(r2), "=m"(s2) : "m"(fden) : "memory");
    __asm__ volatile("fninit\n\tfldl %2\n\tfnstsw %1\n\tfstpt %0" : "=m"(r3), "=m"(s3) : "m"(dsn) : "memory");
    printf("loads:");
    pr("", &r1); printf("/%04x", s1 & SW_ARITH);
    pr("", &r2); printf("/%04x", s2 & SW_ARITH);
    pr("", &r3); printf("/%04x\n", s3 & SW_ARITH);
    /* BCD */
    static const double bv[] = {1234567890123456789.0, -42.5, 1e18 - 1, 1e19};
    for (unsigned i = 0; i < sizeof bv / sizeof bv[0]; i++) {
        uint8_t bcd[10];
        uint16_t s;
        F80 back;
        __asm__ volatile("fninit\n\tfldl %2\n\tfbstp %0\n\tfnstsw %1"
                         : "=m"(bcd), "=m"(s) : "m"(bv[i]) : "memory");
        __asm__ volatile("fninit\n\tfbld %1\n\tfstpt %0" : "=m"(back) : "m"(bcd) : "memory");
        hex_bytes("fbstp", bcd, 10);
        printf("  sw %04x", s & SW_ARITH);
        pr("fbld=", &back);
        printf("\n");
    }
}

static void stack_and_env(void)
{
    /* nine pushes: the ninth overflows (IE|SF, C1=1) and writes the indefinite */
    uint16_t sw, sw2;
    F80 top;
    __asm__ volatile("fninit\n\t"
                     "fld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\t"
                     "fldpi\n\tfnstsw %0\n\tfstpt %1\n\tfninit"
                     : "=m"(sw), "=m"(top) : : "memory");
    printf("overflow: sw %04x", sw & SW_ARITH);
    pr("top=", &top);
    __asm__ volatile("fninit\n\tfadd %%st(1),%%st\n\tfnstsw %0\n\tfninit" : "=m"(sw2) : : "memory");
    printf(" underflow: sw %04x\n", sw2 & SW_ARITH);
    /* fnstenv: control, status and tag words (pointers are addresses: not printed) */
    uint16_t env[14];
    __asm__ volatile("fninit\n\tfld1\n\tfldz\n\tfldt %1\n\tfld %%st(0)\n\tfdiv %%st(3),%%st\n\t"
                     "fnstenv %0\n\tfldcw %0\n\tfninit"
                     : "=m"(env) : "m"(*vals(6)) : "memory");
    printf("fnstenv: cw %04x sw %04x tag %04x\n", env[0], env[2], env[4]);
    /* the last instruction and data pointers and the opcode (selectors differ between
     * kernels: not printed) */
    static double operand = 3.0;
    extern const char fdiv_insn[];
    uint32_t e32[7];
    __asm__ volatile("fninit\n\tfld1\n\t.globl fdiv_insn\nfdiv_insn: fdivl %1\n\tfnstenv %0\n\tfninit"
                     : "=m"(e32) : "m"(operand) : "memory");
    printf("fnstenv pointers: fip at fdiv %s, fdp at operand %s, fop %03x\n",
           e32[3] == (uint32_t)(uintptr_t)fdiv_insn ? "yes" : "no",
           e32[5] == (uint32_t)(uintptr_t)&operand ? "yes" : "no", (e32[4] >> 16) & 0x7ff);
    /* fnsave/frstor round trip and ffree/fincstp/fdecstp */
    uint8_t save[108], save2[108];
    uint16_t sw3, tag;
    __asm__ volatile("fninit\n\tfld1\n\tfldpi\n\tfnsave %0\n\tfrstor %0\n\tffree %%st(1)\n\t"
                     "fincstp\n\tfdecstp\n\tfnstsw %2\n\tfnsave %1\n\tfninit"
                     : "+m"(save), "=m"(save2), "=m"(sw3) : : "memory");
    tag = save2[8] | save2[9] << 8;
    hex_bytes("fnsave regs", save + 28, 20);
    printf("after ffree/fincstp/fdecstp: sw %04x tag %04x\n", sw3 & SW_ARITH, tag);
}

static sigjmp_buf jb;
static volatile int got_code;
static volatile uint32_t frame_sw, frame_cw;
static void on_fpe(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    (void)sig;
    got_code = si->si_code;
    /* the x87 state at the fault, as the kernel saved it in the signal frame */
    frame_sw = uc->uc_mcontext.fpregs->sw;
    frame_cw = uc->uc_mcontext.fpregs->cw;
    siglongjmp(jb, 1);
}

static void unmasked(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGFPE, &sa, NULL);
    static const struct { uint16_t cw; const char *what; } cases[] = {
        {0x037b, "zero divide"}, {0x037e, "invalid"}, {0x0377, "overflow"}, {0x035f, "precision"},
    };
    for (volatile unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        got_code = -1;
        static volatile int where;
        where = 0;
        if (sigsetjmp(jb, 1) == 0) {
            static const double zero = 0.0, three = 3.0;
            static double huge = 1e308;
            uint16_t cw = cases[i].cw;
            switch (i) {
            case 0: __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfdivl %1" : : "m"(cw), "m"(zero)); break;
            case 1: __asm__ volatile("fninit\n\tfldcw %0\n\tfldz\n\tfdivl %1" : : "m"(cw), "m"(zero)); break;
            case 2: __asm__ volatile("fninit\n\tfldcw %0\n\tfldl %1\n\tfmul %%st(0),%%st\n\tfstpl %1" : : "m"(cw), "m"(huge)); break;
            default: __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfdivl %1\n\tfldpi" : : "m"(cw), "m"(three)); break;
            }
            where = 1; /* the exception is pending: no signal yet */
            __asm__ volatile("fwait");
            where = 2;
        }
        __asm__ volatile("fninit");
        printf("unmasked %s: si_code %d, pending until fwait %s, frame sw %04x cw %04x\n",
               cases[i].what, got_code, where == 1 ? "yes" : "no", frame_sw & 0xbfff & ~(C0 | C2),
               frame_cw & 0xffff);
    }
    signal(SIGFPE, SIG_DFL);
}

int main(void)
{
    progs_init();
    arith();
    specials();
    transcendental();
    compares();
    conversions();
    stack_and_env();
    unmasked();
    printf("x87 done\n");
    return 0;
}
