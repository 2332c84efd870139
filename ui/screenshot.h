/*
 * screenshot.h — the screen to a file: text modes as plain text (what `-screenshot
 * FILE` gives by default in a text mode), anything as a PNG (graphics modes, or any
 * mode when FILE ends in ".png"), rendered by vga_render and written with zlib.
 */
#ifndef DBT86_SCREENSHOT_H
#define DBT86_SCREENSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "devices/machine.h"

/* Write w x h pixels (0x00RRGGBB, row-major) as an 8-bit RGB PNG. 0 or -1 + err. */
int screenshot_png(const uint32_t *rgb, int w, int h, const char *path, char *err,
                   size_t errlen);
/* Write the machine's screen to path (see above). 0 or -1 + err. */
int screenshot_write(Machine *m, const char *path, char *err, size_t errlen);

#endif
