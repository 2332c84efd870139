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
} I440fx;

void i440fx_init(I440fx *h, PciBus *pci, void (*pam_changed)(void *), void *board);
void i440fx_reset(void *h);
/* PAM attribute for the 16 KiB segment containing `addr` (0xC0000-0xFFFFF; the 64 KiB
 * at 0xF0000 is one unit): bit 0 = reads go to RAM, bit 1 = writes go to RAM. */
unsigned i440fx_pam_attr(const I440fx *h, uint32_t addr);

#endif
