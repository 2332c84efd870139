/*
 * ide.c — the PIIX3 IDE function (00:01.1) in legacy mode: two channels of two ATA
 * drives behind the classic task-file ports. Every PIO command completes synchronously:
 * a PIO data-in command loads one DRQ block into the drive's buffer and raises INTRQ,
 * the guest drains it through the data port, the next block follows; data-out is the
 * mirror image. INTRQ = a per-channel pending flag gated by nIEN, cleared by reading
 * the status register or writing a command, as ATA specifies. ATAPI drives take a
 * 12-byte packet the same way and answer SCSI/MMC commands in DRQ blocks sized by the
 * host's byte count limit (SFF-8020i / ATA-6 PACKET protocol). DMA commands (READ/
 * WRITE DMA, PACKET with the DMA bit) instead raise a DMA request that the bus master
 * (ide_bm.c) serves: a timer on the virtual clock moves the data in chunks of up to
 * the buffer's size through the PRD table, then the command completes with INTRQ.
 */
#include "devices/ide.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* status register */
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DSC 0x10
#define ST_DRQ 0x08
#define ST_ERR 0x01
#define ST_READY (ST_DRDY | ST_DSC)
/* error register */
#define ER_UNC 0x40
#define ER_IDNF 0x10
#define ER_ABRT 0x04
/* device control register */
#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB 0x80
/* device/head register */
#define DH_LBA 0x40
#define DH_DEV 0x10

#define MAX_MULT 16
#define MAX_DMA_MODE_UDMA 5 /* IDENTIFY advertises UDMA 0-5, multiword and single-word 0-2 */

/* DMA timing: a command's overhead, then a transfer rate of 100 MB/s (UDMA/100). Only
 * the order of events matters to guests; these keep it realistic. */
#define DMA_SETUP_NS 20000u
#define DMA_NS_PER_KIB 10000u
#define ATAPI_BLOCK 2048
#define IDE_MAX_CHS_CYL 16383

_Static_assert(offsetof(Ide, ch) == 0, "the primary channel's ops reach the Ide through ch[0]");

/* ---- interrupt line ---- */

static void irq_update(IdeChannel *c)
{
    bool level = c->irq_pending && !(c->devctl & DC_NIEN);
    if (level != c->irq_level) {
        c->irq_level = level;
        if (level) ide_bm_irq(c); /* the bus master latches every rising INTRQ */
        irq_set(&c->irq, level);
    }
}

static void irq_raise_pending(IdeChannel *c)
{
    c->irq_pending = true;
    irq_update(c);
}

/* A drive answers on the bus if it has an image or is an ATAPI drive (maybe empty). */
static bool drive_present(const IdeDrive *d)
{
    return d->blk || d->atapi;
}

static bool channel_empty(const IdeChannel *c)
{
    return !drive_present(&c->drive[0]) && !drive_present(&c->drive[1]);
}

/* Status of an idle, ready drive: bit 4 is DSC on ATA disks but SERV on packet
 * devices, where it stays clear (no overlapped commands). */
static uint8_t ready_status(const IdeDrive *d)
{
    return d->atapi ? ST_DRDY : ST_READY;
}

static void atapi_drq_done(IdeChannel *c, IdeDrive *d);
static void atapi_packet(IdeChannel *c, IdeDrive *d);
static void dma_request(IdeChannel *c, IdeDrive *d, uint8_t kind);

/* ---- addresses ---- */

/* Start sector of the command in the task file, false if a CHS address does not exist
 * under the current translation. */
static bool taskfile_lba(const IdeDrive *d, bool lba48, uint64_t *lba)
{
    if (lba48) {
        *lba = (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 |
               (uint64_t)d->hob_sector << 24 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->lcyl << 8 | d->sector;
        return true;
    }
    if (d->select & DH_LBA) {
        *lba = (uint64_t)(d->select & 0x0f) << 24 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->lcyl << 8 | d->sector;
        return true;
    }
    uint32_t cyl = (uint32_t)d->hcyl << 8 | d->lcyl, head = d->select & 0x0f, sect = d->sector;
    if (!d->cur_heads || !d->cur_sectors || sect == 0 || sect > d->cur_sectors ||
        head >= d->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_sectors + sect - 1;
    return true;
}

static uint32_t taskfile_count(const IdeDrive *d, bool lba48)
{
    if (lba48) {
        uint32_t n = (uint32_t)d->hob_nsector << 8 | d->nsector;
        return n ? n : 65536;
    }
    return d->nsector ? d->nsector : 256;
}

/* Write `lba` back into the address registers in the command's addressing mode. */
static void taskfile_set_lba(IdeDrive *d, uint64_t lba)
{
    if (d->lba48) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32);
        d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (d->select & DH_LBA) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_heads && d->cur_sectors) {
        uint64_t track = lba / d->cur_sectors;
        uint32_t cyl = (uint32_t)(track / d->cur_heads);
        d->sector = (uint8_t)(lba % d->cur_sectors + 1);
        d->select = (uint8_t)((d->select & 0xf0) | (track % d->cur_heads));
        d->lcyl = (uint8_t)cyl;
        d->hcyl = (uint8_t)(cyl >> 8);
    }
}

static void taskfile_set_count(IdeDrive *d, uint32_t n)
{
    d->nsector = (uint8_t)n;
    if (d->lba48) d->hob_nsector = (uint8_t)(n >> 8);
}

/* ---- command completion ---- */

static void cmd_done(IdeChannel *c, IdeDrive *d)
{
    d->pio_kind = IDE_PIO_NONE;
    d->data_pos = d->data_end = 0;
    d->error = 0;
    d->status = ready_status(d);
    irq_raise_pending(c);
}

static void cmd_error(IdeChannel *c, IdeDrive *d, uint8_t error)
{
    d->pio_kind = IDE_PIO_NONE;
    d->data_pos = d->data_end = 0;
    d->error = error;
    d->status = ready_status(d) | ST_ERR;
    irq_raise_pending(c);
}

/* Register contents after reset or diagnostics: the "signature" that tells ATA from
 * ATAPI devices. */
static void drive_signature(IdeDrive *d)
{
    d->nsector = 1;
    d->sector = 1;
    d->lcyl = d->atapi ? 0x14 : 0;
    d->hcyl = d->atapi ? 0xeb : 0;
    d->select = 0;
}

/* Start a PIO data-in phase of `len` bytes already in buf. */
static void pio_in_start(IdeChannel *c, IdeDrive *d, uint8_t kind, uint32_t len)
{
    d->pio_kind = kind;
    d->data_pos = 0;
    d->data_end = len;
    d->error = 0;
    d->status = ready_status(d) | ST_DRQ;
    irq_raise_pending(c);
}

/* ---- IDENTIFY DEVICE ---- */

static void id_word(uint8_t *buf, unsigned w, uint16_t v)
{
    buf[2 * w] = (uint8_t)v;
    buf[2 * w + 1] = (uint8_t)(v >> 8);
}

/* ATA strings: two characters per word, the first in the high byte, space padded. */
static void id_string(uint8_t *buf, unsigned w, unsigned words, const char *s)
{
    size_t len = strlen(s);
    for (unsigned i = 0; i < 2 * words; i++) {
        char ch = i < len ? s[i] : ' ';
        buf[2 * w + (i ^ 1)] = (uint8_t)ch;
    }
}

/* Words 62, 63 and 88: the DMA modes supported (low byte) and selected (high byte). */
static void id_dma_modes(uint8_t *b, const IdeDrive *d)
{
    unsigned kind = d->dma_mode >> 3, mode = d->dma_mode & 7;
    id_word(b, 62, (uint16_t)(0x0007 | (kind == 2 ? 0x100 << mode : 0)));
    id_word(b, 63, (uint16_t)(0x0007 | (kind == 4 ? 0x100 << mode : 0)));
    id_word(b, 88, (uint16_t)(0x003f | (kind == 8 ? 0x100 << mode : 0)));
}

