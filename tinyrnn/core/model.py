"""The recurrent model: flat parameter buffer, forward, BPTT, stepwise inference."""

# Math (t = 0 .. n-1, h[0] the initial state), for the default one-layer tanh cell::
#
#     h[t+1] = tanh(Wxh x[t] + Whh h[t] + bh)     # H
#     z[t]   = Why h[t+1] + by                    # Y logits
#     p[t]   = head(z[t])                         # see heads.py
#
# ``cell="gru"`` / ``"lstm"`` and ``layers=L`` replace the first line by L
# cells (cells.py), layer l reading layer l-1's new state; the head reads the
# top layer's. Parameters live in one flat buffer ``params`` (row-major,
# offsets from ``Layout`` below); the gradients in ``grads`` with the same
# layout. Activations live in flat buffers allocated once for T steps and
# indexed explicitly (G gates: 1 rnn, 3 gru, 4 lstm; one layer is today's
# vanilla layout)::
#
#     params  Wxh{l} | Whh{l} | bh{l} (gated: bxh{l} | bhh{l}) per layer, Why | by
#     h       (L*(T+1)*H)   h[(l*(T+1) + t)*H + i]   layer l's state t (t = 0 initial)
#     c       (L*(T+1)*H)   lstm cells, laid out as h
#     a       (L*T*G*H)     a[(l*T + t)*G*H + ...]   gates after their activations (gru r|z|n, lstm i|f|g|o)
#     e       (L*T*H)       gru W_hn h + b_hn, lstm tanh(c')
#     z, p    (T*Y)         z[t*Y + k]               logits / probabilities at step t (mse: p is z)
#     dz      (T*Y)         dL/dz; sigmoid and mse load their targets here (``targets``)
#                           and backward() turns them into dL/dz
#     dh      (L*T*H)       dL/dh[t+1] of layer l (from above and from step t+1); the
#                           one-layer tanh model allocates it on its first read (_dh)
#     dh_raw  (L*T*G*H)     dL/d(pre-activations), the input side (rnn: (1 - h[t+1]**2) * dh)
#     dah     (L*T*G*H)     gru: the hidden side (r * dh_raw in the n block); else dh_raw itself
#     dh0     (S)           dL/d(initial state), the state's layout
#
# The state (``new_state``, ``h0``, ``final_state``, ``dh0``) is one flat
# list of S floats: h of every layer (layer l at l*H), then for lstm c of
# every layer (at (L + l)*H).
#
# Every loop is a primitive of ``kernels`` (matrix x vector into a buffer,
# its transpose, weight gradients as sums over time): this module is the
# math only. The one-layer tanh model keeps its own loop (the token's Wxh
# column added inside the recurrent mat-vec, then the output layer of the
# whole chunk in one ``mm``; backward: ``Why^T dz`` of every step in one
# ``mtm``); every other cell and depth runs layer after layer over the sequence
# (stack.py, imported by the first such model). The training buffers (grads,
# activations, the copied input) are allocated by the first ``forward`` (or
# the first read of one of them), so a model that only runs ``step`` holds
# just its parameters.

import math

from . import heads
from . import kernels as k

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Union

    from .kernels import Buf

    Input = Union[Sequence[int], Sequence[Sequence[float]]]

GROUPS = ("Wxh", "Whh", "bh", "Why", "by")  # the vanilla one-layer model's groups
CELLS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # gate blocks of H rows per cell


