/*
 * apic.c — the local APIC (xAPIC, Intel SDM vol. 3 ch. 10) for a one-CPU board.
 * The timer never ticks: its current count is a function of the virtual time since
 * `timer_load`, and one Timer points at the next expiry. Interrupts are accepted into
 * IRR, dispatched by priority class against PPR, and the INTR output is recomputed after
 * every change. IPIs to other CPUs, INIT and STARTUP are accepted and dropped.
 */
#include "devices/apic.h"

#include <string.h>

/* LVT bits */
#define LVT_VECTOR 0xffu
#define LVT_DS (1u << 12)          /* delivery status (always idle here) */
#define LVT_POLARITY (1u << 13)
#define LVT_REMOTE_IRR (1u << 14)
#define LVT_LEVEL (1u << 15)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

#define SVR_ENABLE (1u << 8)

/* ESR bits */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)

/* Writable bits of each LVT entry (TSC-deadline mode is not offered: bit 18 is 0). */
static const uint32_t lvt_writable[APIC_LVT_COUNT] = {
    [APIC_LVT_TIMER] = 0x000300ff,   [APIC_LVT_THERMAL] = 0x000107ff,
    [APIC_LVT_PERF] = 0x000107ff,    [APIC_LVT_LINT0] = 0x0001a7ff,
    [APIC_LVT_LINT1] = 0x0001a7ff,   [APIC_LVT_ERROR] = 0x000100ff,
};

/* ---- 256-bit registers ---- */

static bool bit_test(const uint32_t *r, unsigned v) { return r[v >> 5] & (1u << (v & 31)); }
static void bit_set(uint32_t *r, unsigned v) { r[v >> 5] |= 1u << (v & 31); }
static void bit_clear(uint32_t *r, unsigned v) { r[v >> 5] &= ~(1u << (v & 31)); }

/* Highest set vector, or -1. */
static int bit_highest(const uint32_t *r)
{
    for (int i = 7; i >= 0; i--)
        if (r[i]) return i * 32 + 31 - __builtin_clz(r[i]);
    return -1;
}

static bool sw_enabled(const Apic *a) { return a->svr & SVR_ENABLE; }
bool apic_enabled(const Apic *a) { return a->base_msr & APIC_BASE_ENABLE; }
static uint32_t base_addr(const Apic *a) { return (uint32_t)a->base_msr & 0xfffff000u; }

/* PPR (SDM 10.8.3.1): TPR if its class is at least the in-service class, else the
 * in-service class with a zero sub-class. */
