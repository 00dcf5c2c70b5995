#!/usr/bin/env python3
"""Live heap of the core under MicroPython 1.27 (WebAssembly port) for a few model sizes.

For each configuration, ``tools/micropython/heap.mjs`` runs the workload in
top-level calls (the port only collects garbage between those) and reads
``gc.mem_alloc()`` after a collection: before the import, after importing
the core (its code compiled from source), after building the model, and
the maximum over the run. Printed as a markdown table (docs/core.md):

    python3 tools/bench_memory.py

Needs ``node`` and ``npm ci`` in tools/micropython.
"""

import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAP = os.path.join(ROOT, "tools", "micropython", "heap.mjs")

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

SENSOR_TRAINING = """
from tinyrnn import RNN, Adam, Rng, clip_global_norm, init_params
m = opt = xs = ys = None
def setup():
    global m, opt, xs, ys
    m = RNN({X}, {H}, {Y}, {T}, "mse")
    init_params(m, 1)
    opt = Adam(m.num_params, 0.01)
    r = Rng(2)
    xs = [[r.uniform(-1.0, 1.0) for _ in range({X})] for _ in range({T})]
    ys = [[r.uniform(-1.0, 1.0) for _ in range({Y})] for _ in range({T})]
def tick():
    for i in range(10):
        m.forward(xs, ys)
        m.backward()
        clip_global_norm(m.grads, 1.0)
        opt.step(m.params, m.grads)
"""

CONFIGS: List[Tuple[str, str, Dict[str, int]]] = [
    ("char inference", INFERENCE, dict(X=65, H=32, Y=65, T=25)),
    ("char inference", INFERENCE, dict(X=65, H=64, Y=65, T=25)),
    ("char training, Adagrad", CHAR_TRAINING, dict(X=65, H=16, Y=65, T=25)),
    ("char training, Adagrad", CHAR_TRAINING, dict(X=65, H=32, Y=65, T=25)),
    ("sensor training, Adam", SENSOR_TRAINING, dict(X=3, H=16, Y=4, T=50)),
    ("sensor training, Adam", SENSOR_TRAINING, dict(X=3, H=32, Y=4, T=100)),
]


def params_of(X: int, H: int, Y: int) -> int:
    return H * X + H * H + H + Y * H + Y


def measure(script: str, samples: int) -> Dict[str, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        proc = subprocess.run(["node", HEAP, f.name, str(samples)], capture_output=True, text=True, cwd=ROOT)
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        raise SystemExit("bench_memory: heap.mjs failed:\n" + proc.stderr[-2000:])
    r: Dict[str, int] = json.loads(proc.stdout)
    return r


def main() -> int:
    rows = [
        "| workload | X, H, Y, T | parameters | core code | model + data | live heap (max) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, template, dims in CONFIGS:
        r = measure(template.format(**dims), 5)
        code = r["after_script"] - r["before_import"]
        data = r["max"] - r["after_script"]
        rows.append(
            "| %s | %d, %d, %d, %d | %d | %.1f KB | %.1f KB | %.1f KB |"
            % (name, dims["X"], dims["H"], dims["Y"], dims["T"], params_of(dims["X"], dims["H"], dims["Y"]), code / 1024, data / 1024, r["max"] / 1024)
        )
        print(rows[-1], file=sys.stderr)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
