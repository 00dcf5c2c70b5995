"""The training loop: truncated BPTT over a task, instrument panel, divergence guard.

No I/O here: the caller (``tinyrnn.cli.train``) receives progress, metric
records and checkpoint requests through a :class:`Hooks` object.

One optimiser step = one chunk of at most T steps:

- **Char LM** (:class:`TextTask`): the training text is cut into chunks of
  T characters, each predicting the next character. ``stateful`` carries the
  final hidden state of one chunk into the next (min-char-rnn's ``hprev``;
  gradients stop at the chunk boundary -- truncated BPTT); otherwise every
  chunk starts from zeros. An epoch is one pass over the text; with
  ``random_offsets`` each epoch starts at a random offset in [0, T) drawn
  from the seeded PRNG, so chunk boundaries move between epochs.
- **Sequence file** (:class:`SeqTask`): one sequence per step (shuffled per
  epoch with the PRNG when ``random_offsets`` is on); a sequence longer than T is
  split into chunks with the state carried; chunks of a many-to-one sequence
  before the last are run forward only.

Everything that decides the next step (parameters, optimiser state, PRNG
state, step, position in the data, carried state) is in the checkpoint, so a
resumed run is bit-identical to an uninterrupted one.

Losses are reported per target (per character for text): nats, and bits
(nats / ln 2) for text.
"""

import json
import math
import time

from .checkpoint import MAX_LAYERS, Checkpoint
from .guard import BlowUpGuard
from ..core.diagnostics import diagnostics, update_ratio
from ..core.model import CELLS, RNN, argmax
from ..core.optim import Optimizer, clip_elementwise, clip_global_norm, grad_norm, make_optimizer
from ..core.rng import Rng

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Set, Tuple

    from .datasets import SeqDataset, SeqExample

LN2 = math.log(2.0)

DEFAULTS = {
    "hidden": 32,
    "cell": "rnn",
    "layers": 1,
    "seq_length": 25,
    "steps": 1200,
    "epochs": None,
    "optimizer": "adam",
    "lr": 0.01,
    "clip": "norm",
    "clip_value": 5.0,
    "stateful": True,
    "random_offsets": True,
    "eval_fraction": 0.1,
    "eval_every": 300,
    "eval_max": 4000,
    "log_every": 100,
    "checkpoint_every": 200,
    "seed": 1,
    "init": "xavier",
    "init_scale": 1.0,
    "patience": None,
    "normalize": "none",
}  # type: Dict[str, Any]

CLIP_MODES = ("norm", "value", "none")


