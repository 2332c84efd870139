/*
 * input.h — the input layer: the one place where outside input enters the machine
 * (bytes typed on stdin for the serial port, host time for pacing and the RTC's
 * start). Record/replay will hook in here; nothing else reads host state.
 */
#ifndef DBT86_INPUT_H
#define DBT86_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "devices/machine.h"

typedef struct Input {
    bool stdin_serial;        /* stdin feeds COM1 */
    bool stdin_eof;           /* stdin closed */
    bool tty;                 /* stdin is a terminal we put in raw mode */
    bool escape;              /* Ctrl-A seen: next key is a command (x = quit) */
    bool quit;                /* the user asked to quit */
    /* requests from the front ends (window hotkeys, monitor, QMP), carried out by
     * ui/main.c's loop between slices of guest time */
    bool paused;              /* the machine does not run while set (stop/cont) */
    bool want_reset;          /* system_reset: reset the machine once */
    bool want_powerdown;      /* system_powerdown: press the ACPI power button once */
    uint8_t pending[256];     /* bytes read but not yet accepted by the UART */
    unsigned npending;
    /* monitor: stdin can be the monitor's (-monitor stdio), or shared with COM1
     * (-nographic, -serial mon:stdio) where Ctrl-A c switches between the two */
    bool stdin_monitor;       /* stdin reaches the monitor */
    bool mux;                 /* stdin is shared by COM1 and the monitor */
    bool focus_monitor;       /* typed bytes go to the monitor, not COM1 */
    uint8_t mon_in[512];      /* bytes typed for the monitor (ui/monitor.c takes them) */
    unsigned n_mon_in;
    int watch_fds[4];         /* monitor/QMP sockets: input on them ends input_poll's wait */
    unsigned n_watch;
    uint64_t host_start_ns;   /* host monotonic time at start */
    struct termios saved_tio; /* terminal settings to restore at exit */
} Input;

void input_init(Input *in, bool stdin_serial);
void input_restore(Input *in);
/* Host monotonic nanoseconds since input_init. */
uint64_t input_host_ns(const Input *in);
/* Host wall-clock seconds (UTC), for the RTC's start time. */
uint64_t input_wallclock(void);
/* Wait up to timeout_ns for input (0 = just poll), then deliver what arrived. */
void input_poll(Input *in, Machine *m, uint64_t timeout_ns);
/* sdl: a key event from a window as set-2 scan code bytes (make, or F0-prefixed break),
 * for the 8042's keyboard. */
void input_key(Input *in, Machine *m, const uint8_t *set2, int n);
/* sdl: relative mouse motion (dy > 0 down), wheel and buttons (bit 0 left, 1 right,
 * 2 middle) for the 8042's PS/2 mouse. */
void input_mouse(Input *in, Machine *m, int dx, int dy, int dz, unsigned buttons);
/* vmport: an absolute pointer position, x and y in 0..0xFFFF across the guest's screen
 * (0 left/top, 0xFFFF right/bottom), wheel dz (> 0 towards the user) and buttons as
 * above. It reaches the guest only while its driver has the vmmouse in absolute mode;
 * returns false otherwise, and the caller sends relative motion (input_mouse). */
bool input_mouse_abs(Input *in, Machine *m, unsigned x, unsigned y, int dz, unsigned buttons);
/* vmport: the guest's driver takes absolute positions now (the window need not grab). */
bool input_mouse_is_absolute(const Machine *m);

#endif
