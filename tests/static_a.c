/* NN_STATIC, part 1 of 2: this file and static_b.c each compile a private
   copy of the implementation into one program; the link must not clash,
   and the copies must agree. */
#define NN_STATIC
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

size_t static_b_param_count(void); /* from static_b.c */

int main(void) {
    const size_t sizes[] = {4, 5, 2};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = nn_create(2, sizes, acts, 1, NULL);
    CHECK(net != NULL);
    CHECK(nn_param_count(net) == static_b_param_count());
    nn_destroy(net);
    return th_report();
}
