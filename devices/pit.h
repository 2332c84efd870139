/*
 * pit.h — the 8254 programmable interval timer (ports 0x40-0x43) and port 0x61
 * (channel 2 gate and speaker enable in, channel 2 output and refresh toggle out).
 * Counters are computed from virtual time, never ticked: reading a count derives it
 * from clock_now(), and channel 0's IRQ 0 edges are timers on the virtual clock.
 */
#ifndef DBT86_PIT_H
#define DBT86_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/irq.h"

#define PIT_FREQ 1193182 /* Hz */

typedef struct PitChannel {
    uint32_t count;        /* reload value (0 means 0x10000) */
    uint16_t latched;      /* latched count */
    uint8_t latch_state;   /* 0 none, 1 low pending/only, 2 both... (see pit.c) */
    uint8_t status;        /* latched status byte */
    uint8_t status_latched;
    uint8_t rw_mode;       /* 1 LSB, 2 MSB, 3 LSB then MSB */
    uint8_t read_state, write_state;
    uint8_t write_latch;   /* low byte written, waiting for high */
    uint8_t mode;          /* 0..5 */
    uint8_t bcd;
    uint8_t gate;
    uint8_t null_count;
    uint8_t ctrl;          /* low 6 bits of the last control word (status read-back) */
    uint8_t running;       /* counting has started (modes 1/5: after a gate trigger) */
    uint8_t count_valid;   /* a count was written since the control word */
    uint64_t elapsed_base; /* ticks counted before load_time (gate pauses; mod 2^64) */
    uint8_t pending;       /* modes 2/3: a new count waits for the end of the cycle */
    uint32_t pending_count;/* that count */
    uint64_t pending_at;   /* tick (as ch_ticks counts) at which it is loaded */
    uint64_t load_time;    /* virtual ns when counting started from `count` */
    uint64_t next_change;  /* virtual ns of the next output transition (channel 0 timer) */
    bool irq_level;        /* current output level driven on IRQ 0 */
} PitChannel;

typedef struct Pit {
    PitChannel ch[3];
    uint8_t port61;        /* bit 0: gate 2, bit 1: speaker data enable */
    Clock *clock;
    IrqLine irq;           /* IRQ 0 */
    Timer timer;           /* channel 0 output transitions */
} Pit;

void pit_init(Pit *p, Bus *bus, Clock *clock, IrqLine irq0);
void pit_reset(void *p);

#endif
