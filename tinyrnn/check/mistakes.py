"""The known BPTT mistakes, each as a way to recompute the gradients *with* it.

``bptt(dump, opts)`` is a plain-loop forward + BPTT over a dump with
switches for the mistakes (with none on it equals ``tinyrnn.core``, tested to
1e-12); ``MISTAKES`` lists them as ``Hypothesis`` objects: a key, what the
mistake means, the fix, the heads it applies to, and ``run(dump)`` giving the
gradients (and loss) a program with that mistake would dump. The list comes
from the review of a hand-written C RNN quoted in docs/checking.md.
"""

import math

from ..core.model import RNN
from ..core.optim import clip_elementwise, clip_global_norm
from .dump import GRADS, Dump

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple


# ----------------------------------------------------------------- the math
def _softmax(z: "List[float]") -> "Tuple[List[float], float]":
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e], m + math.log(s)


def _sigmoid(z: float) -> float:
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _bce(z: float, y: float) -> float:
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))


def bptt(d: Dump, opts: "Optional[Dict[str, Any]]" = None, dh_next0: "Optional[List[float]]" = None) -> "Dict[str, Any]":
    """Loss and gradients of the dumped sequence, with the mistakes in ``opts`` switched on.

    opts keys (all optional):
      ``logits``: "z" (right) | "exp" (the forward stores exp(z) as the logits: p = softmax(exp z))
      ``dz``: "p-y" (right) | "z-y" (logits used as probabilities) | "y-p" (sign) |
              "p" (onehot never subtracted) | "expz-y" (unnormalised exp(z))
      ``tanh``: "1-h2" (right) | "none" (missing tanh derivative) | "1-h" (square forgotten)
      ``whh_h``: "prev" (right: h[t]) | "cur" (h[t+1])
      ``why_h``: "cur" (right: h[t+1]) | "prev" (h[t])
    ``dh_next0``: the dh_next the backward starts from (None: zeros, right).
    Returns {"loss", "grads" (flat, tinyrnn layout), "dh0" (the dh_next left at the end)}.
    """
    o = opts or {}
    X, H, Y, n = d.X, d.H, d.Y, d.n
    W = d.weights
    Wxh, Whh, bh, Why, by = W["Wxh"], W["Whh"], W["bh"], W["Why"], W["by"]
    dense = d.input == "dense"
    h = [list(d.h0) if d.h0 is not None else [0.0] * H]
    zs, ps = [], []  # type: List[List[float]], List[List[float]]
    loss = 0.0
    for t in range(n):
        x = d.xs[t]
        hp = h[t]
        pre = []
        for i in range(H):
            acc = bh[i] + sum(Whh[i * H + j] * hp[j] for j in range(H))
            acc += sum(Wxh[i * X + j] * x[j] for j in range(X)) if dense else Wxh[i * X + x]
            pre.append(acc)
        ht = [math.tanh(a) for a in pre]
        h.append(ht)
        z = [by[k] + sum(Why[k * H + j] * ht[j] for j in range(H)) for k in range(Y)]
        if o.get("logits") == "exp":
            z = [math.exp(min(v, 700.0)) for v in z]
        zs.append(z)
        if d.head == "softmax":
            p, lse = _softmax(z)
            loss += lse - z[d.ys[t]]
        elif d.head == "sigmoid":
            p = [_sigmoid(v) for v in z]
            loss += sum(_bce(v, yv) for v, yv in zip(z, d.ys[t]))
        else:
            p = list(z)
            loss += 0.5 * sum((v - yv) ** 2 for v, yv in zip(z, d.ys[t]))
        ps.append(p)
    G = {g: [0.0] * len(W[g[1:]]) for g in GRADS}
    dWxh, dWhh, dbh, dWhy, dby = G["dWxh"], G["dWhh"], G["dbh"], G["dWhy"], G["dby"]
    dh_next = list(dh_next0) if dh_next0 is not None else [0.0] * H
    for t in range(n - 1, -1, -1):
        p, z, hp, ht = ps[t], zs[t], h[t], h[t + 1]
        tgt = [1.0 if k == d.ys[t] else 0.0 for k in range(Y)] if d.head == "softmax" else d.ys[t]
        mode = o.get("dz", "p-y")
        if mode == "z-y":
            dz = [a - b for a, b in zip(z, tgt)]
        elif mode == "y-p":
            dz = [b - a for a, b in zip(p, tgt)]
        elif mode == "p":
            dz = list(p)
        elif mode == "expz-y":
            dz = [math.exp(min(a, 700.0)) - b for a, b in zip(z, tgt)]
        else:
            dz = [a - b for a, b in zip(p, tgt)]
        hw = hp if o.get("why_h") == "prev" else ht
        for k in range(Y):
            dby[k] += dz[k]
            for j in range(H):
                dWhy[k * H + j] += dz[k] * hw[j]
        dh = [dh_next[i] + sum(Why[k * H + i] * dz[k] for k in range(Y)) for i in range(H)]
        tmode = o.get("tanh", "1-h2")
        if tmode == "none":
            dr = list(dh)
        elif tmode == "1-h":
            dr = [(1.0 - ht[i]) * dh[i] for i in range(H)]
        else:
            dr = [(1.0 - ht[i] * ht[i]) * dh[i] for i in range(H)]
        hr = ht if o.get("whh_h") == "cur" else hp
        x = d.xs[t]
        for i in range(H):
            dbh[i] += dr[i]
            if dense:
                for j in range(X):
                    dWxh[i * X + j] += dr[i] * x[j]
            else:
                dWxh[i * X + x] += dr[i]
            for j in range(H):
                dWhh[i * H + j] += dr[i] * hr[j]
        dh_next = [sum(Whh[i * H + j] * dr[i] for i in range(H)) for j in range(H)]
    return {"loss": loss, "grads": [v for g in GRADS for v in G[g]], "dh0": dh_next}


