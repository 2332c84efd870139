/*
 * rtc.c — MC146818 RTC + CMOS RAM. While the clock runs, its registers are derived on
 * each read from base_unix + (virtual now - base_ns) with an integer civil calendar (no
 * host localtime/gmtime); while SET or a divider reset stops it they are a plain image
 * the guest edits, parsed back on restart. Update-ended/alarm checks run on a 1 Hz
 * timer; PF is computed lazily and its timer only runs while PIE is set.
 */
#include "devices/rtc.h"

#include <string.h>

#define NS_PER_SEC 1000000000ull
#define UIP_NS 244000ull /* UIP is set this long before each update */

enum {
    REG_SEC = 0x00, REG_SEC_ALARM = 0x01, REG_MIN = 0x02, REG_MIN_ALARM = 0x03,
    REG_HOUR = 0x04, REG_HOUR_ALARM = 0x05, REG_WDAY = 0x06, REG_MDAY = 0x07,
    REG_MONTH = 0x08, REG_YEAR = 0x09, REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c,
    REG_D = 0x0d, REG_CENTURY = 0x32,
};

#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80

typedef struct RtcTime {
    int64_t year;
    int mon, mday, hour, min, sec, wday; /* mon 1-12, mday 1-31, wday 0 = Sunday */
} RtcTime;

/* ---- calendar: proleptic Gregorian, days counted from 1970-01-01 ---- */

static int64_t floor_div(int64_t a, int64_t b) { return (a >= 0 ? a : a - (b - 1)) / b; }

/* Days since the epoch of y-m-d (400-year eras of 146097 days; March-based years put
 * the leap day last so month lengths follow a linear formula). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, RtcTime *t)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    t->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    t->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    t->year = yoe + era * 400 + (t->mon <= 2);
}

static void time_from_unix(uint64_t secs, RtcTime *t)
{
    int64_t days = (int64_t)(secs / 86400);
    unsigned rem = (unsigned)(secs % 86400);
    civil_from_days(days, t);
    t->hour = rem / 3600;
    t->min = rem / 60 % 60;
    t->sec = rem % 60;
    t->wday = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */
}

static uint64_t time_to_unix(const RtcTime *t)
{
    int64_t s = days_from_civil(t->year, t->mon, t->mday) * 86400 + t->hour * 3600 +
                t->min * 60 + t->sec;
    return s < 0 ? 0 : (uint64_t)s;
}

/* ---- register encoding ---- */

static unsigned from_bcd(unsigned v) { return (v >> 4) * 10 + (v & 0xf); }
static uint8_t to_bcd(unsigned v) { return (uint8_t)(((v / 10 % 10) << 4) | (v % 10)); }

static uint8_t rtc_enc(const Rtc *r, unsigned v)
{
    return (r->cmos[REG_B] & B_DM_BINARY) ? (uint8_t)v : to_bcd(v);
}
static unsigned rtc_dec(const Rtc *r, uint8_t v)
{
    return (r->cmos[REG_B] & B_DM_BINARY) ? v : from_bcd(v);
}

static uint8_t rtc_enc_hour(const Rtc *r, int hour)
{
    if (r->cmos[REG_B] & B_24H) return rtc_enc(r, hour);
    int h12 = hour % 12 ? hour % 12 : 12;
    return rtc_enc(r, h12) | (hour >= 12 ? 0x80 : 0);
}

