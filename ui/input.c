/*
 * input.c — stdin to COM1 with QEMU's Ctrl-A escapes (Ctrl-A x quits, Ctrl-A Ctrl-A
 * sends Ctrl-A, Ctrl-A c switches stdin between COM1 and a muxed monitor), terminal
 * raw mode while running, and host time readings.
 */
#include "ui/input.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void input_init(Input *in, bool stdin_serial)
{
    memset(in, 0, sizeof(*in));
    in->stdin_serial = stdin_serial;
    in->host_start_ns = mono_ns();
    if (stdin_serial && isatty(0) && tcgetattr(0, &in->saved_tio) == 0) {
        struct termios t = in->saved_tio;
        cfmakeraw(&t);
        t.c_oflag |= OPOST | ONLCR; /* keep \n -> \r\n for our own messages */
        if (tcsetattr(0, TCSANOW, &t) == 0) in->tty = true;
    }
}

void input_restore(Input *in)
{
    if (in->tty) tcsetattr(0, TCSANOW, &in->saved_tio);
    in->tty = false;
}

uint64_t input_host_ns(const Input *in) { return mono_ns() - in->host_start_ns; }

uint64_t input_wallclock(void) { return (uint64_t)time(NULL); }

static void feed(Input *in, Machine *m)
{
    if (!in->npending) return;
    size_t n = uart_receive(&m->uart[0], in->pending, in->npending);
    memmove(in->pending, in->pending + n, in->npending - n);
    in->npending -= n;
}

void input_poll(Input *in, Machine *m, uint64_t timeout_ns)
{
    feed(in, m);
    /* stdin is read when someone can take its bytes: COM1 (nothing pending) or the
     * monitor (room in mon_in) */
    bool room = in->focus_monitor ? in->n_mon_in + 128 <= sizeof(in->mon_in)
                : in->mux             ? in->npending + 128 <= sizeof(in->pending)
                                      : !in->npending;
    bool read_stdin = (in->stdin_serial || in->stdin_monitor) && !in->stdin_eof && room;
    struct pollfd p[1 + sizeof(in->watch_fds) / sizeof(in->watch_fds[0])];
    int np = 0;
    if (read_stdin) p[np++] = (struct pollfd){.fd = 0, .events = POLLIN};
    for (unsigned i = 0; i < in->n_watch; i++)
        p[np++] = (struct pollfd){.fd = in->watch_fds[i], .events = POLLIN};
    if (!np) {
        if (timeout_ns) {
            struct timespec ts = {timeout_ns / 1000000000ull, timeout_ns % 1000000000ull};
            nanosleep(&ts, NULL);
        }
        return;
    }
    int r = poll(p, np, (int)(timeout_ns / 1000000));
    if (r <= 0 || !read_stdin || !(p[0].revents & (POLLIN | POLLHUP))) return;
    uint8_t buf[128];
    ssize_t n = read(0, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) in->stdin_eof = true;
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        uint8_t ch = buf[i];
        if (in->escape) {
            in->escape = false;
            if (ch == 'x') {
                in->quit = true;
                continue;
            }
            if (ch == 'c' && in->mux) { /* monitor: switch stdin's owner */
                in->focus_monitor = !in->focus_monitor;
                continue;
            }
            if (ch != 1) continue; /* unknown escape: ignored, as in QEMU */
        } else if (ch == 1 && (in->tty || in->mux)) {
            in->escape = true;
            continue;
        }
        if (in->focus_monitor || !in->stdin_serial) {
            if (in->n_mon_in < sizeof(in->mon_in)) in->mon_in[in->n_mon_in++] = ch;
        } else if (in->npending < sizeof(in->pending)) {
            in->pending[in->npending++] = ch;
        }
    }
    feed(in, m);
}

/* sdl: window input. Every key and mouse event passes here so record/replay can hook
 * it; for now it goes straight to the 8042. */
void input_key(Input *in, Machine *m, const uint8_t *set2, int n)
{
    (void)in;
    kbc_put_keycode(&m->kbc, set2, n);
}

/* sdl. While a guest driver has the vmmouse enabled it reads every event from the
 * vmmouse queue (the PS/2 packets are only its cue), so relative motion goes there. */
void input_mouse(Input *in, Machine *m, int dx, int dy, int dz, unsigned buttons)
{
    (void)in;
    if (vmmouse_enabled(&m->vmmouse)) {
        vmmouse_put_rel(&m->vmmouse, dx, dy, dz, buttons);
        return;
    }
    kbc_put_mouse(&m->kbc, dx, dy, dz, buttons);
}

/* vmport */
bool input_mouse_abs(Input *in, Machine *m, unsigned x, unsigned y, int dz, unsigned buttons)
{
    (void)in;
    if (!vmmouse_absolute(&m->vmmouse)) return false;
    vmmouse_put_abs(&m->vmmouse, (uint16_t)(x > 0xffff ? 0xffff : x),
                    (uint16_t)(y > 0xffff ? 0xffff : y), dz, buttons);
    return true;
}

/* vmport */
bool input_mouse_is_absolute(const Machine *m) { return vmmouse_absolute(&m->vmmouse); }
