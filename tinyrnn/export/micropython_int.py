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

GRU, LSTM and stacked models (any cell and depth): the same functions; the
state is ``h[l]`` per layer (and ``c[l]``, Q(C_SHIFT[l]), for the LSTM), with
``LAYERS``, ``CELL``; the gate activations and the cell update are inlined too.

The weights are tuples of small ints (4 bytes each in RAM on a 32-bit port,
as the float module's float32 bytes; in ROM when the .mpy is frozen).
"""

from .. import __version__
from ..core import quant as Q
from ..core.model import RNN
from . import c_cells
from .c import comment_text
from .c_int import plain
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
    flat = plain(qm)
    what = c_cells.title(model)
    o.append("# tinyrnn %s %s export of a %s for MicroPython. Generated file: do not edit." % (comment_text(__version__), qm.width, what))
    if source is not None:
        o.append("# source: %s" % comment_text(source))
    o.append("# head: %s   input: %s   X=%d H=%d Y=%d" % (model.head, "dense" if qm.dense else "token", X, H, Y))
    if step is not None:
        o.append("# training step: %d" % int(step))
    o.append('"""An integer (%s) %s, one step per call, bit-exact with tinyrnn.core.quant and the C of' % (qm.width, what))
    o.append("tinyrnn export --quant %s; the step allocates nothing (small integers only)." % qm.width)
    o.append("")
    o.append("    import model")
    o.append("    model.reset()                # h = 0 (H ints, Q15)" if flat else "    model.reset()                # h = 0: h[l] the H ints (Q15) of layer l%s" % (
        "; c[l] its cell, c / 2**C_SHIFT[l]" if qm.cell == "lstm" else ""))
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
    o.append("MACS_PER_STEP_TOKEN = %d" % c_cells.macs_per_step(model, False))
    o.append("MACS_PER_STEP_DENSE = %d" % c_cells.macs_per_step(model, True))
    o.append("")
    if not flat:
        return _gated(o, qm, model, cps)
    o += _tuple("_W", L.W, "hidden rows, H x (X + H): [Wxh | Whh]")
    o += _tuple("_B", L.b, "hidden biases")
    o += _tuple("_KX", L.kx, "hidden rows: the input part's weights are in units of 2**kx of the row's")
    o += _tuple("_R", L.r, "hidden requant shifts")
    o += _tuple("_M", L.m, "hidden requant multipliers (to Q12)")
    _output_tables(o, qm)
    o.append("")
    o.append("h = [0] * H  # state, Q15")
    o.append("z = [0] * Y  # logits")
    o.append("_hn = [0] * H  # scratch")
    _vocab(o, cps)
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


def _output_tables(o: "List[str]", qm: "Q.QModel") -> None:
    """The output rows and the tanh table (every module)."""
    O = qm.out
    o += _tuple("_WY", O.W, "output rows, Y x H")
    o += _tuple("_BY", O.b, "output biases")
    o += _tuple("_RY", O.r, "output requant shifts")
    o += _tuple("_MY", O.m, "output requant multipliers (to Q%d)" % qm.zshift)
    o += _tuple("_T", Q.TANH, "round(32768 tanh(k/32)), k = 0..256, capped at 32767")


def _vocab(o: "List[str]", cps: "Optional[List[int]]") -> None:
    if cps is not None:
        o.append("_CODE_POINTS = (")
        for k in range(0, len(cps), 12):
            o.append("    " + " ".join("%d," % c for c in cps[k : k + 12]))
        o.append(")")
        o.append(_VOCAB)


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


# ----------------------------------------------------------------- gated cells and stacked layers
# The step of Q.Gated / stacked Q.Vanilla layers, inlined as above: the input checks and the
# output rows are _STEP's own; per layer, the rows into the scratch ``a`` and the cell update.
_CHECKS = _STEP[_STEP.index("\n\ndef step(") : _STEP.index("    W = _W\n")]
_OUT_ROWS = _STEP[_STEP.index("    if out is None:") :]


def _act(dst: str, src: str, kind: str, ind: str) -> "List[str]":
    """Lines computing dst = tanh_q12(src) or sigmoid_q11(src), inline (p, q, e, t0 are temporaries)."""
    out = ["p = %s" % src, "q = -p if p < 0 else p", "if q > 32767:", "    q = 32767", "e = q >> 7", "t0 = T[e]",
           "q = t0 + (((T[e + 1] - t0) * (q & 127) + 64) >> 7)"]
    out.append("%s = -q if p < 0 else q" % dst if kind == "tanh" else "%s = (32768 + (-q if p < 0 else q)) >> 1" % dst)
    return [ind + line for line in out]


def _sat(v: str, ind: str) -> "List[str]":
    return [ind + "if %s > 32767:" % v, ind + "    %s = 32767" % v, ind + "elif %s < -32768:" % v, ind + "    %s = -32768" % v]


def _rows(tag: str, n: str, at: str, nx: int, nh: int, token: bool, P: int, kx: bool) -> "List[str]":
    """a[at + i] = requant((x part << kx) + h part) of table set ``tag``'s n rows (v: the input, s: the layer's h)."""
    o = ["    W = _W%s" % tag, "    k = 0", "    for i in range(%s):" % n]
    if nx:
        x_sum = ["d = 0", "for j in range(%d):" % nx, "    d += " + _term("W[k + j]", "v[j]", P)]
        if token:
            col = "W[k + tok] * 32768" if P == 0 else "(W[k + tok] * 32768) >> %d" % P
            o += ["        if tok >= 0:", "            d = " + col, "        else:"] + ["            " + line for line in x_sum]
        else:
            o += ["        " + line for line in x_sum]
        if kx:
            o.append("        d = d << _KX%s[i]" % tag)
        o.append("        k += %d" % nx)
    else:
        o.append("        d = 0")
    if nh:
        o += ["        for j in range(%d):" % nh, "            d += " + _term("W[k + j]", "s[j]", P), "        k += %d" % nh]
    o.append(_REQUANT.replace("RR", "_R%s[i]" % tag).replace("BB", "_B%s[i]" % tag).replace("MM", "_M%s[i]" % tag))
    o.append("        a[%s + i] = t" % at if at else "        a[i] = t")
    return o


def _gated(o: "List[str]", qm: "Q.QModel", model: RNN, cps: "Optional[List[int]]") -> str:
    """The module of a gated or stacked model (after the common constants in ``o``)."""
    H, cell, L, P = model.H, qm.cell, len(qm.layers), qm.out.P
    lstm = cell == "lstm"
    o.append("LAYERS = %d" % L)
    o.append("CELL = %r" % cell)
    if lstm:
        o.append("C_SHIFT = %r  # layer l's c = int / 2**C_SHIFT[l]" % (tuple(Lq.cs for Lq in qm.layers if isinstance(Lq, Q.Gated)),))
    o.append("")
    for l, Lq in enumerate(qm.layers):
        for tag, R, kx in [(str(l), Lq.rows, True)] + ([("NX%d" % l, Lq.nx, False), ("NH%d" % l, Lq.nh, False)]
                                                      if isinstance(Lq, Q.Gated) and Lq.nx is not None and Lq.nh is not None else []):
            if not kx and any(R.kx):
                raise ValueError("rows %s: kx must be 0" % tag)
            o += _tuple("_W" + tag, R.W, "layer %d rows %s, %d x %d" % (l, tag, R.n, R.k))
            o += _tuple("_B" + tag, R.b, "biases")
            if kx:
                o += _tuple("_KX" + tag, R.kx, "the input part's weights are in units of 2**kx of the row's")
            o += _tuple("_R" + tag, R.r, "requant shifts")
            o += _tuple("_M" + tag, R.m, "requant multipliers")
    _output_tables(o, qm)
    o.append("")
    o.append("h = [[0] * H for _ in range(LAYERS)]  # state: h[l], Q15")
    if lstm:
        o.append("c = [[0] * H for _ in range(LAYERS)]  # state: c[l], Q(C_SHIFT[l])")
    o.append("z = [0] * Y  # logits")
    o.append("_a = [0] * %d  # scratch" % (4 * H))
    _vocab(o, cps)
    o.append("")
    o.append("")
    o.append("def reset():")
    o.append('    """h = 0%s."""' % (" and c = 0" if lstm else ""))
    o.append("    for l in range(LAYERS):")
    o.append("        for i in range(H):")
    o.append("            h[l][i] = 0")
    if lstm:
        o.append("            c[l][i] = 0")
    step = [_CHECKS.replace("One integer step;", "One integer step of every layer;").strip("\n")]
    step += ["    T = _T", "    a = _a"]
    for l, Lq in enumerate(qm.layers):
        Xl = Lq.X
        step += ["    # layer %d" % l, "    s = h[%d]" % l, "    v = x" if l == 0 else "    v = h[%d]" % (l - 1)]
        token = l == 0 and not qm.dense
        G = {"rnn": 1, "gru": 2, "lstm": 4}[cell]
        step += _rows(str(l), "%d" % (G * H), "", Xl, H, token, P, True)
        if cell == "gru":
            step += _rows("NX%d" % l, "H", "%d" % (2 * H), Xl, 0, token, P, False)
            step += _rows("NH%d" % l, "H", "%d" % (3 * H), 0, H, False, P, False)
        step.append("    for j in range(H):")
        ind = "        "
        if cell == "rnn":
            step += _act("s[j]", "a[j]", "tanh", ind)
        elif cell == "gru":
            step += _act("r", "a[j]", "sigmoid", ind)
            step += [ind + "n = a[%d + j] + ((r * a[%d + j] + 16384) >> 15)" % (2 * H, 3 * H)] + _sat("n", ind)
            step += _act("n", "n", "tanh", ind)
            step += _act("zg", "a[%d + j]" % H, "sigmoid", ind)
            step += [ind + "n = ((zg * s[j] + 16384) >> 15) + (((32767 - zg) * n + 16384) >> 15)"] + _sat("n", ind)
            step += [ind + "s[j] = n"]
        else:
            assert isinstance(Lq, Q.Gated)
            cs = Lq.cs
            step += _act("ig", "a[j]", "sigmoid", ind) + _act("g", "a[%d + j]" % (2 * H), "tanh", ind)
            step += _act("f", "a[%d + j]" % H, "sigmoid", ind)
            step += [ind + "n = ((f * c[%d][j] + 16384) >> 15) + ((((ig * g + 16384) >> 15) + %d) >> %d)" % (l, 1 << (14 - cs), 15 - cs)]
            step += _sat("n", ind) + [ind + "c[%d][j] = n" % l]
            if cs >= 12:
                step.append(ind + "n = n >> %d" % (cs - 12))
            else:
                step += [ind + "n = n << %d" % (12 - cs)] + _sat("n", ind)
            step += _act("g", "n", "tanh", ind) + _act("f", "a[%d + j]" % (3 * H), "sigmoid", ind)
            step += [ind + "s[j] = (f * g + 16384) >> 15"]
    step.append("    s = h[%d]" % (L - 1))
    step.append(
        _OUT_ROWS.replace("TERM_H", _term("W[k + j]", "s[j]", P))
        .replace("REQUANT_OUTPUT", _REQUANT.replace("RR", "_RY[o]").replace("BB", "_BY[o]").replace("MM", "_MY[o]"))
        .rstrip("\n")
    )
    o.append("")
    o.append("")
    o += step
    o.append(_ARGMAX)
    o.append(_OUTPUT[model.head])
    return "\n".join(o) + "\n"
