/*
 * ide.h — the PIIX3 IDE controller (PCI 8086:7010 at 00:01.1) in legacy mode: primary
 * channel 0x1F0-0x1F7/0x3F6 on IRQ 14, secondary 0x170-0x177/0x376 on IRQ 15, two
 * drives each. ATA disks backed by BlockDev images: IDENTIFY, READ/WRITE SECTORS
 * (with and without multiple), READ/WRITE MULTIPLE, SET MULTIPLE MODE, the LBA48
 * forms, READ VERIFY, SET FEATURES, INITIALIZE DEVICE PARAMETERS, FLUSH CACHE,
 * EXECUTE DEVICE DIAGNOSTIC, soft reset through the device control register.
 * PIO commands complete at once (BSY is never seen except while SRST is held). READ/
 * WRITE DMA (and EXT) and PACKET with the DMA bit move their data through the bus
 * master in BAR4 (ide_bm.c): PRD tables in guest memory, on timers of the virtual
 * clock. ATAPI CD/DVD-ROM drives take SCSI/MMC packets through PACKET: the commands
 * SeaBIOS and Linux's sr use, with fixed-format sense data, 2048-byte blocks and an
 * empty drive when no image is given.
 *
 *     ide_init(&m->ide, &m->bus, &m->pci, m->mem, &m->clock, irq14, irq15);
 *     ide_attach(&m->ide, 0, 0, blk, false);   // primary master: a disk
 */
#ifndef DBT86_IDE_H
#define DBT86_IDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/physmem.h"
#include "devices/block/block.h"
#include "devices/bus.h"
#include "devices/clock.h"
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
    /* DMA */
    uint8_t dma_kind;       /* IDE_DMA_*: the data phase waiting for the bus master */
    bool packet_dma;        /* the PACKET command in progress moves its data by DMA */
    uint8_t dma_mode;       /* SET FEATURES 03h value of the selected DMA mode, 0: none */
} IdeDrive;

/* IdeDrive.pio_kind */
enum { IDE_PIO_NONE, IDE_PIO_IN_SECTORS, IDE_PIO_OUT_SECTORS, IDE_PIO_IN_BUFFER,
       IDE_PIO_OUT_BUFFER, IDE_PIO_OUT_PACKET, IDE_PIO_IN_PACKET };
/* IdeDrive.dma_kind: READ = device to memory, WRITE = memory to device */
enum { IDE_DMA_NONE, IDE_DMA_READ, IDE_DMA_WRITE, IDE_DMA_PACKET_IN };

struct Ide;

typedef struct IdeChannel {
    IdeDrive drive[2];
    uint8_t cur;            /* selected drive */
    uint8_t devctl;         /* device control register (nIEN, SRST) */
    IrqLine irq;
    bool irq_pending;       /* INTRQ condition: a command completed or data is ready */
    bool irq_level;         /* level last driven on `irq` (pending && !nIEN) */
    struct Ide *ide;        /* the controller (bus-master registers, memory, clock) */
    uint8_t index;          /* 0 primary, 1 secondary */
    /* DMA: the drive being served and the bus master's place in the PRD table */
    uint8_t dma_unit;       /* drive whose DMA data phase is in progress */
    bool dma_started;       /* its first chunk moved (the command overhead is paid) */
    Timer dma_timer;        /* moves the next chunk of the transfer */
    bool dma_armed;         /* dma_timer is armed (saved: Timer itself is not) */
    uint64_t dma_deadline;  /* its deadline, virtual ns */
    uint32_t prd_next;      /* address of the next PRD to fetch */
    uint32_t prd_addr;      /* memory address of the current region's next byte */
    uint32_t prd_left;      /* bytes left in the current region (0: fetch the next) */
    bool prd_last;          /* the current region has EOT set */
} IdeChannel;

typedef struct Ide {
    IdeChannel ch[2];
    PciDevice pci;
    Bus *bus;               /* where the bus-master BAR is mapped */
    uint32_t bm_base;       /* decoded BAR4 address, or PCI_BAR_UNMAPPED */
    uint8_t bm[16];         /* bus-master registers (command, status, PRD pointer) x2 */
    PhysMem *mem;           /* guest memory the bus master reads and writes */
    Clock *clock;           /* DMA transfers take virtual time */
} Ide;

void ide_init(Ide *d, Bus *bus, PciBus *pci, PhysMem *mem, Clock *clock, IrqLine irq14,
              IrqLine irq15);
void ide_reset(void *d);
/* Attach an image as drive `unit` (0 master, 1 slave) of `channel`; with `cdrom` an
 * ATAPI drive, whose `blk` may be NULL (an empty drive). Returns 0, or -1 and leaves
 * the position empty when it does not exist or the image does not fit the drive (a CD
 * image must be a whole number of 2048-byte blocks); ide_check_image says why. */
int ide_attach(Ide *d, int channel, int unit, BlockDev *blk, bool cdrom);
/* 0 if `blk` can back a drive of that kind, else -1 with a one-line message in err. */
int ide_check_image(const BlockDev *blk, bool cdrom, char *err, size_t errlen);

/* ---- between ide.c (the drives) and ide_bm.c (the bus master) ---- */

/* bus-master command register (offset 0) and status register (offset 2) bits */
#define BM_CMD_START 0x01
#define BM_CMD_TO_MEMORY 0x08   /* "read/write control": 1 = the bus master writes memory */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04

/* BAR4 moved or was turned off (PCI_BAR_UNMAPPED). */
void ide_bm_map(Ide *s, uint32_t addr);
/* The channel's bus master is started and still active: it may move data. */
bool ide_bm_active(const IdeChannel *c);
/* Move up to len bytes between buf and the memory the PRD table describes. Returns the
 * bytes moved; fewer when the table ended (EOT) or could not be read, and then the
 * Active bit is clear. */
uint32_t ide_bm_move(IdeChannel *c, uint8_t *buf, uint32_t len, bool to_memory);
/* The drive still has data but the bus master finished its PRD table: the Error bit
 * (the drive keeps waiting, as a real one does until the host resets it). */
void ide_bm_underrun(IdeChannel *c);
/* The channel's INTRQ rose: the bus master latches it in its Interrupt bit. */
void ide_bm_irq(IdeChannel *c);
/* ide.c: the guest started (true) or stopped the channel's bus master. */
void ide_dma_engine(IdeChannel *c, bool started);

#endif
