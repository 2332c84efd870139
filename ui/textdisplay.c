/*
 * textdisplay.c — the VGA text screen on a terminal (see textdisplay.h).
 *
 * Output: a shadow copy of what the terminal shows (character | attribute << 8 per
 * cell) is compared with the screen at each refresh, and only changed cells are sent:
 * a cursor move (CUP) where the next cell is not the one just written, an SGR colour
 * change where the attribute differs, the character as UTF-8 (code page 437). VGA
 * colour i maps to the ANSI colour of the same name (the two orders differ: VGA is
 * BGR-ordered, ANSI RGB), bright foregrounds and backgrounds to the 90-97 / 100-107
 * colours; with the attribute controller's blink bit set, attribute bit 7 blinks
 * (SGR 5) instead of brightening the background. The guest's cursor becomes the
 * terminal's cursor. The terminal's size is read at every refresh; a change redraws
 * everything, and cells outside the terminal are not drawn.
 *
 * Input: bytes are parsed as a terminal sends them — printable ASCII, control
 * characters (Ctrl-letter), ESC-prefixed Alt-keys and the CSI / SS3 sequences of
 * xterm, VT220 and the Linux console for cursor, editing and function keys with their
 * modifier parameter (ESC [ 1 ; 5 A is Ctrl+Up). An ESC that nothing follows within
 * 30 ms is the Esc key. Keys go to a KeyQueue and reach the guest one by one.
 */
#include "ui/textdisplay.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "ui/asciikeys.h"

#define REFRESH_NS 33333333ull /* at most 30 redraws per second */
#define ESC_WAIT_NS 30000000ull /* a lone ESC this old is the Esc key */
#define MAX_CELLS (256 * 256)   /* the largest grid vga_text_cells can report */

struct TextUi {
    int in_fd, out_fd;          /* the terminal */
    bool tty;                   /* in_fd is a terminal we put in raw mode */
    bool in_eof;                /* in_fd reached its end: stop reading */
    struct termios saved;       /* in_fd's settings to restore */
    KeyQueue keys;              /* keystrokes waiting for the guest */
    uint8_t inbuf[64];          /* bytes of an escape sequence not complete yet */
    unsigned ninbuf;
    uint64_t inbuf_ns;          /* host time when inbuf became incomplete */
    bool inbuf_timed;           /* inbuf_ns is set */
    bool escape;                /* Ctrl-A seen: the next byte is a command */
    uint16_t *cells;            /* the guest's screen at this refresh */
    uint16_t *shadow;           /* what the terminal shows */
    unsigned cols, rows;        /* shadow's grid; 0 when it holds nothing */
    bool blink;                 /* shadow was drawn with attribute bit 7 as blink */
    int gfx_w, gfx_h;           /* graphics mode named in the notice; gfx_shown */
    bool gfx_shown;
    int term_cols, term_rows;   /* the terminal's size (0: unknown, no clipping) */
    int help_row;               /* 1-based terminal row of the help line, 0 if none */
    int pen_row, pen_col;       /* where the terminal's cursor is after our output */
    int pen_attr;               /* attribute of the current SGR, -1 unknown */
    int cur_row, cur_col;       /* guest cursor as last shown, -1 hidden */
    uint64_t last_refresh_ns;
    bool refreshed_once;
    char *out;                  /* output being built for one write */
    size_t out_len, out_cap;
    bool out_failed;            /* out of memory building the output */
};

/* ---- output ---- */

static void out_bytes(TextUi *t, const char *s, size_t n)
{
    if (t->out_len + n > t->out_cap) {
        size_t cap = t->out_cap ? t->out_cap * 2 : 16384;
        while (cap < t->out_len + n) cap *= 2;
        char *p = realloc(t->out, cap);
        if (!p) {
            t->out_failed = true;
            return;
        }
        t->out = p;
        t->out_cap = cap;
    }
    memcpy(t->out + t->out_len, s, n);
    t->out_len += n;
}

