/* No bad number gets through: every setting, size and datum a caller
   passes at run time is refused in every build (make test runs this in a
   -DNDEBUG build too) with an error code and nothing changed; a step that
   would make any weight or optimizer state non-finite is never taken; NaN
   is never silent; model files are checked for what their values mean,
   and nn_save refuses what nn_load would.  Each check here failed before
   nn.h made it hold. */
#define COUNTING_ALLOC_DEFINE
#include "counting_alloc.h" /* t_largest: the largest block nn.h asked for */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static nn_net *make(size_t L, const size_t *sizes, const nn_act *acts) {
    nn_net *net = nn_create(L, sizes, acts, 7, NULL);
    if (!net) {
        printf("nn_create failed\n");
        exit(1);
    }
    return net;
}

/* 3 -> 5 tanh -> 2 softmax */
static nn_net *small(void) {
    static const size_t sizes[] = {3, 5, 2};
    static const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    return make(2, sizes, acts);
}

static const nn_real X[4 * 3] = {NN_R(0.1), NN_R(-0.5), NN_R(0.9), NN_R(-1.0),
                                 NN_R(0.3), NN_R(0.2),  NN_R(0.7), NN_R(0.7),
                                 NN_R(-0.2), NN_R(0.0), NN_R(-0.8), NN_R(0.4)};
static const nn_real Y[4 * 2] = {1, 0, 0, 1, 1, 0, 0, 1};

/* everything a net is, as bytes: parameters, class weights, generator and
   optimizer state (nn_save_mem), and its gradients */
typedef struct snap {
    unsigned char *model;
    size_t len;
    nn_real *grads;
} snap;

static snap take(nn_net *net) {
    snap s;
    s.len = nn_save_size(net);
    s.model = (unsigned char *)malloc(s.len);
    s.grads = (nn_real *)malloc(nn_param_count(net) * sizeof(nn_real));
    if (!s.model || !s.grads || nn_save_mem(net, s.model, s.len) != NN_OK) {
        printf("snapshot failed\n");
        exit(1);
    }
    memcpy(s.grads, nn_grads(net), nn_param_count(net) * sizeof(nn_real));
    return s;
}

/* the net is exactly as the snapshot, its gradients too unless they may
   have changed (nn_train fills them); frees the snapshot */
static int same_as(nn_net *net, snap s, int grads) {
    int ok = nn_save_size(net) == s.len;
    unsigned char *now = (unsigned char *)malloc(s.len);
    ok = ok && now && nn_save_mem(net, now, s.len) == NN_OK && memcmp(now, s.model, s.len) == 0 &&
         (!grads || memcmp(nn_grads(net), s.grads, nn_param_count(net) * sizeof(nn_real)) == 0);
    free(now);
    free(s.model);
    free(s.grads);
    return ok;
}
static int same(nn_net *net, snap s) { return same_as(net, s, 1); }
static int same_model(nn_net *net, snap s) { return same_as(net, s, 0); }

static int all_finite(const nn_real *v, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!(v[k] - v[k] == 0)) return 0;
    return 1;
}

/* a net with optimizer state (one Adam step) and gradients in place */
static nn_net *stepped(nn_opt_kind kind) {
    nn_net *net = small();
    nn_opt o = kind == NN_OPT_SGD ? nn_opt_sgd(0.1) : nn_opt_adam(0.01);
    o.momentum = kind == NN_OPT_SGD ? 0.9 : 0;
    nn_forward(net, X, 4);
    nn_zero_grad(net);
    if (nn_backward(net, NN_LOSS_CROSS_ENTROPY, Y, NULL) != NN_OK || nn_step(net, &o) != NN_OK) {
        printf("setup failed\n");
        exit(1);
    }
    nn_forward(net, X, 4);
    nn_zero_grad(net);
    nn_backward(net, NN_LOSS_CROSS_ENTROPY, Y, NULL);
    return net;
}

/* ---- optimizer settings ---------------------------------------------- */

