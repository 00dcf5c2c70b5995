"""tinyrnn.arrays: batched gradients equal the core's, optimisers, trainer, conversion, imports.

Every array test runs on array-api-strict (on its non-default "device1", so
an array created without ``device=`` fails loudly), numpy and torch.
"""

import math

import pytest

from arrays_support import Backend, backend, require_array_api_compat  # noqa: F401  (fixture)

from tinyrnn import RNN, Adagrad, Adam, SGD, Rng, clip_global_norm, init_params
from tinyrnn.workflow.checkpoint import load

require_array_api_compat()
from tinyrnn.arrays import (  # noqa: E402
    BatchedRNN,
    Trainer,
    clip_elementwise,
    from_arrays,
    make_array_optimizer,
    params_from_array,
    params_to_array,
    to_arrays,
    to_floats,
)
from tinyrnn.arrays import clip_global_norm as array_clip_global_norm  # noqa: E402

TOL64 = 1e-12  # float64: batched vs core, relative to the largest gradient
TOL32 = 2e-4  # float32 arrays vs the core's float64: single precision over T=7 steps


def make_model(X, H, Y, T, head, seed):  # type: ignore[no-untyped-def]
    m = RNN(X, H, Y, T, head)
    rng = init_params(m, seed, "uniform", 0.8)
    for k in range(m.layout.bh, m.layout.Why):  # nonzero biases
        m.params[k] = rng.uniform(-0.5, 0.5)
    for k in range(m.layout.by, m.layout.size):
        m.params[k] = rng.uniform(-0.5, 0.5)
    return m, rng


def make_batch(m, rng, B, n, dense, mode):  # type: ignore[no-untyped-def]
    """Python-list batch: inputs, targets, weights, lengths, h0 (some None) for one mode."""
    X, Y = m.X, m.Y
    if dense:
        xs = [[[rng.normal() for _ in range(X)] for _ in range(n)] for _ in range(B)]
    else:
        xs = [[rng.below(X) for _ in range(n)] for _ in range(B)]

    def target():  # type: ignore[no-untyped-def]
        if m.head == "softmax":
            return rng.below(Y)
        if m.head == "sigmoid":
            return [float(rng.below(2)) for _ in range(Y)]
        return [rng.normal() for _ in range(Y)]

    case = {"xs": xs, "weights": None, "lengths": None, "h0": None, "last_only": False}
    if mode == "one":
        case["targets"] = [target() for _ in range(B)]
        case["last_only"] = True
        case["lengths"] = [n - (b % 3) for b in range(B)]  # ragged many-to-one
    else:
        case["targets"] = [[target() for _ in range(n)] for _ in range(B)]
    if mode == "masked":  # ragged lengths, non-unit weights, an initial state
        case["lengths"] = [max(1, n - (b * 2) % n) for b in range(B)]
        case["weights"] = [[rng.uniform(0.0, 2.0) if rng.below(4) else 0.0 for _ in range(n)] for _ in range(B)]
        case["h0"] = [[rng.uniform(-0.5, 0.5) for _ in range(len(m.new_state()))] for _ in range(B)]  # the flat state: S = H for one vanilla layer
    return case


def core_sum(m, case):  # type: ignore[no-untyped-def]
    """Sum over the batch of the core's loss and gradients, one sequence at a time."""
    total, grads, dh0 = 0.0, [0.0] * m.num_params, []
    for b, xs in enumerate(case["xs"]):
        n = len(xs) if case["lengths"] is None else case["lengths"][b]
        kw = {}
        if case["last_only"]:
            kw["last_only"] = True
            tg = [case["targets"][b]]
        else:
            tg = case["targets"][b][:n]
        if case["weights"] is not None:
            kw["weights"] = case["weights"][b][:n]
        if case["h0"] is not None:
            kw["h0"] = case["h0"][b]
        total += m.forward(xs[:n], tg, **kw)
        m.backward()
        grads = [a + g for a, g in zip(grads, m.grads)]
        dh0.append(list(m.dh0))
    return total, grads, dh0


