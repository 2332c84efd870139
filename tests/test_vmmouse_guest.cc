/*
 * test_vmmouse_guest.cc — the vmmouse as a real guest uses it: Debian 12's i386 kernel
 * (tests/guests/make-linux-mouse-guest adds its psmouse and evdev modules) runs in the
 * dbt86 binary, its psmouse driver finds the VMware VMMouse behind the backdoor and
 * switches it to absolute mode, and QMP's input-send-event moves the pointer. The guest
 * prints every event of the absolute input device (/dev/input/eventN), and the test
 * wants exactly what the same guest reports under qemu-system-i386 for the same QMP
 * commands (recorded once: `-cpu qemu32,-hypervisor -smbios type=1,serial=VMware-...`).
 *
 * The window test moves the X pointer over the SDL window under Xvfb with xdotool (no
 * click, no grab) and wants the guest to see the matching absolute position, with the
 * window at the guest's size and enlarged (integer scaling plus a letterbox margin).
 *
 * Linux uses the VMMouse only on a VMware or KVM hypervisor; without the CPUID
 * hypervisor bit (dbt86 has none), it takes a DMI serial number containing "VMware"
 * plus a working backdoor as VMware, hence -smbios type=1,serial=VMware-dbt86.
 */
#include <gtest/gtest.h>

#include <regex>
#include <sys/stat.h>

#include "monitor_util.h"

