// test_pic.cc — the cascaded 8259A pair through its I/O ports: initialisation, masks,
// priorities and rotation, EOI forms, auto-EOI, edge vs level (ELCR), the cascade,
// spurious IRQ 7/15 and poll mode.
#include <gtest/gtest.h>

#include <memory>

extern "C" {
#include "devices/bus.h"
#include "devices/pic.h"
}

namespace {

struct PicTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    Pic pic;
    int intr = 0;   // INTR level seen by the "CPU"
    int changes = 0;

    static void intr_set(void *opaque, int, int level)
    {
        auto *t = static_cast<PicTest *>(opaque);
        t->intr = level;
        t->changes++;
    }

    void SetUp() override
    {
        bus_init(bus.get());
        pic_init(&pic, bus.get(), IrqLine{intr_set, this, 0});
    }
    void out(uint16_t port, uint8_t v) { bus_io_write(bus.get(), port, v, 1); }
    uint8_t in(uint16_t port) { return (uint8_t)bus_io_read(bus.get(), port, 1); }

    // The BIOS/Linux sequence: master at 0x08, slave at 0x70, 8086 mode.
    void init(uint8_t icw4 = 0x01)
    {
        out(0x20, 0x11); out(0x21, 0x08); out(0x21, 0x04); out(0x21, icw4);
        out(0xa0, 0x11); out(0xa1, 0x70); out(0xa1, 0x02); out(0xa1, icw4);
        out(0x21, 0x00); out(0xa1, 0x00);
    }
    void irq(int n, int level) { pic_set_irq(&pic, n, level); }
    uint8_t ack() { return pic_intr_ack(&pic); }
    uint8_t master_isr() { out(0x20, 0x0b); uint8_t v = in(0x20); out(0x20, 0x0a); return v; }
    uint8_t slave_isr() { out(0xa0, 0x0b); uint8_t v = in(0xa0); out(0xa0, 0x0a); return v; }
};

TEST_F(PicTest, InitialiseAndDeliver)
{
    init();
    EXPECT_EQ(intr, 0);
    irq(1, 1);
    EXPECT_EQ(intr, 1);
    out(0x20, 0x0a); // read IRR
    EXPECT_EQ(in(0x20), 0x02);
    EXPECT_EQ(ack(), 0x09);
    EXPECT_EQ(intr, 0);
    EXPECT_EQ(in(0x20), 0x00); // IRR consumed (edge)
    EXPECT_EQ(master_isr(), 0x02);
    out(0x20, 0x20); // non-specific EOI
    EXPECT_EQ(master_isr(), 0x00);
    EXPECT_EQ(intr, 0);
}

TEST_F(PicTest, ReinitialisationClearsMaskAndEdges)
{
    init();
    out(0x21, 0x5a);
    EXPECT_EQ(in(0x21), 0x5a);
    irq(1, 1); // latched, line stays high
    out(0x20, 0x11); out(0x21, 0x20); out(0x21, 0x04); out(0x21, 0x01);
    EXPECT_EQ(in(0x21), 0x00); // ICW1 clears IMR
    EXPECT_EQ(intr, 0);        // and the edge latch: the held line does not request
    irq(1, 0);
    irq(1, 1);
    EXPECT_EQ(ack(), 0x21);    // new vector base from ICW2
}

TEST_F(PicTest, MaskingHoldsRequest)
{
    init();
    out(0x21, 0x02);
    EXPECT_EQ(in(0x21), 0x02);
    irq(1, 1);
    EXPECT_EQ(intr, 0);
    out(0x21, 0x00);
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x09);
    out(0xa1, 0x04); // slave mask byte
    EXPECT_EQ(in(0xa1), 0x04);
    irq(10, 1);
    out(0x20, 0x20);
    EXPECT_EQ(intr, 0);
}

TEST_F(PicTest, FullyNestedPriority)
{
    init();
    irq(3, 1);
    irq(1, 1);
    EXPECT_EQ(ack(), 0x09); // IR1 beats IR3
    EXPECT_EQ(intr, 0);     // IR3 is below the in-service IR1
    irq(0, 1);
    EXPECT_EQ(intr, 1);     // IR0 nests above IR1
    EXPECT_EQ(ack(), 0x08);
    EXPECT_EQ(master_isr(), 0x03);
    out(0x20, 0x20);        // clears IR0 (highest in service)
    EXPECT_EQ(master_isr(), 0x02);
    EXPECT_EQ(intr, 0);
    out(0x20, 0x20);
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x0b);
}

