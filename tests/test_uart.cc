// test_uart.cc — the 16550A UART through its I/O ports: divisor latch, loopback,
// FIFO trigger levels and character timeout, interrupt sources and priorities,
// overrun, output to the CharSink, OUT2 gating, and a snapshot round trip.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/uart.h"
}

namespace {

constexpr uint16_t BASE = 0x3f8;
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

struct IrqRec {
    int level = 0;
    int raises = 0;
    int calls = 0;
};

void irq_rec(void *o, int n, int level)
{
    auto *r = static_cast<IrqRec *>(o);
    if (level && !r->level) r->raises++;
    r->level = level;
    r->calls++;
}

void sink_rec(void *o, const uint8_t *buf, size_t len)
{
    auto *v = static_cast<std::vector<std::vector<uint8_t>> *>(o);
    v->emplace_back(buf, buf + len);
}

// Snapshot helper: copies exactly the fields a StateDesc lists.
void copy_state(const StateDesc *d, const void *src, void *dst)
{
    for (const StateField *f = d->fields; f->name; f++) {
        size_t sz = f->type == ST_U16 ? 2 : f->type == ST_U32 ? 4 : f->type == ST_U64 ? 8 : 1;
        std::memcpy(static_cast<char *>(dst) + f->offset,
                    static_cast<const char *>(src) + f->offset, sz * f->count);
    }
}

struct UartTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    Clock clk;
    uint64_t icount = 0;
    Uart u;
    IrqRec irq;
    std::vector<std::vector<uint8_t>> writes;

    void SetUp() override
    {
        bus_init(bus.get());
        clock_init(&clk, &icount, 0);
        uart_init(&u, bus.get(), BASE, IrqLine{irq_rec, &irq, 4}, &clk,
                  CharSink{sink_rec, &writes});
    }
    uint8_t in(int r) { return (uint8_t)bus_io_read(bus.get(), BASE + r, 1); }
    void out(int r, uint8_t v) { bus_io_write(bus.get(), BASE + r, v, 1); }
    void advance(uint64_t ns)
    {
        icount += ns; // shift 0: one instruction per ns
        clock_run_timers(&clk);
    }
    size_t recv(std::initializer_list<uint8_t> b)
    {
        std::vector<uint8_t> v(b);
        return uart_receive(&u, v.data(), v.size());
    }
    size_t recv_n(size_t n, uint8_t first = 0)
    {
        std::vector<uint8_t> v(n);
        for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(first + i);
        return uart_receive(&u, v.data(), v.size());
    }
};

TEST_F(UartTest, ResetValues)
{
    EXPECT_EQ(in(IER), 0x00);
    EXPECT_EQ(in(IIR), 0x01);
    EXPECT_EQ(in(LCR), 0x00);
    EXPECT_EQ(in(MCR), 0x00);
    EXPECT_EQ(in(LSR), 0x60);
    EXPECT_EQ(in(MSR), 0xb0);
    EXPECT_EQ(irq.level, 0);
}

TEST_F(UartTest, DivisorLatchAndLcr)
{
    out(LCR, 0x83); // DLAB, 8N1
    EXPECT_EQ(in(DLL), 12); // 9600 baud after reset
    EXPECT_EQ(in(DLM), 0);
    out(DLL, 0x01);
    out(DLM, 0x02);
    EXPECT_EQ(in(DLL), 0x01);
    EXPECT_EQ(in(DLM), 0x02);
    EXPECT_EQ(in(LCR), 0x83);
    EXPECT_EQ(u.divisor, 0x0201);
    out(LCR, 0x03);
    EXPECT_EQ(in(LCR), 0x03);
    EXPECT_EQ(in(IER), 0x00); // the latch is hidden again
    out(IER, 0xff);
    EXPECT_EQ(in(IER), 0x0f);   // only four enable bits exist
    EXPECT_EQ(u.divisor, 0x0201); // IER writes do not touch the latch
    EXPECT_TRUE(writes.empty());  // DLL writes are not transmitted
    out(SCR, 0x5a);
    EXPECT_EQ(in(SCR), 0x5a);
}

TEST_F(UartTest, OutputReachesSinkByteForByte)
{
    const std::string msg("Hi!\r\n\x00\xff", 7);
    for (char c : msg) out(THR, (uint8_t)c);
    ASSERT_EQ(writes.size(), 7u);
    for (size_t i = 0; i < 7; i++) {
        ASSERT_EQ(writes[i].size(), 1u);
        EXPECT_EQ(writes[i][0], (uint8_t)msg[i]);
    }
    EXPECT_EQ(in(LSR), 0x60); // transmitter always empty
}

