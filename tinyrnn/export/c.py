"""Export a model to one self-contained C99 header with a step function.

``header(model, name=...)`` returns the text of ``NAME.h``: the weights as
``static const float`` arrays, the dimensions and metadata as ``#define``s
and an allocation-free runtime (all ``static``; no malloc, no VLA, no global
mutable state)::

    typedef struct { float h[NAME_H_S]; } NAME_state_t;
    void NAME_reset(NAME_state_t *s);                            h = 0
    void NAME_step(NAME_state_t *s, const float *x, float *z);   x: NAME_X_S floats, z: NAME_Y_S logits
    int  NAME_step_token(NAME_state_t *s, int token, float *z);  one-hot input (column gather);
                                                                 0, or -1 for a token outside
                                                                 [0, NAME_X_S): state unchanged, z = 0
    void NAME_output(const float *z, float *y);                  softmax (stable) / sigmoid / identity
    int  NAME_argmax(const float *z);                            first index of the largest logit
    uint32_t NAME_vocab_at(int token);                           char models: token -> code point
    int  NAME_token_of(uint32_t code_point);                     char models: code point -> token, or -1
    uint64_t NAME_rng_next(uint64_t *rng);                       softmax head: SplitMix64 (core.rng)
    int  NAME_sample(const float *z, float temperature, uint64_t *rng)
                                                                 softmax head: inverse-CDF draw as
                                                                 workflow.sample.draw (float32 sums)

GRU, LSTM and stacked layers (``RNN(..., cell=, layers=)``): the same API;
the state becomes ``{ float h[NAME_LAYERS][NAME_H_S]; }`` (the LSTM adds
``float c[NAME_LAYERS][NAME_H_S];``), there is one weight table per layout
group, and the step code comes from ``c_cells.py``. The one-layer vanilla
model keeps the header below unchanged.

Exactness: every weight is first rounded to float32 (round to nearest even,
as ``struct.pack('<f')`` does) and printed with ``%.9g`` plus an ``f``
suffix. Nine significant digits identify every float32, so the C compiler
reads back exactly that float32 -- the C model *is* the Python model with
float32 weights; only the arithmetic (float32 sums, the libm's tanhf/expf)
differs.

Weights hash: ``NAME_WEIGHTS_FNV1A64`` is 64-bit FNV-1a (offset basis
0xcbf29ce484222325, prime 0x100000001b3) over the float32 little-endian bytes
of every parameter in layout order Wxh | Whh | bh | Why | by -- i.e. over
exactly the numbers in the header. ``weights_hash(model)`` computes it.

Safety: the model name must be a C identifier (not a keyword, not reserved);
the vocabulary is emitted as numbers (Unicode code points, ``uint32_t``),
never as string or character literals; the only text from outside that
reaches the header (the source file name, metric names) goes into comments
after reduction to a safe ASCII subset that cannot end a comment.

Input normalisation (``tinyrnn train --normalize``): *channel* z-scoring is
folded into the first layer, so ``NAME_step`` takes RAW inputs:
``Wxh' = Wxh / std`` (column j divided by std[j]) and
``bh' = bh - Wxh' mean``. Then ``Wxh' x + bh' = Wxh ((x - mean) / std) + bh``
exactly in real arithmetic; the header differs from the Python model only by
rounding Wxh' and bh' to float32 and by the float32 sums -- the same kind of
error as every other weight. (When |mean| is much larger than std the two
terms cancel and that rounding error grows by about |mean| / std.) The
weights hash covers the folded numbers. *series* z-scoring needs the whole
series, which a one-step-per-call runtime does not have: the header gives
``NAME_normalize_series(xs, n)`` to z-score a buffered series (n steps of
NAME_X_S floats, in place, float32) before stepping through it.

Class names (``classes`` in the checkpoint) become ``NAME_label(k)``: a
table of C string literals in which every byte outside printable ASCII, and
backslash, double quote, ``?`` (trigraphs), ``*`` and ``/`` (comments), is an octal
escape -- no label can end the literal or open or close a comment.

AVR: define ``NAME_USE_PROGMEM`` (or export with ``progmem=True``, which
turns it on whenever ``__AVR__`` is defined) to keep the weights and the
vocabulary in flash, read with ``pgm_read_float`` / ``pgm_read_dword``.
RAM is then the state (``NAME_STATE_RAM_BYTES``) plus a scratch vector of
``NAME_H_S`` floats on the stack during a step (``NAME_SCRATCH_BYTES``).
"""

