/*
 * pit.c — 8254 PIT and port 0x61. A channel never ticks: its count and OUT are pure
 * functions of the ticks elapsed since `load_time` (plus `elapsed_base` ticks counted
 * before a gate pause), so reading costs O(1) at any virtual time. Channel 0's OUT is
 * driven onto IRQ 0 by one Timer that always points at the next OUT transition.
 */
#include "devices/pit.h"

#include <string.h>

#define NS_PER_SEC 1000000000u
#define REFRESH_NS 15085 /* port 0x61 bit 4 toggles this often (DRAM refresh, 66.3 kHz) */
#define NO_EDGE UINT64_MAX

/* Ticks of the 1.193182 MHz input in `ns`, and the first ns by which `t` ticks passed. */
static uint64_t ns_to_ticks(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * PIT_FREQ / NS_PER_SEC);
}
static uint64_t ticks_to_ns(uint64_t t)
{
    return (uint64_t)(((unsigned __int128)t * NS_PER_SEC + PIT_FREQ - 1) / PIT_FREQ);
}

static uint32_t bcd_to_bin(uint32_t v)
{
    return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}
static uint32_t bin_to_bcd(uint32_t v)
{
    return (v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) | ((v / 1000 % 10) << 12);
}

/* The counter's wrap-around modulus. */
static uint32_t ch_modulus(const PitChannel *c) { return c->bcd ? 10000 : 0x10000; }

/* The initial count as a number of input clocks (0 is the maximum). */
static uint32_t ch_period(const PitChannel *c)
{
    uint32_t n = c->bcd ? bcd_to_bin(c->count & 0xffff) : (c->count & 0xffff);
    if (n == 0) n = ch_modulus(c);
    /* A count of 1 is illegal in modes 2 and 3; 2 keeps OUT defined and timers sane. */
    if ((c->mode == 2 || c->mode == 3) && n < 2) n = 2;
    return n;
}

/* Modes where a low gate suspends counting (rather than only triggering). */
static bool ch_gate_pauses(const PitChannel *c) { return c->mode != 1 && c->mode != 5; }

/* Input clocks counted since the count was loaded (or the trigger), at `now`. */
static uint64_t ch_ticks(const PitChannel *c, uint64_t now)
{
    if (!c->running) return 0;
    uint64_t t = c->elapsed_base;
    if (c->gate || !ch_gate_pauses(c)) t += ns_to_ticks(now >= c->load_time ? now - c->load_time : 0);
    return t;
}

static bool ch_out_at(const PitChannel *c, uint64_t d)
{
    if (!c->running) return c->mode != 0; /* mode 0 goes low on the control word */
    uint64_t n = ch_period(c);
    switch (c->mode) {
    case 0:
    case 1: return d >= n;
    case 2: return !c->gate || d % n != n - 1;
    case 3: return !c->gate || d % n < (n + 1) / 2;
    default: return d != n; /* 4, 5: one clock low at terminal count */
    }
}

static bool ch_out(const PitChannel *c, uint64_t now) { return ch_out_at(c, ch_ticks(c, now)); }

/* The tick count (> d) at which OUT next changes, or NO_EDGE. */
static uint64_t ch_next_edge(const PitChannel *c, uint64_t d)
{
    if (!c->running || (!c->gate && ch_gate_pauses(c))) return NO_EDGE;
    uint64_t n = ch_period(c), p;
    switch (c->mode) {
    case 0:
    case 1: return d < n ? n : NO_EDGE;
    case 2:
        p = d % n;
        return p < n - 1 ? d - p + n - 1 : d + 1;
    case 3:
        p = d % n;
        return p < (n + 1) / 2 ? d - p + (n + 1) / 2 : d - p + n;
    default: return d < n ? n : d == n ? n + 1 : NO_EDGE;
    }
}

/* Virtual time at which the channel has counted `d` ticks (d > ch_ticks(now)). */
static uint64_t ch_tick_time(const PitChannel *c, uint64_t d)
{
    return c->load_time + ticks_to_ns(d - c->elapsed_base);
}

/* The value the counting element holds, as the guest reads it (BCD if selected). */
static uint16_t ch_value(const PitChannel *c, uint64_t now)
{
    uint64_t m = ch_modulus(c), n = ch_period(c), d = ch_ticks(c, now), v;
    if (!c->running) {
        v = n;
    } else if (c->mode == 2) {
        v = n - d % n;
    } else if (c->mode == 3) {
        /* decrements by two; an odd count spends one more clock high than low */
        uint64_t p = d % n, half = (n + 1) / 2, even = n & ~1ull;
        v = p < half ? even - 2 * p : even - 2 * (p - half);
    } else {
        v = n + m - d % m;
    }
    v %= m;
    return (uint16_t)(c->bcd ? bin_to_bcd((uint32_t)v) : v);
}

