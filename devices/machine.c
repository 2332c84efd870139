/*
 * machine.c — the i440FX/PIIX3 PC: memory map (RAM, PAM-shadowed BIOS areas, the BIOS
 * ROM at the top of 4 GiB and its ISA alias below 1 MiB), the wiring of every device
 * (IRQ lines, bus ranges), CMOS contents, the reset path, and the run loop that
 * drives the CPU from timer deadline to timer deadline on the virtual clock.
 */
#include "devices/machine.h"
#include "translate/dbt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bios/firmware.h"
#include "cpu/fpu.h"
#include "bios/linuxboot.h" /* linuxboot */

/* QEMU's x86 fw_cfg item (FW_CFG_ARCH_LOCAL + 2) that SeaBIOS reads as
 * "etc/irq0-override": 1 = ISA IRQ 0 is IOAPIC pin 2. */
#define FW_CFG_IRQ0_OVERRIDE 0x8002

/* Below 1 MiB the ROM's last 128 KiB (or all of a smaller ROM) appear at the top. */
static uint32_t isa_bios_size(const Machine *m)
{
    return m->bios_size < 0x20000u ? m->bios_size : 0x20000u;
}

void machine_config_defaults(MachineConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_mb = 128;
    cfg->bios_path = NULL;
    cfg->vgabios_path = NULL;
    strcpy(cfg->boot_order, "cdn");
    cfg->icount_shift = 3;
}

void machine_powerdown(Machine *m) { acpi_pm_power_button(&m->acpi); }

void machine_nmi(Machine *m)
{
    apic_set_irq(&m->apic, 1, 1);
    apic_set_irq(&m->apic, 1, 0);
}

uint64_t machine_now_ns(const Machine *m) { return clock_now(&m->clock); }

void machine_request_exit(Machine *m, MachineExitKind kind, int status)
{
    if (!m->exit_requested) {
        m->exit_requested = true;
        m->exit.kind = kind;
        m->exit.status = status;
    }
    cpu_request_stop(&m->cpu);
}

/* ---- memory map ---- */

/* The local APIC's page is MMIO wherever IA32_APIC_BASE puts it: if that hides RAM or
 * ROM, the page leaves the map so the CPU asks the bus (the APIC decodes first, as the
 * CPU's own APIC does on real hardware). */
static void machine_apic_punch(Machine *m)
{
    if (!apic_enabled(&m->apic)) return;
    uint32_t page = (uint32_t)apic_get_base(&m->apic) >> PAGE_SHIFT;
    if (!m->mem->rd[page] && !m->mem->wr[page]) return;
    m->mem->rd[page] = m->mem->wr[page] = NULL;
    m->mem->generation++;
    m->mem->map_generation++;
    m->apic_hole = true;
}

/* Re-map 0xC0000-0xFFFFF from the PAM registers: each 16 KiB segment (the 64 KiB at
 * 0xF0000 is one unit) reads RAM or ROM/nothing and writes RAM or nothing. */
static void machine_pam_update(void *opaque)
{
    Machine *m = opaque;
    for (uint32_t a = 0xc0000; a < 0x100000; a += PAGE_SIZE) {
        unsigned attr = i440fx_pam_attr(&m->i440fx, a);
        uint8_t *rom = NULL;
        uint32_t isa = isa_bios_size(m);
        if (m->bios && a >= 0x100000u - isa) rom = m->bios + m->bios_size - (0x100000u - a);
        m->mem->rd[a >> PAGE_SHIFT] = (attr & 1) ? m->ram + a : rom;
        m->mem->wr[a >> PAGE_SHIFT] = (attr & 2) ? m->ram + a : NULL;
        m->mem->code[a >> PAGE_SHIFT] = 0; /* the generation bump drops translations */
    }
    m->mem->generation++;
    m->mem->map_generation++;
    machine_apic_punch(m);
}

