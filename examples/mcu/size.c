/* size.c: what an exported int8 net adds to a program, code, tables and
   the helpers it pulls from libgcc (64-bit products on AVR): make mcu
   builds this with and without -DWITH_MODEL and subtracts the sizes.
   -DNET=iris -DUNET=IRIS -DN_IN=4 name the net; its float part is left
   out (-DIRIS_Q_NO_FLOAT). */
#include <stdint.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)

#ifdef WITH_MODEL
#include STR(CAT(NET, _q.h))
#endif

volatile int8_t size_in[N_IN];
volatile int size_out;

int main(void) {
    int8_t x[N_IN];
    for (int i = 0; i < N_IN; i++) x[i] = size_in[i];
#ifdef WITH_MODEL
    size_out = CAT(NET, _q_classify_q)(x);
#else
    size_out = x[0];
#endif
    for (;;) {}
}
