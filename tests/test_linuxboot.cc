/*
 * test_linuxboot.cc — direct Linux boot (-kernel/-initrd/-append): the bzImage header
 * checks on synthetic images, what linuxboot_setup() puts into fw_cfg, and whole-machine
 * boots of the fake bzImage from roms/linuxboot-fake.asm, whose setup code reports
 * what it was given on COM1 — compared with what the same file prints under QEMU.
 */
#include <gtest/gtest.h>

#include <unistd.h>

#include <vector>

#include "guest_util.h"

extern "C" {
#include "bios/linuxboot.h"
}

namespace {

/* A bzImage-shaped buffer: header fields as boot.rst places them. */
std::vector<uint8_t> make_image(uint16_t protocol, uint8_t setup_sects, uint32_t size,
                                uint8_t loadflags = 0x01)
{
    std::vector<uint8_t> v(size, 0);
    auto put32 = [&](size_t off, uint32_t x) {
        for (int i = 0; i < 4; i++)
            if (off + i < v.size()) v[off + i] = (uint8_t)(x >> (8 * i));
    };
    if (size > 0x1f1) v[0x1f1] = setup_sects;
    if (size >= 0x206) memcpy(&v[0x202], "HdrS", 4);
    if (size >= 0x208) {
        v[0x206] = (uint8_t)protocol;
        v[0x207] = (uint8_t)(protocol >> 8);
    }
    if (size > 0x211) v[0x211] = loadflags;
    put32(0x22c, 0x7fffffff); /* initrd_addr_max */
    put32(0x238, 2047);       /* cmdline_size */
    return v;
}

int parse(const std::vector<uint8_t> &v, LinuxBootInfo *info, std::string *err)
{
    char e[256] = "";
    int r = linuxboot_parse(v.data(), (uint32_t)v.size(), "vmlinuz", info, e, sizeof e);
    *err = e;
    return r;
}

std::string temp_file(const std::string &contents)
{
    char name[] = "/tmp/dbt86-linuxboot-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, contents.data(), contents.size()), (ssize_t)contents.size());
    close(fd);
    return name;
}

const FwCfgItem *item(const FwCfg &f, uint16_t key)
{
    for (unsigned i = 0; i < f.n_items; i++)
        if (f.items[i].key == key) return &f.items[i];
    return nullptr;
}

const FwCfgItem *file_item(const FwCfg &f, const char *name)
{
    for (unsigned i = 0; i < f.n_items; i++)
        if (!strcmp(f.items[i].name, name)) return &f.items[i];
    return nullptr;
}

uint32_t item32(const FwCfg &f, uint16_t key)
{
    const FwCfgItem *it = item(f, key);
    if (!it || it->len < 4) return 0xdeadbeef;
    return it->data[0] | it->data[1] << 8 | it->data[2] << 16 | (uint32_t)it->data[3] << 24;
}

uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* What the fake kernel prints when booted with kInitrd and kAppend under 64 MiB. */
const char kInitrd[] = "INITRD-CONTENT-0123456789";
const char kAppend[] = "console=ttyS0 root=/dev/ram0 hello=world";
const char kExpected[] =
    "\r\nLINUXBOOT cs=1020 ds=1000\r\n"
    "loader=B0 loadflags=81 heap_end=FE00 cmd_line_ptr=00020000\r\n"
    "cmdline=[console=ttyS0 root=/dev/ram0 hello=world]\r\n"
    "initrd size=00000019 placed=1 data=[INITRD-CONTENT-0]\r\n"
    "kernel=[FAKE-KERNEL@1MiB]\r\n"
    "END\r\n";

/* The fake kernel's report: from its first line to END. */
std::string report(const std::string &serial)
{
    size_t a = serial.find("\r\nLINUXBOOT");
    size_t b = serial.find("END\r\n");
    if (a == std::string::npos || b == std::string::npos || b < a) return serial;
    return serial.substr(a, b + 5 - a);
}

} // namespace

/* ---- the header checks ---- */