static void identify_fill(IdeDrive *d)
{
    uint8_t *b = d->buf;
    memset(b, 0, 512);
    uint64_t chs_cap = (uint64_t)d->cur_cylinders * d->cur_heads * d->cur_sectors;
    uint32_t lba28 = d->nsectors > 0x0fffffff ? 0x0fffffff : (uint32_t)d->nsectors;
    id_word(b, 0, 0x0040);                        /* fixed disk */
    id_word(b, 1, (uint16_t)d->cylinders);
    id_word(b, 3, (uint16_t)d->heads);
    id_word(b, 4, (uint16_t)(512 * d->sectors));  /* obsolete: bytes per track */
    id_word(b, 5, 512);                           /* obsolete: bytes per sector */
    id_word(b, 6, (uint16_t)d->sectors);
    id_string(b, 10, 10, d->serial);
    id_word(b, 20, 3);                            /* obsolete: dual-ported cache buffer */
    id_word(b, 21, 512);                          /* obsolete: buffer size */
    id_word(b, 22, 4);                            /* obsolete: ECC bytes */
    id_string(b, 23, 4, "0.1.0");
    id_string(b, 27, 20, d->model);
    id_word(b, 47, 0x8000 | MAX_MULT);
    id_word(b, 48, 1);                            /* 32-bit PIO */
    id_word(b, 49, (1 << 11) | (1 << 9) | (1 << 8)); /* IORDY, LBA, DMA */
    id_word(b, 50, 0x4000);
    id_word(b, 51, 0x0200);                       /* PIO mode 2 timing */
    id_word(b, 53, 0x0007);                       /* words 54-58, 64-70 and 88 valid */
    id_word(b, 54, (uint16_t)d->cur_cylinders);
    id_word(b, 55, (uint16_t)d->cur_heads);
    id_word(b, 56, (uint16_t)d->cur_sectors);
    id_word(b, 57, (uint16_t)chs_cap);
    id_word(b, 58, (uint16_t)(chs_cap >> 16));
    id_word(b, 59, d->mult_sectors ? (uint16_t)(0x100 | d->mult_sectors) : 0);
    id_word(b, 60, (uint16_t)lba28);
    id_word(b, 61, (uint16_t)(lba28 >> 16));
    id_dma_modes(b, d);
    id_word(b, 64, 0x0003);                       /* PIO modes 3 and 4 */
    id_word(b, 65, 120);
    id_word(b, 66, 120);
    id_word(b, 67, 120);
    id_word(b, 68, 120);
    id_word(b, 80, 0x007e);                       /* ATA-1 .. ATA-6 */
    id_word(b, 82, 0x4008);                       /* NOP, power management */
    id_word(b, 83, 0x7400);                       /* FLUSH CACHE (EXT), LBA48 */
    id_word(b, 84, 0x4000);
    id_word(b, 85, 0x4008);
    id_word(b, 86, 0x3400);
    id_word(b, 87, 0x4000);
    for (unsigned i = 0; i < 4; i++) id_word(b, 100 + i, (uint16_t)(d->nsectors >> (16 * i)));
    /* integrity word: signature A5h, then a checksum making all 512 bytes sum to 0 */
    b[510] = 0xa5;
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; i++) sum = (uint8_t)(sum + b[i]);
    b[511] = (uint8_t)-sum;
}

/* ---- sector transfers ---- */

static void pio_read_block(IdeChannel *c, IdeDrive *d)
{
    uint32_t n = d->xfer_remaining < d->xfer_block ? d->xfer_remaining : d->xfer_block;
    if (blk_read(d->blk, d->xfer_lba * 512, d->buf, (size_t)n * 512) < 0) {
        taskfile_set_lba(d, d->xfer_lba);
        cmd_error(c, d, ER_UNC);
        return;
    }
    pio_in_start(c, d, IDE_PIO_IN_SECTORS, n * 512);
}

/* Validate the task file's range; on success xfer_* describe the command. */
static bool xfer_setup(IdeChannel *c, IdeDrive *d, bool lba48, unsigned block)
{
    uint64_t lba;
    d->lba48 = lba48;
    uint32_t count = taskfile_count(d, lba48);
    if (!taskfile_lba(d, lba48, &lba) || lba >= d->nsectors || count > d->nsectors - lba) {
        cmd_error(c, d, ER_IDNF);
        return false;
    }
    d->xfer_lba = lba;
    d->xfer_remaining = count;
    d->xfer_block = (uint16_t)block;
    return true;
}

static void cmd_read(IdeChannel *c, IdeDrive *d, bool lba48, unsigned block)
{
    if (xfer_setup(c, d, lba48, block)) pio_read_block(c, d);
}

static void pio_out_block(IdeDrive *d)
{
    uint32_t n = d->xfer_remaining < d->xfer_block ? d->xfer_remaining : d->xfer_block;
    d->pio_kind = IDE_PIO_OUT_SECTORS;
    d->data_pos = 0;
    d->data_end = n * 512;
    d->error = 0;
    d->status = ST_READY | ST_DRQ;
}

static void cmd_write(IdeChannel *c, IdeDrive *d, bool lba48, unsigned block)
{
    if (d->blk->read_only) {
        cmd_error(c, d, ER_ABRT);
        return;
    }
    /* the first block is requested without an interrupt (PIO data-out protocol) */
    if (xfer_setup(c, d, lba48, block)) pio_out_block(d);
}

static void cmd_verify(IdeChannel *c, IdeDrive *d, bool lba48)
{
    if (!xfer_setup(c, d, lba48, 1)) return;
    taskfile_set_lba(d, d->xfer_lba + d->xfer_remaining - 1);
    cmd_done(c, d);
}

/* The guest drained the data-in buffer. */
static void pio_in_done(IdeChannel *c, IdeDrive *d)
{
    if (d->pio_kind == IDE_PIO_IN_PACKET) {
        atapi_drq_done(c, d);
        return;
    }
    if (d->pio_kind != IDE_PIO_IN_SECTORS) {
        d->pio_kind = IDE_PIO_NONE;
        d->status = ready_status(d);
        return;
    }
    uint32_t n = d->data_end / 512;
    d->xfer_lba += n;
    d->xfer_remaining -= n;
    taskfile_set_lba(d, d->xfer_lba - 1);
    taskfile_set_count(d, d->xfer_remaining);
    if (d->xfer_remaining) {
        pio_read_block(c, d);
    } else {
        /* no interrupt after the last block of a read */
        d->pio_kind = IDE_PIO_NONE;
        d->data_pos = d->data_end = 0;
        d->status = ST_READY;
    }
}

/* The guest filled the data-out buffer. */
static void pio_out_done(IdeChannel *c, IdeDrive *d)
{
    if (d->pio_kind == IDE_PIO_OUT_PACKET) {
        atapi_packet(c, d);
        return;
    }
    if (d->pio_kind != IDE_PIO_OUT_SECTORS) {
        cmd_done(c, d); /* WRITE BUFFER */
        return;
    }
    uint32_t n = d->data_end / 512;
    if (blk_write(d->blk, d->xfer_lba * 512, d->buf, (size_t)n * 512) < 0) {
        taskfile_set_lba(d, d->xfer_lba);
        cmd_error(c, d, ER_ABRT);
        return;
    }
    d->xfer_lba += n;
    d->xfer_remaining -= n;
    taskfile_set_lba(d, d->xfer_lba - 1);
    taskfile_set_count(d, d->xfer_remaining);
    if (d->xfer_remaining) {
        pio_out_block(d);
        irq_raise_pending(c);
    } else {
        cmd_done(c, d);
    }
}

/* ---- commands ---- */

static void cmd_set_features(IdeChannel *c, IdeDrive *d)
{
    switch (d->feature) {
    case 0x03: { /* set transfer mode: PIO default/0-4, single-word and multiword DMA
                  * 0-2, UDMA 0-5; a DMA mode shows as selected in IDENTIFY */
        uint8_t mode = d->nsector >> 3, sub = d->nsector & 7;
        bool pio = (mode == 0 && sub <= 1) || (mode == 1 && sub <= 4);
        bool dma = ((mode == 2 || mode == 4) && sub <= 2) ||
                   (mode == 8 && sub <= MAX_DMA_MODE_UDMA);
        if (!pio && !dma) {
            cmd_error(c, d, ER_ABRT);
            return;
        }
        if (dma) d->dma_mode = d->nsector;
        cmd_done(c, d);
        return;
    }
    case 0x02: case 0x82: /* write cache on/off */
    case 0x55: case 0xaa: /* read look-ahead off/on */
    case 0x66: case 0xcc: /* reverting to power-on defaults off/on */
        cmd_done(c, d);
        return;
    default:
        cmd_error(c, d, ER_ABRT);
    }
}

static void cmd_init_params(IdeChannel *c, IdeDrive *d)
{
    uint32_t heads = (d->select & 0x0f) + 1u, sectors = d->nsector;
    if (!sectors) {
        cmd_error(c, d, ER_ABRT);
        return;
    }
    uint64_t cyl = d->nsectors / ((uint64_t)heads * sectors);
    d->cur_heads = heads;
    d->cur_sectors = sectors;
    d->cur_cylinders = cyl > 65535 ? 65535 : (uint32_t)cyl;
    cmd_done(c, d);
}

