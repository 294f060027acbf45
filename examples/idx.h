#ifndef EXAMPLES_IDX_H
#define EXAMPLES_IDX_H
#include <stdio.h>
#include <stdlib.h>

/* idx.h: reads the IDX files of Fashion-MNIST (and MNIST) for the
   examples.  Big-endian: a magic number 0x0000TTDD (TT = 0x08 for unsigned bytes, DD
   the number of dimensions), DD sizes of 4 bytes, then the bytes. */

static unsigned long read_u32(FILE *f, int *ok) {
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) *ok = 0;
    return (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 | b[3];
}

/* Reads an IDX file of dims dimensions whose sizes after the first are
   `inner` bytes in all.  Returns its bytes (malloc'd; *count items), or
   NULL after saying what is wrong. */
static unsigned char *read_idx(const char *dir, const char *name, int dims,
                               unsigned long inner, unsigned long *count) {
    char path[1024];
    unsigned long magic, prod = 1;
    unsigned char *data = NULL;
    int ok = 1;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr,
                "cannot open %s\n"
                "Get the data: sudo apt-get install dataset-fashion-mnist && make "
                "fashion-mnist-data\n"
                "or give the directory of the four unpacked IDX files (MNIST works too)\n",
                path);
        return NULL;
    }
    magic = read_u32(f, &ok);
    *count = read_u32(f, &ok);
    for (int d = 1; d < dims; d++) prod *= read_u32(f, &ok);
    if (!ok || magic != (0x0800UL | (unsigned long)dims) || prod != inner || *count == 0 ||
        *count > 1000000) {
        fprintf(stderr, "%s is not the IDX file expected\n", path);
    } else if (!(data = (unsigned char *)malloc(*count * inner))) {
        fprintf(stderr, "out of memory\n");
    } else if (fread(data, 1, *count * inner, f) != *count * inner || fgetc(f) != EOF) {
        fprintf(stderr, "%s is truncated or too long\n", path);
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

#endif