def reference(d: Dump) -> "Tuple[float, List[float]]":
    """tinyrnn.core's loss and gradients for the dumped weights and sequence."""
    m = RNN(d.X, d.H, d.Y, d.n, d.head)
    m.params[:] = d.params()
    ys = d.ys if d.head == "softmax" else [list(v) for v in d.ys]
    loss = m.forward(d.xs, ys, h0=d.h0)
    m.backward()
    return loss, list(m.grads)


# --------------------------------------------------------------- hypotheses
class Hypothesis:
    """A known mistake: a name, what it means, and how to recompute the gradients with it."""

    def __init__(self, key: str, title: str, advice: str, heads: "Tuple[str, ...]", run: "Callable[[Dump], Optional[Tuple[List[float], Optional[float], str]]]") -> None:
        self.key = key
        self.title = title
        self.advice = advice
        self.heads = heads
        self.run = run  # -> (grads, loss or None, detail) or None when not applicable


def _passes(d: Dump, opts: "Dict[str, Any]", zero: bool, reset: bool) -> "Tuple[List[float], float]":
    """The gradient left after d.passes identical forward/backward calls."""
    total = None  # type: Optional[List[float]]
    carry = None  # type: Optional[List[float]]
    r = {}  # type: Dict[str, Any]
    for _ in range(d.passes):
        r = bptt(d, opts, None if reset else carry)
        carry = r["dh0"]
        total = r["grads"] if zero or total is None else [a + b for a, b in zip(total, r["grads"])]
    assert total is not None
    return total, r["loss"]


def _simple(opts: "Dict[str, Any]") -> "Callable[[Dump], Optional[Tuple[List[float], Optional[float], str]]]":
    def run(d: Dump) -> "Optional[Tuple[List[float], Optional[float], str]]":
        g, loss = _passes(d, opts, True, True)
        return declared_clip(d, g), loss, ""

    return run


def declared_clip(d: Dump, g: "List[float]") -> "List[float]":
    """Apply the clipping the dump declares (the user's gradients were clipped so)."""
    kind, c = d.clip
    g = list(g)
    if kind == "elementwise":
        clip_elementwise(g, c)
    elif kind == "norm":
        clip_global_norm(g, c)
    return g


def _not_zeroed(d: Dump) -> "Optional[Tuple[List[float], Optional[float], str]]":
    if d.passes < 2:
        return None
    g, loss = _passes(d, {}, False, True)
    return declared_clip(d, g), loss, "the %d backward calls summed" % d.passes


def _not_reset(d: Dump) -> "Optional[Tuple[List[float], Optional[float], str]]":
    if d.passes < 2:
        return None
    g, loss = _passes(d, {}, True, False)
    return declared_clip(d, g), loss, "the last backward started from the previous one's dh_next"


def _neither(d: Dump) -> "Optional[Tuple[List[float], Optional[float], str]]":
    if d.passes < 2:
        return None
    g, loss = _passes(d, {}, False, False)
    return declared_clip(d, g), loss, "both: gradients summed over the %d calls, dh_next carried" % d.passes


def _mean(d: Dump) -> "Optional[Tuple[List[float], Optional[float], str]]":
    if d.n < 2:
        return None
    loss, g = reference(d)
    return declared_clip(d, [v / d.n for v in g]), loss / d.n, ""


def _clip_kind(kind: str) -> "Callable[[Dump], Optional[Tuple[List[float], Optional[float], str]]]":
    """The true gradients clipped (elementwise or by global norm) at the threshold the numbers imply."""

    def run(d: Dump) -> "Optional[Tuple[List[float], Optional[float], str]]":
        if d.clip[0] == kind:
            return None  # that is what the dump says it did: covered by the reference
        loss, g = reference(d)
        u = d.grad_buffer()
        if kind == "elementwise":
            c = max(abs(v) for v in u)
            if c == 0.0 or max(abs(v) for v in g) <= c * (1.0 + 1e-6):
                return None  # nothing would be clipped
            clip_elementwise(g, c)
            hits = sum(1 for v in g if abs(v) == c)
            return g, loss, "at %.6g (%d of %d gradients sit at +-%.6g)" % (c, hits, len(g), c)
        c = math.sqrt(sum(v * v for v in u))
        norm = math.sqrt(sum(v * v for v in g))
        if c == 0.0 or norm <= c * (1.0 + 1e-6):
            return None
        clip_global_norm(g, c)
        return g, loss, "at %.6g (the true norm is %.6g)" % (c, norm)

    return run


