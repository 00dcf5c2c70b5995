/* Host platform for the tinyrnn export harness: stdout, exit. */
#ifndef PLATFORM_H
#define PLATFORM_H
#define PLAT_ static __attribute__((unused))
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DATA_
#define RD32(p) (*(p))

PLAT_ void plat_init(void) {}
PLAT_ void plat_write(const char *s) { fputs(s, stdout); }
PLAT_ void plat_exit(int rc)
{
    fflush(stdout);
    exit(rc);
}
PLAT_ void plat_timer_start(void) {}
PLAT_ uint32_t plat_timer_stop(void) { return 0u; }
#endif
