/*
 * gen.c — turns a block of decoded guest instructions into host x86-64 code.
 *
 * Host registers inside translated code:
 *   RBX       the Cpu pointer for the whole block (callee-saved, C helpers keep it);
 *   R8-R11, R13, RBP, R14, R15   guest EAX ECX EDX EBX ESP EBP ESI EDI (HREG[]);
 *   R12       guest arithmetic flags not yet merged into c->eflags (see below);
 *   RSI       the value of a store;
 *   RAX, RCX, RDX, RDI  scratch (an access takes its offset in EDX and clobbers RAX,
 *             RCX, RDX; its slow path recomputes the offset from the guest registers,
 *             which no instruction changes before its last access).
 * The guest registers stay in their host registers from block to block: the enter
 * trampoline loads them, chained jumps and dbt_indirect keep them, and they are
 * written back to the Cpu structure only where C code looks: before a handler call
 * (and reloaded after it), in the out-of-line slow path of a memory access (a fault
 * restores the state from the Cpu structure), and on the way out to the dispatcher
 * (exit_spill_fn). A block tracks which ones it changed since it last wrote them back
 * (all of them at its start). AH..BH are not reachable in R8-R11: an instruction that
 * names one works on the Cpu structure after a write-back (Gen.memregs).
 *
 * Flags: x86 on x86-64 gives the guest's result and flags from the same host
 * instruction. The host flags are captured into R12 (pushfq) only when a later
 * instruction, a possible fault or an exit can see them (a backward liveness pass),
 * and merged into c->eflags where the Cpu structure must be exact; Jcc/SETcc/CMOVcc and
 * ADC/SBB read them from R12. Undefined flags are computed by the interpreter's rules.
 *
 * Memory operands take an inline path (segment limit, TLB tag, host page) for RAM and
 * call the interpreter's segmented accessors (translate/access.c) out of line for
 * everything else, so limits, paging, faults and MMIO are the interpreter's own. Every
 * instruction without a native translation calls its interpreter handler.
 *
 * Precise state: before anything that can fault, the retired-instruction count is
 * added to icount and the instruction's EIP and ESP are stored where cpu_fault()
 * restores them from; a fault longjmps out of the translated code to the dispatcher.
 * After a helper, translated code leaves at the instruction boundary when dbt_exit is
 * set (an interrupt, a stop request, or a write into a page with translations).
 */
#include <stddef.h>
#include <string.h>

#include "cpu/mmu.h"
#include "translate/dbt_internal.h"

#define OFF(f) ((int32_t)offsetof(Cpu, f))
#define CPU_MEM(f) mem_base(HRBX, OFF(f))

/* guest register r lives in HREG[r] inside a block */
static const int8_t HREG[8] = { HR8, HR9, HR10, HR11, HR13, HRBP, HR14, HR15 };
#define CALL_CLOBBERED 0x0fu /* guest registers in R8-R11, which C calls clobber */
#define HFLAGS HR12
#define HEA HRDX
#define HVAL HRSI

_Static_assert(sizeof(HostTlbEntry) == 32, "the inline path indexes Cpu.htlb by lin >> 7");

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

/* What the C side must be shown on an out-of-line path: the registers to write back
 * and the flags to merge at that point of the block. */
/* SHL/SHR by a constant whose flags R12 holds as the host left them: OF and AF are
 * still to be computed (by the interpreter's rules) from the result, which stays in
 * host register `reg` until then (see gen_shift). */
typedef struct Defer {
    int8_t reg;        /* host register with the result, or -1: nothing deferred */
    int8_t greg;       /* its guest register */
    uint8_t op;        /* SH_SHL, SH_SHR, SH_ROL or SH_ROR (rotates: OF only) */
    uint8_t size;
} Defer;

typedef struct Snap {
    Defer df;
    uint8_t dirty;     /* guest registers newer in their host register */
    bool dyn;          /* c->dbt_flpend may name more bits newer in R12 */
    uint32_t pend;     /* flag bits newer in R12 than in c->eflags */
} Snap;

/* A load whose value goes straight into a guest register: the inline path ends with
 * `mov reg, [host]` or `op reg, [host]` instead of a load into EAX, and the slow path
 * (or an accessor call) applies the same operation to EAX. */
typedef struct Fin {
    uint8_t kind;      /* FIN_NONE, FIN_MOV, FIN_ALU, FIN_TEST */
    uint8_t op;        /* AluOp (FIN_ALU) */
    uint8_t size;
    bool carry;        /* ADC/SBB: guest CF into the host's first */
    int8_t reg;        /* host register */
} Fin;
enum { FIN_NONE, FIN_MOV, FIN_ALU, FIN_TEST };

typedef struct SideExit {
    size_t patch;      /* rel32 field of the jump to this exit */
    unsigned pending;  /* instructions to add to icount on the way out */
    bool set_eip;
    uint32_t eip;
    Snap st;
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
    Snap st;
    uint32_t rfl;      /* flag bits R12 held (for a Fin's carry) */
    /* how the slow path recomputes the offset: from the instruction's ModRM operand,
     * or ESP + esp_disp (stack accesses) */
    const Insn *ea_insn;
    int32_t esp_disp;
    /* when the access is its instruction's only one: the rest of the instruction
     * (body bytes [tail_from, tail_to)) is copied after the call, followed by the
     * dbt_exit check that leaves through side exit tail_exit; else -1 */
    int tail_exit;
    size_t tail_from, tail_to;
    Fin fin;
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
    bool accessed;     /* the current instruction accessed memory */
    bool access_called; /* ... through an accessor call in line (gen_access_call) */
    bool slot_used[2]; /* exit slots the block jumps through */
    int mseg;          /* segment of the current memory access (in->seg, or SS) */
    const Insn *in;
    Fin fin;             /* the next load's destination (FIN_NONE: EAX) */
    Insn ea_ebp;         /* an offset recipe "EBP" for LEAVE's slow path */
    const Insn *ea_insn; /* the next access's offset: this ModRM operand, or */
    int32_t esp_disp;    /* ESP + esp_disp when ea_insn is NULL */
    unsigned nside_at_access; /* side exits made before the last slow path's join */
    uint32_t eip, next; /* current instruction and the one after it */
    uint32_t flags_needed; /* arithmetic flags of this instruction read later */
    bool code32;
    /* register and flag caching */
    uint8_t dirty;     /* (every guest register is in its host register, always) */
    uint32_t rfl;      /* flag bits R12 holds with the guest's current value */
    uint32_t pend;     /* of those, the ones c->eflags does not have yet (⊆ rfl) */
    bool dyn;          /* the bits the previous block handed over in R12 (named by
                          c->dbt_flpend) may still be pending */
    bool memregs;      /* this instruction names AH..BH: registers through the Cpu */
    Defer df;          /* OF/AF of a shift not yet computed into R12 */
} Gen;

static Snap snap(const Gen *g)
{
    return (Snap){ g->df, g->dirty, g->dyn, g->pend };
}

/* The Cpu field of general register `reg` at `size` (AH..BH for size 1, reg 4-7). */
static Mem gmem(int reg, unsigned size)
{
    if (size == 1 && reg >= 4) return mem_base(HRBX, OFF(regs) + (reg - 4) * 4 + 1);
    return mem_base(HRBX, OFF(regs) + reg * 4);
}

static void spill_regs(CodeBuf *cb, unsigned mask)
{
    for (int r = 0; r < 8; r++)
        if (mask & (1u << r)) emit_mov_mr(cb, 4, gmem(r, 4), HREG[r]);
}

static void load_regs(CodeBuf *cb, unsigned mask)
{
    for (int r = 0; r < 8; r++)
        if (mask & (1u << r)) emit_mov_rm(cb, 4, HREG[r], gmem(r, 4));
}

/* The `pend` bits of R12 into c->eflags. Clobbers EAX, ECX and the host flags. */
static void merge_pend(CodeBuf *cb, uint32_t pend)
{
    if (!pend) return;
    emit_mov_rr(cb, 4, HRAX, HFLAGS);
    emit_alu_ri(cb, ALU_AND, 4, HRAX, (int32_t)pend);
    emit_mov_rm(cb, 4, HRCX, CPU_MEM(eflags));
    emit_alu_ri(cb, ALU_AND, 4, HRCX, (int32_t)~pend);
    emit_alu_rr(cb, ALU_OR, 4, HRCX, HRAX);
    emit_mov_mr(cb, 4, CPU_MEM(eflags), HRCX);
}

/* The bits named by c->dbt_flpend and `pend` of R12 into c->eflags, and dbt_flpend
 * cleared. Clobbers `t1`, `t2` and the host flags (RAX is kept when t1/t2 avoid it). */
static void merge_dyn(CodeBuf *cb, uint32_t pend, int t1, int t2)
{
    emit_mov_rm(cb, 4, t1, CPU_MEM(dbt_flpend));
    if (pend) emit_alu_ri(cb, ALU_OR, 4, t1, (int32_t)pend);
    emit_mov_rr(cb, 4, t2, t1);
    emit_unary_r(cb, UN_NOT, 4, t2);
    emit_alu_rm(cb, ALU_AND, 4, t2, CPU_MEM(eflags));
    emit_alu_rr(cb, ALU_AND, 4, t1, HFLAGS);
    emit_alu_rr(cb, ALU_OR, 4, t2, t1);
    emit_mov_mr(cb, 4, CPU_MEM(eflags), t2);
    emit_mov_mi(cb, 4, CPU_MEM(dbt_flpend), 0);
}

/* A deferred shift's OF and AF into R12 (AF 0, not for rotates; OF: left CF ^ MSB of
 * the result, right the top two bits of the result, as alu.c). Clobbers EAX, ECX and
 * the host flags. */
