/*
 * acpi_pm.h — the PIIX4 power-management function (PCI 8086:7113 at 00:01.3) as far
 * as firmware and a simple OS use it: PMBASE (config 0x40) with its enable bit
 * (config 0x80 bit 0), PM1 status/enable/control registers, the 24-bit ACPI PM timer
 * at 3.579545 MHz derived from virtual time, power-off when the guest sets SLP_EN
 * with sleep type 0 (S5, as QEMU's DSDT defines it), the SCI on IRQ 9, and the SMI
 * command port 0xB2 (with status 0xB3): there is no SMM, so the two ACPI commands the
 * firmware's FADT names are carried out directly — 0xF1 enables ACPI mode (SCI_EN),
 * 0xF0 disables it — as an SMI handler would.
 */
#ifndef DBT86_ACPI_PM_H
#define DBT86_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/irq.h"
#include "devices/pci.h"

#define ACPI_PM_TIMER_HZ 3579545

typedef struct AcpiPm {
    PciDevice pci;
    uint16_t pm1_sts;    /* PM1 status (write 1 to clear) */
    uint16_t pm1_en;     /* PM1 enable */
    uint16_t pm1_cnt;    /* PM1 control: SCI_EN, SLP_TYP, SLP_EN */
    uint16_t io_base;    /* where the PM registers are mapped, 0 = not mapped */
    uint8_t apm_cnt;     /* APM control (SMI command) port 0xB2: last value written */
    uint8_t apm_sts;     /* APM status port 0xB3 (scratch byte) */
    Bus *bus;
    Clock *clock;
    IrqLine sci;         /* IRQ 9 */
    Timer overflow;      /* TMR_STS: the timer's bit 23 toggles */
    void (*power_off)(void *board);
    void *board;
} AcpiPm;

/* reset, state descriptor and post_load of the device */
extern const DeviceOps acpi_pm_device_ops;

void acpi_pm_init(AcpiPm *p, Bus *bus, PciBus *pci, Clock *clock, IrqLine sci,
                  void (*power_off)(void *), void *board);
void acpi_pm_reset(void *p);
/* The PM timer value (24 bits) at the current virtual time. */
uint32_t acpi_pm_timer(const AcpiPm *p);
/* Press the power button: PWRBTN_STS, and the SCI when the guest enabled it. */
void acpi_pm_power_button(AcpiPm *p);

#endif
