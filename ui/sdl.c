/*
 * sdl.c — the SDL2 window: vga_render's picture at the guest's resolution (integer
 * scaled, nearest neighbour, when the window is larger; HiDPI-aware: the renderer
 * draws in the drawable's real pixels), redrawn at most every 16 ms of host time;
 * host keys as PS/2 set-2 make/break codes (a held key repeats its make code from the
 * host's key repeat, as a keyboard's typematic does; keys held when the window loses
 * focus are released); a relative PS/2 mouse grabbed on click, or, while the guest's
 * driver has the vmmouse in absolute mode, the pointer's position in the picture with
 * no grab and the host cursor visible. Hotkeys, all Ctrl+Alt+
 * letter and listed in the title: F full screen, G release the mouse, P pause/resume,
 * R reset, D ACPI power button, S screenshot to dbt86-YYYYmmdd-HHMMSS.png, V paste the
 * clipboard as keystrokes, Q quit. Closing the window quits, as in QEMU.
 */
#include "ui/sdl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef DBT86_HAVE_SDL

#include <SDL.h>

#include "ui/asciikeys.h"
#include "ui/screenshot.h"

#define E0 0x100 /* the code takes an E0 prefix */
#define REFRESH_NS 16000000ull
#define NOTE_MS 4000 /* how long a message (screenshot saved) stays in the title */

static const char HOTKEYS[] = "Ctrl+Alt: F full screen, G release mouse, P pause, R reset, "
                              "D power button, S screenshot, V paste, Q quit";
/* vmport: the guest follows the host pointer; nothing to grab or release */
static const char ABS_HOTKEYS[] = "absolute mouse, no grab - Ctrl+Alt: F full screen, "
                                  "P pause, R reset, D power button, S screenshot, "
                                  "V paste, Q quit";

/* SDL scancode -> set-2 make code (| E0 for extended keys). 0: no key. Print Screen
 * and Pause have multi-byte sequences of their own (see key_bytes). */
