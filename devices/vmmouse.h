/*
 * vmmouse.h — the VMware backdoor (QEMU's `vmport`) and the absolute pointing device
 * behind it (QEMU's `vmmouse`): a guest driver that enables it reads the host pointer's
 * absolute position, so the pointer follows the host cursor without a grab. The
 * protocol is described at the top of vmmouse.c.
 *
 *     vmmouse_init(&m->vmmouse, notify_ps2, m);   // CpuBus.backdoor -> vmmouse_backdoor
 *     if (!vmmouse_put_abs(&m->vmmouse, x, y, 0, buttons)) ...send relative motion...
 */
#ifndef DBT86_VMMOUSE_H
#define DBT86_VMMOUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define VMMOUSE_QUEUE 1024 /* words of queued input (256 events of 4 words) */

/* Backdoor commands (ECX bits 15..0) */
#define VMPORT_CMD_GETVERSION 10
#define VMMOUSE_CMD_DATA 39     /* ABSPOINTER_DATA: pop EBX (1..4) words */
#define VMMOUSE_CMD_STATUS 40   /* ABSPOINTER_STATUS: words queued, or VMMOUSE_ERROR */
#define VMMOUSE_CMD_COMMAND 41  /* ABSPOINTER_COMMAND: EBX is one of the below */
#define VMMOUSE_CMD_RESTRICT 86 /* ABSPOINTER_RESTRICT: EBX 0 any, 1 CPL 0, 2 IOPL */
/* ABSPOINTER_COMMAND sub-commands (EBX) */
#define VMMOUSE_READ_ID 0x45414552u          /* enable: queues VMMOUSE_VERSION_ID */
#define VMMOUSE_DISABLE 0x000000f5u
#define VMMOUSE_REQUEST_RELATIVE 0x4c455252u
#define VMMOUSE_REQUEST_ABSOLUTE 0x53424152u

#define VMMOUSE_VERSION_ID 0x3442554au /* "JUB4": the first word after READ_ID */
#define VMMOUSE_ERROR 0xffff0000u      /* STATUS while disabled, and bad requests */
#define VMPORT_VERSION 6u              /* GETVERSION's EAX */
/* the first word of an event: flags in bits 31..16, buttons in 15..0 */
#define VMMOUSE_RELATIVE_PACKET 0x00010000u
#define VMMOUSE_LEFT 0x20u
#define VMMOUSE_RIGHT 0x10u
#define VMMOUSE_MIDDLE 0x08u

typedef struct Vmmouse {
    uint32_t queue[VMMOUSE_QUEUE]; /* words waiting for ABSPOINTER_DATA, a ring */
    uint16_t head;                 /* index of the oldest word */
    uint16_t count;                /* words queued */
    bool enabled;                  /* READ_ID seen, not disabled since */
    bool absolute;                 /* REQUEST_ABSOLUTE (vs. relative) */
    uint32_t restrict_mode;        /* last ABSPOINTER_RESTRICT argument (recorded only) */
    uint64_t dropped;              /* events dropped on a full queue (statistics) */
    /* The PS/2 side: each queued event also sends a plain mouse packet through the
     * 8042's aux port, the "interrupt" after which the guest driver reads the queue
     * (buttons: bit 0 left, 1 right, 2 middle). */
    void (*notify)(void *opaque, unsigned buttons);
    void *opaque;
} Vmmouse;

extern const DeviceOps vmmouse_ops; /* reset and snapshot state; no port of its own */

void vmmouse_init(Vmmouse *v, void (*notify)(void *opaque, unsigned buttons), void *opaque);
void vmmouse_reset(void *v);
/* A backdoor call (CpuBus.backdoor): regs[R_EAX..R_EDI] in, answers written back. */
void vmmouse_backdoor(Vmmouse *v, uint32_t regs[8]);
/* The guest enabled the device (all pointer input must then go through its queue:
 * the driver ignores what the PS/2 packets say). */
bool vmmouse_enabled(const Vmmouse *v);
/* ... and asked for absolute positions. */
bool vmmouse_absolute(const Vmmouse *v);
/* An absolute position (x, y in 0..0xFFFF across the screen), wheel (dz > 0 towards
 * the user) and buttons (bit 0 left, 1 right, 2 middle). Queued only in absolute mode:
 * returns false otherwise, or when the queue is full. */
bool vmmouse_put_abs(Vmmouse *v, uint16_t x, uint16_t y, int dz, unsigned buttons);
/* Relative motion (dy > 0 down, as the input layer gives it) while enabled; returns
 * false when not enabled or the queue is full. */
bool vmmouse_put_rel(Vmmouse *v, int dx, int dy, int dz, unsigned buttons);

#endif
