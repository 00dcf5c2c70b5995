/* Cortex-M platform (QEMU mps2-an385 / mps2-an386) for the tinyrnn export
   harness: output and exit through ARM semihosting (BKPT 0xAB). */
#include "platform.h"


#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_Stopped_ApplicationExit 0x20026
#define ADP_Stopped_RunTimeErrorUnknown 0x20023

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char plat_buf[2048];
static unsigned plat_len;

static void plat_flush(void)
{
    plat_buf[plat_len] = 0;
    if (plat_len) (void)semihost(SYS_WRITE0, plat_buf);
    plat_len = 0;
}

void plat_init(void) { plat_len = 0; }
void plat_write(const char *s)
{
    while (*s) {
        if (plat_len == sizeof plat_buf - 1) plat_flush();
        plat_buf[plat_len++] = *s++;
    }
}
void plat_exit(int rc)
{
    plat_flush();
    for (;;) (void)semihost(SYS_EXIT, (const void *)(uintptr_t)(rc == 0 ? ADP_Stopped_ApplicationExit : ADP_Stopped_RunTimeErrorUnknown));
}
void plat_timer_start(void) {}
uint32_t plat_timer_stop(void) { return 0u; }
