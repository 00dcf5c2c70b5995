"""``tinyrnn train [FILE]``: train on a text corpus or a sequence file, with an instrument panel.

Writes ``model.json`` (checkpoint), ``metrics.jsonl`` (one JSON object per
panel line) and ``report.svg`` into ``--out``.
"""

import argparse
import hashlib
import os
import signal
import sys
import time

from ..workflow.checkpoint import Checkpoint, load, save
from ..workflow.datasets import DataError, SeqDataset, Vocab, decode_utf8, is_sequence_file, parse_sequences, read_bytes, targets_for_head, unigram_loss
from ..workflow.fileio import lock_dir, same_file, unlock_dir, write_file
from ..workflow.limits import check_model
from ..workflow.outdir import MetricsLog, check_data_not_output, check_saved_config
from ..workflow.series import NORMALIZE_MODES, SeriesOptions, apply_normalizer, is_series_file, make_normalizer, parse_csv, parse_ts
from ..core.heads import HEADS
from ..core.init import SCHEMES, init_params
from ..core.model import CELLS, GATES, RNN
from ..core.optim import OPTIMIZERS, make_optimizer
from ..workflow.report import render
from ..core.rng import Rng
from ..workflow.train import CLIP_MODES, DEFAULTS, LN2, Hooks, SeqTask, TextTask, Trainer, check_config, split_sequences, split_text
from .progress import Progress, fmt_duration
from .series import SERIES_KEYS, add_series_options, class_summary, held_out_file, series_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

BUNDLED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "shakespeare.txt")
BUNDLED_NAME = "bundled corpus (Shakespeare, Coriolanus I.i-iii)"

# options that define the model or the data stream: fixed once training started
FIXED_ON_RESUME = ("hidden", "cell", "layers", "seq_length", "seed", "init", "init_scale", "optimizer", "stateful", "random_offsets", "eval_fraction", "head", "format",
                   "normalize", "missing", "label_column", "series_column", "eval_file")


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    d = DEFAULTS
    p = sub.add_parser(
        "train",
        help="train a model on a text corpus or a sequence file",
        description="Train a recurrent network (tanh RNN, GRU or LSTM; --cell, --layers) with truncated BPTT. Without FILE it trains a character model on a small "
        "public-domain corpus bundled with tinyrnn. A FILE ending in .jsonl is a sequence file (see docs/training.md); "
        "any other file is UTF-8 text for a character model. Prints an instrument panel every --log-every steps and "
        "writes model.json, metrics.jsonl, report.svg (and best.json when there is an eval split) into --out.",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="training data (default: the bundled corpus)")
    p.add_argument("--out", default="tinyrnn-out", help="output directory (default tinyrnn-out/)")
    p.add_argument("--resume", metavar="CKPT", help="continue training from this checkpoint (same data)")
    p.add_argument("--force", action="store_true", help="overwrite a model.json in --out that belongs to another model or other data")
    p.add_argument("--format", choices=("auto", "text", "seq", "ts", "csv"), default=None,
                   help="FILE format (default auto: .jsonl sequence file, .ts UCR/UEA time series, .csv series table, else text)")
    p.add_argument("--head", choices=HEADS, default=None, help="output head for sequence files (default: sigmoid if all targets are in [0,1], else mse)")
    g = p.add_argument_group("model and schedule")
    g.add_argument("--hidden", type=int, default=None, help="hidden size H (default %d)" % d["hidden"])
    g.add_argument("--cell", choices=CELLS, default=None, help="recurrent cell: tanh rnn, gru or lstm (PyTorch's conventions; default %s)" % d["cell"])
    g.add_argument("--layers", type=int, default=None, help="stacked recurrent layers (default %d)" % d["layers"])
    g.add_argument("--seq-length", type=int, default=None, help="BPTT chunk length T (default %d for text, the longest sequence for sequence files)" % d["seq_length"])
    g.add_argument("--steps", type=int, default=None, help="optimiser steps, one chunk each (default %d)" % d["steps"])
    g.add_argument("--epochs", type=int, default=None, help="train this many passes over the data instead of --steps")
    g.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=None, help="optimiser (default %s)" % d["optimizer"])
    g.add_argument("--lr", type=float, default=None, help="learning rate (default %g)" % d["lr"])
    g.add_argument("--clip", choices=CLIP_MODES, default=None, help="gradient clipping: global norm, elementwise value, or none (default %s)" % d["clip"])
    g.add_argument("--clip-value", type=float, default=None, help="clipping threshold (default %g)" % d["clip_value"])
    s = g.add_mutually_exclusive_group()
    s.add_argument("--stateful", dest="stateful", action="store_true", default=None, help="carry the hidden state across chunks (default)")
    s.add_argument("--stateless", dest="stateful", action="store_false", help="start every chunk from a zero state")
    o = g.add_mutually_exclusive_group()
    o.add_argument("--random-offsets", dest="random_offsets", action="store_true", default=None, help="random chunk offset per epoch / shuffled sequences (default)")
    o.add_argument("--no-random-offsets", dest="random_offsets", action="store_false", help="fixed chunk boundaries, sequences in file order")
    g.add_argument("--init", choices=SCHEMES, default=None, help="weight initialisation (default %s)" % d["init"])
    g.add_argument("--init-scale", type=float, default=None, help="initialisation scale (default %g; large values saturate tanh)" % d["init_scale"])
    g.add_argument("--seed", type=int, default=None, help="PRNG seed for init, offsets and shuffling (default %d)" % d["seed"])
    r = p.add_argument_group("evaluation and logging")
    r.add_argument("--eval-fraction", type=float, default=None, help="share of the data held out for evaluation (default %g)" % d["eval_fraction"])
    r.add_argument("--log-every", type=int, default=None, help="instrument panel line every N steps (default %d)" % d["log_every"])
    r.add_argument("--eval-every", type=int, default=None, help="evaluate every N steps, at a panel line (default %d)" % d["eval_every"])
    r.add_argument("--checkpoint-every", type=int, default=None, help="save model.json every N steps (default %d)" % d["checkpoint_every"])
    r.add_argument("--quiet", action="store_true", help="no progress line")
    add_series_options(p)
    t = p.add_argument_group("held-out data and stopping (sequence and series files)")
    t.add_argument("--eval", dest="eval_file", metavar="FILE", default=None, help="validation file to evaluate on instead of an --eval-fraction split of FILE")
    t.add_argument("--test", dest="test_file", metavar="FILE", default=None,
                   help="test file, evaluated once at the end (final model and best.json); never used to choose anything")
    t.add_argument("--patience", type=int, default=None, help="stop after N evaluations without a lower eval loss (default: off)")
    t.add_argument("--normalize", choices=NORMALIZE_MODES, default=None,
                   help="dense inputs: none (default), channel (z-score per channel fitted on the training split) or series "
                   "(each series z-scored on its own); stored in the checkpoint, applied by eval and the C export")
    p.set_defaults(func=run)


