/* deploy.c: train a net and export it as C headers for a device.

     ./build/examples/deploy iris   OUTDIR    examples/data/iris.csv
     ./build/examples/deploy digits OUTDIR    examples/data/digits.csv
     ./build/examples/deploy fashion OUTDIR   build/fashion-mnist (make
                                              fashion-mnist-data)
     ./build/examples/deploy breast_cancer OUTDIR [raw]
                                              examples/data/breast_cancer.csv;
                                              raw: without the input scaling

   trains the data set's net (the input scaling inside it), then writes
   into OUTDIR:
     NAME_f.h      the net in float (nn_export_c, NN_EXPORT_FLOAT): the
                   functions NAME_f_predict and NAME_f_classify
     NAME_q.h      the net in int8 (NN_EXPORT_INT8, calibrated on the
                   training set): NAME_q_classify_q and the rest
     NAME.nn       the model file (nn_save), to go on training or to load
     NAME_test.bin the test set for examples/mcu/host.c: u32 rows, u32
                   inputs, the inputs as float32, one byte label a row (all
                   little-endian)
   and prints the test accuracy of nn.h's net.  examples/mcu/ builds the
   headers into programs for the host, a Cortex-M3 and an ATmega328P (make
   mcu runs them all). */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct data {
    size_t n, n_in, n_class;
    nn_real *x, *y; /* n x n_in inputs, n x n_class one-hot */
    unsigned char *label;
} data;

/* a CSV whose first line is "rows,features,class names..." and whose
   rows are the features, then the class index (examples/data/) */
static int read_csv(const char *path, data *d) {
    FILE *f = fopen(path, "r");
    int c, ok = 1;
    unsigned long rows, feats;
    size_t classes = 0;
    if (!f) {
        fprintf(stderr, "deploy: cannot open %s (run from the repository's top)\n", path);
        return 0;
    }
    if (fscanf(f, "%lu,%lu", &rows, &feats) != 2 || rows == 0 || feats == 0 || rows > 100000 ||
        feats > 1000) {
        fclose(f);
        fprintf(stderr, "deploy: %s: no header line\n", path);
        return 0;
    }
    while ((c = fgetc(f)) != '\n' && c != EOF) classes += c == ',';
    d->n = rows;
    d->n_in = feats;
    d->n_class = classes;
    d->x = (nn_real *)malloc(rows * feats * sizeof *d->x);
    d->y = (nn_real *)calloc(rows * classes, sizeof *d->y);
    d->label = (unsigned char *)malloc(rows);
    if (!d->x || !d->y || !d->label) ok = 0;
    for (size_t s = 0; ok && s < rows; s++) {
        double v;
        int k;
        for (size_t i = 0; ok && i < feats; i++) {
            ok = fscanf(f, "%lf,", &v) == 1;
            d->x[s * feats + i] = (nn_real)v;
        }
        ok = ok && fscanf(f, "%d", &k) == 1 && k >= 0 && (size_t)k < classes;
        if (ok) {
            d->label[s] = (unsigned char)k;
            d->y[s * classes + (size_t)k] = 1;
        }
    }
    fclose(f);
    if (!ok) fprintf(stderr, "deploy: %s: a bad row\n", path);
    return ok;
}

static int read_fashion(const char *dir, const char *set, data *d) {
    char name[64];
    unsigned long n_img = 0, n_lab = 0;
    unsigned char *img;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", set);
    img = read_idx(dir, name, 3, 784, &n_img);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", set);
    d->label = img ? read_idx(dir, name, 1, 1, &n_lab) : NULL;
    if (!d->label || n_img != n_lab) {
        free(img);
        return 0;
    }
    d->n = n_img;
    d->n_in = 784;
    d->n_class = 10;
    d->x = (nn_real *)malloc(d->n * 784 * sizeof *d->x);
    d->y = (nn_real *)calloc(d->n * 10, sizeof *d->y);
    if (!d->x || !d->y) return 0;
    for (size_t k = 0; k < d->n * 784; k++) d->x[k] = (nn_real)img[k]; /* raw bytes */
    for (size_t s = 0; s < d->n; s++) d->y[s * 10 + d->label[s]] = 1;
    free(img);
    return 1;
}