TEST(LinuxBootParse, GoodImage)
{
    auto v = make_image(0x020f, 3, 0x2000);
    LinuxBootInfo info;
    std::string err;
    ASSERT_EQ(parse(v, &info, &err), 0) << err;
    EXPECT_EQ(info.protocol, 0x020f);
    EXPECT_EQ(info.setup_sects, 3);
    EXPECT_EQ(info.setup_size, 4u * 512);
    EXPECT_EQ(info.kernel_size, 0x2000u - 4 * 512);
    EXPECT_EQ(info.initrd_addr_max, 0x7fffffffu);
    EXPECT_EQ(info.cmdline_max, 2047u);
}

TEST(LinuxBootParse, SetupSectsZeroMeansFour)
{
    auto v = make_image(0x0204, 0, 0x1000);
    LinuxBootInfo info;
    std::string err;
    ASSERT_EQ(parse(v, &info, &err), 0) << err;
    EXPECT_EQ(info.setup_sects, 4);
    EXPECT_EQ(info.setup_size, 5u * 512);
    EXPECT_EQ(info.kernel_size, 0x1000u - 5 * 512);
    EXPECT_EQ(info.cmdline_max, 255u); /* cmdline_size only from 2.06 */
}

TEST(LinuxBootParse, Protocol202UsesDefaultInitrdLimit)
{
    auto v = make_image(0x0202, 1, 0x800);
    LinuxBootInfo info;
    std::string err;
    ASSERT_EQ(parse(v, &info, &err), 0) << err;
    EXPECT_EQ(info.initrd_addr_max, 0x37ffffffu);
}

TEST(LinuxBootParse, ProtocolTooOld)
{
    auto v = make_image(0x0201, 1, 0x800);
    LinuxBootInfo info;
    std::string err;
    EXPECT_EQ(parse(v, &info, &err), -1);
    EXPECT_NE(err.find("vmlinuz"), std::string::npos) << err;
    EXPECT_NE(err.find("2.01"), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos);
}

TEST(LinuxBootParse, NotABzImage)
{
    auto v = make_image(0x020f, 1, 0x800);
    v[0x202] = 'X';
    LinuxBootInfo info;
    std::string err;
    EXPECT_EQ(parse(v, &info, &err), -1);
    EXPECT_NE(err.find("vmlinuz: not a Linux bzImage"), std::string::npos) << err;
    /* a zImage (not LOADED_HIGH) is refused too */
    v = make_image(0x020f, 1, 0x800, 0x00);
    EXPECT_EQ(parse(v, &info, &err), -1);
    EXPECT_NE(err.find("zImage"), std::string::npos) << err;
}

TEST(LinuxBootParse, Truncated)
{
    LinuxBootInfo info;
    std::string err;
    /* shorter than the header */
    EXPECT_EQ(parse(make_image(0x020f, 1, 0x100), &info, &err), -1);
    EXPECT_NE(err.find("vmlinuz"), std::string::npos) << err;
    EXPECT_EQ(parse(make_image(0x020f, 1, 0x230), &info, &err), -1);
    EXPECT_NE(err.find("truncated"), std::string::npos) << err;
    /* setup code ends where the file ends: no kernel */
    EXPECT_EQ(parse(make_image(0x020f, 3, 4 * 512), &info, &err), -1);
    EXPECT_NE(err.find("truncated"), std::string::npos) << err;
    /* setup code cut short */
    EXPECT_EQ(parse(make_image(0x020f, 8, 5 * 512), &info, &err), -1);
    EXPECT_NE(err.find("truncated"), std::string::npos) << err;
}

/* ---- what goes into fw_cfg ---- */

struct LinuxBootSetup : ::testing::Test {
    FwCfg f;
    std::vector<std::string> files;
    char err[512] = "";
    void SetUp() override { fwcfg_init(&f, nullptr, nullptr); }
    void TearDown() override
    {
        fwcfg_destroy(&f);
        for (auto &n : files) unlink(n.c_str());
    }
    std::string file(const std::vector<uint8_t> &v)
    {
        files.push_back(temp_file(std::string(v.begin(), v.end())));
        return files.back();
    }
    std::string file(const std::string &s)
    {
        files.push_back(temp_file(s));
        return files.back();
    }
};

