"""Acceptance 2 for the gated cells: equal to PyTorch's nn.GRU / nn.LSTM + nn.Linear.

float64, the same weights copied group by group (``weight_ih_l{l}`` = Wxh{l},
``weight_hh_l{l}`` = Whh{l}, ``bias_ih_l{l}`` = bxh{l}, ``bias_hh_l{l}`` =
bhh{l}), num_layers 1 and 2, batch_first or not. Compared: the loss, every
gradient group, dL/dh0 (and dL/dc0), the final states and the logits, each
with ``|a - b| <= 1e-10 * max(1, |b|)``. The losses are tinyrnn's (a
weighted sum over steps), built from torch's functions as in
test_torch_reference.py.
"""

import math

import pytest

from support import require_module
from test_torch_reference import SHAPES, assert_close, close, torch_loss
from tinyrnn import RNN, Rng, init_params

MODES = ("many_to_many", "many_to_one", "masked")


@pytest.fixture(scope="module")
def torch():  # type: ignore[no-untyped-def]
    return require_module("torch")


def make_case(cell, layers, head, n, T, tokens, mode, seed, scale=1.0):  # type: ignore[no-untyped-def]
    X, H, Y = SHAPES[head]
    m = RNN(X, H, Y, T, head, cell, layers)
    rng = init_params(m, seed, "uniform", scale)
    for name in m.layout.names:  # init leaves biases at 0: make them matter
        off, rows, cols = m.layout.groups[name]
        if not cols:
            m.params[off : off + rows] = [rng.uniform() - 0.5 for _ in range(rows)]
    xs = [rng.below(X) for _ in range(n)] if tokens else [[2.0 * rng.uniform() - 1.0 for _ in range(X)] for _ in range(n)]
    steps = 1 if mode == "many_to_one" else n
    if head == "softmax":
        targets = [rng.below(Y) for _ in range(steps)]  # type: list[object]
    elif head == "sigmoid":
        targets = [[float(rng.below(2)) if i % 2 == 0 else rng.uniform() for i in range(Y)] for _ in range(steps)]
    else:
        targets = [[3.0 * rng.normal() for _ in range(Y)] for _ in range(steps)]
    weights = [0.0 if t % 3 == 1 else 0.5 + (t % 4) for t in range(n)] if mode == "masked" else None
    s0 = [0.9 * (2.0 * rng.uniform() - 1.0) for _ in range(m.S)]
    return m, xs, targets, weights, s0


def torch_reference(torch, m, xs, targets, weights, s0, last_only, batch_first):  # type: ignore[no-untyped-def]
    nn, F = torch.nn, torch.nn.functional
    X, H, Y, n, L = m.X, m.H, m.Y, len(xs), m.layers
    f64 = torch.float64
    net = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[m.cell](X, H, num_layers=L, batch_first=batch_first, dtype=f64)
    lin = nn.Linear(H, Y, dtype=f64)
    pairs = []
    for l in range(L):
        s = str(l) if l else ""
        pairs += [("Wxh" + s, "weight_ih_l%d" % l), ("Whh" + s, "weight_hh_l%d" % l)]
        pairs += [("bxh" + s, "bias_ih_l%d" % l), ("bhh" + s, "bias_hh_l%d" % l)] if m.cell != "rnn" else [("bh" + s, "bias_hh_l%d" % l)]
    with torch.no_grad():
        for mine, theirs in pairs:
            getattr(net, theirs).copy_(torch.tensor(m.get(mine), dtype=f64))
        if m.cell == "rnn":
            for l in range(L):
                getattr(net, "bias_ih_l%d" % l).zero_()
        lin.weight.copy_(torch.tensor(m.get("Why"), dtype=f64))
        lin.bias.copy_(torch.tensor(m.get("by"), dtype=f64))
    x = F.one_hot(torch.tensor(xs), X).to(f64) if isinstance(xs[0], int) else torch.tensor(xs, dtype=f64)
    x = x.reshape(1, n, X) if batch_first else x.reshape(n, 1, X)
    h0 = torch.tensor(s0[: L * H], dtype=f64).reshape(L, 1, H).requires_grad_()
    c0 = torch.tensor(s0[L * H :], dtype=f64).reshape(L, 1, H).requires_grad_() if m.cell == "lstm" else None
    out, fin = net(x, (h0, c0) if c0 is not None else h0)
    z = lin(out[0] if batch_first else out[:, 0, :])  # (n, Y)
    zs = z[n - 1 :] if last_only else z
    w = torch.tensor(weights[n - 1 :] if last_only else weights, dtype=f64) if weights is not None else torch.ones(zs.shape[0], dtype=f64)
    loss = torch_loss(torch, m.head, zs, targets, w)
    loss.backward()
    grads = {mine: getattr(net, theirs).grad.flatten().tolist() for mine, theirs in pairs}
    grads["Why"] = lin.weight.grad.flatten().tolist()
    grads["by"] = lin.bias.grad.tolist()
    fins = (fin[0], fin[1]) if c0 is not None else (fin,)
    d0 = h0.grad.flatten().tolist() + (c0.grad.flatten().tolist() if c0 is not None else [])
    return {"loss": loss.item(), "grads": grads, "d0": d0, "final": sum((f.flatten().tolist() for f in fins), []), "z": z.detach().flatten().tolist()}


