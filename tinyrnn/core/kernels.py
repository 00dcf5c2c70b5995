"""The few primitives the math modules need, chosen per interpreter.

CPython runs loops fastest when a builtin drives them (``map`` over a C
function, ``math.sumprod``); MicroPython lacks some of those builtins, so
each primitive here has a plain fallback that computes the same value.
Nothing here allocates buffers that outlive a call.
"""

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, List, Optional, Sequence, TypeVar

    T_ = TypeVar("T_")



def _add(a: float, b: float) -> float:
    return a + b


def _sub(a: float, b: float) -> float:
    return a - b


def _mul(a: float, b: float) -> float:
    return a * b


def _truediv(a: float, b: float) -> float:
    return a / b


try:
    import operator as _operator
except ImportError:  # pragma: no cover - some MicroPython builds
    _operator = None  # type: ignore[assignment]

# CPython's operator functions let map() run a loop without bytecode;
# MicroPython's operator module has neither add nor mul.
add: "Callable[[float, float], float]" = getattr(_operator, "add", _add)
sub: "Callable[[float, float], float]" = getattr(_operator, "sub", _sub)
mul: "Callable[[float, float], float]" = getattr(_operator, "mul", _mul)
truediv: "Callable[[float, float], float]" = getattr(_operator, "truediv", _truediv)


def _dot_fallback(a: "Sequence[float]", b: "Sequence[float]") -> float:
    return sum(map(mul, a, b))


# dot(a, b) = sum_i a[i] * b[i]; both sequences must have the same length.
dot: "Callable[[Sequence[float], Sequence[float]], float]" = getattr(math, "sumprod", _dot_fallback)


def _log1p_fallback(x: float) -> float:
    # Goldberg's trick: exact to a few ulps without a native log1p.
    u = 1.0 + x
    if u == 1.0:
        return x
    return math.log(u) * x / (u - 1.0)


log1p: "Callable[[float], float]" = getattr(math, "log1p", _log1p_fallback)


try:
    _getitem = list.__getitem__  # absent on MicroPython
    HAVE_GETITEM = True
except AttributeError:
    HAVE_GETITEM = False


def take(buf: "List[float]", slices: "Sequence[slice]") -> "List[List[float]]":
    """``[buf[s] for s in slices]``, with the loop in C where possible."""
    if HAVE_GETITEM:
        return list(map(buf.__getitem__, slices))
    return [buf[s] for s in slices]


def repeat_each(items: "Sequence[T_]", k: int) -> "List[T_]":
    """[a, b] -> [a]*k + [b]*k (lists of numbers or of rows)."""
    out = []  # type: List[T_]
    for it in items:
        out += [it] * k
    return out


class _SliceMaker:
    def __getitem__(self, key: slice) -> slice:
        return key


_slice_maker = _SliceMaker()


def _make_slice(start: "Optional[int]", stop: "Optional[int]", step: "Optional[int]" = None) -> slice:
    # subscript syntax still builds a slice where the constructor is missing
    return _slice_maker[start:stop:step]


try:
    slice(0, 1)
    HAVE_SLICE_NEW = True
except TypeError:  # MicroPython 1.27: "can't create 'slice' instances"
    HAVE_SLICE_NEW = False

# mkslice(start, stop[, step]) == slice(start, stop, step), on every interpreter.
mkslice: "Callable[..., slice]" = slice if HAVE_SLICE_NEW else _make_slice


def _probe_ext_slice_store() -> bool:
    probe = [0.0, 0.0]
    try:
        probe[0:2:2] = [1.0]
    except Exception:  # MicroPython: NotImplementedError or TypeError
        return False
    return probe[0] == 1.0


HAVE_EXT_SLICE_STORE = _probe_ext_slice_store()


def add_strided(buf: "List[float]", start: int, step: int, values: "Sequence[float]") -> None:
    """``buf[start + k*step] += values[k]`` for every k."""
    n = len(values)
    if HAVE_EXT_SLICE_STORE:
        s = slice(start, start + n * step, step)
        buf[s] = list(map(add, buf[s], values))
    else:
        for k in range(n):
            buf[start + k * step] += values[k]


__all__ = ["add", "sub", "mul", "truediv", "mkslice", "repeat_each", "dot", "log1p", "take", "add_strided", "TYPE_CHECKING"]