/* ---- ATAPI: IDENTIFY PACKET DEVICE, PACKET and the SCSI/MMC commands ---- */

static void identify_packet_fill(IdeDrive *d)
{
    uint8_t *b = d->buf;
    memset(b, 0, 512);
    /* ATAPI, CD-ROM device type, removable, DRQ within 50 us of PACKET, 12-byte packets */
    id_word(b, 0, 0x85c0);
    id_string(b, 10, 10, d->serial);
    id_string(b, 23, 4, "0.1.0");
    id_string(b, 27, 20, d->model);
    id_word(b, 49, (1 << 11) | (1 << 9) | (1 << 8)); /* IORDY, LBA, DMA */
    id_word(b, 50, 0x4000);
    id_word(b, 51, 0x0200);                       /* PIO mode 2 timing */
    id_word(b, 53, 0x0006);                       /* words 64-70 and 88 valid */
    id_dma_modes(b, d);                           /* word 62 bit 15 clear: no DMADIR */
    id_word(b, 64, 0x0003);                       /* PIO modes 3 and 4 */
    id_word(b, 65, 120);
    id_word(b, 66, 120);
    id_word(b, 67, 120);
    id_word(b, 68, 120);
    id_word(b, 80, 0x007e);                       /* ATA/ATAPI-1 .. 6 */
    id_word(b, 82, 0x0210);                       /* DEVICE RESET, PACKET feature set */
    id_word(b, 83, 0x4000);
    id_word(b, 84, 0x4000);
    id_word(b, 85, 0x0210);
    id_word(b, 87, 0x4000);
    b[510] = 0xa5;
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; i++) sum = (uint8_t)(sum + b[i]);
    b[511] = (uint8_t)-sum;
}

/* interrupt reason (the sector count register during PACKET) */
#define IR_COD 0x01
#define IR_IO 0x02

/* sense keys */
#define SK_NOT_READY 0x02
#define SK_MEDIUM_ERROR 0x03
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION 0x06

/* the largest CD: 80 minutes of 75 blocks a second; bigger images are DVDs */
#define CD_MAX_BLOCKS (80u * 60 * 75)

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v);
}

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }

static uint32_t atapi_blocks(const IdeDrive *d)
{
    uint64_t n = d->blk ? d->blk->size / ATAPI_BLOCK : 0;
    return n > 0xffffffffu ? 0xffffffffu : (uint32_t)n;
}

/* The command completed: status phase (IO and CoD both set). */
static void atapi_ok(IdeChannel *c, IdeDrive *d)
{
    d->pio_kind = IDE_PIO_NONE;
    d->data_pos = d->data_end = 0;
    d->atapi_left = 0;
    d->nsector = IR_IO | IR_COD;
    d->error = 0;
    d->status = ST_DRDY;
    irq_raise_pending(c);
}

/* CHECK CONDITION: the sense key goes to error bits 7-4, the rest to REQUEST SENSE. */
static void atapi_check(IdeChannel *c, IdeDrive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->pio_kind = IDE_PIO_NONE;
    d->data_pos = d->data_end = 0;
    d->atapi_left = 0;
    d->xfer_remaining = 0;
    d->nsector = IR_IO | IR_COD;
    d->error = (uint8_t)(key << 4);
    d->status = ST_DRDY | ST_ERR;
    irq_raise_pending(c);
}

