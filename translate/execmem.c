/*
 * execmem.c — memory for host code, W^X by toggling protections.
 *
 * A region is mapped read-write, filled, then mprotect()ed to read+execute; it is never
 * writable and executable at once. We chose toggling over a dual (memfd) mapping because
 * it needs no file descriptor and works where memfd/shared exec mappings are refused;
 * the cost is one mprotect per batch of writes, which the code cache can amortise by
 * sealing a whole chunk after translating into it. x86 keeps the instruction cache
 * coherent, so no cache flush is needed after writing code.
 */
#include "translate/emit.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_round(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (size + page - 1) & ~(page - 1);
}

void *exec_alloc(size_t size)
{
    if (size == 0)
        return NULL;
    void *p = mmap(NULL, page_round(size), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool exec_seal(void *p, size_t size)
{
    return mprotect(p, page_round(size), PROT_READ | PROT_EXEC) == 0;
}

bool exec_unseal(void *p, size_t size)
{
    return mprotect(p, page_round(size), PROT_READ | PROT_WRITE) == 0;
}

void *exec_alloc_code(const void *code, size_t len)
{
    void *p = exec_alloc(len);
    if (!p)
        return NULL;
    memcpy(p, code, len);
    if (!exec_seal(p, len)) {
        exec_free(p, len);
        return NULL;
    }
    return p;
}

void exec_free(void *p, size_t size)
{
    if (p)
        munmap(p, page_round(size));
}
