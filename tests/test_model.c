/* Model files: round trips, the documented format (written here by hand,
   in the other precision too), every truncation and every single-byte
   change rejected, huge headers allocating nothing, atomic saves that
   never lose the old file, and resumed training equal to uninterrupted
   training. */
#include "counting_alloc.h"
#include "../nn.h"
#include "harness.h"

#include <stdio.h>
#include <string.h>

static nn_net *make_net(uint64_t seed) {
    const size_t sizes[] = {3, 4, 2};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    return nn_create(2, sizes, acts, seed, NULL);
}

static int same_params(nn_net *a, nn_net *b) {
    return nn_param_count(a) == nn_param_count(b) &&
           memcmp(nn_params(a), nn_params(b), nn_param_count(a) * sizeof(nn_real)) == 0;
}

static const nn_real data_x[] = {NN_R(0.1), NN_R(-0.5), NN_R(0.9), NN_R(-1.0), NN_R(0.3),
                                 NN_R(0.2), NN_R(0.7),  NN_R(0.7), NN_R(-0.2), NN_R(0.0),
                                 NN_R(-0.8), NN_R(0.4), NN_R(0.5), NN_R(0.5),  NN_R(-0.5)};
static const nn_real data_y[] = {1, 0, 0, 1, 1, 0, 0, 1, 1, 0};

/* a net with everything a file can hold: trained with AdamW, so it has
   optimizer state, class weights and input scaling */
static nn_net *make_full_net(void) {
    nn_net *net = make_net(3);
    const nn_real w[2] = {NN_R(0.5), NN_R(2.0)};
    nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
    cfg.opt = nn_opt_adamw(0.01, 0.1);
    cfg.epochs = 3;
    cfg.batch_size = 2;
    nn_set_class_weights(net, w);
    nn_fit_input_scaling(net, data_x, 5); /* format version 2's field */
    nn_train(net, &cfg, data_x, data_y, 5, NULL);
    return net;
}

static unsigned char *save_to_mem(const nn_net *net, size_t *len) {
    unsigned char *buf;
    *len = nn_save_size(net);
    buf = (unsigned char *)malloc(*len);
    CHECK(nn_save_mem(net, buf, *len) == NN_OK);
    return buf;
}

/* Same precision: bit for bit, including predictions and what training
   does next. */
static void check_round_trip(void) {
    nn_net *net = make_full_net(), *back;
    size_t len;
    unsigned char *buf = save_to_mem(net, &len);
    nn_result err = NN_ERR_IO;
    nn_opt opt = nn_opt_adamw(0.01, 0.1);
    back = nn_load_mem(buf, len, &err);
    CHECK(back != NULL && err == NN_OK);
    if (!back) return;
    CHECK(nn_layer_count(back) == 2 && nn_size(back, 0) == 3 && nn_size(back, 1) == 4 &&
          nn_size(back, 2) == 2);
    CHECK(nn_layer_act(back, 0) == NN_ACT_TANH && nn_layer_act(back, 1) == NN_ACT_SOFTMAX);
    CHECK(same_params(net, back));
    CHECK(nn_net_rng(net)->state == nn_net_rng(back)->state &&
          nn_net_rng(net)->inc == nn_net_rng(back)->inc);
    {
        const nn_real *a = nn_forward(net, data_x, 5);
        nn_real pa[10];
        double la = 0, lb = 0;
        memcpy(pa, a, sizeof pa);
        CHECK(memcmp(pa, nn_forward(back, data_x, 5), sizeof pa) == 0);
        /* the class weights came along: the weighted loss is the same */
        nn_compute_loss(net, NN_LOSS_CROSS_ENTROPY, data_y, &la);
        nn_compute_loss(back, NN_LOSS_CROSS_ENTROPY, data_y, &lb);
        CHECK(la == lb);
        /* and the optimizer state: the next step is the same */
        nn_zero_grad(net);
        nn_backward(net, NN_LOSS_CROSS_ENTROPY, data_y, NULL);
        nn_zero_grad(back);
        nn_backward(back, NN_LOSS_CROSS_ENTROPY, data_y, NULL);
        nn_step(net, &opt);
        nn_step(back, &opt);
        CHECK(same_params(net, back));
    }
    /* saved again, the same bytes (after the step, both moved alike) */
    {
        size_t l1, l2;
        unsigned char *b1 = save_to_mem(net, &l1), *b2 = save_to_mem(back, &l2);
        CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
        free(b1);
        free(b2);
    }
    /* a fresh net has no optimizer state and no class weights: smaller */
    {
        nn_net *plain = make_net(3);
        const size_t P = nn_param_count(plain), R = sizeof(nn_real);
        CHECK(nn_save_size(plain) == 40 + 8 * 3 + 4 * 2 + P * R + 4);
        /* + class weights (2), the input scaling (2 x 3), the state */
        CHECK(nn_save_size(net) ==
              40 + 8 * 3 + 4 * 2 + P * R + 2 * R + 6 * R + 16 + 2 * P * R + 4);
        nn_opt_reset(net); /* forgets the state: the file drops it */
        CHECK(nn_save_size(net) == 40 + 8 * 3 + 4 * 2 + P * R + 2 * R + 6 * R + 4);
        nn_destroy(plain);
    }
    /* too small a buffer: refused, untouched */
    {
        unsigned char small[16];
        memset(small, 0xab, sizeof small);
        CHECK(nn_save_mem(net, small, sizeof small) == NN_ERR_INVALID);
        CHECK(small[0] == 0xab && small[15] == 0xab);
    }
    free(buf);
    nn_destroy(net);
    nn_destroy(back);
}

