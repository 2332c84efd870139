// test_ide_dma.cc — PIIX3 bus-master IDE DMA driven like a guest driver: a PRD table in
// guest RAM, the BAR4 registers, READ/WRITE DMA (and EXT) on a disk and PACKET with the
// DMA bit on a CD. Checks data, status bits at every step (Active, Error, Interrupt),
// that transfers take virtual time, scatter/gather, 64 KiB regions, tables that are too
// short, too long, unreadable or point at nothing, stop/restart and snapshot state.
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
constexpr uint16_t kBm = 0xc000; // BAR4: primary at +0, secondary at +8
constexpr uint32_t kRamSize = 4u << 20;
constexpr uint32_t kRom = 0x00800000; // one read-only page
constexpr uint32_t kNowhere = 0xe0000000;
constexpr uint8_t kActive = 0x01, kErr = 0x02, kIntr = 0x04;

using Bytes = std::vector<uint8_t>;

uint8_t DiskByte(uint64_t off) { return (uint8_t)(off * 13 + (off >> 9) * 7 + (off >> 17)); }

struct TempImage {
    std::string path;
    TempImage(uint64_t bytes, const char *tag)
    {
        std::string t = std::string("/tmp/dbt86-idedma-") + tag + "-XXXXXX";
        std::vector<char> tmpl(t.begin(), t.end());
        tmpl.push_back(0);
        int fd = mkstemp(tmpl.data());
        EXPECT_GE(fd, 0);
        path = tmpl.data();
        Bytes data(bytes);
        for (uint64_t i = 0; i < bytes; i++) data[i] = DiskByte(i);
        EXPECT_EQ((ssize_t)data.size(), write(fd, data.data(), data.size()));
        close(fd);
    }
    ~TempImage() { unlink(path.c_str()); }
    Bytes Read(uint64_t off, size_t len) const
    {
        Bytes v(len);
        int fd = open(path.c_str(), O_RDONLY);
        EXPECT_EQ((ssize_t)len, pread(fd, v.data(), len, (off_t)off));
        close(fd);
        return v;
    }
};

Bytes Expected(uint64_t off, size_t len)
{
    Bytes v(len);
    for (size_t i = 0; i < len; i++) v[i] = DiskByte(off + i);
    return v;
}

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

// One controller with its own bus, memory and clock (a test may build two).
struct Rig {
    std::unique_ptr<Bus> bus{new Bus};
    std::unique_ptr<PciBus> pci{new PciBus};
    std::unique_ptr<Ide> ide{new Ide};
    std::unique_ptr<PhysMem> mem{new PhysMem()};
    Bytes ram = Bytes(kRamSize), rom = Bytes(PAGE_SIZE, 0x5a);
    uint64_t icount = 0;
    Clock clk;
    IrqRecorder irq;
    std::vector<std::unique_ptr<BlockDev>> blks;

    Rig()
    {
        bus_init(bus.get());
        pci_bus_init(pci.get(), bus.get());
        clock_init(&clk, &icount, 0);
        physmem_map(mem.get(), 0, kRamSize, ram.data(), ram.data());
        physmem_map(mem.get(), kRom, PAGE_SIZE, rom.data(), nullptr);
        ide_init(ide.get(), bus.get(), pci.get(), mem.get(), &clk,
                 IrqLine{IrqRecorder::Set, &irq, 14}, IrqLine{IrqRecorder::Set, &irq, 15});
        uint8_t fn = PCI_DEVFN(1, 1);
        pci_config_write(pci.get(), fn, 0x20, kBm | 1, 4);
        pci_config_write(pci.get(), fn, 0x04, 0x0005, 2); // I/O decode, bus master
    }
    ~Rig()
    {
        for (auto &b : blks) blk_close(b.get());
    }
    void Attach(const TempImage &img, int ch, int unit, bool cdrom, bool read_only = false)
    {
        blks.emplace_back(new BlockDev);
        BlockDev *b = blks.back().get();
        char err[256] = "";
        ASSERT_EQ(0, blk_open(b, img.path.c_str(), "raw", read_only || cdrom, false, err,
                              sizeof err))
            << err;
        ASSERT_EQ(0, ide_attach(ide.get(), ch, unit, b, cdrom));
    }
    // Let `ns` of virtual time pass (the CPU idles) and run the timers that are due.
    void Run(uint64_t ns)
    {
        clock_advance(&clk, ns);
        clock_run_timers(&clk);
    }
};

