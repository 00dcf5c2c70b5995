"""Export a model as an Arduino library (also a PlatformIO library).

``write_library(ckpt, directory, name)`` creates ``directory`` with::

    library.properties             Arduino library metadata (every required field)
    library.json                   PlatformIO library manifest
    keywords.txt                   syntax colouring in the Arduino IDE
    src/NAME.h                     the C header of tinyrnn.export.c (PROGMEM on AVR)
    examples/NAME_demo/NAME_demo.ino

The demo sketch talks over Serial at 9600 baud:

- character model: generates ``NAME_DEMO_LENGTH`` characters after the
  model's default prime (a newline when the vocabulary has one), then takes
  every line it receives as a new prime and generates after it -- the text
  of ``tinyrnn sample CKPT --prime LINE -t NAME_DEMO_TEMPERATURE --seed
  NAME_DEMO_SEED -n NAME_DEMO_LENGTH`` (greedy by default);
- classifier and other sequence models: runs the built-in samples (the first
  sequences of the training file, when the exporter could read it) and prints
  ``sample K: class C``; then reads a series from Serial, one step per line
  (X numbers, or one token id), an empty line ends it, and prints the class.

Nothing is written unless everything is: the library is assembled in a
temporary sibling directory and renamed into place. ``directory`` must not
exist or be empty; missing parent directories are created.
"""

import json
import os
import shutil
import tempfile

from .. import __version__
from .c import ExportError, c_float, check_name, comment_text, header_from_checkpoint, vocab_code_points
from ..workflow.fileio import write_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Optional, Sequence

BAUD = 9600
DEMO_LENGTH = 120
MAX_SAMPLES = 3
MAX_SAMPLE_FLOATS = 600  # built-in samples are kept in flash; bound their size


def check_directory(directory: str) -> None:
    """ExportError unless ``directory`` is a path we may create a library at."""
    if not directory:
        raise ExportError("--arduino needs a directory name")
    if os.path.exists(directory) or os.path.islink(directory):
        if not os.path.isdir(directory):
            raise ExportError("%s exists and is not a directory" % directory)
        if os.listdir(directory):
            raise ExportError("%s is not empty: give a new or empty directory for the library" % directory)
    parent = os.path.dirname(os.path.abspath(directory))
    while not os.path.exists(parent):  # missing parents are created; a file on the way is an error
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ExportError("%s: %s is not a directory" % (directory, parent))


def library_properties(name: str, head: str, char_model: bool) -> str:
    what = "generates text" if char_model else "classifies a series" if head == "softmax" else "runs a sequence model"
    return "\n".join([
        "name=%s" % name,
        "version=%s" % __version__,
        "author=tinyrnn export",
        "maintainer=tinyrnn export",
        "sentence=A vanilla RNN trained with tinyrnn: one C99 header, one time step per call, no malloc.",
        "paragraph=Exported by tinyrnn %s. The example %s over Serial." % (__version__, what),
        "category=Data Processing",
        "url=https://pypi.org/project/tinyrnn/",
        "architectures=*",
        "includes=%s.h" % name,
        "",
    ])


def library_json(name: str) -> str:
    manifest = {
        "name": name,
        "version": __version__,
        "description": "A vanilla RNN exported by tinyrnn: one C99 header, one time step per call, no malloc.",
        "keywords": ["rnn", "tinyrnn", "machine-learning"],
        "authors": [{"name": "tinyrnn export"}],
        "frameworks": "*",
        "platforms": "*",
        "headers": name + ".h",
        "examples": [{"name": name + "_demo", "base": "examples/%s_demo" % name, "files": [name + "_demo.ino"]}],
    }
    return json.dumps(manifest, indent=2) + "\n"


def keywords(name: str, head: str, char_model: bool) -> str:
    funcs = ["reset", "step", "step_token", "output", "argmax"]
    if char_model:
        funcs += ["vocab_at", "token_of"]
    if head == "softmax":
        funcs += ["rng_next", "sample"]
    consts = ["X_S", "H_S", "Y_S", "PARAMS", "FLASH_BYTES", "STATE_RAM_BYTES", "WEIGHTS_FNV1A64"]
    lines = ["# %s (tinyrnn export)" % name, "%s_state_t\tKEYWORD1" % name]
    lines += ["%s_%s\tKEYWORD2" % (name, f) for f in funcs]
    lines += ["%s_%s\tLITERAL1" % (name, c) for c in consts]
    return "\n".join(lines) + "\n"