import math
import re
import struct

from .. import __version__
from ..core.heads import HEADS
from ..core.model import RNN
from . import c_cells
from .c_cells import is_vanilla
from .c_cells import macs_per_step as macs_per_step  # re-exported: export/micropython.py uses it
from .c_runtime import (  # re-exported: the shared runtime pieces of every C header
    ExportError as ExportError,
    MAX_LABEL_BYTES as MAX_LABEL_BYTES,
    api_extras as api_extras,
    c_string as c_string,
    fold_normalization as fold_normalization,
    labels_block as labels_block,
    normalize_block as normalize_block,
    runtime_extras as runtime_extras,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence

# C99 and C11 keywords, plus names a header must not take over.
C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int "
    "long register restrict return short signed sizeof static struct switch typedef union unsigned void "
    "volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert "
    "_Thread_local asm fortran bool true false NULL main".split()
)
MAX_NAME = 40  # leaves room for the longest suffix within C99's 63 significant characters
MAX_DIM = 32767  # loop counters are int: 16 bits on AVR
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# characters allowed verbatim in a comment: printable ASCII without * / \ ? (no comment end, no trigraph)
_COMMENT_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - set("*/\\?")
_LOSS_KEYS = ("eval_loss", "val_loss", "valid_loss", "test_loss", "loss")

FNV64_OFFSET = 0xCBF29CE484222325
FNV64_PRIME = 0x100000001B3


def check_name(name: object) -> str:
    """``name`` if it can prefix every identifier in the header, else ExportError."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ExportError("model name %r is not a C identifier (letters, digits and _, not starting with a digit)" % (name,))
    if name in C_KEYWORDS:
        raise ExportError("model name %r is a C keyword or reserved name" % name)
    if name.startswith("__") or (name[0] == "_" and len(name) > 1 and name[1].isupper()):
        raise ExportError("model name %r is reserved in C (starts with __ or _ and a capital letter)" % name)
    if len(name) > MAX_NAME:
        raise ExportError("model name %r is longer than %d characters" % (name, MAX_NAME))
    return name


def f32(v: float) -> float:
    """``v`` rounded to the nearest float32 (ExportError if it overflows)."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", v))[0])
    except (OverflowError, struct.error):
        raise ExportError("weight %r does not fit in a float32" % (v,))


def c_float(v: float) -> str:
    """A C float constant that reads back as exactly float32(v)."""
    x = f32(v)
    if not math.isfinite(x):
        raise ExportError("weight %r is not finite" % (v,))
    s = "%.9g" % x
    if "." not in s and "e" not in s:
        s += ".0"  # "1f" is not a C constant, "1.0f" is
    return s + "f"


