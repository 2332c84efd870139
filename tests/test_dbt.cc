// Tests of the translator (translate/): every program runs under the interpreter and
// under the translator from the same state and must end in the same state (registers,
// flags, EIP, icount, memory), with the lockstep checker on for the translated run.
// Covers block chaining, budgets that cut runs mid-block, self-modifying code, precise
// faults, page-crossing instructions, jumps into the middle of instructions and
// generated random instruction sequences.

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cpu_harness.h"

extern "C" {
#include "cpu/mmu.h"
#include "translate/dbt.h"
}

namespace {

struct Engine {
    CpuHarness h;
    Dbt *d = nullptr;
    FILE *log = nullptr;
    explicit Engine(bool translate, bool check = true, bool native = true)
    {
        if (translate) {
            DbtOptions o;
            dbt_options_defaults(&o);
            o.check = check;
            o.native = native;
            o.code_size = 4u << 20;
            log = tmpfile();
            o.log_file = log;
            char err[200];
            d = dbt_create(h.c, &o, err, sizeof err);
        }
    }
    ~Engine()
    {
        dbt_destroy(d);
        if (log) fclose(log);
    }
    CpuExit run(uint64_t budget) { return d ? dbt_run(d, budget) : cpu_run(h.c, budget); }
    std::string log_text()
    {
        if (!log) return "";
        fflush(log);
        rewind(log);
        std::string s;
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, log)) > 0) s.append(buf, n);
        return s;
    }
};

// Paging on, the first 4 MiB identity-mapped: the page directory at PD, the page
// table at PT (a test changes single entries, or adds PD + 4 for 4-8 MiB).
constexpr uint32_t PD = 0x100000, PT = 0x101000;
void paging_identity_4m(CpuHarness &h)
{
    for (uint32_t i = 0; i < 1024; i++) h.wr32(PT + i * 4, (i << 12) | 3);
    h.wr32(PD, PT | 3);
    h.c->cr[3] = PD;
    h.c->cr[0] |= CR0_PG;
}

// Runs until HLT (or the budget is used up) in slices of `slice` instructions.
void run_all(Engine &e, uint64_t total, uint64_t slice)
{
    uint64_t done = 0;
    while (done < total) {
        uint64_t before = e.h.c->icount;
        CpuExit r = e.run(std::min(slice, total - done));
        done += e.h.c->icount - before;
        if (r == CPU_EXIT_HALT || r == CPU_EXIT_STOP) break;
        if (e.h.c->icount == before) break;
    }
}

void expect_same(Engine &a, Engine &b, const char *what)
{
    const Cpu *x = a.h.c, *y = b.h.c;
    for (int r = 0; r < 8; r++) EXPECT_EQ(x->regs[r], y->regs[r]) << what << " reg " << r;
    EXPECT_EQ(x->eip, y->eip) << what;
    EXPECT_EQ(x->eflags, y->eflags) << what;
    EXPECT_EQ(x->icount, y->icount) << what;
    EXPECT_EQ(x->halted, y->halted) << what;
    EXPECT_EQ(x->exc_count, y->exc_count) << what;
    EXPECT_EQ(x->cr[2], y->cr[2]) << what;
    EXPECT_EQ(0, memcmp(a.h.ram, b.h.ram, CpuHarness::RAM)) << what << ": memory differs";
    if (b.d) {
        EXPECT_FALSE(dbt_check_failed(b.d)) << what << "\n" << b.log_text();
    }
}

// Sets both engines up with the same code and state and runs them.
template <typename Setup>
void compare_run(Setup setup, uint64_t total, uint64_t slice, const char *what,
                 bool native = true)
{
    // the checker runs memory accesses through the interpreter's functions (to journal
    // them); without it translated code uses its inline RAM path: test both
    Engine interp(false), dbt(true, true, native), fast(true, false, native);
    setup(interp.h);
    setup(dbt.h);
    setup(fast.h);
    run_all(interp, total, slice);
    run_all(dbt, total, slice);
    run_all(fast, total, slice);
    expect_same(interp, dbt, what);
    expect_same(interp, fast, (std::string(what) + ", no checker").c_str());
}


TEST(Dbt, LoopSumsLikeTheInterpreter)
{
    auto setup = [](CpuHarness &h) {
        h.flat32();
        // mov ecx, 1000; xor eax, eax; l: add eax, ecx; adc edx, 0; dec ecx; jnz l; hlt
        h.load(0x1000, {0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0, 0x01, 0xc8, 0x83, 0xd2,
                        0x00, 0x49, 0x75, 0xf8, 0xf4});
        h.set_ip(0x1000);
    };
    Engine e(true);
    setup(e.h);
    run_all(e, 100000, 100000);
    EXPECT_EQ(e.h.c->regs[R_EAX], 500500u);
    EXPECT_TRUE(e.h.c->halted);
    EXPECT_GT(dbt_stats(e.d)->blocks_translated, 0u);
    EXPECT_GT(dbt_stats(e.d)->chains, 0u);
    EXPECT_FALSE(dbt_check_failed(e.d)) << e.log_text();
    compare_run(setup, 100000, 100000, "loop");
    // budgets that end runs in the middle of blocks: the same icount at every stop
    compare_run(setup, 100000, 7, "loop, budget 7");
    compare_run(setup, 100000, 1, "loop, budget 1");
    compare_run(setup, 100000, 100000, "loop, helpers only", false);
}

