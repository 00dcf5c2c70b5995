#!/usr/bin/env python3
"""Where one training iteration of the core spends its time, phase by phase.

    python3 tools/profile_core.py 8             # H = 8 (default); X = Y = 65, 25-step chunk
    python3 tools/profile_core.py 8 --in-loop   # what each kernel costs inside the training loop

Times each phase of ``tools/bench_train.py``'s iteration (forward, backward,
clip, Adagrad) and each kernel call inside them, by calling the same kernels
the model calls on the same buffers (best of 5 x 300 runs, process CPU time),
then the primitives of the iteration alone -- every dot product (as the
kernels compute it: written out for rows of up to 12 numbers, else
``math.sumprod``), ``exp``, ``tanh`` and the Adagrad and clipping arithmetic
over prebuilt lists, with no slicing, handles or calls between them: the
floor of this algorithm in pure Python.

``--in-loop`` instead times ``tools/bench_train.py``'s training loop (its
corpus, weights and ``TinyTrainer``: forward, backward, clip, Adagrad, the
state carried over) against the same loop with one kernel made a no-op,
round after round: the paired median
of the difference is what that kernel costs in the loop, where the caches
hold the whole iteration's data rather than one phase's (so more than the
phase timed alone).
"""

import math
import os
import sys
import time
from typing import Callable, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinyrnn import RNN, Adagrad, Rng, clip_elementwise, init_params  # noqa: E402
from tinyrnn.core import heads  # noqa: E402
from tinyrnn.core import kernels as k  # noqa: E402
from tinyrnn.core.unrolled import dots_all  # noqa: E402


def tm(name: str, f: "Callable[[], object]", reps: int = 300) -> float:
    best = 1e9
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(reps):
            f()
        best = min(best, (time.process_time() - t0) / reps)
    print("%-40s %8.1f us" % (name, best * 1e6))
    return best


def primitives(H: int, X: int, Y: int, n: int, used: int) -> "List[Tuple[str, Callable[[], object]]]":
    """The iteration's primitives with no glue: dots, exp, tanh, Adagrad and clip arithmetic, on prebuilt lists.

    One call of each, in order, is the floor of one iteration of this
    algorithm in pure Python (``tools/bench_train.py --floor`` times them so).
    """
    r = Rng(5)
    exp, tanh, sqrt = math.exp, math.tanh, math.sqrt

    def vecs(count: int, size: int) -> "List[List[float]]":
        return [[0.1 * r.normal() for _ in range(size)] for _ in range(count)]

    def dots(As: "List[List[float]]", Bs: "List[List[float]]") -> "List[float]":
        return dots_all(Bs, As)  # the kernels' dot products: written out up to 12 numbers, else math.sumprod

    Wo, hs1, WoT, dzs = vecs(Y, H + 1), vecs(n, H + 1), vecs(H, Y), vecs(n, Y)
    dzc, hc, drc = vecs(Y, n), vecs(H, n), vecs(H, n)
    Wh, WhT, drs = vecs(H, H + 1), vecs(H, H), vecs(n, H)
    z, a = vecs(1, n * Y)[0], vecs(1, n * H)[0]
    N = used * H + H * H + H + Y * H + Y  # the numbers clipping and Adagrad touch
    g, w, m = vecs(1, N)[0], vecs(1, N)[0], [abs(v) for v in vecs(1, N)[0]]
    lr, eps = 0.1, 1e-8

    def adagrad() -> None:
        m2 = [mi + gi * gi for mi, gi in zip(m, g)]
        [wi - lr * gi / sqrt(mi + eps) for wi, gi, mi in zip(w, g, m2)]

    return [
        ("logits: n*Y dots of H+1", lambda: dots(Wo, hs1)),
        ("Why^T dz: n*H dots of Y", lambda: dots(WoT, dzs)),
        ("dWhy, dWhh: (Y+H)*H dots of n", lambda: (dots(dzc, hc), dots(drc, hc))),
        ("recurrences: 2*n*H dots of H (+1)", lambda: (dots(Wh, hs1), dots(WhT, drs))),
        ("exp: n*Y, tanh: n*H", lambda: ([exp(v) for v in z], [tanh(v) for v in a])),
        ("clip check (min, max)", lambda: min(g) >= -5.0 and max(g) <= 5.0),
        ("Adagrad arithmetic", adagrad),
    ]


def floor(H: int, X: int, Y: int, n: int, used: int) -> None:
    print("primitives alone (%d Wxh columns used):" % used)
    total = sum(tm("  " + name, f) for name, f in primitives(H, X, Y, n, used))
    print("%-40s %8.1f us" % ("  sum", total * 1e6))


