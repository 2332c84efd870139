/*
 * fwcfg.c — QEMU's fw_cfg device as SeaBIOS uses it: a 16-bit selector (0x510), an
 * 8-bit data port (0x511) streaming the selected item, and the DMA interface (0x514,
 * a big-endian 64-bit address of an FWCfgDmaAccess descriptor in guest memory). Items
 * are owned copies; named files get keys from 0x20 and a directory at key 0x19.
 */
#include "devices/fwcfg.h"

#include <stdlib.h>
#include <string.h>

#define FW_CFG_WRITE_CHANNEL 0x4000 /* selector bit: the write channel (no writable items) */

#define DMA_CTL_ERROR 0x01
#define DMA_CTL_READ 0x02
#define DMA_CTL_SKIP 0x04
#define DMA_CTL_SELECT 0x08
#define DMA_CTL_WRITE 0x10

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA 0x02

#define DIR_ENTRY_SIZE 64 /* be32 size, be16 select, be16 reserved, char name[56] */

/* "QEMU CFG", what a read of the DMA address register returns */
static const uint8_t dma_signature[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static FwCfgItem *item_find(FwCfg *f, uint16_t key)
{
    for (unsigned i = 0; i < f->n_items; i++)
        if (f->items[i].key == key) return &f->items[i];
    return NULL;
}

static FwCfgItem *item_selected(FwCfg *f)
{
    return item_find(f, (uint16_t)(f->selector & ~FW_CFG_WRITE_CHANNEL));
}

/* Store `data` as item `key`, replacing an existing one; returns the item or NULL when
 * the table is full. `owned` is taken over, not copied. */
static FwCfgItem *item_set(FwCfg *f, uint16_t key, uint8_t *owned, uint32_t len)
{
    FwCfgItem *it = item_find(f, key);
    if (!it) {
        if (f->n_items >= FW_CFG_MAX_ITEMS) {
            free(owned);
            return NULL;
        }
        it = &f->items[f->n_items++];
        memset(it, 0, sizeof(*it));
        it->key = key;
    } else if (it->data != f->dir) {
        free(it->data);
    }
    it->data = owned;
    it->len = len;
    return it;
}

static uint8_t *copy_bytes(const void *data, uint32_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len) memcpy(p, data, len);
    return p;
}

static int dir_cmp(const void *a, const void *b)
{
    const FwCfgItem *x = *(const FwCfgItem *const *)a, *y = *(const FwCfgItem *const *)b;
    return strncmp(x->name, y->name, sizeof(x->name));
}

/* Rebuild the directory (key 0x19): file entries sorted by name. */
static void dir_rebuild(FwCfg *f)
{
    const FwCfgItem *files[FW_CFG_MAX_ITEMS];
    unsigned n = 0;
    for (unsigned i = 0; i < f->n_items; i++)
        if (f->items[i].name[0]) files[n++] = &f->items[i];
    qsort(files, n, sizeof(files[0]), dir_cmp);
    uint32_t len = 4 + n * DIR_ENTRY_SIZE;
    uint8_t *dir = calloc(1, len);
    if (!dir) return;
    put_be32(dir, n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = dir + 4 + i * DIR_ENTRY_SIZE;
        put_be32(e, files[i]->len);
        e[4] = (uint8_t)(files[i]->key >> 8);
        e[5] = (uint8_t)files[i]->key;
        memcpy(e + 8, files[i]->name, sizeof(files[i]->name));
    }
    uint8_t *old = f->dir;
    f->dir = dir;
    FwCfgItem *it = item_find(f, FW_CFG_FILE_DIR);
    if (it) {
        if (it->data != old) free(it->data); /* someone stored bytes under key 0x19 */
        it->data = dir;
        it->len = len;
    } else {
        item_set(f, FW_CFG_FILE_DIR, dir, len);
    }
    free(old);
}

