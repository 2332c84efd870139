/*
 * test_floppyboot.cc — SeaBIOS boots a 1.44 MB floppy (roms/floppy-hello.asm) on the
 * whole machine: the boot sector prints on COM1, reads sectors through INT 13h (DMA,
 * IRQ 6, the FDC) and exits through isa-debug-exit. The output must be what
 * qemu-system-i386 -fda prints (checked live when QEMU is installed). Also the CMOS
 * drive bytes and the image-size check of the board.
 */
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "guest_util.h"

static const char *const kExpected =
    "FLOPPY BOOT OK\r\n"
    "k0 sector two: hello from the floppy\r\n"
    "k0 head one, sector one\r\n"
    "k0 cylinder five, sector eighteen\r\n"
    "floppy test done\r\n";

static void floppy_guest(GuestRun &g)
{
    g.cfg.debug_exit = true;
    g.cfg.debug_exit_iobase = 0xf4;
    g.cfg.debug_exit_iosize = 4;
    g.cfg.fda = strdup(rom_path("floppy-hello.img").c_str());
    snprintf(g.cfg.boot_order, sizeof g.cfg.boot_order, "a");
}

TEST(FloppyBoot, BootsAndReadsThroughInt13)
{
    GuestRun g;
    floppy_guest(g);
    ASSERT_TRUE(g.create()) << g.err;
    EXPECT_EQ(rtc_get_cmos(&g.m->rtc, 0x10), 0x40);
    EXPECT_EQ(rtc_get_cmos(&g.m->rtc, 0x14) & 0xc1, 0x01);
    ASSERT_TRUE(g.run(60)) << "serial so far:\n" << g.serial;
    EXPECT_EQ(g.m->exit.kind, MEXIT_DEBUG_EXIT);
    EXPECT_EQ(g.m->exit.status, 1);
    EXPECT_EQ(g.serial, kExpected);
    EXPECT_NE(g.debugcon.find("Booting from Floppy..."), std::string::npos) << g.debugcon;
}

TEST(FloppyBoot, TwoDrivesInCmosAndBadSizeRejected)
{
    {
        GuestRun g;
        floppy_guest(g);
        g.cfg.fdb = g.cfg.fda;
        ASSERT_TRUE(g.create()) << g.err;
        EXPECT_EQ(rtc_get_cmos(&g.m->rtc, 0x10), 0x44);
        EXPECT_EQ(rtc_get_cmos(&g.m->rtc, 0x14) & 0xc1, 0x41);
    }
    {
        GuestRun g;
        g.cfg.fda = strdup(rom_path("demo.img").c_str()); /* a hard-disk image */
        EXPECT_FALSE(g.create());
        EXPECT_NE(g.err.find("demo.img"), std::string::npos) << g.err;
        EXPECT_NE(g.err.find("floppy"), std::string::npos) << g.err;
    }
    {
        GuestRun g;
        ASSERT_TRUE(g.create()) << g.err;
        EXPECT_EQ(rtc_get_cmos(&g.m->rtc, 0x10), 0x00);
        EXPECT_EQ(rtc_get_cmos(&g.m->rtc, 0x14) & 0x01, 0x00);
    }
}

TEST(FloppyBoot, CommandLineFdaBoots)
{
    std::string out;
    int rc = run_cmd(dbt86_bin() + " -m 64 -display none -serial stdio -no-reboot -snapshot "
                     "-drive file=" + rom_path("floppy-hello.img") + ",if=floppy,index=0 "
                     "-boot a -device isa-debug-exit,iobase=0xf4,iosize=4 -timeout 60 "
                     "-debugcon none",
                     &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_EQ(out, kExpected);
}

TEST(FloppyBoot, QemuAgreesLive)
{
    if (run_cmd("command -v qemu-system-i386 >/dev/null") != 0)
        GTEST_SKIP() << "qemu-system-i386 is not installed";
    std::string out;
    run_cmd("timeout 60 qemu-system-i386 -m 64 -display none -serial stdio -no-reboot "
            "-snapshot -fda " + rom_path("floppy-hello.img") +
                " -boot a -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null",
            &out);
    EXPECT_EQ(out, kExpected);
}

TEST(FloppyBoot, CommandLineRejectsNonFloppyImage)
{
    std::string out;
    int rc = run_cmd(dbt86_bin() + " -display none -fda " + rom_path("demo.img") +
                         " -boot a -timeout 5",
                     &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("demo.img"), std::string::npos) << out;
    EXPECT_NE(out.find("not a floppy image size"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    rc = run_cmd(dbt86_bin() + " -display none -drive file=x.img,if=floppy,index=2", &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("index=2"), std::string::npos) << out;
}

/* The board collects devices from the bus: the DMA controller and the FDC must be in
 * its list (for reset and snapshots) without crowding out the others. */
TEST(FloppyBoot, DmaAndFdcAreBoardDevices)
{
    GuestRun g;
    floppy_guest(g);
    ASSERT_TRUE(g.create()) << g.err;
    bool dma = false, fdc = false, vga = false;
    for (unsigned i = 0; i < g.m->n_devices; i++) {
        dma |= g.m->devices[i].ops == &dma_ops && g.m->devices[i].dev == &g.m->dma;
        fdc |= g.m->devices[i].ops == &fdc_ops && g.m->devices[i].dev == &g.m->fdc;
        vga |= g.m->devices[i].ops == &vga_device_ops;
    }
    EXPECT_TRUE(dma);
    EXPECT_TRUE(fdc);
    EXPECT_TRUE(vga);
    EXPECT_LT(g.m->n_devices, (unsigned)MACHINE_MAX_DEVICES);
}
