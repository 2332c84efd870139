/*
 * fdc.c — the 82077AA floppy controller in PC-AT mode: the DOR/MSR/DSR/FIFO/DIR/CCR
 * registers, the command/execution/result phases of its command set, data moved by
 * DMA channel 2 or byte by byte through the FIFO (non-DMA mode), and the status bytes
 * ST0-ST3 as the data sheet defines them. The head "moves" instantly: READ and WRITE
 * take the cylinder from their C byte (an implied seek), as QEMU does.
 */
#include "devices/fdc.h"

#include <stdio.h>
#include <string.h>

/* MSR bits */
#define MSR_RQM 0x80
#define MSR_DIO 0x40
#define MSR_NDMA 0x20
#define MSR_CB 0x10
/* ST0 interrupt codes and flags */
#define ST0_ABNORMAL 0x40
#define ST0_INVALID 0x80
#define ST0_POLL 0xc0
#define ST0_SE 0x20
#define ST0_EC 0x10
#define ST0_NR 0x08
/* ST1 */
#define ST1_EN 0x80
#define ST1_OR 0x10
#define ST1_ND 0x04
#define ST1_NW 0x02
#define ST1_MA 0x01
/* ST3 */
#define ST3_WP 0x40
#define ST3_RDY 0x20
#define ST3_T0 0x10
#define ST3_TS 0x08

#define DOR_RESET 0x04 /* 0: the controller is held in reset */
#define DOR_DMA 0x08   /* IRQ and DRQ gate */

static void fdc_update_irq(Fdc *f)
{
    irq_set(&f->irq, f->irq_pending && (f->dor & DOR_DMA));
}

static void fdc_raise(Fdc *f)
{
    f->irq_pending = true;
    fdc_update_irq(f);
}

static void fdc_lower(Fdc *f)
{
    f->irq_pending = false;
    fdc_update_irq(f);
}

static void fdc_to_command(Fdc *f)
{
    f->phase = FDC_PHASE_COMMAND;
    f->cmd_pos = 0;
    f->cmd_len = 0;
    f->res_pos = f->res_len = 0;
}

static void fdc_result(Fdc *f, const uint8_t *r, int n, bool irq)
{
    memcpy(f->res, r, n);
    f->res_len = (uint8_t)n;
    f->res_pos = 0;
    f->phase = FDC_PHASE_RESULT;
    if (irq) fdc_raise(f);
}

/* The seven-byte result of the data commands. */
static void fdc_result7(Fdc *f, uint8_t st0, uint8_t st1, uint8_t st2, uint8_t c, uint8_t h,
                        uint8_t r, uint8_t n)
{
    uint8_t res[7] = {st0, st1, st2, c, h, r, n};
    fdc_result(f, res, 7, true);
}

/* Internal state back to idle; `soft` keeps the LOCKed configuration. */
static void fdc_soft_reset(Fdc *f)
{
    fdc_to_command(f);
    fdc_lower(f);
    f->seek_pending = 0;
    f->reset_sense = 0;
    f->perp &= 0x3c; /* GAP and WGATE clear, the per-drive bits stay */
    if (!f->lock) {
        f->config = 0x20; /* implied seek off, FIFO disabled, polling on, threshold 1 */
        f->pretrk = 0;
    }
}

/* Leaving reset: with polling enabled the controller reports a status change of each
 * of the four drives (ST0 0xC0..0xC3) behind one interrupt. */
static void fdc_reset_done(Fdc *f)
{
    if (!(f->config & 0x10)) {
        f->reset_sense = 4;
        fdc_raise(f);
    }
}

static void fdc_reset(void *opaque)
{
    Fdc *f = opaque;
    f->lock = false;
    f->dor = DOR_RESET | DOR_DMA; /* as firmware finds a PC's controller: running */
    f->tdr = 0;
    f->rate = 0;                  /* 500 kbit/s */
    f->precomp = 0;
    f->srt_hut = f->hlt_nd = 0;
    f->perp = 0;
    f->eot = 0;
    fdc_soft_reset(f);
    for (int i = 0; i < 2; i++) {
        f->drive[i].cyl = 0;
        f->drive[i].head = 0;
        f->drive[i].sect = 1;
        f->drive[i].media_changed = f->drive[i].blk != NULL;
    }
}

static FdcDrive *fdc_drive(Fdc *f, int ds)
{
    return ds < 2 && f->drive[ds].present ? &f->drive[ds] : NULL;
}

