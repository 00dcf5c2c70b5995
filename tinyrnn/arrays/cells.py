"""Cell helpers for tinyrnn.arrays: group names per layer and PyTorch's init distribution.

The flat layout itself is the core's ``Layout`` (docs/core.md): for each layer
``Wxh{l} | Whh{l} | bh{l}`` (rnn) or ``Wxh{l} | Whh{l} | bxh{l} | bhh{l}``
(gru, lstm; gate blocks in PyTorch's order), then ``Why | by``.
"""

import math
from typing import Any

from ..core.rng import Rng


def suffix(l: int) -> str:
    """The group-name suffix of layer l: "" for layer 0, else its number ("Wxh1")."""
    return "" if l == 0 else str(l)


def init_uniform(model: Any, seed: int, scale: float) -> None:
    """Every parameter, biases too, U(-scale, scale) from tinyrnn's Rng(seed), in layout order.

    With scale = 1/sqrt(H) this is the distribution PyTorch gives nn.RNN /
    nn.GRU / nn.LSTM and an nn.Linear(H, Y) (``init_params`` starts biases at 0)."""
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError("init scale must be a positive finite number, got %r" % (scale,))
    Rng(seed).fill_uniform(model.params, 0, model.layout.size, -scale, scale)


__all__ = ["suffix", "init_uniform"]
