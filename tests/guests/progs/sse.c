/*
 * sse.c — SSE (single precision, MXCSR, the SSE integer additions to MMX): arithmetic,
 * min/max and compares over zeros, denormals, infinities, QNaN/SNaN under all rounding
 * modes and DAZ/FTZ, with the MXCSR flags each one raises; comiss/ucomiss EFLAGS,
 * conversions to and from integers (overflow gives the integer indefinite), shuffles
 * and moves, the MMX-register instructions SSE added (pavg, pmin/pmax, psadbw, pshufw,
 * pextrw/pinsrw, pmovmskb, maskmovq), then an unmasked exception (#XM → SIGFPE) whose
 * handler masks it in the signal frame's MXCSR so the instruction completes on return,
 * and LDMXCSR of a reserved bit (#GP → SIGSEGV).
 * rcpps/rsqrtps are left out: their approximations differ between CPU vendors.
 * CFLAGS: -O2 -march=i686 -msse
 */
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>

#include "simd.h"

static const V128 vals[] = {
    {.d = {0x3f800000, 0x80000000, 0x7f800000, 0x7fc00001}}, /* 1 -0 +inf QNaN */
    {.d = {0x40400000, 0x00000001, 0xff800000, 0x7f800001}}, /* 3 denormal -inf SNaN */
    {.d = {0x7e967699, 0x006ce3ee, 0xc0200000, 0x7f7fffff}}, /* 1e38 1e-38 -2.5 max */
    {.d = {0x00800000, 0xc0400000, 0x3dcccccd, 0x4b800001}}, /* min normal -3 0.1 2^24+2 */
    {.d = {0xbf800000, 0x4f000000, 0xcf000001, 0x3fc00000}}, /* -1 2^31 -2^31-256 1.5 */
    {.d = {0x40200000, 0xc0200000, 0x3f000000, 0xbf000000}}, /* 2.5 -2.5 0.5 -0.5 */
    {.d = {0x0c000000, 0x34000000, 0x00400000, 0x80000001}}, /* tiny, 2^-23, denormals */
};
static const int pairs[][2] = {{0, 1}, {1, 0}, {2, 2}, {2, 3}, {3, 2}, {4, 5},
                               {5, 4}, {6, 6}, {6, 3}, {0, 0}, {-1, -1}};