static int rtc_dec_hour(const Rtc *r, uint8_t v)
{
    if (r->cmos[REG_B] & B_24H) return (int)rtc_dec(r, v) % 24;
    int h = (int)rtc_dec(r, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

/* ---- time base ---- */

static uint64_t rtc_elapsed(const Rtc *r, uint64_t now)
{
    return r->halted || now < r->base_ns ? 0 : now - r->base_ns;
}

static uint64_t rtc_seconds(const Rtc *r, uint64_t now)
{
    return r->base_unix + rtc_elapsed(r, now) / NS_PER_SEC;
}

/* The register image of clock register `idx` at unix time `secs`. */
static uint8_t rtc_clock_reg(const Rtc *r, unsigned idx, uint64_t secs)
{
    RtcTime t;
    time_from_unix(secs, &t);
    switch (idx) {
    case REG_SEC: return rtc_enc(r, t.sec);
    case REG_MIN: return rtc_enc(r, t.min);
    case REG_HOUR: return rtc_enc_hour(r, t.hour);
    case REG_WDAY: return rtc_enc(r, t.wday + 1);
    case REG_MDAY: return rtc_enc(r, t.mday);
    case REG_MONTH: return rtc_enc(r, t.mon);
    case REG_YEAR: return rtc_enc(r, (unsigned)(t.year % 100));
    default: return r->cmos[idx];
    }
}

static bool rtc_is_clock_reg(unsigned idx)
{
    return idx <= REG_YEAR && idx != REG_SEC_ALARM && idx != REG_MIN_ALARM &&
           idx != REG_HOUR_ALARM;
}

/* The period of rate select RS (3..15: 2^(RS-1) / 32768 s; 1 and 2 alias 8 and 9),
 * as log2 of the period in 32.768 kHz cycles; 0 if the periodic interrupt is off. */
static unsigned rtc_periodic_shift(const Rtc *r)
{
    unsigned rs = r->cmos[REG_A] & 0x0f;
    unsigned dv = (r->cmos[REG_A] >> 4) & 7;
    if (rs == 0 || dv >= 6) return 0;
    return rs <= 2 ? rs + 6 : rs - 1;
}

/* Index of the last periodic boundary at or before `t` (boundaries at k * period). */
static uint64_t rtc_periodic_index(unsigned shift, uint64_t t)
{
    return (uint64_t)((unsigned __int128)t * 32768 / ((unsigned __int128)NS_PER_SEC << shift));
}

static uint64_t rtc_periodic_time(unsigned shift, uint64_t k)
{
    unsigned __int128 num = (unsigned __int128)k * (NS_PER_SEC << shift);
    return (uint64_t)((num + 32767) / 32768);
}

static void rtc_update_irq(Rtc *r)
{
    if (r->cmos[REG_C] & r->cmos[REG_B] & (C_PF | C_AF | C_UF)) r->cmos[REG_C] |= C_IRQF;
    irq_set(&r->irq, (r->cmos[REG_C] & C_IRQF) != 0);
}

/* Set PF if a periodic boundary passed since the last accounting. */
static void rtc_sync_pf(Rtc *r, uint64_t now)
{
    unsigned shift = rtc_periodic_shift(r);
    if (shift && now > r->pf_last_ns &&
        rtc_periodic_index(shift, now) > rtc_periodic_index(shift, r->pf_last_ns))
        r->cmos[REG_C] |= C_PF;
    r->pf_last_ns = now;
}

static void rtc_arm_periodic(Rtc *r)
{
    uint64_t now = clock_now(r->clock);
    unsigned shift = rtc_periodic_shift(r);
    if (shift && (r->cmos[REG_B] & B_PIE)) {
        r->next_periodic_ns = rtc_periodic_time(shift, rtc_periodic_index(shift, now) + 1);
        timer_mod(&r->periodic, r->next_periodic_ns);
    } else {
        r->next_periodic_ns = CLOCK_NEVER;
        timer_del(&r->periodic);
    }
}

/* Arm the update timer for the next second boundary after now. */
static void rtc_arm_update(Rtc *r)
{
    if (r->halted) {
        r->next_update_ns = CLOCK_NEVER;
        timer_del(&r->second);
    } else {
        uint64_t e = rtc_elapsed(r, clock_now(r->clock));
        r->next_update_ns = r->base_ns + (e / NS_PER_SEC + 1) * NS_PER_SEC;
        timer_mod(&r->second, r->next_update_ns);
    }
}

static void rtc_periodic_cb(void *opaque)
{
    Rtc *r = opaque;
    rtc_sync_pf(r, clock_now(r->clock));
    rtc_update_irq(r);
    rtc_arm_periodic(r);
}

/* The end of the update cycle due at next_update_ns: UF, and AF if the alarm matches
 * the new time. */
static void rtc_do_update(Rtc *r)
{
    if (r->halted || r->next_update_ns == CLOCK_NEVER) return;
    uint64_t secs = rtc_seconds(r, r->next_update_ns);
    r->cmos[REG_C] |= C_UF;
    static const uint8_t alarm[3][2] = {
        {REG_SEC_ALARM, REG_SEC}, {REG_MIN_ALARM, REG_MIN}, {REG_HOUR_ALARM, REG_HOUR}};
    bool match = true;
    for (int i = 0; i < 3; i++) {
        uint8_t a = r->cmos[alarm[i][0]];
        if ((a & 0xc0) != 0xc0 && a != rtc_clock_reg(r, alarm[i][1], secs)) match = false;
    }
    if (match) r->cmos[REG_C] |= C_AF;
    rtc_update_irq(r);
}

static void rtc_second_cb(void *opaque)
{
    Rtc *r = opaque;
    rtc_do_update(r);
    rtc_arm_update(r);
}

/* Run an update that is due but whose timer has not fired yet, before a register
 * write moves the time base and re-arms: otherwise that second's UF/AF would be lost. */
static void rtc_catch_up(Rtc *r)
{
    if (timer_pending(&r->second) && r->second.deadline <= clock_now(r->clock)) {
        timer_del(&r->second);
        rtc_do_update(r);
        rtc_arm_update(r);
    }
}

/* Store the clock registers of unix time `secs` into cmos[0..9] (the image that the
 * guest edits while the time base is stopped). */
static void rtc_store_image(Rtc *r, uint64_t secs)
{
    static const uint8_t regs[] = {REG_SEC, REG_MIN, REG_HOUR, REG_WDAY, REG_MDAY, REG_MONTH,
                                   REG_YEAR};
    for (unsigned i = 0; i < sizeof(regs); i++) r->cmos[regs[i]] = rtc_clock_reg(r, regs[i], secs);
}

/* The unix time the register image describes; false if it is no valid date. */
static bool rtc_parse_image(const Rtc *r, uint64_t *secs)
{
    RtcTime t = {0};
    t.sec = (int)rtc_dec(r, r->cmos[REG_SEC]);
    t.min = (int)rtc_dec(r, r->cmos[REG_MIN]);
    t.hour = rtc_dec_hour(r, r->cmos[REG_HOUR]);
    t.mday = (int)rtc_dec(r, r->cmos[REG_MDAY]);
    t.mon = (int)rtc_dec(r, r->cmos[REG_MONTH]);
    unsigned century = from_bcd(r->cmos[REG_CENTURY]);
    unsigned yy = rtc_dec(r, r->cmos[REG_YEAR]) % 100;
    /* the century byte is plain RAM: if it holds nonsense, pick a sensible one */
    if (century < 19 || century > 99) century = yy < 70 ? 20 : 19;
    t.year = century * 100 + yy;
    if (t.sec > 59 || t.min > 59 || t.mon < 1 || t.mon > 12 || t.mday < 1 || t.mday > 31)
        return false;
    *secs = time_to_unix(&t);
    return true;
}

/* Stop or restart the time base (SET bit, divider chain reset). While stopped the
 * clock registers are plain bytes the guest may rewrite one by one. */
static void rtc_update_halted(Rtc *r, uint64_t now)
{
    unsigned dv = (r->cmos[REG_A] >> 4) & 7;
    bool set = (r->cmos[REG_B] & B_SET) != 0, halt = set || dv >= 6;
    if (halt && !r->halted) {
        r->base_unix = rtc_seconds(r, now);
        rtc_store_image(r, r->base_unix);
        r->halted = true;
    } else if (!halt && r->halted) {
        uint64_t secs;
        if (rtc_parse_image(r, &secs)) r->base_unix = secs; /* else: keep the old time */
        /* After SET the next update comes a second later; after a divider reset the
         * first update comes 500 ms after the chain restarts. */
        r->base_ns = now;
        if (r->divider_reset && now >= NS_PER_SEC / 2) r->base_ns = now - NS_PER_SEC / 2;
        r->halted = false;
    }
    r->divider_reset = dv >= 6;
}

/* A write to a clock register. Stopped: it lands in the image. Running: the one field
 * changes at once and the second keeps its phase (an impossible date is ignored). */
static void rtc_write_clock(Rtc *r, unsigned idx, uint8_t v, uint64_t now)
{
    if (r->halted) {
        r->cmos[idx] = v;
        return;
    }
    if (idx == REG_WDAY) return; /* derived from the date while running */
    uint64_t frac = rtc_elapsed(r, now) % NS_PER_SEC, secs;
    rtc_store_image(r, rtc_seconds(r, now));
    r->cmos[idx] = v;
    if (!rtc_parse_image(r, &secs)) return;
    r->base_unix = secs;
    r->base_ns = now - frac;
}

static uint8_t rtc_read_reg(Rtc *r, unsigned idx, uint64_t now, bool side_effects)
{
    switch (idx) {
    case REG_A: {
        uint8_t v = r->cmos[REG_A] & 0x7f;
        if (!r->halted && rtc_elapsed(r, now) % NS_PER_SEC >= NS_PER_SEC - UIP_NS) v |= A_UIP;
        return v;
    }
    case REG_C: {
        if (side_effects) rtc_catch_up(r);
        rtc_sync_pf(r, now);
        rtc_update_irq(r);
        uint8_t v = r->cmos[REG_C];
        if (side_effects) {
            r->cmos[REG_C] = 0;
            irq_set(&r->irq, 0);
        }
        return v;
    }
    case REG_D: return D_VRT;
    default:
        if (rtc_is_clock_reg(idx) && !r->halted) return rtc_clock_reg(r, idx, rtc_seconds(r, now));
        return r->cmos[idx & 0x7f];
    }
}

static void rtc_write_reg(Rtc *r, unsigned idx, uint8_t v, uint64_t now)
{
    if (idx == REG_A || idx == REG_B || rtc_is_clock_reg(idx)) rtc_catch_up(r);
    switch (idx) {
    case REG_A:
        rtc_sync_pf(r, now); /* account the old rate up to now */
        r->cmos[REG_A] = v & 0x7f;
        rtc_update_halted(r, now);
        break;
    case REG_B:
        rtc_sync_pf(r, now);
        if (v & B_SET) v &= ~B_UIE; /* SET forces UIE off */
        r->cmos[REG_B] = v;
        rtc_update_halted(r, now);
        rtc_update_irq(r); /* enabling a source whose flag is already set raises IRQF */
        break;
    case REG_C:
    case REG_D: return; /* read-only */
    default:
        if (rtc_is_clock_reg(idx)) {
            rtc_write_clock(r, idx, v, now);
            rtc_arm_update(r); /* the second's phase may have moved */
        } else {
            r->cmos[idx & 0x7f] = v;
        }
        return;
    }
    rtc_arm_periodic(r);
    rtc_arm_update(r);
}

static uint32_t rtc_read(void *dev, uint32_t off, unsigned size)
{
    Rtc *r = dev;
    if (off == 0) return 0xff; /* the index register is write-only */
    return rtc_read_reg(r, r->index, clock_now(r->clock), true);
}

static void rtc_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
    Rtc *r = dev;
    if (off == 0) {
        r->index = value & 0x7f;
        r->nmi_disabled = (value & 0x80) != 0;
        return;
    }
    uint64_t now = clock_now(r->clock);
    rtc_write_reg(r, r->index, (uint8_t)value, now);
}

void rtc_set_cmos(Rtc *r, unsigned idx, uint8_t v)
{
    if (idx >= sizeof(r->cmos)) return;
    if (rtc_is_clock_reg(idx))
        rtc_write_reg(r, idx, v, clock_now(r->clock));
    else
        r->cmos[idx] = v;
}

uint8_t rtc_get_cmos(const Rtc *r, unsigned idx)
{
    if (idx >= sizeof(r->cmos)) return 0xff;
    uint64_t now = clock_now(r->clock);
    if (rtc_is_clock_reg(idx) && !r->halted) return rtc_clock_reg(r, idx, rtc_seconds(r, now));
    if (idx == REG_D) return D_VRT;
    return r->cmos[idx];
}

void rtc_reset(void *opaque)
{
    Rtc *r = opaque;
    /* The RESET pin clears the interrupt enables and flags; time and RAM survive. */
    rtc_sync_pf(r, clock_now(r->clock));
    r->cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->cmos[REG_C] = 0;
    irq_set(&r->irq, 0);
    rtc_arm_periodic(r);
    rtc_arm_update(r);
}

static int rtc_post_load(void *opaque)
{
    Rtc *r = opaque;
    irq_set(&r->irq, (r->cmos[REG_C] & C_IRQF) != 0);
    if (r->next_periodic_ns == CLOCK_NEVER)
        timer_del(&r->periodic);
    else
        timer_mod(&r->periodic, r->next_periodic_ns);
    if (r->next_update_ns == CLOCK_NEVER)
        timer_del(&r->second);
    else
        timer_mod(&r->second, r->next_update_ns);
    return 0;
}

static const StateField rtc_fields[] = {
    STATE_BYTES(Rtc, cmos, 128),      STATE_U8(Rtc, index),
    STATE_BOOL(Rtc, nmi_disabled),    STATE_U64(Rtc, base_unix),
    STATE_U64(Rtc, base_ns),          STATE_BOOL(Rtc, halted),
    STATE_BOOL(Rtc, divider_reset),
    STATE_U64(Rtc, pf_last_ns),       STATE_U64(Rtc, next_update_ns),
    STATE_U64(Rtc, next_periodic_ns), STATE_END};
static const StateDesc rtc_state = {"rtc", 1, rtc_fields};

static const DeviceOps rtc_ops = {
    .name = "rtc", .reset = rtc_reset, .read = rtc_read, .write = rtc_write,
    .min_access = 1, .max_access = 1, .state = &rtc_state, .post_load = rtc_post_load};

void rtc_init(Rtc *r, Bus *bus, Clock *clock, IrqLine irq8, uint64_t start_unix)
{
    memset(r, 0, sizeof(*r));
    r->clock = clock;
    r->irq = irq8;
    timer_init(&r->periodic, clock, rtc_periodic_cb, r);
    timer_init(&r->second, clock, rtc_second_cb, r);
    r->base_unix = start_unix;
    r->base_ns = 0; /* start_unix is the time at virtual time 0 */
    r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
    r->cmos[REG_B] = B_24H; /* BCD, 24-hour */
    RtcTime t;
    time_from_unix(start_unix, &t);
    r->cmos[REG_CENTURY] = to_bcd((unsigned)(t.year / 100));
    r->pf_last_ns = clock_now(clock);
    rtc_reset(r);
    bus_map_io(bus, 0x70, 2, &rtc_ops, r);
}
