// test_vga.cc — the standard VGA seen as a guest sees it: the registers through the
// ports, the legacy window through MMIO, the Bochs VBE registers, the PCI BARs (LFB,
// expansion ROM) through config space, plus the text dump and the renderer.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "cpu/physmem.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/vga.h"
}

namespace {

constexpr uint8_t kDevfn = PCI_DEVFN(2, 0);

struct VgaTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    PhysMem *mem = nullptr;
    PciBus pci;
    Vga v;
    std::vector<uint32_t> fb = std::vector<uint32_t>(1024 * 768, 0xdeadbeef);
    int w = 0, h = 0;

    void SetUp() override
    {
        bus_init(bus.get());
        mem = static_cast<PhysMem *>(calloc(1, sizeof(PhysMem)));
        ASSERT_NE(mem, nullptr);
        pci_bus_init(&pci, bus.get());
        uint8_t rom[1024];
        for (int i = 0; i < 1024; i++) rom[i] = static_cast<uint8_t>(i * 7);
        rom[0] = 0x55;
        rom[1] = 0xaa;
        ASSERT_EQ(vga_init(&v, bus.get(), mem, &pci, rom, sizeof(rom)), 0);
    }
    void TearDown() override
    {
        vga_destroy(&v);
        free(mem);
    }

    void outb(uint16_t port, uint32_t val) { bus_io_write(bus.get(), port, val, 1); }
    void outw(uint16_t port, uint32_t val) { bus_io_write(bus.get(), port, val, 2); }
    uint32_t inb(uint16_t port) { return bus_io_read(bus.get(), port, 1); }
    uint32_t inw(uint16_t port) { return bus_io_read(bus.get(), port, 2); }
    void seq(int i, int val) { outw(0x3c4, i | val << 8); }
    void gc(int i, int val) { outw(0x3ce, i | val << 8); }
    void crtc(int i, int val) { outw(0x3d4, i | val << 8); }
    void attr(int i, int val)
    {
        inb(0x3da);
        outb(0x3c0, i);
        outb(0x3c0, val);
        outb(0x3c0, 0x20); // palette address source back on
    }
    void dac(int i, int r, int g, int b)
    {
        outb(0x3c8, i);
        outb(0x3c9, r);
        outb(0x3c9, g);
        outb(0x3c9, b);
    }
    void mw(uint32_t a, uint32_t val, unsigned size = 1)
    {
        bus_mmio_write(bus.get(), a, val, size);
    }
    uint32_t mr(uint32_t a, unsigned size = 1) { return bus_mmio_read(bus.get(), a, size); }
    uint8_t &plane(int p, uint32_t a) { return v.vram[a * 4 + p]; }
    void vbe(int i, int val)
    {
        outw(0x1ce, i);
        outw(0x1cf, val);
    }
    uint32_t vbe_rd(int i)
    {
        outw(0x1ce, i);
        return inw(0x1cf);
    }
    std::string dump()
    {
        std::vector<char> buf(16384);
        int n = vga_text_dump(&v, buf.data(), buf.size());
        if (n < 0) return "<graphics>";
        EXPECT_EQ(static_cast<size_t>(n), strlen(buf.data()));
        return std::string(buf.data(), n);
    }
    void put_text(int row, int col, const char *s, uint8_t at = 0x07)
    {
        for (int i = 0; s[i]; i++) {
            uint32_t a = 0xb8000 + (row * 80 + col + i) * 2;
            mw(a, static_cast<uint8_t>(s[i]));
            mw(a + 1, at);
        }
    }
    // Planar 16-colour access at A0000 (mode 12h-like sequencer/GC setup).
    void planar()
    {
        seq(2, 0x0f);
        seq(4, 0x06);
        gc(5, 0x00);
        gc(6, 0x05);
        gc(1, 0x00);
        gc(3, 0x00);
        gc(8, 0xff);
    }
    // Fill the four planes at plane address a (map mask per plane, write mode 0).
    void fill(uint32_t a, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3)
    {
        const uint8_t vals[4] = {p0, p1, p2, p3};
        const uint8_t saved[4] = {v.gc[1], v.gc[3], v.gc[5], v.gc[8]};
        gc(1, 0);
        gc(3, 0);
        gc(5, 0);
        gc(8, 0xff);
        for (int p = 0; p < 4; p++) {
            seq(2, 1 << p);
            mw(0xa0000 + a, vals[p]);
        }
        seq(2, 0x0f);
        gc(1, saved[0]);
        gc(3, saved[1]);
        gc(5, saved[2]);
        gc(8, saved[3]);
    }
    int render() { return vga_render(&v, fb.data(), 1024, 768, &w, &h); }
    uint32_t px(int x, int y) { return fb[static_cast<size_t>(y) * w + x]; }
};

// ---- text mode ----

TEST_F(VgaTest, TextCharAndAttributePlacement)
{
    mw(0xb8000, 'H');
    mw(0xb8001, 0x1f);
    mw(0xb8002, 'i');
    mw(0xb8003, 0x2e);
    EXPECT_EQ(plane(0, 0), 'H');
    EXPECT_EQ(plane(1, 0), 0x1f);
    EXPECT_EQ(plane(0, 2), 'i');
    EXPECT_EQ(plane(1, 2), 0x2e);
    EXPECT_EQ(plane(0, 1), 0); // odd/even: plane address 1 untouched
    EXPECT_EQ(mr(0xb8000), 'H');
    EXPECT_EQ(mr(0xb8003), 0x2eu);
    EXPECT_EQ(mr(0xb8000, 2), 0x1f00u | 'H');
    // memory map 3 (B8000): A0000 and B0000 answer nothing
    EXPECT_EQ(mr(0xa0000), 0xffu);
    EXPECT_EQ(mr(0xb0000), 0xffu);
    mw(0xa0000, 0x12);
    EXPECT_EQ(plane(0, 0), 'H');
}

