/*
 * cpu.h — the architectural state of one x86 CPU (CpuState) and the CPU's public API.
 *
 * The CPU knows nothing of devices: it reaches memory through a PhysMem page map
 * (physmem.h) and everything else (ports, MMIO, interrupt acknowledge) through the
 * CpuBus callbacks, each with an opaque pointer. Faults raised while executing an
 * instruction longjmp back to the step loop (cpu_fault), which restores EIP/ESP to the
 * start of the instruction and delivers the exception, so every instruction is precise.
 *
 *     Cpu *c = ...; cpu_init(c, &mem, &bus); cpu_reset(c);
 *     cpu_run(c, 100000);     // executes up to 100000 instructions
 */
#ifndef DBT86_CPU_H
#define DBT86_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/insn.h"
#include "cpu/physmem.h"

/* General purpose register numbers, in ModRM encoding order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
/* Segment register numbers, in ModRM (Sreg) encoding order. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT, SEG_NONE = 0xff };

/* EFLAGS bits. */
#define FL_CF (1u << 0)
#define FL_FIXED1 (1u << 1) /* always reads as 1 */
#define FL_PF (1u << 2)
#define FL_AF (1u << 4)
#define FL_ZF (1u << 6)
#define FL_SF (1u << 7)
#define FL_TF (1u << 8)
#define FL_IF (1u << 9)
#define FL_DF (1u << 10)
#define FL_OF (1u << 11)
#define FL_IOPL (3u << 12)
#define FL_IOPL_SHIFT 12
#define FL_NT (1u << 14)
#define FL_RF (1u << 16)
#define FL_VM (1u << 17)
#define FL_AC (1u << 18)
#define FL_VIF (1u << 19)
#define FL_VIP (1u << 20)
#define FL_ID (1u << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 bits. */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)

/* CR4 bits. */
#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_MCE (1u << 6)
#define CR4_PGE (1u << 7)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
    EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};
#define EXC_NO_ERRCODE 0xffffffffu /* errcode argument for exceptions that push none */

/* Descriptor attribute bits as kept in SegCache.flags (bits 8..23 of the descriptor's
 * high dword, i.e. type in bits 0-3, S=4, DPL=5-6, P=7, AVL=12, L=13, D/B=14, G=15). */
#define SEGF_TYPE_MASK 0x0fu
#define SEGF_ACCESSED 0x01u
#define SEGF_RW 0x02u        /* data: writable; code: readable */
#define SEGF_DC 0x04u        /* data: expand-down; code: conforming */
#define SEGF_CODE 0x08u
#define SEGF_S 0x10u         /* code/data (1) vs system (0) */
#define SEGF_DPL_SHIFT 5
#define SEGF_DPL_MASK (3u << 5)
#define SEGF_P 0x80u
#define SEGF_DB 0x4000u      /* default operand size 32 (code) / big (stack) */
#define SEGF_G 0x8000u

/* A segment register with its hidden descriptor cache. */
typedef struct SegCache {
    uint16_t sel;   /* visible selector */
    uint32_t base;  /* linear base address */
    uint32_t limit; /* effective limit in bytes (already scaled by G) */
    uint32_t flags; /* SEGF_* attribute bits */
} SegCache;

/* A descriptor table register (GDTR, IDTR). */
typedef struct DtReg {
    uint32_t base;
    uint16_t limit;
} DtReg;

typedef struct Cpu Cpu;

/* One software TLB entry (mmu.c): a 4 KiB piece of a translation with the access kinds
 * it allows. perm bit (acc * 2 + user) is set when an access of kind acc (MMU_READ,
 * MMU_WRITE, MMU_FETCH) at that privilege may use the entry without walking; write
 * bits are set only when the final entry's dirty bit is already set. */
#define TLB_SIZE 1024
#define TLB_VALID 1u          /* tag bit: entry in use */
#define TLBF_GLOBAL 0x01u     /* G=1 with CR4.PGE: survives CR3 writes */
#define TLBF_LARGE_4M 0x02u   /* piece of a 4 MiB page (INVLPG drops all pieces) */
#define TLBF_LARGE_2M 0x04u   /* piece of a 2 MiB page */
/* tag[acc * 2 + user] (acc 0 read, 1 write; user: CPL 3) is the linear page | 0xfff when
 * such an access may go straight to host memory, else 0 (never matches); addend[acc] is
 * the host address of the physical page minus the linear page's address. */
typedef struct HostTlbEntry {
    uint32_t tag[4];
    intptr_t addend[2];
} HostTlbEntry;
#define HTLB_PAGE_BITS 0xfffu

typedef struct TlbEntry {
    uint32_t tag;   /* linear page address | TLB_VALID, or 0 when empty */
    uint32_t pa;    /* physical page address */
    uint8_t perm;   /* allowed access kinds, see above */
    uint8_t flags;  /* TLBF_* */
} TlbEntry;

