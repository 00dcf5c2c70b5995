"""The integer C (export --quant) equals the Python emulator bit for bit on every target.

- free-running: 10,000 steps from h = 0 of a trained char model (feeding back
  its argmax: greedy generation) and of a trained dense classifier (cycling
  through its training inputs), int8 and int16, on host gcc and clang,
  Cortex-M4F, Cortex-M3 (QEMU) and ATmega328P (simavr): every step's argmax,
  a hash of every step's logits and state, and the full state and logits
  every 1,000 steps are compared with tinyrnn.core.quant's; the greedy text
  is `tinyrnn sample --quant W -t 0`'s;
- the activation kernels: tanh_q12 and sigmoid_q11 on all 65,536 int16
  inputs and mul_q15 on a grid of pairs, hashed, on every target;
- no float in the step: the step functions compiled for AVR and Cortex-M3
  (a translation unit that calls only them) reference no software-float
  helper or libm function -- and the same check finds them in the float
  header's step, so it can fail.
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import quant_cases as qc  # noqa: E402
from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402
import quant_targets as qt  # noqa: E402

from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.export.c import header as float_header  # noqa: E402
from tinyrnn.export.c_int import header as int_header  # noqa: E402
from tinyrnn.workflow.quant import FloatLogits, dense_input  # noqa: E402
from tinyrnn.workflow.sample import sample_text  # noqa: E402

STEPS = 10000
WIDTHS = ("int8", "int16")
_cache = {}  # type: dict


def _cases():
    if "cases" not in _cache:
        m, vocab, _ = qc.char_model()
        cm, data = qc.classifier()
        cases = []
        for w in WIDTHS:
            cases.append(qt.QCase(qc.quantized_char(w), m, "char_" + w, STEPS, prime=vocab.index(" "), vocab=vocab))
            qm = qc.quantized_classifier(w)
            inputs = [dense_input(qm, x) for xs, _ in data[:12] for x in xs]
            cases.append(qt.QCase(qm, cm, "cls_" + w, STEPS, inputs=inputs))
        _cache["cases"] = cases
    return _cache["cases"]


def _reference(c):
    if ("ref", c.name) not in _cache:
        _cache[("ref", c.name)] = qt.reference(c)
    return _cache[("ref", c.name)]


KERNELS_MAIN = """\
#include "platform.h"
#include "kq.h"
static void put_hex(uint32_t u)
{
    char b[10];
    int i;
    for (i = 0; i < 8; ++i) {
        unsigned d = (unsigned)((u >> (28 - 4 * i)) & 0xFu);
        b[i] = (char)(d < 10u ? '0' + d : 'a' + d - 10u);
    }
    b[8] = '\\n';
    b[9] = 0;
    plat_write(b);
}
static uint32_t fold(uint32_t h, int16_t v) { return (h ^ (uint32_t)(uint16_t)v) * 0x01000193UL; }
int main(void)
{
    uint32_t ht = 0x811C9DC5UL, hs = 0x811C9DC5UL, hm = 0x811C9DC5UL;
    int32_t p, a, b;
    plat_init();
    for (p = -32768L; p <= 32767L; ++p) {
        ht = fold(ht, kq_tanh_q12((int16_t)p));
        hs = fold(hs, kq_sigmoid_q11((int16_t)p));
    }
    for (a = -32767L; a <= 32767L; a += 257L)
        for (b = -32767L; b <= 32767L; b += 509L) hm = fold(hm, kq_mul_q15((int16_t)a, (int16_t)b));
    plat_write("K\\n");
    put_hex(ht);
    put_hex(hs);
    put_hex(hm);
    plat_write("E\\n");
    plat_exit(0);
    return 0;
}
"""


def _kernel_hashes():
    def fold(h, v):
        return ((h ^ (v & 0xFFFF)) * qt.FNV32_PRIME) & 0xFFFFFFFF

    ht = hs = hm = qt.FNV32_OFFSET
    for p in range(-32768, 32768):
        ht = fold(ht, Q.tanh_q12(p))
        hs = fold(hs, Q.sigmoid_q11(p))
    for a in range(-32767, 32768, 257):
        for b in range(-32767, 32768, 509):
            hm = fold(hm, Q.mul_q15(a, b))
    return ["K", "%08x" % ht, "%08x" % hs, "%08x" % hm, "E"]


def _results(target, tmp_path_factory):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    if target not in _cache:
        base = tmp_path_factory.mktemp("q" + target)
        cases = _cases()
        got = qt.run_cases(target, str(base / "free"), cases, timeout=600)
        kcase = qt.QCase(qc.quantized_char("int8"), qc.char_model()[0], "kq", 1)
        exe = ct.build(target, str(base / "kernels"), [kcase], main=KERNELS_MAIN, units={})
        _cache[target] = (dict(zip([c.name for c in cases], got)), ct.run(target, exe, timeout=300).split())
    return _cache[target]


@pytest.mark.parametrize("target", ct.TARGETS)
def test_free_running_bit_exact(target, tmp_path_factory):
    got, _ = _results(target, tmp_path_factory)
    for c in _cases():
        want = _reference(c)
        g = got[c.name]
        assert len(g) == len(want), "%s: %d words, expected %d" % (c.name, len(g), len(want))
        for k, (a, b) in enumerate(zip(g, want)):
            assert a == b, "%s on %s: word %d is %r, the emulator's %r" % (c.name, target, k, a, b)
    assert sum(len(got[c.name]) for c in _cases()) > 4 * STEPS


@pytest.mark.parametrize("width", WIDTHS)
def test_greedy_text_is_tinyrnn_sample(width, tmp_path_factory):
    """The firmware's argmax chain (host gcc) is `tinyrnn sample --quant W -t 0 --prime ' '`."""
    got, _ = _results("host-gcc", tmp_path_factory)
    m, vocab, _ = qc.char_model()
    words = got["char_" + width]
    ids = [int(w, 16) for w in words[1:] if len(w) == 2]
    c_text = "".join(vocab[k] for k in ids)
    py_text = sample_text(FloatLogits(qc.quantized_char(width)), vocab, STEPS, 0.0, " ", 0)
    assert " " + c_text == py_text