DEF(addps, "addps %%xmm1,%%xmm0")
DEF(addss, "addss %%xmm1,%%xmm0")
DEF(subps, "subps %3,%%xmm0")
DEF(subss, "subss %3,%%xmm0")
DEF(mulps, "mulps %%xmm1,%%xmm0")
DEF(mulss, "mulss %%xmm1,%%xmm0")
DEF(divps, "divps %%xmm1,%%xmm0")
DEF(divss, "divss %3,%%xmm0")
DEF(sqrtps, "sqrtps %%xmm1,%%xmm0")
DEF(sqrtss, "sqrtss %%xmm1,%%xmm0")
DEF(maxps, "maxps %%xmm1,%%xmm0")
DEF(maxss, "maxss %%xmm1,%%xmm0")
DEF(minps, "minps %3,%%xmm0")
DEF(minss, "minss %%xmm1,%%xmm0")
DEF(cmpeqps, "cmpeqps %%xmm1,%%xmm0")
DEF(cmpltps, "cmpltps %%xmm1,%%xmm0")
DEF(cmpleps, "cmpleps %3,%%xmm0")
DEF(cmpunordps, "cmpunordps %%xmm1,%%xmm0")
DEF(cmpneqps, "cmpneqps %%xmm1,%%xmm0")
DEF(cmpnltps, "cmpnltps %%xmm1,%%xmm0")
DEF(cmpnleps, "cmpnleps %%xmm1,%%xmm0")
DEF(cmpordps, "cmpordps %%xmm1,%%xmm0")
DEF(cmpltss, "cmpltss %%xmm1,%%xmm0")
DEF(andps, "andps %%xmm1,%%xmm0")
DEF(andnps, "andnps %3,%%xmm0")
DEF(orps, "orps %%xmm1,%%xmm0")
DEF(xorps, "xorps %%xmm1,%%xmm0")
DEF(shufps1b, "shufps $0x1b,%%xmm1,%%xmm0")
DEF(shufps4e, "shufps $0x4e,%3,%%xmm0")
DEF(unpcklps, "unpcklps %%xmm1,%%xmm0")
DEF(unpckhps, "unpckhps %3,%%xmm0")
DEF(movhlps, "movhlps %%xmm1,%%xmm0")
DEF(movlhps, "movlhps %%xmm1,%%xmm0")
DEF(movss_reg, "movss %%xmm1,%%xmm0")
DEF(movss_mem, "movss %3,%%xmm0")
DEF(movhps_mem, "movhps %3,%%xmm0")
DEF(cvtsi2ss, "cvtsi2ssl %3,%%xmm0")
DEF(cvtpi2ps, "movq %3,%%mm1\n\tcvtpi2ps %%mm1,%%xmm0\n\temms")
DEF(cvtps2pi, "cvtps2pi %%xmm1,%%mm0\n\tmovq %%mm0,%3\n\temms\n\tmovlps %3,%%xmm0")
DEF(cvttps2pi, "cvttps2pi %%xmm1,%%mm0\n\tmovq %%mm0,%3\n\temms\n\tmovlps %3,%%xmm0")
DEF(cvtss2si, "cvtss2si %%xmm1,%%eax\n\tmovl %%eax,%3\n\tmovss %3,%%xmm0")
DEF(cvttss2si, "cvttss2si %3,%%eax\n\tmovl %%eax,%3\n\tmovss %3,%%xmm0")
DEF(comiss, "comiss %%xmm1,%%xmm0\n\tpushfl\n\tpopl %%eax\n\tandl $0x8d5,%%eax\n\tmovl %%eax,%3\n\tmovss %3,%%xmm0")
DEF(ucomiss, "ucomiss %3,%%xmm0\n\tpushfl\n\tpopl %%eax\n\tandl $0x8d5,%%eax\n\tmovl %%eax,%3\n\tmovss %3,%%xmm0")
DEF(movmskps, "movmskps %%xmm1,%%eax\n\tmovl %%eax,%3\n\tmovss %3,%%xmm0")
/* SSE's additions to the MMX registers: mm0 = low(A) op low(B), into the low half */
#define MMXOP(insn) "movq %2,%%mm0\n\tmovq %3,%%mm1\n\t" insn "\n\tmovq %%mm0,%3\n\temms\n\tmovlps %3,%%xmm0"
DEF(pavgb, MMXOP("pavgb %%mm1,%%mm0"))
DEF(pavgw, MMXOP("pavgw %%mm1,%%mm0"))
DEF(pmaxsw, MMXOP("pmaxsw %%mm1,%%mm0"))
DEF(pmaxub, MMXOP("pmaxub %%mm1,%%mm0"))
DEF(pminsw, MMXOP("pminsw %%mm1,%%mm0"))
DEF(pminub, MMXOP("pminub %%mm1,%%mm0"))
DEF(pmulhuw, MMXOP("pmulhuw %%mm1,%%mm0"))
DEF(psadbw, MMXOP("psadbw %%mm1,%%mm0"))
DEF(pshufw, MMXOP("pshufw $0x1b,%%mm1,%%mm0"))
DEF(pinsrw, MMXOP("movl %2,%%eax\n\tpinsrw $2,%%eax,%%mm0"))
DEF(pextrw, MMXOP("pextrw $3,%%mm1,%%eax\n\tmovd %%eax,%%mm0"))
DEF(pmovmskb, MMXOP("pmovmskb %%mm1,%%eax\n\tmovd %%eax,%%mm0"))
DEF(maskmovq, "movq %2,%%mm0\n\tmovq %3,%%mm1\n\tleal %3,%%edi\n\tmaskmovq %%mm1,%%mm0\n\temms\n\tmovups %3,%%xmm0")

static const SimdOp ops[] = {
    ENTRY(addps), ENTRY(addss), ENTRY(subps), ENTRY(subss), ENTRY(mulps), ENTRY(mulss),
    ENTRY(divps), ENTRY(divss), ENTRY(sqrtps), ENTRY(sqrtss), ENTRY(maxps), ENTRY(maxss),
    ENTRY(minps), ENTRY(minss), ENTRY(cmpeqps), ENTRY(cmpltps), ENTRY(cmpleps),
    ENTRY(cmpunordps), ENTRY(cmpneqps), ENTRY(cmpnltps), ENTRY(cmpnleps), ENTRY(cmpordps),
    ENTRY(cmpltss), ENTRY(andps), ENTRY(andnps), ENTRY(orps), ENTRY(xorps), ENTRY(shufps1b),
    ENTRY(shufps4e), ENTRY(unpcklps), ENTRY(unpckhps), ENTRY(movhlps), ENTRY(movlhps),
    ENTRY(movss_reg), ENTRY(movss_mem), ENTRY(movhps_mem), ENTRY(cvtsi2ss), ENTRY(cvtpi2ps),
    ENTRY(cvtps2pi), ENTRY(cvttps2pi), ENTRY(cvtss2si), ENTRY(cvttss2si), ENTRY(comiss),
    ENTRY(ucomiss), ENTRY(movmskps), ENTRY(pavgb), ENTRY(pavgw), ENTRY(pmaxsw), ENTRY(pmaxub),
    ENTRY(pminsw), ENTRY(pminub), ENTRY(pmulhuw), ENTRY(psadbw), ENTRY(pshufw), ENTRY(pinsrw),
    ENTRY(pextrw), ENTRY(pmovmskb), ENTRY(maskmovq),
};

