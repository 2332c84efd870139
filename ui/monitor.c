/*
 * monitor.c — QEMU's human monitor: command names, arguments and output formats as
 * QEMU's HMP has them (help, info registers/status/version, x and xp with /FMT,
 * stop, cont, system_reset, system_powerdown, sendkey, mouse_move, mouse_button,
 * screendump, quit), on stdio
 * (alone, or muxed with COM1 under -nographic: Ctrl-A c switches) and on a socket.
 *
 * Everything runs between slices of guest time (monitor_poll, from ui/main.c).
 * Reading memory never disturbs the guest: `x` walks the page tables with
 * mmu_debug_translate (no fault, no A/D bits, no TLB fill) and reads RAM/ROM
 * directly; only pages that are MMIO go through the bus, as QEMU's debug reads do.
 * Machine changes are requests in the input layer (Input.paused, want_reset,
 * want_powerdown, quit, input_key) that main.c carries out. This file also emits
 * the QMP events for those changes, so HMP and QMP commands report the same way.
 */
#include "ui/monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cpu/disas.h"
#include "cpu/mmu.h"
#include "cpu/physmem.h"
#include "ui/keynames.h"
#include "ui/qmp.h"
#include "ui/screenshot.h"
#include "ui/sockchr.h"

#define PROMPT "(qemu) "
#define MAX_HELD 16
#define LINE_MAX_LEN 4096

struct Monitor {
    Input *in;
    Machine *m;
    /* HMP channels */
    bool hmp_stdio;             /* stdin/stdout (maybe muxed with COM1) */
    bool hmp_mux;
    bool stdio_focus_seen;      /* the mux focus last seen (prompt when it arrives) */
    char stdio_line[LINE_MAX_LEN];
    size_t stdio_len;
    bool stdio_cr;              /* last byte was CR: a following LF is part of it */
    bool hmp_sock_on;
    SockChr hmp_sock;
    char sock_line[LINE_MAX_LEN];
    size_t sock_len;
    bool sock_cr, sock_overlong;
    /* x/xp remember the last format and unit, as QEMU does */
    char last_fmt;
    int last_size;
    /* QMP and its events */
    Qmp *qmp;
    bool was_paused;
    uint64_t resets_seen;
    bool host_reset;            /* the next reset was asked for by the monitor */
    const char *quit_reason;    /* set by quit: SHUTDOWN's reason */
    /* sendkey: keys held down for hold_ns of host time, and at least until the guest
     * ran a little (virtual time pressed_vt + 1 ms) so a paused guest sees the press */
    char held[MAX_HELD][24];
    int n_held;
    uint64_t pressed_host, pressed_vt, hold_ns;
    /* vmport: the pointer as the monitor last set it (mouse_button, input-send-event) */
    unsigned mouse_buttons;     /* bit 0 left, 1 right, 2 middle */
    unsigned mouse_x, mouse_y;  /* last absolute position, 0..0xFFFF */
};

/* ---- output buffer ---- */