class IdeDmaTest : public ::testing::Test {
protected:
    Rig r;

    uint8_t In8(uint16_t p) { return (uint8_t)bus_io_read(r.bus.get(), p, 1); }
    uint32_t In32(uint16_t p) { return bus_io_read(r.bus.get(), p, 4); }
    void Out8(uint16_t p, uint8_t v) { bus_io_write(r.bus.get(), p, v, 1); }
    void Out32(uint16_t p, uint32_t v) { bus_io_write(r.bus.get(), p, v, 4); }

    void Put32(uint32_t addr, uint32_t v)
    {
        for (int i = 0; i < 4; i++) r.ram[addr + i] = (uint8_t)(v >> (8 * i));
    }
    // A PRD table at `table`: {address, byte count (0 = 64 KiB)} pairs, EOT on the last.
    void Prds(uint32_t table, const std::vector<std::pair<uint32_t, uint32_t>> &regions,
              bool eot = true)
    {
        for (size_t i = 0; i < regions.size(); i++) {
            Put32(table + 8 * (uint32_t)i, regions[i].first);
            uint32_t cnt = regions[i].second & 0xffff;
            if (eot && i + 1 == regions.size()) cnt |= 0x80000000u;
            Put32(table + 8 * (uint32_t)i + 4, cnt);
        }
    }
    Bytes Ram(uint32_t addr, size_t len)
    {
        return Bytes(r.ram.begin() + addr, r.ram.begin() + addr + len);
    }

    // Bus master of channel `ch`: table pointer and direction (Start clear), as Linux's
    // ata_bmdma_setup does before the command.
    void BmSetup(uint32_t table, bool to_memory, int ch = 0)
    {
        Out32(kBm + 8 * ch + 4, table);
        Out8(kBm + 8 * ch, to_memory ? 0x08 : 0x00);
        // clear Error and Interrupt, keep the drive DMA-capable bits (as Linux does)
        Out8(kBm + 8 * ch + 2, (uint8_t)((BmStatus(ch) & 0x60) | kErr | kIntr));
    }
    void BmStart(bool to_memory, int ch = 0) { Out8(kBm + 8 * ch, to_memory ? 0x09 : 0x01); }
    void BmStop(int ch = 0) { Out8(kBm + 8 * ch, In8(kBm + 8 * ch) & 0x08); }
    uint8_t BmStatus(int ch = 0) { return In8(kBm + 8 * ch + 2); }

