/*
 * test_monitor.cc — the human monitor as a user drives it: the real dbt86 binary runs
 * roms/keyecho.asm (paging on, a known magic page, every keyboard byte echoed on
 * COM1) with -monitor on a unix socket; the tests type commands and check QEMU's
 * output formats, that x reads through the guest's paging without touching it, that
 * stop/cont/sendkey/screendump reach the machine, that bad commands get one line and
 * the monitor goes on, and that clients may vanish at any time. Also -monitor stdio,
 * the -nographic mux (Ctrl-A c) on a pseudo-terminal, and paused time not being
 * caught up after cont.
 */
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pty.h>

#include <regex>

#include "monitor_util.h"

static void start_hmp(Dbt86Proc &p, SockClient &c, std::vector<std::string> extra = {})
{
    ASSERT_TRUE(p.start_keyecho(true, false, extra));
    ASSERT_TRUE(c.connect_to(p.hmp)) << p.out_text();
    std::string banner = c.read_until("(qemu) ");
    ASSERT_NE(banner.find("monitor - type 'help' for more information"), std::string::npos)
        << banner;
    ASSERT_TRUE(p.wait_serial("keyecho ready\n", 20)) << p.serial_text();
}

TEST(Monitor, InfoCommands)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    EXPECT_EQ(hmp_cmd(c, "info status"), "VM status: running\n");
    std::string regs = hmp_cmd(c, "info registers");
    EXPECT_NE(regs.find("CR3=00010000"), std::string::npos) << regs;
    EXPECT_NE(regs.find("CS =0008 00000000 ffffffff"), std::string::npos) << regs;
    EXPECT_TRUE(std::regex_search(regs, std::regex("EIP=00007c[0-9a-f]{2} "))) << regs;
    std::string ver = hmp_cmd(c, "info version");
    EXPECT_TRUE(std::regex_match(ver, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+ \\(dbt86\\)\n"))) << ver;
    std::string help = hmp_cmd(c, "help");
    for (const char *cmd : {"xp /fmt addr", "sendkey keys", "screendump filename", "quit|q",
                            "system_reset", "system_powerdown", "cont|c", "stop"})
        EXPECT_NE(help.find(cmd), std::string::npos) << cmd << "\n" << help;
    EXPECT_NE(hmp_cmd(c, "info").find("info registers"), std::string::npos);
    EXPECT_EQ(hmp_cmd(c, "help stop"), "stop  -- stop emulation\n");
    EXPECT_EQ(hmp_cmd(c, ""), "");
}

TEST(Monitor, MemoryDumpFormats)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    /* linear 0x800000 is the magic page at physical 0x13000 through the guest's tables */
    EXPECT_EQ(hmp_cmd(c, "x /2xw 0x800000"), "00800000: 0xcafef00d 0x38746264\n");
    EXPECT_EQ(hmp_cmd(c, "xp /xw 0x13000"), "0000000000013000: 0xcafef00d\n");
    EXPECT_EQ(hmp_cmd(c, "xp /xg 0x13000"), "0000000000013000: 0x38746264cafef00d\n");
    EXPECT_EQ(hmp_cmd(c, "x/2xb 0x7dfe"), "00007dfe: 0x55 0xaa\n");
    EXPECT_EQ(hmp_cmd(c, "xp /2dh 0x7dfe"), "0000000000007dfe: -21931     0\n");
    EXPECT_EQ(hmp_cmd(c, "xp /ub 0x13000"), "0000000000013000:  13\n");
    EXPECT_EQ(hmp_cmd(c, "xp /ow 0x13000"), "0000000000013000: 031277570015\n");
    EXPECT_EQ(hmp_cmd(c, "x /4c 0x800004"), "00800004: 'd' 'b' 't' '8'\n");
    /* 10 bytes: two lines of 8 */
    EXPECT_EQ(hmp_cmd(c, "x /10xb 0x800000"),
              "00800000: 0x0d 0xf0 0xfe 0xca 0x64 0x62 0x74 0x38\n"
              "00800008: 0x36 0x20\n");
    /* the format and unit stay as last used: w then x */
    EXPECT_EQ(hmp_cmd(c, "x /w 0x800000"), "00800000: 0xcafef00d\n");
    EXPECT_EQ(hmp_cmd(c, "x 0x800000"), "00800000: 0xcafef00d\n");
    /* expressions: registers and arithmetic */
    EXPECT_EQ(hmp_cmd(c, "xp /xw $cr3 + 8"), "0000000000010008: 0x00012003\n");
    /* an unmapped page: an error line, the guest does not notice */
    EXPECT_EQ(hmp_cmd(c, "x /xw 0x801000"), "00801000: Cannot access memory\n");
    /* x addresses are 32-bit linear addresses: -1 is 0xffffffff (not mapped here) */
    EXPECT_EQ(hmp_cmd(c, "x /xw -1"), "ffffffff: Cannot access memory\n");
    EXPECT_EQ(hmp_cmd(c, "x /xw 0x100800000"), "00800000: 0xcafef00d\n");
    /* the probe sets no accessed bit: the PTE for 0x800000 is still 0x13003 */
    EXPECT_EQ(hmp_cmd(c, "xp /xw 0x12000"), "0000000000012000: 0x00013003\n");
    /* and the guest's CR2 is untouched by the failed read */
    EXPECT_NE(hmp_cmd(c, "info registers").find("CR2=00000000"), std::string::npos);
    EXPECT_EQ(hmp_cmd(c, "info status"), "VM status: running\n");
}

