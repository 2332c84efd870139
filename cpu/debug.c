/*
 * debug.c — debug exceptions from the debug registers and EFLAGS.TF (Intel SDM vol. 3
 * ch. 17): instruction breakpoints (faults before the instruction, suppressed by RF),
 * data and I/O breakpoints (one trap after the instruction that touched the range),
 * single-step, and the T flag of a TSS (trap on entering the task).
 *
 * Cost when unused: the step loop tests cpu_debug_active() once per instruction, and
 * mem.c/exec_io.c test one bit of Cpu.dbg_armed per access; everything else is here.
 *
 * RF (17.3.1.1): cleared at the start of each instruction after the instruction
 * breakpoint check; fault-class exceptions push it as 1 (exec.c deliver_fault), so the
 * restarted instruction does not hit its breakpoint again, while the instruction
 * breakpoint #DB itself pushes it as it was (0). A repeated string instruction that
 * stops between iterations sets it, so that an interrupt or trap taken there pushes 1
 * and the resumed instruction is not stopped by its own breakpoint again. IRET and task
 * switches load it.
 *
 * DR6 (17.2.3): B0-B3 are rewritten with the breakpoints that matched whenever a
 * breakpoint is reported; BD, BS and BT accumulate until software clears them.
 * Choices where the SDM leaves freedom: B bits are reported for enabled breakpoints
 * only; LEN 10 (undefined on this 32-bit part) is taken as 8 bytes; execute
 * breakpoints match the first byte of the instruction whatever their LEN; every data
 * access counts, implicit ones (descriptor tables, stacks of event delivery) included.
 *
 * MOV SS / POP SS (SDM vol. 3 6.8.3): their debug traps (single-step, data hits) are
 * held and delivered with those of the next instruction, and that instruction's
 * instruction breakpoint is not checked, so that the stack pointer can be loaded
 * before a #DB uses the stack. A fault in the next instruction drops them.
 */
#include "cpu/debug.h"

#include "cpu/interp.h"

/* In Cpu.dbg_trap: the traps are held over one instruction (after MOV SS / POP SS).
 * Bit 31 of DR6 is a fixed 1, so no trap bit uses it. */
#define DBG_TRAP_HELD 0x80000000u

