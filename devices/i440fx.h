/*
 * i440fx.h — the i440FX host bridge (00:00.0, 8086:1237, subsystem 1af4:1100 so
 * SeaBIOS recognises QEMU's board) with PAM registers 0x59-0x5F that shadow the BIOS
 * areas 0xC0000-0xFFFFF, and SMRAM control at 0x72; and the PIIX3 PCI-to-ISA bridge
 * (00:01.0, 8086:7000) with PIRQ routing registers 0x60-0x63.
 *
 * The board owns the memory map: when PAM changes, `pam_changed(board)` is called and
 * the board remaps the affected 16 KiB segments (read/write to RAM or to the ROM).
 */
#ifndef DBT86_I440FX_H
#define DBT86_I440FX_H

#include <stdint.h>

#include "devices/pci.h"

typedef struct I440fx {
    PciDevice host;   /* 00:00.0 */
    PciDevice isa;    /* 00:01.0 PIIX3 */
    void (*pam_changed)(void *board);
    void *board;
    uint8_t pam_seen[7]; /* PAM 0x59-0x5F as the board was last told (finds changes) */
} I440fx;

void i440fx_init(I440fx *h, PciBus *pci, void (*pam_changed)(void *), void *board);
void i440fx_reset(void *h);
/* PAM attribute for the 16 KiB segment containing `addr` (0xC0000-0xFFFFF; the 64 KiB
 * at 0xF0000 is one unit): bit 0 = reads go to RAM, bit 1 = writes go to RAM. */
unsigned i440fx_pam_attr(const I440fx *h, uint32_t addr);
/* ISA IRQ that PIRQ A-D (`pirq` 0-3) is routed to by PIIX3 0x60-0x63, or -1 when the
 * route is disabled (bit 7) or names a reserved IRQ (0-2, 8, 13). */
int i440fx_pirq_irq(const I440fx *h, int pirq);

/* Reset and snapshot state of both functions (no I/O range of their own: the board
 * lists it with its devices). post_load re-applies PAM through pam_changed. */
extern const DeviceOps i440fx_ops;

#endif
