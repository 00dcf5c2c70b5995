"""The primitives the math needs, one implementation per interpreter."""

# This is the only module of the core that knows which interpreter runs it.
# Every primitive works on flat buffers addressed by offset (and stride where
# a column or a time series is read), so a cell or head written on top of it
# never slices, never allocates per call and never asks which Python it is:
#
#     zeros(n)                              a buffer of n zeros (list / array('d'))
#     fill(b, off, n, v)                    b[off:off+n] = v
#     copy(dst, doff, src, soff, n)         dst[doff:doff+n] = src[soff:soff+n]
#     put(b, off, values)                   b[off:off+len(values)] = values (any sequence)
#     rows(P, off, R, C, boff)              handle for  y = W v + b   (W = R x C at P[off], b at P[boff] or none)
#     cols(P, off, R, C)                    handle for  y = W^T v
#     rows_copy(P, off, R, C, boff)         rows() over a copy of W and b taken now (frozen weights)
#     mv(M, v, voff, out, ooff, act, add, aoff, astride)
#                                           out[ooff+i] = act(W_i . v[voff:] + b_i + add[aoff+i*astride])
#     mtv(MT, v, voff, out, ooff, add, aoff)  out[ooff+j] = sum_i W[i,j] v[voff+i] + add[aoff+j]
#     mm(M, v, voff, step, out, ooff, n)    mv for n vectors: out[ooff+t*R+i] = W_i . v[voff+t*step:] + b_i
#     mtm(MT, v, voff, step, out, ooff, n)  mtv for n vectors: out[ooff+t*C+j] = sum_i W[i,j] v[voff+t*step+i]
#     dtanh(h, hoff, d, doff, out, ooff, n) out = (1 - h*h) * d
#     steps(M, H, h, n, P, aoff, stride, ids)  h[t+1] = tanh(W h[t] + b + P[aoff+ids[t]+i*stride]), t < n
#                                           (the tanh recurrence of a chunk; h[t] at t*H; M has the bias)
#     dsteps(MT, H, h, dh, dr, n, dnext)    its BPTT, t = n-1 .. 0: dr[t] = (1 - h[t+1]^2) dh[t], then
#                                           dh[t-1] += W^T dr[t], for t = 0 dnext = W^T dr[0]
#     dsigmoid(s, soff, d, doff, out, ooff, n)  out = s * (1 - s) * d   (gates of GRU/LSTM)
#     outer_time(G, goff, R, C, a, aoff, astep, b, boff, bstep, n, soff)
#                                           G[i,j] = sum_t a[aoff+t*astep+i] * b[boff+t*bstep+j]
#                                           (and sum_time into G[soff:] if soff >= 0: a bias's gradient)
#     sum_time(G, goff, R, a, aoff, astep, n)  G[goff+i] = sum_t a[aoff+t*astep+i]
#     add_col(G, off, R, C, j, v, voff)     G[off+i*C+j] += v[voff+i]  (one-hot input's gradient)
#     gather(src, soff, stride, out, ooff, n, add, aoff)
#                                           out[ooff+i] = src[soff+i*stride] (+ add[aoff+i])  (a column: one-hot input)
#     sigmoid(x)                            the logistic function, exp never of a positive argument
#     softmax(z, zoff, n, p, poff)          p = softmax(z), returns logsumexp(z)
#     softmax_rows(z, zoff, R, C, p, poff)  softmax of R rows of C; returns the R logsumexps
#     amap(f, src, soff, dst, doff, n)      dst = f(src) elementwise
#     sub / vadd / vmul(a, aoff, b, boff, out, ooff, n)   out = a - b / a + b / a * b
#     scale(b, off, n, c)                   b *= c
#     sumsq(b, lo, hi)                      sum of squares of b[lo:hi]
#     maxabs(b, lo, hi)
#     clamp(b, lo, hi, step, c)             b[k] = min(max(b[k], -c), c) over range(lo, hi, step)
#     sgd / sgd_momentum / adagrad / adam   one optimiser update over range(lo, hi, step)
#
# CPython: every loop is driven by a builtin (``map``, slice assignment,
# comprehensions) or by code compiled for the size at hand: the dot products
# and the small recurrences come from unrolled.py (short rows written out,
# else ``math.sumprod`` / ``sum(map(mul, ...))``; a CPython-only module, so
# its names cost a board nothing). Buffers are lists, and a matrix handle
# holds the row (or column) lists sliced out of the parameter buffer, the
# bias appended to each row. MicroPython: buffers are
# ``array('d')`` (8 bytes a number instead of ~20 for a list of boxed floats,
# and the same doubles as CPython), every primitive is an indexed loop writing
# into the caller's buffer, and a handle is just the buffer, its offsets and
# one scratch list for the input vector (so each weight read boxes one float
# and each multiply-add allocates two more; nothing else per element).
# MicroPython compiles both branches and interns every name in them: a new
# identifier anywhere in this file costs heap on the board (~2.2 KB at once
# when it opens a new pool of names), so new code here reuses existing names.
#
# A handle from ``rows``/``cols`` is a view of ``P`` as it was: on CPython a
# copy of the rows, on MicroPython the live buffer. A caller that keeps
# handles between calls takes ``snapshot(P)`` when it builds them and asks
# ``views_valid(P, snap)`` before using them again. ``rows_copy`` is for
# weights the caller promises not to change: on MicroPython its copy is a
# list of boxed floats (20 bytes a number against the array's 8), so a
# multiply-add reading it allocates two floats instead of three.

