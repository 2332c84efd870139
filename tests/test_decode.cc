// test_decode.cc — the decoder (cpu/decode.c + cpu/opcodes.c): hand-checked encodings
// in 16- and 32-bit code with every operand field, then a Capstone cross-check of
// instruction lengths (and mnemonic families) over a deterministic random corpus.
#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "cpu/cpu.h"
#include "cpu/disas.h"
#include "cpu/insn.h"
}

namespace {

std::vector<uint8_t> hex(const char *s)
{
    std::vector<uint8_t> v;
    unsigned x;
    int n;
    while (sscanf(s, " %2x%n", &x, &n) == 1) {
        v.push_back((uint8_t)x);
        s += n;
    }
    return v;
}

// Decode a hex string with all its bytes available; checks the result code.
Insn dec(const char *h, bool c32, int want = DECODE_OK)
{
    std::vector<uint8_t> b = hex(h);
    Insn in;
    b.resize(b.size() + 16, 0xcc); // never read: lengths below stop earlier
    int r = decode(&in, b.data(), (unsigned)(b.size() - 16), c32);
    EXPECT_EQ(r, want) << h;
    return in;
}

void expect_reg(const Insn &in, int n, int reg, int size)
{
    EXPECT_EQ(in.op[n].kind, OPK_REG) << "op" << n;
    EXPECT_EQ(in.op[n].reg, reg) << "op" << n;
    EXPECT_EQ(in.op[n].size, size) << "op" << n;
}

void expect_mem(const Insn &in, int n, int size, int base, int index, int scale, int32_t disp,
                int seg)
{
    EXPECT_EQ(in.op[n].kind, OPK_MEM) << "op" << n;
    EXPECT_EQ(in.op[n].size, size) << "op" << n;
    EXPECT_EQ(in.ea_base, base);
    EXPECT_EQ(in.ea_index, index);
    EXPECT_EQ(in.ea_scale, scale);
    EXPECT_EQ(in.disp, disp);
    EXPECT_EQ(in.seg, seg);
}

void expect_imm(const Insn &in, int n, uint32_t v, int size)
{
    EXPECT_EQ(in.op[n].kind, OPK_IMM) << "op" << n;
    EXPECT_EQ(in.op[n].size, size) << "op" << n;
    EXPECT_EQ(in.imm, v);
}

#define EXPECT_INSN(in, m, l, n)       \
    do {                               \
        EXPECT_EQ((in).mnem, M_##m);   \
        EXPECT_EQ((in).len, l);        \
        EXPECT_EQ((in).nops, n);       \
    } while (0)

// ---- 32-bit ModRM / SIB forms ----
TEST(Decode32, RegisterForms)
{
    Insn in = dec("01 d8", true);
    EXPECT_INSN(in, ADD, 2, 2);
    expect_reg(in, 0, R_EAX, 4);
    expect_reg(in, 1, R_EBX, 4);
    EXPECT_EQ(in.opsize, 4);
    EXPECT_EQ(in.addrsize, 4);
    EXPECT_TRUE(in.has_modrm);
    EXPECT_EQ(in.modrm, 0xd8);
    EXPECT_TRUE(in.flags & IF_LOCKABLE);
    EXPECT_TRUE(in.flags & IF_WRITES_FLAGS);
    EXPECT_EQ(in.ea_base, -1);
    EXPECT_EQ(in.ea_index, -1);

    in = dec("00 c4", true); // add ah, al
    EXPECT_INSN(in, ADD, 2, 2);
    expect_reg(in, 0, 4, 1);
    expect_reg(in, 1, 0, 1);

    in = dec("12 e3", true); // adc ah, bl
    EXPECT_INSN(in, ADC, 2, 2);
    expect_reg(in, 0, 4, 1);
    expect_reg(in, 1, 3, 1);
    EXPECT_TRUE(in.flags & IF_READS_FLAGS);
}

TEST(Decode32, ModRMMemoryForms)
{
    Insn in = dec("8b 00", true);
    EXPECT_INSN(in, MOV, 2, 2);
    expect_reg(in, 0, R_EAX, 4);
    expect_mem(in, 1, 4, R_EAX, -1, 0, 0, SEG_DS);

    in = dec("8b 45 08", true); // [ebp+8] -> SS
    EXPECT_INSN(in, MOV, 3, 2);
    expect_mem(in, 1, 4, R_EBP, -1, 0, 8, SEG_SS);

    in = dec("8b 04 24", true); // [esp]
    EXPECT_INSN(in, MOV, 3, 2);
    expect_mem(in, 1, 4, R_ESP, -1, 0, 0, SEG_SS);

    in = dec("8b 44 8e fc", true); // [esi+ecx*4-4]
    EXPECT_INSN(in, MOV, 4, 2);
    expect_mem(in, 1, 4, R_ESI, R_ECX, 2, -4, SEG_DS);

    in = dec("8b 05 78 56 34 12", true); // [disp32]
    EXPECT_INSN(in, MOV, 6, 2);
    expect_mem(in, 1, 4, -1, -1, 0, 0x12345678, SEG_DS);

    in = dec("8b 04 25 78 56 34 12", true); // SIB, no base, no index
    EXPECT_INSN(in, MOV, 7, 2);
    expect_mem(in, 1, 4, -1, -1, 0, 0x12345678, SEG_DS);

    in = dec("8b 04 cd 00 10 00 00", true); // [ecx*8+0x1000]
    EXPECT_INSN(in, MOV, 7, 2);
    expect_mem(in, 1, 4, -1, R_ECX, 3, 0x1000, SEG_DS);

    in = dec("8b 04 6d 00 10 00 00", true); // [ebp*2+0x1000]: no base, so DS
    expect_mem(in, 1, 4, -1, R_EBP, 1, 0x1000, SEG_DS);

    in = dec("8b 44 2d 00", true); // [ebp+ebp+0]
    EXPECT_INSN(in, MOV, 4, 2);
    expect_mem(in, 1, 4, R_EBP, R_EBP, 0, 0, SEG_SS);

    in = dec("8b 84 24 00 01 00 00", true); // [esp+0x100]
    EXPECT_INSN(in, MOV, 7, 2);
    expect_mem(in, 1, 4, R_ESP, -1, 0, 0x100, SEG_SS);

    in = dec("8b 04 65 00 00 00 00", true); // index 4 = none, scale ignored
    EXPECT_INSN(in, MOV, 7, 2);
    expect_mem(in, 1, 4, -1, -1, 0, 0, SEG_DS);

    in = dec("8b 80 00 00 00 80", true); // [eax-0x80000000]
    expect_mem(in, 1, 4, R_EAX, -1, 0, INT32_MIN, SEG_DS);

    in = dec("8b 4c 58 7f", true); // [eax+ebx*2+127]
    expect_reg(in, 0, R_ECX, 4);
    expect_mem(in, 1, 4, R_EAX, R_EBX, 1, 127, SEG_DS);

    in = dec("89 5d 80", true); // mov [ebp-128], ebx
    EXPECT_INSN(in, MOV, 3, 2);
    expect_mem(in, 0, 4, R_EBP, -1, 0, -128, SEG_SS);
    expect_reg(in, 1, R_EBX, 4);
}

TEST(Decode32, Prefixes)
{
    Insn in = dec("3e 8b 45 00", true); // DS override beats the SS default
    EXPECT_INSN(in, MOV, 4, 2);
    expect_mem(in, 1, 4, R_EBP, -1, 0, 0, SEG_DS);
    EXPECT_TRUE(in.prefixes & PFX_SEG);

    in = dec("26 64 8b 00", true); // last override wins
    EXPECT_EQ(in.seg, SEG_FS);
    EXPECT_EQ(in.len, 4);

    in = dec("67 8b 00", true); // 16-bit addressing in 32-bit code
    EXPECT_EQ(in.addrsize, 2);
    expect_mem(in, 1, 4, R_EBX, R_ESI, 0, 0, SEG_DS);
    EXPECT_TRUE(in.prefixes & PFX_ADDRSIZE);

    in = dec("66 8b 00", true);
    EXPECT_EQ(in.opsize, 2);
    expect_reg(in, 0, R_EAX, 2);
    expect_mem(in, 1, 2, R_EAX, -1, 0, 0, SEG_DS);

    in = dec("66 66 b8 34 12", true); // repeated 66 does not toggle back
    EXPECT_INSN(in, MOV, 5, 2);
    expect_imm(in, 1, 0x1234, 2);

    in = dec("f3 f2 a6", true); // last of F2/F3 wins
    EXPECT_EQ(in.prefixes & (PFX_REP | PFX_REPNE), PFX_REPNE);
    in = dec("f2 f3 a6", true);
    EXPECT_EQ(in.prefixes & (PFX_REP | PFX_REPNE), PFX_REP);
}

TEST(Decode32, Immediates)
{
    Insn in = dec("b8 78 56 34 12", true);
    EXPECT_INSN(in, MOV, 5, 2);
    expect_reg(in, 0, R_EAX, 4);
    expect_imm(in, 1, 0x12345678, 4);

    in = dec("b4 12", true); // mov ah, 12h
    expect_reg(in, 0, 4, 1);
    expect_imm(in, 1, 0x12, 1);

    in = dec("83 c0 ff", true); // add eax, -1 (sign-extended)
    EXPECT_INSN(in, ADD, 3, 2);
    expect_imm(in, 1, 0xffffffffu, 4);

    in = dec("66 83 c0 ff", true);
    expect_reg(in, 0, R_EAX, 2);
    expect_imm(in, 1, 0xffffffffu, 2);

    in = dec("80 38 05", true); // cmp byte [eax], 5
    EXPECT_INSN(in, CMP, 3, 2);
    expect_mem(in, 0, 1, R_EAX, -1, 0, 0, SEG_DS);
    expect_imm(in, 1, 5, 1);

    in = dec("80 c1 f0", true); // add cl, 0f0h: zero-extended
    expect_imm(in, 1, 0xf0, 1);

    in = dec("81 6d 04 00 01 00 00", true); // sub dword [ebp+4], 100h
    EXPECT_INSN(in, SUB, 7, 2);
    expect_mem(in, 0, 4, R_EBP, -1, 0, 4, SEG_SS);
    expect_imm(in, 1, 0x100, 4);

    in = dec("6a 80", true);
    EXPECT_INSN(in, PUSH, 2, 1);
    expect_imm(in, 0, 0xffffff80u, 4);

    in = dec("68 00 00 01 00", true);
    EXPECT_INSN(in, PUSH, 5, 1);
    expect_imm(in, 0, 0x10000, 4);

    in = dec("69 c3 10 27 00 00", true);
    EXPECT_INSN(in, IMUL3, 6, 3);
    expect_reg(in, 0, R_EAX, 4);
    expect_reg(in, 1, R_EBX, 4);
    expect_imm(in, 2, 10000, 4);

    in = dec("6b 44 24 04 fe", true); // imul eax, [esp+4], -2
    EXPECT_INSN(in, IMUL3, 5, 3);
    expect_mem(in, 1, 4, R_ESP, -1, 0, 4, SEG_SS);
    expect_imm(in, 2, 0xfffffffeu, 4);

    in = dec("c7 44 24 04 78 56 34 12", true); // disp before imm
    EXPECT_INSN(in, MOV, 8, 2);
    expect_mem(in, 0, 4, R_ESP, -1, 0, 4, SEG_SS);
    expect_imm(in, 1, 0x12345678, 4);

    in = dec("c8 10 00 01", true); // enter 16, 1
    EXPECT_INSN(in, ENTER, 4, 2);
    expect_imm(in, 0, 0x10, 2);
    EXPECT_EQ(in.op[1].kind, OPK_IMM2);
    EXPECT_EQ(in.op[1].size, 1);
    EXPECT_EQ(in.imm2, 1u);

    in = dec("c2 08 00", true);
    EXPECT_INSN(in, RET, 3, 1);
    expect_imm(in, 0, 8, 2);
    in = dec("cb", true);
    EXPECT_INSN(in, RET_FAR, 1, 0);

    in = dec("cd 21", true);
    EXPECT_INSN(in, INT, 2, 1);
    expect_imm(in, 0, 0x21, 1);
    in = dec("d4 0a", true);
    EXPECT_INSN(in, AAM, 2, 1);
    expect_imm(in, 0, 10, 1);
}

TEST(Decode32, Groups)
{
    Insn in = dec("c1 e0 04", true);
    EXPECT_INSN(in, SHL, 3, 2);
    expect_imm(in, 1, 4, 1);
    in = dec("d1 f8", true);
    EXPECT_INSN(in, SAR, 2, 2);
    EXPECT_EQ(in.op[1].kind, OPK_ONE);
    in = dec("d3 e8", true);
    EXPECT_INSN(in, SHR, 2, 2);
    expect_reg(in, 1, R_ECX, 1);
    in = dec("d0 f0", true);
    EXPECT_INSN(in, SAL, 2, 2);
    expect_reg(in, 0, R_EAX, 1);

    in = dec("f7 d8", true);
    EXPECT_INSN(in, NEG, 2, 1);
    in = dec("f6 c1 01", true);
    EXPECT_INSN(in, TEST, 3, 2);
    expect_reg(in, 0, R_ECX, 1);
    expect_imm(in, 1, 1, 1);
    in = dec("f7 c1 00 01 00 00", true);
    EXPECT_INSN(in, TEST, 6, 2);
    expect_imm(in, 1, 0x100, 4);
    in = dec("f7 6d 00", true);
    EXPECT_INSN(in, IMUL1, 3, 1);
    expect_mem(in, 0, 4, R_EBP, -1, 0, 0, SEG_SS);

    in = dec("fe c8", true);
    EXPECT_INSN(in, DEC, 2, 1);
    expect_reg(in, 0, R_EAX, 1);
    in = dec("ff 30", true);
    EXPECT_INSN(in, PUSH, 2, 1);
    expect_mem(in, 0, 4, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("ff 10", true);
    EXPECT_INSN(in, CALL, 2, 1);
    EXPECT_TRUE(in.flags & IF_BRANCH);
    in = dec("ff e0", true);
    EXPECT_INSN(in, JMP, 2, 1);
    expect_reg(in, 0, R_EAX, 4);
    in = dec("ff 28", true);
    EXPECT_INSN(in, JMP_FAR_M, 2, 1);
    expect_mem(in, 0, 6, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("66 ff 18", true);
    EXPECT_INSN(in, CALL_FAR_M, 3, 1);
    EXPECT_EQ(in.op[0].size, 4);
    in = dec("8f 00", true);
    EXPECT_INSN(in, POP, 2, 1);
    expect_mem(in, 0, 4, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("0f ba e0 05", true);
    EXPECT_INSN(in, BT, 4, 2);
    expect_imm(in, 1, 5, 1);
    in = dec("0f ba 78 04 1f", true);
    EXPECT_INSN(in, BTC, 5, 2);
    expect_mem(in, 0, 4, R_EAX, -1, 0, 4, SEG_DS);
    expect_imm(in, 1, 0x1f, 1);
}

TEST(Decode32, Undefined)
{
    Insn in = dec("ff d8", true); // call far with a register
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("ff f8", true); // FF /7
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("fe d0", true); // FE /2
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("8f 48 00", true); // 8F /1
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("c6 48 00 00", true); // C6 /1
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("c7 c8 00 00 00 00", true); // C7 /1
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("8d c0", true); // lea with a register
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("c5 c0", true); // lds with a register
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("0f ba c0 05", true); // 0F BA /0
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("0f ff", true);
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("0f 04", true);
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("0f 24 c0", true);
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("0f 01 c8", true); // MONITOR: not on this CPU
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("0f 01 f8", true);
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("0f c7 c8", true); // cmpxchg8b with a register
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("8e c8", true); // mov cs, ax
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("8e f0", true); // sreg 6
    EXPECT_INSN(in, UD, 2, 0);
    in = dec("8c f8", true); // sreg 7
    EXPECT_INSN(in, UD, 2, 0);
    EXPECT_TRUE(in.flags & IF_ENDS_BLOCK);
}

TEST(Decode32, Lock)
{
    Insn in = dec("f0 01 00", true);
    EXPECT_INSN(in, ADD, 3, 2);
    EXPECT_TRUE(in.prefixes & PFX_LOCK);
    in = dec("f0 01 c0", true); // register destination
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("f0 8b 00", true); // not lockable
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("f0 38 00", true); // cmp is not lockable
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("f0 80 38 01", true); // cmp via group 1
    EXPECT_INSN(in, UD, 4, 0);
    in = dec("f0 80 30 01", true); // xor via group 1
    EXPECT_INSN(in, XOR, 4, 2);
    in = dec("f0 0f c7 08", true);
    EXPECT_INSN(in, CMPXCHG8B, 4, 1);
    expect_mem(in, 0, 8, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("f0 87 18", true);
    EXPECT_INSN(in, XCHG, 3, 2);
    in = dec("f0 0f ab 08", true);
    EXPECT_INSN(in, BTS, 4, 2);
    in = dec("f0 0f a3 08", true); // bt is not lockable
    EXPECT_INSN(in, UD, 4, 0);
    in = dec("f0 90", true);
    EXPECT_INSN(in, UD, 2, 0);
}

TEST(Decode32, MemoryOnlyAndSegments)
{
    Insn in = dec("8d 04 85 00 00 00 00", true);
    EXPECT_INSN(in, LEA, 7, 2);
    expect_mem(in, 1, 0, -1, R_EAX, 2, 0, SEG_DS);
    in = dec("c4 00", true);
    EXPECT_INSN(in, LES, 2, 2);
    EXPECT_EQ(in.op[1].size, 6);
    in = dec("66 0f b2 00", true);
    EXPECT_INSN(in, LSS, 4, 2);
    EXPECT_EQ(in.op[1].size, 4);
    in = dec("62 00", true);
    EXPECT_INSN(in, BOUND, 2, 2);
    expect_mem(in, 1, 8, R_EAX, -1, 0, 0, SEG_DS);

    in = dec("8c d8", true); // mov eax, ds
    EXPECT_INSN(in, MOV_RS, 2, 2);
    expect_reg(in, 0, R_EAX, 4);
    EXPECT_EQ(in.op[1].kind, OPK_SREG);
    EXPECT_EQ(in.op[1].reg, SEG_DS);
    in = dec("8c 18", true); // mov [eax], ds: 16-bit store
    expect_mem(in, 0, 2, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("8e d0", true); // mov ss, ax
    EXPECT_INSN(in, MOV_SR, 2, 2);
    EXPECT_EQ(in.op[0].kind, OPK_SREG);
    EXPECT_EQ(in.op[0].reg, SEG_SS);
    expect_reg(in, 1, R_EAX, 2);
    in = dec("0f a1", true);
    EXPECT_INSN(in, POP_SR, 2, 1);
    EXPECT_EQ(in.op[0].reg, SEG_FS);
    in = dec("1e", true);
    EXPECT_INSN(in, PUSH_SR, 1, 1);
    EXPECT_EQ(in.op[0].reg, SEG_DS);
}

TEST(Decode32, MoffsAndFar)
{
    Insn in = dec("a1 78 56 34 12", true);
    EXPECT_INSN(in, MOV, 5, 2);
    expect_reg(in, 0, R_EAX, 4);
    expect_mem(in, 1, 4, -1, -1, 0, 0x12345678, SEG_DS);
    in = dec("67 a0 34 12", true);
    EXPECT_INSN(in, MOV, 4, 2);
    expect_mem(in, 1, 1, -1, -1, 0, 0x1234, SEG_DS);
    in = dec("64 a2 00 00 00 00", true);
    EXPECT_INSN(in, MOV, 6, 2);
    expect_mem(in, 0, 1, -1, -1, 0, 0, SEG_FS);
    expect_reg(in, 1, R_EAX, 1);

    in = dec("9a 78 56 34 12 08 00", true);
    EXPECT_INSN(in, CALL_FAR, 7, 1);
    EXPECT_EQ(in.op[0].kind, OPK_FAR);
    EXPECT_EQ(in.op[0].size, 6);
    EXPECT_EQ(in.imm, 0x12345678u);
    EXPECT_EQ(in.imm2, 8u);
    in = dec("66 ea 34 12 00 f0", true);
    EXPECT_INSN(in, JMP_FAR, 6, 1);
    EXPECT_EQ(in.op[0].size, 4);
    EXPECT_EQ(in.imm, 0x1234u);
    EXPECT_EQ(in.imm2, 0xf000u);
}

TEST(Decode32, Branches)
{
    Insn in = dec("eb fe", true);
    EXPECT_INSN(in, JMP, 2, 1);
    EXPECT_EQ(in.op[0].kind, OPK_REL);
    EXPECT_EQ(in.imm, 0xfffffffeu);
    in = dec("74 05", true);
    EXPECT_INSN(in, Jcc, 2, 1);
    EXPECT_EQ(in.cond, 4);
    EXPECT_EQ(in.imm, 5u);
    EXPECT_STREQ(insn_name(&in), "JE");
    in = dec("0f 85 00 01 00 00", true);
    EXPECT_INSN(in, Jcc, 6, 1);
    EXPECT_EQ(in.cond, 5);
    EXPECT_EQ(in.imm, 0x100u);
    EXPECT_EQ(in.map, 1);
    EXPECT_EQ(in.opcode, 0x85);
    in = dec("0f 8f 00 ff ff ff", true);
    EXPECT_EQ(in.imm, 0xffffff00u);
    EXPECT_EQ(in.cond, 15);
    in = dec("e8 00 00 00 00", true);
    EXPECT_INSN(in, CALL, 5, 1);
    EXPECT_EQ(in.op[0].size, 4);
    in = dec("66 e9 34 92", true); // rel16 in 32-bit code
    EXPECT_INSN(in, JMP, 4, 1);
    EXPECT_EQ(in.imm, 0xffff9234u);
    EXPECT_EQ(in.op[0].size, 2);
    in = dec("e3 fe", true);
    EXPECT_INSN(in, JCXZ, 2, 1);
    in = dec("e2 f0", true);
    EXPECT_INSN(in, LOOP, 2, 1);
    EXPECT_EQ(in.imm, 0xfffffff0u);
    in = dec("c3", true);
    EXPECT_INSN(in, RET, 1, 0);
    EXPECT_TRUE(in.flags & IF_ENDS_BLOCK);
}

TEST(Decode32, StringsAndMisc)
{
    Insn in = dec("f3 a5", true);
    EXPECT_INSN(in, MOVS, 2, 0);
    EXPECT_EQ(in.op[0].kind, OPK_NONE);
    EXPECT_EQ(in.op[0].size, 4);
    EXPECT_EQ(in.prefixes, PFX_REP);
    EXPECT_EQ(in.seg, SEG_DS);
    EXPECT_TRUE(in.flags & IF_STRING);
    in = dec("66 a5", true);
    EXPECT_EQ(in.op[0].size, 2);
    in = dec("2e ac", true);
    EXPECT_INSN(in, LODS, 2, 0);
    EXPECT_EQ(in.op[0].size, 1);
    EXPECT_EQ(in.seg, SEG_CS);
    in = dec("f2 ae", true);
    EXPECT_INSN(in, SCAS, 2, 0);
    EXPECT_EQ(in.prefixes, PFX_REPNE);
    in = dec("6c", true);
    EXPECT_INSN(in, INS, 1, 0);
    EXPECT_EQ(in.op[0].size, 1);
    in = dec("6f", true);
    EXPECT_INSN(in, OUTS, 1, 0);
    EXPECT_EQ(in.op[0].size, 4);

    in = dec("f3 90", true);
    EXPECT_INSN(in, PAUSE, 2, 0);
    in = dec("90", true);
    EXPECT_INSN(in, NOP, 1, 0);
    in = dec("91", true);
    EXPECT_INSN(in, XCHG, 1, 2);
    expect_reg(in, 0, R_EAX, 4);
    expect_reg(in, 1, R_ECX, 4);

    in = dec("e4 60", true);
    EXPECT_INSN(in, IN, 2, 2);
    expect_reg(in, 0, R_EAX, 1);
    expect_imm(in, 1, 0x60, 1);
    in = dec("ef", true);
    EXPECT_INSN(in, OUT, 1, 2);
    expect_reg(in, 0, R_EDX, 2);
    expect_reg(in, 1, R_EAX, 4);
    in = dec("66 ed", true);
    EXPECT_INSN(in, IN, 2, 2);
    expect_reg(in, 0, R_EAX, 2);

    EXPECT_EQ(dec("cc", true).mnem, M_INT3);
    EXPECT_EQ(dec("f1", true).mnem, M_INT1);
    EXPECT_EQ(dec("d6", true).mnem, M_SALC);
    EXPECT_EQ(dec("9b", true).mnem, M_WAIT);
    EXPECT_EQ(dec("f4", true).flags & IF_PRIV, IF_PRIV);
}

TEST(Decode32, TwoByte)
{
    Insn in = dec("0f 20 c0", true);
    EXPECT_INSN(in, MOV_RC, 3, 2);
    expect_reg(in, 0, R_EAX, 4);
    EXPECT_EQ(in.op[1].kind, OPK_CREG);
    EXPECT_EQ(in.op[1].reg, 0);
    in = dec("0f 22 18", true); // mod 0 ignored: no displacement, mov cr3, eax
    EXPECT_INSN(in, MOV_CR, 3, 2);
    EXPECT_EQ(in.op[0].kind, OPK_CREG);
    EXPECT_EQ(in.op[0].reg, 3);
    expect_reg(in, 1, R_EAX, 4);
    in = dec("0f 23 f8", true);
    EXPECT_INSN(in, MOV_DR, 3, 2);
    EXPECT_EQ(in.op[0].kind, OPK_DREG);
    EXPECT_EQ(in.op[0].reg, 7);

    in = dec("0f 01 10", true);
    EXPECT_INSN(in, LGDT, 3, 1);
    expect_mem(in, 0, 6, R_EAX, -1, 0, 0, SEG_DS);
    EXPECT_TRUE(in.flags & IF_PRIV);
    EXPECT_TRUE(in.flags & IF_MODRM_MEM);
    in = dec("0f 01 e0", true);
    EXPECT_INSN(in, SMSW, 3, 1);
    expect_reg(in, 0, R_EAX, 4);
    in = dec("0f 01 20", true);
    EXPECT_INSN(in, SMSW, 3, 1);
    expect_mem(in, 0, 2, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("0f 01 f0", true);
    EXPECT_INSN(in, LMSW, 3, 1);
    expect_reg(in, 0, R_EAX, 2);
    in = dec("0f 01 3c 24", true);
    EXPECT_INSN(in, INVLPG, 4, 1);
    in = dec("0f 00 d8", true);
    EXPECT_INSN(in, LTR, 3, 1);
    expect_reg(in, 0, R_EAX, 2);
    in = dec("0f 00 00", true);
    EXPECT_INSN(in, SLDT, 3, 1);
    expect_mem(in, 0, 2, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("0f 02 c1", true);
    EXPECT_INSN(in, LAR, 3, 2);
    expect_reg(in, 1, R_ECX, 2);
    in = dec("63 c8", true);
    EXPECT_INSN(in, ARPL, 2, 2);
    expect_reg(in, 0, R_EAX, 2);
    expect_reg(in, 1, R_ECX, 2);

    EXPECT_EQ(dec("0f a2", true).mnem, M_CPUID);
    EXPECT_EQ(dec("0f 31", true).mnem, M_RDTSC);
    EXPECT_EQ(dec("0f 33", true).mnem, M_RDPMC);
    EXPECT_EQ(dec("0f 34", true).mnem, M_SYSENTER);
    EXPECT_EQ(dec("0f 35", true).mnem, M_SYSEXIT);
    EXPECT_EQ(dec("0f 0b", true).mnem, M_UD2);
    EXPECT_EQ(dec("0f 06", true).mnem, M_CLTS);

    in = dec("0f b6 c1", true);
    EXPECT_INSN(in, MOVZX, 3, 2);
    expect_reg(in, 1, R_ECX, 1);
    in = dec("0f bf 00", true);
    EXPECT_INSN(in, MOVSX, 3, 2);
    expect_mem(in, 1, 2, R_EAX, -1, 0, 0, SEG_DS);
    in = dec("0f a4 c8 04", true);
    EXPECT_INSN(in, SHLD, 4, 3);
    expect_reg(in, 0, R_EAX, 4);
    expect_reg(in, 1, R_ECX, 4);
    expect_imm(in, 2, 4, 1);
    in = dec("0f ad c8", true);
    EXPECT_INSN(in, SHRD, 3, 3);
    expect_reg(in, 2, R_ECX, 1);
    in = dec("0f c8", true);
    EXPECT_INSN(in, BSWAP, 2, 1);
    expect_reg(in, 0, R_EAX, 4);
    in = dec("66 0f c9", true);
    expect_reg(in, 0, R_ECX, 2);
    in = dec("0f 44 c1", true);
    EXPECT_INSN(in, CMOVcc, 3, 2);
    EXPECT_EQ(in.cond, 4);
    in = dec("0f 94 c0", true);
    EXPECT_INSN(in, SETcc, 3, 1);
    expect_reg(in, 0, R_EAX, 1);
    EXPECT_STREQ(insn_name(&in), "SETE");
    in = dec("0f c1 08", true);
    EXPECT_INSN(in, XADD, 3, 2);
    in = dec("0f b0 0b", true);
    EXPECT_INSN(in, CMPXCHG, 3, 2);
    expect_reg(in, 1, R_ECX, 1);
    in = dec("0f af c1", true);
    EXPECT_INSN(in, IMUL2, 3, 2);
    in = dec("0f 1f 44 00 00", true);
    EXPECT_INSN(in, HINT_NOP, 5, 1);
    in = dec("0f 18 08", true);
    EXPECT_INSN(in, PREFETCH, 3, 1);
    EXPECT_STREQ(insn_name(&in), "PREFETCH");
}

TEST(Decode32, FpuAndSse)
{
    Insn in = dec("d9 c0", true);
    EXPECT_INSN(in, FPU, 2, 0);
    EXPECT_EQ(in.modrm, 0xc0);
    in = dec("dd 05 00 10 00 00", true);
    EXPECT_INSN(in, FPU, 6, 1);
    expect_mem(in, 0, 0, -1, -1, 0, 0x1000, SEG_DS);
    in = dec("0f 38 00 c0", true);
    EXPECT_INSN(in, SSE, 4, 0);
    EXPECT_EQ(in.map, 2);
    in = dec("66 0f 3a 0f c1 08", true); // palignr: ModRM + Ib
    EXPECT_INSN(in, SSE, 6, 1);
    expect_imm(in, 0, 8, 1);
    EXPECT_EQ(in.map, 3);
    in = dec("0f 70 c1 08", true);
    EXPECT_INSN(in, SSE, 4, 1);
    in = dec("66 0f 73 d8 04", true); // psrldq
    EXPECT_INSN(in, SSE, 5, 1);
    expect_imm(in, 0, 4, 1);
    in = dec("0f 73 d8 04", true); // psrldq needs 66
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("0f 71 00", true); // memory form of group 12
    EXPECT_INSN(in, UD, 3, 0);
    in = dec("f3 0f 7c c0", true); // haddps is F2
    EXPECT_INSN(in, UD, 4, 0);
    in = dec("f2 0f 7c c0", true);
    EXPECT_INSN(in, SSE, 4, 0);
    in = dec("0f c2 44 24 04 01", true); // cmpps xmm0, [esp+4], 1
    EXPECT_INSN(in, SSE, 6, 2);
    expect_mem(in, 0, 0, R_ESP, -1, 0, 4, SEG_SS);
    expect_imm(in, 1, 1, 1);
    in = dec("0f 77", true);
    EXPECT_INSN(in, SSE, 2, 0);
    in = dec("0f ae f8", true); // sfence
    EXPECT_INSN(in, SSE, 3, 0);
}

// ---- 16-bit code ----
TEST(Decode16, AddressingForms)
{
    struct { const char *bytes; int len, base, index; int32_t disp; int seg; } t[] = {
        { "8b 00", 2, R_EBX, R_ESI, 0, SEG_DS },
        { "8b 01", 2, R_EBX, R_EDI, 0, SEG_DS },
        { "8b 02", 2, R_EBP, R_ESI, 0, SEG_SS },
        { "8b 03", 2, R_EBP, R_EDI, 0, SEG_SS },
        { "8b 04", 2, R_ESI, -1, 0, SEG_DS },
        { "8b 05", 2, R_EDI, -1, 0, SEG_DS },
        { "8b 06 34 12", 4, -1, -1, 0x1234, SEG_DS },
        { "8b 07", 2, R_EBX, -1, 0, SEG_DS },
        { "8b 46 fe", 3, R_EBP, -1, -2, SEG_SS },
        { "8b 40 7f", 3, R_EBX, R_ESI, 127, SEG_DS },
        { "8b 87 00 80", 4, R_EBX, -1, -32768, SEG_DS },
        { "8b 86 00 01", 4, R_EBP, -1, 0x100, SEG_SS },
        { "26 8b 02", 3, R_EBP, R_ESI, 0, SEG_ES },
    };
    for (auto &c : t) {
        SCOPED_TRACE(c.bytes);
        Insn in = dec(c.bytes, false);
        EXPECT_INSN(in, MOV, c.len, 2);
        EXPECT_EQ(in.opsize, 2);
        EXPECT_EQ(in.addrsize, 2);
        expect_reg(in, 0, R_EAX, 2);
        expect_mem(in, 1, 2, c.base, c.index, 0, c.disp, c.seg);
    }
    Insn in = dec("8b c3", false);
    expect_reg(in, 1, R_EBX, 2);
    in = dec("66 8b 00", false);
    EXPECT_EQ(in.opsize, 4);
    expect_mem(in, 1, 4, R_EBX, R_ESI, 0, 0, SEG_DS);
    in = dec("67 8b 04 24", false); // 32-bit addressing in 16-bit code
    EXPECT_INSN(in, MOV, 4, 2);
    EXPECT_EQ(in.addrsize, 4);
    expect_mem(in, 1, 2, R_ESP, -1, 0, 0, SEG_SS);
    in = dec("67 8b 44 98 10", false);
    expect_mem(in, 1, 2, R_EAX, R_EBX, 2, 16, SEG_DS);
}

TEST(Decode16, ImmediatesAndBranches)
{
    Insn in = dec("b8 34 12", false);
    EXPECT_INSN(in, MOV, 3, 2);
    expect_imm(in, 1, 0x1234, 2);
    in = dec("66 b8 78 56 34 12", false);
    EXPECT_INSN(in, MOV, 6, 2);
    expect_imm(in, 1, 0x12345678, 4);
    in = dec("c7 06 00 01 34 12", false); // mov word [100h], 1234h
    EXPECT_INSN(in, MOV, 6, 2);
    expect_mem(in, 0, 2, -1, -1, 0, 0x100, SEG_DS);
    expect_imm(in, 1, 0x1234, 2);
    in = dec("81 c3 34 12", false);
    EXPECT_INSN(in, ADD, 4, 2);
    expect_reg(in, 0, R_EBX, 2);
    in = dec("83 c3 80", false);
    expect_imm(in, 1, 0xffffff80u, 2);
    in = dec("e8 fd ff", false);
    EXPECT_INSN(in, CALL, 3, 1);
    EXPECT_EQ(in.imm, 0xfffffffdu);
    EXPECT_EQ(in.op[0].size, 2);
    in = dec("0f 84 00 01", false);
    EXPECT_INSN(in, Jcc, 4, 1);
    EXPECT_EQ(in.imm, 0x100u);
    in = dec("66 0f 84 00 00 01 00", false);
    EXPECT_INSN(in, Jcc, 7, 1);
    EXPECT_EQ(in.imm, 0x10000u);
    in = dec("ea 00 00 ff ff", false);
    EXPECT_INSN(in, JMP_FAR, 5, 1);
    EXPECT_EQ(in.imm, 0u);
    EXPECT_EQ(in.imm2, 0xffffu);
    EXPECT_EQ(in.op[0].size, 4);
    in = dec("66 9a 78 56 34 12 08 00", false);
    EXPECT_INSN(in, CALL_FAR, 8, 1);
    EXPECT_EQ(in.imm, 0x12345678u);
    in = dec("a1 34 12", false);
    EXPECT_INSN(in, MOV, 3, 2);
    expect_mem(in, 1, 2, -1, -1, 0, 0x1234, SEG_DS);
    in = dec("67 a1 78 56 34 12", false);
    EXPECT_INSN(in, MOV, 6, 2);
    EXPECT_EQ(in.disp, 0x12345678);
    in = dec("f3 a4", false);
    EXPECT_INSN(in, MOVS, 2, 0);
    EXPECT_EQ(in.op[0].size, 1);
    in = dec("66 a5", false);
    EXPECT_EQ(in.op[0].size, 4);
    in = dec("c4 1e 00 02", false); // les bx, [200h]
    EXPECT_INSN(in, LES, 4, 2);
    expect_reg(in, 0, R_EBX, 2);
    expect_mem(in, 1, 4, -1, -1, 0, 0x200, SEG_DS);
    in = dec("c8 00 01 00", false);
    EXPECT_INSN(in, ENTER, 4, 2);
    EXPECT_EQ(in.imm, 0x100u);
    EXPECT_EQ(in.imm2, 0u);
    in = dec("8c c8", false); // mov ax, cs
    expect_reg(in, 0, R_EAX, 2);
    in = dec("0f 01 16 00 10", false); // lgdt [1000h]
    EXPECT_INSN(in, LGDT, 5, 1);
    expect_mem(in, 0, 6, -1, -1, 0, 0x1000, SEG_DS);
}

TEST(Decode, LengthLimits)
{
    // 14 prefixes + opcode = 15 bytes: fine; one more prefix: too long
    Insn in = dec("66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", true);
    EXPECT_INSN(in, NOP, 15, 0);
    dec("66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", true, DECODE_TOOLONG);
    in = dec("26 26 26 26 26 26 26 26 26 26 b8 01 02 03 04", true);
    EXPECT_INSN(in, MOV, 15, 2);
    dec("26 26 26 26 26 26 26 26 26 26 26 b8 01 02 03 04", true, DECODE_TOOLONG);
    dec("26 26 26 26 26 26 26 26 26 3e 81 84 24 00 01 00 00 01 02 03 04", true,
        DECODE_TOOLONG);

    // running out of bytes first
    uint8_t b[16] = { 0x8b, 0x84, 0x24, 0, 1, 0, 0 };
    EXPECT_EQ(decode(&in, b, 0, true), DECODE_MORE);
    EXPECT_EQ(decode(&in, b, 1, true), DECODE_MORE);
    EXPECT_EQ(decode(&in, b, 2, true), DECODE_MORE);
    EXPECT_EQ(decode(&in, b, 6, true), DECODE_MORE);
    EXPECT_EQ(decode(&in, b, 7, true), DECODE_OK);
    EXPECT_EQ(in.len, 7);
    uint8_t jcc[] = { 0x0f, 0x85, 0, 0, 0, 0 };
    EXPECT_EQ(decode(&in, jcc, 1, true), DECODE_MORE);
    EXPECT_EQ(decode(&in, jcc, 5, true), DECODE_MORE);
    EXPECT_EQ(decode(&in, jcc, 4, false), DECODE_OK);
    // a 16-byte instruction with only 12 bytes available: more first, then too long
    std::vector<uint8_t> l = hex("26 26 26 26 26 26 26 26 26 26 26 b8 01 02 03 04");
    EXPECT_EQ(decode(&in, l.data(), 12, true), DECODE_MORE);
    EXPECT_EQ(decode(&in, l.data(), 15, true), DECODE_TOOLONG);
}

TEST(Disas, Capstone)
{
    char text[128];
    uint8_t b[] = { 0x8b, 0x44, 0x24, 0x04 };
    EXPECT_EQ(disas_insn(b, sizeof b, 0x1000, true, text, sizeof text), 4);
    EXPECT_STREQ(text, "mov eax, dword ptr [esp + 4]");
    uint8_t c[] = { 0xb8, 0x34, 0x12 };
    EXPECT_EQ(disas_insn(c, sizeof c, 0, false, text, sizeof text), 3);
    EXPECT_STREQ(text, "mov ax, 0x1234");
    uint8_t bad[] = { 0x0f };
    EXPECT_EQ(disas_insn(bad, sizeof bad, 0, true, text, sizeof text), 0);
    EXPECT_STREQ(text, "(bad)");
}

// ---- Capstone cross-check ----

// xorshift64*: deterministic corpus
struct Rng {
    uint64_t s;
    uint32_t next()
    {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return (uint32_t)((s * 0x2545f4914f6cdd1dull) >> 32);
    }
};

// The last word of Capstone's mnemonic ("rep movsb" -> "movsb", "lock add" -> "add").
std::string cs_base(const char *m)
{
    std::string s(m);
    size_t sp = s.rfind(' ');
    return sp == std::string::npos ? s : s.substr(sp + 1);
}

// Mnemonic families that must agree with Capstone (empty: not compared).
bool family_ok(const Insn &in, const std::string &m)
{
    auto is = [&](const char *x) { return m == x; };
    auto starts = [&](const char *x) { return m.compare(0, strlen(x), x) == 0; };
    switch (in.mnem) {
    case M_ADD: return is("add");
    case M_OR: return is("or");
    case M_ADC: return is("adc");
    case M_SBB: return is("sbb");
    case M_AND: return is("and");
    case M_SUB: return is("sub");
    case M_XOR: return is("xor");
    case M_CMP: return is("cmp");
    case M_INC: return is("inc");
    case M_DEC: return is("dec");
    case M_NEG: return is("neg");
    case M_NOT: return is("not");
    case M_TEST: return is("test");
    case M_MUL: return is("mul");
    case M_DIV: return is("div");
    case M_IDIV: return is("idiv");
    case M_IMUL1: case M_IMUL2: case M_IMUL3: return is("imul");
    case M_LEA: return is("lea");
    case M_PUSH: case M_PUSH_SR: return is("push");
    case M_POP: case M_POP_SR: return is("pop");
    case M_MOV: case M_MOV_SR: case M_MOV_RS: case M_MOV_CR: case M_MOV_RC:
    case M_MOV_DR: case M_MOV_RD: return is("mov");
    case M_MOVZX: return is("movzx");
    case M_MOVSX: return is("movsx");
    case M_ROL: return is("rol");
    case M_ROR: return is("ror");
    case M_RCL: return is("rcl");
    case M_RCR: return is("rcr");
    case M_SHL: case M_SAL: return is("shl") || is("sal");
    case M_SHR: return is("shr");
    case M_SAR: return is("sar");
    case M_SHLD: return is("shld");
    case M_SHRD: return is("shrd");
    case M_BT: return is("bt");
    case M_BTS: return is("bts");
    case M_BTR: return is("btr");
    case M_BTC: return is("btc");
    case M_Jcc: return starts("j") && !is("jmp");
    case M_SETcc: return starts("set");
    case M_CMOVcc: return starts("cmov");
    case M_JMP: return is("jmp");
    case M_CALL: return is("call");
    case M_XADD: return is("xadd");
    case M_CMPXCHG: return is("cmpxchg");
    case M_BSWAP: return is("bswap");
    case M_LAR: return is("lar");
    case M_LSL: return is("lsl");
    case M_IN: return is("in");
    case M_OUT: return is("out");
    case M_ENTER: return is("enter");
    default: return true;
    }
}

// Known differences between Capstone 4.0.2 and real CPUs (the hardware is right):
//  - 9B (WAIT) followed by an x87 store/clear (D9 /6 /7, DB E2 E3, DD /6 /7, DF E0):
//    Capstone merges them into one "fstcw"/"fninit"... pseudo-instruction; on the CPU
//    WAIT is a one-byte instruction of its own.
//  - 32-bit code, a near branch with rel16/32 (E8, E9, 0F 8x) carrying both 66 and an
//    F2/F3 ("bnd" / "rep") prefix: Capstone drops the 66 and reads a rel32; the CPU
//    honours 66 (SDM vol. 2: operand-size prefix selects rel16) whatever F2/F3 say.
bool capstone_known_wrong(const uint8_t *b, unsigned pfx_len, const cs_insn *ci,
                          const Insn &in, bool c32)
{
    if (b[pfx_len] == 0x9b && strcmp(ci->mnemonic, "wait") != 0) return true;
    bool relz = (in.map == 0 && (in.opcode == 0xe8 || in.opcode == 0xe9)) ||
                (in.map == 1 && (in.opcode & 0xf0) == 0x80);
    if (c32 && relz && (in.prefixes & PFX_OPSIZE) && (in.prefixes & (PFX_REP | PFX_REPNE)))
        return true;
    return false;
}

// Counts for one cross-check run.
struct CrossStats {
    long compared = 0, agree = 0, mismatches = 0, cs_only = 0, ours_only = 0;
};

// Decode 15 bytes with both decoders and compare length and mnemonic family when
// both accept it and ours is not UD (SSE and x87 lengths are compared too; Capstone
// knows later extensions that are UD here). `pfx_len` = prefix bytes at the start.
void cross_one(csh h, cs_insn *ci, const uint8_t *b, unsigned pfx_len, bool c32, CrossStats &st)
{
    Insn in;
    int r = decode(&in, b, 15, c32);
    const uint8_t *code = b;
    size_t size = 15;
    uint64_t addr = 0x1000;
    bool cs_ok = cs_disasm_iter(h, &code, &size, &addr, ci);
    bool ours = r == DECODE_OK && in.mnem != M_UD;
    if (cs_ok && !ours) st.cs_only++;
    if (!cs_ok && ours) st.ours_only++;
    if (!cs_ok || !ours) return;
    if (capstone_known_wrong(b, pfx_len, ci, in, c32)) return;
    st.compared++;
    if (ci->size == in.len && family_ok(in, cs_base(ci->mnemonic))) {
        st.agree++;
        return;
    }
    if (++st.mismatches <= 40) {
        std::string hb;
        char t[4];
        for (unsigned k = 0; k < 15; k++) {
            snprintf(t, sizeof t, "%02x ", b[k]);
            hb += t;
        }
        ADD_FAILURE() << (c32 ? "32" : "16") << "-bit " << hb << ": capstone " << ci->mnemonic
                      << " " << ci->op_str << " len " << ci->size << ", ours "
                      << insn_name(&in) << " len " << (int)in.len;
    }
}

void report(const char *what, bool c32, long n, const CrossStats &st)
{
    printf("%s %d-bit: %ld generated, %ld compared, %ld agree, %ld mismatches; "
           "capstone-only %ld, ours-only %ld\n",
           what, c32 ? 32 : 16, n, st.compared, st.agree, st.mismatches, st.cs_only,
           st.ours_only);
}

// Random instructions: random prefixes + random opcode (a third in the 0F map) +
// random ModRM/SIB/displacement/immediate bytes, from a fixed seed.
TEST(Decode, CapstoneCrossCheck)
{
    static const uint8_t prefixes[] = { 0x66, 0x67, 0xf2, 0xf3, 0x26, 0x2e, 0x36,
                                        0x3e, 0x64, 0x65, 0xf0 };
    for (int mode = 0; mode < 2; mode++) {
        bool c32 = mode == 1;
        csh h;
        ASSERT_EQ(cs_open(CS_ARCH_X86, c32 ? CS_MODE_32 : CS_MODE_16, &h), CS_ERR_OK);
        cs_insn *ci = cs_malloc(h);
        Rng rng{ c32 ? 0x9e3779b97f4a7c15ull : 0x0123456789abcdefull };
        CrossStats st;
        const int N = 120000;
        for (int i = 0; i < N; i++) {
            uint8_t b[16];
            for (auto &x : b) x = (uint8_t)rng.next();
            unsigned p = 0, np = rng.next() % 8;
            np = np < 4 ? 0 : np - 3; // half without prefixes, else 1..4
            for (unsigned k = 0; k < np; k++) {
                uint8_t x = prefixes[rng.next() % sizeof prefixes];
                if (x == 0xf0 && rng.next() % 4) x = 0x66; // LOCK rarely
                b[p++] = x;
            }
            if (rng.next() % 3 == 0) b[p] = 0x0f; // a third in the 0F map
            if (rng.next() % 4 == 0) {
                // a quarter with a SIB byte (rm = 4)
                unsigned m = p + (b[p] == 0x0f ? 2 : 1);
                b[m] = (uint8_t)((b[m] & 0xf8) | 4);
            }
            cross_one(h, ci, b, p, c32, st);
        }
        report("random", c32, N, st);
        EXPECT_EQ(st.mismatches, 0);
        EXPECT_GT(st.compared, N / 2);
        cs_free(ci, 1);
        cs_close(&h);
    }
}

// Every opcode of the one-byte, 0F, 0F 38 and 0F 3A maps with every ModRM byte, with no
// prefix, 66 and 67.
TEST(Decode, CapstoneSweep)
{
    static const uint8_t tail[] = { 0x5c, 0x11, 0x92, 0x33, 0x84, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
    for (int mode = 0; mode < 2; mode++) {
        bool c32 = mode == 1;
        csh h;
        ASSERT_EQ(cs_open(CS_ARCH_X86, c32 ? CS_MODE_32 : CS_MODE_16, &h), CS_ERR_OK);
        cs_insn *ci = cs_malloc(h);
        CrossStats st;
        long n = 0;
        for (int pfx = 0; pfx < 3; pfx++) {
            for (int map = 0; map < 4; map++) {
                for (int op = 0; op < 256; op++) {
                    for (int modrm = 0; modrm < 256; modrm++) {
                        uint8_t b[16];
                        unsigned p = 0;
                        if (pfx) b[p++] = pfx == 1 ? 0x66 : 0x67;
                        unsigned plen = p;
                        if (map) b[p++] = 0x0f;
                        if (map >= 2) b[p++] = map == 2 ? 0x38 : 0x3a;
                        b[p++] = (uint8_t)op;
                        b[p++] = (uint8_t)modrm;
                        for (unsigned k = 0; p < 16; k++) b[p++] = tail[(k + modrm) % 15];
                        cross_one(h, ci, b, plen, c32, st);
                        n++;
                    }
                }
            }
        }
        report("sweep", c32, n, st);
        EXPECT_EQ(st.mismatches, 0);
        EXPECT_GT(st.compared, n * 2 / 5); // 0F 38/3A: mostly undefined here
        cs_free(ci, 1);
        cs_close(&h);
    }
}

} // namespace
