"""Parameter initialisation from the portable PRNG (see rng.py)."""

# Groups are filled in layout order (``model.layout.names``: Wxh, Whh, bh, ...,
# Why, by), each row-major,
# one PRNG draw per weight (two for ``normal``), so C or MicroPython can
# reproduce the exact numbers from the seed:
#
# - ``uniform``: every weight U[-scale, scale).
# - ``xavier``: Glorot uniform, U[-a, a) with a = scale * sqrt(6 / (fan_in + fan_out)),
#   fan_out the group's rows (G*H for a gated cell's stacked gate blocks, as Keras).
# - ``normal``: N(0, scale**2) (min-char-rnn: ``randn * 0.01``).
#
# Biases start at 0 for every scheme.

import math

from . import kernels as k
from .rng import Rng

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .model import RNN

SCHEMES = ("xavier", "uniform", "normal")


def init_params(model: "RNN", seed: int = 0, scheme: str = "xavier", scale: float = 1.0) -> Rng:
    """Fill ``model.params`` from ``Rng(seed)``; return the generator (its state follows on)."""
    if scheme not in SCHEMES:
        raise ValueError("unknown init scheme %r (choose from %s)" % (scheme, ", ".join(SCHEMES)))
    if not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError("init scale must be a positive finite number, got %r" % (scale,))
    rng = Rng(seed)
    P = model.params
    for name in model.layout.names:
        off, rows, cols = model.layout.groups[name]
        if not cols:
            k.fill(P, off, rows, 0.0)
            continue
        count = rows * cols
        if scheme == "normal":
            rng.fill_normal(P, off, count, scale)
        else:
            a = scale if scheme == "uniform" else scale * math.sqrt(6.0 / (rows + cols))
            rng.fill_uniform(P, off, count, -a, a)
    return rng
