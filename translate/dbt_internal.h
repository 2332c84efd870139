/*
 * dbt_internal.h — what the translator's files share: blocks, the code cache, and the
 * code generator's entry points. Not for use outside translate/.
 *
 * Memory layout: one mapping holds the host code (read+execute, made writable only
 * while a block is written: W^X) followed by a read-write data area with two 8-byte
 * exit slots per block. Every direct exit of a block is `jmp [rip+slot]`; a slot points
 * at the block's own exit stub (back to the dispatcher) or, once chained, at the next
 * block's entry. Chaining and unchaining therefore write data, never code.
 */
#ifndef DBT86_DBT_INTERNAL_H
#define DBT86_DBT_INTERNAL_H

#include "cpu/interp.h"
#include "translate/dbt.h"
#include "translate/emit.h"

#define DBT_MAX_BLOCK_INSNS 64
#define DBT_HASH_SIZE (1u << 16)
#define DBT_JC_SIZE (1u << 12)
#define DBT_HOT_PAGE_LIMIT 16 /* quick invalidations of a page before it is interpreted */
#define DBT_HOT_WINDOW 1000000u /* "quick": within this many instructions of a translation */

typedef struct Block Block;

/* The mode bits a translation depends on (besides CS base/limit and EIP). */
#define BM_CODE32 0x01u
#define BM_STACK32 0x02u
#define BM_PE 0x04u
#define BM_VM 0x08u
#define BM_CPL_SHIFT 4
#define BM_PG 0x40u
#define BM_AC 0x80u /* alignment checks apply (CR0.AM, EFLAGS.AC, CPL 3): no inline paths */
/* per segment register s: accesses may skip the type checks (present, readable /
 * writable, expand-up): reads BM_SEG_R(s), writes BM_SEG_W(s) */
#define BM_SEG_R(s) (0x100u << (2 * (s)))
#define BM_SEG_W(s) (0x200u << (2 * (s)))
/* per segment register: base 0 and limit 4 GiB (no limit check or base add inline) */
#define BM_SEG_FLAT(s) (0x100000u << (s))

struct Block {
    /* key */
    uint32_t phys_pc;      /* physical address of the first byte */
    uint32_t eip;          /* EIP of the first instruction */
    uint32_t cs_base, cs_limit;
    uint32_t mode;         /* BM_* */
    /* code */
    uint8_t *entry;        /* chained entry: budget and interrupt checks, then body */
    uint8_t *body;         /* where the dispatcher enters (it has done the checks) */
    uint8_t *xentry;       /* entry for chained jumps from another page: checks that the
                              TLB still maps the block's linear page to its physical one */
    uint32_t code_len;
    uint16_t ninsn;        /* guest instructions in the block */
    uint16_t guest_len;    /* guest bytes covered */
    bool valid;
    /* lists */
    Block *hash_next;      /* same hash bucket */
    Block *page_next;      /* same physical page */
    uint32_t jc_index;     /* jump-cache slot it was put in */
    /* chaining: exit slot k of this block goes to out[k] (NULL: to the dispatcher);
     * (in_from, in_k) is the list of slots that lead into this block, linked through
     * the source's in_next_* fields of that slot */
    Block *out[2];
    uint8_t *stub[2];      /* exit stub of slot k (the slot's value when unchained) */
    uint32_t out_eip[2];   /* guest EIP a direct exit k continues at */
    Block *in_from;
    uint8_t in_k;
    Block *in_next_from[2];
    uint8_t in_next_k[2];
    const Insn *insns;     /* decoded instructions (for the checker and logs) */
};

struct Dbt {
    Cpu *cpu;
    DbtOptions opt;
    DbtStats stats;
    /* code cache memory */
    uint8_t *map;          /* the whole mapping */
    size_t map_size;
    uint8_t *code;         /* code area (where it runs) */
    uint8_t *code_rw;      /* the same memory where it is written (== code without
                              a dual mapping: then protections are switched) */
    bool dual;
    size_t code_size, code_used;
    void **slots;          /* data area: 2 exit slots per block */
    uint8_t *enter_fn;     /* trampoline: enter(Cpu *c, void *code) -> exit slot or 0 */
    uint8_t *exit_fn;      /* common exit (restores host registers, returns rax) */
    uint8_t *exit_spill_fn; /* the same after writing the guest registers back */
    size_t stub_len;       /* bytes of the fixed code (trampolines) at the start */
    /* blocks */
    Block *blocks;
    uint32_t nblocks, max_blocks;
    Insn *insn_pool;
    uint32_t ninsn_pool, max_insn_pool;
    Block *hash[DBT_HASH_SIZE];
    Block *jc[DBT_JC_SIZE];
    Block **page_head;     /* per physical page: blocks on it (PHYS_PAGES entries) */
    uint8_t *page_hot;     /* per physical page: quick invalidations in a row */
    uint32_t *page_stamp;  /* per physical page: icount / 1024 at its last translation */
    uint64_t **code_bits;  /* per physical page: bytes covered by its blocks (or NULL) */
    uint32_t mem_generation;
    uint32_t map_generation; /* PhysMem.map_generation Cpu.htlb was filled under */
    /* dispatcher */
    uintptr_t link;        /* exit slot the last block left through (0: none) */
    bool check_failed;
    void *check;           /* lockstep checker state (check.c) */
    FILE *perfmap;         /* -perfmap: Linux perf's map of JIT code, or NULL */
};

/* access.c: the memory accessors translated code calls when its inline path cannot
 * be used; they also fill Cpu.htlb for the page. */
uint32_t dbt_rd8(Cpu *c, int seg, uint32_t off);
uint32_t dbt_rd16(Cpu *c, int seg, uint32_t off);
uint32_t dbt_rd32(Cpu *c, int seg, uint32_t off);
void dbt_wr8(Cpu *c, int seg, uint32_t off, uint32_t v);
void dbt_wr16(Cpu *c, int seg, uint32_t off, uint32_t v);
void dbt_wr32(Cpu *c, int seg, uint32_t off, uint32_t v);

/* gen.c: does this instruction end a block? */
bool dbt_insn_ends_block(const Insn *in);

/* cache.c */
/* the block at the current CS:EIP, translated if needed and may_translate */
Block *dbt_lookup(Dbt *d, bool may_translate);
const uint8_t *dbt_indirect(Dbt *d, uint32_t mode);
void dbt_invalidate_page(Dbt *d, uint32_t page);
void dbt_chain(Dbt *d, uintptr_t slot_addr, Block *to);
uint32_t dbt_block_mode(const Cpu *c);

/* gen.c: writes the host code of `b` (key filled, insns decoded) at `out`, at most
 * `cap` bytes; returns the length or 0 when it did not fit. */
size_t dbt_gen_block(Dbt *d, Block *b, const Insn *insns, uint8_t *out, uint8_t *exec,
                     size_t cap);
/* gen.c: the fixed trampolines at the start of the code area; returns their length. */
size_t dbt_gen_trampolines(Dbt *d, uint8_t *out, uint8_t *exec, size_t cap);
static inline uintptr_t dbt_enter(Dbt *d, const uint8_t *code)
{
    return ((uintptr_t(*)(Cpu *, const uint8_t *))(void *)d->enter_fn)(d->cpu, code);
}

/* check.c: run block b under the lockstep checker (instead of plain dbt_enter). */
uintptr_t dbt_check_block(Dbt *d, Block *b);
void dbt_check_free(Dbt *d);

#endif
