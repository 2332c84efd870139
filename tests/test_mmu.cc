// test_mmu.cc — paging (mmu.c) and the paging parts of exec_system.c/cpuid.c: 32-bit
// and PAE page walks, every #PF error-code case, large pages, accessed/dirty bits,
// the software TLB and its flushes, PDPTE loading and its #GP, IA32_EFER and CPUID.
// Page tables are built in the harness RAM; mmu_translate runs under a setjmp on
// c->fault_jmp so a fault shows up as the vector and error code cpu_fault() recorded.
#include <gtest/gtest.h>

#include <csetjmp>

#include "cpu_harness.h"

extern "C" {
#include "cpu/mmu.h"
}

namespace {

constexpr uint32_t P = 0x1, RW = 0x2, US = 0x4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
constexpr uint64_t XD = 1ull << 63;
constexpr uint32_t EFER = 0xc0000080u;

// 32-bit layout: page directory, one page table (PDE 1: linear 0x00400000-0x007fffff)
constexpr uint32_t PD = 0x100000, PT = 0x101000;
// PAE layout: PDPT (at a 32-byte but not page aligned address), PD for the first GiB,
// one page table (PDE 2: linear 0x00400000-0x005fffff)
constexpr uint32_t PDPT = 0x102020, PAE_PD = 0x103000, PAE_PT = 0x104000;

// What a translation did: the physical address, or the #PF error code.
struct Tr {
    bool ok;
    uint32_t v; // pa, or error code
    int vector;
};
bool operator==(const Tr &a, const Tr &b)
{
    return a.ok == b.ok && a.v == b.v && (a.ok || a.vector == b.vector);
}
std::ostream &operator<<(std::ostream &o, const Tr &r)
{
    if (r.ok) return o << "pa " << std::hex << r.v;
    return o << "fault " << r.vector << " err " << std::hex << r.v;
}
Tr Pa(uint32_t pa) { return {true, pa, -1}; }
Tr Pf(uint32_t err) { return {false, err, EXC_PF}; }
Tr Gp() { return {false, 0, EXC_GP}; }
constexpr Tr DONE = {true, 0, -1};

Tr translate(Cpu *c, uint32_t lin, int acc, bool sys = false)
{
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    if (setjmp(c->fault_jmp)) return {false, c->pending_errcode, c->pending_vector};
    return Pa(mmu_translate(c, lin, acc, sys));
}

Insn mk()
{
    Insn in;
    memset(&in, 0, sizeof(in));
    in.opsize = 4;
    in.addrsize = 4;
    in.seg = SEG_DS;
    in.ea_base = -1;
    in.ea_index = -1;
    return in;
}

// Runs one handler as cpu_step would; DONE or the fault.
Tr run(Cpu *c, ExecFn fn, const Insn &in)
{
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    if (setjmp(c->fault_jmp)) return {false, c->pending_errcode, c->pending_vector};
    fn(c, &in);
    return DONE;
}

Tr mov_cr(Cpu *c, int n, uint32_t v)
{
    Insn in = mk();
    in.op[0].kind = OPK_CREG;
    in.op[0].reg = n;
    in.op[0].size = 4;
    in.op[1].kind = OPK_REG;
    in.op[1].reg = R_EAX;
    in.op[1].size = 4;
    in.nops = 2;
    c->regs[R_EAX] = v;
    return run(c, exec_MOV_CR, in);
}

Tr invlpg(Cpu *c, uint32_t disp)
{
    Insn in = mk();
    in.op[0].kind = OPK_MEM;
    in.op[0].size = 1;
    in.nops = 1;
    in.disp = (int32_t)disp;
    return run(c, exec_INVLPG, in);
}

Tr wrmsr(Cpu *c, uint32_t idx, uint64_t v)
{
    c->regs[R_ECX] = idx;
    c->regs[R_EAX] = (uint32_t)v;
    c->regs[R_EDX] = (uint32_t)(v >> 32);
    return run(c, exec_WRMSR, mk());
}

Tr rdmsr(Cpu *c, uint32_t idx, uint64_t *v)
{
    c->regs[R_ECX] = idx;
    Tr r = run(c, exec_RDMSR, mk());
    *v = (uint64_t)c->regs[R_EDX] << 32 | c->regs[R_EAX];
    return r;
}

// ---------------------------------------------------------------- 32-bit paging

struct Paging32 : ::testing::Test {
    CpuHarness h;
    Cpu *c = h.c;
    void SetUp() override
    {
        h.flat32();
        pde(1, PT | P | RW | US);
        ASSERT_EQ(mov_cr(c, 3, PD), DONE);
        ASSERT_EQ(mov_cr(c, 0, c->cr[0] | CR0_PG), DONE);
    }
    void pde(uint32_t i, uint32_t v) { h.wr32(PD + 4 * i, v); }
    void pte(uint32_t i, uint32_t v) { h.wr32(PT + 4 * i, v); }
    uint32_t rpde(uint32_t i) const { return h.rd32(PD + 4 * i); }
    uint32_t rpte(uint32_t i) const { return h.rd32(PT + 4 * i); }
    Tr user(uint32_t lin, int acc)
    {
        c->cpl = 3;
        Tr r = translate(c, lin, acc);
        c->cpl = 0;
        return r;
    }
};

TEST_F(Paging32, TranslatesAndSetsCr2OnFault)
{
    pte(5, 0x00abc000 | P | RW | US);
    EXPECT_EQ(translate(c, 0x00405123, MMU_READ), Pa(0x00abc123));
    EXPECT_EQ(translate(c, 0x00405fff, MMU_WRITE), Pa(0x00abcfff));
    c->cr[2] = 0;
    EXPECT_EQ(translate(c, 0x00406010, MMU_READ), Pf(0));
    EXPECT_EQ(c->cr[2], 0x00406010u);
    // with paging off the linear address is the physical one
    ASSERT_EQ(mov_cr(c, 0, c->cr[0] & ~CR0_PG), DONE);
    EXPECT_EQ(translate(c, 0x00406010, MMU_READ), Pa(0x00406010));
}

TEST_F(Paging32, NotPresentErrorCodes)
{
    // PDE not present (PDE 3), then PTE not present (PDE 1, PTE 7)
    for (uint32_t lin : {0x00c01000u, 0x00407000u}) {
        EXPECT_EQ(translate(c, lin, MMU_READ), Pf(0)) << std::hex << lin;
        EXPECT_EQ(translate(c, lin, MMU_WRITE), Pf(PF_W));
        EXPECT_EQ(translate(c, lin, MMU_FETCH), Pf(0)); // no I/D without PAE+NXE
        EXPECT_EQ(user(lin, MMU_READ), Pf(PF_U));
        EXPECT_EQ(user(lin, MMU_WRITE), Pf(PF_U | PF_W));
        EXPECT_EQ(user(lin, MMU_FETCH), Pf(PF_U));
        // implicit supervisor accesses (descriptor tables) at CPL 3 report U=0
        c->cpl = 3;
        EXPECT_EQ(translate(c, lin, MMU_READ, true), Pf(0));
        c->cpl = 0;
        EXPECT_EQ(c->cr[2], lin);
    }
}

TEST_F(Paging32, UserSupervisorCombinesLevels)
{
    pte(1, 0x00201000 | P | RW);      // supervisor page
    pde(2, (PT + 0x1000) | P | RW);   // supervisor table with a user PTE
    h.wr32(PT + 0x1000 + 4 * 3, 0x00303000 | P | RW | US);
    EXPECT_EQ(user(0x00401000, MMU_READ), Pf(PF_P | PF_U));
    EXPECT_EQ(user(0x00401000, MMU_WRITE), Pf(PF_P | PF_U | PF_W));
    EXPECT_EQ(user(0x00401000, MMU_FETCH), Pf(PF_P | PF_U));
    EXPECT_EQ(user(0x00803000, MMU_READ), Pf(PF_P | PF_U));
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    EXPECT_EQ(translate(c, 0x00803004, MMU_FETCH), Pa(0x00303004));
    c->cpl = 3;
    EXPECT_EQ(translate(c, 0x00401008, MMU_WRITE, true), Pa(0x00201008)); // implicit sup
    c->cpl = 0;
    // after a supervisor access filled the TLB, a user access still faults
    EXPECT_EQ(user(0x00401000, MMU_READ), Pf(PF_P | PF_U));
}

TEST_F(Paging32, ReadOnlyAndWriteProtect)
{
    pte(2, 0x00202000 | P | US);            // read-only PTE
    pde(2, (PT + 0x1000) | P | US);         // read-only PDE, writable PTE
    h.wr32(PT + 0x1000 + 4 * 4, 0x00304000 | P | RW | US);
    EXPECT_EQ(user(0x00402000, MMU_READ), Pa(0x00202000));
    EXPECT_EQ(user(0x00402000, MMU_WRITE), Pf(PF_P | PF_W | PF_U));
    EXPECT_EQ(user(0x00804000, MMU_WRITE), Pf(PF_P | PF_W | PF_U));
    // supervisor writes: allowed with WP=0 (and mark the page dirty), fault with WP=1
    EXPECT_EQ(translate(c, 0x00402010, MMU_WRITE), Pa(0x00202010));
    EXPECT_EQ(rpte(2), 0x00202000u | P | US | A | D);
    EXPECT_EQ(translate(c, 0x00804010, MMU_WRITE), Pa(0x00304010));
    ASSERT_EQ(mov_cr(c, 0, c->cr[0] | CR0_WP), DONE); // flushes the TLB
    EXPECT_EQ(translate(c, 0x00402010, MMU_WRITE), Pf(PF_P | PF_W));
    EXPECT_EQ(translate(c, 0x00804010, MMU_WRITE), Pf(PF_P | PF_W));
    EXPECT_EQ(translate(c, 0x00402010, MMU_READ), Pa(0x00202010));
    ASSERT_EQ(mov_cr(c, 0, c->cr[0] & ~CR0_WP), DONE);
    EXPECT_EQ(translate(c, 0x00402010, MMU_WRITE), Pa(0x00202010));
}

TEST_F(Paging32, FourMegPages)
{
    pde(2, 0x00c00000 | P | RW | US | PS);
    // without CR4.PSE the PS bit is ignored: the PDE points at a table (all zero)
    EXPECT_EQ(translate(c, 0x00812345, MMU_READ), Pf(0));
    ASSERT_EQ(mov_cr(c, 4, CR4_PSE), DONE);
    EXPECT_EQ(translate(c, 0x00812345, MMU_READ), Pa(0x00c12345));
    EXPECT_EQ(translate(c, 0x00bfffff, MMU_WRITE), Pa(0x00ffffff));
    EXPECT_EQ(rpde(2), 0x00c00000u | P | RW | US | PS | A | D);
    // bit 12 (PAT) is accepted; bits 21:13 are reserved (no PSE-36)
    pde(3, 0x00c00000 | P | RW | US | PS | 0x1000);
    EXPECT_EQ(translate(c, 0x00c00004, MMU_READ), Pa(0x00c00004));
    for (uint32_t bit = 13; bit <= 21; bit++) {
        pde(4, 0x00c00000 | P | RW | US | PS | 1u << bit);
        EXPECT_EQ(translate(c, 0x01000000, MMU_READ), Pf(PF_P | PF_RSVD)) << bit;
        EXPECT_EQ(user(0x01000000, MMU_WRITE), Pf(PF_P | PF_RSVD | PF_W | PF_U)) << bit;
        EXPECT_EQ(c->cr[2], 0x01000000u);
        EXPECT_EQ(h.rd32(PD + 16) & A, 0u); // a faulting walk sets no A bit
    }
    // reserved bits in a not-present entry do not matter
    pde(4, 0x003fe000);
    EXPECT_EQ(translate(c, 0x01000000, MMU_READ), Pf(0));
    // U/S and R/W of a large page come from the PDE alone
    pde(5, 0x00400000 | P | PS);
    EXPECT_EQ(user(0x01400000, MMU_READ), Pf(PF_P | PF_U));
    ASSERT_EQ(mov_cr(c, 0, c->cr[0] | CR0_WP), DONE);
    EXPECT_EQ(translate(c, 0x01400000, MMU_WRITE), Pf(PF_P | PF_W));
}

TEST_F(Paging32, AccessedAndDirtyBits)
{
    pte(1, 0x00201000 | P | RW | US);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    EXPECT_EQ(rpde(1), PT | P | RW | US | A); // a PDE for a table never gets D
    EXPECT_EQ(rpte(1), 0x00201000u | P | RW | US | A);
    // a write after a read (TLB filled by the read) still sets D
    EXPECT_EQ(translate(c, 0x00401004, MMU_WRITE), Pa(0x00201004));
    EXPECT_EQ(rpte(1), 0x00201000u | P | RW | US | A | D);
    EXPECT_EQ(rpde(1), PT | P | RW | US | A);
    // a fetch sets A only
    pte(2, 0x00202000 | P | RW | US);
    EXPECT_EQ(translate(c, 0x00402000, MMU_FETCH), Pa(0x00202000));
    EXPECT_EQ(rpte(2), 0x00202000u | P | RW | US | A);
    // faulting accesses set nothing
    pte(3, 0x00203000 | P | US);
    ASSERT_EQ(mov_cr(c, 0, c->cr[0] | CR0_WP), DONE);
    pde(1, PT | P | RW | US);
    EXPECT_EQ(translate(c, 0x00403000, MMU_WRITE), Pf(PF_P | PF_W));
    EXPECT_EQ(rpte(3), 0x00203000u | P | US);
    EXPECT_EQ(rpde(1), PT | P | RW | US);
    // mmu_probe never sets A/D and never faults or touches CR2
    pte(4, 0x00204000 | P | RW | US);
    c->cr[2] = 0x1234;
    EXPECT_TRUE(mmu_probe(c, 0x00404000, MMU_WRITE));
    EXPECT_FALSE(mmu_probe(c, 0x00405000, MMU_READ));
    EXPECT_FALSE(mmu_probe(c, 0x00403000, MMU_WRITE));
    EXPECT_EQ(rpte(4), 0x00204000u | P | RW | US);
    EXPECT_EQ(rpde(1), PT | P | RW | US);
    EXPECT_EQ(c->cr[2], 0x1234u);
    c->cpl = 3;
    pte(6, 0x00206000 | P | RW);
    EXPECT_FALSE(mmu_probe(c, 0x00406000, MMU_READ));
    c->cpl = 0;
    EXPECT_TRUE(mmu_probe(c, 0x00406000, MMU_READ));
}

TEST_F(Paging32, LinearAccessAcrossPagesIsPrecise)
{
    pte(1, 0x00201000 | P | RW);
    pte(2, 0x00202000 | P); // read-only
    ASSERT_EQ(mov_cr(c, 0, c->cr[0] | CR0_WP), DONE);
    h.wr32(0x00201ffc, 0x11111111);
    h.wr32(0x00202000, 0x22222222);
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    if (setjmp(c->fault_jmp) == 0) {
        lin_write32(c, 0x00401ffe, 0xaabbccdd, false);
        FAIL() << "no fault";
    }
    EXPECT_EQ(c->pending_vector, EXC_PF);
    EXPECT_EQ(c->pending_errcode, PF_P | PF_W);
    EXPECT_EQ(c->cr[2], 0x00402000u);
    EXPECT_EQ(h.rd32(0x00201ffc), 0x11111111u);
    EXPECT_EQ(h.rd32(0x00202000), 0x22222222u);
}

TEST_F(Paging32, InstructionsRunThroughPaging)
{
    // code at linear 0x00401000 (physical 0x3000), data at 0x00402000 (physical 0x5000)
    pte(1, 0x3000 | P | RW);
    pte(2, 0x5000 | P | RW);
    h.load(0x3000, {0xa1, 0x00, 0x20, 0x40, 0x00,        // mov eax, [0x00402000]
                    0xa3, 0x04, 0x20, 0x40, 0x00});      // mov [0x00402004], eax
    h.wr32(0x5000, 0xcafef00d);
    c->eip = 0x00401000;
    h.step(2);
    EXPECT_EQ(c->regs[R_EAX], 0xcafef00du);
    EXPECT_EQ(h.rd32(0x5004), 0xcafef00du);
    EXPECT_EQ(c->eip, 0x0040100au);
    EXPECT_EQ(rpte(1), 0x3000u | P | RW | A);
    EXPECT_EQ(rpte(2), 0x5000u | P | RW | A | D);
}

// ---------------------------------------------------------------- TLB

TEST_F(Paging32, TlbFastLookupRespectsDirtyAndPrivilege)
{
    uint32_t pa = 0;
    pte(1, 0x00201000 | P | RW);
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00401234, MMU_READ, &pa));
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    EXPECT_TRUE(mmu_lookup_fast(c, 0x00401234, MMU_READ, &pa));
    EXPECT_EQ(pa, 0x00201234u);
    EXPECT_TRUE(mmu_lookup_fast(c, 0x00401234, MMU_FETCH, &pa));
    // filled by a read: D is clear, so a write must walk
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00401234, MMU_WRITE, &pa));
    EXPECT_EQ(translate(c, 0x00401000, MMU_WRITE), Pa(0x00201000));
    EXPECT_TRUE(mmu_lookup_fast(c, 0x00401238, MMU_WRITE, &pa));
    EXPECT_EQ(pa, 0x00201238u);
    // supervisor page: never a hit at CPL 3
    c->cpl = 3;
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00401234, MMU_READ, &pa));
    c->cpl = 0;
    // a page that aliases in the direct-mapped TLB evicts, never mismatches
    uint32_t alias = 0x00401000 + TLB_SIZE * 0x1000;
    if ((alias >> 22) != 1) { // its own page table (at PT + 0x2000) when past 4 MiB
        pde(alias >> 22, (PT + 0x2000) | P | RW | US);
        h.wr32(PT + 0x2000 + 4 * ((alias >> 12) & 1023), 0x00333000 | P | RW);
    } else {
        pte((alias >> 12) & 1023, 0x00333000 | P | RW);
    }
    EXPECT_EQ(translate(c, alias, MMU_READ), Pa(0x00333000));
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00401234, MMU_READ, &pa));
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
}