def _flash_floats(cname: str, values: "Sequence[float]", qual: str) -> "List[str]":
    out = ["static const float %s[%d] %s= {" % (cname, max(1, len(values)), qual)]
    vals = [c_float(v) for v in values] or ["0.0f"]
    for k in range(0, len(vals), 8):
        out.append("    " + ", ".join(vals[k : k + 8]) + ",")
    out.append("};")
    return out


def char_sketch(N: str, prime: str) -> str:
    cps = ", ".join("0x%xu" % c for c in vocab_code_points(list(prime)))
    return (
        _CHAR_SKETCH.replace("PRIMECPS", cps)
        .replace("PRIMELEN", str(len(prime)))
        .replace("BAUD", str(BAUD))
        .replace("DEMOLEN", str(DEMO_LENGTH))
        .replace("VERSION", comment_text(__version__))
        .replace("HELPERS", _SERIAL_HELPERS)
        .replace("NAME", N)
    )


def series_sketch(N: str, samples: "Sequence[Sequence[Any]]") -> str:
    """Sketch for a sequence model; each sample is a list of steps (X floats, or one token id)."""
    flat = []  # type: List[float]
    lens = []  # type: List[str]
    for s in samples:
        for x in s:
            flat.extend([float(x)] if isinstance(x, int) else [float(v) for v in x])
        lens.append(str(len(s)))
    table = "\n".join(_flash_floats("demo_x", flat, "%s_FLASH_ " % N))
    return (
        _SERIES_SKETCH.replace("SAMPLETABLE", table)
        .replace("SAMPLELENS", ", ".join(lens) or "0")
        .replace("NSAMPLES", str(len(samples)))
        .replace("BAUD", str(BAUD))
        .replace("VERSION", comment_text(__version__))
        .replace("NAME", N)
    )


def pick_samples(ckpt: "Any", samples: "Optional[Sequence[Sequence[Any]]]") -> "List[Sequence[Any]]":
    """At most MAX_SAMPLES series, at most MAX_SAMPLE_FLOATS numbers in all, each with the model's input width."""
    X = ckpt.model.X
    out = []  # type: List[Sequence[Any]]
    used = 0
    for s in samples or []:
        size = len(s) * (1 if ckpt.input_kind == "token" else X)
        if len(out) >= MAX_SAMPLES or used + size > MAX_SAMPLE_FLOATS or not s:
            break
        out.append(s)
        used += size
    return out


def write_library(
    ckpt: "Any", directory: str, name: str = "model", samples: "Optional[Sequence[Sequence[Any]]]" = None, source: "Optional[str]" = None
) -> "List[str]":
    """Create the library at ``directory``; return the files written (relative paths)."""
    N = check_name(name)
    check_directory(directory)
    char_model = ckpt.vocab is not None and ckpt.input_kind == "token"
    head = ckpt.model.head
    files = {
        "library.properties": library_properties(N, head, char_model),
        "library.json": library_json(N),
        "keywords.txt": keywords(N, head, char_model),
        os.path.join("src", N + ".h"): header_from_checkpoint(ckpt, name=N, progmem=True, source=source, filename=N + ".h"),
    }
    if char_model:
        from ..workflow.sample import default_prime

        sketch = char_sketch(N, default_prime(ckpt.vocab))
    else:
        sketch = series_sketch(N, pick_samples(ckpt, samples))
    files[os.path.join("examples", N + "_demo", N + "_demo.ino")] = sketch
    target = os.path.abspath(directory)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".%s.tmp-" % os.path.basename(target), dir=os.path.dirname(target))
    try:
        for rel, text in files.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_file(path, text, encoding="ascii")
        os.chmod(tmp, 0o755)
        if os.path.isdir(target):
            os.rmdir(target)  # checked empty above
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(files)


