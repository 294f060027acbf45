/* Threads (built with -fopenmp): the products, nn_step and nn_zero_grad
   split their work across threads, each thread writing its own part, so
   the results must not depend on the number of threads, bit for bit.  The
   shapes are big enough to take the threaded paths (more than NN__PAR_MIN
   multiply-adds, more than NN__PAR_PARAMS parameters) and are not
   multiples of any tile. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <stdlib.h>

#ifndef _OPENMP
#error "build this test with -fopenmp"
#endif

static void fill(nn_real *p, size_t n, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t k = 0; k < n; k++) p[k] = (nn_real)(2.0 * nn_rng_uniform(&rng) - 1.0);
}

/* the three kernels on one shape with `threads` threads, into out (z, then
   dW and db from a fixed start, then dx) */
static void kernels(nn_real *out, size_t B, size_t n_in, size_t n_out, int threads) {
    nn_real *x = (nn_real *)malloc(B * n_in * sizeof *x);
    nn_real *W = (nn_real *)malloc(n_out * n_in * sizeof *W);
    nn_real *b = (nn_real *)malloc(n_out * sizeof *b);
    nn_real *dz = (nn_real *)malloc(B * n_out * sizeof *dz);
    nn_real *z = out, *dW = z + B * n_out, *db = dW + n_out * n_in, *dx = db + n_out;
    fill(x, B * n_in, 1);
    fill(W, n_out * n_in, 2);
    fill(b, n_out, 3);
    fill(dz, B * n_out, 4);
    fill(dW, n_out * n_in, 5);
    fill(db, n_out, 6);
    omp_set_num_threads(threads);
    nn__dense_forward(z, x, W, b, B, n_in, n_out);
    nn__dense_backward_params(dW, db, dz, x, B, n_in, n_out);
    nn__dense_backward_input(dx, dz, W, B, n_in, n_out);
    free(x);
    free(W);
    free(b);
    free(dz);
}

static void check_kernels(size_t B, size_t n_in, size_t n_out) {
    const size_t n = B * n_out + n_out * n_in + n_out + B * n_in;
    nn_real *one = (nn_real *)malloc(n * sizeof *one);
    CHECK((double)B * (double)n_in * (double)n_out >= NN__PAR_MIN);
    kernels(one, B, n_in, n_out, 1);
    for (int threads = 2; threads <= 3; threads++) {
        nn_real *many = (nn_real *)malloc(n * sizeof *many);
        kernels(many, B, n_in, n_out, threads);
        CHECK(memcmp(one, many, n * sizeof *one) == 0);
        free(many);
    }
    free(one);
}

/* two epochs of mini-batch SGD, and two of Adam, through nn_train; under
   an emulator one epoch of two batches (the threaded paths are the same,
   and its floating point is software, many times slower) */
static nn_net *trained(int threads, nn_opt opt) {
    enum { N = 200, IN = 300, OUT = 10 };
    const size_t n = th_emulated() ? 100 : N;
    const size_t sizes[] = {IN, 250, OUT};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    static nn_real x[N * IN], y[N * OUT];
    nn_net *net = nn_create(2, sizes, acts, 9, NULL);
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    fill(x, N * IN, 7);
    memset(y, 0, sizeof y);
    for (size_t s = 0; s < N; s++) y[s * OUT + s % OUT] = 1;
    cfg.opt = opt;
    cfg.batch_size = 50;
    cfg.epochs = th_emulated() ? 1 : 2;
    omp_set_num_threads(threads);
    CHECK(net && net->n_params >= NN__PAR_PARAMS);
    CHECK(nn_train(net, &cfg, x, y, n, NULL) == NN_OK);
    return net;
}

static void check_training(nn_opt opt) {
    nn_net *one = trained(1, opt);
    for (int threads = 2; threads <= 3; threads++) {
        nn_net *many = trained(threads, opt);
        CHECK(memcmp(nn_params(one), nn_params(many),
                     nn_param_count(one) * sizeof(nn_real)) == 0);
        nn_destroy(many);
    }
    nn_destroy(one);
}

int main(void) {
    const size_t shapes[][3] = {{64, 784, 33}, {57, 300, 129}, {9, 1001, 130}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
        check_kernels(shapes[k][0], shapes[k][1], shapes[k][2]);
    check_training(nn_opt_sgd(0.1));
    check_training(nn_opt_adam(1e-3));
    return th_report();
}
