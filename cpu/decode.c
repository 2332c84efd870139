/*
 * decode.c — the x86 instruction decoder: prefixes, the opcode maps of opcodes.c,
 * ModRM/SIB (32-bit) and the 16-bit addressing forms, displacements and immediates,
 * into an Insn (insn.h) following the operand conventions shared with the handlers.
 * The table drives everything; the few special cases (PAUSE, MOV Sreg, LOCK legality,
 * mandatory SSE prefixes) are marked where they happen.
 *
 *     Insn in;   // 66 8B 44 24 08 in 32-bit code: MOV ax, word [esp+8]
 *     decode(&in, bytes, n, true);  // in.len 5, op[1] MEM, ea_base R_ESP, seg SS
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "cpu/opcodes.h"

#define MAX_INSN_LEN 15

typedef struct Decoder {
    const uint8_t *bytes;
    unsigned avail;
    unsigned pos;
} Decoder;

/* Make sure `n` more bytes can be read: DECODE_MORE when the caller's bytes run out
 * before the 15-byte limit, DECODE_TOOLONG when the instruction would pass it. */
static int dec_need(const Decoder *d, unsigned n)
{
    unsigned end = d->pos + n;
    if (end > MAX_INSN_LEN && d->avail >= MAX_INSN_LEN) return DECODE_TOOLONG;
    return end > d->avail ? DECODE_MORE : DECODE_OK;
}

/* Read an n-byte little-endian value (n = 1, 2 or 4) into *v. */
static int dec_read(Decoder *d, unsigned n, uint32_t *v)
{
    int r = dec_need(d, n);
    if (r != DECODE_OK) return r;
    uint32_t x = 0;
    for (unsigned i = 0; i < n; i++) x |= (uint32_t)d->bytes[d->pos + i] << (8 * i);
    d->pos += n;
    *v = x;
    return DECODE_OK;
}

static uint32_t sign_extend(uint32_t v, unsigned bytes)
{
    if (bytes == 1) return (uint32_t)(int32_t)(int8_t)v;
    if (bytes == 2) return (uint32_t)(int32_t)(int16_t)v;
    return v;
}

/* Specifiers that need a ModRM byte. */
static bool spec_uses_modrm(uint8_t s)
{
    switch (s) {
    case Eb: case Ew: case Ed: case Ev: case Gb: case Gw: case Gd: case Gv:
    case M: case Mp: case Ma: case Ms: case Mq: case RvMw: case Rd: case Sw: case Cd:
    case Dd: case Wx: case Fm:
        return true;
    default:
        return false;
    }
}

/* The undefined-opcode result: #UD at execution, `len` bytes consumed so far. */
static int dec_ud(Insn *in, unsigned len)
{
    in->mnem = M_UD;
    in->len = (uint8_t)len;
    in->nops = 0;
    memset(in->op, 0, sizeof(in->op));
    in->flags = IF_ENDS_BLOCK;
    return DECODE_OK;
}

/* Parse the memory part of ModRM (SIB, displacement) and fill the ea_* fields.
 * Returns the default segment (SS for BP/EBP/ESP bases, else DS) through *seg. */
static int dec_modrm_mem(Decoder *d, Insn *in, int *seg)
{
    unsigned mod = in->modrm >> 6, rm = in->modrm & 7;
    uint32_t v;
    int r;
    *seg = SEG_DS;
    if (in->addrsize == 2) {
        /* BX+SI BX+DI BP+SI BP+DI SI DI BP BX (SDM table 2-1) */
        static const int8_t base16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const int8_t index16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
        if (mod == 0 && rm == 6) {
            if ((r = dec_read(d, 2, &v))) return r;
            in->disp = (int32_t)sign_extend(v, 2);
            return DECODE_OK;
        }
        in->ea_base = base16[rm];
        in->ea_index = index16[rm];
        if (in->ea_base == R_EBP) *seg = SEG_SS;
        if (mod == 1 || mod == 2) {
            if ((r = dec_read(d, mod, &v))) return r;
            in->disp = (int32_t)sign_extend(v, mod);
        }
        return DECODE_OK;
    }
    /* 32-bit addressing (SDM tables 2-2, 2-3) */
    int base = (int)rm;
    if (rm == 4) {
        uint32_t sib;
        if ((r = dec_read(d, 1, &sib))) return r;
        unsigned index = (sib >> 3) & 7;
        base = sib & 7;
        if (index != 4) {
            in->ea_index = (int8_t)index;
            in->ea_scale = (uint8_t)(sib >> 6);
        }
        if (base == 5 && mod == 0) base = -1; /* disp32, no base */
    } else if (rm == 5 && mod == 0) {
        base = -1;
    }
    in->ea_base = (int8_t)base;
    if (base == R_ESP || base == R_EBP) *seg = SEG_SS;
    unsigned dsize = mod == 1 ? 1 : (mod == 2 || base < 0) ? 4 : 0;
    if (dsize) {
        if ((r = dec_read(d, dsize, &v))) return r;
        in->disp = (int32_t)sign_extend(v, dsize);
    }
    return DECODE_OK;
}

