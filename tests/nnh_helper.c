/* nnh_helper.c: nn.h's side of tests/test_nnh.py (make python), built in
   float and in double.
     nnh_helper gen DIR        model files of every kind, m<k>.nn, with
                               inputs m<k>.x and nn_predict's outputs m<k>.y
                               (float64, little-endian); prints the count
     nnh_helper damage FILE    nn_load_mem's result for every prefix of the
                               file ("t LEN CODE"), then for every byte set
                               to every other value ("b AT" and 256 codes,
                               the byte's own value 0)
     nnh_helper load FILE X Y  loads FILE, writes nn_predict of the
                               float64 rows in X into Y
     nnh_helper accuracy FILE CSV FROM TO   nn_classify's accuracy on rows
                               FROM..TO-1 of an examples/data CSV
     nnh_helper export FILE OUT.h PREFIX    the float header of FILE
     nnh_helper seed S         nn_rng_seed(S)'s state and inc */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_doubles(const char *path, const nn_real *v, size_t n) {
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    for (size_t k = 0; ok && k < n; k++) {
        const double d = (double)v[k];
        unsigned char b[8];
        uint64_t u;
        memcpy(&u, &d, 8);
        for (int j = 0; j < 8; j++) b[j] = (unsigned char)(u >> (8 * j));
        ok = fwrite(b, 1, 8, f) == 8;
    }
    if (f && fclose(f) != 0) ok = 0;
    return ok;
}

static nn_real *read_doubles(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    nn_real *v = NULL;
    unsigned char b[8];
    size_t cap = 0;
    *n = 0;
    if (!f) return NULL;
    while (fread(b, 1, 8, f) == 8) {
        uint64_t u = 0;
        double d;
        for (int j = 0; j < 8; j++) u |= (uint64_t)b[j] << (8 * j);
        memcpy(&d, &u, 8);
        if (*n == cap) {
            nn_real *more = (nn_real *)realloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v);
            if (!more) break;
            v = more;
        }
        v[(*n)++] = (nn_real)d;
    }
    fclose(f);
    return v;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        return NULL;
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* the kinds: every activation in every position, depths 1 to 4, with and
   without scaling, class weights and optimizer state */
static int gen(const char *dir) {
    static const nn_act all[] = {NN_ACT_LINEAR, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU,
                                 NN_ACT_LEAKY_RELU, NN_ACT_SOFTMAX};
    int count = 0;
    for (int k = 0; k < 24; k++) {
        const size_t L = 1 + (size_t)k % 4;
        size_t sizes[5];
        nn_act acts[4];
        nn_rng rng;
        nn_net *net;
        nn_real x[8 * 7], shift[7], scale[7], y[8 * 7], scratch[2 * 8 * 9];
        char path[1024];
        nn_rng_seed(&rng, (uint64_t)k);
        for (size_t i = 0; i <= L; i++) sizes[i] = 1 + nn_rng_below(&rng, 7);
        for (size_t l = 0; l < L; l++) acts[l] = all[(k + (int)l) % 6];
        if (k % 3 == 0) acts[L - 1] = NN_ACT_SOFTMAX;
        net = nn_create(L, sizes, acts, (uint64_t)k, NULL);
        if (!net) return -1;
        for (size_t j = 0; j < 8 * sizes[0]; j++) x[j] = (nn_real)(4 * nn_rng_uniform(&rng) - 2);
        for (size_t o = 0; o < nn_param_count(net); o++) /* biases too */
            nn_params(net)[o] += (nn_real)(nn_rng_uniform(&rng) - 0.5);
        if (k % 2) {
            for (size_t i = 0; i < sizes[0]; i++) {
                shift[i] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
                scale[i] = (nn_real)(0.5 + nn_rng_uniform(&rng));
            }
            if (nn_set_input_scaling(net, shift, scale) != NN_OK) return -1;
        }
        if (acts[L - 1] == NN_ACT_SOFTMAX && k % 4 == 0) {
            nn_real w[8];
            for (size_t o = 0; o < sizes[L]; o++) w[o] = (nn_real)(0.5 + (double)o);
            if (nn_set_class_weights(net, w) != NN_OK) return -1;
        }
        if (k % 5 < 2) { /* a few Adam or SGD-momentum steps: optimizer state */
            nn_opt opt = k % 5 ? nn_opt_adam(0.01) : nn_opt_sgd(0.01);
            opt.momentum = k % 5 ? 0 : 0.9;
            for (int s = 0; s < 3; s++) {
                double loss;
                nn_real t[8 * 7];
                for (size_t j = 0; j < 8 * sizes[L]; j++) t[j] = (nn_real)(j % sizes[L] == 0);
                if (!nn_forward(net, x, 8)) return -1;
                nn_zero_grad(net);
                if (nn_backward(net, NN_LOSS_MSE, t, &loss) != NN_OK || nn_step(net, &opt) != NN_OK)
                    return -1;
            }
        }
        if (nn_predict(net, x, 8, scratch, y) != NN_OK) return -1;
        snprintf(path, sizeof path, "%s/m%d.nn", dir, k);
        if (nn_save(net, path) != NN_OK) return -1;
        snprintf(path, sizeof path, "%s/m%d.x", dir, k);
        if (!write_doubles(path, x, 8 * sizes[0])) return -1;
        snprintf(path, sizeof path, "%s/m%d.y", dir, k);
        if (!write_doubles(path, y, 8 * sizes[L])) return -1;
        nn_destroy(net);
        count++;
    }
    printf("%d\n", count);
    return 0;
}

