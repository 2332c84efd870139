// test_segintr.cc — segment loads, far transfers (incl. call gates), interrupt and
// exception delivery (real mode, protected mode with stack switch, v86), #DF and
// triple fault. Most tests drive the handlers/API directly with hand-built Insns and
// catch cpu_fault() with a local setjmp; the step-loop tests use faults that do not
// depend on the decoder (fetch beyond the CS limit, undefined opcodes).
#include <gtest/gtest.h>

#include <csetjmp>
#include <cstdio>
#include <string>

#include "cpu_harness.h"

namespace
{

constexpr uint32_t GDT = 0x800, IDT = 0x2000, TSS = 0x3000, TSS16 = 0x3100;
constexpr uint32_t STACK0 = 0x9000, STACK3 = 0x7000;
constexpr uint32_t handler(int v)
{
    return 0x4000 + v * 16;
}

constexpr uint32_t CODE0 = SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_DB | SEGF_G;
constexpr uint32_t DATA0 = SEGF_P | SEGF_S | SEGF_RW | SEGF_DB | SEGF_G;
constexpr uint32_t DPL3 = 3u << SEGF_DPL_SHIFT;

struct Fault {
    int vec;
    uint32_t err;
};

// Runs f with a fault catcher in place of the step loop's; returns the fault or -1.
template <class F> Fault try_run(Cpu *c, F &&f)
{
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    if (setjmp(c->fault_jmp)) return {c->pending_vector, c->pending_errcode};
    f();
    return {-1, 0};
}

Insn mk(Mnemonic m, unsigned opsize = 4)
{
    Insn in;
    memset(&in, 0, sizeof(in));
    in.mnem = m;
    in.opsize = opsize;
    in.addrsize = opsize;
    in.seg = SEG_DS;
    in.ea_base = -1;
    in.ea_index = -1;
    return in;
}

struct PmHarness : CpuHarness {
    void gdt(unsigned sel, uint32_t base, uint32_t limit, uint32_t flags)
    {
        put_desc(GDT + (sel & ~7u), base, limit, flags);
    }
    void gate(uint32_t addr, uint16_t sel, uint32_t off, unsigned type, unsigned dpl,
              unsigned params = 0)
    {
        wr32(addr, (off & 0xffff) | (uint32_t)sel << 16);
        wr32(addr + 4, (off & 0xffff0000u) | 0x8000 | dpl << 13 | type << 8 | params);
    }
    void cache(int seg, uint16_t sel)
    {
        seg_cache_from_desc(&c->seg[seg], sel, rd32(GDT + (sel & ~7u)),
                            rd32(GDT + (sel & ~7u) + 4));
    }
    uint32_t desc_hi(unsigned sel) { return rd32(GDT + (sel & ~7u) + 4); }

    // Protected mode, CPL 0, flat 32-bit segments, IDT and a 32-bit TSS.
    PmHarness()
    {
        gdt(0x00, 0, 0, 0);
        gdt(0x08, 0, 0xfffff, CODE0);
        gdt(0x10, 0, 0xfffff, DATA0);
        gdt(0x18, 0, 0xfffff, CODE0 | DPL3);
        gdt(0x20, 0, 0xfffff, DATA0 | DPL3);
        gdt(0x28, TSS, 0x67, SEGF_P | 0xb);                                    // busy TSS32
        gdt(0x30, 0, 0xfffff, SEGF_P | SEGF_S | SEGF_DB | SEGF_G);             // read-only
        gdt(0x38, 0, 0xfffff, SEGF_P | SEGF_S | SEGF_CODE | SEGF_DB | SEGF_G); // exec-only
        gdt(0x40, 0, 0xfffff, DATA0 & ~SEGF_P);                                // not present
        gdt(0x48, 0x20000, 0x0fff, SEGF_P | SEGF_S | SEGF_RW | SEGF_DC);       // expand-down
        gdt(0x50, 0, 0xfffff, CODE0 | SEGF_DC);                                // conforming
        gate(GDT + 0x58, 0x08, 0x5000, 0xc, 3, 2);                             // 386 call gate
        gdt(0x60, 0x6000, 0xff, SEGF_P | 0x2);                                 // LDT (system)
        gdt(0x68, 0, 0xfffff, DATA0 | (1u << SEGF_DPL_SHIFT));                 // DPL1 data
        gate(GDT + 0x70, 0x08, 0x5100, 0x4, 3, 1);                             // 286 call gate
        gdt(0x78, 0, 0x4fff, SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW);           // small 16-bit
        gate(GDT + 0x80, 0x08, 0x5200, 0xc, 0, 0);                             // DPL0 call gate
        gdt(0x88, TSS16, 0x2b, SEGF_P | 0x3);                                  // busy TSS16
        gdt(0x90, 0, 0xffff, SEGF_P | SEGF_S | SEGF_RW);                       // 16-bit data0
        gdt(0x98, 0, 0x8000, SEGF_P | SEGF_S | SEGF_RW | SEGF_DC | SEGF_DB);   // exp-down stack
        c->gdtr.base = GDT;
        c->gdtr.limit = 0x9f;
        for (int v = 0; v < 0x30; v++)
            gate(IDT + v * 8, 0x08, handler(v), 0xe, 0);
        gate(IDT + 0x80 * 8, 0x08, handler(0x80), 0xf, 3); // trap gate for ring 3
        gate(IDT + 0x81 * 8, 0x08, handler(0x81), 0xe, 0); // not callable from ring 3
        c->idtr.base = IDT;
        c->idtr.limit = 0x82 * 8 - 1;
        wr32(TSS + 4, STACK0);
        wr32(TSS + 8, 0x10);
        c->tr.sel = 0x28;
        c->tr.base = TSS;
        c->tr.limit = 0x67;
        c->tr.flags = SEGF_P | 0xb;
        c->cr[0] |= CR0_PE;
        c->cpl = 0;
        cache(SEG_CS, 0x08);
        for (int s : {SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS})
            cache(s, 0x10);
        c->regs[R_ESP] = STACK0;
        c->eip = 0x1000;
        c->eflags = FL_FIXED1;
    }
    void ring3()
    {
        c->cpl = 3;
        cache(SEG_CS, 0x1b);
        for (int s : {SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS})
            cache(s, 0x23);
        c->regs[R_ESP] = STACK3;
    }
    Fault sload(int seg, uint16_t sel)
    {
        return try_run(c, [&] { seg_load(c, seg, sel); });
    }
};

#define EXPECT_FAULT(f, v, e)                                                                      \
    do {                                                                                           \
        Fault f_ = (f);                                                                            \
        EXPECT_EQ(f_.vec, (v));                                                                    \
        EXPECT_EQ(f_.err, (uint32_t)(e));                                                          \
    } while (0)

bool decoder_ready()
{
    Insn in;
    const uint8_t nop[] = {0x90};
    return decode(&in, nop, 1, false) == DECODE_OK && in.mnem == M_NOP;
}

// ---------------------------------------------------------------- real mode

TEST(SegIntrReal, IntIretRoundTrip)
{
    CpuHarness h;
    Cpu *c = h.c;
    h.wr32(0x21 * 4, 0x20000100); // 2000:0100
    c->seg[SEG_CS].sel = 0x0100;
    c->seg[SEG_CS].base = 0x1000;
    c->eip = 0x0234;
    c->eflags = FL_FIXED1 | FL_IF | FL_TF | FL_CF;
    Insn in = mk(M_INT, 2);
    in.imm = 0x21;
    exec_INT(c, &in);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x2000);
    EXPECT_EQ(c->seg[SEG_CS].base, 0x20000u);
    EXPECT_EQ(c->eip, 0x100u);
    EXPECT_EQ(c->regs[R_ESP], 0x8000u - 6);
    EXPECT_EQ(h.rd32(0x7ffa) & 0xffff, 0x0234u);
    EXPECT_EQ(h.rd32(0x7ffc) & 0xffff, 0x0100u);
    EXPECT_EQ(h.rd32(0x7ffe) & 0xffff, FL_FIXED1 | FL_IF | FL_TF | FL_CF);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_CF);
    Insn ir = mk(M_IRET, 2);
    exec_IRET(c, &ir);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x0100);
    EXPECT_EQ(c->seg[SEG_CS].base, 0x1000u);
    EXPECT_EQ(c->eip, 0x234u);
    EXPECT_EQ(c->regs[R_ESP], 0x8000u);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_IF | FL_TF | FL_CF);
}

