/*
 * fpu.h — the x87 FPU: guest state helpers and the host-x87 executor.
 *
 * dbt86 runs only on x86-64 hosts, which all have an x87, so every guest x87 operation
 * is executed by the host's x87 with the guest's state loaded (FRSTOR of a 32-bit
 * protected-mode FSAVE image, the instruction, FNSAVE). Results, rounding, precision
 * control, flags, tags and transcendental results are then exactly the hardware's,
 * including the unmasked-exception cases (the host only raises #MF at the next
 * waiting instruction, and FNSAVE does not wait, so the host never traps).
 *
 *     FpuState *f = fpu_get(c);       // power-on state on first use after reset
 *     uint8_t img[FPU_IMAGE_SIZE]; fpu_to_image(f, img);
 *     fpu_host_exec(img, 0xd9, 0xe8, NULL, c->eflags);   // FLD1
 *     fpu_from_image(f, img);
 */
#ifndef DBT86_FPU_H
#define DBT86_FPU_H

#include "cpu/cpu.h"

/* Status word bits. */
#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_TOP_SHIFT 11
#define FSW_C3 0x4000
#define FSW_B 0x8000
#define FSW_EXC 0x003f /* the six exception flags (the masks sit at the same bits of CW) */

/* The FSAVE image in the 32-bit protected-mode format (what the host's FNSAVE uses):
 * env (CW, SW, TW, FIP, FCS|FOP<<16, FDP, FDS, each in a dword) then ST(0)..ST(7). */
#define FPU_ENV32_SIZE 28
#define FPU_IMAGE_SIZE 108

/* The guest FPU state, with the power-on state installed on first use after reset. */
FpuState *fpu_get(Cpu *c);
/* Power-on / RESET state (SDM vol. 3 table 9-1): CW 0x0040, SW 0, TW 0x5555, +0.0. */
void fpu_reset(FpuState *f);
/* The IGNNE# input: with CR0.NE=0 and IGNNE# high, a pending unmasked exception is
 * ignored by waiting instructions (the PC asserts it after a write to port 0xF0). */
void fpu_set_ignne(Cpu *c, bool level);

/* FpuState <-> 108-byte image. fpu_from_image takes CW, SW, TW and the registers only
 * (the instruction/data pointers are the guest's, kept by the caller). */
void fpu_to_image(const FpuState *f, uint8_t img[FPU_IMAGE_SIZE]);
void fpu_from_image(FpuState *f, const uint8_t img[FPU_IMAGE_SIZE]);

/* Execute one x87 instruction on the host: escape byte `esc` (0xd8-0xdf) and `modrm`.
 * For a memory form (mod != 3) only ModRM.reg counts and the operand is `buf` (host
 * memory, in the host's format: 28/108 bytes for FLDENV/FSTENV/FRSTOR/FSAVE). esc 0
 * runs nothing (FRSTOR + FNSAVE only: normalises the tag word as hardware computes
 * it). The caller must have checked that the encoding is valid on the guest, and that
 * no unmasked exception is pending for a waiting instruction (the host would trap).
 * `eflags` supplies ZF/PF/CF/... to FCMOVcc; returns the host EFLAGS afterwards (the
 * FCOMI result). */
uint32_t fpu_host_exec(uint8_t img[FPU_IMAGE_SIZE], unsigned esc, unsigned modrm, void *buf,
                       uint32_t eflags);

/* Environment (FLDENV/FSTENV) layouts: 14 bytes (16-bit operand size) or 28; the
 * real-mode/virtual-8086 layouts store linear 20/32-bit pointers (SDM vol. 1 figures
 * 8-9 to 8-12). env_to_guest takes CW/SW/TW from a host-format env and the pointers
 * from `f`; env_from_guest produces a host-format env and sets f's pointers. */
unsigned fpu_env_size(bool op32);
void fpu_env_to_guest(const uint8_t *host_env, const FpuState *f, bool op32, bool real,
                      uint8_t *out);
void fpu_env_from_guest(const uint8_t *in, bool op32, bool real, uint8_t *host_env,
                        FpuState *f);

#endif