static int damage(const char *path) {
    size_t len;
    unsigned char *buf = read_file(path, &len);
    nn_result err;
    if (!buf) return -1;
    for (size_t n = 0; n < len; n++) {
        nn_destroy(nn_load_mem(buf, n, &err));
        printf("t %zu %d\n", n, (int)err);
    }
    for (size_t at = 0; at < len; at++) {
        const unsigned char was = buf[at];
        printf("b %zu", at);
        for (int v = 0; v < 256; v++) {
            buf[at] = (unsigned char)v;
            nn_destroy(nn_load_mem(buf, len, &err));
            printf(" %d", v == was ? 0 : (int)err);
        }
        printf("\n");
        buf[at] = was;
    }
    free(buf);
    return 0;
}

static int load(const char *path, const char *xp, const char *yp) {
    nn_result err;
    nn_net *net = nn_load(path, &err);
    size_t n;
    nn_real *x = read_doubles(xp, &n), *y, *scratch;
    int ok;
    if (!net || !x) {
        fprintf(stderr, "%s: %s\n", path, nn_result_string(err));
        return -1;
    }
    n /= nn_size(net, 0);
    y = (nn_real *)malloc(n * nn_size(net, nn_layer_count(net)) * sizeof *y);
    scratch = (nn_real *)malloc(nn_predict_scratch_size(net, n) * sizeof *scratch);
    ok = y && scratch && nn_predict(net, x, n, scratch, y) == NN_OK &&
         write_doubles(yp, y, n * nn_size(net, nn_layer_count(net)));
    free(x);
    free(y);
    free(scratch);
    nn_destroy(net);
    return ok ? 0 : -1;
}

/* rows from..to-1 of a CSV in examples/data's format */
static int accuracy(const char *path, const char *csv, size_t from, size_t to) {
    nn_result err;
    nn_net *net = nn_load(path, &err);
    FILE *f = fopen(csv, "r");
    unsigned long rows, feats;
    size_t right = 0, n_in;
    nn_real x[1000];
    int c;
    if (!net || !f || fscanf(f, "%lu,%lu", &rows, &feats) != 2) return -1;
    n_in = nn_size(net, 0);
    while ((c = fgetc(f)) != '\n' && c != EOF) {}
    for (size_t s = 0; s < to && s < rows; s++) {
        double v;
        int label;
        size_t cls;
        for (size_t i = 0; i < feats && i < 1000; i++) {
            if (fscanf(f, "%lf,", &v) != 1) return -1;
            x[i] = (nn_real)v;
        }
        if (fscanf(f, "%d", &label) != 1 || feats != n_in) return -1;
        if (s < from) continue;
        if (nn_classify(net, x, 1, &cls) != NN_OK) return -1;
        right += cls == (size_t)label;
    }
    fclose(f);
    nn_destroy(net);
    printf("%.6f\n", (double)right / (double)(to - from));
    return 0;
}

static int export_header(const char *path, const char *out, const char *prefix) {
    nn_result err;
    nn_net *net = nn_load(path, &err);
    FILE *f = fopen(out, "w");
    int ok = net && f && nn_export_c(net, f, prefix, NULL) == NN_OK;
    if (f && fclose(f) != 0) ok = 0;
    nn_destroy(net);
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    int r = -1;
    if (argc == 3 && strcmp(argv[1], "gen") == 0) r = gen(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "damage") == 0) r = damage(argv[2]);
    else if (argc == 5 && strcmp(argv[1], "load") == 0) r = load(argv[2], argv[3], argv[4]);
    else if (argc == 6 && strcmp(argv[1], "accuracy") == 0)
        r = accuracy(argv[2], argv[3], (size_t)atol(argv[4]), (size_t)atol(argv[5]));
    else if (argc == 5 && strcmp(argv[1], "export") == 0) r = export_header(argv[2], argv[3], argv[4]);
    else if (argc == 3 && strcmp(argv[1], "seed") == 0) {
        nn_rng rng;
        nn_rng_seed(&rng, (uint64_t)strtoull(argv[2], NULL, 10));
        printf("%llu %llu\n", (unsigned long long)rng.state, (unsigned long long)rng.inc);
        r = 0;
    } else
        fprintf(stderr, "usage: see tests/nnh_helper.c\n");
    return r == 0 ? 0 : 1;
}
