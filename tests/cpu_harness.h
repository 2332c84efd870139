/*
 * cpu_harness.h — a bare CPU with RAM for instruction-level tests: 16 MiB of RAM at 0,
 * ports that record writes and read back a programmable value, no devices.
 *
 *     CpuHarness h;                         // real mode, CS=DS=ES=SS=0
 *     h.load(0x1000, {0xb8, 0x34, 0x12});   // mov ax, 0x1234
 *     h.set_ip(0x1000); h.step();
 *     EXPECT_EQ(h.c->regs[R_EAX] & 0xffff, 0x1234u);
 *     h.flat32();                           // 32-bit flat protected mode, CPL 0
 */
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

extern "C" {
#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "cpu/interp.h"
}

struct CpuHarness {
    static constexpr uint32_t RAM = 16u << 20;
    PhysMem *mem;
    uint8_t *ram;
    Cpu *c;
    std::vector<std::pair<uint16_t, uint32_t>> io_writes; /* (port, value) */
    uint32_t io_read_value = 0xffffffffu;
    uint8_t irq_vector = 0x08;
    int shutdowns = 0;
    /* a 4 KiB MMIO window (no RAM behind it: every access goes to the bus callbacks),
     * e.g. for code that runs from device memory */
    static constexpr uint32_t MMIO_BASE = 0x3000000;
    uint8_t mmio[4096] = {};

    static uint32_t io_read(void *o, uint16_t port, unsigned size)
    {
        (void)port;
        auto *h = static_cast<CpuHarness *>(o);
        return h->io_read_value & (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    }
    static void io_write(void *o, uint16_t port, uint32_t v, unsigned size)
    {
        (void)size;
        static_cast<CpuHarness *>(o)->io_writes.push_back({port, v});
    }
    static uint8_t intr_ack(void *o) { return static_cast<CpuHarness *>(o)->irq_vector; }
    static uint32_t mmio_read(void *o, uint32_t a, unsigned size)
    {
        auto *h = static_cast<CpuHarness *>(o);
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            uint32_t x = a + i - MMIO_BASE;
            v |= (uint32_t)(x < sizeof h->mmio ? h->mmio[x] : 0xff) << (8 * i);
        }
        return v;
    }
    static void mmio_write(void *o, uint32_t a, uint32_t v, unsigned size)
    {
        auto *h = static_cast<CpuHarness *>(o);
        for (unsigned i = 0; i < size; i++) {
            uint32_t x = a + i - MMIO_BASE;
            if (x < sizeof h->mmio) h->mmio[x] = (uint8_t)(v >> (8 * i));
        }
    }
    static void shutdown(void *o) { static_cast<CpuHarness *>(o)->shutdowns++; }

    CpuHarness()
    {
        mem = static_cast<PhysMem *>(calloc(1, sizeof(PhysMem)));
        ram = static_cast<uint8_t *>(calloc(1, RAM));
        c = static_cast<Cpu *>(calloc(1, sizeof(Cpu)));
        physmem_map(mem, 0, RAM, ram, ram);
        CpuBus bus = {};
        bus.opaque = this;
        bus.io_read = io_read;
        bus.io_write = io_write;
        bus.intr_ack = intr_ack;
        bus.mmio_read = mmio_read;
        bus.mmio_write = mmio_write;
        bus.shutdown = shutdown;
        cpu_init(c, mem, &bus);
        /* real mode with all segments at 0, stack at 0x8000 */
        for (int s = 0; s < SEG_COUNT; s++) seg_load_real(c, s, 0);
        c->regs[R_ESP] = 0x8000;
        c->eip = 0x1000;
    }
    ~CpuHarness()
    {
        free(c);
        free(ram);
        free(mem);
    }
    CpuHarness(const CpuHarness &) = delete;
    CpuHarness &operator=(const CpuHarness &) = delete;

    void load(uint32_t addr, std::initializer_list<uint8_t> bytes)
    {
        uint32_t a = addr;
        for (uint8_t b : bytes) ram[a++] = b;
    }
    void load(uint32_t addr, const std::vector<uint8_t> &bytes)
    {
        memcpy(ram + addr, bytes.data(), bytes.size());
    }
    void set_ip(uint32_t ip) { c->eip = ip; }
    void step(int n = 1)
    {
        for (int i = 0; i < n; i++) cpu_step(c);
    }
    uint32_t rd32(uint32_t a) const
    {
        uint32_t v;
        memcpy(&v, ram + a, 4);
        return v;
    }
    void wr32(uint32_t a, uint32_t v) { memcpy(ram + a, &v, 4); }
    /* Write a GDT/LDT descriptor at linear address `a`. */
    void put_desc(uint32_t a, uint32_t base, uint32_t limit, uint32_t flags)
    {
        /* flags as in SegCache (type|S|DPL|P in bits 0-7, AVL/L/DB/G in bits 12-15) */
        uint32_t lo = (limit & 0xffff) | (base << 16);
        uint32_t hi = ((base >> 16) & 0xff) | (flags & 0xf0ff) << 8 | (limit & 0xf0000) |
                      (base & 0xff000000u);
        wr32(a, lo);
        wr32(a + 4, hi);
    }
    /* 32-bit flat protected mode at CPL 0: GDT at 0x500 with null, code 0x08,
     * data 0x10 (4 GiB, G=1, D=1); IDT base 0x0 limit 0 unless set by the test. */
    /* An IDT at 0x800 for the 32 exception vectors, every one an interrupt gate to
     * `handler` in the flat32() code segment. */
    void idt_all(uint32_t handler)
    {
        for (int v = 0; v < 32; v++) {
            uint32_t a = 0x800 + v * 8;
            wr32(a, (handler & 0xffff) | (0x08u << 16));
            wr32(a + 4, (handler & 0xffff0000u) | 0x8e00u);
        }
        c->idtr.base = 0x800;
        c->idtr.limit = 32 * 8 - 1;
    }
    void flat32()
    {
        put_desc(0x500, 0, 0, 0);
        put_desc(0x508, 0, 0xfffff, SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_DB | SEGF_G);
        put_desc(0x510, 0, 0xfffff, SEGF_P | SEGF_S | SEGF_RW | SEGF_DB | SEGF_G);
        c->gdtr.base = 0x500;
        c->gdtr.limit = 0x17;
        c->cr[0] |= CR0_PE;
        for (int s = 0; s < SEG_COUNT; s++) {
            c->seg[s].sel = s == SEG_CS ? 0x08 : 0x10;
            c->seg[s].base = 0;
            c->seg[s].limit = 0xffffffffu;
            c->seg[s].flags = SEGF_P | SEGF_S | SEGF_RW | SEGF_DB | SEGF_G | SEGF_ACCESSED |
                              (s == SEG_CS ? SEGF_CODE : 0);
        }
        c->cpl = 0;
        c->regs[R_ESP] = 0x80000;
    }
};
