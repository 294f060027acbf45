/* sine.c - regression: fit y = sin(x) on [-pi, pi] with nn.h.

   A regression net ends in a linear layer, so its output can take any
   value, and learns with the mean squared error.  Here 1 input -> 16 tanh
   units -> 1 linear output, trained by plain gradient descent on 64 evenly
   spaced points at once, then measured on 200 points in between, which it
   never saw.

   Build and run:  make examples && ./build/examples/sine */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <math.h>
#include <stdio.h>

#define N_TRAIN 64
#define N_TEST 200
#define PI 3.14159265358979323846

int main(void) {
    const size_t sizes[] = {1, 16, 1};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_LINEAR};
    nn_real x[N_TRAIN], y[N_TRAIN], xt[N_TEST], yt[N_TEST];
    double loss = 0;
    nn_net *net = nn_create(2, sizes, acts, 7, NULL);
    const nn_real *p;
    if (!net) return 1;
    for (int s = 0; s < N_TRAIN; s++) {
        x[s] = (nn_real)(-PI + 2 * PI * s / (N_TRAIN - 1));
        y[s] = (nn_real)sin((double)x[s]);
    }
    for (int s = 0; s < N_TEST; s++) { /* between the training points */
        xt[s] = (nn_real)(-PI + 2 * PI * (s + 0.5) / N_TEST);
        yt[s] = (nn_real)sin((double)xt[s]);
    }
    for (int epoch = 0; epoch <= 20000; epoch++) {
        if (!nn_forward(net, x, N_TRAIN)) return 1;
        nn_zero_grad(net);
        if (nn_backward(net, NN_LOSS_MSE, y, &loss) != NN_OK ||
            nn_sgd_step(net, NN_R(0.03)) != NN_OK)
            return 1;
        if (epoch % 4000 == 0) printf("epoch %5d  train MSE %.5f\n", epoch, loss);
    }
    if (!nn_forward(net, xt, N_TEST) ||
        nn_compute_loss(net, NN_LOSS_MSE, yt, &loss) != NN_OK)
        return 1;
    printf("test MSE %.5f on %d unseen points\n", loss, N_TEST);
    p = nn_forward(net, xt, N_TEST);
    for (int s = 0; s < N_TEST; s += 40)
        printf("sin(%+.2f) = %+.3f, net says %+.3f\n", (double)xt[s], (double)yt[s],
               (double)p[s]);
    nn_destroy(net);
    return 0;
}
