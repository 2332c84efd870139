/*
 * i8042.c — the 8042 keyboard controller with a PS/2 keyboard and a PS/2 mouse on its
 * auxiliary port (see i8042.h). Controller commands complete instantly, so IBF is
 * never set. Each device has a queue of bytes it wants to send; the controller moves
 * one byte at a time into its output buffer (translating keyboard bytes from set 2
 * to set 1 when the command byte asks) whenever the buffer is empty and that
 * device's interface is enabled. IRQ 1 / IRQ 12 follow "output buffer full" as levels.
 */
#include "devices/i8042.h"

#include <string.h>

enum {
    KBC_STAT_OBF = 0x01,    /* output buffer full */
    KBC_STAT_SYS = 0x04,    /* system flag (command byte bit 2 / self-test passed) */
    KBC_STAT_A2 = 0x08,     /* last write was to the command port */
    KBC_STAT_UNLOCK = 0x10, /* keylock switch: keyboard not inhibited */
    KBC_STAT_AUXB = 0x20,   /* output buffer holds mouse data */

    KBC_CMD_KBD_INT = 0x01,
    KBC_CMD_AUX_INT = 0x02,
    KBC_CMD_SYS = 0x04,
    KBC_CMD_KBD_DIS = 0x10,
    KBC_CMD_AUX_DIS = 0x20,
    KBC_CMD_XLATE = 0x40,

    KBC_OUT_RESET = 0x01,   /* output port: CPU reset line, active low */
    KBC_OUT_A20 = 0x02,
    KBC_OUT_KBD_OBF = 0x10, /* IRQ 1 output */
    KBC_OUT_AUX_OBF = 0x20, /* IRQ 12 output */

    KBD_ACK = 0xfa,
    KBD_RESEND = 0xfe,
    KBD_BAT_OK = 0xaa,

    AUX_STAT_REMOTE = 0x40,
    AUX_STAT_ENABLED = 0x20,
    AUX_STAT_SCALE21 = 0x10,
};

/*
 * Set 2 -> set 1, as the 8042 translates (index: set-2 byte below 0x80). Key entries
 * follow the scan code tables of the Microsoft Keyboard Scan Code Specification;
 * E0-prefixed keys use the same entries (E0 75 Up -> E0 48). Bytes of 0x80 and above
 * pass unchanged except 0x83 (F7) and 0x84 (Alt+SysRq); an F0 prefix is swallowed and
 * sets bit 7 of the next translated byte.
 */