import math
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, Sequence

    Buf = List[float]
    Mat = Any

MICROPYTHON = sys.implementation.name == "micropython"

tanh = math.tanh
exp = math.exp
log = math.log
sqrt = math.sqrt


def _log1p_fallback(x: float) -> float:
    # Goldberg's trick: exact to a few ulps without a native log1p.
    u = 1.0 + x
    if u == 1.0:
        return x
    return log(u) * x / (u - 1.0)


log1p: "Callable[[float], float]" = getattr(math, "log1p", _log1p_fallback)


def sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + exp(-x))
    e = exp(x)
    return e / (1.0 + e)


if not MICROPYTHON:
    from operator import add, mul

    from .unrolled import dot, dots_all, dots_plus, written  # math.sumprod, or written out for small sizes

    def zeros(n: int) -> "Buf":
        return [0.0] * n

    def fill(b: "Buf", off: int, n: int, v: float = 0.0) -> None:
        b[off : off + n] = [v] * n

    def copy(dst: "Buf", doff: int, src: "Buf", soff: int, n: int) -> None:
        dst[doff : doff + n] = src[soff : soff + n]

    def put(b: "Buf", off: int, values: "Sequence[float]") -> None:
        b[off : off + len(values)] = values

    def rows(P: "Buf", off: int, R: int, C: int, boff: int = -1) -> "Mat":
        rs = [P[k : k + C] for k in range(off, off + R * C, C)]
        if boff >= 0:
            for r, b in zip(rs, P[boff : boff + R]):
                r.append(b)
        return (rs, C, boff >= 0)

    rows_copy = rows

    def cols(P: "Buf", off: int, R: int, C: int) -> "Mat":
        end = off + R * C
        return [P[off + j : end : C] for j in range(C)]

    def views_valid(P: "Buf", snap: "Optional[Buf]") -> bool:
        return P == snap  # one C pass; the identical float objects compare by identity

    def snapshot(P: "Buf") -> "Optional[Buf]":
        return P[:]

    def mv(
        M: "Mat",
        v: "Buf",
        voff: int,
        out: "Buf",
        ooff: int,
        act: "Optional[Callable[[float], float]]" = None,
        add_: "Optional[Buf]" = None,
        aoff: int = 0,
        astride: int = 1,
    ) -> None:
        rs, C, bias = M
        R = len(rs)
        x = v[voff : voff + C]
        if add_ is not None:
            out[ooff : ooff + R] = dots_plus(rs, x, add_[aoff : aoff + R * astride : astride], act, bias)
            return
        pre = dots_all([x], rs, bias)
        out[ooff : ooff + R] = pre if act is None else map(act, pre)

    def mtv(
        MT: "Mat", v: "Buf", voff: int, out: "Buf", ooff: int, add_: "Optional[Buf]" = None, aoff: int = 0
    ) -> None:
        C = len(MT)
        x = v[voff : voff + len(MT[0])]
        out[ooff : ooff + C] = dots_all([x], MT) if add_ is None else dots_plus(MT, x, add_[aoff : aoff + C])

    def mm(M: "Mat", v: "Buf", voff: int, step: int, out: "Buf", ooff: int, n: int) -> None:
        rs, C, bias = M
        xs = [v[k : k + C] for k in range(voff, voff + n * step, step)]
        out[ooff : ooff + n * len(rs)] = dots_all(xs, rs, bias)

    def mtm(MT: "Mat", v: "Buf", voff: int, step: int, out: "Buf", ooff: int, n: int) -> None:
        R = len(MT[0])
        xs = [v[k : k + R] for k in range(voff, voff + n * step, step)]
        out[ooff : ooff + n * len(MT)] = dots_all(xs, MT)

    def dtanh(h: "Buf", hoff: int, d: "Buf", doff: int, out: "Buf", ooff: int, n: int) -> None:
        out[ooff : ooff + n] = [(1.0 - a * a) * b for a, b in zip(h[hoff : hoff + n], d[doff : doff + n])]

    def outer_time(
        G: "Buf", goff: int, R: int, C: int, a: "Buf", aoff: int, astep: int, b: "Buf", boff: int, bstep: int, n: int, soff: int = -1
    ) -> None:
        ea, eb = aoff + n * astep, boff + n * bstep
        acols = [a[aoff + i : ea : astep] for i in range(R)]
        bcols = [b[boff + j : eb : bstep] for j in range(C)]
        G[goff : goff + R * C] = dots_all(acols, bcols)
        if soff >= 0:
            G[soff : soff + R] = map(sum, acols)

    def sum_time(G: "Buf", goff: int, R: int, a: "Buf", aoff: int, astep: int, n: int) -> None:
        e = aoff + n * astep
        G[goff : goff + R] = [sum(a[aoff + i : e : astep]) for i in range(R)]

    def add_col(G: "Buf", off: int, R: int, C: int, j: int, v: "Buf", voff: int) -> None:
        s = slice(off + j, off + j + R * C, C)
        G[s] = map(add, G[s], v[voff : voff + R])

    def gather(
        src: "Buf", soff: int, stride: int, out: "Buf", ooff: int, n: int, add_: "Optional[Buf]" = None, aoff: int = 0
    ) -> None:
        col = src[soff : soff + n * stride : stride]
        out[ooff : ooff + n] = col if add_ is None else map(add, col, add_[aoff : aoff + n])

    def softmax(z: "Buf", zoff: int, n: int, p: "Buf", poff: int) -> float:
        return softmax_rows(z, zoff, 1, n, p, poff)[0]

    def softmax_rows(z: "Buf", zoff: int, R: int, C: int, p: "Buf", poff: int) -> "List[float]":
        # each row shifted by its max: exp never sees a positive argument, the sum is >= 1
        out = []
        for t in range(R):
            lo = t * C
            zt = z[zoff + lo : zoff + lo + C]
            m = max(zt)
            e = [exp(v - m) for v in zt]
            s = sum(e)
            inv = 1.0 / s
            p[poff + lo : poff + lo + C] = [v * inv for v in e]
            out.append(m + log(s))
        return out

    def amap(f: "Callable[[float], float]", src: "Buf", soff: int, dst: "Buf", doff: int, n: int) -> None:
        dst[doff : doff + n] = map(f, src[soff : soff + n])

    def amap2(
        f: "Callable[[float, float], float]", a: "Buf", aoff: int, b: "Buf", boff: int, n: int
    ) -> "List[float]":
        return list(map(f, a[aoff : aoff + n], b[boff : boff + n]))

    def sub(a: "Buf", aoff: int, b: "Buf", boff: int, out: "Buf", ooff: int, n: int) -> None:
        out[ooff : ooff + n] = [x - y for x, y in zip(a[aoff : aoff + n], b[boff : boff + n])]

    def vadd(a: "Buf", aoff: int, b: "Buf", boff: int, out: "Buf", ooff: int, n: int) -> None:
        out[ooff : ooff + n] = map(add, a[aoff : aoff + n], b[boff : boff + n])

    def vmul(a: "Buf", aoff: int, b: "Buf", boff: int, out: "Buf", ooff: int, n: int) -> None:
        out[ooff : ooff + n] = map(mul, a[aoff : aoff + n], b[boff : boff + n])

    def dsigmoid(s: "Buf", soff: int, d: "Buf", doff: int, out: "Buf", ooff: int, n: int) -> None:
        out[ooff : ooff + n] = [v * (1.0 - v) * g for v, g in zip(s[soff : soff + n], d[doff : doff + n])]

    def scale(b: "Buf", off: int, n: int, c: float) -> None:
        b[off : off + n] = [v * c for v in b[off : off + n]]

    def sumsq(b: "Buf", lo: int, hi: int) -> float:
        s = b[lo:hi]
        return dot(s, s)

    def maxabs(b: "Buf", lo: int, hi: int) -> float:
        return max(map(abs, b[lo:hi]))

    def clamp(b: "Buf", lo: int, hi: int, step: int, c: float) -> None:
        s = slice(lo, hi, step)
        v = b[s]
        nc = -c
        if min(v) >= nc and max(v) <= c:
            return  # nothing to clip (the common case: two fast passes)
        b[s] = [nc if g < nc else (c if g > c else g) for g in v]

    def sgd(P: "Buf", G: "Buf", lr: float, lo: int, hi: int, step: int) -> None:
        s = slice(lo, hi, step)
        P[s] = [w - lr * g for w, g in zip(P[s], G[s])]

    def sgd_momentum(P: "Buf", G: "Buf", V: "Buf", lr: float, mu: float, lo: int, hi: int) -> None:
        V[lo:hi] = v = [mu * vi + g for vi, g in zip(V[lo:hi], G[lo:hi])]
        P[lo:hi] = [w - lr * vi for w, vi in zip(P[lo:hi], v)]

    def adagrad(P: "Buf", G: "Buf", M: "Buf", lr: float, eps: float, lo: int, hi: int, step: int) -> None:
        s = slice(lo, hi, step)
        g = G[s]
        M[s] = m = [mi + gi * gi for mi, gi in zip(M[s], g)]
        P[s] = [w - lr * gi / sqrt(mi + eps) for w, gi, mi in zip(P[s], g, m)]

    def adam(
        P: "Buf", G: "Buf", M: "Buf", V: "Buf", b1: float, b2: float, a: float, s: float, eps: float, lo: int, hi: int
    ) -> None:
        c1, c2 = 1.0 - b1, 1.0 - b2
        g = G[lo:hi]
        M[lo:hi] = m = [b1 * mi + c1 * gi for mi, gi in zip(M[lo:hi], g)]
        V[lo:hi] = v = [b2 * vi + c2 * gi * gi for vi, gi in zip(V[lo:hi], g)]
        P[lo:hi] = [w - a * mi / (sqrt(vi * s) + eps) for w, mi, vi in zip(P[lo:hi], m, v)]

