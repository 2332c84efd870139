/*
 * gen.c — turns a block of decoded guest instructions into host x86-64 code.
 *
 * Register conventions inside translated code: RBX holds the Cpu pointer for the whole
 * block (callee-saved, so C helpers keep it); RAX, RCX, RDX, RSI, RDI are scratch; R12
 * keeps host flags across a helper call; R13 keeps an effective address across one.
 * Guest registers and EFLAGS live in the Cpu structure at every instruction boundary,
 * so a C helper (an interpreter handler, a memory access) always sees exact state.
 *
 * Most integer instructions are translated natively: x86 on x86-64 gives the guest's
 * result and flags from the same host instruction, and flags are merged into the
 * guest EFLAGS only when a later reader in the block (or the block's end) needs them.
 * Memory operands go through the interpreter's segmented access functions (mem_read*,
 * mem_write*), so limits, paging, faults and MMIO are the interpreter's own. Every other
 * instruction becomes a call of its interpreter handler with a copy of its Insn.
 *
 * Precise state: before anything that can fault, the retired-instruction count is
 * added to icount and the instruction's EIP and ESP are stored where cpu_fault()
 * restores them from; a fault longjmps out of the translated code to the dispatcher.
 * After a helper, translated code leaves at the instruction boundary when dbt_exit is
 * set (an interrupt, a stop request, or a write into a page with translations).
 */
#include <stddef.h>
#include <string.h>

#include "translate/dbt_internal.h"

#define OFF(f) ((int32_t)offsetof(Cpu, f))
#define CPU_MEM(f) mem_base(HRBX, OFF(f))

/* ---- which instructions end a block ---- */

bool dbt_insn_ends_block(const Insn *in)
{
    switch (in->mnem) {
    /* computation, data movement, FPU/SSE: the block goes on after them */
    case M_ADD: case M_OR: case M_ADC: case M_SBB: case M_AND: case M_SUB: case M_XOR:
    case M_CMP: case M_INC: case M_DEC: case M_NEG: case M_NOT: case M_TEST: case M_MUL:
    case M_IMUL1: case M_IMUL2: case M_IMUL3: case M_DIV: case M_IDIV: case M_DAA:
    case M_DAS: case M_AAA: case M_AAS: case M_AAM: case M_AAD: case M_CBW: case M_CWD:
    case M_ROL: case M_ROR: case M_RCL: case M_RCR: case M_SHL: case M_SHR: case M_SAL:
    case M_SAR: case M_SHLD: case M_SHRD: case M_BT: case M_BTS: case M_BTR: case M_BTC:
    case M_BSF: case M_BSR: case M_BSWAP: case M_MOV: case M_MOVZX: case M_MOVSX:
    /* (segment loads end blocks: the block's mode has each segment's access rights) */
    case M_XCHG: case M_XADD: case M_CMPXCHG: case M_CMPXCHG8B: case M_LEA: case M_XLAT: case M_NOP: case M_PAUSE: case M_PUSH:
    case M_POP: case M_PUSHA: case M_POPA: case M_PUSHF: case M_ENTER: case M_LEAVE:
    case M_CLC: case M_STC: case M_CMC: case M_CLD: case M_STD: case M_SAHF: case M_LAHF:
    case M_MOVS: case M_CMPS: case M_STOS: case M_LODS: case M_SCAS: case M_BOUND:
    case M_SALC: case M_PREFETCH: case M_HINT_NOP: case M_FPU: case M_SSE: case M_WAIT:
    case M_SETcc: case M_CMOVcc: case M_MOV_RS: case M_SMSW: case M_SGDT: case M_SIDT:
    case M_SLDT: case M_STR: case M_LAR: case M_LSL: case M_VERR: case M_VERW: case M_ARPL:
    case M_RDTSC: case M_CPUID:
        return false;
    case M_PUSH_SR:
        return false;
    default:
        /* branches, system instructions, I/O, HLT, interrupts, UD, anything new */
        return true;
    }
}

/* ---- generator state ---- */

typedef struct SideExit {
    size_t patch;      /* rel32 field of the jump to this exit */
    unsigned pending;  /* instructions to add to icount on the way out */
    bool set_eip;
    uint32_t eip;
} SideExit;

/* An out-of-line slow path of an inline memory access: calls the C accessor (which
 * also fills the host-page cache) and jumps back. */
typedef struct SlowPath {
    size_t patch[6];   /* rel32 fields of the jumps here */
    unsigned npatch;
    size_t join;       /* where to continue */
    unsigned pending;  /* icount adjustment around the call */
    uint32_t eip;      /* the instruction (for cpu_fault's restore) */
    uint8_t seg, size;
    bool store;
} SlowPath;

typedef struct Gen {
    Dbt *d;
    Block *b;
    CodeBuf cb;
    unsigned pending;  /* retired instructions not yet added to icount */
    bool prepped;      /* the current instruction's fault state is stored */
    SideExit side[DBT_MAX_BLOCK_INSNS * 2 + 4];
    unsigned nside;
    SlowPath slow[DBT_MAX_BLOCK_INSNS * 2 + 4];
    unsigned nslow;
    bool accessed;     /* the current instruction called a memory accessor */
    bool slot_used[2]; /* exit slots the block jumps through */
    int mseg;          /* segment of the current memory access (in->seg, or SS) */
    const Insn *in;
    uint32_t eip, next; /* current instruction and the one after it */
    uint32_t flags_needed; /* arithmetic flags of this instruction read later */
    bool code32;
} Gen;

static void flush_icount(Gen *g)
{
    if (g->pending) {
        emit_alu_mi(&g->cb, ALU_ADD, 8, CPU_MEM(icount), (int32_t)g->pending);
        g->pending = 0;
    }
}

/* Add `pending` retired instructions to icount and store what cpu_fault() restores:
 * the instruction's start EIP and its ESP (unchanged so far). Clobbers EAX. */
static void emit_fault_state(CodeBuf *cb, unsigned pending, uint32_t eip)
{
    if (pending) emit_alu_mi(cb, ALU_ADD, 8, CPU_MEM(icount), (int32_t)pending);
    emit_mov_mi(cb, 4, CPU_MEM(insn_eip), (int32_t)eip);
    emit_mov_rm(cb, 4, HRAX, mem_base(HRBX, OFF(regs) + R_ESP * 4));
    emit_mov_mr(cb, 4, CPU_MEM(insn_esp), HRAX);
}

/* The fault state in line, once per instruction before its first call that can fault
 * (icount is then up to date for the rest of the block). */
static void prep_fault(Gen *g)
{
    if (g->prepped) return;
    emit_fault_state(&g->cb, g->pending, g->eip);
    g->pending = 0;
    g->prepped = true;
}

static void call_fn(Gen *g, const void *fn)
{
    emit_mov_rr(&g->cb, 8, HRDI, HRBX);
    emit_call_abs(&g->cb, fn, HRAX);
}

/* jne to a side exit that leaves with `pending` retired instructions added. */
static void side_exit_if(Gen *g, Cond cc, bool set_eip, uint32_t eip)
{
    SideExit *s = &g->side[g->nside++];
    s->patch = emit_jcc_label(&g->cb, cc);
    s->pending = g->pending;
    s->set_eip = set_eip;
    s->eip = eip;
}

