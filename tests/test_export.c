/* nn_export_c: the exported headers, compiled into this program, against
   nn.h itself.  Built twice (see the Makefile): with TEST_EXPORT_GEN it
   makes the nets below and writes their headers and exported.h into the
   directory it is given; without, it includes exported.h, makes the same
   nets again and checks
   - float: the exported predict is nn_predict on one sample, bit for bit
     in a float build, for every activation, depths 1 to 4, widths 1 to
     300, with and without input scaling; classify is nn_classify;
   - float: its tanh (nn.h's, in every header) and, without libm, its e^x
     within 2.6 and 1.3 ulp (every 61st float here, every 1009th under an
     emulator, in the plain float builds; nn.h gives the full sweep), and
     without libm its outputs within 1e-5 of nn_predict's;
   - int8: on small trained nets, the classes agree with nn_classify and
     the outputs are near; every activation runs; the integer part stands
     alone (TEST_EXPORT_NO_FLOAT);
   - the refusals, the memory twin and the float literals.
   Both builds call only the API, and link the implementation the config
   compiles once (nn.o). */
#include "../nn.h"
#include "harness.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))

typedef struct spec {
    const char *name;
    nn_export_kind kind;
    int no_libm, scaled, trained;
    size_t L, sizes[6];
    nn_act acts[5];
} spec;

#define LIN NN_ACT_LINEAR
#define SIG NN_ACT_SIGMOID
#define TANH NN_ACT_TANH
#define RELU NN_ACT_RELU
#define LEAKY NN_ACT_LEAKY_RELU
#define SOFT NN_ACT_SOFTMAX
#define F NN_EXPORT_FLOAT
#define Q NN_EXPORT_INT8

static const spec specs[] = {
    {"f_one", F, 0, 0, 0, 1, {1, 1}, {LIN}},
    {"f_xor", F, 0, 1, 0, 2, {2, 3, 1}, {TANH, SIG}},
    {"f_lanes", F, 0, 1, 0, 3, {17, 16, 15, 3}, {RELU, LEAKY, SOFT}},
    {"f_wide_in", F, 0, 0, 0, 2, {300, 33, 2}, {SIG, SOFT}},
    {"f_wide", F, 0, 1, 0, 2, {5, 300, 4}, {TANH, LIN}},
    {"f_deep", F, 0, 1, 0, 4, {40, 31, 17, 9, 6}, {LEAKY, TANH, SIG, SOFT}},
    {"f_softmax_in", F, 0, 0, 0, 4, {8, 6, 5, 4, 3}, {SOFT, RELU, LIN, SIG}},
    {"f_relu_out", F, 0, 0, 0, 1, {20, 7}, {RELU}},
    {"n_deep", F, 1, 1, 0, 4, {40, 31, 17, 9, 6}, {LEAKY, TANH, SIG, SOFT}},
    {"n_xor", F, 1, 0, 0, 2, {2, 3, 1}, {TANH, SIG}},
    {"n_wide", F, 1, 1, 0, 2, {5, 300, 4}, {TANH, TANH}},
    {"q_relu", Q, 0, 1, 1, 2, {4, 16, 3}, {RELU, SOFT}},
    {"q_tanh", Q, 0, 1, 1, 2, {4, 12, 3}, {TANH, SOFT}},
    {"q_sig", Q, 0, 0, 1, 2, {4, 12, 3}, {SIG, SOFT}},
    {"q_deep", Q, 0, 1, 1, 4, {4, 20, 12, 8, 3}, {LEAKY, LIN, TANH, SOFT}},
    {"q_binary", Q, 0, 1, 1, 2, {4, 8, 1}, {RELU, SIG}},
    {"q_nolibm", Q, 1, 1, 1, 2, {4, 12, 3}, {SIG, SOFT}},
    {"q_regress", Q, 0, 1, 0, 3, {6, 10, 5, 2}, {RELU, SIG, TANH}},
    {"q_one", Q, 0, 0, 0, 1, {3, 2}, {LIN}},
};
#define N_SPECS (sizeof specs / sizeof *specs)

