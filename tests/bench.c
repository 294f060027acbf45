/* bench.c - how fast nn.h trains, on the two standard MLP tasks.

   One epoch over Fashion-MNIST-shaped data (60,000 x 784 inputs in [0, 1],
   10 classes, fixed order), 784-128-10, through nn_train:
     P1  per-sample SGD: sigmoid hidden and output, MSE, batch 1, learning
         rate 0.5 (= 0.1 on 1/2 sum (a - y)^2, since nn.h's MSE is a mean
         over the 10 outputs: 0.1 * (a - y) = 0.5 * 2 (a - y) / 10)
     P2  mini-batch: ReLU hidden, softmax + cross-entropy, batches of 64,
         plain SGD at learning rate 0.1
     P2x2  P2 on 2 threads (only in a build with -fopenmp)
     P3  nn_train's defaults: P2's net with Adam at learning rate 0.001,
         batches of 32 (what a program that changes no setting trains with)
   Each task runs RUNS times from the same start; the line gives the median
   time, and the test accuracy after the epoch when the data is the real
   Fashion-MNIST (from DIR, default build/fashion-mnist; see `make
   fashion-mnist-data`), else "-" (random data of the same shape):
     P1 <seconds> s/epoch <samples/s> samples/s acc <accuracy or ->
   Then each kernel at P2's shapes: its GFLOP/s, and how many times faster
   it is than the reference kernel doing the same work in the same run (the
   ratio is what to compare between machines; this one may be busy).
   Last, the latency of nn_predict on one sample: a tiny 10-32-32-1 net,
   with tanh and with linear hidden layers (the difference is the time of
   tanh), and P2's 784-128-10.

   Usage: bench [DIR]        (make bench builds and runs it)
   Not a test: it asserts nothing about time. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define N_TRAIN 60000
#define N_TEST 10000
#define PIXELS 784
#define HIDDEN 128
#define CLASSES 10
#define RUNS 5

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, by_value);
    return v[n / 2];
}

/* ---- data ---------------------------------------------------------------- */

/* The `bytes` bytes after an IDX file's header; 0 if the file is missing
   or not exactly that long (examples/fashion_mnist.c checks the header
   field by field; here a wrong file only means random data). */
static int read_idx(const char *dir, const char *name, size_t header, size_t bytes,
                    unsigned char *out) {
    char path[1024];
    FILE *f;
    int ok;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) return 0;
    ok = fseek(f, (long)header, SEEK_SET) == 0 && fread(out, 1, bytes, f) == bytes &&
         fgetc(f) == EOF;
    fclose(f);
    return ok;
}

/* Fashion-MNIST from dir, or random data of its shape; 1 if real */
static int load(const char *dir, nn_real *x, nn_real *y, nn_real *tx, nn_real *ty) {
    unsigned char *img = (unsigned char *)malloc((size_t)N_TRAIN * PIXELS);
    unsigned char lab[N_TRAIN];
    int real = img && read_idx(dir, "train-images-idx3-ubyte", 16, (size_t)N_TRAIN * PIXELS, img) &&
               read_idx(dir, "train-labels-idx1-ubyte", 8, N_TRAIN, lab);
    for (int set = 0; set < 2; set++) {
        const size_t n = set ? N_TEST : N_TRAIN;
        nn_real *xs = set ? tx : x, *ys = set ? ty : y;
        nn_rng rng;
        if (set && real)
            real = read_idx(dir, "t10k-images-idx3-ubyte", 16, (size_t)N_TEST * PIXELS, img) &&
                   read_idx(dir, "t10k-labels-idx1-ubyte", 8, N_TEST, lab);
        nn_rng_seed(&rng, 1 + (uint64_t)set);
        for (size_t k = 0; k < n * PIXELS; k++)
            xs[k] = real ? (nn_real)((nn_real)img[k] / 255) : (nn_real)nn_rng_uniform(&rng);
        memset(ys, 0, n * CLASSES * sizeof *ys);
        for (size_t s = 0; s < n; s++)
            ys[s * CLASSES + (real ? lab[s] % CLASSES : nn_rng_below(&rng, CLASSES))] = 1;
    }
    free(img);
    return real;
}

/* ---- the tasks ------------------------------------------------------------ */

typedef struct task {
    const char *name;
    nn_act hidden, output;
    nn_loss loss;
    size_t batch;
    double lr;
    int threads, adam; /* adam: nn_train_defaults' Adam, else plain SGD */
} task;