static const uint16_t SET2[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_A] = 0x1C, [SDL_SCANCODE_B] = 0x32, [SDL_SCANCODE_C] = 0x21,
    [SDL_SCANCODE_D] = 0x23, [SDL_SCANCODE_E] = 0x24, [SDL_SCANCODE_F] = 0x2B,
    [SDL_SCANCODE_G] = 0x34, [SDL_SCANCODE_H] = 0x33, [SDL_SCANCODE_I] = 0x43,
    [SDL_SCANCODE_J] = 0x3B, [SDL_SCANCODE_K] = 0x42, [SDL_SCANCODE_L] = 0x4B,
    [SDL_SCANCODE_M] = 0x3A, [SDL_SCANCODE_N] = 0x31, [SDL_SCANCODE_O] = 0x44,
    [SDL_SCANCODE_P] = 0x4D, [SDL_SCANCODE_Q] = 0x15, [SDL_SCANCODE_R] = 0x2D,
    [SDL_SCANCODE_S] = 0x1B, [SDL_SCANCODE_T] = 0x2C, [SDL_SCANCODE_U] = 0x3C,
    [SDL_SCANCODE_V] = 0x2A, [SDL_SCANCODE_W] = 0x1D, [SDL_SCANCODE_X] = 0x22,
    [SDL_SCANCODE_Y] = 0x35, [SDL_SCANCODE_Z] = 0x1A,
    [SDL_SCANCODE_1] = 0x16, [SDL_SCANCODE_2] = 0x1E, [SDL_SCANCODE_3] = 0x26,
    [SDL_SCANCODE_4] = 0x25, [SDL_SCANCODE_5] = 0x2E, [SDL_SCANCODE_6] = 0x36,
    [SDL_SCANCODE_7] = 0x3D, [SDL_SCANCODE_8] = 0x3E, [SDL_SCANCODE_9] = 0x46,
    [SDL_SCANCODE_0] = 0x45,
    [SDL_SCANCODE_RETURN] = 0x5A, [SDL_SCANCODE_ESCAPE] = 0x76,
    [SDL_SCANCODE_BACKSPACE] = 0x66, [SDL_SCANCODE_TAB] = 0x0D, [SDL_SCANCODE_SPACE] = 0x29,
    [SDL_SCANCODE_MINUS] = 0x4E, [SDL_SCANCODE_EQUALS] = 0x55,
    [SDL_SCANCODE_LEFTBRACKET] = 0x54, [SDL_SCANCODE_RIGHTBRACKET] = 0x5B,
    [SDL_SCANCODE_BACKSLASH] = 0x5D, [SDL_SCANCODE_NONUSHASH] = 0x5D,
    [SDL_SCANCODE_SEMICOLON] = 0x4C, [SDL_SCANCODE_APOSTROPHE] = 0x52,
    [SDL_SCANCODE_GRAVE] = 0x0E, [SDL_SCANCODE_COMMA] = 0x41, [SDL_SCANCODE_PERIOD] = 0x49,
    [SDL_SCANCODE_SLASH] = 0x4A, [SDL_SCANCODE_CAPSLOCK] = 0x58,
    [SDL_SCANCODE_NONUSBACKSLASH] = 0x61,
    [SDL_SCANCODE_F1] = 0x05, [SDL_SCANCODE_F2] = 0x06, [SDL_SCANCODE_F3] = 0x04,
    [SDL_SCANCODE_F4] = 0x0C, [SDL_SCANCODE_F5] = 0x03, [SDL_SCANCODE_F6] = 0x0B,
    [SDL_SCANCODE_F7] = 0x83, [SDL_SCANCODE_F8] = 0x0A, [SDL_SCANCODE_F9] = 0x01,
    [SDL_SCANCODE_F10] = 0x09, [SDL_SCANCODE_F11] = 0x78, [SDL_SCANCODE_F12] = 0x07,
    [SDL_SCANCODE_SCROLLLOCK] = 0x7E,
    [SDL_SCANCODE_INSERT] = E0 | 0x70, [SDL_SCANCODE_HOME] = E0 | 0x6C,
    [SDL_SCANCODE_PAGEUP] = E0 | 0x7D, [SDL_SCANCODE_DELETE] = E0 | 0x71,
    [SDL_SCANCODE_END] = E0 | 0x69, [SDL_SCANCODE_PAGEDOWN] = E0 | 0x7A,
    [SDL_SCANCODE_RIGHT] = E0 | 0x74, [SDL_SCANCODE_LEFT] = E0 | 0x6B,
    [SDL_SCANCODE_DOWN] = E0 | 0x72, [SDL_SCANCODE_UP] = E0 | 0x75,
    [SDL_SCANCODE_NUMLOCKCLEAR] = 0x77, [SDL_SCANCODE_KP_DIVIDE] = E0 | 0x4A,
    [SDL_SCANCODE_KP_MULTIPLY] = 0x7C, [SDL_SCANCODE_KP_MINUS] = 0x7B,
    [SDL_SCANCODE_KP_PLUS] = 0x79, [SDL_SCANCODE_KP_ENTER] = E0 | 0x5A,
    [SDL_SCANCODE_KP_1] = 0x69, [SDL_SCANCODE_KP_2] = 0x72, [SDL_SCANCODE_KP_3] = 0x7A,
    [SDL_SCANCODE_KP_4] = 0x6B, [SDL_SCANCODE_KP_5] = 0x73, [SDL_SCANCODE_KP_6] = 0x74,
    [SDL_SCANCODE_KP_7] = 0x6C, [SDL_SCANCODE_KP_8] = 0x75, [SDL_SCANCODE_KP_9] = 0x7D,
    [SDL_SCANCODE_KP_0] = 0x70, [SDL_SCANCODE_KP_PERIOD] = 0x71,
    [SDL_SCANCODE_APPLICATION] = E0 | 0x2F,
    [SDL_SCANCODE_LCTRL] = 0x14, [SDL_SCANCODE_LSHIFT] = 0x12, [SDL_SCANCODE_LALT] = 0x11,
    [SDL_SCANCODE_LGUI] = E0 | 0x1F, [SDL_SCANCODE_RCTRL] = E0 | 0x14,
    [SDL_SCANCODE_RSHIFT] = 0x59, [SDL_SCANCODE_RALT] = E0 | 0x11,
    [SDL_SCANCODE_RGUI] = E0 | 0x27,
    [SDL_SCANCODE_INTERNATIONAL1] = 0x51, [SDL_SCANCODE_INTERNATIONAL2] = 0x13,
    [SDL_SCANCODE_INTERNATIONAL3] = 0x6A, [SDL_SCANCODE_INTERNATIONAL4] = 0x64,
    [SDL_SCANCODE_INTERNATIONAL5] = 0x67,
};

