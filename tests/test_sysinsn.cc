// test_sysinsn.cc — system instructions, port I/O, CPUID and MSRs (exec_system.c,
// exec_io.c, cpuid.c). Instructions are built as Insns and run through their handlers
// under a setjmp on c->fault_jmp, so a fault shows up as the vector and error code
// cpu_fault() recorded, independent of how exceptions are delivered.
#include <gtest/gtest.h>

#include <csetjmp>
#include <string>

#include "cpu_harness.h"

extern "C" {
#include "cpu/sse.h"
}

namespace {

struct Result {
    bool fault;
    int vector;
    uint32_t err;
};

constexpr Result OK = {false, -1, 0};

bool operator==(const Result &a, const Result &b)
{
    return a.fault == b.fault && a.vector == b.vector && a.err == b.err;
}

std::ostream &operator<<(std::ostream &o, const Result &r)
{
    if (!r.fault) return o << "no fault";
    return o << "fault " << r.vector << " err " << std::hex << r.err;
}

Result Fault(int v, uint32_t err = EXC_NO_ERRCODE) { return {true, v, err}; }

// Runs one handler as cpu_step would: EIP already past the instruction.
Result run(Cpu *c, ExecFn fn, const Insn &in)
{
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    c->eip += in.len;
    if (setjmp(c->fault_jmp)) return {true, c->pending_vector, c->pending_errcode};
    fn(c, &in);
    return OK;
}

Insn mk(unsigned opsize = 4, unsigned addrsize = 4)
{
    Insn in;
    memset(&in, 0, sizeof(in));
    in.opsize = opsize;
    in.addrsize = addrsize;
    in.seg = SEG_DS;
    in.ea_base = -1;
    in.ea_index = -1;
    return in;
}

Insn &op(Insn &in, int n, OpKind kind, int reg, int size)
{
    in.op[n].kind = kind;
    in.op[n].reg = reg;
    in.op[n].size = size;
    if (in.nops < n + 1) in.nops = n + 1;
    return in;
}

// Memory operand [disp] (absolute) of `size` bytes.
Insn &memop(Insn &in, int n, uint32_t disp, int size)
{
    in.disp = (int32_t)disp;
    return op(in, n, OPK_MEM, 0, size);
}

// Protected mode CPL 3 with flat ring-3 segments (the tests only care about CPL).
void user_mode(CpuHarness &h)
{
    h.flat32();
    h.c->cpl = 3;
    for (int s = 0; s < SEG_COUNT; s++) {
        h.c->seg[s].sel |= 3;
        h.c->seg[s].flags |= 3u << SEGF_DPL_SHIFT;
    }
}

void vm86_mode(CpuHarness &h)
{
    h.flat32();
    h.c->eflags |= FL_VM;
    h.c->cpl = 3;
}

// ---- RDMSR/WRMSR helpers ----
Result rdmsr(CpuHarness &h, uint32_t idx, uint64_t *v)
{
    h.c->regs[R_ECX] = idx;
    h.c->regs[R_EAX] = h.c->regs[R_EDX] = 0xdeadbeef;
    Result r = run(h.c, exec_RDMSR, mk());
    *v = (uint64_t)h.c->regs[R_EDX] << 32 | h.c->regs[R_EAX];
    return r;
}

Result wrmsr(CpuHarness &h, uint32_t idx, uint64_t v)
{
    h.c->regs[R_ECX] = idx;
    h.c->regs[R_EAX] = (uint32_t)v;
    h.c->regs[R_EDX] = (uint32_t)(v >> 32);
    return run(h.c, exec_WRMSR, mk());
}

uint64_t msr(CpuHarness &h, uint32_t idx)
{
    uint64_t v;
    EXPECT_EQ(rdmsr(h, idx, &v), OK) << "msr " << std::hex << idx;
    return v;
}

void cpuid(CpuHarness &h, uint32_t leaf, uint32_t r[4])
{
    h.c->regs[R_EAX] = leaf;
    h.c->regs[R_ECX] = 0;
    ASSERT_EQ(run(h.c, exec_CPUID, mk()), OK);
    r[0] = h.c->regs[R_EAX];
    r[1] = h.c->regs[R_EBX];
    r[2] = h.c->regs[R_ECX];
    r[3] = h.c->regs[R_EDX];
}

std::string regs_str(const uint32_t *r, int n)
{
    std::string s;
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 4; b++) {
            char ch = (char)(r[i] >> (8 * b));
            if (ch) s += ch;
        }
    return s;
}

// MOV CRn, EAX / MOV EAX, CRn
Result mov_cr(CpuHarness &h, int n, uint32_t v)
{
    Insn in = mk();
    op(in, 0, OPK_CREG, n, 4);
    op(in, 1, OPK_REG, R_EAX, 4);
    h.c->regs[R_EAX] = v;
    return run(h.c, exec_MOV_CR, in);
}

Result mov_rc(CpuHarness &h, int n, uint32_t *v)
{
    Insn in = mk();
    op(in, 0, OPK_REG, R_EBX, 4);
    op(in, 1, OPK_CREG, n, 4);
    Result r = run(h.c, exec_MOV_RC, in);
    *v = h.c->regs[R_EBX];
    return r;
}

Result mov_dr(CpuHarness &h, int n, uint32_t v)
{
    Insn in = mk();
    op(in, 0, OPK_DREG, n, 4);
    op(in, 1, OPK_REG, R_EAX, 4);
    h.c->regs[R_EAX] = v;
    return run(h.c, exec_MOV_DR, in);
}

Result mov_rd(CpuHarness &h, int n, uint32_t *v)
{
    Insn in = mk();
    op(in, 0, OPK_REG, R_EBX, 4);
    op(in, 1, OPK_DREG, n, 4);
    Result r = run(h.c, exec_MOV_RD, in);
    *v = h.c->regs[R_EBX];
    return r;
}


} // namespace

// ---------------------------------------------------------------- CPUID

TEST(Cpuid, VendorAndMaxLeaves)
{
    CpuHarness h;
    uint32_t r[4];
    cpuid(h, 0, r);
    EXPECT_EQ(r[0], 1u);
    uint32_t vendor[3] = {r[1], r[3], r[2]};
    EXPECT_EQ(regs_str(vendor, 3), "GenuineIntel");
    cpuid(h, 0x80000000u, r);
    EXPECT_EQ(r[0], 0x80000004u);
    cpuid(h, 0x80000001u, r);
    EXPECT_EQ(r[0] | r[1] | r[2], 0u);
    EXPECT_EQ(r[3], 1u << 20); // NX only (test_mmu.cc)
}

TEST(Cpuid, SignatureAndFeatures)
{
    CpuHarness h;
    cpu_reset(h.c);
    uint32_t reset_edx = h.c->regs[R_EDX];
    uint32_t r[4];
    cpuid(h, 1, r);
    EXPECT_EQ(r[0], 0x633u);
    EXPECT_EQ(r[0], reset_edx); // EDX at reset is the CPUID signature
    EXPECT_EQ(r[1], 0u);
    EXPECT_EQ(r[2], sse_host_has_sse3() ? 1u : 0u); // SSE3 (with the host's); no MONITOR
    // FPU DE PSE TSC MSR PAE CX8 SEP MTRR PGE CMOV MMX FXSR SSE SSE2; no VME, APIC
    EXPECT_EQ(r[3], 0x0780b97du);
}

TEST(Cpuid, BrandString)
{
    CpuHarness h;
    uint32_t all[12];
    for (uint32_t i = 0; i < 3; i++) cpuid(h, 0x80000002u + i, all + 4 * i);
    EXPECT_EQ(regs_str(all, 12), "dbt86 CPU");
    EXPECT_EQ(all[0], 0x38746264u); // "dbt8" little-endian
    EXPECT_EQ(all[11], 0u);
}

TEST(Cpuid, OutOfRangeLeavesReturnHighestBasic)
{
    CpuHarness h;
    uint32_t one[4], r[4];
    cpuid(h, 1, one);
    for (uint32_t leaf : {2u, 0x40000000u, 0x7fffffffu, 0x80000005u, 0xffffffffu}) {
        cpuid(h, leaf, r);
        for (int i = 0; i < 4; i++) EXPECT_EQ(r[i], one[i]) << std::hex << leaf;
    }
}

TEST(Cpuid, AvailableAtCpl3)
{
    CpuHarness h;
    user_mode(h);
    uint32_t r[4];
    cpuid(h, 0, r);
    EXPECT_EQ(r[0], 1u);
}

// ---------------------------------------------------------------- MSRs

TEST(Msr, ResetValues)
{
    CpuHarness h;
    cpu_reset(h.c);
    EXPECT_EQ(msr(h, 0x277), 0x0007040600070406ull); // PAT
    EXPECT_EQ(msr(h, 0x1b), 0xfee00900ull);          // APIC base, BSP, enabled
    EXPECT_EQ(msr(h, 0x17), 0ull);                   // platform ID
    EXPECT_EQ(msr(h, 0xfe), 0x508ull);               // MTRRcap: WC, FIX, 8 ranges
    EXPECT_EQ(msr(h, 0x2ff), 0ull);
    EXPECT_EQ(msr(h, 0x174), 0ull);
}

