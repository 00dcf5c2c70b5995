"""Export a model as one standalone MicroPython module with a step function.

``module(model, ...)`` returns the text of ``NAME.py``: no tinyrnn import,
only ``math`` and ``struct``. The weights are one ``bytes`` literal of
float32 little-endian values, read a row at a time with
``struct.unpack_from``; the state, the scratch vector and the logits are
lists allocated once::

    X, H, Y, HEAD, INPUT             dimensions, "softmax"/"sigmoid"/"mse", "token"/"dense"
    h                                the state (H floats); reset() sets it to 0
    z, y                             the module's logits and outputs (Y floats each)
    reset()                          h = 0
    step(x, out=None) -> out         x: token id (int) or X floats; out (default z) <- logits
    output(z=None, y=None) -> y      stable softmax / sigmoid / identity
    argmax(z=None) -> int            first index of the largest logit
    VOCAB, char_of(t), token_of(c)   char models: token id <-> character (-1 if unknown)

Why bytes and ``struct`` rather than an ``array('f')``: MicroPython keeps
every constant of a module alive as long as the module, so an array built
from the bytes literal would hold the weights twice (42 KB instead of 21 KB
for an H = 32 char model); read in place they exist once -- and not at all
in RAM when the ``.mpy`` is frozen into the firmware or sits in ROMFS.
Reading a row costs one tuple per row and one float per weight, the same as
reading an array element. A float loop cannot allocate less than about 32
bytes per multiply-accumulate on MicroPython: every float result (the
product, the sum) is a new object, 16 bytes on a 32-bit port with double
floats; the weight read adds 16 more and the row tuple 4 (about 54 in all).

Speed: the dot products are unrolled over H (and X for dense input) --
``r[0] * s0 + r[1] * s1 + ...`` with the state unpacked into locals once --
which runs about 1.6x faster than an indexed loop under the WebAssembly port
and computes the same sums in the same order.

The step computes in the interpreter's float (double on the WebAssembly and
unix ports, single on most boards) with weights that are exactly float32:
on a double-precision port it is the Python model with float32-rounded
weights (tested to 1e-9 over 1,000 steps), summed in the order the core's
step summed in when this was written: the bias after the matrix products,
the gathered Wxh column last.

Safety: nothing from the checkpoint reaches the source as text. The weights
are a ``bytes`` literal written by ``repr`` (ASCII, escaped), the vocabulary
is a tuple of integer code points, and the only outside text (the source
file name, a metric's key) goes into ``#`` comments reduced to printable
ASCII.
"""

import math
import os
import re
import struct

from .. import __version__
from ..core.model import RNN
from .c import ExportError, check_model, comment_text, eval_loss, f32, macs_per_step, weights_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence

BYTES_PER_LINE = 48  # weights per source line: 12 floats
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.py\Z")


def check_module_path(path: str) -> str:
    """``path`` if its file name is an importable module (NAME.py), else ExportError."""
    if not _MODULE_NAME.match(os.path.basename(path)):
        raise ExportError(
            "output %r must be NAME.py with NAME a Python identifier (letters, digits, _), so it can be imported" % (path,)
        )
    return path


def _code_points(vocab: "Sequence[str]", X: int) -> "List[int]":
    if len(vocab) != X:
        raise ExportError("vocabulary has %d entries, expected X = %d" % (len(vocab), X))
    cps = []
    for i, tok in enumerate(vocab):
        if not isinstance(tok, str) or len(tok) != 1:
            raise ExportError("vocab[%d] = %r: the MicroPython export supports one character per token" % (i, tok))
        cps.append(ord(tok))
    if len(set(cps)) != len(cps):
        raise ExportError("vocabulary has duplicate entries")
    return cps


def weight_bytes(params: "Sequence[float]") -> bytes:
    """The parameters as float32 little-endian bytes (ExportError if one is not finite or too large)."""
    for k, v in enumerate(params):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ExportError("parameter %d = %r is not a finite number" % (k, v))
    return struct.pack("<%df" % len(params), *[f32(v) for v in params])


def _locals(v: str, n: int) -> str:
    """``v0, v1, ...,`` -- unpacking a list into locals: each element is then read without a subscript."""
    names = ["%s%d," % (v, j) for j in range(n)]
    return "(" + "\n        ".join(" ".join(names[k : k + 12]) for k in range(0, n, 12)) + ")"


def _dot(v: str, n: int) -> str:
    """``r[0] * v0 + r[1] * v1 + ...``, summed left to right, wrapped in lines of 6 terms."""
    terms = ["r[%d] * %s%d" % (j, v, j) for j in range(n)]
    lines = [" + ".join(terms[k : k + 6]) for k in range(0, n, 6)]
    return "\n                + ".join(lines)


