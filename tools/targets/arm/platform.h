/* Cortex-M platform (QEMU mps2-an385 / mps2-an386) for the tinyrnn export
   harness: output and exit through ARM semihosting (BKPT 0xAB). */
#ifndef PLATFORM_H
#define PLATFORM_H
#include <stdint.h>

#define DATA_
#define RD32(p) (*(p))

void plat_init(void);
void plat_write(const char *s);
void plat_exit(int rc);
void plat_timer_start(void);
uint32_t plat_timer_stop(void); /* cycles since plat_timer_start (0 where there is no timer) */
#endif
