// test_pci.cc — configuration mechanism 1, BAR sizing/decoding, i440FX PAM/SMRAM and
// PIIX3 registers, seen through the ports as firmware sees them.
#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

extern "C" {
#include "devices/bus.h"
#include "devices/i440fx.h"
#include "devices/pci.h"
}

namespace {

struct PciTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    PciBus pci;
    I440fx chip;
    PciDevice dev;                                    // a test function at 00:03.0
    std::vector<std::pair<int, uint32_t>> maps;       // bar_map calls
    int pam_calls = 0;

    static void on_pam(void *opaque) { static_cast<PciTest *>(opaque)->pam_calls++; }
    static void on_bar(PciDevice *d, int bar, uint32_t addr)
    {
        static_cast<PciTest *>(d->opaque)->maps.push_back({bar, addr});
    }

    void SetUp() override
    {
        bus_init(bus.get());
        pci_bus_init(&pci, bus.get());
        i440fx_init(&chip, &pci, on_pam, this);
        pci_device_init(&dev, 0x1234, 0x1111, 0x030000);
        pci_set_bar(&dev, 0, 16u << 20, PCI_BAR_MEM | PCI_BAR_PREFETCH);
        pci_set_bar(&dev, 1, 32, PCI_BAR_IO);
        pci_set_bar(&dev, PCI_ROM_BAR, 64u << 10, PCI_BAR_MEM);
        dev.bar_map = on_bar;
        dev.opaque = this;
        pci_register(&pci, &dev, PCI_DEVFN(3, 0));
    }

    void addr(int devfn, int reg, int busno = 0)
    {
        bus_io_write(bus.get(), 0xcf8, 0x80000000u | busno << 16 | devfn << 8 | (reg & 0xfc), 4);
    }
    uint32_t rd(int devfn, int reg, unsigned size)
    {
        addr(devfn, reg);
        return bus_io_read(bus.get(), 0xcfc + (reg & 3), size);
    }
    void wr(int devfn, int reg, uint32_t v, unsigned size)
    {
        addr(devfn, reg);
        bus_io_write(bus.get(), 0xcfc + (reg & 3), v, size);
    }
};

TEST_F(PciTest, HostBridgeIdsAllWidths)
{
    EXPECT_EQ(rd(0, 0x00, 4), 0x12378086u);
    EXPECT_EQ(rd(0, 0x00, 2), 0x8086u);
    EXPECT_EQ(rd(0, 0x02, 2), 0x1237u);
    EXPECT_EQ(rd(0, 0x00, 1), 0x86u);
    EXPECT_EQ(rd(0, 0x01, 1), 0x80u);
    EXPECT_EQ(rd(0, 0x03, 1), 0x12u);
    EXPECT_EQ(rd(0, 0x08, 4), 0x06000002u); // class 060000, revision 02
    EXPECT_EQ(rd(0, 0x0e, 1), 0x00u);
    EXPECT_EQ(rd(0, 0x2c, 4), 0x11001af4u); // subsystem for SeaBIOS's QEMU detection
    EXPECT_EQ(rd(0, 0x2e, 2), 0x1100u);
}

TEST_F(PciTest, Piix3Ids)
{
    EXPECT_EQ(rd(PCI_DEVFN(1, 0), 0x00, 4), 0x70008086u);
    EXPECT_EQ(rd(PCI_DEVFN(1, 0), 0x08, 4) >> 8, 0x060100u);
    EXPECT_EQ(rd(PCI_DEVFN(1, 0), 0x0e, 1), 0x80u);
    EXPECT_EQ(rd(PCI_DEVFN(1, 0), 0x0c, 4), 0x00800000u);
    EXPECT_EQ(rd(PCI_DEVFN(1, 0), 0x04, 2), 0x0007u);
    EXPECT_EQ(rd(PCI_DEVFN(1, 0), 0x4c, 1), 0x4du);
    EXPECT_EQ(rd(PCI_DEVFN(1, 0), 0x69, 1), 0x02u);
}

TEST_F(PciTest, AbsentFunctionsReadAllOnes)
{
    EXPECT_EQ(rd(PCI_DEVFN(5, 0), 0x00, 4), 0xffffffffu);
    EXPECT_EQ(rd(PCI_DEVFN(5, 0), 0x02, 2), 0xffffu);
    EXPECT_EQ(rd(PCI_DEVFN(5, 0), 0x03, 1), 0xffu);
    EXPECT_EQ(rd(PCI_DEVFN(0, 1), 0x00, 4), 0xffffffffu); // function 1 of the host bridge
    EXPECT_EQ(rd(PCI_DEVFN(1, 2), 0x00, 4), 0xffffffffu); // PIIX3 fn 2 not registered
    // bus 1 does not exist
    addr(0, 0, 1);
    EXPECT_EQ(bus_io_read(bus.get(), 0xcfc, 4), 0xffffffffu);
    // enable bit clear: no config cycle
    bus_io_write(bus.get(), 0xcf8, 0x00000000u, 4);
    EXPECT_EQ(bus_io_read(bus.get(), 0xcfc, 4), 0xffffffffu);
    bus_io_write(bus.get(), 0xcfc, 0, 4); // and writes go nowhere
    EXPECT_EQ(rd(0, 0x00, 4), 0x12378086u);
}

