/* classify.c -- streaming classification of a sensor series with an exported
 * sequence model: one time step per input line, a class after every step.
 *
 *     tinyrnn export tinyrnn-out/model.json -o model.h
 *     cc -std=c99 -O2 -I. examples/classify.c -o classify -lm
 *     ./classify < series.txt
 *
 * Input (stdin): one time step per line, model_X_S numbers separated by
 * spaces or commas (a token-input model: one token id per line). An empty
 * line ends a series: the state is reset for the next one. Output: after
 * every step "STEP CLASS" -- the class the model sees so far (softmax head:
 * the largest logit; sigmoid: one 0/1 per output, logit > 0; mse: the
 * outputs); after each series "series N: CLASS after T steps", the answer
 * of a many-to-one model. A malformed line: a message naming the line on
 * stderr and exit status 2. The state is one model_state_t: a device reading
 * a sensor keeps it between samples exactly like this loop does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#if defined(model_INPUT_TOKEN)
#define WIDTH 1
#else
#define WIDTH model_X_S
#endif
#define LINE_MAX_ 65536

static char line[LINE_MAX_];

/* Prints what the logits z say: a class, 0/1 flags or the outputs. */
static void print_class(const float *z)
{
#if defined(model_HEAD_SOFTMAX)
    printf("%d", model_argmax(z));
#elif defined(model_HEAD_SIGMOID)
    int k;
    for (k = 0; k < model_Y_S; ++k) printf(k ? " %d" : "%d", z[k] > 0.0f ? 1 : 0);
#else
    float y[model_Y_S];
    int k;
    model_output(z, y);
    for (k = 0; k < model_Y_S; ++k) printf(k ? " %.9g" : "%.9g", (double)y[k]);
#endif
}

/* Parses one line into x (WIDTH numbers); returns how many numbers it held, -1 on a bad one. */
static int parse(char *p, float *x)
{
    int n = 0;
    char *end;
    for (;;) {
        float v;
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\r' || *p == '\n') ++p;
        if (*p == 0) return n;
        v = strtof(p, &end);
        if (end == p || !isfinite(v)) return -1;
        if (n < WIDTH) x[n] = v;
        ++n;
        p = end;
    }
}

int main(void)
{
    model_state_t s;
    float x[WIDTH], z[model_Y_S];
    long lineno = 0, steps = 0, series = 0;
    int n;

    model_reset(&s);
    while (fgets(line, sizeof line, stdin) != NULL) {
        ++lineno;
        if (strchr(line, '\n') == NULL && !feof(stdin)) {
            fprintf(stderr, "classify: line %ld is longer than %d characters\n", lineno, LINE_MAX_ - 2);
            return 2;
        }
        n = parse(line, x);
        if (n < 0) {
            fprintf(stderr, "classify: line %ld: not a finite number\n", lineno);
            return 2;
        }
        if (n == 0) { /* end of a series */
            if (steps > 0) {
                printf("series %ld: ", series);
                print_class(z);
                printf(" after %ld steps\n", steps);
                ++series;
            }
            steps = 0;
            model_reset(&s);
            continue;
        }
        if (n != WIDTH) {
            fprintf(stderr, "classify: line %ld has %d numbers, the model takes %d per step\n", lineno, n, WIDTH);
            return 2;
        }
#if defined(model_INPUT_TOKEN)
        if (x[0] != floorf(x[0]) || model_step_token(&s, (int)x[0], z) != 0) {
            fprintf(stderr, "classify: line %ld: token %g is not in [0, %d)\n", lineno, (double)x[0], model_X_S);
            return 2;
        }
#else
        model_step(&s, x, z);
#endif
        printf("%ld ", steps);
        print_class(z);
        putchar('\n');
        ++steps;
    }
    if (steps > 0) {
        printf("series %ld: ", series);
        print_class(z);
        printf(" after %ld steps\n", steps);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
