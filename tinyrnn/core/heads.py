"""Output heads: probabilities, loss and dL/dz from the logits."""

# Each head works on flat per-step buffers of the first ``n`` steps, row t at
# ``[t*Y, (t+1)*Y)``:
#
# - ``softmax``: softmax + cross-entropy against a class id per step.
#   ``loss_t = logsumexp(z_t) - z_t[y_t]``, ``dz_t = p_t - onehot(y_t)``.
# - ``sigmoid``: independent sigmoid + binary cross-entropy per output,
#   targets in [0, 1]. ``loss_t = sum_i max(z,0) - z*y + log1p(exp(-|z|))``,
#   ``dz_t = p_t - y_t``.
# - ``mse``: identity output, ``loss_t = 1/2 sum_i (z_i - y_i)**2``,
#   ``dz_t = z_t - y_t``.
#
# The sequence loss is the weighted **sum** ``sum_t w_t * loss_t`` (not a mean);
# ``dz_t`` is scaled by ``w_t``. Every formula is stable for any finite logit:
# no ``exp`` ever sees a positive argument.

import math

from . import kernels as k
from .kernels import log1p, sigmoid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List

    from .kernels import Buf

HEADS = ("softmax", "sigmoid", "mse")

exp = math.exp


def _bce(z: float, y: float) -> float:
    # max(z, 0) - z*y + log(1 + exp(-|z|)), finite for every finite z
    if z >= 0.0:
        return z - z * y + log1p(exp(-z))
    return -z * y + log1p(exp(z))


def softmax_row(z: "Buf", p: "Buf", lo: int, hi: int) -> float:
    """Write softmax(z[lo:hi]) into p[lo:hi]; return logsumexp(z[lo:hi]).

    Shifted by the row's max: exp never sees a positive argument, and the
    sum is at least 1.
    """
    return k.softmax(z, lo, hi - lo, p, lo)


def _sqerr(a: float, b: float) -> float:
    return (a - b) * (a - b)


def forward(
    head: str,
    z: "Buf",
    p: "Buf",
    n: int,
    Y: int,
    ids: "List[int]",
    targets: "Buf",
    w: "Buf",
) -> float:
    """Write p[0:n*Y] from z; return sum_t w[t] * loss_t.

    ``ids[t]`` is the class id (softmax); ``targets[t*Y + i]`` the target
    value (sigmoid, mse). Steps with ``w[t] == 0`` add nothing to the loss.
    """
    loss = 0.0
    nY = n * Y
    if head == "softmax":
        lse = k.softmax_rows(z, 0, n, Y, p, 0)
        for t in range(n):
            if w[t] != 0.0:
                loss += w[t] * (lse[t] - z[t * Y + ids[t]])
    elif head == "sigmoid":
        k.amap(sigmoid, z, 0, p, 0, nY)
        for t in range(n):
            if w[t] != 0.0:
                lo = t * Y
                loss += w[t] * sum(k.amap2(_bce, z, lo, targets, lo, Y))
    else:  # mse
        k.copy(p, 0, z, 0, nY)
        for t in range(n):
            if w[t] != 0.0:
                lo = t * Y
                loss += w[t] * 0.5 * sum(k.amap2(_sqerr, z, lo, targets, lo, Y))
    return loss


def backward(
    head: str,
    p: "Buf",
    dz: "Buf",
    n: int,
    Y: int,
    ids: "List[int]",
    targets: "Buf",
    w: "Buf",
    unit_weights: bool,
) -> None:
    """Write dz[0:n*Y] = w_t * (p_t - target_t) (onehot target for softmax)."""
    nY = n * Y
    if head == "softmax":
        k.copy(dz, 0, p, 0, nY)
        for t in range(n):
            dz[t * Y + ids[t]] -= 1.0
    else:  # sigmoid and mse: p - y (p = z for mse)
        k.sub(p, 0, targets, 0, dz, 0, nY)
    if not unit_weights:
        for t in range(n):
            k.scale(dz, t * Y, Y, w[t])


def output(head: str, z: "Buf", y: "Buf") -> None:
    """y = softmax(z) / sigmoid(z) / z, like the C runtime's NAME_output."""
    if head == "softmax":
        softmax_row(z, y, 0, len(z))
    elif head == "sigmoid":
        k.amap(sigmoid, z, 0, y, 0, len(z))
    else:
        k.copy(y, 0, z, 0, len(z))


__all__ = ["HEADS", "forward", "backward", "output", "sigmoid", "softmax_row"]
