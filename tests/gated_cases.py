"""Models and input sequences for the gated-cell C export tests (tests/test_export_gated*.py)."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_cases as ec  # noqa: E402  (puts tools/ on sys.path)
import gated_ref as gr  # noqa: E402

import c_targets as ct  # noqa: E402

from tinyrnn import Rng  # noqa: E402

FREE_STEPS = ec.FREE_STEPS
# (cell, layers) of the one-step models: every cell at depth 1 and 2, and a 3-layer stack
SHAPES = (("gru", 1), ("gru", 2), ("lstm", 1), ("lstm", 2), ("rnn", 2), ("gru", 3), ("lstm", 3), ("rnn", 3))
HEADS = ("softmax", "sigmoid", "mse")


def random_state(rng: Rng, m) -> "list[float]":
    """h in [-1, 1]; the LSTM's c in [-3, 3] (c is not bounded by tanh)."""
    n = m.layers * m.H
    s = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    if m.cell == "lstm":
        s += [rng.uniform(-3.0, 3.0) for _ in range(n)]
    return s


def one_step_cases(prefix: str, hs: "tuple[int, ...]", steps: int, seed: int) -> "list[ct.Case]":
    """Random models, weights uniform in [-scale, scale], scale 0.5 or 1: each shape x dense/token x H,
    heads cycled; a random state (every layer's h, and c) is loaded before every step."""
    rng = Rng(seed)
    out = []
    k = 0
    for si, (cell, layers) in enumerate(SHAPES):
        for dense in (False, True):
            for hi, H in enumerate(hs):
                head = HEADS[(si + hi + int(dense)) % 3]
                scale = (0.5, 1.0)[(si + hi) % 2]
                X, Y = 1 + rng.below(9), 1 + rng.below(9)
                m = gr.make(X, H, Y, head, cell, layers)
                gr.random_params(m, rng, scale)
                if dense:
                    inputs = [[rng.uniform(-2.0, 2.0) for _ in range(X)] for _ in range(steps)]  # type: list
                else:
                    inputs = [rng.below(X) for _ in range(steps)]
                    if H <= 8:  # out-of-range tokens: rejected, state untouched
                        inputs[1], inputs[2] = -1, X
                states = [random_state(rng, m) for _ in range(steps)]
                c = ct.Case(m, "%s%d" % (prefix, k), dense, inputs, steps, states, print_state=H <= 8)
                c.scale = scale  # type: ignore[attr-defined]
                out.append(c)
                k += 1
    return out


def trained_models() -> "list[tuple]":
    """(model, vocab) of tests/data/gated_trained.json: a GRU and a 2-layer LSTM trained by
    PyTorch and an LSTM trained by tinyrnn, on export_cases.TEXT (tests/make_gated_trained.py)."""
    with open(os.path.join(HERE, "data", "gated_trained.json")) as f:
        data = json.load(f)
    out = []
    for d in data:
        m = gr.make(d["X"], d["H"], d["Y"], "softmax", d["cell"], d["layers"])
        m.params[:] = d["params"]
        out.append((m, d["vocab"]))
    return out


def free_cases(prefix: str, small: bool, steps: int = FREE_STEPS) -> "list[ct.Case]":
    """``steps``-step free runs from the zero state: the three trained models (on TEXT) and random
    contractive models (each layer's ||Whh||_F = 0.9)."""
    ids = [sorted(set(ec.TEXT)).index(ch) for ch in ec.TEXT]
    cases = []
    for k, (m, vocab) in enumerate(trained_models()):
        cases.append(ct.Case(m, "%st%d%s%d" % (prefix, k, m.cell, m.layers), False, ids, steps, vocab=vocab))
    rng = Rng(29)
    shapes = [("gru", 2, 3, 4, 2, "mse", True), ("lstm", 1, 3, 4, 2, "sigmoid", False), ("rnn", 2, 3, 4, 2, "softmax", True)]
    if not small:
        shapes = [("gru", 1, 3, 16, 4, "mse", True), ("lstm", 2, 12, 12, 8, "softmax", False), ("rnn", 3, 5, 8, 3, "sigmoid", True)]
    for k, (cell, layers, X, H, Y, head, dense) in enumerate(shapes):
        m = gr.make(X, H, Y, head, cell, layers)
        gr.random_params(m, rng, 1.0, recurrent_norm=0.9)
        inputs = [[rng.uniform(-1.0, 1.0) for _ in range(X)] for _ in range(37)] if dense else [rng.below(X) for _ in range(37)]
        cases.append(ct.Case(m, "%sc%d" % (prefix, k), dense, inputs, steps))
    return cases
