// test_debugreg.cc — debug registers at work (cpu/debug.c): instruction breakpoints with
// RF, data and I/O breakpoints with LEN/R-W, DR7 enables, GD, DR4/DR5 aliasing, MOV DR
// privilege, single-step, the TSS T flag and repeated string instructions. Everything
// runs through cpu_step() in 32-bit flat protected mode with an IDT whose handlers sit at
// handler(v), so each test sees the #DB exactly as a guest would: the vector taken, the
// pushed EIP/EFLAGS and DR6.
#include <gtest/gtest.h>

#include <vector>

#include "cpu_harness.h"

extern "C" {
#include "cpu/debug.h"
}

namespace {

constexpr uint32_t IDT = 0x2000, CODE = 0x1000, DATA = 0x3000, TSS = 0x6000, TSS2 = 0x6100;
constexpr uint32_t STACK0 = 0x80000;
constexpr uint32_t handler(int v)
{
    return 0x4000 + v * 16;
}
constexpr uint32_t DR6_INIT = 0xffff0ff0u;
// DR7 fields for breakpoint n
constexpr uint32_t L(int n)
{
    return 1u << (2 * n);
}
constexpr uint32_t G(int n)
{
    return 2u << (2 * n);
}
constexpr uint32_t RW(int n, unsigned rw)
{
    return rw << (16 + 4 * n);
}
constexpr uint32_t LEN(int n, unsigned len)
{
    return len << (18 + 4 * n);
}
enum { RW_X = 0, RW_W = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3 };

struct DbgHarness : CpuHarness {
    DbgHarness()
    {
        flat32();
        // GDT: 0x08 code, 0x10 data (flat32), 0x18 busy TSS, 0x20 available TSS,
        // 0x28 ring-3 code, 0x30 ring-3 data
        put_desc(0x518, TSS, 0x67, SEGF_P | 0xb);
        put_desc(0x520, TSS2, 0x67, SEGF_P | 0x9);
        put_desc(0x528, 0, 0xfffff,
                 SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_DB | SEGF_G | 3u << SEGF_DPL_SHIFT);
        put_desc(0x530, 0, 0xfffff,
                 SEGF_P | SEGF_S | SEGF_RW | SEGF_DB | SEGF_G | 3u << SEGF_DPL_SHIFT);
        c->gdtr.limit = 0x37;
        c->tr.sel = 0x18;
        c->tr.base = TSS;
        c->tr.limit = 0x67;
        c->tr.flags = SEGF_P | 0xb;
        wr32(TSS + 4, STACK0); // ESP0
        wr32(TSS + 8, 0x10);   // SS0
        for (int v = 0; v < 32; v++) {
            wr32(IDT + v * 8, (handler(v) & 0xffff) | 0x08u << 16);
            wr32(IDT + v * 8 + 4, (handler(v) & 0xffff0000u) | 0x8e00); // 32-bit int gate
            ram[handler(v)] = 0xcf;                                     // iret
        }
        c->idtr.base = IDT;
        c->idtr.limit = 32 * 8 - 1;
        c->eflags = FL_FIXED1;
        c->regs[R_ESP] = STACK0;
    }
    void code(std::initializer_list<uint8_t> bytes, uint32_t at = CODE)
    {
        load(at, bytes);
        c->eip = at;
    }
    // MOV DRn, EAX executed as an instruction (so DR7 writes go through debug_update)
    void mov_dr(int n, uint32_t v)
    {
        uint32_t eip = c->eip, eax = c->regs[R_EAX];
        load(0xf00, {0x0f, 0x23, (uint8_t)(0xc0 | n << 3)});
        c->eip = 0xf00;
        c->regs[R_EAX] = v;
        step();
        EXPECT_EQ(c->eip, 0xf03u) << "mov dr" << n << " faulted";
        c->eip = eip;
        c->regs[R_EAX] = eax;
    }
    // The frame of a same-level interrupt: EIP, CS, EFLAGS
    uint32_t pushed_eip() const { return rd32(c->regs[R_ESP]); }
    uint32_t pushed_eflags() const { return rd32(c->regs[R_ESP] + 8); }
    bool in_db() const { return c->eip == handler(EXC_DB); }
};

TEST(DebugReg, ExecBreakpointFaultsAndRfResumes)
{
    DbgHarness h;
    Cpu *c = h.c;
    // 1000: mov eax, 1 ; 1005: inc eax ; 1006: jmp 1005
    h.code({0xb8, 0x01, 0, 0, 0, 0x40, 0xeb, 0xfd});
    h.mov_dr(0, 0x1005);
    h.mov_dr(7, L(0) | RW(0, RW_X) | LEN(0, LEN1));
    EXPECT_TRUE(cpu_debug_active(c));
    h.step(); // mov eax, 1
    EXPECT_EQ(c->eip, 0x1005u);
    h.step(); // the breakpoint: a fault before inc eax
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x1005u);
    EXPECT_EQ(h.pushed_eflags() & FL_RF, 0u); // the instruction breakpoint pushes RF as it was
    EXPECT_EQ(c->regs[R_EAX], 1u);            // not executed
    EXPECT_EQ(c->dr[6], DR6_INIT | 1u);       // B0
    // a handler that returns with a plain IRET hits the breakpoint again
    h.step(); // iret
    EXPECT_EQ(c->eip, 0x1005u);
    h.step();
    ASSERT_TRUE(h.in_db());
    // with RF set in the image the instruction runs once, then RF is clear again
    h.wr32(c->regs[R_ESP] + 8, h.pushed_eflags() | FL_RF);
    h.step(); // iret
    EXPECT_EQ(c->eip, 0x1005u);
    EXPECT_TRUE(c->eflags & FL_RF);
    h.step(); // inc eax
    EXPECT_EQ(c->regs[R_EAX], 2u);
    EXPECT_EQ(c->eip, 0x1006u);
    EXPECT_EQ(c->eflags & FL_RF, 0u);
    h.step(); // jmp 1005
    h.step(); // breakpoint again
    EXPECT_TRUE(h.in_db());
    EXPECT_EQ(c->regs[R_EAX], 2u);
}