/* Everything outside memory that the CPU talks to. All callbacks get `opaque`. */
typedef struct CpuBus {
    void *opaque;
    uint32_t (*io_read)(void *opaque, uint16_t port, unsigned size);
    void (*io_write)(void *opaque, uint16_t port, uint32_t value, unsigned size);
    /* MMIO for physical pages whose PhysMem pointer is NULL (unassigned reads return
     * all ones; the bus decides). */
    uint32_t (*mmio_read)(void *opaque, uint32_t addr, unsigned size);
    void (*mmio_write)(void *opaque, uint32_t addr, uint32_t value, unsigned size);
    /* Interrupt acknowledge cycle: returns the vector of the highest pending IRQ. */
    uint8_t (*intr_ack)(void *opaque);
    /* Called on a triple fault (shutdown); the board decides to reset or stop. */
    void (*shutdown)(void *opaque);
    /* Virtual time in nanoseconds, for RDTSC (may be NULL: TSC = instruction count). */
    uint64_t (*now_ns)(void *opaque);
    /* The x87 FERR# output (may be NULL). With CR0.NE=0, a waiting FPU instruction that
     * finds an unmasked exception pending drives it to 1 and waits for an interrupt (the
     * PC routes it to IRQ 13); it returns to 0 when the exception is cleared (FNCLEX,
     * FNINIT, FNSAVE, FLDENV/FRSTOR/FLDCW that leave none pending). See fpu.h. */
    void (*ferr)(void *opaque, int level);
    /* The VMware backdoor (QEMU's vmport; devices/vmmouse.c): a 32-bit IN from port
     * CPU_BACKDOOR_PORT with EAX = CPU_BACKDOOR_MAGIC, once the I/O permission check
     * passed, goes here instead of io_read, with the general registers (regs[R_EAX..
     * R_EDI]) to read and update: the device answers in several registers at once.
     * May be NULL (no backdoor: the IN reads the port as any other). */
    void (*backdoor)(void *opaque, uint32_t regs[8]);
} CpuBus;

#define CPU_BACKDOOR_PORT 0x5658u        /* 'VX' */
#define CPU_BACKDOOR_MAGIC 0x564D5868u   /* 'VMXh' */

/* One slot of the decoded-instruction cache (exec.c). An entry is used only when the
 * bytes now at the instruction's address equal the bytes it was decoded from (and the
 * CS D bit matches), so it cannot go stale: self-modifying code, DMA and remapping
 * simply miss. `bytes` holds the first 15 bytes as two overlapping 8-byte words
 * (bytes 0-7 and 7-14) for a masked compare. */
#define ICACHE_SIZE 2048 /* entries, a power of two */
typedef struct ICacheEntry {
    uint64_t w0, w1; /* instruction bytes 0..7 and 7..14 (unused bytes are zero) */
    uint8_t mode;    /* 0 empty, 1 16-bit code, 2 32-bit code */
    Insn in;         /* decode() of those bytes */
} ICacheEntry;

/* x87 FPU state (fpu.c, exec_fpu.c). Registers in physical order R0..R7 as 80-bit
 * little-endian values; sw holds TOP in bits 11-13; tw is the full two-bit tag word.
 * The last-instruction pointers are kept as hardware keeps them: offset + selector.
 * `ready` is false after cpu_reset()'s zeroing: fpu_get() then installs the power-on
 * state (CW 0x0040, SW 0, TW 0x5555, registers +0.0), so a reset needs no extra call. */
typedef struct FpuState {
    uint8_t st[8][10];
    uint16_t cw, sw, tw;
    uint16_t fcs, fds;  /* last instruction's CS and its operand's segment selector */
    uint16_t fop;       /* last opcode: 11 bits, (first byte & 7) << 8 | ModRM */
    uint32_t fip, fdp;  /* last instruction's offset and its operand's offset */
    bool ready;
} FpuState;

/* Why cpu_run() returned. */
typedef enum CpuExit {
    CPU_EXIT_BUDGET = 0, /* executed the requested number of instructions */
    CPU_EXIT_HALT,       /* HLT with no interrupt pending: waiting for an interrupt */
    CPU_EXIT_STOP,       /* cpu_request_stop() was called (device, shutdown, debug exit) */
} CpuExit;

