/* intr.c — placeholder until interrupt delivery lands (being written). */
#include "cpu/interp.h"
void cpu_interrupt(Cpu *c, int vector, uint32_t errcode, bool soft)
{
    (void)errcode; (void)soft;
    uint32_t off = lin_read16(c, vector * 4, true), seg = lin_read16(c, vector * 4 + 2, true);
    stack_push(c, c->eflags, 2); stack_push(c, c->seg[SEG_CS].sel, 2); stack_push(c, c->eip, 2);
    c->eflags &= ~(FL_IF | FL_TF | FL_AC | FL_RF);
    seg_load_real(c, SEG_CS, seg); c->eip = off;
}
void seg_load_real(Cpu *c, int seg, uint16_t sel) { c->seg[seg].sel = sel; c->seg[seg].base = sel << 4u; }
