/*
 * simd.h — the harness of the SSE programs: each instruction under test is one small
 * function computing xmm0 = A op B (xmm1 = B, or B as the memory operand) under a given
 * MXCSR, recording the result and MXCSR afterwards. run_ops() sends every pair of the
 * test vectors through every instruction under all four rounding modes, with and
 * without DAZ|FTZ: it prints a 32-bit hash of each pair's round-to-nearest result with
 * the MXCSR flags, and one hash over everything (results and MXCSR), so any difference
 * shows and its line names the instruction and the input pair.
 */
#pragma once

#include "progs.h"

typedef union {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
} V128;

static V128 A __attribute__((aligned(16))), B __attribute__((aligned(16))),
    R __attribute__((aligned(16)));
static uint32_t MXI, MXO;
static const uint32_t MX_DEFAULT = 0x1f80;

#define DEF(name, insn)                                                                   \
    static void op_##name(void)                                                           \
    {                                                                                     \
        __asm__ volatile("ldmxcsr %4\n\tmovups %2,%%xmm0\n\tmovups %3,%%xmm1\n\t" insn "\n\t" \
                         "movups %%xmm0,%0\n\tstmxcsr %1\n\tldmxcsr %5"                    \
                         : "=m"(R), "=m"(MXO)                                             \
                         : "m"(A), "m"(B), "m"(MXI), "m"(MX_DEFAULT)                      \
                         : "xmm0", "xmm1", "mm0", "mm1", "eax", "edi", "memory");       \
    }
#define ENTRY(name) {#name, op_##name}

typedef struct {
    const char *name;
    void (*fn)(void);
} SimdOp;

static inline uint32_t fnv_bytes(uint32_t h, const void *p, int n)
{
    const uint8_t *b = (const uint8_t *)p;
    for (int i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    return h;
}

static inline void print128(const V128 *v)
{
    printf(" %08x%08x%08x%08x", v->d[3], v->d[2], v->d[1], v->d[0]);
}

/* vals: the test vectors; pairs: indexes into vals, terminated by -1 */
static void run_ops(const SimdOp *ops, int nops, const V128 *vals, const int (*pairs)[2])
{
    for (int o = 0; o < nops; o++) {
        uint32_t h = 2166136261u;
        printf("%s:", ops[o].name);
        for (int p = 0; pairs[p][0] >= 0; p++)
            for (int mode = 0; mode < 8; mode++) {
                A = vals[pairs[p][0]];
                B = vals[pairs[p][1]];
                /* rounding control in bits 13-14; DAZ (bit 6) and FTZ (bit 15) */
                MXI = 0x1f80 | (mode & 3) << 13 | (mode & 4 ? 0x8040 : 0);
                ops[o].fn();
                h = fnv_bytes(h, &R, 16);
                h = fnv_bytes(h, &MXO, 4);
                if (mode == 0) {
                    printf(" %08x/%02x", fnv_bytes(2166136261u, &R, 16), MXO & 0x3f);
                }
            }
        printf(" hash %08x\n", h);
    }
}