_SERIAL_HELPERS = """\
/* Writes one Unicode code point as UTF-8. */
static void put_cp(uint32_t c)
{
    if (c < 0x80u) {
        Serial.write((uint8_t)c);
    } else if (c < 0x800u) {
        Serial.write((uint8_t)(0xC0u | (c >> 6)));
        Serial.write((uint8_t)(0x80u | (c & 0x3Fu)));
    } else if (c < 0x10000u) {
        Serial.write((uint8_t)(0xE0u | (c >> 12)));
        Serial.write((uint8_t)(0x80u | ((c >> 6) & 0x3Fu)));
        Serial.write((uint8_t)(0x80u | (c & 0x3Fu)));
    } else {
        Serial.write((uint8_t)(0xF0u | (c >> 18)));
        Serial.write((uint8_t)(0x80u | ((c >> 12) & 0x3Fu)));
        Serial.write((uint8_t)(0x80u | ((c >> 6) & 0x3Fu)));
        Serial.write((uint8_t)(0x80u | (c & 0x3Fu)));
    }
}

/* UTF-8 decoder fed one byte at a time: returns 1 when *cp holds a whole code point. */
static uint32_t utf8_acc;
static uint8_t utf8_need;
static int utf8_byte(uint8_t b, uint32_t *cp)
{
    if (b < 0x80u) {
        utf8_need = 0;
        *cp = b;
        return 1;
    }
    if ((b & 0xC0u) == 0x80u) {
        if (utf8_need == 0) return 0; /* stray continuation byte */
        utf8_acc = (utf8_acc << 6) | (b & 0x3Fu);
        if (--utf8_need) return 0;
        *cp = utf8_acc;
        return 1;
    }
    if ((b & 0xE0u) == 0xC0u) { utf8_acc = b & 0x1Fu; utf8_need = 1; }
    else if ((b & 0xF0u) == 0xE0u) { utf8_acc = b & 0x0Fu; utf8_need = 2; }
    else { utf8_acc = b & 0x07u; utf8_need = 3; }
    return 0;
}
"""

_CHAR_SKETCH = """\
/* NAME_demo -- text generation with the NAME model (generated by tinyrnn VERSION).
 *
 * Open the serial monitor at BAUD baud. On reset the sketch generates
 * NAME_DEMO_LENGTH characters after the built-in prime; then every line you
 * send becomes a new prime: it is echoed, and the model continues it. Each
 * prime starts from a reset state and the seed NAME_DEMO_SEED, so the output
 * is the text of
 *     tinyrnn sample model.json --prime "LINE" -t NAME_DEMO_TEMPERATURE --seed NAME_DEMO_SEED -n NAME_DEMO_LENGTH
 * Characters that are not in the vocabulary are skipped. Temperature 0 is
 * greedy (the most likely character each time); try 0.8 for variety.
 */
#include <NAME.h>

#ifndef NAME_DEMO_LENGTH
#define NAME_DEMO_LENGTH DEMOLEN
#endif
#ifndef NAME_DEMO_TEMPERATURE
#define NAME_DEMO_TEMPERATURE 0.0f
#endif
#ifndef NAME_DEMO_SEED
#define NAME_DEMO_SEED 0
#endif

static NAME_state_t state; /* the whole model state: copy it to snapshot */
static float z[NAME_Y_S];  /* logits of the last step */
static uint64_t rng;       /* SplitMix64 state: the seed */
static const uint32_t boot_prime[PRIMELEN] = {PRIMECPS};
static uint8_t in_line;    /* a prime line is being received */
static uint16_t fed;       /* prime characters fed on this line */

HELPERS
static void start_prime(void)
{
    NAME_reset(&state);
    rng = NAME_DEMO_SEED;
    fed = 0;
}

static void feed(uint32_t cp)
{
    int t = NAME_token_of(cp);
    if (t < 0) return; /* not in the vocabulary: skipped */
    NAME_step_token(&state, t, z);
    ++fed;
}

static void generate(void)
{
    int i, t;
    for (i = 0; i < NAME_DEMO_LENGTH; ++i) {
        t = NAME_sample(z, NAME_DEMO_TEMPERATURE, &rng);
        put_cp(NAME_vocab_at(t));
        NAME_step_token(&state, t, z);
    }
    Serial.write('\\n');
}

void setup()
{
    int i;
    Serial.begin(BAUD);
    start_prime();
    for (i = 0; i < PRIMELEN; ++i) feed(boot_prime[i]);
    generate();
    Serial.println(F("[send a line: it becomes the prime]"));
}

void loop()
{
    uint32_t cp;
    while (Serial.available() > 0) {
        uint8_t b = (uint8_t)Serial.read();
        if (b == '\\n' || b == '\\r') {
            if (!in_line) continue; /* empty line, or the second half of CR LF */
            in_line = 0;
            if (fed == 0) {
                Serial.println();
                Serial.println(F("[no character of that line is in the vocabulary]"));
                continue;
            }
            generate();
            continue;
        }
        if (!in_line) {
            in_line = 1;
            start_prime();
        }
        if (utf8_byte(b, &cp)) {
            put_cp(cp); /* echo the prime */
            feed(cp);
        }
    }
}
"""

