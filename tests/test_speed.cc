// test_speed.cc — the interpreter's fast paths must not be visible to the guest: the
// decoded-instruction cache under self-modifying code (the next instruction, an
// immediate inside a loop, host-side writes, page- and limit-crossing instructions,
// the same bytes in 16- and 32-bit code), and cpu_run's single setjmp (faults taken and
// delivered in the middle of a run, exact instruction counts, triple fault).

#include <gtest/gtest.h>

#include "cpu_harness.h"

extern "C" {
#include "cpu/mmu.h"
}

namespace {

// A guest store rewrites the instruction right after it, once it has been cached.
TEST(Speed, SelfModifyingNextInstruction)
{
    CpuHarness h;
    h.flat32();
    h.load(0x1000, {0x88, 0x03, // mov [ebx], al
                    0x90,       // nop (becomes inc eax)
                    0xf4});     // hlt
    h.c->regs[R_EBX] = 0x1002;
    h.c->regs[R_EAX] = 0x90; // first pass stores the same byte: nop is decoded and cached
    h.step(2);
    EXPECT_EQ(h.c->regs[R_EAX], 0x90u);
    EXPECT_EQ(h.c->eip, 0x1003u);
    h.c->eip = 0x1000;
    h.c->regs[R_EAX] = 0x40; // now store 0x40 = inc eax over the cached nop
    h.step(2);
    EXPECT_EQ(h.ram[0x1002], 0x40);
    EXPECT_EQ(h.c->regs[R_EAX], 0x41u);
    EXPECT_EQ(h.c->eip, 0x1003u);
}

// A loop that increments the immediate of its own first instruction.
TEST(Speed, SelfModifyingLoopImmediate)
{
    CpuHarness h;
    h.flat32();
    h.load(0x2000, {0x05, 0x01, 0x00, 0x00, 0x00,       // add eax, 1
                    0xff, 0x05, 0x01, 0x20, 0x00, 0x00, // inc dword [0x2001]
                    0x49,                               // dec ecx
                    0x75, 0xf2,                         // jnz 0x2000
                    0xf4});                             // hlt
    h.c->eip = 0x2000;
    h.c->regs[R_EAX] = 0;
    h.c->regs[R_ECX] = 5;
    uint64_t ic = h.c->icount;
    EXPECT_EQ(cpu_run(h.c, 1000), CPU_EXIT_HALT);
    EXPECT_EQ(h.c->regs[R_EAX], 1u + 2 + 3 + 4 + 5);
    EXPECT_EQ(h.rd32(0x2001), 6u);
    EXPECT_EQ(h.c->icount - ic, 5u * 4 + 1);
    EXPECT_EQ(h.c->eip, 0x200fu);
}

// Memory changed behind the CPU's back (as DMA does) is seen on the next fetch.
TEST(Speed, HostWriteToCachedCode)
{
    CpuHarness h;
    h.flat32();
    h.load(0x1000, {0x90}); // nop
    h.c->regs[R_EAX] = 7;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 7u);
    h.ram[0x1000] = 0x40; // inc eax
    h.c->eip = 0x1000;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 8u);
    EXPECT_EQ(h.c->eip, 0x1001u);
    // a change in the last byte of a 15-byte instruction: 11 x CS prefix, 66, then
    // add ax, imm16
    std::vector<uint8_t> code(11, 0x2e);
    code.push_back(0x66);
    code.push_back(0x05);
    code.push_back(0x34);
    code.push_back(0x12); // add ax, 0x1234: 15 bytes in all
    h.load(0x3000, code);
    h.c->eip = 0x3000;
    h.c->regs[R_EAX] = 0;
    h.step();
    EXPECT_EQ(h.c->eip, 0x300fu);
    EXPECT_EQ(h.c->regs[R_EAX], 0x1234u);
    h.ram[0x300e] = 0x56;
    h.c->eip = 0x3000;
    h.c->regs[R_EAX] = 0;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 0x5634u);
}

// The same bytes decode differently in 16- and 32-bit code.
TEST(Speed, SameBytesOtherCodeSize)
{
    CpuHarness h;
    h.load(0x3000, {0xb8, 0x34, 0x12, 0x78, 0x56, 0xf4});
    h.c->eip = 0x3000;
    h.c->regs[R_EAX] = 0;
    h.step(); // real mode: mov ax, 0x1234
    EXPECT_EQ(h.c->eip, 0x3003u);
    EXPECT_EQ(h.c->regs[R_EAX], 0x1234u);
    h.flat32();
    h.c->eip = 0x3000;
    h.step(); // 32-bit: mov eax, 0x56781234
    EXPECT_EQ(h.c->eip, 0x3005u);
    EXPECT_EQ(h.c->regs[R_EAX], 0x56781234u);
}

