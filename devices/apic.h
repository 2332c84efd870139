/*
 * apic.h — the local APIC of the one CPU (xAPIC mode, Intel SDM vol. 3 ch. 10): MMIO
 * registers at the IA32_APIC_BASE address, LVT with LINT0/LINT1 inputs, the APIC timer
 * on the virtual clock, fixed interrupts from the IOAPIC, self-IPIs, and the INTR/INTA
 * interface to the CPU (which also carries the 8259's ExtINT pass-through).
 *
 *     ApicConfig ac = {.bsp = true, .lint0_extint_at_reset = true, .opaque = m,
 *                      .eoi_broadcast = board_eoi, .extint_ack = board_pic_ack,
 *                      .nmi = board_nmi};
 *     apic_init(&m->apic, &m->bus, &m->clock, (IrqLine){cpu_intr_set, m, 0}, &ac);
 *     pic_init(&m->pic, &m->bus, apic_lint(&m->apic, 0));   // PIC INTR -> LINT0
 *     uint8_t vec = apic_intr_ack(&m->apic);                 // CPU's INTA cycle
 */
#ifndef DBT86_APIC_H
#define DBT86_APIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/device.h"
#include "devices/irq.h"

#define APIC_DEFAULT_BASE 0xfee00000u
#define APIC_MMIO_SIZE 0x1000u
#define APIC_VERSION 0x00050014u   /* integrated APIC, 6 LVT entries (max LVT 5) */
/* The timer's input clock: 1 GHz of virtual time, i.e. one bus clock per virtual ns
 * before the divider (CPUID has no leaf 0x15, so guests calibrate it anyway). */
#define APIC_TIMER_HZ 1000000000u

/* IA32_APIC_BASE bits */
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_ENABLE (1u << 11)

/* LVT indexes (registers 0x320 + 0x10 * index) */
enum { APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1,
       APIC_LVT_ERROR, APIC_LVT_COUNT };

/* Delivery modes (ICR, LVT, IOAPIC redirection entries) */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
       APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7 };

/* Board wiring and options; copied by apic_init. Every hook may be NULL. */
typedef struct ApicConfig {
    uint8_t id;                 /* initial APIC ID (0 for the BSP) */
    bool bsp;                   /* IA32_APIC_BASE bit 8 */
    /* Reset LINT0 to ExtINT, unmasked (0x700) instead of the SDM's masked 0x10000, so
     * that the 8259's INTR reaches the CPU before the firmware programs the APIC (what
     * QEMU's BSP does; real boards use the IMCR / "PIC mode" for this). */
    bool lint0_extint_at_reset;
    void *opaque;               /* passed to every hook */
    /* EOI of a level-triggered vector (TMR bit set): broadcast to the IOAPIC(s). */
    void (*eoi_broadcast)(void *opaque, uint8_t vector);
    /* INTA for an ExtINT interrupt: the 8259's acknowledge, returns its vector. */
    uint8_t (*extint_ack)(void *opaque);
    /* An NMI for the CPU (LINT in NMI mode, NMI IPI to self, IOAPIC NMI entry). */
    void (*nmi)(void *opaque);
    /* The APIC's MMIO page moved or was (un)mapped: the board keeps that physical page
     * out of PhysMem so the CPU asks the bus. Called after the bus mapping changed. */
    void (*moved)(void *opaque, uint32_t base, bool enabled);
} ApicConfig;

typedef struct Apic {
    /* ---- state (saved) ---- */
    uint64_t base_msr;          /* IA32_APIC_BASE */
    uint8_t id;                 /* APIC ID register bits 31:24 */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;               /* ESR as read (latched by the last ESR write) */
    uint32_t esr_pending;       /* errors detected since the last ESR write */
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[APIC_LVT_COUNT];
    uint32_t timer_initial;     /* initial count register */
    uint32_t timer_divide;      /* divide configuration register (bits 0, 1, 3) */
    uint64_t timer_load;        /* virtual ns at which the current count was `initial`
                                 * (modulo 2^64: re-basing may move it before time 0) */
    bool timer_active;          /* counting (a one-shot stops at 0) */
    uint8_t lint_level[2];      /* LINT0/LINT1 input levels (1 = asserted) */
    bool extint_pending;        /* an ExtINT message from the IOAPIC awaits INTA */
    uint8_t out_level;          /* INTR output as last driven */
    /* ---- wiring (not saved) ---- */
    ApicConfig cfg;
    Bus *bus;                   /* NULL: not mapped (tests call the ops directly) */
    Clock *clock;
    Timer timer;
    IrqLine intr;               /* INTR to the CPU */
} Apic;

extern const DeviceOps apic_ops;

/* Maps the registers at the default base on `bus` (if not NULL) and resets. */
void apic_init(Apic *a, Bus *bus, Clock *clock, IrqLine intr, const ApicConfig *cfg);
/* Power-on / RESET state (IA32_APIC_BASE back to 0xFEE00000 | enable | BSP). */
void apic_reset(void *a);

/* IA32_APIC_BASE (MSR 0x1B). The CPU's WRMSR validates reserved bits (#GP); here bit 8
 * (BSP) keeps its hardware value and bit 10 (x2APIC) is not supported. Clearing bit 11
 * disables the APIC globally: its registers return to the power-on state, the MMIO page
 * is unmapped and the 8259's INTR goes straight to the CPU. */
void apic_set_base(Apic *a, uint64_t value);
uint64_t apic_get_base(const Apic *a);
bool apic_enabled(const Apic *a);   /* globally enabled (IA32_APIC_BASE bit 11) */

/* IrqLine-compatible: LINT0 (n = 0, the 8259's INTR) and LINT1 (n = 1, NMI). Levels
 * are logical (1 = asserted); the LVT polarity bit is stored but not applied. While the
 * APIC is globally disabled they are the CPU's INTR and NMI pins: LINT0 is INTR as is,
 * a rising edge of LINT1 calls the nmi hook. */
void apic_set_irq(void *a, int n, int level);
IrqLine apic_lint(Apic *a, int n);

/* A fixed interrupt message (from the IOAPIC or a self-IPI): sets IRR, and TMR when
 * level-triggered so the EOI is broadcast. Vectors 0-15 are illegal (ESR bit 6). */
void apic_deliver(Apic *a, uint8_t vector, bool level);
/* The IOAPIC's delivery callback: fixed and lowest priority go to apic_deliver, NMI to
 * the nmi hook, ExtINT makes INTA go to the 8259; SMI, INIT and others are dropped. */
void apic_ioapic_deliver(void *a, uint8_t vector, bool level, uint8_t mode);
/* Whether a message for `dest` (physical or logical) reaches this APIC. */
bool apic_accepts(void *a, uint8_t dest, bool logical);

/* INTR towards the CPU: an ExtINT is pending, or the highest IRR vector's priority
 * class is above the PPR's (and the APIC is software-enabled). */
bool apic_intr_pending(const Apic *a);
/* INTA: the vector to deliver. Moves IRR -> ISR, or performs the 8259's acknowledge for
 * an ExtINT; the spurious vector (SVR[7:0]) when nothing is deliverable any more. */
uint8_t apic_intr_ack(Apic *a);

/* Register access by offset in the 4 KiB page (what apic_ops uses). */
uint32_t apic_read(void *a, uint32_t offset, unsigned size);
void apic_write(void *a, uint32_t offset, uint32_t value, unsigned size);

#endif
