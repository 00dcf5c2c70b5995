"""Acceptance 1 for the gated cells and stacked layers: BPTT equals finite differences.

Every parameter group of every layer, for gru and lstm at 1 and 2 layers
(and the tanh cell stacked), each head, many-to-many / many-to-one / masked
(with h0 and c0), token and dense input. Small dimensions keep it quick.
"""

import itertools

import pytest

from tinyrnn import HEADS, RNN, Rng, gradcheck
from tinyrnn.cli.gradcheck import random_biases, random_case
from tinyrnn.core import cells

CELLS = [("gru", 1), ("gru", 2), ("lstm", 1), ("lstm", 2), ("rnn", 2)]
CASES = list(itertools.product(CELLS, HEADS, ("many", "one", "masked"), ("token", "dense")))


def make(cell, layers, head, seed=1, X=3, H=3, Y=2, T=4):
    m = RNN(X, H, Y, T, head, cell, layers)
    random_biases(m, Rng(seed))
    return m


@pytest.mark.parametrize(
    "cl,head,mode,kind", CASES, ids=["%s%d-%s-%s-%s" % (c, L, h, mo, k) for (c, L), h, mo, k in CASES]
)
def test_gradcheck_every_group_of_every_layer(cl, head, mode, kind):
    cell, layers = cl
    m = make(cell, layers, head, seed=CASES.index((cl, head, mode, kind)))
    case = random_case(m, Rng(7), kind == "dense", mode)
    errs = gradcheck(m, **case)
    assert list(errs) == m.layout.names
    assert len(errs) == 3 * layers + 2 + (layers if cell != "rnn" else 0)
    for group, err in errs.items():
        assert err < 1e-7, (group, err)
    # every group was compared against something: a nonzero gradient in each
    for name in m.layout.names:
        assert max(map(abs, m.get(name, m.grads) if not m.layout.groups[name][2] else sum(m.get(name, m.grads), []))) > 1e-6, name  # type: ignore[arg-type]


def _dstate0(m, xs, ys, s0, i, eps=1e-6):
    s = list(s0)
    s[i] += eps
    lp = m.forward(xs, ys, h0=s)
    s[i] -= 2 * eps
    lm = m.forward(xs, ys, h0=s)
    return (lp - lm) / (2 * eps)


@pytest.mark.parametrize("cell,layers", CELLS)
def test_dh0_and_dc0_are_the_gradient_of_the_initial_state(cell, layers):
    m = make(cell, layers, "mse")
    r = Rng(5)
    xs = [[r.normal() for _ in range(3)] for _ in range(4)]
    ys = [[r.normal() for _ in range(2)] for _ in range(4)]
    s0 = [r.uniform(-0.5, 0.5) for _ in range(m.S)]
    m.forward(xs, ys, h0=s0)
    m.backward()
    d0 = list(m.dh0)
    assert len(d0) == m.S
    for i in range(m.S):
        num = _dstate0(m, xs, ys, s0, i)
        assert abs(num - d0[i]) < 1e-8 * max(1.0, abs(num)), (i, num, d0[i])
    assert min(map(abs, d0)) > 1e-6  # every layer's h (and c) matters


@pytest.mark.parametrize("cell,block", [("gru", 1), ("lstm", 1), ("gru", 2), ("lstm", 3)])
def test_gradcheck_detects_one_wrong_gate(cell, block):
    """Negative control: scale one gate block's dL/d pre-activation by 1.01 and gradcheck must fail."""
    m = make(cell, 2, "softmax", seed=3)
    case = random_case(m, Rng(3), False, "many")
    orig = cells.BACKWARD[cell]
    H = m.H

    def broken(*args):  # type: ignore[no-untyped-def]
        orig(*args)
        da, dap = args[11], args[12]
        for i in range(dap + block * H, dap + (block + 1) * H):
            da[i] *= 1.01

    cells.BACKWARD[cell] = broken
    try:
        errs = gradcheck(m, **case)
    finally:
        cells.BACKWARD[cell] = orig
    assert errs["Wxh1"] > 1e-3 and errs["bxh"] > 1e-3
    assert errs["Why"] < 1e-7 and errs["by"] < 1e-7  # the head is above the cells: untouched
