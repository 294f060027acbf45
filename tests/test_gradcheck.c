/* nn_gradcheck on every activation x valid loss x depth 1, 2, 3 x batch 1
   and 5, and controls proving that a wrong gradient is caught. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <stdlib.h>

/* What the check must reach: 1e-6 in double.  Float has 24 bits and a
   central difference cancels most of them: gradients near the 1e-3 floor
   (leaky ReLU's slope makes many) come out a few per cent off. */
#define TOL (TH_DOUBLE ? 1e-6 : 5e-2)
#define H (TH_DOUBLE ? NN_R(1e-5) : NN_R(1e-2))

static const char *loss_name(nn_loss loss) {
    static const char *names[] = {"mse", "cross_entropy", "binary_cross_entropy"};
    return names[loss];
}

/* Targets for a loss: anything for MSE, probability rows for cross-entropy
   (half of them one-hot), values in [0, 1] for binary cross-entropy. */
static void make_targets(nn_real *y, size_t B, size_t n, nn_loss loss,
                         nn_rng *rng) {
    for (size_t s = 0; s < B; s++) {
        nn_real *ys = y + s * n;
        double sum = 0;
        for (size_t o = 0; o < n; o++) {
            double u = nn_rng_uniform(rng);
            ys[o] = (nn_real)(loss == NN_LOSS_MSE ? 2 * u - 1 : u);
            sum += (double)ys[o];
        }
        if (loss != NN_LOSS_CROSS_ENTROPY) continue;
        if (s % 2) {
            for (size_t o = 0; o < n; o++) ys[o] = 0;
            ys[nn_rng_u32(rng) % n] = 1;
        } else {
            for (size_t o = 0; o < n; o++) ys[o] = (nn_real)((double)ys[o] / sum);
        }
    }
}

/* The smallest |z| over the ReLU-family layers of the last forward pass:
   central differences are only valid where no step crosses the kink. */
static double kink_margin(const nn_net *net) {
    double m = 1e300;
    for (size_t l = 0; l < net->n_layers; l++) {
        const nn_real *z = nn__layer_z(net, l);
        if (net->acts[l] != NN_ACT_RELU && net->acts[l] != NN_ACT_LEAKY_RELU)
            continue;
        for (size_t k = 0; k < net->batch * net->sizes[l + 1]; k++)
            if (fabs((double)z[k]) < m) m = fabs((double)z[k]);
    }
    return m;
}

/* A net and a batch for one configuration: inputs are redrawn until every
   ReLU pre-activation is well away from 0. */
static nn_net *make_case(size_t depth, nn_act hidden, nn_act out, nn_loss loss,
                         size_t B, nn_real *x, nn_real *y, uint64_t seed) {
    static const size_t widths[] = {3, 5, 6, 4};
    size_t sizes[4];
    nn_act acts[3];
    nn_rng rng;
    nn_net *net;
    for (size_t l = 0; l < depth; l++) {
        sizes[l] = widths[l];
        acts[l] = l + 1 < depth ? hidden : out;
    }
    sizes[depth] = 4;
    net = nn_create(depth, sizes, acts, seed, NULL);
    nn_rng_seed(&rng, seed);
    for (int tries = 0; tries < 1000; tries++) {
        /* nonzero biases, so a bias bug cannot hide behind b = 0 */
        for (size_t l = 0; l < depth; l++) {
            nn_real *b = nn_layer_params(net, l) + sizes[l] * sizes[l + 1];
            for (size_t o = 0; o < sizes[l + 1]; o++)
                b[o] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
        }
        for (size_t k = 0; k < B * sizes[0]; k++)
            x[k] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
        nn_forward(net, x, B);
        if (kink_margin(net) > 5 * (double)H) break;
    }
    CHECK(kink_margin(net) > 5 * (double)H);
    make_targets(y, B, 4, loss, &rng);
    return net;
}

