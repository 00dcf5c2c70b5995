"""tinyrnn.arrays for the gated cells and stacked layers: batched loss, every gradient, dL/d(h0, c0)
and final states equal PyTorch autograd on nn.GRU / nn.LSTM / nn.RNN (num_layers 1-3) + nn.Linear in
float64, on array-api-strict, numpy and torch; float32 to 2e-4.

The core's own sums of per-sequence gradients are compared too (test_batched_equals_sum_of_core).
The torch reference is built here from the flat layout of docs/core.md by hand (not with
tinyrnn.arrays' importer, which tests/test_arrays_gated_io.py checks), so the two cannot
share a mistake.
"""

import math

import pytest

from arrays_support import Backend, backend, require_array_api_compat  # noqa: F401  (fixture)
from support import require_module

from tinyrnn import RNN, Rng

require_array_api_compat()
from tinyrnn.arrays import BatchedRNN, Trainer, init_uniform, to_floats  # noqa: E402
from test_arrays import core_sum, make_batch as batch, to_backend as args_for  # noqa: E402

TOL64 = 1e-12
TOL32 = 2e-4


def gated_model(X, H, Y, T, head, cell, layers, seed, scale=0.6):  # type: ignore[no-untyped-def]
    m = RNN(X, H, Y, T, head, cell=cell, layers=layers)
    rng = Rng(seed)
    for k in range(m.num_params):
        m.params[k] = rng.uniform(-scale, scale)  # biases too: every group nonzero
    return m, rng


def layout_state_size(m):  # type: ignore[no-untyped-def]
    return m.layers * m.H * (2 if m.cell == "lstm" else 1)


def torch_reference(m, case):  # type: ignore[no-untyped-def]
    """(loss, flat gradient in tinyrnn's layout, dL/d(state0) (B, S), final state (B, S)) from torch autograd, float64."""
    torch = require_module("torch")
    X, H, Y, L = m.X, m.H, m.Y, m.layers
    lay = m.layout
    cls = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[m.cell]
    rnn = cls(X, H, num_layers=L, batch_first=True, dtype=torch.float64)
    lin = torch.nn.Linear(H, Y, dtype=torch.float64)
    P = torch.tensor(m.params, dtype=torch.float64)

    def grp(name):  # type: ignore[no-untyped-def]
        off, rows, cols = lay.groups[name]
        return P[off : off + rows * (cols or 1)].reshape((rows, cols) if cols else (rows,))

    with torch.no_grad():
        for l in range(L):
            s = "" if l == 0 else str(l)
            getattr(rnn, "weight_ih_l%d" % l).copy_(grp("Wxh" + s))
            getattr(rnn, "weight_hh_l%d" % l).copy_(grp("Whh" + s))
            if m.cell == "rnn":
                getattr(rnn, "bias_ih_l%d" % l).copy_(grp("bh" + s))
                getattr(rnn, "bias_hh_l%d" % l).zero_()
            else:
                getattr(rnn, "bias_ih_l%d" % l).copy_(grp("bxh" + s))
                getattr(rnn, "bias_hh_l%d" % l).copy_(grp("bhh" + s))
        lin.weight.copy_(grp("Why"))
        lin.bias.copy_(grp("by"))
    B = len(case["xs"])
    n = len(case["xs"][0])
    if isinstance(case["xs"][0][0], int):
        x = torch.nn.functional.one_hot(torch.tensor(case["xs"]), X).double()
    else:
        x = torch.tensor(case["xs"], dtype=torch.float64)
    s0 = torch.tensor(case["h0"] if case["h0"] is not None else [[0.0] * layout_state_size(m)] * B, dtype=torch.float64, requires_grad=True)
    h0 = s0[:, : L * H].reshape(B, L, H).transpose(0, 1).contiguous()
    if m.cell == "lstm":
        c0 = s0[:, L * H :].reshape(B, L, H).transpose(0, 1).contiguous()
        out, (hn, cn) = rnn(x, (h0, c0))
    else:
        out, hn = rnn(x, h0)
    z = lin(out)  # (B, n, Y)
    w = torch.ones(B, n, dtype=torch.float64)
    if case["weights"] is not None:
        w = torch.tensor(case["weights"], dtype=torch.float64)
    if case["lengths"] is not None:
        lens = torch.tensor(case["lengths"])
        steps = torch.arange(n).reshape(1, n)
        mask = (steps == lens.reshape(B, 1) - 1) if case["last_only"] else (steps < lens.reshape(B, 1))
        w = w * mask.double()
    elif case["last_only"]:
        w = torch.zeros(B, n, dtype=torch.float64)
        w[:, -1] = 1.0
    tg = case["targets"]
    if case["last_only"]:  # the target sits at every step; only the last one weighs
        tg = [[t] * n for t in tg]
    if m.head == "softmax":
        rows = torch.nn.functional.cross_entropy(z.reshape(B * n, Y), torch.tensor(tg).reshape(B * n), reduction="none").reshape(B, n)
    elif m.head == "sigmoid":
        rows = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(tg, dtype=torch.float64), reduction="none").sum(2)
    else:
        rows = 0.5 * ((z - torch.tensor(tg, dtype=torch.float64)) ** 2).sum(2)
    loss = (w * rows).sum()
    loss.backward()
    g = [0.0] * lay.size
    names = {}
    for l in range(L):
        s = "" if l == 0 else str(l)
        names["weight_ih_l%d" % l] = "Wxh" + s
        names["weight_hh_l%d" % l] = "Whh" + s
        names["bias_ih_l%d" % l] = "bh" + s if m.cell == "rnn" else "bxh" + s
        names["bias_hh_l%d" % l] = None if m.cell == "rnn" else "bhh" + s
    for key, p in rnn.named_parameters():
        name = names[key]
        if name is None:
            continue
        off = lay.groups[name][0]
        g[off : off + p.numel()] = p.grad.reshape(-1).tolist()
    for name, p in (("Why", lin.weight), ("by", lin.bias)):
        off = lay.groups[name][0]
        g[off : off + p.numel()] = p.grad.reshape(-1).tolist()
    # final state after each sequence's last step, in the flat layout
    if case["lengths"] is None:
        fin = [hn.transpose(0, 1).reshape(B, L * H)] + ([cn.transpose(0, 1).reshape(B, L * H)] if m.cell == "lstm" else [])
        final = torch.cat(fin, dim=1).detach().reshape(-1).tolist()
    else:
        final = None
    return float(loss.detach()), g, s0.grad.reshape(-1).tolist(), final