# -------------------------------------------------------------------- data
class Data:
    """The training data as the trainer needs it, plus what to print about it."""

    def __init__(self) -> None:
        self.name = ""
        self.path = None  # type: Optional[str]
        self.sha256 = ""
        self.format = "text"
        self.text = ""
        self.seqs = None  # type: Any
        self.test = None  # type: Optional[SeqDataset]


def load_data(path: "Optional[str]", fmt: str, opts: "Optional[SeriesOptions]" = None) -> Data:
    d = Data()
    d.path = path
    src = BUNDLED if path is None else path
    d.name = BUNDLED_NAME if path is None else path
    raw = read_bytes(src)
    d.sha256 = hashlib.sha256(raw).hexdigest()
    text = decode_utf8(raw, src)
    if fmt == "auto":
        fmt = "seq" if path is not None and is_sequence_file(path) else (path is not None and is_series_file(path)) or "text"
    d.format = fmt
    if fmt in ("ts", "csv"):
        d.seqs = (parse_ts if fmt == "ts" else parse_csv)(text, src, opts, raw)
    elif fmt == "seq":
        d.seqs = parse_sequences(text, src)
    else:
        if not text.strip():
            raise DataError("%s: only whitespace, nothing to train on" % src)
        if len(text) < 3:
            raise DataError("%s: %d characters is too short to train on" % (src, len(text)))
        d.text = text
    return d


