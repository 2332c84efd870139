// test_ide_atapi.cc — the ATAPI CD/DVD-ROM drive of the PIIX3 IDE controller, driven
// through the secondary channel's ports like a guest driver: signatures, IDENTIFY
// PACKET DEVICE, the PACKET protocol (interrupt reason, byte counts, status at every
// phase), the SCSI/MMC commands, sense data, unit attention and an empty drive.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
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

// secondary channel, where -cdrom puts the drive
constexpr uint16_t kData = 0x170, kError = 0x171, kFeature = 0x171, kCount = 0x172,
                   kSector = 0x173, kLcyl = 0x174, kHcyl = 0x175, kSelect = 0x176,
                   kStatus = 0x177, kCommand = 0x177, kAltStatus = 0x376, kDevCtl = 0x376;
constexpr int kIrq = 15;

uint8_t Byte(uint64_t off) { return (uint8_t)(off * 7 + (off >> 11) * 13 + (off >> 19)); }

struct TempImage {
    std::string path;
    explicit TempImage(uint64_t bytes)
    {
        char tmpl[] = "/tmp/dbt86-atapi-XXXXXX";
        int fd = mkstemp(tmpl);
        EXPECT_GE(fd, 0);
        path = tmpl;
        std::vector<uint8_t> data(bytes);
        for (uint64_t i = 0; i < bytes; i++) data[i] = Byte(i);
        EXPECT_EQ((ssize_t)data.size(), write(fd, data.data(), data.size()));
        close(fd);
    }
    ~TempImage() { unlink(path.c_str()); }
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

using Bytes = std::vector<uint8_t>;

class AtapiTest : public ::testing::Test {
protected:
    std::unique_ptr<Bus> bus{new Bus};
    std::unique_ptr<PciBus> pci{new PciBus};
    std::unique_ptr<Ide> ide{new Ide};
    std::unique_ptr<PhysMem> mem{new PhysMem()}; // no RAM: these tests use PIO only
    uint64_t icount = 0;
    Clock clk;
    IrqRecorder irq;
    std::vector<std::unique_ptr<BlockDev>> blks;
    std::vector<unsigned> drq_sizes; // byte counts of the DRQ blocks of the last packet

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
    BlockDev *Open(const TempImage &img)
    {
        blks.emplace_back(new BlockDev);
        BlockDev *b = blks.back().get();
        char err[256] = "";
        EXPECT_EQ(0, blk_open(b, img.path.c_str(), "raw", true, false, err, sizeof err)) << err;
        return b;
    }
    void AttachCd(const TempImage &img) { ASSERT_EQ(0, ide_attach(ide.get(), 1, 0, Open(img), true)); }

    uint8_t In8(uint16_t p) { return (uint8_t)bus_io_read(bus.get(), p, 1); }
    uint16_t In16(uint16_t p) { return (uint16_t)bus_io_read(bus.get(), p, 2); }
    uint32_t In32(uint16_t p) { return bus_io_read(bus.get(), p, 4); }
    void Out8(uint16_t p, uint8_t v) { bus_io_write(bus.get(), p, v, 1); }
    void Out16(uint16_t p, uint16_t v) { bus_io_write(bus.get(), p, v, 2); }