def module(
    model: RNN,
    input_kind: str = "token",
    vocab: "Optional[Sequence[str]]" = None,
    step: "Optional[int]" = None,
    metrics: "Optional[Dict[str, Any]]" = None,
    source: "Optional[str]" = None,
) -> str:
    """The MicroPython module for ``model`` (see the module docstring)."""
    if not model.vanilla:
        raise ExportError(
            "the MicroPython module handles the one-layer tanh rnn only; this model is %s with %d layer(s) "
            "(the tinyrnn core itself runs it under MicroPython)" % (model.cell, model.layers)
        )
    X, H, Y = model.X, model.H, model.Y
    check_model(model, input_kind)
    L = model.layout
    blob = weight_bytes(model.params)
    cps = _code_points(vocab, X) if vocab is not None else None
    loss = eval_loss(metrics)
    out = []  # type: List[str]
    o = out.append
    o("# tinyrnn %s export of a vanilla tanh RNN for MicroPython. Generated file: do not edit." % comment_text(__version__))
    if source is not None:
        o("# source: %s" % comment_text(source))
    o("# head: %s   input: %s   X=%d H=%d Y=%d   parameters: %d" % (model.head, input_kind, X, H, Y, L.size))
    if step is not None:
        o("# training step: %d" % int(step))
    if loss is not None:
        o("# %s: %s" % (comment_text(loss[0]), "%.9g" % loss[1]))
    o(_DOC.replace("OUTPUT", {"softmax": "stable softmax", "sigmoid": "stable sigmoid", "mse": "identity (copy)"}[model.head]))
    o("import math")
    o("import struct")
    o("")
    o("X = %d  # inputs (vocabulary size for token input)" % X)
    o("H = %d  # hidden units" % H)
    o("Y = %d  # outputs (logits)" % Y)
    o("HEAD = %r" % model.head)
    o("INPUT = %r" % input_kind)
    o("TINYRNN_VERSION = %r" % comment_text(__version__))
    if step is not None:
        o("TRAIN_STEP = %d" % int(step))
    if loss is not None:
        o("EVAL_LOSS = %s  # metrics %s" % ("%.9g" % loss[1], comment_text(loss[0])))
    o("PARAMS = %d  # float32 weights: Wxh (H x X) | Whh (H x H) | bh (H) | Why (Y x H) | by (Y), row-major" % L.size)
    o("WEIGHTS_FNV1A64 = 0x%016x  # FNV-1a 64 over the float32 little-endian bytes below" % weights_hash(model.params))
    o("MACS_PER_STEP_TOKEN = %d  # Whh h + Why h" % macs_per_step(model, False))
    o("MACS_PER_STEP_DENSE = %d  # Wxh x + Whh h + Why h" % macs_per_step(model, True))
    o("WXH, WHH, BH, WHY, BY = %d, %d, %d, %d, %d  # offsets in WEIGHTS, in floats" % (L.Wxh, L.Whh, L.bh, L.Why, L.by))
    o("")
    o("WEIGHTS = (  # float32 little-endian, %d bytes" % len(blob))
    for k in range(0, len(blob), BYTES_PER_LINE):
        o("    %r" % blob[k : k + BYTES_PER_LINE])
    o(")")
    o(_LOAD)
    if cps is not None:
        o("# vocabulary: token id -> Unicode code point")
        o("_CODE_POINTS = (")
        for k in range(0, X, 12):
            o("    " + " ".join("%d," % c for c in cps[k : k + 12]))
        o(")")
        o(_VOCAB)
    o(_RUNTIME.replace("X_LOCALS", _locals("x", X)).replace("EXPR_X", _dot("x", X))
      .replace("S_LOCALS", _locals("s", H)).replace("EXPR_H", _dot("s", H)))
    o(_OUTPUT[model.head])
    return "\n".join(out) + "\n"


def module_from_checkpoint(ckpt: "Any", source: "Optional[str]" = None) -> str:
    """The module for a loaded ``tinyrnn.workflow.checkpoint.Checkpoint``."""
    return module(ckpt.model, ckpt.input_kind, vocab=ckpt.vocab, step=ckpt.step, metrics=ckpt.metrics, source=source)


_DOC = '''"""A vanilla tanh RNN, one time step per call (standalone: no tinyrnn needed).

    h' = tanh(Wxh x + Whh h + bh)    z = Why h' + by    y = output(z)

    import model
    model.reset()                    # h = 0
    z = model.step(token)            # or step([x0, ..., x(X-1)]); logits in model.z
    t = model.argmax(z)              # or y = model.output(z): OUTPUT
    c = model.char_of(t)             # char models: token_of(c) / char_of(t)

step(x, out) writes the logits into your own list of Y floats instead of z.
The state is the list h (H floats): copy it to save or restore a stream.
A token outside [0, X) or an input of the wrong length raises ValueError
and leaves h unchanged.
"""
'''