TEST_F(VgaTest, TextDumpRowsTrimAndCp437)
{
    put_text(0, 0, "Hello");
    put_text(0, 5, "   ");
    put_text(1, 2, "x y");
    mw(0xb8000 + (2 * 80) * 2, 0xc4);
    mw(0xb8000 + (2 * 80 + 1) * 2, 0xcd);
    mw(0xb8000 + (2 * 80 + 2) * 2, 0x01);
    mw(0xb8000 + (24 * 80 + 79) * 2, '!');
    std::string d = dump();
    std::string expect = "Hello\n  x y\n─═☺\n";
    for (int r = 3; r < 24; r++) expect += "\n";
    expect += std::string(79, ' ') + "!\n";
    EXPECT_EQ(d, expect);
    // without the last row the blank lines at the end are dropped
    mw(0xb8000 + (24 * 80 + 79) * 2, ' ');
    EXPECT_EQ(dump(), "Hello\n  x y\n─═☺\n");
}

TEST_F(VgaTest, TextDumpHonoursStartAddressAndOffset)
{
    put_text(0, 0, "row0");
    put_text(1, 0, "row1");
    put_text(2, 0, "row2");
    crtc(0x0c, 0);
    crtc(0x0d, 80); // start one row down
    EXPECT_EQ(dump().substr(0, 10), "row1\nrow2\n");
    crtc(0x0d, 82); // and two characters in
    // row 0 now runs into the first characters of the old row 2
    EXPECT_EQ(dump().substr(0, 84), "w1" + std::string(76, ' ') + "ro\nw2\n");
    // 40 visible columns, rows still 80 characters apart (offset 40 words)
    crtc(0x0d, 0);
    crtc(0x01, 39);
    put_text(0, 40, "hidden");
    EXPECT_EQ(dump().substr(0, 15), "row0\nrow1\nrow2\n");
    // offset 20: rows 40 characters apart, so row 1 shows the right half of row 0
    crtc(0x13, 20);
    EXPECT_EQ(dump().substr(0, 12), "row0\nhidden\n");
    // character height 8 -> 50 rows of 80 columns
    crtc(0x01, 79);
    crtc(0x13, 40);
    crtc(0x09, 7);
    put_text(49, 0, "last");
    std::string d = dump();
    EXPECT_EQ(d.substr(d.size() - 6), "\nlast\n");
    int lines = 0;
    for (char c : d) lines += c == '\n';
    EXPECT_EQ(lines, 50);
}

TEST_F(VgaTest, TextDumpRefusesGraphicsModes)
{
    gc(6, 0x05);
    EXPECT_EQ(dump(), "<graphics>");
    char small[1];
    EXPECT_EQ(vga_text_dump(&v, small, 0), -1);
}

// ---- planar write and read modes ----

TEST_F(VgaTest, WriteMode0SetResetRotateBitMask)
{
    planar();
    // set/reset enabled on all planes: colour 5 -> planes 0 and 2 all ones
    gc(0, 0x05);
    gc(1, 0x0f);
    mw(0xa0000, 0x00);
    EXPECT_EQ(plane(0, 0), 0xff);
    EXPECT_EQ(plane(1, 0), 0x00);
    EXPECT_EQ(plane(2, 0), 0xff);
    EXPECT_EQ(plane(3, 0), 0x00);
    // set/reset on planes 0-1 only: planes 2-3 take the CPU data
    gc(1, 0x03);
    mw(0xa0001, 0x5a);
    EXPECT_EQ(plane(0, 1), 0xff);
    EXPECT_EQ(plane(1, 1), 0x00);
    EXPECT_EQ(plane(2, 1), 0x5a);
    EXPECT_EQ(plane(3, 1), 0x5a);
    gc(1, 0);
    // rotate right by 3: 0x81 -> 0x30
    gc(3, 0x03);
    mw(0xa0002, 0x81);
    for (int p = 0; p < 4; p++) EXPECT_EQ(plane(p, 2), 0x30) << p;
    gc(3, 0);
    // bit mask: unmasked bits come from the latches
    fill(3, 0xaa, 0xaa, 0xaa, 0xaa);
    mr(0xa0003);
    gc(8, 0x0f);
    mw(0xa0003, 0x55);
    for (int p = 0; p < 4; p++) EXPECT_EQ(plane(p, 3), 0xa5) << p;
    gc(8, 0xff);
    // map mask: only plane 1 written
    seq(2, 0x02);
    mw(0xa0004, 0x77);
    EXPECT_EQ(plane(0, 4), 0);
    EXPECT_EQ(plane(1, 4), 0x77);
    EXPECT_EQ(plane(2, 4), 0);
}

TEST_F(VgaTest, WriteMode0LogicalOperations)
{
    planar();
    const struct { int func; uint8_t want; } ops[] = {{0x08, 0x0a}, {0x10, 0xaf}, {0x18, 0xa5}};
    for (auto op : ops) {
        fill(8, 0xaa, 0xaa, 0xaa, 0xaa);
        mr(0xa0008); // load the latches
        gc(3, op.func);
        mw(0xa0008, 0x0f);
        gc(3, 0);
        for (int p = 0; p < 4; p++) EXPECT_EQ(plane(p, 8), op.want) << op.func << " plane " << p;
    }
    // rotate and logical operation together: (0xf0 ror 4) XOR latch
    fill(9, 0xff, 0x00, 0xff, 0x00);
    mr(0xa0009);
    gc(3, 0x18 | 4);
    mw(0xa0009, 0xf0);
    EXPECT_EQ(plane(0, 9), 0xf0);
    EXPECT_EQ(plane(1, 9), 0x0f);
}