TEST_F(PciTest, AddressRegisterOnlyLatchesDwords)
{
    bus_io_write(bus.get(), 0xcf8, 0x80001873u, 4);
    EXPECT_EQ(bus_io_read(bus.get(), 0xcf8, 4), 0x80001870u); // bits 1:0 read as 0
    bus_io_write(bus.get(), 0xcf8, 0x00, 1);
    bus_io_write(bus.get(), 0xcfa, 0x0000, 2);
    EXPECT_EQ(bus_io_read(bus.get(), 0xcf8, 4), 0x80001870u);
    bus_io_write(bus.get(), 0xcf8, 0xff00ff00u, 4);
    EXPECT_EQ(pci.config_addr, 0x8000ff00u); // reserved 30:24 read as 0
}

TEST_F(PciTest, WriteMasksProtectReadOnlyFields)
{
    wr(PCI_DEVFN(3, 0), 0x00, 0xdeadbeef, 4);
    EXPECT_EQ(rd(PCI_DEVFN(3, 0), 0x00, 4), 0x11111234u);
    wr(PCI_DEVFN(3, 0), 0x3c, 0xffffffff, 4); // only the interrupt line is writable
    EXPECT_EQ(rd(PCI_DEVFN(3, 0), 0x3c, 4), 0x000000ffu);
    wr(PCI_DEVFN(3, 0), 0x0c, 0xffffffff, 4); // cache line + latency, not header type
    EXPECT_EQ(rd(PCI_DEVFN(3, 0), 0x0c, 4), 0x0000ffffu);
    wr(PCI_DEVFN(3, 0), 0x04, 0xffff, 2);
    EXPECT_EQ(rd(PCI_DEVFN(3, 0), 0x04, 2), 0x0547u);
}

TEST_F(PciTest, StatusBitsAreWriteOneToClear)
{
    dev.config[0x06] = 0x10; // capabilities list: read-only
    dev.config[0x07] = 0xf9 | 0x02;
    wr(PCI_DEVFN(3, 0), 0x06, 0x2000, 2); // clear "received master abort" only
    EXPECT_EQ(rd(PCI_DEVFN(3, 0), 0x06, 2), 0xdb10u);
    wr(PCI_DEVFN(3, 0), 0x06, 0x0000, 2); // writing 0 changes nothing
    EXPECT_EQ(rd(PCI_DEVFN(3, 0), 0x06, 2), 0xdb10u);
    wr(PCI_DEVFN(3, 0), 0x06, 0xffff, 2);
    EXPECT_EQ(rd(PCI_DEVFN(3, 0), 0x06, 2), 0x0210u);
}

TEST_F(PciTest, BarSizingProbe)
{
    const int f = PCI_DEVFN(3, 0);
    EXPECT_EQ(rd(f, 0x10, 4), 0x00000008u); // memory, prefetchable
    EXPECT_EQ(rd(f, 0x14, 4), 0x00000001u); // I/O
    EXPECT_EQ(rd(f, 0x18, 4), 0x00000000u); // not implemented
    wr(f, 0x10, 0xffffffff, 4);
    EXPECT_EQ(rd(f, 0x10, 4), 0xff000008u);
    wr(f, 0x14, 0xffffffff, 4);
    EXPECT_EQ(rd(f, 0x14, 4), 0xffffffe1u);
    wr(f, 0x18, 0xffffffff, 4);
    EXPECT_EQ(rd(f, 0x18, 4), 0x00000000u);
    wr(f, 0x30, 0xfffffffe, 4);
    EXPECT_EQ(rd(f, 0x30, 4), 0xffff0000u);
    wr(f, 0x30, 0xffffffff, 4);
    EXPECT_EQ(rd(f, 0x30, 4), 0xffff0001u);
    EXPECT_TRUE(maps.empty()); // command register still 0: nothing decodes
}

