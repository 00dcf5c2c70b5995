"""The integer emulator, quantisation, calibration and the --quant command line (CPython).

The C side is tests/test_quant_targets.py; MicroPython tests/test_quant_micropython.py.
"""

import json
import math
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import quant_cases as qc  # noqa: E402

from tinyrnn import RNN, Rng, init_params  # noqa: E402
from tinyrnn.cli import main as cli_main  # noqa: E402
from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.workflow import checkpoint, quant  # noqa: E402
from tinyrnn.workflow.datasets import SeqExample  # noqa: E402

TANH_ERROR = 1.2e-4  # worst |tanh_q12(p) / 2^15 - tanh(p / 2^12)| over all int16 p (measured 1.150e-4)
SIGMOID_ERROR = 7.5e-5  # worst for sigmoid_q11 (measured 7.28e-5)


# ------------------------------------------------------------- kernels
def test_tanh_q12_error_bound_oddness_and_monotonicity():
    worst = 0.0
    prev = -32768
    for p in range(-32768, 32768):
        t = Q.tanh_q12(p)
        assert -32767 <= t <= 32767
        assert t >= prev  # nondecreasing
        prev = t
        assert Q.tanh_q12(-p) == -t or p == -32768
        worst = max(worst, abs(t / 32768.0 - math.tanh(p / 4096.0)))
    assert 1e-4 < worst <= TANH_ERROR  # the bound the docs state, and not a loose one
    assert Q.tanh_q12(0) == 0 and Q.tanh_q12(32767) == 32767 and Q.tanh_q12(-32768) == -32767


def test_sigmoid_q11_error_bound_and_range():
    worst = 0.0
    for p in range(-32768, 32768):
        s = Q.sigmoid_q11(p)
        assert 0 <= s <= 32767
        worst = max(worst, abs(s / 32768.0 - 1.0 / (1.0 + math.exp(-p / 2048.0))))
    assert 5e-5 < worst <= SIGMOID_ERROR
    assert Q.sigmoid_q11(0) == 16384


def test_mul_q15_rounds_to_nearest_and_stays_a_small_int():
    rng = Rng(3)
    for _ in range(2000):
        a, b = rng.below(65535) - 32767, rng.below(65535) - 32767
        exact = a * b / 32768.0
        assert abs(Q.mul_q15(a, b) - exact) <= 0.5
        assert abs(a * b + 16384) < 1 << 30
    assert Q.mul_q15(32767, 32767) == 32766 and Q.mul_q15(-32767, 32767) == -32766


def test_requant_clamp_changes_nothing_and_products_stay_below_2_30():
    """With 2^14 <= m < 2^15 the int16 clamp of t never changes the saturated result."""
    rng = Rng(4)
    for _ in range(20000):
        r = rng.below(20)
        m = (1 << 14) + rng.below(1 << 14)
        b = rng.below(65536) - 32768
        d = rng.below(1 << 31) - (1 << 30)
        t = (d >> r) + b
        unclamped = max(-32768, min(32767, (t * m + 8192) >> 14))
        assert Q.requant(d, b, r, m) == unclamped
        tc = max(-32768, min(32767, t))
        assert abs(tc * m + 8192) < 1 << 30


def test_shifts_are_floor_as_in_c():
    """C's >> of a negative int (gcc, clang, avr-gcc: arithmetic) is Python's floor shift; the emulator relies on it."""
    assert (-1 >> 1, -3 >> 1, -257 >> 8) == (-1, -2, -2)
    rows = Q.Rows(1, 2, 8, [-32767, 5], [0], [0], [1 << 14])
    assert rows.dot(0, [1, -1], 0, 2) == ((-32767) >> 8) + ((-5) >> 8) == -129


# ------------------------------------------------------- quantisation
def test_every_sum_is_bounded_and_too_wide_rows_are_refused():
    m = RNN(3, 300, 2, 1, "mse")  # 300 int8 terms of 127 * 32767 could pass 2^30
    for k in range(m.num_params):
        m.params[k] = 0.5
    with pytest.raises(quant.QuantError, match="beyond 2\\*\\*30"):
        quant.quantize(m, "dense", "int8", {"z_absmax": 1.0, "x_absmax": 1.0})
    small = RNN(3, 200, 2, 1, "mse")
    init_params(small, 1, "xavier")
    quant.quantize(small, "dense", "int8", {"z_absmax": 1.0, "x_absmax": 1.0})  # 203 terms fit


def test_huge_bias_is_a_clear_error():
    m = RNN(4, 3, 4, 1, "softmax")
    init_params(m, 2, "xavier")
    m.params[m.layout.bh] = 1e6
    with pytest.raises(quant.QuantError, match="hidden layer row 0: bias"):
        quant.quantize(m, "token", "int8", {"z_absmax": 3.0})


def test_dense_model_needs_x_range():
    m = RNN(2, 3, 1, 1, "mse")
    init_params(m, 2, "xavier")
    with pytest.raises(quant.QuantError, match="x_absmax"):
        quant.quantize(m, "dense", "int8", {"z_absmax": 3.0})


def test_quantised_char_model_tracks_the_float_model():
    m, vocab, ids = qc.char_model()
    floss = qc.float_text_loss(m, ids)
    for w, tol in (("int16", 0.03), ("int8", 0.08)):
        qm = qc.quantized_char(w)
        qloss = quant.text_loss(qm, ids)
        assert abs(qloss - floss) <= tol, (w, qloss, floss)


def test_quantised_classifier_keeps_its_accuracy():
    cm, data = qc.classifier()
    ex = [SeqExample(xs, [c], True, 0) for xs, c in data]
    facc = qc.float_accuracy(cm, data)
    for w in ("int8", "int16"):
        acc = quant.sequence_quality(qc.quantized_classifier(w), "softmax", ex)["eval_acc"]
        assert acc >= facc - 0.05, (w, acc)