static void emit_undefer(CodeBuf *cb, Defer df)
{
    if (df.reg < 0) return;
    unsigned bits = df.size * 8u;
    bool rotate = df.op == SH_ROL || df.op == SH_ROR;
    emit_mov_rr(cb, 4, HRAX, df.reg);
    if (df.op == SH_SHL || df.op == SH_ROL) {
        emit_shift_ri(cb, SH_SHR, 4, HRAX, (uint8_t)(bits - 1));
        emit_alu_rr(cb, ALU_XOR, 4, HRAX, HFLAGS); /* CF is bit 0 */
    } else {
        emit_mov_rr(cb, 4, HRCX, HRAX);
        emit_shift_ri(cb, SH_SHR, 4, HRAX, (uint8_t)(bits - 1));
        emit_shift_ri(cb, SH_SHR, 4, HRCX, (uint8_t)(bits - 2));
        emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRCX);
    }
    emit_alu_ri(cb, ALU_AND, 4, HRAX, 1);
    emit_shift_ri(cb, SH_SHL, 4, HRAX, 11);
    emit_alu_ri(cb, ALU_AND, 4, HFLAGS, (int32_t)~(rotate ? FL_OF : FL_OF | FL_AF));
    emit_alu_rr(cb, ALU_OR, 4, HFLAGS, HRAX);
}

static void flags_undefer(Gen *g)
{
    if (g->df.reg < 0) return;
    emit_undefer(&g->cb, g->df);
    g->rfl |= (g->df.op == SH_ROL || g->df.op == SH_ROR) ? FL_OF : FL_OF | FL_AF;
    g->df.reg = -1;
}

/* c->eflags made exact for the state `st`. Clobbers EAX, ECX. */
static void merge_snap(CodeBuf *cb, uint32_t pend, bool dyn)
{
    if (dyn) merge_dyn(cb, pend, HRAX, HRCX);
    else merge_pend(cb, pend);
}

/* Make c->eflags exact (R12 keeps its copy). */
static void flags_sync(Gen *g)
{
    flags_undefer(g);
    merge_snap(&g->cb, g->pend, g->dyn);
    g->pend = 0;
    g->dyn = false;
}

/* At a jump to the next block: instead of merging, tell it which bits of R12 are
 * newer than c->eflags (it merges them where it must, or overwrites them). */
static void flags_handoff(Gen *g)
{
    flags_undefer(g);
    if (g->dyn) {
        if (g->pend) emit_alu_mi(&g->cb, ALU_OR, 4, CPU_MEM(dbt_flpend), (int32_t)g->pend);
    } else if (g->pend) {
        emit_mov_mi(&g->cb, 4, CPU_MEM(dbt_flpend), (int32_t)g->pend);
    }
}

/* Make the Cpu structure exact: dirty registers written back, flags merged. */
static void sync_state(Gen *g)
{
    spill_regs(&g->cb, g->dirty);
    g->dirty = 0;
    flags_sync(g);
}

/* A guest register operand: a host register, or the Cpu field (memregs). */
typedef struct Loc {
    int reg;           /* host register, or -1 */
    Mem m;             /* when reg < 0 */
} Loc;

static Loc loc_mem(Mem m)
{
    return (Loc){ -1, m };
}

/* For reading. */
static Loc gsrc(Gen *g, int reg, unsigned size)
{
    if (g->memregs) return loc_mem(gmem(reg, size));
    return (Loc){ HREG[reg], { 0 } };
}

/* For writing, once nothing of the instruction can fault any more. Marks it dirty. */
static Loc gdst(Gen *g, int reg, unsigned size)
{
    if (g->memregs) return loc_mem(gmem(reg, size));
    g->dirty |= 1u << reg;
    return (Loc){ HREG[reg], { 0 } };
}

static void loc_to_reg(CodeBuf *cb, unsigned sz, int dst, Loc s)
{
    if (s.reg >= 0) emit_mov_rr(cb, (int)sz, dst, s.reg);
    else emit_mov_rm(cb, sz, dst, s.m);
}

static void reg_to_loc(CodeBuf *cb, unsigned sz, Loc d, int src)
{
    if (d.reg >= 0) emit_mov_rr(cb, sz, d.reg, src);
    else emit_mov_mr(cb, sz, d.m, src);
}

static void alu_loc_r(CodeBuf *cb, AluOp op, unsigned sz, Loc d, int src)
{
    if (d.reg >= 0) emit_alu_rr(cb, op, sz, d.reg, src);
    else emit_alu_mr(cb, op, sz, d.m, src);
}

static void alu_loc_i(CodeBuf *cb, AluOp op, unsigned sz, Loc d, int32_t imm)
{
    if (d.reg >= 0) emit_alu_ri(cb, op, sz, d.reg, imm);
    else emit_alu_mi(cb, op, sz, d.m, imm);
}

static void test_loc_r(CodeBuf *cb, unsigned sz, Loc d, int src)
{
    if (d.reg >= 0) emit_test_rr(cb, sz, d.reg, src);
    else emit_test_mr(cb, sz, d.m, src);
}

static void test_loc_i(CodeBuf *cb, unsigned sz, Loc d, int32_t imm)
{
    if (d.reg >= 0) emit_test_ri(cb, sz, d.reg, imm);
    else emit_test_mi(cb, sz, d.m, imm);
}

/* ---- flags ---- */

/* R12 is overwritten with all arithmetic flags: what the previous block handed over
 * is gone (and dbt_flpend must not name it any more). */
static void flags_drop_dyn(Gen *g)
{
    if (!g->dyn) return;
    emit_mov_mi(&g->cb, 4, CPU_MEM(dbt_flpend), 0);
    g->dyn = false;
}

/* An instruction writes the flags `mask`: false when nobody sees them before they are
 * written again (they are dropped). A deferred shift's OF/AF go when both are
 * rewritten (an instruction that keeps part of them undeferred first). */
static bool flags_written_kept(Gen *g, uint32_t mask)
{
    if ((mask & (FL_OF | FL_AF)) == (FL_OF | FL_AF)) g->df.reg = -1;
    if (g->flags_needed & mask) return true;
    g->pend &= ~mask;
    g->rfl &= ~mask;
    return false;
}

/* Must new flags `mask` be combined with what R12 holds (older pending bits, or what
 * the previous block handed over) instead of replacing it? */
static bool flags_combine(const Gen *g, uint32_t mask)
{
    return (g->pend & ~mask) || (g->dyn && mask != FL_ARITH);
}

/* After a host instruction whose flags are the guest's `mask` bits. */
static void flags_capture(Gen *g, uint32_t mask)
{
    if (!mask || !flags_written_kept(g, mask)) return;
    CodeBuf *cb = &g->cb;
    if (flags_combine(g, mask)) {
        /* older pending bits stay: combine */
        emit_pushf(cb);
        emit_pop_r(cb, HRAX);
        emit_alu_ri(cb, ALU_AND, 4, HRAX, (int32_t)mask);
        emit_alu_ri(cb, ALU_AND, 4, HFLAGS, (int32_t)~mask);
        emit_alu_rr(cb, ALU_OR, 4, HFLAGS, HRAX);
        g->rfl |= mask;
    } else {
        emit_pushf(cb);
        emit_pop_r(cb, HFLAGS);
        g->rfl = mask;
        flags_drop_dyn(g);
    }
    g->pend |= mask;
}

/* Flags computed in `reg` (only `mask` bits set) become the guest's. */
static void flags_set(Gen *g, int reg, uint32_t mask)
{
    if (!flags_written_kept(g, mask)) return;
    CodeBuf *cb = &g->cb;
    if (flags_combine(g, mask)) {
        emit_alu_ri(cb, ALU_AND, 4, HFLAGS, (int32_t)~mask);
        emit_alu_rr(cb, ALU_OR, 4, HFLAGS, reg);
        g->rfl |= mask;
    } else {
        emit_mov_rr(cb, 4, HFLAGS, reg);
        g->rfl = mask;
        flags_drop_dyn(g);
    }
    g->pend |= mask;
}

/* Read-modify-write of memory: the new flags exist before the store, which may fault
 * and must then show the old ones. flags_rmw_begin() makes c->eflags exact when the
 * flags will be kept; flags_rmw_hold() puts the host flags (or `reg`'s composed flags,
 * reg >= 0) in R12 without declaring them; flags_rmw_end() declares them after the
 * store. */
static bool flags_rmw_begin(Gen *g, uint32_t mask)
{
    if (!(g->flags_needed & mask)) return false;
    flags_sync(g);
    return true;
}

static void flags_rmw_hold(Gen *g, bool keep, int reg)
{
    if (!keep) return;
    if (reg >= 0) {
        emit_mov_rr(&g->cb, 4, HFLAGS, reg);
    } else {
        emit_pushf(&g->cb);
        emit_pop_r(&g->cb, HFLAGS);
    }
    g->rfl = 0; /* R12 was overwritten; nothing pending (flags_rmw_begin) */
}

static void flags_rmw_end(Gen *g, bool keep, uint32_t mask)
{
    if (!mask) return;
    if ((mask & (FL_OF | FL_AF)) == (FL_OF | FL_AF)) g->df.reg = -1;
    if (!keep) {
        g->pend &= ~mask;
        g->rfl &= ~mask;
        return;
    }
    g->rfl = mask;
    g->pend = mask;
}

/* Before an ADC/SBB (ahead of any load, the sync clobbers EAX): CF readable by
 * load_cf without a merge. */
static void carry_prepare(Gen *g)
{
    if (!(g->rfl & FL_CF) && g->dyn) flags_sync(g);
}

/* Guest CF → host CF (for ADC/SBB). */
static void load_cf(Gen *g)
{
    if (g->rfl & FL_CF) emit_bt_ri(&g->cb, BT_BT, 4, HFLAGS, 0);
    else emit_bt_mi(&g->cb, BT_BT, 4, CPU_MEM(eflags), 0); /* CF not pending: exact */
}