def to_backend(be, m, case, dtype=None):  # type: ignore[no-untyped-def]
    dense = not isinstance(case["xs"][0][0], int)
    args = {
        "inputs": be.floats(case["xs"], dtype) if dense else be.ints(case["xs"]),
        "targets": be.ints(case["targets"]) if m.head == "softmax" else be.floats(case["targets"], dtype),
        "last_only": case["last_only"],
    }
    if case["weights"] is not None:
        args["weights"] = be.floats(case["weights"], dtype)
    if case["lengths"] is not None:
        args["lengths"] = be.ints(case["lengths"])
    if case["h0"] is not None:
        args["h0"] = be.floats(case["h0"], dtype)
    return args


def max_rel(a, b):  # type: ignore[no-untyped-def]
    scale = max(1.0, max(abs(v) for v in b))
    return max(abs(x - y) for x, y in zip(a, b)) / scale


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("kind", ["token", "dense"])
@pytest.mark.parametrize("mode", ["many", "one", "masked"])
def test_batched_gradients_equal_sum_of_core_gradients(backend, head, kind, mode):  # type: ignore[no-untyped-def]
    m, rng = make_model(5, 6, 4, 8, head, seed=hash((head, kind, mode)) & 0xFFFF)
    case = make_batch(m, rng, B=5, n=7, dense=kind == "dense", mode=mode)
    loss, grads, dh0 = core_sum(m, case)
    net = BatchedRNN(m, backend.xp, device=backend.device)
    got = net.forward(**to_backend(backend, m, case))
    g = to_floats(net.backward())
    assert abs(got - loss) <= TOL64 * max(1.0, abs(loss)), (got, loss)
    assert max_rel(g, grads) <= TOL64
    assert max(abs(v) for v in grads) > 1e-3  # a real gradient, not zeros
    if case["lengths"] is None:  # dL/dh0 per sequence (full-length sequences only)
        assert max_rel(to_floats(net.dh0), [v for row in dh0 for v in row]) <= TOL64
    # the arrays never left the device they were made on
    assert str(backend.xp.asarray(0.0, device=backend.device).device) == str(net.grads.device)


def test_per_sequence_weights(backend):  # type: ignore[no-untyped-def]
    m, rng = make_model(4, 5, 3, 6, "sigmoid", seed=17)
    case = make_batch(m, rng, B=3, n=6, dense=False, mode="many")
    seq_w = [0.5, 0.0, 2.0]
    case["weights"] = [[c] * 6 for c in seq_w]
    loss, grads, _ = core_sum(m, case)
    args = to_backend(backend, m, case)
    args["weights"] = backend.floats(seq_w)  # (B,): one weight per sequence
    net = BatchedRNN(m, backend.xp, device=backend.device)
    assert abs(net.forward(**args) - loss) <= TOL64 * abs(loss)
    assert max_rel(to_floats(net.backward()), grads) <= TOL64


def test_no_in_place_writes(monkeypatch):  # type: ignore[no-untyped-def]
    """Immutable arrays (JAX) work: forward, backward, optimiser and trainer never write into an array."""
    be = Backend("strict")
    Array = type(be.xp.asarray(0.0))

    def refuse(self, *a):  # type: ignore[no-untyped-def]
        raise AssertionError("in-place write into an array")

    for name in ("__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ipow__", "__imatmul__"):
        monkeypatch.setattr(Array, name, refuse, raising=False)
    for head in ("softmax", "sigmoid", "mse"):
        for kind in ("token", "dense"):
            for mode in ("many", "one", "masked"):
                m, rng = make_model(4, 5, 3, 6, head, seed=5)
                case = make_batch(m, rng, B=3, n=5, dense=kind == "dense", mode=mode)
                net = BatchedRNN(m, be.xp, device=be.device)
                net.forward(**to_backend(be, m, case))
                net.backward()
                net.final_state()
    for opt in ("sgd", "adagrad", "adam"):
        tr = Trainer(m, be.xp, be.device, optimizer=opt, lr=0.01, clip=0.1, clip_value=0.05, batch_size=2)
        tr.fit(**{k: v for k, v in to_backend(be, m, case).items() if k != "h0"}, epochs=1)
    with pytest.raises(AssertionError, match="in-place"):  # the patch is live
        a = be.floats([1.0])
        a[0] = 2.0


