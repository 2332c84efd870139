/*
 * i440fx.c — the two chipset functions firmware programs first: the 82441FX host
 * bridge (PAM shadow-RAM control for 0xC0000-0xFFFFF, SMRAM control) and the 82371SB
 * PIIX3 PCI-to-ISA bridge (PIRQ routing and its other registers at their data-sheet
 * reset values). The board owns the memory map; PAM changes are reported to it.
 */
#include "devices/i440fx.h"

#include <string.h>

#define HOST_PAM0 0x59      /* PAM0..PAM6 = 0x59..0x5F */
#define HOST_PAM_COUNT 7
#define HOST_SMRAM 0x72
#define SMRAM_D_OPEN 0x40
#define SMRAM_D_CLS 0x20
#define SMRAM_D_LCK 0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_C_BASE_SEG 0x02 /* 010b: SMRAM at 0xA0000, hard-wired */

#define ISA_PIRQRC 0x60

static void put16(uint8_t *c, unsigned a, uint16_t v)
{
    c[a] = (uint8_t)v;
    c[a + 1] = (uint8_t)(v >> 8);
}

/* Tell the board if the PAM registers differ from what it last saw (or always). */
static void pam_sync(I440fx *h, bool force)
{
    if (!force && !memcmp(h->pam_seen, &h->host.config[HOST_PAM0], HOST_PAM_COUNT)) return;
    memcpy(h->pam_seen, &h->host.config[HOST_PAM0], HOST_PAM_COUNT);
    if (h->pam_changed) h->pam_changed(h->board);
}

/* D_LCK freezes D_OPEN (cleared), D_LCK and G_SMRAME until power-on reset. */
static void smram_apply_lock(PciDevice *d)
{
    if (d->config[HOST_SMRAM] & SMRAM_D_LCK) {
        d->config[HOST_SMRAM] &= (uint8_t)~SMRAM_D_OPEN;
        d->wmask[HOST_SMRAM] = SMRAM_D_CLS;
    } else {
        d->wmask[HOST_SMRAM] = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
    }
}

static void host_config_write(PciDevice *d, uint32_t addr, uint32_t val, unsigned size)
{
    I440fx *h = d->opaque;
    if (addr <= HOST_SMRAM && addr + size > HOST_SMRAM) smram_apply_lock(d);
    if (addr < HOST_PAM0 + HOST_PAM_COUNT && addr + size > HOST_PAM0) pam_sync(h, false);
}

void i440fx_reset(void *opaque)
{
    I440fx *h = opaque;
    PciDevice *d = &h->host;
    pci_device_reset(d);
    put16(d->config, 0x04, 0x0006); /* memory and bus master: hard-wired on */
    put16(d->config, 0x06, 0x0280); /* fast back-to-back capable, DEVSEL medium */
    memset(&d->config[HOST_PAM0], 0, HOST_PAM_COUNT); /* all reads/writes to PCI (ROM) */
    d->config[HOST_SMRAM] = SMRAM_C_BASE_SEG;
    smram_apply_lock(d);

    PciDevice *s = &h->isa;
    pci_device_reset(s);
    put16(s->config, 0x04, 0x0007);
    put16(s->config, 0x06, 0x0200);
    s->config[0x4c] = 0x4d;         /* IORT: ISA I/O recovery timer */
    put16(s->config, 0x4e, 0x0003); /* XBCS: RTC, keyboard controller decode */
    for (int i = 0; i < 4; i++) s->config[ISA_PIRQRC + i] = 0x80; /* routing disabled */
    s->config[0x69] = 0x02;         /* TOM: top of memory 1 MiB, lower BIOS forwarded */
    put16(s->config, 0x6a, 0x0000); /* MSTAT */
    s->config[0x70] = 0x80;         /* MBIRQ0: motherboard IRQ routing disabled */
    s->config[0x71] = 0x80;         /* MBIRQ1 */
    s->config[0x76] = 0x04;         /* MBDMA0/1: no DMA channel */
    s->config[0x77] = 0x04;
    put16(s->config, 0x78, 0x0002); /* PCSC: programmable chip select */
    s->config[0x80] = 0x00;         /* APICBASE */
    s->config[0x82] = 0x00;         /* DLC: deterministic latency */
    s->config[0xa0] = 0x08;         /* SMICNTL */
    put16(s->config, 0xa2, 0x0000); /* SMIEN */
    memset(&s->config[0xa4], 0, 4); /* SEE */
    s->config[0xa8] = 0x0f;         /* FTMR: fast-off timer */
    put16(s->config, 0xaa, 0x0000); /* SMIREQ */
    s->config[0xac] = 0x00;         /* CTLTMR */
    s->config[0xae] = 0x00;         /* CTHTMR */

    pam_sync(h, false);
}