TEST_F(Paging32, InvlpgAndCr3WritesFlush)
{
    pte(1, 0x00201000 | P | RW);
    pte(2, 0x00202000 | P | RW);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    EXPECT_EQ(translate(c, 0x00402000, MMU_READ), Pa(0x00202000));
    pte(1, 0x00301000 | P | RW);
    pte(2, 0x00302000 | P | RW);
    // INVLPG (through the DS base, as the instruction computes it) flushes one page
    c->seg[SEG_DS].base = 0x00400000;
    EXPECT_EQ(invlpg(c, 0x1abc), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00301000));
    // a MOV to CR3 flushes everything that is not global
    EXPECT_EQ(mov_cr(c, 3, PD), DONE);
    EXPECT_EQ(translate(c, 0x00402000, MMU_READ), Pa(0x00302000));
    // a page made not present faults once flushed
    EXPECT_EQ(translate(c, 0x00401000, MMU_WRITE), Pa(0x00301000));
    pte(1, 0);
    EXPECT_EQ(invlpg(c, 0x1000), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pf(0));
}

TEST_F(Paging32, GlobalPagesSurviveCr3ButNotInvlpg)
{
    pte(1, 0x00201000 | P | RW | G);
    pte(2, 0x00202000 | P | RW | G);
    // G without CR4.PGE means nothing
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    pte(1, 0x00301000 | P | RW | G);
    EXPECT_EQ(mov_cr(c, 3, PD), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00301000));
    // with PGE (its change flushes everything) a global entry survives CR3 writes
    EXPECT_EQ(mov_cr(c, 4, CR4_PGE), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00301000));
    EXPECT_EQ(translate(c, 0x00402000, MMU_READ), Pa(0x00202000));
    pte(1, 0x00401000 | P | RW | G);
    pte(2, 0x00402000 | P | RW | G);
    EXPECT_EQ(mov_cr(c, 3, PD), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00301000));
    // but INVLPG drops it
    EXPECT_EQ(invlpg(c, 0x00401000), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00401000));
    // and clearing CR4.PGE flushes all
    EXPECT_EQ(mov_cr(c, 4, 0), DONE);
    EXPECT_EQ(translate(c, 0x00402000, MMU_READ), Pa(0x00402000));
    // the G bit of a PDE that points to a table has no effect
    EXPECT_EQ(mov_cr(c, 4, CR4_PGE), DONE);
    pde(1, PT | P | RW | G);
    pte(3, 0x00203000 | P | RW);
    EXPECT_EQ(translate(c, 0x00403000, MMU_READ), Pa(0x00203000));
    pte(3, 0x00303000 | P | RW);
    EXPECT_EQ(mov_cr(c, 3, PD), DONE);
    EXPECT_EQ(translate(c, 0x00403000, MMU_READ), Pa(0x00303000));
}