struct SdlUi {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tex_w, tex_h;         /* texture (and guest mode) size */
    uint32_t *pix;            /* vga_render's output */
    int pix_w, pix_h;         /* capacity of pix */
    uint64_t last_refresh_ns;
    bool refreshed_once;
    bool grabbed, fullscreen, paused;
    bool absolute;            /* vmport: the guest takes absolute positions (no grab) */
    unsigned abs_x, abs_y;    /* vmport: the pointer's last position, 0..0xFFFF */
    char note[160];           /* a message shown in the title until note_until */
    uint64_t note_until;      /* SDL_GetTicks64() deadline of note */
    KeyQueue paste;           /* clipboard text being typed into the guest */
    unsigned buttons;         /* mouse buttons as the guest last saw them */
    bool down[SDL_NUM_SCANCODES];     /* keys the guest sees pressed */
    bool swallow[SDL_NUM_SCANCODES];  /* hotkey letters: their release is not sent */
};

bool sdl_available(void) { return true; }

static void update_title(SdlUi *ui)
{
    char t[256];
    const char *tail = ui->note[0] ? ui->note
                       : ui->grabbed ? "Press Ctrl+Alt+G to release grab"
                       : ui->absolute ? ABS_HOTKEYS /* vmport */
                                     : HOTKEYS;
    snprintf(t, sizeof(t), "dbt86%s - %s", ui->paused ? " [paused]" : "", tail);
    SDL_SetWindowTitle(ui->win, t);
}

/* Shows msg in the title for a few seconds. */
static void set_note(SdlUi *ui, const char *msg)
{
    size_t n = strlen(msg);
    if (n >= sizeof(ui->note)) n = sizeof(ui->note) - 1;
    memcpy(ui->note, msg, n);
    ui->note[n] = 0;
    ui->note_until = SDL_GetTicks64() + NOTE_MS;
    update_title(ui);
}

SdlUi *sdl_open(char *err, size_t errlen)
{
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errlen, "-display sdl: %s", SDL_GetError());
        return NULL;
    }
    SdlUi *ui = calloc(1, sizeof(*ui));
    if (!ui) {
        snprintf(err, errlen, "-display sdl: out of memory");
        SDL_Quit();
        return NULL;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "0"); /* nearest: crisp integer scaling */
    /* keep Alt+Tab etc. for the host unless grabbed; do not minimise on focus loss */
    SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
    keyqueue_init(&ui->paste);
    /* HiDPI: the window is sized in points; the renderer's logical size then maps the
     * guest's pixels onto the drawable's real pixels, integer scaled */
    ui->win = SDL_CreateWindow("dbt86", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                               640, 480, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    /* no vsync: presenting must never hold up the guest */
    if (ui->win) ui->ren = SDL_CreateRenderer(ui->win, -1, 0);
    if (!ui->win || !ui->ren) {
        snprintf(err, errlen, "-display sdl: %s", SDL_GetError());
        sdl_close(ui);
        return NULL;
    }
    SDL_RenderSetIntegerScale(ui->ren, SDL_TRUE);
    update_title(ui);
    return ui;
}

void sdl_close(SdlUi *ui)
{
    if (!ui) return;
    if (ui->grabbed) SDL_SetRelativeMouseMode(SDL_FALSE);
    if (ui->tex) SDL_DestroyTexture(ui->tex);
    if (ui->ren) SDL_DestroyRenderer(ui->ren);
    if (ui->win) SDL_DestroyWindow(ui->win);
    free(ui->pix);
    free(ui);
    SDL_Quit();
}

void sdl_set_paused(SdlUi *ui, bool paused)
{
    ui->paused = paused;
    update_title(ui);
}