/* The operation of a Fin, with the loaded value in EAX (from_eax) or at [RDX]. */
static void emit_fin(CodeBuf *cb, const Fin *f, bool from_eax, uint32_t rfl)
{
    Mem host = mem_base(HRDX, 0);
    if (f->carry) {
        if (rfl & FL_CF) emit_bt_ri(cb, BT_BT, 4, HFLAGS, 0);
        else emit_bt_mi(cb, BT_BT, 4, CPU_MEM(eflags), 0);
    }
    switch (f->kind) {
    case FIN_MOV:
        if (from_eax) emit_mov_rr(cb, f->size, f->reg, HRAX);
        else emit_mov_rm(cb, f->size, f->reg, host);
        break;
    case FIN_ALU:
        if (from_eax) emit_alu_rr(cb, (AluOp)f->op, f->size, f->reg, HRAX);
        else emit_alu_rm(cb, (AluOp)f->op, f->size, f->reg, host);
        break;
    case FIN_TEST:
        if (from_eax) emit_test_rr(cb, f->size, f->reg, HRAX);
        else emit_test_mr(cb, f->size, host, f->reg);
        break;
    }
}

/* ---- fault state, calls, exits ---- */

static void flush_icount(Gen *g)
{
    if (g->pending) {
        emit_alu_mi(&g->cb, ALU_ADD, 8, CPU_MEM(icount), (int32_t)g->pending);
        g->pending = 0;
    }
}

/* Add `pending` retired instructions to icount and store what cpu_fault() restores:
 * the instruction's start EIP and its ESP (unchanged so far, and written back).
 * Clobbers EAX. */
static void emit_fault_state(CodeBuf *cb, unsigned pending, uint32_t eip)
{
    if (pending) emit_alu_mi(cb, ALU_ADD, 8, CPU_MEM(icount), (int32_t)pending);
    emit_mov_mi(cb, 4, CPU_MEM(insn_eip), (int32_t)eip);
    emit_mov_rm(cb, 4, HRAX, mem_base(HRBX, OFF(regs) + R_ESP * 4));
    emit_mov_mr(cb, 4, CPU_MEM(insn_esp), HRAX);
}

/* The fault state in line, once per instruction before its first call that can fault
 * (icount is then up to date for the rest of the block). The state must be synced. */
static void prep_fault(Gen *g)
{
    if (g->prepped) return;
    emit_fault_state(&g->cb, g->pending, g->eip);
    g->pending = 0;
    g->prepped = true;
}

/* jcc to a side exit that leaves with `pending` retired instructions added. */
static void side_exit_if(Gen *g, Cond cc, bool set_eip, uint32_t eip)
{
    SideExit *s = &g->side[g->nside++];
    s->patch = emit_jcc_label(&g->cb, cc);
    s->pending = g->pending;
    s->set_eip = set_eip;
    s->eip = eip;
    s->st = snap(g);
}

/* After a helper or an access: leave at this boundary if something asked for it. */
static void exit_check(Gen *g, bool set_eip, uint32_t eip)
{
    emit_alu_mi(&g->cb, ALU_CMP, 1, CPU_MEM(dbt_exit), 0);
    side_exit_if(g, CC_NE, set_eip, eip);
}

/* ---- guest operands ---- */

/* `dst` = the effective address of in's memory operand (truncated to the address
 * size), from the guest registers in their host registers. */
static void emit_ea(CodeBuf *cb, const Insn *in, int dst)
{
    int base = in->ea_base >= 0 ? HREG[in->ea_base] : HR_NONE;
    int index = in->ea_index >= 0 ? HREG[in->ea_index] : HR_NONE;
    if (base == HR_NONE && index == HR_NONE)
        emit_mov_ri(cb, 4, dst, in->disp);
    else if (index == HR_NONE && in->disp == 0)
        emit_mov_rr(cb, 4, dst, base);
    else
        emit_lea(cb, 4, dst, mem_bisd(base, index, 1 << in->ea_scale, in->disp));
    if (in->addrsize == 2) emit_movzx_rr(cb, 4, 2, dst, dst);
}

/* EDX = the effective address of the memory operand, for the next access (which may
 * recompute it: see SlowPath). */
static void gen_ea(Gen *g)
{
    const Insn *in = g->in;
    emit_ea(&g->cb, in, HEA);
    g->ea_insn = in;
}

/* EDX = ESP + disp, for a stack access. */
static void gen_ea_esp(Gen *g, int32_t disp)
{
    Loc sp = gsrc(g, R_ESP, 4);
    if (disp) emit_lea(&g->cb, 4, HEA, mem_base(sp.reg, disp));
    else emit_mov_rr(&g->cb, 4, HEA, sp.reg);
    g->ea_insn = NULL;
    g->esp_disp = disp;
}

/* The segment fast-path bits of the block's mode (BM_SEG_R/W): may an access through
 * segment `seg` skip the type checks (only limit and paging stay)? */
static bool seg_fast(const Gen *g, int seg, bool store)
{
    if (g->b->mode & BM_AC) return false; /* the accessors raise #AC */
    return g->b->mode & (store ? BM_SEG_W(seg) : BM_SEG_R(seg));
}

/* Inline access of `size` bytes at offset EDI in g->mseg, RAM through the host TLB
 * (or the page map without paging); anything else jumps to an out-of-line call of the C accessor. A load leaves
 * the value in EAX; a store takes it in ESI. EDI is kept; RAX, RCX, RDX clobbered. */
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
    sp->st = snap(g);
    sp->ea_insn = g->ea_insn;
    sp->esp_disp = g->esp_disp;
    sp->rfl = g->rfl;
    sp->tail_exit = -1;
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
    /* the host TLB entry (Cpu.htlb, filled with or without paging): its tag for this
     * kind of access is compared with the page of the LAST byte, so an access that
     * crosses into the next page or wraps past 4 GiB (a #GP in a flat segment) misses
     * and takes the slow path; a hit adds the entry's addend to the linear address */
    unsigned kind = (store ? 2 : 0) + (((g->b->mode >> BM_CPL_SHIFT) & 3) == 3);
    emit_mov_rr(cb, 4, HRAX, HRDX);
    emit_shift_ri(cb, SH_SHR, 4, HRAX, 12 - 5); /* 32-byte entries */
    emit_alu_ri(cb, ALU_AND, 4, HRAX, (TLB_SIZE - 1) << 5);
    if (size > 1) emit_lea(cb, 4, HRCX, mem_base(HRDX, (int32_t)size - 1));
    else emit_mov_rr(cb, 4, HRCX, HRDX);
    emit_alu_ri(cb, ALU_OR, 4, HRCX, HTLB_PAGE_BITS);
    emit_alu_rm(cb, ALU_CMP, 4, HRCX,
                mem_bisd(HRBX, HRAX, 1, OFF(htlb) + (int32_t)(kind * sizeof(uint32_t))));
    sp->patch[sp->npatch++] = emit_jcc_label(cb, CC_NE);
    emit_alu_rm(cb, ALU_ADD, 8, HRDX,
                mem_bisd(HRBX, HRAX, 1, OFF(htlb) + (int32_t)offsetof(HostTlbEntry, addend) +
                                            (store ? 8 : 0)));
    Mem host = mem_base(HRDX, 0);
    sp->fin = g->fin;
    if (store) emit_mov_mr(cb, size, host, HVAL);
    else if (g->fin.kind != FIN_NONE) emit_fin(cb, &g->fin, false, g->rfl);
    else if (size == 4) emit_mov_rm(cb, 4, HRAX, host);
    else emit_movzx_rm(cb, 4, size, HRAX, host);
    sp->join = cb->len;
    g->nside_at_access = g->nside;
}

static const void *slow_fn(unsigned size, bool store)
{
    if (store)
        return size == 1 ? (const void *)dbt_wr8 : size == 2 ? (const void *)dbt_wr16
                                                             : (const void *)dbt_wr32;
    return size == 1 ? (const void *)dbt_rd8 : size == 2 ? (const void *)dbt_rd16
                                                         : (const void *)dbt_rd32;
}

/* The accessor call itself (state synced): offset EDX, value ESI for a store; a
 * load's value arrives in EAX. R8-R11, which the call clobbers, are reloaded. */
static void emit_access_call(CodeBuf *cb, unsigned size, bool store, int seg)
{
    if (store) emit_mov_rr(cb, 4, HRCX, HVAL);
    emit_mov_ri(cb, 4, HRSI, seg);
    emit_mov_rr(cb, 8, HRDI, HRBX);
    emit_call_abs(cb, slow_fn(size, store), HRAX);
    load_regs(cb, CALL_CLOBBERED);
}

/* An access through the accessor in line (the lockstep checker, segments that need
 * type checks): everything synced first. */
static void gen_access_call(Gen *g, unsigned size, bool store)
{
    g->access_called = true;
    sync_state(g);
    prep_fault(g);
    emit_access_call(&g->cb, size, store, g->mseg);
}

/* EAX = memory operand of `size` at offset EDX (set by gen_ea or gen_ea_esp). */
static void gen_load(Gen *g, unsigned size)
{
    g->accessed = true;
    if (g->d->opt.check || !seg_fast(g, g->mseg, false)) {
        gen_access_call(g, size, false);
        if (g->fin.kind != FIN_NONE) emit_fin(&g->cb, &g->fin, true, g->rfl);
    } else {
        gen_access_inline(g, size, false);
    }
    g->fin.kind = FIN_NONE;
}

