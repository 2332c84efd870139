/*
 * fpu.c — x87 state plumbing: the guest FpuState as an FSAVE image, the host executor
 * (a trampoline that FRSTORs the image, runs one x87 instruction from a table of
 * pre-assembled stubs, and FNSAVEs it back) and the FLDENV/FSTENV layout conversions.
 * The instruction semantics are the host x87's; exec_fpu.c decides what may run.
 */
#include <string.h>

#include "cpu/fpu.h"

/*
 * The stubs: 512 register forms (esc & 7) * 64 + (ModRM & 63), then 64 memory forms
 * 512 + (esc & 7) * 8 + ModRM.reg addressing [rdi], then one empty stub. Each is
 * endbr64 (harmless without CET), the two instruction bytes, ret, int3: 8 bytes.
 * The trampoline fpu_host_run(buf=rdi, img=rsi, stub=rdx, flags=rcx) preserves the
 * host control word (callee-saved in the SysV ABI) and the host's non-arithmetic
 * EFLAGS; FNSAVE leaves the host x87 initialised, and never waits, so an unmasked
 * guest exception stays in the image instead of trapping.
 */
__asm__(
    ".pushsection .text\n"
    ".p2align 4\n"
    ".globl dbt86_fpu_stubs\n"
    ".hidden dbt86_fpu_stubs\n"
    "dbt86_fpu_stubs:\n"
    ".set dbt86_fpu_i, 0\n"
    ".rept 512\n"
    ".byte 0xf3, 0x0f, 0x1e, 0xfa, 0xd8 + (dbt86_fpu_i >> 6), 0xc0 + (dbt86_fpu_i & 63), "
    "0xc3, 0xcc\n"
    ".set dbt86_fpu_i, dbt86_fpu_i + 1\n"
    ".endr\n"
    ".set dbt86_fpu_i, 0\n"
    ".rept 64\n"
    ".byte 0xf3, 0x0f, 0x1e, 0xfa, 0xd8 + (dbt86_fpu_i >> 3), 0x07 + ((dbt86_fpu_i & 7) << 3), "
    "0xc3, 0xcc\n"
    ".set dbt86_fpu_i, dbt86_fpu_i + 1\n"
    ".endr\n"
    ".byte 0xf3, 0x0f, 0x1e, 0xfa, 0x90, 0x90, 0xc3, 0xcc\n"
    "\n"
    ".p2align 4\n"
    ".globl dbt86_fpu_host_run\n"
    ".hidden dbt86_fpu_host_run\n"
    ".type dbt86_fpu_host_run, @function\n"
    "dbt86_fpu_host_run:\n"
    "endbr64\n"
    "push %rbx\n"
    "sub $16, %rsp\n"
    "fnstcw (%rsp)\n"
    "mov %rsi, %rbx\n"
    "pushfq\n"
    "pop %rax\n"
    "and $-0x8d6, %rax\n" /* keep all but OF SF ZF AF PF CF */
    "and $0x8d5, %ecx\n"
    "or %rcx, %rax\n"
    "push %rax\n"
    "popfq\n"
    "frstor (%rbx)\n"
    "call *%rdx\n"
    "pushfq\n"
    "pop %rax\n"
    "fnsave (%rbx)\n"
    "fldcw (%rsp)\n"
    "add $16, %rsp\n"
    "pop %rbx\n"
    "ret\n"
    ".size dbt86_fpu_host_run, . - dbt86_fpu_host_run\n"
    ".popsection\n");

extern const uint8_t dbt86_fpu_stubs[] __attribute__((visibility("hidden")));
extern uint64_t dbt86_fpu_host_run(void *buf, void *img, const void *stub, uint64_t flags)
    __attribute__((visibility("hidden")));

#define STUB_SIZE 8
#define STUB_MEM 512
#define STUB_NONE 576

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void fpu_reset(FpuState *f)
{
    memset(f, 0, sizeof(*f));
    f->cw = 0x0040;
    f->tw = 0x5555;
    f->ready = true;
}

FpuState *fpu_get(Cpu *c)
{
    if (!c->fpu.ready) fpu_reset(&c->fpu);
    return &c->fpu;
}

void fpu_set_ignne(Cpu *c, bool level) { c->fpu_ignne = level; }

static unsigned fpu_top(const FpuState *f) { return (f->sw >> FSW_TOP_SHIFT) & 7; }

void fpu_to_image(const FpuState *f, uint8_t img[FPU_IMAGE_SIZE])
{
    /* the reserved upper halves read as ones, as the hardware's own FNSAVE writes them */
    put32(img + 0, 0xffff0000u | f->cw);
    put32(img + 4, 0xffff0000u | f->sw);
    put32(img + 8, 0xffff0000u | f->tw);
    put32(img + 12, f->fip);
    put32(img + 16, f->fcs | (uint32_t)(f->fop & 0x7ff) << 16);
    put32(img + 20, f->fdp);
    put32(img + 24, 0xffff0000u | f->fds);
    unsigned top = fpu_top(f);
    for (unsigned i = 0; i < 8; i++) memcpy(img + 28 + 10 * i, f->st[(top + i) & 7], 10);
}