def check(torch, m, xs, targets, weights, s0, last_only, batch_first=False):  # type: ignore[no-untyped-def]
    loss = m.forward(xs, targets, weights, s0, last_only)
    m.backward()
    ref = torch_reference(torch, m, xs, targets, weights, s0, last_only, batch_first)
    assert math.isfinite(loss) and close(loss, ref["loss"]), (loss, ref["loss"])
    assert_close("z", m.z[0 : m.n * m.Y], ref["z"])
    assert sorted(ref["grads"]) == sorted(m.layout.names)
    for name in m.layout.names:
        off = m.layout.groups[name][0]
        assert_close("grad " + name, m.grads[off : off + m.layout.group_size(name)], ref["grads"][name])
    assert_close("dL/d(h0, c0)", list(m.dh0), ref["d0"])
    assert_close("final state", m.final_state(), ref["final"])
    return ref


CASES = [
    (cell, L, head, mode, tokens, bf)
    for cell in ("gru", "lstm")
    for L in (1, 2)
    for head in ("softmax", "sigmoid", "mse")
    for mode in MODES
    for tokens in (False, True)
    for bf in (False, True)
    if bf == ((L + len(head) + len(mode) + tokens) % 2 == 1)  # batch_first on half the cases, both layouts for each cell and depth
]


@pytest.mark.parametrize(
    "cell,L,head,mode,tokens,bf",
    CASES,
    ids=["%s%d-%s-%s-%s%s" % (c, L, h, mo, "token" if tk else "dense", "-batch_first" if bf else "") for c, L, h, mo, tk, bf in CASES],
)
def test_matches_torch(torch, cell, L, head, mode, tokens, bf):  # type: ignore[no-untyped-def]
    m, xs, targets, weights, s0 = make_case(cell, L, head, 9, 12, tokens, mode, 2000 + CASES.index((cell, L, head, mode, tokens, bf)))
    ref = check(torch, m, xs, targets, weights, s0, mode == "many_to_one", bf)
    for name, g in ref["grads"].items():  # the comparison has teeth
        assert max(map(abs, g)) > 1e-6, name
    assert min(map(abs, ref["d0"])) > 1e-9


@pytest.mark.parametrize("L", [1, 2])
def test_stacked_tanh_cell_matches_torch(torch, L):  # type: ignore[no-untyped-def]
    m, xs, targets, weights, s0 = make_case("rnn", L, "softmax", 9, 12, True, "masked", 77)
    check(torch, m, xs, targets, weights, s0, False)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_saturated_and_long_match_torch(torch, cell):  # type: ignore[no-untyped-def]
    """Large weights (gates on their rails) over 40 steps, then a second chunk from the final state."""
    m, xs, targets, weights, s0 = make_case(cell, 2, "mse", 40, 40, False, "masked", 5, scale=4.0)
    check(torch, m, xs, targets, weights, s0, False, True)
    sat = sum(1 for v in m.a[: 40 * m.layout.gates * m.H] if v < 0.05 or v > 0.95) / (40 * m.layout.gates * m.H)
    assert sat > 0.4, sat  # (lstm: the g block is a tanh, counted by the same test)
    check(torch, m, xs[:7], targets[:7], None, m.final_state(), False)
