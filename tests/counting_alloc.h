/* An NN_MALLOC/NN_FREE pair for tests, to include before nn.h: it counts
   allocations (t_calls) and blocks not yet freed (t_live), keeps the size
   of the largest block asked for (t_largest), and fails the call whose
   index is t_fail_at (-1: none).  The one file that defines
   COUNTING_ALLOC_DEFINE first holds them: tests/dropin_impl.c, the
   implementation the test programs link, or test_checks, which compiles
   its own to look inside the net. */
#ifndef NN_TEST_COUNTING_ALLOC_H
#define NN_TEST_COUNTING_ALLOC_H

#include <stdlib.h>

extern long t_live, t_calls, t_fail_at;
extern size_t t_largest;
void *t_malloc(size_t n);
void t_free(void *p);

#ifdef COUNTING_ALLOC_DEFINE
long t_live, t_calls, t_fail_at = -1;
size_t t_largest;

void *t_malloc(size_t n) {
    void *p;
    if (n > t_largest) t_largest = n;
    if (t_calls++ == t_fail_at) return NULL;
    p = malloc(n);
    if (p) t_live++;
    return p;
}

void t_free(void *p) {
    if (p) t_live--;
    free(p);
}
#endif

#define NN_MALLOC(n) t_malloc(n)
#define NN_FREE(p) t_free(p)

#endif
