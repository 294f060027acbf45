/* Each loss: values on cases worked by hand, gradients against central
   differences of the loss, logits of +-1000, and the pairings a loss
   refuses. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

static const double LN2 = 0.69314718055994530942;

/* A 1-layer net n -> n with W = identity and b = 0, so that z = x: the
   public calls then see exactly the logits a test chooses. */
static nn_net *identity_net(size_t n, nn_act act) {
    size_t sizes[2];
    nn_real *W;
    nn_net *net;
    sizes[0] = sizes[1] = n;
    net = nn_create(1, sizes, &act, 1, NULL);
    W = nn_layer_params(net, 0);
    for (size_t o = 0; o < n; o++)
        for (size_t i = 0; i <= n; i++) W[o * n + i] = 0; /* b too */
    for (size_t o = 0; o < n; o++) W[o * n + o] = 1;
    return net;
}

static void check_hand_values(void) {
    /* MSE over 2 samples x 2 outputs: ((0.5)^2 + 1^2 + 0 + 2^2) / 4 */
    {
        nn_net *net = identity_net(2, NN_ACT_LINEAR);
        nn_real x[] = {NN_R(0.5), 1, 3, -1}, y[] = {0, 0, 3, 1};
        double L = -1;
        nn_forward(net, x, 2);
        CHECK(nn_compute_loss(net, NN_LOSS_MSE, y, &L) == NN_OK);
        CHECK_NEAR(L, 5.25 / 4, 1e-7);
        nn_destroy(net);
    }
    /* cross-entropy: z = (0, 0) gives p = (1/2, 1/2), and y = (1, 0)
       costs ln 2; z = (ln 3, 0) gives p = (3/4, 1/4), and y = (0, 1)
       costs ln 4.  The mean over the batch is 1.5 ln 2. */
    {
        nn_net *net = identity_net(2, NN_ACT_SOFTMAX);
        nn_real x[] = {0, 0, (nn_real)log(3.0), 0}, y[] = {1, 0, 0, 1};
        double L = -1;
        const nn_real *p = nn_forward(net, x, 2);
        CHECK_NEAR(p[2], 0.75, 1e-7);
        CHECK(nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &L) == NN_OK);
        CHECK_NEAR(L, 1.5 * LN2, 1e-6);
        nn_destroy(net);
    }
    /* binary cross-entropy: z = 0 (a = 1/2) with y = 1 costs ln 2; z = ln 3
       (a = 3/4) with y = 0 costs -ln(1/4) = ln 4; z = -ln 3 with y = 1/4
       costs -(1/4 ln 1/4 + 3/4 ln 3/4).  Mean over the 3 elements. */
    {
        nn_net *net = identity_net(1, NN_ACT_SIGMOID);
        nn_real x[] = {0, (nn_real)log(3.0), (nn_real)-log(3.0)};
        nn_real y[] = {1, 0, NN_R(0.25)};
        double L = -1;
        double third = -(0.25 * log(0.25) + 0.75 * log(0.75));
        nn_forward(net, x, 3);
        CHECK(nn_compute_loss(net, NN_LOSS_BINARY_CROSS_ENTROPY, y, &L) == NN_OK);
        CHECK_NEAR(L, (LN2 + 2 * LN2 + third) / 3, 1e-6);
        nn_destroy(net);
    }
}

/* Logits of +-1000 overflow e^z in both precisions; the losses must stay
   finite and exact, and so must the gradients. */