# ------------------------------------------------------------------- hooks
def fmt_record(r: "Dict[str, Any]") -> str:
    ev = r.get("eval_loss")
    ev_s = "%8.4f" % ev if isinstance(ev, float) else "%8s" % "-"
    acc = r.get("eval_acc")
    acc_s = "%6.1f%%" % (100.0 * acc) if isinstance(acc, float) else "%7s" % "-"
    gates = "  gate sat %s" % "/".join("%.2f" % g for g in r["gate_sat"]) if r.get("gate_sat") else ""
    return "%7d %8.4f %s %s %6.3f %5.3f %9.2e %9.2e %9.2e %9.2e %7.1f%s" % (
        r["step"], r["train_loss"], ev_s, acc_s, r["mean_abs_h"], r["sat_ratio"], r["dh_norm"], r["dh_raw_norm"],
        r["grad_norm"], r["update_ratio"], r["steps_per_s"], gates)


PANEL_HEADER = "%7s %8s %8s %7s %6s %5s %9s %9s %9s %9s %7s" % (
    "step", "train", "eval", "acc", "|h|", "sat", "|dh|", "|dh_raw|", "grad", "upd/w", "steps/s")


class CliHooks(Hooks):
    def __init__(self, out: str, metrics: "MetricsLog", progress: "Optional[Progress]", printer: "Any") -> None:
        self.out = out
        self.metrics = metrics
        self.progress_line = progress
        self.printer = printer
        self.records = []  # type: List[Dict[str, Any]]
        self.saved_step = -1
        self.stop = False

    def progress(self, step: int, total: int, rate: float) -> None:
        if self.progress_line is not None:
            self.progress_line.update(step, total, rate)

    def log(self, record: "Dict[str, Any]") -> None:
        self.printer(fmt_record(record))
        self.metrics.append(record)  # one appended line per record
        self.records.append(record)

    def checkpoint(self, trainer: Trainer) -> None:
        save(os.path.join(self.out, "model.json"), trainer.checkpoint())
        self.saved_step = trainer.step

    def best(self, trainer: Trainer) -> None:
        save(os.path.join(self.out, "best.json"), trainer.checkpoint())

    def should_stop(self) -> bool:
        return self.stop


def write_report(out: str, records: "List[Dict[str, Any]]", title: str, baseline: "Optional[float]" = None) -> None:
    write_file(os.path.join(out, "report.svg"), render(records, title, baseline))


# ------------------------------------------------------- overwrite guard
def refuse_overwrite(path: str, cfg: "Dict[str, Any]", resume: "Optional[str]") -> None:
    """ValueError if ``path`` holds a checkpoint of another model or other data (--force skips this)."""
    if not os.path.exists(path) or (resume and os.path.exists(resume) and os.path.samefile(resume, path)):
        return
    hint = "; use --force to overwrite it or choose another --out"
    try:
        old = dict({"cell": "rnn", "layers": 1}, **load(path).config)  # configs before cells: a one-layer rnn
    except (OSError, ValueError) as e:
        raise ValueError("%s exists and is not a checkpoint this run may replace (%s)%s" % (path, e, hint))
    if old.get("data_sha256") != cfg.get("data_sha256"):
        raise ValueError("%s holds a model trained on other data (%s)%s" % (path, old.get("data") or "the bundled corpus", hint))
    for k in FIXED_ON_RESUME:
        if k in old and old.get(k) != cfg.get(k):
            raise ValueError("%s holds a different model (--%s %r, this run %r)%s" % (path, k.replace("_", "-"), old.get(k), cfg.get(k), hint))


# --------------------------------------------------------------------- run
def explicit_options(args: argparse.Namespace) -> "Dict[str, Any]":
    keys = list(DEFAULTS) + ["head", "format"] + list(SERIES_KEYS) + ["eval_file"]
    given = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    if "eval_file" in given:  # found again on --resume from another directory
        given["eval_file"] = os.path.abspath(given["eval_file"])
    return given


