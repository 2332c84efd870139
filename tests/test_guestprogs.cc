/*
 * test_guestprogs.cc — the CPU seen from a real user process: the programs in
 * tests/guests/progs/ (integer, x87, MMX, SSE, SSE2, SSE3 and system-call edge cases,
 * built with `gcc -m32 -static` by tests/guests/make-guest-progs) run natively on the
 * host and inside the emulated PC under Debian's i386 kernel, all in one boot
 * (init-test with dbt86.progs=1); each program's output, which prints results and
 * flags in hex, must be byte-for-byte the same. A difference is a CPU bug (the
 * programs mask what the manuals leave undefined); the failure shows a unified diff.
 * Skips when gcc-multilib is missing or the guest packages cannot be fetched, and
 * under sanitizers (the boot alone would take many minutes there).
 */
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "guest_util.h"

namespace {

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

struct ProgRun {
    std::string out;
    int rc = -1;
};

/* Everything the suite needs, made once: the programs, their native runs, the boot. */
struct Suite {
    std::string skip, error;
    std::string outdir, serial, cpu_flags;
    std::vector<std::string> names;
    std::map<std::string, ProgRun> native, guest;
    bool host_sse3 = false;
};

Suite *g_suite = nullptr;

std::string cache_dir() { return std::string(DBT86_SOURCE_ROOT) + "/guests-cache"; }

std::vector<std::string> list_dir(const std::string &dir)
{
    std::vector<std::string> v;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            std::string n = e->d_name;
            if (n[0] != '.' && n.find('.') == std::string::npos) v.push_back(n);
        }
        closedir(d);
    }
    std::sort(v.begin(), v.end());
    return v;
}

std::string strip_cr(const std::string &s)
{
    std::string o;
    o.reserve(s.size());
    for (char c : s)
        if (c != '\r') o += c;
    return o;
}

/* "=== PROG name ===\n" output "=== END name rc=N ===" blocks from the console */
void parse_guest(Suite &s)
{
    std::string text = strip_cr(s.serial);
    size_t pos = 0;
    for (;;) {
        size_t b = text.find("=== PROG ", pos);
        if (b == std::string::npos) break;
        size_t eol = text.find(" ===\n", b);
        if (eol == std::string::npos) break;
        std::string name = text.substr(b + 9, eol - (b + 9));
        size_t start = eol + 5;
        std::string end_marker = "=== END " + name + " rc=";
        size_t e = text.find(end_marker, start);
        if (e == std::string::npos) {
            s.guest[name] = {text.substr(start), -1}; /* cut short */
            break;
        }
        s.guest[name] = {text.substr(start, e - start), atoi(text.c_str() + e + end_marker.size())};
        pos = e;
    }
    size_t f = text.find("flags\t\t: ");
    if (f != std::string::npos) s.cpu_flags = text.substr(f, text.find('\n', f) - f) + " ";
}

