/*
 * exec_system.c — system instructions: descriptor-table registers, LDTR/TR, control and
 * debug registers, MSRs, RDTSC/RDPMC/CPUID, SYSENTER/SYSEXIT, the selector probes
 * LAR/LSL/VERR/VERW/ARPL, and the instructions that only raise #UD for now (the x87
 * and WAIT are in exec_fpu.c).
 *
 * Semantics and fault order follow the Intel SDM vol. 2 pseudo-code; the privilege
 * rules are vol. 3's. The CR4 bits accepted are derived from what CPUID advertises
 * (cpuid.c), so software that checks CPUID first never sees a feature fault.
 */
#include <stdio.h>

#include "cpu/debug.h"
#include "cpu/interp.h"
#include "cpu/mmu.h"

/* CR4 bits. */

/* CR0 bits that exist; writes to the others are ignored (reserved bits of CR0[31:0] do
 * not fault in 32-bit mode, SDM vol. 3 2.5), and ET is hard-wired to 1 on P6. */
#define CR0_VALID (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
                   CR0_NW | CR0_CD | CR0_PG)

#define PAT_RESET 0x0007040600070406ull
#define MTRRCAP_VALUE 0x508u /* WC supported, fixed ranges supported, 8 variable ranges */
#define PHYS_ADDR_MASK 0x0000000fffffffffull /* 36 physical address bits for MTRRs */

/* ---- common checks ---- */

static __attribute__((noreturn)) void fault_ud(Cpu *c)
{
    cpu_fault(c, EXC_UD, EXC_NO_ERRCODE);
}

/* CPL 0 only: #GP(0) at CPL > 0 and always in virtual-8086 mode (real mode is CPL 0). */
static void need_cpl0(Cpu *c)
{
    if (cpu_vm86(c) || (cpu_pe(c) && c->cpl != 0)) cpu_fault(c, EXC_GP, 0);
}

/* Instructions not recognised in real-address or virtual-8086 mode. */
static void need_pmode(Cpu *c)
{
    if (!cpu_pe(c) || cpu_vm86(c)) fault_ud(c);
}

static void set_zf(Cpu *c, bool on)
{
    if (on)
        c->eflags |= FL_ZF;
    else
        c->eflags &= ~FL_ZF;
}

/* ---- descriptors ---- */

/* Finds the descriptor of `sel` in the GDT or LDT. Returns false (no fault) when it lies
 * outside the table or TI=1 with no LDT loaded (null or unusable LDTR, as seg.c treats
 * it); faults only on paging of the table itself. */
