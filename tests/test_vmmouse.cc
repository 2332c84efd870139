// test_vmmouse.cc — the VMware backdoor and its absolute mouse (devices/vmmouse.c):
// the protocol through the device API (version probe, enable, status and data queue,
// relative and absolute events, disable, bad commands and sizes, a full queue, reset
// and snapshot state), the board's wiring (the PS/2 packet that tells the guest to
// read, -machine vmport=off), and real `IN EAX, DX` instructions in a guest under the
// interpreter, the translator, and the translator with its lockstep checker, which
// must neither diverge nor pop the queue twice.

#include <gtest/gtest.h>

#include <vector>

#include "cpu_harness.h"
#include "guest_util.h"

extern "C" {
#include "devices/machine_snapshot.h"
#include "devices/vmmouse.h"
#include "translate/dbt.h"
}

namespace {

constexpr uint32_t MAGIC = 0x564D5868u;

struct Dev {
    Vmmouse v;
    std::vector<unsigned> notes; // buttons of every PS/2 "interrupt" packet
    static void note(void *o, unsigned b) { static_cast<Dev *>(o)->notes.push_back(b); }
    Dev() { vmmouse_init(&v, note, this); }
    // One backdoor call; returns the registers after it (EAX, ECX, EDX, EBX, ... order).
    std::vector<uint32_t> call(uint32_t cmd, uint32_t arg, uint32_t ecx_hi = 0)
    {
        uint32_t r[8] = {MAGIC, ecx_hi | cmd, 0x5658, arg, 0x1111, 0x2222, 0x3333, 0x4444};
        vmmouse_backdoor(&v, r);
        return std::vector<uint32_t>(r, r + 8);
    }
    uint32_t status() { return call(VMMOUSE_CMD_STATUS, 0)[R_EAX]; }
    void enable_absolute()
    {
        call(VMMOUSE_CMD_COMMAND, VMMOUSE_READ_ID);
        ASSERT_EQ(call(VMMOUSE_CMD_DATA, 1)[R_EAX], VMMOUSE_VERSION_ID);
        call(VMMOUSE_CMD_COMMAND, VMMOUSE_REQUEST_ABSOLUTE);
    }
};

TEST(Vmmouse, GetVersionAnswersTheMagic)
{
    Dev d;
    auto r = d.call(VMPORT_CMD_GETVERSION, ~MAGIC);
    EXPECT_EQ(r[R_EAX], VMPORT_VERSION);
    EXPECT_EQ(r[R_EBX], MAGIC);
    EXPECT_EQ(r[R_EDX], 0x5658u); // untouched
    EXPECT_EQ(r[R_EBP], 0x2222u);
    EXPECT_EQ(r[R_ESI], 0x3333u);
    // only ECX's low 16 bits are the command
    EXPECT_EQ(d.call(VMPORT_CMD_GETVERSION, 0, 0xabcd0000u)[R_EBX], MAGIC);
}

TEST(Vmmouse, UnknownCommandFailsAndLeavesTheOtherRegisters)
{
    Dev d;
    for (uint32_t cmd : {0u, 45u /* GETHZ */, 68u, 0xffffu}) {
        auto r = d.call(cmd, 0xffffffffu);
        EXPECT_EQ(r[R_EAX], 0xffffffffu) << cmd;
        EXPECT_EQ(r[R_EBX], 0xffffffffu) << cmd; // Linux's GETHZ probe sees "no"
        EXPECT_EQ(r[R_ECX], cmd) << cmd;
    }
}

TEST(Vmmouse, DisabledUntilReadIdThenTheVersionWord)
{
    Dev d;
    EXPECT_EQ(d.status(), VMMOUSE_ERROR);
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 1)[R_EAX], VMMOUSE_ERROR);
    EXPECT_FALSE(vmmouse_enabled(&d.v));
    EXPECT_FALSE(vmmouse_put_abs(&d.v, 1, 2, 0, 0)); // nobody listens yet
    EXPECT_FALSE(vmmouse_put_rel(&d.v, 1, 2, 0, 0));
    d.call(VMMOUSE_CMD_COMMAND, VMMOUSE_READ_ID);
    EXPECT_TRUE(vmmouse_enabled(&d.v));
    EXPECT_FALSE(vmmouse_absolute(&d.v)); // relative until asked
    EXPECT_EQ(d.status(), 1u);
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 1)[R_EAX], VMMOUSE_VERSION_ID);
    EXPECT_EQ(d.status(), 0u);
    EXPECT_TRUE(d.notes.empty()); // the version word is no input event
}