TEST(Monitor, Disassembly)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    /* h = 16-bit code, w = 32-bit code, as in QEMU */
    EXPECT_EQ(hmp_cmd(c, "x /3ih 0x7c00"),
              "0x00007c00:  cli\n0x00007c01:  xor ax, ax\n0x00007c03:  mov ds, ax\n");
    EXPECT_EQ(hmp_cmd(c, "x /2iw 0x7c01"), "0x00007c01:  xor eax, eax\n0x00007c03:  mov ds, eax\n");
    EXPECT_EQ(hmp_cmd(c, "stop"), "");
    /* the guest sits in its 32-bit polling loop: three instructions from $pc */
    std::string d = hmp_cmd(c, "x /3i $pc");
    EXPECT_TRUE(std::regex_match(d, std::regex("(0x00007c[0-9a-f]{2}:  [a-z].*\n){3}"))) << d;
    EXPECT_TRUE(d.find("in al, 0x64") != std::string::npos ||
                d.find("test al, 1") != std::string::npos ||
                d.find("in al, 0x60") != std::string::npos)
        << d;
    /* the same through the physical address space */
    std::string regs = hmp_cmd(c, "info registers");
    std::smatch mt;
    ASSERT_TRUE(std::regex_search(regs, mt, std::regex("EIP=([0-9a-f]{8})")));
    EXPECT_EQ(hmp_cmd(c, "xp /3i 0x" + mt[1].str()), d);
    EXPECT_EQ(hmp_cmd(c, "cont"), "");
}

TEST(Monitor, StopContFreezesTheGuest)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    EXPECT_EQ(hmp_cmd(c, "stop"), "");
    EXPECT_EQ(hmp_cmd(c, "info status"), "VM status: paused\n");
    std::string regs1 = hmp_cmd(c, "info registers");
    EXPECT_EQ(hmp_cmd(c, "sendkey a"), "");
    sleep_s(0.5);
    EXPECT_EQ(p.serial_text().find("k=1e"), std::string::npos) << "the guest ran while paused";
    EXPECT_EQ(hmp_cmd(c, "info registers"), regs1);
    EXPECT_EQ(hmp_cmd(c, "c"), "");
    EXPECT_EQ(hmp_cmd(c, "info status"), "VM status: running\n");
    EXPECT_TRUE(p.wait_serial("k=1e\nk=9e\n", 10)) << p.serial_text();
}

