// test_ide.cc — the PIIX3 IDE controller driven through its ports like a guest driver:
// IDENTIFY, PIO reads and writes in CHS/LBA28/LBA48 forms, multiple mode, errors,
// interrupts and nIEN, soft reset signatures, absent drives and channels, PCI identity.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "devices/block/block.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/ide.h"
#include "devices/pci.h"
}

namespace {

constexpr uint16_t kData = 0x1f0, kError = 0x1f1, kFeature = 0x1f1, kCount = 0x1f2,
                   kSector = 0x1f3, kLcyl = 0x1f4, kHcyl = 0x1f5, kSelect = 0x1f6,
                   kStatus = 0x1f7, kCommand = 0x1f7, kAltStatus = 0x3f6, kDevCtl = 0x3f6;

uint8_t Pattern(uint64_t sector, unsigned i)
{
    return (uint8_t)(sector * 31 + i + (sector >> 8) + (sector >> 16) * 5);
}

struct TempImage {
    std::string path;
    explicit TempImage(uint64_t sectors, bool sparse = false)
    {
        char tmpl[] = "/tmp/dbt86-ide-XXXXXX";
        int fd = mkstemp(tmpl);
        EXPECT_GE(fd, 0);
        path = tmpl;
        if (sparse) {
            EXPECT_EQ(0, ftruncate(fd, (off_t)(sectors * 512)));
        } else {
            std::vector<uint8_t> data(sectors * 512);
            for (uint64_t s = 0; s < sectors; s++)
                for (unsigned i = 0; i < 512; i++) data[s * 512 + i] = Pattern(s, i);
            EXPECT_EQ((ssize_t)data.size(), write(fd, data.data(), data.size()));
        }
        close(fd);
    }
    ~TempImage() { unlink(path.c_str()); }
    std::vector<uint8_t> Sector(uint64_t s) const
    {
        std::vector<uint8_t> v(512);
        int fd = open(path.c_str(), O_RDONLY);
        EXPECT_EQ(512, pread(fd, v.data(), 512, (off_t)(s * 512)));
        close(fd);
        return v;
    }
    void PutSector(uint64_t s, const std::vector<uint8_t> &v) const
    {
        int fd = open(path.c_str(), O_WRONLY);
        EXPECT_EQ(512, pwrite(fd, v.data(), 512, (off_t)(s * 512)));
        close(fd);
    }
};

struct IrqRecorder {
    int level[16] = {};
    int raises[16] = {};
    static void Set(void *opaque, int n, int level)
    {
        auto *r = static_cast<IrqRecorder *>(opaque);
        if (level && !r->level[n]) r->raises[n]++;
        r->level[n] = level;
    }
};

class IdeTest : public ::testing::Test {
protected:
    std::unique_ptr<Bus> bus{new Bus};
    std::unique_ptr<PciBus> pci{new PciBus};
    std::unique_ptr<Ide> ide{new Ide};
    std::unique_ptr<PhysMem> mem{new PhysMem()}; // no RAM: these tests use PIO only
    uint64_t icount = 0;
    Clock clk;
    IrqRecorder irq;
    std::vector<std::unique_ptr<BlockDev>> blks;

    void SetUp() override
    {
        bus_init(bus.get());
        pci_bus_init(pci.get(), bus.get());
        clock_init(&clk, &icount, 0);
        ide_init(ide.get(), bus.get(), pci.get(), mem.get(), &clk,
                 IrqLine{IrqRecorder::Set, &irq, 14}, IrqLine{IrqRecorder::Set, &irq, 15});
    }
    void TearDown() override
    {
        for (auto &b : blks) blk_close(b.get());
    }
    BlockDev *Attach(const TempImage &img, int ch, int unit, bool read_only = false,
                     bool cdrom = false)
    {
        blks.emplace_back(new BlockDev);
        BlockDev *b = blks.back().get();
        char err[256] = "";
        EXPECT_EQ(0, blk_open(b, img.path.c_str(), "raw", read_only, false, err, sizeof err))
            << err;
        ide_attach(ide.get(), ch, unit, b, cdrom);
        return b;
    }

