// test_rtc.cc — the MC146818 through ports 0x70/0x71 on a hand-advanced virtual clock
// (1 instruction = 1 ns): date/time fields in BCD, binary and 12-hour mode, roll-overs
// incl. leap years, the periodic, update-ended and alarm interrupts, register C,
// SET-mode writes, UIP, divider reset and a StateDesc round trip.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

extern "C" {
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/rtc.h"
}

namespace {

constexpr uint64_t SEC = 1000000000ull;
constexpr uint64_t T_2026_11_23_103000 = 1795429800; // Monday

struct RtcTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    uint64_t icount = 0;
    Clock clk;
    Rtc rtc;
    int level = 0;
    std::vector<uint64_t> raises; // virtual ns of each IRQ 8 rising edge
    bool auto_ack = false;         // read register C on every interrupt, like a handler
    std::vector<uint8_t> acks;     // the register C values those reads returned

    static void irq_set(void *opaque, int, int l)
    {
        auto *t = static_cast<RtcTest *>(opaque);
        if (l && !t->level) t->raises.push_back(clock_now(&t->clk));
        t->level = l;
    }

    void start(uint64_t unix_time)
    {
        bus_init(bus.get());
        clock_init(&clk, &icount, 0);
        rtc_init(&rtc, bus.get(), &clk, IrqLine{irq_set, this, 8}, unix_time);
        raises.clear();
    }
    void SetUp() override { start(T_2026_11_23_103000); }

    void out(uint16_t port, uint8_t v) { bus_io_write(bus.get(), port, v, 1); }
    uint8_t in(uint16_t port) { return (uint8_t)bus_io_read(bus.get(), port, 1); }
    uint8_t reg(uint8_t i) { out(0x70, i); return in(0x71); }
    void set(uint8_t i, uint8_t v) { out(0x70, i); out(0x71, v); }

    void run_until(uint64_t t)
    {
        for (;;) {
            uint64_t d = clock_next_deadline(&clk);
            if (d > t) break;
            if (d > icount) icount = d;
            clock_run_timers(&clk);
            if (auto_ack && level) acks.push_back(reg(0x0c));
        }
        icount = t;
        clock_run_timers(&clk);
        if (auto_ack && level) acks.push_back(reg(0x0c));
    }
    std::vector<uint8_t> fields() // sec min hour wday mday month year
    {
        return {reg(0), reg(2), reg(4), reg(6), reg(7), reg(8), reg(9)};
    }
};

using Bytes = std::vector<uint8_t>;

TEST_F(RtcTest, StartTimeInBcd)
{
    EXPECT_EQ(fields(), (Bytes{0x00, 0x30, 0x10, 0x02, 0x23, 0x11, 0x26}));
    EXPECT_EQ(reg(0x32), 0x20); // century from the start time
    EXPECT_EQ(reg(0x0a), 0x26);
    EXPECT_EQ(reg(0x0b), 0x02);
    EXPECT_EQ(reg(0x0d), 0x80);
    icount = 61 * SEC + 5;
    EXPECT_EQ(fields(), (Bytes{0x01, 0x31, 0x10, 0x02, 0x23, 0x11, 0x26}));
}

TEST_F(RtcTest, BinaryMode)
{
    set(0x0b, 0x06); // binary, 24 h
    icount = 3599 * SEC;
    EXPECT_EQ(fields(), (Bytes{59, 29, 11, 2, 23, 11, 26}));
}

TEST_F(RtcTest, TwelveHourMode)
{
    set(0x0b, 0x00); // BCD, 12 h
    EXPECT_EQ(reg(4), 0x10);
    icount = (uint64_t)(90 * 60) * SEC; // 12:00 noon
    EXPECT_EQ(reg(4), 0x92);
    icount += 3600 * SEC; // 13:00
    EXPECT_EQ(reg(4), 0x81);
    set(0x0b, 0x04); // binary, 12 h
    icount += 10 * 3600 * SEC; // 23:00
    EXPECT_EQ(reg(4), 0x80 | 11);
    icount += 3600 * SEC; // 00:00 midnight
    EXPECT_EQ(reg(4), 12);
    EXPECT_EQ(reg(7), 24);
}

TEST_F(RtcTest, YearRollOver)
{
    start(1798761599); // 2026-12-31 23:59:59 (Thursday)
    EXPECT_EQ(fields(), (Bytes{0x59, 0x59, 0x23, 0x05, 0x31, 0x12, 0x26}));
    icount = SEC;
    EXPECT_EQ(fields(), (Bytes{0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x27}));
}

