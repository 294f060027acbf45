/* faq.c - the tutorial's questions, answered by running them.

   The article this project grew from (see examples/article.c) ends with
   questions and challenges it answers in one sentence each.  Here each
   answer is an experiment with its numbers:
     1. How do I choose a learning rate?  Sweep it: too small barely moves
        the loss, too large makes it jump or blow up.
     2. Why must activations be nonlinear?  A net of linear layers is one
        linear map, and no linear map computes XOR.
     3. How do I avoid overfitting?  Watch a validation set: a big net on
        few noisy points fits the noise; weight decay and early stopping
        keep it near the truth.
     4. What does imbalanced data do?  A rare class gets ignored unless
        its mistakes cost more: class weights.
   Every experiment is seeded, so the figures are the same on every run.
   tests/examples.sh checks the conclusion of each.

   Build and run:  make examples && ./build/examples/faq */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <math.h>
#include <stdio.h>

#define PI 3.14159265358979323846

/* a standard normal draw (Box-Muller) from the caller's generator */
static double normal(nn_rng *rng) {
    const double u = 1 - nn_rng_uniform(rng), v = nn_rng_uniform(rng);
    return sqrt(-2 * log(u)) * cos(2 * PI * v);
}

/* ---- 1. learning rate ----------------------------------------------------
   Points in [-1, 1]^2, class 1 inside the circle of radius 0.7.  The same
   2-16-1 net from the same start, plain SGD, 50 epochs at each rate. */
static int learning_rate(void) {
    enum { N = 200 };
    static nn_real x[2 * N], y[N];
    const size_t sizes[] = {2, 16, 1};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SIGMOID};
    const double rates[] = {0.001, 0.01, 0.1, 1, 10, 100};
    double best_loss = HUGE_VAL, best_lr = 0;
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    for (size_t s = 0; s < N; s++) {
        x[2 * s] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
        x[2 * s + 1] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
        const double r0 = (double)x[2 * s], r1 = (double)x[2 * s + 1];
        y[s] = (nn_real)(r0 * r0 + r1 * r1 < 0.49);
    }
    printf("1. learning rate: plain SGD, 50 epochs, batches of 20\n");
    for (size_t k = 0; k < sizeof rates / sizeof *rates; k++) {
        nn_net *net = nn_create(2, sizes, acts, 7, NULL);
        nn_train_config cfg = nn_train_defaults(NN_LOSS_BINARY_CROSS_ENTROPY);
        double loss, acc;
        nn_result r;
        if (!net) return 0;
        cfg.opt = nn_opt_sgd(rates[k]);
        cfg.epochs = 50;
        cfg.batch_size = 20;
        r = nn_train(net, &cfg, x, y, N, NULL);
        if (r == NN_ERR_NONFINITE) {
            printf("   lr %-6g  diverged: the loss overflowed and nn_train stopped\n", rates[k]);
        } else if (r != NN_OK ||
                   nn_evaluate(net, NN_LOSS_BINARY_CROSS_ENTROPY, x, y, N, &loss, &acc) != NN_OK) {
            nn_destroy(net);
            return 0;
        } else {
            printf("   lr %-6g  train loss %.4f  accuracy %.3f\n", rates[k], loss, acc);
            if (loss < best_loss) {
                best_loss = loss;
                best_lr = rates[k];
            }
        }
        nn_destroy(net);
    }
    printf("   best learning rate: %g\n", best_lr);
    return 1;
}

/* ---- 2. nonlinearity ------------------------------------------------------
   XOR with 2-8-1, once with a linear hidden layer and once with tanh.
   With f(z) = z the net is sigmoid(W2 (W1 x + b1) + b2), a sigmoid of one
   linear function of x: a straight line splits the plane, and no line puts
   (0,1) and (1,0) on one side with (0,0) and (1,1) on the other.  At best
   3 of the 4 cases come out right, however long it trains. */
static int nonlinearity(void) {
    const nn_real x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0};
    const size_t sizes[] = {2, 8, 1};
    const nn_act hidden[] = {NN_ACT_LINEAR, NN_ACT_TANH};
    const char *name[] = {"linear", "tanh"};
    printf("\n2. nonlinearity: XOR, 2-8-1, Adam lr 0.05, 1000 epochs\n");
    for (size_t k = 0; k < 2; k++) {
        const nn_act acts[] = {hidden[k], NN_ACT_SIGMOID};
        nn_net *net = nn_create(2, sizes, acts, 3, NULL);
        nn_train_config cfg = nn_train_defaults(NN_LOSS_BINARY_CROSS_ENTROPY);
        double loss, acc;
        if (!net) return 0;
        cfg.opt.lr = 0.05;
        cfg.epochs = 1000;
        cfg.batch_size = 4;
        if (nn_train(net, &cfg, x, y, 4, NULL) != NN_OK ||
            nn_evaluate(net, NN_LOSS_BINARY_CROSS_ENTROPY, x, y, 4, &loss, &acc) != NN_OK) {
            nn_destroy(net);
            return 0;
        }
        printf("   %-6s hidden layer: loss %.4f  XOR accuracy: %.2f\n", name[k], loss, acc);
        nn_destroy(net);
    }
    return 1;
}

/* ---- 3. overfitting -------------------------------------------------------
   y = sin(pi x) + noise: 16 points to train on, 200 to validate on.  A
   1-64-64-1 tanh net has some 4,300 parameters for 16 numbers; trained long
   enough it threads the noise, and its validation loss climbs while its
   training loss keeps falling.  Weight decay (AdamW) keeps the weights, and
   so the curve, small and smooth; it takes a strong decay here (each step
   shrinks every weight by lr * 2 = 2%), because 16 points say little.
   Early stopping keeps the epoch with the lowest validation loss. */
