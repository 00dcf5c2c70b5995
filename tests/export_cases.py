"""Models and input sequences for the C export agreement tests (tests/test_export_targets.py)."""

import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import c_targets as ct  # noqa: E402

from tinyrnn import RNN, Adagrad, Rng, clip_elementwise, init_params  # noqa: E402

TEXT = (
    "a cat sat on a mat. a rat sat on a hat. the cat ate the rat? no: the cat sat, "
    "the rat ran, and the hat sat on the mat. "
)
HS = (1, 2, 7, 16, 33, 64)
SCALES = (0.1, 1.0, 4.0, 10.0)
FREE_STEPS = 10000


def random_model(rng: Rng, X: int, H: int, Y: int, head: str, scale: float) -> RNN:
    """Every weight and bias uniform in [-scale, scale] (biases too, so their path is tested)."""
    m = RNN(X, H, Y, 1, head)
    init_params(m, rng.next_u64(), "uniform", scale)
    for g in ("bh", "by"):
        off = m.layout.groups[g][0]
        for k in range(off, off + m.layout.group_size(g)):
            m.params[k] = rng.uniform(-scale, scale)
    return m


def spectral_norm(m: RNN, iters: int = 200) -> float:
    """Power-iteration estimate of ||Whh||_2 (on Whh^T Whh)."""
    H, off = m.H, m.layout.Whh
    W = [m.params[off + i * H : off + (i + 1) * H] for i in range(H)]
    v = [1.0 + 0.01 * i for i in range(H)]
    s = 0.0
    for _ in range(iters):
        u = [sum(W[i][j] * v[j] for j in range(H)) for i in range(H)]
        w = [sum(W[i][j] * u[i] for i in range(H)) for j in range(H)]
        n = math.sqrt(sum(a * a for a in w))
        if n == 0.0:
            return 0.0
        v = [a / n for a in w]
        s = math.sqrt(n)
    return s


def contractive_model(rng: Rng, X: int, H: int, Y: int, head: str, norm: float = 0.9) -> RNN:
    """A random model with Whh rescaled so that ||Whh||_2 ~ norm < 1 (a contraction, tanh' <= 1)."""
    m = random_model(rng, X, H, Y, head, 1.0)
    s = spectral_norm(m)
    off = m.layout.Whh
    for k in range(off, off + H * H):
        m.params[k] *= norm / s
    return m


def trained_char_model(H: int = 8, iters: int = 300) -> "tuple[RNN, list[str], list[int]]":
    """A char model trained by tinyrnn on TEXT: (model, vocab, token ids of TEXT)."""
    vocab = sorted(set(TEXT))
    ids = [vocab.index(c) for c in TEXT]
    V, T = len(vocab), 25
    m = RNN(V, H, V, T, "softmax")
    init_params(m, 7, "xavier")
    opt = Adagrad(m.num_params, 0.1)
    p = 0
    for _ in range(iters):
        if p + T + 1 > len(ids):
            p = 0
        m.forward(ids[p : p + T], ids[p + 1 : p + T + 1])
        m.backward()
        clip_elementwise(m.grads, 5.0)
        opt.step(m.params, m.grads)
        p += T
    return m, vocab, ids


def one_step_cases(prefix: str, steps: int, seed: int) -> "list[ct.Case]":
    """Random models: each head x dense/token x H in HS, one weight scale per combination, cycled so
    that every H meets all four scales; a random state is loaded before every step."""
    rng = Rng(seed)
    cases = []
    k = 0
    for head in ("softmax", "sigmoid", "mse"):
        for dense in (False, True):
            combo = 2 * ("softmax", "sigmoid", "mse").index(head) + int(dense)
            for i, H in enumerate(HS):
                for scale in (SCALES[(combo + i) % 4],):
                    char = H == 64 and scale <= 1.0  # the char-model shape: 65 in, 65 out
                    X = 65 if char else 1 + rng.below(12)
                    Y = 65 if char else 1 + rng.below(12)
                    m = random_model(rng, X, H, Y, head, scale)
                    if dense:
                        inputs = [[rng.uniform(-2.0, 2.0) for _ in range(X)] for _ in range(steps)]  # type: list
                    else:
                        inputs = [rng.below(X) for _ in range(steps)]
                        if H <= 16:  # out-of-range tokens: rejected, state untouched
                            inputs[1] = -1
                            inputs[2] = X
                    states = [[rng.uniform(-1.0, 1.0) for _ in range(H)] for _ in range(steps)]
                    c = ct.Case(m, "%s%d" % (prefix, k), dense, inputs, steps, states, print_state=H <= 16)
                    c.scale = scale  # type: ignore[attr-defined]
                    cases.append(c)
                    k += 1
    return cases


