/*
 * pci.c — PCI bus 0 behind configuration mechanism 1, and the generic half of every
 * PCI function: config space with write / write-1-to-clear masks, BAR sizing through
 * those masks, and BAR decoding that tells the device (bar_map) whenever the address
 * it answers at changes because of a BAR write or the command register's enables.
 */
#include "devices/pci.h"

#include <string.h>

#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_CLASS_PROG 0x09
#define CFG_CACHE_LINE 0x0c
#define CFG_LATENCY 0x0d
#define CFG_HEADER_TYPE 0x0e
#define CFG_BAR0 0x10
#define CFG_ROM 0x30
#define CFG_INT_LINE 0x3c

#define CMD_IO 0x0001
#define CMD_MEM 0x0002
/* command bits software may change: I/O, memory, bus master, parity error response,
 * SERR# enable, interrupt disable */
#define CMD_WMASK 0x0547
/* status bits that are write-1-to-clear: master data parity error, signalled/received
 * target abort, received master abort, signalled system error, detected parity error */
#define STATUS_W1C 0xf900

#define CF8_ENABLE 0x80000000u

static uint32_t cfg_get32(const uint8_t *c, unsigned a)
{
    return c[a] | (uint32_t)c[a + 1] << 8 | (uint32_t)c[a + 2] << 16 | (uint32_t)c[a + 3] << 24;
}

static void cfg_put32(uint8_t *c, unsigned a, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) c[a + i] = (uint8_t)(v >> (8 * i));
}

static void cfg_put16(uint8_t *c, unsigned a, uint16_t v)
{
    c[a] = (uint8_t)v;
    c[a + 1] = (uint8_t)(v >> 8);
}

static unsigned bar_offset(int bar) { return bar == PCI_ROM_BAR ? CFG_ROM : CFG_BAR0 + 4u * bar; }

/* The address BAR `bar` decodes right now, or PCI_BAR_UNMAPPED. */
static uint32_t bar_decode(const PciDevice *d, int bar)
{
    uint32_t size = d->bar_size[bar];
    if (!size) return PCI_BAR_UNMAPPED;
    uint16_t cmd = (uint16_t)(d->config[CFG_COMMAND] | d->config[CFG_COMMAND + 1] << 8);
    uint32_t raw = cfg_get32(d->config, bar_offset(bar));
    uint32_t addr, probe;
    if (bar == PCI_ROM_BAR) {
        if (!(cmd & CMD_MEM) || !(raw & 1)) return PCI_BAR_UNMAPPED;
        addr = raw & ~(size - 1) & ~0x7ffu;
        probe = ~(size - 1) & ~0x7ffu;
    } else if (d->bar_kind[bar] & PCI_BAR_IO) {
        if (!(cmd & CMD_IO)) return PCI_BAR_UNMAPPED;
        addr = raw & ~(size - 1) & ~3u;
        probe = ~(size - 1) & ~3u;
        /* x86 has 64 KiB of ports: a BAR beyond them decodes nothing */
        if ((uint64_t)addr + size > 0x10000) return PCI_BAR_UNMAPPED;
    } else {
        if (!(cmd & CMD_MEM)) return PCI_BAR_UNMAPPED;
        addr = raw & ~(size - 1) & ~0xfu;
        probe = ~(size - 1) & ~0xfu;
    }
    /* 0 is "not assigned yet"; the all-ones value is what a sizing probe leaves behind
     * and must not steal the top of the address space while firmware sizes the BAR */
    if (addr == 0 || addr == probe) return PCI_BAR_UNMAPPED;
    return addr;
}

static void bars_update(PciDevice *d, bool force)
{
    for (int bar = 0; bar <= PCI_ROM_BAR; bar++) {
        if (!d->bar_size[bar]) continue;
        uint32_t addr = bar_decode(d, bar);
        if (addr == d->bar_addr[bar] && !force) continue;
        d->bar_addr[bar] = addr;
        if (d->bar_map) d->bar_map(d, bar, addr);
    }
}

