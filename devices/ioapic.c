/*
 * ioapic.c — the 82093AA I/O APIC. Messages go to the one local APIC through a
 * callback and are accepted at once, so delivery status always reads idle. Edge pins
 * deliver on a rising edge; level pins deliver while asserted and remote IRR is clear,
 * and remote IRR waits for the APIC's EOI broadcast. Masked pins ignore their input.
 */
#include "devices/ioapic.h"

#include <string.h>

#define RE_LO_WRITABLE 0x0001afffu /* vector, mode, dest mode, polarity, trigger, mask */
#define RE_HI_WRITABLE 0xff000000u /* destination */
#define DM_FIXED 0
#define DM_LOWEST 1

static void ioapic_send(Ioapic *io, int pin)
{
    uint32_t lo = io->redir_lo[pin];
    uint8_t dest = io->redir_hi[pin] >> 24, mode = (lo >> 8) & 7;
    if (io->accepts && !io->accepts(io->apic, dest, lo & IOAPIC_RE_DEST_LOGICAL)) return;
    bool level = (lo & IOAPIC_RE_LEVEL) && (mode == DM_FIXED || mode == DM_LOWEST);
    if (level) io->redir_lo[pin] |= IOAPIC_RE_REMOTE_IRR;
    if (io->deliver) io->deliver(io->apic, lo & 0xff, level, mode);
}

/* Deliver a level-triggered pin if it is asserted, unmasked and not awaiting an EOI. */
static void ioapic_service(Ioapic *io, int pin)
{
    uint32_t lo = io->redir_lo[pin];
    if (!(lo & IOAPIC_RE_LEVEL) || (lo & (IOAPIC_RE_MASKED | IOAPIC_RE_REMOTE_IRR))) return;
    if (io->level & (1u << pin)) ioapic_send(io, pin);
}

void ioapic_set_irq(void *opaque, int pin, int level)
{
    Ioapic *io = opaque;
    if (pin < 0 || pin >= IOAPIC_PINS) return;
    uint32_t bit = 1u << pin;
    bool old = io->level & bit;
    if (level)
        io->level |= bit;
    else
        io->level &= ~bit;
    uint32_t lo = io->redir_lo[pin];
    if (lo & IOAPIC_RE_MASKED) return;
    if (lo & IOAPIC_RE_LEVEL)
        ioapic_service(io, pin);
    else if (!old && level)
        ioapic_send(io, pin);
}

IrqLine ioapic_irq(Ioapic *io, int pin) { return (IrqLine){ioapic_set_irq, io, pin}; }

void ioapic_eoi(Ioapic *io, uint8_t vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint32_t lo = io->redir_lo[pin];
        if ((lo & 0xff) != vector || !(lo & IOAPIC_RE_REMOTE_IRR)) continue;
        io->redir_lo[pin] &= ~IOAPIC_RE_REMOTE_IRR;
        ioapic_service(io, pin);
    }
}

static uint32_t ioapic_reg_read(const Ioapic *io)
{
    unsigned r = io->regsel;
    switch (r) {
    case 0x00: return (uint32_t)io->id << 24;
    case 0x01: return IOAPIC_VERSION;
    case 0x02: return (uint32_t)io->arb << 24;
    default: break;
    }
    if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
        int pin = (r - 0x10) / 2;
        return (r & 1) ? io->redir_hi[pin] : io->redir_lo[pin];
    }
    return 0; /* unimplemented registers */
}

static void ioapic_reg_write(Ioapic *io, uint32_t v)
{
    unsigned r = io->regsel;
    if (r == 0x00) {
        io->id = (v >> 24) & 0xf;
        io->arb = io->id; /* the arbitration ID is loaded with every ID write */
        return;
    }
    if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS) return; /* version, arbitration: RO */
    int pin = (r - 0x10) / 2;
    if (r & 1) {
        io->redir_hi[pin] = v & RE_HI_WRITABLE;
        return;
    }
    uint32_t keep = io->redir_lo[pin] & IOAPIC_RE_REMOTE_IRR;
    io->redir_lo[pin] = (v & RE_LO_WRITABLE) | keep;
    /* switching to edge clears remote IRR (old Linux uses this as a directed EOI) */
    if (!(v & IOAPIC_RE_LEVEL)) io->redir_lo[pin] &= ~IOAPIC_RE_REMOTE_IRR;
    ioapic_service(io, pin); /* unmasking an asserted level pin delivers it */
}

/* The 82093AA wants dword accesses. Reads of any width return the addressed bytes;
 * a narrower write to IOREGSEL sets its low byte, narrower writes to IOWIN (which
 * would be a partial update of a 32-bit register) are dropped. */
uint32_t ioapic_read(void *opaque, uint32_t offset, unsigned size)
{
    Ioapic *io = opaque;
    uint32_t v;
    switch (offset & 0xffcu) {
    case 0x00: v = io->regsel; break;
    case 0x10: v = ioapic_reg_read(io); break;
    default: v = 0; break;
    }
    v >>= 8 * (offset & 3);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void ioapic_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    Ioapic *io = opaque;
    if (offset == 0x00)
        io->regsel = value & 0xff;
    else if (offset == 0x10 && size == 4)
        ioapic_reg_write(io, value);
}

void ioapic_reset(void *opaque)
{
    Ioapic *io = opaque;
    io->regsel = 0;
    io->id = io->arb = io->reset_id & 0xf;
    for (int i = 0; i < IOAPIC_PINS; i++) {
        io->redir_lo[i] = IOAPIC_RE_MASKED;
        io->redir_hi[i] = 0;
    }
    /* input levels are the devices' business: kept */
}

/* Remote IRR and the levels are saved, so there is nothing to re-send; servicing every
 * pin only catches an asserted, unmasked level pin that has no remote IRR. */
static int ioapic_post_load(void *opaque)
{
    Ioapic *io = opaque;
    for (int pin = 0; pin < IOAPIC_PINS; pin++) ioapic_service(io, pin);
    return 0;
}

static const StateField ioapic_fields[] = {
    STATE_U8(Ioapic, regsel), STATE_U8(Ioapic, id), STATE_U8(Ioapic, arb),
    STATE_U32_ARRAY(Ioapic, redir_lo, IOAPIC_PINS),
    STATE_U32_ARRAY(Ioapic, redir_hi, IOAPIC_PINS), STATE_U32(Ioapic, level), STATE_END};
static const StateDesc ioapic_state = {"ioapic", 1, ioapic_fields};

const DeviceOps ioapic_ops = {
    .name = "ioapic", .reset = ioapic_reset, .read = ioapic_read, .write = ioapic_write,
    .min_access = 1, .max_access = 4, .state = &ioapic_state, .post_load = ioapic_post_load};

void ioapic_init(Ioapic *io, Bus *bus, uint32_t base, uint8_t id,
                 void (*deliver)(void *apic, uint8_t vector, bool level, uint8_t mode),
                 void *apic)
{
    memset(io, 0, sizeof(*io));
    io->reset_id = id;
    io->deliver = deliver;
    io->apic = apic;
    ioapic_reset(io);
    if (bus) bus_map_mmio(bus, base, IOAPIC_MMIO_SIZE, &ioapic_ops, io);
}
