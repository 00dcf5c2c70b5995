"""The exported C agrees with Python on the host, Cortex-M4F, Cortex-M3 and ATmega328P.

One firmware per target holds every model (several for the ATmega328P's 32 KB
of flash); each is built warning-free (-Werror) and run once per session.

- one-step: random models (each head, dense and token input, H = 1 .. 64,
  weight scales 0.1 .. 10); the C state is set to a given state before every
  step; logits must agree with float64 Python using the float32 weights within
  1e-5 absolute (1e-5 relative where |z| > 1) -- asserted for every model with
  weights in [-1, 1]. With larger weights the float32 sums themselves can
  exceed that (a sum of 65 terms of size 10 cannot be exact to 1e-5 in
  float32), so those are held to the larger of that tolerance and the a-priori
  float32 rounding bound (``c_targets.error_bounds``).
- free-running: 10,000 steps from h = 0 of a char model trained by tinyrnn and
  of random contractive models (||Whh||_2 = 0.9): within 1e-4 at every step.
- out-of-range tokens: NAME_step_token returns -1, leaves the state alone,
  zeroes z.
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_cases as ec  # noqa: E402
from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402  (tools/, on sys.path through export_cases)

ONE_STEP_TOL = 1e-5
FREE_TOL = 1e-4
AVR_FLASH_BIN = 27000

_cache = {}  # type: dict


def _cases():
    if "cases" not in _cache:
        _cache["cases"] = {
            "one": ec.one_step_cases("r", 4, 3),
            "avr_one": ec.avr_one_step_cases(),
            "free": ec.free_cases("f", small=False),
            "avr_free": ec.free_cases("g", small=True),
        }
    return _cache["cases"]


def _reference(case):
    key = ("ref", case.name)
    if key not in _cache:
        _cache[key] = ct.reference(case)
    return _cache[key]


def _results(target, tmp_path_factory):
    """{case name: parsed output} for every case of ``target``, built and run once."""
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    if target in _cache:
        return _cache[target]
    cs = _cases()
    if target == "avr":
        groups = ct.bins(cs["avr_one"] + cs["avr_free"][1:], AVR_FLASH_BIN) + [cs["avr_free"][:1]]
    else:
        groups = [cs["one"] + cs["free"]]
    t0 = time.time()
    out = ct.run_groups(target, groups, str(tmp_path_factory.mktemp(target)), timeout=300)
    print("\n%s: %d firmware(s), %d models, %.1f s" % (target, len(groups), len(out), time.time() - t0))
    _cache[target] = out
    return out


@pytest.mark.parametrize("target", ct.TARGETS)
def test_one_step_agreement(target, tmp_path_factory):
    res = _results(target, tmp_path_factory)
    worst = {}  # scale -> worst scaled error
    checked = 0
    for c, got in res.values():
        if c.states is None:
            continue
        want = _reference(c)
        bounds = ct.error_bounds(c)
        strict = c.scale <= 1.0
        for t, ((rc, z, _), (rc_w, z_w, _)) in enumerate(zip(got, want)):
            assert rc == rc_w, "%s step %d: rc %d, expected %d" % (c.name, t, rc, rc_w)
            for k, (a, b) in enumerate(zip(z, z_w)):
                d = abs(a - b)
                tol = ONE_STEP_TOL * max(1.0, abs(b))
                worst[c.scale] = max(worst.get(c.scale, 0.0), d / max(1.0, abs(b)))
                if not strict:
                    tol = max(tol, bounds[t][k])
                assert d <= tol, "%s (%s %s H=%d scale %g) step %d z[%d]: C %r, Python %r, |d| %.3g > %.3g" % (
                    c.name, c.model.head, "dense" if c.dense else "token", c.model.H, c.scale, t, k, a, b, d, tol)
                checked += 1
    assert checked > 0
    print("\n%s one-step: %d logits; worst |d|/max(1,|z|) by weight scale: %s" % (
        target, checked, ", ".join("%g: %.2e" % (s, worst[s]) for s in sorted(worst))))
    hs = {c.model.H for c, _ in res.values() if c.states is not None}
    assert min(hs) == 1 and max(hs) == 64


@pytest.mark.parametrize("target", ct.TARGETS)
def test_out_of_range_token_is_rejected(target, tmp_path_factory):
    res = _results(target, tmp_path_factory)
    assert len(ec.check_rejected_tokens(res)) >= 4


@pytest.mark.parametrize("target", ct.TARGETS)
def test_free_running_10000_steps(target, tmp_path_factory):
    res = _results(target, tmp_path_factory)
    runs = ec.check_free_runs(res, _reference, FREE_TOL)
    assert len(runs) >= 2 and all(c.steps == ec.FREE_STEPS for c, _ in runs)
    report = ["%s(H=%d) %.2e" % (c.name, c.model.H, worst) for c, worst in runs]
    print("\n%s free-running 10000 steps, max |d|: %s" % (target, ", ".join(report)))
