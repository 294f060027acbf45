/* Input scaling inside the net, x' = (x - shift) * scale: every function
   that takes raw inputs gives what the same net without the map gives on
   inputs scaled by hand (bit for bit), nn_fit_input_scaling standardizes,
   the input gradients are with respect to the raw inputs (against central
   differences), and bad maps are refused with nothing changed. */
#include "../nn.h"
#include "harness.h"

#include <string.h>

enum { N = 24, IN = 20, OUT = 3 };

static nn_net *make(nn_act hidden) {
    const size_t sizes[] = {IN, 6, OUT};
    const nn_act acts[] = {hidden, NN_ACT_SOFTMAX};
    return nn_create(2, sizes, acts, 5, NULL);
}

/* raw data on scales of 1e-3 to 1e3 with offsets, and one-hot targets */
static void make_data(nn_real *x, nn_real *y) {
    nn_rng rng;
    nn_rng_seed(&rng, 9);
    for (size_t s = 0; s < N; s++) {
        for (size_t i = 0; i < IN; i++)
            x[s * IN + i] = (nn_real)((nn_rng_uniform(&rng) * 2 - 1) * pow(10.0, (double)(i % 7) - 3) +
                                      (double)i * 10);
        for (size_t o = 0; o < OUT; o++) y[s * OUT + o] = (nn_real)(o == s % OUT);
    }
}

static void scale_by_hand(nn_real *out, const nn_real *x, const nn_real *shift,
                          const nn_real *scale) {
    for (size_t s = 0; s < N; s++)
        for (size_t i = 0; i < IN; i++) out[s * IN + i] = (x[s * IN + i] - shift[i]) * scale[i];
}

static int same_params(nn_net *a, nn_net *b) {
    return memcmp(nn_params(a), nn_params(b), nn_param_count(a) * sizeof(nn_real)) == 0;
}

static void check_fit(void) {
    nn_real x[N * IN], y[N * OUT];
    const nn_real *shift, *scale;
    nn_net *net = make(NN_ACT_TANH);
    make_data(x, y);
    for (size_t s = 0; s < N; s++) x[s * IN + 3] = 7; /* a constant column */
    CHECK(nn_input_scaling(net, &shift, &scale) == 0 && shift == NULL && scale == NULL);
    CHECK(nn_fit_input_scaling(net, x, N) == NN_OK);
    CHECK(nn_input_scaling(net, &shift, &scale) == 1);
    for (size_t i = 0; i < IN; i++) {
        double mean = 0, var = 0;
        for (size_t s = 0; s < N; s++) mean += (double)x[s * IN + i] / (double)N;
        for (size_t s = 0; s < N; s++) var += ((double)x[s * IN + i] - mean) * ((double)x[s * IN + i] - mean) / (double)N;
        CHECK_NEAR(shift[i], mean, fabs(mean) * (TH_DOUBLE ? 1e-14 : 1e-6) + 1e-12);
        if (i == 3)
            CHECK(scale[i] == 1 && shift[i] == 7); /* no division by 0 */
        else
            CHECK_NEAR((double)scale[i] * sqrt(var), 1, TH_DOUBLE ? 1e-12 : 1e-5);
    }
    nn_destroy(net);
}

static void check_refusals(void) {
    nn_real x[N * IN], y[N * OUT], shift[IN], scale[IN];
    const nn_real *s0, *c0;
    nn_net *net = make(NN_ACT_TANH);
    make_data(x, y);
    for (size_t i = 0; i < IN; i++) {
        shift[i] = (nn_real)i;
        scale[i] = 2;
    }
    CHECK(nn_set_input_scaling(net, shift, scale) == NN_OK);
    CHECK(nn_set_input_scaling(net, shift, NULL) == NN_ERR_INVALID);
    CHECK(nn_set_input_scaling(net, NULL, scale) == NN_ERR_INVALID);
    scale[4] = (nn_real)NAN;
    CHECK(nn_set_input_scaling(net, shift, scale) == NN_ERR_NONFINITE);
    CHECK(nn_fit_input_scaling(net, x, 0) == NN_ERR_INVALID);
    x[5] = (nn_real)INFINITY;
    CHECK(nn_fit_input_scaling(net, x, N) == NN_ERR_NONFINITE);
    CHECK(nn_input_scaling(net, &s0, &c0) == 1 && c0[4] == 2 && s0[7] == 7); /* as it was */
    CHECK(nn_set_input_scaling(net, NULL, NULL) == NN_OK); /* the identity again */
    CHECK(nn_input_scaling(net, &s0, &c0) == 0);
    nn_destroy(net);
}

/* forward, predict, evaluate, classify: raw inputs through the map give
   what pre-scaled inputs give without it, bit for bit */
