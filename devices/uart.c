/*
 * uart.c — a National 16550A UART (see uart.h). Transmission is instant, so THR and
 * the transmitter are always empty; reception goes through a 16-byte FIFO (one byte
 * when FIFOs are off) with trigger levels and the 4-character timeout of the data
 * sheet, timed on the virtual clock. The IRQ pin is a level gated by OUT2, as the
 * tri-state buffer on PC serial cards does.
 */
#include "devices/uart.h"

#include <string.h>

enum {
    UART_IER_ERBFI = 0x01, /* received data available */
    UART_IER_ETBEI = 0x02, /* transmitter holding register empty */
    UART_IER_ELSI = 0x04,  /* receiver line status */
    UART_IER_EDSSI = 0x08, /* modem status */

    UART_IIR_NONE = 0x01,
    UART_IIR_MSR = 0x00,
    UART_IIR_THR = 0x02,
    UART_IIR_RDA = 0x04,
    UART_IIR_RLS = 0x06,
    UART_IIR_CTI = 0x0c,   /* character timeout */
    UART_IIR_FIFO = 0xc0,  /* both bits set when FIFOs are enabled */

    UART_FCR_ENABLE = 0x01,
    UART_FCR_RX_RESET = 0x02,
    UART_FCR_TX_RESET = 0x04,
    UART_FCR_KEEP = 0xc9,  /* enable, DMA mode, trigger level: the bits that stay */

    UART_LCR_DLAB = 0x80,

    UART_MCR_DTR = 0x01,
    UART_MCR_RTS = 0x02,
    UART_MCR_OUT1 = 0x04,
    UART_MCR_OUT2 = 0x08,
    UART_MCR_LOOP = 0x10,

    UART_LSR_DR = 0x01,
    UART_LSR_OE = 0x02,
    UART_LSR_ERRORS = 0x1e, /* OE, PE, FE, BI: cleared by reading LSR */
    UART_LSR_THRE = 0x20,
    UART_LSR_TEMT = 0x40,

    UART_MSR_DELTAS = 0x0f,
    UART_MSR_TERI = 0x04,
    UART_MSR_CTS = 0x10,
    UART_MSR_DSR = 0x20,
    UART_MSR_RI = 0x40,
    UART_MSR_DCD = 0x80,
    /* What a host connection presents on the modem inputs: carrier, DSR and CTS up. */
    UART_MSR_HOST_LINES = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD,
};

static const uint8_t fifo_trigger[4] = {1, 4, 8, 14};

static bool uart_fifo_on(const Uart *u) { return u->fcr & UART_FCR_ENABLE; }

/* The highest-priority pending source, as IIR bits 3:0 (UART_IIR_NONE if none). */
static uint8_t uart_source(const Uart *u)
{
    if ((u->ier & UART_IER_ELSI) && (u->lsr & UART_LSR_ERRORS)) return UART_IIR_RLS;
    if (u->ier & UART_IER_ERBFI) {
        if (uart_fifo_on(u)) {
            if (u->rx_count >= fifo_trigger[u->fcr >> 6]) return UART_IIR_RDA;
            if (u->timeout_ipending) return UART_IIR_CTI;
        } else if (u->rx_count) {
            return UART_IIR_RDA;
        }
    }
    if ((u->ier & UART_IER_ETBEI) && u->thr_ipending) return UART_IIR_THR;
    if ((u->ier & UART_IER_EDSSI) && (u->msr & UART_MSR_DELTAS)) return UART_IIR_MSR;
    return UART_IIR_NONE;
}

/* Recompute IIR and drive the IRQ pin. In loopback the data sheet forces OUT2
 * inactive, and OUT2 is what enables the card's IRQ driver on a PC. */
