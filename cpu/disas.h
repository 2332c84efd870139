/*
 * disas.h — guest disassembly for logs and the monitor, through Capstone.
 *
 *     char text[128]; disas_insn(bytes, n, eip, true, text, sizeof text);
 */
#ifndef DBT86_DISAS_H
#define DBT86_DISAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Disassemble one instruction at `addr`; writes "mnemonic operands" (or "(bad)") and
 * returns its length as Capstone sees it (0 when Capstone cannot decode it). */
int disas_insn(const uint8_t *bytes, unsigned len, uint32_t addr, bool code32, char *out,
               size_t outlen);

/* Host (x86-64) disassembly of translated code, one instruction a line, for -d out_asm. */
void disas_host(const uint8_t *code, size_t len, uint64_t addr, FILE *f);

#endif