static void machine_map_memory(Machine *m)
{
    /* the translator's code-write hook survives a re-map */
    bool (*code_write)(void *, uint32_t, uint32_t, uint32_t) = m->mem->code_write;
    void *code_opaque = m->mem->code_opaque;
    uint32_t gen = m->mem->generation, map_gen = m->mem->map_generation;
    memset(m->mem, 0, sizeof(*m->mem));
    m->apic_hole = false;
    m->mem->code_write = code_write;
    m->mem->code_opaque = code_opaque;
    m->mem->generation = gen + 1;
    m->mem->map_generation = map_gen + 1;
    /* conventional and extended RAM; 0xA0000-0xBFFFF is the VGA window (MMIO) */
    physmem_map(m->mem, 0, 0xa0000, m->ram, m->ram);
    if (m->ram_size > 0x100000)
        physmem_map(m->mem, 0x100000, m->ram_size - 0x100000, m->ram + 0x100000,
                    m->ram + 0x100000);
    /* the BIOS ROM at the top of 4 GiB */
    if (m->bios) physmem_map(m->mem, (uint32_t)(0x100000000ull - m->bios_size), m->bios_size,
                             m->bios, NULL);
    machine_pam_update(m);
}

/* ---- CPU bus callbacks ---- */

/* A device access may arm a timer earlier than the deadline the current cpu_run()
 * budget was computed for (the guest programs the APIC timer or the PIT, then maybe
 * halts): stop at this instruction boundary so the run loop fires it on time. */
static inline void board_check_deadline(Machine *m)
{
    if (clock_next_deadline(&m->clock) < m->run_deadline) cpu_request_stop(&m->cpu);
}

static uint32_t cb_io_read(void *o, uint16_t port, unsigned size)
{
    uint32_t v = bus_io_read(&((Machine *)o)->bus, port, size);
    board_check_deadline(o);
    return v;
}
static void cb_io_write(void *o, uint16_t port, uint32_t v, unsigned size)
{
    bus_io_write(&((Machine *)o)->bus, port, v, size);
    board_check_deadline(o);
}
static uint32_t cb_mmio_read(void *o, uint32_t a, unsigned size)
{
    uint32_t v = bus_mmio_read(&((Machine *)o)->bus, a, size);
    board_check_deadline(o);
    return v;
}
static void cb_mmio_write(void *o, uint32_t a, uint32_t v, unsigned size)
{
    bus_mmio_write(&((Machine *)o)->bus, a, v, size);
    board_check_deadline(o);
}
/* INTA goes to the local APIC, which asks the 8259 for ExtINT (virtual wire). */
static uint8_t cb_intr_ack(void *o) { return apic_intr_ack(&((Machine *)o)->apic); }
static uint64_t cb_now_ns(void *o) { return clock_now(&((Machine *)o)->clock); }

static void cb_shutdown(void *o)
{
    Machine *m = o;
    if (m->cfg.log_flags & LOG_GUEST_ERRORS)
        fprintf(m->cfg.log_file ? m->cfg.log_file : stderr, "triple fault: CPU reset\n");
    if (m->cfg.no_reboot)
        machine_request_exit(m, MEXIT_RESET, 0);
    else
        m->reset_requested = true;
    cpu_request_stop(&m->cpu);
}

/* FERR# from the x87 drives IRQ 13 (the PC/AT way of reporting FPU errors when
 * CR0.NE is 0); a write to port 0xF0 clears the latch and asserts IGNNE#. */
static void cb_ferr(void *o, int level)
{
    Machine *m = o;
    irq_set(&m->irq13, level);
    if (!level) fpu_set_ignne(&m->cpu, false);
}

/* vmport: the VMware backdoor (an IN from 0x5658 with the magic in EAX) */
static void cb_backdoor(void *o, uint32_t regs[8])
{
    Machine *m = o;
    vmmouse_backdoor(&m->vmmouse, regs);
}

/* vmport: each vmmouse event also sends a PS/2 packet, the driver's cue to read */
static void board_vmmouse_notify(void *o, unsigned buttons)
{
    Machine *m = o;
    kbc_put_mouse(&m->kbc, 0, 0, 0, buttons);
}