static int run(const task *t, const nn_real *x, const nn_real *y, const nn_real *tx,
               const nn_real *ty, int real) {
    const size_t sizes[] = {PIXELS, HIDDEN, CLASSES};
    const nn_act acts[] = {t->hidden, t->output};
    double secs[RUNS], acc = 0;
#ifdef _OPENMP
    omp_set_num_threads(t->threads);
#endif
    for (int r = 0; r < RUNS; r++) {
        nn_net *net = nn_create(2, sizes, acts, 42, NULL);
        nn_train_config cfg = nn_train_defaults(t->loss);
        double t0;
        cfg.opt = t->adam ? nn_opt_adam(t->lr) : nn_opt_sgd(t->lr);
        cfg.batch_size = t->batch;
        cfg.epochs = 1;
        cfg.shuffle = 0;
        if (!net || nn_reserve(net, t->batch) != NN_OK) {
            nn_destroy(net);
            return 0;
        }
        t0 = now();
        if (nn_train(net, &cfg, x, y, N_TRAIN, NULL) != NN_OK) {
            nn_destroy(net);
            return 0;
        }
        secs[r] = now() - t0;
        if (nn_evaluate(net, t->loss, tx, ty, N_TEST, NULL, &acc) != NN_OK) {
            nn_destroy(net);
            return 0;
        }
        nn_destroy(net);
    }
    {
        const double s = median(secs, RUNS);
        printf("%s %.3f s/epoch %.0f samples/s acc ", t->name, s, N_TRAIN / s);
        if (real) printf("%.4f\n", acc);
        else printf("-\n");
    }
    fflush(stdout);
    return 1;
}

/* ---- kernels ------------------------------------------------------------- */

typedef void (*fwd_fn)(nn_real *, const nn_real *, const nn_real *, const nn_real *, size_t,
                       size_t, size_t);
typedef void (*par_fn)(nn_real *, nn_real *, const nn_real *, const nn_real *, size_t, size_t,
                       size_t);
typedef void (*inp_fn)(nn_real *, const nn_real *, const nn_real *, size_t, size_t, size_t);

/* seconds per call(arg), the median of RUNS timings of enough calls to
   take about 0.1 s (the call through a pointer adds a nanosecond or two) */
static double seconds_per_call(void (*call)(void *), void *arg) {
    double secs[RUNS];
    size_t calls = 1;
    for (;;) { /* how many calls take 0.02 s; five times that, 0.1 s */
        double t0 = now();
        for (size_t c = 0; c < calls; c++) call(arg);
        if (now() - t0 > 0.02) break;
        calls *= 2;
    }
    calls *= 5;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (size_t c = 0; c < calls; c++) call(arg);
        secs[r] = (now() - t0) / (double)calls;
    }
    return median(secs, RUNS);
}

/* one call of kernel k (0 forward, 1 dW and db, 2 dx), fast or reference,
   on arrays carved from buf */
typedef struct kernel_call {
    int k, fast;
    size_t B, n_in, n_out;
    nn_real *buf;
} kernel_call;

static void call_kernel(void *arg) {
    static const fwd_fn fwd[2] = {nn__dense_forward_ref, nn__dense_forward};
    static const par_fn par[2] = {nn__dense_backward_params_ref, nn__dense_backward_params};
    static const inp_fn inp[2] = {nn__dense_backward_input_ref, nn__dense_backward_input};
    const kernel_call *c = (const kernel_call *)arg;
    const size_t B = c->B, n_in = c->n_in, n_out = c->n_out;
    nn_real *x = c->buf, *W = x + B * n_in, *b = W + n_out * n_in, *z = b + n_out;
    nn_real *dW = z + B * n_out, *db = dW + n_out * n_in, *dx = db + n_out;
    if (c->k == 0) fwd[c->fast](z, x, W, b, B, n_in, n_out);
    else if (c->k == 1) par[c->fast](dW, db, z, x, B, n_in, n_out);
    else inp[c->fast](dx, z, W, B, n_in, n_out);
}

static double time_kernel(int k, int fast, size_t B, size_t n_in, size_t n_out, nn_real *buf) {
    kernel_call c = {k, fast, B, n_in, n_out, buf};
    return seconds_per_call(call_kernel, &c);
}

/* The fused multiply-add peak of one core: 64 independent chains
   acc = fma(acc, m, c) in a fixed-length inner loop, which the compiler
   spreads over its vector registers, 2 flops per element and step (gcc
   compiles it at -O3 whatever the build's -O: at -O2 it keeps the chains
   in memory).  The best of RUNS timings of about 0.1 s.  Compiled for the
   ISA that nn.h's products run on: where nn.h chooses it at run time
   (NN__DISPATCH, x86-64), for AVX-512 and for AVX2 + FMA, timed as the CPU
   has them; else for the build's target, when it has FMA.  A CPU or build
   without FMA measures no peak: an a * b + c loop would time the build,
   not the core. */
