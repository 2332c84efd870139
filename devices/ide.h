/*
 * ide.h — the PIIX3 IDE controller (PCI 8086:7010 at 00:01.1) in legacy mode: primary
 * channel 0x1F0-0x1F7/0x3F6 on IRQ 14, secondary 0x170-0x177/0x376 on IRQ 15, two
 * drives each. ATA disks backed by BlockDev images: IDENTIFY, READ/WRITE SECTORS
 * (with and without multiple), READ/WRITE MULTIPLE, SET MULTIPLE MODE, the LBA48
 * forms, READ VERIFY, SET FEATURES, INITIALIZE DEVICE PARAMETERS, FLUSH CACHE,
 * EXECUTE DEVICE DIAGNOSTIC, soft reset through the device control register.
 */
#ifndef DBT86_IDE_H
#define DBT86_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/block/block.h"
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/pci.h"

typedef struct IdeDrive {
    BlockDev *blk;          /* NULL: no drive */
    bool atapi;             /* CD-ROM (ATAPI comes with the 32-bit PC issue) */
    uint32_t cylinders, heads, sectors; /* CHS geometry for IDENTIFY and CHS commands */
    uint64_t nsectors;      /* capacity in 512-byte sectors */
    uint8_t feature, error, nsector, sector, lcyl, hcyl, select, status;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl; /* LBA48 high bytes */
    uint8_t command;        /* command in progress */
    uint16_t mult_sectors;  /* READ/WRITE MULTIPLE block size */
    uint8_t buf[512 * 256]; /* PIO data buffer */
    uint32_t data_pos, data_end; /* PIO transfer window in buf */
    uint64_t xfer_lba;      /* next sector of a multi-sector transfer */
    uint32_t xfer_remaining;/* sectors left in the command */
    bool lba48;             /* current command is an LBA48 form */
    char serial[21], model[41];
} IdeDrive;

typedef struct IdeChannel {
    IdeDrive drive[2];
    uint8_t cur;            /* selected drive */
    uint8_t devctl;         /* device control register (nIEN, SRST) */
    IrqLine irq;
} IdeChannel;

typedef struct Ide {
    IdeChannel ch[2];
    PciDevice pci;
} Ide;

void ide_init(Ide *d, Bus *bus, PciBus *pci, IrqLine irq14, IrqLine irq15);
void ide_reset(void *d);
/* Attach an image as drive `unit` (0 master, 1 slave) of `channel`. */
void ide_attach(Ide *d, int channel, int unit, BlockDev *blk, bool cdrom);

#endif
