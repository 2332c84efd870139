// test_apic.cc — the local APIC through its MMIO page on a Bus, against a virtual clock
// driven by a hand-advanced instruction counter (1 instruction = 1 ns): reset values,
// TPR/PPR/APR, IRR -> ISR on INTA, EOI, priority classes, spurious vector, the timer in
// one-shot and periodic modes with every divider, LVT masking, software and global
// disable, ExtINT pass-through from a fake 8259, self-IPIs and the ESR.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <utility>
#include <vector>

extern "C" {
#include "devices/apic.h"
#include "devices/bus.h"
#include "devices/clock.h"
}

namespace {

constexpr uint32_t BASE = 0xfee00000u;

struct ApicTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    uint64_t icount = 0;
    Clock clk;
    Apic apic;
    std::vector<std::pair<uint64_t, int>> intr;   // (virtual ns, INTR level)
    std::vector<uint8_t> eois;                    // EOI broadcasts
    int nmis = 0;
    int pic_acks = 0;
    uint8_t pic_vector = 0x08;
    std::vector<std::pair<uint32_t, bool>> moves;

    static void intr_set(void *o, int, int level)
    {
        auto *t = static_cast<ApicTest *>(o);
        t->intr.push_back({clock_now(&t->clk), level});
    }
    static void eoi_cb(void *o, uint8_t v) { static_cast<ApicTest *>(o)->eois.push_back(v); }
    static uint8_t pic_ack(void *o)
    {
        auto *t = static_cast<ApicTest *>(o);
        t->pic_acks++;
        return t->pic_vector;
    }
    static void nmi_cb(void *o) { static_cast<ApicTest *>(o)->nmis++; }
    static void moved_cb(void *o, uint32_t base, bool en)
    {
        static_cast<ApicTest *>(o)->moves.push_back({base, en});
    }

    void init(bool virtual_wire)
    {
        bus_init(bus.get());
        clock_init(&clk, &icount, 0);
        ApicConfig cfg{};
        cfg.id = 0;
        cfg.bsp = true;
        cfg.lint0_extint_at_reset = virtual_wire;
        cfg.opaque = this;
        cfg.eoi_broadcast = eoi_cb;
        cfg.extint_ack = pic_ack;
        cfg.nmi = nmi_cb;
        cfg.moved = moved_cb;
        apic_init(&apic, bus.get(), &clk, IrqLine{intr_set, this, 0}, &cfg);
        intr.clear();
        moves.clear();
    }
    void SetUp() override { init(false); }

    uint32_t rd(uint32_t off, unsigned size = 4)
    {
        return bus_mmio_read(bus.get(), BASE + off, size);
    }
    void wr(uint32_t off, uint32_t v, unsigned size = 4)
    {
        bus_mmio_write(bus.get(), BASE + off, v, size);
    }
    void enable() { wr(0xf0, 0x1ff); }
    bool irr(unsigned v) { return rd(0x200 + (v / 32) * 0x10) & (1u << (v % 32)); }
    bool isr(unsigned v) { return rd(0x100 + (v / 32) * 0x10) & (1u << (v % 32)); }
    bool tmr(unsigned v) { return rd(0x180 + (v / 32) * 0x10) & (1u << (v % 32)); }
    int level() { return intr.empty() ? 0 : intr.back().second; }

    // Advance to `t`, running each timer exactly at its deadline (an ideal CPU).
    void run_until(uint64_t t)
    {
        for (;;) {
            uint64_t d = clock_next_deadline(&clk);
            if (d > t) break;
            if (d > icount) icount = d;
            clock_run_timers(&clk);
        }
        icount = t;
        clock_run_timers(&clk);
    }
};

TEST_F(ApicTest, ResetValues)
{
    EXPECT_EQ(apic_get_base(&apic), 0xfee00900u);
    EXPECT_EQ(rd(0x20), 0u);
    EXPECT_EQ(rd(0x30), 0x00050014u);
    EXPECT_EQ(rd(0x80), 0u);
    EXPECT_EQ(rd(0xa0), 0u);
    EXPECT_EQ(rd(0xd0), 0u);
    EXPECT_EQ(rd(0xe0), 0xffffffffu);
    EXPECT_EQ(rd(0xf0), 0xffu);
    for (uint32_t r = 0x100; r < 0x280; r += 0x10) EXPECT_EQ(rd(r), 0u) << std::hex << r;
    EXPECT_EQ(rd(0x300), 0u);
    EXPECT_EQ(rd(0x310), 0u);
    for (uint32_t r = 0x320; r <= 0x370; r += 0x10) EXPECT_EQ(rd(r), 0x10000u) << std::hex << r;
    EXPECT_EQ(rd(0x380), 0u);
    EXPECT_EQ(rd(0x390), 0u);
    EXPECT_EQ(rd(0x3e0), 0u);
    EXPECT_FALSE(apic_intr_pending(&apic));
}

