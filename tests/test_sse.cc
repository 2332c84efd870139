// test_sse.cc — MMX/SSE/SSE2/SSE3 (exec_sse.c) and FISTTP (exec_fpu.c). Instructions are given as bytes, decoded and
// run through exec_SSE under a setjmp on c->fault_jmp (one test goes through cpu_step).
// The main test runs a table of register forms over special operand values (NaN,
// denormals, infinities, integer limits), every rounding mode and DAZ/FTZ, and compares
// the guest registers, MXCSR and EFLAGS with the same instruction executed natively here
// (inline asm). Further tests cover memory forms, alignment #GP, #UD/#NM/#XM/#MF,
// FXSAVE/FXRSTOR, LDMXCSR/STMXCSR and the MMX/x87 aliasing; SSE3 and FISTTP are compared
// with the host the same way (skipped on a host without SSE3).
#include <gtest/gtest.h>

#include <cmath>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cpu_harness.h"

extern "C" {
#include "cpu/fpu.h"
#include "cpu/sse.h"
}

namespace {

constexpr uint32_t MEM = 0x3000, CODE = 0x1000;

struct Res {
    bool fault;
    int vector;
};

Res exec(Cpu *c, uint8_t *ram, std::vector<uint8_t> bytes)
{
    Insn in;
    memcpy(ram + c->seg[SEG_CS].base + CODE, bytes.data(), bytes.size());
    if (decode(&in, bytes.data(), (unsigned)bytes.size(), cpu_code32(c)) != DECODE_OK)
        return {true, -2};
    if (in.len != bytes.size()) return {true, -4};
    c->eip = CODE;
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    c->eip += in.len;
    if (setjmp(c->fault_jmp)) return {true, c->pending_vector};
    if (in.mnem == M_SSE)
        exec_SSE(c, &in);
    else if (in.mnem == M_FPU)
        exec_FPU(c, &in);
    else
        return {true, -3};
    return {false, -1};
}

// Host registers for a native run: xmm0 = ModRM.reg operand, xmm1 = ModRM.rm, likewise
// mm0/mm1 and eax/ecx. zf/pf/cf record the flags afterwards.
struct Native {
    uint8_t x0[16], x1[16];
    uint64_t m0, m1;
    uint32_t eax, ecx, mxcsr;
    uint8_t zf, pf, cf;
    uint32_t saved; // the test process's own MXCSR, restored afterwards
};

// One base register plus constant offsets: separate memory operands for every field run out
// of address registers at -O0 under ASan ("impossible constraints").
#define NOFF(f) "i"(offsetof(Native, f))
#define NAT(name, insn)                                                                     \
    void name(Native *n)                                                                    \
    {                                                                                       \
        __asm__ volatile("stmxcsr %c[sv](%[n])\n"                                          \
                         "ldmxcsr %c[mx](%[n])\n"                                          \
                         "movdqu %c[x0](%[n]), %%xmm0\n"                                   \
                         "movdqu %c[x1](%[n]), %%xmm1\n"                                   \
                         "movq %c[m0](%[n]), %%mm0\n"                                      \
                         "movq %c[m1](%[n]), %%mm1\n"                                      \
                         "mov %c[ea](%[n]), %%eax\n"                                       \
                         "mov %c[ec](%[n]), %%ecx\n" insn "\n"                             \
                         "setz %c[zf](%[n])\n"                                             \
                         "setp %c[pf](%[n])\n"                                             \
                         "setc %c[cf](%[n])\n"                                             \
                         "mov %%eax, %c[ea](%[n])\n"                                       \
                         "mov %%ecx, %c[ec](%[n])\n"                                       \
                         "movdqu %%xmm0, %c[x0](%[n])\n"                                   \
                         "movdqu %%xmm1, %c[x1](%[n])\n"                                   \
                         "movq %%mm0, %c[m0](%[n])\n"                                      \
                         "movq %%mm1, %c[m1](%[n])\n"                                      \
                         "stmxcsr %c[mx](%[n])\n"                                          \
                         "emms\n"                                                          \
                         "ldmxcsr %c[sv](%[n])\n"                                          \
                         :                                                                 \
                         : [n] "r"(n), [x0] NOFF(x0), [x1] NOFF(x1), [m0] NOFF(m0),        \
                           [m1] NOFF(m1), [ea] NOFF(eax), [ec] NOFF(ecx), [mx] NOFF(mxcsr), \
                           [zf] NOFF(zf), [pf] NOFF(pf), [cf] NOFF(cf), [sv] NOFF(saved)   \
                         : "rax", "rcx", "xmm0", "xmm1", "mm0", "mm1", "cc", "memory");    \
    }

// SSE float
NAT(n_addps, "addps %%xmm1, %%xmm0")
NAT(n_subps, "subps %%xmm1, %%xmm0")
NAT(n_mulps, "mulps %%xmm1, %%xmm0")
NAT(n_divps, "divps %%xmm1, %%xmm0")
NAT(n_minps, "minps %%xmm1, %%xmm0")
NAT(n_maxps, "maxps %%xmm1, %%xmm0")
NAT(n_sqrtps, "sqrtps %%xmm1, %%xmm0")
NAT(n_rcpps, "rcpps %%xmm1, %%xmm0")
NAT(n_rsqrtps, "rsqrtps %%xmm1, %%xmm0")
NAT(n_andps, "andps %%xmm1, %%xmm0")
NAT(n_andnps, "andnps %%xmm1, %%xmm0")
NAT(n_orps, "orps %%xmm1, %%xmm0")
NAT(n_xorps, "xorps %%xmm1, %%xmm0")
NAT(n_unpcklps, "unpcklps %%xmm1, %%xmm0")
NAT(n_unpckhps, "unpckhps %%xmm1, %%xmm0")
NAT(n_movhlps, "movhlps %%xmm1, %%xmm0")
NAT(n_movlhps, "movlhps %%xmm1, %%xmm0")
NAT(n_movaps, "movaps %%xmm1, %%xmm0")
NAT(n_movups_st, "movups %%xmm0, %%xmm1")
NAT(n_movss, "movss %%xmm1, %%xmm0")
NAT(n_movss_st, "movss %%xmm0, %%xmm1")
NAT(n_cmpps1, "cmpps $1, %%xmm1, %%xmm0")
NAT(n_cmpps3, "cmpps $3, %%xmm1, %%xmm0")
NAT(n_cmpps6, "cmpps $6, %%xmm1, %%xmm0")
NAT(n_cmpss0, "cmpss $0, %%xmm1, %%xmm0")
NAT(n_cmpss7, "cmpss $7, %%xmm1, %%xmm0")
NAT(n_shufps, "shufps $0x1b, %%xmm1, %%xmm0")
NAT(n_addss, "addss %%xmm1, %%xmm0")
NAT(n_subss, "subss %%xmm1, %%xmm0")
NAT(n_mulss, "mulss %%xmm1, %%xmm0")
NAT(n_divss, "divss %%xmm1, %%xmm0")
NAT(n_sqrtss, "sqrtss %%xmm1, %%xmm0")
NAT(n_minss, "minss %%xmm1, %%xmm0")
NAT(n_maxss, "maxss %%xmm1, %%xmm0")
NAT(n_rcpss, "rcpss %%xmm1, %%xmm0")
NAT(n_rsqrtss, "rsqrtss %%xmm1, %%xmm0")
NAT(n_comiss, "comiss %%xmm1, %%xmm0")
NAT(n_ucomiss, "ucomiss %%xmm1, %%xmm0")
NAT(n_cvtsi2ss, "cvtsi2ss %%ecx, %%xmm0")
NAT(n_cvtss2si, "cvtss2si %%xmm1, %%eax")
NAT(n_cvttss2si, "cvttss2si %%xmm1, %%eax")
NAT(n_cvtps2pi, "cvtps2pi %%xmm1, %%mm0")
NAT(n_cvttps2pi, "cvttps2pi %%xmm1, %%mm0")
NAT(n_cvtpi2ps, "cvtpi2ps %%mm1, %%xmm0")
NAT(n_movmskps, "movmskps %%xmm1, %%eax")
// SSE2 float
NAT(n_addpd, "addpd %%xmm1, %%xmm0")
NAT(n_subpd, "subpd %%xmm1, %%xmm0")
NAT(n_mulpd, "mulpd %%xmm1, %%xmm0")
NAT(n_divpd, "divpd %%xmm1, %%xmm0")
NAT(n_sqrtpd, "sqrtpd %%xmm1, %%xmm0")
NAT(n_minpd, "minpd %%xmm1, %%xmm0")
NAT(n_maxpd, "maxpd %%xmm1, %%xmm0")
NAT(n_andnpd, "andnpd %%xmm1, %%xmm0")
NAT(n_addsd, "addsd %%xmm1, %%xmm0")
NAT(n_divsd, "divsd %%xmm1, %%xmm0")
NAT(n_sqrtsd, "sqrtsd %%xmm1, %%xmm0")
NAT(n_movsd, "movsd %%xmm1, %%xmm0")
NAT(n_comisd, "comisd %%xmm1, %%xmm0")
NAT(n_ucomisd, "ucomisd %%xmm1, %%xmm0")
NAT(n_cmppd2, "cmppd $2, %%xmm1, %%xmm0")
NAT(n_cmpsd4, "cmpsd $4, %%xmm1, %%xmm0")
NAT(n_shufpd, "shufpd $1, %%xmm1, %%xmm0")
NAT(n_unpcklpd, "unpcklpd %%xmm1, %%xmm0")
NAT(n_cvtsi2sd, "cvtsi2sd %%ecx, %%xmm0")
NAT(n_cvtsd2si, "cvtsd2si %%xmm1, %%eax")
NAT(n_cvttsd2si, "cvttsd2si %%xmm1, %%eax")
NAT(n_cvtps2pd, "cvtps2pd %%xmm1, %%xmm0")
NAT(n_cvtpd2ps, "cvtpd2ps %%xmm1, %%xmm0")
NAT(n_cvtss2sd, "cvtss2sd %%xmm1, %%xmm0")
NAT(n_cvtsd2ss, "cvtsd2ss %%xmm1, %%xmm0")
NAT(n_cvtdq2ps, "cvtdq2ps %%xmm1, %%xmm0")
NAT(n_cvtps2dq, "cvtps2dq %%xmm1, %%xmm0")
NAT(n_cvttps2dq, "cvttps2dq %%xmm1, %%xmm0")
NAT(n_cvtdq2pd, "cvtdq2pd %%xmm1, %%xmm0")
NAT(n_cvtpd2dq, "cvtpd2dq %%xmm1, %%xmm0")
NAT(n_cvttpd2dq, "cvttpd2dq %%xmm1, %%xmm0")
NAT(n_cvtpd2pi, "cvtpd2pi %%xmm1, %%mm0")
NAT(n_cvtpi2pd, "cvtpi2pd %%mm1, %%xmm0")
NAT(n_movmskpd, "movmskpd %%xmm1, %%eax")
// SSE2 integer
NAT(n_paddb, "paddb %%xmm1, %%xmm0")
NAT(n_paddw, "paddw %%xmm1, %%xmm0")
NAT(n_paddd, "paddd %%xmm1, %%xmm0")
NAT(n_paddq, "paddq %%xmm1, %%xmm0")
NAT(n_psubb, "psubb %%xmm1, %%xmm0")
NAT(n_psubq, "psubq %%xmm1, %%xmm0")
NAT(n_paddsb, "paddsb %%xmm1, %%xmm0")
NAT(n_paddusw, "paddusw %%xmm1, %%xmm0")
NAT(n_psubsw, "psubsw %%xmm1, %%xmm0")
NAT(n_psubusb, "psubusb %%xmm1, %%xmm0")
NAT(n_pmullw, "pmullw %%xmm1, %%xmm0")
NAT(n_pmulhw, "pmulhw %%xmm1, %%xmm0")
NAT(n_pmulhuw, "pmulhuw %%xmm1, %%xmm0")
NAT(n_pmuludq, "pmuludq %%xmm1, %%xmm0")
NAT(n_pmaddwd, "pmaddwd %%xmm1, %%xmm0")
NAT(n_psadbw, "psadbw %%xmm1, %%xmm0")
NAT(n_pavgb, "pavgb %%xmm1, %%xmm0")
NAT(n_pavgw, "pavgw %%xmm1, %%xmm0")
NAT(n_pminub, "pminub %%xmm1, %%xmm0")
NAT(n_pmaxub, "pmaxub %%xmm1, %%xmm0")
NAT(n_pminsw, "pminsw %%xmm1, %%xmm0")
NAT(n_pmaxsw, "pmaxsw %%xmm1, %%xmm0")
NAT(n_pcmpeqb, "pcmpeqb %%xmm1, %%xmm0")
NAT(n_pcmpgtd, "pcmpgtd %%xmm1, %%xmm0")
NAT(n_packsswb, "packsswb %%xmm1, %%xmm0")
NAT(n_packuswb, "packuswb %%xmm1, %%xmm0")
NAT(n_packssdw, "packssdw %%xmm1, %%xmm0")
NAT(n_punpcklbw, "punpcklbw %%xmm1, %%xmm0")
NAT(n_punpckhdq, "punpckhdq %%xmm1, %%xmm0")
NAT(n_punpcklqdq, "punpcklqdq %%xmm1, %%xmm0")
NAT(n_punpckhqdq, "punpckhqdq %%xmm1, %%xmm0")
NAT(n_pand, "pand %%xmm1, %%xmm0")
NAT(n_pandn, "pandn %%xmm1, %%xmm0")
NAT(n_por, "por %%xmm1, %%xmm0")
NAT(n_pxor, "pxor %%xmm1, %%xmm0")
NAT(n_psllw, "psllw %%xmm1, %%xmm0")
NAT(n_psrad, "psrad %%xmm1, %%xmm0")
NAT(n_psrlq, "psrlq %%xmm1, %%xmm0")
NAT(n_pshufd, "pshufd $0x4e, %%xmm1, %%xmm0")
NAT(n_pshufhw, "pshufhw $0x1b, %%xmm1, %%xmm0")
NAT(n_pshuflw, "pshuflw $0xe4, %%xmm1, %%xmm0")
NAT(n_psllwi, "psllw $3, %%xmm1")
NAT(n_psrawi, "psraw $9, %%xmm1")
NAT(n_psrldi, "psrld $31, %%xmm1")
NAT(n_psllqi, "psllq $40, %%xmm1")
NAT(n_psrldqi, "psrldq $5, %%xmm1")
NAT(n_pslldqi, "pslldq $17, %%xmm1")
NAT(n_pmovmskb, "pmovmskb %%xmm1, %%eax")
NAT(n_pextrw, "pextrw $5, %%xmm1, %%eax")
NAT(n_pinsrw, "pinsrw $6, %%ecx, %%xmm0")
NAT(n_movd_x, "movd %%ecx, %%xmm0")
NAT(n_movd_xst, "movd %%xmm0, %%ecx")
NAT(n_movq_x, "movq %%xmm1, %%xmm0")
NAT(n_movq_xst, ".byte 0x66, 0x0f, 0xd6, 0xc1") // movq xmm1, xmm0 (store form)
NAT(n_movdqa, "movdqa %%xmm1, %%xmm0")
NAT(n_movdqu_st, "movdqu %%xmm0, %%xmm1")
NAT(n_movq2dq, "movq2dq %%mm1, %%xmm0")
NAT(n_movdq2q, "movdq2q %%xmm1, %%mm0")
// MMX
NAT(n_mpaddb, "paddb %%mm1, %%mm0")
NAT(n_mpsubusw, "psubusw %%mm1, %%mm0")
NAT(n_mpmullw, "pmullw %%mm1, %%mm0")
NAT(n_mpmaddwd, "pmaddwd %%mm1, %%mm0")
NAT(n_mpacksswb, "packsswb %%mm1, %%mm0")
NAT(n_mpunpcklbw, "punpcklbw %%mm1, %%mm0")
NAT(n_mpcmpeqw, "pcmpeqw %%mm1, %%mm0")
NAT(n_mpsllq, "psllq %%mm1, %%mm0")
NAT(n_mpsrlwi, "psrlw $5, %%mm1")
NAT(n_mpshufw, "pshufw $0x93, %%mm1, %%mm0")
NAT(n_mpavgb, "pavgb %%mm1, %%mm0")
NAT(n_mpsadbw, "psadbw %%mm1, %%mm0")
NAT(n_mpextrw, "pextrw $2, %%mm1, %%eax")
NAT(n_mpinsrw, "pinsrw $1, %%ecx, %%mm0")
NAT(n_mpmovmskb, "pmovmskb %%mm1, %%eax")
NAT(n_mmovd, "movd %%ecx, %%mm0")
NAT(n_mmovd_st, "movd %%mm0, %%ecx")
NAT(n_mmovq, "movq %%mm1, %%mm0")
NAT(n_mmovq_st, ".byte 0x0f, 0x7f, 0xc1") // movq mm1, mm0 (store form)
NAT(n_mpaddq, "paddq %%mm1, %%mm0")
NAT(n_mpmuludq, "pmuludq %%mm1, %%mm0")
NAT(n_mpxor, "pxor %%mm1, %%mm0")
// SSE3
NAT(n_addsubps, "addsubps %%xmm1, %%xmm0")
NAT(n_addsubpd, "addsubpd %%xmm1, %%xmm0")
NAT(n_haddps, "haddps %%xmm1, %%xmm0")
NAT(n_haddpd, "haddpd %%xmm1, %%xmm0")
NAT(n_hsubps, "hsubps %%xmm1, %%xmm0")
NAT(n_hsubpd, "hsubpd %%xmm1, %%xmm0")
NAT(n_movshdup, "movshdup %%xmm1, %%xmm0")
NAT(n_movsldup, "movsldup %%xmm1, %%xmm0")
NAT(n_movddup, "movddup %%xmm1, %%xmm0")

struct Case {
    const char *name;
    std::vector<uint8_t> op; // prefix, 0F, opcode
    int ext;                 // ModRM.reg for the shift groups, -1 otherwise
    int imm;                 // imm8 or -1
    void (*fn)(Native *);
};

const Case CASES[] = {
    {"addps", {0x0f, 0x58}, -1, -1, n_addps},
    {"subps", {0x0f, 0x5c}, -1, -1, n_subps},
    {"mulps", {0x0f, 0x59}, -1, -1, n_mulps},
    {"divps", {0x0f, 0x5e}, -1, -1, n_divps},
    {"minps", {0x0f, 0x5d}, -1, -1, n_minps},
    {"maxps", {0x0f, 0x5f}, -1, -1, n_maxps},
    {"sqrtps", {0x0f, 0x51}, -1, -1, n_sqrtps},
    {"rcpps", {0x0f, 0x53}, -1, -1, n_rcpps},
    {"rsqrtps", {0x0f, 0x52}, -1, -1, n_rsqrtps},
    {"andps", {0x0f, 0x54}, -1, -1, n_andps},
    {"andnps", {0x0f, 0x55}, -1, -1, n_andnps},
    {"orps", {0x0f, 0x56}, -1, -1, n_orps},
    {"xorps", {0x0f, 0x57}, -1, -1, n_xorps},
    {"unpcklps", {0x0f, 0x14}, -1, -1, n_unpcklps},
    {"unpckhps", {0x0f, 0x15}, -1, -1, n_unpckhps},
    {"movhlps", {0x0f, 0x12}, -1, -1, n_movhlps},
    {"movlhps", {0x0f, 0x16}, -1, -1, n_movlhps},
    {"movaps", {0x0f, 0x28}, -1, -1, n_movaps},
    {"movups st", {0x0f, 0x11}, -1, -1, n_movups_st},
    {"movss", {0xf3, 0x0f, 0x10}, -1, -1, n_movss},
    {"movss st", {0xf3, 0x0f, 0x11}, -1, -1, n_movss_st},
    {"cmpps 1", {0x0f, 0xc2}, -1, 1, n_cmpps1},
    {"cmpps 3", {0x0f, 0xc2}, -1, 3, n_cmpps3},
    {"cmpps 6", {0x0f, 0xc2}, -1, 6, n_cmpps6},
    {"cmpss 0", {0xf3, 0x0f, 0xc2}, -1, 0, n_cmpss0},
    {"cmpss 7", {0xf3, 0x0f, 0xc2}, -1, 7, n_cmpss7},
    {"shufps", {0x0f, 0xc6}, -1, 0x1b, n_shufps},
    {"addss", {0xf3, 0x0f, 0x58}, -1, -1, n_addss},
    {"subss", {0xf3, 0x0f, 0x5c}, -1, -1, n_subss},
    {"mulss", {0xf3, 0x0f, 0x59}, -1, -1, n_mulss},
    {"divss", {0xf3, 0x0f, 0x5e}, -1, -1, n_divss},
    {"sqrtss", {0xf3, 0x0f, 0x51}, -1, -1, n_sqrtss},
    {"minss", {0xf3, 0x0f, 0x5d}, -1, -1, n_minss},
    {"maxss", {0xf3, 0x0f, 0x5f}, -1, -1, n_maxss},
    {"rcpss", {0xf3, 0x0f, 0x53}, -1, -1, n_rcpss},
    {"rsqrtss", {0xf3, 0x0f, 0x52}, -1, -1, n_rsqrtss},
    {"comiss", {0x0f, 0x2f}, -1, -1, n_comiss},
    {"ucomiss", {0x0f, 0x2e}, -1, -1, n_ucomiss},
    {"cvtsi2ss", {0xf3, 0x0f, 0x2a}, -1, -1, n_cvtsi2ss},
    {"cvtss2si", {0xf3, 0x0f, 0x2d}, -1, -1, n_cvtss2si},
    {"cvttss2si", {0xf3, 0x0f, 0x2c}, -1, -1, n_cvttss2si},
    {"cvtps2pi", {0x0f, 0x2d}, -1, -1, n_cvtps2pi},
    {"cvttps2pi", {0x0f, 0x2c}, -1, -1, n_cvttps2pi},
    {"cvtpi2ps", {0x0f, 0x2a}, -1, -1, n_cvtpi2ps},
    {"movmskps", {0x0f, 0x50}, -1, -1, n_movmskps},
    {"addpd", {0x66, 0x0f, 0x58}, -1, -1, n_addpd},
    {"subpd", {0x66, 0x0f, 0x5c}, -1, -1, n_subpd},
    {"mulpd", {0x66, 0x0f, 0x59}, -1, -1, n_mulpd},
    {"divpd", {0x66, 0x0f, 0x5e}, -1, -1, n_divpd},
    {"sqrtpd", {0x66, 0x0f, 0x51}, -1, -1, n_sqrtpd},
    {"minpd", {0x66, 0x0f, 0x5d}, -1, -1, n_minpd},
    {"maxpd", {0x66, 0x0f, 0x5f}, -1, -1, n_maxpd},
    {"andnpd", {0x66, 0x0f, 0x55}, -1, -1, n_andnpd},
    {"addsd", {0xf2, 0x0f, 0x58}, -1, -1, n_addsd},
    {"divsd", {0xf2, 0x0f, 0x5e}, -1, -1, n_divsd},
    {"sqrtsd", {0xf2, 0x0f, 0x51}, -1, -1, n_sqrtsd},
    {"movsd", {0xf2, 0x0f, 0x10}, -1, -1, n_movsd},
    {"comisd", {0x66, 0x0f, 0x2f}, -1, -1, n_comisd},
    {"ucomisd", {0x66, 0x0f, 0x2e}, -1, -1, n_ucomisd},
    {"cmppd 2", {0x66, 0x0f, 0xc2}, -1, 2, n_cmppd2},
    {"cmpsd 4", {0xf2, 0x0f, 0xc2}, -1, 4, n_cmpsd4},
    {"shufpd", {0x66, 0x0f, 0xc6}, -1, 1, n_shufpd},
    {"unpcklpd", {0x66, 0x0f, 0x14}, -1, -1, n_unpcklpd},
    {"cvtsi2sd", {0xf2, 0x0f, 0x2a}, -1, -1, n_cvtsi2sd},
    {"cvtsd2si", {0xf2, 0x0f, 0x2d}, -1, -1, n_cvtsd2si},
    {"cvttsd2si", {0xf2, 0x0f, 0x2c}, -1, -1, n_cvttsd2si},
    {"cvtps2pd", {0x0f, 0x5a}, -1, -1, n_cvtps2pd},
    {"cvtpd2ps", {0x66, 0x0f, 0x5a}, -1, -1, n_cvtpd2ps},
    {"cvtss2sd", {0xf3, 0x0f, 0x5a}, -1, -1, n_cvtss2sd},
    {"cvtsd2ss", {0xf2, 0x0f, 0x5a}, -1, -1, n_cvtsd2ss},
    {"cvtdq2ps", {0x0f, 0x5b}, -1, -1, n_cvtdq2ps},
    {"cvtps2dq", {0x66, 0x0f, 0x5b}, -1, -1, n_cvtps2dq},
    {"cvttps2dq", {0xf3, 0x0f, 0x5b}, -1, -1, n_cvttps2dq},
    {"cvtdq2pd", {0xf3, 0x0f, 0xe6}, -1, -1, n_cvtdq2pd},
    {"cvtpd2dq", {0xf2, 0x0f, 0xe6}, -1, -1, n_cvtpd2dq},
    {"cvttpd2dq", {0x66, 0x0f, 0xe6}, -1, -1, n_cvttpd2dq},
    {"cvtpd2pi", {0x66, 0x0f, 0x2d}, -1, -1, n_cvtpd2pi},
    {"cvtpi2pd", {0x66, 0x0f, 0x2a}, -1, -1, n_cvtpi2pd},
    {"movmskpd", {0x66, 0x0f, 0x50}, -1, -1, n_movmskpd},
    {"paddb", {0x66, 0x0f, 0xfc}, -1, -1, n_paddb},
    {"paddw", {0x66, 0x0f, 0xfd}, -1, -1, n_paddw},
    {"paddd", {0x66, 0x0f, 0xfe}, -1, -1, n_paddd},
    {"paddq", {0x66, 0x0f, 0xd4}, -1, -1, n_paddq},
    {"psubb", {0x66, 0x0f, 0xf8}, -1, -1, n_psubb},
    {"psubq", {0x66, 0x0f, 0xfb}, -1, -1, n_psubq},
    {"paddsb", {0x66, 0x0f, 0xec}, -1, -1, n_paddsb},
    {"paddusw", {0x66, 0x0f, 0xdd}, -1, -1, n_paddusw},
    {"psubsw", {0x66, 0x0f, 0xe9}, -1, -1, n_psubsw},
    {"psubusb", {0x66, 0x0f, 0xd8}, -1, -1, n_psubusb},
    {"pmullw", {0x66, 0x0f, 0xd5}, -1, -1, n_pmullw},
    {"pmulhw", {0x66, 0x0f, 0xe5}, -1, -1, n_pmulhw},
    {"pmulhuw", {0x66, 0x0f, 0xe4}, -1, -1, n_pmulhuw},
    {"pmuludq", {0x66, 0x0f, 0xf4}, -1, -1, n_pmuludq},
    {"pmaddwd", {0x66, 0x0f, 0xf5}, -1, -1, n_pmaddwd},
    {"psadbw", {0x66, 0x0f, 0xf6}, -1, -1, n_psadbw},
    {"pavgb", {0x66, 0x0f, 0xe0}, -1, -1, n_pavgb},
    {"pavgw", {0x66, 0x0f, 0xe3}, -1, -1, n_pavgw},
    {"pminub", {0x66, 0x0f, 0xda}, -1, -1, n_pminub},
    {"pmaxub", {0x66, 0x0f, 0xde}, -1, -1, n_pmaxub},
    {"pminsw", {0x66, 0x0f, 0xea}, -1, -1, n_pminsw},
    {"pmaxsw", {0x66, 0x0f, 0xee}, -1, -1, n_pmaxsw},
    {"pcmpeqb", {0x66, 0x0f, 0x74}, -1, -1, n_pcmpeqb},
    {"pcmpgtd", {0x66, 0x0f, 0x66}, -1, -1, n_pcmpgtd},
    {"packsswb", {0x66, 0x0f, 0x63}, -1, -1, n_packsswb},
    {"packuswb", {0x66, 0x0f, 0x67}, -1, -1, n_packuswb},
    {"packssdw", {0x66, 0x0f, 0x6b}, -1, -1, n_packssdw},
    {"punpcklbw", {0x66, 0x0f, 0x60}, -1, -1, n_punpcklbw},
    {"punpckhdq", {0x66, 0x0f, 0x6a}, -1, -1, n_punpckhdq},
    {"punpcklqdq", {0x66, 0x0f, 0x6c}, -1, -1, n_punpcklqdq},
    {"punpckhqdq", {0x66, 0x0f, 0x6d}, -1, -1, n_punpckhqdq},
    {"pand", {0x66, 0x0f, 0xdb}, -1, -1, n_pand},
    {"pandn", {0x66, 0x0f, 0xdf}, -1, -1, n_pandn},
    {"por", {0x66, 0x0f, 0xeb}, -1, -1, n_por},
    {"pxor", {0x66, 0x0f, 0xef}, -1, -1, n_pxor},
    {"psllw", {0x66, 0x0f, 0xf1}, -1, -1, n_psllw},
    {"psrad", {0x66, 0x0f, 0xe2}, -1, -1, n_psrad},
    {"psrlq", {0x66, 0x0f, 0xd3}, -1, -1, n_psrlq},
    {"pshufd", {0x66, 0x0f, 0x70}, -1, 0x4e, n_pshufd},
    {"pshufhw", {0xf3, 0x0f, 0x70}, -1, 0x1b, n_pshufhw},
    {"pshuflw", {0xf2, 0x0f, 0x70}, -1, 0xe4, n_pshuflw},
    {"psllw i", {0x66, 0x0f, 0x71}, 6, 3, n_psllwi},
    {"psraw i", {0x66, 0x0f, 0x71}, 4, 9, n_psrawi},
    {"psrld i", {0x66, 0x0f, 0x72}, 2, 31, n_psrldi},
    {"psllq i", {0x66, 0x0f, 0x73}, 6, 40, n_psllqi},
    {"psrldq i", {0x66, 0x0f, 0x73}, 3, 5, n_psrldqi},
    {"pslldq i", {0x66, 0x0f, 0x73}, 7, 17, n_pslldqi},
    {"pmovmskb", {0x66, 0x0f, 0xd7}, -1, -1, n_pmovmskb},
    {"pextrw", {0x66, 0x0f, 0xc5}, -1, 5, n_pextrw},
    {"pinsrw", {0x66, 0x0f, 0xc4}, -1, 6, n_pinsrw},
    {"movd x", {0x66, 0x0f, 0x6e}, -1, -1, n_movd_x},
    {"movd x st", {0x66, 0x0f, 0x7e}, -1, -1, n_movd_xst},
    {"movq x", {0xf3, 0x0f, 0x7e}, -1, -1, n_movq_x},
    {"movq x st", {0x66, 0x0f, 0xd6}, -1, -1, n_movq_xst},
    {"movdqa", {0x66, 0x0f, 0x6f}, -1, -1, n_movdqa},
    {"movdqu st", {0xf3, 0x0f, 0x7f}, -1, -1, n_movdqu_st},
    {"movq2dq", {0xf3, 0x0f, 0xd6}, -1, -1, n_movq2dq},
    {"movdq2q", {0xf2, 0x0f, 0xd6}, -1, -1, n_movdq2q},
    {"mmx paddb", {0x0f, 0xfc}, -1, -1, n_mpaddb},
    {"mmx psubusw", {0x0f, 0xd9}, -1, -1, n_mpsubusw},
    {"mmx pmullw", {0x0f, 0xd5}, -1, -1, n_mpmullw},
    {"mmx pmaddwd", {0x0f, 0xf5}, -1, -1, n_mpmaddwd},
    {"mmx packsswb", {0x0f, 0x63}, -1, -1, n_mpacksswb},
    {"mmx punpcklbw", {0x0f, 0x60}, -1, -1, n_mpunpcklbw},
    {"mmx pcmpeqw", {0x0f, 0x75}, -1, -1, n_mpcmpeqw},
    {"mmx psllq", {0x0f, 0xf3}, -1, -1, n_mpsllq},
    {"mmx psrlw i", {0x0f, 0x71}, 2, 5, n_mpsrlwi},
    {"mmx pshufw", {0x0f, 0x70}, -1, 0x93, n_mpshufw},
    {"mmx pavgb", {0x0f, 0xe0}, -1, -1, n_mpavgb},
    {"mmx psadbw", {0x0f, 0xf6}, -1, -1, n_mpsadbw},
    {"mmx pextrw", {0x0f, 0xc5}, -1, 2, n_mpextrw},
    {"mmx pinsrw", {0x0f, 0xc4}, -1, 1, n_mpinsrw},
    {"mmx pmovmskb", {0x0f, 0xd7}, -1, -1, n_mpmovmskb},
    {"mmx movd", {0x0f, 0x6e}, -1, -1, n_mmovd},
    {"mmx movd st", {0x0f, 0x7e}, -1, -1, n_mmovd_st},
    {"mmx movq", {0x0f, 0x6f}, -1, -1, n_mmovq},
    {"mmx movq st", {0x0f, 0x7f}, -1, -1, n_mmovq_st},
    {"mmx paddq", {0x0f, 0xd4}, -1, -1, n_mpaddq},
    {"mmx pmuludq", {0x0f, 0xf4}, -1, -1, n_mpmuludq},
    {"mmx pxor", {0x0f, 0xef}, -1, -1, n_mpxor},
};

const Case SSE3_CASES[] = {
    {"addsubps", {0xf2, 0x0f, 0xd0}, -1, -1, n_addsubps},
    {"addsubpd", {0x66, 0x0f, 0xd0}, -1, -1, n_addsubpd},
    {"haddps", {0xf2, 0x0f, 0x7c}, -1, -1, n_haddps},
    {"haddpd", {0x66, 0x0f, 0x7c}, -1, -1, n_haddpd},
    {"hsubps", {0xf2, 0x0f, 0x7d}, -1, -1, n_hsubps},
    {"hsubpd", {0x66, 0x0f, 0x7d}, -1, -1, n_hsubpd},
    {"movshdup", {0xf3, 0x0f, 0x16}, -1, -1, n_movshdup},
    {"movsldup", {0xf3, 0x0f, 0x12}, -1, -1, n_movsldup},
    {"movddup", {0xf2, 0x0f, 0x12}, -1, -1, n_movddup},
};

const uint32_t F32[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbfc00000, 0x7f800000, 0xff800000, 0x7fc00000,
    0xffc00001, 0x7fa00000, 0x00000001, 0x807fffff, 0x7f7fffff, 0x00800000, 0x4f000000,
    0xcf000001, 0x3eaaaaab, 0x40490fdb, 0x0000ffff, 0x00800001, 0x3f000000,
};
const uint64_t F64[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
    0x7ff4000000000000ull, 0x0000000000000001ull, 0x800fffffffffffffull,
    0x7fefffffffffffffull, 0x41e0000000000000ull, 0xc1e0000000200000ull,
    0x3fd5555555555555ull, 0x400921fb54442d18ull, 0x0010000000000000ull,
    0x47efffffe0000000ull, 0x3800000000000000ull,
};
const uint32_t I32[] = { 0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x8000, 0x7fff, 0xff };

struct Gen {
    std::mt19937_64 rng{12345};
    uint64_t r64() { return rng(); }
    uint32_t pick32()
    {
        switch (rng() % 4) {
        case 0: return F32[rng() % (sizeof(F32) / 4)];
        case 1: return I32[rng() % (sizeof(I32) / 4)];
        case 2: return (uint32_t)rng() & 0x3fffffff; // small positive floats
        default: return (uint32_t)rng();
        }
    }
    uint64_t pick64()
    {
        switch (rng() % 3) {
        case 0: return F64[rng() % (sizeof(F64) / 8)];
        case 1: return pick32() | (uint64_t)pick32() << 32;
        default: return rng();
        }
    }
    void fill(uint8_t *p, unsigned n)
    {
        for (unsigned i = 0; i < n; i += 8) {
            uint64_t v = pick64();
            memcpy(p + i, &v, 8);
        }
    }
};

const uint32_t MXCSRS[] = {
    0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9f80, 0x1fff, 0x9fc0, 0xffc0,
};

struct SseTest : ::testing::Test {
    CpuHarness h;
    void SetUp() override
    {
        h.flat32();
        h.c->cr[4] |= CR4_OSFXSR | CR4_OSXMMEXCPT;
        h.c->cr[0] |= CR0_NE;
    }
    Res run(std::vector<uint8_t> b) { return exec(h.c, h.ram, b); }
    FpuState *fpu() { return fpu_get(h.c); }
    uint64_t mm(int i)
    {
        uint64_t v;
        memcpy(&v, fpu()->st[i], 8);
        return v;
    }
    void set_mm(int i, uint64_t v) { memcpy(fpu()->st[i], &v, 8); }
    void set_xmm(int i, uint64_t lo, uint64_t hi)
    {
        memcpy(h.c->xmm[i], &lo, 8);
        memcpy(h.c->xmm[i] + 8, &hi, 8);
    }
    uint64_t xmm(int i, int half)
    {
        uint64_t v;
        memcpy(&v, h.c->xmm[i] + 8 * half, 8);
        return v;
    }
    // 32-bit [disp32] memory form of prefix/0F/op, ModRM.reg = reg
    static std::vector<uint8_t> mem(std::vector<uint8_t> op, int reg, uint32_t addr, int imm = -1)
    {
        op.push_back((uint8_t)(0x05 | reg << 3));
        for (int i = 0; i < 4; i++) op.push_back((uint8_t)(addr >> (8 * i)));
        if (imm >= 0) op.push_back((uint8_t)imm);
        return op;
    }
    static std::vector<uint8_t> rr(std::vector<uint8_t> op, int reg, int rm, int imm = -1)
    {
        op.push_back((uint8_t)(0xc0 | reg << 3 | rm));
        if (imm >= 0) op.push_back((uint8_t)imm);
        return op;
    }
    // Runs every case's register form over generated operands and compares the guest's
    // registers, MXCSR and EFLAGS with the instruction run natively.
    void match_host(const Case *cases, size_t ncases);
    // #UD, whether the decoder or the handler decides it
    bool is_ud(std::vector<uint8_t> b)
    {
        Insn in;
        if (decode(&in, b.data(), (unsigned)b.size(), true) == DECODE_OK && in.mnem == M_UD)
            return true;
        return run(b).vector == EXC_UD;
    }
};

TEST_F(SseTest, RegisterFormsMatchHost)
{
    match_host(CASES, sizeof(CASES) / sizeof(CASES[0]));
}

TEST_F(SseTest, Sse3RegisterFormsMatchHost)
{
    if (!sse_host_has_sse3()) GTEST_SKIP() << "the host has no SSE3";
    match_host(SSE3_CASES, sizeof(SSE3_CASES) / sizeof(SSE3_CASES[0]));
}

void SseTest::match_host(const Case *cases, size_t ncases)
{
    Gen g;
    int failures = 0;
    for (size_t ci = 0; ci < ncases; ci++) {
        const Case &k = cases[ci];
        for (int iter = 0; iter < 160 && failures < 20; iter++) {
            Native n;
            g.fill(n.x0, 16);
            g.fill(n.x1, 16);
            n.m0 = g.pick64();
            n.m1 = g.pick64();
            n.eax = g.pick32();
            n.ecx = g.pick32();
            n.mxcsr = MXCSRS[iter % 8];
            // guest: reg field = xmm2/mm2/edx, r/m = xmm5/mm5/ebp
            Cpu *c = h.c;
            fpu_reset(&c->fpu);
            memcpy(c->xmm[2], n.x0, 16);
            memcpy(c->xmm[5], n.x1, 16);
            set_mm(2, n.m0);
            set_mm(5, n.m1);
            c->regs[R_EDX] = n.eax;
            c->regs[R_EBP] = n.ecx;
            c->eflags = FL_FIXED1;
            sse_set_mxcsr(c, n.mxcsr);
            std::vector<uint8_t> b = rr(k.op, k.ext >= 0 ? k.ext : 2, 5, k.imm);
            Res r = run(b);
            k.fn(&n);
            bool ok = !r.fault && memcmp(c->xmm[2], n.x0, 16) == 0 &&
                      memcmp(c->xmm[5], n.x1, 16) == 0 && mm(2) == n.m0 && mm(5) == n.m1 &&
                      c->regs[R_EDX] == n.eax && c->regs[R_EBP] == n.ecx &&
                      sse_mxcsr(c) == n.mxcsr;
            uint8_t opc = k.op.back();
            if (ok && (opc == 0x2e || opc == 0x2f))
                ok = !!(c->eflags & FL_ZF) == n.zf && !!(c->eflags & FL_PF) == n.pf &&
                     !!(c->eflags & FL_CF) == n.cf;
            if (!ok) {
                failures++;
                ADD_FAILURE() << k.name << " iter " << iter << " fault " << r.vector
                              << std::hex << " mxcsr g=" << sse_mxcsr(c) << " n=" << n.mxcsr
                              << " x2 " << xmm(2, 1) << ":" << xmm(2, 0) << " n "
                              << *(uint64_t *)(n.x0 + 8) << ":" << *(uint64_t *)n.x0
                              << " edx " << c->regs[R_EDX] << " n " << n.eax;
            }
        }
    }
}

TEST_F(SseTest, MmxStateTransition)
{
    FpuState *f = fpu();
    ASSERT_FALSE(run({0xdb, 0xe3}).fault); // fninit
    EXPECT_EQ(f->tw, 0xffff);
    f->sw = 5u << FSW_TOP_SHIFT;
    set_mm(1, 0x0102030405060708ull);
    set_mm(3, 0x1111111111111111ull);
    ASSERT_FALSE(run(rr({0x0f, 0xfc}, 1, 3)).fault); // paddb mm1, mm3
    EXPECT_EQ(mm(1), 0x1213141516171819ull);
    EXPECT_EQ(f->tw, 0u);                           // all valid
    EXPECT_EQ((f->sw >> FSW_TOP_SHIFT) & 7, 0u);    // TOP = 0
    EXPECT_EQ(f->st[1][8], 0xff);                   // written register: exponent ones
    EXPECT_EQ(f->st[1][9], 0xff);
    EXPECT_EQ(f->st[3][9], 0x00);                   // source untouched
    // FLD1 with every register valid: stack overflow, masked -> IE|SF, QNaN indefinite
    ASSERT_FALSE(run({0xd9, 0xe8}).fault);
    EXPECT_EQ(f->sw & (FSW_IE | FSW_SF), FSW_IE | FSW_SF);
    // EMMS then FLD1 works
    ASSERT_FALSE(run({0xdb, 0xe3}).fault);
    ASSERT_FALSE(run(rr({0x0f, 0xfc}, 1, 3)).fault);
    ASSERT_FALSE(run({0x0f, 0x77}).fault);
    EXPECT_EQ(f->tw, 0xffff);
    ASSERT_FALSE(run({0xd9, 0xe8}).fault);
    EXPECT_EQ(f->sw & FSW_EXC, 0u);
    EXPECT_EQ((f->sw >> FSW_TOP_SHIFT) & 7, 7u);
    // SSE instructions do not touch the x87 state
    ASSERT_FALSE(run({0xdb, 0xe3}).fault);
    ASSERT_FALSE(run(rr({0x0f, 0x58}, 0, 1)).fault);
    EXPECT_EQ(f->tw, 0xffff);
    // cvtpi2ps xmm, m64: no transition; with an mm source: transition
    ASSERT_FALSE(run(mem({0x0f, 0x2a}, 0, MEM)).fault);
    EXPECT_EQ(f->tw, 0xffff);
    ASSERT_FALSE(run(rr({0x0f, 0x2a}, 0, 1)).fault);
    EXPECT_EQ(f->tw, 0u);
}

TEST_F(SseTest, MmxPendingX87ExceptionIsMF)
{
    FpuState *f = fpu();
    f->sw |= FSW_ZE | FSW_ES | FSW_B;
    f->cw &= (uint16_t)~FSW_ZE;
    EXPECT_EQ(run(rr({0x0f, 0xfc}, 1, 3)).vector, EXC_MF);
    EXPECT_EQ(run({0x0f, 0x77}).vector, EXC_MF);
    EXPECT_FALSE(run(rr({0x0f, 0x58}, 0, 1)).fault); // SSE: no x87 check
}

TEST_F(SseTest, ControlRegisterChecks)
{
    Cpu *c = h.c;
    c->cr[4] &= ~CR4_OSFXSR;
    EXPECT_EQ(run(rr({0x0f, 0x58}, 0, 1)).vector, EXC_UD);
    EXPECT_EQ(run(rr({0x66, 0x0f, 0xfc}, 0, 1)).vector, EXC_UD);
    EXPECT_EQ(run(mem({0x0f, 0xae}, 2, MEM)).vector, EXC_UD); // ldmxcsr
    EXPECT_FALSE(run(rr({0x0f, 0xfc}, 0, 1)).fault);         // MMX needs no OSFXSR
    EXPECT_FALSE(run(mem({0x0f, 0xae}, 0, MEM)).fault);      // fxsave neither
    c->cr[4] |= CR4_OSFXSR;
    c->cr[0] |= CR0_TS;
    EXPECT_EQ(run(rr({0x0f, 0x58}, 0, 1)).vector, EXC_NM);
    EXPECT_EQ(run(rr({0x0f, 0xfc}, 0, 1)).vector, EXC_NM);
    EXPECT_EQ(run({0x0f, 0x77}).vector, EXC_NM);
    EXPECT_EQ(run(mem({0x0f, 0xae}, 0, MEM)).vector, EXC_NM);
    c->cr[0] |= CR0_EM;
    EXPECT_EQ(run(rr({0x0f, 0x58}, 0, 1)).vector, EXC_UD);
    EXPECT_EQ(run(rr({0x0f, 0xfc}, 0, 1)).vector, EXC_UD);
    EXPECT_EQ(run(mem({0x0f, 0xae}, 0, MEM)).vector, EXC_NM);
    c->cr[0] &= ~(CR0_EM | CR0_TS);
    // undefined encodings stay #UD: SSSE3, 66 0F 12 register form
    EXPECT_TRUE(is_ud(rr({0xf3, 0x0f, 0x7c}, 0, 1))); // haddps takes F2, not F3
    EXPECT_EQ(run(rr({0x0f, 0x38, 0x00}, 0, 1)).vector, EXC_UD);
    EXPECT_EQ(run(rr({0x66, 0x0f, 0x12}, 0, 1)).vector, EXC_UD);
    EXPECT_EQ(run(mem({0xf3, 0x0f, 0xd6}, 0, MEM)).vector, EXC_UD);
}

TEST_F(SseTest, MemoryFormsAndAlignment)
{
    Cpu *c = h.c;
    float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
    memcpy(c->xmm[3], a, 16);
    memcpy(h.ram + MEM, b, 16);
    ASSERT_FALSE(run(mem({0x0f, 0x58}, 3, MEM)).fault); // addps xmm3, [MEM]
    float out[4];
    memcpy(out, c->xmm[3], 16);
    EXPECT_EQ(out[0], 11.0f);
    EXPECT_EQ(out[3], 44.0f);
    // misaligned: #GP(0) for addps/movaps/movdqa/movntps, state unchanged
    Res r = run(mem({0x0f, 0x58}, 3, MEM + 4));
    EXPECT_EQ(r.vector, EXC_GP);
    EXPECT_EQ(c->pending_errcode, 0u);
    memcpy(out, c->xmm[3], 16);
    EXPECT_EQ(out[0], 11.0f);
    EXPECT_EQ(run(mem({0x0f, 0x28}, 3, MEM + 8)).vector, EXC_GP);
    EXPECT_EQ(run(mem({0x66, 0x0f, 0x7f}, 3, MEM + 1)).vector, EXC_GP);
    EXPECT_EQ(run(mem({0x0f, 0x2b}, 3, MEM + 1)).vector, EXC_GP);
    // movups / movdqu / addss / movq: no alignment requirement
    for (int i = 0; i < 32; i++) h.ram[MEM + 0x100 + i] = (uint8_t)(i + 1);
    ASSERT_FALSE(run(mem({0x0f, 0x10}, 1, MEM + 0x101)).fault);
    EXPECT_EQ(xmm(1, 0), 0x0908070605040302ull);
    EXPECT_EQ(xmm(1, 1), 0x11100f0e0d0c0b0aull);
    ASSERT_FALSE(run(mem({0xf3, 0x0f, 0x7f}, 1, MEM + 0x203)).fault);
    EXPECT_EQ(memcmp(h.ram + MEM + 0x203, h.ram + MEM + 0x101, 16), 0);
    // movss xmm, m32 zeroes the upper lanes; movss m32, xmm stores 4 bytes
    set_xmm(4, ~0ull, ~0ull);
    h.wr32(MEM + 0x301, 0x3f800000);
    ASSERT_FALSE(run(mem({0xf3, 0x0f, 0x10}, 4, MEM + 0x301)).fault);
    EXPECT_EQ(xmm(4, 0), 0x3f800000ull);
    EXPECT_EQ(xmm(4, 1), 0ull);
    h.wr32(MEM + 0x404, 0xdeadbeef);
    set_xmm(4, 0x1122334455667788ull, 0);
    ASSERT_FALSE(run(mem({0xf3, 0x0f, 0x11}, 4, MEM + 0x400)).fault);
    EXPECT_EQ(h.rd32(MEM + 0x400), 0x55667788u);
    EXPECT_EQ(h.rd32(MEM + 0x404), 0xdeadbeefu);
    // movlps/movhps load and store 8 bytes, keeping the other half
    set_xmm(4, 1, 2);
    memset(h.ram + MEM + 0x500, 0xab, 8);
    ASSERT_FALSE(run(mem({0x0f, 0x16}, 4, MEM + 0x500)).fault);
    EXPECT_EQ(xmm(4, 0), 1ull);
    EXPECT_EQ(xmm(4, 1), 0xababababababababull);
    ASSERT_FALSE(run(mem({0x66, 0x0f, 0x13}, 4, MEM + 0x508)).fault); // movlpd m64
    EXPECT_EQ(h.rd32(MEM + 0x508), 1u);
    // pinsrw xmm, m16; movd m32, mm; movq m64, mm
    h.ram[MEM + 0x600] = 0x34;
    h.ram[MEM + 0x601] = 0x12;
    set_xmm(6, 0, 0);
    ASSERT_FALSE(run(mem({0x66, 0x0f, 0xc4}, 6, MEM + 0x600, 7)).fault);
    EXPECT_EQ(xmm(6, 1), 0x1234000000000000ull);
    set_mm(0, 0xcafebabe12345678ull);
    ASSERT_FALSE(run(mem({0x0f, 0x7e}, 0, MEM + 0x700)).fault);
    EXPECT_EQ(h.rd32(MEM + 0x700), 0x12345678u);
    ASSERT_FALSE(run(mem({0x0f, 0x7f}, 0, MEM + 0x710)).fault);
    EXPECT_EQ(h.rd32(MEM + 0x714), 0xcafebabeu);
    // punpcklbw mm, m32 reads only 4 bytes: the last 4 bytes of RAM work
    uint32_t last = CpuHarness::RAM - 4;
    set_mm(0, 0);
    h.wr32(last, 0x44332211);
    ASSERT_FALSE(run(mem({0x0f, 0x60}, 0, last)).fault);
    EXPECT_EQ(mm(0), 0x4400330022001100ull);
    // movnti m32, r32
    c->regs[R_EBX] = 0x600dcafe;
    ASSERT_FALSE(run(mem({0x0f, 0xc3}, R_EBX, MEM + 0x720)).fault);
    EXPECT_EQ(h.rd32(MEM + 0x720), 0x600dcafeu);
}

TEST_F(SseTest, MemoryFaultLeavesStateUnchanged)
{
    Cpu *c = h.c;
    set_xmm(3, 0x1111, 0x2222);
    set_mm(1, 0x3333);
    c->seg[SEG_DS].limit = MEM + 7; // only 8 bytes of [MEM] are inside DS
    EXPECT_EQ(run(mem({0x0f, 0x58}, 3, MEM)).vector, EXC_GP);     // addps: 16 bytes
    EXPECT_EQ(run(mem({0x0f, 0x11}, 3, MEM)).vector, EXC_GP);     // movups store
    EXPECT_EQ(run(mem({0x0f, 0xfc}, 1, MEM + 4)).vector, EXC_GP); // paddb mm, m64
    EXPECT_EQ(xmm(3, 0), 0x1111ull);
    EXPECT_EQ(xmm(3, 1), 0x2222ull);
    EXPECT_EQ(mm(1), 0x3333ull);
    EXPECT_EQ(fpu()->st[1][9], 0); // no MMX write happened
    EXPECT_EQ(h.rd32(MEM), 0u);
    // the 8 bytes inside the limit are fine
    EXPECT_FALSE(run(mem({0x0f, 0x13}, 3, MEM)).fault); // movlps m64, xmm3
    EXPECT_EQ(h.rd32(MEM), 0x1111u);
}

TEST_F(SseTest, MaskMov)
{
    Cpu *c = h.c;
    memset(h.ram + MEM, 0x55, 16);
    c->regs[R_EDI] = MEM;
    set_mm(1, 0x8877665544332211ull);
    set_mm(2, 0x8000800000ff7f80ull);
    ASSERT_FALSE(run(rr({0x0f, 0xf7}, 1, 2)).fault);
    EXPECT_EQ(h.rd32(MEM), 0x55335511u);
    EXPECT_EQ(h.rd32(MEM + 4), 0x88556655u);
    set_xmm(1, 0x0807060504030201ull, 0x100f0e0d0c0b0a09ull);
    set_xmm(2, 0, 0x8000000000000080ull);
    ASSERT_FALSE(run(rr({0x66, 0x0f, 0xf7}, 1, 2)).fault);
    EXPECT_EQ(h.ram[MEM + 8], 0x09);
    EXPECT_EQ(h.ram[MEM + 15], 0x10);
    EXPECT_EQ(h.ram[MEM + 9], 0x55);
}

TEST_F(SseTest, UnmaskedExceptions)
{
    Cpu *c = h.c;
    float a[4] = {1, 2, 3, 4}, z[4] = {1, 0, 1, 1};
    memcpy(c->xmm[0], a, 16);
    memcpy(c->xmm[1], z, 16);
    sse_set_mxcsr(c, 0x1f80 & ~0x200u); // ZM clear
    EXPECT_EQ(run(rr({0x0f, 0x5e}, 0, 1)).vector, EXC_XM);
    EXPECT_EQ(sse_mxcsr(c), (0x1f80u & ~0x200u) | 0x4u); // ZE set
    EXPECT_EQ(memcmp(c->xmm[0], a, 16), 0);                // result discarded
    c->cr[4] &= ~CR4_OSXMMEXCPT;
    EXPECT_EQ(run(rr({0x0f, 0x5e}, 0, 1)).vector, EXC_UD);
    c->cr[4] |= CR4_OSXMMEXCPT;
    // masked: result stored, flag set
    sse_set_mxcsr(c, 0x1f80);
    ASSERT_FALSE(run(rr({0x0f, 0x5e}, 0, 1)).fault);
    EXPECT_EQ(sse_mxcsr(c), 0x1f84u);
    EXPECT_EQ(xmm(0, 0) >> 32, 0x7f800000ull); // 2/0 = +inf
    // unmasked precision exception on 1/3: PE only is unmasked -> #XM with PE set
    float t[4] = {1, 1, 1, 1}, d[4] = {3, 1, 1, 1};
    memcpy(c->xmm[0], t, 16);
    memcpy(c->xmm[1], d, 16);
    sse_set_mxcsr(c, 0x1f80 & ~0x1000u);
    EXPECT_EQ(run(rr({0x0f, 0x5e}, 0, 1)).vector, EXC_XM);
    EXPECT_EQ(sse_mxcsr(c) & MXCSR_FLAGS, 0x20u);
    EXPECT_EQ(memcmp(c->xmm[0], t, 16), 0);
    // integer SSE2 ops never raise
    sse_set_mxcsr(c, 0);
    EXPECT_FALSE(run(rr({0x66, 0x0f, 0xfe}, 0, 1)).fault);
}

TEST_F(SseTest, LdmxcsrStmxcsr)
{
    Cpu *c = h.c;
    EXPECT_EQ(sse_mxcsr(c), 0x1f80u);
    h.wr32(MEM, 0x3f85);
    ASSERT_FALSE(run(mem({0x0f, 0xae}, 2, MEM)).fault);
    EXPECT_EQ(sse_mxcsr(c), 0x3f85u);
    ASSERT_FALSE(run(mem({0x0f, 0xae}, 3, MEM + 0x10)).fault);
    EXPECT_EQ(h.rd32(MEM + 0x10), 0x3f85u);
    h.wr32(MEM, 0x10000 | 0x1f80);
    EXPECT_EQ(run(mem({0x0f, 0xae}, 2, MEM)).vector, EXC_GP);
    EXPECT_EQ(sse_mxcsr(c), 0x3f85u);
    // the rounding mode is used: 1/3 rounded down vs up differ by one ulp
    float one[4] = {1, 1, 1, 1}, three[4] = {3, 3, 3, 3};
    uint32_t down, up;
    sse_set_mxcsr(c, 0x3f80);
    memcpy(c->xmm[0], one, 16);
    memcpy(c->xmm[1], three, 16);
    ASSERT_FALSE(run(rr({0xf3, 0x0f, 0x5e}, 0, 1)).fault);
    memcpy(&down, c->xmm[0], 4);
    sse_set_mxcsr(c, 0x5f80);
    memcpy(c->xmm[0], one, 16);
    ASSERT_FALSE(run(rr({0xf3, 0x0f, 0x5e}, 0, 1)).fault);
    memcpy(&up, c->xmm[0], 4);
    EXPECT_EQ(up, down + 1);
    EXPECT_EQ(down, 0x3eaaaaaau);
}

TEST_F(SseTest, FxsaveLayoutAndRoundTrip)
{
    Cpu *c = h.c;
    FpuState *f = fpu();
    // x87: FLD1, FLDPI -> two valid registers, TOP = 6
    ASSERT_FALSE(run({0xdb, 0xe3}).fault); // fninit
    ASSERT_FALSE(run({0xd9, 0xe8}).fault);
    ASSERT_FALSE(run({0xd9, 0xeb}).fault);
    for (int i = 0; i < 8; i++) set_xmm(i, 0x1111111111111111ull * (i + 1), ~0ull - i);
    sse_set_mxcsr(c, 0x1fa0);
    memset(h.ram + MEM, 0xee, 512);
    ASSERT_FALSE(run(mem({0x0f, 0xae}, 0, MEM)).fault);
    const uint8_t *p = h.ram + MEM;
    EXPECT_EQ(p[0] | p[1] << 8, f->cw);
    EXPECT_EQ(p[2] | p[3] << 8, f->sw);
    EXPECT_EQ(p[4], 0xc0); // abridged: R6 and R7 valid
    EXPECT_EQ(h.rd32(MEM + 24), 0x1fa0u);
    EXPECT_EQ(h.rd32(MEM + 28), sse_mxcsr_mask());
    EXPECT_NE(sse_mxcsr_mask() & 0xffbf, 0u);
    // ST0 = pi, ST1 = 1.0 (80-bit, stack order)
    EXPECT_EQ(p[32 + 9], 0x40);
    EXPECT_EQ(p[48 + 9], 0x3f);
    EXPECT_EQ(p[48 + 7], 0x80);
    EXPECT_EQ(memcmp(p + 160 + 16 * 3, c->xmm[3], 16), 0);
    EXPECT_EQ(p[500], 0xee); // bytes 464-511 are not written
    // the host agrees on the layout of the XMM and x87 register areas
    // round trip: clobber, restore
    FpuState saved = *f;
    uint8_t xsaved[8][16];
    memcpy(xsaved, c->xmm, sizeof(xsaved));
    ASSERT_FALSE(run({0xdb, 0xe3}).fault); // fninit
    memset(c->xmm, 0, sizeof(c->xmm));
    sse_set_mxcsr(c, 0x1f80);
    ASSERT_FALSE(run(mem({0x0f, 0xae}, 1, MEM)).fault);
    EXPECT_EQ(f->cw, saved.cw);
    EXPECT_EQ(f->sw, saved.sw);
    EXPECT_EQ(f->tw, saved.tw); // full tags recomputed from the contents
    EXPECT_EQ(memcmp(f->st, saved.st, sizeof(f->st)), 0);
    EXPECT_EQ(memcmp(c->xmm, xsaved, sizeof(xsaved)), 0);
    EXPECT_EQ(sse_mxcsr(c), 0x1fa0u);
    // a zero register gets tag 01
    ASSERT_FALSE(run({0xd9, 0xee}).fault); // fldz
    ASSERT_FALSE(run(mem({0x0f, 0xae}, 0, MEM)).fault);
    ASSERT_FALSE(run({0xdb, 0xe3}).fault);
    ASSERT_FALSE(run(mem({0x0f, 0xae}, 1, MEM)).fault);
    EXPECT_EQ(f->tw, 0x07ffu); // R5 zero (01), R6 R7 valid (00), others empty
    // misaligned: #GP(0); bad MXCSR in the image: #GP(0), nothing loaded
    EXPECT_EQ(run(mem({0x0f, 0xae}, 0, MEM + 8)).vector, EXC_GP);
    EXPECT_EQ(run(mem({0x0f, 0xae}, 1, MEM + 8)).vector, EXC_GP);
    h.wr32(MEM + 24, 0xffff0000u);
    uint16_t tw = f->tw;
    EXPECT_EQ(run(mem({0x0f, 0xae}, 1, MEM)).vector, EXC_GP);
    EXPECT_EQ(f->tw, tw);
}

TEST_F(SseTest, FxsaveMatchesHost)
{
    // the guest image of a state equals the host's FXSAVE of the same state
    Cpu *c = h.c;
    ASSERT_FALSE(run({0xdb, 0xe3}).fault); // fninit
    ASSERT_FALSE(run({0xd9, 0xe8}).fault); // fld1
    ASSERT_FALSE(run({0xd9, 0xee}).fault); // fldz
    for (int i = 0; i < 8; i++) set_xmm(i, 0x0123456789abcdefull + i, 0xfedcba9876543210ull - i);
    ASSERT_FALSE(run(mem({0x0f, 0xae}, 0, MEM)).fault);
    alignas(16) uint8_t host[512];
    alignas(16) uint8_t xm[8][16];
    memcpy(xm, c->xmm, sizeof(xm));
    uint32_t mx = 0x1f80;
    __asm__ volatile("fninit\n"
                     "fld1\n"
                     "fldz\n"
                     "ldmxcsr %[mx]\n"
                     "movdqu 0(%[x]), %%xmm0\n"
                     "movdqu 16(%[x]), %%xmm1\n"
                     "movdqu 32(%[x]), %%xmm2\n"
                     "movdqu 48(%[x]), %%xmm3\n"
                     "movdqu 64(%[x]), %%xmm4\n"
                     "movdqu 80(%[x]), %%xmm5\n"
                     "movdqu 96(%[x]), %%xmm6\n"
                     "movdqu 112(%[x]), %%xmm7\n"
                     "fxsave %[h]\n"
                     "fninit\n"
                     : [h] "=m"(host)
                     : [x] "r"(xm), [mx] "m"(mx)
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                       "st", "memory");
    const uint8_t *g = h.ram + MEM;
    EXPECT_EQ(memcmp(g, host, 6), 0);     // FCW FSW FTW
    EXPECT_EQ(memcmp(g + 24, host + 24, 4), 0); // MXCSR
    uint32_t hmask;
    memcpy(&hmask, host + 28, 4);
    EXPECT_EQ(h.rd32(MEM + 28), hmask & 0xffff); // MXCSR_MASK: the host's legacy bits
    for (int i = 0; i < 8; i++) EXPECT_EQ(memcmp(g + 32 + 16 * i, host + 32 + 16 * i, 10), 0) << i;
    EXPECT_EQ(memcmp(g + 160, host + 160, 128), 0);
}

TEST_F(SseTest, ThroughCpuStep)
{
    // real mode, CS=0: addps xmm0, xmm1 ; paddd mm0, mm1 ; cvttss2si eax, xmm0
    CpuHarness r;
    r.c->cr[4] |= CR4_OSFXSR;
    float a[4] = {1.5f, 2, 3, 4}, b[4] = {2, 2, 2, 2};
    memcpy(r.c->xmm[0], a, 16);
    memcpy(r.c->xmm[1], b, 16);
    r.load(0x1000, {0x0f, 0x58, 0xc1, 0x0f, 0xfe, 0xc1, 0xf3, 0x0f, 0x2c, 0xc0});
    r.set_ip(0x1000);
    r.step(3);
    EXPECT_EQ(r.c->eip, 0x100au);
    float out[4];
    memcpy(out, r.c->xmm[0], 16);
    EXPECT_EQ(out[0], 3.5f);
    EXPECT_EQ(out[3], 6.0f);
    EXPECT_EQ(r.c->regs[R_EAX], 3u);
}

TEST_F(SseTest, Sse3MemoryFormsAndUndefinedForms)
{
    if (!sse_host_has_sse3()) GTEST_SKIP() << "the host has no SSE3";
    Cpu *c = h.c;
    float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40}, out[4];
    memcpy(c->xmm[3], a, 16);
    memcpy(h.ram + MEM, b, 16);
    ASSERT_FALSE(run(mem({0xf2, 0x0f, 0x7c}, 3, MEM)).fault); // haddps xmm3, [MEM]
    memcpy(out, c->xmm[3], 16);
    EXPECT_EQ(out[0], 3.0f);
    EXPECT_EQ(out[1], 7.0f);
    EXPECT_EQ(out[2], 30.0f);
    EXPECT_EQ(out[3], 70.0f);
    memcpy(c->xmm[3], a, 16);
    ASSERT_FALSE(run(mem({0xf2, 0x0f, 0xd0}, 3, MEM)).fault); // addsubps
    memcpy(out, c->xmm[3], 16);
    EXPECT_EQ(out[0], -9.0f);
    EXPECT_EQ(out[1], 22.0f);
    // 128-bit operands must be aligned, except LDDQU; MOVDDUP reads 8 bytes
    EXPECT_EQ(run(mem({0xf2, 0x0f, 0x7c}, 3, MEM + 4)).vector, EXC_GP);
    EXPECT_EQ(run(mem({0x66, 0x0f, 0xd0}, 3, MEM + 8)).vector, EXC_GP);
    EXPECT_EQ(run(mem({0xf3, 0x0f, 0x16}, 3, MEM + 1)).vector, EXC_GP); // movshdup
    for (int i = 0; i < 32; i++) h.ram[MEM + 0x100 + i] = (uint8_t)(i + 1);
    ASSERT_FALSE(run(mem({0xf2, 0x0f, 0xf0}, 1, MEM + 0x101)).fault); // lddqu
    EXPECT_EQ(xmm(1, 0), 0x0908070605040302ull);
    EXPECT_EQ(xmm(1, 1), 0x11100f0e0d0c0b0aull);
    ASSERT_FALSE(run(mem({0xf2, 0x0f, 0x12}, 2, MEM + 0x103)).fault); // movddup
    EXPECT_EQ(xmm(2, 0), 0x0b0a090807060504ull);
    EXPECT_EQ(xmm(2, 1), 0x0b0a090807060504ull);
    uint32_t last = CpuHarness::RAM - 8; // only 8 bytes are read
    ASSERT_FALSE(run(mem({0xf2, 0x0f, 0x12}, 2, last)).fault);
    // undefined: LDDQU register form, wrong prefixes, MONITOR/MWAIT
    EXPECT_TRUE(is_ud(rr({0xf2, 0x0f, 0xf0}, 0, 1)));
    EXPECT_TRUE(is_ud(rr({0x0f, 0x7c}, 0, 1)));
    EXPECT_TRUE(is_ud(rr({0xf3, 0x0f, 0xd0}, 0, 1)));
    EXPECT_TRUE(is_ud(rr({0xf2, 0x0f, 0x16}, 0, 1)));
    EXPECT_TRUE(is_ud({0x0f, 0x01, 0xc8}));
    EXPECT_TRUE(is_ud({0x0f, 0x01, 0xc9}));
    // the usual SSE checks apply
    c->cr[4] &= ~CR4_OSFXSR;
    EXPECT_EQ(run(rr({0xf2, 0x0f, 0x7c}, 0, 1)).vector, EXC_UD);
    c->cr[4] |= CR4_OSFXSR;
    c->cr[0] |= CR0_TS;
    EXPECT_EQ(run(rr({0x66, 0x0f, 0xd0}, 0, 1)).vector, EXC_NM);
    c->cr[0] &= ~CR0_TS;
    // unmasked exceptions: #XM, destination kept
    float inf[4] = {INFINITY, -INFINITY, 1, 1};
    memcpy(c->xmm[0], inf, 16);
    sse_set_mxcsr(c, 0x1f80 & ~0x80u); // IM clear
    EXPECT_EQ(run(rr({0xf2, 0x0f, 0x7c}, 0, 0)).vector, EXC_XM); // inf + -inf
    EXPECT_EQ(sse_mxcsr(c) & MXCSR_FLAGS, 1u);
    EXPECT_EQ(memcmp(c->xmm[0], inf, 16), 0);
}

