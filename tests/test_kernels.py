"""The kernel layer and what the model builds on it: kept views, sparse updates.

- ``RNN.step`` keeps its matrix handles between calls; every way of changing
  the parameters in between (``set``, an optimiser step, a direct write into
  ``params``, ``init_params``) must show in the next step. After
  ``freeze()`` the step stops checking, gives the same numbers, and
  ``forward``/``set``/``freeze`` end or renew the promise.
- ``grad_ranges`` lets SGD (no momentum), Adagrad and ``clip_elementwise``
  skip the Wxh columns of tokens a chunk never saw: the result must be
  bit-for-bit the full update's.
- each primitive against a plain-Python definition.
"""

import json
import math
import random

import pytest

from tinyrnn import RNN, SGD, Adagrad, Adam, clip_elementwise, init_params
from tinyrnn.core import kernels as k


def _stepped(m, tokens):
    s, z, out = m.new_state(), [0.0] * m.Y, []
    for t in tokens:
        m.step(s, t, z)
        out.append(list(z))
    return s, out


def _fresh_copy(m):
    c = RNN(m.X, m.H, m.Y, m.T, m.head, cell=m.cell, layers=m.layers)
    c.params[:] = m.params
    return c


@pytest.mark.parametrize("change", ["set", "optimizer", "direct", "init", "dense-direct"])
def test_step_sees_parameters_changed_between_calls(change):
    m = RNN(7, 5, 4, 6, "softmax")
    init_params(m, 3)
    dense = change.startswith("dense")
    xs = [[0.1 * (i + j) for j in range(7)] for i in range(3)] if dense else [1, 4, 2]
    s, z = m.new_state(), [0.0] * 4
    m.step(s, xs[0], z)  # builds and keeps the handles
    old = _fresh_copy(m)
    if change == "set":
        m.set("Why", [[0.5 * (i - j) for j in range(5)] for i in range(4)])
        m.set("bh", [0.25] * 5)
    elif change == "optimizer":
        m.forward([1, 2, 3], [0, 1, 2])
        m.backward()
        SGD(m.num_params, 0.5).step(m.params, m.grads)
    elif change == "direct":
        m.params[m.layout.Whh + 3] += 0.75
        m.params[m.layout.by] = -2.0
    elif change == "init":
        init_params(m, 99)
    else:
        m.params[m.layout.Wxh + 2] = 3.0
    after = list(s)
    m.step(after, xs[1], z)
    ref = _fresh_copy(m)  # a model that never stepped: no kept handles
    s2, z2 = list(s), [0.0] * 4
    ref.step(s2, xs[1], z2)
    assert after == s2 and z == z2
    # and the change mattered: the old parameters give another answer
    s3, z3 = list(s), [0.0] * 4
    old.step(s3, xs[1], z3)
    assert z3 != z


def test_step_with_kept_views_equals_forward_after_a_change():
    m = RNN(5, 4, 3, 8, "mse")
    init_params(m, 1)
    xs = [0, 3, 1, 4, 2]
    _stepped(m, xs)
    m.set("Whh", [[0.3 if i == j else -0.1 for j in range(4)] for i in range(4)])
    s, _ = _stepped(m, xs)
    m.forward(xs, [[0.0] * 3] * 5)
    assert s == m.final_state()


@pytest.mark.parametrize("cell, layers, dense", [("rnn", 1, False), ("rnn", 1, True), ("gru", 1, False), ("lstm", 2, True)])
def test_frozen_step_equals_the_checked_step(cell, layers, dense):
    m = RNN(6, 5, 4, 8, "softmax", cell=cell, layers=layers)
    init_params(m, 4)
    f = _fresh_copy(m)
    f.freeze()
    assert f.frozen and not m.frozen
    xs = [[0.2 * i - 0.1 * j for j in range(6)] for i in range(7)] if dense else [1, 5, 0, 3, 3, 2, 4]
    assert _stepped(f, xs) == _stepped(m, xs)