else:
    from array import array

    def zeros(n: int) -> "Buf":
        return array("d", bytearray(8 * n))  # type: ignore[return-value]  # n zero doubles

    def fill(b: "Buf", off: int, n: int, v: float = 0.0) -> None:
        for k in range(off, off + n):
            b[k] = v

    def copy(dst: "Buf", doff: int, src: "Buf", soff: int, n: int) -> None:
        for k in range(n):
            dst[doff + k] = src[soff + k]

    def put(b: "Buf", off: int, values: "Sequence[float]") -> None:
        k = off
        for v in values:
            b[k] = v
            k += 1

    def rows(P: "Buf", off: int, R: int, C: int, boff: int = -1) -> "Mat":
        return (P, off, R, C, boff, [0.0] * C)

    def rows_copy(P: "Buf", off: int, R: int, C: int, boff: int = -1) -> "Mat":
        n = R * C
        W = [0.0] * (n + R if boff >= 0 else n)  # sized once: a growing list over-allocates
        for i in range(n):
            W[i] = P[off + i]
        for i in range(n, len(W)):
            W[i] = P[boff + i - n]
        return (W, 0, R, C, n if boff >= 0 else -1, [0.0] * C)

    def cols(P: "Buf", off: int, R: int, C: int) -> "Mat":
        return (P, off, R, C, [0.0] * R)

    def views_valid(P: "Buf", snap: "Optional[Buf]") -> bool:
        return True  # the handles read the live buffer

    def snapshot(P: "Buf") -> "Optional[Buf]":
        return None

    def dot(a: "Sequence[float]", b: "Sequence[float]") -> float:
        s = 0.0
        for k in range(len(a)):
            s += a[k] * b[k]
        return s

    def mv(
        M: "Mat",
        v: "Buf",
        voff: int,
        out: "Buf",
        ooff: int,
        act: "Optional[Callable[[float], float]]" = None,
        add_: "Optional[Buf]" = None,
        aoff: int = 0,
        astride: int = 1,
    ) -> None:
        P, k, R, C, boff, x = M
        for j in range(C):  # box the input once; the loop reads it for free
            x[j] = v[voff + j]
        for i in range(R):
            s = P[boff + i] if boff >= 0 else 0.0  # the bias first: one float fewer per row
            for xj in x:
                s += P[k] * xj
                k += 1
            if add_ is not None:
                s += add_[aoff + i * astride]
            out[ooff + i] = s if act is None else act(s)

    def mtv(
        MT: "Mat", v: "Buf", voff: int, out: "Buf", ooff: int, add_: "Optional[Buf]" = None, aoff: int = 0
    ) -> None:
        P, off, R, C, x = MT
        for i in range(R):
            x[i] = v[voff + i]
        for j in range(C):
            k = off + j
            s = 0.0
            for xi in x:
                s += P[k] * xi
                k += C
            if add_ is not None:
                s += add_[aoff + j]
            out[ooff + j] = s

    def mm(M: "Mat", v: "Buf", voff: int, step: int, out: "Buf", ooff: int, n: int) -> None:
        R = M[2]
        for t in range(n):
            mv(M, v, voff + t * step, out, ooff + t * R)

    def mtm(MT: "Mat", v: "Buf", voff: int, step: int, out: "Buf", ooff: int, n: int) -> None:
        C = MT[3]
        for t in range(n):
            mtv(MT, v, voff + t * step, out, ooff + t * C)

    def dtanh(h: "Buf", hoff: int, d: "Buf", doff: int, out: "Buf", ooff: int, n: int) -> None:
        for k in range(n):
            a = h[hoff + k]
            out[ooff + k] = (1.0 - a * a) * d[doff + k]

    def outer_time(
        G: "Buf", goff: int, R: int, C: int, a: "Buf", aoff: int, astep: int, b: "Buf", boff: int, bstep: int, n: int, soff: int = -1
    ) -> None:
        if soff >= 0:
            sum_time(G, soff, R, a, aoff, astep, n)
        k = goff
        for i in range(R):
            for j in range(C):
                s = 0.0
                ka, kb = aoff + i, boff + j
                for _ in range(n):
                    s += a[ka] * b[kb]
                    ka += astep
                    kb += bstep
                G[k] = s
                k += 1

    def sum_time(G: "Buf", goff: int, R: int, a: "Buf", aoff: int, astep: int, n: int) -> None:
        for i in range(R):
            s = 0.0
            ka = aoff + i
            for _ in range(n):
                s += a[ka]
                ka += astep
            G[goff + i] = s

    def add_col(G: "Buf", off: int, R: int, C: int, j: int, v: "Buf", voff: int) -> None:
        k = off + j
        for i in range(R):
            G[k] += v[voff + i]
            k += C

    def gather(
        src: "Buf", soff: int, stride: int, out: "Buf", ooff: int, n: int, add_: "Optional[Buf]" = None, aoff: int = 0
    ) -> None:
        k = soff
        for i in range(n):
            out[ooff + i] = src[k] if add_ is None else src[k] + add_[aoff + i]
            k += stride

    def softmax(z: "Buf", zoff: int, n: int, p: "Buf", poff: int) -> float:
        m = z[zoff]
        for k in range(zoff + 1, zoff + n):
            if z[k] > m:
                m = z[k]
        s = 0.0
        for k in range(n):
            e = exp(z[zoff + k] - m)
            p[poff + k] = e
            s += e
        inv = 1.0 / s
        for k in range(poff, poff + n):
            p[k] = p[k] * inv
        return m + log(s)

    def softmax_rows(z: "Buf", zoff: int, R: int, C: int, p: "Buf", poff: int) -> "List[float]":
        return [softmax(z, zoff + t * C, C, p, poff + t * C) for t in range(R)]

    def amap(f: "Callable[[float], float]", src: "Buf", soff: int, dst: "Buf", doff: int, n: int) -> None:
        for k in range(n):
            dst[doff + k] = f(src[soff + k])

    def amap2(
        f: "Callable[[float, float], float]", a: "Buf", aoff: int, b: "Buf", boff: int, n: int
    ) -> "List[float]":
        return [f(a[aoff + k], b[boff + k]) for k in range(n)]

    def sub(a: "Buf", aoff: int, b: "Buf", boff: int, out: "Buf", ooff: int, n: int) -> None:
        for k in range(n):
            out[ooff + k] = a[aoff + k] - b[boff + k]

    def vadd(a: "Buf", aoff: int, b: "Buf", boff: int, out: "Buf", ooff: int, n: int) -> None:
        for k in range(n):
            out[ooff + k] = a[aoff + k] + b[boff + k]

    def vmul(a: "Buf", aoff: int, b: "Buf", boff: int, out: "Buf", ooff: int, n: int) -> None:
        for k in range(n):
            out[ooff + k] = a[aoff + k] * b[boff + k]

    def dsigmoid(s: "Buf", soff: int, d: "Buf", doff: int, out: "Buf", ooff: int, n: int) -> None:
        for k in range(n):
            v = s[soff + k]
            out[ooff + k] = v * (1.0 - v) * d[doff + k]

    def scale(b: "Buf", off: int, n: int, c: float) -> None:
        for k in range(off, off + n):
            b[k] = b[k] * c

    def sumsq(b: "Buf", lo: int, hi: int) -> float:
        s = 0.0
        for k in range(lo, hi):
            g = b[k]
            s += g * g
        return s

    def maxabs(b: "Buf", lo: int, hi: int) -> float:
        m = 0.0
        for k in range(lo, hi):
            g = abs(b[k])
            if g > m or g != g:
                m = g
        return m

    def clamp(b: "Buf", lo: int, hi: int, step: int, c: float) -> None:
        nc = -c
        for k in range(lo, hi, step):
            g = b[k]
            if g < nc:
                b[k] = nc
            elif g > c:
                b[k] = c

    def sgd(P: "Buf", G: "Buf", lr: float, lo: int, hi: int, step: int) -> None:
        for k in range(lo, hi, step):
            P[k] = P[k] - lr * G[k]

    def sgd_momentum(P: "Buf", G: "Buf", V: "Buf", lr: float, mu: float, lo: int, hi: int) -> None:
        for k in range(lo, hi):
            v = mu * V[k] + G[k]
            V[k] = v
            P[k] = P[k] - lr * v

    def adagrad(P: "Buf", G: "Buf", M: "Buf", lr: float, eps: float, lo: int, hi: int, step: int) -> None:
        for k in range(lo, hi, step):
            g = G[k]
            m = M[k] + g * g
            M[k] = m
            P[k] = P[k] - lr * g / sqrt(m + eps)

    def adam(
        P: "Buf", G: "Buf", M: "Buf", V: "Buf", b1: float, b2: float, a: float, s: float, eps: float, lo: int, hi: int
    ) -> None:
        c1, c2 = 1.0 - b1, 1.0 - b2
        for k in range(lo, hi):
            g = G[k]
            m = b1 * M[k] + c1 * g
            v = b2 * V[k] + c2 * g * g
            M[k] = m
            V[k] = v
            P[k] = P[k] - a * m / (sqrt(v * s) + eps)


