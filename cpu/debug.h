/*
 * debug.h — the debug registers at work (debug.c): instruction, data and I/O
 * breakpoints from DR0-DR3/DR7, single-step, the task-switch trap, and the RF flag
 * (Intel SDM vol. 3 ch. 17). MOV to/from DRn itself is in exec_system.c.
 *
 * The step loop tests cpu_debug_active() (cpu.h) once per instruction and only then
 * calls debug_before() and debug_after(); memory and port accesses call the hit
 * recorders only when Cpu.dbg_armed says a breakpoint of that kind is enabled.
 *
 *     c->dr[0] = 0x1000; c->dr[7] = 0x400 | 1 | (1 << 16);  // L0, write, 1 byte
 *     debug_update(c);                                       // after any DR7 change
 */
#ifndef DBT86_DEBUG_H
#define DBT86_DEBUG_H

#include "cpu/cpu.h"
#include "cpu/insn.h"

/* DR6 bits. */
#define DR6_BMASK 0x0000000fu /* B0-B3: breakpoint n matched */
#define DR6_BD (1u << 13)     /* debug register access detected (DR7.GD) */
#define DR6_BS (1u << 14)     /* single step */
#define DR6_BT (1u << 15)     /* task switch to a TSS with the T flag */
#define DR6_FIXED 0xffff0ff0u /* reserved bits as they read */
/* DR7 bits. */
#define DR7_GD (1u << 13)
#define DR7_LOCAL 0x00000055u /* L0-L3: cleared by task switches */

/* Cpu.dbg_armed bits: which kinds of breakpoint DR7 enables. */
#define DBG_EXEC 0x01 /* R/W = 00 */
#define DBG_DATA 0x02 /* R/W = 01 or 11 */
#define DBG_IO 0x04   /* R/W = 10 (I/O with CR4.DE, else undefined: ignored) */

/* Recompute Cpu.dbg_armed from DR7: after every write to DR7. */
void debug_update(Cpu *c);

/* At the start of an instruction, before fetch (only when cpu_debug_active): delivers
 * a debug trap left pending outside an instruction (task switch during event delivery)
 * or an instruction breakpoint fault, returning true when it did (the instruction does
 * not run); otherwise clears RF, which covers this one instruction only. */
bool debug_before(Cpu *c);

/* After a completed instruction (only when cpu_debug_active was true before it):
 * delivers one #DB trap for the data/I-O hits it recorded, single-step (`tf`: TF was
 * set when the instruction began) and the task-switch trap. */
void debug_after(Cpu *c, const Insn *in, bool tf);

/* A linear memory access [lin, lin+size) that may hit a data breakpoint (mem.c calls it
 * when dbg_armed has DBG_DATA). `write`: a write (R/W 01 and 11) or a read (11 only). */
void debug_data_access(Cpu *c, uint32_t lin, unsigned size, bool write);

/* A port access (exec_io.c calls it when dbg_armed has DBG_IO). */
void debug_io_access(Cpu *c, uint16_t port, unsigned size);

/* A task switch has committed: L0-L3 are cleared, and `t_flag` (the new TSS's T bit)
 * makes a #DB trap with BT before the new task's first instruction. */
void debug_task_switch(Cpu *c, bool t_flag);

/* Repeated string instructions stop after the iteration that raised a debug trap (a
 * data hit, or TF: each iteration is a single step), as hardware does. */
static inline bool debug_stop_iteration(const Cpu *c)
{
    return (c->dbg_trap | (c->eflags & FL_TF)) != 0;
}

#endif
