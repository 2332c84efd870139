// test_insn.cc — integer instructions as byte strings through decode + the step loop:
// string ops with REP and segment overrides, stack instructions in 16- and 32-bit
// stack modes, near branches (16-bit wrap, CS limit), DIV #DE through the real-mode
// IVT, memory-destination forms, XCHG/XADD/CMPXCHG/CMPXCHG8B, bit ops on memory.
// Real-mode tests run with CS=DS=ES=SS=0, code at 0x1000, SP=0x8000 (CpuHarness).

#include <gtest/gtest.h>

#include <csetjmp>

#include "cpu_harness.h"

namespace {

uint16_t rd16(CpuHarness &h, uint32_t a) { return (uint16_t)(h.ram[a] | h.ram[a + 1] << 8); }
void wr16(CpuHarness &h, uint32_t a, uint16_t v)
{
    h.ram[a] = (uint8_t)v;
    h.ram[a + 1] = (uint8_t)(v >> 8);
}
uint32_t ax(CpuHarness &h) { return h.c->regs[R_EAX] & 0xffff; }

TEST(Insn, DecoderHasLanded)
{
    Insn in;
    const uint8_t nop[] = {0x90};
    ASSERT_EQ(decode(&in, nop, 1, false), DECODE_OK);
    EXPECT_EQ(in.mnem, M_NOP) << "the real decoder has not landed yet";
}

// ---- strings ----

TEST(Insn, RepMovsbForwardAndBackward)
{
    CpuHarness h;
    seg_load_real(h.c, SEG_DS, 0x300);
    seg_load_real(h.c, SEG_ES, 0x400);
    for (int i = 0; i < 8; i++) h.ram[0x3010 + i] = (uint8_t)(0xa0 + i);
    h.load(0x1000, {0xf3, 0xa4}); // rep movsb
    h.c->regs[R_ESI] = 0x10;
    h.c->regs[R_EDI] = 0x20;
    h.c->regs[R_ECX] = 0xabcd0005; // only CX counts with 16-bit addressing
    h.step();
    EXPECT_EQ(h.c->eip, 0x1002u);
    EXPECT_EQ(h.c->regs[R_ECX], 0xabcd0000u);
    EXPECT_EQ(h.c->regs[R_ESI], 0x15u);
    EXPECT_EQ(h.c->regs[R_EDI], 0x25u);
    for (int i = 0; i < 5; i++) EXPECT_EQ(h.ram[0x4020 + i], 0xa0 + i);
    EXPECT_EQ(h.ram[0x4025], 0);
    // backward, words: std; rep movsw
    h.load(0x1002, {0xfd, 0xf3, 0xa5});
    h.c->regs[R_ESI] = 0x16;
    h.c->regs[R_EDI] = 0x56;
    h.c->regs[R_ECX] = 3;
    h.step(2);
    EXPECT_EQ(h.c->regs[R_ESI], 0x10u);
    EXPECT_EQ(h.c->regs[R_EDI], 0x50u);
    EXPECT_EQ(rd16(h, 0x4056), 0xa7a6);
    EXPECT_EQ(rd16(h, 0x4054), 0xa5a4);
    EXPECT_EQ(rd16(h, 0x4052), 0xa3a2);
}

TEST(Insn, MovsSegmentOverrideAppliesToSourceOnly)
{
    CpuHarness h;
    seg_load_real(h.c, SEG_DS, 0x300);
    seg_load_real(h.c, SEG_ES, 0x400);
    seg_load_real(h.c, SEG_FS, 0x500);
    h.ram[0x5000] = 0x11;
    h.ram[0x3000] = 0x22;
    h.load(0x1000, {0x64, 0xa4}); // fs: movsb -> source FS:SI, dest still ES:DI
    h.c->regs[R_ESI] = 0;
    h.c->regs[R_EDI] = 0;
    h.step();
    EXPECT_EQ(h.ram[0x4000], 0x11);
    EXPECT_EQ(h.ram[0x3000], 0x22); // DS was not used
    // rep with override and the prefixes in the other order
    for (int i = 0; i < 4; i++) h.ram[0x5010 + i] = (uint8_t)(0x30 + i);
    h.load(0x1002, {0xf3, 0x64, 0xa4});
    h.c->regs[R_ESI] = 0x10;
    h.c->regs[R_EDI] = 0x10;
    h.c->regs[R_ECX] = 4;
    h.step();
    EXPECT_EQ(h.c->eip, 0x1005u);
    EXPECT_EQ(h.rd32(0x4010), 0x33323130u);
}

TEST(Insn, RepStosChunksAndRestarts)
{
    CpuHarness h;
    seg_load_real(h.c, SEG_ES, 0x2000); // 0x20000
    h.load(0x1000, {0xf3, 0xaa}); // rep stosb
    h.c->regs[R_EAX] = 0x5a;
    h.c->regs[R_EDI] = 0;
    h.c->regs[R_ECX] = 3000;
    h.step();
    // one bounded chunk, then the instruction is re-executed
    EXPECT_EQ(h.c->eip, 0x1000u);
    EXPECT_GT(h.c->regs[R_ECX], 0u);
    EXPECT_LT(h.c->regs[R_ECX], 3000u);
    for (int i = 0; i < 10 && h.c->eip == 0x1000; i++) h.step();
    EXPECT_EQ(h.c->eip, 0x1002u);
    EXPECT_EQ(h.c->regs[R_ECX], 0u);
    EXPECT_EQ(h.c->regs[R_EDI], 3000u);
    EXPECT_EQ(h.ram[0x20000], 0x5a);
    EXPECT_EQ(h.ram[0x20000 + 2999], 0x5a);
    EXPECT_EQ(h.ram[0x20000 + 3000], 0);
    // REP with CX = 0 does nothing
    h.load(0x1002, {0xf3, 0xab});
    h.c->regs[R_EDI] = 0x8000;
    h.step();
    EXPECT_EQ(h.c->regs[R_EDI], 0x8000u);
    EXPECT_EQ(h.c->eip, 0x1004u);
}

TEST(Insn, RepeCmpsbStopsAtMismatch)
{
    CpuHarness h;
    seg_load_real(h.c, SEG_DS, 0x300);
    seg_load_real(h.c, SEG_ES, 0x400);
    memcpy(h.ram + 0x3000, "ABCDE", 5);
    memcpy(h.ram + 0x4000, "ABXDE", 5);
    h.load(0x1000, {0xf3, 0xa6}); // repe cmpsb
    h.c->regs[R_ESI] = 0;
    h.c->regs[R_EDI] = 0;
    h.c->regs[R_ECX] = 5;
    h.step();
    EXPECT_EQ(h.c->eip, 0x1002u);
    EXPECT_EQ(h.c->regs[R_ECX], 2u);
    EXPECT_EQ(h.c->regs[R_ESI], 3u);
    EXPECT_EQ(h.c->regs[R_EDI], 3u);
    EXPECT_FALSE(h.c->eflags & FL_ZF);
    EXPECT_TRUE(h.c->eflags & FL_CF); // 'C' < 'X'
}

TEST(Insn, RepneScasbFindsByte)
{
    CpuHarness h;
    seg_load_real(h.c, SEG_ES, 0x400);
    memcpy(h.ram + 0x4000, "hello, world", 12);
    h.load(0x1000, {0xf2, 0xae}); // repne scasb
    h.c->regs[R_EAX] = ',';
    h.c->regs[R_EDI] = 0;
    h.c->regs[R_ECX] = 12;
    h.step();
    EXPECT_EQ(h.c->regs[R_EDI], 6u); // one past the match
    EXPECT_EQ(h.c->regs[R_ECX], 6u);
    EXPECT_TRUE(h.c->eflags & FL_ZF);
    // not found: runs out with ZF clear
    h.load(0x1002, {0xf2, 0xae});
    h.c->regs[R_EAX] = 'Q';
    h.c->regs[R_EDI] = 0;
    h.c->regs[R_ECX] = 12;
    h.step();
    EXPECT_EQ(h.c->regs[R_ECX], 0u);
    EXPECT_FALSE(h.c->eflags & FL_ZF);
}

TEST(Insn, LodsDirectionAndAddressSize)
{
    CpuHarness h;
    wr16(h, 0x0200, 0xbeef);
    h.load(0x1000, {0xfd, 0xad}); // std; lodsw
    h.c->regs[R_ESI] = 0x200;
    h.step(2);
    EXPECT_EQ(ax(h), 0xbeefu);
    EXPECT_EQ(h.c->regs[R_ESI], 0x1feu);
    // 16-bit SI wraps without touching the upper half of ESI
    h.ram[0xffff] = 0x77;
    h.load(0x1002, {0xfc, 0xac}); // cld; lodsb
    h.c->regs[R_ESI] = 0x1234ffff;
    h.step(2);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xff, 0x77u);
    EXPECT_EQ(h.c->regs[R_ESI], 0x12340000u);
    // 67 prefix: 32-bit ESI/EDI/ECX in real mode (segment limits raised: "unreal" mode)
    h.c->seg[SEG_DS].limit = h.c->seg[SEG_ES].limit = 0xffffffffu;
    h.ram[0x100000] = 0x42;
    h.ram[0x100000 + 65536] = 0x43;
    h.load(0x1004, {0x67, 0xf3, 0xa4}); // a32 rep movsb
    h.c->regs[R_ESI] = 0x100000;
    h.c->regs[R_EDI] = 0x200000;
    h.c->regs[R_ECX] = 0x00010001; // CX alone would be 1
    for (int i = 0; i < 200 && h.c->eip != 0x1007; i++) h.step();
    EXPECT_EQ(h.c->eip, 0x1007u);
    EXPECT_EQ(h.c->regs[R_ECX], 0u);
    EXPECT_EQ(h.c->regs[R_ESI], 0x100000u + 65537);
    EXPECT_EQ(h.c->regs[R_EDI], 0x200000u + 65537);
    EXPECT_EQ(h.ram[0x200000], 0x42);
    EXPECT_EQ(h.ram[0x200000 + 65536], 0x43);
}