TEST(SegIntrReal, IvtBaseFromIdtrAndFarCallRet)
{
    CpuHarness h;
    Cpu *c = h.c;
    c->idtr.base = 0x10000;
    h.wr32(0x10000 + 8 * 4, 0xf000e000);
    c->eip = 0x1002;
    cpu_interrupt(c, 8, EXC_NO_ERRCODE, false);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0xf000);
    EXPECT_EQ(c->eip, 0xe000u);

    Insn in = mk(M_CALL_FAR, 2);
    in.imm = 0x0010;
    in.imm2 = 0x1234;
    c->eip = 0xe005;
    exec_CALL_FAR(c, &in);
    EXPECT_EQ(c->seg[SEG_CS].base, 0x12340u);
    EXPECT_EQ(c->eip, 0x10u);
    EXPECT_EQ(h.rd32(c->regs[R_ESP]), 0xf000e005u);
    Insn r = mk(M_RET_FAR, 2);
    r.nops = 1;
    r.imm = 4;
    uint32_t sp = c->regs[R_ESP];
    exec_RET_FAR(c, &r);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0xf000);
    EXPECT_EQ(c->eip, 0xe005u);
    EXPECT_EQ(c->regs[R_ESP], sp + 8);
}

TEST(SegIntrReal, LdsLssAndMovSs)
{
    CpuHarness h;
    Cpu *c = h.c;
    h.wr32(0x600, 0xabcd5678);
    h.wr32(0x604, 0x4321);
    Insn in = mk(M_LDS, 2);
    in.nops = 2;
    in.op[0] = {OPK_REG, 2, R_ESI};
    in.op[1] = {OPK_MEM, 4, 0};
    in.disp = 0x600;
    exec_LDS(c, &in);
    EXPECT_EQ(c->regs[R_ESI] & 0xffff, 0x5678u);
    EXPECT_EQ(c->seg[SEG_DS].sel, 0xabcd);
    EXPECT_EQ(c->seg[SEG_DS].base, 0xabcd0u);
    EXPECT_EQ(c->inhibit_irq, 0);
    // LSS with a 32-bit offset: selector at ea+4
    seg_load_real(c, SEG_DS, 0);
    Insn l = mk(M_LSS, 4);
    l.nops = 2;
    l.op[0] = {OPK_REG, 4, R_ESP};
    l.op[1] = {OPK_MEM, 6, 0};
    l.disp = 0x600;
    exec_LSS(c, &l);
    EXPECT_EQ(c->regs[R_ESP], 0xabcd5678u);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x4321);
    EXPECT_EQ(c->inhibit_irq, 1);
}

TEST(SegIntrReal, PopfAndCliSti)
{
    CpuHarness h;
    Cpu *c = h.c;
    // real mode: IOPL and IF writable, reserved bits cleared, bit 1 forced
    h.wr32(0x7ffc, 0xffffffff);
    c->regs[R_ESP] = 0x7ffc;
    Insn p = mk(M_POPF, 4);
    exec_POPF(c, &p);
    EXPECT_EQ(c->eflags, FL_FIXED1 | (0x003f7fd5u & ~(FL_VM | FL_RF | FL_VIF | FL_VIP)));
    EXPECT_EQ(c->regs[R_ESP], 0x8000u);
    c->eflags = FL_FIXED1;
    Insn s = mk(M_STI, 2);
    exec_STI(c, &s);
    EXPECT_TRUE(c->eflags & FL_IF);
    EXPECT_EQ(c->inhibit_irq, 1);
    c->inhibit_irq = 0;
    exec_STI(c, &s); // already set: no new shadow
    EXPECT_EQ(c->inhibit_irq, 0);
    Insn cl = mk(M_CLI, 2);
    exec_CLI(c, &cl);
    EXPECT_FALSE(c->eflags & FL_IF);
}

// ---------------------------------------------------------------- segment loads

TEST(SegIntrLoad, ValidLoadsSetAccessedBit)
{
    PmHarness h;
    Cpu *c = h.c;
    EXPECT_FALSE(h.desc_hi(0x10) & 0x100);
    EXPECT_FAULT(h.sload(SEG_DS, 0x10), -1, 0);
    EXPECT_TRUE(h.desc_hi(0x10) & 0x100);
    EXPECT_EQ(c->seg[SEG_DS].limit, 0xffffffffu);
    EXPECT_EQ(c->seg[SEG_DS].flags, DATA0 | SEGF_ACCESSED);
    // readable code into DS, read-only data into ES
    EXPECT_FAULT(h.sload(SEG_ES, 0x30), -1, 0);
    EXPECT_FAULT(h.sload(SEG_FS, 0x08), -1, 0);
    EXPECT_EQ(c->seg[SEG_FS].flags & SEGF_CODE, SEGF_CODE);
    // 16-bit data, byte granular
    EXPECT_FAULT(h.sload(SEG_GS, 0x90), -1, 0);
    EXPECT_EQ(c->seg[SEG_GS].limit, 0xffffu);
}

TEST(SegIntrLoad, NullSelectors)
{
    PmHarness h;
    Cpu *c = h.c;
    EXPECT_FAULT(h.sload(SEG_DS, 0x0003), -1, 0);
    EXPECT_EQ(c->seg[SEG_DS].sel, 3);
    // using a null segment faults #GP(0)
    EXPECT_FAULT(try_run(c, [&] { mem_read8(c, SEG_DS, 0); }), EXC_GP, 0);
    EXPECT_FAULT(h.sload(SEG_SS, 0), EXC_GP, 0);
    EXPECT_FAULT(h.sload(SEG_SS, 3), EXC_GP, 0);
}

TEST(SegIntrLoad, FailingChecks)
{
    PmHarness h;
    Cpu *c = h.c;
    EXPECT_FAULT(h.sload(SEG_DS, 0x00a3), EXC_GP, 0xa0); // beyond GDT limit
    EXPECT_FAULT(h.sload(SEG_DS, 0x0014), EXC_GP, 0x14); // LDT, no LDT loaded
    EXPECT_FAULT(h.sload(SEG_DS, 0x38), EXC_GP, 0x38);   // execute-only code
    EXPECT_FAULT(h.sload(SEG_DS, 0x60), EXC_GP, 0x60);   // system descriptor
    EXPECT_FAULT(h.sload(SEG_DS, 0x58), EXC_GP, 0x58);   // gate
    EXPECT_FAULT(h.sload(SEG_DS, 0x40), EXC_NP, 0x40);   // not present
    EXPECT_FAULT(h.sload(SEG_DS, 0x13), EXC_GP, 0x10);   // RPL 3 > DPL 0
    EXPECT_FAULT(h.sload(SEG_SS, 0x30), EXC_GP, 0x30);   // read-only stack
    EXPECT_FAULT(h.sload(SEG_SS, 0x08), EXC_GP, 0x08);   // code as stack
    EXPECT_FAULT(h.sload(SEG_SS, 0x20), EXC_GP, 0x20);   // DPL 3 != CPL 0
    EXPECT_FAULT(h.sload(SEG_SS, 0x13), EXC_GP, 0x10);   // RPL 3 != CPL 0
    EXPECT_FAULT(h.sload(SEG_SS, 0x40), EXC_SS, 0x40);   // not present stack
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x10);                 // nothing changed
    EXPECT_EQ(c->seg[SEG_DS].sel, 0x10);
    h.ring3();
    EXPECT_FAULT(h.sload(SEG_DS, 0x10), EXC_GP, 0x10); // DPL 0 < CPL 3
    EXPECT_FAULT(h.sload(SEG_DS, 0x6b), EXC_GP, 0x68); // DPL 1 < CPL 3
    EXPECT_FAULT(h.sload(SEG_SS, 0x6b), EXC_GP, 0x68);
    EXPECT_FAULT(h.sload(SEG_DS, 0x53), -1, 0); // conforming readable code: ok
    EXPECT_FAULT(h.sload(SEG_SS, 0x23), -1, 0);
}