def max_rel(a, b):  # type: ignore[no-untyped-def]
    assert len(a) == len(b)
    scale = max(1.0, max(abs(v) for v in b))
    return max(abs(x - y) for x, y in zip(a, b)) / scale


CASES = [(cell, layers) for cell in ("gru", "lstm") for layers in (1, 2)] + [("rnn", 2), ("lstm", 3)]


@pytest.mark.parametrize("cell,layers", CASES)
@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("kind", ["token", "dense"])
@pytest.mark.parametrize("mode", ["many", "one", "masked"])
def test_batched_equals_torch_autograd_float64(backend, cell, layers, head, kind, mode):  # type: ignore[no-untyped-def]
    m, rng = gated_model(5, 4, 3, 8, head, cell, layers, seed=hash((cell, layers, head, kind, mode)) & 0xFFFF)
    case = batch(m, rng, B=4, n=6, dense=kind == "dense", mode=mode)
    loss, grads, ds0, final = torch_reference(m, case)
    net = BatchedRNN(m, backend.xp, device=backend.device)
    got = net.forward(**args_for(backend, m, case))
    g = to_floats(net.backward())
    assert abs(got - loss) <= TOL64 * max(1.0, abs(loss)), (got, loss)
    assert max_rel(g, grads) <= TOL64
    lay = m.layout
    for name, (off, rows, cols) in lay.groups.items():  # every group really has a gradient
        if kind == "token" and name == "Wxh":
            continue
        assert max(abs(v) for v in grads[off : off + rows * (cols or 1)]) > 1e-6, name
    assert max_rel(to_floats(net.dh0), ds0) <= TOL64
    assert tuple(net.dh0.shape) == (4, layout_state_size(m))
    if final is not None:
        assert max_rel(to_floats(net.final_state()), final) <= TOL64


