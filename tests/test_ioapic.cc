// test_ioapic.cc — the 82093AA IOAPIC through IOREGSEL/IOWIN on a Bus, delivering to a
// recording callback and, end to end, to a real local APIC: register reset values,
// redirection programming, edge and level pins, remote IRR held until the EOI and
// re-delivery while the input is still asserted, masking, and the destination check.
#include <gtest/gtest.h>

#include <memory>
#include <tuple>
#include <vector>

extern "C" {
#include "devices/apic.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/ioapic.h"
}

namespace {

constexpr uint32_t BASE = 0xfec00000u;
using Msg = std::tuple<uint8_t, bool, uint8_t>; // vector, level, mode

struct IoapicTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    Ioapic io;
    std::vector<Msg> msgs;

    static void deliver(void *o, uint8_t vector, bool level, uint8_t mode)
    {
        static_cast<IoapicTest *>(o)->msgs.push_back(Msg{vector, level, mode});
    }
    void SetUp() override
    {
        bus_init(bus.get());
        ioapic_init(&io, bus.get(), BASE, 0, deliver, this);
    }
    uint32_t reg(uint8_t r)
    {
        bus_mmio_write(bus.get(), BASE, r, 4);
        return bus_mmio_read(bus.get(), BASE + 0x10, 4);
    }
    void set_reg(uint8_t r, uint32_t v)
    {
        bus_mmio_write(bus.get(), BASE, r, 4);
        bus_mmio_write(bus.get(), BASE + 0x10, v, 4);
    }
    void route(int pin, uint32_t lo, uint32_t hi = 0)
    {
        set_reg(0x11 + 2 * pin, hi);
        set_reg(0x10 + 2 * pin, lo);
    }
};

TEST_F(IoapicTest, ResetValuesAndIdRegisters)
{
    EXPECT_EQ(reg(0x00), 0u);
    EXPECT_EQ(reg(0x01), 0x00170011u);
    EXPECT_EQ(reg(0x02), 0u);
    for (int pin = 0; pin < 24; pin++) {
        EXPECT_EQ(reg(0x10 + 2 * pin), 0x10000u) << pin;
        EXPECT_EQ(reg(0x11 + 2 * pin), 0u) << pin;
    }
    set_reg(0x00, 0xffffffff);
    EXPECT_EQ(reg(0x00), 0x0f000000u);
    EXPECT_EQ(reg(0x02), 0x0f000000u);       // arbitration ID follows the ID
    set_reg(0x01, 0);
    set_reg(0x02, 0);
    EXPECT_EQ(reg(0x01), 0x00170011u);
    EXPECT_EQ(reg(0x02), 0x0f000000u);
    EXPECT_EQ(reg(0x40), 0u);                // beyond the table
    EXPECT_EQ(bus_mmio_read(bus.get(), BASE, 4), 0x40u); // IOREGSEL reads back
    bus_mmio_write(bus.get(), BASE, 0x01, 1);            // byte write to IOREGSEL
    EXPECT_EQ(bus_mmio_read(bus.get(), BASE + 0x10, 4), 0x00170011u);
    EXPECT_EQ(bus_mmio_read(bus.get(), BASE + 0x12, 1), 0x17u);
    ioapic_reset(&io);
    EXPECT_EQ(reg(0x00), 0u);
}

TEST_F(IoapicTest, RedirectionProgramming)
{
    set_reg(0x10 + 2 * 5, 0xffffffff);
    set_reg(0x11 + 2 * 5, 0xffffffff);
    EXPECT_EQ(reg(0x10 + 2 * 5), 0x0001afffu); // delivery status, remote IRR: RO
    EXPECT_EQ(reg(0x11 + 2 * 5), 0xff000000u);
    route(23, 0x000009a1, 0x03000000);          // lowest priority, logical
    EXPECT_EQ(reg(0x10 + 2 * 23), 0x000009a1u);
    EXPECT_EQ(reg(0x11 + 2 * 23), 0x03000000u);
    bus_mmio_write(bus.get(), BASE, 0x10 + 2 * 23, 4);
    bus_mmio_write(bus.get(), BASE + 0x10, 0x55, 1);  // narrow IOWIN write: dropped
    EXPECT_EQ(reg(0x10 + 2 * 23), 0x000009a1u);
}

TEST_F(IoapicTest, EdgeInterrupt)
{
    route(4, 0x34);
    ioapic_set_irq(&io, 4, 1);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], Msg(0x34, false, 0));
    ioapic_set_irq(&io, 4, 1);               // no new edge
    ioapic_set_irq(&io, 4, 0);
    EXPECT_EQ(msgs.size(), 1u);
    IrqLine l = ioapic_irq(&io, 4);
    irq_pulse(&l);
    EXPECT_EQ(msgs.size(), 2u);
    EXPECT_EQ(reg(0x10 + 2 * 4), 0x34u);     // no remote IRR for edge
}

TEST_F(IoapicTest, MaskedPinsIgnoreInput)
{
    route(3, 0x10033);                       // masked
    ioapic_set_irq(&io, 3, 1);
    ioapic_set_irq(&io, 3, 0);
    EXPECT_TRUE(msgs.empty());
    route(3, 0x33);                          // unmasking does not replay a lost edge
    EXPECT_TRUE(msgs.empty());
    route(9, 0x1a039);                       // masked level, active low (stored only)
    ioapic_set_irq(&io, 9, 1);
    EXPECT_TRUE(msgs.empty());
    route(9, 0xa039);                        // unmasking an asserted level pin delivers
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], Msg(0x39, true, 0));
    ioapic_set_irq(&io, 25, 1);              // out of range: ignored
    ioapic_set_irq(&io, -1, 1);
    EXPECT_EQ(msgs.size(), 1u);
}

