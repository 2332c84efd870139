/*
 * machine.h — the PC board: one Machine owns the CPU, RAM, the page map, the I/O and
 * MMIO bus, the virtual clock and every device, and wires them together as an
 * i440FX/PIIX3 PC that SeaBIOS recognises as QEMU's.
 *
 *     MachineConfig cfg; machine_config_defaults(&cfg); cfg.ram_mb = 64;
 *     char err[256]; Machine *m = machine_create(&cfg, err, sizeof err);
 *     if (!m) { fprintf(stderr, "dbt86: %s\n", err); exit(1); }
 *     MachineExit e = machine_run(m);      // until power-off, reset, exit or time-out
 *     machine_destroy(m);
 */
#ifndef DBT86_MACHINE_H
#define DBT86_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bios/smbios.h"
#include "cpu/cpu.h"
#include "devices/acpi_pm.h"
#include "devices/apic.h"
#include "devices/block/block.h"
#include "devices/bus.h"
#include "devices/chardev.h"
#include "devices/clock.h"
#include "devices/debugdev.h"
#include "devices/dma.h" /* floppy */
#include "devices/fdc.h" /* floppy */
#include "devices/fwcfg.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/ide.h"
#include "devices/ioapic.h"
#include "devices/pci.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/rtc.h"
#include "devices/uart.h"
#include "devices/vga.h"
#include "devices/vmmouse.h" /* vmport */

#define MACHINE_MAX_DRIVES 4

/* How a run ended. ui/ maps these to process exit codes (see docs/internals.md). */
typedef enum MachineExitKind {
    MEXIT_POWEROFF,   /* the guest powered off (ACPI, or QEMU's 0x604 port) */
    MEXIT_RESET,      /* reset or triple fault with -no-reboot */
    MEXIT_DEBUG_EXIT, /* isa-debug-exit: status = (value << 1) | 1 */
    MEXIT_TIMEOUT,    /* the -timeout limit was reached */
    MEXIT_HALTED,     /* the CPU halted with interrupts off: nothing can wake it */
    MEXIT_QUIT,       /* the user asked to quit (monitor, window) */
    MEXIT_CHECK,      /* the lockstep checker found a difference (report in the log) */
} MachineExitKind;

typedef struct MachineExit {
    MachineExitKind kind;
    int status;       /* debug-exit status */
} MachineExit;

typedef struct DriveConfig {
    const char *file;
    const char *format;  /* "raw" */
    int index;           /* IDE position 0..3: primary master, primary slave, ... */
    bool cdrom;
    bool read_only;
} DriveConfig;

enum { ACCEL_DBT = 0, ACCEL_INTERP = 1 };

typedef struct MachineConfig {
    uint32_t ram_mb;               /* -m */
    const char *bios_path;         /* -bios (default: SeaBIOS from the seabios package) */
    const char *vgabios_path;      /* VGA BIOS (default: vgabios-stdvga.bin); "" = none */
    DriveConfig drives[MACHINE_MAX_DRIVES];
    int n_drives;
    char boot_order[8];            /* -boot order=: 'c' disk, 'd' CD, 'a' floppy, 'n' net */
    bool no_reboot;                /* -no-reboot: reset/triple fault ends the run */
    bool snapshot;                 /* -snapshot: disk writes are not saved */
    bool sercon;                   /* firmware mirrors its screen to COM1 (-nographic) */
    CharSink serial[2];            /* COM1, COM2 output */
    CharSink debugcon;             /* port 0x402 */
    bool debug_exit;               /* -device isa-debug-exit */
    uint16_t debug_exit_iobase, debug_exit_iosize;
    unsigned icount_shift;         /* ns per instruction = 1 << shift */
    bool realtime;                 /* pace virtual time to host time */
    uint64_t timeout_ns;           /* virtual-time limit (0 = none) */
    double timeout_host_s;         /* host-time limit in seconds (0 = none) */
    uint64_t rtc_start;            /* wall-clock seconds at power-on (from the input layer) */
    uint32_t log_flags;            /* LOG_* for -d */
    int accel;                     /* ACCEL_DBT (default) or ACCEL_INTERP */
    bool dbt_check;                /* -accel dbt,check=on: lockstep checker */
    bool dbt_native_off;           /* -accel dbt,native=off: handler calls only */
    bool dbt_nochain;              /* -d nochain */
    bool dbt_perfmap;              /* -perfmap */
    uint32_t dbt_log;              /* DBT_LOG_* (-d out_asm, exec; in_asm from log_flags) */
    void *log_file;                /* FILE* for -D */
    const char *kernel;            /* -kernel bzImage (NULL: none) */ /* linuxboot */
    const char *initrd;            /* -initrd FILE */ /* linuxboot */
    const char *append;            /* -append "command line" */ /* linuxboot */
    const char *fda, *fdb;         /* -fda/-fdb floppy images (NULL: no drive) */ /* floppy */
    bool fd_read_only[2];          /* -drive if=floppy,readonly=on */ /* floppy */
    bool no_vmport;                /* -machine vmport=off: no VMware backdoor/vmmouse */
    SmbiosType1 smbios1;           /* -smbios type=1,...: DMI system strings */
} MachineConfig;

