/*
 * disas.c — guest disassembly through Capstone for logs and the monitor. A handle is
 * opened and closed per call so that nothing global is kept (logging is not a hot path).
 */
#include "cpu/disas.h"

#include <capstone/capstone.h>
#include <stdio.h>

int disas_insn(const uint8_t *bytes, unsigned len, uint32_t addr, bool code32, char *out,
               size_t outlen)
{
    csh h;
    cs_insn *insn = NULL;
    int n = 0;
    if (outlen) out[0] = 0;
    if (cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &h) != CS_ERR_OK) {
        snprintf(out, outlen, "(bad)");
        return 0;
    }
    if (cs_disasm(h, bytes, len, addr, 1, &insn) == 1) {
        if (insn->op_str[0])
            snprintf(out, outlen, "%s %s", insn->mnemonic, insn->op_str);
        else
            snprintf(out, outlen, "%s", insn->mnemonic);
        n = insn->size;
        cs_free(insn, 1);
    } else {
        snprintf(out, outlen, "(bad)");
    }
    cs_close(&h);
    return n;
}

void disas_host(const uint8_t *code, size_t len, uint64_t addr, FILE *f)
{
    csh h;
    cs_insn *insn = NULL;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return;
    size_t n = cs_disasm(h, code, len, addr, 0, &insn);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %016llx  %s %s\n", (unsigned long long)insn[i].address, insn[i].mnemonic,
                insn[i].op_str);
    if (n) cs_free(insn, n);
    cs_close(&h);
}
