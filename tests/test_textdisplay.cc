/*
 * test_textdisplay.cc — -display text as a user sees it: dbt86 runs inside a
 * pseudo-terminal, its output is interpreted by a small terminal emulator (cursor
 * moves, erase, SGR colours, UTF-8, autowrap; any other sequence is an error) into a
 * screen grid, which must equal the machine's own text dump (-screenshot) at exit,
 * with the colours of each attribute byte and the guest's cursor. Keys written to the
 * terminal must reach the guest as the right INT 16h characters and scan codes.
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "guest_util.h"

namespace {

/* Boot sector: prints "dbt86 text display", fills rows 4-19, columns 0-15 with 'A'+column
 * in attribute (row - 4) * 16 + column (all 256 attributes), puts the cursor at row
 * 21, writes 'R' to COM1, then for every key read with INT 16h AH=10h writes its
 * ASCII and scan code to COM1 and prints it if printable; 'g' switches to mode 13h
 * and writes 'G', 'w' to the 40x25 text mode, prints "wide" and writes 'W', 'c' counts
 * forever in the character at row 23, column 0, 'q' writes 0 to port 0xF4
 * (isa-debug-exit). Assembled with nasm from:
 *   xor ax,ax / mov ds,ax / mov ss,ax / mov sp,7c00h / mov si,msg / call puts /
 *   mov ax,0b800h / mov es,ax / xor bx,bx / .grid: mov di,bx / shr di,4 / add di,4 /
 *   imul di,di,160 / mov cx,bx / and cx,15 / shl cx,1 / add di,cx / mov al,bl /
 *   and al,15 / add al,'A' / mov ah,bl / stosw / inc bx / cmp bx,256 / jb .grid /
 *   mov ah,2 / xor bh,bh / mov dx,1500h / int 10h / mov dx,3f8h / mov al,'R' /
 *   out dx,al / .key: mov ah,10h / int 16h / mov dx,3f8h / out dx,al / xchg al,ah /
 *   out dx,al / xchg al,ah / cmp al,'q' / je .quit / cmp al,'g' / je .gfx /
 *   cmp al,'w' / je .wide / cmp al,'c' / je .count / cmp al,20h / jb .key /
 *   cmp al,7eh / ja .key /
 *   mov ah,0eh / mov bx,7 / int 10h / jmp .key / .gfx: mov ax,13h / int 10h /
 *   mov dx,3f8h / mov al,'G' / out dx,al / jmp .key / .wide: mov ax,1 / int 10h /
 *   mov si,wide / call puts / mov dx,3f8h / mov al,'W' / out dx,al / jmp .key /
 *   .count: mov ax,0b800h / mov es,ax / .c: inc byte [es:23*160] / jmp .c /
 *   .quit: mov dx,0f4h / xor al,al / out dx,al / .h: hlt / jmp .h /
 *   puts: lodsb / test al,al / jz .d / mov ah,0eh / mov bx,7 / int 10h / jmp puts /
 *   .d: ret / msg: db "dbt86 text display",0 / wide: db "wide",0 */