    void Lba28(uint8_t cmd, uint32_t lba, uint8_t count)
    {
        Out8(kCount, count);
        Out8(kSector, (uint8_t)lba);
        Out8(kLcyl, (uint8_t)(lba >> 8));
        Out8(kHcyl, (uint8_t)(lba >> 16));
        Out8(kSelect, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
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
    // Run virtual time in 10 us steps until IRQ `n` rises (or `limit_ns` passes); returns
    // the virtual time it took, or -1.
    int64_t WaitIrq(int n = 14, uint64_t limit_ns = 100000000)
    {
        int before = r.irq.raises[n];
        uint64_t t0 = clock_now(&r.clk);
        while (clock_now(&r.clk) - t0 < limit_ns) {
            r.Run(10000);
            if (r.irq.raises[n] != before) return (int64_t)(clock_now(&r.clk) - t0);
        }
        return -1;
    }
};

TEST_F(IdeDmaTest, ReadDmaMovesKnownSectorsAfterVirtualTime)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    memset(r.ram.data() + 0x20000, 0xcc, 8192);
    Prds(0x1000, {{0x20000, 4096}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 100, 8);
    // the drive waits for the bus master: DRQ, no interrupt, nothing moved
    EXPECT_EQ(0x58, In8(kStatus));
    r.Run(10000000);
    EXPECT_EQ(0, r.irq.raises[14]);
    EXPECT_EQ(0xcc, r.ram[0x20000]);
    EXPECT_EQ(0x00, BmStatus());
    BmStart(true);
    EXPECT_EQ(kActive, BmStatus());
    // not inside the register write: the transfer takes virtual time
    EXPECT_EQ(0xcc, r.ram[0x20000]);
    EXPECT_EQ(0, r.irq.raises[14]);
    int64_t took = WaitIrq();
    ASSERT_GT(took, 0);
    EXPECT_GE(took, 10000);    // at least the command overhead
    EXPECT_LE(took, 1000000);  // and not absurdly slow for 4 KiB
    EXPECT_EQ(Expected(100 * 512, 4096), Ram(0x20000, 4096));
    EXPECT_EQ(Bytes(4096, 0xcc), Ram(0x21000, 4096)) << "nothing beyond the region";
    // the PRD size equalled the transfer: Interrupt set, Active clear
    EXPECT_EQ(kIntr, BmStatus());
    EXPECT_EQ(1, r.irq.level[14]);
    EXPECT_EQ(0x50, In8(kStatus)); // acknowledges
    EXPECT_EQ(0, r.irq.level[14]);
    EXPECT_EQ(107, In8(kSector)); // the last sector, as for PIO
    BmStop();
    Out8(kBm + 2, kIntr);
    EXPECT_EQ(0x00, BmStatus());
}

TEST_F(IdeDmaTest, BusMasterStartedBeforeTheCommand)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    Prds(0x1000, {{0x30000, 512}});
    BmSetup(0x1000, true);
    BmStart(true);
    r.Run(1000000);
    EXPECT_EQ(kActive, BmStatus()) << "no drive request yet: still waiting";
    Lba28(0xc9, 7, 1); // READ DMA without retries
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(Expected(7 * 512, 512), Ram(0x30000, 512));
    EXPECT_EQ(kIntr, BmStatus());
}

TEST_F(IdeDmaTest, WriteDmaThenReadBackLba48AcrossChunks)
{
    TempImage img(4 << 20, "disk");
    r.Attach(img, 0, 0, false);
    // 300 sectors (150 KiB: more than one 128 KiB buffer) from three regions
    const uint32_t n = 300, bytes = n * 512;
    for (uint32_t i = 0; i < bytes; i++) r.ram[0x100000 + i] = (uint8_t)(i * 7 + (i >> 10));
    Prds(0x2000, {{0x100000, 0}, {0x110000, 0}, {0x120000, bytes - 0x20000}});
    BmSetup(0x2000, false);
    Lba48(0x35, 1000, n);
    EXPECT_EQ(0x58, In8(kStatus));
    BmStart(false);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(kIntr, BmStatus());
    BmStop();
    EXPECT_EQ(Ram(0x100000, bytes), img.Read(1000 * 512, bytes));
    EXPECT_EQ(Expected(999 * 512, 512), img.Read(999 * 512, 512)) << "neighbours untouched";
    EXPECT_EQ(Expected(1300 * 512, 512), img.Read(1300 * 512, 512));

    // read it back with READ DMA EXT into other memory, one region per page
    std::vector<std::pair<uint32_t, uint32_t>> regions;
    for (uint32_t off = 0; off < bytes; off += 4096) regions.push_back({0x200000 + off, 4096});
    regions.back().second = bytes - (uint32_t)(regions.size() - 1) * 4096;
    Prds(0x3000, regions);
    BmSetup(0x3000, true);
    Lba48(0x25, 1000, n);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(0x50, In8(kStatus));
    EXPECT_EQ(Ram(0x100000, bytes), Ram(0x200000, bytes));
}

TEST_F(IdeDmaTest, ScatterGatherOddRegionsAcrossPages)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    memset(r.ram.data() + 0x40000, 0xee, 0x20000);
    // 4 sectors into pieces: 2 bytes, a region straddling a page boundary, 510 bytes...
    std::vector<std::pair<uint32_t, uint32_t>> regions = {
        {0x40ffe, 2}, {0x41ff0, 1000}, {0x43100, 510}, {0x45000, 536}};
    Prds(0x4ff8, regions); // the table itself straddles a page boundary
    BmSetup(0x4ff8, true);
    Lba28(0xc8, 50, 4);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    Bytes want = Expected(50 * 512, 2048), got;
    for (auto &rg : regions) {
        Bytes part = Ram(rg.first, rg.second);
        got.insert(got.end(), part.begin(), part.end());
    }
    EXPECT_EQ(want, got);
    EXPECT_EQ(0xee, r.ram[0x40ffd]);
    EXPECT_EQ(0xee, r.ram[0x41ff0 + 1000]);
    EXPECT_EQ(0xee, r.ram[0x45000 + 536]);
    EXPECT_EQ(kIntr, BmStatus());
}