void monbuf_printf(MonBuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) return;
        b->s = s;
        b->cap = cap;
    }
    if ((size_t)n < sizeof(small)) {
        memcpy(b->s + b->len, small, n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += n;
}

void monbuf_free(MonBuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

static void write_fd1(const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(1, s, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        s += n;
        len -= n;
    }
}

/* ---- machine control, with the QMP events ---- */

bool monitor_paused(const Monitor *mon) { return mon->in->paused; }

static void note_pause_state(Monitor *mon)
{
    if (mon->in->paused != mon->was_paused) {
        mon->was_paused = mon->in->paused;
        if (mon->qmp) qmp_event(mon->qmp, mon->was_paused ? "STOP" : "RESUME", NULL);
    }
}

void monitor_stop(Monitor *mon)
{
    mon->in->paused = true;
    note_pause_state(mon);
}

void monitor_cont(Monitor *mon)
{
    mon->in->paused = false;
    note_pause_state(mon);
}

void monitor_system_reset(Monitor *mon)
{
    mon->in->want_reset = true;
    mon->host_reset = true;
}

void monitor_system_powerdown(Monitor *mon)
{
    mon->in->want_powerdown = true;
    if (mon->qmp) qmp_event(mon->qmp, "POWERDOWN", NULL);
}

void monitor_quit(Monitor *mon)
{
    mon->quit_reason = "host-qmp-quit";
    mon->in->quit = true;
    machine_request_exit(mon->m, MEXIT_QUIT, 0);
}

/* ---- sendkey ---- */

static void release_held(Monitor *mon)
{
    /* in the reverse order of pressing, as QEMU does */
    for (int i = mon->n_held - 1; i >= 0; i--) {
        uint8_t b[8];
        int n = keyname_set2(mon->held[i], true, b);
        if (n > 0) input_key(mon->in, mon->m, b, n);
    }
    mon->n_held = 0;
}

int monitor_sendkeys(Monitor *mon, const char *const *names, int n, int hold_ms, char *err,
                     size_t errlen)
{
    uint8_t b[8];
    if (n <= 0 || n > MAX_HELD) {
        snprintf(err, errlen, "too many keys");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (strlen(names[i]) >= sizeof(mon->held[0]) || keyname_set2(names[i], false, b) < 0) {
            snprintf(err, errlen, "%s", names[i]);
            return -1;
        }
    }
    release_held(mon); /* an earlier sendkey still holding its keys */
    for (int i = 0; i < n; i++) {
        int k = keyname_set2(names[i], false, b);
        input_key(mon->in, mon->m, b, k);
        snprintf(mon->held[i], sizeof(mon->held[i]), "%s", names[i]);
    }
    mon->n_held = n;
    mon->pressed_host = input_host_ns(mon->in);
    mon->pressed_vt = machine_now_ns(mon->m);
    mon->hold_ns = (uint64_t)(hold_ms > 0 ? hold_ms : 0) * 1000000;
    return 0;
}

/* ---- mouse (vmport) ---- */

void monitor_mouse(Monitor *mon, int dx, int dy, int dz, int abs_x, int abs_y, int buttons)
{
    bool moved_abs = abs_x >= 0 || abs_y >= 0;
    if (abs_x >= 0) mon->mouse_x = abs_x > 0xffff ? 0xffff : (unsigned)abs_x;
    if (abs_y >= 0) mon->mouse_y = abs_y > 0xffff ? 0xffff : (unsigned)abs_y;
    bool clicked = buttons >= 0 && (unsigned)buttons != mon->mouse_buttons;
    if (buttons >= 0) mon->mouse_buttons = (unsigned)buttons & 7;
    /* positions, and buttons or wheel without motion, go to an absolute pointer when
     * the guest has one; absolute motion without one is dropped, as in QEMU */
    if ((moved_abs || (!dx && !dy)) &&
        input_mouse_abs(mon->in, mon->m, mon->mouse_x, mon->mouse_y, dz, mon->mouse_buttons))
        return;
    if (dx || dy || dz || clicked) input_mouse(mon->in, mon->m, dx, dy, dz, mon->mouse_buttons);
}

unsigned monitor_mouse_buttons(const Monitor *mon) { return mon->mouse_buttons; }

/* ---- screendump ---- */

static int write_ppm(const uint32_t *rgb, int w, int h, const char *path, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "Could not open '%s': %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "P6\n%d %d\n255\n", w, h);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        uint8_t px[3] = {(uint8_t)(rgb[i] >> 16), (uint8_t)(rgb[i] >> 8), (uint8_t)rgb[i]};
        fwrite(px, 1, 3, f);
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int monitor_screendump(Monitor *mon, const char *path, const char *fmt, bool text, char *err,
                       size_t errlen)
{
    Machine *m = mon->m;
    if (text) {
        size_t cap = 64 * 1024;
        char *t = malloc(cap);
        int n = t ? vga_text_dump(&m->vga, t, cap) : -1;
        if (n < 0) {
            free(t);
            snprintf(err, errlen, "the screen is not in a text mode");
            return -1;
        }
        FILE *f = fopen(path, "w");
        if (!f) {
            free(t);
            snprintf(err, errlen, "Could not open '%s': %s", path, strerror(errno));
            return -1;
        }
        int bad = fwrite(t, 1, n, f) != (size_t)n;
        if (fclose(f) != 0) bad = 1;
        free(t);
        if (bad) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    bool ppm;
    if (fmt) {
        if (strcmp(fmt, "png") && strcmp(fmt, "ppm")) {
            snprintf(err, errlen, "format '%s' is not supported (png, ppm)", fmt);
            return -1;
        }
        ppm = !strcmp(fmt, "ppm");
    } else {
        size_t l = strlen(path);
        ppm = l >= 4 && !strcasecmp(path + l - 4, ".ppm");
    }
    const int max_w = 2560, max_h = 1600;
    uint32_t *rgb = malloc((size_t)max_w * max_h * sizeof(uint32_t));
    int w = 0, h = 0;
    if (!rgb) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (vga_render(&m->vga, rgb, max_w, max_h, &w, &h) < 0 || w <= 0 || h <= 0) {
        free(rgb);
        snprintf(err, errlen, "the display shows nothing that can be rendered");
        return -1;
    }
    int rc = ppm ? write_ppm(rgb, w, h, path, err, errlen)
                 : screenshot_png(rgb, w, h, path, err, errlen);
    free(rgb);
    return rc;
}

/* ---- memory access for x/xp ---- */

/* One byte at a linear (phys = false) or physical address; false if not mapped. */
static bool read_byte(Monitor *mon, uint64_t addr, bool phys, uint8_t *out)
{
    Cpu *c = &mon->m->cpu;
    if (phys && addr > 0xffffffffull) return false; /* no memory above 4 GiB */
    uint32_t pa = (uint32_t)addr; /* linear addresses wrap at 4 GiB */
    if (!phys && !mmu_debug_translate(c, (uint32_t)addr, &pa)) return false;
    pa &= c->a20_mask;
    const uint8_t *p = physmem_rd_ptr(c->mem, pa);
    if (p) *out = *p;
    else *out = c->bus.mmio_read ? (uint8_t)c->bus.mmio_read(c->bus.opaque, pa, 1) : 0xff;
    return true;
}

static bool read_mem(Monitor *mon, uint64_t addr, bool phys, uint8_t *buf, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        if (!read_byte(mon, addr + i, phys, &buf[i])) return false;
    return true;
}

/* ---- argument parsing ---- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

static bool reg_value(Monitor *mon, const char *name, size_t len, uint64_t *v)
{
    const Cpu *c = &mon->m->cpu;
    static const char *const gpr[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    static const char *const sr[SEG_COUNT] = {"es", "cs", "ss", "ds", "fs", "gs"};
    char n[16];
    if (len >= sizeof(n)) return false;
    for (size_t i = 0; i < len; i++) n[i] = (char)(name[i] | 0x20);
    n[len] = 0;
    for (int i = 0; i < 8; i++) {
        if (!strcmp(n, gpr[i])) {
            *v = c->regs[i];
            return true;
        }
        if (!strcmp(n, gpr[i] + 1)) { /* ax, cx, ... */
            *v = c->regs[i] & 0xffff;
            return true;
        }
    }
    for (int i = 0; i < SEG_COUNT; i++) {
        if (!strcmp(n, sr[i])) {
            *v = c->seg[i].sel;
            return true;
        }
    }
    if (!strcmp(n, "eip")) *v = c->eip;
    else if (!strcmp(n, "pc")) *v = (uint32_t)(c->seg[SEG_CS].base + c->eip); /* linear */
    else if (!strcmp(n, "eflags")) *v = c->eflags;
    else if (!strcmp(n, "cr0")) *v = c->cr[0];
    else if (!strcmp(n, "cr2")) *v = c->cr[2];
    else if (!strcmp(n, "cr3")) *v = c->cr[3];
    else if (!strcmp(n, "cr4")) *v = c->cr[4];
    else return false;
    return true;
}

/* QEMU's monitor expressions, the useful part: terms (numbers in C notation, $reg,
 * parentheses) joined by + - *. Returns the end, or NULL with err. */
static const char *parse_expr(Monitor *mon, const char *p, uint64_t *out, char *err,
                              size_t errlen);

static const char *parse_term(Monitor *mon, const char *p, uint64_t *out, char *err,
                              size_t errlen)
{
    p = skip_ws(p);
    if (*p == '(') {
        p = parse_expr(mon, p + 1, out, err, errlen);
        if (!p) return NULL;
        p = skip_ws(p);
        if (*p != ')') {
            snprintf(err, errlen, "')' expected");
            return NULL;
        }
        return p + 1;
    }
    if (*p == '-') {
        p = parse_term(mon, p + 1, out, err, errlen);
        if (p) *out = -*out;
        return p;
    }
    if (*p == '$') {
        const char *s = ++p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
            p++;
        if (!reg_value(mon, s, p - s, out)) {
            snprintf(err, errlen, "unknown register '%.*s'", (int)(p - s), s);
            return NULL;
        }
        return p;
    }
    if (*p < '0' || *p > '9') {
        snprintf(err, errlen, "%s", *p ? "invalid char in expression" : "address expected");
        return NULL;
    }
    char *end;
    errno = 0;
    *out = strtoull(p, &end, 0);
    if (errno) {
        snprintf(err, errlen, "number too large");
        return NULL;
    }
    return end;
}

static const char *parse_expr(Monitor *mon, const char *p, uint64_t *out, char *err,
                              size_t errlen)
{
    uint64_t v, t;
    p = parse_term(mon, p, &v, err, errlen);
    while (p) {
        p = skip_ws(p);
        char op = *p;
        if (op != '+' && op != '-' && op != '*') break;
        p = parse_term(mon, p + 1, &t, err, errlen);
        if (!p) return NULL;
        v = op == '+' ? v + t : op == '-' ? v - t : v * t;
    }
    if (p) *out = v;
    return p;
}

/* ---- commands ---- */

typedef void (*CmdFn)(Monitor *mon, const char *args, MonBuf *out);

typedef struct Cmd {
    const char *name, *alias, *params, *help;
    CmdFn fn;
} Cmd;

static void cmd_help(Monitor *mon, const char *args, MonBuf *out);
static void cmd_info(Monitor *mon, const char *args, MonBuf *out);

static void cmd_stop(Monitor *mon, const char *args, MonBuf *out) { monitor_stop(mon); }
static void cmd_cont(Monitor *mon, const char *args, MonBuf *out) { monitor_cont(mon); }
static void cmd_reset(Monitor *mon, const char *args, MonBuf *out) { monitor_system_reset(mon); }
static void cmd_powerdown(Monitor *mon, const char *args, MonBuf *out)
{
    monitor_system_powerdown(mon);
}
static void cmd_quit(Monitor *mon, const char *args, MonBuf *out) { monitor_quit(mon); }

/* x/xp: QEMU's memory_dump. */
static void memory_dump(Monitor *mon, const char *args, MonBuf *out, bool phys)
{
    const char *cmd = phys ? "xp" : "x";
    const char *p = skip_ws(args);
    int count = 1, size = -1;
    char fmt = 0;
    if (*p == '/') {
        p++;
        if (*p >= '0' && *p <= '9') {
            long c = strtol(p, (char **)&p, 10);
            count = c > 65536 ? 65536 : (int)c;
        }
        for (; *p && *p != ' ' && *p != '\t'; p++) {
            switch (*p) {
            case 'x': case 'd': case 'u': case 'o': case 'c': case 'i': fmt = *p; break;
            case 'b': size = 1; break;
            case 'h': size = 2; break;
            case 'w': size = 4; break;
            case 'g': size = 8; break;
            default:
                monbuf_printf(out, "invalid char in format: '%c'\n", *p);
                return;
            }
        }
    }
    if (!fmt) fmt = mon->last_fmt;
    if (fmt != 'i') {
        if (size < 0) size = fmt == 'c' ? 1 : mon->last_size;
        mon->last_size = size;
    }
    mon->last_fmt = fmt;
    char err[128];
    uint64_t addr;
    const char *end = parse_expr(mon, p, &addr, err, sizeof(err));
    if (!end) {
        monbuf_printf(out, "%s: %s\n", cmd, err);
        return;
    }
    if (*skip_ws(end)) {
        monbuf_printf(out, "%s: extraneous characters at the end of line\n", cmd);
        return;
    }
    if (!phys) addr = (uint32_t)addr; /* a target_ulong, as in QEMU for i386 */
    if (fmt == 'i') {
        /* the unit picks the code size as in QEMU: h 16-bit, w 32-bit, else CS's */
        bool code32 = size == 2 ? false : size == 4 ? true : cpu_code32(&mon->m->cpu);
        for (int i = 0; i < count; i++) {
            uint8_t b[16];
            unsigned n = 0;
            while (n < sizeof(b) && read_byte(mon, addr + n, phys, &b[n])) n++;
            if (n == 0) {
                monbuf_printf(out, "0x%08llx: Cannot access memory\n", (unsigned long long)addr);
                return;
            }
            char text[160];
            int len = disas_insn(b, n, (uint32_t)addr, code32, text, sizeof(text));
            monbuf_printf(out, "0x%08llx:  %s\n", (unsigned long long)addr,
                          len > 0 ? text : "(bad)");
            addr += len > 0 ? len : 1;
            if (!phys) addr = (uint32_t)addr;
        }
        return;
    }
    int wsize = fmt == 'c' ? 1 : size;
    int digits = fmt == 'o' ? (wsize * 8 + 2) / 3
                 : (fmt == 'd' || fmt == 'u') ? (wsize * 8 * 10 + 32) / 33
                                              : wsize * 2;
    unsigned line = wsize == 1 ? 8 : 16;
    uint64_t len = (uint64_t)wsize * count;
    while (len > 0) {
        if (phys) monbuf_printf(out, "%016llx:", (unsigned long long)addr);
        else monbuf_printf(out, "%08llx:", (unsigned long long)addr);
        unsigned l = len < line ? (unsigned)len : line;
        uint8_t b[16];
        if (!read_mem(mon, addr, phys, b, l)) {
            monbuf_printf(out, " Cannot access memory\n");
            return;
        }
        for (unsigned i = 0; i < l; i += wsize) {
            uint64_t v = 0;
            for (int k = wsize - 1; k >= 0; k--) v = v << 8 | b[i + k];
            monbuf_printf(out, " ");
            switch (fmt) {
            case 'o': monbuf_printf(out, "%#*llo", digits, (unsigned long long)v); break;
            case 'u': monbuf_printf(out, "%*llu", digits, (unsigned long long)v); break;
            case 'd': {
                int shift = 64 - wsize * 8;
                long long sv = shift ? (long long)(v << shift) >> shift : (long long)v;
                monbuf_printf(out, "%*lld", digits, sv);
                break;
            }
            case 'c':
                if (v == '\n') monbuf_printf(out, "'\\n'");
                else if (v == '\r') monbuf_printf(out, "'\\r'");
                else if (v == '\\' || v == '\'') monbuf_printf(out, "'\\%c'", (int)v);
                else if (v >= 32 && v < 127) monbuf_printf(out, "'%c'", (int)v);
                else monbuf_printf(out, "'\\x%02x'", (unsigned)v);
                break;
            default: monbuf_printf(out, "0x%0*llx", digits, (unsigned long long)v); break;
            }
        }
        monbuf_printf(out, "\n");
        addr += l;
        if (!phys) addr = (uint32_t)addr;
        len -= l;
    }
}

static void cmd_x(Monitor *mon, const char *args, MonBuf *out) { memory_dump(mon, args, out, false); }
static void cmd_xp(Monitor *mon, const char *args, MonBuf *out) { memory_dump(mon, args, out, true); }

static void cmd_sendkey(Monitor *mon, const char *args, MonBuf *out)
{
    char buf[256], keys[256];
    const char *names[MAX_HELD], *bad;
    int hold = 100; /* QEMU's default hold time, ms */
    args = skip_ws(args);
    size_t kl = strcspn(args, " \t");
    if (kl == 0) {
        monbuf_printf(out, "sendkey: missing key names (e.g. sendkey ctrl-alt-delete)\n");
        return;
    }
    if (kl >= sizeof(keys)) {
        monbuf_printf(out, "sendkey: too many keys\n");
        return;
    }
    memcpy(keys, args, kl);
    keys[kl] = 0;
    const char *rest = skip_ws(args + kl);
    if (*rest) {
        char *end;
        long h = strtol(rest, &end, 0);
        if (*skip_ws(end) || h < 0 || h > 60000) {
            monbuf_printf(out, "sendkey: invalid hold time '%s'\n", rest);
            return;
        }
        hold = (int)h;
    }
    int n = keyname_split(keys, buf, sizeof(buf), names, MAX_HELD, &bad);
    if (n < 0) {
        monbuf_printf(out, "unknown key: '%s'\n", bad);
        return;
    }
    char err[64];
    if (monitor_sendkeys(mon, names, n, hold, err, sizeof(err)) < 0)
        monbuf_printf(out, "unknown key: '%s'\n", err);
}

/* mouse_move dx dy [dz]: relative motion (dy > 0 down, dz > 0 wheel towards the user) */
static void cmd_mouse_move(Monitor *mon, const char *args, MonBuf *out)
{
    long v[3] = {0, 0, 0};
    const char *p = skip_ws(args);
    int n = 0;
    while (*p && n < 3) {
        char *end;
        v[n] = strtol(p, &end, 0);
        if (end == p || (*end && *end != ' ' && *end != '\t')) break;
        n++;
        p = skip_ws(end);
    }
    if (n < 2 || *p || labs(v[0]) > 65535 || labs(v[1]) > 65535 || labs(v[2]) > 127) {
        monbuf_printf(out, "mouse_move: expected dx dy [dz]\n");
        return;
    }
    monitor_mouse(mon, (int)v[0], (int)v[1], (int)v[2], -1, -1, -1);
}

/* mouse_button val: bit 0 left, 1 right, 2 middle */
static void cmd_mouse_button(Monitor *mon, const char *args, MonBuf *out)
{
    char *end;
    const char *p = skip_ws(args);
    long b = strtol(p, &end, 0);
    if (end == p || *skip_ws(end) || b < 0 || b > 7) {
        monbuf_printf(out, "mouse_button: expected a state 0-7 (1 left, 2 right, 4 middle)\n");
        return;
    }
    monitor_mouse(mon, 0, 0, 0, -1, -1, (int)b);
}

static void cmd_screendump(Monitor *mon, const char *args, MonBuf *out)
{
    char path[1024] = "", fmt[16] = "";
    bool text = false;
    const char *p = skip_ws(args);
    while (*p) {
        size_t l = strcspn(p, " \t");
        if (l == 6 && !strncmp(p, "--text", 6)) {
            text = true;
        } else if (l == 2 && !strncmp(p, "-f", 2)) {
            p = skip_ws(p + l);
            l = strcspn(p, " \t");
            if (!l || l >= sizeof(fmt)) {
                monbuf_printf(out, "screendump: -f needs png or ppm\n");
                return;
            }
            memcpy(fmt, p, l);
            fmt[l] = 0;
        } else if (!path[0] && l < sizeof(path)) {
            memcpy(path, p, l);
            path[l] = 0;
        } else {
            monbuf_printf(out, "screendump: unexpected argument '%.*s'\n", (int)l, p);
            return;
        }
        p = skip_ws(p + l);
    }
    if (!path[0]) {
        monbuf_printf(out, "screendump: missing file name\n");
        return;
    }
    char err[1200];
    if (monitor_screendump(mon, path, fmt[0] ? fmt : NULL, text, err, sizeof(err)) < 0)
        monbuf_printf(out, "screendump: %s\n", err);
}

static const Cmd CMDS[] = {
    {"cont", "c", "", "resume emulation", cmd_cont},
    {"help", "?", "[cmd]", "show the help", cmd_help},
    {"info", NULL, "[subcommand]", "show various information about the system state",
     cmd_info},
    {"mouse_button", NULL, "state", "change mouse button state (1=L, 2=R, 4=M)",
     cmd_mouse_button},
    {"mouse_move", NULL, "dx dy [dz]", "send mouse move events", cmd_mouse_move},
    {"quit", "q", "", "quit the emulator", cmd_quit},
    {"screendump", NULL, "filename [-f png|ppm] [--text]",
     "save the screen as PNG (PPM for -f ppm or a .ppm name; --text: the text screen)",
     cmd_screendump},
    {"sendkey", NULL, "keys [hold_ms]",
     "send keys to the VM (e.g. 'sendkey ctrl-alt-f1', default hold time=100 ms)",
     cmd_sendkey},
    {"stop", NULL, "", "stop emulation", cmd_stop},
    {"system_powerdown", NULL, "", "send system power down event", cmd_powerdown},
    {"system_reset", NULL, "", "reset the system", cmd_reset},
    {"x", NULL, "/fmt addr", "virtual memory dump starting at 'addr'", cmd_x},
    {"xp", NULL, "/fmt addr", "physical memory dump starting at 'addr'", cmd_xp},
};

static void info_registers(Monitor *mon, MonBuf *out)
{
    char buf[2048];
    cpu_format_state(&mon->m->cpu, buf, sizeof(buf));
    monbuf_printf(out, "%s", buf);
}

static void info_status(Monitor *mon, MonBuf *out)
{
    monbuf_printf(out, "VM status: %s\n", mon->in->paused ? "paused" : "running");
}

static void info_version(Monitor *mon, MonBuf *out)
{
    monbuf_printf(out, "%s (dbt86)\n", DBT86_VERSION);
}

static const struct {
    const char *name, *help;
    void (*fn)(Monitor *, MonBuf *);
} INFOS[] = {
    {"registers", "show the cpu registers", info_registers},
    {"status", "show the current VM status (running|paused)", info_status},
    {"version", "show the version of dbt86", info_version},
};

static void cmd_info(Monitor *mon, const char *args, MonBuf *out)
{
    const char *p = skip_ws(args);
    size_t l = strcspn(p, " \t");
    if (!l) {
        for (size_t i = 0; i < sizeof(INFOS) / sizeof(INFOS[0]); i++)
            monbuf_printf(out, "info %s  -- %s\n", INFOS[i].name, INFOS[i].help);
        return;
    }
    for (size_t i = 0; i < sizeof(INFOS) / sizeof(INFOS[0]); i++) {
        if (strlen(INFOS[i].name) == l && !strncmp(p, INFOS[i].name, l)) {
            INFOS[i].fn(mon, out);
            return;
        }
    }
    monbuf_printf(out, "unknown info command: '%.*s'\n", (int)l, p);
}

static void cmd_help(Monitor *mon, const char *args, MonBuf *out)
{
    const char *p = skip_ws(args);
    size_t l = strcspn(p, " \t");
    bool any = false;
    for (size_t i = 0; i < sizeof(CMDS) / sizeof(CMDS[0]); i++) {
        const Cmd *c = &CMDS[i];
        if (l && !(strlen(c->name) == l && !strncmp(p, c->name, l)) &&
            !(c->alias && strlen(c->alias) == l && !strncmp(p, c->alias, l)))
            continue;
        any = true;
        monbuf_printf(out, "%s%s%s %s -- %s\n", c->name, c->alias ? "|" : "",
                      c->alias ? c->alias : "", c->params, c->help);
    }
    if (!any) monbuf_printf(out, "unknown command: '%.*s'\n", (int)l, p);
}

void monitor_command(Monitor *mon, const char *line, MonBuf *out)
{
    const char *p = skip_ws(line);
    if (!*p) return;
    /* the name ends at a blank or at '/' (x/4x works like x /4x) */
    size_t l = strcspn(p, " \t/");
    for (size_t i = 0; i < sizeof(CMDS) / sizeof(CMDS[0]); i++) {
        const Cmd *c = &CMDS[i];
        if ((strlen(c->name) == l && !strncmp(p, c->name, l)) ||
            (c->alias && strlen(c->alias) == l && !strncmp(p, c->alias, l))) {
            c->fn(mon, p + l, out);
            return;
        }
    }
    monbuf_printf(out, "unknown command: '%.*s'\n", (int)l, p);
}

/* ---- channels ---- */

Monitor *monitor_open(const MonitorConfig *cfg, char *err, size_t errlen)
{
    bool hmp = cfg->hmp && strcmp(cfg->hmp, "none") && strcmp(cfg->hmp, "null");
    bool qmp = cfg->qmp && strcmp(cfg->qmp, "none") && strcmp(cfg->qmp, "null");
    err[0] = 0;
    if (!hmp && !qmp) return NULL;
    Monitor *mon = calloc(1, sizeof(*mon));
    if (!mon) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mon->hmp_sock.listen_fd = mon->hmp_sock.client_fd = -1;
    mon->last_fmt = 'x';
    mon->last_size = 4;
    if (hmp) {
        if (!strcmp(cfg->hmp, "stdio")) {
            mon->hmp_stdio = true;
            mon->hmp_mux = cfg->hmp_mux;
        } else {
            char e[400];
            if (sockchr_open(&mon->hmp_sock, cfg->hmp, e, sizeof(e)) < 0) {
                snprintf(err, errlen, "-monitor %s", e);
                free(mon);
                return NULL;
            }
            mon->hmp_sock_on = true;
        }
    }
    if (qmp) {
        mon->qmp = qmp_open(cfg->qmp, err, errlen);
        if (!mon->qmp) {
            if (mon->hmp_sock_on) sockchr_close(&mon->hmp_sock);
            free(mon);
            return NULL;
        }
    }
    return mon;
}

static void hmp_banner(MonBuf *b)
{
    monbuf_printf(b, "dbt86 %s monitor - type 'help' for more information\n", DBT86_VERSION);
}

static void watch_fds(Monitor *mon)
{
    Input *in = mon->in;
    in->n_watch = 0;
    if (mon->hmp_sock_on) in->watch_fds[in->n_watch++] = sockchr_poll_fd(&mon->hmp_sock);
    if (mon->qmp) in->watch_fds[in->n_watch++] = qmp_poll_fd(mon->qmp);
}

void monitor_start(Monitor *mon, Input *in, Machine *m)
{
    if (!mon) return;
    mon->in = in;
    mon->m = m;
    mon->was_paused = in->paused;
    mon->resets_seen = m->resets;
    if (mon->hmp_stdio) {
        in->stdin_monitor = true;
        in->mux = mon->hmp_mux;
        in->focus_monitor = !mon->hmp_mux;
        if (!mon->hmp_mux) {
            MonBuf b = {0};
            hmp_banner(&b);
            monbuf_printf(&b, PROMPT);
            write_fd1(b.s, b.len);
            monbuf_free(&b);
        }
        mon->stdio_focus_seen = in->focus_monitor;
    }
    /* sockets without nowait: the machine starts once a client is there */
    if (mon->hmp_sock_on && mon->hmp_sock.wait) sockchr_wait_client(&mon->hmp_sock);
    if (mon->qmp) qmp_start(mon->qmp, mon);
    watch_fds(mon);
}

/* Feeds typed bytes to a line; runs complete lines. Returns false if the channel went
 * away during a command. */
static void hmp_input(Monitor *mon, bool sock, const char *buf, size_t n)
{
    char *line = sock ? mon->sock_line : mon->stdio_line;
    size_t *len = sock ? &mon->sock_len : &mon->stdio_len;
    bool *cr = sock ? &mon->sock_cr : &mon->stdio_cr;
    bool echo = !sock && mon->in->tty; /* a raw terminal shows only what we echo */
    MonBuf out = {0};
    for (size_t i = 0; i < n; i++) {
        char ch = buf[i];
        if (ch == '\n' && *cr) {
            *cr = false;
            continue;
        }
        *cr = ch == '\r';
        if (ch == '\r' || ch == '\n') {
            if (echo) monbuf_printf(&out, "\n");
            if (sock && mon->sock_overlong) {
                monbuf_printf(&out, "command line too long\n");
                mon->sock_overlong = false;
            } else {
                line[*len] = 0;
                monitor_command(mon, line, &out);
            }
            *len = 0;
            monbuf_printf(&out, PROMPT);
            if (sock) {
                sockchr_write(&mon->hmp_sock, out.s, out.len);
                if (mon->hmp_sock.client_fd < 0) break; /* the client left */
            } else {
                write_fd1(out.s, out.len);
            }
            out.len = 0;
            if (mon->in->quit) break;
            continue;
        }
        if (ch == 0x7f || ch == 0x08) {
            if (*len) {
                (*len)--;
                if (echo) monbuf_printf(&out, "\b \b");
            }
        } else if ((unsigned char)ch >= 0x20 || ch == '\t') {
            if (*len + 1 < LINE_MAX_LEN) {
                line[(*len)++] = ch;
                if (echo) monbuf_printf(&out, "%c", ch);
            } else if (sock) {
                mon->sock_overlong = true;
            }
        }
    }
    if (out.len) {
        if (sock) sockchr_write(&mon->hmp_sock, out.s, out.len);
        else write_fd1(out.s, out.len);
    }
    monbuf_free(&out);
}

void monitor_poll(Monitor *mon)
{
    if (!mon) return;
    Input *in = mon->in;
    Machine *m = mon->m;
    /* guest resets (and ours, carried out by main.c since the last poll) */
    if (m->resets != mon->resets_seen) {
        mon->resets_seen = m->resets;
        if (mon->qmp)
            qmp_event(mon->qmp, "RESET",
                      mon->host_reset ? "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}"
                                      : "{\"guest\": true, \"reason\": \"guest-reset\"}");
        mon->host_reset = false;
    }
    note_pause_state(mon); /* someone else (a window) paused or resumed */
    if (mon->n_held && input_host_ns(in) - mon->pressed_host >= mon->hold_ns &&
        machine_now_ns(m) - mon->pressed_vt >= 1000000)
        release_held(mon);
    if (mon->hmp_stdio) {
        if (in->focus_monitor && !mon->stdio_focus_seen) write_fd1("\n" PROMPT, 8);
        mon->stdio_focus_seen = in->focus_monitor;
        if (in->n_mon_in) {
            char buf[sizeof(in->mon_in)];
            size_t n = in->n_mon_in;
            memcpy(buf, in->mon_in, n);
            in->n_mon_in = 0;
            hmp_input(mon, false, buf, n);
        }
    }
    if (mon->hmp_sock_on) {
        if (sockchr_accept(&mon->hmp_sock)) {
            mon->sock_len = 0;
            mon->sock_cr = mon->sock_overlong = false;
            MonBuf b = {0};
            hmp_banner(&b);
            monbuf_printf(&b, PROMPT);
            sockchr_write(&mon->hmp_sock, b.s, b.len);
            monbuf_free(&b);
        }
        char buf[1024];
        int n;
        while (!in->quit && (n = sockchr_read(&mon->hmp_sock, buf, sizeof(buf))) > 0)
            hmp_input(mon, true, buf, (size_t)n);
    }
    if (mon->qmp && !in->quit) qmp_poll(mon->qmp);
    watch_fds(mon);
}

static const char *shutdown_reason(Monitor *mon, bool *guest)
{
    *guest = false;
    if (mon->quit_reason) return mon->quit_reason;
    if (mon->in->quit) return "host-ui"; /* Ctrl-A x, the window */
    *guest = true;
    switch (mon->m->exit.kind) {
    case MEXIT_POWEROFF: return "guest-shutdown";
    case MEXIT_RESET: return "guest-reset";
    case MEXIT_DEBUG_EXIT: return "guest-shutdown";
    case MEXIT_HALTED: return "guest-panic";
    case MEXIT_TIMEOUT: *guest = false; return "host-signal";
    case MEXIT_QUIT: *guest = false; return "host-ui";
    case MEXIT_CHECK: *guest = false; return "host-error";
    }
    return "none";
}

void monitor_close(Monitor *mon)
{
    if (!mon) return;
    if (mon->qmp) {
        bool guest;
        const char *reason = shutdown_reason(mon, &guest);
        char data[128];
        snprintf(data, sizeof(data), "{\"guest\": %s, \"reason\": \"%s\"}",
                 guest ? "true" : "false", reason);
        qmp_event(mon->qmp, "SHUTDOWN", data);
        qmp_close(mon->qmp);
    }
    if (mon->hmp_sock_on) sockchr_close(&mon->hmp_sock);
    if (mon->in) mon->in->n_watch = 0;
    free(mon);
}