static unsigned bp_enabled(uint32_t dr7, unsigned n) { return (dr7 >> (2 * n)) & 3; }
static unsigned bp_rw(uint32_t dr7, unsigned n) { return (dr7 >> (16 + 4 * n)) & 3; }
static uint32_t bp_len(uint32_t dr7, unsigned n)
{
    static const uint8_t len[4] = { 1, 2, 8, 4 };
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

/* Breakpoints of R/W kind `rw` (bit n of the mask) whose range overlaps
 * [addr, addr+size). The range is DRn aligned down to its length, as the hardware
 * ignores the low address bits. Arithmetic is modulo 2^32. */
static uint32_t bp_match(const Cpu *c, uint32_t addr, uint32_t size, unsigned rw_mask)
{
    uint32_t dr7 = c->dr[7], hits = 0;
    for (unsigned n = 0; n < 4; n++) {
        if (!bp_enabled(dr7, n) || !((rw_mask >> bp_rw(dr7, n)) & 1)) continue;
        uint32_t len = bp_len(dr7, n);
        uint32_t start = c->dr[n] & ~(len - 1);
        if (addr - start < len || start - addr < size) hits |= 1u << n;
    }
    return hits;
}

void debug_update(Cpu *c)
{
    uint32_t dr7 = c->dr[7];
    uint8_t armed = 0;
    for (unsigned n = 0; n < 4; n++) {
        if (!bp_enabled(dr7, n)) continue;
        switch (bp_rw(dr7, n)) {
        case 0: armed |= DBG_EXEC; break;
        case 2: armed |= DBG_IO; break;
        default: armed |= DBG_DATA; break;
        }
    }
    c->dbg_armed = armed;
}

/* Deliver #DB now with EIP where execution resumes afterwards (the instruction for a
 * breakpoint fault, the next one for a trap). A fault while delivering escalates from
 * the step loop's handler, with #DB as the (benign) first event. */
static void deliver_db(Cpu *c)
{
    c->insn_eip = c->eip;
    c->insn_esp = c->regs[R_ESP];
    c->fault_depth = 1;
    c->first_vector = EXC_DB;
    cpu_interrupt(c, EXC_DB, EXC_NO_ERRCODE, false);
    c->fault_depth = 0;
}

/* Record breakpoint conditions in DR6: B0-B3 are replaced when any is reported. */
static void dr6_report(Cpu *c, uint32_t bits)
{
    if (bits & DR6_BMASK) c->dr[6] &= ~DR6_BMASK;
    c->dr[6] |= bits;
}

bool debug_before(Cpu *c)
{
    /* hits left by an instruction that faulted (or by event delivery) are dropped: the
     * instruction did not complete. A task-switch trap raised while delivering an event
     * is taken now, before the new task's first instruction. */
    uint32_t pend = c->dbg_trap;
    c->dbg_trap = 0;
    bool held = pend & DBG_TRAP_HELD;
    if (held) {
        c->dbg_trap = pend & ~DBG_TRAP_HELD; /* delivered after this instruction */
    } else if (pend & DR6_BT) {
        dr6_report(c, pend);
        deliver_db(c);
        return true;
    }
    bool rf = c->eflags & FL_RF;
    c->eflags &= ~FL_RF;
    if (rf || held || !(c->dbg_armed & DBG_EXEC)) return false;
    uint32_t eip = cpu_code32(c) ? c->eip : c->eip & 0xffff;
    uint32_t hits = bp_match(c, c->seg[SEG_CS].base + eip, 1, 1u << 0);
    if (!hits) return false;
    /* a fault: EIP stays on the instruction, RF is pushed as 0 (the handler sets it in
     * the image to resume) */
    dr6_report(c, hits);
    deliver_db(c);
    return true;
}

void debug_after(Cpu *c, const Insn *in, bool tf)
{
    /* a repeated string instruction stopped between iterations (EIP back on itself) */
    if ((in->flags & IF_STRING) && (in->prefixes & (PFX_REP | PFX_REPNE)) &&
        c->eip == c->insn_eip)
        c->eflags |= FL_RF;
    uint32_t bits = c->dbg_trap;
    c->dbg_trap = 0;
    if (tf) bits |= DR6_BS;
    if (!bits) return;
    if ((in->mnem == M_MOV_SR || in->mnem == M_POP_SR) && in->op[0].reg == SEG_SS) {
        c->dbg_trap = bits | DBG_TRAP_HELD;
        return;
    }
    dr6_report(c, bits);
    deliver_db(c);
}

void debug_data_access(Cpu *c, uint32_t lin, unsigned size, bool write)
{
    /* R/W 01: writes only; 11: reads and writes */
    c->dbg_trap |= bp_match(c, lin, size, write ? (1u << 1 | 1u << 3) : 1u << 3);
}

void debug_io_access(Cpu *c, uint16_t port, unsigned size)
{
    /* R/W 10 means I/O only with CR4.DE; without it the encoding is undefined and
     * ignored here */
    if (!(c->cr[4] & CR4_DE)) return;
    uint32_t hits = 0, dr7 = c->dr[7];
    for (unsigned n = 0; n < 4; n++) {
        if (!bp_enabled(dr7, n) || bp_rw(dr7, n) != 2) continue;
        /* ports are 16 bits: DRn's low 16 bits name the port */
        uint32_t len = bp_len(dr7, n);
        uint32_t start = c->dr[n] & 0xffff & ~(len - 1);
        if ((uint32_t)port - start < len || start - port < size) hits |= 1u << n;
    }
    c->dbg_trap |= hits;
}

void debug_task_switch(Cpu *c, bool t_flag)
{
    c->dr[7] &= ~DR7_LOCAL;
    debug_update(c);
    if (t_flag) c->dbg_trap |= DR6_BT;
}
