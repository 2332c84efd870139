// test_pit.cc — the 8254 through ports 0x40-0x43 and 0x61 against a virtual clock
// driven by a hand-advanced instruction counter (1 instruction = 1 ns): counts read
// back at chosen virtual times in every mode, latch and read-back, IRQ 0 edges at the
// exact nanosecond, the channel 2 gate and port 0x61.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <utility>
#include <vector>

extern "C" {
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/pic.h"
#include "devices/pit.h"
}

namespace {

// First ns at which `ticks` input clocks have elapsed (independent of pit.c).
uint64_t tick_ns(uint64_t ticks) { return (ticks * 1000000000ull + 1193181) / 1193182; }

struct PitTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    uint64_t icount = 0;
    Clock clk;
    Pit pit;
    std::vector<std::pair<uint64_t, int>> edges; // (virtual ns, new IRQ 0 level)

    static void irq_set(void *opaque, int, int level)
    {
        auto *t = static_cast<PitTest *>(opaque);
        t->edges.push_back({clock_now(&t->clk), level});
    }

    void SetUp() override
    {
        bus_init(bus.get());
        clock_init(&clk, &icount, 0);
        pit_init(&pit, bus.get(), &clk, IrqLine{irq_set, this, 0});
        edges.clear();
    }
    void out(uint16_t port, uint8_t v) { bus_io_write(bus.get(), port, v, 1); }
    uint8_t in(uint16_t port) { return (uint8_t)bus_io_read(bus.get(), port, 1); }

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
    void program(int ch, uint8_t ctrl, uint16_t count)
    {
        out(0x43, (uint8_t)(ch << 6) | ctrl);
        out(0x40 + ch, count & 0xff);
        out(0x40 + ch, count >> 8);
    }
    uint16_t latch_read(int ch)
    {
        out(0x43, (uint8_t)(ch << 6));
        uint16_t lo = in(0x40 + ch);
        return lo | in(0x40 + ch) << 8;
    }
    uint8_t status(int ch)
    {
        out(0x43, 0xe0 | (2 << ch)); // read-back, status only
        return in(0x40 + ch);
    }
    // Rising edges recorded in [from, to].
    std::vector<uint64_t> rises(uint64_t from = 0, uint64_t to = UINT64_MAX)
    {
        std::vector<uint64_t> r;
        for (auto &e : edges)
            if (e.second && e.first >= from && e.first <= to) r.push_back(e.first);
        return r;
    }
};

TEST_F(PitTest, ConversionHelperMatchesHandValues)
{
    EXPECT_EQ(tick_ns(1000), 838096u);
    EXPECT_EQ(tick_ns(999), 837258u);
}

TEST_F(PitTest, Mode2CountsAtVirtualTimes)
{
    program(0, 0x34, 1000);
    run_until(100000); // 119 ticks
    EXPECT_EQ(latch_read(0), 1000 - 119);
    run_until(1000000); // 1193 ticks
    EXPECT_EQ(latch_read(0), 1000 - 193);
    run_until(10000000); // 11931 ticks
    EXPECT_EQ(latch_read(0), 1000 - 931);
}

TEST_F(PitTest, Mode2Irq0Edges)
{
    program(0, 0x34, 1000);
    run_until(2600000);
    // out high after programming, one-clock low pulse before each reload
    ASSERT_GE(edges.size(), 7u);
    EXPECT_EQ(edges[0], std::make_pair(uint64_t(0), 1));
    EXPECT_EQ(edges[1], std::make_pair(uint64_t(837258), 0));
    EXPECT_EQ(edges[2], std::make_pair(uint64_t(838096), 1));
    std::vector<uint64_t> want = {0, tick_ns(1000), tick_ns(2000), tick_ns(3000)};
    EXPECT_EQ(rises(), want);
    EXPECT_EQ(want[3], 2514286u);
}

TEST_F(PitTest, Mode2LongRunDoesNotDrift)
{
    program(0, 0x34, 0); // 65536
    run_until(1000000000);
    auto r = rises(1);
    ASSERT_EQ(r.size(), 18u); // 18.2 Hz
    for (size_t k = 0; k < r.size(); k++) EXPECT_EQ(r[k], tick_ns(65536 * (k + 1)));
}