TEST_F(LinuxBootSetup, FillsFwCfgAndPatchesHeader)
{
    auto img = make_image(0x020f, 2, 3 * 512 + 1000);
    for (size_t i = 3 * 512; i < img.size(); i++) img[i] = (uint8_t)(i * 7);
    std::string k = file(img), rd = file(std::string(5000, 'R'));
    const uint32_t ram = 64u << 20;
    ASSERT_EQ(linuxboot_setup(&f, ram, k.c_str(), rd.c_str(), "root=/dev/sda", err, sizeof err), 0)
        << err;
    EXPECT_EQ(item32(f, LB_FW_CFG_SETUP_ADDR), 0x10000u);
    EXPECT_EQ(item32(f, LB_FW_CFG_SETUP_SIZE), 3u * 512);
    EXPECT_EQ(item32(f, FW_CFG_KERNEL_ADDR), 0x100000u);
    EXPECT_EQ(item32(f, FW_CFG_KERNEL_SIZE), 1000u);
    EXPECT_EQ(item32(f, LB_FW_CFG_CMDLINE_ADDR), 0x20000u);
    EXPECT_EQ(item32(f, LB_FW_CFG_CMDLINE_SIZE), 14u);
    const FwCfgItem *cmd = item(f, LB_FW_CFG_CMDLINE_DATA);
    ASSERT_TRUE(cmd);
    EXPECT_EQ(std::string((const char *)cmd->data, cmd->len), std::string("root=/dev/sda", 14));
    /* the initrd: page-aligned, as high as possible below RAM - 256 KiB */
    uint32_t rd_addr = item32(f, FW_CFG_INITRD_ADDR);
    EXPECT_EQ(rd_addr, (ram - 0x40000 - 5000) & ~0xfffu);
    EXPECT_EQ(item32(f, FW_CFG_INITRD_SIZE), 5000u);
    ASSERT_TRUE(item(f, LB_FW_CFG_INITRD_DATA));
    EXPECT_EQ(item(f, LB_FW_CFG_INITRD_DATA)->len, 5000u);
    EXPECT_EQ(item(f, LB_FW_CFG_INITRD_DATA)->data[4999], 'R');

    const FwCfgItem *setup = item(f, LB_FW_CFG_SETUP_DATA);
    ASSERT_TRUE(setup);
    ASSERT_EQ(setup->len, 3u * 512);
    const uint8_t *h = setup->data;
    EXPECT_EQ(h[0x210], 0xb0);                  /* type_of_loader */
    EXPECT_EQ(h[0x211], 0x81);                  /* LOADED_HIGH | CAN_USE_HEAP */
    EXPECT_EQ(h[0x224] | h[0x225] << 8, 0xfe00); /* heap_end_ptr */
    EXPECT_EQ(get32(h + 0x228), 0x20000u);      /* cmd_line_ptr */
    EXPECT_EQ(get32(h + 0x218), rd_addr);       /* ramdisk_image */
    EXPECT_EQ(get32(h + 0x21c), 5000u);         /* ramdisk_size */
    const FwCfgItem *kern = item(f, LB_FW_CFG_KERNEL_DATA);
    ASSERT_TRUE(kern);
    ASSERT_EQ(kern->len, 1000u);
    EXPECT_EQ(memcmp(kern->data, img.data() + 3 * 512, 1000), 0);

    /* the option ROM: signature, size, checksum 0 */
    const FwCfgItem *rom = file_item(f, "genroms/linuxboot.bin");
    ASSERT_TRUE(rom);
    ASSERT_EQ(rom->len, 512u);
    EXPECT_EQ(rom->data[0], 0x55);
    EXPECT_EQ(rom->data[1], 0xaa);
    EXPECT_EQ(rom->data[2], 1);
    uint8_t sum = 0;
    for (uint32_t i = 0; i < rom->len; i++) sum = (uint8_t)(sum + rom->data[i]);
    EXPECT_EQ(sum, 0);
    const FwCfgItem *order = file_item(f, "bootorder");
    ASSERT_TRUE(order);
    EXPECT_EQ(std::string((const char *)order->data, order->len),
              std::string("/rom@genroms/linuxboot.bin\n", 28));
}