struct Cpu {
    /* ---- architectural state: cleared by cpu_reset() ---- */
    uint32_t regs[8];          /* EAX..EDI */
    uint32_t eip;              /* instruction pointer (offset in CS) */
    uint32_t eflags;           /* EFLAGS, all bits kept here directly */
    SegCache seg[SEG_COUNT];   /* ES CS SS DS FS GS */
    SegCache ldtr;             /* LDT selector + cached descriptor */
    SegCache tr;               /* task register + cached TSS descriptor */
    DtReg gdtr, idtr;          /* descriptor table registers */
    uint32_t cr[5];            /* CR0, (CR1 unused), CR2, CR3, CR4 */
    uint32_t dr[8];            /* debug registers DR0-DR7 */
    uint8_t cpl;               /* current privilege level */
    bool halted;               /* in HLT, waiting for an interrupt */
    uint8_t inhibit_irq;       /* 1 after MOV SS/POP SS/STI: no interrupt before next insn */
    bool nmi_pending;          /* NMI line latched */
    uint64_t tsc_offset;       /* TSC = virtual clock based count + offset (WRMSR) */
    uint64_t msr_sysenter_cs, msr_sysenter_esp, msr_sysenter_eip;
    uint64_t msr_apic_base;
    uint64_t msr_mtrr_var[16];   /* MTRR PHYSBASE0/PHYSMASK0..7 (MSR 0x200-0x20F) */
    uint64_t msr_mtrr_fixed[11]; /* fixed MTRRs 0x250 0x258 0x259 0x268-0x26F, in that order */
    uint64_t msr_mtrr_deftype;   /* MTRRdefType (0x2FF) */
    uint64_t msr_pat_xor;        /* PAT (0x277) XOR its power-on value 0x0007040600070406,
                                    so that cpu_reset's zeroing yields the reset value */
    uint64_t msr_misc_enable;    /* IA32_MISC_ENABLE (0x1A0): stored, no effect */
    uint64_t msr_efer;           /* IA32_EFER (0xC0000080): only NXE (bit 11) exists */
    uint64_t pdpte[4];           /* PAE: the PDPTE registers loaded from CR3 (mmu.c) */
    bool tlb_has_large;          /* some TLB entry maps a piece of a large page */
    TlbEntry tlb[TLB_SIZE];      /* software TLB (mmu.c): architectural cache contents,
                                    so cpu_reset empties it with the rest */
    FpuState fpu;                /* x87: use fpu_get(c), which applies the power-on state */
    uint8_t xmm[8][16];          /* SSE registers XMM0-7 (exec_sse.c) */
    uint32_t mxcsr_xor;          /* MXCSR XOR its reset value 0x1F80, so that cpu_reset's
                                    zeroing yields the reset value: use sse_mxcsr() */
    uint8_t dbg_armed;           /* DBG_* kinds of breakpoint enabled in DR7: derived from
                                    DR7 by debug_update() (debug.h), saved to stay in step */
    uint32_t dbg_trap;           /* DR6 bits of debug traps to deliver after the current
                                    instruction: B0-B3 of data/I-O hits, BT (debug.c) */
    /* ---- reset-preserved below this line ---- */
    uint64_t icount;           /* instructions retired since power-on */
    bool intr_line;            /* INTR input level (from the PIC) */
    bool fpu_ignne;            /* IGNNE# input level (fpu_set_ignne) */
    bool stop_requested;       /* cpu_request_stop(): leave cpu_run() at next boundary */
    uint32_t a20_mask;         /* 0xffffffff or 0xffefffff when A20 is masked */
    PhysMem *mem;              /* physical memory page map (not owned) */
    CpuBus bus;                /* everything else (not owned) */
    /* The board's local APIC (devices/apic.c), told of every WRMSR to IA32_APIC_BASE
     * (0x1B) with the value stored. NULL: the board has none, and CPUID leaf 1 does not
     * report one (EDX bit 9). Kept out of CpuBus, whose opaque others may interpose. */
    void (*apic_base_write)(void *apic, uint64_t value);
    void *apic;
    /* the translator (translate/): translated code leaves at the next instruction
     * boundary when dbt_exit is set (an interrupt line rose, a stop was requested,
     * a write hit a page holding translations); run_end is the icount at which the
     * current run ends. Engine bookkeeping, not architectural state. */
    bool dbt_exit;
    uint64_t run_end;
    /* translated code hands arithmetic flags from block to block in a host register:
     * these EFLAGS bits are newer there than in eflags (0 whenever C code runs) */
    uint32_t dbt_flpend;
    struct WriteLog *wlog;     /* lockstep checker: physical writes are journaled here */
    uint32_t log_flags;        /* LOG_* bits from -d */
    void *log_file;            /* FILE* for -D, or NULL for stderr */

    /* ---- per-instruction scratch, used only inside cpu_step ---- */
    jmp_buf fault_jmp;         /* cpu_fault() longjmps here */
    uint32_t insn_eip;         /* EIP at the start of the current instruction */
    uint32_t insn_esp;         /* ESP at the start of the current instruction */
    uint8_t fault_depth;       /* 0 normal; 1 delivering; 2 delivering #DF (3 = triple) */
    uint8_t first_vector;      /* the event being delivered when a nested fault hits */
    uint8_t pending_vector;    /* fault recorded by cpu_fault() for delivery */
    uint32_t pending_errcode;  /* its error code, or EXC_NO_ERRCODE */
    uint32_t exc_count;        /* exceptions delivered since power-on (statistics) */