void fpu_from_image(FpuState *f, const uint8_t img[FPU_IMAGE_SIZE])
{
    f->cw = get16(img + 0);
    f->sw = get16(img + 4);
    f->tw = get16(img + 8);
    unsigned top = fpu_top(f);
    for (unsigned i = 0; i < 8; i++) memcpy(f->st[(top + i) & 7], img + 28 + 10 * i, 10);
}

uint32_t fpu_host_exec(uint8_t img[FPU_IMAGE_SIZE], unsigned esc, unsigned modrm, void *buf,
                       uint32_t eflags)
{
    unsigned idx;
    if (esc < 0xd8 || esc > 0xdf)
        idx = STUB_NONE;
    else if ((modrm & 0xc0) == 0xc0)
        idx = (esc & 7) * 64 + (modrm & 63);
    else
        idx = STUB_MEM + (esc & 7) * 8 + ((modrm >> 3) & 7);
    return (uint32_t)dbt86_fpu_host_run(buf, img, dbt86_fpu_stubs + idx * STUB_SIZE, eflags);
}

unsigned fpu_env_size(bool op32) { return op32 ? 28 : 14; }

void fpu_env_to_guest(const uint8_t *host_env, const FpuState *f, bool op32, bool real,
                      uint8_t *out)
{
    uint16_t cw = get16(host_env), sw = get16(host_env + 4), tw = get16(host_env + 8);
    uint32_t ip = f->fip, dp = f->fdp;
    if (real) {
        /* real and virtual-8086 mode store linear addresses */
        ip += (uint32_t)f->fcs << 4;
        dp += (uint32_t)f->fds << 4;
    }
    if (op32) {
        put32(out + 0, 0xffff0000u | cw);
        put32(out + 4, 0xffff0000u | sw);
        put32(out + 8, 0xffff0000u | tw);
        if (real) {
            put32(out + 12, 0xffff0000u | (ip & 0xffff));
            put32(out + 16, (f->fop & 0x7ffu) | (ip >> 16) << 12);
            put32(out + 20, 0xffff0000u | (dp & 0xffff));
            put32(out + 24, (dp >> 16) << 12);
        } else {
            put32(out + 12, ip);
            put32(out + 16, f->fcs | (uint32_t)(f->fop & 0x7ff) << 16);
            put32(out + 20, dp);
            put32(out + 24, 0xffff0000u | f->fds);
        }
    } else {
        put16(out + 0, cw);
        put16(out + 2, sw);
        put16(out + 4, tw);
        if (real) {
            put16(out + 6, (uint16_t)ip);
            put16(out + 8, (uint16_t)(((ip >> 16) & 0xf) << 12 | (f->fop & 0x7ff)));
            put16(out + 10, (uint16_t)dp);
            put16(out + 12, (uint16_t)(((dp >> 16) & 0xf) << 12));
        } else {
            put16(out + 6, (uint16_t)ip);
            put16(out + 8, f->fcs);
            put16(out + 10, (uint16_t)dp);
            put16(out + 12, f->fds);
        }
    }
}

void fpu_env_from_guest(const uint8_t *in, bool op32, bool real, uint8_t *host_env,
                        FpuState *f)
{
    uint16_t cw, sw, tw;
    if (op32) {
        cw = get16(in);
        sw = get16(in + 4);
        tw = get16(in + 8);
        if (real) {
            uint32_t w16 = get32(in + 16), w24 = get32(in + 24);
            f->fip = get16(in + 12) | ((w16 >> 12) & 0xffff) << 16;
            f->fop = w16 & 0x7ff;
            f->fdp = get16(in + 20) | ((w24 >> 12) & 0xffff) << 16;
            f->fcs = f->fds = 0;
        } else {
            f->fip = get32(in + 12);
            f->fcs = get16(in + 16);
            f->fop = (get32(in + 16) >> 16) & 0x7ff;
            f->fdp = get32(in + 20);
            f->fds = get16(in + 24);
        }
    } else {
        cw = get16(in);
        sw = get16(in + 2);
        tw = get16(in + 4);
        if (real) {
            uint16_t w8 = get16(in + 8), w12 = get16(in + 12);
            f->fip = get16(in + 6) | (uint32_t)(w8 >> 12) << 16;
            f->fop = w8 & 0x7ff;
            f->fdp = get16(in + 10) | (uint32_t)(w12 >> 12) << 16;
            f->fcs = f->fds = 0;
        } else {
            f->fip = get16(in + 6);
            f->fcs = get16(in + 8);
            f->fdp = get16(in + 10);
            f->fds = get16(in + 12);
            f->fop = 0; /* the 16-bit protected-mode layout has no opcode field */
        }
    }
    put32(host_env + 0, 0xffff0000u | cw);
    put32(host_env + 4, 0xffff0000u | sw);
    put32(host_env + 8, 0xffff0000u | tw);
    put32(host_env + 12, f->fip);
    put32(host_env + 16, f->fcs | (uint32_t)(f->fop & 0x7ff) << 16);
    put32(host_env + 20, f->fdp);
    put32(host_env + 24, 0xffff0000u | f->fds);
}
