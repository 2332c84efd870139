/*
 * debugdev.h — two tiny ISA debug devices QEMU users know:
 *  - debugcon (port 0x402 by default): bytes written go to a CharSink; reads return
 *    0xE9 (the Bochs "port e9 hack" identifier). SeaBIOS logs here.
 *  - isa-debug-exit (`-device isa-debug-exit,iobase=0xf4,iosize=4`): a write of value
 *    v ends the emulator with exit status (v << 1) | 1.
 */
#ifndef DBT86_DEBUGDEV_H
#define DBT86_DEBUGDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/chardev.h"

typedef struct DebugCon {
    CharSink out;
} DebugCon;

typedef struct DebugExit {
    bool fired;                       /* the guest wrote: exit requested */
    uint32_t value;                   /* the value written */
    void (*request_exit)(void *board, int status);
    void *board;
} DebugExit;

void debugcon_init(DebugCon *d, Bus *bus, uint16_t port, CharSink out);
void debugexit_init(DebugExit *d, Bus *bus, uint16_t iobase, uint16_t iosize,
                    void (*request_exit)(void *, int), void *board);

extern const DeviceOps debugcon_ops;
extern const DeviceOps debugexit_ops;

#endif
