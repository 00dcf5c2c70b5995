"""``tinyrnn eval CKPT FILE``: loss of a trained model on a text or sequence file."""

import argparse

from ..workflow import quant
from ..workflow.checkpoint import load
from ..workflow.datasets import Vocab, is_sequence_file, read_sequences, read_text, targets_for_head
from ..workflow.train import LN2, SeqTask, TextTask


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a model on a file",
        description="Mean loss per target of a checkpoint on FILE: nats and bits per character for a character "
        "model (state carried through the text), loss and accuracy for a sequence file (.jsonl).",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a model.json written by tinyrnn train")
    p.add_argument("file", metavar="FILE", help="UTF-8 text (character model) or a .jsonl sequence file")
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
        qm, _, where = quant.quantize_checkpoint(ckpt, args.quant, args.calibration)
        print("%s model (%s)" % (args.quant, where))
    if ckpt.vocab is not None and not is_sequence_file(args.file):
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
    ds = read_sequences(args.file, m.X if ckpt.input_kind == "token" else None)
    if ds.input_kind != ckpt.input_kind:
        raise ValueError("%s has %s inputs, the model takes %s inputs" % (args.file, ds.input_kind, ckpt.input_kind))
    if ds.X != m.X:
        raise ValueError("%s: inputs have %d values, the model expects X = %d" % (args.file, ds.X, m.X))
    targets_for_head(ds, m.head, m.Y)
    if qm is not None:
        res = quant.sequence_quality(qm, m.head, ds.examples)
    else:
        res = SeqTask(ds.examples, ds.examples, m.T, False).evaluate(m, 0)
    line = "%s: loss %.4f per target over %d sequences" % (args.file, res["eval_loss"], len(ds.examples))
    if "eval_acc" in res:
        line += ", accuracy %.2f%%" % (100.0 * res["eval_acc"])
    print(line)
    return 0