_SERIES_SKETCH = """\
/* NAME_demo -- sequence classification with the NAME model (generated by tinyrnn VERSION).
 *
 * Open the serial monitor at BAUD baud. On reset the sketch runs the
 * built-in samples (the first sequences of the training file) and prints
 * "sample K: class C". Then send a series: one time step per line, NAME_X_S
 * numbers separated by spaces or commas (token models: one token id per
 * line); an empty line ends the series and prints its class. softmax head:
 * the class is the largest logit after the last step; sigmoid: one 0/1 per
 * output (logit > 0); mse: the outputs.
 */
#include <NAME.h>
#include <stdlib.h>

#define DEMO_SAMPLES NSAMPLES
static const uint16_t demo_len[DEMO_SAMPLES + 1] = {SAMPLELENS};
SAMPLETABLE

#if defined(NAME_INPUT_TOKEN)
#define DEMO_WIDTH 1
#else
#define DEMO_WIDTH NAME_X_S
#endif

static NAME_state_t state; /* the whole model state: copy it to snapshot */
static float z[NAME_Y_S];  /* logits of the last step */
static float x[DEMO_WIDTH]; /* the step being received */
static uint16_t nx;        /* numbers received on this line */
static uint16_t steps;     /* steps of this series so far */
static char num[24];       /* the number being received */
static uint8_t nnum;

static void step_input(const float *in)
{
#if defined(NAME_INPUT_TOKEN)
    NAME_step_token(&state, (int)in[0], z);
#else
    NAME_step(&state, in, z);
#endif
}

static void print_result(void)
{
#if defined(NAME_HEAD_SOFTMAX)
    Serial.print(F("class "));
    Serial.println(NAME_argmax(z));
#elif defined(NAME_HEAD_SIGMOID)
    int k;
    Serial.print(F("class"));
    for (k = 0; k < NAME_Y_S; ++k) {
        Serial.print(' ');
        Serial.print(z[k] > 0.0f ? 1 : 0);
    }
    Serial.println();
#else
    int k;
    float y[NAME_Y_S];
    NAME_output(z, y);
    Serial.print(F("output"));
    for (k = 0; k < NAME_Y_S; ++k) {
        Serial.print(' ');
        Serial.print(y[k], 6);
    }
    Serial.println();
#endif
}

static void end_number(void)
{
    if (nnum == 0) return;
    num[nnum] = 0;
    if (nx < DEMO_WIDTH) x[nx] = (float)atof(num);
    ++nx;
    nnum = 0;
}

void setup()
{
    Serial.begin(BAUD);
#if DEMO_SAMPLES > 0
    uint16_t s, t, k, at = 0;
    for (s = 0; s < DEMO_SAMPLES; ++s) {
        NAME_reset(&state);
        for (t = 0; t < demo_len[s]; ++t) {
            for (k = 0; k < DEMO_WIDTH; ++k) x[k] = NAME_RD_(demo_x + at++);
            step_input(x);
        }
        Serial.print(F("sample "));
        Serial.print(s);
        Serial.print(F(": "));
        print_result();
    }
#endif
    Serial.print(F("[send a series: one step per line, "));
    Serial.print(DEMO_WIDTH);
    Serial.println(F(" numbers; an empty line ends it]"));
    NAME_reset(&state);
}

void loop()
{
    while (Serial.available() > 0) {
        char c = (char)Serial.read();
        if (c == '\\r') continue;
        if (c == '\\n') {
            end_number();
            if (nx == 0) { /* empty line: the series is complete */
                if (steps > 0) print_result();
                steps = 0;
                NAME_reset(&state);
            } else if (nx != DEMO_WIDTH) {
                Serial.print(F("[expected "));
                Serial.print(DEMO_WIDTH);
                Serial.println(F(" numbers on the line; step ignored]"));
            } else {
                step_input(x);
                ++steps;
            }
            nx = 0;
            continue;
        }
        if (c == ' ' || c == ',' || c == '\\t' || c == ';') end_number();
        else if (nnum < sizeof(num) - 1) num[nnum++] = c;
    }
}
"""