static uint32_t fpu_port_read(void *o, uint32_t off, unsigned size) { return 0xff; }

static void fpu_port_write(void *o, uint32_t off, uint32_t v, unsigned size)
{
    Machine *m = o;
    irq_set(&m->irq13, 0);
    fpu_set_ignne(&m->cpu, true);
}

static const DeviceOps fpu_port_ops = {
    .name = "fpu-irq13", .read = fpu_port_read, .write = fpu_port_write, .min_access = 1,
    .max_access = 1,
};

/* Port 0x80: POST codes, and the classic I/O delay port. Writes are accepted
 * silently (so they do not flood -d guest_errors); reads give all ones as on QEMU. */
static uint32_t port80_read(void *o, uint32_t off, unsigned size) { return 0xff; }
static void port80_write(void *o, uint32_t off, uint32_t v, unsigned size) {}
static const DeviceOps port80_ops = {
    .name = "port80", .read = port80_read, .write = port80_write, .min_access = 1,
    .max_access = 1,
};

/* QEMU's PIIX4 PCI hotplug block (0xAE00, 20 bytes: slots up, down, eject, removable,
 * bus select) and GPE0 block (0xAFE0: status, enable), which the DSDT SeaBIOS installs
 * reads from its _GPE and PCI slot methods. Nothing is ever hot-plugged on this board:
 * every register reads 0 ("no slot changed", "no event"), writes are ignored. Left
 * unassigned they read all ones, and Linux's acpiphp then ejects every PCI function. */
static uint32_t nohotplug_read(void *o, uint32_t off, unsigned size) { return 0; }
static void nohotplug_write(void *o, uint32_t off, uint32_t v, unsigned size) {}
static const DeviceOps nohotplug_ops = {
    .name = "acpi-hotplug", .read = nohotplug_read, .write = nohotplug_write,
    .min_access = 1, .max_access = 4,
};

static void cpu_intr_set(void *o, int n, int level)
{
    (void)n;
    cpu_set_intr(&((Machine *)o)->cpu, level != 0);
}

/* ---- interrupt routing: ISA IRQs, local APIC, IOAPIC ---- */

/* An ISA IRQ goes to the 8259s and to the IOAPIC, as QEMU's pc wires its GSIs: IRQ 0
 * (the PIT) on pin 2, which SeaBIOS's MADT and MP table declare with their IRQ0
 * override (fw_cfg "etc/irq0-override"); the others on the pin of their number. PCI
 * INTx reach both through the PIIX3 PIRQ routing to an ISA IRQ, so no PCI interrupt
 * uses pins 16-23 (SeaBIOS's PIIX DSDT routes every slot through LNKA-LNKD). */
static void board_isa_irq(void *o, int irq, int level)
{
    Machine *m = o;
    pic_set_irq(&m->pic, irq, level);
    ioapic_set_irq(&m->ioapic, irq == 0 ? 2 : irq, level);
}

static IrqLine isa_irq(Machine *m, int irq) { return (IrqLine){board_isa_irq, m, irq}; }

static void board_apic_eoi(void *o, uint8_t vector) { ioapic_eoi(&((Machine *)o)->ioapic, vector); }
static uint8_t board_extint_ack(void *o) { return pic_intr_ack(&((Machine *)o)->pic); }
static void board_apic_nmi(void *o) { cpu_set_nmi(&((Machine *)o)->cpu); }
static void board_apic_base(void *apic, uint64_t v) { apic_set_base(apic, v); }

/* The APIC's page moved or was (un)mapped: give back a page it hid, hide the new one. */
static void board_apic_moved(void *o, uint32_t base, bool enabled)
{
    Machine *m = o;
    (void)base;
    (void)enabled;
    if (m->apic_hole)
        machine_map_memory(m);
    else
        machine_apic_punch(m);
}

static void board_set_a20(void *o, bool on)
{
    Machine *m = o;
    cpu_set_a20(&m->cpu, on);
}

