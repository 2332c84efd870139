/*
 * cpu_state.c — the StateDesc of Cpu for snapshots. Fields are named as in struct Cpu
 * so that a snapshot's sections read like the struct. The decoded-instruction cache and
 * the per-instruction scratch are not saved: the first is validated against memory on
 * every use, the second is dead between instructions.
 */
#include "cpu/cpu_state.h"

#include <stddef.h>

#include "cpu/cpu.h"

#define SEG_FIELDS(f)                                                                      \
    STATE_U16(Cpu, f.sel), STATE_U32(Cpu, f.base), STATE_U32(Cpu, f.limit),                \
        STATE_U32(Cpu, f.flags)

static const StateField cpu_fields[] = {
    STATE_U32_ARRAY(Cpu, regs, 8),
    STATE_U32(Cpu, eip),
    STATE_U32(Cpu, eflags),
    SEG_FIELDS(seg[SEG_ES]),
    SEG_FIELDS(seg[SEG_CS]),
    SEG_FIELDS(seg[SEG_SS]),
    SEG_FIELDS(seg[SEG_DS]),
    SEG_FIELDS(seg[SEG_FS]),
    SEG_FIELDS(seg[SEG_GS]),
    SEG_FIELDS(ldtr),
    SEG_FIELDS(tr),
    STATE_U32(Cpu, gdtr.base),
    STATE_U16(Cpu, gdtr.limit),
    STATE_U32(Cpu, idtr.base),
    STATE_U16(Cpu, idtr.limit),
    STATE_U32_ARRAY(Cpu, cr, 5),
    STATE_U32_ARRAY(Cpu, dr, 8),
    STATE_U8(Cpu, cpl),
    STATE_BOOL(Cpu, halted),
    STATE_U8(Cpu, inhibit_irq),
    STATE_BOOL(Cpu, nmi_pending),
    STATE_U64(Cpu, tsc_offset),
    STATE_U64(Cpu, msr_sysenter_cs),
    STATE_U64(Cpu, msr_sysenter_esp),
    STATE_U64(Cpu, msr_sysenter_eip),
    STATE_U64(Cpu, msr_apic_base),
    STATE_FIELD_(Cpu, msr_mtrr_var, ST_U64, 16),
    STATE_FIELD_(Cpu, msr_mtrr_fixed, ST_U64, 11),
    STATE_U64(Cpu, msr_mtrr_deftype),
    STATE_U64(Cpu, msr_pat_xor),
    STATE_U64(Cpu, msr_misc_enable),
    STATE_U64(Cpu, msr_efer),
    STATE_FIELD_(Cpu, pdpte, ST_U64, 4),
    /* The TLB is a cache, but a guest that edits page tables without INVLPG sees its
     * stale entries; saving it keeps a restored run identical. TlbEntry is 12 bytes
     * with its padding (x86-64 layout, little-endian): kept as raw bytes. */
    STATE_BOOL(Cpu, tlb_has_large),
    STATE_BYTES(Cpu, tlb, sizeof(TlbEntry) * TLB_SIZE),
    STATE_BYTES(Cpu, fpu.st, 80),
    STATE_U16(Cpu, fpu.cw),
    STATE_U16(Cpu, fpu.sw),
    STATE_U16(Cpu, fpu.tw),
    STATE_U16(Cpu, fpu.fcs),
    STATE_U16(Cpu, fpu.fds),
    STATE_U16(Cpu, fpu.fop),
    STATE_U32(Cpu, fpu.fip),
    STATE_U32(Cpu, fpu.fdp),
    STATE_BOOL(Cpu, fpu.ready),
    STATE_BYTES(Cpu, xmm, 128),
    STATE_U32(Cpu, mxcsr_xor),
    STATE_U8(Cpu, dbg_armed),
    STATE_U32(Cpu, dbg_trap),
    /* reset-preserved, but part of the machine's state: the virtual clock counts
     * instructions, and the input lines are levels the devices will not re-drive */
    STATE_U64(Cpu, icount),
    STATE_BOOL(Cpu, intr_line),
    STATE_BOOL(Cpu, fpu_ignne),
    STATE_U32(Cpu, a20_mask),
    STATE_END,
};

const StateDesc cpu_state_desc = {"cpu", 1, cpu_fields};