TEST_F(UartTest, LoopbackEchoesAndLoopsModemLines)
{
    out(MCR, 0x10);
    out(THR, 0x41);
    EXPECT_TRUE(writes.empty()); // nothing leaves the chip in loopback
    EXPECT_EQ(in(LSR), 0x61);
    EXPECT_EQ(in(RBR), 0x41);
    EXPECT_EQ(in(LSR), 0x60);
    // Entering loopback with all outputs off dropped CTS, DSR and DCD.
    EXPECT_EQ(in(MSR), 0x0b);
    EXPECT_EQ(in(MSR), 0x00); // deltas clear on read
    out(MCR, 0x1f);           // DTR RTS OUT1 OUT2 -> DSR CTS RI DCD
    EXPECT_EQ(in(MSR), 0xfb);
    out(MCR, 0x1b); // OUT1 off: RI trailing edge
    EXPECT_EQ(in(MSR), 0xb4);
    out(MCR, 0x00); // back to the host lines: CTS DSR DCD (unchanged), RI stays off
    EXPECT_EQ(in(MSR), 0xb0);
    // External input is held while in loopback.
    out(MCR, 0x10);
    EXPECT_EQ(uart_can_receive(&u), 0u);
    EXPECT_EQ(recv({1, 2}), 0u);
}

TEST_F(UartTest, OverrunWithoutFifoKeepsNewestByte)
{
    out(MCR, 0x10);
    out(THR, 0x11);
    out(THR, 0x22);
    EXPECT_EQ(in(LSR), 0x63); // DR, OE, THRE, TEMT
    EXPECT_EQ(in(LSR), 0x61); // OE clears on read
    EXPECT_EQ(in(RBR), 0x22);
    EXPECT_EQ(in(LSR), 0x60);
}

TEST_F(UartTest, OverrunWithFifoKeepsFifo)
{
    out(FCR, 0x01);
    EXPECT_EQ(uart_can_receive(&u), 16u);
    EXPECT_EQ(recv_n(20, 0x30), 16u); // the input layer gets told what fits
    EXPECT_EQ(in(LSR) & 0x02, 0);     // nothing was lost yet
    out(MCR, 0x10);
    out(THR, 0x99); // arrives in loopback with the FIFO full
    EXPECT_EQ(in(LSR), 0x63);
    for (int i = 0; i < 16; i++) EXPECT_EQ(in(RBR), 0x30 + i);
    EXPECT_EQ(in(LSR), 0x60);
}

TEST_F(UartTest, FifoEnableAndReset)
{
    EXPECT_EQ(uart_can_receive(&u), 1u);
    out(FCR, 0x01);
    EXPECT_EQ(in(IIR) & 0xc0, 0xc0);
    recv_n(5);
    EXPECT_EQ(uart_can_receive(&u), 11u);
    out(FCR, 0x03); // receive FIFO reset
    EXPECT_EQ(in(LSR), 0x60);
    EXPECT_EQ(uart_can_receive(&u), 16u);
    recv_n(3);
    out(FCR, 0x00); // disabling clears the FIFOs too
    EXPECT_EQ(in(IIR), 0x01);
    EXPECT_EQ(in(LSR), 0x60);
    EXPECT_EQ(uart_can_receive(&u), 1u);
}

TEST_F(UartTest, TriggerLevels)
{
    const int levels[4] = {1, 4, 8, 14};
    for (int t = 0; t < 4; t++) {
        SCOPED_TRACE(t);
        out(FCR, (uint8_t)(0x07 | (t << 6)));
        out(IER, 0x01);
        out(MCR, 0x08);
        if (levels[t] > 1) {
            recv_n(levels[t] - 1);
            EXPECT_EQ(in(IIR), 0xc1);
            EXPECT_EQ(irq.level, 0);
        }
        recv_n(1);
        EXPECT_EQ(in(IIR), 0xc4);
        EXPECT_EQ(irq.level, 1);
        in(RBR); // below the trigger again
        if (levels[t] > 1) {
            EXPECT_EQ(in(IIR), 0xc1);
            EXPECT_EQ(irq.level, 0);
        }
        out(FCR, 0x07);
        EXPECT_EQ(irq.level, 0);
    }
}