TEST(Monitor, SendkeyReachesTheGuest)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    /* the 8042 translates set 2 to set 1 for the guest: a = 1e, shift = 2a */
    EXPECT_EQ(hmp_cmd(c, "sendkey a"), "");
    EXPECT_TRUE(p.wait_serial("k=1e\nk=9e\n", 10)) << p.serial_text();
    EXPECT_EQ(hmp_cmd(c, "sendkey shift-a"), "");
    EXPECT_TRUE(p.wait_serial("k=2a\nk=1e\nk=9e\nk=aa\n", 10)) << p.serial_text();
    /* extended keys: delete is E0 53; released in reverse order */
    EXPECT_EQ(hmp_cmd(c, "sendkey ctrl-alt-delete 10"), "");
    EXPECT_TRUE(p.wait_serial("k=1d\nk=38\nk=e0\nk=53\nk=e0\nk=d3\nk=b8\nk=9d\n", 10))
        << p.serial_text();
    EXPECT_EQ(hmp_cmd(c, "sendkey ret"), "");
    EXPECT_TRUE(p.wait_serial("k=1c\nk=9c\n", 10)) << p.serial_text();
    /* a set-1 number as QEMU accepts: 0x30 = b */
    EXPECT_EQ(hmp_cmd(c, "sendkey 0x30"), "");
    EXPECT_TRUE(p.wait_serial("k=30\nk=b0\n", 10)) << p.serial_text();
    /* bad names: one line, nothing sent */
    std::string before = p.serial_text();
    EXPECT_EQ(hmp_cmd(c, "sendkey nosuchkey"), "unknown key: 'nosuchkey'\n");
    EXPECT_EQ(hmp_cmd(c, "sendkey ctrl-"), "unknown key: ''\n");
    EXPECT_EQ(hmp_cmd(c, "sendkey a xyz"), "sendkey: invalid hold time 'xyz'\n");
    EXPECT_EQ(hmp_cmd(c, "sendkey"), "sendkey: missing key names (e.g. sendkey ctrl-alt-delete)\n");
    sleep_s(0.3);
    EXPECT_EQ(p.serial_text(), before);
}

TEST(Monitor, Screendump)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    std::string png = p.dir + "/screen.png", txt = p.dir + "/screen.txt", ppm = p.dir + "/s.ppm";
    EXPECT_EQ(hmp_cmd(c, "screendump " + png), "");
    std::string data = read_file(png);
    ASSERT_GE(data.size(), 8u);
    EXPECT_EQ(data.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(hmp_cmd(c, "screendump " + ppm), "");
    EXPECT_EQ(read_file(ppm).substr(0, 11), "P6\n720 400\n");
    EXPECT_EQ(hmp_cmd(c, "screendump " + txt + " --text"), "");
    EXPECT_NE(read_file(txt).find("Booting from Hard Disk"), std::string::npos) << read_file(txt);
    /* an unwritable path: one line, and the guest keeps running */
    EXPECT_EQ(hmp_cmd(c, "screendump /nonexistent-dir/x.png"),
              "screendump: /nonexistent-dir/x.png: No such file or directory\n");
    EXPECT_EQ(hmp_cmd(c, "screendump " + png + " -f gif"),
              "screendump: format 'gif' is not supported (png, ppm)\n");
    EXPECT_EQ(hmp_cmd(c, "screendump"), "screendump: missing file name\n");
    EXPECT_EQ(hmp_cmd(c, "info status"), "VM status: running\n");
    EXPECT_EQ(hmp_cmd(c, "sendkey b"), "");
    EXPECT_TRUE(p.wait_serial("k=30\n", 10)) << p.serial_text();
}

TEST(Monitor, MalformedCommandsGetOneLine)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    EXPECT_EQ(hmp_cmd(c, "bogus"), "unknown command: 'bogus'\n");
    EXPECT_EQ(hmp_cmd(c, "x /zz 0"), "invalid char in format: 'z'\n");
    EXPECT_EQ(hmp_cmd(c, "x /x"), "x: address expected\n");
    EXPECT_EQ(hmp_cmd(c, "x /x 0x10 junk"), "x: extraneous characters at the end of line\n");
    EXPECT_EQ(hmp_cmd(c, "xp /x $nosuchreg"), "xp: unknown register 'nosuchreg'\n");
    EXPECT_EQ(hmp_cmd(c, "x /x (1 + 2"), "x: ')' expected\n");
    EXPECT_EQ(hmp_cmd(c, "info nothing"), "unknown info command: 'nothing'\n");
    EXPECT_EQ(hmp_cmd(c, "help nothing"), "unknown command: 'nothing'\n");
    EXPECT_EQ(hmp_cmd(c, std::string(5000, 'x')), "command line too long\n");
    /* CRLF line ends (telnet, nc -C) are one line end */
    c.send_str("info status\r\n");
    EXPECT_EQ(c.read_until("(qemu) "), "VM status: running\n(qemu) ");
    EXPECT_EQ(hmp_cmd(c, "info status"), "VM status: running\n");
    EXPECT_TRUE(p.running());
}