/* A load straight into host register `reg` (see Fin). */
static void gen_load_fin(Gen *g, unsigned size, int kind, AluOp op, bool carry, int reg)
{
    g->fin = (Fin){ (uint8_t)kind, (uint8_t)op, (uint8_t)size, carry, (int8_t)reg };
    gen_load(g, size);
}

/* Store ESI at offset EDX (set by gen_ea or gen_ea_esp). */
static void gen_store(Gen *g, unsigned size)
{
    g->accessed = true;
    if (g->d->opt.check || !seg_fast(g, g->mseg, true)) gen_access_call(g, size, true);
    else gen_access_inline(g, size, true);
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
    case M_PAUSE: /* a spin-wait hint: nothing to do in a virtual CPU */
        return true;
    case M_CLD: case M_STD:
        return true;
    case M_SSE: /* 0F AE with a register operand: LFENCE/MFENCE/SFENCE, no-ops here */
        return in->map == 1 && in->opcode == 0xae && in->has_modrm && (in->modrm & 0xc0) == 0xc0;
    case M_RDTSC: /* CPL 0 outside V86: CR4.TSD cannot make it fault */
        return ((g->b->mode >> BM_CPL_SHIFT) & 3) == 0 && !(g->b->mode & BM_VM);
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
    case M_LEAVE:
        return (g->b->mode & BM_STACK32) && in->opsize == 4;
    case M_CALL: {
        if (o0->kind == OPK_REG || o0->kind == OPK_MEM) /* near indirect, flat CS */
            return (g->b->mode & BM_STACK32) && in->opsize == 4 && o0->size == 4 &&
                   g->b->cs_limit == 0xffffffffu;
        if (!(g->b->mode & BM_STACK32) || o0->kind != OPK_REL) return false;
        uint32_t t = g->next + in->imm;
        if (in->opsize == 2) t &= 0xffff;
        return t <= g->b->cs_limit;
    }
    case M_RET:
        return (g->b->mode & BM_STACK32) && in->nops == 0;
    case M_Jcc:
    case M_JMP: {
        if (in->mnem == M_JMP && (o0->kind == OPK_REG || o0->kind == OPK_MEM))
            return in->opsize == 4 && o0->size == 4 && g->b->cs_limit == 0xffffffffu;
        if (o0->kind != OPK_REL) return false;
        uint32_t t = g->next + in->imm;
        if (in->opsize == 2) t &= 0xffff;
        return t <= g->b->cs_limit;
    }
    default:
        return false;
    }
}

/* Load a source operand (reg/imm) of `size` into `dst`. */
static void gen_src_to(Gen *g, int dst, const Operand *o, unsigned size)
{
    if (o->kind == OPK_REG)
        loc_to_reg(&g->cb, size, dst, gsrc(g, o->reg, size));
    else
        emit_mov_ri(&g->cb, 4, dst, (int32_t)g->in->imm);
}

static void gen_alu(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    CodeBuf *cb = &g->cb;
    unsigned sz = d->size;
    bool test = in->mnem == M_TEST;
    AluOp op = alu_of(in->mnem);
    bool cmp = test || op == ALU_CMP;
    bool carry_in = op == ALU_ADC || op == ALU_SBB;
    if (carry_in) carry_prepare(g);
    if (d->kind == OPK_REG) {
        if (s->kind == OPK_MEM) {
            gen_ea(g);
            if (!g->memregs) {
                /* straight into the register; it is dirty only once written (an
                 * accessor call in between writes the dirty ones back) */
                Loc dl = gsrc(g, d->reg, sz);
                gen_load_fin(g, sz, test ? FIN_TEST : FIN_ALU, op, carry_in, dl.reg);
                if (!cmp) g->dirty |= 1u << d->reg;
                flags_capture(g, FL_ARITH);
                return;
            }
            gen_load(g, sz);
            Loc dl = cmp ? gsrc(g, d->reg, sz) : gdst(g, d->reg, sz);
            if (carry_in) load_cf(g);
            if (test) test_loc_r(cb, sz, dl, HRAX);
            else alu_loc_r(cb, op, sz, dl, HRAX);
        } else if (s->kind == OPK_IMM) {
            Loc dl = cmp ? gsrc(g, d->reg, sz) : gdst(g, d->reg, sz);
            if (carry_in) load_cf(g);
            if (test) test_loc_i(cb, sz, dl, (int32_t)in->imm);
            else alu_loc_i(cb, op, sz, dl, (int32_t)in->imm);
        } else {
            Loc sl = gsrc(g, s->reg, sz);
            int src = sl.reg;
            if (src < 0) {
                loc_to_reg(cb, sz, HRCX, sl);
                src = HRCX;
            }
            Loc dl = cmp ? gsrc(g, d->reg, sz) : gdst(g, d->reg, sz);
            if (carry_in) load_cf(g);
            if (test) test_loc_r(cb, sz, dl, src);
            else alu_loc_r(cb, op, sz, dl, src);
        }
        flags_capture(g, FL_ARITH);
        return;
    }
    /* memory destination: read, operate in EAX, write (unless CMP/TEST), then flags */
    bool keep = !cmp && flags_rmw_begin(g, FL_ARITH);
    gen_ea(g);
    gen_load(g, sz);
    gen_src_to(g, HRCX, s, sz);
    if (carry_in) load_cf(g);
    if (test) emit_test_rr(cb, sz, HRAX, HRCX);
    else emit_alu_rr(cb, op, sz, HRAX, HRCX);
    if (cmp) {
        flags_capture(g, FL_ARITH);
        return;
    }
    flags_rmw_hold(g, keep, -1);
    emit_mov_rr(cb, 4, HVAL, HRAX);
    gen_ea(g); /* again: the load clobbered EDX */
    gen_store(g, sz);
    flags_rmw_end(g, keep, FL_ARITH);
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
        Loc dl = gdst(g, d->reg, sz);
        if (dl.reg >= 0) emit_unary_r(&g->cb, op, sz, dl.reg);
        else emit_unary_m(&g->cb, op, sz, dl.m);
        flags_capture(g, mask);
        return;
    }
    bool keep = mask && flags_rmw_begin(g, mask);
    gen_ea(g);
    gen_load(g, sz);
    emit_unary_r(&g->cb, op, sz, HRAX);
    flags_rmw_hold(g, keep, -1);
    emit_mov_rr(&g->cb, 4, HVAL, HRAX);
    gen_ea(g);
    gen_store(g, sz);
    flags_rmw_end(g, keep, mask);
}

static void gen_mov(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    CodeBuf *cb = &g->cb;
    unsigned sz = d->size;
    if (d->kind == OPK_REG) {
        if (s->kind == OPK_IMM) {
            Loc dl = gdst(g, d->reg, sz);
            if (dl.reg >= 0) emit_mov_ri(cb, sz, dl.reg, (int32_t)in->imm);
            else emit_mov_mi(cb, sz, dl.m, (int32_t)in->imm);
        } else if (s->kind == OPK_REG) {
            Loc sl = gsrc(g, s->reg, sz);
            Loc dl = gdst(g, d->reg, sz);
            if (sl.reg >= 0 && dl.reg >= 0) {
                emit_mov_rr(cb, sz, dl.reg, sl.reg);
            } else {
                loc_to_reg(cb, sz, HRAX, sl);
                reg_to_loc(cb, sz, dl, HRAX);
            }
        } else {
            gen_ea(g);
            if (!g->memregs) {
                gen_load_fin(g, sz, FIN_MOV, ALU_ADD, false, gsrc(g, d->reg, sz).reg);
                g->dirty |= 1u << d->reg; /* (after: see gen_alu) */
                return;
            }
            gen_load(g, sz);
            reg_to_loc(cb, sz, gdst(g, d->reg, sz), HRAX);
        }
        return;
    }
    gen_src_to(g, HVAL, s, sz);
    gen_ea(g);
    gen_store(g, sz);
}

static void gen_lea(Gen *g)
{
    const Insn *in = g->in;
    gen_ea(g);
    unsigned sz = in->op[0].size;
    reg_to_loc(&g->cb, sz, gdst(g, in->op[0].reg, sz), HEA);
    g->ea_insn = NULL;
}

static void gen_movx(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    if (s->kind == OPK_MEM) {
        gen_ea(g);
        gen_load(g, s->size);
    } else {
        Loc sl = gsrc(g, s->reg, s->size);
        if (sl.reg >= 0) { /* register to register: one host instruction */
            Loc dl = gdst(g, d->reg, d->size);
            if (in->mnem == M_MOVZX) emit_movzx_rr(&g->cb, (int)d->size, s->size, dl.reg, sl.reg);
            else emit_movsx_rr(&g->cb, (int)d->size, s->size, dl.reg, sl.reg);
            return;
        }
        loc_to_reg(&g->cb, s->size, HRAX, sl);
    }
    if (in->mnem == M_MOVZX) emit_movzx_rr(&g->cb, 4, s->size, HRAX, HRAX);
    else emit_movsx_rr(&g->cb, 4, s->size, HRAX, HRAX);
    reg_to_loc(&g->cb, d->size, gdst(g, d->reg, d->size), HRAX);
}

/* After a host MUL/IMUL (low half of the product in EAX, host flags live): ECX = the
 * guest flags by the interpreter's rules (alu.c): CF and OF from the host (high half
 * significant), SF ZF PF from the low `sz` bytes, AF 0. Clobbers RSI. */
