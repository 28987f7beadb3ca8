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

#define GB_CANARY 0xA5

typedef struct gb {
    unsigned char *map;  /* whole mapping: guard page, data pages, guard page */
    size_t map_len;
    unsigned char *data; /* the buffer itself (n bytes) */
    size_t n;
    size_t data_pages_len;
} gb;

static size_t gb_page(void) {
    static size_t page;
    if (page == 0) page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

#ifdef GB_POOL
/* With GB_POOL defined (the fuzzer, which maps thousands of buffers a second), freed mappings of
 * up to GB_POOL_PAGES data pages are kept, PROT_NONE again, and reused for the same size: one
 * mprotect instead of mmap + mprotect + munmap, and no new page faults. Guard pages stay
 * PROT_NONE throughout; a reused buffer is refilled with GB_CANARY like a new one. */
#define GB_POOL_PAGES 40
#define GB_POOL_DEPTH 8
static struct { unsigned char *map[GB_POOL_DEPTH]; int n; } gb_pool[GB_POOL_PAGES + 1];
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
#ifdef GB_POOL
    if (data_pages <= GB_POOL_PAGES && gb_pool[data_pages].n > 0) b.map = gb_pool[data_pages].map[--gb_pool[data_pages].n];
#endif
    if (b.map == NULL) {
        void *m = mmap(NULL, b.map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) abort();
        b.map = (unsigned char *)m;
    }
    if (mprotect(b.map + page, b.data_pages_len, PROT_READ | PROT_WRITE) != 0) abort();
    memset(b.map + page, GB_CANARY, b.data_pages_len);
    b.data = end ? b.map + page + b.data_pages_len - n : b.map + page;
    return b;
}

static void gb_free(gb *b) {
    if (b->map) {
#ifdef GB_POOL
        size_t pages = b->data_pages_len / gb_page();
        if (pages <= GB_POOL_PAGES && gb_pool[pages].n < GB_POOL_DEPTH &&
            mprotect(b->map + gb_page(), b->data_pages_len, PROT_NONE) == 0) {
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
