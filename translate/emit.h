/*
 * emit.h — an x86-64 machine-code emitter for the translator.
 *
 * Every emit_<insn>() appends one host instruction to a CodeBuf. Registers are numbered
 * 0-15 as in the encoding (HostReg); memory operands are a Mem (base, index, scale,
 * disp) and every ModRM/SIB special case (RSP/R12 base, RBP/R13 base, no base,
 * RIP-relative) is handled inside. Operand sizes are given in bytes (1, 2, 4, 8).
 *
 *     uint8_t b[64]; CodeBuf cb = { .buf = b, .cap = sizeof b };
 *     emit_mov_rm(&cb, 8, HRAX, mem_bisd(HR12, HRCX, 8, 0x10)); // mov rax,[r12+rcx*8+16]
 *     size_t fix = emit_jcc_label(&cb, CC_E);                   // je <later>
 *     ...; emit_patch_rel32(&cb, fix, cb.len);                  // <later> is here
 *     if (cb.overflow) ...buffer too small, nothing past cap was written
 *
 * Byte registers 4-7 are always SPL/BPL/SIL/DIL (a REX prefix is emitted for them);
 * AH/CH/DH/BH are not reachable except implicitly (LAHF/SAHF).
 */
#ifndef DBT86_EMIT_H
#define DBT86_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An output buffer. Writes past cap are dropped and set overflow; len keeps counting,
 * so after an overflow len is the size the code would have needed. */
typedef struct CodeBuf {
    uint8_t *buf;       /* where the bytes are written */
    size_t cap, len;    /* capacity and bytes emitted so far (may exceed cap) */
    bool overflow;      /* set once anything was dropped */
    uintptr_t exec_at;  /* address buf[0] will run at (for CALL rel32); 0 = buf itself */
} CodeBuf;

/* Host registers, numbered as in the encoding. */
typedef enum HostReg {
    HRAX, HRCX, HRDX, HRBX, HRSP, HRBP, HRSI, HRDI,
    HR8, HR9, HR10, HR11, HR12, HR13, HR14, HR15,
    HR_NONE = -1,   /* Mem.base/Mem.index: absent */
    HR_RIP = -2,    /* Mem.base only: RIP-relative (disp is from the end of the insn) */
} HostReg;

/* Condition codes in their x86 encoding (Jcc = 0x70 + cc, SETcc = 0F 90 + cc). */
typedef enum Cond {
    CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
    CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G,
} Cond;

/* The ALU group, in its /digit order (ADD = /0 ... CMP = /7). */
typedef enum AluOp { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP } AluOp;
/* Shifts and rotates, in their /digit order (/6 is an alias of SHL and not offered). */
typedef enum ShiftOp { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAR = 7 } ShiftOp;
/* Group 3 (F6/F7) and group 4/5 (FE/FF) one-operand instructions; value = /digit,
 * INC/DEC are marked with bit 3 to pick FE/FF. */
typedef enum UnaryOp {
    UN_NOT = 2, UN_NEG = 3, UN_MUL = 4, UN_IMUL = 5, UN_DIV = 6, UN_IDIV = 7,
    UN_INC = 8, UN_DEC = 9,
} UnaryOp;
/* Bit tests, in their 0F BA /digit order. */
typedef enum BtOp { BT_BT = 4, BT_BTS = 5, BT_BTR = 6, BT_BTC = 7 } BtOp;

/* A memory operand: [base + index*scale + disp]. base may be HR_NONE (absolute disp32,
 * encoded with a SIB byte so it is not RIP-relative) or HR_RIP; index may be HR_NONE
 * and must not be RSP (a scale-1 RSP index is swapped into the base). scale: 1,2,4,8. */
typedef struct Mem {
    int8_t base, index;
    uint8_t scale;
    int32_t disp;
} Mem;

static inline Mem mem_base(int base, int32_t disp)
{
    return (Mem){ (int8_t)base, HR_NONE, 1, disp };
}
static inline Mem mem_bisd(int base, int index, int scale, int32_t disp)
{
    return (Mem){ (int8_t)base, (int8_t)index, (uint8_t)scale, disp };
}
static inline Mem mem_abs(int32_t addr)
{
    return (Mem){ HR_NONE, HR_NONE, 1, addr };
}
static inline Mem mem_rip(int32_t disp)
{
    return (Mem){ HR_RIP, HR_NONE, 1, disp };
}

