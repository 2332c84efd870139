/*
 * test_dma.cc — the 8237A pair programmed through its ports, moving bytes into and
 * out of a RAM-backed PhysMem: count and terminal count, status, masking, decrement,
 * auto-init, verify, the word-wide second controller, and addresses that are not RAM.
 */
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "devices/dma.h"
}

struct DmaFixture : ::testing::Test {
    Bus bus;
    PhysMem *mem = nullptr;
    std::vector<uint8_t> ram = std::vector<uint8_t>(2u << 20, 0);
    Dma dma;

    void SetUp() override
    {
        mem = static_cast<PhysMem *>(calloc(1, sizeof(PhysMem)));
        bus_init(&bus);
        /* RAM everywhere in the first 2 MiB except 0xA0000-0xBFFFF (a hole, no RAM) */
        physmem_map(mem, 0, 0xa0000, ram.data(), ram.data());
        physmem_map(mem, 0xc0000, 0x140000, ram.data() + 0xc0000, ram.data() + 0xc0000);
        dma_init(&dma, &bus, mem);
    }
    void TearDown() override { free(mem); }
    void out(uint16_t port, uint8_t v) { bus_io_write(&bus, port, v, 1); }
    uint8_t in(uint16_t port) { return (uint8_t)bus_io_read(&bus, port, 1); }

    /* Programs byte channel ch (0-3) the way a BIOS does. */
    void program8(int ch, uint8_t mode, uint32_t addr, uint16_t count)
    {
        static const uint16_t page_port[4] = {0x87, 0x83, 0x81, 0x82};
        out(0x0a, 0x04 | ch);         /* mask */
        out(0x0c, 0);                 /* clear flip-flop */
        out(0x0b, mode | ch);
        out(ch * 2, addr & 0xff);
        out(ch * 2, (addr >> 8) & 0xff);
        out(page_port[ch], (addr >> 16) & 0xff);
        out(ch * 2 + 1, count & 0xff);
        out(ch * 2 + 1, count >> 8);
        out(0x0a, ch);                /* unmask */
    }
};

TEST_F(DmaFixture, ResetMasksEveryChannel)
{
    for (int ch = 0; ch < 8; ch++) EXPECT_FALSE(dma_channel_ready(&dma, ch)) << ch;
    uint8_t b[4] = {1, 2, 3, 4};
    EXPECT_EQ(dma_transfer(&dma, 2, b, 4, true), 0);
    EXPECT_EQ(in(0x0f), 0xff); /* all four mask bits */
}

TEST_F(DmaFixture, ByteChannelWritesMemoryUntilTerminalCount)
{
    out(0x0d, 0); /* master clear */
    program8(2, 0x44, 0x11234, 9); /* single, increment, write to memory: 10 bytes */
    EXPECT_TRUE(dma_channel_ready(&dma, 2));
    uint8_t b[16];
    for (int i = 0; i < 16; i++) b[i] = (uint8_t)(0xa0 + i);
    ram[0x1123e] = 0x55;
    EXPECT_EQ(dma_transfer(&dma, 2, b, 16, true), 10);
    for (int i = 0; i < 10; i++) EXPECT_EQ(ram[0x11234 + i], 0xa0 + i) << i;
    EXPECT_EQ(ram[0x1123e], 0x55); /* nothing past the count */
    EXPECT_TRUE(dma_terminal_count(&dma, 2));
    EXPECT_EQ(in(0x08) & 0x0f, 0x04); /* TC of channel 2 */
    EXPECT_EQ(in(0x08) & 0x0f, 0x00); /* cleared by the read */
    EXPECT_FALSE(dma_channel_ready(&dma, 2)); /* masked at TC without auto-init */
    EXPECT_EQ(in(0x0f) & 0x04, 0x04);
    /* current address and count read back through the flip-flop */
    out(0x0c, 0);
    EXPECT_EQ(in(0x04), 0x3e);
    EXPECT_EQ(in(0x04), 0x12);
    EXPECT_EQ(in(0x05), 0xff);
    EXPECT_EQ(in(0x05), 0xff);
    EXPECT_EQ(in(0x81), 0x01); /* page register of channel 2 */
}

TEST_F(DmaFixture, ShortTransferLeavesCountAndNoTc)
{
    program8(1, 0x44, 0x3000, 99);
    uint8_t b[40];
    memset(b, 0x77, sizeof b);
    EXPECT_EQ(dma_transfer(&dma, 1, b, 40, true), 40);
    EXPECT_FALSE(dma_terminal_count(&dma, 1));
    EXPECT_TRUE(dma_channel_ready(&dma, 1));
    out(0x0c, 0);
    EXPECT_EQ(in(0x03), 59); /* 100 - 40 - 1 */
    EXPECT_EQ(in(0x03), 0);
    EXPECT_EQ(ram[0x3000 + 39], 0x77);
    EXPECT_EQ(ram[0x3000 + 40], 0);
}

TEST_F(DmaFixture, ReadFromMemoryAndDecrement)
{
    for (int i = 0; i < 8; i++) ram[0x5000 + i] = (uint8_t)(i + 1);
    program8(3, 0x48, 0x5000, 7); /* read from memory, 8 bytes */
    uint8_t b[8] = {0};
    EXPECT_EQ(dma_transfer(&dma, 3, b, 8, false), 8);
    for (int i = 0; i < 8; i++) EXPECT_EQ(b[i], i + 1);
    EXPECT_TRUE(dma_terminal_count(&dma, 3));

    program8(0, 0x64, 0x2010, 3); /* decrement, write to memory, 4 bytes */
    uint8_t w[4] = {0x11, 0x22, 0x33, 0x44};
    EXPECT_EQ(dma_transfer(&dma, 0, w, 4, true), 4);
    EXPECT_EQ(ram[0x2010], 0x11);
    EXPECT_EQ(ram[0x200f], 0x22);
    EXPECT_EQ(ram[0x200e], 0x33);
    EXPECT_EQ(ram[0x200d], 0x44);
    EXPECT_EQ(ram[0x2011], 0);
    out(0x0c, 0);
    EXPECT_EQ(in(0x00), 0x0c);
    EXPECT_EQ(in(0x00), 0x20);
}

