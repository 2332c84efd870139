// test_emit.cc — the x86-64 emitter (translate/emit.c): every emit_* function and
// operand form is disassembled with Capstone and compared with the expected Intel text
// (all 16 registers in every position, every ModRM/SIB corner case, all sizes, imm8 vs
// imm32 choice), plus label patching, buffer overflow, and small emitted functions that
// are executed for real.
#include <gtest/gtest.h>

#include <capstone/capstone.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

extern "C" {
#include "translate/emit.h"
}

namespace {

const char *const R64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                              "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
const char *const R32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                              "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" };
const char *const R16[16] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                              "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w" };
const char *const R8[16] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                             "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" };
const char *const CC[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                             "s", "ns", "p", "np", "l", "ge", "le", "g" };
const char *const ALU[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
const int SIZES[4] = { 1, 2, 4, 8 };

std::string reg(int sz, int r)
{
    switch (sz) {
    case 1: return R8[r];
    case 2: return R16[r];
    case 4: return R32[r];
    default: return R64[r];
    }
}

std::string ptr(int sz)
{
    switch (sz) {
    case 1: return "byte ptr ";
    case 2: return "word ptr ";
    case 4: return "dword ptr ";
    default: return "qword ptr ";
    }
}

// Capstone's number format: hex above 9, decimal otherwise.
std::string num(uint64_t v)
{
    char s[32];
    snprintf(s, sizeof s, v > 9 ? "0x%llx" : "%llu", (unsigned long long)v);
    return s;
}

std::string snum(int64_t v)
{
    return v < 0 ? "-" + num((uint64_t)0 - (uint64_t)v) : num((uint64_t)v);
}

// An immediate as Capstone prints it: signed when sign-extended from imm8 or to 64 bits,
// otherwise unsigned at the operand size.
std::string imm(int64_t v, int sz, bool sext8, bool logical = false)
{
    if (logical)   // Capstone prints AND/OR/XOR immediates unsigned at the operand size
        return num(sz == 8 ? (uint64_t)v : (uint64_t)v & ((1ull << (8 * sz)) - 1));
    if (sext8 || sz == 8)
        return snum(v);
    uint64_t mask = sz == 1 ? 0xff : sz == 2 ? 0xffff : 0xffffffffull;
    return num((uint64_t)v & mask);
}

std::string memstr(int sz, Mem m)
{
    std::string s = ptr(sz) + "[";
    bool any = false;
    if (m.base == HR_RIP) {
        s += "rip";
        any = true;
    } else if (m.base >= 0) {
        s += R64[m.base];
        any = true;
    }
    if (m.index >= 0) {
        if (any)
            s += " + ";
        s += R64[m.index];
        if (m.scale != 1)
            s += "*" + std::to_string(m.scale);
        any = true;
    }
    if (!any)
        s += num((uint64_t)(int64_t)m.disp);
    else if (m.disp > 0)
        s += " + " + num((uint64_t)m.disp);
    else if (m.disp < 0)
        s += " - " + num((uint64_t)0 - (uint64_t)(int64_t)m.disp);
    return s + "]";
}

struct Out {
    std::string text;
    size_t len;
    std::vector<uint8_t> bytes;
};

// Emits with f and disassembles everything; instructions are joined with "; ", and
// bytes Capstone could not decode show up as a "<bad>" marker.
Out run(const std::function<void(CodeBuf *)> &f)
{
    static uint8_t buf[256];
    memset(buf, 0xcc, sizeof buf);
    CodeBuf cb = { buf, sizeof buf, 0, false, 0 };
    f(&cb);
    EXPECT_FALSE(cb.overflow);
    Out o;
    o.len = cb.len;
    o.bytes.assign(buf, buf + cb.len);
    static csh h;
    static bool opened = cs_open(CS_ARCH_X86, CS_MODE_64, &h) == CS_ERR_OK;
    if (!opened) {
        ADD_FAILURE() << "capstone";
        return o;
    }
    cs_insn *insn;
    size_t n = cs_disasm(h, buf, cb.len, 0, 0, &insn);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            o.text += "; ";
        o.text += insn[i].mnemonic;
        if (insn[i].op_str[0])
            o.text += std::string(" ") + insn[i].op_str;
        used += insn[i].size;
    }
    if (used != cb.len)
        o.text += " <bad " + std::to_string(cb.len - used) + " bytes>";
    cs_free(insn, n);
    return o;
}

std::string dis(const std::function<void(CodeBuf *)> &f)
{
    return run(f).text;
}

// Every memory operand shape worth testing: all bases (incl. none and RIP), all
// indexes (incl. none; never RSP), scales and displacements of 0/8-bit/32-bit size.
std::vector<Mem> all_mems()
{
    std::vector<Mem> v;
    const int32_t disps[] = { 0, 8, -8, 0x7f, 0x80, -0x80, -0x81, 0x12345678 };
    for (int b = -2; b < 16; b++)
        for (int i = -1; i < 16; i++) {
            if (i == HRSP || (b == HR_RIP && i >= 0))
                continue;
            for (int s : { 1, 2, 4, 8 }) {
                if (i < 0 && s != 1)
                    continue;
                for (int32_t d : disps)
                    v.push_back(mem_bisd(b, i, s, d));
            }
        }
    return v;
}

// A smaller set that still covers each base/index register and each disp width.
std::vector<Mem> some_mems()
{
    std::vector<Mem> v;
    for (int r = 0; r < 16; r++) {
        v.push_back(mem_base(r, 0));
        v.push_back(mem_base(r, -0x10));
        v.push_back(mem_base(r, 0x1000));
        if (r != HRSP)
            v.push_back(mem_bisd(15 - r, r, 4, 0x20));
    }
    v.push_back(mem_abs(0x1234));
    v.push_back(mem_rip(0x40));
    v.push_back(mem_bisd(HR_NONE, HR13, 8, 0x100));
    return v;
}

// The minimal length of a ModRM memory operand (ModRM + SIB + disp) — independent of
// the emitter, straight from the SDM tables.
size_t modrm_len(Mem m)
{
    if (m.base == HR_RIP)
        return 1 + 4;
    if (m.base < 0)
        return 1 + 1 + 4;
    size_t n = 1;
    if (m.index >= 0 || (m.base & 7) == 4)
        n++;
    if (m.disp == 0 && (m.base & 7) != 5)
        return n;
    return n + (m.disp >= -128 && m.disp <= 127 ? 1 : 4);
}

// ---------------------------------------------------------------------------------------
// MOV

TEST(Emit, MovRegReg)
{
    for (int sz : SIZES)
        for (int d = 0; d < 16; d++)
            for (int s = 0; s < 16; s++) {
                Out o = run([&](CodeBuf *cb) { emit_mov_rr(cb, sz, d, s); });
                EXPECT_EQ("mov " + reg(sz, d) + ", " + reg(sz, s), o.text);
                bool rex = sz == 8 || d >= 8 || s >= 8 || (sz == 1 && (d >= 4 || s >= 4));
                EXPECT_EQ(2u + (sz == 2) + rex, o.len) << sz << " " << d << " " << s;
            }
}