/* Read an immediate of `bytes` into imm (first) or imm2 (second), as operand `o`. */
static int dec_imm(Decoder *d, Insn *in, Operand *o, unsigned bytes, bool sx, unsigned size,
                   bool *have_imm)
{
    uint32_t v;
    int r = dec_read(d, bytes, &v);
    if (r) return r;
    if (sx) v = sign_extend(v, bytes);
    o->size = (uint8_t)size;
    if (*have_imm) {
        o->kind = OPK_IMM2;
        in->imm2 = v;
    } else {
        o->kind = OPK_IMM;
        in->imm = v;
        *have_imm = true;
    }
    return DECODE_OK;
}

int decode(Insn *in, const uint8_t *bytes, unsigned avail, bool code32)
{
    Decoder d = { bytes, avail, 0 };
    uint32_t b;
    int r, seg_override = -1;
    unsigned last_rep = 0; /* the last of F2/F3 wins */
    const OpEntry *e;

    memset(in, 0, sizeof(*in));
    in->ea_base = in->ea_index = -1;
    in->opsize = in->addrsize = code32 ? 4 : 2;

    /* prefixes, any number in any order (the 15-byte limit bounds them) */
    for (;;) {
        if ((r = dec_read(&d, 1, &b))) return r;
        e = &opcode_map1[b];
        if (e->kind != OE_PREFIX) break;
        switch (e->arg) {
        case PREFIX_LOCK: in->prefixes |= PFX_LOCK; break;
        case PREFIX_REPNE:
            in->prefixes = (in->prefixes & ~PFX_REP) | PFX_REPNE;
            last_rep = 0xf2;
            break;
        case PREFIX_REP:
            in->prefixes = (in->prefixes & ~PFX_REPNE) | PFX_REP;
            last_rep = 0xf3;
            break;
        case PREFIX_OPSIZE:
            in->prefixes |= PFX_OPSIZE;
            in->opsize = code32 ? 2 : 4;
            break;
        case PREFIX_ADDRSIZE:
            in->prefixes |= PFX_ADDRSIZE;
            in->addrsize = code32 ? 2 : 4;
            break;
        default: /* segment override: the last one wins */
            in->prefixes |= PFX_SEG;
            seg_override = e->arg & 7;
            break;
        }
    }
    /* escapes into the 0F, 0F 38, 0F 3A maps */
    while (e->kind == OE_ESCAPE) {
        in->map = e->arg;
        if ((r = dec_read(&d, 1, &b))) return r;
        e = in->map == 1 ? &opcode_map0f[b] : in->map == 2 ? &opcode_map0f38[b]
                                                          : &opcode_map0f3a[b];
    }
    in->opcode = (uint8_t)b;

    bool need_modrm = e->kind == OE_GROUP || e->modrm;
    for (int i = 0; i < 3; i++) need_modrm |= spec_uses_modrm(e->ops[i]);
    if (need_modrm) {
        if ((r = dec_read(&d, 1, &b))) return r;
        in->modrm = (uint8_t)b;
        in->has_modrm = true;
    }
    unsigned mod = in->modrm >> 6, reg = (in->modrm >> 3) & 7;

    /* resolve a group: the member's operands follow the parent's */
    uint8_t ops[3] = { e->ops[0], e->ops[1], e->ops[2] };
    uint16_t flags = e->flags;
    uint16_t mnem = e->mnem;
    uint8_t sse = e->sse;
    if (e->kind == OE_GROUP) {
        const OpEntry *g = (mod == 3 && e->group_reg ? e->group_reg : e->group) + reg;
        int n = 0;
        while (n < 3 && ops[n] != NO_OP) n++;
        for (int i = 0; i < 3 && g->ops[i] != NO_OP && n < 3; i++) ops[n++] = g->ops[i];
        flags |= g->flags;
        mnem = g->mnem;
        sse = g->sse;
    }
    if (mnem == M_UD) return dec_ud(in, d.pos);
    in->flags = flags;

    /* SSE forms: 66/F3/F2 select the instruction (F3/F2 take precedence over 66) */
    if (sse) {
        unsigned form = last_rep == 0xf3 ? SSE_F3 : last_rep == 0xf2 ? SSE_F2
                      : (in->prefixes & PFX_OPSIZE) ? SSE_66 : SSE_NP;
        if (!(sse & form)) return dec_ud(in, d.pos);
    }

    /* MOV to/from CRn/DRn ignore the mod bits: the r/m operand is always a register */
    bool force_reg = false;
    for (int i = 0; i < 3; i++) force_reg |= ops[i] == Rd;
    bool is_mem = in->has_modrm && mod != 3 && !force_reg;
    if ((flags & IF_MODRM_MEM) && !is_mem) return dec_ud(in, d.pos);
    if ((flags & IF_MODRM_REG) && is_mem) return dec_ud(in, d.pos);

    int seg = SEG_DS;
    if (is_mem && (r = dec_modrm_mem(&d, in, &seg))) return r;
    in->seg = (uint8_t)(seg_override >= 0 ? seg_override : seg);

    /* operands, in table order; immediates follow the displacement in that order */
    unsigned rm = in->modrm & 7, os = in->opsize;
    bool have_imm = false, ud = false;
    int n = 0;
    uint32_t v;
    for (int i = 0; i < 3 && ops[i] != NO_OP; i++) {
        Operand *o = &in->op[n];
        uint8_t s = ops[i];
        if (flags & IF_STRING) {
            /* string instructions: no operands, op[0].size is the element size */
            if (s == Xb || s == Yb) in->op[0].size = 1;
            if (s == Xv || s == Yv) in->op[0].size = (uint8_t)os;
            continue;
        }
        switch (s) {
        case Eb: case Ew: case Ed: case Ev:
            o->size = (uint8_t)(s == Eb ? 1 : s == Ew ? 2 : s == Ed ? 4 : os);
            if (is_mem) {
                o->kind = OPK_MEM;
            } else {
                o->kind = OPK_REG;
                o->reg = (uint8_t)rm;
            }
            break;
        case Gb: case Gw: case Gd: case Gv:
            o->kind = OPK_REG;
            o->reg = (uint8_t)reg;
            o->size = (uint8_t)(s == Gb ? 1 : s == Gw ? 2 : s == Gd ? 4 : os);
            break;
        case M: case Mp: case Ma: case Ms: case Mq:
            if (!is_mem) return dec_ud(in, d.pos);
            o->kind = OPK_MEM;
            o->size = (uint8_t)(s == Mp ? os + 2 : s == Ma ? 2 * os : s == Ms ? 6
                                : s == Mq ? 8 : 0);
            break;
        case RvMw:
            o->kind = is_mem ? OPK_MEM : OPK_REG;
            o->reg = is_mem ? 0 : (uint8_t)rm;
            o->size = (uint8_t)(is_mem ? 2 : os);
            break;
        case Rd:
            o->kind = OPK_REG;
            o->reg = (uint8_t)rm;
            o->size = 4;
            break;
        case Sw:
            /* only ES CS SS DS FS GS exist; MOV CS,Ew is #UD */
            if (reg > SEG_GS || (mnem == M_MOV_SR && reg == SEG_CS)) return dec_ud(in, d.pos);
            o->kind = OPK_SREG;
            o->reg = (uint8_t)reg;
            o->size = 2;
            break;
        case Cd: case Dd:
            o->kind = s == Cd ? OPK_CREG : OPK_DREG;
            o->reg = (uint8_t)reg;
            o->size = 4;
            break;
        case Wx: case Fm:
            /* SSE/x87: the handler looks at the ModRM itself; only memory is an operand */
            if (!is_mem) continue;
            o->kind = OPK_MEM;
            o->size = 0;
            break;
        case Ib:
            if ((r = dec_imm(&d, in, o, 1, false, 1, &have_imm))) return r;
            break;
        case Ibs:
            if ((r = dec_imm(&d, in, o, 1, true, os, &have_imm))) return r;
            break;
        case Iw:
            if ((r = dec_imm(&d, in, o, 2, false, 2, &have_imm))) return r;
            break;
        case Iz: case Iv:
            if ((r = dec_imm(&d, in, o, os, false, os, &have_imm))) return r;
            break;
        case Jb: case Jz:
            if ((r = dec_read(&d, s == Jb ? 1 : os, &v))) return r;
            in->imm = sign_extend(v, s == Jb ? 1 : os);
            o->kind = OPK_REL;
            o->size = (uint8_t)os;
            break;
        case Ob: case Ov:
            /* moffs: an offset of address size, no base or index */
            if ((r = dec_read(&d, in->addrsize, &v))) return r;
            in->disp = (int32_t)v;
            o->kind = OPK_MEM;
            o->size = (uint8_t)(s == Ob ? 1 : os);
            break;
        case Ap:
            if ((r = dec_read(&d, os, &v))) return r;
            in->imm = v;
            if ((r = dec_read(&d, 2, &v))) return r;
            in->imm2 = v;
            o->kind = OPK_FAR;
            o->size = (uint8_t)(os + 2);
            break;
        case AL: case CL: case DL: case BL: case AH: case CH: case DH: case BH:
            o->kind = OPK_REG;
            o->reg = (uint8_t)(s - AL);
            o->size = 1;
            break;
        case DX:
            o->kind = OPK_REG;
            o->reg = R_EDX;
            o->size = 2;
            break;
        case eAX: case eCX: case eDX: case eBX: case eSP: case eBP: case eSI: case eDI:
            o->kind = OPK_REG;
            o->reg = (uint8_t)(s - eAX);
            o->size = (uint8_t)os;
            break;
        case ES: case CS: case SS: case DS: case FS: case GS:
            o->kind = OPK_SREG;
            o->reg = (uint8_t)(s - ES);
            o->size = 2;
            break;
        case ONE:
            o->kind = OPK_ONE;
            o->size = 1;
            break;
        default:
            continue;
        }
        n++;
    }
    in->nops = (uint8_t)n;
    in->len = (uint8_t)d.pos;
    in->mnem = mnem;

    /* special cases the table cannot express */
    if (mnem == M_Jcc || mnem == M_SETcc || mnem == M_CMOVcc) in->cond = in->opcode & 15;
    if (mnem == M_NOP && in->map == 0 && (in->prefixes & PFX_REP)) in->mnem = M_PAUSE;
    /* POP CS (0F) is the escape byte, so PUSH_SR/POP_SR need no check here */

    /* LOCK is legal only on the read-modify-write forms with a memory destination */
    if (in->prefixes & PFX_LOCK) {
        if (!(flags & IF_LOCKABLE) || n == 0 || in->op[0].kind != OPK_MEM) ud = true;
    }
    if (ud) return dec_ud(in, d.pos);
    return DECODE_OK;
}

const char *insn_name(const Insn *in)
{
    static const char *const jcc[16] = { "JO", "JNO", "JB", "JAE", "JE", "JNE", "JBE", "JA",
                                         "JS", "JNS", "JP", "JNP", "JL", "JGE", "JLE", "JG" };
    static const char *const setcc[16] = {
        "SETO", "SETNO", "SETB", "SETAE", "SETE", "SETNE", "SETBE", "SETA",
        "SETS", "SETNS", "SETP", "SETNP", "SETL", "SETGE", "SETLE", "SETG" };
    static const char *const cmovcc[16] = {
        "CMOVO", "CMOVNO", "CMOVB", "CMOVAE", "CMOVE", "CMOVNE", "CMOVBE", "CMOVA",
        "CMOVS", "CMOVNS", "CMOVP", "CMOVNP", "CMOVL", "CMOVGE", "CMOVLE", "CMOVG" };
    if (in->mnem >= M__COUNT) return "?";
    switch (in->mnem) {
    case M_Jcc: return jcc[in->cond & 15];
    case M_SETcc: return setcc[in->cond & 15];
    case M_CMOVcc: return cmovcc[in->cond & 15];
    default: return mnemonic_names[in->mnem];
    }
}
