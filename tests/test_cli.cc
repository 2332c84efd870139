/*
 * test_cli.cc — the dbt86 program as a user runs it: every bad option, file or value
 * ends with exactly one line on stderr naming it and exit code 1; runs end with the
 * documented exit codes; guests that execute garbage never crash the emulator.
 */
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <random>
#include <regex>
#include <vector>

#include <zlib.h>

#include "guest_util.h"
#include "png_util.h"

static std::string tmpfile_with(const std::string &content)
{
    char name[] = "/tmp/dbt86-test-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    if (fd >= 0) {
        EXPECT_EQ(write(fd, content.data(), content.size()), (ssize_t)content.size());
        close(fd);
    }
    return name;
}

/* A 64 KiB BIOS image whose reset vector (offset 0xFFF0) holds `code`. */
static std::string tiny_bios(const std::string &code)
{
    std::string img(65536, '\0');
    img.replace(0xfff0, code.size(), code);
    return tmpfile_with(img);
}

static void expect_one_line_error(const std::string &args, const std::string &needle)
{
    std::string out;
    int rc = run_cmd(dbt86_bin() + " " + args, &out);
    EXPECT_EQ(rc, 1) << args << "\n" << out;
    EXPECT_NE(out.find(needle), std::string::npos) << args << "\n" << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << args << "\n" << out;
}

TEST(Cli, BadOptionsGetOneLine)
{
    expect_one_line_error("-frobnicate", "-frobnicate: unknown option");
    expect_one_line_error("-m", "-m: missing value");
    expect_one_line_error("-m lots", "-m lots");
    expect_one_line_error("-m 1", "RAM size");
    expect_one_line_error("-m 99999", "RAM size");
    expect_one_line_error("-serial tty9", "-serial tty9");
    expect_one_line_error("-d in_asm,bogus", "bogus");
    expect_one_line_error("-device isa-debug-exit,iobase=zz", "iobase=zz");
    expect_one_line_error("-device e1000", "-device e1000");
    expect_one_line_error("-drive format=raw", "file= is required");
    expect_one_line_error("-drive file=x.img,format=qcow2", "format=qcow2");
    expect_one_line_error("-drive file=x.img,bogus=1", "bogus=1");
    expect_one_line_error("-boot order=z", "-boot order=z");
    expect_one_line_error("-accel kvm", "-accel kvm");
    expect_one_line_error("-icount shift=99", "shift=99");
    expect_one_line_error("-rtc base=yesterday", "base=yesterday");
    expect_one_line_error("-timeout -3", "-timeout -3");
}

TEST(Cli, BadFilesGetOneLineNamingTheFile)
{
    expect_one_line_error("-bios /nonexistent/bios.bin",
                          "/nonexistent/bios.bin: No such file or directory");
    std::string small = tmpfile_with(std::string(1000, 'x'));
    expect_one_line_error("-bios " + small, small + ": BIOS size 1000 is not a multiple");
    expect_one_line_error("-hda /nonexistent/disk.img", "/nonexistent/disk.img");
    expect_one_line_error("-hda /tmp", "/tmp");
    std::string odd = tmpfile_with(std::string(1000, 'x'));
    expect_one_line_error("-hda " + odd, odd);
    expect_one_line_error("-D /nonexistent/dir/log", "/nonexistent/dir/log");
    /* a CD image must hold whole 2048-byte blocks */
    std::string cd = tmpfile_with(std::string(1024, 'x'));
    expect_one_line_error("-cdrom " + cd, cd);
    unlink(cd.c_str());
    unlink(small.c_str());
    unlink(odd.c_str());
}

TEST(Cli, DefaultGuestRunsAndPowersOff)
{
    std::string out;
    int rc = run_cmd(dbt86_bin() + " -display none -serial stdio -icount sleep=off -timeout 120",
                     &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("ALL CHECKS PASSED"), std::string::npos) << out;
}

TEST(Cli, ExitCodes)
{
    std::string out;
    /* isa-debug-exit: the demo writes its failure count (0): (0 << 1) | 1 */
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -icount sleep=off -device "
                      "isa-debug-exit,iobase=0xf4,iosize=4 -hda " + rom_path("demo.img") +
                      " -snapshot", &out), 1) << out;
    /* triple fault with -no-reboot */
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -icount sleep=off -no-reboot -hda " +
                      rom_path("exceptions.img") + " -snapshot", &out), 2) << out;
    /* cli; hlt at the reset vector */
    std::string halt = tiny_bios("\xfa\xf4");
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -bios " + halt, &out), 6) << out;
    EXPECT_NE(out.find("halted with interrupts disabled"), std::string::npos) << out;
    /* reset through the PIIX3 reset control register: mov dx,0xcf9; mov al,6; out dx,al */
    std::string rcr = tiny_bios(std::string("\xba\xf9\x0c\xb0\x06\xee\xf4", 7));
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -no-reboot -bios " + rcr, &out), 2) << out;
    unlink(rcr.c_str());
    /* jmp $ forever, bounded by -timeout */
    std::string loop = tiny_bios("\xeb\xfe");
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -timeout 1 -bios " + loop, &out), 4) << out;
    unlink(halt.c_str());
    unlink(loop.c_str());
}

