/* host.c: the exported headers of one data set on this computer, and the
   test data for the boards.  Built by `make mcu` with -DNET=iris -DUNET=IRIS (or
   digits, fashion) and -I the directory deploy wrote into:

     host NAME_test.bin BOARD_N board.h

   prints the test accuracy of the float and the int8 header (and how
   often the two agree), then writes board.h: the first BOARD_N test
   inputs quantized by NAME_q_quantize (int8, what the boards read), as
   float too, and the classes this computer's builds of both headers give
   them, which the boards must give as well. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#include STR(CAT(NET, _f.h))
#include STR(CAT(NET, _q.h))
#define N_IN CAT(UNET, _Q_N_IN) /* UNET: NET in capitals */

static uint32_t u32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int main(int argc, char **argv) {
    FILE *f = argc == 4 ? fopen(argv[1], "rb") : NULL, *out;
    unsigned char head[8], *bytes, *label;
    float *x;
    uint32_t n, n_in;
    size_t board, right_f = 0, right_q = 0, agree = 0;
    if (!f || fread(head, 1, 8, f) != 8) {
        fprintf(stderr, "usage: host NAME_test.bin BOARD_N board.h\n");
        return 2;
    }
    n = u32(head);
    n_in = u32(head + 4);
    board = (size_t)atol(argv[2]);
    if (n_in != N_IN || n == 0 || board > n) return 1;
    bytes = (unsigned char *)malloc((size_t)n * n_in * 4 + n);
    x = (float *)malloc((size_t)n * n_in * sizeof *x);
    if (!bytes || !x || fread(bytes, 1, (size_t)n * n_in * 4 + n, f) != (size_t)n * n_in * 4 + n)
        return 1;
    fclose(f);
    for (size_t k = 0; k < (size_t)n * n_in; k++) {
        const uint32_t u = u32(bytes + 4 * k);
        memcpy(&x[k], &u, 4);
    }
    label = bytes + (size_t)n * n_in * 4;
    for (size_t s = 0; s < n; s++) {
        const int cf = CAT(NET, _f_classify)(x + s * n_in);
        const int cq = CAT(NET, _q_classify)(x + s * n_in);
        right_f += cf == label[s];
        right_q += cq == label[s];
        agree += cf == cq;
    }
    printf("%s: float header %.4f, int8 header %.4f, the same class for %.4f (%u test rows)\n",
           STR(NET), (double)right_f / n, (double)right_q / n, (double)agree / n, n);

    out = fopen(argv[3], "w");
    if (!out) return 1;
    fprintf(out, "/* made by examples/mcu/host.c: %zu test rows of %s */\n#define BOARD_N %zu\n",
            board, STR(NET), board);
    fprintf(out, "static const int8_t board_xq[%zu] BOARD_ROM = {", board * n_in);
    for (size_t s = 0; s < board; s++) {
        int8_t q[N_IN];
        CAT(NET, _q_quantize)(x + s * n_in, q);
        for (size_t i = 0; i < n_in; i++)
            fprintf(out, "%s%d,", (s * n_in + i) % 16 ? " " : "\n  ", q[i]);
    }
    fprintf(out, "\n};\nstatic const uint8_t board_class_q[%zu] BOARD_ROM = {", board);
    for (size_t s = 0; s < board; s++)
        fprintf(out, "%s%d,", s % 16 ? " " : "\n  ", CAT(NET, _q_classify)(x + s * n_in));
    fprintf(out, "\n};\n#ifdef BOARD_FLOAT\nstatic const float board_x[%zu] = {", board * n_in);
    for (size_t k = 0; k < board * n_in; k++)
        fprintf(out, "%s%.9e,", k % 8 ? " " : "\n  ", (double)x[k]); /* float
                                                                        to double and back */
    fprintf(out, "\n};\nstatic const uint8_t board_class_f[%zu] = {", board);
    for (size_t s = 0; s < board; s++)
        fprintf(out, "%s%d,", s % 16 ? " " : "\n  ", CAT(NET, _f_classify)(x + s * n_in));
    fprintf(out, "\n};\n#endif\n");
    free(bytes);
    free(x);
    return fclose(out) == 0 ? 0 : 1;
}