TEST_F(IoapicTest, LevelRemoteIrrUntilEoi)
{
    route(11, 0x8041);
    ioapic_set_irq(&io, 11, 1);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], Msg(0x41, true, 0));
    EXPECT_EQ(reg(0x10 + 2 * 11), 0xc041u);  // remote IRR set
    ioapic_set_irq(&io, 11, 0);
    ioapic_set_irq(&io, 11, 1);              // held by remote IRR
    EXPECT_EQ(msgs.size(), 1u);
    ioapic_eoi(&io, 0x42);                   // another vector: no effect
    EXPECT_EQ(reg(0x10 + 2 * 11), 0xc041u);
    ioapic_eoi(&io, 0x41);                   // still asserted: delivered again
    EXPECT_EQ(msgs.size(), 2u);
    EXPECT_EQ(reg(0x10 + 2 * 11), 0xc041u);
    ioapic_set_irq(&io, 11, 0);
    ioapic_eoi(&io, 0x41);
    EXPECT_EQ(msgs.size(), 2u);
    EXPECT_EQ(reg(0x10 + 2 * 11), 0x8041u);
    // switching the entry to edge clears remote IRR
    ioapic_set_irq(&io, 11, 1);
    EXPECT_EQ(reg(0x10 + 2 * 11), 0xc041u);
    route(11, 0x10041);
    EXPECT_EQ(reg(0x10 + 2 * 11), 0x10041u);
}

TEST_F(IoapicTest, DeliveryModesAndDestination)
{
    route(0, 0x700);                         // ExtINT
    route(1, 0x400);                         // NMI (edge)
    route(2, 0x8200);                        // SMI, level: no remote IRR
    ioapic_set_irq(&io, 0, 1);
    ioapic_set_irq(&io, 1, 1);
    ioapic_set_irq(&io, 2, 1);
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_EQ(msgs[0], Msg(0, false, 7));
    EXPECT_EQ(msgs[1], Msg(0, false, 4));
    EXPECT_EQ(msgs[2], Msg(0, false, 2));
    EXPECT_EQ(reg(0x10 + 2 * 2), 0x8200u);
}

// End to end: IOAPIC -> local APIC -> EOI broadcast -> IOAPIC.
struct IoapicApicTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    uint64_t icount = 0;
    Clock clk;
    Apic apic;
    Ioapic io;
    int intr = 0;

    static void intr_set(void *o, int, int level)
    {
        static_cast<IoapicApicTest *>(o)->intr = level;
    }
    static void eoi(void *o, uint8_t v) { ioapic_eoi(&static_cast<IoapicApicTest *>(o)->io, v); }
    void SetUp() override
    {
        bus_init(bus.get());
        clock_init(&clk, &icount, 0);
        ApicConfig cfg{};
        cfg.bsp = true;
        cfg.opaque = this;
        cfg.eoi_broadcast = eoi;
        apic_init(&apic, bus.get(), &clk, IrqLine{intr_set, this, 0}, &cfg);
        ioapic_init(&io, bus.get(), BASE, 0, apic_ioapic_deliver, &apic);
        io.accepts = apic_accepts;
        bus_mmio_write(bus.get(), 0xfee000f0, 0x1ff, 4);
    }
    void route(int pin, uint32_t lo, uint32_t hi)
    {
        bus_mmio_write(bus.get(), BASE, 0x11 + 2 * pin, 4);
        bus_mmio_write(bus.get(), BASE + 0x10, hi, 4);
        bus_mmio_write(bus.get(), BASE, 0x10 + 2 * pin, 4);
        bus_mmio_write(bus.get(), BASE + 0x10, lo, 4);
    }
    void apic_eoi() { bus_mmio_write(bus.get(), 0xfee000b0, 0, 4); }
};

TEST_F(IoapicApicTest, EdgeReachesApicWithVector)
{
    route(4, 0x24, 0x00000000);
    ioapic_set_irq(&io, 4, 1);
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(apic_intr_ack(&apic), 0x24);
    EXPECT_EQ(intr, 0);
    apic_eoi();
    ioapic_set_irq(&io, 4, 0);
    route(5, 0x25, 0x01000000);              // physical APIC 1: nobody
    ioapic_set_irq(&io, 5, 1);
    EXPECT_EQ(intr, 0);
    route(6, 0x826, 0x01000000);             // logical, LDR 0: nobody
    ioapic_set_irq(&io, 6, 1);
    EXPECT_EQ(intr, 0);
    bus_mmio_write(bus.get(), 0xfee000d0, 0x01000000, 4);
    ioapic_set_irq(&io, 6, 0);
    ioapic_set_irq(&io, 6, 1);
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(apic_intr_ack(&apic), 0x26);
}

TEST_F(IoapicApicTest, LevelRedeliveredAfterEoiWhileAsserted)
{
    route(10, 0x8051, 0);
    ioapic_set_irq(&io, 10, 1);
    EXPECT_EQ(apic_intr_ack(&apic), 0x51);
    EXPECT_EQ(intr, 0);
    apic_eoi();                              // broadcast: remote IRR cleared, re-sent
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(apic_intr_ack(&apic), 0x51);
    ioapic_set_irq(&io, 10, 0);              // the device is serviced
    apic_eoi();
    EXPECT_EQ(intr, 0);
    EXPECT_EQ(apic_intr_ack(&apic), 0xff);   // spurious
    bus_mmio_write(bus.get(), BASE, 0x10 + 2 * 10, 4);
    EXPECT_EQ(bus_mmio_read(bus.get(), BASE + 0x10, 4), 0x8051u);
}

} // namespace
