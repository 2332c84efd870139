/*
 * emit.c — the x86-64 instruction encoder behind emit.h.
 *
 * Everything funnels through op_rr() (register ModRM, mod=11) and op_rm() (memory ModRM
 * with SIB/displacement), which write the 66 prefix, the REX prefix, the opcode bytes and
 * the ModRM tail; callers append immediates. Encodings are from the Intel SDM vol. 2,
 * chapter 2 (ModRM/SIB tables 2-2/2-3, REX in 2.2.1).
 */
#include "translate/emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Encoding flags for op_rr/op_rm. */
enum {
    F_W = 1,       /* REX.W: 64-bit operand */
    F_66 = 2,      /* operand-size prefix: 16-bit operand */
    F_BREG = 4,    /* the ModRM.reg operand is a byte register */
    F_BRM = 8,     /* the ModRM.rm register operand is a byte register */
};

void emit_byte(CodeBuf *cb, uint8_t b)
{
    if (cb->len < cb->cap)
        cb->buf[cb->len] = b;
    else
        cb->overflow = true;
    cb->len++;
}

void emit_bytes(CodeBuf *cb, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++)
        emit_byte(cb, s[i]);
}

static void put16(CodeBuf *cb, uint16_t v)
{
    emit_byte(cb, (uint8_t)v);
    emit_byte(cb, (uint8_t)(v >> 8));
}

static void put32(CodeBuf *cb, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        emit_byte(cb, (uint8_t)(v >> (8 * i)));
}

static void put64(CodeBuf *cb, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        emit_byte(cb, (uint8_t)(v >> (8 * i)));
}

/* An immediate of the operand size; 8-byte operands take a sign-extended imm32. */
static void put_imm(CodeBuf *cb, int sz, int32_t imm)
{
    if (sz == 1)
        emit_byte(cb, (uint8_t)imm);
    else if (sz == 2)
        put16(cb, (uint16_t)imm);
    else
        put32(cb, (uint32_t)imm);
}

static bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}

static bool fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* Size in bytes -> 66/REX.W flags (plus byte-register flags for size 1). */
static unsigned szf(int sz, unsigned byteflags)
{
    switch (sz) {
    case 1: return byteflags;
    case 2: return F_66;
    case 8: return F_W;
    default: return 0;
    }
}

static void bug(const char *what)
{
    /* Emitter inputs come from the translator, never from the guest: a bad operand is
     * a bug of the emulator itself. */
    fprintf(stderr, "dbt86: emitter: %s\n", what);
    abort();
}

/* Opcode bytes: 1-3 bytes packed big-endian (0x0FAF = 0F AF, 0x0F38F0 = 0F 38 F0). */
static void put_op(CodeBuf *cb, uint32_t op)
{
    if (op > 0xFFFF)
        emit_byte(cb, (uint8_t)(op >> 16));
    if (op > 0xFF)
        emit_byte(cb, (uint8_t)(op >> 8));
    emit_byte(cb, (uint8_t)op);
}

/* 66 and REX prefixes. reg/index/base are register numbers or <0 when absent;
 * a byte register 4-7 (SPL..DIL) in reg or rm needs a REX even when it is 0x40. */
static void put_prefixes(CodeBuf *cb, unsigned f, int reg, int index, int base)
{
    if (f & F_66)
        emit_byte(cb, 0x66);
    uint8_t rex = 0x40;
    if (f & F_W)
        rex |= 8;
    if (reg >= 8)
        rex |= 4;
    if (index >= 8)
        rex |= 2;
    if (base >= 8)
        rex |= 1;
    bool need = rex != 0x40;
    if ((f & F_BREG) && reg >= 4 && reg < 8)
        need = true;
    if ((f & F_BRM) && base >= 4 && base < 8)
        need = true;
    if (need)
        emit_byte(cb, rex);
}