TEST(DebugReg, DisabledOrOtherAddressDoesNotTrigger)
{
    DbgHarness h;
    Cpu *c = h.c;
    h.code({0x90, 0x90, 0x90, 0x90});
    h.mov_dr(0, 0x1002);
    // R/W and LEN set, but neither L0 nor G0: nothing
    h.mov_dr(7, RW(0, RW_X));
    EXPECT_FALSE(cpu_debug_active(c));
    h.step(3);
    EXPECT_EQ(c->eip, 0x1003u);
    // G0 alone enables it; an enabled breakpoint elsewhere does not
    c->eip = CODE;
    h.mov_dr(1, 0x1003);
    h.mov_dr(7, G(1));
    h.step(3); // 1000, 1001, 1002
    EXPECT_EQ(c->eip, 0x1003u);
    h.step();
    EXPECT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x1003u);
    EXPECT_EQ(c->dr[6] & 0xf, 2u); // B1 only
}

TEST(DebugReg, FaultsPushRfAndResumePastTheBreakpoint)
{
    DbgHarness h;
    Cpu *c = h.c;
    // 1000: mov [ebx], eax with EBX outside DS: #GP; the #GP handler fixes EBX and returns
    h.code({0x89, 0x03, 0x90});
    c->seg[SEG_DS].limit = 0xffff;
    c->regs[R_EBX] = 0x20000;
    h.mov_dr(0, 0x1000);
    h.mov_dr(7, L(0));
    h.step();
    ASSERT_TRUE(h.in_db()); // instruction breakpoint first, RF pushed 0
    EXPECT_EQ(h.pushed_eflags() & FL_RF, 0u);
    h.wr32(c->regs[R_ESP] + 8, h.pushed_eflags() | FL_RF);
    h.step(); // iret with RF
    h.step(); // the store: #GP, a fault: RF pushed as 1
    ASSERT_EQ(c->eip, handler(EXC_GP));
    EXPECT_EQ(h.rd32(c->regs[R_ESP] + 4), 0x1000u); // error code 0, then EIP
    EXPECT_TRUE(h.rd32(c->regs[R_ESP] + 12) & FL_RF);
    EXPECT_EQ(c->eflags & FL_RF, 0u); // cleared in the handler
    c->regs[R_EBX] = DATA;
    c->regs[R_ESP] += 4; // drop the error code, then IRET
    h.step();
    EXPECT_EQ(c->eip, 0x1000u);
    h.step(); // no second #DB: RF came back from the #GP frame
    EXPECT_EQ(c->eip, 0x1002u);
    EXPECT_EQ(h.rd32(DATA), c->regs[R_EAX]);
}

