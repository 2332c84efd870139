/*
 * run.c — the dispatcher: dbt_run() is cpu_run() with translated blocks.
 *
 * Between blocks it does what the interpreter's step loop does between instructions:
 * stop requests, HLT, and interrupts (delivered by one interpreter step, which also
 * handles the one-instruction interrupt shadow of STI/MOV SS). A block is entered only
 * when it fits in the remaining budget, so a run retires exactly as many instructions
 * as cpu_run() would; otherwise, and whenever the translator cannot help (single-step,
 * debug breakpoints, -d cpu, code outside RAM/ROM, a page-crossing instruction), the
 * interpreter executes one instruction. Faults in translated code longjmp here and are
 * delivered exactly as in cpu_run().
 */
#include <stdio.h>
#include <string.h>

#include "translate/dbt_internal.h"

/* Conditions under which the next instruction must go through the interpreter. */
static inline bool must_interpret(const Cpu *c)
{
    /* cpu_debug_active: TF, RF (cleared by the next instruction), armed breakpoints or
     * a pending debug trap, all of which the interpreter's step handles */
    return c->inhibit_irq | c->nmi_pending | (c->intr_line && (c->eflags & FL_IF)) |
           c->halted | cpu_debug_active(c) | ((c->log_flags & LOG_CPU) != 0);
}

CpuExit dbt_run(Dbt *d, uint64_t budget)
{
    Cpu *c = d->cpu;
    const uint64_t end = c->icount + budget;
    c->run_end = end;
    if (setjmp(c->fault_jmp)) {
        d->link = 0;
        cpu_deliver_fault(c);
    }
    while (c->icount < end) {
        if (c->stop_requested) {
            c->stop_requested = false;
            return CPU_EXIT_STOP;
        }
        if (c->halted && !c->nmi_pending && !(c->intr_line && (c->eflags & FL_IF)))
            return CPU_EXIT_HALT;
        if (d->mem_generation != c->mem->generation) dbt_flush(d);
        if (d->map_generation != c->mem->map_generation) {
            /* a map change where no translation lives: only the host pages go */
            memset(c->htlb, 0, sizeof(c->htlb));
            d->map_generation = c->mem->map_generation;
        }
        Block *b = NULL;
        if (!must_interpret(c)) {
            /* near the budget's end a new block would likely not fit (and one would
             * be made at every instruction the interpreter steps through): only
             * blocks that exist already are used there */
            b = dbt_lookup(d, end - c->icount >= DBT_MAX_BLOCK_INSNS);
            if (!b) d->stats.interp_noblock++;
            else if (b->ninsn > end - c->icount) d->stats.interp_budget++;
        }
        if (!b || b->ninsn > end - c->icount) {
            d->link = 0;
            d->stats.interp_steps++;
            cpu_exec_insn(c);
            continue;
        }
        if (d->link) {
            if (!d->opt.nochain) dbt_chain(d, d->link, b);
            d->link = 0;
        }
        d->stats.block_execs++;
        if (d->opt.log & DBT_LOG_EXEC)
            fprintf(d->opt.log_file ? d->opt.log_file : stderr, "Trace: %04x:%08x [%08x]\n",
                    c->seg[SEG_CS].sel, b->eip, b->phys_pc);
        c->fault_depth = 0;
        c->dbt_exit = false;
        d->link = d->opt.check ? dbt_check_block(d, b) : dbt_enter(d, b->body);
        if (d->check_failed) {
            c->stop_requested = false;
            return CPU_EXIT_STOP;
        }
    }
    return CPU_EXIT_BUDGET;
}
