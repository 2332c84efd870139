/*
 * sys.c — system calls and signals, as a user program sees the CPU through the kernel:
 * getpid by int $0x80 and through the vDSO, pipes, fork/wait, anonymous mmap with
 * munmap/mprotect and the SIGSEGV they cause (si_code, si_addr), SIGFPE from #DE,
 * SIGILL from ud2, SIGTRAP from int3, SIGSEGV from into, SIGBUS from an alignment
 * check, #GP/#UD from privileged, over-long and wrongly LOCKed instructions, POPF at
 * CPL 3, single-step traps, self-modifying code (also of the next instruction), a fetch
 * across into an unmapped page,
 * handlers that change the saved registers and return (sigreturn), x87/SSE
 * registers preserved across a handler, blocked signals, threads with locked
 * increments and futexes, clock monotonicity. Only deterministic facts are printed
 * (no PIDs, addresses that ASLR moves, or times).
 * CFLAGS: -O2 -march=i686 -msse -pthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "progs.h"

/* kept opaque so the compiler does not judge the deliberate bad accesses */
static volatile uintptr_t low_addr = 0x10;

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile uintptr_t got_addr, got_eip;

static void on_sig_jump(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = (uintptr_t)si->si_addr;
    got_eip = uc->uc_mcontext.gregs[REG_EIP];
    siglongjmp(jb, 1);
}

/* Resumes after the faulting instruction (its length in skip_len) with EAX changed. */
static volatile int skip_len;
static void on_sig_skip(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = (uintptr_t)si->si_addr;
    got_eip = uc->uc_mcontext.gregs[REG_EIP];
    uc->uc_mcontext.gregs[REG_EIP] += skip_len;
    uc->uc_mcontext.gregs[REG_EAX] = 0x600d;
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(sig, &sa, NULL);
}

static void syscalls(void)
{
    int a = getpid(), b, c = (int)syscall(SYS_getpid);
    __asm__ volatile("int $0x80" : "=a"(b) : "a"(SYS_getpid));
    printf("getpid: int80 %s, syscall() %s, getppid differs %s\n", a == b ? "same" : "DIFFERENT",
           a == c ? "same" : "DIFFERENT", getppid() != a ? "yes" : "no");
    int fd[2];
    printf("pipe: %d", pipe(fd));
    printf(" write %d", (int)write(fd[1], "hello, pipe", 11));
    struct pollfd pf = {fd[0], POLLIN, 0};
    printf(" poll %d revents %x", poll(&pf, 1, 0), pf.revents);
    char buf[32] = {0};
    printf(" read %d '%s'", (int)read(fd[0], buf, sizeof buf), buf);
    close(fd[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    int w = (int)write(fd[1], "x", 1);
    printf(" write to closed: %d errno %s\n", w, errno == EPIPE ? "EPIPE" : "other");
    close(fd[1]);
    /* bad pointer: EFAULT, not a signal */
    errno = 0;
    int r = (int)write(1, (const void *)low_addr, 4);
    printf("write from bad address: %d errno %s\n", r, errno == EFAULT ? "EFAULT" : "other");

    pid_t p = fork();
    if (p == 0) _exit(42);
    int st;
    waitpid(p, &st, 0);
    printf("fork/exit: exited %d status %d\n", WIFEXITED(st), WEXITSTATUS(st));
    p = fork();
    if (p == 0) {
        signal(SIGSEGV, SIG_DFL);
        *(volatile int *)(low_addr - 8) = 1;
        _exit(0);
    }
    waitpid(p, &st, 0);
    printf("fork/segv: signaled %d signal %d\n", WIFSIGNALED(st), WTERMSIG(st));

    char *brk0 = sbrk(0);
    char *brk1 = sbrk(8192);
    char *brk2 = sbrk(0);
    brk1[8191] = 1;
    printf("sbrk: returns old %s, grows by %d\n", brk0 == brk1 ? "yes" : "no", (int)(brk2 - brk1));
}

static void memory(void)
{
    char *const base = (char *)0x50000000;
    char *m = mmap(base, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mmap fixed: %s", m == base ? "ok" : "FAILED");
    uint32_t sum = 0;
    for (int i = 0; i < 4 * 4096; i++) sum += (uint8_t)m[i];
    for (int i = 0; i < 4 * 4096; i += 64) m[i] = (char)i;
    printf(" zero-filled %s", sum == 0 ? "yes" : "no");
    printf(" munmap %d mprotect %d\n", munmap(m + 4096, 4096), mprotect(m + 2 * 4096, 4096, PROT_READ));
    handle(SIGSEGV, on_sig_jump);
    static const int offs[] = {4096 + 123, 2 * 4096 + 64, 3 * 4096 + 4095, -1};
    for (int i = 0; offs[i] >= 0; i++) {
        got_sig = 0;
        if (sigsetjmp(jb, 1) == 0) *(volatile char *)(m + offs[i]) = 7;
        printf("store at base+%#x: signal %d si_code %d si_addr base+%#x\n", offs[i], got_sig,
               got_code, got_sig ? (unsigned)(got_addr - (uintptr_t)base) : 0u);
    }
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) (void)*(volatile char *)(m + 2 * 4096 + 64);
    printf("load from the read-only page: signal %d (value %d)\n", got_sig, m[2 * 4096 + 64]);
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) (void)*(volatile int *)low_addr;
    printf("load at 0x10: signal %d si_code %d si_addr %#x\n", got_sig, got_code, (unsigned)got_addr);
    /* a load crossing into the unmapped page reports the first byte not mapped */
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) (void)*(volatile uint32_t *)(m + 4096 - 2);
    printf("load across into the hole: signal %d si_addr base+%#x\n", got_sig,
           (unsigned)(got_addr - (uintptr_t)base));
    /* mremap moves/grows; the data comes along */
    char *g = mremap(m, 4096, 3 * 4096, MREMAP_MAYMOVE);
    printf("mremap: %s, data %d\n", g != MAP_FAILED ? "ok" : "FAILED", g != MAP_FAILED ? g[64] : -1);
    munmap(g, 3 * 4096);
    munmap(m + 2 * 4096, 2 * 4096);
    signal(SIGSEGV, SIG_DFL);
}