TEST(Msr, SysenterRoundTrip)
{
    CpuHarness h;
    EXPECT_EQ(wrmsr(h, 0x174, 0x10), OK);
    EXPECT_EQ(wrmsr(h, 0x175, 0xc0001000), OK);
    EXPECT_EQ(wrmsr(h, 0x176, 0xc0100000), OK);
    EXPECT_EQ(msr(h, 0x174), 0x10ull);
    EXPECT_EQ(msr(h, 0x175), 0xc0001000ull);
    EXPECT_EQ(msr(h, 0x176), 0xc0100000ull);
    EXPECT_EQ(h.c->msr_sysenter_eip, 0xc0100000ull);
}

TEST(Msr, UnknownAndReadOnlyFault)
{
    CpuHarness h;
    uint64_t v;
    EXPECT_EQ(rdmsr(h, 0x3a, &v), Fault(EXC_GP, 0));
    EXPECT_EQ(rdmsr(h, 0xc0000081u, &v), Fault(EXC_GP, 0)); // STAR: no SYSCALL
    EXPECT_EQ(wrmsr(h, 0x3a, 0), Fault(EXC_GP, 0));
    EXPECT_EQ(wrmsr(h, 0xfe, 0), Fault(EXC_GP, 0));  // MTRRcap is read-only
    EXPECT_EQ(wrmsr(h, 0x17, 0), Fault(EXC_GP, 0));  // platform ID is read-only
    EXPECT_EQ(rdmsr(h, 0x210, &v), Fault(EXC_GP, 0)); // only 8 variable MTRRs
    // the registers are unchanged by a faulting RDMSR
    EXPECT_EQ(h.c->regs[R_EAX], 0xdeadbeefu);
}

TEST(Msr, PrivilegeChecks)
{
    CpuHarness h;
    uint64_t v;
    user_mode(h);
    EXPECT_EQ(rdmsr(h, 0x10, &v), Fault(EXC_GP, 0));
    EXPECT_EQ(wrmsr(h, 0x174, 8), Fault(EXC_GP, 0));
    EXPECT_EQ(h.c->msr_sysenter_cs, 0ull);
    CpuHarness v86;
    vm86_mode(v86);
    EXPECT_EQ(rdmsr(v86, 0x10, &v), Fault(EXC_GP, 0));
}

TEST(Msr, PatChecksTypes)
{
    CpuHarness h;
    EXPECT_EQ(wrmsr(h, 0x277, 0x0007010600070406ull), OK);
    EXPECT_EQ(msr(h, 0x277), 0x0007010600070406ull);
    EXPECT_EQ(wrmsr(h, 0x277, 0x0007040600070402ull), Fault(EXC_GP, 0)); // type 2
    EXPECT_EQ(wrmsr(h, 0x277, 0x0007040600070416ull), Fault(EXC_GP, 0)); // reserved bit
    EXPECT_EQ(msr(h, 0x277), 0x0007010600070406ull);
    cpu_reset(h.c);
    EXPECT_EQ(msr(h, 0x277), 0x0007040600070406ull);
}

TEST(Msr, Mtrrs)
{
    CpuHarness h;
    // variable range 0: 0-128 MiB write-back
    EXPECT_EQ(wrmsr(h, 0x200, 0x00000006ull), OK);
    EXPECT_EQ(wrmsr(h, 0x201, 0xff8000800ull), OK);
    EXPECT_EQ(msr(h, 0x200), 6ull);
    EXPECT_EQ(msr(h, 0x201), 0xff8000800ull);
    EXPECT_EQ(wrmsr(h, 0x20e, 0x12345000ull | 1), OK);
    EXPECT_EQ(msr(h, 0x20e), 0x12345001ull);
    EXPECT_EQ(wrmsr(h, 0x202, 0x3ull), Fault(EXC_GP, 0));          // invalid type
    EXPECT_EQ(wrmsr(h, 0x202, 0x100ull), Fault(EXC_GP, 0));        // reserved bit 8
    EXPECT_EQ(wrmsr(h, 0x202, 0x1000000000ull), Fault(EXC_GP, 0)); // beyond 36 bits
    EXPECT_EQ(wrmsr(h, 0x203, 0x400ull), Fault(EXC_GP, 0));        // mask bit 10
    // fixed ranges
    uint32_t fixed[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
                        0x26c, 0x26d, 0x26e, 0x26f};
    const uint64_t types[5] = {0, 1, 4, 5, 6};
    auto fixed_val = [&](uint32_t i) {
        return 0x0605040100060000ull | types[i % 5] << 8 | types[(i + 2) % 5];
    };
    for (uint32_t i = 0; i < 11; i++) EXPECT_EQ(wrmsr(h, fixed[i], fixed_val(i)), OK);
    for (uint32_t i = 0; i < 11; i++) EXPECT_EQ(msr(h, fixed[i]), fixed_val(i));
    EXPECT_EQ(h.c->msr_mtrr_fixed[10], 0x0605040100060004ull);
    EXPECT_EQ(wrmsr(h, 0x250, 0x0606060606060607ull), Fault(EXC_GP, 0)); // UC- not in MTRRs
    EXPECT_EQ(wrmsr(h, 0x251, 0), Fault(EXC_GP, 0));
    // default type: E | FE | WB
    EXPECT_EQ(wrmsr(h, 0x2ff, 0xc06), OK);
    EXPECT_EQ(msr(h, 0x2ff), 0xc06ull);
    EXPECT_EQ(wrmsr(h, 0x2ff, 0x1006), Fault(EXC_GP, 0));
}

TEST(Msr, ApicBaseAndMiscEnable)
{
    CpuHarness h;
    EXPECT_EQ(wrmsr(h, 0x1b, 0xfec00000ull), OK); // move and disable; BSP stays
    EXPECT_EQ(msr(h, 0x1b), 0xfec00100ull);
    EXPECT_EQ(wrmsr(h, 0x1b, 0xfee00801ull), Fault(EXC_GP, 0)); // reserved bit 0
    EXPECT_EQ(wrmsr(h, 0x1a0, 0x1ull), OK);
    EXPECT_EQ(msr(h, 0x1a0), 1ull);
    EXPECT_EQ(wrmsr(h, 0x8b, 0), OK); // BIOS_SIGN_ID: write 0, read revision
    EXPECT_EQ(msr(h, 0x8b), 0ull);
}

// ---------------------------------------------------------------- TSC

namespace {
uint64_t fake_ns;
uint64_t fake_now(void *) { return fake_ns; }

uint64_t rdtsc(CpuHarness &h, Result *r)
{
    *r = run(h.c, exec_RDTSC, mk());
    return (uint64_t)h.c->regs[R_EDX] << 32 | h.c->regs[R_EAX];
}
} // namespace

TEST(Tsc, CountsInstructionsWithoutClock)
{
    CpuHarness h;
    Result r;
    h.c->icount = 100;
    EXPECT_EQ(rdtsc(h, &r), 100ull);
    h.c->icount = 150;
    EXPECT_EQ(rdtsc(h, &r), 150ull);
    EXPECT_EQ(wrmsr(h, 0x10, 0xfffffff0ull), OK);
    EXPECT_EQ(rdtsc(h, &r), 0xfffffff0ull);
    EXPECT_EQ(msr(h, 0x10), 0xfffffff0ull);
    h.c->icount += 0x17;
    EXPECT_EQ(rdtsc(h, &r), 0x100000007ull); // carries into EDX
    // P6: WRMSR writes the low 32 bits and clears the high half
    EXPECT_EQ(wrmsr(h, 0x10, 0x0000000500000009ull), OK);
    EXPECT_EQ(rdtsc(h, &r), 9ull);
    EXPECT_EQ(r, OK);
}

TEST(Tsc, FollowsVirtualNanoseconds)
{
    CpuHarness h;
    h.c->bus.now_ns = fake_now;
    Result r;
    fake_ns = 5000;
    EXPECT_EQ(rdtsc(h, &r), 5000ull);
    uint64_t prev = 0;
    for (int i = 0; i < 10; i++) {
        fake_ns += 1000;
        uint64_t t = rdtsc(h, &r);
        EXPECT_GT(t, prev);
        prev = t;
    }
    EXPECT_EQ(prev, 15000ull);
    EXPECT_EQ(wrmsr(h, 0x10, 1), OK);
    EXPECT_EQ(h.c->tsc_offset, (uint64_t)(1 - 15000));
    fake_ns += 10;
    EXPECT_EQ(rdtsc(h, &r), 11ull);
}