static void uart_update_irq(Uart *u, bool force)
{
    uint8_t src = uart_source(u);
    u->iir = src | (uart_fifo_on(u) ? UART_IIR_FIFO : 0);
    bool level = src != UART_IIR_NONE && (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP);
    if (level != u->irq_level || force) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* Four character times of 10 bits at the programmed rate (16x clock of 1.8432 MHz). */
static uint64_t uart_timeout_ns(const Uart *u)
{
    uint64_t div = u->divisor ? u->divisor : 65536;
    return div * 4 * 16 * 10 * 1000000000ull / 1843200;
}

static void uart_timer_arm(Uart *u)
{
    u->timeout_deadline = clock_now(u->clock) + uart_timeout_ns(u);
    u->timeout_armed = true;
    timer_mod(&u->timeout, u->timeout_deadline);
}

static void uart_timer_stop(Uart *u)
{
    u->timeout_armed = false;
    timer_del(&u->timeout);
}

static void uart_timeout_fire(void *opaque)
{
    Uart *u = opaque;
    u->timeout_armed = false;
    if (uart_fifo_on(u) && u->rx_count) {
        u->timeout_ipending = true;
        uart_update_irq(u, false);
    }
}

static void uart_rx_clear(Uart *u)
{
    u->rx_count = 0;
    u->lsr &= ~UART_LSR_DR;
    u->timeout_ipending = false;
    uart_timer_stop(u);
}

/* A character arrives at the receiver (from outside or from the loopback path). */
static void uart_rx_push(Uart *u, uint8_t c)
{
    unsigned cap = uart_fifo_on(u) ? UART_FIFO : 1;
    if (u->rx_count >= cap) {
        u->lsr |= UART_LSR_OE;
        /* 16450 mode: the new character overwrites RBR; FIFO mode: the character in
         * the shift register is lost and the FIFO is kept. */
        if (!uart_fifo_on(u)) u->rbr_fifo[u->rx_head] = c;
    } else {
        u->rbr_fifo[(u->rx_head + u->rx_count) % UART_FIFO] = c;
        u->rx_count++;
    }
    u->lsr |= UART_LSR_DR;
    /* The timeout counter restarts on each character unless a timeout is already
     * being indicated (only a read clears that). */
    if (uart_fifo_on(u) && !u->timeout_ipending) uart_timer_arm(u);
    uart_update_irq(u, false);
}

static uint8_t uart_rx_pop(Uart *u)
{
    if (!u->rx_count) return u->rbr_fifo[(u->rx_head + UART_FIFO - 1) % UART_FIFO];
    uint8_t c = u->rbr_fifo[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO;
    u->rx_count--;
    if (!u->rx_count) u->lsr &= ~UART_LSR_DR;
    u->timeout_ipending = false;
    if (uart_fifo_on(u) && u->rx_count)
        uart_timer_arm(u);
    else
        uart_timer_stop(u);
    return c;
}

/* Modem inputs: the host lines normally, the MCR outputs in loopback. */
static void uart_update_msr(Uart *u)
{
    uint8_t in = UART_MSR_HOST_LINES;
    if (u->mcr & UART_MCR_LOOP) {
        in = 0;
        if (u->mcr & UART_MCR_RTS) in |= UART_MSR_CTS;
        if (u->mcr & UART_MCR_DTR) in |= UART_MSR_DSR;
        if (u->mcr & UART_MCR_OUT1) in |= UART_MSR_RI;
        if (u->mcr & UART_MCR_OUT2) in |= UART_MSR_DCD;
    }
    uint8_t old = u->msr, changed = (uint8_t)(old ^ in);
    uint8_t delta = old & UART_MSR_DELTAS;
    if (changed & UART_MSR_CTS) delta |= 0x01;
    if (changed & UART_MSR_DSR) delta |= 0x02;
    if ((old & UART_MSR_RI) && !(in & UART_MSR_RI)) delta |= UART_MSR_TERI; /* trailing edge */
    if (changed & UART_MSR_DCD) delta |= 0x08;
    u->msr = in | delta;
}

static void uart_transmit(Uart *u, uint8_t c)
{
    if (u->mcr & UART_MCR_LOOP)
        uart_rx_push(u, c);
    else
        charsink_write(&u->out, &c, 1);
    /* The byte left THR at once: THR is empty again, which is a new THRE event. */
    u->thr_ipending = (u->ier & UART_IER_ETBEI) != 0;
}

static uint32_t uart_read(void *dev, uint32_t offset, unsigned size)
{
    Uart *u = dev;
    uint8_t v = 0xff;
    switch (offset & 7) {
    case 0:
        if (u->lcr & UART_LCR_DLAB) return u->divisor & 0xff;
        v = uart_rx_pop(u);
        break;
    case 1:
        if (u->lcr & UART_LCR_DLAB) return u->divisor >> 8;
        return u->ier;
    case 2:
        uart_update_irq(u, false);
        v = u->iir;
        /* Reading IIR acknowledges a THRE interrupt only when that is what it shows. */
        if ((v & 0x0f) == UART_IIR_THR) u->thr_ipending = false;
        break;
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5:
        v = u->lsr | UART_LSR_THRE | UART_LSR_TEMT;
        u->lsr &= ~UART_LSR_ERRORS;
        break;
    case 6:
        v = u->msr;
        u->msr &= ~UART_MSR_DELTAS;
        break;
    case 7: return u->scr;
    }
    uart_update_irq(u, false);
    return v;
}

static void uart_write(void *dev, uint32_t offset, uint32_t value, unsigned size)
{
    Uart *u = dev;
    uint8_t v = (uint8_t)value;
    switch (offset & 7) {
    case 0:
        if (u->lcr & UART_LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
            return;
        }
        u->thr_ipending = false; /* writing THR acknowledges THRE: the line drops */
        uart_update_irq(u, false);
        uart_transmit(u, v);
        break;
    case 1:
        if (u->lcr & UART_LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0x00ff) | (v << 8));
            return;
        }
        /* Enabling ETBEI while THR is empty (always, here) raises THRE at once. */
        if ((v & UART_IER_ETBEI) && !(u->ier & UART_IER_ETBEI)) u->thr_ipending = true;
        u->ier = v & 0x0f;
        break;
    case 2:
        if (!(v & UART_FCR_ENABLE)) {
            /* FCR0 = 0 clears both FIFOs; the other bits are not programmed. */
            if (uart_fifo_on(u)) uart_rx_clear(u);
            u->fcr = 0;
        } else {
            if (!uart_fifo_on(u) || (v & UART_FCR_RX_RESET)) uart_rx_clear(u);
            u->fcr = v & UART_FCR_KEEP; /* the reset bits clear themselves */
        }
        break;
    case 3: u->lcr = v; return;
    case 4:
        u->mcr = v & 0x1f;
        uart_update_msr(u);
        break;
    case 5: return; /* LSR is for factory test only */
    case 6: return;
    case 7: u->scr = v; return;
    }
    uart_update_irq(u, false);
}

