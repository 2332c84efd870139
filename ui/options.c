/*
 * options.c — parsing the QEMU-style command line into MachineConfig and UI settings.
 * Every bad value gets one line naming the option and the problem.
 */
#include "ui/options.h"
#include "translate/dbt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"

void options_usage(FILE *f)
{
    fputs("usage: dbt86 [options] [disk-image]\n"
          "  -m SIZE                 RAM in MiB (suffix M or G), default 128\n"
          "  -hda/-hdb/-hdc/-hdd FILE  raw IDE disk images\n"
          "  -drive file=F[,format=raw][,if=ide][,index=N][,media=disk][,readonly=on]\n"
          "  -fda/-fdb FILE          floppy images (720K, 1.2M, 1.44M, 2.88M)\n" /* floppy */
          "  -drive file=F,if=floppy[,index=0|1][,readonly=on]  a floppy drive\n" /* floppy */
          "  -boot [order=]DRIVES    boot order: c (disk), d (CD), a (floppy), n (net)\n"
          "  -kernel bzImage         boot this Linux kernel directly\n" /* linuxboot */
          "  -initrd FILE            initial ram disk for -kernel\n" /* linuxboot */
          "  -append CMDLINE         kernel command line for -kernel\n" /* linuxboot */
          "  -bios FILE              system BIOS image (default " "SeaBIOS)\n"
          "  -vga none               no VGA adapter\n"
          "  -nographic              no display; serial port on stdio\n"
          "  -display none           no display (the default without a desktop)\n"
          "  -display sdl            a window, the default when DISPLAY or WAYLAND_DISPLAY\n"
          "                          is set. Ctrl+Alt+ F full screen, G release the mouse,\n"
          "                          P pause, R reset, D ACPI power button, S screenshot\n"
          "                          (dbt86-DATE-TIME.png), V paste the clipboard, Q quit;\n"
          "                          closing the window quits\n" /* sdl */
          "  -display text           the text screen on this terminal (Ctrl-A x quits)\n"
          "  -serial stdio|file:PATH|none|mon:stdio  COM1 (given twice: COM2)\n"
          "  -debugcon stdio|file:PATH|none port 0x402 debug console (SeaBIOS log)\n"
          "  -monitor stdio|none|unix:PATH,server[,nowait]|tcp:HOST:PORT,server[,nowait]\n"
          "                          QEMU's human monitor (with -nographic: on stdio,\n"
          "                          Ctrl-A c switches between it and the serial port)\n"
          "  -qmp unix:PATH,server[,nowait]|tcp:HOST:PORT,server[,nowait]  QMP (JSON)\n"
          "  -no-reboot              exit instead of rebooting on reset/triple fault\n"
          "  -device isa-debug-exit[,iobase=0xf4][,iosize=4]\n"
          "  -perfmap                name translated blocks for Linux perf\n"
          "                          (/tmp/perf-PID.map, as QEMU's -perfmap)\n"
          "  -d ITEM,...             log in_asm, out_asm, exec, nochain, int, cpu,\n"
          "                          guest_errors, unimp\n"
          "  -D FILE                 write the log to FILE\n"
          "  -accel dbt[,check=on]   the translator (default); check=on: lockstep checker,\n"
          "                          the interpreter re-runs every block and compares\n"
          "  -accel interp           the interpreter (the reference)\n"
          "  -icount [shift=]N[,sleep=on|off]  2^N ns of virtual time per instruction\n"
          "                          (default 0); sleep=on (default): idle time passes at\n"
          "                          the host's pace, sleep=off: at once\n"
          "  -rtc base=utc|YYYY-MM-DDTHH:MM:SS  RTC start time\n"
          "  -machine pc[,vmport=on|off|auto]  vmport: the VMware backdoor and its absolute\n"
          "                          mouse (vmmouse), on by default as in QEMU\n" /* vmport */
          "  -smbios type=1[,serial=S][,manufacturer=S][,product=S][,version=S][,sku=S]\n"
          "                          [,family=S]  DMI system information strings\n" /* vmport */
          "  -snapshot               do not write disk images\n"
          "  -timeout SECONDS        stop after SECONDS of host time (exit code 4)\n"
          "  -screenshot FILE        write the screen at exit: a text mode as text, a\n"
          "                          graphics mode (or any mode, for FILE.png) as PNG\n"
          "  -stats                  print instructions executed and MIPS at exit\n"
          "  -version, -help\n"
          "exit codes: 0 power-off or quit, 1 error, 2 reset/triple fault with -no-reboot,\n"
          "  4 time-out, 6 CPU halted with interrupts disabled,\n"
          "  (v << 1) | 1 for isa-debug-exit value v\n",
          f);
}