TEST(Tsc, TimeStampDisable)
{
    CpuHarness h;
    Result r;
    user_mode(h);
    rdtsc(h, &r);
    EXPECT_EQ(r, OK); // CR4.TSD clear: any CPL
    h.c->cr[4] |= CR4_TSD;
    h.c->regs[R_EAX] = 0x1234;
    rdtsc(h, &r);
    EXPECT_EQ(r, Fault(EXC_GP, 0));
    EXPECT_EQ(h.c->regs[R_EAX], 0x1234u);
    h.c->cpl = 0;
    rdtsc(h, &r);
    EXPECT_EQ(r, OK);
    CpuHarness v86;
    vm86_mode(v86);
    v86.c->cr[4] |= CR4_TSD;
    rdtsc(v86, &r);
    EXPECT_EQ(r, Fault(EXC_GP, 0));
}

TEST(Tsc, RdpmcFaults)
{
    CpuHarness h;
    h.flat32();
    h.c->regs[R_ECX] = 0;
    EXPECT_EQ(run(h.c, exec_RDPMC, mk()), Fault(EXC_GP, 0));
    h.c->cr[4] |= CR4_PCE;
    h.c->cpl = 3;
    EXPECT_EQ(run(h.c, exec_RDPMC, mk()), Fault(EXC_GP, 0));
}

// ---------------------------------------------------------------- control registers

TEST(ControlRegs, Cr0Writes)
{
    CpuHarness h;
    uint32_t v;
    EXPECT_EQ(mov_rc(h, 0, &v), OK);
    EXPECT_EQ(v, 0x60000010u); // reset: CD NW ET
    EXPECT_EQ(mov_cr(h, 0, 0x80000000u), Fault(EXC_GP, 0)); // PG without PE
    EXPECT_EQ(mov_cr(h, 0, 0x20000001u), Fault(EXC_GP, 0)); // NW without CD
    EXPECT_EQ(h.c->cr[0], 0x60000010u);
    // reserved bits are ignored and ET reads 1
    EXPECT_EQ(mov_cr(h, 0, 0x0000ffc1u), OK);
    EXPECT_EQ(h.c->cr[0], 0x00000011u);
    EXPECT_EQ(mov_cr(h, 0, 0xe005002fu), OK);
    EXPECT_EQ(h.c->cr[0], 0xe005003fu);
    EXPECT_EQ(mov_cr(h, 0, 0x00000001u), OK); // paging off again
    EXPECT_EQ(h.c->cr[0], 0x00000011u);
}

TEST(ControlRegs, Cr2Cr3Cr4)
{
    CpuHarness h;
    uint32_t v;
    EXPECT_EQ(mov_cr(h, 2, 0xdeadbeefu), OK);
    EXPECT_EQ(mov_rc(h, 2, &v), OK);
    EXPECT_EQ(v, 0xdeadbeefu);
    EXPECT_EQ(mov_cr(h, 3, 0x12345fffu), OK);
    EXPECT_EQ(h.c->cr[3], 0x12345fffu); // kept whole (PAE uses bits 31:5)
    EXPECT_EQ(mov_cr(h, 4, CR4_PSE | CR4_PGE | CR4_TSD | CR4_DE | CR4_PCE), OK);
    EXPECT_EQ(h.c->cr[4], CR4_PSE | CR4_PGE | CR4_TSD | CR4_DE | CR4_PCE);
    for (uint32_t bad : {1u << 0, 1u << 1, 1u << 6, 1u << 11, 1u << 20}) {
        EXPECT_EQ(mov_cr(h, 4, bad), Fault(EXC_GP, 0)) << std::hex << bad;
    }
    EXPECT_EQ(h.c->cr[4], CR4_PSE | CR4_PGE | CR4_TSD | CR4_DE | CR4_PCE);
    // OSFXSR (9) and OSXMMEXCPT (10) are accepted now that CPUID has FXSR and SSE
    EXPECT_EQ(mov_cr(h, 4, CR4_OSFXSR | CR4_OSXMMEXCPT), OK);
    EXPECT_EQ(h.c->cr[4], CR4_OSFXSR | CR4_OSXMMEXCPT);
}

TEST(ControlRegs, Cr4BitsMatchCpuid)
{
    // every CR4 feature bit with a CPUID flag is accepted exactly when advertised
    CpuHarness h;
    uint32_t r[4];
    cpuid(h, 1, r);
    struct { uint32_t cr4, feat; } map[] = {
        {1u << 0, 1u << 1}, {1u << 3, 1u << 2}, {1u << 4, 1u << 3}, {1u << 5, 1u << 6},
        {1u << 6, 1u << 7}, {1u << 7, 1u << 13}, {1u << 9, 1u << 24}, {1u << 10, 1u << 25},
    };
    for (auto m : map) {
        Result res = mov_cr(h, 4, m.cr4);
        EXPECT_EQ(res.fault, !(r[3] & m.feat)) << std::hex << m.cr4;
    }
}

TEST(ControlRegs, InvalidRegistersAndPrivilege)
{
    CpuHarness h;
    uint32_t v;
    for (int n : {1, 5, 6, 7}) {
        EXPECT_EQ(mov_cr(h, n, 0), Fault(EXC_UD));
        EXPECT_EQ(mov_rc(h, n, &v), Fault(EXC_UD));
    }
    user_mode(h);
    EXPECT_EQ(mov_cr(h, 0, 0x11), Fault(EXC_GP, 0));
    EXPECT_EQ(mov_rc(h, 3, &v), Fault(EXC_GP, 0));
    EXPECT_EQ(run(h.c, exec_CLTS, mk()), Fault(EXC_GP, 0));
    CpuHarness v86;
    vm86_mode(v86);
    EXPECT_EQ(mov_rc(v86, 0, &v), Fault(EXC_GP, 0));
}

TEST(ControlRegs, LmswSmswClts)
{
    CpuHarness h;
    h.c->cr[0] = CR0_ET | CR0_PE | CR0_TS;
    Insn lmsw = mk(2);
    op(lmsw, 0, OPK_REG, R_EAX, 2);
    h.c->regs[R_EAX] = 0xfff6; // PE=0 (ignored), MP=1 EM=1 TS=0, upper bits ignored
    EXPECT_EQ(run(h.c, exec_LMSW, lmsw), OK);
    EXPECT_EQ(h.c->cr[0], CR0_ET | CR0_PE | CR0_MP | CR0_EM);
    // real mode LMSW can set PE
    CpuHarness r;
    r.c->regs[R_EAX] = 0x0009;
    EXPECT_EQ(run(r.c, exec_LMSW, lmsw), OK);
    EXPECT_EQ(r.c->cr[0], 0x60000010u | CR0_PE | CR0_TS);
    EXPECT_EQ(run(r.c, exec_CLTS, mk()), OK);
    EXPECT_EQ(r.c->cr[0], 0x60000010u | CR0_PE);
    // SMSW: register with 32-bit operand gets all of CR0, memory gets 16 bits
    Insn smsw = mk(4);
    op(smsw, 0, OPK_REG, R_EDX, 4);
    EXPECT_EQ(run(r.c, exec_SMSW, smsw), OK);
    EXPECT_EQ(r.c->regs[R_EDX], 0x60000011u);
    Insn smsw_m = mk(4);
    memop(smsw_m, 0, 0x2000, 2);
    r.wr32(0x2000, 0xaaaaaaaau);
    EXPECT_EQ(run(r.c, exec_SMSW, smsw_m), OK);
    EXPECT_EQ(r.rd32(0x2000), 0xaaaa0011u);
    // SMSW is not privileged, LMSW is
    user_mode(r);
    EXPECT_EQ(run(r.c, exec_SMSW, smsw), OK);
    EXPECT_EQ(run(r.c, exec_LMSW, lmsw), Fault(EXC_GP, 0));
}

// ---------------------------------------------------------------- debug registers

TEST(DebugRegs, FixedBitsAndAliases)
{
    CpuHarness h;
    uint32_t v;
    EXPECT_EQ(mov_rd(h, 6, &v), OK);
    EXPECT_EQ(v, 0xffff0ff0u);
    EXPECT_EQ(mov_rd(h, 7, &v), OK);
    EXPECT_EQ(v, 0x00000400u);
    EXPECT_EQ(mov_dr(h, 6, 0), OK);
    EXPECT_EQ(h.c->dr[6], 0xffff0ff0u);
    EXPECT_EQ(mov_dr(h, 6, 0xffffffffu), OK);
    EXPECT_EQ(h.c->dr[6], 0xffffefffu);
    EXPECT_EQ(h.c->dr[6] & (1u << 12), 0u);
    EXPECT_EQ(mov_dr(h, 7, 0), OK);
    EXPECT_EQ(h.c->dr[7], 0x400u);
    EXPECT_EQ(mov_dr(h, 7, 0xffffdbffu), OK);
    EXPECT_EQ(h.c->dr[7], 0xffff07ffu);
    EXPECT_EQ(mov_dr(h, 2, 0x12345678u), OK);
    EXPECT_EQ(h.c->dr[2], 0x12345678u);
    // DR4/DR5 alias DR6/DR7 without CR4.DE
    EXPECT_EQ(mov_dr(h, 5, 0x1), OK);
    EXPECT_EQ(h.c->dr[7], 0x401u);
    EXPECT_EQ(mov_rd(h, 4, &v), OK);
    EXPECT_EQ(v, h.c->dr[6]);
    h.c->cr[4] |= CR4_DE;
    EXPECT_EQ(mov_rd(h, 4, &v), Fault(EXC_UD));
    EXPECT_EQ(mov_dr(h, 5, 0), Fault(EXC_UD));
    EXPECT_EQ(mov_rd(h, 7, &v), OK);
}

