/*
 * test_boot.cc — guest-level tests: SeaBIOS boots the project's own disks (roms/) on
 * the whole machine, and what they print on COM1 must equal what the same images
 * print under QEMU (the files in tests/data were recorded with qemu-system-i386; when
 * QEMU is installed the comparison is also made live).
 */
#include <gtest/gtest.h>

#include "guest_util.h"

extern "C" {
#include "translate/dbt.h"
}

TEST(Boot, DemoDiskReportMatchesQemu)
{
    GuestRun g;
    g.cfg.debug_exit = true;
    g.cfg.debug_exit_iobase = 0xf4;
    g.cfg.debug_exit_iosize = 4;
    g.disk(rom_path("demo.img"));
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60)) << "serial so far:\n" << g.serial;
    EXPECT_EQ(g.m->exit.kind, MEXIT_DEBUG_EXIT) << g.serial;
    EXPECT_EQ(g.m->exit.status, 1) << "failures reported by the guest\n" << g.serial;
    EXPECT_EQ(g.serial, read_file(data_path("demo-m64.expected")));
}

TEST(Boot, DemoDiskPowersOffThroughAcpi)
{
    GuestRun g;
    g.disk(rom_path("demo.img"));
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60)) << g.serial;
    EXPECT_EQ(g.m->exit.kind, MEXIT_POWEROFF) << g.serial;
    EXPECT_NE(g.serial.find("ALL CHECKS PASSED"), std::string::npos) << g.serial;
}

TEST(Boot, SeaBiosLogsBannerAndBootsHardDisk)
{
    GuestRun g;
    g.disk(rom_path("demo.img"));
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60));
    EXPECT_NE(g.debugcon.find("SeaBIOS (version"), std::string::npos) << g.debugcon;
    EXPECT_NE(g.debugcon.find("Booting from Hard Disk..."), std::string::npos) << g.debugcon;
}

TEST(Boot, DemoTextScreenShowsReport)
{
    GuestRun g;
    g.disk(rom_path("demo.img"));
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60));
    std::string text(8192, '\0');
    int n = vga_text_dump(&g.m->vga, text.data(), text.size());
    ASSERT_GT(n, 0);
    text.resize(n);
    EXPECT_NE(text.find("ALL CHECKS PASSED"), std::string::npos) << text;
    EXPECT_NE(text.find("written from 32-bit protected mode"), std::string::npos) << text;
    EXPECT_NE(text.find("Booting from Hard Disk..."), std::string::npos) << text;
}

TEST(Boot, ExceptionsAndTripleFault)
{
    GuestRun g;
    g.cfg.no_reboot = true;
    g.disk(rom_path("exceptions.img"));
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60)) << g.serial;
    EXPECT_EQ(g.m->exit.kind, MEXIT_RESET) << g.serial;
    EXPECT_EQ(g.serial, read_file(data_path("exceptions.expected")));
}

TEST(Boot, TripleFaultWithoutNoRebootResets)
{
    GuestRun g;
    g.disk(rom_path("exceptions.img"));
    ASSERT_TRUE(g.create()) << g.err;
    /* the guest triple-faults, the board resets, SeaBIOS boots the disk again */
    const std::string again = "now a triple fault\nexceptions: start";
    for (int i = 0; i < 2000 && g.serial.find(again) == std::string::npos; i++)
        ASSERT_FALSE(machine_run_for(g.m, 10000000)) << g.serial;
    EXPECT_GE(g.m->resets, 1u);
    EXPECT_NE(g.serial.find(again), std::string::npos) << g.serial;
}

/* The recorded expectations came from QEMU; when QEMU is here, check them live. */
TEST(Boot, QemuAgreesLive)
{
    if (run_cmd("command -v qemu-system-i386 >/dev/null") != 0)
        GTEST_SKIP() << "qemu-system-i386 is not installed";
    std::string out;
    run_cmd("timeout 60 qemu-system-i386 -m 64 -display none -serial stdio -no-reboot "
            "-snapshot -drive file=" + rom_path("demo.img") +
                ",format=raw,if=ide -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null",
            &out);
    EXPECT_EQ(out, read_file(data_path("demo-m64.expected")));
    run_cmd("timeout 60 qemu-system-i386 -display none -serial stdio -no-reboot -snapshot "
            "-drive file=" + rom_path("exceptions.img") + ",format=raw,if=ide 2>/dev/null",
            &out);
    EXPECT_EQ(out, read_file(data_path("exceptions.expected")));
}

/* The lockstep checker over whole boots (the translator's acceptance test): SeaBIOS,
 * the VGA BIOS and each of the project's boot disks, with every translated block
 * re-run by the interpreter and compared. The output must also be the interpreter's. */
static void lockstep_boot(const char *image, const char *expected, bool no_reboot,
                          bool floppy = false)
{
    GuestRun g;
    g.cfg.dbt_check = true;
    g.cfg.no_reboot = no_reboot;
    std::string path = rom_path(image);
    if (floppy) {
        g.cfg.fda = path.c_str();
        g.cfg.debug_exit = true;
        g.cfg.debug_exit_iobase = 0xf4;
        g.cfg.debug_exit_iosize = 4;
        snprintf(g.cfg.boot_order, sizeof g.cfg.boot_order, "a");
    } else {
        g.disk(path);
    }
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60)) << g.serial;
    EXPECT_NE(g.m->exit.kind, MEXIT_CHECK) << "lockstep difference, see the log";
    ASSERT_NE(g.m->dbt, nullptr);
    const DbtStats *s = dbt_stats(g.m->dbt);
    EXPECT_GT(s->checked_blocks, 1000u);
    if (expected) {
        EXPECT_EQ(g.serial, read_file(data_path(expected)));
    }
}

TEST(Boot, LockstepDemoDisk) { lockstep_boot("demo.img", nullptr, false); }
TEST(Boot, LockstepExceptionsDisk) { lockstep_boot("exceptions.img", "exceptions.expected", true); }
TEST(Boot, LockstepFloppy) { lockstep_boot("floppy-hello.img", nullptr, false, true); }

/* The interpreter, for comparison, gives the same demo output. */
TEST(Boot, InterpreterAndTranslatorAgree)
{
    std::string out[2];
    uint64_t icount[2];
    for (int a = 0; a < 2; a++) {
        GuestRun g;
        g.cfg.accel = a ? ACCEL_INTERP : ACCEL_DBT;
        g.cfg.rtc_start = 1700000000;
        g.disk(rom_path("demo.img"));
        ASSERT_TRUE(g.create()) << g.err;
        ASSERT_TRUE(g.run(60)) << g.serial;
        out[a] = g.serial;
        icount[a] = g.m->cpu.icount;
    }
    EXPECT_EQ(out[0], out[1]);
    EXPECT_EQ(icount[0], icount[1]);
}
