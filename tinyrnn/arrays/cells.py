"""Cells and depth for tinyrnn.arrays: the flat layout of docs/core.md (GATED contract) and a model to hold it.

The flat parameter buffer, for l = 0 .. L-1 (X_l = X for l = 0, else H;
G = 1 rnn, 3 gru, 4 lstm)::

    rnn        Wxh{l} (H, X_l) | Whh{l} (H, H) | bh{l} (H,)
    gru/lstm   Wxh{l} (G*H, X_l) | Whh{l} (G*H, H) | bxh{l} (G*H,) | bhh{l} (G*H,)

then ``Why (Y, H) | by (Y,)``; ``{l}`` is empty for layer 0. Gate blocks are
PyTorch's: gru r, z, n; lstm i, f, g, o (block g is rows g*H .. (g+1)*H-1).

``make_model`` returns the core's ``RNN`` when it takes ``cell=`` and
``layers=``; with a core that knows only the vanilla cell it returns an
``ArrayModel`` -- the same attributes the batched trainer and the
importers read (X, H, Y, T, head, cell, layers, layout, params, get) --
so gated models train and convert here before (and independently of) the
pure-Python core.
"""

import math
from typing import Any, Dict, List, Tuple

from ..core.heads import HEADS
from ..core.model import RNN

CELLS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def suffix(l: int) -> str:
    return "" if l == 0 else str(l)


def layer_groups(cell: str, l: int) -> "Tuple[str, ...]":
    """Names of layer l's parameter groups, in layout order."""
    s = suffix(l)
    if cell == "rnn":
        return ("Wxh" + s, "Whh" + s, "bh" + s)
    return ("Wxh" + s, "Whh" + s, "bxh" + s, "bhh" + s)


class GatedLayout:
    """Offsets of every group of a (cell, layers) model, computed in one place: ``groups`` {name: (offset, rows, cols)}."""

    def __init__(self, X: int, H: int, Y: int, cell: str = "rnn", layers: int = 1) -> None:
        if cell not in CELLS:
            raise ValueError("cell must be one of %s, got %r" % (", ".join(CELLS), cell))
        if not isinstance(layers, int) or isinstance(layers, bool) or layers < 1:
            raise ValueError("layers must be a positive integer, got %r" % (layers,))
        self.cell, self.layers, self.gates = cell, layers, GATES[cell]
        GH = self.gates * H
        self.groups: Dict[str, Tuple[int, int, int]] = {}
        off = 0

        def put(name: str, rows: int, cols: int) -> None:
            nonlocal off
            self.groups[name] = (off, rows, cols)
            off += rows * cols if cols else rows

        for l in range(layers):
            Xl = X if l == 0 else H
            names = layer_groups(cell, l)
            put(names[0], GH, Xl)
            put(names[1], GH, H)
            for b in names[2:]:
                put(b, GH, 0)
        put("Why", Y, H)
        put("by", Y, 0)
        self.size = off

    def group_size(self, name: str) -> int:
        _, rows, cols = self.groups[name]
        return rows * cols if cols else rows


class ArrayModel:
    """Parameters of a gated or stacked model on a core that has only the vanilla cell (see the module doc)."""

    def __init__(self, X: int, H: int, Y: int, T: int, head: str = "softmax", cell: str = "rnn", layers: int = 1) -> None:
        for name, v in (("X", X), ("H", H), ("Y", Y), ("T", T)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError("%s must be a positive integer, got %r" % (name, v))
        if head not in HEADS:
            raise ValueError("head must be one of %s, got %r" % (", ".join(HEADS), head))
        self.X, self.H, self.Y, self.T, self.head = X, H, Y, T, head
        self.layout = GatedLayout(X, H, Y, cell, layers)
        self.cell, self.layers = cell, layers
        self.params = [0.0] * self.layout.size

    @property
    def num_params(self) -> int:
        return self.layout.size

    def get(self, name: str) -> "List[Any]":
        off, rows, cols = self.layout.groups[name]
        if not cols:
            return self.params[off : off + rows]
        return [self.params[off + r * cols : off + (r + 1) * cols] for r in range(rows)]


def cell_of(model: Any) -> str:
    return str(getattr(model, "cell", "rnn"))


def layers_of(model: Any) -> int:
    return int(getattr(model, "layers", 1))


def layout_of(model: Any) -> Any:
    """The model's layout with groups for every layer: the core's when it has them, else GatedLayout."""
    lay = model.layout
    if getattr(lay, "cell", "rnn") == cell_of(model) and getattr(lay, "layers", 1) == layers_of(model):
        return lay
    return GatedLayout(model.X, model.H, model.Y, cell_of(model), layers_of(model))


def make_model(X: int, H: int, Y: int, T: int, head: str = "softmax", cell: str = "rnn", layers: int = 1) -> Any:
    """The core's RNN for (cell, layers) when it has them, else an ArrayModel with the same layout."""
    if cell not in CELLS:
        raise ValueError("cell must be one of %s, got %r" % (", ".join(CELLS), cell))
    if cell == "rnn" and layers == 1:
        return RNN(X, H, Y, T, head)
    try:
        return RNN(X, H, Y, T, head, cell=cell, layers=layers)  # type: ignore[call-arg]
    except TypeError:  # a core with the vanilla cell only
        return ArrayModel(X, H, Y, T, head, cell, layers)


def init_uniform(model: Any, seed: int, scale: float) -> None:
    """Every parameter, biases too, U(-scale, scale) from tinyrnn's Rng(seed), in layout order.

    With scale = 1/sqrt(H) this is the distribution PyTorch gives nn.RNN /
    nn.GRU / nn.LSTM and an nn.Linear(H, Y)."""
    from ..core.rng import Rng

    if not math.isfinite(scale) or scale <= 0:
        raise ValueError("init scale must be a positive finite number, got %r" % (scale,))
    rng = Rng(seed)
    P = model.params
    rng.fill_uniform(P, 0, layout_of(model).size, -scale, scale)


__all__ = ["CELLS", "GATES", "GatedLayout", "ArrayModel", "make_model", "layout_of", "cell_of", "layers_of", "layer_groups", "init_uniform"]
