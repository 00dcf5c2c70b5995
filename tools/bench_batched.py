"""Training throughput of tinyrnn.arrays' batched trainer against PyTorch, same run.

One iteration = forward + BPTT + Adagrad on a batch of B sequences of T
token ids (vocabulary V, next-token softmax targets, loss summed over steps
and sequences, H hidden units). Timed, interleaved round by round so that
machine noise hits every contender alike:

- tinyrnn.arrays ``Trainer`` on numpy (array-api-compat's numpy namespace)
- tinyrnn.arrays ``Trainer`` on torch (the same code, torch tensors, no autograd)
- PyTorch ``nn.RNN`` + ``nn.Linear`` + ``torch.optim.Adagrad`` with autograd
  (one-hot inputs, ``cross_entropy(reduction="sum")``): the reference
- optionally (``--core``) the pure-Python core, one sequence per iteration

All start from the same weights and see the same batches; the first losses
are printed to show they compute the same thing. Thread pools are set to
``--threads`` (default 1) for BLAS and torch alike, before numpy/torch load.

    python3 tools/bench_batched.py                 # B=32 H=64 V=65 T=25, float64 and float32
    python3 tools/bench_batched.py --rounds 7 --seconds 2
"""

import argparse
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated (default float64,float32)")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds per contender (default 5)")
    p.add_argument("--seconds", type=float, default=1.0, help="seconds per contender per round (default 1)")
    p.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
    p.add_argument("--core", action="store_true", help="also time the pure-Python core (one sequence per iteration)")
    return p.parse_args()


def main() -> int:
    args = parse()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    sys.path.insert(0, ROOT)
    import numpy as np

    try:
        import torch
    except ImportError:
        print("torch is not installed: the PyTorch reference is required (pip install torch)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)

    from tinyrnn import RNN, Rng, init_params
    from tinyrnn.arrays import Trainer, to_torch

    B, H, V, T = args.batch, args.hidden, args.vocab, args.steps
    rng = Rng(2024)
    pool = []  # type: list[tuple[list[list[int]], list[list[int]]]]  # 8 batches of (inputs, next-token targets)
    for _ in range(8):
        seqs = [[rng.below(V) for _ in range(T + 1)] for _ in range(B)]
        pool.append(([s[:T] for s in seqs], [s[1:] for s in seqs]))
    model0 = RNN(V, H, V, T, "softmax")
    init_params(model0, 1)

    print("tinyrnn.arrays batched training: B=%d H=%d V=%d T=%d, Adagrad lr 0.1, %d thread(s)" % (B, H, V, T, args.threads))
    print(
        "Python %s, numpy %s, torch %s, %s; %d rounds x %.1f s per contender"
        % (platform.python_version(), np.__version__, torch.__version__, platform.machine(), args.rounds, args.seconds)
    )

    def clone() -> RNN:
        m = RNN(V, H, V, T, "softmax")
        m.params[:] = model0.params
        return m

    results = {}
    for dtype in args.dtypes.split(","):
        tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
        contenders = {}  # type: dict[str, Callable[[int], None]]
        first_loss = {}  # type: dict[str, float]

        for name, lib in (("tinyrnn.arrays numpy", np), ("tinyrnn.arrays torch", torch)):
            tr = Trainer(clone(), lib, dtype=dtype, optimizer="adagrad", lr=0.1)
            batches = [(lib.asarray(x), lib.asarray(y)) for x, y in pool]
            first_loss[name] = tr.net.forward(*batches[0])

            def run(k: int, tr: Trainer = tr, batches: "list[Any]" = batches) -> None:
                for i in range(k):
                    bx, by = batches[i & 7]
                    tr.train_step(bx, by, check=False)

            contenders[name] = run

        rnn, lin = to_torch(clone(), dtype=dtype)
        opt = torch.optim.Adagrad(list(rnn.parameters()) + list(lin.parameters()), lr=0.1)
        tb = [(torch.tensor(x), torch.tensor(y)) for x, y in pool]
        F = torch.nn.functional

        def ref_loss(x: "torch.Tensor", y: "torch.Tensor") -> "torch.Tensor":
            h, _ = rnn(F.one_hot(x, V).to(tdt))
            return F.cross_entropy(lin(h).reshape(-1, V), y.reshape(-1), reduction="sum")

        with torch.no_grad():
            first_loss["PyTorch nn.RNN+Linear+Adagrad"] = float(ref_loss(*tb[0]))

        def run_ref(k: int) -> None:
            for i in range(k):
                x, y = tb[i & 7]
                opt.zero_grad()
                ref_loss(x, y).backward()  # type: ignore[no-untyped-call]
                opt.step()

        contenders["PyTorch nn.RNN+Linear+Adagrad"] = run_ref
        print("\n%s: first-batch loss %s" % (dtype, ", ".join("%s %.10g" % (k, v) for k, v in first_loss.items())))

        for fn in contenders.values():  # warm up
            fn(5)
        rates = {name: [] for name in contenders}  # type: dict[str, list[float]]
        for _ in range(args.rounds):
            for name, fn in contenders.items():
                k, t0 = 0, time.perf_counter()
                while True:
                    fn(4)
                    k += 4
                    el = time.perf_counter() - t0
                    if el >= args.seconds:
                        break
                rates[name].append(B * k / el)
        results[dtype] = rates

    core_rate = None
    if args.core:
        m = clone()
        from tinyrnn import Adagrad

        opt_c = Adagrad(m.num_params, 0.1)
        pairs = [(sx, sy) for xs, ys in pool for sx, sy in zip(xs, ys)]
        k, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < args.seconds * 2:
            sx, sy = pairs[k % len(pairs)]
            m.forward(sx, sy)
            m.backward()
            opt_c.step(m.params, m.grads)
            k += 1
        core_rate = k / (time.perf_counter() - t0)

    ref = "PyTorch nn.RNN+Linear+Adagrad"
    print("\n| dtype | contender | sequences/s (median) | best | x PyTorch (median of per-round ratios) |")
    print("|---|---|---:|---:|---:|")
    for dtype, rates in results.items():
        for name, r in rates.items():
            ratios = [a / b for a, b in zip(r, rates[ref])]
            print("| %s | %s | %.0f | %.0f | %.2f |" % (dtype, name, statistics.median(r), max(r), statistics.median(ratios)))
    if core_rate is not None:
        print("| float64 | tinyrnn core (pure Python, batch 1) | %.0f | | %.3f |" % (core_rate, core_rate / statistics.median(results.get("float64", {ref: [1.0]})[ref])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