TEST(SegIntrLoad, LdtSelectors)
{
    PmHarness h;
    Cpu *c = h.c;
    // LDT at 0x6000 with one DPL 3 data segment at index 1
    h.put_desc(0x6008, 0x12345000, 0xfff, DATA0 | DPL3);
    c->ldtr.sel = 0x60;
    c->ldtr.base = 0x6000;
    c->ldtr.limit = 0xf;
    c->ldtr.flags = SEGF_P | 0x2;
    EXPECT_FAULT(h.sload(SEG_ES, 0x0f), -1, 0);
    EXPECT_EQ(c->seg[SEG_ES].base, 0x12345000u);
    EXPECT_EQ(c->seg[SEG_ES].limit, 0xffffffu);
    EXPECT_TRUE(h.rd32(0x600c) & 0x100);
    EXPECT_FAULT(h.sload(SEG_ES, 0x17), EXC_GP, 0x14); // beyond LDT limit
}

TEST(SegIntrLoad, ExpandDownSegment)
{
    PmHarness h;
    Cpu *c = h.c;
    ASSERT_EQ(h.sload(SEG_DS, 0x48).vec, -1);
    h.wr32(0x21000, 0xdeadbeef);
    EXPECT_FAULT(try_run(c, [&] { mem_read8(c, SEG_DS, 0x0fff); }), EXC_GP, 0);
    EXPECT_FAULT(try_run(c, [&] { mem_read8(c, SEG_DS, 0x0000); }), EXC_GP, 0);
    EXPECT_FAULT(try_run(c, [&] { mem_read16(c, SEG_DS, 0xffff); }), EXC_GP, 0);
    uint32_t v = 0;
    EXPECT_FAULT(try_run(c, [&] { v = mem_read32(c, SEG_DS, 0x1000); }), -1, 0);
    EXPECT_EQ(v, 0xdeadbeefu);
    // as a stack the errors are #SS(0)
    ASSERT_EQ(h.sload(SEG_SS, 0x48).vec, -1);
    c->regs[R_ESP] = 0x1002;
    EXPECT_FAULT(try_run(c, [&] { stack_push(c, 1, 4); }), EXC_SS, 0);
}

TEST(SegIntrLoad, MovPopSsInhibitAndPopSize)
{
    PmHarness h;
    Cpu *c = h.c;
    Insn in = mk(M_MOV_SR);
    in.nops = 2;
    in.op[0] = {OPK_SREG, 2, SEG_SS};
    in.op[1] = {OPK_REG, 2, R_EAX};
    c->regs[R_EAX] = 0x90;
    exec_MOV_SR(c, &in);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x90);
    EXPECT_EQ(c->inhibit_irq, 1);
    EXPECT_FALSE(cpu_stack32(c));
    // POP DS, 32-bit operand size, on the 16-bit stack: SP += 4, ESP high bits kept
    c->regs[R_ESP] = 0x12340100;
    h.wr32(0x100, 0xffff0020);
    Insn p = mk(M_POP_SR);
    p.nops = 1;
    p.op[0] = {OPK_SREG, 2, SEG_DS};
    ASSERT_EQ(try_run(c, [&] { exec_POP_SR(c, &p); }).vec, -1);
    EXPECT_EQ(c->seg[SEG_DS].sel, 0x20);
    EXPECT_EQ(c->regs[R_ESP], 0x12340104u);
    // MOV r32, Sreg zero-extends; PUSH Sreg pushes opsize bytes
    Insn r = mk(M_MOV_RS);
    r.nops = 2;
    r.op[0] = {OPK_REG, 4, R_EBX};
    r.op[1] = {OPK_SREG, 2, SEG_DS};
    c->regs[R_EBX] = 0xffffffff;
    exec_MOV_RS(c, &r);
    EXPECT_EQ(c->regs[R_EBX], 0x20u);
}

// ---------------------------------------------------------------- far transfers

TEST(SegIntrFar, JmpCheckedAndConforming)
{
    PmHarness h;
    Cpu *c = h.c;
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0, 0, false, 4); }), EXC_GP, 0);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x10, 0, false, 4); }), EXC_GP, 0x10);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x18, 0, false, 4); }), EXC_GP, 0x18);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x78, 0x5000, false, 4); }), EXC_GP, 0);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x28, 0, false, 4); }), EXC_GP, 0x28);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x78, 0x4ffe, false, 2); }), -1, 0);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x78);
    EXPECT_FALSE(cpu_code32(c));
    EXPECT_EQ(c->eip, 0x4ffeu);
    // ring 3 to a conforming DPL 0 segment: CPL stays 3, RPL becomes 3
    h.ring3();
    c->eip = 0x1111;
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x50, 0x2222, true, 4); }), -1, 0);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x53);
    EXPECT_EQ(c->eip, 0x2222u);
    EXPECT_EQ(h.rd32(STACK3 - 8), 0x1111u);
    EXPECT_EQ(h.rd32(STACK3 - 4), 0x1bu);
    // return: RPL 3 == CPL, same level
    EXPECT_FAULT(try_run(c, [&] { far_return(c, 4, 0); }), -1, 0);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x1b);
    EXPECT_EQ(c->eip, 0x1111u);
    EXPECT_EQ(c->regs[R_ESP], STACK3);
}

TEST(SegIntrFar, CallGateToRing0WithParamsAndReturn)
{
    PmHarness h;
    Cpu *c = h.c;
    h.ring3();
    // two dword parameters on the ring-3 stack
    h.wr32(STACK3 - 8, 0x11111111);
    h.wr32(STACK3 - 4, 0x22222222);
    c->regs[R_ESP] = STACK3 - 8;
    c->eip = 0x1234;
    Insn in = mk(M_CALL_FAR);
    in.nops = 1;
    in.op[0] = {OPK_FAR, 6, 0};
    in.imm = 0xdeadbeef; // ignored: the gate gives the offset
    in.imm2 = 0x5b;
    ASSERT_EQ(try_run(c, [&] { exec_CALL_FAR(c, &in); }).vec, -1);
    EXPECT_EQ(c->cpl, 0);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x08);
    EXPECT_EQ(c->eip, 0x5000u);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x10);
    uint32_t sp = STACK0 - 24;
    EXPECT_EQ(c->regs[R_ESP], sp);
    EXPECT_EQ(h.rd32(sp + 0), 0x1234u);
    EXPECT_EQ(h.rd32(sp + 4), 0x1bu);
    EXPECT_EQ(h.rd32(sp + 8), 0x11111111u);
    EXPECT_EQ(h.rd32(sp + 12), 0x22222222u);
    EXPECT_EQ(h.rd32(sp + 16), STACK3 - 8);
    EXPECT_EQ(h.rd32(sp + 20), 0x23u);
    // ring 0 loads ES with a DPL 0 segment: RET to ring 3 must null it
    ASSERT_EQ(h.sload(SEG_ES, 0x10).vec, -1);
    Insn r = mk(M_RET_FAR);
    r.nops = 1;
    r.imm = 8;
    ASSERT_EQ(try_run(c, [&] { exec_RET_FAR(c, &r); }).vec, -1);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x1b);
    EXPECT_EQ(c->eip, 0x1234u);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x23);
    EXPECT_EQ(c->regs[R_ESP], STACK3);
    EXPECT_EQ(c->seg[SEG_ES].sel, 0);
    EXPECT_EQ(c->seg[SEG_ES].flags, 0u);
    EXPECT_EQ(c->seg[SEG_DS].sel, 0x23);
}

