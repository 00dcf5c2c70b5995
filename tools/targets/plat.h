/* The interface every target of the tinyrnn export harness implements
   (tools/targets/<target>/platform.c); each platform.h adds DATA_ and RD32. */
#ifndef PLAT_H
#define PLAT_H
#include <stdint.h>

void plat_init(void);
void plat_write(const char *s);
void plat_exit(int rc);
void plat_timer_start(void);
uint32_t plat_timer_stop(void); /* cycles since plat_timer_start (0 where there is no timer) */
#endif
