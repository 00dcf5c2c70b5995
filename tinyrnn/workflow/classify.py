"""Classification results: predicted class per sequence, accuracy, per-class recall, confusion matrix."""

from ..core.model import RNN, argmax

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence

    from .datasets import SeqExample


def predict(model: RNN, ex: "SeqExample", T: int) -> int:
    """The class (argmax of the logits at the last step) for one sequence, run in chunks of at most T steps."""
    h = None  # type: Optional[List[float]]
    n = len(ex.xs)
    dummy = [0] * T
    for p in range(0, n, T):
        xs = ex.xs[p : p + T]
        model.forward(xs, dummy[: len(xs)], weights=[0.0] * len(xs), h0=h)
        h = model.final_state()
    t = (n - 1) % T
    Y = model.Y
    return argmax(model.z[t * Y : (t + 1) * Y])


def confusion(model: RNN, examples: "Sequence[SeqExample]", T: int) -> "List[List[int]]":
    """counts[true][predicted] over ``examples`` (one class id target each)."""
    Y = model.Y
    counts = [[0] * Y for _ in range(Y)]
    for ex in examples:
        counts[int(ex.targets[-1])][predict(model, ex, T)] += 1
    return counts


def report(counts: "List[List[int]]", classes: "Optional[Sequence[str]]") -> "List[str]":
    """Lines: accuracy, recall per class, and the confusion matrix (rows: true class, columns: predicted)."""
    Y = len(counts)
    names = [str(c) for c in classes] if classes is not None else [str(k) for k in range(Y)]
    names = [n if len(n) <= 16 else n[:15] + "~" for n in names]
    total = sum(map(sum, counts))
    right = sum(counts[k][k] for k in range(Y))
    out = ["accuracy %.2f%% (%d of %d)" % (100.0 * right / max(1, total), right, total), "recall per class:"]
    for k in range(Y):
        n = sum(counts[k])
        out.append("  %-16s %s (%d of %d)" % (names[k], "%6.2f%%" % (100.0 * counts[k][k] / n) if n else "     -", counts[k][k], n))
    w = max(6, max(len(n) for n in names) + 1, len(str(total)) + 1)
    out.append("confusion matrix (rows: true class, columns: predicted):")
    out.append(" " * 17 + "".join(("%" + str(w) + "s") % n for n in names))
    for k in range(Y):
        out.append("  %-16s" % names[k] + "".join(("%" + str(w) + "d") % v for v in counts[k]))
    return out