def in_loop(H: int, rounds: int = 9, iters: int = 200) -> None:
    """Each kernel's cost inside the training loop: the loop's time minus the loop's with it a no-op."""
    import statistics

    tools = os.path.dirname(os.path.abspath(__file__))
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import bench_train as bench  # its corpus, initial weights and TinyTrainer: the loop it times

    V, chunks = bench.make_chunks(bench.make_corpus())
    knock = {  # kernel -> its no-op (softmax_rows still returns one logsumexp per row)
        "mm": lambda *a: None,
        "softmax_rows": lambda z, zoff, R, C, p, poff: [0.0] * R,
        "steps": lambda *a: None,
        "mtm": lambda *a: None,
        "dsteps": lambda *a: None,
        "outer_time": lambda *a: None,
        "add_col": lambda *a: None,
        "clamp": lambda *a: None,
        "adagrad": lambda *a: None,
    }

    def trainer() -> "Callable[[], None]":
        t = bench.TinyTrainer(V, H, chunks, bench.initial_params(V, H))
        t.run(iters)  # warm up
        return lambda: t.run(iters)

    missing = [name for name in knock if not hasattr(k, name)]
    if missing:  # a renamed kernel must fail here, not time a no-op nobody calls
        raise SystemExit("profile_core: kernels.py has no %s" % ", ".join(missing))
    runs = {name: trainer() for name in ["loop"] + list(knock)}
    times = {name: [] for name in runs}  # type: dict[str, List[float]]
    for _ in range(rounds):
        for name, run in runs.items():
            real = getattr(k, name, None)
            if name in knock:
                setattr(k, name, knock[name])
            try:
                t0 = time.process_time()
                run()
                times[name].append((time.process_time() - t0) / iters)
            finally:
                if name in knock:
                    setattr(k, name, real)
    print("Python %s, H = %d: the training loop, %d rounds x %d iterations" % (sys.version.split()[0], H, rounds, iters))
    print("%-40s %8.1f us" % ("whole iteration (median)", statistics.median(times["loop"]) * 1e6))
    print("each kernel's cost in the loop (paired median of the loop minus the loop with it a no-op):")
    total = 0.0
    for name in knock:
        d = statistics.median(a - b for a, b in zip(times["loop"], times[name]))
        total += d
        print("%-40s %8.1f us" % ("  " + name, d * 1e6))
    print("%-40s %8.1f us" % ("  sum of these", total * 1e6))
    rest = statistics.median(times["loop"]) - total
    print("%-40s %8.1f us" % ("the rest (_load, handles, dz, loss, calls)", rest * 1e6))


def main() -> int:
    if "--in-loop" in sys.argv:
        sys.argv.remove("--in-loop")
        in_loop(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
        return 0
    H = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    V = X = Y = 65
    n = 25
    m = RNN(V, H, V, n)
    init_params(m, 1, "normal", 0.01)
    opt = Adagrad(m.num_params, 0.1)
    r = Rng(3)
    data = [r.below(V) for _ in range(n + 1)]
    xs, ys = data[:n], data[1:]
    m.forward(xs, ys)
    m.backward()
    P, L, h, z, G = m.params, m.layout, m.h, m.z, m.grads
    dz, dh, dr, dn = m.dz, m.dh, m.dh_raw, m.dh0
    u = m.grad_ranges()
    print("Python %s, H = %d, X = Y = %d, %d steps" % (sys.version.split()[0], H, V, n))
    tm("forward (all)", lambda: m.forward(xs, ys))
    tm("  _load (validate + copy input)", lambda: m._load(xs, ys, None, None, False))
    tm("  rows: [Whh|bh], [Why|by] handles", lambda: (k.rows(P, L.Whh, H, H, L.bh), k.rows(P, L.Why, Y, H, L.by)))
    Wh, Wo = k.rows(P, L.Whh, H, H, L.bh), k.rows(P, L.Why, Y, H, L.by)

    tm("  recurrence (steps: Whh h + bh + a Wxh column, tanh)", lambda: k.steps(Wh, H, h, n, P, L.Wxh, X, xs))
    tm("  output layer (mm: every step in one pass)", lambda: k.mm(Wo, h, H, H, z, 0, n))
    tm("  softmax + loss", lambda: heads.forward("softmax", z, m.p, n, Y, m.ids, m.targets, m.w))
    tm("backward (all)", m.backward)
    tm("  dz = p - onehot", lambda: heads.backward("softmax", m.p, dz, n, Y, m.ids, m.targets, m.w, True))
    tm("  cols: Why^T, Whh^T handles", lambda: (k.cols(P, L.Why, Y, H), k.cols(P, L.Whh, H, H)))
    WoT, WhT = k.cols(P, L.Why, Y, H), k.cols(P, L.Whh, H, H)

    def dwxh() -> None:
        k.fill(G, L.Wxh, H * X, 0.0)
        for t in range(n):
            k.add_col(G, L.Wxh, H, X, xs[t], dr, t * H)

    tm("  Why^T dz (mtm: every step in one pass)", lambda: k.mtm(WoT, dz, 0, Y, dh, 0, n))
    tm("  recurrence (dsteps: dh_raw[t], dh[t-1] += Whh^T dh_raw[t])", lambda: k.dsteps(WhT, H, h, dh, dr, n, dn))
    tm("  dWhy, dby (dots over time)", lambda: k.outer_time(G, L.Why, Y, H, dz, 0, Y, h, H, H, n, L.by))
    tm("  dWhh, dbh (dots over time)", lambda: k.outer_time(G, L.Whh, H, H, dr, 0, H, h, 0, H, n, L.bh))
    tm("  dWxh (zero + column adds)", dwxh)
    tm("clip [-5, 5], chunk's columns", lambda: clip_elementwise(m.grads, 5.0, u))
    tm("Adagrad, chunk's columns", lambda: opt.step(m.params, m.grads, u))
    tm("Adagrad, every parameter", lambda: opt.step(m.params, m.grads))
    floor(H, X, Y, n, len(m.used))
    return 0


if __name__ == "__main__":
    sys.exit(main())
