/*
 * bus.c — port and MMIO dispatch with access-size splitting (see bus.h).
 */
#include "devices/bus.h"

#include <string.h>

void bus_init(Bus *b)
{
    memset(b, 0, sizeof(*b));
    b->n_io = 1; /* index 0 means "nothing mapped" */
}

void bus_map_io(Bus *b, uint16_t base, uint32_t len, const DeviceOps *ops, void *dev)
{
    /* re-mapping the same (ops, dev) pair reuses its slot (PCI I/O BARs move often) */
    unsigned idx = 0;
    for (unsigned i = 1; i < b->n_io && !idx; i++)
        if (b->io_ranges[i].ops == ops && b->io_ranges[i].dev == dev) idx = i;
    if (idx) {
        const BusRange *old = &b->io_ranges[idx];
        for (uint32_t p = old->base; p < old->base + old->len && p < 65536; p++)
            if (b->io_index[p] == idx) b->io_index[p] = 0;
    } else {
        if (b->n_io >= sizeof(b->io_ranges) / sizeof(b->io_ranges[0])) return;
        idx = b->n_io++;
    }
    b->io_ranges[idx] = (BusRange){ops, dev, base, len};
    for (uint32_t p = base; p < (uint32_t)base + len && p < 65536; p++) b->io_index[p] = idx;
}

void bus_unmap_io(Bus *b, uint16_t base, uint32_t len)
{
    for (uint32_t p = base; p < (uint32_t)base + len && p < 65536; p++) b->io_index[p] = 0;
}

/* Split or merge an access of `size` at `addr` into accesses the range implements. */
static uint32_t range_read(const BusRange *r, uint32_t addr, unsigned size)
{
    const DeviceOps *o = r->ops;
    unsigned min = o->min_access ? o->min_access : 1, max = o->max_access ? o->max_access : 4;
    uint32_t off = addr - r->base;
    if (size >= min && size <= max) return o->read(r->dev, off, size);
    if (size > max) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i += max)
            v |= (o->read(r->dev, off + i, max) & (max >= 4 ? 0xffffffffu : (1u << (8 * max)) - 1))
                 << (8 * i);
        return v;
    }
    /* narrower than the device implements: read the aligned wider unit and extract */
    uint32_t aligned = off & ~(uint32_t)(min - 1);
    uint32_t v = o->read(r->dev, aligned, min) >> (8 * (off - aligned));
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void range_write(const BusRange *r, uint32_t addr, uint32_t value, unsigned size)
{
    const DeviceOps *o = r->ops;
    unsigned min = o->min_access ? o->min_access : 1, max = o->max_access ? o->max_access : 4;
    uint32_t off = addr - r->base;
    if (size >= min && size <= max) {
        o->write(r->dev, off, value, size);
    } else if (size > max) {
        for (unsigned i = 0; i < size; i += max)
            o->write(r->dev, off + i, value >> (8 * i), max);
    } else {
        /* read-modify-write of the wider unit */
        uint32_t aligned = off & ~(uint32_t)(min - 1);
        unsigned shift = 8 * (off - aligned);
        uint32_t mask = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;
        uint32_t v = o->read(r->dev, aligned, min);
        o->write(r->dev, aligned, (v & ~mask) | ((value << shift) & mask), min);
    }
}

uint32_t bus_io_read(Bus *b, uint16_t port, unsigned size)
{
    unsigned idx = b->io_index[port];
    if (!idx) {
        if (size > 1 && b->io_index[(uint16_t)(port + size - 1)]) {
            /* the access straddles into a mapped port: byte by byte */
            uint32_t v = 0;
            for (unsigned i = 0; i < size; i++) v |= bus_io_read(b, port + i, 1) << (8 * i);
            return v;
        }
        if (b->unassigned_log) b->unassigned_log(b->log_opaque, "io read", port);
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    }
    const BusRange *r = &b->io_ranges[idx];
    if ((uint32_t)port + size > r->base + r->len) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) v |= bus_io_read(b, port + i, 1) << (8 * i);
        return v;
    }
    return range_read(r, port, size);
}

void bus_io_write(Bus *b, uint16_t port, uint32_t value, unsigned size)
{
    unsigned idx = b->io_index[port];
    const BusRange *r = idx ? &b->io_ranges[idx] : NULL;
    if (!r || (uint32_t)port + size > r->base + r->len) {
        if (size > 1 && (r || b->io_index[(uint16_t)(port + size - 1)])) {
            for (unsigned i = 0; i < size; i++) bus_io_write(b, port + i, value >> (8 * i), 1);
            return;
        }
        if (!r && b->unassigned_log) b->unassigned_log(b->log_opaque, "io write", port);
        if (!r) return;
    }
    range_write(r, port, value, size);
}

void bus_map_mmio(Bus *b, uint32_t base, uint32_t len, const DeviceOps *ops, void *dev)
{
    for (unsigned i = 0; i < b->n_mmio; i++) {
        if (b->mmio[i].ops == ops && b->mmio[i].dev == dev) {
            b->mmio[i].base = base;
            b->mmio[i].len = len;
            return;
        }
    }
    if (b->n_mmio >= BUS_MAX_MMIO) return;
    b->mmio[b->n_mmio++] = (BusRange){ops, dev, base, len};
}

void bus_unmap_mmio(Bus *b, const DeviceOps *ops, void *dev)
{
    for (unsigned i = 0; i < b->n_mmio; i++) {
        if (b->mmio[i].ops == ops && b->mmio[i].dev == dev) {
            b->mmio[i] = b->mmio[--b->n_mmio];
            return;
        }
    }
}

static const BusRange *mmio_find(const Bus *b, uint32_t addr)
{
    for (unsigned i = 0; i < b->n_mmio; i++)
        if (addr - b->mmio[i].base < b->mmio[i].len) return &b->mmio[i];
    return NULL;
}

uint32_t bus_mmio_read(Bus *b, uint32_t addr, unsigned size)
{
    const BusRange *r = mmio_find(b, addr);
    if (!r) {
        if (b->unassigned_log) b->unassigned_log(b->log_opaque, "mmio read", addr);
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    }
    return range_read(r, addr, size);
}

void bus_mmio_write(Bus *b, uint32_t addr, uint32_t value, unsigned size)
{
    const BusRange *r = mmio_find(b, addr);
    if (!r) {
        if (b->unassigned_log) b->unassigned_log(b->log_opaque, "mmio write", addr);
        return;
    }
    range_write(r, addr, value, size);
}
