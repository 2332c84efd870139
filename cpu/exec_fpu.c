/*
 * exec_fpu.c — the x87 escape opcodes D8-DF and WAIT/FWAIT: which encodings exist on
 * a P6, which ones wait for pending exceptions, the memory operand of each, the
 * instruction/data pointers, and #NM/#MF/FERR#. The arithmetic itself runs on the
 * host x87 (fpu.c), so it is the hardware's to the bit.
 *
 * Exceptions: the guest's control word is used unchanged on the host. An unmasked
 * exception therefore does exactly what hardware does (destination and stack left
 * alone for I/D/Z, the biased result stored for O/U on a register destination, ES and
 * B set) and is reported at the next waiting instruction: #MF with CR0.NE=1; with
 * NE=0 the instruction drives FERR# (CpuBus.ferr) and waits, re-executing until an
 * interrupt handler clears the exception, unless IGNNE# is asserted. FERR# is thus
 * raised when the error is next waited on (P6 behaviour), not when it is detected.
 *
 * Ordering: #NM, then #MF, then the memory operand (segmentation, paging) is read or
 * checked for writing before any FPU state changes, so a fault leaves the FPU as it
 * was. The pointers (FIP/FCS/FOP, and FDP/FDS for a memory operand) are recorded by
 * every non-control instruction; FDP/FDS keep their value for register forms.
 */
#include <string.h>

#include "cpu/fpu.h"
#include "cpu/interp.h"
#include "cpu/sse.h"

#define EFL_FCOMI (FL_ZF | FL_PF | FL_CF | FL_OF | FL_SF | FL_AF)

/* How an encoding behaves. */
enum {
    K_UD = 0,  /* undefined on a P6 with SSE3 */
    K_HOST,    /* executed on the host (with a memory operand if any) */
    K_NOP,     /* FENI/FDISI/FSETPM: no-ops since the 387 */
    K_STCW,    /* FNSTCW m16 */
    K_STSW,    /* FNSTSW m16 */
    K_STSW_AX, /* FNSTSW AX */
    K_LDENV,   /* FLDENV */
    K_STENV,   /* FNSTENV */
    K_RSTOR,   /* FRSTOR */
    K_SAVE,    /* FNSAVE */
};

/* Operand direction for K_HOST memory forms. */
enum { D_NONE, D_READ, D_WRITE };

typedef struct FpuOp {
    uint8_t kind;
    uint8_t size;    /* memory operand bytes for K_HOST */
    uint8_t dir;     /* D_* */
    bool nowait;     /* FN... forms: do not check for pending exceptions */
    bool control;    /* does not update FIP/FCS/FOP/FDP/FDS */
    bool init;       /* FNINIT/FNSAVE: clears the pointers */
    bool sets_flags; /* FCOMI/FUCOMI(P): writes EFLAGS */
} FpuOp;

static FpuOp op_host(unsigned size, unsigned dir)
{
    return (FpuOp){ .kind = K_HOST, .size = (uint8_t)size, .dir = (uint8_t)dir };
}

/* Memory forms: SDM vol. 2 appendix A, table A-7 and friends. FISTTP (/1 of DB, DD,
 * DF: store as integer truncating, and pop) comes with SSE3. */
static FpuOp classify_mem(unsigned esc, unsigned reg)
{
    static const uint8_t arith_size[8] = { 4, 0, 4, 0, 8, 0, 2, 0 }; /* D8 DA DC DE */
    FpuOp ud = { 0 };
    if (reg == 1 && (esc == 0xdb || esc == 0xdd || esc == 0xdf))
        return sse_host_has_sse3() ? op_host(esc == 0xdb ? 4 : esc == 0xdd ? 8 : 2, D_WRITE) : ud;
    switch (esc) {
    case 0xd8: case 0xda: case 0xdc: case 0xde:
        return op_host(arith_size[esc - 0xd8], D_READ);
    case 0xd9:
        switch (reg) {
        case 0: return op_host(4, D_READ);
        case 2: case 3: return op_host(4, D_WRITE);
        case 4: return (FpuOp){ .kind = K_LDENV, .control = true };
        case 5: return (FpuOp){ .kind = K_HOST, .size = 2, .dir = D_READ, .control = true };
        case 6: return (FpuOp){ .kind = K_STENV, .nowait = true, .control = true };
        case 7: return (FpuOp){ .kind = K_STCW, .nowait = true, .control = true };
        default: return ud;
        }
    case 0xdb:
        switch (reg) {
        case 0: return op_host(4, D_READ);
        case 2: case 3: return op_host(4, D_WRITE);
        case 5: return op_host(10, D_READ);
        case 7: return op_host(10, D_WRITE);
        default: return ud; /* 4, 6: reserved */
        }
    case 0xdd:
        switch (reg) {
        case 0: return op_host(8, D_READ);
        case 2: case 3: return op_host(8, D_WRITE);
        case 4: return (FpuOp){ .kind = K_RSTOR, .control = true };
        case 6: return (FpuOp){ .kind = K_SAVE, .nowait = true, .control = true, .init = true };
        case 7: return (FpuOp){ .kind = K_STSW, .nowait = true, .control = true };
        default: return ud;
        }
    case 0xdf:
        switch (reg) {
        case 0: return op_host(2, D_READ);
        case 2: case 3: return op_host(2, D_WRITE);
        case 4: return op_host(10, D_READ);  /* FBLD */
        case 5: return op_host(8, D_READ);   /* FILD m64 */
        case 6: return op_host(10, D_WRITE); /* FBSTP */
        case 7: return op_host(8, D_WRITE);  /* FISTP m64 */
        default: return ud;
        }
    default:
        return ud;
    }
}

