/*
 * test_fdc.cc — the floppy controller driven through its ports, with an 8237A and a
 * raw 1.44 MB image in a temporary file: reset and polling interrupts, seeks, READ
 * DATA and WRITE DATA over DMA (one sector, several, multi-track, end of track),
 * non-DMA transfers through the FIFO, READ ID, FORMAT TRACK, the configuration
 * commands, and the error statuses (write protect, no sector, no disk, wrong rate).
 */
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "devices/fdc.h"
}

static const int IMG_SIZE = 1474560;

/* the byte at `i` of the sector with this LBA in the test image */
static uint8_t pattern(int lba, int i)
{
    if (i < 2) return (uint8_t)(lba >> (8 * i));
    return (uint8_t)(lba * 7 + i);
}

struct IrqProbe {
    int level = 0, rises = 0;
    static void set(void *o, int n, int level)
    {
        IrqProbe *p = static_cast<IrqProbe *>(o);
        if (level && !p->level) p->rises++;
        p->level = level;
    }
};

struct FdcFixture : ::testing::Test {
    Bus bus;
    PhysMem *mem = nullptr;
    std::vector<uint8_t> ram = std::vector<uint8_t>(1u << 20, 0);
    Dma dma;
    Fdc fdc;
    IrqProbe irq;
    BlockDev blk;
    std::string path;

    void SetUp() override
    {
        char tmpl[] = "/tmp/dbt86-fdc-XXXXXX";
        int fd = mkstemp(tmpl);
        ASSERT_GE(fd, 0);
        path = tmpl;
        std::vector<uint8_t> img(IMG_SIZE);
        for (int i = 0; i < IMG_SIZE; i++) img[i] = pattern(i / 512, i % 512);
        ASSERT_EQ(write(fd, img.data(), img.size()), (ssize_t)img.size());
        close(fd);
        mem = static_cast<PhysMem *>(calloc(1, sizeof(PhysMem)));
        physmem_map(mem, 0, (uint32_t)ram.size(), ram.data(), ram.data());
        bus_init(&bus);
        dma_init(&dma, &bus, mem);
        fdc_init(&fdc, &bus, IrqLine{IrqProbe::set, &irq, 6}, &dma, 2);
        open_image(false);
    }
    void open_image(bool ro)
    {
        char err[256];
        ASSERT_EQ(blk_open(&blk, path.c_str(), "raw", ro, false, err, sizeof err), 0) << err;
        ASSERT_EQ(fdc_attach(&fdc, 0, &blk, err, sizeof err), 0) << err;
    }
    void TearDown() override
    {
        blk_close(&blk);
        unlink(path.c_str());
        free(mem);
    }
    void out(uint16_t port, uint8_t v) { bus_io_write(&bus, port, v, 1); }
    uint8_t in(uint16_t port) { return (uint8_t)bus_io_read(&bus, port, 1); }

    void send(std::initializer_list<int> bytes)
    {
        for (int b : bytes) {
            ASSERT_EQ(in(0x3f4) & 0xc0, 0x80) << "controller not ready for a command byte";
            out(0x3f5, (uint8_t)b);
        }
    }
    std::vector<int> result(int n)
    {
        std::vector<int> r;
        for (int i = 0; i < n; i++) {
            EXPECT_EQ(in(0x3f4) & 0xd0, 0xd0) << "no result byte " << i;
            r.push_back(in(0x3f5));
        }
        EXPECT_EQ(in(0x3f4), 0x80) << "result longer than " << n;
        return r;
    }
    /* DMA channel 2 for `len` bytes at `addr`; mode 0x46 (to memory) or 0x4A (from) */
    void dma_setup(uint8_t mode, uint32_t addr, int len)
    {
        out(0x0a, 0x06);
        out(0x0c, 0);
        out(0x0b, mode);
        out(0x04, addr & 0xff);
        out(0x04, (addr >> 8) & 0xff);
        out(0x81, (addr >> 16) & 0xff);
        out(0x05, (len - 1) & 0xff);
        out(0x05, (len - 1) >> 8);
        out(0x0a, 0x02);
    }
    void motor_on() { out(0x3f2, 0x1c); }
    bool ram_holds(uint32_t addr, int lba)
    {
        for (int i = 0; i < 512; i++)
            if (ram[addr + i] != pattern(lba, i)) return false;
        return true;
    }
    std::vector<uint8_t> file_sector(int lba)
    {
        std::vector<uint8_t> s(512);
        FILE *f = fopen(path.c_str(), "rb");
        fseek(f, lba * 512L, SEEK_SET);
        EXPECT_EQ(fread(s.data(), 1, 512, f), 512u);
        fclose(f);
        return s;
    }
};

