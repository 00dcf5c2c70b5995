"""PyTorch nn.RNN + nn.Linear and Keras SimpleRNN + Dense weights <-> tinyrnn.

Round trips reproduce the framework's outputs to 1e-12 in float64. The
Keras layout is built by hand (TensorFlow is not needed): its forward pass is
written below in numpy from the Keras documentation's formula
``h = tanh(x @ kernel + h @ recurrent_kernel + bias)``, ``y = h @ kernel + bias``.
"""

import math

import pytest

from arrays_support import backend, require_array_api_compat  # noqa: F401  (fixture)
from support import require_module

from tinyrnn import Rng

require_array_api_compat()
from tinyrnn.arrays import BatchedRNN, from_keras, from_torch, to_floats, to_keras, to_torch, to_torch_state_dicts  # noqa: E402


def core_outputs(model, seqs):  # type: ignore[no-untyped-def]
    """Logits of every step of every sequence, by the core's stepwise inference."""
    out = []
    for xs in seqs:
        s, z = model.new_state(), [0.0] * model.Y
        for x in xs:
            model.step(s, x, z)
            out += z
    return out


def torch_modules(torch, X, H, Y, seed, **kw):  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(X, H, batch_first=True, dtype=torch.float64, **kw)
    lin = torch.nn.Linear(H, Y, dtype=torch.float64)
    return rnn, lin


def torch_logits(torch, rnn, lin, xs):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        h, _ = rnn(xs)
        return lin(h).reshape(-1).tolist()