static void board_reset_cpu(void *o)
{
    Machine *m = o;
    if (m->cfg.no_reboot)
        machine_request_exit(m, MEXIT_RESET, 0);
    else
        m->reset_requested = true;
    cpu_request_stop(&m->cpu);
}

static void board_power_off(void *o) { machine_request_exit(o, MEXIT_POWEROFF, 0); }

static void board_debug_exit(void *o, int status)
{
    machine_request_exit(o, MEXIT_DEBUG_EXIT, status);
}

static void bus_log_unassigned(void *o, const char *what, uint32_t addr)
{
    Machine *m = o;
    if (m->cfg.log_flags & LOG_GUEST_ERRORS)
        fprintf(m->cfg.log_file ? m->cfg.log_file : stderr, "unassigned %s 0x%x\n", what, addr);
}

/* ---- System Control Port A (0x92): fast A20 and fast reset ---- */

static uint32_t port92_read(void *o, uint32_t off, unsigned size)
{
    Machine *m = o;
    return m->port92;
}

static void port92_write(void *o, uint32_t off, uint32_t v, unsigned size)
{
    Machine *m = o;
    uint8_t old = m->port92;
    m->port92 = v & 0x03;
    cpu_set_a20(&m->cpu, v & 2);
    if ((v & 1) && !(old & 1)) board_reset_cpu(m); /* a 0->1 edge of bit 0 resets */
}

static void port92_reset(void *o)
{
    Machine *m = o;
    m->port92 = 0;
}

static const StateField port92_fields[] = {STATE_U8(Machine, port92), STATE_END};
static const StateDesc port92_state = {"port92", 1, port92_fields};
static const DeviceOps port92_ops = {
    .name = "port92", .reset = port92_reset, .read = port92_read, .write = port92_write,
    .min_access = 1, .max_access = 1, .state = &port92_state,
};

/* ---- CMOS ---- */

static uint8_t boot_code(char c)
{
    switch (c) {
    case 'a': return 1;
    case 'c': return 2;
    case 'd': return 3;
    case 'n': return 4;
    default: return 0;
    }
}

static void machine_fill_cmos(Machine *m)
{
    Rtc *r = &m->rtc;
    uint32_t kb = m->ram_size / 1024;
    rtc_set_cmos(r, 0x15, 640 & 0xff);
    rtc_set_cmos(r, 0x16, 640 >> 8);
    uint32_t ext = kb > 1024 ? kb - 1024 : 0;
    if (ext > 0xfc00) ext = 0xfc00; /* 1 MiB .. 64 MiB in KiB */
    rtc_set_cmos(r, 0x17, ext & 0xff);
    rtc_set_cmos(r, 0x18, ext >> 8);
    rtc_set_cmos(r, 0x30, ext & 0xff);
    rtc_set_cmos(r, 0x31, ext >> 8);
    uint32_t above16 = m->ram_size > (16u << 20) ? (m->ram_size - (16u << 20)) >> 16 : 0;
    if (above16 > 0xffff) above16 = 0xffff;
    rtc_set_cmos(r, 0x34, above16 & 0xff);
    rtc_set_cmos(r, 0x35, above16 >> 8);
    rtc_set_cmos(r, 0x5b, 0);
    rtc_set_cmos(r, 0x5c, 0);
    rtc_set_cmos(r, 0x5d, 0);
    rtc_set_cmos(r, 0x5f, 0);   /* CPUs - 1 */
    rtc_set_cmos(r, 0x14, 0x06); /* equipment: VGA/EGA display, math coprocessor bit... */
    rtc_set_cmos(r, 0x10, 0);    /* no floppy drives */
    /* floppy: drive types in 0x10 (A: high nibble), equipment bit 0 + count-1 in 6-7 */
    int nfd = m->fdc.drive[0].present + m->fdc.drive[1].present;
    if (nfd) {
        rtc_set_cmos(r, 0x10, (uint8_t)((m->fdc.drive[0].present ? m->fdc.drive[0].cmos_type << 4
                                                                  : 0) |
                                        (m->fdc.drive[1].present ? m->fdc.drive[1].cmos_type
                                                                  : 0)));
        rtc_set_cmos(r, 0x14, (uint8_t)(0x06 | 0x01 | ((nfd - 1) << 6)));
    }
    /* boot order, as SeaBIOS reads it on QEMU: first two devices in 0x3D, the third
     * in the high nibble of 0x38; bit 0 of 0x38 disables the floppy signature check */
    const char *b = m->cfg.boot_order;
    uint8_t d0 = boot_code(b[0]), d1 = b[0] ? boot_code(b[1]) : 0;
    uint8_t d2 = (b[0] && b[1]) ? boot_code(b[2]) : 0;
    rtc_set_cmos(r, 0x3d, d0 | (d1 << 4));
    rtc_set_cmos(r, 0x38, (d2 << 4) | 1);
}