TEST_F(RtcTest, LeapYears)
{
    start(1835395199); // 2028-02-28 23:59:59: 2028 is a leap year
    icount = SEC;
    EXPECT_EQ(fields(), (Bytes{0x00, 0x00, 0x00, 0x03, 0x29, 0x02, 0x28}));
    icount = SEC + 86400 * SEC;
    EXPECT_EQ(reg(7), 0x01);
    EXPECT_EQ(reg(8), 0x03);

    start(1772323199); // 2026-02-28 23:59:59: not a leap year
    icount = SEC;
    EXPECT_EQ(reg(7), 0x01);
    EXPECT_EQ(reg(8), 0x03);

    start(4107542399); // 2100-02-28: divisible by 100, not by 400: no Feb 29
    EXPECT_EQ(reg(0x32), 0x21);
    icount = SEC;
    EXPECT_EQ(fields(), (Bytes{0x00, 0x00, 0x00, 0x02, 0x01, 0x03, 0x00}));

    start(951782399); // 2000-02-28: divisible by 400: leap
    icount = SEC;
    EXPECT_EQ(reg(7), 0x29);
    EXPECT_EQ(reg(8), 0x02);
    EXPECT_EQ(reg(9), 0x00);
}

TEST_F(RtcTest, CenturyRollOverFromThe1900s)
{
    start(946684799); // 1999-12-31 23:59:59
    EXPECT_EQ(reg(0x32), 0x19);
    EXPECT_EQ(reg(9), 0x99);
    icount = SEC;
    EXPECT_EQ(fields(), (Bytes{0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00}));
}

TEST_F(RtcTest, PeriodicInterruptRate)
{
    auto_ack = true;
    set(0x0b, 0x42); // PIE
    run_until(SEC);
    ASSERT_EQ(raises.size(), 1024u); // RS = 6: 1024 Hz
    EXPECT_EQ(raises[0], 976563u);   // ceil(1e9 / 1024)
    EXPECT_EQ(raises[1], 1953125u);
    EXPECT_EQ(raises.back(), SEC);

    raises.clear();
    set(0x0a, 0x2f); // RS = 15: 2 Hz
    run_until(3 * SEC);
    EXPECT_EQ(raises, (std::vector<uint64_t>{SEC + SEC / 2, 2 * SEC, 2 * SEC + SEC / 2, 3 * SEC}));

    raises.clear();
    set(0x0a, 0x21); // RS = 1 aliases RS = 8: 256 Hz
    run_until(4 * SEC);
    EXPECT_EQ(raises.size(), 256u);

    raises.clear();
    set(0x0a, 0x20); // RS = 0: off
    run_until(5 * SEC);
    EXPECT_TRUE(raises.empty());
}

TEST_F(RtcTest, RegisterCReadClearsIrq)
{
    set(0x0b, 0x42);
    run_until(1000000); // first period at 976563 ns
    EXPECT_EQ(level, 1);
    EXPECT_EQ(reg(0x0c), 0xc0); // IRQF | PF
    EXPECT_EQ(level, 0);
    EXPECT_EQ(reg(0x0c), 0x00);
    run_until(1500000); // no new period yet
    EXPECT_EQ(level, 0);
    run_until(2000000);
    EXPECT_EQ(level, 1);
    EXPECT_EQ(raises.size(), 2u);
}

TEST_F(RtcTest, FlagsWithoutEnables)
{
    run_until(SEC + 1);
    EXPECT_EQ(level, 0);
    EXPECT_EQ(reg(0x0c), 0x50); // PF and UF set, no IRQF: nothing enabled
    EXPECT_EQ(reg(0x0c), 0x00);
    run_until(SEC + 2000000);
    EXPECT_EQ(reg(0x0c), 0x40); // periodic boundary passed again
    EXPECT_EQ(level, 0);
    set(0x0a, 0x20);
    run_until(SEC + 900000000);
    EXPECT_EQ(reg(0x0c), 0x00);
    // enabling a source whose flag is pending raises IRQF at once
    run_until(2 * SEC);
    set(0x0b, 0x12);
    EXPECT_EQ(level, 1);
    EXPECT_EQ(reg(0x0c), 0x90);
}

TEST_F(RtcTest, UpdateEndedOncePerSecond)
{
    auto_ack = true;
    set(0x0a, 0x20); // no periodic flag noise
    set(0x0b, 0x12); // UIE
    run_until(5 * SEC + SEC / 2);
    EXPECT_EQ(raises, (std::vector<uint64_t>{SEC, 2 * SEC, 3 * SEC, 4 * SEC, 5 * SEC}));
    auto_ack = false;
    run_until(6 * SEC);
    EXPECT_EQ(reg(0x0c), 0x90);
    EXPECT_EQ(reg(0), 0x06);
}

