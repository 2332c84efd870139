// test_fwcfg.cc — fw_cfg through its ports (selector, data, DMA into a RAM buffer),
// and the debugcon / isa-debug-exit devices.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

extern "C" {
#include "devices/bus.h"
#include "devices/debugdev.h"
#include "devices/fwcfg.h"
}

namespace {

constexpr uint32_t RAM_BASE = 0x10000, RAM_LEN = 0x10000; // 64 KiB of RAM at 64 KiB
constexpr uint32_t DESC = 0x10000, BUF = 0x11000;

uint32_t bswap(uint32_t v) { return __builtin_bswap32(v); }

struct FwCfgTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    PhysMem *mem = static_cast<PhysMem *>(calloc(1, sizeof(PhysMem)));
    uint8_t *ram = static_cast<uint8_t *>(calloc(1, RAM_LEN));
    FwCfg f;

    void SetUp() override
    {
        bus_init(bus.get());
        physmem_map(mem, RAM_BASE, RAM_LEN, ram, ram);
        fwcfg_init(&f, bus.get(), mem);
    }
    void TearDown() override
    {
        fwcfg_destroy(&f);
        free(ram);
        free(mem);
    }

    uint8_t *at(uint32_t addr) { return ram + (addr - RAM_BASE); }
    void select(uint16_t key) { bus_io_write(bus.get(), 0x510, key, 2); }
    std::string read_bytes(uint16_t key, size_t n)
    {
        select(key);
        std::string s;
        for (size_t i = 0; i < n; i++) s += static_cast<char>(bus_io_read(bus.get(), 0x511, 1));
        return s;
    }
    // Find a file's key by walking the directory like SeaBIOS does (-1: absent).
    int find_file(const char *name, uint32_t *size)
    {
        std::string cnt = read_bytes(FW_CFG_FILE_DIR, 4); // selects and reads the count
        uint32_t n = (uint8_t)cnt[0] << 24 | (uint8_t)cnt[1] << 16 | (uint8_t)cnt[2] << 8 | (uint8_t)cnt[3];
        for (uint32_t i = 0; i < n; i++) {
            uint8_t e[64];
            for (auto &b : e) b = (uint8_t)bus_io_read(bus.get(), 0x511, 1);
            if (!strcmp((const char *)e + 8, name)) {
                *size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
                return e[4] << 8 | e[5];
            }
        }
        return -1;
    }
    void put_be32(uint8_t *p, uint32_t v) { memcpy(p, &(v = bswap(v)), 4); }
    uint32_t get_be32(const uint8_t *p)
    {
        uint32_t v;
        memcpy(&v, p, 4);
        return bswap(v);
    }
    // Write a descriptor at `desc` and start the transfer; returns the control word
    // the device wrote back.
    uint32_t dma(uint32_t control, uint32_t length, uint64_t addr, uint32_t desc = DESC)
    {
        if (desc >= RAM_BASE && desc + 16 <= RAM_BASE + RAM_LEN) {
            put_be32(at(desc), control);
            put_be32(at(desc) + 4, length);
            put_be32(at(desc) + 8, (uint32_t)(addr >> 32));
            put_be32(at(desc) + 12, (uint32_t)addr);
        }
        bus_io_write(bus.get(), 0x514, bswap(0), 4);
        bus_io_write(bus.get(), 0x518, bswap(desc), 4);
        return desc >= RAM_BASE && desc + 16 <= RAM_BASE + RAM_LEN ? get_be32(at(desc)) : 0;
    }
};

