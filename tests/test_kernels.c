/* The dense-layer kernels against plain triple loops written from the
   formulas, and the fast kernels against nn.h's reference ones
   (nn__dense_*_ref), on shapes that are not multiples of any tile (batch 1 to 65,
   widths 1 to 784).  The forward and dx kernels must overwrite their
   output; dW and db must accumulate. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <stdlib.h>

static nn_real *rand_array(nn_rng *rng, size_t n) {
    nn_real *p = (nn_real *)malloc(n * sizeof *p);
    for (size_t k = 0; k < n; k++)
        p[k] = (nn_real)(2.0 * nn_rng_uniform(rng) - 1.0);
    return p;
}

/* tolerance for a sum of n products of numbers in [-1, 1] */
static double tol_for(size_t n) {
    return (TH_DOUBLE ? 1e-13 : 1e-5) * (double)n;
}

static void check_shape(size_t B, size_t n_in, size_t n_out) {
    nn_rng rng;
    nn_rng_seed(&rng, B * 1000 + n_in * 10 + n_out);
    nn_real *x = rand_array(&rng, B * n_in), *W = rand_array(&rng, n_out * n_in);
    nn_real *b = rand_array(&rng, n_out), *dz = rand_array(&rng, B * n_out);
    nn_real *z = rand_array(&rng, B * n_out);   /* garbage to overwrite */
    nn_real *dx = rand_array(&rng, B * n_in);   /* garbage to overwrite */
    nn_real *dW = rand_array(&rng, n_out * n_in); /* to accumulate onto */
    nn_real *db = rand_array(&rng, n_out);
    nn_real *dW0 = (nn_real *)malloc(n_out * n_in * sizeof *dW0);
    nn_real *db0 = (nn_real *)malloc(n_out * sizeof *db0);
    nn_real *z_n = (nn_real *)malloc(B * n_out * sizeof *z_n);
    nn_real *dx_n = (nn_real *)malloc(B * n_in * sizeof *dx_n);
    nn_real *dW_n = (nn_real *)malloc(n_out * n_in * sizeof *dW_n);
    nn_real *db_n = (nn_real *)malloc(n_out * sizeof *db_n);
    int ok_z = 1, ok_dx = 1, ok_dW = 1, ok_db = 1, same = 1;
    memcpy(dW0, dW, n_out * n_in * sizeof *dW);
    memcpy(db0, db, n_out * sizeof *db);
    memcpy(dW_n, dW, n_out * n_in * sizeof *dW);
    memcpy(db_n, db, n_out * sizeof *db);
    nn__dense_forward_ref(z_n, x, W, b, B, n_in, n_out);
    nn__dense_backward_params_ref(dW_n, db_n, dz, x, B, n_in, n_out);
    nn__dense_backward_input_ref(dx_n, dz, W, B, n_in, n_out);

    nn__dense_forward(z, x, W, b, B, n_in, n_out);
    nn__dense_backward_params(dW, db, dz, x, B, n_in, n_out);
    nn__dense_backward_input(dx, dz, W, B, n_in, n_out);

    for (size_t s = 0; s < B; s++)
        for (size_t o = 0; o < n_out; o++) {
            double ref = (double)b[o];
            for (size_t i = 0; i < n_in; i++)
                ref += (double)x[s * n_in + i] * (double)W[o * n_in + i];
            if (fabs((double)z[s * n_out + o] - ref) > tol_for(n_in)) ok_z = 0;
        }
    for (size_t o = 0; o < n_out; o++) {
        double refb = (double)db0[o];
        for (size_t s = 0; s < B; s++) refb += (double)dz[s * n_out + o];
        if (fabs((double)db[o] - refb) > tol_for(B)) ok_db = 0;
        for (size_t i = 0; i < n_in; i++) {
            double ref = (double)dW0[o * n_in + i];
            for (size_t s = 0; s < B; s++)
                ref += (double)dz[s * n_out + o] * (double)x[s * n_in + i];
            if (fabs((double)dW[o * n_in + i] - ref) > tol_for(B)) ok_dW = 0;
        }
    }
    for (size_t s = 0; s < B; s++)
        for (size_t i = 0; i < n_in; i++) {
            double ref = 0;
            for (size_t o = 0; o < n_out; o++)
                ref += (double)dz[s * n_out + o] * (double)W[o * n_in + i];
            if (fabs((double)dx[s * n_in + i] - ref) > tol_for(n_out)) ok_dx = 0;
        }
    /* fast against reference: the same sums, so within a few roundings */
    for (size_t k = 0; k < B * n_out; k++)
        if (fabs((double)z[k] - (double)z_n[k]) > tol_for(n_in)) same = 0;
    for (size_t k = 0; k < B * n_in; k++)
        if (fabs((double)dx[k] - (double)dx_n[k]) > tol_for(n_out)) same = 0;
    for (size_t k = 0; k < n_out * n_in; k++)
        if (fabs((double)dW[k] - (double)dW_n[k]) > tol_for(B)) same = 0;
    for (size_t k = 0; k < n_out; k++)
        if (fabs((double)db[k] - (double)db_n[k]) > tol_for(B)) same = 0;
#ifndef NN_REFERENCE
    /* rows shorter than the lanes: the reference loops' sums, four
       outputs at a time (nn__dense_forward_short), bit for bit */
    if (n_in < NN__LANES && memcmp(z, z_n, B * n_out * sizeof *z) != 0) same = 0;
    /* a small batch's rows, several at a time (nn.h, "Small batches"):
       each z bit for bit b + its row's nn__dot_lanes + the rest in order */
    if (B < NN__SMALL && n_in >= NN__LANES)
        for (size_t s = 0; s < B; s++)
            for (size_t o = 0; o < n_out; o++) {
                const size_t n_full = n_in / NN__LANES * NN__LANES;
                const nn_real *xs = x + s * n_in, *Wo = W + o * n_in;
                nn_real sum = b[o] + nn__dot_lanes(xs, Wo, n_full);
                for (size_t i = n_full; i < n_in; i++) sum += xs[i] * Wo[i];
                if (memcmp(&sum, &z[s * n_out + o], sizeof sum) != 0) same = 0;
            }
#endif
    if (!(ok_z && ok_dx && ok_dW && ok_db && same))
        printf("shape B=%zu n_in=%zu n_out=%zu: z %d dx %d dW %d db %d, "
               "fast = reference %d\n", B, n_in, n_out, ok_z, ok_dx, ok_dW, ok_db,
               same);
    CHECK(ok_z);
    CHECK(ok_dx);
    CHECK(ok_dW);
    CHECK(ok_db);
    CHECK(same);
    free(z_n); free(dx_n); free(dW_n); free(db_n);
    free(x); free(W); free(b); free(dz); free(z); free(dx);
    free(dW); free(db); free(dW0); free(db0);
}