#define CHAINS 64
#if defined(__GNUC__) && !defined(__clang__)
#define PEAK_O3 __attribute__((optimize("O3")))
#else
#define PEAK_O3
#endif
#define PEAK_FUNCTION(name, target)                                                        \
    PEAK_O3 target static double name(void) {                                              \
        nn_real acc[CHAINS];                                                               \
        const nn_real m = (nn_real)0.9999, c = (nn_real)1e-4;                              \
        double best = 0;                                                                   \
        size_t steps = 1;                                                                  \
        for (int k = 0; k < CHAINS; k++) acc[k] = (nn_real)k * (nn_real)1e-3;              \
        for (int r = -1; r < RUNS; r++) {                                                  \
            double t0 = now(), t;                                                          \
            for (size_t step = 0; step < steps; step++)                                    \
                for (int k = 0; k < CHAINS; k++)                                           \
                    acc[k] = sizeof(nn_real) == sizeof(float)                              \
                                 ? (nn_real)fmaf((float)acc[k], (float)m, (float)c)        \
                                 : (nn_real)fma((double)acc[k], (double)m, (double)c);     \
            t = now() - t0;                                                                \
            if (r < 0) { /* the first run sizes the others */                              \
                steps = (size_t)(0.1 / (t > 1e-9 ? t : 1e-9)) + 1;                         \
                steps = steps > 100000000 ? 100000000 : steps;                             \
                continue;                                                                  \
            }                                                                              \
            if (2.0 * CHAINS * (double)steps / t > best)                                   \
                best = 2.0 * CHAINS * (double)steps / t;                                   \
        }                                                                                  \
        for (int k = 1; k < CHAINS; k++) acc[0] += acc[k]; /* keeps the chains */          \
        return acc[0] > 0 ? best * 1e-9 : 0;                                               \
    }
#if defined(NN__DISPATCH)
PEAK_FUNCTION(peak_avx512, __attribute__((target("avx512f,fma"))))
PEAK_FUNCTION(peak_avx2, __attribute__((target("avx2,fma"))))
static double peak_gflops(void) { /* the ISA nn.h's products take */
    switch (nn__isa()) {
    case 2: return peak_avx512();
    case 1: return peak_avx2();
    default: return 0;
    }
}
#elif defined(__FMA__) || defined(__ARM_FEATURE_FMA)
PEAK_FUNCTION(peak_gflops, )
#else
static double peak_gflops(void) { return 0; }
#endif

/* The kernels' operands, the same before every timing: dW accumulates at
   every call, and operands left by the kernel timed before changed the
   next one's speed (the batch-1 dW and dx at -O2 read 12.8 GFLOP/s after
   the fused tiles' runs, 19.2 from fresh operands) */
#define BUF 400000
static void fill(nn_real *buf) {
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    for (size_t k = 0; k < BUF; k++) buf[k] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
}

static void kernels(void) {
    static const char *what[3] = {"forward  z = x.W^T + b", "backward dW += dz^T.x",
                                  "backward dx = dz.W"};
    const size_t shapes[][3] = {{64, PIXELS, HIDDEN}, {64, HIDDEN, CLASSES}, {1, PIXELS, HIDDEN}};
    nn_real *buf = (nn_real *)malloc(sizeof(nn_real) * BUF);
    if (!buf) return;
    const double peak = peak_gflops();
    if (peak > 0) printf("\nFMA peak of one core: %.1f GFLOP/s\n", peak);
    else printf("\nFMA peak of one core: not measured (no FMA here)\n");
    printf("kernel                  B   n_in n_out   GFLOP/s  of peak     x ref\n");
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
        for (int k = 0; k < 3; k++) {
            const size_t B = shapes[sh][0], n_in = shapes[sh][1], n_out = shapes[sh][2];
            const double flop = 2.0 * (double)(B * n_in * n_out);
            double ref, fast;
            fill(buf);
            ref = time_kernel(k, 0, B, n_in, n_out, buf);
            fill(buf);
            fast = time_kernel(k, 1, B, n_in, n_out, buf);
            printf("%-22s %3zu %6zu %5zu %9.1f", what[k], B, n_in, n_out, flop / fast * 1e-9);
            if (peak > 0) printf(" %7.0f%%", 100 * flop / fast * 1e-9 / peak);
            else printf("        -");
            printf(" %9.1f\n", ref / fast);
        }
    free(buf);
}

