"""Integer inference under MicroPython 1.27 (WebAssembly port, a 32-bit port: 31-bit small ints).

- the exported integer module (``--format micropython --quant``), int8 as
  .mpy and int16 as .py: outputs equal the emulator's over 2,000 greedy steps of the char
  model and 1,000 steps of the dense classifier, both widths, and a step
  allocates **0 bytes** (gc.mem_alloc with the collector off, 200 steps,
  after the first);
- the emulator itself (tinyrnn/core/quant.py, as copied to a board) gives
  the same integers under MicroPython as under CPython.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import quant_cases as qc  # noqa: E402
from test_export_micropython import mpy_cross  # noqa: E402
from test_micropython import run_micropython  # noqa: E402

from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.export.micropython_int import module  # noqa: E402
from tinyrnn.workflow.quant import dense_input  # noqa: E402

CHAR_STEPS = 2000

# run(k): one step of the module -- dense inputs cycled, or greedy text from the prime token
RUN = """
import gc
import %(name)s as m
INPUTS = %(inputs)r
tok = %(prime)d
def run(k):
    global tok
    if INPUTS:
        return m.step(INPUTS[k %% len(INPUTS)])
    z = m.step(tok)
    tok = m.argmax(z)
    return z
"""

MODULE_SCRIPT = RUN + """
for k in range(%(steps)d):
    z = run(k)
    if k %% 50 == 49:
        print(k, m.argmax(z), sum(z), sum(m.h), z[0], m.h[0])
gc.collect()

def tick():
    gc.disable()
    a = gc.mem_alloc()
    for k in range(200):
        run(k)
    b = gc.mem_alloc()
    x = 1.5
    for k in range(10):  # the control: float arithmetic allocates, so the measurement can see it
        x = x * 1.01
    c = gc.mem_alloc()
    gc.enable()
    print("alloc", b - a, c - b > 0)
    return False
"""


def _expected(qm, inputs, prime, steps):
    st, z = qm.new_state(), [0] * qm.Y
    tok = prime
    lines = []
    for k in range(steps):
        if inputs:
            qm.step(st, inputs[k % len(inputs)], z)
        else:
            qm.step(st, tok, z)
            tok = Q.argmax(z)
        if k % 50 == 49:
            lines.append("%d %d %d %d %d %d" % (k, Q.argmax(z), sum(z), sum(st[0]), z[0], st[0][0]))
    return lines


@pytest.mark.parametrize("width, kind", [("int8", "mpy"), ("int16", "py")])
def test_integer_module_is_exact_and_allocates_nothing(tmp_path, width, kind):
    m, vocab, _ = qc.char_model()
    cm, data = qc.classifier()
    cases = [
        ("qchar_" + width, qc.quantized_char(width), m, vocab, [], vocab.index(" "), CHAR_STEPS),
        ("qcls_" + width, qc.quantized_classifier(width), cm, None, None, 0, 1000),
    ]
    for name, qm, model, voc, inputs, prime, steps in cases:
        if inputs is None:
            inputs = [dense_input(qm, x) for xs, _ in data[:10] for x in xs]
        src = tmp_path / (name + ".py")
        src.write_text(module(qm, model, vocab=voc), encoding="ascii")
        path = str(src) if kind == "py" else str(mpy_cross(src, tmp_path / (name + ".mpy")))
        proc = run_micropython(MODULE_SCRIPT % {"name": name, "inputs": inputs, "prime": prime, "steps": steps}, files=[path], timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = proc.stdout.splitlines()
        assert lines[:-1] == _expected(qm, inputs, prime, steps), name
        assert lines[-1] == "alloc 0 True", "%s (%s): %s bytes in 200 steps" % (name, kind, lines[-1])


EMULATOR_SCRIPT = """
from tinyrnn.core import quant as Q
L = %(layer)r
O = %(out)r
rows = Q.Rows(*L)
out = Q.Rows(*O)
qm = Q.QModel(%(width)r, %(X)d, %(Y)d, False, [Q.Vanilla(%(X)d, %(H)d, False, rows)], out, %(zs)d, 15)
st = qm.new_state()
z = [0] * %(Y)d
tok = %(prime)d
for k in range(500):
    qm.step(st, tok, z)
    tok = Q.argmax(z)
print(tok, z, st[0])
print(sum([Q.tanh_q12(p) for p in range(-32768, 32768, 7)]), sum([Q.sigmoid_q11(p) for p in range(-32768, 32768, 7)]))
"""


def test_emulator_runs_unchanged_under_micropython():
    m, vocab, _ = qc.char_model()
    qm = qc.quantized_char("int16")
    L, O = qm.layers[0].rows, qm.out
    args = {
        "layer": (L.n, L.k, L.P, L.W, L.b, L.r, L.m, L.kx), "out": (O.n, O.k, O.P, O.W, O.b, O.r, O.m),
        "width": qm.width, "X": qm.X, "H": m.H, "Y": qm.Y, "zs": qm.zshift, "prime": vocab.index(" "),
    }
    proc = run_micropython(EMULATOR_SCRIPT % args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tok, z, st = qc.greedy(qm, vocab.index(" "), 500)
    kern = "%d %d" % (sum(Q.tanh_q12(p) for p in range(-32768, 32768, 7)), sum(Q.sigmoid_q11(p) for p in range(-32768, 32768, 7)))
    assert proc.stdout.splitlines() == ["%d %s %s" % (tok, z, st[0]), kern]
