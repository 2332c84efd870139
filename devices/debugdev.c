/*
 * debugdev.c — debugcon (bytes written go to a CharSink; reads identify the port with
 * 0xE9, as Bochs' port-e9 hack does) and isa-debug-exit (a write of v asks the board
 * to end the emulator with status (v << 1) | 1, so a test guest can report results).
 */
#include "devices/debugdev.h"

#include <string.h>

static uint32_t debugcon_read(void *opaque, uint32_t offset, unsigned size) { return 0xe9; }

static void debugcon_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    DebugCon *d = opaque;
    uint8_t b = (uint8_t)value;
    charsink_write(&d->out, &b, 1);
}

static const StateField debugcon_fields[] = {STATE_END}; /* nothing but the sink */
static const StateDesc debugcon_state = {"debugcon", 1, debugcon_fields};

const DeviceOps debugcon_ops = {
    .name = "debugcon",
    .read = debugcon_read,
    .write = debugcon_write,
    .min_access = 1,
    .max_access = 1,
    .state = &debugcon_state,
};

void debugcon_init(DebugCon *d, Bus *bus, uint16_t port, CharSink out)
{
    d->out = out;
    bus_map_io(bus, port ? port : 0x402, 1, &debugcon_ops, d);
}

static uint32_t debugexit_read(void *opaque, uint32_t offset, unsigned size) { return 0; }

static void debugexit_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    DebugExit *d = opaque;
    d->fired = true;
    d->value = value;
    if (d->request_exit) d->request_exit(d->board, (int)((value << 1) | 1));
}

static void debugexit_reset(void *opaque)
{
    DebugExit *d = opaque;
    d->fired = false;
    d->value = 0;
}

static const StateField debugexit_fields[] = {
    STATE_BOOL(DebugExit, fired),
    STATE_U32(DebugExit, value),
    STATE_END,
};
static const StateDesc debugexit_state = {"isa-debug-exit", 1, debugexit_fields};

const DeviceOps debugexit_ops = {
    .name = "isa-debug-exit",
    .reset = debugexit_reset,
    .read = debugexit_read,
    .write = debugexit_write,
    .min_access = 1,
    .max_access = 4,
    .state = &debugexit_state,
};

void debugexit_init(DebugExit *d, Bus *bus, uint16_t iobase, uint16_t iosize,
                    void (*request_exit)(void *, int), void *board)
{
    memset(d, 0, sizeof(*d));
    d->request_exit = request_exit;
    d->board = board;
    bus_map_io(bus, iobase, iosize ? iosize : 1, &debugexit_ops, d);
}
