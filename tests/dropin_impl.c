/* Drop-in, part 1 of 2: the one file that compiles the implementation.
   Including it a second time must be harmless. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "../nn.h"