static uint32_t apic_ppr(const Apic *a)
{
    int isrv = bit_highest(a->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

/* APR (SDM 10.8.3.1, for the P6-style arbitration the register still reports). */
static uint32_t apic_apr(const Apic *a)
{
    int isrv = bit_highest(a->isr), irrv = bit_highest(a->irr);
    uint32_t tc = a->tpr & 0xf0, ic = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    uint32_t rc = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0;
    if (tc >= rc && tc > ic) return a->tpr & 0xff;
    uint32_t m = tc > ic ? tc : ic;
    return m > rc ? m : rc;
}

/* ExtINT reaching INTR: the 8259 through an unmasked LINT in ExtINT mode, or an
 * ExtINT message from the IOAPIC. */
static bool extint_active(const Apic *a)
{
    if (a->extint_pending) return true;
    for (int n = 0; n < 2; n++) {
        uint32_t l = a->lvt[APIC_LVT_LINT0 + n];
        if (a->lint_level[n] && !(l & LVT_MASKED) && ((l >> 8) & 7) == APIC_DM_EXTINT)
            return true;
    }
    return false;
}

/* The IRR vector that would be dispatched now, or -1. */
static int deliverable_vector(const Apic *a)
{
    if (!sw_enabled(a)) return -1;
    int irrv = bit_highest(a->irr);
    if (irrv < 0) return -1;
    return ((uint32_t)irrv & 0xf0) > (apic_ppr(a) & 0xf0) ? irrv : -1;
}

bool apic_intr_pending(const Apic *a)
{
    if (!apic_enabled(a)) return a->lint_level[0]; /* the "disabled" path: no APIC */
    return extint_active(a) || deliverable_vector(a) >= 0;
}

static void apic_update(Apic *a)
{
    uint8_t l = apic_intr_pending(a);
    if (l != a->out_level) {
        a->out_level = l;
        irq_set(&a->intr, l);
    }
}

/* ---- errors ---- */

static void apic_accept(Apic *a, uint8_t vector, bool level);

static void apic_error(Apic *a, uint32_t bits)
{
    a->esr_pending |= bits;
    uint32_t l = a->lvt[APIC_LVT_ERROR];
    if (l & LVT_MASKED) return;
    uint8_t v = l & LVT_VECTOR;
    if (v < 16) {
        a->esr_pending |= ESR_RECV_ILLEGAL; /* no second error interrupt */
        return;
    }
    apic_accept(a, v, false);
}

/* Accept a fixed interrupt into IRR (TMR set for level, cleared for edge). */
static void apic_accept(Apic *a, uint8_t vector, bool level)
{
    if (vector < 16) {
        apic_error(a, ESR_RECV_ILLEGAL);
        return;
    }
    bit_set(a->irr, vector);
    if (level)
        bit_set(a->tmr, vector);
    else
        bit_clear(a->tmr, vector);
}

void apic_deliver(Apic *a, uint8_t vector, bool level)
{
    if (!apic_enabled(a)) return;
    apic_accept(a, vector, level);
    apic_update(a);
}

static void apic_nmi(Apic *a)
{
    if (a->cfg.nmi) a->cfg.nmi(a->cfg.opaque);
}

void apic_ioapic_deliver(void *opaque, uint8_t vector, bool level, uint8_t mode)
{
    Apic *a = opaque;
    if (!apic_enabled(a)) return;
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST: apic_deliver(a, vector, level); break;
    case APIC_DM_NMI: apic_nmi(a); break;
    case APIC_DM_EXTINT:
        a->extint_pending = true;
        apic_update(a);
        break;
    default: break; /* SMI (no SMM), INIT, STARTUP: dropped on a one-CPU board */
    }
}

bool apic_accepts(void *opaque, uint8_t dest, bool logical)
{
    Apic *a = opaque;
    if (!logical) return dest == 0xff || dest == a->id;
    uint8_t ldr = a->ldr >> 24;
    if ((a->dfr >> 28) == 0xf) return (ldr & dest) != 0; /* flat model */
    /* cluster model: cluster in the high nibble (15 = all), members in the low one */
    return ((dest >> 4) == 0xf || (dest >> 4) == (ldr >> 4)) && (dest & ldr & 0xf);
}

/* ---- LVT sources (timer, LINT0/1, error...) ---- */

/* Deliver the interrupt of LVT entry `n` (an edge, or a level assertion). */
static void lvt_fire(Apic *a, int n, bool level)
{
    uint32_t l = a->lvt[n];
    if (l & LVT_MASKED) return;
    unsigned mode = (n == APIC_LVT_TIMER || n == APIC_LVT_ERROR) ? APIC_DM_FIXED : (l >> 8) & 7;
    switch (mode) {
    case APIC_DM_FIXED: apic_accept(a, l & LVT_VECTOR, level); break;
    case APIC_DM_NMI: apic_nmi(a); break;
    default: break; /* ExtINT is a level pass-through (extint_active); SMI/INIT dropped */
    }
}

/* A LINT input or its LVT entry changed: level-triggered fixed entries deliver while
 * asserted and remote IRR is clear (remote IRR is cleared by the EOI). */
static void lint_service(Apic *a, int n)
{
    uint32_t *l = &a->lvt[APIC_LVT_LINT0 + n];
    if (!(*l & LVT_LEVEL) || ((*l >> 8) & 7) != APIC_DM_FIXED) return;
    if (a->lint_level[n] && !(*l & (LVT_MASKED | LVT_REMOTE_IRR)) && (*l & LVT_VECTOR) >= 16) {
        *l |= LVT_REMOTE_IRR;
        lvt_fire(a, APIC_LVT_LINT0 + n, true);
    }
}

void apic_set_irq(void *opaque, int n, int level)
{
    Apic *a = opaque;
    if (n < 0 || n > 1) return;
    uint8_t old = a->lint_level[n];
    a->lint_level[n] = level != 0;
    if (apic_enabled(a)) {
        uint32_t l = a->lvt[APIC_LVT_LINT0 + n];
        if (l & LVT_LEVEL && ((l >> 8) & 7) == APIC_DM_FIXED)
            lint_service(a, n);
        else if (!old && level)
            lvt_fire(a, APIC_LVT_LINT0 + n, false); /* rising edge */
    } else if (n == 1 && !old && level) {
        apic_nmi(a); /* globally disabled: LINT1 is the CPU's NMI pin (SDM 10.4.3) */
    }
    apic_update(a);
}

IrqLine apic_lint(Apic *a, int n) { return (IrqLine){apic_set_irq, a, n}; }

/* ---- timer ---- */

static uint64_t timer_divisor(const Apic *a)
{
    unsigned d = ((a->timer_divide >> 1) & 4) | (a->timer_divide & 3);
    return 1ull << ((d + 1) & 7); /* 0..6 -> 2..128, 7 -> 1 */
}

static bool timer_periodic(const Apic *a) { return a->lvt[APIC_LVT_TIMER] & LVT_PERIODIC; }

/* Bus clocks counted since timer_load. */
static uint64_t timer_ticks(const Apic *a, uint64_t now)
{
    return (now - a->timer_load) / timer_divisor(a);
}

static uint32_t timer_current(const Apic *a, uint64_t now)
{
    if (!a->timer_active || !a->timer_initial) return 0;
    uint64_t k = timer_ticks(a, now);
    if (timer_periodic(a)) return a->timer_initial - (uint32_t)(k % a->timer_initial);
    return k >= a->timer_initial ? 0 : a->timer_initial - (uint32_t)k;
}

/* Point the Timer at the next expiry after `now` (or disarm it). */
static void timer_arm(Apic *a, uint64_t now)
{
    if (!a->timer_active || !a->timer_initial) {
        timer_del(&a->timer);
        return;
    }
    uint64_t period = (uint64_t)a->timer_initial * timer_divisor(a);
    uint64_t el = now - a->timer_load;
    if (timer_periodic(a))
        timer_mod(&a->timer, a->timer_load + (el / period + 1) * period);
    else
        timer_mod(&a->timer, a->timer_load + period);
}

/* Keep the current count across a change of divider or mode: move timer_load so the
 * count continues from where it is (the fraction of a bus clock is dropped). */
static void timer_rebase(Apic *a, uint64_t now, uint32_t count)
{
    if (!count) {
        a->timer_active = false; /* an expired one-shot stays stopped */
        return;
    }
    a->timer_load = now - (uint64_t)(a->timer_initial - count) * timer_divisor(a);
}

static void apic_timer_cb(void *opaque)
{
    Apic *a = opaque;
    uint64_t now = clock_now(a->clock);
    if (!a->timer_active) return;
    if (!timer_periodic(a)) a->timer_active = false;
    lvt_fire(a, APIC_LVT_TIMER, false);
    timer_arm(a, now);
    apic_update(a);
}

/* ---- registers ---- */

static void apic_regs_reset(Apic *a)
{
    a->id = a->cfg.id;
    a->tpr = a->ldr = 0;
    a->dfr = 0xffffffffu;
    a->svr = 0xff;
    a->esr = a->esr_pending = 0;
    memset(a->isr, 0, sizeof(a->isr));
    memset(a->tmr, 0, sizeof(a->tmr));
    memset(a->irr, 0, sizeof(a->irr));
    a->icr_lo = a->icr_hi = 0;
    for (int i = 0; i < APIC_LVT_COUNT; i++) a->lvt[i] = LVT_MASKED;
    if (a->cfg.bsp && a->cfg.lint0_extint_at_reset) a->lvt[APIC_LVT_LINT0] = APIC_DM_EXTINT << 8;
    a->timer_initial = a->timer_divide = 0;
    a->timer_load = 0;
    a->timer_active = false;
    a->extint_pending = false;
    timer_del(&a->timer);
}

static void apic_remap(Apic *a)
{
    if (a->bus) {
        if (apic_enabled(a))
            bus_map_mmio(a->bus, base_addr(a), APIC_MMIO_SIZE, &apic_ops, a);
        else
            bus_unmap_mmio(a->bus, &apic_ops, a);
    }
    if (a->cfg.moved) a->cfg.moved(a->cfg.opaque, base_addr(a), apic_enabled(a));
}

void apic_reset(void *opaque)
{
    Apic *a = opaque;
    apic_regs_reset(a);
    a->base_msr = APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (a->cfg.bsp ? APIC_BASE_BSP : 0);
    apic_remap(a);
    /* drive INTR even if it seems unchanged: a board reset lowers the CPU's input */
    a->out_level = apic_intr_pending(a);
    irq_set(&a->intr, a->out_level);
}

void apic_set_base(Apic *a, uint64_t value)
{
    bool was = apic_enabled(a);
    uint64_t old = a->base_msr;
    a->base_msr = (value & 0xfffff800ull) | (a->base_msr & APIC_BASE_BSP);
    if (was && !apic_enabled(a)) apic_regs_reset(a); /* re-enabling finds power-on state */
    if (old != a->base_msr) apic_remap(a);
    apic_update(a);
}

uint64_t apic_get_base(const Apic *a) { return a->base_msr; }

/* EOI: retire the highest in-service vector; a level-triggered one is broadcast. */
static void apic_eoi(Apic *a)
{
    int v = bit_highest(a->isr);
    if (v < 0) return;
    bit_clear(a->isr, (unsigned)v);
    if (bit_test(a->tmr, (unsigned)v)) {
        for (int n = 0; n < 2; n++) {
            uint32_t *l = &a->lvt[APIC_LVT_LINT0 + n];
            if ((*l & LVT_REMOTE_IRR) && (*l & LVT_VECTOR) == (uint32_t)v) {
                *l &= ~LVT_REMOTE_IRR;
                lint_service(a, n);
            }
        }
        if (a->cfg.eoi_broadcast) a->cfg.eoi_broadcast(a->cfg.opaque, (uint8_t)v);
    }
}

/* ICR write: send the IPI. Only this CPU exists, so messages that include it are
 * delivered and the rest (other destinations, INIT, STARTUP, SMI) vanish. */
static void apic_send_ipi(Apic *a)
{
    uint32_t lo = a->icr_lo;
    uint8_t vector = lo & 0xff;
    unsigned mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
    bool self;
    switch (shorthand) {
    case 0: self = apic_accepts(a, a->icr_hi >> 24, lo & (1u << 11)); break;
    case 1: self = mode == APIC_DM_FIXED; break; /* "self" allows only fixed */
    case 2: self = true; break;                  /* all including self */
    default: self = false; break;                /* all excluding self */
    }
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vector < 16) {
        apic_error(a, ESR_SEND_ILLEGAL);
        if (self) apic_error(a, ESR_RECV_ILLEGAL);
        return;
    }
    if (!self) return;
    if (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST)
        apic_accept(a, vector, false); /* IPIs are edge-triggered */
    else if (mode == APIC_DM_NMI)
        apic_nmi(a);
}