/* Raw bytes (for prefixes such as LOCK, or anything not covered). */
void emit_byte(CodeBuf *cb, uint8_t b);
void emit_bytes(CodeBuf *cb, const void *p, size_t n);
void emit_lock(CodeBuf *cb);

/* MOV. _ri: imm32 (sign-extended at size 8, truncated at sizes 1/2); _ri64: movabs;
 * _imm: the shortest form that loads a 64-bit value (does not touch flags). */
void emit_mov_rr(CodeBuf *cb, int sz, int dst, int src);
void emit_mov_ri(CodeBuf *cb, int sz, int dst, int32_t imm);
void emit_mov_ri64(CodeBuf *cb, int dst, uint64_t imm);
void emit_mov_imm(CodeBuf *cb, int dst, uint64_t imm);
void emit_mov_rm(CodeBuf *cb, int sz, int dst, Mem m);
void emit_mov_mr(CodeBuf *cb, int sz, Mem m, int src);
void emit_mov_mi(CodeBuf *cb, int sz, Mem m, int32_t imm);

/* MOVZX/MOVSX: dsz 2/4/8 from ssz 1/2; MOVSXD: 64 from 32. */
void emit_movzx_rr(CodeBuf *cb, int dsz, int ssz, int dst, int src);
void emit_movzx_rm(CodeBuf *cb, int dsz, int ssz, int dst, Mem m);
void emit_movsx_rr(CodeBuf *cb, int dsz, int ssz, int dst, int src);
void emit_movsx_rm(CodeBuf *cb, int dsz, int ssz, int dst, Mem m);
void emit_movsxd_rr(CodeBuf *cb, int dst, int src);
void emit_movsxd_rm(CodeBuf *cb, int dst, Mem m);

void emit_lea(CodeBuf *cb, int sz, int dst, Mem m);

/* The ALU group. _ri/_mi use the sign-extended imm8 form when the value fits and the
 * short AL/AX/EAX/RAX form otherwise. */
void emit_alu_rr(CodeBuf *cb, AluOp op, int sz, int dst, int src);
void emit_alu_ri(CodeBuf *cb, AluOp op, int sz, int dst, int32_t imm);
void emit_alu_rm(CodeBuf *cb, AluOp op, int sz, int dst, Mem m);
void emit_alu_mr(CodeBuf *cb, AluOp op, int sz, Mem m, int src);
void emit_alu_mi(CodeBuf *cb, AluOp op, int sz, Mem m, int32_t imm);

#define EMIT_ALU_NAMED(name, OP)                                                          \
    static inline void emit_##name##_rr(CodeBuf *cb, int sz, int d, int s)                \
    { emit_alu_rr(cb, OP, sz, d, s); }                                                    \
    static inline void emit_##name##_ri(CodeBuf *cb, int sz, int d, int32_t i)            \
    { emit_alu_ri(cb, OP, sz, d, i); }                                                    \
    static inline void emit_##name##_rm(CodeBuf *cb, int sz, int d, Mem m)                \
    { emit_alu_rm(cb, OP, sz, d, m); }                                                    \
    static inline void emit_##name##_mr(CodeBuf *cb, int sz, Mem m, int s)                \
    { emit_alu_mr(cb, OP, sz, m, s); }                                                    \
    static inline void emit_##name##_mi(CodeBuf *cb, int sz, Mem m, int32_t i)            \
    { emit_alu_mi(cb, OP, sz, m, i); }
EMIT_ALU_NAMED(add, ALU_ADD)
EMIT_ALU_NAMED(or, ALU_OR)
EMIT_ALU_NAMED(adc, ALU_ADC)
EMIT_ALU_NAMED(sbb, ALU_SBB)
EMIT_ALU_NAMED(and, ALU_AND)
EMIT_ALU_NAMED(sub, ALU_SUB)
EMIT_ALU_NAMED(xor, ALU_XOR)
EMIT_ALU_NAMED(cmp, ALU_CMP)
#undef EMIT_ALU_NAMED

/* TEST (no imm8 form exists: imm is 8/16/32 bits by size). */
void emit_test_rr(CodeBuf *cb, int sz, int a, int b);
void emit_test_ri(CodeBuf *cb, int sz, int r, int32_t imm);
void emit_test_mr(CodeBuf *cb, int sz, Mem m, int r);
void emit_test_mi(CodeBuf *cb, int sz, Mem m, int32_t imm);