TEST_F(RtcTest, UpdateAndPeriodicDueTogether)
{
    // 1024 Hz boundaries coincide with every second: neither timer may swallow the other
    auto_ack = true;
    set(0x0b, 0x52); // PIE + UIE
    run_until(3 * SEC);
    int uf = 0, pf = 0;
    for (uint8_t c : acks) {
        uf += (c & 0x10) != 0;
        pf += (c & 0x40) != 0;
    }
    EXPECT_EQ(uf, 3);
    EXPECT_EQ(pf, 3 * 1024);
    // a register write exactly when an update is due must not skip it either
    acks.clear();
    auto_ack = false;
    reg(0x0c);
    icount = 4 * SEC;
    set(0x0b, 0x52);
    run_until(4 * SEC);
    EXPECT_EQ(reg(0x0c) & 0x10, 0x10);
}

TEST_F(RtcTest, UpdateInProgressWindow)
{
    icount = SEC - 244000 - 1;
    EXPECT_EQ(reg(0x0a) & 0x80, 0);
    icount = SEC - 244000;
    EXPECT_EQ(reg(0x0a) & 0x80, 0x80);
    EXPECT_EQ(reg(0), 0x00); // the old second is still visible during the update
    icount = SEC;
    EXPECT_EQ(reg(0x0a) & 0x80, 0);
    EXPECT_EQ(reg(0), 0x01);
}

TEST_F(RtcTest, AlarmExact)
{
    set(0x0a, 0x20);
    set(0x01, 0x05); // 10:30:05
    set(0x03, 0x30);
    set(0x05, 0x10);
    set(0x0b, 0x22); // AIE
    EXPECT_EQ(reg(0x01), 0x05);
    run_until(4 * SEC + SEC / 2);
    EXPECT_EQ(level, 0);
    run_until(5 * SEC);
    EXPECT_EQ(level, 1);
    EXPECT_EQ(raises, std::vector<uint64_t>{5 * SEC});
    EXPECT_EQ(reg(0x0c), 0xb0); // IRQF | AF | UF
    run_until(100 * SEC);
    EXPECT_EQ(level, 0);
}

TEST_F(RtcTest, AlarmDontCare)
{
    auto_ack = true;
    set(0x0a, 0x20);
    set(0x01, 0x00); // at second 0 of every minute and hour
    set(0x03, 0xc0);
    set(0x05, 0xff);
    set(0x0b, 0x22);
    run_until(181 * SEC);
    EXPECT_EQ(raises, (std::vector<uint64_t>{60 * SEC, 120 * SEC, 180 * SEC}));
}

TEST_F(RtcTest, AlarmIn12HourMode)
{
    auto_ack = true;
    set(0x0a, 0x20);
    set(0x0b, 0x20); // AIE, BCD, 12 h
    set(0x01, 0xff);
    set(0x03, 0xff);
    set(0x05, 0x81); // 1 PM, every second of that hour
    run_until(14000 * SEC);
    ASSERT_EQ(raises.size(), 3600u); // 13:00:00 .. 13:59:59
    EXPECT_EQ(raises[0], (uint64_t)(150 * 60) * SEC); // 13:00:00
}

TEST_F(RtcTest, SetModeWrites)
{
    set(0x0b, 0x12); // UIE
    icount = SEC / 2;
    set(0x0b, 0x82); // SET: updates stop, UIE forced off
    EXPECT_EQ(reg(0x0b), 0x82);
    set(0x00, 0x45);
    set(0x02, 0x59);
    set(0x04, 0x23);
    set(0x07, 0x31);
    set(0x08, 0x12);
    set(0x09, 0x99);
    run_until(10 * SEC);
    // the weekday is whatever the image held (the guest did not write it)
    EXPECT_EQ(fields(), (Bytes{0x45, 0x59, 0x23, 0x02, 0x31, 0x12, 0x99}));
    EXPECT_EQ(reg(0x0a) & 0x80, 0); // no UIP while SET
    EXPECT_EQ(reg(0x0c) & 0x10, 0); // and no updates
    set(0x0b, 0x02);
    run_until(10 * SEC + 14 * SEC + SEC / 2);
    EXPECT_EQ(reg(0), 0x59);
    run_until(25 * SEC);
    EXPECT_EQ(fields(), (Bytes{0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00})); // 2100-01-01 Fri
    EXPECT_EQ(reg(0x32), 0x20); // the century byte is plain RAM
}

TEST_F(RtcTest, WritesOutsideSetKeepSecondPhase)
{
    icount = SEC / 4;
    set(0x0b, 0x06); // binary 24 h
    set(0x02, 0);    // minute := 0
    EXPECT_EQ(fields(), (Bytes{0, 0, 10, 2, 23, 11, 26}));
    icount = SEC;
    EXPECT_EQ(reg(0), 1); // the second still ticks at the old phase
    set(0x08, 2);         // February 23 2026
    set(0x07, 28);
    icount = SEC + 14 * 3600 * SEC - SEC; // + 13:59:59 from 10:00:01
    EXPECT_EQ(fields(), (Bytes{0, 0, 0, 1, 1, 3, 26})); // March 1 2026 is a Sunday
    set(0x08, 13); // no such month: ignored
    EXPECT_EQ(reg(8), 3);
}

