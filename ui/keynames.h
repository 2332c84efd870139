/*
 * keynames.h — QEMU's key names (the QKeyCode names that `sendkey` and QMP's
 * send-key use: "a", "ret", "ctrl", "alt_r", "f1", "kp_enter", ...) and their PS/2
 * scan code set 2 bytes, for any front end that types keys into the 8042 through
 * input_key() (the monitor's sendkey; a window could share the table).
 *
 *     uint8_t b[8]; int n = keyname_set2("delete", false, b);   // E0 71
 *     n = keyname_set2("delete", true, b);                       // E0 F0 71
 */
#ifndef DBT86_KEYNAMES_H
#define DBT86_KEYNAMES_H

#include <stdbool.h>
#include <stdint.h>

/* Set-2 bytes for pressing (brk = false) or releasing the key called `name`: a QEMU
 * key name, or a number "0xNN" that QEMU reads as a set-1 scan code with 0x80 standing
 * for the E0 prefix (0x1e = a, 0x9d = ctrl_r). Writes at most 8 bytes to out and
 * returns how many, 0 for a key that sends nothing on release (pause), -1 for an
 * unknown name. */
int keyname_set2(const char *name, bool brk, uint8_t out[8]);

/* Parses QEMU's sendkey argument ("ctrl-alt-delete", "shift-a", "0x1e"): fills
 * names[] with up to max key names (pointers into buf, a copy of keys the caller
 * gives with its size) and returns their number, or -1 with the bad name in *bad. */
int keyname_split(const char *keys, char *buf, int buflen, const char **names, int max,
                  const char **bad);

#endif
