/* nn.h - v0.1.0 - small dense feedforward neural networks in one C header.
   No dependencies beyond libc and libm.  MIT or public domain: see the end
   of this file.

   Do this:
      #define NN_IMPLEMENTATION
   before you include this file in *one* C or C++ file to create the
   implementation.  Every other file includes nn.h without the define.

   QUICK START (XOR: 2 inputs, 4 tanh units, 1 sigmoid output)

      #define NN_IMPLEMENTATION
      #include "nn.h"
      #include <stdio.h>

      int main(void) {
          size_t sizes[] = {2, 4, 1};
          nn_act acts[] = {NN_ACT_TANH, NN_ACT_SIGMOID};
          nn_real x[] = {0,0, 0,1, 1,0, 1,1}, y[] = {0, 1, 1, 0};
          nn_net *net = nn_create(2, sizes, acts, 42, NULL);
          if (!net) return 1;
          for (int epoch = 0; epoch < 1000; epoch++) {
              nn_forward(net, x, 4);            // 4 samples, one per row
              nn_zero_grad(net);
              nn_backward(net, NN_LOSS_BINARY_CROSS_ENTROPY, y, NULL);
              nn_sgd_step(net, NN_R(0.5));      // w -= 0.5 * dLoss/dw
          }
          const nn_real *p = nn_forward(net, x, 4);
          for (int s = 0; s < 4; s++) printf("%.3f\n", (double)p[s]);
          nn_destroy(net);
          return 0;
      }

   Link with -lm.  examples/xor.c is this program with error checks and
   its accuracy.

   OPTIONS (define before including nn.h)
      NN_REAL      [global] the real type: float (default) or double.  Must
                   be the same in every file of a program that includes nn.h;
                   put it in the build flags (-DNN_REAL=double).
      NN_STATIC    [impl]   make this file's copy of the implementation
                   private (static), so several libraries can each carry one.
      NN_MALLOC(n), NN_FREE(p)
                   [impl]   your allocator; define both or neither.
      NN_ASSERT(c) [impl]   what mistakes no valid program makes trip (a
                   NULL net or pointer); default assert() from
                   <assert.h>.  Everything a caller passes at run time
                   (sizes, settings, data, files) is checked in every
                   build, -DNDEBUG included, and refused with an error
                   code; none of that goes through NN_ASSERT.
      NN_SECONDS() [impl]   a clock in seconds, as a double, for the epoch
                   times nn_train reports; default clock(), which counts
                   processor time.
      NN_NO_STDIO  [global] no <stdio.h>: nn_save and nn_load are left out;
                   nn_save_mem and nn_load_mem remain.
      NN_REFERENCE [impl]   the textbook code alone: no section "fast
                   paths", every product and step as the loops that state
                   its formula (slower; to read or step through in a
                   debugger).  The results agree with the default build's
                   within rounding.
      NN_NO_DISPATCH [impl] on x86-64 ELF systems (Linux, BSDs) with gcc
                   or clang, the matrix products and the step check are
                   compiled for SSE2, AVX2 with FMA and AVX-512 and run as
                   the best the CPU has (with gcc in a plain `cc -O2`
                   build, so are one sample's forward pass and SGD step,
                   the float tanh and Adam's step), so that build trains
                   at the speed of -march=native; this keeps only the ISA
                   the build compiles for.
      NN_NO_FMA    [impl]   the matrix products use fused multiply-adds
                   (one rounding) wherever the CPU has them; this keeps
                   the multiply and the add apart.  With it, and a build
                   that does not fuse a*b+c by itself (-ffp-contract=off:
                   gcc fuses in its GNU and C++ modes, clang always), the
                   products give the same bits on every machine and ISA.
      -fopenmp     [impl]   (a compiler flag, not a define) large matrix
                   products, nn_step and nn_zero_grad use OpenMP threads;
                   the results are the same, bit for bit, for any number
                   of threads.  Without it nn.h uses no threads at all.
                   OpenMP's default wait policy keeps a thread that has
                   done its share spinning until the next parallel
                   region: on a machine whose other cores are busy (a
                   shared server, a second program) the spinning threads
                   take time from the ones still working, and training
                   can take several times longer than on one thread.
                   There, set OMP_WAIT_POLICY=passive (waiting threads
                   sleep) or OMP_NUM_THREADS=1.

   NOTATION (used in every comment below)
      B         batch size: number of samples, one per row
      L         number of dense layers; layer l = 0 .. L-1
      n_in, n_out  inputs and outputs of one layer; sizes[l], sizes[l+1]
      x         input of a layer, B x n_in (the net's input for l = 0)
      W         weights of a layer, n_out x n_in, row-major (like PyTorch's
                nn.Linear.weight); b its biases, n_out
      z         pre-activation, z = x.W^T + b, B x n_out
      a         activation, a = f(z), B x n_out; the next layer's x
      y         target, B x sizes[L]
      Loss      the scalar loss; dfoo means dLoss/dfoo, with foo's shape
      s, o, i   loop letters: sample, output unit, input unit
      All matrices are row-major: element [s][o] of a B x n_out array is at
      s*n_out + o.

   CONTENTS (section banners in the implementation)
      integration        NN_ASSERT, NN_MALLOC/NN_FREE, math wrappers
      rng                PCG32, the seeded generator a net owns
      dense layer        its three products, as loops
      activations        forward/backward pairs
      losses             MSE; softmax + cross-entropy; sigmoid + binary CE
      network            create/destroy, workspace, forward, backward
      optimizers         SGD, momentum, Nesterov, Adam, AdamW, clipping
      gradient check     central differences against backward
      evaluation         loss, accuracy, confusion matrix over a data set
      training           nn_train: epochs, batches, schedules, early stop
      fast paths         blocked products, lanes, threads, SGD without dW
      model files        nn_save/nn_load: the format, CRC-32, atomic save
      C export           nn_export_c: a net as a C header, float or int8
      license            at the very end of the file
*/

#ifndef NN_H
#define NN_H

#include <stddef.h> /* size_t */
#include <stdint.h> /* uint32_t, uint64_t */
#ifndef NN_NO_STDIO
#include <stdio.h> /* FILE, for nn_export_c */
#endif

#define NN_VERSION_MAJOR 0
#define NN_VERSION_MINOR 1
#define NN_VERSION_PATCH 0
#define NN_VERSION_STRING "0.1.0"

#ifndef NN_REAL
#define NN_REAL float
#endif
/* The type of every weight, activation and loss: float or double. */
typedef NN_REAL nn_real;
/* A real constant in the precision of nn_real: NN_R(0.1) is 0.1 in a double
   build, where a bare 0.1f would already have lost digits. */
#define NN_R(x) ((nn_real)(x))

#ifndef NNDEF
#ifdef NN_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define NNDEF static __attribute__((unused))
#else
#define NNDEF static
#endif
#else
#define NNDEF extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Every file of a program must see the same NN_REAL: a file built with
   double calling an implementation built with float would pass doubles
   where floats are read.  So every file that includes nn.h refers to a
   symbol named after its own NN_REAL, and the implementation defines only
   the one for its own: a mismatch fails to link, with "undefined
   reference to nn_NN_REAL_mismatch_this_file_uses_double" (or _float).
   (gcc and clang; with NN_STATIC every file has its own implementation.) */
#define NN__CAT(a, b) a##b
#define NN__XCAT(a, b) NN__CAT(a, b)
#define NN__REAL_CHECK NN__XCAT(nn_NN_REAL_mismatch_this_file_uses_, NN_REAL)
#if (defined(__GNUC__) || defined(__clang__)) && !defined(NN_STATIC)
extern const char NN__REAL_CHECK;
static const char *const nn__real_check __attribute__((used)) =
    &NN__REAL_CHECK;
#endif

/* What a call that can fail for reasons the caller cannot rule out returns.
   NN_OK is zero, every error is negative. */
typedef enum nn_result {
    NN_OK = 0,
    NN_ERR_NOMEM = -1,  /* an allocation failed, or its size overflows */
    NN_ERR_INVALID = -2, /* an argument outside the range its function
                            accepts: a size or count of 0, a setting out of
                            range, targets the loss cannot take, a loss
                            that does not fit the output activation; the
                            call changed nothing */
    NN_ERR_NONFINITE = -3, /* a NaN or infinity in the data, the loss, the
                              gradients or what a step would make of the
                              weights or the optimizer state; the call
                              changed nothing (a step is not taken) */
    /* model files (nn_save, nn_load and their memory twins) */
    NN_ERR_IO = -4,          /* a file could not be opened, read, written
                                or renamed */
    NN_ERR_NOT_MODEL = -5,   /* the data does not start with nn.h's magic */
    NN_ERR_VERSION = -6,     /* a newer format version than this nn.h reads */
    NN_ERR_TRUNCATED = -7,   /* the data ends before the model does (or
                                claims sizes no data of its length holds) */
    NN_ERR_CORRUPT = -8,     /* the CRC-32 does not match: bytes changed */
    NN_ERR_TRAILING = -9,    /* bytes follow the end of the model */
    NN_ERR_UNSUPPORTED = -10 /* a well-formed field this nn.h cannot use:
                                an unknown activation, real size or flag, a
                                size of 0, a NaN or infinite parameter */
} nn_result;

/* Activation of a layer, a = f(z), applied elementwise except softmax. */
typedef enum nn_act {
    NN_ACT_LINEAR = 0,  /* f(z) = z */
    NN_ACT_SIGMOID,     /* f(z) = 1 / (1 + e^-z) */
    NN_ACT_TANH,        /* f(z) = tanh z */
    NN_ACT_RELU,        /* f(z) = max(0, z) */
    NN_ACT_LEAKY_RELU,  /* f(z) = z > 0 ? z : NN_LEAKY_RELU_SLOPE * z */
    NN_ACT_SOFTMAX,     /* f(z)_o = e^z_o / sum_k e^z_k, over one row */
    NN_ACT_COUNT        /* number of activations, not an activation */
} nn_act;

/* The slope of leaky ReLU for z <= 0 (PyTorch's default). */
#define NN_LEAKY_RELU_SLOPE 0.01

/* Loss of a batch: always a mean, as in PyTorch. */
typedef enum nn_loss {
    /* mean over all B*n elements of (a - y)^2; any output activation */
    NN_LOSS_MSE = 0,
    /* mean over the B samples of -sum_o y_o log a_o; the output layer must
       be NN_ACT_SOFTMAX; y is one-hot or a probability distribution */
    NN_LOSS_CROSS_ENTROPY,
    /* mean over all B*n elements of -(y log a + (1-y) log(1-a)); the
       output layer must be NN_ACT_SIGMOID; y in [0, 1] */
    NN_LOSS_BINARY_CROSS_ENTROPY,
    NN_LOSS_COUNT /* number of losses, not a loss */
} nn_loss;

/* Optimizer: how nn_step turns gradients into a change of the weights.
   Each follows torch.optim step for step (see nn_step). */
typedef enum nn_opt_kind {
    NN_OPT_SGD = 0, /* gradient descent, optionally with momentum */
    NN_OPT_ADAM,    /* Adam, Kingma & Ba (2015); weight decay as L2 */
    NN_OPT_ADAMW,   /* Adam with decoupled weight decay, Loshchilov &
                       Hutter (2019) */
    NN_OPT_COUNT    /* number of optimizers, not an optimizer */
} nn_opt_kind;

/* An optimizer and its hyperparameters.  Start from nn_opt_sgd,
   nn_opt_adam or nn_opt_adamw and change fields as needed. */
typedef struct nn_opt {
    nn_opt_kind kind;
    double lr;           /* learning rate, >= 0 */
    double momentum;     /* SGD: mu in [0, 1); 0 turns momentum off */
    int nesterov;        /* SGD: nonzero for Nesterov momentum */
    double weight_decay; /* lambda >= 0.  SGD and Adam: L2, lambda * w is
                            added to the gradient; AdamW: decoupled, the
                            weights shrink by lr * lambda * w each step */
    double beta1, beta2; /* Adam, AdamW: decay of the first and second
                            moment averages, in [0, 1) */
    double eps;          /* Adam, AdamW: added to sqrt(v), > 0 */
} nn_opt;

/* Learning-rate schedule of nn_train; epoch e counts from 0. */
typedef enum nn_schedule {
    NN_SCHEDULE_CONSTANT = 0, /* lr */
    NN_SCHEDULE_STEP,   /* lr * gamma^floor(e / step_epochs) (StepLR) */
    NN_SCHEDULE_COSINE, /* lr_min + (lr - lr_min) (1 + cos(pi e / epochs)) / 2
                           (CosineAnnealingLR with T_max = epochs) */
    NN_SCHEDULE_COUNT   /* number of schedules, not a schedule */
} nn_schedule;

/* What nn_train tells its callbacks. */
typedef struct nn_train_info {
    size_t epoch;        /* the current epoch, 1 .. epochs */
    size_t epochs;       /* epochs asked for */
    size_t done;         /* samples of this epoch trained on so far */
    size_t n;            /* samples in an epoch */
    double train_loss;   /* mean loss of this epoch's batches so far, each
                            taken before its step */
    double lr;           /* this epoch's learning rate */
    double seconds;      /* since the epoch began (NN_SECONDS) */
    int has_val;         /* 1 when the two val_ fields below are set: at
                            the end of an epoch, with a validation set */
    double val_loss;     /* loss on the validation set after the epoch */
    double val_accuracy; /* accuracy on it, as nn_evaluate counts it; NaN
                            when the output is neither softmax nor sigmoid
                            (a regression has no classes) */
} nn_train_info;

/* A callback of nn_train.  Return 0 to go on, nonzero to stop training. */
typedef int (*nn_train_fn)(const nn_train_info *info, void *user);

/* Why nn_train ended. */
typedef enum nn_stop {
    NN_STOP_EPOCHS = 0, /* it ran every epoch asked for */
    NN_STOP_EARLY,      /* early stopping: `patience` epochs brought no
                           new lowest loss */
    NN_STOP_CALLBACK,   /* on_epoch or on_batch returned nonzero */
    NN_STOP_ERROR       /* it returned an error (see its result) */
} nn_stop;

/* What nn_train reports when it ends (its last argument, if not NULL). */
typedef struct nn_train_report {
    nn_stop stop;        /* why it ended */
    size_t epochs;       /* epochs completed */
    size_t best_epoch;   /* with early stopping: the epoch whose weights the
                            net was given back (1 .. epochs; 0 when none
                            completed or on an error); without it, 0: the
                            net keeps the weights of its last step */
    double best_loss;    /* with early stopping: that epoch's loss (the
                            validation loss when there is a validation set,
                            else the training loss); else the last epoch's */
} nn_train_report;

/* How nn_train trains.  Start from nn_train_defaults and change fields. */
typedef struct nn_train_config {
    nn_loss loss;         /* the loss to minimize */
    nn_opt opt;           /* optimizer; opt.lr is the base learning rate */
    size_t epochs;        /* passes over the training set, >= 1 */
    size_t batch_size;    /* samples per step, >= 1; the last batch of an
                             epoch may be smaller */
    int shuffle;          /* nonzero: a new random order every epoch */
    nn_schedule schedule; /* learning rate per epoch */
    size_t step_epochs;   /* NN_SCHEDULE_STEP: epochs between decays, >= 1 */
    double gamma;         /* NN_SCHEDULE_STEP: factor of each decay, finite,
                             >= 0 */
    double lr_min;        /* NN_SCHEDULE_COSINE: the final learning rate,
                             finite, >= 0 */
    double clip_norm;     /* > 0: clip the gradient's global norm to this
                             before each step (nn_clip_grad_norm); 0: no
                             clipping; finite */
    size_t patience;      /* > 0: early stopping; see nn_train */
    const nn_real *val_x; /* optional validation set, val_n rows; NULL */
    const nn_real *val_y; /*   for none */
    size_t val_n;
    nn_train_fn on_epoch; /* optional: called after every epoch */
    nn_train_fn on_batch; /* optional: called after every step */
    void *user;           /* passed to the callbacks */
} nn_train_config;

/* A network: its sizes, activations, parameters, gradients, random
   generator and workspace.  Opaque; use the functions below.  Nets share
   nothing, so two threads may use two nets; one net is one thread's at a
   time (nn_forward writes its workspace), except through nn_predict,
   which many threads may call on one net at once. */
typedef struct nn_net nn_net;

/* PCG32 random generator (O'Neill, pcg-random.org): the same seed gives the
   same numbers on every platform.  Plain data; copy it to fork a stream. */
typedef struct nn_rng {
    uint64_t state; /* advances by one LCG step per number */
    uint64_t inc;   /* the stream; always odd */
} nn_rng;

/* ---- errors ------------------------------------------------------------ */

/* A short English text for a result code, e.g. "out of memory".  Never
   NULL; unknown codes give "unknown error". */
NNDEF const char *nn_result_string(nn_result r);

/* ---- random numbers ---------------------------------------------------- */

/* Start a generator from a seed. */
NNDEF void nn_rng_seed(nn_rng *rng, uint64_t seed);
/* The next 32 random bits. */
NNDEF uint32_t nn_rng_u32(nn_rng *rng);
/* A uniform double in [0, 1) with 53 random bits (two nn_rng_u32 calls). */
NNDEF double nn_rng_uniform(nn_rng *rng);
/* A uniform integer in [0, bound), without modulo bias; 0 when bound is 0
   (no number is below it). */
NNDEF size_t nn_rng_below(nn_rng *rng, size_t bound);
/* Fills idx with a uniformly random order of 0 .. n-1: the identity, then
   the Fisher-Yates shuffle (for i = n-1 down to 1, swap idx[i] with
   idx[nn_rng_below(rng, i + 1)]). */
NNDEF void nn_rng_permutation(nn_rng *rng, size_t *idx, size_t n);

/* ---- create and destroy ------------------------------------------------ */

/* A net of n_layers dense layers.  sizes has n_layers + 1 entries: the
   input width, then each layer's width.  acts has n_layers entries, the
   activation of each layer.  Weights are drawn from a generator seeded with
   `seed` (the net keeps it): Xavier/Glorot uniform, U(-r, r) with
   r = sqrt(6 / (n_in + n_out)), for sigmoid, tanh, linear and softmax;
   He/Kaiming uniform, r = sqrt(6 / n_in), for ReLU and leaky ReLU; biases
   zero.  The arrays are copied.  Returns NULL with the reason in *err (err
   may be NULL; NN_OK on success): NN_ERR_INVALID when n_layers is 0, an
   array is NULL, a size is 0 or an activation is out of range;
   NN_ERR_NOMEM when the parameter count overflows size_t or memory runs
   out.  Free with nn_destroy. */
NNDEF nn_net *nn_create(size_t n_layers, const size_t *sizes,
                        const nn_act *acts, uint64_t seed, nn_result *err);
/* Frees the net and everything it owns.  NULL is allowed. */
NNDEF void nn_destroy(nn_net *net);

/* Number of dense layers, L. */
NNDEF size_t nn_layer_count(const nn_net *net);
/* sizes[i] as given to nn_create, i = 0 .. L: nn_size(net, 0) is the input
   width, nn_size(net, L) the output width; 0 for i > L. */
NNDEF size_t nn_size(const nn_net *net, size_t i);
/* Activation of layer l, l = 0 .. L-1; NN_ACT_COUNT for l >= L. */
NNDEF nn_act nn_layer_act(const nn_net *net, size_t l);
/* The net's random generator: nn_create seeded it and drew the initial
   weights from it; nn_train draws each epoch's order from it. */
NNDEF nn_rng *nn_net_rng(nn_net *net);

/* Parameters.  All of them sit in one contiguous array owned by the net:
   layer 0's W (n_out x n_in, row-major), then layer 0's b (n_out), then
   layer 1's W and b, and so on.  nn_grads has the same layout and holds
   dLoss/dparam.  nn_layer_params gives where layer l's W starts; its b
   follows W directly (NULL for l >= L).  The pointers stay valid until
   nn_destroy.  Weights set through them must be finite: nn_step and
   nn_train refuse a step from non-finite weights, nn_save refuses to save
   them. */
NNDEF size_t nn_param_count(const nn_net *net);
NNDEF nn_real *nn_params(nn_net *net);
NNDEF nn_real *nn_grads(nn_net *net);
NNDEF nn_real *nn_layer_params(nn_net *net, size_t l);

/* ---- forward and loss -------------------------------------------------- */

/* Makes the workspace hold batches of up to B rows, so that no later call
   with B rows or fewer allocates.  nn_forward calls it for you; call it
   yourself to allocate before a training loop.  Growing discards the last
   forward pass (run nn_forward again before nn_backward).  NN_ERR_NOMEM
   when the memory is not there; the net is unchanged then. */
NNDEF nn_result nn_reserve(nn_net *net, size_t B);

/* Runs the net on a batch: x is B x nn_size(net, 0), one sample per row.
   Keeps a copy of x and every layer's z and a for nn_backward.  Returns
   the output, B x nn_size(net, L), which the net owns and the next
   nn_forward overwrites.  Returns NULL when B is 0 or x is NULL, or when
   the workspace must grow and cannot (NN_ERR_NOMEM); the net is then
   unchanged.  x must not point into the net's own workspace.  A NaN in x
   comes out as a NaN: every activation passes it on, as in PyTorch. */
NNDEF const nn_real *nn_forward(nn_net *net, const nn_real *x, size_t B);

/* Prediction on a const net, for many threads sharing one trained net:
   nothing in the net is written and nothing is allocated.  Runs the net on
   x (B x nn_size(net, 0)) and writes the output (B x nn_size(net, L)) to
   out, using scratch, an array of nn_predict_scratch_size(net, B) reals
   that the caller owns, one per thread (the size depends on the net's
   shape and B only).  Gives the same numbers as
   nn_forward, bit for bit.  NN_ERR_INVALID when B is 0 or an array is
   NULL (out is then untouched).  nn_predict_scratch_size returns 0 when
   the size would overflow size_t. */
NNDEF size_t nn_predict_scratch_size(const nn_net *net, size_t B);
NNDEF nn_result nn_predict(const nn_net *net, const nn_real *x, size_t B,
                           nn_real *scratch, nn_real *out);

/* Targets each loss accepts: finite always; for NN_LOSS_BINARY_CROSS_ENTROPY
   every entry in [0, 1]; for NN_LOSS_CROSS_ENTROPY every entry >= 0 (a row
   is one-hot or a distribution; nn_one_hot makes one from class labels).
   Every function that takes targets refuses others: NN_ERR_NONFINITE for a
   NaN or infinity, NN_ERR_INVALID for an entry out of range. */

/* The loss of the last nn_forward's output against targets y
   (B x nn_size(net, L)), in *out.  Touches no gradient.  NN_ERR_INVALID
   before any nn_forward, or when the loss does not fit the output
   activation (see nn_loss), or for targets it does not accept;
   NN_ERR_NONFINITE for non-finite targets, or when the loss itself is
   not finite (it is still written to *out). */
NNDEF nn_result nn_compute_loss(const nn_net *net, nn_loss loss,
                                const nn_real *y, double *out);

/* One-hot targets from class labels: row s of y (n x K) gets 1 at column
   labels[s] and 0 elsewhere, ready for NN_LOSS_CROSS_ENTROPY on a net with
   K softmax outputs.  NN_ERR_INVALID when K is 0, an array is NULL or a
   label is K or more; y is then untouched. */
NNDEF nn_result nn_one_hot(nn_real *y, const size_t *labels, size_t n,
                           size_t K);

/* Class weights for NN_LOSS_CROSS_ENTROPY, for data where some classes are
   rare: w has nn_size(net, L) entries, w_o >= 0, and is copied.  With
   them every loss and gradient of the net uses
      Loss = sum_s sum_o w_o y_so (-log a_so) / sum_s sum_o w_o y_so
   a weighted mean, which for one-hot targets is PyTorch's
   CrossEntropyLoss(weight=w); a batch whose weights sum to 0 has loss 0 and
   gradient 0.  NULL removes the weights.  NN_ERR_INVALID when a weight is
   negative, NaN or infinite, or when the output layer is not softmax
   (cross-entropy is the only loss that weighs classes); nothing changes
   then.  MSE on a softmax output ignores the weights. */
NNDEF nn_result nn_set_class_weights(nn_net *net, const nn_real *w);

/* Input scaling, part of the net: every function that takes raw inputs
   (nn_forward, nn_predict, nn_train and its validation, the evaluation
   functions, nn_gradcheck) first maps each input i to
      x'_i = (x_i - shift_i) * scale_i
   and the model file keeps the map, so preprocessing cannot be forgotten
   where the net is deployed.  The input gradients (nn_input_grad,
   nn_output_grad) stay gradients with respect to the raw inputs.  A new
   net has the identity (shift 0, scale 1).
   nn_set_input_scaling copies nn_size(net, 0) shifts and scales (both
   NULL: back to the identity); NN_ERR_INVALID when only one is NULL or
   NN_ERR_NONFINITE when a value is not finite, nothing changed.
   nn_fit_input_scaling standardizes by the n rows of x: shift = the mean
   of each column, scale = 1 / its standard deviation (over n, as
   scikit-learn's StandardScaler), 1 for a column that is constant;
   NN_ERR_INVALID for n = 0, NN_ERR_NONFINITE for a non-finite x.
   nn_input_scaling gives the net's own arrays (read-only) and returns 1,
   or 0 and NULLs for the identity. */
NNDEF nn_result nn_set_input_scaling(nn_net *net, const nn_real *shift,
                                     const nn_real *scale);
NNDEF nn_result nn_fit_input_scaling(nn_net *net, const nn_real *x, size_t n);
NNDEF int nn_input_scaling(const nn_net *net, const nn_real **shift,
                           const nn_real **scale);

/* ---- backward ---------------------------------------------------------- */

/* Sets every gradient to zero. */
NNDEF void nn_zero_grad(nn_net *net);

/* Backpropagation for the last nn_forward's batch against targets y
   (B x nn_size(net, L)): adds dLoss/dparam to nn_grads (it accumulates, so
   call nn_zero_grad first unless you mean to sum batches).  The loss goes
   to *out when out is not NULL.  Refused with nothing changed:
   NN_ERR_INVALID before any nn_forward, when the loss does not fit the
   output activation or for targets it does not accept; NN_ERR_NONFINITE
   for non-finite targets or a loss that is not finite.  A finite loss can
   still give a gradient that overflows; nn_step refuses that.  Allocates
   nothing. */
NNDEF nn_result nn_backward(nn_net *net, nn_loss loss, const nn_real *y,
                            double *out);

/* Which inputs matter: the gradient with respect to the input x of the
   last nn_forward's batch, from the same backward pass, into dx
   (B x nn_size(net, 0)); the parameters' gradients are not touched and
   nothing is allocated.
   nn_input_grad:  dx[s][i] = dLoss/dx[s][i], for the loss against y;
                   refused as nn_backward refuses.
   nn_output_grad: dx[s][i] = d a[s][o] / dx[s][i], for output unit o of
                   each sample's own output (a saliency map);
                   NN_ERR_INVALID before any nn_forward or for
                   o >= nn_size(net, L).
   dx is untouched when they refuse. */
NNDEF nn_result nn_input_grad(nn_net *net, nn_loss loss, const nn_real *y,
                              nn_real *dx);
NNDEF nn_result nn_output_grad(nn_net *net, size_t o, nn_real *dx);

/* ---- optimizers -------------------------------------------------------- */

/* One step of plain gradient descent: w -= lr * dw for every parameter.
   The simplest optimizer; it keeps no state.  NN_ERR_INVALID when lr is
   negative or not finite; NN_ERR_NONFINITE when a gradient or a new weight
   would not be finite; either way no weight changes. */
NNDEF nn_result nn_sgd_step(nn_net *net, nn_real lr);

/* Optimizers with their PyTorch defaults: SGD with no momentum and no
   decay; Adam and AdamW with beta1 0.9, beta2 0.999, eps 1e-8; AdamW with
   the weight decay given (PyTorch's default is 0.01). */
NNDEF nn_opt nn_opt_sgd(double lr);
NNDEF nn_opt nn_opt_adam(double lr);
NNDEF nn_opt nn_opt_adamw(double lr, double weight_decay);

/* One optimizer step from the gradients in nn_grads, as torch.optim does
   it, for each parameter w with gradient g (t counts steps from 1):
     SGD:   g += lambda w;  m = mu m + g;  g = nesterov ? g + mu m : m
            (m only when mu > 0);  w -= lr g
     Adam:  g += lambda w;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
            w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
     AdamW: w -= lr lambda w, then Adam with lambda = 0
   The state (m, v, t) lives in the net, one m and one v per parameter in
   the layout of nn_params; the first call allocates it (NN_ERR_NOMEM when
   it cannot), and a call with another kind of optimizer than the last
   starts it afresh.  The settings it accepts (else NN_ERR_INVALID): kind
   one of nn_opt_kind; lr and weight_decay finite and >= 0; momentum,
   beta1 and beta2 in [0, 1); eps finite and > 0.  NN_ERR_NONFINITE when
   a gradient is NaN or infinite, or when the step would make any weight,
   m or v non-finite (a learning rate too large for the gradient, g^2
   overflowing in float).  Refused either way, nothing changes: not the
   weights, not m, v or t. */
NNDEF nn_result nn_step(nn_net *net, const nn_opt *opt);
/* Forgets the optimizer state: m = v = 0, t = 0, as a new optimizer. */
NNDEF void nn_opt_reset(nn_net *net);

/* Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_):
   norm = sqrt(sum_k g_k^2) over all parameters; when norm > max_norm every
   g_k is multiplied by max_norm / (norm + 1e-6).  The norm before clipping
   goes to *norm (norm may be NULL).  NN_ERR_INVALID unless max_norm is
   finite and > 0; NN_ERR_NONFINITE when the norm is not finite (*norm is
   still set).  The gradients are left alone then. */
NNDEF nn_result nn_clip_grad_norm(nn_net *net, double max_norm, double *norm);

/* ---- gradient check ---------------------------------------------------- */

/* Checks nn_backward against central differences on the batch x, y:
      numeric_k = (Loss(w_k + h) - Loss(w_k - h)) / 2h
      error_k   = |grad_k - numeric_k| / max(|grad_k|, |numeric_k|, 1e-3)
   for every parameter k (the floor 1e-3 keeps gradients that are nearly
   zero from dividing rounding noise by nothing).  h <= 0 picks a default:
   1e-5 for double, 1e-2 for float.  Writes the largest error to
   *max_rel_err and its parameter index to *worst (either may be NULL).
   Expect 1e-7 or less in double; in float, rounding allows a few times
   1e-2.  Keep the inputs of ReLU layers further than h from 0: a step
   across the kink makes any check fail.  Leaves the parameters exactly as
   they were, nn_grads holding the batch's gradient and the workspace
   holding the batch's forward pass.  Costs 2 * nn_param_count forward
   passes.  NN_ERR_INVALID when B is 0, an array is NULL or h is not
   finite; otherwise it fails like nn_forward (NN_ERR_NOMEM) and
   nn_backward, before it changes anything; NN_ERR_NONFINITE when a
   perturbed loss is not finite (h too large for the net), the parameters
   restored. */
NNDEF nn_result nn_gradcheck(nn_net *net, nn_loss loss, const nn_real *x,
                             const nn_real *y, size_t B, nn_real h,
                             double *max_rel_err, size_t *worst);

/* ---- evaluation -------------------------------------------------------- */

/* The class of a row of outputs or targets: the index of its largest entry
   (the first, on a tie); with a single output, 1 when it is > 0.5, else 0.
   Classes exist only where the output layer is softmax or sigmoid: for
   any other output (a regression) the functions that count classes refuse
   with NN_ERR_INVALID.
   The evaluation functions run the net on n samples x (n rows) in batches
   as large as the workspace already holds (256 rows when it is empty), so
   they overwrite the last forward pass.  They refuse n = 0 or a NULL array
   (NN_ERR_INVALID), non-finite inputs (NN_ERR_NONFINITE) and targets the
   loss does not accept (see nn_compute_loss), writing nothing then; an
   output or loss that turns out not to be finite ends them with
   NN_ERR_NONFINITE (classes and counts may then hold the rows before it;
   *loss and *accuracy are written only on success); NN_ERR_NOMEM as
   nn_forward. */

/* The classes the net predicts for the n rows of x, into classes[n]. */
NNDEF nn_result nn_classify(nn_net *net, const nn_real *x, size_t n,
                            size_t *classes);
/* The loss over the whole set (the mean over all of it, as if it were one
   batch) into *loss, and the fraction of rows whose predicted class is the
   class of y's row into *accuracy; either may be NULL, and accuracy must
   be NULL for a net without classes.  NN_ERR_INVALID when the loss does
   not fit the output activation. */
NNDEF nn_result nn_evaluate(nn_net *net, nn_loss loss, const nn_real *x,
                            const nn_real *y, size_t n, double *loss_out,
                            double *accuracy);
/* Counts of (true class, predicted class) into counts, a K x K array with
   K = nn_size(net, L), or 2 for a single output: counts[t * K + p] is the
   number of rows of class t predicted as p.  Zeroes counts first, once
   the data has passed its checks. */
NNDEF nn_result nn_confusion_matrix(nn_net *net, const nn_real *x,
                                    const nn_real *y, size_t n,
                                    size_t *counts);

/* ---- training ---------------------------------------------------------- */

/* The defaults: Adam with learning rate 1e-3, batches of 32, 100 epochs,
   shuffled every epoch, constant learning rate (step decay by 0.1 every 30
   epochs, or cosine down to 0, when the schedule is changed), no clipping,
   no early stopping, no validation set, no callbacks. */
NNDEF nn_train_config nn_train_defaults(nn_loss loss);

/* Trains the net on n samples: x is n x nn_size(net, 0), y is
   n x nn_size(net, L).  Each epoch visits the samples in the order of
   nn_rng_permutation on the net's generator (or in order, without
   shuffle), in batches of cfg->batch_size, and for each batch runs
   nn_forward, nn_zero_grad, nn_backward, nn_clip_grad_norm (when
   clip_norm > 0) and nn_step at the epoch's learning rate.  The same seed
   gives the same run.  After each epoch it evaluates the validation set
   (when there is one) and calls on_epoch.
   Early stopping (patience > 0) watches the validation loss, or the
   epoch's training loss without a validation set; after `patience` epochs
   without a new lowest value it stops, and when training ends for any
   reason but an error the net gets back the weights of its best epoch.
   Everything it needs (workspace, optimizer state, batch and best-weight
   copies) is allocated before the first epoch, NN_ERR_NOMEM when that
   fails, the net unchanged.
   Refused before anything is trained, with the net unchanged:
   NN_ERR_INVALID when n is 0, an array is NULL (val_x and val_y may be
   NULL only with val_n 0), the loss does not fit the output activation,
   a setting is out of the range its field states (epochs, batch_size,
   schedule, step_epochs, gamma, lr_min, clip_norm, and cfg->opt as
   nn_step takes it), or the targets are not what the loss accepts (see
   nn_compute_loss); NN_ERR_NONFINITE when x, y or the validation set hold
   a NaN or infinity.
   NN_ERR_NONFINITE during training, when a batch's loss is not finite or
   its step would make a weight or the optimizer state non-finite (see
   nn_step): training ends there, that step is not taken, and the net
   holds the weights and state after the last good step.
   report (may be NULL) says why it ended and which epoch's weights the net
   holds (nn_train_report).  The optimizer state carries over between
   calls; nn_opt_reset starts afresh.  Plain SGD (no momentum, no
   clipping) on batches of up to 256 rows (128 with NN_REAL=double) takes
   the step without filling nn_grads (the weights are the same, bit for
   bit), so do not count on nn_grads after nn_train. */