void pci_device_init(PciDevice *d, uint16_t vendor, uint16_t device, uint32_t class_code)
{
    memset(d, 0, sizeof(*d));
    cfg_put16(d->config, 0x00, vendor);
    cfg_put16(d->config, 0x02, device);
    d->config[CFG_CLASS_PROG] = (uint8_t)class_code;
    d->config[CFG_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
    d->config[CFG_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
    d->config[CFG_HEADER_TYPE] = 0x00;
    cfg_put16(d->wmask, CFG_COMMAND, CMD_WMASK);
    cfg_put16(d->w1cmask, CFG_STATUS, STATUS_W1C);
    d->wmask[CFG_CACHE_LINE] = 0xff;
    d->wmask[CFG_LATENCY] = 0xff;
    d->wmask[CFG_INT_LINE] = 0xff;
    for (int bar = 0; bar <= PCI_ROM_BAR; bar++) d->bar_addr[bar] = PCI_BAR_UNMAPPED;
}

void pci_set_bar(PciDevice *d, int bar, uint32_t size, uint8_t kind)
{
    /* a programming error of the emulator, not guest input: refuse quietly */
    if (bar < 0 || bar > PCI_ROM_BAR || size == 0 || (size & (size - 1))) return;
    unsigned off = bar_offset(bar);
    uint32_t wmask, low;
    if (bar == PCI_ROM_BAR) {
        if (size < 0x800) size = 0x800; /* bits 10:1 are reserved: 2 KiB minimum */
        wmask = ~(size - 1) | 1u;
        low = 0;
        kind = PCI_BAR_MEM;
    } else if (kind & PCI_BAR_IO) {
        if (size < 4) size = 4;
        wmask = ~(size - 1);
        low = PCI_BAR_IO;
        kind = PCI_BAR_IO;
    } else {
        if (size < 16) size = 16;
        wmask = ~(size - 1);
        low = kind & PCI_BAR_PREFETCH; /* 32-bit, anywhere; prefetchable bit 3 */
    }
    d->bar_size[bar] = size;
    d->bar_kind[bar] = kind;
    cfg_put32(d->config, off, low);
    cfg_put32(d->wmask, off, wmask);
    d->bar_addr[bar] = PCI_BAR_UNMAPPED;
}

void pci_device_reset(PciDevice *d)
{
    cfg_put16(d->config, CFG_COMMAND, 0);
    cfg_put16(d->config, CFG_STATUS,
              (uint16_t)((d->config[CFG_STATUS] | d->config[CFG_STATUS + 1] << 8) & ~STATUS_W1C));
    d->config[CFG_CACHE_LINE] = 0;
    d->config[CFG_LATENCY] = 0;
    d->config[CFG_INT_LINE] = 0;
    for (int bar = 0; bar <= PCI_ROM_BAR; bar++) {
        unsigned off = bar_offset(bar);
        for (unsigned i = 0; i < 4; i++) d->config[off + i] &= (uint8_t)~d->wmask[off + i];
    }
    bars_update(d, false);
}

void pci_device_post_load(PciDevice *d) { bars_update(d, true); }

void pci_register(PciBus *b, PciDevice *d, uint8_t devfn)
{
    d->devfn = devfn;
    b->dev[devfn] = d;
}

uint32_t pci_config_read(PciBus *b, uint8_t devfn, uint8_t addr, unsigned size)
{
    PciDevice *d = b->dev[devfn];
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (!d) return ones;
    if (d->config_read) return d->config_read(d, addr, size) & ones;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned a = addr + i;
        v |= (uint32_t)(a < 256 ? d->config[a] : 0xff) << (8 * i);
    }
    return v;
}

void pci_config_write(PciBus *b, uint8_t devfn, uint8_t addr, uint32_t val, unsigned size)
{
    PciDevice *d = b->dev[devfn];
    if (!d) return;
    bool bars_touched = false;
    for (unsigned i = 0; i < size && addr + i < 256; i++) {
        unsigned a = addr + i;
        uint8_t v = (uint8_t)(val >> (8 * i));
        uint8_t m = d->wmask[a];
        d->config[a] = (uint8_t)(((d->config[a] & ~m) | (v & m)) & ~(v & d->w1cmask[a]));
        if ((a >= CFG_COMMAND && a < CFG_COMMAND + 2) || (a >= CFG_BAR0 && a < CFG_BAR0 + 24) ||
            (a >= CFG_ROM && a < CFG_ROM + 4))
            bars_touched = true;
    }
    if (bars_touched) bars_update(d, false);
    if (d->config_write) d->config_write(d, addr, val, size);
}

/* 0xCF8: only a 32-bit access is the address register. A byte at 0xCF9 is the PIIX3
 * reset control register (bit 1 system reset, bit 2 reset CPU on a 0->1 edge, as
 * SeaBIOS and Linux's reboot=pci use it); other narrow accesses go nowhere. */
static uint32_t addr_read(void *opaque, uint32_t offset, unsigned size)
{
    PciBus *b = opaque;
    if (offset == 0 && size == 4) return b->config_addr;
    if (offset == 1 && size == 1) return b->rcr;
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void addr_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    PciBus *b = opaque;
    /* bits 30:24 and 1:0 are reserved and read as 0 */
    if (offset == 0 && size == 4) b->config_addr = value & 0x80fffffcu;
    if (offset == 1 && size == 1) {
        bool pulse = (value & 0x04) && !(b->rcr & 0x04);
        b->rcr = value & 0x02; /* RST_CPU is self-clearing; SRST (bit 1) is kept */
        if (pulse && b->reset_request) b->reset_request(b->board);
    }
}

static bool data_target(const PciBus *b, uint32_t offset, uint8_t *devfn, uint8_t *reg)
{
    uint32_t a = b->config_addr;
    if (!(a & CF8_ENABLE)) return false;
    if (((a >> 16) & 0xff) != 0) return false; /* only bus 0 exists */
    *devfn = (uint8_t)(a >> 8);
    *reg = (uint8_t)((a & 0xfc) | (offset & 3));
    return true;
}

static uint32_t data_read(void *opaque, uint32_t offset, unsigned size)
{
    PciBus *b = opaque;
    uint8_t devfn, reg;
    if (!data_target(b, offset, &devfn, &reg)) return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return pci_config_read(b, devfn, reg, size);
}

static void data_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    PciBus *b = opaque;
    uint8_t devfn, reg;
    if (data_target(b, offset, &devfn, &reg)) pci_config_write(b, devfn, reg, value, size);
}

static void pci_bus_reset(void *opaque)
{
    PciBus *b = opaque;
    b->config_addr = 0;
    b->rcr = 0;
}

static const StateField pci_bus_fields[] = {
    STATE_U32(PciBus, config_addr),
    STATE_U8(PciBus, rcr),
    STATE_END,
};
static const StateDesc pci_bus_state = {"pci-bus", 1, pci_bus_fields};

const DeviceOps pci_bus_ops = {
    .name = "pci-bus",
    .reset = pci_bus_reset,
    .read = addr_read,
    .write = addr_write,
    .min_access = 1,
    .max_access = 4,
    .state = &pci_bus_state,
};

static const DeviceOps pci_data_ops = {
    .name = "pci-data",
    .read = data_read,
    .write = data_write,
    .min_access = 1,
    .max_access = 4,
};

void pci_bus_init(PciBus *b, Bus *io)
{
    memset(b, 0, sizeof(*b));
    bus_map_io(io, 0xcf8, 4, &pci_bus_ops, b);
    bus_map_io(io, 0xcfc, 4, &pci_data_ops, b);
}