/* ---- the format, written by hand ---------------------------------------- */

typedef struct bytes {
    unsigned char b[4096];
    size_t n;
} bytes;

static void put_u32(bytes *o, uint32_t v) {
    for (int i = 0; i < 4; i++) o->b[o->n++] = (unsigned char)(v >> (8 * i));
}
static void put_u64(bytes *o, uint64_t v) {
    for (int i = 0; i < 8; i++) o->b[o->n++] = (unsigned char)(v >> (8 * i));
}
static void put_f32(bytes *o, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(o, u);
}
static void put_f64(bytes *o, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    put_u64(o, u);
}
/* CRC-32, the textbook bitwise loop, kept apart from the library's */
static uint32_t crc32_ref(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return c ^ 0xffffffffu;
}
static void put_crc(bytes *o) { put_u32(o, crc32_ref(o->b, o->n)); }

/* A 2 -> 1 sigmoid net, W = (w0, w1), b, in real size rs, as format
   version `version` writes it; with `scaling` (version 2), the input
   scaling shift (0.5, -1), scale (2, 0.25) follows the parameters */
static void hand_model_v(bytes *o, uint32_t version, uint32_t rs, const double *params,
                         int scaling) {
    static const unsigned char magic[8] = {0x89, 'N', 'N', 'H', '\r', '\n', 0x1a, '\n'};
    static const double map[4] = {0.5, -1, 2, 0.25};
    o->n = 0;
    memcpy(o->b, magic, 8);
    o->n = 8;
    put_u32(o, version);
    put_u32(o, rs);                   /* real size */
    put_u32(o, scaling ? 4u : 0u);   /* flags */
    put_u32(o, 1);  /* L */
    put_u64(o, 12345); /* generator */
    put_u64(o, 777);
    put_u64(o, 2); /* sizes */
    put_u64(o, 1);
    put_u32(o, NN_ACT_SIGMOID);
    for (int k = 0; k < 3 + (scaling ? 4 : 0); k++) {
        const double v = k < 3 ? params[k] : map[k - 3];
        if (rs == 4) put_f32(o, (float)v);
        else put_f64(o, v);
    }
}
static void hand_model(bytes *o, uint32_t rs, const double *params) {
    hand_model_v(o, 2, rs, params, 0);
}

/* the library writes these very bytes back for the net loaded from them */
static int writes_back(const nn_net *net, const bytes *o) {
    unsigned char back[256];
    return nn_save_size(net) == o->n && nn_save_mem(net, back, sizeof back) == NN_OK &&
           memcmp(back, o->b, o->n) == 0;
}