NNDEF nn_result nn_train(nn_net *net, const nn_train_config *cfg,
                         const nn_real *x, const nn_real *y, size_t n,
                         nn_train_report *report);

/* ---- model files ------------------------------------------------------- */

/* A model file holds everything that decides what a net computes and how
   it goes on training: sizes, activations, parameters, class weights, the
   random generator and the optimizer state (when nn_step has run since the
   last nn_opt_reset; call nn_opt_reset first for a smaller file).  Loaded,
   it predicts bit for bit as the saved net did, and training resumes as if
   it had never stopped.  The workspace and gradients are not kept.
   What is saved must be what nn_load takes back: every parameter, class
   weight, m and v finite, v >= 0, class weights >= 0 and only on a
   softmax output, and t <= 2^53 (a step count a double holds exactly, so
   that the bias correction and t + 1 stay exact).  nn_save and
   nn_save_mem refuse any other net (NN_ERR_NONFINITE for a NaN or an
   infinity, else NN_ERR_INVALID), and the loaders refuse such a file with
   NN_ERR_UNSUPPORTED.

   Format version 2 (nn_save writes it; version 1, the same without
   bit 2, still loads).  Every integer is little-endian, every real
   IEEE-754 in the real size of the build that saved it, little-endian too:
     offset  bytes  field
      0       8     magic: 89 4E 4E 48 0D 0A 1A 0A ("\x89NNH\r\n\x1a\n")
      8       4     format version, 2 (or 1)
     12       4     real size: 4 (float) or 8 (double)
     16       4     flags: bit 0 class weights, bit 1 optimizer state,
                    bit 2 input scaling (version 2 only); other bits 0
     20       4     L, the number of layers, >= 1
     24      16     the generator: state, inc (2 x u64)
     40   8(L+1)    sizes[0 .. L] (u64, each >= 1)
          4L        activations (u32, nn_act values)
          P reals   parameters in the layout of nn_params (P =
                    nn_param_count)
          if bit 0: sizes[L] reals, the class weights
          if bit 2: sizes[0] reals shift, then sizes[0] reals scale
          if bit 1: u32 optimizer kind (nn_opt_kind), u32 0, u64 step
                    count t, P reals m, P reals v
          4         CRC-32 (the zlib/PNG polynomial) of every byte before
   A float file loads into a double build exactly; a double file into a
   float build rounds each real to the nearest float. */

/* The size in bytes of the model nn_save_mem writes for this net. */
NNDEF size_t nn_save_size(const nn_net *net);
/* Writes the model into buf, which holds cap bytes.  Allocates nothing.
   NN_ERR_INVALID when cap < nn_save_size(net) or buf is NULL, and refuses
   a net nn_load would refuse (above); buf is then untouched. */
NNDEF nn_result nn_save_mem(const nn_net *net, void *buf, size_t cap);
/* A new net from the model in buf (len bytes), or NULL with the reason in
   *err (err may be NULL; NN_OK on success).  Every field and size is
   checked against len before anything is allocated, so no data can make
   it allocate more than a few times len bytes; data that is not a
   complete, intact model of a version this nn.h reads, or whose values
   the next call would turn into NaN (above), is rejected with one of the
   model-file codes of nn_result, or NN_ERR_NOMEM. */
NNDEF nn_net *nn_load_mem(const void *buf, size_t len, nn_result *err);

#ifndef NN_NO_STDIO
/* Saves the net to the file at path without ever leaving a half-written
   model there: the model goes to a new temporary file in the same
   directory, which is then renamed over path.  On any failure the
   temporary file is removed, a file already at path is left as it was,
   and the result is NN_ERR_IO (NN_ERR_NOMEM when memory for the model or
   the name runs out; the refusals of nn_save_mem first).
   On POSIX systems (Linux, the BSDs, macOS):
   - the temporary file is created exclusively (O_CREAT | O_EXCL), under a
     random name of 24 characters (".nn-" 16 hex digits ".tmp"), so it
     never follows a link planted there, never meets another save's file,
     and fits NAME_MAX whatever the length of path's own name;
   - a file already at path keeps its permission bits (a new one gets
     0666 less the umask, as fopen gives); path must be a regular file
     or not exist: anything else (a directory, a device, a FIFO) is
     refused with NN_ERR_IO and left alone (a symbolic link to a regular
     file is replaced by the new file; its target is not written);
   - the file is fsync'ed before the rename and its directory after, so
     that once nn_save returns NN_OK the new model survives a power cut.
   Elsewhere (Windows, bare C libraries) it is written through stdio to
   path + ".tmp", flushed and renamed: the old model still survives any
   failure the C library reports, but the temporary name is fixed, its
   creation is not exclusive and nothing forces the bytes to the disk. */
NNDEF nn_result nn_save(const nn_net *net, const char *path);
/* Loads a model saved by nn_save (or written by nn_save_mem to a file):
   NULL with *err set like nn_load_mem, or NN_ERR_IO when the file cannot
   be opened or read.  Reads the header first and then only as many bytes
   as it says the model has, never more than twice what it has read: a
   file that does not start with the magic is rejected after 8 bytes, and
   one with anything after the model's end as NN_ERR_TRAILING, however
   large the file. */
NNDEF nn_net *nn_load(const char *path, nn_result *err);
#endif

/* ---- C export ---------------------------------------------------------- */

/* nn_export_c writes a trained net as one self-contained C header: the
   weights as static const arrays (in flash on a microcontroller) and

      void PREFIX_predict(const float *x, float *y);  x: sizes[0] raw
                          inputs (the input scaling is inside); y: sizes[L]
      int  PREFIX_classify(const float *x);   the class, as nn_classify
                          counts it (only for softmax and sigmoid outputs)

   with no allocation, no mutable state (the scratch is on the stack, its
   size stated in the header as PREFIX_SCRATCH_BYTES) and nothing from nn.h:
   it compiles as C99 or C++ on its own, and every name in it starts with
   the prefix (macros with the prefix in capitals), so two exported nets
   link into one program.  Its opening comment gives the shape, the
   activations, the bytes of constant data and scratch, and how it was
   made.  On AVR (__AVR__) the arrays go to PROGMEM and are read with
   pgm_read_*.

   NN_EXPORT_FLOAT: the arithmetic of nn_predict on one sample in a float
   build, sum for sum in the same order: the same outputs bit for bit when
   both are compiled with the same floating-point contraction (tested; a
   double net's weights are rounded to float).  Its tanh is nn.h's own
   float tanh (within 2.60 ulp, no libm).  It needs expf (sigmoid,
   softmax) from libm, unless no_libm is set: then the header brings its
   own e^x (within 1.22 ulp of the exact value for every float; see
   nn__float_exp_code), and needs no libm.

   NN_EXPORT_INT8: the TensorFlow Lite Micro scheme.  Weights are int8 with
   one symmetric scale per output unit; each layer's input is int8 with a
   scale and zero point calibrated from the calib_n sample rows the caller
   passes (raw inputs, before the input scaling: say, the training set);
   products are summed in int32 and brought to the next layer's scale by an
   integer multiplier and shift; sigmoid and tanh are 256-entry tables.
   The net itself runs in integers only, so it runs on cores without an
   FPU:

      void PREFIX_quantize(const float *x, int8_t *xq);   the inputs in int8
      void PREFIX_predict_q(const int8_t *xq, int16_t *zq); the output
                  layer's z, zq * PREFIX_Z_SCALE (before its activation)
      int  PREFIX_classify_q(const int8_t *xq);

   and PREFIX_predict and PREFIX_classify on floats as above.  Define
   PREFIX_NO_FLOAT before including the header to leave out everything
   with a float in it (quantize, predict, classify): what remains uses no
   float at all.  Softmax inside the net cannot be exported in int8
   (NN_ERR_UNSUPPORTED). */
typedef enum nn_export_kind {
    NN_EXPORT_FLOAT = 0, /* float weights, nn_predict's arithmetic */
    NN_EXPORT_INT8,      /* int8 weights and activations, int32 sums */
    NN_EXPORT_COUNT      /* number of kinds, not a kind */
} nn_export_kind;

typedef struct nn_export_options {
    nn_export_kind kind;
    int no_libm;            /* nonzero: the header's own e^x instead of
                               libm's (in int8, for the float output) */
    const nn_real *calib_x; /* NN_EXPORT_INT8: calib_n >= 1 raw input rows */
    size_t calib_n;         /*   to calibrate the activations' ranges */
    const char *note;       /* optional: one line (no newline, no comment
                               end) put in the header's comment, e.g. how
                               the net was trained; NULL for none */
} nn_export_options;

/* The float export with libm and no note. */
NNDEF nn_export_options nn_export_defaults(void);

/* Writes the header into buf (cap bytes) as a string: *len (len may be
   NULL) is its length without the terminating 0, and cap must hold one
   more.  buf NULL with cap 0 only sets *len.  opt NULL means
   nn_export_defaults().  The prefix is a C identifier of at most 32
   characters; the header's include guard is PREFIX_H_INCLUDED.
   NN_ERR_INVALID for a bad prefix, option or note, or a cap too small;
   NN_ERR_NONFINITE for a NaN or infinite parameter or calibration input;
   NN_ERR_UNSUPPORTED for a net the kind cannot express (int8: softmax
   before the last layer, weights and biases no int32 sum can hold; any
   kind: a layer wider than 32767, the least int of a 16-bit target);
   NN_ERR_NOMEM.  On any error buf is untouched. */
NNDEF nn_result nn_export_c_mem(const nn_net *net, const char *prefix,
                                const nn_export_options *opt, char *buf,
                                size_t cap, size_t *len);
#ifndef NN_NO_STDIO
/* The same, written to out (which stays open); NN_ERR_IO when writing
   fails, and then out may hold part of the header. */
NNDEF nn_result nn_export_c(const nn_net *net, FILE *out, const char *prefix,
                            const nn_export_options *opt);
#endif

#ifdef __cplusplus
}
#endif

#endif /* NN_H */

/* ======================================================================== */
/*                              IMPLEMENTATION                              */
/* ======================================================================== */

#ifdef NN_IMPLEMENTATION
#ifndef NN__IMPLEMENTATION_INCLUDED
#define NN__IMPLEMENTATION_INCLUDED

/* ---- integration --------------------------------------------------------
   Everything the library needs from its host, in one place. */

#include <float.h> /* FLT_MAX, DBL_MAX */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#ifndef NN_NO_STDIO
#include <stdio.h>
/* nn_save's exclusive temporary file, kept permissions and fsync need
   POSIX.  In a strict C mode (-std=c99) the C library may hide fsync and
   fchmod, so C declares them itself (C++ compilers define _GNU_SOURCE,
   which shows them). */
#if defined(__unix__) || defined(__unix) || \
    (defined(__APPLE__) && defined(__MACH__))
#define NN__POSIX 1
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifndef __cplusplus
int fsync(int fd);
int fchmod(int fd, mode_t mode);
#endif
#endif
#endif
/* Threads: built with -fopenmp (which defines _OPENMP), the matrix
   products, nn_step and nn_zero_grad split their work across threads once
   it is large enough to pay; otherwise none of this is compiled. */
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(NN_MALLOC) && defined(NN_FREE)
/* the caller's allocator */
#elif !defined(NN_MALLOC) && !defined(NN_FREE)
#include <stdlib.h>
#define NN_MALLOC(size) malloc(size)
#define NN_FREE(ptr) free(ptr)
#else
#error "nn.h: define both NN_MALLOC and NN_FREE, or neither"
#endif

#ifndef NN_ASSERT
#include <assert.h>
#define NN_ASSERT(cond) assert(cond)
#endif

/* restrict: the caller promises that the arrays of a kernel do not
   overlap. */
#if defined(__cplusplus)
#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#define NN_RESTRICT __restrict
#else
#define NN_RESTRICT
#endif
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define NN_RESTRICT restrict
#else
#define NN_RESTRICT
#endif

/* The clock nn_train reports epoch times with, in seconds.  clock() is
   processor time, which is wall time for one thread; define NN_SECONDS()
   as a wall clock of your platform when you run threads. */
#ifndef NN_SECONDS
#include <time.h>
#define NN_SECONDS() ((double)clock() / (double)CLOCKS_PER_SEC)
#endif

#define NN__MAX(a, b) ((a) > (b) ? (a) : (b))
#define NN__MIN(a, b) ((a) < (b) ? (a) : (b))

#ifdef __cplusplus
extern "C" {
#endif

/* the one symbol of NN_REAL's link check that this build defines */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(NN_STATIC)
const char NN__REAL_CHECK = 0;
#endif

/* Only float and double are supported: the math wrappers, the gradient
   check's default step and the tests assume one of the two. */
typedef char nn__real_is_float_or_double
    [(sizeof(nn_real) == sizeof(float) || sizeof(nn_real) == sizeof(double))
         ? 1 : -1];

/* libm in the precision of nn_real: expf for float, exp for double.  The
   sizeof test is decided at compile time. */
static nn_real nn__exp(nn_real x) {
    return sizeof(nn_real) == sizeof(float) ? (nn_real)expf((float)x)
                                            : (nn_real)exp((double)x);
}
static nn_real nn__sqrt(nn_real x) {
    return sizeof(nn_real) == sizeof(float) ? (nn_real)sqrtf((float)x)
                                            : (nn_real)sqrt((double)x);
}

/* tanh in float, without libm: tanh x = -m / (2 + m) with m = e^(-2x) - 1
   for x >= 0, and tanh(-x) = -tanh x.  For y = -2|x| <= 0,
     e^y - 1 = 2^k (e^r - 1) + (2^k - 1),  k = trunc(y / ln 2 - 1/2),
   r = y - k ln 2 in [-0.35, 0.35] (ln 2 in two parts, Cody and Waite, so
   that r is exact), e^r - 1 by its Taylor series to r^7 (the rest is
   below 1.5e-8 of it), 2^k made in the exponent bits; the sum keeps
   tanh's relative accuracy near 0.  |x| is first brought to at most
   43.665, half of 87.33, beyond which e^y leaves the normal floats and
   tanh is 1 in float; that also gives a NaN a value to compute with, and
   the NaN itself is put back at the end.  Within 2.60 ulp of the exact
   value over all floats (2.595 at 0.21997, the worst of every positive
   float; tests/test_activations.c checks every 61st).  Unlike libm's
   tanhf it calls nothing and takes no branch that depends on x, so that
   it vectorizes (nn__tanh_all), and the float export writes this same
   code (nn__float_tanh_code), so that exported headers compute the same
   bits. */
static float nn__tanhf(float x) {
    uint32_t xb, ab, tb;
    float y, r, q, p2, m, t;
    int k;
    memcpy(&xb, &x, sizeof xb);
    ab = xb & 0x7fffffffu;                  /* |x| */
    if (ab > 0x422ea8f6u) ab = 0x422ea8f6u; /* at most 43.665 */
    memcpy(&y, &ab, sizeof y);
    y *= -2.0f;
    k = (int)(y * 1.44269504f - 0.5f);
    r = (y - (float)k * 0.693359375f) + (float)k * 2.12194440e-4f;
    q = r * (1.0f + r * (0.5f + r * (1.66666672e-1f + r * (4.16666679e-2f +
        r * (8.33333377e-3f + r * (1.38888892e-3f + r * 1.98412701e-4f))))));
    tb = (uint32_t)(k + 127) << 23;         /* 2^k */
    memcpy(&p2, &tb, sizeof p2);
    m = p2 * q + (p2 - 1.0f);               /* e^y - 1 */
    t = m / (2.0f + m);                     /* -tanh |x| */
    memcpy(&tb, &t, sizeof tb);
    tb = (tb & 0x7fffffffu) | (xb & 0x80000000u); /* with the sign of x */
    if ((xb & 0x7fffffffu) > 0x7f800000u) tb = xb; /* NaN */
    memcpy(&t, &tb, sizeof t);
    return t;
}

/* tanh in the precision of nn_real: libm's in double, nn__tanhf's in
   float */
static nn_real nn__tanh(nn_real x) {
    return sizeof(nn_real) == sizeof(float) ? (nn_real)nn__tanhf((float)x)
                                            : (nn_real)tanh((double)x);
}

/* a = tanh(z) over count reals: tanh's activation loop */
static void nn__tanh_all_ref(nn_real *a, const nn_real *z, size_t count) {
    for (size_t k = 0; k < count; k++) a[k] = nn__tanh(z[k]);
}

/* 1 for a finite number, 0 for NaN and infinities: x - x is NaN for
   both (this needs IEEE arithmetic, so no -ffast-math). */
static int nn__finite(double x) { return x - x == 0; }

/* Whether count reals are all finite. */
static int nn__all_finite_ref(const nn_real *v, size_t count) {
    for (size_t k = 0; k < count; k++)
        if (!nn__finite((double)v[k])) return 0;
    return 1;
}

/* a * b and a + b in size_t, or 0 when the result would overflow. */
static int nn__mul(size_t a, size_t b, size_t *r) {
    if (b != 0 && a > (size_t)-1 / b) return 0;
    *r = a * b;
    return 1;
}
static int nn__add(size_t a, size_t b, size_t *r) {
    if (a > (size_t)-1 - b) return 0;
    *r = a + b;
    return 1;
}

NNDEF const char *nn_result_string(nn_result r) {
    switch (r) {
    case NN_OK: return "ok";
    case NN_ERR_NOMEM: return "out of memory";
    case NN_ERR_INVALID: return "invalid argument";
    case NN_ERR_NONFINITE: return "NaN or infinity in data, loss or gradient";
    case NN_ERR_IO: return "file could not be opened, read or written";
    case NN_ERR_NOT_MODEL: return "not an nn.h model";
    case NN_ERR_VERSION: return "model file of a newer format version";
    case NN_ERR_TRUNCATED: return "model data is truncated";
    case NN_ERR_CORRUPT: return "model data is corrupt (CRC mismatch)";
    case NN_ERR_TRAILING: return "bytes after the end of the model";
    case NN_ERR_UNSUPPORTED: return "model holds a value this nn.h cannot use";
    }
    return "unknown error";
}

/* The fast paths.  A few textbook functions have a faster twin in the
   section "fast paths", after training: the same results (to the bit,
   or within rounding where that section says so) from blocked products,
   vector lanes and the compiler's vector types, threads, an SGD step that
   needs no dW, and a step check that bounds decide.  The textbook code
   calls each by the name on the left; the NN_REFERENCE build makes that
   name the reference function on the right and compiles no fast path at
   all.  nn_train's shortcut for plain SGD, the last three, is called
   where it would take over (see nn_train). */
struct nn__opt_k;
#ifdef NN_REFERENCE
#define nn__all_finite nn__all_finite_ref
#define nn__dense_forward nn__dense_forward_ref
#define nn__dense_backward_params nn__dense_backward_params_ref
#define nn__dense_backward_input nn__dense_backward_input_ref
#define nn__zero_reals nn__zero_reals_ref
#define nn__tanh_all nn__tanh_all_ref
#define nn__sgd_apply nn__sgd_apply_ref
#define nn__adam_apply nn__adam_apply_ref
#define nn__step_check nn__step_check_ref
#else
static int nn__all_finite(const nn_real *v, size_t count);
static void nn__dense_forward(nn_real *z, const nn_real *x, const nn_real *W,
                              const nn_real *b, size_t B, size_t n_in,
                              size_t n_out);
static void nn__dense_backward_params(nn_real *dW, nn_real *db,
                                      const nn_real *dz, const nn_real *x,
                                      size_t B, size_t n_in, size_t n_out);
static void nn__dense_backward_input(nn_real *dx, const nn_real *dz,
                                     const nn_real *W, size_t B, size_t n_in,
                                     size_t n_out);
static void nn__zero_reals(nn_real *v, size_t n);
static void nn__tanh_all(nn_real *a, const nn_real *z, size_t count);
static void nn__sgd_apply(nn_real *w, const nn_real *g, nn_real lr,
                          nn_real lambda, size_t P);
static void nn__adam_apply(const struct nn__opt_k *c, nn_real *w,
                           const nn_real *g, nn_real *m, nn_real *v, size_t P);
static int nn__step_check(const nn_net *net, const struct nn__opt_k *c);
/* nn_train's plain SGD without dW: its state for one call of nn_train */
typedef struct nn__sgd_fast {
    int on;          /* the shortcut applies to this training */
    int ahead;       /* the last step already took the next row's layer-0 z */
    int wnorm_known; /* wnorm bounds the weights as they are now */
    double wnorm;    /* a bound on the root of the weights' sum of squares */
    const nn_train_config *cfg;
    const nn_real *x; /* the training rows and their order */
    const size_t *idx;
    size_t n;
} nn__sgd_fast;
static nn__sgd_fast nn__sgd_fast_begin(const nn_train_config *cfg,
                                       const nn_real *x, const size_t *idx,
                                       size_t n, size_t B);
static int nn__sgd_fast_forward(nn__sgd_fast *f, nn_net *net, size_t B);
static int nn__sgd_fast_step(nn__sgd_fast *f, nn_net *net, const nn_real *y,
                             const nn_opt *opt, size_t next);
#endif

/* ---- rng ----------------------------------------------------------------
   PCG32 (XSH RR variant): a 64-bit linear congruential generator whose
   output is the high bits, xorshifted and rotated by a data-dependent
   amount.  Integer arithmetic only, so every platform gives the same
   numbers. */

NNDEF uint32_t nn_rng_u32(nn_rng *rng) {
    uint64_t old = rng->state;
    uint32_t xorshifted, rot;
    rng->state = old * UINT64_C(6364136223846793005) + rng->inc;
    xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((0u - rot) & 31u));
}

NNDEF void nn_rng_seed(nn_rng *rng, uint64_t seed) {
    /* PCG's reference seeding, on one fixed stream */
    rng->state = 0;
    rng->inc = (UINT64_C(0x14057b7ef767814f) << 1) | 1u;
    (void)nn_rng_u32(rng);
    rng->state += seed;
    (void)nn_rng_u32(rng);
}

NNDEF double nn_rng_uniform(nn_rng *rng) {
    /* 27 + 26 = 53 bits, the width of a double's mantissa */
    uint64_t hi = nn_rng_u32(rng) >> 5;
    uint64_t lo = nn_rng_u32(rng) >> 6;
    return (double)(hi * 67108864u + lo) * (1.0 / 9007199254740992.0);
}

NNDEF size_t nn_rng_below(nn_rng *rng, size_t bound) {
    /* r % bound is uniform only over whole multiples of bound, so draw
       again below 2^k mod bound, the leftover part of the range */
    NN_ASSERT(rng);
    if (bound == 0) return 0;
    if ((uint64_t)bound >> 32 == 0) { /* always, where size_t has 32 bits */
        const uint32_t b = (uint32_t)bound, skip = (0u - b) % b;
        uint32_t r;
        do r = nn_rng_u32(rng);
        while (r < skip);
        return (size_t)(r % b);
    } else {
        const uint64_t b = (uint64_t)bound, skip = (0u - b) % b;
        uint64_t r;
        do r = (uint64_t)nn_rng_u32(rng) << 32 | nn_rng_u32(rng);
        while (r < skip);
        return (size_t)(r % b);
    }
}