TEST(Monitor, ClientsMayDisconnectAnytime)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    /* half a command, then gone */
    c.send_str("info regis");
    c.close_now();
    SockClient c2;
    ASSERT_TRUE(c2.connect_to(p.hmp));
    EXPECT_NE(c2.read_until("(qemu) ").find("monitor"), std::string::npos);
    /* the half command is not glued to the new client's first line */
    EXPECT_EQ(hmp_cmd(c2, "info status"), "VM status: running\n");
    /* a large reply the client never reads */
    c2.send_str("xp /65536xb 0\n");
    c2.close_now();
    SockClient c3;
    ASSERT_TRUE(c3.connect_to(p.hmp));
    EXPECT_NE(c3.read_until("(qemu) ", 20).find("monitor"), std::string::npos);
    EXPECT_EQ(hmp_cmd(c3, "info status"), "VM status: running\n");
    EXPECT_TRUE(p.running());
}

TEST(Monitor, QuitEndsTheProcess)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    c.send_str("quit\n");
    EXPECT_EQ(p.wait(10), 0) << p.out_text();
    /* the socket file is removed */
    struct stat st;
    EXPECT_NE(stat(p.hmp.c_str(), &st), 0);
}

TEST(Monitor, QuitWhilePaused)
{
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c);
    EXPECT_EQ(hmp_cmd(c, "stop"), "");
    c.send_str("q\n");
    EXPECT_EQ(p.wait(10), 0) << p.out_text();
}

TEST(Monitor, PausedTimeIsNotCaughtUp)
{
    /* -icount sleep=on paces virtual time to host time; time spent paused must not be
     * run through afterwards */
    Dbt86Proc p;
    SockClient c;
    start_hmp(p, c, {"-stats"});
    EXPECT_EQ(hmp_cmd(c, "stop"), "");
    sleep_s(2.0);
    EXPECT_EQ(hmp_cmd(c, "cont"), "");
    sleep_s(0.5);
    c.send_str("quit\n");
    ASSERT_EQ(p.wait(10), 0);
    std::smatch mt;
    std::string out = p.out_text();
    ASSERT_TRUE(std::regex_search(out, mt, std::regex("([0-9.]+) s virtual, ([0-9.]+) s host")))
        << out;
    double vt = std::stod(mt[1].str()), host = std::stod(mt[2].str());
    EXPECT_GT(host, 2.4) << out;
    EXPECT_LT(vt, host - 1.5) << out;
}

TEST(Monitor, StdioMonitor)
{
    Dbt86Proc p;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    ASSERT_TRUE(p.start({"-display", "none", "-monitor", "stdio", "-serial", "file:" + p.serial,
                         "-hda", rom_path("keyecho.img"), "-snapshot", "-timeout", "30"},
                        fds[0]));
    close(fds[0]);
    ASSERT_TRUE(p.wait_serial("keyecho ready\n", 20));
    std::string cmds = "info status\nx /xw 0x800000\nbogus\nquit\n";
    ASSERT_EQ(write(fds[1], cmds.data(), cmds.size()), (ssize_t)cmds.size());
    EXPECT_EQ(p.wait(10), 0);
    close(fds[1]);
    std::string out = p.out_text();
    EXPECT_NE(out.find("(qemu) VM status: running\n(qemu) 00800000: 0xcafef00d\n"
                       "(qemu) unknown command: 'bogus'\n"),
              std::string::npos)
        << out;
}