TEST_F(ApicTest, VirtualWireResetOption)
{
    init(true);
    EXPECT_EQ(rd(0x350), 0x700u);
    EXPECT_EQ(rd(0x360), 0x10000u);
}

TEST_F(ApicTest, RegisterWriteMasks)
{
    wr(0x20, 0xffffffff);
    EXPECT_EQ(rd(0x20), 0xff000000u);
    wr(0x20, 0);
    wr(0x30, 0);                      // version is read-only
    EXPECT_EQ(rd(0x30), 0x00050014u);
    wr(0x80, 0x1234);
    EXPECT_EQ(rd(0x80), 0x34u);
    wr(0xd0, 0x12345678);
    EXPECT_EQ(rd(0xd0), 0x12000000u);
    wr(0xe0, 0x0);
    EXPECT_EQ(rd(0xe0), 0x0fffffffu);
    wr(0xf0, 0xffffffff);
    EXPECT_EQ(rd(0xf0), 0x3ffu);
    wr(0x310, 0xffffffff);
    EXPECT_EQ(rd(0x310), 0xff000000u);
    wr(0x320, 0xffffffff);
    EXPECT_EQ(rd(0x320), 0x000300ffu);
    wr(0x350, 0xffffffff);
    EXPECT_EQ(rd(0x350), 0x0001a7ffu);
    wr(0x370, 0xffffffff);
    EXPECT_EQ(rd(0x370), 0x000100ffu);
    wr(0x3e0, 0xffffffff);
    EXPECT_EQ(rd(0x3e0), 0xbu);
    // narrow reads return the addressed bytes; narrow writes are dropped
    wr(0x80, 0xa5);
    EXPECT_EQ(rd(0x30, 1), 0x14u);
    EXPECT_EQ(rd(0x32, 1), 0x05u);
    EXPECT_EQ(rd(0x30, 2), 0x0014u);
    EXPECT_EQ(rd(0x34), 0u);          // bytes 4-15 of a slot
    wr(0x80, 0x11, 1);
    EXPECT_EQ(rd(0x80), 0xa5u);
}

TEST_F(ApicTest, TprPprApr)
{
    enable();
    wr(0x80, 0x45);
    EXPECT_EQ(rd(0xa0), 0x45u);       // nothing in service: PPR = TPR
    apic_deliver(&apic, 0x61, false);
    EXPECT_EQ(apic_intr_ack(&apic), 0x61);
    EXPECT_EQ(rd(0xa0), 0x60u);       // in-service class above TPR class
    wr(0x80, 0x6a);
    EXPECT_EQ(rd(0xa0), 0x6au);       // same class: TPR wins (with its sub-class)
    wr(0x80, 0x10);
    EXPECT_EQ(rd(0xa0), 0x60u);
    // APR: max of classes; TPR when it dominates
    EXPECT_EQ(rd(0x90), 0x60u);
    apic_deliver(&apic, 0x92, false);
    EXPECT_EQ(rd(0x90), 0x90u);
    wr(0x80, 0xa3);
    EXPECT_EQ(rd(0x90), 0xa3u);
}

TEST_F(ApicTest, IrrToIsrAndEoi)
{
    enable();
    apic_deliver(&apic, 0x41, false);
    EXPECT_TRUE(irr(0x41));
    EXPECT_EQ(level(), 1);
    apic_deliver(&apic, 0x35, false);
    EXPECT_EQ(apic_intr_ack(&apic), 0x41);   // highest first
    EXPECT_FALSE(irr(0x41));
    EXPECT_TRUE(isr(0x41));
    EXPECT_EQ(level(), 0);                   // 0x35 is below the in-service class
    EXPECT_FALSE(apic_intr_pending(&apic));
    wr(0xb0, 0);                             // EOI
    EXPECT_FALSE(isr(0x41));
    EXPECT_EQ(level(), 1);                   // the next pending interrupt appears
    EXPECT_EQ(apic_intr_ack(&apic), 0x35);
    wr(0xb0, 0);
    EXPECT_EQ(level(), 0);
    EXPECT_TRUE(eois.empty());               // edge vectors are not broadcast
    EXPECT_EQ(rd(0xb0), 0u);
}