void fwcfg_add_bytes(FwCfg *f, uint16_t key, const void *data, uint32_t len)
{
    uint8_t *p = copy_bytes(data, len);
    if (p) item_set(f, key, p, len);
}

void fwcfg_add_i16(FwCfg *f, uint16_t key, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    fwcfg_add_bytes(f, key, b, sizeof(b));
}

void fwcfg_add_i32(FwCfg *f, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    for (unsigned i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
    fwcfg_add_bytes(f, key, b, sizeof(b));
}

void fwcfg_add_i64(FwCfg *f, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    fwcfg_add_bytes(f, key, b, sizeof(b));
}

void fwcfg_add_file(FwCfg *f, const char *name, const void *data, uint32_t len)
{
    FwCfgItem *it = NULL;
    for (unsigned i = 0; i < f->n_items; i++)
        if (f->items[i].name[0] && !strncmp(f->items[i].name, name, sizeof(it->name) - 1))
            it = &f->items[i];
    uint8_t *p = copy_bytes(data, len);
    if (!p) return;
    if (it) {
        it = item_set(f, it->key, p, len); /* same name: new contents, same key */
    } else {
        if (f->next_file_key > 0x3fff) {
            free(p);
            return;
        }
        it = item_set(f, f->next_file_key, p, len);
        if (!it) return;
        f->next_file_key++;
        strncpy(it->name, name, sizeof(it->name) - 1);
        it->name[sizeof(it->name) - 1] = 0;
    }
    dir_rebuild(f);
}

static void select_key(FwCfg *f, uint16_t key)
{
    f->selector = key;
    f->offset = 0;
}

/* ---- the DMA interface ---- */

/* Copy guest memory [addr, addr+len) into buf; false if any byte is not readable
 * memory (the descriptor must be in RAM or ROM). */
static bool guest_read(const FwCfg *f, uint64_t addr, uint8_t *buf, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (addr + i > 0xffffffffu) return false;
        const uint8_t *p = physmem_rd_ptr(f->mem, (uint32_t)(addr + i));
        if (!p) return false;
        buf[i] = *p;
    }
    return true;
}

/* Write buf (or zeros when buf is NULL) to guest memory, a page at a time; pages that
 * are not RAM (MMIO, ROM, nothing, above 4 GiB) are skipped, as a write into nothing. */
static void guest_write(const FwCfg *f, uint64_t addr, const uint8_t *buf, uint32_t len)
{
    while (len) {
        uint32_t chunk = PAGE_SIZE - (uint32_t)(addr & PAGE_MASK);
        if (chunk > len) chunk = len;
        if (addr <= 0xffffffffu) {
            uint8_t *p = physmem_wr_ptr(f->mem, (uint32_t)addr);
            if (p) {
                if (buf) memcpy(p, buf, chunk);
                else memset(p, 0, chunk);
            }
        }
        addr += chunk;
        if (buf) buf += chunk;
        len -= chunk;
    }
}

static void dma_transfer(FwCfg *f)
{
    uint64_t desc = (uint64_t)f->dma_addr_hi << 32 | f->dma_addr_lo;
    uint8_t raw[16];
    if (!f->mem || !guest_read(f, desc, raw, sizeof(raw))) return;
    uint32_t control = get_be32(raw);
    uint32_t length = get_be32(raw + 4);
    uint64_t addr = (uint64_t)get_be32(raw + 8) << 32 | get_be32(raw + 12);

    if (control & DMA_CTL_SELECT) select_key(f, (uint16_t)(control >> 16));
    bool read = false, write = false;
    if (control & DMA_CTL_READ) read = true;
    else if (control & DMA_CTL_WRITE) write = true;
    else if (!(control & DMA_CTL_SKIP)) length = 0;

    uint32_t result = 0;
    const FwCfgItem *it = item_selected(f);
    while (length > 0 && !result) {
        uint32_t n;
        if (!it || f->offset >= it->len) {
            /* past the end: reads give zeros, and there is nothing to write into */
            n = length;
            if (read) guest_write(f, addr, NULL, n);
            if (write) result = DMA_CTL_ERROR;
        } else {
            n = it->len - f->offset;
            if (n > length) n = length;
            if (read) guest_write(f, addr, it->data + f->offset, n);
            if (write) result = DMA_CTL_ERROR; /* every item is read-only */
            if (!result) f->offset += n;
        }
        addr += n;
        length -= n;
    }
    uint8_t done[4];
    put_be32(done, result);
    guest_write(f, desc, done, sizeof(done));
}