// An instruction that crosses a page (fetched in two chunks) and one that wraps at the
// 64 KiB real-mode limit (fetched byte by byte) still see later changes.
TEST(Speed, CrossingInstructionsRefetch)
{
    CpuHarness h;
    h.flat32();
    h.load(0x1ffe, {0xb8, 0x11, 0x22, 0x33, 0x44}); // mov eax, 0x44332211 over 0x2000
    h.c->eip = 0x1ffe;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 0x44332211u);
    h.ram[0x2001] = 0x99;
    h.c->eip = 0x1ffe;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 0x44992211u);
    EXPECT_EQ(h.c->eip, 0x2003u);

    CpuHarness r; // real mode: B8 at FFFE, 34 at FFFF, then the offset wraps to 0000
    r.load(0xfffe, {0xb8, 0x34});
    r.ram[0] = 0x12;
    r.c->eip = 0xfffe;
    r.step();
    EXPECT_EQ(r.c->regs[R_EAX] & 0xffff, 0x1234u);
    EXPECT_EQ(r.c->eip, 0x0001u);
    r.ram[0] = 0x56;
    r.c->eip = 0xfffe;
    r.step();
    EXPECT_EQ(r.c->regs[R_EAX] & 0xffff, 0x5634u);
}

// Faults in the middle of cpu_run are delivered and the run goes on; faulting
// instructions do not count, handler instructions do.
TEST(Speed, FaultsInsideRun)
{
    CpuHarness h;
    h.load(6 * 4, {0x00, 0x20, 0x00, 0x00}); // #UD -> 0000:2000
    h.load(0x2000, {0x89, 0xe5,             // mov bp, sp
                    0x83, 0x46, 0x00, 0x02, // add word [bp+0], 2 (skip the ud2)
                    0x43,                   // inc bx
                    0xcf});                 // iret
    h.load(0x1000, {0x0f, 0x0b, 0x40, 0x0f, 0x0b, 0x40, 0xf4}); // ud2 inc ax ud2 inc ax hlt
    h.c->regs[R_EAX] = 0;
    h.c->regs[R_EBX] = 0;
    uint64_t ic = h.c->icount;
    uint32_t exc = h.c->exc_count;
    EXPECT_EQ(cpu_run(h.c, 3), CPU_EXIT_BUDGET); // mov, add, inc of the first #UD
    EXPECT_EQ(h.c->icount - ic, 3u);
    EXPECT_EQ(h.c->eip, 0x2007u);
    EXPECT_EQ(cpu_run(h.c, 1000), CPU_EXIT_HALT);
    EXPECT_EQ(h.c->icount - ic, 11u);
    EXPECT_EQ(h.c->exc_count - exc, 2u);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, 2u);
    EXPECT_EQ(h.c->regs[R_EBX] & 0xffff, 2u);
    EXPECT_EQ(h.c->regs[R_ESP] & 0xffff, 0x8000u);
    EXPECT_EQ(h.c->eip, 0x1007u);
}

// #UD with an empty IDT: #GP, then #DF, then shutdown, all inside one cpu_run.
TEST(Speed, TripleFaultInsideRun)
{
    CpuHarness h;
    h.flat32();
    h.c->idtr.base = 0;
    h.c->idtr.limit = 0;
    h.load(0x1000, {0x40, 0x0f, 0x0b, 0x40}); // inc eax; ud2; inc eax
    h.c->eip = 0x1000;
    h.c->regs[R_EAX] = 0;
    uint64_t ic = h.c->icount;
    EXPECT_EQ(cpu_run(h.c, 1000), CPU_EXIT_STOP);
    EXPECT_EQ(h.shutdowns, 1);
    EXPECT_EQ(h.c->icount - ic, 1u);
    EXPECT_EQ(h.c->regs[R_EAX], 1u);
}

// With paging the same linear address can map other physical code: the cache must
// follow the translation (it compares the bytes fetched through it).
TEST(Speed, PagingRemapRunsNewCode)
{
    CpuHarness h;
    h.flat32();
    h.wr32(0x10000, 0x11000 | 7); // PDE 0 -> page table at 0x11000
    for (uint32_t i = 0; i < 0x100; i++) h.wr32(0x11000 + 4 * i, (i << 12) | 7); // identity
    h.wr32(0x11000 + 4 * 5, 0x20000 | 7); // linear 0x5000 -> 0x20000
    h.load(0x20000, {0x40, 0xf4});        // inc eax; hlt
    h.load(0x21000, {0x48, 0xf4});        // dec eax; hlt
    h.c->cr[3] = 0x10000;
    h.c->cr[0] |= CR0_PG;
    mmu_flush(h.c);
    h.c->regs[R_EAX] = 10;
    h.c->eip = 0x5000;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 11u);
    h.wr32(0x11000 + 4 * 5, 0x21000 | 7); // now 0x5000 -> 0x21000
    mmu_flush(h.c);
    h.c->eip = 0x5000;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 10u);
    EXPECT_EQ(h.c->eip, 0x5001u);
    EXPECT_EQ(h.rd32(0x11000 + 4 * 5) & 0x20, 0x20u); // the fetch set the accessed bit
}

} // namespace
