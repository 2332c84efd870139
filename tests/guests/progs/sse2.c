/*
 * sse2.c — SSE2: double-precision arithmetic, compares and min/max over zeros,
 * denormals, infinities and NaNs under all rounding modes and DAZ/FTZ, every
 * conversion between doubles, singles and integers (the overflow cases give the
 * integer indefinite), comisd/ucomisd EFLAGS, and the 128-bit integer instructions:
 * wrapping and saturating arithmetic, multiplies, compares, packs, unpacks, shifts by
 * in-range and out-of-range counts, byte shifts, shuffles, inserts/extracts,
 * movq/movd/movdq2q/movq2dq, maskmovdqu.
 * CFLAGS: -O2 -march=i686 -msse2
 */
#include "simd.h"

static const V128 vals[] = {
    {.q = {0x3ff0000000000000ull, 0x7ff8000000000001ull}}, /* 1, QNaN */
    {.q = {0x4008000000000000ull, 0x7ff0000000000001ull}}, /* 3, SNaN */
    {.q = {0x0000000000000001ull, 0xfff0000000000000ull}}, /* denormal, -inf */
    {.q = {0x7fe1ccf385ebc8a0ull, 0x8000000000000000ull}}, /* 1e308, -0 */
    {.q = {0x41e0000000000000ull, 0xc1e0000000100000ull}}, /* 2^31, -2^31-0.5 */
    {.q = {0x4004000000000000ull, 0xbfe0000000000000ull}}, /* 2.5, -0.5 */
    {.q = {0x000730d67819e8d2ull, 0x3ff0000000000001ull}}, /* 1e-308 (denormal), 1+ulp */
    {.q = {0x47efffffe0000000ull, 0x36a0000000000000ull}}, /* FLT_MAX+half ulp, 2^-149 */
    {.w = {0x7fff, 0x8000, 0x0001, 0xffff, 0x1234, 0x7ffe, 0x8001, 0x0000}},
    {.w = {0x0001, 0xffff, 0x7fff, 0x8000, 0x00ff, 0xff00, 0x0080, 0xfffe}},
    {.d = {0x3f800000, 0x00000001, 0x7fc00000, 0xcf000001}}, /* singles: 1, denormal, QNaN, -2^31-256 */
    {.q = {0x0000000000000021ull, 0x0000000000000008ull}},   /* shift counts 33 and 8 */
};
static const int pairs[][2] = {{0, 1}, {1, 0}, {2, 3}, {3, 2}, {4, 5}, {5, 4}, {6, 7},
                               {7, 6}, {8, 9}, {9, 8}, {10, 11}, {8, 11}, {3, 3}, {-1, -1}};

