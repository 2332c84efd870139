/*
 * irq.h — an interrupt line: a function, an opaque pointer and a line number, so a
 * device never knows whether it is wired to the PIC, the IOAPIC or a test.
 *
 *     IrqLine l = pic_irq(&m->pic, 4);  irq_set(&l, 1);  irq_set(&l, 0);
 */
#ifndef DBT86_IRQ_H
#define DBT86_IRQ_H

typedef struct IrqLine {
    void (*set)(void *opaque, int n, int level); /* NULL: not connected */
    void *opaque;
    int n;
} IrqLine;

static inline void irq_set(const IrqLine *l, int level)
{
    if (l->set) l->set(l->opaque, l->n, level);
}
static inline void irq_raise(const IrqLine *l) { irq_set(l, 1); }
static inline void irq_lower(const IrqLine *l) { irq_set(l, 0); }
/* An edge: raise then lower (for ISA edge-triggered sources that pulse). */
static inline void irq_pulse(const IrqLine *l)
{
    irq_set(l, 1);
    irq_set(l, 0);
}

#endif
