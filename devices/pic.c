/*
 * pic.c — two cascaded 8259A interrupt controllers as wired in a PIIX PC: the slave's
 * INT drives the master's IR2, and the ELCR (0x4D0/0x4D1) chooses edge or level per
 * line instead of ICW1.LTIM (PIIX ignores LTIM). Priorities are numbers 0 (highest)
 * .. 7 relative to `priority_add`, the IR that rotation made highest.
 */
#include "devices/pic.h"

#include <string.h>

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_CASCADE_IR 2

/* ELCR bits the PIIX lets software set: IRQ 0, 1, 2, 8 and 13 are always edge. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE 0xde

/* Priority number (0 = highest) of the highest-priority bit set in `bits`, 8 if none. */
static int chip_priority(const Pic8259 *c, uint8_t bits)
{
    if (!bits) return 8;
    for (int pr = 0; pr < 8; pr++)
        if (bits & (1u << ((pr + c->priority_add) & 7))) return pr;
    return 8;
}

/* The IR this chip would present on INTA, or -1: the highest-priority unmasked request
 * that beats everything in service (fully nested mode). */
static int chip_pending(const Pic8259 *c, bool is_master)
{
    int req = chip_priority(c, c->irr & ~c->imr);
    if (req == 8) return -1;
    uint8_t in_service = c->isr;
    /* Special mask mode: a masked level in service no longer blocks lower levels. */
    if (c->special_mask) in_service &= ~c->imr;
    int cur = chip_priority(c, in_service);
    int irq = (req + c->priority_add) & 7;
    /* Special fully nested mode: the slave may interrupt its own in-service IR2 (the
     * slave only asserts INT for something above its own in-service level). */
    if (is_master && c->special_fully_nested && irq == PIC_CASCADE_IR && req == cur)
        return irq;
    return req < cur ? irq : -1;
}

/* Recompute the slave's INT (as the master's IR2 level) and the master's INTR. */
static void pic_update(Pic *p)
{
    Pic8259 *m = &p->chip[PIC_MASTER];
    bool slave_int = chip_pending(&p->chip[PIC_SLAVE], false) >= 0;
    /* The slave's INT is an edge-triggered input of the master (ELCR bit 2 is fixed to
     * edge): the latch survives INT dropping, which is how spurious IRQ 15 arises. */
    uint8_t bit = 1u << PIC_CASCADE_IR;
    if (slave_int) {
        if (!(m->level & bit)) m->irr |= bit;
        m->level |= bit;
    } else {
        m->level &= ~bit;
    }
    irq_set(&p->intr, chip_pending(m, true) >= 0);
}

/* The INTA (or poll) of one chip for `irq`: request -> in service. */
static void chip_ack(Pic8259 *c, int irq)
{
    uint8_t bit = 1u << irq;
    /* A level-triggered IRR bit follows its input; an edge latch is consumed. */
    if (!(c->elcr & bit)) c->irr &= ~bit;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi) c->priority_add = (irq + 1) & 7;
    } else {
        c->isr |= bit;
    }
}

static void chip_reset(Pic8259 *c, uint8_t elcr_mask)
{
    uint8_t level = c->level;
    memset(c, 0, sizeof(*c));
    c->level = level;
    c->elcr_mask = elcr_mask;
}

void pic_set_irq(void *opaque, int irq, int level)
{
    Pic *p = opaque;
    if (irq < 0 || irq > 15) return;
    Pic8259 *c = &p->chip[irq >> 3];
    uint8_t bit = 1u << (irq & 7);
    if (level) {
        /* Edge: latch on the rising edge only. Level: IRR follows the line. */
        if (!(c->level & bit) || (c->elcr & bit)) c->irr |= bit;
        c->level |= bit;
    } else {
        c->level &= ~bit;
        /* An edge latch survives the line dropping (ISA sources pulse); a level request
         * vanishes with the line, which is what makes spurious IRQ 7/15 possible. */
        if (c->elcr & bit) c->irr &= ~bit;
    }
    pic_update(p);
}