TEST(Emit, MovRegImm)
{
    for (int r = 0; r < 16; r++) {
        EXPECT_EQ("mov " + reg(1, r) + ", 0x80", dis([&](CodeBuf *cb) { emit_mov_ri(cb, 1, r, 0x80); }));
        EXPECT_EQ("mov " + reg(2, r) + ", 0x1234", dis([&](CodeBuf *cb) { emit_mov_ri(cb, 2, r, 0x1234); }));
        EXPECT_EQ("mov " + reg(4, r) + ", 0x89abcdef",
                  dis([&](CodeBuf *cb) { emit_mov_ri(cb, 4, r, (int32_t)0x89abcdef); }));
        EXPECT_EQ("mov " + reg(8, r) + ", -0x76543211",
                  dis([&](CodeBuf *cb) { emit_mov_ri(cb, 8, r, (int32_t)0x89abcdef); }));
        EXPECT_EQ("movabs " + reg(8, r) + ", 0x123456789abcdef0",
                  dis([&](CodeBuf *cb) { emit_mov_ri64(cb, r, 0x123456789abcdef0ull); }));
        // emit_mov_imm: shortest form.
        Out a = run([&](CodeBuf *cb) { emit_mov_imm(cb, r, 0xfffffffful); });
        EXPECT_EQ("mov " + reg(4, r) + ", 0xffffffff", a.text);
        EXPECT_EQ(r >= 8 ? 6u : 5u, a.len);
        Out b = run([&](CodeBuf *cb) { emit_mov_imm(cb, r, (uint64_t)-5); });
        EXPECT_EQ("mov " + reg(8, r) + ", -5", b.text);
        EXPECT_EQ(7u, b.len);
        Out c = run([&](CodeBuf *cb) { emit_mov_imm(cb, r, 0x100000000ull); });
        EXPECT_EQ("movabs " + reg(8, r) + ", 0x100000000", c.text);
        EXPECT_EQ(10u, c.len);
    }
}

TEST(Emit, MovLoadEveryAddressingForm)
{
    std::vector<Mem> mems = all_mems();
    int k = 0;
    for (const Mem &m : mems) {
        int r = k++ % 16;
        Out o = run([&](CodeBuf *cb) { emit_mov_rm(cb, 8, r, m); });
        ASSERT_EQ("mov " + reg(8, r) + ", " + memstr(8, m), o.text)
            << "base " << (int)m.base << " index " << (int)m.index << " scale " << (int)m.scale
            << " disp " << m.disp;
        ASSERT_EQ(2 + modrm_len(m), o.len)   // REX.W + 8B + modrm tail: minimal encoding
            << "base " << (int)m.base << " index " << (int)m.index << " disp " << m.disp;
    }
    EXPECT_EQ(8304u, mems.size());
}

TEST(Emit, MovLoadStoreAllSizes)
{
    for (int sz : SIZES)
        for (const Mem &m : some_mems())
            for (int r = 0; r < 16; r++) {
                ASSERT_EQ("mov " + reg(sz, r) + ", " + memstr(sz, m),
                          dis([&](CodeBuf *cb) { emit_mov_rm(cb, sz, r, m); }));
                ASSERT_EQ("mov " + memstr(sz, m) + ", " + reg(sz, r),
                          dis([&](CodeBuf *cb) { emit_mov_mr(cb, sz, m, r); }));
            }
}

TEST(Emit, MovStoreByteRegistersNeedRex)
{
    // SIL as the source of a byte store needs an empty REX (40), else it would be DH.
    Out o = run([](CodeBuf *cb) { emit_mov_mr(cb, 1, mem_base(HRAX, 0), HRSI); });
    EXPECT_EQ("mov byte ptr [rax], sil", o.text);
    EXPECT_EQ((std::vector<uint8_t>{ 0x40, 0x88, 0x30 }), o.bytes);
    // A base register 4-7 does not force a REX on a byte access.
    o = run([](CodeBuf *cb) { emit_mov_mr(cb, 1, mem_base(HRSI, 0), HRAX); });
    EXPECT_EQ((std::vector<uint8_t>{ 0x88, 0x06 }), o.bytes);
}

TEST(Emit, MovMemImm)
{
    for (const Mem &m : some_mems()) {
        EXPECT_EQ("mov " + memstr(1, m) + ", 0xab", dis([&](CodeBuf *cb) { emit_mov_mi(cb, 1, m, 0xab); }));
        EXPECT_EQ("mov " + memstr(2, m) + ", 0xabcd", dis([&](CodeBuf *cb) { emit_mov_mi(cb, 2, m, 0xabcd); }));
        EXPECT_EQ("mov " + memstr(4, m) + ", 0x12345678",
                  dis([&](CodeBuf *cb) { emit_mov_mi(cb, 4, m, 0x12345678); }));
        EXPECT_EQ("mov " + memstr(8, m) + ", -0x10", dis([&](CodeBuf *cb) { emit_mov_mi(cb, 8, m, -16); }));
    }
}

TEST(Emit, RipRelativeDisplacementCountsTheImmediate)
{
    // Capstone shows the raw disp; check the bytes: C7 05 disp32 imm32.
    Out o = run([](CodeBuf *cb) { emit_mov_mi(cb, 4, mem_rip(0x10), 7); });
    EXPECT_EQ((std::vector<uint8_t>{ 0xc7, 0x05, 0x10, 0, 0, 0, 7, 0, 0, 0 }), o.bytes);
    // Absolute disp32 uses SIB with no base: 8B 04 25 disp32.
    o = run([](CodeBuf *cb) { emit_mov_rm(cb, 4, HRAX, mem_abs(0x1000)); });
    EXPECT_EQ((std::vector<uint8_t>{ 0x8b, 0x04, 0x25, 0x00, 0x10, 0, 0 }), o.bytes);
}

TEST(Emit, RspIndexScale1IsSwappedIntoBase)
{
    EXPECT_EQ("mov rax, qword ptr [rsp + rbx + 8]",
              dis([](CodeBuf *cb) { emit_mov_rm(cb, 8, HRAX, mem_bisd(HRBX, HRSP, 1, 8)); }));
    // R12 is a valid index (REX.X distinguishes it from "no index").
    EXPECT_EQ("mov rax, qword ptr [rbx + r12*2]",
              dis([](CodeBuf *cb) { emit_mov_rm(cb, 8, HRAX, mem_bisd(HRBX, HR12, 2, 0)); }));
}

// ---------------------------------------------------------------------------------------
// MOVZX / MOVSX / MOVSXD / LEA

