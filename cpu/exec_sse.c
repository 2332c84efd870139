/*
 * exec_sse.c — MMX, SSE, SSE2 and SSE3 (the M_SSE entries of the 0F map; FISTTP is in
 * exec_fpu.c), FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, the fences, MOVNTI and
 * MASKMOVQ/MASKMOVDQU. Like the x87 (fpu.c),
 * every computing instruction runs on the host CPU: the guest's operands are loaded
 * into host XMM0/XMM1, MM0/MM1 and EAX/ECX, a pre-assembled copy of the instruction
 * (ModRM C1 = reg field 0, r/m 1, or 07 = [rdi] for memory forms) runs, and the
 * results are stored back, so results are the hardware's to the bit.
 *
 * MXCSR: the host runs with the guest's rounding/DAZ/FTZ bits, all exceptions masked
 * and the flags clear; the flags it raises are merged into the guest MXCSR. If one is
 * unmasked in the guest, the result is discarded and #XM (CR4.OSXMMEXCPT) or #UD is
 * raised with the flags set, pre-computation (I/D/Z) ones only when one of those is
 * the unmasked cause (SDM vol. 1 11.5.2). MMX registers are the low 64 bits of the
 * physical x87 registers: any MMX instruction sets TOP=0 and all tags valid, and a
 * written MMX register gets exponent bits all ones.
 */
#include <string.h>

#include "cpu/fpu.h"
#include "cpu/interp.h"
#include "cpu/sse.h"

/*
 * Stubs, 16 bytes each: endbr64, a prefix byte (90 = none, 66, F3, F2), 0F, opcode,
 * ModRM, [imm8], ret, int3 padding. Plain table: ((pfx * 256 + opcode) * 2 + mem).
 * Immediate rows (IMM_ROWS below): 256 stubs each, one per imm8 value.
 * The trampoline dbt86_sse_host_run(buf=rdi, state=rsi, stub=rdx) loads SseHost,
 * runs the stub and stores SseHost back, restoring the host MXCSR and emptying the
 * host MMX state (EMMS).
 */
#define IMM_ROWS(X)                                                                        \
    X(0x90, 0x70, 0xc1) X(0x90, 0x70, 0x07) X(0x66, 0x70, 0xc1) X(0x66, 0x70, 0x07)        \
    X(0xf3, 0x70, 0xc1) X(0xf3, 0x70, 0x07) X(0xf2, 0x70, 0xc1) X(0xf2, 0x70, 0x07)        \
    X(0x90, 0x71, 0xd1) X(0x90, 0x71, 0xe1) X(0x90, 0x71, 0xf1)                            \
    X(0x66, 0x71, 0xd1) X(0x66, 0x71, 0xe1) X(0x66, 0x71, 0xf1)                            \
    X(0x90, 0x72, 0xd1) X(0x90, 0x72, 0xe1) X(0x90, 0x72, 0xf1)                            \
    X(0x66, 0x72, 0xd1) X(0x66, 0x72, 0xe1) X(0x66, 0x72, 0xf1)                            \
    X(0x90, 0x73, 0xd1) X(0x90, 0x73, 0xf1)                                                \
    X(0x66, 0x73, 0xd1) X(0x66, 0x73, 0xd9) X(0x66, 0x73, 0xf1) X(0x66, 0x73, 0xf9)        \
    X(0x90, 0xc2, 0xc1) X(0x90, 0xc2, 0x07) X(0x66, 0xc2, 0xc1) X(0x66, 0xc2, 0x07)        \
    X(0xf3, 0xc2, 0xc1) X(0xf3, 0xc2, 0x07) X(0xf2, 0xc2, 0xc1) X(0xf2, 0xc2, 0x07)        \
    X(0x90, 0xc4, 0xc1) X(0x90, 0xc4, 0x07) X(0x66, 0xc4, 0xc1) X(0x66, 0xc4, 0x07)        \
    X(0x90, 0xc5, 0xc1) X(0x66, 0xc5, 0xc1)                                                \
    X(0x90, 0xc6, 0xc1) X(0x90, 0xc6, 0x07) X(0x66, 0xc6, 0xc1) X(0x66, 0xc6, 0x07)