TEST(SegIntrFar, Call286GateWith16BitTss)
{
    PmHarness h;
    Cpu *c = h.c;
    // 16-bit TSS: SP0 at +2, SS0 at +4
    h.wr32(TSS16 + 2, 0x00108800);
    c->tr.sel = 0x88;
    c->tr.base = TSS16;
    c->tr.limit = 0x2b;
    c->tr.flags = SEGF_P | 0x3;
    h.ring3();
    h.wr32(STACK3 - 4, 0xaaaa5555);
    c->regs[R_ESP] = STACK3 - 4;
    c->eip = 0x4321;
    ASSERT_EQ(try_run(c, [&] { far_jump(c, 0x73, 0, true, 4); }).vec, -1);
    EXPECT_EQ(c->cpl, 0);
    EXPECT_EQ(c->eip, 0x5100u);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x10);
    uint32_t sp = 0x8800 - 10; // SS, SP, one word parameter, CS, IP
    EXPECT_EQ(c->regs[R_ESP], sp);
    EXPECT_EQ(h.rd32(sp) & 0xffff, 0x4321u);
    EXPECT_EQ(h.rd32(sp + 2) & 0xffff, 0x1bu);
    EXPECT_EQ(h.rd32(sp + 4) & 0xffff, 0x5555u);
    EXPECT_EQ(h.rd32(sp + 6) & 0xffff, (STACK3 - 4) & 0xffff);
    EXPECT_EQ(h.rd32(sp + 8) & 0xffff, 0x23u);
    ASSERT_EQ(try_run(c, [&] { far_return(c, 2, 2); }).vec, -1);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->eip, 0x4321u);
    EXPECT_EQ(c->regs[R_ESP], STACK3 - 2); // the caller pushed a dword, RET 2 drops a word
}

TEST(SegIntrFar, CallGateFailures)
{
    PmHarness h;
    Cpu *c = h.c;
    h.ring3();
    uint32_t esp = c->regs[R_ESP];
    // gate DPL 0 < CPL 3
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x83, 0, true, 4); }), EXC_GP, 0x80);
    // JMP through a gate to a more privileged non-conforming segment
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x5b, 0, false, 4); }), EXC_GP, 0x08);
    // inner stack not present: #SS(ss); TSS SS0 with wrong DPL: #TS(ss)
    h.wr32(TSS + 8, 0x40);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x5b, 0, true, 4); }), EXC_SS, 0x40);
    h.wr32(TSS + 8, 0x20);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x5b, 0, true, 4); }), EXC_TS, 0x20);
    // inner stack (expand-down, valid above 0x8000) has room for 3 of the 6 dwords:
    // #SS(ss), state unchanged
    h.wr32(TSS + 8, 0x98);
    h.wr32(TSS + 4, 0x800d);
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0x5b, 0, true, 4); }), EXC_SS, 0x98);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x1b);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x23);
    EXPECT_EQ(c->regs[R_ESP], esp);
}

TEST(SegIntrFar, RetChecks)
{
    PmHarness h;
    Cpu *c = h.c;
    h.ring3();
    // RET to a more privileged level is not allowed
    h.wr32(STACK3 - 8, 0x100);
    h.wr32(STACK3 - 4, 0x08);
    c->regs[R_ESP] = STACK3 - 8;
    EXPECT_FAULT(try_run(c, [&] { far_return(c, 4, 0); }), EXC_GP, 0x08);
    // RET from ring 0 to ring 3 with a bad SS (RPL 0)
    PmHarness h0;
    Cpu *c0 = h0.c;
    c0->regs[R_ESP] = 0x8000;
    h0.wr32(0x8000, 0x100);
    h0.wr32(0x8004, 0x1b);
    h0.wr32(0x8008, 0x6000);
    h0.wr32(0x800c, 0x20);
    EXPECT_FAULT(try_run(c0, [&] { far_return(c0, 4, 0); }), EXC_GP, 0x20);
    EXPECT_EQ(c0->cpl, 0);
}

// ---------------------------------------------------------------- interrupts

TEST(SegIntrPm, HardwareInterruptFromRing3AndIret)
{
    PmHarness h;
    Cpu *c = h.c;
    h.ring3();
    c->eip = 0x1234;
    c->eflags = FL_FIXED1 | FL_IF | FL_ZF;
    cpu_interrupt(c, 0x20, EXC_NO_ERRCODE, false);
    EXPECT_EQ(c->cpl, 0);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x08);
    EXPECT_EQ(c->eip, handler(0x20));
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x10);
    uint32_t sp = STACK0 - 20;
    EXPECT_EQ(c->regs[R_ESP], sp);
    EXPECT_EQ(h.rd32(sp), 0x1234u);
    EXPECT_EQ(h.rd32(sp + 4), 0x1bu);
    EXPECT_EQ(h.rd32(sp + 8), FL_FIXED1 | FL_IF | FL_ZF);
    EXPECT_EQ(h.rd32(sp + 12), STACK3);
    EXPECT_EQ(h.rd32(sp + 16), 0x23u);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_ZF);
    EXPECT_TRUE(h.desc_hi(0x08) & 0x100);
    Insn ir = mk(M_IRET);
    ASSERT_EQ(try_run(c, [&] { exec_IRET(c, &ir); }).vec, -1);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x1b);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x23);
    EXPECT_EQ(c->regs[R_ESP], STACK3);
    EXPECT_EQ(c->eip, 0x1234u);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_IF | FL_ZF);
}

TEST(SegIntrPm, SoftIntGateDplAndTrapGateKeepsIf)
{
    PmHarness h;
    Cpu *c = h.c;
    h.ring3();
    c->eflags = FL_FIXED1 | FL_IF;
    c->eip = 0x2002;
    Insn in = mk(M_INT);
    in.nops = 1;
    in.op[0] = {OPK_IMM, 1, 0};
    in.imm = 0x81;
    EXPECT_FAULT(try_run(c, [&] { exec_INT(c, &in); }), EXC_GP, 0x81 * 8 + 2);
    EXPECT_EQ(c->cpl, 3);
    // INT3 through a DPL 0 gate from ring 3: #GP(3*8+2)
    Insn i3 = mk(M_INT3);
    EXPECT_FAULT(try_run(c, [&] { exec_INT3(c, &i3); }), EXC_GP, 3 * 8 + 2);
    in.imm = 0x80;
    ASSERT_EQ(try_run(c, [&] { exec_INT(c, &in); }).vec, -1);
    EXPECT_EQ(c->eip, handler(0x80));
    EXPECT_TRUE(c->eflags & FL_IF);
    EXPECT_EQ(h.rd32(c->regs[R_ESP]), 0x2002u);
    // INTO does nothing without OF
    Insn io = mk(M_INTO);
    uint32_t eip = c->eip;
    exec_INTO(c, &io);
    EXPECT_EQ(c->eip, eip);
}