TEST(Vmmouse, AbsoluteEventsQueueFourWordsEach)
{
    Dev d;
    d.enable_absolute();
    EXPECT_TRUE(vmmouse_absolute(&d.v));
    EXPECT_TRUE(vmmouse_put_abs(&d.v, 0x1234, 0xfedc, 0, 1 | 4));
    EXPECT_TRUE(vmmouse_put_abs(&d.v, 0, 0xffff, -3, 2));
    EXPECT_EQ(d.status(), 8u);
    ASSERT_EQ(d.notes.size(), 2u);
    EXPECT_EQ(d.notes[0], 5u);
    auto r = d.call(VMMOUSE_CMD_DATA, 4);
    EXPECT_EQ(r[R_EAX], VMMOUSE_LEFT | VMMOUSE_MIDDLE); // no RELATIVE flag
    EXPECT_EQ(r[R_EBX], 0x1234u);
    EXPECT_EQ(r[R_ECX], 0xfedcu);
    EXPECT_EQ(r[R_EDX], 0u);
    EXPECT_EQ(r[R_ESP], 0x1111u); // only the four answer registers change
    EXPECT_EQ(r[R_EDI], 0x4444u);
    r = d.call(VMMOUSE_CMD_DATA, 4);
    EXPECT_EQ(r[R_EAX], VMMOUSE_RIGHT);
    EXPECT_EQ(r[R_EBX], 0u);
    EXPECT_EQ(r[R_ECX], 0xffffu);
    EXPECT_EQ((int32_t)r[R_EDX], -3); // wheel away from the user
    EXPECT_EQ(d.status(), 0u);
}

TEST(Vmmouse, RelativeEventsCarryTheFlagAndYUp)
{
    Dev d;
    d.call(VMMOUSE_CMD_COMMAND, VMMOUSE_READ_ID);
    d.call(VMMOUSE_CMD_DATA, 1);
    EXPECT_FALSE(vmmouse_put_abs(&d.v, 5, 5, 0, 0)); // enabled, but relative
    EXPECT_TRUE(vmmouse_put_rel(&d.v, -7, 9, 500, 0));
    auto r = d.call(VMMOUSE_CMD_DATA, 4);
    EXPECT_EQ(r[R_EAX], VMMOUSE_RELATIVE_PACKET);
    EXPECT_EQ((int32_t)r[R_EBX], -7);
    EXPECT_EQ((int32_t)r[R_ECX], -9); // the device's y points up
    EXPECT_EQ((int32_t)r[R_EDX], 127); // wheel clamped to a signed byte
    // REQUEST_RELATIVE after absolute goes back
    d.call(VMMOUSE_CMD_COMMAND, VMMOUSE_REQUEST_ABSOLUTE);
    EXPECT_TRUE(vmmouse_absolute(&d.v));
    d.call(VMMOUSE_CMD_COMMAND, VMMOUSE_REQUEST_RELATIVE);
    EXPECT_FALSE(vmmouse_absolute(&d.v));
}

TEST(Vmmouse, BadDataSizesPopNothing)
{
    Dev d;
    d.enable_absolute();
    vmmouse_put_abs(&d.v, 10, 20, 0, 0);
    for (uint32_t n : {0u, 5u, 0xffffffffu}) {
        auto r = d.call(VMMOUSE_CMD_DATA, n);
        EXPECT_EQ(r[R_EAX], VMMOUSE_ERROR) << n;
        EXPECT_EQ(r[R_EBX], n) << n;
        EXPECT_EQ(d.status(), 4u) << n;
    }
    // partial reads are fine; asking for more than is queued is not
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 3)[R_EBX], 10u);
    EXPECT_EQ(d.status(), 1u);
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 2)[R_EAX], VMMOUSE_ERROR);
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 1)[R_EAX], 0u); // the z word
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 1)[R_EAX], VMMOUSE_ERROR);
    // unknown sub-commands change nothing
    d.call(VMMOUSE_CMD_COMMAND, 0x12345678u);
    EXPECT_TRUE(vmmouse_absolute(&d.v));
}