/* The 32-bit register at register index `r` (offset >> 4); *ok = false if reserved. */
static uint32_t reg_read(Apic *a, unsigned r, bool *ok)
{
    *ok = true;
    switch (r) {
    case 0x02: return (uint32_t)a->id << 24;
    case 0x03: return APIC_VERSION;
    case 0x08: return a->tpr;
    case 0x09: return apic_apr(a);
    case 0x0a: return apic_ppr(a);
    case 0x0b: return 0; /* EOI is write-only */
    case 0x0c: return 0; /* remote read: never valid */
    case 0x0d: return a->ldr;
    case 0x0e: return a->dfr;
    case 0x0f: return a->svr;
    case 0x28: return a->esr;
    case 0x30: return a->icr_lo & ~LVT_DS; /* delivery is instant: always idle */
    case 0x31: return a->icr_hi;
    case 0x38: return a->timer_initial;
    case 0x39: return timer_current(a, clock_now(a->clock));
    case 0x3e: return a->timer_divide;
    default: break;
    }
    if (r >= 0x10 && r < 0x18) return a->isr[r - 0x10];
    if (r >= 0x18 && r < 0x20) return a->tmr[r - 0x18];
    if (r >= 0x20 && r < 0x28) return a->irr[r - 0x20];
    if (r >= 0x32 && r < 0x38) return a->lvt[r - 0x32];
    *ok = false;
    return 0;
}

