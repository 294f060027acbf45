/* An NN_MALLOC/NN_FREE pair for tests, to include before nn.h: it counts
   allocations (t_calls) and blocks not yet freed (t_live), and fails the
   call whose index is t_fail_at (-1: none). */
#ifndef NN_TEST_COUNTING_ALLOC_H
#define NN_TEST_COUNTING_ALLOC_H

#include <stdlib.h>

static long t_live, t_calls, t_fail_at = -1;

static void *t_malloc(size_t n) {
    void *p;
    if (t_calls++ == t_fail_at) return NULL;
    p = malloc(n);
    if (p) t_live++;
    return p;
}

static void t_free(void *p) {
    if (p) t_live--;
    free(p);
}

#define NN_MALLOC(n) t_malloc(n)
#define NN_FREE(p) t_free(p)

#endif