const uint8_t TEXT_GUEST[] = {
    0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, 0xbe, 0xbc, 0x7c,
    0xe8, 0x9e, 0x00, 0xb8, 0x00, 0xb8, 0x8e, 0xc0, 0x31, 0xdb, 0x89, 0xdf,
    0xc1, 0xef, 0x04, 0x83, 0xc7, 0x04, 0x69, 0xff, 0xa0, 0x00, 0x89, 0xd9,
    0x83, 0xe1, 0x0f, 0xd1, 0xe1, 0x01, 0xcf, 0x88, 0xd8, 0x24, 0x0f, 0x04,
    0x41, 0x88, 0xdc, 0xab, 0x43, 0x81, 0xfb, 0x00, 0x01, 0x72, 0xdb, 0xb4,
    0x02, 0x30, 0xff, 0xba, 0x00, 0x15, 0xcd, 0x10, 0xba, 0xf8, 0x03, 0xb0,
    0x52, 0xee, 0xb4, 0x10, 0xcd, 0x16, 0xba, 0xf8, 0x03, 0xee, 0x86, 0xc4,
    0xee, 0x86, 0xc4, 0x3c, 0x71, 0x74, 0x49, 0x3c, 0x67, 0x74, 0x19, 0x3c,
    0x77, 0x74, 0x22, 0x3c, 0x63, 0x74, 0x31, 0x3c, 0x20, 0x72, 0xdf, 0x3c,
    0x7e, 0x77, 0xdb, 0xb4, 0x0e, 0xbb, 0x07, 0x00, 0xcd, 0x10, 0xeb, 0xd2,
    0xb8, 0x13, 0x00, 0xcd, 0x10, 0xba, 0xf8, 0x03, 0xb0, 0x47, 0xee, 0xeb,
    0xc5, 0xb8, 0x01, 0x00, 0xcd, 0x10, 0xbe, 0xcf, 0x7c, 0xe8, 0x1d, 0x00,
    0xba, 0xf8, 0x03, 0xb0, 0x57, 0xee, 0xeb, 0xb2, 0xb8, 0x00, 0xb8, 0x8e,
    0xc0, 0x26, 0xfe, 0x06, 0x60, 0x0e, 0xeb, 0xf9, 0xba, 0xf4, 0x00, 0x30,
    0xc0, 0xee, 0xf4, 0xeb, 0xfd, 0xac, 0x84, 0xc0, 0x74, 0x09, 0xb4, 0x0e,
    0xbb, 0x07, 0x00, 0xcd, 0x10, 0xeb, 0xf2, 0xc3, 0x64, 0x62, 0x74, 0x38,
    0x36, 0x20, 0x74, 0x65, 0x78, 0x74, 0x20, 0x64, 0x69, 0x73, 0x70, 0x6c,
    0x61, 0x79, 0x00, 0x77, 0x69, 0x64, 0x65, 0x00};

/* A terminal as dbt86 may assume one: the sequences textdisplay.c is allowed to use. */
struct Cell {
    std::string ch = " ";
    int fg = -1, bg = -1; /* ANSI colour 0-15, -1 default */
    bool blink = false;
};

struct Term {
    int rows, cols;
    std::vector<Cell> g;
    int r = 0, c = 0;
    bool wrap_pending = false, cursor_visible = true;
    int fg = -1, bg = -1;
    bool blink = false;
    std::vector<std::string> errors;
    std::string pending; /* an incomplete sequence or UTF-8 character */

    Term(int rows_, int cols_) : rows(rows_), cols(cols_), g((size_t)rows_ * cols_) {}
    Cell &at(int row, int col) { return g[(size_t)row * cols + col]; }