static void op_rr(CodeBuf *cb, unsigned f, uint32_t op, int reg, int rm)
{
    put_prefixes(cb, f, reg, -1, rm);
    put_op(cb, op);
    emit_byte(cb, (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

/* Opcode with the register in its low 3 bits (PUSH/POP/BSWAP/MOV imm). */
static void op_plusr(CodeBuf *cb, unsigned f, uint32_t op, int r)
{
    put_prefixes(cb, f, -1, -1, r);
    put_op(cb, op + (uint32_t)(r & 7));
}

static uint8_t scale_bits(int scale)
{
    switch (scale) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    default: bug("bad scale"); return 0;
    }
}

static void op_rm(CodeBuf *cb, unsigned f, uint32_t op, int reg, Mem m)
{
    int base = m.base, index = m.index;
    if (index == HRSP) {
        /* RSP cannot be an index (SIB index 100 means "none"); [rsp*1 + b] = [b + rsp]. */
        if (m.scale != 1 || base == HRSP || base < 0)
            bug("RSP used as a scaled index");
        index = base;
        base = HRSP;
    }
    /* The byte-register REX rule applies only to register operands, not to the base. */
    put_prefixes(cb, f & ~(unsigned)F_BRM, reg, index, base);
    put_op(cb, op);
    uint8_t r = (uint8_t)((reg & 7) << 3);
    if (base == HR_RIP) {
        if (index != HR_NONE)
            bug("RIP-relative with an index");
        emit_byte(cb, r | 5);              /* mod=00 rm=101: [rip + disp32] */
        put32(cb, (uint32_t)m.disp);
        return;
    }
    uint8_t ss = index >= 0 ? scale_bits(m.scale) : 0;
    uint8_t idx = index >= 0 ? (uint8_t)(index & 7) : 4;   /* 100 = no index */
    if (base == HR_NONE) {
        /* mod=00 rm=100 SIB base=101: disp32 with no base (absolute, not RIP-relative). */
        emit_byte(cb, r | 4);
        emit_byte(cb, (uint8_t)(ss << 6 | idx << 3 | 5));
        put32(cb, (uint32_t)m.disp);
        return;
    }
    uint8_t mod;
    if (m.disp == 0 && (base & 7) != 5)    /* RBP/R13 with mod=00 would mean disp32/RIP */
        mod = 0;
    else if (fits8(m.disp))
        mod = 1;
    else
        mod = 2;
    if (index >= 0 || (base & 7) == 4) {   /* RSP/R12 base needs a SIB byte */
        emit_byte(cb, (uint8_t)(mod << 6 | r | 4));
        emit_byte(cb, (uint8_t)(ss << 6 | idx << 3 | (base & 7)));
    } else {
        emit_byte(cb, (uint8_t)(mod << 6 | r | (base & 7)));
    }
    if (mod == 1)
        emit_byte(cb, (uint8_t)m.disp);
    else if (mod == 2)
        put32(cb, (uint32_t)m.disp);
}

void emit_lock(CodeBuf *cb)
{
    emit_byte(cb, 0xF0);
}

/* ---- MOV ---- */

void emit_mov_rr(CodeBuf *cb, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, F_BREG | F_BRM), sz == 1 ? 0x88 : 0x89, src, dst);
}

void emit_mov_ri(CodeBuf *cb, int sz, int dst, int32_t imm)
{
    if (sz == 8) {
        op_rr(cb, F_W, 0xC7, 0, dst);      /* C7 /0: sign-extended imm32 */
        put32(cb, (uint32_t)imm);
        return;
    }
    op_plusr(cb, szf(sz, F_BRM), sz == 1 ? 0xB0 : 0xB8, dst);
    put_imm(cb, sz, imm);
}

void emit_mov_ri64(CodeBuf *cb, int dst, uint64_t imm)
{
    op_plusr(cb, F_W, 0xB8, dst);
    put64(cb, imm);
}

void emit_mov_imm(CodeBuf *cb, int dst, uint64_t imm)
{
    if (imm <= 0xFFFFFFFFu)
        emit_mov_ri(cb, 4, dst, (int32_t)(uint32_t)imm);   /* zero-extends */
    else if (fits32((int64_t)imm))
        emit_mov_ri(cb, 8, dst, (int32_t)imm);
    else
        emit_mov_ri64(cb, dst, imm);
}

void emit_mov_rm(CodeBuf *cb, int sz, int dst, Mem m)
{
    op_rm(cb, szf(sz, F_BREG), sz == 1 ? 0x8A : 0x8B, dst, m);
}

void emit_mov_mr(CodeBuf *cb, int sz, Mem m, int src)
{
    op_rm(cb, szf(sz, F_BREG), sz == 1 ? 0x88 : 0x89, src, m);
}