TEST(SegIntrPm, ExceptionPushesErrorCodeSameLevel)
{
    PmHarness h;
    Cpu *c = h.c;
    c->eip = 0x1500;
    c->eflags = FL_FIXED1 | FL_IF;
    // a failing MOV DS delivered through the IDT
    Insn in = mk(M_MOV_SR);
    in.nops = 2;
    in.op[0] = {OPK_SREG, 2, SEG_DS};
    in.op[1] = {OPK_REG, 2, R_EAX};
    c->regs[R_EAX] = 0x38;
    c->eip = 0x1502; // after the instruction; the fault restores insn_eip
    c->insn_eip = 0x1500;
    Fault f = {-1, 0};
    c->insn_esp = c->regs[R_ESP];
    if (setjmp(c->fault_jmp))
        f = {c->pending_vector, c->pending_errcode};
    else
        exec_MOV_SR(c, &in);
    ASSERT_EQ(f.vec, EXC_GP);
    cpu_interrupt(c, f.vec, f.err, false);
    EXPECT_EQ(c->eip, handler(EXC_GP));
    uint32_t sp = STACK0 - 16;
    EXPECT_EQ(c->regs[R_ESP], sp);
    EXPECT_EQ(h.rd32(sp), 0x38u);
    EXPECT_EQ(h.rd32(sp + 4), 0x1500u);
    EXPECT_EQ(h.rd32(sp + 8), 0x08u);
    EXPECT_EQ(h.rd32(sp + 12), FL_FIXED1 | FL_IF);
    EXPECT_FALSE(c->eflags & FL_IF);
    // INT 0x0d (software) does not push an error code
    PmHarness h2;
    h2.c->eip = 0x1000;
    cpu_interrupt(h2.c, EXC_GP, EXC_NO_ERRCODE, true);
    EXPECT_EQ(h2.c->regs[R_ESP], STACK0 - 12);
}

TEST(SegIntrPm, Gate286PushesWords)
{
    PmHarness h;
    Cpu *c = h.c;
    h.gate(IDT + 0x21 * 8, 0x08, 0x12345678, 0x6, 0);
    c->eip = 0xabcd;
    c->eflags = FL_FIXED1 | FL_IF;
    cpu_interrupt(c, 0x21, EXC_NO_ERRCODE, false);
    EXPECT_EQ(c->eip, 0x5678u);
    EXPECT_EQ(c->regs[R_ESP], STACK0 - 6);
    EXPECT_EQ(h.rd32(STACK0 - 6) & 0xffff, 0xabcdu);
    EXPECT_EQ(h.rd32(STACK0 - 4) & 0xffff, 0x08u);
    EXPECT_EQ(h.rd32(STACK0 - 2) & 0xffff, FL_FIXED1 | FL_IF);
}

TEST(SegIntrPm, DeliveryErrorsLeaveStateUnchanged)
{
    PmHarness h;
    Cpu *c = h.c;
    h.ring3();
    c->eip = 0x1234;
    // vector beyond the IDT limit, from hardware: EXT set
    EXPECT_FAULT(try_run(c, [&] { cpu_interrupt(c, 0x90, EXC_NO_ERRCODE, false); }), EXC_GP,
                 0x90 * 8 + 3);
    // gate not present
    h.wr32(IDT + 0x22 * 8 + 4, h.rd32(IDT + 0x22 * 8 + 4) & ~0x8000u);
    EXPECT_FAULT(try_run(c, [&] { cpu_interrupt(c, 0x22, EXC_NO_ERRCODE, false); }), EXC_NP,
                 0x22 * 8 + 3);
    // bad gate type (a call gate in the IDT)
    h.gate(IDT + 0x23 * 8, 0x08, 0, 0xc, 0);
    EXPECT_FAULT(try_run(c, [&] { cpu_interrupt(c, 0x23, EXC_NO_ERRCODE, false); }), EXC_GP,
                 0x23 * 8 + 3);
    // target is a data segment
    h.gate(IDT + 0x24 * 8, 0x10, 0, 0xe, 0);
    EXPECT_FAULT(try_run(c, [&] { cpu_interrupt(c, 0x24, EXC_NO_ERRCODE, false); }), EXC_GP, 0x11);
    // inner stack too small: #SS(SS0 | EXT)
    h.wr32(TSS + 8, 0x98);
    h.wr32(TSS + 4, 0x800d);
    EXPECT_FAULT(try_run(c, [&] { cpu_interrupt(c, 0x20, EXC_NO_ERRCODE, false); }), EXC_SS, 0x99);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x1b);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x23);
    EXPECT_EQ(c->regs[R_ESP], STACK3);
    EXPECT_EQ(c->eip, 0x1234u);
}

TEST(SegIntrPm, FlagsRulesAtCpl3)
{
    PmHarness h;
    Cpu *c = h.c;
    h.ring3();
    c->eflags = FL_FIXED1 | FL_IF;
    flags_write(c, 0xffffffff, ~(FL_VM | FL_RF | FL_VIF | FL_VIP));
    // IF kept (CPL 3 > IOPL 0), IOPL kept, VM not set
    EXPECT_EQ(c->eflags, FL_ARITH | FL_FIXED1 | FL_TF | FL_DF | FL_IF | FL_NT | FL_AC | FL_ID);
    flags_write(c, 0, 0xffff);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_IF | FL_AC | FL_ID);
    Insn cl = mk(M_CLI);
    EXPECT_FAULT(try_run(c, [&] { exec_CLI(c, &cl); }), EXC_GP, 0);
    c->eflags |= 3u << FL_IOPL_SHIFT;
    EXPECT_FAULT(try_run(c, [&] { exec_CLI(c, &cl); }), -1, 0);
    EXPECT_FALSE(c->eflags & FL_IF);
    // PUSHF clears VM and RF in the image
    c->eflags |= FL_RF;
    Insn pf = mk(M_PUSHF);
    exec_PUSHF(c, &pf);
    EXPECT_EQ(h.rd32(c->regs[R_ESP]), (c->eflags & ~FL_RF));
}

TEST(SegIntrPm, LogsDeliveryLikeQemu)
{
    PmHarness h;
    Cpu *c = h.c;
    FILE *f = tmpfile();
    ASSERT_NE(f, nullptr);
    c->log_flags = LOG_INT;
    c->log_file = f;
    c->eip = 0x1500;
    cpu_interrupt(c, EXC_GP, 0x38, false);
    rewind(f);
    char buf[256] = {};
    ASSERT_NE(fgets(buf, sizeof(buf), f), nullptr);
    fclose(f);
    std::string s(buf);
    EXPECT_NE(s.find("v=0d e=0038 i=0 cpl=0 IP=0008:00001500"), std::string::npos) << s;
}

// ---------------------------------------------------------------- virtual-8086 mode

