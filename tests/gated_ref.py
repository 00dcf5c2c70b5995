"""A float64 reference step for every cell and depth, written from the gated-cell contract (docs/export.md).

``Model(X, H, Y, T, head, cell=, layers=)`` has the attributes the C exporter
reads (X, H, Y, T, head, cell, layers, params, layout.groups/size/group_size,
num_params) and ``new_state()`` / ``step(state, x, z)`` with the contract's
flat state (h of every layer, then c of every layer for the LSTM). It stands in
for ``tinyrnn.RNN(..., cell=, layers=)`` in the C export tests: where the core
has gated cells (``tinyrnn.core.model.Layout`` takes ``cell``), ``make`` returns
the core's model instead. tests/test_export_gated.py checks this step against
PyTorch's nn.GRU / nn.LSTM in float64.
"""

import math

from tinyrnn import RNN, Rng

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def core_has_cells() -> bool:
    try:
        RNN(1, 1, 1, 1, "softmax", cell="gru", layers=2)  # type: ignore[call-arg]
    except TypeError:
        return False
    return True


class Layout:
    """Offsets of the contract's flat layout (per layer Wxh|Whh|bh or Wxh|Whh|bxh|bhh, then Why|by)."""

    def __init__(self, X, H, Y, cell="rnn", layers=1):
        self.cell, self.layers, self.gates = cell, layers, GATES[cell]
        G = self.gates
        self.groups = {}
        off = 0
        for layer in range(layers):
            sfx = str(layer) if layer else ""
            Xl = X if layer == 0 else H
            shapes = [("Wxh", G * H, Xl), ("Whh", G * H, H)]
            shapes += [("bh", H, 0)] if cell == "rnn" else [("bxh", G * H, 0), ("bhh", G * H, 0)]
            for g, rows, cols in shapes:
                self.groups[g + sfx] = (off, rows, cols)
                off += rows * cols if cols else rows
        self.groups["Why"] = (off, Y, H)
        off += Y * H
        self.groups["by"] = (off, Y, 0)
        self.size = off + Y

    def group_size(self, name):
        _, rows, cols = self.groups[name]
        return rows * cols if cols else rows


def _sigmoid(a):
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


class Model:
    def __init__(self, X, H, Y, T, head="softmax", cell="rnn", layers=1):
        self.X, self.H, self.Y, self.T, self.head = X, H, Y, T, head
        self.cell, self.layers = cell, layers
        self.layout = Layout(X, H, Y, cell, layers)
        self.params = [0.0] * self.layout.size
        self.num_params = self.layout.size

    def new_state(self):
        return [0.0] * (self.layers * self.H * (2 if self.cell == "lstm" else 1))

    def _affine(self, g, v, rows, out, acc):
        off, _, cols = self.layout.groups[g]
        P = self.params
        for r in range(rows):
            w = off + r * cols
            out[r] = (out[r] if acc else 0.0) + sum(P[w + j] * v[j] for j in range(cols))

    def step(self, state, x, z):
        X, H, G, P, grp = self.X, self.H, self.layout.gates, self.params, self.layout.groups
        below = None
        for layer in range(self.layers):
            sfx = str(layer) if layer else ""
            h = state[layer * H : (layer + 1) * H]
            a = [0.0] * (G * H)  # input part
            if layer == 0 and not isinstance(x, (list, tuple)):
                off = grp["Wxh"][0]
                a = [P[off + r * X + x] for r in range(G * H)]
            else:
                self._affine("Wxh" + sfx, x if layer == 0 else below, G * H, a, False)
            b = [0.0] * (G * H)  # recurrent part
            self._affine("Whh" + sfx, h, G * H, b, False)
            if self.cell == "rnn":
                bh = grp["bh" + sfx][0]
                hn = [math.tanh(a[i] + P[bh + i] + b[i]) for i in range(H)]
            else:
                bx, bb = grp["bxh" + sfx][0], grp["bhh" + sfx][0]
                a = [a[r] + P[bx + r] for r in range(G * H)]
                b = [b[r] + P[bb + r] for r in range(G * H)]
            if self.cell == "gru":
                hn = []
                for i in range(H):
                    r = _sigmoid(a[i] + b[i])
                    u = _sigmoid(a[H + i] + b[H + i])
                    n = math.tanh(a[2 * H + i] + r * b[2 * H + i])
                    hn.append((1.0 - u) * n + u * h[i])
            elif self.cell == "lstm":
                c0 = self.layers * H + layer * H
                hn = []
                for i in range(H):
                    s = [a[k * H + i] + b[k * H + i] for k in range(4)]
                    c = _sigmoid(s[1]) * state[c0 + i] + _sigmoid(s[0]) * math.tanh(s[2])
                    state[c0 + i] = c
                    hn.append(_sigmoid(s[3]) * math.tanh(c))
            state[layer * H : (layer + 1) * H] = hn
            below = hn
        self._affine("Why", below, self.Y, z, False)
        by = grp["by"][0]
        for k in range(self.Y):
            z[k] += P[by + k]


def make(X, H, Y, head, cell, layers, T=1):
    """The core's gated model where it exists, else this module's reference."""
    if core_has_cells() and not (cell == "rnn" and layers == 1):
        return RNN(X, H, Y, T, head, cell=cell, layers=layers)  # type: ignore[call-arg]
    if cell == "rnn" and layers == 1:
        return RNN(X, H, Y, T, head)
    return Model(X, H, Y, T, head, cell, layers)


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
