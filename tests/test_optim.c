/* Optimizers against their textbook formulas, step for step; their state;
   the non-finite guard; gradient clipping; class weights. */
#include "../nn.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_P = 64 };

/* 3 -> 4 -> 2: 26 parameters */
static nn_net *small_net(uint64_t seed) {
    const size_t sizes[] = {3, 4, 2};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    return nn_create(2, sizes, acts, seed, NULL);
}

/* The optimizers as the papers and the PyTorch docs write them, in double,
   one parameter array at a time.  t counts from 1. */
typedef struct ref_state {
    double w[MAX_P], m[MAX_P], v[MAX_P];
} ref_state;

static void ref_step(ref_state *st, const double *grad, size_t n,
                     const nn_opt *o, int t) {
    for (size_t k = 0; k < n; k++) {
        double g = grad[k];
        if (o->kind == NN_OPT_SGD) {
            g += o->weight_decay * st->w[k];
            if (o->momentum != 0) {
                /* PyTorch: the buffer starts as the first gradient */
                st->m[k] = t == 1 ? g : o->momentum * st->m[k] + g;
                g = o->nesterov ? g + o->momentum * st->m[k] : st->m[k];
            }
            st->w[k] -= o->lr * g;
        } else {
            double m_hat, v_hat;
            if (o->kind == NN_OPT_ADAMW)
                st->w[k] -= o->lr * o->weight_decay * st->w[k];
            else
                g += o->weight_decay * st->w[k];
            st->m[k] = o->beta1 * st->m[k] + (1 - o->beta1) * g;
            st->v[k] = o->beta2 * st->v[k] + (1 - o->beta2) * g * g;
            m_hat = st->m[k] / (1 - pow(o->beta1, t));
            v_hat = st->v[k] / (1 - pow(o->beta2, t));
            st->w[k] -= o->lr * m_hat / (sqrt(v_hat) + o->eps);
        }
    }
}

/* five steps on gradients from the generator; the net's weights against
   the reference's after each one */
static double max_rel_diff_after_steps(const nn_opt *o, int steps) {
    nn_net *net = small_net(5);
    const size_t n = nn_param_count(net);
    ref_state st;
    double grad[MAX_P], worst = 0;
    nn_rng rng;
    nn_rng_seed(&rng, 99);
    memset(&st, 0, sizeof st);
    for (size_t k = 0; k < n; k++) st.w[k] = (double)nn_params(net)[k];
    for (int t = 1; t <= steps; t++) {
        for (size_t k = 0; k < n; k++) {
            /* gradients of mixed scale and sign, some exactly 0 */
            double g = (nn_rng_uniform(&rng) - 0.5) * pow(10, (double)(k % 4) - 2);
            if (k % 7 == 3) g = 0;
            nn_grads(net)[k] = (nn_real)g;
            grad[k] = (double)nn_grads(net)[k];
        }
        CHECK(nn_step(net, o) == NN_OK);
        ref_step(&st, grad, n, o, t);
        for (size_t k = 0; k < n; k++) {
            const double d = fabs((double)nn_params(net)[k] - st.w[k]) /
                             fmax(fabs(st.w[k]), 1e-3);
            if (!(d <= worst)) worst = d;
        }
    }
    nn_destroy(net);
    return worst;
}

static void check_against_formulas(void) {
    /* 1e-12 in double; float rounds each step to 6e-8 */
    const double tol = TH_DOUBLE ? 1e-12 : 1e-4;
    nn_opt opts[9];
    const char *names[9] = {"sgd", "sgd+decay", "momentum", "nesterov+decay",
                            "adam", "adam+L2", "adamw", "adam eps", "adamw big"};
    opts[0] = nn_opt_sgd(0.1);
    opts[1] = nn_opt_sgd(0.1);
    opts[1].weight_decay = 0.05;
    opts[2] = nn_opt_sgd(0.05);
    opts[2].momentum = 0.9;
    opts[3] = opts[2];
    opts[3].nesterov = 1;
    opts[3].weight_decay = 0.01;
    opts[4] = nn_opt_adam(0.01);
    opts[5] = nn_opt_adam(0.01);
    opts[5].weight_decay = 0.1;
    opts[6] = nn_opt_adamw(0.01, 0.1);
    opts[7] = nn_opt_adam(0.02); /* eps as large as some sqrt(v) */
    opts[7].eps = 1e-3;
    opts[7].beta1 = 0.5;
    opts[7].beta2 = 0.9;
    opts[8] = nn_opt_adamw(0.1, 0.5);
    for (int c = 0; c < 9; c++) {
        const double d = max_rel_diff_after_steps(&opts[c], 6);
        if (!(d <= tol)) printf("%s: relative difference %g\n", names[c], d);
        CHECK(d <= tol);
    }
}

