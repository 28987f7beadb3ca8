/* Guard-page-bounded buffers for the hostile-input tests, the fuzzer and the thread test.
 *
 * gb_alloc(n, end) maps the buffer between two PROT_NONE pages. With end != 0 the last byte of
 * the buffer is the last byte before the trailing guard page (any write one byte past the end
 * faults); with end == 0 the first byte is the first byte after the leading guard page (any write
 * one byte before the start faults). The slack between the data and the other guard page is
 * filled with GB_CANARY and checked by gb_slack_intact(), so a stray write there is caught too.
 * Needs _DEFAULT_SOURCE (mmap); header-only so each test stays one translation unit. */
#ifndef RR_GUARDED_BUFFER_H
#define RR_GUARDED_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef GB_POOL
#include <sys/syscall.h>
#endif

#define GB_CANARY 0xA5

typedef struct gb {
    unsigned char *map;  /* whole mapping: guard page, data pages, guard page */
    size_t map_len;
    unsigned char *data; /* the buffer itself (n bytes) */
    size_t n;
    size_t data_pages_len;
    int readonly;        /* the data pages are PROT_READ (gb_make_readonly) */
    unsigned char *alias; /* GB_POOL read-only copies: a writable view of the same data pages */
} gb;

static size_t gb_page(void) {
    static size_t page;
    if (page == 0) page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

#ifdef GB_POOL
/* With GB_POOL defined (the fuzzer, which maps thousands of buffers a second), freed mappings of
 * up to GB_POOL_PAGES data pages are kept and reused for the same size, with their data pages
 * left as they were (read-write, or read-only after gb_make_readonly): a reused read-write
 * buffer costs no system call at all, a read-only one two mprotect calls (back to read-write for
 * the fill, then read-only), instead of mmap + mprotect + munmap and new page faults (mprotect
 * was 22 % of the fuzzer's time when freed buffers went back to PROT_NONE). Guard pages stay
 * PROT_NONE throughout; a reused buffer is refilled with GB_CANARY like a new one. What this
 * gives up: a pooled buffer's pages stay accessible until reuse, so a library that kept a
 * caller's pointer past its return and wrote later would not fault there; the library keeps no
 * caller pointer (threads are joined inside each call), and ASan covers its own memory. */
#define GB_POOL_PAGES 40
#define GB_POOL_DEPTH 8
static struct { unsigned char *map[GB_POOL_DEPTH]; int readonly[GB_POOL_DEPTH]; int n; } gb_pool[GB_POOL_PAGES + 1];
/* Read-only copies (gb_readonly_copy_at) come from their own pool, with no mprotect at all: the
 * data pages are a memfd mapped twice, PROT_READ between the guard pages (what the library gets)
 * and read-write elsewhere (`alias`, where the harness writes the copy). mprotect of the data
 * pages of every read-only input (back to read-write for the fill, then read-only) was 12 % of
 * the fuzzer's time. */
static struct { unsigned char *map[GB_POOL_DEPTH], *alias[GB_POOL_DEPTH]; int n; } gb_ro_pool[GB_POOL_PAGES + 1];
#endif

/* Maps n bytes (n may be 0) between guard pages; aborts the test on mmap failure. The buffer
 * is filled with GB_CANARY. Alignment: end-placed buffers are aligned to the largest power of
 * two dividing n (up to the page); start-placed ones to the page. */
static gb gb_alloc(size_t n, int end) {
    gb b;
    size_t page = gb_page();
    size_t data_pages = (n + page - 1) / page;
    if (data_pages == 0) data_pages = 1;
    b.n = n;
    b.data_pages_len = data_pages * page;
    b.map_len = b.data_pages_len + 2 * page;
    b.map = NULL;
    b.readonly = 0;
    b.alias = NULL;
    {
        int writable = 0;
#ifdef GB_POOL
        if (data_pages <= GB_POOL_PAGES && gb_pool[data_pages].n > 0) {
            int i = --gb_pool[data_pages].n;
            b.map = gb_pool[data_pages].map[i];
            writable = !gb_pool[data_pages].readonly[i];
        }
#endif
        if (b.map == NULL) {
            void *m = mmap(NULL, b.map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) abort();
            b.map = (unsigned char *)m;
        }
        if (!writable && mprotect(b.map + page, b.data_pages_len, PROT_READ | PROT_WRITE) != 0) abort();
    }
    memset(b.map + page, GB_CANARY, b.data_pages_len);
    b.data = end ? b.map + page + b.data_pages_len - n : b.map + page;
    return b;
}

/* Makes the data pages read-only (inputs the library must not write); aborts on failure. */
static inline void gb_make_readonly(gb *b) {
    if (mprotect(b->map + gb_page(), b->data_pages_len, PROT_READ) != 0) abort();
    b->readonly = 1;
}

/* A read-only, end-placed buffer of `n` bytes holding `len` bytes of `src` at byte `offset`
 * (offset + len <= n), the rest GB_CANARY: the library may read it but any write faults, and so
 * does any read past its end. Aborts the test on failure. */
static inline gb gb_readonly_copy_at(const void *src, size_t len, size_t offset, size_t n) {
    gb b;
#ifdef GB_POOL
    size_t page = gb_page(), data_pages = (n + page - 1) / page;
    if (data_pages == 0) data_pages = 1;
    if (data_pages <= GB_POOL_PAGES) {
        b.n = n;
        b.data_pages_len = data_pages * page;
        b.map_len = b.data_pages_len + 2 * page;
        b.readonly = 1;
        if (gb_ro_pool[data_pages].n > 0) {
            int i = --gb_ro_pool[data_pages].n;
            b.map = gb_ro_pool[data_pages].map[i];
            b.alias = gb_ro_pool[data_pages].alias[i];
        } else {
            void *m = mmap(NULL, b.map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            int fd = (int)syscall(SYS_memfd_create, "gb", 0);
            if (m == MAP_FAILED || fd < 0 || ftruncate(fd, (off_t)b.data_pages_len) != 0) abort();
            b.map = (unsigned char *)m;
            if (mmap(b.map + page, b.data_pages_len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) abort();
            m = mmap(NULL, b.data_pages_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (m == MAP_FAILED) abort();
            b.alias = (unsigned char *)m;
            close(fd);
        }
        memset(b.alias, GB_CANARY, b.data_pages_len);
        if (len) memcpy(b.alias + (b.data_pages_len - n) + offset, src, len);
        b.data = b.map + page + b.data_pages_len - n;
        return b;
    }
#endif
    b = gb_alloc(n, 1);
    if (len) memcpy(b.data + offset, src, len);
    gb_make_readonly(&b);
    return b;
}

/* gb_readonly_copy_at(src, n, 0, n). */
static inline gb gb_readonly_copy(const void *src, size_t n) { return gb_readonly_copy_at(src, n, 0, n); }

static void gb_free(gb *b) {
    if (b->map) {
#ifdef GB_POOL
        size_t pages = b->data_pages_len / gb_page();
        if (b->alias) {  /* a pooled read-only copy */
            if (gb_ro_pool[pages].n < GB_POOL_DEPTH) {
                gb_ro_pool[pages].alias[gb_ro_pool[pages].n] = b->alias;
                gb_ro_pool[pages].map[gb_ro_pool[pages].n++] = b->map;
            } else {
                munmap(b->alias, b->data_pages_len);
                munmap(b->map, b->map_len);
            }
        } else if (pages <= GB_POOL_PAGES && gb_pool[pages].n < GB_POOL_DEPTH) {
            gb_pool[pages].readonly[gb_pool[pages].n] = b->readonly;
            gb_pool[pages].map[gb_pool[pages].n++] = b->map;
        } else
#endif
            munmap(b->map, b->map_len);
    }
    b->map = NULL;
    b->data = NULL;
}

/* [p, p + n) holds only `byte`: p[0] == byte and every byte equals the next (one memcmp of the
 * range against itself shifted by one; a byte loop cost the fuzzer a coverage callback per byte). */
static int gb_all_bytes(const unsigned char *p, size_t n, unsigned char byte) {
    return n == 0 || (p[0] == byte && memcmp(p, p + 1, n - 1) == 0);
}

/* Bytes of the data pages outside [data, data + n) are still GB_CANARY. */
static int gb_slack_intact(const gb *b) {
    const unsigned char *lo = b->map + gb_page(), *hi = lo + b->data_pages_len;
    return gb_all_bytes(lo, (size_t)(b->data - lo), GB_CANARY) && gb_all_bytes(b->data + b->n, (size_t)(hi - (b->data + b->n)), GB_CANARY);
}

#endif /* RR_GUARDED_BUFFER_H */