TEST(Dbt, MemoryOperandsAndRealMode)
{
    // real mode: 16-bit addressing, byte registers, memory RMW
    auto setup = [](CpuHarness &h) {
        // mov bx,0x2000; mov cx,50; l: add [bx+si+4],cl; adc byte [bx],ah; inc si;
        // xor ah,cl; sub word [bx+0x10],cx; loop l; hlt
        h.load(0x1000, {0xbb, 0x00, 0x20, 0xb9, 0x32, 0x00, 0x00, 0x48, 0x04, 0x10,
                        0x27, 0x46, 0x30, 0xcc, 0x29, 0x4f, 0x10, 0xe2, 0xf4, 0xf4});
        h.set_ip(0x1000);
    };
    compare_run(setup, 100000, 100000, "real mode");
    compare_run(setup, 100000, 3, "real mode, budget 3");
}

TEST(Dbt, SelfModifyingCodeSeesTheNewBytes)
{
    // The loop rewrites the immediate of an instruction later in its own block, and the
    // instruction right after the store, every iteration.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        // 1000: mov ecx, 20
        // 1005: l: mov [0x1013], cl      (immediate byte of the add below)
        // 100b: mov byte [0x1011], 0x05  (opcode right after: add eax, imm32)
        // 1012? layout computed below
        std::vector<uint8_t> c = {
            0xb9, 0x14, 0x00, 0x00, 0x00,        // 1000 mov ecx,20
            0x88, 0x0d, 0x00, 0x00, 0x00, 0x00,  // 1005 mov [X],cl   (X patched)
            0xc6, 0x05, 0x00, 0x00, 0x00, 0x00, 0x05, // 100b mov byte [Y],0x05 (Y patched)
            0x05, 0x00, 0x00, 0x00, 0x00,        // 1012 add eax, imm32   (Y=1012, X=1013)
            0x49,                                // 1017 dec ecx
            0x75, 0xeb,                          // 1018 jnz 1005
            0xf4,                                // 101a hlt
        };
        uint32_t X = 0x1013, Y = 0x1012;
        memcpy(&c[7], &X, 4);
        memcpy(&c[13], &Y, 4);
        c[0x12] = 0x2d; // starts as sub eax, imm32: the first iteration makes it add
        h.load(0x1000, c);
        h.set_ip(0x1000);
    };
    Engine e(true);
    setup(e.h);
    run_all(e, 10000, 10000);
    EXPECT_EQ(e.h.c->regs[R_EAX], 210u); // 20+19+...+1
    EXPECT_GT(dbt_stats(e.d)->invalidations, 0u);
    compare_run(setup, 10000, 10000, "smc");
    compare_run(setup, 10000, 5, "smc, budget 5");
}

TEST(Dbt, DataNextToCodeDoesNotInvalidateIt)
{
    // a loop that keeps a counter in the same page as its code: the writes miss the
    // translated bytes, so the block stays (no invalidation), and a write that does hit
    // them (the last one, into the loop's own immediate) still takes effect
    auto setup = [](CpuHarness &h) {
        h.flat32();
        // 1000: mov ecx, 100
        // 1005: l: add dword [0x1800], ecx   (data in the code page)
        // 100b: dec ecx
        // 100c: jnz l
        // 100e: mov byte [0x1016], 0x07     (the immediate of the next instruction)
        // 1015: mov eax, 1; hlt
        h.load(0x1000, {0xb9, 0x64, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x00, 0x18, 0x00, 0x00,
                        0x49, 0x75, 0xf7, 0xc6, 0x05, 0x16, 0x10, 0x00, 0x00, 0x07, 0xb8,
                        0x01, 0x00, 0x00, 0x00, 0xf4});
        h.set_ip(0x1000);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 10000, 10000);
    EXPECT_EQ(e.h.rd32(0x1800), 5050u);
    EXPECT_EQ(e.h.c->regs[R_EAX], 7u); // mov eax, 1 became mov eax, 7 before it ran
    EXPECT_GE(dbt_stats(e.d)->code_page_data_writes, 99u);
    // one write hits code: the page's (three) blocks go once, not once per data write
    EXPECT_LE(dbt_stats(e.d)->invalidations, 3u);
    compare_run(setup, 10000, 10000, "data next to code");
    compare_run(setup, 10000, 3, "data next to code, budget 3");
}

