/* disas.c — placeholder until the Capstone-backed disassembler lands (being written). */
#include "cpu/disas.h"
#include <stdio.h>
int disas_insn(const uint8_t *bytes, unsigned len, uint32_t addr, bool code32, char *out,
               size_t outlen)
{
    (void)bytes; (void)len; (void)addr; (void)code32;
    snprintf(out, outlen, "?");
    return 0;
}
