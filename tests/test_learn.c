/* End to end: the net learns XOR and a sine, and the same seed gives the
   same run, weight for weight. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <stdlib.h>

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

/* examples/sine.c's net and settings, measured between the training points */
static void check_sine(void) {
    enum { N = 64, NT = 200 };
    const double pi = 3.14159265358979323846;
    const size_t sizes[] = {1, 16, 1};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_LINEAR};
    nn_real x[N], y[N], xt[NT], yt[NT];
    double first = 0, mse = 1;
    nn_net *net = nn_create(2, sizes, acts, 7, NULL);
    for (int s = 0; s < N; s++) {
        x[s] = (nn_real)(-pi + 2 * pi * s / (double)(N - 1));
        y[s] = (nn_real)sin((double)x[s]);
    }
    for (int s = 0; s < NT; s++) {
        xt[s] = (nn_real)(-pi + 2 * pi * (s + 0.5) / (double)NT);
        yt[s] = (nn_real)sin((double)xt[s]);
    }
    for (int e = 0; e < 20000; e++) {
        nn_forward(net, x, N);
        nn_zero_grad(net);
        nn_backward(net, NN_LOSS_MSE, y, e == 0 ? &first : NULL);
        nn_sgd_step(net, NN_R(0.03));
    }
    nn_forward(net, xt, NT);
    nn_compute_loss(net, NN_LOSS_MSE, yt, &mse);
    CHECK(first > 0.1); /* it started far off ... */
    CHECK(mse < 0.005); /* ... and ended close, on unseen points */
    nn_destroy(net);
}

int main(void) {
    check_xor();
    check_same_run();
    check_sine();
    return th_report();
}