    uint8_t In8(uint16_t p) { return (uint8_t)bus_io_read(bus.get(), p, 1); }
    uint16_t In16(uint16_t p) { return (uint16_t)bus_io_read(bus.get(), p, 2); }
    uint32_t In32(uint16_t p) { return bus_io_read(bus.get(), p, 4); }
    void Out8(uint16_t p, uint8_t v) { bus_io_write(bus.get(), p, v, 1); }
    void Out16(uint16_t p, uint16_t v) { bus_io_write(bus.get(), p, v, 2); }
    void Out32(uint16_t p, uint32_t v) { bus_io_write(bus.get(), p, v, 4); }

    void Lba28(uint8_t cmd, uint32_t lba, uint8_t count, int dev = 0)
    {
        Out8(kCount, count);
        Out8(kSector, (uint8_t)lba);
        Out8(kLcyl, (uint8_t)(lba >> 8));
        Out8(kHcyl, (uint8_t)(lba >> 16));
        Out8(kSelect, (uint8_t)(0xe0 | dev << 4 | ((lba >> 24) & 0x0f)));
        Out8(kCommand, cmd);
    }
    void Lba48(uint8_t cmd, uint64_t lba, uint16_t count)
    {
        Out8(kCount, (uint8_t)(count >> 8));
        Out8(kSector, (uint8_t)(lba >> 24));
        Out8(kLcyl, (uint8_t)(lba >> 32));
        Out8(kHcyl, (uint8_t)(lba >> 40));
        Out8(kCount, (uint8_t)count);
        Out8(kSector, (uint8_t)lba);
        Out8(kLcyl, (uint8_t)(lba >> 8));
        Out8(kHcyl, (uint8_t)(lba >> 16));
        Out8(kSelect, 0x40);
        Out8(kCommand, cmd);
    }
    void Chs(uint8_t cmd, uint32_t cyl, uint8_t head, uint8_t sect, uint8_t count)
    {
        Out8(kCount, count);
        Out8(kSector, sect);
        Out8(kLcyl, (uint8_t)cyl);
        Out8(kHcyl, (uint8_t)(cyl >> 8));
        Out8(kSelect, (uint8_t)(0xa0 | head));
        Out8(kCommand, cmd);
    }
    std::vector<uint8_t> ReadBlock(unsigned bytes, unsigned width = 2)
    {
        std::vector<uint8_t> v;
        for (unsigned i = 0; i < bytes; i += width) {
            uint32_t w = bus_io_read(bus.get(), kData, width);
            for (unsigned j = 0; j < width; j++) v.push_back((uint8_t)(w >> (8 * j)));
        }
        return v;
    }
    void WriteBlock(const std::vector<uint8_t> &v, unsigned width = 2)
    {
        for (size_t i = 0; i < v.size(); i += width) {
            uint32_t w = 0;
            for (unsigned j = 0; j < width; j++) w |= (uint32_t)v[i + j] << (8 * j);
            bus_io_write(bus.get(), kData, w, width);
        }
    }
    std::vector<uint16_t> Identify()
    {
        Out8(kSelect, 0xa0);
        Out8(kCommand, 0xec);
        EXPECT_EQ(0x58, In8(kStatus));
        std::vector<uint16_t> id(256);
        for (auto &w : id) w = In16(kData);
        EXPECT_EQ(0x50, In8(kStatus));
        return id;
    }
    static std::string IdString(const std::vector<uint16_t> &id, unsigned w, unsigned n)
    {
        std::string s;
        for (unsigned i = 0; i < n; i++) {
            s += (char)(id[w + i] >> 8);
            s += (char)(id[w + i] & 0xff);
        }
        return s;
    }
};

std::vector<uint8_t> PatternSector(uint64_t s)
{
    std::vector<uint8_t> v(512);
    for (unsigned i = 0; i < 512; i++) v[i] = Pattern(s, i);
    return v;
}

TEST_F(IdeTest, PciIdentity)
{
    uint8_t fn = PCI_DEVFN(1, 1);
    EXPECT_EQ(0x70108086u, pci_config_read(pci.get(), fn, 0x00, 4));
    EXPECT_EQ(0x01018000u, pci_config_read(pci.get(), fn, 0x08, 4));
    // BAR4: a 16-byte I/O BAR
    pci_config_write(pci.get(), fn, 0x20, 0xffffffff, 4);
    EXPECT_EQ(0xfffffff1u, pci_config_read(pci.get(), fn, 0x20, 4));
    // IDETIM is writable (firmware turns the channels on there)
    pci_config_write(pci.get(), fn, 0x40, 0x80008000, 4);
    EXPECT_EQ(0x80008000u, pci_config_read(pci.get(), fn, 0x40, 4));
    // map the bus-master registers and check they hold what is written
    pci_config_write(pci.get(), fn, 0x20, 0xc001, 4);
    pci_config_write(pci.get(), fn, 0x04, 0x0005, 2);
    Out32(0xc004, 0x12345677);
    EXPECT_EQ(0x12345674u, In32(0xc004));
    Out8(0xc000, 0xff);
    EXPECT_EQ(0x09, In8(0xc000));
    Out8(0xc00a, 0x60);
    EXPECT_EQ(0x60, In8(0xc00a));
    // disabling I/O decode unmaps them
    pci_config_write(pci.get(), fn, 0x04, 0x0000, 2);
    EXPECT_EQ(0xffffffffu, In32(0xc004));
}

TEST_F(IdeTest, IdentifyDevice)
{
    TempImage img(20000);
    Attach(img, 0, 0);
    std::vector<uint16_t> id = Identify();
    EXPECT_EQ(1, irq.raises[14]);
    EXPECT_EQ(0x0040, id[0]);
    EXPECT_EQ(19, id[1]); // 20000 / (16 * 63)
    EXPECT_EQ(16, id[3]);
    EXPECT_EQ(63, id[6]);
    EXPECT_EQ("DBT86 HARDDISK                          ", IdString(id, 27, 20));
    EXPECT_EQ("DBT86000000000000001", IdString(id, 10, 10));
    EXPECT_EQ("0.1.0   ", IdString(id, 23, 4));
    EXPECT_EQ(0x8010, id[47]);
    EXPECT_TRUE(id[49] & (1 << 9)); // LBA
    EXPECT_TRUE(id[49] & (1 << 8)); // DMA
    EXPECT_EQ(0x0007, id[53]);      // words 54-58, 64-70 and 88 valid
    EXPECT_EQ(19, id[54]);
    EXPECT_EQ(16, id[55]);
    EXPECT_EQ(63, id[56]);
    EXPECT_EQ(19u * 16 * 63, id[57] | (uint32_t)id[58] << 16);
    EXPECT_EQ(0x0110, id[59]); // multiple mode 16 valid
    EXPECT_EQ(20000u, id[60] | (uint32_t)id[61] << 16);
    EXPECT_EQ(0x0007, id[62]); // single-word DMA 0-2, none selected yet
    EXPECT_EQ(0x0007, id[63]); // multiword DMA 0-2
    EXPECT_EQ(0x003f, id[88]); // Ultra DMA 0-5
    EXPECT_EQ(0x0003, id[64]);
    EXPECT_EQ(0x007e, id[80]);
    EXPECT_TRUE(id[83] & (1 << 10)); // LBA48
    EXPECT_TRUE(id[86] & (1 << 10));
    EXPECT_EQ(20000u, id[100] | (uint32_t)id[101] << 16);
    EXPECT_EQ(0, id[102] | id[103]);
    uint8_t sum = 0;
    for (uint16_t w : id) sum = (uint8_t)(sum + (w & 0xff) + (w >> 8));
    EXPECT_EQ(0, sum);
    EXPECT_EQ(0xa5, id[255] & 0xff);
}

TEST_F(IdeTest, IdentifyWithByteAndDwordReads)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    std::vector<uint16_t> words = Identify();
    Out8(kCommand, 0xec);
    std::vector<uint8_t> bytes = ReadBlock(512, 1);
    Out8(kCommand, 0xec);
    std::vector<uint8_t> dwords = ReadBlock(512, 4);
    for (int i = 0; i < 256; i++) {
        ASSERT_EQ(words[i], bytes[2 * i] | bytes[2 * i + 1] << 8) << i;
        ASSERT_EQ(words[i], dwords[2 * i] | dwords[2 * i + 1] << 8) << i;
    }
    EXPECT_EQ(0x50, In8(kStatus));
}

