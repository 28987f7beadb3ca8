/* See include/clibc.h (rr_thread_create). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include "clibc.h"

int rr_thread_create(pthread_t *thread, void *(*start)(void *), void *arg) {
#if defined(__GLIBC__)
    cpu_set_t allowed;
    const int here = sched_getcpu();
    if (here >= 0 && here < CPU_SETSIZE && sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
        CPU_ISSET(here, &allowed) && CPU_COUNT(&allowed) > 1) {
        CPU_CLR(here, &allowed);
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) == 0) {
            int rc = pthread_attr_setaffinity_np(&attr, sizeof allowed, &allowed);
            if (rc == 0) rc = pthread_create(thread, &attr, start, arg);
            pthread_attr_destroy(&attr);
            if (rc == 0) return 0;
            /* fall through: a plain thread (also when the affinity was refused) */
        }
    }
#endif
    return pthread_create(thread, NULL, start, arg);
}
