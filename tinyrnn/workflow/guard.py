"""The divergence guard for finite blow-ups.

A non-finite loss, gradient or parameter stops training at once (see
``train.Trainer.run``). A finite blow-up -- a learning rate of 1e6 drives the
loss to millions of nats without ever producing ``inf`` -- is caught here:

- the *reference* is the larger of the loss of the very first step (before
  any update; saved in the config as ``start_loss``) and the unigram
  baseline of a character model (``unigram_loss``);
- a logged train or eval loss above ``FACTOR * reference + MARGIN`` is
  *bad*; ``LOGS`` bad logs in a row stop training;
- while the latest log (or the running loss, or the loss of the current
  parameters on the last chunk) is bad, no checkpoint is written, so
  ``model.json`` stays the last good one;
- a non-finite diagnostic in a log record stops training at once.
"""

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

FACTOR = 3.0
MARGIN = 1.0
LOGS = 3


class BlowUpGuard:
    def __init__(self, cfg: "Dict[str, Any]") -> None:
        self.cfg = cfg
        self.bad = 0  # bad logs in a row

    def reference(self) -> "Optional[float]":
        refs = [self.cfg.get(k) for k in ("start_loss", "unigram_loss")]
        finite = [float(v) for v in refs if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        return max(finite) if finite else None

    def limit(self) -> float:
        ref = self.reference()
        return math.inf if ref is None else FACTOR * ref + MARGIN

    def start(self, loss_per_target: float) -> None:
        """Record the first step's loss (before any update) as the reference, once per run."""
        if "start_loss" not in self.cfg and math.isfinite(loss_per_target):
            self.cfg["start_loss"] = loss_per_target

    def is_bad(self, loss: float) -> bool:
        return not loss <= self.limit()

    @property
    def suspect(self) -> bool:
        return self.bad > 0

    def check(self, rec: "Dict[str, Any]") -> "Optional[str]":
        """After a log record: the reason to stop, or None."""
        for k, v in sorted(rec.items()):
            if isinstance(v, float) and not math.isfinite(v):
                return "the %s is %r" % (k, v)
        losses = [rec[k] for k in ("train_loss", "eval_loss") if isinstance(rec.get(k), (int, float))]
        worst = max(losses) if losses else 0.0
        if self.is_bad(worst):
            self.bad += 1
        else:
            self.bad = 0
        if self.bad >= LOGS:
            return "the loss is %.4g, above %g x the starting loss or baseline (%.4g) for %d logs in a row" % (
                worst, FACTOR, self.reference() or 0.0, LOGS)
        return None