# ------------------------------------------------------------------ torch
def test_torch_round_trip_reproduces_outputs():  # type: ignore[no-untyped-def]
    torch = require_module("torch")
    X, H, Y, T = 7, 9, 5, 12
    rnn, lin = torch_modules(torch, X, H, Y, seed=0)
    xs = torch.randn(4, T, X, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    want = torch_logits(torch, rnn, lin, xs)
    model = from_torch(rnn, lin, T=T)
    assert (model.X, model.H, model.Y) == (X, H, Y)
    got = core_outputs(model, xs.tolist())
    assert max(abs(a - b) for a, b in zip(got, want)) <= 1e-12
    rnn2, lin2 = to_torch(model)
    again = torch_logits(torch, rnn2, lin2, xs)
    assert max(abs(a - b) for a, b in zip(again, want)) <= 1e-12
    assert max(abs(v) for v in want) > 0.1
    # batch_first=False modules hold the same weights
    rnn3, lin3 = to_torch(model, batch_first=False)
    with torch.no_grad():
        h, _ = rnn3(xs.transpose(0, 1))
        tf = lin3(h).transpose(0, 1).reshape(-1).tolist()
    assert max(abs(a - b) for a, b in zip(tf, want)) <= 1e-12


def test_torch_state_dicts_and_no_bias():  # type: ignore[no-untyped-def]
    torch = require_module("torch")
    rnn, lin = torch_modules(torch, 3, 4, 2, seed=2, bias=False)
    xs = torch.randn(2, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    want = torch_logits(torch, rnn, lin, xs)
    model = from_torch(rnn.state_dict(), lin.state_dict(), T=5)
    assert model.get("bh") == [0.0] * 4
    assert max(abs(a - b) for a, b in zip(core_outputs(model, xs.tolist()), want)) <= 1e-12
    rsd, lsd = to_torch_state_dicts(model, torch)
    assert sorted(rsd) == ["bias_hh_l0", "bias_ih_l0", "weight_hh_l0", "weight_ih_l0"]
    assert torch.equal(rsd["weight_hh_l0"], rnn.weight_hh_l0.detach())


def test_batched_gradients_equal_torch_autograd():  # type: ignore[no-untyped-def]
    torch = require_module("torch")
    X, H, Y, T, B = 6, 8, 6, 9, 4
    rnn, lin = torch_modules(torch, X, H, Y, seed=5)
    gen = torch.Generator().manual_seed(6)
    tokens = torch.randint(0, X, (B, T), generator=gen)
    targets = torch.randint(0, Y, (B, T), generator=gen)
    h, _ = rnn(torch.nn.functional.one_hot(tokens, X).to(torch.float64))
    loss = torch.nn.functional.cross_entropy(lin(h).reshape(-1, Y), targets.reshape(-1), reduction="sum")
    loss.backward()
    model = from_torch(rnn, lin, T=T)
    net = BatchedRNN(model, torch)
    got = net.forward(tokens, targets)
    g = to_floats(net.backward())
    L = model.layout
    ref = (
        rnn.weight_ih_l0.grad.reshape(-1).tolist()
        + rnn.weight_hh_l0.grad.reshape(-1).tolist()
        + rnn.bias_ih_l0.grad.tolist()  # == bias_hh_l0.grad: both are dL/dbh
        + lin.weight.grad.reshape(-1).tolist()
        + lin.bias.grad.tolist()
    )
    assert abs(got - loss.item()) <= 1e-12 * loss.item()
    assert len(g) == L.size
    assert max(abs(a - b) for a, b in zip(g, ref)) <= 1e-12 * max(1.0, max(map(abs, ref)))


def test_torch_refusals_say_why():  # type: ignore[no-untyped-def]
    torch = require_module("torch")
    lin = torch.nn.Linear(4, 2)
    with pytest.raises(ValueError, match="nonlinearity is 'relu'.*tanh RNN"):
        from_torch(torch.nn.RNN(3, 4, nonlinearity="relu"), lin, T=5)
    relu_sd = torch.nn.RNN(3, 4).state_dict()
    with pytest.raises(ValueError, match="nonlinearity is 'relu'"):
        from_torch(relu_sd, lin, T=5, nonlinearity="relu")  # a state dict cannot tell: the flag does
    stacked = from_torch(torch.nn.RNN(3, 4, num_layers=2), lin, T=5)  # stacked layers import (tests/test_arrays_gated_io.py)
    assert (stacked.cell, stacked.layers) == ("rnn", 2)
    with pytest.raises(ValueError, match="bidirectional.*forward in time"):
        from_torch(torch.nn.RNN(3, 4, bidirectional=True), lin, T=5)
    with pytest.raises(ValueError, match="bias_hh_l0_reverse.*bidirectional"):
        from_torch(torch.nn.RNN(3, 4, bidirectional=True).state_dict(), lin, T=5)


def test_torch_shape_errors_name_the_key(backend):  # type: ignore[no-untyped-def]
    def sd(H=4, X=3, hh=None, lin_w=(2, 4)):  # type: ignore[no-untyped-def]
        rnn = {
            "weight_ih_l0": backend.floats([[0.1] * X] * H),
            "weight_hh_l0": backend.floats([[0.1] * hh[1]] * hh[0]) if hh else backend.floats([[0.1] * H] * H),
            "bias_ih_l0": backend.floats([0.0] * H),
            "bias_hh_l0": backend.floats([0.0] * H),
        }
        lin = {"weight": backend.floats([[0.2] * lin_w[1]] * lin_w[0]), "bias": backend.floats([0.0] * lin_w[0])}
        return rnn, lin

    r, l = sd()
    model = from_torch(r, l, T=3)  # arrays of any namespace, any device
    assert (model.X, model.H, model.Y) == (3, 4, 2) and model.get("Why")[1][3] == 0.2
    r, l = sd(hh=(4, 5))
    with pytest.raises(ValueError, match=r"'weight_hh_l0' has shape \(4, 5\), expected \(G\*H, H\) with 4 rows"):
        from_torch(r, l, T=3)
    r, l = sd(lin_w=(2, 5))
    with pytest.raises(ValueError, match=r"'weight' has shape \(2, 5\), expected \(Y, 4\)"):
        from_torch(r, l, T=3)
    r, l = sd()
    del r["weight_hh_l0"]
    with pytest.raises(ValueError, match="missing 'weight_hh_l0'"):
        from_torch(r, l, T=3)
    r, l = sd()
    r["bias_ih_l0"] = backend.floats([0.0] * 3)
    with pytest.raises(ValueError, match=r"'bias_ih_l0' has shape \(3,\), expected \(4,\)"):
        from_torch(r, l, T=3)
    r, l = sd()
    r["weight_hh_l0"] = backend.floats([[math.nan] * 4] * 4)
    with pytest.raises(ValueError, match="Whh has a non-finite value"):
        from_torch(r, l, T=3)


# ------------------------------------------------------------------ keras
def keras_weights(np, X, H, Y, seed):  # type: ignore[no-untyped-def]
    rng = Rng(seed)

    def mat(r, c):  # type: ignore[no-untyped-def]
        return np.asarray([[rng.uniform(-0.6, 0.6) for _ in range(c)] for _ in range(r)])

    return [mat(X, H), mat(H, H), mat(1, H)[0]], [mat(H, Y), mat(1, Y)[0]]


def keras_forward(np, rw, dw, xs):  # type: ignore[no-untyped-def]
    """SimpleRNN(return_sequences=True) + Dense, written out (Keras' documented formula)."""
    kernel, rec, bias = rw
    dk, db = dw
    out = []
    for seq in xs:
        h = np.zeros(kernel.shape[1])
        for x in seq:
            h = np.tanh(np.asarray(x) @ kernel + h @ rec + bias)
            out += (h @ dk + db).tolist()
    return out


def test_keras_layout_round_trip(backend):  # type: ignore[no-untyped-def]
    np = require_module("numpy")
    X, H, Y, T = 4, 6, 3, 8
    rw, dw = keras_weights(np, X, H, Y, seed=21)
    rng = Rng(22)
    xs = [[[rng.normal() for _ in range(X)] for _ in range(T)] for _ in range(3)]
    want = keras_forward(np, rw, dw, xs)
    # the weight lists as arrays of the backend under test, on its device
    model = from_keras([backend.floats(a.tolist()) for a in rw], [backend.floats(a.tolist()) for a in dw], T=T, head="mse")
    got = core_outputs(model, xs)
    assert max(abs(a - b) for a, b in zip(got, want)) <= 1e-12
    assert max(abs(v) for v in want) > 0.1
    rw2, dw2 = to_keras(model, backend.lib, device=backend.device)
    assert [tuple(a.shape) for a in rw2] == [(X, H), (H, H), (H,)]
    assert [tuple(a.shape) for a in dw2] == [(H, Y), (Y,)]
    for a, b in zip(rw2 + dw2, rw + dw):
        assert to_floats(a) == b.reshape(-1).tolist()  # exact: transposes only


class FakeLayer:
    """Duck-typed Keras layer: get_weights() and the attributes the importer reads."""

    def __init__(self, weights, activation="tanh", go_backwards=False):  # type: ignore[no-untyped-def]
        self._w = weights
        self.activation = activation
        self.go_backwards = go_backwards

    def get_weights(self):  # type: ignore[no-untyped-def]
        return self._w


def test_keras_refusals_and_shape_errors():  # type: ignore[no-untyped-def]
    np = require_module("numpy")
    rw, dw = keras_weights(np, 3, 4, 2, seed=1)
    m = from_keras(FakeLayer(rw), FakeLayer(dw, activation="linear"), T=4)
    assert m.get("Wxh")[1][2] == rw[0][2][1]  # Wxh = kernel^T
    with pytest.raises(ValueError, match="activation is 'relu'.*tanh RNN"):
        from_keras(FakeLayer(rw, activation="relu"), dw, T=4)
    with pytest.raises(ValueError, match="activation is 'relu'"):
        from_keras(rw, dw, T=4, activation="relu")
    with pytest.raises(ValueError, match="go_backwards.*forward in time"):
        from_keras(FakeLayer(rw, go_backwards=True), dw, T=4)
    with pytest.raises(ValueError, match="Dense has activation 'softmax'.*raw logits"):
        from_keras(rw, FakeLayer(dw, activation="softmax"), T=4)
    with pytest.raises(ValueError, match=r"'recurrent_kernel' has shape \(4, 3\), expected \(H, G\*H\) with G\*H = 4"):
        from_keras([rw[0], rw[1][:, :3], rw[2]], dw, T=4)
    with pytest.raises(ValueError, match=r"Dense weights: 'kernel' has shape \(5, 2\), expected \(4, Y\)"):
        from_keras(rw, [np.zeros((5, 2)), dw[1]], T=4)
    with pytest.raises(ValueError, match=r"'bias' has shape \(3,\), expected \(2,\)"):
        from_keras(rw, [dw[0], np.zeros(3)], T=4)
    with pytest.raises(ValueError, match="expected \\[kernel, recurrent_kernel, bias\\]"):
        from_keras(rw[:1], dw, T=4)
    m = from_keras(rw[:2], dw[:1], T=4)  # use_bias=False on both
    assert m.get("bh") == [0.0] * 4 and m.get("by") == [0.0] * 2


def test_imported_model_trains_and_exports_back(backend):  # type: ignore[no-untyped-def]
    """Keras weights in, a batched training step, the same layout out (shapes and change)."""
    np = require_module("numpy")
    rw, dw = keras_weights(np, 3, 4, 3, seed=5)
    model = from_keras(rw, dw, T=6)
    before = list(model.params)
    from tinyrnn.arrays import Trainer

    tr = Trainer(model, backend.xp, backend.device, lr=0.05, batch_size=2)
    rng = Rng(3)
    toks = backend.ints([[rng.below(3) for _ in range(6)] for _ in range(2)])
    loss0 = tr.train_step(toks, toks)
    for _ in range(20):
        loss = tr.train_step(toks, toks)
    assert loss < loss0
    out = tr.checkpoint().model
    assert out.params != before
    rw2, _ = to_keras(out, np)
    assert rw2[0].shape == (3, 4)
    assert rw2[0].T.reshape(-1).tolist() == out.params[0:12]  # kernel = Wxh^T