@pytest.mark.parametrize("change", ["forward", "set", "freeze(False)", "freeze()"])
def test_a_frozen_step_sees_the_parameters_after_what_ends_the_promise(change):
    m = RNN(7, 5, 4, 6, "softmax")
    init_params(m, 3)
    m.freeze()
    xs = [1, 4, 2]
    _stepped(m, xs)  # builds the frozen handles
    if change == "forward":  # then an optimiser step: training ends the freeze
        m.forward([1, 2, 3], [0, 1, 2])
        m.backward()
        SGD(m.num_params, 0.5).step(m.params, m.grads)
    elif change == "set":
        m.set("Why", [[0.5 * (i - j) for j in range(5)] for i in range(4)])
    else:  # a direct write, then the promise renewed or dropped
        m.params[m.layout.Why + 3] += 0.75
        m.freeze(change == "freeze()")
    assert m.frozen == (change == "freeze()")
    assert _stepped(m, xs) == _stepped(_fresh_copy(m), xs)


def test_a_frozen_step_does_not_check_the_parameters():
    # the promise is what makes it cheap: a direct write to the output layer is
    # not seen until freeze() is called again (documented on RNN.freeze)
    m = RNN(7, 5, 4, 6, "softmax")
    init_params(m, 3)
    m.freeze()
    before = _stepped(m, [1, 4, 2])
    m.params[m.layout.by] += 1.0
    assert _stepped(m, [1, 4, 2]) == before
    m.freeze()
    assert abs(_stepped(m, [1, 4, 2])[1][0][0] - (before[1][0][0] + 1.0)) < 1e-12


def _train_chunk(m, xs, ys, opt, ranges, clip):
    m.forward(xs, ys)
    m.backward()
    r = m.grad_ranges() if ranges else None
    clip_elementwise(m.grads, clip, r)
    opt.step(m.params, m.grads, r)


@pytest.mark.parametrize("make_opt", [lambda n: Adagrad(n, 0.1), lambda n: SGD(n, 0.3)])
def test_sparse_updates_are_bit_for_bit_the_full_ones(make_opt):
    rng = random.Random(5)
    V, H = 20, 6
    models, opts = [], []
    for _ in range(2):
        m = RNN(V, H, V, 10, "softmax")
        init_params(m, 7, "uniform", 2.0)  # large weights: clipping bites
        models.append(m)
        opts.append(make_opt(m.num_params))
    for it in range(12):
        xs = [rng.randrange(6) for _ in range(10)]  # only 6 of 20 tokens: 14 columns stay zero
        ys = [rng.randrange(V) for _ in range(10)]
        _train_chunk(models[0], xs, ys, opts[0], False, 0.05)
        _train_chunk(models[1], xs, ys, opts[1], True, 0.05)
        assert models[0].params == models[1].params, it
        assert [list(getattr(opts[0], b)) for b in opts[0].buffers] == [list(getattr(opts[1], b)) for b in opts[1].buffers]
    assert max(map(abs, models[0].grads)) == 0.05  # the clip was active
    L = models[1].layout
    assert models[1].grad_ranges() == [(L.Wxh + j, L.Whh, V) for j in sorted(set(xs))] + [(L.Whh, L.size, 1)]


def test_momentum_and_adam_ignore_ranges_because_their_state_moves():
    m = RNN(6, 3, 6, 4, "softmax")
    init_params(m, 2)
    m.forward([5, 1], [1, 2])  # token 5 seen: its column gets momentum
    m.backward()
    g1 = list(m.grads)
    m.forward([0, 1], [1, 2])  # token 5 not seen: zero gradient in its column
    m.backward()
    col5 = [m.layout.Wxh + i * 6 + 5 for i in range(3)]
    assert [m.grads[j] for j in col5] == [0.0] * 3
    for opt_cls in (Adam, lambda n: SGD(n, 0.1, 0.9)):
        a, b = opt_cls(m.num_params), opt_cls(m.num_params)
        pa, pb = list(m.params), list(m.params)
        a.step(pa, g1)
        b.step(pb, g1)
        before = [pb[j] for j in col5]
        a.step(pa, m.grads)
        b.step(pb, m.grads, m.grad_ranges())
        assert pa == pb
        assert [pb[j] for j in col5] != before  # moved with a zero gradient


def test_optimizer_rejects_buffers_of_another_size():
    opt = Adagrad(10, 0.1)
    with pytest.raises(ValueError, match="optimiser was made for 10 parameters, got params of 9 and grads of 10"):
        opt.step([0.0] * 9, [0.0] * 10)
    assert opt.t == 0