static void check_format(void) {
    /* 0.1 is not exact in either precision: rounding shows */
    const double params[3] = {0.1, -2.5, 1e-3};
    bytes o;
    nn_result err;
    for (uint32_t rs = 4; rs <= 8; rs += 4) {
        nn_net *net;
        hand_model(&o, rs, params);
        put_crc(&o);
        net = nn_load_mem(o.b, o.n, &err);
        CHECK(net != NULL && err == NN_OK);
        if (!net) continue;
        CHECK(nn_layer_count(net) == 1 && nn_size(net, 0) == 2 && nn_size(net, 1) == 1 &&
              nn_layer_act(net, 0) == NN_ACT_SIGMOID);
        CHECK(nn_net_rng(net)->state == 12345 && nn_net_rng(net)->inc == 777);
        for (int k = 0; k < 3; k++) {
            /* float file: exactly the float; double file: the double,
               rounded to the build's precision */
            const nn_real want = rs == 4 ? (nn_real)(float)params[k] : (nn_real)params[k];
            CHECK(nn_params(net)[k] == want);
        }
        /* in this build's own precision, the library writes these very
           bytes back */
        if (rs == sizeof(nn_real)) CHECK(writes_back(net, &o));
        nn_destroy(net);
        /* a version-1 file (the same bytes but the version) still loads,
           to the same net */
        hand_model_v(&o, 1, rs, params, 0);
        put_crc(&o);
        net = nn_load_mem(o.b, o.n, &err);
        CHECK(net != NULL && err == NN_OK);
        if (net) CHECK(nn_params(net)[0] == (rs == 4 ? (nn_real)(float)params[0] : (nn_real)params[0]));
        nn_destroy(net);
        /* version 2 with input scaling: loads with its map, and is
           written back byte for byte */
        hand_model_v(&o, 2, rs, params, 1);
        put_crc(&o);
        net = nn_load_mem(o.b, o.n, &err);
        CHECK(net != NULL && err == NN_OK);
        if (!net) continue;
        {
            const nn_real *shift, *scale;
            CHECK(nn_input_scaling(net, &shift, &scale) == 1);
            CHECK(shift[0] == NN_R(0.5) && shift[1] == -1 && scale[0] == 2 &&
                  scale[1] == NN_R(0.25));
        }
        if (rs == sizeof(nn_real)) CHECK(writes_back(net, &o));
        nn_destroy(net);
    }
    /* a double too large for a float cannot load into a float build */
    {
        const double big[3] = {1e300, 0, 0};
        hand_model(&o, 8, big);
        put_crc(&o);
        nn_net *net = nn_load_mem(o.b, o.n, &err);
        if (TH_DOUBLE)
            CHECK(net && nn_params(net)[0] == (nn_real)1e300);
        else
            CHECK(!net && err == NN_ERR_UNSUPPORTED);
        nn_destroy(net);
    }
}

/* Fields a well-formed file may hold that this nn.h cannot use, each with
   a correct CRC, and the other distinct rejections. */
