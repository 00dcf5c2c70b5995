"""Minibatch forward + BPTT for every tinyrnn cell and depth, Array API functions only.

Shapes (B sequences of at most T steps, n = steps in this batch; arrays are
kept time-major inside, row ``t*B + b`` of a flat (n*B, .) array is step t
of sequence b)::

    inputs   (B, n) integer token ids         or (B, n, X) floats
    targets  softmax: (B, n) class ids        sigmoid / mse: (B, n, Y) floats
             with last_only: (B,) / (B, Y)    (a (B, n) array when Y == 1)
    weights  (B, n) per-step loss weights (0 masks a step) or (B,) one per
             sequence, optional
    lengths  (B,) steps used per sequence; steps t >= lengths[b] weigh 0
    h0       (B, S) initial states in the core's state layout, optional
             (zeros): h of every layer (layer l at columns l*H ..), then for
             lstm c of every layer; S = H for one vanilla layer

The math is the core's (docs/core.md: PyTorch's cells), for every sequence
at once; layer l reads the input (l = 0) or the new h of layer l-1::

    rnn   h' = tanh(x Wxh^T + h Whh^T + bh)
    gru   [a_r a_z a_n] = x Wxh^T + bxh,  [c_r c_z c_n] = h Whh^T + bhh
          r = sig(a_r + c_r), z = sig(a_z + c_z), n = tanh(a_n + r * c_n)
          h' = (1 - z) * n + z * h
    lstm  [i f g o] = act(x Wxh^T + bxh + h Whh^T + bhh)   (sig sig tanh sig)
          c' = f * c + i * g,  h' = o * tanh(c')
    z[t]  = h_top[t+1] Why^T + by                           (B, Y)
    loss  = sum_b sum_t w[b,t] * loss_t(z[t, b], target[b, t])

The loss is a **sum** over steps and over the batch's sequences, so the
gradients equal the sum of the core's per-sequence gradients. Nothing is
written in place (lists of per-step arrays are stacked), so immutable arrays
(JAX) work; no function outside the Array API standard is called.
"""

from typing import Any, Dict, List, Optional, Tuple

from ..core.heads import HEADS
from ..core.model import RNN
from .cells import suffix
from ._xp import Array, all_finite, as_namespace, device_of, is_integer_dtype, resolve_dtype, shape_of, to_float, to_floats

