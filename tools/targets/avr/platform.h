/* ATmega328P platform (simavr) for the tinyrnn export harness: UART0 at
   2 Mbaud (U2X, UBRR 0 at 16 MHz), Timer1 cycle counter, exit by sleeping
   with interrupts off (simavr then quits). Data tables live in flash. */
#ifndef PLATFORM_H
#define PLATFORM_H
#include <stdint.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>

#define DATA_ PROGMEM
#define RD32(p) pgm_read_dword(p)

#include "../plat.h"
#endif
