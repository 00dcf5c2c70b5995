"""Importers/exporters for the gated cells: PyTorch nn.GRU / nn.LSTM (num_layers 1, 2) + nn.Linear and
real Keras 3 GRU (reset_after=True) / LSTM / SimpleRNN + Dense (KERAS_BACKEND=torch), float64.

- torch -> tinyrnn -> torch reproduces the modules' outputs and final states to 1e-12, and the
  imported model run by tinyrnn.arrays gives the same outputs;
- Keras layers -> tinyrnn reproduces Keras' outputs to 1e-12; tinyrnn -> Keras weights -> a fresh
  Keras layer reproduces them again; the weight lists round-trip exactly;
- what tinyrnn cannot run (bidirectional, proj_size, go_backwards, reset_after=False, hard sigmoid
  gates) is refused with a message naming the option.
"""

import os

import pytest

from arrays_support import require_array_api_compat
from support import require_module

from tinyrnn import Rng

require_array_api_compat()
from tinyrnn.arrays import BatchedRNN, from_keras, from_torch, to_floats, to_keras, to_torch, to_torch_state_dicts  # noqa: E402

TOL = 1e-12
# Keras 3.15 reads numpy arrays through an __array__ without the copy keyword (its own deprecation, harmless here)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def max_abs(a, b):  # type: ignore[no-untyped-def]
    assert len(a) == len(b)
    return max(abs(x - y) for x, y in zip(a, b))


def tinyrnn_outputs(model, xs, h0=None):  # type: ignore[no-untyped-def]
    np = require_module("numpy")
    net = BatchedRNN(model, np)
    z = net.outputs(np.asarray(xs, dtype=np.float64), None if h0 is None else np.asarray(h0))
    return z.reshape(-1).tolist(), net.final_state().reshape(-1).tolist()


def random_torch(torch, cls, X, H, Y, layers, seed):  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    rnn = cls(X, H, num_layers=layers, batch_first=True, dtype=torch.float64)
    lin = torch.nn.Linear(H, Y, dtype=torch.float64)
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(lin.parameters()):
            p.uniform_(-0.7, 0.7)  # larger than the default init: every gate away from 0.5
    return rnn, lin


def run_torch(torch, rnn, lin, x, s0=None):  # type: ignore[no-untyped-def]
    """(outputs (B, n, Y), final state (B, S) in tinyrnn's layout) of modules on x (B, n, X)."""
    B = x.shape[0]
    L, H = rnn.num_layers, rnn.hidden_size
    lstm = isinstance(rnn, torch.nn.LSTM)
    with torch.no_grad():
        if s0 is None:
            out, st = rnn(x)
        else:
            h0 = s0[:, : L * H].reshape(B, L, H).transpose(0, 1).contiguous()
            if lstm:
                out, st = rnn(x, (h0, s0[:, L * H :].reshape(B, L, H).transpose(0, 1).contiguous()))
            else:
                out, st = rnn(x, h0)
        parts = list(st) if lstm else [st]
        final = torch.cat([p.transpose(0, 1).reshape(B, L * H) for p in parts], dim=1)
        return lin(out), final


