"""PyTorch ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` (any ``num_layers``, unidirectional) + ``nn.Linear`` <-> tinyrnn.

tinyrnn's cells are PyTorch's, so the weights move over unchanged, layer l::

    weight_ih_l{l} (G*H, X_l) -> Wxh{l}     weight (Y, H) -> Why
    weight_hh_l{l} (G*H, H)   -> Whh{l}     bias   (Y,)   -> by
    gru / lstm: bias_ih_l{l} -> bxh{l}, bias_hh_l{l} -> bhh{l}
    rnn:        bias_ih_l{l} + bias_hh_l{l} -> bh{l}   (export: bias_ih = bh, bias_hh = 0)

G = 1 (rnn), 3 (gru: r, z, n), 4 (lstm: i, f, g, o); a state dict's cell is read
from weight_hh_l0's shape (G*H rows, H columns). ``batch_first`` does not change the
weights. A missing bias (``bias=False``) reads as zeros.
"""

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._xp import Array, as_namespace, asarray, resolve_dtype, shape_of, to_floats
from ..core.model import RNN
from .formats import CELL_OF_GATES, WHY_FORWARD, _fill, _fmt, _values

MODULES = {"rnn": "nn.RNN", "gru": "nn.GRU", "lstm": "nn.LSTM"}
MODE_CELL = {"RNN_TANH": "rnn", "RNN_RELU": "rnn", "GRU": "gru", "LSTM": "lstm"}


def _state_dict(obj: Any, what: str) -> "Mapping[str, Any]":
    if isinstance(obj, Mapping):
        return obj
    sd = getattr(obj, "state_dict", None)
    if sd is None:
        raise ValueError("%s must be a state dict or a torch module, got %s" % (what, type(obj).__name__))
    return sd()  # type: ignore[no-any-return]