static int charspec(CharSpec *cs, const char *opt, const char *v, char *err, size_t errlen)
{
    if (!strcmp(v, "stdio")) {
        cs->kind = CHAR_STDIO;
    } else if (!strcmp(v, "none") || !strcmp(v, "null")) {
        cs->kind = CHAR_NONE;
    } else if (!strncmp(v, "file:", 5) && v[5]) {
        cs->kind = CHAR_FILE;
        cs->path = v + 5;
    } else {
        snprintf(err, errlen, "%s %s: expected stdio, file:PATH or none", opt, v);
        return -1;
    }
    return 0;
}

static int parse_size_mb(const char *v, uint32_t *mb)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || x <= 0) return -1;
    if (!strcmp(end, "") || !strcasecmp(end, "M") || !strcasecmp(end, "MB") ||
        !strcasecmp(end, "MiB")) {
    } else if (!strcasecmp(end, "G") || !strcasecmp(end, "GB") || !strcasecmp(end, "GiB")) {
        x *= 1024;
    } else if (!strcasecmp(end, "K") || !strcasecmp(end, "KB")) {
        x /= 1024;
    } else {
        return -1;
    }
    if (x > 1e6) return -1;
    *mb = (uint32_t)x;
    return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 0);
    if (errno || end == v || *end || x > max) return -1;
    *out = x;
    return 0;
}

/* Splits "a=b,c=d" style option strings; returns the value of key or NULL. */
static const char *kv_get(const char *s, const char *key, char *buf, size_t buflen)
{
    size_t kl = strlen(key);
    const char *p = s;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            size_t vl = len - kl - 1;
            if (vl >= buflen) vl = buflen - 1;
            memcpy(buf, p + kl + 1, vl);
            buf[vl] = 0;
            return buf;
        }
        p = comma ? comma + 1 : NULL;
    }
    return NULL;
}