static void gen_mul_flags(Gen *g, unsigned sz)
{
    CodeBuf *cb = &g->cb;
    emit_pushf(cb);
    emit_pop_r(cb, HRCX);
    emit_alu_ri(cb, ALU_AND, 4, HRCX, FL_CF | FL_OF);
    emit_test_rr(cb, sz, HRAX, HRAX);
    emit_pushf(cb);
    emit_pop_r(cb, HRSI);
    emit_alu_ri(cb, ALU_AND, 4, HRSI, FL_SF | FL_ZF | FL_PF);
    emit_alu_rr(cb, ALU_OR, 4, HRCX, HRSI);
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
        gen_ea(g);
        gen_load(g, sz);
    } else {
        loc_to_reg(cb, 4, HRAX, gsrc(g, s->reg, 4));
    }
    if (in->mnem == M_IMUL2) {
        Loc dl = gsrc(g, d->reg, sz);
        if (dl.reg >= 0) emit_imul_rr(cb, sz, HRAX, dl.reg);
        else emit_imul_rm(cb, sz, HRAX, dl.m);
    } else {
        emit_imul_rri(cb, sz, HRAX, HRAX, (int32_t)in->imm);
    }
    bool flags = (g->flags_needed & FL_ARITH) != 0;
    if (flags) gen_mul_flags(g, sz);
    reg_to_loc(cb, sz, gdst(g, d->reg, sz), HRAX);
    if (flags) flags_set(g, HRCX, FL_ARITH);
    else flags_capture(g, FL_ARITH); /* (drops them) */
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
        gen_ea(g);
        gen_load(g, sz);
        emit_mov_rr(cb, 4, HRCX, HRAX);
    } else {
        loc_to_reg(cb, sz, HRCX, gsrc(g, s->reg, sz));
    }
    loc_to_reg(cb, 4, HRAX, gsrc(g, R_EAX, 4));
    if (sz > 1) loc_to_reg(cb, 4, HRDX, gsrc(g, R_EDX, 4));
    emit_unary_r(cb, in->mnem == M_MUL ? UN_MUL : UN_IMUL, sz, HRCX);
    bool flags = (g->flags_needed & FL_ARITH) != 0;
    if (flags) gen_mul_flags(g, sz);
    if (sz == 1) {
        reg_to_loc(cb, 2, gdst(g, R_EAX, 2), HRAX);
    } else {
        reg_to_loc(cb, sz, gdst(g, R_EAX, sz), HRAX);
        reg_to_loc(cb, sz, gdst(g, R_EDX, sz), HRDX);
    }
    if (flags) flags_set(g, HRCX, FL_ARITH);
    else flags_capture(g, FL_ARITH);
}

static Cond gen_cond(Gen *g, unsigned cc);

/* SETcc r/m8 */
static void gen_setcc(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0];
    CodeBuf *cb = &g->cb;
    if (d->kind == OPK_MEM) {
        gen_ea(g);
        Cond hc = gen_cond(g, in->cond);
        emit_setcc_r(cb, hc, HVAL);
        emit_movzx_rr(cb, 4, 1, HVAL, HVAL);
        gen_store(g, 1);
        return;
    }
    Cond hc = gen_cond(g, in->cond);
    Loc dl = gdst(g, d->reg, 1); /* (a load does not change the host flags) */
    if (dl.reg >= 0) emit_setcc_r(cb, hc, dl.reg);
    else emit_setcc_m(cb, hc, dl.m);
}

/* CMOVcc r, r/m: the source is always read (a memory source faults even when false) */
static void gen_cmov(Gen *g)
{
    const Insn *in = g->in;
    const Operand *d = &in->op[0], *s = &in->op[1];
    CodeBuf *cb = &g->cb;
    if (s->kind == OPK_MEM) {
        gen_ea(g);
        gen_load(g, d->size);
        emit_mov_rr(cb, 4, HVAL, HRAX);
    } else {
        loc_to_reg(cb, 4, HVAL, gsrc(g, s->reg, 4));
    }
    Loc dl = gdst(g, d->reg, d->size); /* (dirty also when the condition is false) */
    Cond hc = gen_cond(g, in->cond);
    if (dl.reg >= 0) {
        emit_cmov_rr(cb, hc, d->size, dl.reg, HVAL);
        return;
    }
    size_t skip = emit_jcc8_label(cb, (Cond)(hc ^ 1));
    reg_to_loc(cb, d->size, dl, HVAL);
    emit_patch_rel8(cb, skip, cb->len);
}

/* SHL/SAL/SHR/SAR/ROL/ROR: the host shift gives the result, CF, SF, ZF and PF; AF is 0
 * and OF follows the interpreter's formulas for every count (alu.c): SHL CF^MSB, SHR
 * the two top bits of the result, SAR 0; rotates take CF from the result. The flags
 * are composed in ECX. A count of 0 (CL) changes nothing, flags included. */
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
    bool mem = d->kind == OPK_MEM;
    if (!by_cl && cnt == 0) {
        /* nothing changes, but a memory operand is still read (and may fault) */
        if (mem) {
            gen_ea(g);
            gen_load(g, sz);
        }
        return;
    }
    bool flags = (g->flags_needed & fmask) != 0;
    /* by CL the flags may stay as they are: c->eflags is made exact first and the new
     * flags are merged into it directly when the count is not 0 */
    if (by_cl) flags_sync(g);
    bool keep = !by_cl && mem && flags_rmw_begin(g, fmask);
    Loc dl = { -1, { 0 } };
    if (mem) {
        gen_ea(g);
        gen_load(g, sz);
    } else {
        dl = gdst(g, d->reg, sz);
        loc_to_reg(cb, sz, HRAX, dl);
    }
    size_t to_skip = 0;
    if (by_cl) {
        loc_to_reg(cb, 4, HRCX, gsrc(g, R_ECX, 4));
        emit_alu_ri(cb, ALU_AND, 4, HRCX, 31);
        to_skip = emit_jcc_label(cb, CC_E);
        emit_shift_rcl(cb, op, sz, HRAX);
    } else {
        emit_shift_ri8(cb, op, sz, HRAX, (uint8_t)cnt);
    }
    if (flags && !by_cl && !mem && dl.reg >= 0 && rotate) {
        /* CF is the host's (ROL the LSB, ROR the MSB of the result): into R12 with the
         * other pending bits; OF is computed from it and the result when needed */
        reg_to_loc(cb, sz, dl, HRAX); /* (a MOV: the host flags stay) */
        uint32_t needed = g->flags_needed;
        g->flags_needed |= FL_CF; /* (the OF computation reads it) */
        flags_capture(g, FL_CF);  /* (may use RAX) */
        g->flags_needed = needed;
        g->df = (Defer){ (int8_t)dl.reg, (int8_t)d->reg, (uint8_t)op, (uint8_t)sz };
        g->rfl &= ~FL_OF;
        g->pend |= FL_OF;
        return;
    }
    if (flags && !by_cl && !mem && dl.reg >= 0 && !rotate) {
        /* the host's CF PF ZF SF are the guest's: keep them in R12; OF and AF are
         * computed from the result only if something looks (Defer). SAR: both 0. */
        reg_to_loc(cb, sz, dl, HRAX); /* (a MOV: the host flags stay) */
        flags_capture(g, FL_ARITH);
        if (op == SH_SAR) {
            emit_alu_ri(cb, ALU_AND, 4, HFLAGS, (int32_t)~(FL_OF | FL_AF));
        } else {
            g->df = (Defer){ (int8_t)dl.reg, (int8_t)d->reg, (uint8_t)op, (uint8_t)sz };
            g->rfl &= ~(FL_OF | FL_AF);
        }
        return;
    }
    if (flags) {
        unsigned bits = sz * 8;
        bool left = op == SH_SHL || op == SH_ROL;
        if (rotate) {
            /* CF from the result: ROL the LSB, ROR the MSB */
            emit_mov_rr(cb, 4, HRCX, HRAX);
            if (!left) emit_shift_ri(cb, SH_SHR, 4, HRCX, (uint8_t)(bits - 1));
            emit_alu_ri(cb, ALU_AND, 4, HRCX, FL_CF);
        } else {
            emit_pushf(cb);
            emit_pop_r(cb, HRCX);
            emit_alu_ri(cb, ALU_AND, 4, HRCX, FL_CF | FL_PF | FL_ZF | FL_SF);
        }
        if (op != SH_SAR) { /* SAR's OF is 0 */
            /* OF: left, CF ^ MSB(result); right, MSB ^ bit width-2 of the result */
            emit_mov_rr(cb, 4, HRDX, HRAX);
            emit_shift_ri(cb, SH_SHR, 4, HRDX, (uint8_t)(bits - 1));
            if (left) {
                emit_alu_rr(cb, ALU_XOR, 4, HRDX, HRCX);
            } else {
                emit_mov_rr(cb, 4, HRSI, HRAX);
                emit_shift_ri(cb, SH_SHR, 4, HRSI, (uint8_t)(bits - 2));
                emit_alu_rr(cb, ALU_XOR, 4, HRDX, HRSI);
            }
            emit_alu_ri(cb, ALU_AND, 4, HRDX, 1);
            emit_shift_ri(cb, SH_SHL, 4, HRDX, 11);
            emit_alu_rr(cb, ALU_OR, 4, HRCX, HRDX);
        }
    }
    if (mem) {
        if (by_cl && flags) emit_mov_rr(cb, 4, HFLAGS, HRCX); /* survives the store */
        else flags_rmw_hold(g, keep, HRCX);
        emit_mov_rr(cb, 4, HVAL, HRAX);
        gen_ea(g);
        gen_store(g, sz);
    } else {
        reg_to_loc(cb, sz, dl, HRAX);
    }
    if (by_cl) {
        if (flags) {
            /* straight into c->eflags: the count was not 0 */
            int fr = mem ? HFLAGS : HRCX;
            emit_mov_rm(cb, 4, HRDX, CPU_MEM(eflags));
            emit_alu_ri(cb, ALU_AND, 4, HRDX, (int32_t)~fmask);
            emit_alu_rr(cb, ALU_OR, 4, HRDX, fr);
            emit_mov_mr(cb, 4, CPU_MEM(eflags), HRDX);
        }
        emit_patch_rel32(cb, to_skip, cb->len);
        g->rfl = g->pend = 0; /* R12 may or may not be the old flags now */
        return;
    }
    if (mem) flags_rmw_end(g, keep, fmask);
    else if (flags) flags_set(g, HRCX, fmask);
    else flags_capture(g, fmask);
}

