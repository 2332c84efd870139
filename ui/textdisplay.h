/*
 * textdisplay.h — the terminal display (-display text, like QEMU's -display curses):
 * the VGA text screen drawn with ANSI escape sequences on a terminal (works over ssh),
 * and bytes typed on the terminal turned into PS/2 keystrokes through the input layer.
 * Ctrl-A x quits, Ctrl-A Ctrl-A types Ctrl-A. A graphics mode shows a one-line notice.
 *
 *   TextUi *t = textdisplay_open(0, 1, err, sizeof err);
 *   each slice: textdisplay_poll(t, in, m); textdisplay_refresh(t, m, host_ns);
 *   at exit:    textdisplay_close(t, m);   // last picture stays on the terminal
 */
#ifndef DBT86_TEXTDISPLAY_H
#define DBT86_TEXTDISPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "devices/machine.h"
#include "ui/input.h"

typedef struct TextUi TextUi;

/* Takes over the terminal: in_fd in raw mode (if it is a terminal), out_fd cleared.
 * Returns NULL with a one-line message in err on failure. */
TextUi *textdisplay_open(int in_fd, int out_fd, char *err, size_t errlen);
/* Draws the final screen (if m is not NULL), restores the terminal and frees t. */
void textdisplay_close(TextUi *t, const Machine *m);
/* Reads what was typed (never blocks) and types it into the guest a key at a time;
 * Ctrl-A x sets in->quit. */
void textdisplay_poll(TextUi *t, Input *in, Machine *m);
/* Redraws the cells that changed, at most 30 times per second of host time (host_ns:
 * any monotonic host clock in ns). */
void textdisplay_refresh(TextUi *t, const Machine *m, uint64_t host_ns);

#endif
