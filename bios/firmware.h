/*
 * firmware.h — finding and loading the system BIOS and the VGA BIOS images.
 *
 * Defaults come from Debian's `seabios` package (/usr/share/seabios); -bios names
 * another image. Errors are one line naming the file and the problem.
 */
#ifndef DBT86_FIRMWARE_H
#define DBT86_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#define FIRMWARE_DIR "/usr/share/seabios"
#define FIRMWARE_BIOS "bios-256k.bin"
#define FIRMWARE_VGABIOS "vgabios-stdvga.bin"

/* path NULL: the default SeaBIOS. A BIOS image must be a multiple of 64 KiB, at most
 * 16 MiB. Returns 0 or -1 with err set; *data is malloc'd. */
int firmware_load_bios(const char *path, uint8_t **data, uint32_t *size, char *err,
                       size_t errlen);
/* path NULL: the default VGA BIOS. An option ROM must start with 55 AA and be at most
 * 256 KiB. */
int firmware_load_vgabios(const char *path, uint8_t **data, uint32_t *size, char *err,
                          size_t errlen);
/* Read a whole file (at most max_size bytes); returns 0 or -1 with err. */
int firmware_read_file(const char *path, uint32_t max_size, uint8_t **data, uint32_t *size,
                       char *err, size_t errlen);

#endif
