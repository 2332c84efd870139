/*
 * input.c — stdin to COM1 with QEMU's Ctrl-A escapes (Ctrl-A x quits, Ctrl-A Ctrl-A
 * sends Ctrl-A), terminal raw mode while running, and host time readings.
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
    if (!in->stdin_serial || in->stdin_eof || in->npending) {
        if (timeout_ns) {
            struct timespec ts = {timeout_ns / 1000000000ull, timeout_ns % 1000000000ull};
            nanosleep(&ts, NULL);
        }
        return;
    }
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int r = poll(&p, 1, (int)(timeout_ns / 1000000));
    if (r <= 0 || !(p.revents & (POLLIN | POLLHUP))) return;
    uint8_t buf[128];
    ssize_t n = read(0, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) in->stdin_eof = true;
        return;
    }
    for (ssize_t i = 0; i < n && in->npending < sizeof(in->pending); i++) {
        uint8_t ch = buf[i];
        if (in->escape) {
            in->escape = false;
            if (ch == 'x') {
                in->quit = true;
                continue;
            }
            if (ch != 1) continue; /* unknown escape: ignored, as in QEMU */
        } else if (ch == 1 && in->tty) {
            in->escape = true;
            continue;
        }
        in->pending[in->npending++] = ch;
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

/* sdl */
void input_mouse(Input *in, Machine *m, int dx, int dy, int dz, unsigned buttons)
{
    (void)in;
    kbc_put_mouse(&m->kbc, dx, dy, dz, buttons);
}
