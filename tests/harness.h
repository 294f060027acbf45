/* A tiny test harness: CHECK and CHECK_NEAR print file:line and the values
   when they fail, and th_report() prints the line "N passed, N failed" that
   the test runner counts.  One test program per area includes this once. */
#ifndef NN_TEST_HARNESS_H
#define NN_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int th_passed, th_failed;

static inline void th_check(int ok, const char *file, int line, const char *what) {
    if (ok) {
        th_passed++;
        return;
    }
    th_failed++;
    printf("%s:%d: FAILED: %s\n", file, line, what);
}

/* |a - b| <= tol; a NaN anywhere fails */
static inline void th_check_near(double a, double b, double tol, const char *file,
                          int line, const char *ea, const char *eb) {
    if (fabs(a - b) <= tol) {
        th_passed++;
        return;
    }
    th_failed++;
    printf("%s:%d: FAILED: %s = %.17g, %s = %.17g, differ by %.3g > %.3g\n",
           file, line, ea, a, eb, b, fabs(a - b), tol);
}

#define CHECK(cond) th_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond)
#define CHECK_NEAR(a, b, tol)                                                \
    th_check_near((double)(a), (double)(b), (double)(tol), __FILE__,         \
                  __LINE__, #a, #b)

/* Prints the summary line; the exit status for main. */
static inline int th_report(void) {
    printf("%d passed, %d failed\n", th_passed, th_failed);
    return th_failed == 0 ? 0 : 1;
}

/* 1 when the test runs under an emulator: make's NN_RUN (qemu-s390x, say),
   which make exports and qemu passes on, is set.  Sweeps whose size only
   serves to cover more values then take fewer of them: what an emulated
   line proves is the target's arithmetic, which the values it still
   takes exercise the same way. */
static inline int th_emulated(void) {
    const char *run = getenv("NN_RUN");
    return run && *run;
}

/* the distance of a from b in units in the last place of b as a float */
static inline double th_ulps(double a, double b) {
    int e;
    if (b == 0) return a == 0 ? 0 : 1e9;
    (void)frexp(b, &e);
    return fabs(a - b) / ldexp(1.0, (e < -125 ? -125 : e) - 24);
}

/* 1 in a double build, 0 in a float build */
#define TH_DOUBLE (sizeof(nn_real) == sizeof(double))

/* an activation's name, for messages */
static inline const char *th_act_name(nn_act act) {
    static const char *names[] = {"linear", "sigmoid", "tanh", "relu",
                                  "leaky_relu", "softmax"};
    return names[act];
}

/* A scratch directory for the file tests, one per test program, build
   and process (runs of the suite may overlap): base/nn-NAME-LANG-SIZE-PID,
   made afresh with POSIX shell commands.  th_scratch_dir fills dir and
   returns 0 when it cannot make it; th_scratch_done removes it. */
#include <stdlib.h> /* system */
#include <unistd.h> /* getpid */
static inline int th_scratch_dir(char *dir, size_t cap, const char *name, const char *base) {
    char cmd[1100];
#ifdef __cplusplus
    const char *lang = "cxx";
#else
    const char *lang = "c";
#endif
    snprintf(dir, cap, "%s/nn-%s-%s-%zu-%ld", base, name, lang, sizeof(nn_real), (long)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    return system(cmd) == 0;
}
static inline void th_scratch_done(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
}

#endif
