/*
 * progs.h — shared helpers of the guest test programs (the .c files beside it). Each
 * program is built with `gcc -m32 -static` and run twice, natively on the host and as
 * a user process inside the emulated machine; tests/test_guestprogs.cc compares the two
 * outputs byte for byte. So everything printed must be a pure function of the CPU's
 * architecturally defined behaviour: no addresses (ASLR), times, PIDs or CPUID strings,
 * and flags the manuals leave undefined are masked off before printing.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* EFLAGS bits */
#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define ARITH (CF | PF | AF | ZF | SF | OF)

/* x87 status word condition codes */
#define C0 0x0100u
#define C1 0x0200u
#define C2 0x0400u
#define C3 0x4000u

/* Line-buffered output even into a pipe, so a crash still shows what ran before it. */
static inline void progs_init(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

static inline void hex_bytes(const char *name, const void *p, int n)
{
    const uint8_t *b = (const uint8_t *)p;
    printf("%s:", name);
    /* most significant byte first, as the value reads */
    for (int i = n - 1; i >= 0; i--) printf("%s%02x", (i % 4 == 3 && i != n - 1) ? "_" : "", b[i]);
    printf("\n");
}
