/*
 * sse3.c — SSE3: horizontal add/subtract and addsub over zeros, denormals,
 * infinities and NaNs under all rounding modes and DAZ/FTZ, the duplicating moves,
 * lddqu from every misalignment, and fisttp (x87 store truncating whatever the
 * rounding mode, integer indefinite and IE on overflow). Run by the test only when the
 * guest's /proc/cpuinfo shows "pni".
 * CFLAGS: -O2 -march=i686 -msse3
 */
#include "simd.h"

static const V128 vals[] = {
    {.d = {0x3f800000, 0x80000000, 0x7f800000, 0x7fc00001}}, /* 1 -0 +inf QNaN */
    {.d = {0x40400000, 0x00000001, 0xff800000, 0x7f800001}}, /* 3 denormal -inf SNaN */
    {.d = {0x7f7fffff, 0x7f7fffff, 0x3dcccccd, 0xbdcccccd}}, /* max max 0.1 -0.1 */
    {.d = {0x00800000, 0x80800000, 0x33800000, 0x3f800000}}, /* min normal, -min normal, 2^-24, 1 */
    {.q = {0x3ff0000000000000ull, 0x7ff8000000000001ull}},   /* 1, QNaN */
    {.q = {0x0000000000000001ull, 0xfff0000000000000ull}},   /* denormal, -inf */
    {.q = {0x7fefffffffffffffull, 0x7fefffffffffffffull}},   /* max, max */
    {.q = {0x3ff0000000000000ull, 0x3ca0000000000000ull}},   /* 1, 2^-53 */
};
static const int pairs[][2] = {{0, 1}, {1, 0}, {2, 3}, {3, 2}, {2, 2}, {4, 5},
                               {5, 4}, {6, 7}, {7, 6}, {6, 6}, {-1, -1}};

DEF(haddps, "haddps %%xmm1,%%xmm0")
DEF(hsubps, "hsubps %3,%%xmm0")
DEF(haddpd, "haddpd %3,%%xmm0")
DEF(hsubpd, "hsubpd %%xmm1,%%xmm0")
DEF(addsubps, "addsubps %%xmm1,%%xmm0")
DEF(addsubpd, "addsubpd %3,%%xmm0")
DEF(movddup_reg, "movddup %%xmm1,%%xmm0")
DEF(movddup_mem, "movddup %3,%%xmm0")
DEF(movshdup, "movshdup %%xmm1,%%xmm0")
DEF(movsldup, "movsldup %3,%%xmm0")

static const SimdOp ops[] = {
    ENTRY(haddps), ENTRY(hsubps), ENTRY(haddpd), ENTRY(hsubpd), ENTRY(addsubps),
    ENTRY(addsubpd), ENTRY(movddup_reg), ENTRY(movddup_mem), ENTRY(movshdup), ENTRY(movsldup),
};

static void lddqu(void)
{
    static uint8_t buf[48] __attribute__((aligned(16)));
    for (int i = 0; i < 48; i++) buf[i] = (uint8_t)(i * 7 + 1);
    printf("lddqu:");
    for (int off = 0; off < 16; off++) {
        V128 r;
        __asm__ volatile("lddqu %1,%%xmm2\n\tmovdqu %%xmm2,%0"
                         : "=m"(r) : "m"(*(const V128 *)(buf + off)) : "xmm2");
        printf(" %08x", r.d[off & 3]);
    }
    printf("\n");
}

static void fisttp(void)
{
    static const double dv[] = {32767.9, -32768.9, 32768.0, 2147483647.99, -2147483648.99,
                                2147483648.0, -9.2233720368547758e18, 1e19, -0.99,
                                0.0 / 0.0, -1.0 / 0.0, 2.5, -2.5};
    for (int rc = 0; rc < 4; rc++) {
        uint16_t cw = 0x037f | rc << 10;
        for (unsigned i = 0; i < sizeof dv / sizeof dv[0]; i++) {
            int16_t w;
            int32_t d;
            int64_t q;
            uint16_t s1, s2, s3, top;
            __asm__ volatile("fninit\n\tfldcw %2\n\tfldl %3\n\tfisttps %0\n\tfnstsw %1"
                             : "=m"(w), "=m"(s1) : "m"(cw), "m"(dv[i]) : "memory");
            __asm__ volatile("fninit\n\tfldcw %2\n\tfldl %3\n\tfisttpl %0\n\tfnstsw %1"
                             : "=m"(d), "=m"(s2) : "m"(cw), "m"(dv[i]) : "memory");
            __asm__ volatile("fninit\n\tfldcw %3\n\tfldl %4\n\tfisttpll %0\n\tfnstsw %1\n\t"
                             "fldz\n\tfnstsw %2\n\tfninit"
                             : "=m"(q), "=m"(s3), "=m"(top) : "m"(cw), "m"(dv[i]) : "memory");
            printf("fisttp rc%d %2u: %04x/%04x %08x/%04x %016llx/%04x top-after-pop %u\n", rc, i,
                   (uint16_t)w, s1 & 0x3bff, (uint32_t)d, s2 & 0x3bff, (unsigned long long)q,
                   s3 & 0x3bff, (top >> 11) & 7);
        }
    }
}

int main(void)
{
    progs_init();
    run_ops(ops, sizeof ops / sizeof ops[0], vals, pairs);
    lddqu();
    fisttp();
    printf("sse3 done\n");
    return 0;
}
