"""The instrument panel's numbers, read from one forward/backward pass.

- ``mean_abs_h``: mean |h| over the states h[1..n] (how far from 0 the tanh runs)
- ``sat_ratio``: fraction of those entries with |h| > 0.95 (on the tanh rails)
- ``dh_norm``: ||dL/dh|| over all steps (sqrt of the sum of squares)
- ``dh_raw_norm``: ||dL/d pre-activation||; ``dh_raw_norm << dh_norm`` means
  the saturated tanh is killing the gradient
- ``grad_norm``: global norm of ``grads`` (call before clipping)
- ``dh_profile``: ||dL/dh[t+1]|| for each step t (the vanishing-gradient profile)
- ``gate_sat`` (gru, lstm): per layer, the share of update gates (gru z)
  or forget gates (lstm f) within 0.05 of 0 or 1 over the n steps -- gates
  stuck shut or open pass (almost) no gradient through their sigmoid
- ``update_ratio(before, after)``: ||after - before|| / ||before||

With several layers or a gated cell, the h and dh numbers run over every
layer's states (``dh_profile[t]``: the norm over all layers at step t) and
``dh_raw`` is the gradient of every gate's pre-activation.
"""

import math

from . import kernels as k
from .optim import grad_norm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Union

    from .model import RNN

SATURATION = 0.95
GATE_MARGIN = 0.05
GATE = {"gru": 1, "lstm": 1}  # the gate block watched: gru z (r|z|n), lstm f (i|f|g|o)


def diagnostics(model: "RNN") -> "Dict[str, Union[float, List[float]]]":
    n, H, T, L = model.n, model.H, model.T, model.layers
    if n == 0:
        raise ValueError("diagnostics need a forward() and backward() first")
    GH = model.layout.gates * H
    absh = []  # type: List[float]
    for l in range(L):  # layer l's h[1..n]
        absh.extend(map(abs, model.h[(l * (T + 1) + 1) * H : (l * (T + 1) + n + 1) * H]))
    dh, dr = model.dh, model.dh_raw
    out = {
        "mean_abs_h": sum(absh) / len(absh),
        "sat_ratio": sum(1 for a in absh if a > SATURATION) / len(absh),
        "dh_norm": math.sqrt(sum(k.sumsq(dh, l * T * H, (l * T + n) * H) for l in range(L))),
        "dh_raw_norm": math.sqrt(sum(k.sumsq(dr, l * T * GH, (l * T + n) * GH) for l in range(L))),
        "grad_norm": grad_norm(model.grads),
        "dh_profile": [math.sqrt(sum(k.sumsq(dh, (l * T + t) * H, (l * T + t + 1) * H) for l in range(L))) for t in range(n)],
    }  # type: Dict[str, Union[float, List[float]]]
    if model.cell in GATE:
        a, g, lo, hi = model.a, GATE[model.cell] * H, GATE_MARGIN, 1.0 - GATE_MARGIN
        out["gate_sat"] = [
            sum(1 for t in range(n) for v in a[(l * T + t) * GH + g : (l * T + t) * GH + g + H] if v < lo or v > hi) / (n * H)
            for l in range(L)
        ]
    return out


def update_ratio(before: "List[float]", after: "List[float]") -> float:
    """||after - before|| / ||before|| (0 when before is all zeros)."""
    n = len(before)
    d = k.amap2(_sub, after, 0, before, 0, n)
    wn = math.sqrt(k.sumsq(before, 0, n))
    return math.sqrt(k.sumsq(d, 0, n)) / wn if wn > 0.0 else 0.0


def _sub(a: float, b: float) -> float:
    return a - b
