/*
 * sse.h — MMX/SSE/SSE2/SSE3 state helpers (exec_sse.c). The instructions themselves run on
 * the host CPU with the guest's registers loaded, like the x87 (fpu.h).
 *
 *     uint32_t m = sse_mxcsr(c);   // 0x1F80 after reset
 */
#ifndef DBT86_SSE_H
#define DBT86_SSE_H

#include "cpu/cpu.h"

#define MXCSR_RESET 0x1f80u
#define MXCSR_FLAGS 0x003fu /* IE DE ZE OE UE PE */
#define MXCSR_MASKS 0x1f80u /* IM DM ZM OM UM PM */

static inline uint32_t sse_mxcsr(const Cpu *c) { return c->mxcsr_xor ^ MXCSR_RESET; }
static inline void sse_set_mxcsr(Cpu *c, uint32_t v) { c->mxcsr_xor = v ^ MXCSR_RESET; }

/* The MXCSR bits this CPU implements (the FXSAVE MXCSR_MASK): the host's, at most
 * 0xFFFF (DAZ included when the host has it). */
uint32_t sse_mxcsr_mask(void);

/* Whether the host runs SSE3 (ADDSUBPx, HADDPx, HSUBPx, MOVxDUP, LDDQU, FISTTP): the
 * guest gets SSE3, in CPUID and as instructions, exactly when it does. */
bool sse_host_has_sse3(void);

#endif
