"""The integer path for GRU, LSTM and stacked layers: emulator, quantisation, calibration, CLI (CPython).

The C side is tests/test_quant_gated_targets.py. The one-layer tanh model: tests/test_quant.py.
"""

import json
import math
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import quant_cases as qc  # noqa: E402
import quant_gated_cases as qg  # noqa: E402

from tinyrnn import RNN, Rng, init_params  # noqa: E402
from tinyrnn.cli import main as cli_main  # noqa: E402
from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.workflow import checkpoint, quant  # noqa: E402
from tinyrnn.workflow.datasets import SeqExample  # noqa: E402

WIDTHS = ("int8", "int16")


# ------------------------------------------------------------- quality
def test_gated_char_models_lose_little_in_integers():
    """int16 within 0.03 nats/char of the float model, int8 within 0.08 (the issue's bounds), on every trained model."""
    ids = qg.text_ids()
    for m, _, cal in qg.char_models():
        floss = qc.float_text_loss(m, ids)
        for w, tol in (("int16", 0.03), ("int8", 0.08)):
            qloss = quant.text_loss(quant.quantize(m, "token", w, cal), ids)
            assert abs(qloss - floss) <= tol, (m.cell, m.layers, w, qloss, floss)


def test_gated_and_stacked_classifiers_keep_their_accuracy():
    for m, data, cal in qg.classifiers():
        ex = [SeqExample(xs, [c], True, 0) for xs, c in data]
        facc = qc.float_accuracy(m, data)
        assert facc > 0.6, (m.cell, facc)  # the models learnt something
        for w in WIDTHS:
            acc = quant.sequence_quality(quant.quantize(m, "dense", w, cal), "softmax", ex)["eval_acc"]
            assert acc >= facc - 0.02, (m.cell, m.layers, w, acc, facc)


def test_integer_state_tracks_the_float_state():
    """Over the whole text, every h (Q15) stays close to the float model's h, and the LSTM's c to its c."""
    ids = qg.text_ids()
    for m, _, cal in qg.char_models():
        qm = quant.quantize(m, "token", "int16", cal)
        hf, zf, s, zq = m.new_state(), [0.0] * m.Y, qm.new_state(), [0] * m.Y
        H, L = m.H, m.layers
        worst_h = worst_c = 0.0
        for t in ids:
            m.step(hf, t, zf)
            qm.step(s, t, zq)
            for l in range(L):
                for j in range(H):
                    worst_h = max(worst_h, abs(s[l][j] / 32768.0 - hf[l * H + j]))
                    if m.cell == "lstm":
                        worst_c = max(worst_c, abs(s[l][H + j] / 2.0 ** qm.layers[l].cs - hf[(L + l) * H + j]))
        assert worst_h < 0.03, (m.cell, worst_h)
        assert worst_c < 0.05, (m.cell, worst_c)


# ------------------------------------------------------------- formats and bounds
def _checked(monkeypatch):
    """Wrap the kernels so that every value they see is an int16 and every sum a 31-bit small int."""
    seen = {"requant": 0, "mul": 0}
    requant, mul = Q.requant, Q.mul_q15

    def requant_checked(d, b, r, m):
        assert -(1 << 30) < d < 1 << 30, d
        seen["requant"] += 1
        return requant(d, b, r, m)

    def mul_checked(a, b):
        assert -32768 <= a <= 32767 and -32768 <= b <= 32767, (a, b)
        assert abs(a * b + 16384) < 1 << 30
        seen["mul"] += 1
        return mul(a, b)

    monkeypatch.setattr(Q, "requant", requant_checked)
    monkeypatch.setattr(Q, "mul_q15", mul_checked)
    return seen


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_saturating_random_models_stay_in_range(cell, monkeypatch):
    """Large random weights (every gate saturates), hostile dense inputs: every sum < 2**30, every value int16."""
    seen = _checked(monkeypatch)
    rng = Rng(7)
    for width in WIDTHS:
        m = RNN(3, 6, 2, 5, "mse", cell=cell, layers=2)
        init_params(m, 3, "uniform", 8.0)
        xs = [[rng.uniform(-50.0, 50.0) for _ in range(3)] for _ in range(40)]
        cal = quant.calibrate(m, [xs], "hostile", False)
        qm = quant.quantize(m, "dense", width, cal)
        s, z = qm.new_state(), [0] * 2
        for x in xs + [[32767] * 3, [-32768] * 3]:
            qm.step(s, x if isinstance(x[0], int) else quant.dense_input(qm, x), z)
            for v in [e for st in s for e in st] + z:
                assert -32768 <= v <= 32767
    assert seen["requant"] > 1000
    if cell != "rnn":
        assert seen["mul"] > 1000


