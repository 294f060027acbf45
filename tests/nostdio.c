/* NN_NO_STDIO: nn.h brings in no <stdio.h> (so EOF stays undefined), the
   file functions are gone, and the memory model functions and the export
   to memory work.  It cannot
   print, so it reports by its exit status: 0 when all holds. */
#define NN_NO_STDIO
#define NN_IMPLEMENTATION
#include "../nn.h"

#ifdef EOF
#error "nn.h included <stdio.h> under NN_NO_STDIO"
#endif

/* a call to nn_save here would not compile: the name is not declared */
static unsigned char buf[1024];
static char text[16384];

int main(void) {
    const size_t sizes[] = {2, 3, 1};
    const nn_act acts[] = {NN_ACT_TANH, NN_ACT_SIGMOID};
    nn_net *net = nn_create(2, sizes, acts, 1, NULL), *back;
    nn_result err;
    int ok;
    if (!net || nn_save_size(net) > sizeof buf) return 1;
    if (nn_save_mem(net, buf, sizeof buf) != NN_OK) return 1;
    back = nn_load_mem(buf, nn_save_size(net), &err);
    ok = back && err == NN_OK &&
         memcmp(nn_params(net), nn_params(back), nn_param_count(net) * sizeof(nn_real)) == 0;
    { /* the header, as nn_export_c_mem writes it with no stdio */
        size_t len = 0;
        ok = ok && nn_export_c_mem(net, "xor", NULL, NULL, 0, &len) == NN_OK && len < sizeof text &&
             nn_export_c_mem(net, "xor", NULL, text, sizeof text, &len) == NN_OK &&
             strncmp(text, "/* xor.h: ", 10) == 0 && strstr(text, "xor_predict") != NULL &&
             text[len] == 0;
    }
    nn_destroy(net);
    nn_destroy(back);
    return ok ? 0 : 1;
}
