/* article.c - the network of the tutorial this project grew from, done right.

   The tutorial (shared/seed/article.md, in Chinese) builds 10 inputs -> 5
   sigmoid hidden units -> 1 sigmoid output, with the mean squared error and
   gradient descent at learning rate 0.1 for 1000 epochs.  This program
   trains exactly that net on a small synthetic data set, one visible step
   at a time: forward, loss, zero the gradients, backward, step.

   The tutorial's numpy backprop is wrong in five ways; nn.h does this
   instead (the formulas are in nn.h next to the code that computes them):
   1. It multiplies by the error twice, (a - y) * (a - y) * ..., as if the
      gradient of the squared error were the squared error.  The gradient
      of mean((a - y)^2) is 2 (a - y) / N: the error once, scaled by the
      mean (nn__mse_backward).
   2. It applies sigmoid's derivative to outputs that are already
      sigmoids: sigmoid(a) * (1 - sigmoid(a)).  With a = sigmoid(z) the
      derivative is a * (1 - a) (nn__act_backward, NN_ACT_SIGMOID).
   3. It forgets the input in the weight gradient: dW must be dz^T . x, the
      upstream gradient times what came into the layer
      (nn__dense_backward_params), for every layer.
   4. It updates b1 with a gradient it never computed.  db is the sum of
      dz over the batch, per layer (nn__dense_backward_params).
   5. It predicts with the first layer only.  A prediction runs every
      layer, exactly as in training (nn_forward).
   tests/test_gradcheck.c checks every gradient nn.h computes against
   finite differences, and shows that a missing bias gradient is caught.

   Build and run:  make examples && ./build/examples/article */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <stdio.h>

#define N_SAMPLES 200
#define N_IN 10

int main(void) {
    const size_t sizes[] = {N_IN, 5, 1};
    const nn_act acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    const nn_real lr = NN_R(0.1);
    static nn_real X[N_SAMPLES * N_IN], y_true[N_SAMPLES];
    static nn_real X_test[N_SAMPLES * N_IN], y_test[N_SAMPLES];
    double loss = 0;
    double test_accuracy = 0;
    nn_rng rng;
    nn_net *net;
    int correct = 0;
    const nn_real *y_pred;

    /* The data: points in [-1, 1]^10, labelled 1 when x0 + x1 - x2 > 0,
       a rule the net has to discover.  200 to train on, then 200 more it
       never sees in training, to test it on. */
    nn_rng_seed(&rng, 2024);
    for (int s = 0; s < 2 * N_SAMPLES; s++) {
        nn_real *xs = s < N_SAMPLES ? X + s * N_IN : X_test + (s - N_SAMPLES) * N_IN;
        nn_real *ys = s < N_SAMPLES ? y_true + s : y_test + (s - N_SAMPLES);
        for (int i = 0; i < N_IN; i++) xs[i] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
        *ys = xs[0] + xs[1] - xs[2] > 0 ? 1 : 0;
    }

    net = nn_create(2, sizes, acts, 1, NULL);
    if (!net) return 1;
    for (int epoch = 0; epoch < 1000; epoch++) {
        /* forward: h1 = sigmoid(X.W1^T + b1), y_pred = sigmoid(h1.W2^T + b2) */
        if (!nn_forward(net, X, N_SAMPLES)) return 1;
        /* loss: mean((y_pred - y_true)^2) */
        if (nn_compute_loss(net, NN_LOSS_MSE, y_true, &loss) != NN_OK) return 1;
        /* backward: dLoss/dW2, db2, dW1, db1 by the chain rule */
        nn_zero_grad(net);
        if (nn_backward(net, NN_LOSS_MSE, y_true, NULL) != NN_OK) return 1;
        /* gradient descent: w -= 0.1 * dLoss/dw, for all four arrays */
        if (nn_sgd_step(net, lr) != NN_OK) return 1;
        if (epoch % 100 == 0) printf("epoch %4d  loss %.4f\n", epoch, loss);
    }

    /* predict with the whole net */
    y_pred = nn_forward(net, X, N_SAMPLES);
    if (!y_pred || nn_compute_loss(net, NN_LOSS_MSE, y_true, &loss) != NN_OK) return 1;
    for (int s = 0; s < N_SAMPLES; s++) correct += (y_pred[s] > NN_R(0.5)) == (y_true[s] > 0);
    printf("after 1000 epochs: loss %.4f, %d of %d samples right\n", loss, correct,
           N_SAMPLES);
    /* the unseen samples: a single output counts as class 1 above 0.5 */
    if (nn_evaluate(net, NN_LOSS_MSE, X_test, y_test, N_SAMPLES, NULL, &test_accuracy) != NN_OK)
        return 1;
    printf("test accuracy: %.4f\n", test_accuracy);
    nn_destroy(net);
    return 0;
}