TEST(DebugReg, DataWriteBreakpointTrapsAfterTheWrite)
{
    DbgHarness h;
    Cpu *c = h.c;
    c->regs[R_EAX] = 0x5a;
    // 1000: mov [3003], al ; 1005: mov al, [3002] ; 100a: nop
    h.code({0xa2, 0x03, 0x30, 0, 0, 0xa0, 0x02, 0x30, 0, 0, 0x90});
    h.mov_dr(1, 0x3002);
    h.mov_dr(7, L(1) | RW(1, RW_W) | LEN(1, LEN2)); // 3002..3003, writes
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x1005u); // a trap: after the instruction
    EXPECT_EQ(h.ram[0x3003], 0x5a);     // which completed
    EXPECT_EQ(c->dr[6], DR6_INIT | 2u); // B1
    h.step();                           // iret
    h.step();                           // the read: R/W 01 ignores it
    h.step();
    EXPECT_EQ(c->eip, 0x100bu);
    // R/W 11 catches the read too
    c->eip = 0x1005;
    h.mov_dr(7, L(1) | RW(1, RW_RW) | LEN(1, LEN2));
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x100au);
}

TEST(DebugReg, LengthMasksAndOverlap)
{
    DbgHarness h;
    Cpu *c = h.c;
    struct Case {
        uint32_t dr;
        unsigned len;
        uint32_t addr;
        unsigned size; // 1, 2, 4
        bool hit;
    } cases[] = {
        {0x3005, LEN4, 0x3004, 1, true},  // aligned down to 3004..3007
        {0x3005, LEN4, 0x3007, 1, true},
        {0x3005, LEN4, 0x3008, 1, false},
        {0x3005, LEN4, 0x3003, 1, false},
        {0x3005, LEN4, 0x3001, 4, true}, // 3001..3004 overlaps
        {0x3005, LEN4, 0x3000, 4, false},
        {0x3003, LEN2, 0x3002, 1, true}, // 3002..3003
        {0x3003, LEN2, 0x3004, 2, false},
        {0x3003, LEN1, 0x3002, 2, true}, // a word write covering the byte
        {0x3003, LEN1, 0x3002, 1, false},
        {0x3009, LEN8, 0x300f, 1, true}, // LEN 10: 8 bytes, 3008..300f
        {0x3009, LEN8, 0x3010, 1, false},
    };
    for (const Case &k : cases) {
        h.mov_dr(2, k.dr);
        h.mov_dr(7, L(2) | RW(2, RW_W) | LEN(2, k.len));
        c->dr[6] = DR6_INIT;
        c->regs[R_ESP] = STACK0;
        uint8_t a0 = (uint8_t)k.addr, a1 = (uint8_t)(k.addr >> 8);
        if (k.size == 1)
            h.code({0xa2, a0, a1, 0, 0}); // mov [addr], al
        else if (k.size == 2)
            h.code({0x66, 0xa3, a0, a1, 0, 0}); // mov [addr], ax
        else
            h.code({0xa3, a0, a1, 0, 0}); // mov [addr], eax
        h.step();
        EXPECT_EQ(h.in_db(), k.hit) << std::hex << k.dr << " len " << k.len << " at " << k.addr
                                    << " size " << k.size;
        EXPECT_EQ(c->dr[6] & 0xf, k.hit ? 4u : 0u);
    }
}

TEST(DebugReg, SingleStepSetsBsAndMergesWithDataHits)
{
    DbgHarness h;
    Cpu *c = h.c;
    // 1000: nop ; 1001: mov [3000], eax
    h.code({0x90, 0xa3, 0x00, 0x30, 0, 0});
    c->eflags |= FL_TF;
    EXPECT_TRUE(cpu_debug_active(c));
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x1001u);
    EXPECT_TRUE(h.pushed_eflags() & FL_TF);
    EXPECT_EQ(c->eflags & FL_TF, 0u); // the handler runs without TF
    EXPECT_EQ(c->dr[6], DR6_INIT | DR6_BS);
    h.step(); // iret: TF back, the trap comes after the next instruction
    EXPECT_EQ(c->eip, 0x1001u);
    EXPECT_TRUE(c->eflags & FL_TF);
    // a data breakpoint on the same instruction: one #DB with BS and B3
    c->eflags &= ~FL_TF;
    h.mov_dr(3, DATA);
    h.mov_dr(7, L(3) | RW(3, RW_W) | LEN(3, LEN4));
    c->eflags |= FL_TF;
    c->dr[6] = DR6_INIT;
    uint32_t esp = c->regs[R_ESP];
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(c->regs[R_ESP], esp - 12); // a single frame
    EXPECT_EQ(h.pushed_eip(), 0x1006u);
    EXPECT_EQ(c->dr[6], DR6_INIT | DR6_BS | 8u);
}