TEST(SegIntrV86, IretToV86AndInterruptOut)
{
    PmHarness h;
    Cpu *c = h.c;
    uint32_t sp = STACK0 - 36;
    const uint32_t frame[9] = {0x0100, 0x2000, FL_VM | FL_IF | FL_FIXED1 | FL_CF,
                               0x0ff0, 0x3000, 0x4000,
                               0x5000, 0x6000, 0x7000};
    for (int i = 0; i < 9; i++)
        h.wr32(sp + 4 * i, frame[i]);
    c->regs[R_ESP] = sp;
    Insn ir = mk(M_IRET);
    ASSERT_EQ(try_run(c, [&] { exec_IRET(c, &ir); }).vec, -1);
    EXPECT_TRUE(cpu_vm86(c));
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->eip, 0x100u);
    EXPECT_EQ(c->regs[R_ESP], 0x0ff0u);
    EXPECT_EQ(c->seg[SEG_CS].base, 0x20000u);
    EXPECT_EQ(c->seg[SEG_CS].limit, 0xffffu);
    EXPECT_EQ(c->seg[SEG_SS].base, 0x30000u);
    EXPECT_EQ(c->seg[SEG_ES].base, 0x40000u);
    EXPECT_EQ(c->seg[SEG_DS].base, 0x50000u);
    EXPECT_EQ(c->seg[SEG_FS].base, 0x60000u);
    EXPECT_EQ(c->seg[SEG_GS].sel, 0x7000);
    EXPECT_FALSE(cpu_code32(c));
    EXPECT_EQ(c->eflags, FL_VM | FL_IF | FL_FIXED1 | FL_CF);
    // in v86 with IOPL 0: INT n, PUSHF, POPF, CLI, STI, IRET fault #GP(0)
    Insn in = mk(M_INT, 2);
    in.imm = 0x21;
    EXPECT_FAULT(try_run(c, [&] { exec_INT(c, &in); }), EXC_GP, 0);
    Insn pf = mk(M_PUSHF, 2);
    EXPECT_FAULT(try_run(c, [&] { exec_PUSHF(c, &pf); }), EXC_GP, 0);
    Insn po = mk(M_POPF, 2);
    EXPECT_FAULT(try_run(c, [&] { exec_POPF(c, &po); }), EXC_GP, 0);
    Insn cl = mk(M_CLI, 2);
    EXPECT_FAULT(try_run(c, [&] { exec_CLI(c, &cl); }), EXC_GP, 0);
    Insn i2 = mk(M_IRET, 2);
    EXPECT_FAULT(try_run(c, [&] { exec_IRET(c, &i2); }), EXC_GP, 0);
    // segment loads are real-mode style
    EXPECT_FAULT(h.sload(SEG_ES, 0x1234), -1, 0);
    EXPECT_EQ(c->seg[SEG_ES].base, 0x12340u);
    EXPECT_FAULT(h.sload(SEG_ES, 0x4000), -1, 0);

    // hardware interrupt out of v86: ring 0 stack from the TSS, segments pushed
    c->eip = 0x0105;
    cpu_interrupt(c, 0x20, EXC_NO_ERRCODE, false);
    EXPECT_FALSE(cpu_vm86(c));
    EXPECT_EQ(c->cpl, 0);
    EXPECT_EQ(c->eip, handler(0x20));
    EXPECT_EQ(c->regs[R_ESP], STACK0 - 36);
    const uint32_t want[9] = {0x0105, 0x2000, FL_VM | FL_IF | FL_FIXED1 | FL_CF,
                              0x0ff0, 0x3000, 0x4000,
                              0x5000, 0x6000, 0x7000};
    for (int i = 0; i < 9; i++)
        EXPECT_EQ(h.rd32(STACK0 - 36 + 4 * i), want[i]) << i;
    for (int s : {SEG_ES, SEG_DS, SEG_FS, SEG_GS})
        EXPECT_EQ(c->seg[s].sel, 0) << s;
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_CF);
    // and back
    ASSERT_EQ(try_run(c, [&] { exec_IRET(c, &ir); }).vec, -1);
    EXPECT_TRUE(cpu_vm86(c));
    EXPECT_EQ(c->eip, 0x105u);
    EXPECT_EQ(c->seg[SEG_DS].base, 0x50000u);
    EXPECT_EQ(c->regs[R_ESP], 0x0ff0u);
}

TEST(SegIntrV86, GpFromV86ToRing0AndIopl3Popf)
{
    PmHarness h;
    Cpu *c = h.c;
    c->eflags = FL_FIXED1 | FL_VM | (3u << FL_IOPL_SHIFT);
    c->cpl = 3;
    for (int s = 0; s < SEG_COUNT; s++)
        seg_load_real(c, s, 0x100);
    // IOPL 3: POPF works, may set IF, but cannot change IOPL or VM
    c->regs[R_ESP] = 0x1fe;
    h.wr32(0x11fe, 0x0200);
    Insn po = mk(M_POPF, 2);
    ASSERT_EQ(try_run(c, [&] { exec_POPF(c, &po); }).vec, -1);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_VM | FL_IF | (3u << FL_IOPL_SHIFT));
    EXPECT_EQ(c->regs[R_ESP], 0x200u);
    // a #GP out of v86 goes to ring 0 with an error code on top of the v86 frame
    c->eip = 0x0333;
    cpu_interrupt(c, EXC_GP, 0, false);
    EXPECT_EQ(c->cpl, 0);
    EXPECT_EQ(c->eip, handler(EXC_GP));
    EXPECT_EQ(c->regs[R_ESP], STACK0 - 40);
    EXPECT_EQ(h.rd32(STACK0 - 40), 0u);
    EXPECT_EQ(h.rd32(STACK0 - 36), 0x333u);
    EXPECT_EQ(h.rd32(STACK0 - 32), 0x100u);
    EXPECT_EQ(h.rd32(STACK0 - 28), FL_FIXED1 | FL_VM | FL_IF | (3u << FL_IOPL_SHIFT));
    EXPECT_EQ(h.rd32(STACK0 - 24), 0x200u);
    EXPECT_EQ(h.rd32(STACK0 - 20), 0x100u);
}

TEST(SegIntrV86, SoftIntWithIopl3GoesToRing0AndBack)
{
    PmHarness h;
    Cpu *c = h.c;
    c->eflags = FL_FIXED1 | FL_VM | FL_IF | (3u << FL_IOPL_SHIFT);
    c->cpl = 3;
    for (int s = 0; s < SEG_COUNT; s++)
        seg_load_real(c, s, 0x100 + s);
    c->regs[R_ESP] = 0x0400;
    c->eip = 0x0052;
    Insn in = mk(M_INT, 2);
    in.imm = 0x80; // DPL 3 trap gate
    ASSERT_EQ(try_run(c, [&] { exec_INT(c, &in); }).vec, -1);
    EXPECT_EQ(c->cpl, 0);
    EXPECT_FALSE(cpu_vm86(c));
    EXPECT_TRUE(c->eflags & FL_IF); // trap gate
    EXPECT_EQ(c->regs[R_ESP], STACK0 - 36);
    EXPECT_EQ(h.rd32(STACK0 - 36), 0x52u);
    EXPECT_EQ(h.rd32(STACK0 - 4), 0x105u); // GS
    Insn ir = mk(M_IRET);
    ASSERT_EQ(try_run(c, [&] { exec_IRET(c, &ir); }).vec, -1);
    EXPECT_TRUE(cpu_vm86(c));
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->eip, 0x52u);
    EXPECT_EQ(c->regs[R_ESP], 0x400u);
    for (int s = 0; s < SEG_COUNT; s++)
        EXPECT_EQ(c->seg[s].base, (0x100u + s) << 4) << s;
    EXPECT_EQ(c->seg[SEG_SS].flags & SEGF_DPL_MASK, DPL3);
    // a gate to a conforming (or DPL 3) segment cannot be used from v86: #GP(sel)
    h.gate(IDT + 0x80 * 8, 0x50, 0x100, 0xf, 3);
    EXPECT_FAULT(try_run(c, [&] { exec_INT(c, &in); }), EXC_GP, 0x50);
}

