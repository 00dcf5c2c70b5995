"""Post-training quantisation: calibration, float model -> integer model, and its quality.

``calibrate`` runs the float model over data and records the ranges the
integer formats need (``max |x|`` of dense inputs, ``max |z|`` of the
logits); ``quantize`` turns a float model and
a calibration into a ``tinyrnn.core.quant.QModel`` whose step is what the C
of ``tinyrnn export --quant`` computes, bit for bit. The scheme and its error
bounds: docs/export.md ("Integer export").
"""

import math

from ..core import quant as Q
from ..core.heads import softmax_row, forward as head_forward
from ..core.model import RNN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

WIDTHS = {"int8": (127, 0), "int16": (32767, 8)}  # weight limit, product shift P
MAX_CALIBRATION_STEPS = 200000


class QuantError(ValueError):
    """The model cannot be quantised as asked; the message says why."""


def _floor(v: float) -> int:
    return int(math.floor(v))


def _round(v: float) -> int:
    """Nearest integer, halves away from zero (not Python's banker's rounding)."""
    return _floor(v + 0.5) if v >= 0 else -_floor(-v + 0.5)


def requant_params(f: float, what: str) -> "Tuple[int, int]":
    """(r, m) with requant ~= d * f: the smallest r >= 0 that puts m = round(f * 2**(14 + r)) in [2**14, 2**15)."""
    if not f > 0.0:
        raise QuantError("%s: scale %r is not positive" % (what, f))
    r = 0
    while f * 2.0 ** (Q.MUL_SHIFT + r) < 16383.5:
        r += 1
    m = _round(f * 2.0 ** (Q.MUL_SHIFT + r))
    if m >= Q.M_LIMIT:
        raise QuantError("%s: weights too large for the integer formats (one accumulator unit is %g output units)" % (what, f))
    if r >= Q.R_LIMIT:
        raise QuantError("%s: weights too small for the integer formats (one accumulator unit is %g output units)" % (what, f))
    return r, m


def quantize_rows(
    rows: "List[List[float]]", bias: "List[float]", vmax: "List[int]", width: str, out_bits: int, what: str, gather: int = 0,
    split: int = 0,
) -> "Q.Rows":
    """Integer rows over inputs in Q15 units (real value = v / 32768): weights, biases, requant to Q(out_bits).

    ``vmax[j]``: the largest |v_j| (32767 for a state, 32768 for a one-hot
    or an int16 input); used to prove every accumulator stays below 2**30.
    The first ``gather`` columns are a one-hot input: one of them per step.
    The first ``split`` columns (the input part) get their own scale,
    ``2**kx`` times the rest's, so large input weights do not coarsen the
    recurrent ones -- unless the sum's bound needs it (see ``boost``).
    """
    qmax, P = WIDTHS[width]
    n, width_k = len(rows), len(rows[0]) if rows else 0
    W = []  # type: List[int]
    b, r, m, kx = [], [], [], []  # type: Tuple[List[int], List[int], List[int], List[int]]
    for i, row in enumerate(rows):
        mx = max([abs(v) for v in row[:split]] + [0.0])
        big = max([abs(v) for v in row[split:]] + [0.0])
        if big == 0.0:
            big = mx
        k0 = 0
        while mx > big * 2.0 ** k0 and k0 < 15:
            k0 += 1
        # boost: a row whose input part is 2**k0 times larger than its recurrent part may overflow the
        # 2**30 bound in units of the recurrent weights' step; then the row's step doubles (recurrent
        # weights coarser), at most k0 times (one scale for the whole row) before it is refused
        for boost in range(k0 + 1):
            s = big * 2.0 ** boost / qmax if big > 0.0 else 2.0 ** -20
            k = 0
            while mx > big * 2.0 ** (boost + k) and k < 15:
                k += 1
            sx = s * 2.0 ** k
            wq = [max(-qmax, min(qmax, _round(v / sx))) for v in row[:split]] + [max(-qmax, min(qmax, _round(v / s))) for v in row[split:]]
            unit = s * 2.0 ** (P - 15)  # real value of one unit of d
            ri, mi = requant_params(unit * 2.0 ** out_bits, "%s row %d" % (what, i))
            # the bias in units of 2**r of d, plus half a unit for the floor of d >> r
            bi = _round(bias[i] / (unit * 2.0 ** ri) + (0.5 if ri else 0.0))
            if not -32768 <= bi <= Q.Q15_MAX:
                raise QuantError("%s row %d: bias %g is too large for its row's weights (%d does not fit an int16)" % (what, i, bias[i], bi))
            terms = [-((-abs(w) * vmax[j]) >> P) << (k if j < split else 0) for j, w in enumerate(wq)]  # ceil(|w| v / 2**P), scaled
            bound = max(terms[:gather] + [0]) + sum(terms[gather:])
            if bound < Q.ACC_LIMIT:
                break
            if boost == k0:
                raise QuantError("%s row %d: the sum could reach %d, beyond 2**30 (too many inputs)" % (what, i, bound))
        W += wq
        b.append(bi)
        r.append(ri)
        m.append(mi)
        kx.append(k)
    return Q.Rows(n, width_k, P, W, b, r, m, kx)


