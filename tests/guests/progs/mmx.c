/*
 * mmx.c — MMX edge cases: wrap-around and saturating adds/subtracts at the limits,
 * multiplies (low/high words, pmaddwd), compares, packs with signed/unsigned
 * saturation, unpacks, shifts by 0, in-range and out-of-range counts (register,
 * memory and immediate forms), logic, movd/movq, and the x87 aliasing (tag word and
 * exponent bits after an MMX write, emms).
 * CFLAGS: -O2 -march=i686 -mmmx
 */
#include "progs.h"

static uint64_t A, B, R;

#define OP(name, insn)                                                                    \
    do {                                                                                  \
        __asm__ volatile("movq %1,%%mm0\n\tmovq %2,%%mm1\n\t" insn "\n\tmovq %%mm0,%0\n\temms" \
                         : "=m"(R) : "m"(A), "m"(B) : "mm0", "mm1");                      \
        printf(" %s=%016llx", name, (unsigned long long)R);                               \
    } while (0)

static const uint64_t vals[] = {
    0x0000000000000000ull, 0x7f7f7f7f7fff7fffull, 0x8080808080008000ull, 0xffffffffffffffffull,
    0x0123456789abcdefull, 0x7fffffff80000000ull, 0x00ff00ff7f8081feull, 0x8000000000000001ull,
};
#define NV (int)(sizeof vals / sizeof vals[0])

/* one function per instruction: mm0 = A op B (B also as a memory operand) */
#define DEF(name, insn)                                                                   \
    static void op_##name(void)                                                           \
    {                                                                                     \
        __asm__ volatile("movq %1,%%mm0\n\tmovq %2,%%mm1\n\t" insn "\n\tmovq %%mm0,%0\n\temms" \
                         : "=m"(R) : "m"(A), "m"(B) : "mm0", "mm1");                      \
    }
DEF(paddb, "paddb %%mm1,%%mm0")
DEF(paddw, "paddw %%mm1,%%mm0")
DEF(paddd, "paddd %%mm1,%%mm0")
DEF(paddsb, "paddsb %%mm1,%%mm0")
DEF(paddsw, "paddsw %%mm1,%%mm0")
DEF(paddusb, "paddusb %%mm1,%%mm0")
DEF(paddusw, "paddusw %%mm1,%%mm0")
DEF(psubb, "psubb %%mm1,%%mm0")
DEF(psubw, "psubw %%mm1,%%mm0")
DEF(psubd, "psubd %%mm1,%%mm0")
DEF(psubsb, "psubsb %%mm1,%%mm0")
DEF(psubsw, "psubsw %%mm1,%%mm0")
DEF(psubusb, "psubusb %%mm1,%%mm0")
DEF(psubusw, "psubusw %%mm1,%%mm0")
DEF(pmullw, "pmullw %%mm1,%%mm0")
DEF(pmulhw, "pmulhw %%mm1,%%mm0")
DEF(pmaddwd, "pmaddwd %%mm1,%%mm0")
DEF(pcmpeqb, "pcmpeqb %%mm1,%%mm0")
DEF(pcmpeqw, "pcmpeqw %%mm1,%%mm0")
DEF(pcmpeqd, "pcmpeqd %%mm1,%%mm0")
DEF(pcmpgtb, "pcmpgtb %%mm1,%%mm0")
DEF(pcmpgtw, "pcmpgtw %%mm1,%%mm0")
DEF(pcmpgtd, "pcmpgtd %%mm1,%%mm0")
DEF(packsswb, "packsswb %%mm1,%%mm0")
DEF(packssdw, "packssdw %%mm1,%%mm0")
DEF(packuswb, "packuswb %%mm1,%%mm0")
DEF(punpcklbw, "punpcklbw %%mm1,%%mm0")
DEF(punpckhbw, "punpckhbw %%mm1,%%mm0")
DEF(punpcklwd, "punpcklwd %%mm1,%%mm0")
DEF(punpckhwd, "punpckhwd %%mm1,%%mm0")
DEF(punpckldq, "punpckldq %2,%%mm0")
DEF(punpckhdq, "punpckhdq %%mm1,%%mm0")
DEF(pand, "pand %%mm1,%%mm0")
DEF(pandn, "pandn %2,%%mm0")
DEF(por, "por %%mm1,%%mm0")
DEF(pxor, "pxor %%mm1,%%mm0")
static const struct { const char *name; void (*fn)(void); } ops[] = {
    {"paddb", op_paddb},
    {"paddw", op_paddw},
    {"paddd", op_paddd},
    {"paddsb", op_paddsb},
    {"paddsw", op_paddsw},
    {"paddusb", op_paddusb},
    {"paddusw", op_paddusw},
    {"psubb", op_psubb},
    {"psubw", op_psubw},
    {"psubd", op_psubd},
    {"psubsb", op_psubsb},
    {"psubsw", op_psubsw},
    {"psubusb", op_psubusb},
    {"psubusw", op_psubusw},
    {"pmullw", op_pmullw},
    {"pmulhw", op_pmulhw},
    {"pmaddwd", op_pmaddwd},
    {"pcmpeqb", op_pcmpeqb},
    {"pcmpeqw", op_pcmpeqw},
    {"pcmpeqd", op_pcmpeqd},
    {"pcmpgtb", op_pcmpgtb},
    {"pcmpgtw", op_pcmpgtw},
    {"pcmpgtd", op_pcmpgtd},
    {"packsswb", op_packsswb},
    {"packssdw", op_packssdw},
    {"packuswb", op_packuswb},
    {"punpcklbw", op_punpcklbw},
    {"punpckhbw", op_punpckhbw},
    {"punpcklwd", op_punpcklwd},
    {"punpckhwd", op_punpckhwd},
    {"punpckldq", op_punpckldq},
    {"punpckhdq", op_punpckhdq},
    {"pand", op_pand},
    {"pandn", op_pandn},
    {"por", op_por},
    {"pxor", op_pxor},
};

