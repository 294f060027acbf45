/* NN_STATIC, part 2 of 2: see static_a.c. */
#define NN_STATIC
#define NN_IMPLEMENTATION
#include "../nn.h"

size_t static_b_param_count(void);

size_t static_b_param_count(void) {
    const size_t sizes[] = {4, 5, 2};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = nn_create(2, sizes, acts, 1, NULL);
    size_t n = net ? nn_param_count(net) : 0;
    nn_destroy(net);
    return n;
}