TEST_F(VgaTest, WriteMode1CopiesLatches)
{
    planar();
    fill(0x20, 0x11, 0x22, 0x33, 0x44);
    EXPECT_EQ(mr(0xa0020), 0x11u); // read mode 0, map 0; loads all four latches
    gc(5, 0x01);
    gc(8, 0x00); // the bit mask does not apply in write mode 1
    mw(0xa0100, 0xee);
    EXPECT_EQ(plane(0, 0x100), 0x11);
    EXPECT_EQ(plane(1, 0x100), 0x22);
    EXPECT_EQ(plane(2, 0x100), 0x33);
    EXPECT_EQ(plane(3, 0x100), 0x44);
    // with the map mask limiting planes
    seq(2, 0x05);
    mw(0xa0101, 0);
    EXPECT_EQ(plane(0, 0x101), 0x11);
    EXPECT_EQ(plane(1, 0x101), 0x00);
    EXPECT_EQ(plane(2, 0x101), 0x33);
    EXPECT_EQ(plane(3, 0x101), 0x00);
}

TEST_F(VgaTest, WriteMode2And3)
{
    planar();
    // mode 2: CPU bits 0-3 are the colour, bit mask picks the pixels
    fill(0x30, 0x0f, 0x0f, 0x0f, 0x0f);
    mr(0xa0030);
    gc(5, 0x02);
    gc(8, 0xc0);
    mw(0xa0030, 0x06);
    EXPECT_EQ(plane(0, 0x30), 0x0f);
    EXPECT_EQ(plane(1, 0x30), 0xcf);
    EXPECT_EQ(plane(2, 0x30), 0xcf);
    EXPECT_EQ(plane(3, 0x30), 0x0f);
    // mode 3: set/reset is the colour, rotated CPU data AND bit mask is the mask
    fill(0x31, 0x00, 0x00, 0x00, 0xff);
    mr(0xa0031);
    gc(5, 0x03);
    gc(0, 0x0c);
    gc(8, 0xf0);
    gc(3, 0x01); // rotate right 1: 0x78 -> 0x3c, AND 0xf0 -> 0x30
    mw(0xa0031, 0x78);
    EXPECT_EQ(plane(0, 0x31), 0x00);
    EXPECT_EQ(plane(1, 0x31), 0x00);
    EXPECT_EQ(plane(2, 0x31), 0x30);
    EXPECT_EQ(plane(3, 0x31), 0xff);
    gc(0, 0x00);
    mw(0xa0031, 0x78);
    EXPECT_EQ(plane(3, 0x31), 0xcf);
}

TEST_F(VgaTest, ReadModes)
{
    planar();
    fill(0x40, 0xf0, 0xcc, 0xaa, 0x00);
    gc(4, 2);
    EXPECT_EQ(mr(0xa0040), 0xaau);
    gc(4, 1);
    EXPECT_EQ(mr(0xa0040), 0xccu);
    // read mode 1: colour 0101 over all planes
    gc(5, 0x08);
    gc(2, 0x05);
    gc(7, 0x0f);
    EXPECT_EQ(mr(0xa0040), 0x20u);
    gc(7, 0x01); // only plane 0 compared
    EXPECT_EQ(mr(0xa0040), 0xf0u);
    gc(7, 0x00); // nothing compared: everything matches
    EXPECT_EQ(mr(0xa0040), 0xffu);
    gc(2, 0x00);
    gc(7, 0x0f); // colour 0: bits clear in all planes
    EXPECT_EQ(mr(0xa0040), 0x01u);
}

TEST_F(VgaTest, Chain4Mode13h)
{
    seq(2, 0x0f);
    seq(4, 0x0e);
    gc(5, 0x40);
    gc(6, 0x05);
    for (uint32_t i = 0; i < 16; i++) mw(0xa0000 + i, 0xa0 + i);
    for (uint32_t i = 0; i < 16; i++) EXPECT_EQ(v.vram[i], 0xa0 + i);
    EXPECT_EQ(plane(1, 0), 0xa1); // byte 1 is plane 1 of plane address 0
    EXPECT_EQ(plane(3, 2), 0xab);
    EXPECT_EQ(mr(0xa0005), 0xa5u);
    EXPECT_EQ(mr(0xa0004, 4), 0xa7a6a5a4u);
    mw(0xa0000 + 63999, 0x42);
    EXPECT_EQ(v.vram[63999], 0x42);
    // the map mask still gates planes
    seq(2, 0x01);
    mw(0xa0001, 0x00);
    mw(0xa0004, 0x00);
    EXPECT_EQ(v.vram[1], 0xa1);
    EXPECT_EQ(v.vram[4], 0x00);
    EXPECT_EQ(mr(0xb0000), 0xffu); // 64 KiB window
}

TEST_F(VgaTest, OddEvenAddressing)
{
    // text mode defaults: odd/even writes and reads
    seq(2, 0x0f); // even -> planes 0 and 2, odd -> planes 1 and 3
    mw(0xb8010, 0x41);
    mw(0xb8011, 0x07);
    EXPECT_EQ(plane(0, 0x10), 0x41);
    EXPECT_EQ(plane(2, 0x10), 0x41);
    EXPECT_EQ(plane(1, 0x10), 0x07);
    EXPECT_EQ(plane(3, 0x10), 0x07);
    EXPECT_EQ(plane(1, 0x11), 0x00);
    plane(2, 0x10) = 0x99;
    plane(3, 0x10) = 0x98;
    gc(4, 2); // read map bit 1 selects planes 2/3
    EXPECT_EQ(mr(0xb8010), 0x99u);
    EXPECT_EQ(mr(0xb8011), 0x98u);
    gc(4, 0);
    EXPECT_EQ(mr(0xb8011), 0x07u);
    // odd/even reads off: plain read map select on linear addresses
    gc(5, 0x00);
    gc(4, 1);
    EXPECT_EQ(mr(0xb8010), 0x07u);
    // odd/even writes off (sequential): both bytes to plane address as is
    seq(4, 0x06);
    seq(2, 0x04);
    mw(0xb8021, 0x5c);
    EXPECT_EQ(plane(2, 0x21), 0x5c);
    EXPECT_EQ(plane(2, 0x20), 0x00);
}