TEST(DebugRegs, GeneralDetectAndPrivilege)
{
    CpuHarness h;
    uint32_t v;
    EXPECT_EQ(mov_dr(h, 7, 1u << 13), OK);
    EXPECT_EQ(mov_rd(h, 0, &v), Fault(EXC_DB));
    EXPECT_EQ(h.c->dr[6] & (1u << 13), 1u << 13); // BD
    EXPECT_EQ(h.c->dr[7] & (1u << 13), 0u);       // GD cleared for the handler
    EXPECT_EQ(mov_rd(h, 0, &v), OK);
    user_mode(h);
    EXPECT_EQ(mov_rd(h, 0, &v), Fault(EXC_GP, 0));
}

// ---------------------------------------------------------------- descriptor tables

TEST(DescTables, LgdtSgdt32)
{
    CpuHarness h;
    h.wr32(0x3000, 0x5678ffffu); // limit ffff, base 0x12345678
    h.wr32(0x3004, 0x00001234u);
    Insn lg = mk(4);
    memop(lg, 0, 0x3000, 6);
    EXPECT_EQ(run(h.c, exec_LGDT, lg), OK);
    EXPECT_EQ(h.c->gdtr.limit, 0xffffu);
    EXPECT_EQ(h.c->gdtr.base, 0x12345678u);
    Insn sg = mk(4);
    memop(sg, 0, 0x3100, 6);
    h.wr32(0x3104, 0xaaaaaaaau);
    EXPECT_EQ(run(h.c, exec_SGDT, sg), OK);
    EXPECT_EQ(h.rd32(0x3100), 0x5678ffffu);
    EXPECT_EQ(h.rd32(0x3104), 0xaaaa1234u); // only 6 bytes written
}

TEST(DescTables, LidtSidt16)
{
    CpuHarness h;
    h.wr32(0x3000, 0x567803ffu);
    h.wr32(0x3004, 0x00001234u);
    Insn li = mk(2, 2);
    memop(li, 0, 0x3000, 6);
    EXPECT_EQ(run(h.c, exec_LIDT, li), OK);
    EXPECT_EQ(h.c->idtr.limit, 0x3ffu);
    EXPECT_EQ(h.c->idtr.base, 0x00345678u); // 24 bits with a 16-bit operand
    h.c->idtr.base = 0xfedcba98u;
    Insn si = mk(2, 2);
    memop(si, 0, 0x3100, 6);
    h.wr32(0x3104, 0xaaaaaaaau);
    EXPECT_EQ(run(h.c, exec_SIDT, si), OK);
    EXPECT_EQ(h.rd32(0x3100), 0xba9803ffu);
    EXPECT_EQ(h.rd32(0x3104), 0xaaaa00dcu); // high base byte stored as 0
    Insn si32 = mk(4, 2);
    memop(si32, 0, 0x3100, 6);
    EXPECT_EQ(run(h.c, exec_SIDT, si32), OK);
    EXPECT_EQ(h.rd32(0x3104), 0xaaaafedcu);
}

TEST(DescTables, PrivilegeAndLimit)
{
    CpuHarness h;
    user_mode(h);
    Insn lg = mk(4);
    memop(lg, 0, 0x3000, 6);
    EXPECT_EQ(run(h.c, exec_LGDT, lg), Fault(EXC_GP, 0));
    EXPECT_EQ(run(h.c, exec_LIDT, lg), Fault(EXC_GP, 0));
    EXPECT_EQ(run(h.c, exec_SGDT, lg), OK); // SGDT is not privileged (no UMIP)
    EXPECT_EQ(h.rd32(0x3000), 0x05000017u);
    // real mode: the 6-byte operand must fit the 64 KiB segment
    CpuHarness r;
    Insn lr = mk(2, 2);
    memop(lr, 0, 0xfffc, 6);
    EXPECT_EQ(run(r.c, exec_LGDT, lr), Fault(EXC_GP, 0));
    EXPECT_EQ(run(r.c, exec_SGDT, lr), Fault(EXC_GP, 0));
    EXPECT_EQ(r.rd32(0xfffc), 0u); // nothing partially written
}

// ---------------------------------------------------------------- LDTR / TR / probes

namespace {
// A GDT at 0x600 with assorted descriptors.
enum : uint16_t {
    S_CODE0 = 0x08,   // code, DPL 0, readable
    S_DATA0 = 0x10,   // data, DPL 0, writable
    S_DATA3 = 0x18,   // data, DPL 3, writable
    S_RODATA3 = 0x20, // data, DPL 3, read-only
    S_XCODE3 = 0x28,  // code, DPL 3, execute-only
    S_CONF0 = 0x30,   // conforming readable code, DPL 0
    S_LDT = 0x38,     // LDT at 0x2000, limit 0x0f
    S_TSS = 0x40,     // available 32-bit TSS at 0x4000
    S_NPLDT = 0x48,   // not-present LDT
    S_GATE = 0x50,    // 32-bit call gate, DPL 3
    S_TSS16 = 0x58,   // available 16-bit TSS
    S_BIGDATA = 0x60, // data DPL 3 G=1, limit 0xfffff -> 0xffffffff
    S_INTGATE = 0x68, // interrupt gate (not accepted by LAR)
    GDT_LIMIT = 0x6f,
};

void setup_gdt(CpuHarness &h)
{
    h.flat32();
    uint32_t g = 0x600;
    h.put_desc(g + 0x00, 0, 0, 0);
    h.put_desc(g + S_CODE0, 0x10000, 0xffff, SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW);
    h.put_desc(g + S_DATA0, 0x20000, 0x1fff, SEGF_P | SEGF_S | SEGF_RW | SEGF_DB);
    h.put_desc(g + S_DATA3, 0x30000, 0x2fff, SEGF_P | SEGF_S | SEGF_RW | (3 << 5));
    h.put_desc(g + S_RODATA3, 0x40000, 0x0fff, SEGF_P | SEGF_S | (3 << 5));
    h.put_desc(g + S_XCODE3, 0x50000, 0x0fff, SEGF_P | SEGF_S | SEGF_CODE | (3 << 5));
    h.put_desc(g + S_CONF0, 0, 0xffff, SEGF_P | SEGF_S | SEGF_CODE | SEGF_DC | SEGF_RW);
    h.put_desc(g + S_LDT, 0x2000, 0x0f, SEGF_P | 0x2);
    h.put_desc(g + S_TSS, 0x4000, 0x2067, SEGF_P | 0x9);
    h.put_desc(g + S_NPLDT, 0x2000, 0x0f, 0x2);
    h.put_desc(g + S_GATE, 0x0008, 0x1234, SEGF_P | 0xc | (3 << 5));
    h.put_desc(g + S_TSS16, 0x4800, 0x2b, SEGF_P | 0x1);
    h.put_desc(g + S_BIGDATA, 0, 0xfffff, SEGF_P | SEGF_S | SEGF_RW | SEGF_G | (3 << 5));
    h.put_desc(g + S_INTGATE, 0x0008, 0x1234, SEGF_P | 0xe);
    h.c->gdtr.base = g;
    h.c->gdtr.limit = GDT_LIMIT;
}

Result sel_insn(CpuHarness &h, ExecFn fn, uint16_t sel)
{
    Insn in = mk(2);
    op(in, 0, OPK_REG, R_EAX, 2);
    h.c->regs[R_EAX] = sel;
    return run(h.c, fn, in);
}

// LAR/LSL EBX(or BX), AX: returns ZF, the destination in *out
bool probe(CpuHarness &h, ExecFn fn, uint16_t sel, uint32_t *out, unsigned size = 4)
{
    Insn in = mk(size);
    op(in, 0, OPK_REG, R_EBX, size);
    op(in, 1, OPK_REG, R_EAX, 2);
    h.c->regs[R_EAX] = sel;
    h.c->regs[R_EBX] = 0xcccccccc;
    h.c->eflags &= ~FL_ZF;
    Result r = run(h.c, fn, in);
    EXPECT_EQ(r, OK);
    *out = h.c->regs[R_EBX];
    return h.c->eflags & FL_ZF;
}

// VERR/VERW AX: the resulting ZF, which must not depend on ZF before
bool verify(CpuHarness &h, ExecFn fn, uint16_t sel)
{
    h.c->eflags |= FL_ZF;
    EXPECT_EQ(sel_insn(h, fn, sel), OK);
    bool from_set = h.c->eflags & FL_ZF;
    h.c->eflags &= ~FL_ZF;
    EXPECT_EQ(sel_insn(h, fn, sel), OK);
    bool from_clear = h.c->eflags & FL_ZF;
    EXPECT_EQ(from_set, from_clear);
    return from_clear;
}
} // namespace