DEF(addpd, "addpd %%xmm1,%%xmm0")
DEF(addsd, "addsd %3,%%xmm0")
DEF(subpd, "subpd %3,%%xmm0")
DEF(mulpd, "mulpd %%xmm1,%%xmm0")
DEF(divpd, "divpd %%xmm1,%%xmm0")
DEF(divsd, "divsd %%xmm1,%%xmm0")
DEF(sqrtpd, "sqrtpd %%xmm1,%%xmm0")
DEF(sqrtsd, "sqrtsd %3,%%xmm0")
DEF(maxpd, "maxpd %%xmm1,%%xmm0")
DEF(minpd, "minpd %3,%%xmm0")
DEF(minsd, "minsd %%xmm1,%%xmm0")
DEF(cmpltpd, "cmpltpd %%xmm1,%%xmm0")
DEF(cmpunordpd, "cmpunordpd %%xmm1,%%xmm0")
DEF(cmpnlesd, "cmpnlesd %%xmm1,%%xmm0")
DEF(cmpeqpd, "cmpeqpd %3,%%xmm0")
DEF(andpd, "andpd %%xmm1,%%xmm0")
DEF(andnpd, "andnpd %%xmm1,%%xmm0")
DEF(orpd, "orpd %3,%%xmm0")
DEF(xorpd, "xorpd %%xmm1,%%xmm0")
DEF(shufpd, "shufpd $1,%%xmm1,%%xmm0")
DEF(unpcklpd, "unpcklpd %%xmm1,%%xmm0")
DEF(unpckhpd, "unpckhpd %3,%%xmm0")
DEF(movsd_reg, "movsd %%xmm1,%%xmm0")
DEF(movsd_mem, "movsd %3,%%xmm0")
DEF(cvtpd2ps, "cvtpd2ps %%xmm1,%%xmm0")
DEF(cvtps2pd, "cvtps2pd %%xmm1,%%xmm0")
DEF(cvtsd2ss, "cvtsd2ss %%xmm1,%%xmm0")
DEF(cvtss2sd, "cvtss2sd %3,%%xmm0")
DEF(cvtdq2ps, "cvtdq2ps %%xmm1,%%xmm0")
DEF(cvtps2dq, "cvtps2dq %%xmm1,%%xmm0")
DEF(cvttps2dq, "cvttps2dq %3,%%xmm0")
DEF(cvtdq2pd, "cvtdq2pd %%xmm1,%%xmm0")
DEF(cvtpd2dq, "cvtpd2dq %%xmm1,%%xmm0")
DEF(cvttpd2dq, "cvttpd2dq %%xmm1,%%xmm0")
DEF(cvtpd2pi, "cvtpd2pi %%xmm1,%%mm0\n\tmovq2dq %%mm0,%%xmm0\n\temms")
DEF(cvtpi2pd, "movdq2q %%xmm1,%%mm1\n\tcvtpi2pd %%mm1,%%xmm0\n\temms")
DEF(cvtsd2si, "cvtsd2si %%xmm1,%%eax\n\tmovd %%eax,%%xmm0")
DEF(cvttsd2si, "cvttsd2si %3,%%eax\n\tmovd %%eax,%%xmm0")
DEF(cvtsi2sd, "movd %%xmm1,%%eax\n\tcvtsi2sd %%eax,%%xmm0")
DEF(comisd, "comisd %%xmm1,%%xmm0\n\tpushfl\n\tpopl %%eax\n\tandl $0x8d5,%%eax\n\tmovd %%eax,%%xmm0")
DEF(ucomisd, "ucomisd %3,%%xmm0\n\tpushfl\n\tpopl %%eax\n\tandl $0x8d5,%%eax\n\tmovd %%eax,%%xmm0")
DEF(movmskpd, "movmskpd %%xmm1,%%eax\n\tmovd %%eax,%%xmm0")
DEF(paddb, "paddb %%xmm1,%%xmm0")
DEF(paddw, "paddw %3,%%xmm0")
DEF(paddd, "paddd %%xmm1,%%xmm0")
DEF(paddq, "paddq %%xmm1,%%xmm0")
DEF(psubq, "psubq %3,%%xmm0")
DEF(paddsb, "paddsb %%xmm1,%%xmm0")
DEF(paddusw, "paddusw %%xmm1,%%xmm0")
DEF(psubsw, "psubsw %%xmm1,%%xmm0")
DEF(psubusb, "psubusb %%xmm1,%%xmm0")
DEF(pmullw, "pmullw %%xmm1,%%xmm0")
DEF(pmulhw, "pmulhw %%xmm1,%%xmm0")
DEF(pmulhuw, "pmulhuw %3,%%xmm0")
DEF(pmuludq, "pmuludq %%xmm1,%%xmm0")
DEF(pmuludq_mmx, "movdq2q %%xmm0,%%mm0\n\tmovdq2q %%xmm1,%%mm1\n\tpmuludq %%mm1,%%mm0\n\tmovq2dq %%mm0,%%xmm0\n\temms")
DEF(pmaddwd, "pmaddwd %%xmm1,%%xmm0")
DEF(psadbw, "psadbw %%xmm1,%%xmm0")
DEF(pavgb, "pavgb %%xmm1,%%xmm0")
DEF(pavgw, "pavgw %3,%%xmm0")
DEF(pmaxsw, "pmaxsw %%xmm1,%%xmm0")
DEF(pminub, "pminub %%xmm1,%%xmm0")
DEF(pcmpeqb, "pcmpeqb %%xmm1,%%xmm0")
DEF(pcmpgtw, "pcmpgtw %%xmm1,%%xmm0")
DEF(pcmpgtd, "pcmpgtd %3,%%xmm0")
DEF(packsswb, "packsswb %%xmm1,%%xmm0")
DEF(packssdw, "packssdw %%xmm1,%%xmm0")
DEF(packuswb, "packuswb %3,%%xmm0")
DEF(punpcklbw, "punpcklbw %%xmm1,%%xmm0")
DEF(punpckhwd, "punpckhwd %%xmm1,%%xmm0")
DEF(punpckldq, "punpckldq %%xmm1,%%xmm0")
DEF(punpcklqdq, "punpcklqdq %%xmm1,%%xmm0")
DEF(punpckhqdq, "punpckhqdq %3,%%xmm0")
DEF(pand, "pand %%xmm1,%%xmm0")
DEF(pandn, "pandn %%xmm1,%%xmm0")
DEF(por, "por %%xmm1,%%xmm0")
DEF(pxor, "pxor %3,%%xmm0")
DEF(psllw, "psllw %%xmm1,%%xmm0")
DEF(pslld, "pslld %3,%%xmm0")
DEF(psllq, "psllq %%xmm1,%%xmm0")
DEF(psrlw, "psrlw %%xmm1,%%xmm0")
DEF(psrlq, "psrlq %%xmm1,%%xmm0")
DEF(psraw, "psraw %%xmm1,%%xmm0")
DEF(psrad, "psrad %%xmm1,%%xmm0")
DEF(psllw_i, "psllw $15,%%xmm0")
DEF(psrlw_i, "psrlw $16,%%xmm0")
DEF(psrad_i, "psrad $31,%%xmm0")
DEF(psraw_i, "psraw $40,%%xmm0")
DEF(psllq_i, "psllq $63,%%xmm0")
DEF(psrldq, "psrldq $3,%%xmm0")
DEF(pslldq, "pslldq $9,%%xmm0")
DEF(psrldq16, "psrldq $16,%%xmm0")
DEF(pshufd, "pshufd $0x1b,%%xmm1,%%xmm0")
DEF(pshufhw, "pshufhw $0x6c,%3,%%xmm0")
DEF(pshuflw, "pshuflw $0xb1,%%xmm1,%%xmm0")
DEF(pextrw, "pextrw $5,%%xmm1,%%eax\n\tmovd %%eax,%%xmm0")
DEF(pinsrw, "movd %%xmm1,%%eax\n\tpinsrw $6,%%eax,%%xmm0")
DEF(pmovmskb, "pmovmskb %%xmm1,%%eax\n\tmovd %%eax,%%xmm0")
DEF(movq_reg, "movq %%xmm1,%%xmm0")
DEF(movq_mem, "movq %3,%%xmm0")
DEF(movd_mem, "movd %3,%%xmm0")
DEF(maskmovdqu, "leal %3,%%edi\n\tmaskmovdqu %%xmm1,%%xmm0\n\tmovdqu %3,%%xmm0")