static void check_step_settings(void) {
    const double inf = (double)INFINITY, nan_ = (double)NAN;
    /* the last: infinite once rounded to float */
    const double bad_lr[] = {inf, -inf, nan_, -0.1, TH_DOUBLE ? -1e-300 : 1e39};
    for (int kind = 0; kind < NN_OPT_COUNT; kind++) {
        for (size_t c = 0; c < 14; c++) {
            nn_net *net = stepped((nn_opt_kind)kind);
            nn_opt o = kind == NN_OPT_SGD ? nn_opt_sgd(0.1) : nn_opt_adam(0.01);
            snap s;
            o.kind = (nn_opt_kind)kind;
            if (c < 5) o.lr = bad_lr[c];
            else if (c == 5) o.weight_decay = nan_;
            else if (c == 6) o.weight_decay = inf;
            else if (c == 7) o.weight_decay = -1;
            else if (kind == NN_OPT_SGD) {
                if (c == 8) o.momentum = nan_;
                else if (c == 9) o.momentum = 1;
                else if (c == 10) o.momentum = -0.5;
                else o.kind = NN_OPT_COUNT;
            } else {
                if (c == 8) o.beta1 = 1;
                else if (c == 9) o.beta1 = 2;
                else if (c == 10) o.beta1 = nan_;
                else if (c == 11) o.beta2 = 1;
                else if (c == 12) o.eps = nan_;
                else o.eps = 0;
            }
            s = take(net);
            CHECK(nn_step(net, &o) == NN_ERR_INVALID);
            CHECK(same(net, s));
            nn_destroy(net);
        }
    }
    {
        /* SGD reads no Adam setting: an nn_opt zeroed by hand still steps */
        nn_net *net = stepped(NN_OPT_SGD);
        nn_opt o;
        memset(&o, 0, sizeof o);
        o.lr = 0.1;
        CHECK(nn_step(net, &o) == NN_OK);
        nn_destroy(net);
    }
    {
        nn_net *net = stepped(NN_OPT_SGD);
        snap s = take(net);
        CHECK(nn_step(net, NULL) == NN_ERR_INVALID);
        CHECK(nn_sgd_step(net, (nn_real)INFINITY) == NN_ERR_INVALID);
        CHECK(nn_sgd_step(net, NN_R(-0.5)) == NN_ERR_INVALID);
        CHECK(nn_sgd_step(net, (nn_real)NAN) == NN_ERR_INVALID);
        CHECK(same(net, s));
        nn_destroy(net);
    }
}

#ifndef NN_REFERENCE
/* nn_step's bounds never call a step finite that is not: over random
   weights, gradients and state of every size up to the largest real, and
   settings from tiny to large, whenever nn__step_bounded says finite,
   nn__step_check_ref (which computes every new value) agrees.  Both are
   asked about the same net and constants. */
static void check_step_bounds(void) {
    nn_net *net = stepped(NN_OPT_ADAM);
    const size_t P = nn_param_count(net);
    const int top = TH_DOUBLE ? 308 : 38;
    nn_rng rng;
    long asked = 0, bounded = 0, wrong = 0;
    nn_rng_seed(&rng, 5);
    for (int round = 0; round < 3000; round++) {
        const int e = top - (int)(nn_rng_u32(&rng) % 24); /* 10^(top-23) .. 10^top */
        nn_opt o = round % 3 == 0 ? nn_opt_adam(0.01) : nn_opt_sgd(0.1);
        nn__opt_k k;
        double lr = pow(10.0, (double)(nn_rng_u32(&rng) % 9) - 4); /* 1e-4 .. 1e4 */
        nn_real *w = nn_params(net), *g = nn_grads(net);
        for (size_t i = 0; i < P; i++) {
            const double mag = pow(10.0, (double)(e - (int)(nn_rng_u32(&rng) % 4)));
            const double sign = nn_rng_u32(&rng) % 2 ? 1 : -1;
            w[i] = (nn_real)(sign * mag * nn_rng_uniform(&rng));
            g[i] = (nn_real)(-sign * mag * nn_rng_uniform(&rng));
            net->opt_m[i] = (nn_real)(mag * (nn_rng_uniform(&rng) - 0.5));
            net->opt_v[i] = (nn_real)(mag * nn_rng_uniform(&rng));
        }
        o.lr = lr;
        o.weight_decay = round % 5 == 0 ? 0.5 : 0;
        if (round % 3 == 1) {
            o.momentum = 0.9;
            o.nesterov = round % 2;
        }
        if (round % 3 == 0) o.eps = pow(10.0, -(double)(nn_rng_u32(&rng) % (TH_DOUBLE ? 300 : 40)));
        if (round % 6 == 3) {
            o.kind = NN_OPT_ADAMW;
            o.eps = 1e-8;
        }
        k = nn__opt_consts(&o, 1 + nn_rng_u32(&rng) % 1000);
        k.fresh = 0;
        asked++;
        if (nn__step_bounded(net, &k)) {
            bounded++;
            wrong += !nn__step_check_ref(net, &k);
        }
    }
    printf("  step bounds: %ld of %ld random steps bounded, %ld wrongly\n", bounded, asked, wrong);
    CHECK(wrong == 0);
    CHECK(bounded > asked / 10 && bounded < asked); /* both answers were given */
    nn_destroy(net);
}
#endif

/* A step that would make a weight, m or v non-finite is refused whole:
   the net is bit for bit as before (weights, m, v, t, gradients). */