def test_emulator_rejects_bad_input():
    qm = qc.quantized_char("int8")
    st, z = qm.new_state(), [0] * qm.Y
    for bad in (-1, qm.X, True):
        with pytest.raises(ValueError):
            qm.step(st, bad, z)
    assert st == qm.new_state()
    qd = qc.quantized_classifier("int8")
    for bad in ([1], [1, 40000], [1, 2.5]):
        with pytest.raises(ValueError):
            qd.step(qd.new_state(), bad, [0] * qd.Y)


# -------------------------------------------------------- command line
@pytest.fixture()
def char_ckpt(tmp_path):
    m, vocab, ids = qc.char_model()
    text = "".join(vocab[k] for k in ids)
    data = tmp_path / "text.txt"
    data.write_text(text * 3, encoding="utf-8")
    path = tmp_path / "model.json"
    checkpoint.save(str(path), checkpoint.Checkpoint(m, "token", vocab, 300, config={"data": str(data)}))
    return path, data


def test_calibrate_stores_the_ranges_and_old_checkpoints_still_load(char_ckpt, capsys):
    path, data = char_ckpt
    assert "export" not in json.loads(path.read_text())  # an older checkpoint: no field
    assert cli_main(["calibrate", str(path)]) == 0
    d = json.loads(path.read_text())
    cal = d["export"]["calibration"]
    assert cal["steps"] == len(data.read_text()) and cal["z_absmax"] > 1.0 and cal["x_absmax"] is None
    assert checkpoint.load(str(path)).export["calibration"] == cal
    assert cli_main(["eval", str(path), str(data), "--quant", "int8"]) == 0
    assert "stored calibration" in capsys.readouterr().out
    d["export"] = {"calibration": {"z_absmax": "big"}}
    path.write_text(json.dumps(d))
    assert cli_main(["eval", str(path), str(data), "--quant", "int8"]) == 2
    assert "export.calibration" in capsys.readouterr().err
    d["export"] = []
    path.write_text(json.dumps(d))
    assert cli_main(["eval", str(path), str(data)]) == 2
    assert "field 'export' must be an object" in capsys.readouterr().err


def test_sample_and_eval_run_through_the_emulator(char_ckpt, capsys):
    path, data = char_ckpt
    assert cli_main(["sample", str(path), "--quant", "int16", "-t", "0", "-n", "40", "--prime", " "]) == 0
    text = capsys.readouterr().out
    m, vocab, _ = qc.char_model()
    qm = quant.quantize(m, "token", "int16", quant.calibrate_file(checkpoint.load(str(path)), str(data)))
    st, z = qm.new_state(), [0] * qm.Y
    tok, want = vocab.index(" "), " "
    for _ in range(40):
        qm.step(st, tok, z)
        tok = Q.argmax(z)
        want += vocab[tok]
    assert text == want + "\n"
    assert cli_main(["eval", str(path), str(data), "--quant", "int8"]) == 0
    out = capsys.readouterr().out
    assert "calibrated on the training data" in out and "nats/char" in out
    assert cli_main(["eval", str(path), str(data), "--calibration", str(data)]) == 2
    assert "--calibration goes with --quant" in capsys.readouterr().err


def test_export_quant_writes_a_header_and_a_micropython_module(char_ckpt, tmp_path, capsys):
    path, data = char_ckpt
    out = tmp_path / "m8.h"
    assert cli_main(["export", str(path), "-o", str(out), "--quant", "int8", "--calibration", str(data)]) == 0
    h = out.read_text()
    assert '#define model_QUANT "int8"' in h and "static const model_w_t model_W[" in h and "float model_W" not in h
    assert cli_main(["export", str(path), "--format", "micropython", "--quant", "int16", "-o", str(tmp_path / "m16.py")]) == 0
    assert "QUANT = 'int16'" in (tmp_path / "m16.py").read_text()
    assert cli_main(["export", str(path), "--arduino", str(tmp_path / "lib"), "--quant", "int8"]) == 2
    assert "not an Arduino library" in capsys.readouterr().err
    assert cli_main(["export", str(path), "--train", "--quant", "int8", "-o", str(tmp_path / "t.h")]) == 2
    assert "--train writes the float trainer" in capsys.readouterr().err
    assert not (tmp_path / "t.h").exists()


def test_micropython_int_module_equals_the_emulator_on_cpython(tmp_path):
    from tinyrnn.export.micropython_int import module

    for w in ("int8", "int16"):
        m, vocab, ids = qc.char_model()
        qm = qc.quantized_char(w)
        src = tmp_path / ("mq_%s.py" % w)
        src.write_text(module(qm, m, vocab=vocab), encoding="ascii")
        ns = {}  # type: dict
        exec(compile(src.read_text(), str(src), "exec"), ns)
        st, z = qm.new_state(), [0] * qm.Y
        for t in ids[:300]:
            qm.step(st, t, z)
            assert ns["step"](t) == z and ns["h"] == st[0]
        cm, data = qc.classifier()
        qd = qc.quantized_classifier(w)
        src.write_text(module(qd, cm), encoding="ascii")
        ns = {}
        exec(compile(src.read_text(), str(src), "exec"), ns)
        st, z = qd.new_state(), [0] * qd.Y
        for xs, _ in data[:5]:
            for x in xs:
                xq = quant.dense_input(qd, x)
                qd.step(st, xq, z)
                assert ns["step"](xq) == z
        y = ns["output"](z)
        assert abs(sum(y) - 1.0) < 1e-12
