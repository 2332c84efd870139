/*
 * device.h — what every device is: plain state plus an ops table.
 *
 * DeviceOps names the device, resets it, implements reads and writes of one I/O or
 * MMIO range (the bus splits accesses wider or narrower than [min_access,
 * max_access] into ones the device implements), and describes its state for
 * snapshots with a StateDesc table plus a post_load hook that rebuilds derived state
 * (timers, IRQ levels, memory mappings). A device with several ranges (IDE command and
 * control blocks) uses one DeviceOps per range; only one of them carries reset/state.
 *
 *     static const StateField pit_fields[] = {
 *         STATE_U16(Pit, ch[0].count), ..., STATE_END };
 *     static const StateDesc pit_state = { "pit", 1, pit_fields };
 *     static const DeviceOps pit_ops = { .name = "pit", .reset = pit_reset,
 *         .read = pit_read, .write = pit_write, .min_access = 1, .max_access = 1,
 *         .state = &pit_state };
 */
#ifndef DBT86_DEVICE_H
#define DBT86_DEVICE_H

#include <stddef.h>
#include <stdint.h>

typedef enum StateType {
    ST_U8,    /* uint8_t, int8_t, bool */
    ST_U16,
    ST_U32,   /* uint32_t, int32_t, enums stored as 32 bits */
    ST_U64,   /* uint64_t, int64_t (timer deadlines, counters) */
    ST_BYTES, /* `count` raw bytes */
} StateType;

/* One saved field: a name (stable across versions), its type, where it lives in the
 * device struct, how many elements, and the state version that introduced it. */
typedef struct StateField {
    const char *name;
    uint8_t type;       /* StateType */
    uint32_t offset;    /* offsetof(device struct, field) */
    uint32_t count;     /* array elements (bytes for ST_BYTES) */
    uint16_t since;     /* version that added the field */
} StateField;

typedef struct StateDesc {
    const char *name;
    int version;
    const StateField *fields; /* terminated by STATE_END */
} StateDesc;

#define STATE_FIELD_(T, f, ty, n) {#f, ty, (uint32_t)offsetof(T, f), n, 0}
#define STATE_U8(T, f) STATE_FIELD_(T, f, ST_U8, 1)
#define STATE_BOOL(T, f) STATE_FIELD_(T, f, ST_U8, 1)
#define STATE_U16(T, f) STATE_FIELD_(T, f, ST_U16, 1)
#define STATE_U32(T, f) STATE_FIELD_(T, f, ST_U32, 1)
#define STATE_U64(T, f) STATE_FIELD_(T, f, ST_U64, 1)
#define STATE_U8_ARRAY(T, f, n) STATE_FIELD_(T, f, ST_U8, n)
#define STATE_U16_ARRAY(T, f, n) STATE_FIELD_(T, f, ST_U16, n)
#define STATE_U32_ARRAY(T, f, n) STATE_FIELD_(T, f, ST_U32, n)
#define STATE_BYTES(T, f, n) STATE_FIELD_(T, f, ST_BYTES, n)
#define STATE_END {NULL, 0, 0, 0, 0}

typedef struct DeviceOps {
    const char *name;
    void (*reset)(void *dev);
    /* offset is relative to the start of the mapped range */
    uint32_t (*read)(void *dev, uint32_t offset, unsigned size);
    void (*write)(void *dev, uint32_t offset, uint32_t value, unsigned size);
    uint8_t min_access, max_access; /* access sizes implemented, in bytes (1, 2, 4) */
    const StateDesc *state;
    int (*post_load)(void *dev);
} DeviceOps;

#endif