static const uint8_t xlate_table[128] = {
    [0x00] = 0xff, /* key detection error / overrun */
    [0x76] = 0x01, /* Esc */
    [0x05] = 0x3b, [0x06] = 0x3c, [0x04] = 0x3d, [0x0c] = 0x3e, /* F1-F4 */
    [0x03] = 0x3f, [0x0b] = 0x40, [0x0a] = 0x42, /* F5 F6 F8 (F7 is 0x83) */
    [0x01] = 0x43, [0x09] = 0x44, [0x78] = 0x57, [0x07] = 0x58, /* F9 F10 F11 F12 */
    [0x0e] = 0x29, /* ` */
    [0x16] = 0x02, [0x1e] = 0x03, [0x26] = 0x04, [0x25] = 0x05, [0x2e] = 0x06, /* 1-5 */
    [0x36] = 0x07, [0x3d] = 0x08, [0x3e] = 0x09, [0x46] = 0x0a, [0x45] = 0x0b, /* 6-0 */
    [0x4e] = 0x0c, [0x55] = 0x0d, [0x66] = 0x0e, /* - = Backspace */
    [0x0d] = 0x0f, /* Tab */
    [0x15] = 0x10, [0x1d] = 0x11, [0x24] = 0x12, [0x2d] = 0x13, [0x2c] = 0x14, /* QWERT */
    [0x35] = 0x15, [0x3c] = 0x16, [0x43] = 0x17, [0x44] = 0x18, [0x4d] = 0x19, /* YUIOP */
    [0x54] = 0x1a, [0x5b] = 0x1b, [0x5a] = 0x1c, /* [ ] Enter */
    [0x14] = 0x1d, /* Left Ctrl (E0: Right Ctrl) */
    [0x1c] = 0x1e, [0x1b] = 0x1f, [0x23] = 0x20, [0x2b] = 0x21, [0x34] = 0x22, /* ASDFG */
    [0x33] = 0x23, [0x3b] = 0x24, [0x42] = 0x25, [0x4b] = 0x26, /* HJKL */
    [0x4c] = 0x27, [0x52] = 0x28, [0x5d] = 0x2b, /* ; ' \ */
    [0x12] = 0x2a, /* Left Shift */
    [0x1a] = 0x2c, [0x22] = 0x2d, [0x21] = 0x2e, [0x2a] = 0x2f, [0x32] = 0x30, /* ZXCVB */
    [0x31] = 0x31, [0x3a] = 0x32, [0x41] = 0x33, [0x49] = 0x34, [0x4a] = 0x35, /* NM,./ */
    [0x59] = 0x36, /* Right Shift */
    [0x7c] = 0x37, /* Keypad * (E0: Print Screen) */
    [0x11] = 0x38, /* Left Alt (E0: Right Alt) */
    [0x29] = 0x39, /* Space */
    [0x58] = 0x3a, /* Caps Lock */
    [0x77] = 0x45, [0x7e] = 0x46, /* Num Lock, Scroll Lock */
    [0x6c] = 0x47, [0x75] = 0x48, [0x7d] = 0x49, [0x7b] = 0x4a, /* KP 7 8 9 - */
    [0x6b] = 0x4b, [0x73] = 0x4c, [0x74] = 0x4d, [0x79] = 0x4e, /* KP 4 5 6 + */
    [0x69] = 0x4f, [0x72] = 0x50, [0x7a] = 0x51, [0x70] = 0x52, [0x71] = 0x53, /* KP 1230. */
    [0x7f] = 0x54, /* (SysRq on some keyboards) */
    [0x61] = 0x56, /* ISO key left of Z */
    [0x0f] = 0x59, /* Keypad = */
    [0x27] = 0x5c, /* Intl 6 (E0: Right GUI) */
    [0x1f] = 0x5b, [0x2f] = 0x5d, /* E0: Left GUI, Apps */
    [0x37] = 0x5e, [0x3f] = 0x5f, [0x5e] = 0x63, /* E0: Power, Sleep, Wake */
    [0x08] = 0x64, [0x10] = 0x65, [0x18] = 0x66, [0x20] = 0x67, [0x28] = 0x68, /* F13-F17 */
    [0x30] = 0x69, [0x38] = 0x6a, [0x40] = 0x6b, [0x48] = 0x6c, [0x50] = 0x6d, /* F18-F22 */
    [0x57] = 0x6e, [0x5f] = 0x76, /* F23 F24 */
    [0x13] = 0x70, /* Intl 2 (Katakana/Hiragana) */
    [0x51] = 0x73, /* Intl 1 (Ro) */
    [0x64] = 0x79, [0x67] = 0x7b, [0x6a] = 0x7d, /* Intl 4 (Henkan), 5 (Muhenkan), 3 (Yen) */
    [0x6d] = 0x7e, /* Brazilian keypad . */
    /* Codes no standard key sends; the controller's table still maps them. */
    [0x02] = 0x41, [0x17] = 0x5a, [0x19] = 0x71, [0x39] = 0x72, [0x47] = 0x60,
    [0x4f] = 0x61, [0x53] = 0x74, [0x56] = 0x62, [0x5c] = 0x75, [0x60] = 0x55,
    [0x62] = 0x77, [0x63] = 0x78, [0x65] = 0x7a, [0x68] = 0x7c, [0x6e] = 0x7f,
    [0x6f] = 0x6f,
};

static uint8_t kbc_xlate(uint8_t b)
{
    if (b < 0x80) return xlate_table[b];
    if (b == 0x83) return 0x41; /* F7 */
    if (b == 0x84) return 0x54; /* Alt+SysRq */
    return b;
}

/* ---- queues ---- */

static bool queue_push(uint8_t *q, uint8_t head, uint8_t *count, uint8_t b)
{
    if (*count >= KBD_QUEUE) return false;
    q[(head + *count) % KBD_QUEUE] = b;
    (*count)++;
    return true;
}

static uint8_t queue_pop(const uint8_t *q, uint8_t *head, uint8_t *count)
{
    uint8_t b = q[*head];
    *head = (*head + 1) % KBD_QUEUE;
    (*count)--;
    return b;
}

/* ---- output buffer and IRQs ---- */

