/*
 * test_apic_board.cc — the local APIC and the IOAPIC as wired on the board: CPUID and
 * IA32_APIC_BASE (relocation, global disable, reserved bits), the device list and
 * snapshots, and roms/apic-board.asm booted by SeaBIOS: ExtINT through LINT0 in real
 * mode, the APIC timer one-shot and periodic, the PIT on IOAPIC pin 2, an NMI through
 * LINT1, and the 8259 alone once the APIC is disabled. Its output was recorded under
 * qemu-system-i386 -icount shift=3,sleep=off (tests/data/apic-board.expected).
 */
#include <gtest/gtest.h>

#include <set>

#include "cpu_harness.h"
#include "guest_util.h"

extern "C" {
#include "devices/machine_snapshot.h"
}

namespace {

constexpr uint32_t kFeatApic = 1u << 9;

uint32_t cpuid1_edx(const Cpu *c)
{
    uint32_t out[4];
    cpuid_query(c, 1, 0, out);
    return out[3];
}

/* Executes one WRMSR (0F 30) at 0:7000 in real mode with the given registers; returns
 * true if it completed (false: it raised an exception). */
bool wrmsr(Machine *m, uint32_t ecx, uint64_t v)
{
    Cpu *c = &m->cpu;
    m->ram[0x7000] = 0x0f;
    m->ram[0x7001] = 0x30;
    m->ram[0x7002] = 0xf4; /* hlt */
    c->seg[SEG_CS].sel = 0;
    c->seg[SEG_CS].base = 0;
    c->eip = 0x7000;
    c->regs[R_ECX] = ecx;
    c->regs[R_EAX] = (uint32_t)v;
    c->regs[R_EDX] = (uint32_t)(v >> 32);
    uint64_t before = c->exc_count;
    cpu_step(c);
    return c->exc_count == before && c->eip == 0x7002;
}

struct BoardRun {
    GuestRun g;
    BoardRun()
    {
        g.cfg.debug_exit = true;
        g.cfg.debug_exit_iobase = 0xf4;
        g.cfg.debug_exit_iosize = 4;
        g.cfg.no_reboot = true;
        g.disk(rom_path("apic-board.img"));
    }
    /* Runs to the debug exit; `nmi` presses QEMU's `nmi` once the guest waits for it. */
    void run(bool nmi)
    {
        ASSERT_TRUE(g.create()) << g.err;
        bool sent = false;
        for (int i = 0; i < 3000 && !g.m->exit_requested; i++) {
            machine_run_for(g.m, 1000000);
            if (nmi && !sent && g.serial.find("waiting for an nmi") != std::string::npos) {
                machine_nmi(g.m);
                sent = true;
            }
        }
        ASSERT_TRUE(g.m->exit_requested) << g.serial;
        EXPECT_EQ(g.m->exit.kind, MEXIT_DEBUG_EXIT) << g.serial;
        EXPECT_EQ(g.m->exit.status, 1) << g.serial; /* wrote 0 */
    }
};

std::string expected_output(bool nmi)
{
    std::string e = read_file(data_path("apic-board.expected"));
    if (nmi) {
        size_t p = e.find("nmi: none (timeout)");
        if (p != std::string::npos) e.replace(p, 19, "nmi: delivered");
    }
    return e;
}

} // namespace

TEST(ApicBoard, CpuidReportsTheApicOnlyOnTheBoardAndWhileEnabled)
{
    CpuHarness h; /* a bare CPU: no APIC wired */
    EXPECT_EQ(cpuid1_edx(h.c) & kFeatApic, 0u);

    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    EXPECT_NE(cpuid1_edx(&g.m->cpu) & kFeatApic, 0u);
    ASSERT_TRUE(wrmsr(g.m, 0x1b, 0xfee00100u)); /* bit 11 off: globally disabled */
    EXPECT_EQ(cpuid1_edx(&g.m->cpu) & kFeatApic, 0u);
    EXPECT_FALSE(apic_enabled(&g.m->apic));
    /* a system reset brings it back at the default base */
    machine_reset(g.m);
    EXPECT_NE(cpuid1_edx(&g.m->cpu) & kFeatApic, 0u);
    EXPECT_EQ(apic_get_base(&g.m->apic), 0xfee00900u);
    EXPECT_EQ(g.m->cpu.msr_apic_base, 0xfee00900u);
}