static void check_rejections(void) {
    const double params[3] = {0.5, 0.25, 0};
    bytes o;
    nn_result err = NN_OK;
    struct {
        size_t at;
        uint32_t value;
        nn_result want;
    } cases[] = {
        {8, 3, NN_ERR_VERSION},       /* newer version */
        {8, 0, NN_ERR_UNSUPPORTED},   /* version 0 never existed */
        {12, 2, NN_ERR_UNSUPPORTED},  /* real size */
        {16, 8, NN_ERR_UNSUPPORTED},  /* unknown flag */
        {20, 0, NN_ERR_UNSUPPORTED},  /* no layers */
        {40, 0, NN_ERR_UNSUPPORTED},  /* sizes[0] = 0 */
        {56, 99, NN_ERR_UNSUPPORTED}, /* activation */
        {56, NN_ACT_COUNT, NN_ERR_UNSUPPORTED},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        hand_model(&o, (uint32_t)sizeof(nn_real), params);
        o.b[cases[c].at] = (unsigned char)cases[c].value;
        o.b[cases[c].at + 1] = (unsigned char)(cases[c].value >> 8);
        put_crc(&o);
        CHECK(nn_load_mem(o.b, o.n, &err) == NULL);
        if (err != cases[c].want) printf("case %zu: %s\n", c, nn_result_string(err));
        CHECK(err == cases[c].want);
    }
    /* input scaling in a version-1 file, which has no such field */
    hand_model_v(&o, 1, (uint32_t)sizeof(nn_real), params, 1);
    put_crc(&o);
    CHECK(nn_load_mem(o.b, o.n, &err) == NULL && err == NN_ERR_UNSUPPORTED);
    /* a NaN parameter */
    {
        const double nan_params[3] = {0, (double)NAN, 0};
        hand_model(&o, (uint32_t)sizeof(nn_real), nan_params);
        put_crc(&o);
        CHECK(nn_load_mem(o.b, o.n, &err) == NULL && err == NN_ERR_UNSUPPORTED);
    }
    /* wrong magic; a trailing byte; a bad CRC */
    hand_model(&o, (uint32_t)sizeof(nn_real), params);
    put_crc(&o);
    o.b[0] = 'x';
    CHECK(nn_load_mem(o.b, o.n, &err) == NULL && err == NN_ERR_NOT_MODEL);
    o.b[0] = 0x89;
    o.b[o.n] = 0;
    CHECK(nn_load_mem(o.b, o.n + 1, &err) == NULL && err == NN_ERR_TRAILING);
    o.b[o.n - 1] ^= 1;
    CHECK(nn_load_mem(o.b, o.n, &err) == NULL && err == NN_ERR_CORRUPT);
    CHECK(nn_load_mem(o.b, 0, &err) == NULL && err == NN_ERR_TRUNCATED);
    {
        const char text[] = "3 layers: 2, 4, 1\n";
        CHECK(nn_load_mem(text, sizeof text, &err) == NULL && err == NN_ERR_NOT_MODEL);
    }
    CHECK(strcmp(nn_result_string(NN_ERR_TRAILING), "unknown error") != 0);
}

/* Found by make fuzz: a header whose parameter count, times the real
   size, points far beyond the data.  The reader formed a pointer there
   before comparing with the length, which is undefined behaviour (make
   sanitize reports it); it must be a plain NN_ERR_TRUNCATED. */
static void check_fuzz_finds(void) {
    static const unsigned char crash_1[] = {
        0x89, 0x4e, 0x4e, 0x48, 0x0d, 0x0a, 0x1a, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x11, 0xc0, 0x35, 0xfe,
        0x6a, 0x7e, 0x95, 0x31, 0x9f, 0x02, 0xcf, 0xee, 0xfd, 0xf6, 0x0a, 0x28, 0xfe, 0xff,
        0xff, 0xf9, 0xff, 0xff, 0xff, 0x1f, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xf5, 0xfe,
        0x05, 0xbf, 0x92, 0x77, 0xdc, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x4f, 0x88, 0x3a, 0xad};
    nn_result err = NN_OK;
    CHECK(nn_load_mem(crash_1, sizeof crash_1, &err) == NULL);
    CHECK(err == NN_ERR_TRUNCATED);
}

/* Headers that claim enormous nets are refused before any allocation. */
static void check_huge_headers(void) {
    const uint64_t claims[][3] = {
        {1, (uint64_t)1 << 40, (uint64_t)1 << 40}, /* a trillion squared */
        {1, UINT64_MAX, 1},                        /* beyond size_t */
        {1, (uint64_t)1 << 31, 3},                 /* big but representable */
        {0xffffffffu, 1, 1},                       /* 4 billion layers */
    };
    for (size_t c = 0; c < sizeof claims / sizeof *claims; c++) {
        const double params[3] = {0, 0, 0};
        bytes o;
        nn_result err = NN_OK;
        long before;
        hand_model(&o, 4, params);
        o.n = 20;
        put_u32(&o, (uint32_t)claims[c][0]);
        o.n = 40;
        put_u64(&o, claims[c][1]);
        put_u64(&o, claims[c][2]);
        o.n = 200; /* some bytes after, zero, to read into */
        memset(o.b + 56, 0, 144);
        before = t_calls;
        CHECK(nn_load_mem(o.b, o.n, &err) == NULL);
        CHECK(err == NN_ERR_TRUNCATED);
        CHECK(t_calls == before);
    }
}

