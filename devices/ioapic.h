/*
 * ioapic.h — the I/O APIC (Intel 82093AA): 24 input pins, each with a redirection
 * entry that turns an edge or a level into an interrupt message for the local APIC.
 * Registers are reached through IOREGSEL (offset 0x00) and IOWIN (offset 0x10).
 *
 *     ioapic_init(&m->ioapic, &m->bus, IOAPIC_DEFAULT_BASE, 0, apic_ioapic_deliver,
 *                 &m->apic);
 *     m->ioapic.accepts = apic_accepts;                // optional destination check
 *     IrqLine pin4 = ioapic_irq(&m->ioapic, 4);        // give to the UART (with the PIC)
 *     ioapic_eoi(&m->ioapic, vector);                   // the APIC's EOI broadcast
 */
#ifndef DBT86_IOAPIC_H
#define DBT86_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_MMIO_SIZE 0x1000u  /* one page decoded; registers at 0x00 and 0x10 */
#define IOAPIC_PINS 24
#define IOAPIC_VERSION 0x00170011u /* 24 entries (max redirection entry 23), version 0x11 */

/* Redirection entry bits (low dword) */
#define IOAPIC_RE_DEST_LOGICAL (1u << 11)
#define IOAPIC_RE_DS (1u << 12)
#define IOAPIC_RE_POLARITY_LOW (1u << 13)
#define IOAPIC_RE_REMOTE_IRR (1u << 14)
#define IOAPIC_RE_LEVEL (1u << 15)
#define IOAPIC_RE_MASKED (1u << 16)

typedef struct Ioapic {
    /* ---- state (saved) ---- */
    uint8_t regsel;             /* IOREGSEL */
    uint8_t id;                 /* ID register bits 27:24 */
    uint8_t arb;                /* arbitration ID (loaded from the ID) */
    uint32_t redir_lo[IOAPIC_PINS], redir_hi[IOAPIC_PINS];
    uint32_t level;             /* input pin levels, bit n = pin n (1 = asserted) */
    /* ---- wiring (not saved) ---- */
    uint8_t reset_id;
    /* The interrupt message: mode is the delivery mode (APIC_DM_*). */
    void (*deliver)(void *apic, uint8_t vector, bool level, uint8_t mode);
    /* Optional: does the message for `dest` reach the APIC? NULL: always. */
    bool (*accepts)(void *apic, uint8_t dest, bool logical);
    void *apic;
} Ioapic;

extern const DeviceOps ioapic_ops;

/* Maps the two registers at `base` on `bus` (if not NULL) and resets. */
void ioapic_init(Ioapic *io, Bus *bus, uint32_t base, uint8_t id,
                 void (*deliver)(void *apic, uint8_t vector, bool level, uint8_t mode),
                 void *apic);
void ioapic_reset(void *io);   /* every entry masked, ID back to the initial one */
/* IrqLine-compatible: set input `pin` (0..23) to `level`. Levels are logical
 * (1 = asserted): the polarity bit is stored and read back but not applied, since the
 * board's IrqLines already carry "asserted", whatever the wire's electrical sense. */
void ioapic_set_irq(void *io, int pin, int level);
IrqLine ioapic_irq(Ioapic *io, int pin);
/* EOI broadcast from the local APIC: clears remote IRR of the level-triggered entries
 * with this vector, and re-delivers those whose input is still asserted. */
void ioapic_eoi(Ioapic *io, uint8_t vector);

uint32_t ioapic_read(void *io, uint32_t offset, unsigned size);
void ioapic_write(void *io, uint32_t offset, uint32_t value, unsigned size);

#endif
