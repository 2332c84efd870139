/*
 * main.c — the dbt86 program: parse options, build the machine, run it headless with
 * serial on stdio, pace idle time to the host clock (-icount sleep=on), and map how
 * the run ended to an exit code (see options_usage()).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/machine.h"
#include "translate/dbt.h"
#include "ui/input.h"
#include "ui/monitor.h"
#include "ui/options.h"
#include "ui/screenshot.h"
#include "ui/sdl.h" /* sdl */
#include "ui/textdisplay.h"

#define EXIT_ERROR 1
#define EXIT_RESET 2
#define EXIT_TIMEOUT 4
#define EXIT_HALTED 6

static void sink_fd(void *opaque, const uint8_t *buf, size_t len)
{
    int fd = (int)(intptr_t)opaque;
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        buf += n;
        len -= n;
    }
}

static void sink_file(void *opaque, const uint8_t *buf, size_t len)
{
    fwrite(buf, 1, len, (FILE *)opaque);
    fflush((FILE *)opaque);
}

static int make_sink(const CharSpec *cs, CharSink *out, const char *what)
{
    out->write = NULL;
    out->opaque = NULL;
    if (cs->kind == CHAR_STDIO) {
        out->write = sink_fd;
        out->opaque = (void *)(intptr_t)1;
    } else if (cs->kind == CHAR_FILE) {
        FILE *f = fopen(cs->path, "wb");
        if (!f) {
            fprintf(stderr, "dbt86: %s %s: %s\n", what, cs->path, strerror(errno));
            return -1;
        }
        out->write = sink_file;
        out->opaque = f;
    }
    return 0;
}

/* The window and the terminal display: their input in, their picture out. */
static void serve_displays(Input *in, Machine *m, SdlUi *ui, TextUi *tui)
{
    if (ui) { /* sdl */
        sdl_poll(ui, in, m);
        sdl_refresh(ui, m, input_host_ns(in));
    }
    if (tui) {
        textdisplay_poll(tui, in, m);
        textdisplay_refresh(tui, m, input_host_ns(in));
    }
}

/* A desktop session: where QEMU opens its window when no -display is given. */
static bool have_desktop(void)
{
    const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    return (x && *x) || (w && *w);
}