TEST_F(FwCfgTest, SignatureAndId)
{
    EXPECT_EQ(read_bytes(FW_CFG_SIGNATURE, 4), "QEMU");
    EXPECT_EQ(read_bytes(FW_CFG_ID, 4), std::string("\x03\0\0\0", 4));
    // after reset the signature is selected
    select(FW_CFG_ID);
    fwcfg_reset(&f);
    EXPECT_EQ(bus_io_read(bus.get(), 0x511, 1), (uint32_t)'Q');
    // the DMA register reads as "QEMU CFG"
    EXPECT_EQ(bus_io_read(bus.get(), 0x514, 4), 0x554d4551u);
    EXPECT_EQ(bus_io_read(bus.get(), 0x518, 4), 0x47464320u);
    EXPECT_EQ(bus_io_read(bus.get(), 0x51b, 1), (uint32_t)'G');
}

TEST_F(FwCfgTest, NumericItemsAreLittleEndian)
{
    fwcfg_add_i64(&f, FW_CFG_RAM_SIZE, 128ull << 20);
    fwcfg_add_i16(&f, FW_CFG_NB_CPUS, 2);
    fwcfg_add_i32(&f, 0x8003, 0x11223344); // arch-local keys work too
    EXPECT_EQ(read_bytes(FW_CFG_RAM_SIZE, 8), std::string("\0\0\0\x08\0\0\0\0", 8));
    EXPECT_EQ(read_bytes(FW_CFG_NB_CPUS, 2), std::string("\x02\0", 2));
    EXPECT_EQ(read_bytes(0x8003, 4), "\x44\x33\x22\x11");
    fwcfg_add_i64(&f, FW_CFG_RAM_SIZE, 0x0102030405060708ull); // replaced, not added
    EXPECT_EQ(read_bytes(FW_CFG_RAM_SIZE, 9), std::string("\x08\x07\x06\x05\x04\x03\x02\x01\0", 9));
}

TEST_F(FwCfgTest, MissingItemsAndReadsPastTheEndGiveZeros)
{
    EXPECT_EQ(read_bytes(0x1234, 3), std::string(3, '\0'));
    EXPECT_EQ(read_bytes(FW_CFG_SIGNATURE, 6), std::string("QEMU\0\0", 6));
    // 16-bit and 32-bit reads of the data port are not part of the I/O interface
    select(FW_CFG_SIGNATURE);
    EXPECT_EQ(bus_io_read(bus.get(), 0x510, 2), 0u);
    EXPECT_EQ(bus_io_read(bus.get(), 0x511, 1), (uint32_t)'Q');
    // a byte write to the selector is not a selection
    bus_io_write(bus.get(), 0x510, FW_CFG_ID, 1);
    EXPECT_EQ(bus_io_read(bus.get(), 0x511, 1), (uint32_t)'E');
}

TEST_F(FwCfgTest, FileDirectorySortedByName)
{
    EXPECT_EQ(read_bytes(FW_CFG_FILE_DIR, 4), std::string(4, '\0')); // empty directory
    fwcfg_add_file(&f, "etc/e820", "0123456789abcdefghij", 20);
    fwcfg_add_file(&f, "bootorder", "/pci@i0cf8/ide@1,1/drive@0/disk@0\n", 34);
    fwcfg_add_file(&f, "etc/boot-fail-wait", "\x05\0\0\0", 4);
    select(FW_CFG_FILE_DIR);
    uint8_t d[4 + 3 * 64];
    for (auto &b : d) b = (uint8_t)bus_io_read(bus.get(), 0x511, 1);
    EXPECT_EQ(get_be32(d), 3u);
    const char *names[3] = {"bootorder", "etc/boot-fail-wait", "etc/e820"};
    const uint32_t sizes[3] = {34, 4, 20};
    const uint16_t keys[3] = {0x21, 0x22, 0x20}; // keys in order of addition
    for (int i = 0; i < 3; i++) {
        const uint8_t *e = d + 4 + 64 * i;
        EXPECT_EQ(get_be32(e), sizes[i]) << i;
        EXPECT_EQ(e[4] << 8 | e[5], keys[i]) << i;
        EXPECT_EQ(e[6] | e[7], 0) << i;
        EXPECT_STREQ((const char *)e + 8, names[i]);
        for (size_t j = 8 + strlen(names[i]); j < 64; j++) EXPECT_EQ(e[j], 0) << i;
    }
    EXPECT_EQ(bus_io_read(bus.get(), 0x511, 1), 0u); // past the directory's end
}