TEST(Vmmouse, DisableEmptiesTheQueueAndStatusFails)
{
    Dev d;
    d.enable_absolute();
    vmmouse_put_abs(&d.v, 1, 1, 0, 0);
    d.call(VMMOUSE_CMD_COMMAND, VMMOUSE_DISABLE);
    EXPECT_EQ(d.status(), VMMOUSE_ERROR); // what Linux checks after disabling
    EXPECT_FALSE(vmmouse_enabled(&d.v));
    EXPECT_FALSE(vmmouse_absolute(&d.v));
    EXPECT_FALSE(vmmouse_put_abs(&d.v, 1, 1, 0, 0));
    // re-enabling starts from an empty queue with the version word
    d.call(VMMOUSE_CMD_COMMAND, VMMOUSE_READ_ID);
    EXPECT_EQ(d.status(), 1u);
    EXPECT_FALSE(vmmouse_absolute(&d.v));
}

TEST(Vmmouse, FullQueueDropsWholeEvents)
{
    Dev d;
    d.enable_absolute();
    for (int i = 0; i < VMMOUSE_QUEUE / 4; i++)
        ASSERT_TRUE(vmmouse_put_abs(&d.v, (uint16_t)i, 0, 0, 0)) << i;
    EXPECT_EQ(d.status(), (uint32_t)VMMOUSE_QUEUE);
    EXPECT_FALSE(vmmouse_put_abs(&d.v, 0xffff, 0xffff, 0, 0));
    EXPECT_FALSE(vmmouse_put_rel(&d.v, 1, 1, 0, 0));
    EXPECT_EQ(d.v.dropped, 2u);
    EXPECT_EQ(d.notes.size(), (size_t)VMMOUSE_QUEUE / 4); // no packet for dropped ones
    // the ring wraps: pop one event, queue one, and everything comes out in order
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 4)[R_EBX], 0u);
    EXPECT_TRUE(vmmouse_put_abs(&d.v, 0xbeef, 0, 0, 0));
    for (int i = 1; i < VMMOUSE_QUEUE / 4; i++)
        ASSERT_EQ(d.call(VMMOUSE_CMD_DATA, 4)[R_EBX], (uint32_t)i);
    EXPECT_EQ(d.call(VMMOUSE_CMD_DATA, 4)[R_EBX], 0xbeefu);
    EXPECT_EQ(d.status(), 0u);
}

TEST(Vmmouse, ResetForgetsEverything)
{
    Dev d;
    d.enable_absolute();
    vmmouse_put_abs(&d.v, 1, 1, 0, 0);
    d.call(VMMOUSE_CMD_RESTRICT, 1);
    EXPECT_EQ(d.v.restrict_mode, 1u);
    vmmouse_reset(&d.v);
    EXPECT_EQ(d.status(), VMMOUSE_ERROR);
    EXPECT_EQ(d.v.restrict_mode, 0u);
    EXPECT_FALSE(vmmouse_absolute(&d.v));
}

// ---- the board ----

struct Board {
    GuestRun g;
    explicit Board(bool vmport = true)
    {
        g.cfg.no_vmport = !vmport;
        EXPECT_TRUE(g.create()) << g.err;
    }
    Machine *m() { return g.m; }
    void out(uint16_t port, uint8_t v) { m()->cpu.bus.io_write(m()->cpu.bus.opaque, port, v, 1); }
    uint8_t in(uint16_t port)
    {
        return (uint8_t)m()->cpu.bus.io_read(m()->cpu.bus.opaque, port, 1);
    }
    std::vector<uint8_t> drain()
    {
        std::vector<uint8_t> got;
        while (in(0x64) & 1) got.push_back(in(0x60));
        return got;
    }
};

TEST(Vmmouse, BoardSendsAPs2PacketPerEvent)
{
    Board b;
    ASSERT_NE(b.m(), nullptr);
    EXPECT_NE(b.m()->cpu.bus.backdoor, nullptr); // on by default, as QEMU's vmport=auto
    b.out(0x64, 0xd4); // to the mouse: enable reporting
    b.out(0x60, 0xf4);
    EXPECT_EQ(b.drain(), std::vector<uint8_t>{0xfa});
    uint32_t r[8] = {MAGIC, VMMOUSE_CMD_COMMAND, 0x5658, VMMOUSE_READ_ID};
    b.m()->cpu.bus.backdoor(b.m()->cpu.bus.opaque, r);
    uint32_t r2[8] = {MAGIC, VMMOUSE_CMD_COMMAND, 0x5658, VMMOUSE_REQUEST_ABSOLUTE};
    b.m()->cpu.bus.backdoor(b.m()->cpu.bus.opaque, r2);
    EXPECT_TRUE(vmmouse_put_abs(&b.m()->vmmouse, 0x8000, 0x4000, 0, 1));
    // byte 0 has bit 3 set (what Linux's VMMouse protocol checks), no motion
    EXPECT_EQ(b.drain(), (std::vector<uint8_t>{0x09, 0x00, 0x00}));
    // a system reset turns the device off again
    machine_reset(b.m());
    EXPECT_FALSE(vmmouse_enabled(&b.m()->vmmouse));
}

