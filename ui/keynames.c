/*
 * keynames.c — QEMU key names → PS/2 set-2 scan codes. The names are QEMU's QKeyCode
 * list (qapi/ui.json); the codes are the IBM PS/2 set-2 make codes (an E0 prefix for
 * the extended keys; a break is F0 before the last byte). The qnum column is the
 * set-1 number QEMU accepts in place of a name (0x80 = E0 prefix).
 */
#include "ui/keynames.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define E0 0x100 /* the code takes an E0 prefix */

typedef struct KeyName {
    const char *name;
    uint16_t set2; /* make code | E0; 0 for the specials (print, pause) */
    uint8_t qnum;  /* set-1 number (0x80 | code for E0 keys); 0 = none */
} KeyName;

static const KeyName KEYS[] = {
    {"esc", 0x76, 0x01}, {"1", 0x16, 0x02}, {"2", 0x1E, 0x03}, {"3", 0x26, 0x04},
    {"4", 0x25, 0x05}, {"5", 0x2E, 0x06}, {"6", 0x36, 0x07}, {"7", 0x3D, 0x08},
    {"8", 0x3E, 0x09}, {"9", 0x46, 0x0A}, {"0", 0x45, 0x0B}, {"minus", 0x4E, 0x0C},
    {"equal", 0x55, 0x0D}, {"backspace", 0x66, 0x0E}, {"tab", 0x0D, 0x0F},
    {"q", 0x15, 0x10}, {"w", 0x1D, 0x11}, {"e", 0x24, 0x12}, {"r", 0x2D, 0x13},
    {"t", 0x2C, 0x14}, {"y", 0x35, 0x15}, {"u", 0x3C, 0x16}, {"i", 0x43, 0x17},
    {"o", 0x44, 0x18}, {"p", 0x4D, 0x19}, {"bracket_left", 0x54, 0x1A},
    {"bracket_right", 0x5B, 0x1B}, {"ret", 0x5A, 0x1C}, {"ctrl", 0x14, 0x1D},
    {"a", 0x1C, 0x1E}, {"s", 0x1B, 0x1F}, {"d", 0x23, 0x20}, {"f", 0x2B, 0x21},
    {"g", 0x34, 0x22}, {"h", 0x33, 0x23}, {"j", 0x3B, 0x24}, {"k", 0x42, 0x25},
    {"l", 0x4B, 0x26}, {"semicolon", 0x4C, 0x27}, {"apostrophe", 0x52, 0x28},
    {"grave_accent", 0x0E, 0x29}, {"shift", 0x12, 0x2A}, {"backslash", 0x5D, 0x2B},
    {"z", 0x1A, 0x2C}, {"x", 0x22, 0x2D}, {"c", 0x21, 0x2E}, {"v", 0x2A, 0x2F},
    {"b", 0x32, 0x30}, {"n", 0x31, 0x31}, {"m", 0x3A, 0x32}, {"comma", 0x41, 0x33},
    {"dot", 0x49, 0x34}, {"slash", 0x4A, 0x35}, {"shift_r", 0x59, 0x36},
    {"kp_multiply", 0x7C, 0x37}, {"asterisk", 0x7C, 0}, {"alt", 0x11, 0x38},
    {"spc", 0x29, 0x39}, {"caps_lock", 0x58, 0x3A},
    {"f1", 0x05, 0x3B}, {"f2", 0x06, 0x3C}, {"f3", 0x04, 0x3D}, {"f4", 0x0C, 0x3E},
    {"f5", 0x03, 0x3F}, {"f6", 0x0B, 0x40}, {"f7", 0x83, 0x41}, {"f8", 0x0A, 0x42},
    {"f9", 0x01, 0x43}, {"f10", 0x09, 0x44}, {"num_lock", 0x77, 0x45},
    {"scroll_lock", 0x7E, 0x46}, {"kp_7", 0x6C, 0x47}, {"kp_8", 0x75, 0x48},
    {"kp_9", 0x7D, 0x49}, {"kp_subtract", 0x7B, 0x4A}, {"kp_4", 0x6B, 0x4B},
    {"kp_5", 0x73, 0x4C}, {"kp_6", 0x74, 0x4D}, {"kp_add", 0x79, 0x4E},
    {"kp_1", 0x69, 0x4F}, {"kp_2", 0x72, 0x50}, {"kp_3", 0x7A, 0x51},
    {"kp_0", 0x70, 0x52}, {"kp_decimal", 0x71, 0x53}, {"sysrq", 0x84, 0x54},
    {"less", 0x61, 0x56}, {"f11", 0x78, 0x57}, {"f12", 0x07, 0x58},
    {"kp_equals", 0x0F, 0x59}, {"ro", 0x51, 0x73}, {"katakanahiragana", 0x13, 0x70},
    {"hiragana", 0x13, 0}, {"henkan", 0x64, 0x79}, {"muhenkan", 0x67, 0x7B},
    {"yen", 0x6A, 0x7D}, {"kp_comma", 0x6D, 0x7E},
    {"kp_enter", E0 | 0x5A, 0x9C}, {"ctrl_r", E0 | 0x14, 0x9D},
    {"kp_divide", E0 | 0x4A, 0xB5}, {"alt_r", E0 | 0x11, 0xB8},
    {"home", E0 | 0x6C, 0xC7}, {"up", E0 | 0x75, 0xC8}, {"pgup", E0 | 0x7D, 0xC9},
    {"left", E0 | 0x6B, 0xCB}, {"right", E0 | 0x74, 0xCD}, {"end", E0 | 0x69, 0xCF},
    {"down", E0 | 0x72, 0xD0}, {"pgdn", E0 | 0x7A, 0xD1}, {"insert", E0 | 0x70, 0xD2},
    {"delete", E0 | 0x71, 0xD3}, {"meta_l", E0 | 0x1F, 0xDB},
    {"meta_r", E0 | 0x27, 0xDC}, {"menu", E0 | 0x2F, 0xDD}, {"compose", E0 | 0x2F, 0},
    {"power", E0 | 0x37, 0xDE}, {"sleep", E0 | 0x3F, 0xDF}, {"wake", E0 | 0x5E, 0xE3},
    {"audionext", E0 | 0x4D, 0x99}, {"audioprev", E0 | 0x15, 0x90},
    {"audiostop", E0 | 0x3B, 0xA4}, {"audioplay", E0 | 0x34, 0xA2},
    {"audiomute", E0 | 0x23, 0xA0}, {"volumeup", E0 | 0x32, 0xB0},
    {"volumedown", E0 | 0x21, 0xAE}, {"mediaselect", E0 | 0x50, 0xED},
    {"mail", E0 | 0x48, 0xEC}, {"calculator", E0 | 0x2B, 0xA1},
    {"computer", E0 | 0x40, 0xEB}, {"ac_home", E0 | 0x3A, 0xB2},
    {"ac_back", E0 | 0x38, 0xEA}, {"ac_forward", E0 | 0x30, 0xE9},
    {"ac_refresh", E0 | 0x20, 0xE7}, {"ac_bookmarks", E0 | 0x18, 0xE6},
    {"print", 0, 0xB7}, {"pause", 0, 0xC6},
};