TEST_F(VgaTest, MemoryMapSelect)
{
    planar();
    gc(6, 0x01); // A0000-BFFFF, 128 KiB
    mw(0xb8000, 0x11);
    EXPECT_EQ(plane(0, 0x18000), 0x11);
    EXPECT_EQ(mr(0xb8000), 0x11u);
    mw(0xa0000, 0x22);
    EXPECT_EQ(plane(0, 0), 0x22);
    gc(6, 0x05); // A0000, 64 KiB
    EXPECT_EQ(mr(0xa0000), 0x22u);
    EXPECT_EQ(mr(0xb8000), 0xffu);
    mw(0xb8000, 0x33);
    EXPECT_EQ(plane(0, 0x18000), 0x11);
    gc(6, 0x09); // B0000, 32 KiB
    EXPECT_EQ(mr(0xa0000), 0xffu);
    EXPECT_EQ(mr(0xb0000), 0x22u);
    EXPECT_EQ(mr(0xb8000), 0xffu);
    mw(0xb0001, 0x44);
    EXPECT_EQ(plane(0, 1), 0x44);
    gc(6, 0x0d); // B8000, 32 KiB
    EXPECT_EQ(mr(0xb0000), 0xffu);
    EXPECT_EQ(mr(0xb8000), 0x22u);
    EXPECT_EQ(mr(0xb8001), 0x44u);
    EXPECT_EQ(mr(0xbffff), 0x00u);
    EXPECT_EQ(inb(0x3cf), 0x0du);
}

// ---- registers ----

TEST_F(VgaTest, AttributeControllerFlipFlop)
{
    inb(0x3da);
    outb(0x3c0, 0x01);
    outb(0x3c0, 0x2a);
    outb(0x3c0, 0x21); // index again (flip-flop toggled back), PAS set
    EXPECT_EQ(inb(0x3c0), 0x21u);
    EXPECT_EQ(inb(0x3c1), 0x2au);
    outb(0x3c0, 0x15); // data state: this is a data write to register 1
    EXPECT_EQ(inb(0x3c1), 0x15u);
    // now in the index state; put it in the data state and reset it by reading 0x3DA
    outb(0x3c0, 0x02);
    inb(0x3da);
    outb(0x3c0, 0x12); // index, not data
    EXPECT_EQ(inb(0x3c0), 0x12u);
    outb(0x3c0, 0xff); // colour plane enable keeps its 6 bits
    EXPECT_EQ(inb(0x3c1), 0x3fu);
    EXPECT_EQ(v.attr[2], 0x00);
    // palette entries are 6 bits
    attr(3, 0xff);
    EXPECT_EQ(v.attr[3], 0x3f);
}

TEST_F(VgaTest, InputStatus1Toggles)
{
    uint32_t a = inb(0x3da), b = inb(0x3da);
    EXPECT_EQ((a ^ b) & 0x08, 0x08u);
    // colour mode: 0x3BA is not decoded
    EXPECT_EQ(inb(0x3ba), 0xffu);
    outb(0x3c2, 0x66); // mono
    EXPECT_EQ(inb(0x3cc), 0x66u);
    EXPECT_EQ(inb(0x3da), 0xffu);
    EXPECT_EQ(inb(0x3d5), 0xffu);
    outw(0x3b4, 0x0e | 0x12 << 8);
    EXPECT_EQ(v.crtc[0x0e], 0x12);
}

TEST_F(VgaTest, DacIndicesAndSixBitComponents)
{
    outb(0x3c8, 5);
    const uint8_t vals[6] = {0x3f, 0x20, 0x10, 0x01, 0x02, 0x43};
    for (uint8_t x : vals) outb(0x3c9, x);
    EXPECT_EQ(inb(0x3c8), 7u);
    EXPECT_EQ(inb(0x3c7), 0u); // write state
    outb(0x3c7, 5);
    EXPECT_EQ(inb(0x3c7), 3u); // read state
    const uint8_t want[6] = {0x3f, 0x20, 0x10, 0x01, 0x02, 0x03};
    for (uint8_t x : want) EXPECT_EQ(inb(0x3c9), x);
    // the read index advanced to 7 (zeros), entry 255 wraps to 0
    EXPECT_EQ(inb(0x3c9), 0u);
    dac(255, 1, 2, 3);
    dac(0, 4, 5, 6);
    outb(0x3c7, 255);
    for (uint8_t x : {1, 2, 3, 4, 5, 6}) EXPECT_EQ(inb(0x3c9), x);
    // a new index restarts the component sequence
    outb(0x3c8, 9);
    outb(0x3c9, 0x11);
    outb(0x3c8, 10);
    outb(0x3c9, 0x21);
    outb(0x3c9, 0x22);
    outb(0x3c9, 0x23);
    EXPECT_EQ(v.dac[9 * 3], 0x11);
    EXPECT_EQ(v.dac[10 * 3 + 2], 0x23);
    outb(0x3c6, 0x0f);
    EXPECT_EQ(inb(0x3c6), 0x0fu);
}

TEST_F(VgaTest, CrtcWriteProtect)
{
    crtc(0x11, 0x80);
    crtc(0x01, 0x10);
    EXPECT_EQ(v.crtc[1], 79);
    crtc(0x07, 0xff); // only line compare bit 8 (bit 4) gets through
    EXPECT_EQ(v.crtc[7], 0x12);
    crtc(0x0c, 0x34); // beyond register 7: writable
    EXPECT_EQ(v.crtc[0x0c], 0x34);
    outb(0x3d4, 0x07);
    EXPECT_EQ(inb(0x3d5), 0x12u);
    crtc(0x11, 0x00);
    crtc(0x01, 0x10);
    EXPECT_EQ(v.crtc[1], 0x10);
}

TEST_F(VgaTest, SequencerAndGcReadBack)
{
    outb(0x3c4, 0x02);
    outb(0x3c5, 0x0a);
    EXPECT_EQ(inb(0x3c4), 0x02u);
    EXPECT_EQ(inb(0x3c5), 0x0au);
    gc(8, 0x5a);
    outb(0x3ce, 0x08);
    EXPECT_EQ(inb(0x3cf), 0x5au);
}