/* the data: 3 blobs in 4 dimensions, raw inputs around 10 (so that the
   scaling matters), labelled 0..2; for the binary net, class 0 or not */
#define N_DATA 300
#define N_EVAL 20 /* random inputs per float net */
static nn_real data_x[N_DATA * 4], data_y[N_DATA * 3], data_b[N_DATA];

static double normal(nn_rng *rng) {
    const double u = nn_rng_uniform(rng) + 1e-12, v = nn_rng_uniform(rng);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static void make_data(void) {
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    for (size_t s = 0; s < N_DATA; s++) {
        const size_t c = s % 3;
        for (size_t i = 0; i < 4; i++)
            data_x[s * 4 + i] = (nn_real)(10 + 3 * ((c + i) % 3 == 0) + normal(&rng) * (0.6 + 0.3 * (double)i));
        for (size_t k = 0; k < 3; k++) data_y[s * 3 + k] = (nn_real)(k == c);
        data_b[s] = (nn_real)(c == 0);
    }
}

/* the net of specs[k], the same in both builds */
static nn_net *make_net(size_t k) {
    const spec *sp = &specs[k];
    nn_net *net = nn_create(sp->L, sp->sizes, sp->acts, 100 + k, NULL);
    nn_rng rng;
    if (!net) return NULL;
    nn_rng_seed(&rng, 200 + k);
    if (sp->trained) {
        nn_train_config cfg = nn_train_defaults(sp->sizes[sp->L] == 1 ? NN_LOSS_BINARY_CROSS_ENTROPY
                                                                      : NN_LOSS_CROSS_ENTROPY);
        cfg.opt.lr = 0.01;
        cfg.epochs = 40;
        if (sp->scaled && nn_fit_input_scaling(net, data_x, N_DATA) != NN_OK) return NULL;
        if (nn_train(net, &cfg, data_x, sp->sizes[sp->L] == 1 ? data_b : data_y, N_DATA, NULL) != NN_OK) {
            nn_destroy(net);
            return NULL;
        }
        return net;
    }
    for (size_t l = 0; l < sp->L; l++) { /* biases too */
        nn_real *b = nn_layer_params(net, l) + sp->sizes[l] * sp->sizes[l + 1];
        for (size_t o = 0; o < sp->sizes[l + 1]; o++) b[o] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
    }
    if (sp->scaled) {
        nn_real shift[300], scale[300];
        for (size_t i = 0; i < sp->sizes[0]; i++) {
            shift[i] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
            scale[i] = (nn_real)(0.25 + nn_rng_uniform(&rng));
        }
        if (nn_set_input_scaling(net, shift, scale) != NN_OK) return NULL;
    }
    return net;
}

/* random raw inputs for specs[k], some large enough to saturate */
static void make_inputs(size_t k, nn_real *x, size_t n) {
    nn_rng rng;
    nn_rng_seed(&rng, 300 + k);
    for (size_t j = 0; j < n * specs[k].sizes[0]; j++)
        x[j] = (nn_real)(normal(&rng) * (j % 7 == 0 ? 8 : 1.5));
}

static nn_export_options options(size_t k, nn_real *calib) {
    nn_export_options o = nn_export_defaults();
    o.kind = specs[k].kind;
    o.no_libm = specs[k].no_libm;
    o.note = "made by tests/test_export.c";
    if (o.kind == NN_EXPORT_INT8) {
        if (specs[k].sizes[0] == 4) {
            o.calib_x = data_x;
            o.calib_n = N_DATA;
        } else {
            make_inputs(k, calib, 64);
            o.calib_x = calib;
            o.calib_n = 64;
        }
    }
    return o;
}

#ifdef TEST_EXPORT_GEN

int main(int argc, char **argv) {
    static nn_real calib[64 * 300];
    char path[1024];
    FILE *all, *f;
    if (argc != 2) return 2;
    make_data();
    snprintf(path, sizeof path, "%s/exported.h", argv[1]);
    all = fopen(path, "w");
    if (!all) return 1;
    for (size_t k = 0; k < N_SPECS; k++) {
        nn_net *net = make_net(k);
        const nn_export_options o = options(k, calib);
        nn_result r;
        snprintf(path, sizeof path, "%s/%s.h", argv[1], specs[k].name);
        f = fopen(path, "w");
        if (!net || !f) return 1;
        r = nn_export_c(net, f, specs[k].name, &o);
        if (fclose(f) != 0 || r != NN_OK) {
            printf("%s: %s\n", specs[k].name, nn_result_string(r));
            return 1;
        }
        fprintf(all, "#include \"%s.h\"\n", specs[k].name);
        nn_destroy(net);
    }
    { /* q_relu again as qi, to be included with QI_NO_FLOAT */
        nn_net *net = make_net(11);
        const nn_export_options o = options(11, calib);
        nn_result r;
        snprintf(path, sizeof path, "%s/qi.h", argv[1]);
        f = fopen(path, "w");
        if (!net || !f || strcmp(specs[11].name, "q_relu") != 0) return 1;
        r = nn_export_c(net, f, "qi", &o);
        if (fclose(f) != 0 || r != NN_OK) return 1;
        fprintf(all, "#define QI_NO_FLOAT\n#include \"qi.h\"\n");
        nn_destroy(net);
    }
    /* what the test calls, in the order of specs */
    fprintf(all, "typedef struct exported { void (*predict)(const float *, float *);\n"
                 "  int (*classify)(const float *); } exported;\n"
                 "static const exported exports[] = {\n");
    for (size_t k = 0; k < N_SPECS; k++) {
        const nn_act out = specs[k].acts[specs[k].L - 1];
        if (out == NN_ACT_SOFTMAX || out == NN_ACT_SIGMOID)
            fprintf(all, "  {%s_predict, %s_classify},\n", specs[k].name, specs[k].name);
        else
            fprintf(all, "  {%s_predict, 0},\n", specs[k].name);
    }
    fprintf(all, "};\nstatic const size_t exported_sizes[] = {");
    for (size_t k = 0; k < N_SPECS; k++) {
        long size;
        snprintf(path, sizeof path, "%s/%s.h", argv[1], specs[k].name);
        f = fopen(path, "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) return 1;
        fclose(f);
        fprintf(all, "%ld, ", size);
    }
    fprintf(all, "};\n");
    return fclose(all) == 0 ? 0 : 1;
}

#else

#include "exported.h"

/* the e^x (no_libm) and the tanh of n_deep's header (they are the same
   text in every header) against libm in double, over every `stride`-th
   float of [lo, hi]; the worst error in ulp.  The header's float code
   does not change with NN_REAL, NDEBUG or NN_REFERENCE, so the sweep runs
   in the plain float builds only; elsewhere it would repeat their sums
   exactly. */
#if defined(NDEBUG) || defined(NN_REFERENCE)
#define SWEEP 0
#else
#define SWEEP 1
#endif
static double worst_ulps(int tanh_, float lo, float hi, uint32_t stride) {
    double worst = 0;
    for (float x = lo; x <= hi;) {
        const double want = tanh_ ? tanh((double)x) : exp((double)x);
        const float got = tanh_ ? n_deep__tanh(x) : n_deep__exp(x, NULL);
        uint32_t bits;
        worst = MAX(worst, th_ulps((double)got, want));
        memcpy(&bits, &x, sizeof bits);
        /* float order: up for positive bits, down for negative */
        if (x < 0) bits = bits > 0x80000000u + stride ? bits - stride : 0u;
        else bits += stride;
        memcpy(&x, &bits, sizeof x);
    }
    return worst;
}

/* The float header sums as nn_predict's fast path does; in the
   NN_REFERENCE build nn_predict keeps one running sum, so there the
   outputs are only near. */
#ifdef NN_REFERENCE
#define SAME_SUMS 0
#else
#define SAME_SUMS 1
#endif

static void check_float(size_t k, nn_net *net) {
    const spec *sp = &specs[k];
    const size_t n_in = sp->sizes[0], n_out = sp->sizes[sp->L];
    static nn_real x[N_EVAL * 300], scratch[2 * 300 * N_EVAL], out[N_EVAL * 300];
    float xf[300], y[300];
    int same = 1, near = 1, classes = 1;
    double worst = 0;
    make_inputs(k, x, N_EVAL);
    for (size_t s = 0; s < N_EVAL; s++) {
        CHECK(nn_predict(net, x + s * n_in, 1, scratch, out) == NN_OK);
        for (size_t i = 0; i < n_in; i++) xf[i] = (float)x[s * n_in + i];
        exports[k].predict(xf, y);
        for (size_t o = 0; o < n_out; o++) {
            const double d = fabs((double)y[o] - (double)out[o]);
            same &= (double)y[o] == (double)out[o];
            near &= d <= 1e-5 * (1 + fabs((double)out[o]));
            worst = MAX(worst, d);
        }
        if (exports[k].classify) {
            size_t c;
            CHECK(nn_classify(net, x + s * n_in, 1, &c) == NN_OK);
            classes &= (size_t)exports[k].classify(xf) == c;
        }
    }
    if (!TH_DOUBLE && !sp->no_libm && SAME_SUMS) {
        CHECK(same);
        if (exports[k].classify) CHECK(classes);
    } else {
        CHECK(near);
    }
    if (!near) printf("  %s: largest difference %.3g\n", sp->name, worst);
}

/* int8: the classes of the data set against nn_classify's, and the
   outputs against nn_predict's */
static void check_int8(size_t k, nn_net *net) {
    const spec *sp = &specs[k];
    const size_t n_in = sp->sizes[0], n_out = sp->sizes[sp->L];
    static nn_real x[N_DATA * 300], scratch[2 * 300], out[300];
    const size_t n = sp->trained ? N_DATA : 64;
    size_t agree = 0;
    double worst = 0, range = 0;
    float xf[300], y[300];
    if (sp->trained) memcpy(x, data_x, sizeof data_x);
    else make_inputs(k, x, n);
    for (size_t s = 0; s < n; s++) {
        for (size_t i = 0; i < n_in; i++) xf[i] = (float)x[s * n_in + i];
        CHECK(nn_predict(net, x + s * n_in, 1, scratch, out) == NN_OK);
        exports[k].predict(xf, y);
        for (size_t o = 0; o < n_out; o++) {
            worst = MAX(worst, fabs((double)y[o] - (double)out[o]));
            range = MAX(range, fabs((double)out[o]));
        }
        if (exports[k].classify) {
            size_t c;
            CHECK(nn_classify(net, x + s * n_in, 1, &c) == NN_OK);
            agree += (size_t)exports[k].classify(xf) == c;
        }
    }
    /* probabilities within 0.05; other outputs within 5% of their range */
    CHECK(worst <= 0.05 * MAX(range, 1.0));
    if (exports[k].classify) CHECK(agree >= n * 97 / 100);
    if (!(worst <= 0.05 * MAX(range, 1.0)) || (exports[k].classify && agree < n * 97 / 100))
        printf("  %s: largest difference %.3g (range %.3g), %zu of %zu classes agree\n",
               sp->name, worst, range, agree, n);
}

/* 9 significant digits give back every float: a 1 -> N_LIT net whose
   weights and biases are special floats and then random finite ones is
   exported, and every literal of its two arrays read back with strtof */
enum { N_LIT = 10007 };
static void check_literals(void) {
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.1f, FLT_MAX, -FLT_MAX, FLT_MIN,
                                    1e-45f, 3e-44f, 16777216.0f, 9.99999944e-11f, 123456789.0f};
    const size_t n_special = sizeof special / sizeof *special, sizes[] = {1, N_LIT};
    const nn_act lin[] = {NN_ACT_LINEAR};
    const char *arrays[] = {"lit_w0[", "lit_b0["};
    nn_net *net = nn_create(1, sizes, lin, 1, NULL);
    nn_real *p;
    char *text = NULL;
    size_t len = 0, k = 0;
    int all = 1;
    nn_rng rng;
    CHECK(net != NULL);
    if (!net) return;
    p = nn_params(net);
    nn_rng_seed(&rng, 9);
    for (k = 0; k < 2 * N_LIT; k++) { /* W (N_LIT x 1), then b */
        float f = 0;
        if (k < n_special) f = special[k];
        while (k >= n_special) { /* any finite float */
            const uint32_t bits = nn_rng_u32(&rng);
            memcpy(&f, &bits, sizeof f);
            if (f - f == 0) break;
        }
        p[k] = (nn_real)f;
    }
    CHECK(nn_export_c_mem(net, "lit", NULL, NULL, 0, &len) == NN_OK);
    text = (char *)malloc(len + 1);
    CHECK(text && nn_export_c_mem(net, "lit", NULL, text, len + 1, NULL) == NN_OK);
    k = 0;
    for (size_t a = 0; text && a < 2; a++) {
        const char *s = strstr(text, arrays[a]);
        s = s ? strchr(s, '{') : NULL;
        CHECK(s != NULL);
        while (s && all) {
            char *end;
            float back, want;
            s++;
            while (*s == ' ' || *s == '\n') s++;
            if (*s == '}') break;
            back = strtof(s, &end);
            want = (float)p[k];
            all &= end != s && end[0] == 'f' && end[1] == ',' && k < 2 * N_LIT &&
                   memcmp(&back, &want, sizeof back) == 0;
            if (!all) printf("  literal %.20s for %.9g\n", s, (double)want);
            k++;
            s = end + 1;
        }
    }
    CHECK(all && k == 2 * N_LIT);
    free(text);
    nn_destroy(net);
}

static void check_refusals(void) {
    const size_t sizes[] = {3, 4, 2};
    const nn_act soft[] = {NN_ACT_SOFTMAX, NN_ACT_SOFTMAX};
    nn_net *net = nn_create(2, sizes, soft, 1, NULL);
    nn_export_options o = nn_export_defaults();
    nn_real calib[6] = {0, 1, 2, 3, 4, 5};
    char buf[64], *big;
    size_t len = 0, len2 = 0;
    const char *bad[] = {"", "9lives", "a-b", "a b", "abcdefghijabcdefghijabcdefghijabc"};
    CHECK(net != NULL);
    if (!net) return;
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        CHECK(nn_export_c_mem(net, bad[k], NULL, NULL, 0, &len) == NN_ERR_INVALID);
    CHECK(nn_export_c_mem(net, NULL, NULL, NULL, 0, &len) == NN_ERR_INVALID);
    CHECK(nn_export_c_mem(net, "abcdefghijabcdefghijabcdefghijab", NULL, NULL, 0, &len) == NN_OK);
    o.note = "two\nlines";
    CHECK(nn_export_c_mem(net, "p", &o, NULL, 0, &len) == NN_ERR_INVALID);
    o.note = "ends */ a comment";
    CHECK(nn_export_c_mem(net, "p", &o, NULL, 0, &len) == NN_ERR_INVALID);
    o = nn_export_defaults();
    o.kind = NN_EXPORT_COUNT;
    CHECK(nn_export_c_mem(net, "p", &o, NULL, 0, &len) == NN_ERR_INVALID);
    /* int8: calibration rows needed, finite; softmax inside refused */
    o = nn_export_defaults();
    o.kind = NN_EXPORT_INT8;
    CHECK(nn_export_c_mem(net, "p", &o, NULL, 0, &len) == NN_ERR_INVALID);
    o.calib_x = calib;
    o.calib_n = 2;
    CHECK(nn_export_c_mem(net, "p", &o, NULL, 0, &len) == NN_ERR_UNSUPPORTED);
    calib[4] = (nn_real)NAN;
    CHECK(nn_export_c_mem(net, "p", &o, NULL, 0, &len) == NN_ERR_NONFINITE);
    /* float: softmax inside is fine; the memory twin */
    len = 0;
    CHECK(nn_export_c_mem(net, "p", NULL, NULL, 0, &len) == NN_OK && len > 1000);
    CHECK(nn_export_c_mem(net, "p", NULL, NULL, 10, &len2) == NN_ERR_INVALID);
    memset(buf, 'x', sizeof buf);
    CHECK(nn_export_c_mem(net, "p", NULL, buf, sizeof buf, &len2) == NN_ERR_INVALID);
    CHECK(buf[0] == 'x' && buf[sizeof buf - 1] == 'x');
    big = (char *)malloc(len + 1);
    CHECK(big != NULL);
    if (big) {
        CHECK(nn_export_c_mem(net, "p", NULL, big, len, &len2) == NN_ERR_INVALID);
        CHECK(nn_export_c_mem(net, "p", NULL, big, len + 1, &len2) == NN_OK);
        CHECK(len2 == len && big[len] == 0 && strlen(big) == len);
        CHECK(strstr(big, "void p_predict(const float x[3], float y[2]);") != NULL);
        free(big);
    }
    CHECK(nn_export_c(net, NULL, "p", NULL) == NN_ERR_INVALID);
    /* a NaN weight */
    nn_params(net)[0] = (nn_real)NAN;
    CHECK(nn_export_c_mem(net, "p", NULL, NULL, 0, &len) == NN_ERR_NONFINITE);
    nn_destroy(net);
    /* a layer wider than a 16-bit int counts */
    {
        const size_t wide[] = {32768, 1};
        const nn_act lin[] = {NN_ACT_LINEAR};
        net = nn_create(1, wide, lin, 1, NULL);
        CHECK(net != NULL);
        if (net) CHECK(nn_export_c_mem(net, "p", NULL, NULL, 0, &len) == NN_ERR_UNSUPPORTED);
        nn_destroy(net);
    }
}

int main(void) {
    make_data();
    for (size_t k = 0; k < N_SPECS; k++) {
        nn_net *net = make_net(k);
        CHECK(net != NULL);
        if (!net) continue;
        if (specs[k].kind == NN_EXPORT_FLOAT) check_float(k, net);
        else check_int8(k, net);
        { /* the memory twin writes what the file got: its size here */
            static nn_real calib[64 * 300];
            const nn_export_options o = options(k, calib);
            size_t len = 0;
            CHECK(nn_export_c_mem(net, specs[k].name, &o, NULL, 0, &len) == NN_OK &&
                  len == exported_sizes[k]);
        }
        nn_destroy(net);
    }
    if (SWEEP && !TH_DOUBLE) {
        const uint32_t every = th_emulated() ? 1009 : 61; /* both prime */
        const double e = worst_ulps(0, -87.33f, 0.0f, every);
        const double t = worst_ulps(1, 0.0f, 9.0f, every), tn = worst_ulps(1, -9.0f, 0.0f, every);
        printf("no-libm e^x: %.2f ulp, tanh: %.2f ulp (every %uth float)\n", e, MAX(t, tn),
               (unsigned)every);
        CHECK(e <= 1.3 && t <= 2.6 && tn <= 2.6);
    }
    { /* the integer part alone gives the classes of the whole */
        int same = 1;
        for (size_t s = 0; s < N_DATA; s++) {
            float xf[4];
            int8_t xq[4];
            for (size_t i = 0; i < 4; i++) xf[i] = (float)data_x[s * 4 + i];
            q_relu_quantize(xf, xq);
            same &= qi_classify_q(xq) == q_relu_classify(xf);
        }
        CHECK(same);
    }
    check_literals();
    check_refusals();
    return th_report();
}

#endif
