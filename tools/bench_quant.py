#!/usr/bin/env python3
"""Quality of the integer models (tinyrnn.core.quant, bit-exact with export --quant) beside the float model.

1. The char model of each --cells: ``tinyrnn train --cell C`` (else defaults) on the bundled
   corpus (``--steps``, default the training default), then ``tinyrnn eval``
   on the corpus -- float, ``--quant int16``, ``--quant int8`` -- each
   calibrated on the training data (the default).
2. The UCR/UEA sets of tools/bench_ucr.py: the classifier of each --cells trained
   exactly as there (full-batch Adam, best-of-eval, seed 1; ``--seeds`` for
   more), calibrated on its (normalised) train split, and its test accuracy
   in float64 and through the integer emulator, int8 and int16.

Prints markdown tables; the goals of issue 11 are printed with them: char
model +0.03 nats/char (int16), +0.08 (int8); at most 1 point of test
accuracy lost (int8). Usage:

    .venv-test/py3.11/bin/python tools/bench_quant.py [--sets ...] [--h 8 16] [--cells rnn gru lstm] [--layers 1 2] [--epochs 300] [--no-char] [--no-ucr]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from tinyrnn.core.model import argmax  # noqa: E402
from tinyrnn.workflow import quant  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List


def char_rows(steps: "List[str]", cell: str = "rnn") -> "List[str]":
    py = sys.executable
    corpus = quant.bundled_corpus()
    with tempfile.TemporaryDirectory(prefix="tinyrnn-bench-quant-") as out:
        subprocess.run([py, "-m", "tinyrnn", "train", "--out", out, "--quiet", "--cell", cell] + steps, check=True, stdout=subprocess.DEVNULL)
        ck = os.path.join(out, "model.json")
        rows = {}
        for q in ("float", "int16", "int8"):
            args = [py, "-m", "tinyrnn", "eval", ck, corpus] + ([] if q == "float" else ["--quant", q])
            text = subprocess.run(args, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
            rows[q] = float(re.search(r": ([0-9.]+) nats/char", text).group(1))  # type: ignore[union-attr]
    out_rows = ["| char model (bundled corpus, tinyrnn train --cell %s%s) | nats/char | vs float | goal |" % (cell, "".join(" " + a for a in steps)),
                "|---|---|---|---|"]
    for q, goal in (("float", None), ("int16", 0.03), ("int8", 0.08)):
        d = rows[q] - rows["float"]
        out_rows.append("| %s | %.4f | %+.4f | %s |" % (q, rows[q], d, "-" if goal is None else ("met" if d <= goal else "NOT met") + " (<= +%.2f)" % goal))
    return out_rows


def float_accuracy(m: "Any", examples: "List[Any]") -> float:
    right = 0
    for e in examples:
        h, z = m.new_state(), [0.0] * m.Y
        for x in e.xs:
            m.step(h, x, z)
        right += argmax(z) == int(e.targets[-1])
    return 100.0 * right / len(examples)


def main() -> int:
    import bench_ucr as bu

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(bu.DTW), choices=list(bu.DTW))
    ap.add_argument("--h", type=int, nargs="+", default=[8, 16])
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--seeds", type=int, default=1, help="training runs per model (init seeds 1..N), accuracies averaged (default 1)")
    ap.add_argument("--no-char", action="store_true", help="skip the char model")
    ap.add_argument("--cells", nargs="+", default=["rnn"], choices=["rnn", "gru", "lstm"], help="cells (default rnn)")
    ap.add_argument("--layers", type=int, nargs="+", default=[1], help="char models: stacked layers, each value a row set (default 1; UCR: 1)")
    ap.add_argument("--no-ucr", action="store_true", help="skip the UCR sets")
    ap.add_argument("--char-steps", nargs="*", default=[], help="extra tinyrnn train options for the char model")
    args = ap.parse_args()
    t0 = time.time()
    if not args.no_char:
        for cell, layers in [(c, n) for c in args.cells for n in args.layers]:
            for line in char_rows(args.char_steps + ([] if layers == 1 else ["--layers", str(layers)]), cell):
                print(line)
            print()
    if args.no_ucr:
        return 0
    print("| UCR set | cell | H | float test acc (%) | int16 | int8 | int8 - float (points) | goal (>= -1) |")
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for name in args.sets:
        d = bu.load_set(name, 0.2, 1)
        ex = d["examples"]
        for cell, H in [(c, H) for c in args.cells for H in args.h]:
            acc = {"float": 0.0, "int16": 0.0, "int8": 0.0}
            for seed in range(1, args.seeds + 1):
                m = bu.train_tinyrnn(d, H, args.epochs, seed, cell)[1]
                acc["float"] += float_accuracy(m, ex["test"])
                cal = quant.calibrate(m, [e.xs for e in ex["train"]], name + " train split", False)
                for w in ("int16", "int8"):
                    qm = quant.quantize(m, "dense", w, cal)
                    acc[w] += 100.0 * quant.sequence_quality(qm, "softmax", ex["test"])["eval_acc"]
            for k in acc:
                acc[k] /= args.seeds
            gap = acc["int8"] - acc["float"]
            worst = min(worst, gap)
            print("| %s | %s | %d | %.1f | %.1f | %.1f | %+.1f | %s |" % (name, cell, H, acc["float"], acc["int16"], acc["int8"], gap, "met" if gap >= -1.0 else "NOT met"))
            sys.stdout.flush()
    print()
    print("worst int8 - float: %+.1f points; %.0f s" % (worst, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