TEST(Insn, StringFlat32)
{
    CpuHarness h;
    h.flat32();
    h.load(0x1000, {0xf3, 0xab}); // rep stosd
    h.c->regs[R_EAX] = 0xcafef00d;
    h.c->regs[R_EDI] = 0x20000;
    h.c->regs[R_ECX] = 4;
    h.step();
    EXPECT_EQ(h.rd32(0x2000c), 0xcafef00du);
    EXPECT_EQ(h.c->regs[R_EDI], 0x20010u);
    EXPECT_EQ(h.c->eip, 0x1002u);
}

// ---- stack ----

TEST(Insn, PushPop16)
{
    CpuHarness h;
    h.load(0x1000, {0xb8, 0x34, 0x12, // mov ax, 0x1234
                    0x50,             // push ax
                    0x5b,             // pop bx
                    0x54,             // push sp
                    0x6a, 0xff,       // push -1
                    0x66, 0x50,       // push eax (4 bytes)
                    0x66, 0x5a});     // pop edx
    h.c->regs[R_EAX] = 0xaaaa0000;
    h.step(3);
    EXPECT_EQ(h.c->regs[R_EBX] & 0xffff, 0x1234u);
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u);
    h.step(); // push sp pushes the value before the decrement
    EXPECT_EQ(rd16(h, 0x7ffe), 0x8000);
    h.step();
    EXPECT_EQ(rd16(h, 0x7ffc), 0xffff);
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x7ff8u);
    EXPECT_EQ(h.rd32(0x7ff8), 0xaaaa1234u);
    h.step();
    EXPECT_EQ(h.c->regs[R_EDX], 0xaaaa1234u);
    EXPECT_EQ(h.c->regs[R_ESP], 0x7ffcu);
}