static void check_step_results(void) {
    /* Adam's v overflows on a finite gradient: g^2 is infinite in float
       for g = 1e30, in double for g = 1e200 */
    const nn_real big = TH_DOUBLE ? (nn_real)1e200 : (nn_real)1e30;
    for (int kind = 0; kind < 3; kind++) {
        nn_net *net = stepped(kind == 0 ? NN_OPT_ADAM : NN_OPT_SGD);
        nn_opt o = kind == 0 ? nn_opt_adam(0.01) : nn_opt_sgd(0.1);
        snap s;
        if (kind == 0) { /* Adam: v = b2 v + (1 - b2) g^2 overflows */
            nn_grads(net)[3] = big;
        } else if (kind == 1) { /* momentum: lr m overflows */
            o.momentum = 0.9;
            o.nesterov = 1;
            o.lr = 10;
            nn_grads(net)[3] = TH_DOUBLE ? (nn_real)1e308 : (nn_real)3e38;
        } else { /* plain SGD: lr g overflows */
            o.lr = TH_DOUBLE ? 1e10 : 1e30;
            nn_grads(net)[3] = TH_DOUBLE ? (nn_real)1e300 : (nn_real)1e10;
        }
        s = take(net);
        CHECK(nn_step(net, &o) == NN_ERR_NONFINITE);
        CHECK(same(net, s));
        nn_destroy(net);
    }
    {
        /* a weight near the largest real, which the step leaves finite:
           past the bounds that let nn_step skip computing the step twice,
           the step is computed, found finite and taken, by every optimizer */
        const nn_real huge = TH_DOUBLE ? (nn_real)1e308 : (nn_real)3e38;
        const nn_real half = (nn_real)(huge / 2);
        for (int kind = 0; kind < 3; kind++) {
            nn_net *net = stepped(kind == 0 ? NN_OPT_ADAM : NN_OPT_SGD);
            nn_opt o = kind == 0 ? nn_opt_adam(0.01) : nn_opt_sgd(0.1);
            o.momentum = kind == 1 ? 0.9 : 0;
            nn_params(net)[3] = huge;
            nn_grads(net)[3] = 0;
            CHECK(nn_step(net, &o) == NN_OK);
            CHECK(nn_params(net)[3] > half && nn_params(net)[3] <= huge);
            nn_destroy(net);
        }
    }
    {
        /* a step with another kind of optimizer would start from fresh
           state; refused, the old state (Adam's m, v, t) stays */
        nn_net *net = stepped(NN_OPT_ADAM);
        nn_opt o = nn_opt_sgd(0.1);
        snap s;
        o.momentum = 0.9;
        nn_grads(net)[0] = (nn_real)NAN;
        s = take(net);
        CHECK(nn_step(net, &o) == NN_ERR_NONFINITE);
        CHECK(same(net, s));
        nn_grads(net)[0] = 0;
        CHECK(nn_step(net, &o) == NN_OK); /* and then it does start afresh */
        CHECK(net->opt_kind == NN_OPT_SGD && net->opt_t == 1);
        nn_destroy(net);
    }
    {
        /* gradcheck with a step that overflows the loss: every weight 2,
           both layers linear, so W[0][0] + h times x = -1 (row 1) times
           2 is beyond the largest real */
        static const size_t s2[] = {3, 2, 1};
        static const nn_act lin[] = {NN_ACT_LINEAR, NN_ACT_LINEAR};
        const nn_real y1[4] = {0, 1, 1, 0};
        nn_net *net = make(2, s2, lin);
        double e = 0;
        snap s;
        for (size_t k = 0; k < nn_param_count(net); k++) nn_params(net)[k] = 2;
        s = take(net);
        CHECK(nn_gradcheck(net, NN_LOSS_MSE, X, y1, 4,
                           TH_DOUBLE ? (nn_real)1e308 : (nn_real)3e38, &e, NULL) ==
              NN_ERR_NONFINITE);
        CHECK(same_model(net, s));
        nn_destroy(net);
    }
    {
        /* plain gradient descent likewise, and from a NaN weight */
        nn_net *net = stepped(NN_OPT_SGD);
        snap s;
        nn_grads(net)[0] = TH_DOUBLE ? (nn_real)1e308 : (nn_real)3e38;
        s = take(net);
        CHECK(nn_sgd_step(net, 10) == NN_ERR_NONFINITE);
        CHECK(same(net, s));
        nn_grads(net)[0] = 0;
        nn_params(net)[1] = (nn_real)NAN;
        CHECK(nn_sgd_step(net, NN_R(0.1)) == NN_ERR_NONFINITE);
        CHECK(isnan(nn_params(net)[1]) && nn_params(net)[0] == nn_params(net)[0]);
        nn_destroy(net);
    }
    {
        /* an eps that is 0 in float: refused, where a zero gradient made
           0 / 0; in double it is not 0, and the step is 0 / eps = 0 */
        nn_net *net = small();
        nn_opt o = nn_opt_adam(0.01);
        o.eps = 1e-50;
        memset(nn_grads(net), 0, nn_param_count(net) * sizeof(nn_real));
        CHECK(nn_step(net, &o) == (TH_DOUBLE ? NN_OK : NN_ERR_INVALID));
        CHECK(all_finite(nn_params(net), nn_param_count(net)));
        nn_destroy(net);
    }
}

