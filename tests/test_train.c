/* nn_train is the separate calls in a loop: checked against that loop
   written out by hand, bit for bit; its order, schedules, early stopping,
   non-finite guard, callbacks and one-time allocation; and the evaluation
   helpers. */
#include "counting_alloc.h"
#include "../nn.h"
#include "harness.h"

#include <string.h>

enum { N = 10, N_IN = 3, N_OUT = 2, MAX_EPOCHS = 64, WIDE = 35 };

/* wide_x: rows of WIDE inputs (two runs of 16 and a tail) */
static nn_real data_x[N * N_IN], data_y[N * N_OUT], wide_x[N * WIDE];

static void make_data(void) {
    nn_rng rng;
    nn_rng_seed(&rng, 123);
    for (int k = 0; k < N * N_IN; k++) data_x[k] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
    for (int k = 0; k < N * WIDE; k++) wide_x[k] = (nn_real)nn_rng_uniform(&rng);
    for (int s = 0; s < N; s++) {
        const int c = data_x[s * N_IN] + data_x[s * N_IN + 1] > 0;
        data_y[s * N_OUT] = (nn_real)(1 - c);
        data_y[s * N_OUT + 1] = (nn_real)c;
    }
}

static nn_net *make_net(uint64_t seed) {
    const size_t sizes[] = {N_IN, 5, N_OUT};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    return nn_create(2, sizes, acts, seed, NULL);
}

static int same_params(nn_net *a, nn_net *b) {
    return memcmp(nn_params(a), nn_params(b), nn_param_count(a) * sizeof(nn_real)) == 0;
}

/* What nn_train documents, by hand: per epoch the scheduled rate and a
   fresh permutation from the net's generator, then forward, zero_grad,
   backward, clip and step on each batch.  x is data_x or wide_x. */
static void train_by_hand(nn_net *net, const nn_train_config *cfg, const nn_real *x) {
    const size_t n_in = nn_size(net, 0);
    size_t idx[N];
    nn_real bx[N * WIDE], by[N * N_OUT];
    nn_opt opt = cfg->opt;
    for (size_t e = 0; e < cfg->epochs; e++) {
        if (cfg->schedule == NN_SCHEDULE_STEP)
            opt.lr = cfg->opt.lr * pow(cfg->gamma, (double)(e / cfg->step_epochs));
        nn_rng_permutation(nn_net_rng(net), idx, N);
        for (size_t start = 0; start < N; start += cfg->batch_size) {
            const size_t b = start + cfg->batch_size <= N ? cfg->batch_size : N - start;
            for (size_t s = 0; s < b; s++) {
                memcpy(bx + s * n_in, x + idx[start + s] * n_in, sizeof(nn_real) * n_in);
                memcpy(by + s * N_OUT, data_y + idx[start + s] * N_OUT, sizeof(nn_real) * N_OUT);
            }
            nn_forward(net, bx, b);
            nn_zero_grad(net);
            nn_backward(net, cfg->loss, by, NULL);
            if (cfg->clip_norm > 0) nn_clip_grad_norm(net, cfg->clip_norm, NULL);
            nn_step(net, &opt);
        }
    }
}

static int all_finite(const nn_real *v, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!(v[k] - v[k] == 0)) return 0;
    return 1;
}

static void check_equals_hand_loop(void) {
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    nn_net *a = make_net(3), *b = make_net(3);
    cfg.opt = nn_opt_sgd(0.3);
    cfg.opt.momentum = 0.9;
    cfg.opt.nesterov = 1;
    cfg.batch_size = 3; /* 3, 3, 3, 1 */
    cfg.epochs = 5;
    cfg.schedule = NN_SCHEDULE_STEP;
    cfg.step_epochs = 2;
    cfg.gamma = 0.5;
    cfg.clip_norm = 0.5;
    CHECK(nn_train(a, &cfg, data_x, data_y, N, NULL) == NN_OK);
    train_by_hand(b, &cfg, data_x);
    CHECK(same_params(a, b));
    /* and the same with Adam; the state carries over between calls */
    cfg.opt = nn_opt_adam(0.01);
    cfg.schedule = NN_SCHEDULE_CONSTANT;
    cfg.clip_norm = 0;
    CHECK(nn_train(a, &cfg, data_x, data_y, N, NULL) == NN_OK);
    train_by_hand(b, &cfg, data_x);
    CHECK(same_params(a, b));
    nn_destroy(a);
    nn_destroy(b);
}

