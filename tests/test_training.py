"""Acceptance 3 and 4: the echo task learns; the failure modes stay finite and loud."""

import math

import pytest

from tinyrnn import SGD, Adam, RNN, Rng, clip_global_norm, diagnostics, grad_norm, init_params

T = 25


def echo_batch(r):
    """x_t in {0, 1}; the target at step t is x_{t-1} (step 0 has none: weight 0)."""
    x = [float(r.below(2)) for _ in range(T)]
    return [[v] for v in x], [0.0] + x[:-1]


def echo_accuracy(m, seed, sequences=200):
    r = Rng(seed)
    ok = total = 0
    for _ in range(sequences):
        xs, ys = echo_batch(r)
        m.forward(xs, ys)
        for t in range(1, T):
            ok += (m.p[t] > 0.5) == (ys[t] > 0.5)
            total += 1
    return ok / total


def test_echo_task_learns_to_95_percent():
    m = RNN(1, 8, 1, T, "sigmoid")
    init_params(m, 0)
    before = echo_accuracy(m, 999, 50)
    opt = Adam(m.num_params, 0.01)
    r = Rng(100)
    w = [0.0] + [1.0] * (T - 1)
    for _ in range(200):
        xs, ys = echo_batch(r)
        m.forward(xs, ys, weights=w)
        m.backward()
        clip_global_norm(m.grads, 5.0)
        opt.step(m.params, m.grads)
    after = echo_accuracy(m, 12345)  # fresh sequences, never trained on
    assert before < 0.8
    assert after > 0.95


def test_saturated_state_has_finite_gradients():
    m = RNN(3, 6, 3, 20, "softmax")
    init_params(m, 1, "uniform", 100.0)
    r = Rng(1)
    xs = [r.below(3) for _ in range(20)]
    ys = [r.below(3) for _ in range(20)]
    loss = m.forward(xs, ys)
    m.backward()
    d = diagnostics(m)
    assert d["sat_ratio"] > 0.95
    assert d["mean_abs_h"] > 0.99
    assert math.isfinite(loss)
    assert all(math.isfinite(g) for g in m.grads)
    # the tanh derivative is what kills the gradient
    assert d["dh_raw_norm"] < 0.01 * d["dh_norm"]


def test_exploding_recurrence_is_bounded_by_global_norm_clipping():
    m = RNN(2, 8, 2, 25, "mse")
    init_params(m, 3, "uniform", 0.3)
    # a recurrence with gain far above 1 (a scaled identity) and inputs kept near the linear regime
    off = m.layout.Whh
    for i in range(8):
        m.params[off + i * 8 + i] = 3.0
    r = Rng(2)
    xs = [[r.normal() * 1e-3, r.normal() * 1e-3] for _ in range(25)]
    ys = [[100.0, -100.0] for _ in range(25)]
    m.forward(xs, ys)
    m.backward()
    raw = grad_norm(m.grads)
    assert raw > 1e3  # it really explodes
    before = list(m.params)
    norm = clip_global_norm(m.grads, 5.0)
    assert norm == raw
    assert grad_norm(m.grads) == pytest.approx(5.0, rel=1e-12)
    lr = 0.1
    SGD(m.num_params, lr).step(m.params, m.grads)
    step = math.sqrt(sum((a - b) ** 2 for a, b in zip(m.params, before)))
    assert step == pytest.approx(lr * 5.0, rel=1e-9)


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
def test_logits_of_plus_minus_1000_stay_finite(head):
    m = RNN(2, 2, 3, 4, head)
    # h saturates at +-1, so the logits are +-1000 through the bias and Why
    m.set("Why", [[1000.0, 0.0], [-1000.0, 0.0], [0.0, 1000.0]])
    m.set("by", [0.0, 0.0, -1000.0])
    m.set("Wxh", [[50.0, 50.0], [50.0, -50.0]])
    xs = [0, 1, 0, 1]
    if head == "softmax":
        ys = [1, 1, 2, 0]  # the wrong class each time: loss ~ 2000 per step
    elif head == "sigmoid":
        ys = [[0.0, 1.0, 1.0]] * 4
    else:
        ys = [[0.0, 0.0, 0.0]] * 4
    loss = m.forward(xs, ys)
    m.backward()
    assert math.isfinite(loss)
    assert loss > 1000.0
    assert all(math.isfinite(v) for v in m.p[: 4 * 3])
    assert all(math.isfinite(g) for g in m.grads)
    if head == "softmax":
        assert abs(sum(m.p[0:3]) - 1.0) < 1e-15
        # step 0: logits (1000, -1000, 0) with target 1 -> loss 2000 exactly
        assert m.z[0] == pytest.approx(1000.0, rel=1e-9)
    if head == "sigmoid":
        # BCE from logits: log1p(exp(-|z|)) + max(z,0) - z*y, no overflow at |z| = 1000
        assert m.p[0] == 1.0 and m.p[1] == 0.0


