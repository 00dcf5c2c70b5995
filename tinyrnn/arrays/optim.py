"""The core's optimisers and clipping (``tinyrnn/optim.py``) on flat arrays.

Same formulas, evaluated in the same order, so a step on float64 arrays
matches the core's step on Python floats to rounding; nothing is updated in
place: ``step`` returns the new parameter array. The state dict has the
core's format (lists of floats), so a checkpoint written here resumes in the
core and the other way round::

    SGD       v = momentum*v + g;            w -= lr*v   (w -= lr*g if momentum == 0)
    Adagrad   mem += g*g;                    w -= lr*g / sqrt(mem + eps)
    Adam      m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
              w -= lr * (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps)
"""

import math
from typing import Any, Dict, Optional

from ..core.optim import SGD, Adagrad, Adam, Optimizer, make_optimizer
from ._xp import Array, Namespace, to_float, to_floats


class ArrayOptimizer:
    """Wraps a core optimiser (its hyper-parameters and state format) for flat arrays of ``xp``."""

    def __init__(self, core: Optimizer, xp: Namespace, dtype: Any, device: Any) -> None:
        self.core = core
        self.xp = xp
        self.dtype = dtype
        self.device = device
        self.name = core.name
        self.bufs: Dict[str, Array] = {b: xp.asarray(getattr(core, b), dtype=dtype, device=device) for b in core.buffers}

    @property
    def t(self) -> int:
        return self.core.t

    def step(self, params: Array, grads: Array) -> Array:
        """Return the updated parameters (``params`` itself is not modified)."""
        c = self.core
        c.t += 1
        xp = self.xp
        if isinstance(c, Adagrad):
            mem = self.bufs["mem"] + grads * grads
            self.bufs["mem"] = mem
            return params - c.lr * grads / xp.sqrt(mem + c.eps)
        if isinstance(c, Adam):
            b1, b2 = c.beta1, c.beta2
            c1, c2 = 1.0 - b1, 1.0 - b2
            m = b1 * self.bufs["m"] + c1 * grads
            v = b2 * self.bufs["v"] + c2 * grads * grads
            self.bufs["m"], self.bufs["v"] = m, v
            a = c.lr / (1.0 - b1**c.t)
            s = 1.0 / (1.0 - b2**c.t)
            return params - a * m / (xp.sqrt(v * s) + c.eps)
        if isinstance(c, SGD):
            if c.momentum == 0.0:
                return params - c.lr * grads
            v = c.momentum * self.bufs["v"] + grads
            self.bufs["v"] = v
            return params - c.lr * v
        raise ValueError("optimiser %r has no array version" % c.name)

    def state_dict(self) -> Dict[str, Any]:
        """The core's state dict format: name, lr, t and each buffer as a list of floats."""
        for b, arr in self.bufs.items():
            getattr(self.core, b)[:] = to_floats(arr)
        return self.core.state_dict()

    def load_state_dict(self, d: Dict[str, Any]) -> None:
        self.core.load_state_dict(d)  # validates name, sizes, t
        for b in self.core.buffers:
            self.bufs[b] = self.xp.asarray(getattr(self.core, b), dtype=self.dtype, device=self.device)


def make_array_optimizer(name: str, size: int, lr: float, xp: Namespace, dtype: Any, device: Any, state: Optional[Dict[str, Any]] = None) -> ArrayOptimizer:
    opt = ArrayOptimizer(make_optimizer(name, size, lr), xp, dtype, device)
    if state is not None:
        opt.load_state_dict(state)
    return opt


def grad_norm(xp: Namespace, grads: Array) -> float:
    """Global L2 norm (a Python float), without overflow for huge finite values."""
    norm = to_float(xp.sqrt(xp.sum(grads * grads)))
    if norm == math.inf:
        big = to_float(xp.max(xp.abs(grads)))
        if math.isfinite(big):
            scaled = grads * (1.0 / big)
            norm = big * to_float(xp.sqrt(xp.sum(scaled * scaled)))
    return norm


def clip_global_norm(xp: Namespace, grads: Array, max_norm: float) -> "tuple[Array, float]":
    """(grads scaled to norm <= max_norm, the norm before); non-finite norms leave grads alone."""
    if not max_norm > 0:
        raise ValueError("max_norm must be positive, got %r" % (max_norm,))
    norm = grad_norm(xp, grads)
    if math.isfinite(norm) and norm > max_norm:
        grads = grads * (max_norm / norm)
    return grads, norm


def clip_elementwise(xp: Namespace, grads: Array, c: float) -> Array:
    """Every gradient clipped to [-c, c]."""
    if not c > 0:
        raise ValueError("clip value must be positive, got %r" % (c,))
    return xp.clip(grads, min=-c, max=c)


__all__ = ["ArrayOptimizer", "make_array_optimizer", "grad_norm", "clip_global_norm", "clip_elementwise"]