/* Can the drive transfer data now? Returns 0, or the ST1 error bits (with *st0 the
 * ST0 extra bits) when there is no disk, the motor is off or the rate is wrong. */
static uint8_t fdc_check_media(Fdc *f, int ds, uint8_t *st0)
{
    FdcDrive *d = fdc_drive(f, ds);
    *st0 = 0;
    if (!d || !d->blk || !(f->dor & (0x10 << ds))) {
        *st0 = ST0_NR;
        return ST1_MA;
    }
    if (f->rate != d->rate) return ST1_MA; /* no address mark readable at this rate */
    return 0;
}

/* The image offset of sector (c, h, r), or -1 when there is no such sector. */
static int64_t fdc_offset(const FdcDrive *d, uint8_t c, uint8_t h, uint8_t r)
{
    if (c >= d->tracks || h >= d->heads || r == 0 || r > d->spt) return -1;
    return ((int64_t)(c * d->heads + h) * d->spt + (r - 1)) * FDC_SECTOR;
}

/* Steps (cyl, head, sect) to the sector after the one just done. Returns false when
 * the end of the track (or of the cylinder with MT) was passed. */
static bool fdc_advance(Fdc *f)
{
    if (f->xfer_sect != f->xfer_eot) {
        f->xfer_sect++;
        return true;
    }
    f->xfer_sect = 1;
    if (f->xfer_mt && f->xfer_head == 0) {
        f->xfer_head = 1;
        return true;
    }
    if (f->xfer_mt) f->xfer_head = 0;
    f->xfer_cyl++;
    return false;
}

static void fdc_xfer_end(Fdc *f, uint8_t st0x, uint8_t st1, uint8_t st2)
{
    FdcDrive *d = fdc_drive(f, f->xfer_drive);
    if (d) {
        d->head = f->xfer_head;
        d->sect = f->xfer_sect;
    }
    uint8_t st0 = st0x | (uint8_t)(f->xfer_head << 2) | f->xfer_drive;
    fdc_result7(f, st0, st1, st2, f->xfer_cyl, f->xfer_head, f->xfer_sect, 2);
}

/* One sector between buf and the image. Returns 0 or ST1 error bits. */
static uint8_t fdc_sector_io(Fdc *f, bool write)
{
    FdcDrive *d = &f->drive[f->xfer_drive];
    int64_t off = fdc_offset(d, f->xfer_cyl, f->xfer_head, f->xfer_sect);
    if (off < 0 || !d->blk) return ST1_ND;
    int r = write ? blk_write(d->blk, (uint64_t)off, f->buf, FDC_SECTOR)
                  : blk_read(d->blk, (uint64_t)off, f->buf, FDC_SECTOR);
    return r < 0 ? ST1_ND : 0; /* an unreadable host sector looks like a missing one */
}

/* READ DATA / WRITE DATA over DMA: sector by sector until TC or the end of track. */
static void fdc_rw_dma(Fdc *f, bool write)
{
    for (;;) {
        uint8_t st1 = 0;
        if (!write) st1 = fdc_sector_io(f, false);
        if (st1) {
            fdc_xfer_end(f, ST0_ABNORMAL, st1, 0);
            return;
        }
        int n = (f->dor & DOR_DMA) ? dma_transfer(f->dma, f->dma_ch, f->buf, FDC_SECTOR, !write)
                                   : 0;
        bool tc = n > 0 && dma_terminal_count(f->dma, f->dma_ch);
        if (n < FDC_SECTOR && !tc) { /* DMA never answered: overrun/underrun */
            fdc_xfer_end(f, ST0_ABNORMAL, ST1_OR, 0);
            return;
        }
        if (write) {
            if (n < FDC_SECTOR) memset(f->buf + n, 0, FDC_SECTOR - n);
            st1 = fdc_sector_io(f, true);
            if (st1) {
                fdc_xfer_end(f, ST0_ABNORMAL, st1, 0);
                return;
            }
        }
        bool more = fdc_advance(f);
        if (tc) {
            fdc_xfer_end(f, 0, 0, 0);
            return;
        }
        if (!more) {
            fdc_xfer_end(f, ST0_ABNORMAL, ST1_EN, 0);
            return;
        }
    }
}