TEST_F(PciTest, BarRelocationAndCommandEnables)
{
    const int f = PCI_DEVFN(3, 0);
    wr(f, 0x10, 0xe0000000, 4);
    wr(f, 0x14, 0xc040, 4);
    EXPECT_TRUE(maps.empty());
    wr(f, 0x04, 0x0002, 2); // memory enable
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0], std::make_pair(0, 0xe0000000u));
    EXPECT_EQ(dev.bar_addr[0], 0xe0000000u);
    wr(f, 0x04, 0x0003, 2); // and I/O
    ASSERT_EQ(maps.size(), 2u);
    EXPECT_EQ(maps[1], std::make_pair(1, 0xc040u));
    wr(f, 0x04, 0x0003, 2); // no change, no call
    EXPECT_EQ(maps.size(), 2u);
    wr(f, 0x12, 0xf100, 2); // move through the upper half only
    ASSERT_EQ(maps.size(), 3u);
    EXPECT_EQ(maps[2], std::make_pair(0, 0xf1000000u));
    wr(f, 0x10, 0xffffffff, 4); // sizing probe unmaps while it is in place
    ASSERT_EQ(maps.size(), 4u);
    EXPECT_EQ(maps[3], std::make_pair(0, PCI_BAR_UNMAPPED));
    wr(f, 0x10, 0xf1000000, 4);
    ASSERT_EQ(maps.size(), 5u);
    EXPECT_EQ(maps[4], std::make_pair(0, 0xf1000000u));
    wr(f, 0x14, 0, 4); // address 0 = not assigned
    ASSERT_EQ(maps.size(), 6u);
    EXPECT_EQ(maps[5], std::make_pair(1, PCI_BAR_UNMAPPED));
    wr(f, 0x14, 0xc080, 4);
    wr(f, 0x04, 0x0000, 2); // both off
    ASSERT_EQ(maps.size(), 9u);
    EXPECT_EQ(maps[6], std::make_pair(1, 0xc080u));
    EXPECT_EQ(maps[7], std::make_pair(0, PCI_BAR_UNMAPPED));
    EXPECT_EQ(maps[8], std::make_pair(1, PCI_BAR_UNMAPPED));
}

TEST_F(PciTest, RomBarNeedsItsEnableBitAndMemoryEnable)
{
    const int f = PCI_DEVFN(3, 0);
    wr(f, 0x04, 0x0002, 2);
    wr(f, 0x30, 0xfeb00000, 4);
    EXPECT_TRUE(maps.empty());
    wr(f, 0x30, 0xfeb00001, 4);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0], std::make_pair(PCI_ROM_BAR, 0xfeb00000u));
    EXPECT_EQ(rd(f, 0x30, 4), 0xfeb00001u);
    wr(f, 0x04, 0x0000, 2);
    ASSERT_EQ(maps.size(), 2u);
    EXPECT_EQ(maps[1], std::make_pair(PCI_ROM_BAR, PCI_BAR_UNMAPPED));
    wr(f, 0x04, 0x0002, 2);
    wr(f, 0x30, 0xfeb00000, 1); // byte write clears the enable bit
    ASSERT_EQ(maps.size(), 4u);
    EXPECT_EQ(maps[3], std::make_pair(PCI_ROM_BAR, PCI_BAR_UNMAPPED));
}

TEST_F(PciTest, IoBarBeyond64KDecodesNothing)
{
    const int f = PCI_DEVFN(3, 0);
    wr(f, 0x04, 0x0001, 2);
    wr(f, 0x14, 0x10000, 4);
    EXPECT_TRUE(maps.empty());
    wr(f, 0x14, 0xffe0, 4);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0], std::make_pair(1, 0xffe0u));
}

TEST_F(PciTest, DeviceResetAndPostLoad)
{
    const int f = PCI_DEVFN(3, 0);
    wr(f, 0x10, 0xe0000000, 4);
    wr(f, 0x3c, 0x0b, 1);
    wr(f, 0x04, 0x0002, 2);
    maps.clear();
    pci_device_reset(&dev);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0], std::make_pair(0, PCI_BAR_UNMAPPED));
    EXPECT_EQ(rd(f, 0x10, 4), 0x00000008u);
    EXPECT_EQ(rd(f, 0x04, 2), 0u);
    EXPECT_EQ(rd(f, 0x3c, 1), 0u);
    // a loaded config space: every BAR is reported, changed or not
    dev.config[0x04] = 0x03;
    dev.config[0x13] = 0xe1;
    dev.config[0x15] = 0xc1;
    maps.clear();
    pci_device_post_load(&dev);
    ASSERT_EQ(maps.size(), 3u);
    EXPECT_EQ(maps[0], std::make_pair(0, 0xe1000000u));
    EXPECT_EQ(maps[1], std::make_pair(1, 0xc100u));
    EXPECT_EQ(maps[2], std::make_pair(PCI_ROM_BAR, PCI_BAR_UNMAPPED));
}

