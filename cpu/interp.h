/*
 * interp.h — what instruction handlers share: the handler signature, operand access,
 * segmented memory access, flag helpers, and stack helpers.
 *
 * A handler is `void exec_NAME(Cpu *c, const Insn *in)`; it runs with c->eip already
 * pointing at the next instruction (c->insn_eip holds the start). Anything that faults
 * calls cpu_fault(), which longjmps out, so a handler writes architectural state only
 * after the accesses that can fault (read all sources, then write the destination).
 *
 *     void exec_NOT(Cpu *c, const Insn *in) {
 *         opnd_write(c, in, 0, ~opnd_read(c, in, 0));
 *     }
 */
#ifndef DBT86_INTERP_H
#define DBT86_INTERP_H

#include "cpu/cpu.h"
#include "cpu/insn.h"

typedef void (*ExecFn)(Cpu *c, const Insn *in);

/* One handler per mnemonic; the table lives in exec.c. */
#define M(n) void exec_##n(Cpu *c, const Insn *in);
#include "cpu/mnemonics.def"
#undef M

/* ---- operands (operand.c) ---- */
/* Effective address (offset within in->seg) of the memory operand. */
uint32_t opnd_ea(const Cpu *c, const Insn *in);
/* Read/write operand n at its own size (1/2/4 bytes); values are zero-extended. */
uint32_t opnd_read(Cpu *c, const Insn *in, int n);
void opnd_write(Cpu *c, const Insn *in, int n, uint32_t v);
/* Mask for a size in bytes: 1 -> 0xff, 2 -> 0xffff, 4 -> 0xffffffff. */
static inline uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}
/* Byte registers: 0-3 = AL CL DL BL, 4-7 = AH CH DH BH. Inline: every handler uses
 * them. */
static inline uint32_t reg_read(const Cpu *c, int reg, unsigned size)
{
    if (size == 1) return reg < 4 ? c->regs[reg] & 0xff : (c->regs[reg - 4] >> 8) & 0xff;
    return c->regs[reg] & size_mask(size);
}
static inline void reg_write(Cpu *c, int reg, unsigned size, uint32_t v)
{
    if (size == 1) {
        if (reg < 4)
            c->regs[reg] = (c->regs[reg] & ~0xffu) | (v & 0xff);
        else
            c->regs[reg - 4] = (c->regs[reg - 4] & ~0xff00u) | ((v & 0xff) << 8);
    } else if (size == 2) {
        c->regs[reg] = (c->regs[reg] & ~0xffffu) | (v & 0xffff);
    } else {
        c->regs[reg] = v;
    }
}
/* Sign bit for a size in bytes. */
static inline uint32_t size_sign(unsigned size) { return 1u << (size * 8 - 1); }

/* ---- memory (mem.c) ----
 * Segmented access: checks the segment's limit and type (#GP, or #SS for SS), then
 * reads/writes linear memory. Linear access goes through paging when CR0.PG is set. */
uint8_t mem_read8(Cpu *c, int seg, uint32_t off);
uint16_t mem_read16(Cpu *c, int seg, uint32_t off);
uint32_t mem_read32(Cpu *c, int seg, uint32_t off);
void mem_write8(Cpu *c, int seg, uint32_t off, uint8_t v);
void mem_write16(Cpu *c, int seg, uint32_t off, uint16_t v);
void mem_write32(Cpu *c, int seg, uint32_t off, uint32_t v);
uint32_t mem_read(Cpu *c, int seg, uint32_t off, unsigned size);
void mem_write(Cpu *c, int seg, uint32_t off, uint32_t v, unsigned size);
/* Check that [off, off+size) is accessible for writing (used before multi-part writes
 * so that they are all-or-nothing). */
void mem_check_write(Cpu *c, int seg, uint32_t off, unsigned size);
/* Linear address access (no segmentation; paging if enabled). `sys` marks implicit
 * supervisor accesses (descriptor tables, TSS) that ignore CPL for paging. */