def test_softmax_without_take_along_axis_uses_one_hot(backend):  # type: ignore[no-untyped-def]
    m, rng = make_model(5, 6, 4, 8, "softmax", seed=31)
    case = make_batch(m, rng, B=3, n=6, dense=False, mode="masked")
    loss, grads, _ = core_sum(m, case)
    net = BatchedRNN(m, backend.xp, device=backend.device)
    net.take_along = False  # as on a namespace older than the 2024.12 standard
    assert abs(net.forward(**to_backend(backend, m, case)) - loss) <= TOL64 * abs(loss)
    assert max_rel(to_floats(net.backward()), grads) <= TOL64


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
def test_float32_close_to_core(backend, head):  # type: ignore[no-untyped-def]
    m, rng = make_model(5, 6, 4, 8, head, seed=7)
    case = make_batch(m, rng, B=4, n=7, dense=True, mode="masked")
    loss, grads, _ = core_sum(m, case)
    net = BatchedRNN(m, backend.xp, device=backend.device, dtype="float32")
    got = net.forward(**to_backend(backend, m, case, backend.xp.float32))
    g = to_floats(net.backward())
    assert net.grads.dtype == backend.xp.float32
    assert abs(got - loss) <= TOL32 * max(1.0, abs(loss))
    err = max_rel(g, grads)
    assert err <= TOL32
    assert err > 0.0  # really single precision


def test_final_state_per_length(backend):  # type: ignore[no-untyped-def]
    m, rng = make_model(4, 5, 3, 6, "softmax", seed=3)
    case = make_batch(m, rng, B=3, n=6, dense=False, mode="one")
    net = BatchedRNN(m, backend.xp, device=backend.device)
    net.forward(**to_backend(backend, m, case))
    fs = to_floats(net.final_state(backend.ints(case["lengths"])))
    want = []
    for b in range(3):
        n = case["lengths"][b]
        m.forward(case["xs"][b][:n], [case["targets"][b]], last_only=True)
        want += m.final_state()
    assert max_rel(fs, want) <= TOL64


def test_saturated_and_huge_logits_stay_finite(backend):  # type: ignore[no-untyped-def]
    for head in ("softmax", "sigmoid"):
        m, rng = make_model(3, 4, 3, 5, head, seed=11)
        m.params[:] = [v * 1000.0 for v in m.params]  # tanh saturates, logits ~ +-1000
        case = make_batch(m, rng, B=2, n=5, dense=True, mode="many")
        loss, grads, _ = core_sum(m, case)
        net = BatchedRNN(m, backend.xp, device=backend.device)
        got = net.forward(**to_backend(backend, m, case))
        g = to_floats(net.backward())
        assert math.isfinite(got) and got > 100.0
        assert all(math.isfinite(v) for v in g)
        assert abs(got - loss) <= TOL64 * abs(loss)
        assert max_rel(g, grads) <= 1e-9  # saturated tanh: 1 - h*h is tiny, cancellation