TEST_F(Paging32, InvlpgDropsAWholeLargePage)
{
    ASSERT_EQ(mov_cr(c, 4, CR4_PSE), DONE);
    pde(2, 0x00c00000 | P | RW | PS);
    EXPECT_EQ(translate(c, 0x00800000, MMU_READ), Pa(0x00c00000));
    EXPECT_EQ(translate(c, 0x009ff000, MMU_READ), Pa(0x00dff000));
    pde(2, 0x00400000 | P | RW | PS);
    EXPECT_EQ(invlpg(c, 0x00b00000), DONE); // elsewhere in the same 4 MiB page
    EXPECT_EQ(translate(c, 0x00800000, MMU_READ), Pa(0x00400000));
    EXPECT_EQ(translate(c, 0x009ff000, MMU_READ), Pa(0x005ff000));
    // CR4.PSE changes flush too
    pde(2, (PT + 0x1000) | P | RW | PS);
    h.wr32(PT + 0x1000, 0x00777000 | P | RW);
    EXPECT_EQ(mov_cr(c, 4, 0), DONE);
    EXPECT_EQ(translate(c, 0x00800000, MMU_READ), Pa(0x00777000));
}

TEST_F(Paging32, Cr0PagingChangesFlush)
{
    pte(1, 0x00201000 | P | RW);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    uint32_t pa;
    EXPECT_EQ(mov_cr(c, 0, c->cr[0] & ~CR0_PG), DONE);
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00401000, MMU_READ, &pa));
    pte(1, 0x00301000 | P | RW);
    EXPECT_EQ(mov_cr(c, 0, c->cr[0] | CR0_PG), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00301000));
    // cpu_reset empties the TLB (it is above the reset-preserved marker)
    cpu_reset(c);
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00401000, MMU_READ, &pa));
    EXPECT_EQ(c->msr_efer, 0u);
    EXPECT_EQ(c->pdpte[0], 0u);
}