TEST_F(PciTest, PamRegisters)
{
    for (uint32_t a = 0xc0000; a < 0x100000; a += 0x4000) EXPECT_EQ(i440fx_pam_attr(&chip, a), 0u);
    EXPECT_EQ(rd(0, 0x58, 4), 0u);
    wr(0, 0x5a, 0x31, 1); // C0000: read RAM; C4000: read+write RAM
    EXPECT_EQ(pam_calls, 1);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xc0000), 1u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xc3fff), 1u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xc4000), 3u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xc8000), 0u);
    wr(0, 0x5a, 0x31, 1); // same value: no change to report
    EXPECT_EQ(pam_calls, 1);
    wr(0, 0x59, 0xff, 1); // PAM0: only the high nibble exists
    EXPECT_EQ(pam_calls, 2);
    EXPECT_EQ(rd(0, 0x59, 1), 0x30u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xf0000), 3u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xfffff), 3u);
    wr(0, 0x5c, 0x20021002, 4); // 5C..5F in one dword write: one report
    EXPECT_EQ(pam_calls, 3);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xd0000), 2u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xd4000), 0u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xd8000), 0u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xdc000), 1u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xe0000), 2u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xe8000), 0u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xec000), 2u);
    wr(0, 0x5b, 0xff, 1); // reserved bits 7:6 and 3:2 stay 0
    EXPECT_EQ(rd(0, 0x5b, 1), 0x33u);
    EXPECT_EQ(pam_calls, 4);
    wr(0, 0x50, 0xffffffff, 4); // not PAM: no report
    EXPECT_EQ(pam_calls, 4);
    i440fx_reset(&chip); // back to ROM everywhere: reported
    EXPECT_EQ(pam_calls, 5);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xf0000), 0u);
    EXPECT_EQ(i440fx_pam_attr(&chip, 0xc4000), 0u);
    ASSERT_NE(i440fx_ops.post_load, nullptr);
    i440fx_ops.post_load(&chip); // always re-applies
    EXPECT_EQ(pam_calls, 6);
}

TEST_F(PciTest, SmramControlAndLock)
{
    EXPECT_EQ(rd(0, 0x72, 1), 0x02u);
    wr(0, 0x72, 0x4f, 1); // D_OPEN, G_SMRAME; C_BASE_SEG is fixed
    EXPECT_EQ(rd(0, 0x72, 1), 0x4au);
    wr(0, 0x72, 0x5a, 1); // D_LCK clears D_OPEN
    EXPECT_EQ(rd(0, 0x72, 1), 0x1au);
    wr(0, 0x72, 0x42, 1); // locked: D_OPEN, D_LCK, G_SMRAME frozen
    EXPECT_EQ(rd(0, 0x72, 1), 0x1au);
    i440fx_reset(&chip);
    EXPECT_EQ(rd(0, 0x72, 1), 0x02u);
    wr(0, 0x72, 0x40, 1);
    EXPECT_EQ(rd(0, 0x72, 1), 0x42u);
}

TEST_F(PciTest, PirqRouting)
{
    const int f = PCI_DEVFN(1, 0);
    EXPECT_EQ(rd(f, 0x60, 4), 0x80808080u);
    for (int i = 0; i < 4; i++) EXPECT_EQ(i440fx_pirq_irq(&chip, i), -1);
    wr(f, 0x60, 0x0a0b0b0f, 4);
    EXPECT_EQ(rd(f, 0x60, 4), 0x0a0b0b0fu);
    EXPECT_EQ(i440fx_pirq_irq(&chip, 0), 15);
    EXPECT_EQ(i440fx_pirq_irq(&chip, 1), 11);
    EXPECT_EQ(i440fx_pirq_irq(&chip, 3), 10);
    wr(f, 0x61, 0xf5, 1); // bits 6:4 reserved
    EXPECT_EQ(rd(f, 0x61, 1), 0x85u);
    EXPECT_EQ(i440fx_pirq_irq(&chip, 1), -1);
    wr(f, 0x62, 0x08, 1); // IRQ 8 cannot be a PIRQ target
    EXPECT_EQ(i440fx_pirq_irq(&chip, 2), -1);
    i440fx_reset(&chip);
    EXPECT_EQ(rd(f, 0x60, 4), 0x80808080u);
}

TEST_F(PciTest, BusStateAndReset)
{
    ASSERT_NE(pci_bus_ops.state, nullptr);
    EXPECT_STREQ(pci_bus_ops.state->fields[0].name, "config_addr");
    addr(PCI_DEVFN(3, 0), 0x10);
    pci_bus_ops.reset(&pci);
    EXPECT_EQ(bus_io_read(bus.get(), 0xcf8, 4), 0u);
    ASSERT_NE(i440fx_ops.state, nullptr);
    EXPECT_EQ(i440fx_ops.state->fields[0].count, 256u);
    EXPECT_EQ(i440fx_ops.state->fields[1].offset, offsetof(I440fx, isa.config));
}

} // namespace
