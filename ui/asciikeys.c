/*
 * asciikeys.c — ASCII to US-layout set-2 keys, and the paced typing queue (see
 * asciikeys.h). Codes from the Microsoft Keyboard Scan Code Specification (set 2).
 */
#include "ui/asciikeys.h"

#include <string.h>

#define SHIFTED 0x8000 /* in ASCII_KEYS: the character needs Shift */

/* ASCII 0x20-0x7E -> set-2 make code (| SHIFTED). */
static const uint16_t ASCII_KEYS[0x5f] = {
    [' ' - 0x20] = 0x29,
    ['!' - 0x20] = SHIFTED | 0x16, ['"' - 0x20] = SHIFTED | 0x52,
    ['#' - 0x20] = SHIFTED | 0x26, ['$' - 0x20] = SHIFTED | 0x25,
    ['%' - 0x20] = SHIFTED | 0x2E, ['&' - 0x20] = SHIFTED | 0x3D,
    ['\'' - 0x20] = 0x52, ['(' - 0x20] = SHIFTED | 0x46, [')' - 0x20] = SHIFTED | 0x45,
    ['*' - 0x20] = SHIFTED | 0x3E, ['+' - 0x20] = SHIFTED | 0x55, [',' - 0x20] = 0x41,
    ['-' - 0x20] = 0x4E, ['.' - 0x20] = 0x49, ['/' - 0x20] = 0x4A,
    ['0' - 0x20] = 0x45, ['1' - 0x20] = 0x16, ['2' - 0x20] = 0x1E, ['3' - 0x20] = 0x26,
    ['4' - 0x20] = 0x25, ['5' - 0x20] = 0x2E, ['6' - 0x20] = 0x36, ['7' - 0x20] = 0x3D,
    ['8' - 0x20] = 0x3E, ['9' - 0x20] = 0x46,
    [':' - 0x20] = SHIFTED | 0x4C, [';' - 0x20] = 0x4C, ['<' - 0x20] = SHIFTED | 0x41,
    ['=' - 0x20] = 0x55, ['>' - 0x20] = SHIFTED | 0x49, ['?' - 0x20] = SHIFTED | 0x4A,
    ['@' - 0x20] = SHIFTED | 0x1E,
    ['A' - 0x20] = SHIFTED | 0x1C, ['B' - 0x20] = SHIFTED | 0x32,
    ['C' - 0x20] = SHIFTED | 0x21, ['D' - 0x20] = SHIFTED | 0x23,
    ['E' - 0x20] = SHIFTED | 0x24, ['F' - 0x20] = SHIFTED | 0x2B,
    ['G' - 0x20] = SHIFTED | 0x34, ['H' - 0x20] = SHIFTED | 0x33,
    ['I' - 0x20] = SHIFTED | 0x43, ['J' - 0x20] = SHIFTED | 0x3B,
    ['K' - 0x20] = SHIFTED | 0x42, ['L' - 0x20] = SHIFTED | 0x4B,
    ['M' - 0x20] = SHIFTED | 0x3A, ['N' - 0x20] = SHIFTED | 0x31,
    ['O' - 0x20] = SHIFTED | 0x44, ['P' - 0x20] = SHIFTED | 0x4D,
    ['Q' - 0x20] = SHIFTED | 0x15, ['R' - 0x20] = SHIFTED | 0x2D,
    ['S' - 0x20] = SHIFTED | 0x1B, ['T' - 0x20] = SHIFTED | 0x2C,
    ['U' - 0x20] = SHIFTED | 0x3C, ['V' - 0x20] = SHIFTED | 0x2A,
    ['W' - 0x20] = SHIFTED | 0x1D, ['X' - 0x20] = SHIFTED | 0x22,
    ['Y' - 0x20] = SHIFTED | 0x35, ['Z' - 0x20] = SHIFTED | 0x1A,
    ['[' - 0x20] = 0x54, ['\\' - 0x20] = 0x5D, [']' - 0x20] = 0x5B,
    ['^' - 0x20] = SHIFTED | 0x36, ['_' - 0x20] = SHIFTED | 0x4E, ['`' - 0x20] = 0x0E,
    ['a' - 0x20] = 0x1C, ['b' - 0x20] = 0x32, ['c' - 0x20] = 0x21, ['d' - 0x20] = 0x23,
    ['e' - 0x20] = 0x24, ['f' - 0x20] = 0x2B, ['g' - 0x20] = 0x34, ['h' - 0x20] = 0x33,
    ['i' - 0x20] = 0x43, ['j' - 0x20] = 0x3B, ['k' - 0x20] = 0x42, ['l' - 0x20] = 0x4B,
    ['m' - 0x20] = 0x3A, ['n' - 0x20] = 0x31, ['o' - 0x20] = 0x44, ['p' - 0x20] = 0x4D,
    ['q' - 0x20] = 0x15, ['r' - 0x20] = 0x2D, ['s' - 0x20] = 0x1B, ['t' - 0x20] = 0x2C,
    ['u' - 0x20] = 0x3C, ['v' - 0x20] = 0x2A, ['w' - 0x20] = 0x1D, ['x' - 0x20] = 0x22,
    ['y' - 0x20] = 0x35, ['z' - 0x20] = 0x1A,
    ['{' - 0x20] = SHIFTED | 0x54, ['|' - 0x20] = SHIFTED | 0x5D,
    ['}' - 0x20] = SHIFTED | 0x5B, ['~' - 0x20] = SHIFTED | 0x0E,
};