def test_bad_batches_are_refused(backend):  # type: ignore[no-untyped-def]
    m, _ = make_model(4, 3, 2, 5, "softmax", seed=1)
    net = BatchedRNN(m, backend.xp, device=backend.device)
    ok_t = backend.ints([[0, 1]])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        net.forward(backend.ints([[0, 4]]), ok_t)
    with pytest.raises(ValueError, match="more than T=5"):
        net.forward(backend.ints([[0] * 6]), backend.ints([[0] * 6]))
    with pytest.raises(ValueError, match="X=4"):
        net.forward(backend.floats([[[0.0] * 3]]), backend.ints([[0]]))
    with pytest.raises(ValueError, match="class ids"):
        net.forward(backend.ints([[0, 1]]), backend.ints([[0, 2]]))
    with pytest.raises(ValueError, match="targets has shape"):
        net.forward(backend.ints([[0, 1]]), backend.ints([[0]]))
    with pytest.raises(ValueError, match="non-finite"):
        net.forward(backend.floats([[[0.0, math.nan, 0.0, 0.0]]]), backend.ints([[0]]))
    with pytest.raises(ValueError, match="lengths must lie"):
        net.forward(backend.ints([[0, 1]]), ok_t, lengths=backend.ints([3]))
    with pytest.raises(ValueError, match="weights has negative"):
        net.forward(backend.ints([[0, 1]]), ok_t, weights=backend.floats([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="h0 has shape"):
        net.forward(backend.ints([[0, 1]]), ok_t, h0=backend.floats([[0.0]]))
    with pytest.raises(ValueError, match="backward"):
        BatchedRNN(m, backend.xp, device=backend.device).backward()
    empty = backend.xp.zeros((0, 3), dtype=backend.xp.int64, device=backend.device)
    with pytest.raises(ValueError, match=r"empty batch: inputs has shape \(0, 3\)"):
        net.forward(empty, empty)
    empty = backend.xp.zeros((2, 0), dtype=backend.xp.int64, device=backend.device)
    with pytest.raises(ValueError, match="empty batch"):
        net.forward(empty, empty)
    with pytest.raises(ValueError, match="integer token ids"):
        net.forward(backend.floats([[0.0, 1.0]]), ok_t)


def test_device_mixing_is_refused():  # type: ignore[no-untyped-def]
    be = Backend("strict")
    m, _ = make_model(4, 3, 2, 5, "softmax", seed=1)
    net = BatchedRNN(m, be.xp, device=be.device)
    cpu = be.xp.asarray([[0, 1]])  # default device, not device1
    with pytest.raises(ValueError, match="device"):
        net.forward(cpu, be.ints([[0, 1]]))


# ------------------------------------------------------------ optimisers
@pytest.mark.parametrize("name,kw", [("sgd", {}), ("sgd", {"momentum": 0.9}), ("adagrad", {}), ("adam", {})])
def test_array_optimisers_match_core(backend, name, kw):  # type: ignore[no-untyped-def]
    rng = Rng(5)
    size = 40
    params = [rng.normal() for _ in range(size)]
    core = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}[name](size, 0.05, **kw)
    arr = make_array_optimizer(name, size, 0.05, backend.xp, backend.xp.float64, backend.device)
    arr.core.__dict__.update(kw)  # momentum
    p_core = list(params)
    p_arr = backend.floats(params)
    for _ in range(3):
        g = [rng.normal() for _ in range(size)]
        core.step(p_core, g)
        p_arr = arr.step(p_arr, backend.floats(g))
    assert max(abs(a - b) for a, b in zip(to_floats(p_arr), p_core)) <= 1e-15
    assert max(abs(a - b) for a, b in zip(to_floats(p_arr), params)) > 1e-3
    sd = arr.state_dict()  # the core's format: resumes in the core
    again = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}[name](size, 0.05)
    again.load_state_dict(sd)
    assert sd["t"] == 3 and sd["name"] == name
    for buf in core.buffers:
        assert max(abs(a - b) for a, b in zip(getattr(again, buf), getattr(core, buf))) <= 1e-15
    if kw or name != "sgd":  # plain SGD keeps no velocity
        assert max(abs(v) for buf in core.buffers for v in getattr(core, buf)) > 0.0


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # intended
def test_array_clipping_matches_core(backend):  # type: ignore[no-untyped-def]
    xp = backend.xp
    g = [3.0, -4.0, 12.0, 0.5]
    core = list(g)
    n_core = clip_global_norm(core, 5.0)
    clipped, n = array_clip_global_norm(xp, backend.floats(g), 5.0)
    assert n == pytest.approx(n_core, rel=1e-15) and n == pytest.approx(math.sqrt(9 + 16 + 144 + 0.25))
    assert max(abs(a - b) for a, b in zip(to_floats(clipped), core)) <= 1e-15
    assert to_floats(clip_elementwise(xp, backend.floats(g), 3.5)) == [3.0, -3.5, 3.5, 0.5]
    # huge but finite: the squares overflow, the norm must not
    _, n = array_clip_global_norm(xp, backend.floats([1e200, -1e200]), 1.0)
    assert n == pytest.approx(math.sqrt(2) * 1e200, rel=1e-12)
    # non-finite: reported, gradients left alone
    bad, n = array_clip_global_norm(xp, backend.floats([math.inf, 1.0]), 1.0)
    assert n == math.inf and to_floats(bad)[1] == 1.0