TEST_F(IdeTest, ReadOneSectorLba)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Lba28(0x20, 1234, 1);
    EXPECT_EQ(1, irq.level[14]);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(0, irq.level[14]); // status read acknowledged it
    EXPECT_EQ(PatternSector(1234), ReadBlock(512));
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(1, irq.raises[14]); // no interrupt after the last block of a read
    // the address registers hold the last sector transferred
    EXPECT_EQ(1234 & 0xff, In8(kSector));
    EXPECT_EQ(1234 >> 8, In8(kLcyl));
}

TEST_F(IdeTest, ReadSeveralSectorsLbaOneIrqPerSector)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Lba28(0x20, 4000, 5);
    for (int s = 0; s < 5; s++) {
        EXPECT_EQ(s + 1, irq.raises[14]);
        EXPECT_EQ(0x58, In8(kStatus)) << s;
        EXPECT_EQ(PatternSector(4000 + s), ReadBlock(512, s % 2 ? 4 : 2)) << s;
    }
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(5, irq.raises[14]);
    EXPECT_EQ(0, In8(kCount));
}

TEST_F(IdeTest, ReadChs)
{
    TempImage img(20000);
    Attach(img, 0, 0);
    // C/H/S 3/5/7 with 16 heads, 63 sectors: (3*16+5)*63 + 6
    Chs(0x20, 3, 5, 7, 2);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(PatternSector(3345), ReadBlock(512));
    EXPECT_EQ(PatternSector(3346), ReadBlock(512));
    EXPECT_EQ(0x50, In8(kStatus));
    // the registers now name the last sector in CHS form: 3/5/8
    EXPECT_EQ(8, In8(kSector));
    EXPECT_EQ(0xa5, In8(kSelect));
    // sector 0 does not exist in CHS addressing
    Chs(0x20, 0, 0, 0, 1);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x10, In8(kError));
}

