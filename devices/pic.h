/*
 * pic.h — two cascaded 8259A PICs (master 0x20/0x21, slave 0xA0/0xA1, ELCR 0x4D0/0x4D1).
 *
 *     pic_init(&m->pic, &m->bus, (IrqLine){cpu_intr_set, cpu, 0});
 *     IrqLine irq4 = pic_irq(&m->pic, 4);    // give to the UART
 *     uint8_t vec = pic_intr_ack(&m->pic);   // CPU's INTA cycle
 */
#ifndef DBT86_PIC_H
#define DBT86_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

typedef struct Pic8259 {
    uint8_t irr;        /* interrupt request register */
    uint8_t isr;        /* in-service register */
    uint8_t imr;        /* interrupt mask register */
    uint8_t level;      /* current input line levels (edge detection) */
    uint8_t elcr;       /* edge/level control (1 = level) */
    uint8_t elcr_mask;  /* which ELCR bits are writable */
    uint8_t vector_base;/* ICW2 & 0xf8 */
    uint8_t icw_step;   /* 0 = operational, 2..4 = expecting ICWn */
    uint8_t icw1, icw4;
    uint8_t read_isr;   /* OCW3: next read of port 0 returns ISR instead of IRR */
    uint8_t poll;       /* OCW3 poll command pending */
    uint8_t special_mask, auto_eoi, rotate_on_aeoi, special_fully_nested;
    uint8_t priority_add; /* lowest-priority rotation base */
} Pic8259;

typedef struct Pic {
    Pic8259 chip[2];    /* [0] master, [1] slave on master IRQ 2 */
    IrqLine intr;       /* INTR output to the CPU */
} Pic;

void pic_init(Pic *p, Bus *bus, IrqLine intr);
void pic_reset(void *p);
/* IrqLine-compatible: set ISA IRQ `irq` (0..15) to `level`. */
void pic_set_irq(void *p, int irq, int level);
IrqLine pic_irq(Pic *p, int irq);
/* The CPU's interrupt acknowledge: returns the vector and updates ISR/IRR. */
uint8_t pic_intr_ack(Pic *p);

#endif
