/*
 * stack.c — push and pop through SS, using ESP or SP by the stack segment's B bit.
 * A push checks the whole destination before ESP changes, so a faulting push leaves
 * ESP as it was (the step loop also restores ESP on any fault).
 */
#include "cpu/interp.h"

uint32_t stack_sp(const Cpu *c)
{
    return cpu_stack32(c) ? c->regs[R_ESP] : c->regs[R_ESP] & 0xffff;
}

void stack_set_sp(Cpu *c, uint32_t sp)
{
    if (cpu_stack32(c))
        c->regs[R_ESP] = sp;
    else
        c->regs[R_ESP] = (c->regs[R_ESP] & 0xffff0000u) | (sp & 0xffff);
}

void stack_push(Cpu *c, uint32_t v, unsigned size)
{
    uint32_t sp = stack_sp(c) - size;
    if (!cpu_stack32(c)) sp &= 0xffff;
    mem_write(c, SEG_SS, sp, v, size);
    stack_set_sp(c, sp);
}

uint32_t stack_pop(Cpu *c, unsigned size)
{
    uint32_t sp = stack_sp(c);
    uint32_t v = mem_read(c, SEG_SS, sp, size);
    stack_set_sp(c, sp + size);
    return v;
}

uint32_t stack_peek(Cpu *c, uint32_t depth, unsigned size)
{
    uint32_t sp = stack_sp(c) + depth;
    if (!cpu_stack32(c)) sp &= 0xffff;
    return mem_read(c, SEG_SS, sp, size);
}