/* Register forms (mod = 3). The undocumented aliases that P6 parts execute (FSTP1,
 * FCOM2, FCOMP3, FXCH4, FCOMP5, FFREEP, FXCH7, FSTP8, FSTP9) are accepted. */
static FpuOp classify_reg(unsigned esc, unsigned modrm)
{
    FpuOp ud = { 0 }, host = op_host(0, D_NONE);
    unsigned lo = modrm & 0x3f;
    switch (esc) {
    case 0xd8: case 0xdc:
        return host;
    case 0xd9:
        if (lo <= 0x10 || (lo >= 0x18 && lo <= 0x1f)) return host; /* FLD FXCH FNOP FSTP1 */
        if (lo == 0x20 || lo == 0x21 || lo == 0x24 || lo == 0x25) return host;
        if (lo >= 0x28 && lo <= 0x2e) return host; /* constants */
        if (lo >= 0x30) return host;               /* F2XM1 .. FCOS */
        return ud;
    case 0xda:
        if (lo < 0x20 || lo == 0x29) return host; /* FCMOVcc, FUCOMPP */
        return ud;
    case 0xdb:
        if (lo < 0x20) return host; /* FCMOVNcc */
        if (lo == 0x20 || lo == 0x21 || lo == 0x24)
            return (FpuOp){ .kind = K_NOP, .nowait = true, .control = true };
        if (lo == 0x22) return (FpuOp){ .kind = K_HOST, .nowait = true, .control = true };
        if (lo == 0x23)
            return (FpuOp){ .kind = K_HOST, .nowait = true, .control = true, .init = true };
        if (lo >= 0x28 && lo < 0x38) return (FpuOp){ .kind = K_HOST, .sets_flags = true };
        return ud;
    case 0xdd:
        return lo < 0x30 ? host : ud;
    case 0xde:
        if (lo < 0x18 || lo == 0x19 || lo >= 0x20) return host;
        return ud;
    case 0xdf:
        if (lo < 0x20) return host;
        if (lo == 0x20) return (FpuOp){ .kind = K_STSW_AX, .nowait = true, .control = true };
        if (lo >= 0x28 && lo < 0x38) return (FpuOp){ .kind = K_HOST, .sets_flags = true };
        return ud;
    default:
        return ud;
    }
}

static void read_bytes(Cpu *c, int seg, uint32_t off, uint8_t *buf, unsigned n)
{
    for (unsigned i = 0; i < n;) {
        unsigned k = n - i >= 4 ? 4 : 2;
        uint32_t v = mem_read(c, seg, off + i, k);
        for (unsigned j = 0; j < k; j++) buf[i + j] = (uint8_t)(v >> (8 * j));
        i += k;
    }
}

/* All-or-nothing: the whole range is checked for writing first. */
static void write_bytes(Cpu *c, int seg, uint32_t off, const uint8_t *buf, unsigned n)
{
    mem_check_write(c, seg, off, n);
    for (unsigned i = 0; i < n;) {
        unsigned k = n - i >= 4 ? 4 : 2;
        uint32_t v = 0;
        for (unsigned j = 0; j < k; j++) v |= (uint32_t)buf[i + j] << (8 * j);
        mem_write(c, seg, off + i, v, k);
        i += k;
    }
}

static void ferr_set(Cpu *c, int level)
{
    if (c->bus.ferr) c->bus.ferr(c->bus.opaque, level);
}

/* The pending-exception check of a waiting instruction. Returns false when the
 * instruction must not run now (FERR# asserted, EIP left at the instruction). */
static bool fpu_wait(Cpu *c, FpuState *f)
{
    if (!(f->sw & FSW_ES)) return true;
    if (c->cr[0] & CR0_NE) cpu_fault(c, EXC_MF, EXC_NO_ERRCODE);
    if (c->fpu_ignne) return true;
    ferr_set(c, 1);
    c->eip = c->insn_eip; /* frozen until an interrupt handler clears the error */
    return false;
}

/* Run the host instruction on `n`. With an exception still pending (only when IGNNE#
 * lets a waiting instruction through) the unmasked flags are withheld from the host,
 * which would otherwise trap, and merged back afterwards unless the instruction loads
 * a whole new status word. */
