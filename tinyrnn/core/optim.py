"""Optimisers and gradient clipping, each one pass over the flat buffers.

Every optimiser keeps its state in twin buffers with the parameters' layout
and updates ``params`` in place from ``grads``::

    SGD       v = momentum*v + g;            w -= lr*v   (w -= lr*g if momentum == 0)
    Adagrad   mem += g*g;                    w -= lr*g / sqrt(mem + eps)     (min-char-rnn)
    Adam      m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
              w -= lr * (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps)
"""

import math

from .kernels import dot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Union

    State = Dict[str, Union[int, float, str, List[float]]]

sqrt = math.sqrt


def _check_lr(lr: float) -> float:
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError("learning rate must be a positive finite number, got %r" % (lr,))
    return float(lr)


class Optimizer:
    """Common shape: ``step(params, grads)``, ``state_dict()``, ``load_state_dict()``."""

    name = ""
    buffers = ()  # type: tuple[str, ...]

    def __init__(self, size: int, lr: float) -> None:
        self.size = size
        self.lr = _check_lr(lr)
        self.t = 0

    def step(self, params: "List[float]", grads: "List[float]") -> None:
        raise NotImplementedError

    def _check(self, params: "List[float]", grads: "List[float]") -> None:
        if len(params) != self.size or len(grads) != self.size:
            raise ValueError(
                "%s optimiser was made for %d parameters, got params of %d and grads of %d"
                % (self.name, self.size, len(params), len(grads))
            )

    def state_dict(self) -> "State":
        d = {"name": self.name, "lr": self.lr, "t": self.t}  # type: State
        for b in self.buffers:
            d[b] = list(getattr(self, b))
        return d

    def load_state_dict(self, d: "State") -> None:
        if d.get("name") != self.name:
            raise ValueError("optimiser state is for %r, not %r" % (d.get("name"), self.name))
        for b in self.buffers:
            v = d.get(b)
            if not isinstance(v, list) or len(v) != self.size:
                raise ValueError("optimiser state %r must be a list of %d floats" % (b, self.size))
            getattr(self, b)[:] = [float(x) for x in v]
        t = d.get("t")
        if not isinstance(t, int) or t < 0:
            raise ValueError("optimiser state 't' must be a non-negative integer")
        self.t = t


class SGD(Optimizer):
    name = "sgd"
    buffers = ("v",)

    def __init__(self, size: int, lr: float = 0.01, momentum: float = 0.0) -> None:
        Optimizer.__init__(self, size, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError("momentum must be in [0, 1), got %r" % (momentum,))
        self.momentum = momentum
        self.v = [0.0] * size

    def step(self, params: "List[float]", grads: "List[float]") -> None:
        self._check(params, grads)
        self.t += 1
        lr, mu = self.lr, self.momentum
        if mu == 0.0:
            params[:] = [w - lr * g for w, g in zip(params, grads)]
            return
        v = self.v
        v[:] = [mu * vi + g for vi, g in zip(v, grads)]
        params[:] = [w - lr * vi for w, vi in zip(params, v)]


class Adagrad(Optimizer):
    name = "adagrad"
    buffers = ("mem",)

    def __init__(self, size: int, lr: float = 0.1, eps: float = 1e-8) -> None:
        Optimizer.__init__(self, size, lr)
        self.eps = eps
        self.mem = [0.0] * size

    def step(self, params: "List[float]", grads: "List[float]") -> None:
        self._check(params, grads)
        self.t += 1
        lr, eps, mem = self.lr, self.eps, self.mem
        mem[:] = [m + g * g for m, g in zip(mem, grads)]
        params[:] = [w - lr * g / sqrt(m + eps) for w, g, m in zip(params, grads, mem)]


class Adam(Optimizer):
    name = "adam"
    buffers = ("m", "v")

    def __init__(self, size: int, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        Optimizer.__init__(self, size, lr)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError("beta1 and beta2 must be in [0, 1)")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [0.0] * size
        self.v = [0.0] * size

    def step(self, params: "List[float]", grads: "List[float]") -> None:
        self._check(params, grads)
        self.t += 1
        b1, b2, eps = self.beta1, self.beta2, self.eps
        c1, c2 = 1.0 - b1, 1.0 - b2
        m, v = self.m, self.v
        m[:] = [b1 * mi + c1 * g for mi, g in zip(m, grads)]
        v[:] = [b2 * vi + c2 * g * g for vi, g in zip(v, grads)]
        a = self.lr / (1.0 - b1**self.t)
        s = 1.0 / (1.0 - b2**self.t)
        params[:] = [w - a * mi / (sqrt(vi * s) + eps) for w, mi, vi in zip(params, m, v)]


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}  # type: Dict[str, type[Optimizer]]


def make_optimizer(name: str, size: int, lr: float) -> Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError("unknown optimiser %r (choose from %s)" % (name, ", ".join(sorted(OPTIMIZERS))))
    return OPTIMIZERS[name](size, lr)


def grad_norm(grads: "List[float]") -> float:
    """Global L2 norm of the gradient buffer (no overflow for huge finite values)."""
    norm = sqrt(dot(grads, grads))
    if norm == math.inf:
        big = max(map(abs, grads))
        if math.isfinite(big):  # the squares overflowed, not the values
            inv = 1.0 / big
            scaled = [g * inv for g in grads]
            norm = big * sqrt(dot(scaled, scaled))
    return norm


def clip_elementwise(grads: "List[float]", c: float) -> None:
    """grads[i] = min(max(grads[i], -c), c), in place (min-char-rnn's np.clip)."""
    if not c > 0:
        raise ValueError("clip value must be positive, got %r" % (c,))
    lo, hi = -c, c
    if min(grads) >= lo and max(grads) <= hi:
        return  # nothing to clip (the common case: two fast passes)
    grads[:] = [lo if g < lo else (hi if g > hi else g) for g in grads]


def clip_global_norm(grads: "List[float]", max_norm: float) -> float:
    """Scale grads so their global norm is at most max_norm; return the norm before.

    A non-finite norm is returned unchanged and the gradients are left alone:
    there is no direction to keep, so the caller must stop (see
    ``math.isfinite``).
    """
    if not max_norm > 0:
        raise ValueError("max_norm must be positive, got %r" % (max_norm,))
    norm = grad_norm(grads)
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        grads[:] = [g * scale for g in grads]
    return norm