/* ---- training -------------------------------------------------------- */

static nn_train_config train_cfg(void) {
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    cfg.epochs = 2;
    cfg.batch_size = 2;
    return cfg;
}

static void check_train_settings(void) {
    for (int c = 0; c < 17; c++) {
        nn_net *net = stepped(NN_OPT_SGD);
        nn_train_config cfg = train_cfg();
        nn_train_report rep;
        size_t n = 4;
        snap s;
        /* plain SGD, the fused path, for the learning-rate cases */
        if (c < 4) cfg.opt = nn_opt_sgd(0.1);
        switch (c) {
        case 0: cfg.opt.lr = -0.1; break;
        case 1: cfg.opt.weight_decay = -0.01; break;
        case 2: cfg.opt.lr = (double)NAN; break;
        case 3: cfg.opt.lr = (double)INFINITY; break;
        case 4: cfg.batch_size = 0; break; /* hung forever with -DNDEBUG */
        case 5: n = 0; break;              /* returned NN_OK */
        case 6: cfg.epochs = 0; break;
        case 7: cfg.schedule = NN_SCHEDULE_STEP; cfg.gamma = (double)NAN; break;
        case 8: cfg.schedule = NN_SCHEDULE_STEP; cfg.gamma = (double)INFINITY; break;
        case 9: cfg.schedule = NN_SCHEDULE_STEP; cfg.gamma = -1; break;
        case 10: cfg.schedule = NN_SCHEDULE_STEP; cfg.step_epochs = 0; break;
        case 11: cfg.schedule = NN_SCHEDULE_COSINE; cfg.lr_min = -1; break;
        case 12: cfg.schedule = NN_SCHEDULE_COUNT; break;
        case 13: cfg.clip_norm = (double)NAN; break;
        case 14: cfg.clip_norm = -1; break;
        case 15: cfg.val_n = 3; break; /* and no val_x */
        default: cfg.loss = NN_LOSS_COUNT; break;
        }
        s = take(net);
        rep.stop = NN_STOP_EPOCHS;
        CHECK(nn_train(net, &cfg, X, Y, n, &rep) == NN_ERR_INVALID);
        CHECK(rep.stop == NN_STOP_ERROR && rep.epochs == 0);
        CHECK(same(net, s));
        nn_destroy(net);
    }
}

/* targets each loss refuses, in nn_train, nn_backward, nn_compute_loss,
   nn_input_grad and nn_evaluate */
static void check_targets(void) {
    static const size_t sizes[] = {3, 4, 1};
    static const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SIGMOID};
    const nn_real labels[4] = {0, 3, 9, 1}; /* class labels, not in [0, 1] */
    const nn_real neg[4 * 2] = {1, 0, NN_R(-0.5), NN_R(1.5), 1, 0, 0, 1};
    const nn_real nan_y[4 * 2] = {1, 0, 0, 1, (nn_real)NAN, 0, 0, 1};
    nn_real dx[4 * 3];
    double L = 0;
    for (int which = 0; which < 3; which++) {
        nn_net *net = which == 0 ? make(2, sizes, acts) : small();
        const nn_loss loss = which == 0 ? NN_LOSS_BINARY_CROSS_ENTROPY : NN_LOSS_CROSS_ENTROPY;
        const nn_real *y = which == 0 ? labels : which == 1 ? neg : nan_y;
        const nn_result want = which == 2 ? NN_ERR_NONFINITE : NN_ERR_INVALID;
        nn_train_config cfg = train_cfg();
        snap s;
        cfg.loss = loss;
        nn_forward(net, X, 4);
        s = take(net);
        CHECK(nn_train(net, &cfg, X, y, 4, NULL) == want);
        CHECK(nn_backward(net, loss, y, &L) == want);
        CHECK(nn_compute_loss(net, loss, y, &L) == want);
        CHECK(nn_input_grad(net, loss, y, dx) == want);
        CHECK(same(net, s));
        CHECK(nn_evaluate(net, loss, X, y, 4, &L, NULL) == want);
        nn_destroy(net);
    }
}

static void check_before_forward(void) {
    nn_net *net = small();
    double L = 0;
    nn_real dx[3];
    CHECK(nn_backward(net, NN_LOSS_CROSS_ENTROPY, Y, &L) == NN_ERR_INVALID);
    CHECK(nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, Y, &L) == NN_ERR_INVALID);
    CHECK(nn_input_grad(net, NN_LOSS_CROSS_ENTROPY, Y, dx) == NN_ERR_INVALID);
    CHECK(nn_output_grad(net, 0, dx) == NN_ERR_INVALID);
    nn_forward(net, X, 1);
    CHECK(nn_output_grad(net, 2, dx) == NN_ERR_INVALID); /* 2 outputs */
    CHECK(nn_output_grad(net, 1, dx) == NN_OK);
    nn_destroy(net);
}