def test_training_buffers_appear_on_first_use():
    m = RNN(4, 3, 2, 5, "mse")
    assert "grads" not in m.__dict__ and "h" not in m.__dict__  # inference holds the parameters only
    assert list(m.grads) == [0.0] * m.num_params  # reading one allocates them all
    assert len(m.h) == 6 * 3 and len(m.dh_raw) == 5 * 3 and len(m.dh0) == 3
    with pytest.raises(AttributeError):
        m.no_such_thing  # noqa: B018


def test_primitives_against_plain_python():
    rng = random.Random(1)
    R, C, n = 4, 3, 5
    P = [rng.uniform(-1, 1) for _ in range(40)]
    v = [rng.uniform(-1, 1) for _ in range(10)]
    off, boff = 2, 30
    out = k.zeros(R + 1)
    k.mv(k.rows(P, off, R, C, boff), v, 1, out, 1, math.tanh, v, 0, 2)
    want = [math.tanh(sum(P[off + i * C + j] * v[1 + j] for j in range(C)) + P[boff + i] + v[2 * i]) for i in range(R)]
    assert out[0] == 0.0 and max(abs(a - b) for a, b in zip(out[1:], want)) < 1e-15
    out2 = [0.0] * C
    k.mtv(k.cols(P, off, R, C), v, 2, out2, 0, v, 5)
    want2 = [sum(P[off + i * C + j] * v[2 + i] for i in range(R)) + v[5 + j] for j in range(C)]
    assert max(abs(a - b) for a, b in zip(out2, want2)) < 1e-15
    a = [rng.uniform(-1, 1) for _ in range(n * R)]
    b = [rng.uniform(-1, 1) for _ in range(n * C + 2)]
    G = [9.0] * 20
    k.outer_time(G, 3, R, C, a, 0, R, b, 2, C, n)
    want3 = [sum(a[t * R + i] * b[2 + t * C + j] for t in range(n)) for i in range(R) for j in range(C)]
    assert G[:3] == [9.0] * 3 and max(abs(x - y) for x, y in zip(G[3 : 3 + R * C], want3)) < 1e-15
    k.sum_time(G, 0, R, a, 0, R, n)
    assert max(abs(G[i] - sum(a[t * R + i] for t in range(n))) for i in range(R)) < 1e-15
    g = [1.0, -7.0, 0.5, 8.0, -0.25]
    k.clamp(g, 1, 5, 2, 2.0)  # only indices 1 and 3
    assert g == [1.0, -2.0, 0.5, 2.0, -0.25]
    col = [0.0] * (R + 1)
    k.gather(P, off + 1, C, col, 1, R, v, 3)  # column 1 of W, plus v[3:]
    assert col == [0.0] + [P[off + i * C + 1] + v[3 + i] for i in range(R)]
    assert k.sigmoid(-800.0) == 0.0 and k.sigmoid(800.0) == 1.0 and k.sigmoid(0.0) == 0.5
    assert abs(k.sigmoid(-3.5) - 1.0 / (1.0 + math.exp(3.5))) < 1e-16
    p = [0.0] * 3
    lse = k.softmax([1000.0, 0.0, -1000.0], 0, 3, p, 0)
    assert lse == 1000.0 and p[0] == 1.0 and p[2] == 0.0