static const SimdOp ops[] = {
    ENTRY(addpd), ENTRY(addsd), ENTRY(subpd), ENTRY(mulpd), ENTRY(divpd), ENTRY(divsd),
    ENTRY(sqrtpd), ENTRY(sqrtsd), ENTRY(maxpd), ENTRY(minpd), ENTRY(minsd), ENTRY(cmpltpd),
    ENTRY(cmpunordpd), ENTRY(cmpnlesd), ENTRY(cmpeqpd), ENTRY(andpd), ENTRY(andnpd),
    ENTRY(orpd), ENTRY(xorpd), ENTRY(shufpd), ENTRY(unpcklpd), ENTRY(unpckhpd),
    ENTRY(movsd_reg), ENTRY(movsd_mem), ENTRY(cvtpd2ps), ENTRY(cvtps2pd), ENTRY(cvtsd2ss),
    ENTRY(cvtss2sd), ENTRY(cvtdq2ps), ENTRY(cvtps2dq), ENTRY(cvttps2dq), ENTRY(cvtdq2pd),
    ENTRY(cvtpd2dq), ENTRY(cvttpd2dq), ENTRY(cvtpd2pi), ENTRY(cvtpi2pd), ENTRY(cvtsd2si),
    ENTRY(cvttsd2si), ENTRY(cvtsi2sd), ENTRY(comisd), ENTRY(ucomisd), ENTRY(movmskpd),
    ENTRY(paddb), ENTRY(paddw), ENTRY(paddd), ENTRY(paddq), ENTRY(psubq), ENTRY(paddsb),
    ENTRY(paddusw), ENTRY(psubsw), ENTRY(psubusb), ENTRY(pmullw), ENTRY(pmulhw),
    ENTRY(pmulhuw), ENTRY(pmuludq), ENTRY(pmuludq_mmx), ENTRY(pmaddwd), ENTRY(psadbw),
    ENTRY(pavgb), ENTRY(pavgw), ENTRY(pmaxsw), ENTRY(pminub), ENTRY(pcmpeqb), ENTRY(pcmpgtw),
    ENTRY(pcmpgtd), ENTRY(packsswb), ENTRY(packssdw), ENTRY(packuswb), ENTRY(punpcklbw),
    ENTRY(punpckhwd), ENTRY(punpckldq), ENTRY(punpcklqdq), ENTRY(punpckhqdq), ENTRY(pand),
    ENTRY(pandn), ENTRY(por), ENTRY(pxor), ENTRY(psllw), ENTRY(pslld), ENTRY(psllq),
    ENTRY(psrlw), ENTRY(psrlq), ENTRY(psraw), ENTRY(psrad), ENTRY(psllw_i), ENTRY(psrlw_i),
    ENTRY(psrad_i), ENTRY(psraw_i), ENTRY(psllq_i), ENTRY(psrldq), ENTRY(pslldq),
    ENTRY(psrldq16), ENTRY(pshufd), ENTRY(pshufhw), ENTRY(pshuflw), ENTRY(pextrw),
    ENTRY(pinsrw), ENTRY(pmovmskb), ENTRY(movq_reg), ENTRY(movq_mem), ENTRY(movd_mem),
    ENTRY(maskmovdqu),
};

int main(void)
{
    progs_init();
    run_ops(ops, sizeof ops / sizeof ops[0], vals, pairs);
    printf("sse2 done\n");
    return 0;
}