/* One-operand group: INC DEC NEG NOT MUL IMUL DIV IDIV (MUL/DIV use rDX:rAX). */
void emit_unary_r(CodeBuf *cb, UnaryOp op, int sz, int r);
void emit_unary_m(CodeBuf *cb, UnaryOp op, int sz, Mem m);
#define EMIT_UNARY_NAMED(name, OP)                                                        \
    static inline void emit_##name##_r(CodeBuf *cb, int sz, int r) { emit_unary_r(cb, OP, sz, r); } \
    static inline void emit_##name##_m(CodeBuf *cb, int sz, Mem m) { emit_unary_m(cb, OP, sz, m); }
EMIT_UNARY_NAMED(inc, UN_INC)
EMIT_UNARY_NAMED(dec, UN_DEC)
EMIT_UNARY_NAMED(neg, UN_NEG)
EMIT_UNARY_NAMED(not, UN_NOT)
EMIT_UNARY_NAMED(mul, UN_MUL)
EMIT_UNARY_NAMED(imul1, UN_IMUL)
EMIT_UNARY_NAMED(div, UN_DIV)
EMIT_UNARY_NAMED(idiv, UN_IDIV)
#undef EMIT_UNARY_NAMED

/* Shifts/rotates. _ri with count 1 uses the shorter D0/D1 form; _r1 always does;
 * _ri8 always uses the C0/C1 ib form; _rcl shifts by CL. */
void emit_shift_ri(CodeBuf *cb, ShiftOp op, int sz, int r, uint8_t count);
void emit_shift_ri8(CodeBuf *cb, ShiftOp op, int sz, int r, uint8_t count);
void emit_shift_r1(CodeBuf *cb, ShiftOp op, int sz, int r);
void emit_shift_rcl(CodeBuf *cb, ShiftOp op, int sz, int r);
void emit_shift_mi(CodeBuf *cb, ShiftOp op, int sz, Mem m, uint8_t count);
void emit_shift_mcl(CodeBuf *cb, ShiftOp op, int sz, Mem m);
#define EMIT_SHIFT_NAMED(name, OP)                                                        \
    static inline void emit_##name##_ri(CodeBuf *cb, int sz, int r, uint8_t c)            \
    { emit_shift_ri(cb, OP, sz, r, c); }                                                  \
    static inline void emit_##name##_rcl(CodeBuf *cb, int sz, int r)                      \
    { emit_shift_rcl(cb, OP, sz, r); }
EMIT_SHIFT_NAMED(rol, SH_ROL)
EMIT_SHIFT_NAMED(ror, SH_ROR)
EMIT_SHIFT_NAMED(rcl, SH_RCL)
EMIT_SHIFT_NAMED(rcr, SH_RCR)
EMIT_SHIFT_NAMED(shl, SH_SHL)
EMIT_SHIFT_NAMED(shr, SH_SHR)
EMIT_SHIFT_NAMED(sar, SH_SAR)
#undef EMIT_SHIFT_NAMED

/* SHLD/SHRD dst, src, imm8 / CL (sizes 2, 4, 8). */
void emit_shld_rri(CodeBuf *cb, int sz, int dst, int src, uint8_t count);
void emit_shld_rrcl(CodeBuf *cb, int sz, int dst, int src);
void emit_shrd_rri(CodeBuf *cb, int sz, int dst, int src, uint8_t count);
void emit_shrd_rrcl(CodeBuf *cb, int sz, int dst, int src);

/* IMUL dst, src / dst, [m] / dst, src, imm (imm8 form when it fits). Sizes 2, 4, 8. */
void emit_imul_rr(CodeBuf *cb, int sz, int dst, int src);
void emit_imul_rm(CodeBuf *cb, int sz, int dst, Mem m);
void emit_imul_rri(CodeBuf *cb, int sz, int dst, int src, int32_t imm);

/* BT/BTS/BTR/BTC base, bitreg / base, imm8. Sizes 2, 4, 8. */
void emit_bt_rr(CodeBuf *cb, BtOp op, int sz, int base, int bit);
void emit_bt_ri(CodeBuf *cb, BtOp op, int sz, int base, uint8_t bit);
void emit_bt_mr(CodeBuf *cb, BtOp op, int sz, Mem m, int bit);
void emit_bt_mi(CodeBuf *cb, BtOp op, int sz, Mem m, uint8_t bit);

void emit_bsf_rr(CodeBuf *cb, int sz, int dst, int src);
void emit_bsr_rr(CodeBuf *cb, int sz, int dst, int src);
void emit_bsf_rm(CodeBuf *cb, int sz, int dst, Mem m);
void emit_bsr_rm(CodeBuf *cb, int sz, int dst, Mem m);
void emit_bswap(CodeBuf *cb, int sz, int r);   /* sz 4 or 8 */