# Every primitive on fixed inputs, on CPython and on MicroPython: what a new
# cell (GRU, LSTM, stacked layers) built on the kernel layer inherits.
PRIMITIVES = r"""
import json, math
from tinyrnn.core import kernels as k

def vec(n, a, b):
    v = k.zeros(n)
    for i in range(n):
        v[i] = math.sin(a * i + b)
    return v

R, C, n = 5, 4, 6
P = vec(60, 0.7, 0.1)
v = vec(12, 1.3, 0.2)
out = {}
o = k.zeros(R + 2)
k.mv(k.rows(P, 3, R, C, 40), v, 2, o, 1, math.tanh, P, 50, 2)
out["mv_tanh_add"] = o
o = k.zeros(R)
k.mv(k.rows(P, 0, R, C), v, 0, o, 0)
out["mv_plain"] = o
o = k.zeros(C)
k.mtv(k.cols(P, 7, R, C), v, 1, o, 0, v, 3)
out["mtv_add"] = o
a, b = vec(n * R, 0.3, 0.5), vec(n * C + 3, 0.9, -0.4)
G = vec(R * C + 4, 0.0, 1.0)
k.outer_time(G, 2, R, C, a, 0, R, b, 3, C, n)
out["outer_time"] = G
G = k.zeros(R)
k.sum_time(G, 0, R, a, 0, R, n)
out["sum_time"] = G
G = vec(R * C, 0.2, 0.0)
k.add_col(G, 0, R, C, 2, v, 1)
out["add_col"] = G
o = k.zeros(R + 1)
k.gather(P, 3, C, o, 1, R, v, 2)
out["gather_add"] = o
o = k.zeros(R)
k.gather(P, 5, C, o, 0, R)
out["gather"] = o
out["sigmoid"] = [k.sigmoid(x) for x in (-800.0, -3.5, -1e-300, 0.0, 0.25, 40.0, 800.0)]
for name in ("dtanh", "dsigmoid", "sub", "vadd", "vmul"):
    o = k.zeros(7)
    getattr(k, name)(a, 1, b, 2, o, 1, 6)
    out[name] = o
p = k.zeros(C)
lse = k.softmax(v, 2, C, p, 0)
out["softmax"] = list(p) + [lse]
o = k.zeros(5)
k.amap(math.exp, v, 1, o, 0, 5)
out["amap"] = o
out["amap2"] = k.amap2(math.atan2, v, 0, a, 2, 5)
g = vec(20, 2.1, 0.0)
for j in range(20):
    g[j] = 3.0 * g[j]
out["sumsq"] = [k.sumsq(g, 2, 17), k.maxabs(g, 0, 20)]
k.scale(g, 1, 4, 0.5)
k.clamp(g, 3, 20, 2, 1.5)
out["scale_clamp"] = g
W, Gr, M1, M2 = vec(10, 0.4, 0.3), vec(10, 1.7, 0.9), vec(10, 0.0, 0.0), vec(10, 0.0, 0.0)
for j in range(10):
    M2[j] = M2[j] * M2[j]
k.sgd(W, Gr, 0.1, 0, 10, 3)
k.sgd_momentum(W, Gr, M1, 0.1, 0.9, 2, 9)
k.adagrad(W, Gr, M2, 0.2, 1e-8, 1, 10, 2)
k.adam(W, Gr, M1, M2, 0.9, 0.999, 0.01, 1.5, 1e-8, 0, 10)
out["optimisers"] = list(W) + list(M1) + list(M2)
print(json.dumps(dict((key, [repr(x) for x in val]) for key, val in out.items())))
"""


def _on_both(script, capsys):
    """The JSON a script prints on CPython (this process) and under MicroPython."""
    from test_micropython import run_micropython

    exec(compile(script, "script", "exec"), {"__name__": "script"})
    cp = json.loads(capsys.readouterr().out)
    proc = run_micropython(script)
    assert proc.returncode == 0, proc.stderr
    return cp, json.loads(proc.stdout)


def _agree(cp, mp):
    """Every list of numbers the same on both interpreters to 1e-12 (relative above 1)."""
    for key in cp:
        a, b = [float(x) for x in cp[key]], [float(x) for x in mp[key]]
        assert len(a) == len(b), key
        assert all(abs(x - y) <= 1e-12 * max(1.0, abs(x)) for x, y in zip(a, b)), (key, a, b)


def test_every_primitive_agrees_between_cpython_and_micropython(capsys):
    cp, mp = _on_both(PRIMITIVES, capsys)
    assert sorted(cp) == sorted(mp) and len(cp) == 20
    _agree(cp, mp)
    for key in cp:
        assert any(float(x) != 0.0 for x in cp[key]), key  # the case computed something


# The tanh recurrence of a chunk (steps, dsteps) and outer_time's bias sums:
# on CPython small H runs code compiled for its size (core/unrolled.py), so
# each is checked bit for bit against the per-step kernels it replaces.
def _recurrence_case(H, X=7, n=6, seed=3):
    rng = random.Random(seed + H)
    P = [rng.uniform(-0.9, 0.9) for _ in range(H * X + H * H + H)]
    Whh, bh = H * X, H * X + H * H
    ids = [rng.randrange(X) for _ in range(n)]
    h0 = [rng.uniform(-1, 1) for _ in range(H)]
    dh = [rng.uniform(-2, 2) for _ in range(n * H)]
    return P, Whh, bh, ids, h0, dh