// ---- Bochs VBE ----

TEST_F(VgaTest, VbeIdAndCaps)
{
    EXPECT_EQ(vbe_rd(0), 0xb0c5u);
    vbe(0, 0xb0c0);
    EXPECT_EQ(vbe_rd(0), 0xb0c0u);
    vbe(0, 0x1234);
    EXPECT_EQ(vbe_rd(0), 0xb0c0u);
    vbe(0, 0xb0c5);
    EXPECT_EQ(inw(0x1ce), 0u); // index reads back
    vbe(4, 0x02);              // GETCAPS
    EXPECT_EQ(vbe_rd(1), 2560u);
    EXPECT_EQ(vbe_rd(2), 1600u);
    EXPECT_EQ(vbe_rd(3), 32u);
    vbe(4, 0x00);
    EXPECT_EQ(vbe_rd(1), 0u);
    EXPECT_EQ(vbe_rd(10), 256u); // 16 MiB in 64 KiB units
    vbe(3, 7);                   // not a depth
    EXPECT_EQ(vbe_rd(3), 8u);
    vbe(1, 4000); // beyond the maximum
    EXPECT_EQ(vbe_rd(1), 0u);
    EXPECT_EQ(vbe_rd(0x20), 0u);
}

TEST_F(VgaTest, VbeBankedAndLinearFramebuffer)
{
    vbe(1, 640);
    vbe(2, 480);
    vbe(3, 32);
    v.vram[5] = 0x77;
    vbe(4, 0x41); // enabled, LFB; clears memory
    EXPECT_EQ(vbe_rd(4), 0x41u);
    EXPECT_EQ(v.vram[5], 0x00);
    EXPECT_EQ(vbe_rd(6), 640u);
    EXPECT_EQ(vbe_rd(7), 480u);
    EXPECT_EQ(dump(), "<graphics>");
    // banked window: bank 1 is video memory 0x10000-0x1FFFF
    vbe(5, 1);
    EXPECT_EQ(vbe_rd(5), 1u);
    mw(0xa0000, 0x00112233, 4);
    mw(0xa0010, 0x00abcdef, 4);
    EXPECT_EQ(v.vram[0x10000], 0x33);
    EXPECT_EQ(v.vram[0x10002], 0x11);
    EXPECT_EQ(mr(0xa0010, 4), 0x00abcdefu);
    EXPECT_EQ(mr(0xb0000), 0xffu); // only 64 KiB of window
    vbe(5, 256);                   // beyond video memory: refused
    EXPECT_EQ(vbe_rd(5), 1u);
    // the LFB after BAR 0 is programmed and memory decoding enabled
    EXPECT_EQ(physmem_rd_ptr(mem, 0xe0000000), nullptr);
    pci_config_write(&pci, kDevfn, 0x10, 0xffffffff, 4);
    EXPECT_EQ(pci_config_read(&pci, kDevfn, 0x10, 4), 0xff000008u); // 16 MiB, prefetchable
    pci_config_write(&pci, kDevfn, 0x10, 0xe0000000, 4);
    pci_config_write(&pci, kDevfn, 0x04, 0x0002, 2);
    ASSERT_EQ(physmem_rd_ptr(mem, 0xe0000000), v.vram);
    ASSERT_EQ(physmem_wr_ptr(mem, 0xe0000000 + 0x10000), v.vram + 0x10000);
    EXPECT_EQ(*physmem_rd_ptr(mem, 0xe0010000), 0x33);
    EXPECT_EQ(physmem_rd_ptr(mem, 0xe0000000 + VGA_VRAM_SIZE - 1), v.vram + VGA_VRAM_SIZE - 1);
    *physmem_wr_ptr(mem, 0xe0000000 + (1 * 640 + 2) * 4) = 0x99;
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(w, 640);
    EXPECT_EQ(h, 480);
    EXPECT_EQ(px(2, 1), 0x000099u);
    // byte 0x10000 is pixel 16384 = (384, 25)
    EXPECT_EQ(px(384, 25), 0x112233u);
    EXPECT_EQ(px(388, 25), 0xabcdefu);
    // moving the BAR moves the mapping
    pci_config_write(&pci, kDevfn, 0x10, 0xf0000000, 4);
    EXPECT_EQ(physmem_rd_ptr(mem, 0xe0000000), nullptr);
    EXPECT_EQ(physmem_rd_ptr(mem, 0xf0000000), v.vram);
    pci_config_write(&pci, kDevfn, 0x04, 0x0000, 2);
    EXPECT_EQ(physmem_rd_ptr(mem, 0xf0000000), nullptr);
    // re-enabling with NOCLEARMEM keeps the picture, without clears it
    vbe(4, 0xc1);
    EXPECT_EQ(v.vram[0x10000], 0x33);
    vbe(4, 0x41);
    EXPECT_EQ(v.vram[0x10000], 0x00);
    // back to VGA: the window is planar/odd-even again
    vbe(4, 0);
    mw(0xb8000, 'Z');
    EXPECT_EQ(dump(), "Z\n");
}

TEST_F(VgaTest, VbeModeChangeWhileEnabled)
{
    // SeaBIOS: enable first with NOCLEARMEM, then set the mode, then clear
    vbe(4, 0xc1);
    vbe(3, 16);
    vbe(1, 800);
    vbe(2, 600);
    EXPECT_EQ(vbe_rd(6), 800u); // virtual size follows
    EXPECT_EQ(vbe_rd(7), 600u);
    vbe(6, 1024);
    EXPECT_EQ(vbe_rd(6), 1024u);
    EXPECT_EQ(vbe_rd(7), (16u << 20) / 2048);
    vbe(6, 100); // narrower than the screen: the screen width
    EXPECT_EQ(vbe_rd(6), 800u);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(w, 800);
    EXPECT_EQ(h, 600);
}