TEST(SegIntrPm, ConformingHandlerRunsAtCallerLevel)
{
    PmHarness h;
    Cpu *c = h.c;
    h.gate(IDT + 0x80 * 8, 0x50, 0x100, 0xe, 3);
    h.ring3();
    c->eip = 0x3003;
    Insn in = mk(M_INT);
    in.imm = 0x80;
    ASSERT_EQ(try_run(c, [&] { exec_INT(c, &in); }).vec, -1);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x53);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x23);
    EXPECT_EQ(c->regs[R_ESP], STACK3 - 12);
    EXPECT_EQ(h.rd32(STACK3 - 12), 0x3003u);
}

// ---------------------------------------------------------------- task switches

constexpr uint32_t TSSB = 0x3200;

// A second 32-bit TSS (0xa0, available) with a ring-0 flat task, a task gate 0xa8
// (DPL 3) to it, and a too-short TSS 0xb0.
void add_task(PmHarness &h)
{
    h.gdt(0xa0, TSSB, 0x67, SEGF_P | 0x9);
    h.gate(GDT + 0xa8, 0xa0, 0, 0x5, 3);
    h.gdt(0xb0, TSSB, 0x20, SEGF_P | 0x9);
    h.c->gdtr.limit = 0xb7;
    h.wr32(TSSB + 0x20, 0x7777);            // EIP
    h.wr32(TSSB + 0x24, FL_FIXED1 | FL_IF); // EFLAGS
    for (int i = 0; i < 8; i++)
        h.wr32(TSSB + 0x28 + 4 * i, 0x100 + i);
    h.wr32(TSSB + 0x38, 0xa000); // ESP
    for (int i = 0; i < SEG_COUNT; i++)
        h.wr32(TSSB + 0x48 + 4 * i, i == SEG_CS ? 0x08 : 0x10);
    h.wr32(TSSB + 0x60, 0);
}

unsigned tss_type(PmHarness &h, unsigned sel)
{
    return (h.desc_hi(sel) >> 8) & 0x1f;
}

TEST(SegIntrTask, JmpToTss)
{
    PmHarness h;
    Cpu *c = h.c;
    add_task(h);
    h.gdt(0x28, TSS, 0x67, SEGF_P | 0xb);
    c->eip = 0x1005;
    c->regs[R_EAX] = 0xaaaa;
    ASSERT_EQ(try_run(c, [&] { far_jump(c, 0xa0, 0, false, 4); }).vec, -1);
    EXPECT_EQ(c->tr.sel, 0xa0);
    EXPECT_EQ(c->tr.base, TSSB);
    EXPECT_EQ(c->eip, 0x7777u);
    EXPECT_EQ(c->regs[R_EAX], 0x100u);
    EXPECT_EQ(c->regs[R_ESP], 0xa000u);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_IF);
    EXPECT_TRUE(c->cr[0] & CR0_TS);
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x08);
    EXPECT_EQ(c->seg[SEG_SS].limit, 0xffffffffu);
    // old state saved, busy bits moved
    EXPECT_EQ(h.rd32(TSS + 0x20), 0x1005u);
    EXPECT_EQ(h.rd32(TSS + 0x28), 0xaaaau);
    EXPECT_EQ(h.rd32(TSS + 0x4c) & 0xffff, 0x08u);
    EXPECT_EQ(tss_type(h, 0x28), 0x09u);
    EXPECT_EQ(tss_type(h, 0xa0), 0x0bu);
    // jumping to the now busy TSS faults
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0xa0, 0, false, 4); }), EXC_GP, 0xa0);
    // too short a TSS
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0xb0, 0, false, 4); }), EXC_TS, 0xb0);
}

TEST(SegIntrTask, CallThroughTaskGateAndIretBack)
{
    PmHarness h;
    Cpu *c = h.c;
    add_task(h);
    h.gdt(0x28, TSS, 0x67, SEGF_P | 0xb);
    h.ring3();
    c->eip = 0x2005;
    c->regs[R_EBX] = 0xbbbb;
    c->eflags = FL_FIXED1 | FL_IF | FL_CF;
    Insn in = mk(M_CALL_FAR);
    in.nops = 1;
    in.op[0] = {OPK_FAR, 6, 0};
    in.imm2 = 0xab;
    ASSERT_EQ(try_run(c, [&] { exec_CALL_FAR(c, &in); }).vec, -1);
    EXPECT_EQ(c->cpl, 0);
    EXPECT_EQ(c->tr.sel, 0xa0);
    EXPECT_EQ(c->eip, 0x7777u);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_IF | FL_NT);
    EXPECT_EQ(h.rd32(TSSB) & 0xffff, 0x28u); // back link
    EXPECT_EQ(tss_type(h, 0x28), 0x0bu);     // still busy (nested)
    EXPECT_EQ(tss_type(h, 0xa0), 0x0bu);
    c->regs[R_EBX] = 0x1234;
    Insn ir = mk(M_IRET);
    ASSERT_EQ(try_run(c, [&] { exec_IRET(c, &ir); }).vec, -1);
    EXPECT_EQ(c->tr.sel, 0x28);
    EXPECT_EQ(c->cpl, 3);
    EXPECT_EQ(c->eip, 0x2005u);
    EXPECT_EQ(c->regs[R_EBX], 0xbbbbu);
    EXPECT_EQ(c->regs[R_ESP], STACK3);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x23);
    EXPECT_EQ(c->eflags, FL_FIXED1 | FL_IF | FL_CF);
    EXPECT_EQ(tss_type(h, 0xa0), 0x09u);
    EXPECT_EQ(h.rd32(TSSB + 0x24), FL_FIXED1 | FL_IF); // saved with NT clear
    EXPECT_EQ(h.rd32(TSSB + 0x34), 0x1234u);
}

TEST(SegIntrTask, ExceptionThroughTaskGatePushesErrorCode)
{
    PmHarness h;
    Cpu *c = h.c;
    add_task(h);
    h.gate(IDT + EXC_DF * 8, 0xa0, 0, 0x5, 0);
    c->eip = 0x1500;
    cpu_interrupt(c, EXC_DF, 0, false);
    EXPECT_EQ(c->tr.sel, 0xa0);
    EXPECT_EQ(c->eip, 0x7777u);
    EXPECT_EQ(c->regs[R_ESP], 0xa000u - 4);
    EXPECT_EQ(h.rd32(0xa000 - 4), 0u);
    EXPECT_EQ(h.rd32(TSS + 0x20), 0x1500u);
    EXPECT_TRUE(c->eflags & FL_NT);
}

TEST(SegIntrTask, BadSegmentInNewTaskFaultsInNewTask)
{
    PmHarness h;
    Cpu *c = h.c;
    add_task(h);
    h.wr32(TSSB + 0x50, 0x08); // SS = a code segment
    c->eip = 0x1005;
    EXPECT_FAULT(try_run(c, [&] { far_jump(c, 0xa0, 0, false, 4); }), EXC_TS, 0x08);
    EXPECT_EQ(c->tr.sel, 0xa0);
    EXPECT_EQ(c->eip, 0x7777u); // the fault is reported with the new task's EIP
    EXPECT_EQ(c->regs[R_ESP], 0xa000u);
}

// ---------------------------------------------------------------- step loop

// A code segment with limit 0x4fff and EIP beyond it: the fetch raises #GP(0) without
// needing the decoder.
void gp_at_fetch(PmHarness &h)
{
    h.cache(SEG_CS, 0x78);
    h.c->eip = 0x6000;
}

TEST(SegIntrStep, GpDeliveredThroughIdt)
{
    PmHarness h;
    Cpu *c = h.c;
    gp_at_fetch(h);
    h.step();
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x08);
    EXPECT_EQ(c->eip, handler(EXC_GP));
    EXPECT_EQ(h.rd32(STACK0 - 16), 0u);      // error code
    EXPECT_EQ(h.rd32(STACK0 - 12), 0x6000u); // faulting EIP
    EXPECT_EQ(h.rd32(STACK0 - 8), 0x78u);
}