@pytest.mark.parametrize("H", [1, 2, 8, 11, 12, 13, 21])
def test_steps_equal_a_loop_of_mv_bit_for_bit(H):
    P, Whh, bh, ids, h0, _ = _recurrence_case(H)
    n, X = len(ids), 7
    M = k.rows(P, Whh, H, H, bh)
    want = h0 + [0.0] * (n * H)
    for t in range(n):
        k.mv(M, want, t * H, want, (t + 1) * H, math.tanh, P, ids[t], X)
    got = h0 + [0.0] * (n * H)
    k.steps(M, H, got, n, P, 0, X, ids)
    assert got == want and got[:H] == h0 and len(set(got[H:])) == n * H


@pytest.mark.parametrize("H", [1, 2, 8, 11, 12, 13, 21])
@pytest.mark.parametrize("alias", [False, True])  # dh and dr one buffer, as the one-layer model runs it
def test_dsteps_equal_the_per_step_loop_bit_for_bit(H, alias):
    P, Whh, _, _, h0, dh0 = _recurrence_case(H)
    n = len(dh0) // H
    rng = random.Random(H)
    h = h0 + [rng.uniform(-0.99, 0.99) for _ in range(n * H)]
    MT = k.cols(P, Whh, H, H)
    dh, dr, dnext = dh0[:], [0.0] * (n * H), [0.0] * H
    for t in range(n - 1, 0, -1):
        lo = t * H
        k.dtanh(h, lo + H, dh, lo, dr, lo, H)
        k.mtv(MT, dr, lo, dh, lo - H, dh, lo - H)
    k.dtanh(h, H, dh, 0, dr, 0, H)
    k.mtv(MT, dr, 0, dnext, 0)
    dh2 = dh0[:]
    dr2, dnext2 = (dh2 if alias else [0.0] * (n * H)), [0.0] * H
    k.dsteps(MT, H, h, dh2, dr2, n, dnext2)
    assert dr2 == dr and dnext2 == dnext and all(v != 0.0 for v in dnext)
    if not alias:
        assert dh2 == dh


def test_outer_time_bias_sums_equal_sum_time():
    rng = random.Random(5)
    R, C, n = 6, 3, 9
    a = [rng.uniform(-1, 1) for _ in range(n * R)]
    b = [rng.uniform(-1, 1) for _ in range(n * C)]
    G, G2 = [0.5] * 30, [0.5] * 30
    k.outer_time(G, 0, R, C, a, 0, R, b, 0, C, n, 20)
    k.outer_time(G2, 0, R, C, a, 0, R, b, 0, C, n)
    k.sum_time(G2, 20, R, a, 0, R, n)
    assert G == G2 and G[18:20] == [0.5, 0.5] and G[26:] == [0.5] * 4


RECURRENCE = r"""
import json, math
from tinyrnn.core import kernels as k

def vec(n, a, b):
    v = k.zeros(n)
    for i in range(n):
        v[i] = 0.9 * math.sin(a * i + b)
    return v

out = {}
for H in (3, 8, 16):
    X, n = 5, 7
    P = vec(H * X + H * H + H, 0.7, 0.1)
    ids = [(3 * t + 1) % X for t in range(n)]
    h = k.zeros((n + 1) * H)
    k.put(h, 0, vec(H, 1.1, 0.3))
    k.steps(k.rows(P, H * X, H, H, H * X + H * H), H, h, n, P, 0, X, ids)
    dh, dr, dnext = vec(n * H, 0.5, 0.2), k.zeros(n * H), k.zeros(H)
    k.dsteps(k.cols(P, H * X, H, H), H, h, dh, dr, n, dnext)
    G = k.zeros(H * H + H)
    k.outer_time(G, 0, H, H, dr, 0, H, h, 0, H, n, H * H)
    out[str(H)] = list(h) + list(dh) + list(dr) + list(dnext) + list(G)
print(json.dumps(dict((key, [repr(x) for x in val]) for key, val in out.items())))
"""


def test_recurrences_agree_between_cpython_and_micropython(capsys):
    cp, mp = _on_both(RECURRENCE, capsys)
    assert sorted(cp) == sorted(mp) == ["16", "3", "8"]
    _agree(cp, mp)