TEST_F(PitTest, Mode3SquareWave)
{
    program(0, 0x36, 1000);
    run_until(tick_ns(100));
    EXPECT_EQ(latch_read(0), 800);       // decrements by two
    EXPECT_EQ(status(0) & 0x80, 0x80);   // first half high
    run_until(tick_ns(600));
    EXPECT_EQ(latch_read(0), 800);
    EXPECT_EQ(status(0), 0x36);          // second half low, mode 3, LSB/MSB
    run_until(tick_ns(3000) + 10);
    std::vector<uint64_t> want = {0, tick_ns(1000), tick_ns(2000), tick_ns(3000)};
    EXPECT_EQ(rises(), want);
    // falling edges at the half periods
    std::vector<uint64_t> falls;
    for (auto &e : edges)
        if (!e.second) falls.push_back(e.first);
    std::vector<uint64_t> wantf = {tick_ns(500), tick_ns(1500), tick_ns(2500)};
    EXPECT_EQ(falls, wantf);
}

TEST_F(PitTest, Mode3OddCountIsHighLonger)
{
    program(0, 0x36, 5);
    run_until(tick_ns(5) * 3);
    std::vector<uint64_t> falls;
    for (auto &e : edges)
        if (!e.second) falls.push_back(e.first);
    ASSERT_GE(falls.size(), 2u);
    EXPECT_EQ(falls[0], tick_ns(3)); // high for (5+1)/2 clocks, low for 2
    EXPECT_EQ(falls[1], tick_ns(8));
    EXPECT_EQ(rises(1)[0], tick_ns(5));
}

TEST_F(PitTest, Mode0OneShot)
{
    out(0x43, 0x30);
    EXPECT_EQ(status(0) & 0xc0, 0x40); // OUT low, null count until the count arrives
    out(0x40, 100);
    out(0x40, 0);
    run_until(1000000);
    ASSERT_EQ(edges.size(), 1u); // OUT was already low: the one edge is terminal count
    EXPECT_EQ(edges[0], std::make_pair(tick_ns(100), 1));
    EXPECT_EQ(edges[0].first, 83810u);
    // the counter keeps counting down through zero
    run_until(tick_ns(150));
    EXPECT_EQ(latch_read(0), 65536 - 50);
    EXPECT_EQ(status(0), 0x80 | 0x30);
    // a new count restarts the one-shot: OUT drops on the first byte
    out(0x40, 10);
    EXPECT_EQ(edges.back().second, 0);
    out(0x40, 0);
    uint64_t t0 = icount;
    run_until(t0 + 100000);
    EXPECT_EQ(rises(t0), std::vector<uint64_t>{t0 + tick_ns(10)});
}

TEST_F(PitTest, Mode4SoftwareStrobe)
{
    program(0, 0x38, 10);
    run_until(100000);
    // high from the start, low for one clock at terminal count, rising at 11
    ASSERT_EQ(edges.size(), 3u);
    EXPECT_EQ(edges[1], std::make_pair(tick_ns(10), 0));
    EXPECT_EQ(edges[2], std::make_pair(tick_ns(11), 1));
}

TEST_F(PitTest, LsbOnlyAndMsbOnly)
{
    out(0x43, 0x54); // ch1, LSB only, mode 2
    out(0x41, 0x80);
    run_until(tick_ns(0x10));
    EXPECT_EQ(in(0x41), 0x70);
    EXPECT_EQ(in(0x41), 0x70); // LSB only: every read is the low byte
    out(0x43, 0x64);           // ch1, MSB only, mode 2
    out(0x41, 0x02);           // count 0x200
    uint64_t t0 = icount;
    run_until(t0 + tick_ns(0x101));
    EXPECT_EQ(in(0x41), 0x00); // 0x200 - 0x101 = 0xff: high byte 0
    out(0x43, 0x40);           // latch
    EXPECT_EQ(in(0x41), 0x00);
}

TEST_F(PitTest, LiveReadsAlternateLowHigh)
{
    program(1, 0x34, 0x1234);
    run_until(tick_ns(0x34));
    EXPECT_EQ(in(0x41), 0x00);
    EXPECT_EQ(in(0x41), 0x12);
    EXPECT_EQ(in(0x41), 0x00);
}