TEST_F(FdcFixture, ResetRaisesIrqAndFourPollingStatuses)
{
    out(0x3f2, 0x00);
    EXPECT_EQ(in(0x3f4), 0x00); /* held in reset */
    int before = irq.rises;
    out(0x3f2, 0x0c);
    EXPECT_EQ(irq.rises, before + 1);
    EXPECT_EQ(irq.level, 1);
    EXPECT_EQ(in(0x3f0) & 0x80, 0x80); /* SRA: interrupt pending */
    for (int d = 0; d < 4; d++) {
        send({0x08});
        EXPECT_EQ(result(2), (std::vector<int>{0xc0 | d, 0}));
        EXPECT_EQ(irq.level, 0);
    }
    send({0x08});
    EXPECT_EQ(result(1), (std::vector<int>{0x80})); /* nothing pending: invalid */
    /* the DMA gate off keeps the line low */
    out(0x3f2, 0x00);
    out(0x3f2, 0x04);
    EXPECT_EQ(irq.level, 0);
    out(0x3f2, 0x0c);
    EXPECT_EQ(irq.level, 1);
    /* DSR software reset does the same */
    send({0x08});
    result(2);
    out(0x3f4, 0x80);
    EXPECT_EQ(irq.level, 1);
}

TEST_F(FdcFixture, VersionInvalidAndConfiguration)
{
    send({0x10});
    EXPECT_EQ(result(1), (std::vector<int>{0x90}));
    send({0x1f});
    EXPECT_EQ(result(1), (std::vector<int>{0x80}));
    send({0x03, 0xaf, 0x02});                /* SPECIFY */
    send({0x13, 0x00, 0x57, 0x05});          /* CONFIGURE: EIS, no FIFO, poll off */
    send({0x12, 0x87});                      /* PERPENDICULAR: OW, D0, GAP, WGATE */
    send({0x0e});
    EXPECT_EQ(result(10), (std::vector<int>{0, 0, 0, 0, 0xaf, 0x02, 0, 0x07, 0x57, 0x05}));
    send({0x94});                            /* LOCK */
    EXPECT_EQ(result(1), (std::vector<int>{0x10}));
    out(0x3f2, 0x00);
    out(0x3f2, 0x0c);
    EXPECT_EQ(irq.level, 0);                 /* polling disabled: no reset interrupt */
    send({0x0e});
    EXPECT_EQ(result(10), (std::vector<int>{0, 0, 0, 0, 0xaf, 0x02, 0, 0x84, 0x57, 0x05}));
    send({0x14});                            /* UNLOCK */
    EXPECT_EQ(result(1), (std::vector<int>{0x00}));
    out(0x3f2, 0x00);
    out(0x3f2, 0x0c);
    send({0x0e});
    EXPECT_EQ(result(10)[8], 0x20);          /* back to the defaults */
}

TEST_F(FdcFixture, SeekRecalibrateSenseInterruptAndDiskChange)
{
    motor_on();
    EXPECT_EQ(in(0x3f7), 0x80); /* disk change after insertion */
    send({0x04, 0x00});
    EXPECT_EQ(result(1), (std::vector<int>{0x38})); /* ready, track 0, two-sided */
    int before = irq.rises;
    send({0x0f, 0x00, 10});
    EXPECT_EQ(irq.rises, before + 1);
    EXPECT_EQ(in(0x3f7), 0x00); /* the step cleared it */
    send({0x08});
    EXPECT_EQ(result(2), (std::vector<int>{0x20, 10}));
    EXPECT_EQ(irq.level, 0);
    send({0x0f, 0x04, 5});
    send({0x08});
    EXPECT_EQ(result(2), (std::vector<int>{0x24, 5}));
    send({0x04, 0x04});
    EXPECT_EQ(result(1), (std::vector<int>{0x2c}));
    send({0xcf, 0x00, 3}); /* relative seek outwards... in: +3 */
    send({0x08});
    EXPECT_EQ(result(2), (std::vector<int>{0x20, 8}));
    send({0x07, 0x00});
    send({0x08});
    EXPECT_EQ(result(2), (std::vector<int>{0x20, 0}));
    send({0x07, 0x01}); /* no drive B: no track 0 */
    send({0x08});
    EXPECT_EQ(result(2), (std::vector<int>{0x71, 0}));
}

