/*
 * pci.h — PCI bus 0 with configuration mechanism 1 (0xCF8 address, 0xCFC-0xCFF data)
 * and the generic parts of a PCI function: 256 bytes of configuration space with a
 * write mask, BAR sizing and decoding (I/O, memory, expansion ROM), and the command
 * register's I/O and memory enables. When the guest moves or enables a BAR, the
 * device's bar_map hook is called with the new address (or PCI_BAR_UNMAPPED).
 *
 *     pci_device_init(&v->pci, 0x1234, 0x1111, 0x030000);   // class VGA
 *     pci_set_bar(&v->pci, 0, 16 << 20, PCI_BAR_MEM | PCI_BAR_PREFETCH);
 *     v->pci.bar_map = vga_bar_map; v->pci.opaque = v;
 *     pci_register(&m->pci, &v->pci, PCI_DEVFN(2, 0));
 */
#ifndef DBT86_PCI_H
#define DBT86_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

#define PCI_DEVFN(dev, fn) (((dev) << 3) | (fn))
#define PCI_BAR_UNMAPPED 0xffffffffu
#define PCI_ROM_BAR 6 /* index of the expansion ROM in PciDevice.bar_* */

/* BAR kinds for pci_set_bar */
#define PCI_BAR_MEM 0x0
#define PCI_BAR_IO 0x1
#define PCI_BAR_PREFETCH 0x8

typedef struct PciDevice PciDevice;

struct PciDevice {
    uint8_t config[256];  /* configuration space */
    uint8_t wmask[256];   /* bits the guest may write (1 = writable) */
    uint8_t w1cmask[256]; /* write-1-to-clear bits (status register) */
    uint8_t devfn;        /* device << 3 | function */
    uint32_t bar_size[7]; /* 0 = BAR not implemented; [6] = expansion ROM */
    uint8_t bar_kind[7];  /* PCI_BAR_* bits */
    uint32_t bar_addr[7]; /* currently decoded address, or PCI_BAR_UNMAPPED */
    void *opaque;         /* the device that embeds this function */
    /* Called after the generic code stored a config write (may be NULL). */
    void (*config_write)(PciDevice *d, uint32_t addr, uint32_t val, unsigned size);
    /* Called to read config (may be NULL: plain config[] read). */
    uint32_t (*config_read)(PciDevice *d, uint32_t addr, unsigned size);
    /* A BAR moved, was enabled or disabled (addr = PCI_BAR_UNMAPPED). */
    void (*bar_map)(PciDevice *d, int bar, uint32_t addr);
};

typedef struct PciBus {
    PciDevice *dev[256];  /* by devfn */
    uint32_t config_addr; /* 0xCF8 register */
    uint8_t rcr;          /* PIIX3 reset control register at 0xCF9 */
    void (*reset_request)(void *board); /* RCR asks for a system/CPU reset (may be NULL) */
    void *board;
} PciBus;

void pci_bus_init(PciBus *b, Bus *io);
/* Fill IDs, class code (24 bits: class<<16 | subclass<<8 | prog-if), header type 0,
 * and the standard write masks (command, latency, interrupt line, BARs). Clears the
 * whole PciDevice, hooks included: set bar_map/config_write/opaque afterwards. */
void pci_device_init(PciDevice *d, uint16_t vendor, uint16_t device, uint32_t class_code);
void pci_set_bar(PciDevice *d, int bar, uint32_t size, uint8_t kind);
void pci_register(PciBus *b, PciDevice *d, uint8_t devfn);
/* Configuration space access, as the guest sees it through 0xCF8/0xCFC. */
uint32_t pci_config_read(PciBus *b, uint8_t devfn, uint8_t addr, unsigned size);
void pci_config_write(PciBus *b, uint8_t devfn, uint8_t addr, uint32_t val, unsigned size);
/* Put the standard header back to its power-on state (command, status, BAR addresses,
 * ROM BAR, cache line, latency, interrupt line; device-specific registers are the
 * device's own business) and unmap every BAR. Call from the device's reset. */
void pci_device_reset(PciDevice *d);
/* Recompute the decoded BARs from config[] and call bar_map for every implemented BAR,
 * changed or not (after a snapshot load the device's mappings are unknown). */
void pci_device_post_load(PciDevice *d);

/* Snapshot field for an embedded PciDevice: its configuration space is its state.
 *     STATE_PCI_DEVICE(Vga, pci), */
#define STATE_PCI_DEVICE(T, f) STATE_BYTES(T, f.config, 256)

/* The 0xCF8 address register's ops (carry reset and the bus state for snapshots). */
extern const DeviceOps pci_bus_ops;

#endif