TEST_F(PitTest, LatchFreezesValueAndIgnoresSecondLatch)
{
    program(0, 0x34, 5000);
    run_until(tick_ns(1000));
    out(0x43, 0x00);
    run_until(tick_ns(2000));
    out(0x43, 0x00); // ignored: the first latch has not been read
    EXPECT_EQ(in(0x40), (4000) & 0xff);
    run_until(tick_ns(2500));
    EXPECT_EQ(in(0x40), 4000 >> 8);
    EXPECT_EQ(latch_read(0), 2500); // a fresh latch now
}

TEST_F(PitTest, ReadBackStatusAndCount)
{
    out(0x43, 0x34);
    EXPECT_EQ(status(0), 0x80 | 0x40 | 0x34); // OUT high, null count
    out(0x40, 0x00);
    out(0x40, 0x10); // 0x1000
    run_until(tick_ns(0x100));
    out(0x43, 0xc2); // latch count and status of channel 0
    run_until(tick_ns(0x200));
    EXPECT_EQ(in(0x40), 0x80 | 0x34); // status first
    EXPECT_EQ(in(0x40), 0x00);        // then the count latched at 0x100 ticks
    EXPECT_EQ(in(0x40), 0x0f);
    // read-back of several channels at once
    program(2, 0xb0, 0x0100); // ch2 mode 0, gate low: holds
    out(0x43, 0xcc);          // count+status of ch1 and ch2
    EXPECT_EQ(in(0x42), 0x30); // OUT low, count loaded, mode 0
    EXPECT_EQ(in(0x42), 0x00);
    EXPECT_EQ(in(0x42), 0x01);
    EXPECT_EQ(in(0x41), 0x00); // ch1 never programmed: status 0
}

TEST_F(PitTest, BcdCounting)
{
    out(0x43, 0x31); // ch0, LSB/MSB, mode 0, BCD
    out(0x40, 0x00);
    out(0x40, 0x10); // 1000 decimal
    run_until(tick_ns(500));
    EXPECT_EQ(latch_read(0), 0x0500);
    run_until(tick_ns(1193));
    EXPECT_EQ(latch_read(0), 0x9807); // wrapped modulo 10000
    EXPECT_EQ(rises(), std::vector<uint64_t>{tick_ns(1000)});
    out(0x43, 0x35); // BCD mode 2, count 0 = 10000
    out(0x40, 0);
    out(0x40, 0);
    uint64_t t0 = icount;
    run_until(t0 + tick_ns(1));
    EXPECT_EQ(latch_read(0), 0x9999);
}

TEST_F(PitTest, Channel2GateAndPort61)
{
    program(2, 0xb0, 1000); // mode 0, gate is low after reset
    EXPECT_EQ(in(0x61) & 0x21, 0x00);
    run_until(tick_ns(5000));
    EXPECT_EQ(latch_read(2), 1000); // not counting without the gate
    out(0x61, 0x01);
    EXPECT_EQ(in(0x61) & 0x03, 0x01);
    uint64_t t0 = icount;
    run_until(t0 + tick_ns(400));
    EXPECT_EQ(latch_read(2), 600);
    out(0x61, 0x00); // pause
    run_until(t0 + tick_ns(5000));
    EXPECT_EQ(latch_read(2), 600);
    out(0x61, 0x03);
    uint64_t t1 = icount;
    run_until(t1 + tick_ns(599));
    EXPECT_EQ(in(0x61) & 0x20, 0x00);
    run_until(t1 + tick_ns(600));
    EXPECT_EQ(in(0x61) & 0x23, 0x23); // OUT 2 high at terminal count
    EXPECT_TRUE(edges.empty()); // channel 2 never touches IRQ 0
}

