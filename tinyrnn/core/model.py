"""The vanilla tanh RNN: flat parameter buffer, forward, BPTT, stepwise inference.

Math (t = 0 .. n-1, h[0] the initial state)::

    h[t+1] = tanh(Wxh x[t] + Whh h[t] + bh)     # H
    z[t]   = Why h[t+1] + by                    # Y logits
    p[t]   = head(z[t])                         # see heads.py

Parameters live in one flat list ``params`` (row-major, layout below); the
gradients in ``grads`` with the same layout. Activations live in flat lists
allocated once for T steps and indexed explicitly::

    params: Wxh (H*X) | Whh (H*H) | bh (H) | Why (Y*H) | by (Y)
    h      ((T+1)*H)  h[t*H + i]      state t (h[0] initial)
    z, p   (T*Y)      z[t*Y + k]      logits / probabilities at step t
    dz     (T*Y)      dL/dz
    dh     (T*H)      dL/dh[t+1] (from the output and from step t+1)
    dh_raw (T*H)      dL/d(pre-activation) = (1 - h[t+1]**2) * dh

Speed: CPython runs a loop fastest when a builtin drives it, so each step is
a handful of ``map`` calls over ``dot`` (``math.sumprod`` on 3.12+) and the
weight gradients are dot products *over time* taken after the recurrence.
Row views of the weight matrices are sliced out of ``params`` once per
sequence (Python's ``dot`` needs a separate sequence per row); the bias is
folded in by appending it to each row and a 1.0 to the state vector.
"""

import math

from . import heads
from .kernels import add_strided, dot, mkslice, repeat_each, take

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Sequence, Union

    Input = Union[Sequence[int], Sequence[Sequence[float]]]

GROUPS = ("Wxh", "Whh", "bh", "Why", "by")

tanh = math.tanh


class Layout:
    """Offsets of each parameter group in the flat buffer, computed in one place."""

    def __init__(self, X: int, H: int, Y: int) -> None:
        self.Wxh = 0
        self.Whh = self.Wxh + H * X
        self.bh = self.Whh + H * H
        self.Why = self.bh + H
        self.by = self.Why + Y * H
        self.size = self.by + Y
        # name -> (offset, rows, cols); a vector has cols == 0
        self.groups = {
            "Wxh": (self.Wxh, H, X),
            "Whh": (self.Whh, H, H),
            "bh": (self.bh, H, 0),
            "Why": (self.Why, Y, H),
            "by": (self.by, Y, 0),
        }  # type: Dict[str, tuple[int, int, int]]

    def group_size(self, name: str) -> int:
        _, rows, cols = self.groups[name]
        return rows * cols if cols else rows


