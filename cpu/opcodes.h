/*
 * opcodes.h — the x86 opcode table's types: one entry per opcode (or group member),
 * operands written in Intel-manual notation (SDM vol. 2, appendix A.2: addressing
 * method letter + size letter, e.g. Eb, Gv, Iz, Jb, Ap). The decoder (decode.c) walks
 * these entries generically; only opcodes.c and decode.c include this header.
 */
#ifndef DBT86_OPCODES_H
#define DBT86_OPCODES_H

#include <stdint.h>

#include "cpu/insn.h"

/* Operand specifiers (SDM A.2.1 addressing methods, A.2.2 operand types):
 *   E  ModRM r/m: register or memory        G  ModRM reg: general register
 *   M  ModRM r/m: memory only               R  ModRM r/m: general register, mod ignored
 *   S  ModRM reg: segment register          C/D  ModRM reg: control/debug register
 *   I  immediate        J  relative offset   O  moffs (no ModRM)   A  far pointer
 *   X  DS:eSI string source   Y  ES:eDI string destination
 * sizes: b byte, w word, d dword, v/z operand size (2/4), p opsize+2 (far pointer),
 *   a 2*opsize (BOUND), s 6 (pseudo-descriptor), q 8.
 * Extra, not in the SDM letters:
 *   Ibs   Ib sign-extended to the operand size (83, 6A, 6B)
 *   RvMw  ModRM r/m: register of opsize, or a 16-bit memory word (MOV Ev,Sw; SMSW..)
 *   Wx    SSE r/m operand: memory of unknown size, nothing for a register
 *   Fm    x87 r/m operand: memory of unknown size, nothing for a register
 *   ONE   the constant 1 (the SDM writes "1") */
typedef enum OpSpec {
    NO_OP = 0,
    Eb, Ew, Ed, Ev, Gb, Gw, Gd, Gv,
    M, Mp, Ma, Ms, Mq, RvMw, Rd, Sw, Cd, Dd, Wx, Fm,
    Ib, Ibs, Iw, Iz, Iv, Jb, Jz, Ob, Ov, Ap,
    Xb, Xv, Yb, Yv,
    AL, CL, DL, BL, AH, CH, DH, BH, DX,
    eAX, eCX, eDX, eBX, eSP, eBP, eSI, eDI,
    ES, CS, SS, DS, FS, GS,
    ONE,
    OPSPEC_COUNT
} OpSpec;

/* What an entry is. */
enum {
    OE_INSN = 0,  /* an instruction (M_UD for undefined encodings) */
    OE_GROUP,     /* opcode extension in ModRM.reg: see group/group_reg */
    OE_PREFIX,    /* prefix byte: arg = PREFIX_* */
    OE_ESCAPE,    /* next byte indexes another map: arg = map number (1, 2, 3) */
};

/* Prefix kinds for OE_PREFIX entries (segment overrides use SEG_* + PREFIX_SEG). */
enum { PREFIX_LOCK = 0x10, PREFIX_REPNE, PREFIX_REP, PREFIX_OPSIZE, PREFIX_ADDRSIZE,
       PREFIX_SEG = 0x20 };

/* SSE mandatory-prefix forms an entry allows (0: not an SSE-style entry). */
#define SSE_NP 0x01  /* no prefix */
#define SSE_66 0x02
#define SSE_F3 0x04
#define SSE_F2 0x08
#define SSE_ALL 0x0f

typedef struct OpEntry {
    uint16_t mnem;   /* Mnemonic */
    uint8_t kind;    /* OE_* */
    uint8_t arg;     /* prefix kind / escape map */
    uint8_t ops[3];  /* OpSpec; for a group member these follow the parent's */
    uint8_t sse;     /* SSE_* mask of allowed mandatory prefixes */
    uint8_t modrm;   /* slot has a ModRM byte even without ModRM operands (UD forms) */
    uint16_t flags;  /* IF_* */
    const struct OpEntry *group;     /* OE_GROUP: 8 members by ModRM.reg */
    const struct OpEntry *group_reg; /* OE_GROUP: members when mod == 3 (or NULL) */
} OpEntry;

/* The maps: one-byte, 0F, 0F 38, 0F 3A. */
extern const OpEntry opcode_map1[256];
extern const OpEntry opcode_map0f[256];
extern const OpEntry opcode_map0f38[256];
extern const OpEntry opcode_map0f3a[256];

#endif
