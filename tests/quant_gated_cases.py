"""Trained gated and stacked models for the integer tests: char models and dense classifiers.

Char models: tests/data/gated_trained.json (a GRU and a 2-layer LSTM trained by
PyTorch, an LSTM trained by tinyrnn; H = 8, on export_cases.TEXT). Classifiers:
the waves task of quant_cases (X = 2, Y = 3), a 2-layer GRU, an LSTM and a
2-layer tanh RNN trained here with Adam (a few seconds).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_cases as ec  # noqa: E402  (puts tools/ on sys.path)
import gated_cases as gc  # noqa: E402
import quant_cases as qc  # noqa: E402

from tinyrnn import RNN, Adam, Rng, init_params  # noqa: E402
from tinyrnn.workflow import quant  # noqa: E402

CLASSIFIERS = (("gru", 2), ("lstm", 1), ("rnn", 2))
_cache = {}  # type: dict


def text_ids() -> "list[int]":
    return [sorted(set(ec.TEXT)).index(ch) for ch in ec.TEXT]


def char_models() -> "list[tuple]":
    """[(model, vocab, calibration)] of the trained gated char models."""
    if "char" not in _cache:
        ids = text_ids()
        _cache["char"] = [(m, vocab, quant.calibrate(m, [ids], "TEXT", True)) for m, vocab in gc.trained_models()]
    return _cache["char"]


def classifiers(iters: int = 300) -> "list[tuple]":
    """[(model, data, calibration)]: dense softmax classifiers (X = 2, H = 8, Y = 3) trained many-to-one."""
    if "cls" not in _cache:
        data = qc.waves(Rng(5), 60)
        out = []
        for cell, layers in CLASSIFIERS:
            m = RNN(2, 8, 3, 24, "softmax", cell=cell, layers=layers)
            init_params(m, 11, "xavier")
            qc.fit(m, data, Adam(m.num_params, 0.02), iters)
            out.append((m, data, quant.calibrate(m, [xs for xs, _ in data], "waves", False)))
        _cache["cls"] = out
    return _cache["cls"]


def quantized(m: RNN, kind: str, width: str, cal: dict):
    return quant.quantize(m, kind, width, cal)


def hostile() -> "list[tuple]":
    """[(name, qmodel, model, int16 inputs)]: random 2-layer models with large weights (every gate
    saturates) and inputs up to +-50 (input weights dominate: rows with a boosted step), then the
    int16 extremes; every cell and width, the LSTMs with c formats forced across the range (cs = 14,
    13, 12: c >> (cs - 12); 7: a saturating c << 5)."""
    if "hostile" not in _cache:
        rng = Rng(13)
        out = []
        for cell, cmaxes in (("gru", [None]), ("rnn", [None]), ("lstm", [0.5, 1.5, 3.0, 100.0])):
            m = RNN(3, 5, 2, 5, "mse", cell=cell, layers=2)
            init_params(m, 3, "uniform", 6.0)
            xs = [[rng.uniform(-50.0, 50.0) for _ in range(3)] for _ in range(30)]
            cal = quant.calibrate(m, [xs], "hostile", False)
            for k, cmax in enumerate(cmaxes):
                for w in ("int8", "int16"):
                    if cmax is not None:
                        cal = dict(cal, layers=[dict(d, c_absmax=cmax) for d in cal["layers"]])
                    qm = quant.quantize(m, "dense", w, cal)
                    inputs = [quant.dense_input(qm, x) for x in xs] + [[32767, -32768, 32767], [-32768, -32768, -32768], [32767] * 3]
                    out.append(("gh%s%d_%s" % (cell, k, w), qm, m, inputs))
        _cache["hostile"] = out
    return _cache["hostile"]
