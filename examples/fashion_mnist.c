/* fashion_mnist.c - 70,000 pictures of clothes, 10 kinds, with nn.h.

   Fashion-MNIST (Zalando, 2017): 28 x 28 grey images of T-shirts,
   trousers, pullovers, dresses, coats, sandals, shirts, sneakers, bags and
   ankle boots; 60,000 to train on, 10,000 to test on.  The example
     - reads the four IDX files (the format of the original MNIST digits,
       which work here as they are),
     - keeps the last 5,000 training images (one in twelve) aside as a
       validation set,
     - trains 784 -> 256 ReLU -> 128 ReLU -> 10 softmax with cross-entropy
       and Adam through nn_train: batches of 64, the learning rate falling
       from 1e-3 to 0 along a cosine over 20 epochs,
     - shows a progress line while an epoch runs and a summary after it,
     - writes saliency.png into dir: for each kind, its mean image and the
       pixels that move the net's belief in that kind up (red) or down
       (blue) (see write_saliency),
     - prints the confusion matrix and the test accuracy.

   Get the data (Debian):  sudo apt-get install dataset-fashion-mnist
                           make fashion-mnist-data
   Build and run:          make examples && ./build/examples/fashion_mnist [dir [epochs]]
   dir holds train-images-idx3-ubyte, train-labels-idx1-ubyte,
   t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, unpacked; the default
   is build/fashion-mnist, where `make fashion-mnist-data` puts them. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "png.h" /* png_write, by hand */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 28
#define PIXELS (SIDE * SIDE)
#define CLASSES 10

static const char *names[CLASSES] = {"T-shirt", "trouser", "pullover", "dress", "coat",
                                     "sandal",  "shirt",   "sneaker",  "bag",   "boot"};

#include "idx.h"

/* images as reals in [0, 1], labels as one-hot rows; NULL on failure */
static int load_set(const char *dir, const char *prefix, nn_real **x, nn_real **y,
                    unsigned char **label, size_t *n) {
    char name[64];
    unsigned long n_img = 0, n_lab = 0;
    unsigned char *img;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    img = read_idx(dir, name, 3, PIXELS, &n_img);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    *label = img ? read_idx(dir, name, 1, 1, &n_lab) : NULL;
    if (!*label || n_img != n_lab) {
        if (*label) fprintf(stderr, "fashion_mnist: %s images and labels differ in number\n", prefix);
        free(img);
        free(*label);
        return 0;
    }
    *n = n_img;
    *x = (nn_real *)malloc(*n * PIXELS * sizeof **x);
    *y = (nn_real *)calloc(*n * CLASSES, sizeof **y);
    if (!*x || !*y) {
        fprintf(stderr, "fashion_mnist: out of memory\n");
        free(img);
        return 0;
    }
    for (size_t k = 0; k < *n * PIXELS; k++) (*x)[k] = (nn_real)img[k] / 255;
    for (size_t s = 0; s < *n; s++) {
        if ((*label)[s] >= CLASSES) {
            fprintf(stderr, "fashion_mnist: label %d out of range\n", (*label)[s]);
            free(img);
            return 0;
        }
        (*y)[s * CLASSES + (*label)[s]] = 1;
    }
    free(img);
    return 1;
}

/* ---- saliency ------------------------------------------------------------- */

#define PANEL (2 * SIDE) /* each kind's map, drawn at twice the size */
#define GAP 4

/* For each kind c, the mean of x * dp_c/dx over the test images of kind
   c, where p_c is the net's probability of c and x the image's pixels
   ("gradient times input"): which of the pixels that are lit push the
   net towards c (red) and which away from it (blue); white where nothing
   is lit or nothing matters.  nn_output_grad gives the derivative of one
   output with respect to every pixel of a batch in one backward pass.
   dp_c/dx alone looks like noise: a pixel that is dark in every image of
   the kind gets a gradient nothing in the data ever uses, and single
   pixels vary a lot, so each map is also smoothed over 3 x 3 pixels.
   Each kind gets a column: its mean image on top, in grey, and its map
   below, scaled to its own largest magnitude.  One PNG (png.h): palette
   entries 0 .. 127 are greys, 128 .. 255 the blue-white-red scale. */