void emit_mov_mi(CodeBuf *cb, int sz, Mem m, int32_t imm)
{
    op_rm(cb, szf(sz, 0), sz == 1 ? 0xC6 : 0xC7, 0, m);
    put_imm(cb, sz, imm);
}

/* ---- MOVZX / MOVSX / MOVSXD / LEA ---- */

void emit_movzx_rr(CodeBuf *cb, int dsz, int ssz, int dst, int src)
{
    op_rr(cb, szf(dsz, 0) | (ssz == 1 ? F_BRM : 0), ssz == 1 ? 0x0FB6 : 0x0FB7, dst, src);
}

void emit_movzx_rm(CodeBuf *cb, int dsz, int ssz, int dst, Mem m)
{
    op_rm(cb, szf(dsz, 0), ssz == 1 ? 0x0FB6 : 0x0FB7, dst, m);
}

void emit_movsx_rr(CodeBuf *cb, int dsz, int ssz, int dst, int src)
{
    op_rr(cb, szf(dsz, 0) | (ssz == 1 ? F_BRM : 0), ssz == 1 ? 0x0FBE : 0x0FBF, dst, src);
}

void emit_movsx_rm(CodeBuf *cb, int dsz, int ssz, int dst, Mem m)
{
    op_rm(cb, szf(dsz, 0), ssz == 1 ? 0x0FBE : 0x0FBF, dst, m);
}

void emit_movsxd_rr(CodeBuf *cb, int dst, int src)
{
    op_rr(cb, F_W, 0x63, dst, src);
}

void emit_movsxd_rm(CodeBuf *cb, int dst, Mem m)
{
    op_rm(cb, F_W, 0x63, dst, m);
}

void emit_lea(CodeBuf *cb, int sz, int dst, Mem m)
{
    op_rm(cb, szf(sz, 0), 0x8D, dst, m);
}

/* ---- ALU group ---- */

void emit_alu_rr(CodeBuf *cb, AluOp op, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, F_BREG | F_BRM), (uint32_t)(op * 8 + (sz == 1 ? 0 : 1)), src, dst);
}

void emit_alu_ri(CodeBuf *cb, AluOp op, int sz, int dst, int32_t imm)
{
    if (sz == 1) {
        if (dst == HRAX) {
            emit_byte(cb, (uint8_t)(op * 8 + 4));   /* op al, ib */
        } else {
            op_rr(cb, F_BRM, 0x80, op, dst);
        }
        emit_byte(cb, (uint8_t)imm);
        return;
    }
    if (fits8(imm)) {
        op_rr(cb, szf(sz, 0), 0x83, op, dst);
        emit_byte(cb, (uint8_t)imm);
    } else if (dst == HRAX) {
        put_prefixes(cb, szf(sz, 0), -1, -1, -1);
        emit_byte(cb, (uint8_t)(op * 8 + 5));       /* op eax, iz */
        put_imm(cb, sz, imm);
    } else {
        op_rr(cb, szf(sz, 0), 0x81, op, dst);
        put_imm(cb, sz, imm);
    }
}

void emit_alu_rm(CodeBuf *cb, AluOp op, int sz, int dst, Mem m)
{
    op_rm(cb, szf(sz, F_BREG), (uint32_t)(op * 8 + (sz == 1 ? 2 : 3)), dst, m);
}

void emit_alu_mr(CodeBuf *cb, AluOp op, int sz, Mem m, int src)
{
    op_rm(cb, szf(sz, F_BREG), (uint32_t)(op * 8 + (sz == 1 ? 0 : 1)), src, m);
}

void emit_alu_mi(CodeBuf *cb, AluOp op, int sz, Mem m, int32_t imm)
{
    if (sz == 1) {
        op_rm(cb, 0, 0x80, op, m);
        emit_byte(cb, (uint8_t)imm);
    } else if (fits8(imm)) {
        op_rm(cb, szf(sz, 0), 0x83, op, m);
        emit_byte(cb, (uint8_t)imm);
    } else {
        op_rm(cb, szf(sz, 0), 0x81, op, m);
        put_imm(cb, sz, imm);
    }
}

/* ---- TEST ---- */

