"""Export the integer model as one standalone MicroPython module (``--format micropython --quant``).

The step is ``tinyrnn.core.quant``'s, written out with the tables as module
constants and the activation and requantisation inlined, so a step calls no
function and builds no object: every intermediate is a small integer. On a
32-bit port small integers hold 31 bits (-2**30 .. 2**30 - 1), and every
value of the step stays inside that: a product is at most 32767 * 32767
(int16 weights) or 127 * 32767, the one-hot term 32767 * 32768, a row sum is
proven below 2**30 at quantisation, the requant product below 2**30. So the
step allocates nothing after the first call (measured with gc.mem_alloc
under the WebAssembly port: tests/test_quant_micropython.py)::

    X, H, Y, HEAD, INPUT, QUANT      dimensions, head, "token"/"dense", "int8"/"int16"
    Z_SHIFT, X_SHIFT                 logits are z / 2**Z_SHIFT; dense x_q = round(x * 2**X_SHIFT)
    h                                the state: H ints, Q15
    z                                the logits: Y ints (step's default output)
    reset(), step(x, out=None) -> out, argmax(z=z), output(z=z, y=None) -> y (floats)
    VOCAB, char_of(t), token_of(c)   char models

The weights are tuples of small ints (4 bytes each in RAM on a 32-bit port,
as the float module's float32 bytes; in ROM when the .mpy is frozen).
"""

from .. import __version__
from ..core import quant as Q
from ..core.model import RNN
from .c import comment_text
from .micropython import _RUNTIME as _FLOAT_RUNTIME, _VOCAB, _code_points

_ARGMAX = "\n\n" + _FLOAT_RUNTIME[_FLOAT_RUNTIME.index("def argmax(") :].rstrip() + "\n"  # the same argmax as the float module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence


def _tuple(name: str, values: "Sequence[int]", comment: str) -> "List[str]":
    out = ["%s = (  # %s" % (name, comment)]
    for k in range(0, len(values), 16):
        out.append("    " + " ".join("%d," % v for v in values[k : k + 16]))
    out.append(")")
    return out


def _term(w: str, v: str, P: int) -> str:
    return "%s * %s" % (w, v) if P == 0 else "((%s * %s) >> %d)" % (w, v, P)


def module(
    qm: "Q.QModel", model: RNN, vocab: "Optional[Sequence[str]]" = None, step: "Optional[int]" = None, source: "Optional[str]" = None
) -> str:
    """The integer MicroPython module of ``qm`` (quantised from ``model``)."""
    X, H, Y = model.X, model.H, model.Y
    L, O = qm.layers[0].rows, qm.out
    P = L.P
    cps = _code_points(vocab, X) if vocab is not None else None
    o = []  # type: List[str]
    o.append("# tinyrnn %s %s export of a vanilla tanh RNN for MicroPython. Generated file: do not edit." % (comment_text(__version__), qm.width))
    if source is not None:
        o.append("# source: %s" % comment_text(source))
    o.append("# head: %s   input: %s   X=%d H=%d Y=%d" % (model.head, "dense" if qm.dense else "token", X, H, Y))
    if step is not None:
        o.append("# training step: %d" % int(step))
    o.append('"""An integer (%s) vanilla tanh RNN, one step per call, bit-exact with tinyrnn.core.quant and the C of' % qm.width)
    o.append("tinyrnn export --quant %s; the step allocates nothing (small integers only)." % qm.width)
    o.append("")
    o.append("    import model")
    o.append("    model.reset()                # h = 0 (H ints, Q15)")
    o.append("    z = model.step(token)        # or step([x0, ...]) with x_q = round(x * 2**X_SHIFT); logits z / 2**Z_SHIFT")
    o.append("    t = model.argmax(z)          # or model.output(z): floats")
    o.append('"""')
    o.append("import math")
    o.append("")
    o.append("X = %d" % X)
    o.append("H = %d" % H)
    o.append("Y = %d" % Y)
    o.append("HEAD = %r" % model.head)
    o.append("INPUT = %r" % ("dense" if qm.dense else "token"))
    o.append("QUANT = %r" % qm.width)
    o.append("Z_SHIFT = %d  # logit = z / 2**Z_SHIFT" % qm.zshift)
    o.append("X_SHIFT = %d  # dense input: x_q = round(x * 2**X_SHIFT), int16" % qm.xshift)
    o.append("TINYRNN_VERSION = %r" % comment_text(__version__))
    if step is not None:
        o.append("TRAIN_STEP = %d" % int(step))
    o.append("MACS_PER_STEP_TOKEN = %d" % (H * H + Y * H))
    o.append("MACS_PER_STEP_DENSE = %d" % (H * X + H * H + Y * H))
    o.append("")
    o += _tuple("_W", L.W, "hidden rows, H x (X + H): [Wxh | Whh]")
    o += _tuple("_B", L.b, "hidden biases")
    o += _tuple("_KX", L.kx, "hidden rows: the input part's weights are in units of 2**kx of the row's")
    o += _tuple("_R", L.r, "hidden requant shifts")
    o += _tuple("_M", L.m, "hidden requant multipliers (to Q12)")
    o += _tuple("_WY", O.W, "output rows, Y x H")
    o += _tuple("_BY", O.b, "output biases")
    o += _tuple("_RY", O.r, "output requant shifts")
    o += _tuple("_MY", O.m, "output requant multipliers (to Q%d)" % qm.zshift)
    o += _tuple("_T", Q.TANH, "round(32768 tanh(k/32)), k = 0..256, capped at 32767")
    o.append("")
    o.append("h = [0] * H  # state, Q15")
    o.append("z = [0] * Y  # logits")
    o.append("_hn = [0] * H  # scratch")
    if cps is not None:
        o.append("_CODE_POINTS = (")
        for k in range(0, X, 12):
            o.append("    " + " ".join("%d," % c for c in cps[k : k + 12]))
        o.append(")")
        o.append(_VOCAB)
    col = "_W[k + tok] * 32768" if P == 0 else "(_W[k + tok] * 32768) >> %d" % P
    o.append(
        _STEP.replace("COLUMN", col)
        .replace("TERM_X", _term("W[k + j]", "x[j]", P))
        .replace("TERM_H", _term("W[k + j]", "s[j]", P))
        .replace("REQUANT_HIDDEN", _REQUANT.replace("RR", "_R[i]").replace("BB", "_B[i]").replace("MM", "_M[i]"))
        .replace("REQUANT_OUTPUT", _REQUANT.replace("RR", "_RY[o]").replace("BB", "_BY[o]").replace("MM", "_MY[o]"))
    )
    o.append(_ARGMAX)
    o.append(_OUTPUT[model.head])
    return "\n".join(o) + "\n"