static void kbc_update_irq(Kbc *k, bool force)
{
    bool full = k->status & KBC_STAT_OBF, aux = k->status & KBC_STAT_AUXB;
    bool l1 = full && !aux && (k->cmd_byte & KBC_CMD_KBD_INT);
    bool l12 = full && aux && (k->cmd_byte & KBC_CMD_AUX_INT);
    if (l1 != k->irq1_level || force) {
        k->irq1_level = l1;
        irq_set(&k->irq_kbd, l1);
    }
    if (l12 != k->irq12_level || force) {
        k->irq12_level = l12;
        irq_set(&k->irq_aux, l12);
    }
}

/* Move the next device byte into an empty output buffer. */
static void kbc_fill(Kbc *k)
{
    while (!(k->status & KBC_STAT_OBF)) {
        if (k->kbd_count && !(k->cmd_byte & KBC_CMD_KBD_DIS)) {
            uint8_t b = queue_pop(k->kbd_queue, &k->kbd_head, &k->kbd_count);
            if (k->cmd_byte & KBC_CMD_XLATE) {
                if (b == 0xf0) {
                    k->prefix_f0 = 1; /* the break prefix never reaches the host */
                    continue;
                }
                b = kbc_xlate(b) | (k->prefix_f0 ? 0x80 : 0);
                k->prefix_f0 = 0;
            }
            k->outbuf = b;
            k->status = (k->status | KBC_STAT_OBF) & ~KBC_STAT_AUXB;
        } else if (k->aux_count && !(k->cmd_byte & KBC_CMD_AUX_DIS)) {
            k->outbuf = queue_pop(k->aux_queue, &k->aux_head, &k->aux_count);
            k->status |= KBC_STAT_OBF | KBC_STAT_AUXB;
        } else {
            break;
        }
    }
    kbc_update_irq(k, false);
}

/* A byte the controller itself answers with (command results, D2/D3 data). */
static void kbc_output(Kbc *k, uint8_t b, bool aux)
{
    k->outbuf = b;
    k->status |= KBC_STAT_OBF;
    if (aux)
        k->status |= KBC_STAT_AUXB;
    else
        k->status &= ~KBC_STAT_AUXB;
    kbc_update_irq(k, false);
}

/* ---- the keyboard ---- */

static void kbd_send(Kbc *k, uint8_t b)
{
    if (queue_push(k->kbd_queue, k->kbd_head, &k->kbd_count, b)) k->kbd_last = b;
}

static void kbd_defaults(Kbc *k)
{
    k->kbd_typematic = 0x2b; /* 10.9 characters/s after 500 ms */
}

static void kbd_clear_queue(Kbc *k)
{
    k->kbd_count = 0;
    k->prefix_f0 = 0;
}

static void kbd_write(Kbc *k, uint8_t v)
{
    uint8_t pending = k->kbd_pending_cmd;
    k->kbd_pending_cmd = 0;
    /* A parameter byte; a command byte in its place starts a new command instead. */
    if (pending && v < 0xed) {
        switch (pending) {
        case 0xed:
            k->kbd_leds = v & 7;
            kbd_send(k, KBD_ACK);
            break;
        case 0xf3:
            k->kbd_typematic = v & 0x7f;
            kbd_send(k, KBD_ACK);
            break;
        case 0xf0:
            if (v == 0) {
                kbd_send(k, KBD_ACK);
                kbd_send(k, k->kbd_scancode_set);
            } else if (v <= 3) {
                k->kbd_scancode_set = v;
                kbd_send(k, KBD_ACK);
            } else {
                kbd_send(k, KBD_RESEND);
            }
            break;
        }
        kbc_fill(k);
        return;
    }
    switch (v) {
    case 0xed: /* set LEDs */
    case 0xf3: /* set typematic rate/delay */
    case 0xf0: /* get/set scan code set */
        kbd_send(k, KBD_ACK);
        k->kbd_pending_cmd = v;
        break;
    case 0xee: kbd_send(k, 0xee); break; /* echo */
    case 0xf2: /* identify: MF2 keyboard */
        kbd_send(k, KBD_ACK);
        kbd_send(k, 0xab);
        kbd_send(k, 0x83);
        break;
    case 0xf4: /* enable scanning */
        kbd_clear_queue(k);
        kbd_send(k, KBD_ACK);
        k->kbd_scanning = true;
        break;
    case 0xf5: /* disable scanning and restore defaults */
        kbd_clear_queue(k);
        kbd_send(k, KBD_ACK);
        kbd_defaults(k);
        k->kbd_scanning = false;
        break;
    case 0xf6: /* restore defaults, keep scanning */
        kbd_clear_queue(k);
        kbd_send(k, KBD_ACK);
        kbd_defaults(k);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: /* set-3 key types: accepted */
        kbd_send(k, KBD_ACK);
        break;
    case 0xfe: kbd_send(k, k->kbd_last); break;
    case 0xff: /* reset and basic assurance test */
        kbd_clear_queue(k);
        kbd_send(k, KBD_ACK);
        kbd_defaults(k);
        k->kbd_leds = 0;
        k->kbd_scancode_set = 2;
        k->kbd_scanning = true;
        kbd_send(k, KBD_BAT_OK);
        break;
    default: kbd_send(k, KBD_RESEND); break;
    }
    kbc_fill(k);
}