TEST_F(RtcTest, DividerResetHoldsTime)
{
    run_until(3 * SEC + 100);
    set(0x0a, 0x76); // divider chain reset
    run_until(100 * SEC);
    EXPECT_EQ(reg(0), 0x03);
    EXPECT_EQ(reg(0x0c) & 0x50, 0x50); // flags from before the reset only
    run_until(110 * SEC);
    EXPECT_EQ(reg(0x0c), 0x00);
    set(0x0a, 0x26);
    run_until(110 * SEC + SEC / 2 - 1);
    EXPECT_EQ(reg(0), 0x03);
    run_until(110 * SEC + SEC / 2); // first update 500 ms after the chain restarts
    EXPECT_EQ(reg(0), 0x04);
    EXPECT_EQ(reg(0x0c) & 0x10, 0x10);
    set(0x0b, 0x82); // SET: the next update comes a full second after its release
    set(0x0b, 0x02);
    run_until(111 * SEC + SEC / 2 - 1);
    EXPECT_EQ(reg(0), 0x04);
    run_until(111 * SEC + SEC / 2);
    EXPECT_EQ(reg(0), 0x05);
}

TEST_F(RtcTest, IndexPortCmosRamAndBoardAccess)
{
    out(0x70, 0x80 | 0x40); // NMI disable + index 0x40
    EXPECT_TRUE(rtc.nmi_disabled);
    out(0x71, 0xab);
    EXPECT_EQ(in(0x71), 0xab);
    EXPECT_EQ(rtc_get_cmos(&rtc, 0x40), 0xab);
    out(0x70, 0x10);
    EXPECT_FALSE(rtc.nmi_disabled);
    rtc_set_cmos(&rtc, 0x10, 0x44); // floppy types, say
    EXPECT_EQ(in(0x71), 0x44);
    EXPECT_EQ(rtc_get_cmos(&rtc, 0x02), 0x30); // clock registers are derived
    EXPECT_EQ(rtc_get_cmos(&rtc, 0x0d), 0x80);
    set(0x0d, 0x00);
    EXPECT_EQ(reg(0x0d), 0x80); // read-only
    out(0x70, 0xff);
    EXPECT_EQ(in(0x71), rtc_get_cmos(&rtc, 0x7f));
    EXPECT_EQ(rtc_get_cmos(&rtc, 200), 0xff);
}

TEST_F(RtcTest, ResetClearsEnablesAndFlagsNotTime)
{
    set(0x0b, 0x7a);
    run_until(SEC);
    EXPECT_EQ(level, 1);
    rtc_reset(&rtc);
    EXPECT_EQ(level, 0);
    EXPECT_EQ(reg(0x0b), 0x02);
    EXPECT_EQ(reg(0x0c), 0x00);
    EXPECT_EQ(reg(0), 0x01);
}

TEST_F(RtcTest, StateRoundTrip)
{
    auto_ack = true;
    set(0x0a, 0x2f); // 2 Hz
    set(0x0b, 0x42);
    run_until(SEC + SEC / 4);
    const DeviceOps *ops = bus->io_ranges[bus->io_index[0x70]].ops;
    ASSERT_NE(ops->state, nullptr);
    static const unsigned sizes[] = {1, 2, 4, 8, 1};
    int nfields = 0;
    for (const StateField *f = ops->state->fields; f->name; f++) nfields++;
    EXPECT_EQ(nfields, 10); // all but the wiring (clock, irq) and the Timer objects
    std::vector<uint8_t> saved;
    for (const StateField *f = ops->state->fields; f->name; f++) {
        auto *p = reinterpret_cast<uint8_t *>(&rtc) + f->offset;
        saved.insert(saved.end(), p, p + f->count * sizes[f->type]);
    }
    set(0x0b, 0x06); // scramble
    set(0x00, 0x33);
    size_t pos = 0;
    for (const StateField *f = ops->state->fields; f->name; f++) {
        size_t n = f->count * sizes[f->type];
        memcpy(reinterpret_cast<uint8_t *>(&rtc) + f->offset, &saved[pos], n);
        pos += n;
    }
    EXPECT_EQ(ops->post_load(&rtc), 0);
    raises.clear();
    run_until(2 * SEC + SEC / 4);
    EXPECT_EQ(raises, (std::vector<uint64_t>{SEC + SEC / 2, 2 * SEC}));
    EXPECT_EQ(reg(0), 0x02);
}

} // namespace