static bool held(const SdlUi *ui, SDL_Scancode a, SDL_Scancode b)
{
    return ui->down[a] || ui->down[b];
}

/* The set-2 bytes for a key going down (make) or up (break). Returns the count.
 * Print Screen and Pause depend on the modifiers the guest sees held, as on a real
 * keyboard (scan code specification, set 2). */
static int key_bytes(const SdlUi *ui, SDL_Scancode sc, bool make, uint8_t *b)
{
    int n = 0;
    bool ctrl = held(ui, SDL_SCANCODE_LCTRL, SDL_SCANCODE_RCTRL);
    bool shift = held(ui, SDL_SCANCODE_LSHIFT, SDL_SCANCODE_RSHIFT);
    bool alt = held(ui, SDL_SCANCODE_LALT, SDL_SCANCODE_RALT);
    if (sc == SDL_SCANCODE_PRINTSCREEN) {
        if (alt) { /* Alt+Print Screen is SysRq */
            if (!make) b[n++] = 0xF0;
            b[n++] = 0x84;
            return n;
        }
        if (ctrl || shift) { /* no fake Shift around it then */
            static const uint8_t mk[] = {0xE0, 0x7C}, br[] = {0xE0, 0xF0, 0x7C};
            memcpy(b, make ? mk : br, make ? sizeof(mk) : sizeof(br));
            return make ? sizeof(mk) : sizeof(br);
        }
        static const uint8_t mk[] = {0xE0, 0x12, 0xE0, 0x7C};
        static const uint8_t br[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
        memcpy(b, make ? mk : br, make ? sizeof(mk) : sizeof(br));
        return make ? sizeof(mk) : sizeof(br);
    }
    if (sc == SDL_SCANCODE_PAUSE) {
        /* Pause sends its whole sequence on press and nothing on release; with Ctrl
         * it is Break */
        static const uint8_t mk[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        static const uint8_t brk[] = {0xE0, 0x7E, 0xE0, 0xF0, 0x7E};
        if (!make) return 0;
        memcpy(b, ctrl ? brk : mk, ctrl ? sizeof(brk) : sizeof(mk));
        return ctrl ? sizeof(brk) : sizeof(mk);
    }
    if (sc < 0 || sc >= SDL_NUM_SCANCODES || !SET2[sc]) return 0;
    if (SET2[sc] & E0) b[n++] = 0xE0;
    if (!make) b[n++] = 0xF0;
    b[n++] = SET2[sc] & 0xFF;
    return n;
}

static void send_key(SdlUi *ui, Input *in, Machine *m, SDL_Scancode sc, bool make)
{
    uint8_t b[8];
    int n = key_bytes(ui, sc, make, b);
    if (n) input_key(in, m, b, n);
    if (sc >= 0 && sc < SDL_NUM_SCANCODES) ui->down[sc] = make;
}

/* Focus lost (or grab released to the host): the guest must not see keys stuck down. */
static void release_all(SdlUi *ui, Input *in, Machine *m)
{
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++)
        if (ui->down[sc]) send_key(ui, in, m, (SDL_Scancode)sc, false);
    if (ui->buttons) {
        ui->buttons = 0;
        input_mouse(in, m, 0, 0, 0, 0);
    }
}

static void set_grab(SdlUi *ui, bool on)
{
    if (ui->grabbed == on) return;
    if (SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE) != 0 && on) return;
    ui->grabbed = on;
    update_title(ui);
}

static unsigned sdl_button_bit(uint8_t b)
{
    switch (b) {
    case SDL_BUTTON_LEFT: return 1;
    case SDL_BUTTON_RIGHT: return 2;
    case SDL_BUTTON_MIDDLE: return 4;
    default: return 0;
    }
}

/* vmport: a position in the window as 0..0xFFFF across the guest's picture. SDL has
 * already mapped the event's window coordinates to the renderer's logical size (the
 * guest mode: SDL_RenderSetLogicalSize), undoing the integer scaling, the letterbox
 * margins and HiDPI; points in the margins are clamped to the picture's edge. */
