/*
 * dma.h — the ISA DMA controllers: two 8237A chips as the PC/AT wires them. Channels
 * 0-3 (ports 0x00-0x0F) move bytes; channels 4-7 (ports 0xC0-0xDF, every other port)
 * move 16-bit words, address and count counted in words, channel 4 cascading the first
 * chip. Page registers at 0x81-0x8F supply address bits 16-23.
 *
 *     dma_init(&m->dma, &m->bus, m->mem);
 *     int n = dma_transfer(&m->dma, 2, sector, 512, true);  // device -> guest RAM
 */
#ifndef DBT86_DMA_H
#define DBT86_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/physmem.h"
#include "devices/bus.h"

/* mode register fields (port 0x0B / 0xD6) */
#define DMA_MODE_TYPE_MASK 0x0c   /* 00 verify, 01 write (to memory), 10 read (from memory) */
#define DMA_MODE_AUTOINIT 0x10
#define DMA_MODE_DECREMENT 0x20
#define DMA_MODE_SEL_MASK 0xc0    /* 00 demand, 01 single, 10 block, 11 cascade */

typedef struct DmaChannel {
    uint16_t base_addr, base_count; /* reloaded by auto-init */
    uint16_t cur_addr, cur_count;   /* count: units left minus one (0xFFFF after TC) */
    uint8_t mode;
    bool tc;                        /* the last dma_transfer() ended at terminal count */
} DmaChannel;

typedef struct DmaChip {
    uint8_t command;   /* bit 2: controller disabled */
    uint8_t status;    /* bits 0-3: TC reached, bits 4-7: request */
    uint8_t request;   /* software requests (bits 0-3) */
    uint8_t mask;      /* bits 0-3: channel masked */
    uint8_t flipflop;  /* 0: next 16-bit register byte is the low one */
    uint8_t temp;
} DmaChip;

typedef struct Dma {
    PhysMem *mem;
    DmaChannel ch[8];
    DmaChip chip[2];
    uint8_t pages[16]; /* the page register file 0x80-0x8F (unused ones are scratch) */
} Dma;

void dma_init(Dma *d, Bus *bus, PhysMem *mem);
/* Moves up to `len` bytes between `buf` and guest memory on channel `ch` (0-7), as the
 * channel's address/count/direction program it. to_memory: the device sends (true)
 * or receives (false); a channel programmed for verify touches no memory. Memory that
 * is not RAM is skipped (reads give 0xFF). Stops at terminal count unless auto-init
 * is on (then it reloads and continues). Returns the bytes moved; 0 if the channel is
 * masked, cascade, or the controller disabled. */
int dma_transfer(Dma *d, int ch, void *buf, int len, bool to_memory);
/* The channel is unmasked, not cascade, and its controller is enabled. */
bool dma_channel_ready(Dma *d, int ch);
/* The last dma_transfer() on `ch` reached terminal count (the device's EOP/TC input). */
bool dma_terminal_count(Dma *d, int ch);

extern const DeviceOps dma_ops; /* carries reset and state (for the ports 0x00-0x0F) */

#endif