int main(int argc, char **argv)
{
    Options o;
    char err[512];
    if (options_parse(&o, argc, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "dbt86: %s\n", err);
        return EXIT_ERROR;
    }
    if (o.show_help) {
        options_usage(stdout);
        return 0;
    }
    if (o.show_version) {
        printf("dbt86 0.1.0\n");
        return 0;
    }
    if (make_sink(&o.serial[0], &o.mc.serial[0], "-serial") < 0 ||
        make_sink(&o.serial[1], &o.mc.serial[1], "-serial") < 0 ||
        make_sink(&o.debugcon, &o.mc.debugcon, "-debugcon") < 0)
        return EXIT_ERROR;
    if (o.log_path) {
        FILE *f = fopen(o.log_path, "w");
        if (!f) {
            fprintf(stderr, "dbt86: -D %s: %s\n", o.log_path, strerror(errno));
            return EXIT_ERROR;
        }
        o.mc.log_file = f;
    }
    if (o.mc.n_drives == 0 && !o.mc.bios_path && !o.mc.fda && !o.mc.fdb && !o.mc.kernel) {
        /* nothing to boot: use the demo disk this build made from roms/demo.asm */
        if (access(DBT86_DEFAULT_GUEST, R_OK) != 0) {
            fprintf(stderr, "dbt86: no disk given and the demo disk %s is missing "
                    "(run ninja in the build directory)\n", DBT86_DEFAULT_GUEST);
            return EXIT_ERROR;
        }
        o.mc.drives[0] = (DriveConfig){.file = DBT86_DEFAULT_GUEST, .format = "raw"};
        o.mc.n_drives = 1;
        o.mc.snapshot = true;
    }
    if (!o.rtc_fixed) o.mc.rtc_start = input_wallclock();
    o.mc.sercon = o.nographic && o.serial[0].kind == CHAR_STDIO;

    Machine *m = machine_create(&o.mc, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "dbt86: %s\n", err);
        return EXIT_ERROR;
    }
    signal(SIGPIPE, SIG_IGN);

    SdlUi *ui = NULL; /* sdl */
    /* no -display: a window on a desktop (if SDL reaches it), else none, as QEMU does */
    bool display_default = !o.display_none && !o.display_sdl && !o.display_text && !o.nographic;
    if (o.display_sdl || (display_default && sdl_available() && have_desktop())) { /* sdl */
        if (o.nographic) {
            fprintf(stderr, "dbt86: -nographic cannot be used with -display sdl\n");
            machine_destroy(m);
            return EXIT_ERROR;
        }
        ui = sdl_open(err, sizeof(err));
        if (!ui && o.display_sdl) {
            fprintf(stderr, "dbt86: %s\n", err);
            machine_destroy(m);
            return EXIT_ERROR;
        }
    }

    TextUi *tui = NULL;
    if (o.display_text) {
        tui = textdisplay_open(0, 1, err, sizeof(err));
        if (!tui) {
            fprintf(stderr, "dbt86: %s\n", err);
            sdl_close(ui);
            machine_destroy(m);
            return EXIT_ERROR;
        }
    }

    /* monitor: the human monitor and QMP, polled between slices like the displays */
    MonitorConfig mcfg = {.hmp = o.monitor, .hmp_mux = o.monitor_mux, .qmp = o.qmp};
    Monitor *mon = monitor_open(&mcfg, err, sizeof(err));
    if (!mon && err[0]) {
        fprintf(stderr, "dbt86: %s\n", err);
        sdl_close(ui); /* sdl */
        textdisplay_close(tui, m);
        machine_destroy(m);
        return EXIT_ERROR;
    }

    bool stdin_serial = o.serial[0].kind == CHAR_STDIO;
    Input in;
    input_init(&in, stdin_serial);
    monitor_start(mon, &in, m);
    /* host time spent paused: pacing compares virtual time with host time minus this,
     * so after cont the guest does not race to catch up (monitor) */
    uint64_t paused_ns = 0, pause_start = 0;
    bool was_paused = false;
    /* -icount sleep=on, as QEMU's: virtual time the guest spends idle (halted until its
     * next timer) passes at the host's pace, busy time as fast as the CPU runs. The
     * idle time not yet matched by host time is owed here. */
    uint64_t idle_seen = 0, idle_owed = 0;
    /* input is polled every 1.25M instructions (10 ms of virtual time at -icount
     * shift=3, 1.25 ms at the default 0), half that with a window or the text display
     * so keys and the picture feel immediate, even in the interpreter */
    unsigned sh = o.mc.icount_shift < 3 ? o.mc.icount_shift : 3;
    const uint64_t slice = (ui || tui ? 5000000ull : 10000000ull) >> (3 - sh);
    for (;;) {
        monitor_poll(mon);
        if (in.paused != was_paused) { /* monitor */
            uint64_t now = input_host_ns(&in);
            if (in.paused) pause_start = now;
            else paused_ns += now - pause_start;
            was_paused = in.paused;
        }
        if (in.want_reset) {
            in.want_reset = false;
            machine_reset(m);
        }
        if (in.want_powerdown) {
            in.want_powerdown = false;
            machine_powerdown(m);
        }
        if (in.paused) {
            /* stopped: serve the front ends, the guest's time stands still */
            if (ui || tui) {
                input_poll(&in, m, 4000000);
                serve_displays(&in, m, ui, tui);
            } else {
                input_poll(&in, m, 10000000);
            }
            if (in.quit) break;
            continue;
        }
        if (machine_run_for(m, slice)) break;
        uint64_t host = input_host_ns(&in) - paused_ns;
        uint64_t wait = 0;
        if (o.icount_sleep) {
            idle_owed += m->idle_ns - idle_seen;
            idle_seen = m->idle_ns;
            /* sleep the idle time off, unless virtual time is behind host time (a slow
             * CPU: skipping ahead catches up); never more than the guest is ahead */
            uint64_t vt = machine_now_ns(m);
            if (vt <= host) idle_owed = 0;
            else wait = vt - host < idle_owed ? vt - host : idle_owed;
            if (wait > 50000000) wait = 50000000;
        }
        uint64_t wait_from = input_host_ns(&in);
        if (ui || tui) { /* wait in pieces of at most 4 ms, serving the displays */
            do {
                uint64_t piece = wait < 4000000 ? wait : 4000000;
                input_poll(&in, m, piece);
                wait -= piece;
                serve_displays(&in, m, ui, tui);
            } while (wait && !in.quit);
        } else {
            input_poll(&in, m, wait);
        }
        if (o.icount_sleep) { /* what was slept (input may end the wait early) */
            uint64_t slept = input_host_ns(&in) - wait_from;
            idle_owed -= slept < idle_owed ? slept : idle_owed;
        }
        if (in.quit) machine_request_exit(m, MEXIT_QUIT, 0);
        if (o.timeout_s > 0 && input_host_ns(&in) > (uint64_t)(o.timeout_s * 1e9))
            machine_request_exit(m, MEXIT_TIMEOUT, 0);
    }
    monitor_close(mon); /* SHUTDOWN event */
    input_restore(&in);
    sdl_close(ui); /* sdl */
    textdisplay_close(tui, m); /* the last picture stays on the terminal */
    if (o.stats) {
        double host_s = input_host_ns(&in) / 1e9;
        fprintf(stderr, "dbt86: %llu instructions, %.3f s virtual, %.3f s host, %.1f MIPS\n",
                (unsigned long long)m->cpu.icount, machine_now_ns(m) / 1e9, host_s,
                host_s > 0 ? m->cpu.icount / host_s / 1e6 : 0.0);
        if (m->dbt) dbt_print_stats(m->dbt, stderr);
    }

    int rc = 0;
    switch (m->exit.kind) {
    case MEXIT_POWEROFF:
    case MEXIT_QUIT: rc = 0; break;
    case MEXIT_CHECK: rc = EXIT_ERROR; break;
    case MEXIT_RESET: rc = EXIT_RESET; break;
    case MEXIT_DEBUG_EXIT: rc = m->exit.status; break;
    case MEXIT_TIMEOUT:
        fprintf(stderr, "dbt86: time limit of %g s reached at %04x:%08x\n", o.timeout_s,
                m->cpu.seg[SEG_CS].sel, m->cpu.eip);
        rc = EXIT_TIMEOUT;
        break;
    case MEXIT_HALTED:
        fprintf(stderr, "dbt86: the CPU halted with interrupts disabled at %04x:%08x\n",
                m->cpu.seg[SEG_CS].sel, m->cpu.eip);
        rc = EXIT_HALTED;
        break;
    }
    if (o.mc.log_flags & LOG_CPU) {
        char buf[2048];
        cpu_format_state(&m->cpu, buf, sizeof(buf));
        fputs(buf, o.mc.log_file ? (FILE *)o.mc.log_file : stderr);
    }
    if (o.screenshot && screenshot_write(m, o.screenshot, err, sizeof(err)) < 0) {
        fprintf(stderr, "dbt86: -screenshot %s\n", err);
        if (rc == 0) rc = EXIT_ERROR;
    }
    machine_destroy(m);
    if (o.mc.log_file) fclose(o.mc.log_file);
    return rc;
}