@pytest.mark.parametrize("cell,layers", CASES)
@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("kind", ["token", "dense"])
@pytest.mark.parametrize("mode", ["many", "one", "masked"])
def test_batched_equals_sum_of_core(backend, cell, layers, head, kind, mode):  # type: ignore[no-untyped-def]
    """The batched gradients are the sum of the pure-Python core's per-sequence gradients (1e-12, float64)."""
    m, rng = gated_model(4, 3, 3, 7, head, cell, layers, seed=hash((cell, layers, head, kind, mode, 1)) & 0xFFFF)
    case = batch(m, rng, B=3, n=5, dense=kind == "dense", mode=mode)
    loss, grads, dh0 = core_sum(m, case)
    net = BatchedRNN(m, backend.xp, device=backend.device)
    got = net.forward(**args_for(backend, m, case))
    g = to_floats(net.backward())
    assert abs(got - loss) <= TOL64 * max(1.0, abs(loss))
    assert max_rel(g, grads) <= TOL64
    assert max(abs(v) for v in grads) > 1e-3
    if case["lengths"] is None:  # dL/d(initial state) per sequence, the core's flat state layout
        assert max_rel(to_floats(net.dh0), [v for row in dh0 for v in row]) <= TOL64
        fs = to_floats(net.final_state())
        want = []
        for b in range(3):
            m.forward(case["xs"][b], case["targets"][b] if not case["last_only"] else [case["targets"][b]], last_only=case["last_only"])
            want += m.final_state()
        assert max_rel(fs, want) <= TOL64


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_final_state_per_length_and_logits(backend, cell):  # type: ignore[no-untyped-def]
    m, rng = gated_model(3, 4, 3, 6, "softmax", cell, 2, seed=8)
    case = batch(m, rng, B=3, n=6, dense=True, mode="one")
    net = BatchedRNN(m, backend.xp, device=backend.device)
    net.forward(**args_for(backend, m, case))
    fs = net.final_state(backend.ints(case["lengths"]))
    for b in range(3):  # the same sequence cut at its length, run alone: its last state
        k = case["lengths"][b]
        one = {"xs": [case["xs"][b][:k]], "targets": [case["targets"][b]], "weights": None, "lengths": None, "h0": None, "last_only": True}
        _, _, _, final = torch_reference(m, one)
        assert max_rel(to_floats(fs[b, :]), final) <= TOL64
    z = to_floats(net.logits(fs))
    assert len(z) == 3 * 3 and all(math.isfinite(v) for v in z)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
def test_float32_close_to_float64(backend, cell, head):  # type: ignore[no-untyped-def]
    m, rng = gated_model(5, 6, 4, 8, head, cell, 2, seed=7)
    case = batch(m, rng, B=4, n=7, dense=True, mode="masked")
    loss, grads, _, _ = torch_reference(m, case)
    net = BatchedRNN(m, backend.xp, device=backend.device, dtype="float32")
    got = net.forward(**args_for(backend, m, case, backend.xp.float32))
    g = to_floats(net.backward())
    assert net.grads.dtype == backend.xp.float32
    assert abs(got - loss) <= TOL32 * max(1.0, abs(loss))
    err = max_rel(g, grads)
    assert 0.0 < err <= TOL32


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_saturated_gates_stay_finite(backend, cell):  # type: ignore[no-untyped-def]
    m, rng = gated_model(3, 4, 3, 5, "softmax", cell, 2, seed=11, scale=0.6)
    m.params[:] = [v * 300.0 for v in m.params]  # every gate at 0 or 1, logits ~ +-1e3
    case = batch(m, rng, B=2, n=5, dense=True, mode="many")
    loss, grads, _, _ = torch_reference(m, case)
    net = BatchedRNN(m, backend.xp, device=backend.device)
    got = net.forward(**args_for(backend, m, case))
    g = to_floats(net.backward())
    assert math.isfinite(got) and all(math.isfinite(v) for v in g)
    assert abs(got - loss) <= 1e-9 * abs(loss)
    assert max_rel(g, grads) <= 1e-9


