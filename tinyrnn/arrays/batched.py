"""Minibatch forward + BPTT for the vanilla tanh RNN, Array API functions only.

Shapes (B sequences of at most T steps, n = steps in this batch; arrays are
kept time-major inside, row ``t*B + b`` of a flat (n*B, .) array is step t
of sequence b)::

    inputs   (B, n) integer token ids         or (B, n, X) floats
    targets  softmax: (B, n) class ids        sigmoid / mse: (B, n, Y) floats
             with last_only: (B,) / (B, Y)    (a (B, n) array when Y == 1)
    weights  (B, n) per-step loss weights (0 masks a step) or (B,) one per
             sequence, optional
    lengths  (B,) steps used per sequence; steps t >= lengths[b] weigh 0
    h0       (B, H) initial states, optional (zeros)

The math is the core's (``tinyrnn/model.py``, ``tinyrnn/heads.py``), for
every sequence at once::

    h[t+1] = tanh(x[t] Wxh^T + h[t] Whh^T + bh)      (B, H)
    z[t]   = h[t+1] Why^T + by                        (B, Y)
    loss   = sum_b sum_t w[b,t] * loss_t(z[t, b], target[b, t])

The loss is a **sum** over steps and over the batch's sequences, so the
gradients equal the sum of the core's per-sequence gradients. Nothing is
written in place (lists of per-step arrays are stacked), so immutable arrays
(JAX) work; no function outside the Array API standard is called.
"""

from typing import Any, List, Optional

from ..core.heads import HEADS
from ..core.model import RNN
from ._xp import Array, all_finite, as_namespace, device_of, is_integer_dtype, resolve_dtype, shape_of, to_float, to_floats