/* PUSH: the value (read first, so PUSH ESP pushes the old ESP) in ESI, stored at
 * SS:ESP-size; ESP changes only after the store succeeded. 32-bit stacks only. */
static void gen_push_value(Gen *g, unsigned size)
{
    CodeBuf *cb = &g->cb;
    gen_ea_esp(g, -(int32_t)size);
    g->mseg = SEG_SS;
    gen_store(g, size);
    Loc sp = gdst(g, R_ESP, 4);
    emit_lea(cb, 4, sp.reg, mem_base(sp.reg, -(int32_t)size));
}

static void gen_push(Gen *g)
{
    const Insn *in = g->in;
    const Operand *o = &in->op[0];
    if (o->kind == OPK_REG)
        loc_to_reg(&g->cb, 4, HVAL, gsrc(g, o->reg, 4));
    else
        emit_mov_ri(&g->cb, 4, HVAL, (int32_t)in->imm);
    gen_push_value(g, o->size);
}

/* POP: load SS:[ESP], ESP += size, then the destination (POP ESP keeps the value). */
static void gen_pop_value(Gen *g, unsigned size)
{
    CodeBuf *cb = &g->cb;
    gen_ea_esp(g, 0);
    g->mseg = SEG_SS;
    gen_load(g, size);
    Loc sp = gdst(g, R_ESP, 4);
    emit_lea(cb, 4, sp.reg, mem_base(sp.reg, (int32_t)size));
}

/* LEAVE (32-bit stack and operand): EBP = SS:[EBP], ESP = EBP + 4; nothing changes
 * before the load, which may fault. */
static void gen_leave(Gen *g)
{
    CodeBuf *cb = &g->cb;
    memset(&g->ea_ebp, 0, sizeof(g->ea_ebp));
    g->ea_ebp.ea_base = R_EBP;
    g->ea_ebp.ea_index = -1;
    g->ea_ebp.addrsize = 4;
    emit_mov_rr(cb, 4, HEA, gsrc(g, R_EBP, 4).reg);
    g->ea_insn = &g->ea_ebp;
    g->mseg = SEG_SS;
    gen_load(g, 4);
    Loc sp = gdst(g, R_ESP, 4);
    emit_lea(cb, 4, sp.reg, mem_base(HREG[R_EBP], 4));
    reg_to_loc(cb, 4, gdst(g, R_EBP, 4), HRAX);
}

static void gen_pop(Gen *g)
{
    const Operand *o = &g->in->op[0];
    gen_pop_value(g, o->size);
    reg_to_loc(&g->cb, o->size, gdst(g, o->reg, o->size), HRAX);
}

/* After a near indirect branch (EIP stored, flags synced, guest registers in their
 * host registers): find the next block without the dispatcher (dbt_indirect), else
 * return to it. R8-R11 are kept on the stack across the call (four pushes keep the
 * stack 16-byte aligned). */
static void gen_indirect_exit(Gen *g)
{
    CodeBuf *cb = &g->cb;
    Dbt *d = g->d;
    const Block *b = g->b;
    size_t miss[6];
    unsigned nmiss = 0;
    if (!d->opt.nochain) {
        /* first the jump cache, in line: a block at the new EIP with this block's CS
         * and mode (a near branch changes neither) is entered through its xentry,
         * which checks that its page is still mapped where it was translated */
        emit_mov_rm(cb, 4, HRAX, CPU_MEM(eip));
        emit_lea(cb, 4, HRCX, mem_base(HRAX, (int32_t)b->cs_base));
        emit_mov_rr(cb, 4, HRDX, HRCX);
        emit_shift_ri(cb, SH_SHR, 4, HRDX, 12);
        emit_alu_rr(cb, ALU_XOR, 4, HRDX, HRCX); /* jc_hash() of the linear address */
        emit_alu_ri(cb, ALU_AND, 4, HRDX, DBT_JC_SIZE - 1);
        emit_mov_ri64(cb, HRCX, (uint64_t)(uintptr_t)d->jc);
        emit_mov_rm(cb, 8, HRDX, mem_bisd(HRCX, HRDX, 8, 0));
        emit_test_rr(cb, 8, HRDX, HRDX);
        miss[nmiss++] = emit_jcc_label(cb, CC_E);
        emit_alu_rm(cb, ALU_CMP, 4, HRAX, mem_base(HRDX, (int32_t)offsetof(Block, eip)));
        miss[nmiss++] = emit_jcc_label(cb, CC_NE);
        emit_alu_mi(cb, ALU_CMP, 4, mem_base(HRDX, (int32_t)offsetof(Block, mode)), (int32_t)b->mode);
        miss[nmiss++] = emit_jcc_label(cb, CC_NE);
        emit_alu_mi(cb, ALU_CMP, 4, mem_base(HRDX, (int32_t)offsetof(Block, cs_base)),
                    (int32_t)b->cs_base);
        miss[nmiss++] = emit_jcc_label(cb, CC_NE);
        emit_alu_mi(cb, ALU_CMP, 4, mem_base(HRDX, (int32_t)offsetof(Block, cs_limit)),
                    (int32_t)b->cs_limit);
        miss[nmiss++] = emit_jcc_label(cb, CC_NE);
        emit_alu_mi(cb, ALU_CMP, 1, mem_base(HRDX, (int32_t)offsetof(Block, valid)), 0);
        miss[nmiss++] = emit_jcc_label(cb, CC_E);
        emit_jmp_m(cb, mem_base(HRDX, (int32_t)offsetof(Block, xentry)));
        for (unsigned k = 0; k < nmiss; k++) emit_patch_rel32(cb, miss[k], cb->len);
    }
    for (int r = 0; r < 4; r++) emit_push_r(cb, HREG[r]);
    emit_mov_ri64(cb, HRDI, (uint64_t)(uintptr_t)g->d);
    emit_mov_ri(cb, 4, HRSI, (int32_t)g->b->mode);
    emit_call_abs(cb, (const void *)dbt_indirect, HRAX);
    for (int r = 3; r >= 0; r--) emit_pop_r(cb, HREG[r]);
    emit_test_rr(cb, 8, HRAX, HRAX);
    size_t to_exit = emit_jcc8_label(cb, CC_E);
    emit_jmp_r(cb, HRAX);
    emit_patch_rel8(cb, to_exit, cb->len);
    emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
    emit_jmp_abs(cb, g->d->exit_spill_fn, HRCX);
}

/* ---- block exits ---- */

/* A direct exit through slot k to guest EIP `eip` (state synced): jmp [slot]; the slot
 * starts out pointing at this exit's stub, emitted after the body. */
static void direct_exit(Gen *g, int k, uint32_t eip)
{
    void **slot = &g->d->slots[(size_t)(g->b - g->d->blocks) * 2 + k];
    /* jmp [rip+disp]: RIP-relative to the slot in the data area */
    uintptr_t at = (uintptr_t)g->cb.exec_at + g->cb.len + 6;
    emit_jmp_m(&g->cb, mem_rip((int32_t)((intptr_t)slot - (intptr_t)at)));
    g->slot_used[k] = true;
    g->b->out_eip[k] = eip;
}

/* Condition `cc` of the guest flags → host flags; returns the host condition (NE or
 * E) that is true when the guest condition holds. Reads R12 when it has the bits,
 * else c->eflags. Clobbers EAX, ECX. */
