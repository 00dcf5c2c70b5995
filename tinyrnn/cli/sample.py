"""``tinyrnn sample CKPT``: generate text from a character model."""

import argparse
import sys

from ..workflow import quant
from ..workflow.checkpoint import load
from ..workflow.sample import check_temperature, iter_text
from .eval import add_quant_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "sample",
        help="generate text from a character model",
        description="Feed the prime text through a character model, then draw characters from "
        "softmax(z / temperature) with a seeded PRNG (greedy argmax when the temperature is 0).",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a model.json written by tinyrnn train")
    p.add_argument("-n", "--length", type=int, default=400, help="characters to generate (default 400)")
    p.add_argument("-t", "--temperature", type=float, default=1.0, help="sampling temperature, 0 = greedy (default 1.0)")
    p.add_argument("--prime", default=None, help="text to start from (default: a newline); printed before the sample")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    add_quant_options(p, "sample from")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.length < 0:
        raise ValueError("--length must be >= 0, got %d" % args.length)
    try:
        check_temperature(args.temperature)
    except ValueError as e:
        raise ValueError("--%s" % e)
    if args.calibration is not None and args.quant is None:
        raise ValueError("--calibration goes with --quant")
    ckpt = load(args.checkpoint)
    if ckpt.vocab is None or ckpt.model.head != "softmax":
        raise ValueError("%s: not a character model (no vocabulary / %s head); sample needs one from tinyrnn train on text" % (args.checkpoint, ckpt.model.head))
    model = ckpt.model  # type: Any
    if args.quant is not None:
        model = quant.FloatLogits(quant.quantize_checkpoint(ckpt, args.quant, args.calibration)[0])
    last = ""
    for piece in iter_text(model, ckpt.vocab, args.length, args.temperature, args.prime, args.seed):
        sys.stdout.write(piece)  # streamed: memory stays flat however long the sample
        sys.stdout.flush()
        last = piece[-1:] or last
    if last != "\n":
        sys.stdout.write("\n")
    return 0
