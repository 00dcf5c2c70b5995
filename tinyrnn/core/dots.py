"""CPython's dot products, for kernels.py (never imported on MicroPython)."""

# dot(a, b)                  sum_i a[i] * b[i]
# dots_all(As, Bs)           [dot(a, b) for a in As for b in Bs]
# dots_plus(As, x, add, f)   [f(dot(a, x) + c) for a, c in zip(As, add)]  (f None: no f)
#
# Rows of at most 16 numbers (H <= 15 with the bias appended): every dot
# product is one expression written out, a0*b0 + a1*b1 + ..., compiled once
# per length. Its multiplies and adds are the interpreter's float
# instructions with no call per dot: 0.75x the time of a comprehension of
# math.sumprod calls at 9 numbers (3.12), the same at 17, slower beyond.
# Longer rows: math.sumprod (3.12+), else map(mul) chains summed with no
# Python frame per dot (3.9-3.11). Short rows are summed left to right, as
# sum(map(mul, a, b)) and MicroPython's loops do; sumprod sums more exactly.
# Kept apart from kernels.py because MicroPython interns every name of a
# module it compiles, on the board's heap.

import math
from itertools import repeat
from operator import add, mul

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

    Buf = List[float]
    Fn = Optional[Callable[[float], float]]

SHORT = 16  # the longest row written out


def _sum_of_products(a: "Sequence[float]", b: "Sequence[float]") -> float:
    s: float = sum(map(mul, a, b))
    return s


dot: "Callable[[Sequence[float], Sequence[float]], float]" = getattr(math, "sumprod", _sum_of_products)


if hasattr(math, "sumprod"):

    def _long_all(As: "List[Buf]", Bs: "List[Buf]") -> "List[float]":
        return [dot(a, b) for a in As for b in Bs]

    def _long_plus(As: "List[Buf]", x: "Buf", add_: "Buf", f: "Fn") -> "Iterable[float]":
        if f is None:
            return [dot(a, x) + c for a, c in zip(As, add_)]
        return [f(dot(a, x) + c) for a, c in zip(As, add_)]

else:  # 3.9-3.11: the same sums with no Python frame per dot

    def _long_all(As: "List[Buf]", Bs: "List[Buf]") -> "List[float]":
        return list(map(sum, map(map, repeat(mul), [a for a in As for _ in Bs], Bs * len(As))))

    def _long_plus(As: "List[Buf]", x: "Buf", add_: "Buf", f: "Fn") -> "Iterable[float]":
        pre = map(add, map(sum, map(map, repeat(mul), As, repeat(x, len(As)))), add_)
        return pre if f is None else map(f, pre)


_short = [None] * (SHORT + 1)  # type: List[Any]  # [C]: (all, plus) for rows of C, compiled on first use

_TEMPLATE = """
def all_(As, Bs):
    return [{s} for {a} in As for {b} in Bs]

def plus(As, x, add_, f):
    {b} = x
    if f is None:
        return [{s} + c for ({a}), c in zip(As, add_)]
    return [f({s} + c) for ({a}), c in zip(As, add_)]
"""


def _written_out(C: int) -> "Any":
    pair = _short[C]
    if pair is None:
        a = "".join("a%d, " % j for j in range(C))  # trailing comma: a tuple target even for C = 1
        b = "".join("b%d, " % j for j in range(C))
        s = " + ".join("a%d * b%d" % (j, j) for j in range(C))
        ns = {}  # type: Dict[str, Any]
        exec(_TEMPLATE.format(s=s, a=a, b=b), ns)
        pair = _short[C] = (ns["all_"], ns["plus"])
    return pair


def dots_all(As: "List[Buf]", Bs: "List[Buf]") -> "List[float]":
    """[dot(a, b) for a in As for b in Bs]: every pair, one pass."""
    C = len(Bs[0]) if Bs else 0
    if 0 < C <= SHORT:
        out: "List[float]" = (_short[C] or _written_out(C))[0](As, Bs)
        return out
    return _long_all(As, Bs)


def dots_plus(As: "List[Buf]", x: "Buf", add_: "Buf", f: "Fn" = None) -> "Iterable[float]":
    """dot(a, x) + c (then f of it) for each row a and addend c."""
    C = len(x)
    if 0 < C <= SHORT:
        out: "List[float]" = (_short[C] or _written_out(C))[1](As, x, add_, f)
        return out
    return _long_plus(As, x, add_, f)