@pytest.mark.parametrize("kind", ["GRU", "LSTM", "RNN"])
@pytest.mark.parametrize("layers", [1, 2])
def test_torch_round_trip_reproduces_modules(kind, layers):  # type: ignore[no-untyped-def]
    torch = require_module("torch")
    X, H, Y, n, B = 3, 5, 4, 9, 3
    rnn, lin = random_torch(torch, getattr(torch.nn, kind), X, H, Y, layers, seed=layers)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(B, n, X, generator=gen, dtype=torch.float64)
    S = layers * H * (2 if kind == "LSTM" else 1)
    s0 = 0.5 * torch.randn(B, S, generator=gen, dtype=torch.float64)
    want, want_final = run_torch(torch, rnn, lin, x, s0)
    model = from_torch(rnn, lin, T=n, head="mse")
    assert (model.cell, model.layers) == (kind.lower(), layers)
    # tinyrnn runs the imported weights: same outputs, same final state
    got, final = tinyrnn_outputs(model, x.tolist(), s0.numpy())
    assert max_abs(got, want.reshape(-1).tolist()) <= TOL
    assert max_abs(final, want_final.reshape(-1).tolist()) <= TOL
    assert float(want.abs().max()) > 0.1
    # and back: new modules with the same outputs
    rnn2, lin2 = to_torch(model)
    assert type(rnn2) is type(rnn) and rnn2.num_layers == layers
    again, again_final = run_torch(torch, rnn2, lin2, x, s0)
    assert float((again - want).abs().max()) <= TOL
    assert float((again_final - want_final).abs().max()) <= TOL
    # state dicts: GRU/LSTM biases move unchanged; nn.RNN's pair folds into one bias
    sd, _ = to_torch_state_dicts(model, torch)
    if kind != "RNN":
        for k, v in rnn.state_dict().items():
            assert torch.equal(sd[k], v), k
    # the state dict alone imports to the same model (cell read from the shapes)
    m2 = from_torch(rnn.state_dict(), lin.state_dict(), T=n, head="mse")
    assert (m2.cell, m2.layers) == (model.cell, model.layers) and list(m2.params) == list(model.params)


def test_torch_refusals_name_the_option():  # type: ignore[no-untyped-def]
    torch = require_module("torch")
    lin = torch.nn.Linear(4, 2)
    with pytest.raises(ValueError, match="nn.GRU is bidirectional.*forward in time"):
        from_torch(torch.nn.GRU(3, 4, bidirectional=True), lin, T=5)
    with pytest.raises(ValueError, match="nn.LSTM is bidirectional"):
        from_torch(torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True), lin, T=5)
    with pytest.raises(ValueError, match="bias_hh_l0_reverse: a bidirectional RNN"):
        from_torch(torch.nn.GRU(3, 4, bidirectional=True).state_dict(), lin, T=5)
    with pytest.raises(ValueError, match="nn.LSTM has proj_size=2.*no projection.*proj_size=0"):
        from_torch(torch.nn.LSTM(3, 4, proj_size=2), torch.nn.Linear(2, 2), T=5)
    with pytest.raises(ValueError, match="weight_hr_l0: an LSTM with proj_size > 0"):
        from_torch(torch.nn.LSTM(3, 4, proj_size=2).state_dict(), torch.nn.Linear(2, 2), T=5)
    with pytest.raises(ValueError, match="cell='lstm' but the module is nn.GRU"):
        from_torch(torch.nn.GRU(3, 4), lin, T=5, cell="lstm")
    with pytest.raises(ValueError, match=r"weight_hh_l0 \(12, 4\) is a nn.GRU's \(G = 3\), not an nn.LSTM's"):
        from_torch(torch.nn.GRU(3, 4).state_dict(), lin, T=5, cell="lstm")
    sd = torch.nn.GRU(3, 4, num_layers=2).state_dict()
    sd["weight_hh_l1"] = torch.zeros(12, 5)
    with pytest.raises(ValueError, match=r"'weight_hh_l1' has shape \(12, 5\), expected \(12, 4\)"):
        from_torch(sd, lin, T=5)
    del sd["weight_ih_l1"]
    with pytest.raises(ValueError, match="missing 'weight_ih_l1'"):
        from_torch(sd, lin, T=5)
    with pytest.raises(ValueError, match=r"'weight' has shape \(2, 5\), expected \(Y, 4\)"):
        from_torch(torch.nn.LSTM(3, 4), torch.nn.Linear(5, 2), T=5)