/* A learning rate so large that the first step overflows the weights:
   nn_train used to take that step (the gradient was finite), return
   NN_ERR_NONFINITE at the next batch and leave infinite weights behind.
   Now the step is refused and the net is as it was, on the fused plain
   SGD path (batches of 1 and 4) and through nn_step (Nesterov). */
static void check_train_refuses_step(void) {
    static const size_t sizes[] = {2, 3, 1};
    static const nn_act acts[] = {NN_ACT_TANH, NN_ACT_LINEAR};
    const nn_real x[4 * 2] = {1, 2, 2, 1, 1, 1, 2, 2};
    const nn_real y[4] = {100, 100, 100, 100}; /* every |g| well above 1 */
    for (int c = 0; c < 3; c++) {
        nn_net *net = make(2, sizes, acts);
        nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
        nn_train_report rep;
        snap s = take(net);
        cfg.opt = nn_opt_sgd(TH_DOUBLE ? 1e308 : 3e38);
        cfg.opt.momentum = c == 2 ? 0.9 : 0;
        cfg.opt.nesterov = c == 2;
        cfg.epochs = 3;
        cfg.batch_size = c == 0 ? 1 : 4;
        cfg.shuffle = 0; /* the generator stays as it was too */
        CHECK(nn_train(net, &cfg, x, y, 4, &rep) == NN_ERR_NONFINITE);
        CHECK(rep.stop == NN_STOP_ERROR);
        CHECK(same_model(net, s));
        nn_destroy(net);
    }
}

/* Adam on finite data whose g^2 overflows: nn_train refuses the very
   first step, the net stays as it was, and its model still loads. */
static void check_train_overflow(void) {
    static const size_t sizes[] = {2, 1};
    static const nn_act acts[] = {NN_ACT_LINEAR};
    const nn_real big = TH_DOUBLE ? (nn_real)1e100 : (nn_real)1e18;
    const nn_real x[2 * 2] = {big, 1, 1, big}, y[2] = {0, 1};
    nn_net *net = make(1, sizes, acts), *back;
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    unsigned char buf[512];
    nn_result err;
    snap s = take(net);
    cfg.epochs = 3;
    cfg.shuffle = 0;
    CHECK(nn_train(net, &cfg, x, y, 2, NULL) == NN_ERR_NONFINITE);
    CHECK(same_model(net, s));
    CHECK(nn_save_mem(net, buf, sizeof buf) == NN_OK);
    back = nn_load_mem(buf, nn_save_size(net), &err);
    CHECK(back && err == NN_OK);
    nn_destroy(back);
    nn_destroy(net);
}

/* On the fused plain-SGD path a learning rate too large for the weights
   is refused too (a bound the path keeps, then the exact check). */
static void check_fused_overflow(void) {
    static const size_t sizes[] = {20, 3, 1};
    static const nn_act acts[] = {NN_ACT_TANH, NN_ACT_LINEAR};
    nn_real x[8 * 20], y[8];
    nn_net *net = make(2, sizes, acts);
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    for (size_t k = 0; k < 8 * 20; k++) x[k] = (nn_real)(k % 7) - 3;
    for (size_t k = 0; k < 8; k++) y[k] = (nn_real)k;
    cfg.opt = nn_opt_sgd(TH_DOUBLE ? 1e306 : 1e37);
    cfg.epochs = 50;
    for (size_t B = 1; B <= 8; B += 7) { /* the row path and the tile path */
        cfg.batch_size = B;
        CHECK(nn_train(net, &cfg, x, y, 8, NULL) == NN_ERR_NONFINITE);
        CHECK(all_finite(nn_params(net), nn_param_count(net)));
    }
    nn_destroy(net);
}

static void check_report(void) {
    nn_net *net = small();
    nn_train_config cfg = train_cfg();
    nn_train_report rep;
    cfg.epochs = 5;
    CHECK(nn_train(net, &cfg, X, Y, 4, &rep) == NN_OK);
    CHECK(rep.stop == NN_STOP_EPOCHS && rep.epochs == 5 && rep.best_epoch == 0);
    /* early stopping: lr 0 never improves after the first epoch */
    cfg.opt = nn_opt_sgd(0);
    cfg.patience = 2;
    cfg.shuffle = 0; /* the same sum every epoch, to the last bit */
    CHECK(nn_train(net, &cfg, X, Y, 4, &rep) == NN_OK);
    CHECK(rep.stop == NN_STOP_EARLY && rep.epochs == 3 && rep.best_epoch == 1);
    CHECK(rep.best_loss > 0);
    nn_destroy(net);
}

