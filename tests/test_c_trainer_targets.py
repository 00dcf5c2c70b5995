"""The generated C trainer computes what tinyrnn computes, on every target.

Six models (each head x token / dense input, X, H, Y random in small ranges,
T = 8, weights uniform +-0.5; small enough that
each trainer fits the ATmega328P's 2 KB on the stack), trained by the generated header on host gcc,
host clang, Cortex-M4F and Cortex-M3 (QEMU) and ATmega328P (simavr), against
float64 Python with the same float32 weights and inputs:

- step 1 gradients: every element within the a-priori float32 rounding bound
  of ``c_train_targets.grad_error_bounds`` (first order in u = 2^-24,
  Higham-style sums, 8 ulps for the libm), and every group within the
  normwise relative tolerance gamma_m = m u / (1 - m u), m = n (X + H + Y + 2):
  the number of float32 operations along the longest chain of sums that
  feeds a gradient (n steps, each a sum over X + H + 1 terms forward and
  Y + 1 and H terms backward);
- the loss of step 1 within its bound;
- 100 SGD steps (global-norm clip at 1, lr 0.05, 4 sequences cycled): every
  step's loss within LOSS_TRAJ_TOL relative (|dL| <= tol * max(1, |L|));
- the instrument panel (mean |h|, saturation, ||dh||, ||dh_raw||, gradient
  norm, update ratio) within PANEL_TOL relative of tinyrnn.core.diagnostics.
"""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402
import c_train_targets as ctt  # noqa: E402

from tinyrnn import RNN, Rng, init_params  # noqa: E402

LOSS_TRAJ_TOL = 1e-4
PANEL_TOL = 1e-5
STEPS = 100
_cache = {}  # type: dict


def make_cases():
    if "cases" in _cache:
        return _cache["cases"]
    rng = Rng(5)
    cases = []
    for head in ("softmax", "sigmoid", "mse"):
        for dense in (False, True):
            X, H, Y, T = 2 + rng.below(3), 3 + rng.below(4), 2 + rng.below(2), 8
            m = RNN(X, H, Y, T, head)
            init_params(m, rng.next_u64(), "uniform", 0.5)
            for g in ("bh", "by"):  # nonzero biases, so their paths are exercised
                off = m.layout.groups[g][0]
                for k in range(off, off + m.layout.group_size(g)):
                    m.params[k] = rng.uniform(-0.3, 0.3)
            seqs = []
            for _ in range(4):
                xs = [[rng.uniform(-1, 1) for _ in range(X)] for _ in range(T)] if dense else [rng.below(X) for _ in range(T)]
                if head == "softmax":
                    ys = [rng.below(Y) for _ in range(T)]  # type: list
                elif head == "sigmoid":
                    ys = [[float(rng.below(2)) for _ in range(Y)] for _ in range(T)]
                else:
                    ys = [[rng.uniform(-1, 1) for _ in range(Y)] for _ in range(T)]
                seqs.append((xs, ys))
            cases.append(ctt.TrainCase(m, "tc%d" % len(cases), dense, seqs, STEPS, 0.05, 1.0))
    _cache["cases"] = cases
    return cases


def results(target, tmp_path_factory):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    if target in _cache:
        return _cache[target]
    cases = make_cases()
    groups = [cases[0::2], cases[1::2]] if target == "avr" else [cases]  # 32 KB of flash
    base = tmp_path_factory.mktemp("ctrain-" + target)
    t0 = time.time()

    def go(k):
        exe = ctt.build(target, str(base / ("fw%d" % k)), groups[k])
        return groups[k], ctt.parse(ct.run(target, exe, timeout=180), groups[k])

    out = {}
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        for group, parsed in pool.map(go, range(len(groups))):
            for c, r in zip(group, parsed):
                out[c.name] = (c, r, ctt.reference(c))
    print("\n%s: %d trainers, %.1f s" % (target, len(out), time.time() - t0))
    _cache[target] = out
    return out


def gamma(m):
    return m * ctt.U / (1.0 - m * ctt.U)


@pytest.mark.parametrize("target", ct.TARGETS)
def test_gradients_within_float32_bounds(target, tmp_path_factory):
    worst_bound = worst_rel = worst_abs_rel = 0.0
    for c, got, want in results(target, tmp_path_factory).values():
        m = c.model
        loss_bound, bounds = ctt.grad_error_bounds(c)
        assert abs(got["loss0"] - want["loss0"]) <= loss_bound, (c.name, got["loss0"], want["loss0"])
        for k, (a, b, bd) in enumerate(zip(got["grads"], want["grads"], bounds)):
            assert abs(a - b) <= bd, "%s (%s) grad[%d]: C %r, Python %r, |d| %.3g > bound %.3g" % (c.name, m.head, k, a, b, abs(a - b), bd)
            worst_bound = max(worst_bound, abs(a - b) / bd if bd > 0 else 0.0)
        tol = gamma(c.n * (m.X + m.H + m.Y + 2))
        for g, (off, rows, cols) in m.layout.groups.items():
            size = rows * cols if cols else rows
            d = sum((got["grads"][k] - want["grads"][k]) ** 2 for k in range(off, off + size)) ** 0.5
            w = sum(want["grads"][k] ** 2 for k in range(off, off + size)) ** 0.5
            rel = d / w if w > 0 else d
            worst_rel = max(worst_rel, rel / tol)
            worst_abs_rel = max(worst_abs_rel, rel)
            assert rel <= tol, "%s (%s %s) %s: normwise relative error %.3g > %.3g" % (
                c.name, m.head, "dense" if c.dense else "token", g, rel, tol)
    print("\n%s: worst |d|/a-priori bound %.3f, worst group error %.2e = %.3f gamma_m" % (target, worst_bound, worst_abs_rel, worst_rel))


@pytest.mark.parametrize("target", ct.TARGETS)
def test_loss_trajectory_100_sgd_steps(target, tmp_path_factory):
    worst = 0.0
    learned = 0
    for c, got, want in results(target, tmp_path_factory).values():
        assert len(got["losses"]) == STEPS
        for s, (a, b) in enumerate(zip(got["losses"], want["losses"])):
            d = abs(a - b) / max(1.0, abs(b))
            worst = max(worst, d)
            assert d <= LOSS_TRAJ_TOL, "%s step %d: C loss %r, Python %r" % (c.name, s, a, b)
        learned += want["losses"][-1] < want["losses"][0]
    assert learned >= 4  # the trajectories compared are real training runs
    print("\n%s: 100 SGD steps, worst |dL|/max(1,|L|) %.2e" % (target, worst))


@pytest.mark.parametrize("target", ct.TARGETS)
def test_instrument_panel(target, tmp_path_factory):
    for c, got, want in results(target, tmp_path_factory).values():
        assert got["panel_loss"] == got["loss0"]
        for k in ctt.PANEL:
            a, b = got["panel"][k], want["panel"][k]
            assert abs(a - b) <= PANEL_TOL * max(1.0, abs(b)), (c.name, k, a, b)
        a, b = got["update_ratio"], want["update_ratio"]
        assert b > 0 and abs(a - b) <= PANEL_TOL * b, (c.name, "update_ratio", a, b)
