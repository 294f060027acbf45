/* Drop-in, part 1 of 2: the one file that compiles the implementation.
   Including it a second time must be harmless.  It takes the counting
   allocator of counting_alloc.h (a caller's NN_MALLOC/NN_FREE), so that
   the one object each config compiles of it serves every test program
   that needs nothing but the API, counted or not. */
#define COUNTING_ALLOC_DEFINE
#include "counting_alloc.h"
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "../nn.h"
