"""Trained models for the integer export tests: a char model and a dense classifier."""

import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_cases as ec  # noqa: E402  (puts tools/ on sys.path)

from tinyrnn import RNN, Adagrad, Rng, clip_elementwise, init_params  # noqa: E402
from tinyrnn.core import quant as Q  # noqa: E402
from tinyrnn.core.heads import softmax_row  # noqa: E402
from tinyrnn.workflow import quant  # noqa: E402

_cache = {}  # type: dict


def char_model():
    """(model, vocab, ids): export_cases' trained char model (V = 16, H = 8)."""
    if "char" not in _cache:
        _cache["char"] = ec.trained_char_model()
    return _cache["char"]


def waves(rng: Rng, n: int, T: int = 24):
    """n sequences of 2-D points on one of 3 curves (class = curve), noisy."""
    out = []
    for _ in range(n):
        c = rng.below(3)
        f = (0.15, 0.35, 0.6)[c]
        ph = rng.uniform(0.0, 6.28)
        xs = [[math.sin(f * t + ph) + rng.uniform(-0.2, 0.2), (c - 1) * 0.3 * math.cos(0.1 * t) + rng.uniform(-0.2, 0.2)] for t in range(T)]
        out.append((xs, c))
    return out


def fit(m, data, opt, iters: int) -> None:
    """``iters`` many-to-one steps over ``data`` in turn, elementwise clip 5."""
    for k in range(iters):
        xs, c = data[k % len(data)]
        m.forward(xs, [c], last_only=True)
        m.backward()
        clip_elementwise(m.grads, 5.0)
        opt.step(m.params, m.grads)


def classifier(iters: int = 400):
    """(model, train sequences): a dense softmax classifier (X = 2, H = 12, Y = 3) trained many-to-one."""
    if "cls" not in _cache:
        rng = Rng(5)
        data = waves(rng, 90)
        m = RNN(2, 12, 3, 24, "softmax")
        init_params(m, 11, "xavier")
        fit(m, data, Adagrad(m.num_params, 0.05), iters)
        _cache["cls"] = (m, data)
    return _cache["cls"]


def float_text_loss(m: RNN, ids: "list[int]") -> float:
    """The float model's mean loss in nats per symbol over ``ids``, stepped as the integer model is."""
    h, z, p = m.new_state(), [0.0] * m.Y, [0.0] * m.Y
    total = 0.0
    for t in range(len(ids) - 1):
        m.step(h, ids[t], z)
        total += softmax_row(z, p, 0, m.Y) - z[ids[t + 1]]
    return total / (len(ids) - 1)


def float_accuracy(m: RNN, data) -> float:
    """The float classifier's accuracy over ``data`` (sequences, class), read at the last step."""
    right = 0
    for xs, c in data:
        h, z = m.new_state(), [0.0] * m.Y
        for x in xs:
            m.step(h, x, z)
        right += z.index(max(z)) == c
    return right / len(data)


def greedy(qm, tok: int, steps: int):
    """(last token, logits, state) after ``steps`` greedy steps of the integer model from token ``tok``."""
    st, z = qm.new_state(), [0] * qm.Y
    for _ in range(steps):
        qm.step(st, tok, z)
        tok = Q.argmax(z)
    return tok, z, st


def quantized_char(width: str):
    m, vocab, ids = char_model()
    return quant.quantize(m, "token", width, quant.calibrate(m, [ids], "TEXT", True))


def quantized_classifier(width: str):
    m, data = classifier()
    return quant.quantize(m, "dense", width, quant.calibrate(m, [xs for xs, _ in data], "waves", False))
