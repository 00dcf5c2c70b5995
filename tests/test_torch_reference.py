"""Acceptance 2: tinyrnn's loss and BPTT gradients equal PyTorch autograd.

The reference is ``nn.RNN(X, H, nonlinearity='tanh')`` + ``nn.Linear(H, Y)``
in float64 with tinyrnn's weights copied in (``bias_ih = bh``,
``bias_hh = 0``; both bias gradients must then equal dL/dbh). The losses are
built to match tinyrnn's definitions exactly:

- softmax: ``sum_t w_t * CE(z_t, y_t)`` (``F.cross_entropy``, reduction none)
- sigmoid: ``sum_t w_t * sum_i BCE-with-logits(z_ti, y_ti)``
- mse:     ``sum_t w_t * 0.5 * sum_i (z_ti - y_ti)**2``
- many-to-one: the loss of the last step only.

Token inputs are one-hot vectors on the torch side. Every value is compared
with ``|a - b| <= TOL * max(1, |b|)``: absolute 1e-10 for values up to 1 in
magnitude, relative 1e-10 above (losses of long sequences and gradients of
saturated nets reach tens to hundreds).

torch is imported through ``tests/support.py``: skipped when missing locally,
a failure under CI=true (unless TINYRNN_OPTIONAL lists torch).
"""

import math

import pytest

from support import require_module
from tinyrnn import GROUPS, RNN, Rng, init_params

TOL = 1e-10

SHAPES = {  # head -> (X, H, Y)
    "softmax": (5, 7, 6),
    "sigmoid": (4, 6, 3),
    "mse": (3, 5, 2),
}


@pytest.fixture(scope="module")
def torch():  # type: ignore[no-untyped-def]
    return require_module("torch")


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


def assert_close(what: str, got: "list[float]", want: "list[float]") -> None:
    assert len(got) == len(want), "%s: length %d vs %d" % (what, len(got), len(want))
    worst = max(range(len(got)), key=lambda i: abs(got[i] - want[i]) / max(1.0, abs(want[i])))
    assert close(got[worst], want[worst]), "%s[%d]: tinyrnn %r, torch %r (diff %.3g)" % (
        what,
        worst,
        got[worst],
        want[worst],
        got[worst] - want[worst],
    )


def make_case(head, n, T, tokens, mode, seed, scale=1.0, with_h0=False):  # type: ignore[no-untyped-def]
    """A model with random weights and biases, and one sequence for it."""
    X, H, Y = SHAPES[head]
    m = RNN(X, H, Y, T, head)
    rng = init_params(m, seed, "uniform", scale)
    for name in ("bh", "by"):  # init leaves biases at 0: make them matter
        off, rows, _ = m.layout.groups[name]
        m.params[off : off + rows] = [rng.uniform() - 0.5 for _ in range(rows)]
    if tokens:
        xs = [rng.below(X) for _ in range(n)]
    else:
        xs = [[2.0 * rng.uniform() - 1.0 for _ in range(X)] for _ in range(n)]
    steps = 1 if mode == "many_to_one" else n
    if head == "softmax":
        targets = [rng.below(Y) for _ in range(steps)]
    elif head == "sigmoid":  # hard 0/1 targets and soft ones
        targets = [[float(rng.below(2)) if i % 2 == 0 else rng.uniform() for i in range(Y)] for _ in range(steps)]
    else:
        targets = [[3.0 * rng.normal() for _ in range(Y)] for _ in range(steps)]
    weights = None
    if mode == "masked":  # zeros mask steps; other weights scale them
        weights = [0.0 if t % 3 == 1 else 0.5 + (t % 4) for t in range(n)]
    h0 = [0.9 * (2.0 * rng.uniform() - 1.0) for _ in range(H)] if with_h0 else None
    return m, xs, targets, weights, h0


