"""``tinyrnn calibrate CKPT [FILE]``: measure the ranges the integer export needs and store them in the checkpoint."""

import argparse
import os

from ..workflow import checkpoint
from ..workflow.quant import bundled_corpus, calibrate_file
from .eval import sequence_reader


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "calibrate",
        help="measure activation ranges for --quant and store them in the checkpoint",
        description="Run the float model over FILE (default: its training data) and store the largest |logit| "
        "(and |input| for dense models) in the checkpoint's field export.calibration, which "
        "export/sample/eval --quant then use. The checkpoint is rewritten atomically; nothing else in it changes.",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a model.json written by tinyrnn train")
    p.add_argument("file", nargs="?", metavar="FILE", help="text or sequence file (default: the training data)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ckpt = checkpoint.load(args.checkpoint)
    path = args.file
    if path is None:
        path = ckpt.config.get("data") if isinstance(ckpt.config, dict) else None
        if path is None and ckpt.vocab is not None:
            path = bundled_corpus()
        if not isinstance(path, str):
            raise ValueError("%s names no training data; give FILE" % args.checkpoint)
    cal = calibrate_file(ckpt, path, sequence_reader(ckpt))
    ckpt.export = dict(ckpt.export, calibration=cal)
    checkpoint.save(args.checkpoint, ckpt, [path])
    xs = "" if cal["x_absmax"] is None else "  max|x| %.4g" % cal["x_absmax"]
    print("%s: calibrated on %s (%d steps): max|z| %.4g%s" % (args.checkpoint, os.path.basename(path), cal["steps"], cal["z_absmax"], xs))
    return 0