def test_huge_dense_input_saturates_without_overflow():
    m = RNN(2, 3, 2, 3, "mse")
    init_params(m, 1)
    loss = m.forward([[1e300, -1e300]] * 3, [[0.0, 0.0]] * 3)
    m.backward()
    assert math.isfinite(loss)
    assert all(abs(v) == 1.0 for v in m.h[3:12])
    assert all(math.isfinite(g) for g in m.grads)


@pytest.mark.parametrize(
    "xs,targets,kwargs,message",
    [
        ([], [], {}, "empty input"),
        ([0] * 6, [0] * 6, {}, "more than T=5"),
        ([0, 1, 4], [0, 0, 0], {}, "input[2] = token 4 is outside the vocabulary"),
        ([0, -1], [0, 0], {}, "input[1] = token -1"),
        ([0, 1.5], [0, 0], {}, "input[1] is 1.5; token inputs must all be integers"),
        ([[0.0] * 4, [0.0] * 3], [0, 0], {}, "input[1] has length 3, expected 4"),
        ([[0.0] * 4, [0.0, float("nan"), 0.0, 0.0]], [0, 0], {}, "input[1][1] is not finite"),
        ([[0.0] * 4, [float("inf")] * 4], [0, 0], {}, "input[1][0] is not finite"),
        ([0, 1], [0], {}, "targets has length 1, expected 2"),
        ([0, 1], [0, 1], {"last_only": True}, "targets has length 2, expected 1"),
        ([0, 1], [0, 3], {}, "targets[1] = 3 is not a class id in [0, 3)"),
        ([0, 1], [0, 1], {"weights": [1.0]}, "weights has length 1, expected 2"),
        ([0, 1], [0, 1], {"weights": [1.0, -1.0]}, "weights[1] = -1.0 is negative"),
        ([0, 1], [0, 1], {"weights": [1.0, float("nan")]}, "weights[1] is not finite"),
        ([0, 1], [0, 1], {"h0": [0.0]}, "h0 has length 1, expected 2"),
    ],
)
def test_bad_input_raises_a_clear_value_error(xs, targets, kwargs, message):
    m = RNN(4, 2, 3, 5, "softmax")
    with pytest.raises(ValueError) as e:
        m.forward(xs, targets, **kwargs)
    assert message in str(e.value)


def test_bad_targets_for_sigmoid_and_mse():
    m = RNN(2, 2, 2, 3, "sigmoid")
    with pytest.raises(ValueError, match=r"targets\[0\] = \[0.0, 2.0\]: sigmoid targets must lie in \[0, 1\]"):
        m.forward([0], [[0.0, 2.0]])
    m = RNN(2, 2, 2, 3, "mse")
    with pytest.raises(ValueError, match=r"targets\[0\]\[1\] is not finite"):
        m.forward([0], [[0.0, float("inf")]])
    with pytest.raises(ValueError, match=r"targets\[0\] has length 1, expected 2"):
        m.forward([0], [[0.0]])


def test_constructor_rejects_bad_dimensions_and_heads():
    with pytest.raises(ValueError, match="H must be a positive integer, got 0"):
        RNN(2, 0, 2, 3)
    with pytest.raises(ValueError, match="head must be one of softmax, sigmoid, mse, got 'relu'"):
        RNN(2, 2, 2, 3, "relu")
