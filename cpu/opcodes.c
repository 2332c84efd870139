/*
 * opcodes.c — the x86 opcode table: the one-byte map, the 0F map, the 0F 38 / 0F 3A
 * maps (lengths only) and the ModRM.reg groups, in the SDM's appendix A notation.
 * It covers the 486/Pentium/P6 integer set, x87 (D8-DF, decoded as one FPU entry) and
 * MMX/SSE/SSE2/SSE3 (decoded for length as SSE). The decoder (decode.c) walks it.
 */
#include "cpu/opcodes.h"

#include "cpu/cpu.h"

/* OP(mnemonic, operands..., flags): 0 to 3 operands, flags last. */
#define OP_PICK(_1, _2, _3, _4, NAME, ...) NAME
#define OP(m, ...) OP_PICK(__VA_ARGS__, OP_3, OP_2, OP_1, OP_0, _)(M_##m, 0, __VA_ARGS__)
/* SSE(mandatory-prefix mask, operands..., flags) */
#define SSE(s, ...) OP_PICK(__VA_ARGS__, OP_3, OP_2, OP_1, OP_0, _)(M_SSE, s, __VA_ARGS__)
#define OP_0(m, s, f) { .mnem = (m), .sse = (s), .flags = (f) }
#define OP_1(m, s, a, f) { .mnem = (m), .sse = (s), .ops = { a }, .flags = (f) }
#define OP_2(m, s, a, b, f) { .mnem = (m), .sse = (s), .ops = { a, b }, .flags = (f) }
#define OP_3(m, s, a, b, c, f) { .mnem = (m), .sse = (s), .ops = { a, b, c }, .flags = (f) }
/* undefined: UD without, UDM with a ModRM byte in the slot */
#define UD { .mnem = M_UD }
#define UDM { .mnem = M_UD, .modrm = 1 }
/* GROUP(members, parent operands...): members[ModRM.reg]; their own operands (if
 * any) follow the parent's. SPLIT(mem members, mod=3 members) for groups whose
 * register forms are different instructions (SDM table A-6). */
#define G_PICK(_1, _2, _3, NAME, ...) NAME
#define GROUP(...) G_PICK(__VA_ARGS__, G_2, G_1, G_0, _)(__VA_ARGS__)
#define G_0(g) { .kind = OE_GROUP, .group = (g) }
#define G_1(g, a) { .kind = OE_GROUP, .group = (g), .ops = { a } }
#define G_2(g, a, b) { .kind = OE_GROUP, .group = (g), .ops = { a, b } }
#define SPLIT(g, r) { .kind = OE_GROUP, .group = (g), .group_reg = (r) }
#define PREFIX(p) { .kind = OE_PREFIX, .arg = (p) }
#define ESCAPE(m) { .kind = OE_ESCAPE, .arg = (m) }

/* flag shorthands */
#define LK IF_LOCKABLE
#define RF IF_READS_FLAGS
#define WF IF_WRITES_FLAGS
#define RWF (IF_READS_FLAGS | IF_WRITES_FLAGS)
#define BR (IF_BRANCH | IF_ENDS_BLOCK)
#define END IF_ENDS_BLOCK
#define SENS IF_SENSITIVE
#define PRIV (IF_PRIV | IF_SENSITIVE)
#define STR IF_STRING
#define MEM IF_MODRM_MEM
#define REG IF_MODRM_REG
#define NP SSE_NP
#define P66 SSE_66
#define PF3 SSE_F3
#define PF2 SSE_F2
#define ALL SSE_ALL

/* ---- groups (SDM table A-6), indexed by ModRM.reg ---- */
static const OpEntry GRP1[8] = {
    OP(ADD, LK | WF), OP(OR, LK | WF), OP(ADC, LK | RWF), OP(SBB, LK | RWF),
    OP(AND, LK | WF), OP(SUB, LK | WF), OP(XOR, LK | WF), OP(CMP, WF),
};
static const OpEntry GRP1A[8] = { OP(POP, 0), UDM, UDM, UDM, UDM, UDM, UDM, UDM };
/* shifts by 0 leave the flags alone, so they also read them */
static const OpEntry GRP2[8] = {
    OP(ROL, RWF), OP(ROR, RWF), OP(RCL, RWF), OP(RCR, RWF),
    OP(SHL, RWF), OP(SHR, RWF), OP(SAL, RWF), OP(SAR, RWF),
};
static const OpEntry GRP3_EB[8] = {
    OP(TEST, Ib, WF), OP(TEST, Ib, WF), OP(NOT, LK), OP(NEG, LK | WF),
    OP(MUL, WF), OP(IMUL1, WF), OP(DIV, WF), OP(IDIV, WF),
};
static const OpEntry GRP3_EV[8] = {
    OP(TEST, Iz, WF), OP(TEST, Iz, WF), OP(NOT, LK), OP(NEG, LK | WF),
    OP(MUL, WF), OP(IMUL1, WF), OP(DIV, WF), OP(IDIV, WF),
};
static const OpEntry GRP4[8] = { OP(INC, LK | RWF), OP(DEC, LK | RWF), UDM, UDM, UDM, UDM,
                                 UDM, UDM };