TEST_F(ApicTest, PriorityClasses)
{
    enable();
    apic_deliver(&apic, 0x51, false);
    EXPECT_EQ(apic_intr_ack(&apic), 0x51);
    apic_deliver(&apic, 0x5f, false);        // same class as in service: held
    EXPECT_FALSE(apic_intr_pending(&apic));
    apic_deliver(&apic, 0x60, false);        // higher class: nests
    EXPECT_TRUE(apic_intr_pending(&apic));
    EXPECT_EQ(apic_intr_ack(&apic), 0x60);
    EXPECT_TRUE(isr(0x51));
    EXPECT_TRUE(isr(0x60));
    wr(0xb0, 0);                             // retires 0x60 (highest in service)
    EXPECT_FALSE(isr(0x60));
    EXPECT_TRUE(isr(0x51));
    EXPECT_FALSE(apic_intr_pending(&apic));
    wr(0xb0, 0);
    EXPECT_EQ(apic_intr_ack(&apic), 0x5f);
    wr(0xb0, 0);
    // TPR blocks classes at or below it
    wr(0x80, 0x70);
    apic_deliver(&apic, 0x7f, false);
    EXPECT_FALSE(apic_intr_pending(&apic));
    apic_deliver(&apic, 0x80, false);
    EXPECT_TRUE(apic_intr_pending(&apic));
    EXPECT_EQ(apic_intr_ack(&apic), 0x80);
    wr(0xb0, 0);
    wr(0x80, 0);
    EXPECT_EQ(apic_intr_ack(&apic), 0x7f);
}

TEST_F(ApicTest, SpuriousVector)
{
    wr(0xf0, 0x1ef);
    EXPECT_EQ(apic_intr_ack(&apic), 0xef);   // nothing pending
    apic_deliver(&apic, 0x40, false);
    EXPECT_EQ(level(), 1);
    wr(0x80, 0x40);                          // raised TPR withdraws it
    EXPECT_EQ(level(), 0);
    EXPECT_EQ(apic_intr_ack(&apic), 0xef);
    EXPECT_TRUE(irr(0x40));
    EXPECT_FALSE(isr(0x40));
}

TEST_F(ApicTest, LevelTriggeredEoiBroadcast)
{
    enable();
    apic_deliver(&apic, 0x70, true);
    EXPECT_TRUE(tmr(0x70));
    EXPECT_EQ(apic_intr_ack(&apic), 0x70);
    wr(0xb0, 0);
    ASSERT_EQ(eois.size(), 1u);
    EXPECT_EQ(eois[0], 0x70);
    apic_deliver(&apic, 0x70, false);        // accepted as edge: TMR cleared
    EXPECT_FALSE(tmr(0x70));
}

TEST_F(ApicTest, IllegalVectorsAndEsr)
{
    enable();
    apic_deliver(&apic, 0x0e, false);
    EXPECT_FALSE(irr(0x0e));
    EXPECT_EQ(rd(0x280), 0u);                // not visible until ESR is written
    wr(0x280, 0);
    EXPECT_EQ(rd(0x280), 0x40u);             // received illegal vector
    wr(0x280, 0);
    EXPECT_EQ(rd(0x280), 0u);
    wr(0x370, 0xfe);                         // unmasked error LVT
    wr(0x300, 0x00040005);                   // self-IPI with vector 5
    EXPECT_TRUE(irr(0xfe));
    wr(0x280, 0);
    EXPECT_EQ(rd(0x280), 0x60u);             // send + receive illegal
    rd(0x040);                               // reserved register
    wr(0x280, 0);
    EXPECT_EQ(rd(0x280), 0x80u);
}

