/*
 * options.h — the command line, with QEMU's option names and meanings where QEMU has
 * them (-m, -hda, -drive, -boot, -bios, -nographic, -display, -serial, -no-reboot,
 * -device isa-debug-exit, -d/-D, -accel, -icount, -snapshot, -monitor, -qmp,
 * -machine pc[,vmport=], -smbios type=1) and
 * dbt86's own (-timeout, -screenshot).
 */
#ifndef DBT86_OPTIONS_H
#define DBT86_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "devices/machine.h"

typedef enum CharKind { CHAR_NONE, CHAR_STDIO, CHAR_FILE } CharKind;

typedef struct CharSpec {
    CharKind kind;
    const char *path; /* CHAR_FILE */
} CharSpec;

typedef struct Options {
    MachineConfig mc;
    CharSpec serial[2];
    CharSpec debugcon;
    bool nographic;
    bool display_none;
    bool display_sdl;         /* sdl: -display sdl: the SDL2 window */
    bool display_text;        /* -display text: the text screen on the terminal */
    bool icount_sleep;        /* -icount sleep=on (default): idle time follows host time */
    double timeout_s;         /* -timeout: host seconds (0 = none) */
    const char *screenshot;   /* -screenshot FILE: the screen at exit */
    const char *log_path;     /* -D */
    const char *monitor;      /* -monitor: NULL, "none", "stdio" or a server socket */
    bool monitor_mux;         /* monitor: stdio shared with COM1 (-nographic, mon:stdio) */
    const char *qmp;          /* -qmp: NULL or a server socket */
    bool stats;               /* -stats: print instruction count and MIPS at exit */
    bool rtc_fixed;           /* -rtc base=DATE given */
    bool show_help, show_version;
} Options;

/* Parses argv into opts. On error returns -1 with a one-line message in err. */
int options_parse(Options *opts, int argc, char **argv, char *err, size_t errlen);
void options_usage(FILE *f);

#endif