void build_suite(Suite &s)
{
    if (kSanitized) {
        s.skip = "booting Linux takes too long under the sanitizers";
        return;
    }
    s.outdir = std::string(DBT86_BUILD_ROOT) + "/guestprogs";
    std::string log;
    int rc = run_cmd(std::string(DBT86_SOURCE_ROOT) + "/tests/guests/make-guest-progs '" +
                         cache_dir() + "' '" + s.outdir + "'",
                     &log);
    if (rc == 77) {
        s.skip = "make-guest-progs cannot build the programs or the guest:\n" + log;
        return;
    }
    if (rc != 0) {
        s.error = "make-guest-progs failed:\n" + log;
        return;
    }
    s.names = list_dir(s.outdir + "/progs");
    std::string cpuinfo = read_file("/proc/cpuinfo");
    s.host_sse3 = cpuinfo.find(" pni") != std::string::npos;
    for (const std::string &n : s.names) {
        if (n == "sse3" && !s.host_sse3) continue;
        ProgRun &r = s.native[n];
        r.rc = run_cmd("'" + s.outdir + "/progs/" + n + "'", &r.out);
    }

    /* One boot runs them all. */
    GuestRun g;
    g.cfg.ram_mb = 256;
    g.cfg.no_reboot = true;
    std::string kernel = cache_dir() + "/vmlinuz", initrd = s.outdir + "/initrd-progs.gz";
    g.cfg.kernel = kernel.c_str();
    g.cfg.initrd = initrd.c_str();
    g.cfg.append = "console=ttyS0 panic=-1 cryptomgr.notests dbt86.progs=1";
    if (!g.create()) {
        s.error = "machine_create: " + g.err;
        return;
    }
    auto t0 = std::chrono::steady_clock::now();
    g.run(200); /* virtual seconds; ends at the guest's power-off */
    printf("[ guestprogs] boot and programs: %.2f s virtual, %.1f s host\n",
           machine_now_ns(g.m) / 1e9,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    s.serial = g.serial;
    if (g.serial.find("WORK-DONE") == std::string::npos ||
        !(g.m->exit_requested && g.m->exit.kind == MEXIT_POWEROFF))
        s.error = "the guest did not finish its programs and power off (exit requested " +
                  std::to_string(g.m->exit_requested) + ", kind " +
                  std::to_string((int)g.m->exit.kind) + "); console:\n" +
                  (g.serial.size() > 4000 ? "..." + g.serial.substr(g.serial.size() - 4000)
                                          : g.serial);
    parse_guest(s);
}

class GuestProgs : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        if (!g_suite) {
            g_suite = new Suite;
            build_suite(*g_suite);
        }
    }
    void SetUp() override
    {
        if (!g_suite->skip.empty()) GTEST_SKIP() << g_suite->skip;
        ASSERT_TRUE(g_suite->error.empty()) << g_suite->error;
    }

    /* The unified diff of native vs guest output (first differences only). */
    static std::string udiff(const std::string &name, const std::string &a, const std::string &b)
    {
        std::string dir = g_suite->outdir;
        std::string fa = dir + "/" + name + ".native", fb = dir + "/" + name + ".guest";
        FILE *f = fopen(fa.c_str(), "w");
        if (f) fwrite(a.data(), 1, a.size(), f), fclose(f);
        f = fopen(fb.c_str(), "w");
        if (f) fwrite(b.data(), 1, b.size(), f), fclose(f);
        std::string d;
        run_cmd("diff -u '" + fa + "' '" + fb + "' | head -60", &d);
        return d + "(full outputs: " + fa + " and " + fb + ")";
    }

    static void compare(const std::string &name)
    {
        Suite &s = *g_suite;
        ASSERT_TRUE(s.native.count(name)) << name << " was not built";
        const ProgRun &n = s.native[name];
        /* the program itself must have run to its end natively */
        ASSERT_EQ(n.rc, 0) << name << " failed natively:\n" << n.out;
        ASSERT_NE(n.out.find(name + " done\n"), std::string::npos) << n.out;
        ASSERT_TRUE(s.guest.count(name)) << name << " did not run in the guest";
        const ProgRun &g = s.guest[name];
        EXPECT_EQ(g.rc, 0) << name << " exit status in the guest";
        EXPECT_TRUE(n.out == g.out) << name << ": guest output differs from the host's:\n"
                                    << udiff(name, n.out, g.out);
    }
};

const std::set<std::string> kNamed = {"int", "x87", "mmx", "sse", "sse2", "sse3", "sys"};

} // namespace

TEST_F(GuestProgs, Integer) { compare("int"); }
TEST_F(GuestProgs, X87) { compare("x87"); }
TEST_F(GuestProgs, Mmx) { compare("mmx"); }
TEST_F(GuestProgs, Sse) { compare("sse"); }
TEST_F(GuestProgs, Sse2) { compare("sse2"); }
TEST_F(GuestProgs, SystemCalls) { compare("sys"); }

/* Runs by itself once the emulated CPU advertises SSE3 ("pni") in CPUID. */
TEST_F(GuestProgs, Sse3)
{
    if (!g_suite->host_sse3) GTEST_SKIP() << "the host CPU has no SSE3 to compare with";
    ASSERT_FALSE(g_suite->cpu_flags.empty()) << "no flags line from /proc/cpuinfo in the guest";
    if (g_suite->cpu_flags.find(" pni ") == std::string::npos)
        GTEST_SKIP() << "the emulated CPU does not advertise SSE3 (no \"pni\" in the guest's "
                        "/proc/cpuinfo): " << g_suite->cpu_flags;
    compare("sse3");
}

/* Any program added to tests/guests/progs/ without a test of its own is compared here,
 * and every program built must have run in the guest. */
TEST_F(GuestProgs, EveryProgramRan)
{
    Suite &s = *g_suite;
    EXPECT_GE(s.names.size(), kNamed.size());
    for (const std::string &n : s.names) {
        EXPECT_TRUE(s.guest.count(n)) << n << " did not run in the guest";
        if (!kNamed.count(n)) {
            SCOPED_TRACE(n);
            compare(n);
        }
    }
}