class Layout:
    """Offsets of each parameter group in the flat buffer, computed in one place."""
    # For each layer l = 0 .. L-1 (X_l = X for l = 0, else H; G gates: 1 rnn,
    # 3 gru, 4 lstm), then the head::
    #
    #     rnn:       Wxh{l} (H x X_l) | Whh{l} (H x H) | bh{l} (H)
    #     gru, lstm: Wxh{l} (G*H x X_l) | Whh{l} (G*H x H) | bxh{l} (G*H) | bhh{l} (G*H)
    #     Why (Y x H) | by (Y)
    #
    # ``{l}`` is empty for layer 0 and the layer number otherwise (``Wxh1``).
    # Gate blocks of H rows in PyTorch's order (gru r, z, n; lstm i, f, g, o),
    # so these are ``weight_ih_l{l}``, ``weight_hh_l{l}``, ``bias_ih_l{l}``,
    # ``bias_hh_l{l}`` unchanged. ``groups``: name -> (offset, rows, cols), a
    # vector has cols == 0; ``names``: the groups in buffer order; ``layer[l]``:
    # (Wxh, Whh, bxh, bhh, X_l) offsets, bxh = -1 and bhh = bh for rnn.
    # ``Wxh``, ``Whh``, ``bh`` are layer 0's offsets (``bh``: bhh for gru/lstm).

    def __init__(self, X: int, H: int, Y: int, cell: str = "rnn", layers: int = 1) -> None:
        self.cell = cell
        self.layers = layers
        self.gates = G = GATES[cell]
        self.groups = {}  # type: Dict[str, tuple[int, int, int]]
        self.names = []  # type: List[str]
        self.layer = []  # type: List[tuple[int, int, int, int, int]]
        self.size = 0
        for l in range(layers):
            s = str(l) if l else ""
            Xl = X if l == 0 else H
            wx = self._add("Wxh" + s, G * H, Xl)
            wh = self._add("Whh" + s, G * H, H)
            if cell == "rnn":
                bx, bh = -1, self._add("bh" + s, H, 0)
            else:
                bx = self._add("bxh" + s, G * H, 0)
                bh = self._add("bhh" + s, G * H, 0)
            self.layer.append((wx, wh, bx, bh, Xl))
        self.Wxh, self.Whh, _, self.bh, _ = self.layer[0]
        self.Why = self._add("Why", Y, H)
        self.by = self._add("by", Y, 0)

    def _add(self, name: str, rows: int, cols: int) -> int:
        off = self.size
        self.groups[name] = (off, rows, cols)
        self.names.append(name)
        self.size = off + (rows * cols if cols else rows)
        return off

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


def _ids_in(values: "Sequence[Any]", bound: int) -> bool:
    """A list or tuple of plain ints (no bools) in [0, bound): the common case, in a few passes of C."""
    return (
        isinstance(values, (list, tuple)) and len(values) > 0 and set(map(type, values)) == {int}
        and min(values) >= 0 and max(values) < bound
    )


def _is_token(v: object) -> bool:
    """An integer token id: an int (not a bool) or an integer type such as NumPy's (it has ``__index__``)."""
    if isinstance(v, int):
        return not isinstance(v, bool)
    return not isinstance(v, (float, str, bytes, list, tuple, dict)) and hasattr(v, "__index__")