static bool desc_fetch(Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, uint32_t *addr)
{
    uint32_t base, limit;
    if (sel & 4) {
        if ((c->ldtr.sel & 0xfffc) == 0 || !(c->ldtr.flags & SEGF_P)) return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    if ((uint32_t)(sel | 7) > limit) return false;
    *addr = base + (sel & ~7u);
    *lo = lin_read32(c, *addr, true);
    *hi = lin_read32(c, *addr + 4, true);
    return true;
}

static uint32_t desc_limit(uint32_t lo, uint32_t hi)
{
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    return (hi & (SEGF_G << 8)) ? (limit << 12) | 0xfff : limit;
}

/* The DPL/RPL/CPL rule of LAR/LSL/VERR/VERW: conforming code segments are always
 * visible, everything else needs DPL >= CPL and DPL >= RPL. */
static bool desc_visible(const Cpu *c, uint16_t sel, uint32_t hi)
{
    uint32_t f = (hi >> 8) & 0xff;
    unsigned dpl = (f & SEGF_DPL_MASK) >> SEGF_DPL_SHIFT;
    bool conforming = (f & SEGF_S) && (f & (SEGF_CODE | SEGF_DC)) == (SEGF_CODE | SEGF_DC);
    return conforming || (dpl >= c->cpl && dpl >= (sel & 3u));
}

/* ---- descriptor table registers ---- */

static void load_dtr(Cpu *c, const Insn *in, DtReg *r)
{
    if (in->op[0].kind != OPK_MEM) fault_ud(c);
    need_cpl0(c);
    uint32_t ea = opnd_ea(c, in);
    uint16_t limit = mem_read16(c, in->seg, ea);
    uint32_t base = mem_read32(c, in->seg, ea + 2);
    if (in->opsize == 2) base &= 0x00ffffffu; /* 16-bit form loads 24 bits of base */
    r->limit = limit;
    r->base = base;
}

static void store_dtr(Cpu *c, const Insn *in, const DtReg *r)
{
    if (in->op[0].kind != OPK_MEM) fault_ud(c);
    uint32_t ea = opnd_ea(c, in);
    mem_check_write(c, in->seg, ea, 6);
    /* 16-bit form: 24 bits of base, the sixth byte 0 (Pentium and later) */
    uint32_t base = in->opsize == 2 ? r->base & 0x00ffffffu : r->base;
    mem_write16(c, in->seg, ea, r->limit);
    mem_write32(c, in->seg, ea + 2, base);
}

void exec_LGDT(Cpu *c, const Insn *in) { load_dtr(c, in, &c->gdtr); }
void exec_LIDT(Cpu *c, const Insn *in) { load_dtr(c, in, &c->idtr); }
void exec_SGDT(Cpu *c, const Insn *in) { store_dtr(c, in, &c->gdtr); }
void exec_SIDT(Cpu *c, const Insn *in) { store_dtr(c, in, &c->idtr); }

/* ---- LDTR and TR ---- */

void exec_LLDT(Cpu *c, const Insn *in)
{
    need_pmode(c);
    need_cpl0(c);
    uint16_t sel = opnd_read(c, in, 0);
    if ((sel & 0xfffc) == 0) {
        /* null selector: LDTR becomes unusable; later LDT references fault */
        c->ldtr.sel = sel;
        c->ldtr.base = 0;
        c->ldtr.limit = 0;
        c->ldtr.flags = 0;
        return;
    }
    uint32_t lo, hi, addr;
    if ((sel & 4) || !desc_fetch(c, sel, &lo, &hi, &addr)) cpu_fault(c, EXC_GP, sel & 0xfffc);
    uint32_t f = (hi >> 8) & 0xff;
    if ((f & (SEGF_S | SEGF_TYPE_MASK)) != 0x2) cpu_fault(c, EXC_GP, sel & 0xfffc);
    if (!(f & SEGF_P)) cpu_fault(c, EXC_NP, sel & 0xfffc);
    seg_cache_from_desc(&c->ldtr, sel, lo, hi);
}

void exec_LTR(Cpu *c, const Insn *in)
{
    need_pmode(c);
    need_cpl0(c);
    uint16_t sel = opnd_read(c, in, 0);
    if ((sel & 0xfffc) == 0) cpu_fault(c, EXC_GP, 0);
    uint32_t lo, hi, addr;
    if ((sel & 4) || !desc_fetch(c, sel, &lo, &hi, &addr)) cpu_fault(c, EXC_GP, sel & 0xfffc);
    uint32_t f = (hi >> 8) & 0xff;
    unsigned type = f & (SEGF_S | SEGF_TYPE_MASK);
    if (type != 0x1 && type != 0x9) cpu_fault(c, EXC_GP, sel & 0xfffc); /* available TSS */
    if (!(f & SEGF_P)) cpu_fault(c, EXC_NP, sel & 0xfffc);
    hi |= 0x2u << 8; /* mark the TSS busy in the GDT */
    lin_write32(c, addr + 4, hi, true);
    seg_cache_from_desc(&c->tr, sel, lo, hi);
}

void exec_SLDT(Cpu *c, const Insn *in)
{
    need_pmode(c);
    opnd_write(c, in, 0, c->ldtr.sel); /* register form zero-extends */
}

void exec_STR(Cpu *c, const Insn *in)
{
    need_pmode(c);
    opnd_write(c, in, 0, c->tr.sel);
}

/* ---- selector probes ---- */

/* System descriptor types LAR accepts (TSSs, LDT, call/task gates) and LSL accepts
 * (TSSs and LDT only: gates have no limit). */
static bool lar_sys_type(unsigned t)
{
    return t == 1 || t == 2 || t == 3 || t == 4 || t == 5 || t == 9 || t == 0xb || t == 0xc;
}
static bool lsl_sys_type(unsigned t) { return t == 1 || t == 2 || t == 3 || t == 9 || t == 0xb; }

/* Common part of LAR/LSL: the descriptor when the selector passes, else false. */
static bool probe_desc(Cpu *c, uint16_t sel, bool lsl, uint32_t *lo, uint32_t *hi)
{
    uint32_t addr;
    if ((sel & 0xfffc) == 0 || !desc_fetch(c, sel, lo, hi, &addr)) return false;
    uint32_t f = (*hi >> 8) & 0xff;
    if (!(f & SEGF_S)) {
        unsigned t = f & SEGF_TYPE_MASK;
        if (lsl ? !lsl_sys_type(t) : !lar_sys_type(t)) return false;
    }
    return desc_visible(c, sel, *hi);
}

void exec_LAR(Cpu *c, const Insn *in)
{
    need_pmode(c);
    uint16_t sel = opnd_read(c, in, 1);
    uint32_t lo, hi;
    if (!probe_desc(c, sel, false, &lo, &hi)) {
        set_zf(c, false);
        return;
    }
    opnd_write(c, in, 0, hi & (in->op[0].size == 2 ? 0xff00u : 0x00ffff00u));
    set_zf(c, true);
}

void exec_LSL(Cpu *c, const Insn *in)
{
    need_pmode(c);
    uint16_t sel = opnd_read(c, in, 1);
    uint32_t lo, hi;
    if (!probe_desc(c, sel, true, &lo, &hi)) {
        set_zf(c, false);
        return;
    }
    opnd_write(c, in, 0, desc_limit(lo, hi)); /* truncated for 16-bit operands */
    set_zf(c, true);
}

/* VERR (write=false) / VERW (write=true): is the segment readable/writable at CPL? */
static void verify_seg(Cpu *c, const Insn *in, bool write)
{
    need_pmode(c);
    uint16_t sel = opnd_read(c, in, 0);
    uint32_t lo, hi, addr;
    bool ok = false;
    if ((sel & 0xfffc) != 0 && desc_fetch(c, sel, &lo, &hi, &addr)) {
        uint32_t f = (hi >> 8) & 0xff;
        if (f & SEGF_S) {
            bool code = f & SEGF_CODE;
            if (write)
                ok = !code && (f & SEGF_RW);
            else
                ok = !code || (f & SEGF_RW);
            ok = ok && desc_visible(c, sel, hi);
        }
    }
    set_zf(c, ok);
}

void exec_VERR(Cpu *c, const Insn *in) { verify_seg(c, in, false); }
void exec_VERW(Cpu *c, const Insn *in) { verify_seg(c, in, true); }

void exec_ARPL(Cpu *c, const Insn *in)
{
    need_pmode(c);
    uint32_t d = opnd_read(c, in, 0);
    uint32_t s = opnd_read(c, in, 1);
    if ((d & 3) < (s & 3)) {
        opnd_write(c, in, 0, (d & ~3u) | (s & 3));
        set_zf(c, true);
    } else {
        set_zf(c, false);
    }
}

/* ---- control registers ---- */

/* The CR4 bits this CPU accepts: each must be backed by what CPUID.1:EDX says. TSD and
 * PCE have no CPUID bit of their own (TSD goes with TSC; PCE gates RDPMC). */
static uint32_t cr4_valid(const Cpu *c)
{
    uint32_t r[4];
    cpuid_query(c, 1, 0, r);
    uint32_t edx = r[3], ok = CR4_PCE;
    if (edx & (1u << 1)) ok |= CR4_VME | CR4_PVI;
    if (edx & (1u << 2)) ok |= CR4_DE;
    if (edx & (1u << 3)) ok |= CR4_PSE;
    if (edx & (1u << 4)) ok |= CR4_TSD;
    if (edx & (1u << 6)) ok |= CR4_PAE;
    if (edx & (1u << 7)) ok |= CR4_MCE;
    if (edx & (1u << 13)) ok |= CR4_PGE;
    if (edx & (1u << 24)) ok |= CR4_OSFXSR;
    if (edx & (1u << 25)) ok |= CR4_OSXMMEXCPT;
    return ok;
}

static void cr_write(Cpu *c, unsigned n, uint32_t v)
{
    switch (n) {
    case 0: {
        v = (v & CR0_VALID) | CR0_ET;
        if ((v & CR0_PG) && !(v & CR0_PE)) cpu_fault(c, EXC_GP, 0);
        if ((v & CR0_NW) && !(v & CR0_CD)) cpu_fault(c, EXC_GP, 0);
        uint32_t old = c->cr[0];
        /* PAE paging in use afterwards and PG/CD/NW changing: load the PDPTEs (SDM
         * vol. 3 4.4.1); a reserved bit faults before CR0 changes */
        if ((v & CR0_PG) && (c->cr[4] & CR4_PAE) && ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW)) &&
            !mmu_load_pdptes(c, c->cr[3]))
            cpu_fault(c, EXC_GP, 0);
        c->cr[0] = v;
        if ((old ^ v) & (CR0_PG | CR0_WP)) mmu_flush(c);
        break;
    }
    case 2:
        c->cr[2] = v;
        break;
    case 3:
        /* kept whole: bits 31:12 (31:5 with PAE) are the table base, PCD/PWT are
         * stored, the rest is ignored; with PAE paging the PDPTEs are loaded now */
        if ((c->cr[0] & CR0_PG) && (c->cr[4] & CR4_PAE) && !mmu_load_pdptes(c, v))
            cpu_fault(c, EXC_GP, 0);
        c->cr[3] = v;
        mmu_flush_nonglobal(c);
        break;
    case 4: {
        if (v & ~cr4_valid(c)) cpu_fault(c, EXC_GP, 0);
        uint32_t old = c->cr[4];
        if ((c->cr[0] & CR0_PG) && (v & CR4_PAE) && ((old ^ v) & (CR4_PAE | CR4_PGE | CR4_PSE)) &&
            !mmu_load_pdptes(c, c->cr[3]))
            cpu_fault(c, EXC_GP, 0);
        c->cr[4] = v;
        if ((old ^ v) & (CR4_PSE | CR4_PGE | CR4_PAE)) mmu_flush(c);
        break;
    }
    default:
        fault_ud(c);
    }
}