TEST(Selectors, LldtLoadsAndChecks)
{
    CpuHarness h;
    setup_gdt(h);
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_LDT), OK);
    EXPECT_EQ(h.c->ldtr.sel, S_LDT);
    EXPECT_EQ(h.c->ldtr.base, 0x2000u);
    EXPECT_EQ(h.c->ldtr.limit, 0x0fu);
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_DATA0), Fault(EXC_GP, S_DATA0));
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_TSS), Fault(EXC_GP, S_TSS));
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_NPLDT | 3), Fault(EXC_NP, S_NPLDT));
    EXPECT_EQ(sel_insn(h, exec_LLDT, 0x70), Fault(EXC_GP, 0x70)); // beyond the GDT
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_LDT | 4), Fault(EXC_GP, S_LDT | 4)); // TI=1
    EXPECT_EQ(h.c->ldtr.sel, S_LDT);
    EXPECT_EQ(sel_insn(h, exec_LLDT, 0x0003), OK); // null: allowed, LDT unusable
    EXPECT_EQ(h.c->ldtr.sel, 3u);
    EXPECT_EQ(h.c->ldtr.flags & SEGF_P, 0u);
    // SLDT
    Insn s = mk(4);
    op(s, 0, OPK_REG, R_ECX, 4);
    h.c->regs[R_ECX] = 0xffffffff;
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_LDT), OK);
    EXPECT_EQ(run(h.c, exec_SLDT, s), OK);
    EXPECT_EQ(h.c->regs[R_ECX], (uint32_t)S_LDT);
}

TEST(Selectors, LtrSetsBusy)
{
    CpuHarness h;
    setup_gdt(h);
    EXPECT_EQ(sel_insn(h, exec_LTR, 0), Fault(EXC_GP, 0));
    EXPECT_EQ(sel_insn(h, exec_LTR, S_LDT), Fault(EXC_GP, S_LDT));
    EXPECT_EQ(sel_insn(h, exec_LTR, S_TSS), OK);
    EXPECT_EQ(h.c->tr.sel, S_TSS);
    EXPECT_EQ(h.c->tr.base, 0x4000u);
    EXPECT_EQ(h.c->tr.limit, 0x2067u);
    EXPECT_EQ(h.c->tr.flags & 0xf, 0xbu);
    EXPECT_EQ((h.rd32(0x600 + S_TSS + 4) >> 8) & 0xf, 0xbu); // busy in the GDT
    // loading a busy TSS faults
    EXPECT_EQ(sel_insn(h, exec_LTR, S_TSS), Fault(EXC_GP, S_TSS));
    // not present
    h.put_desc(0x600 + S_TSS16, 0x4800, 0x2b, 0x1);
    EXPECT_EQ(sel_insn(h, exec_LTR, S_TSS16), Fault(EXC_NP, S_TSS16));
    Insn s = mk(2);
    memop(s, 0, 0x3000, 2);
    EXPECT_EQ(run(h.c, exec_STR, s), OK);
    EXPECT_EQ(h.rd32(0x3000) & 0xffff, (uint32_t)S_TSS);
    // CPL 3 and real mode
    h.c->cpl = 3;
    EXPECT_EQ(sel_insn(h, exec_LTR, S_TSS16), Fault(EXC_GP, 0));
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_LDT), Fault(EXC_GP, 0));
    CpuHarness r;
    EXPECT_EQ(sel_insn(r, exec_LTR, S_TSS), Fault(EXC_UD));
    EXPECT_EQ(sel_insn(r, exec_LLDT, S_LDT), Fault(EXC_UD));
    EXPECT_EQ(run(r.c, exec_STR, s), Fault(EXC_UD));
}

TEST(Selectors, LarLsl)
{
    CpuHarness h;
    setup_gdt(h);
    uint32_t v;
    EXPECT_TRUE(probe(h, exec_LAR, S_DATA0, &v));
    EXPECT_EQ(v, 0x00409200u); // P DPL0 S type 2, D/B
    EXPECT_TRUE(probe(h, exec_LSL, S_DATA0, &v));
    EXPECT_EQ(v, 0x1fffu);
    EXPECT_TRUE(probe(h, exec_LSL, S_BIGDATA | 3, &v));
    EXPECT_EQ(v, 0xffffffffu); // scaled by G
    EXPECT_TRUE(probe(h, exec_LAR, S_BIGDATA, &v, 2));
    EXPECT_EQ(v, 0xccccf200u); // 16-bit: only the access byte
    EXPECT_TRUE(probe(h, exec_LAR, S_TSS, &v));
    EXPECT_EQ(v, 0x00008900u);
    EXPECT_TRUE(probe(h, exec_LSL, S_TSS, &v));
    EXPECT_EQ(v, 0x2067u);
    EXPECT_TRUE(probe(h, exec_LAR, S_GATE, &v));  // call gate: LAR yes
    EXPECT_FALSE(probe(h, exec_LSL, S_GATE, &v)); // LSL no
    EXPECT_EQ(v, 0xccccccccu);                    // destination unchanged
    EXPECT_FALSE(probe(h, exec_LAR, S_INTGATE, &v));
    EXPECT_FALSE(probe(h, exec_LAR, 0, &v));     // null
    EXPECT_FALSE(probe(h, exec_LAR, 0x70, &v));  // beyond the GDT limit
    h.put_desc(0x8, 0, 0xffff, SEGF_P | SEGF_S | SEGF_RW | (3 << 5));
    EXPECT_FALSE(probe(h, exec_LAR, 0x0c, &v));  // no LDT loaded since reset
    EXPECT_TRUE(probe(h, exec_LAR, S_NPLDT, &v)); // present bit not checked
    // privilege: at CPL 3 a DPL 0 segment is invisible, a conforming one is not
    h.c->cpl = 3;
    EXPECT_FALSE(probe(h, exec_LAR, S_DATA0, &v));
    EXPECT_TRUE(probe(h, exec_LSL, S_CONF0, &v));
    EXPECT_EQ(v, 0xffffu);
    EXPECT_TRUE(probe(h, exec_LSL, S_DATA3 | 3, &v));
    EXPECT_EQ(v, 0x2fffu);
    // RPL above DPL
    h.c->cpl = 0;
    h.put_desc(0x600 + S_DATA3, 0x30000, 0x2fff, SEGF_P | SEGF_S | SEGF_RW | (1 << 5));
    EXPECT_FALSE(probe(h, exec_LSL, S_DATA3 | 2, &v));
    EXPECT_TRUE(probe(h, exec_LSL, S_DATA3 | 1, &v));
    // real mode: #UD
    CpuHarness r;
    Insn in = mk(4);
    op(in, 0, OPK_REG, R_EBX, 4);
    op(in, 1, OPK_REG, R_EAX, 2);
    EXPECT_EQ(run(r.c, exec_LAR, in), Fault(EXC_UD));
    EXPECT_EQ(run(r.c, exec_LSL, in), Fault(EXC_UD));
}

TEST(Selectors, LarUsesLdt)
{
    CpuHarness h;
    setup_gdt(h);
    EXPECT_EQ(sel_insn(h, exec_LLDT, S_LDT), OK);
    h.put_desc(0x2008, 0x1000, 0x0abc, SEGF_P | SEGF_S | SEGF_RW | (3 << 5));
    uint32_t v;
    EXPECT_TRUE(probe(h, exec_LSL, 0x0c | 3, &v));
    EXPECT_EQ(v, 0x0abcu);
    EXPECT_FALSE(probe(h, exec_LSL, 0x14, &v)); // beyond the LDT limit (0x0f)
    EXPECT_EQ(sel_insn(h, exec_LLDT, 0), OK);
    EXPECT_FALSE(probe(h, exec_LSL, 0x0c, &v)); // null LDT: no LDT selectors
}

