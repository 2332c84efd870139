/*
 * machine_snapshot.c — the machine-level snapshot: which sections and blobs make up a
 * Machine, in what order they are restored, and how derived state (memory map, timers,
 * IRQ levels) is rebuilt afterwards. The generic encoding is snapshot/state.c; the
 * Machine is known only here, so snapshot/ stays free of devices/machine.h.
 */
#include "devices/machine_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_state.h"

/* The configuration a snapshot can only be restored into. */
typedef struct SnapConfig {
    uint32_t ram_size;
    uint32_t icount_shift;
    uint64_t disk_size[MACHINE_MAX_DRIVES]; /* per IDE position, 0 = none */
} SnapConfig;

static const StateField config_fields[] = {
    STATE_U32(SnapConfig, ram_size), STATE_U32(SnapConfig, icount_shift),
    STATE_FIELD_(SnapConfig, disk_size, ST_U64, MACHINE_MAX_DRIVES), STATE_END};

/* Disk contents are not in the snapshot (like QEMU's savevm with external images):
 * at least the drives must be the same size at the same positions. */
static uint64_t disk_size(const Machine *m, int i)
{
    return m->blk[i].fd >= 0 ? m->blk[i].size : 0;
}
static const StateDesc config_desc = {"machine", 1, config_fields};

static const StateField clock_fields[] = {STATE_U64(Clock, idle_ns), STATE_END};
static const StateDesc clock_desc = {"clock", 1, clock_fields};

/* Board-level state outside any device (port 0x92 is a device of the list). */
static const StateField board_fields[] = {
    STATE_U64(Machine, resets), STATE_BOOL(Machine, reset_requested), STATE_END};
static const StateDesc board_desc = {"board", 1, board_fields};

void machine_device_section(const Machine *m, unsigned i, char *buf, size_t n)
{
    const StateDesc *d = m->devices[i].ops->state;
    if (!d) {
        snprintf(buf, n, "%s", "");
        return;
    }
    unsigned k = 0;
    for (unsigned j = 0; j < i; j++) {
        const StateDesc *o = m->devices[j].ops->state;
        if (o && !strcmp(o->name, d->name)) k++;
    }
    if (k)
        snprintf(buf, n, "%s.%u", d->name, k);
    else
        snprintf(buf, n, "%s", d->name);
}

int machine_save_buf(Machine *m, SnapBuf *b, char *err, size_t errlen)
{
    SnapConfig cfg = {m->ram_size, m->clock.shift, {0}};
    for (int i = 0; i < MACHINE_MAX_DRIVES; i++) cfg.disk_size[i] = disk_size(m, i);
    snap_begin(b);
    snap_put_section(b, config_desc.name, &config_desc, &cfg);
    snap_put_section(b, cpu_state_desc.name, &cpu_state_desc, &m->cpu);
    snap_put_section(b, clock_desc.name, &clock_desc, &m->clock);
    snap_put_section(b, board_desc.name, &board_desc, m);
    for (unsigned i = 0; i < m->n_devices; i++) {
        const StateDesc *d = m->devices[i].ops->state;
        if (!d) continue;
        char name[SNAP_NAME_MAX + 1];
        machine_device_section(m, i, name, sizeof name);
        snap_put_section(b, name, d, m->devices[i].dev);
    }
    if (snap_put_blob(b, "ram", m->ram, m->ram_size, err, errlen) < 0) return -1;
    if (m->vga.vram && snap_put_blob(b, "vram", m->vga.vram, VGA_VRAM_SIZE, err, errlen) < 0)
        return -1;
    snap_end(b);
    if (b->oom) {
        snprintf(err, errlen, "out of memory building the snapshot");
        return -1;
    }
    return 0;
}

int machine_save(Machine *m, const char *path, char *err, size_t errlen)
{
    SnapBuf b = {0};
    int r = machine_save_buf(m, &b, err, errlen);
    if (r == 0) r = snap_write_file(path, &b, err, errlen);
    snap_buf_free(&b);
    return r;
}

/* Checks (obj == NULL) or applies one optional section. */
static int load_opt(const SnapFile *f, const char *name, const StateDesc *d, void *obj,
                    char *err, size_t errlen)
{
    const SnapChunk *c = snap_find(f, SNAP_SECTION, name);
    return c ? snap_load_section(c, d, obj, err, errlen) : 0;
}

