"""Acceptance 1: BPTT equals finite differences for every group, head, mode, input kind."""

import itertools

import pytest

from tinyrnn import HEADS, RNN, Rng, gradcheck, init_params
from tinyrnn.cli.gradcheck import random_case


def make(head, X=4, H=5, Y=3, T=6, seed=1, scale=0.8):
    m = RNN(X, H, Y, T, head)
    init_params(m, seed, "uniform", scale)
    r = Rng(seed + 1000)
    for name in ("bh", "by"):
        off = m.layout.groups[name][0]
        for k in range(off, off + m.layout.group_size(name)):
            m.params[k] = r.uniform(-0.5, 0.5)
    return m


@pytest.mark.parametrize("head,mode,kind", list(itertools.product(HEADS, ("many", "one", "masked"), ("token", "dense"))))
def test_gradcheck_every_group(head, mode, kind):
    m = make(head)
    case = random_case(m, Rng(7), kind == "dense", mode)
    errs = gradcheck(m, **case)
    assert set(errs) == {"Wxh", "Whh", "bh", "Why", "by"}
    for group, err in errs.items():
        assert err < 1e-7, (group, err)
    # the check really compared something: the gradient is not all zeros
    assert max(map(abs, m.grads)) > 1e-3


def test_gradcheck_detects_a_wrong_gradient():
    """A gradcheck that cannot fail is worthless: break backward and watch it fail."""
    m = make("softmax")
    case = random_case(m, Rng(3), False, "many")
    orig = RNN.backward

    def broken(self):
        orig(self)
        off = self.layout.Whh
        self.grads[off] *= 1.01  # a 1 % error in one weight

    RNN.backward = broken
    try:
        errs = gradcheck(m, **case)
    finally:
        RNN.backward = orig
    assert errs["Whh"] > 1e-3
    assert errs["Wxh"] < 1e-7


def test_dh0_is_the_gradient_of_the_initial_state():
    m = make("mse", H=4)
    r = Rng(5)
    xs = [[r.normal() for _ in range(4)] for _ in range(6)]
    ys = [[r.normal() for _ in range(3)] for _ in range(6)]
    h0 = [0.3, -0.2, 0.1, 0.5]
    m.forward(xs, ys, h0=h0)
    m.backward()
    dh0 = list(m.dh0)
    eps = 1e-5
    for i in range(4):
        hp = list(h0)
        hp[i] += eps
        lp = m.forward(xs, ys, h0=hp)
        hp[i] -= 2 * eps
        lm = m.forward(xs, ys, h0=hp)
        num = (lp - lm) / (2 * eps)
        assert abs(num - dh0[i]) < 1e-8 * max(1.0, abs(num))


def test_gradients_are_zeroed_and_dh_next_reset_between_passes():
    m = make("softmax")
    r = Rng(11)
    xs1 = [r.below(4) for _ in range(6)]
    ys1 = [r.below(3) for _ in range(6)]
    xs2 = [r.below(4) for _ in range(4)]
    ys2 = [r.below(3) for _ in range(4)]
    m.forward(xs2, ys2)
    m.backward()
    fresh = list(m.grads)
    # a longer, different sequence first, then the same short one again
    m.forward(xs1, ys1)
    m.backward()
    m.backward()  # twice: must not accumulate across calls
    m.forward(xs2, ys2)
    m.backward()
    assert m.grads == fresh


def test_weights_scale_the_loss_and_gradient_linearly():
    m = make("sigmoid")
    r = Rng(2)
    xs = [r.below(4) for _ in range(6)]
    ys = [[float(r.below(2)) for _ in range(3)] for _ in range(6)]
    l1 = m.forward(xs, ys)
    m.backward()
    g1 = list(m.grads)
    l2 = m.forward(xs, ys, weights=[2.0] * 6)
    m.backward()
    assert l2 == pytest.approx(2 * l1, rel=1e-14)
    for a, b in zip(g1, m.grads):
        assert b == pytest.approx(2 * a, rel=1e-12, abs=1e-15)


def test_masked_steps_contribute_nothing():
    """A padded sequence with zero weights on the tail equals the short sequence."""
    m = make("softmax")
    r = Rng(4)
    xs = [r.below(4) for _ in range(6)]
    ys = [r.below(3) for _ in range(6)]
    l_short = m.forward(xs[:4], ys[:4])
    m.backward()
    g_short = list(m.grads)
    l_pad = m.forward(xs, ys, weights=[1.0] * 4 + [0.0] * 2)
    m.backward()
    assert l_pad == pytest.approx(l_short, rel=1e-15)
    for a, b in zip(g_short, m.grads):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-16)


def test_many_to_one_equals_weights_on_the_last_step():
    m = make("mse")
    r = Rng(8)
    xs = [r.below(4) for _ in range(5)]
    y = [r.normal() for _ in range(3)]
    l1 = m.forward(xs, [y], last_only=True)
    m.backward()
    g1 = list(m.grads)
    l2 = m.forward(xs, [[0.0] * 3] * 4 + [y], weights=[0, 0, 0, 0, 1.0])
    m.backward()
    assert l1 == l2
    assert g1 == m.grads