static void atapi_invalid_field(IdeChannel *c, IdeDrive *d)
{
    atapi_check(c, d, SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

/* Offer the next DRQ block of the data-in phase: at most the byte count limit (even
 * when more follows), refilling buf from the medium for reads. */
static void atapi_next_drq(IdeChannel *c, IdeDrive *d)
{
    uint32_t limit = d->byte_limit ? d->byte_limit : 0xfffe; /* 0 would never move data */
    uint32_t n = d->atapi_left > limit ? limit & ~1u : (uint32_t)d->atapi_left;
    if (!n) n = 2;
    uint32_t start = d->data_end;
    if (start + n > d->atapi_fill) {
        /* keep what is left of buf at its start and read whole blocks behind it */
        uint32_t keep = d->atapi_fill > start ? d->atapi_fill - start : 0;
        memmove(d->buf, d->buf + start, keep);
        start = 0;
        d->atapi_fill = keep;
        uint32_t room = (uint32_t)(sizeof d->buf - keep) / ATAPI_BLOCK;
        uint32_t k = d->xfer_remaining < room ? d->xfer_remaining : room;
        if (k && (!d->blk || blk_read(d->blk, d->xfer_lba * ATAPI_BLOCK, d->buf + keep,
                                      (size_t)k * ATAPI_BLOCK) < 0)) {
            atapi_check(c, d, SK_MEDIUM_ERROR, 0x11, 0x00); /* unrecovered read error */
            return;
        }
        d->xfer_lba += k;
        d->xfer_remaining -= k;
        d->atapi_fill += k * ATAPI_BLOCK;
        if (n > d->atapi_fill) n = d->atapi_fill; /* cannot happen: n <= 64 KiB */
    }
    d->data_pos = start;
    d->data_end = start + n;
    d->atapi_left -= n;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsector = IR_IO;
    d->pio_kind = IDE_PIO_IN_PACKET;
    d->error = 0;
    d->status = ST_DRDY | ST_DRQ;
    irq_raise_pending(c);
}

static void atapi_drq_done(IdeChannel *c, IdeDrive *d)
{
    if (d->atapi_left) atapi_next_drq(c, d);
    else atapi_ok(c, d);
}

/* Send the first `len` bytes of buf, cut to the allocation length. */
static void atapi_reply(IdeChannel *c, IdeDrive *d, uint32_t len, uint32_t alloc)
{
    uint32_t n = len < alloc ? len : alloc;
    d->atapi_fill = n;
    d->atapi_left = n;
    d->xfer_remaining = 0;
    d->data_pos = d->data_end = 0;
    if (!n) atapi_ok(c, d);
    else if (d->packet_dma) dma_request(c, d, IDE_DMA_PACKET_IN);
    else atapi_next_drq(c, d);
}

/* Commands that need a disc fail with NOT READY / MEDIUM NOT PRESENT without one. */
static bool atapi_medium(IdeChannel *c, IdeDrive *d)
{
    if (d->blk) return true;
    atapi_check(c, d, SK_NOT_READY, 0x3a, 0x00);
    return false;
}

static void atapi_read(IdeChannel *c, IdeDrive *d, uint32_t lba, uint32_t count)
{
    if (!atapi_medium(c, d)) return;
    uint32_t blocks = atapi_blocks(d);
    if (lba > blocks || count > blocks - lba) {
        atapi_check(c, d, SK_ILLEGAL_REQUEST, 0x21, 0x00); /* LBA out of range */
        return;
    }
    d->xfer_lba = lba;
    d->xfer_remaining = count;
    d->atapi_left = (uint64_t)count * ATAPI_BLOCK;
    d->atapi_fill = 0;
    d->data_pos = d->data_end = 0;
    if (!count) atapi_ok(c, d);
    else if (d->packet_dma) dma_request(c, d, IDE_DMA_PACKET_IN);
    else atapi_next_drq(c, d);
}

/* A TOC address: an LBA, or minute/second/frame counted from the 2-second pregap. */
static void toc_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (!msf) {
        put_be32(p, lba);
        return;
    }
    uint32_t f = lba + 150;
    p[0] = 0;
    p[1] = (uint8_t)(f / (75 * 60));
    p[2] = (uint8_t)(f / 75 % 60);
    p[3] = (uint8_t)(f % 75);
}

/* READ TOC/PMA/ATIP: one data track and the lead-out, one session. */
static void atapi_read_toc(IdeChannel *c, IdeDrive *d, const uint8_t *p)
{
    if (!atapi_medium(c, d)) return;
    bool msf = p[1] & 0x02;
    unsigned format = p[2] & 0x0f;
    if (!format) format = p[9] >> 6; /* SFF-8020i put the format in the control byte */
    uint8_t *b = d->buf;
    uint32_t len;
    memset(b, 0, 64);
    if (format == 0) {
        unsigned track = p[6];
        len = 4;
        if (track > 1 && track != 0xaa) {
            atapi_invalid_field(c, d);
            return;
        }
        if (track <= 1) {
            b[len + 1] = 0x14; /* ADR 1 (position), control 4: data track */
            b[len + 2] = 1;
            toc_addr(b + len + 4, 0, msf);
            len += 8;
        }
        b[len + 1] = 0x14;
        b[len + 2] = 0xaa; /* lead-out */
        toc_addr(b + len + 4, atapi_blocks(d), msf);
        len += 8;
    } else if (format == 1) {
        len = 12; /* first session: its first track starts at 0 */
        b[5] = 0x14;
        b[6] = 1;
        toc_addr(b + 8, 0, msf);
    } else {
        atapi_invalid_field(c, d);
        return;
    }
    put_be16(b, len - 2);
    b[2] = 1; /* first track or session */
    b[3] = 1; /* last */
    atapi_reply(c, d, len, be16(p + 7));
}

/* One mode page (current, default or changeable values) at b, returning its length. */
static uint32_t mode_page(const IdeDrive *d, unsigned page, bool changeable, uint8_t *b)
{
    if (page == 0x01) { /* read error recovery */
        memset(b, 0, 12);
        b[0] = 0x01;
        b[1] = 10;
        if (!changeable) b[3] = 5; /* read retry count */
        return 12;
    }
    /* 0x2a: CD/DVD capabilities and mechanical status */
    memset(b, 0, 22);
    b[0] = 0x2a;
    b[1] = 20;
    if (changeable) return 22;
    b[2] = 0x0b; /* reads CD-R, CD-RW, DVD-ROM */
    b[4] = 0x70; /* mode 2 form 1 and 2, multi-session */
    b[6] = 0x29 | (d->locked ? 0x02 : 0); /* tray, eject, lock (and its state) */
    put_be16(b + 8, 2816);  /* maximum read speed, kB/s (16x CD) */
    put_be16(b + 12, 512);  /* buffer size, KiB */
    put_be16(b + 14, 2816); /* current read speed */
    return 22;
}

static void atapi_mode_sense(IdeChannel *c, IdeDrive *d, const uint8_t *p, bool ten)
{
    unsigned pc = p[2] >> 6, page = p[2] & 0x3f;
    uint32_t alloc = ten ? be16(p + 7) : p[4];
    if (pc == 3) {
        atapi_check(c, d, SK_ILLEGAL_REQUEST, 0x39, 0x00); /* saving not supported */
        return;
    }
    if (page != 0x01 && page != 0x2a && page != 0x3f) {
        atapi_invalid_field(c, d);
        return;
    }
    uint8_t *b = d->buf;
    uint32_t len = ten ? 8 : 4;
    memset(b, 0, len);
    if (page == 0x01 || page == 0x3f) len += mode_page(d, 0x01, pc == 1, b + len);
    if (page == 0x2a || page == 0x3f) len += mode_page(d, 0x2a, pc == 1, b + len);
    /* header: mode data length, medium type (CD-ROM data, or none), no block descriptors */
    uint8_t medium = d->blk ? 0x01 : 0x70;
    if (ten) {
        put_be16(b, len - 2);
        b[2] = medium;
    } else {
        b[0] = (uint8_t)(len - 1);
        b[1] = medium;
    }
    atapi_reply(c, d, len, alloc);
}

/* RT 0 and 1: features from `first` on (all are current here); RT 2: that one. */
static bool feature_wanted(unsigned rt, unsigned first, unsigned code)
{
    return rt == 2 ? code == first : code >= first;
}

/* GET CONFIGURATION: the profile list, core and removable medium features. */
static void atapi_get_configuration(IdeChannel *c, IdeDrive *d, const uint8_t *p)
{
    unsigned rt = p[1] & 0x03, first = be16(p + 2);
    if (rt == 3) {
        atapi_invalid_field(c, d);
        return;
    }
    bool dvd = atapi_blocks(d) > CD_MAX_BLOCKS;
    uint16_t current = !d->blk ? 0 : dvd ? 0x0010 : 0x0008;
    uint8_t *b = d->buf;
    memset(b, 0, 64);
    uint32_t len = 8;
    put_be16(b + 6, current);
    /* feature 0: profile list (always current) */
    if (feature_wanted(rt, first, 0)) {
        b[len + 2] = 0x03; /* persistent, current */
        b[len + 3] = 8;
        put_be16(b + len + 4, 0x0010);
        b[len + 6] = current == 0x0010;
        put_be16(b + len + 8, 0x0008);
        b[len + 10] = current == 0x0008;
        len += 12;
    }
    /* feature 1: core, ATAPI interface */
    if (feature_wanted(rt, first, 1)) {
        put_be16(b + len, 0x0001);
        b[len + 2] = 0x03;
        b[len + 3] = 4;
        put_be32(b + len + 4, 2);
        len += 8;
    }
    /* feature 3: removable medium, tray with eject and lock */
    if (feature_wanted(rt, first, 3)) {
        put_be16(b + len, 0x0003);
        b[len + 2] = 0x03;
        b[len + 3] = 4;
        b[len + 4] = 0x29 | (d->locked ? 0x04 : 0);
        len += 8;
    }
    put_be32(b, len - 4);
    atapi_reply(c, d, len, be16(p + 7));
}

/* GET EVENT STATUS NOTIFICATION, polled only, media class. */
static void atapi_event_status(IdeChannel *c, IdeDrive *d, const uint8_t *p)
{
    if (!(p[1] & 0x01)) { /* asynchronous notification is not offered */
        atapi_invalid_field(c, d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    uint32_t len = 4;
    b[3] = 0x10; /* supported classes: media */
    if (p[4] & 0x10) {
        b[2] = 0x04; /* media class */
        b[4] = d->media_event ? 0x02 : 0x00; /* NewMedia once, then no change */
        b[5] = d->blk ? 0x02 : 0x00;         /* media present, tray closed */
        d->media_event = false;
        len = 8;
    } else {
        b[2] = 0x80; /* no event available for the requested classes */
    }
    put_be16(b, len - 2);
    atapi_reply(c, d, len, be16(p + 7));
}

static void atapi_disc_info(IdeChannel *c, IdeDrive *d, const uint8_t *p)
{
    if (!atapi_medium(c, d)) return;
    if (p[1] & 0x07) {
        atapi_invalid_field(c, d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e; /* last session complete, disc complete, not erasable */
    b[3] = 1;    /* first track */
    b[4] = 1;    /* sessions */
    b[5] = 1;    /* first track of the last session */
    b[6] = 1;    /* last track of the last session */
    memset(b + 16, 0xff, 8); /* no lead-in / lead-out start times: a pressed disc */
    atapi_reply(c, d, 34, be16(p + 7));
}

/* READ TRACK INFORMATION: the one complete data track, by LBA, track or session. */
static void atapi_track_info(IdeChannel *c, IdeDrive *d, const uint8_t *p)
{
    if (!atapi_medium(c, d)) return;
    uint32_t addr = be32(p + 2), blocks = atapi_blocks(d);
    unsigned type = p[1] & 0x03;
    if ((type == 0 && addr >= blocks) || (type != 0 && addr != 1)) {
        atapi_invalid_field(c, d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 36);
    put_be16(b, 34);
    b[2] = 1;    /* track */
    b[3] = 1;    /* session */
    b[5] = 0x04; /* data track, recorded uninterrupted */
    b[6] = 0x01; /* mode 1 */
    put_be32(b + 24, blocks); /* track size; starts at 0 */
    atapi_reply(c, d, 36, be16(p + 7));
}

static void atapi_inquiry(IdeChannel *c, IdeDrive *d, const uint8_t *p)
{
    uint8_t *b = d->buf;
    uint32_t alloc = be16(p + 3), len;
    if (p[1] & 0x01) { /* vital product data: the page list and the serial number */
        memset(b, 0, 64);
        b[0] = 0x05;
        b[1] = p[2];
        if (p[2] == 0x00) {
            b[3] = 2;
            b[5] = 0x80;
            len = 6;
        } else if (p[2] == 0x80) {
            size_t n = strlen(d->serial);
            b[3] = (uint8_t)n;
            memcpy(b + 4, d->serial, n);
            len = 4 + (uint32_t)n;
        } else {
            atapi_invalid_field(c, d);
            return;
        }
    } else {
        memset(b, ' ', 36);
        b[0] = 0x05; /* CD/DVD device */
        b[1] = 0x80; /* removable */
        b[2] = 0x05; /* SPC-3 */
        b[3] = 0x02; /* response data format */
        b[4] = 31;   /* additional length */
        b[5] = b[6] = b[7] = 0;
        memcpy(b + 8, "DBT86", 5);
        memcpy(b + 16, "DVD-ROM", 7);
        memcpy(b + 32, "0.1", 3);
        len = 36;
    }
    atapi_reply(c, d, len, alloc);
}

static void atapi_request_sense(IdeChannel *c, IdeDrive *d, const uint8_t *p)
{
    /* the last command's own error first; else a pending unit attention */
    if (d->unit_attention && !d->sense_key) {
        d->unit_attention = false;
        d->sense_key = SK_UNIT_ATTENTION;
        d->asc = 0x28;
        d->ascq = 0x00;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 18);
    b[0] = 0x70; /* current error, fixed format */
    b[2] = d->sense_key;
    b[7] = 10;
    b[12] = d->asc;
    b[13] = d->ascq;
    d->sense_key = d->asc = d->ascq = 0; /* reported: cleared */
    atapi_reply(c, d, 18, p[4]);
}

/* The 12-byte packet arrived through the data port. */
static void atapi_packet(IdeChannel *c, IdeDrive *d)
{
    memcpy(d->packet, d->buf, sizeof d->packet);
    const uint8_t *p = d->packet;
    uint8_t op = p[0];
    if (op == 0x03) {
        atapi_request_sense(c, d, p);
        return;
    }
    d->sense_key = d->asc = d->ascq = 0;
    /* a pending unit attention fails the next command, except those MMC exempts */
    if (d->unit_attention && op != 0x12 && op != 0x46 && op != 0x4a) {
        d->unit_attention = false;
        atapi_check(c, d, SK_UNIT_ATTENTION, 0x28, 0x00);
        return;
    }
    uint8_t *b = d->buf;
    switch (op) {
    case 0x00: /* TEST UNIT READY */
        if (atapi_medium(c, d)) atapi_ok(c, d);
        break;
    case 0x12: atapi_inquiry(c, d, p); break;
    case 0x25: /* READ CAPACITY: the last block and the block size */
        if (!atapi_medium(c, d)) break;
        put_be32(b, atapi_blocks(d) ? atapi_blocks(d) - 1 : 0);
        put_be32(b + 4, ATAPI_BLOCK);
        atapi_reply(c, d, 8, 8);
        break;
    case 0x28: atapi_read(c, d, be32(p + 2), be16(p + 7)); break;  /* READ(10) */
    case 0xa8: atapi_read(c, d, be32(p + 2), be32(p + 6)); break;  /* READ(12) */
    case 0x2b: /* SEEK(10) */
        if (!atapi_medium(c, d)) break;
        if (be32(p + 2) >= atapi_blocks(d)) atapi_check(c, d, SK_ILLEGAL_REQUEST, 0x21, 0x00);
        else atapi_ok(c, d);
        break;
    case 0x43: atapi_read_toc(c, d, p); break;
    case 0x1a: atapi_mode_sense(c, d, p, false); break;
    case 0x5a: atapi_mode_sense(c, d, p, true); break;
    case 0x46: atapi_get_configuration(c, d, p); break;
    case 0x4a: atapi_event_status(c, d, p); break;
    case 0x51: atapi_disc_info(c, d, p); break;
    case 0x52: atapi_track_info(c, d, p); break;
    case 0x1b: /* START STOP UNIT: the image stays in; ejecting a locked tray fails */
        if ((p[4] & 0x03) == 0x02 && d->locked)
            atapi_check(c, d, SK_ILLEGAL_REQUEST, 0x53, 0x02); /* removal prevented */
        else
            atapi_ok(c, d);
        break;
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = p[4] & 0x01;
        atapi_ok(c, d);
        break;
    case 0xbb: atapi_ok(c, d); break; /* SET CD SPEED: one speed here */
    case 0xbd: /* MECHANISM STATUS: idle, tray closed, no changer */
        memset(b, 0, 8);
        atapi_reply(c, d, 8, be16(p + 8));
        break;
    default:
        atapi_check(c, d, SK_ILLEGAL_REQUEST, 0x20, 0x00); /* invalid operation code */
    }
}

/* ---- DMA data phases: the drive's side (ide_bm.c is the bus master) ---- */

/* Bytes the next chunk moves: what the buffer holds at most. */
static uint32_t dma_chunk_bytes(const IdeDrive *d)
{
    if (d->dma_kind == IDE_DMA_PACKET_IN) {
        uint64_t n = d->data_end > d->data_pos ? d->data_end - d->data_pos : sizeof d->buf;
        return (uint32_t)(d->atapi_left < n ? d->atapi_left : n);
    }
    uint32_t max = sizeof d->buf / 512;
    return (d->xfer_remaining < max ? d->xfer_remaining : max) * 512;
}

/* Arm the chunk timer when the drive wants DMA and the bus master is running. */
static void dma_schedule(IdeChannel *c)
{
    const IdeDrive *d = &c->drive[c->dma_unit];
    if (d->dma_kind == IDE_DMA_NONE || !ide_bm_active(c) || c->dma_armed) return;
    uint64_t ns = (uint64_t)dma_chunk_bytes(d) * DMA_NS_PER_KIB / 1024;
    if (!c->dma_started) ns += DMA_SETUP_NS;
    c->dma_deadline = clock_now(c->ide->clock) + ns;
    c->dma_armed = true;
    timer_mod(&c->dma_timer, c->dma_deadline);
}

static void dma_timer_stop(IdeChannel *c)
{
    c->dma_armed = false;
    timer_del(&c->dma_timer);
}

/* The drives of the channel leave any DMA data phase (new command, reset). */
static void dma_cancel(IdeChannel *c)
{
    c->drive[0].dma_kind = c->drive[1].dma_kind = IDE_DMA_NONE;
    dma_timer_stop(c);
}

/* Enter a DMA data phase: DRQ up, data moves when the bus master runs. */
static void dma_request(IdeChannel *c, IdeDrive *d, uint8_t kind)
{
    d->dma_kind = kind;
    d->pio_kind = IDE_PIO_NONE;
    d->data_pos = 0;
    d->data_end = kind == IDE_DMA_PACKET_IN ? d->atapi_fill : 0; /* a reply already in buf */
    d->error = 0;
    d->status = ready_status(d) | ST_DRQ;
    if (kind == IDE_DMA_PACKET_IN) d->nsector = IR_IO;
    c->dma_unit = (uint8_t)(d - c->drive);
    c->dma_started = false;
    dma_schedule(c);
}

void ide_dma_engine(IdeChannel *c, bool started)
{
    if (started) dma_schedule(c);
    else dma_timer_stop(c); /* the drive keeps its request until it is served or reset */
}

/* After a chunk: go on, or note that the PRD table ended before the data. */
static void dma_continue(IdeChannel *c)
{
    if (ide_bm_active(c)) dma_schedule(c);
    else ide_bm_underrun(c);
}

/* `sectors` of an ATA DMA command have moved (all the chunk's if `whole`). */
static void dma_ata_advance(IdeChannel *c, IdeDrive *d, uint32_t sectors, bool whole)
{
    d->xfer_lba += sectors;
    d->xfer_remaining -= sectors;
    if (!d->xfer_remaining) {
        taskfile_set_lba(d, d->xfer_lba - 1);
        taskfile_set_count(d, 0);
        d->dma_kind = IDE_DMA_NONE;
        cmd_done(c, d);
    } else if (whole) {
        dma_continue(c);
    } else if (!ide_bm_active(c)) {
        ide_bm_underrun(c);
    }
}

static void dma_ata_read(IdeChannel *c, IdeDrive *d)
{
    uint32_t bytes = dma_chunk_bytes(d);
    if (blk_read(d->blk, d->xfer_lba * 512, d->buf, bytes) < 0) {
        d->dma_kind = IDE_DMA_NONE;
        taskfile_set_lba(d, d->xfer_lba);
        cmd_error(c, d, ER_UNC);
        return;
    }
    uint32_t moved = ide_bm_move(c, d->buf, bytes, true);
    dma_ata_advance(c, d, moved / 512, moved == bytes);
}

static void dma_ata_write(IdeChannel *c, IdeDrive *d)
{
    uint32_t bytes = dma_chunk_bytes(d);
    uint32_t moved = ide_bm_move(c, d->buf, bytes, false);
    uint32_t sectors = moved / 512; /* a partial sector is resent after a restart */
    if (sectors && blk_write(d->blk, d->xfer_lba * 512, d->buf, (size_t)sectors * 512) < 0) {
        d->dma_kind = IDE_DMA_NONE;
        taskfile_set_lba(d, d->xfer_lba);
        cmd_error(c, d, ER_ABRT);
        return;
    }
    dma_ata_advance(c, d, sectors, moved == bytes);
}

/* ATAPI data-in by DMA: a reply already in buf, or read data refilled block-wise. */
static void dma_packet_in(IdeChannel *c, IdeDrive *d)
{
    if (d->data_pos >= d->data_end) {
        uint32_t room = (uint32_t)(sizeof d->buf / ATAPI_BLOCK);
        uint32_t k = d->xfer_remaining < room ? d->xfer_remaining : room;
        if (!k || !d->blk ||
            blk_read(d->blk, d->xfer_lba * ATAPI_BLOCK, d->buf, (size_t)k * ATAPI_BLOCK) < 0) {
            d->dma_kind = IDE_DMA_NONE;
            atapi_check(c, d, SK_MEDIUM_ERROR, 0x11, 0x00); /* unrecovered read error */
            return;
        }
        d->xfer_lba += k;
        d->xfer_remaining -= k;
        d->atapi_fill = d->data_end = k * ATAPI_BLOCK;
        d->data_pos = 0;
    }
    uint32_t n = dma_chunk_bytes(d);
    uint32_t moved = ide_bm_move(c, d->buf + d->data_pos, n, true);
    d->data_pos += moved;
    d->atapi_left -= moved;
    if (!d->atapi_left) {
        d->dma_kind = IDE_DMA_NONE;
        atapi_ok(c, d);
    } else if (moved == n) {
        dma_continue(c);
    } else if (!ide_bm_active(c)) {
        ide_bm_underrun(c);
    }
}

static void dma_timer_cb(void *opaque)
{
    IdeChannel *c = opaque;
    c->dma_armed = false;
    IdeDrive *d = &c->drive[c->dma_unit];
    if (d->dma_kind == IDE_DMA_NONE || !ide_bm_active(c)) return;
    c->dma_started = true;
    if (d->dma_kind == IDE_DMA_READ) dma_ata_read(c, d);
    else if (d->dma_kind == IDE_DMA_WRITE) dma_ata_write(c, d);
    else dma_packet_in(c, d);
}

/* READ/WRITE DMA (EXT): validate, then wait for the bus master. */
static void cmd_dma(IdeChannel *c, IdeDrive *d, bool lba48, bool write)
{
    if (write && d->blk->read_only) {
        cmd_error(c, d, ER_ABRT);
        return;
    }
    if (xfer_setup(c, d, lba48, 256)) dma_request(c, d, write ? IDE_DMA_WRITE : IDE_DMA_READ);
}

/* ATA commands on a packet device. */
static void cmd_atapi(IdeChannel *c, IdeDrive *d, uint8_t cmd)
{
    switch (cmd) {
    case 0x08: /* DEVICE RESET: signature, abandon the packet; no interrupt */
        drive_signature(d);
        d->pio_kind = IDE_PIO_NONE;
        d->data_pos = d->data_end = 0;
        d->atapi_left = 0;
        d->error = 0x01;
        d->status = 0;
        return;
    case 0xa0: /* PACKET: ask for the command bytes (CoD, no interrupt) */
        d->packet_dma = d->feature & 0x01; /* the data phase goes through the bus master */
        d->byte_limit = (uint16_t)(d->hcyl << 8 | d->lcyl);
        d->pio_kind = IDE_PIO_OUT_PACKET;
        d->data_pos = 0;
        d->data_end = sizeof d->packet;
        d->nsector = IR_COD;
        d->error = 0;
        d->status = ST_DRDY | ST_DRQ;
        return;
    case 0xa1: /* IDENTIFY PACKET DEVICE */
        identify_packet_fill(d);
        pio_in_start(c, d, IDE_PIO_IN_BUFFER, 512);
        return;
    case 0xef: cmd_set_features(c, d); return;
    case 0xe5: case 0x98: /* CHECK POWER MODE: active or idle */
        cmd_done(c, d);
        d->nsector = 0xff;
        return;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: case 0xe7: /* power, flush */
        cmd_done(c, d);
        return;
    default:
        /* IDENTIFY DEVICE and the other ATA commands: ABRT, and the signature tells
         * the host to use IDENTIFY PACKET DEVICE */
        cmd_error(c, d, ER_ABRT);
        if (cmd == 0xec) drive_signature(d);
    }
}

static void ide_command(IdeChannel *c, IdeDrive *d, uint8_t cmd)
{
    d->command = cmd;
    if (d->atapi) {
        cmd_atapi(c, d, cmd);
        return;
    }
    switch (cmd) {
    case 0xec: /* IDENTIFY DEVICE */
        identify_fill(d);
        pio_in_start(c, d, IDE_PIO_IN_BUFFER, 512);
        break;
    case 0x20: case 0x21: cmd_read(c, d, false, 1); break;        /* READ SECTORS */
    case 0x24: cmd_read(c, d, true, 1); break;                    /* READ SECTORS EXT */
    case 0x30: case 0x31: cmd_write(c, d, false, 1); break;       /* WRITE SECTORS */
    case 0x34: cmd_write(c, d, true, 1); break;                   /* WRITE SECTORS EXT */
    case 0xc4: case 0x29: case 0xc5: case 0x39:                   /* READ/WRITE MULTIPLE */
        if (!d->mult_sectors) cmd_error(c, d, ER_ABRT);
        else if (cmd == 0xc4 || cmd == 0x29) cmd_read(c, d, cmd == 0x29, d->mult_sectors);
        else cmd_write(c, d, cmd == 0x39, d->mult_sectors);
        break;
    case 0xc8: case 0xc9: cmd_dma(c, d, false, false); break;     /* READ DMA */
    case 0x25: cmd_dma(c, d, true, false); break;                 /* READ DMA EXT */
    case 0xca: case 0xcb: cmd_dma(c, d, false, true); break;      /* WRITE DMA */
    case 0x35: cmd_dma(c, d, true, true); break;                  /* WRITE DMA EXT */
    case 0x40: case 0x41: cmd_verify(c, d, false); break;         /* READ VERIFY */
    case 0x42: cmd_verify(c, d, true); break;
    case 0xc6: /* SET MULTIPLE MODE: 0 disables, else a power of two up to the max */
        if (d->nsector > MAX_MULT || (d->nsector & (d->nsector - 1))) {
            cmd_error(c, d, ER_ABRT);
        } else {
            d->mult_sectors = d->nsector;
            cmd_done(c, d);
        }
        break;
    case 0x91: cmd_init_params(c, d); break;
    case 0xef: cmd_set_features(c, d); break;
    case 0xe7: case 0xea: /* FLUSH CACHE (EXT): writes are not cached here */
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: /* standby/idle/sleep */
    case 0x94: case 0x95: case 0x96: case 0x97: case 0x99: /* their ATA-1 opcodes */
        cmd_done(c, d);
        break;
    case 0xe5: case 0x98: /* CHECK POWER MODE: active or idle */
        cmd_done(c, d);
        d->nsector = 0xff;
        break;
    case 0xe4: /* READ BUFFER: the buffer as it stands */
        pio_in_start(c, d, IDE_PIO_IN_BUFFER, 512);
        break;
    case 0xe8: /* WRITE BUFFER */
        d->pio_kind = IDE_PIO_OUT_BUFFER;
        d->data_pos = 0;
        d->data_end = 512;
        d->error = 0;
        d->status = ST_READY | ST_DRQ;
        break;
    default:
        if ((cmd & 0xf0) == 0x10 || (cmd & 0xf0) == 0x70) { /* RECALIBRATE, SEEK */
            cmd_done(c, d);
            break;
        }
        /* PACKET and IDENTIFY PACKET DEVICE on a disk, queued DMA, unknown: abort
         * without the ATAPI signature */
        cmd_error(c, d, ER_ABRT);
    }
}

/* EXECUTE DEVICE DIAGNOSTIC addresses both devices; device 0 reports for the pair. */
static void cmd_diagnostic(IdeChannel *c)
{
    for (int u = 0; u < 2; u++) {
        IdeDrive *d = &c->drive[u];
        if (!drive_present(d)) continue;
        d->command = 0x90;
        drive_signature(d);
        d->pio_kind = IDE_PIO_NONE;
        d->data_pos = d->data_end = 0;
        d->error = 0x01; /* passed (device 1 passed or absent) */
        d->status = d->atapi ? 0 : ST_READY;
    }
    c->cur = 0;
    irq_raise_pending(c);
}

/* ---- data port ---- */

static uint32_t ones(unsigned size) { return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1; }

static uint32_t data_read(IdeChannel *c, unsigned size)
{
    IdeDrive *d = &c->drive[c->cur];
    if (!drive_present(d) || !(d->status & ST_DRQ) ||
        (d->pio_kind != IDE_PIO_IN_SECTORS && d->pio_kind != IDE_PIO_IN_BUFFER &&
         d->pio_kind != IDE_PIO_IN_PACKET))
        return ones(size);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t byte = d->data_pos < d->data_end ? d->buf[d->data_pos++] : 0xff;
        v |= (uint32_t)byte << (8 * i);
    }
    if (d->data_pos >= d->data_end) pio_in_done(c, d);
    return v;
}

static void data_write(IdeChannel *c, uint32_t value, unsigned size)
{
    IdeDrive *d = &c->drive[c->cur];
    if (!drive_present(d) || !(d->status & ST_DRQ) ||
        (d->pio_kind != IDE_PIO_OUT_SECTORS && d->pio_kind != IDE_PIO_OUT_BUFFER &&
         d->pio_kind != IDE_PIO_OUT_PACKET))
        return;
    for (unsigned i = 0; i < size && d->data_pos < d->data_end; i++)
        d->buf[d->data_pos++] = (uint8_t)(value >> (8 * i));
    if (d->data_pos >= d->data_end) pio_out_done(c, d);
}

/* ---- task-file registers ---- */

static uint8_t status_read(IdeChannel *c)
{
    if (channel_empty(c)) return 0xff; /* floating bus */
    const IdeDrive *d = &c->drive[c->cur];
    if (!drive_present(d)) return 0; /* device 0 answers 00h for an absent device 1 */
    return d->status;
}

static uint8_t reg_read(IdeChannel *c, uint32_t reg)
{
    if (channel_empty(c)) return 0xff;
    IdeDrive *d = &c->drive[c->cur];
    if (!drive_present(d)) {
        /* nothing answers for an absent device 1; reading 00h everywhere (rather than
         * device 0's copies) makes firmware's 55h/AAh register probe fail quickly */
        if (reg == 7) {
            c->irq_pending = false;
            irq_update(c);
        }
        return 0;
    }
    bool hob = c->devctl & DC_HOB;
    switch (reg) {
    case 1: return d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    case 6: return d->select;
    default: /* 7: status; reading it acknowledges the interrupt */
        c->irq_pending = false;
        irq_update(c);
        return d->status;
    }
}

static void reg_write(IdeChannel *c, uint32_t reg, uint8_t v)
{
    c->devctl &= (uint8_t)~DC_HOB;
    if (reg == 7) {
        if (channel_empty(c) || (c->devctl & DC_SRST)) return;
        c->irq_pending = false;
        irq_update(c);
        if (v == 0x90) {
            dma_cancel(c);
            cmd_diagnostic(c);
            return;
        }
        IdeDrive *d = &c->drive[c->cur];
        if (!drive_present(d)) return; /* an absent device ignores it */
        dma_cancel(c); /* a new command ends a DMA data phase left unfinished */
        ide_command(c, d, v);
        return;
    }
    /* the task file is written into both devices; the previous byte becomes HOB */
    for (int u = 0; u < 2; u++) {
        IdeDrive *d = &c->drive[u];
        switch (reg) {
        case 1: d->hob_feature = d->feature; d->feature = v; break;
        case 2: d->hob_nsector = d->nsector; d->nsector = v; break;
        case 3: d->hob_sector = d->sector; d->sector = v; break;
        case 4: d->hob_lcyl = d->lcyl; d->lcyl = v; break;
        case 5: d->hob_hcyl = d->hcyl; d->hcyl = v; break;
        case 6: d->select = v; break;
        }
    }
    if (reg == 6) {
        c->cur = (v & DH_DEV) ? 1 : 0;
    }
}

static uint32_t cmd_block_read(void *opaque, uint32_t off, unsigned size)
{
    IdeChannel *c = opaque;
    if (off == 0) return channel_empty(c) ? ones(size) : data_read(c, size);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= (uint32_t)reg_read(c, (off + i) & 7) << (8 * i);
    return v;
}

static void cmd_block_write(void *opaque, uint32_t off, uint32_t value, unsigned size)
{
    IdeChannel *c = opaque;
    if (off == 0) {
        if (!channel_empty(c)) data_write(c, value, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) reg_write(c, (off + i) & 7, (uint8_t)(value >> (8 * i)));
}

/* ---- control block: alternate status / device control ---- */

static uint32_t ctl_block_read(void *opaque, uint32_t off, unsigned size)
{
    IdeChannel *c = opaque;
    return status_read(c); /* no interrupt acknowledge */
}

static void ctl_block_write(void *opaque, uint32_t off, uint32_t value, unsigned size)
{
    IdeChannel *c = opaque;
    uint8_t old = c->devctl, v = (uint8_t)value;
    c->devctl = v;
    if ((v & DC_SRST) && !(old & DC_SRST)) {
        dma_cancel(c);
        for (int u = 0; u < 2; u++) {
            IdeDrive *d = &c->drive[u];
            d->pio_kind = IDE_PIO_NONE;
            d->data_pos = d->data_end = 0;
            if (drive_present(d)) d->status = ST_BSY;
        }
        c->irq_pending = false;
    } else if (!(v & DC_SRST) && (old & DC_SRST)) {
        for (int u = 0; u < 2; u++) {
            IdeDrive *d = &c->drive[u];
            if (!drive_present(d)) continue;
            drive_signature(d);
            d->error = 0x01;
            d->status = d->atapi ? 0 : ST_READY;
        }
        c->cur = 0;
    }
    irq_update(c);
}

/* ---- PCI ---- */

static void ide_bar_map(PciDevice *p, int bar, uint32_t addr)
{
    if (bar == 4) ide_bm_map(p->opaque, addr);
}

/* ---- reset, snapshots, setup ---- */

/* Power-on / hardware reset state of one drive's registers. */
static void drive_reset_regs(IdeDrive *d)
{
    d->feature = d->hob_feature = d->hob_nsector = d->hob_sector = 0;
    d->hob_lcyl = d->hob_hcyl = 0;
    d->command = 0;
    d->mult_sectors = MAX_MULT;
    d->pio_kind = IDE_PIO_NONE;
    d->data_pos = d->data_end = 0;
    d->xfer_lba = 0;
    d->xfer_remaining = 0;
    d->xfer_block = 0;
    d->lba48 = false;
    d->cur_cylinders = d->cylinders;
    d->cur_heads = d->heads;
    d->cur_sectors = d->sectors;
    drive_signature(d);
    d->error = drive_present(d) ? 0x01 : 0;
    d->status = d->blk && !d->atapi ? ST_READY : 0;
    d->byte_limit = 0;
    d->atapi_fill = 0;
    d->atapi_left = 0;
    d->sense_key = d->asc = d->ascq = 0;
    d->locked = false;
    /* a drive with a disc comes up reporting that the medium may have changed */
    d->unit_attention = d->media_event = d->atapi && d->blk;
    d->dma_kind = IDE_DMA_NONE;
    d->packet_dma = false;
    d->dma_mode = 0;
}

void ide_reset(void *opaque)
{
    Ide *s = opaque;
    for (int i = 0; i < 2; i++) {
        IdeChannel *c = &s->ch[i];
        c->cur = 0;
        c->devctl = 0;
        c->irq_pending = false;
        irq_update(c);
        for (int u = 0; u < 2; u++) drive_reset_regs(&c->drive[u]);
        dma_cancel(c);
        c->dma_unit = 0;
        c->dma_started = false;
        c->dma_deadline = 0;
        c->prd_next = c->prd_addr = c->prd_left = 0;
        c->prd_last = false;
    }
    memset(s->bm, 0, sizeof s->bm);
    memset(&s->pci.config[0x40], 0, 8); /* IDETIM, SIDETIM: decode bits off */
    pci_device_reset(&s->pci);
}

static int ide_post_load(void *opaque)
{
    Ide *s = opaque;
    for (int i = 0; i < 2; i++) {
        IdeChannel *c = &s->ch[i];
        c->irq_level = c->irq_pending && !(c->devctl & DC_NIEN);
        irq_set(&c->irq, c->irq_level);
        for (int u = 0; u < 2; u++) {
            IdeDrive *d = &c->drive[u];
            /* never trust a loaded transfer window beyond the buffer */
            if (d->data_end > sizeof d->buf) d->data_end = 0;
            if (d->data_pos > d->data_end) d->data_pos = d->data_end;
            if (d->atapi_fill > sizeof d->buf || d->data_end > d->atapi_fill)
                d->atapi_fill = d->data_end;
            if (d->xfer_block > 256) d->xfer_block = 1;
            if (d->dma_kind > IDE_DMA_PACKET_IN || (d->dma_kind && !drive_present(d)))
                d->dma_kind = IDE_DMA_NONE;
        }
        if (c->dma_unit > 1) c->dma_unit = 0;
        /* the queue does not hold the loaded timer: re-arm it from the saved deadline */
        timer_del(&c->dma_timer);
        if (c->dma_armed) timer_mod(&c->dma_timer, c->dma_deadline);
    }
    s->bm_base = PCI_BAR_UNMAPPED;
    pci_device_post_load(&s->pci);
    return 0;
}

#define DRIVE_STATE(C, U)                                                                   \
    STATE_U8(Ide, ch[C].drive[U].feature), STATE_U8(Ide, ch[C].drive[U].error),             \
    STATE_U8(Ide, ch[C].drive[U].nsector), STATE_U8(Ide, ch[C].drive[U].sector),            \
    STATE_U8(Ide, ch[C].drive[U].lcyl), STATE_U8(Ide, ch[C].drive[U].hcyl),                 \
    STATE_U8(Ide, ch[C].drive[U].select), STATE_U8(Ide, ch[C].drive[U].status),             \
    STATE_U8(Ide, ch[C].drive[U].hob_feature), STATE_U8(Ide, ch[C].drive[U].hob_nsector),   \
    STATE_U8(Ide, ch[C].drive[U].hob_sector), STATE_U8(Ide, ch[C].drive[U].hob_lcyl),       \
    STATE_U8(Ide, ch[C].drive[U].hob_hcyl), STATE_U8(Ide, ch[C].drive[U].command),          \
    STATE_U16(Ide, ch[C].drive[U].mult_sectors),                                            \
    STATE_BYTES(Ide, ch[C].drive[U].buf, 512 * 256),                                        \
    STATE_U32(Ide, ch[C].drive[U].data_pos), STATE_U32(Ide, ch[C].drive[U].data_end),       \
    STATE_U64(Ide, ch[C].drive[U].xfer_lba), STATE_U32(Ide, ch[C].drive[U].xfer_remaining), \
    STATE_BOOL(Ide, ch[C].drive[U].lba48), STATE_U8(Ide, ch[C].drive[U].pio_kind),          \
    STATE_U16(Ide, ch[C].drive[U].xfer_block),                                              \
    STATE_U32(Ide, ch[C].drive[U].cur_cylinders), STATE_U32(Ide, ch[C].drive[U].cur_heads), \
    STATE_U32(Ide, ch[C].drive[U].cur_sectors),                                           \
    STATE_U8_ARRAY(Ide, ch[C].drive[U].packet, 12), STATE_U16(Ide, ch[C].drive[U].byte_limit), \
    STATE_U32(Ide, ch[C].drive[U].atapi_fill), STATE_U64(Ide, ch[C].drive[U].atapi_left),   \
    STATE_U8(Ide, ch[C].drive[U].sense_key), STATE_U8(Ide, ch[C].drive[U].asc),             \
    STATE_U8(Ide, ch[C].drive[U].ascq), STATE_BOOL(Ide, ch[C].drive[U].unit_attention),     \
    STATE_BOOL(Ide, ch[C].drive[U].locked), STATE_BOOL(Ide, ch[C].drive[U].media_event),   \
    STATE_U8(Ide, ch[C].drive[U].dma_kind), STATE_BOOL(Ide, ch[C].drive[U].packet_dma),     \
    STATE_U8(Ide, ch[C].drive[U].dma_mode)

#define CHANNEL_STATE(C)                                                                    \
    STATE_U8(Ide, ch[C].cur), STATE_U8(Ide, ch[C].devctl), STATE_BOOL(Ide, ch[C].irq_pending), \
    STATE_U8(Ide, ch[C].dma_unit), STATE_BOOL(Ide, ch[C].dma_started),                      \
    STATE_BOOL(Ide, ch[C].dma_armed), STATE_U64(Ide, ch[C].dma_deadline),                   \
    STATE_U32(Ide, ch[C].prd_next), STATE_U32(Ide, ch[C].prd_addr),                         \
    STATE_U32(Ide, ch[C].prd_left), STATE_BOOL(Ide, ch[C].prd_last),                        \
    DRIVE_STATE(C, 0), DRIVE_STATE(C, 1)

static const StateField ide_fields[] = {
    CHANNEL_STATE(0), CHANNEL_STATE(1),
    STATE_U8_ARRAY(Ide, bm, 16),
    STATE_PCI_DEVICE(Ide, pci),
    STATE_END,
};
static const StateDesc ide_state = {"ide", 1, ide_fields};

/* The primary command block carries reset and state for the whole controller; its
 * opaque pointer is &ch[0], which is the Ide itself. */
static const DeviceOps ide_primary_ops = {
    .name = "ide", .reset = ide_reset, .read = cmd_block_read, .write = cmd_block_write,
    .min_access = 1, .max_access = 4, .state = &ide_state, .post_load = ide_post_load,
};
static const DeviceOps ide_secondary_ops = {
    .name = "ide", .read = cmd_block_read, .write = cmd_block_write,
    .min_access = 1, .max_access = 4,
};
static const DeviceOps ide_ctl_ops = {
    .name = "ide-ctl", .read = ctl_block_read, .write = ctl_block_write,
    .min_access = 1, .max_access = 1,
};

void ide_init(Ide *s, Bus *bus, PciBus *pci, PhysMem *mem, Clock *clock, IrqLine irq14,
              IrqLine irq15)
{
    memset(s, 0, sizeof(*s));
    s->bus = bus;
    s->mem = mem;
    s->clock = clock;
    s->bm_base = PCI_BAR_UNMAPPED;
    s->ch[0].irq = irq14;
    s->ch[1].irq = irq15;
    for (int i = 0; i < 2; i++) {
        s->ch[i].ide = s;
        s->ch[i].index = (uint8_t)i;
        timer_init(&s->ch[i].dma_timer, clock, dma_timer_cb, &s->ch[i]);
    }
    bus_map_io(bus, 0x1f0, 8, &ide_primary_ops, &s->ch[0]);
    bus_map_io(bus, 0x3f6, 1, &ide_ctl_ops, &s->ch[0]);
    bus_map_io(bus, 0x170, 8, &ide_secondary_ops, &s->ch[1]);
    bus_map_io(bus, 0x376, 1, &ide_ctl_ops, &s->ch[1]);

    /* mass storage / IDE, prog-if 80h: both channels in fixed legacy mode, bus master */
    pci_device_init(&s->pci, 0x8086, 0x7010, 0x010180);
    pci_set_bar(&s->pci, 4, 16, PCI_BAR_IO);
    /* IDETIM primary/secondary and SIDETIM: firmware sets the decode enable bits and
     * Linux's ata_piix reads them back to see which channels are on */
    for (unsigned a = 0x40; a < 0x45; a++) s->pci.wmask[a] = 0xff;
    s->pci.opaque = s;
    s->pci.bar_map = ide_bar_map;
    if (pci) pci_register(pci, &s->pci, PCI_DEVFN(1, 1));
    ide_reset(s);
}

int ide_check_image(const BlockDev *blk, bool cdrom, char *err, size_t errlen)
{
    if (blk && cdrom && blk->size % ATAPI_BLOCK) {
        if (err && errlen)
            snprintf(err, errlen, "%s: a CD image must be a multiple of %d bytes (%llu bytes)",
                     blk->path ? blk->path : "cdrom", ATAPI_BLOCK, (unsigned long long)blk->size);
        return -1;
    }
    return 0;
}

int ide_attach(Ide *s, int channel, int unit, BlockDev *blk, bool cdrom)
{
    if (channel < 0 || channel > 1 || unit < 0 || unit > 1) return -1;
    if (ide_check_image(blk, cdrom, NULL, 0) < 0) return -1;
    IdeDrive *d = &s->ch[channel].drive[unit];
    d->blk = blk;
    d->atapi = cdrom;
    d->nsectors = blk ? blk->size / 512 : 0;
    /* the usual 16 heads x 63 sectors geometry; big disks report 16383 cylinders */
    d->heads = 16;
    d->sectors = 63;
    uint64_t cyl = d->nsectors / (16 * 63);
    d->cylinders = cyl > IDE_MAX_CHS_CYL ? IDE_MAX_CHS_CYL : cyl < 1 ? 1 : (uint32_t)cyl;
    snprintf(d->serial, sizeof d->serial, "DBT86%015d", channel * 2 + unit + 1);
    snprintf(d->model, sizeof d->model, "%s", cdrom ? "DBT86 DVD-ROM" : "DBT86 HARDDISK");
    drive_reset_regs(d);
    return 0;
}