/* ---- NaN is never silent --------------------------------------------- */

static void check_nan(void) {
    static const size_t sizes[] = {3, 4, 2};
    static const nn_act acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_real x[4 * 3], a[2], scratch[16];
    size_t classes[4] = {99, 99, 99, 99}, counts[4] = {7, 7, 7, 7};
    double L = -1, acc = -1;
    nn_net *net = make(2, sizes, acts);
    memcpy(x, X, sizeof x);
    x[4] = (nn_real)NAN;
    /* ReLU passes NaN on, as PyTorch's relu does (it used to give 0) */
    {
        const nn_real z[3] = {(nn_real)NAN, -1, 2};
        nn_real r[3];
        nn__act_forward(r, z, 1, 3, NN_ACT_RELU);
        CHECK(isnan(r[0]) && r[1] == 0 && r[2] == 2);
    }
    CHECK(nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, x, Y, 4, &L, &acc) == NN_ERR_NONFINITE);
    CHECK(L == -1 && acc == -1);
    CHECK(nn_classify(net, x, 4, classes) == NN_ERR_NONFINITE);
    CHECK(classes[0] == 99);
    CHECK(nn_confusion_matrix(net, x, Y, 4, counts) == NN_ERR_NONFINITE);
    CHECK(counts[0] == 7);
    /* a NaN input row comes out NaN through the ReLU, not a confident
       prediction */
    CHECK(nn_predict(net, x + 3, 1, scratch, a) == NN_OK);
    CHECK(isnan(a[0]) && isnan(a[1]));
    /* a NaN weight behind a ReLU: the loss is NaN, so backward refuses */
    nn_params(net)[0] = (nn_real)NAN;
    nn_forward(net, X, 4);
    CHECK(nn_backward(net, NN_LOSS_CROSS_ENTROPY, Y, &L) == NN_ERR_NONFINITE);
    CHECK(nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, X, Y, 4, &L, &acc) == NN_ERR_NONFINITE);
    nn_destroy(net);
    {
        /* finite weights and inputs, an output that overflows (row 2:
           1.6 times the largest real) */
        static const size_t s2[] = {3, 1};
        static const nn_act sig[] = {NN_ACT_LINEAR};
        const nn_real big = TH_DOUBLE ? (nn_real)1e308 : (nn_real)3e38;
        const nn_real y1[4] = {0, 1, 1, 0};
        net = make(1, s2, sig);
        for (size_t k = 0; k < 3; k++) nn_params(net)[k] = big;
        L = -1;
        CHECK(nn_evaluate(net, NN_LOSS_MSE, X, y1, 4, &L, NULL) == NN_ERR_NONFINITE);
        CHECK(L == -1);
        nn_destroy(net);
    }
}

/* ---- sizes and the rough edges --------------------------------------- */

static void check_sizes(void) {
    const size_t sizes[] = {3, 0, 2}, huge[] = {(size_t)-1 / 4, 5};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX}, bad[] = {NN_ACT_COUNT, NN_ACT_LINEAR};
    const size_t ok_sizes[] = {3, 5, 2};
    nn_result err = NN_OK;
    nn_net *net;
    nn_real scratch[64], out[8];
    nn_rng rng;
    CHECK(nn_create(2, sizes, acts, 1, &err) == NULL && err == NN_ERR_INVALID);
    CHECK(nn_create(0, ok_sizes, acts, 1, &err) == NULL && err == NN_ERR_INVALID);
    CHECK(nn_create(2, ok_sizes, bad, 1, &err) == NULL && err == NN_ERR_INVALID);
    CHECK(nn_create(2, NULL, acts, 1, &err) == NULL && err == NN_ERR_INVALID);
    CHECK(nn_create(1, huge, acts, 1, &err) == NULL && err == NN_ERR_NOMEM);
    net = nn_create(2, ok_sizes, acts, 1, &err);
    CHECK(net && err == NN_OK);
    CHECK(nn_forward(net, X, 0) == NULL && nn_forward(net, NULL, 2) == NULL);
    CHECK(nn_predict(net, X, 0, scratch, out) == NN_ERR_INVALID);
    CHECK(nn_size(net, 3) == 0 && nn_layer_act(net, 2) == NN_ACT_COUNT);
    CHECK(nn_layer_params(net, 2) == NULL);
    {
        double e;
        CHECK(nn_gradcheck(net, NN_LOSS_CROSS_ENTROPY, X, Y, 0, 0, &e, NULL) == NN_ERR_INVALID);
        CHECK(nn_gradcheck(net, NN_LOSS_CROSS_ENTROPY, X, Y, 2, (nn_real)NAN, &e, NULL) ==
              NN_ERR_INVALID);
        CHECK(nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, X, Y, 0, &e, NULL) == NN_ERR_INVALID);
    }
    nn_rng_seed(&rng, 1);
    CHECK(nn_rng_below(&rng, 0) == 0); /* divided by zero before */
    nn_destroy(net);
}

