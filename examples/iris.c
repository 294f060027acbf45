/* iris.c - classification on real data: Fisher's Iris flowers with nn.h.

   150 flowers, 4 measurements each (sepal and petal length and width, in
   cm), 3 species.  The example
     - reads examples/data/iris.csv (see examples/data/README.md),
     - splits it 80/20 into training and test sets, stratified: 40 flowers
       of each species to train on, 10 to test on, drawn with a fixed seed,
     - standardizes each feature with the training set's mean and spread,
       inside the net (nn_fit_input_scaling), so that the net takes
       measurements in cm and a saved model keeps the map,
     - trains 4 -> 16 ReLU -> 3 softmax with cross-entropy and Adam through
       nn_train, printing the loss every 25 epochs from its callback,
     - asks the trained net which measurements each species depends on
       (saliency, from nn_output_grad: see below),
     - prints the confusion matrix and the test accuracy.

   Build and run:  make examples && ./build/examples/iris [path/to/iris.csv]
   (run it from the repository root, or give the path). */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define N_ROWS 150
#define N_FEAT 4
#define N_CLASS 3
#define N_TEST_PER_CLASS 10

static const char *species[N_CLASS] = {"setosa", "versicolor", "virginica"};
static const char *features[N_FEAT] = {"sepal len", "sepal wid", "petal len", "petal wid"};

/* Reads the CSV: a header line, then 4 numbers and a class index a line.
   Returns 0 and says why on a bad file. */
static int read_iris(const char *path, double *x, int *label) {
    FILE *f = fopen(path, "r");
    char header[256];
    int n = 0;
    if (!f) {
        fprintf(stderr, "iris: cannot open %s (run from the repository root, "
                        "or give the path of iris.csv)\n", path);
        return 0;
    }
    if (!fgets(header, sizeof header, f)) n = -1;
    while (n >= 0 && n < N_ROWS) {
        double *r = x + n * N_FEAT;
        if (fscanf(f, "%lf,%lf,%lf,%lf,%d", &r[0], &r[1], &r[2], &r[3], &label[n]) != 5 ||
            label[n] < 0 || label[n] >= N_CLASS)
            break;
        n++;
    }
    fclose(f);
    if (n != N_ROWS) {
        fprintf(stderr, "iris: %s is not the 150-row Iris CSV\n", path);
        return 0;
    }
    return 1;
}

/* Saliency: how much the net's probability of species c moves when one
   measurement of a flower moves by one standard deviation, i.e.
   |dp_c/dx_j| sd_j, averaged over the flowers of species c.
   nn_output_grad gives all four derivatives (per cm: the net takes raw
   measurements) of one output for a whole batch in one backward pass, and
   the net's input scaling holds 1 / sd_j.  Each row is printed as shares of its total; the
   share of the petal measurements is returned for the test to check.  The
   row total is small where the net is sure: a flower far inside its
   species' region barely moves p whichever measurement changes. */
static double print_saliency(nn_net *net, const nn_real *x, const nn_real *y, size_t n) {
    static nn_real dx[N_ROWS * N_FEAT];
    const nn_real *scale;
    double petal = 0;
    nn_input_scaling(net, NULL, &scale);
    printf("\nsaliency: mean |d p(species) / d measurement| over that species' flowers,\n"
           "as shares of each row\n%12s", "");
    for (size_t j = 0; j < N_FEAT; j++) printf(" %10s", features[j]);
    printf("   row total\n");
    if (!nn_forward(net, x, n)) return 0;
    for (size_t c = 0; c < N_CLASS; c++) {
        double mean[N_FEAT] = {0, 0, 0, 0}, total = 0, count = 0;
        nn_output_grad(net, c, dx);
        for (size_t s = 0; s < n; s++)
            if (y[s * N_CLASS + c] == 1) {
                for (size_t j = 0; j < N_FEAT; j++)
                    mean[j] += fabs((double)dx[s * N_FEAT + j]) / (double)scale[j];
                count++;
            }
        for (size_t j = 0; j < N_FEAT; j++) total += mean[j];
        printf("%12s", species[c]);
        for (size_t j = 0; j < N_FEAT; j++) printf(" %9.0f%%", 100 * mean[j] / total);
        printf("   %9.2e\n", total / count);
        petal += (mean[2] + mean[3]) / total / N_CLASS;
    }
    return petal;
}

