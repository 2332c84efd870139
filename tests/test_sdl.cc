/*
 * test_sdl.cc — the SDL window (-display sdl) driven for real under Xvfb: the window's
 * pixels (read back with xwd) must equal the machine's own vga_render of the same
 * screen, and keys typed with xdotool must reach a guest that echoes INT 16h keys to
 * COM1. The hotkeys (pause, reset, power button, screenshot, clipboard paste with
 * xclip, quit), key repeat, keys released on focus loss, and the window as the
 * default display on a desktop only. Skips when dbt86 lacks SDL or Xvfb/xdotool/xwd
 * are not installed (the paste test when xclip is not).
 */
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <zlib.h>

#include <algorithm>

#include "guest_util.h"
#include "png_util.h"

extern "C" {
#include "devices/i8042.h"
#include "devices/vga.h"
}

namespace {

/* Boot sector: prints "dbt86 key echo", writes 'R' to COM1, then waits with sti/hlt
 * and each time round: if the ACPI power button status (PM1_STS bit 8 at the PM base
 * from 00:01.3's config register 0x40) is set, clears it and writes 'P'; echoes every
 * INT 16h key to COM1; on 't' starts a ticker (the BIOS tick count's low 6 bits + '0'
 * at row 1, column 0, redrawn at every wake-up); on 'g' switches to mode 13h
 * (320x200x256), fills the screen with (offset ^ offset >> 8) and writes 'G'; on 'q'
 * writes 0 to port 0xF4 (isa-debug-exit). Assembled with nasm from:
 *   xor ax,ax / mov ds,ax / mov ss,ax / mov sp,7c00h / mov si,msg / .p: lodsb /
 *   test al,al / jz .r / mov ah,0eh / mov bx,7 / int 10h / jmp .p /
 *   .r: mov eax,80000b40h / mov dx,0cf8h / out dx,eax / mov dl,0fch / in eax,dx /
 *   and ax,0ffc0h / mov [pmbase],ax / mov dx,3f8h / mov al,'R' / out dx,al /
 *   .k: sti / hlt / cmp byte [ticker],0 / je .pm / push es / mov ax,0b800h /
 *   mov es,ax / mov al,[46ch] / and al,3fh / add al,30h / mov ah,7 / mov [es:160],ax /
 *   pop es / .pm: mov dx,[pmbase] / test dx,dx / jz .kb / in ax,dx / test ax,100h /
 *   jz .kb / mov ax,100h / out dx,ax / mov dx,3f8h / mov al,'P' / out dx,al /
 *   .kb: mov ah,1 / int 16h / jz .k / mov ah,0 / int 16h / mov dx,3f8h / out dx,al /
 *   cmp al,'t' / jne .ng / mov byte [ticker],1 / .ng: cmp al,'g' / jne .nq /
 *   mov ax,13h / int 10h / mov ax,0a000h / mov es,ax / xor di,di / mov cx,64000 /
 *   .f: mov ax,di / xor al,ah / stosb / loop .f / mov dx,3f8h / mov al,'G' /
 *   out dx,al / jmp .k / .nq: cmp al,'q' / jne .k / mov dx,0f4h / mov al,0 /
 *   out dx,al / .h: hlt / jmp .h / msg: db "dbt86 key echo",0 / pmbase: dw 0 /
 *   ticker: db 0 */
const uint8_t ECHO_CODE[] = {
    0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, 0xbe, 0xb0, 0x7c,
    0xac, 0x84, 0xc0, 0x74, 0x09, 0xb4, 0x0e, 0xbb, 0x07, 0x00, 0xcd, 0x10,
    0xeb, 0xf2, 0x66, 0xb8, 0x40, 0x0b, 0x00, 0x80, 0xba, 0xf8, 0x0c, 0x66,
    0xef, 0xb2, 0xfc, 0x66, 0xed, 0x83, 0xe0, 0xc0, 0xa3, 0xbf, 0x7c, 0xba,
    0xf8, 0x03, 0xb0, 0x52, 0xee, 0xfb, 0xf4, 0x80, 0x3e, 0xc1, 0x7c, 0x00,
    0x74, 0x14, 0x06, 0xb8, 0x00, 0xb8, 0x8e, 0xc0, 0xa0, 0x6c, 0x04, 0x24,
    0x3f, 0x04, 0x30, 0xb4, 0x07, 0x26, 0xa3, 0xa0, 0x00, 0x07, 0x8b, 0x16,
    0xbf, 0x7c, 0x85, 0xd2, 0x74, 0x10, 0xed, 0xa9, 0x00, 0x01, 0x74, 0x0a,
    0xb8, 0x00, 0x01, 0xef, 0xba, 0xf8, 0x03, 0xb0, 0x50, 0xee, 0xb4, 0x01,
    0xcd, 0x16, 0x74, 0xc5, 0xb4, 0x00, 0xcd, 0x16, 0xba, 0xf8, 0x03, 0xee,
    0x3c, 0x74, 0x75, 0x05, 0xc6, 0x06, 0xc1, 0x7c, 0x01, 0x3c, 0x67, 0x75,
    0x1e, 0xb8, 0x13, 0x00, 0xcd, 0x10, 0xb8, 0x00, 0xa0, 0x8e, 0xc0, 0x31,
    0xff, 0xb9, 0x00, 0xfa, 0x89, 0xf8, 0x30, 0xe0, 0xaa, 0xe2, 0xf9, 0xba,
    0xf8, 0x03, 0xb0, 0x47, 0xee, 0xeb, 0x92, 0x3c, 0x71, 0x75, 0x8e, 0xba,
    0xf4, 0x00, 0xb0, 0x00, 0xee, 0xf4, 0xeb, 0xfd, 0x64, 0x62, 0x74, 0x38,
    0x36, 0x20, 0x6b, 0x65, 0x79, 0x20, 0x65, 0x63, 0x68, 0x6f, 0x00, 0x00,
    0x00, 0x00};

bool have(const char *prog)
{
    return system((std::string("command -v ") + prog + " >/dev/null 2>&1").c_str()) == 0;
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
    return out;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

/* Decodes an XWD dump (ZPixmap, 24/32 bpp TrueColor) into 0x00RRGGBB pixels. */
bool parse_xwd(const std::string &d, int *w, int *h, std::vector<uint32_t> *px)
{
    if (d.size() < 100) return false;
    uint32_t hsize = be32(d, 0), format = be32(d, 8), width = be32(d, 16),
             height = be32(d, 20), order = be32(d, 28), bpp = be32(d, 44),
             bpl = be32(d, 48), rmask = be32(d, 56), gmask = be32(d, 60),
             bmask = be32(d, 64), ncolors = be32(d, 76);
    if (format != 2 || bpp != 32 || rmask != 0xff0000 || gmask != 0xff00 || bmask != 0xff)
        return false;
    size_t off = hsize + (size_t)ncolors * 12;
    if (d.size() < off + (size_t)bpl * height) return false;
    px->resize((size_t)width * height);
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++) {
            const uint8_t *p = (const uint8_t *)d.data() + off + (size_t)y * bpl + x * 4;
            uint32_t v = order == 0 ? (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24
                                    : (uint32_t)p[3] | p[2] << 8 | p[1] << 16 | (uint32_t)p[0] << 24;
            (*px)[(size_t)y * width + x] = v & 0xffffff;
        }
    *w = (int)width;
    *h = (int)height;
    return true;
}

class SdlWindow : public ::testing::Test {
protected:
    pid_t xvfb = -1, emu = -1;
    std::string display, dir, disk, serial;

    void SetUp() override
    {
        if (run_cmd(dbt86_bin() + " -display sdl -version") != 0)
            GTEST_SKIP() << "dbt86 was built without SDL2 (libsdl2-dev)";
        if (!have("Xvfb") || !have("xdotool") || !have("xwd"))
            GTEST_SKIP() << "needs Xvfb, xdotool and xwd (apt-get install xvfb xdotool x11-apps)";
        char tmpl[] = "/tmp/dbt86-sdl-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        disk = dir + "/echo.img";
        serial = dir + "/serial.txt";
        std::string img(512, '\0');
        memcpy(&img[0], ECHO_CODE, sizeof ECHO_CODE);
        img[510] = 0x55;
        img[511] = (char)0xaa;
        FILE *f = fopen(disk.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        fwrite(img.data(), 1, img.size(), f);
        fclose(f);
        /* a display number nobody uses: no lock file and no socket */
        int n = 0;
        for (int k = 70 + getpid() % 100; k < 400; k++) {
            struct stat st;
            if (stat(("/tmp/.X" + std::to_string(k) + "-lock").c_str(), &st) != 0 &&
                stat(("/tmp/.X11-unix/X" + std::to_string(k)).c_str(), &st) != 0) {
                n = k;
                break;
            }
        }
        ASSERT_NE(n, 0);
        display = ":" + std::to_string(n);
        xvfb = fork();
        if (xvfb == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execlp("Xvfb", "Xvfb", display.c_str(), "-screen", "0", "1024x768x24",
                   "-nolisten", "tcp", (char *)nullptr);
            _exit(127);
        }
        std::string sock = "/tmp/.X11-unix/X" + std::to_string(n);
        for (int i = 0; i < 100; i++) {
            struct stat st;
            if (stat(sock.c_str(), &st) == 0) break;
            sleep_ms(50);
        }
        setenv("DISPLAY", display.c_str(), 1);
    }

    void TearDown() override
    {
        if (emu > 0) {
            kill(emu, SIGKILL);
            waitpid(emu, nullptr, 0);
        }
        if (xvfb > 0) {
            kill(xvfb, SIGTERM);
            waitpid(xvfb, nullptr, 0);
        }
        if (!dir.empty()) system(("rm -rf " + dir).c_str());
    }

    /* Runs dbt86 on the echo guest in the directory dir; display: the -display
     * arguments (none: the default). */
    void start(std::vector<std::string> display = {"-display", "sdl"},
               std::vector<std::string> extra = {})
    {
        emu = fork();
        if (emu == 0) {
            if (chdir(dir.c_str()) != 0) _exit(127);
            int null = open("/dev/null", O_RDWR); /* -nographic's monitor stays quiet */
            dup2(null, 0);
            dup2(null, 1);
            std::vector<std::string> args = {dbt86_bin()};
            args.insert(args.end(), display.begin(), display.end());
            for (const char *a : {"-snapshot", "-hda"}) args.push_back(a);
            args.push_back(disk);
            args.push_back("-serial");
            args.push_back("file:" + serial);
            for (const char *a : {"-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                                  "-timeout", "60"})
                args.push_back(a);
            args.insert(args.end(), extra.begin(), extra.end());
            std::vector<char *> argv;
            for (auto &a : args) argv.push_back(&a[0]);
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }

    std::string window_name(const std::string &win)
    {
        std::string n = capture("xdotool getwindowname " + win + " 2>/dev/null");
        while (!n.empty() && n.back() == '\n') n.pop_back();
        return n;
    }

    /* The window's pixels, or an empty vector when xwd cannot read them now. */
    std::vector<uint32_t> grab(const std::string &win, int *w, int *h)
    {
        std::vector<uint32_t> px;
        for (int i = 0; i < 20; i++) {
            if (parse_xwd(capture("xwd -silent -id " + win), w, h, &px)) return px;
            sleep_ms(100);
        }
        return {};
    }

    /* Waits until COM1 shows exactly want. */
    bool wait_serial(const std::string &want, int ms = 10000)
    {
        for (int i = 0; i < ms / 50; i++) {
            if (read_file(serial) == want) return true;
            sleep_ms(50);
        }
        return read_file(serial) == want;
    }

    /* Waits until COM1 shows 'R' (the guest is reading keys) and the window exists. */
    std::string wait_ready()
    {
        for (int i = 0; i < 400; i++) {
            if (read_file(serial).find('R') != std::string::npos) {
                std::string w = capture("xdotool search --name '^dbt86' 2>/dev/null");
                if (!w.empty()) return w.substr(0, w.find('\n'));
            }
            sleep_ms(50);
        }
        return "";
    }

    /* Waits for the emulator to exit; returns its exit code or -1 on time-out. */
    int wait_exit(int ms)
    {
        for (int i = 0; i < ms / 20; i++) {
            int st;
            if (waitpid(emu, &st, WNOHANG) == emu) {
                emu = -1;
                return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
            }
            sleep_ms(20);
        }
        return -1;
    }

    /* Captures the window until it is w x h and equals want; returns differing pixels
     * (or SIZE_MAX when the size never matched). */
    size_t compare_window(const std::string &win, int ww, int wh,
                          const std::vector<uint32_t> &want, int *w, int *h)
    {
        size_t diff = SIZE_MAX;
        std::vector<uint32_t> got;
        for (int i = 0; i < 50; i++) {
            std::string dump = capture("xwd -silent -id " + win);
            diff = SIZE_MAX;
            if (!parse_xwd(dump, w, h, &got)) { /* xwd fails while the window resizes */
                sleep_ms(100);
                continue;
            }
            if (*w == ww && *h == wh) {
                diff = 0;
                for (size_t k = 0; k < got.size(); k++) diff += got[k] != want[k];
                if (diff == 0) break;
            }
            sleep_ms(100);
        }
        return diff;
    }

    void focus(const std::string &win)
    {
        capture("xdotool mousemove 5 5 windowfocus --sync " + win + " 2>&1");
    }
};

TEST_F(SdlWindow, ShowsExactlyWhatVgaRenders)
{
    /* the same guest in-process, stopped where the window's guest waits for a key */
    GuestRun g;
    g.cfg.ram_mb = 128;
    g.disk(disk);
    ASSERT_TRUE(g.create()) << g.err;
    for (int i = 0; i < 2000 && g.serial.find('R') == std::string::npos; i++)
        g.run(0.01);
    ASSERT_EQ(g.serial, "R");
    std::vector<uint32_t> want(1024 * 768);
    int ww = 0, wh = 0;
    ASSERT_EQ(vga_render(&g.m->vga, want.data(), 1024, 768, &ww, &wh), 0);
    ASSERT_EQ(ww, 720);
    ASSERT_EQ(wh, 400);
    want.resize((size_t)ww * wh);
    char text[8192];
    ASSERT_GT(vga_text_dump(&g.m->vga, text, sizeof text), 0);
    ASSERT_NE(std::string(text).find("dbt86 key echo"), std::string::npos) << text;

    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    /* the window refreshes within 16 ms of host time; allow a few seconds */
    int w = 0, h = 0;
    EXPECT_EQ(compare_window(win, ww, wh, want, &w, &h), 0u)
        << "pixels differ between the window and vga_render";
    EXPECT_EQ(w, 720);
    EXPECT_EQ(h, 400);
    /* sanity: the screen is not blank (text glyphs are there) */
    size_t lit = 0;
    for (uint32_t p : want) lit += p != 0;
    EXPECT_GT(lit, 1000u);
}

TEST_F(SdlWindow, FollowsAModeChangeTo320x200)
{
    GuestRun g;
    g.cfg.ram_mb = 128;
    g.disk(disk);
    ASSERT_TRUE(g.create()) << g.err;
    for (int i = 0; i < 2000 && g.serial.find('R') == std::string::npos; i++)
        g.run(0.01);
    ASSERT_EQ(g.serial, "R");
    const uint8_t make_g[] = {0x34}, break_g[] = {0xf0, 0x34};
    kbc_put_keycode(&g.m->kbc, make_g, 1);
    kbc_put_keycode(&g.m->kbc, break_g, 2);
    for (int i = 0; i < 500 && g.serial.find('G') == std::string::npos; i++)
        g.run(0.01);
    ASSERT_EQ(g.serial, "RgG");
    std::vector<uint32_t> want(1024 * 768);
    int ww = 0, wh = 0;
    ASSERT_EQ(vga_render(&g.m->vga, want.data(), 1024, 768, &ww, &wh), 0);
    ASSERT_EQ(ww, 320);
    ASSERT_EQ(wh, 200);
    want.resize((size_t)ww * wh);

    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    capture("xdotool key g 2>&1");
    for (int i = 0; i < 200 && read_file(serial) != "RgG"; i++) sleep_ms(50);
    ASSERT_EQ(read_file(serial), "RgG");
    int w = 0, h = 0;
    EXPECT_EQ(compare_window(win, ww, wh, want, &w, &h), 0u)
        << "the window does not show the 320x200 picture";
    EXPECT_EQ(w, 320);
    EXPECT_EQ(h, 200);
}

TEST_F(SdlWindow, TypedKeysReachTheGuest)
{
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    /* letters, Shift, digits, punctuation, editing keys, F1 (ASCII 0), and the
     * E0-prefixed keypad keys KP / and KP Enter */
    capture("xdotool key --delay 20 a shift+b c 1 space minus Return bracketleft "
            "semicolon apostrophe comma period slash grave backslash equal shift+2 Tab "
            "BackSpace Escape F1 KP_Divide KP_Enter KP_Multiply KP_Subtract q 2>&1");
    EXPECT_EQ(wait_exit(10000), 1); /* isa-debug-exit value 0 */
    EXPECT_EQ(read_file(serial), std::string("RaBc1 -\r[;',./`\\=@\t\b\x1b") +
                                     std::string("\0/\r*-q", 6));
}

TEST_F(SdlWindow, CtrlAltQQuitsWithoutTypingQ)
{
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    capture("xdotool key ctrl+alt+q 2>&1");
    EXPECT_EQ(wait_exit(10000), 0); /* MEXIT_QUIT, not the guest's debug-exit */
    EXPECT_EQ(read_file(serial), "R");
}

TEST_F(SdlWindow, TitleListsTheHotkeys)
{
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    std::string title = window_name(win);
    for (const char *k : {"F full screen", "G release mouse", "P pause", "R reset",
                          "D power button", "S screenshot", "V paste", "Q quit"})
        EXPECT_NE(title.find(k), std::string::npos) << k << " missing from: " << title;
}

TEST_F(SdlWindow, CtrlAltPPausesAndResumes)
{
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    /* the ticker makes the picture change five times a second while the guest runs */
    capture("xdotool key t 2>&1");
    ASSERT_TRUE(wait_serial("Rt"));
    int w = 0, h = 0;
    std::vector<uint32_t> a = grab(win, &w, &h);
    sleep_ms(700);
    std::vector<uint32_t> b = grab(win, &w, &h);
    ASSERT_FALSE(a.empty());
    EXPECT_NE(a, b) << "the ticker does not move: the test could not see a pause";
    capture("xdotool key ctrl+alt+p 2>&1");
    for (int i = 0; i < 100 && window_name(win).find("[paused]") == std::string::npos; i++)
        sleep_ms(50);
    EXPECT_NE(window_name(win).find("[paused]"), std::string::npos) << window_name(win);
    sleep_ms(300);
    a = grab(win, &w, &h);
    capture("xdotool key g 2>&1"); /* queued by the keyboard, not read while paused */
    sleep_ms(1000);
    b = grab(win, &w, &h);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a, b) << "the picture changed while paused";
    EXPECT_EQ(w, 720);
    EXPECT_EQ(read_file(serial), "Rt");
    capture("xdotool key ctrl+alt+p 2>&1");
    EXPECT_TRUE(wait_serial("RtgG")) << read_file(serial);
    EXPECT_EQ(window_name(win).find("[paused]"), std::string::npos) << window_name(win);
}

TEST_F(SdlWindow, CtrlAltRResetsTheMachine)
{
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    capture("xdotool key ctrl+alt+r 2>&1");
    /* the firmware boots the disk again: a second 'R', and no 'r' typed */
    EXPECT_TRUE(wait_serial("RR", 20000)) << read_file(serial);
}

TEST_F(SdlWindow, CtrlAltDPressesThePowerButton)
{
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    sleep_ms(300);
    EXPECT_EQ(read_file(serial), "R"); /* the status bit is clear until pressed */
    capture("xdotool key ctrl+alt+d 2>&1");
    EXPECT_TRUE(wait_serial("RP")) << read_file(serial);
}

TEST_F(SdlWindow, CtrlAltSWritesAPngOfTheScreen)
{
    GuestRun g;
    g.cfg.ram_mb = 128;
    g.disk(disk);
    ASSERT_TRUE(g.create()) << g.err;
    for (int i = 0; i < 2000 && g.serial.find('R') == std::string::npos; i++)
        g.run(0.01);
    std::vector<uint32_t> want(720 * 400);
    int ww = 0, wh = 0;
    ASSERT_EQ(vga_render(&g.m->vga, want.data(), 720, 400, &ww, &wh), 0);

    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    capture("xdotool key ctrl+alt+s 2>&1");
    std::string name;
    for (int i = 0; i < 100 && name.empty(); i++) {
        name = capture("cd " + dir + " && ls dbt86-*.png 2>/dev/null");
        sleep_ms(50);
    }
    ASSERT_FALSE(name.empty()) << "no dbt86-*.png in the working directory";
    name = name.substr(0, name.find('\n'));
    /* dbt86-YYYYmmdd-HHMMSS.png */
    EXPECT_EQ(name.size(), 25u) << name;
    EXPECT_EQ(name.find_first_not_of("0123456789", 6), 14u) << name;
    sleep_ms(200); /* written completely */
    int w = 0, h = 0;
    std::vector<uint32_t> px;
    ASSERT_TRUE(decode_png(read_file(dir + "/" + name), &w, &h, &px)) << "not a PNG";
    EXPECT_EQ(w, 720);
    EXPECT_EQ(h, 400);
    EXPECT_TRUE(px == want) << "the PNG differs from vga_render";
    EXPECT_NE(window_name(win).find("screenshot saved to " + name), std::string::npos)
        << window_name(win);
    EXPECT_EQ(read_file(serial), "R"); /* 's' did not reach the guest */
}

TEST_F(SdlWindow, HeldKeysAreReleasedWhenFocusIsLost)
{
    if (!have("xlogo")) GTEST_SKIP() << "needs xlogo (x11-apps) as a second window";
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    pid_t other = fork();
    if (other == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execlp("xlogo", "xlogo", "-geometry", "100x100+800+600", (char *)nullptr);
        _exit(127);
    }
    std::string ow;
    for (int i = 0; i < 100 && ow.empty(); i++) {
        ow = capture("xdotool search --class xlogo 2>/dev/null");
        sleep_ms(50);
    }
    ow = ow.substr(0, ow.find('\n'));
    if (ow.empty()) {
        kill(other, SIGTERM);
        waitpid(other, nullptr, 0);
        FAIL() << "xlogo's window did not appear";
    }
    focus(win);
    /* Shift goes down in dbt86's window, the focus moves away, Shift comes up there.
     * (SDL itself reports held keys as released when the focus goes; sdl.c's
     * release_all on FOCUS_LOST is the second line. Either way the guest must not
     * keep Shift down.) */
    capture("xdotool keydown shift 2>&1");
    sleep_ms(200);
    capture("xdotool windowfocus --sync " + ow + " 2>&1");
    sleep_ms(200);
    capture("xdotool keyup shift 2>&1");
    focus(win);
    sleep_ms(200);
    capture("xdotool key a 2>&1");
    kill(other, SIGTERM);
    waitpid(other, nullptr, 0);
    /* a stuck Shift would make it 'A' */
    EXPECT_TRUE(wait_serial("Ra")) << read_file(serial);
}

TEST_F(SdlWindow, HeldKeyRepeats)
{
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    focus(win);
    capture("xdotool keydown a 2>&1");
    sleep_ms(1500);
    capture("xdotool keyup a 2>&1");
    sleep_ms(500);
    std::string got = read_file(serial);
    /* the X server's auto-repeat (660 ms delay, then 25/s by default): many 'a's */
    EXPECT_GE(std::count(got.begin(), got.end(), 'a'), 5) << got;
    EXPECT_EQ(got.find_first_not_of("a", 1), std::string::npos) << got;
}

TEST_F(SdlWindow, CtrlAltVTypesTheClipboard)
{
    if (!have("xclip")) GTEST_SKIP() << "needs xclip (apt-get install xclip)";
    start();
    std::string win = wait_ready();
    ASSERT_FALSE(win.empty()) << "no window or no 'R' on COM1: " << read_file(serial);
    /* xclip keeps serving the selection in the background until someone else owns it */
    ASSERT_EQ(system("printf 'Hi, dbt86!\\n{~x} q' | xclip -selection clipboard "
                     ">/dev/null 2>&1"), 0);
    focus(win);
    capture("xdotool key ctrl+alt+v 2>&1");
    /* typed a key at a time, with Shift where needed; the guest's 'q' ends the run */
    EXPECT_EQ(wait_exit(20000), 1) << read_file(serial);
    EXPECT_EQ(read_file(serial), "RHi, dbt86!\r{~x} q");
    /* xclip ends with the X server in TearDown */
}

TEST_F(SdlWindow, WindowIsTheDefaultOnADesktopOnly)
{
    start({}); /* no -display, DISPLAY is set */
    std::string win = wait_ready();
    EXPECT_FALSE(win.empty()) << "no window by default: " << read_file(serial);
    kill(emu, SIGKILL);
    waitpid(emu, nullptr, 0);
    emu = -1;
    /* -nographic: never a window */
    unlink(serial.c_str());
    start({"-nographic"});
    ASSERT_TRUE(wait_serial("R", 20000));
    sleep_ms(500);
    EXPECT_EQ(capture("xdotool search --name '^dbt86' 2>/dev/null"), "");
    kill(emu, SIGKILL);
    waitpid(emu, nullptr, 0);
    emu = -1;
    /* no DISPLAY: headless, no error */
    std::string out;
    EXPECT_EQ(run_cmd("env -u DISPLAY -u WAYLAND_DISPLAY " + dbt86_bin() + " -snapshot -hda " +
                      disk + " -timeout 2", &out), 4) << out;
    EXPECT_EQ(out.find("display"), std::string::npos) << out;
}

} // namespace