TEST_F(FdcFixture, ReadOneSectorByDma)
{
    motor_on();
    dma_setup(0x46, 0x10000, 512);
    int before = irq.rises;
    send({0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(irq.rises, before + 1);
    EXPECT_EQ(result(7), (std::vector<int>{0x00, 0, 0, 0, 0, 2, 2}));
    EXPECT_EQ(irq.level, 0);
    EXPECT_TRUE(ram_holds(0x10000, 0));
    EXPECT_EQ(in(0x08) & 0x04, 0x04); /* TC on channel 2 */
}

TEST_F(FdcFixture, ReadSeveralSectorsToTheEndOfTheCylinder)
{
    motor_on();
    dma_setup(0x46, 0x20000, 3 * 512);
    send({0xe6, 0x04, 2, 1, 16, 2, 18, 0x1b, 0xff}); /* C2 H1 S16..18 */
    EXPECT_EQ(result(7), (std::vector<int>{0x00, 0, 0, 3, 0, 1, 2}));
    int lba = (2 * 2 + 1) * 18 + 15;
    for (int i = 0; i < 3; i++) EXPECT_TRUE(ram_holds(0x20000 + i * 512, lba + i)) << i;
}

TEST_F(FdcFixture, MultiTrackContinuesOnHeadOne)
{
    motor_on();
    dma_setup(0x46, 0x30000, 4 * 512);
    send({0xe6, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(result(7), (std::vector<int>{0x04, 0, 0, 0, 1, 3, 2}));
    for (int i = 0; i < 4; i++) EXPECT_TRUE(ram_holds(0x30000 + i * 512, 16 + i)) << i;
}

TEST_F(FdcFixture, EndOfTrackWithoutTerminalCount)
{
    motor_on();
    dma_setup(0x46, 0x30000, 4 * 512);
    send({0x46, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff}); /* no MT: stops after sector 18 */
    EXPECT_EQ(result(7), (std::vector<int>{0x40, 0x80, 0, 1, 0, 1, 2}));
    EXPECT_TRUE(ram_holds(0x30000, 16));
    EXPECT_TRUE(ram_holds(0x30200, 17));
    EXPECT_EQ(ram[0x30400], 0);
}

TEST_F(FdcFixture, WriteThenReadBack)
{
    motor_on();
    for (int i = 0; i < 1024; i++) ram[0x40000 + i] = (uint8_t)(i * 13 + 5);
    dma_setup(0x4a, 0x40000, 1024);
    send({0xc5, 0x00, 1, 0, 3, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(result(7), (std::vector<int>{0x00, 0, 0, 1, 0, 5, 2}));
    int lba = (1 * 2 + 0) * 18 + 2;
    for (int s = 0; s < 2; s++) {
        std::vector<uint8_t> f = file_sector(lba + s);
        for (int i = 0; i < 512; i++) ASSERT_EQ(f[i], (uint8_t)((s * 512 + i) * 13 + 5)) << i;
    }
    EXPECT_EQ(file_sector(lba + 2)[5], pattern(lba + 2, 5));
    dma_setup(0x46, 0x50000, 1024);
    send({0xe6, 0x00, 1, 0, 3, 2, 18, 0x1b, 0xff});
    result(7);
    EXPECT_EQ(memcmp(&ram[0x40000], &ram[0x50000], 1024), 0);
}

TEST_F(FdcFixture, ReadIdAndDataRate)
{
    motor_on();
    send({0x0f, 0x00, 7});
    send({0x08});
    result(2);
    send({0x4a, 0x00});
    std::vector<int> r = result(7);
    EXPECT_EQ(r[0], 0x00);
    EXPECT_EQ(r[3], 7);
    EXPECT_EQ(r[4], 0);
    EXPECT_GE(r[5], 1);
    EXPECT_LE(r[5], 18);
    EXPECT_EQ(r[6], 2);
    out(0x3f7, 0x02); /* CCR: 250 kbit/s, a 720K rate */
    send({0x4a, 0x04});
    r = result(7);
    EXPECT_EQ(r[0], 0x44);
    EXPECT_EQ(r[1], 0x01); /* missing address mark */
    out(0x3f7, 0x00);
}

TEST_F(FdcFixture, WriteProtectedImage)
{
    blk_close(&blk);
    open_image(true);
    motor_on();
    send({0x04, 0x00});
    EXPECT_EQ(result(1)[0] & 0x40, 0x40);
    dma_setup(0x4a, 0x40000, 512);
    send({0xc5, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(result(7), (std::vector<int>{0x40, 0x02, 0, 0, 0, 1, 2}));
    EXPECT_EQ(file_sector(0)[2], pattern(0, 2));
}

TEST_F(FdcFixture, SectorNotFoundAndNoDisk)
{
    motor_on();
    dma_setup(0x46, 0x10000, 512);
    send({0xe6, 0x00, 0, 0, 19, 2, 19, 0x1b, 0xff});
    EXPECT_EQ(result(7), (std::vector<int>{0x40, 0x04, 0, 0, 0, 19, 2}));
    send({0xe6, 0x00, 80, 0, 1, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(result(7), (std::vector<int>{0x40, 0x04, 0, 80, 0, 1, 2}));
    /* DMA masked: the controller never gets its bytes through */
    out(0x0a, 0x06);
    send({0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(result(7)[1], 0x10);
    /* motor off */
    out(0x3f2, 0x0c);
    dma_setup(0x46, 0x10000, 512);
    send({0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(result(7), (std::vector<int>{0x48, 0x01, 0, 0, 0, 1, 2}));
    /* empty drive */
    char err[128];
    ASSERT_EQ(fdc_attach(&fdc, 0, nullptr, err, sizeof err), 0);
    motor_on();
    send({0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(result(7), (std::vector<int>{0x48, 0x01, 0, 0, 0, 1, 2}));
}

TEST_F(FdcFixture, NonDmaReadAndWriteThroughTheFifo)
{
    motor_on();
    send({0x03, 0xaf, 0x03}); /* ND */
    send({0x46, 0x00, 0, 0, 18, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(in(0x3f4), 0xf0); /* RQM, DIO, non-DMA, busy */
    for (int i = 0; i < 512; i++) ASSERT_EQ(in(0x3f5), pattern(17, i)) << i;
    EXPECT_EQ(result(7), (std::vector<int>{0x40, 0x80, 0, 1, 0, 1, 2})); /* no TC: EN */
    send({0x45, 0x04, 0, 1, 18, 2, 18, 0x1b, 0xff});
    EXPECT_EQ(in(0x3f4), 0xb0); /* RQM, non-DMA, busy; host to controller */
    for (int i = 0; i < 512; i++) out(0x3f5, (uint8_t)(255 - (i & 0xff)));
    EXPECT_EQ(result(7), (std::vector<int>{0x44, 0x80, 0, 1, 1, 1, 2}));
    std::vector<uint8_t> f = file_sector(35);
    EXPECT_EQ(f[0], 255);
    EXPECT_EQ(f[511], 0);
}

TEST_F(FdcFixture, FormatTrackFillsSectors)
{
    motor_on();
    send({0x0f, 0x00, 3});
    send({0x08});
    result(2);
    for (int s = 0; s < 18; s++) {
        ram[0x60000 + s * 4 + 0] = 3;
        ram[0x60000 + s * 4 + 1] = 1;
        ram[0x60000 + s * 4 + 2] = (uint8_t)(s + 1);
        ram[0x60000 + s * 4 + 3] = 2;
    }
    dma_setup(0x4a, 0x60000, 18 * 4);
    send({0x4d, 0x04, 2, 18, 0x54, 0xe5});
    std::vector<int> r = result(7);
    EXPECT_EQ(r[0], 0x04);
    EXPECT_EQ(r[1], 0);
    int lba = (3 * 2 + 1) * 18;
    for (int s = 0; s < 18; s++) {
        std::vector<uint8_t> f = file_sector(lba + s);
        EXPECT_EQ(f[0], 0xe5) << s;
        EXPECT_EQ(f[511], 0xe5) << s;
    }
    EXPECT_EQ(file_sector(lba - 1)[5], pattern(lba - 1, 5));
    EXPECT_EQ(file_sector(lba + 18)[5], pattern(lba + 18, 5));
}

TEST_F(FdcFixture, RejectsOddImageSizes)
{
    BlockDev b{};
    b.size = 1000000;
    b.path = (char *)"odd.img";
    char err[256];
    EXPECT_EQ(fdc_attach(&fdc, 1, &b, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("odd.img"), std::string::npos) << err;
    b.size = 2949120;
    EXPECT_EQ(fdc_attach(&fdc, 1, &b, err, sizeof err), 0);
    EXPECT_EQ(fdc.drive[1].spt, 36);
    EXPECT_EQ(fdc.drive[1].cmos_type, 5);
}