/* rows [from, to) of src as a data set of their own */
static int take(const data *src, size_t from, size_t to, data *d) {
    d->n = to - from;
    d->n_in = src->n_in;
    d->n_class = src->n_class;
    d->x = (nn_real *)malloc(d->n * d->n_in * sizeof *d->x);
    d->y = (nn_real *)malloc(d->n * d->n_class * sizeof *d->y);
    d->label = (unsigned char *)malloc(d->n);
    if (!d->x || !d->y || !d->label) return 0;
    memcpy(d->x, src->x + from * d->n_in, d->n * d->n_in * sizeof *d->x);
    memcpy(d->y, src->y + from * d->n_class, d->n * d->n_class * sizeof *d->y);
    memcpy(d->label, src->label + from, d->n);
    return 1;
}

static void release(data *d) {
    free(d->x);
    free(d->y);
    free(d->label);
}

/* the test set as examples/mcu/host.c reads it */
static int write_test(const char *path, const data *d) {
    FILE *f = fopen(path, "wb");
    unsigned char b[4];
    int ok = f != NULL;
    const uint32_t head[2] = {(uint32_t)d->n, (uint32_t)d->n_in};
    for (size_t k = 0; ok && k < 2; k++) {
        for (int j = 0; j < 4; j++) b[j] = (unsigned char)(head[k] >> (8 * j));
        ok = fwrite(b, 1, 4, f) == 4;
    }
    for (size_t k = 0; ok && k < d->n * d->n_in; k++) {
        const float v = (float)d->x[k];
        uint32_t u;
        memcpy(&u, &v, 4);
        for (int j = 0; j < 4; j++) b[j] = (unsigned char)(u >> (8 * j));
        ok = fwrite(b, 1, 4, f) == 4;
    }
    ok = ok && fwrite(d->label, 1, d->n, f) == d->n;
    if (f && fclose(f) != 0) ok = 0;
    return ok;
}

static int export_to(const char *dir, const char *file, const nn_net *net, const char *prefix,
                     const nn_export_options *o) {
    char path[1024];
    FILE *f;
    nn_result r;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "deploy: cannot write %s\n", path);
        return 0;
    }
    r = nn_export_c(net, f, prefix, o);
    if (fclose(f) != 0 && r == NN_OK) r = NN_ERR_IO;
    if (r != NN_OK) fprintf(stderr, "deploy: %s: %s\n", path, nn_result_string(r));
    return r == NN_OK;
}