# --------------------------------------------------------------- trainer
def echo_data(be, N, n, seed):  # type: ignore[no-untyped-def]
    rng = Rng(seed)
    bits = [[float(rng.below(2)) for _ in range(n)] for _ in range(N)]
    xs = [[[b] for b in row] for row in bits]
    ys = [[[0.0]] + [[b] for b in row[:-1]] for row in bits]  # target x[t-1]
    return be.floats(xs), be.floats(ys), bits


def test_trainer_learns_echo_task(backend):  # type: ignore[no-untyped-def]
    m = RNN(1, 8, 1, 12, "sigmoid")
    init_params(m, 1)
    tr = Trainer(m, backend.xp, backend.device, optimizer="adam", lr=0.05, clip=5.0, batch_size=32, seed=2, input_kind="dense")
    xs, ys, _ = echo_data(backend, 128, 12, seed=3)
    hist = tr.fit(xs, ys, epochs=25)
    assert hist[-1] < 0.2 * hist[0]
    model = tr.checkpoint().model  # synced back to Python floats: check with the core
    fx, fy, bits = echo_data(backend, 20, 12, seed=99)
    right = total = 0
    for row in bits:
        s, z = m.new_state(), [0.0]
        for t, b in enumerate(row):
            model.step(s, [b], z)
            if t > 0:
                right += (z[0] > 0.0) == (row[t - 1] > 0.5)
                total += 1
    assert right / total > 0.95


@pytest.mark.parametrize("mode", ["one", "masked"])
def test_fit_one_full_batch_is_one_sgd_step_on_the_core_gradient(backend, mode):  # type: ignore[no-untyped-def]
    """fit() plumbing (shuffle, take, lengths, weights, h0, last_only): one batch of everything, SGD."""
    m, rng = make_model(5, 4, 3, 6, "softmax", seed=23)
    case = make_batch(m, rng, B=6, n=6, dense=False, mode=mode)
    _, grads, _ = core_sum(m, case)
    want = [p - 0.5 * g for p, g in zip(m.params, grads)]
    tr = Trainer(m, backend.xp, backend.device, optimizer="sgd", lr=0.5, batch_size=8, seed=3)
    args = to_backend(backend, m, case)
    args.pop("inputs"), args.pop("targets")
    tr.fit(to_backend(backend, m, case)["inputs"], to_backend(backend, m, case)["targets"], epochs=1, **args)
    got = tr.checkpoint().model.params
    assert max(abs(a - b) for a, b in zip(got, want)) <= 1e-12
    assert max(abs(g) for g in grads) > 1e-3
    args["h0"] = backend.floats([[0.0] * 4])
    with pytest.raises(ValueError, match=r"h0 has shape \(1, 4\), expected \(N, H\) = \(6, 4\)"):
        tr.fit(to_backend(backend, m, case)["inputs"], to_backend(backend, m, case)["targets"], **args)