TEST_F(FwCfgTest, FileLookupAndRead)
{
    fwcfg_add_file(&f, "etc/e820", "0123456789abcdefghij", 20);
    fwcfg_add_file(&f, "etc/boot-fail-wait", "\x05\0\0\0", 4);
    uint32_t size = 0;
    EXPECT_EQ(find_file("nonexistent", &size), -1);
    int key = find_file("etc/e820", &size);
    ASSERT_EQ(key, 0x20);
    EXPECT_EQ(size, 20u);
    EXPECT_EQ(read_bytes((uint16_t)key, 24), std::string("0123456789abcdefghij\0\0\0\0", 24));
    // same name again: new contents, same key, new size in the directory
    fwcfg_add_file(&f, "etc/e820", "xyz", 3);
    EXPECT_EQ(find_file("etc/e820", &size), 0x20);
    EXPECT_EQ(size, 3u);
    EXPECT_EQ(read_bytes(0x20, 4), std::string("xyz\0", 4));
    EXPECT_EQ(find_file("etc/boot-fail-wait", &size), 0x21);
}

TEST_F(FwCfgTest, DmaReadIntoRam)
{
    fwcfg_add_file(&f, "etc/e820", "0123456789abcdefghij", 20);
    memset(at(BUF), 0xaa, 64);
    uint32_t ctl = dma(0x20u << 16 | 0x08 | 0x02, 20, BUF); // select 0x20 + read
    EXPECT_EQ(ctl, 0u);
    EXPECT_EQ(memcmp(at(BUF), "0123456789abcdefghij", 20), 0);
    EXPECT_EQ(at(BUF)[20], 0xaa);
    // the traditional port continues where DMA stopped: at the end
    EXPECT_EQ(bus_io_read(bus.get(), 0x511, 1), 0u);
    // reading more than the item holds: the rest is zero-filled
    memset(at(BUF), 0xaa, 64);
    EXPECT_EQ(dma(FW_CFG_SIGNATURE << 16 | 0x08 | 0x02, 8, BUF), 0u);
    EXPECT_EQ(memcmp(at(BUF), "QEMU\0\0\0\0\xaa", 9), 0);
}

TEST_F(FwCfgTest, DmaSelectSkipThenRead)
{
    fwcfg_add_file(&f, "etc/e820", "0123456789abcdefghij", 20);
    EXPECT_EQ(dma(0x20u << 16 | 0x08 | 0x04, 5, 0), 0u); // select + skip 5
    EXPECT_EQ(dma(0x02, 3, BUF), 0u);                     // read 3 (no select)
    EXPECT_EQ(memcmp(at(BUF), "567", 3), 0);
    EXPECT_EQ(bus_io_read(bus.get(), 0x511, 1), (uint32_t)'8'); // offsets are shared
    EXPECT_EQ(dma(0x04, 100, 0), 0u);                          // skip past the end
    EXPECT_EQ(dma(0x02, 2, BUF), 0u);
    EXPECT_EQ(memcmp(at(BUF), "\0\0", 2), 0);
}

TEST_F(FwCfgTest, DmaWriteIsAnError)
{
    fwcfg_add_file(&f, "etc/e820", "0123456789abcdefghij", 20);
    EXPECT_EQ(dma(0x20u << 16 | 0x08 | 0x10, 4, BUF), 1u);
    EXPECT_EQ(read_bytes(0x20, 4), "0123"); // unchanged
}

