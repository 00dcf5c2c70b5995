/* generate.c -- text generation with an exported character model: a prime,
 * then characters drawn at a temperature with a seeded SplitMix64 stream.
 *
 *     tinyrnn export tinyrnn-out/model.json -o model.h
 *     cc -std=c99 -O2 -I. examples/generate.c -o generate -lm
 *     ./generate [-n LENGTH] [-t TEMPERATURE] [-s SEED] [PRIME]
 *
 * Prints PRIME followed by LENGTH (default 400) generated characters -- the
 * text `tinyrnn sample tinyrnn-out/model.json --prime PRIME -n LENGTH
 * -t TEMPERATURE --seed SEED` prints (same defaults: temperature 1, seed 0;
 * without PRIME the model starts from a newline, or from its first
 * character when it has no newline, which is not printed). Temperature 0 is
 * greedy. Bad arguments: a message on stderr and exit status 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#if !defined(model_HAS_VOCAB) || !defined(model_HEAD_SOFTMAX)
#error "generate.c needs a character model (softmax head with a vocabulary): export one trained on text"
#endif

static int usage(const char *why)
{
    fprintf(stderr, "generate: %s\nusage: generate [-n LENGTH] [-t TEMPERATURE] [-s SEED] [PRIME]\n", why);
    return 2;
}

/* Writes code point c as UTF-8. */
static void put_utf8(uint32_t c)
{
    if (c < 0x80u) {
        putchar((int)c);
    } else if (c < 0x800u) {
        putchar((int)(0xC0u | (c >> 6)));
        putchar((int)(0x80u | (c & 0x3Fu)));
    } else if (c < 0x10000u) {
        putchar((int)(0xE0u | (c >> 12)));
        putchar((int)(0x80u | ((c >> 6) & 0x3Fu)));
        putchar((int)(0x80u | (c & 0x3Fu)));
    } else {
        putchar((int)(0xF0u | (c >> 18)));
        putchar((int)(0x80u | ((c >> 12) & 0x3Fu)));
        putchar((int)(0x80u | ((c >> 6) & 0x3Fu)));
        putchar((int)(0x80u | (c & 0x3Fu)));
    }
}

/* Decodes the code point at *p (UTF-8) and advances *p; -1 for a malformed sequence. */
static int next_utf8(const unsigned char **p, uint32_t *cp)
{
    const unsigned char *s = *p;
    int n, i;
    if (s[0] < 0x80u) { *cp = s[0]; n = 1; }
    else if ((s[0] & 0xE0u) == 0xC0u) { *cp = s[0] & 0x1Fu; n = 2; }
    else if ((s[0] & 0xF0u) == 0xE0u) { *cp = s[0] & 0x0Fu; n = 3; }
    else if ((s[0] & 0xF8u) == 0xF0u) { *cp = s[0] & 0x07u; n = 4; }
    else return -1;
    for (i = 1; i < n; ++i) {
        if ((s[i] & 0xC0u) != 0x80u) return -1;
        *cp = (*cp << 6) | (s[i] & 0x3Fu);
    }
    *p = s + n;
    return 0;
}

int main(int argc, char **argv)
{
    long length = 400, i;
    double temperature = 1.0;
    uint64_t rng = 0;
    const char *prime = NULL;
    model_state_t s;
    float z[model_Y_S];
    uint32_t last = 0;
    int a, k;
    char *end;

    for (a = 1; a < argc; ++a) {
        if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
            errno = 0;
            length = strtol(argv[++a], &end, 10);
            if (errno || *end || end == argv[a] || length < 0) return usage("-n needs a whole number >= 0");
        } else if (strcmp(argv[a], "-t") == 0 && a + 1 < argc) {
            temperature = strtod(argv[++a], &end);
            if (*end || end == argv[a] || !(temperature >= 0.0 && temperature <= 1e30)) return usage("-t needs a finite number >= 0");
        } else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc) {
            errno = 0;
            rng = (uint64_t)strtoull(argv[++a], &end, 10); /* "-1" wraps to 2^64 - 1, as Python's seed & (2^64 - 1) */
            if (errno || *end || end == argv[a]) return usage("-s needs a whole number");
        } else if (argv[a][0] == '-' && argv[a][1] != 0) {
            return usage("unknown option");
        } else if (prime == NULL) {
            prime = argv[a];
        } else {
            return usage("more than one PRIME");
        }
    }

    model_reset(&s);
    if (prime == NULL || prime[0] == 0) { /* the default prime: a newline, else the first character */
        k = model_token_of(0x0Au);
        model_step_token(&s, k >= 0 ? k : 0, z);
    } else {
        const unsigned char *p = (const unsigned char *)prime;
        uint32_t cp;
        while (*p) {
            if (next_utf8(&p, &cp) != 0) return usage("PRIME is not valid UTF-8");
            k = model_token_of(cp);
            if (k < 0) {
                fprintf(stderr, "generate: the prime's character U+%04lX is not in the model's vocabulary\n", (unsigned long)cp);
                return 2;
            }
            model_step_token(&s, k, z);
            last = cp;
        }
        fputs(prime, stdout);
    }
    for (i = 0; i < length; ++i) {
        k = model_sample(z, (float)temperature, &rng);
        last = model_vocab_at(k);
        put_utf8(last);
        model_step_token(&s, k, z);
    }
    if (last != 0x0Au) putchar('\n');
    return fflush(stdout) == 0 ? 0 : 1;
}