TEST_F(VgaTest, RomBar)
{
    EXPECT_EQ(pci_config_read(&pci, kDevfn, 0x00, 4), 0x11111234u);
    EXPECT_EQ(pci_config_read(&pci, kDevfn, 0x0a, 2), 0x0300u);
    pci_config_write(&pci, kDevfn, 0x30, 0xffffffff, 4);
    EXPECT_EQ(pci_config_read(&pci, kDevfn, 0x30, 4), 0xfffff001u); // 4 KiB ROM
    pci_config_write(&pci, kDevfn, 0x30, 0xfebc0000, 4);               // not enabled
    pci_config_write(&pci, kDevfn, 0x04, 0x0002, 2);
    EXPECT_EQ(physmem_rd_ptr(mem, 0xfebc0000), nullptr);
    pci_config_write(&pci, kDevfn, 0x30, 0xfebc0001, 4);
    const uint8_t *p = physmem_rd_ptr(mem, 0xfebc0000);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p[0], 0x55);
    EXPECT_EQ(p[1], 0xaa);
    EXPECT_EQ(p[2], 14);
    EXPECT_EQ(p[1023], static_cast<uint8_t>(1023 * 7));
    EXPECT_EQ(p[1024], 0xff); // padding
    EXPECT_EQ(physmem_wr_ptr(mem, 0xfebc0000), nullptr); // read-only
    pci_config_write(&pci, kDevfn, 0x30, 0xfebc0000, 4);
    EXPECT_EQ(physmem_rd_ptr(mem, 0xfebc0000), nullptr);
    // reset unmaps the BARs
    pci_config_write(&pci, kDevfn, 0x30, 0xfebc0001, 4);
    EXPECT_NE(physmem_rd_ptr(mem, 0xfebc0000), nullptr);
    vga_reset(&v);
    EXPECT_EQ(physmem_rd_ptr(mem, 0xfebc0000), nullptr);
    EXPECT_EQ(pci_config_read(&pci, kDevfn, 0x30, 4), 0u);
}

// ---- rendering ----

TEST_F(VgaTest, RenderVbeDepths)
{
    vbe(1, 4);
    vbe(2, 2);
    vbe(3, 32);
    vbe(4, 0x01);
    const uint32_t pix32[8] = {0x00ff0000, 0x0000ff00, 0x000000ff, 0x00123456,
                               0x00000001, 0x00800000, 0x00ffffff, 0x00010203};
    memcpy(v.vram, pix32, sizeof(pix32));
    ASSERT_EQ(render(), 0);
    ASSERT_EQ(w, 4);
    ASSERT_EQ(h, 2);
    for (int i = 0; i < 8; i++) EXPECT_EQ(px(i % 4, i / 4), pix32[i]) << i;
    // 24 bpp: B, G, R
    vbe(3, 24);
    vbe(4, 0x81);
    const uint8_t p24[6] = {0x01, 0x02, 0x03, 0xaa, 0xbb, 0xcc};
    memcpy(v.vram, p24, sizeof(p24));
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(0, 0), 0x030201u);
    EXPECT_EQ(px(1, 0), 0xccbbaau);
    // 16 bpp 5:6:5 and 15 bpp 5:5:5
    vbe(3, 16);
    vbe(4, 0x81);
    const uint16_t p16[3] = {0xf800, 0x07e0, 0x001f};
    memcpy(v.vram, p16, sizeof(p16));
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(0, 0), 0xff0000u);
    EXPECT_EQ(px(1, 0), 0x00ff00u);
    EXPECT_EQ(px(2, 0), 0x0000ffu);
    vbe(3, 15);
    vbe(4, 0x81);
    const uint16_t p15[3] = {0x7c00, 0x0200, 0x0001};
    memcpy(v.vram, p15, sizeof(p15));
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(0, 0), 0xff0000u);
    EXPECT_EQ(px(1, 0), 0x008400u); // green 16 -> 0x84
    EXPECT_EQ(px(2, 0), 0x000008u);
    // 8 bpp through the DAC (6-bit, then 8-bit DAC)
    vbe(3, 8);
    vbe(4, 0x81);
    dac(3, 0x3f, 0x00, 0x20);
    v.vram[1] = 3;
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(1, 0), 0xff0082u);
    EXPECT_EQ(px(0, 0), 0x000000u);
    vbe(4, 0xa1); // 8-bit DAC
    dac(3, 0x80, 0x40, 0xff);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(1, 0), 0x8040ffu);
}

TEST_F(VgaTest, RenderVbeVirtualWidthAndOffsets)
{
    vbe(1, 2);
    vbe(2, 2);
    vbe(3, 32);
    vbe(4, 0x01);
    vbe(6, 8); // 8 pixels per line
    uint32_t *fbm = reinterpret_cast<uint32_t *>(v.vram);
    for (uint32_t i = 0; i < 32; i++) fbm[i] = 0x100 + i;
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(0, 0), 0x100u);
    EXPECT_EQ(px(1, 1), 0x109u);
    vbe(8, 3); // x offset
    vbe(9, 2); // y offset
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(0, 0), 0x100u + 2 * 8 + 3);
    EXPECT_EQ(px(1, 1), 0x100u + 3 * 8 + 4);
}

TEST_F(VgaTest, VbePlanar4bpp)
{
    // 4 bpp VBE modes keep the VGA planar pipeline, with the bank added
    vbe(1, 16);
    vbe(2, 2);
    vbe(3, 4);
    vbe(4, 0x01);
    planar();
    for (int i = 0; i < 16; i++) attr(i, i);
    attr(0x12, 0x0f);
    dac(0x0c, 0x3f, 0x00, 0x00);
    dac(0x03, 0x00, 0x3f, 0x00);
    fill(2, 0x80, 0x00, 0x80, 0x80); // pixel (0, 1): colour 13... planes 0, 2, 3
    fill(3, 0x01, 0x01, 0x00, 0x00); // pixel (15, 1): colour 3
    dac(0x0d, 0x00, 0x00, 0x3f);
    EXPECT_EQ(plane(3, 2), 0x80);
    ASSERT_EQ(render(), 0);
    ASSERT_EQ(w, 16);
    ASSERT_EQ(h, 2);
    EXPECT_EQ(px(0, 1), 0x0000ffu);
    EXPECT_EQ(px(15, 1), 0x00ff00u);
    EXPECT_EQ(px(1, 1), 0x000000u);
    vbe(5, 1);
    mr(0xa0000);
    fill(0, 0x11, 0, 0, 0);
    EXPECT_EQ(plane(0, 0x10000), 0x11);
}