TEST(DebugReg, MovSsHoldsTrapsOverTheNextInstruction)
{
    DbgHarness h;
    Cpu *c = h.c;
    // mov ss, ax ; mov esp, 0x70000 ; nop
    h.code({0x8e, 0xd0, 0xbc, 0x00, 0x00, 0x07, 0x00, 0x90});
    c->regs[R_EAX] = 0x10;
    c->eflags |= FL_TF;
    h.step(); // no trap yet
    EXPECT_EQ(c->eip, 0x1002u);
    h.step(); // mov esp: one #DB, on the new stack
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(c->regs[R_ESP], 0x70000u - 12);
    EXPECT_EQ(h.pushed_eip(), 0x1007u);
    EXPECT_EQ(c->dr[6], DR6_INIT | DR6_BS);
    // pop ss reading a watched stack slot: the B bit comes after the next instruction,
    // whose instruction breakpoint is not checked
    c->eflags &= ~FL_TF;
    c->dr[6] = DR6_INIT;
    h.code({0x17, 0x90, 0x90}); // pop ss ; nop ; nop
    c->regs[R_ESP] = 0x7000;
    h.wr32(0x7000, 0x10);
    h.mov_dr(0, 0x7000);
    h.mov_dr(1, 0x1001);
    h.mov_dr(7, L(0) | RW(0, RW_RW) | LEN(0, LEN4) | L(1));
    h.step();
    EXPECT_EQ(c->eip, 0x1001u);
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x1002u);
    EXPECT_EQ(c->dr[6], DR6_INIT | 1u);
}

TEST(DebugReg, RepStringStopsAfterTheIterationThatHit)
{
    DbgHarness h;
    Cpu *c = h.c;
    h.code({0xf3, 0xaa, 0x90}); // rep stosb ; nop
    c->regs[R_EDI] = DATA;
    c->regs[R_ECX] = 16;
    c->regs[R_EAX] = 0x77;
    h.mov_dr(0, DATA + 5);
    h.mov_dr(7, L(0) | RW(0, RW_W));
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(c->regs[R_ECX], 10u); // 6 elements stored
    EXPECT_EQ(c->regs[R_EDI], DATA + 6);
    EXPECT_EQ(h.ram[DATA + 6], 0);
    EXPECT_EQ(h.pushed_eip(), 0x1000u);     // resumes the same instruction
    EXPECT_TRUE(h.pushed_eflags() & FL_RF); // not the last iteration: RF pushed as 1
    h.step();                               // iret
    h.step();                               // the rest
    EXPECT_EQ(c->regs[R_ECX], 0u);
    EXPECT_EQ(c->eip, 0x1002u);
    EXPECT_EQ(h.ram[DATA + 15], 0x77);
    // single-stepping a repeated instruction stops after every iteration
    h.mov_dr(7, 0);
    c->regs[R_EDI] = DATA;
    c->regs[R_ECX] = 3;
    c->eip = CODE;
    c->eflags |= FL_TF;
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(c->regs[R_ECX], 2u);
    EXPECT_EQ(h.pushed_eip(), 0x1000u);
}

TEST(DebugReg, IoBreakpointNeedsCr4De)
{
    DbgHarness h;
    Cpu *c = h.c;
    h.code({0xe6, 0x80, 0xe4, 0x81, 0x90}); // out 80h, al ; in al, 81h ; nop
    h.mov_dr(2, 0x80);
    h.mov_dr(7, L(2) | RW(2, RW_IO) | LEN(2, LEN1));
    h.step(2); // without CR4.DE the encoding means nothing here
    EXPECT_EQ(c->eip, 0x1004u);
    c->cr[4] |= CR4_DE;
    c->eip = CODE;
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x1002u);
    EXPECT_EQ(c->dr[6] & 0xf, 4u);
    EXPECT_EQ(h.io_writes.size(), 2u); // the OUT happened (twice now)
    h.step(); // iret
    h.step(); // in al, 81h: outside the 1-byte range
    EXPECT_EQ(c->eip, 0x1004u);
    // rep outsb to port 80h: the trap follows each iteration
    h.code({0xf3, 0x6e, 0x90});
    c->regs[R_EDX] = 0x80;
    c->regs[R_ESI] = DATA;
    c->regs[R_ECX] = 3;
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(c->regs[R_ECX], 2u);
    EXPECT_EQ(h.pushed_eip(), 0x1000u);
    EXPECT_TRUE(h.pushed_eflags() & FL_RF);
}