#define MACHINE_MAX_DEVICES 48

/* A device as the board knows it for reset and snapshots. */
typedef struct MachineDevice {
    const DeviceOps *ops; /* the table carrying reset/state/post_load */
    void *dev;
} MachineDevice;

typedef struct Machine {
    MachineConfig cfg;
    Cpu cpu;
    PhysMem *mem;                  /* the page map (large: allocated separately) */
    uint8_t *ram;                  /* guest RAM, cfg.ram_mb MiB */
    uint32_t ram_size;
    uint8_t *bios;                 /* BIOS image, mapped at the top of 4 GiB */
    uint32_t bios_size;
    Bus bus;
    Clock clock;
    Pic pic;
    Apic apic;                     /* the CPU's local APIC; the PIC's INTR is its LINT0 */
    Ioapic ioapic;                 /* ISA IRQs 0-15 also reach it (IRQ 0 on pin 2) */
    bool apic_hole;                /* the APIC's page hides RAM/ROM (a move re-maps) */
    Pit pit;
    Rtc rtc;
    Uart uart[2];
    Kbc kbc;
    PciBus pci;
    I440fx i440fx;
    FwCfg fwcfg;
    Ide ide;
    AcpiPm acpi;
    Vga vga;
    DebugCon debugcon;
    DebugExit debugexit;
    Vmmouse vmmouse;               /* vmport: VMware backdoor + absolute mouse */
    BlockDev blk[MACHINE_MAX_DRIVES];
    Dma dma;                       /* floppy */
    Fdc fdc;                       /* floppy */
    BlockDev fblk[2];              /* floppy images A: and B: */ /* floppy */
    uint8_t port92;                /* System Control Port A: bit 1 A20, bit 0 reset */
    IrqLine irq13;                 /* x87 FERR# (cleared by a write to port 0xF0) */
    MachineDevice devices[MACHINE_MAX_DEVICES]; /* every device with reset or state */
    unsigned n_devices;
    bool exit_requested;           /* a device ended the run */
    MachineExit exit;
    bool reset_requested;          /* reset at the next instruction boundary */
    uint64_t resets;               /* number of resets so far */
    uint64_t run_deadline;         /* virtual ns the current cpu_run stops by (0: none) */
    uint64_t idle_ns;              /* virtual ns skipped while the CPU was halted (for
                                      -icount sleep=on pacing; not guest state) */
    struct Dbt *dbt;               /* the translator, or NULL with -accel interp */
} Machine;

void machine_config_defaults(MachineConfig *cfg);
/* Builds the machine; on failure returns NULL with a one-line message in err. */
Machine *machine_create(const MachineConfig *cfg, char *err, size_t errlen);
void machine_destroy(Machine *m);
/* System reset: CPU and every device back to their power-on state (RAM is kept). */
void machine_reset(Machine *m);
/* Run until the machine stops (power-off, reset with no_reboot, debug exit, timeout,
 * quit). */
MachineExit machine_run(Machine *m);
/* Run at most `ns` of virtual time, then return (for tests and the UI loop).
 * Returns true if the machine stopped (m->exit says why). */
bool machine_run_for(Machine *m, uint64_t ns);
/* Ask the run loop to stop with `kind` at the next boundary. */
void machine_request_exit(Machine *m, MachineExitKind kind, int status);
uint64_t machine_now_ns(const Machine *m);
/* snapshot */
/* Presses the ACPI power button (QEMU's system_powerdown): sets PWRBTN_STS in the PIIX4
 * PM block and raises the SCI when the guest enabled it; a guest without ACPI sees
 * nothing. */
void machine_powerdown(Machine *m);
/* An NMI from the board (QEMU's `nmi` command): a pulse on LINT1 of the local APIC,
 * which delivers it as its LVT says (NMI after SeaBIOS), or as the CPU's NMI pin while
 * the APIC is globally disabled. */
void machine_nmi(Machine *m);

/* Re-derives the memory map after a snapshot load (devices/machine_snapshot.c). */
void machine_post_load(Machine *m);

#endif
