"""Time-series classification files: UCR/UEA ``.ts`` and CSV.

Both give a :class:`~tinyrnn.workflow.datasets.SeqDataset` of dense inputs
(one vector of C channels per time step) with one class per series (a
many-to-one, ``y_final`` task), plus ``ds.classes``: the class names, class
id ``k`` is ``classes[k]``.

**.ts** (the UCR/UEA archive's format; aeon's ``load_from_ts_file`` reads
the same files)::

    # comments
    @problemName GunPoint
    @timeStamps false
    @missing false
    @univariate true
    @dimensions 1
    @equalLength true
    @seriesLength 150
    @classLabel true 1 2
    @data
    -0.65,-0.64,...,-0.64:2
    0.1,0.2:0.3,0.4:walking         <- two channels, label "walking"

A data line is the channels separated by ``:``, each a comma-separated list
of numbers, then the class label. Header fields are checked against the
data: ``@univariate true`` with more than one channel, a channel count other
than ``@dimensions``, a series length other than ``@seriesLength`` or
unequal lengths under ``@equalLength true``, a label not listed in
``@classLabel``, ``?`` under ``@missing false`` are all errors. Class names
are the ``@classLabel`` list, in its order. ``@timeStamps true`` and
regression files (``@targetLabel true`` / ``@classLabel false``) are not
supported and say so.

**CSV** (comma separated, optional header row; a header is recognised when
the first row has a non-numeric cell outside the label and series columns):

- *wide* (default): one series per row, one time step per column, univariate;
  ``label_column`` (index, negative from the end, or a header name; default
  0, the UCR CSV layout) holds the class. Trailing empty cells end a shorter
  series (unequal lengths).
- *long* (``series_column`` given): one time step per row; rows with the same
  series id are one series, in file order (the rows of a series must be
  contiguous); every column but the id and label columns is a channel; the
  label must be the same on every row of a series. Class names are the
  distinct labels, sorted (numerically when all are numbers).

**Missing values** (``?``, ``NaN`` or an empty cell inside a series) are an
error unless ``missing`` says how to fill them: ``interpolate`` (linear
between the nearest known values of the channel, the nearest known value at
the ends) or ``zero``. A channel with no known value is always an error.

Every problem is a :class:`DataError` naming ``FILE:LINE: problem``. A line
longer than ``MAX_LINE_BYTES`` is refused before it is parsed.
"""

import math

from .datasets import DataError, SeqDataset, SeqExample, decode_utf8, read_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

MAX_LINE_BYTES = 4 * 1024 * 1024
MISSING_MODES = ("error", "interpolate", "zero")
_TRUE_FALSE = {"true": True, "false": False}
_TS_FIELDS = (
    "problemname", "timestamps", "missing", "univariate", "dimension", "dimensions", "equallength",
    "serieslength", "classlabel", "targetlabel", "data",
)


def is_series_file(path: str) -> "Optional[str]":
    """'ts' or 'csv' by the file's extension, else None."""
    low = path.lower()
    if low.endswith(".ts"):
        return "ts"
    if low.endswith(".csv"):
        return "csv"
    return None


class SeriesOptions:
    """How to read a series file: missing values, CSV columns, the class list to map labels onto."""

    def __init__(
        self,
        missing: str = "error",
        label_column: "Optional[str]" = None,
        series_column: "Optional[str]" = None,
        classes: "Optional[List[str]]" = None,
    ) -> None:
        if missing not in MISSING_MODES:
            raise ValueError("missing must be one of %s, got %r" % (", ".join(MISSING_MODES), missing))
        self.missing = missing
        self.label_column = label_column
        self.series_column = series_column
        self.classes = classes  # a test/eval file's labels must be among the training file's


def _lines(text: str, raw: bytes, path: str) -> "List[str]":
    lines = text.split("\n")
    if len(raw) > MAX_LINE_BYTES:
        for k, line in enumerate(lines, 1):
            n = len(line.encode("utf-8"))
            if n > MAX_LINE_BYTES:
                raise DataError("%s:%d: line is %d bytes, longer than the %d byte limit" % (path, k, n, MAX_LINE_BYTES))
    return lines