TEST(Vmmouse, VmportOffMeansNoBackdoor)
{
    Board b(false);
    ASSERT_NE(b.m(), nullptr);
    EXPECT_EQ(b.m()->cpu.bus.backdoor, nullptr);
}

TEST(Vmmouse, SnapshotKeepsTheQueue)
{
    Board a, b;
    ASSERT_NE(a.m(), nullptr);
    ASSERT_NE(b.m(), nullptr);
    Vmmouse *v = &a.m()->vmmouse;
    uint32_t r[8] = {MAGIC, VMMOUSE_CMD_COMMAND, 0x5658, VMMOUSE_READ_ID};
    vmmouse_backdoor(v, r);
    uint32_t r2[8] = {MAGIC, VMMOUSE_CMD_COMMAND, 0x5658, VMMOUSE_REQUEST_ABSOLUTE};
    vmmouse_backdoor(v, r2);
    vmmouse_put_abs(v, 0x4321, 0x1234, 0, 0);
    SnapBuf s = {};
    char err[256];
    ASSERT_EQ(machine_save_buf(a.m(), &s, err, sizeof err), 0) << err;
    ASSERT_EQ(machine_load_buf(b.m(), s.data, s.len, err, sizeof err), 0) << err;
    snap_buf_free(&s);
    Vmmouse *w = &b.m()->vmmouse;
    EXPECT_TRUE(vmmouse_absolute(w));
    uint32_t q[8] = {MAGIC, VMMOUSE_CMD_STATUS, 0x5658, 0};
    vmmouse_backdoor(w, q);
    EXPECT_EQ(q[R_EAX], 5u); // the version word and one event
    EXPECT_EQ(w->queue[(w->head + 2) % VMMOUSE_QUEUE], 0x4321u);
}

// ---- IN EAX, DX in a guest ----

// 32-bit code that makes backdoor calls and stores EAX, EBX, ECX, EDX of each at
// 0x20000 + 16 * n.
struct Prog {
    std::vector<uint8_t> b;
    uint32_t n = 0;
    void imm32(uint32_t v)
    {
        for (int i = 0; i < 4; i++) b.push_back((uint8_t)(v >> (8 * i)));
    }
    void store()
    {
        uint32_t a = 0x20000 + 16 * n++;
        b.push_back(0xa3); // mov [a], eax
        imm32(a);
        for (uint8_t modrm : {0x1d, 0x0d, 0x15}) { // mov [a+4], ebx / ecx / edx
            b.push_back(0x89);
            b.push_back(modrm);
            imm32(a += 4);
        }
    }
    // mov eax, magic; mov ebx, arg; mov ecx, cmd; mov edx, port; in eax, dx (or in ax, dx)
    void call(uint32_t cmd, uint32_t arg, uint32_t magic = MAGIC, bool wide = true,
              uint16_t port = 0x5658)
    {
        b.push_back(0xb8);
        imm32(magic);
        b.push_back(0xbb);
        imm32(arg);
        b.push_back(0xb9);
        imm32(cmd);
        b.push_back(0xba);
        imm32(port);
        if (!wide) b.push_back(0x66);
        b.push_back(0xed);
        store();
    }
    void hlt() { b.push_back(0xf4); }
};