/* Modes 2/3: a count written while counting is loaded at the end of the current cycle;
 * do that lazily once virtual time has passed it. */
static void ch_sync(PitChannel *c, uint64_t now)
{
    if (!c->pending || !c->running || !c->gate) return;
    if (ch_ticks(c, now) < c->pending_at) return;
    /* Rebase the tick count without moving load_time (modulo 2^64, the sum in ch_ticks
     * stays exact), so the new cycles keep the old ones' nanosecond rounding. */
    c->elapsed_base -= c->pending_at;
    c->count = c->pending_count;
    c->pending = 0;
    c->null_count = 0;
}

/* ---- channel 0 -> IRQ 0 ---- */

static void pit_schedule(Pit *p, uint64_t from)
{
    PitChannel *c = &p->ch[0];
    uint64_t d = ch_next_edge(c, ch_ticks(c, from));
    if (d == NO_EDGE) {
        c->next_change = CLOCK_NEVER;
        timer_del(&p->timer);
    } else {
        c->next_change = ch_tick_time(c, d);
        /* never re-arm at or before the current instant: no timer loop, whatever
         * rounding does */
        if (c->next_change <= from) c->next_change = from + 1;
        timer_mod(&p->timer, c->next_change);
    }
}

static void pit_drive(Pit *p, bool level)
{
    if (p->ch[0].irq_level != level) {
        p->ch[0].irq_level = level;
        irq_set(&p->irq, level);
    }
}

/* Channel 0 changed (control word, count, reset): drive OUT now and re-arm. */
static void pit_ch0_changed(Pit *p)
{
    uint64_t now = clock_now(p->clock);
    ch_sync(&p->ch[0], now);
    pit_drive(p, ch_out(&p->ch[0], now));
    pit_schedule(p, now);
}

static void pit_timer_cb(void *opaque)
{
    Pit *p = opaque;
    PitChannel *c = &p->ch[0];
    uint64_t now = clock_now(p->clock), t = c->next_change;
    if (t == CLOCK_NEVER || t > now) {
        pit_ch0_changed(p);
        return;
    }
    ch_sync(c, t);
    pit_drive(p, ch_out(c, t));
    uint64_t d = ch_next_edge(c, ch_ticks(c, t));
    if (d != NO_EDGE && ch_tick_time(c, d) <= now) {
        ch_sync(c, now);
        /* Serviced late, past further edges: give the PIC at least one rising edge
         * (lost periods coalesce, as a late ISA edge does) and land on OUT(now). */
        bool end = ch_out(c, now);
        if (!c->irq_level) {
            pit_drive(p, true);
            pit_drive(p, end);
        } else if (end) {
            pit_drive(p, false);
            pit_drive(p, true);
        } else {
            pit_drive(p, false);
        }
        pit_schedule(p, now);
    } else {
        pit_schedule(p, t);
    }
}

/* Process a channel 0 edge that is due but whose timer has not run yet, so that
 * reprogramming never swallows it. */
static void pit_ch0_sync(Pit *p)
{
    if (timer_pending(&p->timer) && p->timer.deadline <= clock_now(p->clock)) {
        timer_del(&p->timer);
        pit_timer_cb(p);
    }
}

/* ---- register interface ---- */

static void pit_set_gate(Pit *p, int i, bool g)
{
    PitChannel *c = &p->ch[i];
    if (c->gate == g) return;
    if (i == 0) pit_ch0_sync(p);
    uint64_t now = clock_now(p->clock);
    ch_sync(c, now);
    if (!g) {
        if (c->running && ch_gate_pauses(c)) {
            c->elapsed_base = ch_ticks(c, now);
            c->load_time = now;
        }
    } else if (c->mode == 0 || c->mode == 4) {
        c->load_time = now; /* resume where it stopped */
    } else if (c->running || c->count_valid) {
        /* modes 2/3 reload on the rising gate; modes 1/5 (re)trigger */
        if (c->pending) {
            c->count = c->pending_count;
            c->pending = 0;
        }
        if (c->count_valid) {
            c->running = 1;
            c->null_count = 0;
        }
        c->elapsed_base = 0;
        c->load_time = now;
    }
    c->gate = g;
    if (i == 0) pit_ch0_changed(p);
}