static void set_wmask(PciDevice *d, unsigned a, unsigned n, uint8_t m)
{
    memset(&d->wmask[a], m, n);
}

void i440fx_init(I440fx *h, PciBus *pci, void (*pam_changed)(void *), void *board)
{
    memset(h, 0, sizeof(*h));
    h->pam_changed = pam_changed;
    h->board = board;

    PciDevice *d = &h->host;
    pci_device_init(d, 0x8086, 0x1237, 0x060000);
    d->config[0x08] = 0x02; /* revision */
    /* Red Hat/QEMU subsystem IDs: SeaBIOS checks these to know it runs on QEMU's board
     * and then trusts fw_cfg */
    put16(d->config, 0x2c, 0x1af4);
    put16(d->config, 0x2e, 0x1100);
    set_wmask(d, HOST_PAM0, 1, 0x30); /* PAM0: only 0xF0000-0xFFFFF (high nibble) */
    set_wmask(d, HOST_PAM0 + 1, HOST_PAM_COUNT - 1, 0x33); /* RE/WE of two segments */
    d->opaque = h;
    d->config_write = host_config_write;

    PciDevice *s = &h->isa;
    pci_device_init(s, 0x8086, 0x7000, 0x060100);
    s->config[0x0e] = 0x80; /* multi-function: IDE (and USB) follow at 00:01.x */
    put16(s->config, 0x2c, 0x1af4);
    put16(s->config, 0x2e, 0x1100);
    set_wmask(s, 0x4c, 1, 0x7f);
    set_wmask(s, 0x4e, 2, 0xff);
    set_wmask(s, ISA_PIRQRC, 4, 0x8f);
    set_wmask(s, 0x69, 1, 0xfe);
    set_wmask(s, 0x6a, 2, 0xff);
    set_wmask(s, 0x70, 2, 0xef);
    set_wmask(s, 0x76, 2, 0x8f);
    set_wmask(s, 0x78, 2, 0xff);
    set_wmask(s, 0x80, 1, 0x7f);
    set_wmask(s, 0x82, 1, 0x0f);
    set_wmask(s, 0xa0, 1, 0xff);
    set_wmask(s, 0xa2, 2, 0xff);
    set_wmask(s, 0xa4, 4, 0xff);
    set_wmask(s, 0xa8, 1, 0xff);
    set_wmask(s, 0xaa, 2, 0xff);
    set_wmask(s, 0xac, 1, 0xff);
    set_wmask(s, 0xae, 1, 0xff);
    s->opaque = h;

    i440fx_reset(h);
    /* the board maps the power-on PAM state itself; nothing changed yet */
    memcpy(h->pam_seen, &d->config[HOST_PAM0], HOST_PAM_COUNT);
    pci_register(pci, d, PCI_DEVFN(0, 0));
    pci_register(pci, s, PCI_DEVFN(1, 0));
}

unsigned i440fx_pam_attr(const I440fx *h, uint32_t addr)
{
    const uint8_t *c = h->host.config;
    if (addr >= 0xf0000 && addr < 0x100000) return (c[HOST_PAM0] >> 4) & 3;
    if (addr >= 0xc0000 && addr < 0xf0000) {
        unsigned seg = (addr - 0xc0000) >> 14; /* 16 KiB segments, two per register */
        return (c[HOST_PAM0 + 1 + seg / 2] >> (4 * (seg & 1))) & 3;
    }
    return 3; /* outside the PAM window: ordinary RAM as far as PAM is concerned */
}

int i440fx_pirq_irq(const I440fx *h, int pirq)
{
    if (pirq < 0 || pirq > 3) return -1;
    uint8_t r = h->isa.config[ISA_PIRQRC + pirq];
    if (r & 0x80) return -1;
    unsigned irq = r & 0x0f;
    if (irq < 3 || irq == 8 || irq == 13) return -1;
    return (int)irq;
}

static int i440fx_post_load(void *opaque)
{
    I440fx *h = opaque;
    smram_apply_lock(&h->host);
    pci_device_post_load(&h->host);
    pci_device_post_load(&h->isa);
    pam_sync(h, true);
    return 0;
}

static const StateField i440fx_fields[] = {
    STATE_PCI_DEVICE(I440fx, host),
    STATE_PCI_DEVICE(I440fx, isa),
    STATE_END,
};
static const StateDesc i440fx_state = {"i440fx", 1, i440fx_fields};

const DeviceOps i440fx_ops = {
    .name = "i440fx",
    .reset = i440fx_reset,
    .state = &i440fx_state,
    .post_load = i440fx_post_load,
};