TEST_F(UartTest, ReceivedDataWithoutFifo)
{
    out(IER, 0x01);
    out(MCR, 0x08);
    recv({0x55});
    EXPECT_EQ(in(IIR), 0x04);
    EXPECT_EQ(irq.level, 1);
    EXPECT_EQ(in(RBR), 0x55);
    EXPECT_EQ(in(IIR), 0x01);
    EXPECT_EQ(irq.level, 0);
    advance(100000000); // no character timeout in 16450 mode
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, CharacterTimeout)
{
    out(LCR, 0x80);
    out(DLL, 1); // 115200 baud: 4 chars of 10 bits = 347222 ns
    out(DLM, 0);
    out(LCR, 0x03);
    out(FCR, 0xc1); // trigger 14
    out(IER, 0x01);
    out(MCR, 0x08);
    recv({1, 2, 3});
    EXPECT_EQ(in(IIR), 0xc1);
    advance(347000);
    EXPECT_EQ(in(IIR), 0xc1);
    EXPECT_EQ(irq.level, 0);
    advance(300);
    EXPECT_EQ(in(IIR), 0xcc);
    EXPECT_EQ(irq.level, 1);
    // A new character does not clear a timeout already indicated.
    recv({4});
    EXPECT_EQ(in(IIR), 0xcc);
    EXPECT_EQ(in(RBR), 1); // reading clears it and restarts the timer
    EXPECT_EQ(in(IIR), 0xc1);
    EXPECT_EQ(irq.level, 0);
    advance(347222);
    EXPECT_EQ(in(IIR), 0xcc);
    EXPECT_EQ(irq.level, 1);
    in(RBR);
    in(RBR);
    EXPECT_EQ(in(RBR), 4);
    EXPECT_EQ(in(IIR), 0xc1);
    advance(10000000); // empty FIFO: no timeout
    EXPECT_EQ(in(IIR), 0xc1);
    EXPECT_EQ(irq.level, 0);
}

TEST_F(UartTest, TimeoutFollowsDivisor)
{
    out(FCR, 0x81); // trigger 8; divisor 12 after reset: 4166666 ns
    out(IER, 0x01);
    out(MCR, 0x08);
    recv({7});
    advance(4166000);
    EXPECT_EQ(in(IIR), 0xc1);
    advance(1000);
    EXPECT_EQ(in(IIR), 0xcc);
}

TEST_F(UartTest, ThrEmptyRaiseAndClear)
{
    out(MCR, 0x08);
    out(IER, 0x02); // enabling with THR empty raises at once
    EXPECT_EQ(irq.level, 1);
    EXPECT_EQ(in(IIR), 0x02); // reading IIR that shows THRE clears it
    EXPECT_EQ(irq.level, 0);
    EXPECT_EQ(in(IIR), 0x01);
    out(IER, 0x02); // already enabled: no new event
    EXPECT_EQ(in(IIR), 0x01);
    out(THR, 'x'); // after the byte went out, THR is empty again
    EXPECT_EQ(irq.level, 1);
    EXPECT_EQ(irq.raises, 2);
    out(THR, 'y');
    EXPECT_EQ(irq.raises, 3); // each byte: dropped by the write, raised when sent
    EXPECT_EQ(in(IIR), 0x02);
    EXPECT_EQ(irq.level, 0);
    out(IER, 0x00);
    out(IER, 0x02);
    EXPECT_EQ(irq.level, 1);
    out(IER, 0x00); // disabling hides it
    EXPECT_EQ(irq.level, 0);
    EXPECT_EQ(in(IIR), 0x01);
    ASSERT_EQ(writes.size(), 2u);
}