void uart_reset(void *dev)
{
    Uart *u = dev;
    uart_timer_stop(u);
    memset(u->rbr_fifo, 0, sizeof(u->rbr_fifo));
    u->rx_head = u->rx_count = 0;
    u->ier = 0;
    u->fcr = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->lsr = 0;
    u->msr = UART_MSR_HOST_LINES;
    u->scr = 0;
    u->divisor = 12; /* 9600 baud; master reset leaves the latch undefined */
    u->thr_ipending = false;
    u->timeout_ipending = false;
    uart_update_irq(u, true);
}

static int uart_post_load(void *dev)
{
    Uart *u = dev;
    u->rx_head %= UART_FIFO;
    if (u->rx_count > UART_FIFO) u->rx_count = UART_FIFO;
    timer_del(&u->timeout);
    if (u->timeout_armed) timer_mod(&u->timeout, u->timeout_deadline);
    uart_update_irq(u, true);
    return 0;
}

static const StateField uart_fields[] = {
    STATE_U8_ARRAY(Uart, rbr_fifo, UART_FIFO),
    STATE_U8(Uart, rx_head),
    STATE_U8(Uart, rx_count),
    STATE_U8(Uart, ier),
    STATE_U8(Uart, iir),
    STATE_U8(Uart, fcr),
    STATE_U8(Uart, lcr),
    STATE_U8(Uart, mcr),
    STATE_U8(Uart, lsr),
    STATE_U8(Uart, msr),
    STATE_U8(Uart, scr),
    STATE_U16(Uart, divisor),
    STATE_BOOL(Uart, thr_ipending),
    STATE_BOOL(Uart, timeout_ipending),
    STATE_U64(Uart, timeout_deadline),
    STATE_BOOL(Uart, timeout_armed),
    STATE_END,
};
static const StateDesc uart_state = {"uart", 1, uart_fields};

static const DeviceOps uart_ops = {
    .name = "uart",
    .reset = uart_reset,
    .read = uart_read,
    .write = uart_write,
    .min_access = 1,
    .max_access = 1,
    .state = &uart_state,
    .post_load = uart_post_load,
};

void uart_init(Uart *u, Bus *bus, uint16_t base, IrqLine irq, Clock *clock, CharSink out)
{
    memset(u, 0, sizeof(*u));
    u->irq = irq;
    u->out = out;
    u->clock = clock;
    timer_init(&u->timeout, clock, uart_timeout_fire, u);
    uart_reset(u);
    bus_map_io(bus, base, 8, &uart_ops, u);
}

size_t uart_can_receive(const Uart *u)
{
    /* In loopback the serial input is disconnected: hold host input until it ends. */
    if (u->mcr & UART_MCR_LOOP) return 0;
    unsigned cap = uart_fifo_on(u) ? UART_FIFO : 1;
    return u->rx_count < cap ? cap - u->rx_count : 0;
}

size_t uart_receive(Uart *u, const uint8_t *buf, size_t len)
{
    size_t n = uart_can_receive(u);
    if (n > len) n = len;
    for (size_t i = 0; i < n; i++) uart_rx_push(u, buf[i]);
    return n;
}