class BatchedRNN:
    """A tinyrnn model's parameters as one flat array of ``xp``, trained a batch at a time.

    ``params`` and ``grads`` are 1-D arrays with the core's layout
    (``Wxh | Whh | bh | Why | by``); ``sync()`` copies ``params`` back into
    the model (Python floats), ``load()`` the other way.
    """

    def __init__(self, model: RNN, xp: Any, device: Any = None, dtype: Any = None) -> None:
        if model.head not in HEADS:
            raise ValueError("unknown head %r" % model.head)
        self.model = model
        self.xp = xp = as_namespace(xp)
        self.dtype = resolve_dtype(xp, dtype)
        self.X, self.H, self.Y, self.T = model.X, model.H, model.Y, model.T
        self.head = model.head
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

    def views(self, flat: Optional[Array] = None) -> "tuple[Array, Array, Array, Array, Array]":
        """(Wxh (H,X), Whh (H,H), bh (H,), Why (Y,H), by (Y,)) as reshaped slices of ``flat``."""
        xp = self.xp
        P = self.params if flat is None else flat
        L = self.model.layout
        X, H, Y = self.X, self.H, self.Y
        return (
            xp.reshape(P[L.Wxh : L.Whh], (H, X)),
            xp.reshape(P[L.Whh : L.bh], (H, H)),
            P[L.bh : L.Why],
            xp.reshape(P[L.Why : L.by], (Y, H)),
            P[L.by : L.size],
        )

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

    def forward_prepared(self, dense: bool, B: int, n: int, x: Array, tgt: Array, w: Optional[Array], h0: Optional[Array] = None, check: bool = True) -> float:
        xp = self.xp
        H, Y = self.H, self.Y
        Wxh, Whh, bh, Why, by = self.views()
        if h0 is None:
            h_0 = xp.zeros((B, H), dtype=self.dtype, device=self.device)
        else:
            self._check_device("h0", h0)
            if shape_of(h0) != (B, H):
                raise ValueError("h0 has shape %s, expected (B, H) = %s" % (shape_of(h0), (B, H)))
            h_0 = xp.astype(h0, self.dtype)
            if check and not all_finite(xp, h_0):
                raise ValueError("h0 has non-finite values")
        # input contribution for every step at once: (n*B, H)
        if dense:
            xw = x @ xp.matrix_transpose(Wxh)
        else:
            xw = xp.take(xp.matrix_transpose(Wxh), x, axis=0)
        pre = xp.reshape(xw + bh, (n, B, H))
        WhhT = xp.matrix_transpose(Whh)
        tanh = xp.tanh
        h = h_0
        hs = []
        for t in range(n):
            h = tanh(pre[t, ...] + h @ WhhT)
            hs.append(h)
        hs_flat = xp.reshape(xp.stack(hs, axis=0), (n * B, H))
        # output layer for every step at once: (n*B, Y)
        z = hs_flat @ xp.matrix_transpose(Why) + by
        # one-hot rows (comparison with arange), built once for forward and backward
        y1 = self._onehot(tgt, self._ar_y) if self.head == "softmax" else tgt
        x1 = x if dense else None
        p, loss_rows = self._head_forward(z, tgt, y1)
        loss = to_float(xp.sum(loss_rows if w is None else w * loss_rows))
        self._cache = (dense, x, x1, y1, w, h_0, hs, hs_flat, p)
        self.n, self.B, self.loss = n, B, loss
        return loss

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
        """BPTT over the last forward: ``grads`` = dL/dparams (a new flat array), returned."""
        if self._cache is None:
            raise ValueError("backward() needs a forward() first")
        xp = self.xp
        dense, x, x1, y1, w, h_0, hs, hs_flat, p = self._cache
        n, B, H = self.n, self.B, self.H
        Wxh, Whh, bh, Why, by = self.views()
        dz = p - y1  # softmax: p - onehot; sigmoid: p - y; mse: z - y
        if w is not None:
            dz = xp.reshape(w, (-1, 1)) * dz
        # output layer, all steps at once
        dWhy = xp.matrix_transpose(dz) @ hs_flat  # (Y, H)
        dby = xp.sum(dz, axis=0)
        d_out = xp.reshape(dz @ Why, (n, B, H))
        dtanh = 1.0 - hs_flat * hs_flat
        dtanh = xp.reshape(dtanh, (n, B, H))
        drs: List[Array] = []
        dh_next = None
        for t in range(n - 1, -1, -1):
            dh = d_out[t, ...] if dh_next is None else d_out[t, ...] + dh_next
            dr = dh * dtanh[t, ...]
            drs.append(dr)
            dh_next = dr @ Whh
        drs.reverse()
        dr_flat = xp.reshape(xp.stack(drs, axis=0), (n * B, H))
        h_prev = xp.reshape(xp.stack([h_0] + hs[:-1], axis=0), (n * B, H))
        drT = xp.matrix_transpose(dr_flat)
        dWhh = drT @ h_prev
        dbh = xp.sum(dr_flat, axis=0)
        # tokens: the one-hot input matrix turns the scatter-add into one matmul
        dWxh = drT @ (x1 if x1 is not None else self._onehot(x, self._ar_x))
        self.dh0 = dh_next
        self.grads = xp.concat([xp.reshape(dWxh, (-1,)), xp.reshape(dWhh, (-1,)), dbh, xp.reshape(dWhy, (-1,)), dby], axis=0)
        return self.grads

    def final_state(self, lengths: Optional[Array] = None) -> Array:
        """(B, H) state after each sequence's last step (``lengths``, default all n steps)."""
        if self._cache is None:
            raise ValueError("final_state() needs a forward() first")
        xp = self.xp
        hs = self._cache[6]
        if lengths is None:
            return hs[-1]
        stacked = xp.stack(hs, axis=0)  # (n, B, H)
        lens = lengths if hasattr(lengths, "shape") else xp.asarray(lengths, device=self.device)
        steps = xp.reshape(xp.arange(self.n, device=self.device), (self.n, 1))
        pick = xp.astype(steps == xp.reshape(xp.astype(lens, steps.dtype), (1, -1)) - 1, self.dtype)  # (n, B)
        return xp.sum(stacked * pick[:, :, None], axis=0)


__all__ = ["BatchedRNN"]