// ---------------------------------------------------------------- PAE paging

struct PagingPae : ::testing::Test {
    CpuHarness h;
    Cpu *c = h.c;
    void SetUp() override
    {
        h.flat32();
        pdpte(0, PAE_PD | P);
        pde(2, PAE_PT | P | RW | US);
        ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
        ASSERT_EQ(mov_cr(c, 4, CR4_PAE | CR4_PSE), DONE);
        ASSERT_EQ(mov_cr(c, 0, c->cr[0] | CR0_PG), DONE);
    }
    void wr64(uint32_t a, uint64_t v)
    {
        h.wr32(a, (uint32_t)v);
        h.wr32(a + 4, (uint32_t)(v >> 32));
    }
    uint64_t rd64(uint32_t a) const { return h.rd32(a) | (uint64_t)h.rd32(a + 4) << 32; }
    void pdpte(uint32_t i, uint64_t v) { wr64(PDPT + 8 * i, v); }
    void pde(uint32_t i, uint64_t v) { wr64(PAE_PD + 8 * i, v); }
    void pte(uint32_t i, uint64_t v) { wr64(PAE_PT + 8 * i, v); }
    Tr user(uint32_t lin, int acc)
    {
        c->cpl = 3;
        Tr r = translate(c, lin, acc);
        c->cpl = 0;
        return r;
    }
    void nxe(bool on) { ASSERT_EQ(wrmsr(c, EFER, on ? EFER_NXE : 0), DONE); }
};