/* After a helper: leave at this boundary if something asked for it. */
static void exit_check(Gen *g, bool set_eip, uint32_t eip)
{
    emit_alu_mi(&g->cb, ALU_CMP, 1, CPU_MEM(dbt_exit), 0);
    side_exit_if(g, CC_NE, set_eip, eip);
}

/* ---- guest operands ---- */

/* The Cpu field of general register `reg` at `size` (AH..BH for size 1, reg 4-7). */
static Mem greg(int reg, unsigned size)
{
    if (size == 1 && reg >= 4) return mem_base(HRBX, OFF(regs) + (reg - 4) * 4 + 1);
    return mem_base(HRBX, OFF(regs) + reg * 4);
}

/* EDX = the effective address of the memory operand (truncated to the address size). */
static void gen_ea(Gen *g, int dst)
{
    const Insn *in = g->in;
    if (in->ea_base >= 0) {
        emit_mov_rm(&g->cb, 4, dst, greg(in->ea_base, 4));
        if (in->disp) emit_alu_ri(&g->cb, ALU_ADD, 4, dst, in->disp);
    } else {
        emit_mov_ri(&g->cb, 4, dst, in->disp);
    }
    if (in->ea_index >= 0) {
        emit_mov_rm(&g->cb, 4, HRCX, greg(in->ea_index, 4));
        if (in->ea_scale) emit_shift_ri(&g->cb, SH_SHL, 4, HRCX, in->ea_scale);
        emit_alu_rr(&g->cb, ALU_ADD, 4, dst, HRCX);
    }
    if (in->addrsize == 2) emit_movzx_rr(&g->cb, 4, 2, dst, dst);
}

/* The segment fast-path bits of the block's mode (BM_SEG_R/W): may an access through
 * segment `seg` skip the type checks (only limit and paging stay)? */
static bool seg_fast(const Gen *g, int seg, bool store)
{
    if (g->b->mode & BM_AC) return false; /* the accessors raise #AC */
    return g->b->mode & (store ? BM_SEG_W(seg) : BM_SEG_R(seg));
}

/* Inline access of `size` bytes at offset EDX in in->seg, RAM through the host-page
 * cache; anything else jumps to an out-of-line call of the C accessor. A load leaves
 * the value in EAX and the offset in R13; a store takes the offset in R13 and the
 * value in R14. Clobbers RAX, RCX, RDX, RSI. */
static void gen_access_inline(Gen *g, unsigned size, bool store)
{
    CodeBuf *cb = &g->cb;
    int seg = g->mseg;
    SlowPath *sp = &g->slow[g->nslow++];
    memset(sp, 0, sizeof(*sp));
    sp->pending = g->pending;
    sp->eip = g->eip;
    sp->seg = (uint8_t)seg;
    sp->size = (uint8_t)size;
    sp->store = store;
    if (store) emit_mov_rr(cb, 4, HRDX, HR13);
    if (!(g->b->mode & BM_SEG_FLAT(seg))) {
        /* limit: offset + size - 1 <= limit, computed in 64 bits so a wrap fails */
        emit_lea(cb, 8, HRAX, mem_base(HRDX, (int32_t)size - 1));
        emit_mov_rm(cb, 4, HRCX, mem_base(HRBX, OFF(seg) + seg * (int32_t)sizeof(SegCache) +
                                                     (int32_t)offsetof(SegCache, limit)));
        emit_alu_rr(cb, ALU_CMP, 8, HRAX, HRCX);
        sp->patch[sp->npatch++] = emit_jcc_label(cb, CC_A);
        emit_alu_rm(cb, ALU_ADD, 4, HRDX,
                    mem_base(HRBX, OFF(seg) + seg * (int32_t)sizeof(SegCache) +
                                       (int32_t)offsetof(SegCache, base)));
    }
    /* flat: the linear address is the offset; an access wrapping past 4 GiB also
     * crosses a page, so the page check below sends it to the accessor (#GP) */
    if (size > 1 && !(g->b->mode & BM_PG)) {
        /* within one page */
        emit_lea(cb, 4, HRCX, mem_base(HRDX, (int32_t)size - 1));
        emit_alu_rr(cb, ALU_XOR, 4, HRCX, HRDX);
        emit_test_ri(cb, 4, HRCX, (int32_t)0xfffff000u);
        sp->patch[sp->npatch++] = emit_jcc_label(cb, CC_NE);
    }
    if (g->b->mode & BM_PG) {
        unsigned acc = store ? 1 : 0;
        unsigned bit = 1u << (acc * 2 + (((g->b->mode >> BM_CPL_SHIFT) & 3) == 3));
        emit_mov_rr(cb, 4, HRAX, HRDX);
        emit_shift_ri(cb, SH_SHR, 4, HRAX, 12);
        emit_movzx_rr(cb, 4, 1, HRAX, HRAX);          /* TLB index of the first byte */
        /* the tag is compared with the page of the LAST byte: an access that crosses
         * into the next page (or wraps past 4 GiB) misses and takes the slow path */
        emit_lea(cb, 4, HRCX, mem_base(HRDX, (int32_t)size - 1));
        emit_alu_ri(cb, ALU_AND, 4, HRCX, (int32_t)0xfffff000u);
        emit_alu_ri(cb, ALU_OR, 4, HRCX, TLB_VALID);
        emit_lea(cb, 8, HRSI, mem_bisd(HRAX, HRAX, 2, 0)); /* index * 3 */
        emit_alu_rm(cb, ALU_CMP, 4, HRCX,
                    mem_bisd(HRBX, HRSI, 4, OFF(tlb) + (int32_t)offsetof(TlbEntry, tag)));
        sp->patch[sp->npatch++] = emit_jcc_label(cb, CC_NE);
        emit_test_mi(cb, 1, mem_bisd(HRBX, HRSI, 4, OFF(tlb) + (int32_t)offsetof(TlbEntry, perm)),
                     (int32_t)bit);
        sp->patch[sp->npatch++] = emit_jcc_label(cb, CC_E);
        emit_shift_ri(cb, SH_SHL, 4, HRAX, 4);
        emit_mov_rm(cb, 8, HRAX, mem_bisd(HRBX, HRAX, 1, OFF(tlb_host) + (store ? 8 : 0)));
    } else {
        emit_alu_rm(cb, ALU_AND, 4, HRDX, CPU_MEM(a20_mask));
        emit_mov_rm(cb, 8, HRAX, CPU_MEM(mem));
        emit_mov_rr(cb, 4, HRCX, HRDX);
        emit_shift_ri(cb, SH_SHR, 4, HRCX, 12);
        emit_mov_rm(cb, 8, HRAX, mem_bisd(HRAX, HRCX, 8, store ? (int32_t)offsetof(PhysMem, wr)
                                                               : (int32_t)offsetof(PhysMem, rd)));
    }
    emit_test_rr(cb, 8, HRAX, HRAX);
    sp->patch[sp->npatch++] = emit_jcc_label(cb, CC_E);
    emit_alu_ri(cb, ALU_AND, 4, HRDX, 0xfff);
    Mem host = mem_bisd(HRAX, HRDX, 1, 0);
    if (store) emit_mov_mr(cb, size, host, HR14);
    else if (size == 4) emit_mov_rm(cb, 4, HRAX, host);
    else emit_movzx_rm(cb, 4, size, HRAX, host);
    sp->join = cb->len;
}