/* nn_train and the hand loop, from the same start on rows x (data_x or
   wide_x): the same weights, bit for bit */
static void check_same_as_hand(size_t L, const size_t *sizes, const nn_act *acts,
                               const nn_train_config *cfg, const nn_real *x) {
    nn_net *a = nn_create(L, sizes, acts, 5, NULL), *b = nn_create(L, sizes, acts, 5, NULL);
    CHECK(nn_train(a, cfg, x, data_y, N, NULL) == NN_OK);
    train_by_hand(b, cfg, x);
    CHECK(same_params(a, b));
    nn_destroy(a);
    nn_destroy(b);
}

/* Plain SGD on batches under 8 rows takes nn_train's fused path a row of W
   at a time (no gradient array): still the hand loop, bit for bit, with
   and without weight decay, batches of 1 and of 3 (3, 3, 3, 1), rows of 40
   and 17 inputs (runs of 16 and a tail) and the losses that end in a
   softmax and in a sigmoid. */
static void check_fused_sgd(void) {
    const size_t sizes[] = {N_IN, 40, 17, N_OUT};
    const nn_act softmax[] = {NN_ACT_TANH, NN_ACT_RELU, NN_ACT_SOFTMAX};
    const nn_act sigmoid[] = {NN_ACT_SIGMOID, NN_ACT_LEAKY_RELU, NN_ACT_SIGMOID};
    for (int k = 0; k < 4; k++) {
        nn_train_config cfg = nn_train_defaults(k < 2 ? NN_LOSS_CROSS_ENTROPY : NN_LOSS_MSE);
        cfg.opt = nn_opt_sgd(0.2);
        cfg.opt.weight_decay = k % 2 ? 0.01 : 0;
        cfg.batch_size = k % 2 ? 3 : 1;
        cfg.epochs = 3;
        check_same_as_hand(3, sizes, k < 2 ? softmax : sigmoid, &cfg, data_x);
    }
}

/* Batches of one look ahead: the step writes the next row's first-layer z
   as it writes the first layer's weights, and the next forward pass starts
   above it.  That z must be the one forward computes from the new weights
   (rows of 35 inputs: two runs of 16 and a tail), with shuffling, decay
   and on_batch (which turns the look-ahead off) or not. */
static int count_batches(const nn_train_info *info, void *user) {
    (void)info;
    ++*(int *)user;
    return 0;
}