void emit_test_rr(CodeBuf *cb, int sz, int a, int b)
{
    op_rr(cb, szf(sz, F_BREG | F_BRM), sz == 1 ? 0x84 : 0x85, b, a);
}

void emit_test_ri(CodeBuf *cb, int sz, int r, int32_t imm)
{
    if (r == HRAX) {
        put_prefixes(cb, szf(sz, 0), -1, -1, -1);
        emit_byte(cb, sz == 1 ? 0xA8 : 0xA9);
    } else {
        op_rr(cb, szf(sz, F_BRM), sz == 1 ? 0xF6 : 0xF7, 0, r);
    }
    put_imm(cb, sz, imm);
}

void emit_test_mr(CodeBuf *cb, int sz, Mem m, int r)
{
    op_rm(cb, szf(sz, F_BREG), sz == 1 ? 0x84 : 0x85, r, m);
}

void emit_test_mi(CodeBuf *cb, int sz, Mem m, int32_t imm)
{
    op_rm(cb, szf(sz, 0), sz == 1 ? 0xF6 : 0xF7, 0, m);
    put_imm(cb, sz, imm);
}

/* ---- one-operand groups ---- */

static uint32_t unary_op(UnaryOp op, int sz, int *digit)
{
    if (op == UN_INC || op == UN_DEC) {
        *digit = op - UN_INC;
        return sz == 1 ? 0xFE : 0xFF;
    }
    *digit = op;
    return sz == 1 ? 0xF6 : 0xF7;
}

void emit_unary_r(CodeBuf *cb, UnaryOp op, int sz, int r)
{
    int digit;
    uint32_t opc = unary_op(op, sz, &digit);
    op_rr(cb, szf(sz, F_BRM), opc, digit, r);
}

void emit_unary_m(CodeBuf *cb, UnaryOp op, int sz, Mem m)
{
    int digit;
    uint32_t opc = unary_op(op, sz, &digit);
    op_rm(cb, szf(sz, 0), opc, digit, m);
}

/* ---- shifts and rotates ---- */

void emit_shift_ri(CodeBuf *cb, ShiftOp op, int sz, int r, uint8_t count)
{
    if (count == 1)
        emit_shift_r1(cb, op, sz, r);
    else
        emit_shift_ri8(cb, op, sz, r, count);
}

void emit_shift_ri8(CodeBuf *cb, ShiftOp op, int sz, int r, uint8_t count)
{
    op_rr(cb, szf(sz, F_BRM), sz == 1 ? 0xC0 : 0xC1, op, r);
    emit_byte(cb, count);
}

void emit_shift_r1(CodeBuf *cb, ShiftOp op, int sz, int r)
{
    op_rr(cb, szf(sz, F_BRM), sz == 1 ? 0xD0 : 0xD1, op, r);
}

void emit_shift_rcl(CodeBuf *cb, ShiftOp op, int sz, int r)
{
    op_rr(cb, szf(sz, F_BRM), sz == 1 ? 0xD2 : 0xD3, op, r);
}

void emit_shift_mi(CodeBuf *cb, ShiftOp op, int sz, Mem m, uint8_t count)
{
    if (count == 1) {
        op_rm(cb, szf(sz, 0), sz == 1 ? 0xD0 : 0xD1, op, m);
    } else {
        op_rm(cb, szf(sz, 0), sz == 1 ? 0xC0 : 0xC1, op, m);
        emit_byte(cb, count);
    }
}

void emit_shift_mcl(CodeBuf *cb, ShiftOp op, int sz, Mem m)
{
    op_rm(cb, szf(sz, 0), sz == 1 ? 0xD2 : 0xD3, op, m);
}

void emit_shld_rri(CodeBuf *cb, int sz, int dst, int src, uint8_t count)
{
    op_rr(cb, szf(sz, 0), 0x0FA4, src, dst);
    emit_byte(cb, count);
}

void emit_shld_rrcl(CodeBuf *cb, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, 0), 0x0FA5, src, dst);
}

void emit_shrd_rri(CodeBuf *cb, int sz, int dst, int src, uint8_t count)
{
    op_rr(cb, szf(sz, 0), 0x0FAC, src, dst);
    emit_byte(cb, count);
}

void emit_shrd_rrcl(CodeBuf *cb, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, 0), 0x0FAD, src, dst);
}