class RNN:
    """A recurrent network with fixed dimensions X, H, Y and at most T steps."""
    # ``head`` is ``"softmax"`` (class ids), ``"sigmoid"`` (targets in [0, 1])
    # or ``"mse"`` (real targets). ``cell`` is ``"rnn"`` (tanh), ``"gru"`` or
    # ``"lstm"`` (PyTorch's conventions), ``layers`` the depth. Inputs are
    # token ids (an implicit one-hot: a column of Wxh is gathered) or dense
    # vectors of X floats. ``S`` is the size of the flat state.

    # training buffers, allocated on first use (see _allocate)
    grads: "Buf"
    h: "Buf"
    z: "Buf"
    p: "Buf"
    dz: "Buf"
    dh: "Buf"
    dh_raw: "Buf"
    dh0: "Buf"
    c: "Buf"
    a: "Buf"
    e: "Buf"
    dah: "Buf"
    x: "Buf"
    targets: "Buf"
    w: "Buf"
    tokens: "List[int]"
    ids: "List[int]"

    def __init__(
        self, X: int, H: int, Y: int, T: int, head: str = "softmax", cell: str = "rnn", layers: int = 1
    ) -> None:
        self.X = X = _positive_int("X", X)
        self.H = H = _positive_int("H", H)
        self.Y = Y = _positive_int("Y", Y)
        self.T = T = _positive_int("T", T)
        if head not in heads.HEADS:
            raise ValueError("head must be one of %s, got %r" % (", ".join(heads.HEADS), head))
        self.head = head
        if cell not in CELLS:
            raise ValueError("cell must be one of %s, got %r" % (", ".join(CELLS), cell))
        self.cell = cell
        self.layers = layers = _positive_int("layers", layers)
        # flat state: h of every layer (layer l at l*H), then for lstm c of every layer
        self.S = (2 if cell == "lstm" else 1) * layers * H
        self.vanilla = cell == "rnn" and layers == 1  # today's fused fast path
        self.layout = Layout(X, H, Y, cell, layers)
        self.params = k.zeros(self.layout.size)
        # the sequence of the last forward pass
        self.n = 0
        self.backward_done = False  # backward() ran on the last forward pass
        self.dense = False
        self.unit_weights = True
        self.loss = 0.0
        self.used = []  # type: List[int]  # token ids of the last backward (their Wxh columns have gradients)
        self._step_views = None  # type: Optional[tuple[Any, ...]]
        self.frozen = False  # see freeze()

    def __getattr__(self, name: str) -> "Any":
        # only reached for attributes not yet set: the training buffers
        if name in _TRAINING:
            self._allocate()
            if name == "dh" and self.vanilla:
                self._dh()
            return self.__dict__[name]
        raise AttributeError(name)

    def _dh(self) -> None:
        """The one-layer tanh model's dh, allocated on its first read (diagnostics, tests).

        Until then backward() keeps dL/dh[t+1] in dh_raw's slot, where the
        tanh's derivative overwrites it: T*H numbers fewer on a board. Read
        after a backward(), the recurrence is rerun into it (same kernels,
        same numbers; the weights must be those backward() used, as
        always); from then on every backward() fills it.
        """
        self.dh = k.zeros(self.T * self.H)
        if self.n and self.backward_done:
            self._bptt(self.dh)

    def _allocate(self) -> None:
        """The buffers forward/backward need, T steps each (once)."""
        if "grads" in self.__dict__:
            return
        X, H, Y, T, L, G = self.X, self.H, self.Y, self.T, self.layers, self.layout.gates
        zeros = k.zeros
        self.grads = zeros(self.layout.size)
        self.h = zeros(L * (T + 1) * H)  # layer l's state t at (l*(T+1) + t)*H
        self.z = zeros(T * Y)
        self.p = self.z if self.head == "mse" else zeros(T * Y)  # mse: p is z itself
        self.dz = zeros(T * Y)
        if not self.vanilla:  # the one-layer tanh model allocates dh when it is first read (_dh)
            self.dh = zeros(L * T * H)  # dL/dh[t+1] of layer l at (l*T + t)*H
        self.dh_raw = zeros(L * T * G * H)  # dL/d pre-activations (every gate), (l*T + t)*G*H
        self.dh0 = zeros(self.S)  # dL/d(initial state), the state's layout, for callers that chain sequences
        gated = self.cell != "rnn"
        self.c = zeros(L * (T + 1) * H if self.cell == "lstm" else 0)  # lstm cells, laid out as h
        self.a = zeros(L * T * G * H if gated else 0)  # the gates after their activations
        self.e = zeros(L * T * H if gated else 0)  # gru W_hn h + b_hn, lstm tanh(c')
        self.dah = zeros(L * T * G * H) if self.cell == "gru" else self.dh_raw  # the hidden side's dL/d pre-act.
        self.x = zeros(0)  # T*X input floats: allocated by the first dense input
        # sigmoid, mse: the targets, in dz's buffer (backward turns them into dz); softmax reads ids
        self.targets = self.dz if self.head != "softmax" else zeros(0)
        self.w = zeros(T)
        self.tokens = []  # T token ids: allocated by the first token input
        self.ids = [0] * T if self.head == "softmax" else []  # class ids: softmax only
        self._pre = zeros(G * H)  # Wxh x[t] (+ bxh) of one step

    # ------------------------------------------------------------------ views
    @property
    def num_params(self) -> int:
        return self.layout.size

    def get(self, name: str, buf: "Optional[Buf]" = None) -> "Union[List[float], List[List[float]]]":
        """A copy of parameter group ``name`` (of ``grads`` if buf is grads) as nested lists."""
        off, rows, cols = self._group(name)
        b = self.params if buf is None else buf
        if not cols:
            return list(b[off : off + rows])
        return [list(b[off + r * cols : off + (r + 1) * cols]) for r in range(rows)]

    def set(self, name: str, value: "Union[Sequence[float], Sequence[Sequence[float]]]") -> None:
        """Overwrite parameter group ``name`` from nested lists of the right shape."""
        self.freeze(False)
        off, rows, cols = self._group(name)
        if not cols:
            vals = _finite_floats(name, value, rows)  # type: ignore[arg-type]
            k.put(self.params, off, vals)
            return
        if len(value) != rows:
            raise ValueError("%s has %d rows, expected %d" % (name, len(value), rows))
        for r in range(rows):
            row = _finite_floats("%s[%d]" % (name, r), value[r], cols)  # type: ignore[arg-type]
            k.put(self.params, off + r * cols, row)

    def _group(self, name: str) -> "tuple[int, int, int]":
        if name not in self.layout.groups:
            raise ValueError("unknown parameter group %r (groups: %s)" % (name, ", ".join(self.layout.names)))
        return self.layout.groups[name]

    def grad_ranges(self) -> "List[tuple[int, int, int]]":
        """Index ranges (start, stop, step) outside which ``grads`` is zero after backward().

        With token input only the Wxh columns of the tokens seen have
        gradients; the optimisers whose update of a zero gradient is exactly
        nothing (SGD without momentum, Adagrad) and ``clip_elementwise``
        accept these ranges and skip the rest.
        """
        L = self.layout
        if self.dense or self.n == 0:
            return [(0, L.size, 1)]
        X = self.X  # layer 0's Wxh columns of the tokens seen, then everything from layer 0's Whh on
        return [(L.Wxh + j, L.Whh, X) for j in self.used] + [(L.Whh, L.size, 1)]

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
        self._allocate()
        X, H, Y, T = self.X, self.H, self.Y, self.T
        self.n = 0  # until the whole sequence is valid, backward() has nothing to use
        self.backward_done = False
        n = len(xs)
        if n == 0:
            raise ValueError("empty input sequence: need at least 1 step")
        if n > T:
            raise ValueError("input has %d steps, more than T=%d" % (n, T))
        first = xs[0]
        self.dense = not _is_token(first)
        if self.dense:
            if len(self.x) == 0:
                self.x = k.zeros(T * X)
            for t in range(n):
                xt = xs[t]
                if isinstance(xt, (int, float, str, bytes, dict)):
                    raise ValueError("input[%d] is %r; expected a vector of %d floats (or use token ids throughout)" % (t, xt, X))
                row = _finite_floats("input[%d]" % t, xt, X)
                for j, v in enumerate(xt):
                    if type(v) is not float and isinstance(v, (bool, str, bytes)):
                        raise ValueError("input[%d][%d] is %r; expected a number" % (t, j, v))
                k.put(self.x, t * X, row)
        else:
            if not self.tokens:
                self.tokens = [0] * T
            fast = _ids_in(xs, X)
            if fast:
                self.tokens[0:n] = xs  # type: ignore[assignment]
            for t in range(0 if fast else n):  # the loop converts NumPy ids and names the first bad token
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
        ids_ok = self.head == "softmax" and _ids_in(targets, Y)
        if ids_ok:
            self.ids[first_t:n] = targets  # type: ignore[assignment]
        for j in range(0 if ids_ok else m):  # the loop names the first bad target
            t = first_t + j
            tgt = targets[j]
            if self.head == "softmax":
                if not isinstance(tgt, int) or isinstance(tgt, bool) or tgt < 0 or tgt >= Y:
                    raise ValueError("targets[%d] = %r is not a class id in [0, %d)" % (j, tgt, Y))
                self.ids[t] = tgt
            else:
                vec = [tgt] if isinstance(tgt, (int, float)) else tgt
                vals = _finite_floats("targets[%d]" % j, vec, Y)  # type: ignore[arg-type]
                if self.head == "sigmoid" and (min(vals) < 0.0 or max(vals) > 1.0):
                    raise ValueError("targets[%d] = %r: sigmoid targets must lie in [0, 1]" % (j, tgt))
                k.put(self.targets, t * Y, vals)
        for t in range(first_t if self.ids else 0):  # steps without a target (many-to-one)
            self.ids[t] = 0
        k.fill(self.targets, 0, min(first_t * Y, len(self.targets)), 0.0)
        # per-step weights
        if weights is None:
            k.fill(self.w, 0, first_t, 0.0)
            k.fill(self.w, first_t, m, 1.0)
        else:
            w = _finite_floats("weights", weights, n)
            if min(w) < 0.0:
                raise ValueError("weights[%d] = %r is negative" % (w.index(min(w)), min(w)))
            if last_only and max(w[0:first_t] or [0.0]) != 0.0:
                raise ValueError("with last_only, weights before the last step must be 0")
            k.put(self.w, 0, w)
        self.unit_weights = weights is None and not last_only
        # initial state: h of every layer, then (lstm) c of every layer
        S1, h, c = (T + 1) * H, self.h, self.c
        s0 = [0.0] * self.S if h0 is None else _finite_floats("h0", h0, self.S)
        for l in range(self.layers):
            k.put(h, l * S1, s0[l * H : (l + 1) * H])
            if len(c):
                k.put(c, l * S1, s0[(self.layers + l) * H : (self.layers + l + 1) * H])
        self.n = n
        return n

    # --------------------------------------------------------------- forward
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
        masks a step). ``h0``: initial state (zeros by default) in the
        layout of ``new_state()``: h of every layer, then (lstm) c of every layer.

        The loss is ``sum_t w_t * loss_t`` -- a sum over steps, not a mean.
        """
        if self.frozen:  # training is about to change what step() would read
            self.freeze(False)
        n = self._load(xs, targets, weights, h0, last_only)
        if not self.vanilla:
            from . import stack  # only models that need it compile it (MicroPython's heap)

            stack.forward(self, n)
            self.loss = heads.forward(self.head, self.z, self.p, n, self.Y, self.ids, self.targets, self.w)
            return self.loss
        X, H, Y = self.X, self.H, self.Y
        P, L, h, z = self.params, self.layout, self.h, self.z
        Wh = k.rows(P, L.Whh, H, H, L.bh)  # [Whh | bh]
        Wo = k.rows(P, L.Why, Y, H, L.by)  # [Why | by]
        if self.dense:
            Wx, x, pre, mv = k.rows(P, L.Wxh, H, X), self.x, self._pre, k.mv
            for t in range(n):
                mv(Wx, x, t * X, pre, 0)
                mv(Wh, h, t * H, h, (t + 1) * H, k.tanh, pre, 0, 1)
        else:  # h[t+1] = tanh([Whh | bh] [h[t] | 1] + column tokens[t] of Wxh)
            k.steps(Wh, H, h, n, P, L.Wxh, X, self.tokens)
        k.mm(Wo, h, H, H, z, 0, n)  # z[t] = [Why | by] [h[t+1] | 1] for every step
        self.loss = heads.forward(self.head, z, self.p, n, Y, self.ids, self.targets, self.w)
        return self.loss

    # -------------------------------------------------------------- backward
    def backward(self) -> None:
        """BPTT over the last forward pass: grads = dL/dparams.

        Uses the weights the forward pass read; do not change ``params``
        between the two calls.
        """
        n, X, H, Y = self.n, self.X, self.H, self.Y
        if n == 0:
            raise ValueError("backward() needs a forward() first")
        G, L = self.grads, self.layout
        h, dz, dh_raw = self.h, self.dz, self.dh_raw
        if not self.backward_done:  # dz once: for sigmoid and mse it replaces the targets
            heads.backward(self.head, self.p, dz, n, Y, self.ids, self.targets, self.w, self.unit_weights)
        self.backward_done = True
        if not self.vanilla:
            from . import stack

            stack.backward(self, n)
            return
        self._bptt(self.__dict__.get("dh", dh_raw))  # dh kept once it has been read (see _dh)

        # weight gradients as sums over time
        k.outer_time(G, L.Why, Y, H, dz, 0, Y, h, H, H, n, L.by)  # dWhy = sum_t dz[t] h[t+1]^T, dby = sum_t dz[t]
        k.outer_time(G, L.Whh, H, H, dh_raw, 0, H, h, 0, H, n, L.bh)  # dWhh = sum_t dh_raw[t] h[t]^T, dbh
        if self.dense:
            k.outer_time(G, L.Wxh, H, X, dh_raw, 0, H, self.x, 0, X, n)
        else:
            k.fill(G, L.Wxh, H * X, 0.0)
            tokens = self.tokens
            for t in range(n):
                k.add_col(G, L.Wxh, H, X, tokens[t], dh_raw, t * H)
            self.used[:] = sorted(set(tokens[:n]))

    def _bptt(self, dh: "Buf") -> None:
        """The vanilla recurrence backwards in time: dh (or dh_raw itself), dh_raw and dh0."""
        n, H, Y, P, L = self.n, self.H, self.Y, self.params, self.layout
        h, dz, dh_raw, dnext = self.h, self.dz, self.dh_raw, self.dh0
        WoT = k.cols(P, L.Why, Y, H)
        WhT = k.cols(P, L.Whh, H, H)
        k.mtm(WoT, dz, 0, Y, dh, 0, n)  # dh[t] = Why^T dz[t] for every step (nothing from beyond step n-1)
        # back in time: dh_raw[t] = (1 - h[t+1]^2) dh[t], dh[t-1] += Whh^T dh_raw[t]; dL/dh[0] = Whh^T dh_raw[0]
        k.dsteps(WhT, H, h, dh, dh_raw, n, dnext)

    def final_state(self) -> "List[float]":
        """The state after the last forward pass, in new_state()'s layout (carry it into the next chunk)."""
        if self.vanilla:
            return list(self.h[self.n * self.H : (self.n + 1) * self.H])
        H, S1, off = self.H, (self.T + 1) * self.H, self.n * self.H
        out = []  # type: List[float]
        for buf in (self.h, self.c):
            for l in range(self.layers if len(buf) else 0):
                out.extend(buf[l * S1 + off : l * S1 + off + H])
        return out

    # ------------------------------------------------------------- inference
    def new_state(self) -> "List[float]":
        """A zero state: h of every layer (layer l at l*H), then for lstm c of every layer."""
        return [0.0] * self.S

    def _views(self, dense: bool) -> "tuple[Any, ...]":
        """(P, snapshot, [Whh|bh], [Why|by], Wxh or None, scratch): step()'s handles, kept while P is unchanged."""
        P, L = self.params, self.layout
        v = self._step_views
        if v is not None and v[0] is P and (v[4] is not None or not dense) and (self.frozen or k.views_valid(P, v[1])):
            return v
        H = self.H
        Wh = k.rows(P, L.Whh, H, H, L.bh)
        Wo = (k.rows_copy if self.frozen else k.rows)(P, L.Why, self.Y, H, L.by)
        Wx = k.rows(P, L.Wxh, H, self.X) if dense else None
        v = (P, None if self.frozen else k.snapshot(P), Wh, Wo, Wx, k.zeros(H))
        self._step_views = v
        return v

    def freeze(self, frozen: bool = True) -> None:
        """Promise the parameters stay as they are: step() stops checking them.

        Until ``freeze(False)``, ``forward()`` or ``set()``, step() uses the
        handles it built on its first call after this one without comparing
        the parameters each call (CPython), and reads the output layer
        [Why | by] from a copy in a list (MicroPython: no float boxed per
        weight read, 20 bytes a number beside the array's 8 -- 43 KB for the
        H = 32 char model). Writing ``params`` yourself meanwhile is not seen:
        call freeze() again after it.
        """
        self.frozen = frozen
        self._step_views = None

    def step(self, state: "List[float]", x: "Union[int, Sequence[float]]", z: "List[float]") -> None:
        """One inference step, no BPTT storage: state <- h', z <- logits.

        ``x`` is a token id or X floats; ``state`` (H floats) and ``z`` (Y
        floats) are the caller's buffers, updated in place -- the shape of
        the C runtime's ``NAME_step``.
        """
        H, X = self.H, self.X
        if len(state) != self.S or len(z) != self.Y:
            raise ValueError("state must hold %d floats and z %d floats" % (self.S, self.Y))
        if isinstance(x, int):
            if isinstance(x, bool) or x < 0 or x >= X:
                raise ValueError("token %r is outside the vocabulary [0, %d)" % (x, X))
            if not self.vanilla:
                from . import stack

                return stack.step(self, state, x, z)
            v = self._views(False)
            k.mv(v[2], state, 0, state, 0, k.tanh, self.params, self.layout.Wxh + x, X)
        else:
            xv = _finite_floats("x", x, X)
            if not self.vanilla:
                from . import stack

                return stack.step(self, state, xv, z)
            v = self._views(True)
            pre = v[5]
            k.mv(v[4], xv, 0, pre, 0)  # Wxh x
            k.mv(v[2], state, 0, state, 0, k.tanh, pre, 0, 1)
        k.mv(v[3], state, 0, z, 0)

    def output(self, z: "List[float]", y: "List[float]") -> None:
        """y = softmax / sigmoid / identity of the logits z."""
        heads.output(self.head, z, y)


_TRAINING = ("grads", "h", "z", "p", "dz", "dh", "dh_raw", "dh0", "x", "targets", "w", "tokens", "ids", "_pre", "c", "a", "e", "dah")


def argmax(z: "Sequence[float]") -> int:
    """Index of the largest logit (the first one on ties)."""
    return list(z).index(max(z))