TEST(Dbt, PreciseFaultsInTranslatedCode)
{
    // A #GP from a load past the DS limit in the middle of a block: the handler sees
    // the faulting EIP and every earlier instruction's effect, none of the later ones.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        h.c->seg[SEG_DS].limit = 0xffff;
        // 1000: mov eax,1; add ebx,eax; mov edx,[0x20000] (#GP); mov eax,2; hlt
        h.load(0x1000, {0xb8, 0x01, 0x00, 0x00, 0x00, 0x01, 0xc3, 0x8b, 0x15, 0x00, 0x00,
                        0x02, 0x00, 0xb8, 0x02, 0x00, 0x00, 0x00, 0xf4});
        // handler: pop ecx (error code); pop esi (faulting eip); hlt
        h.load(0x3000, {0x59, 0x5e, 0xf4});
        h.c->regs[R_ESP] = 0x9000;
        h.set_ip(0x1000);
    };
    Engine e(true);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->regs[R_ESI], 0x1007u);
    EXPECT_EQ(e.h.c->regs[R_EAX], 1u);
    EXPECT_EQ(e.h.c->regs[R_EBX], 1u);
    compare_run(setup, 1000, 1000, "fault");
}

TEST(Dbt, PageFaultOnAReadModifyWriteSeesTheOldFlagsAndRegisters)
{
    // Translated code keeps registers and flags in host registers: a page fault on the
    // store of `add [mem], eax` must show the flags of the SUB before it (not the ADD's)
    // and every register written so far, as the interpreter does.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        paging_identity_4m(h);
        h.wr32(PT + 5 * 4, 0x5000 | 1); // 0x5000: present, read-only
        h.c->cr[0] |= CR0_WP;
        // 1000: mov eax,5; mov ebx,0x5000; inc ecx; sub eax,7; add [ebx],eax; mov eax,9; hlt
        h.load(0x1000, {0xb8, 0x05, 0x00, 0x00, 0x00, 0xbb, 0x00, 0x50, 0x00, 0x00, 0x41,
                        0x83, 0xe8, 0x07, 0x01, 0x03, 0xb8, 0x09, 0x00, 0x00, 0x00, 0xf4});
        // handler: pop ecx (error code); pop esi (eip); pop edx (cs); pop edi (eflags); hlt
        h.load(0x3000, {0x59, 0x5e, 0x5a, 0x5f, 0xf4});
        h.c->regs[R_ESP] = 0x9000;
        h.c->regs[R_ECX] = 41;
        h.set_ip(0x1000);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->cr[2], 0x5000u);
    EXPECT_EQ(e.h.c->regs[R_ESI], 0x100eu);
    EXPECT_EQ(e.h.c->regs[R_EAX], 0xfffffffeu);
    EXPECT_EQ(e.h.c->regs[R_EBX], 0x5000u);
    EXPECT_EQ(e.h.c->regs[R_EDI] & (FL_CF | FL_SF | FL_ZF), FL_CF | FL_SF);
    compare_run(setup, 1000, 1000, "read-modify-write fault");
}

TEST(Dbt, FaultAfterAShiftSeesItsOverflowFlag)
{
    // The translator computes a shift's OF only when something looks at it; a page
    // fault right after SHL must push the OF the interpreter computes.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        paging_identity_4m(h);
        h.wr32(PT + 5 * 4, 0); // 0x5000: not present
        // 1000: mov ebx,0x40000000; shl ebx,1; mov eax,[0x5000]; hlt
        h.load(0x1000, {0xbb, 0x00, 0x00, 0x00, 0x40, 0xd1, 0xe3, 0xa1, 0x00, 0x50, 0x00,
                        0x00, 0xf4});
        // handler: pop ecx (error code); pop esi (eip); pop edx (cs); pop edi (eflags); hlt
        h.load(0x3000, {0x59, 0x5e, 0x5a, 0x5f, 0xf4});
        h.c->regs[R_ESP] = 0x9000;
        h.set_ip(0x1000);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->regs[R_ESI], 0x1007u);
    EXPECT_EQ(e.h.c->regs[R_EBX], 0x80000000u);
    EXPECT_EQ(e.h.c->regs[R_EDI] & (FL_OF | FL_CF | FL_SF | FL_ZF), FL_OF | FL_SF);
    compare_run(setup, 1000, 1000, "fault after a shift");
}