TEST(DebugReg, GeneralDetectIsAFaultWithBd)
{
    DbgHarness h;
    Cpu *c = h.c;
    h.mov_dr(7, DR7_GD);
    h.code({0x0f, 0x21, 0xc0}); // mov eax, dr0
    h.step();
    ASSERT_TRUE(h.in_db());
    EXPECT_EQ(h.pushed_eip(), 0x1000u); // before the access
    EXPECT_TRUE(c->dr[6] & DR6_BD);
    EXPECT_EQ(c->dr[7] & DR7_GD, 0u); // cleared so the handler can use the registers
    EXPECT_TRUE(h.pushed_eflags() & FL_RF);
    h.step(); // iret
    h.step(); // now it works
    EXPECT_EQ(c->eip, 0x1003u);
}

TEST(DebugReg, Dr4Dr5AliasUnlessCr4De)
{
    DbgHarness h;
    Cpu *c = h.c;
    h.code({0x0f, 0x21, 0xe0}); // mov eax, dr4
    h.step();
    EXPECT_EQ(c->regs[R_EAX], c->dr[6]);
    h.code({0x0f, 0x23, 0xe8}); // mov dr5, eax: writes DR7
    c->regs[R_EAX] = G(0);
    h.step();
    EXPECT_EQ(c->dr[7], 0x400u | G(0));
    EXPECT_TRUE(c->dbg_armed & DBG_EXEC);
    c->cr[4] |= CR4_DE;
    h.code({0x0f, 0x21, 0xe0});
    h.step();
    EXPECT_EQ(c->eip, handler(EXC_UD));
    EXPECT_EQ(h.pushed_eip(), 0x1000u);
}

TEST(DebugReg, MovDrAtCpl3IsGp)
{
    DbgHarness h;
    Cpu *c = h.c;
    c->cpl = 3;
    seg_cache_from_desc(&c->seg[SEG_CS], 0x2b, h.rd32(0x528), h.rd32(0x52c));
    for (int s : {SEG_SS, SEG_DS, SEG_ES})
        seg_cache_from_desc(&c->seg[s], 0x33, h.rd32(0x530), h.rd32(0x534));
    c->regs[R_ESP] = 0x70000;
    h.code({0x0f, 0x21, 0xc0}); // mov eax, dr0
    c->dr[0] = 0x1234;
    c->regs[R_EAX] = 0;
    h.step();
    EXPECT_EQ(c->eip, handler(EXC_GP));
    EXPECT_EQ(c->cpl, 0);
    EXPECT_EQ(h.rd32(c->regs[R_ESP]), 0u); // error code 0
    EXPECT_EQ(c->regs[R_EAX], 0u);
    c->eip = CODE;
    c->cpl = 3;
    seg_cache_from_desc(&c->seg[SEG_CS], 0x2b, h.rd32(0x528), h.rd32(0x52c));
    h.code({0x0f, 0x23, 0xf8}); // mov dr7, eax
    c->regs[R_ESP] = 0x70000;
    c->regs[R_EAX] = L(0);
    h.step();
    EXPECT_EQ(c->eip, handler(EXC_GP));
    EXPECT_EQ(c->dr[7], 0x400u);
    EXPECT_EQ(c->dbg_armed, 0);
}

// The new task behind selector 0x20: EIP 1100 (a NOP), flat ring-0 segments.
void new_task(DbgHarness &h, bool t_flag)
{
    h.wr32(TSS2 + 0x20, 0x1100);
    h.wr32(TSS2 + 0x24, FL_FIXED1);
    h.wr32(TSS2 + 0x38, 0x70000);
    for (int i = 0; i < SEG_COUNT; i++) h.wr32(TSS2 + 0x48 + 4 * i, i == SEG_CS ? 0x08 : 0x10);
    h.wr32(TSS2 + 0x64, t_flag ? 1 : 0);
    h.load(0x1100, {0x90});
    h.code({0xea, 0, 0, 0, 0, 0x20, 0x00}); // jmp 0020:0
}