TEST(Insn, PopEspAndPopToEspRelativeMemory)
{
    CpuHarness h;
    h.flat32();
    h.wr32(0x80000, 0x12345678);
    h.load(0x1000, {0x5c}); // pop esp
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x12345678u);
    // pop dword [esp+4]: the address uses ESP after the increment
    h.c->regs[R_ESP] = 0x80000;
    h.wr32(0x80000, 0xdeadbeef);
    h.load(0x1001, {0x8f, 0x44, 0x24, 0x04});
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x80004u);
    EXPECT_EQ(h.rd32(0x80008), 0xdeadbeefu);
    EXPECT_EQ(h.rd32(0x80004), 0u);
    // push esp pushes the old value
    h.load(0x1005, {0x54});
    h.step();
    EXPECT_EQ(h.rd32(0x80000), 0x80004u);
}

TEST(Insn, PushaPopa16And32)
{
    CpuHarness h;
    for (int r = 0; r < 8; r++)
        if (r != R_ESP) h.c->regs[r] = 0x11110000u * (r + 1) + 0x100 * r + r;
    h.load(0x1000, {0x60, 0x61, 0x66, 0x60, 0x66, 0x61}); // pusha popa pushad popad
    uint32_t saved[8];
    memcpy(saved, h.c->regs, sizeof(saved));
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u - 16);
    EXPECT_EQ(rd16(h, 0x8000 - 2), saved[R_EAX] & 0xffff);
    EXPECT_EQ(rd16(h, 0x8000 - 10), 0x8000); // original SP
    EXPECT_EQ(rd16(h, 0x8000 - 16), saved[R_EDI] & 0xffff);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP) h.c->regs[r] = 0;
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u);
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) { EXPECT_EQ(h.c->regs[r], saved[r] & 0xffff) << r; } // upper halves 0
    }
    memcpy(h.c->regs, saved, sizeof(saved));
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u - 32);
    EXPECT_EQ(h.rd32(0x8000 - 4), saved[R_EAX]);
    EXPECT_EQ(h.rd32(0x8000 - 20), 0x8000u);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP) h.c->regs[r] = 0;
    h.c->regs[R_ESP] = 0x8000 - 32;
    h.wr32(0x8000 - 20, 0x5555); // the stored ESP is skipped
    h.step();
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) { EXPECT_EQ(h.c->regs[r], saved[r]) << r; }
    }
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u);
}