extern const char div_insn[], ud2_insn[], int3_after[], into_insn[], idiv_insn[];

static void faults(void)
{
    uint32_t eax;
    handle(SIGFPE, on_sig_skip);
    skip_len = 2; /* div %ecx */
    __asm__ volatile("xorl %%edx,%%edx\n\tmovl $1,%%eax\n\t"
                     ".globl div_insn\ndiv_insn: divl %%ecx" : "=a"(eax) : "c"(0) : "edx");
    printf("div by zero: signal %d si_code %d si_addr at insn %s, resumed eax %#x\n", got_sig,
           got_code, got_addr == (uintptr_t)div_insn ? "yes" : "no", eax);
    skip_len = 2; /* idiv %ecx */
    __asm__ volatile("movl $-1,%%edx\n\tmovl $0x80000000,%%eax\n\t"
                     ".globl idiv_insn\nidiv_insn: idivl %%ecx" : "=a"(eax) : "c"(-1) : "edx");
    printf("idiv overflow: signal %d si_code %d si_addr at insn %s, resumed eax %#x\n", got_sig,
           got_code, got_addr == (uintptr_t)idiv_insn ? "yes" : "no", eax);
    handle(SIGILL, on_sig_skip);
    skip_len = 2;
    __asm__ volatile("movl $1,%%eax\n\t.globl ud2_insn\nud2_insn: ud2" : "=a"(eax));
    printf("ud2: signal %d si_code %d si_addr at insn %s, resumed eax %#x\n", got_sig, got_code,
           got_addr == (uintptr_t)ud2_insn ? "yes" : "no", eax);
    handle(SIGTRAP, on_sig_skip);
    skip_len = 0;
    __asm__ volatile("movl $1,%%eax\n\tint3\n\t.globl int3_after\nint3_after: nop" : "=a"(eax));
    printf("int3: signal %d si_code %d eip after insn %s, resumed eax %#x\n", got_sig, got_code,
           got_eip == (uintptr_t)int3_after ? "yes" : "no", eax);
    handle(SIGSEGV, on_sig_skip);
    skip_len = 0; /* #OF is a trap: EIP is already past INTO */
    got_sig = 0;
    __asm__ volatile("movl $0x7fffffff,%%eax\n\taddl $1,%%eax\n\tmovl $1,%%eax\n\t"
                     ".globl into_insn\ninto_insn: .byte 0xce" : "=a"(eax) : : "cc");
    printf("into with OF: signal %d eip after insn %s, resumed eax %#x\n", got_sig,
           got_eip == (uintptr_t)into_insn + 1 ? "yes" : "no", eax);
    got_sig = 0;
    __asm__ volatile("movl $0x7ffffffe,%%eax\n\taddl $1,%%eax\n\t.byte 0xce\n\tmovl $2,%%eax"
                     : "=a"(eax) : : "cc");
    printf("into without OF: signal %d eax %#x\n", got_sig, eax);
    /* EFLAGS.AC with CR0.AM (Linux sets it): a misaligned load at CPL 3 is #AC */
    handle(SIGBUS, on_sig_jump);
    got_sig = 0;
    static uint32_t words[4];
    uint32_t acflag;
    __asm__ volatile("pushfl\n\torl $0x40000,(%%esp)\n\tpopfl\n\tpushfl\n\tpopl %0\n\t"
                     "pushfl\n\tandl $~0x40000,(%%esp)\n\tpopfl"
                     : "=r"(acflag) : : "cc");
    printf("EFLAGS.AC can be set: %s\n", acflag & 0x40000 ? "yes" : "no");
    /* a misaligned load at CPL 3 with CR0.AM (Linux sets it) and EFLAGS.AC: #AC, which
     * Linux turns into SIGBUS/BUS_ADRALN */
    if (sigsetjmp(jb, 1) == 0)
        __asm__ volatile("pushfl\n\torl $0x40000,(%%esp)\n\tpopfl\n\t"
                         "movl 1(%0),%%eax\n\t"
                         "pushfl\n\tandl $~0x40000,(%%esp)\n\tpopfl"
                         : : "r"(words) : "eax", "cc", "memory");
    __asm__ volatile("pushfl\n\tandl $~0x40000,(%%esp)\n\tpopfl" : : : "cc");
    printf("alignment check: signal %d si_code %d\n", got_sig, got_code);
    signal(SIGFPE, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    signal(SIGTRAP, SIG_DFL);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
}

/* Single-step: counts the traps and clears TF in the saved EFLAGS after the first. */
static volatile int traps;
static void on_trace(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    got_sig = sig;
    got_code = si->si_code;
    got_eip = uc->uc_mcontext.gregs[REG_EIP];
    traps++;
    uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;
}

extern const char tf_after[];

static void cpu_from_user_mode(void)
{
    /* privileged or forbidden at CPL 3 (IOPL 0): #GP, SIGSEGV with si_code SI_KERNEL */
    handle(SIGSEGV, on_sig_skip);
    static const struct { const char *what; int len; } priv[] = {
        {"hlt", 1}, {"cli", 1}, {"inb $0x80", 2}, {"mov %cr0,%eax", 3}, {"int $0x41", 2},
        {"16-byte instruction", 16}, {"bound out of range", 2}, {"mov 0xfff8 to %ds", 2},
    };
    for (unsigned i = 0; i < sizeof priv / sizeof priv[0]; i++) {
        uint32_t eax = 0, bounds[2] = {0, 10};
        got_sig = 0;
        got_code = 0;
        skip_len = priv[i].len;
        switch (i) {
        case 0: __asm__ volatile("hlt" : "+a"(eax)); break;
        case 1: __asm__ volatile("cli" : "+a"(eax)); break;
        case 2: __asm__ volatile("inb $0x80,%%al" : "+a"(eax)); break;
        case 3: __asm__ volatile(".byte 0x0f,0x20,0xc0" : "+a"(eax)); break;
        case 4: __asm__ volatile("int $0x41" : "+a"(eax)); break;
        case 5: __asm__ volatile(".fill 15,1,0x3e\n\tnop" : "+a"(eax)); break;
        case 6: eax = 20; __asm__ volatile("bound %%eax,(%1)" : "+a"(eax) : "c"(bounds) : "memory"); break;
        default: __asm__ volatile("pushl %%ds\n\tmovl $0xfff8,%%edx\n\tmovw %%dx,%%ds\n\tpopl %%ds"
                                  : "+a"(eax) : : "edx"); break;
        }
        printf("%s: signal %d si_code %d eax %#x\n", priv[i].what, got_sig, got_code, eax);
    }
    uint32_t eax = 0;
    __asm__ volatile(".fill 14,1,0x3e\n\tmovl $5,%%eax" : "=a"(eax));
    printf("15-byte instruction runs: eax %u\n", eax);
    signal(SIGSEGV, SIG_DFL);
    /* LOCK where it is not allowed: #UD */
    handle(SIGILL, on_sig_skip);
    static const struct { const char *what; int len; } ud[] = {
        {"lock nop", 2}, {"lock add reg,reg", 3}, {"lock mov to mem", 3}, {"cmpxchg8b reg", 3}, {"ud0", 3},
    };
    for (unsigned i = 0; i < sizeof ud / sizeof ud[0]; i++) {
        static uint32_t cell;
        eax = 0;
        got_sig = 0;
        got_code = 0;
        skip_len = ud[i].len;
        switch (i) {
        case 0: __asm__ volatile(".byte 0xf0,0x90" : "+a"(eax)); break;
        case 1: __asm__ volatile(".byte 0xf0,0x01,0xc3" : "+a"(eax) : : "ebx"); break;
        case 2: __asm__ volatile(".byte 0xf0,0x89,0x01" : "+a"(eax) : "c"(&cell) : "memory"); break;
        case 3: __asm__ volatile(".byte 0x0f,0xc7,0xc8" : "+a"(eax) : : "edx", "ecx", "ebx"); break;
        default: __asm__ volatile(".byte 0x0f,0xff,0xc0" : "+a"(eax)); break;
        }
        printf("%s: signal %d si_code %d eax %#x\n", ud[i].what, got_sig, got_code, eax);
    }
    signal(SIGILL, SIG_DFL);
    /* POPF at CPL 3: IF and IOPL silently kept; AC and ID toggle */
    uint32_t f0, f1;
    __asm__ volatile("pushfl\n\tpopl %0\n\tpushfl\n\tandl $~0x200,(%%esp)\n\torl $0x3000,(%%esp)\n\t"
                     "xorl $0x200000,(%%esp)\n\tpopfl\n\tpushfl\n\tpopl %1\n\tpushl %0\n\tpopfl"
                     : "=&r"(f0), "=&r"(f1) : : "cc");
    printf("popf: IF %s, IOPL %u, ID toggled %s\n", f1 & 0x200 ? "kept" : "CLEARED", (f1 >> 12) & 3,
           (f0 ^ f1) & 0x200000 ? "yes" : "no");
    /* TF: the trap comes after the instruction following the POPF that set it */
    handle(SIGTRAP, on_trace);
    traps = 0;
    __asm__ volatile("pushfl\n\torl $0x100,(%%esp)\n\tpopfl\n\tnop\n\t.globl tf_after\ntf_after: nop\n\tnop"
                     : : : "cc");
    printf("single step: %d trap(s), signal %d si_code %d, after the first nop %s\n", traps,
           got_sig, got_code, got_eip == (uintptr_t)tf_after ? "yes" : "no");
    signal(SIGTRAP, SIG_DFL);
}

/* Code written at run time, then changed: also the very next instruction. */
static void self_modifying(void)
{
    uint8_t *const page = (uint8_t *)0x51000000;
    uint8_t *p = mmap(page, 2 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p != page) {
        printf("smc: mmap failed\n");
        return;
    }
    static const uint8_t ret1[] = {0xb8, 0x01, 0, 0, 0, 0xc3}; /* mov $1,%eax; ret */
    memcpy(p, ret1, sizeof ret1);
    int (*fn)(void) = (int (*)(void))p;
    int a = fn();
    p[1] = 2;
    int b = fn();
    /* movb $7, imm(next); next: mov $0,%eax; ret */
    uint8_t *q = p + 64;
    uint32_t imm = (uint32_t)(uintptr_t)(q + 8);
    uint8_t seq[] = {0xc6, 0x05, 0, 0, 0, 0, 0x07, 0xb8, 0, 0, 0, 0, 0xc3};
    memcpy(seq + 2, &imm, 4);
    memcpy(q, seq, sizeof seq);
    int c = ((int (*)(void))q)();
    int d = ((int (*)(void))q)(); /* now the stored 7 is already there */
    printf("smc: %d %d, next instruction patched: %d %d\n", a, b, c, d);
    /* an instruction fetch that crosses into an unmapped page */
    munmap(page + 4096, 4096);
    page[4094] = 0xb8;
    page[4095] = 0x01;
    handle(SIGSEGV, on_sig_jump);
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) ((void (*)(void))(page + 4094))();
    printf("fetch across into a hole: signal %d si_code %d si_addr page+%#x eip page+%#x\n", got_sig,
           got_code, (unsigned)(got_addr - (uintptr_t)page), (unsigned)(got_eip - (uintptr_t)page));
    signal(SIGSEGV, SIG_DFL);
    munmap(page, 4096);
}

