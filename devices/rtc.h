/*
 * rtc.h — the MC146818 RTC and CMOS RAM (index 0x70, data 0x71): time that starts from
 * a given wall-clock instant and advances with virtual time; periodic, alarm and
 * update-ended interrupts on IRQ 8; 128 bytes of CMOS that the board fills with
 * memory sizes, the century and boot settings.
 */
#ifndef DBT86_RTC_H
#define DBT86_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/irq.h"

typedef struct Rtc {
    uint8_t cmos[128];     /* registers 0x00-0x0D are the clock, the rest CMOS RAM */
    uint8_t index;         /* selected register (port 0x70 bits 0-6) */
    bool nmi_disabled;     /* port 0x70 bit 7 */
    uint64_t base_unix;    /* wall-clock seconds at virtual time base_ns */
    uint64_t base_ns;      /* virtual time at which base_unix held */
    bool halted;           /* SET or divider reset: time stands at base_unix */
    bool divider_reset;    /* register A DV bits hold the divider chain in reset */
    uint64_t pf_last_ns;   /* periodic boundaries up to here are accounted in PF */
    uint64_t next_update_ns;   /* deadline of `second` (CLOCK_NEVER: disarmed) */
    uint64_t next_periodic_ns; /* deadline of `periodic` (CLOCK_NEVER: disarmed) */
    Clock *clock;
    IrqLine irq;           /* IRQ 8 */
    Timer periodic;        /* periodic interrupt timer */
    Timer second;          /* once-a-second update timer */
} Rtc;

/* start_unix: the wall-clock time (UTC seconds) at virtual time 0; it comes from the
 * input layer (host time, or a fixed value for deterministic runs). */
void rtc_init(Rtc *r, Bus *bus, Clock *clock, IrqLine irq8, uint64_t start_unix);
void rtc_reset(void *r);
void rtc_set_cmos(Rtc *r, unsigned idx, uint8_t v);
uint8_t rtc_get_cmos(const Rtc *r, unsigned idx);

#endif