/* Checks that every key in s is one of `keys` (NULL-terminated). */
static int kv_check(const char *opt, const char *s, const char *const *keys, bool first_bare,
                    char *err, size_t errlen)
{
    const char *p = s;
    bool first = true;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        bool ok = false;
        if (!eq) {
            ok = first && first_bare;
        } else {
            for (int i = 0; keys[i]; i++)
                if ((size_t)(eq - p) == strlen(keys[i]) && !strncmp(p, keys[i], eq - p)) ok = true;
        }
        if (!ok) {
            snprintf(err, errlen, "%s: unknown parameter '%.*s'", opt, (int)len, p);
            return -1;
        }
        first = false;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static int add_drive(Options *o, const char *file, int index, bool cdrom, bool ro,
                     const char *format, char *err, size_t errlen)
{
    MachineConfig *mc = &o->mc;
    if (mc->n_drives >= MACHINE_MAX_DRIVES) {
        snprintf(err, errlen, "%s: too many drives (at most %d IDE drives)", file,
                 MACHINE_MAX_DRIVES);
        return -1;
    }
    if (index < 0) {
        /* first free position */
        for (int i = 0; i < MACHINE_MAX_DRIVES && index < 0; i++) {
            bool used = false;
            for (int j = 0; j < mc->n_drives; j++) used |= mc->drives[j].index == i;
            if (!used && !(cdrom && i < 2 && false)) index = i;
        }
    }
    for (int j = 0; j < mc->n_drives; j++) {
        if (mc->drives[j].index == index) {
            snprintf(err, errlen, "%s: IDE index %d is already used by %s", file, index,
                     mc->drives[j].file);
            return -1;
        }
    }
    DriveConfig *d = &mc->drives[mc->n_drives++];
    d->file = file;
    d->format = format;
    d->index = index;
    d->cdrom = cdrom;
    d->read_only = ro;
    return 0;
}

static int parse_drive(Options *o, const char *v, char *err, size_t errlen)
{
    static const char *const keys[] = {"file", "format", "if", "index", "media", "readonly",
                                       "snapshot", "cache", NULL};
    if (kv_check("-drive", v, keys, false, err, errlen) < 0) return -1;
    char file[4096], fmt[32], ifc[32], idx[32], media[32], ro[32];
    const char *f = kv_get(v, "file", file, sizeof(file));
    if (!f || !*f) {
        snprintf(err, errlen, "-drive %s: file= is required", v);
        return -1;
    }
    const char *format = kv_get(v, "format", fmt, sizeof(fmt));
    if (format && strcmp(format, "raw")) {
        snprintf(err, errlen, "-drive: format=%s is not supported (only raw so far)", format);
        return -1;
    }
    const char *i = kv_get(v, "if", ifc, sizeof(ifc));
    if (i && !strcmp(i, "floppy")) { /* floppy */
        char idx[32], ro[32];
        const char *ix = kv_get(v, "index", idx, sizeof(idx));
        unsigned long n = o->mc.fda ? 1 : 0;
        if (ix && parse_uint(ix, 1, &n) < 0) {
            snprintf(err, errlen, "-drive if=floppy: index=%s must be 0 or 1", ix);
            return -1;
        }
        if (n ? o->mc.fdb != NULL : o->mc.fda != NULL) {
            snprintf(err, errlen, "-drive %s: floppy drive %c: is already used", v, n ? 'B' : 'A');
            return -1;
        }
        const char *r = kv_get(v, "readonly", ro, sizeof(ro));
        o->mc.fd_read_only[n] = r && (!strcmp(r, "on") || !strcmp(r, "true") || !strcmp(r, "yes"));
        if (n) o->mc.fdb = strdup(f);
        else o->mc.fda = strdup(f);
        return 0;
    }
    if (i && strcmp(i, "ide")) {
        snprintf(err, errlen, "-drive: if=%s is not supported (ide or floppy)", i);
        return -1;
    }
    int index = -1;
    const char *ix = kv_get(v, "index", idx, sizeof(idx));
    if (ix) {
        unsigned long n;
        if (parse_uint(ix, MACHINE_MAX_DRIVES - 1, &n) < 0) {
            snprintf(err, errlen, "-drive: index=%s must be 0..%d", ix, MACHINE_MAX_DRIVES - 1);
            return -1;
        }
        index = (int)n;
    }
    bool cdrom = false;
    const char *md = kv_get(v, "media", media, sizeof(media));
    if (md) {
        if (!strcmp(md, "cdrom")) {
            cdrom = true;
        } else if (strcmp(md, "disk")) {
            snprintf(err, errlen, "-drive: media=%s must be disk or cdrom", md);
            return -1;
        }
    }
    const char *r = kv_get(v, "readonly", ro, sizeof(ro));
    bool readonly = r && (!strcmp(r, "on") || !strcmp(r, "true") || !strcmp(r, "yes"));
    /* the drive string is temporary: keep a copy of the file name */
    return add_drive(o, strdup(f), index, cdrom, readonly, "raw", err, errlen);
}

static int parse_rtc(Options *o, const char *v, char *err, size_t errlen)
{
    char base[64];
    static const char *const keys[] = {"base", "clock", "driftfix", NULL};
    if (kv_check("-rtc", v, keys, false, err, errlen) < 0) return -1;
    const char *b = kv_get(v, "base", base, sizeof(base));
    if (!b || !strcmp(b, "utc") || !strcmp(b, "localtime")) return 0;
    int Y, M, D, h = 0, mi = 0, s = 0;
    if (sscanf(b, "%d-%d-%dT%d:%d:%d", &Y, &M, &D, &h, &mi, &s) < 3 || Y < 1970 || Y > 2099 ||
        M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || s > 59) {
        snprintf(err, errlen, "-rtc base=%s: expected utc or YYYY-MM-DDTHH:MM:SS", b);
        return -1;
    }
    /* days from civil (proleptic Gregorian), UTC */
    int y = Y - (M <= 2);
    int era = y / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    o->mc.rtc_start = (uint64_t)(days * 86400 + h * 3600 + mi * 60 + s);
    o->rtc_fixed = true;
    return 0;
}

/* -accel dbt|tcg|interp[,check=on|off][,native=on|off] */
static int parse_accel(Options *o, const char *v, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    char *t = strtok(buf, ",");
    if (!t || (strcmp(t, "dbt") && strcmp(t, "tcg") && strcmp(t, "interp"))) {
        snprintf(err, errlen, "-accel %s: unknown accelerator (dbt, tcg = dbt, interp)", v);
        return -1;
    }
    o->mc.accel = strcmp(t, "interp") ? ACCEL_DBT : ACCEL_INTERP;
    while ((t = strtok(NULL, ","))) {
        bool *flag = NULL;
        bool on = true;
        char *eq = strchr(t, '=');
        if (eq) {
            *eq = 0;
            if (!strcmp(eq + 1, "off")) on = false;
            else if (strcmp(eq + 1, "on")) {
                snprintf(err, errlen, "-accel %s: '%s' takes on or off", v, t);
                return -1;
            }
        }
        if (!strcmp(t, "check")) flag = &o->mc.dbt_check;
        else if (!strcmp(t, "native")) flag = &o->mc.dbt_native_off;
        if (!flag || o->mc.accel != ACCEL_DBT) {
            snprintf(err, errlen, "-accel %s: unknown property '%s' (dbt takes check=on|off, "
                     "native=on|off)", v, t);
            return -1;
        }
        *flag = flag == &o->mc.dbt_native_off ? !on : on;
    }
    return 0;
}

static int parse_log(Options *o, const char *v, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (!strcmp(t, "in_asm")) o->mc.log_flags |= LOG_IN_ASM;
        else if (!strcmp(t, "int")) o->mc.log_flags |= LOG_INT;
        else if (!strcmp(t, "cpu")) o->mc.log_flags |= LOG_CPU;
        else if (!strcmp(t, "guest_errors")) o->mc.log_flags |= LOG_GUEST_ERRORS;
        else if (!strcmp(t, "unimp")) o->mc.log_flags |= LOG_UNIMP;
        else if (!strcmp(t, "out_asm")) o->mc.dbt_log |= DBT_LOG_OUT_ASM;
        else if (!strcmp(t, "exec")) o->mc.dbt_log |= DBT_LOG_EXEC;
        else if (!strcmp(t, "nochain")) o->mc.dbt_nochain = true;
        else {
            snprintf(err, errlen, "-d %s: unknown log item '%s' (in_asm, out_asm, exec, "
                     "nochain, int, cpu, guest_errors, unimp)", v, t);
            return -1;
        }
    }
    return 0;
}