TEST_F(ApicTest, SelfIpi)
{
    enable();
    wr(0x300, 0x00040055);                   // shorthand self, fixed
    EXPECT_TRUE(irr(0x55));
    EXPECT_FALSE(tmr(0x55));
    EXPECT_EQ(rd(0x300) & (1u << 12), 0u);   // delivery status idle
    wr(0x310, 0x00000000);
    wr(0x300, 0x00000066);                   // physical destination 0 = this APIC
    EXPECT_TRUE(irr(0x66));
    wr(0x310, 0x01000000);
    wr(0x300, 0x00000077);                   // APIC 1 does not exist: dropped
    EXPECT_FALSE(irr(0x77));
    wr(0x300, 0x000c0077);                   // all excluding self: dropped
    EXPECT_FALSE(irr(0x77));
    wr(0x300, 0x00080078);                   // all including self
    EXPECT_TRUE(irr(0x78));
    wr(0xd0, 0x04000000);                    // logical, flat: bit 2
    wr(0x310, 0x0c000000);
    wr(0x300, 0x00000879);
    EXPECT_TRUE(irr(0x79));
    wr(0x310, 0x02000000);
    wr(0x300, 0x0000087a);
    EXPECT_FALSE(irr(0x7a));
    wr(0x300, 0x00000400);                   // NMI to self (destination 0x02: no)
    EXPECT_EQ(nmis, 0);
    wr(0x300, 0x00080400);                   // NMI, all including self
    EXPECT_EQ(nmis, 1);
    wr(0x300, 0x000c4500);                   // INIT to the others: accepted, dropped
    wr(0x300, 0x000c4608);                   // STARTUP: dropped
    EXPECT_EQ(nmis, 1);
    EXPECT_EQ(rd(0x300), 0x000c4608u);
    EXPECT_EQ(apic_intr_ack(&apic), 0x79);
}

TEST_F(ApicTest, TimerOneShotEveryDivider)
{
    enable();
    const uint32_t div_regs[8] = {0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb};
    const uint64_t divisors[8] = {2, 4, 8, 16, 32, 64, 128, 1};
    for (int i = 0; i < 8; i++) {
        SCOPED_TRACE(i);
        wr(0x320, 0x30);                     // one-shot, vector 0x30
        wr(0x3e0, div_regs[i]);
        uint64_t t0 = icount;
        wr(0x380, 100);
        EXPECT_EQ(rd(0x390), 100u);
        run_until(t0 + divisors[i] - 1);
        EXPECT_EQ(rd(0x390), 100u);
        run_until(t0 + divisors[i] * 37 + divisors[i] - 1);
        EXPECT_EQ(rd(0x390), 63u);
        run_until(t0 + divisors[i] * 100 - 1);
        EXPECT_EQ(rd(0x390), 1u);
        EXPECT_FALSE(irr(0x30));
        run_until(t0 + divisors[i] * 100);
        EXPECT_TRUE(irr(0x30));
        EXPECT_EQ(rd(0x390), 0u);
        EXPECT_EQ(apic_intr_ack(&apic), 0x30);
        wr(0xb0, 0);
        run_until(t0 + divisors[i] * 1000);  // one-shot: no more
        EXPECT_FALSE(irr(0x30));
        EXPECT_EQ(rd(0x390), 0u);
        EXPECT_EQ(rd(0x380), 100u);
    }
}

TEST_F(ApicTest, TimerPeriodicEveryDivider)
{
    enable();
    const uint32_t div_regs[8] = {0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb};
    const uint64_t divisors[8] = {2, 4, 8, 16, 32, 64, 128, 1};
    for (int i = 0; i < 8; i++) {
        SCOPED_TRACE(i);
        wr(0x320, 0x20031);                  // periodic, vector 0x31
        wr(0x3e0, div_regs[i]);
        uint64_t t0 = icount, p = divisors[i] * 50;
        wr(0x380, 50);
        for (int n = 1; n <= 3; n++) {
            run_until(t0 + n * p - 1);
            EXPECT_FALSE(irr(0x31)) << n;
            EXPECT_EQ(rd(0x390), 1u) << n;
            run_until(t0 + n * p);
            EXPECT_TRUE(irr(0x31)) << n;
            EXPECT_EQ(rd(0x390), 50u) << n;  // reloaded
            EXPECT_EQ(apic_intr_ack(&apic), 0x31);
            wr(0xb0, 0);
        }
        run_until(t0 + 3 * p + divisors[i] * 20);
        EXPECT_EQ(rd(0x390), 30u);
        wr(0x380, 0);                        // stops the timer
        EXPECT_EQ(rd(0x390), 0u);
        run_until(icount + 10 * p);
        EXPECT_FALSE(irr(0x31));
    }
}

TEST_F(ApicTest, TimerMaskedStillCounts)
{
    enable();
    wr(0x3e0, 0xb);                          // divide by 1
    wr(0x320, 0x30032);                      // periodic, masked
    wr(0x380, 1000);
    run_until(2500);
    EXPECT_FALSE(irr(0x32));
    EXPECT_EQ(rd(0x390), 500u);
    wr(0x320, 0x20032);                      // unmask: next expiry at 3000
    run_until(2999);
    EXPECT_FALSE(irr(0x32));
    run_until(3000);
    EXPECT_TRUE(irr(0x32));
}