/* A handler that clobbers xmm7 and st(0): the interrupted code must not see it. */
static volatile int usr1_count;
static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
    __asm__ volatile("pxor %%xmm7,%%xmm7\n\tfninit\n\tfldz\n\tfldz" : : : "xmm7");
}

static void state_across_signals(void)
{
    signal(SIGUSR1, on_usr1);
    static const uint32_t pat[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
    uint32_t out[4];
    double st0;
    int pid = getpid();
    __asm__ volatile("movups %2,%%xmm7\n\tfninit\n\tfldpi\n\t"
                     "movl %3,%%ebx\n\tmovl $10,%%ecx\n\tmovl %4,%%eax\n\tint $0x80\n\t"
                     "movups %%xmm7,%0\n\tfstpl %1"
                     : "=m"(out), "=m"(st0)
                     : "m"(pat), "r"(pid), "i"(SYS_kill)
                     : "eax", "ebx", "ecx", "xmm7", "memory");
    printf("across a handler (%d run): xmm7 %08x %08x %08x %08x, st0 %s\n", usr1_count, out[0],
           out[1], out[2], out[3], st0 == 3.14159265358979323846 ? "pi" : "CHANGED");
    /* blocked: pending until unblocked */
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR1);
    sigpending(&pend);
    int before = usr1_count;
    printf("blocked: pending %d, ran %d", sigismember(&pend, SIGUSR1), usr1_count - before);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf(", after unblock ran %d\n", usr1_count - before);
    signal(SIGUSR1, SIG_DFL);
}