static void check_all_configurations(void) {
    const size_t batches[] = {1, 5};
    double overall = 0;
    int cases = 0;
    for (size_t depth = 1; depth <= 3; depth++)
        for (int hidden = 0; hidden < NN_ACT_COUNT; hidden++)
            for (int out = 0; out < NN_ACT_COUNT; out++)
                for (int loss = 0; loss < NN_LOSS_COUNT; loss++)
                    for (size_t bi = 0; bi < 2; bi++) {
                        nn_real x[5 * 3], y[5 * 4];
                        double err = -1;
                        size_t worst = 0;
                        nn_net *net;
                        if (depth == 1 && hidden > 0) continue; /* no hidden layer */
                        if (loss == NN_LOSS_CROSS_ENTROPY && out != NN_ACT_SOFTMAX) continue;
                        if (loss == NN_LOSS_BINARY_CROSS_ENTROPY && out != NN_ACT_SIGMOID) continue;
                        net = make_case(depth, (nn_act)hidden, (nn_act)out, (nn_loss)loss,
                                        batches[bi], x, y, 1000 + (uint64_t)cases);
                        CHECK(nn_gradcheck(net, (nn_loss)loss, x, y, batches[bi], H, &err,
                                           &worst) == NN_OK);
                        if (!(err <= TOL))
                            printf("depth %zu hidden %s out %s loss %s B %zu: error %g "
                                   "at parameter %zu\n", depth, th_act_name((nn_act)hidden),
                                   th_act_name((nn_act)out), loss_name((nn_loss)loss),
                                   batches[bi], err, worst);
                        CHECK(err >= 0 && err <= TOL);
                        if (err > overall) overall = err;
                        cases++;
                        nn_destroy(net);
                    }
    printf("gradcheck: %d configurations, largest relative error %.3g (bound %g)\n",
           cases, overall, TOL);
    CHECK(cases == 2 * (8 + 48 + 48));
}

/* nn_input_grad and nn_output_grad against central differences in x, for
   every configuration above; the parameters' gradients stay as they were. */
static double rel_err(double g, double num) {
    return fabs(g - num) / fmax(fmax(fabs(g), fabs(num)), 1e-3);
}

static void check_input_gradients(void) {
    double worst_loss = 0, worst_out = 0;
    int cases = 0, grads_kept = 1;
    for (size_t depth = 1; depth <= 3; depth++)
        for (int hidden = 0; hidden < NN_ACT_COUNT; hidden++)
            for (int out = 0; out < NN_ACT_COUNT; out++)
                for (int loss = 0; loss < NN_LOSS_COUNT; loss++) {
                    enum { B = 5 };
                    nn_real x[B * 3], y[B * 4], dx[B * 3], dxo[B * 3], g0[128];
                    const size_t o = (size_t)cases % 4;
                    nn_net *net;
                    if (depth == 1 && hidden > 0) continue;
                    if (loss == NN_LOSS_CROSS_ENTROPY && out != NN_ACT_SOFTMAX) continue;
                    if (loss == NN_LOSS_BINARY_CROSS_ENTROPY && out != NN_ACT_SIGMOID) continue;
                    net = make_case(depth, (nn_act)hidden, (nn_act)out, (nn_loss)loss, B, x, y,
                                    5000 + (uint64_t)cases);
                    for (size_t k = 0; k < nn_param_count(net) && k < 128; k++)
                        g0[k] = nn_grads(net)[k] = (nn_real)k;
                    nn_forward(net, x, B);
                    CHECK(nn_input_grad(net, (nn_loss)loss, y, dx) == NN_OK);
                    nn_output_grad(net, o, dxo);
                    for (size_t k = 0; k < nn_param_count(net) && k < 128; k++)
                        grads_kept &= nn_grads(net)[k] == g0[k];
                    for (size_t k = 0; k < B * 3; k++) {
                        const nn_real x0 = x[k];
                        const size_t s = k / 3;
                        double lp, lm, ap, am, step;
                        x[k] = x0 + H;
                        step = (double)x[k];
                        ap = (double)nn_forward(net, x, B)[s * 4 + o];
                        lp = nn__loss_value(net, (nn_loss)loss, y);
                        x[k] = x0 - H;
                        step -= (double)x[k];
                        am = (double)nn_forward(net, x, B)[s * 4 + o];
                        lm = nn__loss_value(net, (nn_loss)loss, y);
                        x[k] = x0;
                        worst_loss = fmax(worst_loss, rel_err((double)dx[k], (lp - lm) / step));
                        worst_out = fmax(worst_out, rel_err((double)dxo[k], (ap - am) / step));
                    }
                    cases++;
                    nn_destroy(net);
                }
    printf("input gradients: %d configurations, largest relative error %.3g (loss), "
           "%.3g (one output)\n", cases, worst_loss, worst_out);
    CHECK(cases == 8 + 48 + 48);
    CHECK(worst_loss <= TOL);
    CHECK(worst_out <= TOL);
    CHECK(grads_kept);
    /* a loss that does not fit the output is refused */
    {
        nn_real x[3], y[4], dx[3];
        nn_net *net = make_case(1, NN_ACT_TANH, NN_ACT_TANH, NN_LOSS_MSE, 1, x, y, 9);
        nn_forward(net, x, 1);
        CHECK(nn_input_grad(net, NN_LOSS_CROSS_ENTROPY, y, dx) == NN_ERR_INVALID);
        nn_destroy(net);
    }
}