def avr_one_step_cases() -> "list[ct.Case]":
    """The AVR subset: every head x input kind x H in (1, 7, 33, 64), scales cycled."""
    out = []
    rng = Rng(11)
    k = 0
    for head in ("softmax", "sigmoid", "mse"):
        for dense in (False, True):
            combo = 2 * ("softmax", "sigmoid", "mse").index(head) + int(dense)
            for i, H in enumerate((1, 7, 33, 64)):
                scale = SCALES[(i + combo) % len(SCALES)]
                X, Y = 1 + rng.below(10), 1 + rng.below(10)
                m = random_model(rng, X, H, Y, head, scale)
                steps = 3
                if dense:
                    inputs = [[rng.uniform(-2.0, 2.0) for _ in range(X)] for _ in range(steps)]  # type: list
                else:
                    inputs = [rng.below(X), -1 if H <= 7 else rng.below(X), X if H <= 7 else rng.below(X)]
                states = [[rng.uniform(-1.0, 1.0) for _ in range(H)] for _ in range(steps)]
                c = ct.Case(m, "a%d" % k, dense, inputs, steps, states, print_state=H <= 7)
                c.scale = scale  # type: ignore[attr-defined]
                out.append(c)
                k += 1
    return out


def free_cases(prefix: str, small: bool) -> "list[ct.Case]":
    """10,000-step free runs from h = 0: the trained char model and random contractive models."""
    m, vocab, ids = trained_char_model()
    cases = [ct.Case(m, prefix + "char", False, ids, FREE_STEPS, vocab=vocab)]
    rng = Rng(23)
    shapes = [(3, 4, 2, "mse", True)] if small else [(3, 16, 4, "mse", True), (12, 24, 8, "softmax", False)]
    for k, (X, H, Y, head, dense) in enumerate(shapes):
        c = contractive_model(rng, X, H, Y, head)
        inputs = [[rng.uniform(-1.0, 1.0) for _ in range(X)] for _ in range(37)] if dense else [rng.below(X) for _ in range(37)]
        # on AVR the small model runs with its weights in RAM (no PROGMEM): that path is run too
        cases.append(ct.Case(c, "%sc%d" % (prefix, k), dense, inputs, FREE_STEPS, progmem=not small))
    return cases


def check_rejected_tokens(res: "dict") -> "list[ct.Case]":
    """Over the token cases that print their state: every in-range token returned 0, every
    out-of-range one returned -1 with z = 0 and the state left as loaded. One case per rejection."""
    seen = []
    for c, got in res.values():
        if c.states is None or c.dense or not c.print_state:
            continue
        for t, (rc, z, s) in enumerate(got):
            tok = c.inputs[t % len(c.inputs)]
            if 0 <= tok < c.model.X:
                assert rc == 0
                continue
            seen.append(c)
            assert rc == -1, "%s: token %d accepted" % (c.name, tok)
            assert z == [0.0] * c.model.Y
            assert s == [ct.f32(v) for v in c.states[t]], "%s: state changed by a rejected token" % c.name
    return seen


def check_free_runs(res: "dict", reference: "object", tol: float) -> "list[tuple[ct.Case, float]]":
    """Every free-running case (no loaded states) ran all its steps and stayed within ``tol`` of
    ``reference(case)`` at every step; (case, worst |d|) per case."""
    out = []
    for c, got in res.values():
        if c.states is not None:
            continue
        assert len(got) == c.steps
        want = reference(c)  # type: ignore[operator]
        worst = 0.0
        for t, ((rc, z, _), (_, z_w, _)) in enumerate(zip(got, want)):
            assert rc == 0
            d = max(abs(a - b) for a, b in zip(z, z_w))
            worst = max(worst, d)
            assert d <= tol, "%s step %d: |C - Python| = %.3g > %g" % (c.name, t, d, tol)
        out.append((c, worst))
    return out