TEST(Emit, MovzxMovsx)
{
    for (int d = 0; d < 16; d++)
        for (int s = 0; s < 16; s++)
            for (int dsz : { 2, 4, 8 })
                for (int ssz : { 1, 2 }) {
                    if (dsz == ssz)
                        continue;
                    ASSERT_EQ("movzx " + reg(dsz, d) + ", " + reg(ssz, s),
                              dis([&](CodeBuf *cb) { emit_movzx_rr(cb, dsz, ssz, d, s); }));
                    ASSERT_EQ("movsx " + reg(dsz, d) + ", " + reg(ssz, s),
                              dis([&](CodeBuf *cb) { emit_movsx_rr(cb, dsz, ssz, d, s); }));
                }
    for (const Mem &m : some_mems())
        for (int dsz : { 2, 4, 8 })
            for (int ssz : { 1, 2 }) {
                if (dsz == ssz)
                    continue;
                int d = (dsz * 3 + ssz) % 16;
                ASSERT_EQ("movzx " + reg(dsz, d) + ", " + memstr(ssz, m),
                          dis([&](CodeBuf *cb) { emit_movzx_rm(cb, dsz, ssz, d, m); }));
                ASSERT_EQ("movsx " + reg(dsz, d) + ", " + memstr(ssz, m),
                          dis([&](CodeBuf *cb) { emit_movsx_rm(cb, dsz, ssz, d, m); }));
            }
    // movzx eax, sil needs REX (40 0F B6 C6), else it would be DH.
    EXPECT_EQ((std::vector<uint8_t>{ 0x40, 0x0f, 0xb6, 0xc6 }),
              run([](CodeBuf *cb) { emit_movzx_rr(cb, 4, 1, HRAX, HRSI); }).bytes);
    // ...but movzx esi, al does not.
    EXPECT_EQ((std::vector<uint8_t>{ 0x0f, 0xb6, 0xf0 }),
              run([](CodeBuf *cb) { emit_movzx_rr(cb, 4, 1, HRSI, HRAX); }).bytes);
}