static int parse_icount(Options *o, const char *v, char *err, size_t errlen)
{
    static const char *const keys[] = {"shift", "sleep", NULL};
    if (kv_check("-icount", v, keys, true, err, errlen) < 0) return -1;
    char buf[32], sb[32];
    const char *s = kv_get(v, "shift", buf, sizeof(buf));
    if (!s && v[0] && !strchr(v, '=')) {
        snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(v, ","), v);
        s = buf;
    }
    if (s) {
        unsigned long n;
        if (parse_uint(s, 10, &n) < 0) {
            snprintf(err, errlen, "-icount shift=%s: must be 0..10", s);
            return -1;
        }
        o->mc.icount_shift = (unsigned)n;
    }
    const char *sl = kv_get(v, "sleep", sb, sizeof(sb));
    if (sl) {
        if (!strcmp(sl, "on")) o->icount_sleep = true;
        else if (!strcmp(sl, "off")) o->icount_sleep = false;
        else {
            snprintf(err, errlen, "-icount sleep=%s: must be on or off", sl);
            return -1;
        }
    }
    return 0;
}

static int parse_device(Options *o, const char *v, char *err, size_t errlen)
{
    if (strncmp(v, "isa-debug-exit", 14) || (v[14] && v[14] != ',')) {
        snprintf(err, errlen, "-device %s: unknown device (supported: isa-debug-exit)", v);
        return -1;
    }
    const char *params = v[14] ? v + 15 : "";
    static const char *const keys[] = {"iobase", "iosize", NULL};
    if (kv_check("-device isa-debug-exit", params, keys, false, err, errlen) < 0) return -1;
    char buf[32];
    unsigned long base = 0x501, size = 2, n;
    const char *b = kv_get(params, "iobase", buf, sizeof(buf));
    if (b) {
        if (parse_uint(b, 0xffff, &n) < 0) {
            snprintf(err, errlen, "-device isa-debug-exit: iobase=%s is not a port number", b);
            return -1;
        }
        base = n;
    }
    const char *s = kv_get(params, "iosize", buf, sizeof(buf));
    if (s) {
        if (parse_uint(s, 4, &n) < 0 || n == 0 || n == 3) {
            snprintf(err, errlen, "-device isa-debug-exit: iosize=%s must be 1, 2 or 4", s);
            return -1;
        }
        size = n;
    }
    o->mc.debug_exit = true;
    o->mc.debug_exit_iobase = (uint16_t)base;
    o->mc.debug_exit_iosize = (uint16_t)size;
    return 0;
}