def shift_for(absmax: float, cap: int) -> int:
    """The largest s <= cap with absmax * 2**s <= 32767 / 2 (headroom x2), at least 0."""
    s = cap
    while s > 0 and absmax * 2.0 ** s > 16383.5:
        s -= 1
    return s


def quantize(model: RNN, input_kind: str, width: str, calibration: "Dict[str, Any]") -> "Q.QModel":
    """The integer model of ``model`` (any cell and depth) for ``width`` 'int8' or 'int16'."""
    if width not in WIDTHS:
        raise QuantError("--quant must be int8 or int16, got %r" % (width,))
    X, H, Y, L, P = model.X, model.H, model.Y, model.layout, model.params
    dense = input_kind == "dense"
    if dense:
        xmax = calibration.get("x_absmax")
        if not isinstance(xmax, (int, float)) or isinstance(xmax, bool) or not math.isfinite(xmax):
            raise QuantError("dense inputs need a calibration with x_absmax (tinyrnn calibrate CKPT FILE)")
        xshift = shift_for(float(xmax), 15) if xmax > 0 else 15
        xshift = min(15, xshift + 1)  # no headroom for inputs: the largest seen fits int16, larger ones saturate
    else:
        xshift = 15
    zmax = calibration.get("z_absmax")
    if not isinstance(zmax, (int, float)) or isinstance(zmax, bool) or not math.isfinite(zmax):
        raise QuantError("the calibration has no z_absmax")
    zshift = shift_for(float(zmax), 14)
    layers = [quantize_layer(model, l, dense, xshift, width, calibration) for l in range(model.layers)]
    why = [P[L.Why + k * H : L.Why + (k + 1) * H] for k in range(Y)]
    while True:  # a coarser logit format if the weights are too large for this one
        try:
            out = quantize_rows(why, P[L.by : L.by + Y], [Q.Q15_MAX] * H, width, zshift, "output layer")
            break
        except QuantError:
            if zshift == 0:
                raise
            zshift -= 1
    return Q.QModel(width, X, Y, dense, layers, out, zshift, xshift)


def merge_rows(parts: "Sequence[Q.Rows]") -> "Q.Rows":
    """Row sets over the same inputs, one after the other (gate blocks with different output formats)."""
    R = Q.Rows(0, parts[0].k, parts[0].P, [], [], [], [], [])
    for p in parts:
        R.n += p.n
        R.W += p.W
        R.b += p.b
        R.r += p.r
        R.m += p.m
        R.kx += p.kx
    return R


def quantize_layer(model: RNN, l: int, dense: bool, xshift: int, width: str, calibration: "Dict[str, Any]") -> "Any":
    """Layer l as Q.Vanilla or Q.Gated: its rows over [x_l | h] with x_l the input (l = 0) or layer l-1's h."""
    H, P, cell = model.H, model.params, model.cell
    wx, wh, bx, bh, Xl = model.layout.layer[l]
    gather = Xl if l == 0 and not dense else 0
    scale = 2.0 ** (15 - xshift) if l == 0 else 1.0  # weight on an input unit, in Q15 units
    vx = [32768 if l == 0 else Q.Q15_MAX] * Xl
    what = "layer %d" % l if model.layers > 1 else "hidden layer"

    def wrow(i: int) -> "List[float]":
        return [v * scale for v in P[wx + i * Xl : wx + (i + 1) * Xl]]

    def hrow(i: int) -> "List[float]":
        return P[wh + i * H : wh + (i + 1) * H]

    def bias(i: int) -> float:
        return P[bh + i] + (P[bx + i] if bx >= 0 else 0.0)

    def block(g: int, out_bits: int) -> "Q.Rows":
        rows = [wrow(i) + hrow(i) for i in range(g * H, (g + 1) * H)]
        return quantize_rows(rows, [bias(i) for i in range(g * H, (g + 1) * H)], vx + [Q.Q15_MAX] * H, width, out_bits,
                             what if cell == "rnn" else "%s %s" % (what, GATE_NAMES[cell][g]), gather, Xl)

    if cell == "rnn":
        return Q.Vanilla(Xl, H, dense or l > 0, block(0, 12))
    if cell == "lstm":
        cmax = layer_calibration(calibration, l, "c_absmax")
        cs = shift_for(cmax, 14) if cmax > 0 else 14
        return Q.Gated(cell, Xl, H, dense or l > 0, merge_rows([block(0, 11), block(1, 11), block(2, 12), block(3, 11)]), cs=cs)
    n = range(2 * H, 3 * H)
    nx = quantize_rows([wrow(i) for i in n], [P[bx + i] for i in n], vx, width, 12, what + " n (input part)", gather)
    nh = quantize_rows([hrow(i) for i in n], [P[bh + i] for i in n], [Q.Q15_MAX] * H, width, 12, what + " n (hidden part)")
    return Q.Gated(cell, Xl, H, dense or l > 0, merge_rows([block(0, 11), block(1, 11)]), nx, nh)