static void reg_write(Apic *a, unsigned r, uint32_t v)
{
    uint64_t now = clock_now(a->clock);
    switch (r) {
    case 0x02: a->id = v >> 24; return;
    case 0x08: a->tpr = v & 0xff; break;
    case 0x0b: apic_eoi(a); break;
    case 0x0d: a->ldr = v & 0xff000000u; return;
    case 0x0e: a->dfr = v | 0x0fffffffu; return;
    case 0x0f:
        a->svr = v & 0x3ff; /* vector, enable, focus checking */
        if (!sw_enabled(a))
            for (int i = 0; i < APIC_LVT_COUNT; i++) a->lvt[i] |= LVT_MASKED;
        break;
    case 0x28:
        a->esr = a->esr_pending;
        a->esr_pending = 0;
        return;
    case 0x30:
        a->icr_lo = v & 0x000ccfffu;
        apic_send_ipi(a);
        break;
    case 0x31: a->icr_hi = v & 0xff000000u; return;
    case 0x38:
        a->timer_initial = v;
        a->timer_load = now;
        a->timer_active = v != 0;
        timer_arm(a, now);
        return;
    case 0x3e: {
        uint32_t count = timer_current(a, now);
        a->timer_divide = v & 0xb;
        if (a->timer_active) timer_rebase(a, now, count);
        timer_arm(a, now);
        return;
    }
    default:
        if (r >= 0x32 && r < 0x38) {
            int n = (int)r - 0x32;
            uint32_t count = timer_current(a, now);
            bool was_periodic = timer_periodic(a);
            uint32_t keep = a->lvt[n] & ~lvt_writable[n];
            a->lvt[n] = keep | (v & lvt_writable[n]);
            if (!sw_enabled(a)) a->lvt[n] |= LVT_MASKED;
            if (n == APIC_LVT_TIMER && was_periodic != timer_periodic(a) && a->timer_active) {
                timer_rebase(a, now, count);
                timer_arm(a, now);
            }
            if (n == APIC_LVT_LINT0 || n == APIC_LVT_LINT1) {
                if (!(a->lvt[n] & LVT_LEVEL)) a->lvt[n] &= ~LVT_REMOTE_IRR;
                lint_service(a, n - APIC_LVT_LINT0);
            }
            break;
        }
        bool ok;
        reg_read(a, r, &ok);
        if (!ok) apic_error(a, ESR_ILLEGAL_REG);
        break; /* writes to read-only registers are ignored */
    }
    apic_update(a);
}

