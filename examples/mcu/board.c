/* board.c: the exported int8 net (and the float one, with BOARD_FLOAT)
   on a microcontroller: classifies the test rows host.c wrote into
   NAME_board.h and checks that every class is the one this computer got.
   Built by `make mcu` with -DNET=iris -DUNET=IRIS, for
   - a Cortex-M3 (the TI LM3S6965 board qemu-system-arm emulates), with
     cortex_m3.c and lm3s6965.ld; it prints through semihosting;
   - an ATmega328P (an Arduino Uno) run by simavr; it prints on the UART.
     make mcu builds it with -DNAME_Q_NO_FLOAT: no float at all.
   Prints "NAME int8: N of N as on the host, stack S bytes" (and the same
   for float), where S is how deep the classify calls took the stack below
   main's frame, measured by painting it first. */
#include <stdint.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)

#ifdef __AVR__
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>
#define BOARD_ROM PROGMEM
#define BOARD_U8(p) pgm_read_byte(p)
#else
#define BOARD_ROM
#define BOARD_U8(p) (*(p))
#endif

#include STR(CAT(NET, _q.h))
#ifdef BOARD_FLOAT
#include STR(CAT(NET, _f.h))
#endif
#include STR(CAT(NET, _board.h))
#define N_IN CAT(UNET, _Q_N_IN)

/* ---- the board: text out, the end, the stack's lowest free byte ---- */
#ifdef __AVR__
extern char __bss_end; /* avr-libc's linker script */
static char *stack_floor(void) { return &__bss_end; }
static void put(const char *s) {
    UCSR0B = 1 << TXEN0;
    for (; *s; s++) {
        while (!(UCSR0A & (1 << UDRE0))) {}
        UDR0 = (uint8_t)*s;
    }
}
static void finish(int ok) {
    (void)ok; /* the output says it; simavr stops at a sleep with interrupts off */
    cli();
    sleep_cpu();
}
#else
extern char _ebss; /* lm3s6965.ld */
static char *stack_floor(void) { return &_ebss; }
/* ARM semihosting: r0 the operation, r1 its argument, then bkpt 0xab */
static void semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}
static void put(const char *s) { semihost(0x04, s); } /* SYS_WRITE0 */
static void finish(int ok) {
    /* SYS_EXIT: ADP_Stopped_ApplicationExit ends qemu with status 0, a
       run-time error with 1 */
    semihost(0x18, (const void *)(uintptr_t)(ok ? 0x20026 : 0x20023));
}
#endif

static void put_u(unsigned long v) {
    char d[12];
    int n = 11;
    d[n] = 0;
    do d[--n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    put(d + n);
}

#define PAINT 0xA5
static uintptr_t stack_top; /* where the frames of main's calls begin */
/* Fills the free stack below this call's frame with PAINT. */
__attribute__((noinline)) static void paint(void) {
    volatile char here = 0;
    const uintptr_t end = (uintptr_t)&here - 32; /* this frame stays */
    stack_top = (uintptr_t)&here + 1;
    for (volatile char *p = stack_floor(); (uintptr_t)p < end; p++) *p = (char)PAINT;
}
/* how far below top the stack has been since paint() */
__attribute__((noinline)) static unsigned long stack_used(uintptr_t top) {
    const volatile char *p = stack_floor();
    while ((uintptr_t)p < top && *p == (char)PAINT) p++;
    return (unsigned long)(top - (uintptr_t)p);
}

static void report(const char *kind, unsigned long same, unsigned long stack) {
    put(STR(NET));
    put(kind);
    put_u(same);
    put(" of ");
    put_u(BOARD_N);
    put(" as on the host, stack ");
    put_u(stack);
    put(" bytes\n");
}

/* the calls measured: not inlined, so that their frames are below main's */
__attribute__((noinline)) static int classify_q(const int8_t *x) {
    return CAT(NET, _q_classify_q)(x);
}
#ifdef BOARD_FLOAT
__attribute__((noinline)) static int classify_f(const float *x) {
    return CAT(NET, _f_classify)(x);
}
#endif

int main(void) {
    unsigned long same = 0;
    int8_t x[N_IN];
    int ok;
    paint();
    for (unsigned long s = 0; s < BOARD_N; s++) {
        for (unsigned i = 0; i < N_IN; i++) x[i] = (int8_t)BOARD_U8(&board_xq[s * N_IN + i]);
        same += classify_q(x) == BOARD_U8(&board_class_q[s]);
    }
    report(" int8: ", same, stack_used(stack_top));
    ok = same == BOARD_N;
#ifdef BOARD_FLOAT
    paint();
    same = 0;
    for (unsigned long s = 0; s < BOARD_N; s++)
        same += classify_f(board_x + s * N_IN) == board_class_f[s];
    report(" float: ", same, stack_used(stack_top));
    ok = ok && same == BOARD_N;
#endif
    put(ok ? "board: pass\n" : "board: FAIL\n");
    finish(ok);
    return 0;
}