def torch_loss(torch, head, zs, targets, w):  # type: ignore[no-untyped-def]
    """tinyrnn's loss from torch's functions: sum_t w_t * loss_t over the logits zs (steps x Y)."""
    F, f64 = torch.nn.functional, torch.float64
    if head == "softmax":
        per_step = F.cross_entropy(zs, torch.tensor(targets), reduction="none")
    elif head == "sigmoid":
        per_step = F.binary_cross_entropy_with_logits(zs, torch.tensor(targets, dtype=f64), reduction="none").sum(1)
    else:
        per_step = 0.5 * ((zs - torch.tensor(targets, dtype=f64)) ** 2).sum(1)
    return (w * per_step).sum()


def torch_reference(torch, m, xs, targets, weights, h0, last_only):  # type: ignore[no-untyped-def]
    """Loss, gradients by group, dL/dh0, final state, h and z from torch autograd."""
    nn, F = torch.nn, torch.nn.functional
    X, H, Y, n = m.X, m.H, m.Y, len(xs)
    f64 = torch.float64
    rnn = nn.RNN(X, H, nonlinearity="tanh", dtype=f64)
    lin = nn.Linear(H, Y, dtype=f64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(m.get("Wxh"), dtype=f64))
        rnn.weight_hh_l0.copy_(torch.tensor(m.get("Whh"), dtype=f64))
        rnn.bias_ih_l0.copy_(torch.tensor(m.get("bh"), dtype=f64))
        rnn.bias_hh_l0.zero_()
        lin.weight.copy_(torch.tensor(m.get("Why"), dtype=f64))
        lin.bias.copy_(torch.tensor(m.get("by"), dtype=f64))
    if isinstance(xs[0], int):
        x = F.one_hot(torch.tensor(xs), X).to(f64)
    else:
        x = torch.tensor(xs, dtype=f64)
    h0_t = torch.tensor([[h0 if h0 is not None else [0.0] * H]], dtype=f64, requires_grad=True)
    out, h_n = rnn(x.reshape(n, 1, X), h0_t)  # (n, 1, H), (1, 1, H)
    z = lin(out[:, 0, :])  # (n, Y)
    if last_only:
        zs = z[n - 1 :]
        w = torch.ones(1, dtype=f64) if weights is None else torch.tensor(weights[n - 1 :], dtype=f64)
    else:
        zs = z
        w = torch.ones(n, dtype=f64) if weights is None else torch.tensor(weights, dtype=f64)
    loss = torch_loss(torch, m.head, zs, targets, w)
    loss.backward()
    grads = {
        "Wxh": rnn.weight_ih_l0.grad.flatten().tolist(),
        "Whh": rnn.weight_hh_l0.grad.flatten().tolist(),
        "bh": rnn.bias_ih_l0.grad.tolist(),
        "bh_hh": rnn.bias_hh_l0.grad.tolist(),
        "Why": lin.weight.grad.flatten().tolist(),
        "by": lin.bias.grad.tolist(),
    }
    return {
        "loss": loss.item(),
        "grads": grads,
        "dh0": h0_t.grad.flatten().tolist(),
        "final": h_n.flatten().tolist(),
        "h": out.detach().flatten().tolist(),
        "z": z.detach().flatten().tolist(),
    }


def check_against_torch(torch, m, xs, targets, weights, h0, last_only):  # type: ignore[no-untyped-def]
    loss = m.forward(xs, targets, weights, h0, last_only)
    m.backward()
    ref = torch_reference(torch, m, xs, targets, weights, h0, last_only)
    n, H, Y = m.n, m.H, m.Y
    assert math.isfinite(loss)
    assert close(loss, ref["loss"]), "loss: tinyrnn %r, torch %r" % (loss, ref["loss"])
    assert_close("h", m.h[H : (n + 1) * H], ref["h"])
    assert_close("z", m.z[0 : n * Y], ref["z"])
    for name in GROUPS:
        off, rows, cols = m.layout.groups[name]
        size = rows * cols if cols else rows
        assert_close("grad " + name, m.grads[off : off + size], ref["grads"][name])
    # bias_hh is a second copy of bh: its gradient is dL/dbh as well
    assert_close("grad bh (bias_hh)", m.get("bh", m.grads), ref["grads"]["bh_hh"])  # type: ignore[arg-type]
    assert_close("dh0", m.dh0, ref["dh0"])
    assert_close("final state", m.final_state(), ref["final"])
    return loss, ref