/* Registers sit in the first 4 bytes of each 16-byte slot. Reads of any width return
 * the addressed bytes (bytes 4-15 of a slot read 0); only aligned 32-bit writes take
 * effect (the SDM makes anything else model-specific), narrower ones are dropped. */
uint32_t apic_read(void *opaque, uint32_t offset, unsigned size)
{
    Apic *a = opaque;
    offset &= APIC_MMIO_SIZE - 1;
    bool ok;
    uint32_t v = reg_read(a, offset >> 4, &ok);
    if (!ok) {
        apic_error(a, ESR_ILLEGAL_REG);
        apic_update(a);
    }
    unsigned byte = offset & 0xf;
    if (byte >= 4) return 0;
    v >>= 8 * byte;
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void apic_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    Apic *a = opaque;
    offset &= APIC_MMIO_SIZE - 1;
    if (size != 4 || (offset & 0xf)) return;
    reg_write(a, offset >> 4, value);
}

/* ---- snapshots ---- */

static int apic_post_load(void *opaque)
{
    Apic *a = opaque;
    apic_remap(a);
    timer_arm(a, clock_now(a->clock));
    a->out_level = apic_intr_pending(a);
    irq_set(&a->intr, a->out_level);
    return 0;
}

static const StateField apic_fields[] = {
    STATE_U64(Apic, base_msr),       STATE_U8(Apic, id),
    STATE_U32(Apic, tpr),            STATE_U32(Apic, ldr),
    STATE_U32(Apic, dfr),            STATE_U32(Apic, svr),
    STATE_U32(Apic, esr),            STATE_U32(Apic, esr_pending),
    STATE_U32_ARRAY(Apic, isr, 8),   STATE_U32_ARRAY(Apic, tmr, 8),
    STATE_U32_ARRAY(Apic, irr, 8),   STATE_U32(Apic, icr_lo),
    STATE_U32(Apic, icr_hi),         STATE_U32_ARRAY(Apic, lvt, APIC_LVT_COUNT),
    STATE_U32(Apic, timer_initial),  STATE_U32(Apic, timer_divide),
    STATE_U64(Apic, timer_load),     STATE_BOOL(Apic, timer_active),
    STATE_U8_ARRAY(Apic, lint_level, 2), STATE_BOOL(Apic, extint_pending),
    STATE_U8(Apic, out_level),       STATE_END};
