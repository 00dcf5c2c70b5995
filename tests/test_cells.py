"""Gated cells and stacked layers: the layout, the state, step() against forward()."""

import random

import pytest

from tinyrnn import RNN, Layout, init_params

CASES = [(c, L) for c in ("rnn", "gru", "lstm") for L in (1, 2, 3)]


def _model(cell, layers, X=5, H=4, Y=3, T=8, head="softmax", seed=1):
    m = RNN(X, H, Y, T, head, cell=cell, layers=layers)
    init_params(m, seed, "uniform", 0.7)
    rnd = random.Random(seed)
    for i in range(len(m.params)):  # nonzero biases too
        m.params[i] += rnd.uniform(-0.1, 0.1)
    return m


def test_layout_follows_the_contract():
    L = Layout(5, 4, 3, "lstm", 2)
    assert L.names == ["Wxh", "Whh", "bxh", "bhh", "Wxh1", "Whh1", "bxh1", "bhh1", "Why", "by"]
    assert L.groups["Wxh"] == (0, 16, 5)
    assert L.groups["Whh"] == (80, 16, 4)
    assert L.groups["bxh"] == (144, 16, 0)
    assert L.groups["bhh"] == (160, 16, 0)
    assert L.groups["Wxh1"] == (176, 16, 4)
    assert L.groups["Why"] == (176 + 64 + 64 + 32, 3, 4)
    assert L.size == 176 + 64 + 64 + 32 + 12 + 3
    assert (L.cell, L.layers, L.gates) == ("lstm", 2, 4)
    g = Layout(5, 4, 3, "gru", 1)
    assert g.names == ["Wxh", "Whh", "bxh", "bhh", "Why", "by"] and g.size == 12 * 5 + 12 * 4 + 24 + 12 + 3
    r = Layout(5, 4, 3, "rnn", 2)
    assert r.names == ["Wxh", "Whh", "bh", "Wxh1", "Whh1", "bh1", "Why", "by"]
    v = Layout(5, 4, 3)
    assert (v.Wxh, v.Whh, v.bh, v.Why, v.by, v.size) == (0, 20, 36, 40, 52, 55)


@pytest.mark.parametrize("cell,layers", CASES)
@pytest.mark.parametrize("dense", [False, True])
def test_step_equals_forward_bit_for_bit(cell, layers, dense):
    m = _model(cell, layers)
    rnd = random.Random(3)
    xs = [[rnd.uniform(-1, 1) for _ in range(5)] for _ in range(6)] if dense else [rnd.randrange(5) for _ in range(6)]
    h0 = [rnd.uniform(-0.5, 0.5) for _ in range(m.S)]
    assert m.S == (2 if cell == "lstm" else 1) * layers * 4 == len(m.new_state())
    m.forward(xs, [0] * 6, h0=h0)
    s, z = list(h0), [0.0] * 3
    for t, x in enumerate(xs):
        m.step(s, x, z)
        assert z == list(m.z[t * 3 : (t + 1) * 3])
    assert s == m.final_state()
    assert s != h0


@pytest.mark.parametrize("cell,layers", CASES)
def test_truncated_chunks_carry_the_whole_state(cell, layers):
    m = _model(cell, layers)
    xs = [1, 3, 0, 4, 2, 2, 1, 0]
    whole = m.forward(xs, [1] * 8)
    end = m.final_state()
    a = m.forward(xs[:3], [1] * 3)
    b = m.forward(xs[3:], [1] * 5, h0=m.final_state())
    assert abs(whole - (a + b)) < 1e-12
    assert max(abs(u - v) for u, v in zip(end, m.final_state())) < 1e-15


def test_bad_cell_layers_and_state_are_named():
    with pytest.raises(ValueError, match="cell must be one of rnn, gru, lstm"):
        RNN(3, 2, 2, 4, cell="lstmx")
    with pytest.raises(ValueError, match="layers must be a positive integer"):
        RNN(3, 2, 2, 4, cell="gru", layers=0)
    m = _model("lstm", 2)
    with pytest.raises(ValueError, match="h0 has length 8, expected 16"):
        m.forward([1, 2], [0, 0], h0=[0.0] * 8)
    with pytest.raises(ValueError, match="state must hold 16 floats"):
        m.step([0.0] * 8, 1, [0.0] * 3)


@pytest.mark.parametrize("dense", [False, True])
def test_general_path_equals_the_fused_vanilla_path(dense):
    """The layer loop with the rnn cell at one layer is today's fused model, bit for bit."""
    fused, general = _model("rnn", 1), _model("rnn", 1)
    general.vanilla = False
    rnd = random.Random(4)
    xs = [[rnd.uniform(-1, 1) for _ in range(5)] for _ in range(7)] if dense else [rnd.randrange(5) for _ in range(7)]
    h0 = [0.1, -0.2, 0.3, 0.05]
    for m in (fused, general):
        m.forward(xs, [1, 0, 2, 2, 1, 0, 1], h0=h0)
        m.backward()
    assert fused.loss == general.loss
    assert list(fused.grads) == list(general.grads)
    assert list(fused.dh0) == list(general.dh0) and fused.final_state() == general.final_state()
    assert list(fused.dh_raw[: 7 * 4]) == list(general.dh_raw[: 7 * 4])
    s1, s2, z1, z2 = list(h0), list(h0), [0.0] * 3, [0.0] * 3
    for x in xs:
        fused.step(s1, x, z1)
        general.step(s2, x, z2)
    assert (s1, z1) == (s2, z2)


@pytest.mark.parametrize("cell,layers", [("gru", 2), ("lstm", 1)])
def test_sparse_updates_touch_only_layer_0_columns_seen(cell, layers):
    from tinyrnn import SGD, Adagrad, clip_elementwise

    m = _model(cell, layers, X=9)
    m.forward([1, 4, 4, 7], [0, 1, 2, 0])
    m.backward()
    ranges = m.grad_ranges()
    L = m.layout
    assert ranges[:-1] == [(L.Wxh + j, L.Whh, 9) for j in (1, 4, 7)] and ranges[-1] == (L.Whh, L.size, 1)
    covered = {i for lo, hi, st in ranges for i in range(lo, hi, st)}
    assert all(m.grads[i] == 0.0 for i in range(L.size) if i not in covered)
    assert all(any(m.grads[i] != 0.0 for i in range(L.Wxh + j, L.Whh, 9)) for j in (1, 4, 7))
    for make in (lambda n: SGD(n, 0.3), lambda n: Adagrad(n, 0.1)):
        full, sparse = list(m.params), list(m.params)
        g1, g2 = list(m.grads), list(m.grads)
        clip_elementwise(g1, 0.01)
        clip_elementwise(g2, 0.01, ranges)
        make(L.size).step(full, g1)
        make(L.size).step(sparse, g2, ranges)
        assert full == sparse