static const void *slow_fn(unsigned size, bool store)
{
    if (store)
        return size == 1 ? (const void *)dbt_wr8 : size == 2 ? (const void *)dbt_wr16
                                                             : (const void *)dbt_wr32;
    return size == 1 ? (const void *)dbt_rd8 : size == 2 ? (const void *)dbt_rd16
                                                         : (const void *)dbt_rd32;
}

/* EAX = memory operand (EA in EDX already). Keeps the offset in R13. */
static void gen_load(Gen *g, unsigned size)
{
    g->accessed = true;
    emit_mov_rr(&g->cb, 4, HR13, HRDX);
    if (g->d->opt.check || !seg_fast(g, g->mseg, false)) {
        prep_fault(g);
        emit_mov_ri(&g->cb, 4, HRSI, g->mseg);
        call_fn(g, slow_fn(size, false));
        return;
    }
    gen_access_inline(g, size, false);
}

/* Store ECX at offset R13 (ea_in_r13) or EDX. */
static void gen_store(Gen *g, unsigned size, bool ea_in_r13)
{
    g->accessed = true;
    if (!ea_in_r13) emit_mov_rr(&g->cb, 4, HR13, HRDX);
    if (g->d->opt.check || !seg_fast(g, g->mseg, true)) {
        prep_fault(g);
        emit_mov_rr(&g->cb, 4, HRDX, HR13);
        emit_mov_ri(&g->cb, 4, HRSI, g->mseg);
        call_fn(g, slow_fn(size, true));
        return;
    }
    emit_mov_rr(&g->cb, 4, HR14, HRCX);
    gen_access_inline(g, size, true);
}

/* Merge the host flags in `reg` (from pushfq) into the guest EFLAGS, `mask` bits. */
static void merge_flags_from(Gen *g, int reg, uint32_t mask)
{
    emit_alu_ri(&g->cb, ALU_AND, 4, reg, (int32_t)mask);
    emit_mov_rm(&g->cb, 4, HRCX, CPU_MEM(eflags));
    emit_alu_ri(&g->cb, ALU_AND, 4, HRCX, (int32_t)~mask);
    emit_alu_rr(&g->cb, ALU_OR, 4, HRCX, reg);
    emit_mov_mr(&g->cb, 4, CPU_MEM(eflags), HRCX);
}

/* Host flags → guest EFLAGS right away (no call in between). Clobbers RAX, RCX. */
static void merge_flags_now(Gen *g, uint32_t mask)
{
    if (!(g->flags_needed & mask)) return;
    emit_pushf(&g->cb);
    emit_pop_r(&g->cb, HRAX);
    merge_flags_from(g, HRAX, mask);
}

/* Host flags saved in R12 before a call (merged after it with merge_flags_from). */
static bool save_flags(Gen *g, uint32_t mask)
{
    if (!(g->flags_needed & mask)) return false;
    emit_pushf(&g->cb);
    emit_pop_r(&g->cb, HR12);
    return true;
}

/* Guest CF → host CF (for ADC/SBB). */
static void load_cf(Gen *g)
{
    emit_bt_mi(&g->cb, BT_BT, 4, CPU_MEM(eflags), 0);
}

/* A RET whose target is beyond the CS limit (cpu_fault restores EIP/ESP). */
static __attribute__((noreturn)) void dbt_fault_gp0(Cpu *c) { cpu_fault(c, EXC_GP, 0); }

/* ---- native translations ---- */

static bool simple_size(unsigned s) { return s == 1 || s == 2 || s == 4; }

static uint32_t flags_written(const Insn *in)
{
    switch (in->mnem) {
    case M_ADD: case M_OR: case M_ADC: case M_SBB: case M_AND: case M_SUB: case M_XOR:
    case M_CMP: case M_TEST: case M_NEG:
        return FL_ARITH;
    case M_INC: case M_DEC:
        return FL_ARITH & ~FL_CF;
    case M_IMUL2: case M_IMUL3: case M_MUL: case M_IMUL1:
        return FL_ARITH;
    case M_SHL: case M_SAL: case M_SHR: case M_SAR:
        /* a count of 0 changes nothing: only a constant non-zero count surely writes */
        if (in->op[1].kind == OPK_ONE) return FL_ARITH;
        if (in->op[1].kind == OPK_IMM && (in->imm & 31)) return FL_ARITH;
        return 0;
    case M_ROL: case M_ROR:
        if (in->op[1].kind == OPK_ONE) return FL_CF | FL_OF;
        if (in->op[1].kind == OPK_IMM && (in->imm & 31)) return FL_CF | FL_OF;
        return 0;
    default:
        return 0;
    }
}

static bool shift_by_cl(const Insn *in)
{
    return (in->mnem == M_SHL || in->mnem == M_SAL || in->mnem == M_SHR || in->mnem == M_SAR ||
            in->mnem == M_ROL || in->mnem == M_ROR) &&
           in->op[1].kind == OPK_REG;
}

static AluOp alu_of(unsigned mnem)
{
    switch (mnem) {
    case M_ADD: return ALU_ADD;
    case M_OR: return ALU_OR;
    case M_ADC: return ALU_ADC;
    case M_SBB: return ALU_SBB;
    case M_AND: return ALU_AND;
    case M_SUB: return ALU_SUB;
    case M_XOR: return ALU_XOR;
    default: return ALU_CMP;
    }
}