static void check_huge_logits(void) {
    nn_net *net = identity_net(2, NN_ACT_SOFTMAX);
    nn_real x[] = {1000, -1000, 1000, -1000}, y[] = {0, 1, 1, 0};
    double L = -1;
    nn_forward(net, x, 2);
    nn_zero_grad(net);
    CHECK(nn_backward(net, NN_LOSS_CROSS_ENTROPY, y, &L) == NN_OK);
    /* sample 0: -log p_1 = 2000; sample 1: -log p_0 = 0 */
    CHECK_NEAR(L, 1000, 1e-3);
    for (size_t k = 0; k < nn_param_count(net); k++)
        CHECK(isfinite((double)nn_grads(net)[k]));
    /* db = mean of p - y = ((1, -1) + (0, 0)) / 2 */
    CHECK_NEAR(nn_grads(net)[4], 0.5, 1e-7);
    CHECK_NEAR(nn_grads(net)[5], -0.5, 1e-7);
    nn_destroy(net);

    net = identity_net(1, NN_ACT_SIGMOID);
    {
        nn_real xb[] = {1000, -1000, 1000, -1000}, yb[] = {0, 0, 1, 1};
        nn_forward(net, xb, 4);
        nn_zero_grad(net);
        CHECK(nn_backward(net, NN_LOSS_BINARY_CROSS_ENTROPY, yb, &L) == NN_OK);
        /* costs 1000, 0, 0, 1000 */
        CHECK_NEAR(L, 500, 1e-3);
        /* db = mean of a - y = (1 + 0 + 0 - 1) / 4 */
        CHECK_NEAR(nn_grads(net)[1], 0, 1e-7);
        CHECK(isfinite((double)nn_grads(net)[0]));
    }
    nn_destroy(net);
}

/* class weights of the weighted cross-entropy case */
static const nn_real class_w[3] = {NN_R(0.5), NN_R(2.0), NN_R(1.25)};

/* loss 0, 1, 2, 3: MSE of z taken as a, softmax CE, sigmoid BCE and
   class-weighted softmax CE of logits z; each a mean */
static double loss_of(int loss, const nn_real *z, const nn_real *y, size_t B,
                      size_t n) {
    switch (loss) {
    case 0: return nn__mse_forward(z, y, B, n) / (double)(B * n);
    case 1: return nn__softmax_ce_forward(z, y, NULL, B, n) / (double)B;
    case 2: return nn__sigmoid_bce_forward(z, y, B, n) / (double)(B * n);
    default:
        return nn__softmax_ce_forward(z, y, class_w, B, n) /
               nn__softmax_ce_count(y, class_w, B, n);
    }
}

/* Each loss's backward against central differences of its forward, with
   respect to what backward differentiates: a for MSE, the logits z for the
   fused cross-entropies.  Targets are not one-hot here on purpose. */
static void check_loss_gradients(void) {
    enum { B = 4, N = 3 };
    const double h = TH_DOUBLE ? 1e-6 : 1e-2;
    const double tol = TH_DOUBLE ? 1e-8 : 1e-3;
    nn_rng rng;
    nn_real z[B * N], a[B * N], y[B * N], g[B * N];
    double worst[4] = {0, 0, 0, 0};
    nn_rng_seed(&rng, 3);
    for (int trial = 0; trial < 20; trial++) {
        for (int k = 0; k < B * N; k++) z[k] = (nn_real)(8 * nn_rng_uniform(&rng) - 4);
        for (int s = 0; s < B; s++) {
            double sum = 0;
            for (int o = 0; o < N; o++) sum += (double)(y[s * N + o] = (nn_real)nn_rng_uniform(&rng));
            if (trial % 2) /* a distribution half of the time, else not */
                for (int o = 0; o < N; o++) y[s * N + o] = (nn_real)((double)y[s * N + o] / sum);
        }
        for (int loss = 0; loss < 4; loss++) {
            for (int k = 0; k < B * N; k++) {
                const nn_real z0 = z[k];
                double lp, lm, step, num;
                if (loss == 0) {
                    nn__mse_backward(g, z, y, B, N); /* z plays a */
                } else if (loss == 1) {
                    nn__act_forward(a, z, B, N, NN_ACT_SOFTMAX);
                    nn__softmax_ce_backward(g, a, y, NULL, B, N);
                } else if (loss == 3) {
                    nn__act_forward(a, z, B, N, NN_ACT_SOFTMAX);
                    nn__softmax_ce_backward(g, a, y, class_w, B, N);
                } else {
                    nn__act_forward(a, z, B, N, NN_ACT_SIGMOID);
                    nn__sigmoid_bce_backward(g, a, y, B, N);
                }
                z[k] = z0 + (nn_real)h;
                step = (double)z[k];
                lp = loss_of(loss, z, y, B, N);
                z[k] = z0 - (nn_real)h;
                step -= (double)z[k];
                lm = loss_of(loss, z, y, B, N);
                z[k] = z0;
                num = (lp - lm) / step;
                if (fabs((double)g[k] - num) > worst[loss])
                    worst[loss] = fabs((double)g[k] - num);
            }
        }
    }
    for (int loss = 0; loss < 4; loss++) {
        if (worst[loss] > tol) printf("loss %d: gradient off by %g\n", loss, worst[loss]);
        CHECK(worst[loss] <= tol);
    }
}