def test_h0_shape_names_the_state_layout(backend):  # type: ignore[no-untyped-def]
    m, _ = gated_model(2, 3, 2, 4, "softmax", "lstm", 2, seed=1)
    net = BatchedRNN(m, backend.xp, device=backend.device)
    with pytest.raises(ValueError, match=r"h0 has shape \(1, 3\), expected \(B, 12\) \(h of every layer, then c\) = \(1, 12\)"):
        net.forward(backend.ints([[0, 1]]), backend.ints([[0, 1]]), h0=backend.floats([[0.0] * 3]))
    with pytest.raises(ValueError, match="use group"):
        net.views()


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_trainer_learns_delayed_echo(cell):  # type: ignore[no-untyped-def]
    """A gated 2-layer model learns to echo a bit 3 steps back (a vanilla cell of this size is slow at it)."""
    be = Backend("numpy")
    m = RNN(1, 8, 1, 14, "sigmoid", cell=cell, layers=2)
    init_uniform(m, 1, 1.0 / math.sqrt(8))
    rng = Rng(3)
    bits = [[float(rng.below(2)) for _ in range(14)] for _ in range(128)]
    xs = be.floats([[[b] for b in row] for row in bits])
    ys = be.floats([[[0.0]] * 3 + [[b] for b in row[:-3]] for row in bits])
    w = be.floats([[0.0] * 3 + [1.0] * 11 for _ in bits])
    tr = Trainer(m, be.xp, be.device, optimizer="adam", lr=0.03, clip=5.0, batch_size=32, seed=2, input_kind="dense")
    hist = tr.fit(xs, ys, weights=w, epochs=40)
    assert hist[-1] < 0.15 * hist[0], hist[::8]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_checkpoint_resume_of_a_stacked_gated_model(tmp_path, cell):  # type: ignore[no-untyped-def]
    """The trainer's checkpoint is the core's format 2 (cell, layers): it loads in the core and resumes exactly."""
    from tinyrnn.workflow.checkpoint import load

    be = Backend("numpy")
    m, rng = gated_model(5, 4, 5, 5, "softmax", cell, 2, seed=9)
    case = batch(m, rng, B=8, n=5, dense=False, mode="many")
    xs, ys = be.ints(case["xs"]), be.ints(case["targets"])
    start = list(m.params)
    full = Trainer(m, be.xp, be.device, optimizer="adam", lr=0.01, batch_size=4, seed=1)
    full.fit(xs, ys, epochs=2)
    want = list(full.checkpoint().model.params)
    m.params[:] = start
    first = Trainer(m, be.xp, be.device, optimizer="adam", lr=0.01, batch_size=4, seed=1)
    first.fit(xs, ys, epochs=1)
    path = str(tmp_path / "ck.json")
    first.save(path)
    ck = load(path)
    assert (ck.model.cell, ck.model.layers, ck.model.num_params) == (cell, 2, m.num_params)
    resumed = Trainer.from_checkpoint(ck, be.xp, be.device)
    resumed.fit(xs, ys, epochs=1)
    assert max(abs(a - b) for a, b in zip(resumed.checkpoint().model.params, want)) <= 1e-15
    assert max(abs(a - b) for a, b in zip(want, start)) > 1e-3


def test_group_arrays_round_trip_for_a_stacked_lstm(backend):  # type: ignore[no-untyped-def]
    from tinyrnn.arrays import clone, from_arrays, model_from_arrays, to_arrays

    m, _ = gated_model(3, 4, 2, 5, "mse", "lstm", 2, seed=12)
    arrs = to_arrays(m, backend.lib, device=backend.device)
    assert list(arrs) == m.layout.names and tuple(arrs["Whh1"].shape) == (16, 4) and tuple(arrs["bhh1"].shape) == (16,)
    m2 = model_from_arrays(arrs, T=5, head="mse")
    assert (m2.cell, m2.layers) == ("lstm", 2) and m2.params == m.params
    c = clone(m, T=9)
    assert (c.cell, c.layers, c.T) == ("lstm", 2, 9) and c.params == m.params
    bad = dict(arrs)
    del bad["bxh1"]
    with pytest.raises(ValueError, match="missing bxh1"):
        from_arrays(m2, bad)
    bad = dict(arrs)
    bad["Wxh"] = backend.floats([[0.0] * 3] * 10)
    with pytest.raises(ValueError, match=r"Wxh has shape \(10, 3\): expected \(G\*H, X\)"):
        model_from_arrays(bad, T=5)