/* Can this instruction be translated natively? (Must agree with gen_native.) */
static bool native_ok(const Gen *g, const Insn *in)
{
    if (in->prefixes & PFX_LOCK) return false; /* LOCK legality checks: handler */
    const Operand *o0 = &in->op[0], *o1 = &in->op[1];
    switch (in->mnem) {
    case M_NOP:
    case M_HINT_NOP:
        return true;
    case M_MOV:
        if (in->nops != 2 || !simple_size(o0->size)) return false;
        if (o0->kind == OPK_REG) return o1->kind == OPK_REG || o1->kind == OPK_IMM ||
                                        o1->kind == OPK_MEM;
        if (o0->kind == OPK_MEM) return o1->kind == OPK_REG || o1->kind == OPK_IMM;
        return false;
    case M_ADD: case M_OR: case M_ADC: case M_SBB: case M_AND: case M_SUB: case M_XOR:
    case M_CMP: case M_TEST:
        if (in->nops != 2 || !simple_size(o0->size)) return false;
        if (o0->kind == OPK_REG) return o1->kind == OPK_REG || o1->kind == OPK_IMM ||
                                        o1->kind == OPK_MEM;
        if (o0->kind == OPK_MEM) return o1->kind == OPK_REG || o1->kind == OPK_IMM;
        return false;
    case M_INC: case M_DEC: case M_NOT: case M_NEG:
        return in->nops == 1 && simple_size(o0->size) &&
               (o0->kind == OPK_REG || o0->kind == OPK_MEM);
    case M_LEA:
        return o0->kind == OPK_REG && o1->kind == OPK_MEM && (o0->size == 2 || o0->size == 4);
    case M_ROL: case M_ROR:
        /* the rotation is the host's at every size and count (count & 31, then modulo
         * the width); CF and OF are computed from the result */
        if (!simple_size(o0->size) || (o0->kind != OPK_REG && o0->kind != OPK_MEM)) return false;
        if (o1->kind == OPK_ONE || o1->kind == OPK_IMM) return true;
        return o1->kind == OPK_REG && o1->reg == R_ECX && o1->size == 1 && o0->size == 4;
    case M_SHL: case M_SAL: case M_SHR: case M_SAR:
        /* counts where the host's result and CF are the interpreter's: any count at 32
         * bits; below the operand width at 8/16 bits (the CL form only at 32 bits) */
        if (!simple_size(o0->size) || (o0->kind != OPK_REG && o0->kind != OPK_MEM)) return false;
        if (o1->kind == OPK_ONE) return true;
        if (o1->kind == OPK_IMM) return o0->size == 4 || (in->imm & 31) < o0->size * 8u;
        return o1->kind == OPK_REG && o1->reg == R_ECX && o1->size == 1 && o0->size == 4;
    case M_MOVZX: case M_MOVSX:
        return o0->kind == OPK_REG && (o0->size == 2 || o0->size == 4) &&
               (o1->size == 1 || o1->size == 2) && (o1->kind == OPK_REG || o1->kind == OPK_MEM);
    case M_MUL:
    case M_IMUL1:
        return in->nops == 1 && simple_size(o0->size) &&
               (o0->kind == OPK_REG || o0->kind == OPK_MEM);
    case M_IMUL2:
    case M_IMUL3:
        return o0->kind == OPK_REG && (o0->size == 2 || o0->size == 4) &&
               (o1->kind == OPK_REG || o1->kind == OPK_MEM) && o1->size == o0->size;
    case M_SETcc:
        return o0->size == 1 && (o0->kind == OPK_REG || o0->kind == OPK_MEM);
    case M_CMOVcc:
        return o0->kind == OPK_REG && (o0->size == 2 || o0->size == 4) &&
               (o1->kind == OPK_REG || o1->kind == OPK_MEM) && o1->size == o0->size;
    case M_PUSH:
        /* 32-bit stacks; PUSH ESP pushes the old value, which the read-first order keeps */
        return (g->b->mode & BM_STACK32) && (in->opsize == 2 || in->opsize == 4) &&
               (o0->kind == OPK_REG || o0->kind == OPK_IMM) && o0->size == in->opsize;
    case M_POP:
        return (g->b->mode & BM_STACK32) && o0->kind == OPK_REG &&
               (o0->size == 2 || o0->size == 4);
    case M_CALL: {
        if (!(g->b->mode & BM_STACK32) || o0->kind != OPK_REL) return false;
        uint32_t t = g->next + in->imm;
        if (in->opsize == 2) t &= 0xffff;
        return t <= g->b->cs_limit;
    }
    case M_RET:
        return (g->b->mode & BM_STACK32) && in->nops == 0;
    case M_Jcc:
    case M_JMP: {
        if (o0->kind != OPK_REL) return false;
        uint32_t t = g->next + in->imm;
        if (in->opsize == 2) t &= 0xffff;
        return t <= g->b->cs_limit;
    }
    default:
        return false;
    }
}

/* Load a source operand (reg/imm/mem) of `size` into ECX; for memory EDX must hold the
 * EA and the value arrives in EAX first. */
static void gen_src_to_ecx(Gen *g, const Operand *o, unsigned size)
{
    if (o->kind == OPK_REG)
        emit_mov_rm(&g->cb, size == 1 ? 1 : 4, HRCX, greg(o->reg, size));
    else
        emit_mov_ri(&g->cb, 4, HRCX, (int32_t)g->in->imm);
}

static void gen_alu(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    unsigned sz = d->size;
    bool test = in->mnem == M_TEST;
    AluOp op = alu_of(in->mnem);
    bool cmp = test || op == ALU_CMP;
    bool carry_in = op == ALU_ADC || op == ALU_SBB;
    if (d->kind == OPK_REG) {
        Mem dm = greg(d->reg, sz);
        if (s->kind == OPK_MEM) {
            gen_ea(g, HRDX);
            gen_load(g, sz);
            if (carry_in) load_cf(g);
            if (test) emit_test_mr(&g->cb, sz, dm, HRAX);
            else if (cmp) {
                /* cmp reg, mem: flags of reg - mem */
                emit_mov_rm(&g->cb, sz == 1 ? 1 : 4, HRCX, dm);
                emit_alu_rr(&g->cb, ALU_CMP, sz, HRCX, HRAX);
            } else {
                emit_alu_mr(&g->cb, op, sz, dm, HRAX);
            }
        } else if (s->kind == OPK_IMM) {
            if (carry_in) load_cf(g);
            if (test) emit_test_mi(&g->cb, sz, dm, (int32_t)in->imm);
            else emit_alu_mi(&g->cb, op, sz, dm, (int32_t)in->imm);
        } else {
            gen_src_to_ecx(g, s, sz);
            if (carry_in) load_cf(g);
            if (test) emit_test_mr(&g->cb, sz, dm, HRCX);
            else emit_alu_mr(&g->cb, op, sz, dm, HRCX);
        }
        merge_flags_now(g, FL_ARITH);
        return;
    }
    /* memory destination: read, operate in EAX, write (unless CMP/TEST), then flags */
    gen_ea(g, HRDX);
    gen_load(g, sz);
    gen_src_to_ecx(g, s, sz);
    if (carry_in) load_cf(g);
    if (test) emit_test_rr(&g->cb, sz, HRAX, HRCX);
    else emit_alu_rr(&g->cb, op, sz, HRAX, HRCX);
    if (cmp) {
        merge_flags_now(g, FL_ARITH);
        return;
    }
    bool saved = save_flags(g, FL_ARITH);
    emit_mov_rr(&g->cb, 4, HRCX, HRAX);
    gen_store(g, sz, true);
    if (saved) merge_flags_from(g, HR12, FL_ARITH);
}

static void gen_unary(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0];
    unsigned sz = d->size;
    UnaryOp op = in->mnem == M_INC ? UN_INC : in->mnem == M_DEC ? UN_DEC
               : in->mnem == M_NOT ? UN_NOT : UN_NEG;
    uint32_t mask = flags_written(in);
    if (d->kind == OPK_REG) {
        emit_unary_m(&g->cb, op, sz, greg(d->reg, sz));
        if (mask) merge_flags_now(g, mask);
        return;
    }
    gen_ea(g, HRDX);
    gen_load(g, sz);
    emit_unary_r(&g->cb, op, sz, HRAX);
    bool saved = mask && save_flags(g, mask);
    emit_mov_rr(&g->cb, 4, HRCX, HRAX);
    gen_store(g, sz, true);
    if (saved) merge_flags_from(g, HR12, mask);
}