int options_parse(Options *o, int argc, char **argv, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    machine_config_defaults(&o->mc);
    /* 1 ns of virtual time per instruction: a guest sees a 1 GHz CPU; -icount shift=N
     * chooses another rate. A busy guest is never held back (sleep=on paces only the
     * time it spends halted, as QEMU's -icount sleep=on). */
    o->mc.icount_shift = 0;
    o->icount_sleep = true;
    int nserial = 0;
    bool serial_given = false, boot_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            /* a bare image name is -hda, as in QEMU */
            if (add_drive(o, a, 0, false, false, "raw", err, errlen) < 0) return -1;
            continue;
        }
        if (a[1] == '-') a++; /* --opt works like -opt */
        const char *opt = a;
        /* options without a value */
        if (!strcmp(opt, "-nographic")) { o->nographic = true; continue; }
        if (!strcmp(opt, "-no-reboot")) { o->mc.no_reboot = true; continue; }
        if (!strcmp(opt, "-snapshot")) { o->mc.snapshot = true; continue; }
        if (!strcmp(opt, "-stats")) { o->stats = true; continue; }
        if (!strcmp(opt, "-perfmap")) { o->mc.dbt_perfmap = true; continue; }
        if (!strcmp(opt, "-help") || !strcmp(opt, "-h")) { o->show_help = true; continue; }
        if (!strcmp(opt, "-version")) { o->show_version = true; continue; }
        if (!strcmp(opt, "-S") || !strcmp(opt, "-s")) {
            snprintf(err, errlen, "%s: the gdb stub is not built yet", opt);
            return -1;
        }
        static const char *const with_value[] = {
            "-m", "-hda", "-hdb", "-hdc", "-hdd", "-cdrom", "-drive", "-boot", "-bios", "-vga",
            "-display", "-serial", "-debugcon", "-device", "-d", "-D", "-accel", "-icount",
            "-rtc", "-timeout", "-screenshot", "-smp", "-machine", "-M", "-smbios",
            "-monitor", "-qmp", /* monitor */
            "-kernel", "-initrd", "-append", /* linuxboot */
            "-fda", "-fdb", /* floppy */
            NULL};
        bool known = false;
        for (int k = 0; with_value[k]; k++) known |= !strcmp(opt, with_value[k]);
        if (!known) {
            snprintf(err, errlen, "%s: unknown option (see -help)", opt);
            return -1;
        }
        if (i + 1 >= argc) {
            snprintf(err, errlen, "%s: missing value (see -help)", opt);
            return -1;
        }
        const char *v = argv[++i];
        if (!strcmp(opt, "-m")) {
            char buf[64];
            const char *sz = strchr(v, '=') ? kv_get(v, "size", buf, sizeof(buf)) : v;
            if (!sz || parse_size_mb(sz, &o->mc.ram_mb) < 0) {
                snprintf(err, errlen, "-m %s: not a memory size", v);
                return -1;
            }
        } else if (!strcmp(opt, "-hda") || !strcmp(opt, "-hdb") || !strcmp(opt, "-hdc") ||
                   !strcmp(opt, "-hdd")) {
            if (add_drive(o, v, opt[3] - 'a', false, false, "raw", err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-fda") || !strcmp(opt, "-fdb")) { /* floppy */
            if (opt[3] == 'a') o->mc.fda = v;
            else o->mc.fdb = v;
        } else if (!strcmp(opt, "-cdrom")) {
            if (add_drive(o, v, 2, true, true, "raw", err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-drive")) {
            if (parse_drive(o, v, err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-boot")) {
            static const char *const keys[] = {"order", "once", "menu", "strict", NULL};
            if (kv_check("-boot", v, keys, true, err, errlen) < 0) return -1;
            char buf[32];
            const char *ord = kv_get(v, "order", buf, sizeof(buf));
            if (!ord && !strchr(v, '=')) ord = v;
            if (!ord) ord = kv_get(v, "once", buf, sizeof(buf));
            if (ord) {
                if (strlen(ord) > 3 || strspn(ord, "acdn") != strlen(ord)) {
                    snprintf(err, errlen, "-boot %s: drives must be among a, c, d, n "
                             "(at most 3)", v);
                    return -1;
                }
                snprintf(o->mc.boot_order, sizeof(o->mc.boot_order), "%s", ord);
                boot_given = true;
            }
        } else if (!strcmp(opt, "-bios")) {
            o->mc.bios_path = v;
        } else if (!strcmp(opt, "-vga")) {
            if (!strcmp(v, "none")) o->mc.vgabios_path = "";
            else if (strcmp(v, "std")) {
                snprintf(err, errlen, "-vga %s: supported: std, none", v);
                return -1;
            }
        } else if (!strcmp(opt, "-display")) {
            o->display_none = o->display_sdl = o->display_text = false; /* the last wins */
            if (!strcmp(v, "none")) o->display_none = true;
            else if (!strcmp(v, "text") || !strcmp(v, "curses")) o->display_text = true;
#ifdef DBT86_HAVE_SDL /* sdl */
            else if (!strcmp(v, "sdl")) o->display_sdl = true;
#else
            else if (!strcmp(v, "sdl")) { /* sdl */
                snprintf(err, errlen, "-display sdl: this dbt86 was built without SDL2 "
                         "(install libsdl2-dev and rebuild)");
                return -1;
            }
#endif
            else {
                snprintf(err, errlen, "-display %s: supported: sdl, text, none", v); /* sdl */
                return -1;
            }
        } else if (!strcmp(opt, "-monitor") || !strcmp(opt, "-qmp")) { /* monitor */
            bool hmp = opt[1] == 'm';
            if (hmp ? o->monitor != NULL : o->qmp != NULL) {
                snprintf(err, errlen, "%s %s: only one %s can be given", opt, v, opt);
                return -1;
            }
            if (strcmp(v, "none") && strcmp(v, "null") && strncmp(v, "unix:", 5) &&
                strncmp(v, "tcp:", 4) && !(hmp && !strcmp(v, "stdio"))) {
                snprintf(err, errlen, "%s %s: expected %sunix:PATH,server[,nowait], "
                         "tcp:HOST:PORT,server[,nowait] or none", opt, v, hmp ? "stdio, " : "");
                return -1;
            }
            if (hmp) o->monitor = v;
            else o->qmp = v;
        } else if (!strcmp(opt, "-serial") && !strcmp(v, "mon:stdio")) { /* monitor */
            if (nserial >= 2) {
                snprintf(err, errlen, "-serial %s: at most two serial ports", v);
                return -1;
            }
            o->serial[nserial++].kind = CHAR_STDIO;
            serial_given = true;
            o->monitor_mux = true;
        } else if (!strcmp(opt, "-serial")) {
            if (nserial >= 2) {
                snprintf(err, errlen, "-serial %s: at most two serial ports", v);
                return -1;
            }
            if (charspec(&o->serial[nserial++], "-serial", v, err, errlen) < 0) return -1;
            serial_given = true;
        } else if (!strcmp(opt, "-debugcon")) {
            if (charspec(&o->debugcon, "-debugcon", v, err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-device")) {
            if (parse_device(o, v, err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-d")) {
            if (parse_log(o, v, err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-D")) {
            o->log_path = v;
        } else if (!strcmp(opt, "-accel")) {
            if (parse_accel(o, v, err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-icount")) {
            if (parse_icount(o, v, err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-rtc")) {
            if (parse_rtc(o, v, err, errlen) < 0) return -1;
        } else if (!strcmp(opt, "-timeout")) {
            char *end;
            double t = strtod(v, &end);
            if (end == v || *end || t <= 0) {
                snprintf(err, errlen, "-timeout %s: expected a positive number of seconds", v);
                return -1;
            }
            o->timeout_s = t;
        } else if (!strcmp(opt, "-kernel")) { /* linuxboot */
            o->mc.kernel = v;
        } else if (!strcmp(opt, "-initrd")) { /* linuxboot */
            o->mc.initrd = v;
        } else if (!strcmp(opt, "-append")) { /* linuxboot */
            o->mc.append = v;
        } else if (!strcmp(opt, "-screenshot")) {
            o->screenshot = v;
        } else if (!strcmp(opt, "-smp")) {
            if (strcmp(v, "1") && strcmp(v, "cpus=1")) {
                snprintf(err, errlen, "-smp %s: only one CPU so far", v);
                return -1;
            }
        } else if (!strcmp(opt, "-machine") || !strcmp(opt, "-M")) {
            if (strcmp(v, "pc") && strncmp(v, "pc,", 3) && strcmp(v, "pc-i440fx") &&
                strncmp(v, "type=pc", 7) && strncmp(v, "vmport=", 7)) {
                snprintf(err, errlen, "%s %s: only the i440FX 'pc' machine exists", opt, v);
                return -1;
            }
            char vp[16]; /* vmport: the VMware backdoor and vmmouse (QEMU: auto = on
                          * without KVM) */
            const char *vmport = kv_get(v, "vmport", vp, sizeof(vp));
            if (vmport && strcmp(vmport, "on") && strcmp(vmport, "off") &&
                strcmp(vmport, "auto")) {
                snprintf(err, errlen, "%s %s: vmport must be on, off or auto", opt, v);
                return -1;
            }
            if (vmport) o->mc.no_vmport = !strcmp(vmport, "off");
        } else if (!strcmp(opt, "-smbios")) { /* vmport: DMI strings (VMware detection) */
            if (smbios_parse(&o->mc.smbios1, v, err, errlen) < 0) return -1;
        } else {
            snprintf(err, errlen, "%s: unknown option (see -help)", opt);
            return -1;
        }
    }
    if (o->nographic && !serial_given) o->serial[0].kind = CHAR_STDIO;
    /* monitor: as QEMU, -nographic puts the monitor on stdio unless -monitor says
     * otherwise, sharing it with a serial port there (Ctrl-A c switches) */
    if (o->monitor_mux && o->monitor && strcmp(o->monitor, "stdio")) {
        snprintf(err, errlen, "-serial mon:stdio and -monitor %s: only one monitor", o->monitor);
        return -1;
    }
    if ((o->nographic && !o->monitor) || o->monitor_mux) o->monitor = "stdio";
    bool serial_stdio = o->serial[0].kind == CHAR_STDIO; /* stdin feeds COM1 only */
    if (o->monitor && !strcmp(o->monitor, "stdio") && serial_stdio) o->monitor_mux = true;
    if (o->display_text) { /* the terminal shows the screen and types keys */
        const char *clash = o->nographic ? "-nographic"
                            : o->serial[0].kind == CHAR_STDIO || o->serial[1].kind == CHAR_STDIO
                                ? "-serial stdio"
                            : o->debugcon.kind == CHAR_STDIO ? "-debugcon stdio"
                            : o->monitor && !strcmp(o->monitor, "stdio") ? "-monitor stdio"
                                                                          : NULL;
        if (clash) {
            snprintf(err, errlen, "-display text: cannot be used with %s (both need the "
                     "terminal)", clash);
            return -1;
        }
    }
    if (!boot_given) {
        /* QEMU's default order is c (disk) then d (CD) then n */
        snprintf(o->mc.boot_order, sizeof(o->mc.boot_order), "cdn");
    }
    return 0;
}
