"""``tinyrnn eval CKPT FILE``: loss of a trained model on a text, sequence or series file."""

import argparse

from ..workflow import quant
from ..workflow.checkpoint import load
from ..workflow.classify import confusion, report
from ..workflow.datasets import Vocab, is_sequence_file, read_text, targets_for_head
from ..workflow.series import apply_normalizer, is_series_file
from ..workflow.train import LN2, SeqTask, TextTask
from .series import SERIES_KEYS, add_series_options, read_labelled

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a model on a file",
        description="Mean loss per target of a checkpoint on FILE: nats and bits per character for a character "
        "model (state carried through the text), loss and accuracy for a sequence file (.jsonl) or a time-series "
        "file (.ts, .csv); for a classifier also the recall per class and the confusion matrix. Inputs are "
        "normalised as the checkpoint says (--normalize at training).",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a model.json (or best.json) written by tinyrnn train")
    p.add_argument("file", metavar="FILE", help="UTF-8 text (character model), a .jsonl sequence file or a .ts / .csv series file")
    add_series_options(p)
    add_quant_options(p, "evaluate")
    p.set_defaults(func=run)


def add_quant_options(p: argparse.ArgumentParser, verb: str) -> None:
    """--quant and --calibration (eval, sample, export)."""
    p.add_argument(
        "--quant", choices=("int8", "int16"), default=None,
        help="%s the integer model (the bit-exact emulator of export --quant) instead of the float one" % verb,
    )
    p.add_argument(
        "--calibration", metavar="FILE", default=None,
        help="with --quant: calibrate on FILE (default: the checkpoint's stored calibration, else its training data)",
    )


def run(args: argparse.Namespace) -> int:
    if args.calibration is not None and args.quant is None:
        raise ValueError("--calibration goes with --quant")
    ckpt = load(args.checkpoint)
    m = ckpt.model
    qm = None
    if args.quant is not None:
        qm, _, where = quant.quantize_checkpoint(ckpt, args.quant, args.calibration, sequence_reader(ckpt))
        print("%s model (%s)" % (args.quant, where))
    series = is_series_file(args.file)
    if ckpt.vocab is not None and not is_sequence_file(args.file) and not series:
        ids = Vocab(ckpt.vocab).encode(read_text(args.file), args.file)
        if len(ids) < 2:
            raise ValueError("%s: need at least 2 characters to evaluate" % args.file)
        if qm is not None:
            loss = quant.text_loss(qm, ids)
        else:
            loss = TextTask(ids, ids, m.T, True, False).evaluate(m, len(ids))["eval_loss"]
        print("%s: %.4f nats/char (%.3f bits/char) over %d characters" % (args.file, loss, loss / LN2, len(ids) - 1))
        return 0
    if ckpt.vocab is not None:
        raise ValueError("%s is a sequence file but %s is a character model" % (args.file, args.checkpoint))
    cfg = dict(ckpt.config)
    for k in SERIES_KEYS:  # the reader options of training, unless given again
        if getattr(args, k, None) is not None:
            cfg[k] = getattr(args, k)
    ds = read_labelled(args.file, cfg, str(cfg.get("format", "seq")), ckpt.classes, m.X if ckpt.input_kind == "token" else None)
    if ds.input_kind != ckpt.input_kind:
        raise ValueError("%s has %s inputs, the model takes %s inputs" % (args.file, ds.input_kind, ckpt.input_kind))
    if ds.X != m.X:
        raise ValueError("%s: inputs have %d values, the model expects X = %d" % (args.file, ds.X, m.X))
    targets_for_head(ds, m.head, m.Y)
    apply_normalizer(ds.examples, ckpt.normalize)
    if qm is not None:
        res = quant.sequence_quality(qm, m.head, ds.examples)
    else:
        res = SeqTask(ds.examples, ds.examples, m.T, False).evaluate(m, 0)
    line = "%s: loss %.4f per target over %d sequences" % (args.file, res["eval_loss"], len(ds.examples))
    if "eval_acc" in res:
        line += ", accuracy %.2f%%" % (100.0 * res["eval_acc"])
    print(line)
    if m.head == "softmax" and ds.target_kind == "final" and qm is None:
        for text in report(confusion(m, ds.examples, m.T), ckpt.classes):
            print(text)
    return 0


def sequence_reader(ckpt: "Any") -> "Callable[[str], List[Any]]":
    """For calibration: a file's input sequences as training saw them (its reader options, normalised)."""
    def read(path: str) -> "List[Any]":
        cfg = dict(ckpt.config)
        ds = read_labelled(path, cfg, str(cfg.get("format", "seq")), ckpt.classes, ckpt.model.X if ckpt.input_kind == "token" else None)
        if ds.input_kind != ckpt.input_kind or ds.X != ckpt.model.X:
            raise ValueError("%s: %s inputs of %d values, the model takes %s inputs of %d" % (path, ds.input_kind, ds.X, ckpt.input_kind, ckpt.model.X))
        apply_normalizer(ds.examples, ckpt.normalize)
        return [e.xs for e in ds.examples]

    return read