void emit_setcc_r(CodeBuf *cb, Cond cc, int r);   /* byte register */
void emit_setcc_m(CodeBuf *cb, Cond cc, Mem m);
void emit_cmov_rr(CodeBuf *cb, Cond cc, int sz, int dst, int src);
void emit_cmov_rm(CodeBuf *cb, Cond cc, int sz, int dst, Mem m);

/* Jumps. rel is from the end of the instruction. _label forms emit a rel32 of 0 and
 * return the position of that field; emit_patch_rel32 points it at a buffer position.
 * _to forms jump to an already-emitted position, rel8 when it fits. */
void emit_jcc_rel8(CodeBuf *cb, Cond cc, int8_t rel);
void emit_jcc_rel32(CodeBuf *cb, Cond cc, int32_t rel);
void emit_jmp_rel8(CodeBuf *cb, int8_t rel);
void emit_jmp_rel32(CodeBuf *cb, int32_t rel);
size_t emit_jcc_label(CodeBuf *cb, Cond cc);
size_t emit_jmp_label(CodeBuf *cb);
size_t emit_jcc8_label(CodeBuf *cb, Cond cc);   /* returns the rel8 field position */
size_t emit_jmp8_label(CodeBuf *cb);
void emit_patch_rel32(CodeBuf *cb, size_t patch_pos, size_t target_pos);
bool emit_patch_rel8(CodeBuf *cb, size_t patch_pos, size_t target_pos);   /* false: too far */
void emit_jcc_to(CodeBuf *cb, Cond cc, size_t target_pos);
void emit_jmp_to(CodeBuf *cb, size_t target_pos);

void emit_jmp_r(CodeBuf *cb, int r);
void emit_jmp_m(CodeBuf *cb, Mem m);
void emit_call_r(CodeBuf *cb, int r);
void emit_call_m(CodeBuf *cb, Mem m);
void emit_call_rel32(CodeBuf *cb, int32_t rel);
/* CALL/JMP an absolute host address: rel32 when within +-2 GiB of where the code runs
 * (cb->exec_at, or buf), else movabs scratch, target; call/jmp scratch. */
void emit_call_abs(CodeBuf *cb, const void *target, int scratch);
void emit_jmp_abs(CodeBuf *cb, const void *target, int scratch);
void emit_ret(CodeBuf *cb);

void emit_push_r(CodeBuf *cb, int r);
void emit_pop_r(CodeBuf *cb, int r);
void emit_push_i(CodeBuf *cb, int32_t imm);   /* push imm8/imm32, sign-extended to 64 */
void emit_pushf(CodeBuf *cb);
void emit_popf(CodeBuf *cb);
void emit_lahf(CodeBuf *cb);
void emit_sahf(CodeBuf *cb);

void emit_xchg_rr(CodeBuf *cb, int sz, int a, int b);
void emit_xchg_mr(CodeBuf *cb, int sz, Mem m, int r);   /* implicitly locked */
void emit_cmpxchg_rr(CodeBuf *cb, int sz, int dst, int src);
void emit_cmpxchg_mr(CodeBuf *cb, int sz, Mem m, int src);   /* precede by emit_lock */

void emit_cwd(CodeBuf *cb);
void emit_cdq(CodeBuf *cb);
void emit_cqo(CodeBuf *cb);
void emit_cwde(CodeBuf *cb);
void emit_cdqe(CodeBuf *cb);

/* NOP of n bytes (multi-byte forms of up to 11 bytes; longer runs are split), and NOP
 * padding until exec_at + len is a multiple of align (a power of 2). */
void emit_nop(CodeBuf *cb, size_t n);
void emit_align(CodeBuf *cb, size_t align);
void emit_ud2(CodeBuf *cb);
void emit_int3(CodeBuf *cb);

/* Executable memory (execmem.c). W^X by toggling: exec_alloc returns a read-write
 * mapping; exec_seal makes it read+execute (and flushes nothing: x86 needs no icache
 * maintenance), exec_unseal makes it writable again. A region is never W and X at
 * once. exec_alloc_code copies code into a fresh region and seals it. */
void *exec_alloc(size_t size);
bool exec_seal(void *p, size_t size);
bool exec_unseal(void *p, size_t size);
void *exec_alloc_code(const void *code, size_t len);
void exec_free(void *p, size_t size);

#endif
