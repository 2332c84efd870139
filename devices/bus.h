/*
 * bus.h — port I/O and MMIO dispatch.
 *
 * Devices map a range of ports or physical addresses to a DeviceOps + opaque pointer.
 * The bus splits accesses into sizes the device implements (a 16-bit read of a
 * byte-only device becomes two byte reads, low port first) and merges narrow ones
 * into a wider access when the device implements only wider ones. Unmapped ports and
 * addresses read as all ones and ignore writes (what an ISA/PCI bus gives).
 *
 *     bus_map_io(&m->bus, 0x40, 4, &pit_ops, &m->pit);
 *     uint32_t v = bus_io_read(&m->bus, 0x40, 1);
 */
#ifndef DBT86_BUS_H
#define DBT86_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define BUS_MAX_MMIO 32

typedef struct BusRange {
    const DeviceOps *ops; /* NULL: nothing there */
    void *dev;
    uint32_t base;        /* first port / address of the range */
    uint32_t len;
} BusRange;

typedef struct Bus {
    uint16_t io_index[65536];              /* port -> index into io_ranges (0 = none) */
    BusRange io_ranges[256];               /* [0] unused */
    unsigned n_io;
    BusRange mmio[BUS_MAX_MMIO];
    unsigned n_mmio;
    void (*unassigned_log)(void *opaque, const char *what, uint32_t addr); /* -d guest_errors */
    void *log_opaque;
} Bus;

void bus_init(Bus *b);
/* Map [base, base+len) ports to a device; a later mapping overrides an earlier one. */
void bus_map_io(Bus *b, uint16_t base, uint32_t len, const DeviceOps *ops, void *dev);
void bus_unmap_io(Bus *b, uint16_t base, uint32_t len);
uint32_t bus_io_read(Bus *b, uint16_t port, unsigned size);
void bus_io_write(Bus *b, uint16_t port, uint32_t value, unsigned size);

/* MMIO ranges: the board also leaves these pages NULL in PhysMem so the CPU asks the
 * bus. Re-mapping the same (ops, dev) pair moves it (PCI BAR updates). */
void bus_map_mmio(Bus *b, uint32_t base, uint32_t len, const DeviceOps *ops, void *dev);
void bus_unmap_mmio(Bus *b, const DeviceOps *ops, void *dev);
uint32_t bus_mmio_read(Bus *b, uint32_t addr, unsigned size);
void bus_mmio_write(Bus *b, uint32_t addr, uint32_t value, unsigned size);

#endif
