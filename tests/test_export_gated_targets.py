"""The exported GRU, LSTM and stacked layers agree with Python on the host, Cortex-M4F, Cortex-M3 and ATmega328P.

Like tests/test_export_targets.py for the vanilla cell, with the models of
tests/gated_cases.py (every cell at 1, 2 and 3 layers, each head, dense and
token input, weights uniform in [-1, 1]); every firmware is built with the
strict warning set (c_targets.WARN, -Werror) and run once per session:

- one-step: the whole C state (every layer's h, and c) is set to a given
  state before every step; logits within 1e-5 absolute (1e-5 relative where
  |z| > 1) of float64 Python with the float32 weights;
- free-running: 10,000 steps from the zero state of a GRU and a 2-layer LSTM
  trained on text by PyTorch, an LSTM trained by tinyrnn, and random
  contractive models, within 1e-4 at every step
  (ATmega328P: 1,000 steps -- the 10,000-step run of these models under simavr
  takes minutes, which CI runs on three interpreters; run it with
  TINYRNN_AVR_FREE_STEPS=10000, docs/export.md has the numbers);
- out-of-range tokens: NAME_step_token returns -1 and leaves every layer's
  state alone.
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_cases as ec  # noqa: E402
import gated_cases as gcs  # noqa: E402
from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402

ONE_STEP_TOL = 1e-5
FREE_TOL = 1e-4
AVR_FLASH_BIN = 27000
AVR_FREE_STEPS = int(os.environ.get("TINYRNN_AVR_FREE_STEPS", "1000"))

_cache = {}  # type: dict


def _cases(target):
    key = "avr" if target == "avr" else "arm" if target in ("m4f", "m3") else "host"
    if key not in _cache:
        if key == "avr":
            _cache[key] = (gcs.one_step_cases("ga", (1, 6, 12), 3, 41), gcs.free_cases("gf", small=True, steps=AVR_FREE_STEPS))
        else:
            _cache[key] = (gcs.one_step_cases("gr", (1, 5, 16, 33), 4, 43), gcs.free_cases("gg", small=False))
    return _cache[key]


def _reference(case):
    key = ("ref", case.name, case.steps)
    if key not in _cache:
        _cache[key] = ct.reference(case)
    return _cache[key]


def _results(target, tmp_path_factory):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    if target in _cache:
        return _cache[target]
    one, free = _cases(target)
    groups = ct.bins(one + free, AVR_FLASH_BIN) if target == "avr" else [one + free]
    t0 = time.time()
    out = ct.run_groups(target, groups, str(tmp_path_factory.mktemp("gated-" + target)))
    print("\n%s: %d firmware(s), %d gated/stacked models, %.1f s" % (target, len(groups), len(out), time.time() - t0))
    _cache[target] = out
    return out


@pytest.mark.parametrize("target", ct.TARGETS)
def test_gated_one_step_agreement(target, tmp_path_factory):
    res = _results(target, tmp_path_factory)
    worst = {}  # (cell, layers) -> worst scaled error
    for c, got in res.values():
        if c.states is None:
            continue
        want = _reference(c)
        for t, ((rc, z, _), (rc_w, z_w, _)) in enumerate(zip(got, want)):
            assert rc == rc_w, "%s step %d: rc %d, expected %d" % (c.name, t, rc, rc_w)
            for k, (a, b) in enumerate(zip(z, z_w)):
                d = abs(a - b)
                key = "%s/L%d" % (c.model.cell, c.model.layers)
                worst[key] = max(worst.get(key, 0.0), d / max(1.0, abs(b)))
                assert d <= ONE_STEP_TOL * max(1.0, abs(b)), "%s (%s L=%d %s %s H=%d) step %d z[%d]: C %r, Python %r, |d| %.3g" % (
                    c.name, c.model.cell, c.model.layers, c.model.head, "dense" if c.dense else "token", c.model.H, t, k, a, b, d)
    assert set(worst) == {"%s/L%d" % s for s in gcs.SHAPES}
    print("\n%s one-step, worst |d|/max(1,|z|): %s" % (target, ", ".join("%s %.2e" % (k, worst[k]) for k in sorted(worst))))


@pytest.mark.parametrize("target", ct.TARGETS)
def test_gated_out_of_range_token_leaves_every_layer_alone(target, tmp_path_factory):
    res = _results(target, tmp_path_factory)
    seen = {c.model.cell for c in ec.check_rejected_tokens(res)}
    assert seen == {"rnn", "gru", "lstm"}


@pytest.mark.parametrize("target", ct.TARGETS)
def test_gated_free_running(target, tmp_path_factory):
    res = _results(target, tmp_path_factory)
    runs = ec.check_free_runs(res, _reference, FREE_TOL)
    cells = {c.model.cell for c, _ in runs}
    report = ["%s(%s L=%d H=%d) %.2e" % (c.name, c.model.cell, c.model.layers, c.model.H, worst) for c, worst in runs]
    assert cells == {"rnn", "gru", "lstm"} and len(report) == 6
    print("\n%s free-running %d steps, max |d|: %s" % (target, max(c.steps for c, _ in res.values()), ", ".join(report)))