/* Every prefix and every one-byte change of a real model is rejected. */
static void check_every_byte(void) {
    nn_net *net = make_full_net(), *back;
    size_t len, truncated_ok = 1, changed_ok = 1, loaded = 0;
    unsigned char *buf = save_to_mem(net, &len);
    nn_result err;
    for (size_t n = 0; n < len; n++) {
        back = nn_load_mem(buf, n, &err);
        truncated_ok &= back == NULL && err == NN_ERR_TRUNCATED;
        nn_destroy(back);
    }
    CHECK(truncated_ok);
    for (size_t at = 0; at < len; at++) {
        const unsigned char was = buf[at];
        for (int v = 0; v < 256; v++) {
            if (v == was) continue;
            buf[at] = (unsigned char)v;
            back = nn_load_mem(buf, len, &err);
            if (back || err == NN_OK) {
                changed_ok = 0;
                printf("byte %zu set to %d loaded\n", at, v);
            }
            nn_destroy(back);
        }
        buf[at] = was;
    }
    CHECK(changed_ok);
    back = nn_load_mem(buf, len, &err); /* the untouched model still loads */
    loaded = back != NULL;
    CHECK(loaded);
    nn_destroy(back);
    /* random data, with and without nn.h's magic in front */
    {
        nn_rng rng;
        int all_refused = 1;
        nn_rng_seed(&rng, 77);
        for (int trial = 0; trial < 2000; trial++) {
            const size_t n = nn_rng_below(&rng, len + 64);
            unsigned char junk[1024];
            for (size_t k = 0; k < n; k++) junk[k] = (unsigned char)nn_rng_u32(&rng);
            if (trial % 2) memcpy(junk, buf, n < 12 ? n : 12);
            back = nn_load_mem(junk, n, &err);
            all_refused &= back == NULL && err != NN_OK;
            nn_destroy(back);
        }
        CHECK(all_refused);
    }
    free(buf);
    nn_destroy(net);
}

/* ---- files ------------------------------------------------------------- */

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

static int file_exists(const char *path) { return file_size(path) >= 0; }