static void check_defaults(void) {
    nn_opt s = nn_opt_sgd(0.5), a = nn_opt_adam(1e-3), w = nn_opt_adamw(2e-3, 0.01);
    CHECK(s.kind == NN_OPT_SGD && s.lr == 0.5 && s.momentum == 0 && !s.nesterov &&
          s.weight_decay == 0);
    CHECK(a.kind == NN_OPT_ADAM && a.lr == 1e-3 && a.beta1 == 0.9 &&
          a.beta2 == 0.999 && a.eps == 1e-8 && a.weight_decay == 0);
    CHECK(w.kind == NN_OPT_ADAMW && w.lr == 2e-3 && w.weight_decay == 0.01 &&
          w.beta1 == 0.9 && w.beta2 == 0.999 && w.eps == 1e-8);
}

static int same_params(nn_net *a, nn_net *b) {
    return memcmp(nn_params(a), nn_params(b), nn_param_count(a) * sizeof(nn_real)) == 0;
}

static void set_grads(nn_net *net, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t k = 0; k < nn_param_count(net); k++)
        nn_grads(net)[k] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
}

/* reset, a change of optimizer, and plain SGD as nn_sgd_step */
static void check_state(void) {
    nn_opt adam = nn_opt_adam(0.01), mom = nn_opt_sgd(0.1);
    nn_net *a = small_net(1), *b = small_net(1), *c = small_net(1);
    mom.momentum = 0.9;
    /* a: two Adam steps, reset, one step.  b: the same two steps, then a
       fresh net's first step from b's weights = c after copying. */
    set_grads(a, 1);
    nn_step(a, &adam);
    set_grads(a, 2);
    nn_step(a, &adam);
    nn_opt_reset(a);
    memcpy(nn_params(c), nn_params(a), nn_param_count(a) * sizeof(nn_real));
    set_grads(a, 3);
    set_grads(c, 3);
    CHECK(nn_step(a, &adam) == NN_OK);
    CHECK(nn_step(c, &adam) == NN_OK);
    CHECK(same_params(a, c));
    /* switching to momentum SGD starts from a zero buffer */
    memcpy(nn_params(b), nn_params(a), nn_param_count(a) * sizeof(nn_real));
    set_grads(a, 4);
    set_grads(b, 4);
    CHECK(nn_step(a, &mom) == NN_OK); /* a had Adam state */
    nn_opt_reset(b);
    CHECK(nn_step(b, &mom) == NN_OK);
    CHECK(same_params(a, b));
    /* SGD without momentum or decay is nn_sgd_step */
    memcpy(nn_params(b), nn_params(a), nn_param_count(a) * sizeof(nn_real));
    set_grads(a, 5);
    set_grads(b, 5);
    nn_opt sgd = nn_opt_sgd(0.25);
    nn_step(a, &sgd);
    nn_sgd_step(b, NN_R(0.25));
    CHECK(same_params(a, b));
    nn_destroy(a);
    nn_destroy(b);
    nn_destroy(c);
}

/* A NaN or infinite gradient: nn_step refuses, and neither the weights
   nor the state (m, v, t) move, so the run goes on as if the bad step had
   never been asked for. */
static void check_nonfinite_step(void) {
    const nn_opt opts[3] = {nn_opt_adam(0.01), nn_opt_adamw(0.01, 0.1), nn_opt_sgd(0.1)};
    for (int c = 0; c < 3; c++) {
        nn_opt o = opts[c];
        nn_net *a = small_net(2), *b = small_net(2);
        nn_real *before = (nn_real *)malloc(nn_param_count(a) * sizeof(nn_real));
        const nn_real bad[3] = {(nn_real)NAN, (nn_real)INFINITY, -(nn_real)INFINITY};
        o.momentum = c == 2 ? 0.9 : 0;
        set_grads(a, 1);
        set_grads(b, 1);
        nn_step(a, &o);
        nn_step(b, &o);
        for (int k = 0; k < 3; k++) {
            memcpy(before, nn_params(a), nn_param_count(a) * sizeof(nn_real));
            set_grads(a, 9);
            nn_grads(a)[(size_t)(5 + 7 * k)] = bad[k];
            CHECK(nn_step(a, &o) == NN_ERR_NONFINITE);
            CHECK(memcmp(before, nn_params(a), nn_param_count(a) * sizeof(nn_real)) == 0);
        }
        set_grads(a, 2);
        set_grads(b, 2);
        nn_step(a, &o);
        nn_step(b, &o);
        CHECK(same_params(a, b));
        free(before);
        nn_destroy(a);
        nn_destroy(b);
    }
    CHECK(strcmp(nn_result_string(NN_ERR_NONFINITE), "unknown error") != 0);
}

