/* Minimal Cortex-M startup for QEMU mps2-an385 (M3) / mps2-an386 (M4F):
   vector table, .data copy, .bss zero, FPU enable (CPACR) when built for
   hard float, then main(); faults exit QEMU through semihosting. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);
void Fault_Handler(void);

static void semihost_exit(uint32_t reason)
{
    register uint32_t r0 __asm__("r0") = 0x18;
    register uint32_t r1 __asm__("r1") = reason;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

static void semihost_puts(const char *s)
{
    register uint32_t r0 __asm__("r0") = 0x04;
    register const char *r1 __asm__("r1") = s;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&_estack, Reset_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0,
    Fault_Handler, Fault_Handler,
};

void Fault_Handler(void)
{
    semihost_puts("\nFAULT\n");
    for (;;) semihost_exit(0x20023);
}

void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst;
    for (dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11 (the FPU) */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    (void)main();
    for (;;) semihost_exit(0x20026);
}

/* newlib's libm may set errno through these; nothing else of libc is used */
int *__errno(void);
int *__errno(void)
{
    static int e;
    return &e;
}