static void check_fused_ahead(void) {
    const size_t sizes[] = {WIDE, 17, N_OUT};
    const nn_act sigmoid[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    const nn_act softmax[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    for (int k = 0; k < 3; k++) {
        nn_train_config cfg = nn_train_defaults(k ? NN_LOSS_CROSS_ENTROPY : NN_LOSS_MSE);
        int batches = 0;
        cfg.opt = nn_opt_sgd(0.5);
        cfg.opt.weight_decay = k == 1 ? 0.01 : 0;
        cfg.batch_size = 1;
        cfg.epochs = 3;
        if (k == 2) {
            cfg.on_batch = count_batches;
            cfg.user = &batches;
        }
        check_same_as_hand(2, sizes, k ? softmax : sigmoid, &cfg, wide_x);
        CHECK(batches == (k == 2 ? 3 * N : 0));
    }
}

/* Batches of 8 rows or more take the step inside the gemm's register
   tile: full tiles and edges (35 inputs and 17 outputs are no multiple of
   any tile's width or height; 40 outputs are a multiple of both
   heights), batches of 8 and 9 (then 2 and 1, which go a row at a time),
   with and without decay. */
static void check_fused_gemm(void) {
    const size_t sizes[] = {WIDE, 40, 17, N_OUT};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_RELU, NN_ACT_SOFTMAX};
    for (int k = 0; k < 4; k++) {
        nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
        cfg.opt = nn_opt_sgd(0.3);
        cfg.opt.weight_decay = k % 2 ? 0.05 : 0;
        cfg.batch_size = k < 2 ? 8 : 9;
        cfg.epochs = 3;
        check_same_as_hand(3, sizes, acts, &cfg, wide_x);
    }
}

/* The fused path steps only when it can bound every gradient below a
   quarter of the largest real; a finite gradient above that bound goes
   through the separate calls instead, which take the step: still the hand
   loop, bit for bit.  The bound fails only in the lower layer, after the
   upper layer's dz (-14) has replaced its z (3), which the leaky ReLU's
   backward reads: so the separate calls must run the forward pass again. */
static void check_fused_fallback(void) {
    const size_t sizes[] = {1, 1, 1};
    const nn_act acts[] = {NN_ACT_LINEAR, NN_ACT_LEAKY_RELU};
    /* a0 = w0 x = 3, a1 = 3, y = 10: dz1 = 2 (a1 - y) = -14 = dz0, dW1 =
       -42, and dW0 = -14 x, between a quarter of the largest real and the
       largest */
    const nn_real x0 = TH_DOUBLE ? (nn_real)5e306 : (nn_real)1e37;
    nn_real x[1] = {x0}, y[1] = {10};
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    nn_net *a = nn_create(2, sizes, acts, 1, NULL), *b = nn_create(2, sizes, acts, 1, NULL);
    nn_net *nets[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        nn_real *w = nn_params(nets[k]);
        w[0] = (nn_real)(3 / x0); /* W0, b0, W1, b1 */
        w[1] = 0;
        w[2] = 1;
        w[3] = 0;
    }
    cfg.opt = nn_opt_sgd(TH_DOUBLE ? 1e-307 : 1e-37);
    cfg.batch_size = 1;
    cfg.epochs = 1;
    cfg.shuffle = 0;
    CHECK(nn_train(a, &cfg, x, y, 1, NULL) == NN_OK);
    nn_forward(b, x, 1);
    nn_zero_grad(b);
    CHECK(nn_backward(b, NN_LOSS_MSE, y, NULL) == NN_OK);
    CHECK(all_finite(nn_grads(b), 4));
    CHECK(-(double)nn_grads(b)[0] > (TH_DOUBLE ? 1.7e308 : 3.4e38) / 4);
    CHECK(nn_step(b, &cfg.opt) == NN_OK);
    CHECK(nn_params(a)[0] != (nn_real)(3 / x0)); /* the step was taken */
    CHECK(same_params(a, b));
    nn_destroy(a);
    nn_destroy(b);
}

/* An on_epoch callback that sets the weights: plain SGD's shortcut must
   not go on bounding the weights by their size before the callback.  A
   1-1 linear net, x = 1, y = Y, learning rate R: epoch 1 steps w and b
   from 0 to R 2Y, well inside the range; then the callback sets w = BIG
   and b = -BIG, so that a = 0 again and epoch 2's loss and gradient are
   what they were, but its step w + 2RY overflows.  It must be refused,
   with no weight made infinite. */
static int huge_weights(const nn_train_info *info, void *user) {
    nn_real *w = nn_params((nn_net *)user);
    if (info->epoch == 1) {
        w[0] = TH_DOUBLE ? (nn_real)1.65e308 : (nn_real)3.3e38;
        w[1] = -w[0];
    }
    return 0;
}

static void check_fused_after_callback(void) {
    const size_t sizes[] = {1, 1};
    const nn_act acts[] = {NN_ACT_LINEAR};
    nn_real x[1] = {1}, y[1] = {TH_DOUBLE ? (nn_real)4e153 : (nn_real)4e18};
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    nn_net *net = nn_create(1, sizes, acts, 1, NULL);
    nn_params(net)[0] = 0;
    nn_params(net)[1] = 0;
    cfg.opt = nn_opt_sgd(TH_DOUBLE ? 2e153 : 2e18);
    cfg.batch_size = 1;
    cfg.epochs = 2;
    cfg.shuffle = 0;
    cfg.on_epoch = huge_weights;
    cfg.user = net;
    CHECK(nn_train(net, &cfg, x, y, 1, NULL) == NN_ERR_NONFINITE);
    CHECK(all_finite(nn_params(net), 2));
    CHECK(nn_params(net)[0] == (TH_DOUBLE ? (nn_real)1.65e308 : (nn_real)3.3e38));
    nn_destroy(net);
}

/* Same seed, same run; another order gives other weights even from the
   same start; no shuffle, the same order every epoch. */
static void check_order(void) {
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    nn_net *a = make_net(1), *b = make_net(1), *c = make_net(2);
    cfg.batch_size = 1;
    cfg.epochs = 3;
    cfg.opt = nn_opt_sgd(0.2);
    memcpy(nn_params(c), nn_params(a), nn_param_count(a) * sizeof(nn_real));
    nn_train(a, &cfg, data_x, data_y, N, NULL);
    nn_train(b, &cfg, data_x, data_y, N, NULL);
    nn_train(c, &cfg, data_x, data_y, N, NULL); /* same start, other generator */
    CHECK(same_params(a, b));
    CHECK(!same_params(a, c));
    /* without shuffling, the order is 0 .. n-1 and the generator is not
       touched */
    {
        nn_net *d = make_net(5), *e = make_net(5);
        nn_rng before = *nn_net_rng(d);
        cfg.shuffle = 0;
        nn_train(d, &cfg, data_x, data_y, N, NULL);
        CHECK(nn_net_rng(d)->state == before.state);
        for (int ep = 0; ep < 3; ep++)
            for (int s = 0; s < N; s++) {
                nn_forward(e, data_x + s * N_IN, 1);
                nn_zero_grad(e);
                nn_backward(e, NN_LOSS_CROSS_ENTROPY, data_y + s * N_OUT, NULL);
                nn_step(e, &cfg.opt);
            }
        CHECK(same_params(d, e));
        nn_destroy(d);
        nn_destroy(e);
    }
    nn_destroy(a);
    nn_destroy(b);
    nn_destroy(c);
}

/* what the callbacks saw */
typedef struct record {
    size_t epochs, batches, stop_at_epoch;
    double lr[MAX_EPOCHS], loss[MAX_EPOCHS], val_loss[MAX_EPOCHS];
    int has_val[MAX_EPOCHS];
    nn_net *net;
    nn_real params[MAX_EPOCHS][8]; /* after each epoch (small nets only) */
    nn_real last_batch_params[8];
    long calls_at_first_batch;
    int order_ok;
} record;

static int on_epoch(const nn_train_info *info, void *user) {
    record *r = (record *)user;
    const size_t e = info->epoch - 1;
    r->order_ok &= info->epoch == r->epochs + 1 && info->done == info->n;
    r->epochs++;
    if (e < MAX_EPOCHS) {
        r->lr[e] = info->lr;
        r->loss[e] = info->train_loss;
        r->val_loss[e] = info->val_loss;
        r->has_val[e] = info->has_val;
        if (r->net && nn_param_count(r->net) <= 8)
            memcpy(r->params[e], nn_params(r->net), nn_param_count(r->net) * sizeof(nn_real));
    }
    return r->stop_at_epoch && info->epoch == r->stop_at_epoch;
}

static int on_batch(const nn_train_info *info, void *user) {
    record *r = (record *)user;
    if (r->batches++ == 0) r->calls_at_first_batch = t_calls;
    r->order_ok &= info->done > 0 && info->done <= info->n && !info->has_val;
    if (r->net && nn_param_count(r->net) <= 8)
        memcpy(r->last_batch_params, nn_params(r->net), nn_param_count(r->net) * sizeof(nn_real));
    return 0;
}

static void check_schedules(void) {
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    nn_net *net = make_net(4);
    record r;
    const double pi = 3.14159265358979323846;
    memset(&r, 0, sizeof r);
    r.order_ok = 1;
    cfg.opt = nn_opt_sgd(0.1);
    cfg.epochs = 5;
    cfg.schedule = NN_SCHEDULE_STEP;
    cfg.step_epochs = 2;
    cfg.gamma = 0.5;
    cfg.on_epoch = on_epoch;
    cfg.user = &r;
    nn_train(net, &cfg, data_x, data_y, N, NULL);
    CHECK(r.epochs == 5 && r.order_ok);
    CHECK_NEAR(r.lr[0], 0.1, 1e-15);
    CHECK_NEAR(r.lr[1], 0.1, 1e-15);
    CHECK_NEAR(r.lr[2], 0.05, 1e-15);
    CHECK_NEAR(r.lr[3], 0.05, 1e-15);
    CHECK_NEAR(r.lr[4], 0.025, 1e-15);
    memset(&r, 0, sizeof r);
    r.order_ok = 1;
    cfg.schedule = NN_SCHEDULE_COSINE;
    cfg.epochs = 4;
    cfg.lr_min = 0.01;
    nn_train(net, &cfg, data_x, data_y, N, NULL);
    CHECK(r.epochs == 4);
    for (int e = 0; e < 4; e++)
        CHECK_NEAR(r.lr[e], 0.01 + 0.09 * (1 + cos(pi * e / 4)) / 2, 1e-15);
    CHECK_NEAR(r.lr[0], 0.1, 1e-15);
    CHECK_NEAR(r.lr[2], 0.055, 1e-15);
    /* constant */
    memset(&r, 0, sizeof r);
    cfg.schedule = NN_SCHEDULE_CONSTANT;
    cfg.epochs = 3;
    nn_train(net, &cfg, data_x, data_y, N, NULL);
    CHECK(r.lr[0] == 0.1 && r.lr[2] == 0.1);
    nn_destroy(net);
}

/* A 1 -> 1 linear net fits y = x while the validation set wants y = x / 2:
   from w = 0 the validation loss falls until w passes 1/2, then rises.
   Early stopping must stop `patience` epochs after the best epoch and hand
   back that epoch's weights. */
static void check_early_stopping(void) {
    const size_t sizes[] = {1, 1};
    const nn_act acts[] = {NN_ACT_LINEAR};
    const nn_real x[4] = {1, 2, -1, NN_R(0.5)}, y[4] = {1, 2, -1, NN_R(0.5)};
    const nn_real vx[2] = {1, -2}, vy[2] = {NN_R(0.5), -1};
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    nn_net *net = nn_create(1, sizes, acts, 1, NULL);
    record r;
    size_t best = 0;
    memset(&r, 0, sizeof r);
    r.net = net;
    r.order_ok = 1;
    nn_params(net)[0] = 0;
    nn_params(net)[1] = 0;
    cfg.opt = nn_opt_sgd(0.05);
    cfg.batch_size = 4;
    cfg.epochs = 60;
    cfg.patience = 3;
    cfg.val_x = vx;
    cfg.val_y = vy;
    cfg.val_n = 2;
    cfg.on_epoch = on_epoch;
    cfg.user = &r;
    CHECK(nn_train(net, &cfg, x, y, 4, NULL) == NN_OK);
    for (size_t e = 1; e < r.epochs; e++)
        if (r.val_loss[e] < r.val_loss[best]) best = e;
    CHECK(best > 2);                    /* it did improve for a while */
    CHECK(r.epochs == best + 1 + 3);    /* then 3 epochs without */
    CHECK(r.epochs < 60);
    CHECK(r.has_val[0] && r.order_ok);
    CHECK(memcmp(nn_params(net), r.params[best], 2 * sizeof(nn_real)) == 0);
    CHECK(memcmp(nn_params(net), r.params[r.epochs - 1], 2 * sizeof(nn_real)) != 0);
    /* without a validation set it watches the training loss, which falls
       all the way: no stop, the last weights are the best */
    memset(&r, 0, sizeof r);
    r.net = net;
    r.order_ok = 1;
    cfg.val_n = 0;
    cfg.val_x = cfg.val_y = NULL;
    cfg.epochs = 20;
    CHECK(nn_train(net, &cfg, x, y, 4, NULL) == NN_OK);
    CHECK(r.epochs == 20 && !r.has_val[0]);
    CHECK(memcmp(nn_params(net), r.params[19], 2 * sizeof(nn_real)) == 0);
    /* a callback may stop training; the best weights come back then too */
    memset(&r, 0, sizeof r);
    r.net = net;
    r.order_ok = 1;
    r.stop_at_epoch = 2;
    CHECK(nn_train(net, &cfg, x, y, 4, NULL) == NN_OK);
    CHECK(r.epochs == 2);
    nn_destroy(net);
}

/* NaN or infinity: in the data nothing is trained; in the middle of a run
   the weights are those after the last good step. */
static void check_nonfinite(void) {
    const size_t sizes[] = {1, 1};
    const nn_act acts[] = {NN_ACT_LINEAR};
    /* a sample so large that the loss (float: the gradient) overflows */
    const nn_real huge = TH_DOUBLE ? (nn_real)1e200 : (nn_real)1e30;
    nn_real x[6] = {1, 2, -1, 0, 1, 3}, y[6] = {1, 2, -1, 0, 1, 3};
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    nn_net *net = nn_create(1, sizes, acts, 1, NULL);
    nn_real before[2];
    record r;
    memset(&r, 0, sizeof r);
    r.net = net;
    cfg.batch_size = 1;
    cfg.shuffle = 0;
    cfg.epochs = 2;
    cfg.opt = nn_opt_sgd(0.01);
    cfg.on_batch = on_batch;
    cfg.user = &r;
    memcpy(before, nn_params(net), sizeof before);
    x[2] = (nn_real)NAN;
    CHECK(nn_train(net, &cfg, x, y, 6, NULL) == NN_ERR_NONFINITE);
    y[2] = (nn_real)INFINITY;
    x[2] = -1;
    CHECK(nn_train(net, &cfg, x, y, 6, NULL) == NN_ERR_NONFINITE);
    y[2] = -1;
    {
        const nn_real vx[1] = {(nn_real)NAN}, vy[1] = {0};
        cfg.val_x = vx;
        cfg.val_y = vy;
        cfg.val_n = 1;
        CHECK(nn_train(net, &cfg, x, y, 6, NULL) == NN_ERR_NONFINITE);
        cfg.val_x = cfg.val_y = NULL;
        cfg.val_n = 0;
    }
    CHECK(r.batches == 0);
    CHECK(memcmp(before, nn_params(net), sizeof before) == 0);
    /* the fourth sample blows up: three good steps, then the guard */
    x[3] = huge;
    CHECK(nn_train(net, &cfg, x, y, 6, NULL) == NN_ERR_NONFINITE);
    CHECK(r.batches == 3);
    CHECK(memcmp(nn_params(net), r.last_batch_params, 2 * sizeof(nn_real)) == 0);
    CHECK(all_finite(nn_params(net), 2));
    /* and when the loss overflows (a weight made huge by hand): in double
       a = 2e200 still has a finite gradient, only the loss is infinite;
       in float a itself overflows */
    for (int s = 0; s < 3; s++) x[s] = y[s] = 0; /* a = b = 0, no change */
    x[3] = 2;
    nn_params(net)[0] = TH_DOUBLE ? (nn_real)1e200 : (nn_real)3e38;
    nn_params(net)[1] = 0;
    memcpy(before, nn_params(net), sizeof before);
    r.batches = 0;
    cfg.opt = nn_opt_sgd(0); /* keep the weights where they are */
    CHECK(nn_train(net, &cfg, x, y, 6, NULL) == NN_ERR_NONFINITE);
    CHECK(r.batches == 3);
    CHECK(memcmp(before, nn_params(net), sizeof before) == 0);
    nn_destroy(net);
}

/* Everything is allocated before the first step, none after; a failed
   allocation leaves the net as it was. */
static void check_allocation(void) {
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    nn_net *net = make_net(8);
    record r;
    long before;
    memset(&r, 0, sizeof r);
    cfg.epochs = 4;
    cfg.batch_size = 4;
    cfg.patience = 10;
    cfg.val_x = data_x;
    cfg.val_y = data_y;
    cfg.val_n = N;
    cfg.on_batch = on_batch;
    cfg.on_epoch = on_epoch;
    cfg.user = &r;
    before = t_calls;
    CHECK(nn_train(net, &cfg, data_x, data_y, N, NULL) == NN_OK);
    CHECK(r.batches == 12 && r.epochs == 4);
    CHECK(r.calls_at_first_batch > before);
    CHECK(t_calls == r.calls_at_first_batch);
    nn_destroy(net);
}

static void check_invalid(void) {
    nn_train_config cfg = nn_train_defaults(NN_LOSS_BINARY_CROSS_ENTROPY);
    nn_net *net = make_net(9), *copy = make_net(9);
    CHECK(nn_train(net, &cfg, data_x, data_y, N, NULL) == NN_ERR_INVALID);
    CHECK(same_params(net, copy));
    nn_destroy(net);
    nn_destroy(copy);
}

static void check_defaults(void) {
    nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
    CHECK(cfg.loss == NN_LOSS_MSE && cfg.opt.kind == NN_OPT_ADAM && cfg.opt.lr == 1e-3);
    CHECK(cfg.epochs == 100 && cfg.batch_size == 32 && cfg.shuffle);
    CHECK(cfg.schedule == NN_SCHEDULE_CONSTANT && cfg.step_epochs == 30 &&
          cfg.gamma == 0.1 && cfg.lr_min == 0);
    CHECK(cfg.clip_norm == 0 && cfg.patience == 0 && cfg.val_n == 0 && !cfg.val_x &&
          !cfg.val_y && !cfg.on_epoch && !cfg.on_batch && !cfg.user);
}

/* Defaults learn a small problem: two Gaussian blobs. */
static void check_defaults_learn(void) {
    enum { M = 200 };
    static nn_real x[M * 2], y[M * 2];
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    const size_t sizes[] = {2, 8, 2};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net = nn_create(2, sizes, acts, 1, NULL);
    nn_rng rng;
    double acc = 0, loss0 = 0, loss1 = 0;
    nn_rng_seed(&rng, 5);
    for (int s = 0; s < M; s++) {
        const int c = s % 2;
        x[2 * s] = (nn_real)(c ? 1 : -1) + (nn_real)(nn_rng_uniform(&rng) - 0.5);
        x[2 * s + 1] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
        y[2 * s] = (nn_real)(1 - c);
        y[2 * s + 1] = (nn_real)c;
    }
    nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, x, y, M, &loss0, NULL);
    CHECK(nn_train(net, &cfg, x, y, M, NULL) == NN_OK);
    nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, x, y, M, &loss1, &acc);
    CHECK(acc == 1.0);
    CHECK(loss1 < loss0 / 4);
    nn_destroy(net);
}