void kbc_put_keycode(Kbc *k, const uint8_t *set2, int n)
{
    if (!k->kbd_scanning || n <= 0) return;
    uint8_t codes[16];
    int m = 0;
    if (k->kbd_scancode_set == 1) {
        /* The keyboard itself speaks set 1: same mapping as the controller's. */
        bool brk = false;
        for (int i = 0; i < n && m < (int)sizeof(codes); i++) {
            if (set2[i] == 0xf0) {
                brk = true;
                continue;
            }
            codes[m++] = kbc_xlate(set2[i]) | (brk ? 0x80 : 0);
            brk = false;
        }
    } else {
        /* Sets 2 and 3 are sent as set 2 (set 3 differs only in rarely used keys). */
        for (int i = 0; i < n && m < (int)sizeof(codes); i++) codes[m++] = set2[i];
    }
    if (KBD_QUEUE - k->kbd_count < m) {
        /* No room for the whole event: the keyboard reports an overrun once. */
        uint8_t ovr = k->kbd_scancode_set == 1 ? 0xff : 0x00;
        if (k->kbd_count < KBD_QUEUE) kbd_send(k, ovr);
    } else {
        for (int i = 0; i < m; i++) kbd_send(k, codes[i]);
    }
    kbc_fill(k);
}

/* ---- the mouse ---- */

static void aux_send(Kbc *k, uint8_t b)
{
    if (queue_push(k->aux_queue, k->aux_head, &k->aux_count, b)) k->aux_last = b;
}

static void aux_defaults(Kbc *k)
{
    k->aux_status = 0; /* stream mode, reporting off, scaling 1:1 */
    k->aux_resolution = 2; /* 4 counts/mm */
    k->aux_rate = 100;
    k->aux_dx = k->aux_dy = 0;
}

/* 2:1 scaling as the PS/2 mouse applies it in stream mode. */
static int aux_scale(int d)
{
    static const int small[6] = {0, 1, 1, 3, 6, 9};
    int a = d < 0 ? -d : d;
    int s = a < 6 ? small[a] : 2 * a;
    return d < 0 ? -s : s;
}

static void aux_packet(Kbc *k, int dx, int dy)
{
    if (KBD_QUEUE - k->aux_count < 3) return; /* never split a packet */
    if (k->aux_status & AUX_STAT_SCALE21) {
        dx = aux_scale(dx);
        dy = aux_scale(dy);
    }
    uint8_t b0 = 0x08 | (k->aux_buttons & 7);
    if (dx > 255) dx = 255, b0 |= 0x40;
    if (dx < -256) dx = -256, b0 |= 0x40;
    if (dy > 255) dy = 255, b0 |= 0x80;
    if (dy < -256) dy = -256, b0 |= 0x80;
    if (dx < 0) b0 |= 0x10;
    if (dy < 0) b0 |= 0x20;
    aux_send(k, b0);
    aux_send(k, (uint8_t)dx);
    aux_send(k, (uint8_t)dy);
}

