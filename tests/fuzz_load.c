/* libFuzzer target for nn_load_mem (make fuzz).  Whatever the bytes,
   nn_load_mem must return a net or NULL with an error, never crash, leak or
   read out of bounds; and a net it returns must be the model the bytes
   describe: saved again in the same precision it gives the very same
   bytes, and it runs. */
#define NN_IMPLEMENTATION
#include "../nn.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nn_result err = NN_OK;
    nn_net *net = nn_load_mem(data, size, &err);
    if (!net) {
        if (err == NN_OK) abort(); /* NULL must come with a reason */
        return 0;
    }
    if (err != NN_OK) abort();
    /* byte 12 is the real size: the same as this build's, the same bytes */
    if (data[12] == sizeof(nn_real)) {
        const size_t n = nn_save_size(net);
        unsigned char *back = (unsigned char *)malloc(n);
        if (!back || n != size || nn_save_mem(net, back, n) != NN_OK ||
            memcmp(back, data, size) != 0)
            abort();
        free(back);
    }
    {
        nn_real *x = (nn_real *)calloc(nn_size(net, 0), sizeof *x);
        if (!x || !nn_forward(net, x, 1)) abort();
        free(x);
    }
    nn_destroy(net);
    return 0;
}