static void check_inference(void) {
    nn_real x[N * IN], y[N * OUT], xs[N * IN], out[N * OUT], out2[N * OUT];
    nn_real scratch[2 * N * IN];
    const nn_real *shift, *scale;
    nn_net *a = make(NN_ACT_TANH), *b = make(NN_ACT_TANH);
    double la, lb, aa, ab;
    size_t ca[N], cb[N];
    make_data(x, y);
    CHECK(nn_fit_input_scaling(a, x, N) == NN_OK);
    nn_input_scaling(a, &shift, &scale);
    scale_by_hand(xs, x, shift, scale);
    CHECK(memcmp(nn_forward(a, x, N), nn_forward(b, xs, N), sizeof out) == 0);
    CHECK(nn_predict_scratch_size(a, N) <= sizeof scratch / sizeof *scratch);
    CHECK(nn_predict(a, x, N, scratch, out) == NN_OK);
    CHECK(nn_predict(b, xs, N, scratch, out2) == NN_OK);
    CHECK(memcmp(out, out2, sizeof out) == 0);
    CHECK(nn_evaluate(a, NN_LOSS_CROSS_ENTROPY, x, y, N, &la, &aa) == NN_OK);
    CHECK(nn_evaluate(b, NN_LOSS_CROSS_ENTROPY, xs, y, N, &lb, &ab) == NN_OK);
    CHECK(la == lb && aa == ab);
    CHECK(nn_classify(a, x, N, ca) == NN_OK && nn_classify(b, xs, N, cb) == NN_OK);
    CHECK(memcmp(ca, cb, sizeof ca) == 0);
    nn_destroy(a);
    nn_destroy(b);
}

/* nn_train on raw data with the map gives the weights that training on
   pre-scaled data without it gives: per-sample plain SGD (the look-ahead
   path), mini-batch SGD (the fused tile) and Adam, with a validation set */
static void check_training(void) {
    nn_real x[N * IN], y[N * OUT], xs[N * IN];
    const nn_real *shift, *scale;
    make_data(x, y);
    for (int c = 0; c < 3; c++) {
        nn_net *a = make(NN_ACT_RELU), *b = make(NN_ACT_RELU);
        nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
        nn_fit_input_scaling(a, x, N);
        nn_input_scaling(a, &shift, &scale);
        scale_by_hand(xs, x, shift, scale);
        cfg.epochs = 3;
        cfg.opt = c == 2 ? nn_opt_adam(0.01) : nn_opt_sgd(0.05);
        cfg.batch_size = c == 0 ? 1 : 8;
        cfg.val_n = 6;
        cfg.val_x = x;
        cfg.val_y = y;
        CHECK(nn_train(a, &cfg, x, y, N, NULL) == NN_OK);
        cfg.val_x = xs;
        CHECK(nn_train(b, &cfg, xs, y, N, NULL) == NN_OK);
        CHECK(same_params(a, b));
        nn_destroy(a);
        nn_destroy(b);
    }
}

/* dLoss/dx and d a_o/dx are with respect to the raw inputs: central
   differences in x, with the map in place */
static void check_input_grads(void) {
    enum { B = 3 };
    nn_real x[N * IN], y[N * OUT], dx[B * IN], dxo[B * IN];
    nn_net *net = make(NN_ACT_TANH);
    const nn_real *scale;
    double worst = 0, worst_o = 0;
    make_data(x, y);
    nn_fit_input_scaling(net, x, N);
    nn_input_scaling(net, NULL, &scale);
    nn_forward(net, x, B);
    CHECK(nn_input_grad(net, NN_LOSS_CROSS_ENTROPY, y, dx) == NN_OK);
    CHECK(nn_output_grad(net, 1, dxo) == NN_OK);
    for (size_t k = 0; k < B * IN; k++) {
        /* a step in proportion to the input's own spread, 1 / scale */
        const nn_real keep = x[k];
        const double h = (TH_DOUBLE ? 1e-6 : 1e-2) / (double)scale[k % IN];
        double lp = 0, lm = 0, ap, am, num, num_o;
        x[k] = (nn_real)((double)keep + h);
        nn_forward(net, x, B);
        nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &lp);
        ap = (double)nn_forward(net, x, B)[(k / IN) * OUT + 1];
        x[k] = (nn_real)((double)keep - h);
        nn_forward(net, x, B);
        nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &lm);
        am = (double)nn_forward(net, x, B)[(k / IN) * OUT + 1];
        num = (lp - lm) / ((double)(nn_real)((double)keep + h) - (double)x[k]);
        num_o = (ap - am) / ((double)(nn_real)((double)keep + h) - (double)x[k]);
        x[k] = keep;
        worst = fmax(worst, fabs(num - (double)dx[k]) / fmax(fmax(fabs(num), fabs((double)dx[k])), 1e-3));
        worst_o = fmax(worst_o, fabs(num_o - (double)dxo[k]) /
                                    fmax(fmax(fabs(num_o), fabs((double)dxo[k])), 1e-3));
    }
    CHECK(worst < (TH_DOUBLE ? 1e-6 : 5e-2));
    CHECK(worst_o < (TH_DOUBLE ? 1e-6 : 5e-2));
    nn_destroy(net);
}

int main(void) {
    check_fit();
    check_refusals();
    check_inference();
    check_training();
    check_input_grads();
    return th_report();
}