static void gen_mov(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    unsigned sz = d->size;
    if (d->kind == OPK_REG) {
        Mem dm = greg(d->reg, sz);
        if (s->kind == OPK_IMM) {
            emit_mov_mi(&g->cb, sz, dm, (int32_t)in->imm);
        } else if (s->kind == OPK_REG) {
            emit_mov_rm(&g->cb, sz, HRAX, greg(s->reg, sz));
            emit_mov_mr(&g->cb, sz, dm, HRAX);
        } else {
            gen_ea(g, HRDX);
            gen_load(g, sz);
            emit_mov_mr(&g->cb, sz, dm, HRAX);
        }
        return;
    }
    gen_ea(g, HRDX);
    gen_src_to_ecx(g, s, sz);
    gen_store(g, sz, false);
}

static void gen_lea(Gen *g)
{
    const Insn *in = g->in;
    gen_ea(g, HRDX);
    emit_mov_mr(&g->cb, in->op[0].size, greg(in->op[0].reg, in->op[0].size), HRDX);
}

static void gen_movx(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    if (s->kind == OPK_MEM) {
        gen_ea(g, HRDX);
        gen_load(g, s->size);
    } else {
        emit_mov_rm(&g->cb, s->size, HRAX, greg(s->reg, s->size));
    }
    if (in->mnem == M_MOVZX) emit_movzx_rr(&g->cb, 4, s->size, HRAX, HRAX);
    else emit_movsx_rr(&g->cb, 4, s->size, HRAX, HRAX);
    emit_mov_mr(&g->cb, d->size, greg(d->reg, d->size), HRAX);
}

/* After a host MUL/IMUL (low half of the product in EAX, host flags live): R12D = the
 * guest flags by the interpreter's rules (alu.c): CF and OF from the host (high half
 * significant), SF ZF PF from the low `sz` bytes, AF 0. Clobbers RSI. */
static void gen_mul_flags(Gen *g, unsigned sz)
{
    CodeBuf *cb = &g->cb;
    emit_pushf(cb);
    emit_pop_r(cb, HR12);
    emit_alu_ri(cb, ALU_AND, 4, HR12, FL_CF | FL_OF);
    emit_test_rr(cb, sz, HRAX, HRAX);
    emit_pushf(cb);
    emit_pop_r(cb, HRSI);
    emit_alu_ri(cb, ALU_AND, 4, HRSI, FL_SF | FL_ZF | FL_PF);
    emit_alu_rr(cb, ALU_OR, 4, HR12, HRSI);
}

/* IMUL r, r/m [, imm]: the host's product; CF and OF from the host (high half
 * significant), SF ZF PF from the low half and AF 0, as the interpreter (alu.c). */
static void gen_imul(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    CodeBuf *cb = &g->cb;
    unsigned sz = d->size;
    if (s->kind == OPK_MEM) {
        gen_ea(g, HRDX);
        gen_load(g, sz);
    } else {
        emit_mov_rm(cb, 4, HRAX, greg(s->reg, 4));
    }
    if (in->mnem == M_IMUL2)
        emit_imul_rm(cb, sz, HRAX, greg(d->reg, sz));
    else
        emit_imul_rri(cb, sz, HRAX, HRAX, (int32_t)in->imm);
    if (g->flags_needed & FL_ARITH) {
        gen_mul_flags(g, sz);
        emit_mov_mr(cb, sz, greg(d->reg, sz), HRAX);
        merge_flags_from(g, HR12, FL_ARITH);
    } else {
        emit_mov_mr(cb, sz, greg(d->reg, sz), HRAX);
    }
}

/* MUL/IMUL r/m: AX = AL * src, DX:AX or EDX:EAX = eAX * src on the host; CF and OF
 * from the host, SF ZF PF from the low half (AL for bytes) and AF 0 (alu.c). */
static void gen_mul1(Gen *g)
{
    const Insn *in = g->in;
    const Operand *s = &in->op[0];
    CodeBuf *cb = &g->cb;
    unsigned sz = s->size;
    if (s->kind == OPK_MEM) {
        gen_ea(g, HRDX);
        gen_load(g, sz);
        emit_mov_rr(cb, 4, HRCX, HRAX);
    } else {
        emit_mov_rm(cb, sz == 1 ? 1 : 4, HRCX, greg(s->reg, sz));
    }
    emit_mov_rm(cb, 4, HRAX, greg(R_EAX, 4));
    emit_mov_rm(cb, 4, HRDX, greg(R_EDX, 4));
    emit_unary_r(cb, in->mnem == M_MUL ? UN_MUL : UN_IMUL, sz, HRCX);
    bool flags = (g->flags_needed & FL_ARITH) != 0;
    if (flags) gen_mul_flags(g, sz);
    if (sz == 1) {
        emit_mov_mr(cb, 2, greg(R_EAX, 2), HRAX);
    } else {
        emit_mov_mr(cb, sz, greg(R_EAX, sz), HRAX);
        emit_mov_mr(cb, sz, greg(R_EDX, sz), HRDX);
    }
    if (flags) merge_flags_from(g, HR12, FL_ARITH);
}

static Cond gen_cond(Gen *g, unsigned cc);

/* SETcc r/m8 */
static void gen_setcc(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0];
    CodeBuf *cb = &g->cb;
    if (d->kind == OPK_MEM) gen_ea(g, HRDX);
    Cond hc = gen_cond(g, in->cond);
    emit_setcc_r(cb, hc, HRCX);
    if (d->kind == OPK_MEM) {
        emit_movzx_rr(cb, 4, 1, HRCX, HRCX);
        gen_store(g, 1, false);
    } else {
        emit_mov_mr(cb, 1, greg(d->reg, 1), HRCX);
    }
}

/* CMOVcc r, r/m: the source is always read (a memory source faults even when false) */
static void gen_cmov(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    CodeBuf *cb = &g->cb;
    if (s->kind == OPK_MEM) {
        gen_ea(g, HRDX);
        gen_load(g, d->size);
    } else {
        emit_mov_rm(cb, 4, HRAX, greg(s->reg, 4));
    }
    emit_mov_rr(cb, 4, HRSI, HRAX);
    Cond hc = gen_cond(g, in->cond);
    size_t skip = emit_jcc8_label(cb, (Cond)(hc ^ 1));
    emit_mov_mr(cb, d->size, greg(d->reg, d->size), HRSI);
    emit_patch_rel8(cb, skip, cb->len);
}

/* SHL/SAL/SHR/SAR: the host shift gives the result, CF, SF, ZF and PF; AF is 0 and OF
 * follows the interpreter's formulas for every count (alu.c): SHL CF^MSB, SHR the two
 * top bits of the result, SAR 0. The flags are built in R12D (merged after a store). */
