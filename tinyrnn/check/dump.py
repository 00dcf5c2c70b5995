"""The gradient dump: what a hand-written C RNN prints for ``tinyrnn check``.

Plain text, one field per line: a name, then its values separated by
spaces (a field may continue on the following lines, which then start with
a number). ``#`` starts a comment. Floats as ``printf("%.9g")`` prints them
(nine significant digits: every float32 exactly); ``nan``/``inf`` are
refused. Format version 1::

    tinyrnn-dump 1                     first line, always
    X 1                                input size (vocabulary size for token input)
    H 8                                hidden units
    Y 1                                outputs
    head sigmoid                       softmax | sigmoid | mse
    input dense                        token | dense
    n 25                               steps in the dumped sequence
    passes 2                           optional (default 1): forward + backward calls made on
                                       this sequence with these weights before dumping
    clip none                          optional (default none): none | elementwise C | norm C,
                                       the clipping applied to the dumped gradients
    Wxh ...  Whh ...  bh ...           the weights the forward pass used, row-major:
    Why ...  by ...                    Wxh H x X, Whh H x H, bh H, Why Y x H, by Y
    h0 ...                             optional: the initial state (H values, default 0)
    x ...                              n token ids, or n*X floats (dense)
    y ...                              n class ids (softmax), or n*Y floats
    dWxh ... dWhh ... dbh ...          your gradients, same shapes as the weights
    dWhy ... dby ...
    loss L                             optional: your loss for this sequence
    end                                last line

The conventions are tinyrnn's (docs/core.md): h[t+1] = tanh(Wxh x[t] +
Whh h[t] + bh), z[t] = Why h[t+1] + by, loss = **sum** over steps.

``helper_header()`` is a C header (``tinyrnn_dump.h``) whose functions print
exactly this with ``printf``; ``tinyrnn check --helper -o tinyrnn_dump.h``
writes it.
"""

import math

from ..core.heads import HEADS
from ..workflow.fileio import TooLarge, read_bounded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

MAGIC = "tinyrnn-dump"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024
MAX_DIM = 1 << 16
WEIGHTS = ("Wxh", "Whh", "bh", "Why", "by")
GRADS = ("dWxh", "dWhh", "dbh", "dWhy", "dby")
INTS = ("X", "H", "Y", "n", "passes")
FIELDS = INTS + ("head", "input", "clip") + WEIGHTS + ("h0", "x", "y") + GRADS + ("loss", "end")
REQUIRED = ("X", "H", "Y", "head", "input", "n") + WEIGHTS + ("x", "y") + GRADS


class DumpError(ValueError):
    """A malformed dump; the message names the file, line and field."""


class Dump:
    """A parsed dump: dimensions, weights (flat, tinyrnn's layout), sequence, gradients."""

    def __init__(self) -> None:
        self.path = ""
        self.X = self.H = self.Y = self.n = 0
        self.passes = 1
        self.head = ""
        self.input = ""
        self.clip = ("none", 0.0)  # type: Tuple[str, float]
        self.weights = {}  # type: Dict[str, List[float]]
        self.grads = {}  # type: Dict[str, List[float]]
        self.h0 = None  # type: Optional[List[float]]
        self.xs = []  # type: List[Any]
        self.ys = []  # type: List[Any]
        self.loss = None  # type: Optional[float]

    def shape(self, group: str) -> "Tuple[int, str]":
        """(number of values, description) of a weight or gradient group."""
        g = group[1:] if group.startswith("d") else group
        X, H, Y = self.X, self.H, self.Y
        return {"Wxh": (H * X, "H*X"), "Whh": (H * H, "H*H"), "bh": (H, "H"), "Why": (Y * H, "Y*H"), "by": (Y, "Y")}[g]

    def params(self) -> "List[float]":
        """The weights as one flat buffer in tinyrnn's layout."""
        return [v for g in WEIGHTS for v in self.weights[g]]

    def grad_buffer(self) -> "List[float]":
        return [v for g in GRADS for v in self.grads[g]]


