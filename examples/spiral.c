/* spiral.c - three interleaved spirals, and pictures of what the net learned.

   Points in the plane on three spiral arms, one class each, with some
   noise.  No straight line separates them, so this is a test of what a
   hidden layer buys: 2 inputs -> 64 ReLU -> 64 ReLU -> 3 softmax, trained
   with Adam through nn_train; a second draw of the spirals is the
   validation and test set.  Then it writes two pictures, each a file any
   browser opens, made here without any library:
     spiral.png       the decision regions (the class the net picks at each
                      point of the plane) with the training points on top
     spiral_loss.svg  training and validation loss per epoch
   It prints the training accuracy and, last, the test accuracy.

   Build and run:  make examples && ./build/examples/spiral [output-dir]
   (the pictures go to output-dir, default the current directory). */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "png.h" /* png_write, by hand */

#include <math.h>
#include <stdio.h>
#include <string.h>

#define K 3          /* classes (arms) */
#define PER_CLASS 100
#define N (K * PER_CLASS)
#define EPOCHS 200
#define SIDE 300     /* the picture is SIDE x SIDE pixels */
#define EXTENT 1.15  /* it shows [-EXTENT, EXTENT] on both axes */
#define PI 3.14159265358979323846

/* Arm k: radius r from 0 to 1, angle growing with r (4 radians over the
   arm) plus Gaussian-ish noise, so the arms wind around each other. */
static void make_spirals(nn_real *x, nn_real *y, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < PER_CLASS; i++) {
            const int s = k * PER_CLASS + i;
            const double r = (double)i / (PER_CLASS - 1);
            /* the sum of three uniforms is a cheap bell curve */
            const double noise = (nn_rng_uniform(&rng) + nn_rng_uniform(&rng) +
                                  nn_rng_uniform(&rng) - 1.5) * 0.25;
            const double t = 4.0 * k + 4.0 * r + noise;
            x[2 * s] = (nn_real)(r * sin(t));
            x[2 * s + 1] = (nn_real)(r * cos(t));
            for (int c = 0; c < K; c++) y[K * s + c] = (nn_real)(c == k);
        }
}

/* ---- the loss curve as SVG ---------------------------------------------- */

/* The loss on a log scale: the curves fall over decades, and on a linear
   axis everything after the first few epochs is a flat line at the
   bottom.  A tick and a grid line at every power of ten. */
static int write_loss_svg(const char *path, const double *train, const double *val, int n) {
    const double W = 560, H = 320, left = 60, right = 20, top = 20, bottom = 45;
    const double plot_w = W - left - right, plot_h = H - top - bottom;
    double lo = HUGE_VAL, hi = 0;
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    for (int e = 0; e < n; e++) {
        const double a = fmin(train[e], val[e]), b = fmax(train[e], val[e]);
        if (a > 0) lo = fmin(lo, a);
        hi = fmax(hi, b);
    }
    if (!(lo <= hi) || !(hi > 0)) lo = hi = 1; /* no positive loss to draw */
    lo = floor(log10(lo)); /* whole decades */
    hi = fmax(ceil(log10(hi)), lo + 1);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    for (double k = lo; k <= hi; k++) { /* decades: a grid line and a label */
        const double py = H - bottom - plot_h * (k - lo) / (hi - lo);
        fprintf(f, "<path d=\"M%.0f %.1f H%.0f\" stroke=\"#dddddd\"/>\n", left, py, W - right);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", left - 6,
                py + 4, pow(10, k));
    }
    fprintf(f, "<path d=\"M%.0f %.0f V%.0f H%.0f\" stroke=\"black\" fill=\"none\"/>\n", left,
            top, H - bottom, W - right);
    for (int i = 0; i <= 4; i++) { /* epoch ticks: 1, n/4, ..., n */
        const int e = i == 0 ? 1 : n * i / 4;
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>\n",
                left + plot_w * (e - 1) / (n > 1 ? n - 1 : 1), H - bottom + 16, e);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">epoch</text>\n",
            (left + W - right) / 2, H - 6);
    fprintf(f, "<text transform=\"translate(14 %.0f) rotate(-90)\" text-anchor=\"middle\">"
               "loss (log scale)</text>\n", top + plot_h / 2);
    for (int line = 0; line < 2; line++) {
        const double *v = line ? val : train;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                line ? "#d95f02" : "#1b64b4");
        for (int e = 0; e < n; e++) {
            /* a loss of 0 (or below the axis) sits on the bottom line */
            const double d = v[e] > 0 ? fmax(log10(v[e]) - lo, 0) : 0;
            fprintf(f, "%.1f,%.1f ", left + plot_w * e / (n > 1 ? n - 1 : 1),
                    H - bottom - plot_h * d / (hi - lo));
        }
        fprintf(f, "\"/>\n<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s loss</text>\n",
                W - right - 150, top + 15 + 16 * line, line ? "#d95f02" : "#1b64b4",
                line ? "validation" : "training");
    }
    fprintf(f, "</svg>\n");
    return fclose(f) == 0;
}