uint8_t lin_read8(Cpu *c, uint32_t lin, bool sys);
uint16_t lin_read16(Cpu *c, uint32_t lin, bool sys);
uint32_t lin_read32(Cpu *c, uint32_t lin, bool sys);
void lin_write8(Cpu *c, uint32_t lin, uint8_t v, bool sys);
void lin_write16(Cpu *c, uint32_t lin, uint16_t v, bool sys);
void lin_write32(Cpu *c, uint32_t lin, uint32_t v, bool sys);
/* Physical access through the page map, or MMIO. */
uint32_t phys_read(Cpu *c, uint32_t pa, unsigned size);
void phys_write(Cpu *c, uint32_t pa, uint32_t v, unsigned size);
/* REP string fast path: the host address of [off, off+len) in `seg` when the whole
 * range passes the segment checks, lies in one page of RAM (ROM for reads) and can be
 * reached without a fault — translating it as the first element's access would (A/D
 * bits) — else NULL, and nothing happened: the caller goes element by element. NULL
 * also while writes are journaled (lockstep) or data breakpoints are armed. */
uint8_t *mem_host_range(Cpu *c, int seg, uint32_t off, uint32_t len, bool write);
/* Instruction fetch of up to 15 bytes at CS:EIP into buf; returns bytes available
 * before a fault boundary (faults only if zero bytes are fetchable). */
unsigned mem_fetch(Cpu *c, uint32_t eip, uint8_t *buf, unsigned want);

/* ---- stack (stack.c) ----
 * Push/pop using SS with ESP or SP by the SS B bit. */
void stack_push(Cpu *c, uint32_t v, unsigned size);
uint32_t stack_pop(Cpu *c, unsigned size);
/* Read the value `depth` bytes above the stack top without popping. */
uint32_t stack_peek(Cpu *c, uint32_t depth, unsigned size);
uint32_t stack_sp(const Cpu *c);          /* ESP or SP by SS size */
void stack_set_sp(Cpu *c, uint32_t sp);   /* writes ESP or only SP */

/* ---- flags (alu.c) ---- */
/* Parity of the low byte (PF set when even). */
bool parity8(uint8_t v);
/* Condition codes 0..15 (O NO B AE E NE BE A S NS P NP L GE LE G). */
bool cond_test(const Cpu *c, unsigned cc);
/* Set CF PF AF ZF SF OF for an add/sub of `size` bytes: res = a op b (+carry). */
void flags_add(Cpu *c, uint32_t a, uint32_t b, uint32_t res, unsigned size);
void flags_sub(Cpu *c, uint32_t a, uint32_t b, uint32_t res, unsigned size);
/* Logic ops: CF=OF=0, PF ZF SF from res; AF cleared (as Intel/QEMU do). */
void flags_logic(Cpu *c, uint32_t res, unsigned size);
/* Write EFLAGS from POPF/IRET/etc. honouring CPL/IOPL/VM rules; `mask` limits which
 * bits may change (e.g. 0xffff for 16-bit forms). */
void flags_write(Cpu *c, uint32_t v, uint32_t mask);

/* ---- segments and control transfer (seg.c, intr.c) ---- */
/* Load a segment register (MOV/POP/LDS...): real-mode or protected-mode rules with
 * all checks; faults with #GP/#SS/#NP(selector). */
void seg_load(Cpu *c, int seg, uint16_t sel);
/* Load CS:EIP for a far JMP/CALL/RET/IRET in the current mode (incl. gates). */
void far_jump(Cpu *c, uint16_t sel, uint32_t eip, bool is_call, unsigned opsize);
void far_return(Cpu *c, unsigned opsize, uint16_t pop_bytes);
void iret(Cpu *c, unsigned opsize);
/* Read a descriptor (8 bytes) for selector `sel` from GDT/LDT; faults with
 * #GP(sel) (or `vector`) when outside the table limit. */
void seg_read_descriptor(Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi, int vector);
/* Fill a SegCache from descriptor words. */
void seg_cache_from_desc(SegCache *s, uint16_t sel, uint32_t lo, uint32_t hi);
/* Real-mode style segment load: base = sel << 4 (limit/flags kept as in real mode). */
void seg_load_real(Cpu *c, int seg, uint16_t sel);

/* I/O permission check (IOPL / TSS bitmap); faults #GP(0) when denied. */
void io_check(Cpu *c, uint16_t port, unsigned size);

/* ---- CPUID and time stamp (cpuid.c, exec_system.c) ---- */
/* The CPUID result for `leaf` (EAX) and `subleaf` (ECX): out[] = EAX, EBX, ECX, EDX. */
void cpuid_query(const Cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* The time stamp counter as RDTSC/RDMSR(0x10) read it: 1 GHz of virtual time. */
uint64_t cpu_tsc(const Cpu *c);

#endif
