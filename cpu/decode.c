/* decode.c — placeholder until the table-driven decoder lands (being written). */
#include "cpu/insn.h"
#include <string.h>
int decode(Insn *in, const uint8_t *bytes, unsigned avail, bool code32)
{
    (void)bytes; (void)code32;
    memset(in, 0, sizeof(*in));
    if (!avail) return DECODE_MORE;
    in->mnem = M_UD; in->len = 1;
    return DECODE_OK;
}