void exec_MOV_CR(Cpu *c, const Insn *in)
{
    unsigned n = in->op[0].reg;
    if (n == 1 || n > 4) fault_ud(c);
    need_cpl0(c);
    cr_write(c, n, c->regs[in->op[1].reg & 7]);
}

void exec_MOV_RC(Cpu *c, const Insn *in)
{
    unsigned n = in->op[1].reg;
    if (n == 1 || n > 4) fault_ud(c);
    need_cpl0(c);
    c->regs[in->op[0].reg & 7] = c->cr[n];
}

void exec_LMSW(Cpu *c, const Insn *in)
{
    need_cpl0(c);
    uint32_t v = opnd_read(c, in, 0);
    uint32_t old = c->cr[0];
    /* loads MP EM TS; PE can be set but not cleared */
    c->cr[0] = (old & ~0xeu) | (v & 0xeu) | ((old | v) & CR0_PE);
}

void exec_SMSW(Cpu *c, const Insn *in)
{
    opnd_write(c, in, 0, c->cr[0]); /* memory: 16 bits; register: operand size */
}

void exec_CLTS(Cpu *c, const Insn *in)
{
    (void)in;
    need_cpl0(c);
    c->cr[0] &= ~CR0_TS;
}

/* ---- debug registers ---- */