TEST(DebugReg, TaskSwitchTrapAndLocalEnablesCleared)
{
    {
        // breakpoints armed: the BT trap follows the JMP in the same step
        DbgHarness h;
        Cpu *c = h.c;
        h.mov_dr(0, 0x5000);
        h.mov_dr(1, 0x5000);
        h.mov_dr(7, L(0) | G(1) | RW(0, RW_W) | RW(1, RW_W));
        new_task(h, true);
        h.step();
        EXPECT_EQ(c->tr.sel, 0x20);
        EXPECT_EQ(c->dr[7], 0x400u | G(1) | RW(0, RW_W) | RW(1, RW_W)); // L0 cleared
        ASSERT_TRUE(h.in_db());
        EXPECT_EQ(h.pushed_eip(), 0x1100u); // before the new task's first instruction
        EXPECT_EQ(c->dr[6], DR6_INIT | DR6_BT);
    }
    {
        // nothing armed: the trap is pending after the switch and taken before 1100
        DbgHarness h;
        Cpu *c = h.c;
        new_task(h, true);
        h.step();
        EXPECT_EQ(c->eip, 0x1100u);
        EXPECT_TRUE(cpu_debug_active(c));
        h.step();
        ASSERT_TRUE(h.in_db());
        EXPECT_EQ(h.pushed_eip(), 0x1100u);
        EXPECT_EQ(c->dr[6], DR6_INIT | DR6_BT);
    }
    {
        // no T flag: no trap
        DbgHarness h;
        Cpu *c = h.c;
        new_task(h, false);
        h.step(2);
        EXPECT_EQ(c->eip, 0x1101u);
        EXPECT_EQ(c->dr[6], DR6_INIT);
    }
}

TEST(DebugReg, RealModeBreakpointUsesLinearAddress)
{
    CpuHarness h; // real mode, IVT at 0
    Cpu *c = h.c;
    h.wr32(4 * EXC_DB, 0x0000f000); // INT 1 -> 0000:F000
    seg_load_real(c, SEG_CS, 0x0100); // CS base 0x1000
    h.load(0x1000, {0x90, 0x90, 0x90, 0x90});
    c->eip = 0;
    c->dr[0] = 0x1002; // linear
    c->dr[7] = 0x400 | L(0);
    debug_update(c);
    h.step(2);
    EXPECT_EQ(c->eip, 2u);
    h.step();
    EXPECT_EQ(c->eip, 0xf000u);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0);
    uint32_t sp = c->regs[R_ESP] & 0xffff;
    EXPECT_EQ(h.ram[sp] | h.ram[sp + 1] << 8, 2); // IP
    EXPECT_EQ(h.ram[sp + 2] | h.ram[sp + 3] << 8, 0x100); // CS
}

TEST(DebugReg, Cr4TakesDeButNotVmeAsCpuidSays)
{
    DbgHarness h;
    Cpu *c = h.c;
    uint32_t r[4];
    cpuid_query(c, 1, 0, r);
    EXPECT_TRUE(r[3] & (1u << 2));  // DE
    EXPECT_FALSE(r[3] & (1u << 1)); // no VME: virtual-8086 mode without the extensions
    for (uint32_t bit : {CR4_DE, CR4_VME, CR4_PVI, CR4_VME | CR4_PVI}) {
        c->cr[4] = 0;
        c->regs[R_ESP] = STACK0;
        c->regs[R_EAX] = bit;
        h.code({0x0f, 0x22, 0xe0}); // mov cr4, eax
        h.step();
        if (bit == CR4_DE) {
            EXPECT_EQ(c->eip, 0x1003u);
            EXPECT_EQ(c->cr[4], CR4_DE);
        } else {
            EXPECT_EQ(c->eip, handler(EXC_GP)) << bit;
            EXPECT_EQ(c->cr[4], 0u);
        }
    }
}

TEST(DebugReg, ActiveOnlyWhenNeeded)
{
    DbgHarness h;
    Cpu *c = h.c;
    EXPECT_FALSE(cpu_debug_active(c));
    h.mov_dr(0, 0x1234); // addresses alone arm nothing
    EXPECT_FALSE(cpu_debug_active(c));
    h.mov_dr(7, L(3) | RW(3, RW_RW));
    EXPECT_EQ(c->dbg_armed, DBG_DATA);
    h.mov_dr(7, L(3) | RW(3, RW_IO));
    EXPECT_EQ(c->dbg_armed, DBG_IO);
    h.mov_dr(7, 0);
    EXPECT_FALSE(cpu_debug_active(c));
    c->eflags |= FL_RF;
    EXPECT_TRUE(cpu_debug_active(c));
    h.code({0x90});
    h.step();
    EXPECT_FALSE(cpu_debug_active(c)); // RF lasts one instruction
    cpu_reset(c);
    EXPECT_FALSE(cpu_debug_active(c));
}

} // namespace