/* ---- IMUL, bit tests, bit scans, BSWAP ---- */

void emit_imul_rr(CodeBuf *cb, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, 0), 0x0FAF, dst, src);
}

void emit_imul_rm(CodeBuf *cb, int sz, int dst, Mem m)
{
    op_rm(cb, szf(sz, 0), 0x0FAF, dst, m);
}

void emit_imul_rri(CodeBuf *cb, int sz, int dst, int src, int32_t imm)
{
    if (fits8(imm)) {
        op_rr(cb, szf(sz, 0), 0x6B, dst, src);
        emit_byte(cb, (uint8_t)imm);
    } else {
        op_rr(cb, szf(sz, 0), 0x69, dst, src);
        put_imm(cb, sz, imm);
    }
}

/* BT r/m, r opcodes: 0F A3 / AB / B3 / BB for BT BTS BTR BTC. */
static uint32_t bt_reg_op(BtOp op)
{
    return 0x0FA3 + (uint32_t)(op - BT_BT) * 8;
}

void emit_bt_rr(CodeBuf *cb, BtOp op, int sz, int base, int bit)
{
    op_rr(cb, szf(sz, 0), bt_reg_op(op), bit, base);
}

void emit_bt_ri(CodeBuf *cb, BtOp op, int sz, int base, uint8_t bit)
{
    op_rr(cb, szf(sz, 0), 0x0FBA, op, base);
    emit_byte(cb, bit);
}

void emit_bt_mr(CodeBuf *cb, BtOp op, int sz, Mem m, int bit)
{
    op_rm(cb, szf(sz, 0), bt_reg_op(op), bit, m);
}

void emit_bt_mi(CodeBuf *cb, BtOp op, int sz, Mem m, uint8_t bit)
{
    op_rm(cb, szf(sz, 0), 0x0FBA, op, m);
    emit_byte(cb, bit);
}

void emit_bsf_rr(CodeBuf *cb, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, 0), 0x0FBC, dst, src);
}

void emit_bsr_rr(CodeBuf *cb, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, 0), 0x0FBD, dst, src);
}

void emit_bsf_rm(CodeBuf *cb, int sz, int dst, Mem m)
{
    op_rm(cb, szf(sz, 0), 0x0FBC, dst, m);
}

void emit_bsr_rm(CodeBuf *cb, int sz, int dst, Mem m)
{
    op_rm(cb, szf(sz, 0), 0x0FBD, dst, m);
}

void emit_bswap(CodeBuf *cb, int sz, int r)
{
    op_plusr(cb, szf(sz, 0), 0x0FC8, r);
}

/* ---- SETcc / CMOVcc ---- */

void emit_setcc_r(CodeBuf *cb, Cond cc, int r)
{
    op_rr(cb, F_BRM, 0x0F90 + (uint32_t)cc, 0, r);
}

void emit_setcc_m(CodeBuf *cb, Cond cc, Mem m)
{
    op_rm(cb, 0, 0x0F90 + (uint32_t)cc, 0, m);
}

void emit_cmov_rr(CodeBuf *cb, Cond cc, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, 0), 0x0F40 + (uint32_t)cc, dst, src);
}

void emit_cmov_rm(CodeBuf *cb, Cond cc, int sz, int dst, Mem m)
{
    op_rm(cb, szf(sz, 0), 0x0F40 + (uint32_t)cc, dst, m);
}

/* ---- jumps, calls, labels ---- */

void emit_jcc_rel8(CodeBuf *cb, Cond cc, int8_t rel)
{
    emit_byte(cb, (uint8_t)(0x70 + cc));
    emit_byte(cb, (uint8_t)rel);
}

void emit_jcc_rel32(CodeBuf *cb, Cond cc, int32_t rel)
{
    emit_byte(cb, 0x0F);
    emit_byte(cb, (uint8_t)(0x80 + cc));
    put32(cb, (uint32_t)rel);
}

void emit_jmp_rel8(CodeBuf *cb, int8_t rel)
{
    emit_byte(cb, 0xEB);
    emit_byte(cb, (uint8_t)rel);
}

void emit_jmp_rel32(CodeBuf *cb, int32_t rel)
{
    emit_byte(cb, 0xE9);
    put32(cb, (uint32_t)rel);
}

