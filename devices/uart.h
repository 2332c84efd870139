/*
 * uart.h — a 16550A UART (COM1 at 0x3F8/IRQ 4, COM2 0x2F8/IRQ 3): divisor latch,
 * 16-byte FIFOs with trigger levels, line/modem status, loopback, and interrupts
 * (received data, THR empty, line status, modem status). Output goes to a CharSink;
 * input arrives from the input layer through uart_receive(). Transmission is instant
 * (THR empty is reported at once) — the timing of real baud rates is not modelled.
 */
#ifndef DBT86_UART_H
#define DBT86_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/chardev.h"
#include "devices/clock.h"
#include "devices/irq.h"

#define UART_FIFO 16

typedef struct Uart {
    uint8_t rbr_fifo[UART_FIFO]; /* receive FIFO */
    uint8_t rx_head, rx_count;
    uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr;
    uint16_t divisor;
    bool thr_ipending;           /* THR-empty interrupt pending (cleared by IIR read) */
    bool timeout_ipending;       /* character timeout indication */
    IrqLine irq;
    CharSink out;
    Clock *clock;
    Timer timeout;               /* receive timeout (4 character times) */
    uint64_t timeout_deadline;   /* saved copy of timeout.deadline (snapshots) */
    bool timeout_armed;          /* saved copy of timeout.armed (snapshots) */
    bool irq_level;              /* level last driven on `irq` (derived) */
} Uart;

void uart_init(Uart *u, Bus *bus, uint16_t base, IrqLine irq, Clock *clock, CharSink out);
void uart_reset(void *u);
/* Input layer: deliver received bytes; returns how many were accepted (FIFO space). */
size_t uart_receive(Uart *u, const uint8_t *buf, size_t len);
/* How many bytes uart_receive would accept now. */
size_t uart_can_receive(const Uart *u);

#endif