TEST(Dbt, LeaveRestoresTheFrameAndFaultsPrecisely)
{
    // LEAVE in a loop of frames, then one whose EBP points at a page that is not
    // present: the #PF shows ESP and EBP as they were before the LEAVE.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        paging_identity_4m(h);
        h.wr32(PT + 5 * 4, 0); // 0x5000: not present
        // 1000: mov ecx,3; l: push ebp; mov ebp,esp; sub esp,16; mov [ebp-4],ecx;
        //       leave; dec ecx; jnz l; mov ebp,0x5000; leave; hlt
        h.load(0x1000, {0xb9, 0x03, 0x00, 0x00, 0x00, 0x55, 0x89, 0xe5, 0x83, 0xec, 0x10,
                        0x89, 0x4d, 0xfc, 0xc9, 0x49, 0x75, 0xf3, 0xbd, 0x00, 0x50, 0x00,
                        0x00, 0xc9, 0xf4});
        // handler: pop ecx (error code); pop esi (eip); hlt
        h.load(0x3000, {0x59, 0x5e, 0xf4});
        h.c->regs[R_ESP] = 0x9000;
        h.c->regs[R_EBP] = 0x1234;
        h.set_ip(0x1000);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->regs[R_ESI], 0x1017u); // the faulting LEAVE
    EXPECT_EQ(e.h.c->regs[R_EBP], 0x5000u);
    EXPECT_EQ(e.h.c->cr[2], 0x5000u);
    EXPECT_EQ(e.h.c->regs[R_ESP], 0x9000u - 8); // error code and EIP popped: CS, EFLAGS left
    compare_run(setup, 1000, 1000, "leave");
}

TEST(Dbt, IndirectCallsAndJumps)
{
    // CALL/JMP through a register and through memory, in a loop (the jump cache and
    // chained blocks), then a CALL whose push faults: EIP and ESP as before it.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        paging_identity_4m(h);
        h.wr32(PT + 5 * 4, 0); // 0x5000: not present
        h.wr32(0x2000, 0x1100); // the function's address, for CALL [mem]
        h.wr32(0x2004, 0x1020); // where JMP [mem] continues
        // 1000: mov ecx,4; mov eax,0x1100; l: call eax; call [0x2000]; jmp [0x2004]
        // 1020: dec ecx; jnz l; mov ebx,0x1030; jmp ebx; 1030: call [0x5000] (#PF)
        std::vector<uint8_t> c(0x40, 0x90);
        const uint8_t a[] = {0xb9, 0x04, 0x00, 0x00, 0x00, 0xb8, 0x00, 0x11, 0x00, 0x00,
                             0xff, 0xd0, 0xff, 0x15, 0x00, 0x20, 0x00, 0x00, 0xff, 0x25,
                             0x04, 0x20, 0x00, 0x00};
        memcpy(&c[0], a, sizeof a);
        const uint8_t b[] = {0x49, 0x75, 0xe7, 0xbb, 0x30, 0x10, 0x00, 0x00, 0xff, 0xe3};
        memcpy(&c[0x20], b, sizeof b);
        const uint8_t d[] = {0xff, 0x15, 0x00, 0x50, 0x00, 0x00, 0xf4};
        memcpy(&c[0x30], d, sizeof d);
        h.load(0x1000, c);
        h.load(0x1100, {0x42, 0xc3}); // inc edx; ret
        // handler: pop ecx (error code); pop esi (eip); hlt
        h.load(0x3000, {0x59, 0x5e, 0xf4});
        h.c->regs[R_ESP] = 0x9000;
        h.c->regs[R_EDX] = 0;
        h.set_ip(0x1000);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->regs[R_EDX], 8u); // two calls an iteration, four iterations
    EXPECT_EQ(e.h.c->regs[R_ESI], 0x1030u);
    EXPECT_EQ(e.h.c->regs[R_ESP], 0x9000u - 8); // CS and EFLAGS of the frame left
    compare_run(setup, 1000, 1000, "indirect call/jmp");
}

TEST(Dbt, ChainedJumpIntoAnotherPageFollowsANewMapping)
{
    // A CALL chained to a block on another page: after the guest maps that linear page
    // to other code (PTE rewrite + INVLPG), the same chained CALL must run the new code.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        paging_identity_4m(h);
        uint32_t pt2 = 0x102000;
        h.wr32(PD + 4, pt2 | 3);
        h.wr32(pt2, 0x200000 | 3);     // 0x400000 -> 0x200000 (the caller)
        h.wr32(pt2 + 4, 0x210000 | 3); // 0x401000 -> 0x210000 (inc eax; ret)
        // 400000: mov ecx,2; jmp l; l: call 0x401000 (a block of its own, chained the
        //         first time); mov dword [0x102004],0x211003; invlpg [0x401000];
        //         dec ecx; jnz l; hlt
        h.load(0x200000, {0xb9, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x00, 0xe8, 0xf4, 0x0f, 0x00, 0x00,
                          0xc7, 0x05, 0x04, 0x20, 0x10, 0x00, 0x03, 0x10, 0x21, 0x00,
                          0x0f, 0x01, 0x3d, 0x00, 0x10, 0x40, 0x00, 0x49, 0x75, 0xe7, 0xf4});
        h.load(0x210000, {0x40, 0xc3});             // inc eax; ret
        h.load(0x211000, {0x83, 0xc0, 0x64, 0xc3}); // add eax, 100; ret
        h.c->regs[R_ESP] = 0x9000;
        h.set_ip(0x400000);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->regs[R_EAX], 101u);
    compare_run(setup, 1000, 1000, "cross-page chain");
}

