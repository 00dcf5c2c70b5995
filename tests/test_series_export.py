"""Series models in C: raw sensor values in, the Python model's logits out (normalisation folded into
Wxh/bh, or NAME_normalize_series), and class names as an escaped string table.

One-step check as in tests/test_export_targets.py: a random state is loaded before every step and the
logits must match the float64 Python model (original float64 weights, normalised inputs) within 1e-5
absolute (relative where |z| > 1), on the host and on the Cortex-M4F (QEMU).
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_cases  # noqa: E402,F401  (puts tools/ on sys.path)
from series_support import ts_text, wave_rows  # noqa: E402
from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402

from tinyrnn import Rng  # noqa: E402
from tinyrnn.cli import main  # noqa: E402
from tinyrnn.export.c import c_string, header, header_from_checkpoint  # noqa: E402
from tinyrnn.workflow.checkpoint import load  # noqa: E402
from tinyrnn.workflow.series import normalize_steps  # noqa: E402

ONE_STEP_TOL = 1e-5
# raw channels far from zero mean and unit scale, as sensors give them
OFFSET = (9.81, -3.0, 120.0)
SCALE = (2.0, 0.05, 15.0)


class NormCase(ct.Case):
    """A Case whose header is exported from a checkpoint (normalisation folded, class names)."""

    def __init__(self, ckpt, name, inputs, steps, states):  # type: ignore[no-untyped-def]
        ct.Case.__init__(self, ckpt.model, name, True, inputs, steps, states)
        self.ckpt = ckpt

    def header(self):  # type: ignore[no-untyped-def]
        return header_from_checkpoint(self.ckpt, name=self.name)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A 3-class, 3-channel classifier trained by tinyrnn on raw values with --normalize channel."""
    d = tmp_path_factory.mktemp("norm")
    rows = wave_rows(6, 12, 3, ["still", "walk", 'r\\"un?*/'], offset=OFFSET, scale=SCALE, sort=False)
    p = str(d / "raw.ts")
    with open(p, "w") as f:
        f.write(ts_text(rows, dims=3, labels=("still", "walk", 'r\\"un?*/')))
    assert main(["train", p, "--normalize", "channel", "--epochs", "20", "--hidden", "12", "--quiet", "--out", str(d / "o")]) == 0
    ck = load(str(d / "o" / "model.json"))
    assert ck.normalize is not None and ck.normalize["mode"] == "channel"
    raw = [list(v) for chs, _ in rows[:4] for v in zip(*chs)]  # raw time steps of four series
    return ck, raw


def python_logits(ck, raw, states):  # type: ignore[no-untyped-def]
    """The float64 Python model on normalised inputs (inputs first rounded to float32, as C receives them)."""
    m = ck.model
    z = [0.0] * m.Y
    out = []
    for x, h in zip(raw, states):
        s = [ct.f32(v) for v in h]
        xn = normalize_steps([[ct.f32(v) for v in x]], ck.normalize)[0]
        m.step(s, xn, z)
        out.append(list(z))
    return out


@pytest.mark.parametrize("target", ["host-gcc", "m4f"])
def test_raw_inputs_give_python_logits(target, trained, tmp_path):
    for prog in ct.PROGRAMS[target]:
        require_program(prog)
    ck, raw = trained
    rng = Rng(5)
    states = [[rng.uniform(-1.0, 1.0) for _ in range(ck.model.H)] for _ in raw]
    case = NormCase(ck, "ucrnorm", raw, len(raw), states)
    exe = ct.build(target, str(tmp_path / "fw"), [case])
    got = ct.parse(ct.run(target, exe, timeout=300), [case])[0]
    want = python_logits(ck, raw, states)
    worst = 0.0
    for t, ((rc, z, _), zw) in enumerate(zip(got, want)):
        assert rc == 0
        for k, (a, b) in enumerate(zip(z, zw)):
            d = abs(a - b) / max(1.0, abs(b))
            worst = max(worst, d)
            assert d <= ONE_STEP_TOL, "%s step %d z[%d]: C %r, Python %r" % (target, t, k, a, b)
    # without folding, raw inputs would be far off: the check can fail
    plain = python_logits(type("C", (), {"model": ck.model, "normalize": None})(), raw, states)
    assert max(abs(a - b) for za, zb in zip(plain, want) for a, b in zip(za, zb)) > 0.1
    print("\n%s: %d steps x %d logits from raw inputs, worst |d|/max(1,|z|) = %.2e" % (target, len(raw), ck.model.Y, worst))