int main(void)
{
    progs_init();
    /* every pair of values through every two-operand instruction: one hash per
     * instruction, and the results of eight pairs in full */
    for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        uint32_t h = 2166136261u;
        printf("%-9s", ops[o].name);
        for (int i = 0; i < NV; i++)
            for (int j = 0; j < NV; j++) {
                A = vals[i];
                B = vals[j];
                ops[o].fn();
                for (int k = 0; k < 8; k++) h = (h ^ (uint8_t)(R >> 8 * k)) * 16777619u;
                if (j == (i * 3 + 1) % NV) printf(" %016llx", (unsigned long long)R);
            }
        printf(" hash %08x\n", h);
    }
    /* shifts: counts from a register (64-bit: anything >= width gives 0 or sign fill)
     * and immediates */
    static const uint64_t counts[] = {0, 1, 7, 15, 16, 31, 32, 63, 64, 65, 0x100000001ull};
    for (int i = 0; i < NV; i++)
        for (unsigned k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            A = vals[i];
            B = counts[k];
            printf("shift %d by %llx:", i, (unsigned long long)B);
            OP("psllw", "psllw %%mm1,%%mm0");
            OP("pslld", "pslld %%mm1,%%mm0");
            OP("psllq", "psllq %2,%%mm0");
            OP("psrlw", "psrlw %%mm1,%%mm0");
            OP("psrld", "psrld %%mm1,%%mm0");
            OP("psrlq", "psrlq %%mm1,%%mm0");
            OP("psraw", "psraw %%mm1,%%mm0");
            OP("psrad", "psrad %%mm1,%%mm0");
            printf("\n");
        }
    for (int i = 0; i < NV; i++) {
        A = vals[i];
        printf("imm shift %d:", i);
        OP("psllw3", "psllw $3,%%mm0");
        OP("psraw15", "psraw $15,%%mm0");
        OP("psraw200", "psraw $200,%%mm0");
        OP("psrld31", "psrld $31,%%mm0");
        OP("psllq40", "psllq $40,%%mm0");
        OP("psrlq64", "psrlq $64,%%mm0");
        OP("psrad33", "psrad $33,%%mm0");
        printf("\n");
    }
    /* movd zero-extends into an MMX register and takes the low dword out */
    uint32_t lo, gpr = 0x89abcdef;
    uint64_t q;
    __asm__ volatile("movq %2,%%mm2\n\tmovd %%mm2,%0\n\tmovd %3,%%mm3\n\tmovq %%mm3,%1\n\temms"
                     : "=r"(lo), "=m"(q) : "m"(vals[4]), "r"(gpr) : "mm2", "mm3");
    printf("movd: %08x %016llx\n", lo, (unsigned long long)q);
    /* MMX and the x87: an MMX write sets TOP=0, tags all valid, exponent bits to ones;
     * emms empties the tags */
    uint8_t env[28], env2[28];
    uint8_t save[108];
    __asm__ volatile("fninit\n\tfld1\n\tmovq %2,%%mm5\n\tfnstenv %0\n\temms\n\tfnstenv %1"
                     : "=m"(env), "=m"(env2) : "m"(vals[4]) : "mm5", "memory");
    __asm__ volatile("fninit\n\tmovq %1,%%mm5\n\tfnsave %0\n\temms"
                     : "=m"(save) : "m"(vals[1]) : "mm5", "memory");
    printf("aliasing: sw %04x tag %04x, after emms tag %04x\n", env[4] | env[5] << 8,
           env[8] | env[9] << 8, env2[8] | env2[9] << 8);
    hex_bytes("fnsave st5", save + 28 + 5 * 10, 10);
    printf("mmx done\n");
    return 0;
}