TEST_F(VgaTest, RenderRejectsNonsenseAndSmallBuffers)
{
    vbe(1, 0);
    vbe(2, 100);
    vbe(4, 0x01);
    EXPECT_EQ(render(), -1);
    vbe(1, 2048);
    vbe(2, 1024);
    EXPECT_EQ(render(), -1);
    EXPECT_EQ(w, 2048);
    EXPECT_EQ(h, 1024);
    vbe(4, 0);
    crtc(0x09, 0x1f); // 32-line characters: 12 rows
    EXPECT_EQ(render(), 0);
    EXPECT_EQ(h, 12 * 32);
    crtc(0x12, 0x00);
    crtc(0x07, 0x00); // one scan line: no row fits
    EXPECT_EQ(render(), -1);
}

// Mode 13h as the VGA BIOS programs it.
TEST_F(VgaTest, RenderMode13h)
{
    outb(0x3c2, 0x63);
    seq(1, 0x01);
    seq(2, 0x0f);
    seq(4, 0x0e);
    gc(5, 0x40);
    gc(6, 0x05);
    crtc(0x01, 0x4f);
    crtc(0x07, 0x1f);
    crtc(0x09, 0x41);
    crtc(0x12, 0x8f);
    crtc(0x13, 0x28);
    crtc(0x14, 0x40);
    crtc(0x17, 0xa3);
    attr(0x10, 0x41);
    attr(0x12, 0x0f);
    dac(7, 0x3f, 0x20, 0x00);
    dac(200, 0x01, 0x02, 0x03);
    mw(0xa0000 + 320 * 3 + 5, 7);
    mw(0xa0000 + 320 * 199 + 319, 200);
    ASSERT_EQ(render(), 0);
    ASSERT_EQ(w, 320);
    ASSERT_EQ(h, 200);
    EXPECT_EQ(px(5, 3), 0xff8200u);
    EXPECT_EQ(px(4, 3), 0x000000u);
    EXPECT_EQ(px(5, 2), 0x000000u);
    EXPECT_EQ(px(319, 199), 0x04080cu);
    // the pel mask applies
    outb(0x3c6, 0x03);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(5, 3), 0x000000u); // 7 & 3 = 3: black
    outb(0x3c6, 0xff);
    // start address moves the picture (in plane addresses: 4 pixels each)
    crtc(0x0c, 0);
    crtc(0x0d, 80); // one line (320 pixels / 4)
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(5, 2), 0xff8200u);
}

// Mode 12h-like planar 640x480x16 through the attribute palette.
TEST_F(VgaTest, RenderPlanar16)
{
    planar();
    crtc(0x01, 0x4f);
    crtc(0x07, 0x3e);
    crtc(0x09, 0x40);
    crtc(0x12, 0xdf);
    crtc(0x13, 0x28);
    crtc(0x17, 0xe3);
    attr(0x10, 0x01);
    attr(0x12, 0x0f);
    for (int i = 0; i < 16; i++) attr(i, i);
    attr(0x09, 0x39);
    dac(0x39, 0x10, 0x20, 0x30);
    dac(0x02, 0x3f, 0x3f, 0x3f);
    // pixel (9, 1): byte 80 + 1, bit 6, colour 9 via write mode 2
    gc(5, 0x02);
    gc(8, 0x40);
    mr(0xa0000 + 81); // latches first: the masked-off pixels come from them
    mw(0xa0000 + 81, 9);
    gc(8, 0x01);
    mr(0xa0000 + 81);
    mw(0xa0000 + 81, 2); // pixel (15, 1) colour 2
    ASSERT_EQ(render(), 0);
    ASSERT_EQ(w, 640);
    ASSERT_EQ(h, 480);
    EXPECT_EQ(px(9, 1), 0x4182c3u);
    EXPECT_EQ(px(15, 1), 0xffffffu);
    EXPECT_EQ(px(8, 1), 0x000000u);
    // colour plane enable masks plane 3 off: colour 9 becomes 1
    attr(0x12, 0x07);
    dac(0x01, 0x00, 0x00, 0x3f);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(9, 1), 0x0000ffu);
}

// CGA 320x200x4 (mode 4): interleaved banks and 2 bits per pixel.
TEST_F(VgaTest, RenderCgaMode4)
{
    seq(1, 0x09);
    seq(2, 0x03);
    seq(4, 0x02);
    gc(5, 0x30);
    gc(6, 0x0f);
    crtc(0x01, 0x27);
    crtc(0x07, 0x1f);
    crtc(0x09, 0xc1);
    crtc(0x12, 0x8f);
    crtc(0x13, 0x14);
    crtc(0x17, 0xa2);
    attr(0x10, 0x01);
    attr(0x12, 0x03);
    for (int i = 0; i < 16; i++) attr(i, i);
    dac(1, 0x00, 0x3f, 0x3f);
    dac(2, 0x3f, 0x00, 0x3f);
    dac(3, 0x3f, 0x3f, 0x3f);
    mw(0xb8000, 0x1b);          // line 0, pixels 0-3: 0,1,2,3
    mw(0xb8000 + 0x2000, 0xc0); // line 1, pixel 0: 3
    mw(0xb8000 + 80 + 1, 0x02); // line 2, pixel 7: 2
    ASSERT_EQ(render(), 0);
    ASSERT_EQ(w, 320);
    ASSERT_EQ(h, 200);
    EXPECT_EQ(px(0, 0), 0x000000u);
    EXPECT_EQ(px(1, 0), 0x00ffffu);
    EXPECT_EQ(px(2, 0), 0xff00ffu);
    EXPECT_EQ(px(3, 0), 0xffffffu);
    EXPECT_EQ(px(0, 1), 0xffffffu);
    EXPECT_EQ(px(7, 2), 0xff00ffu);
    EXPECT_EQ(px(7, 0), 0x000000u);
}