#ifdef NN__DISPATCH
/* The three products of a layer at the ISA nn__gemm may take at most
   (2 AVX-512, 1 AVX2, 0 the build's own; a CPU without one gets the next
   below) */
static void products_at(int isa, nn_real *z, nn_real *dW, nn_real *db, nn_real *dx,
                        const nn_real *x, const nn_real *W, const nn_real *b,
                        const nn_real *dz, size_t B, size_t n_in, size_t n_out) {
    nn__isa_max = isa;
    memset(dW, 0, n_out * n_in * sizeof *dW);
    memset(db, 0, n_out * sizeof *db);
    nn__dense_forward(z, x, W, b, B, n_in, n_out);
    nn__dense_backward_params(dW, db, dz, x, B, n_in, n_out);
    nn__dense_backward_input(dx, dz, W, B, n_in, n_out);
    nn__isa_max = 2;
}

/* AVX2 and AVX-512 take the same sums in the same order, both fused or
   both not: the same bits.  With NN_NO_FMA and a compiler that fuses
   nothing either (TEST_EXACT: -ffp-contract=off), so does the build's own
   ISA, and so do the reference loops wherever the batch goes to the
   tiles (B >= NN__SMALL; dW and dx at every batch). */
static void check_isas_agree(size_t B, size_t n_in, size_t n_out) {
    nn_rng rng;
    const size_t nz = B * n_out, nW = n_out * n_in, nx = B * n_in;
    nn_real *x, *W, *b, *dz, *out[4];
    int same = 1;
    nn_rng_seed(&rng, 77 + B + n_in + n_out);
    x = rand_array(&rng, nx);
    W = rand_array(&rng, nW);
    b = rand_array(&rng, n_out);
    dz = rand_array(&rng, nz);
    for (int v = 0; v < 4; v++)
        out[v] = (nn_real *)malloc((nz + nW + n_out + nx) * sizeof(nn_real));
    for (int isa = 0; isa < 3; isa++) {
        nn_real *o = out[isa];
        products_at(isa, o, o + nz, o + nz + nW, o + nz + nW + n_out, x, W, b, dz,
                    B, n_in, n_out);
    }
    same = memcmp(out[1], out[2], (nz + nW + n_out + nx) * sizeof(nn_real)) == 0;
    /* a small batch's forward pass fuses nothing on any ISA (nn.h,
       NN__ISA_EXACT): the exported headers' sums, bit for bit */
    if (B < NN__SMALL)
        same &= memcmp(out[0], out[2], nz * sizeof(nn_real)) == 0;
#if defined(NN_NO_FMA) && defined(TEST_EXACT)
    {
        nn_real *r = out[3];
        memset(r + nz, 0, (nW + n_out) * sizeof *r);
        nn__dense_forward_ref(r, x, W, b, B, n_in, n_out);
        nn__dense_backward_params_ref(r + nz, r + nz + nW, dz, x, B, n_in, n_out);
        nn__dense_backward_input_ref(r + nz + nW + n_out, dz, W, B, n_in, n_out);
        for (int isa = 0; isa < 3; isa++) {
            const size_t from = B >= NN__SMALL || n_in < NN__LANES ? 0 : nz;
            same &= memcmp(out[isa] + from, r + from,
                           (nz + nW + n_out + nx - from) * sizeof(nn_real)) == 0;
        }
    }
#endif
    if (!same) printf("shape B=%zu n_in=%zu n_out=%zu: the ISAs differ\n", B, n_in, n_out);
    CHECK(same);
    for (int v = 0; v < 4; v++) free(out[v]);
    free(x); free(W); free(b); free(dz);
}
#endif