TEST(Selectors, VerrVerw)
{
    CpuHarness h;
    setup_gdt(h);
    EXPECT_TRUE(verify(h, exec_VERR, S_DATA0));
    EXPECT_TRUE(verify(h, exec_VERW, S_DATA0));
    EXPECT_TRUE(verify(h, exec_VERR, S_CODE0));  // readable code
    EXPECT_FALSE(verify(h, exec_VERW, S_CODE0)); // code is never writable
    EXPECT_FALSE(verify(h, exec_VERR, S_XCODE3)); // execute-only
    EXPECT_TRUE(verify(h, exec_VERR, S_RODATA3));
    EXPECT_FALSE(verify(h, exec_VERW, S_RODATA3));
    EXPECT_FALSE(verify(h, exec_VERR, S_TSS)); // system segments never
    EXPECT_FALSE(verify(h, exec_VERR, 0));
    EXPECT_FALSE(verify(h, exec_VERW, 0x1000)); // beyond the GDT: ZF=0, no fault
    h.c->cpl = 3;
    EXPECT_FALSE(verify(h, exec_VERR, S_DATA0));
    EXPECT_TRUE(verify(h, exec_VERR, S_CONF0)); // conforming: no privilege check
    EXPECT_TRUE(verify(h, exec_VERW, S_DATA3 | 3));
    CpuHarness v86;
    vm86_mode(v86);
    EXPECT_EQ(sel_insn(v86, exec_VERR, S_DATA0), Fault(EXC_UD));
}

TEST(Selectors, Arpl)
{
    CpuHarness h;
    h.flat32();
    Insn in = mk(2);
    op(in, 0, OPK_REG, R_EAX, 2);
    op(in, 1, OPK_REG, R_ECX, 2);
    h.c->regs[R_EAX] = 0xaaaa0010;
    h.c->regs[R_ECX] = 0x0000ff02;
    EXPECT_EQ(run(h.c, exec_ARPL, in), OK);
    EXPECT_EQ(h.c->regs[R_EAX], 0xaaaa0012u);
    EXPECT_TRUE(h.c->eflags & FL_ZF);
    h.c->regs[R_ECX] = 0x1;
    EXPECT_EQ(run(h.c, exec_ARPL, in), OK);
    EXPECT_EQ(h.c->regs[R_EAX], 0xaaaa0012u);
    EXPECT_FALSE(h.c->eflags & FL_ZF);
    CpuHarness r;
    EXPECT_EQ(run(r.c, exec_ARPL, in), Fault(EXC_UD));
    CpuHarness v86;
    vm86_mode(v86);
    EXPECT_EQ(run(v86.c, exec_ARPL, in), Fault(EXC_UD));
}

// ---------------------------------------------------------------- HLT, SYSENTER, misc

TEST(Misc, Hlt)
{
    CpuHarness h;
    EXPECT_EQ(run(h.c, exec_HLT, mk()), OK);
    EXPECT_TRUE(h.c->halted);
    CpuHarness u;
    user_mode(u);
    EXPECT_EQ(run(u.c, exec_HLT, mk()), Fault(EXC_GP, 0));
    EXPECT_FALSE(u.c->halted);
}

TEST(Misc, SysenterSysexit)
{
    CpuHarness h;
    user_mode(h);
    h.c->eflags |= FL_IF;
    h.c->eip = 0x401000;
    EXPECT_EQ(run(h.c, exec_SYSENTER, mk()), Fault(EXC_GP, 0)); // SYSENTER_CS = 0
    h.c->msr_sysenter_cs = 0x10;
    h.c->msr_sysenter_esp = 0xc0008000;
    h.c->msr_sysenter_eip = 0xc0100000;
    EXPECT_EQ(run(h.c, exec_SYSENTER, mk()), OK);
    EXPECT_EQ(h.c->cpl, 0);
    EXPECT_EQ(h.c->seg[SEG_CS].sel, 0x10);
    EXPECT_EQ(h.c->seg[SEG_SS].sel, 0x18);
    EXPECT_EQ(h.c->seg[SEG_CS].flags & (SEGF_CODE | SEGF_DPL_MASK | SEGF_DB | SEGF_G),
              SEGF_CODE | SEGF_DB | SEGF_G);
    EXPECT_EQ(h.c->seg[SEG_SS].limit, 0xffffffffu);
    EXPECT_EQ(h.c->eip, 0xc0100000u);
    EXPECT_EQ(h.c->regs[R_ESP], 0xc0008000u);
    EXPECT_FALSE(h.c->eflags & FL_IF);
    h.c->regs[R_ECX] = 0xbffff000;
    h.c->regs[R_EDX] = 0x401234;
    EXPECT_EQ(run(h.c, exec_SYSEXIT, mk()), OK);
    EXPECT_EQ(h.c->cpl, 3);
    EXPECT_EQ(h.c->seg[SEG_CS].sel, 0x23);
    EXPECT_EQ(h.c->seg[SEG_SS].sel, 0x2b);
    EXPECT_EQ((h.c->seg[SEG_CS].flags & SEGF_DPL_MASK) >> SEGF_DPL_SHIFT, 3u);
    EXPECT_EQ(h.c->eip, 0x401234u);
    EXPECT_EQ(h.c->regs[R_ESP], 0xbffff000u);
    EXPECT_EQ(run(h.c, exec_SYSEXIT, mk()), Fault(EXC_GP, 0)); // CPL 3
    CpuHarness r;
    r.c->msr_sysenter_cs = 0x10;
    EXPECT_EQ(run(r.c, exec_SYSENTER, mk()), Fault(EXC_GP, 0)); // real mode
}

TEST(Misc, FaultOnlyInstructions)
{
    CpuHarness h;
    EXPECT_EQ(run(h.c, exec_UD2, mk()), Fault(EXC_UD));
    EXPECT_EQ(run(h.c, exec_UD, mk()), Fault(EXC_UD));
    EXPECT_EQ(run(h.c, exec_RSM, mk()), Fault(EXC_UD));
    EXPECT_EQ(run(h.c, exec_SSE, mk()), Fault(EXC_UD));
    EXPECT_EQ(run(h.c, exec_FPU, mk()), Fault(EXC_UD));
    EXPECT_EQ(run(h.c, exec_WAIT, mk()), OK);
    h.c->cr[0] |= CR0_TS;
    EXPECT_EQ(run(h.c, exec_WAIT, mk()), OK); // TS without MP
    EXPECT_EQ(run(h.c, exec_FPU, mk()), Fault(EXC_NM));
    h.c->cr[0] |= CR0_MP;
    EXPECT_EQ(run(h.c, exec_WAIT, mk()), Fault(EXC_NM));
    h.c->cr[0] &= ~(CR0_TS | CR0_MP);
    h.c->cr[0] |= CR0_EM;
    EXPECT_EQ(run(h.c, exec_FPU, mk()), Fault(EXC_NM));
    EXPECT_EQ(run(h.c, exec_WAIT, mk()), OK);
}

TEST(Misc, CacheAndTlbControl)
{
    CpuHarness h;
    Insn inv = mk();
    memop(inv, 0, 0x1234, 1);
    EXPECT_EQ(run(h.c, exec_INVLPG, inv), OK);
    EXPECT_EQ(run(h.c, exec_INVD, mk()), OK);
    EXPECT_EQ(run(h.c, exec_WBINVD, mk()), OK);
    user_mode(h);
    EXPECT_EQ(run(h.c, exec_INVLPG, inv), Fault(EXC_GP, 0));
    EXPECT_EQ(run(h.c, exec_INVD, mk()), Fault(EXC_GP, 0));
    EXPECT_EQ(run(h.c, exec_WBINVD, mk()), Fault(EXC_GP, 0));
}

// ---------------------------------------------------------------- port I/O

namespace {
Insn in_insn(unsigned size, bool dx, uint8_t port = 0)
{
    Insn in = mk(size == 2 ? 2 : 4);
    op(in, 0, OPK_REG, R_EAX, size);
    if (dx) {
        op(in, 1, OPK_REG, R_EDX, 2);
    } else {
        in.imm = port;
        op(in, 1, OPK_IMM, 0, 1);
    }
    return in;
}

Insn out_insn(unsigned size, bool dx, uint8_t port = 0)
{
    Insn in = mk(size == 2 ? 2 : 4);
    if (dx) {
        op(in, 0, OPK_REG, R_EDX, 2);
    } else {
        in.imm = port;
        op(in, 0, OPK_IMM, 0, 1);
    }
    op(in, 1, OPK_REG, R_EAX, size);
    return in;
}

Insn str_insn(unsigned size, unsigned addrsize, bool rep, int seg = SEG_DS)
{
    Insn in = mk(4, addrsize);
    in.op[0].size = size;
    in.seg = seg;
    if (rep) in.prefixes |= PFX_REP;
    return in;
}
} // namespace