NNDEF void nn_rng_permutation(nn_rng *rng, size_t *idx, size_t n) {
    NN_ASSERT(rng && (idx || n == 0));
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = n; i-- > 1;) {
        const size_t j = nn_rng_below(rng, i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* ---- dense layer --------------------------------------------------------
   A dense layer on a batch (rows are samples), W is (n_out, n_in):
     forward:   z[s][o]  = b[o] + sum_i x[s][i] * W[o][i]       (x.W^T + b)
   backward, given dz = dLoss/dz:
     dW[o][i] += sum_s dz[s][o] * x[s][i]                      (dz^T.x)
     db[o]    += sum_s dz[s][o]
     dx[s][i]  = sum_o dz[s][o] * W[o][i]                      (dz.W)
   forward and dx overwrite their output; dW and db accumulate (nn_zero_grad
   sets them to 0).  These are the only places the library multiplies
   matrices.  Below, each formula is its three loops; the network calls
   them as nn__dense_forward, nn__dense_backward_params and
   nn__dense_backward_input, which are these loops in the NN_REFERENCE
   build and the fast paths' versions otherwise. */

static void nn__dense_forward_ref(nn_real *z, const nn_real *x,
                                  const nn_real *W, const nn_real *b,
                                  size_t B, size_t n_in, size_t n_out) {
    for (size_t s = 0; s < B; s++) {
        const nn_real *xs = x + s * n_in;
        for (size_t o = 0; o < n_out; o++) {
            const nn_real *Wo = W + o * n_in;
            nn_real sum = b[o];
            for (size_t i = 0; i < n_in; i++) sum += xs[i] * Wo[i];
            z[s * n_out + o] = sum;
        }
    }
}

static void nn__dense_backward_params_ref(nn_real *dW, nn_real *db,
                                          const nn_real *dz, const nn_real *x,
                                          size_t B, size_t n_in, size_t n_out) {
    for (size_t s = 0; s < B; s++) {
        const nn_real *xs = x + s * n_in;
        for (size_t o = 0; o < n_out; o++) {
            nn_real g = dz[s * n_out + o];
            nn_real *dWo = dW + o * n_in;
            db[o] += g;
            for (size_t i = 0; i < n_in; i++) dWo[i] += g * xs[i];
        }
    }
}

static void nn__dense_backward_input_ref(nn_real *dx, const nn_real *dz,
                                         const nn_real *W, size_t B,
                                         size_t n_in, size_t n_out) {
    for (size_t s = 0; s < B; s++) {
        nn_real *dxs = dx + s * n_in;
        for (size_t i = 0; i < n_in; i++) dxs[i] = 0;
        for (size_t o = 0; o < n_out; o++) {
            nn_real g = dz[s * n_out + o];
            const nn_real *Wo = W + o * n_in;
            for (size_t i = 0; i < n_in; i++) dxs[i] += g * Wo[i];
        }
    }
}

/* ---- activations --------------------------------------------------------
   forward:  a = f(z), over B rows of n units.
   backward: turns da into dz = da * f'(z) in place, in the array d.  The
   derivative is taken from whichever of z and a makes it simplest and
   exact:
     linear      f' = 1
     sigmoid     f' = a (1 - a)             since  s' = s (1 - s)
     tanh        f' = 1 - a^2               since  tanh' = 1 - tanh^2
     ReLU        f' = z > 0 ? 1 : 0         (0 at the kink, as PyTorch)
     leaky ReLU  f' = z > 0 ? 1 : slope
     softmax     a row's Jacobian is da_o/dz_k = a_o ([o == k] - a_k), so
                 dz_k = sum_o da_o a_o ([o == k] - a_k)
                      = a_k (da_k - sum_o da_o a_o)
   Softmax is the one activation that mixes a row; it costs O(n) per row all
   the same. */

/* NN__ELEMENTWISE: the activations' loops below, one real at a time as
   written, are vectorized by gcc at -O3 and by clang; gcc at -O2 (what
   `cc -O2` gives) vectorizes only loops that need no scalar remainder,
   and took ReLU's passes a real at a time, 13% of P2's time at -O2.  Its
   "cheap" cost model lets them vectorize there too: vectors of the same
   operations, so the same bits. */
#if defined(__GNUC__) && !defined(__clang__)
#define NN__ELEMENTWISE __attribute__((optimize("vect-cost-model=cheap")))
#else
#define NN__ELEMENTWISE
#endif

static nn_real nn__sigmoid(nn_real z) {
    /* e^-z overflows for z << 0, so use e^z / (1 + e^z) there instead */
    if (z >= 0) return NN_R(1) / (NN_R(1) + nn__exp(-z));
    nn_real e = nn__exp(z);
    return e / (NN_R(1) + e);
}

static void nn__softmax_row(nn_real *NN_RESTRICT a,
                            const nn_real *NN_RESTRICT z, size_t n) {
    /* subtract the row max so that exp() cannot overflow; it cancels in
       the ratio */
    nn_real m = z[0], sum = 0;
    for (size_t o = 1; o < n; o++) m = NN__MAX(m, z[o]);
    for (size_t o = 0; o < n; o++) {
        a[o] = nn__exp(z[o] - m);
        sum += a[o];
    }
    for (size_t o = 0; o < n; o++) a[o] /= sum;
}

static NN__ELEMENTWISE void nn__act_forward(nn_real *NN_RESTRICT a,
                                            const nn_real *NN_RESTRICT z,
                                            size_t B, size_t n, nn_act act) {
    const size_t count = B * n;
    const nn_real slope = NN_R(NN_LEAKY_RELU_SLOPE);
    switch (act) {
    case NN_ACT_LINEAR:
        memcpy(a, z, count * sizeof *a);
        break;
    case NN_ACT_SIGMOID:
        for (size_t k = 0; k < count; k++) a[k] = nn__sigmoid(z[k]);
        break;
    case NN_ACT_TANH:
        nn__tanh_all(a, z, count);
        break;
    case NN_ACT_RELU: /* !(z <= 0) passes a NaN on, as PyTorch's relu */
        for (size_t k = 0; k < count; k++) a[k] = !(z[k] <= 0) ? z[k] : 0;
        break;
    case NN_ACT_LEAKY_RELU:
        for (size_t k = 0; k < count; k++)
            a[k] = z[k] > 0 ? z[k] : (nn_real)(slope * z[k]);
        break;
    case NN_ACT_SOFTMAX:
        for (size_t s = 0; s < B; s++)
            nn__softmax_row(a + s * n, z + s * n, n);
        break;
    case NN_ACT_COUNT: NN_ASSERT(0 && "not an activation"); break;
    }
}

static NN__ELEMENTWISE void nn__act_backward(nn_real *NN_RESTRICT d,
                                             const nn_real *NN_RESTRICT z,
                                             const nn_real *NN_RESTRICT a,
                                             size_t B, size_t n, nn_act act) {
    const size_t count = B * n;
    const nn_real slope = NN_R(NN_LEAKY_RELU_SLOPE);
    switch (act) {
    case NN_ACT_LINEAR: break; /* f' = 1: dz is da */
    case NN_ACT_SIGMOID:
        for (size_t k = 0; k < count; k++) d[k] *= a[k] * (NN_R(1) - a[k]);
        break;
    case NN_ACT_TANH:
        for (size_t k = 0; k < count; k++) d[k] *= NN_R(1) - a[k] * a[k];
        break;
    case NN_ACT_RELU:
        for (size_t k = 0; k < count; k++) d[k] = z[k] > 0 ? d[k] : 0;
        break;
    case NN_ACT_LEAKY_RELU:
        for (size_t k = 0; k < count; k++)
            d[k] = z[k] > 0 ? d[k] : (nn_real)(slope * d[k]);
        break;
    case NN_ACT_SOFTMAX:
        for (size_t s = 0; s < B; s++) {
            const nn_real *as = a + s * n;
            nn_real *ds = d + s * n, dot = 0;
            for (size_t o = 0; o < n; o++) dot += ds[o] * as[o];
            for (size_t o = 0; o < n; o++) ds[o] = as[o] * (ds[o] - dot);
        }
        break;
    case NN_ACT_COUNT: NN_ASSERT(0 && "not an activation"); break;
    }
}

/* ---- losses -------------------------------------------------------------
   Each loss is a mean (as in PyTorch) and its forward sums in double, so a
   large batch loses no precision to the sum in a float build.

   MSE, N = B * n elements:
     Loss = (1/N) sum_s,o (a - y)^2
     da   = 2 (a - y) / N
   and the activation's backward turns da into dz = da * f'(z).

   Softmax + cross-entropy, from the logits z of a softmax layer:
     log a_o = z_o - m - log sum_k e^(z_k - m)        (m = max_k z_k)
     Loss    = (1/B) sum_s -sum_o y_o log a_o
   The log-sum-exp form stays finite for any z, where log(a_o) of an a_o
   that underflowed to 0 would be -inf.  Backward skips the softmax
   Jacobian: by the chain rule with the Jacobian above,
     dLoss/dz_k = (1/B) sum_o (-y_o / a_o) a_o ([o == k] - a_k)
                = (1/B) (a_k sum_o y_o - y_k)
   which is (a - y) / B whenever a row of y sums to 1 (one-hot or a
   distribution).  The library uses the exact form a * sum(y) - y.
   With class weights c, each term y_o is weighted by c_o and the mean is
   taken over the weight instead of over B:
     Loss       = sum_s sum_o c_o y_o (-log a_o) / W,  W = sum_s sum_o c_o y_o
     dLoss/dz_k = (a_k sum_o c_o y_o - c_k y_k) / W
   (W does not depend on the weights of the net, so it passes through the
   derivative unchanged).

   Sigmoid + binary cross-entropy, from the logits z of a sigmoid layer,
   N = B * n:
     -(y log a + (1-y) log(1-a)) = max(z, 0) - z y + log(1 + e^-|z|)
     Loss = (1/N) sum of that
   (since log a = -log(1 + e^-z) and log(1 - a) = -z - log(1 + e^-z);
   folding in |z| keeps e^-|z| <= 1, so nothing overflows).  Backward: with
   a' = a (1 - a), dLoss/dz = (-y/a + (1-y)/(1-a)) a (1 - a) / N
                            = (a - y) / N.

   The forward functions return the sum; the caller divides by the count
   N, B or W, so that batches can also be added up into one mean. */

static double nn__mse_forward(const nn_real *a, const nn_real *y, size_t B,
                              size_t n) {
    const size_t count = B * n;
    double sum = 0;
    for (size_t k = 0; k < count; k++) {
        double d = (double)a[k] - (double)y[k];
        sum += d * d;
    }
    return sum;
}

static void nn__mse_backward(nn_real *da, const nn_real *a, const nn_real *y,
                             size_t B, size_t n) {
    const size_t count = B * n;
    const nn_real scale = NN_R(2) / (nn_real)count;
    for (size_t k = 0; k < count; k++) da[k] = scale * (a[k] - y[k]);
}

/* c is the class weights, or NULL for weight 1 everywhere */
static double nn__softmax_ce_forward(const nn_real *z, const nn_real *y,
                                     const nn_real *c, size_t B, size_t n) {
    double sum = 0;
    for (size_t s = 0; s < B; s++) {
        const nn_real *zs = z + s * n, *ys = y + s * n;
        double m = (double)zs[0], se = 0, lse;
        for (size_t o = 1; o < n; o++) m = NN__MAX(m, (double)zs[o]);
        for (size_t o = 0; o < n; o++) se += exp((double)zs[o] - m);
        lse = m + log(se); /* log sum_k e^z_k */
        for (size_t o = 0; o < n; o++)
            sum -= (c ? (double)c[o] : 1.0) * (double)ys[o] *
                   ((double)zs[o] - lse);
    }
    return sum;
}

/* what the cross-entropy sum is divided by: B, or W with class weights */
static double nn__softmax_ce_count(const nn_real *y, const nn_real *c,
                                   size_t B, size_t n) {
    double W = 0;
    if (!c) return (double)B;
    for (size_t s = 0; s < B; s++)
        for (size_t o = 0; o < n; o++)
            W += (double)c[o] * (double)y[s * n + o];
    return W;
}

static void nn__softmax_ce_backward(nn_real *dz, const nn_real *a,
                                    const nn_real *y, const nn_real *c,
                                    size_t B, size_t n) {
    const double count = nn__softmax_ce_count(y, c, B, n);
    const nn_real scale = count > 0 ? (nn_real)(1.0 / count) : 0;
    for (size_t s = 0; s < B; s++) {
        const nn_real *as = a + s * n, *ys = y + s * n;
        nn_real *dzs = dz + s * n, ysum = 0;
        for (size_t o = 0; o < n; o++) ysum += (c ? c[o] : NN_R(1)) * ys[o];
        for (size_t o = 0; o < n; o++)
            dzs[o] = scale * (as[o] * ysum - (c ? c[o] : NN_R(1)) * ys[o]);
    }
}

static double nn__sigmoid_bce_forward(const nn_real *z, const nn_real *y,
                                      size_t B, size_t n) {
    const size_t count = B * n;
    double sum = 0;
    for (size_t k = 0; k < count; k++) {
        double zk = (double)z[k];
        sum += NN__MAX(zk, 0.0) - zk * (double)y[k] + log1p(exp(-fabs(zk)));
    }
    return sum;
}

static void nn__sigmoid_bce_backward(nn_real *dz, const nn_real *a,
                                     const nn_real *y, size_t B, size_t n) {
    const size_t count = B * n;
    const nn_real scale = NN_R(1) / (nn_real)count;
    for (size_t k = 0; k < count; k++) dz[k] = scale * (a[k] - y[k]);
}

/* ---- network ------------------------------------------------------------
   The net owns up to four blocks of memory:
     the net itself, with sizes, acts and per-layer offsets behind it;
     params and grads, 2 * n_params reals, in the layout nn_params
     describes, and then the class weights of the output layer and the
     input scaling (shift, then scale, sizes[0] each);
     from the first nn_step on, the optimizer state: m and v, 2 * n_params;
     the workspace, for `capacity` rows: a copy of the input x, then z and a
     of every layer, then two scratch arrays of the widest layer that
     backward passes the gradient through.
   Layer l's z starts at capacity * (sizes[0] + 2 * width_before[l]), where
   width_before[l] = sizes[1] + ... + sizes[l]. */

/* The weights and the workspace start on a 64-byte boundary: NN_MALLOC is
   asked for NN__ALIGN bytes more; nn__aligned gives the first such one. */
#define NN__ALIGN 64
static nn_real *nn__aligned(void *mem) {
    unsigned char *p = (unsigned char *)mem;
    return (nn_real *)(void *)(p + (NN__ALIGN - (uintptr_t)p % NN__ALIGN) %
                                       NN__ALIGN);
}

struct nn_net {
    size_t n_layers;      /* L */
    size_t *sizes;        /* L + 1 widths, input first */
    size_t *offsets;      /* L: where layer l's W starts in params */
    size_t *width_before; /* L + 1: sum of the widths of layers before l */
    nn_act *acts;         /* L activations */
    size_t n_params;      /* length of params and of grads */
    nn_real *params;      /* every W and b; grads follows it in one block */
    void *params_mem;     /* that block as NN_MALLOC gave it (nn__aligned) */
    nn_real *grads;       /* dLoss/dparams, same layout */
    nn_real *class_weights; /* sizes[L] weights for cross-entropy */
    int weighted;           /* whether class_weights are in use */
    nn_real *in_shift;      /* sizes[0] each: the input scaling, */
    nn_real *in_scale;      /*   x' = (x - shift) * scale */
    int scaled;             /* whether it is other than the identity */
    nn_real *opt_m;       /* optimizer state, n_params each, or NULL */
    nn_real *opt_v;
    uint64_t opt_t;       /* steps since the state was reset */
    nn_opt_kind opt_kind; /* the optimizer the state is for */
    size_t max_width;     /* widest layer output (scratch row length) */
    size_t capacity;      /* rows the workspace holds; 0 before the first */
    size_t batch;         /* rows of the last nn_forward; 0 before it */
    nn_real *work;        /* the workspace, NULL until the first reserve */
    void *work_mem;       /* as NN_MALLOC gave it */
    nn_rng rng;           /* seeded by nn_create; drew the initial weights */
};

static nn_real *nn__layer_z(const nn_net *net, size_t l) {
    return net->work + net->capacity * (net->sizes[0] +
                                        2 * net->width_before[l]);
}
static nn_real *nn__layer_a(const nn_net *net, size_t l) {
    return nn__layer_z(net, l) + net->capacity * net->sizes[l + 1];
}
/* the input of layer l: the copy of x for l = 0, else a of layer l - 1 */
static nn_real *nn__layer_x(const nn_net *net, size_t l) {
    return l == 0 ? net->work : nn__layer_a(net, l - 1);
}
static nn_real *nn__scratch(const nn_net *net, size_t k) {
    return nn__layer_z(net, net->n_layers) + net->capacity * net->max_width * k;
}

/* nn_create's checks: NN_ERR_INVALID or NN_ERR_NOMEM (a size that
   overflows), else the parameter count, the sum of the layer widths and
   the widest layer */
static nn_result nn__check_layers(size_t n_layers, const size_t *sizes,
                                  const nn_act *acts, size_t *n_params,
                                  size_t *widths, size_t *max_width) {
    *n_params = *widths = *max_width = 0;
    if (n_layers == 0 || !sizes || !acts) return NN_ERR_INVALID;
    for (size_t l = 0; l <= n_layers; l++)
        if (sizes[l] == 0) return NN_ERR_INVALID;
    for (size_t l = 0; l < n_layers; l++)
        if ((int)acts[l] < 0 || (int)acts[l] >= (int)NN_ACT_COUNT)
            return NN_ERR_INVALID;
    for (size_t l = 0; l < n_layers; l++) {
        size_t count;
        /* W and b: n_out * n_in + n_out = n_out * (n_in + 1) */
        if (!nn__add(sizes[l], 1, &count) ||
            !nn__mul(count, sizes[l + 1], &count) ||
            !nn__add(*n_params, count, n_params) ||
            !nn__add(*widths, sizes[l + 1], widths))
            return NN_ERR_NOMEM;
        *max_width = NN__MAX(*max_width, sizes[l + 1]);
    }
    return NN_OK;
}

NNDEF nn_net *nn_create(size_t n_layers, const size_t *sizes,
                        const nn_act *acts, uint64_t seed, nn_result *err) {
    size_t n_params, widths, max_width;
    size_t head_bytes, act_bytes, param_bytes;
    nn_net *net;
    unsigned char *mem;
    nn_result why = nn__check_layers(n_layers, sizes, acts, &n_params,
                                     &widths, &max_width);
    if (err) *err = why;
    if (why != NN_OK) return NULL;
    if (err) *err = NN_ERR_NOMEM; /* until it has all its memory */
    /* one block: the struct, three size_t arrays of 3L + 2 entries in all,
       then the L activations */
    if (!nn__mul(n_layers, 3, &head_bytes) ||
        !nn__add(head_bytes, 2, &head_bytes) ||
        !nn__mul(head_bytes, sizeof(size_t), &head_bytes) ||
        !nn__add(head_bytes, sizeof(nn_net), &head_bytes) ||
        !nn__mul(n_layers, sizeof(nn_act), &act_bytes) ||
        !nn__add(head_bytes, act_bytes, &head_bytes) ||
        !nn__mul(n_params, 2, &param_bytes) ||
        !nn__add(param_bytes, sizes[n_layers], &param_bytes) ||
        !nn__add(param_bytes, sizes[0], &param_bytes) || /* the scaling */
        !nn__add(param_bytes, sizes[0], &param_bytes) ||
        !nn__mul(param_bytes, sizeof(nn_real), &param_bytes) ||
        !nn__add(param_bytes, NN__ALIGN, &param_bytes))
        return NULL;
    mem = (unsigned char *)NN_MALLOC(head_bytes);
    if (!mem) return NULL;
    net = (nn_net *)mem;
    memset(net, 0, sizeof *net);
    net->n_layers = n_layers;
    net->sizes = (size_t *)(mem + sizeof(nn_net));
    net->offsets = net->sizes + n_layers + 1;
    net->width_before = net->offsets + n_layers;
    net->acts = (nn_act *)(net->width_before + n_layers + 1);
    net->n_params = n_params;
    net->max_width = max_width;
    net->params_mem = NN_MALLOC(param_bytes);
    if (!net->params_mem) {
        NN_FREE(mem);
        return NULL;
    }
    net->params = nn__aligned(net->params_mem);
    net->grads = net->params + n_params;
    net->class_weights = net->grads + n_params;
    net->in_shift = net->class_weights + sizes[n_layers];
    net->in_scale = net->in_shift + sizes[0];
    net->opt_kind = NN_OPT_COUNT; /* no state yet */

    memcpy(net->sizes, sizes, (n_layers + 1) * sizeof *sizes);
    memcpy(net->acts, acts, n_layers * sizeof *acts);
    (void)nn_set_input_scaling(net, NULL, NULL); /* the identity */
    nn_rng_seed(&net->rng, seed);
    n_params = 0;
    widths = 0;
    for (size_t l = 0; l < n_layers; l++) {
        const size_t n_in = sizes[l], n_out = sizes[l + 1];
        const int he = acts[l] == NN_ACT_RELU || acts[l] == NN_ACT_LEAKY_RELU;
        /* Glorot & Bengio (2010) keep the variance of a and of da about
           constant through a layer for f'(0) = 1; He et al. (2015) double
           it for ReLU, which zeroes half its inputs.  U(-r, r) has variance
           r^2 / 3, so r = sqrt(6 / (n_in + n_out)) resp. sqrt(6 / n_in).
           The arithmetic is in double and correctly rounded, so float and
           double builds start from the same weights, up to rounding. */
        const double r = sqrt(6.0 / (double)(he ? n_in : n_in + n_out));
        nn_real *W = net->params + n_params;
        net->offsets[l] = n_params;
        net->width_before[l] = widths;
        for (size_t k = 0; k < n_out * n_in; k++)
            W[k] = (nn_real)(r * (2.0 * nn_rng_uniform(&net->rng) - 1.0));
        for (size_t o = 0; o < n_out; o++) W[n_out * n_in + o] = 0;
        n_params += n_out * (n_in + 1);
        widths += n_out;
    }
    net->width_before[n_layers] = widths;
    nn_zero_grad(net);
    if (err) *err = NN_OK;
    return net;
}

NNDEF void nn_destroy(nn_net *net) {
    if (!net) return;
    NN_FREE(net->work_mem);
    NN_FREE(net->opt_m);
    NN_FREE(net->params_mem);
    NN_FREE(net);
}

NNDEF size_t nn_layer_count(const nn_net *net) {
    NN_ASSERT(net);
    return net->n_layers;
}

NNDEF size_t nn_size(const nn_net *net, size_t i) {
    NN_ASSERT(net);
    return i <= net->n_layers ? net->sizes[i] : 0;
}

NNDEF nn_act nn_layer_act(const nn_net *net, size_t l) {
    NN_ASSERT(net);
    return l < net->n_layers ? net->acts[l] : NN_ACT_COUNT;
}

NNDEF nn_rng *nn_net_rng(nn_net *net) {
    NN_ASSERT(net);
    return &net->rng;
}

NNDEF size_t nn_param_count(const nn_net *net) {
    NN_ASSERT(net);
    return net->n_params;
}

NNDEF nn_real *nn_params(nn_net *net) {
    NN_ASSERT(net);
    return net->params;
}

NNDEF nn_real *nn_grads(nn_net *net) {
    NN_ASSERT(net);
    return net->grads;
}

NNDEF nn_real *nn_layer_params(nn_net *net, size_t l) {
    NN_ASSERT(net);
    return l < net->n_layers ? net->params + net->offsets[l] : NULL;
}

NNDEF nn_result nn_reserve(nn_net *net, size_t B) {
    size_t per_row, count, bytes;
    void *mem;
    NN_ASSERT(net);
    if (B <= net->capacity) return NN_OK;
    /* per row: x, z and a of every layer, two scratch rows */
    if (!nn__mul(net->width_before[net->n_layers], 2, &per_row) ||
        !nn__add(per_row, net->sizes[0], &per_row) ||
        !nn__add(per_row, net->max_width, &per_row) ||
        !nn__add(per_row, net->max_width, &per_row) ||
        !nn__mul(per_row, B, &count) ||
        !nn__mul(count, sizeof(nn_real), &bytes) ||
        !nn__add(bytes, NN__ALIGN, &bytes))
        return NN_ERR_NOMEM;
    mem = NN_MALLOC(bytes);
    if (!mem) return NN_ERR_NOMEM;
    /* the old rows are not copied: the next nn_forward rewrites them */
    NN_FREE(net->work_mem);
    net->work_mem = mem;
    net->work = nn__aligned(mem);
    net->capacity = B;
    net->batch = 0;
    return NN_OK;
}

/* x' = (x - shift) * scale over B rows of inputs, from x into out (which
   may be x) */
static void nn__scale_input(const nn_net *net, nn_real *out, const nn_real *x,
                            size_t B) {
    const size_t n = net->sizes[0];
    for (size_t s = 0; s < B; s++)
        for (size_t i = 0; i < n; i++)
            out[s * n + i] = (x[s * n + i] - net->in_shift[i]) * net->in_scale[i];
}

/* Forward pass, layer by layer:
     z = x.W^T + b      (nn__dense_forward)
     a = f(z)           (nn__act_forward)
   and a becomes the next layer's x.  Every z and a stays in the workspace
   for backward. */
static void nn__forward_layer(nn_net *net, size_t l, size_t B) {
    const size_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
    const nn_real *W = net->params + net->offsets[l];
    nn_real *z = nn__layer_z(net, l);
    nn__dense_forward(z, nn__layer_x(net, l), W, W + n_out * n_in, B, n_in,
                      n_out);
    nn__act_forward(nn__layer_a(net, l), z, B, n_out, net->acts[l]);
}

/* the forward pass of B rows already in the workspace's x */
static const nn_real *nn__forward_work(nn_net *net, size_t B) {
    for (size_t l = 0; l < net->n_layers; l++) nn__forward_layer(net, l, B);
    net->batch = B;
    return nn__layer_a(net, net->n_layers - 1);
}

NNDEF const nn_real *nn_forward(nn_net *net, const nn_real *x, size_t B) {
    NN_ASSERT(net);
    if (!x || B == 0 || nn_reserve(net, B) != NN_OK) return NULL;
    if (net->scaled)
        nn__scale_input(net, net->work, x, B);
    else
        memcpy(net->work, x, B * net->sizes[0] * sizeof *x);
    return nn__forward_work(net, B);
}

/* the rows of nn_predict's two scratch arrays: the widest layer, or the
   input when it is wider (it holds the scaled input) */
static size_t nn__predict_width(const nn_net *net) {
    return NN__MAX(net->max_width, net->sizes[0]);
}

NNDEF size_t nn_predict_scratch_size(const nn_net *net, size_t B) {
    size_t count; /* two arrays, z and a, taking turns */
    NN_ASSERT(net);
    return nn__mul(nn__predict_width(net), B, &count) &&
                   nn__mul(count, 2, &count) ? count : 0;
}

/* nn_forward's two kernels per layer, with the activations alternating
   between two scratch arrays instead of the net's workspace; a scaled
   input goes to the second first */
NNDEF nn_result nn_predict(const nn_net *net, const nn_real *x, size_t B,
                           nn_real *scratch, nn_real *out) {
    const size_t L = net ? net->n_layers : 0;
    nn_real *z, *a;
    NN_ASSERT(net);
    if (!x || !scratch || !out || B == 0) return NN_ERR_INVALID;
    z = scratch;
    a = scratch + B * nn__predict_width(net);
    if (net->scaled) {
        nn__scale_input(net, a, x, B);
        x = a;
    }
    for (size_t l = 0; l < L; l++) {
        const size_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const nn_real *W = net->params + net->offsets[l];
        nn__dense_forward(z, l == 0 ? x : a, W, W + n_out * n_in, B, n_in,
                          n_out);
        nn__act_forward(l == L - 1 ? out : a, z, B, n_out, net->acts[l]);
    }
    return NN_OK;
}

/* NN_OK when `loss` may follow the output layer's activation. */
static nn_result nn__loss_fits(const nn_net *net, nn_loss loss) {
    const nn_act out = net->acts[net->n_layers - 1];
    switch (loss) {
    case NN_LOSS_MSE: return NN_OK;
    case NN_LOSS_CROSS_ENTROPY:
        return out == NN_ACT_SOFTMAX ? NN_OK : NN_ERR_INVALID;
    case NN_LOSS_BINARY_CROSS_ENTROPY:
        return out == NN_ACT_SIGMOID ? NN_OK : NN_ERR_INVALID;
    case NN_LOSS_COUNT: break;
    }
    return NN_ERR_INVALID;
}

/* The loss of the last forward pass as a sum, in double, and what to
   divide it by in *count; the pairing must have been checked. */
static double nn__loss_sum(const nn_net *net, nn_loss loss, const nn_real *y,
                           double *count) {
    const size_t L = net->n_layers, B = net->batch, n = net->sizes[L];
    const nn_real *c = net->weighted ? net->class_weights : NULL;
    *count = (double)(B * n);
    switch (loss) {
    case NN_LOSS_MSE:
        return nn__mse_forward(nn__layer_a(net, L - 1), y, B, n);
    case NN_LOSS_CROSS_ENTROPY:
        *count = nn__softmax_ce_count(y, c, B, n);
        return nn__softmax_ce_forward(nn__layer_z(net, L - 1), y, c, B, n);
    case NN_LOSS_BINARY_CROSS_ENTROPY:
        return nn__sigmoid_bce_forward(nn__layer_z(net, L - 1), y, B, n);
    case NN_LOSS_COUNT: break;
    }
    NN_ASSERT(0 && "not a loss");
    return 0;
}

/* The mean loss of the last forward pass. */
static double nn__loss_value(const nn_net *net, nn_loss loss,
                             const nn_real *y) {
    double count, sum = nn__loss_sum(net, loss, y, &count);
    return count > 0 ? sum / count : 0;
}

/* NN_OK when the count reals of y are targets `loss` accepts (see
   nn_compute_loss's comment in the declarations) */
static nn_result nn__targets_ok(nn_loss loss, const nn_real *y, size_t count) {
    if (!nn__all_finite(y, count)) return NN_ERR_NONFINITE;
    if (loss == NN_LOSS_CROSS_ENTROPY || loss == NN_LOSS_BINARY_CROSS_ENTROPY)
        for (size_t k = 0; k < count; k++)
            if (y[k] < 0 || (loss == NN_LOSS_BINARY_CROSS_ENTROPY && y[k] > 1))
                return NN_ERR_INVALID;
    return NN_OK;
}

/* The checks of every call on the last forward pass's batch against
   targets y: a batch there, a loss that fits, targets it accepts. */
static nn_result nn__batch_ok(const nn_net *net, nn_loss loss,
                              const nn_real *y) {
    if (!y || net->batch == 0 || nn__loss_fits(net, loss) != NN_OK)
        return NN_ERR_INVALID;
    return nn__targets_ok(loss, y, net->batch * net->sizes[net->n_layers]);
}

NNDEF nn_result nn_compute_loss(const nn_net *net, nn_loss loss,
                                const nn_real *y, double *out) {
    nn_result r;
    NN_ASSERT(net);
    r = out ? nn__batch_ok(net, loss, y) : NN_ERR_INVALID;
    if (r != NN_OK) return r;
    *out = nn__loss_value(net, loss, y);
    return nn__finite(*out) ? NN_OK : NN_ERR_NONFINITE;
}

NNDEF nn_result nn_one_hot(nn_real *y, const size_t *labels, size_t n,
                           size_t K) {
    if (!y || !labels || K == 0) return NN_ERR_INVALID;
    for (size_t s = 0; s < n; s++)
        if (labels[s] >= K) return NN_ERR_INVALID;
    for (size_t s = 0; s < n; s++)
        for (size_t k = 0; k < K; k++) y[s * K + k] = k == labels[s] ? 1 : 0;
    return NN_OK;
}

NNDEF nn_result nn_set_class_weights(nn_net *net, const nn_real *w) {
    const size_t n = net ? net->sizes[net->n_layers] : 0;
    NN_ASSERT(net);
    if (!w) {
        net->weighted = 0;
        return NN_OK;
    }
    if (net->acts[net->n_layers - 1] != NN_ACT_SOFTMAX) return NN_ERR_INVALID;
    for (size_t o = 0; o < n; o++)
        if (!nn__finite((double)w[o]) || w[o] < 0) return NN_ERR_INVALID;
    memcpy(net->class_weights, w, n * sizeof *w);
    net->weighted = 1;
    return NN_OK;
}

NNDEF nn_result nn_set_input_scaling(nn_net *net, const nn_real *shift,
                                     const nn_real *scale) {
    const size_t n = net ? net->sizes[0] : 0;
    NN_ASSERT(net);
    if (!shift && !scale) {
        for (size_t i = 0; i < n; i++) {
            net->in_shift[i] = 0;
            net->in_scale[i] = 1;
        }
        net->scaled = 0;
        return NN_OK;
    }
    if (!shift || !scale) return NN_ERR_INVALID;
    if (!nn__all_finite(shift, n) || !nn__all_finite(scale, n))
        return NN_ERR_NONFINITE;
    memcpy(net->in_shift, shift, n * sizeof *shift);
    memcpy(net->in_scale, scale, n * sizeof *scale);
    net->scaled = 1;
    return NN_OK;
}

NNDEF nn_result nn_fit_input_scaling(nn_net *net, const nn_real *x, size_t n) {
    const size_t n_in = net ? net->sizes[0] : 0;
    size_t count;
    NN_ASSERT(net);
    if (!x || n == 0 || !nn__mul(n, n_in, &count)) return NN_ERR_INVALID;
    if (!nn__all_finite(x, count)) return NN_ERR_NONFINITE;
    for (size_t i = 0; i < n_in; i++) {
        /* two passes in double: the mean, then the mean squared distance
           from it (no cancellation, unlike E[x^2] - E[x]^2) */
        double mean = 0, var = 0;
        for (size_t s = 0; s < n; s++) mean += (double)x[s * n_in + i];
        mean /= (double)n;
        for (size_t s = 0; s < n; s++) {
            const double d = (double)x[s * n_in + i] - mean;
            var += d * d;
        }
        var /= (double)n;
        net->in_shift[i] = (nn_real)mean;
        /* a constant column, or one whose spread is lost in rounding,
           keeps scale 1 (dividing by its spread would blow it up) */
        net->in_scale[i] = var > 0 && nn__finite(1 / sqrt(var)) &&
                                   (nn_real)(1 / sqrt(var)) > 0
                               ? (nn_real)(1 / sqrt(var))
                               : 1;
    }
    net->scaled = 1;
    return NN_OK;
}

NNDEF int nn_input_scaling(const nn_net *net, const nn_real **shift,
                           const nn_real **scale) {
    NN_ASSERT(net);
    if (shift) *shift = net->scaled ? net->in_shift : NULL;
    if (scale) *scale = net->scaled ? net->in_scale : NULL;
    return net->scaled;
}

/* the input gradient through the scaling: dL/dx = dL/dx' * scale */
static void nn__scale_input_grad(const nn_net *net, nn_real *dx, size_t B) {
    const size_t n = net->sizes[0];
    if (!net->scaled) return;
    for (size_t s = 0; s < B; s++)
        for (size_t i = 0; i < n; i++) dx[s * n + i] *= net->in_scale[i];
}

static void nn__zero_reals_ref(nn_real *v, size_t n) {
    memset(v, 0, n * sizeof *v);
}

NNDEF void nn_zero_grad(nn_net *net) {
    NN_ASSERT(net);
    nn__zero_reals(net->grads, net->n_params);
}

/* Backward pass: the chain rule, from the loss back to the input.
     dz of the output layer   from the loss (fused for the cross-entropies)
     then for l = L-1 .. 0:
       dW += dz^T.x, db += sum_s dz    (nn__dense_backward_params)
       dx  = dz.W                      (nn__dense_backward_input)
       dz of layer l-1 = dx * f'(z)    (nn__act_backward; x was its a)
   Two scratch arrays take turns holding dz and dx. */

/* dLoss/dz of the output layer for the last forward's batch, into d */
static void nn__loss_dz(nn_net *net, nn_loss loss, const nn_real *y,
                        nn_real *d) {
    const size_t L = net->n_layers, B = net->batch, n = net->sizes[L];
    nn_real *a_out = nn__layer_a(net, L - 1);
    switch (loss) {
    case NN_LOSS_MSE:
        nn__mse_backward(d, a_out, y, B, n);
        nn__act_backward(d, nn__layer_z(net, L - 1), a_out, B, n,
                         net->acts[L - 1]);
        break;
    case NN_LOSS_CROSS_ENTROPY:
        nn__softmax_ce_backward(d, a_out, y,
                                net->weighted ? net->class_weights : NULL, B,
                                n);
        break;
    case NN_LOSS_BINARY_CROSS_ENTROPY:
        nn__sigmoid_bce_backward(d, a_out, y, B, n);
        break;
    case NN_LOSS_COUNT: break;
    }
}

/* From dz of the output layer, in scratch 0, down through every layer:
   adds dW and db to the gradients when `grads` is set, and writes the
   gradient with respect to the net's input x to dx_in unless it is NULL
   (for layer 0 that is dz.W, with no activation below it). */
static void nn__backprop(nn_net *net, int grads, nn_real *dx_in) {
    const size_t B = net->batch;
    nn_real *dz = nn__scratch(net, 0), *dx = nn__scratch(net, 1);
    for (size_t l = net->n_layers; l-- > 0;) {
        const size_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const size_t off = net->offsets[l];
        const nn_real *x = nn__layer_x(net, l);
        if (grads)
            nn__dense_backward_params(net->grads + off,
                                      net->grads + off + n_out * n_in, dz, x,
                                      B, n_in, n_out);
        if (l > 0) {
            nn_real *t;
            nn__dense_backward_input(dx, dz, net->params + off, B, n_in,
                                     n_out);
            nn__act_backward(dx, nn__layer_z(net, l - 1), x, B, n_in,
                             net->acts[l - 1]);
            t = dz;
            dz = dx;
            dx = t;
        } else if (dx_in) {
            nn__dense_backward_input(dx_in, dz, net->params + off, B, n_in,
                                     n_out);
        }
    }
}

/* nn_backward and nn_input_grad: the batch's checks, then the loss, which
   must be finite before any gradient is touched */
static nn_result nn__backward_ok(const nn_net *net, nn_loss loss,
                                 const nn_real *y, double *out) {
    double value;
    nn_result r = nn__batch_ok(net, loss, y);
    if (r != NN_OK) return r;
    value = nn__loss_value(net, loss, y);
    if (out) *out = value;
    return nn__finite(value) ? NN_OK : NN_ERR_NONFINITE;
}

NNDEF nn_result nn_backward(nn_net *net, nn_loss loss, const nn_real *y,
                            double *out) {
    nn_result r;
    NN_ASSERT(net);
    r = nn__backward_ok(net, loss, y, out);
    if (r != NN_OK) return r;
    nn__loss_dz(net, loss, y, nn__scratch(net, 0));
    nn__backprop(net, 1, NULL);
    return NN_OK;
}

NNDEF nn_result nn_input_grad(nn_net *net, nn_loss loss, const nn_real *y,
                              nn_real *dx) {
    nn_result r;
    NN_ASSERT(net);
    r = dx ? nn__backward_ok(net, loss, y, NULL) : NN_ERR_INVALID;
    if (r != NN_OK) return r;
    nn__loss_dz(net, loss, y, nn__scratch(net, 0));
    nn__backprop(net, 0, dx);
    nn__scale_input_grad(net, dx, net->batch);
    return NN_OK;
}

NNDEF nn_result nn_output_grad(nn_net *net, size_t o, nn_real *dx) {
    const size_t L = net ? net->n_layers : 0, B = net ? net->batch : 0;
    const size_t n = net ? net->sizes[L] : 0;
    nn_real *d;
    NN_ASSERT(net);
    if (!dx || B == 0 || o >= n) return NN_ERR_INVALID;
    /* da = 1 at unit o of every row, 0 elsewhere; the output activation's
       backward turns it into dz (for softmax, a_k ([k == o] - a_o)) */
    d = nn__scratch(net, 0);
    for (size_t k = 0; k < B * n; k++) d[k] = k % n == o ? 1 : 0;
    nn__act_backward(d, nn__layer_z(net, L - 1), nn__layer_a(net, L - 1), B,
                     n, net->acts[L - 1]);
    nn__backprop(net, 0, dx);
    nn__scale_input_grad(net, dx, B);
    return NN_OK;
}

/* ---- optimizers ---------------------------------------------------------
   The loss falls fastest against the gradient, so a small step that way
   lowers it:  w -= lr * dLoss/dw.  That is all of plain gradient descent.
   The others change the step, each parameter on its own (g is its
   gradient, t the step count from 1, lambda the weight decay):
   - L2 weight decay adds lambda/2 w^2 to the loss, so lambda w to g: it
     pulls unused weights to zero.
   - Momentum keeps a running sum of past steps, m = mu m + g, and steps
     along m: a valley's steep walls cancel out in m while its gentle floor
     adds up, so a ravine is crossed faster.  Nesterov steps along
     g + mu m, a look at where the momentum is about to carry w.
   - Adam divides the average gradient m by the root of the average squared
     gradient v, so every parameter moves about lr per step whatever the
     scale of its gradient.  m and v start at 0, which biases them towards
     0 early on; dividing by 1 - beta^t undoes that exactly for a constant
     gradient.
   - AdamW shrinks the weights directly, w -= lr lambda w, instead of adding
     lambda w to g: in Adam that L2 term would be divided by sqrt(v) and so
     decay large-gradient weights less, which is not what decay means.
   These are torch.optim's SGD (dampening 0), Adam and AdamW (amsgrad off),
   term for term. */

NNDEF nn_opt nn_opt_sgd(double lr) {
    nn_opt opt;
    memset(&opt, 0, sizeof opt);
    opt.kind = NN_OPT_SGD;
    opt.lr = lr;
    opt.beta1 = 0.9;
    opt.beta2 = 0.999;
    opt.eps = 1e-8;
    return opt;
}

NNDEF nn_opt nn_opt_adam(double lr) {
    nn_opt opt = nn_opt_sgd(lr);
    opt.kind = NN_OPT_ADAM;
    return opt;
}

NNDEF nn_opt nn_opt_adamw(double lr, double weight_decay) {
    nn_opt opt = nn_opt_sgd(lr);
    opt.kind = NN_OPT_ADAMW;
    opt.weight_decay = weight_decay;
    return opt;
}

NNDEF void nn_opt_reset(nn_net *net) {
    NN_ASSERT(net);
    if (net->opt_m)
        memset(net->opt_m, 0, 2 * net->n_params * sizeof *net->opt_m);
    net->opt_t = 0;
}

/* Allocates the optimizer state once (its size was checked by nn_create,
   which allocated as much for params and grads). */
static nn_result nn__opt_alloc(nn_net *net) {
    if (net->opt_m) return NN_OK;
    net->opt_m = (nn_real *)NN_MALLOC(2 * net->n_params * sizeof(nn_real));
    if (!net->opt_m) return NN_ERR_NOMEM;
    net->opt_v = net->opt_m + net->n_params;
    nn_opt_reset(net);
    return NN_OK;
}

/* Plain SGD's step for one weight w with gradient g: w - lr (g + lambda w),
   or w - lr g without weight decay (the same number for any finite w).
   Every plain SGD step in nn.h is this formula, so that all of them give
   the same weights, bit for bit. */
static nn_real nn__sgd_w(nn_real w, nn_real g, nn_real lr, nn_real lambda) {
    return lambda == 0 ? w - lr * g : w - lr * (g + lambda * w);
}

/* Plain SGD over all P parameters */
static void nn__sgd_apply_ref(nn_real *w, const nn_real *g, nn_real lr,
                              nn_real lambda, size_t P) {
    for (size_t i = 0; i < P; i++) w[i] = nn__sgd_w(w[i], g[i], lr, lambda);
}

/* The settings nn_step takes: those its kind of optimizer reads, each in
   its range, finite also once rounded to nn_real (a learning rate of 1e39
   is infinite in float, an eps of 1e-50 is 0).  !(x >= 0) is also true
   for a NaN. */
static int nn__real_ok(double x, int positive) {
    const nn_real r = (nn_real)x;
    return nn__finite(x) && nn__finite((double)r) && !(r < 0) &&
           (!positive || r > 0);
}
static int nn__unit_ok(double x) { return x >= 0 && x < 1; } /* [0, 1) */

static int nn__opt_ok(const nn_opt *opt) {
    if (!nn__real_ok(opt->lr, 0) || !nn__real_ok(opt->weight_decay, 0))
        return 0;
    switch (opt->kind) {
    case NN_OPT_SGD: return nn__unit_ok(opt->momentum);
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW:
        return nn__unit_ok(opt->beta1) && nn__unit_ok(opt->beta2) &&
               nn__real_ok(opt->eps, 1);
    case NN_OPT_COUNT: break;
    }
    return 0;
}

/* The most steps a net counts: t up to 2^53 is exact in a double, so the
   bias corrections b^t and t + 1 never round or wrap. */
#define NN__MAX_STEPS (UINT64_C(1) << 53)

/* The constants of one step of nn_step, t being the step's number */
typedef struct nn__opt_k {
    int how;            /* 0 plain SGD, 1 SGD with momentum, 2 Adam(W) */
    int nesterov, decoupled;
    int fresh;          /* nn__step_check reads m and v as 0 */
    nn_real lr, lambda, mu;                  /* SGD */
    nn_real b1, b2, c1, c2, step, root2, eps; /* Adam */
    nn_real l2, shrink;                       /* Adam's decay, L2 or not */
} nn__opt_k;

static nn__opt_k nn__opt_consts(const nn_opt *opt, uint64_t t_) {
    const double t = (double)t_;
    nn__opt_k c;
    memset(&c, 0, sizeof c);
    c.lr = (nn_real)opt->lr;
    c.lambda = (nn_real)opt->weight_decay;
    c.mu = (nn_real)opt->momentum;
    c.nesterov = opt->nesterov != 0;
    c.how = opt->kind != NN_OPT_SGD ? 2 : c.mu != 0 ? 1 : 0;
    /* the bias corrections, in double: beta2^t stays near 1 for long */
    c.b1 = (nn_real)opt->beta1;
    c.b2 = (nn_real)opt->beta2;
    c.c1 = (nn_real)(1.0 - opt->beta1);
    c.c2 = (nn_real)(1.0 - opt->beta2);
    c.step = (nn_real)(opt->lr / (1.0 - pow(opt->beta1, t)));
    c.root2 = (nn_real)sqrt(1.0 - pow(opt->beta2, t));
    c.eps = (nn_real)opt->eps;
    c.decoupled = opt->kind == NN_OPT_ADAMW;
    c.l2 = c.decoupled ? 0 : c.lambda;
    c.shrink = (nn_real)(1.0 - opt->lr * opt->weight_decay);
    return c;
}

/* SGD with momentum for one parameter: w, its gradient and its m give
   the new w and m */
static void nn__momentum_one(const nn__opt_k *c, nn_real w, nn_real grad,
                             nn_real m, nn_real *w1, nn_real *m1) {
    nn_real g = grad + c->lambda * w;
    /* m starts at 0, so the first step sets m = g, as in PyTorch */
    *m1 = c->mu * m + g;
    g = c->nesterov ? (nn_real)(g + c->mu * *m1) : *m1;
    *w1 = w - c->lr * g;
}

/* Adam or AdamW for one parameter: w, g, m, v give the new w, m, v */
static void nn__adam_one(const nn__opt_k *c, nn_real w, nn_real grad,
                         nn_real m, nn_real v, nn_real *w1, nn_real *m1,
                         nn_real *v1) {
    const nn_real g = grad + c->l2 * w;
    if (c->decoupled) w *= c->shrink;
    *m1 = c->b1 * m + c->c1 * g;
    *v1 = c->b2 * v + c->c2 * g * g;
    /* lr m^ / (sqrt(v^) + eps) with m^ = m / (1 - b1^t) and
       v^ = v / (1 - b2^t), arranged as PyTorch does */
    *w1 = w - c->step * *m1 / (nn__sqrt(*v1) / c->root2 + c->eps);
}

/* Adam over all P parameters */
static void nn__adam_apply_ref(const nn__opt_k *c, nn_real *w, const nn_real *g,
                               nn_real *m, nn_real *v, size_t P) {
    for (size_t i = 0; i < P; i++)
        nn__adam_one(c, w[i], g[i], m[i], v[i], &w[i], &m[i], &v[i]);
}

/* Whether the step would leave every w, m and v finite: it computes each
   new value and writes nothing.  nn_step runs it before nn__step_apply,
   so a step that would put a NaN or an infinity anywhere is never begun;
   it takes the place of a scan for non-finite gradients, which it
   includes, and computes exactly what nn__step_apply will write. */
static int nn__step_check_ref(const nn_net *net, const nn__opt_k *c) {
    const nn_real *w = net->params, *m = net->opt_m, *v = net->opt_v;
    const nn_real *g = net->grads;
    for (size_t i = 0; i < net->n_params; i++) {
        nn_real w1, m1 = 0, v1 = 0;
        if (c->how == 0)
            w1 = nn__sgd_w(w[i], g[i], c->lr, c->lambda);
        else if (c->how == 1)
            nn__momentum_one(c, w[i], g[i], c->fresh ? 0 : m[i], &w1, &m1);
        else
            nn__adam_one(c, w[i], g[i], c->fresh ? 0 : m[i],
                         c->fresh ? 0 : v[i], &w1, &m1, &v1);
        if (!nn__finite((double)w1) || !nn__finite((double)m1) ||
            !nn__finite((double)v1))
            return 0;
    }
    return 1;
}

/* The step itself, each optimizer in a loop of its own */
static void nn__step_apply(nn_net *net, const nn__opt_k *c) {
    nn_real *NN_RESTRICT w = net->params, *NN_RESTRICT m = net->opt_m;
    nn_real *NN_RESTRICT v = net->opt_v;
    const nn_real *NN_RESTRICT g = net->grads;
    const size_t P = net->n_params;
    const nn__opt_k k = *c;
    if (k.how == 0)
        nn__sgd_apply(w, g, k.lr, k.lambda, P);
    else if (k.how == 1)
        for (size_t i = 0; i < P; i++)
            nn__momentum_one(&k, w[i], g[i], m[i], &w[i], &m[i]);
    else
        nn__adam_apply(&k, w, g, m, v, P);
}

NNDEF nn_result nn_sgd_step(nn_net *net, nn_real lr) {
    nn__opt_k c;
    NN_ASSERT(net);
    if (!nn__real_ok((double)lr, 0)) return NN_ERR_INVALID;
    memset(&c, 0, sizeof c);
    c.lr = lr; /* how 0, lambda 0: w - lr g */
    if (!nn__step_check(net, &c)) return NN_ERR_NONFINITE;
    nn__step_apply(net, &c);
    return NN_OK;
}

NNDEF nn_result nn_step(nn_net *net, const nn_opt *opt) {
    nn__opt_k c;
    nn_result r;
    int fresh;
    NN_ASSERT(net);
    if (!opt || !nn__opt_ok(opt)) return NN_ERR_INVALID;
    r = nn__opt_alloc(net);
    if (r != NN_OK) return r;
    /* another kind of optimizer than the last starts from fresh state:
       the check reads m and v as 0, and only a step that passes it
       resets them */
    fresh = opt->kind != net->opt_kind;
    if (!fresh && net->opt_t >= NN__MAX_STEPS) return NN_ERR_INVALID;
    c = nn__opt_consts(opt, fresh ? 1 : net->opt_t + 1);
    c.fresh = fresh;
    if (!nn__step_check(net, &c)) return NN_ERR_NONFINITE;
    if (fresh) {
        nn_opt_reset(net);
        net->opt_kind = opt->kind;
    }
    c.fresh = 0;
    net->opt_t++;
    nn__step_apply(net, &c);
    return NN_OK;
}

NNDEF nn_result nn_clip_grad_norm(nn_net *net, double max_norm,
                                  double *norm_out) {
    double sum = 0, norm;
    NN_ASSERT(net);
    if (!nn__finite(max_norm) || !(max_norm > 0)) return NN_ERR_INVALID;
    for (size_t k = 0; k < net->n_params; k++)
        sum += (double)net->grads[k] * (double)net->grads[k];
    norm = sqrt(sum);
    if (norm_out) *norm_out = norm;
    if (!nn__finite(norm)) return NN_ERR_NONFINITE;
    if (norm > max_norm) {
        const nn_real scale = (nn_real)(max_norm / (norm + 1e-6));
        for (size_t k = 0; k < net->n_params; k++) net->grads[k] *= scale;
    }
    return NN_OK;
}

/* ---- gradient check -----------------------------------------------------
   Backprop is easy to get subtly wrong (the tutorial this library grew from
   did, five ways), so every gradient can be checked against its definition:
     dLoss/dw ~ (Loss(w + h) - Loss(w - h)) / 2h
   The central difference is off by O(h^2), against O(h) for the one-sided
   one.  Too small an h drowns the difference in rounding, hence a larger
   default for float.  The step taken is (w + h) - (w - h) as actually
   stored, which need not be 2h exactly in float. */

typedef nn_result (*nn__backward_fn)(nn_net *, nn_loss, const nn_real *,
                                     double *);

/* nn_gradcheck with the backward under test passed in, so the tests can
   prove that a wrong backward is caught. */
static nn_result nn__gradcheck(nn_net *net, nn_loss loss, const nn_real *x,
                               const nn_real *y, size_t B, nn_real h,
                               nn__backward_fn backward, double *max_rel_err,
                               size_t *worst) {
    double max_err = 0;
    size_t worst_k = 0;
    nn_result r;
    NN_ASSERT(net);
    if (!x || !y || B == 0 || !nn__finite((double)h)) return NN_ERR_INVALID;
    if (h <= 0) h = sizeof(nn_real) == sizeof(float) ? NN_R(1e-2) : NN_R(1e-5);
    if (!nn_forward(net, x, B)) return NN_ERR_NOMEM;
    /* refuse before zeroing the gradients: a refused call changes nothing */
    r = nn__backward_ok(net, loss, y, NULL);
    if (r != NN_OK) return r;
    nn_zero_grad(net);
    r = backward(net, loss, y, NULL);
    if (r != NN_OK) return r;
    for (size_t k = 0; k < net->n_params; k++) {
        const nn_real w = net->params[k], wp = w + h, wm = w - h;
        double lp, lm, num, g, err;
        net->params[k] = wp;
        (void)nn_forward(net, x, B); /* the workspace fits B already */
        lp = nn__loss_value(net, loss, y);
        net->params[k] = wm;
        (void)nn_forward(net, x, B);
        lm = nn__loss_value(net, loss, y);
        net->params[k] = w;
        if (!nn__finite(lp) || !nn__finite(lm)) { /* h too large here */
            (void)nn_forward(net, x, B);
            return NN_ERR_NONFINITE;
        }
        num = (lp - lm) / ((double)wp - (double)wm);
        g = (double)net->grads[k];
        err = fabs(g - num) / NN__MAX(NN__MAX(fabs(g), fabs(num)), 1e-3);
        /* !(err <= max) also catches a NaN */
        if (!(err <= max_err)) {
            max_err = err;
            worst_k = k;
        }
    }
    (void)nn_forward(net, x, B); /* leave the batch's own forward pass */
    if (max_rel_err) *max_rel_err = max_err;
    if (worst) *worst = worst_k;
    return NN_OK;
}

NNDEF nn_result nn_gradcheck(nn_net *net, nn_loss loss, const nn_real *x,
                             const nn_real *y, size_t B, nn_real h,
                             double *max_rel_err, size_t *worst) {
    return nn__gradcheck(net, loss, x, y, B, h, nn_backward, max_rel_err,
                         worst);
}

/* ---- evaluation ---------------------------------------------------------
   Running a trained net over a data set, in batches that fit the
   workspace, and counting what it gets right. */

static size_t nn__class(const nn_real *v, size_t n) {
    size_t best = 0;
    if (n == 1) return v[0] > NN_R(0.5) ? 1 : 0;
    for (size_t o = 1; o < n; o++)
        if (v[o] > v[best]) best = o;
    return best;
}

/* Whether the net's outputs are classes: softmax or sigmoid (see the
   declarations); a linear or tanh output is a regression. */
static int nn__has_classes(const nn_net *net) {
    const nn_act out = net->acts[net->n_layers - 1];
    return out == NN_ACT_SOFTMAX || out == NN_ACT_SIGMOID;
}

/* The checks of the functions that run the net over a data set: rows,
   finite inputs, and targets the loss accepts (any finite ones for
   loss = NN_LOSS_COUNT, which counts classes only) when y is given. */
static nn_result nn__data_ok(const nn_net *net, nn_loss loss,
                             const nn_real *x, const nn_real *y, size_t n) {
    size_t count;
    if (!x || n == 0) return NN_ERR_INVALID;
    /* B x n_in fits size_t: the caller holds that many reals */
    if (!nn__mul(n, net->sizes[0], &count)) return NN_ERR_INVALID;
    if (!nn__all_finite(x, count)) return NN_ERR_NONFINITE;
    if (!y) return NN_OK;
    count = n * net->sizes[net->n_layers];
    return loss == NN_LOSS_COUNT ? (nn__all_finite(y, count) ? NN_OK : NN_ERR_NONFINITE)
                                 : nn__targets_ok(loss, y, count);
}

/* One pass over n rows, after nn__data_ok.  Adds the loss sum and count
   (when sum is not NULL; y given), the number of rows whose class matches
   y's (correct), the predicted classes (classes) and the confusion counts
   (counts).  NN_ERR_NONFINITE when an output is not finite. */
static nn_result nn__eval(nn_net *net, nn_loss loss, const nn_real *x,
                          const nn_real *y, size_t n, double *sum,
                          double *count, size_t *correct, size_t *classes,
                          size_t *counts) {
    const size_t n_in = net->sizes[0], n_out = net->sizes[net->n_layers];
    const size_t K = n_out > 1 ? n_out : 2;
    const size_t B = NN__MIN(n, net->capacity ? net->capacity : 256);
    for (size_t start = 0; start < n; start += B) {
        const size_t b = NN__MIN(B, n - start);
        const nn_real *yb = y ? y + start * n_out : NULL;
        const nn_real *a = nn_forward(net, x + start * n_in, b);
        if (!a) return NN_ERR_NOMEM;
        if (!nn__all_finite(a, b * n_out)) return NN_ERR_NONFINITE;
        if (sum) {
            double c;
            *sum += nn__loss_sum(net, loss, yb, &c);
            *count += c;
        }
        for (size_t s = 0; s < b; s++) {
            const size_t p = nn__class(a + s * n_out, n_out);
            if (classes) classes[start + s] = p;
            if (yb) {
                const size_t t = nn__class(yb + s * n_out, n_out);
                if (correct) *correct += t == p;
                if (counts) counts[t * K + p]++;
            }
        }
    }
    return sum && !nn__finite(*sum) ? NN_ERR_NONFINITE : NN_OK;
}

NNDEF nn_result nn_classify(nn_net *net, const nn_real *x, size_t n,
                            size_t *classes) {
    nn_result r;
    NN_ASSERT(net);
    if (!classes || !nn__has_classes(net)) return NN_ERR_INVALID;
    r = nn__data_ok(net, NN_LOSS_COUNT, x, NULL, n);
    if (r != NN_OK) return r;
    return nn__eval(net, NN_LOSS_MSE, x, NULL, n, NULL, NULL, NULL, classes,
                    NULL);
}

NNDEF nn_result nn_evaluate(nn_net *net, nn_loss loss, const nn_real *x,
                            const nn_real *y, size_t n, double *loss_out,
                            double *accuracy) {
    double sum = 0, count = 0;
    size_t correct = 0;
    nn_result r;
    NN_ASSERT(net);
    if (!y || nn__loss_fits(net, loss) != NN_OK ||
        (accuracy && !nn__has_classes(net)))
        return NN_ERR_INVALID;
    r = nn__data_ok(net, loss, x, y, n);
    if (r == NN_OK)
        r = nn__eval(net, loss, x, y, n, &sum, &count, &correct, NULL, NULL);
    if (r != NN_OK) return r;
    if (loss_out) *loss_out = count > 0 ? sum / count : 0;
    if (accuracy) *accuracy = (double)correct / (double)n;
    return NN_OK;
}

NNDEF nn_result nn_confusion_matrix(nn_net *net, const nn_real *x,
                                    const nn_real *y, size_t n,
                                    size_t *counts) {
    const size_t n_out = net ? net->sizes[net->n_layers] : 0;
    const size_t K = n_out > 1 ? n_out : 2;
    nn_result r;
    NN_ASSERT(net);
    if (!y || !counts || !nn__has_classes(net)) return NN_ERR_INVALID;
    r = nn__data_ok(net, NN_LOSS_COUNT, x, y, n);
    if (r != NN_OK) return r;
    memset(counts, 0, K * K * sizeof *counts);
    return nn__eval(net, NN_LOSS_MSE, x, y, n, NULL, NULL, NULL, NULL,
                    counts);
}

/* ---- training -----------------------------------------------------------
   nn_train is the separate calls in the usual loop, nothing more:
     for each epoch: learning rate from the schedule, a new order
       for each batch: gather its rows, forward, loss, zero_grad, backward,
                       clip, step
       validation, early stopping, callback
   so anything it does can also be done by hand, and checked against it.
   Outside the NN_REFERENCE build, plain SGD may take one shortcut (see
   "fast paths"): the same weights, bit for bit, without storing dW. */

NNDEF nn_train_config nn_train_defaults(nn_loss loss) {
    nn_train_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.loss = loss;
    cfg.opt = nn_opt_adam(1e-3);
    cfg.epochs = 100;
    cfg.batch_size = 32;
    cfg.shuffle = 1;
    cfg.schedule = NN_SCHEDULE_CONSTANT;
    cfg.step_epochs = 30;
    cfg.gamma = 0.1;
    return cfg; /* everything else 0 or NULL */
}

/* the learning rate of epoch e (from 0), as nn_schedule documents */
static double nn__schedule_lr(const nn_train_config *cfg, size_t e) {
    const double lr = cfg->opt.lr, pi = 3.14159265358979323846;
    switch (cfg->schedule) {
    case NN_SCHEDULE_CONSTANT: break;
    case NN_SCHEDULE_STEP:
        return lr * pow(cfg->gamma, (double)(e / cfg->step_epochs));
    case NN_SCHEDULE_COSINE:
        return cfg->lr_min + (lr - cfg->lr_min) *
                                 (1 + cos(pi * (double)e / (double)cfg->epochs)) / 2;
    case NN_SCHEDULE_COUNT: NN_ASSERT(0 && "not a schedule"); break;
    }
    return lr;
}

/* The settings of nn_train besides the optimizer's, as the fields of
   nn_train_config state them (!(x >= 0) is also true for a NaN) */
static int nn__train_cfg_ok(const nn_train_config *cfg) {
    if (cfg->epochs == 0 || cfg->batch_size == 0 || !nn__opt_ok(&cfg->opt) ||
        !nn__finite(cfg->clip_norm) || !(cfg->clip_norm >= 0) ||
        (cfg->val_n > 0 && (!cfg->val_x || !cfg->val_y)))
        return 0;
    switch (cfg->schedule) {
    case NN_SCHEDULE_CONSTANT: return 1;
    case NN_SCHEDULE_STEP:
        return cfg->step_epochs > 0 && nn__finite(cfg->gamma) &&
               cfg->gamma >= 0;
    case NN_SCHEDULE_COSINE:
        return nn__finite(cfg->lr_min) && cfg->lr_min >= 0;
    case NN_SCHEDULE_COUNT: break;
    }
    return 0;
}

NNDEF nn_result nn_train(nn_net *net, const nn_train_config *cfg,
                         const nn_real *x, const nn_real *y, size_t n,
                         nn_train_report *report) {
    size_t n_in, n_out, B, idx_bytes, since_best = 0, epochs_done = 0;
    size_t best_epoch = 0;
    size_t *idx;
    nn_real *by, *best = NULL;
    double best_value = HUGE_VAL, last_value = 0;
    int stop = 0, have_best = 0;
    nn_stop why = NN_STOP_EPOCHS;
    nn_opt opt;
    nn_result r = NN_OK;
    NN_ASSERT(net);
    if (report) {
        memset(report, 0, sizeof *report);
        report->stop = NN_STOP_ERROR;
    }
    if (!cfg || !y || !nn__train_cfg_ok(cfg) ||
        nn__loss_fits(net, cfg->loss) != NN_OK)
        return NN_ERR_INVALID;
    r = nn__data_ok(net, cfg->loss, x, y, n);
    if (r == NN_OK && cfg->val_n > 0)
        r = nn__data_ok(net, cfg->loss, cfg->val_x, cfg->val_y, cfg->val_n);
    if (r != NN_OK) return r;
    n_in = net->sizes[0];
    n_out = net->sizes[net->n_layers];
    B = NN__MIN(cfg->batch_size, n);

    /* everything, before the first epoch; the workspace's size check
       covers B * n_out, nn_create's covers n_params */
    if (!nn__mul(n, sizeof *idx, &idx_bytes)) return NN_ERR_NOMEM;
    r = nn_reserve(net, B);
    if (r == NN_OK) r = nn__opt_alloc(net);
    if (r != NN_OK) return r;
    idx = (size_t *)NN_MALLOC(idx_bytes);
    by = (nn_real *)NN_MALLOC(
        (B * n_out + (cfg->patience ? net->n_params : 0)) * sizeof *by);
    if (!idx || !by) {
        NN_FREE(idx);
        NN_FREE(by);
        return NN_ERR_NOMEM;
    }
    if (cfg->patience) best = by + B * n_out;
    for (size_t i = 0; i < n; i++) idx[i] = i;

    opt = cfg->opt;
#ifndef NN_REFERENCE
    nn__sgd_fast fast = nn__sgd_fast_begin(cfg, x, idx, n, B);
#endif
    for (size_t e = 0; e < cfg->epochs && !stop; e++) {
        const double t0 = NN_SECONDS();
        double sum = 0, count = 0, value;
        nn_train_info info;
        memset(&info, 0, sizeof info);
        info.epoch = e + 1;
        info.epochs = cfg->epochs;
        info.n = n;
        info.lr = opt.lr = nn__schedule_lr(cfg, e);
        /* a schedule that grows (gamma > 1) can overflow */
        if (!nn__real_ok(opt.lr, 0)) {
            r = NN_ERR_NONFINITE;
            break;
        }
        if (cfg->shuffle) nn_rng_permutation(&net->rng, idx, n);
        for (size_t start = 0; start < n && !stop; start += B) {
            const size_t b = NN__MIN(B, n - start);
            double batch_sum, batch_count;
            /* the batch's rows go straight into the workspace's x */
            for (size_t s = 0; s < b; s++) {
                memcpy(net->work + s * n_in, x + idx[start + s] * n_in,
                       n_in * sizeof *x);
                memcpy(by + s * n_out, y + idx[start + s] * n_out,
                       n_out * sizeof *by);
            }
            if (net->scaled) nn__scale_input(net, net->work, net->work, b);
            /* forward (the workspace fits: reserved above) and loss */
#ifndef NN_REFERENCE
            if (!nn__sgd_fast_forward(&fast, net, b))
#endif
                (void)nn__forward_work(net, b);
            batch_sum = nn__loss_sum(net, cfg->loss, by, &batch_count);
            if (!nn__finite(batch_sum)) r = NN_ERR_NONFINITE;
            if (r != NN_OK) break;
            /* zero_grad, backward, clip, step; the targets were checked */
#ifndef NN_REFERENCE
            if (!nn__sgd_fast_step(&fast, net, by, &opt, start + b))
#endif
            {
                nn_zero_grad(net);
                nn__loss_dz(net, cfg->loss, by, nn__scratch(net, 0));
                nn__backprop(net, 1, NULL);
                if (cfg->clip_norm > 0)
                    r = nn_clip_grad_norm(net, cfg->clip_norm, NULL);
                if (r == NN_OK) r = nn_step(net, &opt); /* checks the step */
                if (r != NN_OK) break;
            }
            sum += batch_sum;
            count += batch_count;
            info.done = start + b;
            info.train_loss = count > 0 ? sum / count : 0;
            if (cfg->on_batch) {
                info.seconds = NN_SECONDS() - t0;
                if (cfg->on_batch(&info, cfg->user) != 0) {
                    stop = 1;
                    why = NN_STOP_CALLBACK;
                }
            }
        }
        if (r != NN_OK || stop) break;
        if (cfg->val_n > 0) {
            double vsum = 0, vcount = 0;
            size_t correct = 0;
            /* batches of at most B rows: the workspace holds them */
            r = nn__eval(net, cfg->loss, cfg->val_x, cfg->val_y, cfg->val_n,
                         &vsum, &vcount, &correct, NULL, NULL);
            if (r != NN_OK) break;
            info.has_val = 1;
            info.val_loss = vcount > 0 ? vsum / vcount : 0;
            info.val_accuracy = nn__has_classes(net)
                                    ? (double)correct / (double)cfg->val_n
                                    : nan("");
        }
        epochs_done = e + 1;
        value = last_value = info.has_val ? info.val_loss : info.train_loss;
        if (cfg->patience) {
            if (value < best_value) {
                best_value = value;
                best_epoch = e + 1;
                since_best = 0;
                have_best = 1;
                memcpy(best, net->params, net->n_params * sizeof *best);
            } else if (++since_best >= cfg->patience) {
                stop = 1;
                why = NN_STOP_EARLY;
            }
        }
        info.seconds = NN_SECONDS() - t0;
        if (cfg->on_epoch && cfg->on_epoch(&info, cfg->user) != 0 && !stop) {
            stop = 1;
            why = NN_STOP_CALLBACK;
        }
    }
    if (r == NN_OK && have_best)
        memcpy(net->params, best, net->n_params * sizeof *best);
    if (report) {
        report->stop = r != NN_OK ? NN_STOP_ERROR : why;
        report->epochs = epochs_done;
        report->best_epoch = r == NN_OK && have_best ? best_epoch : 0;
        report->best_loss = have_best ? best_value : last_value;
    }
    NN_FREE(by);
    NN_FREE(idx);
    return r;
}

/* ---- fast paths ---------------------------------------------------------
   Everything in this section makes a textbook function above faster and
   changes none of its results beyond what is stated here; the
   NN_REFERENCE build leaves the whole section out.  The functions the
   textbook code calls have its names (declared at the end of
   "integration") and take the reference functions' places.
   - Vector lanes: loops over n reals go in runs of NN__LANES with a
     fixed-length inner loop, which compilers vectorize at -O2 without
     -ffast-math.
   - The blocked product, nn__gemm: C += A.Bm with A and Bm read through
     strides, so x.W^T, dz^T.x and dz.W need no transposed copies.  A
     register tile of MR rows by NB columns of C stays in registers while
     k runs, so each element of A loaded is used NB times and each of Bm
     MR times; K is cut into chunks of at most NN__KC, so a panel of Bm
     stays in the L1 cache while every row block of A passes over it.
     Every lane of the tile is a different element of C, whose sum is
     still b (or 0, or the old dW) plus its products in order of k: the
     same sums as the reference loops, with each multiply-add fused into
     one rounding where the CPU has FMA (NN__FUSED), and bit for bit the
     reference's where nothing fuses (NN_NO_FMA).
   - Run-time ISA: on x86-64 ELF systems, with gcc and clang, the tile is
     compiled for SSE2, AVX2 + FMA and AVX-512, and nn__gemm takes the
     best the CPU has (NN__DISPATCH); AVX2 and AVX-512 give the same bits.
     So is the step check's scan.  With gcc and a build whose own target
     has no FMA, so are the small batches' rows, P1's step, the float tanh
     and Adam's step (NN__ISA_EXACT), with the same bits on every ISA.
   - Small batches: below NN__SMALL rows a tile would be mostly padding,
     so the forward pass takes each dot product in NN__LANES partial sums
     (nn__dot_lanes), which round differently from the one running sum of
     the reference, several rows of W at a time; dW and dx keep the
     reference's order, a row at a time (nn__axpy).  Rows shorter than
     NN__LANES (XOR's 2 inputs) take the reference loops' sums whatever
     the batch, four outputs at a time (nn__dense_forward_short).  The cut is the same on every ISA, so which sums a batch gets
     does not depend on the machine.
   - Vectors of the compiler: where gcc and clang evaluate float as float
     (NN__VECTORS), the small batches' rows, P1's step (nn__ahead_<isa>),
     the float tanh (nn__tanh_all) and, on x86, Adam's step
     (nn__adam_apply) go in their vector types, the same operations as the
     scalar code and so the same bits.
   - SGD without dW: nn_train's plain SGD takes each weight's step where
     its gradient is summed, and never stores dW (nn__sgd_fused).
   - Threads: with -fopenmp, products of more than NN__PAR_MIN multiply-adds
     and loops over more than NN__PAR_PARAMS parameters are split across
     threads, each writing its own part of the result, so the result is the
     same for any number of threads. */

#ifndef NN_REFERENCE
/* The calling thread's contiguous share lo .. hi-1 of n units of work: all
   of them outside an OpenMP parallel region, or when there is none. */
static void nn__share(size_t n, size_t *lo, size_t *hi) {
#ifdef _OPENMP
    const size_t t = (size_t)omp_get_thread_num();
    const size_t T = (size_t)omp_get_num_threads();
#else
    const size_t t = 0, T = 1;
#endif
    *lo = n * t / T;
    *hi = n * (t + 1) / T;
}

/* NN__INLINE: always inlined, NN__NOINLINE: never */
#if defined(__GNUC__) || defined(__clang__)
#define NN__NOINLINE __attribute__((noinline))
#define NN__INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define NN__NOINLINE __declspec(noinline)
#define NN__INLINE __forceinline
#else
#define NN__NOINLINE
#define NN__INLINE inline
#endif

/* NN__VECTORS: gcc's and clang's vector types, where float arithmetic is
   float (see "Small batches" below); NN__SHUFFLES: with
   __builtin_shufflevector (clang, gcc 12 on) */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__FLT_EVAL_METHOD__)
#if __FLT_EVAL_METHOD__ == 0
#define NN__VECTORS 1
#if defined(__clang__) || __GNUC__ >= 12
#define NN__SHUFFLES 1
#endif
#endif
#endif

/* Loops over n reals go in runs of NN__LANES = 16, with a fixed-length
   inner loop: compilers vectorize that even at -O2, where they will not
   add the extra code an arbitrary n needs.  A sum across a run keeps 16
   partial sums, lane v taking elements v, v + 16, v + 32, ...  The lanes
   are four arrays of four, p0 .. p3, each filled by its own short loop
   (nn__lanes4): a loop of four is one step of a 16-byte vector, so each
   array stays in a register.  One array of 16 would take a loop of four
   vector steps, which gcc at -O2 does not unroll, and the partial sums
   would make a round trip through memory at every step.  nn__lanes_sum
   adds the 16 pairwise. */
#define NN__LANES 16
#define NN__PAR_PARAMS 65536 /* reals before a loop over them uses threads */

/* nn__share of n reals in whole runs of NN__LANES (the last one may be
   shorter): the calling thread's reals lo .. hi-1.  nn_step, nn_zero_grad
   and the finiteness scans cut the parameters this way, so that a thread
   keeps its part of W and dW. */
static void nn__share_reals(size_t n, size_t *lo, size_t *hi) {
    nn__share((n + NN__LANES - 1) / NN__LANES, lo, hi);
    *lo *= NN__LANES;
    *hi = NN__MIN(n, *hi * NN__LANES);
}
static void nn__lanes4(nn_real *NN_RESTRICT p, const nn_real *NN_RESTRICT x,
                       const nn_real *NN_RESTRICT w) {
    for (size_t v = 0; v < 4; v++) p[v] += x[v] * w[v];
}

static NN__INLINE nn_real nn__lanes_sum(const nn_real *p0, const nn_real *p1,
                             const nn_real *p2, const nn_real *p3) {
    nn_real q[4];
    for (size_t v = 0; v < 4; v++) q[v] = (p0[v] + p2[v]) + (p1[v] + p3[v]);
    return (q[0] + q[2]) + (q[1] + q[3]);
}

/* x.w over the first n reals, n a multiple of NN__LANES, in the lanes */
static nn_real nn__dot_lanes(const nn_real *x, const nn_real *w, size_t n) {
    nn_real p0[4] = {0}, p1[4] = {0}, p2[4] = {0}, p3[4] = {0};
    for (size_t i = 0; i < n; i += NN__LANES) {
        nn__lanes4(p0, x + i, w + i);
        nn__lanes4(p1, x + i + 4, w + i + 4);
        nn__lanes4(p2, x + i + 8, w + i + 8);
        nn__lanes4(p3, x + i + 12, w + i + 12);
    }
    return nn__lanes_sum(p0, p1, p2, p3);
}

/* nn__all_finite_ref in lanes: v - v is 0 for a finite v and NaN for an
   infinity or a NaN, and a NaN survives every sum; lanes and no early
   exit let the loop vectorize. */
static int nn__finite_run(const nn_real *v, size_t count) {
    nn_real p0[4] = {0}, p1[4] = {0}, p2[4] = {0}, p3[4] = {0}, sum = 0;
    size_t k = 0;
    for (; k + NN__LANES <= count; k += NN__LANES)
        for (size_t j = 0; j < 4; j++) {
            p0[j] += v[k + j] - v[k + j];
            p1[j] += v[k + j + 4] - v[k + j + 4];
            p2[j] += v[k + j + 8] - v[k + j + 8];
            p3[j] += v[k + j + 12] - v[k + j + 12];
        }
    sum = nn__lanes_sum(p0, p1, p2, p3);
    return sum - sum == 0 && nn__all_finite_ref(v + k, count - k);
}

static int nn__all_finite(const nn_real *v, size_t count) {
    int bad = 0;
#ifdef _OPENMP
#pragma omp parallel if (count >= NN__PAR_PARAMS) reduction(+ : bad)
#endif
    {
        size_t lo, hi;
        nn__share_reals(count, &lo, &hi);
        if (lo < hi && !nn__finite_run(v + lo, hi - lo)) bad++;
    }
    return !bad;
}

/* The register tile is MR rows of C by NB columns, sized to the vector
   registers the code is compiled for: each row is two vectors, and the
   2 MR accumulators fit in the register file with room for a row of Bm.
   AVX-512 has 32 registers of 64 bytes: 8 rows of 2 x 16 floats.  SSE2
   (any x86-64) and NEON have 16 or 32 registers of 16 bytes, AVX2 16 of
   32: 4 rows of 2 vectors.  The shape changes no sum.  NN__MR x NN__NB is
   the shape for the target the build compiles for. */
#if defined(__AVX512F__)
#define NN__MR 8
#define NN__NB (128 / sizeof(nn_real))
#elif defined(__AVX__)
#define NN__MR 4
#define NN__NB (64 / sizeof(nn_real))
#else
#define NN__MR 4
#define NN__NB (32 / sizeof(nn_real))
#endif
#define NN__SMALL 8 /* batches below this take the row-at-a-time kernels */
#define NN__KC (1024 / sizeof(nn_real)) /* 256 floats or 128 doubles */
#define NN__PAR_MIN 1000000 /* multiply-adds before a product uses threads */

/* Fused multiply-adds: where the target has them (FMA3 on x86-64, and
   wherever gcc says fma is as fast as a multiply), the tile takes each
   product and its sum as one fma, rounded once, twice the arithmetic per
   instruction, by design and whatever the language mode: gcc fuses a*b+c
   by itself only in its GNU modes (-std=gnu*), clang within an expression.
   NN_NO_FMA keeps them apart; with it, and a build that does not fuse
   either (-ffp-contract=off), the tile's sums are the reference loops'
   bit for bit on every machine. */
#if !defined(NN_NO_FMA) && (defined(__FMA__) || \
                            (defined(__FP_FAST_FMAF) && defined(__FP_FAST_FMA)))