def test_lstm_cell_format_follows_the_calibrated_range_and_saturates_beyond():
    m = RNN(1, 1, 1, 5, "mse", cell="lstm")
    init_params(m, 1)
    m.params[:] = [0.0] * m.num_params
    L = m.layout
    wx, wh, bx, bh, _ = L.layer[0]
    # i = f = o = sigmoid(12) ~ 1, g = tanh(12 x) ~ 1 for x = 1: c grows by ~1 per step
    for g in range(4):
        m.params[bx + g] = 12.0 if g != 2 else 0.0
    m.params[wx + 2] = 12.0
    xs = [[1.0]] * 6
    cal = quant.calibrate(m, [xs], "ramp", False)
    assert 5.99 < cal["layers"][0]["c_absmax"] < 6.0
    qm = quant.quantize(m, "dense", "int16", cal)
    assert qm.layers[0].cs == 11  # 6 * 2**11 = 12288 <= 16383: twice the range seen
    s, z = qm.new_state(), [0]
    prev = 0
    for t in range(1, 25):
        qm.step(s, quant.dense_input(qm, [1.0]), z)
        c = s[0][1]
        assert prev <= c and abs(c - min(32767, 2048 * t)) <= t, (t, c)  # ~1.0 (2048 in Q11) per step
        prev = c
    assert c == 32767  # saturated at 16 (Q11), not wrapped
    assert s[0][0] == Q.mul_q15(32767, 32767)  # o tanh(c) ~ 1


def test_quantised_rows_follow_the_gate_formats():
    """lstm: i, f, o rows requantise to Q11 and g to Q12 (m and r say so); gru n's parts to Q12."""
    m, _, cal = qg.char_models()[2]  # the one-layer LSTM
    qm = quant.quantize(m, "token", "int16", cal)
    R, H = qm.layers[0].rows, m.H
    assert R.n == 4 * H and R.k == m.X + H
    # same weight scale s: one unit of d is s * 2**(P-15), so m / 2**(14 + r) = unit * 2**out_bits
    for i in range(R.n):
        out_bits = 12 if 2 * H <= i < 3 * H else 11
        row = [m.params[m.layout.Wxh + i * m.X + j] for j in range(m.X)] + [m.params[m.layout.Whh + i * H + j] for j in range(H)]
        big = max(abs(v) for v in row[m.X:])
        unit = big / 32767 * 2.0 ** (8 - 15)
        assert abs(R.m[i] / 2.0 ** (14 + R.r[i]) / (unit * 2.0 ** out_bits) - 1.0) < 1e-3
    g, _, gcal = qg.char_models()[0]  # the GRU
    gq = quant.quantize(g, "token", "int8", gcal)
    Lq = gq.layers[0]
    assert (Lq.rows.n, Lq.nx.n, Lq.nh.n, Lq.nx.k, Lq.nh.k) == (2 * g.H, g.H, g.H, g.X, g.H)
    assert not any(Lq.nx.kx) and not any(Lq.nh.kx)


# ------------------------------------------------------------- calibration
def test_calibration_records_gate_and_cell_ranges():
    m, _, cal = qg.char_models()[1]  # the 2-layer LSTM
    assert len(cal["layers"]) == 2
    for d in cal["layers"]:
        assert len(d["gate_absmax"]) == 4 and all(0.0 < v < 100.0 for v in d["gate_absmax"])
        assert 0.0 < d["c_absmax"] < 50.0
    g, _, gcal = qg.char_models()[0]
    d = gcal["layers"][0]
    assert len(d["gate_absmax"]) == 3 and d["nx_absmax"] > 0.0 and d["nh_absmax"] > 0.0
    # the JSON round trip is accepted, and a stored calibration is checked field by field
    back = quant.check_calibration(json.loads(json.dumps(cal)), "cal")
    assert quant.quantize(m, "token", "int8", back).layers[1].cs == quant.quantize(m, "token", "int8", cal).layers[1].cs
    bad = json.loads(json.dumps(cal))
    bad["layers"][1]["c_absmax"] = -1
    with pytest.raises(quant.QuantError, match=r"^cal.layers\[1\].c_absmax must be finite numbers >= 0, got -1$"):
        quant.check_calibration(bad, "cal")
    with pytest.raises(quant.QuantError, match=r"^cal.layers must be a list of objects$"):
        quant.check_calibration(dict(cal, layers=[1]), "cal")


def test_an_lstm_needs_its_c_range():
    m, _, cal = qg.char_models()[2]
    old = {k: v for k, v in cal.items() if k != "layers"}  # a calibration from before gated cells
    with pytest.raises(quant.QuantError, match="the calibration has no c_absmax for layer 0 .*run tinyrnn calibrate CKPT FILE"):
        quant.quantize(m, "token", "int8", old)
    g, _, gcal = qg.char_models()[0]
    quant.quantize(g, "token", "int8", {k: v for k, v in gcal.items() if k != "layers"})  # a GRU has no c: fine


