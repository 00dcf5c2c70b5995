/* ATmega328P platform (simavr) for the tinyrnn export harness: UART0 at
   2 Mbaud (U2X, UBRR 0 at 16 MHz), Timer1 cycle counter, exit by sleeping
   with interrupts off (simavr then quits). Data tables live in flash. */
#include "platform.h"


static volatile uint16_t plat_ovf;
ISR(TIMER1_OVF_vect) { ++plat_ovf; }

void plat_init(void)
{
    UCSR0A = (uint8_t)(1u << U2X0);
    UBRR0H = 0;
    UBRR0L = 0;
    UCSR0B = (uint8_t)(1u << TXEN0);
    UCSR0C = (uint8_t)((1u << UCSZ01) | (1u << UCSZ00));
    TCCR1A = 0;
    TCCR1B = 0;
    TIMSK1 = (uint8_t)(1u << TOIE1);
    sei();
}
static void plat_putc(char c)
{
    while (!(UCSR0A & (1u << UDRE0))) {
    }
    UDR0 = (uint8_t)c;
}
void plat_write(const char *s)
{
    while (*s) plat_putc(*s++);
}
void plat_exit(int rc)
{
    (void)rc;
    while (!(UCSR0A & (1u << TXC0))) {
    }
    cli();
    sleep_enable();
    for (;;) sleep_cpu();
}
/* Timer1 at the CPU clock (prescaler 1), overflows counted by the ISR. */
void plat_timer_start(void)
{
    TCCR1B = 0;
    TCNT1 = 0;
    TIFR1 = (uint8_t)(1u << TOV1);
    plat_ovf = 0;
    TCCR1B = (uint8_t)(1u << CS10);
}
uint32_t plat_timer_stop(void)
{
    uint16_t lo;
    uint32_t hi;
    uint8_t sreg = SREG;
    cli();
    lo = TCNT1; /* read while running: simavr (like the chip) latches it here */
    hi = plat_ovf;
    if ((TIFR1 & (1u << TOV1)) && lo < 0x8000u) ++hi; /* an overflow not yet serviced */
    TCCR1B = 0;
    TIFR1 = (uint8_t)(1u << TOV1);
    SREG = sreg;
    return (hi << 16) | lo;
}