GATE_NAMES = {"rnn": ("tanh",), "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}


def layer_calibration(calibration: "Dict[str, Any]", l: int, key: str) -> float:
    """calibration['layers'][l][key] (a finite number >= 0), or QuantError saying how to get it."""
    layers = calibration.get("layers")
    v = layers[l].get(key) if isinstance(layers, list) and l < len(layers) and isinstance(layers[l], dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise QuantError("the calibration has no %s for layer %d (a calibration from before gated cells?): run tinyrnn calibrate CKPT FILE" % (key, l))
    return float(v)


# ----------------------------------------------------------------- calibration
def calibrate(model: RNN, sequences: "Sequence[Sequence[Any]]", source: str, carry: bool) -> "Dict[str, Any]":
    """Ranges seen when the float model runs over ``sequences`` (token ids or dense vectors).

    ``carry``: the state runs on from one sequence to the next (text), else
    every sequence starts from h = 0. At most MAX_CALIBRATION_STEPS steps.
    Gated or stacked models also get ``layers``: per layer the largest
    |pre-activation| of each gate block (``gate_absmax``; gru also the input
    and hidden parts of n, ``nx_absmax`` and ``nh_absmax``) and, for lstm,
    the largest |c| (``c_absmax``: it sets c's fixed-point format).
    """
    h = model.new_state()
    z = [0.0] * model.Y
    xmax = zmax = 0.0
    dense = False
    steps = 0
    ranges = None if model.vanilla else _Ranges(model)
    for seq in sequences:
        if not carry:
            h = model.new_state()
        for x in seq:
            if steps >= MAX_CALIBRATION_STEPS:
                break
            before = list(h) if ranges is not None else h
            model.step(h, x, z)
            if ranges is not None:
                ranges.see(before, h, x)
            if not isinstance(x, int):
                dense = True
                xmax = max(xmax, max([abs(float(v)) for v in x]))
            zmax = max(zmax, max([abs(v) for v in z]))
            steps += 1
    if steps == 0:
        raise QuantError("%s: no steps to calibrate on" % source)
    out = {"x_absmax": xmax if dense else None, "z_absmax": zmax, "steps": steps, "source": source}  # type: Dict[str, Any]
    if ranges is not None:
        out["layers"] = ranges.layers
    return out


class _Ranges:
    """The pre-activation ranges of a gated or stacked float model, from its state before and after a step."""

    def __init__(self, model: RNN) -> None:
        self.m = model
        H, G, P = model.H, model.layout.gates, model.params
        self.rows = []  # type: List[Tuple[List[List[float]], List[List[float]], List[float], List[float]]]
        for wx, wh, bx, bh, Xl in model.layout.layer:
            self.rows.append((
                [P[wx + i * Xl : wx + (i + 1) * Xl] for i in range(G * H)],
                [P[wh + i * H : wh + (i + 1) * H] for i in range(G * H)],
                P[bx : bx + G * H] if bx >= 0 else [0.0] * (G * H),
                P[bh : bh + G * H],
            ))
        self.layers = [{"gate_absmax": [0.0] * G} for _ in range(model.layers)]  # type: List[Dict[str, Any]]
        for d in self.layers:
            if model.cell == "lstm":
                d["c_absmax"] = 0.0
            if model.cell == "gru":
                d["nx_absmax"] = d["nh_absmax"] = 0.0

    def see(self, before: "Sequence[float]", after: "Sequence[float]", x: "Any") -> None:
        import operator

        m, H, L = self.m, self.m.H, self.m.layers
        G = m.layout.gates
        for l, (Wx, Wh, bx, bh) in enumerate(self.rows):
            h = before[l * H : (l + 1) * H]
            v = x if l == 0 else after[(l - 1) * H : l * H]
            ax = [(Wx[i][x] if isinstance(v, int) else sum(map(operator.mul, Wx[i], v))) + bx[i] for i in range(G * H)]
            ah = [sum(map(operator.mul, Wh[i], h)) + bh[i] for i in range(G * H)]
            d = self.layers[l]
            g = d["gate_absmax"]
            for k in range(G):
                if m.cell == "gru" and k == 2:  # n = tanh(ax_n + r * ah_n)
                    pre = [ax[i] + _sigmoid(ax[i - 2 * H] + ah[i - 2 * H]) * ah[i] for i in range(2 * H, 3 * H)]
                    d["nx_absmax"] = max([d["nx_absmax"]] + [abs(ax[i]) for i in range(2 * H, 3 * H)])
                    d["nh_absmax"] = max([d["nh_absmax"]] + [abs(ah[i]) for i in range(2 * H, 3 * H)])
                else:
                    pre = [ax[i] + ah[i] for i in range(k * H, (k + 1) * H)]
                g[k] = max([g[k]] + [abs(p) for p in pre])
            if m.cell == "lstm":
                d["c_absmax"] = max([d["c_absmax"]] + [abs(c) for c in after[(L + l) * H : (L + l + 1) * H]])


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def check_calibration(d: "Any", where: str) -> "Dict[str, Any]":
    """A stored calibration as a dict, or QuantError naming the field."""
    if not isinstance(d, dict):
        raise QuantError("%s must be an object" % where)
    v = d.get("z_absmax")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise QuantError("%s.z_absmax must be a finite number >= 0, got %r" % (where, v))
    v = d.get("x_absmax")
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0):
        raise QuantError("%s.x_absmax must be a finite number >= 0 or null, got %r" % (where, v))
    layers = d.get("layers")
    if layers is not None:
        if not isinstance(layers, list) or not all(isinstance(e, dict) for e in layers):
            raise QuantError("%s.layers must be a list of objects" % where)
        for l, e in enumerate(layers):
            for key, v in e.items():
                for u in v if isinstance(v, list) else [v]:
                    if isinstance(u, bool) or not isinstance(u, (int, float)) or not math.isfinite(u) or u < 0:
                        raise QuantError("%s.layers[%d].%s must be finite numbers >= 0, got %r" % (where, l, key, v))
    return d


# ----------------------------------------------------------------- quality
def dense_input(qm: "Q.QModel", x: "Sequence[float]") -> "List[int]":
    """x_q = round(x * 2**xshift), saturated to int16 (the caller's conversion, as documented for C)."""
    s = 2.0 ** qm.xshift
    return [max(-32768, min(Q.Q15_MAX, _round(float(v) * s))) for v in x]


def logits(qm: "Q.QModel", z: "Sequence[int]") -> "List[float]":
    """The real logits of integer logits: z / 2**zshift."""
    s = 2.0 ** -qm.zshift
    return [v * s for v in z]


def text_loss(qm: "Q.QModel", ids: "Sequence[int]") -> float:
    """Mean cross-entropy (nats) of next-token prediction over ``ids``, state carried from h = 0."""
    state = qm.new_state()
    z = [0] * qm.Y
    p = [0.0] * qm.Y
    total = 0.0
    for t in range(len(ids) - 1):
        qm.step(state, ids[t], z)
        zf = logits(qm, z)
        total += softmax_row(zf, p, 0, qm.Y) - zf[ids[t + 1]]
    return total / (len(ids) - 1)


def sequence_quality(qm: "Q.QModel", head: str, examples: "Sequence[Any]") -> "Dict[str, Any]":
    """Mean loss per target and accuracy (softmax: argmax; sigmoid: per output at 0.5) over sequence examples."""
    Y = qm.Y
    total, count, right, judged = 0.0, 0, 0, 0
    zbuf = [0] * Y
    p = [0.0] * Y
    for ex in examples:
        state = qm.new_state()
        n = len(ex.xs)
        for t in range(n):
            x = ex.xs[t]
            qm.step(state, x if isinstance(x, int) else dense_input(qm, x), zbuf)
            if ex.last_only and t != n - 1:
                continue
            tgt = ex.targets[0] if ex.last_only else ex.targets[t]
            zf = logits(qm, zbuf)
            if head == "softmax":
                total += head_forward(head, zf, p, 1, Y, [tgt], [0.0] * Y, [1.0])
                right += int(Q.argmax(zbuf) == tgt)
                judged += 1
            else:
                vec = [float(tgt)] if isinstance(tgt, (int, float)) else [float(v) for v in tgt]
                total += head_forward(head, zf, p, 1, Y, [0], vec, [1.0])
                if head == "sigmoid":
                    for k in range(Y):
                        right += int((zf[k] > 0.0) == (vec[k] >= 0.5))
                        judged += 1
            count += 1
    out = {"eval_loss": total / max(1, count)}  # type: Dict[str, Any]
    if judged:
        out["eval_acc"] = right / judged
    return out


class FloatLogits:
    """An integer model with the float model's stepping interface (for workflow.sample):
    ``step(state, token, z)`` runs the integer step and writes z / 2**zshift into z
    -- exact (a power-of-two scale), so argmax and draw() see the integer logits."""

    head = "softmax"

    def __init__(self, qm: "Q.QModel") -> None:
        self.qm = qm
        self.Y = qm.Y
        self._z = [0] * qm.Y

    def new_state(self) -> "List[List[int]]":
        return self.qm.new_state()

    def step(self, state: "List[List[int]]", x: int, z: "List[float]") -> None:
        self.qm.step(state, x, self._z)
        z[0 : self.Y] = logits(self.qm, self._z)


# ----------------------------------------------------------------- checkpoints
def bundled_corpus() -> str:
    """The corpus `tinyrnn train` uses without a FILE."""
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "shakespeare.txt")