/* Non-DMA: loads the next sector for the host to read, or ends the command. */
static void fdc_pio_start_sector(Fdc *f)
{
    f->buf_pos = 0;
    f->buf_len = FDC_SECTOR;
    if (f->xfer_kind == FDC_XFER_READ) {
        uint8_t st1 = fdc_sector_io(f, false);
        if (st1) fdc_xfer_end(f, ST0_ABNORMAL, st1, 0);
    } else if (fdc_offset(&f->drive[f->xfer_drive], f->xfer_cyl, f->xfer_head,
                          f->xfer_sect) < 0) {
        fdc_xfer_end(f, ST0_ABNORMAL, ST1_ND, 0);
    }
}

/* Non-DMA: the host read or wrote a whole sector. */
static void fdc_pio_sector_done(Fdc *f)
{
    if (f->xfer_kind == FDC_XFER_WRITE) {
        uint8_t st1 = fdc_sector_io(f, true);
        if (st1) {
            fdc_xfer_end(f, ST0_ABNORMAL, st1, 0);
            return;
        }
    }
    /* with no TC from a DMA controller the command runs to the end of the track */
    if (!fdc_advance(f)) {
        fdc_xfer_end(f, ST0_ABNORMAL, ST1_EN, 0);
        return;
    }
    fdc_pio_start_sector(f);
}

static void fdc_cmd_rw(Fdc *f, bool write)
{
    const uint8_t *c = f->cmd;
    int ds = c[1] & 3, hd = (c[1] >> 2) & 1;
    f->xfer_drive = (uint8_t)ds;
    f->xfer_cyl = c[2];
    f->xfer_head = (uint8_t)hd;
    f->xfer_sect = c[4];
    f->xfer_eot = c[6];
    f->xfer_mt = c[0] & 0x80;
    f->eot = c[6];
    uint8_t st0x, st1 = fdc_check_media(f, ds, &st0x);
    if (st1) {
        fdc_result7(f, ST0_ABNORMAL | st0x | (hd << 2) | ds, st1, 0, c[2], c[3], c[4], c[5]);
        return;
    }
    FdcDrive *d = &f->drive[ds];
    if (write && d->blk->read_only) {
        fdc_result7(f, ST0_ABNORMAL | (hd << 2) | ds, ST1_NW, 0, c[2], c[3], c[4], c[5]);
        return;
    }
    /* only 512-byte sectors exist on these media; the ID's head must match the head */
    if (c[5] != 2 || c[3] != hd || fdc_offset(d, c[2], c[3], c[4]) < 0) {
        fdc_result7(f, ST0_ABNORMAL | (hd << 2) | ds, ST1_ND, 0, c[2], c[3], c[4], c[5]);
        return;
    }
    d->cyl = c[2]; /* implied seek */
    f->xfer_kind = write ? FDC_XFER_WRITE : FDC_XFER_READ;
    if (!(f->hlt_nd & 1)) {
        fdc_rw_dma(f, write);
        return;
    }
    f->phase = FDC_PHASE_EXEC;
    fdc_pio_start_sector(f);
}

/* FORMAT TRACK: for each sector the host supplies C, H, R, N; the sector is filled. */
static void fdc_format_id(Fdc *f, const uint8_t *id)
{
    FdcDrive *d = &f->drive[f->xfer_drive];
    f->xfer_cyl = id[0];
    f->xfer_sect = id[2];
    int64_t off = fdc_offset(d, d->cyl, f->xfer_head, id[2]);
    if (off >= 0 && d->blk) {
        uint8_t fill[FDC_SECTOR];
        memset(fill, f->fmt_fill, sizeof(fill));
        blk_write(d->blk, (uint64_t)off, fill, FDC_SECTOR);
    }
    f->fmt_left--;
}