TEST_F(PagingPae, PdptesLoadedAndUsed)
{
    EXPECT_EQ(c->pdpte[0], (uint64_t)(PAE_PD | P));
    EXPECT_EQ(c->pdpte[1], 0u);
    pte(5, 0x00abc000 | P | RW);
    EXPECT_EQ(translate(c, 0x00405123, MMU_READ), Pa(0x00abc123));
    EXPECT_EQ(translate(c, 0x40000000, MMU_READ), Pf(0)); // PDPTE 1 not present
    EXPECT_EQ(user(0x40000000, MMU_WRITE), Pf(PF_W | PF_U));
    // the PDPTE registers change only when loaded: writing memory is not enough
    pdpte(1, PAE_PD | P);
    EXPECT_EQ(translate(c, 0x40405000, MMU_READ), Pf(0));
    EXPECT_EQ(mov_cr(c, 3, PDPT), DONE);
    EXPECT_EQ(translate(c, 0x40405000, MMU_READ), Pa(0x00abc000));
    EXPECT_EQ(c->cr[3], PDPT);
}

TEST_F(PagingPae, NotPresentAndProtection)
{
    pte(1, 0x00201000 | P | US);
    pte(3, 0x00203000 | P | RW);
    EXPECT_EQ(translate(c, 0x00407000, MMU_READ), Pf(0));  // PTE not present
    EXPECT_EQ(translate(c, 0x00800000, MMU_WRITE), Pf(PF_W)); // PDE not present
    EXPECT_EQ(user(0x00407000, MMU_FETCH), Pf(PF_U));       // no I/D without NXE
    EXPECT_EQ(user(0x00401000, MMU_WRITE), Pf(PF_P | PF_W | PF_U));
    EXPECT_EQ(user(0x00403000, MMU_READ), Pf(PF_P | PF_U));
    EXPECT_EQ(translate(c, 0x00401000, MMU_WRITE), Pa(0x00201000)); // WP=0
    ASSERT_EQ(mov_cr(c, 0, c->cr[0] | CR0_WP), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_WRITE), Pf(PF_P | PF_W));
    // PDE R/W=0 forbids writes through a writable PTE
    pde(2, PAE_PT | P | US);
    ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
    EXPECT_EQ(translate(c, 0x00403000, MMU_WRITE), Pf(PF_P | PF_W));
}