#define SAL_W (CLASSES * PANEL + (CLASSES - 1) * GAP)
#define SAL_H (2 * PANEL + GAP)
static int write_saliency(const char *path, nn_net *net, const nn_real *x,
                          const unsigned char *label, size_t n) {
    enum { CHUNK = 250 };
    static nn_real rows[CHUNK * PIXELS], dx[CHUNK * PIXELS];
    static unsigned char pix[SAL_H * SAL_W], palette[3 * 256];
    double map[PIXELS], mean[PIXELS], smooth[PIXELS];
    for (int i = 0; i < 128; i++) /* greys, black to white */
        palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = (unsigned char)(i * 255 / 127);
    for (int i = 0; i < 128; i++) { /* v from -1 (blue) through 0 (white) to 1 (red) */
        const double v = (i - 63.5) / 63.5, t = v < 0 ? -v : v;
        const double to[3] = {v < 0 ? 33 : 178, v < 0 ? 102 : 24, v < 0 ? 172 : 43};
        for (int k = 0; k < 3; k++)
            palette[3 * (128 + i) + k] = (unsigned char)(255 + (to[k] - 255) * t + 0.5);
    }
    memset(pix, 127, sizeof pix); /* white */
    for (size_t c = 0; c < CLASSES; c++) {
        double top = 0;
        size_t s = 0, count = 0;
        memset(map, 0, sizeof map);
        memset(mean, 0, sizeof mean);
        while (s < n) { /* the next CHUNK images of kind c, one batch */
            size_t b = 0;
            for (; s < n && b < CHUNK; s++)
                if (label[s] == c) memcpy(rows + b++ * PIXELS, x + s * PIXELS, sizeof rows[0] * PIXELS);
            if (b == 0) break;
            if (!nn_forward(net, rows, b) || nn_output_grad(net, c, dx) != NN_OK) return 0;
            for (size_t k = 0; k < b * PIXELS; k++) {
                map[k % PIXELS] += (double)dx[k] * (double)rows[k];
                mean[k % PIXELS] += (double)rows[k];
            }
            count += b;
        }
        for (int r = 0; r < SIDE; r++) /* the mean over the 3 x 3 around */
            for (int q = 0; q < SIDE; q++) {
                double sum = 0;
                int count3 = 0;
                for (int i = r - 1; i <= r + 1; i++)
                    for (int j = q - 1; j <= q + 1; j++)
                        if (i >= 0 && j >= 0 && i < SIDE && j < SIDE) {
                            sum += map[i * SIDE + j];
                            count3++;
                        }
                smooth[r * SIDE + q] = sum / count3;
            }
        memcpy(map, smooth, sizeof map);
        for (size_t k = 0; k < PIXELS; k++) top = fabs(map[k]) > top ? fabs(map[k]) : top;
        for (size_t k = 0; k < PANEL * PANEL; k++) {
            const size_t r = k / PANEL, col = k % PANEL, at = r / 2 * SIDE + col / 2;
            const double v = top > 0 ? map[at] / top : 0;
            const double m = count ? mean[at] / (double)count : 0;
            unsigned char *p = pix + r * SAL_W + c * (PANEL + GAP) + col;
            p[0] = (unsigned char)(m * 127 + 0.5);
            p[(PANEL + GAP) * SAL_W] = (unsigned char)(128 + (v + 1) * 63.5 + 0.5);
        }
    }
    return png_write(path, pix, SAL_W, SAL_H, 8, palette, 256);
}

/* ---- progress ------------------------------------------------------------- */

typedef struct progress {
    double next; /* when to redraw the progress line, in epoch seconds */
} progress;

/* During an epoch: one line, redrawn in place on stderr about 5 times a
   second:  epoch 3/20 [#########-----------]  27500/55000  9120/s  loss 0.3124  ETA 3s */
static int on_batch(const nn_train_info *info, void *user) {
    progress *p = (progress *)user;
    const int width = 20, filled = (int)(20 * info->done / info->n);
    double rate;
    if (info->seconds < p->next && info->done < info->n) return 0;
    p->next = info->seconds + 0.2;
    rate = info->seconds > 0 ? (double)info->done / info->seconds : 0;
    fprintf(stderr, "\repoch %zu/%zu [", info->epoch, info->epochs);
    for (int i = 0; i < width; i++) fputc(i < filled ? '#' : '-', stderr);
    fprintf(stderr, "] %6zu/%zu  %6.0f/s  loss %.4f  ETA %3.0fs ", info->done, info->n, rate,
            info->train_loss, rate > 0 ? (double)(info->n - info->done) / rate : 0.0);
    fflush(stderr);
    return 0;
}