static const OpEntry GRP5[8] = {
    OP(INC, Ev, LK | RWF), OP(DEC, Ev, LK | RWF), OP(CALL, Ev, BR),
    OP(CALL_FAR_M, Mp, BR | SENS | RWF), OP(JMP, Ev, BR), OP(JMP_FAR_M, Mp, BR | SENS | RWF),
    OP(PUSH, Ev, 0), UDM,
};
static const OpEntry GRP6[8] = {
    OP(SLDT, RvMw, SENS), OP(STR, RvMw, SENS), OP(LLDT, Ew, PRIV | END), OP(LTR, Ew, PRIV | END),
    OP(VERR, Ew, SENS | RWF), OP(VERW, Ew, SENS | RWF), UDM, UDM,
};
static const OpEntry GRP7[8] = {
    OP(SGDT, Ms, MEM | SENS), OP(SIDT, Ms, MEM | SENS), OP(LGDT, Ms, MEM | PRIV),
    OP(LIDT, Ms, MEM | PRIV), OP(SMSW, RvMw, SENS), UDM, OP(LMSW, Ew, PRIV | END),
    OP(INVLPG, M, MEM | PRIV | END),
};
/* 0F 01 with mod = 3: VMX, MONITOR/MWAIT, XGETBV, SWAPGS, RDTSCP... are not part of
 * this CPU, so only the register forms of SMSW and LMSW are defined */
static const OpEntry GRP7_REG[8] = {
    UDM, UDM, UDM, UDM, OP(SMSW, RvMw, SENS), UDM, OP(LMSW, Ew, PRIV | END), UDM,
};
static const OpEntry GRP8[8] = {
    UDM, UDM, UDM, UDM, OP(BT, RWF), OP(BTS, LK | RWF), OP(BTR, LK | RWF), OP(BTC, LK | RWF),
};
static const OpEntry GRP9[8] = { UDM, OP(CMPXCHG8B, Mq, MEM | LK | RWF), UDM, UDM,
                                 UDM, UDM, UDM, UDM };
static const OpEntry GRP9_REG[8] = { UDM, UDM, UDM, UDM, UDM, UDM, UDM, UDM };
static const OpEntry GRP11[8] = { OP(MOV, 0), UDM, UDM, UDM, UDM, UDM, UDM, UDM };
/* 0F 71-73: MMX/SSE2 shifts by immediate, register forms only */
static const OpEntry GRP_MEM_UD[8] = { UDM, UDM, UDM, UDM, UDM, UDM, UDM, UDM };
static const OpEntry GRP12_REG[8] = {
    UDM, UDM, SSE(NP | P66, Wx, Ib, 0), UDM, SSE(NP | P66, Wx, Ib, 0), UDM,
    SSE(NP | P66, Wx, Ib, 0), UDM,
};
static const OpEntry GRP14_REG[8] = {
    UDM, UDM, SSE(NP | P66, Wx, Ib, 0), SSE(P66, Wx, Ib, 0), UDM, UDM,
    SSE(NP | P66, Wx, Ib, 0), SSE(P66, Wx, Ib, 0),
};
/* 0F AE: FXSAVE FXRSTOR LDMXCSR STMXCSR - - - CLFLUSH; mod = 3: LFENCE MFENCE SFENCE */
static const OpEntry GRP15[8] = {
    SSE(NP | P66, Wx, 0), SSE(NP | P66, Wx, 0), SSE(NP | P66, Wx, 0), SSE(NP | P66, Wx, 0),
    UDM, UDM, UDM, SSE(NP | P66, Wx, 0),
};
static const OpEntry GRP15_REG[8] = {
    UDM, UDM, UDM, UDM, UDM, SSE(NP, 0), SSE(NP, 0), SSE(NP, 0),
};
static const OpEntry GRP16[8] = {
    OP(PREFETCH, 0), OP(PREFETCH, 0), OP(PREFETCH, 0), OP(PREFETCH, 0),
    OP(HINT_NOP, 0), OP(HINT_NOP, 0), OP(HINT_NOP, 0), OP(HINT_NOP, 0),
};