/* vga= on the command line goes into the header's vid_mode, as a boot loader must */
TEST_F(LinuxBootSetup, VgaOptionSetsVidMode)
{
    struct Case { const char *append; int want; } cases[] = {
        {"quiet vga=0x317", 0x317}, {"vga=791 console=tty0", 791}, {"vga=ask", 0xfffd},
        {"vga=ext", 0xfffe}, {"vga=normal x", 0xffff}, {"novga=0x317", -1},
        {"vga=bogus", -1}, {"vga=0x1ffff", -1}, {"vga=0x301 vga=0x317", 0x317},
    };
    for (const Case &c : cases) {
        FwCfg g;
        fwcfg_init(&g, nullptr, nullptr);
        auto img = make_image(0x020f, 1, 2048);
        img[0x1fa] = 0x34;
        img[0x1fb] = 0x12;
        std::string k = file(img);
        ASSERT_EQ(linuxboot_setup(&g, 64u << 20, k.c_str(), nullptr, c.append, err, sizeof err), 0)
            << err;
        const FwCfgItem *setup = item(g, LB_FW_CFG_SETUP_DATA);
        ASSERT_TRUE(setup);
        int got = setup->data[0x1fa] | setup->data[0x1fb] << 8;
        EXPECT_EQ(got, c.want < 0 ? 0x1234 : c.want) << c.append;
        fwcfg_destroy(&g);
    }
}

TEST_F(LinuxBootSetup, NoInitrdNoAppend)
{
    std::string k = file(make_image(0x0206, 1, 2048));
    ASSERT_EQ(linuxboot_setup(&f, 16u << 20, k.c_str(), nullptr, nullptr, err, sizeof err), 0)
        << err;
    EXPECT_EQ(item32(f, FW_CFG_INITRD_SIZE), 0u);
    EXPECT_EQ(item32(f, FW_CFG_INITRD_ADDR), 0u);
    EXPECT_EQ(item32(f, LB_FW_CFG_CMDLINE_SIZE), 1u);
    EXPECT_EQ(get32(item(f, LB_FW_CFG_SETUP_DATA)->data + 0x218), 0u);
}

TEST_F(LinuxBootSetup, KeepsExistingBootOrderAfterTheRom)
{
    fwcfg_add_file(&f, "bootorder", "/pci@i0cf8/ide@1,1/drive@0/disk@0\n", 35);
    std::string k = file(make_image(0x0206, 1, 2048));
    ASSERT_EQ(linuxboot_setup(&f, 16u << 20, k.c_str(), nullptr, nullptr, err, sizeof err), 0);
    const FwCfgItem *order = file_item(f, "bootorder");
    ASSERT_TRUE(order);
    EXPECT_STREQ((const char *)order->data,
                 "/rom@genroms/linuxboot.bin\n/pci@i0cf8/ide@1,1/drive@0/disk@0\n");
}

TEST_F(LinuxBootSetup, NothingWithoutKernel)
{
    unsigned n = f.n_items;
    EXPECT_EQ(linuxboot_setup(&f, 16u << 20, nullptr, nullptr, nullptr, err, sizeof err), 0);
    EXPECT_EQ(f.n_items, n);
}