/* Returns the register number actually meant (DR4/5 alias DR6/7 unless CR4.DE). */
static unsigned dr_access(Cpu *c, unsigned n)
{
    need_cpl0(c);
    if (n == 4 || n == 5) {
        if (c->cr[4] & CR4_DE) fault_ud(c);
        n += 2;
    }
    if (c->dr[7] & DR7_GD) {
        /* general detect: #DB before the access, with GD cleared for the handler */
        c->dr[6] |= DR6_BD;
        c->dr[7] &= ~DR7_GD;
        cpu_fault(c, EXC_DB, EXC_NO_ERRCODE);
    }
    return n;
}

void exec_MOV_DR(Cpu *c, const Insn *in)
{
    unsigned n = dr_access(c, in->op[0].reg & 7);
    uint32_t v = c->regs[in->op[1].reg & 7];
    if (n == 6)
        v = (v & 0x0000e00fu) | 0xffff0ff0u; /* B0-B3 BD BS BT; the rest fixed */
    else if (n == 7)
        v = (v & 0xffff23ffu) | 0x00000400u; /* bit 10 reads 1; 11, 12, 14, 15 read 0 */
    c->dr[n] = v;
    if (n == 7) debug_update(c);
}

void exec_MOV_RD(Cpu *c, const Insn *in)
{
    unsigned n = dr_access(c, in->op[1].reg & 7);
    c->regs[in->op[0].reg & 7] = c->dr[n];
}