TEST_F(IdeDmaTest, CountZeroIs64KiB)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    // 256 sectors (count 0) into two 64 KiB regions
    Prds(0x1000, {{0x100000, 0}, {0x180000, 0}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 16, 0);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(Expected(16 * 512, 0x10000), Ram(0x100000, 0x10000));
    EXPECT_EQ(Expected(16 * 512 + 0x10000, 0x10000), Ram(0x180000, 0x10000));
    EXPECT_EQ(kIntr, BmStatus());
    EXPECT_EQ(0x50, In8(kStatus));
}

TEST_F(IdeDmaTest, PrdTooSmallStopsWithErrorAndNoInterrupt)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    memset(r.ram.data() + 0x50000, 0xcc, 4096);
    Prds(0x1000, {{0x50000, 1024}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 30, 4);
    BmStart(true);
    EXPECT_EQ(-1, WaitIrq(14, 50000000)) << "the drive still has data: no interrupt";
    EXPECT_EQ(Expected(30 * 512, 1024), Ram(0x50000, 1024));
    EXPECT_EQ(0xcc, r.ram[0x50000 + 1024]);
    EXPECT_EQ(kErr, BmStatus()) << "table exhausted: Active clear, Error set";
    EXPECT_EQ(0x58, In8(kAltStatus)) << "the drive waits for more DMA";
    // the driver recovers: stop the engine, clear Error, reset the channel
    BmStop();
    Out8(kBm + 2, kErr);
    EXPECT_EQ(0x00, BmStatus());
    Out8(kDevCtl, 0x04);
    Out8(kDevCtl, 0x00);
    EXPECT_EQ(0x50, In8(kStatus));
    Prds(0x1000, {{0x50000, 2048}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 30, 4);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(Expected(30 * 512, 2048), Ram(0x50000, 2048));
}

TEST_F(IdeDmaTest, PrdTableEndingExactlyAtAChunkBoundaryWithMoreData)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    // 128 KiB of table for a 256 + 4 sector command: the first chunk fills it exactly
    Prds(0x1000, {{0x100000, 0}, {0x110000, 0}});
    BmSetup(0x1000, true);
    Lba48(0x25, 0, 260);
    BmStart(true);
    EXPECT_EQ(-1, WaitIrq(14, 50000000));
    EXPECT_EQ(kErr, BmStatus());
    EXPECT_EQ(Expected(0, 0x20000), Ram(0x100000, 0x20000));
}

TEST_F(IdeDmaTest, PrdLargerThanTransferKeepsActive)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    Prds(0x1000, {{0x60000, 8192}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 3, 2);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(kIntr | kActive, BmStatus()) << "done, but the table was not used up";
    EXPECT_EQ(Expected(3 * 512, 1024), Ram(0x60000, 1024));
    BmStop();
    EXPECT_EQ(kIntr, BmStatus());
}

TEST_F(IdeDmaTest, TableWithoutEotLongerThanTheData)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    // 2-byte regions, no EOT anywhere, followed by garbage: only what the data needs is read
    std::vector<std::pair<uint32_t, uint32_t>> regions;
    for (uint32_t i = 0; i < 512; i++) regions.push_back({0x70000 + 4 * i, 2});
    Prds(0x8000, regions, false);
    memset(r.ram.data() + 0x8000 + 8 * 512, 0xff, 4096);
    BmSetup(0x8000, true);
    Lba28(0xc8, 9, 1);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    for (uint32_t i = 0; i < 256; i++) {
        Bytes want = Expected(9 * 512 + 2 * i, 2);
        ASSERT_EQ(want, Ram(0x70000 + 4 * i, 2)) << i;
    }
    EXPECT_EQ(kIntr | kActive, BmStatus());
}

TEST_F(IdeDmaTest, PrdTableOutsideRamIsAMasterAbort)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    BmSetup(kNowhere, true);
    Lba28(0xc8, 1, 1);
    BmStart(true);
    EXPECT_EQ(-1, WaitIrq(14, 10000000));
    EXPECT_EQ(kErr, BmStatus()) << "Error, and the engine stopped";
    uint16_t pci_status = (uint16_t)pci_config_read(r.pci.get(), PCI_DEVFN(1, 1), 0x06, 2);
    EXPECT_NE(0, pci_status & 0x2000) << "received master abort";
    pci_config_write(r.pci.get(), PCI_DEVFN(1, 1), 0x06, 0x2000, 2);
    EXPECT_EQ(0, pci_config_read(r.pci.get(), PCI_DEVFN(1, 1), 0x06, 2) & 0x2000);
}