static const StateDesc apic_state = {"apic", 1, apic_fields};

const DeviceOps apic_ops = {
    .name = "apic", .reset = apic_reset, .read = apic_read, .write = apic_write,
    .min_access = 1, .max_access = 4, .state = &apic_state, .post_load = apic_post_load};

void apic_init(Apic *a, Bus *bus, Clock *clock, IrqLine intr, const ApicConfig *cfg)
{
    memset(a, 0, sizeof(*a));
    if (cfg) a->cfg = *cfg;
    a->bus = bus;
    a->clock = clock;
    a->intr = intr;
    timer_init(&a->timer, clock, apic_timer_cb, a);
    apic_reset(a);
}

/* ---- INTA ---- */

uint8_t apic_intr_ack(Apic *a)
{
    uint8_t spurious = a->svr & 0xff;
    uint8_t v;
    if (!apic_enabled(a) || extint_active(a)) {
        a->extint_pending = false;
        v = a->cfg.extint_ack ? a->cfg.extint_ack(a->cfg.opaque) : spurious;
    } else {
        int irrv = deliverable_vector(a);
        if (irrv < 0) {
            v = spurious; /* withdrawn (TPR raised, ...): ISR untouched */
        } else {
            bit_clear(a->irr, (unsigned)irrv);
            bit_set(a->isr, (unsigned)irrv);
            v = (uint8_t)irrv;
        }
    }
    apic_update(a);
    return v;
}