int main(int argc, char **argv) {
    data all = {0, 0, 0, NULL, NULL, NULL}, train = all, test = all;
    const char *name = argc > 1 ? argv[1] : "", *dir = argc > 2 ? argv[2] : ".";
    size_t sizes[3], epochs;
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_train_config cfg;
    nn_export_options o;
    nn_net *net = NULL;
    char path[1024], file[64], note[200];
    double acc = 0;
    int ok;

    const int raw = argc > 3 && strcmp(argv[3], "raw") == 0;
    if (strcmp(name, "iris") == 0 || strcmp(name, "breast_cancer") == 0) {
        /* every fifth row for the test set (iris is sorted by species, so
           each gets 10) */
        snprintf(path, sizeof path, "examples/data/%s.csv", name);
        ok = read_csv(path, &all);
        if (ok) {
            ok = take(&all, 0, all.n, &train) && take(&all, 0, all.n, &test);
            train.n = test.n = 0;
            for (size_t s = 0; ok && s < all.n; s++) {
                data *to = s % 5 == 0 ? &test : &train;
                memcpy(to->x + to->n * all.n_in, all.x + s * all.n_in, all.n_in * sizeof *all.x);
                memcpy(to->y + to->n * all.n_class, all.y + s * all.n_class,
                       all.n_class * sizeof *all.y);
                to->label[to->n++] = all.label[s];
            }
        }
        sizes[1] = 16;
        epochs = name[0] == 'i' ? 150 : 100;
    } else if (strcmp(name, "digits") == 0) {
        /* the first 1,437 images for training, the last 360 for the test */
        ok = read_csv("examples/data/digits.csv", &all) && take(&all, 0, 1437, &train) &&
             take(&all, 1437, all.n, &test);
        sizes[1] = 32;
        epochs = 60;
    } else if (strcmp(name, "fashion") == 0) {
        const char *src = argc > 3 ? argv[3] : "build/fashion-mnist";
        ok = read_fashion(src, "train", &train) && read_fashion(src, "t10k", &test);
        sizes[1] = 128;
        epochs = 8;
    } else {
        fprintf(stderr, "usage: deploy iris|digits|fashion|breast_cancer OUTDIR [FASHION_DIR|raw]\n");
        return 2;
    }
    if (!ok) return 1;
    sizes[0] = train.n_in;
    sizes[2] = train.n_class;
    net = nn_create(2, sizes, acts, 42, NULL);
    if (!net) return 1;
    if (raw) {
        ok = 1;
    } else if (strcmp(name, "iris") == 0 || strcmp(name, "breast_cancer") == 0) {
        /* standardized: each feature's mean and deviation on the training set */
        ok = nn_fit_input_scaling(net, train.x, train.n) == NN_OK;
    } else { /* pixels: to [0, 1], the same scale for all, inside the net */
        nn_real shift[784], scale[784];
        for (size_t i = 0; i < sizes[0]; i++) {
            shift[i] = 0;
            scale[i] = (nn_real)(strcmp(name, "digits") == 0 ? 1.0 / 16 : 1.0 / 255);
        }
        ok = nn_set_input_scaling(net, shift, scale) == NN_OK;
    }
    cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY); /* Adam, batches of 32 */
    cfg.opt.lr = strcmp(name, "fashion") == 0 ? 0.001 : 0.01;
    cfg.epochs = epochs;
    ok = ok && nn_train(net, &cfg, train.x, train.y, train.n, NULL) == NN_OK &&
         nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, test.x, test.y, test.n, NULL, &acc) == NN_OK;
    if (!ok) {
        fprintf(stderr, "deploy: training failed\n");
        return 1;
    }
    printf("%s: %zu-%zu-%zu relu/softmax, %zu epochs%s; test accuracy %.4f on %zu\n", name,
           sizes[0], sizes[1], sizes[2], epochs, raw ? ", raw inputs" : "", acc, test.n);

    snprintf(note, sizeof note, "Trained by examples/deploy.c on %s: test accuracy %.4f (nn.h).",
             name, acc);
    o = nn_export_defaults();
    o.note = note;
    snprintf(path, sizeof path, "%s_f", name);
    snprintf(file, sizeof file, "%s_f.h", name);
    ok = export_to(dir, file, net, path, &o);
    o.kind = NN_EXPORT_INT8;
    o.calib_x = train.x; /* the training set gives the activations' ranges */
    o.calib_n = NN__MIN(train.n, (size_t)5000);
    snprintf(path, sizeof path, "%s_q", name);
    snprintf(file, sizeof file, "%s_q.h", name);
    ok = ok && export_to(dir, file, net, path, &o);
    snprintf(path, sizeof path, "%s/%s.nn", dir, name);
    ok = ok && nn_save(net, path) == NN_OK;
    snprintf(path, sizeof path, "%s/%s_test.bin", dir, name);
    ok = ok && write_test(path, &test);
    if (!ok) fprintf(stderr, "deploy: writing into %s failed\n", dir);
    else printf("wrote %s/%s_f.h, %s_q.h, %s.nn and %s_test.bin\n", dir, name, name, name, name);
    nn_destroy(net);
    release(&all);
    release(&train);
    release(&test);
    return ok ? 0 : 1;
}
