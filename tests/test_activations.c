/* Each activation's forward on known values and extremes, and its backward
   against central differences of its forward at many points (away from the
   kink of ReLU); nn.h's float tanh against tanh in double, and its vector
   form against it bit for bit. */
#define NN_IMPLEMENTATION
#include "../nn.h"
#include "harness.h"

#include <string.h>

static nn_real f1(nn_act act, nn_real z) {
    nn_real a;
    nn__act_forward(&a, &z, 1, 1, act);
    return a;
}

/* f'(z) from the backward pass with da = 1, against (f(z+h) - f(z-h))/2h
   computed in double from the float or double forward. */
static void check_elementwise(nn_act act) {
    const double h = TH_DOUBLE ? 1e-6 : 1e-2;
    const double tol = TH_DOUBLE ? 1e-8 : 2e-3;
    double worst = 0, worst_z = 0;
    int points = 0;
    for (int k = -400; k <= 400; k++) {
        const nn_real z = (nn_real)(k * 0.0173); /* never exactly 0 */
        nn_real a, dz = 1; /* da = 1, turned into dz = f'(z) */
        double zp, zm, num, err;
        if (fabs((double)z) < 4 * h) continue; /* the kink of ReLU */
        a = f1(act, z);
        nn__act_backward(&dz, &z, &a, 1, 1, act);
        zp = (double)(z + (nn_real)h);
        zm = (double)(z - (nn_real)h);
        num = ((double)f1(act, (nn_real)zp) - (double)f1(act, (nn_real)zm)) /
              (zp - zm);
        err = fabs((double)dz - num);
        if (err > worst) {
            worst = err;
            worst_z = (double)z;
        }
        points++;
    }
    if (worst > tol)
        printf("%s: derivative off by %g at z = %g\n", th_act_name(act), worst,
               worst_z);
    CHECK(points > 700);
    CHECK(worst <= tol);
}

/* The softmax backward is a Jacobian-vector product: for a row z and an
   upstream da, dz_k = d(sum_o da_o a_o(z)) / dz_k.  Checked in rows of a
   batch of 3, so rows must not leak into each other. */
static void check_softmax_backward(void) {
    enum { B = 3, N = 5 };
    const double h = TH_DOUBLE ? 1e-6 : 1e-2;
    const double tol = TH_DOUBLE ? 1e-8 : 2e-3;
    nn_rng rng;
    nn_real z[B * N], a[B * N], da[B * N], dz[B * N], ap[B * N], am[B * N];
    double worst = 0;
    nn_rng_seed(&rng, 7);
    for (int trial = 0; trial < 50; trial++) {
        for (int k = 0; k < B * N; k++) {
            z[k] = (nn_real)(6 * nn_rng_uniform(&rng) - 3);
            da[k] = (nn_real)(2 * nn_rng_uniform(&rng) - 1);
        }
        nn__act_forward(a, z, B, N, NN_ACT_SOFTMAX);
        memcpy(dz, da, sizeof dz);
        nn__act_backward(dz, z, a, B, N, NN_ACT_SOFTMAX);
        for (int k = 0; k < B * N; k++) {
            const nn_real z0 = z[k];
            double fp = 0, fm = 0, num, step;
            z[k] = z0 + (nn_real)h;
            nn__act_forward(ap, z, B, N, NN_ACT_SOFTMAX);
            step = (double)z[k];
            z[k] = z0 - (nn_real)h;
            nn__act_forward(am, z, B, N, NN_ACT_SOFTMAX);
            step -= (double)z[k];
            z[k] = z0;
            for (int j = 0; j < B * N; j++) {
                fp += (double)da[j] * (double)ap[j];
                fm += (double)da[j] * (double)am[j];
            }
            num = (fp - fm) / step;
            if (fabs((double)dz[k] - num) > worst)
                worst = fabs((double)dz[k] - num);
        }
    }
    if (worst > tol) printf("softmax: Jacobian product off by %g\n", worst);
    CHECK(worst <= tol);
}