TEST(SegIntrStep, GpWithMissingEntryBecomesDoubleFault)
{
    PmHarness h;
    Cpu *c = h.c;
    h.wr32(IDT + EXC_GP * 8 + 4, h.rd32(IDT + EXC_GP * 8 + 4) & ~0x8000u);
    gp_at_fetch(h);
    h.step();
    EXPECT_EQ(c->eip, handler(EXC_DF));
    EXPECT_EQ(h.rd32(STACK0 - 16), 0u); // #DF error code
    EXPECT_EQ(h.rd32(STACK0 - 12), 0x6000u);
    EXPECT_EQ(h.shutdowns, 0);
    EXPECT_EQ(c->fault_depth, 0);
}

TEST(SegIntrStep, TripleFaultShutsDown)
{
    PmHarness h;
    Cpu *c = h.c;
    c->idtr.limit = 8 * 8 - 1; // no #DF, no #GP entry
    gp_at_fetch(h);
    h.step();
    EXPECT_EQ(h.shutdowns, 1);
    EXPECT_EQ(c->fault_depth, 0);
}

TEST(SegIntrStep, BenignFirstEventThenGpIsSerialNotDouble)
{
    // #UD (benign) whose gate is not present raises #NP(0x33); that is delivered
    // normally, not as #DF.
    PmHarness h;
    Cpu *c = h.c;
    h.wr32(IDT + EXC_UD * 8 + 4, h.rd32(IDT + EXC_UD * 8 + 4) & ~0x8000u);
    h.load(0x1000, {0x0f, 0x0b, 0x0f, 0x0b}); // UD2 (the placeholder decoder: #UD too)
    c->eip = 0x1000;
    h.step();
    EXPECT_EQ(c->eip, handler(EXC_NP));
    EXPECT_EQ(h.rd32(STACK0 - 16), (uint32_t)(EXC_UD * 8 + 2 + 1));
    // #UD -> #NP(6) -> #NP(11) (both gates missing): two contributory faults: #DF
    PmHarness h2;
    h2.wr32(IDT + EXC_UD * 8 + 4, h2.rd32(IDT + EXC_UD * 8 + 4) & ~0x8000u);
    h2.wr32(IDT + EXC_NP * 8 + 4, h2.rd32(IDT + EXC_NP * 8 + 4) & ~0x8000u);
    h2.load(0x1000, {0x0f, 0x0b});
    h2.c->eip = 0x1000;
    h2.step();
    EXPECT_EQ(h2.c->eip, handler(EXC_DF));
    EXPECT_EQ(h2.shutdowns, 0);
}

TEST(SegIntrStep, ExternalInterruptFromHltAndIret)
{
    PmHarness h;
    Cpu *c = h.c;
    c->eflags |= FL_IF;
    c->halted = true;
    cpu_set_intr(c, true);
    h.irq_vector = 0x2a;
    c->eip = 0x1001;
    h.step();
    EXPECT_FALSE(c->halted);
    EXPECT_EQ(c->eip, handler(0x2a));
    EXPECT_EQ(h.rd32(STACK0 - 12), 0x1001u);
}

// Byte-string tests through the real decoder (skipped while it is a placeholder).
TEST(SegIntrStep, BytesMovDsFaultAndIntIret)
{
    if (!decoder_ready()) GTEST_SKIP() << "decoder not landed";
    PmHarness h;
    Cpu *c = h.c;
    // 66 b8 38 00  mov ax, 0x38 ; 8e d8  mov ds, ax  -> #GP(0x38)
    h.load(0x1000, {0x66, 0xb8, 0x38, 0x00, 0x8e, 0xd8});
    c->eip = 0x1000;
    h.step(2);
    EXPECT_EQ(c->eip, handler(EXC_GP));
    EXPECT_EQ(h.rd32(STACK0 - 16), 0x38u);
    EXPECT_EQ(h.rd32(STACK0 - 12), 0x1004u);
    // handler for INT 0x80: iretd; caller: int 0x80 ; nop
    h.load(handler(0x80), {0xcf});
    h.load(0x1100, {0xcd, 0x80, 0x90});
    c->eip = 0x1100;
    c->regs[R_ESP] = STACK0;
    h.step(); // int 0x80
    EXPECT_EQ(c->eip, handler(0x80));
    h.step(); // iretd
    EXPECT_EQ(c->eip, 0x1102u);
    EXPECT_EQ(c->regs[R_ESP], STACK0);
}

// Real mode -> LGDT/LIDT -> CR0.PE -> far JMP to 32-bit code -> load segments ->
// INT 0x80 -> IRETD, all through the decoder and the step loop.
TEST(SegIntrStep, BytesEnterProtectedModeAndInt)
{
    if (!decoder_ready()) GTEST_SKIP() << "decoder not landed";
    PmHarness h;
    Cpu *c = h.c;
    // back to the real-mode reset state of the caches (the tables stay in memory)
    c->cr[0] &= ~CR0_PE;
    for (int s = 0; s < SEG_COUNT; s++) {
        c->seg[s] = {0, 0, 0xffff,
                     SEGF_P | SEGF_S | SEGF_RW | SEGF_ACCESSED | (s == SEG_CS ? SEGF_CODE : 0u)};
    }
    c->idtr = {0, 0x3ff};
    c->regs[R_ESP] = 0x8000;
    h.wr32(0x600, GDT << 16 | 0x9f);
    h.wr32(0x604, GDT >> 16);
    h.wr32(0x608, IDT << 16 | (0x82 * 8 - 1));
    h.wr32(0x60c, IDT >> 16);
    h.load(0x1000, {0x0f, 0x01, 0x16, 0x00, 0x06,                     // lgdt [0x600]
                    0x0f, 0x01, 0x1e, 0x08, 0x06,                     // lidt [0x608]
                    0x0f, 0x20, 0xc0,                                 // mov eax, cr0
                    0x0c, 0x01,                                       // or al, 1
                    0x0f, 0x22, 0xc0,                                 // mov cr0, eax
                    0x66, 0xea, 0x20, 0x10, 0x00, 0x00, 0x08, 0x00}); // jmp dword 8:0x1020
    h.load(0x1020, {0x66, 0xb8, 0x10, 0x00,                           // mov ax, 0x10
                    0x8e, 0xd8,                                       // mov ds, ax
                    0x8e, 0xd0,                                       // mov ss, ax
                    0xbc, 0x00, 0x90, 0x00, 0x00,                     // mov esp, 0x9000
                    0xcd, 0x80,                                       // int 0x80
                    0xf4});                                           // hlt
    h.load(handler(0x80), {0xcf});                                    // iretd
    c->eip = 0x1000;
    h.step(6);
    EXPECT_TRUE(cpu_pe(c));
    EXPECT_EQ(c->seg[SEG_CS].sel, 0x08);
    EXPECT_TRUE(cpu_code32(c));
    EXPECT_EQ(c->eip, 0x1020u);
    h.step(4);
    EXPECT_EQ(c->seg[SEG_DS].sel, 0x10);
    EXPECT_EQ(c->seg[SEG_SS].sel, 0x10);
    EXPECT_EQ(c->regs[R_ESP], 0x9000u);
    h.step();
    EXPECT_EQ(c->eip, handler(0x80));
    EXPECT_EQ(h.rd32(0x9000 - 12), 0x102fu);
    h.step();
    EXPECT_EQ(c->eip, 0x102fu);
    EXPECT_EQ(c->regs[R_ESP], 0x9000u);
}

} // namespace