    void scroll()
    {
        g.erase(g.begin(), g.begin() + cols);
        g.resize((size_t)rows * cols);
    }
    void newline()
    {
        if (r == rows - 1) scroll();
        else r++;
    }
    void put(const std::string &ch)
    {
        if (wrap_pending) {
            c = 0;
            newline();
            wrap_pending = false;
        }
        Cell &x = at(r, c);
        x.ch = ch;
        x.fg = fg;
        x.bg = bg;
        x.blink = blink;
        if (c == cols - 1) wrap_pending = true;
        else c++;
    }
    void sgr(const std::vector<int> &p)
    {
        if (p.empty()) fg = bg = -1, blink = false;
        for (int v : p) {
            if (v == 0) fg = bg = -1, blink = false;
            else if (v == 2) {} /* dim: only the help line uses it */
            else if (v == 5) blink = true;
            else if (v >= 30 && v <= 37) fg = v - 30;
            else if (v >= 90 && v <= 97) fg = v - 90 + 8;
            else if (v >= 40 && v <= 47) bg = v - 40;
            else if (v >= 100 && v <= 107) bg = v - 100 + 8;
            else errors.push_back("SGR " + std::to_string(v));
        }
    }
    /* Returns the bytes of s[i..] one sequence uses, 0 if incomplete. */
    size_t sequence(const std::string &s, size_t i)
    {
        if (i + 1 >= s.size()) return 0;
        if (s[i + 1] != '[') {
            errors.push_back("ESC " + std::string(1, s[i + 1]));
            return 2;
        }
        size_t j = i + 2;
        bool priv = j < s.size() && s[j] == '?';
        if (priv) j++;
        std::vector<int> p;
        std::string num;
        while (j < s.size() && (isdigit((unsigned char)s[j]) || s[j] == ';')) {
            if (s[j] == ';') {
                p.push_back(num.empty() ? 0 : std::stoi(num));
                num.clear();
            } else {
                num += s[j];
            }
            j++;
        }
        if (j >= s.size()) return 0;
        if (!num.empty() || !p.empty()) p.push_back(num.empty() ? 0 : std::stoi(num));
        char f = s[j];
        std::string seq = s.substr(i + 1, j - i);
        if (priv) {
            if (f == 'h' && p == std::vector<int>{25}) cursor_visible = true;
            else if (f == 'l' && p == std::vector<int>{25}) cursor_visible = false;
            else errors.push_back(seq);
        } else if (f == 'H') {
            int row = p.size() > 0 && p[0] ? p[0] : 1, col = p.size() > 1 && p[1] ? p[1] : 1;
            if (row > rows || col > cols) errors.push_back("CUP outside: " + seq);
            r = std::min(row, rows) - 1;
            c = std::min(col, cols) - 1;
            wrap_pending = false;
        } else if (f == 'J' && p == std::vector<int>{2}) {
            for (Cell &x : g) x = Cell{};
        } else if (f == 'K' && p == std::vector<int>{2}) {
            for (int k = 0; k < cols; k++) at(r, k) = Cell{};
        } else if (f == 'm') {
            sgr(p);
        } else {
            errors.push_back(seq);
        }
        return j + 1 - i;
    }
    void feed(const std::string &data)
    {
        std::string s = pending + data;
        pending.clear();
        size_t i = 0;
        while (i < s.size()) {
            unsigned char b = (unsigned char)s[i];
            if (b == 0x1b) {
                size_t n = sequence(s, i);
                if (!n) break;
                i += n;
            } else if (b == '\r') {
                c = 0;
                wrap_pending = false;
                i++;
            } else if (b == '\n') {
                newline();
                wrap_pending = false;
                i++;
            } else if (b < 0x20) {
                errors.push_back("control " + std::to_string(b));
                i++;
            } else {
                size_t len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
                if (i + len > s.size()) break;
                put(s.substr(i, len));
                i += len;
            }
        }
        pending = s.substr(i);
    }
    /* Rows 0..n-1 as text like vga_text_dump's: trailing blanks trimmed, trailing
     * blank lines dropped. */
    std::string text(int n) const
    {
        std::string out;
        for (int row = 0; row < n; row++) {
            std::string line;
            for (int k = 0; k < cols; k++) line += g[(size_t)row * cols + k].ch;
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out += line + "\n";
        }
        while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n')
            out.pop_back();
        return out;
    }
    std::string row(int n) const
    {
        std::string line;
        for (int k = 0; k < cols; k++) line += g[(size_t)n * cols + k].ch;
        while (!line.empty() && line.back() == ' ') line.pop_back();
        return line;
    }
};

/* dbt86 on a pseudo-terminal of rows x cols. */
class TextDisplay : public ::testing::Test {
protected:
    std::string dir, disk, serial, shot;
    pid_t pid = -1;
    int master = -1;
    std::string output;     /* every byte dbt86 wrote to the terminal */
    int exit_code = -1;