// The harness's bus opaque is the CpuHarness itself, so the VM derives from it and
// the backdoor hook finds its device by a downcast.
struct GuestVm : CpuHarness {
    Vmmouse v;
    Dbt *d = nullptr;
    int calls = 0;
    FILE *log = nullptr;
    static void hook(void *o, uint32_t regs[8])
    {
        GuestVm *g = static_cast<GuestVm *>(static_cast<CpuHarness *>(o));
        g->calls++;
        vmmouse_backdoor(&g->v, regs);
    }
    explicit GuestVm(int engine) // 0 interpreter, 1 translator + checker, 2 translator
    {
        vmmouse_init(&v, nullptr, nullptr);
        io_read_value = 0xa5a5a5a5u;
        c->bus.backdoor = hook; // before dbt_create: the checker wraps the bus
        flat32();
        if (engine) {
            DbtOptions o;
            dbt_options_defaults(&o);
            o.check = engine == 1;
            o.code_size = 4u << 20;
            log = tmpfile();
            o.log_file = log;
            char err[200];
            d = dbt_create(c, &o, err, sizeof err);
            EXPECT_NE(d, nullptr) << err;
        }
    }
    ~GuestVm()
    {
        dbt_destroy(d);
        if (log) fclose(log);
    }
    void run()
    {
        c->halted = false;
        for (int i = 0; i < 100 && !c->halted; i++) {
            if (d) dbt_run(d, 100000);
            else cpu_run(c, 100000);
        }
    }
    uint32_t res(uint32_t n, int reg) { return rd32(0x20000 + 16 * n + 4 * reg); }
    uint32_t eax(uint32_t n) { return res(n, 0); }
    uint32_t ebx(uint32_t n) { return res(n, 1); }
    uint32_t ecx(uint32_t n) { return res(n, 2); }
    uint32_t edx(uint32_t n) { return res(n, 3); }
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

// The whole driver conversation as a guest has it, in two phases around a HLT during
// which the host queues two absolute events.
void guest_conversation(int engine)
{
    SCOPED_TRACE(engine == 0 ? "interpreter" : engine == 1 ? "translator+checker" : "translator");
    GuestVm g(engine);
    Prog p;
    p.call(VMPORT_CMD_GETVERSION, ~MAGIC);                     // 0
    p.call(VMMOUSE_CMD_STATUS, 0);                             // 1: disabled
    p.call(VMMOUSE_CMD_COMMAND, VMMOUSE_READ_ID);              // 2
    p.call(VMMOUSE_CMD_STATUS, 0);                             // 3
    p.call(VMMOUSE_CMD_DATA, 1);                               // 4: the version
    p.call(VMMOUSE_CMD_COMMAND, VMMOUSE_REQUEST_ABSOLUTE);     // 5
    p.hlt();
    size_t phase2 = p.b.size();
    p.call(VMMOUSE_CMD_STATUS, 0);                             // 6: two events
    p.call(VMMOUSE_CMD_DATA, 4);                               // 7
    p.call(VMMOUSE_CMD_DATA, 4);                               // 8
    p.call(VMMOUSE_CMD_STATUS, 0);                             // 9: empty
    p.call(VMMOUSE_CMD_DATA, 1);                               // 10: nothing to pop
    p.call(0x1234, 0x77);                                      // 11: no such command
    p.call(VMPORT_CMD_GETVERSION, 0x77, MAGIC + 1);            // 12: no magic: a port read
    p.call(VMPORT_CMD_GETVERSION, 0x77, MAGIC, false);         // 13: IN AX, DX: a port read
    p.call(VMPORT_CMD_GETVERSION, 0x77, MAGIC, true, 0x5659);  // 14: another port
    p.call(VMMOUSE_CMD_COMMAND, VMMOUSE_DISABLE);              // 15
    p.call(VMMOUSE_CMD_STATUS, 0);                             // 16
    p.hlt();
    g.load(0x1000, p.b);
    g.set_ip(0x1000);
    g.run();
    ASSERT_TRUE(g.c->halted);
    EXPECT_EQ(g.c->eip, 0x1000u + phase2);
    EXPECT_EQ(g.eax(0), VMPORT_VERSION);
    EXPECT_EQ(g.ebx(0), MAGIC);
    EXPECT_EQ(g.eax(1), VMMOUSE_ERROR);
    EXPECT_EQ(g.eax(3), 1u);
    EXPECT_EQ(g.eax(4), VMMOUSE_VERSION_ID);
    EXPECT_EQ(g.ebx(4), 1u); // DATA 1 writes EAX only
    EXPECT_TRUE(vmmouse_absolute(&g.v));
    vmmouse_put_abs(&g.v, 0x1111, 0x2222, 0, 1);
    vmmouse_put_abs(&g.v, 0xffff, 0, 1, 0);
    g.run();
    ASSERT_TRUE(g.c->halted);
    EXPECT_EQ(g.eax(6), 8u);
    EXPECT_EQ(g.eax(7), VMMOUSE_LEFT);
    EXPECT_EQ(g.ebx(7), 0x1111u);
    EXPECT_EQ(g.ecx(7), 0x2222u);
    EXPECT_EQ(g.edx(7), 0u);
    EXPECT_EQ(g.eax(8), 0u);
    EXPECT_EQ(g.ebx(8), 0xffffu);
    EXPECT_EQ(g.ecx(8), 0u);
    EXPECT_EQ(g.edx(8), 1u);
    EXPECT_EQ(g.eax(9), 0u);
    EXPECT_EQ(g.eax(10), VMMOUSE_ERROR);
    EXPECT_EQ(g.eax(11), 0xffffffffu);
    EXPECT_EQ(g.ebx(11), 0x77u);
    EXPECT_EQ(g.eax(12), 0xa5a5a5a5u); // the harness's port value
    EXPECT_EQ(g.ebx(12), 0x77u);
    EXPECT_EQ(g.eax(13), (MAGIC & 0xffff0000u) | 0xa5a5u);
    EXPECT_EQ(g.eax(14), 0xa5a5a5a5u);
    EXPECT_EQ(g.eax(16), VMMOUSE_ERROR);
    // every backdoor call reached the device exactly once: the checker must not have
    // re-run a popping IN in the interpreter
    EXPECT_EQ(g.calls, 14);
    EXPECT_EQ(g.v.dropped, 0u);
    if (g.d) {
        EXPECT_FALSE(dbt_check_failed(g.d)) << g.log_text();
        if (engine == 1) {
            EXPECT_GT(dbt_stats(g.d)->check_skipped, 0u);
        }
    }
}

TEST(Vmmouse, GuestInInterpreter) { guest_conversation(0); }
TEST(Vmmouse, GuestInTranslatorWithChecker) { guest_conversation(1); }
TEST(Vmmouse, GuestInTranslator) { guest_conversation(2); }

// Without a hook (vmport=off) the IN is an ordinary port read; at CPL 3 with IOPL 0
// the permission check faults before the device sees anything.
TEST(Vmmouse, GuestWithoutHookOrPermission)
{
    GuestVm g(0);
    g.c->bus.backdoor = nullptr;
    Prog p;
    p.call(VMPORT_CMD_GETVERSION, 0x77);
    p.hlt();
    g.load(0x1000, p.b);
    g.set_ip(0x1000);
    g.run();
    EXPECT_EQ(g.eax(0), 0xa5a5a5a5u);
    EXPECT_EQ(g.ebx(0), 0x77u);

    // CPL 3, IOPL 0: the TSS's I/O bitmap decides (cpu_init's TR has base 0, so the
    // bitmap offset is the word at 0x66 and the bitmap follows it in RAM)
    for (bool allowed : {true, false}) {
        GuestVm u(0);
        u.c->cpl = 3;
        u.c->tr.limit = 0x3000;
        u.wr32(0x64, 0x20000000u); // bitmap at 0x2000
        u.ram[0x2000 + 0x5658 / 8] = allowed ? 0x00 : 0x0f;
        u.c->regs[R_EAX] = MAGIC;
        u.c->regs[R_ECX] = VMPORT_CMD_GETVERSION;
        u.c->regs[R_EDX] = 0x5658;
        u.c->regs[R_EBX] = 0x77;
        u.load(0x1000, {0xed});
        u.set_ip(0x1000);
        u.step();
        EXPECT_EQ(u.calls, allowed ? 1 : 0) << allowed;
        EXPECT_EQ(u.c->regs[R_EBX], allowed ? MAGIC : 0x77u) << allowed;
        if (!allowed) {
            EXPECT_GT(u.c->exc_count + u.shutdowns, 0u); // #GP, then worse
        }
    }
}

} // namespace

namespace {

// -machine vmport= and -smbios: QEMU's spellings, and one-line errors for the rest.
TEST(Vmmouse, OptionsAreChecked)
{
    std::string out;
    const std::string bin = dbt86_bin();
    const char *bad[] = {"-machine pc,vmport=maybe", "-smbios type=2,serial=x",
                         "-smbios type=1,colour=red", "-smbios type=1,serial"};
    for (const char *b : bad) {
        EXPECT_EQ(run_cmd(bin + " " + b + " -display none -timeout 5 2>&1", &out), 1) << b;
        EXPECT_NE(out.find(b[1] == 'm' ? "vmport" : "-smbios"), std::string::npos) << out;
    }
    // good ones reach the guest: the demo disk boots to power-off with them
    for (const char *good : {"-machine pc,vmport=off", "-machine vmport=on",
                             "-M pc,vmport=auto -smbios type=1,serial=VMware-1,family=x"})
        EXPECT_EQ(run_cmd(bin + " " + good + " -display none -timeout 60 >/dev/null 2>&1"), 0)
            << good;
}

} // namespace
