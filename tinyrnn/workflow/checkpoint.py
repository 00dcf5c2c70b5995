"""Checkpoints: one JSON object per model, written atomically, read strictly.

Format (version 2)::

    {
      "format": "tinyrnn-checkpoint", "version": 2,
      "tinyrnn_version": "0.1.0",
      "dims": {"X": 65, "H": 16, "Y": 65, "T": 25},
      "head": "softmax",                  # softmax | sigmoid | mse
      "cell": "rnn",                      # rnn | gru | lstm
      "layers": 1,                        # stacked layers, >= 1
      "input": "token",                   # token | dense
      "vocab": ["\\n", " ", "a", ...],    # char models: one string per token id, else null
      "params": [...],                    # floats, in the model's Layout (model.py)
      "step": 1200,                       # optimiser steps taken
      "optimizer": {...} or null,         # Optimizer.state_dict()
      "rng_state": 123 or null,           # Rng.state, to resume the stream
      "config": {...},                    # training options, free-form
      "metrics": {...},                   # last metrics, free-form
      "train_state": {...} or null,       # optional: position in the data and carried
                                          # state (every layer's h, then c), so a resumed
                                          # run is bit-identical
      "classes": ["walk", "run"] or null, # optional: class names, class id k is classes[k]
      "normalize": {...} or null          # optional: input normalisation the model expects:
                                          # {"mode": "channel", "mean": [X], "std": [X]}
                                          # or {"mode": "series"} (see workflow/series.py)
    }

``classes`` and ``normalize`` were added later; a checkpoint without them
loads as before (no class names, raw inputs). Version 1 is version 2
without ``cell`` and ``layers`` (a one-layer tanh RNN); it still loads, and
so does a version 2 file without them.

Floats are written with ``repr`` (shortest string that round-trips), so a
loaded model is bit-identical to the saved one. Files larger than
``MAX_BYTES`` are refused before parsing.
"""

import json
import math

from .. import __version__
from .fileio import FileError, TooLarge, loads, read_bounded, write_file
from .limits import check_model
from ..core.heads import HEADS
from ..core.model import CELLS, GATES, RNN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

FORMAT = "tinyrnn-checkpoint"
VERSION = 2
READS = (1, 2)  # version 1: no "cell"/"layers" (rnn, 1 layer)
MAX_LAYERS = 64
MAX_BYTES = 256 * 1024 * 1024
MAX_STEP = (1 << 63) - 1  # steps are C long long in an exported header
NON_NEGATIVE = ("v", "mem")  # Adam's second moment, Adagrad's sum of squares


class CheckpointError(ValueError):
    """A file that is not a valid tinyrnn checkpoint; the message names the file and field."""


class Checkpoint:
    """A model plus everything needed to resume training or export it."""

    def __init__(
        self,
        model: RNN,
        input_kind: str = "token",
        vocab: "Optional[List[str]]" = None,
        step: int = 0,
        optimizer: "Optional[Dict[str, Any]]" = None,
        rng_state: "Optional[int]" = None,
        config: "Optional[Dict[str, Any]]" = None,
        metrics: "Optional[Dict[str, Any]]" = None,
        train_state: "Optional[Dict[str, Any]]" = None,
    ) -> None:
        self.model = model
        self.input_kind = input_kind
        self.vocab = vocab
        self.step = step
        self.optimizer = optimizer
        self.rng_state = rng_state
        self.config = config if config is not None else {}
        self.metrics = metrics if metrics is not None else {}
        self.train_state = train_state
        self.classes = None  # type: Optional[List[str]]
        self.normalize = None  # type: Optional[Dict[str, Any]]

    def to_json(self) -> "Dict[str, Any]":
        m = self.model
        return {
            "format": FORMAT,
            "version": VERSION,
            "tinyrnn_version": __version__,
            "dims": {"X": m.X, "H": m.H, "Y": m.Y, "T": m.T},
            "head": m.head,
            "cell": m.cell,
            "layers": m.layers,
            "input": self.input_kind,
            "vocab": self.vocab,
            "params": list(m.params),
            "step": self.step,
            "optimizer": self.optimizer,
            "rng_state": self.rng_state,
            "config": self.config,
            "metrics": self.metrics,
            "train_state": self.train_state,
            "classes": self.classes,
            "normalize": self.normalize,
        }


def save(path: str, ckpt: Checkpoint, inputs: "Any" = ()) -> None:
    """Write ``ckpt`` to ``path`` atomically: temp file, fsync, rename (``fileio.write_file``).

    A crash at any moment leaves either the previous file or the new one;
    ``inputs`` are paths the checkpoint must not overwrite.
    """
    for k, v in enumerate(ckpt.model.params):
        if not math.isfinite(v):
            raise CheckpointError("%s: refusing to save a non-finite parameter (params[%d] = %r)" % (path, k, v))
    write_file(path, json.dumps(ckpt.to_json(), allow_nan=False, separators=(",", ":")), inputs)


