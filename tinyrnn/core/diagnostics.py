"""The instrument panel's numbers, read from one forward/backward pass.

- ``mean_abs_h``: mean |h| over the states h[1..n] (how far from 0 the tanh runs)
- ``sat_ratio``: fraction of those entries with |h| > 0.95 (on the tanh rails)
- ``dh_norm``: ||dL/dh|| over all steps (sqrt of the sum of squares)
- ``dh_raw_norm``: ||dL/d pre-activation||; ``dh_raw_norm << dh_norm`` means
  the saturated tanh is killing the gradient
- ``grad_norm``: global norm of ``grads`` (call before clipping)
- ``dh_profile``: ||dL/dh[t+1]|| for each step t (the vanishing-gradient profile)
- ``update_ratio(before, after)``: ||after - before|| / ||before||
"""

import math

from . import kernels as k
from .optim import grad_norm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Union

    from .model import RNN

SATURATION = 0.95


def diagnostics(model: "RNN") -> "Dict[str, Union[float, List[float]]]":
    n, H = model.n, model.H
    if n == 0:
        raise ValueError("diagnostics need a forward() and backward() first")
    hs = model.h[H : (n + 1) * H]
    dh, dr = model.dh, model.dh_raw
    absh = list(map(abs, hs))
    return {
        "mean_abs_h": sum(absh) / len(absh),
        "sat_ratio": sum(1 for a in absh if a > SATURATION) / len(absh),
        "dh_norm": math.sqrt(k.sumsq(dh, 0, n * H)),
        "dh_raw_norm": math.sqrt(k.sumsq(dr, 0, n * H)),
        "grad_norm": grad_norm(model.grads),
        "dh_profile": [math.sqrt(k.sumsq(dh, t * H, (t + 1) * H)) for t in range(n)],
    }


def update_ratio(before: "List[float]", after: "List[float]") -> float:
    """||after - before|| / ||before|| (0 when before is all zeros)."""
    n = len(before)
    d = k.amap2(_sub, after, 0, before, 0, n)
    wn = math.sqrt(k.sumsq(before, 0, n))
    return math.sqrt(k.sumsq(d, 0, n)) / wn if wn > 0.0 else 0.0


def _sub(a: float, b: float) -> float:
    return a - b
