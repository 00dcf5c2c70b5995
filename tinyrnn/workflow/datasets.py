"""Training data: character corpora and numeric sequence files.

**Character corpus** (any UTF-8 text file). The vocabulary is every distinct
character, sorted by code point -- a stable order saved with the model, so
token id ``k`` is ``vocab[k]`` everywhere (Python, checkpoint, C header).

**Sequence file** (JSON lines, ``.jsonl``): one JSON object per line, one
sequence per object; blank lines are skipped::

    {"x": [[0.5, -1.0], [0.25, 0.0], [1.0, 1.0]], "y": [[0.0], [1.0], [1.0]]}
    {"x": [3, 1, 4, 1], "y_final": 2}
    {"x": [[1.0], [0.0], [0.0], [0.0]], "y": [0, 1, 0, 0], "length": 3}

- ``x``: the inputs, one per step: either token ids (non-negative integers,
  X = largest id + 1 unless given) or dense vectors (all of the same length
  X, in every sequence of the file).
- ``y``: a target for every step (many-to-many), one per entry of ``x``; or
  ``y_final``: one target for the last step (many-to-one). Exactly one of
  the two. A target is a class id (softmax head), a number (Y = 1) or a
  list of Y numbers (sigmoid: each in [0, 1]; mse: any finite number).
- ``length`` (optional): only the first ``length`` steps are real, the rest
  of ``x`` / ``y`` is padding and ignored (the final target then belongs to
  step ``length``).

Every problem is reported as ``FILE:LINE: problem`` (``FILE: byte N`` for
invalid UTF-8), raised as :class:`DataError` (a ``ValueError``).
"""

import json
import math

from .fileio import TooLarge, loads, read_bounded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Union

    Target = Union[int, float, List[float]]

MAX_BYTES = 64 * 1024 * 1024


class DataError(ValueError):
    """Bad training data; the message names the file and where the problem is."""


# ------------------------------------------------------------------- files
def read_bytes(path: str, limit: "Optional[int]" = None) -> bytes:
    """The file's bytes, refusing a missing, empty or oversized file (``limit`` bytes, default MAX_BYTES)."""
    if limit is None:
        limit = MAX_BYTES
    try:
        raw = read_bounded(path, limit)
    except TooLarge as e:
        raise DataError("%s: %d bytes is larger than the %d byte limit" % (path, e.size, limit))
    except ValueError as e:  # fileio.FileError: not a regular file
        raise DataError(str(e))
    except OSError as e:
        raise DataError("%s: cannot read (%s)" % (path, e.strerror or e))
    if not raw:
        raise DataError("%s: empty file, nothing to train on" % path)
    return raw