/* ---- fw_cfg contents ---- */

static void machine_fill_fwcfg(Machine *m)
{
    FwCfg *f = &m->fwcfg;
    fwcfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
    fwcfg_add_i32(f, FW_CFG_ID, 3); /* traditional interface + DMA */
    fwcfg_add_i64(f, FW_CFG_RAM_SIZE, m->ram_size);
    fwcfg_add_i16(f, FW_CFG_NOGRAPHIC, 0);
    fwcfg_add_i16(f, FW_CFG_NB_CPUS, 1);
    fwcfg_add_i16(f, FW_CFG_MAX_CPUS, 1);
    fwcfg_add_i16(f, FW_CFG_BOOT_MENU, 0);
    /* as QEMU: ISA IRQ 0 is IOAPIC pin 2 (SeaBIOS puts the override in MADT/MP table) */
    fwcfg_add_i32(f, FW_CFG_IRQ0_OVERRIDE, 1);
    uint8_t uuid[16] = {0};
    fwcfg_add_bytes(f, FW_CFG_UUID, uuid, sizeof(uuid));
    /* e820: one RAM entry; SeaBIOS reserves what it uses itself */
    struct {
        uint64_t addr, len;
        uint32_t type;
    } __attribute__((packed)) e820[1] = {{0, m->ram_size, 1}};
    fwcfg_add_file(f, "etc/e820", e820, sizeof(e820));
    if (m->cfg.sercon) {
        /* as QEMU does with -nographic: SeaBIOS mirrors the text screen to COM1 */
        uint16_t port = 0x3f8;
        fwcfg_add_file(f, "etc/sercon-port", &port, sizeof(port));
    }
    smbios_fwcfg(f, &m->cfg.smbios1); /* -smbios type=1 */
}

/* ---- create / destroy / reset ---- */

static void machine_free(Machine *m)
{
    if (!m) return;
    dbt_destroy(m->dbt);
    for (int i = 0; i < MACHINE_MAX_DRIVES; i++)
        if (m->blk[i].fd >= 0) blk_close(&m->blk[i]);
    for (int i = 0; i < 2; i++) /* floppy */
        if (m->fblk[i].fd >= 0) blk_close(&m->fblk[i]);
    vga_destroy(&m->vga);
    fwcfg_destroy(&m->fwcfg);
    free(m->ram);
    free(m->bios);
    free(m->mem);
    free(m);
}

/* Adds (ops, dev) to the device list once, if it has reset or state. */
static void machine_add_device(Machine *m, const DeviceOps *ops, void *dev)
{
    if (!ops || (!ops->reset && !ops->state)) return;
    for (unsigned i = 0; i < m->n_devices; i++)
        if (m->devices[i].ops == ops && m->devices[i].dev == dev) return;
    if (m->n_devices < MACHINE_MAX_DEVICES) m->devices[m->n_devices++] = (MachineDevice){ops, dev};
}

/* The device list is collected from the bus (every port and MMIO range), plus the
 * devices that have no range of their own, so none can be forgotten at reset. */
