/*
 * ide.h — the PIIX3 IDE controller (PCI 8086:7010 at 00:01.1) in legacy mode: primary
 * channel 0x1F0-0x1F7/0x3F6 on IRQ 14, secondary 0x170-0x177/0x376 on IRQ 15, two
 * drives each. ATA disks backed by BlockDev images: IDENTIFY, READ/WRITE SECTORS
 * (with and without multiple), READ/WRITE MULTIPLE, SET MULTIPLE MODE, the LBA48
 * forms, READ VERIFY, SET FEATURES, INITIALIZE DEVICE PARAMETERS, FLUSH CACHE,
 * EXECUTE DEVICE DIAGNOSTIC, soft reset through the device control register.
 * Commands complete at once (BSY is never seen except while SRST is held). Bus-master
 * DMA registers exist in BAR4 but move no data yet. ATAPI CD/DVD-ROM drives (PIO only)
 * take SCSI/MMC packets through PACKET: the commands SeaBIOS and Linux's sr use, with
 * fixed-format sense data, 2048-byte blocks and an empty drive when no image is given.
 */
#ifndef DBT86_IDE_H
#define DBT86_IDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/block/block.h"
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/pci.h"

typedef struct IdeDrive {
    BlockDev *blk;          /* NULL: no drive, or an ATAPI drive without a medium */
    bool atapi;             /* ATAPI CD/DVD-ROM drive (present even without a medium) */
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
    uint32_t cur_cylinders, cur_heads, cur_sectors; /* CHS translation in use (0x91) */
    uint8_t pio_kind;       /* IDE_PIO_*: what the data port is moving right now */
    uint16_t xfer_block;    /* sectors per DRQ block of the current command */
    /* ATAPI: the packet, the data phase and the sense data of the last command */
    uint8_t packet[12];
    uint16_t byte_limit;    /* byte count limit (LBA mid/high when PACKET was written) */
    uint32_t atapi_fill;    /* bytes of the reply or read data held in buf */
    uint64_t atapi_left;    /* bytes of the data phase not yet offered in a DRQ block */
    uint8_t sense_key, asc, ascq;
    bool unit_attention;    /* 06/28/00 pending: reported once after power-on/reset */
    bool locked;            /* PREVENT ALLOW MEDIUM REMOVAL */
    bool media_event;       /* GET EVENT STATUS NOTIFICATION: report NewMedia once */
} IdeDrive;

/* IdeDrive.pio_kind */
enum { IDE_PIO_NONE, IDE_PIO_IN_SECTORS, IDE_PIO_OUT_SECTORS, IDE_PIO_IN_BUFFER,
       IDE_PIO_OUT_BUFFER, IDE_PIO_OUT_PACKET, IDE_PIO_IN_PACKET };

typedef struct IdeChannel {
    IdeDrive drive[2];
    uint8_t cur;            /* selected drive */
    uint8_t devctl;         /* device control register (nIEN, SRST) */
    IrqLine irq;
    bool irq_pending;       /* INTRQ condition: a command completed or data is ready */
    bool irq_level;         /* level last driven on `irq` (pending && !nIEN) */
} IdeChannel;

typedef struct Ide {
    IdeChannel ch[2];
    PciDevice pci;
    Bus *bus;               /* where the bus-master BAR is mapped */
    uint32_t bm_base;       /* decoded BAR4 address, or PCI_BAR_UNMAPPED */
    uint8_t bm[16];         /* bus-master registers (command, status, PRD pointer) x2 */
} Ide;

void ide_init(Ide *d, Bus *bus, PciBus *pci, IrqLine irq14, IrqLine irq15);
void ide_reset(void *d);
/* Attach an image as drive `unit` (0 master, 1 slave) of `channel`; with `cdrom` an
 * ATAPI drive, whose `blk` may be NULL (an empty drive). Returns 0, or -1 and leaves
 * the position empty when it does not exist or the image does not fit the drive (a CD
 * image must be a whole number of 2048-byte blocks); ide_check_image says why. */
int ide_attach(Ide *d, int channel, int unit, BlockDev *blk, bool cdrom);
/* 0 if `blk` can back a drive of that kind, else -1 with a one-line message in err. */
int ide_check_image(const BlockDev *blk, bool cdrom, char *err, size_t errlen);

#endif