def decode_utf8(raw: bytes, path: str) -> str:
    """``raw`` as text, or a DataError naming the byte offset and line of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(
            "%s: invalid UTF-8 at byte %d (line %d): %s; save the file as UTF-8" % (path, e.start, line, e.reason)
        )


def read_text(path: str, limit: "Optional[int]" = None) -> str:
    text = decode_utf8(read_bytes(path, limit), path)
    if not text.strip():
        raise DataError("%s: only whitespace, nothing to train on" % path)
    return text


# --------------------------------------------------------------- vocabulary
class Vocab:
    """Characters sorted by code point; ``encode`` / ``decode`` between text and token ids."""

    def __init__(self, chars: "Sequence[str]") -> None:
        self.chars = list(chars)
        if not self.chars:
            raise DataError("empty vocabulary")
        self.index = {c: k for k, c in enumerate(self.chars)}  # type: Dict[str, int]
        if len(self.index) != len(self.chars):
            raise DataError("vocabulary has duplicate characters")

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str, what: str = "text") -> "List[int]":
        """Token ids of ``text``; a character outside the vocabulary is a DataError naming it and where."""
        index = self.index
        try:
            return [index[c] for c in text]
        except KeyError:
            pass
        for k, c in enumerate(text):
            if c not in index:
                line = text.count("\n", 0, k) + 1
                col = k - (text.rfind("\n", 0, k) + 1) + 1
                raise DataError(
                    "%s: character %r (U+%04X) at line %d, column %d is not in the model's vocabulary of %d characters"
                    % (what, c, ord(c), line, col, len(self.chars))
                )
        raise AssertionError("unreachable")

    def decode(self, ids: "Sequence[int]") -> str:
        return "".join(self.chars[i] for i in ids)


def unigram_loss(train: "Sequence[int]", test: "Sequence[int]", size: int) -> float:
    """Cross-entropy (nats per token) of ``test`` under add-one-smoothed unigram counts of ``train``.

    The baseline a character model must beat: it knows the letter
    frequencies and nothing about context.
    """
    if not test:
        raise ValueError("unigram_loss needs a non-empty test sequence")
    counts = [1] * size
    for t in train:
        counts[t] += 1
    total = float(sum(counts))
    logp = [math.log(c / total) for c in counts]
    return -sum(logp[t] for t in test) / len(test)


# ---------------------------------------------------------- sequence files
class SeqExample:
    """One sequence: inputs ``xs`` and targets (per step, or one final target)."""

    def __init__(self, xs: "List[Any]", targets: "List[Any]", last_only: bool, line: int) -> None:
        self.xs = xs
        self.targets = targets
        self.last_only = last_only
        self.line = line


class SeqDataset:
    """A parsed sequence file: examples plus the shapes they imply."""

    def __init__(
        self, path: str, examples: "List[SeqExample]", input_kind: str, X: int, Y: int, target_kind: str, integral: bool, unit: bool
    ) -> None:
        self.path = path
        self.examples = examples
        self.input_kind = input_kind  # "token" | "dense"
        self.X = X
        self.Y = Y
        self.target_kind = target_kind  # "step" | "final"
        self.integral = integral  # every target a single non-negative integer
        self.unit = unit  # every target value in [0, 1]
        self.max_len = max(len(e.xs) for e in examples)
        self.classes = None  # type: Optional[List[str]]  # class names (series files), class id k is classes[k]

    def guess_head(self) -> str:
        """sigmoid when every target value is in [0, 1], else mse (softmax only on request)."""
        return "sigmoid" if self.unit else "mse"


def _number(v: "Any", where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DataError("%s is %s, expected a number" % (where, json.dumps(v)[:40]))
    f = float(v)
    if not math.isfinite(f):
        raise DataError("%s is not a finite number (%r)" % (where, v))
    return f


def parse_sequences(text: str, path: str, X: "Optional[int]" = None) -> SeqDataset:
    """Parse a JSON-lines sequence file (see the module docstring)."""
    examples = []  # type: List[SeqExample]
    input_kind = ""
    dense_X = 0
    max_token = -1
    Y = 0
    target_kind = ""
    integral = True
    unit = True
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        at = "%s:%d" % (path, lineno)
        try:
            obj = loads(line, finite=False)  # numbers are checked below, with their place
        except ValueError as e:
            raise DataError("%s: not valid JSON (%s)" % (at, e))
        if not isinstance(obj, dict):
            raise DataError("%s: expected a JSON object with \"x\" and \"y\" or \"y_final\"" % at)
        unknown = sorted(set(obj) - {"x", "y", "y_final", "length"})
        if unknown:
            raise DataError("%s: unknown field %r (fields: x, y, y_final, length)" % (at, unknown[0]))
        if "x" not in obj:
            raise DataError("%s: missing field \"x\"" % at)
        xs = obj["x"]
        if not isinstance(xs, list) or not xs:
            raise DataError("%s: field \"x\" must be a non-empty list of steps" % at)
        # inputs
        kind = "dense" if isinstance(xs[0], list) else "token"
        if input_kind and kind != input_kind:
            raise DataError("%s: \"x\" has %s inputs but earlier lines have %s inputs" % (at, kind, input_kind))
        input_kind = kind
        if kind == "token":
            for t, v in enumerate(xs):
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise DataError("%s: x[%d] is %s, expected a token id (integer >= 0) like x[0]" % (at, t, json.dumps(v)[:40]))
                if X is not None and v >= X:
                    raise DataError("%s: x[%d] = %d is not below X = %d" % (at, t, v, X))
            max_token = max(max_token, max(xs))
        else:
            for t, v in enumerate(xs):
                if not isinstance(v, list):
                    raise DataError("%s: x[%d] is not a vector like x[0]" % (at, t))
                if not dense_X:
                    dense_X = len(v)
                    if not dense_X:
                        raise DataError("%s: x[%d] is an empty vector" % (at, t))
                if len(v) != dense_X:
                    raise DataError(
                        "%s: ragged vectors: x[%d] has %d values, expected %d like the first vector of the file" % (at, t, len(v), dense_X)
                    )
                xs[t] = [_number(u, "%s: x[%d][%d]" % (at, t, k)) for k, u in enumerate(v)]
        n = len(xs)
        if "length" in obj:
            length = obj["length"]
            if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= n:
                raise DataError("%s: \"length\" = %s must be an integer in [1, %d] (the number of steps in x)" % (at, json.dumps(length), n))
            n = length
        # targets
        has_y, has_f = "y" in obj, "y_final" in obj
        if has_y == has_f:
            raise DataError("%s: give exactly one of \"y\" (a target per step) or \"y_final\" (one target for the last step)" % at)
        kind_t = "step" if has_y else "final"
        if target_kind and kind_t != target_kind:
            raise DataError("%s: mixes per-step \"y\" and \"y_final\" targets in one file" % at)
        target_kind = kind_t
        if has_y:
            ys = obj["y"]
            if not isinstance(ys, list) or len(ys) != len(xs):
                got = len(ys) if isinstance(ys, list) else json.dumps(ys)[:20]
                raise DataError("%s: \"y\" must be a list with one target per step of x (%d), got %s" % (at, len(xs), got))
            raw_targets = ys[:n]
            names = ["y[%d]" % t for t in range(n)]
        else:
            raw_targets = [obj["y_final"]]
            names = ["y_final"]
        targets = []  # type: List[Any]
        for v, name in zip(raw_targets, names):
            where = "%s: %s" % (at, name)
            if isinstance(v, list):
                vec = [_number(u, "%s[%d]" % (where, k)) for k, u in enumerate(v)]
                integral = False
            else:
                vec = [_number(v, where)]
                if isinstance(v, float) or v < 0:
                    integral = False
            if not vec:
                raise DataError("%s is an empty list" % where)
            if not Y:
                Y = len(vec)
            if len(vec) != Y:
                raise DataError("%s: ragged vectors: %s has %d values, expected %d like the first target of the file" % (at, name, len(vec), Y))
            if min(vec) < 0.0 or max(vec) > 1.0:
                unit = False
            targets.append(vec)
        examples.append(SeqExample(xs[:n], targets, not has_y, lineno))
    if not examples:
        raise DataError("%s: no sequences (every line is blank)" % path)
    if input_kind == "token":
        width = X if X is not None else max_token + 1
    else:
        width = dense_X
        if X is not None and X != dense_X:
            raise DataError("%s: input vectors have %d values, the model expects X = %d" % (path, dense_X, X))
    return SeqDataset(path, examples, input_kind, width, Y, target_kind, integral, unit)


def read_sequences(path: str, X: "Optional[int]" = None) -> SeqDataset:
    return parse_sequences(read_text(path), path, X)


def targets_for_head(ds: SeqDataset, head: str, Y: "Optional[int]" = None) -> int:
    """Check the targets suit ``head``, convert them in place, return Y (output size)."""
    if head == "softmax":
        if not ds.integral or ds.Y != 1:
            for e in ds.examples:
                for k, v in enumerate(e.targets):
                    if len(v) != 1 or v[0] != int(v[0]) or v[0] < 0:
                        raise DataError(
                            "%s:%d: target %d is %r; the softmax head needs a class id (integer >= 0)" % (ds.path, e.line, k, v)
                        )
        classes = max(int(v[0]) for e in ds.examples for v in e.targets) + 1
        Y = classes if Y is None else Y
        for e in ds.examples:
            for k, v in enumerate(e.targets):
                if int(v[0]) >= Y:
                    raise DataError("%s:%d: class id %d is not below the %d classes" % (ds.path, e.line, int(v[0]), Y))
            e.targets = [int(v[0]) for v in e.targets]
        return Y
    if head == "sigmoid" and not ds.unit:
        for e in ds.examples:
            for k, v in enumerate(e.targets):
                if min(v) < 0.0 or max(v) > 1.0:
                    raise DataError("%s:%d: target %d = %r is outside [0, 1], which the sigmoid head needs" % (ds.path, e.line, k, v))
    if Y is not None and Y != ds.Y:
        raise DataError("%s: targets have %d values, the model expects Y = %d" % (ds.path, ds.Y, Y))
    return ds.Y


def is_sequence_file(path: str) -> bool:
    return path.endswith(".jsonl")