static void check_clip(void) {
    nn_net *net = small_net(3);
    const size_t n = nn_param_count(net);
    memset(nn_grads(net), 0, n * sizeof(nn_real));
    nn_grads(net)[0] = 3;
    nn_grads(net)[n - 1] = -4;
    double norm = 0;
    /* below the limit: nothing changes */
    CHECK(nn_clip_grad_norm(net, 10, &norm) == NN_OK);
    CHECK_NEAR(norm, 5, 1e-12);
    CHECK(nn_grads(net)[0] == 3 && nn_grads(net)[n - 1] == -4);
    /* above: scaled by max / (norm + 1e-6) */
    CHECK(nn_clip_grad_norm(net, 1, &norm) == NN_OK);
    CHECK_NEAR(norm, 5, 1e-12);
    CHECK_NEAR(nn_grads(net)[0], 3 / (5 + 1e-6), TH_DOUBLE ? 1e-15 : 1e-7);
    CHECK_NEAR(nn_grads(net)[n - 1], -4 / (5 + 1e-6), TH_DOUBLE ? 1e-15 : 1e-7);
    CHECK(nn_clip_grad_norm(net, 1, NULL) == NN_OK);
    CHECK(nn_clip_grad_norm(net, 1, &norm) == NN_OK);
    CHECK_NEAR(norm, 1 / (1 + 2e-7), 1e-6);
    /* a limit that is no limit is refused, the gradients untouched */
    CHECK(nn_clip_grad_norm(net, 0, &norm) == NN_ERR_INVALID);
    CHECK(nn_clip_grad_norm(net, -1, &norm) == NN_ERR_INVALID);
    CHECK(nn_clip_grad_norm(net, (double)NAN, &norm) == NN_ERR_INVALID);
    CHECK(nn_clip_grad_norm(net, (double)INFINITY, &norm) == NN_ERR_INVALID);
    /* a NaN norm: NN_ERR_NONFINITE, and the gradients stay as they are */
    nn_grads(net)[1] = (nn_real)NAN;
    CHECK(nn_clip_grad_norm(net, 1, &norm) == NN_ERR_NONFINITE);
    CHECK(isnan(norm));
    CHECK(nn_grads(net)[0] == (nn_real)(3 / (5 + 1e-6)));
    nn_destroy(net);
}

static void check_rng_helpers(void) {
    nn_rng rng;
    size_t counts[5] = {0, 0, 0, 0, 0}, p[20], q[20], r[20], seen[20];
    int ok = 1, same = 1, differ = 0;
    nn_rng_seed(&rng, 1);
    for (int k = 0; k < 50000; k++) counts[nn_rng_below(&rng, 5)]++;
    for (int k = 0; k < 5; k++) ok &= counts[k] > 9500 && counts[k] < 10500;
    CHECK(ok);
    CHECK(nn_rng_below(&rng, 1) == 0);
    if (sizeof(size_t) > 4) {
        /* the 64-bit path: a bound above 2^32 */
        const size_t big = (size_t)((uint64_t)1 << 40 | 12345);
        int in_range = 1, high = 0;
        for (int k = 0; k < 100; k++) {
            size_t v = nn_rng_below(&rng, big);
            in_range &= v < big;
            high |= v > UINT32_MAX;
        }
        CHECK(in_range && high);
    }
    nn_rng_seed(&rng, 7);
    nn_rng_permutation(&rng, p, 20);
    nn_rng_seed(&rng, 7);
    nn_rng_permutation(&rng, q, 20);
    nn_rng_seed(&rng, 8);
    nn_rng_permutation(&rng, r, 20);
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < 20; k++) {
        if (p[k] < 20) seen[p[k]]++;
        same &= p[k] == q[k];
        differ |= p[k] != r[k];
    }
    ok = 1;
    for (int k = 0; k < 20; k++) ok &= seen[k] == 1;
    CHECK(ok);
    CHECK(same);
    CHECK(differ);
    nn_rng_permutation(&rng, p, 0); /* nothing to do, no crash */
}