TEST(Dbt, InlineAccessesFollowA20)
{
    // The translator caches host pages for linear pages, also without paging: turning
    // A20 on between two runs of the same code must move its accesses from 0 to 1 MiB.
    for (bool translate : {false, true}) {
        Engine e(translate, false);
        CpuHarness &h = e.h;
        h.flat32();
        // 1000: mov eax,[0x100000]; add eax,1; mov [0x100000],eax; hlt
        h.load(0x1000, {0xa1, 0x00, 0x00, 0x10, 0x00, 0x83, 0xc0, 0x01, 0xa3, 0x00, 0x00,
                        0x10, 0x00, 0xf4});
        h.wr32(0, 5);
        h.wr32(0x100000, 100);
        cpu_set_a20(h.c, false);
        h.set_ip(0x1000);
        run_all(e, 100, 100);
        cpu_set_a20(h.c, true);
        h.c->halted = false;
        h.set_ip(0x1000);
        run_all(e, 100, 100);
        EXPECT_EQ(h.rd32(0), 6u) << translate;
        EXPECT_EQ(h.rd32(0x100000), 101u) << translate;
        EXPECT_EQ(h.c->regs[R_EAX], 101u) << translate;
    }
}

TEST(Dbt, InlineAccessesFollowAMovedPciBar)
{
    // Moving RAM-like memory (a BAR over VRAM) keeps the translations but not the host
    // pages the inline path cached: the same store must reach the new memory.
    for (bool translate : {false, true}) {
        Engine e(translate, false);
        CpuHarness &h = e.h;
        static uint8_t a[4096], b[4096];
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        h.flat32();
        // 1000: mov [0x800000], eax; hlt
        h.load(0x1000, {0xa3, 0x00, 0x00, 0x80, 0x00, 0xf4});
        physmem_map(h.c->mem, 0x800000, 4096, a, a);
        uint32_t flushes = translate ? (uint32_t)dbt_stats(e.d)->flushes : 0;
        h.c->regs[R_EAX] = 1;
        h.set_ip(0x1000);
        run_all(e, 100, 100);
        physmem_map(h.c->mem, 0x800000, 4096, b, b);
        h.c->halted = false;
        h.c->regs[R_EAX] = 2;
        h.set_ip(0x1000);
        run_all(e, 100, 100);
        EXPECT_EQ(a[0], 1) << translate;
        EXPECT_EQ(b[0], 2) << translate;
        if (translate) {
            EXPECT_EQ(dbt_stats(e.d)->flushes, flushes) << "the code stayed";
        }
    }
}

TEST(Dbt, AccessWrappingPast4GiBInAFlatSegmentIsGP)
{
    // flat segments skip the limit check inline; the wrap must still be #GP(0)
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        // mov ebx, 7; mov eax, [0xfffffffe] (#GP); mov ebx, 9; hlt
        h.load(0x1000, {0xbb, 0x07, 0x00, 0x00, 0x00, 0xa1, 0xfe, 0xff, 0xff, 0xff, 0xbb, 0x09,
                        0x00, 0x00, 0x00, 0xf4});
        h.load(0x3000, {0x59, 0x5e, 0xf4}); // pop ecx (error code); pop esi (eip); hlt
        h.c->regs[R_ESP] = 0x9000;
        h.set_ip(0x1000);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->regs[R_ESI], 0x1005u);
    EXPECT_EQ(e.h.c->regs[R_EBX], 7u);
    EXPECT_EQ(e.h.c->regs[R_ECX], 0u);
    compare_run(setup, 1000, 1000, "4 GiB wrap");
}

TEST(Dbt, PageFaultOnTheSecondPageOfAnInstruction)
{
    // paging on; the code page at 0x400000 is present, 0x401000 is not; an instruction
    // starts 2 bytes before the boundary.
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        paging_identity_4m(h);
        uint32_t pt2 = 0x102000;
        h.wr32(PD + 4, pt2 | 3);
        h.wr32(pt2, 0x200000 | 3); // 0x400000 -> 0x200000; 0x401000 not present
        // at 0x400ff0: nop x14; mov eax, imm32 (b8 + 4 bytes) starting at 0x400ffe
        std::vector<uint8_t> c(16, 0x90);
        c[14] = 0xb8;
        c[15] = 0x11;
        h.load(0x200ff0, c);
        h.load(0x3000, {0x59, 0x5e, 0xf4}); // pop ecx; pop esi; hlt
        h.c->regs[R_ESP] = 0x9000;
        h.set_ip(0x400ff0);
    };
    Engine e(true);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_EQ(e.h.c->cr[2], 0x401000u);
    EXPECT_EQ(e.h.c->regs[R_ESI], 0x400ffeu);
    compare_run(setup, 1000, 1000, "page-crossing fault");
}