TEST_F(PagingPae, TwoMegPagesAndAccessedDirty)
{
    pde(4, 0x00e00000 | P | RW | US | PS);
    EXPECT_EQ(translate(c, 0x008abcde, MMU_READ), Pa(0x00eabcde));
    EXPECT_EQ(rd64(PAE_PD + 32), (uint64_t)(0x00e00000 | P | RW | US | PS | A));
    EXPECT_EQ(translate(c, 0x009fffff, MMU_WRITE), Pa(0x00ffffff));
    EXPECT_EQ(rd64(PAE_PD + 32), (uint64_t)(0x00e00000 | P | RW | US | PS | A | D));
    // 4 KiB: A on the PDE and PTE, D on the PTE only; high dwords untouched
    pte(1, 0x00201000 | P | RW | XD);
    nxe(true);
    EXPECT_EQ(translate(c, 0x00401000, MMU_WRITE), Pa(0x00201000));
    EXPECT_EQ(rd64(PAE_PT + 8), (uint64_t)(0x00201000 | P | RW | A | D) | XD);
    EXPECT_EQ(rd64(PAE_PD + 16), (uint64_t)(PAE_PT | P | RW | US | A));
}

TEST_F(PagingPae, ReservedBits)
{
    pte(1, 0x00201000 | P | RW);
    // bits 62:36 of a PTE and a PDE are reserved; 35:32 are address bits (no fault)
    for (int bit = 32; bit <= 62; bit++) {
        pte(1, 0x00201000 | P | RW | 1ull << bit);
        ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
        Tr r = translate(c, 0x00401000, MMU_READ);
        if (bit < 36)
            EXPECT_TRUE(r.ok) << bit;
        else
            EXPECT_EQ(r, Pf(PF_P | PF_RSVD)) << bit;
    }
    pte(1, 0x00201000 | P | RW);
    pde(2, PAE_PT | P | RW | US | 1ull << 40);
    ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
    c->cpl = 3;
    EXPECT_EQ(translate(c, 0x00401000, MMU_WRITE), Pf(PF_P | PF_RSVD | PF_W | PF_U));
    c->cpl = 0;
    EXPECT_EQ(c->cr[2], 0x00401000u);
    EXPECT_EQ(rd64(PAE_PD + 16) & A, 0u);
    // 2 MiB PDE: bits 20:13 reserved, bit 12 (PAT) is not
    for (int bit = 12; bit <= 21; bit++) {
        pde(5, 0x00e00000 | P | RW | PS | 1ull << bit);
        ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
        Tr r = translate(c, 0x00a00000, MMU_READ);
        if (bit == 12 || bit == 21)
            EXPECT_TRUE(r.ok) << bit;
        else
            EXPECT_EQ(r, Pf(PF_P | PF_RSVD)) << bit;
    }
    // bit 63 is reserved while EFER.NXE is clear
    pde(2, PAE_PT | P | RW | US);
    pte(1, 0x00201000 | P | RW | XD);
    ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pf(PF_P | PF_RSVD));
    EXPECT_EQ(translate(c, 0x00401000, MMU_FETCH), Pf(PF_P | PF_RSVD));
    nxe(true);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    // reserved bits in a PTE win over a supervisor-only PDE for a user access
    pde(2, PAE_PT | P | RW);
    pte(1, 0x00201000 | P | RW | US | 1ull << 50);
    ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
    EXPECT_EQ(user(0x00401000, MMU_READ), Pf(PF_P | PF_RSVD | PF_U));
}

