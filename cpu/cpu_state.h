/*
 * cpu_state.h — the CPU's snapshot descriptor: every architectural field of Cpu
 * (registers, segment caches, control/debug registers, MSRs, TLB, x87) plus the
 * reset-preserved inputs the machine's behaviour depends on (icount, INTR, IGNNE#, A20).
 */
#ifndef DBT86_CPU_STATE_H
#define DBT86_CPU_STATE_H

#include "devices/device.h"

extern const StateDesc cpu_state_desc;

#endif
