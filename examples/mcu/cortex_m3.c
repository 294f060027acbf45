/* cortex_m3.c: the least a Cortex-M3 needs to run board.c: the vector
   table (the initial stack pointer, then the handlers) and a reset
   handler that copies .data from flash, clears .bss and calls main.  The
   symbols come from lm3s6965.ld.  A fault ends the run through
   semihosting with a failure. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void reset_handler(void);
void fault_handler(void);

void reset_handler(void) {
    const uint32_t *from = &_sidata;
    for (uint32_t *to = &_sdata; to < &_edata;) *to++ = *from++;
    for (uint32_t *to = &_sbss; to < &_ebss;) *to++ = 0;
    main();
    for (;;) {}
}

void fault_handler(void) {
    register int r0 __asm__("r0") = 0x18; /* SYS_EXIT, a run-time error */
    register uint32_t r1 __asm__("r1") = 0x20023;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {}
}

/* stack top, reset, NMI, hard fault, memory, bus and usage faults */
__attribute__((section(".vectors"), used)) static const uintptr_t vectors[7] = {
    (uintptr_t)&_estack,         (uintptr_t)reset_handler, (uintptr_t)fault_handler,
    (uintptr_t)fault_handler,    (uintptr_t)fault_handler, (uintptr_t)fault_handler,
    (uintptr_t)fault_handler};
