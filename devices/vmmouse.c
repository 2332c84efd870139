/*
 * vmmouse.c — the VMware backdoor and its absolute mouse, as guests' drivers use them
 * (Linux's psmouse "VMMouse" protocol, Xorg's vmmouse driver, VMware Tools).
 *
 * The backdoor: `IN EAX, DX` with DX = 0x5658 and EAX = 0x564D5868 ('VMXh') is not a
 * port read but a call: ECX bits 15..0 select a command, EBX is its argument, and the
 * answer comes back in EAX, EBX, ECX and EDX (cpu/exec_io.c hands the registers over
 * through CpuBus.backdoor, after the usual I/O permission check, as QEMU's TCG does).
 *
 *   GETVERSION (10)          EAX <- 6, EBX <- 'VMXh' (the "is there a VMware host"
 *                            probe); ECX, EDX unchanged.
 *   ABSPOINTER_COMMAND (41)  EBX = READ_ID 0x45414552: enable, empty the queue and
 *                            queue one word, the version 0x3442554a ("JUB4");
 *                            DISABLE 0xf5; REQUEST_ABSOLUTE 0x53424152 / _RELATIVE
 *                            0x4c455252 choose the kind of events. Registers unchanged.
 *   ABSPOINTER_STATUS (40)   EAX <- words queued (bits 15..0), or 0xffff0000 while
 *                            disabled.
 *   ABSPOINTER_DATA (39)     EBX = n (1..4): the oldest n words popped into EAX, EBX,
 *                            ECX, EDX in that order. n out of range, more than queued,
 *                            or disabled: EAX <- 0xffff0000, nothing popped.
 *   ABSPOINTER_RESTRICT (86) EBX = 0 any CPL, 1 CPL 0 only, 2 IOPL: recorded, not
 *                            enforced (the IN's own IOPL/bitmap check still applies).
 *   anything else            EAX <- 0xffffffff, others unchanged (so a probe such as
 *                            Linux's GETHZ, which looks for EBX changing from ~0, fails).
 *
 * An event is four words: buttons and flags (left 0x20, right 0x10, middle 0x08;
 * 0x10000 = relative), x, y, z. Absolute x and y run 0..0xFFFF across the screen;
 * relative ones are signed with y up; z is the wheel as a signed byte, > 0 towards the
 * user. A full queue drops new events whole. Each queued event also puts a 3-byte PS/2
 * packet (bit 3 set in byte 0) on the 8042's aux port: Linux's driver takes any full
 * packet as the signal to drain the queue and ignores its content, so while enabled
 * every pointer event must come through here, absolute or relative.
 */
#include "devices/vmmouse.h"

#include <string.h>

#include "cpu/cpu.h" /* R_EAX..R_EDI, CPU_BACKDOOR_MAGIC */

static const StateField vmmouse_fields[] = {
    STATE_U32_ARRAY(Vmmouse, queue, VMMOUSE_QUEUE),
    STATE_U16(Vmmouse, head),
    STATE_U16(Vmmouse, count),
    STATE_BOOL(Vmmouse, enabled),
    STATE_BOOL(Vmmouse, absolute),
    STATE_U32(Vmmouse, restrict_mode),
    STATE_END,
};
static const StateDesc vmmouse_state = {"vmmouse", 1, vmmouse_fields};

/* A snapshot's ring position must fit the ring (a damaged file must not index past
 * it). */
static int vmmouse_post_load(void *opaque)
{
    const Vmmouse *v = opaque;
    return v->head < VMMOUSE_QUEUE && v->count <= VMMOUSE_QUEUE ? 0 : -1;
}

const DeviceOps vmmouse_ops = {.name = "vmmouse", .reset = vmmouse_reset,
                               .state = &vmmouse_state, .post_load = vmmouse_post_load};

void vmmouse_init(Vmmouse *v, void (*notify)(void *opaque, unsigned buttons), void *opaque)
{
    memset(v, 0, sizeof(*v));
    v->notify = notify;
    v->opaque = opaque;
}