namespace {

std::string cache_dir() { return std::string(DBT86_SOURCE_ROOT) + "/guests-cache"; }

#define PREPARE_OR_SKIP(script)                                                        \
    do {                                                                               \
        std::string log_;                                                              \
        int rc_ = run_cmd(std::string(DBT86_SOURCE_ROOT) + "/tests/guests/" + script + \
                              " '" + cache_dir() + "'",                                \
                          &log_);                                                      \
        if (rc_ == 77) GTEST_SKIP() << script << " cannot build the guest:\n" << log_; \
        ASSERT_EQ(rc_, 0) << script << " failed:\n" << log_;                           \
    } while (0)

/* Sanitizer builds boot several times slower. */
#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlow = 8;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kSlow = 8;
#else
constexpr double kSlow = 1;
#endif
#else
constexpr double kSlow = 1;
#endif

struct Qmp : SockClient {
    std::string exec(const std::string &json)
    {
        send_str(json);
        for (;;) {
            std::string l = read_until("\r\n", 20);
            if (l.empty() || l.rfind("{\"timestamp\"", 0) != 0) return l; // skip events
        }
    }
};

void start_guest(Dbt86Proc &p, const std::vector<std::string> &extra)
{
    std::vector<std::string> a = {
        "-m", "256", "-kernel", cache_dir() + "/vmlinuz", "-initrd",
        cache_dir() + "/initrd-mouse.gz", "-append", "console=ttyS0 dbt86.mouse=1",
        "-display", "none", "-serial", "file:" + p.serial, "-no-reboot",
        "-qmp", "unix:" + p.qmp + ",server,nowait", "-timeout", std::to_string(int(300 * kSlow))};
    a.insert(a.end(), extra.begin(), extra.end());
    ASSERT_TRUE(p.start(a));
}

struct Ev {
    unsigned type, code;
    int32_t value;
    bool operator==(const Ev &o) const
    {
        return type == o.type && code == o.code && value == o.value;
    }
};

std::ostream &operator<<(std::ostream &os, const Ev &e)
{
    return os << "{" << e.type << ", 0x" << std::hex << e.code << ", 0x" << e.value << std::dec
              << "}";
}

/* "EV" lines: struct input_event on i386 as 32 hex digits (timeval, type, code, value,
 * little-endian). */
std::vector<Ev> events(const std::string &serial)
{
    std::vector<Ev> out;
    std::regex re("EV ([0-9a-f]{32})");
    for (auto it = std::sregex_iterator(serial.begin(), serial.end(), re);
         it != std::sregex_iterator(); ++it) {
        std::string h = (*it)[1];
        auto byte = [&](int i) { return (uint32_t)std::stoul(h.substr(2 * i, 2), nullptr, 16); };
        Ev e;
        e.type = byte(8) | byte(9) << 8;
        e.code = byte(10) | byte(11) << 8;
        e.value = (int32_t)(byte(12) | byte(13) << 8 | byte(14) << 16 | byte(15) << 24);
        out.push_back(e);
    }
    return out;
}

std::string abs_event(int x, int y)
{
    return "{\"execute\": \"input-send-event\", \"arguments\": {\"events\": ["
           "{\"type\": \"abs\", \"data\": {\"axis\": \"x\", \"value\": " + std::to_string(x) +
           "}}, {\"type\": \"abs\", \"data\": {\"axis\": \"y\", \"value\": " +
           std::to_string(y) + "}}]}}";
}

TEST(VmmouseGuest, LinuxFollowsAbsolutePointerFromQmp)
{
    PREPARE_OR_SKIP("make-linux-mouse-guest");
    Dbt86Proc p;
    start_guest(p, {"-smbios", "type=1,serial=VMware-dbt86"});
    Qmp q;
    ASSERT_TRUE(q.connect_to(p.qmp)) << p.out_text();
    ASSERT_NE(q.read_until("\r\n", 20), "");
    ASSERT_EQ(q.exec("{\"execute\": \"qmp_capabilities\"}"), "{\"return\": {}}\r\n");
    ASSERT_TRUE(p.wait_serial("MOUSE-READY", 240 * kSlow)) << p.serial_text();
    std::string s = p.serial_text();
    EXPECT_NE(s.find("Hypervisor detected: VMware"), std::string::npos) << s;
    EXPECT_NE(s.find("N: Name=\"VirtualPS/2 VMware VMMouse\""), std::string::npos) << s;
    EXPECT_NE(s.find("B: ABS=3"), std::string::npos) << s; // ABS_X and ABS_Y
    EXPECT_TRUE(std::regex_search(s, std::regex("MOUSE-READY event[0-9]+"))) << s;

    // bad input is refused and the connection stays usable
    EXPECT_NE(q.exec("{\"execute\": \"input-send-event\", \"arguments\": {\"events\": ["
                     "{\"type\": \"abs\", \"data\": {\"axis\": \"z\", \"value\": 1}}]}}")
                  .find("\"error\""),
              std::string::npos);
    EXPECT_NE(q.exec("{\"execute\": \"input-send-event\", \"arguments\": {\"events\": []}}")
                  .find("\"error\""),
              std::string::npos);
    // two positions, the right button, then HMP's left click that ends the guest's loop
    ASSERT_EQ(q.exec(abs_event(0x1000, 0x2000)), "{\"return\": {}}\r\n");
    ASSERT_TRUE(p.wait_serial("EV ", 60 * kSlow, 3)) << p.serial_text();
    ASSERT_EQ(q.exec(abs_event(0x7fff, 0)), "{\"return\": {}}\r\n");
    ASSERT_TRUE(p.wait_serial("EV ", 60 * kSlow, 6)) << p.serial_text();
    // HMP relative motion goes to the driver's relative twin device, not this one
    EXPECT_EQ(q.exec("{\"execute\": \"human-monitor-command\", \"arguments\": "
                     "{\"command-line\": \"mouse_move 5 -3\"}}"),
              "{\"return\": \"\"}\r\n");
    EXPECT_EQ(q.exec("{\"execute\": \"human-monitor-command\", \"arguments\": "
                     "{\"command-line\": \"mouse_move 1\"}}"),
              "{\"return\": \"mouse_move: expected dx dy [dz]\\n\"}\r\n");
    ASSERT_EQ(q.exec("{\"execute\": \"input-send-event\", \"arguments\": {\"events\": ["
                     "{\"type\": \"btn\", \"data\": {\"button\": \"right\", \"down\": true}}]}}"),
              "{\"return\": {}}\r\n");
    ASSERT_TRUE(p.wait_serial("EV ", 60 * kSlow, 8)) << p.serial_text();
    ASSERT_EQ(q.exec("{\"execute\": \"human-monitor-command\", \"arguments\": "
                     "{\"command-line\": \"mouse_button 1\"}}"),
              "{\"return\": \"\"}\r\n");
    ASSERT_TRUE(p.wait_serial("MOUSE-DONE", 60 * kSlow)) << p.serial_text();
    EXPECT_EQ(p.wait(120 * kSlow), 0) << p.out_text();

    // what the same guest prints under qemu-system-i386 for the same commands:
    // ABS_X/ABS_Y = QMP value * 2, a SYN_REPORT after each, BTN_RIGHT pressed, then
    // BTN_LEFT pressed (mouse_button 1 also releases the right one, reported after it)
    const std::vector<Ev> want = {{3, 0, 0x2000}, {3, 1, 0x4000}, {0, 0, 0},
                                  {3, 0, 0xfffe}, {3, 1, 0},      {0, 0, 0},
                                  {1, 0x111, 1},  {0, 0, 0},      {1, 0x110, 1}};
    EXPECT_EQ(events(p.serial_text()), want) << p.serial_text();
}

// -machine vmport=off: no backdoor, so Linux finds a plain PS/2 mouse and no absolute
// device (the same guest and options otherwise).
TEST(VmmouseGuest, VmportOffLeavesAPlainPs2Mouse)
{
    PREPARE_OR_SKIP("make-linux-mouse-guest");
    Dbt86Proc p;
    start_guest(p, {"-smbios", "type=1,serial=VMware-dbt86", "-machine", "pc,vmport=off"});
    ASSERT_TRUE(p.wait_serial("MOUSE-DONE", 240 * kSlow)) << p.serial_text();
    std::string s = p.serial_text();
    EXPECT_EQ(s.find("VMMouse"), std::string::npos) << s;
    EXPECT_EQ(s.find("Hypervisor detected: VMware"), std::string::npos) << s;
    EXPECT_NE(s.find("MOUSE-READY none"), std::string::npos) << s;
    EXPECT_NE(s.find("PS/2 Generic Mouse"), std::string::npos) << s;
    EXPECT_EQ(p.wait(120 * kSlow), 0) << p.out_text();
}

bool have(const char *prog)
{
    return run_cmd(std::string("command -v ") + prog + " >/dev/null 2>&1") == 0;
}

std::string capture(const std::string &cmd)
{
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

/* The last value the guest reported for an axis (-1: none). */
int32_t last_abs(const std::vector<Ev> &ev, unsigned code)
{
    int32_t v = -1;
    for (const Ev &e : ev)
        if (e.type == 3 && e.code == code) v = e.value;
    return v;
}

/* An X server of its own (Xvfb) for the window test. */
struct Xvfb {
    pid_t pid = -1;
    bool start()
    {
        int n = 0;
        for (int k = 170 + getpid() % 100; k < 500; k++) {
            struct stat st;
            if (stat(("/tmp/.X" + std::to_string(k) + "-lock").c_str(), &st) != 0 &&
                stat(("/tmp/.X11-unix/X" + std::to_string(k)).c_str(), &st) != 0) {
                n = k;
                break;
            }
        }
        if (!n) return false;
        std::string display = ":" + std::to_string(n);
        pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execlp("Xvfb", "Xvfb", display.c_str(), "-screen", "0", "1600x1000x24", "-nolisten",
                   "tcp", (char *)nullptr);
            _exit(127);
        }
        std::string sock = "/tmp/.X11-unix/X" + std::to_string(n);
        for (int i = 0; i < 200; i++) {
            struct stat st;
            if (stat(sock.c_str(), &st) == 0) break;
            sleep_s(0.05);
        }
        setenv("DISPLAY", display.c_str(), 1);
        return true;
    }
    ~Xvfb()
    {
        if (pid > 0) {
            kill(pid, SIGTERM);
            waitpid(pid, nullptr, 0);
        }
    }
};

TEST(VmmouseGuest, SdlWindowSendsPointerPositionsWithoutGrab)
{
    if (run_cmd(dbt86_bin() + " -display sdl -version") != 0)
        GTEST_SKIP() << "dbt86 was built without SDL2 (libsdl2-dev)";
    if (!have("Xvfb") || !have("xdotool"))
        GTEST_SKIP() << "needs Xvfb and xdotool (apt-get install xvfb xdotool)";
    PREPARE_OR_SKIP("make-linux-mouse-guest");
    Xvfb x;
    ASSERT_TRUE(x.start());
    Dbt86Proc p;
    start_guest(p, {"-smbios", "type=1,serial=VMware-dbt86", "-display", "sdl"});
    ASSERT_TRUE(p.wait_serial("MOUSE-READY event", 240 * kSlow)) << p.serial_text();
    std::string win;
    for (int i = 0; i < 200 && win.empty(); i++) {
        win = capture("xdotool search --name '^dbt86' 2>/dev/null | head -1");
        if (win.empty()) sleep_s(0.05);
    }
    ASSERT_FALSE(win.empty()) << p.out_text();
    // the title says the pointer is absolute (the guest turned it on before MOUSE-READY)
    std::string title;
    for (int i = 0; i < 100; i++) {
        title = capture("xdotool getwindowname " + win);
        if (title.find("absolute mouse") != std::string::npos) break;
        sleep_s(0.05);
    }
    EXPECT_NE(title.find("absolute mouse"), std::string::npos) << title;
    // the window is the guest's picture, unscaled
    std::smatch m;
    std::string geo = capture("xdotool getwindowgeometry " + win);
    ASSERT_TRUE(std::regex_search(geo, m, std::regex("Geometry: ([0-9]+)x([0-9]+)"))) << geo;
    int w = std::stoi(m[1]), h = std::stoi(m[2]);
    ASSERT_GT(w, 100);
    ASSERT_GT(h, 100);
    auto want = [](int v, int size) { return (int32_t)((int64_t)v * 0xffff / (size - 1)); };

    // 1. unscaled: a pointer move over the window, no click
    capture("xdotool mousemove --window " + win + " 100 50");
    ASSERT_TRUE(p.wait_serial("EV ", 30 * kSlow, 3)) << p.serial_text();
    for (int i = 0; i < 100 && last_abs(events(p.serial_text()), 1) != want(50, h); i++)
        sleep_s(0.05);
    EXPECT_EQ(last_abs(events(p.serial_text()), 0), want(100, w)) << p.serial_text();
    EXPECT_EQ(last_abs(events(p.serial_text()), 1), want(50, h)) << p.serial_text();
    title = capture("xdotool getwindowname " + win);
    EXPECT_EQ(title.find("release grab"), std::string::npos) << title; // no grab

    // 2. enlarged: integer scale 2 with a 30-pixel margin left and right
    capture("xdotool windowsize --sync " + win + " " + std::to_string(2 * w + 60) + " " +
            std::to_string(2 * h));
    sleep_s(0.5); // SDL sees the new size
    capture("xdotool mousemove --window " + win + " " + std::to_string(30 + 2 * 300) + " " +
            std::to_string(2 * 200));
    for (int i = 0; i < 200 && last_abs(events(p.serial_text()), 0) != want(300, w); i++)
        sleep_s(0.05);
    for (int i = 0; i < 100 && last_abs(events(p.serial_text()), 1) != want(200, h); i++)
        sleep_s(0.05);
    EXPECT_EQ(last_abs(events(p.serial_text()), 0), want(300, w)) << p.serial_text();
    EXPECT_EQ(last_abs(events(p.serial_text()), 1), want(200, h)) << p.serial_text();
    // in the margin: clamped to the picture's left edge
    capture("xdotool mousemove --window " + win + " 10 " + std::to_string(2 * 200));
    for (int i = 0; i < 200 && last_abs(events(p.serial_text()), 0) != 0; i++) sleep_s(0.05);
    EXPECT_EQ(last_abs(events(p.serial_text()), 0), 0) << p.serial_text();

    // 3. a click reaches the guest as a button (and still grabs nothing)
    capture("xdotool click --window " + win + " 1");
    ASSERT_TRUE(p.wait_serial("MOUSE-DONE", 60 * kSlow)) << p.serial_text();
    EXPECT_EQ(events(p.serial_text()).back(), (Ev{1, 0x110, 1}));
    title = capture("xdotool getwindowname " + win);
    EXPECT_EQ(title.find("release grab"), std::string::npos) << title;
    EXPECT_EQ(p.wait(120 * kSlow), 0) << p.out_text();
}

} // namespace
