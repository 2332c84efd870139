/*
 * insn.h — the decoded instruction (Insn) and the decoder API.
 *
 * The decoder (decode.c) turns up to 15 bytes into an Insn using the one opcode table
 * (opcodes.c, written in Intel-manual operand notation). The interpreter's handlers and,
 * later, the translator take an Insn and never look at the bytes again.
 *
 *     Insn in; int r = decode(&in, bytes, avail, true);   // 32-bit code segment
 *     if (r == DECODE_MORE) ...need more bytes;  r == DECODE_OK: in.len bytes used
 *
 * Operand layout: op[0] is the destination (or the only operand), op[1] the source,
 * op[2] the third operand (IMUL3 immediate, SHLD/SHRD count). Fixed registers in the
 * encoding (AL, eAX, DX, CL, ...) come out as OPK_REG like any other register.
 * String instructions (MOVS...) have no operands: the handler uses eSI/eDI/eCX
 * with addrsize, `seg` for the source and ES for the destination.
 */
#ifndef DBT86_INSN_H
#define DBT86_INSN_H

#include <stdbool.h>
#include <stdint.h>

/* Mnemonics, from mnemonics.def: M_ADD, M_OR, ... M__COUNT. */
typedef enum Mnemonic {
#define M(n) M_##n,
#include "cpu/mnemonics.def"
#undef M
    M__COUNT
} Mnemonic;

extern const char *const mnemonic_names[M__COUNT];

/* Operand kinds. */
typedef enum OpKind {
    OPK_NONE = 0,
    OPK_REG,   /* general register: reg = 0..7; size 1 means AL,CL,DL,BL,AH,CH,DH,BH */
    OPK_MEM,   /* memory operand from ModRM (or moffs): see Insn's ea fields */
    OPK_IMM,   /* immediate: value in Insn.imm (sign/zero extended to op size already) */
    OPK_SREG,  /* segment register: reg = SEG_ES..SEG_GS */
    OPK_CREG,  /* control register: reg = 0..7 */
    OPK_DREG,  /* debug register: reg = 0..7 */
    OPK_REL,   /* relative branch target: Insn.imm holds the sign-extended displacement */
    OPK_FAR,   /* far pointer immediate: Insn.imm = offset, Insn.imm2 = selector */
    OPK_ONE,   /* the constant 1 (shift by 1) */
    OPK_IMM2,  /* second immediate (ENTER's Ib): value in Insn.imm2 */
} OpKind;

typedef struct Operand {
    uint8_t kind; /* OpKind */
    uint8_t size; /* in bytes: 1, 2, 4, 6 (far pointer / pseudo-descriptor), 8 (m64) */
    uint8_t reg;  /* register number for REG/SREG/CREG/DREG */
} Operand;

/* Prefix bits in Insn.prefixes. */
#define PFX_LOCK 0x01
#define PFX_REP 0x02   /* F3: REP / REPE */
#define PFX_REPNE 0x04 /* F2: REPNE */
#define PFX_OPSIZE 0x08
#define PFX_ADDRSIZE 0x10
#define PFX_SEG 0x20   /* a segment override was given (see Insn.seg) */

/* Table flags (Insn.flags), copied from the opcode table entry. */
#define IF_LOCKABLE 0x0001   /* LOCK prefix is legal with a memory destination */
#define IF_BRANCH 0x0002     /* changes EIP other than by falling through */
#define IF_PRIV 0x0004       /* privileged (CPL 0 only) */
#define IF_SENSITIVE 0x0008  /* touches state translated code must not own (VMM exit) */
#define IF_STRING 0x0010     /* string instruction (REP prefixes apply) */
#define IF_MODRM_MEM 0x0020  /* the ModRM operand must be memory (mod != 3) or #UD */
#define IF_MODRM_REG 0x0040  /* the ModRM operand must be a register (mod == 3) or #UD */
#define IF_ENDS_BLOCK 0x0080 /* ends a translation block */
#define IF_READS_FLAGS 0x0100  /* reads arithmetic flags */
#define IF_WRITES_FLAGS 0x0200 /* writes arithmetic flags */

/* The decoded instruction. */
typedef struct Insn {
    uint16_t mnem;     /* Mnemonic */
    uint8_t len;       /* total length in bytes, prefixes included (1..15) */
    uint8_t opsize;    /* effective operand size for 'v'/'z' forms: 2 or 4 */
    uint8_t addrsize;  /* effective address size: 2 or 4 */
    uint8_t prefixes;  /* PFX_* */
    uint8_t seg;       /* segment for the memory operand / string source: SEG_* (default
                          DS, or SS for eBP/eSP bases, or the override) */
    uint8_t map;       /* 0: one-byte map, 1: 0F, 2: 0F 38, 3: 0F 3A */
    uint8_t opcode;    /* the last opcode byte */
    uint8_t cond;      /* condition code 0..15 for Jcc/SETcc/CMOVcc (low nibble) */
    uint8_t modrm;     /* raw ModRM byte (valid if has_modrm) */
    bool has_modrm;
    /* memory operand (valid when some operand is OPK_MEM):
     * EA = (base ? reg[base] : 0) + (index ? reg[index] << scale : 0) + disp,
     * truncated to addrsize. For 16-bit addressing base/index are BX/BP/SI/DI. */
    int8_t ea_base;    /* register number or -1 */
    int8_t ea_index;   /* register number or -1 */
    uint8_t ea_scale;  /* shift count 0..3 */
    int32_t disp;      /* displacement, sign-extended */
    uint32_t imm;      /* first immediate / relative displacement / far offset */
    uint32_t imm2;     /* second immediate: far selector, ENTER nesting level */
    uint16_t flags;    /* IF_* from the table */
    uint8_t nops;      /* number of operands in use */
    Operand op[3];
} Insn;

/* decode() results. */
enum {
    DECODE_OK = 0,
    DECODE_MORE = -1,    /* ran out of bytes: call again with more (up to 15) */
    DECODE_TOOLONG = -2, /* more than 15 bytes: #GP(0) on real CPUs */
};

/* Decode one instruction from `bytes` (avail valid bytes). `code32` is the CS D bit.
 * An undefined opcode decodes successfully as M_UD with the length consumed so far
 * (the handler raises #UD). */
int decode(Insn *in, const uint8_t *bytes, unsigned avail, bool code32);

/* The name of an instruction, for logs (e.g. "add"). */
const char *insn_name(const Insn *in);

#endif