def _value(s: str, at: str, what: str) -> float:
    """A number, or NaN for a missing value (``?``, ``NaN``, empty)."""
    t = s.strip()
    if t in ("?", "", "NaN", "nan"):
        return math.nan
    try:
        v = float(t)
    except ValueError:
        raise DataError("%s: %s is %r, not a number" % (at, what, t[:40]))
    if not math.isfinite(v):
        raise DataError("%s: %s is %r, not a finite number" % (at, what, t[:40]))
    return v


def fill_missing(channel: "List[float]", mode: str, at: str, what: str) -> None:
    """Replace the NaNs of one channel in place (see the module docstring), or DataError."""
    gaps = [t for t, v in enumerate(channel) if v != v]
    if not gaps:
        return
    if mode == "error":
        raise DataError("%s: missing value in %s at step %d; fill it with --missing interpolate or --missing zero" % (at, what, gaps[0]))
    known = [t for t, v in enumerate(channel) if v == v]
    if not known:
        raise DataError("%s: %s has no values, only missing ones" % (at, what))
    if mode == "zero":
        for t in gaps:
            channel[t] = 0.0
        return
    k = 0  # interpolate: known[k] is the last known step before t (or the first known one)
    for t in gaps:
        while k + 1 < len(known) and known[k + 1] < t:
            k += 1
        a = known[k]
        if a > t:
            channel[t] = channel[a]
        elif k + 1 >= len(known):
            channel[t] = channel[a]
        else:
            b = known[k + 1]
            channel[t] = channel[a] + (channel[b] - channel[a]) * (t - a) / (b - a)


def _steps(channels: "List[List[float]]") -> "List[List[float]]":
    """Channel-major values -> one vector per time step."""
    return [list(v) for v in zip(*channels)]


def _label_sort_key(s: str) -> "Tuple[int, float, str]":
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def _finish(path: str, rows: "List[Tuple[int, List[List[float]], str]]", declared: "Optional[List[str]]", opts: SeriesOptions) -> SeqDataset:
    """Map labels to class ids and build the SeqDataset. rows: (line, steps, label)."""
    if not rows:
        raise DataError("%s: no series (no data lines)" % path)
    if opts.classes is not None:
        classes = list(opts.classes)
        source = "the model's classes"
    elif declared is not None:
        classes = declared
        source = "@classLabel"
    else:
        classes = sorted(set(r[2] for r in rows), key=_label_sort_key)
        source = ""
    index = {c: k for k, c in enumerate(classes)}
    examples = []  # type: List[SeqExample]
    for line, steps, label in rows:
        if label not in index:
            shown = ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")
            raise DataError("%s:%d: class label %r is not one of %s (%s)" % (path, line, label[:40], source or "the labels", shown))
        examples.append(SeqExample(steps, [[float(index[label])]], True, line))
    X = len(examples[0].xs[0])
    ds = SeqDataset(path, examples, "dense", X, 1, "final", True, False)
    ds.classes = classes
    return ds