/* ---- controls: wrong gradients that the check must catch ------------- */

/* dz.W bug class: a bias gradient never computed (the tutorial's b1) */
static nn_result backward_without_first_bias(nn_net *net, nn_loss loss,
                                             const nn_real *y, double *out) {
    nn_result r = nn_backward(net, loss, y, out);
    nn_real *db = net->grads + net->sizes[0] * net->sizes[1];
    for (size_t o = 0; o < net->sizes[1]; o++) db[o] = 0;
    return r;
}

/* one gradient off by a factor 1 + 20 TOL: 1.00002 in double */
static size_t g_skewed;
static nn_result backward_one_skewed(nn_net *net, nn_loss loss,
                                     const nn_real *y, double *out) {
    nn_result r = nn_backward(net, loss, y, out);
    net->grads[g_skewed] *= (nn_real)(1 + 20 * TOL);
    return r;
}

/* the gradient of the loss summed over the batch instead of its mean */
static nn_result backward_sum_not_mean(nn_net *net, nn_loss loss,
                                       const nn_real *y, double *out) {
    nn_result r = nn_backward(net, loss, y, out);
    for (size_t k = 0; k < net->n_params; k++)
        net->grads[k] *= (nn_real)net->batch;
    return r;
}

static void check_controls(void) {
    nn_real x[5 * 3], y[5 * 4];
    double err = 0, good = 0;
    size_t worst = 0;
    nn_net *net = make_case(3, NN_ACT_TANH, NN_ACT_SOFTMAX, NN_LOSS_CROSS_ENTROPY,
                            5, x, y, 99);
    const size_t b0 = net->sizes[0] * net->sizes[1]; /* first bias index */

    CHECK(nn__gradcheck(net, NN_LOSS_CROSS_ENTROPY, x, y, 5, H, nn_backward,
                        &good, &worst) == NN_OK);
    CHECK(good <= TOL);

    CHECK(nn__gradcheck(net, NN_LOSS_CROSS_ENTROPY, x, y, 5, H,
                        backward_without_first_bias, &err, &worst) == NN_OK);
    CHECK(err > 0.5);
    CHECK(worst >= b0 && worst < b0 + net->sizes[1]);

    /* skew the parameter with the largest gradient of the last layer */
    g_skewed = net->offsets[2];
    for (size_t k = net->offsets[2]; k < net->n_params; k++)
        if (fabs((double)net->grads[k]) > fabs((double)net->grads[g_skewed])) g_skewed = k;
    CHECK(nn__gradcheck(net, NN_LOSS_CROSS_ENTROPY, x, y, 5, H, backward_one_skewed,
                        &err, &worst) == NN_OK);
    CHECK(err > 5 * TOL);
    CHECK(worst == g_skewed);

    CHECK(nn__gradcheck(net, NN_LOSS_CROSS_ENTROPY, x, y, 5, H,
                        backward_sum_not_mean, &err, &worst) == NN_OK);
    CHECK_NEAR(err, 0.8, 0.01); /* |5g - g| / |5g| */
    nn_destroy(net);
}

/* The check leaves the parameters bit for bit as they were, the batch's
   gradient in nn_grads and its forward pass in the workspace. */
static void check_side_effects(void) {
    nn_real x[5 * 3], y[5 * 4];
    double L1 = 0, L2 = 0;
    nn_net *net = make_case(2, NN_ACT_SIGMOID, NN_ACT_LINEAR, NN_LOSS_MSE, 5, x, y, 5);
    const size_t n = nn_param_count(net);
    nn_real *before = (nn_real *)malloc(n * sizeof *before);
    nn_real *grad = (nn_real *)malloc(n * sizeof *grad);
    int same = 1;
    memcpy(before, nn_params(net), n * sizeof *before);
    nn_forward(net, x, 5);
    nn_zero_grad(net);
    nn_backward(net, NN_LOSS_MSE, y, &L1);
    memcpy(grad, nn_grads(net), n * sizeof *grad);
    nn_zero_grad(net);
    CHECK(nn_gradcheck(net, NN_LOSS_MSE, x, y, 5, 0, NULL, NULL) == NN_OK);
    for (size_t k = 0; k < n; k++)
        same &= nn_params(net)[k] == before[k] && nn_grads(net)[k] == grad[k];
    CHECK(same);
    CHECK(nn_compute_loss(net, NN_LOSS_MSE, y, &L2) == NN_OK);
    CHECK(L1 == L2);
    free(before);
    free(grad);
    nn_destroy(net);
}

int main(void) {
    check_all_configurations();
    check_input_gradients();
    check_controls();
    check_side_effects();
    return th_report();
}