    /* ---- translator's host TLB (translate/), one entry per tlb[i]: what translated
     * code's inline memory path compares and adds. mmu.c drops an entry whenever it
     * changes or drops tlb[i]; the translator fills it after a slow access and drops
     * all of them when the memory map or A20 changes, and the write side of those
     * that lead to a page it parks. Never guest-visible (not in snapshots). ---- */
    HostTlbEntry htlb[TLB_SIZE];

    /* ---- decoded-instruction cache (exec.c); a pure cache, never guest-visible ---- */
    ICacheEntry icache[ICACHE_SIZE];
};

/* The lockstep checker's journal of physical writes (mem.c records into it while
 * Cpu.wlog is set): each entry has the bytes before and after. `device` is set when
 * the CPU touched MMIO or an I/O port, whose effects cannot be undone. */
typedef struct WriteLogEntry {
    uint32_t pa;
    uint8_t size;
    uint8_t before[4], after[4];
} WriteLogEntry;
typedef struct WriteLog {
    WriteLogEntry *e;
    uint32_t n, cap;
    bool overflow;  /* more entries than cap: the comparison is skipped */
    bool device;
} WriteLog;

/* -d log categories (QEMU names). */
#define LOG_IN_ASM (1u << 0)
#define LOG_INT (1u << 1)
#define LOG_CPU (1u << 2)
#define LOG_GUEST_ERRORS (1u << 3)
#define LOG_UNIMP (1u << 4)

void cpu_init(Cpu *c, PhysMem *mem, const CpuBus *bus);
/* Power-on / RESET state: real mode, CS:IP = F000:FFF0 with CS base 0xFFFF0000. */
void cpu_reset(Cpu *c);
/* Run up to `budget` instructions (fewer if halted or stopped). */
CpuExit cpu_run(Cpu *c, uint64_t budget);
/* Execute exactly one instruction (or deliver one pending interrupt/exception). */
void cpu_step(Cpu *c);
void cpu_set_intr(Cpu *c, bool level);
void cpu_set_nmi(Cpu *c);
void cpu_request_stop(Cpu *c);
void cpu_set_a20(Cpu *c, bool enabled);

/* For the translator (exec.c): one interpreter step with c->fault_jmp already armed by
 * the caller; delivery of the fault cpu_fault() recorded; the handler of a mnemonic. */
void cpu_exec_insn(Cpu *c);
void cpu_deliver_fault(Cpu *c);
typedef void (*CpuExecFn)(Cpu *c, const Insn *in);
CpuExecFn cpu_handler(unsigned mnem);

/* Raise an exception from inside an instruction: restores the instruction's start state
 * and delivers it. Never returns. */
__attribute__((noreturn)) void cpu_fault(Cpu *c, int vector, uint32_t errcode);

/* Deliver an interrupt or exception now (real mode IVT or protected mode IDT).
 * `soft` is true for INT n/INT3/INTO (gate DPL checks apply, EIP is the next insn).
 * Faults during delivery escalate to #DF and then triple fault. */
void cpu_interrupt(Cpu *c, int vector, uint32_t errcode, bool soft);

/* Print registers in the style of QEMU's `info registers` into buf. */
int cpu_format_state(const Cpu *c, char *buf, int size);

static inline bool cpu_pe(const Cpu *c) { return c->cr[0] & CR0_PE; }
static inline bool cpu_vm86(const Cpu *c) { return c->eflags & FL_VM; }
/* Real mode or virtual-8086 mode: selectors are paragraph numbers. */
static inline bool cpu_realmode_seg(const Cpu *c) { return !cpu_pe(c) || cpu_vm86(c); }
static inline bool cpu_code32(const Cpu *c) { return c->seg[SEG_CS].flags & SEGF_DB; }
static inline bool cpu_stack32(const Cpu *c) { return c->seg[SEG_SS].flags & SEGF_DB; }
static inline unsigned cpu_iopl(const Cpu *c) { return (c->eflags >> FL_IOPL_SHIFT) & 3; }
/* The debug machinery has work at this instruction boundary (debug.c): a breakpoint is
 * enabled in DR7, a debug trap is pending, or EFLAGS.TF/RF is set. The step loop then
 * calls debug_before/debug_after; the translator leaves such code to the interpreter. */
static inline bool cpu_debug_active(const Cpu *c)
{
    return (c->dbg_armed | c->dbg_trap | (c->eflags & (FL_TF | FL_RF))) != 0;
}

#endif