static void fdc_cmd_format(Fdc *f)
{
    const uint8_t *c = f->cmd;
    int ds = c[1] & 3, hd = (c[1] >> 2) & 1;
    f->xfer_drive = (uint8_t)ds;
    f->xfer_head = (uint8_t)hd;
    f->xfer_kind = FDC_XFER_FORMAT;
    f->fmt_left = c[3];
    f->fmt_fill = c[5];
    uint8_t st0x, st1 = fdc_check_media(f, ds, &st0x);
    if (st1) {
        fdc_result7(f, ST0_ABNORMAL | st0x | (hd << 2) | ds, st1, 0, 0, hd, 0, c[2]);
        return;
    }
    FdcDrive *d = &f->drive[ds];
    f->xfer_cyl = d->cyl;
    f->xfer_sect = 1;
    if (d->blk->read_only) {
        fdc_result7(f, ST0_ABNORMAL | (hd << 2) | ds, ST1_NW, 0, d->cyl, hd, 1, c[2]);
        return;
    }
    if (f->hlt_nd & 1) {
        f->phase = FDC_PHASE_EXEC;
        f->buf_pos = 0;
        f->buf_len = 4;
        if (!f->fmt_left) fdc_xfer_end(f, 0, 0, 0);
        return;
    }
    while (f->fmt_left) {
        uint8_t id[4];
        int n = (f->dor & DOR_DMA) ? dma_transfer(f->dma, f->dma_ch, id, 4, false) : 0;
        if (n < 4) {
            fdc_xfer_end(f, ST0_ABNORMAL, ST1_OR, 0);
            return;
        }
        fdc_format_id(f, id);
        if (dma_terminal_count(f->dma, f->dma_ch)) break;
    }
    fdc_xfer_end(f, 0, 0, 0);
}

static void fdc_seek_done(Fdc *f, int ds, uint8_t st0)
{
    f->reset_sense = 0; /* a new status supersedes the reset's polling reports */
    f->seek_st0[ds] = st0;
    f->seek_pending |= 1 << ds;
    FdcDrive *d = fdc_drive(f, ds);
    if (d && d->blk) d->media_changed = false; /* a step pulse clears the change line */
    fdc_to_command(f);
    fdc_raise(f);
}

static void fdc_execute(Fdc *f)
{
    const uint8_t *c = f->cmd;
    int ds = c[1] & 3, hd = (c[1] >> 2) & 1;
    FdcDrive *d;
    switch (c[0] & 0x1f) {
    case 0x03: /* SPECIFY */
        f->srt_hut = c[1];
        f->hlt_nd = c[2];
        fdc_to_command(f);
        break;
    case 0x04: { /* SENSE DRIVE STATUS */
        d = fdc_drive(f, ds);
        uint8_t st3 = (uint8_t)((hd << 2) | ds);
        if (d) {
            st3 |= ST3_RDY | ST3_TS | (d->cyl == 0 ? ST3_T0 : 0);
            if (!d->blk || d->blk->read_only) st3 |= ST3_WP;
        }
        fdc_result(f, &st3, 1, false);
        break;
    }
    case 0x05: fdc_cmd_rw(f, true); break;
    case 0x06: fdc_cmd_rw(f, false); break;
    case 0x07: /* RECALIBRATE */
        d = fdc_drive(f, ds);
        if (d) {
            d->cyl = 0;
            fdc_seek_done(f, ds, (uint8_t)(ST0_SE | ds));
        } else { /* no track 0 signal after 79 steps */
            fdc_seek_done(f, ds, (uint8_t)(ST0_ABNORMAL | ST0_SE | ST0_EC | ds));
        }
        break;
    case 0x08: { /* SENSE INTERRUPT STATUS */
        uint8_t r[2];
        if (f->reset_sense) {
            int n = 4 - f->reset_sense--;
            r[0] = (uint8_t)(ST0_POLL | n);
            r[1] = n < 2 ? f->drive[n].cyl : 0;
        } else if (f->seek_pending) {
            int n = __builtin_ctz(f->seek_pending);
            f->seek_pending &= ~(1 << n);
            r[0] = f->seek_st0[n];
            r[1] = n < 2 ? f->drive[n].cyl : 0;
        } else {
            r[0] = ST0_INVALID;
            fdc_lower(f);
            fdc_result(f, r, 1, false);
            break;
        }
        fdc_lower(f);
        fdc_result(f, r, 2, false);
        break;
    }
    case 0x0a: { /* READ ID */
        uint8_t st0x, st1 = fdc_check_media(f, ds, &st0x);
        d = fdc_drive(f, ds);
        if (!st1 && d->cyl >= d->tracks) st1 = ST1_MA; /* no formatted track there */
        if (st1) {
            fdc_result7(f, ST0_ABNORMAL | st0x | (hd << 2) | ds, st1, 0, 0, 0, 0, 0);
            break;
        }
        d->sect = (uint8_t)(d->sect % d->spt + 1); /* the next ID under the head */
        d->head = (uint8_t)hd;
        fdc_result7(f, (uint8_t)((hd << 2) | ds), 0, 0, d->cyl, (uint8_t)hd, d->sect, 2);
        break;
    }
    case 0x0d: fdc_cmd_format(f); break;
    case 0x0e: { /* DUMPREG */
        uint8_t r[10] = {f->drive[0].cyl, f->drive[1].cyl, 0, 0, f->srt_hut, f->hlt_nd,
                         f->eot, (uint8_t)((f->lock ? 0x80 : 0) | (f->perp & 0x3f)),
                         f->config, f->pretrk};
        fdc_result(f, r, 10, false);
        break;
    }
    case 0x0f: { /* SEEK, RELATIVE SEEK */
        d = fdc_drive(f, ds);
        if (d) {
            int target = c[2];
            if (c[0] & 0x80) target = (c[0] & 0x40) ? d->cyl + c[2] : d->cyl - c[2];
            if (target < 0) target = 0;
            if (target > 255) target = 255;
            d->cyl = (uint8_t)target;
        }
        fdc_seek_done(f, ds, (uint8_t)(ST0_SE | (hd << 2) | ds));
        break;
    }
    case 0x10: { /* VERSION */
        uint8_t v = 0x90;
        fdc_result(f, &v, 1, false);
        break;
    }
    case 0x12: /* PERPENDICULAR MODE */
        if (c[1] & 0x80) f->perp = c[1] & 0x3f;
        else f->perp = (uint8_t)((f->perp & 0x3c) | (c[1] & 3));
        fdc_to_command(f);
        break;
    case 0x13: /* CONFIGURE */
        f->config = c[2] & 0x7f;
        f->pretrk = c[3];
        fdc_to_command(f);
        break;
    case 0x14: { /* LOCK / UNLOCK */
        f->lock = c[0] & 0x80;
        uint8_t v = f->lock ? 0x10 : 0;
        fdc_result(f, &v, 1, false);
        break;
    }
    }
}