#define ASM_ROW(p, o, m) "SSEIMMROW " #p ", " #o ", " #m "\n"
#define C_ROW(p, o, m) { p, o, m },

__asm__(
    ".pushsection .text\n"
    ".macro SSEPLAIN p\n"
    ".set dbt86_sse_i, 0\n"
    ".rept 256\n"
    ".byte 0xf3, 0x0f, 0x1e, 0xfa, \\p, 0x0f, dbt86_sse_i, 0xc1, 0xc3\n"
    ".byte 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc\n"
    ".byte 0xf3, 0x0f, 0x1e, 0xfa, \\p, 0x0f, dbt86_sse_i, 0x07, 0xc3\n"
    ".byte 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc\n"
    ".set dbt86_sse_i, dbt86_sse_i + 1\n"
    ".endr\n"
    ".endm\n"
    ".macro SSEIMMROW p, o, m\n"
    ".set dbt86_sse_j, 0\n"
    ".rept 256\n"
    ".byte 0xf3, 0x0f, 0x1e, 0xfa, \\p, 0x0f, \\o, \\m, dbt86_sse_j, 0xc3\n"
    ".byte 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc\n"
    ".set dbt86_sse_j, dbt86_sse_j + 1\n"
    ".endr\n"
    ".endm\n"
    ".p2align 4\n"
    ".globl dbt86_sse_stubs\n"
    ".hidden dbt86_sse_stubs\n"
    "dbt86_sse_stubs:\n"
    "SSEPLAIN 0x90\n"
    "SSEPLAIN 0x66\n"
    "SSEPLAIN 0xf3\n"
    "SSEPLAIN 0xf2\n"
    ".globl dbt86_sse_imm_stubs\n"
    ".hidden dbt86_sse_imm_stubs\n"
    "dbt86_sse_imm_stubs:\n"
    IMM_ROWS(ASM_ROW)
    ".purgem SSEPLAIN\n"
    ".purgem SSEIMMROW\n"
    "\n"
    ".p2align 4\n"
    ".globl dbt86_sse_host_run\n"
    ".hidden dbt86_sse_host_run\n"
    ".type dbt86_sse_host_run, @function\n"
    "dbt86_sse_host_run:\n"
    "endbr64\n"
    "push %rbx\n"
    "sub $16, %rsp\n"
    "stmxcsr (%rsp)\n"
    "mov %rsi, %rbx\n"
    "ldmxcsr 56(%rbx)\n"
    "movdqu 0(%rbx), %xmm0\n"
    "movdqu 16(%rbx), %xmm1\n"
    "movq 32(%rbx), %mm0\n"
    "movq 40(%rbx), %mm1\n"
    "mov 48(%rbx), %eax\n"
    "mov 52(%rbx), %ecx\n"
    "call *%rdx\n"
    "mov %eax, 48(%rbx)\n"
    "mov %ecx, 52(%rbx)\n"
    "pushfq\n"
    "pop %rax\n"
    "mov %eax, 60(%rbx)\n"
    "movdqu %xmm0, 0(%rbx)\n"
    "movdqu %xmm1, 16(%rbx)\n"
    "movq %mm0, 32(%rbx)\n"
    "movq %mm1, 40(%rbx)\n"
    "stmxcsr 56(%rbx)\n"
    "emms\n"
    "ldmxcsr (%rsp)\n"
    "add $16, %rsp\n"
    "pop %rbx\n"
    "ret\n"
    ".size dbt86_sse_host_run, . - dbt86_sse_host_run\n"
    ".popsection\n");

/* The host registers a stub sees (offsets fixed by the trampoline above). */
typedef struct SseHost {
    uint8_t xmm[2][16]; /* 0: XMM0 (ModRM.reg), 16: XMM1 (ModRM.rm) */
    uint8_t mm[2][8];   /* 32: MM0, 40: MM1 */
    uint32_t gpr[2];    /* 48: EAX, 52: ECX */
    uint32_t mxcsr;     /* 56 */
    uint32_t eflags;    /* 60: output only */
} SseHost;