IrqLine pic_irq(Pic *p, int irq) { return (IrqLine){pic_set_irq, p, irq}; }

uint8_t pic_intr_ack(Pic *p)
{
    Pic8259 *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
    int irq = chip_pending(m, true);
    uint8_t vec;
    if (irq < 0) {
        /* The request went away between INTR and INTA: IR7 without setting ISR. */
        vec = m->vector_base | 7;
    } else {
        chip_ack(m, irq);
        if (irq == PIC_CASCADE_IR) {
            int sirq = chip_pending(s, false);
            if (sirq < 0) {
                vec = s->vector_base | 7; /* spurious IRQ 15; master IR2 stays in service */
            } else {
                chip_ack(s, sirq);
                vec = s->vector_base | sirq;
            }
        } else {
            vec = m->vector_base | irq;
        }
    }
    pic_update(p);
    return vec;
}

/* OCW3 poll: the next read returns 0x80|IR and acknowledges it, or 0 if none. */
static uint8_t chip_poll(Pic *p, int which)
{
    Pic8259 *c = &p->chip[which];
    c->poll = 0;
    int irq = chip_pending(c, which == PIC_MASTER);
    if (irq < 0) return 0;
    chip_ack(c, irq);
    pic_update(p);
    return 0x80 | irq;
}

static void chip_eoi(Pic8259 *c, uint8_t ocw2)
{
    int op = ocw2 >> 5, level = ocw2 & 7;
    switch (op) {
    case 1: /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        int pr = chip_priority(c, c->isr);
        if (pr == 8) break;
        int irq = (pr + c->priority_add) & 7;
        c->isr &= ~(1u << irq);
        if (op == 5) c->priority_add = (irq + 1) & 7;
        break;
    }
    case 3: /* specific EOI */
        c->isr &= ~(1u << level);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        c->priority_add = (level + 1) & 7;
        break;
    case 6: /* set priority: `level` becomes the lowest */
        c->priority_add = (level + 1) & 7;
        break;
    case 4: c->rotate_on_aeoi = 1; break;
    case 0: c->rotate_on_aeoi = 0; break;
    default: break; /* 2: no operation */
    }
}

static void chip_write(Pic *p, int which, uint32_t port, uint8_t v)
{
    Pic8259 *c = &p->chip[which];
    if (port == 0) {
        if (v & 0x10) { /* ICW1 */
            c->icw1 = v;
            c->icw_step = 2;
            c->imr = 0;
            c->isr = 0;
            /* The edge sense latches are reset: only a new rising edge requests. */
            c->irr = c->level & c->elcr;
            c->priority_add = 0;
            c->special_mask = 0;
            c->read_isr = 0;
            c->poll = 0;
            c->rotate_on_aeoi = 0;
            if (!(v & 0x01)) { /* no ICW4: its bits read as zero */
                c->icw4 = 0;
                c->auto_eoi = 0;
                c->special_fully_nested = 0;
            }
        } else if (v & 0x08) { /* OCW3 */
            if (v & 0x04) c->poll = 1;
            if (v & 0x02) c->read_isr = v & 0x01;
            if (v & 0x40) c->special_mask = (v >> 5) & 1;
        } else { /* OCW2 */
            chip_eoi(c, v);
        }
    } else {
        switch (c->icw_step) {
        case 2:
            c->vector_base = v & 0xf8;
            c->icw_step = (c->icw1 & 0x02) ? ((c->icw1 & 0x01) ? 4 : 0) : 3;
            break;
        case 3: /* ICW3: cascade wiring is fixed on a PC */
            c->icw_step = (c->icw1 & 0x01) ? 4 : 0;
            break;
        case 4:
            c->icw4 = v;
            c->auto_eoi = (v >> 1) & 1;
            c->special_fully_nested = (v >> 4) & 1;
            c->icw_step = 0;
            break;
        default: /* OCW1 */
            c->imr = v;
            break;
        }
    }
    pic_update(p);
}

static uint8_t chip_read(Pic *p, int which, uint32_t port)
{
    Pic8259 *c = &p->chip[which];
    if (c->poll) return chip_poll(p, which);
    if (port == 0) return c->read_isr ? c->isr : c->irr;
    return c->imr;
}

