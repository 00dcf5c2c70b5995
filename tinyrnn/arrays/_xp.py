"""Array API plumbing: namespaces, devices, dtypes, reading values back.

Everything array-shaped in ``tinyrnn.arrays`` goes through here, so the
rest of the package is written against the Array API standard only. Arrays
are typed ``Any``: the standard has no static array type that numpy, torch
and array-api-strict all satisfy.
"""

from typing import Any, List, Optional, Sequence

import array_api_compat

Array = Any
Namespace = Any
Device = Any


def namespace(*arrays: Array) -> Namespace:
    """The Array API namespace of ``arrays`` (array-api-compat's wrapper for numpy/torch)."""
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError as e:
        raise ValueError("not arrays of one Array API library: %s" % e) from None


def as_namespace(xp: Any) -> Namespace:
    """Accept a library module (numpy, torch, array_api_strict) or a namespace; return the namespace."""
    if xp is None:
        raise ValueError("an array namespace is required (e.g. numpy, torch or array_api_strict)")
    if not hasattr(xp, "asarray"):
        raise ValueError("%r is not an array library (it has no asarray)" % (xp,))
    return namespace(xp.asarray(0))


def device_of(x: Array) -> Device:
    return array_api_compat.device(x)


def resolve_dtype(xp: Namespace, dtype: Any) -> Any:
    """``None`` / "float64" / "float32" or a dtype object of ``xp`` -> a floating dtype of ``xp``."""
    if dtype is None or dtype == "float64":
        return xp.float64
    if dtype == "float32":
        return xp.float32
    if dtype == xp.float64 or dtype == xp.float32:
        return dtype
    raise ValueError("dtype must be float64 or float32, got %r" % (dtype,))


def cpu_device(xp: Namespace) -> Device:
    """The namespace's CPU device: "cpu" for numpy, torch and CuPy (array-api-compat
    copies CuPy arrays to numpy), otherwise the CPU entry of the inspection API's
    ``devices()`` (array-api-strict's CPU_DEVICE, JAX's CpuDevice)."""
    for probe in ("is_numpy_namespace", "is_torch_namespace", "is_cupy_namespace"):
        if getattr(array_api_compat, probe, lambda _: False)(xp):
            return "cpu"
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            devices = list(info().devices())
        except Exception:
            devices = []
        for d in devices:
            if "cpu" in str(d).lower():
                return d
    return "cpu"


def to_cpu(x: Array) -> Array:
    """``x`` on the CPU device of its namespace (no copy when it is there already)."""
    xp = namespace(x)
    dev = cpu_device(xp)
    if str(device_of(x)) == str(dev):
        return x
    return array_api_compat.to_device(x, dev)


def to_floats(x: Array) -> List[float]:
    """All values of ``x`` (any shape, row-major) as Python floats, read on the CPU."""
    xp = namespace(x)
    flat = xp.reshape(to_cpu(x), (-1,))
    tolist = getattr(flat, "tolist", None)
    if tolist is not None:
        if hasattr(flat, "detach"):  # torch: parameters may require grad
            flat = flat.detach()
            tolist = flat.tolist
        return [float(v) for v in tolist()]
    try:  # array-api-strict and other libraries without tolist: via DLPack
        import numpy

        return [float(v) for v in numpy.from_dlpack(flat).tolist()]
    except Exception:
        return [float(flat[i]) for i in range(int(flat.shape[0]))]


def to_float(x: Array) -> float:
    """A 0-d array as a Python float (read on the CPU)."""
    return float(to_cpu(x))


def asarray(xp: Namespace, values: Any, dtype: Any, device: Optional[Device]) -> Array:
    return xp.asarray(values, dtype=dtype, device=device)


def shape_of(x: Any) -> Sequence[int]:
    shape = getattr(x, "shape", None)
    if shape is None:
        raise ValueError("expected an array, got %s" % type(x).__name__)
    return tuple(int(s) for s in shape)


def is_integer_dtype(xp: Namespace, x: Array) -> bool:
    return bool(xp.isdtype(x.dtype, "integral"))


def all_finite(xp: Namespace, x: Array) -> bool:
    return bool(to_cpu(xp.all(xp.isfinite(x))))


__all__ = [
    "Array",
    "Namespace",
    "Device",
    "namespace",
    "as_namespace",
    "device_of",
    "resolve_dtype",
    "cpu_device",
    "to_cpu",
    "to_floats",
    "to_float",
    "asarray",
    "shape_of",
    "is_integer_dtype",
    "all_finite",
]