static void sine_set(nn_real *x, nn_real *y, size_t n, nn_rng *rng) {
    for (size_t s = 0; s < n; s++) {
        x[s] = (nn_real)(2 * nn_rng_uniform(rng) - 1);
        y[s] = (nn_real)(sin(PI * (double)x[s]) + 0.3 * normal(rng));
    }
}

static int overfitting(void) {
    enum { N = 16, N_VAL = 200 };
    static nn_real x[N], y[N], vx[N_VAL], vy[N_VAL];
    const size_t sizes[] = {1, 64, 64, 1};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_TANH, NN_ACT_LINEAR};
    const char *name[] = {"plain Adam", "AdamW, decay 2", "early stopping"};
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    sine_set(x, y, N, &rng);
    sine_set(vx, vy, N_VAL, &rng);
    printf("\n3. overfitting: 16 noisy points of sin(pi x), 1-64-64-1 tanh, "
           "3000 full-batch epochs\n");
    for (size_t k = 0; k < 3; k++) {
        nn_net *net = nn_create(3, sizes, acts, 11, NULL);
        nn_train_config cfg = nn_train_defaults(NN_LOSS_MSE);
        double train, val;
        if (!net) return 0;
        cfg.opt.lr = 0.01;
        if (k == 1) cfg.opt = nn_opt_adamw(0.01, 2);
        cfg.epochs = 3000;
        cfg.batch_size = N;
        if (k == 2) { /* only early stopping needs the loss of every epoch */
            cfg.val_x = vx;
            cfg.val_y = vy;
            cfg.val_n = N_VAL;
            cfg.patience = 200;
        }
        if (nn_train(net, &cfg, x, y, N, NULL) != NN_OK ||
            nn_evaluate(net, NN_LOSS_MSE, x, y, N, &train, NULL) != NN_OK ||
            nn_evaluate(net, NN_LOSS_MSE, vx, vy, N_VAL, &val, NULL) != NN_OK) {
            nn_destroy(net);
            return 0;
        }
        printf("   %-17s train loss %.4f  validation loss: %.4f\n", name[k], train, val);
        nn_destroy(net);
    }
    printf("   (the noise alone costs 0.09 = 0.3^2 on fresh points)\n");
    return 1;
}

/* ---- 4. imbalanced data ---------------------------------------------------
   Two overlapping Gaussian clouds in the plane, 95% of the points in
   class 0 and 5% in class 1.  Unweighted, the cheapest answer is nearly
   always "class 0": 95% accuracy, and most of class 1 missed.  Weighting
   each class by n / (2 n_c) makes the two classes cost the same in total,
   so the net gives up some majority accuracy to find the rare class. */
static int imbalance(void) {
    enum { N = 2000 };
    static nn_real x[2 * N], y[2 * N], tx[2 * N], ty[2 * N];
    const size_t sizes[] = {2, 16, 2};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    size_t count[2] = {0, 0};
    nn_real weights[2];
    nn_rng rng;
    nn_rng_seed(&rng, 9);
    for (size_t s = 0; s < 2 * N; s++) {
        nn_real *xs = s < N ? x + 2 * s : tx + 2 * (s - N);
        nn_real *ys = s < N ? y + 2 * s : ty + 2 * (s - N);
        const int c = nn_rng_uniform(&rng) < 0.05;
        xs[0] = (nn_real)(normal(&rng) + 2 * c);
        xs[1] = (nn_real)normal(&rng);
        ys[0] = (nn_real)!c;
        ys[1] = (nn_real)c;
        if (s < N) count[c]++;
    }
    weights[0] = (nn_real)N / (nn_real)(2 * count[0]);
    weights[1] = (nn_real)N / (nn_real)(2 * count[1]);
    printf("\n4. imbalanced data: %zu points of class 0, %zu of class 1; "
           "2-16-2, Adam, 50 epochs\n", count[0], count[1]);
    for (int weighted = 0; weighted < 2; weighted++) {
        nn_net *net = nn_create(2, sizes, acts, 13, NULL);
        nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
        size_t m[4];
        double acc;
        char label[64] = "no class weights:";
        if (!net) return 0;
        cfg.opt.lr = 0.01;
        cfg.epochs = 50;
        if ((weighted && nn_set_class_weights(net, weights) != NN_OK) ||
            nn_train(net, &cfg, x, y, N, NULL) != NN_OK ||
            nn_confusion_matrix(net, tx, ty, N, m) != NN_OK) {
            nn_destroy(net);
            return 0;
        }
        acc = (double)(m[0] + m[3]) / N;
        if (weighted)
            snprintf(label, sizeof label, "class weights %.2f, %.2f:", (double)weights[0],
                     (double)weights[1]);
        printf("   %-28s test accuracy %.3f  class 0 recall %.3f  class 1 recall: %.3f\n", label, acc,
               (double)m[0] / (double)(m[0] + m[1]), (double)m[3] / (double)(m[2] + m[3]));
        nn_destroy(net);
    }
    return 1;
}

int main(void) {
    if (!learning_rate() || !nonlinearity() || !overfitting() || !imbalance()) {
        fprintf(stderr, "faq: a net could not be created or trained\n");
        return 1;
    }
    return 0;
}