static void machine_collect_devices(Machine *m)
{
    for (unsigned i = 1; i < m->bus.n_io; i++)
        machine_add_device(m, m->bus.io_ranges[i].ops, m->bus.io_ranges[i].dev);
    for (unsigned i = 0; i < m->bus.n_mmio; i++)
        machine_add_device(m, m->bus.mmio[i].ops, m->bus.mmio[i].dev);
    machine_add_device(m, &i440fx_ops, &m->i440fx);
    machine_add_device(m, &acpi_pm_device_ops, &m->acpi);
    machine_add_device(m, &vga_device_ops, &m->vga);
    machine_add_device(m, &apic_ops, &m->apic);     /* unmapped while disabled */
    machine_add_device(m, &ioapic_ops, &m->ioapic);
    machine_add_device(m, &vmmouse_ops, &m->vmmouse); /* vmport: no port range */
}

Machine *machine_create(const MachineConfig *cfg, char *err, size_t errlen)
{
    if (errlen) err[0] = 0;
    if (cfg->ram_mb < 2 || cfg->ram_mb > 3584) {
        snprintf(err, errlen, "-m %u: RAM size must be between 2 and 3584 MiB", cfg->ram_mb);
        return NULL;
    }
    Machine *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < MACHINE_MAX_DRIVES; i++) m->blk[i].fd = -1;
    for (int i = 0; i < 2; i++) m->fblk[i].fd = -1; /* floppy */
    m->cfg = *cfg;
    m->ram_size = cfg->ram_mb << 20;
    m->mem = calloc(1, sizeof(*m->mem));
    m->ram = calloc(1, m->ram_size);
    if (!m->mem || !m->ram) {
        snprintf(err, errlen, "cannot allocate %u MiB of guest RAM", cfg->ram_mb);
        machine_free(m);
        return NULL;
    }

    /* firmware */
    if (firmware_load_bios(cfg->bios_path, &m->bios, &m->bios_size, err, errlen) < 0) {
        machine_free(m);
        return NULL;
    }
    uint8_t *vgarom = NULL;
    uint32_t vgarom_size = 0;
    if (!(cfg->vgabios_path && !cfg->vgabios_path[0]) &&
        firmware_load_vgabios(cfg->vgabios_path, &vgarom, &vgarom_size, err, errlen) < 0) {
        machine_free(m);
        return NULL;
    }

    /* disks */
    for (int i = 0; i < cfg->n_drives; i++) {
        const DriveConfig *d = &cfg->drives[i];
        if (d->index < 0 || d->index >= MACHINE_MAX_DRIVES || m->blk[d->index].fd >= 0) {
            snprintf(err, errlen, "%s: IDE position %d is invalid or already used", d->file,
                     d->index);
            free(vgarom);
            machine_free(m);
            return NULL;
        }
        if (blk_open(&m->blk[d->index], d->file, d->format, d->read_only || d->cdrom,
                     cfg->snapshot, err, errlen) < 0) {
            free(vgarom);
            machine_free(m);
            return NULL;
        }
    }

    /* CPU and clock */
    CpuBus cb = {
        .opaque = m, .io_read = cb_io_read, .io_write = cb_io_write,
        .mmio_read = cb_mmio_read, .mmio_write = cb_mmio_write, .intr_ack = cb_intr_ack,
        .shutdown = cb_shutdown, .now_ns = cb_now_ns, .ferr = cb_ferr,
        .backdoor = cfg->no_vmport ? NULL : cb_backdoor, /* vmport */
    };
    cpu_init(&m->cpu, m->mem, &cb);
    m->cpu.apic_base_write = board_apic_base; /* also makes CPUID report the APIC */
    m->cpu.apic = &m->apic;
    m->cpu.log_flags = cfg->log_flags;
    m->cpu.log_file = cfg->log_file;
    clock_init(&m->clock, &m->cpu.icount, cfg->icount_shift);

    /* devices */
    bus_init(&m->bus);
    m->bus.unassigned_log = bus_log_unassigned;
    m->bus.log_opaque = m;
    /* interrupts: 8259 INTR -> LINT0 (ExtINT at reset) and IOAPIC -> local APIC -> CPU */
    ApicConfig ac = {.bsp = true, .lint0_extint_at_reset = true, .opaque = m,
                     .eoi_broadcast = board_apic_eoi, .extint_ack = board_extint_ack,
                     .nmi = board_apic_nmi, .moved = board_apic_moved};
    apic_init(&m->apic, &m->bus, &m->clock, (IrqLine){cpu_intr_set, m, 0}, &ac);
    pic_init(&m->pic, &m->bus, apic_lint(&m->apic, 0));
    ioapic_init(&m->ioapic, &m->bus, IOAPIC_DEFAULT_BASE, 0, apic_ioapic_deliver, &m->apic);
    m->ioapic.accepts = apic_accepts;
    pit_init(&m->pit, &m->bus, &m->clock, isa_irq(m, 0));
    rtc_init(&m->rtc, &m->bus, &m->clock, isa_irq(m, 8), cfg->rtc_start);
    uart_init(&m->uart[0], &m->bus, 0x3f8, isa_irq(m, 4), &m->clock, cfg->serial[0]);
    uart_init(&m->uart[1], &m->bus, 0x2f8, isa_irq(m, 3), &m->clock, cfg->serial[1]);
    kbc_init(&m->kbc, &m->bus, isa_irq(m, 1), isa_irq(m, 12), board_set_a20,
             board_reset_cpu, m);
    vmmouse_init(&m->vmmouse, board_vmmouse_notify, m); /* vmport */
    bus_map_io(&m->bus, 0x92, 1, &port92_ops, m);
    m->irq13 = isa_irq(m, 13);
    bus_map_io(&m->bus, 0xf0, 1, &fpu_port_ops, m);
    bus_map_io(&m->bus, 0x80, 1, &port80_ops, m);
    bus_map_io(&m->bus, 0xae00, 0x14, &nohotplug_ops, m);
    bus_map_io(&m->bus, 0xafe0, 4, &nohotplug_ops, m);
    pci_bus_init(&m->pci, &m->bus);
    m->pci.reset_request = board_reset_cpu;
    m->pci.board = m;
    i440fx_init(&m->i440fx, &m->pci, machine_pam_update, m);
    ide_init(&m->ide, &m->bus, &m->pci, m->mem, &m->clock, isa_irq(m, 14),
             isa_irq(m, 15));
    for (int i = 0; i < cfg->n_drives; i++) {
        const DriveConfig *d = &cfg->drives[i];
        if (ide_check_image(&m->blk[d->index], d->cdrom, err, errlen) < 0 ||
            ide_attach(&m->ide, d->index / 2, d->index % 2, &m->blk[d->index], d->cdrom) < 0) {
            if (!err[0]) snprintf(err, errlen, "%s: cannot attach as IDE drive", d->file);
            free(vgarom);
            machine_free(m);
            return NULL;
        }
    }
    /* floppy: ISA DMA and the floppy controller (IRQ 6, DMA channel 2), drives A: B: */
    dma_init(&m->dma, &m->bus, m->mem);
    fdc_init(&m->fdc, &m->bus, isa_irq(m, 6), &m->dma, 2);
    for (int i = 0; i < 2; i++) {
        const char *path = i ? cfg->fdb : cfg->fda;
        if (!path) continue;
        if (blk_open(&m->fblk[i], path, "raw", cfg->fd_read_only[i], cfg->snapshot, err,
                     errlen) < 0 ||
            fdc_attach(&m->fdc, i, &m->fblk[i], err, errlen) < 0) {
            free(vgarom);
            machine_free(m);
            return NULL;
        }
    }
    acpi_pm_init(&m->acpi, &m->bus, &m->pci, &m->clock, isa_irq(m, 9), board_power_off,
                 m);
    vga_init(&m->vga, &m->bus, m->mem, &m->pci, vgarom, vgarom_size);
    free(vgarom);
    fwcfg_init(&m->fwcfg, &m->bus, m->mem);
    machine_fill_fwcfg(m);
    /* linuxboot */
    if (linuxboot_setup(&m->fwcfg, m->ram_size, cfg->kernel, cfg->initrd, cfg->append, err,
                        errlen) < 0) {
        machine_free(m);
        return NULL;
    }
    debugcon_init(&m->debugcon, &m->bus, 0x402, cfg->debugcon);
    if (cfg->debug_exit)
        debugexit_init(&m->debugexit, &m->bus, cfg->debug_exit_iobase, cfg->debug_exit_iosize,
                       board_debug_exit, m);

    machine_collect_devices(m);
    machine_map_memory(m);
    machine_fill_cmos(m);
    if (cfg->accel == ACCEL_DBT) {
        DbtOptions dopt;
        dbt_options_defaults(&dopt);
        dopt.check = cfg->dbt_check;
        dopt.native = !cfg->dbt_native_off;
        dopt.nochain = cfg->dbt_nochain;
        dopt.perfmap = cfg->dbt_perfmap;
        dopt.log = cfg->dbt_log | ((cfg->log_flags & LOG_IN_ASM) ? DBT_LOG_IN_ASM : 0);
        dopt.log_file = cfg->log_file;
        m->dbt = dbt_create(&m->cpu, &dopt, err, errlen);
        if (!m->dbt) {
            machine_free(m);
            return NULL;
        }
    }
    return m;
}