def test_trainer_same_seed_same_result_on_every_backend(backend):  # type: ignore[no-untyped-def]
    def run(be):  # type: ignore[no-untyped-def]
        m, rng = make_model(6, 5, 6, 5, "softmax", seed=4)
        case = make_batch(m, rng, B=10, n=5, dense=False, mode="many")
        tr = Trainer(m, be.xp, be.device, optimizer="adagrad", lr=0.1, clip=1.0, batch_size=4, seed=8)
        tr.fit(be.ints(case["xs"]), be.ints(case["targets"]), epochs=2)
        return tr.checkpoint().model.params, tr.rng.state

    p, state = run(backend)
    ref, ref_state = run(Backend("numpy"))
    assert state == ref_state
    assert max(abs(a - b) for a, b in zip(p, ref)) <= 1e-12


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path, backend):  # type: ignore[no-untyped-def]
    m, rng = make_model(6, 5, 6, 5, "softmax", seed=9)
    case = make_batch(m, rng, B=12, n=5, dense=False, mode="many")
    xs, ys = backend.ints(case["xs"]), backend.ints(case["targets"])
    start = list(m.params)

    full = Trainer(m, backend.xp, backend.device, optimizer="adam", lr=0.01, batch_size=4, seed=1)
    full.fit(xs, ys, epochs=2)
    want = list(full.checkpoint().model.params)

    m.params[:] = start
    first = Trainer(m, backend.xp, backend.device, optimizer="adam", lr=0.01, batch_size=4, seed=1, vocab=None)
    first.fit(xs, ys, epochs=1)
    path = str(tmp_path / "ck.json")
    first.save(path)
    ck = load(path)  # the core's loader: same format
    assert ck.step == 3 and ck.optimizer is not None and ck.optimizer["name"] == "adam"
    resumed = Trainer.from_checkpoint(ck, backend.xp, backend.device)
    resumed.fit(xs, ys, epochs=1)
    got = resumed.checkpoint().model.params
    assert resumed.step_count == 6
    assert max(abs(a - b) for a, b in zip(got, want)) <= 1e-15


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # intended
def test_trainer_stops_before_a_non_finite_update(backend):  # type: ignore[no-untyped-def]
    m = RNN(2, 3, 1, 4, "mse")
    init_params(m, 1)
    tr = Trainer(m, backend.xp, backend.device, optimizer="sgd", lr=1.0, input_kind="dense")
    before = to_floats(tr.net.params)
    xs = backend.floats([[[1e300, 1e300]] * 4])
    ys = backend.floats([[[1e300]] * 4])
    with pytest.raises(ValueError, match="stopping before the update"):
        tr.train_step(xs, ys)
    assert to_floats(tr.net.params) == before
    assert tr.step_count == 0


# ------------------------------------------------------------ conversion
def test_model_array_round_trip(backend):  # type: ignore[no-untyped-def]
    m, _ = make_model(3, 4, 2, 5, "mse", seed=12)
    arrs = to_arrays(m, backend.lib, device=backend.device)
    assert tuple(arrs["Wxh"].shape) == (4, 3) and tuple(arrs["by"].shape) == (2,)
    assert to_floats(arrs["Whh"]) == [v for row in m.get("Whh") for v in row]
    m2 = RNN(3, 4, 2, 5, "mse")
    from_arrays(m2, arrs)
    assert m2.params == m.params
    flat = params_to_array(m, backend.lib, device=backend.device)
    m3 = RNN(3, 4, 2, 5, "mse")
    params_from_array(m3, flat)
    assert m3.params == m.params
    bad = dict(arrs)
    bad["Whh"] = backend.floats([[0.0] * 3] * 4)
    with pytest.raises(ValueError, match=r"Whh has shape \(4, 3\), expected \(4, 4\)"):
        from_arrays(m2, bad)
    bad["Whh"] = backend.floats([[math.inf] * 4] * 4)
    with pytest.raises(ValueError, match="Whh.*not finite"):
        from_arrays(m2, bad)
    assert m2.params == m.params  # unchanged on failure
