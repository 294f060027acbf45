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

/* ---- PNG, written by hand ------------------------------------------------
   A PNG is a signature and chunks (length, type, data, CRC-32).  Pixels
   are palette indices, 4 bits each; every row starts with a filter byte
   (0: none); the rows are wrapped in a zlib stream of "stored" deflate
   blocks, which are raw bytes with a length, so no compressor is needed. */

static unsigned long crc_update(unsigned long crc, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = crc & 1 ? 0xedb88320UL ^ (crc >> 1) : crc >> 1;
    }
    return crc;
}

static void put_u32(unsigned char *p, unsigned long v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int write_chunk(FILE *f, const char *type, const unsigned char *data, size_t n) {
    unsigned char head[8];
    unsigned long crc;
    put_u32(head, (unsigned long)n);
    memcpy(head + 4, type, 4);
    crc = crc_update(0xffffffffUL, head + 4, 4);
    crc = crc_update(crc, data, n) ^ 0xffffffffUL;
    put_u32(head, (unsigned long)n); /* (head[0..3] is the length) */
    if (fwrite(head, 1, 8, f) != 8 || (n && fwrite(data, 1, n, f) != n)) return 0;
    put_u32(head, crc);
    return fwrite(head, 1, 4, f) == 4;
}

/* pix: SIDE x SIDE palette indices 0..15; palette: n_colors RGB triples */
static int write_png(const char *path, const unsigned char *pix,
                     const unsigned char *palette, size_t n_colors) {
    enum { ROW = 1 + SIDE / 2, RAW = SIDE * ROW, BLOCKS = (RAW + 65534) / 65535 };
    static unsigned char raw[RAW], z[2 + RAW + 5 * BLOCKS + 4];
    unsigned char ihdr[13];
    unsigned long a = 1, b = 0; /* Adler-32 of the raw bytes */
    size_t n = 0;
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) return 0;
    for (int r = 0; r < SIDE; r++) {
        unsigned char *row = raw + r * ROW;
        row[0] = 0; /* filter: none */
        for (int c = 0; c < SIDE; c += 2)
            row[1 + c / 2] = (unsigned char)(pix[r * SIDE + c] << 4 | pix[r * SIDE + c + 1]);
    }
    z[n++] = 0x78; /* zlib: deflate, 32K window */
    z[n++] = 0x01; /* no preset dictionary; (0x7801) % 31 == 0 */
    for (size_t done = 0; done < RAW;) {
        const size_t len = RAW - done < 65535 ? RAW - done : 65535;
        z[n++] = done + len == RAW; /* BFINAL on the last, BTYPE 00 */
        z[n++] = (unsigned char)len;
        z[n++] = (unsigned char)(len >> 8);
        z[n++] = (unsigned char)~len;
        z[n++] = (unsigned char)(~len >> 8);
        memcpy(z + n, raw + done, len);
        n += len;
        done += len;
    }
    for (size_t i = 0; i < RAW; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    put_u32(z + n, b << 16 | a);
    n += 4;
    put_u32(ihdr, SIDE);
    put_u32(ihdr + 4, SIDE);
    ihdr[8] = 4;  /* bits per pixel */
    ihdr[9] = 3;  /* colour type: palette */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* not interlaced */
    ok = fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, 13) &&
         write_chunk(f, "PLTE", palette, 3 * n_colors) && write_chunk(f, "IDAT", z, n) &&
         write_chunk(f, "IEND", NULL, 0);
    return fclose(f) == 0 && ok;
}

/* ---- the loss curve as SVG ---------------------------------------------- */

static int write_loss_svg(const char *path, const double *train, const double *val, int n) {
    const double W = 560, H = 320, left = 60, right = 20, top = 20, bottom = 45;
    double max = 0;
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    for (int e = 0; e < n; e++) max = fmax(max, fmax(train[e], val[e]));
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    /* axes, with ticks on the loss axis at 0, max/4, ... max */
    fprintf(f, "<path d=\"M%.0f %.0f V%.0f H%.0f\" stroke=\"black\" fill=\"none\"/>\n", left,
            top, H - bottom, W - right);
    for (int i = 0; i <= 4; i++) {
        const double v = max * i / 4, py = H - bottom - (H - top - bottom) * i / 4;
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", left - 6,
                py + 4, v);
    }
    for (int i = 0; i <= 4; i++) { /* epoch ticks: 1, n/4, ..., n */
        const int e = i == 0 ? 1 : n * i / 4;
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>\n",
                left + (W - left - right) * (e - 1) / (n > 1 ? n - 1 : 1), H - bottom + 16, e);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">epoch</text>\n",
            (left + W - right) / 2, H - 6);
    for (int line = 0; line < 2; line++) {
        const double *v = line ? val : train;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                line ? "#d95f02" : "#1b64b4");
        for (int e = 0; e < n; e++)
            fprintf(f, "%.1f,%.1f ", left + (W - left - right) * e / (n > 1 ? n - 1 : 1),
                    H - bottom - (H - top - bottom) * v[e] / max);
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
    snprintf(png, sizeof png, "%s/spiral.png", dir);
    snprintf(svg, sizeof svg, "%s/spiral_loss.svg", dir);
    if (!write_png(png, pix, palette, 7) || !write_loss_svg(svg, c.train, c.val, EPOCHS)) {
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