/* ---- latency ------------------------------------------------------------- */

/* one nn_predict of one sample; each call's input waits for the last
   call's output, so the time is the latency, not the throughput */
typedef struct predict_call {
    const nn_net *net;
    nn_real x[PIXELS], out[CLASSES], x0, *scratch;
} predict_call;

static void call_predict(void *arg) {
    predict_call *c = (predict_call *)arg;
    c->x[0] = c->x0 + c->out[0] * 0;
    nn_predict(c->net, c->x, 1, c->scratch, c->out);
}

/* nanoseconds per nn_predict of one sample through a net of L layers:
   what a game, a controller or a plug-in calls once per frame or per
   sample */
static double predict_ns(size_t L, const size_t *sizes, const nn_act *acts) {
    static predict_call c;
    nn_net *net = nn_create(L, sizes, acts, 5, NULL);
    double ns;
    nn_rng rng;
    if (!net) return -1;
    c.net = net;
    c.scratch = (nn_real *)malloc(sizeof(nn_real) * nn_predict_scratch_size(net, 1));
    if (!c.scratch) {
        nn_destroy(net);
        return -1;
    }
    nn_rng_seed(&rng, 9);
    for (size_t i = 0; i < sizes[0]; i++) c.x[i] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
    c.x0 = c.x[0];
    c.out[0] = 0;
    ns = seconds_per_call(call_predict, &c) * 1e9;
    free(c.scratch);
    nn_destroy(net);
    return ns;
}

static void latency(void) {
    static const size_t tiny[] = {10, 32, 32, 1}, p2[] = {PIXELS, HIDDEN, CLASSES};
    static const nn_act tiny_acts[] = {NN_ACT_TANH, NN_ACT_TANH, NN_ACT_LINEAR},
                        linear_acts[] = {NN_ACT_LINEAR, NN_ACT_LINEAR, NN_ACT_LINEAR},
                        p2_acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    printf("\nnn_predict of one sample      ns\n");
    printf("%-26s %7.0f\n", "10-32-32-1 tanh tanh", predict_ns(3, tiny, tiny_acts));
    printf("%-26s %7.0f\n", "10-32-32-1 linear", predict_ns(3, tiny, linear_acts));
    printf("%-26s %7.0f\n", "784-128-10 relu softmax", predict_ns(2, p2, p2_acts));
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "build/fashion-mnist";
    static const task tasks[] = {
        {"P1", NN_ACT_SIGMOID, NN_ACT_SIGMOID, NN_LOSS_MSE, 1, 0.5, 1, 0},
        {"P2", NN_ACT_RELU, NN_ACT_SOFTMAX, NN_LOSS_CROSS_ENTROPY, 64, 0.1, 1, 0},
        {"P2x2", NN_ACT_RELU, NN_ACT_SOFTMAX, NN_LOSS_CROSS_ENTROPY, 64, 0.1, 2, 0},
        {"P3", NN_ACT_RELU, NN_ACT_SOFTMAX, NN_LOSS_CROSS_ENTROPY, 32, 0.001, 1, 1}};
#ifdef _OPENMP
    const int threads = 2; /* this build runs the threaded task only */
#else
    const int threads = 1;
#endif
    nn_real *x = (nn_real *)malloc(sizeof(nn_real) * N_TRAIN * PIXELS);
    nn_real *y = (nn_real *)malloc(sizeof(nn_real) * N_TRAIN * CLASSES);
    nn_real *tx = (nn_real *)malloc(sizeof(nn_real) * N_TEST * PIXELS);
    nn_real *ty = (nn_real *)malloc(sizeof(nn_real) * N_TEST * CLASSES);
    int real, ok = 1;
    if (!x || !y || !tx || !ty) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    real = load(dir, x, y, tx, ty);
    printf("# %s, one epoch of 60,000, median of %d runs%s\n",
           real ? "Fashion-MNIST" : "random data (no Fashion-MNIST in the directory given)", RUNS,
           sizeof(nn_real) == 8 ? ", NN_REAL=double" : "");
    for (size_t t = 0; ok && t < sizeof tasks / sizeof *tasks; t++)
        if (tasks[t].threads == threads) ok = run(&tasks[t], x, y, tx, ty, real);
    if (ok && threads == 1) {
        kernels();
        latency();
    }
    free(x);
    free(y);
    free(tx);
    free(ty);
    if (!ok) fprintf(stderr, "bench: a net could not be created or trained\n");
    return !ok;
}