static sigjmp_buf jb;
static volatile int got_sig, got_code, n_sig;
static volatile uint32_t frame_mxcsr;

/* The kernel's i386 FPU frame: the legacy 112-byte part, then FXSAVE's fields: MXCSR at
 * offset 136 (the glibc type does not show it). */
static uint32_t *frame_mxcsr_ptr(ucontext_t *uc) { return (uint32_t *)((char *)uc->uc_mcontext.fpregs + 136); }

static void on_fpe(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    got_sig = sig;
    got_code = si->si_code;
    n_sig++;
    uint32_t *mx = frame_mxcsr_ptr(uc);
    frame_mxcsr = *mx;
    *mx |= 0x1f80; /* mask everything: the faulting instruction completes on return */
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    got_sig = sig;
    got_code = si->si_code;
    siglongjmp(jb, 1);
}

static void exceptions(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGFPE, &sa, NULL);
    static const struct { uint32_t mx; const char *what; } cases[] = {
        {0x1f80 & ~0x0200, "zero divide"}, {0x1f80 & ~0x0080, "invalid"},
        {0x1f80 & ~0x0800, "overflow"}, {0x1f80 & ~0x1000, "precision"},
        {0x1f80 & ~0x0100, "denormal"}, {0x1f80 & ~0x0400, "underflow"},
    };
    static const V128 num __attribute__((aligned(16))) = {.d = {0x3f800000, 0x7f000000, 0x00800000, 0x00000010}};
    static const V128 den __attribute__((aligned(16))) = {.d = {0x40400000, 0x7f000000, 0x00000000, 0x3f800000}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        V128 r __attribute__((aligned(16)));
        uint32_t mx_in = cases[i].mx, mx_out;
        got_code = -1;
        n_sig = 0;
        frame_mxcsr = 0;
        /* lanes: 1/3 (precision), 2^127*2^127 (overflow) ... chosen per case */
        if (i == 0)
            __asm__ volatile("ldmxcsr %2\n\tmovaps %3,%%xmm0\n\tdivps %4,%%xmm0\n\tmovaps %%xmm0,%0\n\tstmxcsr %1\n\tldmxcsr %5"
                             : "=m"(r), "=m"(mx_out) : "m"(mx_in), "m"(num), "m"(den), "m"(MX_DEFAULT) : "xmm0");
        else if (i == 1)
            __asm__ volatile("ldmxcsr %2\n\tmovaps %3,%%xmm0\n\tmulps %4,%%xmm0\n\tmovaps %%xmm0,%0\n\tstmxcsr %1\n\tldmxcsr %5"
                             : "=m"(r), "=m"(mx_out) : "m"(mx_in), "m"(vals[0]), "m"(vals[1]), "m"(MX_DEFAULT) : "xmm0");
        else if (i == 2 || i == 3)
            __asm__ volatile("ldmxcsr %2\n\tmovaps %3,%%xmm0\n\tmulps %4,%%xmm0\n\tmovaps %%xmm0,%0\n\tstmxcsr %1\n\tldmxcsr %5"
                             : "=m"(r), "=m"(mx_out) : "m"(mx_in), "m"(num), "m"(num), "m"(MX_DEFAULT) : "xmm0");
        else
            __asm__ volatile("ldmxcsr %2\n\tmovaps %3,%%xmm0\n\taddps %4,%%xmm0\n\tmulps %4,%%xmm0\n\tmovaps %%xmm0,%0\n\tstmxcsr %1\n\tldmxcsr %5"
                             : "=m"(r), "=m"(mx_out) : "m"(mx_in), "m"(vals[6]), "m"(vals[6]), "m"(MX_DEFAULT) : "xmm0");
        printf("unmasked %s: signals %d si_code %d frame mxcsr %08x, then mxcsr %08x",
               cases[i].what, n_sig, got_code, frame_mxcsr, mx_out);
        print128(&r);
        printf("\n");
    }
    signal(SIGFPE, SIG_DFL);

    sa.sa_sigaction = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) {
        static const uint32_t bad = 0x00010000 | 0x1f80;
        __asm__ volatile("ldmxcsr %0" : : "m"(bad));
    }
    printf("ldmxcsr reserved bit: signal %d si_code %d\n", got_sig, got_code);
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) {
        static V128 buf[2] __attribute__((aligned(16)));
        __asm__ volatile("movaps %0,%%xmm0" : : "m"(*(V128 *)((char *)buf + 8)) : "xmm0");
    }
    printf("movaps misaligned: signal %d si_code %d\n", got_sig, got_code);
    signal(SIGSEGV, SIG_DFL);
    uint32_t mx;
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    printf("mxcsr at the end: %08x\n", mx);
}

int main(void)
{
    progs_init();
    uint32_t mx;
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    printf("initial mxcsr %08x\n", mx);
    run_ops(ops, sizeof ops / sizeof ops[0], vals, pairs);
    exceptions();
    printf("sse done\n");
    return 0;
}
