/*
 * machine_snapshot.h — save and restore a whole Machine as a snapshot file (format at the
 * top of snapshot/state.h): configuration check, CPU, clock, board,
 * one section per device of m->devices[], RAM and video memory as zlib blobs. This is
 * the API a `savevm`/`loadvm` command or a `-loadvm FILE` option calls.
 *
 *     char err[256];
 *     if (machine_save(m, "vm.snap", err, sizeof err) < 0) fprintf(stderr, "%s\n", err);
 *     if (machine_load(m, "vm.snap", err, sizeof err) < 0) ...   // m keeps running
 */
#ifndef DBT86_MACHINE_SNAPSHOT_H
#define DBT86_MACHINE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "devices/machine.h"
#include "snapshot/state.h"

/* Call between machine_run_for() slices. Returns 0, or -1 with a one-line message. */
int machine_save(Machine *m, const char *path, char *err, size_t errlen);
/* Loads into a machine created with the same configuration (same RAM size and icount
 * shift; the same disks, which are not part of the snapshot). The file is checked
 * completely before anything changes: on error m is untouched. */
int machine_load(Machine *m, const char *path, char *err, size_t errlen);

/* The same, to and from memory (b must be zero-initialised; free with snap_buf_free). */
int machine_save_buf(Machine *m, SnapBuf *b, char *err, size_t errlen);
int machine_load_buf(Machine *m, const uint8_t *data, size_t len, char *err, size_t errlen);

/* The snapshot section name of m->devices[i]: its StateDesc name, with ".N" added for
 * the N-th (N >= 1) device sharing that name ("uart", "uart.1"). "" if it has no state. */
void machine_device_section(const Machine *m, unsigned i, char *buf, size_t n);

#endif