def _positive_int(name: str, v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError("%s must be a positive integer, got %r" % (name, v))
    return v


def _finite_floats(what: str, values: "Sequence[float]", count: int) -> "List[float]":
    """``values`` as a list of ``count`` finite floats, or a ValueError naming ``what``."""
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError("%s must be a sequence of %d numbers" % (what, count))
    if len(out) != count:
        raise ValueError("%s has length %d, expected %d" % (what, len(out), count))
    if not math.isfinite(sum(out)):
        for k, v in enumerate(out):
            if not math.isfinite(v):
                raise ValueError("%s[%d] is not finite (%r)" % (what, k, v))
    return out


def _is_token(v: object) -> bool:
    """An integer token id: an int (not a bool) or an integer type such as NumPy's (it has ``__index__``)."""
    if isinstance(v, int):
        return not isinstance(v, bool)
    return not isinstance(v, (float, str, bytes, list, tuple, dict)) and hasattr(v, "__index__")


class RNN:
    """A vanilla tanh RNN with fixed dimensions X, H, Y and at most T steps.

    ``head`` is ``"softmax"`` (class ids), ``"sigmoid"`` (targets in [0, 1])
    or ``"mse"`` (real targets). Inputs are token ids (an implicit one-hot:
    a column of Wxh is gathered) or dense vectors of X floats.
    """

    def __init__(self, X: int, H: int, Y: int, T: int, head: str = "softmax") -> None:
        self.X = X = _positive_int("X", X)
        self.H = H = _positive_int("H", H)
        self.Y = Y = _positive_int("Y", Y)
        self.T = T = _positive_int("T", T)
        if head not in heads.HEADS:
            raise ValueError("head must be one of %s, got %r" % (", ".join(heads.HEADS), head))
        self.head = head
        L = self.layout = Layout(X, H, Y)
        self.params = [0.0] * L.size
        self.grads = [0.0] * L.size
        self._zeros = [0.0] * L.size
        # activations and their gradients, T steps
        self.h = [0.0] * ((T + 1) * H)
        self.z = [0.0] * (T * Y)
        self.p = [0.0] * (T * Y)
        self.dz = [0.0] * (T * Y)
        self.dh = [0.0] * (T * H)
        self.dh_raw = [0.0] * (T * H)
        self.dh0 = [0.0] * H  # dL/dh[0], for callers that chain sequences
        # the sequence of the last forward pass
        self.n = 0
        self.dense = False
        self.tokens = [0] * T
        self.x = [0.0] * (T * X)
        self.ids = [0] * T
        self.targets = [0.0] * (T * Y)
        self.w = [0.0] * T
        self.unit_weights = True
        self.loss = 0.0
        # slices of params: rows and columns of each matrix
        self._whh_rows = [mkslice(L.Whh + i * H, L.Whh + (i + 1) * H) for i in range(H)]
        self._whh_cols = [mkslice(L.Whh + j, L.Whh + H * H, H) for j in range(H)]
        self._wxh_rows = [mkslice(L.Wxh + i * X, L.Wxh + (i + 1) * X) for i in range(H)]
        self._wxh_cols = [mkslice(L.Wxh + k, L.Wxh + H * X, X) for k in range(X)]
        self._why_rows = [mkslice(L.Why + k * H, L.Why + (k + 1) * H) for k in range(Y)]
        self._why_cols = [mkslice(L.Why + j, L.Why + Y * H, H) for j in range(H)]
        self._bh = mkslice(L.bh, L.bh + H)
        self._by = mkslice(L.by, L.by + Y)

    # ------------------------------------------------------------------ views
    @property
    def num_params(self) -> int:
        return self.layout.size

    def get(self, name: str, buf: "Optional[List[float]]" = None) -> "Union[List[float], List[List[float]]]":
        """A copy of parameter group ``name`` (of ``grads`` if buf is grads) as nested lists."""
        off, rows, cols = self._group(name)
        b = self.params if buf is None else buf
        if not cols:
            return b[off : off + rows]
        return [b[off + r * cols : off + (r + 1) * cols] for r in range(rows)]

    def set(self, name: str, value: "Union[Sequence[float], Sequence[Sequence[float]]]") -> None:
        """Overwrite parameter group ``name`` from nested lists of the right shape."""
        off, rows, cols = self._group(name)
        if not cols:
            vals = _finite_floats(name, value, rows)  # type: ignore[arg-type]
            self.params[off : off + rows] = vals
            return
        if len(value) != rows:
            raise ValueError("%s has %d rows, expected %d" % (name, len(value), rows))
        for r in range(rows):
            row = _finite_floats("%s[%d]" % (name, r), value[r], cols)  # type: ignore[arg-type]
            self.params[off + r * cols : off + (r + 1) * cols] = row

    def _group(self, name: str) -> "tuple[int, int, int]":
        if name not in self.layout.groups:
            raise ValueError("unknown parameter group %r (groups: %s)" % (name, ", ".join(GROUPS)))
        return self.layout.groups[name]

    # ---------------------------------------------------------------- inputs
    def _load(
        self,
        xs: "Input",
        targets: "Sequence[object]",
        weights: "Optional[Sequence[float]]",
        h0: "Optional[Sequence[float]]",
        last_only: bool,
    ) -> int:
        """Validate one sequence and copy it into the preallocated buffers."""
        X, H, Y, T = self.X, self.H, self.Y, self.T
        self.n = 0  # until the whole sequence is valid, backward() has nothing to use
        n = len(xs)
        if n == 0:
            raise ValueError("empty input sequence: need at least 1 step")
        if n > T:
            raise ValueError("input has %d steps, more than T=%d" % (n, T))
        first = xs[0]
        self.dense = not _is_token(first)
        if self.dense:
            for t in range(n):
                xt = xs[t]
                if isinstance(xt, (int, float, str, bytes, dict)):
                    raise ValueError("input[%d] is %r; expected a vector of %d floats (or use token ids throughout)" % (t, xt, X))
                row = _finite_floats("input[%d]" % t, xt, X)
                for k, v in enumerate(xt):
                    if type(v) is not float and isinstance(v, (bool, str, bytes)):
                        raise ValueError("input[%d][%d] is %r; expected a number" % (t, k, v))
                self.x[t * X : (t + 1) * X] = row
        else:
            for t in range(n):
                tok = xs[t]
                if not isinstance(tok, int) and _is_token(tok):
                    tok = tok.__index__()  # type: ignore[attr-defined]  # a NumPy integer
                if not isinstance(tok, int) or isinstance(tok, bool):
                    raise ValueError("input[%d] is %r; token inputs must all be integers" % (t, tok))
                if tok < 0 or tok >= X:
                    raise ValueError("input[%d] = token %d is outside the vocabulary [0, %d)" % (t, tok, X))
                self.tokens[t] = tok
        # targets: one per step, or one for the last step (many-to-one)
        m = 1 if last_only else n
        if len(targets) != m:
            raise ValueError(
                "targets has length %d, expected %d (%s)" % (len(targets), m, "last step only" if last_only else "one per input step")
            )
        first_t = n - m
        for k in range(m):
            t = first_t + k
            tgt = targets[k]
            if self.head == "softmax":
                if not isinstance(tgt, int) or isinstance(tgt, bool) or tgt < 0 or tgt >= Y:
                    raise ValueError("targets[%d] = %r is not a class id in [0, %d)" % (k, tgt, Y))
                self.ids[t] = tgt
            else:
                vec = [tgt] if isinstance(tgt, (int, float)) else tgt
                vals = _finite_floats("targets[%d]" % k, vec, Y)  # type: ignore[arg-type]
                if self.head == "sigmoid" and (min(vals) < 0.0 or max(vals) > 1.0):
                    raise ValueError("targets[%d] = %r: sigmoid targets must lie in [0, 1]" % (k, tgt))
                self.targets[t * Y : (t + 1) * Y] = vals
        for t in range(first_t):  # steps without a target (many-to-one)
            self.ids[t] = 0
            self.targets[t * Y : (t + 1) * Y] = self._zeros[0:Y]
        # per-step weights
        if weights is None:
            self.w[0:n] = [0.0] * first_t + [1.0] * m
        else:
            w = _finite_floats("weights", weights, n)
            if min(w) < 0.0:
                raise ValueError("weights[%d] = %r is negative" % (w.index(min(w)), min(w)))
            if last_only and max(w[0:first_t] or [0.0]) != 0.0:
                raise ValueError("with last_only, weights before the last step must be 0")
            self.w[0:n] = w
        self.unit_weights = weights is None and not last_only
        # initial state
        self.h[0:H] = [0.0] * H if h0 is None else _finite_floats("h0", h0, H)
        self.n = n
        return n

    # --------------------------------------------------------------- forward
    def _hidden_rows(self, dense: bool) -> "List[List[float]]":
        """Rows of [Wxh | Whh | bh] (dense input) or [Whh | bh] (tokens), one per unit."""
        P = self.params
        rows = take(P, self._whh_rows)
        if dense:
            rows = [a + b for a, b in zip(take(P, self._wxh_rows), rows)]
        bh = P[self._bh]
        for i in range(self.H):
            rows[i].append(bh[i])
        return rows

    def _output_rows(self) -> "List[List[float]]":
        """Rows of [Why | by], one per output."""
        P = self.params
        rows = take(P, self._why_rows)
        by = P[self._by]
        for k in range(self.Y):
            rows[k].append(by[k])
        return rows

    def forward(
        self,
        xs: "Input",
        targets: "Sequence[object]",
        weights: "Optional[Sequence[float]]" = None,
        h0: "Optional[Sequence[float]]" = None,
        last_only: bool = False,
    ) -> float:
        """Run the sequence, fill h, z, p and return the loss.

        ``xs``: n <= T token ids, or n vectors of X floats. ``targets``: one
        per step (class id for softmax, Y floats -- or one float when Y == 1
        -- otherwise), or with ``last_only`` a single target for the last
        step (many-to-one). ``weights``: optional per-step loss weights (0
        masks a step). ``h0``: initial state (zeros by default).

        The loss is ``sum_t w_t * loss_t`` -- a sum over steps, not a mean.
        """
        n = self._load(xs, targets, weights, h0, last_only)
        H, Y = self.H, self.Y
        h = self.h
        X, P, x, tokens, wxh_cols = self.X, self.params, self.x, self.tokens, self._wxh_cols
        rows = self._hidden_rows(self.dense)
        state = h[0:H]
        state.append(1.0)
        states = []  # h[t+1] + [1.0] for t < n
        for t in range(n):
            if self.dense:
                state = cell(rows, x[t * X : (t + 1) * X] + state, None)
            else:
                state = cell(rows, state, P[wxh_cols[tokens[t]]])
            h[(t + 1) * H : (t + 2) * H] = state
            state.append(1.0)
            states.append(state)
        # logits for every step in one pass: z[t*Y + k] = [Why|by][k] . [h[t+1]|1]
        reps = []  # type: List[List[float]]
        for s in states:
            reps += [s] * Y
        self.z[0 : n * Y] = list(map(dot, self._output_rows() * n, reps))
        self.loss = heads.forward(self.head, self.z, self.p, n, Y, self.ids, self.targets, self.w)
        return self.loss

    # -------------------------------------------------------------- backward
    def backward(self) -> None:
        """BPTT over the last forward pass: grads = dL/dparams (zeroed first).

        Uses the weights the forward pass read; do not change ``params``
        between the two calls.
        """
        n, X, H, Y = self.n, self.X, self.H, self.Y
        if n == 0:
            raise ValueError("backward() needs a forward() first")
        P, G, L = self.params, self.grads, self.layout
        h, dz, dh, dh_raw = self.h, self.dz, self.dh, self.dh_raw
        nY, nH = n * Y, n * H
        heads.backward(self.head, self.p, dz, n, Y, self.ids, self.targets, self.w, self.unit_weights)

        # dL/dh[t+1] from the output layer, all steps at once: Why^T dz[t]
        why_cols = take(P, self._why_cols)
        dz_rows = take(dz, [mkslice(t * Y, (t + 1) * Y) for t in range(n)])
        reps = []  # type: List[List[float]]
        for r in dz_rows:
            reps += [r] * H
        d_out = list(map(dot, why_cols * n, reps))
        hs = h[H : (n + 1) * H]
        dtanh = [1.0 - v * v for v in hs]  # tanh'(pre) = 1 - h[t+1]**2

        whh_cols = take(P, self._whh_cols)
        dh_next = [0.0] * H
        for t in range(n - 1, -1, -1):
            lo, hi = t * H, (t + 1) * H
            dh_t = [a + b for a, b in zip(d_out[lo:hi], dh_next)]
            dh_raw_t = [a * b for a, b in zip(dh_t, dtanh[lo:hi])]
            dh[lo:hi] = dh_t
            dh_raw[lo:hi] = dh_raw_t
            dh_next = list(map(dot, whh_cols, [dh_raw_t] * H))
        self.dh0[0:H] = dh_next

        # weight gradients as dot products over time
        G[:] = self._zeros
        dz_cols = take(dz, [mkslice(k, nY, Y) for k in range(Y)])  # Y series of n
        dr_cols = take(dh_raw, [mkslice(i, nH, H) for i in range(H)])  # H series of n
        h_next = take(h, [mkslice(H + j, (n + 1) * H, H) for j in range(H)])  # h[t+1][j]
        h_prev = take(h, [mkslice(j, nH, H) for j in range(H)])  # h[t][j]
        G[L.Why : L.Why + Y * H] = list(map(dot, repeat_each(dz_cols, H), h_next * Y))
        G[L.by : L.by + Y] = list(map(sum, dz_cols))
        G[L.Whh : L.Whh + H * H] = list(map(dot, repeat_each(dr_cols, H), h_prev * H))
        G[L.bh : L.bh + H] = list(map(sum, dr_cols))
        if self.dense:
            x_cols = take(self.x, [mkslice(k, n * X, X) for k in range(X)])
            G[L.Wxh : L.Wxh + H * X] = list(map(dot, repeat_each(dr_cols, X), x_cols * H))
        else:
            for t in range(n):
                add_strided(G, L.Wxh + self.tokens[t], X, dh_raw[t * H : (t + 1) * H])

    def final_state(self) -> "List[float]":
        """h[n] after the last forward pass (carry it into the next chunk)."""
        return self.h[self.n * self.H : (self.n + 1) * self.H]

    # ------------------------------------------------------------- inference
    def new_state(self) -> "List[float]":
        return [0.0] * self.H

    def step(self, state: "List[float]", x: "Union[int, Sequence[float]]", z: "List[float]") -> None:
        """One inference step, no BPTT storage: state <- h', z <- logits.

        ``x`` is a token id or X floats; ``state`` (H floats) and ``z`` (Y
        floats) are the caller's buffers, updated in place -- the shape of
        the C runtime's ``NAME_step``.
        """
        H, Y = self.H, self.Y
        if len(state) != H or len(z) != Y:
            raise ValueError("state must hold %d floats and z %d floats" % (H, Y))
        s = state[0:H]
        s.append(1.0)
        if isinstance(x, int):
            if isinstance(x, bool) or x < 0 or x >= self.X:
                raise ValueError("token %r is outside the vocabulary [0, %d)" % (x, self.X))
            s = cell(self._hidden_rows(False), s, self.params[self._wxh_cols[x]])
        else:
            s = cell(self._hidden_rows(True), _finite_floats("x", x, self.X) + s, None)
        state[0:H] = s
        s.append(1.0)
        z[0:Y] = list(map(dot, self._output_rows(), [s] * Y))

    def output(self, z: "List[float]", y: "List[float]") -> None:
        """y = softmax / sigmoid / identity of the logits z."""
        heads.output(self.head, z, y)


def cell(rows: "List[List[float]]", v: "List[float]", col: "Optional[List[float]]") -> "List[float]":
    """One recurrence step: tanh(rows . v [+ col]).

    ``rows`` from ``RNN._hidden_rows``; ``v`` is h[t] + [1.0] (tokens, with
    ``col`` the gathered Wxh column) or x[t] + h[t] + [1.0] (dense, col None).
    """
    pre = map(dot, rows, [v] * len(rows))
    if col is None:
        return list(map(tanh, pre))
    return [tanh(a + c) for a, c in zip(pre, col)]


def argmax(z: "Sequence[float]") -> int:
    """Index of the largest logit (the first one on ties)."""
    return list(z).index(max(z))
