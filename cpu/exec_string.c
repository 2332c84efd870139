/*
 * exec_string.c — MOVS CMPS STOS LODS SCAS with REP/REPE/REPNE. The source is
 * Insn.seg:eSI (DS or the override), the destination ES:eDI; eSI/eDI/eCX are 16- or
 * 32-bit by address size and step by the element size, backwards when DF is set.
 * A repeated instruction runs at most STRING_CHUNK iterations per call and then sets
 * EIP back to itself, so interrupts are taken between chunks as on hardware. Each
 * iteration commits its registers, so a fault mid-way restarts at the right element.
 */
#include <string.h>

#include "cpu/alu.h"
#include "cpu/debug.h"

#define STRING_CHUNK 1024

enum StrOp { SO_MOVS, SO_CMPS, SO_STOS, SO_LODS, SO_SCAS };

/* Add `delta` to register `r` within the address size. */
static void str_step(Cpu *c, int r, uint32_t delta, uint32_t amask)
{
    c->regs[r] = (c->regs[r] & ~amask) | ((c->regs[r] + delta) & amask);
}

/* Elements of `sz` bytes from seg:off that fit before the end of the linear page and
 * before the offset wraps at the address size (the fast path's limit for one run). */
static uint32_t run_room(const Cpu *c, int seg, uint32_t off, unsigned sz, uint32_t amask)
{
    uint32_t room = (PAGE_SIZE - ((c->seg[seg].base + off) & PAGE_MASK)) / sz;
    uint32_t nowrap = (amask - off) / sz + 1;
    return nowrap < room ? nowrap : room;
}

static void string_op(Cpu *c, const Insn *in, enum StrOp op)
{
    unsigned sz = in->op[0].size;
    uint32_t amask = in->addrsize == 2 ? 0xffff : 0xffffffffu;
    uint32_t delta = (c->eflags & FL_DF) ? (uint32_t)-(int32_t)sz : sz;
    bool rep = in->prefixes & (PFX_REP | PFX_REPNE);
    bool cmp = op == SO_CMPS || op == SO_SCAS;
    /* for CMPS/SCAS: F3 repeats while equal, F2 while not equal */
    bool want_zf = !(in->prefixes & PFX_REPNE);

    unsigned i = 0;
    /* REP MOVS/STOS forwards: whole runs within a page at once (mem_host_range), with
     * exactly the element loop's result; anything unusual falls to the loop below */
    if (rep && (op == SO_MOVS || op == SO_STOS) && !(c->eflags & (FL_DF | FL_TF))) {
        while (i < STRING_CHUNK) {
            uint32_t cnt = c->regs[R_ECX] & amask;
            if (cnt == 0) return;
            uint32_t si = c->regs[R_ESI] & amask, di = c->regs[R_EDI] & amask;
            uint32_t n = cnt < STRING_CHUNK - i ? cnt : STRING_CHUNK - i;
            uint32_t room = run_room(c, SEG_ES, di, sz, amask);
            if (op == SO_MOVS) {
                uint32_t rs = run_room(c, in->seg, si, sz, amask);
                if (rs < room) room = rs;
            }
            if (room < n) n = room;
            if (n == 0) break;
            uint8_t *src = NULL;
            if (op == SO_MOVS && !(src = mem_host_range(c, in->seg, si, n * sz, false))) break;
            uint8_t *dst = mem_host_range(c, SEG_ES, di, n * sz, true);
            if (!dst) break;
            if (op == SO_STOS) {
                uint32_t v = reg_read(c, R_EAX, sz);
                if (sz == 1) {
                    memset(dst, (int)v, n);
                } else {
                    for (uint32_t k = 0; k < n; k++) memcpy(dst + k * sz, &v, sz);
                }
            } else if (dst >= src + n * sz || src >= dst + n * sz) {
                memcpy(dst, src, n * sz);
            } else {
                /* overlapping: element by element, each read before it is written
                 * (e.g. a pattern fill) */
                for (uint32_t k = 0; k < n; k++) {
                    uint32_t e;
                    memcpy(&e, src + k * sz, sz);
                    memcpy(dst + k * sz, &e, sz);
                }
            }
            if (op == SO_MOVS) str_step(c, R_ESI, n * sz, amask);
            str_step(c, R_EDI, n * sz, amask);
            str_step(c, R_ECX, (uint32_t)-(int32_t)n, amask);
            i += n;
        }
    }
    for (; !rep || i < STRING_CHUNK; i++) {
        if (rep && (c->regs[R_ECX] & amask) == 0) return;
        uint32_t si = c->regs[R_ESI] & amask, di = c->regs[R_EDI] & amask;
        switch (op) {
        case SO_MOVS:
            mem_write(c, SEG_ES, di, mem_read(c, in->seg, si, sz), sz);
            str_step(c, R_ESI, delta, amask);
            str_step(c, R_EDI, delta, amask);
            break;
        case SO_CMPS: {
            uint32_t a = mem_read(c, in->seg, si, sz), b = mem_read(c, SEG_ES, di, sz);
            flags_sub(c, a, b, (a - b) & size_mask(sz), sz);
            str_step(c, R_ESI, delta, amask);
            str_step(c, R_EDI, delta, amask);
            break;
        }
        case SO_STOS:
            mem_write(c, SEG_ES, di, reg_read(c, R_EAX, sz), sz);
            str_step(c, R_EDI, delta, amask);
            break;
        case SO_LODS:
            reg_write(c, R_EAX, sz, mem_read(c, in->seg, si, sz));
            str_step(c, R_ESI, delta, amask);
            break;
        case SO_SCAS: {
            uint32_t a = reg_read(c, R_EAX, sz), b = mem_read(c, SEG_ES, di, sz);
            flags_sub(c, a, b, (a - b) & size_mask(sz), sz);
            str_step(c, R_EDI, delta, amask);
            break;
        }
        }
        if (!rep) return;
        str_step(c, R_ECX, (uint32_t)-1, amask);
        if (cmp && !!(c->eflags & FL_ZF) != want_zf) return;
        /* a debug trap (data breakpoint, single-step) follows the iteration that raised it */
        if (__builtin_expect(debug_stop_iteration(c), 0)) break;
    }
    /* chunk used up with count left: run this instruction again */
    if (c->regs[R_ECX] & amask) c->eip = c->insn_eip;
}

void exec_MOVS(Cpu *c, const Insn *in) { string_op(c, in, SO_MOVS); }
void exec_CMPS(Cpu *c, const Insn *in) { string_op(c, in, SO_CMPS); }
void exec_STOS(Cpu *c, const Insn *in) { string_op(c, in, SO_STOS); }
void exec_LODS(Cpu *c, const Insn *in) { string_op(c, in, SO_LODS); }
void exec_SCAS(Cpu *c, const Insn *in) { string_op(c, in, SO_SCAS); }