static Cond gen_cond(Gen *g, unsigned cc)
{
    static const uint32_t bits[8] = { FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF,
                                      FL_SF | FL_OF, FL_SF | FL_OF | FL_ZF };
    unsigned base = cc >> 1;
    bool neg = cc & 1;
    CodeBuf *cb = &g->cb;
    bool in_r12 = (g->rfl & bits[base]) == bits[base];
    if (!in_r12 && (g->dyn || (g->pend & bits[base]))) flags_sync(g);
    if (base < 6) {
        if (in_r12) emit_test_ri(cb, 4, HFLAGS, (int32_t)bits[base]);
        else emit_test_mi(cb, 4, CPU_MEM(eflags), (int32_t)bits[base]);
    } else {
        /* L: SF != OF; LE: ZF or SF != OF (OF is bit 11, SF bit 7) */
        if (in_r12) emit_mov_rr(cb, 4, HRAX, HFLAGS);
        else emit_mov_rm(cb, 4, HRAX, CPU_MEM(eflags));
        emit_mov_rr(cb, 4, HRCX, HRAX);
        emit_shift_ri(cb, SH_SHR, 4, HRCX, 4);
        emit_alu_rr(cb, ALU_XOR, 4, HRCX, HRAX);
        emit_alu_ri(cb, ALU_AND, 4, HRCX, FL_SF);
        if (base == 7) {
            emit_alu_ri(cb, ALU_AND, 4, HRAX, FL_ZF);
            emit_alu_rr(cb, ALU_OR, 4, HRCX, HRAX);
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

/* The guest registers a native instruction writes (a byte register counts for the
 * whole one). */
static unsigned regs_written(const Insn *in)
{
    unsigned w = 0;
    const Operand *o = &in->op[0];
    switch (in->mnem) {
    case M_CMP: case M_TEST: case M_NOP: case M_HINT_NOP: case M_PAUSE: case M_SSE:
    case M_CLD: case M_STD: case M_JMP: case M_Jcc:
        break;
    case M_PUSH: case M_CALL: case M_RET:
        w = 1u << R_ESP;
        break;
    case M_POP:
        w = 1u << R_ESP;
        break;
    case M_LEAVE:
        w = (1u << R_ESP) | (1u << R_EBP);
        break;
    case M_MUL: case M_IMUL1: case M_RDTSC:
        w = (1u << R_EAX) | (1u << R_EDX);
        break;
    default:
        break;
    }
    if (in->mnem != M_CMP && in->mnem != M_TEST && in->nops > 0 && o->kind == OPK_REG)
        w |= 1u << (o->size == 1 && o->reg >= 4 ? o->reg - 4 : o->reg);
    return w;
}

/* Does the instruction name AH, CH, DH or BH? */
static bool names_high_byte(const Insn *in)
{
    for (int k = 0; k < in->nops; k++)
        if (in->op[k].kind == OPK_REG && in->op[k].size == 1 && in->op[k].reg >= 4) return true;
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

/* An instruction without a native translation: its interpreter handler, with the
 * Cpu structure exact before; after it the guest registers are reloaded (`reload`,
 * unless the block leaves through exit_fn at once) and no flags are cached. */
static void gen_helper(Gen *g, bool reload)
{
    const Insn *in = g->in;
    sync_state(g);
    prep_fault(g);
    emit_mov_mi(&g->cb, 4, CPU_MEM(eip), (int32_t)g->next);
    emit_mov_rr(&g->cb, 8, HRDI, HRBX);
    emit_mov_ri64(&g->cb, HRSI, (uint64_t)(uintptr_t)in);
    emit_call_abs(&g->cb, (const void *)cpu_handler(in->mnem), HRAX);
    if (reload) load_regs(&g->cb, 0xff);
    g->dirty = 0;
    g->rfl = g->pend = 0; /* (sync_state ended dyn) */
    g->d->stats.helper_insns++;
}

/* RET (near, 32-bit stack): pop EIP, check it against the CS limit, and look up the
 * next block. */
static void gen_ret(Gen *g)
{
    const Insn *in = g->in;
    CodeBuf *cb = &g->cb;
    gen_ea_esp(g, 0);
    g->mseg = SEG_SS;
    gen_load(g, in->opsize);
    if (in->opsize == 2) emit_movzx_rr(cb, 4, 2, HRAX, HRAX);
    size_t to_gp = 0;
    bool check = g->b->cs_limit != 0xffffffffu;
    Snap at_gp = snap(g);
    unsigned before = g->pending;
    if (check) {
        emit_alu_ri(cb, ALU_CMP, 4, HRAX, (int32_t)g->b->cs_limit);
        to_gp = emit_jcc_label(cb, CC_A);
    }
    Loc sp = gdst(g, R_ESP, 4);
    emit_lea(cb, 4, sp.reg, mem_base(sp.reg, (int32_t)in->opsize));
    emit_mov_mr(cb, 4, CPU_MEM(eip), HRAX);
    g->pending++;
    exit_check(g, false, 0); /* the pop may have hit a device */
    flush_icount(g);
    flags_handoff(g);
    gen_indirect_exit(g);
    if (check) {
        /* target beyond the CS limit: #GP(0) at the RET, ESP as it was */
        emit_patch_rel32(cb, to_gp, cb->len);
        spill_regs(cb, at_gp.dirty);
        emit_undefer(cb, at_gp.df);
        merge_snap(cb, at_gp.pend, at_gp.dyn);
        emit_fault_state(cb, before, g->eip);
        emit_mov_rr(cb, 8, HRDI, HRBX);
        emit_call_abs(cb, (const void *)dbt_fault_gp0, HRAX);
    }
}

/* CALL/JMP r/m32 with a flat CS (no limit check): the target is read first (a memory
 * operand may fault), stored as EIP (a fault restores EIP), then CALL pushes the
 * return address; the next block is looked up as after RET. */
static void gen_branch_indirect(Gen *g)
{
    const Insn *in = g->in;
    CodeBuf *cb = &g->cb;
    const Operand *o = &in->op[0];
    if (o->kind == OPK_MEM) {
        gen_ea(g);
        gen_load(g, 4);
        emit_mov_mr(cb, 4, CPU_MEM(eip), HRAX);
    } else {
        emit_mov_mr(cb, 4, CPU_MEM(eip), gsrc(g, o->reg, 4).reg);
    }
    if (in->mnem == M_CALL) {
        emit_mov_ri(cb, 4, HVAL, (int32_t)g->next);
        gen_push_value(g, 4);
    }
    g->pending++;
    if (g->accessed) exit_check(g, false, 0); /* an access may have hit a device */
    flush_icount(g);
    flags_handoff(g);
    gen_indirect_exit(g);
}

/* Flags liveness, backwards: needed[i] = the flags instruction i writes that a later
 * one reads. An instruction that can fault or leave the block (a memory access or a
 * handler call) needs every flag exact before it (a fault is delivered with them) and
 * after it (a side exit), so only runs of register-only instructions drop flags that
 * a later one overwrites. */
static void flags_liveness(const Insn *insns, unsigned n, const bool *native, uint32_t *needed)
{
    uint32_t live = FL_ARITH;
    for (int i = (int)n - 1; i >= 0; i--) {
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

/* One native instruction; returns true when it ended the block. */
static bool gen_native(Gen *g)
{
    const Insn *in = g->in;
    CodeBuf *cb = &g->cb;
    switch (in->mnem) {
    case M_NOP: case M_HINT_NOP: case M_PAUSE: case M_SSE: break;
    case M_RDTSC:
        /* the virtual TSC follows icount: count what retired before; the call keeps
         * guest ECX and EBX (R9, R11) on the stack, EAX and EDX get the result */
        flush_icount(g);
        emit_push_r(cb, HREG[R_ECX]);
        emit_push_r(cb, HREG[R_EBX]);
        emit_mov_rr(cb, 8, HRDI, HRBX);
        emit_call_abs(cb, (const void *)cpu_tsc, HRAX);
        emit_pop_r(cb, HREG[R_EBX]);
        emit_pop_r(cb, HREG[R_ECX]);
        emit_mov_rr(cb, 4, HREG[R_EAX], HRAX);
        emit_shift_ri(cb, SH_SHR, 8, HRAX, 32);
        emit_mov_rr(cb, 4, HREG[R_EDX], HRAX);
        g->dirty |= (1u << R_EAX) | (1u << R_EDX);
        break;
    case M_CLD: /* DF is never cached: c->eflags has it */
        emit_alu_mi(cb, ALU_AND, 4, CPU_MEM(eflags), (int32_t)~FL_DF);
        break;
    case M_STD:
        emit_alu_mi(cb, ALU_OR, 4, CPU_MEM(eflags), FL_DF);
        break;
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
    case M_LEAVE: gen_leave(g); break;
    case M_CALL:
        if (in->op[0].kind != OPK_REL) {
            gen_branch_indirect(g);
            return true;
        }
        emit_mov_ri(cb, 4, HVAL, (int32_t)g->next);
        gen_push_value(g, in->opsize);
        g->pending++;
        exit_check(g, true, rel_target(in, g->next)); /* the push may have hit a device */
        flush_icount(g);
        flags_handoff(g);
        direct_exit(g, 0, rel_target(in, g->next));
        return true;
    case M_RET:
        gen_ret(g);
        return true;
    case M_JMP:
        if (in->op[0].kind != OPK_REL) {
            gen_branch_indirect(g);
            return true;
        }
        g->pending++;
        flush_icount(g);
        flags_handoff(g);
        direct_exit(g, 0, rel_target(in, g->next));
        return true;
    case M_Jcc: {
        g->pending++;
        flush_icount(g);
        flags_handoff(g); /* (before gen_cond: OR changes the host flags) */
        Cond hc = gen_cond(g, in->cond);
        size_t to_taken = emit_jcc_label(cb, hc);
        direct_exit(g, 1, g->next);
        emit_patch_rel32(cb, to_taken, cb->len);
        direct_exit(g, 0, rel_target(in, g->next));
        return true;
    }
    }
    return false;
}

/* One instruction through its handler; returns true when it ended the block. */
static bool gen_handled(Gen *g)
{
    const Insn *in = g->in;
    CodeBuf *cb = &g->cb;
    bool to_dispatcher = !is_static_branch(in) && dbt_insn_ends_block(in) &&
                         !(in->mnem == M_RET || in->mnem == M_JMP || in->mnem == M_CALL);
    gen_helper(g, !to_dispatcher);
    g->pending = 1;
    if (!to_dispatcher) exit_check(g, false, 0); /* before jumping on to another block */
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
        return true;
    }
    if (dbt_insn_ends_block(in)) {
        /* indirect or system: EIP is wherever the handler left it */
        flush_icount(g);
        if (in->mnem == M_RET || in->mnem == M_JMP || in->mnem == M_CALL) {
            gen_indirect_exit(g);
        } else {
            emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
            emit_jmp_abs(cb, g->d->exit_fn, HRCX);
        }
        return true;
    }
    if (in->flags & IF_STRING) {
        /* a REP chunk that is not finished sets EIP back to itself */
        emit_alu_mi(cb, ALU_CMP, 4, CPU_MEM(eip), (int32_t)g->next);
        side_exit_if(g, CC_NE, false, 0);
    }
    return false;
}

/* The out-of-line code after the body: exit stubs, slow paths, side exits. */
static void gen_out_of_line(Gen *g, size_t to_noexec)
{
    Dbt *d = g->d;
    Block *b = g->b;
    CodeBuf *cb = &g->cb;
    uint8_t *exec = (uint8_t *)g->cb.exec_at;
    /* the exit stub of each slot used (where an unchained slot leads) */
    for (int k = 0; k < 2; k++) {
        b->stub[k] = NULL;
        if (!g->slot_used[k]) continue;
        b->stub[k] = exec + cb->len;
        emit_mov_mi(cb, 4, CPU_MEM(eip), (int32_t)b->out_eip[k]);
        void **slot = &d->slots[(size_t)(b - d->blocks) * 2 + k];
        uintptr_t at = (uintptr_t)cb->exec_at + cb->len + 7; /* lea rax,[rip+disp32] */
        emit_lea(cb, 8, HRAX, mem_rip((int32_t)((intptr_t)slot - (intptr_t)at)));
        emit_jmp_abs(cb, d->exit_spill_fn, HRCX);
    }
    /* slow paths of inline memory accesses: the Cpu structure made exact, the
     * accessor called, R8-R11 reloaded */
    for (unsigned s = 0; s < g->nslow; s++) {
        SlowPath *sp = &g->slow[s];
        for (unsigned k = 0; k < sp->npatch; k++) emit_patch_rel32(cb, sp->patch[k], cb->len);
        spill_regs(cb, sp->st.dirty);
        emit_undefer(cb, sp->st.df);
        merge_snap(cb, sp->st.pend, sp->st.dyn);
        emit_fault_state(cb, sp->pending, sp->eip);
        if (sp->ea_insn) emit_ea(cb, sp->ea_insn, HEA);
        else if (sp->esp_disp) emit_lea(cb, 4, HEA, mem_base(HREG[R_ESP], sp->esp_disp));
        else emit_mov_rr(cb, 4, HEA, HREG[R_ESP]);
        emit_access_call(cb, sp->size, sp->store, sp->seg);
        if (sp->pending) {
            /* keep icount as the inline path has it; EAX (a loaded value) survives */
            emit_alu_mi(cb, ALU_SUB, 8, CPU_MEM(icount), (int32_t)sp->pending);
        }
        if (sp->fin.kind != FIN_NONE) emit_fin(cb, &sp->fin, true, sp->rfl);
        if (sp->tail_exit < 0) {
            emit_jmp_to(cb, sp->join);
            continue;
        }
        /* the rest of the instruction, then leave if the access asked for it */
        if (!cb->overflow && sp->tail_to <= cb->cap)
            emit_bytes(cb, cb->buf + sp->tail_from, sp->tail_to - sp->tail_from);
        else
            cb->overflow = true;
        emit_alu_mi(cb, ALU_CMP, 1, CPU_MEM(dbt_exit), 0);
        g->side[sp->tail_exit].patch = emit_jcc_label(cb, CC_NE);
        emit_jmp_to(cb, sp->tail_to);
    }
    /* side exits */
    for (unsigned s = 0; s < g->nside; s++) {
        SideExit *se = &g->side[s];
        emit_patch_rel32(cb, se->patch, cb->len);
        emit_undefer(cb, se->st.df);
        merge_snap(cb, se->st.pend, se->st.dyn);
        if (se->pending) emit_alu_mi(cb, ALU_ADD, 8, CPU_MEM(icount), (int32_t)se->pending);
        if (se->set_eip) emit_mov_mi(cb, 4, CPU_MEM(eip), (int32_t)se->eip);
        emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
        emit_jmp_abs(cb, d->exit_spill_fn, HRCX);
    }
    /* the entry for chained jumps from another page: the TLB entry of the block's
     * linear page (what the interpreter's fetch would use) must still allow the fetch
     * at this CPL and lead to the block's physical page; without paging only A20
     * matters. Otherwise the dispatcher looks the block up. */
    uint32_t lin = b->cs_base + b->eip;
    b->xentry = exec + cb->len;
    size_t xfail[3];
    unsigned nx = 0;
    if (b->mode & BM_PG) {
        int32_t e = OFF(tlb) + (int32_t)(((lin >> PAGE_SHIFT) & (TLB_SIZE - 1)) * sizeof(TlbEntry));
        unsigned cpl = (b->mode >> BM_CPL_SHIFT) & 3;
        emit_alu_mi(cb, ALU_CMP, 4, mem_base(HRBX, e + (int32_t)offsetof(TlbEntry, tag)),
                    (int32_t)((lin & ~0xfffu) | TLB_VALID));
        xfail[nx++] = emit_jcc_label(cb, CC_NE);
        emit_test_mi(cb, 1, mem_base(HRBX, e + (int32_t)offsetof(TlbEntry, perm)),
                     (int32_t)(1u << (MMU_FETCH * 2 + (cpl == 3))));
        xfail[nx++] = emit_jcc_label(cb, CC_E);
        emit_mov_rm(cb, 4, HRAX, mem_base(HRBX, e + (int32_t)offsetof(TlbEntry, pa)));
    } else {
        emit_mov_ri(cb, 4, HRAX, (int32_t)(lin & ~0xfffu));
    }
    emit_alu_rm(cb, ALU_AND, 4, HRAX, CPU_MEM(a20_mask));
    emit_alu_ri(cb, ALU_CMP, 4, HRAX, (int32_t)(b->phys_pc & ~0xfffu));
    xfail[nx++] = emit_jcc_label(cb, CC_NE);
    emit_jmp_to(cb, 0); /* the chained entry */
    for (unsigned k = 0; k < nx; k++) emit_patch_rel32(cb, xfail[k], cb->len);
    emit_mov_mi(cb, 4, CPU_MEM(eip), (int32_t)b->eip);
    emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
    emit_jmp_abs(cb, d->exit_spill_fn, HRCX);
    /* not entered: budget too small */
    emit_patch_rel32(cb, to_noexec, cb->len);
    emit_mov_mi(cb, 4, CPU_MEM(eip), (int32_t)b->eip);
    emit_alu_rr(cb, ALU_XOR, 4, HRAX, HRAX);
    emit_jmp_abs(cb, d->exit_spill_fn, HRCX);
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
    /* on entry every guest register is in its host register, maybe newer than the Cpu */
    g->dirty = 0xff;
    g->dyn = true; /* and the flags the previous block handed over */
    g->df.reg = -1;
    CodeBuf *cb = &g->cb;

    uint32_t needed[DBT_MAX_BLOCK_INSNS];
    bool native[DBT_MAX_BLOCK_INSNS];
    {
        uint32_t eip = b->eip;
        for (unsigned i = 0; i < b->ninsn; i++) {
            g->next = next_eip(g->code32, eip, insns[i].len);
            native[i] = d->opt.native && native_ok(g, &insns[i]);
            eip = g->next;
        }
        flags_liveness(insns, b->ninsn, native, needed);
    }

    /* chained entry: enough budget left. (Cpu.dbt_exit needs no check here: it is only
     * set synchronously, by an access or a handler, and every instruction that can set
     * it is followed by a side exit on it before the block can jump on.) */
    b->entry = exec;
    emit_mov_rm(cb, 8, HRAX, CPU_MEM(run_end));
    emit_alu_rm(cb, ALU_SUB, 8, HRAX, CPU_MEM(icount));
    emit_alu_ri(cb, ALU_CMP, 8, HRAX, b->ninsn);
    size_t to_noexec = emit_jcc_label(cb, CC_B);
    size_t body_pos = cb->len;

    bool ended = false;
    uint32_t eip = b->eip;
    for (unsigned i = 0; i < b->ninsn && !ended; i++) {
        const Insn *in = &insns[i];
        g->in = in;
        g->eip = eip;
        g->next = next_eip(g->code32, eip, in->len);
        g->prepped = false;
        g->accessed = false;
        g->access_called = false;
        g->mseg = in->seg;
        g->flags_needed = needed[i];
        unsigned first_slow = g->nslow;
        if (native[i]) {
            g->memregs = names_high_byte(in);
            /* a deferred shift's result register about to change, or its OF/AF about
             * to be kept in part: compute them now */
            if (g->df.reg >= 0) {
                uint32_t w = flags_written(in);
                bool partial = w && (w & (FL_OF | FL_AF)) != (FL_OF | FL_AF);
                if (g->memregs || partial || (regs_written(in) & (1u << g->df.greg)))
                    flags_undefer(g);
            }
            if (g->memregs) {
                /* AH..BH: this instruction works on the Cpu structure */
                spill_regs(cb, g->dirty);
                g->dirty = 0;
            }
            ended = gen_native(g);
            if (g->memregs) {
                load_regs(cb, 0xff);
                g->memregs = false;
            }
            if (ended) break;
            g->pending++;
            /* a memory access may have hit MMIO or a code page: leave if asked. When
             * the access was the instruction's only one and nothing after it jumps
             * out, the check lives in its slow path (the only way to set dbt_exit),
             * behind a copy of the instruction's rest. */
            if (g->accessed) {
                SlowPath *last = g->nslow > first_slow ? &g->slow[g->nslow - 1] : NULL;
                if (last && g->nslow == first_slow + 1 && g->nside == g->nside_at_access &&
                    !g->access_called) {
                    SideExit *s = &g->side[g->nside++];
                    s->patch = 0; /* set in the slow path */
                    s->pending = g->pending;
                    s->set_eip = true;
                    s->eip = g->next;
                    s->st = snap(g);
                    last->tail_exit = (int)(s - g->side);
                    last->tail_from = last->join;
                    last->tail_to = cb->len;
                } else {
                    exit_check(g, true, g->next);
                }
            }
        } else {
            ended = gen_handled(g);
        }
        eip = g->next;
    }
    if (!ended) {
        /* cut by length or the page end: continue at the next instruction */
        flush_icount(g);
        flags_handoff(g);
        direct_exit(g, 0, eip);
    }
    gen_out_of_line(g, to_noexec);

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
    load_regs(&cb, 0xff);
    emit_jmp_r(&cb, HRSI);
    emit_align(&cb, 16);
    d->exit_spill_fn = exec + cb.len;
    spill_regs(&cb, 0xff);
    merge_dyn(&cb, 0, HRCX, HRDX); /* RAX is the exit slot */
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
