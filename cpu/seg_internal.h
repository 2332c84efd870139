/*
 * seg_internal.h — helpers shared by seg.c (far transfers) and intr.c (interrupt
 * delivery): descriptor reads with an explicit error code, the accessed bit, inner
 * stacks from the TSS, and pushes onto a stack that is not loaded into SS yet.
 * Not part of the interpreter contract (interp.h).
 */
#ifndef DBT86_SEG_INTERNAL_H
#define DBT86_SEG_INTERNAL_H

#include "cpu/cpu.h"

/* A stack being built before SS:ESP are switched to it (so a fault leaves the CPU
 * state untouched). */
typedef struct NewStack {
    SegCache ss;  /* the stack segment's descriptor cache */
    uint32_t sp;  /* the full ESP value (only the low 16 bits move for a 16-bit SS) */
    bool sys;     /* write as a supervisor access (new CPL < 3) */
    uint32_t err; /* #SS error code when a push is outside the limit */
} NewStack;

/* Reads the descriptor for `sel`; outside the table: vector(err). */
void seg_desc_read(Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, int vector, uint32_t err);
/* Sets the accessed bit of a code/data descriptor whose high word is `hi`. */
void seg_set_accessed(Cpu *c, uint16_t sel, uint32_t hi);
void nstack_init(NewStack *s, const SegCache *ss, uint32_t esp, unsigned new_cpl, uint32_t err);
void nstack_push(Cpu *c, NewStack *s, uint32_t v, unsigned size);
/* SS:ESP for privilege level `dpl` from the current TSS (32- or 16-bit); #TS on a
 * TSS that is too short. `ext` is ORed into error codes. */
void tss_inner_stack(Cpu *c, unsigned dpl, uint16_t *ss, uint32_t *esp, uint32_t ext);
/* Validates the inner stack selector for level `dpl` (#TS / #SS) into `out`. */
void tss_check_stack(Cpu *c, uint16_t ss, unsigned dpl, uint32_t ext, SegCache *out);
/* Task switch to the TSS `sel` (descriptor lo/hi, already type-checked) for a JMP,
 * a CALL or interrupt (nesting: back link and NT), or an IRET (unnesting).
 * `errcode` (or EXC_NO_ERRCODE) is pushed on the new task's stack. */
enum { TASK_JMP, TASK_CALL, TASK_IRET };
void task_switch(Cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, int source, uint32_t errcode,
                 uint32_t ext);

#endif