TEST(PortIo, InOut)
{
    CpuHarness h;
    h.io_read_value = 0x12345678;
    h.c->regs[R_EAX] = 0xaaaaaaaa;
    EXPECT_EQ(run(h.c, exec_IN, in_insn(1, false, 0x60)), OK);
    EXPECT_EQ(h.c->regs[R_EAX], 0xaaaaaa78u);
    h.c->regs[R_EDX] = 0xffff01f0;
    EXPECT_EQ(run(h.c, exec_IN, in_insn(2, true)), OK);
    EXPECT_EQ(h.c->regs[R_EAX], 0xaaaa5678u);
    EXPECT_EQ(run(h.c, exec_IN, in_insn(4, true)), OK);
    EXPECT_EQ(h.c->regs[R_EAX], 0x12345678u);
    h.c->regs[R_EAX] = 0xcafebabe;
    EXPECT_EQ(run(h.c, exec_OUT, out_insn(1, false, 0x80)), OK);
    EXPECT_EQ(run(h.c, exec_OUT, out_insn(2, true)), OK);
    EXPECT_EQ(run(h.c, exec_OUT, out_insn(4, true)), OK);
    ASSERT_EQ(h.io_writes.size(), 3u);
    EXPECT_EQ(h.io_writes[0], std::make_pair((uint16_t)0x80, 0xbeu));
    EXPECT_EQ(h.io_writes[1], std::make_pair((uint16_t)0x1f0, 0xbabeu));
    EXPECT_EQ(h.io_writes[2], std::make_pair((uint16_t)0x1f0, 0xcafebabeu));
}

TEST(PortIo, RepInsOuts)
{
    CpuHarness h;
    h.io_read_value = 0xbeef;
    h.c->regs[R_EDX] = 0x1f0;
    h.c->regs[R_EDI] = 0x2000;
    h.c->regs[R_ECX] = 3;
    h.wr32(0x2004, 0x11111111);
    h.wr32(0x2008, 0x22222222);
    EXPECT_EQ(run(h.c, exec_INS, str_insn(2, 2, true)), OK);
    EXPECT_EQ(h.rd32(0x2000), 0xbeefbeefu);
    EXPECT_EQ(h.rd32(0x2004), 0x1111beefu);
    EXPECT_EQ(h.c->regs[R_EDI], 0x2006u);
    EXPECT_EQ(h.c->regs[R_ECX], 0u);
    // OUTS with DF=1, bytes, segment override FS (base 0x10000)
    seg_load_real(h.c, SEG_FS, 0x1000);
    h.ram[0x13000] = 0x11;
    h.ram[0x12fff] = 0x22;
    h.ram[0x12ffe] = 0x33;
    h.c->regs[R_ESI] = 0x3000;
    h.c->regs[R_ECX] = 3;
    h.c->eflags |= FL_DF;
    EXPECT_EQ(run(h.c, exec_OUTS, str_insn(1, 2, true, SEG_FS)), OK);
    ASSERT_EQ(h.io_writes.size(), 3u);
    EXPECT_EQ(h.io_writes[0].second, 0x11u);
    EXPECT_EQ(h.io_writes[1].second, 0x22u);
    EXPECT_EQ(h.io_writes[2].second, 0x33u);
    EXPECT_EQ(h.io_writes[2].first, 0x1f0);
    EXPECT_EQ(h.c->regs[R_ESI], 0x2ffdu);
    // no REP: one element, ECX untouched
    h.c->eflags &= ~FL_DF;
    h.c->regs[R_ECX] = 55;
    h.wr32(0x4000, 0x87654321);
    h.c->regs[R_ESI] = 0x4000;
    EXPECT_EQ(run(h.c, exec_OUTS, str_insn(4, 4, false)), OK);
    EXPECT_EQ(h.io_writes.back().second, 0x87654321u);
    EXPECT_EQ(h.c->regs[R_ESI], 0x4004u);
    EXPECT_EQ(h.c->regs[R_ECX], 55u);
    // REP with count 0: nothing
    h.c->regs[R_ECX] = 0xffff0000; // CX = 0 with 16-bit addressing
    EXPECT_EQ(run(h.c, exec_OUTS, str_insn(1, 2, true)), OK);
    EXPECT_EQ(h.io_writes.size(), 4u);
    EXPECT_EQ(h.c->regs[R_ESI], 0x4004u);
}

TEST(PortIo, AddressSizeWrapAndChunks)
{
    CpuHarness h;
    h.io_read_value = 0xab;
    h.c->regs[R_EDX] = 0x60;
    h.c->regs[R_EDI] = 0x5555ffff; // DI wraps at 16 bits, upper half kept
    h.c->regs[R_ECX] = 0x77770002;
    EXPECT_EQ(run(h.c, exec_INS, str_insn(1, 2, true)), OK);
    EXPECT_EQ(h.ram[0xffff], 0xab);
    EXPECT_EQ(h.ram[0x0000], 0xab);
    EXPECT_EQ(h.c->regs[R_EDI], 0x55550001u);
    EXPECT_EQ(h.c->regs[R_ECX], 0x77770000u);
    // a long count runs in chunks, re-executing the instruction
    h.flat32();
    h.c->regs[R_EDI] = 0x100000;
    h.c->regs[R_ECX] = 3000;
    Insn rep_insd = str_insn(4, 4, true);
    rep_insd.len = 3; // f3 66 6d in 16-bit code; any length will do
    h.c->eip = 0x1000;
    EXPECT_EQ(run(h.c, exec_INS, rep_insd), OK);
    EXPECT_LT(h.c->regs[R_ECX], 3000u);
    EXPECT_GT(h.c->regs[R_ECX], 0u);
    EXPECT_EQ(h.c->eip, 0x1000u); // back at the instruction: runs again
    int rounds = 1;
    while (h.c->eip == 0x1000u && rounds < 100) {
        EXPECT_EQ(run(h.c, exec_INS, rep_insd), OK);
        rounds++;
    }
    EXPECT_EQ(h.c->regs[R_ECX], 0u);
    EXPECT_EQ(h.c->eip, 0x1003u); // finished: falls through
    EXPECT_EQ(rounds, 3);
    EXPECT_EQ(h.c->regs[R_EDI], 0x100000u + 4 * 3000);
    EXPECT_EQ(h.rd32(0x100000 + 4 * 2999), 0xabu);
}

TEST(PortIo, InsFaultLeavesStateForRestart)
{
    CpuHarness h;
    h.flat32();
    // ES limited to 0x2003: the second dword write faults
    h.c->seg[SEG_ES].limit = 0x2003;
    h.c->seg[SEG_ES].flags &= ~SEGF_G;
    h.c->regs[R_EDX] = 0x300;
    h.c->regs[R_EDI] = 0x2000;
    h.c->regs[R_ECX] = 2;
    h.io_read_value = 0x01020304;
    EXPECT_EQ(run(h.c, exec_INS, str_insn(4, 4, true)), Fault(EXC_GP, 0));
    EXPECT_EQ(h.rd32(0x2000), 0x01020304u);
    EXPECT_EQ(h.c->regs[R_EDI], 0x2004u); // first element done
    EXPECT_EQ(h.c->regs[R_ECX], 1u);
}

// ---------------------------------------------------------------- I/O permission

namespace {
// Protected mode at CPL 3 with a loaded 32-bit TSS at 0x4000 whose bitmap at +0x88
// allows ports 0x60-0x67 except 0x64, and 0x3f8-0x3ff; everything else denied.
void setup_iopb(CpuHarness &h, uint32_t tss_limit = 0x88 + 0x80 + 1)
{
    setup_gdt(h);
    h.put_desc(0x600 + S_TSS, 0x4000, tss_limit, SEGF_P | 0x9);
    ASSERT_EQ(sel_insn(h, exec_LTR, S_TSS), OK);
    memset(h.ram + 0x4000, 0, 0x200);
    h.ram[0x4066] = 0x88;
    memset(h.ram + 0x4088, 0xff, 0x81); // 1024 ports + the trailing 0xff byte
    h.ram[0x4088 + 0x60 / 8] = 0x10;    // 0x60-0x67 allowed except 0x64
    h.ram[0x4088 + 0x3f8 / 8] = 0x00;   // 0x3f8-0x3ff allowed
    h.c->cpl = 3;
    h.c->eflags &= ~FL_IOPL;
}

Result io_try(CpuHarness &h, uint16_t port, unsigned size)
{
    h.c->regs[R_EDX] = port;
    return run(h.c, exec_IN, in_insn(size, true));
}
} // namespace