/* Command length from the first byte; 0 for an invalid opcode. */
static int fdc_cmd_length(uint8_t op)
{
    switch (op & 0x1f) {
    case 0x05: case 0x06: return 9;       /* MT, MFM, SK allowed */
    case 0x0a: return (op & 0xbf) == 0x0a ? 2 : 0;
    case 0x0d: return (op & 0xbf) == 0x0d ? 6 : 0;
    case 0x0f: return (op & 0x3f) == 0x0f ? 3 : 0;
    case 0x14: return (op & 0x7f) == 0x14 ? 1 : 0;
    }
    switch (op) {
    case 0x03: return 3;
    case 0x04: return 2;
    case 0x07: return 2;
    case 0x08: return 1;
    case 0x0e: return 1;
    case 0x10: return 1;
    case 0x12: return 2;
    case 0x13: return 4;
    }
    return 0;
}

static void fifo_write(Fdc *f, uint8_t v)
{
    switch (f->phase) {
    case FDC_PHASE_COMMAND:
        if (f->cmd_pos == 0) {
            int len = fdc_cmd_length(v);
            if (!len) {
                uint8_t r = ST0_INVALID;
                fdc_result(f, &r, 1, false);
                return;
            }
            f->cmd_len = (uint8_t)len;
        }
        f->cmd[f->cmd_pos++] = v;
        if (f->cmd_pos >= f->cmd_len) fdc_execute(f);
        break;
    case FDC_PHASE_EXEC:
        if (f->xfer_kind == FDC_XFER_READ) break;
        if (f->buf_pos < f->buf_len) f->buf[f->buf_pos++] = v;
        if (f->buf_pos < f->buf_len) break;
        if (f->xfer_kind == FDC_XFER_FORMAT) {
            fdc_format_id(f, f->buf);
            f->buf_pos = 0;
            if (!f->fmt_left) fdc_xfer_end(f, 0, 0, 0);
        } else {
            fdc_pio_sector_done(f);
        }
        break;
    default: /* result phase: the host should be reading */
        break;
    }
}

static uint8_t fifo_read(Fdc *f)
{
    if (f->phase == FDC_PHASE_RESULT) {
        if (f->res_pos == 0) fdc_lower(f); /* reading the result clears the interrupt */
        uint8_t v = f->res[f->res_pos++];
        if (f->res_pos >= f->res_len) fdc_to_command(f);
        return v;
    }
    if (f->phase == FDC_PHASE_EXEC && f->xfer_kind == FDC_XFER_READ) {
        uint8_t v = f->buf[f->buf_pos++];
        if (f->buf_pos >= f->buf_len) fdc_pio_sector_done(f);
        return v;
    }
    return 0xff;
}