TEST_F(PitTest, Channel2SquareWaveOnPort61)
{
    out(0x61, 0x03);
    program(2, 0xb6, 100);
    uint64_t t0 = icount;
    run_until(t0 + tick_ns(49));
    EXPECT_EQ(in(0x61) & 0x20, 0x20);
    run_until(t0 + tick_ns(50));
    EXPECT_EQ(in(0x61) & 0x20, 0x00);
    run_until(t0 + tick_ns(100));
    EXPECT_EQ(in(0x61) & 0x20, 0x20);
    run_until(t0 + tick_ns(160));
    EXPECT_EQ(in(0x61) & 0x20, 0x00);
    out(0x61, 0x02); // gate low forces OUT high in mode 3
    EXPECT_EQ(in(0x61) & 0x20, 0x20);
    out(0x61, 0x03); // rising gate reloads
    uint64_t t1 = icount;
    run_until(t1 + tick_ns(10));
    EXPECT_EQ(latch_read(2), 80);
}

TEST_F(PitTest, Mode1And5GateTriggered)
{
    program(2, 0xb2, 100); // mode 1
    EXPECT_EQ(in(0x61) & 0x20, 0x20); // high until triggered
    run_until(tick_ns(300));
    EXPECT_EQ(in(0x61) & 0x20, 0x20);
    out(0x61, 0x01); // trigger
    uint64_t t0 = icount;
    EXPECT_EQ(in(0x61) & 0x20, 0x00);
    run_until(t0 + tick_ns(30));
    EXPECT_EQ(latch_read(2), 70);
    out(0x61, 0x00);
    out(0x61, 0x01); // retrigger restarts the one-shot
    uint64_t t1 = icount;
    run_until(t1 + tick_ns(99));
    EXPECT_EQ(in(0x61) & 0x20, 0x00);
    run_until(t1 + tick_ns(100));
    EXPECT_EQ(in(0x61) & 0x20, 0x20);

    out(0x61, 0x00);
    program(2, 0xba, 20); // mode 5
    out(0x61, 0x01);
    uint64_t t2 = icount;
    run_until(t2 + tick_ns(20));
    EXPECT_EQ(in(0x61) & 0x20, 0x00); // strobe
    run_until(t2 + tick_ns(21));
    EXPECT_EQ(in(0x61) & 0x20, 0x20);
}

TEST_F(PitTest, Mode6And7AliasAndRefreshToggle)
{
    out(0x43, 0x3c); // mode 6 -> 2
    out(0x40, 10);
    out(0x40, 0);
    EXPECT_EQ(status(0) & 0x0e, 0x0c); // status reports the bits as written
    run_until(tick_ns(20) + 1);
    EXPECT_EQ(rises(1), (std::vector<uint64_t>{tick_ns(10), tick_ns(20)}));
    icount = 0;
    EXPECT_EQ(in(0x61) & 0x10, 0x00);
    icount = 15085;
    EXPECT_EQ(in(0x61) & 0x10, 0x10);
    icount = 30169;
    EXPECT_EQ(in(0x61) & 0x10, 0x10);
    icount = 30170;
    EXPECT_EQ(in(0x61) & 0x10, 0x00);
}

TEST_F(PitTest, LateTimerCoalescesButKeepsEdge)
{
    program(0, 0x34, 100);
    edges.clear();
    icount = tick_ns(1050); // ten periods pass without timers running
    clock_run_timers(&clk);
    auto r = rises();
    ASSERT_EQ(r.size(), 1u); // at least one rising edge reaches the PIC
    run_until(tick_ns(1200));
    r = rises();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[1], tick_ns(1100)); // back on the original phase
    EXPECT_EQ(r[2], tick_ns(1200));
}

TEST_F(PitTest, NewCountInMode2WaitsForEndOfCycle)
{
    program(0, 0x34, 1000);
    run_until(tick_ns(300));
    out(0x40, 500 & 0xff); // no control word: the running cycle completes first
    out(0x40, 500 >> 8);
    EXPECT_EQ(status(0) & 0x40, 0x40); // null count until the reload
    run_until(tick_ns(600));
    EXPECT_EQ(latch_read(0), 400);
    run_until(tick_ns(1100));
    EXPECT_EQ(latch_read(0), 400); // 100 ticks into the new 500-tick cycle
    EXPECT_EQ(status(0) & 0x40, 0x00);
    run_until(tick_ns(2001));
    EXPECT_EQ(rises(1), (std::vector<uint64_t>{tick_ns(1000), tick_ns(1500), tick_ns(2000)}));
}

