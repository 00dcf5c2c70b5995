"""Keras ``SimpleRNN`` / ``GRU`` / ``LSTM`` (one layer or a stack) + ``Dense`` <-> tinyrnn.

Weight lists as ``layer.get_weights()`` gives them; Keras multiplies row vectors
(``x @ kernel``), so every kernel is the transpose of tinyrnn's matrix::

    SimpleRNN [kernel (X, H),  recurrent_kernel (H, H),  bias (H,)]    -> Wxh, Whh, bh
    GRU       [kernel (X, 3H), recurrent_kernel (H, 3H), bias (2, 3H)] -> Wxh, Whh, bxh = bias[0], bhh = bias[1]
    LSTM      [kernel (X, 4H), recurrent_kernel (H, 4H), bias (4H,)]   -> Wxh, Whh, bxh = bias, bhh = 0
    Dense     [kernel (H, Y),  bias (Y,)]                              -> Why, by

Gate blocks: Keras GRU z, r, h -> tinyrnn (PyTorch) r, z, n (the first two swap);
Keras LSTM i, f, c, o is PyTorch's i, f, g, o. The GRU must be ``reset_after=True``
(Keras 3's default, PyTorch's cell); a ``reset_after=False`` GRU applies r to h
*before* the recurrent kernel, a different model that no reset_after=True weights
reproduce, so it is refused. Export writes LSTM ``bias = bxh + bhh`` (Keras has one).
A missing bias (``use_bias=False``) reads as zeros.
"""

from typing import Any, List, Optional, Tuple, Union

from ._xp import Array, as_namespace, asarray, resolve_dtype, shape_of, to_floats
from ..core.model import RNN
from .formats import CELL_OF_GATES, WHY_FORWARD, _fill, _fmt, _swap_blocks, _transpose, _values

