"""Importers and exporters for PyTorch and Keras weight layouts.

PyTorch ``nn.RNN(X, H)`` (one layer, tanh, unidirectional) + ``nn.Linear(H, Y)``::

    weight_ih_l0 (H, X) -> Wxh        weight (Y, H) -> Why
    weight_hh_l0 (H, H) -> Whh        bias   (Y,)   -> by
    bias_ih_l0 + bias_hh_l0 (H,) -> bh

``batch_first`` does not change the weights. Export writes ``bias_ih_l0 = bh``
and ``bias_hh_l0 = 0`` (the sum is all the model has).

Keras ``SimpleRNN(H)`` + ``Dense(Y)`` weight lists (``layer.get_weights()``)::

    [kernel (X, H), recurrent_kernel (H, H), bias (H,)]  -> Wxh = kernel^T, Whh = recurrent_kernel^T, bh
    [kernel (H, Y), bias (Y,)]                           -> Why = kernel^T, by

A missing bias (``bias=False`` / ``use_bias=False``) reads as zeros.
Anything tinyrnn cannot run one step per call -- relu, stacked layers,
bidirectional or reversed RNNs -- is refused with the reason.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..core.model import RNN
from ._xp import Array, as_namespace, asarray, resolve_dtype, shape_of, to_floats

TORCH_RNN_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
WHY_ONE_LAYER = "tinyrnn runs one recurrent layer (one state h per step, like its C runtime)"
WHY_FORWARD = "tinyrnn runs forward in time one step per call (its C runtime cannot see the future)"


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


def _state_dict(obj: Any, what: str) -> "Mapping[str, Any]":
    if isinstance(obj, Mapping):
        return obj
    sd = getattr(obj, "state_dict", None)
    if sd is None:
        raise ValueError("%s must be a state dict or a torch module, got %s" % (what, type(obj).__name__))
    return sd()  # type: ignore[no-any-return]


def from_torch(rnn: Any, linear: Any, T: int, head: str = "softmax", nonlinearity: Optional[str] = None) -> RNN:
    """A tinyrnn model from an ``nn.RNN`` and an ``nn.Linear`` (modules or state dicts).

    A state dict does not record the nonlinearity: pass the module, or say
    ``nonlinearity="relu"`` to have a relu model refused; a state dict is
    otherwise taken to be tanh (nn.RNN's default).
    """
    if not isinstance(rnn, Mapping):
        nl = getattr(rnn, "nonlinearity", None)
        if nonlinearity is not None and nl is not None and nonlinearity != nl:
            raise ValueError("nonlinearity=%r but the nn.RNN module says %r" % (nonlinearity, nl))
        nonlinearity = nl or nonlinearity
        layers = getattr(rnn, "num_layers", 1)
        if layers != 1:
            raise ValueError("nn.RNN has num_layers=%d: %s" % (layers, WHY_ONE_LAYER))
        if getattr(rnn, "bidirectional", False):
            raise ValueError("nn.RNN is bidirectional: %s" % WHY_FORWARD)
        if getattr(rnn, "proj_size", 0):
            raise ValueError("nn.RNN has proj_size=%r: tinyrnn has no projection" % rnn.proj_size)
    nonlinearity = nonlinearity or "tanh"
    if nonlinearity != "tanh":
        raise ValueError("nn.RNN nonlinearity is %r: tinyrnn is a tanh RNN (its C runtime computes tanh)" % nonlinearity)
    sd = _state_dict(rnn, "rnn")
    lsd = _state_dict(linear, "linear")
    where = "nn.RNN state dict"
    reverse = sorted(k for k in sd if k.endswith("_reverse"))
    if reverse:
        raise ValueError("%s has %s: a bidirectional RNN; %s" % (where, reverse[0], WHY_FORWARD))
    deeper = sorted(k for k in sd if not k.endswith("_l0") and k.rsplit("_l", 1)[-1].isdigit())
    if deeper:
        layers = 1 + max(int(k.rsplit("_l", 1)[-1]) for k in deeper)
        raise ValueError("%s has keys for %d layers (%s): more than one layer; %s" % (where, layers, ", ".join(deeper), WHY_ONE_LAYER))
    unknown = sorted(k for k in sd if k not in TORCH_RNN_KEYS)
    if unknown:
        raise ValueError("%s has unexpected key %r (expected %s)" % (where, unknown[0], ", ".join(TORCH_RNN_KEYS)))
    for k in ("weight_ih_l0", "weight_hh_l0"):
        if k not in sd:
            raise ValueError("%s is missing %r" % (where, k))
    wih = sd["weight_ih_l0"]
    if len(shape_of(wih)) != 2:
        raise ValueError("%s: 'weight_ih_l0' has shape %s, expected (H, X)" % (where, _fmt(shape_of(wih))))
    H, X = shape_of(wih)
    Wxh = to_floats(wih)
    Whh = _values(where, "weight_hh_l0", sd["weight_hh_l0"], (H, H))
    if ("bias_ih_l0" in sd) != ("bias_hh_l0" in sd):
        raise ValueError("%s has only one of 'bias_ih_l0' and 'bias_hh_l0'" % where)
    if "bias_ih_l0" in sd:
        bi = _values(where, "bias_ih_l0", sd["bias_ih_l0"], (H,))
        bhh = _values(where, "bias_hh_l0", sd["bias_hh_l0"], (H,))
        bh = [a + b for a, b in zip(bi, bhh)]
    else:
        bh = [0.0] * H
    lwhere = "nn.Linear state dict"
    unknown = sorted(k for k in lsd if k not in ("weight", "bias"))
    if unknown or "weight" not in lsd:
        raise ValueError("%s must hold 'weight' (Y, H) and optionally 'bias' (Y,), found %s" % (lwhere, ", ".join(sorted(lsd)) or "nothing"))
    w = lsd["weight"]
    if len(shape_of(w)) != 2 or shape_of(w)[1] != H:
        raise ValueError("%s: 'weight' has shape %s, expected (Y, %d) to follow the RNN's H = %d" % (lwhere, _fmt(shape_of(w)), H, H))
    Y = shape_of(w)[0]
    Why = to_floats(w)
    by = _values(lwhere, "bias", lsd["bias"], (Y,)) if "bias" in lsd else [0.0] * Y
    model = RNN(X, H, Y, T, head)
    _fill(model, Wxh + Whh + bh + Why + by)
    return model


def to_torch_state_dicts(model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> "Tuple[Dict[str, Array], Dict[str, Array]]":
    """``(rnn_state_dict, linear_state_dict)`` with arrays of ``xp`` (torch for ``load_state_dict``)."""
    ns = as_namespace(xp)
    dt = resolve_dtype(ns, dtype)
    g = model.get
    H = model.H

    def arr(values: Any, shape: "Tuple[int, ...]") -> Array:
        return ns.reshape(asarray(ns, values, dt, device), shape)

    rnn = {
        "weight_ih_l0": arr(g("Wxh"), (H, model.X)),
        "weight_hh_l0": arr(g("Whh"), (H, H)),
        "bias_ih_l0": arr(g("bh"), (H,)),
        "bias_hh_l0": arr([0.0] * H, (H,)),
    }
    linear = {"weight": arr(g("Why"), (model.Y, H)), "bias": arr(g("by"), (model.Y,))}
    return rnn, linear


def to_torch(model: RNN, dtype: Any = None, device: Any = None, batch_first: bool = True) -> "Tuple[Any, Any]":
    """New ``(nn.RNN, nn.Linear)`` modules holding the model's weights (imports torch)."""
    import torch

    if dtype in (None, "float64", torch.float64):
        dt = torch.float64
    elif dtype in ("float32", torch.float32):
        dt = torch.float32
    else:
        raise ValueError("dtype must be float64 or float32, got %r" % (dtype,))
    rnn = torch.nn.RNN(model.X, model.H, num_layers=1, nonlinearity="tanh", batch_first=batch_first, dtype=dt, device=device)
    linear = torch.nn.Linear(model.H, model.Y, dtype=dt, device=device)
    rsd, lsd = to_torch_state_dicts(model, torch, device=device, dtype=dt)
    rnn.load_state_dict(rsd)
    linear.load_state_dict(lsd)
    return rnn, linear


def _keras_weights(obj: Any, what: str) -> "Tuple[List[Any], Any]":
    """(weights, layer or None) from a weight list or a layer with get_weights()."""
    get = getattr(obj, "get_weights", None)
    if get is not None:
        return list(get()), obj
    if isinstance(obj, (list, tuple)):
        return list(obj), None
    raise ValueError("%s must be a list of arrays or a layer with get_weights(), got %s" % (what, type(obj).__name__))


def _activation_name(layer: Any) -> Optional[str]:
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    if isinstance(act, str):
        return act
    return str(getattr(act, "__name__", act))


def from_keras(rnn: Any, dense: Any, T: int, head: str = "softmax", activation: Optional[str] = None) -> RNN:
    """A tinyrnn model from Keras ``SimpleRNN`` + ``Dense`` weights (lists or layers)."""
    rw, rlayer = _keras_weights(rnn, "rnn")
    dw, dlayer = _keras_weights(dense, "dense")
    if rlayer is not None:
        act = _activation_name(rlayer)
        if activation is not None and act is not None and act != activation:
            raise ValueError("activation=%r but the SimpleRNN layer says %r" % (activation, act))
        activation = act or activation
        if getattr(rlayer, "go_backwards", False):
            raise ValueError("SimpleRNN has go_backwards=True: %s" % WHY_FORWARD)
    if dlayer is not None:
        dact = _activation_name(dlayer)
        if dact not in (None, "linear"):
            raise ValueError("Dense has activation %r: tinyrnn's heads expect raw logits (activation None / 'linear')" % dact)
    activation = activation or "tanh"
    if activation != "tanh":
        raise ValueError("SimpleRNN activation is %r: tinyrnn is a tanh RNN (its C runtime computes tanh)" % activation)
    where = "SimpleRNN weights"
    if len(rw) not in (2, 3):
        raise ValueError("%s: expected [kernel, recurrent_kernel, bias] (or without bias), got %d arrays" % (where, len(rw)))
    kshape = shape_of(rw[0])
    if len(kshape) != 2:
        raise ValueError("%s: 'kernel' has shape %s, expected (X, H)" % (where, _fmt(kshape)))
    X, H = kshape
    Wxh = _transpose(to_floats(rw[0]), X, H)
    Whh = _transpose(_values(where, "recurrent_kernel", rw[1], (H, H)), H, H)
    bh = _values(where, "bias", rw[2], (H,)) if len(rw) == 3 else [0.0] * H
    dwhere = "Dense weights"
    if len(dw) not in (1, 2):
        raise ValueError("%s: expected [kernel, bias] (or without bias), got %d arrays" % (dwhere, len(dw)))
    dshape = shape_of(dw[0])
    if len(dshape) != 2 or dshape[0] != H:
        raise ValueError("%s: 'kernel' has shape %s, expected (%d, Y) to follow the SimpleRNN's H = %d" % (dwhere, _fmt(dshape), H, H))
    Y = dshape[1]
    Why = _transpose(to_floats(dw[0]), H, Y)
    by = _values(dwhere, "bias", dw[1], (Y,)) if len(dw) == 2 else [0.0] * Y
    model = RNN(X, H, Y, T, head)
    _fill(model, Wxh + Whh + bh + Why + by)
    return model


def to_keras(model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> "Tuple[List[Array], List[Array]]":
    """``([kernel, recurrent_kernel, bias], [kernel, bias])`` for ``SimpleRNN.set_weights`` / ``Dense.set_weights``."""
    ns = as_namespace(xp)
    dt = resolve_dtype(ns, dtype)
    X, H, Y = model.X, model.H, model.Y
    L = model.layout
    P = model.params

    def arr(values: List[float], shape: "Tuple[int, ...]") -> Array:
        return ns.reshape(asarray(ns, values, dt, device), shape)

    kernel = _transpose(P[L.Wxh : L.Wxh + H * X], H, X)  # (X, H)
    rec = _transpose(P[L.Whh : L.Whh + H * H], H, H)
    dk = _transpose(P[L.Why : L.Why + Y * H], Y, H)  # (H, Y)
    return (
        [arr(kernel, (X, H)), arr(rec, (H, H)), arr(P[L.bh : L.bh + H], (H,))],
        [arr(dk, (H, Y)), arr(P[L.by : L.by + Y], (Y,))],
    )


def _fill(model: RNN, values: List[float]) -> None:
    import math

    if not math.isfinite(sum(values)):
        k = next(i for i, v in enumerate(values) if not math.isfinite(v))
        name = next(n for n, (off, _, _) in reversed(list(model.layout.groups.items())) if off <= k)
        raise ValueError("imported weights: %s has a non-finite value (%r)" % (name, values[k]))
    model.params[:] = values


__all__ = ["from_torch", "to_torch", "to_torch_state_dicts", "from_keras", "to_keras"]