    void SetUp() override
    {
        char tmpl[] = "/tmp/dbt86-text-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        disk = dir + "/text.img";
        serial = dir + "/serial.txt";
        shot = dir + "/screen.txt";
        std::string img(512, '\0');
        memcpy(&img[0], TEXT_GUEST, sizeof TEXT_GUEST);
        img[510] = 0x55;
        img[511] = (char)0xaa;
        FILE *f = fopen(disk.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        fwrite(img.data(), 1, img.size(), f);
        fclose(f);
    }

    void TearDown() override
    {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        if (master >= 0) close(master);
        if (!dir.empty()) system(("rm -rf " + dir).c_str());
    }

    void start(std::vector<std::string> args, int rows = 25, int cols = 80)
    {
        struct winsize ws = {};
        ws.ws_row = (unsigned short)rows;
        ws.ws_col = (unsigned short)cols;
        args.insert(args.begin(), dbt86_bin());
        pid = forkpty(&master, nullptr, nullptr, &ws);
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            std::vector<char *> argv;
            for (auto &a : args) argv.push_back(&a[0]);
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }

    /* Reads the terminal for up to ms; stops early once dbt86 exited and its output
     * is drained, or when done() holds. */
    template <class F> bool pump(int ms, F done)
    {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < end) {
            if (done()) return true;
            struct pollfd p = {master, POLLIN, 0};
            if (poll(&p, 1, 20) > 0) {
                char buf[65536];
                ssize_t n = read(master, buf, sizeof buf);
                if (n > 0) {
                    output.append(buf, n);
                    continue;
                }
                if (pid < 0) return done(); /* EIO: the child side is closed */
            }
            if (pid > 0) {
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                    pid = -1;
                    exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                }
            }
        }
        return done();
    }
    void pump_ms(int ms)
    {
        pump(ms, [] { return false; });
    }
    bool wait_serial(const std::string &want, int ms = 20000)
    {
        return pump(ms, [&] { return read_file(serial) == want; });
    }
    int wait_exit(int ms = 20000)
    {
        pump(ms, [&] { return pid < 0; });
        pump(300, [] { return false; }); /* the rest of the output */
        return pid < 0 ? exit_code : -1;
    }
    void type(const std::string &bytes)
    {
        ASSERT_EQ(write(master, bytes.data(), bytes.size()), (ssize_t)bytes.size());
    }
    std::vector<std::string> guest_args()
    {
        return {"-display", "text", "-hda", disk, "-snapshot", "-serial", "file:" + serial,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-screenshot", shot,
                "-timeout", "60"};
    }
    Term screen(int rows = 25, int cols = 80)
    {
        Term t(rows, cols);
        t.feed(output);
        return t;
    }
    /* The picture dbt86 left at exit: without the final line feed that puts the
     * shell's prompt below it (and scrolls a terminal just as tall as the screen). */
    Term final_screen(int rows = 25, int cols = 80)
    {
        EXPECT_GE(output.size(), 2u);
        EXPECT_EQ(output.substr(output.size() - 2), "\r\n");
        Term t(rows, cols);
        t.feed(output.substr(0, output.size() - 2));
        return t;
    }
};

/* ANSI colour of VGA colour v: VGA bits are blue, green, red; ANSI's red, green, blue */
int ansi(int v) { return (v & 8) | (v & 1) << 2 | (v & 2) | (v & 4) >> 2; }

TEST_F(TextDisplay, DemoGuestScreenEqualsTheTextDump)
{
    start({"-display", "text", "-icount", "sleep=off", "-screenshot", shot, "-timeout", "120"});
    ASSERT_EQ(wait_exit(120000), 0) << output.substr(0, 2000);
    Term t = final_screen();
    EXPECT_TRUE(t.errors.empty()) << t.errors[0];
    std::string dump = read_file(shot);
    ASSERT_NE(dump.find("ALL CHECKS PASSED"), std::string::npos) << dump;
    EXPECT_EQ(t.text(25), dump);
    /* the whole screen was light grey on black (attribute 07) */
    EXPECT_EQ(t.at(0, 0).fg, 7);
    EXPECT_EQ(t.at(0, 0).bg, 0);
}