_LOAD = '''
# Weights are read straight out of these bytes, a row at a time (struct.unpack_from),
# so they exist once in RAM (frozen into the firmware or in ROMFS, they can stay in flash).
if len(WEIGHTS) != 4 * PARAMS:
    raise ImportError("weights: %d bytes, expected %d" % (len(WEIGHTS), 4 * PARAMS))
_FX = "<%df" % X  # a row of Wxh
_FH = "<%df" % H  # a row of Whh or Why; bh
_FY = "<%df" % Y  # by

h = [0.0] * H  # state
z = [0.0] * Y  # logits (step's default output)
y = [0.0] * Y  # outputs (output's default)
_pre = [0.0] * H  # scratch: pre-activations
'''

_VOCAB = '''
VOCAB = "".join([chr(c) for c in _CODE_POINTS])  # token id -> character
_TOKEN = {}
for _t in range(X):
    _TOKEN[VOCAB[_t]] = _t
del _CODE_POINTS, _t


def char_of(t):
    """The character of token id t (ValueError outside [0, X))."""
    if t < 0 or t >= X:
        raise ValueError("token %r is outside [0, %d)" % (t, X))
    return VOCAB[t]


def token_of(c):
    """The token id of character c, or -1 if it is not in the vocabulary."""
    return _TOKEN.get(c, -1)
'''

_RUNTIME = '''

def reset():
    """h = 0."""
    for i in range(H):
        h[i] = 0.0


def step(x, out=None):
    """One step: h <- tanh(Wxh x + Whh h + bh), out <- Why h + by; returns out (default z).

    x is a token id (int: the column x of Wxh is gathered) or a list of X floats.
    """
    w = WEIGHTS
    row = struct.unpack_from
    pre = _pre
    if isinstance(x, int):
        if x < 0 or x >= X or isinstance(x, bool):
            raise ValueError("token %r is outside [0, %d)" % (x, X))
        col = 4 * (WXH + x)
    else:
        if len(x) != X:
            raise ValueError("input has %d values, expected %d" % (len(x), X))
        col = -1
        X_LOCALS = x
        k = 4 * WXH
        for i in range(H):  # pre = Wxh x
            r = row(_FX, w, k)
            k += 4 * X
            pre[i] = (EXPR_X)
    s = h
    S_LOCALS = s
    bh = row(_FH, w, 4 * BH)
    k = 4 * WHH
    for i in range(H):  # pre += Whh h + bh (+ the gathered column)
        r = row(_FH, w, k)
        k += 4 * H
        if col < 0:
            pre[i] = (pre[i] + EXPR_H) + bh[i]
        else:
            pre[i] = ((EXPR_H) + bh[i]) + row("<f", w, col)[0]
            col += 4 * X
    tanh = math.tanh
    for i in range(H):
        s[i] = tanh(pre[i])
    S_LOCALS = s
    if out is None:
        out = z
    by = row(_FY, w, 4 * BY)
    k = 4 * WHY
    for o in range(Y):  # out = Why h + by
        r = row(_FH, w, k)
        k += 4 * H
        out[o] = (EXPR_H) + by[o]
    return out


def argmax(z=z):
    """Index of the largest logit (the first one on ties)."""
    best = 0
    m = z[0]
    for k in range(1, Y):
        if z[k] > m:
            m = z[k]
            best = k
    return best
'''

_OUTPUT = {
    "softmax": '''

def output(z=z, y=y):
    """y = softmax(z), stable (exp of z - max z); returns y."""
    exp = math.exp
    m = max(z)
    s = 0.0
    for k in range(Y):
        e = exp(z[k] - m)
        y[k] = e
        s += e
    inv = 1.0 / s
    for k in range(Y):
        y[k] *= inv
    return y
''',
    "sigmoid": '''

def output(z=z, y=y):
    """y = sigmoid(z) per output, stable for any z; returns y."""
    exp = math.exp
    for k in range(Y):
        v = z[k]
        if v >= 0.0:
            y[k] = 1.0 / (1.0 + exp(-v))
        else:
            e = exp(v)
            y[k] = e / (1.0 + e)
    return y
''',
    "mse": '''

def output(z=z, y=y):
    """y = z (linear head: the logits are the outputs); returns y."""
    for k in range(Y):
        y[k] = z[k]
    return y
''',
}