static void ch_latch_count(PitChannel *c, uint64_t now)
{
    ch_sync(c, now);
    if (c->latch_state) return; /* a second latch before the read is ignored */
    c->latched = ch_value(c, now);
    c->latch_state = c->rw_mode == 2 ? 2 : 1; /* 1: low byte next, 2: high byte next */
}

static void ch_latch_status(PitChannel *c, uint64_t now)
{
    if (c->status_latched) return;
    ch_sync(c, now);
    c->status = (uint8_t)((ch_out(c, now) << 7) | (c->null_count << 6) | (c->ctrl & 0x3f));
    c->status_latched = 1;
}

static void ch_load(PitChannel *c, uint32_t value, uint64_t now)
{
    ch_sync(c, now);
    c->count_valid = 1;
    if (c->mode == 1 || c->mode == 5) {
        c->count = value;
        c->null_count = !c->running; /* transferred on the next gate trigger */
        return;
    }
    if ((c->mode == 2 || c->mode == 3) && c->running) {
        /* The running cycle finishes with the old count (a gate-low counter reloads
         * on the rising gate instead). Mode 3 should switch at the half cycle; the
         * full cycle keeps OUT's phase simple and is within a half period. */
        uint64_t n = ch_period(c), d = ch_ticks(c, now);
        c->pending = 1;
        c->pending_count = value;
        c->pending_at = (d / n + 1) * n;
        c->null_count = 1;
        return;
    }
    /* Modes 0 and 4 restart on a write; a first count starts every mode now. */
    c->count = value;
    c->running = 1;
    c->null_count = 0;
    c->elapsed_base = 0;
    c->load_time = now;
}

static void ch_write(PitChannel *c, uint8_t v, uint64_t now)
{
    switch (c->rw_mode) {
    case 1: ch_load(c, v, now); break;
    case 2: ch_load(c, (uint32_t)v << 8, now); break;
    case 3:
        if (!c->write_state) {
            c->write_latch = v;
            c->write_state = 1;
            if (c->mode == 0) {
                /* the first byte stops a mode 0 count and drops OUT */
                c->running = 0;
                c->null_count = 1;
            }
        } else {
            c->write_state = 0;
            ch_load(c, c->write_latch | ((uint32_t)v << 8), now);
        }
        break;
    default: break;
    }
}

static uint8_t ch_read(PitChannel *c, uint64_t now)
{
    ch_sync(c, now);
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    if (c->latch_state) {
        uint16_t v = c->latched;
        if (c->rw_mode == 3 && c->latch_state == 1) {
            c->latch_state = 2;
            return v & 0xff;
        }
        bool high = c->latch_state == 2;
        c->latch_state = 0;
        return high ? v >> 8 : v & 0xff;
    }
    uint16_t v = ch_value(c, now);
    switch (c->rw_mode) {
    case 1: return v & 0xff;
    case 2: return v >> 8;
    case 3: c->read_state ^= 1; return c->read_state ? v & 0xff : v >> 8;
    default: return 0;
    }
}

static void ch_set_mode(PitChannel *c, uint8_t v, uint64_t now)
{
    c->ctrl = v & 0x3f;
    c->rw_mode = (v >> 4) & 3;
    c->mode = (v >> 1) & 7;
    if (c->mode >= 6) c->mode -= 4; /* 6 and 7 are aliases of 2 and 3 */
    c->bcd = v & 1;
    c->read_state = c->write_state = 0;
    c->null_count = 1;
    c->running = 0;
    c->count_valid = 0;
    c->pending = 0;
    c->elapsed_base = 0;
    c->load_time = now;
}

static void pit_control(Pit *p, uint8_t v, uint64_t now)
{
    if ((v >> 6) == 3) { /* read-back: bit 5 = !COUNT, bit 4 = !STATUS, bits 3-1 select */
        for (int i = 0; i < 3; i++) {
            if (!(v & (2u << i))) continue;
            if (!(v & 0x10)) ch_latch_status(&p->ch[i], now);
            if (!(v & 0x20)) ch_latch_count(&p->ch[i], now);
        }
        return;
    }
    int i = v >> 6;
    if (i == 0) pit_ch0_sync(p);
    if (((v >> 4) & 3) == 0)
        ch_latch_count(&p->ch[i], now);
    else
        ch_set_mode(&p->ch[i], v, now);
    if (i == 0) pit_ch0_changed(p);
}