void vmmouse_reset(void *opaque)
{
    Vmmouse *v = opaque;
    v->head = v->count = 0;
    v->enabled = v->absolute = false;
    v->restrict_mode = 0;
}

bool vmmouse_enabled(const Vmmouse *v) { return v->enabled; }
bool vmmouse_absolute(const Vmmouse *v) { return v->enabled && v->absolute; }

static void push(Vmmouse *v, uint32_t w)
{
    v->queue[(v->head + v->count) % VMMOUSE_QUEUE] = w;
    v->count++;
}

static uint32_t pop(Vmmouse *v)
{
    uint32_t w = v->queue[v->head];
    v->head = (uint16_t)((v->head + 1) % VMMOUSE_QUEUE);
    v->count--;
    return w;
}

static bool put_event(Vmmouse *v, uint32_t flags, uint32_t x, uint32_t y, int dz,
                      unsigned buttons)
{
    if (VMMOUSE_QUEUE - v->count < 4) {
        v->dropped++;
        return false;
    }
    uint32_t b = (buttons & 1 ? VMMOUSE_LEFT : 0) | (buttons & 2 ? VMMOUSE_RIGHT : 0) |
                 (buttons & 4 ? VMMOUSE_MIDDLE : 0);
    int z = dz < -128 ? -128 : dz > 127 ? 127 : dz;
    push(v, flags | b);
    push(v, x);
    push(v, y);
    push(v, (uint32_t)z);
    if (v->notify) v->notify(v->opaque, buttons & 7);
    return true;
}

bool vmmouse_put_abs(Vmmouse *v, uint16_t x, uint16_t y, int dz, unsigned buttons)
{
    if (!vmmouse_absolute(v)) return false;
    return put_event(v, 0, x, y, dz, buttons);
}

bool vmmouse_put_rel(Vmmouse *v, int dx, int dy, int dz, unsigned buttons)
{
    if (!v->enabled) return false;
    return put_event(v, VMMOUSE_RELATIVE_PACKET, (uint32_t)dx, (uint32_t)-dy, dz, buttons);
}

static void command(Vmmouse *v, uint32_t sub)
{
    switch (sub) {
    case VMMOUSE_READ_ID:
        v->enabled = true;
        v->head = v->count = 0;
        push(v, VMMOUSE_VERSION_ID);
        break;
    case VMMOUSE_DISABLE:
        v->enabled = v->absolute = false;
        v->head = v->count = 0;
        break;
    case VMMOUSE_REQUEST_ABSOLUTE: v->absolute = true; break;
    case VMMOUSE_REQUEST_RELATIVE: v->absolute = false; break;
    default: break; /* unknown sub-commands are ignored */
    }
}

void vmmouse_backdoor(Vmmouse *v, uint32_t regs[8])
{
    uint32_t arg = regs[R_EBX];
    switch (regs[R_ECX] & 0xffff) {
    case VMPORT_CMD_GETVERSION:
        regs[R_EAX] = VMPORT_VERSION;
        regs[R_EBX] = CPU_BACKDOOR_MAGIC;
        break;
    case VMMOUSE_CMD_COMMAND: command(v, arg); break;
    case VMMOUSE_CMD_STATUS: regs[R_EAX] = v->enabled ? v->count : VMMOUSE_ERROR; break;
    case VMMOUSE_CMD_DATA: {
        if (!v->enabled || arg < 1 || arg > 4 || arg > v->count) {
            regs[R_EAX] = VMMOUSE_ERROR;
            break;
        }
        static const int order[4] = {R_EAX, R_EBX, R_ECX, R_EDX};
        for (uint32_t i = 0; i < arg; i++) regs[order[i]] = pop(v);
        break;
    }
    case VMMOUSE_CMD_RESTRICT: v->restrict_mode = arg; break;
    default: regs[R_EAX] = 0xffffffffu; break;
    }
}