size_t emit_jcc_label(CodeBuf *cb, Cond cc)
{
    emit_jcc_rel32(cb, cc, 0);
    return cb->len - 4;
}

size_t emit_jmp_label(CodeBuf *cb)
{
    emit_jmp_rel32(cb, 0);
    return cb->len - 4;
}

size_t emit_jcc8_label(CodeBuf *cb, Cond cc)
{
    emit_jcc_rel8(cb, cc, 0);
    return cb->len - 1;
}

size_t emit_jmp8_label(CodeBuf *cb)
{
    emit_jmp_rel8(cb, 0);
    return cb->len - 1;
}

void emit_patch_rel32(CodeBuf *cb, size_t patch_pos, size_t target_pos)
{
    if (patch_pos > cb->cap || cb->cap - patch_pos < 4) {
        cb->overflow = true;   /* the field itself was dropped */
        return;
    }
    uint32_t rel = (uint32_t)((int64_t)target_pos - (int64_t)(patch_pos + 4));
    for (int i = 0; i < 4; i++)
        cb->buf[patch_pos + (size_t)i] = (uint8_t)(rel >> (8 * i));
}

bool emit_patch_rel8(CodeBuf *cb, size_t patch_pos, size_t target_pos)
{
    int64_t rel = (int64_t)target_pos - (int64_t)(patch_pos + 1);
    if (!fits8(rel))
        return false;
    if (patch_pos >= cb->cap) {
        cb->overflow = true;
        return true;
    }
    cb->buf[patch_pos] = (uint8_t)rel;
    return true;
}

void emit_jcc_to(CodeBuf *cb, Cond cc, size_t target_pos)
{
    int64_t rel8 = (int64_t)target_pos - (int64_t)(cb->len + 2);
    if (fits8(rel8))
        emit_jcc_rel8(cb, cc, (int8_t)rel8);
    else
        emit_jcc_rel32(cb, cc, (int32_t)((int64_t)target_pos - (int64_t)(cb->len + 6)));
}

void emit_jmp_to(CodeBuf *cb, size_t target_pos)
{
    int64_t rel8 = (int64_t)target_pos - (int64_t)(cb->len + 2);
    if (fits8(rel8))
        emit_jmp_rel8(cb, (int8_t)rel8);
    else
        emit_jmp_rel32(cb, (int32_t)((int64_t)target_pos - (int64_t)(cb->len + 5)));
}

/* JMP/CALL r/m are 64-bit by default: no REX.W. */
void emit_jmp_r(CodeBuf *cb, int r)
{
    op_rr(cb, 0, 0xFF, 4, r);
}

void emit_jmp_m(CodeBuf *cb, Mem m)
{
    op_rm(cb, 0, 0xFF, 4, m);
}

void emit_call_r(CodeBuf *cb, int r)
{
    op_rr(cb, 0, 0xFF, 2, r);
}

void emit_call_m(CodeBuf *cb, Mem m)
{
    op_rm(cb, 0, 0xFF, 2, m);
}

void emit_call_rel32(CodeBuf *cb, int32_t rel)
{
    emit_byte(cb, 0xE8);
    put32(cb, (uint32_t)rel);
}

/* Distance from the end of a 5-byte rel32 instruction starting at cb->len. */
static int64_t abs_rel(const CodeBuf *cb, const void *target)
{
    uintptr_t here = (cb->exec_at ? cb->exec_at : (uintptr_t)cb->buf) + cb->len + 5;
    return (int64_t)((uintptr_t)target - here);
}

void emit_call_abs(CodeBuf *cb, const void *target, int scratch)
{
    int64_t rel = abs_rel(cb, target);
    if (fits32(rel)) {
        emit_call_rel32(cb, (int32_t)rel);
    } else {
        emit_mov_ri64(cb, scratch, (uint64_t)(uintptr_t)target);
        emit_call_r(cb, scratch);
    }
}

void emit_jmp_abs(CodeBuf *cb, const void *target, int scratch)
{
    int64_t rel = abs_rel(cb, target);
    if (fits32(rel)) {
        emit_jmp_rel32(cb, (int32_t)rel);
    } else {
        emit_mov_ri64(cb, scratch, (uint64_t)(uintptr_t)target);
        emit_jmp_r(cb, scratch);
    }
}