static void check_classes(void) {
    static const size_t sizes[] = {3, 4, 1};
    static const nn_act sig[] = {NN_ACT_TANH, NN_ACT_SIGMOID}, lin[] = {NN_ACT_TANH, NN_ACT_LINEAR};
    const nn_real w[1] = {2};
    const nn_real y1[4] = {0, 1, 1, 0};
    size_t classes[4], counts[4], labels[4] = {1, 0, 2, 1};
    nn_real onehot[4 * 3], keep[4 * 3];
    double L, acc;
    nn_net *bce = make(2, sizes, sig), *reg = make(2, sizes, lin);
    /* class weights apply to cross-entropy only: refused on a sigmoid
       output, where they used to be accepted and then ignored */
    CHECK(nn_set_class_weights(bce, w) == NN_ERR_INVALID);
    /* a regression has no classes */
    CHECK(nn_evaluate(reg, NN_LOSS_MSE, X, y1, 4, &L, &acc) == NN_ERR_INVALID);
    CHECK(nn_evaluate(reg, NN_LOSS_MSE, X, y1, 4, &L, NULL) == NN_OK);
    CHECK(nn_classify(reg, X, 4, classes) == NN_ERR_INVALID);
    CHECK(nn_confusion_matrix(reg, X, y1, 4, counts) == NN_ERR_INVALID);
    CHECK(nn_evaluate(bce, NN_LOSS_BINARY_CROSS_ENTROPY, X, y1, 4, &L, &acc) == NN_OK);
    /* class labels to one-hot rows, for 10-class training in one call */
    CHECK(nn_one_hot(onehot, labels, 4, 3) == NN_OK);
    CHECK(onehot[1] == 1 && onehot[0] == 0 && onehot[3] == 1 && onehot[8] == 1 && onehot[10] == 1);
    memcpy(keep, onehot, sizeof keep);
    labels[2] = 3;
    CHECK(nn_one_hot(onehot, labels, 4, 3) == NN_ERR_INVALID);
    CHECK(nn_one_hot(onehot, labels, 4, 0) == NN_ERR_INVALID);
    CHECK(memcmp(keep, onehot, sizeof keep) == 0);
    nn_destroy(bce);
    nn_destroy(reg);
}

static int val_acc_is_nan;
static int see_val(const nn_train_info *info, void *user) {
    (void)user;
    val_acc_is_nan = info->has_val && isnan(info->val_accuracy);
    return 0;
}

static void check_val_accuracy(void) {
    static const size_t sizes[] = {3, 4, 1};
    static const nn_act lin[] = {NN_ACT_TANH, NN_ACT_LINEAR};
    const nn_real y1[4] = {0, 1, 1, 0};
    nn_net *reg = make(2, sizes, lin);
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    cfg.epochs = 1;
    cfg.val_x = X;
    cfg.val_y = y1;
    cfg.val_n = 4;
    cfg.on_epoch = see_val;
    CHECK(nn_train(reg, &cfg, X, y1, 4, NULL) == NN_OK);
    CHECK(val_acc_is_nan);
    nn_destroy(reg);
}

/* ---- model files ----------------------------------------------------- */

/* a valid model of the net with field `at` (bytes from the end of the
   parameters) replaced, its CRC made right again */