TEST(Dbt, JumpIntoTheMiddleOfAnInstruction)
{
    auto setup = [](CpuHarness &h) {
        h.flat32();
        // 1000: mov ecx, 3
        // 1005: l: mov eax, 0x90c3ff41  (bytes: b8 41 ff c3 90) ... inside: inc ecx; inc ebx
        // 100a: dec ecx; dec ecx; jnz 1006 (into the immediate: 41 = inc ecx, ff c3 = inc ebx)
        h.load(0x1000, {0xb9, 0x03, 0x00, 0x00, 0x00, 0xb8, 0x41, 0xff, 0xc3, 0x90, 0x49,
                        0x49, 0x75, 0xf8, 0xf4});
        h.set_ip(0x1000);
    };
    compare_run(setup, 1000, 1000, "jump into an instruction");
}

TEST(Dbt, OverlongInstructionRaisesGP)
{
    auto setup = [](CpuHarness &h) {
        h.flat32();
        h.idt_all(0x3000);
        std::vector<uint8_t> c(16, 0x66); // 15 prefixes + nop: 16 bytes
        c[15] = 0x90;
        h.load(0x1000, c);
        h.load(0x3000, {0x59, 0x5e, 0xf4});
        h.c->regs[R_ESP] = 0x9000;
        h.set_ip(0x1000);
    };
    compare_run(setup, 1000, 1000, "overlong");
}

TEST(Dbt, CodeInMmioRunsThroughTheInterpreter)
{
    // a loop in the MMIO window that also rewrites its own immediate there, then a jump
    // back to RAM; the translator must not translate device memory, only interpret it
    auto setup = [](CpuHarness &h) {
        h.flat32();
        const uint8_t code[] = {
            0xb9, 0x05, 0x00, 0x00, 0x00,             // mov ecx, 5
            0x01, 0xc8,                               // l: add eax, ecx
            0x88, 0x0d, 0x0f, 0x00, 0x00, 0x03,       // mov [0x300000f], cl (imm below)
            0x83, 0xc3, 0x01,                         // add ebx, 1 (imm rewritten)
            0x49,                                     // dec ecx
            0x75, 0xf2,                               // jnz l
            0xe9, 0x00, 0x00, 0x00, 0x00,             // jmp 0x1000 (rel patched)
        };
        memcpy(h.mmio, code, sizeof code);
        int32_t rel = 0x1000 - (int32_t)(CpuHarness::MMIO_BASE + sizeof code);
        memcpy(h.mmio + sizeof code - 4, &rel, 4);
        h.load(0x1000, {0x01, 0xd8, 0xf4}); // add eax, ebx; hlt
        h.set_ip(CpuHarness::MMIO_BASE);
    };
    Engine e(true, false);
    setup(e.h);
    run_all(e, 1000, 1000);
    EXPECT_TRUE(e.h.c->halted);
    EXPECT_EQ(e.h.c->regs[R_EAX], 30u); // eax and ebx each sum 5..1
    EXPECT_GT(dbt_stats(e.d)->interp_noblock, 10u);
    compare_run(setup, 1000, 1000, "code in MMIO");
}

// ---- random instruction sequences ----

