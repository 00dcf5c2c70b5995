"""Integer GRU, LSTM and stacked models under MicroPython 1.27 (WebAssembly port: 31-bit small ints).

The exported integer module (``--format micropython --quant``; int8 as .mpy,
int16 as .py) of every trained gated char model (1,000 greedy steps) and
classifier (500 steps): every step's logits and whole state (each layer's h,
and c) equal the emulator's (a running hash, printed every 50 steps), and a
step allocates **0 bytes** (gc.mem_alloc with the collector off, 200 steps,
after the first).
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import quant_cases as qc  # noqa: E402
import quant_gated_cases as qg  # noqa: E402
from test_export_micropython import mpy_cross  # noqa: E402
from test_micropython import run_micropython  # noqa: E402
from test_quant_micropython import MODULE_SCRIPT, RUN  # noqa: E402

from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.export.micropython_int import module  # noqa: E402
from tinyrnn.workflow import quant  # noqa: E402

SCRIPT = RUN + """
C = getattr(m, "c", [])
hs = 0
for k in range(%(steps)d):
    z = run(k)
    for v in z:
        hs = (hs * 31 + v) %% 1000000007
    for s in m.h + C:
        for v in s:
            hs = (hs * 31 + v) %% 1000000007
    if k %% 50 == 49:
        print(k, m.argmax(z), hs)
""" + MODULE_SCRIPT[MODULE_SCRIPT.index("gc.collect()") :]  # the allocation measurement of test_quant_micropython


def _expected(qm, inputs, prime, steps):
    st, z = qm.new_state(), [0] * qm.Y
    H = qm.layers[0].H
    tok, hs, lines = prime, 0, []
    for k in range(steps):
        if inputs:
            qm.step(st, inputs[k % len(inputs)], z)
        else:
            qm.step(st, tok, z)
            tok = Q.argmax(z)
        for v in z + [v for s in st for v in s[:H]] + [v for s in st for v in s[H:]]:
            hs = (hs * 31 + v) % 1000000007
        if k % 50 == 49:
            lines.append("%d %d %d" % (k, Q.argmax(z), hs))
    return lines


def _cases(width):
    out = []
    for k, (m, vocab, cal) in enumerate(qg.char_models()):
        out.append(("qgc%d_%s" % (k, width), quant.quantize(m, "token", width, cal), m, vocab, [], vocab.index(" "), 1000))
    for k, (m, data, cal) in enumerate(qg.classifiers()):
        qm = quant.quantize(m, "dense", width, cal)
        out.append(("qgd%d_%s" % (k, width), qm, m, None, [quant.dense_input(qm, x) for xs, _ in data[:6] for x in xs], 0, 500))
    return out


@pytest.mark.parametrize("width, kind", [("int8", "mpy"), ("int16", "py")])
def test_gated_integer_module_is_exact_and_allocates_nothing(tmp_path, width, kind):
    for name, qm, model, voc, inputs, prime, steps in _cases(width):
        src = tmp_path / (name + ".py")
        src.write_text(module(qm, model, vocab=voc), encoding="ascii")
        path = str(src) if kind == "py" else str(mpy_cross(src, tmp_path / (name + ".mpy")))
        proc = run_micropython(SCRIPT % {"name": name, "inputs": inputs, "prime": prime, "steps": steps}, files=[path], timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = proc.stdout.splitlines()
        assert lines[:-1] == _expected(qm, inputs, prime, steps), "%s (%s %d layers)" % (name, qm.cell, len(qm.layers))
        assert lines[-1] == "alloc 0 True", "%s (%s): %s bytes in 200 steps" % (name, kind, lines[-1])


EMULATOR_SCRIPT = """
from tinyrnn.core import quant as Q
def rows(a):
    return Q.Rows(*a)
layers = []
for cell, X, H, dense, r, nx, nh, cs in %(layers)r:
    if cell == "rnn":
        layers.append(Q.Vanilla(X, H, dense, rows(r)))
    else:
        layers.append(Q.Gated(cell, X, H, dense, rows(r), rows(nx) if nx else None, rows(nh) if nh else None, cs))
qm = Q.QModel(%(width)r, %(X)d, %(Y)d, False, layers, rows(%(out)r), %(zs)d, 15)
st = qm.new_state()
z = [0] * %(Y)d
tok = %(prime)d
for k in range(300):
    qm.step(st, tok, z)
    tok = Q.argmax(z)
print(tok, z, st)
"""


def _rows_args(R):
    return (R.n, R.k, R.P, R.W, R.b, R.r, R.m, R.kx) if R is not None else None


def test_gated_emulator_runs_unchanged_under_micropython():
    for m, vocab, cal in qg.char_models()[:2]:  # a GRU and a 2-layer LSTM
        qm = quant.quantize(m, "token", "int16", cal)
        layers = [(L.cell, L.X, L.H, L.dense, _rows_args(L.rows), _rows_args(getattr(L, "nx", None)), _rows_args(getattr(L, "nh", None)),
                   getattr(L, "cs", 12)) for L in qm.layers]
        args = {"layers": layers, "out": _rows_args(qm.out), "width": qm.width, "X": qm.X, "Y": qm.Y, "zs": qm.zshift,
                "prime": vocab.index(" ")}
        proc = run_micropython(EMULATOR_SCRIPT % args)
        assert proc.returncode == 0, proc.stderr[-3000:]
        tok, z, st = qc.greedy(qm, vocab.index(" "), 300)
        assert proc.stdout.splitlines() == ["%d %s %s" % (tok, z, st)], (m.cell, m.layers)