static volatile uint32_t counter;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t plain;
static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) __asm__ volatile("lock incl %0" : "+m"(counter));
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&mu);
        plain++;
        pthread_mutex_unlock(&mu);
        if (i % 50 == 0) sched_yield();
    }
    return NULL;
}

static void threads(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    printf("threads: locked increments %u, mutex increments %u\n", counter, plain);
}

static void clocks(void)
{
    struct timeval a, b;
    struct timespec c, d;
    int back = 0;
    gettimeofday(&a, NULL);
    clock_gettime(CLOCK_MONOTONIC, &c);
    for (int i = 0; i < 2000; i++) {
        gettimeofday(&b, NULL);
        clock_gettime(CLOCK_MONOTONIC, &d);
        if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_usec < a.tv_usec)) back++;
        if (d.tv_sec < c.tv_sec || (d.tv_sec == c.tv_sec && d.tv_nsec < c.tv_nsec)) back++;
        a = b;
        c = d;
    }
    struct timespec s0, s1, req = {0, 20000000};
    clock_gettime(CLOCK_MONOTONIC, &s0);
    nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &s1);
    long long ns = (s1.tv_sec - s0.tv_sec) * 1000000000ll + (s1.tv_nsec - s0.tv_nsec);
    printf("clocks: went backwards %d times, 20 ms sleep took at least 20 ms: %s\n", back,
           ns >= 20000000 ? "yes" : "no");
}

int main(void)
{
    progs_init();
    syscalls();
    memory();
    faults();
    cpu_from_user_mode();
    self_modifying();
    state_across_signals();
    threads();
    clocks();
    printf("sys done\n");
    return 0;
}