TEST(Insn, EnterLeave16WithNesting)
{
    CpuHarness h;
    // outer frame at BP=0x7f00 whose saved display entry at BP-2 is 0x7e00
    h.c->regs[R_EBP] = 0x7f00;
    wr16(h, 0x7f00 - 2, 0x7abc);
    h.load(0x1000, {0xc8, 0x08, 0x00, 0x02, // enter 8, 2
                    0xc9});                 // leave
    h.step();
    // push bp (0x7ffe), push [bp-2] (0x7ffc), push frame (0x7ffa), sp = 0x7ffa - 8
    EXPECT_EQ(rd16(h, 0x7ffe), 0x7f00);
    EXPECT_EQ(rd16(h, 0x7ffc), 0x7abc);
    EXPECT_EQ(rd16(h, 0x7ffa), 0x7ffe);
    EXPECT_EQ(h.c->regs[R_EBP], 0x7ffeu);
    EXPECT_EQ(h.c->regs[R_ESP], 0x7ff2u);
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u);
    EXPECT_EQ(h.c->regs[R_EBP], 0x7f00u);
}

TEST(Insn, EnterLeave32)
{
    CpuHarness h;
    h.flat32();
    h.c->regs[R_EBP] = 0x90000;
    h.wr32(0x90000 - 4, 0x11223344);
    h.wr32(0x90000 - 8, 0x55667788);
    h.load(0x1000, {0xc8, 0x10, 0x00, 0x03, 0xc9}); // enter 16, 3; leave
    h.step();
    EXPECT_EQ(h.rd32(0x80000 - 4), 0x90000u);
    EXPECT_EQ(h.rd32(0x80000 - 8), 0x11223344u);
    EXPECT_EQ(h.rd32(0x80000 - 12), 0x55667788u);
    EXPECT_EQ(h.rd32(0x80000 - 16), 0x80000u - 4);
    EXPECT_EQ(h.c->regs[R_EBP], 0x80000u - 4);
    EXPECT_EQ(h.c->regs[R_ESP], 0x80000u - 16 - 16);
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x80000u);
    EXPECT_EQ(h.c->regs[R_EBP], 0x90000u);
}

TEST(Insn, SixteenBitStackInThirtyTwoBitCode)
{
    CpuHarness h;
    h.flat32();
    h.c->seg[SEG_SS].flags &= ~SEGF_DB; // 16-bit stack: SP only
    h.c->seg[SEG_SS].limit = 0xffff;
    h.c->regs[R_ESP] = 0x00030000; // SP = 0: the push wraps to 0xfffc
    h.load(0x1000, {0x68, 0x78, 0x56, 0x34, 0x12, 0x59}); // push 0x12345678; pop ecx
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x0003fffcu);
    EXPECT_EQ(h.rd32(0xfffc), 0x12345678u);
    h.step();
    EXPECT_EQ(h.c->regs[R_ECX], 0x12345678u);
    EXPECT_EQ(h.c->regs[R_ESP], 0x00030000u);
}

// ---- branches ----

TEST(Insn, NearBranches16)
{
    CpuHarness h;
    h.load(0x1000, {0xeb, 0x02,       // jmp +2
                    0x90, 0x90,
                    0xe8, 0x10, 0x00, // call +0x10 -> 0x1017
                    0xb8, 0x01, 0x00}); // 0x1007: mov ax, 1
    h.load(0x1017, {0xc2, 0x02, 0x00}); // ret 2
    h.step();
    EXPECT_EQ(h.c->eip, 0x1004u);
    h.step();
    EXPECT_EQ(h.c->eip, 0x1017u);
    EXPECT_EQ(rd16(h, 0x7ffe), 0x1007);
    h.step();
    EXPECT_EQ(h.c->eip, 0x1007u);
    EXPECT_EQ(h.c->regs[R_ESP], 0x8002u);
}

TEST(Insn, JmpWrapsAt16Bits)
{
    CpuHarness h;
    h.load(0xfff0, {0xeb, 0x20}); // jmp short +0x20 from 0xfff2 -> 0x0012
    h.c->eip = 0xfff0;
    h.step();
    EXPECT_EQ(h.c->eip, 0x0012u);
    h.load(0xfff0, {0xe9, 0x00, 0x02}); // jmp near +0x200 -> wraps to 0x01f3
    h.c->eip = 0xfff0;
    h.step();
    EXPECT_EQ(h.c->eip, 0x01f3u);
    // 66 prefix in 16-bit code: 32-bit displacement, target not truncated
    h.load(0x1000, {0x66, 0xe9, 0x00, 0x00, 0x01, 0x00});
    h.c->eip = 0x1000;
    h.c->seg[SEG_CS].limit = 0xfffff;
    h.step();
    EXPECT_EQ(h.c->eip, 0x11006u);
}