#define NN__FUSED 1
#else
#define NN__FUSED 0
#endif
#if defined(__GNUC__) || defined(__clang__)
#define NN__FMAF __builtin_fmaf /* inline even under -fno-builtin */
#define NN__FMAD __builtin_fma
#else
#define NN__FMAF fmaf
#define NN__FMAD fma
#endif

/* The ISA chosen at run time, on x86-64 with gcc and clang, unless the
   build is for AVX-512 already or says NN_NO_DISPATCH: the tile and its
   panel are compiled three times, for the build's own target (SSE2 in a
   plain `cc -O2`), for AVX2 with FMA and for AVX-512, and nn__gemm runs
   the best the CPU has, asked at every call (__builtin_cpu_supports reads
   what libgcc found at start-up: a load and a test).  So a build for any
   x86-64 trains as fast as one with -march=native.  The panel and tile
   stay on the stack, at the AVX-512 size: 41 KB per call and thread.
   Only for ELF targets (Linux, the BSDs), where it is tested: MinGW's gcc
   does not align the stack for AVX spills (GCC bug 54412), and macOS has
   not been tried; they keep the build's own ISA. */
#if !defined(NN_NO_DISPATCH) && defined(__x86_64__) && defined(__ELF__) && \
    (defined(__GNUC__) || defined(__clang__)) && !defined(__AVX512F__)