static void aux_write(Kbc *k, uint8_t v)
{
    if (k->aux_wrap && v != 0xff && v != 0xec) {
        aux_send(k, v); /* wrap mode echoes everything but reset and reset-wrap */
        kbc_fill(k);
        return;
    }
    uint8_t pending = k->aux_pending_cmd;
    k->aux_pending_cmd = 0;
    if (pending) {
        if (pending == 0xf3)
            k->aux_rate = v;
        else
            k->aux_resolution = v & 3;
        aux_send(k, KBD_ACK);
        kbc_fill(k);
        return;
    }
    switch (v) {
    case 0xe6: k->aux_status &= ~AUX_STAT_SCALE21; aux_send(k, KBD_ACK); break;
    case 0xe7: k->aux_status |= AUX_STAT_SCALE21; aux_send(k, KBD_ACK); break;
    case 0xe8: /* set resolution */
    case 0xf3: /* set sample rate */
        aux_send(k, KBD_ACK);
        k->aux_pending_cmd = v;
        break;
    case 0xe9: { /* status request: mode, buttons (left bit 2, middle 1, right 0) */
        uint8_t b = k->aux_buttons;
        uint8_t s = (k->aux_status & 0x70) | ((b & 1) << 2) | ((b & 4) >> 1) | ((b & 2) >> 1);
        aux_send(k, KBD_ACK);
        aux_send(k, s);
        aux_send(k, k->aux_resolution);
        aux_send(k, k->aux_rate);
        break;
    }
    case 0xea: /* stream mode */
        k->aux_status &= ~AUX_STAT_REMOTE;
        k->aux_dx = k->aux_dy = 0;
        aux_send(k, KBD_ACK);
        break;
    case 0xeb: /* read data (remote mode poll) */
        aux_send(k, KBD_ACK);
        aux_packet(k, k->aux_dx, k->aux_dy);
        k->aux_dx = k->aux_dy = 0;
        break;
    case 0xec: k->aux_wrap = false; aux_send(k, KBD_ACK); break;
    case 0xee: k->aux_wrap = true; aux_send(k, KBD_ACK); break;
    case 0xf0: /* remote mode */
        k->aux_status |= AUX_STAT_REMOTE;
        k->aux_dx = k->aux_dy = 0;
        aux_send(k, KBD_ACK);
        break;
    case 0xf2: aux_send(k, KBD_ACK); aux_send(k, 0x00); break; /* standard PS/2 mouse */
    case 0xf4: k->aux_status |= AUX_STAT_ENABLED; aux_send(k, KBD_ACK); break;
    case 0xf5: k->aux_status &= ~AUX_STAT_ENABLED; aux_send(k, KBD_ACK); break;
    case 0xf6: aux_defaults(k); aux_send(k, KBD_ACK); break;
    case 0xfe: aux_send(k, k->aux_last); break;
    case 0xff: /* reset: ACK, self-test passed, device ID */
        k->aux_count = 0;
        k->aux_wrap = false;
        aux_defaults(k);
        aux_send(k, KBD_ACK);
        aux_send(k, KBD_BAT_OK);
        aux_send(k, 0x00);
        break;
    default: aux_send(k, KBD_RESEND); break;
    }
    kbc_fill(k);
}

static int clamp16(int v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }

void kbc_put_mouse(Kbc *k, int dx, int dy, int dz, unsigned buttons)
{
    k->aux_buttons = buttons & 7;
    dy = -dy; /* PS/2 y points up */
    if (k->aux_wrap) return;
    if (k->aux_status & AUX_STAT_REMOTE) {
        k->aux_dx = (int16_t)clamp16(k->aux_dx + dx);
        k->aux_dy = (int16_t)clamp16(k->aux_dy + dy);
        return;
    }
    if (!(k->aux_status & AUX_STAT_ENABLED)) return;
    aux_packet(k, dx, dy);
    kbc_fill(k);
}

/* ---- the controller ---- */

static void kbc_set_a20(Kbc *k, bool on)
{
    if (on)
        k->out_port |= KBC_OUT_A20;
    else
        k->out_port &= ~KBC_OUT_A20;
    if (k->set_a20) k->set_a20(k->board, on);
}

static void kbc_write_outport(Kbc *k, uint8_t v)
{
    kbc_set_a20(k, v & KBC_OUT_A20);
    k->out_port = v | KBC_OUT_RESET;
    /* Reset low: the board resets the CPU; the line reads back high afterwards. */
    if (!(v & KBC_OUT_RESET) && k->reset_cpu) k->reset_cpu(k->board);
}

static void kbc_set_cmd_byte(Kbc *k, uint8_t v)
{
    k->cmd_byte = v;
    if (v & KBC_CMD_SYS)
        k->status |= KBC_STAT_SYS;
    else
        k->status &= ~KBC_STAT_SYS;
}