TEST_F(ApicTest, TimerDividerChangeKeepsCount)
{
    enable();
    wr(0x3e0, 0xb);                          // /1
    wr(0x320, 0x33);
    wr(0x380, 1000);
    run_until(400);
    EXPECT_EQ(rd(0x390), 600u);
    wr(0x3e0, 0x0);                          // /2 from here
    EXPECT_EQ(rd(0x390), 600u);
    run_until(400 + 2 * 599);
    EXPECT_EQ(rd(0x390), 1u);
    EXPECT_FALSE(irr(0x33));
    run_until(400 + 2 * 600);
    EXPECT_TRUE(irr(0x33));
}

TEST_F(ApicTest, LvtMaskAndSoftwareDisable)
{
    // software disabled: LVT writes keep the mask bit
    wr(0x350, 0x00000040);
    EXPECT_EQ(rd(0x350), 0x10040u);
    enable();
    wr(0x350, 0x00000040);
    wr(0x320, 0x00000041);
    EXPECT_EQ(rd(0x350), 0x40u);
    EXPECT_EQ(rd(0x320), 0x41u);
    apic_deliver(&apic, 0x90, false);
    EXPECT_EQ(level(), 1);
    wr(0xf0, 0x0ff);                         // software disable: masks every LVT
    for (uint32_t r = 0x320; r <= 0x370; r += 0x10) EXPECT_TRUE(rd(r) & 0x10000) << std::hex << r;
    EXPECT_EQ(level(), 0);                   // IRR held but not dispatched
    EXPECT_TRUE(irr(0x90));
    EXPECT_EQ(apic_intr_ack(&apic), 0xff);
    enable();
    EXPECT_EQ(level(), 1);
    EXPECT_EQ(rd(0x350), 0x10040u);          // stays masked after re-enable
    EXPECT_EQ(apic_intr_ack(&apic), 0x90);
}

TEST_F(ApicTest, LintFixedEdgeLevelAndNmi)
{
    enable();
    wr(0x350, 0x00000042);                   // LINT0 fixed, edge
    apic_set_irq(&apic, 0, 1);
    EXPECT_TRUE(irr(0x42));
    EXPECT_EQ(apic_intr_ack(&apic), 0x42);
    wr(0xb0, 0);
    apic_set_irq(&apic, 0, 1);               // no new edge
    EXPECT_FALSE(irr(0x42));
    apic_set_irq(&apic, 0, 0);
    wr(0x350, 0x00008043);                   // LINT0 fixed, level
    apic_set_irq(&apic, 0, 1);
    EXPECT_TRUE(irr(0x43));
    EXPECT_TRUE(tmr(0x43));
    EXPECT_TRUE(rd(0x350) & (1u << 14));     // remote IRR
    EXPECT_EQ(apic_intr_ack(&apic), 0x43);
    wr(0xb0, 0);                             // still asserted: delivered again
    EXPECT_TRUE(irr(0x43));
    EXPECT_EQ(apic_intr_ack(&apic), 0x43);
    apic_set_irq(&apic, 0, 0);
    wr(0xb0, 0);
    EXPECT_FALSE(irr(0x43));
    EXPECT_FALSE(rd(0x350) & (1u << 14));
    wr(0x360, 0x00000400);                   // LINT1 NMI
    apic_set_irq(&apic, 1, 1);
    apic_set_irq(&apic, 1, 0);
    EXPECT_EQ(nmis, 1);
    wr(0x360, 0x00010400);                   // masked
    apic_set_irq(&apic, 1, 1);
    EXPECT_EQ(nmis, 1);
}

TEST_F(ApicTest, ExtIntPassThrough)
{
    // LINT0 masked (SDM reset): the PIC's INTR does not reach the CPU
    apic_set_irq(&apic, 0, 1);
    EXPECT_EQ(level(), 0);
    apic_set_irq(&apic, 0, 0);
    enable();
    wr(0x350, 0x700);                        // ExtINT
    wr(0x80, 0xf0);                          // TPR does not block ExtINT
    apic_set_irq(&apic, 0, 1);
    EXPECT_EQ(level(), 1);
    pic_vector = 0x0c;
    EXPECT_EQ(apic_intr_ack(&apic), 0x0c);
    EXPECT_EQ(pic_acks, 1);
    EXPECT_EQ(rd(0x100), 0u);                // no ISR bit for ExtINT
    apic_set_irq(&apic, 0, 0);
    EXPECT_EQ(level(), 0);
}

