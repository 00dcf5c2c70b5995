"""The runtime pieces every exported C header shares, written once.

The vocabulary (``NAME_vocab_at``, ``NAME_token_of``), the sampler
(``NAME_rng_next``: SplitMix64, the stream of ``tinyrnn.core.rng.Rng``;
``NAME_sample``: the inverse-CDF rule of ``tinyrnn sample``), input
normalisation (folded into the first layer, or ``NAME_normalize_series``)
and the class-name table (``NAME_label``). ``c.py`` (float), ``c_int.py``
(integer) and the Arduino library use them.
"""

import math

from ..core.model import RNN
from . import c_cells

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence


class ExportError(ValueError):
    """The model, its name or its metadata cannot be exported; the message says why."""


def api_extras(N: str, head: str, has_vocab: bool) -> "List[str]":
    """The API-block comment lines for the runtime pieces that depend on head and vocabulary."""
    o = []
    if has_vocab:
        o.append(" *   uint32_t %s_vocab_at(int token);         code point of a token, 0xFFFFFFFF if out of range" % N)
        o.append(" *   int  %s_token_of(uint32_t code_point);   token of a character, -1 if not in the vocabulary" % N)
    if head == "softmax":
        o.append(" *   uint64_t %s_rng_next(uint64_t *rng);     SplitMix64: the stream of Python's Rng(seed)" % N)
        o.append(" *   int  %s_sample(const float *z, float temperature, uint64_t *rng);" % N)
        o.append(" *        a token drawn from softmax(z / temperature) by inverse CDF, the rule and the")
        o.append(" *        stream of `tinyrnn sample --seed S` (set *rng = S); temperature <= 0: argmax")
    o.append(" * %s_state_t is a plain struct: copy it to snapshot the model, copy it back to restore." % N)
    return o


def runtime_extras(N: str, head: str, has_vocab: bool) -> str:
    """The C of those pieces (one copy for every exporter that writes a C header)."""
    parts = []
    if has_vocab:
        parts += [_VOCAB_AT, _TOKEN_OF]
    if head == "softmax":
        parts += [_RNG_NEXT, _SAMPLE]
    return "\n".join(p.replace("NAME", N) for p in parts)


_VOCAB_AT = """\
/* Code point of token id `token`, or 0xFFFFFFFF if it is out of range. */
NAME_API_ uint32_t NAME_vocab_at(int token)
{
    if (token < 0 || token >= NAME_X_S) return 0xFFFFFFFFu;
    return (uint32_t)NAME_RD32_(NAME_vocab + token);
}
"""

_TOKEN_OF = """\
/* Token id of Unicode code point `code_point`, or -1 if it is not in the vocabulary. */
NAME_API_ int NAME_token_of(uint32_t code_point)
{
    int k;
    for (k = 0; k < NAME_X_S; ++k)
        if ((uint32_t)NAME_RD32_(NAME_vocab + k) == code_point) return k;
    return -1;
}
"""

_RNG_NEXT = """\
/* SplitMix64, the generator of tinyrnn.core.rng.Rng: *rng = seed gives Python's stream. */
NAME_API_ uint64_t NAME_rng_next(uint64_t *rng)
{
    uint64_t z = (*rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
"""

_SAMPLE = """\
/* A token drawn from softmax(z / temperature) with one draw of *rng, the rule of
   tinyrnn.workflow.sample.draw: e[k] = exp((z[k] - max z) / temperature),
   u = uniform * sum(e), the first k whose running sum of e exceeds u (the last
   token if rounding leaves none). The uniform is the top 24 bits of the 64-bit
   draw (Python's uniform() takes the top 53: they differ by less than 2^-24),
   and e, the sum and the running sum are float (float32 on every target; AVR's
   double is float anyway): a draw agrees with Python's unless a cumulative
   probability lies within ~1e-6 of u. exp is computed twice per token instead
   of keeping Y floats on the stack. temperature <= 0 or NaN: argmax, no draw
   (Python: 0 is greedy, negative is an error); temperature so small that
   1/temperature overflows float (< 2.9e-39): argmax after one draw. */
NAME_API_ int NAME_sample(const float *z, float temperature, uint64_t *rng)
{
    int k, best;
    float m, inv, u, sum = 0.0f, acc = 0.0f;
    if (!(temperature > 0.0f)) return NAME_argmax(z);
    inv = 1.0f / temperature;
    if (!(inv <= 3.40282347e38f)) { /* 1/temperature overflows float: the limit is argmax */
        (void)NAME_rng_next(rng);     /* still one draw, so the stream stays in step with Python's */
        return NAME_argmax(z);
    }
    best = NAME_argmax(z);
    m = z[best];
    for (k = 0; k < NAME_Y_S; ++k) sum += expf((z[k] - m) * inv);
    u = (float)(uint32_t)(NAME_rng_next(rng) >> 40) * (1.0f / 16777216.0f) * sum;
    for (k = 0; k < NAME_Y_S; ++k) {
        acc += expf((z[k] - m) * inv);
        if (u < acc) return k;
    }
    return NAME_Y_S - 1;
}
"""


