/*
 * fdc.h — an 82077AA-compatible floppy disk controller (PC-AT mode) at 0x3F0-0x3F7
 * (0x3F6 belongs to the IDE controller), IRQ 6 and DMA channel 2, with up to two
 * 3.5"/5.25" drives backed by raw images: 720K, 1.2M, 1.44M or 2.88M, told apart by
 * size. Commands execute at once when their last byte is written (no seek or
 * rotation time); the interrupt follows immediately.
 *
 *     fdc_init(&m->fdc, &m->bus, pic_irq(&m->pic, 6), &m->dma, 2);
 *     if (fdc_attach(&m->fdc, 0, &blk, err, sizeof err) < 0) ...
 */
#ifndef DBT86_FDC_H
#define DBT86_FDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/block/block.h"
#include "devices/bus.h"
#include "devices/dma.h"
#include "devices/irq.h"

#define FDC_SECTOR 512

typedef struct FdcDrive {
    bool present;         /* the drive is installed */
    BlockDev *blk;        /* NULL: no disk in the drive */
    uint8_t tracks, heads, spt; /* media geometry */
    uint8_t rate;         /* data rate the media needs (DSR/CCR bits 1-0) */
    uint8_t cmos_type;    /* CMOS 0x10 drive type: 2 1.2M, 4 1.44M, 5 2.88M */
    uint8_t cyl;          /* head position (present cylinder number) */
    uint8_t head, sect;   /* last sector addressed (READ ID reports it) */
    bool media_changed;   /* DIR bit 7: set on insertion, cleared by a step */
} FdcDrive;

enum { FDC_PHASE_COMMAND, FDC_PHASE_EXEC, FDC_PHASE_RESULT };
enum { FDC_XFER_READ, FDC_XFER_WRITE, FDC_XFER_FORMAT };

typedef struct Fdc {
    IrqLine irq;
    Dma *dma;
    int dma_ch;
    FdcDrive drive[2];
    /* registers */
    uint8_t dor, tdr, rate, precomp;
    uint8_t srt_hut, hlt_nd;       /* SPECIFY bytes */
    uint8_t config, pretrk;        /* CONFIGURE bytes 2 and 3 */
    bool lock;
    uint8_t perp;                  /* PERPENDICULAR MODE byte */
    /* command state */
    uint8_t phase;
    uint8_t cmd[9], cmd_len, cmd_pos;
    uint8_t res[10], res_len, res_pos;
    bool irq_pending;
    uint8_t reset_sense;           /* polling interrupts left after a reset (4..0) */
    uint8_t seek_pending;          /* bit n: drive n finished a seek/recalibrate */
    uint8_t seek_st0[4];
    uint8_t eot;                   /* last EOT given (DUMPREG reports it) */
    /* execution phase of READ/WRITE/FORMAT in non-DMA mode */
    uint8_t buf[FDC_SECTOR];
    uint16_t buf_pos, buf_len;
    uint8_t xfer_drive, xfer_cyl, xfer_head, xfer_sect, xfer_eot;
    uint8_t xfer_kind;             /* FDC_XFER_READ / WRITE / FORMAT */
    bool xfer_mt;
    uint8_t fmt_left, fmt_fill;    /* FORMAT: sectors still to receive, filler byte */
} Fdc;

void fdc_init(Fdc *f, Bus *bus, IrqLine irq, Dma *dma, int dma_ch);
/* Inserts `blk` (or NULL: eject) into drive 0 or 1. Returns 0, or -1 with a one-line
 * message naming the image when its size is not a floppy format. */
int fdc_attach(Fdc *f, int drive, BlockDev *blk, char *err, size_t errlen);

extern const DeviceOps fdc_ops; /* carries reset and state (ports 0x3F0-0x3F5) */

#endif