TEST_F(PicTest, SpecificEoi)
{
    init();
    irq(3, 1);
    EXPECT_EQ(ack(), 0x0b);
    irq(0, 1);
    EXPECT_EQ(ack(), 0x08);
    out(0x20, 0x63); // specific EOI for IR3, leaves IR0
    EXPECT_EQ(master_isr(), 0x01);
}

TEST_F(PicTest, RotateOnNonSpecificEoi)
{
    init();
    irq(1, 1);
    EXPECT_EQ(ack(), 0x09);
    out(0x20, 0xa0); // rotate on non-specific EOI: IR1 becomes lowest, IR2 highest
    EXPECT_EQ(master_isr(), 0x00);
    irq(0, 1);
    irq(3, 1);
    EXPECT_EQ(ack(), 0x0b); // IR3 now outranks IR0
    out(0x20, 0xa0);        // IR3 lowest: IR4 highest ... IR0 before IR3
    EXPECT_EQ(ack(), 0x08);
    out(0x20, 0x20);
}

TEST_F(PicTest, SetPriorityAndRotateSpecific)
{
    init();
    out(0x20, 0xc4); // IR4 lowest -> IR5 highest
    irq(1, 1);
    irq(6, 1);
    EXPECT_EQ(ack(), 0x0e);
    out(0x20, 0xe6); // rotate on specific EOI for 6: IR6 lowest, IR7 highest
    EXPECT_EQ(master_isr(), 0x00);
    irq(7, 1);
    EXPECT_EQ(ack(), 0x0f); // real IR7 (ISR set), ahead of pending IR1
    EXPECT_EQ(master_isr(), 0x80);
    out(0x20, 0xc7); // back to IR0 highest
    out(0x20, 0x67);
    EXPECT_EQ(ack(), 0x09);
}

TEST_F(PicTest, AutoEoi)
{
    init(0x03); // AEOI
    irq(4, 1);
    EXPECT_EQ(ack(), 0x0c);
    EXPECT_EQ(master_isr(), 0x00);
    irq(5, 1);
    EXPECT_EQ(intr, 1); // nothing in service blocks IR5
    EXPECT_EQ(ack(), 0x0d);
}

TEST_F(PicTest, RotateInAutoEoi)
{
    init(0x03);
    out(0x20, 0x80); // rotate in AEOI mode (set)
    irq(1, 1);
    EXPECT_EQ(ack(), 0x09); // IR1 becomes lowest
    irq(0, 1);
    irq(5, 1);
    EXPECT_EQ(ack(), 0x0d); // IR5 before IR0 now
    EXPECT_EQ(ack(), 0x08);
}

TEST_F(PicTest, ElcrMasksAndLevelTrigger)
{
    init();
    out(0x4d0, 0xff);
    out(0x4d1, 0xff);
    EXPECT_EQ(in(0x4d0), 0xf8);
    EXPECT_EQ(in(0x4d1), 0xde);
    out(0x4d0, 0x20); // IRQ5 level
    out(0x4d1, 0x00);
    irq(5, 1);
    EXPECT_EQ(ack(), 0x0d);
    EXPECT_EQ(intr, 0);
    out(0x20, 0x20);
    EXPECT_EQ(intr, 1); // line still high: requests again after EOI
    irq(5, 0);
    EXPECT_EQ(intr, 0);
}

TEST_F(PicTest, EdgeLatchAndPulse)
{
    init();
    irq(4, 1);
    EXPECT_EQ(ack(), 0x0c);
    out(0x20, 0x20);
    EXPECT_EQ(intr, 0); // held line: no new edge
    irq(4, 0);
    EXPECT_EQ(intr, 0);
    IrqLine l = pic_irq(&pic, 4);
    irq_pulse(&l); // rise+fall: the latch keeps the request
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x0c);
}

TEST_F(PicTest, CascadeThroughIr2)
{
    init();
    irq(10, 1);
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x72);
    EXPECT_EQ(master_isr(), 0x04);
    EXPECT_EQ(slave_isr(), 0x04);
    irq(8, 1); // higher on the slave, but master IR2 is in service (fully nested)
    EXPECT_EQ(intr, 0);
    irq(1, 1); // master IR1 beats IR2
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x09);
    out(0x20, 0x20); // EOI IR1
    EXPECT_EQ(intr, 0);
    out(0xa0, 0x20); // slave EOI (IR10)
    out(0x20, 0x20); // master EOI (IR2)
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x70); // IRQ 8
    out(0xa0, 0x20);
    out(0x20, 0x20);
    EXPECT_EQ(intr, 0);
    EXPECT_EQ(master_isr(), 0x00);
    EXPECT_EQ(slave_isr(), 0x00);
}