static void gen_shift(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    CodeBuf *cb = &g->cb;
    unsigned sz = d->size;
    ShiftOp op = in->mnem == M_SHR ? SH_SHR : in->mnem == M_SAR ? SH_SAR
               : in->mnem == M_ROL ? SH_ROL : in->mnem == M_ROR ? SH_ROR : SH_SHL;
    bool rotate = op == SH_ROL || op == SH_ROR;
    uint32_t fmask = rotate ? FL_CF | FL_OF : FL_ARITH;
    bool by_cl = s->kind == OPK_REG;
    unsigned cnt = s->kind == OPK_ONE ? 1 : (in->imm & 31);
    if (!by_cl && cnt == 0) {
        /* nothing changes, but a memory operand is still read (and may fault) */
        if (d->kind == OPK_MEM) {
            gen_ea(g, HRDX);
            gen_load(g, sz);
        }
        return;
    }
    if (d->kind == OPK_MEM) {
        gen_ea(g, HRDX);
        gen_load(g, sz);
    } else {
        emit_mov_rm(cb, sz == 1 ? 1 : 4, HRAX, greg(d->reg, sz));
    }
    size_t to_skip = 0;
    if (by_cl) {
        emit_mov_rm(cb, 4, HRCX, greg(R_ECX, 4));
        emit_alu_ri(cb, ALU_AND, 4, HRCX, 31);
        to_skip = emit_jcc_label(cb, CC_E);
        emit_shift_rcl(cb, op, sz, HRAX);
    } else {
        emit_shift_ri8(cb, op, sz, HRAX, (uint8_t)cnt);
    }
    bool flags = (g->flags_needed & fmask) != 0;
    if (flags) {
        unsigned bits = sz * 8;
        bool left = op == SH_SHL || op == SH_ROL;
        if (rotate) {
            /* CF from the result: ROL the LSB, ROR the MSB */
            emit_mov_rr(cb, 4, HR12, HRAX);
            if (!left) emit_shift_ri(cb, SH_SHR, 4, HR12, (uint8_t)(bits - 1));
            emit_alu_ri(cb, ALU_AND, 4, HR12, FL_CF);
        } else {
            emit_pushf(cb);
            emit_pop_r(cb, HR12);
            emit_alu_ri(cb, ALU_AND, 4, HR12, FL_CF | FL_PF | FL_ZF | FL_SF);
        }
        if (op != SH_SAR) { /* SAR's OF is 0 */
            /* OF: left, CF ^ MSB(result); right, MSB ^ bit width-2 of the result */
            emit_mov_rr(cb, 4, HRDX, HRAX);
            emit_shift_ri(cb, SH_SHR, 4, HRDX, (uint8_t)(bits - 1));
            if (left) {
                emit_alu_rr(cb, ALU_XOR, 4, HRDX, HR12);
            } else {
                emit_mov_rr(cb, 4, HRSI, HRAX);
                emit_shift_ri(cb, SH_SHR, 4, HRSI, (uint8_t)(bits - 2));
                emit_alu_rr(cb, ALU_XOR, 4, HRDX, HRSI);
            }
            emit_alu_ri(cb, ALU_AND, 4, HRDX, 1);
            emit_shift_ri(cb, SH_SHL, 4, HRDX, 11);
            emit_alu_rr(cb, ALU_OR, 4, HR12, HRDX);
        }
    }
    if (d->kind == OPK_MEM) {
        emit_mov_rr(cb, 4, HRCX, HRAX);
        gen_store(g, sz, true);
    } else {
        emit_mov_mr(cb, sz, greg(d->reg, sz), HRAX);
    }
    if (flags) merge_flags_from(g, HR12, fmask);
    if (by_cl) emit_patch_rel32(cb, to_skip, cb->len);
}

/* PUSH: the value (read first, so PUSH ESP pushes the old ESP), stored at SS:ESP-size;
 * ESP changes only after the store succeeded. 32-bit stacks only. */
static void gen_push_value(Gen *g, unsigned size)
{
    CodeBuf *cb = &g->cb;
    emit_mov_rm(cb, 4, HRDX, greg(R_ESP, 4));
    emit_alu_ri(cb, ALU_SUB, 4, HRDX, (int32_t)size);
    g->mseg = SEG_SS;
    gen_store(g, size, false);
    emit_mov_mr(cb, 4, greg(R_ESP, 4), HR13);
}

static void gen_push(Gen *g)
{
    const Insn *in = g->in;
    const Operand *o = &in->op[0];
    if (o->kind == OPK_REG)
        emit_mov_rm(&g->cb, 4, HRCX, greg(o->reg, o->size));
    else
        emit_mov_ri(&g->cb, 4, HRCX, (int32_t)in->imm);
    gen_push_value(g, o->size);
}

/* POP: load SS:[ESP], ESP += size, then the destination (POP ESP keeps the value). */
static void gen_pop_value(Gen *g, unsigned size)
{
    CodeBuf *cb = &g->cb;
    emit_mov_rm(cb, 4, HRDX, greg(R_ESP, 4));
    g->mseg = SEG_SS;
    gen_load(g, size);
    emit_lea(cb, 4, HRCX, mem_base(HR13, (int32_t)size));
    emit_mov_mr(cb, 4, greg(R_ESP, 4), HRCX);
}

static void gen_pop(Gen *g)
{
    const Operand *o = &g->in->op[0];
    gen_pop_value(g, o->size);
    emit_mov_mr(&g->cb, o->size, greg(o->reg, o->size), HRAX);
}

/* After a near indirect branch (EIP stored): find the next block without the
 * dispatcher (dbt_indirect), else return to it. */
static void gen_indirect_exit(Gen *g)
{
    CodeBuf *cb = &g->cb;
    emit_mov_ri64(cb, HRDI, (uint64_t)(uintptr_t)g->d);
    emit_mov_ri(cb, 4, HRSI, (int32_t)g->b->mode);
    emit_call_abs(cb, (const void *)dbt_indirect, HRAX);
    emit_test_rr(cb, 8, HRAX, HRAX);
    size_t to_exit = emit_jcc8_label(cb, CC_E);
    emit_jmp_r(cb, HRAX);
    emit_patch_rel8(cb, to_exit, cb->len);
    emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
    emit_jmp_abs(cb, g->d->exit_fn, HRCX);
}

/* ---- block exits ---- */

/* A direct exit through slot k to guest EIP `eip`: jmp [slot]; the slot starts out
 * pointing at this exit's stub, emitted after the body. */
static void direct_exit(Gen *g, int k, uint32_t eip)
{
    void **slot = &g->d->slots[(size_t)(g->b - g->d->blocks) * 2 + k];
    /* jmp [rip+disp]: RIP-relative to the slot in the data area */
    uintptr_t at = (uintptr_t)g->cb.exec_at + g->cb.len + 6;
    emit_jmp_m(&g->cb, mem_rip((int32_t)((intptr_t)slot - (intptr_t)at)));
    g->slot_used[k] = true;
    g->b->out_eip[k] = eip;
}

/* Condition `cc` of the guest EFLAGS in c->eflags → host flags; returns the host
 * condition (NE or E) that is true when the guest condition holds. Clobbers EAX, ECX. */
static Cond gen_cond(Gen *g, unsigned cc)
{
    static const uint32_t bits[8] = { FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, 0, 0 };
    unsigned base = cc >> 1;
    bool neg = cc & 1;
    if (base < 6) {
        emit_test_mi(&g->cb, 4, CPU_MEM(eflags), (int32_t)bits[base]);
    } else {
        /* L: SF != OF; LE: ZF or SF != OF (OF is bit 11, SF bit 7) */
        emit_mov_rm(&g->cb, 4, HRAX, CPU_MEM(eflags));
        emit_mov_rr(&g->cb, 4, HRCX, HRAX);
        emit_shift_ri(&g->cb, SH_SHR, 4, HRCX, 4);
        emit_alu_rr(&g->cb, ALU_XOR, 4, HRCX, HRAX);
        emit_alu_ri(&g->cb, ALU_AND, 4, HRCX, FL_SF);
        if (base == 7) {
            emit_alu_ri(&g->cb, ALU_AND, 4, HRAX, FL_ZF);
            emit_alu_rr(&g->cb, ALU_OR, 4, HRCX, HRAX);
        }
    }
    return neg ? CC_E : CC_NE;
}