static void out_str(TextUi *t, const char *s) { out_bytes(t, s, strlen(s)); }

static void out_fmt(TextUi *t, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) out_bytes(t, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void out_flush(TextUi *t)
{
    size_t off = 0;
    while (off < t->out_len) {
        ssize_t n = write(t->out_fd, t->out + off, t->out_len - off);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            if (errno == EAGAIN) poll(&(struct pollfd){.fd = t->out_fd, .events = POLLOUT}, 1, 100);
            continue;
        }
        if (n <= 0) break; /* the terminal went away: drop the picture */
        off += (size_t)n;
    }
    t->out_len = 0;
}

static void move_to(TextUi *t, int row, int col)
{
    if (row == t->pen_row && col == t->pen_col) return;
    out_fmt(t, "\033[%d;%dH", row + 1, col + 1);
    t->pen_row = row;
    t->pen_col = col;
}

/* VGA colour number (bit 0 blue, 1 green, 2 red) -> ANSI colour number (bit 0 red,
 * 1 green, 2 blue) */
static const uint8_t VGA_TO_ANSI[8] = {0, 4, 2, 6, 1, 5, 3, 7};

static void set_attr(TextUi *t, uint8_t attr, bool blink_mode)
{
    if (t->pen_attr == attr) return;
    unsigned fg = attr & 0x0f, bg = attr >> 4;
    bool blink = blink_mode && (bg & 8);
    if (blink_mode) bg &= 7;
    out_fmt(t, "\033[0;%u;%u%sm", fg < 8 ? 30 + VGA_TO_ANSI[fg] : 90 + VGA_TO_ANSI[fg - 8],
            bg < 8 ? 40 + VGA_TO_ANSI[bg] : 100 + VGA_TO_ANSI[bg - 8], blink ? ";5" : "");
    t->pen_attr = attr;
}

/* Clears the terminal; nothing we drew is known to be there any more. */
static void clear_terminal(TextUi *t)
{
    out_str(t, "\033[0m\033[H\033[2J");
    t->pen_row = t->pen_col = 0;
    t->pen_attr = -1;
    t->cols = t->rows = 0;
    t->gfx_shown = false;
    t->help_row = 0;
    t->cur_row = t->cur_col = -2; /* unknown: show or hide it again */
}