extern const uint8_t dbt86_sse_stubs[] __attribute__((visibility("hidden")));
extern const uint8_t dbt86_sse_imm_stubs[] __attribute__((visibility("hidden")));
extern void dbt86_sse_host_run(void *buf, SseHost *s, const void *stub)
    __attribute__((visibility("hidden")));

#define STUB_SIZE 16

static const uint8_t imm_rows[][3] = { IMM_ROWS(C_ROW) };

/* Operand classes and flags of one encoding. */
enum { C_NONE, C_X, C_M, C_G };
#define F_WR 0x01      /* writes the ModRM.reg register */
#define F_WE 0x02      /* register form writes the ModRM.rm register */
#define F_STORE 0x04   /* memory form stores to memory */
#define F_ALIGN 0x08   /* memory operand must be 16-byte aligned */
#define F_IMM 0x10     /* has imm8 */
#define F_MEMONLY 0x20 /* register form is #UD */
#define F_REGONLY 0x40 /* memory form is #UD */
#define F_EFL 0x80     /* writes ZF PF CF (OF SF AF cleared): COMISS & co */

typedef struct SseOp {
    uint8_t rc, ec; /* class of the ModRM.reg and ModRM.rm operands */
    uint8_t msize;  /* memory operand size */
    uint8_t flags;
} SseOp;

#define OPD(r, e, s, f) ((SseOp){ (r), (e), (s), (f) })
#define X16A OPD(C_X, C_X, 16, F_ALIGN | F_WR)
#define MM8 OPD(C_M, C_M, 8, F_WR)
#define UDOP OPD(C_NONE, C_NONE, 0, 0)

/* pfx: 0 none, 1 66, 2 F3, 3 F2. rc == C_NONE && ec == C_NONE means #UD (or special).
 * `sse3`: the SSE3 encodings exist (CPUID.1:ECX.SSE3, i.e. the host has them). */