TEST_F(IdeTest, InitializeDeviceParametersChangesTranslation)
{
    TempImage img(20000);
    Attach(img, 0, 0);
    // 4 heads, 17 sectors per track
    Out8(kCount, 17);
    Out8(kSelect, 0xa0 | 3);
    Out8(kCommand, 0x91);
    EXPECT_EQ(0x50, In8(kStatus));
    Chs(0x20, 10, 2, 5, 1); // (10*4+2)*17 + 4 = 718
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(PatternSector(718), ReadBlock(512));
    std::vector<uint16_t> id = Identify();
    EXPECT_EQ(20000 / 68, id[54]);
    EXPECT_EQ(4, id[55]);
    EXPECT_EQ(17, id[56]);
    EXPECT_EQ(19, id[1]); // the default geometry is unchanged
    // head 4 does not exist under this translation
    Chs(0x20, 0, 4, 1, 1);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x10, In8(kError));
}

TEST_F(IdeTest, WriteSectorsThenReadBack)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    std::vector<uint8_t> a(512), b(512);
    for (int i = 0; i < 512; i++) {
        a[i] = (uint8_t)(i ^ 0x5a);
        b[i] = (uint8_t)(255 - i);
    }
    Lba28(0x30, 100, 2);
    EXPECT_EQ(0, irq.raises[14]); // the first block is requested without an interrupt
    EXPECT_EQ(0x58, In8(kAltStatus));
    WriteBlock(a);
    EXPECT_EQ(1, irq.raises[14]);
    EXPECT_EQ(0x58, In8(kStatus));
    WriteBlock(b, 4);
    EXPECT_EQ(2, irq.raises[14]); // command completion
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(a, img.Sector(100));
    EXPECT_EQ(b, img.Sector(101));
    EXPECT_EQ(PatternSector(99), img.Sector(99));
    EXPECT_EQ(PatternSector(102), img.Sector(102));
    Lba28(0x20, 100, 2);
    EXPECT_EQ(a, ReadBlock(512));
    EXPECT_EQ(b, ReadBlock(512));
}