TEST_F(TextDisplay, ColoursCursorAndKeys)
{
    start(guest_args());
    ASSERT_TRUE(wait_serial("R")) << read_file(serial);
    /* letters, Shift, digits, space, punctuation; Up (CSI A), F1 (SS3 P), F5 (CSI 15~),
     * Ctrl-B, Ctrl-A Ctrl-A (a Ctrl-A for the guest), Tab, Backspace (DEL),
     * Shift+Tab (CSI Z), Alt+x (ESC x), Ctrl+Right (CSI 1;5C), Home (CSI H), Delete
     * (CSI 3~), F12 (CSI 24~), Linux console F2 (CSI [B), Esc alone, Enter */
    type("aB1 -\x1b[A\x1bOP\x1b[15~\x02\x01\x01\t\x7f\x1b[Z\x1bx\x1b[1;5C\x1b[H\x1b[3~"
         "\x1b[24~\x1b[[B");
    pump_ms(300);
    type("\x1b");
    pump_ms(300);
    type("\r!@");
    const std::string want = std::string("Ra\x1e" "B\x30" "1\x02" " \x39" "-\x0c"
                                         "\xe0\x48" "\x00\x3b" "\x00\x3f" "\x02\x30"
                                         "\x01\x1e" "\x09\x0f" "\x08\x0e" "\x00\x0f"
                                         "\x00\x2d" "\xe0\x74" "\xe0\x47" "\xe0\x53"
                                         "\x00\x86" "\x00\x3c" "\x1b\x01" "\x0d\x1c"
                                         "!\x02" "@\x03", 47);
    EXPECT_TRUE(wait_serial(want)) << testing::PrintToString(read_file(serial));
    pump_ms(300); /* the last redraw: at most 1/30 s later */
    Term t = screen();
    EXPECT_TRUE(t.errors.empty()) << t.errors[0];
    EXPECT_EQ(t.row(2), "dbt86 text display");
    /* every attribute: fg = bits 0-3, bg = bits 4-6, bit 7 blinks (the BIOS's mode 3
     * has blinking on) */
    for (int a = 0; a < 256; a++) {
        const Cell &x = t.at(4 + a / 16, a % 16);
        EXPECT_EQ(x.ch, std::string(1, (char)('A' + a % 16))) << a;
        EXPECT_EQ(x.fg, ansi(a & 15)) << "attribute " << a;
        EXPECT_EQ(x.bg, ansi(a >> 4 & 7)) << "attribute " << a;
        EXPECT_EQ(x.blink, (a & 0x80) != 0) << "attribute " << a;
    }
    /* the guest printed "aB1 -" then "!@" on row 21 (Enter is not printed): the
     * terminal's cursor is where the guest's is */
    EXPECT_EQ(t.row(21), "aB1 -!@");
    EXPECT_TRUE(t.cursor_visible);
    EXPECT_EQ(t.r, 21);
    EXPECT_EQ(t.c, 7);
    type("q");
    EXPECT_EQ(wait_exit(), 1); /* isa-debug-exit value 0 */
    t = final_screen();
    EXPECT_EQ(t.text(25), read_file(shot));
}

TEST_F(TextDisplay, OnlyChangedCellsAreRedrawn)
{
    start(guest_args());
    ASSERT_TRUE(wait_serial("R")) << read_file(serial);
    pump_ms(500);
    size_t before = output.size();
    ASSERT_GT(before, 2000u); /* the first picture: every cell */
    type("z");
    ASSERT_TRUE(wait_serial("Rz\x2c"));
    pump_ms(300);
    std::string delta = output.substr(before);
    /* one character and the cursor move: a full redraw would be kilobytes */
    EXPECT_LT(delta.size(), 64u) << testing::PrintToString(delta);
    EXPECT_NE(delta.find('z'), std::string::npos) << testing::PrintToString(delta);
    EXPECT_EQ(screen().row(21), "z");
}

TEST_F(TextDisplay, AtMostThirtyRedrawsPerSecond)
{
    /* 1 us per instruction: slices of guest time are short, so the main loop serves
     * the display far more often than 30 times a second */
    std::vector<std::string> args = guest_args();
    args.push_back("-icount");
    args.push_back("shift=10,sleep=off");
    start(args);
    ASSERT_TRUE(wait_serial("R")) << read_file(serial);
    type("c"); /* the guest now changes one cell as fast as it can */
    ASSERT_TRUE(wait_serial("Rc\x2e"));
    pump_ms(500);
    size_t from = output.size();
    auto t0 = std::chrono::steady_clock::now();
    pump_ms(2000);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    /* every redraw moves to the counting cell (row 24, column 1 for the terminal) */
    std::string part = output.substr(from);
    size_t redraws = 0;
    for (size_t p = part.find("\x1b[24;1H"); p != std::string::npos; p = part.find("\x1b[24;1H", p + 1))
        redraws++;
    EXPECT_LE(redraws, (size_t)(30 * s + 2)) << redraws << " redraws in " << s << " s";
    EXPECT_GE(redraws, (size_t)(10 * s)) << redraws << " redraws in " << s << " s";
}