TEST(Emit, MovsxdAndLea)
{
    for (int d = 0; d < 16; d++) {
        for (int s = 0; s < 16; s++)
            ASSERT_EQ("movsxd " + reg(8, d) + ", " + reg(4, s),
                      dis([&](CodeBuf *cb) { emit_movsxd_rr(cb, d, s); }));
        for (const Mem &m : some_mems()) {
            ASSERT_EQ("movsxd " + reg(8, d) + ", " + memstr(4, m),
                      dis([&](CodeBuf *cb) { emit_movsxd_rm(cb, d, m); }));
            for (int sz : { 2, 4, 8 }) {
                std::string ms = memstr(sz, m);
                ms = ms.substr(ms.find('['));   // LEA has no size keyword
                ASSERT_EQ("lea " + reg(sz, d) + ", " + ms,
                          dis([&](CodeBuf *cb) { emit_lea(cb, sz, d, m); }));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// ALU group and TEST

TEST(Emit, AluRegReg)
{
    for (int op = 0; op < 8; op++)
        for (int sz : SIZES)
            for (int d = 0; d < 16; d++)
                for (int s = 0; s < 16; s++)
                    ASSERT_EQ(std::string(ALU[op]) + " " + reg(sz, d) + ", " + reg(sz, s),
                              dis([&](CodeBuf *cb) { emit_alu_rr(cb, (AluOp)op, sz, d, s); }));
}

TEST(Emit, AluRegImmPicksShortestForm)
{
    const int32_t imms[] = { 0, 1, -1, 127, -128, 128, -129, 0x12345678, -0x12345678 };
    for (int op = 0; op < 8; op++)
        for (int sz : SIZES)
            for (int r = 0; r < 16; r++)
                for (int32_t v : imms) {
                    Out o = run([&](CodeBuf *cb) { emit_alu_ri(cb, (AluOp)op, sz, r, v); });
                    bool i8 = v >= -128 && v <= 127;
                    int64_t shown = v;
                    if (sz == 2 && !i8)
                        shown = (int16_t)v;
                    ASSERT_EQ(std::string(ALU[op]) + " " + reg(sz, r) + ", " +
                                  imm(shown, sz, sz != 1 && i8, op == 1 || op == 4 || op == 6),
                              o.text);
                    size_t pre = (sz == 2) + (sz == 8 || r >= 8 || (sz == 1 && r >= 4));
                    size_t expect;
                    if (sz == 1)
                        expect = pre + (r == HRAX ? 2 : 3);
                    else if (i8)
                        expect = pre + 3;                                  // 83 /op ib
                    else
                        expect = pre + (r == HRAX ? 1 : 2) + (sz == 2 ? 2 : 4);   // 05 / 81
                    ASSERT_EQ(expect, o.len) << ALU[op] << " sz " << sz << " r " << r << " " << v;
                }
}

TEST(Emit, AluMemoryForms)
{
    for (int op = 0; op < 8; op++)
        for (int sz : SIZES)
            for (const Mem &m : some_mems()) {
                int r = (op + sz + m.base + 16) % 16;
                std::string n = ALU[op];
                ASSERT_EQ(n + " " + reg(sz, r) + ", " + memstr(sz, m),
                          dis([&](CodeBuf *cb) { emit_alu_rm(cb, (AluOp)op, sz, r, m); }));
                ASSERT_EQ(n + " " + memstr(sz, m) + ", " + reg(sz, r),
                          dis([&](CodeBuf *cb) { emit_alu_mr(cb, (AluOp)op, sz, m, r); }));
                Out a = run([&](CodeBuf *cb) { emit_alu_mi(cb, (AluOp)op, sz, m, 5); });
                ASSERT_EQ(n + " " + memstr(sz, m) + ", 5", a.text);
                Out b = run([&](CodeBuf *cb) { emit_alu_mi(cb, (AluOp)op, sz, m, 0x1234); });
                int64_t v = sz == 1 ? 0x34 : 0x1234;
                ASSERT_EQ(n + " " + memstr(sz, m) + ", " + imm(v, sz, false), b.text);
                if (sz != 1) {
                    ASSERT_EQ(a.len + (sz == 2 ? 1 : 3), b.len);   // imm8 vs imm16/32
                }
            }
    // The named wrappers reach the same encoder.
    EXPECT_EQ("add rax, rbx", dis([](CodeBuf *cb) { emit_add_rr(cb, 8, HRAX, HRBX); }));
    EXPECT_EQ("or ecx, 0x100", dis([](CodeBuf *cb) { emit_or_ri(cb, 4, HRCX, 0x100); }));
    EXPECT_EQ("adc r8w, word ptr [r9]",
              dis([](CodeBuf *cb) { emit_adc_rm(cb, 2, HR8, mem_base(HR9, 0)); }));
    EXPECT_EQ("sbb byte ptr [rsp], dil",
              dis([](CodeBuf *cb) { emit_sbb_mr(cb, 1, mem_base(HRSP, 0), HRDI); }));
    EXPECT_EQ("and qword ptr [r13], 0xfffffffffffffffe",
              dis([](CodeBuf *cb) { emit_and_mi(cb, 8, mem_base(HR13, 0), -2); }));
    EXPECT_EQ("sub r15, 1", dis([](CodeBuf *cb) { emit_sub_ri(cb, 8, HR15, 1); }));
    EXPECT_EQ("xor eax, eax", dis([](CodeBuf *cb) { emit_xor_rr(cb, 4, HRAX, HRAX); }));
    EXPECT_EQ("cmp r12d, 0x7f", dis([](CodeBuf *cb) { emit_cmp_ri(cb, 4, HR12, 127); }));
}

TEST(Emit, Test)
{
    for (int sz : SIZES)
        for (int a = 0; a < 16; a++) {
            for (int b = 0; b < 16; b++)
                ASSERT_EQ("test " + reg(sz, a) + ", " + reg(sz, b),
                          dis([&](CodeBuf *cb) { emit_test_rr(cb, sz, a, b); }));
            ASSERT_EQ("test " + reg(sz, a) + ", " + imm(0x40, sz, false),
                      dis([&](CodeBuf *cb) { emit_test_ri(cb, sz, a, 0x40); }));
            ASSERT_EQ("test " + reg(sz, a) + ", " + imm(-2, sz, false),
                      dis([&](CodeBuf *cb) { emit_test_ri(cb, sz, a, -2); }));
        }
    for (int sz : SIZES)
        for (const Mem &m : some_mems()) {
            ASSERT_EQ("test " + memstr(sz, m) + ", " + reg(sz, 7),
                      dis([&](CodeBuf *cb) { emit_test_mr(cb, sz, m, 7); }));
            ASSERT_EQ("test " + memstr(sz, m) + ", 1",
                      dis([&](CodeBuf *cb) { emit_test_mi(cb, sz, m, 1); }));
        }
    // Short forms for the accumulator: A8 ib / A9 id.
    EXPECT_EQ((std::vector<uint8_t>{ 0xa8, 0x01 }), run([](CodeBuf *cb) { emit_test_ri(cb, 1, HRAX, 1); }).bytes);
    EXPECT_EQ(5u, run([](CodeBuf *cb) { emit_test_ri(cb, 4, HRAX, 1); }).len);
}

// ---------------------------------------------------------------------------------------
// One-operand group, shifts

TEST(Emit, UnaryGroup)
{
    struct { UnaryOp op; const char *name; } ops[] = {
        { UN_INC, "inc" }, { UN_DEC, "dec" }, { UN_NEG, "neg" }, { UN_NOT, "not" },
        { UN_MUL, "mul" }, { UN_IMUL, "imul" }, { UN_DIV, "div" }, { UN_IDIV, "idiv" },
    };
    for (auto &o : ops)
        for (int sz : SIZES) {
            for (int r = 0; r < 16; r++)
                ASSERT_EQ(std::string(o.name) + " " + reg(sz, r),
                          dis([&](CodeBuf *cb) { emit_unary_r(cb, o.op, sz, r); }));
            for (const Mem &m : some_mems())
                ASSERT_EQ(std::string(o.name) + " " + memstr(sz, m),
                          dis([&](CodeBuf *cb) { emit_unary_m(cb, o.op, sz, m); }));
        }
    EXPECT_EQ("inc r9d; dec byte ptr [rax]; neg rbx; not sil; mul rcx; imul r10; div r11; idiv word ptr [rbp]",
              dis([](CodeBuf *cb) {
                  emit_inc_r(cb, 4, HR9);
                  emit_dec_m(cb, 1, mem_base(HRAX, 0));
                  emit_neg_r(cb, 8, HRBX);
                  emit_not_r(cb, 1, HRSI);
                  emit_mul_r(cb, 8, HRCX);
                  emit_imul1_r(cb, 8, HR10);
                  emit_div_r(cb, 8, HR11);
                  emit_idiv_m(cb, 2, mem_base(HRBP, 0));
              }));
}

TEST(Emit, Shifts)
{
    const char *names[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", nullptr, "sar" };
    for (int op = 0; op < 8; op++) {
        if (!names[op])
            continue;
        std::string n = names[op];
        for (int sz : SIZES) {
            for (int r = 0; r < 16; r++) {
                std::string R = reg(sz, r);
                Out one = run([&](CodeBuf *cb) { emit_shift_ri(cb, (ShiftOp)op, sz, r, 1); });
                ASSERT_EQ(n + " " + R + ", 1", one.text);
                Out one8 = run([&](CodeBuf *cb) { emit_shift_ri8(cb, (ShiftOp)op, sz, r, 1); });
                ASSERT_EQ(n + " " + R + ", 1", one8.text);
                ASSERT_EQ(one.len + 1, one8.len);   // D1 /op vs C1 /op 01
                ASSERT_EQ(one.text, dis([&](CodeBuf *cb) { emit_shift_r1(cb, (ShiftOp)op, sz, r); }));
                ASSERT_EQ(n + " " + R + ", 7",
                          dis([&](CodeBuf *cb) { emit_shift_ri(cb, (ShiftOp)op, sz, r, 7); }));
                ASSERT_EQ(n + " " + R + ", cl",
                          dis([&](CodeBuf *cb) { emit_shift_rcl(cb, (ShiftOp)op, sz, r); }));
            }
            for (const Mem &m : some_mems()) {
                ASSERT_EQ(n + " " + memstr(sz, m) + ", 1",
                          dis([&](CodeBuf *cb) { emit_shift_mi(cb, (ShiftOp)op, sz, m, 1); }));
                ASSERT_EQ(n + " " + memstr(sz, m) + ", 0x1f",
                          dis([&](CodeBuf *cb) { emit_shift_mi(cb, (ShiftOp)op, sz, m, 31); }));
                ASSERT_EQ(n + " " + memstr(sz, m) + ", cl",
                          dis([&](CodeBuf *cb) { emit_shift_mcl(cb, (ShiftOp)op, sz, m); }));
            }
        }
    }
    EXPECT_EQ("shl rax, 3; shr ecx, cl; sar r8w, 1; rol bpl, 4; ror r15, cl; rcl eax, 1; rcr dl, cl",
              dis([](CodeBuf *cb) {
                  emit_shl_ri(cb, 8, HRAX, 3);
                  emit_shr_rcl(cb, 4, HRCX);
                  emit_sar_ri(cb, 2, HR8, 1);
                  emit_rol_ri(cb, 1, HRBP, 4);
                  emit_ror_rcl(cb, 8, HR15);
                  emit_rcl_ri(cb, 4, HRAX, 1);
                  emit_rcr_rcl(cb, 1, HRDX);
              }));
}

TEST(Emit, ShldShrd)
{
    for (int sz : { 2, 4, 8 })
        for (int d = 0; d < 16; d++)
            for (int s = 0; s < 16; s++) {
                std::string ops = reg(sz, d) + ", " + reg(sz, s);
                ASSERT_EQ("shld " + ops + ", 5", dis([&](CodeBuf *cb) { emit_shld_rri(cb, sz, d, s, 5); }));
                ASSERT_EQ("shld " + ops + ", cl", dis([&](CodeBuf *cb) { emit_shld_rrcl(cb, sz, d, s); }));
                ASSERT_EQ("shrd " + ops + ", 0x11", dis([&](CodeBuf *cb) { emit_shrd_rri(cb, sz, d, s, 17); }));
                ASSERT_EQ("shrd " + ops + ", cl", dis([&](CodeBuf *cb) { emit_shrd_rrcl(cb, sz, d, s); }));
            }
}

// ---------------------------------------------------------------------------------------
// IMUL, bits, BSWAP, SETcc, CMOVcc

TEST(Emit, Imul)
{
    for (int sz : { 2, 4, 8 })
        for (int d = 0; d < 16; d++) {
            for (int s = 0; s < 16; s++) {
                std::string ops = reg(sz, d) + ", " + reg(sz, s);
                ASSERT_EQ("imul " + ops, dis([&](CodeBuf *cb) { emit_imul_rr(cb, sz, d, s); }));
                Out a = run([&](CodeBuf *cb) { emit_imul_rri(cb, sz, d, s, -3); });
                ASSERT_EQ("imul " + ops + ", -3", a.text);
                Out b = run([&](CodeBuf *cb) { emit_imul_rri(cb, sz, d, s, 1000); });
                ASSERT_EQ("imul " + ops + ", 0x3e8", b.text);
                ASSERT_EQ(a.len + (sz == 2 ? 1 : 3), b.len);
            }
            for (const Mem &m : some_mems())
                ASSERT_EQ("imul " + reg(sz, d) + ", " + memstr(sz, m),
                          dis([&](CodeBuf *cb) { emit_imul_rm(cb, sz, d, m); }));
        }
}

TEST(Emit, BitTestsAndScans)
{
    struct { BtOp op; const char *name; } ops[] = {
        { BT_BT, "bt" }, { BT_BTS, "bts" }, { BT_BTR, "btr" }, { BT_BTC, "btc" } };
    for (auto &o : ops)
        for (int sz : { 2, 4, 8 }) {
            std::string n = o.name;
            for (int a = 0; a < 16; a++) {
                for (int b = 0; b < 16; b++)
                    ASSERT_EQ(n + " " + reg(sz, a) + ", " + reg(sz, b),
                              dis([&](CodeBuf *cb) { emit_bt_rr(cb, o.op, sz, a, b); }));
                ASSERT_EQ(n + " " + reg(sz, a) + ", 0xd",
                          dis([&](CodeBuf *cb) { emit_bt_ri(cb, o.op, sz, a, 13); }));
            }
            for (const Mem &m : some_mems()) {
                ASSERT_EQ(n + " " + memstr(sz, m) + ", " + reg(sz, 9),
                          dis([&](CodeBuf *cb) { emit_bt_mr(cb, o.op, sz, m, 9); }));
                ASSERT_EQ(n + " " + memstr(sz, m) + ", 3",
                          dis([&](CodeBuf *cb) { emit_bt_mi(cb, o.op, sz, m, 3); }));
            }
        }
    for (int sz : { 2, 4, 8 })
        for (int d = 0; d < 16; d++) {
            for (int s = 0; s < 16; s++) {
                ASSERT_EQ("bsf " + reg(sz, d) + ", " + reg(sz, s),
                          dis([&](CodeBuf *cb) { emit_bsf_rr(cb, sz, d, s); }));
                ASSERT_EQ("bsr " + reg(sz, d) + ", " + reg(sz, s),
                          dis([&](CodeBuf *cb) { emit_bsr_rr(cb, sz, d, s); }));
            }
            for (const Mem &m : some_mems()) {
                ASSERT_EQ("bsf " + reg(sz, d) + ", " + memstr(sz, m),
                          dis([&](CodeBuf *cb) { emit_bsf_rm(cb, sz, d, m); }));
                ASSERT_EQ("bsr " + reg(sz, d) + ", " + memstr(sz, m),
                          dis([&](CodeBuf *cb) { emit_bsr_rm(cb, sz, d, m); }));
            }
        }
    for (int r = 0; r < 16; r++) {
        ASSERT_EQ("bswap " + reg(4, r), dis([&](CodeBuf *cb) { emit_bswap(cb, 4, r); }));
        ASSERT_EQ("bswap " + reg(8, r), dis([&](CodeBuf *cb) { emit_bswap(cb, 8, r); }));
    }
}

TEST(Emit, SetccCmovcc)
{
    for (int cc = 0; cc < 16; cc++) {
        std::string c = CC[cc];
        for (int r = 0; r < 16; r++) {
            ASSERT_EQ("set" + c + " " + reg(1, r), dis([&](CodeBuf *cb) { emit_setcc_r(cb, (Cond)cc, r); }));
            for (int sz : { 2, 4, 8 }) {
                int s = 15 - r;
                ASSERT_EQ("cmov" + c + " " + reg(sz, r) + ", " + reg(sz, s),
                          dis([&](CodeBuf *cb) { emit_cmov_rr(cb, (Cond)cc, sz, r, s); }));
            }
        }
        for (const Mem &m : some_mems()) {
            ASSERT_EQ("set" + c + " " + memstr(1, m), dis([&](CodeBuf *cb) { emit_setcc_m(cb, (Cond)cc, m); }));
            ASSERT_EQ("cmov" + c + " " + reg(8, 3) + ", " + memstr(8, m),
                      dis([&](CodeBuf *cb) { emit_cmov_rm(cb, (Cond)cc, 8, 3, m); }));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Jumps, calls, labels

TEST(Emit, JumpsRelative)
{
    for (int cc = 0; cc < 16; cc++) {
        std::string j = std::string("j") + CC[cc];
        Out a = run([&](CodeBuf *cb) { emit_jcc_rel8(cb, (Cond)cc, 0x10); });
        EXPECT_EQ(j + " 0x12", a.text);   // target = end (2) + 0x10
        EXPECT_EQ(2u, a.len);
        Out b = run([&](CodeBuf *cb) { emit_jcc_rel32(cb, (Cond)cc, 0x1000); });
        EXPECT_EQ(j + " 0x1006", b.text);
        EXPECT_EQ(6u, b.len);
    }
    EXPECT_EQ("jmp 0x12", dis([](CodeBuf *cb) { emit_jmp_rel8(cb, 0x10); }));
    EXPECT_EQ("jmp 0x1005", dis([](CodeBuf *cb) { emit_jmp_rel32(cb, 0x1000); }));
    EXPECT_EQ("call 0x1005", dis([](CodeBuf *cb) { emit_call_rel32(cb, 0x1000); }));
    EXPECT_EQ("ret", dis([](CodeBuf *cb) { emit_ret(cb); }));
}

TEST(Emit, LabelsForwardAndBackward)
{
    Out o = run([](CodeBuf *cb) {
        size_t top = cb->len;                  // 0
        size_t fwd = emit_jcc_label(cb, CC_NE);   // 0: jne -> 0x10
        size_t fwd8 = emit_jmp8_label(cb);     // 6: jmp -> 0x10
        size_t j32 = emit_jmp_label(cb);       // 8: jmp -> 0
        emit_patch_rel32(cb, j32, top);
        emit_nop(cb, 3);                       // 0xd
        size_t here = cb->len;                 // 0x10
        emit_patch_rel32(cb, fwd, here);
        EXPECT_TRUE(emit_patch_rel8(cb, fwd8, here));
        emit_jcc_to(cb, CC_L, top);            // 0x10: short jl 0
        emit_jmp_to(cb, top);                  // 0x12: short jmp 0
    });
    EXPECT_EQ("jne 0x10; jmp 0x10; jmp 0; nop dword ptr [rax]; jl 0; jmp 0", o.text);
    EXPECT_EQ(0x14u, o.len);

    // Far backward targets use rel32, and a rel8 patch that cannot reach says so.
    o = run([](CodeBuf *cb) {
        size_t l8 = emit_jcc8_label(cb, CC_E);
        emit_nop(cb, 200);
        EXPECT_FALSE(emit_patch_rel8(cb, l8, cb->len));
        emit_patch_rel8(cb, l8, 2);
        emit_jcc_to(cb, CC_E, 0);
        emit_jmp_to(cb, 0);
    });
    EXPECT_EQ(202u + 6 + 5, o.len);
    EXPECT_NE(std::string::npos, o.text.find("; je 0; jmp 0"));
    EXPECT_EQ(0u, o.text.find("je 2; "));
}

TEST(Emit, IndirectJumpsAndCalls)
{
    for (int r = 0; r < 16; r++) {
        ASSERT_EQ("jmp " + reg(8, r), dis([&](CodeBuf *cb) { emit_jmp_r(cb, r); }));
        ASSERT_EQ("call " + reg(8, r), dis([&](CodeBuf *cb) { emit_call_r(cb, r); }));
    }
    for (const Mem &m : some_mems()) {
        ASSERT_EQ("jmp " + memstr(8, m), dis([&](CodeBuf *cb) { emit_jmp_m(cb, m); }));
        ASSERT_EQ("call " + memstr(8, m), dis([&](CodeBuf *cb) { emit_call_m(cb, m); }));
    }
}

TEST(Emit, CallAbsoluteNearAndFar)
{
    uint8_t buf[64];
    CodeBuf cb = { buf, sizeof buf, 0, false, 0x100000 };
    emit_nop(&cb, 1);
    emit_call_abs(&cb, (void *)0x200000, HR11);   // near: E8 rel32, rel from 0x100006
    EXPECT_EQ(6u, cb.len);
    EXPECT_EQ(0xe8, buf[1]);
    int32_t rel;
    memcpy(&rel, buf + 2, 4);
    EXPECT_EQ(0x200000 - 0x100006, rel);
    emit_jmp_abs(&cb, (void *)0x100000, HR11);    // near jmp back to the start
    EXPECT_EQ(0xe9, buf[6]);
    memcpy(&rel, buf + 7, 4);
    EXPECT_EQ(-11, rel);
    size_t at = cb.len;
    emit_call_abs(&cb, (void *)0x7f0000001000ull, HR11);   // far: movabs r11; call r11
    emit_jmp_abs(&cb, (void *)0x7f0000002000ull, HRAX);
    EXPECT_FALSE(cb.overflow);
    csh h;
    ASSERT_EQ(CS_ERR_OK, cs_open(CS_ARCH_X86, CS_MODE_64, &h));
    cs_insn *insn;
    size_t n = cs_disasm(h, buf + at, cb.len - at, 0, 0, &insn);
    ASSERT_EQ(4u, n);
    EXPECT_EQ("movabs r11, 0x7f0000001000", std::string(insn[0].mnemonic) + " " + insn[0].op_str);
    EXPECT_EQ("call r11", std::string(insn[1].mnemonic) + " " + insn[1].op_str);
    EXPECT_EQ("movabs rax, 0x7f0000002000", std::string(insn[2].mnemonic) + " " + insn[2].op_str);
    EXPECT_EQ("jmp rax", std::string(insn[3].mnemonic) + " " + insn[3].op_str);
    cs_free(insn, n);
    cs_close(&h);
}

// ---------------------------------------------------------------------------------------
// Stack, flags, exchange, misc

TEST(Emit, PushPopFlags)
{
    for (int r = 0; r < 16; r++) {
        Out p = run([&](CodeBuf *cb) { emit_push_r(cb, r); });
        ASSERT_EQ("push " + reg(8, r), p.text);
        ASSERT_EQ(r >= 8 ? 2u : 1u, p.len);
        ASSERT_EQ("pop " + reg(8, r), dis([&](CodeBuf *cb) { emit_pop_r(cb, r); }));
    }
    EXPECT_EQ("push -1; push 0x1000", dis([](CodeBuf *cb) {
                  emit_push_i(cb, -1);
                  emit_push_i(cb, 0x1000);
              }));
    EXPECT_EQ(7u, run([](CodeBuf *cb) { emit_push_i(cb, -1); emit_push_i(cb, 0x1000); }).len);
    EXPECT_EQ("pushfq; popfq; lahf; sahf", dis([](CodeBuf *cb) {
                  emit_pushf(cb);
                  emit_popf(cb);
                  emit_lahf(cb);
                  emit_sahf(cb);
              }));
}

TEST(Emit, ExchangeAndCompareExchange)
{
    for (int sz : SIZES)
        for (int a = 0; a < 16; a++) {
            for (int b = 0; b < 16; b++) {
                ASSERT_EQ("xchg " + reg(sz, a) + ", " + reg(sz, b),
                          dis([&](CodeBuf *cb) { emit_xchg_rr(cb, sz, a, b); }));
                ASSERT_EQ("cmpxchg " + reg(sz, a) + ", " + reg(sz, b),
                          dis([&](CodeBuf *cb) { emit_cmpxchg_rr(cb, sz, a, b); }));
            }
            for (const Mem &m : some_mems()) {
                ASSERT_EQ("xchg " + memstr(sz, m) + ", " + reg(sz, a),
                          dis([&](CodeBuf *cb) { emit_xchg_mr(cb, sz, m, a); }));
                ASSERT_EQ("cmpxchg " + memstr(sz, m) + ", " + reg(sz, a),
                          dis([&](CodeBuf *cb) { emit_cmpxchg_mr(cb, sz, m, a); }));
            }
        }
    EXPECT_EQ("lock cmpxchg qword ptr [rdi], rsi", dis([](CodeBuf *cb) {
                  emit_lock(cb);
                  emit_cmpxchg_mr(cb, 8, mem_base(HRDI, 0), HRSI);
              }));
}

TEST(Emit, SignExtensionAndTraps)
{
    EXPECT_EQ("cwd; cdq; cqo; cwde; cdqe; ud2; int3", dis([](CodeBuf *cb) {
                  emit_cwd(cb);
                  emit_cdq(cb);
                  emit_cqo(cb);
                  emit_cwde(cb);
                  emit_cdqe(cb);
                  emit_ud2(cb);
                  emit_int3(cb);
              }));
}

TEST(Emit, NopsOfEveryLength)
{
    for (size_t n = 1; n <= 40; n++) {
        Out o = run([&](CodeBuf *cb) { emit_nop(cb, n); });
        ASSERT_EQ(n, o.len);
        ASSERT_EQ(std::string::npos, o.text.find("<bad")) << n;
        // Every instruction is a NOP, and at most ceil(n/11) of them.
        size_t count = 1, pos = 0;
        while ((pos = o.text.find("; ", pos)) != std::string::npos) {
            pos += 2;
            count++;
            ASSERT_EQ(0, o.text.compare(pos, 3, "nop")) << o.text;
        }
        ASSERT_EQ(0, o.text.compare(0, 3, "nop")) << o.text;
        ASSERT_EQ((n + 10) / 11, count) << n;
    }
    for (size_t start = 0; start < 20; start++) {
        Out o = run([&](CodeBuf *cb) {
            emit_nop(cb, start);
            emit_align(cb, 16);
            EXPECT_EQ(0u, cb->len % 16);
            emit_align(cb, 16);   // already aligned: nothing
        });
        ASSERT_EQ((start + 15) / 16 * 16, o.len);
    }
}

// ---------------------------------------------------------------------------------------
// Overflow

TEST(Emit, OverflowIsFlaggedAndNothingWrittenPastCap)
{
    uint8_t mem[64];
    memset(mem, 0x5a, sizeof mem);
    CodeBuf cb = { mem + 16, 8, 0, false, 0 };   // guard bytes around an 8-byte buffer
    emit_mov_ri64(&cb, HRAX, 0x1122334455667788ull);   // 10 bytes
    EXPECT_TRUE(cb.overflow);
    EXPECT_EQ(10u, cb.len);                             // the size it would have needed
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(0x5a, mem[i]);
    for (int i = 24; i < 64; i++)
        ASSERT_EQ(0x5a, mem[i]) << i;
    EXPECT_EQ(0x48, mem[16]);
    EXPECT_EQ(0xb8, mem[17]);
    // Labels whose field was dropped do not get written either.
    size_t p = emit_jcc_label(&cb, CC_E);
    emit_patch_rel32(&cb, p, 0);
    size_t p8 = emit_jmp8_label(&cb);
    EXPECT_TRUE(emit_patch_rel8(&cb, p8, cb.len - 3));
    emit_nop(&cb, 30);
    for (int i = 24; i < 64; i++)
        ASSERT_EQ(0x5a, mem[i]) << i;

    // A buffer that fits exactly does not overflow.
    uint8_t exact[10];
    CodeBuf ok = { exact, sizeof exact, 0, false, 0 };
    emit_mov_ri64(&ok, HRAX, 1);
    EXPECT_FALSE(ok.overflow);
    emit_ret(&ok);
    EXPECT_TRUE(ok.overflow);
}

// ---------------------------------------------------------------------------------------
// Execution

struct Exec {
    void *p = nullptr;
    size_t n = 0;
    template <typename F> F load(const CodeBuf &cb)
    {
        EXPECT_FALSE(cb.overflow);
        n = cb.len;
        p = exec_alloc_code(cb.buf, cb.len);
        EXPECT_NE(nullptr, p);
        return reinterpret_cast<F>(p);
    }
    ~Exec() { exec_free(p, n); }
};

TEST(EmitExec, SumLoop)
{
    // uint64_t sum(uint64_t n) { s = 0; for (i = 1; i <= n; i++) s += i; return s; }
    uint8_t b[128];
    CodeBuf cb = { b, sizeof b, 0, false, 0 };
    emit_xor_rr(&cb, 4, HRAX, HRAX);
    emit_mov_ri(&cb, 4, HRCX, 1);
    emit_cmp_rr(&cb, 8, HRCX, HRDI);
    size_t done = emit_jcc_label(&cb, CC_A);
    size_t loop = cb.len;
    emit_add_rr(&cb, 8, HRAX, HRCX);
    emit_inc_r(&cb, 8, HRCX);
    emit_cmp_rr(&cb, 8, HRCX, HRDI);
    emit_jcc_to(&cb, CC_BE, loop);
    emit_patch_rel32(&cb, done, cb.len);
    emit_ret(&cb);
    Exec e;
    auto f = e.load<uint64_t (*)(uint64_t)>(cb);
    EXPECT_EQ(0u, f(0));
    EXPECT_EQ(1u, f(1));
    EXPECT_EQ(5050u, f(100));
    EXPECT_EQ(100000ull * 100001 / 2, f(100000));
}

TEST(EmitExec, FlagsFromAddViaPushf)
{
    // uint64_t flags(uint32_t a, uint32_t b) { add a, b; return rflags & 0x8d5; }
    uint8_t b[64];
    CodeBuf cb = { b, sizeof b, 0, false, 0 };
    emit_add_rr(&cb, 4, HRDI, HRSI);
    emit_pushf(&cb);
    emit_pop_r(&cb, HRAX);
    emit_and_ri(&cb, 4, HRAX, 0x8d5);   // OF SF ZF AF PF CF
    emit_ret(&cb);
    Exec e;
    auto f = e.load<uint64_t (*)(uint32_t, uint32_t)>(cb);
    EXPECT_EQ(0x55u, f(0xffffffffu, 1));         // CF ZF AF PF
    EXPECT_EQ(0x894u, f(0x7fffffffu, 1));        // OF SF AF, PF (0x00 low byte: even)
    EXPECT_EQ(0x4u, f(1, 2));                    // 3: two bits set, PF set
}

TEST(EmitExec, MemoryAddressingAndCalls)
{
    // uint64_t f(uint64_t *a, uint64_t i) { a[i + 2] = a[i] * 3 + bswap(a[i+1]);
    //                                      return helper(a[i+2]); }
    static uint64_t (*helper)(uint64_t) = [](uint64_t v) -> uint64_t { return v ^ 0xff; };
    uint8_t b[128];
    CodeBuf cb = { b, sizeof b, 0, false, 0 };
    // Code runs elsewhere: compute CALL targets relative to the final address later,
    // so use the register form through the scratch (exec_at = 0 would be wrong).
    emit_push_r(&cb, HR12);
    emit_push_r(&cb, HR13);
    emit_push_r(&cb, HRBX);   // keep the stack 16-byte aligned for the call
    emit_mov_rr(&cb, 8, HR12, HRDI);
    emit_mov_rr(&cb, 8, HR13, HRSI);
    emit_mov_rm(&cb, 8, HRAX, mem_bisd(HR12, HR13, 8, 0));
    emit_imul_rri(&cb, 8, HRAX, HRAX, 3);
    emit_mov_rm(&cb, 8, HRCX, mem_bisd(HR12, HR13, 8, 8));
    emit_bswap(&cb, 8, HRCX);
    emit_add_rr(&cb, 8, HRAX, HRCX);
    emit_mov_mr(&cb, 8, mem_bisd(HR12, HR13, 8, 16), HRAX);
    emit_mov_rm(&cb, 8, HRDI, mem_bisd(HR12, HR13, 8, 16));
    emit_mov_ri64(&cb, HR11, (uint64_t)(uintptr_t)helper);
    emit_call_r(&cb, HR11);
    emit_pop_r(&cb, HRBX);
    emit_pop_r(&cb, HR13);
    emit_pop_r(&cb, HR12);
    emit_ret(&cb);
    Exec e;
    auto f = e.load<uint64_t (*)(uint64_t *, uint64_t)>(cb);
    uint64_t a[8] = { 0, 0, 0, 10, 0x0100000000000000ull, 0, 0, 0 };
    EXPECT_EQ((30u + 1) ^ 0xff, f(a, 3));
    EXPECT_EQ(31u, a[5]);
}

TEST(EmitExec, CallAbsFromExecutableMemory)
{
    // Emit straight into the executable region (exec_at = its address), call a host
    // function with emit_call_abs, seal, run.
    static int64_t (*negate)(int64_t) = [](int64_t v) -> int64_t { return -v; };
    size_t size = 4096;
    uint8_t *mem = static_cast<uint8_t *>(exec_alloc(size));
    ASSERT_NE(nullptr, mem);
    CodeBuf cb = { mem, size, 0, false, (uintptr_t)mem };
    emit_push_r(&cb, HRBX);
    emit_call_abs(&cb, (const void *)negate, HR11);
    emit_add_ri(&cb, 8, HRAX, 1000);
    emit_pop_r(&cb, HRBX);
    emit_ret(&cb);
    ASSERT_FALSE(cb.overflow);
    ASSERT_TRUE(exec_seal(mem, size));
    auto f = reinterpret_cast<int64_t (*)(int64_t)>(mem);
    EXPECT_EQ(1000 - 42, f(42));
    EXPECT_EQ(1000 + 7, f(-7));
    ASSERT_TRUE(exec_unseal(mem, size));
    mem[0] = 0xc3;   // writable again
    exec_free(mem, size);
}

TEST(EmitExec, DivisionShiftsSetccCmov)
{
    // uint64_t f(uint64_t a, uint64_t b): q = a / b; r = a % b;
    // return (q << 32 | r) + ((a > b) ? 0x10000 : 0) + (setl(a,b) ? 2 : 0)
    uint8_t b[128];
    CodeBuf cb = { b, sizeof b, 0, false, 0 };
    emit_mov_rr(&cb, 8, HRAX, HRDI);
    emit_mov_rr(&cb, 8, HRCX, HRSI);
    emit_xor_rr(&cb, 4, HRDX, HRDX);
    emit_div_r(&cb, 8, HRCX);                 // rax = q, rdx = r
    emit_shl_ri(&cb, 8, HRAX, 32);
    emit_or_rr(&cb, 8, HRAX, HRDX);
    emit_xor_rr(&cb, 4, HR8, HR8);
    emit_mov_ri(&cb, 4, HR9, 0x10000);
    emit_cmp_rr(&cb, 8, HRDI, HRSI);
    emit_cmov_rr(&cb, CC_A, 8, HR8, HR9);
    emit_setcc_r(&cb, CC_L, HRSI);            // sil: needs REX
    emit_add_rr(&cb, 8, HRAX, HR8);
    emit_movzx_rr(&cb, 4, 1, HRSI, HRSI);
    emit_lea(&cb, 8, HRAX, mem_bisd(HRAX, HRSI, 2, 0));
    emit_ret(&cb);
    Exec e;
    auto f = e.load<uint64_t (*)(int64_t, int64_t)>(cb);
    EXPECT_EQ((3ull << 32 | 2) + 0x10000, f(17, 5));
    EXPECT_EQ((0ull << 32 | 5) + 2, f(5, 17));
    EXPECT_EQ((1ull << 32 | 0), f(9, 9));
}

TEST(EmitExec, ByteRegistersAndBitOps)
{
    // uint64_t f(uint64_t a, uint64_t b, uint64_t *p):
    //   r8b = sil + dil (byte add; SIL/DIL need REX), bsr/bts/btr, a locked cmpxchg on *p,
    //   xchg, shld — the result packs each piece into its own byte lane.
    uint8_t b[160];
    CodeBuf cb = { b, sizeof b, 0, false, 0 };
    emit_mov_rr(&cb, 1, HR8, HRSI);              // r8b = b
    emit_add_rr(&cb, 1, HR8, HRDI);              // r8b += a (mod 256)
    emit_movzx_rr(&cb, 4, 1, HRAX, HR8);         // eax = lane 0
    emit_bsr_rr(&cb, 8, HRCX, HRDI);             // rcx = highest set bit of a
    emit_shl_ri(&cb, 4, HRCX, 8);
    emit_or_rr(&cb, 8, HRAX, HRCX);              // lane 1
    emit_xor_rr(&cb, 4, HRCX, HRCX);
    emit_bt_ri(&cb, BT_BTS, 8, HRCX, 20);        // rcx = 1 << 20
    emit_or_rr(&cb, 8, HRAX, HRCX);              // lane 2 bit 4
    emit_mov_rr(&cb, 8, HR9, HRAX);              // save result
    emit_mov_ri(&cb, 4, HRAX, 7);                // expected old value
    emit_mov_ri(&cb, 4, HRCX, 99);
    emit_lock(&cb);
    emit_cmpxchg_mr(&cb, 8, mem_base(HRDX, 0), HRCX);   // *p == 7 ? *p = 99 : rax = *p
    emit_setcc_r(&cb, CC_E, HR10);               // r10b = success
    emit_movzx_rr(&cb, 4, 1, HR10, HR10);
    emit_shl_ri(&cb, 8, HR10, 24);
    emit_or_rr(&cb, 8, HR9, HR10);               // lane 3
    emit_mov_ri(&cb, 4, HR11, 0x55);
    emit_xchg_mr(&cb, 8, mem_bisd(HRDX, HR_NONE, 1, 8), HR11);   // swap with p[1]
    emit_shl_ri(&cb, 8, HR11, 32);
    emit_or_rr(&cb, 8, HR9, HR11);               // lane 4 = old p[1]
    emit_mov_ri(&cb, 4, HRAX, 0xAB);
    emit_shld_rri(&cb, 8, HRAX, HR9, 0);         // count 0: no change
    emit_mov_rr(&cb, 8, HRAX, HR9);
    emit_ret(&cb);
    Exec e;
    auto f = e.load<uint64_t (*)(uint64_t, uint64_t, uint64_t *)>(cb);
    uint64_t mem[2] = { 7, 0x21 };
    // lanes: old p[1] = 0x21 | cmpxchg ok | bit 20 | bsr(200) = 7 | (200 + 100) & 0xff
    EXPECT_EQ(0x000000210110072cull, f(200, 100, mem));
    EXPECT_EQ(99u, mem[0]);
    EXPECT_EQ(0x55u, mem[1]);
    mem[0] = 8;   // cmpxchg fails now: lane 3 stays 0
    uint64_t r = f(1, 2, mem);
    EXPECT_EQ(0x0000005500100003ull, r);
    EXPECT_EQ(8u, mem[0]);
}

using EmitDeath = ::testing::Test;

TEST(EmitDeath, ScaledRspIndexIsAnEmulatorBug)
{
    // RSP cannot be a scaled index: the emitter refuses loudly (translator bug).
    uint8_t b[16];
    CodeBuf cb = { b, sizeof b, 0, false, 0 };
    EXPECT_DEATH(emit_mov_rm(&cb, 8, HRAX, mem_bisd(HRBX, HRSP, 4, 0)), "RSP");
    EXPECT_DEATH(emit_lea(&cb, 8, HRAX, mem_bisd(HR_NONE, HRSP, 1, 0)), "RSP");
}

}  // namespace