// x87 FISTTP on the host, for comparison: ST0 = *in, store truncated, status word.
#define NAT_FISTTP(name, store)                                                            \
    uint16_t name(const long double *in, void *out)                                        \
    {                                                                                      \
        uint16_t sw;                                                                       \
        __asm__ volatile("fninit\n"                                                        \
                         "fldt (%[in])\n" store " (%[out])\n"                              \
                         "fnstsw %%ax\n"                                                   \
                         "mov %%ax, %[sw]\n"                                               \
                         "fninit\n"                                                        \
                         : [sw] "=r"(sw)                                                   \
                         : [in] "r"(in), [out] "r"(out)                                    \
                         : "rax", "st", "memory");                                         \
        return sw;                                                                         \
    }
NAT_FISTTP(nat_fisttp16, "fisttps")
NAT_FISTTP(nat_fisttp32, "fisttpl")
NAT_FISTTP(nat_fisttp64, "fisttpll")

TEST_F(SseTest, FisttpTruncatesAndMatchesHost)
{
    if (!sse_host_has_sse3()) GTEST_SKIP() << "the host has no SSE3";
    FpuState *f = fpu();
    auto put = [&](long double v) { memcpy(h.ram + MEM, &v, 10); };
    auto fld = [&] { return run(mem({0xdb}, 5, MEM)); }; // fld tbyte [MEM]
    ASSERT_FALSE(run({0xdb, 0xe3}).fault);              // fninit
    // 3.7 rounds to 4 (FISTP, round to nearest) but truncates to 3; -2.7 to -2
    put(3.7L);
    ASSERT_FALSE(fld().fault);
    ASSERT_FALSE(run(mem({0xdf}, 1, MEM + 0x10)).fault); // fisttp word
    EXPECT_EQ(h.ram[MEM + 0x10] | h.ram[MEM + 0x11] << 8, 3);
    EXPECT_EQ(f->tw, 0xffffu); // popped
    EXPECT_EQ((f->sw >> FSW_TOP_SHIFT) & 7, 0u);
    EXPECT_EQ(f->fop, 0x70du); // DF 0D: the pointers are recorded
    EXPECT_EQ(f->fdp, MEM + 0x10);
    put(-2.7L);
    ASSERT_FALSE(fld().fault);
    ASSERT_FALSE(run(mem({0xdb}, 1, MEM + 0x10)).fault); // fisttp dword
    EXPECT_EQ(h.rd32(MEM + 0x10), (uint32_t)-2);
    // the rounding control does not matter: round up still truncates 3.2 to 3
    f->cw |= 0x0800;
    put(3.2L);
    ASSERT_FALSE(fld().fault);
    ASSERT_FALSE(run(mem({0xdd}, 1, MEM + 0x10)).fault); // fisttp qword
    EXPECT_EQ(h.rd32(MEM + 0x10), 3u);
    EXPECT_EQ(h.rd32(MEM + 0x14), 0u);
    f->cw &= (uint16_t)~0x0800;
    // out of range, masked: the integer indefinite and IE
    put(1e10L);
    ASSERT_FALSE(fld().fault);
    ASSERT_FALSE(run(mem({0xdb}, 1, MEM + 0x10)).fault);
    EXPECT_EQ(h.rd32(MEM + 0x10), 0x80000000u);
    EXPECT_TRUE(f->sw & FSW_IE);
    // unmasked: nothing stored, the exception pending (#MF at the next waiting insn)
    ASSERT_FALSE(run({0xdb, 0xe3}).fault); // fninit
    f->cw &= (uint16_t)~FSW_IE;
    h.wr32(MEM + 0x10, 0x12345678);
    ASSERT_FALSE(fld().fault);
    ASSERT_FALSE(run(mem({0xdb}, 1, MEM + 0x10)).fault);
    EXPECT_EQ(h.rd32(MEM + 0x10), 0x12345678u);
    EXPECT_TRUE(f->sw & FSW_ES);
    EXPECT_EQ(run({0xd9, 0xe8}).vector, EXC_MF);
    // the memory operand is checked before anything changes
    ASSERT_FALSE(run({0xdb, 0xe3}).fault);
    put(1.5L);
    ASSERT_FALSE(fld().fault);
    h.c->seg[SEG_DS].limit = MEM + 0x11;
    EXPECT_EQ(run(mem({0xdb}, 1, MEM + 0x10)).vector, EXC_GP); // 4 bytes, 2 inside
    EXPECT_EQ(f->tw, 0x3fffu); // still loaded
    h.c->seg[SEG_DS].limit = 0xffffffffu;
    // random values against the host, all three sizes
    std::mt19937_64 rng(7);
    const long double special[] = {0.0L, -0.0L, 0.5L, -0.99L, 32767.9L, -32768.9L, 32768.0L,
                                   2147483647.5L, -2147483648.5L, 9.3e18L, -9.3e18L,
                                   INFINITY, -INFINITY, NAN, 1e-4000L};
    for (int i = 0; i < 300; i++) {
        long double v;
        if (i < (int)(sizeof(special) / sizeof(special[0])))
            v = special[i];
        else
            v = std::ldexp((long double)(int64_t)rng() / 9.2e18L, (int)(rng() % 70) - 4);
        for (int sz : {2, 4, 8}) {
            ASSERT_FALSE(run({0xdb, 0xe3}).fault);
            put(v);
            ASSERT_FALSE(fld().fault);
            uint8_t esc = sz == 2 ? 0xdf : sz == 4 ? 0xdb : 0xdd;
            memset(h.ram + MEM + 0x10, 0xcc, 8);
            ASSERT_FALSE(run(mem({esc}, 1, MEM + 0x10)).fault);
            uint8_t host[8];
            memset(host, 0xcc, 8);
            uint16_t sw = sz == 2 ? nat_fisttp16(&v, host)
                        : sz == 4 ? nat_fisttp32(&v, host) : nat_fisttp64(&v, host);
            EXPECT_EQ(memcmp(h.ram + MEM + 0x10, host, 8), 0) << (double)v << " size " << sz;
            EXPECT_EQ(f->sw & FSW_EXC, sw & FSW_EXC) << (double)v << " size " << sz;
        }
    }
}

TEST(SseCpuid, AdvertisesMmxFxsrSseSse2Sse3)
{
    CpuHarness h;
    uint32_t r[4];
    cpuid_query(h.c, 1, 0, r);
    EXPECT_EQ(r[3] & (0xfu << 23), 0xfu << 23); // MMX FXSR SSE SSE2
    EXPECT_EQ(r[2] & 1u, sse_host_has_sse3() ? 1u : 0u); // SSE3 with the host's
    EXPECT_EQ(r[2] & (1u << 3), 0u);                      // no MONITOR/MWAIT
    EXPECT_EQ(r[3] & (1u << 1), 0u);                      // no VME
}

} // namespace
