/*
 * asciikeys.h — typing as a PS/2 keyboard with a US layout would: ASCII characters
 * become set-2 make/break codes (with Shift, Ctrl or Alt held around the key), and a
 * queue hands typed keys to the guest one at a time, only when the keyboard has
 * nothing left to send, so pasted text never overflows the guest's keyboard buffer.
 * Used by the terminal display (-display text) and the window's clipboard paste.
 *
 *   KeyQueue q; keyqueue_init(&q);
 *   keyqueue_push_text(&q, "ls -l\n", 6);   // later, between slices of guest time:
 *   keyqueue_pump(&q, in, m);                // one keystroke when the 8042 is idle
 */
#ifndef DBT86_ASCIIKEYS_H
#define DBT86_ASCIIKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/machine.h"
#include "ui/input.h"

/* A key: its set-2 make code, | KEY_E0 for keys with the E0 prefix. */
#define KEY_E0 0x100
/* Modifiers held around a keystroke. */
#define KEYMOD_SHIFT 1u
#define KEYMOD_CTRL 2u
#define KEYMOD_ALT 4u

/* Set-2 keys that have no ASCII character. */
enum {
    KEY_ESC = 0x76, KEY_ENTER = 0x5A, KEY_BACKSPACE = 0x66, KEY_TAB = 0x0D, KEY_SPACE = 0x29,
    KEY_F1 = 0x05, KEY_F2 = 0x06, KEY_F3 = 0x04, KEY_F4 = 0x0C, KEY_F5 = 0x03,
    KEY_F6 = 0x0B, KEY_F7 = 0x83, KEY_F8 = 0x0A, KEY_F9 = 0x01, KEY_F10 = 0x09,
    KEY_F11 = 0x78, KEY_F12 = 0x07,
    KEY_UP = KEY_E0 | 0x75, KEY_DOWN = KEY_E0 | 0x72, KEY_LEFT = KEY_E0 | 0x6B,
    KEY_RIGHT = KEY_E0 | 0x74, KEY_HOME = KEY_E0 | 0x6C, KEY_END = KEY_E0 | 0x69,
    KEY_INSERT = KEY_E0 | 0x70, KEY_DELETE = KEY_E0 | 0x71, KEY_PAGEUP = KEY_E0 | 0x7D,
    KEY_PAGEDOWN = KEY_E0 | 0x7A,
};

/* The key that types ASCII character ch (0x20-0x7E, '\t', '\n', '\r', 0x08, 0x1B,
 * 0x7F) and whether it needs Shift. false for anything else. */
bool asciikey_lookup(uint8_t ch, uint16_t *key, bool *shift);
/* The set-2 bytes of one key going down (make) or up (break). Returns the count (<= 3). */
int asciikey_bytes(uint16_t key, bool make, uint8_t *out);

#define KEYQUEUE_SIZE 4096

typedef struct KeyQueue {
    uint16_t key[KEYQUEUE_SIZE];  /* keys waiting to be typed */
    uint8_t mods[KEYQUEUE_SIZE];  /* KEYMOD_* held around each */
    unsigned head, count;         /* ring buffer position and fill */
    uint64_t last_ns;             /* virtual time of the last keystroke delivered */
    bool typed_once;              /* last_ns is valid */
} KeyQueue;

void keyqueue_init(KeyQueue *q);
/* Queues one keystroke. false when the queue is full (the key is dropped). */
bool keyqueue_push(KeyQueue *q, uint16_t key, unsigned mods);
/* Queues ASCII text (a CR LF pair is one Enter; other bytes without a key are
 * skipped). Returns the number of keystrokes queued. */
size_t keyqueue_push_text(KeyQueue *q, const char *text, size_t len);
/* Types the next queued keystroke (modifiers down, key down, key up, modifiers up)
 * if the guest has taken every byte the keyboard sent before and at least 5 ms of
 * virtual time passed since the previous one. Returns true if it typed one. */
bool keyqueue_pump(KeyQueue *q, Input *in, Machine *m);

#endif
