/*
 * cpuid.c — what CPUID reports: a family 6 model 3 stepping 3 "GenuineIntel" part
 * (the EDX value at reset matches leaf 1's EAX) that advertises only features the
 * emulator implements and tests. exec_system.c derives the CR4 bits it accepts from
 * leaf 1 EDX, so the two cannot disagree.
 *
 * Leaf 1 EDX advertises:
 *   FPU  (bit 0)  the x87, executed on the host's x87 (fpu.c, exec_fpu.c); with CMOV
 *                 this also means FCMOVcc and FCOMI/FUCOMI (P6).
 *   DE   (bit 2)  CR4.DE: MOV DR4/DR5 raise #UD (exec_system.c), R/W=10 breakpoints
 *                 watch I/O ports (debug.c).
 *   PSE  (bit 3)  CR4.PSE 4 MiB pages (mmu.c).
 *   TSC  (bit 4)  RDTSC and CR4.TSD (exec_system.c).
 *   MSR  (bit 5)  RDMSR/WRMSR (exec_system.c).
 *   PAE  (bit 6)  CR4.PAE: PAE paging with PDPTE registers and 2 MiB pages (mmu.c).
 *   CX8  (bit 8)  CMPXCHG8B (interpreter).
 *   SEP  (bit 11) SYSENTER/SYSEXIT and their MSRs (exec_system.c).
 *   MTRR (bit 12) MTRRcap/variable/fixed/defType MSRs: stored and checked, no effect
 *                 (the emulator does not model caches).
 *   PGE  (bit 13) CR4.PGE: global pages survive CR3 writes in the TLB (mmu.c).
 *   CMOV (bit 15) CMOVcc (interpreter).
 *   MMX  (bit 23), FXSR (bit 24), SSE (bit 25), SSE2 (bit 26): executed on the host
 *                 (exec_sse.c); FXSR also lets CR4.OSFXSR/OSXMMEXCPT be set.
 * Leaf 1 ECX advertises:
 *   SSE3 (bit 0)  ADDSUBPx HADDPx HSUBPx MOVSHDUP MOVSLDUP MOVDDUP LDDQU (exec_sse.c) and
 *                 FISTTP (exec_fpu.c), run on the host: set when the host has SSE3
 *                 (every x86-64 CPU since 2005), else the instructions are #UD too.
 *                 Not MONITOR/MWAIT (bit 3, as QEMU's qemu32/qemu64 models): 0F 01 C8/C9
 *                 are #UD.
 * Leaf 0x80000001 EDX advertises NX (bit 20): IA32_EFER.NXE and the XD bit of PAE
 * entries (exec_system.c, mmu.c). No SYSCALL, no long mode.
 * Not advertised: VME (virtual-8086 mode works without it; CR4.VME/PVI are #GP),
 * MONITOR/MWAIT, MCE/MCA,
 * PAT (the MSR exists, but model 3 had no PAT), CLFLUSH, PSE-36.
 * APIC (bit 9) is reported only when the board wired a local APIC (Cpu.apic_base_write
 * set: devices/apic.c behind IA32_APIC_BASE) and IA32_APIC_BASE has it enabled; a bare
 * CPU has none.
 */
#include "cpu/interp.h"
#include "cpu/sse.h"

#define FEAT_FPU (1u << 0)
#define FEAT_DE (1u << 2)
#define FEAT_PSE (1u << 3)
#define FEAT_TSC (1u << 4)
#define FEAT_MSR (1u << 5)
#define FEAT_PAE (1u << 6)
#define FEAT_CX8 (1u << 8)
#define FEAT_APIC (1u << 9)
#define FEAT_SEP (1u << 11)
#define FEAT_MTRR (1u << 12)
#define FEAT_PGE (1u << 13)
#define FEAT_CMOV (1u << 15)
#define FEAT_MMX (1u << 23)
#define FEAT_FXSR (1u << 24)
#define FEAT_SSE (1u << 25)
#define FEAT_SSE2 (1u << 26)
#define FEAT_ECX_SSE3 (1u << 0)
#define EXT_FEAT_NX (1u << 20) /* leaf 0x80000001 EDX */

#define CPUID_MAX_BASIC 1u
#define CPUID_MAX_EXT 0x80000004u
#define CPUID_SIGNATURE 0x00000633u /* family 6, model 3, stepping 3 */

/* Four little-endian ASCII characters as one register value. */
static uint32_t str4(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
           (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

void cpuid_query(const Cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    /* 48 bytes, NUL padded; leaves 0x80000002..4 return 16 bytes each */
    static const char brand[48] = "dbt86 CPU";
    (void)subleaf;
    out[0] = out[1] = out[2] = out[3] = 0;
    /* Intel: a leaf above the basic or extended maximum returns the highest basic
     * leaf's data (SDM vol. 2, CPUID) */
    if ((leaf > CPUID_MAX_BASIC && leaf < 0x80000000u) || leaf > CPUID_MAX_EXT)
        leaf = CPUID_MAX_BASIC;
    switch (leaf) {
    case 0:
        out[0] = CPUID_MAX_BASIC;
        out[1] = str4("Genu");
        out[3] = str4("ineI");
        out[2] = str4("ntel");
        break;
    case 1:
        out[0] = CPUID_SIGNATURE;
        out[1] = 0; /* brand index 0, no CLFLUSH size, APIC ID 0 */
        out[2] = sse_host_has_sse3() ? FEAT_ECX_SSE3 : 0;
        out[3] = FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_PAE | FEAT_CX8 | FEAT_SEP |
                 FEAT_MTRR | FEAT_PGE | FEAT_CMOV | FEAT_MMX | FEAT_FXSR | FEAT_SSE | FEAT_SSE2;
        /* a globally disabled APIC (IA32_APIC_BASE bit 11 clear) is not reported
         * either (SDM vol. 3, 10.4.3) */
        if (c->apic_base_write && (c->msr_apic_base & 0x800)) out[3] |= FEAT_APIC;
        break;
    case 0x80000000u:
        out[0] = CPUID_MAX_EXT;
        break;
    case 0x80000001u:
        out[3] = EXT_FEAT_NX; /* no SYSCALL, no long mode */
        break;
    case 0x80000002u:
    case 0x80000003u:
    case 0x80000004u: {
        const char *p = brand + (leaf - 0x80000002u) * 16;
        for (int i = 0; i < 4; i++) out[i] = str4(p + 4 * i);
        break;
    }
    default:
        break;
    }
}