static uint32_t pit_read(void *dev, uint32_t off, unsigned size)
{
    Pit *p = dev;
    if (off >= 3) return 0xff; /* the control register is write-only */
    return ch_read(&p->ch[off], clock_now(p->clock));
}

static void pit_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    Pit *p = dev;
    uint64_t now = clock_now(p->clock);
    if (off >= 3) {
        pit_control(p, (uint8_t)value, now);
    } else {
        if (off == 0) pit_ch0_sync(p);
        ch_write(&p->ch[off], (uint8_t)value, now);
        if (off == 0) pit_ch0_changed(p);
    }
}

static uint32_t port61_read(void *dev, uint32_t off, unsigned size)
{
    Pit *p = dev;
    uint64_t now = clock_now(p->clock);
    ch_sync(&p->ch[2], now);
    return (p->port61 & 0x0f) | (uint32_t)((now / REFRESH_NS) & 1) << 4 |
           (uint32_t)ch_out(&p->ch[2], now) << 5;
}

static void port61_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    Pit *p = dev;
    p->port61 = value & 0x0f;
    pit_set_gate(p, 2, value & 1);
}

void pit_reset(void *opaque)
{
    Pit *p = opaque;
    uint64_t now = clock_now(p->clock);
    for (int i = 0; i < 3; i++) {
        PitChannel *c = &p->ch[i];
        memset(c, 0, sizeof(*c));
        c->gate = i != 2; /* channel 2's gate is port 0x61 bit 0, which resets to 0 */
        c->load_time = now;
        c->next_change = CLOCK_NEVER;
    }
    p->port61 = 0;
    timer_del(&p->timer);
    irq_set(&p->irq, 0);
}

static int pit_post_load(void *opaque)
{
    Pit *p = opaque;
    irq_set(&p->irq, p->ch[0].irq_level);
    if (p->ch[0].next_change == CLOCK_NEVER)
        timer_del(&p->timer);
    else
        timer_mod(&p->timer, p->ch[0].next_change); /* may be due: the callback catches up */
    return 0;
}

#define PIT_CH_FIELDS(i)                                                                      \
    STATE_U32(Pit, ch[i].count), STATE_U16(Pit, ch[i].latched),                               \
        STATE_U8(Pit, ch[i].latch_state), STATE_U8(Pit, ch[i].status),                        \
        STATE_U8(Pit, ch[i].status_latched), STATE_U8(Pit, ch[i].rw_mode),                    \
        STATE_U8(Pit, ch[i].read_state), STATE_U8(Pit, ch[i].write_state),                    \
        STATE_U8(Pit, ch[i].write_latch), STATE_U8(Pit, ch[i].mode), STATE_U8(Pit, ch[i].bcd), \
        STATE_U8(Pit, ch[i].gate), STATE_U8(Pit, ch[i].null_count), STATE_U8(Pit, ch[i].ctrl), \
        STATE_U8(Pit, ch[i].running), STATE_U8(Pit, ch[i].count_valid),                       \
        STATE_U64(Pit, ch[i].elapsed_base), STATE_U8(Pit, ch[i].pending),                    \
        STATE_U32(Pit, ch[i].pending_count), STATE_U64(Pit, ch[i].pending_at),                \
        STATE_U64(Pit, ch[i].load_time),                  \
        STATE_U64(Pit, ch[i].next_change), STATE_BOOL(Pit, ch[i].irq_level)

static const StateField pit_fields[] = {PIT_CH_FIELDS(0), PIT_CH_FIELDS(1), PIT_CH_FIELDS(2),
                                        STATE_U8(Pit, port61), STATE_END};
static const StateDesc pit_state = {"pit", 1, pit_fields};

static const DeviceOps pit_ops = {
    .name = "pit", .reset = pit_reset, .read = pit_read, .write = pit_write,
    .min_access = 1, .max_access = 1, .state = &pit_state, .post_load = pit_post_load};
static const DeviceOps port61_ops = {
    .name = "port61", .read = port61_read, .write = port61_write,
    .min_access = 1, .max_access = 1};

void pit_init(Pit *p, Bus *bus, Clock *clock, IrqLine irq0)
{
    memset(p, 0, sizeof(*p));
    p->clock = clock;
    p->irq = irq0;
    timer_init(&p->timer, clock, pit_timer_cb, p);
    pit_reset(p);
    bus_map_io(bus, 0x40, 4, &pit_ops, p);
    bus_map_io(bus, 0x61, 1, &port61_ops, p);
}