static bool read_term_size(TextUi *t)
{
    struct winsize ws;
    int c = 0, r = 0;
    if (ioctl(t->out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
        c = ws.ws_col;
        r = ws.ws_row;
    }
    bool changed = c != t->term_cols || r != t->term_rows;
    t->term_cols = c;
    t->term_rows = r;
    return changed;
}

static void show_cursor(TextUi *t, int row, int col)
{
    if (row < 0 || (t->term_rows && row >= t->term_rows) || (t->term_cols && col >= t->term_cols))
        row = col = -1;
    if (row == t->cur_row && col == t->cur_col && (row < 0 || (row == t->pen_row && col == t->pen_col)))
        return;
    if (row < 0) {
        out_str(t, "\033[?25l");
    } else {
        move_to(t, row, col);
        if (t->cur_row < 0) out_str(t, "\033[?25h");
    }
    t->cur_row = row;
    t->cur_col = col;
}

static void draw_notice(TextUi *t, int w, int h)
{
    clear_terminal(t);
    if (w > 0 && h > 0)
        out_fmt(t, "graphics mode %dx%d \xe2\x80\x94 use -display sdl or screendump", w, h);
    else
        out_str(t, "the display shows nothing (no mode set or a mode dbt86 cannot show)");
    t->pen_col = -1; /* unknown after text of unknown width */
    t->gfx_w = w;
    t->gfx_h = h;
    t->gfx_shown = true;
    t->cur_row = -2;
    show_cursor(t, -1, -1);
}

static void draw(TextUi *t, const Machine *m, bool resized)
{
    VgaTextInfo info;
    if (vga_text_cells(&m->vga, t->cells, MAX_CELLS, &info) < 0) {
        int w = 0, h = 0;
        vga_render(&m->vga, NULL, 0, 0, &w, &h); /* only the size: nothing is written */
        if (resized || !t->gfx_shown || w != t->gfx_w || h != t->gfx_h) draw_notice(t, w, h);
        return;
    }
    bool full = resized || t->gfx_shown || info.cols != t->cols || info.rows != t->rows ||
                info.blink != t->blink;
    if (full) clear_terminal(t);
    unsigned rows = info.rows, cols = info.cols;
    if (t->term_rows && rows > (unsigned)t->term_rows) rows = (unsigned)t->term_rows;
    if (t->term_cols && cols > (unsigned)t->term_cols) cols = (unsigned)t->term_cols;
    for (unsigned r = 0; r < rows; r++) {
        for (unsigned c = 0; c < cols; c++) {
            uint16_t cell = t->cells[r * info.cols + c];
            if (!full && cell == t->shadow[r * info.cols + c]) continue;
            move_to(t, (int)r, (int)c);
            set_attr(t, cell >> 8, info.blink);
            out_str(t, vga_cp437_utf8(cell & 0xff));
            t->pen_col++;
            /* at the right margin the terminal's cursor waits to wrap: position anew */
            if (t->term_cols && t->pen_col >= t->term_cols) t->pen_col = -1;
        }
    }
    memcpy(t->shadow, t->cells, (size_t)info.cols * info.rows * sizeof(uint16_t));
    t->cols = info.cols;
    t->rows = info.rows;
    t->blink = info.blink;
    if (full && t->term_rows > (int)info.rows) {
        /* a spare terminal line: say how to get out */
        t->help_row = (int)info.rows + 1;
        move_to(t, (int)info.rows, 0);
        out_str(t, "\033[0;2mdbt86: Ctrl-A x quits, Ctrl-A Ctrl-A types Ctrl-A\033[0m");
        t->pen_attr = -1;
        t->pen_col = -1;
    }
    show_cursor(t, info.cursor_row, info.cursor_col);
}

void textdisplay_refresh(TextUi *t, const Machine *m, uint64_t host_ns)
{
    if (t->refreshed_once && host_ns - t->last_refresh_ns < REFRESH_NS) return;
    t->last_refresh_ns = host_ns;
    t->refreshed_once = true;
    bool resized = read_term_size(t);
    draw(t, m, resized);
    if (t->out_failed) { /* the shadow no longer matches: start over next time */
        t->out_failed = false;
        t->out_len = 0;
        t->cols = t->rows = 0;
        return;
    }
    out_flush(t);
}

/* ---- input ---- */

static void push_key(TextUi *t, uint16_t key, unsigned mods) { keyqueue_push(&t->keys, key, mods); }

/* A byte outside escape sequences: a character, or a control character typed with
 * Ctrl. */
static void push_byte(TextUi *t, uint8_t ch, unsigned mods)
{
    uint16_t key;
    bool shift;
    if (ch == 0x00) {
        push_key(t, KEY_SPACE, mods | KEYMOD_CTRL);
    } else if (ch == '\r' || ch == '\n' || ch == '\t' || ch == 0x08 || ch == 0x7f || ch == 0x1b) {
        asciikey_lookup(ch, &key, &shift);
        push_key(t, key, mods);
    } else if (ch < 0x20) {
        /* Ctrl-A..Ctrl-Z, then Ctrl-\ Ctrl-] Ctrl-^ (Ctrl+6) Ctrl-_ (Ctrl+-) */
        static const char ctl[] = "\\]6-";
        uint8_t base = ch <= 0x1a ? (uint8_t)('a' + ch - 1) : (uint8_t)ctl[ch - 0x1c];
        if (asciikey_lookup(base, &key, &shift)) push_key(t, key, mods | KEYMOD_CTRL);
    } else if (asciikey_lookup(ch, &key, &shift)) {
        push_key(t, key, mods | (shift ? KEYMOD_SHIFT : 0));
    }
    /* bytes >= 0x80 (UTF-8 of non-ASCII characters) have no key on a US keyboard */
}

/* xterm's modifier parameter: 1 + (1 shift, 2 alt, 4 ctrl) */
static unsigned csi_mods(unsigned p)
{
    unsigned m = 0, b = p > 1 ? p - 1 : 0;
    if (b & 1) m |= KEYMOD_SHIFT;
    if (b & 2) m |= KEYMOD_ALT;
    if (b & 4) m |= KEYMOD_CTRL;
    return m;
}

/* Final letters shared by CSI and SS3: cursor keys, Home/End, F1-F4 */
static uint16_t letter_key(uint8_t f)
{
    switch (f) {
    case 'A': return KEY_UP;
    case 'B': return KEY_DOWN;
    case 'C': return KEY_RIGHT;
    case 'D': return KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    case 'P': return KEY_F1;
    case 'Q': return KEY_F2;
    case 'R': return KEY_F3;
    case 'S': return KEY_F4;
    case 'M': return KEY_ENTER; /* keypad Enter in application mode */
    default: return 0;
    }
}

/* ESC [ n ~ */
static uint16_t tilde_key(unsigned n)
{
    static const uint16_t k[25] = {
        [1] = KEY_HOME, [2] = KEY_INSERT, [3] = KEY_DELETE, [4] = KEY_END,
        [5] = KEY_PAGEUP, [6] = KEY_PAGEDOWN, [7] = KEY_HOME, [8] = KEY_END,
        [11] = KEY_F1, [12] = KEY_F2, [13] = KEY_F3, [14] = KEY_F4, [15] = KEY_F5,
        [17] = KEY_F6, [18] = KEY_F7, [19] = KEY_F8, [20] = KEY_F9, [21] = KEY_F10,
        [23] = KEY_F11, [24] = KEY_F12,
    };
    return n < 25 ? k[n] : 0;
}

/* Parses one key from b[0..n). Returns the bytes used, or 0 if the sequence may still
 * be incomplete (more bytes are needed to tell). */
static size_t parse_key(TextUi *t, Input *in, const uint8_t *b, size_t n)
{
    uint8_t ch = b[0];
    if (t->escape) {
        t->escape = false;
        if (ch == 'x') in->quit = true;
        else if (ch == 0x01) push_byte(t, 0x01, 0);
        return 1; /* other commands are ignored, as in QEMU */
    }
    if (ch == 0x01) {
        t->escape = true;
        return 1;
    }
    if (ch != 0x1b) {
        push_byte(t, ch, 0);
        return 1;
    }
    if (n < 2) return 0;
    if (b[1] == 0x1b) { /* Esc typed twice */
        push_byte(t, 0x1b, 0);
        return 1;
    }
    if (b[1] == 'O') { /* SS3: application cursor keys, F1-F4 */
        if (n < 3) return 0;
        uint16_t k = letter_key(b[2]);
        if (k) push_key(t, k, 0);
        return 3;
    }
    if (b[1] != '[') { /* ESC + key: Alt held */
        push_byte(t, b[1], KEYMOD_ALT);
        return 2;
    }
    /* CSI */
    if (n < 3) return 0;
    if (b[2] == '[') { /* Linux console F1-F5: ESC [ [ A..E */
        if (n < 4) return 0;
        if (b[3] >= 'A' && b[3] <= 'E') {
            static const uint16_t f[5] = {KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5};
            push_key(t, f[b[3] - 'A'], 0);
        }
        return 4;
    }
    unsigned p[2] = {0, 0}, np = 0;
    size_t j = 2;
    while (j < n && b[j] >= 0x20 && b[j] <= 0x3f) {
        if (b[j] >= '0' && b[j] <= '9') {
            if (np < 2 && p[np] < 1000) p[np] = p[np] * 10 + (b[j] - '0');
        } else if (b[j] == ';') {
            np++;
        }
        j++;
    }
    if (j >= n) return j >= 16 ? j : 0; /* an endless parameter list is dropped */
    uint8_t final = b[j];
    unsigned mods = csi_mods(p[1]);
    uint16_t k = 0;
    if (final == '~') k = tilde_key(p[0]);
    else if (final == 'Z') k = KEY_TAB, mods |= KEYMOD_SHIFT;
    else k = letter_key(final);
    if (k) push_key(t, k, mods);
    return j + 1;
}

static void parse_input(TextUi *t, Input *in, bool flush)
{
    size_t i = 0;
    while (i < t->ninbuf) {
        size_t used = parse_key(t, in, t->inbuf + i, t->ninbuf - i);
        if (!used) {
            if (!flush) break;
            /* nothing followed in time: a lone ESC is the Esc key */
            push_byte(t, t->inbuf[i], 0);
            used = 1;
        }
        i += used;
    }
    memmove(t->inbuf, t->inbuf + i, t->ninbuf - i);
    t->ninbuf -= (unsigned)i;
}

void textdisplay_poll(TextUi *t, Input *in, Machine *m)
{
    uint64_t now = input_host_ns(in);
    while (!t->in_eof && t->ninbuf < sizeof(t->inbuf)) {
        struct pollfd p = {.fd = t->in_fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) break;
        ssize_t n = read(t->in_fd, t->inbuf + t->ninbuf, sizeof(t->inbuf) - t->ninbuf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) break;
        if (n <= 0) {
            t->in_eof = true; /* keep running without a keyboard, as with -display none */
            break;
        }
        t->ninbuf += (unsigned)n;
        parse_input(t, in, false);
        if (in->quit) return;
    }
    if (!t->ninbuf) {
        t->inbuf_timed = false;
    } else if (!t->inbuf_timed) {
        t->inbuf_timed = true;
        t->inbuf_ns = now;
    } else if (now - t->inbuf_ns >= ESC_WAIT_NS || t->in_eof) {
        parse_input(t, in, true);
        t->inbuf_timed = false;
    }
    keyqueue_pump(&t->keys, in, m);
}

/* ---- lifecycle ---- */

TextUi *textdisplay_open(int in_fd, int out_fd, char *err, size_t errlen)
{
    TextUi *t = calloc(1, sizeof(*t));
    if (t) {
        t->cells = calloc(MAX_CELLS, sizeof(uint16_t));
        t->shadow = calloc(MAX_CELLS, sizeof(uint16_t));
    }
    if (!t || !t->cells || !t->shadow) {
        snprintf(err, errlen, "-display text: out of memory");
        if (t) {
            free(t->cells);
            free(t->shadow);
        }
        free(t);
        return NULL;
    }
    t->in_fd = in_fd;
    t->out_fd = out_fd;
    keyqueue_init(&t->keys);
    if (isatty(in_fd) && tcgetattr(in_fd, &t->saved) == 0) {
        struct termios raw = t->saved;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR; /* our own messages on stderr keep their \r */
        if (tcsetattr(in_fd, TCSANOW, &raw) == 0) t->tty = true;
    }
    read_term_size(t);
    clear_terminal(t);
    out_flush(t);
    return t;
}

void textdisplay_close(TextUi *t, const Machine *m)
{
    if (!t) return;
    if (m) {
        read_term_size(t);
        draw(t, m, false);
    }
    /* leave the last picture on the terminal and put the prompt below it */
    int last = t->rows ? (int)t->rows : t->gfx_shown ? 1 : 0;
    if (t->term_rows && last > t->term_rows) last = t->term_rows;
    if (t->help_row) {
        out_fmt(t, "\033[%d;1H\033[2K", t->help_row);
        last = t->help_row - 1;
    }
    out_fmt(t, "\033[0m\033[?25h\033[%d;1H\r\n", last > 0 ? last : 1);
    out_flush(t);
    if (t->tty) tcsetattr(t->in_fd, TCSANOW, &t->saved);
    free(t->out);
    free(t->cells);
    free(t->shadow);
    free(t);
}