static void abs_position(SdlUi *ui, int x, int y)
{
    int w = ui->tex_w > 1 ? ui->tex_w : 640, h = ui->tex_h > 1 ? ui->tex_h : 480;
    x = x < 0 ? 0 : x >= w ? w - 1 : x;
    y = y < 0 ? 0 : y >= h ? h - 1 : y;
    ui->abs_x = (unsigned)((uint64_t)x * 0xffff / (unsigned)(w - 1));
    ui->abs_y = (unsigned)((uint64_t)y * 0xffff / (unsigned)(h - 1));
}

/* vmport: follows the guest switching absolute mode on or off: on, the grab goes (the
 * host cursor shows and moves freely); off, the next click grabs again. */
static void track_absolute(SdlUi *ui, Machine *m)
{
    bool abs = input_mouse_is_absolute(m);
    if (abs == ui->absolute) return;
    ui->absolute = abs;
    if (abs) set_grab(ui, false);
    update_title(ui);
}

/* Ctrl+Alt+S: the screen as dbt86-YYYYmmdd-HHMMSS.png in the current directory (with
 * -2, -3, ... when that second already has one). */
static void take_screenshot(SdlUi *ui, Machine *m)
{
    char name[64], stamp[32], err[256], msg[320];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(name, sizeof(name), "dbt86-%s.png", stamp);
    for (int k = 2; access(name, F_OK) == 0 && k < 100; k++)
        snprintf(name, sizeof(name), "dbt86-%s-%d.png", stamp, k);
    if (screenshot_write(m, name, err, sizeof(err)) < 0) {
        fprintf(stderr, "dbt86: screenshot %s\n", err);
        snprintf(msg, sizeof(msg), "screenshot failed: %s", err);
    } else {
        fprintf(stderr, "dbt86: screenshot saved to %s\n", name);
        snprintf(msg, sizeof(msg), "screenshot saved to %s", name);
    }
    set_note(ui, msg);
}

/* Ctrl+Alt+V: the clipboard's text is typed into the guest, a key at a time. */
static void paste_clipboard(SdlUi *ui)
{
    char *text = SDL_HasClipboardText() ? SDL_GetClipboardText() : NULL;
    size_t len = text ? strlen(text) : 0;
    size_t n = text ? keyqueue_push_text(&ui->paste, text, len) : 0;
    char msg[96];
    if (!len) snprintf(msg, sizeof(msg), "the clipboard holds no text");
    else snprintf(msg, sizeof(msg), "pasting %zu keys", n);
    set_note(ui, msg);
    SDL_free(text);
}