/* ---- TLB and cache control ---- */

void exec_INVLPG(Cpu *c, const Insn *in)
{
    if (in->op[0].kind != OPK_MEM) fault_ud(c);
    need_cpl0(c);
    mmu_invlpg(c, c->seg[in->seg].base + opnd_ea(c, in));
}

void exec_INVD(Cpu *c, const Insn *in)
{
    (void)in;
    need_cpl0(c); /* no caches are modelled */
}

void exec_WBINVD(Cpu *c, const Insn *in)
{
    (void)in;
    need_cpl0(c);
}

void exec_HLT(Cpu *c, const Insn *in)
{
    (void)in;
    need_cpl0(c);
    c->halted = true;
}

/* ---- MSRs ---- */

/* The index into msr_mtrr_fixed for a fixed-range MTRR, or -1. */
static int mtrr_fixed_index(uint32_t idx)
{
    if (idx == 0x250) return 0;
    if (idx == 0x258) return 1;
    if (idx == 0x259) return 2;
    if (idx >= 0x268 && idx <= 0x26f) return 3 + (int)(idx - 0x268);
    return -1;
}

/* Memory types valid in MTRRs: UC WC WT WP WB. */
static bool mtrr_type_ok(unsigned t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }

/* Every byte a valid MTRR type (fixed MTRRs) or PAT type (PAT adds UC- = 7). */
static bool bytes_types_ok(uint64_t v, bool pat)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (v >> (8 * i)) & 0xff;
        if (!(mtrr_type_ok(t) || (pat && t == 7))) return false;
    }
    return true;
}

static bool msr_read(Cpu *c, uint32_t idx, uint64_t *v)
{
    int fi;
    switch (idx) {
    case 0x10: *v = cpu_tsc(c); return true;
    case 0x17: *v = 0; return true;        /* IA32_PLATFORM_ID */
    case 0x1b: *v = c->msr_apic_base; return true;
    case 0x8b: *v = 0; return true;        /* IA32_BIOS_SIGN_ID: microcode revision 0 */
    case 0xfe: *v = MTRRCAP_VALUE; return true;
    case 0x174: *v = c->msr_sysenter_cs; return true;
    case 0x175: *v = c->msr_sysenter_esp; return true;
    case 0x176: *v = c->msr_sysenter_eip; return true;
    case 0x1a0: *v = c->msr_misc_enable; return true;
    case 0x277: *v = c->msr_pat_xor ^ PAT_RESET; return true;
    case 0x2ff: *v = c->msr_mtrr_deftype; return true;
    case 0xc0000080u: *v = c->msr_efer; return true;
    }
    if (idx >= 0x200 && idx <= 0x20f) {
        *v = c->msr_mtrr_var[idx - 0x200];
        return true;
    }
    if ((fi = mtrr_fixed_index(idx)) >= 0) {
        *v = c->msr_mtrr_fixed[fi];
        return true;
    }
    return false;
}