TEST(ApicBoard, ApicBaseMsrMapsRelocatesAndUnmapsThePage)
{
    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    Machine *m = g.m;
    EXPECT_EQ(bus_mmio_read(&m->bus, 0xfee00030u, 4), APIC_VERSION);
    EXPECT_EQ(bus_mmio_read(&m->bus, 0xfec00000u, 4), 0u); /* IOREGSEL */

    /* over RAM at 1 MiB: the page leaves the map so accesses reach the APIC */
    ASSERT_TRUE(wrmsr(m, 0x1b, 0x00100900u));
    EXPECT_EQ(apic_get_base(&m->apic), 0x00100900u);
    EXPECT_EQ(physmem_rd_ptr(m->mem, 0x100000u), nullptr);
    EXPECT_EQ(physmem_wr_ptr(m->mem, 0x100000u), nullptr);
    EXPECT_EQ(physmem_rd_ptr(m->mem, 0x101000u), m->ram + 0x101000); /* only one page */
    EXPECT_EQ(bus_mmio_read(&m->bus, 0x100030u, 4), APIC_VERSION);
    EXPECT_EQ(bus_mmio_read(&m->bus, 0xfee00030u, 4), 0xffffffffu); /* old base: nothing */

    /* back to the default: RAM is RAM again */
    ASSERT_TRUE(wrmsr(m, 0x1b, 0xfee00900u));
    EXPECT_EQ(physmem_rd_ptr(m->mem, 0x100000u), m->ram + 0x100000);
    EXPECT_EQ(physmem_wr_ptr(m->mem, 0x100000u), m->ram + 0x100000);
    EXPECT_EQ(bus_mmio_read(&m->bus, 0xfee00030u, 4), APIC_VERSION);

    /* disabled: unmapped (all ones), and the IOAPIC stays where it is */
    ASSERT_TRUE(wrmsr(m, 0x1b, 0xfee00100u));
    EXPECT_EQ(bus_mmio_read(&m->bus, 0xfee00030u, 4), 0xffffffffu);
    bus_mmio_write(&m->bus, 0xfec00000u, 1, 4);
    EXPECT_EQ(bus_mmio_read(&m->bus, 0xfec00010u, 4), IOAPIC_VERSION);

    /* a disabled APIC over RAM hides nothing */
    ASSERT_TRUE(wrmsr(m, 0x1b, 0x00100100u));
    EXPECT_EQ(physmem_rd_ptr(m->mem, 0x100000u), m->ram + 0x100000);

    /* reserved bits (x2APIC enable, bits above 31) are #GP and change nothing */
    ASSERT_TRUE(wrmsr(m, 0x1b, 0xfee00900u));
    EXPECT_FALSE(wrmsr(m, 0x1b, 0xfee00d00u));
    EXPECT_FALSE(wrmsr(m, 0x1b, 0x1fee00900ull));
    EXPECT_EQ(apic_get_base(&m->apic), 0xfee00900u);
    EXPECT_EQ(m->cpu.msr_apic_base, 0xfee00900u);
    /* the BSP bit is the hardware's: writing 0 there does not clear it */
    ASSERT_TRUE(wrmsr(m, 0x1b, 0xfee00800u));
    EXPECT_EQ(m->cpu.msr_apic_base, 0xfee00900u);
    EXPECT_EQ(apic_get_base(&m->apic), 0xfee00900u);
}

TEST(ApicBoard, DevicesAreInTheListWithState)
{
    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    std::set<std::string> names;
    for (unsigned i = 0; i < g.m->n_devices; i++)
        if (g.m->devices[i].ops->state) names.insert(g.m->devices[i].ops->state->name);
    EXPECT_TRUE(names.count("apic"));
    EXPECT_TRUE(names.count("ioapic"));
    /* still there (for reset and snapshots) while the APIC is unmapped */
    ASSERT_TRUE(wrmsr(g.m, 0x1b, 0xfee00100u));
    unsigned n = g.m->n_devices;
    machine_reset(g.m);
    EXPECT_EQ(g.m->n_devices, n);
    EXPECT_TRUE(apic_enabled(&g.m->apic)); /* the reset reached it */
}

/* An NMI from the board while the APIC is globally disabled is the CPU's NMI pin;
 * with LINT1 masked (the power-on LVT) it is dropped. */
TEST(ApicBoard, BoardNmiFollowsLint1)
{
    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    Cpu *c = &g.m->cpu;
    machine_nmi(g.m); /* power-on: LINT1 masked */
    EXPECT_FALSE(c->nmi_pending);
    apic_write(&g.m->apic, 0xf0, 0x1ff, 4);    /* software enable */
    apic_write(&g.m->apic, 0x360, 0x8400, 4);  /* LINT1: NMI, as SeaBIOS sets it */
    machine_nmi(g.m);
    EXPECT_TRUE(c->nmi_pending);
    c->nmi_pending = false;
    ASSERT_TRUE(wrmsr(g.m, 0x1b, 0xfee00100u)); /* globally disabled: LINT1 = NMI pin */
    machine_nmi(g.m);
    EXPECT_TRUE(c->nmi_pending);
}

