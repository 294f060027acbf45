/* End to end: the net learns XOR, and the same seed gives the same run,
   weight for weight.  (The sine, a regression, is examples/sine.c, which
   tests/examples.sh checks.) */
#include "../nn.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static const nn_real xor_x[] = {0, 0, 0, 1, 1, 0, 1, 1}, xor_y[] = {0, 1, 1, 0};

/* examples/xor.c's net and settings */
static nn_net *train_xor(uint64_t seed, int epochs) {
    const size_t sizes[] = {2, 4, 1};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SIGMOID};
    nn_net *net = nn_create(2, sizes, acts, seed, NULL);
    for (int e = 0; e < epochs; e++) {
        nn_forward(net, xor_x, 4);
        nn_zero_grad(net);
        nn_backward(net, NN_LOSS_BINARY_CROSS_ENTROPY, xor_y, NULL);
        nn_sgd_step(net, NN_R(0.5));
    }
    return net;
}

static void check_xor(void) {
    nn_net *net = train_xor(42, 1000);
    const nn_real *p = nn_forward(net, xor_x, 4);
    int right = 0;
    double loss = 1;
    for (int s = 0; s < 4; s++) right += (p[s] > NN_R(0.5)) == (xor_y[s] > NN_R(0.5));
    CHECK(right == 4);
    nn_compute_loss(net, NN_LOSS_BINARY_CROSS_ENTROPY, xor_y, &loss);
    CHECK(loss < 0.01);
    nn_destroy(net);
}

/* the same seed twice: bit-identical weights after training; another seed
   a different net */
static void check_same_run(void) {
    nn_net *a = train_xor(7, 300), *b = train_xor(7, 300), *c = train_xor(8, 300);
    const size_t n = nn_param_count(a) * sizeof(nn_real);
    CHECK(memcmp(nn_params(a), nn_params(b), n) == 0);
    CHECK(memcmp(nn_params(a), nn_params(c), n) != 0);
    nn_destroy(a);
    nn_destroy(b);
    nn_destroy(c);
}

int main(void) {
    check_xor();
    check_same_run();
    return th_report();
}