TEST_F(IdeDmaTest, DataRegionsOutsideRam)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    // a read into nothing and into ROM: the data is lost, the command completes; only
    // the unclaimed cycle is an error
    Prds(0x1000, {{kNowhere, 512}, {kRom, 512}, {0x90000, 512}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 20, 3);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(kIntr | kErr, BmStatus());
    EXPECT_EQ(Bytes(PAGE_SIZE, 0x5a), r.rom);
    EXPECT_EQ(Expected(22 * 512, 512), Ram(0x90000, 512));
    BmStop();

    // ROM alone is claimed: no error
    Prds(0x1000, {{kRom, 512}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 20, 1);
    BmStart(true);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(kIntr, BmStatus());
    BmStop();

    // a write from nothing sends all ones to the disk
    Prds(0x1000, {{kNowhere + 0x1000, 512}});
    BmSetup(0x1000, false);
    Lba28(0xca, 40, 1);
    BmStart(false);
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(kIntr | kErr, BmStatus());
    EXPECT_EQ(Bytes(512, 0xff), img.Read(40 * 512, 512));
}

TEST_F(IdeDmaTest, BusMasteringDisabledInPciCommand)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    pci_config_write(r.pci.get(), PCI_DEVFN(1, 1), 0x04, 0x0001, 2);
    memset(r.ram.data() + 0x20000, 0xcc, 512);
    Prds(0x1000, {{0x20000, 512}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 1, 1);
    BmStart(true);
    EXPECT_EQ(-1, WaitIrq(14, 10000000));
    EXPECT_EQ(kErr, BmStatus());
    EXPECT_EQ(0xcc, r.ram[0x20000]);
}

TEST_F(IdeDmaTest, StatusRegisterBits)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    // drive DMA-capable bits are read/write; Active and simplex cannot be written
    Out8(kBm + 2, 0xe1);
    EXPECT_EQ(0x60, BmStatus());
    Out8(kBm + 2, 0x00);
    EXPECT_EQ(0x00, BmStatus());
    // every rising INTRQ latches Interrupt, PIO commands too (a PIIX does so)
    Out8(kCommand, 0xe5); // CHECK POWER MODE
    EXPECT_EQ(kIntr, BmStatus());
    Out8(kBm + 2, 0x60); // writing 0 to Interrupt leaves it
    EXPECT_EQ(kIntr | 0x60, BmStatus());
    Out8(kBm + 2, kIntr | 0x60); // writing 1 clears it
    EXPECT_EQ(0x60, BmStatus());
    // nIEN keeps INTRQ low: nothing latched
    Out8(kDevCtl, 0x02);
    Out8(kCommand, 0xe5);
    EXPECT_EQ(0x60, BmStatus());
    Out8(kDevCtl, 0x00);
    // Error is write-1-to-clear too (made by a table in nowhere)
    In8(kStatus);
    Out8(kBm + 2, kIntr | 0x60);
    BmSetup(kNowhere, true);
    Lba28(0xc8, 1, 1);
    BmStart(true);
    r.Run(1000000);
    EXPECT_EQ(kErr | 0x60, BmStatus());
    Out8(kBm + 2, kErr | 0x60);
    EXPECT_EQ(0x60, BmStatus());
    // the command register keeps only Start and the direction; the pointer is dword aligned
    Out8(kBm, 0xf6);
    EXPECT_EQ(0x00, In8(kBm));
    Out32(kBm + 4, 0x12345677);
    EXPECT_EQ(0x12345674u, In32(kBm + 4));
    // the secondary channel's registers are separate
    EXPECT_EQ(0x00, In8(kBm + 10));
}