TEST_F(LinuxBootSetup, Errors)
{
    std::string k = file(make_image(0x0206, 1, 2048));
    EXPECT_EQ(linuxboot_setup(&f, 16u << 20, nullptr, "rd.img", nullptr, err, sizeof err), -1);
    EXPECT_STREQ(err, "-initrd rd.img: needs -kernel");
    EXPECT_EQ(linuxboot_setup(&f, 16u << 20, nullptr, nullptr, "quiet", err, sizeof err), -1);
    EXPECT_STREQ(err, "-append \"quiet\": needs -kernel");
    EXPECT_EQ(linuxboot_setup(&f, 16u << 20, "/nonexistent/bzImage", nullptr, nullptr, err,
                              sizeof err), -1);
    EXPECT_NE(std::string(err).find("/nonexistent/bzImage"), std::string::npos) << err;
    EXPECT_EQ(linuxboot_setup(&f, 16u << 20, k.c_str(), "/nonexistent/rd", nullptr, err,
                              sizeof err), -1);
    EXPECT_NE(std::string(err).find("/nonexistent/rd"), std::string::npos) << err;
    std::string old = file(make_image(0x0200, 1, 2048));
    EXPECT_EQ(linuxboot_setup(&f, 16u << 20, old.c_str(), nullptr, nullptr, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find(old + ": Linux boot protocol 2.00 is too old"),
              std::string::npos) << err;
    /* an initrd that cannot fit between the kernel and the top of 4 MiB of RAM */
    std::string big = file(std::string(3u << 20, 'x'));
    EXPECT_EQ(linuxboot_setup(&f, 4u << 20, k.c_str(), big.c_str(), nullptr, err, sizeof err),
              -1);
    EXPECT_NE(std::string(err).find(big + ": initrd of 3145728 bytes does not fit"),
              std::string::npos) << err;
    /* a command line longer than the header's cmdline_size (255 here... 2.06: 2047) */
    std::string longcmd(3000, 'a');
    auto img = make_image(0x0206, 1, 2048);
    std::string k2 = file(img);
    EXPECT_EQ(linuxboot_setup(&f, 16u << 20, k2.c_str(), nullptr, longcmd.c_str(), err,
                              sizeof err), -1);
    EXPECT_NE(std::string(err).find("command line of 3000 bytes"), std::string::npos) << err;
    EXPECT_EQ(std::string(err).find('\n'), std::string::npos);
}

/* The ROM embedded in the binary is the one roms/linuxboot.asm assembles to. */
TEST(LinuxBoot, EmbeddedRomMatchesSource)
{
    std::string built = read_file(rom_path("linuxboot.img"));
    ASSERT_EQ(built.size(), 512u) << "build/roms/linuxboot.img missing?";
    uint32_t size;
    const uint8_t *rom = linuxboot_rom(&size);
    ASSERT_EQ(size, 512u);
    EXPECT_EQ(memcmp(built.data(), rom, size), 0)
        << "regenerate bios/linuxboot_rom.h (command at its top)";
}

/* ---- whole machine: SeaBIOS runs the ROM, the ROM runs the fake kernel ---- */

TEST(LinuxBoot, BootsFakeKernelThroughSeaBios)
{
    std::string rd = temp_file(kInitrd);
    GuestRun g;
    g.cfg.debug_exit = true;
    g.cfg.debug_exit_iobase = 0xf4;
    g.cfg.debug_exit_iosize = 4;
    std::string k = rom_path("linuxboot-fake.img");
    g.cfg.kernel = k.c_str();
    g.cfg.initrd = rd.c_str();
    g.cfg.append = kAppend;
    ASSERT_TRUE(g.create()) << g.err;
    bool stopped = g.run(30);
    unlink(rd.c_str());
    ASSERT_TRUE(stopped) << "serial so far:\n" << g.serial;
    EXPECT_EQ(g.m->exit.kind, MEXIT_DEBUG_EXIT);
    EXPECT_EQ(g.m->exit.status, (0x10 << 1) | 1);
    EXPECT_EQ(report(g.serial), kExpected);
    EXPECT_NE(g.debugcon.find("Booting from ROM"), std::string::npos) << g.debugcon;
}

TEST(LinuxBoot, MachineCreateReportsBadKernel)
{
    GuestRun g;
    g.cfg.kernel = "/nonexistent/vmlinuz";
    EXPECT_FALSE(g.create());
    EXPECT_NE(g.err.find("/nonexistent/vmlinuz"), std::string::npos) << g.err;
    GuestRun g2;
    g2.cfg.append = "quiet";
    EXPECT_FALSE(g2.create());
    EXPECT_EQ(g2.err, "-append \"quiet\": needs -kernel");
}

TEST(LinuxBoot, CommandLine)
{
    std::string rd = temp_file(kInitrd);
    std::string out;
    int rc = run_cmd(dbt86_bin() + " -m 64 -display none -serial stdio -no-reboot "
                     "-device isa-debug-exit,iobase=0xf4,iosize=4 -timeout 60 -kernel " +
                         rom_path("linuxboot-fake.img") + " -initrd " + rd + " -append '" +
                         kAppend + "' 2>/dev/null",
                     &out);
    EXPECT_EQ(rc, 33) << out;
    EXPECT_EQ(report(out), kExpected);
    rc = run_cmd(dbt86_bin() + " -initrd " + rd, &out);
    unlink(rd.c_str());
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("-initrd " + rd + ": needs -kernel"), std::string::npos) << out;
}