static void kbc_command(Kbc *k, uint8_t v)
{
    k->pending_cmd = 0;
    if (v >= 0x20 && v <= 0x3f) { /* read controller RAM (byte 0: command byte) */
        kbc_output(k, v == 0x20 ? k->cmd_byte : k->ram[v & 0x1f], false);
        return;
    }
    if ((v >= 0x60 && v <= 0x7f) || (v >= 0xd1 && v <= 0xd4)) {
        k->pending_cmd = v; /* the data byte follows on port 0x60 */
        return;
    }
    if (v >= 0xf0) { /* pulse output port bits 0-3 low where v has zeros */
        if (!(v & 1) && k->reset_cpu) k->reset_cpu(k->board);
        return;
    }
    switch (v) {
    case 0xa4: kbc_output(k, 0xf1, false); break; /* no password installed */
    case 0xa7: k->cmd_byte |= KBC_CMD_AUX_DIS; break;
    case 0xa8: k->cmd_byte &= ~KBC_CMD_AUX_DIS; break;
    case 0xa9: kbc_output(k, 0x00, false); break; /* aux interface test: no error */
    case 0xaa: /* self test */
        k->status |= KBC_STAT_SYS;
        kbc_output(k, 0x55, false);
        break;
    case 0xab: kbc_output(k, 0x00, false); break; /* keyboard interface test */
    case 0xad: k->cmd_byte |= KBC_CMD_KBD_DIS; break;
    case 0xae: k->cmd_byte &= ~KBC_CMD_KBD_DIS; break;
    case 0xc0: /* input port: keyboard not inhibited, no jumper, colour display */
        kbc_output(k, 0xb0, false);
        break;
    case 0xd0: {
        uint8_t p = k->out_port & ~(KBC_OUT_KBD_OBF | KBC_OUT_AUX_OBF);
        if (k->status & KBC_STAT_OBF)
            p |= (k->status & KBC_STAT_AUXB) ? KBC_OUT_AUX_OBF : KBC_OUT_KBD_OBF;
        kbc_output(k, p, false);
        break;
    }
    case 0xdd: kbc_set_a20(k, false); break;
    case 0xdf: kbc_set_a20(k, true); break;
    case 0xe0: kbc_output(k, 0x00, false); break; /* test inputs */
    default: break; /* unimplemented commands are ignored */
    }
}

static void kbc_data(Kbc *k, uint8_t v)
{
    uint8_t cmd = k->pending_cmd;
    k->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        if (cmd == 0x60)
            kbc_set_cmd_byte(k, v);
        else
            k->ram[cmd & 0x1f] = v;
        return;
    }
    switch (cmd) {
    case 0xd1: kbc_write_outport(k, v); break;
    case 0xd2: kbc_output(k, v, false); break;
    case 0xd3: kbc_output(k, v, true); break;
    case 0xd4:
        k->cmd_byte &= ~KBC_CMD_AUX_DIS; /* talking to the mouse enables its clock */
        aux_write(k, v);
        break;
    default:
        k->cmd_byte &= ~KBC_CMD_KBD_DIS; /* likewise for the keyboard */
        kbd_write(k, v);
        break;
    }
}

/* Port 0x60: the output buffer / data for the controller or the keyboard. */
static uint32_t kbc_data_read(void *dev, uint32_t offset, unsigned size)
{
    Kbc *k = dev;
    uint8_t v = k->outbuf;
    k->status &= ~(KBC_STAT_OBF | KBC_STAT_AUXB);
    kbc_update_irq(k, false); /* the level drops, then rises again if more is queued */
    kbc_fill(k);
    return v;
}

static void kbc_data_write(void *dev, uint32_t offset, uint32_t value, unsigned size)
{
    Kbc *k = dev;
    k->status &= ~KBC_STAT_A2;
    kbc_data(k, (uint8_t)value);
    kbc_fill(k); /* the command byte may have enabled an interface or an IRQ */
}

/* Port 0x64: status register / controller commands. */
static uint32_t kbc_status_read(void *dev, uint32_t offset, unsigned size)
{
    return ((Kbc *)dev)->status;
}

static void kbc_command_write(void *dev, uint32_t offset, uint32_t value, unsigned size)
{
    Kbc *k = dev;
    k->status |= KBC_STAT_A2;
    kbc_command(k, (uint8_t)value);
    kbc_fill(k);
}