TEST_F(PagingPae, NoExecute)
{
    nxe(true);
    pte(1, 0x00201000 | P | RW | US | XD);
    pte(2, 0x00202000 | P | RW | US);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    EXPECT_EQ(translate(c, 0x00401000, MMU_WRITE), Pa(0x00201000));
    EXPECT_EQ(translate(c, 0x00401000, MMU_FETCH), Pf(PF_P | PF_ID));
    EXPECT_EQ(user(0x00401000, MMU_FETCH), Pf(PF_P | PF_ID | PF_U));
    EXPECT_EQ(translate(c, 0x00402000, MMU_FETCH), Pa(0x00202000));
    // with NXE every fetch fault reports I/D, not-present ones too
    EXPECT_EQ(translate(c, 0x00407000, MMU_FETCH), Pf(PF_ID));
    EXPECT_EQ(user(0x00407000, MMU_FETCH), Pf(PF_ID | PF_U));
    EXPECT_EQ(translate(c, 0x00407000, MMU_READ), Pf(0));
    // XD in the PDE forbids fetches from every page below it
    pde(2, PAE_PT | P | RW | US | XD);
    ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
    EXPECT_EQ(translate(c, 0x00402000, MMU_FETCH), Pf(PF_P | PF_ID));
    // 2 MiB page with XD
    pde(4, 0x00e00000 | P | RW | PS | XD);
    EXPECT_EQ(translate(c, 0x00800000, MMU_FETCH), Pf(PF_P | PF_ID));
    EXPECT_EQ(translate(c, 0x00800000, MMU_READ), Pa(0x00e00000));
    // clearing NXE flushes the TLB and makes bit 63 reserved again
    uint32_t pa;
    EXPECT_TRUE(mmu_lookup_fast(c, 0x00800000, MMU_READ, &pa));
    nxe(false);
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00800000, MMU_READ, &pa));
    EXPECT_EQ(translate(c, 0x00800000, MMU_READ), Pf(PF_P | PF_RSVD));
    // the TLB keeps the no-execute right: a read fill does not allow a fetch
    nxe(true);
    pde(2, PAE_PT | P | RW | US);
    ASSERT_EQ(mov_cr(c, 3, PDPT), DONE);
    EXPECT_EQ(translate(c, 0x00401000, MMU_READ), Pa(0x00201000));
    EXPECT_FALSE(mmu_lookup_fast(c, 0x00401000, MMU_FETCH, &pa));
    EXPECT_EQ(translate(c, 0x00401000, MMU_FETCH), Pf(PF_P | PF_ID));
}

