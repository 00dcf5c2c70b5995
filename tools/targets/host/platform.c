/* Host platform for the tinyrnn export harness: stdout, exit. */
#include "platform.h"


void plat_init(void) {}
void plat_write(const char *s) { fputs(s, stdout); }
void plat_exit(int rc)
{
    fflush(stdout);
    exit(rc);
}
void plat_timer_start(void) {}
uint32_t plat_timer_stop(void) { return 0u; }