/* ---- one-byte map (SDM table A-2) ---- */
const OpEntry opcode_map1[256] = {
    [0x00] = OP(ADD, Eb, Gb, LK | WF),
    [0x01] = OP(ADD, Ev, Gv, LK | WF),
    [0x02] = OP(ADD, Gb, Eb, WF),
    [0x03] = OP(ADD, Gv, Ev, WF),
    [0x04] = OP(ADD, AL, Ib, WF),
    [0x05] = OP(ADD, eAX, Iz, WF),
    [0x06] = OP(PUSH_SR, ES, 0),
    [0x07] = OP(POP_SR, ES, SENS),
    [0x08] = OP(OR, Eb, Gb, LK | WF),
    [0x09] = OP(OR, Ev, Gv, LK | WF),
    [0x0a] = OP(OR, Gb, Eb, WF),
    [0x0b] = OP(OR, Gv, Ev, WF),
    [0x0c] = OP(OR, AL, Ib, WF),
    [0x0d] = OP(OR, eAX, Iz, WF),
    [0x0e] = OP(PUSH_SR, CS, 0),
    [0x0f] = ESCAPE(1),
    [0x10] = OP(ADC, Eb, Gb, LK | RWF),
    [0x11] = OP(ADC, Ev, Gv, LK | RWF),
    [0x12] = OP(ADC, Gb, Eb, RWF),
    [0x13] = OP(ADC, Gv, Ev, RWF),
    [0x14] = OP(ADC, AL, Ib, RWF),
    [0x15] = OP(ADC, eAX, Iz, RWF),
    [0x16] = OP(PUSH_SR, SS, 0),
    [0x17] = OP(POP_SR, SS, SENS | END),
    [0x18] = OP(SBB, Eb, Gb, LK | RWF),
    [0x19] = OP(SBB, Ev, Gv, LK | RWF),
    [0x1a] = OP(SBB, Gb, Eb, RWF),
    [0x1b] = OP(SBB, Gv, Ev, RWF),
    [0x1c] = OP(SBB, AL, Ib, RWF),
    [0x1d] = OP(SBB, eAX, Iz, RWF),
    [0x1e] = OP(PUSH_SR, DS, 0),
    [0x1f] = OP(POP_SR, DS, SENS),
    [0x20] = OP(AND, Eb, Gb, LK | WF),
    [0x21] = OP(AND, Ev, Gv, LK | WF),
    [0x22] = OP(AND, Gb, Eb, WF),
    [0x23] = OP(AND, Gv, Ev, WF),
    [0x24] = OP(AND, AL, Ib, WF),
    [0x25] = OP(AND, eAX, Iz, WF),
    [0x26] = PREFIX(PREFIX_SEG | SEG_ES),
    [0x27] = OP(DAA, RWF),
    [0x28] = OP(SUB, Eb, Gb, LK | WF),
    [0x29] = OP(SUB, Ev, Gv, LK | WF),
    [0x2a] = OP(SUB, Gb, Eb, WF),
    [0x2b] = OP(SUB, Gv, Ev, WF),
    [0x2c] = OP(SUB, AL, Ib, WF),
    [0x2d] = OP(SUB, eAX, Iz, WF),
    [0x2e] = PREFIX(PREFIX_SEG | SEG_CS),
    [0x2f] = OP(DAS, RWF),
    [0x30] = OP(XOR, Eb, Gb, LK | WF),
    [0x31] = OP(XOR, Ev, Gv, LK | WF),
    [0x32] = OP(XOR, Gb, Eb, WF),
    [0x33] = OP(XOR, Gv, Ev, WF),
    [0x34] = OP(XOR, AL, Ib, WF),
    [0x35] = OP(XOR, eAX, Iz, WF),
    [0x36] = PREFIX(PREFIX_SEG | SEG_SS),
    [0x37] = OP(AAA, RWF),
    [0x38] = OP(CMP, Eb, Gb, WF),
    [0x39] = OP(CMP, Ev, Gv, WF),
    [0x3a] = OP(CMP, Gb, Eb, WF),
    [0x3b] = OP(CMP, Gv, Ev, WF),
    [0x3c] = OP(CMP, AL, Ib, WF),
    [0x3d] = OP(CMP, eAX, Iz, WF),
    [0x3e] = PREFIX(PREFIX_SEG | SEG_DS),
    [0x3f] = OP(AAS, RWF),
    [0x40] = OP(INC, eAX, RWF), [0x41] = OP(INC, eCX, RWF),
    [0x42] = OP(INC, eDX, RWF), [0x43] = OP(INC, eBX, RWF),
    [0x44] = OP(INC, eSP, RWF), [0x45] = OP(INC, eBP, RWF),
    [0x46] = OP(INC, eSI, RWF), [0x47] = OP(INC, eDI, RWF),
    [0x48] = OP(DEC, eAX, RWF), [0x49] = OP(DEC, eCX, RWF),
    [0x4a] = OP(DEC, eDX, RWF), [0x4b] = OP(DEC, eBX, RWF),
    [0x4c] = OP(DEC, eSP, RWF), [0x4d] = OP(DEC, eBP, RWF),
    [0x4e] = OP(DEC, eSI, RWF), [0x4f] = OP(DEC, eDI, RWF),
    [0x50] = OP(PUSH, eAX, 0), [0x51] = OP(PUSH, eCX, 0),
    [0x52] = OP(PUSH, eDX, 0), [0x53] = OP(PUSH, eBX, 0),
    [0x54] = OP(PUSH, eSP, 0), [0x55] = OP(PUSH, eBP, 0),
    [0x56] = OP(PUSH, eSI, 0), [0x57] = OP(PUSH, eDI, 0),
    [0x58] = OP(POP, eAX, 0), [0x59] = OP(POP, eCX, 0),
    [0x5a] = OP(POP, eDX, 0), [0x5b] = OP(POP, eBX, 0),
    [0x5c] = OP(POP, eSP, 0), [0x5d] = OP(POP, eBP, 0),
    [0x5e] = OP(POP, eSI, 0), [0x5f] = OP(POP, eDI, 0),
    [0x60] = OP(PUSHA, 0),
    [0x61] = OP(POPA, 0),
    [0x62] = OP(BOUND, Gv, Ma, MEM),
    [0x63] = OP(ARPL, Ew, Gw, SENS | RWF),
    [0x64] = PREFIX(PREFIX_SEG | SEG_FS),
    [0x65] = PREFIX(PREFIX_SEG | SEG_GS),
    [0x66] = PREFIX(PREFIX_OPSIZE),
    [0x67] = PREFIX(PREFIX_ADDRSIZE),
    [0x68] = OP(PUSH, Iz, 0),
    [0x69] = OP(IMUL3, Gv, Ev, Iz, WF),
    [0x6a] = OP(PUSH, Ibs, 0),
    [0x6b] = OP(IMUL3, Gv, Ev, Ibs, WF),
    [0x6c] = OP(INS, Yb, DX, STR | SENS),
    [0x6d] = OP(INS, Yv, DX, STR | SENS),
    [0x6e] = OP(OUTS, DX, Xb, STR | SENS),
    [0x6f] = OP(OUTS, DX, Xv, STR | SENS),
    [0x70] = OP(Jcc, Jb, BR | RF), [0x71] = OP(Jcc, Jb, BR | RF),
    [0x72] = OP(Jcc, Jb, BR | RF), [0x73] = OP(Jcc, Jb, BR | RF),
    [0x74] = OP(Jcc, Jb, BR | RF), [0x75] = OP(Jcc, Jb, BR | RF),
    [0x76] = OP(Jcc, Jb, BR | RF), [0x77] = OP(Jcc, Jb, BR | RF),
    [0x78] = OP(Jcc, Jb, BR | RF), [0x79] = OP(Jcc, Jb, BR | RF),
    [0x7a] = OP(Jcc, Jb, BR | RF), [0x7b] = OP(Jcc, Jb, BR | RF),
    [0x7c] = OP(Jcc, Jb, BR | RF), [0x7d] = OP(Jcc, Jb, BR | RF),
    [0x7e] = OP(Jcc, Jb, BR | RF), [0x7f] = OP(Jcc, Jb, BR | RF),
    [0x80] = GROUP(GRP1, Eb, Ib),
    [0x81] = GROUP(GRP1, Ev, Iz),
    [0x82] = GROUP(GRP1, Eb, Ib), /* alias of 80 outside 64-bit mode */
    [0x83] = GROUP(GRP1, Ev, Ibs),
    [0x84] = OP(TEST, Eb, Gb, WF),
    [0x85] = OP(TEST, Ev, Gv, WF),
    [0x86] = OP(XCHG, Eb, Gb, LK),
    [0x87] = OP(XCHG, Ev, Gv, LK),
    [0x88] = OP(MOV, Eb, Gb, 0),
    [0x89] = OP(MOV, Ev, Gv, 0),
    [0x8a] = OP(MOV, Gb, Eb, 0),
    [0x8b] = OP(MOV, Gv, Ev, 0),
    [0x8c] = OP(MOV_RS, RvMw, Sw, 0),
    [0x8d] = OP(LEA, Gv, M, MEM),
    [0x8e] = OP(MOV_SR, Sw, Ew, SENS | END),
    [0x8f] = GROUP(GRP1A, Ev),
    [0x90] = OP(NOP, 0), /* F3 90 is PAUSE: the decoder's special case */
    [0x91] = OP(XCHG, eAX, eCX, 0), [0x92] = OP(XCHG, eAX, eDX, 0),
    [0x93] = OP(XCHG, eAX, eBX, 0), [0x94] = OP(XCHG, eAX, eSP, 0),
    [0x95] = OP(XCHG, eAX, eBP, 0), [0x96] = OP(XCHG, eAX, eSI, 0),
    [0x97] = OP(XCHG, eAX, eDI, 0),
    [0x98] = OP(CBW, 0),
    [0x99] = OP(CWD, 0),
    [0x9a] = OP(CALL_FAR, Ap, BR | SENS | RWF),
    [0x9b] = OP(WAIT, 0),
    [0x9c] = OP(PUSHF, SENS | RF),
    [0x9d] = OP(POPF, SENS | WF | END),
    [0x9e] = OP(SAHF, RWF),
    [0x9f] = OP(LAHF, RF),
    [0xa0] = OP(MOV, AL, Ob, 0),
    [0xa1] = OP(MOV, eAX, Ov, 0),
    [0xa2] = OP(MOV, Ob, AL, 0),
    [0xa3] = OP(MOV, Ov, eAX, 0),
    [0xa4] = OP(MOVS, Yb, Xb, STR),
    [0xa5] = OP(MOVS, Yv, Xv, STR),
    [0xa6] = OP(CMPS, Xb, Yb, STR | WF),
    [0xa7] = OP(CMPS, Xv, Yv, STR | WF),
    [0xa8] = OP(TEST, AL, Ib, WF),
    [0xa9] = OP(TEST, eAX, Iz, WF),
    [0xaa] = OP(STOS, Yb, AL, STR),
    [0xab] = OP(STOS, Yv, eAX, STR),
    [0xac] = OP(LODS, AL, Xb, STR),
    [0xad] = OP(LODS, eAX, Xv, STR),
    [0xae] = OP(SCAS, AL, Yb, STR | WF),
    [0xaf] = OP(SCAS, eAX, Yv, STR | WF),
    [0xb0] = OP(MOV, AL, Ib, 0), [0xb1] = OP(MOV, CL, Ib, 0),
    [0xb2] = OP(MOV, DL, Ib, 0), [0xb3] = OP(MOV, BL, Ib, 0),
    [0xb4] = OP(MOV, AH, Ib, 0), [0xb5] = OP(MOV, CH, Ib, 0),
    [0xb6] = OP(MOV, DH, Ib, 0), [0xb7] = OP(MOV, BH, Ib, 0),
    [0xb8] = OP(MOV, eAX, Iv, 0), [0xb9] = OP(MOV, eCX, Iv, 0),
    [0xba] = OP(MOV, eDX, Iv, 0), [0xbb] = OP(MOV, eBX, Iv, 0),
    [0xbc] = OP(MOV, eSP, Iv, 0), [0xbd] = OP(MOV, eBP, Iv, 0),
    [0xbe] = OP(MOV, eSI, Iv, 0), [0xbf] = OP(MOV, eDI, Iv, 0),
    [0xc0] = GROUP(GRP2, Eb, Ib),
    [0xc1] = GROUP(GRP2, Ev, Ib),
    [0xc2] = OP(RET, Iw, BR),
    [0xc3] = OP(RET, BR),
    [0xc4] = OP(LES, Gv, Mp, MEM | SENS),
    [0xc5] = OP(LDS, Gv, Mp, MEM | SENS),
    [0xc6] = GROUP(GRP11, Eb, Ib),
    [0xc7] = GROUP(GRP11, Ev, Iz),
    [0xc8] = OP(ENTER, Iw, Ib, 0),
    [0xc9] = OP(LEAVE, 0),
    [0xca] = OP(RET_FAR, Iw, BR | SENS),
    [0xcb] = OP(RET_FAR, BR | SENS),
    [0xcc] = OP(INT3, BR | SENS | RWF),
    [0xcd] = OP(INT, Ib, BR | SENS | RWF),
    [0xce] = OP(INTO, BR | SENS | RWF),
    [0xcf] = OP(IRET, BR | SENS | RWF),
    [0xd0] = GROUP(GRP2, Eb, ONE),
    [0xd1] = GROUP(GRP2, Ev, ONE),
    [0xd2] = GROUP(GRP2, Eb, CL),
    [0xd3] = GROUP(GRP2, Ev, CL),
    [0xd4] = OP(AAM, Ib, WF),
    [0xd5] = OP(AAD, Ib, WF),
    [0xd6] = OP(SALC, RF),
    [0xd7] = OP(XLAT, 0),
    /* x87 escapes: the FPU handler decodes opcode and ModRM itself */
    [0xd8] = OP(FPU, Fm, RWF), [0xd9] = OP(FPU, Fm, RWF),
    [0xda] = OP(FPU, Fm, RWF), [0xdb] = OP(FPU, Fm, RWF),
    [0xdc] = OP(FPU, Fm, RWF), [0xdd] = OP(FPU, Fm, RWF),
    [0xde] = OP(FPU, Fm, RWF), [0xdf] = OP(FPU, Fm, RWF),
    [0xe0] = OP(LOOPNE, Jb, BR | RF),
    [0xe1] = OP(LOOPE, Jb, BR | RF),
    [0xe2] = OP(LOOP, Jb, BR),
    [0xe3] = OP(JCXZ, Jb, BR),
    [0xe4] = OP(IN, AL, Ib, SENS),
    [0xe5] = OP(IN, eAX, Ib, SENS),
    [0xe6] = OP(OUT, Ib, AL, SENS),
    [0xe7] = OP(OUT, Ib, eAX, SENS),
    [0xe8] = OP(CALL, Jz, BR),
    [0xe9] = OP(JMP, Jz, BR),
    [0xea] = OP(JMP_FAR, Ap, BR | SENS | RWF),
    [0xeb] = OP(JMP, Jb, BR),
    [0xec] = OP(IN, AL, DX, SENS),
    [0xed] = OP(IN, eAX, DX, SENS),
    [0xee] = OP(OUT, DX, AL, SENS),
    [0xef] = OP(OUT, DX, eAX, SENS),
    [0xf0] = PREFIX(PREFIX_LOCK),
    [0xf1] = OP(INT1, BR | SENS | RWF),
    [0xf2] = PREFIX(PREFIX_REPNE),
    [0xf3] = PREFIX(PREFIX_REP),
    [0xf4] = OP(HLT, PRIV | END),
    [0xf5] = OP(CMC, RWF),
    [0xf6] = GROUP(GRP3_EB, Eb),
    [0xf7] = GROUP(GRP3_EV, Ev),
    [0xf8] = OP(CLC, WF),
    [0xf9] = OP(STC, WF),
    [0xfa] = OP(CLI, SENS),
    [0xfb] = OP(STI, SENS | END),
    [0xfc] = OP(CLD, 0),
    [0xfd] = OP(STD, 0),
    [0xfe] = GROUP(GRP4, Eb),
    [0xff] = GROUP(GRP5),
};