def _number(path: str, line: int, field: str, k: int, tok: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise DumpError("%s:%d: field %r value %d (%r) is not a number" % (path, line, field, k + 1, tok))
    if not math.isfinite(v):
        raise DumpError("%s:%d: field %r value %d is %s -- your program produced a non-finite number here" % (path, line, field, k + 1, tok))
    return v


def _integer(path: str, line: int, field: str, k: int, tok: str) -> int:
    try:
        return int(tok)
    except ValueError:
        raise DumpError("%s:%d: field %r value %d (%r) is not an integer" % (path, line, field, k + 1, tok))


def parse(text: str, path: str = "<dump>") -> Dump:
    """Parse and validate a dump; DumpError (one line: file, line, field) on any problem."""
    raw = {}  # type: Dict[str, Tuple[int, List[str]]]
    current = None  # type: Optional[str]
    first = True
    ended = False
    for lineno, text_line in enumerate(text.splitlines(), 1):
        toks = text_line.split("#", 1)[0].split()
        if not toks:
            continue
        if first:
            if toks[0] != MAGIC:
                raise DumpError("%s:%d: not a tinyrnn dump (the first line must be '%s %d')" % (path, lineno, MAGIC, VERSION))
            if len(toks) != 2 or toks[1] != str(VERSION):
                raise DumpError("%s:%d: dump format version %s is not supported (this tinyrnn reads %d)" % (path, lineno, " ".join(toks[1:]) or "(none)", VERSION))
            first = False
            continue
        if ended:
            raise DumpError("%s:%d: text after 'end'" % (path, lineno))
        head = toks[0]
        if head[0].isalpha() and head not in ("nan", "inf", "NaN", "Inf", "INF", "NAN"):
            if head not in FIELDS:
                raise DumpError("%s:%d: unknown field %r (fields: %s)" % (path, lineno, head, " ".join(FIELDS)))
            if head in raw:
                raise DumpError("%s:%d: field %r appears twice (first on line %d)" % (path, lineno, head, raw[head][0]))
            if head == "end":
                ended = True
                current = None
                continue
            raw[head] = (lineno, toks[1:])
            current = head
        else:
            if current is None:
                raise DumpError("%s:%d: values %r without a field name before them" % (path, lineno, head))
            raw[current][1].extend(toks)
    if first:
        raise DumpError("%s: empty file, not a tinyrnn dump" % path)
    if not ended:
        raise DumpError("%s: no 'end' line -- the dump is truncated (did your program stop early?)" % path)
    for f in REQUIRED:
        if f not in raw:
            raise DumpError("%s: missing field %r" % (path, f))

    d = Dump()
    d.path = path

    def one(field: str) -> "Tuple[int, str]":
        line, vals = raw[field]
        if len(vals) != 1:
            raise DumpError("%s:%d: field %r needs exactly one value, got %d" % (path, line, field, len(vals)))
        return line, vals[0]

    for f in INTS:
        if f not in raw:
            continue
        line, tok = one(f)
        iv = _integer(path, line, f, 0, tok)
        if iv < 1 or iv > MAX_DIM:
            raise DumpError("%s:%d: field %r = %d is out of range (1 .. %d)" % (path, line, f, iv, MAX_DIM))
        setattr(d, f, iv)
    line, d.head = one("head")
    if d.head not in HEADS:
        raise DumpError("%s:%d: field 'head' = %r is not one of %s" % (path, line, d.head, ", ".join(HEADS)))
    line, d.input = one("input")
    if d.input not in ("token", "dense"):
        raise DumpError("%s:%d: field 'input' = %r is not token or dense" % (path, line, d.input))
    if "clip" in raw:
        line, vals = raw["clip"]
        if vals == ["none"]:
            d.clip = ("none", 0.0)
        elif len(vals) == 2 and vals[0] in ("elementwise", "norm"):
            c = _number(path, line, "clip", 1, vals[1])
            if c <= 0:
                raise DumpError("%s:%d: field 'clip' threshold %r must be positive" % (path, line, vals[1]))
            d.clip = (vals[0], c)
        else:
            raise DumpError("%s:%d: field 'clip' must be 'none', 'elementwise C' or 'norm C', got %r" % (path, line, " ".join(vals)))

    def floats(field: str, count: int, what: str) -> "List[float]":
        line, vals = raw[field]
        if len(vals) != count:
            raise DumpError("%s:%d: field %r has %d values, expected %d (%s)" % (path, line, field, len(vals), count, what))
        return [_number(path, line, field, k, t) for k, t in enumerate(vals)]

    for g in WEIGHTS:
        count, what = d.shape(g)
        d.weights[g] = floats(g, count, what)
    for g in GRADS:
        count, what = d.shape(g)
        d.grads[g] = floats(g, count, what)
    if "h0" in raw:
        d.h0 = floats("h0", d.H, "H")
    n, X, Y = d.n, d.X, d.Y

    def ids(field: str, limit: int, what: str) -> "List[int]":
        line, vals = raw[field]
        if len(vals) != n:
            raise DumpError("%s:%d: field %r has %d values, expected n = %d %ss" % (path, line, field, len(vals), n, what))
        out = [_integer(path, line, field, k, s) for k, s in enumerate(vals)]
        for k, v in enumerate(out):
            if not 0 <= v < limit:
                raise DumpError("%s:%d: field %r value %d = %d is not a %s in [0, %d)" % (path, line, field, k + 1, v, what, limit))
        return out

    if d.input == "token":
        d.xs = ids("x", X, "token id")
    else:
        flat = floats("x", n * X, "n*X = %d*%d" % (n, X))
        d.xs = [flat[t * X : (t + 1) * X] for t in range(n)]
    if d.head == "softmax":
        d.ys = ids("y", Y, "class id")
    else:
        flat = floats("y", n * Y, "n*Y = %d*%d" % (n, Y))
        if d.head == "sigmoid":
            for k, v in enumerate(flat):
                if not 0.0 <= v <= 1.0:
                    raise DumpError("%s:%d: field 'y' value %d = %r: sigmoid targets must lie in [0, 1]" % (path, raw["y"][0], k + 1, v))
        d.ys = [flat[t * Y : (t + 1) * Y] for t in range(n)]
    if "loss" in raw:
        line, tok = one("loss")
        d.loss = _number(path, line, "loss", 0, tok)
    return d


def to_text(d: Dump) -> str:
    """``d`` in the dump format (floats with repr: parse(to_text(d)) gives d back)."""
    o = ["%s %d" % (MAGIC, VERSION)]
    o += ["X %d" % d.X, "H %d" % d.H, "Y %d" % d.Y, "head " + d.head, "input " + d.input, "n %d" % d.n, "passes %d" % d.passes]
    o.append("clip none" if d.clip[0] == "none" else "clip %s %r" % d.clip)
    o += ["%s %s" % (g, " ".join(map(repr, d.weights[g]))) for g in WEIGHTS]
    if d.h0 is not None:
        o.append("h0 " + " ".join(map(repr, d.h0)))
    xs = d.xs if d.input == "token" else [v for row in d.xs for v in row]
    ys = d.ys if d.head == "softmax" else [v for row in d.ys for v in row]
    o.append("x " + " ".join(map(repr, xs)))
    o.append("y " + " ".join(map(repr, ys)))
    o += ["%s %s" % (g, " ".join(map(repr, d.grads[g]))) for g in GRADS]
    if d.loss is not None:
        o.append("loss %r" % d.loss)
    o.append("end")
    return "\n".join(o) + "\n"


def load(path: str) -> Dump:
    """Read and parse the dump file ``path``."""
    try:
        data = read_bounded(path, MAX_BYTES)
    except TooLarge as e:
        raise DumpError("%s: %d bytes is larger than the %d byte limit for a dump" % (path, e.size, MAX_BYTES))
    except OSError as e:
        raise DumpError("%s: cannot read (%s)" % (path, e.strerror or e))
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as e:
        raise DumpError("%s: byte %d is not ASCII -- not a tinyrnn dump" % (path, e.start))
    return parse(text, path)


def helper_header() -> str:
    """The C helper that prints a dump (``tinyrnn_dump.h``)."""
    return _HELPER


_HELPER = """\
/* tinyrnn_dump.h -- print a gradient dump for `tinyrnn check` (format: docs/checking.md).
 *
 *   tinyrnn_dump_begin(X, H, Y, "softmax", "token", n, passes);   head: softmax|sigmoid|mse
 *   tinyrnn_dump_floats("Wxh", &Wxh[0][0], H * X);                the weights your forward used
 *   ... Whh (H*H), bh (H), Why (Y*H), by (Y), optionally h0 (H)
 *   tinyrnn_dump_ints("x", tokens, n);    or tinyrnn_dump_floats("x", &x[0][0], n * X);
 *   tinyrnn_dump_ints("y", targets, n);   or tinyrnn_dump_floats("y", &y[0][0], n * Y);
 *   tinyrnn_dump_floats("dWxh", &dWxh[0][0], H * X);   ... dWhh, dbh, dWhy, dby
 *   tinyrnn_dump_loss(loss);              optional
 *   tinyrnn_dump_clip("norm", 5.0f);      optional: only if the dumped gradients are clipped
 *   tinyrnn_dump_end();
 *
 * Matrices are row-major: W[i][j] multiplies input j into unit i (Wxh[H][X],
 * Whh[H][H], Why[Y][H]). Output goes through TINYRNN_DUMP_PRINTF (printf by
 * default; define it before including this file to print elsewhere).
 * Floats are printed with %.9g: every float32 exactly.
 */
#ifndef TINYRNN_DUMP_H
#define TINYRNN_DUMP_H
#include <stdio.h>

#ifndef TINYRNN_DUMP_PRINTF
#define TINYRNN_DUMP_PRINTF printf
#endif
#if defined(__GNUC__)
#define TINYRNN_DUMP_API_ static __attribute__((unused))
#else
#define TINYRNN_DUMP_API_ static
#endif

TINYRNN_DUMP_API_ void tinyrnn_dump_begin(int X, int H, int Y, const char *head, const char *input, int n, int passes)
{
    TINYRNN_DUMP_PRINTF("tinyrnn-dump 1\\nX %d\\nH %d\\nY %d\\nhead %s\\ninput %s\\nn %d\\npasses %d\\n", X, H, Y, head, input, n, passes);
}

TINYRNN_DUMP_API_ void tinyrnn_dump_floats(const char *key, const float *v, int count)
{
    int k;
    TINYRNN_DUMP_PRINTF("%s", key);
    for (k = 0; k < count; ++k) TINYRNN_DUMP_PRINTF(k % 8 == 7 ? " %.9g\\n" : " %.9g", (double)v[k]);
    TINYRNN_DUMP_PRINTF("\\n");
}

TINYRNN_DUMP_API_ void tinyrnn_dump_ints(const char *key, const int *v, int count)
{
    int k;
    TINYRNN_DUMP_PRINTF("%s", key);
    for (k = 0; k < count; ++k) TINYRNN_DUMP_PRINTF(" %d", v[k]);
    TINYRNN_DUMP_PRINTF("\\n");
}

TINYRNN_DUMP_API_ void tinyrnn_dump_loss(float loss)
{
    TINYRNN_DUMP_PRINTF("loss %.9g\\n", (double)loss);
}

/* kind: "elementwise" or "norm"; c: the threshold */
TINYRNN_DUMP_API_ void tinyrnn_dump_clip(const char *kind, float c)
{
    TINYRNN_DUMP_PRINTF("clip %s %.9g\\n", kind, (double)c);
}

TINYRNN_DUMP_API_ void tinyrnn_dump_end(void)
{
    TINYRNN_DUMP_PRINTF("end\\n");
}
#endif /* TINYRNN_DUMP_H */
"""