    // Issue PACKET and send the command bytes, checking the command phase.
    void SendPacket(Bytes cdb, uint16_t limit)
    {
        cdb.resize(12);
        Out8(kSelect, 0xa0);
        Out8(kFeature, 0);
        Out8(kLcyl, (uint8_t)limit);
        Out8(kHcyl, (uint8_t)(limit >> 8));
        int raises = irq.raises[kIrq];
        Out8(kCommand, 0xa0);
        // packet phase: DRQ, CoD=1 IO=0, and no interrupt (DRQ comes within 50 us)
        ASSERT_EQ(0x48, In8(kAltStatus));
        ASSERT_EQ(0x01, In8(kCount) & 0x03);
        ASSERT_EQ(raises, irq.raises[kIrq]);
        for (int i = 0; i < 12; i += 2) Out16(kData, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    }

    // Run a packet command with a data-in phase and return the data; every DRQ block is
    // checked for IO=1 CoD=0, status 48h and an interrupt, and ends in the status phase.
    Bytes DataIn(const Bytes &cdb, uint16_t limit = 0xfffe, bool words32 = false)
    {
        Bytes out;
        drq_sizes.clear();
        int raises = irq.raises[kIrq];
        SendPacket(cdb, limit);
        for (int guard = 0; guard < 10000; guard++) {
            EXPECT_EQ(raises + 1, irq.raises[kIrq]) << "one interrupt per phase";
            raises = irq.raises[kIrq];
            uint8_t st = In8(kStatus); // acknowledges
            EXPECT_EQ(0, irq.level[kIrq]);
            if (!(st & 0x08)) break;
            EXPECT_EQ(0x48, st);
            EXPECT_EQ(0x02, In8(kCount) & 0x03) << "data phase: IO=1, CoD=0";
            unsigned n = In8(kLcyl) | In8(kHcyl) << 8;
            drq_sizes.push_back(n);
            unsigned i = 0;
            if (words32) {
                for (; i + 4 <= n; i += 4) {
                    uint32_t v = In32(kData);
                    for (int k = 0; k < 4; k++) out.push_back((uint8_t)(v >> (8 * k)));
                }
            }
            for (; i < n; i += 2) {
                uint16_t v = In16(kData);
                out.push_back((uint8_t)v);
                if (i + 1 < n) out.push_back((uint8_t)(v >> 8));
            }
        }
        return out;
    }

    // Status phase of the last command: IO=1, CoD=1; returns the status (error in *err).
    uint8_t Completion(uint8_t *err = nullptr)
    {
        EXPECT_EQ(0x03, In8(kCount) & 0x03) << "status phase: IO=1, CoD=1";
        if (err) *err = In8(kError);
        return In8(kStatus);
    }

    // A command without data: returns the status, error register in *err.
    uint8_t NoData(const Bytes &cdb, uint8_t *err = nullptr)
    {
        int raises = irq.raises[kIrq];
        SendPacket(cdb, 0);
        EXPECT_EQ(raises + 1, irq.raises[kIrq]);
        EXPECT_EQ(0x03, In8(kCount) & 0x03);
        if (err) *err = In8(kError);
        return In8(kStatus);
    }

    // REQUEST SENSE: key, ASC, ASCQ as one number 0xKKAAQQ.
    uint32_t Sense()
    {
        Bytes s = DataIn({0x03, 0, 0, 0, 18, 0});
        EXPECT_EQ(18u, s.size());
        if (s.size() < 14) return 0xffffffff;
        EXPECT_EQ(0x70, s[0]);
        EXPECT_EQ(10, s[7]);
        return (uint32_t)(s[2] & 0x0f) << 16 | s[12] << 8 | s[13];
    }

    // Consume the power-on unit attention.
    void ClearUnitAttention()
    {
        uint8_t err;
        ASSERT_EQ(0x41, NoData({0x00}, &err));
        ASSERT_EQ(0x60, err);
        ASSERT_EQ(0x40, NoData({0x00}));
    }

    Bytes Identify(uint8_t cmd)
    {
        Out8(kSelect, 0xa0);
        Out8(kCommand, cmd);
        Bytes b;
        if (!(In8(kStatus) & 0x08)) return b;
        for (int i = 0; i < 256; i++) {
            uint16_t w = In16(kData);
            b.push_back((uint8_t)w);
            b.push_back((uint8_t)(w >> 8));
        }
        return b;
    }
    static uint16_t Word(const Bytes &b, int w) { return (uint16_t)(b[2 * w] | b[2 * w + 1] << 8); }
    static std::string IdString(const Bytes &b, int w, int words)
    {
        std::string s;
        for (int i = 0; i < words; i++) {
            s += (char)b[2 * (w + i) + 1];
            s += (char)b[2 * (w + i)];
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        return s;
    }
    static Bytes Image(uint64_t off, size_t len)
    {
        Bytes v(len);
        for (size_t i = 0; i < len; i++) v[i] = Byte(off + i);
        return v;
    }
};

TEST_F(AtapiTest, SignatureAfterPowerOnResetAndDiagnostics)
{
    TempImage img(2048 * 16);
    AttachCd(img);
    auto check_sig = [&](const char *when) {
        EXPECT_EQ(0x01, In8(kCount)) << when;
        EXPECT_EQ(0x01, In8(kSector)) << when;
        EXPECT_EQ(0x14, In8(kLcyl)) << when;
        EXPECT_EQ(0xeb, In8(kHcyl)) << when;
    };
    check_sig("power-on");
    EXPECT_EQ(0x00, In8(kStatus)); // packet devices leave DRDY clear after reset
    EXPECT_EQ(0x01, In8(kError));

    Out8(kLcyl, 0x55);
    Out8(kDevCtl, 0x04);
    EXPECT_EQ(0x80, In8(kAltStatus));
    Out8(kDevCtl, 0x00);
    check_sig("SRST");

    Out8(kLcyl, 0x55);
    Out8(kHcyl, 0xaa);
    Out8(kSelect, 0xa0);
    int raises = irq.raises[kIrq];
    Out8(kCommand, 0x08); // DEVICE RESET
    check_sig("DEVICE RESET");
    EXPECT_EQ(0x00, In8(kStatus));
    EXPECT_EQ(0x01, In8(kError));
    EXPECT_EQ(raises, irq.raises[kIrq]);

    Out8(kLcyl, 0x55);
    Out8(kCommand, 0x90); // EXECUTE DEVICE DIAGNOSTIC
    check_sig("diagnostic");
    EXPECT_EQ(0x01, In8(kError));
    EXPECT_EQ(raises + 1, irq.raises[kIrq]);

    // IDENTIFY DEVICE: aborted, with the signature for the host to see
    Out8(kLcyl, 0);
    Out8(kHcyl, 0);
    EXPECT_TRUE(Identify(0xec).empty());
    EXPECT_EQ(0x41, In8(kStatus));
    EXPECT_EQ(0x04, In8(kError));
    EXPECT_EQ(0x14, In8(kLcyl));
    EXPECT_EQ(0xeb, In8(kHcyl));

    // the primary channel is empty and floats
    EXPECT_EQ(0xff, In8(0x1f7));
}

TEST_F(AtapiTest, IdentifyPacketDevice)
{
    TempImage img(2048 * 16);
    AttachCd(img);
    Bytes id = Identify(0xa1);
    ASSERT_EQ(512u, id.size());
    EXPECT_EQ(0x40, In8(kStatus)); // drained: ready, no DRQ, SERV clear
    EXPECT_EQ(0x85c0, Word(id, 0));
    EXPECT_EQ("DBT86 DVD-ROM", IdString(id, 27, 20));
    EXPECT_EQ("DBT86000000000000003", IdString(id, 10, 10));
    EXPECT_EQ("0.1.0", IdString(id, 23, 4));
    EXPECT_NE(0, Word(id, 49) & 0x0100) << "DMA";
    EXPECT_NE(0, Word(id, 49) & 0x0200) << "LBA";
    EXPECT_EQ(0x0006, Word(id, 53) & 0x0006);
    EXPECT_EQ(0x0003, Word(id, 64)); // PIO 3 and 4
    EXPECT_EQ(0x0007, Word(id, 62)); // single-word DMA 0-2; bit 15 clear: no DMADIR needed
    EXPECT_EQ(0x0007, Word(id, 63)); // multiword DMA 0-2
    EXPECT_EQ(0x003f, Word(id, 88)); // Ultra DMA 0-5
    EXPECT_NE(0, Word(id, 82) & 0x0010) << "PACKET feature set";
    EXPECT_EQ(0x4000, Word(id, 83) & 0xc000);
    uint8_t sum = 0;
    for (uint8_t b : id) sum = (uint8_t)(sum + b);
    EXPECT_EQ(0xa5, id[510]);
    EXPECT_EQ(0, sum);

    // SET FEATURES transfer mode PIO 4 (Linux does this) succeeds
    Out8(kFeature, 0x03);
    Out8(kCount, 0x0c);
    Out8(kCommand, 0xef);
    EXPECT_EQ(0x40, In8(kStatus));
    // a disk command is aborted
    Out8(kCommand, 0x20);
    EXPECT_EQ(0x41, In8(kStatus));
    EXPECT_EQ(0x04, In8(kError));
}

TEST_F(AtapiTest, PacketPhasesAndUnitAttentionOnce)
{
    TempImage img(2048 * 16);
    AttachCd(img);
    // the first command after power-on reports "medium may have changed"
    uint8_t err = 0;
    EXPECT_EQ(0x41, NoData({0x00}, &err));
    EXPECT_EQ(0x60, err); // sense key 6 in bits 7-4
    EXPECT_EQ(0x060000u | 0x2800, Sense());
    // then it is gone
    EXPECT_EQ(0x40, NoData({0x00}, &err));
    EXPECT_EQ(0x00, err);
    EXPECT_EQ(0u, Sense());

    // a hardware reset brings it back once; REQUEST SENSE consumes it too
    ide_reset(ide.get());
    EXPECT_EQ(0x062800u, Sense());
    EXPECT_EQ(0x40, NoData({0x00}));
    // SRST alone does not
    Out8(kDevCtl, 0x04);
    Out8(kDevCtl, 0x00);
    EXPECT_EQ(0x40, NoData({0x00}));

    // INQUIRY is exempt from unit attention
    ide_reset(ide.get());
    Bytes inq = DataIn({0x12, 0, 0, 0, 36, 0});
    EXPECT_EQ(36u, inq.size());
    EXPECT_EQ(0x40, Completion());
    EXPECT_EQ(0x41, NoData({0x00}));
    EXPECT_EQ(0x40, NoData({0x00}));

    // nIEN masks INTRQ but the phases are the same
    Out8(kDevCtl, 0x02);
    SendPacket({0x00}, 0);
    EXPECT_EQ(0, irq.level[kIrq]);
    EXPECT_EQ(0x40, In8(kStatus));
    Out8(kDevCtl, 0x00);
}

TEST_F(AtapiTest, InquiryData)
{
    TempImage img(2048 * 16);
    AttachCd(img);
    Bytes inq = DataIn({0x12, 0, 0, 0, 96, 0});
    ASSERT_EQ(36u, inq.size()); // allocation 96, standard data is 36
    EXPECT_EQ(0x40, Completion());
    EXPECT_EQ(0x05, inq[0]);
    EXPECT_EQ(0x80, inq[1]);
    EXPECT_EQ(31, inq[4]);
    EXPECT_EQ("DBT86   ", std::string(inq.begin() + 8, inq.begin() + 16));
    EXPECT_EQ("DVD-ROM         ", std::string(inq.begin() + 16, inq.begin() + 32));
    // allocation length honoured, odd lengths too
    Bytes shortinq = DataIn({0x12, 0, 0, 0, 5, 0});
    EXPECT_EQ(Bytes(inq.begin(), inq.begin() + 5), shortinq);
    EXPECT_EQ(std::vector<unsigned>{5}, drq_sizes);
    // allocation 0: no data phase at all
    EXPECT_TRUE(DataIn({0x12, 0, 0, 0, 0, 0}).empty());
    EXPECT_TRUE(drq_sizes.empty());
    // unit serial number page
    Bytes vpd = DataIn({0x12, 1, 0x80, 0, 64, 0});
    ASSERT_EQ(24u, vpd.size());
    EXPECT_EQ(0x80, vpd[1]);
    EXPECT_EQ("DBT86000000000000003", std::string(vpd.begin() + 4, vpd.end()));
}

TEST_F(AtapiTest, ReadCapacity)
{
    TempImage img(2048 * 300);
    AttachCd(img);
    ClearUnitAttention();
    Bytes cap = DataIn({0x25});
    EXPECT_EQ(0x40, Completion());
    EXPECT_EQ((Bytes{0, 0, 0x01, 0x2b, 0, 0, 0x08, 0}), cap); // last LBA 299, 2048
}

TEST_F(AtapiTest, Read10SplitByByteCountLimit)
{
    TempImage img(2048 * 64);
    AttachCd(img);
    ClearUnitAttention();
    // 5 blocks from LBA 7, 4096 bytes per DRQ block at most
    Bytes d = DataIn({0x28, 0, 0, 0, 0, 7, 0, 0, 5, 0}, 4096);
    EXPECT_EQ(0x40, Completion());
    EXPECT_EQ((std::vector<unsigned>{4096, 4096, 2048}), drq_sizes);
    EXPECT_EQ(Image(7 * 2048, 5 * 2048), d);
    // a limit that is not a block multiple, and odd: blocks of 2998 bytes (even)
    d = DataIn({0x28, 0, 0, 0, 0, 1, 0, 0, 2, 0}, 2999);
    EXPECT_EQ(0x40, Completion());
    EXPECT_EQ((std::vector<unsigned>{2998, 1098}), drq_sizes);
    EXPECT_EQ(Image(2048, 4096), d);
    // SeaBIOS style: one block per DRQ, 32-bit reads
    d = DataIn({0x28, 0, 0, 0, 0, 60, 0, 0, 4, 0}, 2048, true);
    EXPECT_EQ((std::vector<unsigned>{2048, 2048, 2048, 2048}), drq_sizes);
    EXPECT_EQ(Image(60 * 2048, 4 * 2048), d);
    // zero blocks: straight to the status phase
    EXPECT_EQ(0x40, NoData({0x28, 0, 0, 0, 0, 1, 0, 0, 0, 0}));
}

TEST_F(AtapiTest, Read12LargerThanTheBuffer)
{
    TempImage img(2048 * 200);
    AttachCd(img);
    ClearUnitAttention();
    Bytes d = DataIn({0xa8, 0, 0, 0, 0, 3, 0, 0, 0, 150, 0, 0}, 0xf800);
    EXPECT_EQ(0x40, Completion());
    EXPECT_EQ((std::vector<unsigned>{0xf800, 0xf800, 0xf800, 0xf800, 150 * 2048 - 4 * 0xf800}),
              drq_sizes);
    EXPECT_EQ(Image(3 * 2048, 150 * 2048), d);
    // a limit of FFFFh moves even blocks of FFFEh
    d = DataIn({0xa8, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0}, 0xffff);
    EXPECT_EQ((std::vector<unsigned>{0xfffe, 40 * 2048 - 0xfffe}), drq_sizes);
    EXPECT_EQ(Image(0, 40 * 2048), d);
}

TEST_F(AtapiTest, ReadBeyondTheEnd)
{
    TempImage img(2048 * 32);
    AttachCd(img);
    ClearUnitAttention();
    uint8_t err = 0;
    EXPECT_EQ(0x41, NoData({0x28, 0, 0, 0, 0, 30, 0, 0, 3, 0}, &err)); // 30..32
    EXPECT_EQ(0x50, err);                                                // ILLEGAL REQUEST
    EXPECT_EQ(0x052100u, Sense());
    EXPECT_EQ(0u, Sense()); // reported once
    EXPECT_EQ(0x41, NoData({0xa8, 0, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0}, &err));
    EXPECT_EQ(0x052100u, Sense());
    EXPECT_EQ(0x41, NoData({0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0}, &err));
    EXPECT_EQ(0x052100u, Sense());
    // the last block is fine
    EXPECT_EQ(Image(31 * 2048, 2048), DataIn({0x28, 0, 0, 0, 0, 31, 0, 0, 1, 0}));
    // a good command clears an unread sense
    NoData({0x28, 0, 0, 0, 0, 40, 0, 0, 1, 0});
    EXPECT_EQ(0x40, NoData({0x00}));
    EXPECT_EQ(0u, Sense());
}

TEST_F(AtapiTest, UnknownOpcode)
{
    TempImage img(2048 * 16);
    AttachCd(img);
    ClearUnitAttention();
    uint8_t err = 0;
    EXPECT_EQ(0x41, NoData({0xd9}, &err));
    EXPECT_EQ(0x50, err);
    EXPECT_EQ(0x052000u, Sense());
    EXPECT_EQ(0x41, NoData({0x2a}, &err)); // WRITE(10) on a DVD-ROM
    EXPECT_EQ(0x052000u, Sense());
}

TEST_F(AtapiTest, ReadTocLbaAndMsf)
{
    TempImage img(2048 * 100);
    AttachCd(img);
    ClearUnitAttention();
    Bytes toc = DataIn({0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24, 0});
    EXPECT_EQ(0x40, Completion());
    EXPECT_EQ((Bytes{0, 18, 1, 1,                              // length, first, last
                     0, 0x14, 1, 0, 0, 0, 0, 0,                // track 1 at LBA 0
                     0, 0x14, 0xaa, 0, 0, 0, 0, 100}),         // lead-out at 100
              toc);
    toc = DataIn({0x43, 0x02, 0, 0, 0, 0, 0, 0x03, 0x24, 0});
    EXPECT_EQ((Bytes{0, 18, 1, 1,
                     0, 0x14, 1, 0, 0, 0, 2, 0,                // 00:02:00
                     0, 0x14, 0xaa, 0, 0, 0, 3, 25}),          // 250 frames = 00:03:25
              toc);
    // starting at the lead-out, and the allocation length cuts the reply
    toc = DataIn({0x43, 0, 0, 0, 0, 0, 0xaa, 0, 12, 0});
    EXPECT_EQ((Bytes{0, 10, 1, 1, 0, 0x14, 0xaa, 0, 0, 0, 0, 100}), toc);
    toc = DataIn({0x43, 0, 0, 0, 0, 0, 0, 0, 4, 0});
    EXPECT_EQ((Bytes{0, 18, 1, 1}), toc);
    // format 1: session information, MSF
    toc = DataIn({0x43, 0x02, 0x01, 0, 0, 0, 0, 0, 12, 0});
    EXPECT_EQ((Bytes{0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 2, 0}), toc);
    // the old SFF-8020i place for the format
    toc = DataIn({0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40});
    EXPECT_EQ((Bytes{0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0}), toc);
    // a track that does not exist
    EXPECT_EQ(0x41, NoData({0x43, 0, 0, 0, 0, 0, 2, 0, 12, 0}));
    EXPECT_EQ(0x052400u, Sense());
}

TEST_F(AtapiTest, ModeSenseCapabilitiesPage)
{
    TempImage img(2048 * 16);
    AttachCd(img);
    ClearUnitAttention();
    Bytes m = DataIn({0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128, 0});
    EXPECT_EQ(0x40, Completion());
    ASSERT_EQ(30u, m.size());
    EXPECT_EQ(0, m[0]);
    EXPECT_EQ(28, m[1]);      // mode data length
    EXPECT_EQ(0, m[6] | m[7]); // no block descriptors
    EXPECT_EQ(0x2a, m[8]);
    EXPECT_EQ(20, m[9]);
    EXPECT_EQ(0x29, m[8 + 6]); // tray, eject, lock supported, not locked
    EXPECT_EQ(2816, m[8 + 8] << 8 | m[8 + 9]);
    // PREVENT shows up in the lock state bit
    EXPECT_EQ(0x40, NoData({0x1e, 0, 0, 0, 1, 0}));
    m = DataIn({0x1a, 0, 0x2a, 0, 64, 0});
    ASSERT_EQ(26u, m.size());
    EXPECT_EQ(25, m[0]);
    EXPECT_EQ(0x2a, m[4]);
    EXPECT_EQ(0x2b, m[4 + 6]);
    // ejecting a locked tray fails; unlocked it is accepted
    EXPECT_EQ(0x41, NoData({0x1b, 0, 0, 0, 0x02, 0}));
    EXPECT_EQ(0x055302u, Sense());
    EXPECT_EQ(0x40, NoData({0x1e, 0, 0, 0, 0, 0}));
    EXPECT_EQ(0x40, NoData({0x1b, 0, 0, 0, 0x02, 0}));
    // all pages: 01h then 2Ah
    m = DataIn({0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255, 0});
    ASSERT_EQ(8u + 12 + 22, m.size());
    EXPECT_EQ(0x01, m[8]);
    EXPECT_EQ(10, m[9]);
    EXPECT_EQ(0x2a, m[20]);
    // unknown page, saved values
    EXPECT_EQ(0x41, NoData({0x5a, 0, 0x05, 0, 0, 0, 0, 0, 255, 0}));
    EXPECT_EQ(0x052400u, Sense());
    EXPECT_EQ(0x41, NoData({0x5a, 0, 0xea, 0, 0, 0, 0, 0, 255, 0}));
    EXPECT_EQ(0x053900u, Sense());
}

TEST_F(AtapiTest, ConfigurationEventsDiscInfoAndMisc)
{
    TempImage img(2048 * 16);
    AttachCd(img);
    // GET CONFIGURATION and GET EVENT STATUS NOTIFICATION pass a unit attention
    Bytes cfg = DataIn({0x46, 0, 0, 0, 0, 0, 0, 0, 255, 0});
    EXPECT_EQ(0x40, Completion());
    ASSERT_EQ(8u + 12 + 8 + 8, cfg.size());
    EXPECT_EQ(32, cfg[3]);
    EXPECT_EQ(0x0008, cfg[6] << 8 | cfg[7]); // a small image is a CD
    EXPECT_EQ(0x0010, cfg[12] << 8 | cfg[13]);
    EXPECT_EQ(0, cfg[14]);
    EXPECT_EQ(0x0008, cfg[16] << 8 | cfg[17]);
    EXPECT_EQ(1, cfg[18]);
    cfg = DataIn({0x46, 2, 0, 1, 0, 0, 0, 0, 255, 0}); // just the core feature
    EXPECT_EQ((Bytes{0, 0, 0, 12, 0, 0, 0, 8, 0, 1, 3, 4, 0, 0, 0, 2}), cfg);

    Bytes ev = DataIn({0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0});
    EXPECT_EQ((Bytes{0, 6, 4, 0x10, 2, 2, 0, 0}), ev); // new media, present
    ev = DataIn({0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0});
    EXPECT_EQ((Bytes{0, 6, 4, 0x10, 0, 2, 0, 0}), ev);
    uint8_t err;
    EXPECT_EQ(0x41, NoData({0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0}, &err)); // not polled
    EXPECT_EQ(0x052400u, Sense());

    ClearUnitAttention();
    Bytes di = DataIn({0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0});
    ASSERT_EQ(34u, di.size());
    EXPECT_EQ(32, di[1]);
    EXPECT_EQ(0x0e, di[2]);
    EXPECT_EQ(1, di[3]);

    Bytes ti = DataIn({0x52, 1, 0, 0, 0, 1, 0, 0, 36, 0}); // track 1
    ASSERT_EQ(36u, ti.size());
    EXPECT_EQ(34, ti[1]);
    EXPECT_EQ(1, ti[2]);
    EXPECT_EQ(0x04, ti[5]);
    EXPECT_EQ((Bytes{0, 0, 0, 0, 0, 0, 0, 16}), Bytes(ti.begin() + 20, ti.begin() + 28));
    EXPECT_EQ(0x41, NoData({0x52, 0, 0, 0, 0, 16, 0, 0, 36, 0})); // LBA past the end
    EXPECT_EQ(0x052400u, Sense());

    EXPECT_EQ(0x40, NoData({0xbb, 0, 0xff, 0xff}));          // SET CD SPEED
    EXPECT_EQ(0x40, NoData({0x1b, 0, 0, 0, 0x01, 0}));       // START
    Bytes ms = DataIn({0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8});    // MECHANISM STATUS
    EXPECT_EQ(Bytes(8, 0), ms);
    EXPECT_EQ(0x40, NoData({0x2b, 0, 0, 0, 0, 5}));          // SEEK
}

TEST_F(AtapiTest, NoMedium)
{
    ASSERT_EQ(0, ide_attach(ide.get(), 1, 0, nullptr, true));
    EXPECT_EQ(0x14, In8(kLcyl));
    EXPECT_EQ(0xeb, In8(kHcyl));
    Bytes id = Identify(0xa1);
    ASSERT_EQ(512u, id.size());
    EXPECT_EQ(0x85c0, Word(id, 0));
    uint8_t err = 0;
    // no unit attention without a disc: straight to NOT READY / MEDIUM NOT PRESENT
    EXPECT_EQ(0x41, NoData({0x00}, &err));
    EXPECT_EQ(0x20, err);
    EXPECT_EQ(0x023a00u, Sense());
    EXPECT_EQ(0x41, NoData({0x25}, &err));
    EXPECT_EQ(0x023a00u, Sense());
    EXPECT_EQ(0x41, NoData({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, &err));
    EXPECT_EQ(0x023a00u, Sense());
    EXPECT_EQ(0x41, NoData({0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0}, &err));
    EXPECT_EQ(0x023a00u, Sense());
    // the drive itself answers
    Bytes inq = DataIn({0x12, 0, 0, 0, 36, 0});
    EXPECT_EQ(36u, inq.size());
    Bytes ev = DataIn({0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0});
    EXPECT_EQ((Bytes{0, 6, 4, 0x10, 0, 0, 0, 0}), ev);
    Bytes cfg = DataIn({0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0});
    EXPECT_EQ(0, cfg[6] | cfg[7]); // no current profile
    EXPECT_EQ(0x70, DataIn({0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128, 0})[2]);
}

TEST_F(AtapiTest, ImageMustBeWholeBlocks)
{
    TempImage img(2048 * 10 + 512);
    BlockDev *b = Open(img);
    EXPECT_EQ(-1, ide_attach(ide.get(), 1, 0, b, true));
    char err[256] = "";
    EXPECT_EQ(-1, ide_check_image(b, true, err, sizeof err));
    EXPECT_NE(nullptr, strstr(err, "2048")) << err;
    EXPECT_NE(nullptr, strstr(err, img.path.c_str())) << err;
    EXPECT_EQ(0xff, In8(kStatus)); // nothing attached
    // the same image is a fine disk
    EXPECT_EQ(0, ide_check_image(b, false, err, sizeof err));
    EXPECT_EQ(0, ide_attach(ide.get(), 1, 0, b, false));
    EXPECT_EQ(-1, ide_attach(ide.get(), 2, 0, b, false));
}

TEST_F(AtapiTest, CdAndDiskOnOneChannel)
{
    TempImage cd(2048 * 16), disk(512 * 64);
    AttachCd(cd);
    blks.emplace_back(new BlockDev);
    char err[256];
    ASSERT_EQ(0, blk_open(blks.back().get(), disk.path.c_str(), "raw", false, false, err,
                          sizeof err));
    ASSERT_EQ(0, ide_attach(ide.get(), 1, 1, blks.back().get(), false));
    Out8(kSelect, 0xb0);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(0, In8(kLcyl));
    Out8(kSelect, 0xa0);
    EXPECT_EQ(0x14, In8(kLcyl));
    ClearUnitAttention();
    EXPECT_EQ(Image(2048, 2048), DataIn({0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0}));
}

TEST_F(AtapiTest, RandomPacketsAreHarmless)
{
    TempImage img(2048 * 40);
    AttachCd(img);
    uint32_t seed = 12345;
    auto rnd = [&]() { return seed = seed * 1103515245u + 12345u, seed >> 16; };
    static const uint8_t ops[] = {0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2b,
                                  0x43, 0x46, 0x4a, 0x51, 0x52, 0x5a, 0xa8, 0xbb, 0xbd};
    for (int i = 0; i < 3000; i++) {
        Bytes cdb(12);
        for (auto &b : cdb) b = (uint8_t)rnd();
        cdb[0] = ops[rnd() % sizeof ops];
        if (cdb[0] == 0x28 || cdb[0] == 0xa8) { // small reads near the end of the disc
            Bytes lba = {0, 0, 0, (uint8_t)(rnd() % 48)};
            std::copy(lba.begin(), lba.end(), cdb.begin() + 2);
            std::fill(cdb.begin() + 6, cdb.begin() + 10, 0);
            cdb[cdb[0] == 0x28 ? 8 : 9] = (uint8_t)(rnd() % 8);
        }
        uint16_t limit = (uint16_t)rnd();
        SendPacket(cdb, limit);
        for (int g = 0; g < 100000 && (In8(kStatus) & 0x08); g++) {
            unsigned n = In8(kLcyl) | In8(kHcyl) << 8;
            ASSERT_GT(n, 0u);
            ASSERT_LE(n, limit ? limit : 0xfffeu);
            for (unsigned k = 0; k < n; k += 2) In16(kData);
            if (rnd() % 50 == 0) break; // abandon the transfer sometimes
        }
        uint8_t st = In8(kStatus);
        if (!(st & 0x08)) {
            EXPECT_EQ(0x40, st & 0xfe) << i;
        }
        if (rnd() % 100 == 0) ide_reset(ide.get());
        if (rnd() % 100 == 0) Out8(kCommand, 0x08);
    }
}

} // namespace
