"""CPython's dot products and kernels written out per size (kernels.py imports this; MicroPython never does)."""

# dot(a, b)                  sum_i a[i] * b[i]
# dots_all(As, Bs)           [dot(a, b) for a in As for b in Bs]
# dots_plus(As, x, add, f)   [f(dot(a, x) + c) for a, c in zip(As, add)]  (f None: no f)
#   bias=True: the rows of Bs (dots_all) or As (dots_plus) end with a bias and
#   the vectors are one number shorter, as if they ended with 1.0 (b * 1.0 is b)
# written(kind, H)           the tanh recurrence of H units over a chunk, forward ("steps") or
#                            backward ("dsteps"), compiled for H; None where it does not pay
#
# Rows of at most 12 numbers (H <= 11 with the bias appended): every dot
# product is one expression written out, a0*b0 + a1*b1 + ..., compiled once
# per length. Its multiplies and adds are the interpreter's float
# instructions with no call per dot: 0.75-0.87x the time of a comprehension
# of math.sumprod calls at 8-12 numbers (3.12); at 13-15 within 10 % of it,
# at 16 slower, so longer rows keep sumprod.
# Longer rows: math.sumprod (3.12+), else map(mul) chains summed with no
# Python frame per dot (3.9-3.11). Short rows are summed left to right, as
# sum(map(mul, a, b)) and MicroPython's loops do; sumprod sums more exactly.
#
# The recurrences (kernels.steps for H <= 11, kernels.dsteps for H <= 12) go
# further: the weights are unpacked into local variables once per chunk and
# the state stays in locals from one step to the next, so a step is its
# arithmetic and two slice writes (forward ~0.6x the time of a loop of
# kernels.mv calls at H = 8). Each computes exactly what that loop computes,
# in the same order (tests/test_kernels.py compares them bit for bit).
#
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

SHORT = 12  # the longest row written out


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


def _names(fmt: str, n: int) -> str:
    """'x0, x1, ..., ' for fmt 'x%d': a tuple target even for n = 1."""
    return "".join((fmt + ", ") % j for j in range(n))


def _sum(row: str, col: str, n: int) -> str:
    """'w3_0 * r0 + w3_1 * r1 + ...' for row 'w3_', col 'r'."""
    return " + ".join("%s%d * %s%d" % (row, j, col, j) for j in range(n))


def _compile(src: str, name: str) -> "Any":
    ns = {}  # type: Dict[str, Any]
    exec(src, ns)
    return ns[name]


_DOTS = """
def all_(As, Bs):
    return [{s} for {a} in As for {b} in Bs]

def plus(As, x, add_, f):
    {b} = x
    if f is None:
        return [{s} + c for ({a}), c in zip(As, add_)]
    return [f({s} + c) for ({a}), c in zip(As, add_)]
"""

_BIAS = """
def all_(As, Bs):
    return [{s} + b{L} for {a} in As for {b1} in Bs]

def plus(As, x, add_, f):
    {b} = x
    if f is None:
        return [{s} + a{L} + c for ({a1}), c in zip(As, add_)]
    return [f({s} + a{L} + c) for ({a1}), c in zip(As, add_)]
"""

# [C]: (all, plus, all with bias, plus with bias) for rows of C numbers, compiled on first use
_short = [None] * (SHORT + 1)  # type: List[Any]


def _written_out(C: int) -> "Any":
    fs = _short[C]
    if fs is None:
        a, b = _names("a%d", C), _names("b%d", C)
        src = _DOTS.format(s=_sum("a", "b", C), a=a, b=b)
        fs = [_compile(src, "all_"), _compile(src, "plus"), None, None]
        if C > 1:  # rows of C - 1 weights and a bias
            a0, b0 = _names("a%d", C - 1), _names("b%d", C - 1)
            src = _BIAS.format(s=_sum("a", "b", C - 1), L=C - 1, a=a0, b=b0, a1=a, b1=b)
            fs[2:] = _compile(src, "all_"), _compile(src, "plus")
        _short[C] = fs
    return fs


