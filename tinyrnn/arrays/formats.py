"""Importers and exporters for PyTorch and Keras weight layouts: shared helpers and the public names.

``torch_format.py``: ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` (any ``num_layers``) + ``nn.Linear``.
``keras_format.py``: ``SimpleRNN`` / ``GRU`` (``reset_after=True``) / ``LSTM`` (one layer or a
stack) + ``Dense``. Both map onto the flat layout of docs/core.md unchanged (PyTorch's gate
order); anything tinyrnn cannot run one step per call -- relu, bidirectional or reversed
RNNs, projections, Keras' ``reset_after=False`` GRU -- is refused with the reason.
"""

import math
from typing import Any, List, Sequence, Tuple

from ._xp import shape_of, to_floats

WHY_FORWARD = "tinyrnn runs forward in time one step per call (its C runtime cannot see the future)"
CELL_OF_GATES = {1: "rnn", 3: "gru", 4: "lstm"}


def _values(where: str, key: str, x: Any, shape: "Tuple[int, ...]") -> List[float]:
    got = shape_of(x)
    if got != shape:
        raise ValueError("%s: %r has shape %s, expected %s" % (where, key, _fmt(got), _fmt(shape)))
    return to_floats(x)


def _fmt(shape: "Sequence[int]") -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _transpose(values: List[float], rows: int, cols: int) -> List[float]:
    """Row-major (rows, cols) -> row-major (cols, rows)."""
    return [values[r * cols + c] for c in range(cols) for r in range(rows)]


def _swap_blocks(values: List[float], size: int) -> List[float]:
    """Swap the first two blocks of ``size`` values: Keras GRU z, r, h <-> PyTorch r, z, n (rows or bias entries)."""
    return values[size : 2 * size] + values[:size] + values[2 * size :]


def _fill(model: Any, values: List[float]) -> None:
    if not math.isfinite(sum(values)):
        k = next(i for i, v in enumerate(values) if not math.isfinite(v))
        name = next(n for n, (off, _, _) in reversed(list(model.layout.groups.items())) if off <= k)
        raise ValueError("imported weights: %s has a non-finite value (%r)" % (name, values[k]))
    model.params[:] = values



from .keras_format import from_keras, to_keras  # noqa: E402
from .torch_format import from_torch, to_torch, to_torch_state_dicts  # noqa: E402

__all__ = ["from_torch", "to_torch", "to_torch_state_dicts", "from_keras", "to_keras"]