// Appends one random instruction (from forms the translator handles natively and some
// it leaves to handlers) that keeps memory accesses inside [0x2000, 0x3000) through EBX
// and EBP, which the generator keeps pointing there.
void random_insn(std::mt19937 &rng, std::vector<uint8_t> &c)
{
    auto r = [&](unsigned n) { return (unsigned)(rng() % n); };
    // registers the generator may write: eax ecx edx esi edi (0,1,2,6,7)
    static const uint8_t wregs[5] = {0, 1, 2, 6, 7};
    auto wreg = [&]() { return wregs[r(5)]; };
    auto anyreg = [&]() { return (uint8_t)r(8); };
    auto modrm_rr = [&](uint8_t reg, uint8_t rm) { return (uint8_t)(0xc0 | reg << 3 | rm); };
    // [ebx+disp8] with disp8 in 0..0x7c
    auto mem_ebx = [&](uint8_t reg) {
        c.push_back((uint8_t)(0x43 | reg << 3));
        c.push_back((uint8_t)(r(0x7c)));
    };
    unsigned kind = r(18);
    switch (kind) {
    case 0: case 1: { // ALU r/m32, r32 or r32, r/m32, register forms
        uint8_t op = (uint8_t)(r(8) << 3 | (r(2) ? 0x01 : 0x03));
        c.push_back(op);
        c.push_back(modrm_rr(op & 2 ? wreg() : anyreg(), op & 2 ? anyreg() : wreg()));
        if ((op >> 3) == 7 || (op & 2) == 0) {
            // CMP or reg-dest: fine; for r/m dest, rm must be writable: fix modrm
            c.back() = modrm_rr(anyreg(), wreg());
            if (op & 2) c.back() = modrm_rr(wreg(), anyreg());
        }
        break;
    }
    case 2: { // ALU r/m8 byte registers, mixed high/low
        uint8_t op = (uint8_t)(r(8) << 3 | 0x00);
        c.push_back(op);
        uint8_t rm = (uint8_t)(r(2) ? 0 : 4) | (uint8_t)r(3); // al cl dl / ah ch dh
        c.push_back(modrm_rr((uint8_t)r(8), rm));
        break;
    }
    case 3: { // ALU r/m32, imm8 / imm32
        bool i8 = r(2);
        c.push_back(i8 ? 0x83 : 0x81);
        c.push_back(modrm_rr((uint8_t)r(8), wreg()));
        if (i8) c.push_back((uint8_t)rng());
        else for (int i = 0; i < 4; i++) c.push_back((uint8_t)rng());
        break;
    }
    case 4: { // ALU with memory [ebx+d8], both directions, 16 or 32 bit
        if (r(2)) c.push_back(0x66);
        c.push_back((uint8_t)(r(8) << 3 | (r(2) ? 0x01 : 0x03)));
        mem_ebx(c.back() & 2 ? wreg() : anyreg());
        break;
    }
    case 5: { // inc/dec/neg/not on registers or memory
        unsigned f = r(4);
        if (f == 0) c.push_back((uint8_t)(0x40 | wreg()));
        else if (f == 1) c.push_back((uint8_t)(0x48 | wreg()));
        else {
            c.push_back(0xf7);
            if (r(2)) c.push_back(modrm_rr((uint8_t)(2 + r(2)), wreg()));
            else mem_ebx((uint8_t)(2 + r(2)));
        }
        break;
    }
    case 6: // mov reg, imm32
        c.push_back((uint8_t)(0xb8 | wreg()));
        for (int i = 0; i < 4; i++) c.push_back((uint8_t)rng());
        break;
    case 7: // mov between registers and memory
        c.push_back(r(2) ? 0x89 : 0x8b);
        if (r(2)) mem_ebx(c.back() == 0x8b ? wreg() : anyreg());
        else c.push_back(c.back() == 0x8b ? modrm_rr(wreg(), anyreg()) : modrm_rr(anyreg(), wreg()));
        break;
    case 8: // movzx/movsx from byte/word registers or memory
        c.push_back(0x0f);
        c.push_back((uint8_t)(0xb6 | (r(2) ? 8 : 0) | r(2)));
        if (r(2)) c.push_back(modrm_rr(wreg(), anyreg()));
        else mem_ebx(wreg());
        break;
    case 9: // lea reg, [ebx+esi*4+d8]
        c.push_back(0x8d);
        c.push_back((uint8_t)(0x44 | wreg() << 3));
        c.push_back((uint8_t)(0xb3));
        c.push_back((uint8_t)rng());
        break;
    case 10: // test
        c.push_back(0x85);
        c.push_back(modrm_rr(anyreg(), anyreg()));
        break;
    case 11: { // shifts/rotates by imm8, 1 or CL, 8/16/32 bits, registers or memory
        unsigned form = r(3), width = r(3);
        if (width == 1) c.push_back(0x66);
        static const uint8_t ops[3][2] = {{0xc1, 0xc0}, {0xd1, 0xd0}, {0xd3, 0xd2}};
        c.push_back(ops[form][width == 2]);
        uint8_t sub = (uint8_t)r(8);
        if (sub == 6) sub = 4;
        if (r(4) == 0) mem_ebx(sub);
        else c.push_back(modrm_rr(sub, width == 2 ? (uint8_t)r(3) : wreg()));
        if (form == 0) c.push_back((uint8_t)r(40));
        break;
    }
    case 12: // flags: cmc clc stc cld std, setcc, cmovcc; rdtsc, lfence, pause
        switch (r(4)) {
        case 0: { static const uint8_t f[5] = {0xf5, 0xf8, 0xf9, 0xfc, 0xfd}; c.push_back(f[r(5)]); break; }
        case 3:
            switch (r(3)) {
            case 0: c.insert(c.end(), {0x0f, 0x31}); break;        // rdtsc (EDX:EAX)
            case 1: c.insert(c.end(), {0x0f, 0xae, 0xe8}); break;  // lfence
            default: c.insert(c.end(), {0xf3, 0x90}); break;       // pause
            }
            break;
        case 1: c.push_back(0x0f); c.push_back((uint8_t)(0x90 | r(16))); c.push_back(modrm_rr(0, (uint8_t)r(3))); break;
        default: c.push_back(0x0f); c.push_back((uint8_t)(0x40 | r(16))); c.push_back(modrm_rr(wreg(), anyreg())); break;
        }
        break;
    case 13: { // forward jcc over a small instruction, or jmp +0
        c.push_back((uint8_t)(0x70 | r(16)));
        c.push_back(1);
        c.push_back((uint8_t)(0x40 | wreg())); // inc reg (skipped or not)
        break;
    }
    case 14: // mul/imul/xchg/xadd (handlers)
        switch (r(7)) {
        case 0: c.push_back(0x0f); c.push_back(0xaf); c.push_back(modrm_rr(wreg(), anyreg())); break;
        case 5: { // mul/imul r/m at 8/16/32 bits (AX or DX:AX or EDX:EAX)
            unsigned w = r(3);
            if (w == 1) c.push_back(0x66);
            c.push_back(w == 2 ? 0xf6 : 0xf7);
            uint8_t sub = (uint8_t)(4 + r(2));
            if (r(2)) mem_ebx(sub);
            else c.push_back(modrm_rr(sub, anyreg()));
            break;
        }
        case 6: // one more of them with a register source
            c.push_back(0xf7);
            c.push_back(modrm_rr((uint8_t)(4 + r(2)), anyreg()));
            break;
        case 3: // imul r, [ebx+d8], imm8 (16 or 32 bits)
            if (r(2)) c.push_back(0x66);
            c.push_back(0x6b);
            mem_ebx(wreg());
            c.push_back((uint8_t)rng());
            break;
        case 4: // cmovcc r, [ebx+d8]; setcc [ebx+d8]
            c.push_back(0x0f); c.push_back((uint8_t)(0x40 | r(16))); mem_ebx(wreg());
            c.push_back(0x0f); c.push_back((uint8_t)(0x90 | r(16))); mem_ebx(0);
            break;
        case 1: c.push_back(0x87); c.push_back(modrm_rr(wreg(), wreg())); break;
        default: c.push_back(0x0f); c.push_back(0xc1); c.push_back(modrm_rr(wreg(), wreg())); break;
        }
        break;
    case 16: // push any register or an immediate, pop into a writable one
        if (r(2)) c.push_back((uint8_t)(0x50 | anyreg()));
        else { c.push_back(0x6a); c.push_back((uint8_t)rng()); }
        if (r(3) == 0) c.push_back(0x66), c.push_back((uint8_t)(0x58 | wreg())), c.push_back(0x66), c.push_back((uint8_t)(0x50 | wreg()));
        c.push_back((uint8_t)(0x58 | wreg()));
        break;
    case 17: // call/ret: get-EIP (call next; pop) or call a ret jumped over
        if (r(2)) {
            c.insert(c.end(), {0xe8, 0, 0, 0, 0});
            c.push_back((uint8_t)(0x58 | wreg()));
        } else {
            c.insert(c.end(), {0xe8, 2, 0, 0, 0, 0xeb, 1, 0xc3});
        }
        break;
    default: // adc/sbb chains
        c.push_back(r(2) ? 0x11 : 0x19);
        c.push_back(modrm_rr(anyreg(), wreg()));
        break;
    }
}

