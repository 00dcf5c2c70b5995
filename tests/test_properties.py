"""Property-based tests: invariants that must hold for any dimensions, weights and data."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrnn import HEADS, RNN, Rng, clip_global_norm, grad_norm, init_params

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def cases(draw, max_dim=5, max_T=6):
    """A random model with random weights, and one random sequence for it."""
    X = draw(st.integers(1, max_dim))
    H = draw(st.integers(1, max_dim))
    Y = draw(st.integers(1, max_dim))
    T = draw(st.integers(1, max_T))
    n = draw(st.integers(1, T))
    head = draw(st.sampled_from(HEADS))
    dense = draw(st.booleans())
    scale = draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
    seed = draw(st.integers(0, 2**32))
    m = RNN(X, H, Y, T, head)
    r = Rng(seed)
    init_params(m, seed, "uniform", scale)
    for k in range(m.layout.bh, m.layout.bh + H):
        m.params[k] = r.uniform(-0.5, 0.5)
    xs = [[r.normal() for _ in range(X)] for _ in range(n)] if dense else [r.below(X) for _ in range(n)]
    if head == "softmax":
        ys = [r.below(Y) for _ in range(n)]
    elif head == "sigmoid":
        ys = [[r.uniform() for _ in range(Y)] for _ in range(n)]
    else:
        ys = [[r.normal() for _ in range(Y)] for _ in range(n)]
    h0 = [r.uniform(-0.9, 0.9) for _ in range(H)] if draw(st.booleans()) else None
    return m, xs, ys, h0


@SETTINGS
@given(cases())
def test_gradients_match_finite_differences_for_any_shape(case):
    """Every element: |analytic - numeric| <= 1e-9 + 1e-7 |numeric|.

    (``gradcheck``'s pure relative error is the sharper tool for fixed cases;
    random draws include gradient elements near 0, where a relative error
    measures the finite differences' rounding rather than the gradient.)
    """
    m, xs, ys, h0 = case
    m.forward(xs, ys, h0=h0)
    m.backward()
    analytic = list(m.grads)
    P, eps = m.params, 1e-4
    for k in range(len(P)):
        w = P[k]
        f = []
        for d in (eps, -eps, 2 * eps, -2 * eps):
            P[k] = w + d
            f.append(m.forward(xs, ys, h0=h0))
        P[k] = w
        num = (8.0 * (f[0] - f[1]) - (f[2] - f[3])) / (12.0 * eps)
        assert abs(analytic[k] - num) <= 1e-9 + 1e-7 * abs(num), (k, analytic[k], num)


@SETTINGS
@given(cases(), st.floats(-50.0, 50.0))
def test_softmax_loss_is_invariant_to_a_shift_of_all_logits(case, c):
    m, xs, ys, h0 = case
    if m.head != "softmax":
        m = RNN(m.X, m.H, m.Y, m.T, "softmax")
        ys = [0] * len(xs)
    loss = m.forward(xs, ys, h0=h0)
    p = list(m.p)
    for k in range(m.layout.by, m.layout.by + m.Y):
        m.params[k] += c
    shifted = m.forward(xs, ys, h0=h0)
    assert math.isclose(shifted, loss, rel_tol=1e-9, abs_tol=1e-9)
    assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(m.p, p))


@SETTINGS
@given(cases())
def test_step_equals_forward_and_chunks_carry_state(case):
    m, xs, ys, h0 = case
    m.forward(xs, ys, h0=h0)
    H, Y, n = m.H, m.Y, len(xs)
    whole_h, whole_z = m.h[H : (n + 1) * H], m.z[0 : n * Y]
    s, z = list(h0) if h0 else m.new_state(), [0.0] * Y
    for t in range(n):
        m.step(s, xs[t], z)
        assert s == whole_h[t * H : (t + 1) * H]
        assert z == whole_z[t * Y : (t + 1) * Y]
    cut = n // 2
    if cut:
        m.forward(xs[:cut], ys[:cut], h0=h0)
        first = m.h[H : (cut + 1) * H]
        m.forward(xs[cut:], ys[cut:], h0=m.final_state())
        assert first + m.h[H : (n - cut + 1) * H] == whole_h


@SETTINGS
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(1e-3, 1e3))
def test_global_norm_clipping_bounds_the_norm_and_keeps_the_direction(g, max_norm):
    before = list(g)
    norm = clip_global_norm(g, max_norm)
    assert norm == grad_norm(before)
    assert grad_norm(g) <= max_norm * (1 + 1e-12) or norm <= max_norm
    if norm > max_norm:
        scale = max_norm / norm
        assert all(math.isclose(a, b * scale, rel_tol=1e-12, abs_tol=1e-300) for a, b in zip(g, before))
    else:
        assert g == before