/* Class weights: the loss by its formula, the gradient by central
   differences, and the edge cases. */
static void check_class_weights(void) {
    enum { B = 5 };
    const nn_real w[2] = {NN_R(0.25), NN_R(3.0)};
    nn_real x[B * 3], y[B * 2];
    double L = 0, L1 = 0;
    nn_net *net = small_net(11), *plain = small_net(11);
    const nn_real *a;
    double num = 0, den = 0, err = 1;
    nn_rng rng;
    nn_rng_seed(&rng, 4);
    for (int k = 0; k < B * 3; k++) x[k] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
    for (int s = 0; s < B; s++) {
        y[2 * s] = (nn_real)(s % 3 == 0);
        y[2 * s + 1] = 1 - y[2 * s];
    }
    CHECK(nn_set_class_weights(net, w) == NN_OK);
    a = nn_forward(net, x, B);
    for (int s = 0; s < B; s++) {
        const int c = y[2 * s + 1] > 0;
        num += (double)w[c] * -log((double)a[2 * s + c]);
        den += (double)w[c];
    }
    CHECK(nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &L) == NN_OK);
    CHECK_NEAR(L, num / den, TH_DOUBLE ? 1e-12 : 1e-5);
    CHECK(nn_gradcheck(net, NN_LOSS_CROSS_ENTROPY, x, y, B, 0, &err, NULL) == NN_OK);
    CHECK(err < (TH_DOUBLE ? 1e-6 : 5e-2));
    /* soft targets too */
    for (int s = 0; s < B; s++) {
        y[2 * s] = (nn_real)(0.2 + 0.15 * s);
        y[2 * s + 1] = 1 - y[2 * s];
    }
    CHECK(nn_gradcheck(net, NN_LOSS_CROSS_ENTROPY, x, y, B, 0, &err, NULL) == NN_OK);
    CHECK(err < (TH_DOUBLE ? 1e-6 : 5e-2));
    /* weights of 1 are no weights, for targets that sum to 1 */
    {
        const nn_real ones[2] = {1, 1};
        nn_set_class_weights(net, ones);
        nn_forward(net, x, B);
        nn_forward(plain, x, B);
        nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &L);
        nn_compute_loss(plain, NN_LOSS_CROSS_ENTROPY, y, &L1);
        CHECK_NEAR(L, L1, TH_DOUBLE ? 1e-14 : 1e-6);
    }
    /* bad weights are refused and the old ones stay */
    {
        const nn_real neg[2] = {1, -1}, nan_w[2] = {(nn_real)NAN, 1};
        const nn_real inf_w[2] = {1, (nn_real)INFINITY};
        nn_set_class_weights(net, w);
        nn_forward(net, x, B);
        nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &L1);
        CHECK(nn_set_class_weights(net, neg) == NN_ERR_INVALID);
        CHECK(nn_set_class_weights(net, nan_w) == NN_ERR_INVALID);
        CHECK(nn_set_class_weights(net, inf_w) == NN_ERR_INVALID);
        nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &L);
        CHECK(L == L1);
    }
    /* a batch of weight 0: loss 0, gradient 0 */
    {
        const nn_real zero_first[2] = {0, 1};
        nn_real yz[B * 2];
        int all_zero = 1;
        for (int s = 0; s < B; s++) {
            yz[2 * s] = 1;
            yz[2 * s + 1] = 0;
        }
        nn_set_class_weights(net, zero_first);
        nn_forward(net, x, B);
        nn_zero_grad(net);
        CHECK(nn_backward(net, NN_LOSS_CROSS_ENTROPY, yz, &L) == NN_OK);
        CHECK(L == 0);
        for (size_t k = 0; k < nn_param_count(net); k++) all_zero &= nn_grads(net)[k] == 0;
        CHECK(all_zero);
    }
    /* NULL removes them */
    nn_set_class_weights(net, NULL);
    nn_forward(net, x, B);
    nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, y, &L);
    nn_compute_loss(plain, NN_LOSS_CROSS_ENTROPY, y, &L1);
    CHECK(L == L1);
    nn_destroy(net);
    nn_destroy(plain);
}

int main(void) {
    check_against_formulas();
    check_defaults();
    check_state();
    check_nonfinite_step();
    check_clip();
    check_rng_helpers();
    check_class_weights();
    return th_report();
}