TEST(Insn, JccLoopJcxz)
{
    CpuHarness h;
    h.load(0x1000, {0x31, 0xc0,   // xor ax, ax  (ZF=1)
                    0x74, 0x02,   // je +2 -> 0x1006
                    0x90, 0x90,
                    0x75, 0x10,   // 0x1006: jne (not taken)
                    0xe2, 0xfe}); // 0x1008: loop self
    h.c->regs[R_ECX] = 0xffff0003;
    h.step(2);
    EXPECT_EQ(h.c->eip, 0x1006u);
    h.step();
    EXPECT_EQ(h.c->eip, 0x1008u);
    h.step(); // cx 3 -> 2, taken
    EXPECT_EQ(h.c->eip, 0x1008u);
    h.step(2); // -> 0, falls through
    EXPECT_EQ(h.c->eip, 0x100au);
    EXPECT_EQ(h.c->regs[R_ECX], 0xffff0000u);
    EXPECT_TRUE(h.c->eflags & FL_ZF); // LOOP leaves flags alone
    // JCXZ on CX = 0, and 67 E3 (JECXZ) uses ECX
    h.load(0x100a, {0xe3, 0x10});
    h.step();
    EXPECT_EQ(h.c->eip, 0x101cu);
    h.load(0x101c, {0x67, 0xe3, 0x10});
    h.step();
    EXPECT_EQ(h.c->eip, 0x101fu); // ECX = 0xffff0000: not taken
    // LOOPNE with ZF=1 stops at once, LOOPE with ZF=1 continues
    h.c->regs[R_ECX] = 5;
    h.load(0x101f, {0xe0, 0xfe, 0xe1, 0xfe});
    h.step();
    EXPECT_EQ(h.c->eip, 0x1021u);
    EXPECT_EQ(h.c->regs[R_ECX], 4u);
    h.step();
    EXPECT_EQ(h.c->eip, 0x1021u);
    EXPECT_EQ(h.c->regs[R_ECX], 3u);
}

TEST(Insn, IndirectCallAndJmp)
{
    CpuHarness h;
    wr16(h, 0x0600, 0x2000);
    h.load(0x1000, {0xbb, 0x00, 0x06, // mov bx, 0x600
                    0xff, 0x17});     // call [bx]
    h.load(0x2000, {0xbb, 0x00, 0x30, // mov bx, 0x3000
                    0xff, 0xe3});     // jmp bx
    h.step(2);
    EXPECT_EQ(h.c->eip, 0x2000u);
    EXPECT_EQ(rd16(h, 0x7ffe), 0x1005);
    h.step(2);
    EXPECT_EQ(h.c->eip, 0x3000u);
}

TEST(Insn, BranchBeyondCsLimitFaults)
{
    CpuHarness h;
    h.flat32();
    h.c->seg[SEG_CS].limit = 0x1fff;
    // IDT at 0x7000 with a 32-bit interrupt gate for #GP -> 0x08:0x1800
    h.c->idtr.base = 0x7000;
    h.c->idtr.limit = 0x7ff;
    uint32_t gate_lo = (0x08u << 16) | 0x1800, gate_hi = 0x8e00;
    h.wr32(0x7000 + 13 * 8, gate_lo);
    h.wr32(0x7000 + 13 * 8 + 4, gate_hi);
    h.load(0x1000, {0xe9, 0x00, 0x20, 0x00, 0x00}); // jmp 0x3005: beyond the limit
    h.step();
    EXPECT_EQ(h.c->eip, 0x1800u);
    EXPECT_EQ(h.rd32(0x80000 - 16), 0u);      // error code 0
    EXPECT_EQ(h.rd32(0x80000 - 12), 0x1000u); // faulting EIP
    // LOOP that would branch beyond the limit faults without decrementing ECX
    h.c->seg[SEG_CS].limit = 0x1fff; // (delivery reloaded CS from the GDT)
    h.c->regs[R_ESP] = 0x80000;
    h.c->regs[R_ECX] = 7;
    h.c->eip = 0x1ffe;
    h.load(0x1ffe, {0xe2, 0x7f});
    h.step();
    EXPECT_EQ(h.c->eip, 0x1800u);
    EXPECT_EQ(h.c->regs[R_ECX], 7u);
}

TEST(Insn, DivideErrorGoesToRealModeIvt)
{
    CpuHarness h;
    wr16(h, 0, 0x2000); // IVT[0] = 0000:2000
    wr16(h, 2, 0x0000);
    h.load(0x1000, {0xb8, 0x34, 0x12, // mov ax, 0x1234
                    0xb3, 0x00,       // mov bl, 0
                    0xf6, 0xf3});     // div bl
    h.c->eflags |= FL_IF;
    h.step(3);
    EXPECT_EQ(h.c->eip, 0x2000u);
    EXPECT_EQ(h.c->seg[SEG_CS].sel, 0u);
    EXPECT_EQ(h.c->regs[R_ESP], 0x8000u - 6);
    EXPECT_EQ(rd16(h, 0x7ffa), 0x1005); // IP of the DIV itself (a fault)
    EXPECT_EQ(rd16(h, 0x7ffc), 0x0000);
    EXPECT_TRUE(rd16(h, 0x7ffe) & FL_IF);
    EXPECT_FALSE(h.c->eflags & FL_IF);
    EXPECT_EQ(ax(h), 0x1234u); // unchanged
    // quotient overflow: 0x1234 / 0x10 = 0x123 > 0xff
    h.c->eip = 0x1005;
    h.c->regs[R_ESP] = 0x8000;
    h.c->regs[R_EBX] = 0x10;
    h.step();
    EXPECT_EQ(h.c->eip, 0x2000u);
    // AAM 0 is #DE too
    h.c->eip = 0x1100;
    h.c->regs[R_ESP] = 0x8000;
    h.load(0x1100, {0xd4, 0x00});
    h.step();
    EXPECT_EQ(h.c->eip, 0x2000u);
    EXPECT_EQ(rd16(h, 0x7ffa), 0x1100);
}