# ------------------------------------------------------------------ Keras
@pytest.fixture
def keras(monkeypatch):  # type: ignore[no-untyped-def]
    """Keras 3 on torch, computing float64 in float64.

    Keras 3 demotes every 64-bit result type to 32 bits on the non-TensorFlow backends
    (``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE``, JAX's default), so a float64
    layer's matmuls run in float32 there (~1e-7). The fixture lifts that for the test, so the
    1e-12 comparisons are against Keras' own layers in real float64;
    test_keras_float32_demotion shows the unpatched behaviour.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    k = require_module("keras")
    if k.backend.backend() != "torch":
        pytest.skip("Keras runs on %s here; these tests pin KERAS_BACKEND=torch" % k.backend.backend())
    from keras.src.backend.common import dtypes

    monkeypatch.setitem(dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")
    return k


def keras_model(keras, cell, X, H, Y, layers, seed, **kw):  # type: ignore[no-untyped-def]
    """Sequential(recurrent layers..., Dense) in float64 with random weights in [-0.7, 0.7]."""
    np = require_module("numpy")
    cls = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "rnn": keras.layers.SimpleRNN}[cell]
    rec = [cls(H, return_sequences=True, dtype="float64", **kw) for _ in range(layers)]
    dense = keras.layers.Dense(Y, dtype="float64")
    model = keras.Sequential([keras.Input((None, X), dtype="float64")] + rec + [dense])
    rng = np.random.default_rng(seed)
    for layer in rec + [dense]:
        layer.set_weights([rng.uniform(-0.7, 0.7, w.shape) for w in layer.get_weights()])
    return model, rec, dense


def keras_run(keras, model, x):  # type: ignore[no-untyped-def]
    return keras.ops.convert_to_numpy(model(x)).reshape(-1).tolist()


def test_keras_float32_demotion(keras, monkeypatch):  # type: ignore[no-untyped-def]
    """Unpatched, Keras 3 on torch computes a float64 GRU in float32: tinyrnn agrees to float32 rounding only."""
    np = require_module("numpy")
    from keras.src.backend.common import dtypes

    monkeypatch.setitem(dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float32")  # Keras' default
    km, rec, dense = keras_model(keras, "gru", 3, 4, 2, 1, seed=6)
    x = np.random.default_rng(2).normal(size=(2, 6, 3))
    got, _ = tinyrnn_outputs(from_keras(rec[0], dense, T=6, head="mse"), x.tolist())
    err = max_abs(got, keras_run(keras, km, x))
    assert 1e-12 < err <= 1e-5


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("layers", [1, 2])
def test_keras_round_trip(keras, cell, layers):  # type: ignore[no-untyped-def]
    np = require_module("numpy")
    X, H, Y, n = 3, 4, 2, 7
    km, rec, dense = keras_model(keras, cell, X, H, Y, layers, seed=layers)
    x = np.random.default_rng(9).normal(size=(3, n, X))
    want = keras_run(keras, km, x)
    assert max(abs(v) for v in want) > 0.1
    model = from_keras(rec if layers > 1 else rec[0], dense, T=n, head="mse")
    assert (model.cell, model.layers, model.H) == (cell, layers, H)
    got, _ = tinyrnn_outputs(model, x.tolist())
    assert max_abs(got, want) <= TOL
    # tinyrnn -> Keras weight lists: exactly Keras' own (transposes and block swaps only)
    rw, dw = to_keras(model, np)
    stack = rw if layers > 1 else [rw]
    for layer, ws in zip(rec, stack):
        for a, b in zip(ws, layer.get_weights()):
            assert a.shape == b.shape and np.array_equal(a, b)
    for a, b in zip(dw, dense.get_weights()):
        assert np.array_equal(a, b)
    # into a fresh Keras model: the same outputs
    km2, rec2, dense2 = keras_model(keras, cell, X, H, Y, layers, seed=99)
    for layer, ws in zip(rec2, stack):
        layer.set_weights(ws)
    dense2.set_weights(dw)
    assert max_abs(keras_run(keras, km2, x), want) <= TOL
    # weight lists (not layers) import the same model
    m2 = from_keras([layer.get_weights() for layer in rec] if layers > 1 else rec[0].get_weights(), dense.get_weights(), T=n, head="mse")
    assert list(m2.params) == list(model.params)


def test_keras_gate_order_is_converted(keras):  # type: ignore[no-untyped-def]
    """Keras GRU z, r, h -> PyTorch r, z, n: the imported model equals nn.GRU with the converted weights."""
    torch = require_module("torch")
    np = require_module("numpy")
    km, rec, dense = keras_model(keras, "gru", 2, 3, 2, 1, seed=4)
    model = from_keras(rec[0], dense, T=5, head="mse")
    rnn, lin = to_torch(model)
    x = np.random.default_rng(1).normal(size=(2, 5, 2))
    out, _ = run_torch(torch, rnn, lin, torch.from_numpy(x))
    assert max_abs(out.reshape(-1).tolist(), keras_run(keras, km, x)) <= TOL
    k = rec[0].get_weights()[0]  # (X, 3H): z | r | h
    assert model.get("Wxh")[0] == k[:, 3].tolist()  # PyTorch row 0 = r gate's first unit = Keras column H


def test_keras_refusals_name_the_option(keras):  # type: ignore[no-untyped-def]
    _, rec, dense = keras_model(keras, "gru", 3, 4, 2, 1, seed=1, reset_after=False)
    with pytest.raises(ValueError, match="reset_after=False: a different model.*rebuild the layer with reset_after=True"):
        from_keras(rec[0], dense, T=5)
    with pytest.raises(ValueError, match=r"'bias' has shape \(12,\), a GRU with reset_after=False"):
        from_keras(rec[0].get_weights(), dense, T=5)  # a bare weight list says it by its bias shape
    _, rec, dense = keras_model(keras, "lstm", 3, 4, 2, 1, seed=1, go_backwards=True)
    with pytest.raises(ValueError, match="LSTM has go_backwards=True.*forward in time"):
        from_keras(rec[0], dense, T=5)
    _, rec, dense = keras_model(keras, "lstm", 3, 4, 2, 1, seed=1, recurrent_activation="hard_sigmoid")
    with pytest.raises(ValueError, match="recurrent_activation 'hard_sigmoid'.*recurrent_activation='sigmoid'"):
        from_keras(rec[0], dense, T=5)
    _, rec, dense = keras_model(keras, "gru", 3, 4, 2, 1, seed=1, activation="relu")
    with pytest.raises(ValueError, match="GRU activation is 'relu'"):
        from_keras(rec[0], dense, T=5)
    _, g, _ = keras_model(keras, "gru", 3, 4, 2, 1, seed=1)
    _, l, _ = keras_model(keras, "lstm", 4, 4, 2, 1, seed=1)
    with pytest.raises(ValueError, match="a LSTM with H = 4 on top of a GRU with H = 4: tinyrnn stacks layers of one cell and one size"):
        from_keras([g[0], l[0]], dense, T=5)
    bi = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))
    bi.build((None, 5, 3))
    with pytest.raises(ValueError, match="expected \\[kernel, recurrent_kernel, bias\\]"):
        from_keras(bi, dense, T=5)


def test_imported_lstm_trains_and_exports_back(keras):  # type: ignore[no-untyped-def]
    np = require_module("numpy")
    from tinyrnn.arrays import Trainer

    _, rec, dense = keras_model(keras, "lstm", 3, 4, 3, 2, seed=3)
    model = from_keras(rec, dense, T=6)
    before = list(model.params)
    tr = Trainer(model, np, lr=0.05, batch_size=2)
    rng = Rng(3)
    toks = np.asarray([[rng.below(3) for _ in range(6)] for _ in range(2)])
    loss0 = tr.train_step(toks, toks)
    for _ in range(20):
        loss = tr.train_step(toks, toks)
    assert loss < loss0
    out = tr.net.sync()
    assert out.params != before
    rw, _ = to_keras(out, np)
    assert [w.shape for w in rw[1]] == [(4, 16), (4, 16), (16,)]
    assert to_floats(np.asarray(rw[0][1]).T.reshape(-1)) == out.params[48:112]  # layer 0's recurrent kernel = Whh^T