TEST_F(FwCfgTest, DmaOutsideRamDoesNotCrash)
{
    // destination entirely unmapped, and one straddling the end of RAM
    EXPECT_EQ(dma(FW_CFG_SIGNATURE << 16 | 0x08 | 0x02, 4, 0x800000), 0u);
    EXPECT_EQ(dma(FW_CFG_SIGNATURE << 16 | 0x08 | 0x02, 4, RAM_BASE + RAM_LEN - 2), 0u);
    EXPECT_EQ(memcmp(at(RAM_BASE + RAM_LEN - 2), "QE", 2), 0);
    // above 4 GiB
    EXPECT_EQ(dma(FW_CFG_SIGNATURE << 16 | 0x08 | 0x02, 4, 0x100000000ull), 0u);
    // a huge length over nothing
    EXPECT_EQ(dma(0x02, 0xfffffff0u, 0xf0000000u), 0u);
    // a descriptor in unmapped memory: nothing happens
    dma(FW_CFG_SIGNATURE << 16 | 0x08 | 0x02, 4, BUF, 0x900000);
    // the device still works
    EXPECT_EQ(dma(FW_CFG_ID << 16 | 0x08 | 0x02, 4, BUF), 0u);
    EXPECT_EQ(memcmp(at(BUF), "\x03\0\0\0", 4), 0);
}

TEST_F(FwCfgTest, StateDescribesSelection)
{
    ASSERT_NE(fwcfg_ops.state, nullptr);
    EXPECT_STREQ(fwcfg_ops.state->fields[0].name, "selector");
    EXPECT_EQ(fwcfg_ops.state->fields[1].offset, offsetof(FwCfg, offset));
}

struct DebugDevTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    std::string out;
    int status = -1;
    int exits = 0;
    static void sink(void *opaque, const uint8_t *buf, size_t len)
    {
        static_cast<DebugDevTest *>(opaque)->out.append((const char *)buf, len);
    }
    static void on_exit(void *opaque, int st)
    {
        auto *t = static_cast<DebugDevTest *>(opaque);
        t->status = st;
        t->exits++;
    }
    void SetUp() override { bus_init(bus.get()); }
};

TEST_F(DebugDevTest, DebugconWritesToSink)
{
    DebugCon dc;
    debugcon_init(&dc, bus.get(), 0x402, CharSink{sink, this});
    for (char c : std::string("SeaBIOS\n")) bus_io_write(bus.get(), 0x402, (uint8_t)c, 1);
    EXPECT_EQ(out, "SeaBIOS\n");
    EXPECT_EQ(bus_io_read(bus.get(), 0x402, 1), 0xe9u);
    bus_io_write(bus.get(), 0x402, 0x1a2b, 2); // low byte only: the next port is not ours
    EXPECT_EQ(out, "SeaBIOS\n\x2b");
    DebugCon e9;
    debugcon_init(&e9, bus.get(), 0xe9, CharSink{nullptr, nullptr}); // discarding sink
    bus_io_write(bus.get(), 0xe9, 'x', 1);
    EXPECT_EQ(out, "SeaBIOS\n\x2b");
}

TEST_F(DebugDevTest, DebugExitStatus)
{
    DebugExit de;
    debugexit_init(&de, bus.get(), 0xf4, 4, on_exit, this);
    EXPECT_FALSE(de.fired);
    bus_io_write(bus.get(), 0xf4, 0x10, 4);
    EXPECT_TRUE(de.fired);
    EXPECT_EQ(de.value, 0x10u);
    EXPECT_EQ(status, 0x21);
    bus_io_write(bus.get(), 0xf5, 0x00, 1);
    EXPECT_EQ(status, 1);
    EXPECT_EQ(exits, 2);
    EXPECT_EQ(bus_io_read(bus.get(), 0xf4, 1), 0u);
    debugexit_ops.reset(&de);
    EXPECT_FALSE(de.fired);
    ASSERT_NE(debugexit_ops.state, nullptr);
    EXPECT_STREQ(debugexit_ops.state->fields[0].name, "fired");
}

} // namespace