/* ---- training ------------------------------------------------------------ */

typedef struct curves {
    double train[EPOCHS], val[EPOCHS];
} curves;

static int record(const nn_train_info *info, void *user) {
    curves *c = (curves *)user;
    c->train[info->epoch - 1] = info->train_loss;
    c->val[info->epoch - 1] = info->val_loss;
    if (info->epoch % 50 == 0)
        printf("epoch %3zu  train loss %.4f  validation loss %.4f  accuracy %.3f\n",
               info->epoch, info->train_loss, info->val_loss, info->val_accuracy);
    return 0;
}

int main(int argc, char **argv) {
    static nn_real x[2 * N], y[K * N], vx[2 * N], vy[K * N], grid[2 * SIDE * SIDE];
    static size_t cls[SIDE * SIDE];
    static unsigned char pix[SIDE * SIDE];
    static curves c;
    /* light region colours, then the same hues dark for points, white */
    static const unsigned char palette[] = {
        0xc6, 0xdb, 0xef, 0xfd, 0xd0, 0xa2, 0xc7, 0xe9, 0xc0,
        0x1b, 0x64, 0xb4, 0xd9, 0x5f, 0x02, 0x1b, 0x9e, 0x4a, 0xff, 0xff, 0xff};
    const size_t sizes[] = {2, 64, 64, K};
    const nn_act acts[] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_SOFTMAX};
    const char *dir = argc > 1 ? argv[1] : ".";
    char png[1024], svg[1024];
    double train_acc, test_acc;
    nn_train_config cfg;
    nn_net *net;

    /* a directory that cannot take the pictures is reported now, not after
       the training ("a" creates the file but keeps an older picture) */
    snprintf(png, sizeof png, "%s/spiral.png", dir);
    snprintf(svg, sizeof svg, "%s/spiral_loss.svg", dir);
    {
        FILE *f = fopen(png, "ab");
        if (!f) {
            fprintf(stderr, "spiral: cannot write %s\n", png);
            return 1;
        }
        fclose(f);
    }
    make_spirals(x, y, 1);
    make_spirals(vx, vy, 2); /* same arms, other noise */
    net = nn_create(3, sizes, acts, 42, NULL);
    if (!net) return 1;
    cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    cfg.opt.lr = 0.01;
    cfg.epochs = EPOCHS;
    cfg.val_x = vx;
    cfg.val_y = vy;
    cfg.val_n = N;
    cfg.on_epoch = record;
    cfg.user = &c;
    if (nn_train(net, &cfg, x, y, N, NULL) != NN_OK ||
        nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, x, y, N, NULL, &train_acc) != NN_OK ||
        nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, vx, vy, N, NULL, &test_acc) != NN_OK)
        return 1;

    /* the class at the centre of every pixel; row 0 is the top */
    for (int r = 0; r < SIDE; r++)
        for (int col = 0; col < SIDE; col++) {
            grid[2 * (r * SIDE + col)] = (nn_real)(EXTENT * (2.0 * (col + 0.5) / SIDE - 1));
            grid[2 * (r * SIDE + col) + 1] = (nn_real)(EXTENT * (1 - 2.0 * (r + 0.5) / SIDE));
        }
    if (nn_classify(net, grid, SIDE * SIDE, cls) != NN_OK) return 1;
    for (int p = 0; p < SIDE * SIDE; p++) pix[p] = (unsigned char)cls[p];
    /* each training point: a dark disc in a white ring */
    for (int s = 0; s < N; s++) {
        const double px = ((double)x[2 * s] / EXTENT + 1) * SIDE / 2;
        const double py = (1 - (double)x[2 * s + 1] / EXTENT) * SIDE / 2;
        for (int r = (int)py - 4; r <= (int)py + 4; r++)
            for (int col = (int)px - 4; col <= (int)px + 4; col++) {
                const double d = hypot(col + 0.5 - px, r + 0.5 - py);
                if (r < 0 || r >= SIDE || col < 0 || col >= SIDE || d > 3.6) continue;
                pix[r * SIDE + col] = (unsigned char)(d > 2.6 ? 6 : 3 + s / PER_CLASS);
            }
    }
    if (!png_write(png, pix, SIDE, SIDE, 4, palette, 7) || !write_loss_svg(svg, c.train, c.val, EPOCHS)) {
        fprintf(stderr, "spiral: cannot write %s or %s\n", png, svg);
        nn_destroy(net);
        return 1;
    }
    printf("wrote %s and %s\n", png, svg);
    printf("train accuracy: %.4f\n", train_acc);
    printf("test accuracy: %.4f\n", test_acc);
    nn_destroy(net);
    return 0;
}
