/*
 * acpi_pm.c — PIIX4 power management (see acpi_pm.h). PM registers, relative to
 * PMBASE: 0x00 PM1_STS, 0x02 PM1_EN, 0x04 PM1_CNT, 0x08 PM_TMR (read-only).
 * The timer's TMR_STS bit (PM1_STS bit 0) is set each time bit 23 of the counter
 * changes; with TMR_EN it raises the SCI.
 */
#include "devices/acpi_pm.h"

#include <string.h>

#define PM1_TMR_STS 0x0001u
#define PM1_PWRBTN_STS 0x0100u
#define PM1_WAK_STS 0x8000u
#define PM1_CNT_SCI_EN 0x0001u
#define PM1_CNT_SLP_EN 0x2000u
#define PM_IO_SIZE 64

static uint64_t ticks_at(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / 1000000000u);
}

static uint64_t ns_at(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * 1000000000u + ACPI_PM_TIMER_HZ - 1) /
                      ACPI_PM_TIMER_HZ);
}

uint32_t acpi_pm_timer(const AcpiPm *p) { return ticks_at(clock_now(p->clock)) & 0xffffff; }

static void pm_update_sci(AcpiPm *p)
{
    bool level = (p->pm1_sts & p->pm1_en & (PM1_TMR_STS | PM1_PWRBTN_STS)) != 0;
    irq_set(&p->sci, level && (p->pm1_cnt & PM1_CNT_SCI_EN));
}

void acpi_pm_power_button(AcpiPm *p)
{
    p->pm1_sts |= PM1_PWRBTN_STS;
    pm_update_sci(p);
}

static void pm_arm_overflow(AcpiPm *p)
{
    uint64_t t = ticks_at(clock_now(p->clock));
    uint64_t next = (t | 0x7fffff) + 1; /* next change of bit 23 */
    timer_mod(&p->overflow, ns_at(next));
}

static void pm_overflow(void *opaque)
{
    AcpiPm *p = opaque;
    p->pm1_sts |= PM1_TMR_STS;
    pm_update_sci(p);
    pm_arm_overflow(p);
}

static uint32_t pm_read(void *opaque, uint32_t off, unsigned size)
{
    AcpiPm *p = opaque;
    uint32_t v;
    switch (off & ~1u) {
    case 0x00: v = p->pm1_sts; break;
    case 0x02: v = p->pm1_en; break;
    case 0x04: v = p->pm1_cnt; break;
    case 0x08: v = acpi_pm_timer(p); break;
    case 0x0a: v = acpi_pm_timer(p) >> 16; break;
    default: v = 0; break;
    }
    if (off & 1) v >>= 8;
    return v;
}

static void pm_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    AcpiPm *p = opaque;
    if (size == 1) {
        /* merge a byte write into its 16-bit register; for the write-1-to-clear status
         * register the other byte must write zeros */
        bool high = off & 1;
        off &= ~1u;
        uint32_t cur = off == 0x00 ? 0 : pm_read(p, off, 2);
        v = high ? (cur & 0x00ff) | ((v & 0xff) << 8) : (cur & 0xff00) | (v & 0xff);
    }
    switch (off) {
    case 0x00: p->pm1_sts &= ~v; break;
    case 0x02: p->pm1_en = v; break;
    case 0x04:
        p->pm1_cnt = v & ~PM1_CNT_SLP_EN;
        if ((v & PM1_CNT_SLP_EN) && ((v >> 10) & 7) == 0 && p->power_off)
            p->power_off(p->board);
        break;
    default: break;
    }
    pm_update_sci(p);
}

static const DeviceOps pm_io_ops = {
    .name = "acpi-pm-io", .read = pm_read, .write = pm_write, .min_access = 1, .max_access = 2,
};

#define APM_ACPI_ENABLE 0xf1
#define APM_ACPI_DISABLE 0xf0

static uint32_t apm_read(void *opaque, uint32_t off, unsigned size)
{
    AcpiPm *p = opaque;
    return off == 0 ? p->apm_cnt : p->apm_sts;
}