def _no_clip(d: Dump) -> "Optional[Tuple[List[float], Optional[float], str]]":
    if d.clip[0] == "none":
        return None
    loss, g = reference(d)
    return g, loss, "the dump says 'clip %s %g'" % d.clip


ALL = ("softmax", "sigmoid", "mse")
MISTAKES = [
    Hypothesis("softmax_of_exp", "your numbers match softmax(exp(z)): the logits are exponentiated twice",
               "keep the logits z and the probabilities p in two arrays; p = softmax(z) with exp(z - max z), never exp of a stored exp",
               ("softmax",), _simple({"logits": "exp"})),
    Hypothesis("sigmoid_of_exp", "your numbers match sigmoid(exp(z)): the logits are exponentiated before the sigmoid",
               "keep the logits z and the probabilities p in two arrays; p = sigmoid(z)",
               ("sigmoid",), _simple({"logits": "exp"})),
    Hypothesis("logits_as_probs", "your numbers match dz = z - target: the logits are used where the probabilities belong",
               "dz = p - onehot(y) (softmax + cross-entropy) or p - y (sigmoid + BCE), with p computed from z",
               ("softmax", "sigmoid"), _simple({"dz": "z-y"})),
    Hypothesis("unnormalised_exp", "your numbers match dz = exp(z) - onehot: the softmax is never normalised",
               "divide by the sum of the exponentials: p = exp(z - max z) / sum exp(z - max z)",
               ("softmax",), _simple({"dz": "expz-y"})),
    Hypothesis("no_onehot", "your numbers match dz = p: the 1 at the target is never subtracted",
               "dz = p; dz[target] -= 1",
               ("softmax",), _simple({"dz": "p"})),
    Hypothesis("sign", "your numbers match dz = target - p: every gradient has the wrong sign",
               "dz = p - target; gradient descent then subtracts lr * grad",
               ALL, _simple({"dz": "y-p"})),
    Hypothesis("no_tanh_derivative", "your numbers match a backward without the tanh derivative: dh_raw = dh",
               "dh_raw[i] = (1 - h[t+1][i] * h[t+1][i]) * dh[i]",
               ALL, _simple({"tanh": "none"})),
    Hypothesis("tanh_derivative_1_minus_h", "your numbers match dh_raw = (1 - h) * dh: the square is missing in tanh'",
               "dh_raw[i] = (1 - h[t+1][i] * h[t+1][i]) * dh[i]",
               ALL, _simple({"tanh": "1-h"})),
    Hypothesis("whh_off_by_one", "your numbers match dWhh += dh_raw h[t+1]^T: the current state where the previous one belongs",
               "dWhh[i][j] += dh_raw[i] * h[t][j] with h[t+1] = tanh(Wxh x[t] + Whh h[t] + bh): Whh multiplied h[t]",
               ALL, _simple({"whh_h": "cur"})),
    Hypothesis("why_off_by_one", "your numbers match dWhy += dz h[t]^T: the previous state where the current one belongs",
               "dWhy[k][j] += dz[k] * h[t+1][j]: z[t] = Why h[t+1] + by",
               ALL, _simple({"why_h": "prev"})),
    Hypothesis("not_zeroed", "your numbers are the sum of your %s backward calls: the gradients are not zeroed between updates",
               "set every gradient array to 0 before each backward (memset), because BPTT accumulates with +=",
               ALL, _not_zeroed),
    Hypothesis("dh_next_not_reset", "your numbers match a backward that starts from the previous call's dh_next: dh_next is not reset",
               "set dh_next to 0 before the loop over time: nothing flows into the last step from the future",
               ALL, _not_reset),
    Hypothesis("not_zeroed_and_not_reset", "your numbers match both: gradients not zeroed and dh_next not reset between calls",
               "zero the gradients and dh_next before every backward",
               ALL, _neither),
    Hypothesis("clipped_elementwise", "your gradients are the true ones clipped elementwise",
               "dump the gradients before clipping (or declare 'clip elementwise C'); elementwise clipping changes the direction, global-norm clipping keeps it",
               ALL, _clip_kind("elementwise")),
    Hypothesis("clipped_norm", "your gradients are the true ones scaled down by global-norm clipping",
               "dump the gradients before clipping (or declare 'clip norm C')",
               ALL, _clip_kind("norm")),
    Hypothesis("clip_not_applied", "your gradients are the unclipped ones although the dump declares clipping",
               "apply the clipping before the update (and before the dump), or declare 'clip none'",
               ALL, _no_clip),
    Hypothesis("mean_over_steps", "your numbers are exactly 1/n of tinyrnn's: your loss is the mean over the n steps",
               "not a bug: tinyrnn's loss is the sum over steps; with the mean, the learning rate acts n times smaller",
               ALL, _mean),
]