TEST_F(PitTest, NewCountInMode3WithGateLowLoadsOnGate)
{
    out(0x61, 0x01);
    program(2, 0xb6, 100);
    run_until(tick_ns(30));
    out(0x61, 0x00); // stop: OUT high, count frozen
    out(0x42, 40);
    out(0x42, 0);
    run_until(tick_ns(500));
    out(0x61, 0x01); // the rising gate loads the new count
    uint64_t t0 = icount;
    run_until(t0 + tick_ns(19));
    EXPECT_EQ(in(0x61) & 0x20, 0x20);
    run_until(t0 + tick_ns(20));
    EXPECT_EQ(in(0x61) & 0x20, 0x00);
    run_until(t0 + tick_ns(40));
    EXPECT_EQ(in(0x61) & 0x20, 0x20);
}

// Channel 0 wired to a real PIC: one IRQ 0 vector per period, as a guest sees it.
TEST(PitPic, Irq0ThroughPic)
{
    std::unique_ptr<Bus> bus{new Bus};
    uint64_t icount = 0;
    Clock clk;
    Pic pic;
    Pit pit;
    int intr = 0;
    bus_init(bus.get());
    clock_init(&clk, &icount, 0);
    pic_init(&pic, bus.get(), IrqLine{[](void *o, int, int l) { *static_cast<int *>(o) = l; },
                                      &intr, 0});
    pit_init(&pit, bus.get(), &clk, pic_irq(&pic, 0));
    auto out = [&](uint16_t port, uint8_t v) { bus_io_write(bus.get(), port, v, 1); };
    for (uint8_t v : {0x11, 0x08, 0x04, 0x01}) out(v == 0x11 ? 0x20 : 0x21, v);
    out(0x21, 0xfe);
    out(0x43, 0x34);
    out(0x40, 1193 & 0xff); // ~1 ms
    out(0x40, 1193 >> 8);
    std::vector<uint64_t> acks;
    const uint64_t end = 10 * tick_ns(1193) + 1000;
    while (icount < end) {
        uint64_t d = clock_next_deadline(&clk);
        icount = d < end ? d : end;
        clock_run_timers(&clk);
        if (intr) {
            EXPECT_EQ(pic_intr_ack(&pic), 0x08);
            acks.push_back(icount);
            out(0x20, 0x20);
        }
    }
    ASSERT_EQ(acks.size(), 11u); // the rising edge at programming time, then 10 periods
    for (size_t k = 1; k < acks.size(); k++) EXPECT_EQ(acks[k], tick_ns(1193 * k));
}

// Save through the StateDesc, reset, load, post_load: IRQ 0 continues on schedule.
TEST_F(PitTest, StateRoundTrip)
{
    program(0, 0x34, 1000);
    program(2, 0xb6, 300);
    run_until(tick_ns(1500));
    const DeviceOps *ops = bus->io_ranges[bus->io_index[0x40]].ops;
    ASSERT_NE(ops->state, nullptr);
    std::vector<uint8_t> saved;
    static const unsigned sizes[] = {1, 2, 4, 8, 1};
    int nfields = 0;
    for (const StateField *f = ops->state->fields; f->name; f++) nfields++;
    EXPECT_EQ(nfields, 3 * 23 + 1); // every PitChannel field of each channel, and port61
    for (const StateField *f = ops->state->fields; f->name; f++) {
        size_t n = f->count * sizes[f->type];
        auto *p = reinterpret_cast<uint8_t *>(&pit) + f->offset;
        saved.insert(saved.end(), p, p + n);
    }
    uint16_t c2 = latch_read(2);
    ops->reset(&pit);
    EXPECT_EQ(latch_read(0), 0);
    size_t pos = 0;
    for (const StateField *f = ops->state->fields; f->name; f++) {
        size_t n = f->count * sizes[f->type];
        memcpy(reinterpret_cast<uint8_t *>(&pit) + f->offset, &saved[pos], n);
        pos += n;
    }
    EXPECT_EQ(ops->post_load(&pit), 0);
    EXPECT_EQ(latch_read(2), c2);
    edges.clear();
    run_until(tick_ns(3000));
    EXPECT_EQ(rises(), (std::vector<uint64_t>{tick_ns(2000), tick_ns(3000)}));
}

} // namespace