static void check_files(const char *dir) {
    char path[512], tmp[520], other[512];
    nn_net *net = make_full_net(), *other_net = make_net(9), *back;
    nn_result err = NN_OK;
    unsigned char *want;
    size_t len;
    FILE *f;
    snprintf(path, sizeof path, "%s/model.nn", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(other, sizeof other, "%s/no/such/dir/model.nn", dir);
    CHECK(nn_save(net, path) == NN_OK);
    CHECK(!file_exists(tmp));
    CHECK(file_size(path) == (long)nn_save_size(net));
    back = nn_load(path, &err);
    CHECK(back && err == NN_OK && same_params(net, back));
    nn_destroy(back);
    want = save_to_mem(net, &len);

    /* failed saves: the model already at path stays as it was */
    CHECK(nn_save(other_net, other) == NN_ERR_IO); /* missing directory */
    CHECK(nn_save(other_net, "/proc/nn-h-test.nn") == NN_ERR_IO); /* nobody writes there */
    {
        /* a link planted at the old fixed temporary name, path.tmp, is
           neither followed nor touched: the temporary file is a new one */
        char victim[560], cmd[1300];
        snprintf(victim, sizeof victim, "%s/victim", dir);
        f = fopen(victim, "wb");
        fputs("precious", f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "ln -s '%s' '%s'", victim, tmp);
        CHECK(system(cmd) == 0);
        CHECK(nn_save(net, path) == NN_OK);
        CHECK(file_size(victim) == 8);
        remove(tmp);
        remove(victim);
    }
    back = nn_load(path, &err);
    CHECK(back && same_params(net, back));
    nn_destroy(back);
    {
        /* the target is a directory: the rename fails, nothing is left */
        char d[520], cmd[1100];
        snprintf(d, sizeof d, "%s/a-dir.nn", dir);
        snprintf(cmd, sizeof cmd, "mkdir '%s' && touch '%s/x'", d, d);
        CHECK(system(cmd) == 0);
        CHECK(nn_save(other_net, d) == NN_ERR_IO);
        snprintf(cmd, sizeof cmd, "%s.tmp", d);
        CHECK(!file_exists(cmd));
    }

    /* loading: no file, not a model, a truncated file */
    CHECK(nn_load(other, &err) == NULL && err == NN_ERR_IO);
    snprintf(other, sizeof other, "%s/text.txt", dir);
    f = fopen(other, "wb");
    fputs("not a model at all", f);
    fclose(f);
    CHECK(nn_load(other, &err) == NULL && err == NN_ERR_NOT_MODEL);
    f = fopen(other, "wb");
    fwrite(want, 1, len / 2, f);
    fclose(f);
    CHECK(nn_load(other, &err) == NULL && err == NN_ERR_TRUNCATED);
    f = fopen(other, "wb");
    fclose(f);
    CHECK(nn_load(other, &err) == NULL && err == NN_ERR_TRUNCATED);
    /* a directory: opens on Linux, reading fails; this once asked malloc
       for LONG_MAX bytes, the size ftell gave (make sanitize caught it) */
    {
        long before = t_calls;
        CHECK(nn_load(dir, &err) == NULL && err == NN_ERR_IO);
        CHECK(t_calls - before <= 1); /* the buffer for the magic */
    }
    free(want);
    nn_destroy(net);
    nn_destroy(other_net);
}

/* ---- resume ------------------------------------------------------------ */

/* 2 + 2 epochs with a save and load in between (through a file, or
   memory) equal 4 epochs in one go, bit for bit: weights, optimizer state
   and the generator that shuffles all come back. */
static void check_resume(const char *dir) {
    nn_opt opts[4];
    const char *names[4] = {"momentum", "nesterov+decay", "adam", "adamw"};
    opts[0] = nn_opt_sgd(0.1);
    opts[0].momentum = 0.9;
    opts[1] = opts[0];
    opts[1].nesterov = 1;
    opts[1].weight_decay = 0.01;
    opts[2] = nn_opt_adam(0.01);
    opts[3] = nn_opt_adamw(0.01, 0.1);
    for (int c = 0; c < 4; c++) {
        nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
        nn_net *whole = make_net(5), *first = make_net(5), *second;
        nn_result err;
        char path[512];
        cfg.opt = opts[c];
        cfg.batch_size = 2;
        cfg.epochs = 4;
        nn_train(whole, &cfg, data_x, data_y, 5, NULL);
        cfg.epochs = 2;
        nn_train(first, &cfg, data_x, data_y, 5, NULL);
        snprintf(path, sizeof path, "%s/resume.nn", dir);
        if (c % 2) {
            CHECK(nn_save(first, path) == NN_OK);
            second = nn_load(path, &err);
        } else {
            size_t len;
            unsigned char *buf = save_to_mem(first, &len);
            second = nn_load_mem(buf, len, &err);
            free(buf);
        }
        CHECK(second != NULL);
        if (!second) continue;
        nn_train(second, &cfg, data_x, data_y, 5, NULL);
        if (!same_params(whole, second)) printf("resume differs: %s\n", names[c]);
        CHECK(same_params(whole, second));
        /* and the first half alone did differ, so the test could fail */
        CHECK(!same_params(whole, first));
        nn_destroy(whole);
        nn_destroy(first);
        nn_destroy(second);
    }
}

int main(int argc, char **argv) {
    char dir[300];
    if (!th_scratch_dir(dir, sizeof dir, "model-test", argc > 1 ? argv[1] : "/tmp")) return 1;
    check_round_trip();
    check_format();
    check_rejections();
    check_huge_headers();
    check_fuzz_finds();
    check_every_byte();
    check_files(dir);
    check_resume(dir);
    th_scratch_done(dir);
    return th_report();
}
