"""Output heads: probabilities, loss and dL/dz from the logits.

Each head works on flat per-step buffers of the first ``n`` steps, row t at
``[t*Y, (t+1)*Y)``:

- ``softmax``: softmax + cross-entropy against a class id per step.
  ``loss_t = logsumexp(z_t) - z_t[y_t]``, ``dz_t = p_t - onehot(y_t)``.
- ``sigmoid``: independent sigmoid + binary cross-entropy per output,
  targets in [0, 1]. ``loss_t = sum_i max(z,0) - z*y + log1p(exp(-|z|))``,
  ``dz_t = p_t - y_t``.
- ``mse``: identity output, ``loss_t = 1/2 sum_i (z_i - y_i)**2``,
  ``dz_t = z_t - y_t``.

The sequence loss is the weighted **sum** ``sum_t w_t * loss_t`` (not a mean);
``dz_t`` is scaled by ``w_t``. Every formula is stable for any finite logit:
no ``exp`` ever sees a positive argument.
"""

import math

from .kernels import log1p

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List

HEADS = ("softmax", "sigmoid", "mse")

exp = math.exp


def sigmoid(z: float) -> float:
    if z >= 0.0:
        return 1.0 / (1.0 + exp(-z))
    e = exp(z)
    return e / (1.0 + e)


def _bce(z: float, y: float) -> float:
    # max(z, 0) - z*y + log(1 + exp(-|z|)), finite for every finite z
    if z >= 0.0:
        return z - z * y + log1p(exp(-z))
    return -z * y + log1p(exp(z))


def softmax_row(z: "List[float]", p: "List[float]", lo: int, hi: int) -> float:
    """Write softmax(z[lo:hi]) into p[lo:hi]; return logsumexp(z[lo:hi]).

    Shifted by the row's max: exp never sees a positive argument, and the
    sum is at least 1.
    """
    zt = z[lo:hi]
    m = max(zt)
    e = [exp(v - m) for v in zt]
    s = sum(e)
    inv = 1.0 / s
    p[lo:hi] = [v * inv for v in e]
    return m + math.log(s)


def forward(
    head: str,
    z: "List[float]",
    p: "List[float]",
    n: int,
    Y: int,
    ids: "List[int]",
    targets: "List[float]",
    w: "List[float]",
) -> float:
    """Write p[0:n*Y] from z; return sum_t w[t] * loss_t.

    ``ids[t]`` is the class id (softmax); ``targets[t*Y + i]`` the target
    value (sigmoid, mse). Steps with ``w[t] == 0`` add nothing to the loss.
    """
    loss = 0.0
    nY = n * Y
    if head == "softmax":
        for t in range(n):
            lo = t * Y
            lse = softmax_row(z, p, lo, lo + Y)
            if w[t] != 0.0:
                loss += w[t] * (lse - z[lo + ids[t]])
    elif head == "sigmoid":
        p[0:nY] = list(map(sigmoid, z[0:nY]))
        for t in range(n):
            if w[t] != 0.0:
                lo = t * Y
                loss += w[t] * sum(map(_bce, z[lo : lo + Y], targets[lo : lo + Y]))
    else:  # mse
        p[0:nY] = z[0:nY]
        for t in range(n):
            if w[t] != 0.0:
                lo = t * Y
                loss += w[t] * 0.5 * sum([(a - b) * (a - b) for a, b in zip(z[lo : lo + Y], targets[lo : lo + Y])])
    return loss


def backward(
    head: str,
    p: "List[float]",
    dz: "List[float]",
    n: int,
    Y: int,
    ids: "List[int]",
    targets: "List[float]",
    w: "List[float]",
    unit_weights: bool,
) -> None:
    """Write dz[0:n*Y] = w_t * (p_t - target_t) (onehot target for softmax)."""
    nY = n * Y
    if head == "softmax":
        dz[0:nY] = p[0:nY]
        for t in range(n):
            dz[t * Y + ids[t]] -= 1.0
    else:  # sigmoid and mse: p - y (p = z for mse)
        dz[0:nY] = [a - b for a, b in zip(p[0:nY], targets[0:nY])]
    if not unit_weights:
        for t in range(n):
            lo = t * Y
            wt = w[t]
            dz[lo : lo + Y] = [v * wt for v in dz[lo : lo + Y]]


def output(head: str, z: "List[float]", y: "List[float]") -> None:
    """y = softmax(z) / sigmoid(z) / z, like the C runtime's NAME_output."""
    if head == "softmax":
        softmax_row(z, y, 0, len(z))
    elif head == "sigmoid":
        y[0 : len(z)] = list(map(sigmoid, z))
    else:
        y[0 : len(z)] = z


__all__ = ["HEADS", "forward", "backward", "output", "sigmoid", "softmax_row"]