TEST_F(IdeDmaTest, StopBeforeCompletionAbortsThenRestartFinishes)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    memset(r.ram.data() + 0x20000, 0xcc, 1024);
    Prds(0x1000, {{0x20000, 1024}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 60, 2);
    BmStart(true);
    r.Run(1000); // too early for the data
    BmStop();
    EXPECT_EQ(0x00, BmStatus());
    r.Run(10000000);
    EXPECT_EQ(0, r.irq.raises[14]);
    EXPECT_EQ(0xcc, r.ram[0x20000]);
    EXPECT_EQ(0x58, In8(kStatus)) << "the drive still wants its DMA";
    BmStart(true); // starts again from the table's first descriptor
    ASSERT_GT(WaitIrq(), 0);
    EXPECT_EQ(Expected(60 * 512, 1024), Ram(0x20000, 1024));
}

TEST_F(IdeDmaTest, NewCommandOrResetEndsTheDataPhase)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    memset(r.ram.data() + 0x20000, 0xcc, 512);
    Prds(0x1000, {{0x20000, 512}});
    BmSetup(0x1000, true);
    Lba28(0xc8, 1, 1);
    Out8(kCommand, 0xe5); // another command replaces it
    EXPECT_EQ(0x50, In8(kStatus));
    BmStart(true);
    r.Run(10000000);
    EXPECT_EQ(0xcc, r.ram[0x20000]);
    EXPECT_EQ(kActive | kIntr, BmStatus()) << "Interrupt from CHECK POWER MODE";
    BmStop();
    // SRST during a started transfer: nothing moves afterwards
    BmSetup(0x1000, true);
    Lba28(0xc8, 1, 1);
    BmStart(true);
    Out8(kDevCtl, 0x04);
    Out8(kDevCtl, 0x00);
    r.Run(10000000);
    EXPECT_EQ(0xcc, r.ram[0x20000]);
    EXPECT_EQ(0x50, In8(kStatus));
}

TEST_F(IdeDmaTest, CommandErrorsNeedNoBusMaster)
{
    TempImage img(1 << 20, "disk"), ro(1 << 20, "ro");
    r.Attach(img, 0, 0, false);
    r.Attach(ro, 1, 0, false, true);
    Lba28(0xc8, 2048, 1); // past the end
    EXPECT_EQ(1, r.irq.raises[14]);
    EXPECT_EQ(0x51, In8(kStatus));
    EXPECT_EQ(0x10, In8(kError)); // IDNF
    EXPECT_EQ(kIntr, BmStatus());
    // a read-only image refuses WRITE DMA at once
    Out8(0x176, 0xe0);
    Out8(0x177, 0xca);
    EXPECT_EQ(0x51, In8(0x177));
    EXPECT_EQ(0x04, In8(0x171));
    EXPECT_EQ(kIntr, BmStatus(1));
}

TEST_F(IdeDmaTest, SetFeaturesSelectsDmaModeInIdentify)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    auto identify = [&]() {
        Out8(kSelect, 0xa0);
        Out8(kCommand, 0xec);
        std::vector<uint16_t> id(256);
        for (auto &w : id) w = (uint16_t)bus_io_read(r.bus.get(), kData, 2);
        return id;
    };
    auto set_mode = [&](uint8_t mode) {
        Out8(kFeature, 0x03);
        Out8(kCount, mode);
        Out8(kCommand, 0xef);
        return In8(kStatus);
    };
    EXPECT_EQ(0x50, set_mode(0x22)); // multiword DMA 2 (what ata_piix picks on a PIIX3)
    auto id = identify();
    EXPECT_EQ(0x0007, id[62]);
    EXPECT_EQ(0x0407, id[63]);
    EXPECT_EQ(0x003f, id[88]);
    EXPECT_EQ(0x50, set_mode(0x45)); // UDMA 5
    id = identify();
    EXPECT_EQ(0x0007, id[63]);
    EXPECT_EQ(0x203f, id[88]);
    EXPECT_EQ(0x50, set_mode(0x0c)); // PIO 4 leaves the DMA mode selected
    EXPECT_EQ(0x203f, identify()[88]);
    for (uint8_t bad : {0x46, 0x23, 0x13, 0x0d}) { // UDMA 6, MWDMA 3, SWDMA 3, PIO 5
        EXPECT_EQ(0x51, set_mode(bad)) << (int)bad;
        EXPECT_EQ(0x04, In8(kError));
    }
    EXPECT_EQ(0x203f, identify()[88]);
    uint16_t sum = 0;
    for (uint16_t w : id) sum = (uint16_t)(sum + (w & 0xff) + (w >> 8));
    EXPECT_EQ(0, sum & 0xff) << "the integrity word still checks";
    ide_reset(r.ide.get()); // power-on: nothing selected
    EXPECT_EQ(0x003f, identify()[88]);
}