def build(args: argparse.Namespace, say: "Any") -> "Tuple[Trainer, Data, Dict[str, Any]]":
    """Model, task and trainer for a fresh run or a resumed one."""
    given = explicit_options(args)
    ckpt = None  # type: Optional[Checkpoint]
    if args.resume:
        ckpt = load(args.resume)
        cfg = dict(ckpt.config)
        cfg.setdefault("cell", ckpt.model.cell)  # configs before cells had none: the checkpoint's model
        cfg.setdefault("layers", ckpt.model.layers)
        if "data_sha256" not in cfg or "format" not in cfg:
            raise ValueError("%s: checkpoint has no training config to resume from (field 'config')" % args.resume)
        check_saved_config(cfg, args.resume, DEFAULTS, FIXED_ON_RESUME)
        try:
            check_config(cfg)
        except ValueError as e:
            raise ValueError("%s: field 'config' is invalid: %s" % (args.resume, e))
        for k in FIXED_ON_RESUME:
            if k in given and given[k] != cfg.get(k) and not (k == "format" and given[k] == "auto"):
                raise ValueError("--%s cannot change on --resume (the checkpoint has %r)" % (k.replace("_", "-"), cfg.get(k)))
        for k, v in given.items():
            if k not in FIXED_ON_RESUME:
                cfg[k] = v
        check_config(cfg)
        path = args.file if args.file is not None else cfg.get("data")
        data = load_data(path, cfg["format"], series_options(cfg))
        if data.sha256 != cfg["data_sha256"]:
            raise ValueError("%s: the data differs from what %s was trained on (sha256 mismatch)" % (data.name, args.resume))
    else:
        cfg = dict(DEFAULTS)
        cfg.update(given)
        check_config(cfg)  # before the options size anything
        data = load_data(args.file, given.get("format", "auto"), series_options(cfg))
        cfg["format"] = data.format
        cfg["data"] = None if args.file is None else os.path.abspath(args.file)
        cfg["data_sha256"] = data.sha256
    if data.format == "text":
        if ckpt is not None:
            if ckpt.vocab is None:
                raise ValueError("%s: checkpoint has no vocabulary, it is not a character model" % args.resume)
            vocab = Vocab(ckpt.vocab)
        else:
            vocab = Vocab.from_text(data.text)
        ids = vocab.encode(data.text, data.name)
        train_ids, eval_ids = split_text(ids, cfg["eval_fraction"])
        cfg.setdefault("head", "softmax")
        if cfg["head"] != "softmax":
            raise ValueError("a character model needs --head softmax, not %s" % cfg["head"])
        X = Y = len(vocab)
        input_kind = "token"
        vocab_list = vocab.chars  # type: Optional[List[str]]
        classes, norm = None, None  # type: Optional[List[str]], Optional[Dict[str, Any]]
        for flag, v in (("--test", getattr(args, "test_file", None)), ("--eval", cfg.get("eval_file")), ("--normalize", cfg.get("normalize", "none") != "none")):
            if v:
                raise ValueError("%s is for sequence and series files; %s is text for a character model" % (flag, data.name))
        check_config(cfg)
        task = TextTask(train_ids, eval_ids, cfg["seq_length"], cfg["stateful"], cfg["random_offsets"])  # type: Any
        say("data: %s, %d characters, vocabulary %d; train %d / eval %d characters" % (
            data.name, len(ids), len(vocab), len(train_ids), len(eval_ids)))
        if eval_ids:
            base = unigram_loss(train_ids, eval_ids, len(vocab))
            cfg["unigram_loss"] = base
            say("unigram baseline on the eval split: %.4f nats/char (%.3f bits/char)" % (base, base / LN2))
    else:
        ds = data.seqs
        X_fixed = ckpt.model.X if ckpt is not None else None
        if ckpt is not None and ds.input_kind == "token" and X_fixed is not None:
            ds = parse_sequences(decode_utf8(read_bytes(data.path or ""), data.path or ""), data.path or "", X_fixed)
        head = cfg.get("head") or ("softmax" if ds.classes is not None else ds.guess_head())
        cfg["head"] = head
        Y = targets_for_head(ds, head, ckpt.model.Y if ckpt is not None else None)
        X = ds.X
        input_kind = ds.input_kind
        vocab_list = None
        if "seq_length" not in given and ckpt is None:
            cfg["seq_length"] = ds.max_len
        check_config(cfg)
        if cfg.get("eval_file"):
            tr, ev = ds.examples, held_out_file(cfg["eval_file"], cfg, ds, head, Y).examples
        else:
            tr, ev = split_sequences(ds, cfg["eval_fraction"], cfg["seed"])
        classes = ds.classes
        if ckpt is not None:
            norm = ckpt.normalize
        elif cfg.get("normalize", "none") != "none" and ds.input_kind != "dense":
            raise ValueError("--normalize %s needs dense inputs; %s has token inputs" % (cfg["normalize"], data.name))
        else:
            norm = make_normalizer(cfg.get("normalize", "none"), tr, X)
        if getattr(args, "test_file", None):  # read and checked now, not after training
            data.test = held_out_file(args.test_file, cfg, ds, head, Y)
            apply_normalizer(data.test.examples, norm)
        apply_normalizer(tr, norm)
        apply_normalizer(ev, norm)
        task = SeqTask(tr, ev, cfg["seq_length"], cfg["random_offsets"])
        say("data: %s, %d sequences (%s inputs X=%d, %s targets Y=%d, head %s%s); train %d / eval %d%s" % (
            data.name, len(ds.examples), ds.input_kind, X, "per-step" if ds.target_kind == "step" else "final", Y, head,
            "" if "head" in given or ckpt is not None else " (inferred; --head to choose)", len(tr), len(ev),
            " (%s)" % cfg["eval_file"] if cfg.get("eval_file") else " (drawn per class, seed %d)" % cfg["seed"] if ds.integral and ds.target_kind == "final" else ""))
        if classes is not None:
            say("classes: %s" % class_summary(classes, tr, ev))
    if ckpt is not None:
        model = ckpt.model
        if (model.X, model.Y, model.T, model.head) != (X, Y, cfg["seq_length"], cfg["head"]):
            raise ValueError("%s: model dims X=%d Y=%d T=%d head %s do not match the data" % (args.resume, model.X, model.Y, model.T, model.head))
        if (model.cell, model.layers, model.H) != (cfg["cell"], cfg["layers"], cfg["hidden"]):
            raise ValueError("%s: the model (%s, %d layer(s), H=%d) does not match field 'config'" % (args.resume, model.cell, model.layers, model.H))
        rng = Rng(0)
        if ckpt.rng_state is None:
            raise ValueError("%s: field 'rng_state' is null; cannot resume the data stream" % args.resume)
        rng.state = ckpt.rng_state
        opt = make_optimizer(cfg["optimizer"], model.num_params, cfg["lr"])
        if ckpt.optimizer is None:
            raise ValueError("%s: field 'optimizer' is null; cannot resume" % args.resume)
        opt.load_state_dict(ckpt.optimizer)
        opt.lr = cfg["lr"]
        if ckpt.train_state is None:
            raise ValueError("%s: field 'train_state' is null; cannot resume" % args.resume)
        try:
            task.load_state(ckpt.train_state, model.S)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError("%s: field 'train_state' is invalid (%s)" % (args.resume, e))
        trainer = Trainer(model, task, cfg, rng, opt, ckpt.step, input_kind, vocab_list)
        trainer.metrics = dict(ckpt.metrics)
        trainer.load_best(ckpt.train_state)
    else:
        T_label = "--seq-length" if "seq_length" in given or data.format == "text" else "T (the longest sequence; set --seq-length)"
        check_model(
            [("X", X, "X (inputs of the data)"), ("H", cfg["hidden"], "--hidden"), ("Y", Y, "Y (outputs of the data)"), ("T", cfg["seq_length"], T_label)],
            data.name, 1 if cfg["optimizer"] != "adam" else 2, GATES[cfg["cell"]], cfg["layers"],
        )
        model = RNN(X, cfg["hidden"], Y, cfg["seq_length"], cfg["head"], cfg["cell"], cfg["layers"])
        rng = init_params(model, cfg["seed"], cfg["init"], cfg["init_scale"])
        trainer = Trainer(model, task, cfg, rng, None, 0, input_kind, vocab_list)
    if data.format != "text":
        trainer.classes, trainer.normalize = classes, norm
    m = trainer.model
    say("model: X=%d H=%d Y=%d T=%d, %s%s head, %d parameters; %s lr %g, clip %s%s, %s, %d steps%s" % (
        m.X, m.H, m.Y, m.T, "" if m.vanilla else "%s x %d layer%s, " % (m.cell, m.layers, "s" if m.layers > 1 else ""), m.head, m.num_params, cfg["optimizer"], cfg["lr"], cfg["clip"],
        "" if cfg["clip"] == "none" else " %g" % cfg["clip_value"], "stateful" if cfg["stateful"] else "stateless",
        trainer.total, " (resuming at step %d)" % trainer.step if ckpt is not None else ""))
    return trainer, data, cfg