bool asciikey_lookup(uint8_t ch, uint16_t *key, bool *shift)
{
    *shift = false;
    switch (ch) {
    case '\t': *key = KEY_TAB; return true;
    case '\n':
    case '\r': *key = KEY_ENTER; return true;
    case 0x08:
    case 0x7f: *key = KEY_BACKSPACE; return true;
    case 0x1b: *key = KEY_ESC; return true;
    default: break;
    }
    if (ch < 0x20 || ch > 0x7e) return false;
    uint16_t k = ASCII_KEYS[ch - 0x20];
    *key = k & ~SHIFTED;
    *shift = (k & SHIFTED) != 0;
    return true;
}

int asciikey_bytes(uint16_t key, bool make, uint8_t *out)
{
    int n = 0;
    if (key & KEY_E0) out[n++] = 0xE0;
    if (!make) out[n++] = 0xF0;
    out[n++] = key & 0xFF;
    return n;
}

void keyqueue_init(KeyQueue *q) { memset(q, 0, sizeof(*q)); }

bool keyqueue_push(KeyQueue *q, uint16_t key, unsigned mods)
{
    if (q->count >= KEYQUEUE_SIZE) return false;
    unsigned i = (q->head + q->count++) % KEYQUEUE_SIZE;
    q->key[i] = key;
    q->mods[i] = (uint8_t)mods;
    return true;
}

size_t keyqueue_push_text(KeyQueue *q, const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint16_t key;
        bool shift;
        if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') continue;
        if (!asciikey_lookup((uint8_t)text[i], &key, &shift)) continue;
        if (!keyqueue_push(q, key, shift ? KEYMOD_SHIFT : 0)) break;
        n++;
    }
    return n;
}

static void key_event(Input *in, Machine *m, uint16_t key, bool make)
{
    uint8_t b[4];
    input_key(in, m, b, asciikey_bytes(key, make, b));
}

bool keyqueue_pump(KeyQueue *q, Input *in, Machine *m)
{
    if (!q->count) return false;
    const Kbc *k = &m->kbc;
    /* the guest has not read everything yet, or its keyboard is off: keep the keys */
    if (k->kbd_count || (k->status & 1) || !k->kbd_scanning) return false;
    uint64_t now = machine_now_ns(m);
    if (q->typed_once && now - q->last_ns < 5000000) return false;
    uint16_t key = q->key[q->head];
    unsigned mods = q->mods[q->head];
    q->head = (q->head + 1) % KEYQUEUE_SIZE;
    q->count--;
    static const uint16_t mod_key[3] = {0x12, 0x14, 0x11}; /* L Shift, L Ctrl, L Alt */
    for (int i = 0; i < 3; i++)
        if (mods & (1u << i)) key_event(in, m, mod_key[i], true);
    key_event(in, m, key, true);
    key_event(in, m, key, false);
    for (int i = 2; i >= 0; i--)
        if (mods & (1u << i)) key_event(in, m, mod_key[i], false);
    q->last_ns = now;
    q->typed_once = true;
    return true;
}
