/* Drop-in, part 1 of 2: the one file that compiles the implementation. */
#define NN_IMPLEMENTATION
#include "../nn.h"
