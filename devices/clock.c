/*
 * clock.c — virtual time and a sorted singly-linked timer queue (few timers exist,
 * so insertion by walking the list is cheaper than a heap).
 */
#include "devices/clock.h"

void clock_init(Clock *c, const uint64_t *icount, unsigned shift)
{
    c->icount = icount;
    c->shift = shift;
    c->idle_ns = 0;
    c->head = 0;
}

uint64_t clock_now(const Clock *c) { return (*c->icount << c->shift) + c->idle_ns; }

void clock_advance(Clock *c, uint64_t ns) { c->idle_ns += ns; }

uint64_t clock_next_deadline(const Clock *c) { return c->head ? c->head->deadline : CLOCK_NEVER; }

void timer_init(Timer *t, Clock *c, void (*cb)(void *opaque), void *opaque)
{
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    t->deadline = 0;
    t->armed = false;
    t->next = 0;
}

void timer_del(Timer *t)
{
    if (!t->armed) return;
    for (Timer **pp = &t->clock->head; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->armed = false;
    t->next = 0;
}

void timer_mod(Timer *t, uint64_t deadline_ns)
{
    timer_del(t);
    t->deadline = deadline_ns;
    Timer **pp = &t->clock->head;
    while (*pp && (*pp)->deadline <= deadline_ns) pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    t->armed = true;
}

void clock_run_timers(Clock *c)
{
    uint64_t now = clock_now(c);
    while (c->head && c->head->deadline <= now) {
        Timer *t = c->head;
        c->head = t->next;
        t->armed = false;
        t->next = 0;
        t->cb(t->opaque);
    }
}
