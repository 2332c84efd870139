/*
 * dbt.h — the dynamic binary translator's public face: an engine that runs a Cpu like
 * cpu_run() does, with exactly the same results, by translating guest code block by
 * block into host x86-64 code kept in a code cache.
 *
 *     Dbt *d = dbt_create(&m->cpu, &opts, err, sizeof err);
 *     CpuExit e = dbt_run(d, 100000);   // like cpu_run(c, 100000)
 *     dbt_destroy(d);
 *
 * Anything the translator cannot or need not handle (pending interrupts, single-step,
 * debug breakpoints, code in MMIO, an instruction crossing a page) runs through the
 * interpreter one instruction at a time, so the two engines retire the same
 * instructions and agree on icount. See docs/internals.md, "Translator".
 */
#ifndef DBT86_DBT_H
#define DBT86_DBT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"

typedef struct Dbt Dbt;

/* -d categories of the translator (QEMU's names). */
#define DBT_LOG_IN_ASM 0x1u  /* guest instructions of each block as it is translated */
#define DBT_LOG_OUT_ASM 0x2u /* host code of each block */
#define DBT_LOG_EXEC 0x4u    /* every block entered from the dispatcher */

typedef struct DbtOptions {
    size_t code_size;    /* bytes of host code before a full flush (0: default 32 MiB) */
    bool nochain;        /* -d nochain: every block returns to the dispatcher */
    bool check;          /* lockstep checker: the interpreter re-runs each block */
    bool native;         /* translate instructions natively (false: helper calls only) */
    uint32_t log;        /* DBT_LOG_* */
    FILE *log_file;      /* NULL: stderr */
    bool perfmap;        /* -perfmap: name each block's host code in /tmp/perf-PID.map */
} DbtOptions;

typedef struct DbtStats {
    uint64_t blocks_translated;
    uint64_t insns_translated;
    uint64_t flushes;            /* full code-cache flushes */
    uint64_t invalidations;      /* blocks dropped because their page was written */
    uint64_t code_page_data_writes; /* writes to a code page that missed its code */
    uint64_t helper_insns;       /* translated instructions that call an interpreter handler */
    uint64_t interp_steps;       /* instructions run by the interpreter (no block) */
    uint64_t interp_noblock;     /*   of which: no block possible there */
    uint64_t interp_budget;      /*   of which: the block was longer than the budget left */
    uint64_t block_execs;        /* blocks entered from the dispatcher */
    uint64_t chains;             /* direct links made between blocks */
    uint64_t indirect_hits;      /* indirect branches that found their block in code */
    uint64_t checked_blocks;     /* lockstep: blocks compared */
    uint64_t check_skipped;      /* lockstep: blocks that touched devices, not compared */
} DbtStats;

void dbt_options_defaults(DbtOptions *o);
/* Creates the engine for `c` (and hooks code-page writes in c->mem). NULL with a
 * one-line message in err when host memory cannot be had. */
Dbt *dbt_create(Cpu *c, const DbtOptions *o, char *err, size_t errlen);
void dbt_destroy(Dbt *d);
/* Runs up to `budget` instructions: cpu_run()'s contract exactly. */
CpuExit dbt_run(Dbt *d, uint64_t budget);
/* Drops every translation (used after a reset or snapshot load; also safe any time
 * outside dbt_run). */
void dbt_flush(Dbt *d);
const DbtStats *dbt_stats(const Dbt *d);
void dbt_print_stats(const Dbt *d, FILE *f);
/* Lockstep checker: true once a difference was found (the run stopped there and the
 * report was printed to the log). */
bool dbt_check_failed(const Dbt *d);

#endif