def calibrate_file(ckpt: "Any", path: str, read: "Optional[Callable[[str], List[Any]]]" = None) -> "Dict[str, Any]":
    """Calibrate ``ckpt``'s model on a text file (char models) or on the sequences ``read(path)`` returns."""
    import os

    from .datasets import Vocab, is_sequence_file, read_sequences, read_text

    m = ckpt.model
    if ckpt.vocab is not None and not is_sequence_file(path):
        ids = Vocab(ckpt.vocab).encode(read_text(path), path)
        return calibrate(m, [ids], os.path.basename(path), True)
    if ckpt.vocab is not None:
        raise QuantError("%s is a sequence file but the checkpoint is a character model" % path)
    if read is not None:
        return calibrate(m, read(path), os.path.basename(path), False)
    ds = read_sequences(path, m.X if ckpt.input_kind == "token" else None)
    if ds.input_kind != ckpt.input_kind or ds.X != m.X:
        raise QuantError("%s: %s inputs of %d values, the model takes %s inputs of %d" % (path, ds.input_kind, ds.X, ckpt.input_kind, m.X))
    return calibrate(m, [e.xs for e in ds.examples], os.path.basename(path), False)


def calibration_of(ckpt: "Any", path: "Optional[str]" = None, read: "Optional[Callable[[str], List[Any]]]" = None) -> "Tuple[Dict[str, Any], str]":
    """(calibration, where it came from): ``path`` if given, else the checkpoint's stored one, else its training data."""
    if path is not None:
        return calibrate_file(ckpt, path, read), "calibrated on %s" % path
    stored = ckpt.export.get("calibration") if isinstance(ckpt.export, dict) else None
    if stored is not None:
        return check_calibration(stored, "field 'export.calibration'"), "stored calibration"
    data = ckpt.config.get("data") if isinstance(ckpt.config, dict) else None
    if data is None and ckpt.vocab is not None:
        data = bundled_corpus()
    if not isinstance(data, str):
        raise QuantError("no calibration: the checkpoint stores none and names no training data; run tinyrnn calibrate CKPT FILE")
    try:
        return calibrate_file(ckpt, data, read), "calibrated on the training data %s" % data
    except OSError as e:
        raise QuantError("no calibration: the training data %s cannot be read (%s); run tinyrnn calibrate CKPT FILE" % (data, e.strerror or e))


def quantize_checkpoint(
    ckpt: "Any", width: str, path: "Optional[str]" = None, read: "Optional[Callable[[str], List[Any]]]" = None
) -> "Tuple[Q.QModel, Dict[str, Any], str]":
    """The integer model of a checkpoint, its calibration and where that came from (``read``: see calibrate_file)."""
    cal, where = calibration_of(ckpt, path, read)
    return quantize(ckpt.model, ckpt.input_kind, width, cal), cal, where