static bool msr_write(Cpu *c, uint32_t idx, uint64_t v)
{
    int fi;
    switch (idx) {
    case 0x10:
        /* P6 family: only the low 32 bits are written, the high half is cleared
         * (SDM vol. 3, time-stamp counter); the counter keeps ticking from there */
        c->tsc_offset += (uint32_t)v - cpu_tsc(c);
        return true;
    case 0x1b:
        /* BSP (bit 8, read-only here), global enable (11), base (12-31) */
        if (v & ~0xfffff900ull) return false;
        c->msr_apic_base = (v & ~0x100ull) | (c->msr_apic_base & 0x100);
        /* the APIC itself (un)maps its page, and a disabled one passes the 8259 through */
        if (c->apic_base_write) c->apic_base_write(c->apic, c->msr_apic_base);
        return true;
    case 0x8b: return true; /* writing 0 before CPUID is the documented way to read it */
    case 0x174: c->msr_sysenter_cs = (uint32_t)v; return true;
    case 0x175: c->msr_sysenter_esp = (uint32_t)v; return true;
    case 0x176: c->msr_sysenter_eip = (uint32_t)v; return true;
    case 0x1a0: c->msr_misc_enable = v; return true;
    case 0x277:
        if (!bytes_types_ok(v, true)) return false;
        c->msr_pat_xor = v ^ PAT_RESET;
        return true;
    case 0xc0000080u:
        /* IA32_EFER: only NXE exists (no SYSCALL, no long mode: SCE, LME, LMA #GP);
         * NXE changes what bit 63 of PAE entries means, so cached translations go */
        if (v & ~EFER_NXE) return false;
        if ((v ^ c->msr_efer) & EFER_NXE) mmu_flush(c);
        c->msr_efer = v;
        return true;
    case 0x2ff:
        /* type (0-7), FE (10), E (11) */
        if ((v & ~0xcffull) || !mtrr_type_ok(v & 0xff)) return false;
        c->msr_mtrr_deftype = v;
        return true;
    }
    if (idx >= 0x200 && idx <= 0x20f) {
        if (idx & 1) {
            /* PHYSMASK: valid (11), mask (12-35) */
            if (v & ~(PHYS_ADDR_MASK & ~0x7ffull)) return false;
        } else {
            /* PHYSBASE: type (0-7), base (12-35) */
            if ((v & ~(PHYS_ADDR_MASK & ~0xf00ull)) || !mtrr_type_ok(v & 0xff)) return false;
        }
        c->msr_mtrr_var[idx - 0x200] = v;
        return true;
    }
    if ((fi = mtrr_fixed_index(idx)) >= 0) {
        if (!bytes_types_ok(v, false)) return false;
        c->msr_mtrr_fixed[fi] = v;
        return true;
    }
    return false; /* unknown, or read-only (0x17, 0xFE) */
}

void exec_RDMSR(Cpu *c, const Insn *in)
{
    (void)in;
    need_cpl0(c);
    uint64_t v;
    if (!msr_read(c, c->regs[R_ECX], &v)) cpu_fault(c, EXC_GP, 0);
    c->regs[R_EAX] = (uint32_t)v;
    c->regs[R_EDX] = (uint32_t)(v >> 32);
}

void exec_WRMSR(Cpu *c, const Insn *in)
{
    (void)in;
    need_cpl0(c);
    uint64_t v = (uint64_t)c->regs[R_EDX] << 32 | c->regs[R_EAX];
    if (!msr_write(c, c->regs[R_ECX], v)) cpu_fault(c, EXC_GP, 0);
}

/* ---- time stamp, counters, identification ---- */

uint64_t cpu_tsc(const Cpu *c)
{
    uint64_t t = c->bus.now_ns ? c->bus.now_ns(c->bus.opaque) : c->icount;
    return t + c->tsc_offset;
}

