"""Layout, views, inference step, PRNG, init, optimisers, clipping, diagnostics, CLI."""

import math
import subprocess
import sys

import pytest

from tinyrnn import (
    SGD,
    Adagrad,
    Adam,
    RNN,
    Rng,
    argmax,
    clip_elementwise,
    clip_global_norm,
    diagnostics,
    grad_norm,
    init_params,
    make_optimizer,
    update_ratio,
)
from tinyrnn.cli import main
from support import ROOT


def test_layout_offsets_are_contiguous_in_the_documented_order():
    m = RNN(5, 3, 4, 7)
    L = m.layout
    assert (L.Wxh, L.Whh, L.bh, L.Why, L.by, L.size) == (0, 15, 24, 27, 39, 43)
    assert len(m.params) == len(m.grads) == m.num_params == 43
    assert len(m.h) == 8 * 3 and len(m.z) == len(m.p) == 7 * 4


def test_get_set_views_round_trip_row_major():
    m = RNN(2, 3, 2, 4)
    m.set("Whh", [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert m.params[6:15] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert m.get("Whh")[1] == [4.0, 5.0, 6.0]
    m.set("by", [0.5, -0.5])
    assert m.get("by") == [0.5, -0.5]
    with pytest.raises(ValueError, match="Whh has 2 rows, expected 3"):
        m.set("Whh", [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match=r"Whh\[1\] has length 2, expected 3"):
        m.set("Whh", [[1, 2, 3], [4, 5], [7, 8, 9]])
    with pytest.raises(ValueError, match="unknown parameter group 'W'"):
        m.get("W")


def test_forward_matches_the_equations_by_hand():
    m = RNN(2, 2, 2, 2, "softmax")
    m.set("Wxh", [[0.5, -0.25], [0.1, 0.2]])
    m.set("Whh", [[0.3, 0.0], [-0.4, 0.6]])
    m.set("bh", [0.05, -0.05])
    m.set("Why", [[1.0, -1.0], [0.5, 0.25]])
    m.set("by", [0.0, 0.1])
    loss = m.forward([1, 0], [0, 1])
    h1 = [math.tanh(-0.25 + 0.05), math.tanh(0.2 - 0.05)]
    h2 = [math.tanh(0.5 + 0.3 * h1[0] + 0.05), math.tanh(0.1 - 0.4 * h1[0] + 0.6 * h1[1] - 0.05)]
    z1 = [h1[0] - h1[1], 0.5 * h1[0] + 0.25 * h1[1] + 0.1]
    z2 = [h2[0] - h2[1], 0.5 * h2[0] + 0.25 * h2[1] + 0.1]

    def nll(z, y):
        return math.log(math.exp(z[0]) + math.exp(z[1])) - z[y]

    assert m.h[2:6] == pytest.approx(h1 + h2, abs=1e-15)
    assert m.z[0:4] == pytest.approx(z1 + z2, abs=1e-15)
    assert loss == pytest.approx(nll(z1, 0) + nll(z2, 1), abs=1e-14)
    e = [math.exp(v) for v in z1]
    assert m.p[0:2] == pytest.approx([e[0] / sum(e), e[1] / sum(e)], abs=1e-15)


@pytest.mark.parametrize("dense", [False, True])
def test_step_reproduces_forward_exactly(dense):
    m = RNN(3, 4, 5, 6, "softmax")
    init_params(m, 2, "uniform", 0.9)
    m.set("bh", [0.1, -0.2, 0.3, 0.0])
    r = Rng(9)
    xs = [[r.normal() for _ in range(3)] for _ in range(6)] if dense else [r.below(3) for _ in range(6)]
    m.forward(xs, [0] * 6)
    s, z, y = m.new_state(), [0.0] * 5, [0.0] * 5
    for t in range(6):
        m.step(s, xs[t], z)
        assert s == m.h[(t + 1) * 4 : (t + 2) * 4]
        assert z == m.z[t * 5 : (t + 1) * 5]
        m.output(z, y)
        assert y == pytest.approx(m.p[t * 5 : (t + 1) * 5], abs=1e-16)
        assert argmax(z) == y.index(max(y))


def test_state_carries_across_chunks():
    m = RNN(4, 5, 4, 10)
    init_params(m, 3)
    r = Rng(1)
    xs = [r.below(4) for _ in range(10)]
    m.forward(xs, xs)
    whole = list(m.h[5:55])
    m.forward(xs[:4], xs[:4])
    first = list(m.h[5:25])
    m.forward(xs[4:], xs[4:], h0=m.final_state())
    assert first + m.h[5:35] == whole


def test_step_rejects_bad_input():
    m = RNN(3, 2, 2, 4)
    with pytest.raises(ValueError, match=r"token 3 is outside the vocabulary \[0, 3\)"):
        m.step(m.new_state(), 3, [0.0, 0.0])
    with pytest.raises(ValueError, match="x has length 2, expected 3"):
        m.step(m.new_state(), [0.0, 1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="state must hold 2 floats and z 2 floats"):
        m.step([0.0], 1, [0.0, 0.0])


def test_splitmix64_known_values_and_state_resume():
    r = Rng(0)
    # SplitMix64 reference outputs for seed 0
    assert r.next_u64() == 0xE220A8397B1DCDAF
    assert r.next_u64() == 0x6E789E6AA1B965F4
    assert r.next_u64() == 0x06C45D188009454F
    r = Rng(1234567)
    a = [r.uniform() for _ in range(5)]
    saved = r.state
    b = [r.normal() for _ in range(5)]
    r2 = Rng(0)
    r2.state = saved
    assert [r2.normal() for _ in range(5)] == b
    assert all(0.0 <= v < 1.0 for v in a)
    assert Rng(5).uniform() == (Rng(5).next_u64() >> 11) * 2.0**-53
    with pytest.raises(ValueError, match="seed must be an integer"):
        Rng(1.5)  # type: ignore[arg-type]


def test_rng_moments_and_below():
    r = Rng(42)
    xs = [r.normal() for _ in range(20000)]
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / len(xs)
    assert abs(mean) < 0.03 and abs(var - 1.0) < 0.05
    counts = [0] * 7
    for _ in range(7000):
        counts[r.below(7)] += 1
    assert min(counts) > 850 and max(counts) < 1150


def test_init_schemes_are_seeded_and_bounded():
    a, b = RNN(10, 6, 4, 3), RNN(10, 6, 4, 3)
    init_params(a, 7)
    init_params(b, 7)
    assert a.params == b.params
    bound = math.sqrt(6.0 / (6 + 10))
    assert max(map(abs, a.params[0:60])) <= bound
    assert max(map(abs, a.params[0:60])) > 0.8 * bound
    assert a.get("bh") == [0.0] * 6 and a.get("by") == [0.0] * 4
    init_params(b, 8)
    assert a.params != b.params
    init_params(a, 1, "normal", 0.01)
    assert 0.005 < math.sqrt(sum(v * v for v in a.params[0:60]) / 60) < 0.015
    with pytest.raises(ValueError, match="unknown init scheme 'he'"):
        init_params(a, 1, "he")


def test_sgd_momentum_by_hand():
    p, g = [1.0, -2.0], [0.5, 0.25]
    opt = SGD(2, lr=0.1, momentum=0.9)
    opt.step(p, g)
    assert p == [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 0.25]
    opt.step(p, g)  # v = 0.9*g + g
    assert p == pytest.approx([0.95 - 0.1 * 0.95, -2.025 - 0.1 * 0.475], abs=1e-15)


def test_adagrad_is_min_char_rnn():
    p, g = [1.0, 0.0], [0.5, -3.0]
    opt = Adagrad(2, lr=0.1)
    opt.step(p, g)
    assert p == [1.0 - 0.1 * 0.5 / math.sqrt(0.25 + 1e-8), 0.0 + 0.1 * 3.0 / math.sqrt(9.0 + 1e-8)]
    assert opt.mem == [0.25, 9.0]
    opt.step(p, g)
    assert opt.mem == [0.5, 18.0]


def test_adam_bias_correction_first_step_moves_by_lr():
    p, g = [0.0, 0.0, 5.0], [1e-3, -100.0, 0.0]
    opt = Adam(3, lr=0.01)
    opt.step(p, g)
    # m_hat = g, v_hat = g*g: the first step is lr * sign(g) (up to eps)
    assert p == pytest.approx([-0.01, 0.01, 5.0], rel=1e-4)


def test_optimizer_state_round_trip_and_validation():
    a = make_optimizer("adam", 3, 0.01)
    p, g = [1.0, 2.0, 3.0], [0.1, 0.2, 0.3]
    a.step(p, g)
    b = make_optimizer("adam", 3, 0.01)
    b.load_state_dict(a.state_dict())
    p2 = list(p)
    a.step(p, g)
    b.step(p2, g)
    assert p == p2
    with pytest.raises(ValueError, match="optimiser state is for 'adam', not 'sgd'"):
        make_optimizer("sgd", 3, 0.1).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="unknown optimiser 'rmsprop'"):
        make_optimizer("rmsprop", 3, 0.1)
    with pytest.raises(ValueError, match="learning rate must be a positive finite number"):
        SGD(3, lr=float("nan"))


def test_clip_elementwise():
    g = [-10.0, -1.0, 0.5, 7.0]
    clip_elementwise(g, 5.0)
    assert g == [-5.0, -1.0, 0.5, 5.0]
    g = [1.0, -2.0]
    clip_elementwise(g, 5.0)
    assert g == [1.0, -2.0]


def test_clip_global_norm_returns_the_norm_before():
    g = [3.0, 4.0]
    assert clip_global_norm(g, 1.0) == 5.0
    assert g == pytest.approx([0.6, 0.8], abs=2e-16)
    g = [0.3, 0.4]
    assert clip_global_norm(g, 1.0) == pytest.approx(0.5)
    assert g == [0.3, 0.4]
    # squares overflow, values do not: the norm is still right and clipping works
    g = [3e200, 4e200]
    assert clip_global_norm(g, 1.0) == pytest.approx(5e200, rel=1e-15)
    assert g == pytest.approx([0.6, 0.8], rel=1e-15)
    # a non-finite gradient is reported, not smeared over every weight
    g = [float("nan"), 1.0]
    assert math.isnan(clip_global_norm(g, 1.0))
    assert g[1] == 1.0
    assert grad_norm([float("inf"), 1.0]) == float("inf")


def test_diagnostics_values():
    m = RNN(1, 2, 1, 3, "mse")
    m.set("Wxh", [[100.0], [0.0]])  # unit 0 saturates, unit 1 stays at 0
    m.set("Why", [[1.0, 1.0]])
    m.forward([[1.0], [1.0], [1.0]], [0.0, 0.0, 0.0])
    m.backward()
    d = diagnostics(m)
    assert d["mean_abs_h"] == pytest.approx(0.5)
    assert d["sat_ratio"] == 0.5
    assert len(d["dh_profile"]) == 3
    assert d["dh_profile"][2] == pytest.approx(math.sqrt(2.0), rel=1e-12)  # dz = 1 at every step, dh = Why^T dz
    assert d["grad_norm"] == grad_norm(m.grads)
    assert update_ratio([3.0, 4.0], [3.0, 4.5]) == pytest.approx(0.1)


def test_import_pulls_in_only_the_standard_library():
    code = (
        "import sys; before = set(sys.modules); import tinyrnn; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "std = set(getattr(sys, 'stdlib_module_names', ())) or new; "
        "print(sorted(new - std - {'tinyrnn'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_gradcheck_passes_and_fails(capsys):
    assert main(["gradcheck", "--head", "softmax", "--mode", "many"]) == 0
    out = capsys.readouterr().out
    assert "Wxh" in out and "max relative error" in out and "ok" in out
    # an impossible tolerance must fail with a non-zero exit status
    assert main(["gradcheck", "--head", "mse", "--mode", "one", "--input", "dense", "--tol", "1e-30"]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert main(["gradcheck", "--h", "0"]) == 2
    assert "--h must be at least 1" in capsys.readouterr().err