struct TextRender : VgaTest {
    void SetUp() override
    {
        VgaTest::SetUp();
        if (HasFatalFailure()) return;
        // font access as the BIOS does it: plane 2, sequential, A0000
        seq(2, 0x04);
        seq(4, 0x06);
        gc(4, 0x02);
        gc(5, 0x00);
        gc(6, 0x04);
        mw(0xa0000 + 'A' * 32 + 0, 0x80);
        mw(0xa0000 + 'A' * 32 + 1, 0x01);
        mw(0xa0000 + 0xc4 * 32 + 0, 0x01);
        mw(0xa0000 + 0x2000 + 'A' * 32 + 0, 0x40); // font map 4 at 0x2000
        seq(2, 0x03);
        seq(4, 0x02);
        gc(4, 0x00);
        gc(5, 0x10);
        gc(6, 0x0e);
        EXPECT_EQ(plane(2, 'A' * 32 + 1), 0x01);
        crtc(0x0a, 0x20); // cursor off
        for (int i = 0; i < 16; i++) attr(i, i);
        attr(0x10, 0x00);
        attr(0x12, 0x0f);
        dac(1, 0x00, 0x00, 0x2a);
        dac(4, 0x2a, 0x00, 0x00);
        dac(9, 0x15, 0x15, 0x3f);
        put_text(0, 0, "A", 0x41);
    }
};

TEST_F(TextRender, GlyphFromPlane2WithAttributeColours)
{
    ASSERT_EQ(render(), 0);
    ASSERT_EQ(w, 720); // 9-dot characters
    ASSERT_EQ(h, 400);
    EXPECT_EQ(px(0, 0), 0x0000aau); // foreground
    EXPECT_EQ(px(1, 0), 0xaa0000u); // background
    EXPECT_EQ(px(0, 1), 0xaa0000u);
    EXPECT_EQ(px(7, 1), 0x0000aau);
    EXPECT_EQ(px(8, 1), 0xaa0000u); // ninth dot: background
    EXPECT_EQ(px(0, 2), 0xaa0000u);
    EXPECT_EQ(px(9, 0), 0x000000u); // next cell: char 0 attr 0
    // 8-dot characters
    seq(1, 0x01);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(w, 640);
    EXPECT_EQ(px(7, 1), 0x0000aau);
    EXPECT_EQ(px(8, 1), 0x000000u);
}

TEST_F(TextRender, LineGraphicsNinthDotBlinkAndFontSelect)
{
    put_text(0, 1, "\xc4", 0x19);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(9 + 7, 0), 0x5555ffu);
    EXPECT_EQ(px(9 + 8, 0), 0x0000aau); // line graphics off: background (1)
    attr(0x10, 0x04);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(9 + 7, 0), 0x5555ffu);
    EXPECT_EQ(px(9 + 8, 0), 0x5555ffu);
    // blink enable: attribute bit 7 is not background intensity
    put_text(0, 2, "A", 0xc1);
    dac(12, 0x3f, 0x00, 0x00);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(18 + 1, 0), 0xff0000u); // bg 12 (bright red)
    attr(0x10, 0x0c);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(18 + 1, 0), 0xaa0000u); // bg 4
    // character map select: attribute bit 3 picks map A (4 at 0x2000), else map B (0)
    seq(3, 0x20); // map A = 4, map B = 0
    put_text(0, 3, "A", 0x09);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(27 + 1, 0), 0x5555ffu);
    EXPECT_EQ(px(27 + 0, 0), 0x000000u);
    EXPECT_EQ(px(0, 0), 0x0000aau); // attr 0x41: bit 3 clear -> map B
}

TEST_F(TextRender, CursorAndStartAddress)
{
    crtc(0x0a, 14);
    crtc(0x0b, 15);
    crtc(0x0e, 0);
    crtc(0x0f, 81); // row 1, column 1
    put_text(1, 1, " ", 0x14);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(9 + 3, 16 + 14), 0xaa0000u); // cursor in the foreground colour (4)
    EXPECT_EQ(px(9 + 3, 16 + 13), 0x0000aau); // background 1
    crtc(0x0d, 80); // start one row down: the cursor row is now row 0
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(9 + 3, 14), 0xaa0000u);
}

TEST_F(VgaTest, PaletteSourceColourSelect)
{
    // mode control bit 7: colour select bits 1:0 replace palette bits 5:4
    outb(0x3c2, 0x63);
    attr(0x10, 0x01);
    attr(0x12, 0x0f);
    attr(0x01, 0x3f);
    attr(0x14, 0x0a); // bits 3:2 -> DAC index bits 7:6, bits 1:0 -> 5:4 if enabled
    planar();
    crtc(0x01, 0x4f);
    crtc(0x07, 0x3e);
    crtc(0x09, 0x40);
    crtc(0x12, 0xdf);
    crtc(0x13, 0x28);
    crtc(0x17, 0xe3);
    dac(0xbf, 0x3f, 0x00, 0x00);
    dac(0xaf, 0x00, 0x3f, 0x00);
    gc(5, 0x02);
    gc(8, 0x80);
    mw(0xa0000, 1);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(0, 0), 0xff0000u); // 0x3f | 0x80
    attr(0x10, 0x81);
    ASSERT_EQ(render(), 0);
    EXPECT_EQ(px(0, 0), 0x00ff00u); // 0x0f | 0x20 | 0x80
}

} // namespace
