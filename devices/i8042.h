/*
 * i8042.h — the 8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard
 * (and the auxiliary port for a mouse): command byte, set-2 to set-1 translation,
 * output buffer, IRQ 1 (and 12), the A20 gate and CPU reset through the output port.
 * Key presses arrive from the input layer as set-2 scan code bytes.
 */
#ifndef DBT86_I8042_H
#define DBT86_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

#define KBD_QUEUE 64

typedef struct Kbc {
    uint8_t status;         /* status register (port 0x64 read) */
    uint8_t cmd_byte;       /* controller command byte (RAM byte 0) */
    uint8_t out_port;       /* output port: bit 0 reset (active low), bit 1 A20 */
    uint8_t pending_cmd;    /* controller command waiting for its data byte, or 0 */
    uint8_t outbuf;         /* output buffer contents */
    uint8_t kbd_queue[KBD_QUEUE]; /* keyboard bytes waiting for the output buffer */
    uint8_t kbd_head, kbd_count;
    uint8_t aux_queue[KBD_QUEUE]; /* mouse bytes */
    uint8_t aux_head, aux_count;
    uint8_t kbd_pending_cmd;/* keyboard command awaiting a parameter byte */
    bool kbd_scanning;      /* keyboard enabled (F4/F5) */
    uint8_t kbd_scancode_set;
    uint8_t kbd_leds;
    uint8_t prefix_f0;      /* translation state: last byte was the F0 break prefix */
    uint8_t aux_pending_cmd;
    uint8_t aux_status, aux_resolution, aux_rate;
    bool aux_wrap;
    uint8_t ram[32];        /* controller RAM bytes 1..31 (0x21-0x3F / 0x61-0x7F) */
    uint8_t kbd_typematic;  /* typematic rate/delay (F3) */
    uint8_t kbd_last;       /* last byte the keyboard sent (FE resend) */
    uint8_t aux_last;       /* last byte the mouse sent (FE resend) */
    uint8_t aux_buttons;    /* current buttons: bit 0 left, 1 right, 2 middle */
    int16_t aux_dx, aux_dy; /* motion accumulated in remote mode (PS/2 axes) */
    bool irq1_level, irq12_level; /* levels last driven (derived, not saved) */
    IrqLine irq_kbd, irq_aux; /* IRQ 1, IRQ 12 */
    void (*set_a20)(void *opaque, bool enabled);
    void (*reset_cpu)(void *opaque);
    void *board;            /* opaque for the two callbacks above */
} Kbc;

void kbc_init(Kbc *k, Bus *bus, IrqLine irq1, IrqLine irq12,
              void (*set_a20)(void *, bool), void (*reset_cpu)(void *), void *board);
void kbc_reset(void *k);
/* Input layer: a key event as set-2 scan code bytes (e.g. {0xF0, 0x1C} releases A). */
void kbc_put_keycode(Kbc *k, const uint8_t *set2, int n);
/* Input layer: relative mouse motion and buttons (bit 0 left, 1 right, 2 middle).
 * dx > 0 moves right, dy > 0 moves down (screen convention, as SDL reports it); the
 * PS/2 packet has y pointing up. dz (wheel) is ignored: the mouse is a plain 3-byte
 * PS/2 mouse. Packets are queued only while reporting is enabled (F4). */
void kbc_put_mouse(Kbc *k, int dx, int dy, int dz, unsigned buttons);

#endif