def weights_hash(params: "Sequence[float]") -> int:
    """64-bit FNV-1a over the float32 little-endian bytes of ``params``."""
    h = FNV64_OFFSET
    for b in struct.pack("<%df" % len(params), *[f32(v) for v in params]):
        h = ((h ^ b) * FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def comment_text(s: str, limit: int = 120) -> str:
    """``s`` reduced to characters that are safe inside a C block comment."""
    out = "".join(c if c in _COMMENT_SAFE else "_" for c in s)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def vocab_code_points(vocab: "Sequence[str]") -> "List[int]":
    """One code point per token; ExportError for a token that is not one character."""
    cps = []
    for i, tok in enumerate(vocab):
        if not isinstance(tok, str) or len(tok) != 1:
            raise ExportError(
                "vocab[%d] is %s; the C export supports one character (code point) per token"
                % (i, "not a string" if not isinstance(tok, str) else "%d characters long" % len(tok))
            )
        cps.append(ord(tok))
    return cps


def eval_loss(metrics: "Optional[Dict[str, Any]]") -> "Optional[tuple[str, float]]":
    """The first finite number among the usual loss keys of ``metrics``, with its key."""
    if not metrics:
        return None
    for key in _LOSS_KEYS:
        v = metrics.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            return key, float(v)
    return None


def _array(lines: "List[str]", ctype: str, cname: str, values: "List[str]", shape: str, qual: str, per_line: int) -> None:
    lines.append("/* %s */" % shape)
    lines.append("static const %s %s[%d] %s= {" % (ctype, cname, len(values), qual))
    for k in range(0, len(values), per_line):
        lines.append("    " + ", ".join(values[k : k + per_line]) + ",")
    lines.append("};")



def check_model(model: RNN, input_kind: str) -> None:
    """What every exported header or module needs of its model: a known head and input kind, a whole parameter buffer."""
    if model.head not in HEADS:
        raise ExportError("unknown head %r" % (model.head,))
    if input_kind not in ("token", "dense"):
        raise ExportError("input kind %r is not 'token' or 'dense'" % (input_kind,))
    if len(model.params) != model.layout.size:
        raise ExportError("model has %d parameters, expected %d for X=%d H=%d Y=%d" % (
            len(model.params), model.layout.size, model.X, model.H, model.Y))


def progmem_guard(N: str, progmem: bool) -> "List[str]":
    """NAME_USE_PROGMEM: on by default on AVR when exported with --progmem, an error off AVR."""
    o = []
    if progmem:
        o += ["#if defined(__AVR__) && !defined(%s_USE_PROGMEM)" % N, "#define %s_USE_PROGMEM 1 /* exported with --progmem */" % N, "#endif"]
    return o + ["#if defined(%s_USE_PROGMEM) && !defined(__AVR__)" % N, '#error "%s_USE_PROGMEM is for AVR (avr-gcc, avr-libc)"' % N, "#endif"]


def shape_defines(N: str, X: int, H: int, Y: int, head: str, input_kind: str) -> "List[str]":
    """The #defines every exported header starts with: sizes, head and input kind."""
    return [
        "#define %s_X_S %d /* inputs (vocabulary size for token input) */" % (N, X),
        "#define %s_H_S %d /* hidden units */" % (N, H),
        "#define %s_Y_S %d /* outputs (logits) */" % (N, Y),
        '#define %s_HEAD "%s"' % (N, head),
        "#define %s_HEAD_%s 1" % (N, head.upper()),
        '#define %s_INPUT "%s"' % (N, input_kind),
        "#define %s_INPUT_%s 1" % (N, input_kind.upper()),
    ]

def header(
    model: RNN,
    name: str = "model",
    input_kind: str = "token",
    vocab: "Optional[Sequence[str]]" = None,
    step: "Optional[int]" = None,
    metrics: "Optional[Dict[str, Any]]" = None,
    progmem: bool = False,
    source: "Optional[str]" = None,
    filename: "Optional[str]" = None,
    classes: "Optional[Sequence[str]]" = None,
    normalize: "Optional[Dict[str, Any]]" = None,
) -> str:
    """The C99 header for ``model`` (see the module docstring); ``filename`` (default
    ``NAME.h``) is the name the header gives itself in its first line."""
    N = check_name(name)
    model = fold_normalization(model, normalize, input_kind)
    X, H, Y = model.X, model.H, model.Y
    try:
        cell, layers = c_cells.cell_of(model)
    except ValueError as e:
        raise ExportError(str(e))
    vanilla = is_vanilla(model)
    GH = c_cells.GATES[cell] * H
    for d, size in (("X", X), ("H", H), ("Y", Y), ("gates x H", GH)):
        if size > MAX_DIM:
            raise ExportError("dimension %s = %d is too large for the C runtime (limit %d)" % (d, size, MAX_DIM))
    check_model(model, input_kind)
    L = model.layout
    for k, v in enumerate(model.params):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ExportError("parameter %d = %r is not a finite number" % (k, v))
    cps = vocab_code_points(vocab) if vocab is not None else None
    if cps is not None and len(cps) != X:
        raise ExportError("vocabulary has %d entries, expected X = %d" % (len(cps), X))
    P = [float(v) for v in model.params]
    digest = weights_hash(P)
    dense = input_kind == "dense"
    macs = macs_per_step(model, dense)
    vocab_bytes = 4 * X if cps is not None else 0
    loss = eval_loss(metrics)
    G = N  # the include guard keeps the name's case: kws and KWS are two models

    o = []  # type: List[str]
    o.append("/* %s -- tinyrnn %s export of a %s. Generated file: do not edit." % (comment_text(filename or N + ".h"), __version__, c_cells.title(model)))
    o.append(" *")
    if source is not None:
        o.append(" * source: %s" % comment_text(source))
    o.append(" * head: %s   input: %s   X=%d H=%d Y=%d   parameters: %d%s" % (
        model.head, input_kind, X, H, Y, L.size, "" if vanilla else "   cell: %s   layers: %d" % (cell, layers)))
    if step is not None:
        if not 0 <= int(step) < 1 << 63:
            raise ExportError("training step %d does not fit a C long long" % int(step))
        o.append(" * training step: %d" % int(step))
    if loss is not None:
        o.append(" * %s: %s" % (comment_text(loss[0]), "%.9g" % loss[1]))
    o.append(" * weights hash: 0x%016x (FNV-1a 64 over the float32 little-endian bytes of" % digest)
    output = {"softmax": "softmax", "sigmoid": "sigmoid", "mse": "identity"}[model.head]
    if vanilla:
        o.append(" *   Wxh|Whh|bh|Why|by in this order, i.e. the numbers below)")
        o.append(" *")
        o.append(" *   h' = tanh(Wxh x + Whh h + bh)    z = Why h' + by    y = %s(z)" % output)
    else:
        o.append(" *   %s in this order, i.e. the tables below)" % "|".join(g[0] for g in c_cells.groups_in_order(model)))
        o.append(" *")
        o += c_cells.math_lines(model, output)
    o.append(" *")
    o.append(" * API (all static; no malloc, no VLA, no global mutable state; include in one .c file):")
    o.append(" *   void %s_reset(%s_state_t *s);                            %s = 0" % (
        N, N, "h" if vanilla else "h and c of every layer" if cell == "lstm" else "h of every layer"))
    o.append(" *   void %s_step(%s_state_t *s, const float *x, float *z);   x: %s_X_S floats, z: %s_Y_S logits" % (N, N, N, N))
    o.append(" *   int  %s_step_token(%s_state_t *s, int token, float *z);  one-hot input; returns 0," % (N, N))
    o.append(" *        or -1 if token is outside [0, %s_X_S): then s is unchanged and z is all 0" % N)
    o.append(" *   void %s_output(const float *z, float *y);   %s" % (N, {"softmax": "stable softmax", "sigmoid": "sigmoid", "mse": "identity (copy)"}[model.head]))
    o.append(" *   int  %s_argmax(const float *z);             first index of the largest logit" % N)
    o += api_extras(N, model.head, cps is not None)
    o.append(" * AVR: define %s_USE_PROGMEM to keep weights%s in flash (pgm_read_float)." % (N, " and vocabulary" if cps is not None else ""))
    o.append(" */")
    o.append("#ifndef TINYRNN_%s_H" % G)
    o.append("#define TINYRNN_%s_H" % G)
    o.append("")
    o.append("#include <math.h>")
    o.append("#include <stdint.h>")
    o.append("")
    o += shape_defines(N, X, H, Y, model.head, input_kind)
    if not vanilla:
        o.append('#define %s_CELL "%s"' % (N, cell))
        o.append("#define %s_CELL_%s 1" % (N, cell.upper()))
        o.append("#define %s_CELL_ID %d /* 0 rnn, 1 gru, 2 lstm */" % (N, c_cells.CELL_ID[cell]))
        o.append("#define %s_LAYERS %d" % (N, layers))
        o.append("#define %s_GATES %d /* row blocks per layer: %s */" % (N, c_cells.GATES[cell], c_cells.GATE_NAMES[cell] or "h"))
    o.append('#define %s_TINYRNN_VERSION "%s"' % (N, comment_text(__version__)))
    if step is not None:
        o.append("#define %s_TRAIN_STEP %dL" % (N, int(step)))
    if loss is not None:
        o.append("#define %s_EVAL_LOSS %s /* metrics.%s */" % (N, c_float(loss[1]), comment_text(loss[0])))
    o.append("#define %s_WEIGHTS_FNV1A64 0x%016xULL" % (N, digest))
    o.append("#define %s_PARAMS %dL /* floats */" % (N, L.size))
    o.append("#define %s_FLASH_BYTES %dL /* weights%s */" % (N, 4 * L.size + vocab_bytes, " + vocabulary" if cps is not None else ""))
    o.append("#define %s_STATE_RAM_BYTES %d /* sizeof(%s_state_t) */" % (N, 4 * c_cells.state_floats(model), N))
    o.append("#define %s_SCRATCH_BYTES %d /* stack scratch during a step */" % (N, 4 * c_cells.scratch_floats(model)))
    if vanilla:
        o.append("#define %s_MACS_PER_STEP_TOKEN %dL /* Whh h + Why h */" % (N, macs_per_step(model, False)))
        o.append("#define %s_MACS_PER_STEP_DENSE %dL /* Wxh x + Whh h + Why h */" % (N, macs_per_step(model, True)))
    else:
        o.append("#define %s_MACS_PER_STEP_TOKEN %dL /* G*H*H + (L-1)*2*G*H*H + Y*H */" % (N, macs_per_step(model, False)))
        o.append("#define %s_MACS_PER_STEP_DENSE %dL /* G*H*X + G*H*H + (L-1)*2*G*H*H + Y*H */" % (N, macs_per_step(model, True)))
    o.append("#define %s_MACS_PER_STEP %dL /* for %s input */" % (N, macs, input_kind))
    o.append("")
    o += progmem_guard(N, progmem)
    o.append("#if defined(%s_USE_PROGMEM) /* tables must lie in the first 64 KB of flash (pgm_read_*_near) */" % N)
    o.append("#include <avr/pgmspace.h>")
    o.append("#define %s_FLASH_ PROGMEM" % N)
    o.append("#define %s_RD_(p) pgm_read_float(p)" % N)
    o.append("#define %s_RD32_(p) pgm_read_dword(p)" % N)
    o.append("#else")
    o.append("#define %s_FLASH_" % N)
    o.append("#define %s_RD_(p) (*(p))" % N)
    o.append("#define %s_RD32_(p) (*(p))" % N)
    o.append("#endif")
    o.append("")
    o.append("#if defined(__GNUC__)")
    o.append("#define %s_API_ static __attribute__((unused)) /* no warning for the functions you do not call */" % N)
    o.append("#else")
    o.append("#define %s_API_ static" % N)
    o.append("#endif")
    o.append("")
    o.append("typedef struct { float h[%s_H_S]; } %s_state_t;" % (N, N) if vanilla else c_cells.state_typedef(N, model))
    o.append("")

    def group(g: str) -> "List[str]":
        off = L.groups[g][0]
        return [c_float(v) for v in P[off : off + L.group_size(g)]]

    q = "%s_FLASH_ " % N
    if vanilla:
        _array(o, "float", N + "_Wxh", group("Wxh"), "Wxh: %d x %d (H x X), row-major" % (H, X), q, 6)
        _array(o, "float", N + "_Whh", group("Whh"), "Whh: %d x %d (H x H), row-major" % (H, H), q, 6)
        _array(o, "float", N + "_bh", group("bh"), "bh: %d" % H, q, 6)
        _array(o, "float", N + "_Why", group("Why"), "Why: %d x %d (Y x H), row-major" % (Y, H), q, 6)
        _array(o, "float", N + "_by", group("by"), "by: %d" % Y, q, 6)
    else:
        for g, _, rows, cols in c_cells.groups_in_order(model):
            _array(o, "float", N + "_" + g, group(g), c_cells.shape_comment(model, g, rows, cols), q, 6)
    if cps is not None:
        o.append("#define %s_HAS_VOCAB 1" % N)
        o.append("/* vocabulary: token id -> Unicode code point (read with %s_vocab_at) */" % N)
        o.append("static const uint32_t %s_vocab[%d] %s= {" % (N, X, q))
        for k in range(0, X, 8):
            o.append("    " + ", ".join("0x%xu" % c for c in cps[k : k + 8]) + ",")
        o.append("};")
    o.append("")
    o.append((_VANILLA.replace("NAME", N) if vanilla else c_cells.runtime(N, model)) + (_OUTPUT[model.head] + _ARGMAX).replace("NAME", N))
    o.append(runtime_extras(N, model.head, cps is not None))
    o.extend(normalize_block(N, normalize))
    o.extend(labels_block(N, classes, model))
    o.append("#endif /* TINYRNN_%s_H */" % G)
    return "\n".join(o) + "\n"


_VANILLA = """\
NAME_API_ void NAME_reset(NAME_state_t *s)
{
    int i;
    for (i = 0; i < NAME_H_S; ++i) s->h[i] = 0.0f;
}

/* pre[i] holds bh[i] + (Wxh x)[i]; add Whh h, then h = tanh(pre). */
NAME_API_ void NAME_recur_(NAME_state_t *s, float *pre)
{
    int i, j;
    for (i = 0; i < NAME_H_S; ++i) {
        const float *w = NAME_Whh + (long)i * NAME_H_S;
        float acc = pre[i];
        for (j = 0; j < NAME_H_S; ++j) acc += NAME_RD_(w + j) * s->h[j];
        pre[i] = acc;
    }
    for (i = 0; i < NAME_H_S; ++i) s->h[i] = tanhf(pre[i]);
}

/* z = Why h + by */
NAME_API_ void NAME_logits_(const NAME_state_t *s, float *z)
{
    int k, j;
    for (k = 0; k < NAME_Y_S; ++k) {
        const float *w = NAME_Why + (long)k * NAME_H_S;
        float acc = NAME_RD_(NAME_by + k);
        for (j = 0; j < NAME_H_S; ++j) acc += NAME_RD_(w + j) * s->h[j];
        z[k] = acc;
    }
}

/* One step with a dense input x (NAME_X_S floats); z receives NAME_Y_S logits. */
NAME_API_ void NAME_step(NAME_state_t *s, const float *x, float *z)
{
    float pre[NAME_H_S];
    int i, j;
    for (i = 0; i < NAME_H_S; ++i) {
        const float *w = NAME_Wxh + (long)i * NAME_X_S;
        float acc = NAME_RD_(NAME_bh + i);
        for (j = 0; j < NAME_X_S; ++j) acc += NAME_RD_(w + j) * x[j];
        pre[i] = acc;
    }
    NAME_recur_(s, pre);
    NAME_logits_(s, z);
}

/* One step with a one-hot input: gathers column `token` of Wxh.
   Returns 0; for a token outside [0, NAME_X_S) returns -1, leaves *s
   unchanged, sets z to 0 and reads nothing out of bounds. */
NAME_API_ int NAME_step_token(NAME_state_t *s, int token, float *z)
{
    float pre[NAME_H_S];
    int i;
    if (token < 0 || token >= NAME_X_S) {
        for (i = 0; i < NAME_Y_S; ++i) z[i] = 0.0f;
        return -1;
    }
    for (i = 0; i < NAME_H_S; ++i)
        pre[i] = NAME_RD_(NAME_bh + i) + NAME_RD_(NAME_Wxh + (long)i * NAME_X_S + token);
    NAME_recur_(s, pre);
    NAME_logits_(s, z);
    return 0;
}

"""

_ARGMAX = """
/* Index of the largest logit (the first one on ties). */
NAME_API_ int NAME_argmax(const float *z)
{
    int k, best = 0;
    for (k = 1; k < NAME_Y_S; ++k)
        if (z[k] > z[best]) best = k;
    return best;
}
"""

_OUTPUT = {
    "softmax": """\
/* y = softmax(z), stable: exp(z - max z), so no expf argument is positive. */
NAME_API_ void NAME_output(const float *z, float *y)
{
    int k;
    float m = z[0], sum = 0.0f, inv;
    for (k = 1; k < NAME_Y_S; ++k)
        if (z[k] > m) m = z[k];
    for (k = 0; k < NAME_Y_S; ++k) {
        y[k] = expf(z[k] - m);
        sum += y[k];
    }
    inv = 1.0f / sum;
    for (k = 0; k < NAME_Y_S; ++k) y[k] *= inv;
}
""",
    "sigmoid": """\
/* y = sigmoid(z) per output, stable for any z (expf never sees a positive argument). */
NAME_API_ void NAME_output(const float *z, float *y)
{
    int k;
    for (k = 0; k < NAME_Y_S; ++k) {
        if (z[k] >= 0.0f) {
            y[k] = 1.0f / (1.0f + expf(-z[k]));
        } else {
            float e = expf(z[k]);
            y[k] = e / (1.0f + e);
        }
    }
}
""",
    "mse": """\
/* y = z (linear head: the logits are the outputs). */
NAME_API_ void NAME_output(const float *z, float *y)
{
    int k;
    for (k = 0; k < NAME_Y_S; ++k) y[k] = z[k];
}
""",
}


def header_from_checkpoint(
    ckpt: "Any", name: str = "model", progmem: bool = False, source: "Optional[str]" = None, filename: "Optional[str]" = None
) -> str:
    """The header for a loaded ``tinyrnn.checkpoint.Checkpoint``."""
    return header(
        ckpt.model,
        name=name,
        input_kind=ckpt.input_kind,
        vocab=ckpt.vocab,
        step=ckpt.step,
        metrics=ckpt.metrics,
        progmem=progmem,
        source=source,
        filename=filename,
        classes=getattr(ckpt, "classes", None),
        normalize=getattr(ckpt, "normalize", None),
    )