// ---- ATAPI: PACKET with the DMA bit on the secondary channel ----

class AtapiDmaTest : public IdeDmaTest {
protected:
    static constexpr uint16_t kCdCount = 0x172, kCdStatus = 0x177, kCdError = 0x171;
    // PACKET with DMA, the CDB through the data port; returns after the packet phase.
    void Packet(Bytes cdb)
    {
        cdb.resize(12);
        Out8(0x176, 0xa0);
        Out8(0x171, 0x01); // DMA
        Out8(0x174, 0x00);
        Out8(0x175, 0x00); // byte count limit: not used by DMA
        Out8(0x177, 0xa0);
        ASSERT_EQ(0x48, In8(0x376));
        for (int i = 0; i < 12; i += 2)
            bus_io_write(r.bus.get(), 0x170, (uint16_t)(cdb[i] | cdb[i + 1] << 8), 2);
    }
    void ClearUnitAttention()
    {
        Out8(0x176, 0xa0);
        Out8(0x171, 0x00);
        Out8(0x177, 0xa0);
        for (int i = 0; i < 6; i++) bus_io_write(r.bus.get(), 0x170, 0, 2); // TEST UNIT READY
        ASSERT_EQ(0x41, In8(kCdStatus));
    }
};

TEST_F(AtapiDmaTest, Read10ViaDma)
{
    TempImage cd(2048 * 200, "cd");
    r.Attach(cd, 1, 0, true);
    ClearUnitAttention();
    memset(r.ram.data() + 0x100000, 0xcc, 3 * 2048 + 16);
    Prds(0x1000, {{0x100000, 2048}, {0x100800, 4096}});
    BmSetup(0x1000, true, 1);
    Packet({0x28, 0, 0, 0, 0, 5, 0, 0, 3, 0}); // READ(10) LBA 5, 3 blocks
    // data phase for the bus master: DRQ, IO=1 CoD=0, no interrupt yet
    EXPECT_EQ(0x48, In8(0x376));
    EXPECT_EQ(0x02, In8(kCdCount) & 0x03);
    EXPECT_EQ(0, r.irq.level[15]);
    BmStart(true, 1);
    ASSERT_GT(WaitIrq(15), 0);
    EXPECT_EQ(Expected(5 * 2048, 3 * 2048), Ram(0x100000, 3 * 2048));
    EXPECT_EQ(0xcc, r.ram[0x100000 + 3 * 2048]);
    EXPECT_EQ(0x03, In8(kCdCount) & 0x03) << "status phase";
    EXPECT_EQ(0x40, In8(kCdStatus));
    EXPECT_EQ(kIntr, BmStatus(1));
    EXPECT_EQ(0x00, BmStatus(0)) << "the primary channel saw nothing";
}

TEST_F(AtapiDmaTest, Read12LargerThanTheBufferAndReplyCommands)
{
    TempImage cd(2048 * 200, "cd");
    r.Attach(cd, 1, 0, true);
    ClearUnitAttention();
    // 150 blocks (300 KiB, three buffer fills) into 64 KiB regions, the last one larger
    Prds(0x1000, {{0x100000, 0}, {0x110000, 0}, {0x120000, 0}, {0x130000, 0}, {0x140000, 0}});
    BmSetup(0x1000, true, 1);
    Packet({0xa8, 0, 0, 0, 0, 10, 0, 0, 0, 150, 0, 0});
    BmStart(true, 1);
    ASSERT_GT(WaitIrq(15), 0);
    EXPECT_EQ(Expected(10 * 2048, 150 * 2048), Ram(0x100000, 150 * 2048));
    EXPECT_EQ(0x40, In8(kCdStatus));
    EXPECT_EQ(kIntr | kActive, BmStatus(1));
    BmStop(1);

    // INQUIRY (a reply built in the drive) by DMA, 32 of its 36 bytes asked for
    memset(r.ram.data() + 0x200000, 0xcc, 64);
    Prds(0x1000, {{0x200000, 32}});
    BmSetup(0x1000, true, 1);
    Packet({0x12, 0, 0, 0, 32, 0});
    BmStart(true, 1);
    ASSERT_GT(WaitIrq(15), 0);
    EXPECT_EQ(0x05, r.ram[0x200000]);
    EXPECT_EQ(0, memcmp(r.ram.data() + 0x200008, "DBT86", 5));
    EXPECT_EQ(0xcc, r.ram[0x200000 + 32]);
    EXPECT_EQ(kIntr, BmStatus(1));
    EXPECT_EQ(0x40, In8(kCdStatus));
    BmStop(1);

    // errors and commands without data need no bus master
    Packet({0x28, 0, 0, 0, 0x10, 0, 0, 0, 1, 0}); // LBA 4096: out of range
    EXPECT_EQ(0x41, In8(kCdStatus));
    EXPECT_EQ(0x50, In8(kCdError)); // ILLEGAL REQUEST
    Packet({0x00});
    EXPECT_EQ(0x40, In8(kCdStatus));
}

