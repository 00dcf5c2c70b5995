"""The integer step: a bit-exact emulator of the C of ``tinyrnn export --quant``.

Only integer arithmetic in the step, with C's meaning (gcc, clang and
avr-gcc: ``>>`` of a negative number is an arithmetic shift, i.e. floor,
which is what Python's ``>>`` does); no division, no wraparound (every sum
is proven below 2**30 when the model is quantised, tinyrnn.workflow.quant,
so it is the same number in int32 C, in Python and in a 31-bit MicroPython
small int).

Formats (``Q15``: value = int / 2**15)::

    h, x (token: the one-hot 1.0 is 32768)      Q15, int16 in [-32767, 32767]
    W  one row per output unit: int8 (or int16) weights with one scale per row
    d_i   = sum_j (W_ij * v_j) >> P             int32, |d| < 2**30 (P = 0 int8, 8 int16); the input
                                                part of a hidden row times 2**kx_i (its own scale)
    pre_i = requant(d_i, b_i)                   Q12 for tanh (range +-8), Q11 for sigmoid (+-16)
    h_i   = tanh_q12(pre_i)                     table of 257 Q15 values, linear interpolation
    z_k   = requant(d_k, b_k)                   logits, Q(ZS) with ZS from calibration, int16

``requant(d) = sat16((clamp16((d >> r) + b) * m + 2**13) >> 14)``: the sum
``d`` of the products, shifted by ``r`` (per row), plus the bias ``b``
(int16, per row, in units of ``2**r``), clamped to int16, times the
multiplier ``m`` in [2**14, 2**15): the product stays below 2**30, and the
clamp changes nothing (at |t| = 2**15 the result has saturated already).

A model is a list of layers (Vanilla, or Gated: GRU and LSTM, which use
``sigmoid_q11`` and ``mul_q15`` for their gates and share the rest; layer
l > 0 reads layer l - 1's new h as a dense Q15 input) and an output row
set. Tables and parameters are plain lists of ints.
"""

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence, Union

TANH_SEGMENTS = 256  # table entries over [0, 8): one per 1/32
TANH_STEP_BITS = 7  # Q12 units per segment: 2**7 = 128 = 1/32
Q15_MAX = 32767
MUL_SHIFT = 14  # requant: (v * m) >> 14
ACC_LIMIT = 1 << 30  # every accumulator stays strictly inside (-2**30, 2**30)
M_LIMIT = 1 << 15  # requant multipliers lie in [2**14, 2**15)
R_LIMIT = 31  # and their shifts in [0, 31)


def tanh_table() -> "List[int]":
    """round(32768 * tanh(k / 32)) for k = 0 .. 256, capped at 32767 (built once, at import)."""
    return [min(Q15_MAX, int(math.floor(32768.0 * math.tanh(k / 32.0) + 0.5))) for k in range(TANH_SEGMENTS + 1)]


TANH = tanh_table()


def tanh_q12(p: int) -> int:
    """tanh of a Q12 value (an int16) as Q15 in [-32767, 32767]: table + linear interpolation, odd."""
    a = -p if p < 0 else p
    if a > 32767:
        a = 32767
    k = a >> TANH_STEP_BITS
    t0 = TANH[k]
    t = t0 + (((TANH[k + 1] - t0) * (a & 127) + 64) >> TANH_STEP_BITS)
    return -t if p < 0 else t


def sigmoid_q11(p: int) -> int:
    """sigmoid of a Q11 value as Q15 in [0, 32767]: (1 + tanh(x / 2)) / 2, and x/2 in Q12 is p itself."""
    return (32768 + tanh_q12(p)) >> 1


def mul_q15(a: int, b: int) -> int:
    """a * b of two Q15 values (|a|, |b| <= 32767: a*b is a small int), rounded: (a*b + 2**14) >> 15 (gates: z * h, r * n)."""
    return (a * b + 16384) >> 15


def requant(d: int, b: int, r: int, m: int) -> int:
    """sat16((clamp16((d >> r) + b) * m + 2**13) >> 14): a row's sum in the next format.

    With m < 2**15 the product stays below 2**30; with m >= 2**14 the clamp
    changes nothing (at the clamp the result has saturated already).
    """
    t = (d >> r) + b
    if t > Q15_MAX:
        t = Q15_MAX
    elif t < -32768:
        t = -32768
    v = (t * m + 8192) >> MUL_SHIFT
    if v > Q15_MAX:
        return Q15_MAX
    if v < -32768:
        return -32768
    return v