static bool uses_memory(const Insn *in)
{
    for (int k = 0; k < in->nops; k++)
        if (in->op[k].kind == OPK_MEM) return true;
    return false;
}

/* ---- the block ---- */

static uint32_t next_eip(bool code32, uint32_t eip, unsigned len)
{
    uint32_t n = eip + len;
    return code32 ? n : n & 0xffff;
}

static bool is_static_branch(const Insn *in)
{
    switch (in->mnem) {
    case M_Jcc: case M_LOOP: case M_LOOPE: case M_LOOPNE: case M_JCXZ:
        return true;
    case M_JMP: case M_CALL:
        return in->op[0].kind == OPK_REL;
    default:
        return false;
    }
}

static uint32_t rel_target(const Insn *in, uint32_t next)
{
    uint32_t t = next + in->imm;
    return in->opsize == 2 ? t & 0xffff : t;
}

static void gen_helper(Gen *g)
{
    const Insn *in = g->in;
    prep_fault(g);
    emit_mov_mi(&g->cb, 4, CPU_MEM(eip), (int32_t)g->next);
    emit_mov_rr(&g->cb, 8, HRDI, HRBX);
    emit_mov_ri64(&g->cb, HRSI, (uint64_t)(uintptr_t)in);
    emit_call_abs(&g->cb, (const void *)cpu_handler(in->mnem), HRAX);
    g->d->stats.helper_insns++;
}

