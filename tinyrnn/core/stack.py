"""Stacked layers of any cell: forward, BPTT and step() of the model for every
cell and depth but the one-layer tanh model (whose fused loop is in model.py).

Layer after layer over the whole sequence, each a cell of cells.py per step
on the model's flat buffers (model.py's docstring has their layout); BPTT
runs the top layer first, each back in time, and hands the layer below its
dL/dh from above, Wxh{l}^T da. Imported by the first model that needs it,
so a tanh model on a board never compiles it.
"""

from . import cells
from . import kernels as k

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Union

    from .model import RNN


def forward(m: "RNN", n: int) -> None:
    """Any cell, any depth: layer after layer over the whole sequence, then the head."""
    X, H, Y, T, G = m.X, m.H, m.Y, m.T, m.layout.gates
    P, h, c, a, e, ax = m.params, m.h, m.c, m.a, m.e, m._pre
    S1, GH, fwd = (T + 1) * H, G * H, cells.FORWARD[m.cell]
    for l in range(m.layers):
        wx, wh, bx, bh, Xl = m.layout.layer[l]
        Wh = k.rows(P, wh, GH, H, bh)
        token = l == 0 and not m.dense
        Wx = None if token else k.rows(P, wx, GH, Xl, bx)
        xin, xoff, xstep = (m.x, 0, X) if l == 0 else (h, (l - 1) * S1 + H, H)  # layer l-1's h[1..n]
        hl, al, el = l * S1, l * T * GH, l * T * H
        for t in range(n):
            if token:  # column tokens[t] of Wxh (+ bxh)
                k.gather(P, wx + m.tokens[t], X, ax, 0, GH, P if bx >= 0 else None, bx)
            else:
                k.mv(Wx, xin, xoff + t * xstep, ax, 0)  # Wxh x[t] (+ bxh)
            fwd(Wh, ax, h, hl + t * H, hl + (t + 1) * H, a, al + t * GH, e, el + t * H, c, hl + t * H, hl + (t + 1) * H, H)
    Wo, top = k.rows(P, m.layout.Why, Y, H, m.layout.by), (m.layers - 1) * S1
    for t in range(n):
        k.mv(Wo, h, top + (t + 1) * H, m.z, t * Y)


def backward(m: "RNN", n: int) -> None:
    """BPTT for any cell and depth: the top layer first, each back in time, then its weight gradients."""
    X, H, Y, T, L, G = m.X, m.H, m.Y, m.T, m.layers, m.layout.gates
    P, Gr, Lt = m.params, m.grads, m.layout
    h, c, a, e, dz, dh, da, dah, d0 = m.h, m.c, m.a, m.e, m.dz, m.dh, m.dh_raw, m.dah, m.dh0
    S1, GH, bwd = (T + 1) * H, G * H, cells.BACKWARD[m.cell]
    WoT, top = k.cols(P, Lt.Why, Y, H), (L - 1) * S1
    k.mtm(WoT, dz, 0, Y, dh, (L - 1) * T * H, n)  # the top layer's dh[t] = Why^T dz[t], every step
    k.outer_time(Gr, Lt.Why, Y, H, dz, 0, Y, h, top + H, H, n, Lt.by)  # dWhy = sum_t dz[t] h_top[t+1]^T, dby
    k.fill(d0, 0, m.S, 0.0)  # dL/dh (and dL/dc) from beyond the sequence
    for l in range(L - 1, -1, -1):
        wx, wh, bx, bh, Xl = Lt.layer[l]
        WhT = k.cols(P, wh, GH, H)
        hl, dl, al, dnp, dcp = l * S1, l * T * H, l * T * GH, l * H, (L + l) * H
        for t in range(n - 1, -1, -1):
            dp, ap = dl + t * H, al + t * GH
            k.vadd(dh, dp, d0, dnp, dh, dp, H)  # dh[t] += dL/dh[t+1] through step t+1
            bwd(WhT, h, hl + t * H, dh, dp, a, ap, e, dl + t * H, c, hl + t * H, da, ap, dah, ap, d0, dnp, d0, dcp, H)
        # d0 now holds dL/d(layer l's initial state); the weight gradients as sums over time
        k.outer_time(Gr, wh, GH, H, dah, al, GH, h, hl, H, n, bh)  # dWhh = sum_t dah[t] h[t]^T, dbhh
        if l > 0:  # the input is layer l-1's h[1..n]: its weight gradient, and dL/dh of layer l-1 from above
            k.outer_time(Gr, wx, GH, H, da, al, GH, h, hl - S1 + H, H, n, bx)  # dWxh, gated: dbxh
            k.mtm(k.cols(P, wx, GH, H), da, al, GH, dh, dl - T * H, n)  # layer l-1's dh[t] = Wxh^T da[t]
        elif m.dense:
            k.outer_time(Gr, wx, GH, X, da, 0, GH, m.x, 0, X, n, bx)
        else:
            if bx >= 0:
                k.sum_time(Gr, bx, GH, da, al, GH, n)
            k.fill(Gr, wx, GH * X, 0.0)
            tokens = m.tokens
            for t in range(n):
                k.add_col(Gr, wx, GH, X, tokens[t], da, t * GH)
            m.used[:] = sorted(set(tokens[:n]))


def _views(m: "RNN", dense: bool) -> "tuple[Any, ...]":
    """(P, snapshot, [(Wh, Wx) per layer], [Why|by], dense, ax, a, e): _step_layers' handles."""
    P, Lt, H, G = m.params, m.layout, m.H, m.layout.gates
    v = m._step_views
    if v is not None and v[0] is P and (v[4] or not dense) and (m.frozen or k.views_valid(P, v[1])):
        return v
    W = []
    for l in range(m.layers):
        wx, wh, bx, bh, Xl = Lt.layer[l]
        W.append((k.rows(P, wh, G * H, H, bh), k.rows(P, wx, G * H, Xl, bx) if l or dense else None))
    Wo = (k.rows_copy if m.frozen else k.rows)(P, Lt.Why, m.Y, H, Lt.by)
    v = (P, None if m.frozen else k.snapshot(P), W, Wo, dense, k.zeros(G * H), k.zeros(G * H), k.zeros(H))
    m._step_views = v
    return v


def step(m: "RNN", s: "List[float]", x: "Union[int, List[float]]", z: "List[float]") -> None:
    """step() for any cell and depth: each layer's cell forward in place on the caller's state."""
    H, L, G, P = m.H, m.layers, m.layout.gates, m.params
    v = _views(m, not isinstance(x, int))
    W, ax, a, e, fwd = v[2], v[5], v[6], v[7], cells.FORWARD[m.cell]
    for l in range(L):
        Wh, Wx = W[l]
        if l:
            k.mv(Wx, s, (l - 1) * H, ax, 0)  # the input is layer l-1's new state
        elif isinstance(x, int):
            bx = m.layout.layer[0][2]
            k.gather(P, m.layout.Wxh + x, m.X, ax, 0, G * H, P if bx >= 0 else None, bx)
        else:
            k.mv(Wx, x, 0, ax, 0)
        c = (L + l) * H
        fwd(Wh, ax, s, l * H, l * H, a, 0, e, 0, s, c, c, H)
    k.mv(v[3], s, (L - 1) * H, z, 0)