TEST(Cli, GarbageGuestsNeverCrashTheEmulator)
{
    std::mt19937 rng(1234);
    for (int i = 0; i < 6; i++) {
        std::string img(65536, '\0');
        for (auto &ch : img) ch = (char)(rng() & 0xff);
        std::string bios = tmpfile_with(img);
        std::string out;
        int rc = run_cmd(dbt86_bin() + " -display none -no-reboot -timeout 3 -bios " + bios,
                         &out);
        /* reset/triple fault, time-out or halted: never a signal or an internal error */
        EXPECT_TRUE(rc == 2 || rc == 4 || rc == 6 || rc == 0) << "seed image " << i << " rc " << rc
                                                             << "\n" << out;
        unlink(bios.c_str());
    }
}

TEST(Cli, ScreenshotTextAndUnwritablePath)
{
    std::string shot = "/tmp/dbt86-shot-" + std::to_string(getpid()) + ".txt";
    std::string out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -icount sleep=off -snapshot -hda " +
                      rom_path("demo.img") + " -screenshot " + shot, &out), 0) << out;
    std::string text = read_file(shot);
    EXPECT_NE(text.find("ALL CHECKS PASSED"), std::string::npos) << text;
    unlink(shot.c_str());
    int rc = run_cmd(dbt86_bin() + " -display none -icount sleep=off -snapshot -hda " +
                     rom_path("demo.img") + " -screenshot /nonexistent/dir/s.txt", &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("/nonexistent/dir/s.txt"), std::string::npos) << out;
}

TEST(Cli, PngScreenshotEqualsTheMachinesRender)
{
    std::string shot = "/tmp/dbt86-shot-" + std::to_string(getpid()) + ".png";
    std::string out;
    ASSERT_EQ(run_cmd(dbt86_bin() + " -m 128 -display none -icount sleep=off -snapshot -hda " +
                      rom_path("demo.img") + " -screenshot " + shot, &out), 0) << out;
    int w = 0, h = 0;
    std::vector<uint32_t> px;
    ASSERT_TRUE(decode_png(read_file(shot), &w, &h, &px)) << "not a valid PNG";
    unlink(shot.c_str());
    /* the same run in-process ends in the same state: render it and compare */
    GuestRun g;
    g.cfg.ram_mb = 128;
    g.disk(rom_path("demo.img"));
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60));
    std::vector<uint32_t> want(720 * 400);
    int ww = 0, wh = 0;
    ASSERT_EQ(vga_render(&g.m->vga, want.data(), 720, 400, &ww, &wh), 0);
    EXPECT_EQ(w, ww);
    EXPECT_EQ(h, wh);
    EXPECT_EQ(w, 720); /* 80 columns of 9 dots, 25 rows of 16 lines */
    EXPECT_EQ(h, 400);
    want.resize((size_t)ww * wh);
    EXPECT_TRUE(px == want) << "PNG pixels differ from vga_render";
    /* and the picture is not blank: the report's text is drawn in light grey */
    EXPECT_GT(std::count(px.begin(), px.end(), 0xaaaaaau), 1000);
}

TEST(Cli, PerfmapNamesTranslatedBlocks)
{
    /* -perfmap (as QEMU's): /tmp/perf-PID.map gets "START SIZE name" for each block; the
     * shell's PID is dbt86's after exec */
    std::string halt = tiny_bios("\x90\x90\xfa\xf4"); /* nop; nop; cli; hlt */
    std::string out;
    EXPECT_EQ(run_cmd("sh -c 'echo PID=$$; exec " + dbt86_bin() +
                      " -perfmap -display none -bios " + halt + "'", &out), 6) << out;
    unlink(halt.c_str());
    size_t at = out.find("PID=");
    ASSERT_NE(at, std::string::npos) << out;
    std::string map = "/tmp/perf-" + std::to_string(std::stol(out.substr(at + 4))) + ".map";
    std::string text = read_file(map);
    unlink(map.c_str());
    /* the first block is the reset vector's: CS base 0xFFFF0000 + 0xFFF0 */
    EXPECT_TRUE(std::regex_search(text, std::regex("^[0-9a-f]+ [0-9a-f]+ guest_fffffff0\n")))
        << map << ":\n" << text;
}