TEST_F(IdeTest, ReadWriteMultiple)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Out8(kCount, 4);
    Out8(kCommand, 0xc6); // SET MULTIPLE MODE 4
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0x0104, Identify()[59]);
    int base = irq.raises[14];
    Lba28(0xc4, 50, 10);
    const unsigned blocks[] = {4, 4, 2};
    uint64_t s = 50;
    for (unsigned i = 0; i < 3; i++) {
        EXPECT_EQ(base + (int)i + 1, irq.raises[14]);
        EXPECT_EQ(0x58, In8(kStatus));
        std::vector<uint8_t> data = ReadBlock(blocks[i] * 512, 4);
        for (unsigned k = 0; k < blocks[i]; k++, s++)
            EXPECT_EQ(PatternSector(s), std::vector<uint8_t>(data.begin() + k * 512,
                                                             data.begin() + (k + 1) * 512));
    }
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(base + 3, irq.raises[14]);

    // WRITE MULTIPLE 6 sectors: blocks of 4 and 2
    std::vector<uint8_t> data(6 * 512);
    for (size_t i = 0; i < data.size(); i++) data[i] = (uint8_t)(i * 13 + 1);
    base = irq.raises[14];
    Lba28(0xc5, 300, 6);
    EXPECT_EQ(0x58, In8(kStatus));
    WriteBlock(std::vector<uint8_t>(data.begin(), data.begin() + 2048));
    EXPECT_EQ(base + 1, irq.raises[14]);
    EXPECT_EQ(0x58, In8(kStatus));
    WriteBlock(std::vector<uint8_t>(data.begin() + 2048, data.end()));
    EXPECT_EQ(base + 2, irq.raises[14]);
    EXPECT_EQ(0x50, In8(kStatus));
    for (int k = 0; k < 6; k++)
        EXPECT_EQ(std::vector<uint8_t>(data.begin() + k * 512, data.begin() + (k + 1) * 512),
                  img.Sector(300 + k));

    // invalid block sizes are refused; 0 disables multiple mode
    Out8(kCount, 3);
    Out8(kCommand, 0xc6);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x04, In8(kError));
    Out8(kCount, 32);
    Out8(kCommand, 0xc6);
    EXPECT_EQ(0x51, In8(kStatus));
    Out8(kCount, 0);
    Out8(kCommand, 0xc6);
    EXPECT_EQ(0x50, In8(kStatus));
    Lba28(0xc4, 0, 1);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x04, In8(kError));
}

TEST_F(IdeTest, Lba48BeyondLba28Limit)
{
    const uint64_t sectors = (1ull << 28) + 100000; // ~128.05 GiB, sparse
    TempImage img(sectors, true);
    const uint64_t lba = (1ull << 28) + 12345;
    img.PutSector(lba, PatternSector(lba));
    img.PutSector(lba + 1, PatternSector(lba + 1));
    Attach(img, 0, 0);
    std::vector<uint16_t> id = Identify();
    EXPECT_EQ(0x0fffffffu, id[60] | (uint32_t)id[61] << 16);
    EXPECT_EQ(sectors, id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
                           (uint64_t)id[103] << 48);
    EXPECT_EQ(16383, id[1]);

    Lba48(0x24, lba, 2);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(PatternSector(lba), ReadBlock(512));
    EXPECT_EQ(PatternSector(lba + 1), ReadBlock(512));
    EXPECT_EQ(0x50, In8(kStatus));
    // last sector transferred, high bytes through HOB
    EXPECT_EQ((uint8_t)(lba + 1), In8(kSector));
    Out8(kDevCtl, 0x80);
    EXPECT_EQ((uint8_t)((lba + 1) >> 24), In8(kSector));
    Out8(kDevCtl, 0x00);

    std::vector<uint8_t> w(512, 0xc3);
    Lba48(0x34, lba + 50, 1);
    EXPECT_EQ(0x58, In8(kStatus));
    WriteBlock(w);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(w, img.Sector(lba + 50));

    // LBA28 READ of the same address wraps to 28 bits: a different sector
    Lba28(0x20, (uint32_t)(lba & 0x0fffffff), 1);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(std::vector<uint8_t>(512, 0), ReadBlock(512)); // sparse: zeros there
    // count 0 means 65536 for EXT commands: verify the last 65536 sectors, then one more
    Lba48(0x42, sectors - 65536, 0);
    EXPECT_EQ(0x50, In8(kStatus));
    Lba48(0x42, sectors - 65535, 0);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x10, In8(kError));
}

TEST_F(IdeTest, CountZeroIs256ForLba28)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Lba28(0x40, 4096 - 256, 0);
    EXPECT_EQ(0x50, In8(kStatus));
    Lba28(0x40, 4096 - 255, 0);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x10, In8(kError));
    // and a 256-sector read moves 256 sectors
    Lba28(0x20, 1000, 0);
    for (int s = 0; s < 256; s++) {
        ASSERT_EQ(0x58, In8(kStatus)) << s;
        ASSERT_EQ(PatternSector(1000 + s), ReadBlock(512)) << s;
    }
    EXPECT_EQ(0x50, In8(kStatus));
}