static SseOp classify(unsigned pfx, unsigned op, bool sse3)
{
    bool np = pfx == 0, p66 = pfx == 1, f3 = pfx == 2, f2 = pfx == 3;
    switch (op) {
    case 0x10:
        return OPD(C_X, C_X, f3 ? 4 : f2 ? 8 : 16, F_WR);
    case 0x11:
        return OPD(C_X, C_X, f3 ? 4 : f2 ? 8 : 16, F_STORE | F_WE);
    case 0x12: case 0x16:
        if (np) return OPD(C_X, C_X, 8, F_WR);
        if (p66) return OPD(C_X, C_X, 8, F_WR | F_MEMONLY);
        if (!sse3) return UDOP;
        if (f3) return X16A;                                   /* MOVSLDUP, MOVSHDUP */
        return op == 0x12 ? OPD(C_X, C_X, 8, F_WR) : UDOP;     /* MOVDDUP xmm, xmm/m64 */
    case 0x13: case 0x17:
        return OPD(C_X, C_X, 8, F_STORE | F_MEMONLY);
    case 0x14: case 0x15: case 0x28: case 0x54: case 0x55: case 0x56: case 0x57:
        return X16A;
    case 0x29:
        return OPD(C_X, C_X, 16, F_ALIGN | F_STORE | F_WE);
    case 0x2a:
        return np || p66 ? OPD(C_X, C_M, 8, F_WR) : OPD(C_X, C_G, 4, F_WR);
    case 0x2b:
        return OPD(C_X, C_X, 16, F_ALIGN | F_STORE | F_MEMONLY);
    case 0x2c: case 0x2d:
        if (np) return OPD(C_M, C_X, 8, F_WR);
        if (p66) return OPD(C_M, C_X, 16, F_ALIGN | F_WR);
        return OPD(C_G, C_X, f3 ? 4 : 8, F_WR);
    case 0x2e: case 0x2f:
        return OPD(C_X, C_X, np ? 4 : 8, F_EFL);
    case 0x50:
        return OPD(C_G, C_X, 0, F_WR | F_REGONLY);
    case 0x51: case 0x58: case 0x59: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
        return f3 ? OPD(C_X, C_X, 4, F_WR) : f2 ? OPD(C_X, C_X, 8, F_WR) : X16A;
    case 0x52: case 0x53:
        return np ? X16A : f3 ? OPD(C_X, C_X, 4, F_WR) : UDOP;
    case 0x5a:
        if (np) return OPD(C_X, C_X, 8, F_WR);
        return f3 ? OPD(C_X, C_X, 4, F_WR) : f2 ? OPD(C_X, C_X, 8, F_WR) : X16A;
    case 0x5b:
        return f2 ? UDOP : X16A;
    case 0x60: case 0x61: case 0x62:
        return np ? OPD(C_M, C_M, 4, F_WR) : p66 ? X16A : UDOP;
    case 0x63: case 0x64: case 0x65: case 0x66: case 0x67: case 0x68: case 0x69: case 0x6a:
    case 0x6b: case 0x74: case 0x75: case 0x76:
        return np ? MM8 : p66 ? X16A : UDOP;
    case 0x6c: case 0x6d:
        return p66 ? X16A : UDOP;
    case 0x6e:
        return OPD(np ? C_M : C_X, C_G, 4, F_WR);
    case 0x6f:
        return np ? MM8 : p66 ? X16A : OPD(C_X, C_X, 16, F_WR);
    case 0x70:
        return np ? OPD(C_M, C_M, 8, F_WR | F_IMM) : OPD(C_X, C_X, 16, F_ALIGN | F_WR | F_IMM);
    case 0x71: case 0x72: case 0x73:
        return OPD(C_NONE, np ? C_M : C_X, 0, F_WE | F_IMM | F_REGONLY);
    case 0x7c: case 0x7d: /* HADDPD HSUBPD (66), HADDPS HSUBPS (F2) */
    case 0xd0:            /* ADDSUBPD (66), ADDSUBPS (F2) */
        return sse3 && (p66 || f2) ? X16A : UDOP;
    case 0xf0: /* LDDQU xmm, m128: no alignment requirement */
        return sse3 && f2 ? OPD(C_X, C_X, 16, F_WR | F_MEMONLY) : UDOP;
    case 0x7e:
        if (f3) return OPD(C_X, C_X, 8, F_WR);
        return OPD(np ? C_M : C_X, C_G, 4, F_STORE | F_WE);
    case 0x7f:
        if (np) return OPD(C_M, C_M, 8, F_STORE | F_WE);
        return OPD(C_X, C_X, 16, (p66 ? F_ALIGN : 0) | F_STORE | F_WE);
    case 0xc2:
        return f3 ? OPD(C_X, C_X, 4, F_WR | F_IMM)
             : f2 ? OPD(C_X, C_X, 8, F_WR | F_IMM) : OPD(C_X, C_X, 16, F_ALIGN | F_WR | F_IMM);
    case 0xc4:
        return OPD(np ? C_M : C_X, C_G, 2, F_WR | F_IMM);
    case 0xc5:
        return OPD(C_G, np ? C_M : C_X, 0, F_WR | F_IMM | F_REGONLY);
    case 0xc6:
        return OPD(C_X, C_X, 16, F_ALIGN | F_WR | F_IMM);
    case 0xd6:
        if (p66) return OPD(C_X, C_X, 8, F_STORE | F_WE);
        if (f3) return OPD(C_X, C_M, 0, F_WR | F_REGONLY);
        if (f2) return OPD(C_M, C_X, 0, F_WR | F_REGONLY);
        return UDOP;
    case 0xd7:
        return OPD(C_G, np ? C_M : C_X, 0, F_WR | F_REGONLY);
    case 0xe6:
        return f3 ? OPD(C_X, C_X, 8, F_WR) : p66 || f2 ? X16A : UDOP;
    case 0xe7:
        return np ? OPD(C_M, C_M, 8, F_STORE | F_MEMONLY)
                  : OPD(C_X, C_X, 16, F_ALIGN | F_STORE | F_MEMONLY);
    case 0xd1: case 0xd2: case 0xd3: case 0xd4: case 0xd5:
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe4: case 0xe5:
    case 0xe8: case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: case 0xee: case 0xef:
    case 0xf1: case 0xf2: case 0xf3: case 0xf4: case 0xf5: case 0xf6:
    case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd: case 0xfe:
        return np ? MM8 : p66 ? X16A : UDOP;
    default:
        return UDOP;
    }
}

