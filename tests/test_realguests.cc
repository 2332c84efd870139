/*
 * test_realguests.cc — guest-level tests with real software nobody on this project
 * wrote: Debian 12's i386 kernel, busybox and SYSLINUX, fetched and assembled at test
 * time by tests/guests/make-linux-guest and make-syslinux-disk (cached in
 * guests-cache/ beside the sources). The tests skip when the packages cannot be fetched (exit 77).
 * Each expectation is a milestone the machine reaches today, deterministically (all
 * time is virtual), and says what part of the machine it proves.
 */
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <unistd.h>
#include <vector>

#include "guest_util.h"

extern "C" {
#include "translate/dbt.h"
}

namespace {

/* Sanitizer builds run the interpreter several times slower: the milestones deep in
 * the kernel would take many minutes there, so those tests stop early. */
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

/* One cache beside the sources, shared by every build directory (git ignores it), so
 * the optimised and the sanitizer builds download the packages once. */
std::string cache_dir() { return std::string(DBT86_SOURCE_ROOT) + "/guests-cache"; }

/* Runs tests/guests/SCRIPT on the cache directory; 77 means "cannot, skip". */
int prepare(const char *script, std::string *log)
{
    return run_cmd(std::string(DBT86_SOURCE_ROOT) + "/tests/guests/" + script + " '" +
                       cache_dir() + "'",
                   log);
}

#define PREPARE_OR_SKIP(script)                                                        \
    do {                                                                               \
        std::string log_;                                                              \
        int rc_ = prepare(script, &log_);                                              \
        if (rc_ == 77) GTEST_SKIP() << script << " cannot build the guest:\n" << log_; \
        ASSERT_EQ(rc_, 0) << script << " failed:\n" << log_;                           \
    } while (0)

/* Runs the machine until `marker` shows on COM1, the machine stops, or `vt_limit`
 * seconds of virtual time pass. Returns the virtual time (s) at which the marker
 * appeared, or -1. */
double run_until(GuestRun &g, const std::string &marker, double vt_limit)
{
    auto t0 = std::chrono::steady_clock::now();
    uint64_t end = (uint64_t)(vt_limit * 1e9);
    while (machine_now_ns(g.m) < end) {
        if (g.serial.find(marker) != std::string::npos) break;
        if (machine_run_for(g.m, 10000000)) break;
    }
    if (g.serial.find(marker) == std::string::npos) return -1;
    double vt = machine_now_ns(g.m) / 1e9;
    double host = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("[ milestone] \"%s\" at %.2f s virtual (%.1f s host for this leg)\n",
           marker.c_str(), vt, host);
    return vt;
}

/* A direct boot (-kernel/-initrd/-append) of the cached Debian kernel on 256 MiB with
 * -no-reboot; the paths live as long as the test program. */
void direct_boot(GuestRun &g, const char *append, const char *initrd_name = "initrd.gz")
{
    static const std::string kernel = cache_dir() + "/vmlinuz";
    static std::string initrd;
    initrd = cache_dir() + "/" + initrd_name;
    g.cfg.ram_mb = 256;
    g.cfg.no_reboot = true;
    g.cfg.kernel = kernel.c_str();
    g.cfg.initrd = initrd.c_str();
    g.cfg.append = append;
}

std::string tail(const std::string &s, size_t n = 3000)
{
    return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

} // namespace

/* SYSLINUX 6.04 from a FAT hard disk, through SeaBIOS's INT 13h: its banner on COM1
 * (its own serial driver, `SERIAL 0 115200`) proves the boot sector, ldlinux.sys and
 * the ldlinux.c32 core module loaded and run (32-bit protected mode, calls back into
 * the BIOS through real mode); the "Loading ... ok" lines prove it read the kernel
 * and the initramfs (7 MB) from the FAT file system with INT 13h extended reads; the
 * EDD line proves it handed over to the kernel's real-mode setup code with the
 * command line from syslinux.cfg. Then the kernel boots to user space (with its crypto
 * self-tests: syslinux.cfg does not skip them), runs init-test's workload and powers
 * off. */
TEST(RealGuests, SyslinuxDiskBootsToUserSpace)
{
    PREPARE_OR_SKIP("make-syslinux-disk");
    GuestRun g;
    g.cfg.ram_mb = 256;
    g.cfg.no_reboot = true;
    g.disk(cache_dir() + "/syslinux.img");
    ASSERT_TRUE(g.create()) << g.err;

    EXPECT_GT(run_until(g, "SYSLINUX 6.04", 30), 0) << tail(g.serial);
    /* the prompt from `PROMPT 1`; `TIMEOUT 5` (0.5 s) then boots the default label */
    EXPECT_GT(run_until(g, "boot:", 30), 0) << tail(g.serial);
    EXPECT_GT(run_until(g, "Loading vmlinuz... ok", 60), 0) << tail(g.serial);
    EXPECT_GT(run_until(g, "Loading initrd.gz...ok", 60), 0) << tail(g.serial);
    EXPECT_GT(run_until(g, "Probing EDD (edd=off to disable)... ok", 60), 0) << tail(g.serial);
    EXPECT_FALSE(g.m->exit_requested) << "the machine stopped early:\n" << tail(g.serial);
    if (kSanitized) GTEST_SKIP() << "the kernel's decompression is too slow under ASan";
    EXPECT_GT(run_until(g, "BOOT-OK", 150), 0) << tail(g.serial);
    EXPECT_GT(run_until(g, "WORK-DONE", 200), 0) << tail(g.serial);
    EXPECT_NE(g.serial.find("53d025127ae99ab79e8502aae2d9bea6  /tmp/seq.txt"), std::string::npos)
        << tail(g.serial);
    run_until(g, "\nnever printed", machine_now_ns(g.m) / 1e9 + 5);
    EXPECT_TRUE(g.m->exit_requested) << tail(g.serial);
    EXPECT_EQ(g.m->exit.kind, MEXIT_POWEROFF);
}

/* A user at the busybox prompt on the serial console: keys typed into COM1 (through
 * uart_receive, as the input layer does with stdin) reach the shell, its answers come
 * back, and `poweroff -f` typed at the prompt ends the run. */
TEST(RealGuests, LinuxShellOnTheSerialConsole)
{
    PREPARE_OR_SKIP("make-linux-guest");
    if (kSanitized) GTEST_SKIP() << "the kernel's decompression is too slow under ASan";
    GuestRun g;
    direct_boot(g, "console=ttyS0 panic=-1 cryptomgr.notests dbt86.shell=1");
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_GT(run_until(g, "SHELL-READY", 60), 0) << tail(g.serial);
    ASSERT_GT(run_until(g, "# ", machine_now_ns(g.m) / 1e9 + 10), 0) << tail(g.serial);
    auto type = [&](const std::string &line) {
        size_t sent = 0;
        for (int i = 0; i < 2000 && sent < line.size(); i++) {
            sent += uart_receive(&g.m->uart[0], (const uint8_t *)line.data() + sent,
                                 line.size() - sent);
            machine_run_for(g.m, 1000000);
        }
        ASSERT_EQ(sent, line.size());
    };
    type("echo answer=$((6*7)); uname -m\n");
    EXPECT_GT(run_until(g, "answer=42", machine_now_ns(g.m) / 1e9 + 10), 0) << tail(g.serial);
    EXPECT_GT(run_until(g, "i686", machine_now_ns(g.m) / 1e9 + 10), 0) << tail(g.serial);
    type("poweroff -f\n");
    run_until(g, "\nnever printed", machine_now_ns(g.m) / 1e9 + 10);
    EXPECT_TRUE(g.m->exit_requested) << tail(g.serial);
    EXPECT_EQ(g.m->exit.kind, MEXIT_POWEROFF);
}

/* Direct boot of Debian's 686 kernel to busybox user space (-kernel/-initrd/-append
 * through fw_cfg and SeaBIOS's linuxboot option ROM). earlyprintk=ttyS0 makes the
 * real-mode setup code and the kernel's first printk write to COM1 themselves, so each
 * stage shows before the serial driver starts. cryptomgr.notests skips the crypto
 * self-tests, whose RSA/DH big-number arithmetic (mpihelp_*) alone costs ~3.7e9
 * interpreted instructions (30 s of virtual time) and tests nothing new. The whole
 * boot is ~3.1e9 instructions, 25 s virtual: about a minute on an idle 2-core host. */
TEST(RealGuests, LinuxDirectBootToUserSpace)
{
    PREPARE_OR_SKIP("make-linux-guest");
    GuestRun g;
    direct_boot(g, "console=ttyS0 earlyprintk=ttyS0 panic=-1 cryptomgr.notests");
    ASSERT_TRUE(g.create()) << g.err;

    /* 1. The bzImage setup code (real mode, arch/x86/boot) ran with its command line:
     *    it found "earlyprintk=ttyS0", programmed the UART itself, and its EDD probe
     *    (INT 13h AH=41h/48h) returned. */
    ASSERT_GT(run_until(g, "Probing EDD (edd=off to disable)... ok", 30), 0)
        << tail(g.serial);
    if (kSanitized)
        GTEST_SKIP() << "the XZ decompression (~2e9 instructions) is too slow under ASan";

    /* 2. The 32-bit decompressor (KASLR choice, XZ decompression of ~20 MB, ELF
     *    relocation: pure integer code, paging off) finished and start_kernel ran with
     *    paging on: the banner is the first printk (~18.7 s virtual). */
    ASSERT_GT(run_until(g, "Linux version 6.1.", 40), 0) << tail(g.serial);
    /* 3. setup_arch read the BIOS e820 map that SeaBIOS built from fw_cfg. */
    EXPECT_NE(g.serial.find("BIOS-e820: [mem 0x0000000000100000-0x000000000fffdfff] usable"),
              std::string::npos)
        << tail(g.serial);
    /* 4. start_kernel: memory, scheduler, RCU and 8259 IRQ set-up, PIT-based TSC
     *    calibration, hand-over to the ttyS0 console, the x87 probe. */
    EXPECT_GT(run_until(g, "x86/fpu: x87 FPU will use", 45), 0) << tail(g.serial);
    /* 5. PCI enumeration through configuration mechanism #1 found the board. */
    EXPECT_GT(run_until(g, "pci 0000:00:01.1: [8086:7010]", 50), 0) << tail(g.serial);
    /* 6. The initramfs (gzip, newc) was unpacked and the 8250 driver took COM1. */
    EXPECT_GT(run_until(g, "serial8250: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) "
                           "is a 16550A", 50), 0)
        << tail(g.serial);
    /* 7. User space: busybox (a static i386 binary, int 0x80 system calls, fork/exec,
     *    page faults, signals) ran tests/guests/init-test. Its answers must equal those
     *    under QEMU and real hardware: exact values, not just "something printed". */
    ASSERT_GT(run_until(g, "WORK-DONE", 50), 0) << tail(g.serial);
    EXPECT_NE(g.serial.find("BOOT-OK"), std::string::npos);
    EXPECT_NE(g.serial.find("uname-m: i686"), std::string::npos) << tail(g.serial);
    /* `seq 1 1000 | md5sum` on any machine */
    EXPECT_NE(g.serial.find("53d025127ae99ab79e8502aae2d9bea6  /tmp/seq.txt"),
              std::string::npos)
        << tail(g.serial);
    EXPECT_NE(g.serial.find("expr: 7"), std::string::npos) << tail(g.serial);
    /* the 686 kernel refuses CPUs without CMOV, so it must be advertised */
    size_t flags = g.serial.find("flags\t\t: fpu");
    ASSERT_NE(flags, std::string::npos) << tail(g.serial);
    EXPECT_NE(g.serial.substr(flags, g.serial.find('\n', flags) - flags).find(" cmov"),
              std::string::npos);
    EXPECT_EQ(g.serial.find("Kernel panic"), std::string::npos) << tail(g.serial);
    EXPECT_EQ(g.serial.find("Oops"), std::string::npos) << tail(g.serial);

    /* 8. `poweroff -f` powers the machine off through ACPI (the kernel enabled ACPI
     *    mode through the SMI command port, then wrote SLP_EN to PM1a_CNT) within a
     *    second, as under QEMU. */
    run_until(g, "\nnever printed", machine_now_ns(g.m) / 1e9 + 1);
    EXPECT_TRUE(g.m->exit_requested) << tail(g.serial);
    EXPECT_EQ(g.m->exit.kind, MEXIT_POWEROFF) << tail(g.serial);
    EXPECT_EQ(g.serial.find("Unable to enable ACPI"), std::string::npos) << tail(g.serial);
}

/* ISOLINUX from an El Torito CD (tests/guests/make-isolinux-iso) through SeaBIOS and
 * the ATAPI CD-ROM, run as a user would (the dbt86 binary with -cdrom/-boot d), to
 * user space and power-off (exit code 0). The same boot checks the VGA text console:
 * the kernel runs with `console=tty0 console=ttyS0` (messages on both; init-test's
 * dbt86.vga=1 writes its markers to tty0 as well), and the text screen at exit
 * (-screenshot FILE.txt, which follows the CRTC start address that vgacon scrolls
 * with) must show the kernel's last boot messages and the markers. */
TEST(RealGuests, IsolinuxCdBootsToUserSpaceOnVgaConsole)
{
    if (kSanitized) GTEST_SKIP() << "booting Linux takes too long under the sanitizers";
    PREPARE_OR_SKIP("make-isolinux-iso");
    std::string shot = std::string(DBT86_BUILD_ROOT) + "/isolinux-screen.txt";
    remove(shot.c_str());
    std::string out;
    auto t0 = std::chrono::steady_clock::now();
    int rc = run_cmd(dbt86_bin() + " -m 256 -cdrom '" + cache_dir() +
                         "/isolinux.iso' -boot d -display none -serial stdio -no-reboot"
                         " -icount shift=3,sleep=off -timeout 600 -screenshot '" + shot + "'",
                     &out);
    printf("[ milestone] ISOLINUX boot to power-off: %.1f s host\n",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    EXPECT_EQ(rc, 0) << "exit code (0: the guest powered off)\n" << tail(out);
    /* the loader (its own serial output), then the kernel and init on COM1 */
    EXPECT_NE(out.find("ISOLINUX 6.04"), std::string::npos) << tail(out);
    EXPECT_NE(out.find("Linux version 6.1."), std::string::npos) << tail(out);
    EXPECT_NE(out.find("dbt86.vga=1"), std::string::npos) << "command line from isolinux.cfg\n"
                                                          << tail(out);
    EXPECT_NE(out.find("BOOT-OK"), std::string::npos) << tail(out);
    EXPECT_NE(out.find("53d025127ae99ab79e8502aae2d9bea6  /tmp/seq.txt"), std::string::npos)
        << tail(out);
    EXPECT_NE(out.find("WORK-DONE"), std::string::npos) << tail(out);
    EXPECT_EQ(out.find("Kernel panic"), std::string::npos) << tail(out);

    std::string screen = read_file(shot);
    ASSERT_FALSE(screen.empty()) << "no text screenshot (not in a text mode at exit?)";
    /* the kernel's messages scrolled the screen: the last ones before init */
    EXPECT_NE(screen.find("Run /init as init process"), std::string::npos) << screen;
    EXPECT_NE(screen.find("BOOT-OK"), std::string::npos) << screen;
    EXPECT_NE(screen.find("WORK-DONE"), std::string::npos) << screen;
    /* init's other output went to /dev/console (COM1) only */
    EXPECT_EQ(screen.find("uname-m"), std::string::npos) << screen;
    /* and BOOT-OK comes after the kernel's message, in screen order */
    EXPECT_LT(screen.find("Run /init as init process"), screen.find("BOOT-OK")) << screen;
}

/* Linux's own IDE stack on the PIIX3 with bus-master DMA: the Debian kernel's libata,
 * ata_piix, sd and sr modules (tests/guests/make-linux-ata-guest) probe the disk and the
 * CD, choose multiword DMA 2 as under QEMU (ata_piix gives a PIIX3 no UDMA), read both
 * whole devices (md5sum must equal the host's) and write the disk's last sector through
 * the page cache with fsync. Linux's acpiphp runs too: the board's PCI hotplug
 * registers must say that nothing was unplugged, or it drops the PCI functions (no
 * 00:01.1 in sysfs, so ata_piix finds nothing). */
TEST(RealGuests, LinuxAtaPiixUsesDma)
{
    PREPARE_OR_SKIP("make-syslinux-disk");
    PREPARE_OR_SKIP("make-linux-ata-guest");
    if (kSanitized) GTEST_SKIP() << "the kernel's decompression is too slow under ASan";
    std::string image = cache_dir() + "/syslinux.img", sum;
    ASSERT_EQ(0, run_cmd("md5sum '" + image + "'", &sum)) << sum;
    sum = sum.substr(0, 32);
    char tmpl[] = "/tmp/dbt86-ata-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    std::string disk = tmpl;
    ASSERT_EQ(0, run_cmd("cp '" + image + "' '" + disk + "'"));

    GuestRun g;
    g.cfg.ram_mb = 256;
    g.cfg.no_reboot = true;
    g.cfg.snapshot = false; /* the write must reach the image */
    std::string kernel = cache_dir() + "/vmlinuz", initrd = cache_dir() + "/initrd-ata.gz";
    g.cfg.kernel = kernel.c_str();
    g.cfg.initrd = initrd.c_str();
    g.cfg.append = "console=ttyS0 panic=-1 cryptomgr.notests dbt86.ata=1";
    g.disk(disk, 0);
    g.disk(image, 2);
    g.cfg.drives[1].cdrom = true;
    g.cfg.drives[1].read_only = true;
    ASSERT_TRUE(g.create()) << g.err;

    bool done = run_until(g, "WORK-DONE", 60) > 0;
    run_until(g, "\nnever printed", machine_now_ns(g.m) / 1e9 + 1);
    std::string last = read_file(disk).substr(16 * 1024 * 1024 - 512, 16);
    unlink(disk.c_str());
    ASSERT_TRUE(done) << tail(g.serial);
    EXPECT_NE(g.serial.find("ata1: PATA max MWDMA2 cmd 0x1f0 ctl 0x3f6 bmdma"), std::string::npos)
        << tail(g.serial);
    EXPECT_NE(g.serial.find("ata1.00: ATA-6: DBT86 HARDDISK"), std::string::npos);
    EXPECT_NE(g.serial.find("ata2.00: ATAPI: DBT86 DVD-ROM"), std::string::npos);
    EXPECT_NE(g.serial.find("dev1.0: ata XFER_MW_DMA_2"), std::string::npos) << tail(g.serial);
    EXPECT_NE(g.serial.find("dev2.0: atapi XFER_MW_DMA_2"), std::string::npos) << tail(g.serial);
    EXPECT_NE(g.serial.find(sum + "  /dev/sda"), std::string::npos) << tail(g.serial);
    EXPECT_NE(g.serial.find(sum + "  /dev/sr0"), std::string::npos) << tail(g.serial);
    EXPECT_NE(g.serial.find("ata-write: rc=0"), std::string::npos) << tail(g.serial);
    EXPECT_EQ("DBT86-DMA-WRITE\n", last);
    EXPECT_EQ(g.serial.find("DMA timeout"), std::string::npos) << tail(g.serial);
    EXPECT_EQ(g.serial.find("failed command"), std::string::npos) << tail(g.serial);
    EXPECT_TRUE(g.m->exit_requested) << tail(g.serial);
}

/* The translator's acceptance run: the same direct boot under the lockstep checker
 * (-accel dbt,check=on), which re-runs every translated block in the interpreter and
 * stops the machine (MEXIT_CHECK) at the first difference, up to BOOT-OK in user
 * space. ~2.7e9 instructions, each block twice. */
TEST(RealGuests, LinuxBootUnderTheLockstepChecker)
{
    PREPARE_OR_SKIP("make-linux-guest");
    if (kSanitized) GTEST_SKIP() << "too slow under ASan";
    GuestRun g;
    direct_boot(g, "console=ttyS0 panic=-1 cryptomgr.notests");
    g.cfg.dbt_check = true;
    ASSERT_TRUE(g.create()) << g.err;
    double t = run_until(g, "BOOT-OK", 40);
    EXPECT_NE(g.m->exit.kind, MEXIT_CHECK) << "lockstep difference\n" << tail(g.serial);
    EXPECT_GT(t, 0) << tail(g.serial);
    EXPECT_GT(dbt_stats(g.m->dbt)->checked_blocks, 1000000u);
}

/* Linux's framebuffer console on the Bochs VBE linear framebuffer: `vga=0x317` makes
 * the kernel's real-mode setup set VBE mode 1024x768x16 through the VGA BIOS, vesafb
 * takes the framebuffer, and the console draws its text there; what vga_render shows
 * (and so the window and screenshots) is that mode with the text in it. */
TEST(RealGuests, LinuxFramebufferConsoleOnBochsVbe)
{
    PREPARE_OR_SKIP("make-linux-guest");
    if (kSanitized) GTEST_SKIP() << "the kernel's decompression is too slow under ASan";
    GuestRun g;
    direct_boot(g, "vga=0x317 console=tty0 console=ttyS0 panic=-1 cryptomgr.notests");
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_GT(run_until(g, "BOOT-OK", 60), 0) << tail(g.serial);
    EXPECT_NE(g.serial.find("vesafb: mode is 1024x768x16"), std::string::npos) << tail(g.serial);
    std::vector<uint32_t> fb(1024 * 768);
    int w = 0, h = 0;
    ASSERT_EQ(vga_render(&g.m->vga, fb.data(), 1024, 768, &w, &h), 0);
    EXPECT_EQ(w, 1024);
    EXPECT_EQ(h, 768);
    /* console text: light grey glyph pixels on black, in many rows of the screen */
    size_t lit = 0, rows_with_text = 0;
    for (int y = 0; y < h; y++) {
        size_t row = 0;
        for (int x = 0; x < w; x++) row += (fb[y * w + x] & 0xffffff) != 0;
        lit += row;
        rows_with_text += row > 0;
    }
    EXPECT_GT(lit, 20000u);
    EXPECT_GT(rows_with_text, 200u);
}
