"""Helpers for the gated-cell C export tests: models of any cell and depth, random weights, torch import.

The reference for the C step is the core's own ``RNN(..., cell=, layers=).step``
in float64 with float32-rounded weights (c_targets.reference); the core's
tests hold that step equal to PyTorch's nn.GRU / nn.LSTM.
"""

import math

from tinyrnn import RNN, Rng


def make(X, H, Y, head, cell, layers, T=1):
    """The core's model of that cell and depth (the vanilla one-layer model built as before)."""
    if cell == "rnn" and layers == 1:
        return RNN(X, H, Y, T, head)
    return RNN(X, H, Y, T, head, cell=cell, layers=layers)


def random_params(m, rng: Rng, scale: float, recurrent_norm: "float | None" = None) -> None:
    """Every parameter uniform in [-scale, scale]; with ``recurrent_norm``, each layer's Whh is
    rescaled so that its Frobenius norm (>= the spectral norm) is ``recurrent_norm``."""
    for k in range(len(m.params)):
        m.params[k] = rng.uniform(-scale, scale)
    if recurrent_norm is None:
        return
    for g, (off, rows, cols) in m.layout.groups.items():
        if g.rstrip("0123456789") != "Whh":
            continue
        n = math.sqrt(sum(v * v for v in m.params[off : off + rows * cols]))
        for k in range(off, off + rows * cols):
            m.params[k] *= recurrent_norm / n


def from_torch(m, rnn, linear) -> None:
    """Copy a torch nn.RNN/nn.GRU/nn.LSTM (num_layers = m.layers) and nn.Linear into ``m.params``
    by the contract: per layer weight_ih, weight_hh, then bias_ih, bias_hh (rnn: their sum as bh)."""
    P, grp = m.params, m.layout.groups

    def put(g, t):
        off = grp[g][0]
        vals = [float(v) for v in t.detach().double().reshape(-1).tolist()]
        P[off : off + len(vals)] = vals

    for layer in range(m.layers):
        sfx = str(layer) if layer else ""
        put("Wxh" + sfx, getattr(rnn, "weight_ih_l%d" % layer))
        put("Whh" + sfx, getattr(rnn, "weight_hh_l%d" % layer))
        bi, bh = getattr(rnn, "bias_ih_l%d" % layer), getattr(rnn, "bias_hh_l%d" % layer)
        if m.cell == "rnn":
            put("bh" + sfx, bi + bh)
        else:
            put("bxh" + sfx, bi)
            put("bhh" + sfx, bh)
    put("Why", linear.weight)
    put("by", linear.bias)