def dots_all(As: "List[Buf]", Bs: "List[Buf]", bias: bool = False) -> "List[float]":
    """[dot(a, b) for a in As for b in Bs]: every pair, one pass."""
    C = len(Bs[0]) if Bs else 0
    if 0 < C <= SHORT and (C > 1 or not bias):
        out: "List[float]" = (_short[C] or _written_out(C))[2 if bias else 0](As, Bs)
        return out
    return _long_all([a + [1.0] for a in As] if bias else As, Bs)


def dots_plus(As: "List[Buf]", x: "Buf", add_: "Buf", f: "Fn" = None, bias: bool = False) -> "Iterable[float]":
    """dot(a, x) + c (then f of it) for each row a and addend c."""
    C = len(x) + bias
    if 0 < C <= SHORT and (C > 1 or not bias):
        out: "List[float]" = (_short[C] or _written_out(C))[3 if bias else 1](As, x, add_, f)
        return out
    return _long_plus(As, x + [1.0] if bias else x, add_, f)


# h[t+1] = tanh([W | b] [h[t] | 1] + P[aoff + ids[t] + i*stride]) for t < n: the handle's rows [W_i | b_i]
# unpacked into w{i}_{j}; the state h{j}; the sums of dots_plus' rows of H+1 (b_i * 1.0 is b_i).
_STEPS = """
def steps(M, h, n, P, aoff, stride, ids, tanh):
    {W} = M[0]
    {h} = h[0:{H}]
    for t in range(n):
        c = aoff + ids[t]
        {h} = {new}
        h[(t + 1) * {H}:(t + 2) * {H}] = {h}
"""

# backward from t = n-1 to 0: r = dr[t] = (1 - h[t+1]^2) dh[t], then dh[t-1] += W^T r
# (t > 0) or dnext = W^T r (t = 0); W^T's rows (W's columns) unpacked into u{j}_{i} = W[i, j].
_DSTEPS = """
def dsteps(MT, h, dh, dr, n, dnext):
    {U} = MT
    for t in range(n - 1, -1, -1):
        lo = t * {H}
        {a} = h[lo + {H}:lo + {H2}]
        {g} = dh[lo:lo + {H}]
{r}
        dr[lo:lo + {H}] = {rt}
        if t:
            {d} = dh[lo - {H}:lo]
            dh[lo - {H}:lo] = {back}
        else:
            dnext[0:{H}] = {last}
"""

_recurrences = {}  # type: Dict[tuple[str, int], Any]


def written(kind: str, H: int) -> "Any":
    """The compiled recurrence ``kind`` ("steps" or "dsteps") for H units, or None where its dots are too long.

    Only where the per-step kernels write their dots out too (rows of H + 1
    with the bias forward, H back), so both compute the same sums.
    """
    if H + (kind == "steps") > SHORT:
        return None
    f = _recurrences.get((kind, H))
    if f is None:
        if kind == "steps":
            W = ", ".join("(%s)" % _names("w%d_%%d" % i, H + 1) for i in range(H)) + ","
            row = "tanh(%s + w%d_%d + P[c + %d * stride]), "  # unit i: its dots, its bias, its Wxh entry
            new = "".join(row % (_sum("w%d_" % i, "h", H), i, H, i) for i in range(H))
            src = _STEPS.format(W=W, h=_names("h%d", H), H=H, new=new)
        else:
            U = ", ".join("(%s)" % _names("u%d_%%d" % j, H) for j in range(H)) + ","
            r = "\n".join("        r%d = (1.0 - a%d * a%d) * g%d" % (j, j, j, j) for j in range(H))
            back = "".join("%s + d%d, " % (_sum("u%d_" % j, "r", H), j) for j in range(H))
            last = "".join("%s, " % _sum("u%d_" % j, "r", H) for j in range(H))
            src = _DSTEPS.format(
                U=U, H=H, H2=2 * H, a=_names("a%d", H), g=_names("g%d", H), r=r, rt=_names("r%d", H),
                d=_names("d%d", H), back=back, last=last,
            )
        f = _recurrences[(kind, H)] = _compile(src, kind)
    return f