TEST_F(IdeTest, OutOfRangeReadIsIdnf)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Lba28(0x20, 4096, 1);
    EXPECT_EQ(1, irq.level[14]);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x10, In8(kError));
    // a range that starts inside but runs past the end
    Lba28(0x20, 4090, 10);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x10, In8(kError));
    // the last sector is fine
    Lba28(0x20, 4095, 1);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(0x00, In8(kError));
    EXPECT_EQ(PatternSector(4095), ReadBlock(512));
}

TEST_F(IdeTest, HostReadFailureIsUnc)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    ASSERT_EQ(0, truncate(img.path.c_str(), 2048 * 512)); // the image shrank under us
    Lba28(0x20, 3000, 1);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x40, In8(kError));
    EXPECT_EQ(3000 & 0xff, In8(kSector));
}

TEST_F(IdeTest, IrqClearedByStatusNotAltStatus)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Out8(kCommand, 0xe7); // FLUSH CACHE
    EXPECT_EQ(1, irq.level[14]);
    EXPECT_EQ(0x50, In8(kAltStatus));
    EXPECT_EQ(1, irq.level[14]);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0, irq.level[14]);
    EXPECT_EQ(0, irq.level[15]);
    // a new command also clears a pending interrupt before completing
    Out8(kCommand, 0xe7);
    Out8(kCommand, 0xe7);
    EXPECT_EQ(3, irq.raises[14]);
}

TEST_F(IdeTest, NienSuppressesIrq)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Out8(kDevCtl, 0x02);
    Lba28(0x20, 7, 1);
    EXPECT_EQ(0, irq.level[14]);
    EXPECT_EQ(0, irq.raises[14]);
    EXPECT_EQ(0x58, In8(kAltStatus));
    // enabling interrupts with one pending asserts the line
    Out8(kDevCtl, 0x00);
    EXPECT_EQ(1, irq.level[14]);
    Out8(kDevCtl, 0x02);
    EXPECT_EQ(0, irq.level[14]);
    EXPECT_EQ(0x58, In8(kStatus)); // acknowledges
    Out8(kDevCtl, 0x00);
    EXPECT_EQ(0, irq.level[14]);
    EXPECT_EQ(PatternSector(7), ReadBlock(512));
}

TEST_F(IdeTest, SoftResetSignature)
{
    TempImage img(4096), cd(64);
    Attach(img, 0, 0);
    Attach(cd, 1, 0, true, true);
    Lba28(0x20, 9, 3);
    EXPECT_EQ(0x58, In8(kStatus));
    int raised = irq.raises[14];
    Out8(kDevCtl, 0x04 | 0x02);
    EXPECT_EQ(0x80, In8(kAltStatus)); // busy while SRST is held
    Out8(kDevCtl, 0x02);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0x01, In8(kError));
    EXPECT_EQ(1, In8(kCount));
    EXPECT_EQ(1, In8(kSector));
    EXPECT_EQ(0, In8(kLcyl));
    EXPECT_EQ(0, In8(kHcyl));
    EXPECT_EQ(0, In8(kSelect));
    EXPECT_EQ(0xffff, In16(kData)); // the transfer was abandoned
    EXPECT_EQ(raised, irq.raises[14]); // reset raises no interrupt
    Out8(kDevCtl, 0x00);
    EXPECT_EQ(0, irq.level[14]); // and a reset leaves nothing pending

    // the ATAPI drive on the secondary channel shows EB14h and aborts IDENTIFY DEVICE
    Out8(0x376, 0x04);
    Out8(0x376, 0x00);
    EXPECT_EQ(0x14, In8(0x174));
    EXPECT_EQ(0xeb, In8(0x175));
    EXPECT_EQ(0x00, In8(0x177));
    Out8(0x176, 0xa0);
    Out8(0x177, 0xec);
    EXPECT_EQ(1, irq.level[15]);
    EXPECT_EQ(0x41, In8(0x177));
    EXPECT_EQ(0x04, In8(0x171));
    EXPECT_EQ(0x14, In8(0x174));
    EXPECT_EQ(0xeb, In8(0x175));
}

TEST_F(IdeTest, ExecuteDeviceDiagnostic)
{
    TempImage img(4096), img2(4096);
    Attach(img, 0, 0);
    Attach(img2, 0, 1);
    Out8(kSelect, 0xb0);
    Out8(kLcyl, 0x77);
    Out8(kCommand, 0x90);
    EXPECT_EQ(1, irq.level[14]);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0x01, In8(kError));
    EXPECT_EQ(0x00, In8(kLcyl));
    EXPECT_EQ(0x00, In8(kSelect)); // device 0 is selected afterwards
}