# The tanh recurrence of a chunk: the loops of the per-step kernels, or (on
# CPython, for small H: unrolled.written) the same sums as code compiled for H.
def steps(M: "Mat", H: int, h: "Buf", n: int, P: "Buf", aoff: int, stride: int, ids: "List[int]") -> None:
    f = None if MICROPYTHON else written("steps", H)
    if f is not None:
        f(M, h, n, P, aoff, stride, ids, tanh)
        return
    for t in range(n):
        mv(M, h, t * H, h, (t + 1) * H, tanh, P, aoff + ids[t], stride)


def dsteps(MT: "Mat", H: int, h: "Buf", dh: "Buf", dr: "Buf", n: int, dnext: "Buf") -> None:
    f = None if MICROPYTHON else written("dsteps", H)
    if f is not None:
        f(MT, h, dh, dr, n, dnext)
        return
    for t in range(n - 1, 0, -1):
        lo = t * H
        dtanh(h, lo + H, dh, lo, dr, lo, H)
        mtv(MT, dr, lo, dh, lo - H, dh, lo - H)
    dtanh(h, H, dh, 0, dr, 0, H)
    mtv(MT, dr, 0, dnext, 0)


__all__ = [
    "MICROPYTHON",
    "TYPE_CHECKING",
    "zeros",
    "fill",
    "copy",
    "put",
    "rows",
    "rows_copy",
    "cols",
    "views_valid",
    "snapshot",
    "dot",
    "mv",
    "mtv",
    "mm",
    "mtm",
    "dtanh",
    "steps",
    "dsteps",
    "outer_time",
    "sum_time",
    "add_col",
    "gather",
    "sigmoid",
    "softmax",
    "softmax_rows",
    "amap",
    "amap2",
    "sub",
    "vadd",
    "vmul",
    "dsigmoid",
    "scale",
    "sumsq",
    "maxabs",
    "clamp",
    "sgd",
    "sgd_momentum",
    "adagrad",
    "adam",
    "log1p",
    "tanh",
]