void machine_destroy(Machine *m) { machine_free(m); }

/* snapshot */
/* After a snapshot's sections are loaded, before the devices' post_load hooks (which
 * map their BARs on top): rebuild the page map, PAM areas included. A20 needs nothing
 * here: the CPU's a20_mask is saved with the CPU (the 8042 and port 0x92 drive it
 * last-writer-wins, so it is not a function of their saved registers). */
void machine_post_load(Machine *m)
{
    machine_map_memory(m);
    cpu_set_a20(&m->cpu, m->cpu.a20_mask == 0xffffffffu);
}

void machine_reset(Machine *m)
{
    m->resets++;
    m->reset_requested = false;
    cpu_reset(&m->cpu);
    cpu_set_a20(&m->cpu, true);
    cpu_set_intr(&m->cpu, false);
    fpu_set_ignne(&m->cpu, false);
    for (unsigned i = 0; i < m->n_devices; i++)
        if (m->devices[i].ops->reset) m->devices[i].ops->reset(m->devices[i].dev);
    machine_map_memory(m);
    machine_fill_cmos(m);
}

/* ---- the run loop ---- */

bool machine_run_for(Machine *m, uint64_t ns)
{
    Cpu *c = &m->cpu;
    uint64_t end = clock_now(&m->clock) + ns;
    while (!m->exit_requested) {
        if (m->reset_requested) machine_reset(m);
        clock_run_timers(&m->clock);
        uint64_t now = clock_now(&m->clock);
        if (now >= end) break;
        uint64_t deadline = clock_next_deadline(&m->clock);
        if (deadline > end) deadline = end;
        uint64_t budget = ((deadline - now) >> m->clock.shift) + 1;
        m->run_deadline = deadline;
        CpuExit r = m->dbt ? dbt_run(m->dbt, budget) : cpu_run(c, budget);
        m->run_deadline = 0;
        if (m->dbt && dbt_check_failed(m->dbt)) {
            machine_request_exit(m, MEXIT_CHECK, 0);
            break;
        }
        if (r == CPU_EXIT_HALT) {
            if (!(c->eflags & FL_IF) && !c->nmi_pending) {
                /* HLT with interrupts off: only NMI or reset could wake it */
                machine_request_exit(m, MEXIT_HALTED, 0);
                break;
            }
            /* idle: skip virtual time to the next deadline (or the slice end) */
            uint64_t t = clock_now(&m->clock);
            uint64_t next = clock_next_deadline(&m->clock); /* armed during the run */
            if (next < deadline) deadline = next;
            if (deadline > t) {
                clock_advance(&m->clock, deadline - t);
                m->idle_ns += deadline - t;
            }
        }
    }
    return m->exit_requested;
}

MachineExit machine_run(Machine *m)
{
    while (!machine_run_for(m, 10000000)) {
    }
    return m->exit;
}