KERAS = {"rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}
WHY_RESET_AFTER = (
    "GRU has reset_after=False: a different model (r multiplies h before the recurrent kernel) that no "
    "reset_after=True GRU equals; tinyrnn's GRU is reset_after=True (PyTorch's cell): rebuild the layer with reset_after=True"
)


def _keras_weights(obj: Any, what: str) -> "Tuple[List[Any], Any]":
    """(weights, layer or None) from a weight list or a layer with get_weights()."""
    get = getattr(obj, "get_weights", None)
    if get is not None:
        return list(get()), obj
    if isinstance(obj, (list, tuple)):
        return list(obj), None
    raise ValueError("%s must be a list of arrays or a layer with get_weights(), got %s" % (what, type(obj).__name__))


def _activation_name(layer: Any, attr: str = "activation") -> Optional[str]:
    act = getattr(layer, attr, None)
    if act is None:
        return None
    if isinstance(act, str):
        return act
    return str(getattr(act, "__name__", act))


def _check_layer(layer: Any, activation: Optional[str], where: str) -> Optional[str]:
    """Refuse what the recurrent layer's attributes say tinyrnn cannot run; returns the activation."""
    act = _activation_name(layer)
    if activation is not None and act is not None and act != activation:
        raise ValueError("activation=%r but the %s layer says %r" % (activation, where, act))
    if getattr(layer, "go_backwards", False):
        raise ValueError("%s has go_backwards=True: %s" % (where, WHY_FORWARD))
    if getattr(layer, "reset_after", True) is False:
        raise ValueError(WHY_RESET_AFTER)
    rec = _activation_name(layer, "recurrent_activation")
    if rec not in (None, "sigmoid"):
        raise ValueError("%s has recurrent_activation %r: tinyrnn's gates are sigmoid (recurrent_activation='sigmoid')" % (where, rec))
    return act or activation


def _is_layer_list(rnn: Any) -> bool:
    """A stack: a list of layers or of weight lists (a single layer's weight list holds arrays)."""
    if not isinstance(rnn, (list, tuple)) or not rnn:
        return False
    first = rnn[0]
    return hasattr(first, "get_weights") or isinstance(first, (list, tuple))


def from_keras(rnn: Any, dense: Any, T: int, head: str = "softmax", activation: Optional[str] = None) -> RNN:
    """A tinyrnn model from Keras ``SimpleRNN`` / ``GRU`` / ``LSTM`` + ``Dense`` weights (lists or layers).

    ``rnn``: one layer (or its weight list) or a list of them, bottom first (a stack
    of ``return_sequences=True`` layers of one cell and one size). The cell is read
    from the recurrent kernel's shape (H, G*H).
    """
    stack = list(rnn) if _is_layer_list(rnn) else [rnn]
    cell, H, X = None, 0, 0
    values: List[float] = []
    for l, item in enumerate(stack):
        rw, layer = _keras_weights(item, "rnn")
        where = "layer %d weights" % l if len(stack) > 1 else "recurrent layer weights"
        if layer is not None:
            activation = _check_layer(layer, activation, type(layer).__name__)
        if len(rw) not in (2, 3):
            raise ValueError("%s: expected [kernel, recurrent_kernel, bias] (or without bias), got %d arrays" % (where, len(rw)))
        kshape, rshape = shape_of(rw[0]), shape_of(rw[1])
        if len(kshape) != 2:
            raise ValueError("%s: 'kernel' has shape %s, expected (X, G*H)" % (where, _fmt(kshape)))
        Xl, GH = kshape
        if len(rshape) != 2 or rshape[1] != GH or rshape[0] < 1 or GH % rshape[0] or GH // rshape[0] not in CELL_OF_GATES:
            if cell is not None:
                raise ValueError("%s: 'recurrent_kernel' has shape %s, expected %s" % (where, _fmt(rshape), _fmt((H, GH))))
            raise ValueError("%s: 'recurrent_kernel' has shape %s, expected (H, G*H) with G*H = %d like the kernel and G = 1 (SimpleRNN), 3 (GRU) or 4 (LSTM)" % (
                where, _fmt(rshape), GH))
        lcell = CELL_OF_GATES[GH // rshape[0]]
        if cell is None:
            cell, H, X = lcell, rshape[0], Xl
            name = KERAS[cell]
            if layer is not None and type(layer).__name__ in KERAS.values() and type(layer).__name__ != name:
                raise ValueError("%s: shapes of a %s but the layer is a %s" % (where, name, type(layer).__name__))
        elif lcell != cell or rshape[0] != H:
            raise ValueError("%s: a %s with H = %d on top of a %s with H = %d: tinyrnn stacks layers of one cell and one size" % (
                where, KERAS[lcell], rshape[0], KERAS[cell], H))
        if l > 0 and Xl != H:
            raise ValueError("%s: 'kernel' has shape %s, expected %s (layer %d reads layer %d's h)" % (where, _fmt(kshape), _fmt((H, GH)), l, l - 1))
        swap = cell == "gru"
        Wxh = _transpose(to_floats(rw[0]), Xl, GH)  # (GH, Xl) rows in Keras gate order
        Whh = _transpose(_values(where, "recurrent_kernel", rw[1], (H, GH)), H, GH)
        if swap:
            Wxh, Whh = _swap_blocks(Wxh, H * Xl), _swap_blocks(Whh, H * H)
        values += Wxh + Whh
        if cell == "rnn":
            values += _values(where, "bias", rw[2], (H,)) if len(rw) == 3 else [0.0] * H
        elif cell == "lstm":
            values += (_values(where, "bias", rw[2], (GH,)) if len(rw) == 3 else [0.0] * GH) + [0.0] * GH
        else:
            if len(rw) == 3 and shape_of(rw[2]) == (GH,):
                raise ValueError("%s: 'bias' has shape %s, a GRU with reset_after=False; %s" % (where, _fmt((GH,)), WHY_RESET_AFTER))
            b = _values(where, "bias", rw[2], (2, GH)) if len(rw) == 3 else [0.0] * (2 * GH)
            values += _swap_blocks(b[:GH], H) + _swap_blocks(b[GH:], H)
    assert cell is not None
    activation = activation or "tanh"
    if activation != "tanh":
        raise ValueError("%s activation is %r: tinyrnn's cells are tanh RNNs (its C runtime computes tanh)" % (KERAS[cell], activation))
    dw, dlayer = _keras_weights(dense, "dense")
    if dlayer is not None:
        dact = _activation_name(dlayer)
        if dact not in (None, "linear"):
            raise ValueError("Dense has activation %r: tinyrnn's heads expect raw logits (activation None / 'linear')" % dact)
    dwhere = "Dense weights"
    if len(dw) not in (1, 2):
        raise ValueError("%s: expected [kernel, bias] (or without bias), got %d arrays" % (dwhere, len(dw)))
    dshape = shape_of(dw[0])
    if len(dshape) != 2 or dshape[0] != H:
        raise ValueError("%s: 'kernel' has shape %s, expected (%d, Y) to follow the %s's H = %d" % (dwhere, _fmt(dshape), H, KERAS[cell], H))
    Y = dshape[1]
    values += _transpose(to_floats(dw[0]), H, Y)
    values += _values(dwhere, "bias", dw[1], (Y,)) if len(dw) == 2 else [0.0] * Y
    model = RNN(X, H, Y, T, head, cell=cell, layers=len(stack))
    _fill(model, values)
    return model


def to_keras(model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> "Tuple[Union[List[Array], List[List[Array]]], List[Array]]":
    """Weight lists for ``set_weights``: ``(recurrent, [kernel, bias])`` for the Dense layer.

    ``recurrent`` is ``[kernel, recurrent_kernel, bias]`` of the one layer, or with
    ``layers > 1`` a list of those, bottom first (a stack of return_sequences=True layers).
    """
    ns = as_namespace(xp)
    dt = resolve_dtype(ns, dtype)
    lay = model.layout
    cell = model.cell
    H, Y = model.H, model.Y
    P = model.params

    def arr(values: List[float], shape: "Tuple[int, ...]") -> Array:
        return ns.reshape(asarray(ns, values, dt, device), shape)

    def group(name: str) -> List[float]:
        off, rows, cols = lay.groups[name]
        return list(P[off : off + rows * (cols or 1)])

    layers: List[List[Array]] = []
    for l in range(model.layers):
        s = "" if l == 0 else str(l)
        GH, Xl = lay.groups["Wxh" + s][1], lay.groups["Wxh" + s][2]
        Wxh, Whh = group("Wxh" + s), group("Whh" + s)
        if cell == "gru":
            Wxh, Whh = _swap_blocks(Wxh, H * Xl), _swap_blocks(Whh, H * H)
        out = [arr(_transpose(Wxh, GH, Xl), (Xl, GH)), arr(_transpose(Whh, GH, H), (H, GH))]
        if cell == "rnn":
            out.append(arr(group("bh" + s), (H,)))
        elif cell == "lstm":
            out.append(arr([a + b for a, b in zip(group("bxh" + s), group("bhh" + s))], (GH,)))
        else:
            out.append(arr(_swap_blocks(group("bxh" + s), H) + _swap_blocks(group("bhh" + s), H), (2, GH)))
        layers.append(out)
    dense = [arr(_transpose(group("Why"), Y, H), (H, Y)), arr(group("by"), (Y,))]
    return (layers[0] if len(layers) == 1 else layers), dense


__all__ = ["from_keras", "to_keras"]