/* DMA address register: 8 bytes, big-endian. A 32-bit write at 0 sets the high half,
 * a 32-bit write at 4 the low half and starts the transfer (other widths are ignored,
 * as by QEMU). Reads return the "QEMU CFG" signature. */
static uint32_t dma_read(void *opaque, uint32_t offset, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)(offset + i < 8 ? dma_signature[offset + i] : 0xff) << (8 * i);
    return v;
}

static uint32_t bswap32(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

static void dma_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    FwCfg *f = opaque;
    if (size != 4) return;
    /* the port bytes are the register's big-endian bytes: port order = memory order */
    if (offset == 0) {
        f->dma_addr_hi = bswap32(value);
    } else if (offset == 4) {
        f->dma_addr_lo = bswap32(value);
        dma_transfer(f);
        f->dma_addr_hi = f->dma_addr_lo = 0;
    }
}

/* ---- the selector and data ports ---- */

static uint32_t ctl_read(void *opaque, uint32_t offset, unsigned size)
{
    FwCfg *f = opaque;
    if (offset == 1 && size == 1) {
        const FwCfgItem *it = item_selected(f);
        if (!it || f->offset >= it->len) return 0;
        return it->data[f->offset++];
    }
    return 0;
}

static void ctl_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    FwCfg *f = opaque;
    /* the selector is a 16-bit register; data writes are ignored (read-only items) */
    if (offset == 0 && size == 2) select_key(f, (uint16_t)value);
}

void fwcfg_reset(void *opaque)
{
    FwCfg *f = opaque;
    select_key(f, FW_CFG_SIGNATURE);
    f->dma_addr_hi = f->dma_addr_lo = 0;
}

static const StateField fwcfg_fields[] = {
    STATE_U16(FwCfg, selector),
    STATE_U32(FwCfg, offset),
    STATE_U32(FwCfg, dma_addr_hi),
    STATE_U32(FwCfg, dma_addr_lo),
    STATE_END,
};
static const StateDesc fwcfg_state = {"fw_cfg", 1, fwcfg_fields};

const DeviceOps fwcfg_ops = {
    .name = "fw_cfg",
    .reset = fwcfg_reset,
    .read = ctl_read,
    .write = ctl_write,
    .min_access = 1,
    .max_access = 2,
    .state = &fwcfg_state,
};

static const DeviceOps fwcfg_dma_ops = {
    .name = "fw_cfg-dma",
    .read = dma_read,
    .write = dma_write,
    .min_access = 1,
    .max_access = 4,
};

void fwcfg_init(FwCfg *f, Bus *bus, PhysMem *mem)
{
    memset(f, 0, sizeof(*f));
    f->mem = mem;
    f->next_file_key = FW_CFG_FILE_FIRST;
    fwcfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
    fwcfg_add_i32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
    dir_rebuild(f); /* an empty directory: count 0 */
    fwcfg_reset(f);
    if (bus) {
        bus_map_io(bus, 0x510, 2, &fwcfg_ops, f);
        bus_map_io(bus, 0x514, 8, &fwcfg_dma_ops, f);
    }
}

void fwcfg_destroy(FwCfg *f)
{
    for (unsigned i = 0; i < f->n_items; i++) {
        if (f->items[i].data != f->dir) free(f->items[i].data);
        f->items[i].data = NULL;
    }
    free(f->dir);
    f->dir = NULL;
    f->n_items = 0;
}