static uint8_t fdc_msr(const Fdc *f)
{
    if (!(f->dor & DOR_RESET)) return 0;
    switch (f->phase) {
    case FDC_PHASE_EXEC:
        return MSR_RQM | MSR_NDMA | MSR_CB | (f->xfer_kind == FDC_XFER_READ ? MSR_DIO : 0);
    case FDC_PHASE_RESULT: return MSR_RQM | MSR_DIO | MSR_CB;
    default: return MSR_RQM | (f->cmd_pos ? MSR_CB : 0);
    }
}

static uint32_t fdc_read(void *o, uint32_t off, unsigned size)
{
    Fdc *f = o;
    switch (off) {
    case 0: /* SRA (PS/2 model 30 view, as QEMU): interrupt pending, second drive */
        return (f->irq_pending ? 0x80 : 0) | (f->drive[1].present ? 0 : 0x40);
    case 1: /* SRB: motor enables and drive select */
        return 0xc0 | ((f->dor >> 4) & 3) | ((f->dor & 1) << 5);
    case 2: return f->dor;
    case 3: return f->tdr;
    case 4: return fdc_msr(f);
    case 5:
        if (!(f->dor & DOR_RESET)) return 0xff;
        return fifo_read(f);
    default: return 0xff;
    }
}

static void fdc_write(void *o, uint32_t off, uint32_t v, unsigned size)
{
    Fdc *f = o;
    switch (off) {
    case 2: { /* DOR */
        uint8_t old = f->dor;
        f->dor = (uint8_t)v;
        if (!(v & DOR_RESET)) {
            fdc_soft_reset(f);
        } else if (!(old & DOR_RESET)) {
            fdc_reset_done(f);
        }
        fdc_update_irq(f);
        break;
    }
    case 3: f->tdr = v & 3; break;
    case 4: /* DSR */
        f->rate = v & 3;
        f->precomp = (v >> 2) & 7;
        if (v & 0x80) { /* software reset, self-clearing */
            fdc_soft_reset(f);
            fdc_reset_done(f);
        }
        break;
    case 5:
        if (f->dor & DOR_RESET) fifo_write(f, (uint8_t)v);
        break;
    }
}

/* 0x3F7: DIR (read) and CCR (write). */
static uint32_t fdc_dir_read(void *o, uint32_t off, unsigned size)
{
    Fdc *f = o;
    int ds = f->dor & 3;
    return ds < 2 && f->drive[ds].present && f->drive[ds].media_changed ? 0x80 : 0x00;
}

static void fdc_dir_write(void *o, uint32_t off, uint32_t v, unsigned size)
{
    ((Fdc *)o)->rate = v & 3;
}

static int fdc_post_load(void *o)
{
    Fdc *f = o;
    if (f->phase > FDC_PHASE_RESULT) f->phase = FDC_PHASE_COMMAND;
    if (f->cmd_len > sizeof(f->cmd)) f->cmd_len = sizeof(f->cmd);
    if (f->cmd_pos > f->cmd_len) f->cmd_pos = 0;
    if (f->res_len > sizeof(f->res)) f->res_len = sizeof(f->res);
    if (f->res_pos >= f->res_len && f->phase == FDC_PHASE_RESULT) fdc_to_command(f);
    if (f->buf_len > FDC_SECTOR) f->buf_len = FDC_SECTOR;
    if (f->phase == FDC_PHASE_EXEC && (f->buf_len == 0 || f->buf_pos >= f->buf_len))
        fdc_to_command(f); /* not a state the controller can be in */
    if (f->phase == FDC_PHASE_EXEC && (f->xfer_drive > 1 || !f->drive[f->xfer_drive].blk))
        fdc_to_command(f);
    if (f->reset_sense > 4) f->reset_sense = 4;
    fdc_update_irq(f);
    return 0;
}