static int print_progress(const nn_train_info *info, void *user) {
    (void)user;
    if (info->epoch % 25 == 0)
        printf("epoch %3zu  train loss %.4f\n", info->epoch, info->train_loss);
    return 0; /* go on */
}

int main(int argc, char **argv) {
    static double raw[N_ROWS * N_FEAT];
    static int label[N_ROWS];
    static nn_real x_train[N_ROWS * N_FEAT], y_train[N_ROWS * N_CLASS];
    static nn_real x_test[N_ROWS * N_FEAT], y_test[N_ROWS * N_CLASS];
    const size_t sizes[] = {N_FEAT, 16, N_CLASS};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    size_t n_train = 0, n_test = 0, order[N_ROWS], counts[N_CLASS * N_CLASS];
    double acc;
    nn_train_config cfg;
    nn_rng rng;
    nn_net *net;

    if (!read_iris(argc > 1 ? argv[1] : "examples/data/iris.csv", raw, label)) return 1;

    /* stratified split: shuffle all rows once, then take each species'
       first 10 rows (in that order) for the test set */
    nn_rng_seed(&rng, 2026);
    nn_rng_permutation(&rng, order, N_ROWS);
    {
        int taken[N_CLASS] = {0, 0, 0};
        for (size_t k = 0; k < N_ROWS; k++) {
            const size_t i = order[k];
            const size_t c = (size_t)label[i];
            const int test = taken[c]++ < N_TEST_PER_CLASS;
            nn_real *xr = test ? x_test + n_test * N_FEAT : x_train + n_train * N_FEAT;
            nn_real *yr = test ? y_test + n_test * N_CLASS : y_train + n_train * N_CLASS;
            for (size_t j = 0; j < N_FEAT; j++) xr[j] = (nn_real)raw[i * N_FEAT + j];
            for (size_t j = 0; j < N_CLASS; j++) yr[j] = (nn_real)(j == c); /* one-hot */
            if (test) n_test++;
            else n_train++;
        }
    }

    net = nn_create(2, sizes, acts, 42, NULL);
    if (!net) return 1;
    /* standardize, inside the net: the training set's statistics, so the
       test set stays unseen */
    if (nn_fit_input_scaling(net, x_train, n_train) != NN_OK) {
        nn_destroy(net);
        return 1;
    }
    cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY); /* Adam, batches of 32 */
    cfg.opt.lr = 0.01;
    cfg.epochs = 150;
    cfg.on_epoch = print_progress;
    printf("training on %zu flowers, testing on %zu\n", n_train, n_test);
    if (nn_train(net, &cfg, x_train, y_train, n_train, NULL) != NN_OK ||
        nn_confusion_matrix(net, x_test, y_test, n_test, counts) != NN_OK ||
        nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, x_test, y_test, n_test, NULL, &acc) != NN_OK) {
        nn_destroy(net);
        return 1;
    }

    /* every flower, training and test: the question is what the net
       learned, not how well it generalizes */
    {
        static nn_real x_all[N_ROWS * N_FEAT], y_all[N_ROWS * N_CLASS];
        memcpy(x_all, x_train, n_train * N_FEAT * sizeof *x_all);
        memcpy(x_all + n_train * N_FEAT, x_test, n_test * N_FEAT * sizeof *x_all);
        memcpy(y_all, y_train, n_train * N_CLASS * sizeof *y_all);
        memcpy(y_all + n_train * N_CLASS, y_test, n_test * N_CLASS * sizeof *y_all);
        printf("petal share of the saliency: %.2f\n",
               print_saliency(net, x_all, y_all, N_ROWS));
    }

    printf("\nconfusion matrix (rows: true species, columns: predicted)\n%12s", "");
    for (int p = 0; p < N_CLASS; p++) printf(" %10.10s", species[p]);
    printf("\n");
    for (int t = 0; t < N_CLASS; t++) {
        printf("%12s", species[t]);
        for (int p = 0; p < N_CLASS; p++) printf(" %10zu", counts[t * N_CLASS + p]);
        printf("\n");
    }
    printf("test accuracy: %.4f\n", acc);
    nn_destroy(net);
    return 0;
}
