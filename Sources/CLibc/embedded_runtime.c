/* The pieces of the Swift runtime that the Embedded build of the library needs and Embedded
 * Swift (6.3.1) does not provide as the normal runtime does. Compiled only by the Embedded
 * build, which defines RESONANCE_ROPE_EMBEDDED; in the SwiftPM build this file is empty (SwiftPM
 * also needs one source file in the CLibc target). All are hidden: the library exports only rr_*.
 *
 * _swift_stdlib_strtod_clocale: what Double(String) calls (the JSON reader and the GGUF metadata
 * text parser). Same contract as the runtime's (stdlib/public/stubs/Stubs.cpp): parse with
 * strtod in the C locale, whatever locale the host program set, store the value, return the end
 * of the parsed text (Double.init checks that it is the end of the string), NULL when it cannot
 * run. The caller has already rejected leading whitespace and empty text. The runtime also
 * turns "snan" into a signalling NaN; here strtod rejects it, and both builds then treat the text
 * the same way: every caller accepts only finite numbers. */
#if defined(RESONANCE_ROPE_EMBEDDED)
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/random.h>

__attribute__((visibility("hidden")))
const char *_swift_stdlib_strtod_clocale(const char *nptr, double *outResult) {
    /* newlocale once per process (a thread that loses the race frees its own copy). */
    static locale_t c_locale;
    locale_t loc = __atomic_load_n(&c_locale, __ATOMIC_ACQUIRE);
    if (loc == (locale_t)0) {
        loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (loc == (locale_t)0) return NULL;
        locale_t expected = (locale_t)0;
        if (!__atomic_compare_exchange_n(&c_locale, &expected, loc, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            freelocale(loc);
            loc = expected;
        }
    }
    char *end;
    *outResult = strtod_l(nptr, &end, loc);
    return end;
}

/* arc4random_buf: Embedded Swift seeds its Hasher (Set, Dictionary) with it, and glibc has it
 * only since 2.36; the normal runtime reads getrandom(2) (glibc 2.25). This one reads
 * getrandom too, so the library needs no newer glibc than the normal build (2.34, for
 * pthread_create). Where getrandom fails (kernel < 3.17) the seed is 0: hash order is then
 * predictable (a hash-flooding concern only), and nothing aborts. */
__attribute__((visibility("hidden")))
void arc4random_buf(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        p += got;
        n -= (size_t)got;
    }
    while (n > 0) { *p++ = 0; n--; }
}

#else
typedef int resonance_rope_clibc_translation_unit_is_not_empty;
#endif