def check_config(cfg: "Dict[str, Any]") -> None:
    """ValueError naming the option for any out-of-range setting."""

    def positive_int(name: str) -> None:
        v = cfg[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError("%s must be a positive integer, got %r" % (name.replace("_", "-"), v))

    for name in ("hidden", "layers", "seq_length", "steps", "log_every", "eval_every", "checkpoint_every", "eval_max"):
        positive_int(name)
    if cfg["cell"] not in CELLS:
        raise ValueError("cell must be one of %s, got %r" % (", ".join(CELLS), cfg["cell"]))
    if cfg["layers"] > MAX_LAYERS:
        raise ValueError("layers must be at most %d, got %d" % (MAX_LAYERS, cfg["layers"]))
    for name in ("epochs", "patience"):
        if cfg.get(name) is not None:
            positive_int(name)
    if cfg.get("normalize", "none") not in ("none", "channel", "series"):
        raise ValueError("normalize must be none, channel or series, got %r" % (cfg["normalize"],))
    for name in ("lr", "clip_value", "init_scale"):
        v = cfg[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ValueError("%s must be a positive finite number, got %r" % (name.replace("_", "-"), v))
    if cfg["clip"] not in CLIP_MODES:
        raise ValueError("clip must be one of %s, got %r" % (", ".join(CLIP_MODES), cfg["clip"]))
    f = cfg["eval_fraction"]
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 <= f < 1.0:
        raise ValueError("eval-fraction must be in [0, 1), got %r" % (f,))


# -------------------------------------------------------------------- tasks
class TextTask:
    """Next-character prediction over token ids, chunked for truncated BPTT."""

    kind = "text"

    def __init__(self, train: "List[int]", evaluation: "List[int]", T: int, stateful: bool, random_offsets: bool) -> None:
        if len(train) < 2:
            raise ValueError("the training text needs at least 2 characters (got %d)" % len(train))
        self.train = train
        self.eval = evaluation
        self.T = T
        self.stateful = stateful
        self.random_offsets = random_offsets
        self.epoch = 0
        self.pos = len(train)  # forces a new epoch on the first chunk
        self.hprev = None  # type: Optional[List[float]]

    def chunks_per_epoch(self) -> int:
        return -(-(len(self.train) - 1) // self.T)

    def next_chunk(self, model: RNN, rng: Rng) -> "Tuple[Any, Any, Optional[List[float]], bool]":
        """(xs, targets, h0, last_only) for the next optimiser step."""
        data, T = self.train, self.T
        if self.pos + 1 >= len(data):
            self.epoch += 1
            self.pos = rng.below(min(T, len(data) - 1)) if self.random_offsets else 0
            self.hprev = None
        p = self.pos
        n = min(T, len(data) - 1 - p)
        self.pos = p + n
        return data[p : p + n], data[p + 1 : p + n + 1], self.hprev if self.stateful else None, False

    def after_forward(self, model: RNN) -> None:
        if self.stateful:
            self.hprev = model.final_state()

    def evaluate(self, model: RNN, limit: int) -> "Dict[str, Any]":
        """Mean loss per character over (at most ``limit`` characters of) the eval text, state carried."""
        data = self.eval[: limit + 1]
        if len(data) < 2:
            return {}
        T = model.T
        total, count = 0.0, 0
        h = None  # type: Optional[List[float]]
        for p in range(0, len(data) - 1, T):
            n = min(T, len(data) - 1 - p)
            total += model.forward(data[p : p + n], data[p + 1 : p + n + 1], h0=h)
            count += n
            h = model.final_state()
        loss = total / count
        return {"eval_loss": loss, "eval_bpc": loss / LN2}

    def state(self) -> "Dict[str, Any]":
        return {"task": "text", "epoch": self.epoch, "pos": self.pos, "hprev": self.hprev}

    def load_state(self, d: "Dict[str, Any]", H: int) -> None:
        if d.get("task") != "text":
            raise ValueError("checkpoint's train_state is not for a text task")
        self.epoch, self.pos = _count(d, "epoch"), _count(d, "pos")
        if not 0 <= self.pos <= len(self.train):
            raise ValueError("pos %d is outside the training text (%d characters)" % (self.pos, len(self.train)))
        self.hprev = _state(d.get("hprev"), H)


def _count(d: "Dict[str, Any]", key: str) -> int:
    """``d[key]`` as a count: an integer >= 0 (not a float, not a bool), or ValueError naming it."""
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError("%s = %s is not an integer >= 0" % (key, json.dumps(v)[:40]))
    return v


def _state(h: "Any", H: int) -> "Optional[List[float]]":
    """A saved state: null or H finite numbers (H: the model's state size, every layer's h then c)."""
    if h is None:
        return None
    if not isinstance(h, list) or len(h) != H:
        raise ValueError("hprev must be null or a list of %d numbers (the model's state)" % H)
    out = [float(v) for v in h]
    if not math.isfinite(sum(out)):
        raise ValueError("hprev has a non-finite value")
    return out


def _chunks(ex: "SeqExample", T: int) -> "List[Tuple[Any, Any, Optional[List[float]], bool]]":
    """Split one example into chunks of at most T steps: (xs, targets, weights, last_only)."""
    n = len(ex.xs)
    out = []  # type: List[Tuple[Any, Any, Optional[List[float]], bool]]
    for p in range(0, n, T):
        q = min(n, p + T)
        xs = ex.xs[p:q]
        if not ex.last_only:
            out.append((xs, ex.targets[p:q], None, False))
        elif q == n:
            out.append((xs, ex.targets, None, True))
        else:  # no target in this chunk: forward only, for the state
            out.append((xs, None, None, True))
    return out


def _dummy_targets(model: RNN, n: int) -> "List[Any]":
    return [0] * n if model.head == "softmax" else [[0.0] * model.Y for _ in range(n)]


class SeqTask:
    """Sequences from a sequence file: per-step or final targets."""

    kind = "seq"

    def __init__(self, train: "List[SeqExample]", evaluation: "List[SeqExample]", T: int, shuffle: bool) -> None:
        if not train:
            raise ValueError("no training sequences (all went to the eval split: lower --eval-fraction)")
        self.train = train
        self.eval = evaluation
        self.T = T
        self.shuffle = shuffle
        self.epoch = 0
        self.order = []  # type: List[int]
        self.index = len(train)
        self.sub = 0  # chunk within the current example
        self.hprev = None  # type: Optional[List[float]]

    def chunks_per_epoch(self) -> int:
        return sum(1 for e in self.train for c in _chunks(e, self.T) if c[1] is not None)

    def next_chunk(self, model: RNN, rng: Rng) -> "Tuple[Any, Any, Optional[List[float]], bool]":
        while True:
            if self.index >= len(self.train):
                self.epoch += 1
                self.order = list(range(len(self.train)))
                if self.shuffle:
                    for i in range(len(self.order) - 1, 0, -1):  # Fisher-Yates
                        j = rng.below(i + 1)
                        self.order[i], self.order[j] = self.order[j], self.order[i]
                self.index, self.sub, self.hprev = 0, 0, None
            chunks = _chunks(self.train[self.order[self.index]], self.T)
            xs, targets, _, last_only = chunks[self.sub]
            h0 = self.hprev if self.sub > 0 else None
            self.sub += 1
            if self.sub >= len(chunks):
                self.index, self.sub = self.index + 1, 0
            if targets is not None:
                return xs, targets, h0, last_only
            model.forward(xs, _dummy_targets(model, len(xs)), weights=[0.0] * len(xs), h0=h0)
            self.hprev = model.final_state()

    def after_forward(self, model: RNN) -> None:
        # carry the state only into the next chunk of the same sequence
        self.hprev = model.final_state() if self.sub != 0 else None

    def evaluate(self, model: RNN, limit: int) -> "Dict[str, Any]":
        if not self.eval:
            return {}
        total, count, right, judged = 0.0, 0, 0, 0
        for ex in self.eval:
            h = None  # type: Optional[List[float]]
            for xs, targets, _, last_only in _chunks(ex, self.T):
                if targets is None:
                    model.forward(xs, _dummy_targets(model, len(xs)), weights=[0.0] * len(xs), h0=h)
                else:
                    total += model.forward(xs, targets, h0=h, last_only=last_only)
                    steps = range(len(xs) - 1, len(xs)) if last_only else range(len(xs))
                    count += len(steps)
                    r, j = _correct(model, steps, targets[-len(steps) :])
                    right += r
                    judged += j
                h = model.final_state()
        out = {"eval_loss": total / count}  # type: Dict[str, Any]
        if judged:
            out["eval_acc"] = right / judged
        return out

    def state(self) -> "Dict[str, Any]":
        return {"task": "seq", "epoch": self.epoch, "order": self.order, "index": self.index, "sub": self.sub, "hprev": self.hprev}

    def load_state(self, d: "Dict[str, Any]", H: int) -> None:
        if d.get("task") != "seq":
            raise ValueError("checkpoint's train_state is not for a sequence task")
        self.epoch, self.index, self.sub = _count(d, "epoch"), _count(d, "index"), _count(d, "sub")
        order = d["order"]
        n = len(self.train)
        if not isinstance(order, list) or (order and sorted(order) != list(range(n))):  # [] before the first epoch
            raise ValueError("order is not a permutation of the %d training sequences" % n)
        self.order = order
        if not self.index <= n or (self.index < n and not order):
            raise ValueError("index %d out of range" % self.index)
        if self.sub and (self.index >= n or self.sub >= len(_chunks(self.train[order[self.index]], self.T))):
            raise ValueError("sub %d is past the chunks of the current sequence" % self.sub)
        self.hprev = _state(d.get("hprev"), H)


def _correct(model: RNN, steps: "range", targets: "List[Any]") -> "Tuple[int, int]":
    """(right, judged) predictions at ``steps`` of the last forward pass (sigmoid: per output, softmax: argmax)."""
    Y = model.Y
    right = judged = 0
    for t, y in zip(steps, targets):
        z = model.z[t * Y : (t + 1) * Y]
        if model.head == "softmax":
            right += argmax(z) == y
            judged += 1
        elif model.head == "sigmoid":
            ys = y if isinstance(y, list) else [y]
            for zk, yk in zip(z, ys):
                if yk in (0.0, 1.0):
                    right += (zk > 0.0) == (yk == 1.0)
                    judged += 1
    return right, judged


def _held_out(n: int, fraction: float) -> int:
    """How many of ``n`` items go to evaluation: round(n * fraction), at least 1 when fraction > 0, at most n - 1."""
    k = int(round(n * fraction))
    if fraction > 0 and k == 0 and n >= 2:
        k = 1
    return max(0, min(k, n - 1))


def split_sequences(ds: "SeqDataset", fraction: float, seed: int = 1, stratify: bool = True) -> "Tuple[List[SeqExample], List[SeqExample]]":
    """(train, eval): ``fraction`` of the sequences drawn for evaluation with a PRNG seeded by ``seed``.

    With ``stratify`` and one class per sequence (``y_final`` class ids), the
    draw is made within each class, so a file sorted by class still trains and
    evaluates on every class (a class with one sequence stays in training).
    Both parts keep file order. The draw has its own PRNG (``seed`` mixed with
    a constant), so the training stream of ``seed`` is unchanged.
    """
    ex = ds.examples
    rng = Rng((seed * 0x9E3779B97F4A7C15 + 0x5EED5) & 0xFFFFFFFFFFFFFFFF)
    groups = {}  # type: Dict[Any, List[int]]
    classy = stratify and ds.target_kind == "final" and ds.integral and ds.Y == 1
    for i, e in enumerate(ex):
        t = e.targets[-1]
        key = (t[0] if isinstance(t, list) else t) if classy else 0
        groups.setdefault(key, []).append(i)
    held = set()  # type: Set[int]
    for key in sorted(groups):
        idx = groups[key]
        k = _held_out(len(idx), fraction)
        for j in range(len(idx) - 1, len(idx) - 1 - k, -1):  # partial Fisher-Yates: the last k are drawn
            r = rng.below(j + 1)
            idx[j], idx[r] = idx[r], idx[j]
        held.update(idx[len(idx) - k :])
    return [e for i, e in enumerate(ex) if i not in held], [e for i, e in enumerate(ex) if i in held]


def split_text(ids: "List[int]", fraction: float) -> "Tuple[List[int], List[int]]":
    """The last ``fraction`` of the text for evaluation (empty when fraction is 0).

    Text keeps a contiguous tail, not a random draw: a character model
    learns from context, and scattered held-out pieces would share their
    surroundings with the training text.
    """
    k = int(len(ids) * fraction)
    if fraction > 0 and k < 2:
        return ids, []
    return ids[: len(ids) - k], ids[len(ids) - k :]


# ------------------------------------------------------------------ trainer
class Hooks:
    """What the trainer reports; override what you need (the CLI prints and saves)."""

    def progress(self, step: int, total: int, rate: float) -> None:
        pass

    def log(self, record: "Dict[str, Any]") -> None:
        pass

    def checkpoint(self, trainer: "Trainer") -> None:
        pass

    def best(self, trainer: "Trainer") -> None:
        """A new lowest eval loss (trainer.best_loss at trainer.step): e.g. save best.json."""

    def should_stop(self) -> bool:
        return False


class Result:
    def __init__(self, status: str, step: int, message: str = "") -> None:
        self.status = status  # "done" | "interrupted" | "diverged"
        self.step = step
        self.message = message


class Diverged(Exception):
    pass


class Trainer:
    """Owns the model, optimiser, PRNG and task; ``run(hooks)`` trains to ``cfg['steps']``."""

    def __init__(
        self,
        model: RNN,
        task: "Any",
        cfg: "Dict[str, Any]",
        rng: Rng,
        optimizer: "Optional[Optimizer]" = None,
        step: int = 0,
        input_kind: str = "token",
        vocab: "Optional[List[str]]" = None,
    ) -> None:
        check_config(cfg)
        self.model = model
        self.task = task
        self.cfg = cfg
        self.rng = rng
        self.opt = optimizer if optimizer is not None else make_optimizer(cfg["optimizer"], model.num_params, cfg["lr"])
        self.step = step
        self.input_kind = input_kind
        self.vocab = vocab
        self.metrics = {}  # type: Dict[str, Any]
        self.classes = None  # type: Optional[List[str]]
        self.normalize = None  # type: Optional[Dict[str, Any]]
        self.best_loss = math.inf  # lowest eval loss so far, at best_step; bad_evals evaluations since
        self.best_step = 0
        self.bad_evals = 0
        self.total = cfg["steps"] if cfg.get("epochs") is None else cfg["epochs"] * task.chunks_per_epoch()
        self.guard = BlowUpGuard(cfg)  # finite blow-ups (guard.py)

    def checkpoint(self) -> Checkpoint:
        state = self.task.state()
        if self.best_step:
            state["best"] = {"eval_loss": self.best_loss, "step": self.best_step, "bad_evals": self.bad_evals}
        ck = Checkpoint(
            self.model,
            self.input_kind,
            self.vocab,
            self.step,
            self.opt.state_dict(),
            self.rng.state,
            dict(self.cfg),
            dict(self.metrics),
            state,
        )
        ck.classes, ck.normalize = self.classes, self.normalize
        return ck

    def load_best(self, state: "Dict[str, Any]") -> None:
        """Restore the early-stopping record from a checkpoint's train_state (absent: none yet)."""
        b = state.get("best")
        if b is None:
            return
        try:
            loss, step, bad = float(b["eval_loss"]), int(b["step"]), int(b["bad_evals"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("field 'train_state.best' is invalid (eval_loss, step, bad_evals)")
        if not (math.isfinite(loss) and step >= 0 and bad >= 0):
            raise ValueError("field 'train_state.best' is out of range")
        self.best_loss, self.best_step, self.bad_evals = loss, step, bad

    def _track_best(self, rec: "Dict[str, Any]", hooks: "Hooks") -> bool:
        """Keep the best eval loss; True when --patience evaluations in a row did not improve it."""
        ev = rec.get("eval_loss")
        if not isinstance(ev, float):
            return False
        if ev < self.best_loss:
            self.best_loss, self.best_step, self.bad_evals = ev, self.step, 0
            hooks.best(self)
            return False
        self.bad_evals += 1
        patience = self.cfg.get("patience")
        return patience is not None and self.bad_evals >= patience

    def evaluate(self) -> "Dict[str, Any]":
        return self.task.evaluate(self.model, self.cfg["eval_max"])  # type: ignore[no-any-return]

    def run(self, hooks: "Optional[Hooks]" = None) -> Result:
        hooks = hooks if hooks is not None else Hooks()
        m, cfg, task = self.model, self.cfg, self.task
        log_every, eval_every, ckpt_every = cfg["log_every"], cfg["eval_every"], cfg["checkpoint_every"]
        clip, clip_value = cfg["clip"], cfg["clip_value"]
        loss_sum, target_sum = 0.0, 0
        t_start = t_mark = time.monotonic()
        mark_step = start = self.step
        while self.step < self.total:
            if hooks.should_stop():
                return Result("interrupted", self.step, "stopped at step %d" % self.step)
            step = self.step + 1
            log_now = step % log_every == 0 or step == self.total
            xs, targets, h0, last_only = task.next_chunk(m, self.rng)
            try:
                loss = m.forward(xs, targets, h0=h0, last_only=last_only)
                if not math.isfinite(loss):
                    raise Diverged("the loss is %r" % loss)
                m.backward()
                norm = grad_norm(m.grads)
                if not math.isfinite(norm):
                    raise Diverged("the gradient norm is %r (loss %.4g)" % (norm, loss))
                task.after_forward(m)
                diag = diagnostics(m) if log_now else None
                if clip == "norm":
                    clip_global_norm(m.grads, clip_value)
                elif clip == "value":
                    clip_elementwise(m.grads, clip_value)
                before = m.params[:]
                self.opt.step(m.params, m.grads)
                if not math.isfinite(sum(m.params)):
                    m.params[:] = before
                    raise Diverged("the update made a parameter non-finite (gradient norm %.4g)" % norm)
            except (Diverged, OverflowError) as e:
                return Result("diverged", self.step, divergence_message(step, str(e), cfg))
            self.guard.start(loss / (1 if last_only else len(xs)))
            self.step = step
            loss_sum += loss
            target_sum += 1 if last_only else len(xs)
            now = time.monotonic()
            rate = (step - start) / (now - t_start) if now > t_start else 0.0
            hooks.progress(step, self.total, rate)
            if log_now and diag is not None:
                rec = {
                    "step": step,
                    "epoch": task.epoch,
                    "train_loss": loss_sum / max(1, target_sum),
                }  # type: Dict[str, Any]
                if step % eval_every == 0 or step == self.total:
                    rec.update(self.evaluate())
                if "gate_sat" in diag:  # gru z / lstm f gates near 0 or 1, per layer
                    rec["gate_sat"] = diag["gate_sat"]
                rec.update(
                    mean_abs_h=diag["mean_abs_h"],
                    sat_ratio=diag["sat_ratio"],
                    dh_norm=diag["dh_norm"],
                    dh_raw_norm=diag["dh_raw_norm"],
                    grad_norm=norm,
                    update_ratio=update_ratio(before, m.params),
                    steps_per_s=(step - mark_step) / (now - t_mark) if now > t_mark else 0.0,
                )
                if task.kind == "text":
                    rec["train_bpc"] = rec["train_loss"] / LN2
                why = self.guard.check(rec)
                hooks.log(rec)
                if why is not None:
                    return Result("diverged", self.step, divergence_message(step, why, cfg))
                self.metrics = rec
                loss_sum, target_sum = 0.0, 0
                t_mark, mark_step = time.monotonic(), step
                if self._track_best(rec, hooks):
                    hooks.checkpoint(self)
                    return Result("done", self.step, "stopped early at step %d: no lower eval loss in %d evaluations (best %.4f at step %d)" % (
                        step, self.bad_evals, self.best_loss, self.best_step))
            if step % ckpt_every == 0 or step == self.total:
                if self.guard.suspect or self._blown(loss_sum, target_sum, xs, targets, h0, last_only):
                    if step == self.total:  # never end on parameters the guard doubts
                        return Result("diverged", self.step, divergence_message(step, "the loss is far above the starting loss at the end", cfg))
                else:
                    hooks.checkpoint(self)
        return Result("done", self.step)

    def _blown(self, loss_sum: float, target_sum: int, xs: "Any", targets: "Any", h0: "Any", last_only: bool) -> bool:
        """Before a checkpoint: is the running loss, or the loss of the updated parameters on the last chunk, a blow-up?"""
        if target_sum and self.guard.is_bad(loss_sum / target_sum):
            return True
        try:
            after = self.model.forward(xs, targets, h0=h0, last_only=last_only)
        except (OverflowError, ValueError):
            return True
        return self.guard.is_bad(after / (1 if last_only else len(xs)))


def divergence_message(step: int, what: str, cfg: "Dict[str, Any]") -> str:
    tips = ["lower the learning rate (--lr %g)" % (cfg["lr"] / 10)]
    if cfg["clip"] == "none":
        tips.append("clip the gradients (--clip norm --clip-value 5)")
    else:
        tips.append("clip harder (--clip-value %g)" % (cfg["clip_value"] / 5))
    if cfg["init_scale"] > 1.0:
        tips.append("use a smaller --init-scale")
    return "training diverged at step %d: %s. Try: %s" % (step, what, "; ".join(tips))