#define NN__DISPATCH 1
#define NN__MR_MAX 8
#define NN__NB_MAX (128 / sizeof(nn_real))
#else
#define NN__MR_MAX NN__MR
#define NN__NB_MAX NN__NB
#endif
/* With gcc, and a build whose own target has no FMA, the ISAs' functions
   are compiled with -ffp-contract=off (gcc's optimize attribute), so that
   what they compute but the tile's explicit fma rounds as the build's own
   code, which cannot fuse, rounds it: the same bits as nn_step and the
   exported headers (NN__ISA_EXACT).  clang has no such switch that
   reaches what it inlines, and a build for FMA fuses as it likes. */
#if defined(NN__DISPATCH) && !defined(__clang__) && !defined(__FMA__)
#define NN__ISA_EXACT 1
#define NN__ISA_TARGET(t) __attribute__((target(t), optimize("fp-contract=off")))
#elif defined(NN__DISPATCH)
#define NN__ISA_EXACT 0
#define NN__ISA_TARGET(t) __attribute__((target(t)))
#endif

/* w -= lr (g + lambda w) over P reals: nn__sgd_w in runs of NN__LANES */
static void nn__sgd_run(nn_real *NN_RESTRICT w, const nn_real *NN_RESTRICT g,
                        nn_real lr, nn_real lambda, size_t P) {
    size_t k = 0;
    if (lambda == 0)
        for (; k + NN__LANES <= P; k += NN__LANES)
            for (size_t v = 0; v < NN__LANES; v++) w[k + v] -= lr * g[k + v];
    else
        for (; k + NN__LANES <= P; k += NN__LANES)
            for (size_t v = 0; v < NN__LANES; v++)
                w[k + v] -= lr * (g[k + v] + lambda * w[k + v]);
    nn__sgd_apply_ref(w + k, g + k, lr, lambda, P - k);
}

/* The register tile: c[r][j] += sum_k a[r*ars + k*acs] * b[k*ldb + j] for
   an MR x NB block of C, its accumulators in registers.  Every loop over j
   has the fixed length NB; how the rows must be written for the
   accumulators to stay in registers depends on the compiler.  gcc at -O2
   unrolls no loop that would grow the code, and a loop over rows sends the
   accumulators through memory at every k: so for gcc the rows are written
   out.  clang unrolls the loop itself, and rows written out make its
   vectorizer shuffle them, so clang gets the loop.
   This body and the panel's below are always inlined, into one function
   per ISA (NN__GEMM_ISA), so that MR, NB and fused are constants there.
   The tile's function is never inlined: inlined into a caller, gcc has
   been seen to keep the accumulators in memory.
   With sgd = {lr, lambda}, C is W and the sum is its gradient g, from 0 as
   after nn_zero_grad; the tile then takes plain SGD's step,
   c -= lr (g + lambda c), instead of storing g (nn__sgd_fused): from its
   registers where it rounds as nn_step (step_inline: the build's own
   ISA, or NN__ISA_EXACT), else through nn__sgd_tile. */
static NN__INLINE void nn__row_mac(nn_real *NN_RESTRICT acc, nn_real a,
                                   const nn_real *NN_RESTRICT b, size_t NB,
                                   int fused) {
    if (!fused)
        for (size_t j = 0; j < NB; j++) acc[j] += a * b[j];
    else if (sizeof(nn_real) == sizeof(float))
        for (size_t j = 0; j < NB; j++)
            acc[j] = (nn_real)NN__FMAF((float)a, (float)b[j], (float)acc[j]);
    else
        for (size_t j = 0; j < NB; j++)
            acc[j] = (nn_real)NN__FMAD((double)a, (double)b[j], (double)acc[j]);
}

/* The SGD step of a tile compiled for another ISA than the build's
   (unless NN__ISA_EXACT), and of the edges: nn__sgd_run, a row of cols at
   a time (g in rows of ldg).  Never inlined, so that it stays compiled
   for the build's own target: inlined into a tile for AVX2 or AVX-512,
   gcc (C++ and GNU modes) and clang would fuse the multiply and
   subtraction that nn_step, compiled for the build's target, may not. */
NN__NOINLINE static void nn__sgd_tile(nn_real *c, size_t ldc, const nn_real *g,
                                      size_t ldg, size_t rows, size_t cols,
                                      const nn_real *sgd) {
    for (size_t r = 0; r < rows; r++)
        nn__sgd_run(c + r * ldc, g + r * ldg, sgd[0], sgd[1], cols);
}

static NN__INLINE void nn__tile_body(size_t MR, size_t NB, int fused,
                                     int step_inline,
                                     nn_real *NN_RESTRICT c, size_t ldc,
                                     const nn_real *NN_RESTRICT a, size_t ars,
                                     size_t acs, const nn_real *NN_RESTRICT b,
                                     size_t ldb, size_t kc, const nn_real *sgd) {
    nn_real acc[NN__MR_MAX][NN__NB_MAX]; /* MR rows of NB */
    for (size_t r = 0; r < MR; r++) /* the choice out of the loop: -O2 */
        if (sgd) /* keeps a loop with a choice inside scalar */
            memset(acc[r], 0, NB * sizeof *c);
        else
            memcpy(acc[r], c + r * ldc, NB * sizeof *c);
    for (size_t k = 0; k < kc; k++) {
        const nn_real *ak = a + k * acs, *bk = b + k * ldb;
#if defined(__clang__)
        for (size_t r = 0; r < MR; r++)
            nn__row_mac(acc[r], ak[r * ars], bk, NB, fused);
#else
        nn__row_mac(acc[0], ak[0], bk, NB, fused);
        nn__row_mac(acc[1], ak[ars], bk, NB, fused);
        nn__row_mac(acc[2], ak[2 * ars], bk, NB, fused);
        nn__row_mac(acc[3], ak[3 * ars], bk, NB, fused);
        if (MR == 8) {
            nn__row_mac(acc[4], ak[4 * ars], bk, NB, fused);
            nn__row_mac(acc[5], ak[5 * ars], bk, NB, fused);
            nn__row_mac(acc[6], ak[6 * ars], bk, NB, fused);
            nn__row_mac(acc[7], ak[7 * ars], bk, NB, fused);
        }
#endif
    }
    if (sgd && !step_inline) {
        nn__sgd_tile(c, ldc, acc[0], NN__NB_MAX, MR, NB, sgd);
        return;
    }
    /* nn__sgd_w, a row at a time: nn__sgd_run's runs of 16 would leave
       SSE2's rows of 8 floats wholly to its scalar tail */
    for (size_t r = 0; r < MR; r++) {
        nn_real *cr = c + r * ldc;
        if (!sgd)
            memcpy(cr, acc[r], NB * sizeof *c);
        else if (sgd[1] == 0)
            for (size_t j = 0; j < NB; j++) cr[j] -= sgd[0] * acc[r][j];
        else
            for (size_t j = 0; j < NB; j++)
                cr[j] -= sgd[0] * (acc[r][j] + sgd[1] * cr[j]);
    }
}

typedef void (*nn__tile_fn)(nn_real *NN_RESTRICT c, size_t ldc,
                            const nn_real *NN_RESTRICT a, size_t ars,
                            size_t acs, const nn_real *NN_RESTRICT b,
                            size_t ldb, size_t kc, const nn_real *sgd);

#ifdef NN__SHUFFLES
/* The 4 x 4 block at s (rows lds apart) transposed, in four vectors and
   eight shuffles: c[j] holds column j */
typedef nn_real nn__v4 __attribute__((vector_size(4 * sizeof(nn_real))));
static NN__INLINE void nn__columns4(nn__v4 *c, const nn_real *s, size_t lds) {
    nn__v4 r0, r1, r2, r3, t0, t1, t2, t3;
    memcpy(&r0, s, sizeof r0);
    memcpy(&r1, s + lds, sizeof r1);
    memcpy(&r2, s + 2 * lds, sizeof r2);
    memcpy(&r3, s + 3 * lds, sizeof r3);
    t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5);
    t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
    t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    c[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    c[1] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    c[2] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    c[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

/* The same block written transposed at d (rows ldd apart): the panel's
   copy of W^T, which the scalar loop took an element at a time (12% of
   P2 at -O2) */
static NN__INLINE void nn__transpose4(nn_real *NN_RESTRICT d, size_t ldd,
                                      const nn_real *NN_RESTRICT s,
                                      size_t lds) {
    nn__v4 c[4];
    nn__columns4(c, s, lds);
    for (size_t j = 0; j < 4; j++) memcpy(d + j * ldd, &c[j], sizeof c[j]);
}
#endif

/* One column panel of C += A.Bm, in tiles of MR x NB: columns n0 ..
   n0+NB-1 (fewer at the right edge), rows m_lo .. M-1.  A[m][k] is
   a[m*ars + k*acs], Bm[k][n] is b[k*brs + n*bcs], C[m][n] is c[m*ldc + n].
   A is read where it lies; Bm too when its rows are contiguous.
   Otherwise, and at the edges, the part a tile needs is copied, padded
   with zeros, into bp, ap and cp.  sgd as in the tile, with K in one
   chunk. */
static NN__INLINE void nn__gemm_panel_body(
    size_t MR, size_t NB, nn__tile_fn tile, nn_real *c, size_t ldc,
    const nn_real *a, size_t ars, size_t acs, const nn_real *b, size_t brs,
    size_t bcs, size_t m_lo, size_t M, size_t N, size_t K, size_t n0,
    const nn_real *sgd) {
    nn_real bp[NN__KC * NN__NB_MAX], ap[NN__KC * NN__MR_MAX];
    nn_real cp[NN__MR_MAX * NN__NB_MAX];
    const size_t nb = N - n0 < NB ? N - n0 : NB;
    /* K in chunks of at most NN__KC, all of about the same length */
    const size_t chunks = (K + NN__KC - 1) / NN__KC;
    const size_t step = (K + chunks - 1) / chunks;
    for (size_t k0 = 0; k0 < K; k0 += step) {
        const size_t kc = K - k0 < step ? K - k0 : step;
        const nn_real *bk = b + k0 * brs + n0 * bcs;
        size_t ldb = brs;
        if (bcs != 1 || nb < NB) {
            ldb = NB;
            if (bcs == 1) /* copy along whichever index is contiguous */
                for (size_t k = 0; k < kc; k++)
                    for (size_t j = 0; j < NB; j++)
                        bp[k * NB + j] = j < nb ? bk[k * brs + j] : 0;
            else if (nb == NB) { /* W^T: 4 contiguous k at a time */
                size_t k4 = 0;
#ifdef NN__SHUFFLES
                for (; brs == 1 && k4 + 4 <= kc; k4 += 4)
                    for (size_t j = 0; j < NB; j += 4)
                        nn__transpose4(bp + k4 * NB + j, NB, bk + k4 + j * bcs,
                                       bcs);
#endif
                for (; k4 + 4 <= kc; k4 += 4)
                    for (size_t j = 0; j < NB; j++)
                        for (size_t k = k4; k < k4 + 4; k++)
                            bp[k * NB + j] = bk[k * brs + j * bcs];
                for (size_t j = 0; j < NB; j++)
                    for (size_t k = k4; k < kc; k++)
                        bp[k * NB + j] = bk[k * brs + j * bcs];
            } else
                for (size_t j = 0; j < NB; j++)
                    for (size_t k = 0; k < kc; k++)
                        bp[k * NB + j] = j < nb ? bk[k * brs + j * bcs] : 0;
            bk = bp;
        }
        for (size_t m0 = m_lo; m0 < M; m0 += MR) {
            const size_t mr = M - m0 < MR ? M - m0 : MR;
            const nn_real *ak = a + m0 * ars + k0 * acs;
            if (mr == MR && nb == NB) {
                tile(c + m0 * ldc + n0, ldc, ak, ars, acs, bk, ldb, kc, sgd);
                continue;
            }
            /* an edge: through a full tile, then back; A is copied only
               when it has fewer than MR rows left */
            for (size_t r = 0; r < MR; r++)
                for (size_t j = 0; j < NB; j++)
                    cp[r * NB + j] = r < mr && j < nb && !sgd
                                         ? c[(m0 + r) * ldc + n0 + j]
                                         : 0;
            if (mr == MR) {
                tile(cp, NB, ak, ars, acs, bk, ldb, kc, NULL);
            } else {
                for (size_t k = 0; k < kc; k++)
                    for (size_t r = 0; r < MR; r++)
                        ap[r * kc + k] = r < mr ? ak[r * ars + k * acs] : 0;
                tile(cp, NB, ap, kc, 1, bk, ldb, kc, NULL);
            }
            if (sgd)
                nn__sgd_tile(c + m0 * ldc + n0, ldc, cp, NB, mr, nb, sgd);
            else
                for (size_t r = 0; r < mr; r++)
                    memcpy(c + (m0 + r) * ldc + n0, cp + r * NB, nb * sizeof *c);
        }
    }
}

/* The largest |x| over n reals, or HUGE_VAL when one is not finite; the
   least x in *least.  In NN__LANES partial results and without an early
   exit, so that the loop vectorizes: x - x is 0 for a finite x and NaN
   otherwise, and a NaN survives the sum.  Compiled for each ISA with the
   tiles (NN__GEMM_ISA): maxima, minima and sums of zeros round alike on
   every one. */
static NN__INLINE double nn__abs_max_body(const nn_real *x, size_t n,
                                          nn_real *least) {
    const size_t full = n / NN__LANES * NN__LANES;
    nn_real top[NN__LANES] = {0}, low[NN__LANES] = {0}, bad[NN__LANES] = {0};
    nn_real t = 0, lo = 0, s = 0;
    size_t i = 0;
    for (; i < full; i += NN__LANES)
        for (size_t j = 0; j < NN__LANES; j++) {
            const nn_real v = x[i + j], a = v < 0 ? -v : v;
            top[j] = a > top[j] ? a : top[j];
            low[j] = v < low[j] ? v : low[j];
            bad[j] += v - v;
        }
    for (; i < n; i++) {
        const nn_real v = x[i], a = v < 0 ? -v : v;
        t = a > t ? a : t;
        lo = v < lo ? v : lo;
        s += v - v;
    }
    for (size_t j = 0; j < NN__LANES; j++) {
        t = top[j] > t ? top[j] : t;
        lo = low[j] < lo ? low[j] : lo;
        s += bad[j];
    }
    if (least) *least = lo;
    return s == 0 ? (double)t : HUGE_VAL;
}

/* The tile and panel for one ISA: nn__tile_<isa> and nn__panel_<isa>,
   compiled for `target` (empty: the build's own), with the step check's
   scan nn__abs_max_<isa>, and nn__gemm_<isa>, which says what nn__gemm
   and nn__abs_max need of them. */
typedef void (*nn__panel_fn)(nn_real *c, size_t ldc, const nn_real *a,
                             size_t ars, size_t acs, const nn_real *b,
                             size_t brs, size_t bcs, size_t m_lo, size_t M,
                             size_t N, size_t K, size_t n0, const nn_real *sgd);
typedef struct nn__gemm_isa {
    nn__panel_fn panel;
    size_t MR, NB;
    double (*abs_max)(const nn_real *x, size_t n, nn_real *least);
} nn__gemm_isa;
#define NN__GEMM_ISA(isa, target, MR, NB, fused, step_inline)                 \
    NN__NOINLINE target static void nn__tile_##isa(                           \
        nn_real *NN_RESTRICT c, size_t ldc, const nn_real *NN_RESTRICT a,     \
        size_t ars, size_t acs, const nn_real *NN_RESTRICT b, size_t ldb,     \
        size_t kc, const nn_real *sgd) {                                      \
        nn__tile_body(MR, NB, fused, step_inline, c, ldc, a, ars, acs, b,     \
                      ldb, kc, sgd);                                          \
    }                                                                         \
    target static void nn__panel_##isa(                                       \
        nn_real *c, size_t ldc, const nn_real *a, size_t ars, size_t acs,     \
        const nn_real *b, size_t brs, size_t bcs, size_t m_lo, size_t M,      \
        size_t N, size_t K, size_t n0, const nn_real *sgd) {                  \
        nn__gemm_panel_body(MR, NB, nn__tile_##isa, c, ldc, a, ars, acs, b,   \
                            brs, bcs, m_lo, M, N, K, n0, sgd);                \
    }                                                                         \
    target static double nn__abs_max_##isa(const nn_real *x, size_t n,        \
                                           nn_real *least) {                  \
        return nn__abs_max_body(x, n, least);                                 \
    }                                                                         \
    static const nn__gemm_isa nn__gemm_##isa = {nn__panel_##isa, MR, NB,      \
                                                nn__abs_max_##isa};
NN__GEMM_ISA(own, , NN__MR, NN__NB, NN__FUSED, 1)
#ifdef NN__DISPATCH
#ifdef NN_NO_FMA
#define NN__FUSED_ISA 0
#else
#define NN__FUSED_ISA 1
#endif
NN__GEMM_ISA(avx2, NN__ISA_TARGET("avx2,fma"), 4, 64 / sizeof(nn_real),
             NN__FUSED_ISA, NN__ISA_EXACT)
NN__GEMM_ISA(avx512, NN__ISA_TARGET("avx512f,fma"), 8, 128 / sizeof(nn_real),
             NN__FUSED_ISA, NN__ISA_EXACT)
/* the best ISA nn__gemm may take: 2 AVX-512, 1 AVX2, 0 the build's own;
   test_kernels lowers it to run each */
static int nn__isa_max = 2;
#endif

