/* Model files across byte orders (make portability runs it on x86-64 and,
   under qemu, on big-endian s390x):
     endian save DIR NAME    trains a small net, writes DIR/NAME.nn and its
                             predictions on fixed inputs to DIR/NAME.txt
     endian check DIR NAME   loads DIR/NAME.nn (written on the other host),
                             predicts, and compares with DIR/NAME.txt; saved
                             again, the model must give the file's bytes
   Ends with "N passed, N failed". */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

enum { B = 6, N_IN = 4, N_OUT = 3 };

static void inputs(nn_real *x) {
    for (int k = 0; k < B * N_IN; k++) x[k] = (nn_real)((k * 37 % 23) - 11) / 8;
}

static int save(const char *base) {
    const size_t sizes[] = {N_IN, 8, N_OUT};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    const nn_real w[N_OUT] = {1, 2, NN_R(0.5)};
    nn_real x[B * N_IN], y[B * N_OUT] = {0};
    nn_net *net = nn_create(2, sizes, acts, 2026, NULL);
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    char path[1100];
    const nn_real *p;
    FILE *f;
    inputs(x);
    for (int s = 0; s < B; s++) y[s * N_OUT + s % N_OUT] = 1;
    nn_set_class_weights(net, w);
    cfg.epochs = 5;
    cfg.batch_size = 2;
    CHECK(nn_train(net, &cfg, x, y, B, NULL) == NN_OK);
    snprintf(path, sizeof path, "%s.nn", base);
    CHECK(nn_save(net, path) == NN_OK);
    snprintf(path, sizeof path, "%s.txt", base);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return th_report();
    p = nn_forward(net, x, B);
    for (int k = 0; k < B * N_OUT; k++) fprintf(f, "%.17g\n", (double)p[k]);
    CHECK(fclose(f) == 0);
    nn_destroy(net);
    return th_report();
}

static int check(const char *base) {
    char path[1100];
    nn_real x[B * N_IN];
    nn_result err;
    nn_net *net;
    FILE *f;
    double worst = 0;
    inputs(x);
    snprintf(path, sizeof path, "%s.nn", base);
    net = nn_load(path, &err);
    CHECK(net != NULL);
    if (!net) {
        printf("%s: %s\n", path, nn_result_string(err));
        return th_report();
    }
    {
        /* the same bytes back: every integer and real was read in the
           right byte order */
        size_t len = nn_save_size(net), got;
        unsigned char *mine = (unsigned char *)malloc(len), *theirs = (unsigned char *)malloc(len + 1);
        nn_save_mem(net, mine, len);
        f = fopen(path, "rb");
        got = f ? fread(theirs, 1, len + 1, f) : 0;
        if (f) fclose(f);
        CHECK(got == len && memcmp(mine, theirs, len) == 0);
        free(mine);
        free(theirs);
    }
    snprintf(path, sizeof path, "%s.txt", base);
    f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        const nn_real *p = nn_forward(net, x, B);
        for (int k = 0; k < B * N_OUT; k++) {
            double want = -1;
            CHECK(fscanf(f, "%lf", &want) == 1);
            /* the other host's libm may round exp and tanh differently */
            worst = fmax(worst, fabs((double)p[k] - want));
        }
        fclose(f);
    }
    printf("largest difference from the other host's predictions: %g\n", worst);
    CHECK(worst <= (TH_DOUBLE ? 1e-12 : 1e-5));
    nn_destroy(net);
    return th_report();
}

int main(int argc, char **argv) {
    char base[1024];
    if (argc != 4) {
        fprintf(stderr, "usage: endian save|check DIR NAME\n");
        return 2;
    }
    snprintf(base, sizeof base, "%s/%s", argv[2], argv[3]);
    if (strcmp(argv[1], "save") == 0) return save(base);
    if (strcmp(argv[1], "check") == 0) return check(base);
    fprintf(stderr, "usage: endian save|check DIR NAME\n");
    return 2;
}