class Rows:
    """``n`` output rows over ``k`` inputs: int weights (row-major), int16 biases, requant per row.

    ``d_i = sum_j (W[i*k + j] * v[j]) >> P`` (int32 in C; every partial sum,
    in any order, is bounded below 2**30, so the order does not matter);
    then ``requant(d_i, b[i], r[i], m[i])``.
    """

    def __init__(
        self, n: int, k: int, P: int, W: "List[int]", b: "List[int]", r: "List[int]", m: "List[int]", kx: "Optional[List[int]]" = None
    ) -> None:
        self.n = n
        self.k = k
        self.P = P
        self.W = W
        self.b = b
        self.r = r
        self.m = m
        # the input part of a hidden row has its own scale, 2**kx[i] times the row's
        self.kx = kx if kx is not None else [0] * n

    def dot(self, i: int, v: "Sequence[int]", lo: int, n: int) -> int:
        """sum over j < n of (W[i, lo + j] * v[j]) >> P, in order (exact: every partial sum is bounded)."""
        W, P = self.W, self.P
        w = i * self.k + lo
        a = 0
        if P == 0:
            for j in range(n):
                a += W[w + j] * v[j]
        else:
            for j in range(n):
                a += (W[w + j] * v[j]) >> P
        return a

    def column(self, i: int, col: int) -> int:
        """(W[i, col] * 32768) >> P: the gathered column of a one-hot input (its 1.0 is 32768 in Q15)."""
        return (self.W[i * self.k + col] * 32768) >> self.P


class Vanilla:
    """h' = tanh(Wx x + Wh h + b): rows over [x | h] (dense) or [h] plus a gathered column (token)."""

    def __init__(self, X: int, H: int, dense: bool, rows: Rows) -> None:
        self.X = X
        self.H = H
        self.dense = dense
        self.rows = rows  # H rows over X + H inputs: [Wx' | Wh]
        self.cell = "rnn"
        self.S = self.A = H  # state and scratch ints

    def step(self, h: "List[int]", x: "Sequence[int]", token: int, pre: "List[int]") -> None:
        """h <- h' in place; ``pre`` is H ints of scratch. Token input: ``token`` >= 0, x unused."""
        R, X, H = self.rows, self.X, self.H
        for i in range(H):
            d = (R.dot(i, x, 0, X) if self.dense else R.column(i, token)) << R.kx[i]
            d += R.dot(i, h, X, H)
            pre[i] = tanh_q12(requant(d, R.b[i], R.r[i], R.m[i]))
        for i in range(H):
            h[i] = pre[i]


def sat16(v: int) -> int:
    """v saturated to int16."""
    return Q15_MAX if v > Q15_MAX else -32768 if v < -32768 else v