TEST_F(AtapiDmaTest, PrdTooSmallForThePacketData)
{
    TempImage cd(2048 * 20, "cd");
    r.Attach(cd, 1, 0, true);
    ClearUnitAttention();
    Prds(0x1000, {{0x100000, 2048}});
    BmSetup(0x1000, true, 1);
    Packet({0x28, 0, 0, 0, 0, 1, 0, 0, 2, 0});
    BmStart(true, 1);
    EXPECT_EQ(-1, WaitIrq(15, 20000000));
    EXPECT_EQ(kErr, BmStatus(1));
    EXPECT_EQ(Expected(2048, 2048), Ram(0x100000, 2048));
    EXPECT_EQ(0x48, In8(0x376));
    // DEVICE RESET recovers the drive
    BmStop(1);
    Out8(0x177, 0x08);
    EXPECT_EQ(0x00, In8(0x177));
}

// The DMA state is in the snapshot: a copy made mid-transfer finishes the same way.
TEST_F(IdeDmaTest, SnapshotMidTransferFinishesTheSame)
{
    TempImage img(1 << 20, "disk");
    r.Attach(img, 0, 0, false);
    Prds(0x1000, {{0x100000, 0}, {0x110000, 0}, {0x120000, 300 * 512 - 0x20000}});
    BmSetup(0x1000, true);
    Lba48(0x25, 200, 300);
    BmStart(true);
    // run until the first chunk has moved
    for (int i = 0; i < 10000 && r.ram[0x100000] != DiskByte(200 * 512); i++) r.Run(1000);
    ASSERT_EQ(DiskByte(200 * 512), r.ram[0x100000]);
    ASSERT_EQ(0, r.irq.raises[14]);

    // copy every saved field into a second controller (with a copy of RAM and the same
    // virtual time), as a snapshot load does, then let both finish
    Rig b;
    b.Attach(img, 0, 0, false);
    b.ram = r.ram;
    physmem_map(b.mem.get(), 0, kRamSize, b.ram.data(), b.ram.data());
    b.clk.idle_ns = r.clk.idle_ns;
    const BusRange *range = &b.bus->io_ranges[b.bus->io_index[0x1f0]];
    const StateDesc *sd = range->ops->state;
    static const unsigned kSize[] = {1, 2, 4, 8, 1};
    ide_reset(b.ide.get());
    for (const StateField *f = sd->fields; f->name; f++)
        memcpy((uint8_t *)b.ide.get() + f->offset, (uint8_t *)r.ide.get() + f->offset,
               kSize[f->type] * f->count);
    ASSERT_EQ(0, range->ops->post_load(range->dev));
    ASSERT_GT(WaitIrq(), 0);
    int64_t ta = (int64_t)clock_now(&r.clk);
    int64_t tb = -1;
    for (int i = 0; i < 10000 && tb < 0; i++) {
        b.Run(10000);
        if (b.irq.raises[14]) tb = (int64_t)clock_now(&b.clk);
    }
    ASSERT_GT(tb, 0);
    EXPECT_EQ(ta, tb) << "the copy completes at the same virtual time";
    EXPECT_EQ(Expected(200 * 512, 300 * 512), Ram(0x100000, 300 * 512));
    EXPECT_EQ(r.ram, b.ram);
    EXPECT_EQ(r.ram.size(), b.ram.size());
    EXPECT_EQ(BmStatus(), (uint8_t)bus_io_read(b.bus.get(), kBm + 2, 1));
}

} // namespace
