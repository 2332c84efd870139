/*
 * sdl.h — the SDL2 window (-display sdl): shows vga_render's picture, turns host keys
 * into PS/2 set-2 scan codes and host mouse motion into PS/2 mouse packets, all through
 * the input layer. Built only when libsdl2-dev is present (DBT86_HAVE_SDL); otherwise
 * sdl_open() fails with a one-line message. SDL's types stay inside sdl.c.
 */
#ifndef DBT86_SDL_H
#define DBT86_SDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/machine.h"
#include "ui/input.h"

typedef struct SdlUi SdlUi;

/* True when this build has the SDL window. */
bool sdl_available(void);
/* Opens the window. Returns NULL with a one-line message in err on failure. */
SdlUi *sdl_open(char *err, size_t errlen);
void sdl_close(SdlUi *ui);
/* Handles pending window events: keys and mouse go to the machine through the input
 * layer; Ctrl+Alt+Q and closing the window set in->quit, Ctrl+Alt+P toggles
 * in->paused, Ctrl+Alt+R sets in->want_reset, Ctrl+Alt+D in->want_powerdown;
 * Ctrl+Alt+S writes a screenshot, Ctrl+Alt+V starts typing the clipboard (a key per
 * call at most). Never blocks. */
void sdl_poll(SdlUi *ui, Input *in, Machine *m);
/* Redraws the window if at least 16 ms of host time passed since the last redraw
 * (host_ns: any monotonic host clock in ns). The guest never waits for it. */
void sdl_refresh(SdlUi *ui, const Machine *m, uint64_t host_ns);
/* Shows " [paused]" in the title (sdl_poll also follows in->paused by itself). */
void sdl_set_paused(SdlUi *ui, bool paused);

#endif