def _field(path: str, d: "Dict[str, Any]", name: str, kind: "Any", where: str = "") -> "Any":
    label = where + name
    if name not in d:
        raise CheckpointError("%s: missing field %r" % (path, label))
    v = d[name]
    if kind is int:
        ok = isinstance(v, int) and not isinstance(v, bool)
    elif kind is float:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    else:
        ok = isinstance(v, kind)
    if not ok:
        raise CheckpointError("%s: field %r has the wrong type (%s)" % (path, label, type(v).__name__))
    return v


def _check_optimizer(path: str, opt: "Any", size: int) -> None:
    """Optimiser state: a name, a step count, a learning rate and buffers of one float per parameter."""
    if not isinstance(opt, dict):
        raise CheckpointError("%s: field 'optimizer' must be an object or null" % path)
    name = _field(path, opt, "name", str, "optimizer.")
    if name not in ("sgd", "adagrad", "adam"):
        raise CheckpointError("%s: field 'optimizer.name' = %r is not sgd, adagrad or adam" % (path, name))
    t = _field(path, opt, "t", int, "optimizer.")
    if not 0 <= t <= MAX_STEP:
        raise CheckpointError("%s: field 'optimizer.t' = %d is outside [0, 2**63 - 1]" % (path, t))
    lr = _field(path, opt, "lr", float, "optimizer.")
    if not (math.isfinite(lr) and lr > 0):
        raise CheckpointError("%s: field 'optimizer.lr' = %r is not a positive finite number" % (path, lr))
    for key, v in opt.items():
        if isinstance(v, list):
            if len(v) != size:
                raise CheckpointError("%s: field 'optimizer.%s' has %d values, expected %d (one per parameter)" % (path, key, len(v), size))
            for i, x in enumerate(v):
                if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                    raise CheckpointError("%s: field 'optimizer.%s[%d]' = %r is not a finite number" % (path, key, i, x))
                if key in NON_NEGATIVE and x < 0:
                    raise CheckpointError("%s: field 'optimizer.%s[%d]' = %r is negative (a running mean of squares)" % (path, key, i, x))


def _check_vocab(path: str, vocab: "Any", X: int, Y: int, head: str, input_kind: str) -> None:
    """A character model: X = Y distinct single characters (no lone surrogates), softmax head, token input."""
    if not isinstance(vocab, list):
        raise CheckpointError("%s: field 'vocab' must be a list of characters or null" % path)
    if len(vocab) != X:
        raise CheckpointError("%s: field 'vocab' has %d entries, expected dims.X = %d" % (path, len(vocab), X))
    for i, c in enumerate(vocab):
        if not isinstance(c, str) or len(c) != 1:
            raise CheckpointError("%s: field 'vocab[%d]' must be one character, got %s" % (path, i, json.dumps(c)[:40]))
        if 0xD800 <= ord(c) <= 0xDFFF:
            raise CheckpointError("%s: field 'vocab[%d]' is a lone surrogate (U+%04X), not a character" % (path, i, ord(c)))
    if len(set(vocab)) != len(vocab):
        raise CheckpointError("%s: field 'vocab' has duplicate entries" % path)
    if Y != X or head != "softmax" or input_kind != "token":
        raise CheckpointError(
            "%s: a character model (field 'vocab') needs Y = X, a softmax head and token input; this one has X=%d Y=%d, %s head, %s input"
            % (path, X, Y, head, input_kind)
        )


def load(path: str) -> Checkpoint:
    """Read and validate a checkpoint; any problem raises CheckpointError naming the field."""
    try:
        text = read_bounded(path, MAX_BYTES).decode("utf-8")
    except TooLarge as e:
        raise CheckpointError("%s: %d bytes is too large for a checkpoint (limit %d)" % (path, e.size, MAX_BYTES))
    except UnicodeDecodeError as e:
        raise CheckpointError("%s: not UTF-8 text at byte %d, not a tinyrnn checkpoint" % (path, e.start))
    except FileError as e:
        raise CheckpointError(str(e))
    except OSError as e:
        raise CheckpointError("%s: cannot read checkpoint (%s)" % (path, e.strerror or e))
    if not text.strip():
        raise CheckpointError("%s: empty file, not a tinyrnn checkpoint" % path)
    try:
        d = loads(text)
    except ValueError as e:
        raise CheckpointError("%s: not valid JSON (%s) -- truncated or not a checkpoint" % (path, e))
    return from_json(d, path)