TEST_F(TextDisplay, GraphicsModeShowsANoticeAndFortyColumnsWork)
{
    start(guest_args());
    ASSERT_TRUE(wait_serial("R")) << read_file(serial);
    type("g");
    ASSERT_TRUE(wait_serial("Rg\x22G"));
    pump_ms(300);
    Term t = screen();
    EXPECT_EQ(t.row(0), "graphics mode 320x200 \xe2\x80\x94 use -display sdl or screendump");
    EXPECT_EQ(t.row(4), ""); /* the text screen is gone */
    EXPECT_FALSE(t.cursor_visible);
    type("w");
    ASSERT_TRUE(wait_serial("Rg\x22Gw\x11W"));
    pump_ms(300);
    t = screen();
    EXPECT_EQ(t.row(0), "wide");
    EXPECT_EQ(t.row(1), "");
    EXPECT_EQ(t.r, 0);
    EXPECT_EQ(t.c, 4);
    type("q");
    EXPECT_EQ(wait_exit(), 1);
    t = final_screen();
    EXPECT_TRUE(t.errors.empty()) << t.errors[0];
    std::string dump = read_file(shot);
    EXPECT_EQ(dump.substr(0, 5), "wide\n");
    EXPECT_EQ(t.text(25), dump);
}

TEST_F(TextDisplay, CtrlAXQuitsAndRestoresTheTerminal)
{
    struct termios before;
    start(guest_args());
    ASSERT_TRUE(wait_serial("R")) << read_file(serial);
    ASSERT_EQ(tcgetattr(master, &before), 0);
    EXPECT_FALSE(before.c_lflag & ICANON) << "the terminal is not in raw mode";
    type("\x01x");
    EXPECT_EQ(wait_exit(), 0);
    EXPECT_EQ(read_file(serial), "R"); /* neither Ctrl-A nor x reached the guest */
    struct termios after;
    ASSERT_EQ(tcgetattr(master, &after), 0);
    EXPECT_TRUE(after.c_lflag & ICANON) << "the terminal was left in raw mode";
    EXPECT_TRUE(after.c_lflag & ECHO);
    Term t = screen();
    EXPECT_TRUE(t.cursor_visible);
    EXPECT_EQ(t.fg, -1); /* colours reset */
}

TEST_F(TextDisplay, SmallTerminalIsNotOverdrawn)
{
    /* 24 rows x 60 columns: no cursor move may leave it; what fits is the screen's */
    start(guest_args(), 24, 60);
    ASSERT_TRUE(wait_serial("R")) << read_file(serial);
    pump_ms(300);
    Term t = screen(24, 60);
    EXPECT_TRUE(t.errors.empty()) << t.errors[0];
    EXPECT_EQ(t.row(2), "dbt86 text display");
    EXPECT_EQ(t.row(0), "SeaBIOS (version 1.16.2-debian-1.16.2-1)");
    type("\x01x");
    EXPECT_EQ(wait_exit(), 0);
}

TEST(TextDisplayCli, ConflictsGetOneLine)
{
    for (const char *args : {"-display text -nographic", "-display text -serial stdio",
                             "-display text -debugcon stdio",
                             "-display text -monitor stdio"}) {
        std::string out;
        EXPECT_EQ(run_cmd(dbt86_bin() + " " + args, &out), 1) << args;
        EXPECT_NE(out.find("-display text: cannot be used with"), std::string::npos) << out;
        EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    }
    std::string out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display vnc", &out), 1);
    EXPECT_NE(out.find("supported: sdl, text, none"), std::string::npos) << out;
}

} // namespace
