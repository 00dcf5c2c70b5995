"""A tinyrnn model <-> arrays of any Array API library.

Parameter groups keep the core's shapes and names (``model.layout.names``:
``Wxh`` (G*H, X), ``Whh`` (G*H, H), ``bh`` (H,) or ``bxh``/``bhh`` (G*H,),
``Wxh1`` ... for deeper layers, ``Why`` (Y, H), ``by`` (Y,)); the flat form
is the core's ``params`` buffer (that order, row-major).
Arrays are created on the ``device`` given (default: the library's default
device) and read back through the library's CPU device.
"""

import math
from typing import Any, Dict, Mapping, Optional

from ..core.model import RNN
from ._xp import Array, as_namespace, asarray, resolve_dtype, shape_of, to_floats


def group_shape(model: RNN, name: str) -> "tuple[int, ...]":
    _, rows, cols = model.layout.groups[name]
    return (rows, cols) if cols else (rows,)


def to_arrays(model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> Dict[str, Array]:
    """The model's parameter groups as arrays of namespace ``xp`` (copies)."""
    ns = as_namespace(xp)
    dt = resolve_dtype(ns, dtype)
    out = {}
    for name in model.layout.names:
        off = model.layout.groups[name][0]
        n = model.layout.group_size(name)
        flat = asarray(ns, model.params[off : off + n], dt, device)
        out[name] = ns.reshape(flat, group_shape(model, name))
    return out


def params_to_array(model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> Array:
    """The flat parameter buffer as a 1-D array of namespace ``xp``."""
    ns = as_namespace(xp)
    return asarray(ns, model.params, resolve_dtype(ns, dtype), device)


def params_from_array(model: RNN, flat: Array) -> None:
    """Overwrite ``model.params`` from a flat array (any namespace and device)."""
    shape = shape_of(flat)
    if shape != (model.num_params,):
        raise ValueError("flat parameter array has shape %s, expected (%d,)" % (shape, model.num_params))
    values = to_floats(flat)
    _check_finite("params", values)
    model.params[:] = values


def from_arrays(model: RNN, arrays: Mapping[str, Array]) -> None:
    """Overwrite ``model``'s parameters from a mapping of group name -> array.

    Every group must be present with the model's shape; the model is left
    unchanged when any check fails.
    """
    names = model.layout.names
    missing = [g for g in names if g not in arrays]
    if missing:
        raise ValueError("parameter arrays are missing %s" % ", ".join(missing))
    extra = sorted(k for k in arrays if k not in names)
    if extra:
        raise ValueError("unknown parameter group(s) %s (groups: %s)" % (", ".join(extra), ", ".join(names)))
    new = list(model.params)
    for name in names:
        want = group_shape(model, name)
        got = shape_of(arrays[name])
        if got != want:
            raise ValueError("%s has shape %s, expected %s" % (name, got, want))
        values = to_floats(arrays[name])
        _check_finite(name, values)
        off = model.layout.groups[name][0]
        new[off : off + len(values)] = values
    model.params[:] = new


def model_from_arrays(arrays: Mapping[str, Array], T: int, head: str = "softmax") -> RNN:
    """A new RNN whose X, H, Y, cell and layers are read from the groups: ``Wxh`` (G*H, X), ``Why`` (Y, H), ``Wxh1`` ... and ``bxh`` (gated)."""
    for name in ("Wxh", "Why"):
        if name not in arrays:
            raise ValueError("parameter arrays are missing %s" % name)
        if len(shape_of(arrays[name])) != 2:
            raise ValueError("%s must be a matrix, got shape %s" % (name, shape_of(arrays[name])))
    GH, X = shape_of(arrays["Wxh"])
    Y, H = shape_of(arrays["Why"])
    cell = {1: "rnn", 3: "gru", 4: "lstm"}.get(GH // H) if GH % H == 0 else None
    if cell is None or (cell == "rnn") != ("bxh" not in arrays):
        raise ValueError("Wxh has shape %s: expected (G*H, X) with H = %d (Why's columns) and G = 1 (rnn, with bh), 3 (gru) or 4 (lstm, with bxh, bhh)" % (shape_of(arrays["Wxh"]), H))
    layers = 1
    while "Wxh%d" % layers in arrays:
        layers += 1
    model = RNN(X, H, Y, T, head, cell=cell, layers=layers)
    from_arrays(model, arrays)
    return model


def _check_finite(what: str, values: "list[float]") -> None:
    if math.isfinite(sum(values)):
        return
    for k, v in enumerate(values):
        if not math.isfinite(v):
            raise ValueError("%s[%d] is not finite (%r)" % (what, k, v))


def clone(model: RNN, T: Optional[int] = None) -> RNN:
    """A copy of ``model`` (optionally with another T)."""
    m = RNN(model.X, model.H, model.Y, model.T if T is None else T, model.head, cell=model.cell, layers=model.layers)
    m.params[:] = model.params
    return m


__all__ = ["to_arrays", "from_arrays", "params_to_array", "params_from_array", "model_from_arrays", "group_shape", "clone"]
