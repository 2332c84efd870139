/*
 * monitor.h — QEMU's human monitor (HMP) on stdio or a socket, and the hub that
 * QMP (ui/qmp.c) hangs from. The monitor is a front end like the window: it never
 * touches the machine while a slice of guest time runs. ui/main.c calls monitor_poll
 * between slices and while paused; the monitor reads commands, inspects the machine
 * (registers, memory through a side-effect-free page walk), and asks for changes
 * through the input layer (Input.paused, want_reset, want_powerdown, quit,
 * input_key) which main.c carries out.
 *
 *     Monitor *mon = monitor_open(&cfg, err, sizeof err);   // NULL + err on a bad spec
 *     monitor_start(mon, &in, m);       // stdin roles, waits for "server" clients
 *     for (;;) { monitor_poll(mon); ... run a slice ... }
 *     monitor_close(mon);               // SHUTDOWN event, sockets closed
 */
#ifndef DBT86_MONITOR_H
#define DBT86_MONITOR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "devices/machine.h"
#include "ui/input.h"

#ifndef DBT86_VERSION
#define DBT86_VERSION "0.1.0"
#endif

typedef struct Monitor Monitor;

typedef struct MonitorConfig {
    const char *hmp;  /* -monitor: NULL/"none", "stdio", "unix:PATH,server[,nowait]", "tcp:..." */
    bool hmp_mux;     /* stdio shared with COM1 (Ctrl-A c switches) */
    const char *qmp;  /* -qmp: NULL/"none", or a socket as above */
} MonitorConfig;

/* A growing text buffer for command output. */
typedef struct MonBuf {
    char *s;
    size_t len, cap;
} MonBuf;

void monbuf_printf(MonBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void monbuf_free(MonBuf *b);

/* Opens the sockets. NULL with a one-line message in err when a spec is bad or a
 * socket cannot be created; NULL without an error when there is nothing to open. */
Monitor *monitor_open(const MonitorConfig *cfg, char *err, size_t errlen);
/* Wires the monitor to the input layer and the machine; blocks for the first client
 * of a socket given without "nowait", as QEMU does. */
void monitor_start(Monitor *mon, Input *in, Machine *m);
/* Between slices: accept clients, run complete commands, release held keys, emit
 * QMP events for state changes (pause, resume, guest resets). */
void monitor_poll(Monitor *mon);
/* The run is over: the SHUTDOWN event (reason from m->exit), then close everything. */
void monitor_close(Monitor *mon);

/* For QMP: run one human monitor command line, its output appended to out. */
void monitor_command(Monitor *mon, const char *line, MonBuf *out);
/* For QMP (and HMP): the machine control requests with their events. */
void monitor_stop(Monitor *mon);
void monitor_cont(Monitor *mon);
void monitor_system_reset(Monitor *mon);
void monitor_system_powerdown(Monitor *mon);
void monitor_quit(Monitor *mon);
bool monitor_paused(const Monitor *mon);
/* Screendump: fmt "png", "ppm" or NULL (by the name: .ppm = PPM, else PNG);
 * text = the text screen as plain text. 0 or -1 with a message in err. */
int monitor_screendump(Monitor *mon, const char *path, const char *fmt, bool text, char *err,
                       size_t errlen);
/* Types keys (QEMU names, see keynames.h), released after hold_ms of host time once
 * the guest has run. 0, or -1 with the bad key name in err. */
int monitor_sendkeys(Monitor *mon, const char *const *names, int n, int hold_ms, char *err,
                     size_t errlen);
/* vmport: one pointer event from the monitor (mouse_move, mouse_button, QMP's
 * input-send-event): relative motion dx, dy (> 0 down), wheel dz (> 0 towards the
 * user), an absolute position abs_x/abs_y in 0..0xFFFF (-1: unchanged), buttons (bit 0
 * left, 1 right, 2 middle; -1: unchanged). Positions reach the guest only while it has
 * the vmmouse in absolute mode. */
void monitor_mouse(Monitor *mon, int dx, int dy, int dz, int abs_x, int abs_y, int buttons);
/* vmport: the buttons as the monitor last set them. */
unsigned monitor_mouse_buttons(const Monitor *mon);

#endif