static void check_values(void) {
    /* sigmoid: exact points, symmetry, and no overflow at the extremes */
    CHECK(f1(NN_ACT_SIGMOID, 0) == NN_R(0.5));
    CHECK_NEAR(f1(NN_ACT_SIGMOID, 2), 1 / (1 + exp(-2.0)), 1e-7);
    CHECK_NEAR(f1(NN_ACT_SIGMOID, -2), 1 / (1 + exp(2.0)), 1e-7);
    CHECK(f1(NN_ACT_SIGMOID, 1000) == 1);
    CHECK(f1(NN_ACT_SIGMOID, -1000) == 0);
    CHECK(f1(NN_ACT_SIGMOID, -100) > 0); /* e^-100 ~ 4e-44 */
    CHECK(isfinite((double)f1(NN_ACT_SIGMOID, NN_R(-1e30))));
    CHECK(isfinite((double)f1(NN_ACT_SIGMOID, NN_R(1e30))));
    /* tanh, relu, leaky relu, linear */
    CHECK_NEAR(f1(NN_ACT_TANH, 0.5), tanh(0.5), 1e-7);
    CHECK(f1(NN_ACT_TANH, 1000) == 1 && f1(NN_ACT_TANH, -1000) == -1);
    CHECK(f1(NN_ACT_RELU, NN_R(-3)) == 0 && f1(NN_ACT_RELU, NN_R(2.5)) == NN_R(2.5));
    CHECK(f1(NN_ACT_LEAKY_RELU, NN_R(2.5)) == NN_R(2.5));
    CHECK_NEAR(f1(NN_ACT_LEAKY_RELU, -3), -0.03, 1e-7);
    CHECK(f1(NN_ACT_LINEAR, NN_R(-7.25)) == NN_R(-7.25));
    {
        /* softmax: rows sum to 1, known values, huge logits stay finite */
        nn_real z[6] = {0, (nn_real)log(3.0), 0, 1000, -1000, 999};
        nn_real a[6];
        nn__act_forward(a, z, 2, 3, NN_ACT_SOFTMAX);
        CHECK_NEAR(a[0], 0.2, 1e-7);
        CHECK_NEAR(a[1], 0.6, 1e-7);
        CHECK_NEAR(a[2], 0.2, 1e-7);
        CHECK_NEAR(a[3], 1 / (1 + exp(-1.0)), 1e-7);
        CHECK(a[4] == 0);
        CHECK_NEAR(a[5], 1 / (1 + exp(1.0)), 1e-7);
        CHECK_NEAR(a[3] + a[4] + a[5], 1, 1e-7);
    }
}

/* nn__tanhf within 2.6 ulp of tanh in double over every `every`-th float
   of [-9, 9] (beyond, tanh is 1 in float to within half an ulp); the
   activation's loop (nn__tanh_all, a vector at a time where the compiler
   has vectors, on each ISA it may choose) bit for bit nn__tanhf over every
   `every`-th of all 2^32 bit patterns, NaNs and infinities included. */
static void check_tanhf(uint32_t every) {
    enum { RUN = 1000 };
    static nn_real z[RUN], a[RUN];
    double worst = 0, worst_x = 0;
    int same = 1, nan_ok = 1;
    size_t n = 0;
    for (uint32_t b = 0; b <= 0x41100000u; b += every) /* 0 .. 9, and the negatives */
        for (int sign = 0; sign < 2; sign++) {
            const uint32_t bits = b | (sign ? 0x80000000u : 0u);
            float x, got;
            double err;
            memcpy(&x, &bits, sizeof x);
            got = nn__tanhf(x);
            err = th_ulps((double)got, tanh((double)x));
            if (err > worst) {
                worst = err;
                worst_x = (double)x;
            }
        }
    printf("nn__tanhf: %.2f ulp at %.9g (every %uth float of [-9, 9])\n", worst, worst_x,
           (unsigned)every);
    CHECK(worst <= 2.6);
    CHECK(nn__tanhf(9.5f) == 1 && nn__tanhf(-50.0f) == -1 && nn__tanhf(INFINITY) == 1 &&
          nn__tanhf(-INFINITY) == -1);
    CHECK(nn__tanhf(0.0f) == 0 && !signbit(nn__tanhf(0.0f)) && signbit(nn__tanhf(-0.0f)));
    for (uint64_t b = 0; b <= 0xffffffffu; b += every) {
        const uint32_t bits = (uint32_t)b;
        float x;
        memcpy(&x, &bits, sizeof x);
        z[n++] = (nn_real)x;
        if (n == RUN || b + every > 0xffffffffu) {
#ifdef NN__DISPATCH
            for (nn__isa_max = 2; nn__isa_max >= 0; nn__isa_max--)
#endif
            {
                nn__act_forward(a, z, 1, n, NN_ACT_TANH);
                for (size_t k = 0; k < n; k++) {
                    const float want = nn__tanhf((float)z[k]);
                    if (isnan(want)) nan_ok &= isnan((double)a[k]) && isnan((double)z[k]);
                    else same &= memcmp(&want, &a[k], sizeof want) == 0;
                }
            }
            n = 0;
        }
    }
#ifdef NN__DISPATCH
    nn__isa_max = 2;
#endif
    CHECK(same && nan_ok);
}

int main(void) {
    check_values();
    if (!TH_DOUBLE) check_tanhf(th_emulated() ? 1009 : 61);
    for (int act = 0; act < NN_ACT_COUNT; act++)
        if (act != NN_ACT_SOFTMAX) check_elementwise((nn_act)act);
    {
        /* a softmax over one unit is the constant 1: derivative 0 */
        nn_real z = 3, a, dz = 1; /* da = 1 */
        nn__act_forward(&a, &z, 1, 1, NN_ACT_SOFTMAX);
        nn__act_backward(&dz, &z, &a, 1, 1, NN_ACT_SOFTMAX);
        CHECK(a == 1 && dz == 0);
    }
    check_softmax_backward();
    return th_report();
}
