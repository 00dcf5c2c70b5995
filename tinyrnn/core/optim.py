"""Optimisers and gradient clipping, each one pass over the flat buffers."""

# Every optimiser keeps its state in twin buffers with the parameters' layout
# and updates ``params`` in place from ``grads``::
#
#     SGD       v = momentum*v + g;            w -= lr*v   (w -= lr*g if momentum == 0)
#     Adagrad   mem += g*g;                    w -= lr*g / sqrt(mem + eps)     (min-char-rnn)
#     Adam      m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
#               w -= lr * (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps)

import math

from . import kernels as k

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Union

    from .kernels import Buf

    State = Dict[str, Union[int, float, str, List[float]]]
    Ranges = Optional[List[tuple[int, int, int]]]

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

    def step(self, params: "Buf", grads: "Buf", ranges: "Ranges" = None) -> None:
        """Update ``params`` in place from ``grads``.

        ``ranges`` (``RNN.grad_ranges()``): (start, stop, step) index ranges
        outside which ``grads`` is zero. SGD without momentum and Adagrad
        then skip the rest -- their update of a zero gradient is exactly
        nothing; SGD with momentum and Adam ignore it (their state moves
        even with a zero gradient).
        """
        raise NotImplementedError

    def _begin(self, params: "Buf", grads: "Buf") -> None:
        if len(params) != self.size or len(grads) != self.size:
            raise ValueError(
                "%s optimiser was made for %d parameters, got params of %d and grads of %d"
                % (self.name, self.size, len(params), len(grads))
            )
        self.t += 1

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
            k.put(getattr(self, b), 0, [float(x) for x in v])
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
        self.v = k.zeros(size)

    def step(self, params: "Buf", grads: "Buf", ranges: "Ranges" = None) -> None:
        self._begin(params, grads)
        if self.momentum == 0.0:
            for lo, hi, st in ranges or [(0, self.size, 1)]:
                k.sgd(params, grads, self.lr, lo, hi, st)
            return
        k.sgd_momentum(params, grads, self.v, self.lr, self.momentum, 0, self.size)


class Adagrad(Optimizer):
    name = "adagrad"
    buffers = ("mem",)

    def __init__(self, size: int, lr: float = 0.1, eps: float = 1e-8) -> None:
        Optimizer.__init__(self, size, lr)
        self.eps = eps
        self.mem = k.zeros(size)

    def step(self, params: "Buf", grads: "Buf", ranges: "Ranges" = None) -> None:
        self._begin(params, grads)
        for lo, hi, st in ranges or [(0, self.size, 1)]:
            k.adagrad(params, grads, self.mem, self.lr, self.eps, lo, hi, st)


class Adam(Optimizer):
    name = "adam"
    buffers = ("m", "v")

    def __init__(self, size: int, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        Optimizer.__init__(self, size, lr)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError("beta1 and beta2 must be in [0, 1)")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = k.zeros(size)
        self.v = k.zeros(size)

    def step(self, params: "Buf", grads: "Buf", ranges: "Ranges" = None) -> None:
        self._begin(params, grads)
        b1, b2 = self.beta1, self.beta2
        a = self.lr / (1.0 - b1**self.t)
        s = 1.0 / (1.0 - b2**self.t)
        k.adam(params, grads, self.m, self.v, b1, b2, a, s, self.eps, 0, self.size)


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}  # type: Dict[str, type[Optimizer]]


def make_optimizer(name: str, size: int, lr: float) -> Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError("unknown optimiser %r (choose from %s)" % (name, ", ".join(sorted(OPTIMIZERS))))
    return OPTIMIZERS[name](size, lr)


def grad_norm(grads: "Buf") -> float:
    """Global L2 norm of the gradient buffer (no overflow for huge finite values)."""
    n = len(grads)
    norm = sqrt(k.sumsq(grads, 0, n))
    if norm == math.inf:
        big = k.maxabs(grads, 0, n)
        if math.isfinite(big):  # the squares overflowed, not the values
            inv = 1.0 / big
            scaled = [g * inv for g in grads]
            norm = big * sqrt(k.sumsq(scaled, 0, n))
    return norm


def clip_elementwise(grads: "Buf", c: float, ranges: "Ranges" = None) -> None:
    """grads[i] = min(max(grads[i], -c), c), in place (min-char-rnn's np.clip).

    ``ranges``: as for ``Optimizer.step`` (a zero is never clipped).
    """
    if not c > 0:
        raise ValueError("clip value must be positive, got %r" % (c,))
    for lo, hi, st in ranges or [(0, len(grads), 1)]:
        k.clamp(grads, lo, hi, st, c)


def clip_global_norm(grads: "Buf", max_norm: float) -> float:
    """Scale grads so their global norm is at most max_norm; return the norm before.

    A non-finite norm is returned unchanged and the gradients are left alone:
    there is no direction to keep, so the caller must stop (see
    ``math.isfinite``).
    """
    if not max_norm > 0:
        raise ValueError("max_norm must be positive, got %r" % (max_norm,))
    norm = grad_norm(grads)
    if math.isfinite(norm) and norm > max_norm:
        k.scale(grads, 0, len(grads), max_norm / norm)
    return norm