CASES = [
    (head, mode, tokens, with_h0)
    for head in ("softmax", "sigmoid", "mse")
    for mode in ("many_to_many", "many_to_one", "masked")
    for tokens in (False, True)
    for with_h0 in (False, True)
]


@pytest.mark.parametrize(
    "head,mode,tokens,with_h0",
    CASES,
    ids=["%s-%s-%s-%s" % (h, mo, "token" if tk else "dense", "h0" if z else "zero_h0") for h, mo, tk, z in CASES],
)
def test_matches_torch(torch, head, mode, tokens, with_h0):  # type: ignore[no-untyped-def]
    seed = 1000 + CASES.index((head, mode, tokens, with_h0))
    n, T = 9, 12  # a sequence shorter than T: buffers beyond n must not leak in
    m, xs, targets, weights, h0 = make_case(head, n, T, tokens, mode, seed, with_h0=with_h0)
    loss, ref = check_against_torch(torch, m, xs, targets, weights, h0, mode == "many_to_one")
    assert loss > 0.0 or head == "mse"
    # the comparison has teeth: every group has a nonzero gradient
    for name in GROUPS:
        assert max(map(abs, ref["grads"][name])) > 1e-6, name
    if with_h0:
        assert max(map(abs, ref["dh0"])) > 1e-6


def test_consecutive_sequences_do_not_leak(torch):  # type: ignore[no-untyped-def]
    """A second, shorter sequence on the same model: grads zeroed, dh_next reset."""
    m, xs, targets, weights, h0 = make_case("softmax", 11, 11, True, "many_to_many", 7)
    check_against_torch(torch, m, xs, targets, weights, h0, False)
    state = m.final_state()
    check_against_torch(torch, m, xs[:4], targets[:4], None, state, False)


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("tokens", [False, True], ids=["dense", "token"])
def test_saturated_matches_torch(torch, head, tokens):  # type: ignore[no-untyped-def]
    """Large weights: |h| near 1, tanh' near 0, large logits; still equal."""
    m, xs, targets, weights, h0 = make_case(head, 10, 10, tokens, "many_to_many", 77, scale=4.0, with_h0=True)
    loss, ref = check_against_torch(torch, m, xs, targets, weights, h0, False)
    hs = m.h[m.H : (m.n + 1) * m.H]
    sat = sum(1 for v in hs if abs(v) > 0.95) / len(hs)
    assert sat > 0.6, "case is not saturated (sat ratio %.2f)" % sat
    assert all(math.isfinite(g) for g in m.grads)


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("tokens", [False, True], ids=["dense", "token"])
def test_long_sequence_matches_torch(torch, head, tokens):  # type: ignore[no-untyped-def]
    """T = 50 with a masked tail and a nonzero h0."""
    T = 50
    m, xs, targets, weights, h0 = make_case(head, T, T, tokens, "masked", 50, with_h0=True)
    check_against_torch(torch, m, xs, targets, weights, h0, False)


def test_char_rnn_shape_matches_torch(torch):  # type: ignore[no-untyped-def]
    """The benchmark's shape: vocabulary 65, H = 32, 25 steps, min-char-rnn init."""
    V, H, T = 65, 32, 25
    m = RNN(V, H, V, T, "softmax")
    init_params(m, 3, "normal", 0.01)
    rng = Rng(4)
    for name in ("bh", "by"):
        off, rows, _ = m.layout.groups[name]
        m.params[off : off + rows] = [0.1 * rng.normal() for _ in range(rows)]
    xs = [rng.below(V) for _ in range(T)]
    ys = xs[1:] + [rng.below(V)]
    loss, _ = check_against_torch(torch, m, xs, ys, None, None, False)
    assert abs(loss - T * math.log(V)) < 1.0  # near-uniform predictions at init