TEST(LinuxBoot, QemuAgreesLive)
{
    if (run_cmd("command -v qemu-system-i386 >/dev/null") != 0)
        GTEST_SKIP() << "qemu-system-i386 is not installed";
    std::string rd = temp_file(kInitrd);
    std::string out;
    int rc = run_cmd("timeout 60 qemu-system-i386 -m 64 -display none -serial stdio "
                     "-monitor none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 "
                     "-kernel " + rom_path("linuxboot-fake.img") + " -initrd " + rd +
                         " -append '" + kAppend + "' 2>/dev/null",
                     &out);
    unlink(rd.c_str());
    EXPECT_EQ(rc, 33) << out;
    EXPECT_EQ(report(out), kExpected);
}

/* ---- Multiboot (a.out kludge) through the same ROM ---- */

namespace {

const char kModule[] = "MODULE-CONTENT-ABCDEFGHIJ";

/* The fake multiboot kernel's report, with the mem_upper value cut out (it is what
 * the BIOS reports, which depends on what the firmware reserved on each board). */
std::string mb_report(const std::string &serial, std::string *mem_upper)
{
    size_t a = serial.find("\r\nMULTIBOOT");
    size_t b = serial.find("END\r\n");
    if (a == std::string::npos || b == std::string::npos || b < a) return serial;
    std::string r = serial.substr(a, b + 5 - a);
    size_t u = r.find("mem_upper=");
    if (u != std::string::npos && u + 18 <= r.size()) {
        *mem_upper = r.substr(u + 10, 8);
        r.replace(u + 10, 8, "XXXXXXXX");
    }
    return r;
}

std::string mb_expected(const std::string &kernel, const std::string &module)
{
    return "\r\nMULTIBOOT eax=2BADB002 flags&0D=0000000D\r\n"
           "mem_lower=0000027F mem_upper=XXXXXXXX\r\n"
           "cmdline=[" + kernel + " hello multiboot]\r\n"
           "mods=00000001 size=00000019 data=[MODULE-CONTENT-A] string=[" + module + "]\r\n"
           "bss zeroed=1\r\n"
           "END\r\n";
}

} // namespace

TEST(MultiBoot, FindsHeader)
{
    std::vector<uint8_t> v(0x3000, 0);
    uint32_t off = 0;
    EXPECT_EQ(linuxboot_multiboot_find(v.data(), (uint32_t)v.size(), &off), -1);
    auto put32 = [&](size_t o, uint32_t x) { memcpy(&v[o], &x, 4); };
    put32(0x40, 0x1badb002);
    put32(0x44, 0x00010000);
    put32(0x48, 0u - 0x1badb002u - 0x00010000u);
    ASSERT_EQ(linuxboot_multiboot_find(v.data(), (uint32_t)v.size(), &off), 0);
    EXPECT_EQ(off, 0x40u);
    put32(0x48, 0); /* bad checksum */
    EXPECT_EQ(linuxboot_multiboot_find(v.data(), (uint32_t)v.size(), &off), -1);
    put32(0x2040, 0x1badb002); /* beyond the first 8 KiB */
    put32(0x2044, 0);
    put32(0x2048, 0u - 0x1badb002u);
    EXPECT_EQ(linuxboot_multiboot_find(v.data(), (uint32_t)v.size(), &off), -1);
}