def _host_program(tmp_path, hdr, name, body):  # type: ignore[no-untyped-def]
    require_program("gcc")
    with open(str(tmp_path / (name + ".h")), "w") as f:
        f.write(hdr)
    src = tmp_path / "main.c"
    src.write_text('#include <stdio.h>\n#include <string.h>\n#include "%s.h"\nint main(void)\n{\n%s\n    return 0;\n}\n' % (name, body))
    exe = str(tmp_path / "main")
    subprocess.run(["gcc"] + ct.WARN + ["-O2", "-I", str(tmp_path), str(src), "-o", exe, "-lm"], check=True)
    return subprocess.run([exe], stdout=subprocess.PIPE, check=True).stdout


HOSTILE_LABELS = ['plain', 'quote"', "back\\slash", "??=trigraph", "*/ end", "new\nline", "caf\u00e9 \U0001F600", "%s%n", "\x01\x7f"]


def test_labels_are_escaped_and_read_back_exactly(tmp_path):
    from tinyrnn import RNN
    m = RNN(2, 3, len(HOSTILE_LABELS), 1, "softmax")
    hdr = header(m, "lab", "dense", classes=HOSTILE_LABELS)
    assert "*/ end" not in hdr and "\n line" not in hdr
    body = "    int k;\n    for (k = 0; k < lab_Y_S; ++k) { fputs(lab_label(k), stdout); putchar(0); }\n" \
           "    printf(\"%d%d\", lab_label(-1) == 0, lab_label(lab_Y_S) == 0);"
    out = _host_program(tmp_path, hdr, "lab", body)
    names = out.split(b"\0")
    assert [n.decode("utf-8") for n in names[:-1]] == HOSTILE_LABELS
    assert names[-1] == b"11"
    assert c_string('a"\\?') == '"a\\042\\134\\077"'


def test_series_normalisation_in_c(tmp_path):
    """--normalize series: NAME_normalize_series on the buffered raw series, then the steps; the final logits match."""
    rows = wave_rows(5, 10, 2, ["a", "b"], offset=(50.0, -2.0), scale=(5.0, 0.5), sort=False)
    p = str(tmp_path / "s.ts")
    with open(p, "w") as f:
        f.write(ts_text(rows, dims=2))
    assert main(["train", p, "--normalize", "series", "--epochs", "5", "--hidden", "6", "--quiet", "--out", str(tmp_path / "o")]) == 0
    ck = load(str(tmp_path / "o" / "model.json"))
    assert ck.normalize == {"mode": "series"}
    raw = [[ct.f32(v) for v in x] for x in zip(*rows[0][0])]
    hdr = header_from_checkpoint(ck, name="ser")
    assert '#define ser_NORMALIZE "series"' in hdr
    vals = ", ".join(ct.c_float(v) if hasattr(ct, "c_float") else repr(v) + "f" for x in raw for v in x)
    body = ("    float xs[%d] = {%s};\n    float z[ser_Y_S];\n    ser_state_t s;\n    long t;\n    int k;\n"
            "    ser_normalize_series(xs, %dL);\n    ser_reset(&s);\n"
            "    for (t = 0; t < %dL; ++t) ser_step(&s, xs + t * ser_X_S, z);\n"
            "    for (k = 0; k < ser_Y_S; ++k) printf(\"%%.9g\\n\", (double)z[k]);") % (len(raw) * 2, vals, len(raw), len(raw))
    out = _host_program(tmp_path, hdr, "ser", body)
    got = [float(v) for v in out.split()]
    m = ck.model
    h = m.new_state()
    z = [0.0] * m.Y
    for x in normalize_steps(raw, ck.normalize):
        m.step(h, x, z)
    assert max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(got, z)) <= ONE_STEP_TOL * 10, (got, z)
