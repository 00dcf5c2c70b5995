"""Command-line pieces for time-series files shared by ``train`` and ``eval``: the reader options,
reading an --eval / --test file against the training data, the per-class split summary."""

import argparse

from ..workflow.datasets import DataError, SeqDataset, decode_utf8, is_sequence_file, parse_sequences, read_bytes, targets_for_head
from ..workflow.series import MISSING_MODES, SeriesOptions, is_series_file, read_series

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

SERIES_KEYS = ("missing", "label_column", "series_column")


def add_series_options(p: argparse.ArgumentParser) -> None:
    """Options of the .ts / CSV readers (shared by train and eval)."""
    g = p.add_argument_group("time-series files (.ts, .csv)")
    g.add_argument("--missing", choices=MISSING_MODES, default=None,
                   help="missing values (?, NaN, empty cell): error (default), interpolate (linear, nearest at the ends) or zero")
    g.add_argument("--label-column", default=None, metavar="COL", help="CSV: class label column, index (negative from the end) or header name (default: first column; last in the long layout)")
    g.add_argument("--series-column", default=None, metavar="COL",
                   help="CSV long layout: one time step per row, rows with the same id in this column form a series")


def series_options(cfg: "Dict[str, Any]", classes: "Optional[List[str]]" = None) -> SeriesOptions:
    return SeriesOptions(cfg.get("missing") or "error", cfg.get("label_column"), cfg.get("series_column"), classes)


def read_labelled(path: str, cfg: "Dict[str, Any]", fmt: str, classes: "Optional[List[str]]", X: "Optional[int]") -> SeqDataset:
    """A sequence or series file in the training file's format (series labels mapped onto ``classes``)."""
    kind = is_series_file(path) or ("seq" if is_sequence_file(path) else fmt)
    if kind in ("ts", "csv"):
        return read_series(path, kind, series_options(cfg, classes))
    if kind != "seq":
        raise ValueError("%s: not a sequence (.jsonl) or series (.ts, .csv) file" % path)
    return parse_sequences(decode_utf8(read_bytes(path), path), path, X)


def held_out_file(path: str, cfg: "Dict[str, Any]", train: SeqDataset, head: str, Y: int) -> SeqDataset:
    """An --eval / --test file, checked against the training data's shapes."""
    ds = read_labelled(path, cfg, cfg["format"], train.classes, train.X if train.input_kind == "token" else None)
    if ds.input_kind != train.input_kind or ds.X != train.X:
        raise DataError("%s: %s inputs with X=%d, the training data has %s inputs with X=%d" % (path, ds.input_kind, ds.X, train.input_kind, train.X))
    if ds.target_kind != train.target_kind:
        raise DataError("%s: %s targets, the training data has %s targets" % (path, ds.target_kind, train.target_kind))
    targets_for_head(ds, head, Y)
    return ds


def class_summary(classes: "List[str]", tr: "List[Any]", ev: "List[Any]") -> str:
    """'name train/eval' per class."""
    def counts(ex: "List[Any]") -> "List[int]":
        c = [0] * len(classes)
        for e in ex:
            c[int(e.targets[-1])] += 1
        return c

    a, b = counts(tr), counts(ev)
    return ", ".join("%s %d/%d" % (name[:20], a[k], b[k]) for k, name in enumerate(classes)) + " (train/eval)"
