"""The training output directory: lock, metrics.jsonl, and the checks a resume needs.

- ``--out`` is locked for the whole run (``fileio.lock_dir``): a second
  trainer on the same directory refuses; a dead trainer's lock is taken over.
- ``metrics.jsonl`` is only ever appended to, one line per record with one
  ``write``. A resumed run keeps the records up to the checkpoint's step and
  drops the ones after it (written past the checkpoint by the run that was
  killed), by an atomic rewrite -- never a truncate-in-place.
- The training data must not be one of the files the run writes.
"""

import json
import math
import os

from .fileio import FileError, append_line, loads, open_append, read_bounded, same_file, write_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

OUTPUTS = ("model.json", "best.json", "metrics.jsonl", "report.svg")
METRICS_MAX_BYTES = 256 * 1024 * 1024


def check_data_not_output(out: str, data: "Optional[str]") -> None:
    """FileError if the training file is one of the files written into ``out``."""
    if data is None:
        return
    for name in OUTPUTS:
        if same_file(os.path.join(out, name), data):
            raise FileError("%s: the training data is the run's own %s in --out %s; move it or choose another --out" % (data, name, out))


def _records(path: str, upto: int) -> "Optional[List[str]]":
    """The lines of ``path`` that are records with step <= upto (None if there is no such file)."""
    try:
        raw = read_bounded(path, METRICS_MAX_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    keep = []
    for line in raw.decode("utf-8", "replace").split("\n"):
        try:
            r = loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and isinstance(r.get("step"), int) and not isinstance(r["step"], bool) and r["step"] <= upto:
            keep.append(line)
    return keep


class MetricsLog:
    """``metrics.jsonl`` in ``out``: earlier records (on resume) plus appended ones."""

    def __init__(self, out: str, resume: "Optional[str]", step: int) -> None:
        self.path = os.path.join(out, "metrics.jsonl")
        if os.path.islink(self.path):  # appended with O_NOFOLLOW: refuse before anything is written
            raise FileError("%s: is a symlink; refusing to write metrics through it" % self.path)
        self.records = []  # type: List[Dict[str, Any]]
        lines = []  # type: List[str]
        if resume is None:
            write_file(self.path, "")  # a new run starts a new file
        else:
            here = _records(self.path, step)
            there_path = os.path.join(os.path.dirname(os.path.abspath(resume)), "metrics.jsonl")
            if here is not None and same_file(there_path, self.path):
                lines = here
                if os.path.getsize(self.path) != sum(len(x.encode("utf-8")) + 1 for x in lines):
                    write_file(self.path, "".join(x + "\n" for x in lines))  # drop records past the checkpoint, atomically
            else:
                lines = _records(there_path, step) or []
                write_file(self.path, "".join(x + "\n" for x in lines))
        self.records = [loads(x) for x in lines]
        self.fd = open_append(self.path)

    def append(self, record: "Dict[str, Any]") -> None:
        clean = {k: (v if not (isinstance(v, float) and not math.isfinite(v)) else None) for k, v in record.items()}
        append_line(self.fd, self.path, json.dumps(clean, allow_nan=False, sort_keys=True))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


REQUIRED_ON_RESUME = ("format", "data_sha256", "head")


def check_saved_config(cfg: "Dict[str, Any]", path: str, defaults: "Dict[str, Any]", fixed: "Any") -> None:
    """The ``config`` of a checkpoint to resume from: every key the run needs, each of the right kind.

    Keys that fix the model or the data stream (``fixed``) must be present;
    others missing are filled from ``defaults``.
    """
    for k in list(REQUIRED_ON_RESUME) + [k for k in fixed if k in defaults]:
        if k not in cfg:
            raise FileError("%s: field 'config.%s' is missing; cannot resume" % (path, k))
    for k, v in defaults.items():
        cfg.setdefault(k, v)
    if cfg["format"] not in ("text", "seq", "ts", "csv"):
        raise FileError("%s: field 'config.format' = %s is not \"text\", \"seq\", \"ts\" or \"csv\"" % (path, json.dumps(cfg["format"])[:40]))
    for k in ("missing", "label_column", "series_column", "eval_file"):
        if cfg.get(k) is not None and not isinstance(cfg[k], str):
            raise FileError("%s: field 'config.%s' must be a string or null" % (path, k))
    if cfg.get("data") is not None and not isinstance(cfg["data"], str):
        raise FileError("%s: field 'config.data' must be a file name or null" % path)
    if not isinstance(cfg["data_sha256"], str):
        raise FileError("%s: field 'config.data_sha256' must be a string" % path)
    if not isinstance(cfg["head"], str):
        raise FileError("%s: field 'config.head' must be a string" % path)
    for k in ("start_loss", "unigram_loss"):
        v = cfg.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0):
            raise FileError("%s: field 'config.%s' must be a finite number >= 0" % (path, k))