static void apm_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    AcpiPm *p = opaque;
    if (off == 1) {
        p->apm_sts = v;
        return;
    }
    p->apm_cnt = v;
    if (v == APM_ACPI_ENABLE) p->pm1_cnt |= PM1_CNT_SCI_EN;
    if (v == APM_ACPI_DISABLE) p->pm1_cnt &= ~PM1_CNT_SCI_EN;
    pm_update_sci(p);
}

static const DeviceOps apm_ops = {
    .name = "apm", .read = apm_read, .write = apm_write, .min_access = 1, .max_access = 1,
};

/* PMBASE (0x40) and PMREGMISC (0x80 bit 0) decide where the registers appear. */
static void pm_remap(AcpiPm *p)
{
    uint32_t base = (p->pci.config[0x40] | p->pci.config[0x41] << 8) & 0xffc0;
    bool on = p->pci.config[0x80] & 1;
    if (p->io_base) bus_unmap_io(p->bus, p->io_base, PM_IO_SIZE);
    p->io_base = 0;
    if (on && base) {
        p->io_base = base;
        bus_map_io(p->bus, base, PM_IO_SIZE, &pm_io_ops, p);
    }
}

static void pm_config_write(PciDevice *d, uint32_t addr, uint32_t val, unsigned size)
{
    AcpiPm *p = d->opaque;
    if ((addr <= 0x43 && addr + size > 0x40) || (addr <= 0x80 && addr + size > 0x80)) pm_remap(p);
}

static int pm_post_load(void *opaque)
{
    AcpiPm *p = opaque;
    pm_remap(p);
    pm_arm_overflow(p);
    pm_update_sci(p);
    return 0;
}

void acpi_pm_reset(void *opaque)
{
    AcpiPm *p = opaque;
    p->pm1_sts = 0;
    p->pm1_en = 0;
    p->pm1_cnt = 0;
    p->apm_cnt = p->apm_sts = 0;
    p->pci.config[0x40] = 1; /* I/O space indicator */
    p->pci.config[0x41] = p->pci.config[0x42] = p->pci.config[0x43] = 0;
    p->pci.config[0x80] = 0;
    /* DEVACTB APMC_EN already set: tells firmware that SMM is initialised, so it does
     * not try to raise an SMI (there is no SMM mode; QEMU does the same with smm=off) */
    p->pci.config[0x5b] = 0x02;
    pm_remap(p);
    pm_arm_overflow(p);
    irq_set(&p->sci, 0);
}

static const StateField pm_fields[] = {
    STATE_U16(AcpiPm, pm1_sts), STATE_U16(AcpiPm, pm1_en), STATE_U16(AcpiPm, pm1_cnt),
    STATE_U8(AcpiPm, apm_cnt), STATE_U8(AcpiPm, apm_sts),
    STATE_BYTES(AcpiPm, pci.config, 256), STATE_END,
};
static const StateDesc pm_state = {"acpi-pm", 1, pm_fields};
const DeviceOps acpi_pm_device_ops = {
    .name = "piix4-pm", .reset = acpi_pm_reset, .state = &pm_state, .post_load = pm_post_load,
};

void acpi_pm_init(AcpiPm *p, Bus *bus, PciBus *pci, Clock *clock, IrqLine sci,
                  void (*power_off)(void *), void *board)
{
    memset(p, 0, sizeof(*p));
    p->bus = bus;
    p->clock = clock;
    p->sci = sci;
    p->power_off = power_off;
    p->board = board;
    pci_device_init(&p->pci, 0x8086, 0x7113, 0x068000);
    p->pci.config[0x08] = 0x03; /* revision */
    p->pci.config[0x3d] = 1;    /* interrupt pin A */
    p->pci.config[0x3c] = 9;
    /* PMBASE bits 6-15 and PMREGMISC bit 0 are writable */
    p->pci.wmask[0x40] = 0xc0;
    p->pci.wmask[0x41] = 0xff;
    p->pci.wmask[0x80] = 0x01;
    p->pci.opaque = p;
    p->pci.config_write = pm_config_write;
    timer_init(&p->overflow, clock, pm_overflow, p);
    bus_map_io(bus, 0xb2, 2, &apm_ops, p);
    pci_register(pci, &p->pci, PCI_DEVFN(1, 3));
    acpi_pm_reset(p);
}
