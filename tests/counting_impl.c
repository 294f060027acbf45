/* The implementation with the counting allocator of counting_alloc.h,
   compiled once per config for the tests that link it. */
#define COUNTING_ALLOC_DEFINE
#include "counting_alloc.h"
#define NN_IMPLEMENTATION
#include "../nn.h"