TEST_F(IdeTest, AbsentSlaveAndAbsentChannel)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    // secondary channel: nothing there, floating bus
    EXPECT_EQ(0xff, In8(0x177));
    EXPECT_EQ(0xff, In8(0x376));
    Out8(0x172, 0x55);
    EXPECT_EQ(0xff, In8(0x172));
    EXPECT_EQ(0xffff, In16(0x170));
    // primary slave: status reads 0 and the 55h/AAh probe fails
    Out8(kSelect, 0xb0);
    EXPECT_EQ(0x00, In8(kStatus));
    EXPECT_EQ(0x00, In8(kAltStatus));
    Out8(kCount, 0x55);
    Out8(kSector, 0xaa);
    EXPECT_EQ(0x00, In8(kCount));
    EXPECT_EQ(0x00, In8(kSector));
    Out8(kCommand, 0xec); // ignored
    EXPECT_EQ(0, irq.raises[14]);
    EXPECT_EQ(0x00, In8(kStatus));
    // the master still answers and has the values written while the slave was selected
    Out8(kSelect, 0xa0);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0x55, In8(kCount));
    EXPECT_EQ(0xaa, In8(kSector));
    EXPECT_EQ(0xa0, In8(kSelect));
}

TEST_F(IdeTest, SlaveDriveWorks)
{
    TempImage a(4096), b(2048);
    Attach(a, 0, 0);
    Attach(b, 0, 1);
    Lba28(0x20, 2047, 1, 1);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(PatternSector(2047), ReadBlock(512));
    Lba28(0x20, 2048, 1, 1); // past the slave's end, although inside the master
    EXPECT_EQ(0x51, In8(kStatus));
    Out8(kSelect, 0xb0);
    Out8(kCommand, 0xec);
    std::vector<uint8_t> id = ReadBlock(512);
    EXPECT_EQ(2048, id[120] | id[121] << 8);
    EXPECT_EQ('2', id[38]); // serial "DBT86000000000000002": last char in the low byte
}

TEST_F(IdeTest, ReadOnlyImageAbortsWrites)
{
    TempImage img(4096);
    Attach(img, 0, 0, true);
    Lba28(0x30, 5, 1);
    EXPECT_EQ(1, irq.level[14]);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x04, In8(kError));
    WriteBlock(std::vector<uint8_t>(512, 0)); // data goes nowhere
    EXPECT_EQ(PatternSector(5), img.Sector(5));
    Lba28(0x20, 5, 1);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(PatternSector(5), ReadBlock(512));
}

TEST_F(IdeTest, MiscCommands)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    // CHECK POWER MODE: active
    Out8(kCount, 0);
    Out8(kCommand, 0xe5);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0xff, In8(kCount));
    // IDLE IMMEDIATE, STANDBY, RECALIBRATE, SEEK, FLUSH CACHE EXT
    for (uint8_t c : {0xe1, 0xe2, 0x10, 0x70, 0xea}) {
        Out8(kCommand, c);
        EXPECT_EQ(0x50, In8(kStatus)) << (int)c;
    }
    // SET FEATURES: PIO mode 4, write cache; an unknown subcommand aborts
    Out8(kFeature, 0x03);
    Out8(kCount, 0x0c);
    Out8(kCommand, 0xef);
    EXPECT_EQ(0x50, In8(kStatus));
    Out8(kFeature, 0x02);
    Out8(kCommand, 0xef);
    EXPECT_EQ(0x50, In8(kStatus));
    Out8(kFeature, 0x03);
    Out8(kCount, 0x0f); // PIO mode 7
    Out8(kCommand, 0xef);
    EXPECT_EQ(0x51, In8(kStatus));
    Out8(kFeature, 0x77);
    Out8(kCommand, 0xef);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x04, In8(kError));
    // PACKET and IDENTIFY PACKET DEVICE on a disk: ABRT, no ATAPI signature
    Out8(kLcyl, 0x00);
    Out8(kHcyl, 0x00);
    for (uint8_t c : {0xa0, 0xa1, 0x00, 0xff, 0xc7 /* READ DMA QUEUED */}) {
        int before = irq.raises[14];
        Out8(kCommand, c);
        EXPECT_EQ(before + 1, irq.raises[14]) << (int)c;
        EXPECT_EQ(0x51, In8(kStatus)) << (int)c;
        EXPECT_EQ(0x04, In8(kError)) << (int)c;
        EXPECT_EQ(0x00, In8(kLcyl));
        EXPECT_EQ(0x00, In8(kHcyl));
    }
}