void kbc_reset(void *dev)
{
    Kbc *k = dev;
    k->cmd_byte = KBC_CMD_KBD_INT | KBC_CMD_AUX_DIS | KBC_CMD_XLATE;
    k->status = KBC_STAT_UNLOCK;
    k->out_port = 0xcf; /* reset and A20 high; the board sets its own A20 at reset */
    k->pending_cmd = 0;
    k->outbuf = 0;
    k->kbd_head = k->kbd_count = 0;
    k->aux_head = k->aux_count = 0;
    memset(k->ram, 0, sizeof(k->ram));
    k->kbd_pending_cmd = 0;
    k->kbd_scanning = true;
    k->kbd_scancode_set = 2;
    k->kbd_leds = 0;
    k->kbd_last = 0;
    k->prefix_f0 = 0;
    kbd_defaults(k);
    k->aux_pending_cmd = 0;
    k->aux_wrap = false;
    k->aux_buttons = 0;
    k->aux_last = 0;
    aux_defaults(k);
    kbc_update_irq(k, true);
}

static int kbc_post_load(void *dev)
{
    Kbc *k = dev;
    k->kbd_head %= KBD_QUEUE;
    k->aux_head %= KBD_QUEUE;
    if (k->kbd_count > KBD_QUEUE) k->kbd_count = KBD_QUEUE;
    if (k->aux_count > KBD_QUEUE) k->aux_count = KBD_QUEUE;
    /* A20 is not re-driven here: the board saves the CPU's A20 state itself. */
    kbc_update_irq(k, true);
    return 0;
}

static const StateField kbc_fields[] = {
    STATE_U8(Kbc, status),
    STATE_U8(Kbc, cmd_byte),
    STATE_U8(Kbc, out_port),
    STATE_U8(Kbc, pending_cmd),
    STATE_U8(Kbc, outbuf),
    STATE_U8_ARRAY(Kbc, kbd_queue, KBD_QUEUE),
    STATE_U8(Kbc, kbd_head),
    STATE_U8(Kbc, kbd_count),
    STATE_U8_ARRAY(Kbc, aux_queue, KBD_QUEUE),
    STATE_U8(Kbc, aux_head),
    STATE_U8(Kbc, aux_count),
    STATE_U8(Kbc, kbd_pending_cmd),
    STATE_BOOL(Kbc, kbd_scanning),
    STATE_U8(Kbc, kbd_scancode_set),
    STATE_U8(Kbc, kbd_leds),
    STATE_U8(Kbc, prefix_f0),
    STATE_U8(Kbc, aux_pending_cmd),
    STATE_U8(Kbc, aux_status),
    STATE_U8(Kbc, aux_resolution),
    STATE_U8(Kbc, aux_rate),
    STATE_BOOL(Kbc, aux_wrap),
    STATE_U8_ARRAY(Kbc, ram, 32),
    STATE_U8(Kbc, kbd_typematic),
    STATE_U8(Kbc, kbd_last),
    STATE_U8(Kbc, aux_last),
    STATE_U8(Kbc, aux_buttons),
    STATE_U16(Kbc, aux_dx),
    STATE_U16(Kbc, aux_dy),
    STATE_END,
};
static const StateDesc kbc_state = {"i8042", 1, kbc_fields};

/* Two ranges, one ops table each; the data port's carries reset and state. */
static const DeviceOps kbc_data_ops = {
    .name = "i8042",
    .reset = kbc_reset,
    .read = kbc_data_read,
    .write = kbc_data_write,
    .min_access = 1,
    .max_access = 1,
    .state = &kbc_state,
    .post_load = kbc_post_load,
};

static const DeviceOps kbc_command_ops = {
    .name = "i8042-cmd",
    .read = kbc_status_read,
    .write = kbc_command_write,
    .min_access = 1,
    .max_access = 1,
};

void kbc_init(Kbc *k, Bus *bus, IrqLine irq1, IrqLine irq12,
              void (*set_a20)(void *, bool), void (*reset_cpu)(void *), void *board)
{
    memset(k, 0, sizeof(*k));
    k->irq_kbd = irq1;
    k->irq_aux = irq12;
    k->set_a20 = set_a20;
    k->reset_cpu = reset_cpu;
    k->board = board;
    kbc_reset(k);
    bus_map_io(bus, 0x60, 1, &kbc_data_ops, k);
    bus_map_io(bus, 0x64, 1, &kbc_command_ops, k);
}
