/* xor.c - the hello world of neural networks: learn XOR with nn.h.

   XOR is the classic function no single layer can learn (its two classes
   cannot be split by one straight line), so the net needs a hidden layer:
   2 inputs -> 4 tanh units -> 1 sigmoid output, trained with binary
   cross-entropy by plain gradient descent on all four samples at once.

   Build and run:  make examples && ./build/examples/xor
   or by hand:     cc -O2 examples/xor.c -o xor -lm && ./xor */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <stdio.h>

int main(void) {
    const size_t sizes[] = {2, 4, 1};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SIGMOID};
    const nn_real x[] = {0, 0, 0, 1, 1, 0, 1, 1}; /* 4 samples, one a row */
    const nn_real y[] = {0, 1, 1, 0};
    nn_net *net = nn_create(2, sizes, acts, 42, NULL); /* 42: the seed */
    const nn_real *p;
    int right = 0;
    if (!net) return 1;
    for (int epoch = 0; epoch <= 1000; epoch++) {
        double loss;
        if (!nn_forward(net, x, 4)) return 1;
        nn_zero_grad(net);
        if (nn_backward(net, NN_LOSS_BINARY_CROSS_ENTROPY, y, &loss) != NN_OK ||
            nn_sgd_step(net, NN_R(0.5)) != NN_OK) /* w -= 0.5 * dLoss/dw */
            return 1;
        if (epoch % 250 == 0) printf("epoch %4d  loss %.4f\n", epoch, loss);
    }
    p = nn_forward(net, x, 4);
    for (int s = 0; s < 4; s++) {
        printf("%g xor %g = %.3f\n", (double)x[2 * s], (double)x[2 * s + 1], (double)p[s]);
        right += (p[s] > NN_R(0.5)) == (y[s] > NN_R(0.5));
    }
    /* XOR has no other inputs than these four, so they are the test too */
    printf("test accuracy: %.4f\n", right / 4.0);
    nn_destroy(net);
    return 0;
}