TEST_F(IdeTest, HobReadsPreviousBytes)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Out8(kCount, 0x12);
    Out8(kCount, 0x34);
    Out8(kHcyl, 0x56);
    Out8(kHcyl, 0x78);
    EXPECT_EQ(0x34, In8(kCount));
    Out8(kDevCtl, 0x80);
    EXPECT_EQ(0x12, In8(kCount));
    EXPECT_EQ(0x56, In8(kHcyl));
    EXPECT_EQ(0x50, In8(kAltStatus));
    // any task-file write clears HOB
    Out8(kFeature, 0);
    EXPECT_EQ(0x34, In8(kCount));
}

TEST_F(IdeTest, ResetKeepsDrivesAttached)
{
    TempImage img(4096);
    Attach(img, 0, 0);
    Out8(kCount, 2);
    Out8(kCommand, 0xc6);
    Lba28(0x20, 1, 1);
    ide_reset(ide.get());
    EXPECT_EQ(0, irq.level[14]);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0x0110, Identify()[59]); // multiple mode back to its default
    Lba28(0x20, 2, 1);
    EXPECT_EQ(PatternSector(2), ReadBlock(512));
}

TEST_F(IdeTest, StateDescriptionAndPostLoad)
{
    const BusRange *prim = &bus->io_ranges[bus->io_index[0x1f0]];
    const BusRange *sec = &bus->io_ranges[bus->io_index[0x170]];
    ASSERT_NE(nullptr, prim->ops->state);
    EXPECT_EQ(nullptr, sec->ops->state); // one range carries the controller's state
    EXPECT_EQ((void *)ide.get(), prim->dev);
    EXPECT_STREQ("ide", prim->ops->state->name);
    static const unsigned kSize[] = {1, 2, 4, 8, 1};
    int n = 0;
    bool saw_buf = false, saw_pci = false;
    for (const StateField *f = prim->ops->state->fields; f->name; f++, n++) {
        EXPECT_LE(f->offset + kSize[f->type] * f->count, sizeof(Ide)) << f->name;
        if (std::string(f->name) == "ch[1].drive[1].buf") saw_buf = true;
        if (std::string(f->name) == "pci.config") saw_pci = true;
    }
    EXPECT_TRUE(saw_buf);
    EXPECT_TRUE(saw_pci);
    EXPECT_GT(n, 100);
    // post_load re-drives the interrupt line from the loaded registers
    ide->ch[1].irq_pending = true;
    ide->ch[1].devctl = 0;
    prim->ops->post_load(prim->dev);
    EXPECT_EQ(1, irq.level[15]);
    EXPECT_EQ(0, irq.level[14]);
}

TEST_F(IdeTest, RandomPortTrafficIsHarmless)
{
    TempImage img(4096), img2(600);
    Attach(img, 0, 0);
    Attach(img2, 0, 1);
    static const uint16_t ports[] = {0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6,
                                     0x1f7, 0x3f6, 0x170, 0x177, 0x376};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint16_t port = ports[x % 12];
        unsigned size = 1u << ((x >> 8) % 3);
        uint32_t value = (uint32_t)(x >> 32);
        if (port == 0x1f7 && (x >> 16) % 4 == 0) value = (value & 0xff00) | 0x20 | (x >> 20) % 2;
        if (port == 0x3f6) value &= ~0x04u; // keep out of reset most of the time
        if ((x >> 24) % 2) bus_io_write(bus.get(), port, value, size);
        else bus_io_read(bus.get(), port, size);
    }
    // the controller still works after the noise
    Out8(kDevCtl, 0x04);
    Out8(kDevCtl, 0x00);
    EXPECT_EQ(0x50, In8(kStatus));
    Lba28(0x20, 3, 1);
    EXPECT_EQ(0x58, In8(kStatus));
    EXPECT_EQ(512u, ReadBlock(512).size());
    EXPECT_EQ(0x50, In8(kStatus));
}

} // namespace