/* The guest arms a 100 us APIC timer and halts in the middle of a 50 ms run slice: the
 * run loop must notice the new, earlier deadline (and not skip to the slice's end). */
TEST(ApicBoard, TimerArmedDuringARunFiresOnTime)
{
    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    Machine *m = g.m;
    std::string img = read_file(rom_path("apic-deadline.img"));
    ASSERT_FALSE(img.empty());
    memcpy(m->ram + 0x7000, img.data(), img.size());
    m->cpu.seg[SEG_CS].sel = 0;
    m->cpu.seg[SEG_CS].base = 0;
    m->cpu.eip = 0x7000;
    EXPECT_TRUE(machine_run_for(m, 50000000));
    EXPECT_EQ(m->exit.kind, MEXIT_HALTED);
    uint64_t t[4];
    memcpy(t, m->ram + 0x6000, sizeof t);
    ASSERT_GT(t[0], 0u);
    for (int i = 0; i < 4; i += 2) {
        const char *how = i ? "halted" : "spinning";
        EXPECT_GE(t[i + 1], t[i] + 100000) << how;
        EXPECT_LT(t[i + 1], t[i] + 101000)
            << how << ": the timer fired " << (t[i + 1] - t[i]) << " ns after its arming";
    }
    EXPECT_LT(machine_now_ns(m), t[3] + 1000);
}

TEST(ApicBoard, GuestMatchesQemuRecording)
{
    BoardRun r;
    r.run(false);
    EXPECT_EQ(r.g.serial, expected_output(false));
}

TEST(ApicBoard, GuestTakesTheInjectedNmi)
{
    BoardRun r;
    r.run(true);
    EXPECT_EQ(r.g.serial, expected_output(true));
}

/* A snapshot taken while the periodic APIC timer and the IOAPIC are in use (the guest
 * is between them) restores into a fresh machine that finishes the same way. */
TEST(ApicBoard, SnapshotMidTestFinishesTheSame)
{
    BoardRun a;
    ASSERT_TRUE(a.g.create()) << a.g.err;
    for (int i = 0; i < 3000 && a.g.serial.find("apic timer periodic") == std::string::npos;
         i++)
        ASSERT_FALSE(machine_run_for(a.g.m, 100000)) << a.g.serial;
    /* inside the IOAPIC part now: a few more slices so pin 2 is programmed */
    machine_run_for(a.g.m, 1500000);
    char err[256];
    SnapBuf b = {};
    ASSERT_EQ(machine_save_buf(a.g.m, &b, err, sizeof err), 0) << err;
    std::string prefix = a.g.serial;

    BoardRun r;
    ASSERT_TRUE(r.g.create()) << r.g.err;
    ASSERT_EQ(machine_load_buf(r.g.m, b.data, b.len, err, sizeof err), 0) << err;
    snap_buf_free(&b);
    r.g.serial = prefix;
    for (int i = 0; i < 3000 && !r.g.m->exit_requested; i++) machine_run_for(r.g.m, 1000000);
    for (int i = 0; i < 3000 && !a.g.m->exit_requested; i++) machine_run_for(a.g.m, 1000000);
    EXPECT_EQ(r.g.serial, expected_output(false));
    EXPECT_EQ(r.g.serial, a.g.serial);
    EXPECT_EQ(r.g.m->cpu.icount, a.g.m->cpu.icount);
    EXPECT_EQ(machine_now_ns(r.g.m), machine_now_ns(a.g.m));
}

/* The recording is QEMU's: check it again when QEMU is installed. */
TEST(ApicBoard, QemuAgreesLive)
{
    if (run_cmd("command -v qemu-system-i386 >/dev/null") != 0)
        GTEST_SKIP() << "qemu-system-i386 not installed";
    std::string out;
    run_cmd("timeout 60 qemu-system-i386 -m 64 -display none -monitor none -serial stdio "
            "-no-reboot -icount shift=3,sleep=off "
            "-device isa-debug-exit,iobase=0xf4,iosize=4 -drive file=" +
                rom_path("apic-board.img") + ",format=raw,if=ide,snapshot=on 2>/dev/null",
            &out);
    EXPECT_EQ(out, expected_output(false));
}