static uint32_t run_host(FpuState *n, unsigned esc, unsigned modrm, void *buf, uint32_t eflags,
                         bool waits, bool loads_sw)
{
    uint8_t img[FPU_IMAGE_SIZE];
    uint16_t pend = 0;
    FpuState t = *n;
    if (waits && (t.sw & FSW_ES)) {
        pend = t.sw & FSW_EXC;
        t.sw &= (uint16_t) ~(FSW_EXC | FSW_ES | FSW_B);
    }
    fpu_to_image(&t, img);
    uint32_t fl = fpu_host_exec(img, esc, modrm, buf, eflags);
    fpu_from_image(n, img);
    if (pend && !loads_sw) {
        n->sw |= pend;
        if (n->sw & FSW_EXC & ~n->cw)
            n->sw |= FSW_ES | FSW_B;
        else
            n->sw &= (uint16_t) ~(FSW_ES | FSW_B);
    }
    return fl;
}

void exec_FPU(Cpu *c, const Insn *in)
{
    if (c->cr[0] & (CR0_EM | CR0_TS)) cpu_fault(c, EXC_NM, EXC_NO_ERRCODE);
    FpuState *f = fpu_get(c);
    unsigned esc = in->opcode, modrm = in->modrm;
    bool mem = (modrm & 0xc0) != 0xc0;
    FpuOp op = mem ? classify_mem(esc, (modrm >> 3) & 7) : classify_reg(esc, modrm);
    if (op.kind == K_UD) cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
    if (!op.nowait && !fpu_wait(c, f)) return;

    bool op32 = in->opsize == 4;
    bool real = cpu_realmode_seg(c);
    uint32_t ea = mem ? opnd_ea(c, in) : 0;
    uint8_t buf[FPU_IMAGE_SIZE];
    FpuState n = *f;
    uint32_t fl = c->eflags;
    memset(buf, 0, sizeof(buf));

    switch (op.kind) {
    case K_NOP:
        return;
    case K_STCW:
        mem_write16(c, in->seg, ea, f->cw);
        return;
    case K_STSW:
        mem_write16(c, in->seg, ea, f->sw);
        return;
    case K_STSW_AX:
        reg_write(c, R_EAX, 2, f->sw);
        return;
    case K_LDENV:
    case K_RSTOR: {
        unsigned env = fpu_env_size(op32);
        uint8_t g[FPU_IMAGE_SIZE];
        read_bytes(c, in->seg, ea, g, env + (op.kind == K_RSTOR ? 80 : 0));
        fpu_env_from_guest(g, op32, real, buf, &n);
        if (op.kind == K_RSTOR) memcpy(buf + FPU_ENV32_SIZE, g + env, 80);
        /* the host's FLDENV/FRSTOR ([rdi]) recomputes ES and the tags as hardware does */
        run_host(&n, esc, modrm, buf, fl, true, true);
        break;
    }
    case K_STENV:
    case K_SAVE: {
        unsigned env = fpu_env_size(op32), size = env + (op.kind == K_SAVE ? 80 : 0);
        uint8_t g[FPU_IMAGE_SIZE];
        mem_check_write(c, in->seg, ea, size);
        run_host(&n, esc, modrm, buf, fl, false, true); /* stores, then masks all / reinitialises */
        fpu_env_to_guest(buf, f, op32, real, g);
        if (op.kind == K_SAVE) memcpy(g + env, buf + FPU_ENV32_SIZE, 80);
        write_bytes(c, in->seg, ea, g, size);
        break;
    }
    default: /* K_HOST */
        if (mem && op.dir == D_READ) read_bytes(c, in->seg, ea, buf, op.size);
        fl = run_host(&n, esc, modrm, buf, fl, !op.nowait, false);
        if (mem && op.dir == D_WRITE) {
            bool store = true;
            if (n.sw & FSW_ES) {
                /* an unmasked exception may suppress the store (invalid, overflow,
                 * underflow) or not (precision): see whether the host wrote */
                uint8_t probe[FPU_IMAGE_SIZE];
                FpuState t = *f;
                memset(probe, 0xff, sizeof(probe));
                run_host(&t, esc, modrm, probe, c->eflags, true, false);
                store = memcmp(probe, buf, op.size) == 0;
            }
            if (store)
                write_bytes(c, in->seg, ea, buf, op.size);
            else
                mem_check_write(c, in->seg, ea, op.size);
        }
        break;
    }

    if (op.init) {
        n.fip = n.fdp = 0;
        n.fcs = n.fds = n.fop = 0;
    } else if (!op.control) {
        n.fip = c->insn_eip;
        n.fcs = c->seg[SEG_CS].sel;
        n.fop = (uint16_t)((esc & 7) << 8 | modrm);
        if (mem) {
            n.fdp = ea;
            n.fds = c->seg[in->seg].sel;
        }
    }
    if (op.sets_flags) c->eflags = (c->eflags & ~EFL_FCOMI) | (fl & EFL_FCOMI);
    if ((f->sw & FSW_ES) && !(n.sw & FSW_ES)) ferr_set(c, 0);
    *f = n;
}

void exec_WAIT(Cpu *c, const Insn *in)
{
    (void)in;
    if ((c->cr[0] & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) cpu_fault(c, EXC_NM, EXC_NO_ERRCODE);
    fpu_wait(c, fpu_get(c));
}