void exec_RDTSC(Cpu *c, const Insn *in)
{
    (void)in;
    if ((c->cr[4] & CR4_TSD) && cpu_pe(c) && (c->cpl != 0 || cpu_vm86(c)))
        cpu_fault(c, EXC_GP, 0);
    uint64_t t = cpu_tsc(c);
    c->regs[R_EAX] = (uint32_t)t;
    c->regs[R_EDX] = (uint32_t)(t >> 32);
}

void exec_RDPMC(Cpu *c, const Insn *in)
{
    (void)in;
    /* without CR4.PCE only CPL 0 may read counters, and no counter ECX can name
     * exists here: an invalid counter is #GP(0) on real CPUs too */
    cpu_fault(c, EXC_GP, 0);
}

void exec_CPUID(Cpu *c, const Insn *in)
{
    (void)in;
    uint32_t r[4];
    cpuid_query(c, c->regs[R_EAX], c->regs[R_ECX], r);
    c->regs[R_EAX] = r[0];
    c->regs[R_EBX] = r[1];
    c->regs[R_ECX] = r[2];
    c->regs[R_EDX] = r[3];
}

/* ---- fast system calls ---- */

/* The flat 4 GiB segments SYSENTER/SYSEXIT load without reading any descriptor. */
static void flat_seg(SegCache *s, uint16_t sel, unsigned dpl, bool code)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->flags = SEGF_P | SEGF_S | SEGF_RW | SEGF_ACCESSED | SEGF_DB | SEGF_G |
               (code ? SEGF_CODE : 0) | dpl << SEGF_DPL_SHIFT;
}

void exec_SYSENTER(Cpu *c, const Insn *in)
{
    (void)in;
    uint16_t cs = (uint16_t)c->msr_sysenter_cs;
    if (!cpu_pe(c) || (cs & 0xfffc) == 0) cpu_fault(c, EXC_GP, 0);
    c->eflags &= ~(FL_VM | FL_IF | FL_RF);
    flat_seg(&c->seg[SEG_CS], cs & 0xfffc, 0, true);
    flat_seg(&c->seg[SEG_SS], (cs + 8) & 0xfffc, 0, false);
    c->cpl = 0;
    c->regs[R_ESP] = (uint32_t)c->msr_sysenter_esp;
    c->eip = (uint32_t)c->msr_sysenter_eip;
}

void exec_SYSEXIT(Cpu *c, const Insn *in)
{
    (void)in;
    uint16_t cs = (uint16_t)c->msr_sysenter_cs;
    if (!cpu_pe(c) || cpu_vm86(c) || c->cpl != 0 || (cs & 0xfffc) == 0)
        cpu_fault(c, EXC_GP, 0);
    flat_seg(&c->seg[SEG_CS], (cs + 16) | 3, 3, true);
    flat_seg(&c->seg[SEG_SS], (cs + 24) | 3, 3, false);
    c->cpl = 3;
    c->regs[R_ESP] = c->regs[R_ECX];
    c->eip = c->regs[R_EDX];
}

/* ---- instructions that only fault (for now) ---- */

void exec_RSM(Cpu *c, const Insn *in)
{
    (void)in;
    fault_ud(c); /* there is no system management mode */
}

void exec_UD(Cpu *c, const Insn *in)
{
    /* -d unimp: an opcode this CPU does not have (or does not have yet) */
    if (c->log_flags & LOG_UNIMP)
        fprintf(c->log_file ? (FILE *)c->log_file : stderr,
                "undefined opcode %s%02x (map %d) at %04x:%08x\n", in->map ? "0f " : "",
                in->opcode, in->map, c->seg[SEG_CS].sel, c->insn_eip);
    fault_ud(c);
}

void exec_UD2(Cpu *c, const Insn *in)
{
    (void)in;
    fault_ud(c);
}

/* exec_SSE (MMX/SSE/SSE2, FXSAVE/FXRSTOR...) lives in exec_sse.c */