static const KeyName *lookup(const char *name)
{
    size_t n = sizeof(KEYS) / sizeof(KEYS[0]);
    if (name[0] == '0' && (name[1] == 'x' || name[1] == 'X') && name[2]) {
        char *end;
        unsigned long v = strtoul(name, &end, 16);
        if (*end || v == 0 || v > 0xff) return NULL;
        for (size_t i = 0; i < n; i++)
            if (KEYS[i].qnum == v) return &KEYS[i];
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(KEYS[i].name, name)) return &KEYS[i];
    return NULL;
}

int keyname_set2(const char *name, bool brk, uint8_t out[8])
{
    const KeyName *k = lookup(name);
    if (!k) return -1;
    int n = 0;
    if (!strcmp(k->name, "print")) {
        /* Print Screen: a fake left shift around E0 7C */
        static const uint8_t mk[] = {0xE0, 0x12, 0xE0, 0x7C};
        static const uint8_t br[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
        n = brk ? (int)sizeof(br) : (int)sizeof(mk);
        memcpy(out, brk ? br : mk, n);
        return n;
    }
    if (!strcmp(k->name, "pause")) {
        /* Pause: one make sequence with its own break inside, nothing on release */
        static const uint8_t mk[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        if (brk) return 0;
        memcpy(out, mk, sizeof(mk));
        return (int)sizeof(mk);
    }
    if (k->set2 & E0) out[n++] = 0xE0;
    if (brk) out[n++] = 0xF0;
    out[n++] = (uint8_t)k->set2;
    return n;
}

int keyname_split(const char *keys, char *buf, int buflen, const char **names, int max,
                  const char **bad)
{
    *bad = keys;
    if (!keys || !*keys || (int)strlen(keys) >= buflen) return -1;
    strcpy(buf, keys);
    int n = 0;
    char *p = buf;
    for (;;) {
        /* QEMU separates keys with '-'; "minus" names the key itself */
        char *dash = strchr(p, '-');
        if (dash) *dash = 0;
        uint8_t tmp[8];
        if (!*p || keyname_set2(p, false, tmp) < 0 || n >= max) {
            *bad = p;
            return -1;
        }
        names[n++] = p;
        if (!dash) break;
        p = dash + 1;
    }
    return n;
}