/* After an epoch: clear the progress line, print the summary on stdout. */
static int on_epoch(const nn_train_info *info, void *user) {
    progress *p = (progress *)user;
    p->next = 0;
    fprintf(stderr, "\r%78s\r", "");
    printf("epoch %2zu/%zu  train loss %.4f  validation loss %.4f  accuracy %.4f  "
           "lr %.2e  %.1f s\n",
           info->epoch, info->epochs, info->train_loss, info->val_loss, info->val_accuracy,
           info->lr, info->seconds);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "build/fashion-mnist";
    const long epochs = argc > 2 ? strtol(argv[2], NULL, 10) : 20;
    char picture[1024];
    const size_t sizes[] = {PIXELS, 256, 128, CLASSES};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_real *x = NULL, *y = NULL, *tx = NULL, *ty = NULL;
    unsigned char *label = NULL, *tlabel = NULL;
    size_t n = 0, tn = 0, n_val, counts[CLASSES * CLASSES];
    double acc = 0;
    nn_train_config cfg;
    progress prog = {0};
    nn_net *net = NULL;
    int status = 1;

    if (!load_set(dir, "train", &x, &y, &label, &n) || !load_set(dir, "t10k", &tx, &ty, &tlabel, &tn))
        goto done;
    n_val = n / 12;
    if (n_val == 0 || epochs < 1) {
        fprintf(stderr, "fashion_mnist: %s\n", epochs < 1 ? "epochs must be a number >= 1" : "fewer than 12 training images");
        goto done;
    }
    printf("%zu training images (%zu of them for validation), %zu test images\n", n, n_val, tn);
    net = nn_create(3, sizes, acts, 42, NULL);
    if (!net) goto done;
    cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY); /* Adam, lr 1e-3 */
    cfg.batch_size = 64;
    cfg.epochs = (size_t)epochs;
    cfg.schedule = NN_SCHEDULE_COSINE;
    /* No early stopping: the validation loss turns up from epoch 7 or so
       while the accuracy still climbs (the net grows overconfident on the
       images it gets wrong); stopping on the loss cost a point of test
       accuracy here. */
    /* the last n_val training rows validate; nn_train shuffles the rest */
    cfg.val_x = x + (n - n_val) * PIXELS;
    cfg.val_y = y + (n - n_val) * CLASSES;
    cfg.val_n = n_val;
    cfg.on_batch = on_batch;
    cfg.on_epoch = on_epoch;
    cfg.user = &prog;
    if (nn_train(net, &cfg, x, y, n - n_val, NULL) != NN_OK ||
        nn_confusion_matrix(net, tx, ty, tn, counts) != NN_OK ||
        nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, tx, ty, tn, NULL, &acc) != NN_OK) {
        fprintf(stderr, "fashion_mnist: training failed\n");
        goto done;
    }
    snprintf(picture, sizeof picture, "%s/saliency.png", dir);
    if (!write_saliency(picture, net, tx, tlabel, tn)) {
        fprintf(stderr, "fashion_mnist: cannot write %s\n", picture);
        goto done;
    }
    printf("\nwrote %s: which pixels each kind depends on, in the order\n ", picture);
    for (int c = 0; c < CLASSES; c++) printf(" %s", names[c]);
    printf("\n");
    printf("\nconfusion matrix on the test set (rows: true, columns: predicted)\n%9s", "");
    for (int p = 0; p < CLASSES; p++) printf(" %8.8s", names[p]);
    printf("\n");
    for (int t = 0; t < CLASSES; t++) {
        printf("%9s", names[t]);
        for (int p = 0; p < CLASSES; p++) printf(" %8zu", counts[t * CLASSES + p]);
        printf("\n");
    }
    printf("test accuracy: %.4f\n", acc);
    status = 0;
done:
    nn_destroy(net);
    free(x);
    free(y);
    free(label);
    free(tx);
    free(ty);
    free(tlabel);
    return status;
}