TEST_F(UartTest, ThrEmptyNotClearedByIirShowingHigherSource)
{
    out(MCR, 0x08);
    out(IER, 0x03);
    recv({0x12});
    EXPECT_EQ(in(IIR), 0x04); // data outranks THRE; THRE stays pending
    in(RBR);
    EXPECT_EQ(in(IIR), 0x02);
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, IirPriorities)
{
    out(IER, 0x0f);     // THRE becomes pending
    out(MCR, 0x10);     // loopback: modem deltas appear
    out(THR, 0xa1);     // loopback data, THRE again
    out(THR, 0xa2);     // overrun
    EXPECT_EQ(in(IIR), 0x06); // line status first
    EXPECT_EQ(in(LSR), 0x63);
    EXPECT_EQ(in(IIR), 0x04); // then received data
    EXPECT_EQ(in(RBR), 0xa2);
    EXPECT_EQ(in(IIR), 0x02); // then THR empty (cleared by this read)
    EXPECT_EQ(in(IIR), 0x00); // then modem status
    EXPECT_EQ(in(MSR), 0x0b);
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, Out2GatesIrq)
{
    out(IER, 0x02);
    EXPECT_EQ(irq.level, 0);
    out(MCR, 0x08);
    EXPECT_EQ(irq.level, 1);
    out(MCR, 0x00);
    EXPECT_EQ(irq.level, 0);
    out(MCR, 0x18); // loopback forces OUT2 inactive at the pin
    EXPECT_EQ(irq.level, 0);
    out(MCR, 0x08);
    EXPECT_EQ(irq.level, 1);
    EXPECT_EQ(in(IIR), 0x02);
    EXPECT_EQ(irq.level, 0);
}

TEST_F(UartTest, ModemStatusInterrupt)
{
    out(IER, 0x08);
    out(MCR, 0x08);
    EXPECT_EQ(irq.level, 0);
    out(MCR, 0x1b); // loopback, RTS DTR OUT2 on: CTS DSR DCD stay up, no delta
    EXPECT_EQ(in(MSR), 0xb0);
    out(MCR, 0x19); // RTS off -> CTS drops
    EXPECT_EQ(in(IIR), 0x00);
    EXPECT_EQ(in(MSR), 0xa1);
    EXPECT_EQ(in(IIR), 0x01);
}

TEST_F(UartTest, ReceiveReportsSpace)
{
    EXPECT_EQ(recv({1, 2, 3}), 1u); // 16450 mode: one holding register
    EXPECT_EQ(uart_can_receive(&u), 0u);
    EXPECT_EQ(in(RBR), 1);
    EXPECT_EQ(in(RBR), 1); // an empty RBR reads the last byte again
    EXPECT_EQ(in(LSR), 0x60);
}

TEST_F(UartTest, SnapshotRoundTrip)
{
    out(LCR, 0x80);
    out(DLL, 2);
    out(LCR, 0x03);
    out(FCR, 0xc1);
    out(IER, 0x01);
    out(MCR, 0x08);
    out(SCR, 0x77);
    recv({9, 8, 7});
    advance(1000);

    const BusRange &r = bus->io_ranges[bus->io_index[BASE]];
    ASSERT_NE(r.ops->state, nullptr);
    ASSERT_NE(r.ops->post_load, nullptr);
    EXPECT_STREQ(r.ops->name, "uart");

    std::unique_ptr<Bus> bus2{new Bus};
    bus_init(bus2.get());
    Clock clk2;
    clock_init(&clk2, &icount, 0);
    Uart u2;
    IrqRec irq2;
    uart_init(&u2, bus2.get(), BASE, IrqLine{irq_rec, &irq2, 4}, &clk2, CharSink{});
    copy_state(r.ops->state, &u, &u2);
    EXPECT_EQ(r.ops->post_load(&u2), 0);

    auto in2 = [&](int reg) { return (uint8_t)bus_io_read(bus2.get(), BASE + reg, 1); };
    EXPECT_EQ(in2(SCR), 0x77);
    EXPECT_EQ(in2(IIR), 0xc1);
    // Timeout at 2 * 347222 ns after the last character, re-armed by post_load.
    icount += 694000 - 1000;
    clock_run_timers(&clk2);
    EXPECT_EQ(in2(IIR), 0xc1);
    icount += 1000;
    clock_run_timers(&clk2);
    EXPECT_EQ(in2(IIR), 0xcc);
    EXPECT_EQ(irq2.level, 1);
    EXPECT_EQ(in2(RBR), 9);
    EXPECT_EQ(in2(RBR), 8);
    EXPECT_EQ(in2(RBR), 7);
    EXPECT_EQ(in2(LSR), 0x60);
}

TEST_F(UartTest, ResetClearsEverything)
{
    out(FCR, 0x01);
    out(IER, 0x0f);
    out(MCR, 0x08);
    recv({1, 2});
    EXPECT_EQ(irq.level, 1);
    uart_reset(&u);
    EXPECT_EQ(irq.level, 0);
    EXPECT_EQ(in(LSR), 0x60);
    EXPECT_EQ(in(IIR), 0x01);
    EXPECT_FALSE(timer_pending(&u.timeout));
}

} // namespace