TEST_F(DmaFixture, AutoInitReloadsAndKeepsGoing)
{
    program8(2, 0x54, 0x6000, 3); /* auto-init, 4 bytes */
    uint8_t b[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    EXPECT_EQ(dma_transfer(&dma, 2, b, 10, true), 10);
    EXPECT_EQ(ram[0x6000], 8);
    EXPECT_EQ(ram[0x6001], 9);
    EXPECT_EQ(ram[0x6002], 6);
    EXPECT_EQ(ram[0x6003], 7);
    EXPECT_EQ(ram[0x6004], 0);
    EXPECT_TRUE(dma_terminal_count(&dma, 2));
    EXPECT_TRUE(dma_channel_ready(&dma, 2)); /* still unmasked */
    EXPECT_EQ(in(0x08) & 0x04, 0x04);
    out(0x0c, 0);
    EXPECT_EQ(in(0x04), 0x02); /* two bytes into the reloaded block */
}

TEST_F(DmaFixture, VerifyTouchesNoMemory)
{
    program8(2, 0x40, 0x7000, 3);
    uint8_t b[4] = {9, 9, 9, 9};
    EXPECT_EQ(dma_transfer(&dma, 2, b, 4, true), 4);
    EXPECT_EQ(ram[0x7000], 0);
    EXPECT_TRUE(dma_terminal_count(&dma, 2));
}

TEST_F(DmaFixture, NonRamAddressesAreSkipped)
{
    program8(2, 0x44, 0xa0000, 15);
    uint8_t b[16];
    memset(b, 0x42, sizeof b);
    EXPECT_EQ(dma_transfer(&dma, 2, b, 16, true), 16);
    program8(2, 0x48, 0xa0000, 15);
    EXPECT_EQ(dma_transfer(&dma, 2, b, 16, false), 16);
    EXPECT_EQ(b[0], 0xff);
    EXPECT_EQ(b[15], 0xff);
    /* the address wraps within the 64 KiB page; the page does not carry */
    program8(2, 0x44, 0x1fffe, 3);
    uint8_t w[4] = {1, 2, 3, 4};
    EXPECT_EQ(dma_transfer(&dma, 2, w, 4, true), 4);
    EXPECT_EQ(ram[0x1fffe], 1);
    EXPECT_EQ(ram[0x1ffff], 2);
    EXPECT_EQ(ram[0x10000], 3);
    EXPECT_EQ(ram[0x10001], 4);
    EXPECT_EQ(ram[0x20000], 0);
}

TEST_F(DmaFixture, WordChannelShiftsAddressAndCountsWords)
{
    out(0xda, 0);        /* master clear of the second chip */
    out(0xd6, 0xc0);     /* channel 4: cascade */
    out(0xd4, 0x00);     /* unmask channel 4 */
    EXPECT_FALSE(dma_channel_ready(&dma, 4)); /* cascade is not a transfer channel */
    out(0xd4, 0x05);     /* mask channel 5 */
    out(0xd8, 0);        /* clear flip-flop */
    out(0xd6, 0x45);     /* channel 5: single, write to memory */
    out(0xc4, 0x00);     /* word address 0x0800 -> byte 0x1000 */
    out(0xc4, 0x08);
    out(0x8b, 0x03);     /* page: bit 0 ignored, A17-A23 = 0x02 -> 0x20000 */
    out(0xc6, 2);        /* 3 words */
    out(0xc6, 0);
    out(0xd4, 0x01);     /* unmask channel 5 */
    EXPECT_TRUE(dma_channel_ready(&dma, 5));
    uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(dma_transfer(&dma, 5, b, 8, true), 6);
    for (int i = 0; i < 6; i++) EXPECT_EQ(ram[0x21000 + i], i + 1) << i;
    EXPECT_EQ(ram[0x21006], 0);
    EXPECT_TRUE(dma_terminal_count(&dma, 5));
    EXPECT_EQ(in(0xd0) & 0x0f, 0x02); /* TC of the chip's channel 1 */
    out(0xd8, 0);
    EXPECT_EQ(in(0xc4), 0x03);
    EXPECT_EQ(in(0xc4), 0x08);
}

TEST_F(DmaFixture, MaskRegistersAndRequestsAndDisable)
{
    program8(2, 0x44, 0x4000, 0);
    out(0x0f, 0x0b); /* mask 0, 1, 3 */
    EXPECT_TRUE(dma_channel_ready(&dma, 2));
    EXPECT_FALSE(dma_channel_ready(&dma, 0));
    out(0x0e, 0); /* clear all masks */
    EXPECT_TRUE(dma_channel_ready(&dma, 0));
    out(0x09, 0x04 | 1); /* software request on channel 1 */
    EXPECT_EQ(in(0x08) & 0xf0, 0x20);
    out(0x09, 1);
    EXPECT_EQ(in(0x08) & 0xf0, 0x00);
    out(0x08, 0x04); /* controller disable */
    EXPECT_FALSE(dma_channel_ready(&dma, 2));
    out(0x08, 0x00);
    EXPECT_TRUE(dma_channel_ready(&dma, 2));
    dma_ops.reset(&dma);
    EXPECT_FALSE(dma_channel_ready(&dma, 2));
    EXPECT_EQ(in(0x81), 0);
}