/* -nographic on a terminal: COM1 and the monitor share stdio; Ctrl-A c switches. */
TEST(Monitor, NographicMuxOnATerminal)
{
    int master;
    pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::string img = rom_path("keyecho.img");
        execl(dbt86_bin().c_str(), "dbt86", "-nographic", "-hda", img.c_str(), "-snapshot",
              "-timeout", "30", (char *)nullptr);
        _exit(127);
    }
    std::string seen;
    auto read_until = [&](const std::string &needle, double t) {
        double end = mono_s() + t;
        while (seen.find(needle) == std::string::npos && mono_s() < end) {
            struct pollfd pf = {master, POLLIN, 0};
            if (poll(&pf, 1, 50) > 0) {
                char b[4096];
                ssize_t n = read(master, b, sizeof b);
                if (n <= 0) break;
                seen.append(b, n);
            }
        }
        size_t at = seen.find(needle);
        if (at == std::string::npos) return false;
        seen.erase(0, at + needle.size());
        return true;
    };
    auto type = [&](const std::string &s) { ASSERT_EQ(write(master, s.data(), s.size()), (ssize_t)s.size()); };
    EXPECT_TRUE(read_until("keyecho ready", 20)) << seen;
    type("\x01" "c");
    EXPECT_TRUE(read_until("(qemu) ", 20)) << seen;
    type("info statx\x7fus\r"); /* the monitor echoes and handles backspace */
    EXPECT_TRUE(read_until("info statx\b \bus", 20)) << seen;
    EXPECT_TRUE(read_until("VM status: running", 20)) << seen;
    type("sendkey a\r");
    EXPECT_TRUE(read_until("k=1e", 20)) << seen;
    /* back to the serial port: monitor commands are now bytes for COM1 */
    type("\x01" "c");
    sleep_s(0.2);
    seen.clear();
    type("info status\r");
    EXPECT_FALSE(read_until("VM status", 1)) << seen;
    type("\x01" "c");
    EXPECT_TRUE(read_until("(qemu) ", 20)) << seen;
    type("quit\r");
    int st = 0;
    double end = mono_s() + 10;
    pid_t r = 0;
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && mono_s() < end) {
        char b[4096];
        struct pollfd pf = {master, POLLIN, 0};
        if (poll(&pf, 1, 20) > 0 && read(master, b, sizeof b) <= 0) sleep_s(0.02);
    }
    if (r != pid) kill(pid, SIGKILL), waitpid(pid, &st, 0);
    EXPECT_EQ(r, pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(master);
}

TEST(Monitor, BadOptions)
{
    std::string out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -monitor vc", &out), 1);
    EXPECT_NE(out.find("-monitor vc: expected stdio, unix:PATH"), std::string::npos) << out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -qmp stdio", &out), 1);
    EXPECT_NE(out.find("-qmp stdio: expected unix:PATH"), std::string::npos) << out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -monitor unix:/tmp/x.sock", &out), 1);
    EXPECT_NE(out.find("only server sockets"), std::string::npos) << out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -monitor unix:/tmp/x.sock,server,bogus", &out), 1);
    EXPECT_NE(out.find("unknown socket option 'bogus'"), std::string::npos) << out;
    EXPECT_EQ(run_cmd(dbt86_bin() +
                          " -display none -monitor unix:/nonexistent-dir/m.sock,server,nowait",
                      &out),
              1);
    EXPECT_NE(out.find("No such file or directory"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -monitor tcp:127.0.0.1,server,nowait", &out),
              1);
    EXPECT_NE(out.find("expected tcp:HOST:PORT"), std::string::npos) << out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -monitor stdio -monitor none", &out), 1);
    EXPECT_NE(out.find("only one -monitor"), std::string::npos) << out;
}

TEST(Monitor, TcpSocket)
{
    /* a TCP monitor on a port the kernel picks free for us first */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ASSERT_EQ(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(getsockname(s, (struct sockaddr *)&a, &al), 0);
    int port = ntohs(a.sin_port);
    close(s);
    Dbt86Proc p;
    ASSERT_TRUE(p.start({"-display", "none", "-serial", "file:" + p.serial, "-hda",
                         rom_path("keyecho.img"), "-snapshot", "-timeout", "30", "-monitor",
                         "tcp:127.0.0.1:" + std::to_string(port) + ",server,nowait"}));
    SockClient c;
    double end = mono_s() + 10;
    bool ok = false;
    while (!ok && mono_s() < end) {
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        ok = connect(c.fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (!ok) close(c.fd), c.fd = -1, sleep_s(0.02);
    }
    ASSERT_TRUE(ok) << p.out_text();
    EXPECT_NE(c.read_until("(qemu) ").find("monitor"), std::string::npos);
    EXPECT_EQ(hmp_cmd(c, "info status"), "VM status: running\n");
    c.send_str("quit\n");
    EXPECT_EQ(p.wait(10), 0);
}