class BatchedRNN:
    """A tinyrnn model's parameters as one flat array of ``xp``, trained a batch at a time.

    ``params`` and ``grads`` are 1-D arrays with the core's flat layout
    (the core's ``Layout``); ``sync()`` copies ``params`` back into the model
    (Python floats), ``load()`` the other way.
    """

    def __init__(self, model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> None:
        if model.head not in HEADS:
            raise ValueError("unknown head %r" % model.head)
        self.model = model
        self.xp = xp = as_namespace(xp)
        self.dtype = resolve_dtype(xp, dtype)
        self.X, self.H, self.Y, self.T = model.X, model.H, model.Y, model.T
        self.head = model.head
        self.cell, self.layers = model.cell, model.layers
        self.layout = model.layout
        self.G = self.layout.gates
        self.S = model.S  # state floats per sequence: h of every layer (and c, lstm)
        probe = xp.asarray(0.0, dtype=self.dtype, device=device)
        if probe.dtype != self.dtype:  # JAX without jax_enable_x64 quietly makes float32
            raise ValueError(
                "%s made %s arrays when asked for %s (JAX: set jax_enable_x64, or pass dtype='float32')" % (xp.__name__, probe.dtype, "float32" if self.dtype == xp.float32 else "float64")
            )
        self.device = device_of(probe)
        self.params: Array = probe
        self.load()
        self.grads: Array = xp.zeros_like(self.params)
        self.loss = 0.0
        self.n = 0
        self.B = 0
        self._cache: Any = None
        # gather the target logit with take_along_axis where the namespace has it
        self.take_along = hasattr(xp, "take_along_axis")
        # per-vocabulary constants for one-hot rows (comparison with arange)
        self._ar_x = xp.arange(self.X, device=self.device)
        self._ar_y = xp.arange(self.Y, device=self.device)

    # ----------------------------------------------------------- parameters
    def load(self) -> None:
        """params <- model.params."""
        self.params = self.xp.asarray(self.model.params, dtype=self.dtype, device=self.device)

    def sync(self) -> RNN:
        """model.params <- params (read on the CPU); returns the model."""
        values = to_floats(self.params)
        self.model.params[:] = values
        return self.model

    def group(self, name: str, flat: Optional[Array] = None) -> Array:
        """Parameter group ``name`` as a reshaped slice of ``flat`` (default ``params``)."""
        P = self.params if flat is None else flat
        off, rows, cols = self.layout.groups[name]
        if not cols:
            return P[off : off + rows]
        return self.xp.reshape(P[off : off + rows * cols], (rows, cols))

    def views(self, flat: Optional[Array] = None) -> "tuple[Array, Array, Array, Array, Array]":
        """Vanilla one-layer model: (Wxh (H,X), Whh (H,H), bh (H,), Why (Y,H), by (Y,)) as reshaped slices of ``flat``."""
        if self.cell != "rnn" or self.layers != 1:
            raise ValueError("views() is the one-layer vanilla layout; use group(name) for a %s model with %d layers" % (self.cell, self.layers))
        return tuple(self.group(g, flat) for g in ("Wxh", "Whh", "bh", "Why", "by"))

    # --------------------------------------------------------------- inputs
    def _check_device(self, name: str, a: Array) -> None:
        dev = device_of(a)
        if dev != self.device:
            raise ValueError("%s is on device %s but the model's arrays are on %s: move it with to_device" % (name, dev, self.device))

    def prepare(
        self,
        inputs: Array,
        targets: Array,
        weights: Optional[Array] = None,
        lengths: Optional[Array] = None,
        last_only: bool = False,
        check: bool = True,
    ) -> "tuple[bool, int, int, Array, Array, Optional[Array]]":
        """Validate a batch and return (dense, B, n, x, target, w) in the internal time-major form.

        x: (n*B,) token ids or (n*B, X); target: (n*B,) ids or (n*B, Y);
        w: (n*B,) or None when every step weighs 1. With ``check`` the values are validated too (token range,
        finiteness, class ids, sigmoid targets in [0, 1]).
        """
        xp = self.xp
        X, Y, T = self.X, self.Y, self.T
        shape = shape_of(inputs)
        self._check_device("inputs", inputs)
        if len(shape) == 2:
            dense = False
            if not is_integer_dtype(xp, inputs):
                raise ValueError("inputs of shape (B, n) must be integer token ids, got dtype %s" % inputs.dtype)
        elif len(shape) == 3:
            dense = True
            if shape[2] != X:
                raise ValueError("inputs has shape %s: dense inputs need (B, n, X=%d)" % (shape, X))
        else:
            raise ValueError("inputs has shape %s: expected (B, n) token ids or (B, n, X=%d) floats" % (shape, X))
        B, n = shape[0], shape[1]
        if B < 1 or n < 1:
            raise ValueError("empty batch: inputs has shape %s" % (shape,))
        if n > T:
            raise ValueError("inputs has %d steps, more than T=%d" % (n, T))
        if check:
            if dense:
                if not all_finite(xp, inputs):
                    raise ValueError("inputs has non-finite values")
            else:
                lo, hi = to_float(xp.min(inputs)), to_float(xp.max(inputs))
                if lo < 0 or hi >= X:
                    raise ValueError("inputs has token ids in [%d, %d], outside the vocabulary [0, %d)" % (lo, hi, X))
        # loss weights: per step of each sequence (B, n), or per sequence (B,)
        if weights is not None:
            self._check_device("weights", weights)
            wshape = shape_of(weights)
            if wshape == (B,):
                weights = xp.broadcast_to(xp.reshape(weights, (B, 1)), (B, n))
            elif wshape != (B, n):
                raise ValueError("weights has shape %s, expected (B, n) = %s per step or (B,) = (%d,) per sequence" % (wshape, (B, n), B))
            w = xp.astype(weights, self.dtype)
            if check:
                if not all_finite(xp, w):
                    raise ValueError("weights has non-finite values")
                if to_float(xp.min(w)) < 0.0:
                    raise ValueError("weights has negative values")
        else:
            w = None
        steps = xp.reshape(xp.arange(n, device=self.device), (1, n))
        mask = None
        if lengths is not None:
            if not hasattr(lengths, "shape"):
                lengths = xp.asarray(lengths, device=self.device)
            self._check_device("lengths", lengths)
            if shape_of(lengths) != (B,) or not is_integer_dtype(xp, lengths):
                raise ValueError("lengths must be B=%d integers, got shape %s" % (B, shape_of(lengths)))
            if check:
                lo, hi = to_float(xp.min(lengths)), to_float(xp.max(lengths))
                if lo < 1 or hi > n:
                    raise ValueError("lengths must lie in [1, n=%d], got values in [%d, %d]" % (n, lo, hi))
            lens = xp.reshape(xp.astype(lengths, steps.dtype), (B, 1))
            mask = (steps == lens - 1) if last_only else (steps < lens)
        elif last_only:
            mask = xp.broadcast_to(steps == n - 1, (B, n))
        if last_only and w is not None:
            raise ValueError("give either weights or last_only (the weight is 1 at each sequence's last step)")
        if mask is not None:
            wmask = xp.astype(mask, self.dtype)
            w = wmask if w is None else w * wmask
        # w is None: every step weighs 1 (no multiply at all, like the core's unit_weights)
        # targets
        self._check_device("targets", targets)
        tshape = shape_of(targets)
        if self.head == "softmax":
            want: "tuple[int, ...]" = (B,) if last_only else (B, n)
            if tshape != want or not is_integer_dtype(xp, targets):
                raise ValueError("targets has shape %s dtype %s: softmax needs integer class ids of shape %s" % (tshape, targets.dtype, want))
            tg = targets
            if last_only:  # the target sits at each sequence's last step
                tg = xp.where(mask, xp.reshape(targets, (B, 1)), xp.zeros_like(targets[:, None]))
            if check:
                lo, hi = to_float(xp.min(targets)), to_float(xp.max(targets))
                if lo < 0 or hi >= Y:
                    raise ValueError("targets has class ids in [%d, %d], outside [0, %d)" % (lo, hi, Y))
            tgt = xp.reshape(xp.permute_dims(tg, (1, 0)), (n * B,))
        else:
            want = (B, Y) if last_only else (B, n, Y)
            tg = targets
            if Y == 1 and tshape == want[:-1]:
                tg = xp.reshape(tg, want)
                tshape = want
            if tshape != want:
                raise ValueError("targets has shape %s: the %s head needs %s" % (tshape, self.head, want))
            tg = xp.astype(tg, self.dtype)
            if check:
                if not all_finite(xp, tg):
                    raise ValueError("targets has non-finite values")
                if self.head == "sigmoid" and (to_float(xp.min(tg)) < 0.0 or to_float(xp.max(tg)) > 1.0):
                    raise ValueError("sigmoid targets must lie in [0, 1]")
            if last_only and mask is not None:
                tg = xp.where(mask[:, :, None], xp.reshape(tg, (B, 1, Y)), xp.zeros((B, n, Y), dtype=self.dtype, device=self.device))
            tgt = xp.reshape(xp.permute_dims(tg, (1, 0, 2)), (n * B, Y))
        if dense:
            x = xp.reshape(xp.permute_dims(xp.astype(inputs, self.dtype), (1, 0, 2)), (n * B, X))
        else:
            x = xp.reshape(xp.permute_dims(inputs, (1, 0)), (n * B,))
        wt = None if w is None else xp.reshape(xp.permute_dims(w, (1, 0)), (n * B,))
        return dense, B, n, x, tgt, wt

    # -------------------------------------------------------------- forward
    def forward(
        self,
        inputs: Array,
        targets: Array,
        weights: Optional[Array] = None,
        h0: Optional[Array] = None,
        lengths: Optional[Array] = None,
        last_only: bool = False,
        check: bool = True,
    ) -> float:
        """Run the batch; return the summed loss (a Python float)."""
        dense, B, n, x, tgt, w = self.prepare(inputs, targets, weights, lengths, last_only, check)
        return self.forward_prepared(dense, B, n, x, tgt, w, h0, check)

    def _initial_state(self, B: int, h0: Optional[Array], check: bool) -> Array:
        """(B, S) initial state in the core's flat state layout (zeros when h0 is None)."""
        xp = self.xp
        S = self.S
        if h0 is None:
            return xp.zeros((B, S), dtype=self.dtype, device=self.device)
        self._check_device("h0", h0)
        if shape_of(h0) != (B, S):
            what = "(B, H)" if S == self.H else "(B, %s) (h of every layer%s)" % (S, ", then c" if self.cell == "lstm" else "")
            raise ValueError("h0 has shape %s, expected %s = %s" % (shape_of(h0), what, (B, S)))
        s0 = xp.astype(h0, self.dtype)
        if check and not all_finite(xp, s0):
            raise ValueError("h0 has non-finite values")
        return s0

    def forward_prepared(self, dense: bool, B: int, n: int, x: Array, tgt: Array, w: Optional[Array], h0: Optional[Array] = None, check: bool = True) -> float:
        xp = self.xp
        H, L = self.H, self.layers
        s0 = self._initial_state(B, h0, check)
        inp = x  # layer l's input sequence: (n*B,) token ids or (n*B, X_l)
        caches = []
        for l in range(L):
            h_0 = s0[:, l * H : (l + 1) * H]
            c_0 = s0[:, (L + l) * H : (L + l + 1) * H] if self.cell == "lstm" else None
            cache = self._layer_forward(l, inp, dense or l > 0, B, n, h_0, c_0)
            caches.append(cache)
            inp = cache["hs_flat"]
        Why, by = self.group("Why"), self.group("by")
        z = inp @ xp.matrix_transpose(Why) + by  # (n*B, Y), all steps at once
        # one-hot rows (comparison with arange), built once for forward and backward
        y1 = self._onehot(tgt, self._ar_y) if self.head == "softmax" else tgt
        p, loss_rows = self._head_forward(z, tgt, y1)
        loss = to_float(xp.sum(loss_rows if w is None else w * loss_rows))
        self._cache = (dense, x, y1, w, caches, p)
        self.n, self.B, self.loss = n, B, loss
        return loss

    def _layer_forward(self, l: int, inp: Array, dense: bool, B: int, n: int, h_0: Array, c_0: Optional[Array]) -> "Dict[str, Any]":
        """One layer over all n steps; returns what its backward needs."""
        xp = self.xp
        H = self.H
        s = suffix(l)
        Wxh, Whh = self.group("Wxh" + s), self.group("Whh" + s)
        bx = self.group("bh" + s) if self.cell == "rnn" else self.group("bxh" + s)
        # input contribution for every step at once: (n*B, G*H)
        xw = inp @ xp.matrix_transpose(Wxh) if dense else xp.take(xp.matrix_transpose(Wxh), inp, axis=0)
        pre = xp.reshape(xw + bx, (n, B, self.G * H))
        WhhT = xp.matrix_transpose(Whh)
        sig = self._sigmoid
        tanh = xp.tanh
        h = h_0
        hs: List[Array] = []
        gates: List[Any] = []  # per step: (r, z, n) gru, (i, f, g, o, tanh c) lstm
        cs: List[Array] = []
        hns: List[Array] = []
        if self.cell == "rnn":
            for t in range(n):
                h = tanh(pre[t, ...] + h @ WhhT)
                hs.append(h)
        elif self.cell == "gru":
            bhh = self.group("bhh" + s)
            for t in range(n):
                a, hh = pre[t, ...], h @ WhhT + bhh  # (B, 3H) each
                r = sig(a[:, :H] + hh[:, :H])
                u = sig(a[:, H : 2 * H] + hh[:, H : 2 * H])  # the update gate z
                hn = hh[:, 2 * H :]
                nn = tanh(a[:, 2 * H :] + r * hn)
                h = (1.0 - u) * nn + u * h
                hs.append(h)
                gates.append((r, u, nn))
                hns.append(hn)
        else:
            bhh = self.group("bhh" + s)
            c = c_0
            for t in range(n):
                a = pre[t, ...] + h @ WhhT + bhh  # (B, 4H)
                i, f = sig(a[:, :H]), sig(a[:, H : 2 * H])
                g, o = tanh(a[:, 2 * H : 3 * H]), sig(a[:, 3 * H :])
                c = f * c + i * g
                tc = tanh(c)
                h = o * tc
                hs.append(h)
                cs.append(c)
                gates.append((i, f, g, o, tc))
        hs_flat = xp.reshape(xp.stack(hs, axis=0), (n * B, H))
        return {"inp": inp, "h_0": h_0, "c_0": c_0, "hs": hs, "hs_flat": hs_flat, "gates": gates, "cs": cs, "hns": hns}

    def _sigmoid(self, a: Array) -> Array:
        """1 / (1 + exp(-a)) without exp of a large positive number."""
        xp = self.xp
        e = xp.exp(-xp.abs(a))
        return xp.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

    def _onehot(self, ids: Array, ar: Array) -> Array:
        """(N,) ids -> (N, K) one-hot rows in the model dtype, by comparison with arange(K)."""
        xp = self.xp
        return xp.astype(xp.reshape(ids, (-1, 1)) == xp.reshape(xp.astype(ar, ids.dtype), (1, -1)), self.dtype)

    def _head_forward(self, z: Array, tgt: Array, y1: Array) -> "tuple[Array, Array]":
        """(p, per-row loss) for logits z (N, Y); ``y1``: softmax targets one-hot (N, Y)."""
        xp = self.xp
        if self.head == "softmax":
            m = xp.max(z, axis=1, keepdims=True)
            e = xp.exp(z - m)
            s = xp.sum(e, axis=1, keepdims=True)
            p = e / s
            lse = xp.reshape(m + xp.log(s), (-1,))
            if self.take_along:  # z[row, target[row]], a gather (Array API 2024.12)
                zy = xp.reshape(xp.take_along_axis(z, xp.reshape(tgt, (-1, 1)), axis=1), (-1,))
            else:  # the one-hot row picks the target's logit
                zy = xp.sum(z * y1, axis=1)
            return p, lse - zy
        if self.head == "sigmoid":
            e = xp.exp(-xp.abs(z))  # never exp of a positive number
            pos = z >= 0.0
            p = xp.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))
            zpos = xp.where(pos, z, xp.zeros_like(z))
            return p, xp.sum(zpos - z * tgt + xp.log1p(e), axis=1)
        r = z - tgt
        return z, 0.5 * xp.sum(r * r, axis=1)

    # ------------------------------------------------------------- backward
    def backward(self) -> Array:
        """BPTT over the last forward: ``grads`` = dL/dparams (a new flat array), returned; ``dh0`` (B, S)."""
        if self._cache is None:
            raise ValueError("backward() needs a forward() first")
        xp = self.xp
        dense, x, y1, w, caches, p = self._cache
        n, B, H, L = self.n, self.B, self.H, self.layers
        dz = p - y1  # softmax: p - onehot; sigmoid: p - y; mse: z - y
        if w is not None:
            dz = xp.reshape(w, (-1, 1)) * dz
        # output layer, all steps at once
        top = caches[-1]["hs_flat"]
        grads: Dict[str, Array] = {"Why": xp.matrix_transpose(dz) @ top, "by": xp.sum(dz, axis=0)}
        d_out = dz @ self.group("Why")  # (n*B, H): dL/dh of the top layer from the head
        dh0s: List[Array] = [xp.zeros((B, H), dtype=self.dtype, device=self.device)] * L
        dc0s: List[Array] = list(dh0s)
        for l in range(L - 1, -1, -1):
            d_out, dh0s[l], dc0 = self._layer_backward(l, caches[l], d_out, dense or l > 0, B, n, grads)
            if dc0 is not None:
                dc0s[l] = dc0
        self.dh0 = xp.concat(dh0s + (dc0s if self.cell == "lstm" else []), axis=1)
        self.grads = xp.concat([xp.reshape(grads[name], (-1,)) for name in self.layout.names], axis=0)
        return self.grads

    def _layer_backward(self, l: int, cache: "Dict[str, Any]", d_out: Array, dense: bool, B: int, n: int, grads: "Dict[str, Array]") -> "Tuple[Any, Any, Optional[Array]]":
        """BPTT through layer l given dL/d(its h at every step) (n*B, H): writes its groups into ``grads``;
        returns (dL/d(its input) (n*B, X_l) or None for tokens, dL/dh_0, dL/dc_0 or None)."""
        xp = self.xp
        H = self.H
        s = suffix(l)
        Whh = self.group("Whh" + s)
        d_out = xp.reshape(d_out, (n, B, H))
        hs, gates = cache["hs"], cache["gates"]
        h_prev = [cache["h_0"]] + hs[:-1]
        das: List[Array] = []  # dL/d(input pre-activation) per step, (B, G*H)
        dhhs: List[Array] = []  # dL/d(h @ Whh^T + bhh) per step (differs from das in gru's n block)
        dh_next = None
        dc_next = None
        for t in range(n - 1, -1, -1):
            dh = d_out[t, ...] if dh_next is None else d_out[t, ...] + dh_next
            if self.cell == "rnn":
                da = dh * (1.0 - hs[t] * hs[t])
                dhh = da
                dh_next = da @ Whh
            elif self.cell == "gru":
                r, u, nn = gates[t]
                dn = dh * (1.0 - u)
                dan = dn * (1.0 - nn * nn)
                dar = dan * cache["hns"][t] * r * (1.0 - r)
                dau = dh * (h_prev[t] - nn) * u * (1.0 - u)
                da = xp.concat([dar, dau, dan], axis=1)
                dhh = xp.concat([dar, dau, dan * r], axis=1)
                dh_next = dh * u + dhh @ Whh
            else:
                i, f, g, o, tc = gates[t]
                c_prev = cache["c_0"] if t == 0 else cache["cs"][t - 1]
                dc = dh * o * (1.0 - tc * tc)
                if dc_next is not None:
                    dc = dc + dc_next
                da = xp.concat([dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g), dh * tc * o * (1.0 - o)], axis=1)
                dhh = da
                dc_next = dc * f
                dh_next = da @ Whh
            das.append(da)
            dhhs.append(dhh)
        das.reverse()
        dhhs.reverse()
        GH = self.G * H
        da_flat = xp.reshape(xp.stack(das, axis=0), (n * B, GH))
        dhh_flat = da_flat if self.cell != "gru" else xp.reshape(xp.stack(dhhs, axis=0), (n * B, GH))
        h_prev_flat = xp.reshape(xp.stack(h_prev, axis=0), (n * B, H))
        grads["Whh" + s] = xp.matrix_transpose(dhh_flat) @ h_prev_flat
        inp = cache["inp"]
        # tokens: the one-hot input matrix turns the scatter-add into one matmul
        grads["Wxh" + s] = xp.matrix_transpose(da_flat) @ (inp if dense else self._onehot(inp, self._ar_x))
        if self.cell == "rnn":
            grads["bh" + s] = xp.sum(da_flat, axis=0)
        else:
            grads["bxh" + s] = xp.sum(da_flat, axis=0)
            grads["bhh" + s] = xp.sum(dhh_flat, axis=0)
        d_in = da_flat @ self.group("Wxh" + s) if l > 0 else None
        return d_in, dh_next, dc_next

    def final_state(self, lengths: Optional[Array] = None) -> Array:
        """(B, S) state after each sequence's last step (``lengths``, default all n steps), the core's state layout."""
        if self._cache is None:
            raise ValueError("final_state() needs a forward() first")
        xp = self.xp
        caches = self._cache[4]
        seqs = [c["hs"] for c in caches] + ([c["cs"] for c in caches] if self.cell == "lstm" else [])
        if lengths is None:
            return xp.concat([q[-1] for q in seqs], axis=1)
        lens = lengths if hasattr(lengths, "shape") else xp.asarray(lengths, device=self.device)
        steps = xp.reshape(xp.arange(self.n, device=self.device), (self.n, 1))
        pick = xp.astype(steps == xp.reshape(xp.astype(lens, steps.dtype), (1, -1)) - 1, self.dtype)  # (n, B)
        return xp.concat([xp.sum(xp.stack(q, axis=0) * pick[:, :, None], axis=0) for q in seqs], axis=1)

    def outputs(self, inputs: Array, h0: Optional[Array] = None) -> Array:
        """(B, n, Y) logits z of every step (no loss; the head's targets are not needed)."""
        xp = self.xp
        shape = shape_of(inputs)
        B, n = shape[0], shape[1] if len(shape) > 1 else 0
        if self.head == "softmax":
            dummy = xp.zeros((B, n), dtype=xp.int64, device=self.device)
        else:
            dummy = xp.zeros((B, n, self.Y), dtype=self.dtype, device=self.device)
        self.forward(inputs, dummy, h0=h0)
        top = self._cache[4][-1]["hs_flat"]  # (n*B, H), time-major
        z = top @ xp.matrix_transpose(self.group("Why")) + self.group("by")
        return xp.permute_dims(xp.reshape(z, (n, B, self.Y)), (1, 0, 2))

    def logits(self, state: Array) -> Array:
        """(B, Y) logits of the head from (B, S) states (the top layer's h)."""
        xp = self.xp
        top = state[:, (self.layers - 1) * self.H : self.layers * self.H]
        return top @ xp.matrix_transpose(self.group("Why")) + self.group("by")


__all__ = ["BatchedRNN"]