def from_torch(rnn: Any, linear: Any, T: int, head: str = "softmax", nonlinearity: Optional[str] = None, cell: Optional[str] = None) -> RNN:
    """A tinyrnn model from an ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` and an ``nn.Linear`` (modules or state dicts).

    A module says its cell and nonlinearity; a state dict's cell is read from its shapes
    (``cell=`` checks it). A state dict does not record an RNN's nonlinearity: pass the
    module, or ``nonlinearity="relu"`` to have a relu model refused; it is otherwise taken
    to be tanh (nn.RNN's default).
    """
    if not isinstance(rnn, Mapping):
        mode = getattr(rnn, "mode", "RNN_TANH")
        mcell = MODE_CELL.get(mode)
        if mcell is None:
            raise ValueError("torch module of mode %r: tinyrnn imports nn.RNN, nn.GRU and nn.LSTM" % (mode,))
        if cell is not None and cell != mcell:
            raise ValueError("cell=%r but the module is %s" % (cell, MODULES[mcell]))
        cell = mcell
        what = MODULES[mcell]
        nl = getattr(rnn, "nonlinearity", None) if mcell == "rnn" else None
        if nonlinearity is not None and nl is not None and nonlinearity != nl:
            raise ValueError("nonlinearity=%r but the nn.RNN module says %r" % (nonlinearity, nl))
        nonlinearity = nl or nonlinearity
        if getattr(rnn, "bidirectional", False):
            raise ValueError("%s is bidirectional: %s" % (what, WHY_FORWARD))
        if getattr(rnn, "proj_size", 0):
            raise ValueError("%s has proj_size=%r: tinyrnn's LSTM has no projection (its h is the cell output); use proj_size=0" % (what, rnn.proj_size))
    if (nonlinearity or "tanh") != "tanh":
        raise ValueError("nn.RNN nonlinearity is %r: tinyrnn is a tanh RNN (its C runtime computes tanh)" % nonlinearity)
    sd = _state_dict(rnn, "rnn")
    lsd = _state_dict(linear, "linear")
    where = "%s state dict" % (MODULES[cell] if cell in MODULES else "RNN")
    reverse = sorted(k for k in sd if k.endswith("_reverse"))
    if reverse:
        raise ValueError("%s has %s: a bidirectional RNN; %s" % (where, reverse[0], WHY_FORWARD))
    proj = sorted(k for k in sd if k.startswith("weight_hr_l"))
    if proj:
        raise ValueError("%s has %s: an LSTM with proj_size > 0; tinyrnn's LSTM has no projection" % (where, proj[0]))
    if "weight_ih_l0" not in sd:
        raise ValueError("%s is missing 'weight_ih_l0'" % where)
    numbered = [k for k in sd if k.rsplit("_l", 1)[-1].isdigit()]
    layers = 1 + max(int(k.rsplit("_l", 1)[-1]) for k in numbered)
    known = {"%s_%s_l%d" % (kind, part, l) for l in range(layers) for kind in ("weight", "bias") for part in ("ih", "hh")}
    unknown = sorted(k for k in sd if k not in known)
    if unknown:
        raise ValueError("%s has unexpected key %r (expected weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k>)" % (where, unknown[0]))
    wih = sd["weight_ih_l0"]
    if len(shape_of(wih)) != 2:
        raise ValueError("%s: 'weight_ih_l0' has shape %s, expected (G*H, X)" % (where, _fmt(shape_of(wih))))
    if "weight_hh_l0" not in sd:
        raise ValueError("%s is missing 'weight_hh_l0'" % where)
    whh = shape_of(sd["weight_hh_l0"])
    GH, X = shape_of(wih)
    if len(whh) != 2 or whh[0] != GH or whh[1] < 1 or GH % whh[1] or GH // whh[1] not in CELL_OF_GATES:
        raise ValueError("%s: 'weight_hh_l0' has shape %s, expected (G*H, H) with %d rows like weight_ih_l0 and G = 1 (RNN), 3 (GRU) or 4 (LSTM)" % (
            where, _fmt(whh), GH))
    H = whh[1]
    scell = CELL_OF_GATES[GH // H]
    if cell is not None and cell != scell:
        raise ValueError("%s: weight_hh_l0 %s is a %s's (G = %d), not an %s's" % (where, _fmt(whh), MODULES[scell], GH // H, MODULES[cell]))
    cell = scell
    values: List[float] = []
    for l in range(layers):
        keys = ["weight_ih_l%d" % l, "weight_hh_l%d" % l]
        for k in keys:
            if k not in sd:
                raise ValueError("%s is missing %r" % (where, k))
        values += _values(where, keys[0], sd[keys[0]], (GH, X if l == 0 else H))
        values += _values(where, keys[1], sd[keys[1]], (GH, H))
        bi, bh = "bias_ih_l%d" % l, "bias_hh_l%d" % l
        if (bi in sd) != (bh in sd):
            raise ValueError("%s has only one of %r and %r" % (where, bi, bh))
        if bi in sd:
            b1, b2 = _values(where, bi, sd[bi], (GH,)), _values(where, bh, sd[bh], (GH,))
        else:
            b1, b2 = [0.0] * GH, [0.0] * GH
        values += [a + b for a, b in zip(b1, b2)] if cell == "rnn" else b1 + b2
    lwhere = "nn.Linear state dict"
    unknown = sorted(k for k in lsd if k not in ("weight", "bias"))
    if unknown or "weight" not in lsd:
        raise ValueError("%s must hold 'weight' (Y, H) and optionally 'bias' (Y,), found %s" % (lwhere, ", ".join(sorted(lsd)) or "nothing"))
    w = lsd["weight"]
    if len(shape_of(w)) != 2 or shape_of(w)[1] != H:
        raise ValueError("%s: 'weight' has shape %s, expected (Y, %d) to follow the RNN's H = %d" % (lwhere, _fmt(shape_of(w)), H, H))
    Y = shape_of(w)[0]
    values += to_floats(w)
    values += _values(lwhere, "bias", lsd["bias"], (Y,)) if "bias" in lsd else [0.0] * Y
    model = RNN(X, H, Y, T, head, cell=cell, layers=layers)
    _fill(model, values)
    return model


def to_torch_state_dicts(model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> "Tuple[Dict[str, Array], Dict[str, Array]]":
    """``(rnn_state_dict, linear_state_dict)`` with arrays of ``xp`` (torch for ``load_state_dict``)."""
    ns = as_namespace(xp)
    dt = resolve_dtype(ns, dtype)
    lay = model.layout
    cell = model.cell
    P = model.params

    def arr(name: str) -> Array:
        off, rows, cols = lay.groups[name]
        shape = (rows, cols) if cols else (rows,)
        return ns.reshape(asarray(ns, P[off : off + rows * (cols or 1)], dt, device), shape)

    rnn: Dict[str, Array] = {}
    for l in range(model.layers):
        s = "" if l == 0 else str(l)
        rnn["weight_ih_l%d" % l] = arr("Wxh" + s)
        rnn["weight_hh_l%d" % l] = arr("Whh" + s)
        if cell == "rnn":
            rnn["bias_ih_l%d" % l] = arr("bh" + s)
            rnn["bias_hh_l%d" % l] = ns.zeros((model.H,), dtype=dt, device=device)
        else:
            rnn["bias_ih_l%d" % l] = arr("bxh" + s)
            rnn["bias_hh_l%d" % l] = arr("bhh" + s)
    return rnn, {"weight": arr("Why"), "bias": arr("by")}


def to_torch(model: RNN, dtype: Any = None, device: Any = None, batch_first: bool = True) -> "Tuple[Any, Any]":
    """New ``(nn.RNN | nn.GRU | nn.LSTM, nn.Linear)`` modules holding the model's weights (imports torch)."""
    import torch

    if dtype in (None, "float64", torch.float64):
        dt = torch.float64
    elif dtype in ("float32", torch.float32):
        dt = torch.float32
    else:
        raise ValueError("dtype must be float64 or float32, got %r" % (dtype,))
    cell = model.cell
    kw: Dict[str, Any] = {"nonlinearity": "tanh"} if cell == "rnn" else {}
    cls = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell]
    rnn = cls(model.X, model.H, num_layers=model.layers, batch_first=batch_first, dtype=dt, device=device, **kw)
    linear = torch.nn.Linear(model.H, model.Y, dtype=dt, device=device)
    rsd, lsd = to_torch_state_dicts(model, torch, device=device, dtype=dt)
    rnn.load_state_dict(rsd)
    linear.load_state_dict(lsd)
    return rnn, linear


__all__ = ["from_torch", "to_torch", "to_torch_state_dicts"]