_STEP = '''

def reset():
    """h = 0."""
    for i in range(H):
        h[i] = 0


def step(x, out=None):
    """One integer step; x a token id or X ints (x_q = round(x * 2**X_SHIFT)); out (default z) <- Y logits."""
    if isinstance(x, int):
        if isinstance(x, bool) or x < 0 or x >= X:
            raise ValueError("token %r is outside [0, %d)" % (x, X))
        tok = x
    else:
        if len(x) != X:
            raise ValueError("input has %d values, expected %d" % (len(x), X))
        for j in range(X):
            v = x[j]
            if not isinstance(v, int) or v < -32768 or v > 32767:
                raise ValueError("input[%d] = %r is not an int16" % (j, v))
        tok = -1
    W = _W
    T = _T
    s = h
    hn = _hn
    k = 0
    for i in range(H):
        if tok >= 0:
            d = COLUMN
        else:
            d = 0
            for j in range(X):
                d += TERM_X
        d = d << _KX[i]
        k += X
        for j in range(H):
            d += TERM_H
        k += H
REQUANT_HIDDEN
        a = -t if t < 0 else t
        if a > 32767:
            a = 32767
        q = a >> 7
        t0 = T[q]
        a = t0 + (((T[q + 1] - t0) * (a & 127) + 64) >> 7)
        hn[i] = -a if t < 0 else a
    for i in range(H):
        s[i] = hn[i]
    if out is None:
        out = z
    W = _WY
    k = 0
    for o in range(Y):
        d = 0
        for j in range(H):
            d += TERM_H
        k += H
REQUANT_OUTPUT
        out[o] = t
    return out

'''

# requant, written inline (a call would be the only thing the step allocates for)
_REQUANT = """\
        t = (d >> RR) + BB
        if t > 32767:
            t = 32767
        elif t < -32768:
            t = -32768
        t = (t * MM + 8192) >> 14
        if t > 32767:
            t = 32767
        elif t < -32768:
            t = -32768"""

_OUTPUT = {
    "softmax": '''

def output(z=z, y=None):
    """Floats: softmax(z / 2**Z_SHIFT) (stable); returns y (a new list unless given)."""
    if y is None:
        y = [0.0] * Y
    m = max(z)
    s = 0.0
    for k in range(Y):
        e = math.exp((z[k] - m) / (1 << Z_SHIFT))
        y[k] = e
        s += e
    for k in range(Y):
        y[k] /= s
    return y
''',
    "sigmoid": '''

def output(z=z, y=None):
    """Floats: sigmoid(z / 2**Z_SHIFT) per output (stable); returns y."""
    if y is None:
        y = [0.0] * Y
    for k in range(Y):
        v = z[k] / (1 << Z_SHIFT)
        if v >= 0.0:
            y[k] = 1.0 / (1.0 + math.exp(-v))
        else:
            e = math.exp(v)
            y[k] = e / (1.0 + e)
    return y
''',
    "mse": '''

def output(z=z, y=None):
    """Floats: z / 2**Z_SHIFT; returns y."""
    if y is None:
        y = [0.0] * Y
    for k in range(Y):
        y[k] = z[k] / (1 << Z_SHIFT)
    return y
''',
}