/* Every section of the machine, checked (apply = false) or loaded into m. */
static int load_sections(Machine *m, const SnapFile *f, bool apply, char *err, size_t errlen)
{
    if (load_opt(f, cpu_state_desc.name, &cpu_state_desc, apply ? &m->cpu : NULL, err,
                 errlen) < 0 ||
        load_opt(f, clock_desc.name, &clock_desc, apply ? &m->clock : NULL, err, errlen) < 0 ||
        load_opt(f, board_desc.name, &board_desc, apply ? m : NULL, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < m->n_devices; i++) {
        const StateDesc *d = m->devices[i].ops->state;
        if (!d) continue;
        char name[SNAP_NAME_MAX + 1];
        machine_device_section(m, i, name, sizeof name);
        if (load_opt(f, name, d, apply ? m->devices[i].dev : NULL, err, errlen) < 0) return -1;
    }
    return 0;
}

int machine_load_buf(Machine *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    SnapFile f;
    if (snap_parse(&f, data, len, err, errlen) < 0) return -1;
    int r = -1;
    uint8_t *ram = NULL, *vram = NULL;

    /* 1. check everything; m is not touched */
    const SnapChunk *c = snap_find(&f, SNAP_SECTION, config_desc.name);
    SnapConfig cfg = {0, 0, {0}};
    for (int i = 0; i < MACHINE_MAX_DRIVES; i++) cfg.disk_size[i] = disk_size(m, i);
    if (!c) {
        snprintf(err, errlen, "snapshot corrupt: no machine configuration section");
        goto out;
    }
    if (snap_load_section(c, &config_desc, &cfg, err, errlen) < 0) goto out;
    if (cfg.ram_size != m->ram_size) {
        snprintf(err, errlen, "snapshot has %u MiB of RAM, this machine has %u MiB (use -m %u)",
                 cfg.ram_size >> 20, m->ram_size >> 20, cfg.ram_size >> 20);
        goto out;
    }
    if (cfg.icount_shift != m->clock.shift) {
        snprintf(err, errlen, "snapshot was taken with -icount shift=%u, this machine uses %u",
                 cfg.icount_shift, m->clock.shift);
        goto out;
    }
    for (int i = 0; i < MACHINE_MAX_DRIVES; i++) {
        if (cfg.disk_size[i] != disk_size(m, i)) {
            snprintf(err, errlen,
                     "snapshot has a %llu-byte disk at IDE position %d, this machine %llu bytes",
                     (unsigned long long)cfg.disk_size[i], i,
                     (unsigned long long)disk_size(m, i));
            goto out;
        }
    }
    if (load_sections(m, &f, false, err, errlen) < 0) goto out;
    c = snap_find(&f, SNAP_BLOB, "ram");
    if (!c) {
        snprintf(err, errlen, "snapshot corrupt: no RAM image");
        goto out;
    }
    ram = malloc(m->ram_size);
    if (!ram) {
        snprintf(err, errlen, "out of memory loading the snapshot");
        goto out;
    }
    if (snap_load_blob(c, ram, m->ram_size, err, errlen) < 0) goto out;
    c = snap_find(&f, SNAP_BLOB, "vram");
    if (c && m->vga.vram) {
        vram = malloc(VGA_VRAM_SIZE);
        if (!vram) {
            snprintf(err, errlen, "out of memory loading the snapshot");
            goto out;
        }
        if (snap_load_blob(c, vram, VGA_VRAM_SIZE, err, errlen) < 0) goto out;
    }

    /* 2. apply: from the reset state, so that whatever the file lacks (a field or a
     * device added since) has its power-on value */
    machine_reset(m);
    m->exit_requested = false;
    m->cpu.stop_requested = false;
    while (m->clock.head) timer_del(m->clock.head); /* nothing stale may fire */
    if (load_sections(m, &f, true, err, errlen) < 0) goto out; /* checked: cannot fail */
    memcpy(m->ram, ram, m->ram_size);
    if (vram) memcpy(m->vga.vram, vram, VGA_VRAM_SIZE);

    /* 3. derived state: the page map first, then each device re-arms its timers,
     * re-drives its IRQ lines and maps its BARs on top */
    machine_post_load(m);
    for (unsigned i = 0; i < m->n_devices; i++) {
        const DeviceOps *o = m->devices[i].ops;
        if (o->post_load && o->post_load(m->devices[i].dev) < 0) {
            char name[SNAP_NAME_MAX + 1];
            machine_device_section(m, i, name, sizeof name);
            snprintf(err, errlen, "snapshot: device %s rejected its state", name);
            goto out;
        }
    }
    r = 0;
out:
    free(ram);
    free(vram);
    snap_file_free(&f);
    return r;
}

int machine_load(Machine *m, const char *path, char *err, size_t errlen)
{
    uint8_t *data;
    size_t len;
    if (snap_read_file(path, &data, &len, err, errlen) < 0) return -1;
    int r = machine_load_buf(m, data, len, err, errlen);
    if (r < 0) {
        /* prefix the file name, keeping the message on one line */
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s: %s", path, err);
        snprintf(err, errlen, "%s", tmp);
    }
    free(data);
    return r;
}