def fold_normalization(model: RNN, normalize: "Optional[Dict[str, Any]]", input_kind: str) -> RNN:
    """``model`` itself, or for channel normalisation a copy taking raw inputs: Wxh' = Wxh / std,
    b' = b - Wxh' mean for the first layer's input bias b (bh, or bxh for the gated cells)."""
    if not normalize or normalize.get("mode") != "channel":
        return model
    if input_kind != "dense":
        raise ExportError("input normalisation needs dense input, the model has %s input" % input_kind)
    mean, std = normalize["mean"], normalize["std"]
    X, H, L = model.X, model.H, model.layout
    if len(mean) != X or len(std) != X or not all(math.isfinite(v) for v in mean) or not all(math.isfinite(v) and v > 0 for v in std):
        raise ExportError("normalisation needs %d finite means and %d positive finite standard deviations" % (X, X))
    m = c_cells.blank_like(model, model.T)  # type: RNN
    P = m.params
    P[:] = model.params
    wxh, rows, _ = L.groups["Wxh"]
    b = L.groups[c_cells.input_bias(model)][0]
    for i in range(rows):
        row = wxh + i * X
        shift = 0.0
        for j in range(X):
            P[row + j] = model.params[row + j] / std[j]
            shift += P[row + j] * mean[j]
        P[b + i] = model.params[b + i] - shift
    return m


def normalize_block(N: str, normalize: "Optional[Dict[str, Any]]") -> "List[str]":
    """#defines saying how inputs are scaled, and NAME_normalize_series for per-series z-scoring."""
    mode = (normalize or {}).get("mode", "none")
    if mode == "none":
        return []
    out = ['#define %s_NORMALIZE "%s" /* %s */' % (N, mode, {
        "channel": "per-channel z-score folded into Wxh and bh: feed raw inputs",
        "series": "call NAME_normalize_series on each buffered series first".replace("NAME", N),
    }[mode])]
    if mode == "series":
        out.append(_NORMALIZE_SERIES.replace("NAME", N))
    return out


_NORMALIZE_SERIES = """/* z-score each channel of a buffered series in place (as tinyrnn train
   --normalize series did): xs holds n steps of NAME_X_S floats, step t at
   xs[t * NAME_X_S]. A constant channel is only centred. Float32 sums: agrees
   with the float64 training-time normalisation to about 1e-6 relative. */
NAME_API_ void NAME_normalize_series(float *xs, long n)
{
    long t;
    int j;
    if (n < 1) return;
    for (j = 0; j < NAME_X_S; ++j) {
        float mean = 0.0f, var = 0.0f, sd;
        for (t = 0; t < n; ++t) mean += xs[t * NAME_X_S + j];
        mean /= (float)n;
        for (t = 0; t < n; ++t) {
            float d = xs[t * NAME_X_S + j] - mean;
            var += d * d;
        }
        sd = sqrtf(var / (float)n);
        if (!(sd > 1e-12f * (fabsf(mean) > 1.0f ? fabsf(mean) : 1.0f))) sd = 1.0f;
        for (t = 0; t < n; ++t) xs[t * NAME_X_S + j] = (xs[t * NAME_X_S + j] - mean) / sd;
    }
}
"""

MAX_LABEL_BYTES = 63


def c_string(text: str) -> str:
    """A C string literal for ``text`` (UTF-8): printable ASCII as is, except backslash, double quote, question mark, * and /; every other byte a 3-digit octal escape."""
    out = []
    for b in text.encode("utf-8"):
        c = chr(b)
        out.append(c if 0x20 <= b < 0x7F and c not in '\\"?*/' else "\\%03o" % b)
    return '"' + "".join(out) + '"'


def labels_block(N: str, classes: "Optional[Sequence[str]]", model: RNN) -> "List[str]":
    """NAME_labels (escaped C strings, in flash with NAME_USE_PROGMEM) and NAME_label(k); nothing without class names."""
    if classes is None:
        return []
    if model.head != "softmax" or len(classes) != model.Y:
        raise ExportError("%d class names for a %s head with Y = %d" % (len(classes), model.head, model.Y))
    width = 1
    for k, c in enumerate(classes):
        if not isinstance(c, str) or not c:
            raise ExportError("class name %d is not a non-empty string" % k)
        n = len(c.encode("utf-8"))
        if n > MAX_LABEL_BYTES:
            raise ExportError("class name %d is %d bytes of UTF-8, longer than %d" % (k, n, MAX_LABEL_BYTES))
        width = max(width, n + 1)
    out = ["#define %s_HAS_LABELS 1" % N, "#define %s_LABEL_BYTES %d /* longest class name + 1 */" % (N, width),
           "/* class names, UTF-8: class k is %s_labels[k] */" % N,
           "static const char %s_labels[%d][%d] %s_FLASH_ = {" % (N, model.Y, width, N)]
    out += ["    %s," % c_string(c) for c in classes]
    out.append("};")
    out.append(_LABEL.replace("NAME", N))
    return out


_LABEL = """/* Name of class k (NUL-terminated UTF-8), or 0 if k is out of range. With
   NAME_USE_PROGMEM the string is in flash: read it with strcpy_P / pgm_read_byte. */
NAME_API_ const char *NAME_label(int k)
{
    if (k < 0 || k >= NAME_Y_S) return (const char *)0;
    return NAME_labels[k];
}
"""