#ifndef NN_REFERENCE
/* Adam's step over all parameters (nn__adam_apply: a vector at a time
   where the ISA has a vector square root) is nn__adam_one's on each
   parameter, bit for bit, with no decay, L2 and decoupled, at every ISA;
   v starts with zeros and numbers small enough to lose precision (below
   FLT_MIN in float).  The step check's scan (nn__abs_max) agrees too. */
static void check_adam(void) {
    enum { P = 1021 };
    static nn_real w[P], g[P], m[P], v[P], w1[P], m1[P], v1[P];
    for (int kind = 0; kind < 3; kind++) {
        nn_opt opt = kind == 2 ? nn_opt_adamw(0.01, 0.1) : nn_opt_adam(0.01);
        nn__opt_k c;
        int same = 1;
        nn_rng rng;
        if (kind == 1) opt.weight_decay = 0.1;
        c = nn__opt_consts(&opt, 3);
        nn_rng_seed(&rng, 5 + (uint64_t)kind);
        for (size_t i = 0; i < P; i++) {
            w[i] = (nn_real)(nn_rng_uniform(&rng) - 0.5);
            g[i] = (nn_real)(nn_rng_uniform(&rng) - 0.5) * (nn_real)(i % 7 == 0 ? 1e-20 : 1);
            m[i] = (nn_real)(nn_rng_uniform(&rng) - 0.5) * (nn_real)0.1;
            v[i] = i % 5 == 0 ? 0 : (nn_real)(nn_rng_uniform(&rng) * (i % 3 ? 1e-3 : 1e-39));
        }
#ifdef NN__DISPATCH
        for (nn__isa_max = 2; nn__isa_max >= 0; nn__isa_max--)
#endif
        {
            nn_real least = 1, least_ref = 1;
            memcpy(w1, w, sizeof w);
            memcpy(m1, m, sizeof m);
            memcpy(v1, v, sizeof v);
            nn__adam_apply(&c, w1, g, m1, v1, P);
            for (size_t i = 0; i < P; i++) {
                nn_real wr, mr, vr;
                nn__adam_one(&c, w[i], g[i], m[i], v[i], &wr, &mr, &vr);
                same &= memcmp(&wr, &w1[i], sizeof wr) == 0 &&
                        memcmp(&mr, &m1[i], sizeof mr) == 0 &&
                        memcmp(&vr, &v1[i], sizeof vr) == 0;
            }
            same &= nn__abs_max(w1, P, &least) == nn__abs_max_body(w1, P, &least_ref) &&
                    least == least_ref;
        }
#ifdef NN__DISPATCH
        nn__isa_max = 2;
#endif
        if (!same) printf("Adam (decay %d): the vector step differs from nn__adam_one\n", kind);
        CHECK(same);
    }
}
#endif

int main(void) {
    /* batches below, at and above the small-batch cut (8) and the tile
       heights (4 or 8), and multiples of them; widths below, at and across
       the tile widths (8, 16 or 32 floats), the panel depth (128 doubles)
       and the lane count (16) */
    const size_t batches[] = {1, 2, 3, 7, 8, 9, 17, 33, 64, 65};
    const size_t shapes[][2] = {{1, 1},   {7, 13},  {13, 7},  {33, 5},
                                {5, 33},  {1, 17},  {17, 1},  {64, 3},
                                {16, 32}, {129, 31}, {784, 10}, {3, 130},
                                {130, 65}, {31, 784}};
#ifdef NN__DISPATCH
    /* each ISA nn__gemm may choose, down to the build's own */
    for (nn__isa_max = 2; nn__isa_max >= 0; nn__isa_max--)
#endif
        for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++)
            for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
                check_shape(batches[bi], shapes[si][0], shapes[si][1]);
#ifdef NN__DISPATCH
    nn__isa_max = 2;
    for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++)
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
            check_isas_agree(batches[bi], shapes[si][0], shapes[si][1]);
#endif
#ifndef NN_REFERENCE
    check_adam();
#endif
    return th_report();
}