TEST_F(PagingPae, PdpteReservedBitsRaiseGp)
{
    uint64_t before[4];
    memcpy(before, c->pdpte, sizeof(before));
    // present PDPTE with reserved bits: bits 2:1, 8:5, 63:36 (no XD at this level)
    for (int bit : {1, 2, 5, 6, 7, 8, 36, 50, 63}) {
        pdpte(3, PAE_PD | P | 1ull << bit);
        EXPECT_EQ(mov_cr(c, 3, PDPT), Gp()) << bit;
        EXPECT_EQ(c->cr[3], PDPT);
        EXPECT_EQ(memcmp(before, c->pdpte, sizeof(before)), 0);
    }
    // ignored/valid bits load fine: PWT PCD (3, 4), 11:9, address bits 35:32
    pdpte(3, PAE_PD | P | 0x18 | 0xe00 | 0xfull << 32);
    EXPECT_EQ(mov_cr(c, 3, PDPT), DONE);
    EXPECT_EQ(c->pdpte[3], (uint64_t)(PAE_PD | P | 0x18 | 0xe00) | 0xfull << 32);
    // a not-present PDPTE may hold anything
    pdpte(3, 0xfffffffffffffffeull);
    EXPECT_EQ(mov_cr(c, 3, PDPT), DONE);
    // the PDPTEs also load on CR0.PG and CR4.PGE/PSE/PAE changes with PAE paging
    pdpte(3, P | 2);
    EXPECT_EQ(mov_cr(c, 4, CR4_PAE | CR4_PSE | CR4_PGE), Gp());
    EXPECT_EQ(c->cr[4], CR4_PAE | CR4_PSE);
    EXPECT_EQ(mov_cr(c, 4, CR4_PAE), Gp());
    EXPECT_EQ(mov_cr(c, 0, c->cr[0] | CR0_WP), DONE); // WP alone does not load them
    uint32_t cr0 = c->cr[0];
    EXPECT_EQ(mov_cr(c, 0, cr0 & ~CR0_PG), DONE); // paging off: nothing to load
    EXPECT_EQ(mov_cr(c, 3, PDPT), DONE);          // without PAE paging: not loaded
    EXPECT_EQ(mov_cr(c, 0, cr0), Gp());
    EXPECT_EQ(c->cr[0], cr0 & ~CR0_PG);
    pdpte(3, 0);
    EXPECT_EQ(mov_cr(c, 0, cr0), DONE);
    EXPECT_EQ(c->pdpte[3], 0u);
    // CR3 bits 31:5 locate the PDPT
    wr64(0x105000 + 0x60, PAE_PD | P);
    EXPECT_EQ(mov_cr(c, 3, 0x105060), DONE);
    EXPECT_EQ(c->pdpte[0], (uint64_t)(PAE_PD | P));
    EXPECT_EQ(c->pdpte[1], 0u);
}

TEST_F(PagingPae, SwitchingBackTo32BitPaging)
{
    // clearing CR4.PAE with paging on is allowed and goes back to 2-level tables
    h.wr32(0x106000 + 4 * 0, 0x108000 | P | RW); // as a PDPTE: R/W is reserved
    h.wr32(0x106000 + 4 * 1, 0x107000 | P | RW);
    h.wr32(0x107000 + 4 * 2, 0x00555000 | P | RW);
    pte(2, 0x00666000 | P | RW);
    EXPECT_EQ(translate(c, 0x00402000, MMU_READ), Pa(0x00666000));
    ASSERT_EQ(mov_cr(c, 3, 0x106000), Gp()); // the 32-bit PD is no valid PDPT
    ASSERT_EQ(mov_cr(c, 4, 0), DONE);
    ASSERT_EQ(mov_cr(c, 3, 0x106000), DONE);
    EXPECT_EQ(translate(c, 0x00402000, MMU_READ), Pa(0x00555000));
}

// ---------------------------------------------------------------- EFER and CPUID

TEST(Efer, ReadWriteAndReservedBits)
{
    CpuHarness h;
    h.flat32();
    Cpu *c = h.c;
    uint64_t v = 1;
    EXPECT_EQ(rdmsr(c, EFER, &v), DONE);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(wrmsr(c, EFER, EFER_NXE), DONE);
    EXPECT_EQ(rdmsr(c, EFER, &v), DONE);
    EXPECT_EQ(v, 0x800u);
    // SCE (0), LME (8), LMA (10) and everything else: #GP(0), value unchanged
    for (int bit : {0, 1, 8, 10, 12, 14, 32, 63}) {
        EXPECT_EQ(wrmsr(c, EFER, EFER_NXE | 1ull << bit), Gp()) << bit;
        EXPECT_EQ(c->msr_efer, EFER_NXE);
    }
    EXPECT_EQ(wrmsr(c, EFER, 0), DONE);
    EXPECT_EQ(c->msr_efer, 0u);
    c->cpl = 3;
    EXPECT_EQ(rdmsr(c, EFER, &v), Gp());
    EXPECT_EQ(wrmsr(c, EFER, EFER_NXE), Gp());
    EXPECT_EQ(c->msr_efer, 0u);
}

TEST(CpuidPaging, AdvertisesPaeAndNx)
{
    CpuHarness h;
    uint32_t r[4];
    cpuid_query(h.c, 1, 0, r);
    EXPECT_EQ(r[3] & (1u << 6), 1u << 6);   // PAE
    EXPECT_EQ(r[3] & (1u << 3), 1u << 3);   // PSE
    EXPECT_EQ(r[3] & (1u << 13), 1u << 13); // PGE
    EXPECT_EQ(r[3] & (1u << 17), 0u);       // no PSE-36
    cpuid_query(h.c, 0x80000000u, 0, r);
    EXPECT_GE(r[0], 0x80000001u);
    cpuid_query(h.c, 0x80000001u, 0, r);
    EXPECT_EQ(r[3], 1u << 20); // NX; no SYSCALL (11), no LM (29)
    EXPECT_EQ(r[2], 0u);
    // CR4.PAE is accepted now
    EXPECT_EQ(mov_cr(h.c, 4, CR4_PAE), DONE);
    EXPECT_EQ(h.c->cr[4], CR4_PAE);
}

} // namespace
