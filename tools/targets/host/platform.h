/* Host platform for the tinyrnn export harness: stdout, exit. */
#ifndef PLATFORM_H
#define PLATFORM_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DATA_
#define RD32(p) (*(p))

#include "../plat.h"
#endif
