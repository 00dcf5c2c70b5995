/* Cortex-M platform (QEMU mps2-an385 / mps2-an386) for the tinyrnn export
   harness: output and exit through ARM semihosting (BKPT 0xAB). */
#ifndef PLATFORM_H
#define PLATFORM_H
#include <stdint.h>

#define DATA_
#define RD32(p) (*(p))

#include "../plat.h"
#endif
