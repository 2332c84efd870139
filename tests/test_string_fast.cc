// REP MOVS/STOS's fast path (whole runs within a page, exec_string.c with
// mem_host_range) must give exactly what the element-by-element loop gives: the same
// memory, registers, faults and partial progress. Each program runs twice on fresh
// harnesses: once normally and once with a write journal installed, which makes
// mem_host_range refuse and forces the element loop; the results must be equal.

#include <gtest/gtest.h>

#include <vector>

#include "cpu_harness.h"

namespace {

struct Run {
    CpuHarness h;
    WriteLogEntry entries[1];
    WriteLog log{};
    explicit Run(bool force_elements)
    {
        if (force_elements) {
            log.e = entries;
            log.cap = 0; /* every write overflows: recorded nowhere, changes nothing */
            h.c->wlog = &log;
        }
    }
};

template <typename Setup>
void compare(Setup setup, int max_steps, const char *what)
{
    Run fast(false), slow(true);
    setup(fast.h);
    setup(slow.h);
    for (int i = 0; i < max_steps && !fast.h.c->halted; i++) fast.h.step();
    for (int i = 0; i < max_steps && !slow.h.c->halted; i++) slow.h.step();
    for (int r = 0; r < 8; r++) EXPECT_EQ(fast.h.c->regs[r], slow.h.c->regs[r]) << what << " reg " << r;
    EXPECT_EQ(fast.h.c->eip, slow.h.c->eip) << what;
    EXPECT_EQ(fast.h.c->eflags, slow.h.c->eflags) << what;
    EXPECT_EQ(fast.h.c->icount, slow.h.c->icount) << what;
    EXPECT_EQ(fast.h.c->cr[2], slow.h.c->cr[2]) << what;
    EXPECT_EQ(fast.h.c->exc_count, slow.h.c->exc_count) << what;
    EXPECT_EQ(0, memcmp(fast.h.ram, slow.h.ram, CpuHarness::RAM)) << what << ": memory";
    EXPECT_TRUE(fast.h.c->halted) << what;
}

void fill_pattern(CpuHarness &h, uint32_t a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) h.ram[a + i] = (uint8_t)(i * 7 + 3);
}

// flat32 code at 0x1000: set ESI, EDI, ECX, EAX, then the string instruction and HLT
std::vector<uint8_t> prog(uint32_t esi, uint32_t edi, uint32_t ecx, uint32_t eax,
                          std::initializer_list<uint8_t> insn)
{
    std::vector<uint8_t> c;
    auto imm = [&](uint8_t op, uint32_t v) {
        c.push_back(op);
        for (int i = 0; i < 4; i++) c.push_back((uint8_t)(v >> (8 * i)));
    };
    imm(0xbe, esi);
    imm(0xbf, edi);
    imm(0xb9, ecx);
    imm(0xb8, eax);
    c.insert(c.end(), insn);
    c.push_back(0xf4);
    return c;
}

TEST(StringFast, OverlappingMovsMatchesElementOrder)
{
    for (uint32_t dist : {1u, 2u, 3u, 5u}) {
        for (uint8_t op : {0xa4, 0xa5}) { // movsb, movsd
            compare([&](CpuHarness &h) {
                h.flat32();
                fill_pattern(h, 0x20000, 0x6000);
                h.load(0x1000, prog(0x20000, 0x20000 + dist, 3000, 0, {0xf3, op}));
                h.set_ip(0x1000);
            }, 100, "overlap");
        }
    }
}

TEST(StringFast, StosAndMovsAcrossPagesAndChunks)
{
    compare([](CpuHarness &h) {
        h.flat32();
        h.load(0x1000, prog(0, 0x30ffa, 5000, 0xa1b2c3d4, {0xf3, 0x66, 0xab})); // rep stosw
        h.set_ip(0x1000);
    }, 100, "stosw");
    compare([](CpuHarness &h) {
        h.flat32();
        fill_pattern(h, 0x40000, 0x30000);
        h.load(0x1000, prog(0x40003, 0x80ffe, 40000, 0, {0xf3, 0xa5})); // rep movsd, chunks
        h.set_ip(0x1000);
    }, 1000, "movsd chunks");
}

TEST(StringFast, PageFaultMidwayLeavesTheSameProgress)
{
    compare([](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        h.load(0x3000, {0x59, 0xf4}); // every vector: pop error code, hlt
        uint32_t pd = 0x100000, pt = 0x101000;
        for (uint32_t i = 0; i < 1024; i++) h.wr32(pt + i * 4, (i << 12) | 3);
        h.wr32(pt + 0x52 * 4, 0); // 0x52000 not present
        h.wr32(pd, pt | 3);
        h.c->cr[3] = pd;
        h.c->cr[0] |= CR0_PG;
        fill_pattern(h, 0x40000, 0x4000);
        h.c->regs[R_ESP] = 0x9000;
        h.load(0x1000, prog(0x40000, 0x50800, 3000, 0, {0xf3, 0xa5}));
        h.set_ip(0x1000);
    }, 100, "fault");
}

TEST(StringFast, SixteenBitAddressesWrap)
{
    compare([](CpuHarness &h) {
        // real mode: mov si,0xfff0; mov di,0xffe0; mov cx,100; rep movsw (wraps at 64K)
        for (uint32_t i = 0; i < 0x10000; i++) h.ram[0x20000 + i] = (uint8_t)(i ^ (i >> 8));
        h.c->seg[SEG_DS].base = 0x20000;
        h.c->seg[SEG_ES].base = 0x30000;
        h.load(0x1000, {0xbe, 0xf0, 0xff, 0xbf, 0xe0, 0xff, 0xb9, 0x64, 0x00, 0xf3, 0xa5, 0xf4});
        h.set_ip(0x1000);
    }, 100, "16-bit wrap");
}

} // namespace