static const StateField fdc_fields[] = {
    STATE_U8(Fdc, dor), STATE_U8(Fdc, tdr), STATE_U8(Fdc, rate), STATE_U8(Fdc, precomp),
    STATE_U8(Fdc, srt_hut), STATE_U8(Fdc, hlt_nd), STATE_U8(Fdc, config),
    STATE_U8(Fdc, pretrk), STATE_BOOL(Fdc, lock), STATE_U8(Fdc, perp), STATE_U8(Fdc, phase),
    STATE_U8_ARRAY(Fdc, cmd, 9), STATE_U8(Fdc, cmd_len), STATE_U8(Fdc, cmd_pos),
    STATE_U8_ARRAY(Fdc, res, 10), STATE_U8(Fdc, res_len), STATE_U8(Fdc, res_pos),
    STATE_BOOL(Fdc, irq_pending), STATE_U8(Fdc, reset_sense), STATE_U8(Fdc, seek_pending),
    STATE_U8_ARRAY(Fdc, seek_st0, 4), STATE_U8(Fdc, eot), STATE_BYTES(Fdc, buf, FDC_SECTOR),
    STATE_U16(Fdc, buf_pos), STATE_U16(Fdc, buf_len), STATE_U8(Fdc, xfer_drive),
    STATE_U8(Fdc, xfer_cyl), STATE_U8(Fdc, xfer_head), STATE_U8(Fdc, xfer_sect),
    STATE_U8(Fdc, xfer_eot), STATE_U8(Fdc, xfer_kind), STATE_BOOL(Fdc, xfer_mt),
    STATE_U8(Fdc, fmt_left), STATE_U8(Fdc, fmt_fill),
    STATE_U8(Fdc, drive[0].cyl), STATE_U8(Fdc, drive[0].head), STATE_U8(Fdc, drive[0].sect),
    STATE_BOOL(Fdc, drive[0].media_changed),
    STATE_U8(Fdc, drive[1].cyl), STATE_U8(Fdc, drive[1].head), STATE_U8(Fdc, drive[1].sect),
    STATE_BOOL(Fdc, drive[1].media_changed),
    STATE_END,
};
static const StateDesc fdc_state = {"fdc", 1, fdc_fields};

const DeviceOps fdc_ops = {
    .name = "fdc", .reset = fdc_reset, .read = fdc_read, .write = fdc_write, .min_access = 1,
    .max_access = 1, .state = &fdc_state, .post_load = fdc_post_load,
};
static const DeviceOps fdc_dir_ops = {
    .name = "fdc-dir", .read = fdc_dir_read, .write = fdc_dir_write, .min_access = 1,
    .max_access = 1,
};

void fdc_init(Fdc *f, Bus *bus, IrqLine irq, Dma *dma, int dma_ch)
{
    memset(f, 0, sizeof(*f));
    f->irq = irq;
    f->dma = dma;
    f->dma_ch = dma_ch;
    fdc_reset(f);
    bus_map_io(bus, 0x3f0, 6, &fdc_ops, f); /* 0x3F6 is the IDE device control port */
    bus_map_io(bus, 0x3f7, 1, &fdc_dir_ops, f);
}

int fdc_attach(Fdc *f, int drive, BlockDev *blk, char *err, size_t errlen)
{
    static const struct {
        uint64_t size;
        uint8_t tracks, spt, rate, cmos;
    } formats[] = {
        {737280, 80, 9, 2, 4},     /* 720K 3.5": 250 kbit/s (a 1.44M drive reads it) */
        {1228800, 80, 15, 0, 2},   /* 1.2M 5.25": 500 kbit/s */
        {1474560, 80, 18, 0, 4},   /* 1.44M 3.5": 500 kbit/s */
        {2949120, 80, 36, 3, 5},   /* 2.88M 3.5": 1 Mbit/s */
    };
    if (drive < 0 || drive > 1) {
        snprintf(err, errlen, "floppy drive %d does not exist (0 or 1)", drive);
        return -1;
    }
    FdcDrive *d = &f->drive[drive];
    if (blk) {
        int i = 0, n = (int)(sizeof(formats) / sizeof(formats[0]));
        while (i < n && formats[i].size != blk->size) i++;
        if (i == n) {
            snprintf(err, errlen, "%s: %llu bytes is not a floppy image size (737280, 1228800, "
                     "1474560 or 2949120)", blk->path ? blk->path : "floppy image",
                     (unsigned long long)blk->size);
            return -1;
        }
        d->tracks = formats[i].tracks;
        d->heads = 2;
        d->spt = formats[i].spt;
        d->rate = formats[i].rate;
        d->cmos_type = formats[i].cmos;
    } else if (!d->cmos_type) {
        d->cmos_type = 4;
    }
    d->present = true;
    d->blk = blk;
    d->media_changed = true;
    return 0;
}
