/* png.h - a PNG writer for the examples, by hand, with no library:
   png_write(path, pix, w, h, bits, palette, n_colors) writes a w x h image
   of palette indices (pix, one byte each, 4 or 8 bits used) and returns 1
   on success, 0 when the file cannot be written or memory runs out.

   A PNG is a signature and chunks (length, type, data, CRC-32).  Every row
   starts with a filter byte (0: none); the rows go into a zlib stream of
   "stored" deflate blocks, raw bytes with a length, so that no compressor
   is needed (the file is as large as the pixels; gzip would shrink it).
   Included by spiral.c and fashion_mnist.c. */
#ifndef NN_EXAMPLES_PNG_H
#define NN_EXAMPLES_PNG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long png_crc(unsigned long crc, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = crc & 1 ? 0xedb88320UL ^ (crc >> 1) : crc >> 1;
    }
    return crc;
}

static void png_u32(unsigned char *p, unsigned long v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int png_chunk(FILE *f, const char *type, const unsigned char *data, size_t n) {
    unsigned char head[8];
    unsigned long crc;
    png_u32(head, (unsigned long)n);
    memcpy(head + 4, type, 4);
    crc = png_crc(0xffffffffUL, head + 4, 4);
    crc = png_crc(crc, data, n) ^ 0xffffffffUL;
    if (fwrite(head, 1, 8, f) != 8 || (n && fwrite(data, 1, n, f) != n)) return 0;
    png_u32(head, crc);
    return fwrite(head, 1, 4, f) == 4;
}

static int png_write(const char *path, const unsigned char *pix, size_t w, size_t h, int bits,
                     const unsigned char *palette, size_t n_colors) {
    const size_t row = 1 + (w * (size_t)bits + 7) / 8, raw_n = h * row;
    const size_t blocks = (raw_n + 65534) / 65535;
    unsigned char *raw = (unsigned char *)calloc(raw_n, 1);
    unsigned char *z = (unsigned char *)malloc(2 + raw_n + 5 * blocks + 4);
    unsigned char ihdr[13];
    unsigned long a = 1, b = 0; /* Adler-32 of the raw bytes */
    size_t n = 0;
    FILE *f = raw && z ? fopen(path, "wb") : NULL;
    int ok;
    if (!f) {
        free(raw);
        free(z);
        return 0;
    }
    for (size_t r = 0; r < h; r++) /* filter byte 0, then the pixels */
        for (size_t c = 0; c < w; c++) {
            unsigned char *p = raw + r * row + 1;
            if (bits == 8)
                p[c] = pix[r * w + c];
            else /* two pixels a byte, the first in the high half */
                p[c / 2] |= (unsigned char)(pix[r * w + c] << (c % 2 ? 0 : 4));
        }
    z[n++] = 0x78; /* zlib: deflate, 32K window */
    z[n++] = 0x01; /* no preset dictionary; (0x7801) % 31 == 0 */
    for (size_t done = 0; done < raw_n;) {
        const size_t len = raw_n - done < 65535 ? raw_n - done : 65535;
        z[n++] = done + len == raw_n; /* BFINAL on the last, BTYPE 00 */
        z[n++] = (unsigned char)len;
        z[n++] = (unsigned char)(len >> 8);
        z[n++] = (unsigned char)~len;
        z[n++] = (unsigned char)(~len >> 8);
        memcpy(z + n, raw + done, len);
        n += len;
        done += len;
    }
    for (size_t i = 0; i < raw_n; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    png_u32(z + n, b << 16 | a);
    n += 4;
    png_u32(ihdr, (unsigned long)w);
    png_u32(ihdr + 4, (unsigned long)h);
    ihdr[8] = (unsigned char)bits; /* bits per pixel */
    ihdr[9] = 3;                   /* colour type: palette */
    ihdr[10] = 0;                  /* deflate */
    ihdr[11] = 0;                  /* adaptive filtering */
    ihdr[12] = 0;                  /* not interlaced */
    ok = fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) &&
         png_chunk(f, "PLTE", palette, 3 * n_colors) && png_chunk(f, "IDAT", z, n) &&
         png_chunk(f, "IEND", NULL, 0);
    free(raw);
    free(z);
    return fclose(f) == 0 && ok;
}

#endif