static const uint8_t PFX_BYTE[4] = { 0x90, 0x66, 0xf3, 0xf2 };

/* The stub for an encoding, or NULL when the imm row does not exist. */
static const uint8_t *find_stub(unsigned pfx, unsigned op, unsigned modrm, bool imm,
                                unsigned imm8)
{
    if (!imm) return dbt86_sse_stubs + ((pfx * 256 + op) * 2 + (modrm == 0x07)) * STUB_SIZE;
    for (unsigned r = 0; r < sizeof(imm_rows) / sizeof(imm_rows[0]); r++)
        if (imm_rows[r][0] == PFX_BYTE[pfx] && imm_rows[r][1] == op && imm_rows[r][2] == modrm)
            return dbt86_sse_imm_stubs + (r * 256 + imm8) * STUB_SIZE;
    return NULL;
}

bool sse_host_has_sse3(void)
{
    /* every x86-64 CPU since 2005 has it; checked anyway, as the instructions run here */
    return __builtin_cpu_supports("sse3");
}

uint32_t sse_mxcsr_mask(void)
{
    _Alignas(16) uint8_t area[512];
    memset(area, 0, sizeof(area));
    __asm__ volatile("fxsave %0" : "=m"(area));
    uint32_t m;
    memcpy(&m, area + 28, 4);
    if (m == 0) m = 0xffbf;
    return m & 0xffff;
}

static __attribute__((noreturn)) void fault_ud(Cpu *c) { cpu_fault(c, EXC_UD, EXC_NO_ERRCODE); }

/* MMX state: x87 pending-exception check (#MF / FERR#) as a waiting x87 instruction
 * does; returns false when the instruction must wait (FERR#, EIP frozen). */
static bool mmx_wait(Cpu *c, FpuState *f)
{
    if (!(f->sw & FSW_ES)) return true;
    if (c->cr[0] & CR0_NE) cpu_fault(c, EXC_MF, EXC_NO_ERRCODE);
    if (c->fpu_ignne) return true;
    if (c->bus.ferr) c->bus.ferr(c->bus.opaque, 1);
    c->eip = c->insn_eip;
    return false;
}

static void mmx_enter(FpuState *f)
{
    f->sw &= (uint16_t) ~(7u << FSW_TOP_SHIFT);
    f->tw = 0;
}

static void mm_get(const FpuState *f, unsigned r, uint8_t out[8]) { memcpy(out, f->st[r], 8); }
static void mm_set(FpuState *f, unsigned r, const uint8_t v[8])
{
    memcpy(f->st[r], v, 8);
    f->st[r][8] = f->st[r][9] = 0xff;
}

static uint32_t linear(const Cpu *c, const Insn *in, uint32_t ea)
{
    return c->seg[in->seg].base + ea;
}

static void guest_read(Cpu *c, int seg, uint32_t ea, uint8_t *buf, unsigned n)
{
    if (n == 2) {
        uint16_t v = mem_read16(c, seg, ea);
        memcpy(buf, &v, 2);
        return;
    }
    for (unsigned i = 0; i < n; i += 4) {
        uint32_t v = mem_read32(c, seg, ea + i);
        memcpy(buf + i, &v, 4);
    }
}

static void guest_write(Cpu *c, int seg, uint32_t ea, const uint8_t *buf, unsigned n)
{
    mem_check_write(c, seg, ea, n);
    for (unsigned i = 0; i < n; i += 4) {
        uint32_t v;
        memcpy(&v, buf + i, 4);
        mem_write32(c, seg, ea + i, v);
    }
}

/* #UD/#NM checks common to SSE instructions that use XMM registers or MXCSR. */
static void check_sse(Cpu *c)
{
    if ((c->cr[0] & CR0_EM) || !(c->cr[4] & CR4_OSFXSR)) fault_ud(c);
    if (c->cr[0] & CR0_TS) cpu_fault(c, EXC_NM, EXC_NO_ERRCODE);
}

