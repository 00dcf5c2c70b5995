"""The core's memory savings change no number and no API.

- ``import tinyrnn`` loads the model only; every other public name is
  imported on first use and is the same object as in its module;
- the one-layer tanh model allocates ``dh`` on its first read: read after
  backward() it holds exactly what a model that kept it from the start
  computed, and from then on every backward() fills it;
- mse's ``p`` is ``z``; sigmoid and mse load their targets into ``dz``'s
  buffer, so backward() is computed once per forward (twice gives the same);
- token ids and class ids are allocated only when used.
"""

import subprocess
import sys

import pytest

import tinyrnn
from support import ROOT
from tinyrnn import RNN, Adam, Rng, init_params
from tinyrnn.core import diagnostics as diagnostics_module
from tinyrnn.core import optim


def _model(head, seed=1, X=3, H=5, Y=2, T=7):
    m = RNN(X, H, Y, T, head)
    init_params(m, seed, "uniform", 0.8)
    return m


def _dense(seed, n=6, X=3, Y=2, head="mse"):
    r = Rng(seed)
    xs = [[r.uniform(-1.0, 1.0) for _ in range(X)] for _ in range(n)]
    if head == "softmax":
        return xs, [r.below(Y) for _ in range(n)]
    return xs, [[r.uniform(0.0, 1.0) for _ in range(Y)] for _ in range(n)]


def test_import_loads_the_model_only_and_names_resolve_on_use():
    code = (
        "import sys, tinyrnn\n"
        "core = sorted(m for m in sys.modules if m.startswith('tinyrnn.core.'))\n"
        "from tinyrnn import *\n"
        "after = sorted(m for m in sys.modules if m.startswith('tinyrnn.core.'))\n"
        "print(core)\nprint(after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    # unrolled: the kernel layer's CPython dot products and recurrences (MicroPython never imports it)
    assert out[0] == "['tinyrnn.core.heads', 'tinyrnn.core.kernels', 'tinyrnn.core.model', 'tinyrnn.core.unrolled']"
    assert "tinyrnn.core.optim" in out[1] and "tinyrnn.core.gradcheck" in out[1] and "tinyrnn.core.diagnostics" in out[1]


def test_lazy_names_are_the_module_objects():
    assert tinyrnn.Adam is optim.Adam and tinyrnn.clip_global_norm is optim.clip_global_norm
    assert tinyrnn.diagnostics is diagnostics_module.diagnostics
    for name in tinyrnn.__all__:
        assert getattr(tinyrnn, name) is not None
    with pytest.raises(AttributeError):
        tinyrnn.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        from tinyrnn import no_such_name  # noqa: F401


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("dense", [False, True])
def test_dh_read_after_backward_equals_dh_kept_from_the_start(head, dense):
    lazy, kept = _model(head), _model(head)
    assert len(kept.dh) == 7 * 5  # read before any pass: allocated, zeros, filled by every backward from now on
    if dense:
        xs, ys = _dense(2, head=head)
    else:
        r = Rng(2)
        xs = [r.below(3) for _ in range(6)]
        ys = [r.below(2) for _ in range(6)] if head == "softmax" else [[r.uniform(0.0, 1.0), r.uniform(0.0, 1.0)] for _ in range(6)]
    for m in (lazy, kept):
        m.forward(xs, ys)
        m.backward()
    assert "dh" not in lazy.__dict__  # backward kept dL/dh in dh_raw's slot
    assert list(lazy.dh) == list(kept.dh) and max(map(abs, kept.dh)) > 1e-3  # the recurrence rerun: the same doubles
    assert list(lazy.dh_raw) == list(kept.dh_raw) and list(lazy.grads) == list(kept.grads) and list(lazy.dh0) == list(kept.dh0)
    # from now on backward fills it directly
    xs2, ys2 = xs[:4], ys[:4]
    for m in (lazy, kept):
        m.forward(xs2, ys2)
        m.backward()
    assert list(lazy.dh) == list(kept.dh)


def test_dh_of_a_forward_without_backward_is_not_computed():
    m = _model("mse")
    xs, ys = _dense(3)
    m.forward(xs, ys)
    assert list(m.dh) == [0.0] * (7 * 5)  # no backward yet: nothing to rerun


@pytest.mark.parametrize("head", ["sigmoid", "mse"])
def test_targets_live_in_dz_and_backward_twice_is_the_same(head):
    m = _model(head)
    xs, ys = _dense(4, head=head)
    m.forward(xs, ys, weights=[0.5, 1.0, 0.0, 2.0, 1.0, 1.0])
    assert m.targets is m.dz and list(m.dz[0:2]) == ys[0]  # loaded, not yet turned into dL/dz
    m.backward()
    dz, grads = list(m.dz), list(m.grads)
    assert dz[0] == pytest.approx(0.5 * (m.p[0] - ys[0][0]), rel=1e-15)
    m.backward()
    assert list(m.dz) == dz and list(m.grads) == grads
    m.forward(xs, ys)  # a new pass reloads the targets
    assert list(m.dz[2:4]) == ys[1]


def test_mse_p_is_z_and_unused_id_buffers_stay_empty():
    m = _model("mse")
    xs, ys = _dense(5)
    m.forward(xs, ys)
    assert m.p is m.z
    assert m.tokens == [] and m.ids == []  # dense input, real targets
    s = _model("softmax")
    s.forward([0, 1, 2], [1, 0, 1])
    assert s.p is not s.z and len(s.ids) == 7 and len(s.tokens) == 7 and len(s.targets) == 0


def test_adam_training_unchanged_by_the_shared_buffers():
    # the sensor workload of tests/test_micropython_memory.py on CPython: the loss falls as before
    m = RNN(3, 16, 4, 50, "mse")
    init_params(m, 1)
    opt = Adam(m.num_params, 0.01)
    r = Rng(2)
    xs = [[r.uniform(-1.0, 1.0) for _ in range(3)] for _ in range(50)]
    ys = [[0.5 * x[0] - x[1] * x[2], x[0], -x[1], x[2] * x[2]] for x in xs]
    losses = []
    for _ in range(20):
        losses.append(m.forward(xs, ys))
        m.backward()
        tinyrnn.clip_global_norm(m.grads, 1.0)
        opt.step(m.params, m.grads)
    assert losses[9] == pytest.approx(8.189474596601775, rel=1e-12)  # what MicroPython printed after 10 iterations
    assert losses[-1] < 0.25 * losses[0]