/* ---- two-byte map 0F xx (SDM table A-3) ---- */
const OpEntry opcode_map0f[256] = {
    [0x00] = GROUP(GRP6),
    [0x01] = SPLIT(GRP7, GRP7_REG),
    [0x02] = OP(LAR, Gv, Ew, SENS | RWF),
    [0x03] = OP(LSL, Gv, Ew, SENS | RWF),
    [0x04] = UD,
    [0x05] = UD, /* SYSCALL: AMD only */
    [0x06] = OP(CLTS, PRIV | END),
    [0x07] = UD, /* SYSRET: AMD only */
    [0x08] = OP(INVD, PRIV),
    [0x09] = OP(WBINVD, PRIV),
    [0x0a] = UD,
    [0x0b] = OP(UD2, END),
    [0x0c] = UD,
    [0x0d] = OP(PREFETCH, Ev, 0),
    [0x0e] = UD, /* FEMMS: 3DNow! */
    [0x0f] = UD, /* 3DNow! */
    [0x10] = SSE(ALL, Wx, 0),       /* MOVUPS MOVUPD MOVSS MOVSD */
    [0x11] = SSE(ALL, Wx, 0),
    [0x12] = SSE(ALL, Wx, 0),       /* MOVLPS/MOVHLPS MOVLPD MOVSLDUP MOVDDUP */
    [0x13] = SSE(NP | P66, Wx, MEM),
    [0x14] = SSE(NP | P66, Wx, 0),  /* UNPCKLPS/PD */
    [0x15] = SSE(NP | P66, Wx, 0),
    [0x16] = SSE(NP | P66 | PF3, Wx, 0), /* MOVHPS/MOVLHPS MOVHPD MOVSHDUP */
    [0x17] = SSE(NP | P66, Wx, MEM),
    [0x18] = GROUP(GRP16, Ev),
    [0x19] = OP(HINT_NOP, Ev, 0), [0x1a] = OP(HINT_NOP, Ev, 0),
    [0x1b] = OP(HINT_NOP, Ev, 0), [0x1c] = OP(HINT_NOP, Ev, 0),
    [0x1d] = OP(HINT_NOP, Ev, 0), [0x1e] = OP(HINT_NOP, Ev, 0),
    [0x1f] = OP(HINT_NOP, Ev, 0), /* NOP Ev */
    /* MOV to/from control and debug registers: the mod bits are ignored */
    [0x20] = OP(MOV_RC, Rd, Cd, PRIV),
    [0x21] = OP(MOV_RD, Rd, Dd, PRIV),
    [0x22] = OP(MOV_CR, Cd, Rd, PRIV | END),
    [0x23] = OP(MOV_DR, Dd, Rd, PRIV | END),
    [0x24] = UDM, [0x25] = UDM, [0x26] = UDM, [0x27] = UDM, /* 486 MOV TRx */
    [0x28] = SSE(NP | P66, Wx, 0),  /* MOVAPS/PD */
    [0x29] = SSE(NP | P66, Wx, 0),
    [0x2a] = SSE(ALL, Wx, 0),       /* CVTPI2PS CVTPI2PD CVTSI2SS CVTSI2SD */
    [0x2b] = SSE(NP | P66, Wx, MEM), /* MOVNTPS/PD */
    [0x2c] = SSE(ALL, Wx, 0),       /* CVTT*2* */
    [0x2d] = SSE(ALL, Wx, 0),       /* CVT*2* */
    [0x2e] = SSE(NP | P66, Wx, 0),  /* UCOMISS/SD */
    [0x2f] = SSE(NP | P66, Wx, 0),  /* COMISS/SD */
    [0x30] = OP(WRMSR, PRIV | END),
    [0x31] = OP(RDTSC, SENS),
    [0x32] = OP(RDMSR, PRIV),
    [0x33] = OP(RDPMC, SENS),
    [0x34] = OP(SYSENTER, BR | SENS | RWF),
    [0x35] = OP(SYSEXIT, BR | PRIV | RWF),
    [0x36] = UD,
    [0x37] = UD, /* GETSEC */
    [0x38] = ESCAPE(2),
    [0x39] = UD,
    [0x3a] = ESCAPE(3),
    [0x3b] = UD, [0x3c] = UD, [0x3d] = UD, [0x3e] = UD, [0x3f] = UD,
    [0x40] = OP(CMOVcc, Gv, Ev, RF), [0x41] = OP(CMOVcc, Gv, Ev, RF),
    [0x42] = OP(CMOVcc, Gv, Ev, RF), [0x43] = OP(CMOVcc, Gv, Ev, RF),
    [0x44] = OP(CMOVcc, Gv, Ev, RF), [0x45] = OP(CMOVcc, Gv, Ev, RF),
    [0x46] = OP(CMOVcc, Gv, Ev, RF), [0x47] = OP(CMOVcc, Gv, Ev, RF),
    [0x48] = OP(CMOVcc, Gv, Ev, RF), [0x49] = OP(CMOVcc, Gv, Ev, RF),
    [0x4a] = OP(CMOVcc, Gv, Ev, RF), [0x4b] = OP(CMOVcc, Gv, Ev, RF),
    [0x4c] = OP(CMOVcc, Gv, Ev, RF), [0x4d] = OP(CMOVcc, Gv, Ev, RF),
    [0x4e] = OP(CMOVcc, Gv, Ev, RF), [0x4f] = OP(CMOVcc, Gv, Ev, RF),
    [0x50] = SSE(NP | P66, Wx, REG), /* MOVMSKPS/PD */
    [0x51] = SSE(ALL, Wx, 0),        /* SQRT */
    [0x52] = SSE(NP | PF3, Wx, 0),   /* RSQRTPS/SS */
    [0x53] = SSE(NP | PF3, Wx, 0),   /* RCPPS/SS */
    [0x54] = SSE(NP | P66, Wx, 0),   /* ANDPS/PD */
    [0x55] = SSE(NP | P66, Wx, 0),   /* ANDNPS/PD */
    [0x56] = SSE(NP | P66, Wx, 0),   /* ORPS/PD */
    [0x57] = SSE(NP | P66, Wx, 0),   /* XORPS/PD */
    [0x58] = SSE(ALL, Wx, 0),        /* ADD */
    [0x59] = SSE(ALL, Wx, 0),        /* MUL */
    [0x5a] = SSE(ALL, Wx, 0),        /* CVTPS2PD CVTPD2PS CVTSS2SD CVTSD2SS */
    [0x5b] = SSE(NP | P66 | PF3, Wx, 0), /* CVTDQ2PS CVTPS2DQ CVTTPS2DQ */
    [0x5c] = SSE(ALL, Wx, 0),        /* SUB */
    [0x5d] = SSE(ALL, Wx, 0),        /* MIN */
    [0x5e] = SSE(ALL, Wx, 0),        /* DIV */
    [0x5f] = SSE(ALL, Wx, 0),        /* MAX */
    /* MMX (no prefix) and their SSE2 forms (66) */
    [0x60] = SSE(NP | P66, Wx, 0), [0x61] = SSE(NP | P66, Wx, 0),
    [0x62] = SSE(NP | P66, Wx, 0), [0x63] = SSE(NP | P66, Wx, 0),
    [0x64] = SSE(NP | P66, Wx, 0), [0x65] = SSE(NP | P66, Wx, 0),
    [0x66] = SSE(NP | P66, Wx, 0), [0x67] = SSE(NP | P66, Wx, 0),
    [0x68] = SSE(NP | P66, Wx, 0), [0x69] = SSE(NP | P66, Wx, 0),
    [0x6a] = SSE(NP | P66, Wx, 0), [0x6b] = SSE(NP | P66, Wx, 0),
    [0x6c] = SSE(P66, Wx, 0),      /* PUNPCKLQDQ */
    [0x6d] = SSE(P66, Wx, 0),      /* PUNPCKHQDQ */
    [0x6e] = SSE(NP | P66, Wx, 0), /* MOVD */
    [0x6f] = SSE(NP | P66 | PF3, Wx, 0), /* MOVQ MOVDQA MOVDQU */
    [0x70] = SSE(ALL, Wx, Ib, 0),  /* PSHUFW PSHUFD PSHUFHW PSHUFLW */
    [0x71] = SPLIT(GRP_MEM_UD, GRP12_REG), /* PSRLW PSRAW PSLLW Ib */
    [0x72] = SPLIT(GRP_MEM_UD, GRP12_REG), /* PSRLD PSRAD PSLLD Ib */
    [0x73] = SPLIT(GRP_MEM_UD, GRP14_REG), /* PSRLQ PSRLDQ PSLLQ PSLLDQ Ib */
    [0x74] = SSE(NP | P66, Wx, 0), [0x75] = SSE(NP | P66, Wx, 0),
    [0x76] = SSE(NP | P66, Wx, 0),
    [0x77] = SSE(NP, 0),           /* EMMS */
    [0x78] = UDM, [0x79] = UDM,    /* VMREAD/VMWRITE: no VMX */
    [0x7a] = UDM, [0x7b] = UDM,
    [0x7c] = SSE(P66 | PF2, Wx, 0), /* HADDPD/PS */
    [0x7d] = SSE(P66 | PF2, Wx, 0), /* HSUBPD/PS */
    [0x7e] = SSE(NP | P66 | PF3, Wx, 0), /* MOVD MOVD MOVQ */
    [0x7f] = SSE(NP | P66 | PF3, Wx, 0), /* MOVQ MOVDQA MOVDQU */
    [0x80] = OP(Jcc, Jz, BR | RF), [0x81] = OP(Jcc, Jz, BR | RF),
    [0x82] = OP(Jcc, Jz, BR | RF), [0x83] = OP(Jcc, Jz, BR | RF),
    [0x84] = OP(Jcc, Jz, BR | RF), [0x85] = OP(Jcc, Jz, BR | RF),
    [0x86] = OP(Jcc, Jz, BR | RF), [0x87] = OP(Jcc, Jz, BR | RF),
    [0x88] = OP(Jcc, Jz, BR | RF), [0x89] = OP(Jcc, Jz, BR | RF),
    [0x8a] = OP(Jcc, Jz, BR | RF), [0x8b] = OP(Jcc, Jz, BR | RF),
    [0x8c] = OP(Jcc, Jz, BR | RF), [0x8d] = OP(Jcc, Jz, BR | RF),
    [0x8e] = OP(Jcc, Jz, BR | RF), [0x8f] = OP(Jcc, Jz, BR | RF),
    [0x90] = OP(SETcc, Eb, RF), [0x91] = OP(SETcc, Eb, RF),
    [0x92] = OP(SETcc, Eb, RF), [0x93] = OP(SETcc, Eb, RF),
    [0x94] = OP(SETcc, Eb, RF), [0x95] = OP(SETcc, Eb, RF),
    [0x96] = OP(SETcc, Eb, RF), [0x97] = OP(SETcc, Eb, RF),
    [0x98] = OP(SETcc, Eb, RF), [0x99] = OP(SETcc, Eb, RF),
    [0x9a] = OP(SETcc, Eb, RF), [0x9b] = OP(SETcc, Eb, RF),
    [0x9c] = OP(SETcc, Eb, RF), [0x9d] = OP(SETcc, Eb, RF),
    [0x9e] = OP(SETcc, Eb, RF), [0x9f] = OP(SETcc, Eb, RF),
    [0xa0] = OP(PUSH_SR, FS, 0),
    [0xa1] = OP(POP_SR, FS, SENS),
    [0xa2] = OP(CPUID, SENS),
    [0xa3] = OP(BT, Ev, Gv, RWF),
    [0xa4] = OP(SHLD, Ev, Gv, Ib, RWF),
    [0xa5] = OP(SHLD, Ev, Gv, CL, RWF),
    [0xa6] = UDM, [0xa7] = UDM, /* early 386 XBTS/IBTS */
    [0xa8] = OP(PUSH_SR, GS, 0),
    [0xa9] = OP(POP_SR, GS, SENS),
    [0xaa] = OP(RSM, BR | PRIV | RWF),
    [0xab] = OP(BTS, Ev, Gv, LK | RWF),
    [0xac] = OP(SHRD, Ev, Gv, Ib, RWF),
    [0xad] = OP(SHRD, Ev, Gv, CL, RWF),
    [0xae] = SPLIT(GRP15, GRP15_REG),
    [0xaf] = OP(IMUL2, Gv, Ev, WF),
    [0xb0] = OP(CMPXCHG, Eb, Gb, LK | WF),
    [0xb1] = OP(CMPXCHG, Ev, Gv, LK | WF),
    [0xb2] = OP(LSS, Gv, Mp, MEM | SENS | END),
    [0xb3] = OP(BTR, Ev, Gv, LK | RWF),
    [0xb4] = OP(LFS, Gv, Mp, MEM | SENS),
    [0xb5] = OP(LGS, Gv, Mp, MEM | SENS),
    [0xb6] = OP(MOVZX, Gv, Eb, 0),
    [0xb7] = OP(MOVZX, Gv, Ew, 0),
    [0xb8] = UDM, /* JMPE / POPCNT: not on this CPU */
    [0xb9] = UDM, /* UD1 */
    [0xba] = GROUP(GRP8, Ev, Ib),
    [0xbb] = OP(BTC, Ev, Gv, LK | RWF),
    [0xbc] = OP(BSF, Gv, Ev, RWF),
    [0xbd] = OP(BSR, Gv, Ev, RWF),
    [0xbe] = OP(MOVSX, Gv, Eb, 0),
    [0xbf] = OP(MOVSX, Gv, Ew, 0),
    [0xc0] = OP(XADD, Eb, Gb, LK | WF),
    [0xc1] = OP(XADD, Ev, Gv, LK | WF),
    [0xc2] = SSE(ALL, Wx, Ib, 0),        /* CMPPS CMPPD CMPSS CMPSD */
    [0xc3] = SSE(NP, Wx, MEM),           /* MOVNTI */
    [0xc4] = SSE(NP | P66, Wx, Ib, 0),   /* PINSRW */
    [0xc5] = SSE(NP | P66, Wx, Ib, REG), /* PEXTRW */
    [0xc6] = SSE(NP | P66, Wx, Ib, 0),   /* SHUFPS/PD */
    [0xc7] = SPLIT(GRP9, GRP9_REG),
    [0xc8] = OP(BSWAP, eAX, 0), [0xc9] = OP(BSWAP, eCX, 0),
    [0xca] = OP(BSWAP, eDX, 0), [0xcb] = OP(BSWAP, eBX, 0),
    [0xcc] = OP(BSWAP, eSP, 0), [0xcd] = OP(BSWAP, eBP, 0),
    [0xce] = OP(BSWAP, eSI, 0), [0xcf] = OP(BSWAP, eDI, 0),
    [0xd0] = SSE(P66 | PF2, Wx, 0),      /* ADDSUBPD/PS */
    [0xd1] = SSE(NP | P66, Wx, 0), [0xd2] = SSE(NP | P66, Wx, 0),
    [0xd3] = SSE(NP | P66, Wx, 0), [0xd4] = SSE(NP | P66, Wx, 0),
    [0xd5] = SSE(NP | P66, Wx, 0),
    [0xd6] = SSE(P66 | PF3 | PF2, Wx, 0), /* MOVQ MOVQ2DQ MOVDQ2Q */
    [0xd7] = SSE(NP | P66, Wx, REG),     /* PMOVMSKB */
    [0xd8] = SSE(NP | P66, Wx, 0), [0xd9] = SSE(NP | P66, Wx, 0),
    [0xda] = SSE(NP | P66, Wx, 0), [0xdb] = SSE(NP | P66, Wx, 0),
    [0xdc] = SSE(NP | P66, Wx, 0), [0xdd] = SSE(NP | P66, Wx, 0),
    [0xde] = SSE(NP | P66, Wx, 0), [0xdf] = SSE(NP | P66, Wx, 0),
    [0xe0] = SSE(NP | P66, Wx, 0), [0xe1] = SSE(NP | P66, Wx, 0),
    [0xe2] = SSE(NP | P66, Wx, 0), [0xe3] = SSE(NP | P66, Wx, 0),
    [0xe4] = SSE(NP | P66, Wx, 0), [0xe5] = SSE(NP | P66, Wx, 0),
    [0xe6] = SSE(P66 | PF3 | PF2, Wx, 0), /* CVTTPD2DQ CVTDQ2PD CVTPD2DQ */
    [0xe7] = SSE(NP | P66, Wx, MEM),     /* MOVNTQ MOVNTDQ */
    [0xe8] = SSE(NP | P66, Wx, 0), [0xe9] = SSE(NP | P66, Wx, 0),
    [0xea] = SSE(NP | P66, Wx, 0), [0xeb] = SSE(NP | P66, Wx, 0),
    [0xec] = SSE(NP | P66, Wx, 0), [0xed] = SSE(NP | P66, Wx, 0),
    [0xee] = SSE(NP | P66, Wx, 0), [0xef] = SSE(NP | P66, Wx, 0),
    [0xf0] = SSE(PF2, Wx, MEM),          /* LDDQU */
    [0xf1] = SSE(NP | P66, Wx, 0), [0xf2] = SSE(NP | P66, Wx, 0),
    [0xf3] = SSE(NP | P66, Wx, 0), [0xf4] = SSE(NP | P66, Wx, 0),
    [0xf5] = SSE(NP | P66, Wx, 0), [0xf6] = SSE(NP | P66, Wx, 0),
    [0xf7] = SSE(NP | P66, Wx, REG),     /* MASKMOVQ MASKMOVDQU */
    [0xf8] = SSE(NP | P66, Wx, 0), [0xf9] = SSE(NP | P66, Wx, 0),
    [0xfa] = SSE(NP | P66, Wx, 0), [0xfb] = SSE(NP | P66, Wx, 0),
    [0xfc] = SSE(NP | P66, Wx, 0), [0xfd] = SSE(NP | P66, Wx, 0),
    [0xfe] = SSE(NP | P66, Wx, 0),
    [0xff] = UD, /* UD0 */
};

/* ---- three-byte maps: SSSE3/SSE4 and later, not part of this CPU; kept so that
 * their lengths are right (0F 38: ModRM; 0F 3A: ModRM + Ib) ---- */
const OpEntry opcode_map0f38[256] = {
    [0x00 ... 0xff] = SSE(ALL, Wx, 0),
};
const OpEntry opcode_map0f3a[256] = {
    [0x00 ... 0xff] = SSE(ALL, Wx, Ib, 0),
};