def run(args: argparse.Namespace) -> int:
    out = args.out
    t0 = time.monotonic()

    def say(text: str) -> None:
        print(text, flush=True)

    for path in (args.file, args.eval_file, args.test_file):  # before reading them
        check_data_not_output(out, path)
    trainer, data, cfg = build(args, say)
    if not getattr(args, "force", False):
        refuse_overwrite(os.path.join(out, "model.json"), cfg, args.resume)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise OSError("cannot create output directory %s (%s)" % (out, e.strerror or e))
    check_data_not_output(out, data.path)
    lock = lock_dir(out)  # a second trainer on this --out refuses; released at exit
    try:
        return _run_locked(args, out, t0, trainer, data, cfg, say)
    finally:
        unlock_dir(out, lock)


def _run_locked(args: argparse.Namespace, out: str, t0: float, trainer: Trainer, data: Data, cfg: "Dict[str, Any]", say: "Any") -> int:
    metrics_path = os.path.join(out, "metrics.jsonl")
    ckpt_path = os.path.join(out, "model.json")
    # a resumed run's metrics.jsonl continues the earlier run's: records up to the checkpoint's step
    metrics = MetricsLog(out, args.resume, trainer.step)
    progress = None if args.quiet else Progress(sys.stdout)
    printer = progress.println if progress is not None else say
    title = "tinyrnn train: %s" % data.name
    try:
        hooks = CliHooks(out, metrics, progress, printer)
        hooks.records = list(metrics.records)
        if args.resume and same_file(args.resume, ckpt_path):
            hooks.saved_step = trainer.step  # the checkpoint we resumed from is the last good one
        say(PANEL_HEADER)

        def on_sigint(signum: int, frame: "Any") -> None:
            hooks.stop = True

        old = signal.signal(signal.SIGINT, on_sigint)
        try:
            result = trainer.run(hooks)
        finally:
            signal.signal(signal.SIGINT, old)
            if progress is not None:
                progress.clear()
    finally:
        metrics.close()
    base = cfg.get("unigram_loss")
    write_report(out, hooks.records, title, base if isinstance(base, float) else None)
    elapsed = time.monotonic() - t0
    if result.status == "diverged":
        where = ("the last good checkpoint is %s (step %d)" % (ckpt_path, hooks.saved_step)) if hooks.saved_step >= 0 else "no checkpoint was written"
        print("tinyrnn train: error: %s. Nothing was saved after the failure: %s." % (result.message, where), file=sys.stderr)
        return 1
    if result.status == "interrupted":
        if trainer.guard.suspect:  # do not save parameters the divergence guard doubts
            say("interrupted at step %d while the loss was far above its start: not saved" % trainer.step)
            return 130
        save(ckpt_path, trainer.checkpoint())
        say("interrupted at step %d: saved %s; continue with: tinyrnn train --resume %s" % (trainer.step, ckpt_path, ckpt_path))
        return 130
    if hooks.saved_step != trainer.step:  # e.g. resumed at or past --steps into another --out
        save(ckpt_path, trainer.checkpoint())
    m = trainer.metrics
    if result.message:
        say(result.message)
    say("done: %d steps in %s" % (trainer.step, fmt_duration(elapsed)))
    if "eval_loss" in m:
        ev = m["eval_loss"]
        if data.format == "text":
            line = "eval loss %.4f nats/char (%.3f bits/char)" % (ev, ev / LN2)
            base = cfg.get("unigram_loss")
            if isinstance(base, float):
                line += " vs unigram baseline %.4f nats/char (%.3f bits/char)" % (base, base / LN2)
            say(line)
        else:
            say("eval loss %.4f per target%s" % (ev, ", accuracy %.1f%%" % (100 * m["eval_acc"]) if "eval_acc" in m else ""))
    best_path = os.path.join(out, "best.json")
    if trainer.best_step:
        say("best eval loss %.4f at step %d: %s" % (trainer.best_loss, trainer.best_step, best_path))
    if data.test is not None:
        report_test(data.test, trainer, best_path if trainer.best_step else None, say)
    say("wrote %s, %s, %s%s" % (ckpt_path, metrics_path, os.path.join(out, "report.svg"), ", " + best_path if trainer.best_step else ""))
    return 0


def report_test(ds: SeqDataset, trainer: Trainer, best_path: "Optional[str]", say: "Any") -> None:
    """Loss and accuracy on the --test file (read and normalised) of the final model and of best.json."""
    m = trainer.model
    path = ds.path
    models = [("final model", m)]
    if best_path is not None:
        models.append(("best.json (step %d)" % trainer.best_step, load(best_path).model))
    for what, model in models:
        res = SeqTask(ds.examples, ds.examples, model.T, False).evaluate(model, 0)
        say("test %s: loss %.4f%s on %s (%d sequences)" % (
            what, res["eval_loss"], ", accuracy %.2f%%" % (100.0 * res["eval_acc"]) if "eval_acc" in res else "", path, len(ds.examples)))