static uint32_t pic_master_read(void *dev, uint32_t off, unsigned size)
{
    return chip_read(dev, PIC_MASTER, off & 1);
}
static void pic_master_write(void *dev, uint32_t off, uint32_t v, unsigned size)
{
    chip_write(dev, PIC_MASTER, off & 1, (uint8_t)v);
}
static uint32_t pic_slave_read(void *dev, uint32_t off, unsigned size)
{
    return chip_read(dev, PIC_SLAVE, off & 1);
}
static void pic_slave_write(void *dev, uint32_t off, uint32_t v, unsigned size)
{
    chip_write(dev, PIC_SLAVE, off & 1, (uint8_t)v);
}

static uint32_t pic_elcr_read(void *dev, uint32_t off, unsigned size)
{
    Pic *p = dev;
    return p->chip[off & 1].elcr;
}

static void pic_elcr_write(void *dev, uint32_t off, uint32_t v, unsigned size)
{
    Pic *p = dev;
    Pic8259 *c = &p->chip[off & 1];
    c->elcr = (uint8_t)v & c->elcr_mask;
    /* A line switched to level now requests exactly while it is high. */
    c->irr = (c->irr & ~c->elcr) | (c->level & c->elcr);
    pic_update(p);
}

void pic_reset(void *opaque)
{
    Pic *p = opaque;
    chip_reset(&p->chip[PIC_MASTER], ELCR_MASK_MASTER);
    chip_reset(&p->chip[PIC_SLAVE], ELCR_MASK_SLAVE);
    pic_update(p);
}

static int pic_post_load(void *opaque)
{
    pic_update(opaque);
    return 0;
}

#define PIC_CHIP_FIELDS(i)                                                                    \
    STATE_U8(Pic, chip[i].irr), STATE_U8(Pic, chip[i].isr), STATE_U8(Pic, chip[i].imr),       \
        STATE_U8(Pic, chip[i].level), STATE_U8(Pic, chip[i].elcr),                            \
        STATE_U8(Pic, chip[i].elcr_mask), STATE_U8(Pic, chip[i].vector_base),                 \
        STATE_U8(Pic, chip[i].icw_step), STATE_U8(Pic, chip[i].icw1),                         \
        STATE_U8(Pic, chip[i].icw4), STATE_U8(Pic, chip[i].read_isr),                         \
        STATE_U8(Pic, chip[i].poll), STATE_U8(Pic, chip[i].special_mask),                     \
        STATE_U8(Pic, chip[i].auto_eoi), STATE_U8(Pic, chip[i].rotate_on_aeoi),               \
        STATE_U8(Pic, chip[i].special_fully_nested), STATE_U8(Pic, chip[i].priority_add)

static const StateField pic_fields[] = {PIC_CHIP_FIELDS(0), PIC_CHIP_FIELDS(1), STATE_END};
static const StateDesc pic_state = {"pic", 1, pic_fields};

static const DeviceOps pic_master_ops = {
    .name = "pic", .reset = pic_reset, .read = pic_master_read, .write = pic_master_write,
    .min_access = 1, .max_access = 1, .state = &pic_state, .post_load = pic_post_load};
static const DeviceOps pic_slave_ops = {
    .name = "pic-slave", .read = pic_slave_read, .write = pic_slave_write,
    .min_access = 1, .max_access = 1};
static const DeviceOps pic_elcr_ops = {
    .name = "pic-elcr", .read = pic_elcr_read, .write = pic_elcr_write,
    .min_access = 1, .max_access = 1};

void pic_init(Pic *p, Bus *bus, IrqLine intr)
{
    memset(p, 0, sizeof(*p));
    p->intr = intr;
    pic_reset(p);
    bus_map_io(bus, 0x20, 2, &pic_master_ops, p);
    bus_map_io(bus, 0xa0, 2, &pic_slave_ops, p);
    bus_map_io(bus, 0x4d0, 2, &pic_elcr_ops, p);
}