TEST_F(LinuxBootSetup, MultibootLayout)
{
    std::string k = rom_path("multiboot-fake.img");
    std::string m = file(std::string(kModule));
    ASSERT_EQ(linuxboot_setup(&f, 64u << 20, k.c_str(), m.c_str(), "a=b", err, sizeof err), 0)
        << err;
    std::string img = read_file(k);
    EXPECT_EQ(item32(f, LB_FW_CFG_SETUP_SIZE), 0u); /* tells the ROM: multiboot */
    EXPECT_EQ(item32(f, FW_CFG_KERNEL_ADDR), 0x100000u);
    uint32_t bss_end = get32((const uint8_t *)img.data() + 24);
    EXPECT_EQ(item32(f, FW_CFG_KERNEL_SIZE), bss_end - 0x100000u);
    EXPECT_EQ(item32(f, LB_FW_CFG_KERNEL_ENTRY), get32((const uint8_t *)img.data() + 28));
    uint32_t info = item32(f, LB_FW_CFG_CMDLINE_ADDR);
    EXPECT_EQ(info, (bss_end + 0xfff) & ~0xfffu);
    const FwCfgItem *mbi = item(f, LB_FW_CFG_CMDLINE_DATA);
    ASSERT_TRUE(mbi);
    ASSERT_GE(mbi->len, 88u + 16u);
    EXPECT_EQ(get32(mbi->data), 0x0du);                /* mem, cmdline, mods */
    EXPECT_EQ(get32(mbi->data + 20), 1u);              /* mods_count */
    EXPECT_EQ(get32(mbi->data + 24), info + 88);       /* mods_addr */
    uint32_t cmd = get32(mbi->data + 16);
    EXPECT_STREQ((const char *)mbi->data + (cmd - info), (k + " a=b").c_str());
    const uint8_t *mod = mbi->data + 88;
    uint32_t rd = item32(f, FW_CFG_INITRD_ADDR);
    EXPECT_EQ(rd & 0xfff, 0u);
    EXPECT_GE(rd, info + mbi->len);
    EXPECT_EQ(get32(mod), rd);
    EXPECT_EQ(get32(mod + 4), rd + 25);
    EXPECT_STREQ((const char *)mbi->data + (get32(mod + 8) - info), m.c_str());
    EXPECT_TRUE(file_item(f, "genroms/linuxboot.bin"));
}

TEST_F(LinuxBootSetup, MultibootWithoutAddressesIsRefused)
{
    std::vector<uint8_t> v(0x1000, 0);
    uint32_t hdr[3] = {0x1badb002, 0x3, 0u - 0x1badb002u - 3u};
    memcpy(&v[0x80], hdr, sizeof hdr);
    std::string k = file(v);
    EXPECT_EQ(linuxboot_setup(&f, 64u << 20, k.c_str(), nullptr, nullptr, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find(k + ": a Multiboot kernel without load addresses"),
              std::string::npos) << err;
}

TEST(MultiBoot, BootsFakeKernelThroughSeaBios)
{
    std::string rd = temp_file(kModule);
    GuestRun g;
    g.cfg.debug_exit = true;
    g.cfg.debug_exit_iobase = 0xf4;
    g.cfg.debug_exit_iosize = 4;
    std::string k = rom_path("multiboot-fake.img");
    g.cfg.kernel = k.c_str();
    g.cfg.initrd = rd.c_str();
    g.cfg.append = "hello multiboot";
    ASSERT_TRUE(g.create()) << g.err;
    bool stopped = g.run(30);
    unlink(rd.c_str());
    ASSERT_TRUE(stopped) << "serial so far:\n" << g.serial;
    EXPECT_EQ(g.m->exit.kind, MEXIT_DEBUG_EXIT);
    EXPECT_EQ(g.m->exit.status, (0x11 << 1) | 1);
    std::string upper;
    EXPECT_EQ(mb_report(g.serial, &upper), mb_expected(k, rd));
    /* from INT 15h E801: 64 MiB less 1 MiB, less what SeaBIOS reserved at the top
     * (the host's own guess, 0xFC00, must have been replaced) */
    unsigned long kb = strtoul(upper.c_str(), nullptr, 16);
    EXPECT_LT(kb, 0xfc00ul) << upper;
    EXPECT_GE(kb, 0xfb00ul) << upper;
}

TEST(MultiBoot, QemuAgreesLive)
{
    if (run_cmd("command -v qemu-system-i386 >/dev/null") != 0)
        GTEST_SKIP() << "qemu-system-i386 is not installed";
    std::string rd = temp_file(kModule);
    std::string k = rom_path("multiboot-fake.img");
    std::string out, upper;
    int rc = run_cmd("timeout 60 qemu-system-i386 -m 64 -display none -serial stdio "
                     "-monitor none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 "
                     "-kernel " + k + " -initrd " + rd + " -append 'hello multiboot' "
                     "2>/dev/null",
                     &out);
    unlink(rd.c_str());
    EXPECT_EQ(rc, 35) << out;
    EXPECT_EQ(mb_report(out, &upper), mb_expected(k, rd));
}