// ---- memory destinations ----

TEST(Insn, MemoryDestinationForms)
{
    CpuHarness h;
    h.c->regs[R_EBX] = 0x600;
    h.c->regs[R_ESI] = 0x10;
    h.c->regs[R_EAX] = 0x8001;
    wr16(h, 0x614, 0x7fff);
    h.ram[0x500] = 0xff;
    wr16(h, 0x600, 0xc001);
    h.load(0x1000, {0x01, 0x40, 0x04,       // add [bx+si+4], ax
                    0xfe, 0x06, 0x00, 0x05, // inc byte [0x500]
                    0xd1, 0x27,             // shl word [bx], 1
                    0x8d, 0x40, 0x05,       // lea ax, [bx+si+5]
                    0xd7});                 // xlat
    h.step();
    EXPECT_EQ(rd16(h, 0x614), 0x0000);
    EXPECT_TRUE(h.c->eflags & FL_CF);
    EXPECT_TRUE(h.c->eflags & FL_ZF);
    h.step();
    EXPECT_EQ(h.ram[0x500], 0);
    EXPECT_TRUE(h.c->eflags & FL_CF); // INC keeps CF
    EXPECT_TRUE(h.c->eflags & FL_ZF);
    h.step();
    EXPECT_EQ(rd16(h, 0x600), 0x8002);
    EXPECT_TRUE(h.c->eflags & FL_CF);
    EXPECT_FALSE(h.c->eflags & FL_OF); // CF=1, MSB=1
    h.step();
    EXPECT_EQ(ax(h), 0x615u);
    h.ram[0x600 + 0x15] = 0x99;
    h.step(); // al = [bx + al]
    EXPECT_EQ(ax(h), 0x699u);
}

TEST(Insn, MovzxMovsxSetccCmovLahf)
{
    CpuHarness h;
    h.c->regs[R_EBX] = 0x700;
    h.ram[0x700] = 0x80;
    h.ram[0x701] = 0xff;
    h.load(0x1000, {0x0f, 0xb6, 0x07,       // movzx ax, byte [bx]
                    0x66, 0x0f, 0xbf, 0x07, // movsx eax, word [bx]
                    0x39, 0xc0,             // cmp ax, ax (ZF)
                    0x0f, 0x94, 0x07,       // sete [bx]
                    0x9f,                   // lahf
                    0xf8,                   // clc
                    0x9e});                 // sahf
    h.c->regs[R_EAX] = 0xdead0000;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 0xdead0080u);
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 0xffffff80u);
    h.step(2);
    EXPECT_EQ(h.ram[0x700], 1);
    h.c->eflags |= FL_CF;
    h.step();
    EXPECT_EQ((h.c->regs[R_EAX] >> 8) & 0xff, (uint32_t)(FL_ZF | FL_PF | FL_CF | FL_FIXED1));
    h.step();
    EXPECT_FALSE(h.c->eflags & FL_CF);
    h.step();
    EXPECT_TRUE(h.c->eflags & FL_CF);

    CpuHarness g;
    g.flat32();
    g.load(0x1000, {0x0f, 0x44, 0xc1, 0x0f, 0x45, 0xc1}); // cmove eax, ecx; cmovne eax, ecx
    g.c->regs[R_EAX] = 1;
    g.c->regs[R_ECX] = 2;
    g.c->eflags |= FL_ZF;
    g.step();
    EXPECT_EQ(g.c->regs[R_EAX], 2u);
    g.c->regs[R_ECX] = 3;
    g.step();
    EXPECT_EQ(g.c->regs[R_EAX], 2u);
}

