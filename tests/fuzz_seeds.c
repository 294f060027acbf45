/* Writes the fuzzer's seed corpus: valid models of several shapes, with
   and without class weights and optimizer state, in this build's real
   size.  Usage: fuzz_seeds DIR */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <stdio.h>

int main(int argc, char **argv) {
    const size_t s1[] = {2, 1}, s2[] = {3, 4, 2}, s3[] = {4, 3, 3, 5};
    const nn_act a1[] = {NN_ACT_SIGMOID}, a2[] = {NN_ACT_RELU, NN_ACT_SOFTMAX},
                 a3[] = {NN_ACT_TANH, NN_ACT_LEAKY_RELU, NN_ACT_LINEAR};
    const size_t *sizes[] = {s1, s2, s3};
    const nn_act *acts[] = {a1, a2, a3};
    const nn_real w[5] = {1, 2, NN_R(0.5), 0, 3};
    int written = 0;
    if (argc < 2) return 2;
    for (size_t shape = 0; shape < 3; shape++)
        for (int extra = 0; extra < 3; extra++) {
            nn_net *net = nn_create(shape + 1, sizes[shape], acts[shape], 7 + shape, NULL);
            char path[1024];
            if (!net) return 1;
            if (extra >= 1) { /* class weights (softmax outputs only), input scaling */
                nn_set_class_weights(net, w);
                nn_set_input_scaling(net, w, w + 1);
            }
            if (extra == 2) {
                nn_opt opt = nn_opt_adam(0.01);
                for (size_t k = 0; k < nn_param_count(net); k++)
                    nn_grads(net)[k] = (nn_real)k / 10;
                nn_step(net, &opt);
            }
            snprintf(path, sizeof path, "%s/seed-%zu-%zu-%d.nn", argv[1], sizeof(nn_real), shape,
                     extra);
            if (nn_save(net, path) != NN_OK) return 1;
            written++;
            nn_destroy(net);
        }
    printf("%d seeds written to %s\n", written, argv[1]);
    return 0;
}
