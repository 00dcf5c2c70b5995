"""The integer C of GRU, LSTM and stacked models equals the Python emulator bit for bit on every target.

- free-running: 10,000 steps (2,000 on CPython other than 3.11, see STEPS)
  from the zero state of three trained char
  models (a GRU, a 2-layer LSTM, an LSTM; feeding back their argmax: greedy
  generation) and of three trained dense classifiers (a 2-layer GRU, an
  LSTM, a 2-layer tanh RNN; cycling through their training inputs), int8 and
  int16, on host gcc and clang, Cortex-M4F, Cortex-M3 (QEMU) and ATmega328P
  (simavr): every step's argmax, a hash of every step's logits and whole
  state (every layer's h, and c), and the full state and logits every 1,000
  steps are compared with tinyrnn.core.quant's; the greedy text is
  `tinyrnn sample --quant W -t 0`'s;
- hostile models (random, saturating, every cell, 2 layers; LSTM c formats
  Q14 down to Q7), 1,000 steps, the same comparison on every target;
- no float in the step: the gated step compiled for AVR and Cortex-M3
  references no software-float helper or libm function.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import quant_gated_cases as qg  # noqa: E402
import test_quant_targets as tqt  # noqa: E402  (the float-helper check)
from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402
import quant_targets as qt  # noqa: E402

from tinyrnn.export.c_int import header as int_header  # noqa: E402
from tinyrnn.workflow import quant  # noqa: E402
from tinyrnn.workflow.sample import sample_text  # noqa: E402

# 10,000 steps on every target under CPython 3.11 (CI's first interpreter); 3.9 and 3.13 run the
# same C binaries for 2,000 (the C does not depend on the interpreter, and CI runs all three: the
# 10,000-step AVR run alone costs about 75 s)
STEPS = 10000 if sys.version_info[:2] == (3, 11) else 2000
WIDTHS = ("int8", "int16")
_cache = {}  # type: dict


def _cases():
    if "cases" not in _cache:
        cases = []
        for k, (m, vocab, cal) in enumerate(qg.char_models()):
            for w in WIDTHS:
                qm = quant.quantize(m, "token", w, cal)
                cases.append(qt.QCase(qm, m, "gc%d%s%d_%s" % (k, m.cell, m.layers, w), STEPS, prime=vocab.index(" "), vocab=vocab))
        for k, (m, data, cal) in enumerate(qg.classifiers()):
            for w in WIDTHS:
                qm = quant.quantize(m, "dense", w, cal)
                inputs = [quant.dense_input(qm, x) for xs, _ in data[:12] for x in xs]
                cases.append(qt.QCase(qm, m, "gd%d%s%d_%s" % (k, m.cell, m.layers, w), STEPS, inputs=inputs))
        _cache["cases"] = cases
    return _cache["cases"]


def _results(target, tmp_path_factory):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    if target not in _cache:
        cases = _cases()
        got = qt.run_binned(target, str(tmp_path_factory.mktemp("qg" + target)), cases, timeout=900)
        _cache[target] = dict(zip([c.name for c in cases], got))
    return _cache[target]


@pytest.mark.parametrize("target", ct.TARGETS)
def test_free_running_bit_exact(target, tmp_path_factory):
    got = _results(target, tmp_path_factory)
    for c in _cases():
        if ("ref", c.name) not in _cache:
            _cache[("ref", c.name)] = qt.reference(c)
        want, g = _cache[("ref", c.name)], got[c.name]
        assert len(g) == len(want), "%s: %d words, expected %d" % (c.name, len(g), len(want))
        for k, (a, b) in enumerate(zip(g, want)):
            assert a == b, "%s on %s: word %d is %r, the emulator's %r" % (c.name, target, k, a, b)
    assert {(c.qm.cell, len(c.qm.layers)) for c in _cases()} == {("gru", 1), ("lstm", 2), ("lstm", 1), ("gru", 2), ("rnn", 2)}
    assert sum(len(got[c.name]) for c in _cases()) > 12 * STEPS


def _hostile_cases():
    if "hostile" not in _cache:
        _cache["hostile"] = [qt.QCase(qm, m, name, 1000, inputs=inputs, every=250) for name, qm, m, inputs in qg.hostile()]
    return _cache["hostile"]


@pytest.mark.parametrize("target", ct.TARGETS)
def test_hostile_models_bit_exact(target, tmp_path):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    cases = _hostile_cases()
    assert {L.cs for c in cases for L in c.qm.layers if L.cell == "lstm"} == {14, 13, 12, 7}
    got = qt.run_binned(target, str(tmp_path), cases)
    for c, g in zip(cases, got):
        want = qt.reference(c)
        assert g == want, "%s on %s: first difference at word %d" % (c.name, target, [a == b for a, b in zip(g, want)].index(False) if len(g) == len(want) else -1)
    # the models do saturate: an LSTM's c reaches the int16 limit (Q14: beyond 2.0), a tanh layer's h 32767
    ext = {}
    for c in cases:
        st, z = c.qm.new_state(), [0] * c.qm.Y
        for x in c.inputs:
            c.qm.step(st, x, z)
            ext[c.name] = max([ext.get(c.name, 0)] + [abs(v) for s in st for v in s])
    assert ext["ghlstm0_int8"] == 32768 and ext["ghrnn0_int16"] == 32767, ext


@pytest.mark.parametrize("width", WIDTHS)
def test_greedy_text_is_tinyrnn_sample(width, tmp_path_factory):
    """The firmware's argmax chains (host gcc) are `tinyrnn sample --quant W -t 0 --prime ' '`."""
    got = _results("host-gcc", tmp_path_factory)
    for c in _cases():
        if c.vocab is None or c.qm.width != width:
            continue
        ids = [int(w, 16) for w in got[c.name][1:] if len(w) == 2]
        c_text = "".join(c.vocab[k] for k in ids)
        assert len(c_text) == STEPS
        assert " " + c_text == sample_text(quant.FloatLogits(c.qm), c.vocab, STEPS, 0.0, " ", 0), c.name


@pytest.mark.parametrize("target", ["avr", "m3"])
def test_no_float_in_the_gated_step(target, tmp_path):
    require_program("avr-nm" if target == "avr" else "arm-none-eabi-nm")
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    n = 0
    for c in _cases():
        if c.qm.width == "int8" or c.vocab is not None:
            und = tqt._undefined(target, int_header(c.qm, c.model, "q" + c.name, vocab=c.vocab), "q" + c.name, tmp_path)
            bad = und & set(tqt.FLOAT_HELPERS)
            assert not bad, "%s %s step references %s" % (target, c.name, sorted(bad))
            n += 1
    assert n == 9