// Seeds above 300 run with paging on (identity map) and the data straddling a page
// boundary, so inline accesses also cross pages through the TLB path.
TEST(Dbt, RandomSequencesUnderTheLockstepChecker)
{
    for (unsigned seed = 1; seed <= 400; seed++) {
        bool paged = seed > 300;
        std::mt19937 rng(seed);
        std::vector<uint8_t> code;
        // a counted loop around a random body, so that chained blocks run many times
        code.push_back(0xbd); // mov ebp, 40 (loop counter)
        code.push_back(40);
        code.insert(code.end(), {0, 0, 0});
        size_t loop = code.size();
        unsigned n = 5 + rng() % 40;
        for (unsigned i = 0; i < n; i++) random_insn(rng, code);
        code.push_back(0x4d); // dec ebp
        int rel = (int)loop - (int)(code.size() + 6);
        code.push_back(0x0f); // jnz loop (rel32)
        code.push_back(0x85);
        for (int i = 0; i < 4; i++) code.push_back((uint8_t)((uint32_t)rel >> (8 * i)));
        code.push_back(0xf4);
        auto setup = [&](CpuHarness &h) {
            h.flat32();
            h.load(0x1000, code);
            for (uint32_t a = 0x2000; a < 0x4000; a += 4) h.wr32(a, a * 2654435761u);
            h.c->regs[R_EBX] = paged ? 0x2fc0 : 0x2000;
            if (paged) {
                paging_identity_4m(h);
                // linear 0x3000 is physical 0x5000: a page-crossing access that ran on
                // into the next host page would see other data
                h.wr32(PT + 3 * 4, 0x5000 | 3);
                for (uint32_t a = 0x5000; a < 0x6000; a += 4) h.wr32(a, a * 40503u + 7);
            }
            for (int r = 0; r < 8; r++)
                if (r != R_EBX && r != R_ESP && r != R_EBP) h.c->regs[r] = (uint32_t)rng();
            h.c->regs[R_ESI] &= 0x3f;
            h.c->regs[R_ESP] = 0x9000;
            h.set_ip(0x1000);
        };
        std::mt19937 keep = rng;
        Engine interp(false), dbt(true), fast(true, false);
        setup(interp.h);
        rng = keep;
        setup(dbt.h);
        rng = keep;
        setup(fast.h);
        run_all(interp, 200000, 200000);
        run_all(dbt, 200000, 200000);
        run_all(fast, 200000, 200000);
        std::string what = "seed " + std::to_string(seed);
        expect_same(interp, dbt, what.c_str());
        expect_same(interp, fast, (what + ", no checker").c_str());
        if (HasFailure()) break;
    }
}

} // namespace