/* Evaluation in batches equals one big batch; accuracy, confusion matrix
   and classes by hand. */
static void check_evaluation(void) {
    nn_net *net = make_net(6), *big = make_net(6);
    size_t classes[N], counts[4], right = 0, by_hand[4] = {0, 0, 0, 0};
    double loss = 0, acc = 0;
    double whole = 0;
    const nn_real *a;
    nn_reserve(net, 3); /* batches of 3, 3, 3, 1 */
    CHECK(nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, data_x, data_y, N, &loss, &acc) == NN_OK);
    a = nn_forward(big, data_x, N);
    nn_compute_loss(big, NN_LOSS_CROSS_ENTROPY, data_y, &whole);
    CHECK_NEAR(loss, whole, TH_DOUBLE ? 1e-12 : 1e-6);
    CHECK(nn_classify(net, data_x, N, classes) == NN_OK);
    for (int s = 0; s < N; s++) {
        const size_t p = a[2 * s + 1] > a[2 * s], t = data_y[2 * s + 1] > 0;
        CHECK(classes[s] == p);
        right += p == t;
        by_hand[t * 2 + p]++;
    }
    CHECK_NEAR(acc, (double)right / (double)N, 1e-15);
    CHECK(nn_confusion_matrix(net, data_x, data_y, N, counts) == NN_OK);
    CHECK(memcmp(counts, by_hand, sizeof counts) == 0);
    CHECK(nn_evaluate(net, NN_LOSS_BINARY_CROSS_ENTROPY, data_x, data_y, N, &loss, &acc) ==
          NN_ERR_INVALID);
    nn_destroy(net);
    nn_destroy(big);
    /* a single output: class 1 above 0.5; confusion matrix 2 x 2 */
    {
        const size_t sizes[] = {1, 1};
        const nn_act acts[] = {NN_ACT_SIGMOID};
        const nn_real x[4] = {-2, -1, 1, 2}, y[4] = {0, 1, 1, 1};
        nn_net *s = nn_create(1, sizes, acts, 1, NULL);
        size_t cls[4], cm[4];
        nn_params(s)[0] = 1;
        nn_params(s)[1] = 0;
        nn_classify(s, x, 4, cls);
        CHECK(cls[0] == 0 && cls[1] == 0 && cls[2] == 1 && cls[3] == 1);
        nn_evaluate(s, NN_LOSS_BINARY_CROSS_ENTROPY, x, y, 4, NULL, &acc);
        CHECK(acc == 0.75);
        nn_confusion_matrix(s, x, y, 4, cm);
        CHECK(cm[0] == 1 && cm[1] == 0 && cm[2] == 1 && cm[3] == 2);
        nn_destroy(s);
    }
}

int main(void) {
    make_data();
    check_equals_hand_loop();
    check_fused_sgd();
    check_fused_ahead();
    check_fused_gemm();
    check_fused_fallback();
    check_fused_after_callback();
    check_order();
    check_schedules();
    check_early_stopping();
    check_nonfinite();
    check_allocation();
    check_invalid();
    check_defaults();
    check_defaults_learn();
    check_evaluation();
    return th_report();
}