class Gated:
    """One GRU or LSTM layer (PyTorch's gate order; docs/export.md, "Gated cells").

    ``rows``: the gates whose input and hidden sums add before one activation,
    over [x | h] like Vanilla's: lstm i|f|g|o (4H rows), gru r|z (2H rows);
    requantised to Q11 for a sigmoid, Q12 for lstm's g (tanh). gru only:
    ``nx`` (H rows over x: W_in x + b_in) and ``nh`` (H rows over h:
    W_hn h + b_hn), each to Q12, because r multiplies the hidden part alone::

        gru:  n  = tanh_q12(sat16(nx + mul_q15(r, nh)))
              h' = sat16(mul_q15(z, h) + mul_q15(32767 - z, n))     (1 - z as (32767 - z) / 2**15)
        lstm: c' = sat16(mul_q15(f, c) + ((mul_q15(i, g) + 2**(14 - cs)) >> (15 - cs)))   c in Q(cs)
              h' = mul_q15(o, tanh_q12(sat16(c' * 2**(12 - cs))))   (a right shift, floor, if cs > 12)

    The state of a layer is one list: h (H ints, Q15), then for lstm c (H
    ints, Q(cs), 0 <= cs <= 14 from the calibrated max |c|; saturates beyond).
    """

    def __init__(
        self, cell: str, X: int, H: int, dense: bool, rows: Rows, nx: "Optional[Rows]" = None, nh: "Optional[Rows]" = None, cs: int = 12
    ) -> None:
        self.cell = cell
        self.X = X
        self.H = H
        self.dense = dense
        self.rows = rows
        self.nx = nx
        self.nh = nh
        self.cs = cs
        self.S = (2 if cell == "lstm" else 1) * H  # state ints: h (| c)
        self.A = 4 * H  # scratch ints: lstm i|f|g|o; gru r|z|nx|nh

    def sums(self, R: Rows, x: "Sequence[int]", token: int, X: int, s: "Sequence[int]", H: int, a: "List[int]", at: int) -> None:
        """a[at + i] = requant((x part << kx) + h part) for R's rows: columns [0, X) read x (or the
        one-hot ``token``), [X, X + H) read s; X = 0: no input part, H = 0: no hidden part."""
        for i in range(R.n):
            d = 0
            if X:
                d = (R.dot(i, x, 0, X) if self.dense else R.column(i, token)) << R.kx[i]
            if H:
                d += R.dot(i, s, X, H)
            a[at + i] = requant(d, R.b[i], R.r[i], R.m[i])

    def step(self, s: "List[int]", x: "Sequence[int]", token: int, a: "List[int]") -> None:
        """s (h, and c for lstm) <- the new state in place; ``a``: self.A ints of scratch."""
        X, H = self.X, self.H
        self.sums(self.rows, x, token, X, s, H, a, 0)
        if self.cell == "lstm":
            cs = self.cs
            half = 1 << (14 - cs)
            for j in range(H):
                c = sat16(mul_q15(sigmoid_q11(a[H + j]), s[H + j]) + ((mul_q15(sigmoid_q11(a[j]), tanh_q12(a[2 * H + j])) + half) >> (15 - cs)))
                s[H + j] = c
                p = c >> (cs - 12) if cs >= 12 else sat16(c << (12 - cs))
                s[j] = mul_q15(sigmoid_q11(a[3 * H + j]), tanh_q12(p))
            return
        nx, nh = self.nx, self.nh
        assert nx is not None and nh is not None
        self.sums(nx, x, token, X, s, 0, a, 2 * H)  # W_in x + b_in
        self.sums(nh, x, token, 0, s, H, a, 3 * H)  # W_hn h + b_hn
        for j in range(H):
            n = tanh_q12(sat16(a[2 * H + j] + mul_q15(sigmoid_q11(a[j]), a[3 * H + j])))
            z = sigmoid_q11(a[H + j])
            s[j] = sat16(mul_q15(z, s[j]) + mul_q15(Q15_MAX - z, n))


class QModel:
    """Integer layers and the output rows; the state is one list per layer (h, and c for lstm)."""

    def __init__(
        self, width: str, X: int, Y: int, dense: bool, layers: "List[Union[Vanilla, Gated]]", out: Rows, zshift: int, xshift: int
    ) -> None:
        self.width = width  # "int8" or "int16"
        self.X = X
        self.Y = Y
        self.dense = dense
        self.layers = layers
        self.out = out
        self.zshift = zshift  # logits: z / 2**zshift
        self.xshift = xshift  # dense input: x_q = round(x * 2**xshift)
        self.cell = layers[0].cell
        self._scratch = [[0] * L.A for L in layers]

    def new_state(self) -> "List[List[int]]":
        return [[0] * L.S for L in self.layers]

    def step(self, state: "List[List[int]]", x: "object", z: "List[int]") -> None:
        """One integer step: ``x`` a token id (int) or X ints (Q(xshift)); ``z`` <- Y int16 logits."""
        if isinstance(x, int) == self.dense:
            raise ValueError("this model takes %s" % ("%d int16 inputs, not a token" % self.X if self.dense else "token ids, not vectors"))
        if isinstance(x, int):
            if isinstance(x, bool) or x < 0 or x >= self.X:
                raise ValueError("token %r is outside the vocabulary [0, %d)" % (x, self.X))
            v = []  # type: Sequence[int]
            tok = x
        else:
            v = x  # type: ignore[assignment]
            tok = -1
            if len(v) != self.X:
                raise ValueError("input has %d values, expected %d" % (len(v), self.X))
            for e in v:
                if not isinstance(e, int) or e < -32768 or e > Q15_MAX:
                    raise ValueError("dense input %r is not an int16" % (e,))
        for n, L in enumerate(self.layers):
            h = state[n]
            L.step(h, v, tok, self._scratch[n])
            v = h
            tok = -1
        O = self.out
        H = self.layers[-1].H
        for k in range(self.Y):
            z[k] = requant(O.dot(k, v, 0, H), O.b[k], O.r[k], O.m[k])


def argmax(z: "Sequence[int]") -> int:
    """First index of the largest logit (as NAME_argmax in C)."""
    best = 0
    for k in range(1, len(z)):
        if z[k] > z[best]:
            best = k
    return best


__all__ = ["TANH", "tanh_q12", "sigmoid_q11", "mul_q15", "requant", "Rows", "Vanilla", "Gated", "QModel", "sat16", "argmax", "ACC_LIMIT"]