def from_json(d: "Any", path: str = "<checkpoint>") -> Checkpoint:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise CheckpointError("%s: not a tinyrnn checkpoint (no \"format\": %r)" % (path, FORMAT))
    version = _field(path, d, "version", int)
    if version not in READS:
        raise CheckpointError("%s: checkpoint format version %d is not supported (this tinyrnn reads 1 and 2)" % (path, version))
    dims = _field(path, d, "dims", dict)
    X, H, Y, T = (_field(path, dims, k, int, "dims.") for k in ("X", "H", "Y", "T"))
    for k, v in (("X", X), ("H", H), ("Y", Y), ("T", T)):
        if v < 1:
            raise CheckpointError("%s: field 'dims.%s' = %d is out of range (must be >= 1)" % (path, k, v))
    cell = _field(path, d, "cell", str) if "cell" in d else "rnn"
    if cell not in CELLS:
        raise CheckpointError("%s: field 'cell' = %r is not one of %s" % (path, cell, ", ".join(CELLS)))
    layers = _field(path, d, "layers", int) if "layers" in d else 1
    if not 1 <= layers <= MAX_LAYERS:
        raise CheckpointError("%s: field 'layers' = %d is out of range (1 .. %d)" % (path, layers, MAX_LAYERS))
    try:  # before anything is allocated
        check_model([(k, v, "field 'dims.%s'" % k) for k, v in (("X", X), ("H", H), ("Y", Y), ("T", T))], path, 2, GATES[cell], layers)
    except ValueError as e:
        raise CheckpointError(str(e))
    head = _field(path, d, "head", str)
    if head not in HEADS:
        raise CheckpointError("%s: field 'head' = %r is not one of %s" % (path, head, ", ".join(HEADS)))
    input_kind = _field(path, d, "input", str)
    if input_kind not in ("token", "dense"):
        raise CheckpointError("%s: field 'input' = %r is not 'token' or 'dense'" % (path, input_kind))
    vocab = d.get("vocab")
    if vocab is not None:
        _check_vocab(path, vocab, X, Y, head, input_kind)
    model = RNN(X, H, Y, T, head, cell, layers)
    params = _field(path, d, "params", list)
    if len(params) != model.num_params:
        raise CheckpointError(
            "%s: field 'params' has %d values, expected %d for X=%d H=%d Y=%d%s"
            % (path, len(params), model.num_params, X, H, Y, "" if model.vanilla else ", %s, %d layer(s)" % (cell, layers))
        )
    for i, v in enumerate(params):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise CheckpointError("%s: field 'params[%d]' = %r is not a finite number" % (path, i, v))
    model.params[:] = [float(v) for v in params]
    step = _field(path, d, "step", int)
    if not 0 <= step <= MAX_STEP:
        raise CheckpointError("%s: field 'step' = %d is outside [0, 2**63 - 1]" % (path, step))
    optimizer = d.get("optimizer")
    if optimizer is not None:
        _check_optimizer(path, optimizer, model.num_params)
    rng_state = d.get("rng_state")
    if rng_state is not None and (isinstance(rng_state, bool) or not isinstance(rng_state, int) or not 0 <= rng_state < 1 << 64):
        raise CheckpointError("%s: field 'rng_state' must be a 64-bit unsigned integer or null" % path)
    config = d.get("config", {})
    metrics = d.get("metrics", {})
    if not isinstance(config, dict):
        raise CheckpointError("%s: field 'config' must be an object" % path)
    if not isinstance(metrics, dict):
        raise CheckpointError("%s: field 'metrics' must be an object" % path)
    train_state = d.get("train_state")
    if train_state is not None and not isinstance(train_state, dict):
        raise CheckpointError("%s: field 'train_state' must be an object or null" % path)
    ck = Checkpoint(model, input_kind, vocab, step, optimizer, rng_state, config, metrics, train_state)
    ck.classes = _check_classes(path, d.get("classes"), Y, model.head)
    ck.normalize = _check_normalize(path, d.get("normalize"), X, input_kind)
    return ck


def _check_classes(path: str, classes: "Any", Y: int, head: str) -> "Optional[List[str]]":
    """null, or Y distinct non-empty strings for a softmax head."""
    if classes is None:
        return None
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        raise CheckpointError("%s: field 'classes' must be a list of non-empty strings or null" % path)
    if head != "softmax" or len(classes) != Y:
        raise CheckpointError("%s: field 'classes' has %d names, expected dims.Y = %d for a softmax head" % (path, len(classes), Y))
    if len(set(classes)) != len(classes):
        raise CheckpointError("%s: field 'classes' has duplicate names" % path)
    return list(classes)


def _check_normalize(path: str, norm: "Any", X: int, input_kind: str) -> "Optional[Dict[str, Any]]":
    """null, {"mode": "series"} or {"mode": "channel", "mean": X numbers, "std": X positive numbers}."""
    if norm is None:
        return None
    if not isinstance(norm, dict) or norm.get("mode") not in ("channel", "series") or input_kind != "dense":
        raise CheckpointError("%s: field 'normalize' must be null, or mode 'channel' or 'series' for dense input" % path)
    if norm["mode"] == "series":
        return {"mode": "series"}
    for key in ("mean", "std"):
        v = norm.get(key)
        if not isinstance(v, list) or len(v) != X:
            raise CheckpointError("%s: field 'normalize.%s' must be a list of dims.X = %d numbers" % (path, key, X))
        for i, u in enumerate(v):
            if isinstance(u, bool) or not isinstance(u, (int, float)) or not math.isfinite(u) or (key == "std" and u <= 0):
                raise CheckpointError("%s: field 'normalize.%s[%d]' = %r is not a %sfinite number" % (path, key, i, u, "positive " if key == "std" else ""))
    return {"mode": "channel", "mean": [float(u) for u in norm["mean"]], "std": [float(u) for u in norm["std"]]}
