"""``tinyrnn export CKPT -o model.h``: a checkpoint as a self-contained C99 header."""

import argparse
import os

from ..workflow import checkpoint
from ..export.c import check_name, header_from_checkpoint
from ..workflow.fileio import atomic_write_text
from . import export_train


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "export",
        help="write a checkpoint as a C99 header with a step function",
        description="Write the model of checkpoint CKPT as one self-contained C99 header: float32 "
        "weights that read back exactly, the vocabulary as code points, metadata #defines and an "
        "allocation-free runtime (NAME_reset, NAME_step, NAME_step_token, NAME_output, NAME_argmax).",
    )
    p.add_argument("checkpoint", metavar="CKPT", nargs="?", help="checkpoint file (tinyrnn train)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="header to write, e.g. model.h")
    p.add_argument("--name", default="model", help="C identifier prefixing every name in the header (default: model)")
    p.add_argument(
        "--progmem",
        action="store_true",
        help="on AVR, keep the weights in flash (PROGMEM) by default; without it, define NAME_USE_PROGMEM when compiling",
    )
    export_train.add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.train:
        return export_train.run(args)
    if args.checkpoint is None:
        raise ValueError("CKPT is required (--spec only goes with --train)")
    name = check_name(args.name)  # before the (possibly slow) load
    ckpt = checkpoint.load(args.checkpoint)
    text = header_from_checkpoint(ckpt, name=name, progmem=args.progmem, source=os.path.basename(args.checkpoint))
    atomic_write_text(args.output, text, encoding="ascii")
    m = ckpt.model
    print(
        "%s: %s  X=%d H=%d Y=%d  %d parameters, %d bytes of weights"
        % (args.output, name, m.X, m.H, m.Y, m.num_params, 4 * m.num_params)
    )
    return 0