/* Cross-entropy needs a softmax output and binary cross-entropy a sigmoid
   one; anything else is refused and changes nothing. */
static void check_pairings(void) {
    const nn_act outs[] = {NN_ACT_LINEAR, NN_ACT_SIGMOID, NN_ACT_TANH,
                           NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_SOFTMAX};
    for (size_t k = 0; k < sizeof outs / sizeof *outs; k++) {
        nn_net *net = identity_net(2, outs[k]);
        nn_real x[] = {NN_R(0.5), NN_R(-0.25)}, y[] = {NN_R(0.75), NN_R(0.25)};
        double L = 42;
        double err = -1;
        size_t worst = 7;
        const int ce_ok = outs[k] == NN_ACT_SOFTMAX, bce_ok = outs[k] == NN_ACT_SIGMOID;
        nn_forward(net, x, 1);
        nn_zero_grad(net);
        CHECK(nn_backward(net, NN_LOSS_MSE, y, &L) == NN_OK);
        CHECK(nn_backward(net, NN_LOSS_CROSS_ENTROPY, y, &L) ==
              (ce_ok ? NN_OK : NN_ERR_INVALID));
        CHECK(nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &L) ==
              (ce_ok ? NN_OK : NN_ERR_INVALID));
        CHECK(nn_backward(net, NN_LOSS_BINARY_CROSS_ENTROPY, y, &L) ==
              (bce_ok ? NN_OK : NN_ERR_INVALID));
        CHECK(nn_gradcheck(net, NN_LOSS_BINARY_CROSS_ENTROPY, x, y, 1, 0, &err, &worst) ==
              (bce_ok ? NN_OK : NN_ERR_INVALID));
        CHECK(nn_backward(net, NN_LOSS_COUNT, y, &L) == NN_ERR_INVALID);
#ifndef __cplusplus /* C++ leaves a value outside an enum's range unspecified */
        CHECK(nn_backward(net, (nn_loss)7, y, &L) == NN_ERR_INVALID);
        CHECK(nn_compute_loss(net, (nn_loss)-1, y, &L) == NN_ERR_INVALID);
#endif
        if (!ce_ok && !bce_ok) {
            /* refused calls left the gradient of the one MSE backward */
            nn_net *ref = identity_net(2, outs[k]);
            int same = 1;
            nn_forward(ref, x, 1);
            nn_zero_grad(ref);
            nn_backward(ref, NN_LOSS_MSE, y, NULL);
            for (size_t p = 0; p < nn_param_count(net); p++)
                same &= nn_grads(net)[p] == nn_grads(ref)[p];
            CHECK(same);
            CHECK(err == -1 && worst == 7);
            nn_destroy(ref);
        }
        nn_destroy(net);
    }
}

int main(void) {
    check_hand_values();
    check_huge_logits();
    check_loss_gradients();
    check_pairings();
    return th_report();
}
