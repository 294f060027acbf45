/* One trained net, shared read-only by 8 threads that predict at once,
   each with its own scratch buffer: every thread gets the serial results,
   bit for bit.  make portability also builds it with ThreadSanitizer.
   Needs POSIX threads.  Ends with "N passed, N failed". */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 8, ROWS = 256, BATCH = 32, N_IN = 20, N_OUT = 5, ROUNDS = 10 };

static nn_real x[ROWS * N_IN], serial[ROWS * N_OUT];

typedef struct job {
    const nn_net *net; /* shared, const */
    int same;          /* this thread's answer */
} job;

static void *predict_all(void *arg) {
    job *j = (job *)arg;
    nn_real *scratch = (nn_real *)malloc(nn_predict_scratch_size(j->net, BATCH) * sizeof *scratch);
    nn_real *out = (nn_real *)malloc(sizeof serial);
    j->same = scratch && out;
    for (int round = 0; round < ROUNDS && j->same; round++) {
        for (size_t start = 0; start < ROWS; start += BATCH)
            nn_predict(j->net, x + start * N_IN, BATCH, scratch, out + start * N_OUT);
        j->same = memcmp(out, serial, sizeof serial) == 0;
    }
    free(scratch);
    free(out);
    return NULL;
}

int main(void) {
    const size_t sizes[] = {N_IN, 32, 16, N_OUT};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = nn_create(3, sizes, acts, 99, NULL);
    nn_rng rng;
    pthread_t tid[THREADS];
    job jobs[THREADS];
    int started = 0, all_same = 1;
    nn_rng_seed(&rng, 3);
    for (int k = 0; k < ROWS * N_IN; k++) x[k] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
    /* the serial reference: nn_forward on the whole set */
    memcpy(serial, nn_forward(net, x, ROWS), sizeof serial);
    for (int t = 0; t < THREADS; t++) {
        jobs[t].net = net;
        jobs[t].same = 0;
        started += pthread_create(&tid[t], NULL, predict_all, &jobs[t]) == 0;
    }
    CHECK(started == THREADS);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    for (int t = 0; t < started; t++) all_same &= jobs[t].same;
    CHECK(all_same);
    nn_destroy(net);
    return th_report();
}