/* Ctrl+Alt+letter hotkeys. Returns true when the key was one (not sent to the guest). */
static bool hotkey(SdlUi *ui, Input *in, Machine *m, const SDL_KeyboardEvent *k)
{
    /* the modifiers as they were at this key's event: SDL_GetModState() is the state
     * after every event pumped so far, which on a busy host may already include the
     * release of Ctrl and Alt */
    SDL_Keymod mod = (SDL_Keymod)k->keysym.mod;
    if (!(mod & KMOD_CTRL) || !(mod & KMOD_ALT)) return false;
    SDL_Scancode sc = k->keysym.scancode;
    switch (sc) {
    case SDL_SCANCODE_F: case SDL_SCANCODE_G: case SDL_SCANCODE_Q: case SDL_SCANCODE_P:
    case SDL_SCANCODE_R: case SDL_SCANCODE_D: case SDL_SCANCODE_S: case SDL_SCANCODE_V:
        break;
    default:
        return false;
    }
    ui->swallow[sc] = true;
    if (k->repeat) return true;
    if (sc == SDL_SCANCODE_P) {
        in->paused = !in->paused;
        sdl_set_paused(ui, in->paused);
    } else if (sc == SDL_SCANCODE_R) {
        in->want_reset = true;
        set_note(ui, "reset");
    } else if (sc == SDL_SCANCODE_D) {
        in->want_powerdown = true;
        set_note(ui, "ACPI power button pressed");
    } else if (sc == SDL_SCANCODE_S) {
        take_screenshot(ui, m);
    } else if (sc == SDL_SCANCODE_V) {
        paste_clipboard(ui);
    } else if (sc == SDL_SCANCODE_F) {
        ui->fullscreen = !ui->fullscreen;
        SDL_SetWindowFullscreen(ui->win, ui->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    } else if (sc == SDL_SCANCODE_G) {
        set_grab(ui, false);
        if (ui->buttons) { /* buttons held at release must not stay down in the guest */
            ui->buttons = 0;
            input_mouse(in, m, 0, 0, 0, 0);
        }
    } else {
        in->quit = true;
    }
    return true;
}

void sdl_poll(SdlUi *ui, Input *in, Machine *m)
{
    SDL_Event e;
    if (ui->paused != in->paused) sdl_set_paused(ui, in->paused); /* the monitor's stop/cont */
    if (ui->note[0] && SDL_GetTicks64() >= ui->note_until) {
        ui->note[0] = 0;
        update_title(ui);
    }
    track_absolute(ui, m); /* vmport */
    while (SDL_PollEvent(&e)) {
        /* vmport: in absolute mode pointer events are positions; when the guest has
         * just left that mode they fall through to the relative path below */
        bool abs = ui->absolute && !ui->grabbed;
        switch (e.type) {
        case SDL_QUIT:
            in->quit = true;
            break;
        case SDL_KEYDOWN: {
            SDL_Scancode sc = e.key.keysym.scancode;
            if (hotkey(ui, in, m, &e.key)) break;
            /* a held key repeats its make code, as a real keyboard's typematic does */
            send_key(ui, in, m, sc, true);
            break;
        }
        case SDL_KEYUP: {
            SDL_Scancode sc = e.key.keysym.scancode;
            if (sc >= 0 && sc < SDL_NUM_SCANCODES && ui->swallow[sc]) {
                ui->swallow[sc] = false;
                break;
            }
            if (sc >= 0 && sc < SDL_NUM_SCANCODES && ui->down[sc]) send_key(ui, in, m, sc, false);
            break;
        }
        case SDL_MOUSEBUTTONDOWN:
            if (abs) { /* vmport */
                abs_position(ui, e.button.x, e.button.y);
                ui->buttons |= sdl_button_bit(e.button.button);
                if (input_mouse_abs(in, m, ui->abs_x, ui->abs_y, 0, ui->buttons)) break;
                ui->buttons = 0; /* the guest left absolute mode: grab as usual */
                track_absolute(ui, m);
            }
            if (!ui->grabbed) {
                /* the click that grabs the mouse is not passed on */
                if (e.button.button == SDL_BUTTON_LEFT) set_grab(ui, true);
                break;
            }
            ui->buttons |= sdl_button_bit(e.button.button);
            input_mouse(in, m, 0, 0, 0, ui->buttons);
            break;
        case SDL_MOUSEBUTTONUP:
            if (abs) { /* vmport */
                abs_position(ui, e.button.x, e.button.y);
                ui->buttons &= ~sdl_button_bit(e.button.button);
                if (input_mouse_abs(in, m, ui->abs_x, ui->abs_y, 0, ui->buttons)) break;
                track_absolute(ui, m);
            }
            if (!ui->grabbed && !ui->buttons) break;
            ui->buttons &= ~sdl_button_bit(e.button.button);
            input_mouse(in, m, 0, 0, 0, ui->buttons);
            break;
        case SDL_MOUSEMOTION:
            if (abs) { /* vmport */
                abs_position(ui, e.motion.x, e.motion.y);
                if (input_mouse_abs(in, m, ui->abs_x, ui->abs_y, 0, ui->buttons)) break;
                track_absolute(ui, m);
            }
            if (ui->grabbed && (e.motion.xrel || e.motion.yrel))
                input_mouse(in, m, e.motion.xrel, e.motion.yrel, 0, ui->buttons);
            break;
        case SDL_MOUSEWHEEL:
            /* SDL: y > 0 scrolls away from the user; PS/2 wheels count that as dz < 0 */
            if (abs && e.wheel.y && /* vmport */
                input_mouse_abs(in, m, ui->abs_x, ui->abs_y, -e.wheel.y, ui->buttons))
                break;
            if (ui->grabbed && e.wheel.y)
                input_mouse(in, m, 0, 0, -e.wheel.y, ui->buttons);
            break;
        case SDL_WINDOWEVENT:
            if (e.window.event == SDL_WINDOWEVENT_FOCUS_LOST) {
                release_all(ui, in, m);
                set_grab(ui, false);
            } else if (e.window.event == SDL_WINDOWEVENT_EXPOSED ||
                       e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
                ui->refreshed_once = false; /* redraw at the next refresh */
            }
            break;
        default:
            break;
        }
    }
    /* pasted text: only once the hotkey's Ctrl and Alt are up in the guest, or it
     * would read Ctrl+Alt+letters */
    if (ui->paste.count && !in->paused &&
        !held(ui, SDL_SCANCODE_LCTRL, SDL_SCANCODE_RCTRL) &&
        !held(ui, SDL_SCANCODE_LALT, SDL_SCANCODE_RALT) &&
        !held(ui, SDL_SCANCODE_LSHIFT, SDL_SCANCODE_RSHIFT) &&
        !held(ui, SDL_SCANCODE_LGUI, SDL_SCANCODE_RGUI))
        keyqueue_pump(&ui->paste, in, m);
}

/* Makes the texture (and, unless fullscreen, the window) the guest mode's size. */
static bool fit_mode(SdlUi *ui, int w, int h)
{
    if (ui->tex && w == ui->tex_w && h == ui->tex_h) return true;
    if (ui->tex) SDL_DestroyTexture(ui->tex);
    ui->tex = SDL_CreateTexture(ui->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                w, h);
    if (!ui->tex) return false;
    ui->tex_w = w;
    ui->tex_h = h;
    SDL_RenderSetLogicalSize(ui->ren, w, h);
    if (!ui->fullscreen) SDL_SetWindowSize(ui->win, w, h);
    return true;
}

void sdl_refresh(SdlUi *ui, const Machine *m, uint64_t host_ns)
{
    if (ui->refreshed_once && host_ns - ui->last_refresh_ns < REFRESH_NS) return;
    ui->last_refresh_ns = host_ns;
    ui->refreshed_once = true;
    if (!ui->pix) {
        ui->pix = malloc(1024 * 768 * sizeof(uint32_t));
        if (!ui->pix) return;
        ui->pix_w = 1024;
        ui->pix_h = 768;
    }
    int w = 0, h = 0;
    int r = ui->pix ? vga_render(&m->vga, ui->pix, ui->pix_w, ui->pix_h, &w, &h) : -1;
    if (r < 0 && w > 0 && h > 0 && w <= 8192 && h <= 8192) {
        uint32_t *p = realloc(ui->pix, (size_t)w * h * sizeof(uint32_t));
        if (p) {
            ui->pix = p;
            ui->pix_w = w;
            ui->pix_h = h;
            r = vga_render(&m->vga, ui->pix, ui->pix_w, ui->pix_h, &w, &h);
        }
    }
    SDL_SetRenderDrawColor(ui->ren, 0, 0, 0, 255);
    SDL_RenderClear(ui->ren);
    if (r == 0 && w > 0 && h > 0 && fit_mode(ui, w, h)) {
        SDL_UpdateTexture(ui->tex, NULL, ui->pix, w * (int)sizeof(uint32_t));
        SDL_RenderCopy(ui->ren, ui->tex, NULL, NULL);
    }
    SDL_RenderPresent(ui->ren);
}

#else /* !DBT86_HAVE_SDL */

struct SdlUi {
    int unused;
};

bool sdl_available(void) { return false; }

SdlUi *sdl_open(char *err, size_t errlen)
{
    snprintf(err, errlen, "-display sdl: this dbt86 was built without SDL2 "
             "(install libsdl2-dev and rebuild)");
    return NULL;
}

void sdl_close(SdlUi *ui) { (void)ui; }
void sdl_poll(SdlUi *ui, Input *in, Machine *m) { (void)ui, (void)in, (void)m; }
void sdl_refresh(SdlUi *ui, const Machine *m, uint64_t host_ns)
{
    (void)ui, (void)m, (void)host_ns;
}
void sdl_set_paused(SdlUi *ui, bool paused) { (void)ui, (void)paused; }

#endif
