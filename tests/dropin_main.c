/* Drop-in, part 2 of 2: a file that uses nn.h through its declarations
   only, linked with dropin_impl.c into one program.  It also includes the
   header twice, which must be harmless. */
#include "../nn.h"
#include "../nn.h"
#include "harness.h"

int main(void) {
    const size_t sizes[] = {2, 3, 1};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_LINEAR};
    const nn_real x[] = {1, 2};
    nn_net *net = nn_create(2, sizes, acts, 1, NULL);
    CHECK(net != NULL);
    CHECK(nn_param_count(net) == 13);
    CHECK(nn_forward(net, x, 1) != NULL);
    nn_destroy(net);
    return th_report();
}