TEST(Insn, XchgXaddCmpxchg)
{
    CpuHarness h;
    h.c->regs[R_EBX] = 0x800;
    wr16(h, 0x800, 0x1111);
    h.c->regs[R_EAX] = 0x2222;
    h.c->regs[R_ECX] = 0x0005;
    h.load(0x1000, {0x87, 0x07,       // xchg [bx], ax
                    0x0f, 0xc1, 0x0f, // xadd [bx], cx
                    0x0f, 0xb1, 0x0f, // cmpxchg [bx], cx  (ax != [bx]: load ax)
                    0x0f, 0xb1, 0x0f, // cmpxchg [bx], cx  (equal: store cx)
                    0x91});           // xchg ax, cx
    h.step();
    EXPECT_EQ(rd16(h, 0x800), 0x2222);
    EXPECT_EQ(ax(h), 0x1111u);
    h.step();
    EXPECT_EQ(rd16(h, 0x800), 0x2227);
    EXPECT_EQ(h.c->regs[R_ECX], 0x2222u);
    h.step();
    EXPECT_FALSE(h.c->eflags & FL_ZF);
    EXPECT_EQ(ax(h), 0x2227u);
    EXPECT_EQ(rd16(h, 0x800), 0x2227);
    h.step();
    EXPECT_TRUE(h.c->eflags & FL_ZF);
    EXPECT_EQ(rd16(h, 0x800), 0x2222);
    h.step();
    EXPECT_EQ(ax(h), 0x2222u);
    EXPECT_EQ(h.c->regs[R_ECX], 0x2227u);
}

TEST(Insn, Cmpxchg8b)
{
    CpuHarness h;
    h.flat32();
    h.c->regs[R_EDI] = 0x9000;
    h.wr32(0x9000, 0x11111111);
    h.wr32(0x9004, 0x22222222);
    h.load(0x1000, {0x0f, 0xc7, 0x0f, 0x0f, 0xc7, 0x0f}); // cmpxchg8b [edi] twice
    h.c->regs[R_EAX] = 1;
    h.c->regs[R_EDX] = 2;
    h.c->regs[R_EBX] = 0xaaaaaaaa;
    h.c->regs[R_ECX] = 0xbbbbbbbb;
    h.c->eflags |= FL_CF;
    h.step();
    EXPECT_FALSE(h.c->eflags & FL_ZF);
    EXPECT_EQ(h.c->regs[R_EAX], 0x11111111u);
    EXPECT_EQ(h.c->regs[R_EDX], 0x22222222u);
    h.step();
    EXPECT_TRUE(h.c->eflags & FL_ZF);
    EXPECT_TRUE(h.c->eflags & FL_CF); // other flags untouched
    EXPECT_EQ(h.rd32(0x9000), 0xaaaaaaaau);
    EXPECT_EQ(h.rd32(0x9004), 0xbbbbbbbbu);
}

TEST(Insn, BitOpsOnMemoryWithRegisterOffset)
{
    CpuHarness h;
    h.c->regs[R_EBX] = 0x900;
    h.load(0x1000, {0x0f, 0xab, 0x07,  // bts [bx], ax
                    0x0f, 0xa3, 0x07,  // bt [bx], ax
                    0x0f, 0xba, 0x37, 0x03}); // btr word [bx], 3 (imm: no address offset)
    h.c->regs[R_EAX] = 35; // word 2 (bx+4), bit 3
    h.step();
    EXPECT_EQ(rd16(h, 0x904), 0x0008);
    EXPECT_FALSE(h.c->eflags & FL_CF);
    h.step();
    EXPECT_TRUE(h.c->eflags & FL_CF);
    // negative offset: -1 is bit 15 of the word below bx
    h.c->regs[R_EAX] = 0xffff;
    wr16(h, 0x8fe, 0x8000);
    h.c->eip = 0x1003;
    h.step();
    EXPECT_TRUE(h.c->eflags & FL_CF);
    wr16(h, 0x900, 0x000f);
    h.step();
    EXPECT_EQ(rd16(h, 0x900), 0x0007);
    EXPECT_TRUE(h.c->eflags & FL_CF);
}

TEST(Insn, RotateAndShiftImmediateForms)
{
    CpuHarness h;
    h.load(0x1000, {0xb8, 0x01, 0x80, // mov ax, 0x8001
                    0xc1, 0xc0, 0x04, // rol ax, 4
                    0xd0, 0xec,       // shr ah, 1
                    0xc0, 0xf8, 0x00}); // sar al, 0 (nothing)
    h.step(2);
    EXPECT_EQ(ax(h), 0x0018u);
    EXPECT_FALSE(h.c->eflags & FL_CF);
    h.step();
    EXPECT_EQ(ax(h), 0x0018u);
    uint32_t fl = h.c->eflags;
    h.step();
    EXPECT_EQ(h.c->eflags, fl);
}

} // namespace