void emit_ret(CodeBuf *cb)
{
    emit_byte(cb, 0xC3);
}

/* ---- stack, flags ---- */

void emit_push_r(CodeBuf *cb, int r)
{
    op_plusr(cb, 0, 0x50, r);
}

void emit_pop_r(CodeBuf *cb, int r)
{
    op_plusr(cb, 0, 0x58, r);
}

void emit_push_i(CodeBuf *cb, int32_t imm)
{
    if (fits8(imm)) {
        emit_byte(cb, 0x6A);
        emit_byte(cb, (uint8_t)imm);
    } else {
        emit_byte(cb, 0x68);
        put32(cb, (uint32_t)imm);
    }
}

void emit_pushf(CodeBuf *cb)
{
    emit_byte(cb, 0x9C);
}

void emit_popf(CodeBuf *cb)
{
    emit_byte(cb, 0x9D);
}

void emit_lahf(CodeBuf *cb)
{
    emit_byte(cb, 0x9F);
}

void emit_sahf(CodeBuf *cb)
{
    emit_byte(cb, 0x9E);
}

/* ---- exchange ---- */

void emit_xchg_rr(CodeBuf *cb, int sz, int a, int b)
{
    op_rr(cb, szf(sz, F_BREG | F_BRM), sz == 1 ? 0x86 : 0x87, b, a);
}

void emit_xchg_mr(CodeBuf *cb, int sz, Mem m, int r)
{
    op_rm(cb, szf(sz, F_BREG), sz == 1 ? 0x86 : 0x87, r, m);
}

void emit_cmpxchg_rr(CodeBuf *cb, int sz, int dst, int src)
{
    op_rr(cb, szf(sz, F_BREG | F_BRM), sz == 1 ? 0x0FB0 : 0x0FB1, src, dst);
}

void emit_cmpxchg_mr(CodeBuf *cb, int sz, Mem m, int src)
{
    op_rm(cb, szf(sz, F_BREG), sz == 1 ? 0x0FB0 : 0x0FB1, src, m);
}

/* ---- sign extension of rAX ---- */

void emit_cwd(CodeBuf *cb)
{
    emit_byte(cb, 0x66);
    emit_byte(cb, 0x99);
}

void emit_cdq(CodeBuf *cb)
{
    emit_byte(cb, 0x99);
}

void emit_cqo(CodeBuf *cb)
{
    emit_byte(cb, 0x48);
    emit_byte(cb, 0x99);
}

void emit_cwde(CodeBuf *cb)
{
    emit_byte(cb, 0x98);
}

void emit_cdqe(CodeBuf *cb)
{
    emit_byte(cb, 0x48);
    emit_byte(cb, 0x98);
}

/* ---- padding and traps ---- */

/* The recommended multi-byte NOPs (SDM vol. 2, NOP: table 4-12), 1 to 9 bytes; longer
 * ones add 66 prefixes to the 9-byte form up to 11 bytes (what assemblers do). */
static const uint8_t nops[12][11] = {
    { 0 },
    { 0x90 },
    { 0x66, 0x90 },
    { 0x0F, 0x1F, 0x00 },
    { 0x0F, 0x1F, 0x40, 0x00 },
    { 0x0F, 0x1F, 0x44, 0x00, 0x00 },
    { 0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00 },
    { 0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00 },
    { 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
    { 0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
    { 0x66, 0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
    { 0x66, 0x66, 0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

void emit_nop(CodeBuf *cb, size_t n)
{
    while (n > 0) {
        size_t k = n > 11 ? 11 : n;
        emit_bytes(cb, nops[k], k);
        n -= k;
    }
}

void emit_align(CodeBuf *cb, size_t align)
{
    if (align < 2)
        return;
    uintptr_t at = cb->exec_at + cb->len;   /* offset in buf when exec_at is 0 */
    size_t pad = (size_t)((align - (at & (align - 1))) & (align - 1));
    emit_nop(cb, pad);
}

void emit_ud2(CodeBuf *cb)
{
    emit_byte(cb, 0x0F);
    emit_byte(cb, 0x0B);
}

void emit_int3(CodeBuf *cb)
{
    emit_byte(cb, 0xCC);
}
