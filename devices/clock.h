/*
 * clock.h — the virtual clock and its timer queue.
 *
 * Virtual time (ns) = retired instructions << shift, plus the time skipped while the
 * CPU was halted. No device reads the host clock: in real-time mode the board paces
 * the CPU so that virtual time follows host time, through the input layer.
 *
 *     timer_init(&p->t, clk, pit_tick, p);
 *     timer_mod(&p->t, clock_now(clk) + 838);   // fires when virtual time passes it
 */
#ifndef DBT86_CLOCK_H
#define DBT86_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Clock Clock;

typedef struct Timer {
    Clock *clock;
    void (*cb)(void *opaque); /* runs once when virtual time reaches `deadline` */
    void *opaque;
    uint64_t deadline;        /* virtual ns */
    bool armed;
    struct Timer *next;       /* queue link, sorted by deadline */
} Timer;

struct Clock {
    const uint64_t *icount;   /* the CPU's retired instruction counter */
    unsigned shift;           /* ns per instruction = 1 << shift */
    uint64_t idle_ns;         /* time added while halted (skipped to deadlines) */
    Timer *head;              /* armed timers, earliest first */
};

#define CLOCK_NEVER UINT64_MAX

void clock_init(Clock *c, const uint64_t *icount, unsigned shift);
uint64_t clock_now(const Clock *c);
/* Advance virtual time without instructions (the CPU is halted). */
void clock_advance(Clock *c, uint64_t ns);
/* Deadline of the earliest armed timer, or CLOCK_NEVER. */
uint64_t clock_next_deadline(const Clock *c);
/* Run every timer whose deadline has passed (callbacks may re-arm). */
void clock_run_timers(Clock *c);

void timer_init(Timer *t, Clock *c, void (*cb)(void *opaque), void *opaque);
void timer_mod(Timer *t, uint64_t deadline_ns);
void timer_del(Timer *t);
static inline bool timer_pending(const Timer *t) { return t->armed; }

#endif