# ------------------------------------------------------------------- .ts
def parse_ts(text: str, path: str, opts: "Optional[SeriesOptions]" = None, raw: bytes = b"") -> SeqDataset:
    """Parse a UCR/UEA ``.ts`` file (see the module docstring)."""
    opts = opts if opts is not None else SeriesOptions()
    header = {}  # type: Dict[str, Any]
    declared = None  # type: Optional[List[str]]
    rows = []  # type: List[Tuple[int, List[List[float]], str]]
    in_data = False
    channels = 0
    first_len = 0
    for lineno, line in enumerate(_lines(text, raw, path), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        at = "%s:%d" % (path, lineno)
        if not in_data:
            if not s.startswith("@"):
                raise DataError("%s: expected an @field header line or @data before the data, got %r" % (at, s[:40]))
            parts = s.split()
            key = parts[0][1:].lower()
            if key not in _TS_FIELDS:
                raise DataError("%s: unknown header field %r" % (at, parts[0][:40]))
            if key in header:
                raise DataError("%s: header field %s given twice" % (at, parts[0]))
            args = parts[1:]
            if key == "data":
                if args:
                    raise DataError("%s: @data takes no value" % at)
                in_data = True
                header[key] = True
                if header.get("timestamps"):
                    raise DataError("%s: @timeStamps true is not supported (give the values without time stamps)" % path)
                if header.get("targetlabel") or header.get("classlabel") is False:
                    raise DataError("%s: a regression file (@targetLabel true / @classLabel false) is not supported: tinyrnn reads class labels" % path)
                if "classlabel" not in header:
                    raise DataError("%s: no @classLabel line before @data" % path)
                continue
            if key == "problemname":
                header[key] = " ".join(args)
                continue
            if key in ("timestamps", "missing", "univariate", "equallength", "classlabel", "targetlabel"):
                if not args or args[0].lower() not in _TRUE_FALSE:
                    raise DataError("%s: %s must be true or false, got %r" % (at, parts[0], " ".join(args)[:40]))
                header[key] = _TRUE_FALSE[args[0].lower()]
                if key == "classlabel":
                    if header[key]:
                        declared = args[1:]
                        if not declared:
                            raise DataError("%s: @classLabel true lists no class labels" % at)
                        if len(set(declared)) != len(declared):
                            raise DataError("%s: @classLabel lists a label twice" % at)
                    elif len(args) > 1:
                        raise DataError("%s: @classLabel false takes no labels" % at)
                elif len(args) != 1:
                    raise DataError("%s: %s takes one value, got %r" % (at, parts[0], " ".join(args)[:40]))
                continue
            # dimension(s), seriesLength: a positive integer
            if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
                raise DataError("%s: %s must be a positive integer, got %r" % (at, parts[0], " ".join(args)[:40]))
            header["dimensions" if key == "dimension" else key] = int(args[0])
            continue
        # a data line: channel:channel:...:label
        fields = s.split(":")
        if len(fields) < 2:
            raise DataError("%s: expected values then ':' and a class label" % at)
        label = fields[-1].strip()
        if not label:
            raise DataError("%s: empty class label" % at)
        chans = []  # type: List[List[float]]
        for c, field in enumerate(fields[:-1]):
            vals = field.split(",")
            chans.append([_value(v, at, "channel %d value %d" % (c, t)) for t, v in enumerate(vals)])
        n = len(chans)
        if header.get("univariate") and n != 1:
            raise DataError("%s: %d channels but the header says @univariate true" % (at, n))
        want = header.get("dimensions") or channels
        if want and n != want:
            raise DataError("%s: %d channels, expected %d like %s" % (at, n, want, "@dimensions" if "dimensions" in header else "the first series"))
        channels = n
        length = len(chans[0])
        for c in range(1, n):
            if len(chans[c]) != length:
                raise DataError("%s: ragged series: channel %d has %d values, channel 0 has %d" % (at, c, len(chans[c]), length))
        if header.get("equallength"):
            want_len = header.get("serieslength") or first_len
            if want_len and length != want_len:
                raise DataError("%s: series has %d steps, but the header says @equalLength true and %s %d" % (
                    at, length, "@seriesLength" if "serieslength" in header else "the first series has", want_len))
        first_len = first_len or length
        for c, ch in enumerate(chans):
            if header.get("missing") is False and any(v != v for v in ch):
                raise DataError("%s: missing value '?' in channel %d, but the header says @missing false" % (at, c))
            fill_missing(ch, opts.missing, at, "channel %d" % c)
        rows.append((lineno, _steps(chans), label))
    if not in_data:
        raise DataError("%s: no @data line: not a .ts file" % path)
    return _finish(path, rows, declared, opts)


# -------------------------------------------------------------------- CSV
def _column(spec: "Optional[str]", names: "Optional[List[str]]", width: int, path: str, option: str, default: int) -> int:
    """A column index from an index (negative from the end) or a header name."""
    if spec is None:
        return default
    try:
        k = int(spec)
    except ValueError:
        if names is None:
            raise DataError("%s: %s %r names a column, but the file has no header row" % (path, option, spec))
        if spec not in names:
            raise DataError("%s: %s %r is not a column (columns: %s)" % (path, option, spec, ", ".join(names)[:200]))
        return names.index(spec)
    if not -width <= k < width:
        raise DataError("%s: %s %d is outside the %d columns" % (path, option, k, width))
    return k % width


def _is_number(s: str) -> bool:
    t = s.strip()
    if t in ("?", "", "NaN", "nan"):
        return True
    try:
        float(t)
        return True
    except ValueError:
        return False


def parse_csv(text: str, path: str, opts: "Optional[SeriesOptions]" = None, raw: bytes = b"") -> SeqDataset:
    """Parse a CSV series file, wide or long (see the module docstring)."""
    opts = opts if opts is not None else SeriesOptions()
    table = [(k, line.rstrip("\r").split(",")) for k, line in enumerate(_lines(text, raw, path), 1) if line.strip()]
    if not table:
        raise DataError("%s: no rows" % path)
    width = len(table[0][1])
    first = table[0][1]
    long = opts.series_column is not None
    names = None  # type: Optional[List[str]]
    specs = [opts.label_column, opts.series_column]
    by_name = any(c is not None and not c.lstrip("-").isdigit() for c in specs)
    if by_name:  # a column given by name: the first row is the header
        has_header = True
    else:  # header row: a non-numeric cell outside the label and id columns
        skip = {_column(opts.label_column, None, width, path, "--label-column", width - 1 if long else 0)}
        if long:
            skip.add(_column(opts.series_column, None, width, path, "--series-column", 0))
        has_header = any(not _is_number(c) for k, c in enumerate(first) if k not in skip)
    if has_header:
        names = [c.strip() for c in first]
        table = table[1:]
        if not table:
            raise DataError("%s: only a header row, no data" % path)
    label_col = _column(opts.label_column, names, width, path, "--label-column", width - 1 if long else 0)
    rows = []  # type: List[Tuple[int, List[List[float]], str]]
    if not long:
        for lineno, cells in table:
            at = "%s:%d" % (path, lineno)
            if len(cells) > width:
                raise DataError("%s: %d columns, more than the %d of the first row" % (at, len(cells), width))
            label = cells[label_col].strip() if label_col < len(cells) else ""
            if not label:
                raise DataError("%s: empty class label in column %d" % (at, label_col))
            vals = [c for k, c in enumerate(cells) if k != label_col]
            while vals and not vals[-1].strip():  # trailing empty cells: a shorter series
                vals.pop()
            if not vals:
                raise DataError("%s: no values, only a label" % at)
            ch = [_value(v, at, "column %d" % (k + (k >= label_col))) for k, v in enumerate(vals)]
            fill_missing(ch, opts.missing, at, "the series")
            rows.append((lineno, [[v] for v in ch], label))
        return _finish(path, rows, None, opts)
    id_col = _column(opts.series_column, names, width, path, "--series-column", 0)
    if id_col == label_col:
        raise DataError("%s: --series-column and --label-column are the same column (%d)" % (path, id_col))
    value_cols = [k for k in range(width) if k not in (id_col, label_col)]
    if not value_cols:
        raise DataError("%s: no value columns besides the series id and label" % path)
    seen = set()  # type: Set[str]
    current = None  # type: Optional[str]
    chans = []  # type: List[List[float]]
    start, label = 0, ""

    def close() -> None:
        at = "%s:%d" % (path, start)
        for c, ch in enumerate(chans):
            fill_missing(ch, opts.missing, at, "series %r channel %d" % ((current or "")[:40], c))
        rows.append((start, _steps(chans), label))

    for lineno, cells in table:
        at = "%s:%d" % (path, lineno)
        if len(cells) != width:
            raise DataError("%s: ragged row: %d columns, expected %d like the first row" % (at, len(cells), width))
        sid = cells[id_col].strip()
        lab = cells[label_col].strip()
        if not sid:
            raise DataError("%s: empty series id in column %d" % (at, id_col))
        if not lab:
            raise DataError("%s: empty class label in column %d" % (at, label_col))
        if sid != current:
            if current is not None:
                close()
            if sid in seen:
                raise DataError("%s: series %r continues after other series: keep the rows of a series together" % (at, sid[:40]))
            seen.add(sid)
            current, start, label = sid, lineno, lab
            chans = [[] for _ in value_cols]
        elif lab != label:
            raise DataError("%s: series %r changes its label from %r to %r" % (at, sid[:40], label[:40], lab[:40]))
        for c, k in enumerate(value_cols):
            chans[c].append(_value(cells[k], at, "column %d" % k))
    close()
    return _finish(path, rows, None, opts)


def read_series(path: str, kind: str, opts: "Optional[SeriesOptions]" = None) -> SeqDataset:
    """Read a ``.ts`` (kind 'ts') or CSV (kind 'csv') file into a SeqDataset with ``classes``."""
    raw = read_bytes(path)
    text = decode_utf8(raw, path)
    if kind == "ts":
        return parse_ts(text, path, opts, raw)
    if kind == "csv":
        return parse_csv(text, path, opts, raw)
    raise ValueError("unknown series file kind %r" % kind)


def class_counts(ds: SeqDataset) -> "List[int]":
    """How many series of each class (by class id)."""
    counts = [0] * len(getattr(ds, "classes", None) or [])
    for e in ds.examples:
        k = int(e.targets[-1][0]) if isinstance(e.targets[-1], list) else int(e.targets[-1])
        while k >= len(counts):
            counts.append(0)
        counts[k] += 1
    return counts


# ---------------------------------------------------------- normalisation
NORMALIZE_MODES = ("none", "channel", "series")


def fit_channels(examples: "Sequence[SeqExample]", X: int) -> "Tuple[List[float], List[float]]":
    """Per-channel mean and standard deviation over every step of ``examples`` (std 1 where it is 0)."""
    n = 0
    s = [0.0] * X
    for e in examples:
        for x in e.xs:
            n += 1
            for j in range(X):
                s[j] += x[j]
    mean = [v / max(1, n) for v in s]
    ss = [0.0] * X
    for e in examples:
        for x in e.xs:
            for j in range(X):
                d = x[j] - mean[j]
                ss[j] += d * d
    std = [math.sqrt(v / max(1, n)) for v in ss]
    return mean, [v if v > 1e-12 * max(1.0, abs(m)) else 1.0 for v, m in zip(std, mean)]


def normalize_steps(xs: "List[List[float]]", norm: "Optional[Dict[str, Any]]") -> "List[List[float]]":
    """``xs`` (one vector per step) normalised as ``norm`` says (a checkpoint's ``normalize`` field)."""
    if not norm or norm.get("mode", "none") == "none":
        return xs
    if norm["mode"] == "channel":
        mean, std = norm["mean"], norm["std"]
        return [[(v - m) / s for v, m, s in zip(x, mean, std)] for x in xs]
    # series: each channel z-scored over this series' own steps
    X, n = len(xs[0]), len(xs)
    mean = [sum(x[j] for x in xs) / n for j in range(X)]
    std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in xs) / n) for j in range(X)]
    std = [v if v > 1e-12 * max(1.0, abs(m)) else 1.0 for v, m in zip(std, mean)]
    return [[(x[j] - mean[j]) / std[j] for j in range(X)] for x in xs]


def make_normalizer(mode: str, train: "Sequence[SeqExample]", X: int) -> "Optional[Dict[str, Any]]":
    """The checkpoint's ``normalize`` field for ``mode``, fitted on the training examples."""
    if mode not in NORMALIZE_MODES:
        raise ValueError("normalize must be one of %s, got %r" % (", ".join(NORMALIZE_MODES), mode))
    if mode == "none":
        return None
    if mode == "series":
        return {"mode": "series"}
    mean, std = fit_channels(train, X)
    return {"mode": "channel", "mean": mean, "std": std}


def apply_normalizer(examples: "Sequence[SeqExample]", norm: "Optional[Dict[str, Any]]") -> None:
    """Normalise the inputs of ``examples`` in place."""
    if not norm:
        return
    for e in examples:
        e.xs = normalize_steps(e.xs, norm)