@pytest.mark.parametrize("target", ct.TARGETS)
def test_activation_kernels_bit_exact(target, tmp_path_factory):
    _, words = _results(target, tmp_path_factory)
    if "kernels" not in _cache:
        _cache["kernels"] = _kernel_hashes()
    assert words == _cache["kernels"]


FLOAT_HELPERS = (
    "__addsf3", "__subsf3", "__mulsf3", "__divsf3", "__fixsfsi", "__floatsisf", "__floatunsisf", "__fixunssfsi",
    "__gesf2", "__gtsf2", "__lesf2", "__ltsf2", "__eqsf2", "__nesf2", "__unordsf2", "__extendsfdf2", "__truncdfsf2", "__adddf3", "__muldf3",
    "__aeabi_fadd", "__aeabi_fsub", "__aeabi_fmul", "__aeabi_fdiv", "__aeabi_i2f", "__aeabi_f2iz", "__aeabi_fcmplt",
    "__aeabi_fcmpgt", "__aeabi_dadd", "__aeabi_dmul", "__aeabi_f2d", "__aeabi_d2f", "tanhf", "expf", "tanh", "exp",
)

STEP_ONLY = """\
#include "NAME.h"
NAME_state_t s;
ZT z[NAME_Y_S];
int step_only(int token);
int step_only(int token)
{
    NAME_reset(&s);
    (void)NAME_step_token(&s, token, z);
    return NAME_argmax(z);
}
"""


def _undefined(target, text, name, tmp_path):
    """Undefined symbols of a translation unit that calls only reset, step_token and argmax."""
    cc, cflags, _ = ct.flags(target)
    d = tmp_path / (target + name)
    d.mkdir()
    (d / (name + ".h")).write_text(text)
    (d / "t.c").write_text(STEP_ONLY.replace("NAME", name).replace("ZT", "float" if "float" in name else "int16_t"))
    extra = ["-D%s_USE_PROGMEM" % name] if target == "avr" else []
    subprocess.run([cc] + cflags + extra + ["-c", "t.c", "-o", "t.o"], cwd=str(d), check=True)
    nm = "avr-nm" if target == "avr" else "arm-none-eabi-nm"
    out = subprocess.run([nm, "-u", "t.o"], cwd=str(d), check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("target", ["avr", "m3"])
def test_no_float_in_the_step(target, tmp_path):
    require_program("avr-nm" if target == "avr" else "arm-none-eabi-nm")
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    m, vocab, _ = qc.char_model()
    for w in WIDTHS:
        und = _undefined(target, int_header(qc.quantized_char(w), m, "q" + w, vocab=vocab), "q" + w, tmp_path)
        assert not und & set(FLOAT_HELPERS), "%s %s step references %s" % (target, w, sorted(und & set(FLOAT_HELPERS)))
    # the check can fail: the float header's step needs software float (and tanhf)
    und = _undefined(target, float_header(m, "qfloat", vocab=vocab), "qfloat", tmp_path)
    assert und & set(FLOAT_HELPERS), und
    assert und & {"tanhf", "tanh"}  # avr-libc's tanhf is tanh