static nn_result load_edited(const nn_net *net, size_t at_from_end, const void *v, size_t n) {
    const size_t len = nn_save_size(net);
    unsigned char *b = (unsigned char *)malloc(len);
    uint32_t crc;
    nn_result err = NN_OK;
    nn_net *back;
    if (!b || nn_save_mem(net, b, len) != NN_OK) return NN_ERR_NOMEM;
    memcpy(b + len - 4 - at_from_end, v, n);
    crc = nn__crc32(0, b, len - 4);
    for (int i = 0; i < 4; i++) b[len - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
    back = nn_load_mem(b, len, &err);
    nn_destroy(back);
    free(b);
    return back ? NN_OK : err;
}

static void check_files_values(void) {
    nn_net *net = stepped(NN_OPT_ADAM);
    const size_t P = nn_param_count(net), rs = sizeof(nn_real);
    const nn_real m1 = -1;
    unsigned char minus[8], bits[8], t[8];
    /* -1 as the file stores it, little-endian on every host */
    memcpy(bits, &m1, rs);
    for (size_t i = 0; i < rs; i++) {
        const uint16_t one = 1;
        unsigned char first;
        memcpy(&first, &one, 1);
        minus[i] = first ? bits[i] : bits[rs - 1 - i];
    }
    unsigned char buf[4096];
    /* a negative second moment (the last v), with a valid CRC */
    CHECK(load_edited(net, rs, minus, rs) == NN_ERR_UNSUPPORTED);
    CHECK(load_edited(net, rs, minus, 0) == NN_OK); /* the control */
    /* a step count near 2^64: t + 1 wrapped to 0; 2^53 + 1 is past the
       most a double counts exactly; 2^53 itself loads */
    for (int i = 0; i < 8; i++) t[i] = 0xff;
    CHECK(load_edited(net, 2 * P * rs + 8, t, 8) == NN_ERR_UNSUPPORTED);
    t[0] = 0xfe;
    CHECK(load_edited(net, 2 * P * rs + 8, t, 8) == NN_ERR_UNSUPPORTED);
    memset(t, 0, 8);
    t[0] = 1;
    t[6] = 0x20;
    CHECK(load_edited(net, 2 * P * rs + 8, t, 8) == NN_ERR_UNSUPPORTED);
    t[0] = 0;
    CHECK(load_edited(net, 2 * P * rs + 8, t, 8) == NN_OK);
    /* nn_save_mem and nn_save refuse a net holding a NaN */
    nn_params(net)[2] = (nn_real)NAN;
    CHECK(nn_save_mem(net, buf, sizeof buf) == NN_ERR_NONFINITE);
    nn_params(net)[2] = 0;
    net->opt_v[1] = -1;
    CHECK(nn_save_mem(net, buf, sizeof buf) == NN_ERR_INVALID);
    nn_destroy(net);
}

static long size_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void check_save_files(const char *dir) {
    char path[600], cmd[1400], longname[600];
    nn_net *net = small(), *other = small(), *back;
    nn_result err;
    struct stat st;
    snprintf(path, sizeof path, "%s/m.nn", dir);
    CHECK(nn_save(net, path) == NN_OK);
    /* a NaN weight: refused, and the good model on disk stays */
    nn_params(other)[0] = (nn_real)NAN;
    CHECK(nn_save(other, path) == NN_ERR_NONFINITE);
    back = nn_load(path, &err);
    CHECK(back && err == NN_OK);
    nn_destroy(back);
    /* the model's permission bits are kept (0644 they became) */
    CHECK(chmod(path, 0640) == 0);
    CHECK(nn_save(net, path) == NN_OK);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    /* a 253-character name: its ".tmp" would not fit NAME_MAX */
    {
        size_t d = strlen(dir);
        memcpy(longname, dir, d);
        longname[d] = '/';
        memset(longname + d + 1, 'm', 253);
        longname[d + 254] = '\0';
        CHECK(nn_save(net, longname) == NN_OK);
        back = nn_load(longname, &err);
        CHECK(back && err == NN_OK);
        nn_destroy(back);
        remove(longname);
    }
    /* anything but a regular file is left alone: a FIFO (as a device
       would be: as root, saving to /dev/null replaced the device node;
       not tried here, since a regression would do it again), a
       directory */
    {
        char fifo[620];
        snprintf(fifo, sizeof fifo, "%s/fifo", dir);
        snprintf(cmd, sizeof cmd, "mkfifo '%s'", fifo);
        if (system(cmd) == 0) {
            CHECK(nn_save(net, fifo) == NN_ERR_IO);
            CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
            remove(fifo);
        }
    }
    CHECK(nn_save(net, dir) == NN_ERR_IO);
    /* no temporary file is left behind */
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '^\\.nn-'", dir);
    CHECK(system(cmd) != 0);
    /* a 180-byte-class model followed by a hole to 1 TiB: NN_ERR_TRAILING,
       with no allocation of anything like the file's size */
    snprintf(cmd, sizeof cmd, "truncate -s 1T '%s' 2>/dev/null", path);
    if (sizeof(long) >= 8 && system(cmd) == 0 && size_of(path) > 0) {
        t_largest = 0;
        CHECK(nn_load(path, &err) == NULL && err == NN_ERR_TRAILING);
        CHECK(t_largest < 4096);
    }
    remove(path);
    nn_destroy(net);
    nn_destroy(other);
}

int main(int argc, char **argv) {
    char dir[300];
    if (!th_scratch_dir(dir, sizeof dir, "checks", argc > 1 ? argv[1] : "/tmp")) return 1;
    check_step_settings();
    check_step_results();
#ifndef NN_REFERENCE
    check_step_bounds();
#endif
    check_train_settings();
    check_targets();
    check_before_forward();
    check_train_refuses_step();
    check_train_overflow();
    check_fused_overflow();
    check_report();
    check_nan();
    check_sizes();
    check_classes();
    check_val_accuracy();
    check_files_values();
    check_save_files(dir);
    th_scratch_done(dir);
    return th_report();
}
