"""Finite-difference gradient check for every parameter group.

For each parameter w the numerical derivative is the fourth-order centred
difference::

    n = (8 (L(w+e) - L(w-e)) - (L(w+2e) - L(w-2e))) / (12 e)

and the relative error of one element is ``|a - n| / max(|a|, |n|, f)``
with the floor ``f = 1e-5 * |L|`` (0 when both are exactly 0, as for the Wxh
columns of tokens that never occur). The report is the largest relative
error in each group.

Reading it: the differences are exact to about ``3e-13 * |L|`` in absolute
terms (rounding of the loss values, ``1.5 * 2.2e-16 * |L| / e``), so a
purely relative error of an element whose gradient is itself tiny would
read the rounding, not the gradient (a gradient of 4e-7 in a loss of 3
reads 5e-7). The floor ``f`` is that rounding over 1e-7 with margin: below
it an element is judged by its absolute error. ``e = 1e-3`` balances the
rounding against the stencil's truncation error (of order ``e**4``); a
wrong gradient reads 1e-3 or worse.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Optional, Sequence

    from .model import RNN, Input


def gradcheck(
    model: "RNN",
    xs: "Input",
    targets: "Sequence[object]",
    weights: "Optional[Sequence[float]]" = None,
    h0: "Optional[Sequence[float]]" = None,
    last_only: bool = False,
    eps: float = 1e-3,
) -> "Dict[str, float]":
    """Max relative error between backward() and finite differences, per group.

    Leaves ``model.params`` unchanged and ``model.grads`` holding the
    analytic gradient of this sequence.
    """
    P = model.params

    def loss() -> float:
        return model.forward(xs, targets, weights, h0, last_only)

    floor = 1e-5 * abs(loss())
    model.backward()
    analytic = list(model.grads)
    worst = {}  # type: Dict[str, float]
    for name in model.layout.names:
        off = model.layout.groups[name][0]
        err = 0.0
        for k in range(off, off + model.layout.group_size(name)):
            w = P[k]
            P[k] = w + eps
            f1 = loss()
            P[k] = w - eps
            b1 = loss()
            P[k] = w + 2 * eps
            f2 = loss()
            P[k] = w - 2 * eps
            b2 = loss()
            P[k] = w
            num = (8.0 * (f1 - b1) - (f2 - b2)) / (12.0 * eps)
            a = analytic[k]
            denom = max(abs(a), abs(num), floor)
            if denom > 0.0:
                err = max(err, abs(a - num) / denom)
        worst[name] = err
    loss()
    model.backward()
    return worst