size_t dbt_gen_block(Dbt *d, Block *b, const Insn *insns, uint8_t *out, uint8_t *exec,
                     size_t cap)
{
    Gen gen;
    Gen *g = &gen;
    memset(g, 0, sizeof(*g));
    g->d = d;
    g->b = b;
    g->cb = (CodeBuf){ .buf = out, .cap = cap, .exec_at = (uintptr_t)exec };
    g->code32 = b->mode & BM_CODE32;
    CodeBuf *cb = &g->cb;

    /* flags liveness, backwards: what each instruction's flags are needed for */
    uint32_t needed[DBT_MAX_BLOCK_INSNS];
    bool native[DBT_MAX_BLOCK_INSNS];
    {
        uint32_t eip = b->eip;
        for (unsigned i = 0; i < b->ninsn; i++) {
            g->next = next_eip(g->code32, eip, insns[i].len);
            native[i] = d->opt.native && native_ok(g, &insns[i]);
            eip = g->next;
        }
        /* An instruction that can fault or leave the block (a memory access or a
         * handler call) needs every flag in EFLAGS before it (a fault is delivered
         * with them) and after it (a side exit), so only runs of register-only
         * instructions drop flags that a later one overwrites. */
        uint32_t live = FL_ARITH;
        for (int i = b->ninsn - 1; i >= 0; i--) {
            const Insn *in = &insns[i];
            bool may_exit = !native[i] || (in->mnem != M_LEA && uses_memory(in));
            if (may_exit) live = FL_ARITH;
            uint32_t w = native[i] ? flags_written(in) : 0;
            uint32_t r = native[i] ? 0 : FL_ARITH;
            if (native[i] && (in->mnem == M_ADC || in->mnem == M_SBB)) r = FL_CF;
            if (native[i] && (in->mnem == M_Jcc || in->mnem == M_SETcc || in->mnem == M_CMOVcc))
                r = FL_ARITH;
            if (native[i] && shift_by_cl(in)) r = FL_ARITH;
            needed[i] = native[i] && shift_by_cl(in) ? FL_ARITH : live & w;
            live = (live & ~w) | r;
            if (may_exit) live = FL_ARITH;
        }
    }

    /* chained entry: enough budget left, nothing asking us to stop */
    b->entry = exec;
    emit_mov_rm(cb, 8, HRAX, CPU_MEM(run_end));
    emit_alu_rm(cb, ALU_SUB, 8, HRAX, CPU_MEM(icount));
    emit_alu_ri(cb, ALU_CMP, 8, HRAX, b->ninsn);
    size_t to_noexec1 = emit_jcc_label(cb, CC_B);
    emit_alu_mi(cb, ALU_CMP, 1, CPU_MEM(dbt_exit), 0);
    size_t to_noexec2 = emit_jcc_label(cb, CC_NE);
    size_t body_pos = cb->len;

    bool ended = false;
    uint32_t eip = b->eip;
    for (unsigned i = 0; i < b->ninsn; i++) {
        const Insn *in = &insns[i];
        g->in = in;
        g->eip = eip;
        g->next = next_eip(g->code32, eip, in->len);
        g->prepped = false;
        g->accessed = false;
        g->mseg = in->seg;
        g->flags_needed = needed[i];
        if (native[i]) {
            switch (in->mnem) {
            case M_NOP: case M_HINT_NOP: break;
            case M_MOV: gen_mov(g); break;
            case M_ADD: case M_OR: case M_ADC: case M_SBB: case M_AND: case M_SUB:
            case M_XOR: case M_CMP: case M_TEST: gen_alu(g); break;
            case M_INC: case M_DEC: case M_NOT: case M_NEG: gen_unary(g); break;
            case M_LEA: gen_lea(g); break;
            case M_MOVZX: case M_MOVSX: gen_movx(g); break;
            case M_SHL: case M_SAL: case M_SHR: case M_SAR: case M_ROL: case M_ROR:
                gen_shift(g);
                break;
            case M_PUSH: gen_push(g); break;
            case M_IMUL2: case M_IMUL3: gen_imul(g); break;
            case M_MUL: case M_IMUL1: gen_mul1(g); break;
            case M_SETcc: gen_setcc(g); break;
            case M_CMOVcc: gen_cmov(g); break;
            case M_POP: gen_pop(g); break;
            case M_CALL:
                emit_mov_ri(cb, 4, HRCX, (int32_t)g->next);
                gen_push_value(g, in->opsize);
                g->pending++;
                flush_icount(g);
                direct_exit(g, 0, rel_target(in, g->next));
                ended = true;
                break;
            case M_RET: {
                emit_mov_rm(cb, 4, HRDX, greg(R_ESP, 4));
                g->mseg = SEG_SS;
                gen_load(g, in->opsize);
                if (in->opsize == 2) emit_movzx_rr(cb, 4, 2, HRAX, HRAX);
                size_t to_gp = 0;
                bool check = b->cs_limit != 0xffffffffu;
                if (check) {
                    emit_alu_ri(cb, ALU_CMP, 4, HRAX, (int32_t)b->cs_limit);
                    to_gp = emit_jcc_label(cb, CC_A);
                }
                emit_lea(cb, 4, HRCX, mem_base(HR13, (int32_t)in->opsize));
                emit_mov_mr(cb, 4, greg(R_ESP, 4), HRCX);
                emit_mov_mr(cb, 4, CPU_MEM(eip), HRAX);
                unsigned before = g->pending;
                g->pending++;
                flush_icount(g);
                gen_indirect_exit(g);
                if (check) {
                    /* target beyond the CS limit: #GP(0) at the RET, ESP as it was */
                    emit_patch_rel32(cb, to_gp, cb->len);
                    emit_fault_state(cb, before, g->eip);
                    emit_mov_rr(cb, 8, HRDI, HRBX);
                    emit_call_abs(cb, (const void *)dbt_fault_gp0, HRAX);
                }
                ended = true;
                break;
            }
            case M_JMP:
                g->pending++;
                flush_icount(g);
                direct_exit(g, 0, rel_target(in, g->next));
                ended = true;
                break;
            case M_Jcc: {
                g->pending++;
                flush_icount(g);
                Cond hc = gen_cond(g, in->cond);
                size_t to_taken = emit_jcc_label(cb, hc);
                direct_exit(g, 1, g->next);
                emit_patch_rel32(cb, to_taken, cb->len);
                direct_exit(g, 0, rel_target(in, g->next));
                ended = true;
                break;
            }
            }
            if (ended) break;
            g->pending++;
            /* a memory access may have hit MMIO or a code page: leave if asked */
            if (g->accessed) exit_check(g, true, g->next);
        } else {
            gen_helper(g);
            g->pending = 1;
            if (is_static_branch(in)) {
                flush_icount(g);
                uint32_t t = rel_target(in, g->next);
                if (in->mnem == M_JMP || in->mnem == M_CALL) {
                    direct_exit(g, 0, t);
                } else {
                    emit_alu_mi(cb, ALU_CMP, 4, CPU_MEM(eip), (int32_t)t);
                    size_t to_fall = emit_jcc_label(cb, CC_NE);
                    direct_exit(g, 0, t);
                    emit_patch_rel32(cb, to_fall, cb->len);
                    direct_exit(g, 1, g->next);
                }
                ended = true;
                break;
            }
            if (dbt_insn_ends_block(in)) {
                /* indirect or system: EIP is wherever the handler left it */
                flush_icount(g);
                if (in->mnem == M_RET || in->mnem == M_JMP || in->mnem == M_CALL) {
                    gen_indirect_exit(g);
                } else {
                    emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
                    emit_jmp_abs(cb, d->exit_fn, HRCX);
                }
                ended = true;
                break;
            }
            exit_check(g, false, 0);
            if (in->flags & IF_STRING) {
                /* a REP chunk that is not finished sets EIP back to itself */
                emit_alu_mi(cb, ALU_CMP, 4, CPU_MEM(eip), (int32_t)g->next);
                side_exit_if(g, CC_NE, false, 0);
            }
        }
        eip = g->next;
    }
    if (!ended) {
        /* cut by length or the page end: continue at the next instruction */
        flush_icount(g);
        direct_exit(g, 0, eip);
    }

    /* out-of-line: the exit stub of each slot used (where an unchained slot leads) */
    for (int k = 0; k < 2; k++) {
        b->stub[k] = NULL;
        if (!g->slot_used[k]) continue;
        b->stub[k] = exec + cb->len;
        emit_mov_mi(cb, 4, CPU_MEM(eip), (int32_t)b->out_eip[k]);
        void **slot = &d->slots[(size_t)(b - d->blocks) * 2 + k];
        uintptr_t at = (uintptr_t)cb->exec_at + cb->len + 7; /* lea rax,[rip+disp32] */
        emit_lea(cb, 8, HRAX, mem_rip((int32_t)((intptr_t)slot - (intptr_t)at)));
        emit_jmp_abs(cb, d->exit_fn, HRCX);
    }
    /* slow paths of inline memory accesses */
    for (unsigned s = 0; s < g->nslow; s++) {
        SlowPath *sp = &g->slow[s];
        for (unsigned k = 0; k < sp->npatch; k++) emit_patch_rel32(cb, sp->patch[k], cb->len);
        emit_fault_state(cb, sp->pending, sp->eip);
        emit_mov_rr(cb, 4, HRDX, HR13);
        if (sp->store) emit_mov_rr(cb, 4, HRCX, HR14);
        emit_mov_ri(cb, 4, HRSI, sp->seg);
        emit_mov_rr(cb, 8, HRDI, HRBX);
        emit_call_abs(cb, slow_fn(sp->size, sp->store), HRAX);
        if (sp->pending) {
            /* keep icount as the inline path has it; EAX (a loaded value) survives */
            emit_alu_mi(cb, ALU_SUB, 8, CPU_MEM(icount), (int32_t)sp->pending);
        }
        emit_jmp_to(cb, sp->join);
    }
    /* side exits */
    for (unsigned s = 0; s < g->nside; s++) {
        emit_patch_rel32(cb, g->side[s].patch, cb->len);
        if (g->side[s].pending)
            emit_alu_mi(cb, ALU_ADD, 8, CPU_MEM(icount), (int32_t)g->side[s].pending);
        if (g->side[s].set_eip) emit_mov_mi(cb, 4, CPU_MEM(eip), (int32_t)g->side[s].eip);
        emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
        emit_jmp_abs(cb, d->exit_fn, HRCX);
    }
    /* not entered: budget too small or an exit request pending */
    emit_patch_rel32(cb, to_noexec1, cb->len);
    emit_patch_rel32(cb, to_noexec2, cb->len);
    emit_mov_mi(cb, 4, CPU_MEM(eip), (int32_t)b->eip);
    emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
    emit_jmp_abs(cb, d->exit_fn, HRCX);

    if (cb->overflow) return 0;
    b->body = exec + body_pos;
    for (int k = 0; k < 2; k++)
        d->slots[(size_t)(b - d->blocks) * 2 + k] = b->stub[k];
    return cb->len;
}

size_t dbt_gen_trampolines(Dbt *d, uint8_t *out, uint8_t *exec, size_t cap)
{
    CodeBuf cb = { .buf = out, .cap = cap, .exec_at = (uintptr_t)exec };
    /* enter(Cpu *c = RDI, code = RSI) */
    d->enter_fn = exec;
    emit_push_r(&cb, HRBX);
    emit_push_r(&cb, HRBP);
    emit_push_r(&cb, HR12);
    emit_push_r(&cb, HR13);
    emit_push_r(&cb, HR14);
    emit_push_r(&cb, HR15);
    emit_alu_ri(&cb, ALU_SUB, 8, HRSP, 8); /* 16-byte alignment for calls */
    emit_mov_rr(&cb, 8, HRBX, HRDI);
    emit_jmp_r(&cb, HRSI);
    emit_align(&cb, 16);
    d->exit_fn = exec + cb.len;
    emit_alu_ri(&cb, ALU_ADD, 8, HRSP, 8);
    emit_pop_r(&cb, HR15);
    emit_pop_r(&cb, HR14);
    emit_pop_r(&cb, HR13);
    emit_pop_r(&cb, HR12);
    emit_pop_r(&cb, HRBP);
    emit_pop_r(&cb, HRBX);
    emit_ret(&cb);
    emit_align(&cb, 16);
    return cb.overflow ? 0 : cb.len;
}