TEST(IoPermission, BitmapAllowsAndDenies)
{
    CpuHarness h;
    setup_iopb(h);
    EXPECT_EQ(io_try(h, 0x60, 1), OK);
    EXPECT_EQ(io_try(h, 0x63, 1), OK);
    EXPECT_EQ(io_try(h, 0x64, 1), Fault(EXC_GP, 0));
    EXPECT_EQ(io_try(h, 0x62, 2), OK);
    EXPECT_EQ(io_try(h, 0x63, 2), Fault(EXC_GP, 0)); // 0x63-0x64: 0x64 denied
    EXPECT_EQ(io_try(h, 0x60, 4), OK);
    EXPECT_EQ(io_try(h, 0x61, 4), Fault(EXC_GP, 0));
    EXPECT_EQ(io_try(h, 0x3fc, 4), OK);
    EXPECT_EQ(io_try(h, 0x3fe, 4), Fault(EXC_GP, 0)); // straddles into 0x400 (denied)
    EXPECT_EQ(io_try(h, 0x70, 1), Fault(EXC_GP, 0));
    EXPECT_EQ(io_try(h, 0x3f7, 2), Fault(EXC_GP, 0)); // 0x3f7 denied
    // 0x408 and up: beyond the TSS limit
    EXPECT_EQ(io_try(h, 0x1000, 1), Fault(EXC_GP, 0));
    // OUT and string forms use the same check
    h.c->regs[R_EAX] = 0x55;
    h.c->regs[R_EDX] = 0x3f8;
    EXPECT_EQ(run(h.c, exec_OUT, out_insn(1, true)), OK);
    h.c->regs[R_EDX] = 0x64;
    EXPECT_EQ(run(h.c, exec_OUT, out_insn(1, true)), Fault(EXC_GP, 0));
    h.c->regs[R_ECX] = 1;
    h.c->regs[R_ESI] = 0x5000;
    EXPECT_EQ(run(h.c, exec_OUTS, str_insn(1, 4, true)), Fault(EXC_GP, 0));
    EXPECT_EQ(h.c->regs[R_ECX], 1u);
    ASSERT_EQ(h.io_writes.size(), 1u);
    EXPECT_EQ(h.io_writes[0].first, 0x3f8);
}

TEST(IoPermission, IoplAndModes)
{
    CpuHarness h;
    setup_iopb(h);
    EXPECT_EQ(io_try(h, 0x70, 1), Fault(EXC_GP, 0));
    h.c->eflags |= 3u << FL_IOPL_SHIFT; // IOPL 3: no bitmap check in protected mode
    EXPECT_EQ(io_try(h, 0x70, 1), OK);
    h.c->eflags |= FL_VM; // v86 consults the bitmap regardless of IOPL
    EXPECT_EQ(io_try(h, 0x70, 1), Fault(EXC_GP, 0));
    EXPECT_EQ(io_try(h, 0x61, 1), OK);
    h.c->eflags &= ~(FL_VM | FL_IOPL);
    h.c->cpl = 0; // CPL <= IOPL
    EXPECT_EQ(io_try(h, 0x70, 1), OK);
    CpuHarness r; // real mode: no checks
    EXPECT_EQ(io_try(r, 0x70, 1), OK);
}

TEST(IoPermission, BitmapLimitAndTssType)
{
    CpuHarness h;
    // the TSS limit ends right after the byte for ports 0x60-0x67: the CPU reads two
    // bytes, so port 0x60 faults even though its own byte is allowed
    setup_iopb(h, 0x88 + 0x60 / 8);
    EXPECT_EQ(io_try(h, 0x60, 1), Fault(EXC_GP, 0));
    CpuHarness h2;
    setup_iopb(h2, 0x88 + 0x60 / 8 + 1);
    EXPECT_EQ(io_try(h2, 0x60, 1), OK);
    // bitmap offset beyond the limit: no bitmap, everything denied
    CpuHarness h3;
    setup_iopb(h3);
    h3.ram[0x4066] = 0x00;
    h3.ram[0x4067] = 0x10;
    EXPECT_EQ(io_try(h3, 0x60, 1), Fault(EXC_GP, 0));
    // a 16-bit TSS has no bitmap
    CpuHarness h4;
    setup_iopb(h4);
    h4.c->tr.flags = (h4.c->tr.flags & ~0xfu) | 0x3;
    EXPECT_EQ(io_try(h4, 0x60, 1), Fault(EXC_GP, 0));
}

// ---------------------------------------------------------------- through the decoder

TEST(Decoded, CpuidAndHltBytes)
{
    CpuHarness h;
    Insn probe_in;
    uint8_t nop = 0x90;
    if (decode(&probe_in, &nop, 1, false) != DECODE_OK || probe_in.mnem != M_NOP)
        GTEST_SKIP() << "decoder not in place yet";
    h.load(0x1000, {0x66, 0x31, 0xc0, // xor eax, eax
                    0x0f, 0xa2,       // cpuid
                    0xe6, 0x80,       // out 0x80, al
                    0xf4});           // hlt
    h.set_ip(0x1000);
    h.step(3);
    EXPECT_EQ(h.c->regs[R_EAX], 1u);
    EXPECT_EQ(h.c->regs[R_EBX], 0x756e6547u); // "Genu"
    ASSERT_EQ(h.io_writes.size(), 1u);
    EXPECT_EQ(h.io_writes[0], std::make_pair((uint16_t)0x80, 1u));
    h.step();
    EXPECT_TRUE(h.c->halted);
    EXPECT_EQ(h.c->eip, 0x1008u);
}

namespace {
bool decoder_ready()
{
    Insn in;
    uint8_t nop = 0x90;
    return decode(&in, &nop, 1, false) == DECODE_OK && in.mnem == M_NOP;
}
} // namespace

TEST(Decoded, MsrRoundTripBytes)
{
    if (!decoder_ready()) GTEST_SKIP() << "decoder not in place yet";
    CpuHarness h;
    h.load(0x1000, {0x66, 0xb9, 0x75, 0x01, 0x00, 0x00, // mov ecx, 0x175
                    0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, // mov eax, 0x12345678
                    0x66, 0x31, 0xd2,                   // xor edx, edx
                    0x0f, 0x30,                         // wrmsr
                    0x66, 0x31, 0xc0,                   // xor eax, eax
                    0x0f, 0x32});                       // rdmsr
    h.step(6);
    EXPECT_EQ(h.c->msr_sysenter_esp, 0x12345678ull);
    EXPECT_EQ(h.c->regs[R_EAX], 0x12345678u);
    EXPECT_EQ(h.c->regs[R_EDX], 0u);
    EXPECT_EQ(h.c->eip, 0x1000u + 22);
}

TEST(Decoded, RepInswRestartsInChunks)
{
    if (!decoder_ready()) GTEST_SKIP() << "decoder not in place yet";
    CpuHarness h;
    h.io_read_value = 0x5aa5;
    h.load(0x1000, {0xf3, 0x6d, // rep insw
                    0x90});
    h.c->regs[R_EDX] = 0x1f0;
    h.c->regs[R_EDI] = 0x0;
    seg_load_real(h.c, SEG_ES, 0x2000);
    h.c->regs[R_ECX] = 2000;
    h.step();
    EXPECT_EQ(h.c->eip, 0x1000u);
    EXPECT_GT(h.c->regs[R_ECX] & 0xffff, 0u);
    h.step();
    EXPECT_EQ(h.c->regs[R_ECX] & 0xffff, 0u);
    EXPECT_EQ(h.c->eip, 0x1002u);
    EXPECT_EQ(h.c->regs[R_EDI], 4000u);
    EXPECT_EQ(h.rd32(0x20000 + 3996), 0x5aa55aa5u);
    EXPECT_EQ(h.rd32(0x20000 + 4000), 0u);
}

TEST(Decoded, DescriptorTableAndCr0Bytes)
{
    if (!decoder_ready()) GTEST_SKIP() << "decoder not in place yet";
    CpuHarness h;
    h.wr32(0x3000, 0x56780027u); // limit 0x27, base 0x??345678
    h.wr32(0x3004, 0x00009934u);
    h.load(0x1000, {0x0f, 0x01, 0x16, 0x00, 0x30,       // lgdt [0x3000] (16-bit operand)
                    0x66, 0x0f, 0x01, 0x06, 0x10, 0x30, // sgdt [0x3010] (32-bit operand)
                    0x0f, 0x20, 0xc0,                   // mov eax, cr0
                    0x0c, 0x01,                         // or al, 1
                    0x0f, 0x22, 0xc0,                   // mov cr0, eax
                    0x0f, 0x01, 0xe3});                 // smsw bx
    h.step(6);
    EXPECT_EQ(h.c->gdtr.base, 0x00345678u);
    EXPECT_EQ(h.c->gdtr.limit, 0x27u);
    EXPECT_EQ(h.rd32(0x3010), 0x56780027u);
    EXPECT_EQ(h.rd32(0x3014) & 0xffff, 0x0034u);
    EXPECT_EQ(h.c->cr[0], 0x60000011u);
    EXPECT_EQ(h.c->regs[R_EBX] & 0xffff, 0x0011u);
}

TEST(Decoded, Ud2GoesThroughTheIvt)
{
    if (!decoder_ready()) GTEST_SKIP() << "decoder not in place yet";
    CpuHarness h;
    h.wr32(6 * 4, 0x00002000u); // #UD handler at 0000:2000
    h.load(0x1000, {0x0f, 0x0b}); // ud2
    h.step();
    EXPECT_EQ(h.c->eip, 0x2000u);
    EXPECT_EQ(h.c->seg[SEG_CS].sel, 0);
    // the pushed return address is the faulting instruction
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u - 6);
    EXPECT_EQ(h.rd32(0x8000 - 6) & 0xffff, 0x1000u);
}