# ------------------------------------------------------------- command line
@pytest.fixture(scope="module")
def lstm_ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("qlstm")
    text = d / "t.txt"
    text.write_text("the cat sat on the mat; the dog sat on the log. " * 20)
    assert cli_main(["train", str(text), "--cell", "lstm", "--layers", "2", "--hidden", "6", "--steps", "30", "--out", str(d / "o"),
                     "--quiet"]) == 0
    return d, str(d / "o" / "model.json"), str(text)


def test_cli_export_sample_eval_quant_for_a_stacked_lstm(lstm_ckpt, capsys):
    d, ckpt, text = lstm_ckpt
    for w in WIDTHS:
        out = str(d / ("m_%s.h" % w))
        assert cli_main(["export", ckpt, "-o", out, "--quant", w]) == 0
        h = open(out).read()
        assert "2-layer LSTM" in h and "#define model_LAYERS 2" in h and "int16_t c[model_LAYERS][model_H_S]" in h
        assert "#define model_C_SHIFT_1 " in h
        assert cli_main(["eval", ckpt, text, "--quant", w]) == 0
        assert cli_main(["sample", ckpt, "--quant", w, "-n", "20", "-t", "0"]) == 0
    mp = str(d / "m_q.py")
    assert cli_main(["export", ckpt, "--format", "micropython", "--quant", "int16", "-o", mp]) == 0
    ns = {}  # type: dict
    exec(compile(open(mp).read(), mp, "exec"), ns)
    ck = checkpoint.load(ckpt)
    qm, _, _ = quant.quantize_checkpoint(ck, "int16")
    st, z = qm.new_state(), [0] * qm.Y
    for t in [0, 3, 1, 4, 1, 5]:
        qm.step(st, t, z)
        assert ns["step"](t) == z
    assert (ns["LAYERS"], ns["CELL"], ns["h"], ns["c"]) == (2, "lstm", [s[:6] for s in st], [s[6:] for s in st])
    assert cli_main(["calibrate", ckpt, text]) == 0
    stored = checkpoint.load(ckpt).export["calibration"]
    assert len(stored["layers"]) == 2 and stored["layers"][1]["c_absmax"] > 0.0
    capsys.readouterr()


def test_cli_bad_stored_calibration_is_one_line(lstm_ckpt, capsys):
    d, ckpt, _ = lstm_ckpt
    raw = json.load(open(ckpt))
    raw.setdefault("export", {})["calibration"] = {"z_absmax": 3.0, "x_absmax": None, "steps": 1, "source": "old"}
    bad = str(d / "old.json")
    json.dump(raw, open(bad, "w"))
    capsys.readouterr()
    assert cli_main(["export", bad, "-o", str(d / "x.h"), "--quant", "int8"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no c_absmax for layer 0" in err and "tinyrnn calibrate" in err
    assert not os.path.exists(str(d / "x.h"))


def test_emulator_rejects_bad_input_for_gated_models():
    m, data, cal = qg.classifiers()[0]
    qm = quant.quantize(m, "dense", "int8", cal)
    st, z = qm.new_state(), [0] * 3
    for bad in ([1], [1, 40000], [1, 2.5], 0):
        with pytest.raises(ValueError):
            qm.step(st, bad, z)
    assert st == qm.new_state()
    assert math.isfinite(quant.sequence_quality(qm, "softmax", [SeqExample(data[0][0], [0], True, 0)])["eval_loss"])


def test_rows_with_dominant_input_weights_coarsen_instead_of_overflowing():
    """An int16 row whose input weights are 2**14 times its recurrent ones would overflow 2**30 in units of
    the recurrent step: its step doubles until the bound holds (here 10 times), never past one scale for the row."""
    row = [3000.0, -2500.0, 2800.0, 2900.0, -3000.0, 1000.0] + [0.2, -0.1, 0.15, 0.05, -0.2]
    R = quant.quantize_rows([row], [0.5], [32768] * 6 + [32767] * 5, "int16", 12, "r", 0, 6)
    s = 0.2 / 32767  # the recurrent step before the boost; k0 = 14 (3000 <= 0.2 * 2**14)
    assert R.kx[0] < 14
    boost = 14 - R.kx[0]
    assert boost > 0
    bound = sum(-((-abs(w) * 32768) >> 8) << R.kx[0] for w in R.W[:6]) + sum(-((-abs(w) * 32767) >> 8) for w in R.W[6:])
    assert bound < Q.ACC_LIMIT <= 2 * bound  # the smallest boost that fits: one less would overflow
    step = s * 2.0 ** boost
    for w, v in zip(R.W[6:], row[6:]):
        assert abs(w * step - v) <= step / 2 + 1e-12
    for w, v in zip(R.W[:6], row[:6]):
        assert abs(w * step * 2.0 ** R.kx[0] - v) <= step * 2.0 ** R.kx[0] / 2 + 1e-9
