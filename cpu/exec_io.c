/*
 * exec_io.c — port I/O: IN, OUT, INS, OUTS, and the protection check they share
 * (IOPL, then the I/O permission bitmap of a 32-bit TSS; SDM vol. 1 ch. 19).
 *
 * Ports are reached through c->bus.io_read/io_write. String forms run a bounded chunk
 * of iterations per execution and restart themselves (EIP back to the instruction) so
 * that interrupts are taken between chunks, as the operand contract describes.
 */
#include "cpu/debug.h"
#include "cpu/interp.h"

#define STRING_CHUNK 1024u /* iterations per execution of a REP INS/OUTS */

void io_check(Cpu *c, uint16_t port, unsigned size)
{
    if (__builtin_expect(c->dbg_armed & DBG_IO, 0)) debug_io_access(c, port, size);
    if (!cpu_pe(c) || (!cpu_vm86(c) && c->cpl <= cpu_iopl(c))) return;
    /* CPL > IOPL, or virtual-8086 mode: every bit for the accessed ports must be 0 in
     * the bitmap of a 32-bit TSS (a 16-bit TSS has none) */
    unsigned type = c->tr.flags & (SEGF_S | SEGF_TYPE_MASK);
    if (!(c->tr.flags & SEGF_P) || (type != 0x9 && type != 0xb) || c->tr.limit < 0x67)
        cpu_fault(c, EXC_GP, 0);
    uint32_t base = lin_read16(c, c->tr.base + 0x66, true);
    uint32_t off = base + port / 8;
    /* the CPU always reads two bitmap bytes, so both must lie within the TSS limit */
    if (off + 1 > c->tr.limit || off + 1 < off) cpu_fault(c, EXC_GP, 0);
    uint32_t bits = lin_read16(c, c->tr.base + off, true);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask) cpu_fault(c, EXC_GP, 0);
}

static uint32_t port_in(Cpu *c, uint16_t port, unsigned size)
{
    if (!c->bus.io_read) return size_mask(size);
    return c->bus.io_read(c->bus.opaque, port, size) & size_mask(size);
}

static void port_out(Cpu *c, uint16_t port, uint32_t v, unsigned size)
{
    if (c->bus.io_write) c->bus.io_write(c->bus.opaque, port, v & size_mask(size), size);
}

void exec_IN(Cpu *c, const Insn *in)
{
    unsigned size = in->op[0].size;
    uint16_t port = (uint16_t)opnd_read(c, in, 1);
    io_check(c, port, size);
    /* the VMware backdoor: a device that answers in EAX, EBX, ECX and EDX at once */
    if (size == 4 && port == CPU_BACKDOOR_PORT && c->bus.backdoor &&
        c->regs[R_EAX] == CPU_BACKDOOR_MAGIC) {
        c->bus.backdoor(c->bus.opaque, c->regs);
        return;
    }
    reg_write(c, R_EAX, size, port_in(c, port, size));
}

void exec_OUT(Cpu *c, const Insn *in)
{
    unsigned size = in->op[1].size;
    uint16_t port = (uint16_t)opnd_read(c, in, 0);
    io_check(c, port, size);
    port_out(c, port, reg_read(c, R_EAX, size), size);
}

/* eSI/eDI/eCX by address size: reading, and writing back without touching the upper
 * half for 16-bit addressing. */
static uint32_t areg_read(const Cpu *c, const Insn *in, int r)
{
    return in->addrsize == 2 ? c->regs[r] & 0xffff : c->regs[r];
}

static void areg_write(Cpu *c, const Insn *in, int r, uint32_t v)
{
    if (in->addrsize == 2)
        c->regs[r] = (c->regs[r] & 0xffff0000u) | (v & 0xffff);
    else
        c->regs[r] = v;
}

/* Runs one INS (out=false) or OUTS element transfer per iteration, for up to a chunk
 * of iterations; registers are updated after each element so a fault part way through
 * resumes correctly. */
static void string_io(Cpu *c, const Insn *in, bool out)
{
    unsigned size = in->op[0].size;
    uint16_t port = c->regs[R_EDX] & 0xffff;
    bool rep = in->prefixes & (PFX_REP | PFX_REPNE);
    int idx = out ? R_ESI : R_EDI;
    int seg = out ? in->seg : SEG_ES;
    uint32_t delta = (c->eflags & FL_DF) ? (uint32_t)-size : size;

    io_check(c, port, size);
    uint32_t count = rep ? areg_read(c, in, R_ECX) : 1;
    if (count == 0) return;
    uint32_t n = count < STRING_CHUNK ? count : STRING_CHUNK;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = areg_read(c, in, idx);
        if (out) {
            port_out(c, port, mem_read(c, seg, off, size), size);
        } else {
            /* the destination is checked before the port is read, so a faulting
             * write does not lose a value the device already handed over */
            mem_check_write(c, seg, off, size);
            mem_write(c, seg, off, port_in(c, port, size), size);
        }
        areg_write(c, in, idx, off + delta);
        if (rep) areg_write(c, in, R_ECX, areg_read(c, in, R_ECX) - 1);
        if (__builtin_expect(rep && debug_stop_iteration(c), 0)) {
            n = i + 1; /* a debug trap is taken after this iteration */
            break;
        }
    }
    if (rep && n < count) c->eip = c->insn_eip; /* more to do: run again */
}

void exec_INS(Cpu *c, const Insn *in) { string_io(c, in, false); }
void exec_OUTS(Cpu *c, const Insn *in) { string_io(c, in, true); }
