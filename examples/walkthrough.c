/* walkthrough.c - one step of backpropagation, every number printed.

   A 2-2-1 network (sigmoid hidden layer, sigmoid output), one sample, the
   squared error, one step of gradient descent at learning rate 0.5.  The
   program computes each quantity from its formula by hand, in plain C,
   prints it, and checks that nn.h's forward, backward and step give the
   same numbers (to 1e-12).  README.md shows this output; a test fails if
   the two ever differ.

   Notation: x input, W weights (row o holds the weights into unit o), b
   biases, z = W.x + b, a = sigmoid(z), y target, L the loss; dfoo means
   dL/dfoo; delta is dz.

   Build and run:  make examples && ./build/examples/walkthrough */
#define NN_REAL double /* so the printed digits are the same everywhere */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <math.h>
#include <stdio.h>

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }

static int mismatches;

/* print name = values, and check them against what nn.h computed */
static void show(const char *name, const char *formula, const double *v, const nn_real *lib,
                 int n) {
    printf("  %-6s = %-28s =", name, formula);
    for (int i = 0; i < n; i++) {
        printf(" %9.6f", v[i]);
        if (fabs(v[i] - (double)lib[i]) > 1e-12) mismatches++;
    }
    printf("\n");
}

int main(void) {
    const size_t sizes[] = {2, 2, 1};
    const nn_act acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    const double x[2] = {0.05, 0.10}, y = 0.01, lr = 0.5;
    double W1[4] = {0.15, 0.20, 0.25, 0.30}, b1[2] = {0.35, 0.35};
    double W2[2] = {0.40, 0.45}, b2[1] = {0.60};
    double z1[2], a1[2], z2[1], a2[1], L, da2[1], d2[1], dW2[2], da1[2], d1[2], dW1[4];
    nn_real xr[2] = {(nn_real)x[0], (nn_real)x[1]}, yr[1] = {(nn_real)y}, loss = 0;
    nn_net *net = nn_create(2, sizes, acts, 1, NULL);
    nn_real *p, *g;
    const nn_real *out;
    if (!net) return 1;
    /* nn.h's layout: layer 0's W (row-major) and b, then layer 1's */
    p = nn_params(net);
    g = nn_grads(net);
    for (int k = 0; k < 4; k++) p[k] = (nn_real)W1[k];
    p[4] = (nn_real)b1[0];
    p[5] = (nn_real)b1[1];
    p[6] = (nn_real)W2[0];
    p[7] = (nn_real)W2[1];
    p[8] = (nn_real)b2[0];

    printf("A 2-2-1 net, sigmoid in both layers, loss L = (a2 - y)^2, one sample.\n");
    printf("x = [%.2f %.2f]  y = %.2f  W1 = [[%.2f %.2f] [%.2f %.2f]]  b1 = [%.2f %.2f]\n",
           x[0], x[1], y, W1[0], W1[1], W1[2], W1[3], b1[0], b1[1]);
    printf("W2 = [[%.2f %.2f]]  b2 = [%.2f]  learning rate %.1f\n\n", W2[0], W2[1], b2[0], lr);

    /* forward: each layer is z = W.x + b, then a = sigmoid(z) */
    out = nn_forward(net, xr, 1);
    for (int o = 0; o < 2; o++) {
        z1[o] = W1[2 * o] * x[0] + W1[2 * o + 1] * x[1] + b1[o];
        a1[o] = sigmoid(z1[o]);
    }
    z2[0] = W2[0] * a1[0] + W2[1] * a1[1] + b2[0];
    a2[0] = sigmoid(z2[0]);
    L = (a2[0] - y) * (a2[0] - y);
    nn_compute_loss(net, NN_LOSS_MSE, yr, &loss);
    printf("forward (nn_forward)\n");
    show("z1", "W1.x + b1", z1, nn__layer_z(net, 0), 2);
    show("a1", "sigmoid(z1)", a1, nn__layer_a(net, 0), 2);
    show("z2", "W2.a1 + b2", z2, nn__layer_z(net, 1), 1);
    show("a2", "sigmoid(z2)", a2, out, 1);
    show("L", "(a2 - y)^2", &L, &loss, 1);

    /* backward: the chain rule from L down, one factor per step */
    nn_zero_grad(net);
    nn_backward(net, NN_LOSS_MSE, yr, NULL);
    da2[0] = 2 * (a2[0] - y);             /* d(a2 - y)^2 / da2 */
    d2[0] = da2[0] * a2[0] * (1 - a2[0]); /* sigmoid'(z2) = a2 (1 - a2) */
    for (int i = 0; i < 2; i++) dW2[i] = d2[0] * a1[i]; /* z2 = W2.a1 + b2 */
    for (int i = 0; i < 2; i++) da1[i] = W2[i] * d2[0];
    for (int o = 0; o < 2; o++) d1[o] = da1[o] * a1[o] * (1 - a1[o]);
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 2; i++) dW1[2 * o + i] = d1[o] * x[i];
    printf("\nbackward (nn_backward)\n");
    printf("  da2    = 2 (a2 - y)                   = %9.6f\n", da2[0]);
    printf("  delta2 = da2 * a2 (1 - a2)            = %9.6f\n", d2[0]);
    show("dW2", "delta2 * a1", dW2, g + 6, 2);
    show("db2", "delta2", d2, g + 8, 1);
    printf("  da1    = W2^T * delta2                = %9.6f %9.6f\n", da1[0], da1[1]);
    printf("  delta1 = da1 * a1 (1 - a1)            = %9.6f %9.6f\n", d1[0], d1[1]);
    show("dW1", "delta1 x^T", dW1, g, 4);
    show("db1", "delta1", d1, g + 4, 2);

    /* gradient descent: every parameter moves against its gradient */
    nn_sgd_step(net, (nn_real)lr);
    for (int k = 0; k < 4; k++) W1[k] -= lr * dW1[k];
    for (int o = 0; o < 2; o++) b1[o] -= lr * d1[o];
    for (int i = 0; i < 2; i++) W2[i] -= lr * dW2[i];
    b2[0] -= lr * d2[0];
    printf("\nstep (nn_sgd_step): w -= %.1f dw\n", lr);
    show("W1", "W1 - lr dW1", W1, p, 4);
    show("b1", "b1 - lr db1", b1, p + 4, 2);
    show("W2", "W2 - lr dW2", W2, p + 6, 2);
    show("b2", "b2 - lr db2", b2, p + 8, 1);

    out = nn_forward(net, xr, 1);
    nn_compute_loss(net, NN_LOSS_MSE, yr, &loss);
    printf("\nafter the step: a2 = %.6f, L = %.6f (was %.6f)\n", (double)out[0], (double)loss, L);
    printf("nn.h agrees with every formula above: %s\n", mismatches ? "NO" : "yes");
    nn_destroy(net);
    return mismatches ? 1 : 0;
}