TEST_F(PicTest, LevelTriggeredSlaveLineLikePci)
{
    init();
    out(0x4d1, 0x08); // IRQ 11 level, as SeaBIOS sets up PCI interrupts
    irq(11, 1);
    EXPECT_EQ(ack(), 0x73);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    EXPECT_EQ(intr, 1); // still asserted: delivered again
    EXPECT_EQ(ack(), 0x73);
    irq(11, 0);         // the handler quiets the device, then EOIs
    out(0xa0, 0x20);
    out(0x20, 0x20);
    EXPECT_EQ(intr, 0); // and nothing spurious follows
    EXPECT_EQ(master_isr(), 0x00);
    EXPECT_EQ(slave_isr(), 0x00);
}

TEST_F(PicTest, SpecialFullyNestedLetsSlaveNest)
{
    out(0x20, 0x11); out(0x21, 0x08); out(0x21, 0x04); out(0x21, 0x11); // SFNM master
    out(0xa0, 0x11); out(0xa1, 0x70); out(0xa1, 0x02); out(0xa1, 0x01);
    out(0x21, 0); out(0xa1, 0);
    irq(10, 1);
    EXPECT_EQ(ack(), 0x72);
    irq(8, 1);
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x70);
    irq(11, 1); // below the slave's in-service levels
    EXPECT_EQ(intr, 0);
}

TEST_F(PicTest, SpuriousIrq7)
{
    init();
    out(0x4d0, 0x20);
    irq(5, 1);
    EXPECT_EQ(intr, 1);
    irq(5, 0); // the request vanished before INTA
    EXPECT_EQ(intr, 0);
    EXPECT_EQ(ack(), 0x0f);
    EXPECT_EQ(master_isr(), 0x00); // spurious: ISR untouched
}

TEST_F(PicTest, SpuriousIrq15)
{
    init();
    out(0x4d1, 0x04); // IRQ10 level
    irq(10, 1);
    EXPECT_EQ(intr, 1);
    irq(10, 0); // the slave's INT drops, the master's IR2 edge latch stays
    EXPECT_EQ(intr, 1);
    EXPECT_EQ(ack(), 0x77);
    EXPECT_EQ(slave_isr(), 0x00);
    EXPECT_EQ(master_isr(), 0x04); // the master did take IR2
    out(0x20, 0x20);
    EXPECT_EQ(master_isr(), 0x00);
}

TEST_F(PicTest, PollMode)
{
    init();
    irq(6, 1);
    irq(3, 1);
    out(0x20, 0x0c); // OCW3 poll
    EXPECT_EQ(in(0x20), 0x83);
    EXPECT_EQ(master_isr(), 0x08);
    out(0x20, 0x0c);
    EXPECT_EQ(in(0x20), 0x00); // IR6 is below the in-service IR3
    out(0x20, 0x20);
    out(0x20, 0x0c);
    EXPECT_EQ(in(0x21), 0x86); // the poll word can be read from either port
    out(0x20, 0x20);
    out(0x20, 0x0c);
    EXPECT_EQ(in(0x20), 0x00);
    EXPECT_EQ(in(0x21), 0x00); // poll is a one-shot: back to IMR
}

TEST_F(PicTest, SpecialMaskMode)
{
    init();
    irq(1, 1);
    EXPECT_EQ(ack(), 0x09);
    irq(5, 1);
    EXPECT_EQ(intr, 0);
    out(0x21, 0x02); // mask own level
    out(0x20, 0x68); // set special mask
    EXPECT_EQ(intr, 1); // lower IR5 now allowed
    EXPECT_EQ(ack(), 0x0d);
    out(0x20, 0x65);
    out(0x20, 0x48); // reset special mask
    out(0x21, 0x00);
    out(0x20, 0x61);
    EXPECT_EQ(master_isr(), 0x00);
}

TEST_F(PicTest, ResetAndPostLoad)
{
    init();
    irq(3, 1);
    EXPECT_EQ(intr, 1);
    const DeviceOps *ops = bus->io_ranges[bus->io_index[0x20]].ops;
    ASSERT_NE(ops->state, nullptr);
    // every Pic8259 field appears for both chips
    int n = 0;
    for (const StateField *f = ops->state->fields; f->name; f++) n++;
    EXPECT_EQ(n, 34);
    intr = 0;
    ops->post_load(&pic);
    EXPECT_EQ(intr, 1); // INTR re-driven from the state
    ops->reset(&pic);
    EXPECT_EQ(intr, 0);
    EXPECT_EQ(in(0x4d0), 0x00);
}

} // namespace