/* Raise the SIMD floating-point exception (flags already in the guest MXCSR). */
static __attribute__((noreturn)) void fault_xm(Cpu *c)
{
    cpu_fault(c, (c->cr[4] & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, EXC_NO_ERRCODE);
}

static void exec_group15(Cpu *c, const Insn *in, unsigned pfx);
static void exec_maskmov(Cpu *c, const Insn *in, unsigned pfx);

void exec_SSE(Cpu *c, const Insn *in)
{
    if (in->map != 1) fault_ud(c); /* 0F 38 / 0F 3A: SSSE3 and later */
    unsigned pfx = (in->prefixes & PFX_REP) ? 2 : (in->prefixes & PFX_REPNE) ? 3
                 : (in->prefixes & PFX_OPSIZE) ? 1 : 0;
    unsigned op = in->opcode, modrm = in->modrm;
    unsigned reg = (modrm >> 3) & 7, rm = modrm & 7;
    bool mem = (modrm & 0xc0) != 0xc0;

    switch (op) {
    case 0xae:
        exec_group15(c, in, pfx);
        return;
    case 0xc3: /* MOVNTI m32, r32 (no FPU/SSE state involved) */
        if (pfx != 0 || !mem) fault_ud(c);
        mem_write32(c, in->seg, opnd_ea(c, in), c->regs[reg]);
        return;
    case 0xf7:
        exec_maskmov(c, in, pfx);
        return;
    case 0x77: { /* EMMS */
        if (pfx != 0 || (c->cr[0] & CR0_EM)) fault_ud(c);
        if (c->cr[0] & CR0_TS) cpu_fault(c, EXC_NM, EXC_NO_ERRCODE);
        FpuState *f = fpu_get(c);
        if (!mmx_wait(c, f)) return;
        f->tw = 0xffff;
        return;
    }
    default:
        break;
    }

    SseOp d = classify(pfx, op, sse_host_has_sse3());
    if (d.rc == C_NONE && d.ec == C_NONE) fault_ud(c);
    if ((d.flags & F_MEMONLY) && !mem) fault_ud(c);
    if ((d.flags & F_REGONLY) && mem) fault_ud(c);
    bool uses_xmm = d.rc == C_X || d.ec == C_X;
    bool uses_mmx = d.rc == C_M || (d.ec == C_M && !mem);
    if (uses_xmm) {
        check_sse(c);
    } else {
        if (c->cr[0] & CR0_EM) fault_ud(c);
        if (c->cr[0] & CR0_TS) cpu_fault(c, EXC_NM, EXC_NO_ERRCODE);
    }
    FpuState *f = fpu_get(c);
    if (uses_mmx && !mmx_wait(c, f)) return;

    unsigned hmodrm = mem ? 0x07 : ((op >= 0x71 && op <= 0x73) ? (0xc1 | reg << 3) : 0xc1);
    const uint8_t *stub = find_stub(pfx, op, hmodrm, d.flags & F_IMM, in->imm & 0xff);
    if (!stub) fault_ud(c);

    /* gather the operands */
    SseHost h;
    memset(&h, 0, sizeof(h));
    uint8_t buf[16] = { 0 };
    uint32_t ea = 0;
    if (d.rc == C_X) memcpy(h.xmm[0], c->xmm[reg], 16);
    if (d.rc == C_M) mm_get(f, reg, h.mm[0]);
    if (d.rc == C_G) h.gpr[0] = c->regs[reg];
    if (mem) {
        ea = opnd_ea(c, in);
        if ((d.flags & F_ALIGN) && (linear(c, in, ea) & 15)) cpu_fault(c, EXC_GP, 0);
        if (!(d.flags & F_STORE)) guest_read(c, in->seg, ea, buf, d.msize);
    } else {
        if (d.ec == C_X) memcpy(h.xmm[1], c->xmm[rm], 16);
        if (d.ec == C_M) mm_get(f, rm, h.mm[1]);
        if (d.ec == C_G) h.gpr[1] = c->regs[rm];
    }
    uint32_t gmx = sse_mxcsr(c);
    /* LDMXCSR/FXRSTOR only accept the host's bits; 0xffff guards a restored snapshot */
    h.mxcsr = (gmx | MXCSR_MASKS) & ~MXCSR_FLAGS & 0xffffu;

    dbt86_sse_host_run(buf, &h, stub);

    if (uses_xmm) {
        uint32_t raised = h.mxcsr & MXCSR_FLAGS;
        uint32_t unmasked = raised & ~(gmx >> 7) & MXCSR_FLAGS;
        if (unmasked) {
            sse_set_mxcsr(c, gmx | (unmasked & 7 ? raised & 7 : raised));
            fault_xm(c);
        }
        if (mem && (d.flags & F_STORE)) guest_write(c, in->seg, ea, buf, d.msize);
        sse_set_mxcsr(c, gmx | raised);
    } else if (mem && (d.flags & F_STORE)) {
        guest_write(c, in->seg, ea, buf, d.msize);
    }

    /* commit */
    if (uses_mmx) mmx_enter(f);
    if (d.flags & F_WR) {
        if (d.rc == C_X) memcpy(c->xmm[reg], h.xmm[0], 16);
        if (d.rc == C_M) mm_set(f, reg, h.mm[0]);
        if (d.rc == C_G) c->regs[reg] = h.gpr[0];
    }
    if ((d.flags & F_WE) && !mem) {
        if (d.ec == C_X) memcpy(c->xmm[rm], h.xmm[1], 16);
        if (d.ec == C_M) mm_set(f, rm, h.mm[1]);
        if (d.ec == C_G) c->regs[rm] = h.gpr[1];
    }
    if (d.flags & F_EFL) {
        const uint32_t m = FL_ZF | FL_PF | FL_CF | FL_OF | FL_SF | FL_AF;
        c->eflags = (c->eflags & ~m) | (h.eflags & m);
    }
}

/* MASKMOVQ mm, mm / MASKMOVDQU xmm, xmm: byte stores to DS:(E)DI where the mask
 * byte's top bit is set. */
static void exec_maskmov(Cpu *c, const Insn *in, unsigned pfx)
{
    unsigned reg = (in->modrm >> 3) & 7, rm = in->modrm & 7;
    uint8_t data[16], mask[16];
    unsigned n;
    FpuState *f = fpu_get(c);
    if (pfx == 1) {
        check_sse(c);
        memcpy(data, c->xmm[reg], 16);
        memcpy(mask, c->xmm[rm], 16);
        n = 16;
    } else if (pfx == 0) {
        if (c->cr[0] & CR0_EM) fault_ud(c);
        if (c->cr[0] & CR0_TS) cpu_fault(c, EXC_NM, EXC_NO_ERRCODE);
        if (!mmx_wait(c, f)) return;
        mm_get(f, reg, data);
        mm_get(f, rm, mask);
        n = 8;
    } else {
        fault_ud(c);
    }
    uint32_t edi = in->addrsize == 4 ? c->regs[R_EDI] : c->regs[R_EDI] & 0xffff;
    bool any = false;
    for (unsigned i = 0; i < n; i++) any |= mask[i] >> 7;
    if (any) mem_check_write(c, in->seg, edi, n);
    for (unsigned i = 0; i < n; i++)
        if (mask[i] & 0x80) mem_write8(c, in->seg, edi + i, data[i]);
    if (pfx == 0) mmx_enter(f);
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* FXSAVE image (32-bit format, SDM vol. 2 table 3-53): bytes 0-287; 288-511 are not
 * written. */
static void fxsave_image(Cpu *c, uint8_t img[288])
{
    FpuState *f = fpu_get(c);
    memset(img, 0, 288);
    put16(img + 0, f->cw);
    put16(img + 2, f->sw);
    uint8_t ftw = 0;
    for (unsigned i = 0; i < 8; i++)
        if (((f->tw >> (2 * i)) & 3) != 3) ftw |= (uint8_t)(1u << i);
    img[4] = ftw;
    put16(img + 6, f->fop & 0x7ff);
    put32(img + 8, f->fip);
    put16(img + 12, f->fcs);
    put32(img + 16, f->fdp);
    put16(img + 20, f->fds);
    put32(img + 24, sse_mxcsr(c));
    put32(img + 28, sse_mxcsr_mask());
    unsigned top = (f->sw >> FSW_TOP_SHIFT) & 7;
    for (unsigned i = 0; i < 8; i++) memcpy(img + 32 + 16 * i, f->st[(top + i) & 7], 10);
    for (unsigned i = 0; i < 8; i++) memcpy(img + 160 + 16 * i, c->xmm[i], 16);
}

static void fxrstor_image(Cpu *c, const uint8_t img[288])
{
    FpuState *f = fpu_get(c);
    FpuState n = *f;
    n.cw = (uint16_t)get16(img + 0);
    n.sw = (uint16_t)get16(img + 2);
    n.fop = (uint16_t)(get16(img + 6) & 0x7ff);
    n.fip = get32(img + 8);
    n.fcs = (uint16_t)get16(img + 12);
    n.fdp = get32(img + 16);
    n.fds = (uint16_t)get16(img + 20);
    unsigned top = (n.sw >> FSW_TOP_SHIFT) & 7;
    for (unsigned i = 0; i < 8; i++) memcpy(n.st[(top + i) & 7], img + 32 + 16 * i, 10);
    /* abridged tags: non-empty registers get their tag from their contents, which the
     * host computes when it saves the state (FRSTOR + FNSAVE) */
    n.tw = 0;
    for (unsigned i = 0; i < 8; i++)
        if (!(img[4] & (1u << i))) n.tw |= (uint16_t)(3u << (2 * i));
    uint8_t fimg[FPU_IMAGE_SIZE];
    FpuState t = n;
    t.sw &= (uint16_t) ~(FSW_ES | FSW_B); /* the host must not see a pending exception */
    fpu_to_image(&t, fimg);
    fpu_host_exec(fimg, 0, 0, NULL, 0);
    n.tw = (uint16_t)get16(fimg + 8);
    /* ES/B as the restored SW says */
    *f = n;
    sse_set_mxcsr(c, get32(img + 24));
    for (unsigned i = 0; i < 8; i++) memcpy(c->xmm[i], img + 160 + 16 * i, 16);
}

/* 0F AE: FXSAVE FXRSTOR LDMXCSR STMXCSR CLFLUSH; register forms LFENCE MFENCE SFENCE. */
static void exec_group15(Cpu *c, const Insn *in, unsigned pfx)
{
    unsigned reg = (in->modrm >> 3) & 7;
    bool mem = (in->modrm & 0xc0) != 0xc0;
    if (!mem) return; /* fences: the interpreter's accesses are already in order */
    if (pfx > 1) fault_ud(c);
    uint32_t ea = opnd_ea(c, in);
    switch (reg) {
    case 0: case 1: { /* FXSAVE / FXRSTOR */
        if (c->cr[0] & (CR0_EM | CR0_TS)) cpu_fault(c, EXC_NM, EXC_NO_ERRCODE);
        if (linear(c, in, ea) & 15) cpu_fault(c, EXC_GP, 0);
        uint8_t img[288];
        if (reg == 0) {
            fxsave_image(c, img);
            mem_check_write(c, in->seg, ea, 512);
            guest_write(c, in->seg, ea, img, 288);
        } else {
            guest_read(c, in->seg, ea, img, 288);
            mem_read32(c, in->seg, ea + 508); /* the whole 512 bytes must be readable */
            if (get32(img + 24) & ~sse_mxcsr_mask()) cpu_fault(c, EXC_GP, 0);
            fxrstor_image(c, img);
        }
        return;
    }
    case 2: { /* LDMXCSR */
        check_sse(c);
        uint32_t v = mem_read32(c, in->seg, ea);
        if (v & ~sse_mxcsr_mask()) cpu_fault(c, EXC_GP, 0);
        sse_set_mxcsr(c, v);
        return;
    }
    case 3: /* STMXCSR */
        check_sse(c);
        mem_write32(c, in->seg, ea, sse_mxcsr(c));
        return;
    case 7: /* CLFLUSH: no caches to flush; 66 (CLFLUSHOPT) is not part of this CPU */
        if (pfx != 0) fault_ud(c);
        return;
    default:
        fault_ud(c);
    }
}