namespace {

TEST(Insn, ImmediateCountAndMultiplyForms)
{
    CpuHarness h;
    h.flat32();
    h.load(0x1000, {0x66, 0xb8, 0x34, 0x12,       // mov ax, 0x1234
                    0x66, 0xb9, 0xcd, 0xab,       // mov cx, 0xabcd
                    0x66, 0x0f, 0xa4, 0xc8, 0x04, // shld ax, cx, 4
                    0x0f, 0xad, 0xc8,             // shrd eax, ecx, cl (cl = 0xcd -> 13)
                    0x6b, 0xc1, 0xfe,             // imul eax, ecx, -2
                    0x69, 0xd9, 0x00, 0x00, 0x01, 0x00, // imul ebx, ecx, 0x10000
                    0x0f, 0xbc, 0xd3,             // bsf edx, ebx
                    0x0f, 0xbd, 0xd1,             // bsr edx, ecx
                    0x0f, 0xca,                   // bswap edx
                    0x98,                         // cwde
                    0x99});                       // cdq
    h.c->regs[R_EAX] = 0;
    h.c->regs[R_ECX] = 0;
    h.step(3);
    EXPECT_EQ(h.c->regs[R_EAX], 0x234au);
    h.step();
    // (ecx:eax) >> 13, low 32 bits: eax = 0x0000234a >> 13 | 0xabcd << 19
    EXPECT_EQ(h.c->regs[R_EAX], (0x234au >> 13) | (0xabcdu << 19));
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], (uint32_t)(-2 * 0xabcd));
    EXPECT_FALSE(h.c->eflags & FL_CF);
    h.step();
    EXPECT_EQ(h.c->regs[R_EBX], 0xabcd0000u);
    EXPECT_TRUE(h.c->eflags & FL_OF); // 0xabcd * 0x10000 does not fit in int32
    h.step();
    EXPECT_EQ(h.c->regs[R_EDX], 16u);
    h.step();
    EXPECT_EQ(h.c->regs[R_EDX], 15u);
    h.step();
    EXPECT_EQ(h.c->regs[R_EDX], 0x0f000000u);
    h.c->regs[R_EAX] = 0x1234ff80;
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX], 0xffffff80u);
    h.step();
    EXPECT_EQ(h.c->regs[R_EDX], 0xffffffffu);
}

TEST(Insn, BcdThroughDecoder)
{
    CpuHarness h;
    h.load(0x1000, {0xb0, 0x79,       // mov al, 0x79
                    0x04, 0x35,       // add al, 0x35
                    0x27,             // daa -> 0x14, CF
                    0xd4, 0x0a,       // aam -> ah 1, al 4
                    0xd5, 0x0a,       // aad -> al 14
                    0xd6});           // salc (CF from AAD = 0)
    h.step(3);
    EXPECT_EQ(h.c->regs[R_EAX] & 0xff, 0x14u);
    EXPECT_TRUE(h.c->eflags & FL_CF);
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, 0x0200u); // 0x14 = 20 -> AH 2, AL 0
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, 20u);
    h.step();
    EXPECT_EQ(h.c->regs[R_EAX] & 0xff, 0u);
}

} // namespace

namespace {

// A fault in the middle of REP STOSB leaves the registers at the faulting element, with
// EIP at the instruction, so the handler can fix things and IRET to resume.
TEST(Insn, RepFaultMidwayKeepsProgress)
{
    CpuHarness h;
    h.flat32();
    h.c->seg[SEG_ES].limit = 0x20007; // ES: 8 bytes writable from 0x20000
    h.c->idtr.base = 0x7000;
    h.c->idtr.limit = 0x7ff;
    h.wr32(0x7000 + 13 * 8, (0x08u << 16) | 0x1800);
    h.wr32(0x7000 + 13 * 8 + 4, 0x8e00);
    h.load(0x1000, {0xf3, 0xaa}); // rep stosb
    h.c->regs[R_EAX] = 0xee;
    h.c->regs[R_EDI] = 0x20000;
    h.c->regs[R_ECX] = 20;
    h.step();
    EXPECT_EQ(h.c->eip, 0x1800u);             // in the #GP handler
    EXPECT_EQ(h.rd32(0x80000 - 12), 0x1000u); // faulting EIP = the REP STOSB
    EXPECT_EQ(h.c->regs[R_EDI], 0x20008u);
    EXPECT_EQ(h.c->regs[R_ECX], 12u);
    EXPECT_EQ(h.ram[0x20007], 0xee);
    EXPECT_EQ(h.ram[0x20008], 0);
}

TEST(Insn, Enter16OperandOn32BitStack)
{
    CpuHarness h;
    h.flat32();
    h.c->regs[R_EBP] = 0xabcd9000;
    h.load(0x1000, {0x66, 0xc8, 0x04, 0x00, 0x00, // enter 4, 0 (16-bit operand size)
                    0x66, 0xc9});                 // leave (16-bit)
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0x80000u - 2 - 4);
    EXPECT_EQ(h.ram[0x80000 - 2] | h.ram[0x80000 - 1] << 8, 0x9000);
    EXPECT_EQ(h.c->regs[R_EBP], 0xabcd0000u | ((0x80000u - 2) & 0xffff)); // only BP written
    // LEAVE copies the whole EBP to ESP (32-bit stack), then pops 2 bytes
    h.step();
    EXPECT_EQ(h.c->regs[R_ESP], 0xabce0000u);
}

} // namespace