TEST_F(ApicTest, ExtIntAtResetWithVirtualWire)
{
    init(true);                              // software-disabled, LINT0 = 0x700
    apic_set_irq(&apic, 0, 1);
    EXPECT_EQ(level(), 1);
    EXPECT_EQ(apic_intr_ack(&apic), 0x08);
    EXPECT_EQ(pic_acks, 1);
}

TEST_F(ApicTest, ExtIntFromIoapicMessage)
{
    enable();
    apic_ioapic_deliver(&apic, 0, false, APIC_DM_EXTINT);
    EXPECT_EQ(level(), 1);
    EXPECT_EQ(apic_intr_ack(&apic), 0x08);
    EXPECT_EQ(level(), 0);
    apic_ioapic_deliver(&apic, 0x50, false, APIC_DM_LOWEST);
    EXPECT_TRUE(irr(0x50));
    apic_ioapic_deliver(&apic, 0x51, false, APIC_DM_SMI);
    EXPECT_FALSE(irr(0x51));
    apic_ioapic_deliver(&apic, 0, false, APIC_DM_NMI);
    EXPECT_EQ(nmis, 1);
}

TEST_F(ApicTest, GlobalDisableAndRelocation)
{
    enable();
    wr(0x80, 0x20);
    apic_deliver(&apic, 0x90, false);
    apic_set_base(&apic, 0xfee00000);        // bit 11 clear: globally disabled
    EXPECT_EQ(apic_get_base(&apic), 0xfee00100u); // BSP bit kept
    ASSERT_FALSE(moves.empty());
    EXPECT_FALSE(moves.back().second);
    EXPECT_EQ(rd(0x30), 0xffffffffu);        // nothing mapped any more
    EXPECT_EQ(level(), 0);
    apic_set_irq(&apic, 0, 1);               // the PIC's INTR goes straight through
    EXPECT_EQ(level(), 1);
    EXPECT_EQ(apic_intr_ack(&apic), 0x08);
    apic_set_irq(&apic, 0, 0);
    EXPECT_EQ(level(), 0);
    apic_deliver(&apic, 0x91, false);        // messages are ignored
    apic_set_base(&apic, 0xfed00800);        // re-enabled elsewhere, in reset state
    EXPECT_EQ(moves.back(), std::make_pair(0xfed00000u, true));
    EXPECT_EQ(bus_mmio_read(bus.get(), 0xfed00030, 4), 0x00050014u);
    EXPECT_EQ(bus_mmio_read(bus.get(), 0xfed00080, 4), 0u);
    EXPECT_EQ(bus_mmio_read(bus.get(), 0xfed000f0, 4), 0xffu);
    EXPECT_EQ(bus_mmio_read(bus.get(), 0xfed00200 + 0x40, 4), 0u);
    EXPECT_EQ(rd(0x30), 0xffffffffu);
    apic_reset(&apic);                       // RESET returns to 0xFEE00000
    EXPECT_EQ(rd(0x30), 0x00050014u);
}

TEST_F(ApicTest, SnapshotPostLoadRearms)
{
    enable();
    wr(0x3e0, 0xb);
    wr(0x320, 0x20034);
    wr(0x380, 100);
    apic_deliver(&apic, 0x60, false);
    run_until(250);
    Apic saved = apic;
    // a fresh APIC gets the saved state, as a snapshot load would
    timer_del(&apic.timer);
    Apic &b = apic;
    apic_init(&b, bus.get(), &clk, IrqLine{intr_set, this, 0}, &saved.cfg);
    for (const StateField *f = apic_ops.state->fields; f->name; f++) {
        size_t sz = f->type == ST_U8 ? 1 : f->type == ST_U16 ? 2 : f->type == ST_U32 ? 4
                  : f->type == ST_U64 ? 8 : 1;
        memcpy(reinterpret_cast<char *>(&b) + f->offset,
               reinterpret_cast<const char *>(&saved) + f->offset, sz * f->count);
    }
    intr.clear();
    ASSERT_EQ(apic_ops.post_load(&b), 0);
    EXPECT_EQ(level(), 1);                   // output re-driven
    EXPECT_EQ(rd(0x390), 50u);
    EXPECT_EQ(clock_next_deadline(&clk), 300u);
    EXPECT_EQ(apic_intr_ack(&apic), 0x60);
}

} // namespace