#ifdef NN__DISPATCH
/* the ISA to run: 2 AVX-512, 1 AVX2 + FMA, 0 the build's own */
static int nn__isa(void) {
    __builtin_cpu_init(); /* in case a constructor runs before libgcc's */
    if (nn__isa_max >= 2 && __builtin_cpu_supports("avx512f")) return 2;
    if (nn__isa_max >= 1 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return 1;
    return 0;
}
#endif

static const nn__gemm_isa *nn__gemm_choose(void) {
#ifdef NN__DISPATCH
    switch (nn__isa()) {
    case 2: return &nn__gemm_avx512;
    case 1: return &nn__gemm_avx2;
    default: break;
    }
#endif
    return &nn__gemm_own;
}

/* C (M x N) += A (M x K) . Bm (K x N), strides as in nn__gemm_panel_body.
   With threads, each takes a contiguous share of the rows of C (by_rows)
   or of its column panels.  The callers choose so that a thread always
   gets the same rows of W: forward splits z's columns (W's rows), dW its
   rows, and nn_step and nn_zero_grad split the parameters the same way, so
   each core keeps its part of W and dW in its own cache. */
static void nn__gemm(nn_real *c, size_t ldc, const nn_real *a, size_t ars,
                     size_t acs, const nn_real *b, size_t brs, size_t bcs,
                     size_t M, size_t N, size_t K, int by_rows,
                     const nn_real *sgd) {
    const nn__gemm_isa g = *nn__gemm_choose();
    const size_t panels = (N + g.NB - 1) / g.NB;
    NN_ASSERT(!sgd || K <= NN__KC);
#ifdef _OPENMP
    if ((double)M * (double)N * (double)K >= NN__PAR_MIN) {
#pragma omp parallel
        {
            size_t lo, hi;
            if (by_rows) {
                nn__share((M + g.MR - 1) / g.MR, &lo, &hi);
                for (size_t p = 0; p < panels && lo < hi; p++)
                    g.panel(c, ldc, a, ars, acs, b, brs, bcs, lo * g.MR,
                            NN__MIN(M, hi * g.MR), N, K, p * g.NB, sgd);
            } else {
                nn__share(panels, &lo, &hi);
                for (size_t p = lo; p < hi; p++)
                    g.panel(c, ldc, a, ars, acs, b, brs, bcs, 0, M, N, K,
                            p * g.NB, sgd);
            }
        }
        return;
    }
#endif
    (void)by_rows;
    for (size_t p = 0; p < panels; p++)
        g.panel(c, ldc, a, ars, acs, b, brs, bcs, 0, M, N, K, p * g.NB, sgd);
}

/* y += alpha x over n reals, in runs of NN__LANES: the same sums as the
   plain loop */
static void nn__axpy(nn_real *NN_RESTRICT y, nn_real alpha,
                     const nn_real *NN_RESTRICT x, size_t n) {
    size_t i = 0;
    for (; i + NN__LANES <= n; i += NN__LANES)
        for (size_t v = 0; v < NN__LANES; v++) y[i + v] += alpha * x[i + v];
    for (; i < n; i++) y[i] += alpha * x[i];
}

/* Small batches, one sample at a time (what nn_predict on one sample
   runs): each dot product alone waits on the adder's latency at every
   step, so the forward pass takes several rows of W at once against the
   same x, each row's sums its own and in the order of the one-row kernels
   (bit for bit the same z): XR rows at a time, which keep 8 vectors of
   partial sums, half the vector registers of SSE2 and AVX2 (in double on
   SSE2 that is one row).  The vectors are gcc's and clang's
   vector types, because gcc -O3 vectorizes a plain loop over several
   rows' 16 lanes across iterations, in shuffles that made the pass ten
   times slower; other compilers take the rows one at a time.  Only where
   float arithmetic is float (FLT_EVAL_METHOD 0), as vectors' always is,
   so that they sum what the scalar code sums: s390x's gcc evaluates float
   expressions in double, and takes the scalar code.  (Rows shorter than
   the lanes keep the reference loops' sums, four outputs to a vector:
   nn__dense_forward_short; eight of their running sums at a time in
   scalars measured slower at -O2 and at -O3 -march=native.) */
/* The vector kernels for one ISA: the rows kernel, P1's step with the next
   sample's dot product (see nn__sgd_fused_ahead), the float tanh and
   Adam's step, and how many reals the first and the tanh take a call */
typedef void (*nn__rows_fn)(nn_real *NN_RESTRICT z,
                            const nn_real *NN_RESTRICT x,
                            const nn_real *NN_RESTRICT W,
                            const nn_real *NN_RESTRICT b, size_t n_in,
                            size_t n);
typedef nn_real (*nn__ahead_fn)(nn_real *NN_RESTRICT w, nn_real dz,
                                const nn_real *NN_RESTRICT x,
                                const nn_real *NN_RESTRICT xn, size_t n,
                                nn_real lr);
typedef struct nn__lanes_isa {
    nn__rows_fn rows;
    nn__ahead_fn ahead;
    size_t XR;
    void (*tanh)(float *a, const float *z); /* TV floats of nn__tanh_all */
    size_t TV;
    /* nn__adam_apply on the first of n parameters, or NULL */
    size_t (*adam)(const nn__opt_k *c, nn_real *w, const nn_real *g,
                   nn_real *m, nn_real *v, size_t n);
} nn__lanes_isa;

#ifdef NN__VECTORS
/* a loop of constant length unrolled, so that its array stays in
   registers (gcc -O2 unrolls none of 8) */
#define NN__UNROLL _Pragma("GCC unroll 8")
#if defined(__AVX512F__)
#define NN__VBYTES 64
#elif defined(__AVX__)
#define NN__VBYTES 32
#else
#define NN__VBYTES 16
#endif

/* The rows kernel's sums, XR rows of 16 lanes, in nn__lanes_sum's tree:
   that adds the upper half of the lanes to the lower half, and again,
   down to one.  Halves of whole vectors are added in place; within a
   vector, two rows' vectors u and w become one, X + Y, where X holds the
   lower halves of u and w and Y their upper halves, so that each add
   serves two rows: after log2 VN such steps lane r holds row r's sum, in
   about a vector add and two shuffles a row, where a row alone took a
   dozen scalar operations.  The same adds of the same pairs as
   nn__lanes_sum, so the same bits.  NN__HALVE_<VB>(isa, acc, CU) is the
   step whose halves are CU 32-bit units (a double takes two), in gcc's
   and clang's shuffles; NN__IX<N>(c, o) lists a step's N indices into
   the units of u then w: the even chunks of c units (o = 0, X) or the
   odd ones (o = c, Y). */
#define NN__IX(j, c, o) (2 * ((j) / (c)) * (c) + (j) % (c) + (o))
#define NN__IX4(c, o) \
    NN__IX(0, c, o), NN__IX(1, c, o), NN__IX(2, c, o), NN__IX(3, c, o)
#define NN__IX8(c, o) NN__IX4(c, o), \
    NN__IX(4, c, o), NN__IX(5, c, o), NN__IX(6, c, o), NN__IX(7, c, o)
#define NN__IX16(c, o) NN__IX8(c, o), \
    NN__IX(8, c, o), NN__IX(9, c, o), NN__IX(10, c, o), NN__IX(11, c, o), \
    NN__IX(12, c, o), NN__IX(13, c, o), NN__IX(14, c, o), NN__IX(15, c, o)
#ifdef NN__SHUFFLES
#define NN__SHUFFLE(T, u, w, IX, c, o) __builtin_shufflevector(u, w, IX(c, o))
#else /* gcc before 12 has only __builtin_shuffle, with a mask vector */
#define NN__SHUFFLE(T, u, w, IX, c, o) \
    __builtin_shuffle(u, w, __extension__(nn__units_##T){IX(c, o)})
#endif
#define NN__HALVE(isa, acc, CU, IX)                                           \
    if ((CU) * 4 >= sizeof(nn_real)) { /* halves of at least one real */     \
        NN__UNROLL                                                            \
        for (size_t r = 0; r < (nv + 1) / 2; r++) {                           \
            const nn__units_##isa u = (nn__units_##isa)acc[2 * r][0];         \
            const nn__units_##isa w =                                         \
                (nn__units_##isa)acc[nv > 1 ? 2 * r + 1 : 2 * r][0];          \
            acc[r][0] =                                                       \
                (nn__vec_##isa)NN__SHUFFLE(isa, u, w, IX, CU, 0) +            \
                (nn__vec_##isa)NN__SHUFFLE(isa, u, w, IX, CU, CU);            \
        }                                                                     \
        nv = (nv + 1) / 2;                                                    \
    }
#define NN__HALVE_64(isa, acc, CU) NN__HALVE(isa, acc, CU, NN__IX16)
#define NN__HALVE_32(isa, acc, CU) NN__HALVE_32_##CU(isa, acc)
#define NN__HALVE_32_8(isa, acc)
#define NN__HALVE_32_4(isa, acc) NN__HALVE(isa, acc, 4, NN__IX8)
#define NN__HALVE_32_2(isa, acc) NN__HALVE(isa, acc, 2, NN__IX8)
#define NN__HALVE_32_1(isa, acc) NN__HALVE(isa, acc, 1, NN__IX8)
#define NN__HALVE_16(isa, acc, CU) NN__HALVE_16_##CU(isa, acc)
#define NN__HALVE_16_8(isa, acc)
#define NN__HALVE_16_4(isa, acc)
#define NN__HALVE_16_2(isa, acc) NN__HALVE(isa, acc, 2, NN__IX4)
#define NN__HALVE_16_1(isa, acc) NN__HALVE(isa, acc, 1, NN__IX4)

/* Adam's step in vectors of VB bytes: nn__adam_one's operations in its
   order, a vector of parameters at a time.  Its square root cannot be
   sqrtf or sqrt, which may set errno, so that gcc and clang will not
   vectorize a loop that calls them; x86's vector square roots, which gcc
   and clang reach by the same builtins (but AVX-512's), are correctly
   rounded, as sqrtf and sqrt are: the same bits.  nn__adam_<isa> returns
   how many of the n parameters it took (whole vectors); other ISAs keep
   the scalar loop. */
#if defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__))
#define NN__SQRTF_16(x) __builtin_ia32_sqrtps(x)
#define NN__SQRTF_32(x) __builtin_ia32_sqrtps256(x)
#define NN__SQRTD_16(x) __builtin_ia32_sqrtpd(x)
#define NN__SQRTD_32(x) __builtin_ia32_sqrtpd256(x)
#ifdef __clang__
#define NN__SQRTF_64(x) __builtin_ia32_sqrtps512(x, 4)
#define NN__SQRTD_64(x) __builtin_ia32_sqrtpd512(x, 4)
#else
#define NN__SQRTF_64(x) __builtin_ia32_sqrtps512_mask(x, x, -1, 4)
#define NN__SQRTD_64(x) __builtin_ia32_sqrtpd512_mask(x, x, -1, 4)
#endif
#define NN__ADAM_ISA(isa, VB, target)                                         \
    typedef double nn__dv_##isa __attribute__((vector_size(VB)));             \
    static target nn__vec_##isa nn__sqrt_##isa(nn__vec_##isa x) {             \
        if (sizeof(nn_real) == sizeof(float))                                 \
            return (nn__vec_##isa)NN__SQRTF_##VB((nn__fv_##isa)x);            \
        return (nn__vec_##isa)NN__SQRTD_##VB((nn__dv_##isa)x);                \
    }                                                                         \
    static target size_t nn__adam_##isa(const nn__opt_k *c, nn_real *w,       \
                                        const nn_real *g, nn_real *m,         \
                                        nn_real *v, size_t n) {               \
        enum { VN = VB / sizeof(nn_real) };                                   \
        size_t i = 0;                                                         \
        for (; i + VN <= n; i += VN) {                                        \
            nn__vec_##isa wv, gv, mv, vv;                                     \
            memcpy(&wv, w + i, sizeof wv);                                    \
            memcpy(&gv, g + i, sizeof gv);                                    \
            memcpy(&mv, m + i, sizeof mv);                                    \
            memcpy(&vv, v + i, sizeof vv);                                    \
            gv = gv + c->l2 * wv;                                             \
            if (c->decoupled) wv *= c->shrink;                                \
            mv = c->b1 * mv + c->c1 * gv;                                     \
            vv = c->b2 * vv + c->c2 * gv * gv;                                \
            wv = wv - c->step * mv / (nn__sqrt_##isa(vv) / c->root2 + c->eps);\
            memcpy(w + i, &wv, sizeof wv);                                    \
            memcpy(m + i, &mv, sizeof mv);                                    \
            memcpy(v + i, &vv, sizeof vv);                                    \
        }                                                                     \
        return i;                                                             \
    }
#define NN__ADAM_FN(isa) nn__adam_##isa
#else
#define NN__ADAM_ISA(isa, VB, target)
#define NN__ADAM_FN(isa) NULL
#endif

/* The lanes in vectors of VB bytes, for one ISA (isa; target empty for
   the build's own, whose vectors are NN__VBYTES): VN reals a vector, VK
   vectors a run of NN__LANES, XR = VN / 2 rows at a time.
   - nn__dot_lanes_rows_<isa>: z_r = b_r + x.w_r for XR rows of W (w_r =
     W + r n_in) over the first n reals, n a multiple of NN__LANES: lane v
     of row r is element v % VN of acc[r][v / VN], added up by the
     NN__HALVE steps, and the XR sums leave as one vector, with b's added
     (a store of one vector read back a lane at a time stalled the loads).
   - nn__ahead_<isa>: nn__sgd_fused_ahead's runs without decay, w -= lr
     (0 + dz x) and the lanes of xn.w, summed by nn__lanes_sum, which is
     always inlined: an earlier form that called it with AVX registers
     live left their upper halves dirty for libm's SSE code after it (a
     10-32-32-1 tanh net took 10 us at -O2 -march=native).
   - nn__tanhf_<isa>: nn__tanhf on VB / 4 floats, the same operations in
     vectors, so the same bits (nn__tanh_all).
   - nn__adam_<isa>: Adam's step on x86 (NN__ADAM_ISA, above).
   - nn__lanes_<isa>: the four (no Adam elsewhere), XR and the floats a
     tanh takes. */
#define NN__LANES_ISA(isa, VB, target) NN__LANES_ISA_(isa, VB, target)
#define NN__LANES_ISA_(isa, VB, target)                                       \
    typedef nn_real nn__vec_##isa __attribute__((vector_size(VB)));           \
    typedef uint32_t nn__units_##isa __attribute__((vector_size(VB)));        \
    typedef nn_real nn__half_##isa __attribute__((vector_size(VB / 2)));      \
    static target void nn__dot_lanes_rows_##isa(                              \
        nn_real *NN_RESTRICT z, const nn_real *NN_RESTRICT x,                 \
        const nn_real *NN_RESTRICT W, const nn_real *NN_RESTRICT b,           \
        size_t n_in, size_t n) {                                              \
        enum { VN = VB / sizeof(nn_real), VK = NN__LANES / VN, XR = VN / 2 }; \
        nn__vec_##isa acc[XR][VK];                                            \
        nn__half_##isa dot, bias; /* lane r: row r */                         \
        size_t nv = XR; /* the vectors of sums left, in the tree */           \
        memset(acc, 0, sizeof acc);                                           \
        for (size_t i = 0; i < n; i += NN__LANES) {                           \
            NN__UNROLL                                                        \
            for (size_t k = 0; k < VK; k++) {                                 \
                nn__vec_##isa xv, wv;                                         \
                memcpy(&xv, x + i + k * VN, sizeof xv);                       \
                NN__UNROLL                                                    \
                for (size_t r = 0; r < XR; r++) {                             \
                    memcpy(&wv, W + r * n_in + i + k * VN, sizeof wv);        \
                    acc[r][k] += xv * wv;                                     \
                }                                                             \
            }                                                                 \
        }                                                                     \
        NN__UNROLL                                                            \
        for (size_t h = VK / 2; h >= 1; h /= 2) /* halves of whole vectors */ \
            NN__UNROLL                                                        \
            for (size_t r = 0; r < XR; r++)                                   \
                NN__UNROLL                                                    \
                for (size_t k = 0; k < h; k++) acc[r][k] += acc[r][k + h];    \
        NN__HALVE_##VB(isa, acc, 8)                                           \
        NN__HALVE_##VB(isa, acc, 4)                                           \
        NN__HALVE_##VB(isa, acc, 2)                                           \
        NN__HALVE_##VB(isa, acc, 1)                                           \
        memcpy(&dot, acc, sizeof dot);                                        \
        memcpy(&bias, b, sizeof bias);                                        \
        dot += bias;                                                          \
        memcpy(z, &dot, sizeof dot);                                          \
    }                                                                         \
    static target nn_real nn__ahead_##isa(                                    \
        nn_real *NN_RESTRICT w, nn_real dz, const nn_real *NN_RESTRICT x,     \
        const nn_real *NN_RESTRICT xn, size_t n, nn_real lr) {                \
        enum { VN = VB / sizeof(nn_real), VK = NN__LANES / VN };              \
        nn__vec_##isa acc[VK];                                                \
        nn_real p[NN__LANES];                                                 \
        memset(acc, 0, sizeof acc);                                           \
        for (size_t i = 0; i < n; i += NN__LANES) {                           \
            NN__UNROLL                                                        \
            for (size_t k = 0; k < VK; k++) {                                 \
                nn__vec_##isa wv, xv, xnv;                                    \
                memcpy(&wv, w + i + k * VN, sizeof wv);                       \
                memcpy(&xv, x + i + k * VN, sizeof xv);                       \
                memcpy(&xnv, xn + i + k * VN, sizeof xnv);                    \
                wv -= lr * ((nn_real)0 + dz * xv);                            \
                acc[k] += xnv * wv;                                           \
                memcpy(w + i + k * VN, &wv, sizeof wv);                       \
            }                                                                 \
        }                                                                     \
        memcpy(p, acc, sizeof p);                                             \
        return nn__lanes_sum(p, p + 4, p + 8, p + 12);                        \
    }                                                                         \
    typedef float nn__fv_##isa __attribute__((vector_size(VB)));              \
    typedef int32_t nn__iv_##isa __attribute__((vector_size(VB)));            \
    static target void nn__tanhf_##isa(float *a, const float *z) {            \
        nn__fv_##isa x, y, r, q, p2, m, t;                                    \
        nn__units_##isa xb, ab, tb, mask;                                     \
        nn__iv_##isa k;                                                       \
        memcpy(&x, z, sizeof x);                                              \
        xb = (nn__units_##isa)x;                                              \
        ab = xb & 0x7fffffffu;                                                \
        mask = (nn__units_##isa)(ab > 0x422ea8f6u);                           \
        ab = (ab & ~mask) | (mask & 0x422ea8f6u);                             \
        y = (nn__fv_##isa)ab * -2.0f;                                         \
        k = __builtin_convertvector(y * 1.44269504f - 0.5f, nn__iv_##isa);    \
        r = (y - __builtin_convertvector(k, nn__fv_##isa) * 0.693359375f) +   \
            __builtin_convertvector(k, nn__fv_##isa) * 2.12194440e-4f;        \
        q = r * (1.0f + r * (0.5f + r * (1.66666672e-1f + r * (4.16666679e-2f \
            + r * (8.33333377e-3f + r * (1.38888892e-3f                       \
            + r * 1.98412701e-4f))))));                                       \
        p2 = (nn__fv_##isa)((nn__units_##isa)(k + 127) << 23);                \
        m = p2 * q + (p2 - 1.0f);                                             \
        t = m / (2.0f + m);                                                   \
        tb = ((nn__units_##isa)t & 0x7fffffffu) | (xb & 0x80000000u);         \
        mask = (nn__units_##isa)((xb & 0x7fffffffu) > 0x7f800000u);           \
        tb = (tb & ~mask) | (xb & mask);                                      \
        memcpy(a, &tb, sizeof tb);                                            \
    }                                                                         \
    NN__ADAM_ISA(isa, VB, target)                                             \
    static const nn__lanes_isa nn__lanes_##isa = {                            \
        nn__dot_lanes_rows_##isa, nn__ahead_##isa, VB / sizeof(nn_real) / 2,  \
        nn__tanhf_##isa, VB / sizeof(float), NN__ADAM_FN(isa)};
NN__LANES_ISA(own, NN__VBYTES, )

/* For each ISA, as the products of nn__gemm, where they round as the
   build's own code (NN__ISA_EXACT): their sums must be the exported
   headers' and nn_step's bit for bit. */
#ifdef NN__DISPATCH
#if NN__ISA_EXACT
#define NN__DISPATCH_ROWS 1
NN__LANES_ISA(avx2, 32, NN__ISA_TARGET("avx2,fma"))
NN__LANES_ISA(avx512, 64, NN__ISA_TARGET("avx512f,fma"))
#endif
#endif
#else
static void nn__dot_lanes_rows_own(nn_real *NN_RESTRICT z,
                                   const nn_real *NN_RESTRICT x,
                                   const nn_real *NN_RESTRICT W,
                                   const nn_real *NN_RESTRICT b, size_t n_in,
                                   size_t n) {
    (void)n_in;
    z[0] = b[0] + nn__dot_lanes(x, W, n);
}

static void nn__ahead4(nn_real *NN_RESTRICT p, nn_real *NN_RESTRICT w,
                       const nn_real *NN_RESTRICT x,
                       const nn_real *NN_RESTRICT xn, nn_real dz,
                       nn_real lr) { /* four lanes, without decay */
    for (size_t v = 0; v < 4; v++) {
        w[v] -= lr * (nn_real)(0 + dz * x[v]);
        p[v] += xn[v] * w[v];
    }
}

/* nn__ahead_<isa> (with the rows kernels) in arrays of four */
static nn_real nn__ahead_own(nn_real *NN_RESTRICT w, nn_real dz,
                             const nn_real *NN_RESTRICT x,
                             const nn_real *NN_RESTRICT xn, size_t n,
                             nn_real lr) {
    nn_real p0[4] = {0}, p1[4] = {0}, p2[4] = {0}, p3[4] = {0};
    for (size_t i = 0; i < n; i += NN__LANES) {
        nn__ahead4(p0, w + i, x + i, xn + i, dz, lr);
        nn__ahead4(p1, w + i + 4, x + i + 4, xn + i + 4, dz, lr);
        nn__ahead4(p2, w + i + 8, x + i + 8, xn + i + 8, dz, lr);
        nn__ahead4(p3, w + i + 12, x + i + 12, xn + i + 12, dz, lr);
    }
    return nn__lanes_sum(p0, p1, p2, p3);
}

static const nn__lanes_isa nn__lanes_own = {nn__dot_lanes_rows_own,
                                            nn__ahead_own, 1, NULL, 0, NULL};
#endif

static const nn__lanes_isa *nn__lanes_choose(void) {
#ifdef NN__DISPATCH_ROWS
    switch (nn__isa()) {
    case 2: return &nn__lanes_avx512;
    case 1: return &nn__lanes_avx2;
    default: break;
    }
#endif
    return &nn__lanes_own;
}

/* z = x.W^T + b for small batches (see above), XR rows at a time by
   rows, then one at a time */
static void nn__dense_forward_lanes(nn_real *NN_RESTRICT z,
                                    const nn_real *NN_RESTRICT x,
                                    const nn_real *NN_RESTRICT W,
                                    const nn_real *NN_RESTRICT b, size_t B,
                                    size_t n_in, size_t n_out) {
    const size_t n_full = n_in / NN__LANES * NN__LANES;
    const nn__lanes_isa *L = nn__lanes_choose();
    const size_t XR = L->XR;
    for (size_t s = 0; s < B; s++) {
        const nn_real *xs = x + s * n_in;
        nn_real *zs = z + s * n_out;
        size_t o = 0;
        for (; o + XR <= n_out; o += XR) {
            const nn_real *Wo = W + o * n_in;
            L->rows(zs + o, xs, Wo, b + o, n_in, n_full);
            for (size_t r = 0; n_full < n_in && r < XR; r++) {
                nn_real sum = zs[o + r];
                for (size_t i = n_full; i < n_in; i++) sum += xs[i] * Wo[r * n_in + i];
                zs[o + r] = sum;
            }
        }
        for (; o < n_out; o++) { /* the rows left, one at a time */
            const nn_real *Wo = W + o * n_in;
            nn_real sum = b[o] + nn__dot_lanes(xs, Wo, n_full);
            for (size_t i = n_full; i < n_in; i++) sum += xs[i] * Wo[i];
            zs[o] = sum;
        }
    }
}

#ifdef NN__SHUFFLES
/* z = x.W^T + b for rows shorter than the lanes (XOR's 2 inputs, Iris's 4,
   a tiny net's 10): the reference loops' sums, each output's one running
   sum in order of i, but four outputs at a time in a vector, from 4 x 4
   blocks of W turned into columns in registers; the same operations, so
   the same bits, where each of the reference's sums waited on the last
   (nn_predict of a 10 -> 32 layer on one sample: 93 -> 49 ns) */
static void nn__dense_forward_short(nn_real *NN_RESTRICT z,
                                    const nn_real *NN_RESTRICT x,
                                    const nn_real *NN_RESTRICT W,
                                    const nn_real *NN_RESTRICT b, size_t B,
                                    size_t n_in, size_t n_out) {
    const size_t n4 = n_in / 4 * 4;
    for (size_t s = 0; s < B; s++) {
        const nn_real *xs = x + s * n_in;
        nn_real *zs = z + s * n_out;
        size_t o = 0;
        for (; o + 4 <= n_out; o += 4) {
            const nn_real *Wo = W + o * n_in;
            nn__v4 acc, c[4];
            memcpy(&acc, b + o, sizeof acc);
            for (size_t i = 0; i < n4; i += 4) {
                nn__columns4(c, Wo + i, n_in);
                acc += xs[i] * c[0];
                acc += xs[i + 1] * c[1];
                acc += xs[i + 2] * c[2];
                acc += xs[i + 3] * c[3];
            }
            for (size_t i = n4; i < n_in; i++) {
                const nn__v4 col = {Wo[i], Wo[n_in + i], Wo[2 * n_in + i],
                                    Wo[3 * n_in + i]};
                acc += xs[i] * col;
            }
            memcpy(zs + o, &acc, sizeof acc);
        }
        nn__dense_forward_ref(zs + o, xs, W + o * n_in, b + o, 1, n_in,
                              n_out - o);
    }
}
#else
#define nn__dense_forward_short nn__dense_forward_ref
#endif

/* The dense layer's three products: the reference loops for short rows
   (four outputs at a time), the lanes for small batches, nn__gemm for the
   rest */
static void nn__dense_forward(nn_real *NN_RESTRICT z,
                              const nn_real *NN_RESTRICT x,
                              const nn_real *NN_RESTRICT W,
                              const nn_real *NN_RESTRICT b, size_t B,
                              size_t n_in, size_t n_out) {
    if (n_in < NN__LANES) { /* rows too short for anything but this */
        nn__dense_forward_short(z, x, W, b, B, n_in, n_out);
        return;
    }
    if (B < NN__SMALL) {
        nn__dense_forward_lanes(z, x, W, b, B, n_in, n_out);
        return;
    }
    for (size_t s = 0; s < B; s++)
        memcpy(z + s * n_out, b, n_out * sizeof *z);
    /* C = z (B x n_out), A = x, Bm[i][o] = W[o][i] */
    nn__gemm(z, n_out, x, n_in, 1, W, 1, n_in, B, n_out, n_in, 0, NULL);
}

static void nn__dense_backward_params(nn_real *NN_RESTRICT dW,
                                      nn_real *NN_RESTRICT db,
                                      const nn_real *NN_RESTRICT dz,
                                      const nn_real *NN_RESTRICT x, size_t B,
                                      size_t n_in, size_t n_out) {
    if (n_in < NN__LANES) { /* rows too short for anything but this */
        nn__dense_backward_params_ref(dW, db, dz, x, B, n_in, n_out);
        return;
    }
    if (B < NN__SMALL) { /* the naive loops, the inner one as nn__axpy */
        for (size_t s = 0; s < B; s++)
            for (size_t o = 0; o < n_out; o++) {
                db[o] += dz[s * n_out + o];
                nn__axpy(dW + o * n_in, dz[s * n_out + o], x + s * n_in, n_in);
            }
        return;
    }
    for (size_t s = 0; s < B; s++)
        for (size_t o = 0; o < n_out; o++) db[o] += dz[s * n_out + o];
    /* C = dW (n_out x n_in), A[o][s] = dz[s][o], Bm = x */
    nn__gemm(dW, n_in, dz, 1, n_out, x, n_in, 1, n_out, n_in, B, 1, NULL);
}

static void nn__dense_backward_input(nn_real *NN_RESTRICT dx,
                                     const nn_real *NN_RESTRICT dz,
                                     const nn_real *NN_RESTRICT W, size_t B,
                                     size_t n_in, size_t n_out) {
    if (n_in < NN__LANES) { /* rows too short for anything but this */
        nn__dense_backward_input_ref(dx, dz, W, B, n_in, n_out);
        return;
    }
    memset(dx, 0, B * n_in * sizeof *dx);
    if (B < NN__SMALL) { /* the naive loops, the inner one as nn__axpy */
        for (size_t s = 0; s < B; s++)
            for (size_t o = 0; o < n_out; o++)
                nn__axpy(dx + s * n_in, dz[s * n_out + o], W + o * n_in, n_in);
        return;
    }
    /* C = dx (B x n_in), A = dz, Bm = W */
    nn__gemm(dx, n_in, dz, n_out, 1, W, n_in, 1, B, n_in, n_out, 0, NULL);
}

/* nn__sgd_run over all P parameters, split across threads
   (nn__share_reals) */
static void nn__sgd_apply(nn_real *NN_RESTRICT w,
                          const nn_real *NN_RESTRICT g, nn_real lr,
                          nn_real lambda, size_t P) {
#ifdef _OPENMP
#pragma omp parallel if (P >= NN__PAR_PARAMS)
#endif
    {
        size_t lo, hi;
        nn__share_reals(P, &lo, &hi);
        if (lo < hi) nn__sgd_run(w + lo, g + lo, lr, lambda, hi - lo);
    }
}

/* Adam over all P parameters: a vector at a time where the ISA has one
   for it (nn__adam_<isa>), the rest by nn__adam_apply_ref */
static void nn__adam_apply(const nn__opt_k *c, nn_real *NN_RESTRICT w,
                           const nn_real *NN_RESTRICT g,
                           nn_real *NN_RESTRICT m, nn_real *NN_RESTRICT v,
                           size_t P) {
    const nn__lanes_isa *L = nn__lanes_choose();
    const size_t k = L->adam ? L->adam(c, w, g, m, v, P) : 0;
    nn__adam_apply_ref(c, w + k, g + k, m + k, v + k, P - k);
}

/* nn_zero_grad's memset, each thread its part of dW (nn__share_reals) */
static void nn__zero_reals(nn_real *v, size_t n) {
#ifdef _OPENMP
#pragma omp parallel if (n >= NN__PAR_PARAMS)
#endif
    {
        size_t lo, hi;
        nn__share_reals(n, &lo, &hi);
        if (lo < hi) nn__zero_reals_ref(v + lo, hi - lo);
    }
}

/* a = tanh(z): in float, nn__tanhf a vector at a time (nn__tanhf_<isa>)
   where there are vectors (NN__VECTORS), libm's tanh in double. */
static void nn__tanh_all(nn_real *NN_RESTRICT a, const nn_real *NN_RESTRICT z,
                         size_t count) {
    const nn__lanes_isa *L = nn__lanes_choose();
    size_t k = 0;
    if (sizeof(nn_real) == sizeof(float) && L->tanh)
        for (; k + L->TV <= count; k += L->TV)
            L->tanh((float *)(void *)(a + k), (const float *)(const void *)(z + k));
    nn__tanh_all_ref(a + k, z + k, count - k);
}

/* nn__abs_max on the ISA nn__gemm takes (see nn__abs_max_body) */
static double nn__abs_max(const nn_real *x, size_t n, nn_real *least) {
    return nn__gemm_choose()->abs_max(x, n, least);
}

/* Whether the step leaves every w, m and v finite, as nn__step_check_ref
   computes it, but decided from bounds where they suffice: with every |w|,
   |g|, |m| and v at most A (v not negative, eps above 0), no new value
   exceeds the bounds below, in which each operation may round up by a
   factor 1 + 2^-23 at most (float; 1 + 2^-52 in double) and each factor r
   covers one.  A step whose bounds all stay under a quarter of the largest
   real is finite without computing it: one pass over each array, no square
   root and no division.  Otherwise nn__step_check_ref computes every new
   value, as it does for the reference build. */
static int nn__step_bounded(const nn_net *net, const nn__opt_k *c) {
    const size_t P = net->n_params;
    const double r = 1.01;
    const double top = (sizeof(nn_real) == sizeof(float) ? (double)FLT_MAX : DBL_MAX) / 4;
    double A = nn__abs_max(net->params, P, NULL), a, Bg, Bm, Bv, Bs, Bw;
    nn_real least = 0;
    a = nn__abs_max(net->grads, P, NULL);
    A = a > A ? a : A;
    if (c->how >= 1 && !c->fresh) { /* m and v are read as 0 when fresh */
        a = nn__abs_max(net->opt_m, P, NULL);
        A = a > A ? a : A;
    }
    if (c->how == 2 && !c->fresh) {
        a = nn__abs_max(net->opt_v, P, &least);
        A = a > A ? a : A;
    }
    if (!(A < top) || least < 0) return 0;
    if (c->how == 0) { /* w - lr (g + lambda w) */
        Bg = r * (A + r * (double)c->lambda * A);
        Bw = r * (A + r * (double)c->lr * Bg);
        return Bg < top && Bw < top;
    }
    if (c->how == 1) { /* m = mu m + g; w - lr (g + mu m) or w - lr m */
        Bg = r * (A + r * (double)c->lambda * A);
        Bm = r * (r * (double)c->mu * A + Bg);
        Bs = r * (Bg + r * (double)c->mu * Bm);
        Bw = r * (A + r * (double)c->lr * Bs);
        return Bg < top && Bm < top && Bs < top && Bw < top;
    }
    /* Adam: g + l2 w; m = b1 m + c1 g; v = b2 v + c2 g g; w shrunk, minus
       step m / (sqrt(v) / root2 + eps), whose divisor is at least eps */
    if (!(c->eps > 0)) return 0;
    Bg = r * (A + r * (double)c->l2 * A);
    Bm = r * (r * (double)c->b1 * A + r * (double)c->c1 * Bg);
    Bv = r * (r * (double)c->b2 * A + r * (r * (double)c->c2 * Bg) * Bg);
    Bs = r * (double)c->step * Bm;
    a = r * fabs((double)c->shrink) * A;
    Bw = r * ((a > A ? a : A) + r * Bs / (double)c->eps);
    return Bg < top && Bm < top && Bv < top && Bs < top && Bw < top;
}

static int nn__step_check(const nn_net *net, const struct nn__opt_k *c) {
    return nn__step_bounded(net, c) || nn__step_check_ref(net, c);
}

/* The sum of v[k]^2 over n reals, in lanes so that it vectorizes; HUGE_VAL
   when it is not finite (a NaN, an infinity, or too big for nn_real) */
static double nn__sum_sq(const nn_real *v, size_t n) {
    const size_t n_full = n / NN__LANES * NN__LANES;
    nn_real sum = nn__dot_lanes(v, v, n_full);
    for (size_t k = n_full; k < n; k++) sum += v[k] * v[k];
    return nn__finite((double)sum) ? (double)sum : HUGE_VAL;
}

/* A batch of one: nn__sgd_w's step for one row of W, g_i = 0 + dz x[i] as
   nn_backward sums dW[o][i] from nn_zero_grad's 0 (the cast rounds it to
   nn_real as storing it in dW would, where float arithmetic runs in
   double: s390x), and on the way the next sample's z = b + w.xn with the
   weights just written, summed in nn__dot_lanes' order, so it is the z
   that forward would compute; b is already updated.  W is read once per
   sample instead of twice (with weight decay, twice from the L1 cache:
   the rarer case goes the simpler way). */

static nn_real nn__sgd_fused_ahead(nn__ahead_fn ahead, nn_real *NN_RESTRICT w,
                                   nn_real b, nn_real dz,
                                   const nn_real *NN_RESTRICT x,
                                   const nn_real *NN_RESTRICT xn,
                                   size_t n_in, nn_real lr, nn_real lambda) {
    const size_t n_full = n_in / NN__LANES * NN__LANES;
    nn_real sum;
    if (lambda == 0) {
        sum = b + ahead(w, dz, x, xn, n_full, lr);
    } else {
        for (size_t i = 0; i < n_full; i += NN__LANES)
            for (size_t v = 0; v < NN__LANES; v++)
                w[i + v] -= lr * ((nn_real)(0 + dz * x[i + v]) +
                                  lambda * w[i + v]);
        sum = b + nn__dot_lanes(xn, w, n_full);
    }
    for (size_t i = n_full; i < n_in; i++) {
        w[i] = nn__sgd_w(w[i], (nn_real)(0 + dz * x[i]), lr, lambda);
        sum += xn[i] * w[i];
    }
    return sum;
}

/* nn__sgd_w's step for one row of W, where
   g_i = 0 + dz[0] x[0][i] + dz[1] x[1][i] + ... is dW[o][i] summed as
   nn_zero_grad and nn_backward would sum it; dz[s] is dz[s * dz_stride].
   The g_i of 256 columns at a time wait in t, in the L1 cache. */
static void nn__sgd_fused_row(nn_real *w, const nn_real *dz, size_t dz_stride,
                              const nn_real *x, size_t B, size_t n_in,
                              nn_real lr, nn_real lambda) {
    nn_real t[256];
    for (size_t i0 = 0; i0 < n_in; i0 += 256) {
        const size_t len = NN__MIN(256, n_in - i0);
        memset(t, 0, len * sizeof *t);
        for (size_t s = 0; s < B; s++)
            nn__axpy(t, dz[s * dz_stride], x + s * n_in + i0, len);
        nn__sgd_run(w + i0, t, lr, lambda, len);
    }
}

/* Plain SGD for the last forward's batch (at most NN__KC rows), the
   backward pass and the step in one: small batches spend much of their
   time streaming W and dW through the cache (zero dW, add to it, check
   it, read it into the step), so not writing dW at all is what makes them
   fast.  Batches of NN__SMALL rows or more take each weight's step in the
   register tile that sums its gradient (the tile's sgd); smaller ones, a
   row of W at a time (nn__sgd_fused_row, or nn__sgd_fused_ahead).
   1. dz of every layer, from the top, each kept in its layer's z (which
      backward no longer needs once dz is known).
   2. A bound on every gradient and every new weight.  With |v| the root
      of the sum of squares over the whole batch, |dW[o][i]| =
      |sum_s dz[s][o] x[s][i]| <= |dz| |x| (Cauchy-Schwarz) and
      |db[o]| <= sqrt(B) |dz|; nn_train keeps a bound *wnorm on the root
      of the sum of squares of the weights, which bounds each |w|, and
      the step can grow it by no more than lr (|g| + lambda |w|).  Unless
      the bounds prove every gradient and new weight finite (and far from
      overflowing), nothing has changed and this returns 0, for nn_train
      to run the forward pass again and take the separate calls, whose
      exact check then decides.  The check costs no pass over W.
   3. Each weight takes plain SGD's step (nn__sgd_w) with g summed exactly
      as nn_backward sums dW from nn_zero_grad's 0, so the weights are bit
      for bit those of the separate calls; then nn_step's bookkeeping.
   Look-ahead: given the next sample's row x_next (batches of one, a first
   layer of at least NN__LANES inputs), the first layer's new weights also
   go into that row's z while they are in registers, and the result is 2:
   the next forward pass starts at the first layer's activation. */
static int nn__sgd_fused(nn_net *net, nn_loss loss, const nn_real *y,
                         const nn_opt *opt, const nn_real *x_next,
                         double *wnorm) {
    const size_t L = net->n_layers, B = net->batch;
    const nn_real lr = (nn_real)opt->lr, lambda = (nn_real)opt->weight_decay;
    const double limit = (sizeof(nn_real) == sizeof(float) ? 3.4e38 : 1.7e308) / 4;
    const nn__ahead_fn ahead = nn__lanes_choose()->ahead; /* once, not per row */
    double gmax = 0, grow;
    nn_real *d = nn__scratch(net, 0), *dx = nn__scratch(net, 1);
    nn__loss_dz(net, loss, y, d);
    for (size_t l = L; l-- > 0;) {
        const size_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        nn_real *dz = nn__layer_z(net, l), *t;
        const double nz = sqrt(nn__sum_sq(d, B * n_out));
        const double nx = sqrt(nn__sum_sq(nn__layer_x(net, l), B * n_in));
        const double gb = NN__MAX(nz * nx, sqrt((double)B) * nz);
        if (!(gb < limit)) return 0;
        gmax = NN__MAX(gmax, gb);
        memcpy(dz, d, B * n_out * sizeof *dz);
        if (l == 0) break;
        nn__dense_backward_input(dx, dz, net->params + net->offsets[l], B,
                                 n_in, n_out);
        nn__act_backward(dx, nn__layer_z(net, l - 1), nn__layer_x(net, l), B,
                         n_in, net->acts[l - 1]);
        t = d;
        d = dx;
        dx = t;
    }
    /* and a bound on every new weight: |w - lr (g + lambda w)| <=
       |w| + lr (|g| + lambda |w|), with |w| <= *wnorm, the root of the
       sum of squares of all the weights (or a bound on it) */
    grow = (double)lambda * *wnorm + gmax;
    if (!(grow < limit && *wnorm + (double)lr * grow < limit)) return 0;
    *wnorm += (double)lr * grow;
    if (B > 1 || net->sizes[0] < NN__LANES) x_next = NULL;
    for (size_t l = 0; l < L; l++) {
        const size_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        nn_real *W = net->params + net->offsets[l], *b = W + n_out * n_in;
        nn_real *dz = nn__layer_z(net, l);
        const nn_real *x = nn__layer_x(net, l);
        for (size_t o = 0; o < n_out; o++) {
            nn_real g = 0;
            for (size_t s = 0; s < B; s++) g += dz[s * n_out + o];
            b[o] = nn__sgd_w(b[o], g, lr, lambda);
        }
        if (B >= NN__SMALL && n_in >= NN__LANES) { /* nn_backward's gemm */
            const nn_real step[2] = {lr, lambda};
            nn__gemm(W, n_in, dz, 1, n_out, x, n_in, 1, n_out, n_in, B, 1,
                     step);
            continue;
        }
        for (size_t o = 0; o < n_out; o++) {
            if (l == 0 && x_next) /* dz[o] is used up: z[o] takes its place */
                dz[o] = nn__sgd_fused_ahead(ahead, W + o * n_in, b[o], dz[o],
                                            x, x_next, n_in, lr, lambda);
            else
                nn__sgd_fused_row(W + o * n_in, dz + o, n_out, x, B, n_in,
                                  lr, lambda);
        }
    }
    if (opt->kind != net->opt_kind) {
        nn_opt_reset(net);
        net->opt_kind = opt->kind;
    }
    net->opt_t++;
    return x_next ? 2 : 1;
}

/* the bound on the weights that nn__sgd_fused keeps: the root of their
   sum of squares (HUGE_VAL when that is not finite) */
static double nn__wnorm(const nn_net *net) {
    return sqrt(nn__sum_sq(net->params, net->n_params));
}

/* nn_train's shortcut: plain SGD (no momentum, no clipping) on batches of
   at most NN__KC rows, where nn__sgd_fused applies.  The weights come out
   bit for bit as the separate calls make them, which the tests check;
   only nn_grads is left as it was. */
static nn__sgd_fast nn__sgd_fast_begin(const nn_train_config *cfg,
                                       const nn_real *x, const size_t *idx,
                                       size_t n, size_t B) {
    nn__sgd_fast f;
    memset(&f, 0, sizeof f);
    f.on = cfg->opt.kind == NN_OPT_SGD && cfg->opt.momentum == 0 &&
           !(cfg->clip_norm > 0) && B <= NN__KC;
    f.cfg = cfg;
    f.x = x;
    f.idx = idx;
    f.n = n;
    return f;
}

/* nn__forward_work for a batch whose first layer's z the last step
   already computed (the look-ahead of nn__sgd_fused); 0 when it did not */
static int nn__sgd_fast_forward(nn__sgd_fast *f, nn_net *net, size_t B) {
    if (!f->ahead) return 0;
    f->ahead = 0;
    nn__act_forward(nn__layer_a(net, 0), nn__layer_z(net, 0), B,
                    net->sizes[1], net->acts[0]);
    for (size_t l = 1; l < net->n_layers; l++) nn__forward_layer(net, l, B);
    net->batch = B;
    return 1;
}

/* The step of the last forward's batch without dW, for the rows before
   row `next` of the epoch's order; 0 when the shortcut does not apply or
   its bounds cannot prove the step finite, and then nothing has changed
   and the separate calls must run. */
static int nn__sgd_fast_step(nn__sgd_fast *f, nn_net *net, const nn_real *y,
                             const nn_opt *opt, size_t next) {
    const nn_train_config *cfg = f->cfg;
    const size_t n_in = net->sizes[0];
    int stepped;
    if (!f->on) return 0;
    if (!f->wnorm_known) f->wnorm = nn__wnorm(net);
    f->wnorm_known = 1;
    /* look ahead to the next row, unless a callback could change the net
       before it (or the row would need scaling first) */
    stepped = nn__sgd_fused(net, cfg->loss, y, opt,
                            next < f->n && !cfg->on_batch && !net->scaled
                                ? f->x + f->idx[next] * n_in
                                : NULL,
                            &f->wnorm);
    f->ahead = stepped == 2;
    /* the separate calls change the weights, and so may the callbacks
       that follow a batch or an epoch */
    if (!stepped || cfg->on_batch || next >= f->n) f->wnorm_known = 0;
    if (!stepped) (void)nn__forward_work(net, net->batch); /* z was dz */
    return stepped != 0;
}

#endif /* NN_REFERENCE */

/* ---- model files --------------------------------------------------------
   One writer serves nn_save, nn_save_mem and nn_save_size: it sends each
   field byte by byte (little-endian, whatever the host) to a buffer,
   keeping the CRC-32 of everything it wrote, or only counts; nn_save writes
   that buffer to a file.  The reader checks the whole model against the
   data's length and CRC before nn_load_mem allocates anything, and what
   the values mean once they are in the new net, with the same check that
   nn_save makes of the net it saves (nn__net_check). */

/* CRC-32 as zlib and PNG compute it: polynomial 0xEDB88320 (reflected),
   starting from and finished with all ones; here a bit at a time. */
static uint32_t nn__crc32(uint32_t crc, const unsigned char *p, size_t n) {
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (UINT32_C(0xedb88320) & (0u - (crc & 1u)));
    }
    return ~crc;
}

static const unsigned char nn__magic[8] = {0x89, 'N', 'N', 'H',
                                           '\r', '\n', 0x1a, '\n'};
#define NN__FORMAT_VERSION 2u
#define NN__FLAG_CLASS_WEIGHTS 1u
#define NN__FLAG_OPTIMIZER 2u
#define NN__FLAG_SCALING 4u /* version 2 on */
#define NN__HEADER_BYTES 40u /* magic to the generator */

typedef struct nn__writer {
    unsigned char *buf; /* memory target, or NULL to count only */
    size_t pos;         /* bytes sent so far */
    uint32_t crc;       /* of those bytes, when there is a buffer */
} nn__writer;

static void nn__put(nn__writer *w, const unsigned char *p, size_t n) {
    if (w->buf) { /* counting only (nn_save_size) needs no CRC */
        w->crc = nn__crc32(w->crc, p, n);
        memcpy(w->buf + w->pos, p, n);
    }
    w->pos += n;
}

static void nn__put_u32(nn__writer *w, uint32_t v) {
    unsigned char b[4];
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
    nn__put(w, b, 4);
}

static void nn__put_u64(nn__writer *w, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    nn__put(w, b, 8);
}

/* reals in the build's own precision; the bits of a float or double are
   those of a uint32_t or uint64_t of the same size */
static void nn__put_reals(nn__writer *w, const nn_real *v, size_t n) {
    for (size_t k = 0; k < n; k++) {
        if (sizeof(nn_real) == 4) {
            uint32_t bits;
            memcpy(&bits, &v[k], 4);
            nn__put_u32(w, bits);
        } else {
            uint64_t bits;
            memcpy(&bits, &v[k], 8);
            nn__put_u64(w, bits);
        }
    }
}

static int nn__has_opt_state(const nn_net *net) {
    return net->opt_m != NULL && net->opt_t > 0;
}

/* What a saved net must hold for the next call not to turn it into NaN,
   the rules of the model-file comment: NN_ERR_NONFINITE for a NaN or an
   infinity, NN_ERR_INVALID for a negative v or class weight, class
   weights on an output that is not softmax, or a step count past
   NN__MAX_STEPS.  nn_save refuses such a net and nn_load such a file. */
static nn_result nn__net_check(const nn_net *net) {
    const size_t P = net->n_params, K = net->sizes[net->n_layers];
    if (!nn__all_finite(net->params, P)) return NN_ERR_NONFINITE;
    if (net->scaled && (!nn__all_finite(net->in_shift, net->sizes[0]) ||
                        !nn__all_finite(net->in_scale, net->sizes[0])))
        return NN_ERR_NONFINITE;
    if (net->weighted) {
        if (!nn__all_finite(net->class_weights, K)) return NN_ERR_NONFINITE;
        if (net->acts[net->n_layers - 1] != NN_ACT_SOFTMAX)
            return NN_ERR_INVALID;
        for (size_t o = 0; o < K; o++)
            if (net->class_weights[o] < 0) return NN_ERR_INVALID;
    }
    if (nn__has_opt_state(net)) {
        if (!nn__all_finite(net->opt_m, 2 * P)) return NN_ERR_NONFINITE;
        if (net->opt_t > NN__MAX_STEPS) return NN_ERR_INVALID;
        for (size_t k = 0; k < P; k++)
            if (net->opt_v[k] < 0) return NN_ERR_INVALID;
    }
    return NN_OK;
}

/* The whole model, in the order the format lists. */
static void nn__write_model(nn__writer *w, const nn_net *net) {
    const size_t L = net->n_layers;
    const int opt = nn__has_opt_state(net);
    uint32_t crc;
    nn__put(w, nn__magic, 8);
    nn__put_u32(w, NN__FORMAT_VERSION);
    nn__put_u32(w, (uint32_t)sizeof(nn_real));
    nn__put_u32(w, (net->weighted ? NN__FLAG_CLASS_WEIGHTS : 0u) |
                       (opt ? NN__FLAG_OPTIMIZER : 0u) |
                       (net->scaled ? NN__FLAG_SCALING : 0u));
    nn__put_u32(w, (uint32_t)L);
    nn__put_u64(w, net->rng.state);
    nn__put_u64(w, net->rng.inc);
    for (size_t i = 0; i <= L; i++) nn__put_u64(w, (uint64_t)net->sizes[i]);
    for (size_t l = 0; l < L; l++) nn__put_u32(w, (uint32_t)net->acts[l]);
    nn__put_reals(w, net->params, net->n_params);
    if (net->weighted) nn__put_reals(w, net->class_weights, net->sizes[L]);
    if (net->scaled) {
        nn__put_reals(w, net->in_shift, net->sizes[0]);
        nn__put_reals(w, net->in_scale, net->sizes[0]);
    }
    if (opt) {
        nn__put_u32(w, (uint32_t)net->opt_kind);
        nn__put_u32(w, 0);
        nn__put_u64(w, net->opt_t);
        nn__put_reals(w, net->opt_m, net->n_params);
        nn__put_reals(w, net->opt_v, net->n_params);
    }
    crc = w->crc;
    nn__put_u32(w, crc);
}

NNDEF size_t nn_save_size(const nn_net *net) {
    nn__writer w;
    NN_ASSERT(net);
    memset(&w, 0, sizeof w); /* no target: only counts */
    nn__write_model(&w, net);
    return w.pos;
}

NNDEF nn_result nn_save_mem(const nn_net *net, void *buf, size_t cap) {
    nn__writer w;
    nn_result r;
    NN_ASSERT(net);
    if (!buf || cap < nn_save_size(net)) return NN_ERR_INVALID;
    r = nn__net_check(net);
    if (r != NN_OK) return r;
    memset(&w, 0, sizeof w);
    w.buf = (unsigned char *)buf;
    nn__write_model(&w, net);
    return NN_OK;
}

/* What the reader learns from the header, before anything is allocated. */
typedef struct nn__model_info {
    size_t real_size, n_layers, n_params, n_out, n_in;
    size_t length; /* of the whole model, CRC included */
    uint32_t flags;
    const unsigned char *sizes, *acts, *params, *class_weights, *scaling;
    const unsigned char *opt;
} nn__model_info;

static uint32_t nn__get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t nn__get_u64(const unsigned char *p) {
    return (uint64_t)nn__get_u32(p) | (uint64_t)nn__get_u32(p + 4) << 32;
}

/* the real at p, stored in real_size bytes, in this build's precision */
static nn_real nn__get_real(const unsigned char *p, size_t real_size) {
    if (real_size == 4) {
        const uint32_t bits = nn__get_u32(p);
        float f;
        memcpy(&f, &bits, 4);
        return (nn_real)f;
    } else {
        const uint64_t bits = nn__get_u64(p);
        double d;
        memcpy(&d, &bits, 8);
        return (nn_real)d;
    }
}

/* The layout of a model from its first `avail` bytes at p: checks the
   header, the sizes and the activations field by field and puts the
   model's whole length in m->length.  When avail is too short to tell,
   it returns NN_ERR_TRUNCATED with the number of bytes it needs to go on
   in *need (SIZE_MAX when no data can hold them): nn_load reads that many
   and asks again.  whole says the data ends there: then a model too long
   for it is NN_ERR_TRUNCATED before any size is looked at, as it always
   was; nn_load, which reads a prefix, gets each size checked as soon as
   it has it, so that a bad one is refused before more is read.
   Allocates nothing and reads nothing past the activations. */
static nn_result nn__model_layout(const unsigned char *p, size_t avail,
                                  int whole, nn__model_info *m,
                                  size_t *need) {
    size_t head, count, L, at, i;
    *need = NN__HEADER_BYTES;
    if (memcmp(p, nn__magic, avail < 8 ? avail : 8) != 0)
        return NN_ERR_NOT_MODEL;
    if (avail < 12) return NN_ERR_TRUNCATED;
    if (nn__get_u32(p + 8) > NN__FORMAT_VERSION) return NN_ERR_VERSION;
    if (nn__get_u32(p + 8) == 0) return NN_ERR_UNSUPPORTED;
    if (avail < NN__HEADER_BYTES) return NN_ERR_TRUNCATED;
    m->real_size = nn__get_u32(p + 12);
    m->flags = nn__get_u32(p + 16);
    if ((m->real_size != 4 && m->real_size != 8) ||
        (m->flags & ~(NN__FLAG_CLASS_WEIGHTS | NN__FLAG_OPTIMIZER |
                      (nn__get_u32(p + 8) >= 2 ? NN__FLAG_SCALING : 0u))) != 0 ||
        nn__get_u32(p + 20) == 0)
        return NN_ERR_UNSUPPORTED;
    L = m->n_layers = (size_t)nn__get_u32(p + 20);
    /* the sizes and activations: 12 L + 8 bytes after the header */
    if (!nn__add(L, 1, &head) || !nn__mul(head, 8, &head) ||
        !nn__add(head, NN__HEADER_BYTES, &head) || !nn__mul(L, 4, &count) ||
        !nn__add(head, count, &head)) {
        *need = (size_t)-1;
        return NN_ERR_TRUNCATED;
    }
    m->sizes = p + NN__HEADER_BYTES;
    m->acts = m->sizes + 8 * (L + 1);
    m->n_params = 0;
    if (whole && avail < head) return NN_ERR_TRUNCATED;
    for (i = 0; i <= L && NN__HEADER_BYTES + 8 * (i + 1) <= avail; i++) {
        const uint64_t n = nn__get_u64(m->sizes + 8 * i);
        if (n == 0) return NN_ERR_UNSUPPORTED;
        /* a size beyond size_t, or a parameter count that overflows, is
           more than any data can hold */
        if (n > (uint64_t)(size_t)-1) break;
        if (i > 0) {
            const size_t n_in = (size_t)nn__get_u64(m->sizes + 8 * (i - 1));
            if (!nn__add(n_in, 1, &count) || !nn__mul(count, (size_t)n, &count) ||
                !nn__add(m->n_params, count, &m->n_params))
                break;
        }
    }
    if (i <= L && NN__HEADER_BYTES + 8 * (i + 1) <= avail) {
        *need = (size_t)-1;
        return NN_ERR_TRUNCATED;
    }
    if (avail < head) {
        *need = head;
        return NN_ERR_TRUNCATED;
    }
    m->n_out = (size_t)nn__get_u64(m->sizes + 8 * L);
    m->n_in = (size_t)nn__get_u64(m->sizes);
    for (size_t l = 0; l < L; l++)
        if (nn__get_u32(m->acts + 4 * l) >= (uint32_t)NN_ACT_COUNT)
            return NN_ERR_UNSUPPORTED;
    /* the rest: parameters, class weights, optimizer state, CRC; as
       offsets, since a pointer may only be formed once it lies in the
       data */
    at = head;
    if (!nn__mul(m->n_params, m->real_size, &count) || !nn__add(at, count, &at))
        goto too_long;
    if (m->flags & NN__FLAG_CLASS_WEIGHTS)
        if (!nn__mul(m->n_out, m->real_size, &count) || !nn__add(at, count, &at))
            goto too_long;
    if (m->flags & NN__FLAG_SCALING)
        if (!nn__mul(m->n_in, 2 * m->real_size, &count) || !nn__add(at, count, &at))
            goto too_long;
    if (m->flags & NN__FLAG_OPTIMIZER)
        if (!nn__mul(m->n_params, 2 * m->real_size, &count) ||
            !nn__add(count, 16, &count) || !nn__add(at, count, &at))
            goto too_long;
    if (!nn__add(at, 4, &at)) goto too_long;
    m->length = *need = at;
    return NN_OK;
too_long:
    *need = (size_t)-1;
    return NN_ERR_TRUNCATED;
}

/* Checks a model of len bytes at p, field by field and bound by bound,
   and says where its parts are.  Allocates nothing. */
static nn_result nn__check_model(const unsigned char *p, size_t len,
                                 nn__model_info *m) {
    size_t need, at;
    nn_result r = nn__model_layout(p, len, 1, m, &need);
    if (r != NN_OK) return r;
    if (len < m->length) return NN_ERR_TRUNCATED;
    if (len > m->length) return NN_ERR_TRAILING;
    if (nn__crc32(0, p, m->length - 4) != nn__get_u32(p + m->length - 4))
        return NN_ERR_CORRUPT;
    at = NN__HEADER_BYTES + 12 * m->n_layers + 8;
    m->params = p + at;
    m->class_weights = m->params + m->n_params * m->real_size;
    m->scaling = m->class_weights +
                 (m->flags & NN__FLAG_CLASS_WEIGHTS ? m->n_out * m->real_size : 0);
    m->opt = m->scaling +
             (m->flags & NN__FLAG_SCALING ? 2 * m->n_in * m->real_size : 0);
    if ((m->flags & NN__FLAG_OPTIMIZER) &&
        (nn__get_u32(m->opt) >= (uint32_t)NN_OPT_COUNT ||
         nn__get_u32(m->opt + 4) != 0 || nn__get_u64(m->opt + 8) == 0))
        return NN_ERR_UNSUPPORTED;
    return NN_OK;
}

NNDEF nn_net *nn_load_mem(const void *buf, size_t len, nn_result *err) {
    const unsigned char *p = (const unsigned char *)buf;
    nn__model_info m;
    nn_result r;
    nn_net *net = NULL;
    size_t *sizes;
    nn_act *acts;
    r = !buf ? NN_ERR_INVALID
             : len == 0 ? NN_ERR_TRUNCATED : nn__check_model(p, len, &m);
    if (r != NN_OK) goto done;
    /* sized by L, which the check bounded by len */
    sizes = (size_t *)NN_MALLOC((m.n_layers + 1) * sizeof *sizes +
                                m.n_layers * sizeof *acts);
    if (!sizes) {
        r = NN_ERR_NOMEM;
        goto done;
    }
    acts = (nn_act *)(sizes + m.n_layers + 1);
    for (size_t i = 0; i <= m.n_layers; i++)
        sizes[i] = (size_t)nn__get_u64(m.sizes + 8 * i);
    for (size_t l = 0; l < m.n_layers; l++)
        acts[l] = (nn_act)nn__get_u32(m.acts + 4 * l);
    net = nn_create(m.n_layers, sizes, acts, 0, NULL);
    NN_FREE(sizes);
    if (!net || ((m.flags & NN__FLAG_OPTIMIZER) && nn__opt_alloc(net) != NN_OK)) {
        nn_destroy(net);
        net = NULL;
        r = NN_ERR_NOMEM;
        goto done;
    }
    net->rng.state = nn__get_u64(p + 24);
    net->rng.inc = nn__get_u64(p + 32);
    for (size_t k = 0; k < m.n_params; k++)
        net->params[k] = nn__get_real(m.params + k * m.real_size, m.real_size);
    if (m.flags & NN__FLAG_CLASS_WEIGHTS) {
        for (size_t o = 0; o < m.n_out; o++)
            net->class_weights[o] =
                nn__get_real(m.class_weights + o * m.real_size, m.real_size);
        net->weighted = 1;
    }
    if (m.flags & NN__FLAG_SCALING) {
        for (size_t i = 0; i < m.n_in; i++) {
            net->in_shift[i] = nn__get_real(m.scaling + i * m.real_size, m.real_size);
            net->in_scale[i] =
                nn__get_real(m.scaling + (m.n_in + i) * m.real_size, m.real_size);
        }
        net->scaled = 1;
    }
    if (m.flags & NN__FLAG_OPTIMIZER) {
        const unsigned char *mv = m.opt + 16;
        net->opt_kind = (nn_opt_kind)nn__get_u32(m.opt);
        net->opt_t = nn__get_u64(m.opt + 8);
        for (size_t k = 0; k < 2 * m.n_params; k++)
            net->opt_m[k] = nn__get_real(mv + k * m.real_size, m.real_size);
    }
    /* intact; now what the values mean (a double too large for a float
       is infinite here) */
    if (nn__net_check(net) != NN_OK) {
        nn_destroy(net);
        net = NULL;
        r = NN_ERR_UNSUPPORTED;
    }
done:
    if (err) *err = r;
    return net;
}

#ifndef NN_NO_STDIO
#ifdef NN__POSIX
/* path's directory with its last slash ("dir/"; "" for none) and then
   the 24 characters of a random temporary name, into a new string */
static char *nn__temp_name(const char *path, nn_rng *rng) {
    const char *slash = strrchr(path, '/');
    const size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    char *tmp = (char *)NN_MALLOC(dir + 25);
    if (!tmp) return NULL;
    memcpy(tmp, path, dir);
    memcpy(tmp + dir, ".nn-", 4);
    for (int i = 0; i < 16; i++)
        tmp[dir + 4 + (size_t)i] = "0123456789abcdef"[nn_rng_u32(rng) >> 28];
    memcpy(tmp + dir + 20, ".tmp", 5);
    return tmp;
}

/* fsyncs the directory that holds path */
static void nn__sync_dir(const char *path, char *tmp) {
    const char *slash = strrchr(path, '/');
    const size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    int fd;
    memcpy(tmp, path, dir);
    memcpy(tmp + dir, ".", 2);
    fd = open(tmp, O_RDONLY);
    if (fd < 0) return;
    (void)fsync(fd); /* best effort: the model is in place already */
    (void)close(fd);
}

/* The size bytes at data to path, through a temporary file, as nn_save's
   comment tells */
static nn_result nn__write_file(const char *path, const unsigned char *data,
                                size_t size) {
    struct stat st;
    int have = 0, fd = -1, ok;
    mode_t mode = 0666;
    char *tmp = NULL;
    nn_rng rng;
    size_t done = 0;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) return NN_ERR_IO;
        have = 1;
        mode = st.st_mode & 0777;
    } else if (errno != ENOENT) {
        return NN_ERR_IO;
    }
    /* a name no other save picks: the generator seeded from the process,
       the time and an address of this call */
    nn_rng_seed(&rng, (uint64_t)getpid() ^ (uint64_t)time(NULL) << 20 ^
                          (uint64_t)clock() << 40 ^ (uint64_t)(uintptr_t)&st);
    for (int tries = 0; tries < 64 && fd < 0; tries++) {
        NN_FREE(tmp);
        tmp = nn__temp_name(path, &rng);
        if (!tmp) return NN_ERR_NOMEM;
        /* O_EXCL: fails on anything already there, a link included */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, have ? 0600 : 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        NN_FREE(tmp);
        return NN_ERR_IO;
    }
    ok = 1;
    while (ok && done < size) {
        const ssize_t wrote = write(fd, data + done, size - done);
        if (wrote > 0)
            done += (size_t)wrote;
        else if (!(wrote < 0 && errno == EINTR))
            ok = 0;
    }
    ok = ok && (!have || fchmod(fd, mode) == 0) && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        (void)remove(tmp);
    else
        nn__sync_dir(path, tmp);
    NN_FREE(tmp);
    return ok ? NN_OK : NN_ERR_IO;
}
#else
/* The size bytes at data to path + ".tmp", renamed over path */
static nn_result nn__write_file(const char *path, const unsigned char *data,
                                size_t size) {
    const size_t n = strlen(path);
    char *tmp = (char *)NN_MALLOC(n + 5);
    FILE *f;
    int ok;
    if (!tmp) return NN_ERR_NOMEM;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    f = fopen(tmp, "wb");
    if (!f) {
        NN_FREE(tmp);
        return NN_ERR_IO;
    }
    /* fflush hands the bytes to the system; fclose reports what it
       could not write */
    ok = fwrite(data, 1, size, f) == size && fflush(f) == 0;
    ok = fclose(f) == 0 && ok;
    /* C's rename replaces an existing file atomically on POSIX; Windows
       refuses to, so there the old file goes first (not atomic, but the
       new model is kept in the temporary file if the rename fails) */
    if (ok && rename(tmp, path) != 0) {
#ifdef _WIN32
        ok = remove(path) == 0 && rename(tmp, path) == 0;
#else
        ok = 0;
#endif
    }
    if (!ok) remove(tmp);
    NN_FREE(tmp);
    return ok ? NN_OK : NN_ERR_IO;
}
#endif

NNDEF nn_result nn_save(const nn_net *net, const char *path) {
    nn_result r;
    size_t size;
    unsigned char *data;
    NN_ASSERT(net);
    if (!path || !*path) return NN_ERR_INVALID;
    size = nn_save_size(net);
    data = (unsigned char *)NN_MALLOC(size);
    if (!data) return NN_ERR_NOMEM;
    r = nn_save_mem(net, data, size); /* refuses what nn_load would */
    if (r == NN_OK) r = nn__write_file(path, data, size);
    NN_FREE(data);
    return r;
}

/* buf (*cap bytes, *got of them read from f) grown to hold want bytes and
   filled from f as far as it goes: 0 when memory runs out (*buf freed) */
static int nn__read_more(FILE *f, unsigned char **buf, size_t *cap,
                         size_t *got, size_t want) {
    if (want > *cap) {
        unsigned char *more = (unsigned char *)NN_MALLOC(want);
        if (!more) {
            NN_FREE(*buf);
            *buf = NULL;
            return 0;
        }
        if (*got) memcpy(more, *buf, *got); /* *buf may be NULL then */
        NN_FREE(*buf);
        *buf = more;
        *cap = want;
    }
    *got += fread(*buf + *got, 1, want - *got, f);
    return 1;
}

NNDEF nn_net *nn_load(const char *path, nn_result *err) {
    unsigned char *data = NULL;
    nn_net *net = NULL;
    nn_result r = NN_ERR_IO;
    nn__model_info m;
    size_t cap = 0, got = 0, need = 8;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) goto done;
    /* the magic, then the header, then as far as the sizes say, each
       step at most doubling what has been read: no file can make this
       allocate more than twice its model's real length */
    for (;;) {
        const size_t want = got == 0 ? need : NN__MIN(need, 2 * got);
        if (!nn__read_more(f, &data, &cap, &got, want)) {
            r = NN_ERR_NOMEM;
            goto done;
        }
        if (ferror(f)) goto done;
        r = nn__model_layout(data, got, 0, &m, &need);
        if (r == NN_OK && got >= m.length) break;
        if (r != NN_OK && (r != NN_ERR_TRUNCATED || need == (size_t)-1))
            goto done;
        if (got < want) { /* the file ended */
            r = NN_ERR_TRUNCATED;
            goto done;
        }
    }
    /* a directory opens on some systems, but reading it fails */
    if (fgetc(f) != EOF) {
        r = NN_ERR_TRAILING;
        goto done;
    }
    if (ferror(f)) {
        r = NN_ERR_IO;
        goto done;
    }
    net = nn_load_mem(data, got, &r);
done:
    if (f) fclose(f);
    NN_FREE(data);
    if (err) *err = r;
    return net;
}
#endif /* NN_NO_STDIO */

/* ---- C export -----------------------------------------------------------
   The header is text made by nn__emit, a printf of a few directives, into
   an nn__text that counts every byte and stores those that fit: one pass
   with no room measures, the next writes.  Nothing here needs stdio, so
   nn_export_c_mem is in NN_NO_STDIO builds too. */

typedef struct nn__text {
    char *buf;
    size_t cap, len; /* bytes stored while len < cap; len counts all */
    const char *lower, *upper; /* the prefix, and in capitals */
} nn__text;

static void nn__text_put(nn__text *t, const char *s, size_t n) {
    for (size_t k = 0; k < n; k++, t->len++)
        if (t->len < t->cap) t->buf[t->len] = s[k];
}

static void nn__text_uint(nn__text *t, uint64_t v) {
    char d[24];
    size_t n = 0;
    do d[sizeof d - ++n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    nn__text_put(t, d + sizeof d - n, n);
}

/* A float as a C literal of 9 significant digits, which give back the
   same float (IEEE-754 binary32 needs 9): d.dddddddde+XXf, trailing zeros
   dropped.  The digits come from double arithmetic, whose error (a few
   parts in 10^16) is far below the 5 parts in 10^9 of the last digit, so
   the literal is within 0.51 of its last digit of the float, well inside
   the half ulp (at least 3 parts in 10^8) that rounds back to it. */
static void nn__text_float(nn__text *t, float f) {
    const double a = fabs((double)f);
    char s[16];
    uint64_t d = 0;
    int e, n;
    if (signbit(f)) nn__text_put(t, "-", 1);
    if (a == 0) {
        nn__text_put(t, "0.0f", 4);
        return;
    }
    e = (int)floor(log10(a));
    for (int tries = 0; tries < 3; tries++) {
        d = (uint64_t)(a / pow(10.0, e - 8) + 0.5);
        if (d >= UINT64_C(1000000000)) e++;
        else if (d < UINT64_C(100000000)) e--;
        else break;
    }
    for (int k = 8; k >= 0; k--, d /= 10) s[k] = (char)('0' + d % 10);
    for (n = 9; n > 1 && s[n - 1] == '0'; n--) {}
    nn__text_put(t, s, 1);
    if (n > 1) {
        nn__text_put(t, ".", 1);
        nn__text_put(t, s + 1, (size_t)n - 1);
    }
    nn__text_put(t, e < 0 ? "e-" : "e+", 2);
    if (e > -10 && e < 10) nn__text_put(t, "0", 1);
    nn__text_uint(t, (uint64_t)(e < 0 ? -e : e));
    nn__text_put(t, "f", 1);
}

/* printf for the export:  %s a string, %z a size_t, %d an int, %l a long
   (int32 values), %f a float (passed as double) as a C literal, %p the
   prefix, %P the prefix in capitals, %% a %. */
static void nn__emit(nn__text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (const char *c = fmt; *c; c++) {
        const char *run = c;
        while (*c && *c != '%') c++;
        nn__text_put(t, run, (size_t)(c - run));
        if (!*c) break;
        switch (*++c) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            nn__text_put(t, s, strlen(s));
            break;
        }
        case 'z': nn__text_uint(t, (uint64_t)va_arg(ap, size_t)); break;
        case 'd':
        case 'l': {
            const long v = *c == 'd' ? (long)va_arg(ap, int) : va_arg(ap, long);
            if (v < 0) nn__text_put(t, "-", 1);
            nn__text_uint(t, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
            break;
        }
        case 'f': nn__text_float(t, (float)va_arg(ap, double)); break;
        case 'p': nn__text_put(t, t->lower, strlen(t->lower)); break;
        case 'P': nn__text_put(t, t->upper, strlen(t->upper)); break;
        default: nn__text_put(t, c, 1); break; /* %% */
        }
        if (!*c) break;
    }
    va_end(ap);
}

static const char *nn__act_name(nn_act a) {
    static const char *const names[] = {"linear", "sigmoid", "tanh", "relu",
                                        "leaky_relu", "softmax"};
    return (size_t)a < sizeof names / sizeof *names ? names[a] : "?";
}

/* "4-16-3: relu, softmax" */
static void nn__emit_shape(nn__text *t, const nn_net *net) {
    for (size_t i = 0; i <= net->n_layers; i++)
        nn__emit(t, i ? "-%z" : "%z", net->sizes[i]);
    for (size_t l = 0; l < net->n_layers; l++)
        nn__emit(t, l ? ", %s" : ": %s", nn__act_name(net->acts[l]));
}

/* count values as the body of an array initializer, 8 to a line; kind:
   0 float, 1 int (int8 and int16), 2 long (int32) */
static void nn__emit_values(nn__text *t, const void *v, size_t count,
                            int kind) {
    for (size_t k = 0; k < count; k++) {
        nn__emit(t, k % 8 == 0 ? "\n    " : " ");
        if (kind == 0) nn__emit(t, "%f,", (double)((const float *)v)[k]);
        else if (kind == 1) nn__emit(t, "%d,", ((const int *)v)[k]);
        else nn__emit(t, "%l,", ((const long *)v)[k]);
    }
    nn__emit(t, "\n};\n");
}

/* The lines both kinds begin with: the include guard, and how to read
   the constant arrays (PROGMEM on AVR, where const data is otherwise
   copied to the 2 KB of RAM). */
static void nn__emit_rom(nn__text *t, int floats) {
    nn__emit(t,
             "#ifndef %P_H_INCLUDED\n"
             "#define %P_H_INCLUDED\n"
             "#include <stdint.h>\n"
             "#ifdef __AVR__\n"
             "#include <avr/pgmspace.h>\n"
             "#define %P__ROM PROGMEM\n"
             "#define %P__I8(p) ((int8_t)pgm_read_byte(p))\n"
             "#define %P__I16(p) ((int16_t)pgm_read_word(p))\n"
             "#define %P__I32(p) ((int32_t)pgm_read_dword(p))\n");
    if (floats) nn__emit(t, "#define %P__F(p) pgm_read_float(p)\n");
    nn__emit(t,
             "#else\n"
             "#define %P__ROM\n"
             "#define %P__I8(p) (*(p))\n"
             "#define %P__I16(p) (*(p))\n"
             "#define %P__I32(p) (*(p))\n");
    if (floats) nn__emit(t, "#define %P__F(p) (*(p))\n");
    nn__emit(t, "#endif\n\n");
}

/* The float export.
   Its tanh is nn.h's own, nn__tanhf (nn__float_tanh_code), always.  Its
   e^x is libm's expf, or with no_libm its own, which takes only arguments
   <= 0 (nn.h's sigmoid and softmax never pass e^x a positive one):
     e^x = 2^k e^r, k = round(x / ln 2), r = x - k ln 2 in [-0.35, 0.35]
     (ln 2 in two parts, Cody and Waite, so that r is exact), e^r - 1 by
     its Taylor series to r^7 (the rest is below 1.5e-8 of it), 2^k made
     in the exponent bits; 0 below -87.33, where e^x leaves the normal
     floats.
   Against libm in double over every float in [-87.33, 0], the worst
   error is 1.22 ulp; tests/test_export.c checks every 61st float. */
static const char nn__float_exp_code[] =
    "/* e^x for x <= 0 (and e^x - 1 in *m1): no libm */\n"
    "static inline float %p__exp(float x, float *m1) {\n"
    "    float r, q, p2;\n"
    "    uint32_t bits;\n"
    "    int k;\n"
    "    if (x < (float)-87.33) {\n"
    "        if (m1) *m1 = -1.0f;\n"
    "        return 0.0f;\n"
    "    }\n"
    "    k = (int)(x * 1.44269504f - 0.5f);\n"
    "    r = (x - (float)k * 0.693359375f) + (float)k * 2.12194440e-4f;\n"
    "    q = r * (1.0f + r * (0.5f + r * (1.66666672e-1f + r * (4.16666679e-2f\n"
    "        + r * (8.33333377e-3f + r * (1.38888892e-3f + r * 1.98412701e-4f))))));\n"
    "    bits = (uint32_t)(k + 127) << 23;\n"
    "    memcpy(&p2, &bits, sizeof p2);\n"
    "    if (m1) *m1 = p2 * q + (p2 - 1.0f);\n"
    "    return p2 * q + p2;\n"
    "}\n\n";

/* nn__tanhf, the same code: the header's tanh in every float export */
static const char nn__float_tanh_code[] =
    "/* tanh x = -m / (2 + m), m = e^(-2|x|) - 1, with the sign of x (nn.h's\n"
    "   nn__tanhf, which explains it): no libm */\n"
    "static inline float %p__tanh(float x) {\n"
    "    uint32_t xb, ab, tb;\n"
    "    float y, r, q, p2, m, t;\n"
    "    int k;\n"
    "    memcpy(&xb, &x, sizeof xb);\n"
    "    ab = xb & 0x7fffffffu;\n"
    "    if (ab > 0x422ea8f6u) ab = 0x422ea8f6u;\n"
    "    memcpy(&y, &ab, sizeof y);\n"
    "    y *= -2.0f;\n"
    "    k = (int)(y * 1.44269504f - 0.5f);\n"
    "    r = (y - (float)k * 0.693359375f) + (float)k * 2.12194440e-4f;\n"
    "    q = r * (1.0f + r * (0.5f + r * (1.66666672e-1f + r * (4.16666679e-2f +\n"
    "        r * (8.33333377e-3f + r * (1.38888892e-3f + r * 1.98412701e-4f))))));\n"
    "    tb = (uint32_t)(k + 127) << 23;\n"
    "    memcpy(&p2, &tb, sizeof p2);\n"
    "    m = p2 * q + (p2 - 1.0f);\n"
    "    t = m / (2.0f + m);\n"
    "    memcpy(&tb, &t, sizeof tb);\n"
    "    tb = (tb & 0x7fffffffu) | (xb & 0x80000000u);\n"
    "    if ((xb & 0x7fffffffu) > 0x7f800000u) tb = xb;\n"
    "    memcpy(&t, &tb, sizeof t);\n"
    "    return t;\n"
    "}\n\n";

/* The code of one dense layer, as nn__dense_forward on one sample: rows
   of 16 inputs or more in nn__dot_lanes's 16 partial sums, shorter ones
   as the naive loop. */
static const char nn__float_dense_code[] =
    "/* z[o] = b[o] + sum_i x[i] W[o][i], summed as nn.h's nn_predict sums\n"
    "   one sample: rows of 16 or more in 16 interleaved partial sums */\n"
    "static inline void %p__dense(float *z, const float *x, const float *W,\n"
    "                             const float *b, int n_in, int n_out) {\n"
    "    const int n_full = n_in / 16 * 16;\n"
    "    int o, i, v;\n"
    "    for (o = 0; o < n_out; o++, W += n_in) {\n"
    "        float sum = %P__F(&b[o]);\n"
    "        if (n_in >= 16) {\n"
    "            float p[16] = {0}, q[4], dot;\n"
    "            for (i = 0; i < n_full; i += 16)\n"
    "                for (v = 0; v < 16; v++) p[v] += x[i + v] * %P__F(&W[i + v]);\n"
    "            for (v = 0; v < 4; v++)\n"
    "                q[v] = (p[v] + p[v + 8]) + (p[v + 4] + p[v + 12]);\n"
    "            dot = (q[0] + q[2]) + (q[1] + q[3]); /* a float, as nn.h's */\n"
    "            sum += dot;\n"
    "        }\n"
    "        for (i = n_full; i < n_in; i++) sum += x[i] * %P__F(&W[i]);\n"
    "        z[o] = sum;\n"
    "    }\n"
    "}\n\n";
/* The widest of what a layer reads or writes, for the scratch arrays. */
static size_t nn__export_width(const nn_net *net, int with_input) {
    size_t w = with_input ? net->sizes[0] : 0;
    for (size_t l = 1; l <= net->n_layers; l++) w = NN__MAX(w, net->sizes[l]);
    return w;
}

/* The activation of one layer, z -> a, as nn__act_forward writes it.
   The templates compare with integer constants and cast the leaky
   product back to float: where float arithmetic runs in double
   (FLT_EVAL_METHOD 1, as on s390x), a float constant beside a float
   variable is what gcc's -Wdouble-promotion flags. */
static void nn__emit_float_act(nn__text *t, nn_act act, const char *a,
                               const char *z, size_t n) {
    switch (act) {
    case NN_ACT_LINEAR:
        nn__emit(t, "    for (i = 0; i < %z; i++) %s[i] = %s[i];\n", n, a, z);
        break;
    case NN_ACT_SIGMOID:
        nn__emit(t, "    for (i = 0; i < %z; i++) %s[i] = %p__sigmoid(%s[i]);\n",
                 n, a, z);
        break;
    case NN_ACT_TANH:
        nn__emit(t, "    for (i = 0; i < %z; i++) %s[i] = %p__tanh(%s[i]);\n", n, a, z);
        break;
    case NN_ACT_RELU:
        nn__emit(t, "    for (i = 0; i < %z; i++) %s[i] = !(%s[i] <= 0) ? %s[i] : 0;\n",
                 n, a, z, z);
        break;
    case NN_ACT_LEAKY_RELU:
        nn__emit(t, "    for (i = 0; i < %z; i++) %s[i] = %s[i] > 0 ? %s[i] : (float)(%f * %s[i]);\n",
                 n, a, z, z, (double)NN_LEAKY_RELU_SLOPE, z);
        break;
    case NN_ACT_SOFTMAX:
        nn__emit(t, "    %p__softmax(%s, %s, %z);\n", a, z, n);
        break;
    case NN_ACT_COUNT: NN_ASSERT(0 && "not an activation"); break;
    }
}

/* The header's first lines: what it is, the net's shape, the note. */
static void nn__emit_title(nn__text *t, const nn_net *net,
                           const nn_export_options *opt, const char *kind) {
    nn__emit(t, "/* %p.h: a neural network exported by nn.h " NN_VERSION_STRING
                " (nn_export_c), in %s.\n\n   ", kind);
    nn__emit_shape(t, net);
    nn__emit(t, "%s.\n", net->scaled ? "; inputs scaled (x - shift) * scale" : "");
    if (opt->note) nn__emit(t, "   %s\n", opt->note);
}

/* Whether the activations in `used` (bits 1 << nn_act) take e^x: sigmoid
   and softmax, from libm (expf) unless no_libm brings the header's own */
static int nn__uses_exp(unsigned used) {
    return (used & ((1u << NN_ACT_SIGMOID) | (1u << NN_ACT_SOFTMAX))) != 0;
}

/* The includes their code needs: <math.h> for libm's expf, <string.h> for
   the memcpy of the header's own e^x and tanh. */
static void nn__emit_act_include(nn__text *t, unsigned used, int no_libm) {
    if (nn__uses_exp(used) && !no_libm) nn__emit(t, "#include <math.h>\n");
    if ((nn__uses_exp(used) && no_libm) || (used & (1u << NN_ACT_TANH)))
        nn__emit(t, "#include <string.h>\n");
}

/* Which activations a net uses, as bits 1 << nn_act. */
static unsigned nn__acts_used(const nn_net *net) {
    unsigned used = 0;
    for (size_t l = 0; l < net->n_layers; l++) used |= 1u << net->acts[l];
    return used;
}

/* The helpers the activations in `used` (bits 1 << nn_act) call. */
static void nn__emit_act_code(nn__text *t, unsigned used, int no_libm) {
    if (no_libm && nn__uses_exp(used)) nn__emit(t, nn__float_exp_code);
    if (used & (1u << NN_ACT_TANH)) nn__emit(t, nn__float_tanh_code);
    if ((used & (1u << NN_ACT_SIGMOID)) && no_libm)
        nn__emit(t,
                 "static inline float %p__sigmoid(float z) {\n"
                 "    float e;\n"
                 "    if (z >= 0) return 1.0f / (1.0f + %p__exp(-z, 0));\n"
                 "    e = %p__exp(z, 0);\n"
                 "    return e / (1.0f + e);\n"
                 "}\n\n");
    else if (used & (1u << NN_ACT_SIGMOID))
        nn__emit(t,
                 "static inline float %p__sigmoid(float z) {\n"
                 "    float e;\n"
                 "    if (z >= 0) return 1.0f / (1.0f + expf(-z));\n"
                 "    e = expf(z);\n"
                 "    return e / (1.0f + e);\n"
                 "}\n\n");
    if (used & (1u << NN_ACT_SOFTMAX)) {
        nn__emit(t,
                 "static inline void %p__softmax(float *a, const float *z, int n) {\n"
                 "    float m = z[0], sum = 0.0f;\n"
                 "    int o;\n"
                 "    for (o = 1; o < n; o++) m = z[o] > m ? z[o] : m;\n"
                 "    for (o = 0; o < n; o++) {\n");
        nn__emit(t, no_libm ? "        a[o] = %p__exp(z[o] - m, 0);\n"
                            : "        a[o] = expf(z[o] - m);\n");
        nn__emit(t,
                 "        sum += a[o];\n"
                 "    }\n"
                 "    for (o = 0; o < n; o++) a[o] /= sum;\n"
                 "}\n\n");
    }
}

/* PREFIX_classify<suffix>: nn_classify's rule on PREFIX_predict<suffix>'s
   outputs (threshold: the one output's, for a sigmoid alone) */
static void nn__emit_classify(nn__text *t, const char *suffix, const char *in,
                              const char *out, size_t n_out,
                              const char *threshold) {
    nn__emit(t,
             "static inline int %p_classify%s(const %s *x) {\n"
             "    %s y[%z];\n", suffix, in, out, n_out);
    if (n_out == 1)
        nn__emit(t, "    %p_predict%s(x, y);\n    return y[0] > %s;\n}\n\n", suffix,
                 threshold);
    else
        nn__emit(t,
                 "    int o, best = 0;\n"
                 "    %p_predict%s(x, y);\n"
                 "    for (o = 1; o < %z; o++)\n"
                 "        if (y[o] > y[best]) best = o;\n"
                 "    return best;\n"
                 "}\n\n", suffix, n_out);
}

/* static const float PREFIX_<name><l>[count] (no <l> when l is -1): the
   reals v[k] * mul, or mul each when v is NULL */
static void nn__emit_floats(nn__text *t, const char *name, size_t l,
                            const nn_real *v, size_t count, double mul) {
    nn__emit(t, l == (size_t)-1 ? "static const float %p_%s[%z] %P__ROM = {"
                                : "static const float %p_%s%z[%z] %P__ROM = {",
             name, l == (size_t)-1 ? count : l, count);
    for (size_t k = 0; k < count; k++) {
        nn__emit(t, k % 5 == 0 ? "\n    " : " ");
        nn__emit(t, "%f,", v ? (double)v[k] * mul : mul);
    }
    nn__emit(t, "\n};\n");
}

static void nn__export_float(nn__text *t, const nn_net *net,
                             const nn_export_options *opt) {
    const size_t L = net->n_layers, n_in = net->sizes[0], n_out = net->sizes[L];
    const int no_libm = opt->no_libm != 0;
    const unsigned used = nn__acts_used(net);
    const int own = no_libm && nn__uses_exp(used);   /* the header's own e^x */
    const int libm = !no_libm && nn__uses_exp(used); /* libm's expf */
    const size_t width = nn__export_width(net, net->scaled);
    const int classes = nn__has_classes(net);
    size_t bytes = (net->scaled ? 2 * n_in : 0) * sizeof(float);
    for (size_t l = 0; l < L; l++)
        bytes += (net->sizes[l] + 1) * net->sizes[l + 1] * sizeof(float);

    nn__emit_title(t, net, opt, "float");
    nn__emit(t,
             "\n      void %p_predict(const float x[%z], float y[%z]);\n",
             n_in, n_out);
    if (classes)
        nn__emit(t, "      int %p_classify(const float x[%z]);  %s\n", n_in,
                 n_out == 1 ? "1 when y[0] > 0.5, else 0" : "the first largest y");
    nn__emit(t,
             "\n   Constant data: %z bytes (static const).  Scratch: %P_SCRATCH_BYTES\n"
             "   = %z bytes on the stack per call; no other state: the calls are\n"
             "   reentrant.  C99 or C++, no allocation, ",
             bytes, 2 * width * sizeof(float));
    if (libm)
        nn__emit(t, "needs expf from libm (-lm).\n");
    else
        nn__emit(t, "no libm%s.\n", own ? " (e^x is this header's own, within 1.3 ulp)" : "");
    nn__emit(t,
             "   The arithmetic is nn_predict's on one sample in a float build, so the\n"
             "   outputs are the same bit for bit when both are compiled alike%s. */\n",
             own ? " (up to\n   the e^x)" : "");
    nn__emit_rom(t, 1);
    nn__emit_act_include(t, used, no_libm);
    nn__emit(t, "\n#define %P_N_IN %z\n#define %P_N_OUT %z\n#define %P_SCRATCH_BYTES %z\n\n",
             n_in, n_out, 2 * width * sizeof(float));

    /* the constants */
    if (net->scaled) {
        nn__emit_floats(t, "shift", (size_t)-1, net->in_shift, n_in, 1);
        nn__emit_floats(t, "scale", (size_t)-1, net->in_scale, n_in, 1);
    }
    for (size_t l = 0; l < L; l++) {
        const size_t a = net->sizes[l], b = net->sizes[l + 1];
        const nn_real *W = net->params + net->offsets[l];
        nn__emit(t, "/* layer %z: %z -> %z, %s; W[o][i] row-major, then b */\n",
                 l, a, b, nn__act_name(net->acts[l]));
        nn__emit_floats(t, "w", l, W, a * b, 1);
        nn__emit_floats(t, "b", l, W + a * b, b, 1);
    }
    nn__emit(t, "\n");

    /* the functions */
    nn__emit(t, nn__float_dense_code);
    nn__emit_act_code(t, used, no_libm);
    nn__emit(t,
             "static inline void %p_predict(const float *x, float *y) {\n"
             "    float a[%z], z[%z];\n"
             "    int i;\n", width, width);
    if (net->scaled)
        nn__emit(t,
                 "    for (i = 0; i < %z; i++)\n"
                 "        a[i] = (x[i] - %P__F(&%p_shift[i])) * %P__F(&%p_scale[i]);\n",
                 n_in);
    for (size_t l = 0; l < L; l++) {
        nn__emit(t, "    %p__dense(z, %s, %p_w%z, %p_b%z, %z, %z);\n",
                 l == 0 && !net->scaled ? "x" : "a", l, l, net->sizes[l],
                 net->sizes[l + 1]);
        nn__emit_float_act(t, net->acts[l], l == L - 1 ? "y" : "a", "z",
                           net->sizes[l + 1]);
    }
    if (!net->scaled && L == 1) nn__emit(t, "    (void)a;\n");
    if (!net->scaled && used == 1u << NN_ACT_SOFTMAX) nn__emit(t, "    (void)i;\n");
    nn__emit(t, "}\n\n");
    if (classes) nn__emit_classify(t, "", "float", "float", n_out, "(float)0.5");
    nn__emit(t, "#endif /* %P_H_INCLUDED */\n");
}

/* The int8 export.
   Real numbers r are held as int8 q with a scale s and a zero point zp,
   r = s (q - zp).  For a layer with input (s_x, zp_x) and output
   (s_y, zp_y), weights W[o][i] = s_w[o] wq[o][i] (symmetric, one s_w per
   output unit, |wq| <= 127):
     z[o] = b[o] + sum_i W[o][i] x[i]
          = s_x s_w[o] (bq[o] + sum_i wq[o][i] xq[i])
     with bq[o] = round(b[o] / (s_x s_w[o])) - zp_x sum_i wq[o][i],
   so the int32 sum acc = bq + sum wq xq is z in units of s_x s_w[o], and
   yq = zp_y + round(acc M[o]), M[o] = s_x s_w[o] / s_y, held as m 2^-r
   with m in [2^14, 2^15) (TensorFlow Lite keeps 31 bits and a 64-bit
   product; 15 bits, a relative error of 3e-5, need only 32-bit products,
   which an 8-bit AVR does in a quarter of the code).  ReLU
   clamps at zp_y (the real 0); leaky ReLU takes a second multiplier,
   0.01 M, for acc < 0; sigmoid and tanh first bring z to int8 on a scale
   of their own, then look a[q] up in a table with TensorFlow Lite's fixed
   output scales (sigmoid 1/256 from -128, tanh 1/128 around 0).  The
   last layer's z goes to int16 on the scale PREFIX_Z_SCALE = max|z| /
   32767 instead, fine enough for an argmax, and the float API applies the
   output activation to it in float. */

typedef struct nn__q8 {
    int *w, *r, *rn, *lut; /* wq (n_out x n_in), shifts, the table (256) */
    long *b, *m, *mn;      /* bq, multipliers; mn for leaky ReLU */
    double s_y;            /* output scale: of a, of z for tables and the
                              last layer */
    int zp_y, lo;          /* output zero point, least output (ReLU: zp_y) */
} nn__q8;

/* scale and zero point that hold [lo, hi] (widened to take 0) in int8 */
static void nn__qparams(double lo, double hi, double *s, int *zp) {
    double z;
    lo = NN__MIN(lo, 0.0);
    hi = NN__MAX(hi, 0.0);
    *s = (hi - lo) / 255;
    if (!(*s > 0)) *s = 1;
    z = floor(-128 - lo / *s + 0.5);
    *zp = (int)NN__MAX(-128.0, NN__MIN(127.0, z));
}

/* M = m 2^-r, m in [2^14, 2^15), 0 <= r <= 46 (a smaller M gives a
   smaller m); 0 when M >= 2^15 */
static int nn__qmul(double M, long *m, int *r) {
    int e;
    double f = frexp(M, &e);
    long q = (long)floor(f * 32768.0 + 0.5);
    if (q >= 32768L) {
        q /= 2;
        e++;
    }
    *r = 15 - e;
    if (*r < 0) return 0;
    while (*r > 46) {
        q /= 2;
        (*r)--;
    }
    *m = q;
    return 1;
}

static int nn__round_int(double v) { return (int)floor(v + 0.5); }

/* The ranges nn_predict's arithmetic meets on the calibration rows: the
   scaled input (range[0..1]), and per layer l the z (range[2 + 4l ..]) and
   the a (range[4 + 4l ..]) */
static nn_result nn__calibrate(const nn_net *net, const nn_real *x, size_t n,
                               double *range) {
    const size_t L = net->n_layers, n_in = net->sizes[0], C = 64;
    const size_t width = nn__predict_width(net);
    nn_real *buf, *in, *z, *a;
    size_t count;
    if (!nn__mul(n, n_in, &count)) return NN_ERR_INVALID;
    if (!nn__all_finite(x, count)) return NN_ERR_NONFINITE;
    buf = (nn_real *)NN_MALLOC(3 * C * width * sizeof *buf);
    if (!buf) return NN_ERR_NOMEM;
    in = buf;
    z = buf + C * width;
    a = buf + 2 * C * width;
    for (size_t k = 0; k < 2 + 4 * L; k++) range[k] = k % 2 ? -HUGE_VAL : HUGE_VAL;
    for (size_t start = 0; start < n; start += C) {
        const size_t B = NN__MIN(C, n - start);
        const nn_real *xl = in;
        if (net->scaled) nn__scale_input(net, in, x + start * n_in, B);
        else memcpy(in, x + start * n_in, B * n_in * sizeof *in);
        for (size_t k = 0; k < B * n_in; k++) {
            range[0] = NN__MIN(range[0], (double)in[k]);
            range[1] = NN__MAX(range[1], (double)in[k]);
        }
        for (size_t l = 0; l < L; l++) {
            const size_t ni = net->sizes[l], no = net->sizes[l + 1];
            const nn_real *W = net->params + net->offsets[l];
            double *rz = range + 2 + 4 * l;
            nn__dense_forward(z, xl, W, W + ni * no, B, ni, no);
            nn__act_forward(l % 2 ? in : a, z, B, no, net->acts[l]);
            xl = l % 2 ? in : a;
            for (size_t k = 0; k < B * no; k++) {
                rz[0] = NN__MIN(rz[0], (double)z[k]);
                rz[1] = NN__MAX(rz[1], (double)z[k]);
                rz[2] = NN__MIN(rz[2], (double)xl[k]);
                rz[3] = NN__MAX(rz[3], (double)xl[k]);
            }
        }
    }
    NN_FREE(buf);
    for (size_t k = 0; k < 2 + 4 * L; k++)
        if (!nn__finite(range[k])) return NN_ERR_NONFINITE;
    return NN_OK;
}

static void nn__q8_free(nn__q8 *q, size_t L) {
    if (!q) return;
    for (size_t l = 0; l < L; l++) {
        NN_FREE(q[l].w);
        NN_FREE(q[l].r);
        NN_FREE(q[l].rn);
        NN_FREE(q[l].lut);
        NN_FREE(q[l].b);
        NN_FREE(q[l].m);
        NN_FREE(q[l].mn);
    }
    NN_FREE(q);
}

/* Quantizes the net for its calibration ranges: q[0 .. L-1], and the
   input's scale and zero point. */
static nn_result nn__quantize(const nn_net *net, const double *range,
                              nn__q8 *q, double *s_in, int *zp_in) {
    const size_t L = net->n_layers;
    double s_x;
    int zp_x;
    nn__qparams(range[0], range[1], s_in, zp_in);
    s_x = *s_in;
    zp_x = *zp_in;
    for (size_t l = 0; l < L; l++) {
        const size_t ni = net->sizes[l], no = net->sizes[l + 1];
        const nn_real *W = net->params + net->offsets[l];
        const double *rz = range + 2 + 4 * l;
        const nn_act act = net->acts[l];
        const int last = l == L - 1, table = !last && (act == NN_ACT_SIGMOID || act == NN_ACT_TANH);
        nn__q8 *p = &q[l];
        if (!last && act == NN_ACT_SOFTMAX) return NN_ERR_UNSUPPORTED;
        p->w = (int *)NN_MALLOC(ni * no * sizeof *p->w);
        p->r = (int *)NN_MALLOC(no * sizeof *p->r);
        p->b = (long *)NN_MALLOC(no * sizeof *p->b);
        p->m = (long *)NN_MALLOC(no * sizeof *p->m);
        if (!last && act == NN_ACT_LEAKY_RELU) {
            p->rn = (int *)NN_MALLOC(no * sizeof *p->rn);
            p->mn = (long *)NN_MALLOC(no * sizeof *p->mn);
            if (!p->rn || !p->mn) return NN_ERR_NOMEM;
        }
        if (table && !(p->lut = (int *)NN_MALLOC(256 * sizeof *p->lut)))
            return NN_ERR_NOMEM;
        if (!p->w || !p->r || !p->b || !p->m) return NN_ERR_NOMEM;
        /* the output's scale */
        p->lo = -128;
        if (last) {
            const double zmax = NN__MAX(fabs(rz[0]), fabs(rz[1]));
            p->s_y = zmax > 0 ? zmax / 32767 : 1;
            p->zp_y = 0;
            p->lo = -32767;
        } else if (table) {
            /* z beyond these is a table end: sigmoid within 1/512 of 0 or
               1 for |z| > 6.24, tanh within 1/256 of -1 or 1 for |z| >
               2.57 */
            const double clip = act == NN_ACT_SIGMOID ? 6.5 : 3.0;
            nn__qparams(NN__MAX(rz[0], -clip), NN__MIN(rz[1], clip), &p->s_y,
                        &p->zp_y);
        } else {
            nn__qparams(act == NN_ACT_RELU ? 0.0 : rz[2], rz[3], &p->s_y,
                        &p->zp_y);
            if (act == NN_ACT_RELU) p->lo = p->zp_y;
        }
        for (size_t o = 0; o < no; o++) {
            const nn_real *Wo = W + o * ni;
            double wmax = 0, s_w, bq;
            long wsum = 0;
            for (size_t i = 0; i < ni; i++) wmax = NN__MAX(wmax, fabs((double)Wo[i]));
            s_w = wmax > 0 ? wmax / 127 : 1;
            for (size_t i = 0; i < ni; i++) {
                p->w[o * ni + i] = nn__round_int((double)Wo[i] / s_w);
                wsum += p->w[o * ni + i];
            }
            /* the sum must stay below 2^30 whatever the inputs (see
               PREFIX__scale): |bq| plus n_in * 127 * 128 */
            bq = floor((double)W[ni * no + o] / (s_x * s_w) + 0.5) - (double)zp_x * (double)wsum;
            if (fabs(bq) + (double)ni * 127 * 128 >= 1073741824.0) return NN_ERR_UNSUPPORTED;
            p->b[o] = (long)bq;
            if (!nn__qmul(s_x * s_w / p->s_y, &p->m[o], &p->r[o]))
                return NN_ERR_UNSUPPORTED;
            if (p->mn &&
                !nn__qmul(NN_LEAKY_RELU_SLOPE * s_x * s_w / p->s_y, &p->mn[o], &p->rn[o]))
                return NN_ERR_UNSUPPORTED;
        }
        if (table) {
            /* a = f(z) at each int8 z, on the fixed output scale */
            const double s_a = act == NN_ACT_SIGMOID ? 1.0 / 256 : 1.0 / 128;
            const int zp_a = act == NN_ACT_SIGMOID ? -128 : 0;
            for (int k = 0; k < 256; k++) {
                const double zr = p->s_y * (k - 128 - p->zp_y);
                const double f = act == NN_ACT_SIGMOID ? 1 / (1 + exp(-zr)) : tanh(zr);
                p->lut[k] = (int)NN__MAX(-128.0, NN__MIN(127.0, floor(f / s_a + 0.5) + zp_a));
            }
            s_x = s_a;
            zp_x = zp_a;
        } else {
            s_x = p->s_y;
            zp_x = p->zp_y;
        }
    }
    return NN_OK;
}

static const char nn__int8_code[] =
    "/* acc m / 2^r rounded (halves up) and held to int16's range, in 32-bit\n"
    "   integers only: m < 2^15 and acc = hi 2^16 + lo with 0 <= lo < 2^16,\n"
    "   so x = acc m / 2^15 = 2 hi m + lo m / 2^15, each part within 31 bits\n"
    "   (|acc| < 2^30); then x / 2^(r - 15) rounded, or x 2^(15 - r).  Shifts\n"
    "   act on values made nonnegative, where C defines them. */\n"
    "static int32_t %p__scale(int32_t acc, int32_t m, int r) {\n"
    "    const uint32_t ua = (uint32_t)acc + 0x80000000u;\n"
    "    const int32_t hi = (int32_t)(ua >> 16) - 32768;\n"
    "    const uint32_t lo = ua & 0xFFFFu;\n"
    "    const int32_t x = 2 * hi * m + (int32_t)((lo * (uint32_t)m + 16384u) >> 15);\n"
    "    const int s = r - 15;\n"
    "    int32_t v;\n"
    "    if (s > 0) {\n"
    "        const uint32_t ux = (uint32_t)x + 0x80000000u;\n"
    "        v = (int32_t)(ux >> s) - (int32_t)(0x80000000u >> s)\n"
    "            + (int32_t)((ux >> (s - 1)) & 1u);\n"
    "    } else {\n"
    "        v = x > 32767 ? 32767 : x < -32767 ? -32767 : x;\n"
    "        v *= (int32_t)1 << (s < -15 ? 15 : -s);\n"
    "    }\n"
    "    return v > 32767 ? 32767 : v < -32767 ? -32767 : v;\n"
    "}\n\n"
    "/* one layer: the int32 sums, each brought to the output's scale (by mn\n"
    "   and rn for negative sums when mn is not 0), plus its zero point,\n"
    "   held to [lo, hi], then through the table when there is one */\n"
    "static inline void %p__layer(void *out, int wide, const int8_t *x,\n"
    "                             const int8_t *W, const int32_t *b,\n"
    "                             const int16_t *m, const int8_t *r,\n"
    "                             const int16_t *mn, const int8_t *rn,\n"
    "                             const int8_t *lut, int n_in, int n_out,\n"
    "                             int zp, int lo, int hi) {\n"
    "    int o, i;\n"
    "    for (o = 0; o < n_out; o++, W += n_in) {\n"
    "        int32_t acc = %P__I32(&b[o]), v;\n"
    "        for (i = 0; i < n_in; i++) acc += %P__I8(&W[i]) * x[i];\n"
    "        if (mn && acc < 0)\n"
    "            v = %p__scale(acc, %P__I16(&mn[o]), %P__I8(&rn[o]));\n"
    "        else\n"
    "            v = %p__scale(acc, %P__I16(&m[o]), %P__I8(&r[o]));\n"
    "        v += zp;\n"
    "        v = v < lo ? lo : v > hi ? hi : v;\n"
    "        if (wide) ((int16_t *)out)[o] = (int16_t)v;\n"
    "        else ((int8_t *)out)[o] = lut ? %P__I8(&lut[v + 128]) : (int8_t)v;\n"
    "    }\n"
    "}\n\n";

static void nn__emit_ints(nn__text *t, const char *type, const char *name,
                          size_t l, const void *v, size_t count, int kind) {
    nn__emit(t, "static const %s %p_%s%z[%z] %P__ROM = {", type, name, l, count);
    nn__emit_values(t, v, count, kind);
}

static void nn__export_int8(nn__text *t, const nn_net *net,
                            const nn_export_options *opt, const nn__q8 *q,
                            double s_in, int zp_in) {
    const size_t L = net->n_layers, n_in = net->sizes[0], n_out = net->sizes[L];
    const nn_act out_act = net->acts[L - 1];
    const unsigned out_used = 1u << out_act;
    const int classes = nn__has_classes(net);
    const int no_libm = opt->no_libm != 0;
    const int libm = !no_libm && nn__uses_exp(out_used); /* libm's expf */
    size_t bytes = 0, hidden = 0, scratch;
    for (size_t l = 0; l < L; l++) {
        const size_t ni = net->sizes[l], no = net->sizes[l + 1];
        bytes += ni * no + no * (4 + 2 + 1) + (q[l].mn ? no * 3 : 0) + (q[l].lut ? 256 : 0);
        if (l + 1 < L) hidden = NN__MAX(hidden, no);
    }
    scratch = (L > 2 ? 2 : L > 1 ? 1 : 0) * hidden + 2 * n_out;

    nn__emit_title(t, net, opt, "int8");
    nn__emit(t,
             "\n   Integers only (int8 weights and activations, int32 sums):\n"
             "      void %p_predict_q(const int8_t xq[%z], int16_t zq[%z]);  the last\n"
             "               layer's z = zq * %P_Z_SCALE, before its %s\n",
             n_in, n_out, nn__act_name(out_act));
    if (classes)
        nn__emit(t, "      int %p_classify_q(const int8_t xq[%z]);  %s\n", n_in,
                 n_out == 1 ? "1 when z > 0, else 0" : "the first largest z");
    nn__emit(t,
             "   In float (left out when %P_NO_FLOAT is defined):\n"
             "      void %p_quantize(const float x[%z], int8_t xq[%z]);  raw inputs\n"
             "      void %p_predict(const float x[%z], float y[%z]);\n",
             n_in, n_in, n_in, n_out);
    if (classes) nn__emit(t, "      int %p_classify(const float x[%z]);\n", n_in);
    nn__emit(t,
             "\n   Constant data: %z bytes (static const), %z more with the float part.\n"
             "   Scratch: %P_SCRATCH_BYTES = %z bytes on the stack per call (%z more in\n"
             "   the float calls); no other state: the calls are reentrant.  C99 or\n"
             "   C++, no allocation; the float part needs %s%s.\n"
             "   Weights: one symmetric scale per output unit; activations: a scale\n"
             "   and zero point per layer, calibrated on %z sample rows. */\n",
             bytes, 8 * n_in, scratch, n_in,
             libm ? "expf" : "no libm", libm ? " from libm (-lm)" : "",
             opt->calib_n);
    nn__emit_rom(t, 1);
    nn__emit(t,
             "#define %P_N_IN %z\n#define %P_N_OUT %z\n#define %P_SCRATCH_BYTES %z\n"
             "#define %P_IN_ZERO %d   /* xq = round(x' / %P_IN_SCALE) + %P_IN_ZERO */\n"
             "#define %P_IN_SCALE %f\n"
             "#define %P_Z_SCALE %f\n\n",
             n_in, n_out, scratch, zp_in, s_in, q[L - 1].s_y);
    for (size_t l = 0; l < L; l++) {
        const size_t ni = net->sizes[l], no = net->sizes[l + 1];
        nn__emit(t, "/* layer %z: %z -> %z, %s */\n", l, ni, no,
                 nn__act_name(net->acts[l]));
        nn__emit_ints(t, "int8_t", "w", l, q[l].w, ni * no, 1);
        nn__emit_ints(t, "int32_t", "b", l, q[l].b, no, 2);
        nn__emit_ints(t, "int16_t", "m", l, q[l].m, no, 2);
        nn__emit_ints(t, "int8_t", "r", l, q[l].r, no, 1);
        if (q[l].mn) {
            nn__emit_ints(t, "int16_t", "mn", l, q[l].mn, no, 2);
            nn__emit_ints(t, "int8_t", "rn", l, q[l].rn, no, 1);
        }
        if (q[l].lut) nn__emit_ints(t, "int8_t", "t", l, q[l].lut, 256, 1);
    }
    nn__emit(t, "\n");
    nn__emit(t, nn__int8_code);
    nn__emit(t, "static inline void %p_predict_q(const int8_t *xq, int16_t *zq) {\n");
    if (L > 1) nn__emit(t, "    int8_t a[%z]%s;\n", hidden, L > 2 ? ", c[sizeof a]" : "");
    for (size_t l = 0; l < L; l++) {
        const int last = l == L - 1;
        nn__emit(t, "    %p__layer(%s, %d, %s, %p_w%z, %p_b%z, %p_m%z, %p_r%z, ",
                 last ? "zq" : l % 2 ? "c" : "a", last, l == 0 ? "xq" : l % 2 ? "a" : "c",
                 l, l, l, l);
        if (q[l].mn) nn__emit(t, "%p_mn%z, %p_rn%z, ", l, l);
        else nn__emit(t, "0, 0, ");
        if (q[l].lut) nn__emit(t, "%p_t%z, ", l);
        else nn__emit(t, "0, ");
        nn__emit(t, "%z, %z, %d, %d, %d);\n", net->sizes[l], net->sizes[l + 1],
                 q[l].zp_y, q[l].lo, last ? 32767 : 127);
    }
    nn__emit(t, "}\n\n");
    if (classes) nn__emit_classify(t, "_q", "int8_t", "int16_t", n_out, "0");

    /* the float part */
    nn__emit(t, "#ifndef %P_NO_FLOAT\n");
    nn__emit_act_include(t, out_used, no_libm);
    nn__emit(t, "/* xq = round((x - shift) mul) + %P_IN_ZERO, mul = scale / %P_IN_SCALE */\n");
    nn__emit_floats(t, "in_shift", (size_t)-1, net->scaled ? net->in_shift : NULL, n_in,
                    net->scaled ? 1 : 0);
    nn__emit_floats(t, "in_mul", (size_t)-1, net->scaled ? net->in_scale : NULL, n_in, 1 / s_in);
    nn__emit(t, "\n");
    nn__emit_act_code(t, out_used, no_libm);
    nn__emit(t,
             "static inline void %p_quantize(const float *x, int8_t *xq) {\n"
             "    int i;\n"
             "    for (i = 0; i < %z; i++) {\n"
             "        const float v = (x[i] - %P__F(&%p_in_shift[i])) * %P__F(&%p_in_mul[i]);\n"
             "        int q = !(v > -256) ? -256 : v > 256 ? 256\n"
             "              : v < 0 ? -(int)(0.5f - v) : (int)(v + 0.5f);\n"
             "        q += %P_IN_ZERO;\n"
             "        xq[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);\n"
             "    }\n"
             "}\n\n"
             "static inline void %p_predict(const float *x, float *y) {\n"
             "    int8_t xq[%z];\n"
             "    int16_t zq[%z];\n"
             "    int i;\n"
             "    %p_quantize(x, xq);\n"
             "    %p_predict_q(xq, zq);\n"
             "    for (i = 0; i < %z; i++) y[i] = (float)zq[i] * %P_Z_SCALE;\n",
             n_in, n_in, n_out, n_out);
    if (out_act != NN_ACT_LINEAR)
        nn__emit_float_act(t, out_act, "y", "y", n_out);
    nn__emit(t, "}\n\n");
    if (classes)
        nn__emit(t,
                 "static inline int %p_classify(const float *x) {\n"
                 "    int8_t xq[%z];\n"
                 "    %p_quantize(x, xq);\n"
                 "    return %p_classify_q(xq);\n"
                 "}\n", n_in);
    nn__emit(t, "#endif /* %P_NO_FLOAT */\n\n#endif /* %P_H_INCLUDED */\n");
}

NNDEF nn_export_options nn_export_defaults(void) {
    nn_export_options o;
    memset(&o, 0, sizeof o);
    o.kind = NN_EXPORT_FLOAT;
    return o;
}

/* Refuses what cannot be exported, quantizes for int8, then makes the
   text twice: once to measure it (*len), once into buf when it fits in
   cap, or into a buffer of its own in *alloc when alloc is not NULL. */
static nn_result nn__export(const nn_net *net, const char *prefix,
                            const nn_export_options *opt, char *buf,
                            size_t cap, size_t *len, char **alloc) {
    const size_t L = net->n_layers;
    char upper[33];
    size_t n = 0;
    double *range = NULL, s_in = 1;
    int zp_in = 0;
    nn__q8 *q = NULL;
    nn_result r = NN_OK;
    nn__text t;
    if (!prefix || (size_t)opt->kind >= NN_EXPORT_COUNT) return NN_ERR_INVALID;
    for (; prefix[n]; n++) {
        const char c = prefix[n];
        const int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (n == 32 || !(letter || (n > 0 && c >= '0' && c <= '9'))) return NN_ERR_INVALID;
        upper[n] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    upper[n] = 0;
    if (n == 0) return NN_ERR_INVALID;
    if (opt->note)
        for (const char *c = opt->note; *c; c++)
            if (*c == '\n' || *c == '\r' || (c[0] == '*' && c[1] == '/')) return NN_ERR_INVALID;
    for (size_t l = 0; l <= L; l++)
        if (net->sizes[l] > 32767) return NN_ERR_UNSUPPORTED;
    if (!nn__all_finite(net->params, net->n_params) ||
        (net->scaled && (!nn__all_finite(net->in_shift, net->sizes[0]) ||
                         !nn__all_finite(net->in_scale, net->sizes[0]))))
        return NN_ERR_NONFINITE;
    if (opt->kind == NN_EXPORT_INT8) {
        if (!opt->calib_x || opt->calib_n == 0) return NN_ERR_INVALID;
        range = (double *)NN_MALLOC((2 + 4 * L) * sizeof *range);
        q = (nn__q8 *)NN_MALLOC(L * sizeof *q);
        if (!range || !q) {
            r = NN_ERR_NOMEM;
            goto done;
        }
        memset(q, 0, L * sizeof *q);
        r = nn__calibrate(net, opt->calib_x, opt->calib_n, range);
        if (r == NN_OK) r = nn__quantize(net, range, q, &s_in, &zp_in);
        if (r != NN_OK) goto done;
    }
    for (int pass = 0; pass < 2; pass++) {
        t.buf = pass ? buf : NULL;
        t.cap = pass ? cap : 0;
        t.len = 0;
        t.lower = prefix;
        t.upper = upper;
        if (opt->kind == NN_EXPORT_FLOAT) nn__export_float(&t, net, opt);
        else nn__export_int8(&t, net, opt, q, s_in, zp_in);
        if (pass) {
            buf[t.len] = 0;
            break;
        }
        if (len) *len = t.len;
        if (alloc) {
            buf = (char *)NN_MALLOC(t.len + 1);
            if (!buf) {
                r = NN_ERR_NOMEM;
                break;
            }
            cap = t.len + 1;
            *alloc = buf;
        } else if (!buf) {
            break; /* only the length */
        } else if (cap <= t.len) {
            r = NN_ERR_INVALID;
            break;
        }
    }
done:
    nn__q8_free(q, q ? L : 0);
    NN_FREE(range);
    return r;
}

NNDEF nn_result nn_export_c_mem(const nn_net *net, const char *prefix,
                                const nn_export_options *opt, char *buf,
                                size_t cap, size_t *len) {
    const nn_export_options defaults = nn_export_defaults();
    NN_ASSERT(net);
    if (!buf && cap != 0) return NN_ERR_INVALID;
    return nn__export(net, prefix, opt ? opt : &defaults, buf, cap, len, NULL);
}

#ifndef NN_NO_STDIO
NNDEF nn_result nn_export_c(const nn_net *net, FILE *out, const char *prefix,
                            const nn_export_options *opt) {
    const nn_export_options defaults = nn_export_defaults();
    char *text = NULL;
    size_t len = 0;
    nn_result r;
    NN_ASSERT(net);
    if (!out) return NN_ERR_INVALID;
    r = nn__export(net, prefix, opt ? opt : &defaults, NULL, 0, &len, &text);
    if (r == NN_OK && (fwrite(text, 1, len, out) != len || ferror(out)))
        r = NN_ERR_IO;
    NN_FREE(text);
    return r;
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* NN__IMPLEMENTATION_INCLUDED */
#endif /* NN_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under 2 licenses -- choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the nn.h authors
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain.
Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
software, either in source code form or as a compiled binary, for any purpose,
commercial or non-commercial, and by any means.
In jurisdictions that recognize copyright laws, the author or authors of this
software dedicate any and all copyright interest in the software to the public
domain. We make this dedication in perpetuity for the benefit of our heirs and
successors. We intend this dedication to be an overt act of relinquishment in
perpetuity of all present and future rights to this software under copyright
law.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN
ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
------------------------------------------------------------------------------
*/
